//! The one implicit organization: a stable id per database, named after the first network.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};

/// The select-list expression that gives every network and tag row its `organization_id`.
pub const ID_COLUMN: &str = "(SELECT value FROM settings WHERE key = 'organization_id')";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organization {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    /// The first network's name, or "Portolan" while there is none.
    #[schema(read_only)]
    pub name: String,
}

pub fn id(conn: &Connection) -> ApiResult<String> {
    Ok(conn
        .prepare_cached(&format!("SELECT {ID_COLUMN}"))?
        .query_row([], |r| r.get(0))?)
}

pub fn get(conn: &Connection) -> ApiResult<Organization> {
    let name: Option<String> = conn
        .prepare_cached("SELECT name FROM networks ORDER BY created_at, id LIMIT 1")?
        .query_row([], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(Organization {
        id: id(conn)?,
        name: name.unwrap_or_else(|| "Portolan".to_string()),
    })
}

/// A body may repeat the organization's id (clients send back what they read); any other
/// value is a 400 on `organization_id`.
pub fn check(conn: &Connection, claimed: Option<&str>) -> ApiResult<()> {
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let own = id(conn)?;
    if claimed.eq_ignore_ascii_case(&own) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "organization_id",
            format!("This server has one organization, {own}"),
        )
        .with_param("organization_id", own))
    }
}

//! One function per write use case, each over the open write transaction: rules first, then SQL.
//! The caller (`Db::write`) commits only when the function returns `Ok`.

pub mod accounts;
pub mod agent_report;
pub mod agents;
pub mod api_keys;
pub mod bindings;
pub mod dependencies;
pub mod deployments;
pub mod discovery;
pub mod full_import;
pub mod host_children;
pub mod host_merge;
pub mod hosts;
pub mod ip_addresses;
pub mod journal;
pub mod networks;
pub mod ports;
pub mod service_types;
pub mod services;
pub mod subnets;
pub mod tag_assignments;
pub mod tags;
pub mod templates;
pub mod topology;
pub mod users;
pub mod webhooks;

use rusqlite::Connection;
use serde::Serialize;

use crate::db;
use crate::domain::clock;
use crate::error::{ApiError, ApiResult, ErrorCode};

pub use crate::domain::new_id;

/// Every tag id must name a tag; the first that does not is a 400 on `tags[i]`.
pub fn check_tags(conn: &Connection, tags: &[String]) -> ApiResult<()> {
    match db::tags::first_missing(conn, tags)? {
        None => Ok(()),
        Some(i) => Err(ApiError::validation(
            format!("tags[{i}]"),
            format!("Tag {} does not exist", tags[i]),
        )
        .with_hint("List tags with GET /api/v1/tags")),
    }
}

/// The peer's `expected_updated_at`: absent is no check; otherwise it must name the stored
/// `updated_at` to the microsecond, or the write is a 409 that asks the client to reload.
pub fn check_expected_updated_at(expected: Option<&str>, stored: &str) -> ApiResult<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let parsed = clock::parse_rfc3339(expected).ok_or_else(|| {
        ApiError::validation(
            "expected_updated_at",
            format!("\"{expected}\" is not an RFC 3339 timestamp"),
        )
    })?;
    if clock::format(parsed) == stored {
        return Ok(());
    }
    Err(ApiError::conflict("The object was changed by someone else")
        .with_field("expected_updated_at")
        .with_param("updated_at", stored)
        .with_hint("Reload the object, reapply your change and send its new updated_at"))
}

/// A body names an entity that does not exist: 400 on that field, not 404 (the path exists).
pub fn missing_reference(field: &str, what: &str, id: &str) -> ApiError {
    ApiError::validation(field, format!("{what} {id} does not exist")).with_param(field, id)
}

#[derive(Debug, Serialize)]
pub struct BulkDeleted {
    pub deleted_count: u64,
    pub requested_count: u64,
}

/// Deletes each id with `delete_one`, skipping ids that do not exist. Any other refusal aborts
/// the whole request; the transaction then rolls back, so nothing is deleted.
pub fn bulk_delete(
    ids: &[String],
    mut delete_one: impl FnMut(&str) -> ApiResult<()>,
) -> ApiResult<BulkDeleted> {
    let mut deleted = 0;
    for id in ids {
        match delete_one(id) {
            Ok(()) => deleted += 1,
            Err(e) if e.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e.with_param("id", id.as_str())),
        }
    }
    Ok(BulkDeleted {
        deleted_count: deleted,
        requested_count: ids.len() as u64,
    })
}

/// The 409 for deleting something still referenced, naming what references it.
pub fn still_referenced(what: &str, id: &str) -> ApiError {
    ApiError::conflict(format!("{what} {id} is still referenced"))
        .with_hint("Remove the references first, or repeat the request with ?cascade=true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_updated_at_compares_instants_to_the_microsecond() {
        let stored = "2026-01-15T10:30:00.123456Z";
        assert!(check_expected_updated_at(None, stored).is_ok());
        assert!(check_expected_updated_at(Some(stored), stored).is_ok());
        let other_offset = "2026-01-15T11:30:00.123456+01:00";
        assert!(check_expected_updated_at(Some(other_offset), stored).is_ok());
        let stale = check_expected_updated_at(Some("2026-01-15T10:30:00.123457Z"), stored);
        assert_eq!(stale.unwrap_err().code, ErrorCode::Conflict);
        let bad = check_expected_updated_at(Some("yesterday"), stored).unwrap_err();
        assert_eq!(bad.code, ErrorCode::Validation);
    }
}

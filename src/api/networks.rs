//! `/api/v1/networks`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::parse_uuid;
use super::input::QueryParams;
use super::resource::{self, Resource};
use super::Routes;
use super::{list_response, tag_ids};
use crate::auth::Auth;
use crate::db::networks::Network;
use crate::db::networks::NetworkFilter;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::error::ApiResult;
use crate::ops::journal::Writer;
use crate::ops::{self, networks::NetworkInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Networks, _, _>(r, base, list);
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NetworkInput)]
#[serde(deny_unknown_fields)]
pub struct NetworkBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    name: String,
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    tags: Option<Vec<String>>,
    /// Read-only: the server's organization. Sending it back is accepted; another value is 400.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    organization_id: Option<String>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl NetworkBody {
    fn into_input(self) -> ApiResult<NetworkInput> {
        Ok(NetworkInput {
            organization_id: self
                .organization_id
                .map(|o| parse_uuid(&o, "organization_id"))
                .transpose()?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            tags: tag_ids(self.tags)?,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("n", ORDER_BY)?;
    let filter = NetworkFilter {
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        q: q.text("q"),
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::networks::list(c, &scope, &filter, &order, page))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Networks;

impl Resource for Networks {
    const PATH: &'static str = "networks";
    const WRITE_ROLE: Role = Role::Admin;
    const GLOBAL: bool = true;
    type Body = NetworkBody;
    type Input = NetworkInput;
    type Record = Network;

    fn input(body: NetworkBody) -> ApiResult<NetworkInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Network> {
        crate::db::networks::get(conn, id)
    }

    fn network_of(record: &Network) -> Option<&str> {
        Some(&record.id)
    }

    fn id_of(record: &Network) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: NetworkInput) -> ApiResult<Network> {
        ops::networks::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: NetworkInput) -> ApiResult<Network> {
        ops::networks::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
        ops::networks::delete(tx, who, id, cascade)
    }
}

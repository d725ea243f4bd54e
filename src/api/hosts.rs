//! `/api/v1/hosts`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::input::{parse_uuid, versioned_body, QueryParams};
use super::resource::{self, Resource};
use super::Routes;
use super::{list_response, tag_ids, virtualization};
use crate::auth::Auth;
use crate::db::hosts::Host;
use crate::db::hosts::HostFilter;
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Hostname, Name};
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::ops::{self, hosts::HostInput};
use crate::startup::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Hosts, _, _>(r, base, list);
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = HostInput)]
#[serde(deny_unknown_fields)]
pub struct HostBody {
    #[schema(value_type = uuid::Uuid)]
    network_id: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    name: String,
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$"
    )]
    hostname: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    description: Option<String>,
    #[serde(default)]
    hidden: Option<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    virtualization: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    tags: Option<Vec<String>>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "source")]
    _source: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "ip_addresses")]
    _ip_addresses: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "ports")]
    _ports: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "services")]
    _services: IgnoredAny,
}
}

impl HostBody {
    fn into_input(self) -> ApiResult<HostInput> {
        Ok(HostInput {
            network_id: parse_uuid(&self.network_id, "network_id")?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            hostname: self
                .hostname
                .map(|h| Hostname::parse(&h).map_err(|e| e.at("hostname")))
                .transpose()?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            hidden: self.hidden.unwrap_or(false),
            virtualization: virtualization(self.virtualization, "Proxmox")?,
            tags: tag_ids(self.tags)?,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "hostname", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("h", ORDER_BY)?;
    let children = match q.one("include") {
        None => false,
        Some("children") => true,
        Some(other) => {
            return Err(ApiError::validation(
                "include",
                format!("\"{other}\" is not one of children"),
            ))
        }
    };
    let filter = HostFilter {
        network_id: q.uuid("network_id")?,
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        q: q.text("q"),
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::hosts::list(c, &scope, &filter, &order, page, children, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Hosts;

impl Resource for Hosts {
    const PATH: &'static str = "hosts";
    const VERSIONED: bool = true;
    type Body = HostBody;
    type Input = HostInput;
    type Record = Host;

    fn input(body: HostBody) -> ApiResult<HostInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Host> {
        crate::db::hosts::get(conn, id, true)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Host> {
        crate::db::hosts::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<Host>>> {
        crate::db::hosts::history(conn, id, scope, page)
    }

    fn network_of(record: &Host) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &Host) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: HostInput) -> ApiResult<Host> {
        ops::hosts::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: HostInput) -> ApiResult<Host> {
        ops::hosts::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, _cascade: bool) -> ApiResult<()> {
        ops::hosts::delete(tx, who, id)
    }
}

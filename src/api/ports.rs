//! `/api/v1/ports`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, versioned_body, QueryParams};
use super::list_response;
use super::resource::{self, Resource};
use super::Routes;
use crate::auth::Auth;
use crate::db::ports::Port;
use crate::db::ports::PortFilter;
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::port::{PortNumber, Protocol};
use crate::domain::role::Role;
use crate::error::ApiResult;
use crate::ops::journal::Writer;
use crate::ops::{self, ports::PortInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Ports, _, _>(r, base, list);
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PortInput)]
#[serde(deny_unknown_fields)]
pub struct PortBody {
    #[schema(value_type = uuid::Uuid)]
    host_id: String,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    network_id: Option<String>,
    #[schema(minimum = 1, maximum = 65535)]
    number: i64,
    protocol: String,
    /// Derived from number and protocol; a client's value is ignored.
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "type")]
    _type: IgnoredAny,
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
}

impl PortBody {
    pub(super) fn into_input(self) -> ApiResult<PortInput> {
        Ok(PortInput {
            host_id: parse_uuid(&self.host_id, "host_id")?,
            network_id: self
                .network_id
                .map(|n| parse_uuid(&n, "network_id"))
                .transpose()?,
            number: PortNumber::parse(self.number).map_err(|e| e.at("number"))?,
            protocol: Protocol::parse(&self.protocol).map_err(|e| e.at("protocol"))?,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "number", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("p", ORDER_BY)?;
    let number = match q.one("number") {
        None => None,
        Some(n) => Some(
            n.parse::<i64>()
                .ok()
                .and_then(|n| PortNumber::parse(n).ok())
                .ok_or_else(|| {
                    crate::domain::Invalid::new(format!(
                        "\"{n}\" is not a port number (1 to 65535)"
                    ))
                    .at("number")
                })?
                .get(),
        ),
    };
    let filter = PortFilter {
        host_id: q.uuid("host_id")?,
        network_id: q.uuid("network_id")?,
        number,
        protocol: q
            .parsed("protocol", Protocol::parse)?
            .map(|p| p.as_str().to_string()),
        stale: q.opt_flag("stale")?,
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::ports::list(c, &scope, &filter, &order, page, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Ports;

impl Resource for Ports {
    const PATH: &'static str = "ports";
    const VERSIONED: bool = true;
    type Body = PortBody;
    type Input = PortInput;
    type Record = Port;

    fn input(body: PortBody) -> ApiResult<PortInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Port> {
        crate::db::ports::get(conn, id)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Port> {
        crate::db::ports::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<Port>>> {
        crate::db::ports::history(conn, id, scope, page)
    }

    fn network_of(record: &Port) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &Port) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: PortInput) -> ApiResult<Port> {
        ops::ports::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: PortInput) -> ApiResult<Port> {
        ops::ports::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
        ops::ports::delete(tx, who, id, cascade)
    }
}

//! `/api/v1/ip-addresses`, also served at `/api/v1/interfaces` for 0.13-era clients.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, versioned_body, QueryParams};
use super::list_response;
use super::resource::{self, Resource};
use super::Routes;
use crate::auth::Auth;
use crate::db::ip_addresses::IpAddress;
use crate::db::ip_addresses::IpAddressFilter;
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::net::{parse_ip, MacAddress};
use crate::domain::role::Role;
use crate::domain::text::optional_text;
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::ops::{self, ip_addresses::IpAddressInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<IpAddresses, _, _>(r, base, list);
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = IpAddressInput)]
#[serde(deny_unknown_fields)]
pub struct IpAddressBody {
    #[schema(value_type = uuid::Uuid)]
    host_id: String,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    network_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    subnet_id: Option<String>,
    #[schema(examples("192.168.1.10", "fd00::10"))]
    ip_address: String,
    #[serde(default)]
    #[schema(pattern = "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")]
    mac_address: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0)]
    position: Option<i64>,
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

impl IpAddressBody {
    pub(super) fn into_input(self) -> ApiResult<IpAddressInput> {
        if let Some(p) = self.position {
            if p < 0 {
                return Err(ApiError::validation(
                    "position",
                    "position must be 0 or more",
                ));
            }
        }
        Ok(IpAddressInput {
            host_id: parse_uuid(&self.host_id, "host_id")?,
            network_id: self
                .network_id
                .map(|n| parse_uuid(&n, "network_id"))
                .transpose()?,
            subnet_id: self
                .subnet_id
                .map(|s| parse_uuid(&s, "subnet_id"))
                .transpose()?,
            ip_address: parse_ip(&self.ip_address).map_err(|e| e.at("ip_address"))?,
            mac_address: self
                .mac_address
                .map(|m| MacAddress::parse(&m).map_err(|e| e.at("mac_address")))
                .transpose()?,
            name: optional_text(self.name.as_deref(), 100).map_err(|e| e.at("name"))?,
            position: self.position,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "ip_address", "position", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("i", ORDER_BY)?;
    let filter = IpAddressFilter {
        host_id: q.uuid("host_id")?,
        subnet_id: q.uuid("subnet_id")?,
        network_id: q.uuid("network_id")?,
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::ip_addresses::list(c, &scope, &filter, &order, page, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct IpAddresses;

impl Resource for IpAddresses {
    const PATH: &'static str = "ip-addresses";
    const VERSIONED: bool = true;
    type Body = IpAddressBody;
    type Input = IpAddressInput;
    type Record = IpAddress;

    fn input(body: IpAddressBody) -> ApiResult<IpAddressInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<IpAddress> {
        crate::db::ip_addresses::get(conn, id)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<IpAddress> {
        crate::db::ip_addresses::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<IpAddress>>> {
        crate::db::ip_addresses::history(conn, id, scope, page)
    }

    fn network_of(record: &IpAddress) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &IpAddress) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: IpAddressInput) -> ApiResult<IpAddress> {
        ops::ip_addresses::create(tx, who, input)
    }

    fn update(
        tx: &Transaction,
        who: &Writer,
        id: &str,
        input: IpAddressInput,
    ) -> ApiResult<IpAddress> {
        ops::ip_addresses::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
        ops::ip_addresses::delete(tx, who, id, cascade)
    }
}

//! `/api/v1/service-types`: the built-in catalogue (read-only) and custom types.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::QueryParams;
use super::list_response;
use super::resource::{self, Resource};
use super::Routes;
use crate::auth::Auth;
use crate::db::service_types::ServiceType;
use crate::db::service_types::{DefaultPort, ServiceTypeFilter};
use crate::domain::port::{PortNumber, Protocol};
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::ops::{self, service_types::ServiceTypeInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<ServiceTypes, _, _>(r, base, list);
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DefaultPortInput)]
#[serde(deny_unknown_fields)]
struct PortBody {
    #[schema(minimum = 1, maximum = 65535)]
    number: i64,
    protocol: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ServiceTypeInput)]
#[serde(deny_unknown_fields)]
pub struct ServiceTypeBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    category: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    generic: Option<bool>,
    #[serde(default)]
    default_ports: Option<Vec<PortBody>>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "builtin")]
    _builtin: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl ServiceTypeBody {
    fn into_input(self) -> ApiResult<ServiceTypeInput> {
        let name = match (&self.name, &self.id) {
            (Some(n), Some(i)) if n != i => {
                return Err(ApiError::validation(
                    "id",
                    "id and name of a service type are the same value",
                ))
            }
            (Some(n), _) => n.clone(),
            (None, Some(i)) => i.clone(),
            (None, None) => return Err(ApiError::validation("name", "Field \"name\" is required")),
        };
        let mut default_ports = Vec::new();
        for (i, p) in self.default_ports.unwrap_or_default().iter().enumerate() {
            let field = format!("default_ports[{i}]");
            let number =
                PortNumber::parse(p.number).map_err(|e| e.at(&format!("{field}.number")))?;
            let protocol =
                Protocol::parse(&p.protocol).map_err(|e| e.at(&format!("{field}.protocol")))?;
            default_ports.push(DefaultPort {
                number: number.get(),
                protocol: protocol.as_str().to_string(),
            });
        }
        Ok(ServiceTypeInput {
            name: Name::parse(&name, 60).map_err(|e| e.at("name"))?,
            category: Name::parse(&self.category, 60).map_err(|e| e.at("category"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            generic: self.generic.unwrap_or(false),
            default_ports,
        })
    }
}

/// The columns a list may be sorted by; without `order_by` the list is sorted by id.
pub const ORDER_BY: &[&str] = &["created_at", "updated_at", "category"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = match q.one("order_by") {
        None => "st.id ASC".to_string(),
        Some(_) => q.order("st", ORDER_BY)?,
    };
    let builtin = match q.one("builtin") {
        None => None,
        Some(_) => Some(q.flag("builtin")?),
    };
    let filter = ServiceTypeFilter {
        category: q.text("category"),
        q: q.text("q"),
        builtin,
    };
    let (items, total) = state
        .db
        .read(move |c| crate::db::service_types::list(c, &filter, &order, page))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct ServiceTypes;

impl Resource for ServiceTypes {
    const PATH: &'static str = "service-types";
    const GLOBAL: bool = true;
    type Body = ServiceTypeBody;
    type Input = ServiceTypeInput;
    type Record = ServiceType;

    fn input(body: ServiceTypeBody) -> ApiResult<ServiceTypeInput> {
        body.into_input()
    }

    /// Service types are named, not numbered: `Remote%20Desktop`.
    fn parse_id(raw: &str) -> ApiResult<String> {
        resource::any_id(raw)
    }

    fn location(record: &ServiceType) -> String {
        format!("/api/v1/service-types/{}", encode_segment(&record.id))
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<ServiceType> {
        crate::db::service_types::get(conn, id)
    }

    fn network_of(_: &ServiceType) -> Option<&str> {
        None
    }

    fn id_of(record: &ServiceType) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: ServiceTypeInput) -> ApiResult<ServiceType> {
        ops::service_types::create(tx, who, input)
    }

    fn update(
        tx: &Transaction,
        who: &Writer,
        id: &str,
        input: ServiceTypeInput,
    ) -> ApiResult<ServiceType> {
        ops::service_types::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
        ops::service_types::delete(tx, who, id, cascade)
    }
}

/// Percent-encodes a path segment for the `Location` header (type ids contain spaces).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

//! `/api/v1/bindings`, and the binding body shared with the `bindings` array of services.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, versioned_body, QueryParams};
use super::resource::{self, Resource};
use super::write::Reply;
use super::Routes;
use super::{list_response, list_response_json};
use crate::auth::Auth;
use crate::db::bindings::Binding;
use crate::db::bindings::BindingFilter;
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::bindings::Target;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::ops::{self, bindings::BindingInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Bindings, _, _>(r, base, list);
}

versioned_body! {
/// A binding as clients send it: v0.17 names, with the 0.13 aliases `"Interface"` and
/// `interface_id`. Server-set and temporal fields are accepted and ignored.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = BindingInput)]
#[serde(deny_unknown_fields)]
pub struct BindingBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    port_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    ip_address_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    interface_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub service_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub network_id: Option<String>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}
}

fn at(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

impl BindingBody {
    /// The binding's target; `prefix` locates it in the request (`bindings[2]`, or empty).
    pub fn target(&self, prefix: &str) -> ApiResult<Target> {
        let ip = match (&self.ip_address_id, &self.interface_id) {
            (Some(a), Some(b)) if a != b => {
                return Err(ApiError::validation(
                    at(prefix, "interface_id"),
                    "interface_id and ip_address_id name different IP addresses",
                ))
            }
            (Some(a), _) => Some(parse_uuid(a, &at(prefix, "ip_address_id"))?),
            (None, Some(b)) => Some(parse_uuid(b, &at(prefix, "interface_id"))?),
            (None, None) => None,
        };
        let port = self
            .port_id
            .as_deref()
            .map(|p| parse_uuid(p, &at(prefix, "port_id")))
            .transpose()?;
        match self.kind.as_str() {
            "IPAddress" | "Interface" => {
                if port.is_some() {
                    return Err(ApiError::validation(
                        at(prefix, "port_id"),
                        "An IPAddress binding has no port_id; use type \"Port\" to bind a port",
                    ));
                }
                let ip = ip.ok_or_else(|| {
                    ApiError::validation(
                        at(prefix, "ip_address_id"),
                        "An IPAddress binding needs ip_address_id",
                    )
                })?;
                Ok(Target::Ip { ip })
            }
            "Port" => {
                let port = port.ok_or_else(|| {
                    ApiError::validation(at(prefix, "port_id"), "A Port binding needs port_id")
                })?;
                Ok(Target::Port { port, ip })
            }
            other => Err(ApiError::validation(
                at(prefix, "type"),
                format!("\"{other}\" is not one of IPAddress, Port (or the 0.13 alias Interface)"),
            )),
        }
    }

    fn into_input(self) -> ApiResult<BindingInput> {
        let target = self.target("")?;
        let service_id = self.service_id.as_deref().ok_or_else(|| {
            ApiError::validation("service_id", "Field \"service_id\" is required")
        })?;
        Ok(BindingInput {
            service_id: parse_uuid(service_id, "service_id")?,
            network_id: self
                .network_id
                .as_deref()
                .map(|n| parse_uuid(n, "network_id"))
                .transpose()?,
            target,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("b", ORDER_BY)?;
    let ip_address_id = match q.uuid("ip_address_id")? {
        Some(id) => Some(id),
        None => q.uuid("interface_id")?,
    };
    let kind = match q.one("type") {
        None => None,
        Some("IPAddress") | Some("Interface") => Some("IPAddress"),
        Some("Port") => Some("Port"),
        Some(other) => {
            return Err(ApiError::validation(
                "type",
                format!("\"{other}\" is not one of IPAddress, Port"),
            ))
        }
    };
    let filter = BindingFilter {
        service_id: q.uuid("service_id")?,
        network_id: q.uuid("network_id")?,
        port_id: q.uuid("port_id")?,
        ip_address_id,
        host_id: q.uuid("host_id")?,
        kind,
        stale: q.opt_flag("stale")?,
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    if at.is_live() {
        let (items, count, total) = state
            .db
            .read(move |c| crate::db::bindings::list_json(c, &scope, &filter, &order, page))
            .await?;
        return Ok(list_response_json(items, count, page, total));
    }
    let (items, total) = state
        .db
        .read(move |c| crate::db::bindings::list(c, &scope, &filter, &order, page, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Bindings;

impl Resource for Bindings {
    const PATH: &'static str = "bindings";
    const VERSIONED: bool = true;
    type Body = BindingBody;
    type Input = BindingInput;
    type Record = Binding;

    fn input(body: BindingBody) -> ApiResult<BindingInput> {
        body.into_input()
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Binding> {
        crate::db::bindings::get(conn, id)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Binding> {
        crate::db::bindings::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<Binding>>> {
        crate::db::bindings::history(conn, id, scope, page)
    }

    fn network_of(record: &Binding) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &Binding) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: BindingInput) -> ApiResult<Binding> {
        Ok(ops::bindings::create(tx, who, input)?.0)
    }

    /// 201 with the new binding, or 200 with the live binding that already covers the request.
    fn create_reply(tx: &Transaction, who: &Writer, input: BindingInput) -> ApiResult<Reply> {
        let (binding, created) = ops::bindings::create(tx, who, input)?;
        Ok(if created {
            Reply::created(Self::location(&binding), &binding)
        } else {
            Reply::ok(&binding)
        })
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: BindingInput) -> ApiResult<Binding> {
        ops::bindings::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, _cascade: bool) -> ApiResult<()> {
        ops::bindings::delete(tx, who, id)
    }
}

//! `/api/v1/hosts`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::input::{parse_entry, parse_uuid, versioned_body, QueryParams};
use super::ip_addresses::IpAddressBody;
use super::ports::PortBody;
use super::resource::{self, Resource};
use super::services::ServiceBody;
use super::write::write_tagged;
use super::{list_response, list_response_json, tag_ids, virtualization};
use super::{on, Routes};
use crate::auth::Auth;
use crate::db::hosts::Host;
use crate::db::hosts::{Embed, HostFilter};
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Hostname, Name};
use crate::error::{ApiError, ApiResult};
use crate::ops::host_children::{Child, Children};
use crate::ops::journal::Writer;
use crate::ops::{self, hosts::HostInput};
use crate::state::AppState;
use actix_web::http::Method;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Hosts, _, _>(r, base, list);
    r.at(
        &format!("{base}/{{id}}/consolidate/{{other_id}}"),
        [on(Method::PUT, consolidate)],
    );
}

/// `PUT /hosts/{id}/consolidate/{other_id}`: the other host's parts move onto host `id`, and
/// the other host is deleted; answers the destination with its children.
async fn consolidate(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let (destination, other) = path.into_inner();
    let destination = parse_uuid(&destination, "id")?;
    let other = parse_uuid(&other, "other_id")?;
    write_tagged(&state, &req, auth.0, None, move |tx, who| {
        ops::host_merge::consolidate(tx, who, &destination, &other)
    })
    .await
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = HostInput)]
#[serde(deny_unknown_fields)]
pub struct HostBody {
    /// Required on POST; on PUT an omitted `network_id` keeps the host's network.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    network_id: Option<String>,
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
    /// The host's IP addresses, each with a client-chosen `id` (alias `interfaces`). Omitted:
    /// kept as they are; sent: the complete set (missing ones are deleted with their bindings).
    #[serde(default, alias = "interfaces")]
    #[schema(value_type = Option<Vec<IpAddressBody>>)]
    ip_addresses: Option<Vec<Value>>,
    /// The host's ports, each with a client-chosen `id`; omitted keeps, sent is the complete set.
    #[serde(default)]
    #[schema(value_type = Option<Vec<PortBody>>)]
    ports: Option<Vec<Value>>,
    /// The host's services, each with a client-chosen `id` and bindings that may name the ports
    /// and addresses of this request; omitted keeps, sent is the complete set.
    #[serde(default)]
    #[schema(value_type = Option<Vec<ServiceBody>>)]
    services: Option<Vec<Value>>,
    /// PUT: the `updated_at` you last read; a different stored value is a 409 and nothing is
    /// written. Ignored on POST.
    #[serde(default)]
    #[schema(format = DateTime)]
    expected_updated_at: Option<String>,
}
}

impl HostBody {
    fn into_input(self, update: bool) -> ApiResult<HostInput> {
        let network_id = match (self.network_id, update) {
            (Some(n), _) => Some(parse_uuid(&n, "network_id")?),
            (None, true) => None,
            (None, false) => {
                return Err(ApiError::validation(
                    "network_id",
                    "Field \"network_id\" is required",
                ))
            }
        };
        Ok(HostInput {
            source: None,
            network_id,
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
            expected_updated_at: self.expected_updated_at.filter(|_| update),
            children: Children {
                ip_addresses: children("ip_addresses", self.ip_addresses, |b: IpAddressBody| {
                    b.into_input()
                })?,
                ports: children("ports", self.ports, |b: PortBody| b.into_input())?,
                services: children("services", self.services, |b: ServiceBody| {
                    b.into_input(true)
                })?,
            },
        })
    }
}

/// Stands in for the host's id while a child is parsed; the use case sets the real one.
const HOST_PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";

/// One children array, each entry parsed by its own resource's body type: same fields, same
/// checks, errors located under `array[i]`. The entry's `id` is required (bindings name it).
fn children<B: DeserializeOwned, T>(
    array: &str,
    entries: Option<Vec<Value>>,
    convert: impl Fn(B) -> ApiResult<T>,
) -> ApiResult<Option<Vec<Child<T>>>> {
    let Some(entries) = entries else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let at = format!("{array}[{i}]");
        let Value::Object(mut fields) = entry else {
            return Err(ApiError::validation(at, "Each entry must be a JSON object"));
        };
        let id =
            match fields.get("id") {
                Some(Value::String(id)) => parse_uuid(id, &format!("{at}.id"))?,
                _ => return Err(ApiError::validation(
                    format!("{at}.id"),
                    "Each entry needs its own id (a new UUID for a new one)",
                )
                .with_hint(
                    "Bindings in this request refer to the new ports and addresses by these ids",
                )),
            };
        fields.insert("host_id".into(), Value::String(HOST_PLACEHOLDER.into()));
        let body: B = parse_entry(&Value::Object(fields), &at)?;
        let input = convert(body).map_err(|e| e.under(&at))?;
        out.push(Child { id, input });
    }
    Ok(Some(out))
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "hostname", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("h", ORDER_BY)?;
    // Entries carry what a single host read carries, as the 0.17 clients expect;
    // `include=ip_addresses` asks for the lighter entry.
    let embed = match q.one("include") {
        None | Some("children") => Embed::Children,
        Some("ip_addresses") => Embed::Addresses,
        Some(other) => {
            return Err(ApiError::validation(
                "include",
                format!("\"{other}\" is not one of children, ip_addresses"),
            ))
        }
    };
    let filter = HostFilter {
        network_id: q.uuid("network_id")?,
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        q: q.text("q"),
        stale: q.opt_flag("stale")?,
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    if embed == Embed::Children && at.is_live() {
        // Live entries with children are written from the rows, like a single host read.
        // The query says everything the page depends on, but the caller's scope.
        let key = format!("hosts?{}|{scope:?}", req.query_string());
        let page_read = state
            .db
            .read_cached(key, move |c| {
                crate::db::hosts::list_json(c, &scope, &filter, &order, page)
            })
            .await?;
        let (items, count, total) = page_read.as_ref();
        return Ok(list_response_json(items.clone(), *count, page, *total));
    }
    let (items, total) = state
        .db
        .read(move |c| crate::db::hosts::list(c, &scope, &filter, &order, page, embed, &at))
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
        body.into_input(false)
    }

    /// PUT keeps the network when `network_id` is omitted and checks `expected_updated_at`.
    fn update_input(body: HostBody) -> ApiResult<HostInput> {
        body.into_input(true)
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Host> {
        crate::db::hosts::get(conn, id, Embed::Children)
    }

    const LIVE_JSON: bool = true;

    fn fetch_json(conn: &Connection, id: &str) -> ApiResult<Option<(Vec<u8>, Option<String>)>> {
        crate::db::hosts::get_json(conn, id)
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

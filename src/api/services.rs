//! `/api/v1/services` (seed 000).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::bindings::BindingBody;
use super::input::{parse_uuid, versioned_body, QueryParams};
use super::resource::{self, Resource};
use super::Routes;
use super::{list_response, list_response_json, tag_ids, virtualization};
use crate::auth::Auth;
use crate::db::query::{PageRequest, Scope};
use crate::db::services::Service;
use crate::db::services::ServiceFilter;
use crate::db::versions::{AsOf, History};
use crate::domain::bindings::Wanted;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::ops::{self, services::ServiceInput};
use crate::state::AppState;
use rusqlite::{Connection, Transaction};

pub fn routes(r: &mut Routes, base: &str) {
    resource::routes::<Services, _, _>(r, base, list);
}

versioned_body! {
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ServiceInput)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    #[schema(value_type = uuid::Uuid)]
    host_id: String,
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    network_id: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    name: String,
    service_definition: String,
    #[serde(default)]
    #[schema(minimum = 0)]
    position: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    virtualization: Option<Value>,
    #[serde(default)]
    bindings: Option<Vec<BindingBody>>,
    /// PUT: the `updated_at` you last read; a different stored value is a 409 and nothing is
    /// written. Ignored on POST.
    #[serde(default)]
    #[schema(format = DateTime)]
    expected_updated_at: Option<String>,
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
}
}

impl ServiceBody {
    /// `keep_ids`: on PUT a binding's `id` selects the stored binding it updates; POST ignores it.
    pub(super) fn into_input(self, keep_ids: bool) -> ApiResult<ServiceInput> {
        if let Some(p) = self.position {
            if p < 0 {
                return Err(ApiError::validation(
                    "position",
                    "position must be 0 or more",
                ));
            }
        }
        let mut bindings = Vec::new();
        for (i, b) in self.bindings.unwrap_or_default().iter().enumerate() {
            let field = format!("bindings[{i}]");
            let target = b.target(&field)?;
            let id = match (&b.id, keep_ids) {
                (Some(id), true) => Some(parse_uuid(id, &format!("{field}.id"))?),
                _ => None,
            };
            bindings.push(Wanted { field, id, target });
        }
        Ok(ServiceInput {
            host_id: parse_uuid(&self.host_id, "host_id")?,
            network_id: self
                .network_id
                .map(|n| parse_uuid(&n, "network_id"))
                .transpose()?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            service_definition: self.service_definition,
            position: if keep_ids { self.position } else { None },
            tags: tag_ids(self.tags)?,
            virtualization: virtualization(self.virtualization, "Docker")?,
            bindings,
            expected_updated_at: if keep_ids {
                self.expected_updated_at
            } else {
                None
            },
            source: None,
        })
    }
}

/// The columns a list may be sorted by.
pub const ORDER_BY: &[&str] = &["created_at", "name", "position", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("s", ORDER_BY)?;
    let filter = ServiceFilter {
        network_id: q.uuid("network_id")?,
        host_id: q.uuid("host_id")?,
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        service_definition: q.text("service_definition"),
        q: q.text("q"),
        stale: q.opt_flag("stale")?,
    };
    let at = q.as_of()?;
    let scope = auth.scope();
    if at.is_live() {
        // The query says everything the page depends on, but the caller's scope.
        let key = format!("services?{}|{scope:?}", req.query_string());
        let page_read = state
            .db
            .read_cached(key, move |c| {
                crate::db::services::list_json(c, &scope, &filter, &order, page)
            })
            .await?;
        let (items, count, total) = page_read.as_ref();
        return Ok(list_response_json(items.clone(), *count, page, *total));
    }
    let (items, total) = state
        .db
        .read(move |c| crate::db::services::list(c, &scope, &filter, &order, page, &at))
        .await?;
    Ok(list_response(&items, page, total))
}

pub struct Services;

impl Resource for Services {
    const PATH: &'static str = "services";
    const VERSIONED: bool = true;
    type Body = ServiceBody;
    type Input = ServiceInput;
    type Record = Service;

    /// POST ignores binding ids and `position` (the service is appended).
    fn input(body: ServiceBody) -> ApiResult<ServiceInput> {
        body.into_input(false)
    }

    /// PUT matches bindings by id and keeps the position when it is omitted.
    fn update_input(body: ServiceBody) -> ApiResult<ServiceInput> {
        body.into_input(true)
    }

    fn fetch(conn: &Connection, id: &str) -> ApiResult<Service> {
        crate::db::services::get(conn, id)
    }

    const LIVE_JSON: bool = true;

    fn fetch_json(conn: &Connection, id: &str) -> ApiResult<Option<(Vec<u8>, Option<String>)>> {
        crate::db::services::get_json(conn, id)
    }

    fn fetch_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Service> {
        crate::db::services::get_at(conn, id, at)
    }

    fn history(
        conn: &Connection,
        id: &str,
        scope: &Scope,
        page: PageRequest,
    ) -> ApiResult<Option<History<Service>>> {
        crate::db::services::history(conn, id, scope, page)
    }

    fn network_of(record: &Service) -> Option<&str> {
        Some(&record.network_id)
    }

    fn id_of(record: &Service) -> &str {
        &record.id
    }

    fn create(tx: &Transaction, who: &Writer, input: ServiceInput) -> ApiResult<Service> {
        ops::services::create(tx, who, input)
    }

    fn update(tx: &Transaction, who: &Writer, id: &str, input: ServiceInput) -> ApiResult<Service> {
        ops::services::update(tx, who, id, input)
    }

    fn delete(tx: &Transaction, who: &Writer, id: &str, _cascade: bool) -> ApiResult<()> {
        ops::services::delete(tx, who, id)
    }
}

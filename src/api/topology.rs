//! `/api/v1/topology`: the 0.17 clients' names for the map of a network (one topology per
//! network, its stored view options, its data as nodes and edges, its Mermaid export).

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::write_tagged;
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::map::MapRecords;
use crate::db::query::PageRequest;
use crate::db::versions::AsOf;
use crate::domain::map;
use crate::domain::role::Role;
use crate::domain::topology::{views, VIEWS};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(base, [on(Method::GET, list)])
        .at(&format!("{base}/data"), [on(Method::GET, data)])
        .at(
            &format!("{base}/{{id}}"),
            [on(Method::GET, get), on(Method::PUT, put)],
        )
        .at(
            &format!("{base}/{{id}}/export/mermaid"),
            [on(Method::GET, mermaid)],
        );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TopologyInput)]
#[serde(deny_unknown_fields)]
pub struct TopologyBody {
    /// The view options to keep, as given.
    #[schema(value_type = Object)]
    options: Value,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "network_id")]
    _network_id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let network = q.uuid("network_id")?;
    let ids = q.uuids("ids")?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::topology::list(c, &scope, network, &ids, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = path_id(&path)?;
    let topology = state
        .db
        .read(move |c| crate::db::topology::get(c, &id))
        .await?;
    auth.check_network(&topology.network_id)?;
    Ok(envelope::ok_tagged(&topology))
}

async fn put(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let id = path_id(&path)?;
    let parsed: TopologyBody = body.parse()?;
    if !parsed.options.is_object() {
        return Err(ApiError::validation("options", "options must be an object"));
    }
    let options = parsed.options;
    write_tagged(&state, &req, auth.0, Some(&body), move |tx, who| {
        crate::ops::topology::update(tx, who, &id, options)
    })
    .await
}

/// The network's records as of `at`, for a key that may see the network.
async fn records(
    state: &AppState,
    auth: &Auth,
    network: String,
    at: AsOf,
) -> ApiResult<(MapRecords, String)> {
    auth.require(Role::Viewer)?;
    auth.check_network(&network)?;
    state
        .db
        .read(move |c| {
            let name = crate::db::networks::get(c, &network)?.name;
            Ok((crate::db::map::records(c, &network, &at)?, name))
        })
        .await
}

/// `GET /topology/data?network_id=`: every object of the network, and the nodes and edges of
/// both views, from the map's own layout.
async fn data(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let network = q
        .uuid("network_id")?
        .ok_or_else(|| ApiError::validation("network_id", "Give ?network_id="))?;
    let at = q.as_of()?;
    let instant = match &at {
        AsOf::Live => None,
        AsOf::At(t) => Some(t.clone()),
    };
    let (records, name) = records(&state, &auth, network.clone(), at).await?;
    let tags = state
        .db
        .read(|c| {
            let filter = crate::db::tags::TagFilter {
                q: None,
                color: None,
            };
            Ok(crate::db::tags::list(c, &filter, "t.name, t.id", PageRequest::default())?.0)
        })
        .await?;
    let layout = map::layout(
        &crate::db::map::into_input(records.clone(), &network, &name),
        instant,
    );
    let v = views(&layout);
    let mut hosts = Vec::new();
    let (mut ips, mut ports, mut services, mut bindings) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for mut h in records.hosts {
        // A host entry keeps its addresses; ports and services are lists of their own.
        ips.extend(h.ip_addresses.clone().unwrap_or_default());
        ports.extend(h.ports.take().unwrap_or_default());
        for mut s in h.services.take().unwrap_or_default() {
            bindings.append(&mut s.bindings);
            services.push(s);
        }
        let mut host = serde_json::to_value(&h).map_err(ApiError::internal)?;
        if let Some(object) = host.as_object_mut() {
            object.insert("display_name".into(), json!(h.name));
        }
        hosts.push(host);
    }
    Ok(envelope::ok(&json!({
        "network_id": network,
        "hosts": hosts,
        "ip_addresses": ips,
        "subnets": records.subnets,
        "ports": ports,
        "bindings": bindings,
        "services": services,
        "dependencies": records.dependencies,
        "tags": tags,
        "interfaces": [],
        "neighbours": [],
        "candidates": [],
        "vlans": [],
        "nodes": v.nodes,
        "edges": v.edges,
        "filtered_out": {},
        "available_views": VIEWS,
    })))
}

/// `GET /topology/{id}/export/mermaid?view=`: the network's Mermaid flowchart, as a file.
async fn mermaid(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(&path, "id")?;
    let q = QueryParams::from_request(&req)?;
    if let Some(view) = q.one("view") {
        if !VIEWS.contains(&view) {
            return Err(ApiError::validation(
                "view",
                format!("\"{view}\" is not one of {}", VIEWS.join(", ")),
            ));
        }
    }
    let at = q.as_of()?;
    let (records, name) = records(&state, &auth, id.clone(), at).await?;
    let input = crate::db::map::into_input(records, &id, &name);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"topology.mmd\"",
        ))
        .body(map::mermaid(&input)))
}

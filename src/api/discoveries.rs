//! `/api/v1/discoveries`: scans, nmap uploads and pushed observations, their progress (also as
//! Server-Sent Events), cancel and a plan's apply.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::input::{parse_entry, parse_json, parse_uuid, QueryParams};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::discoveries::{self, DiscoveryFilter};
use crate::discovery::{self, nmap, ScanOptions, ScanRequest};
use crate::domain::discovery::Observation;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Uploads (nmap XML) may be this large.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Pushed observations take at most this many addresses.
pub const MAX_OBSERVATIONS: usize = 10_000;

pub fn routes(r: &mut Routes, base: &str) {
    r.at_sized(
        base,
        MAX_UPLOAD_BYTES,
        [on(Method::GET, list), on(Method::POST, create)],
    )
    .at(&format!("{base}/{{id}}"), [on(Method::GET, get)])
    .at(&format!("{base}/{{id}}/cancel"), [on(Method::POST, cancel)])
    .at(&format!("{base}/{{id}}/apply"), [on(Method::POST, apply)])
    .at(&format!("{base}/{{id}}/events"), [on(Method::GET, events)]);
}

/// A discovery's body: JSON (every source) or, for nmap, the XML itself.
pub struct Upload {
    content_type: String,
    bytes: Result<web::Bytes, ApiError>,
}

impl FromRequest for Upload {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Upload, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let limit = super::input::BodyLimit::of(req).described();
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes
                .await
                .map_err(|e| super::input::unreadable_body(&e, &limit));
            Ok(Upload {
                content_type,
                bytes,
            })
        })
    }
}

/// `POST /discoveries` as JSON.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryBody {
    #[schema(value_type = uuid::Uuid)]
    network_id: String,
    /// `scan` (default), `nmap` or `observations`.
    #[serde(default)]
    source: Option<String>,
    /// `apply` (default) or `plan`.
    #[serde(default)]
    mode: Option<String>,
    /// Scan: addresses and CIDR blocks, each inside a subnet of the network.
    #[serde(default)]
    targets: Option<Vec<String>>,
    /// Scan: a list of numbers, a string like "1-1024,8096", or "catalog" (the default).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    ports: Option<Value>,
    #[serde(default)]
    options: Option<ScanOptions>,
    /// nmap: the output of `nmap -oX`.
    #[serde(default)]
    xml: Option<String>,
    /// observations: what an agent saw.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    observations: Option<Value>,
    /// Scan: run by this agent (started with `--scan`) inside its own segment, with the same
    /// guards; it takes the job on its long poll.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    agent_id: Option<String>,
}

fn mode(raw: Option<String>) -> ApiResult<String> {
    match raw.as_deref() {
        None | Some("apply") => Ok("apply".into()),
        Some("plan") => Ok("plan".into()),
        Some(other) => Err(ApiError::validation(
            "mode",
            format!("\"{other}\" is not one of apply, plan"),
        )),
    }
}

fn actor(p: &Principal) -> Value {
    serde_json::to_value(&p.actor).unwrap_or(Value::Null)
}

/// Pushed observations, each checked; errors name `observations[i]...`.
pub fn parse_observations(raw: Value) -> ApiResult<Vec<Observation>> {
    let Value::Array(items) = raw else {
        return Err(ApiError::validation(
            "observations",
            "observations must be a list",
        ));
    };
    if items.len() > MAX_OBSERVATIONS {
        return Err(ApiError::validation(
            "observations",
            format!("At most {MAX_OBSERVATIONS} addresses per upload"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let at = format!("observations[{i}]");
        let mut obs: Observation = parse_entry(&item, &at)?;
        if obs.mac.is_some() && obs.mac().is_none() {
            return Err(ApiError::validation(
                format!("{at}.mac"),
                "Not a MAC address",
            ));
        }
        for (j, port) in obs.ports.iter_mut().enumerate() {
            if port.number == 0 {
                return Err(ApiError::validation(
                    format!("{at}.ports[{j}].number"),
                    "A port is a number from 1 to 65535",
                ));
            }
            // Evidence is what a probe saw; an agent states the type instead.
            port.evidence = Default::default();
        }
        out.push(obs);
    }
    Ok(out)
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    upload: Upload,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let bytes = upload.bytes?;
    let db = &state.db;
    if upload.content_type == "application/xml" || upload.content_type == "text/xml" {
        let q = QueryParams::from_request(&req)?;
        let network_id = q.uuid("network_id")?.ok_or_else(|| {
            ApiError::validation("network_id", "Give ?network_id= with an XML upload")
        })?;
        auth.check_network(&network_id)?;
        let xml = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::validation("xml", "The XML is not UTF-8"))?;
        let observations = nmap::parse(xml)?;
        let mode = mode(q.one("mode").map(str::to_string))?;
        let d = discovery::run_upload(db, network_id, "nmap", mode, observations, actor(&auth.0))
            .await?;
        return Ok(created(&d));
    }
    if upload.content_type != "application/json" {
        return Err(ApiError::validation(
            "body",
            "Content-Type must be application/json (or application/xml for nmap output)",
        ));
    }
    let body: DiscoveryBody = parse_json(&bytes)?;
    let network_id = parse_uuid(&body.network_id, "network_id")?;
    auth.check_network(&network_id)?;
    let mode = mode(body.mode)?;
    match body.source.as_deref().unwrap_or("scan") {
        "scan" => {
            let request = ScanRequest {
                network_id,
                targets: body.targets.ok_or_else(|| {
                    ApiError::validation("targets", "Field \"targets\" is required")
                })?,
                ports: body.ports.unwrap_or(Value::Null),
                mode,
                options: body.options.unwrap_or_default(),
                schedule_id: None,
                created_by: actor(&auth.0),
                agent_id: body
                    .agent_id
                    .as_deref()
                    .map(|a| parse_uuid(a, "agent_id"))
                    .transpose()?,
            };
            let max = state.config.discovery_max_addresses as usize;
            let d = discovery::start_scan(db, &state.discoveries, max, request).await?;
            Ok(HttpResponse::Accepted()
                .insert_header((header::LOCATION, format!("/api/v1/discoveries/{}", d.id)))
                .content_type("application/json")
                .body(envelope::success_bytes(&d, None)))
        }
        "nmap" => {
            let xml = body
                .xml
                .ok_or_else(|| ApiError::validation("xml", "Field \"xml\" is required"))?;
            let observations = nmap::parse(&xml)?;
            let d =
                discovery::run_upload(db, network_id, "nmap", mode, observations, actor(&auth.0))
                    .await?;
            Ok(created(&d))
        }
        "observations" => {
            let raw = body.observations.ok_or_else(|| {
                ApiError::validation("observations", "Field \"observations\" is required")
            })?;
            let observations = parse_observations(raw)?;
            let d = discovery::run_upload(
                db,
                network_id,
                "observations",
                mode,
                observations,
                actor(&auth.0),
            )
            .await?;
            Ok(created(&d))
        }
        other => Err(ApiError::validation(
            "source",
            format!("\"{other}\" is not one of scan, nmap, observations"),
        )),
    }
}

fn created(d: &discoveries::Discovery) -> HttpResponse {
    envelope::created(format!("/api/v1/discoveries/{}", d.id), d)
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let filter = DiscoveryFilter {
        network_id: q.uuid("network_id")?,
        status: q.text("status"),
        source: q.text("source"),
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| discoveries::list(c, &scope, &filter, page))
        .await?;
    Ok(list_response(&items, page, total))
}

/// The stored discovery, with live counters while this process runs it.
async fn load(state: &AppState, auth: &Auth, id: String) -> ApiResult<discoveries::Discovery> {
    let key = id.clone();
    let mut d = state.db.read(move |c| discoveries::get(c, &key)).await?;
    auth.check_network(&d.network_id)?;
    if let Some(live) = state.discoveries.get(&id) {
        d.progress = live.progress();
    }
    Ok(d)
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(&path, "id")?;
    Ok(envelope::ok(&load(&state, &auth, id).await?))
}

async fn cancel(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = parse_uuid(&path, "id")?;
    let d = load(&state, &auth, id.clone()).await?;
    if !matches!(d.status.as_str(), "queued" | "running") {
        return Err(ApiError::conflict("The discovery is not running")
            .with_param("status", d.status.as_str()));
    }
    discovery::cancel(&state.discoveries, &id);
    let d = discovery::settled(&state.db, &state.discoveries, &id, Duration::from_secs(5)).await?;
    Ok(envelope::ok(&d))
}

async fn apply(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = parse_uuid(&path, "id")?;
    load(&state, &auth, id.clone()).await?;
    Ok(envelope::ok(&discovery::apply(&state.db, &id).await?))
}

/// `GET /{id}/events`: `progress` events (at least one a second) while the discovery runs,
/// then one `finished` event with the object, then the stream ends.
async fn events(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(&path, "id")?;
    load(&state, &auth, id.clone()).await?;
    let stream = futures_util::stream::unfold(Some((state, id, true)), |step| async move {
        let (state, id, first) = step?;
        if !first {
            actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        }
        let key = id.clone();
        let d = match state.db.read(move |c| discoveries::get(c, &key)).await {
            Ok(d) => d,
            Err(e) => {
                let chunk = sse("error", &json!({"message": e.message}));
                return Some((Ok::<_, actix_web::Error>(chunk), None));
            }
        };
        if matches!(d.status.as_str(), "queued" | "running") {
            let progress = state
                .discoveries
                .get(&id)
                .map(|l| l.progress())
                .unwrap_or(d.progress);
            let event = sse(
                "progress",
                &json!({"status": d.status, "progress": progress}),
            );
            Some((Ok(event), Some((state, id, false))))
        } else {
            Some((
                Ok(sse(
                    "finished",
                    &serde_json::to_value(&d).unwrap_or_default(),
                )),
                None,
            ))
        }
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

fn sse(event: &str, data: &Value) -> web::Bytes {
    web::Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

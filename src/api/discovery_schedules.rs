//! `/api/v1/discovery-schedules`: scans that start on their own, every `interval_minutes`.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::input::{parse_uuid, JsonBody, QueryParams};
use super::write::{write_as, write_reply, Reply};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::discoveries::{self, Schedule};
use crate::discovery::schedules::{after_minutes, check};
use crate::discovery::ScanOptions;
use crate::domain::clock;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::envelope;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(base, [on(Method::GET, list), on(Method::POST, create)])
        .at(
            &format!("{base}/{{id}}"),
            [
                on(Method::GET, get),
                on(Method::PUT, update),
                on(Method::DELETE, delete),
            ],
        );
}

#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    #[schema(value_type = uuid::Uuid)]
    network_id: String,
    name: String,
    targets: Vec<String>,
    /// A list of numbers, a string like "1-1024,8096", or "catalog" (the default).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    ports: Option<Value>,
    #[serde(default)]
    options: Option<ScanOptions>,
    /// `apply` (default) or `plan`.
    #[serde(default)]
    mode: Option<String>,
    #[schema(minimum = 5)]
    interval_minutes: i64,
    #[serde(default)]
    enabled: Option<bool>,
}

impl ScheduleBody {
    /// The schedule this body describes, over `stored` (an update) or new.
    fn into_schedule(self, stored: Option<Schedule>) -> ApiResult<Schedule> {
        let now = clock::now();
        let network_id = parse_uuid(&self.network_id, "network_id")?;
        let name = Name::parse(&self.name, 100).map_err(|e| e.at("name"))?;
        let base = stored.unwrap_or_else(|| Schedule {
            id: crate::ops::new_id(),
            network_id: network_id.clone(),
            name: String::new(),
            targets: Vec::new(),
            ports: Value::Null,
            options: Value::Null,
            mode: String::new(),
            interval_minutes: 0,
            enabled: true,
            last_run_at: None,
            // A new schedule runs at once, then every interval.
            next_run_at: now.clone(),
            last_discovery_id: None,
            created_at: now.clone(),
            updated_at: now.clone(),
        });
        let next_run_at = match &base.last_run_at {
            Some(last) => after_minutes(last, self.interval_minutes),
            None => base.next_run_at.clone(),
        };
        crate::domain::discovery::check_target_count(&self.targets)?;
        Ok(Schedule {
            network_id,
            name: name.into_inner(),
            targets: self.targets,
            ports: self
                .ports
                .unwrap_or_else(|| Value::String("catalog".into())),
            options: serde_json::to_value(self.options.unwrap_or_default()).unwrap_or(Value::Null),
            mode: self.mode.unwrap_or_else(|| "apply".into()),
            interval_minutes: self.interval_minutes,
            enabled: self.enabled.unwrap_or(true),
            next_run_at,
            updated_at: now,
            ..base
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let network = q.uuid("network_id")?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| discoveries::list_schedules(c, &scope, network, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(&path, "id")?;
    let s = state
        .db
        .read(move |c| discoveries::get_schedule(c, &id))
        .await?;
    auth.check_network(&s.network_id)?;
    Ok(envelope::ok(&s))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let schedule = body.parse::<ScheduleBody>()?.into_schedule(None)?;
    auth.check_network(&schedule.network_id)?;
    let max = state.config.discovery_max_addresses as usize;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, _who| {
        check(tx, &schedule, max)?;
        discoveries::save_schedule(tx, &schedule)?;
        Ok(Reply::created(
            format!("/api/v1/discovery-schedules/{}", schedule.id),
            &schedule,
        ))
    })
    .await
}

async fn update(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = parse_uuid(&path, "id")?;
    let parsed = body.parse::<ScheduleBody>()?;
    let max = state.config.discovery_max_addresses as usize;
    let who = auth.0.clone();
    write_reply(&state, &req, auth.0, Some(&body), move |tx, _| {
        let stored = discoveries::get_schedule(tx, &id)?;
        who.check_network(&stored.network_id)?;
        let schedule = parsed.into_schedule(Some(stored))?;
        who.check_network(&schedule.network_id)?;
        check(tx, &schedule, max)?;
        discoveries::save_schedule(tx, &schedule)?;
        Ok(Reply::ok(&schedule))
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = parse_uuid(&path, "id")?;
    let who = auth.0.clone();
    write_as(&state, &req, auth.0, move |tx, _| {
        let stored = discoveries::get_schedule(tx, &id)?;
        who.check_network(&stored.network_id)?;
        discoveries::delete_schedule(tx, &id)
    })
    .await?;
    Ok(envelope::deleted())
}

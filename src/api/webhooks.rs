//! `/api/v1/webhooks`: hooks, their deliveries, a test ping and a retry. Role Admin throughout;
//! a key limited to networks sees and writes only hooks within its networks.

use crate::domain::outbound::Receivers;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::json;

use super::input::{parse_uuid, JsonBody, QueryParams};
use super::write::{write_as, write_reply, write_tagged, Reply};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::webhooks;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::webhooks::{visible, WebhookInput};
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
        )
        .at(
            &format!("{base}/{{id}}/deliveries"),
            [on(Method::GET, deliveries)],
        )
        .at(
            &format!("{base}/{{id}}/deliveries/{{delivery_id}}/retry"),
            [on(Method::POST, retry)],
        )
        .at(&format!("{base}/{{id}}/test"), [on(Method::POST, test)]);
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = WebhookInput)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// http:// or https://.
    url: String,
    /// Default `["*"]`.
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    network_ids: Option<Vec<String>>,
    /// `json` (default), `ntfy` or `discord`.
    #[serde(default)]
    format: Option<String>,
    /// Write-only, 16 to 256 characters; on update, left out keeps the stored one.
    #[serde(default)]
    #[schema(write_only, min_length = 16, max_length = 256)]
    secret: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "has_secret")]
    _has_secret: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "last_delivery_status")]
    _last_delivery_status: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "failing_since")]
    _failing_since: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

/// The body as a hook, its receiver's name resolved outside the writer and refused when it
/// points at an address no receiver may have.
async fn checked_input(state: &AppState, body: &JsonBody) -> ApiResult<WebhookInput> {
    let input = body
        .parse::<WebhookBody>()?
        .into_input(state.config.webhook_receivers.clone())?;
    let (receivers, url) = (input.receivers.clone(), input.url.clone());
    web::block(move || crate::delivery::check_receiver_name(&receivers, &url))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| e.at("url"))?;
    Ok(input)
}

impl WebhookBody {
    fn into_input(self, receivers: Receivers) -> ApiResult<WebhookInput> {
        let mut networks = Vec::new();
        for (i, n) in self.network_ids.unwrap_or_default().iter().enumerate() {
            let id = parse_uuid(n, &format!("network_ids[{i}]"))?;
            if !networks.contains(&id) {
                networks.push(id);
            }
        }
        Ok(WebhookInput {
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            url: self.url.trim().to_string(),
            events: self.events.unwrap_or_else(|| vec!["*".to_string()]),
            network_ids: networks,
            format: self.format.unwrap_or_else(|| "json".into()),
            secret: self.secret,
            enabled: self.enabled.unwrap_or(true),
            receivers,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let page = QueryParams::from_request(&req)?.page()?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| webhooks::list(c, &scope, page))
        .await?;
    Ok(list_response(&items, page, total))
}

/// The hook, if the caller may see it.
async fn load(state: &AppState, auth: &Auth, id: &str) -> ApiResult<webhooks::Webhook> {
    let id = parse_uuid(id, "id")?;
    let hook = state.db.read(move |c| webhooks::get(c, &id)).await?;
    if !visible(&auth.0, &hook) {
        return Err(ApiError::forbidden_scope(
            "This webhook is outside the key's networks",
        ));
    }
    Ok(hook)
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    Ok(envelope::ok_tagged(&load(&state, &auth, &path).await?))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let input = checked_input(&state, &body).await?;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let hook = crate::ops::webhooks::create(tx, who, input)?;
        Ok(Reply::created(
            format!("/api/v1/webhooks/{}", hook.id),
            &hook,
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
    let if_match = super::precondition::IfMatch::from_request(&req)?;
    let input = checked_input(&state, &body).await?;
    write_tagged(&state, &req, auth.0, Some(&body), move |tx, who| {
        let stored = webhooks::get(tx, &id)?;
        if visible(who, &stored) {
            super::precondition::check(if_match.as_ref(), &stored)?;
        }
        crate::ops::webhooks::update(tx, who, &id, input)
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
    write_as(&state, &req, auth.0, move |tx, who| {
        crate::ops::webhooks::delete(tx, who, &id)
    })
    .await?;
    Ok(envelope::deleted())
}

async fn deliveries(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let hook = load(&state, &auth, &path).await?;
    let page = QueryParams::from_request(&req)?.page()?;
    let (items, total) = state
        .db
        .read(move |c| webhooks::deliveries(c, &hook, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn retry(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let (hook_id, delivery_id) = path.into_inner();
    let hook = load(&state, &auth, &hook_id).await?;
    let delivery_id = parse_uuid(&delivery_id, "delivery_id")?;
    let d = write_as(&state, &req, auth.0, move |tx, _| {
        let d = webhooks::delivery(tx, &delivery_id)?;
        if d.webhook_id != hook.id {
            return Err(ApiError::not_found("Delivery"));
        }
        if d.status != "failed" {
            return Err(ApiError::conflict("Only a failed delivery can be retried")
                .with_param("status", d.status.as_str()));
        }
        webhooks::requeue(tx, &delivery_id, &crate::domain::clock::now())?;
        webhooks::delivery(tx, &delivery_id)
    })
    .await?;
    Ok(envelope::ok(&d))
}

/// Sends a `ping` now and answers with what the receiver said (not stored as a delivery).
async fn test(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let hook = load(&state, &auth, &path).await?;
    let id = hook.id.clone();
    let secret = state.db.read(move |c| webhooks::secret(c, &id)).await?;
    let timeout = Duration::from_millis(u64::from(state.config.webhook_timeout_ms));
    let receivers = state.config.webhook_receivers.clone();
    let event_id = crate::ops::new_id();
    let event = json!({"id": event_id, "type": "ping", "time": crate::domain::clock::now(),
                       "data": {"webhook_id": hook.id, "name": hook.name}});
    let sent = web::block(move || {
        crate::delivery::send(
            &receivers,
            &hook.url,
            &hook.format,
            secret.as_deref(),
            "ping",
            &event_id,
            &event,
            timeout,
        )
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(envelope::ok(&sent))
}

//! `/api/v1/changes`: the change journal, newest first.

use actix_web::{web, HttpRequest, HttpResponse};

use super::input::QueryParams;
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::changes::ChangeFilter;
use crate::domain::history::{Action, EntityType};
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::Method;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(base, [on(Method::GET, list)]);
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let entity_types = q
        .all("entity_type")
        .flat_map(|v| v.split(','))
        .filter(|v| !v.is_empty())
        .map(|v| {
            EntityType::parse(v)
                .map(|e| e.as_str().to_string())
                .ok_or_else(|| {
                    let names: Vec<&str> = EntityType::ALL.iter().map(|e| e.as_str()).collect();
                    ApiError::validation(
                        "entity_type",
                        format!("\"{v}\" is not one of {}", names.join(", ")),
                    )
                })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let action = q
        .one("action")
        .map(|v| {
            Action::parse(v).map(Action::as_str).ok_or_else(|| {
                ApiError::validation(
                    "action",
                    format!("\"{v}\" is not one of create, update, delete, import"),
                )
            })
        })
        .transpose()?;
    let hidden_types = if auth.role >= Role::Admin {
        Vec::new()
    } else {
        EntityType::ADMIN_ONLY.map(EntityType::as_str).to_vec()
    };
    let filter = ChangeFilter {
        entity_types,
        // Ids are UUIDs, but a service type's is its name: any non-empty text.
        entity_ids: q
            .all("entity_id")
            .flat_map(|v| v.split(','))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
        network_id: q.uuid("network_id")?,
        host_id: q.uuid("host_id")?,
        service_id: q.uuid("service_id")?,
        actor_id: q.uuid("actor_id")?,
        request_id: q.text("request_id"),
        action,
        since: q.instant("since")?,
        until: q.instant("until")?,
        hidden_types,
    };
    let scope = auth.scope();
    let (mut items, total) = state
        .db
        .read(move |c| crate::db::changes::list(c, &scope, &filter, page))
        .await?;
    if let Some(networks) = auth.scope() {
        items.iter_mut().for_each(|c| c.limit_to(&networks));
    }
    Ok(list_response(&items, page, total))
}

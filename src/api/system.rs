//! Liveness, readiness and version: no authentication.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::envelope::{self, API_VERSION, SERVER_VERSION};
use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;

/// Liveness: the process answers. Touches no database.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the database answers and its schema is migrated.
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let migrated = state
        .db
        .read(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM refinery_schema_history", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            )
        })
        .await
        .map_err(|e| {
            log::warn!("readiness check failed: {e}");
            ApiError::unavailable("The database is not ready")
        })?;
    if migrated == 0 {
        return Err(ApiError::unavailable("The database is not migrated"));
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

pub async fn version() -> HttpResponse {
    envelope::ok(&json!({"api_version": API_VERSION, "server_version": SERVER_VERSION}))
}

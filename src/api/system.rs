//! Liveness, readiness and version: no authentication.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::envelope::{self, API_VERSION};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Liveness: the process answers. Touches no database.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The peer's health answer, exactly: clients read `data` as the server's name and version.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": true,
        "data": format!("Portolan {}", envelope::server_version()),
        "error": null,
    }))
}

/// `GET /api/config`: what a client needs to know before it signs in. Accounts, registration
/// and single sign-on are not built yet, so registration and password sign-in are off and
/// there are no OpenID providers; the port is the one the server is bound to.
pub async fn config(state: web::Data<AppState>) -> HttpResponse {
    envelope::ok(&json!({
        "server_port": state.port,
        "public_url": state.config.public_url,
        "disable_registration": true,
        "disable_password_login": true,
        "oidc_providers": [],
        "deployment_type": "self-hosted",
        "has_integrated_daemon": false,
        "billing_enabled": false,
    }))
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
    envelope::ok(&json!({"api_version": API_VERSION, "server_version": envelope::server_version()}))
}

/// `GET /metrics`: Prometheus's text format. A Viewer key of every network (its counts cover
/// them all), unless `PORTOLAN_METRICS_PUBLIC`.
pub async fn metrics(
    state: web::Data<AppState>,
    auth: Option<crate::auth::Auth>,
) -> ApiResult<HttpResponse> {
    if !state.config.metrics_public {
        let auth = auth.ok_or_else(|| ApiError::unauthorized("A valid API key is required"))?;
        auth.require(crate::domain::role::Role::Viewer)?;
        if auth.0.is_scoped() {
            return Err(ApiError::forbidden_scope(
                "The metrics count every network: they need a key of every network",
            ));
        }
    }
    let (counts, backlog) = state
        .db
        .read(|c| {
            Ok((
                crate::db::entity_counts(c)?,
                crate::db::webhooks::backlog(c)?,
            ))
        })
        .await?;
    let m = crate::metrics::get();
    m.webhook_backlog.set(backlog);
    for (kind, n) in counts {
        m.entities.with_label_values(&[kind]).set(n);
    }
    let path = state.config.db_path();
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = path.with_extension("db-wal");
    m.database_bytes.set((size(&path) + size(&wal)) as i64);
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(m.render()))
}

/// The running executable's SHA-256 (hex, base64), computed once; the bytes are read per
/// download, not kept in memory.
fn own_checksum() -> ApiResult<&'static (String, String)> {
    static CHECKSUM: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    if let Some(c) = CHECKSUM.get() {
        return Ok(c);
    }
    use base64::Engine;
    use sha2::Digest;
    let path = std::env::current_exe().map_err(ApiError::internal)?;
    let mut file = std::fs::File::open(&path).map_err(ApiError::internal)?;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(ApiError::internal)?;
    let digest = hasher.finalize();
    let hex = crate::domain::token::hex(&digest);
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    Ok(CHECKSUM.get_or_init(|| (hex, b64)))
}

/// `GET /download/portolan`: this very executable, for `portolan agent` on another host of the
/// same architecture. No key: it holds no data, and the Agents page links to it. `HEAD` answers
/// the checksum alone.
pub async fn download(req: actix_web::HttpRequest) -> ApiResult<HttpResponse> {
    let head = req.method() == actix_web::http::Method::HEAD;
    let (bytes, (hex, b64)) = web::block(move || -> ApiResult<_> {
        let bytes = if head {
            Vec::new()
        } else {
            let path = std::env::current_exe().map_err(ApiError::internal)?;
            std::fs::read(path).map_err(ApiError::internal)?
        };
        Ok((bytes, own_checksum()?))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", "attachment; filename=\"portolan\""))
        .insert_header(("Digest", format!("sha-256={b64}")))
        .insert_header(("X-Portolan-Sha256", hex.as_str()))
        .insert_header((
            "X-Portolan-Architecture",
            format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        ))
        .body(bytes))
}

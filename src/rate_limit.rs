//! Token buckets: one per API key, and one per client IP address for requests without a valid
//! key. Every `/api/` response says where its bucket stands (`RateLimit`, `RateLimit-Policy`).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use crate::auth;
use crate::error::ApiError;
use crate::state::{AppState, Verdict};

fn set_headers(res: &mut ServiceResponse<BoxBody>, verdict: &Verdict) {
    for (name, value) in verdict.headers() {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
}

/// The API is limited; liveness, the API's description and the reference's assets are not.
fn is_limited(path: &str) -> bool {
    (path == "/api" || path.starts_with("/api/"))
        && path != "/api/openapi.json"
        && path != "/api/health"
        && !path.starts_with("/api/docs/")
}

/// Authenticates `/api/` requests once (the `Auth` extractor reuses the result), charges the
/// right bucket, and answers 429 when it is empty.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limits = state.as_ref().and_then(|s| s.limits.as_ref());
    let path = req.path();
    let Some(state) = state
        .as_ref()
        .filter(|_| limits.is_some() && is_limited(path))
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let limits = state.limits.as_ref().expect("checked above");

    let principal = match (
        auth::session_cookie(req.request()),
        auth::bearer(req.request()),
    ) {
        (Some(cookie), _) => auth::session_principal(state.clone(), cookie).await.ok(),
        (None, Ok(token)) => auth::authenticate(state.clone(), token).await.ok(),
        (None, Err(_)) => None,
    };
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let verdict = limits.check(principal.as_ref().map(|p| p.key_id.as_str()), &address);
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    let mut res = match verdict.retry_after {
        None => next.call(req).await?.map_into_boxed_body(),
        Some(retry_after) => {
            let (http_req, _) = req.into_parts();
            ServiceResponse::new(
                http_req,
                actix_web::HttpResponse::from_error(ApiError::rate_limited(retry_after)),
            )
            .map_into_boxed_body()
        }
    };
    set_headers(&mut res, &verdict);
    Ok(res)
}

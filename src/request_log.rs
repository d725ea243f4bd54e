//! Per-request bookkeeping: a `req_<ULID>` id on every response and in every error body, and one
//! access-log line per request.

use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use crate::error::{ApiError, ErrorCode};

/// Headers beyond this (names and values together) are refused with 431; the HTTP layer's own
/// ceiling (128 KiB, 96 headers) is far above what any client of this API sends.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The id of the request being served, readable from request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// Ids are monotonic within the process, so they sort in arrival order.
pub fn next_request_id() -> String {
    let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    format!("req_{id}")
}

/// Errors that do not come from our handlers (the framework's own) get the same JSON body.
fn foreign_error(status: StatusCode, method: &str, path: &str) -> ApiError {
    match status {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(ErrorCode::NotFound, format!("No route for {method} {path}"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::validation("body", "The request is too large").with_status(status)
        }
        s if s.is_client_error() => ApiError::new(ErrorCode::Validation, "Bad request"),
        s => ApiError::internal(format!("unhandled framework error with status {s}")),
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = next_request_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();

    let stopping = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| s.stopping.load(std::sync::atomic::Ordering::SeqCst));
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let res = if header_bytes > MAX_HEADER_BYTES {
        let (http_req, _) = req.into_parts();
        let err = ApiError::validation(
            "headers",
            format!("Request headers are larger than {MAX_HEADER_BYTES} bytes"),
        )
        .with_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        ServiceResponse::new(http_req, actix_web::HttpResponse::from_error(err))
    } else if stopping && path != "/healthz" && path != "/api/health" {
        let (http_req, _) = req.into_parts();
        ServiceResponse::new(
            http_req,
            actix_web::HttpResponse::from_error(ApiError::unavailable(
                "The server is shutting down",
            )),
        )
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let api_error = res
        .response()
        .error()
        .map(|e| match e.as_error::<ApiError>() {
            Some(api) => api.clone(),
            None => {
                let mut mapped = foreign_error(e.as_response_error().status_code(), &method, &path);
                mapped.cause.get_or_insert_with(|| e.to_string());
                mapped
            }
        });
    let mut res = match &api_error {
        Some(err) => {
            let (http_req, old) = res.into_parts();
            let mut fresh = err.render(Some(&id));
            // Keep what inner layers added (rate-limit headers), but not the old body's framing.
            for (name, value) in old.headers() {
                if name != header::CONTENT_TYPE
                    && name != header::CONTENT_LENGTH
                    && !fresh.headers().contains_key(name)
                {
                    fresh.headers_mut().insert(name.clone(), value.clone());
                }
            }
            ServiceResponse::new(http_req, fresh).map_into_boxed_body()
        }
        None => res.map_into_boxed_body(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }

    let elapsed = started.elapsed();
    let final_status = res.status();
    // By route template, never the raw path: one series per route, whatever the ids.
    let route = res.request().match_pattern();
    crate::metrics::get().observe_request(
        route.as_deref().unwrap_or("unmatched"),
        &method,
        final_status.as_u16(),
        elapsed,
    );
    let path = loggable(&path, route.as_deref());
    match &api_error {
        Some(err) if final_status.is_server_error() => log::error!(
            "{method} {path} {} {:.3}ms {id} error: {err}",
            final_status.as_u16(),
            elapsed.as_secs_f64() * 1000.0
        ),
        _ => log::info!(
            "{method} {path} {} {:.3}ms {id}",
            final_status.as_u16(),
            elapsed.as_secs_f64() * 1000.0
        ),
    }
    Ok(res)
}

/// The path as the log shows it: a path that carries a secret (a share's token, an invite's or a
/// password link's code) is logged as its route, so the log never holds what opens them.
fn loggable(path: &str, route: Option<&str>) -> String {
    match route {
        Some(r) if r.contains("{token}") || r.contains("{code}") => r.to_string(),
        _ if path.starts_with("/share/") => "/share/{token}".to_string(),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod loggable_tests {
    use super::loggable;

    #[test]
    fn paths_with_secrets_are_logged_as_their_route() {
        assert_eq!(
            loggable("/api/v1/shares/abc", Some("/api/v1/shares/{token}")),
            "/api/v1/shares/{token}"
        );
        assert_eq!(
            loggable(
                "/api/v1/auth/invites/c0de/accept",
                Some("/api/v1/auth/invites/{code}/accept")
            ),
            "/api/v1/auth/invites/{code}/accept"
        );
        assert_eq!(loggable("/share/abc", None), "/share/{token}");
        assert_eq!(
            loggable("/api/v1/hosts/1", Some("/api/v1/hosts/{id}")),
            "/api/v1/hosts/1"
        );
    }
}

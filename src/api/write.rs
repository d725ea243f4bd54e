//! Write responses, built inside the write transaction, and `Idempotency-Key` handling: the
//! stored response of an idempotent request commits or rolls back together with its write.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use rusqlite::Transaction;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::input::JsonBody;
use crate::db::idempotency::{self, Scope, Stored};
use crate::db::IDEMPOTENCY_RETENTION;
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::envelope;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ops::journal::Writer;
use crate::request_log::RequestId;
use crate::state::AppState;

/// A finished write's response: status, optional `Location`, JSON body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: Vec<u8>,
    /// The written object's new `ETag`, for a client's next conditional write.
    pub etag: Option<String>,
    /// What an idempotent replay answers instead of `body`, when `body` shows a secret that must
    /// not be stored.
    pub replay_body: Option<Vec<u8>>,
}

const SHOWN_ONCE: &str = "The secret was shown once, in the first answer to this request, and is not stored; rotate it for a new one";

impl Reply {
    pub fn ok<T: Serialize>(data: &T) -> Reply {
        Reply {
            status: StatusCode::OK,
            location: None,
            body: envelope::success_bytes(data, None),
            etag: None,
            replay_body: None,
        }
    }

    /// 200 with the object's `ETag` (the object serialized once for both).
    pub fn tagged<T: Serialize>(data: &T) -> Reply {
        let (body, etag) = envelope::tagged_bytes(data);
        Reply {
            status: StatusCode::OK,
            location: None,
            body,
            etag: Some(etag),
            replay_body: None,
        }
    }

    /// 200 with an `ETag` of the caller's choosing.
    pub fn with_etag(self, tag: String) -> Reply {
        Reply {
            etag: Some(tag),
            ..self
        }
    }

    /// This answer shows a secret once: a replay answers the same status with `redacted` (the data
    /// with the secret masked as everywhere else, `**********`) and a hint, and the secret is
    /// never stored.
    pub fn secret_shown_once<T: Serialize>(self, redacted: &T) -> Reply {
        Reply {
            replay_body: Some(envelope::success_bytes_with_hint(redacted, SHOWN_ONCE)),
            ..self
        }
    }

    /// 201 with a `Location` header naming the new object.
    pub fn created<T: Serialize>(location: String, data: &T) -> Reply {
        let (body, etag) = envelope::tagged_bytes(data);
        Reply {
            status: StatusCode::CREATED,
            location: Some(location),
            body,
            etag: Some(etag),
            replay_body: None,
        }
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder.insert_header((header::CONTENT_TYPE, "application/json"));
        if let Some(location) = self.location {
            builder.insert_header((header::LOCATION, location));
        }
        if let Some(tag) = self.etag {
            builder.insert_header((header::ETAG, tag));
        }
        if replayed {
            builder.insert_header(("Idempotent-Replayed", "true"));
        }
        builder.body(self.body)
    }
}

const HEADER: &str = "Idempotency-Key";

/// The `Idempotency-Key` header: 1-255 visible ASCII characters, optionally in double quotes.
fn header_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::validation(
            HEADER,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(invalid());
    }
    Ok(Some(key.to_string()))
}

/// JSON with object keys sorted and no whitespace, so that equal bodies fingerprint equally.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// SHA-256 over method, path and the canonical body (the raw bytes when they are not JSON).
pub fn fingerprint(method: &str, path: &str, body: Option<&[u8]>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    if let Some(bytes) = body {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => {
                let mut text = String::new();
                canonical(&value, &mut text);
                hasher.update(text.as_bytes());
            }
            Err(_) => hasher.update(bytes),
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 404 and 409 answers are deterministic for a given state, so a retry gets the same answer;
/// other errors may change when the client fixes the request, and are not kept.
fn is_stored(e: &ApiError) -> bool {
    matches!(e.code, ErrorCode::NotFound | ErrorCode::Conflict) && e.retry_after.is_none()
}

enum Outcome {
    Fresh(Reply),
    Earlier(Stored),
}

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// Runs `write` in one write transaction as `who`, journaled under this request's id.
pub async fn write_as<T, F>(
    state: &AppState,
    req: &HttpRequest,
    who: Principal,
    write: F,
) -> ApiResult<T>
where
    F: FnOnce(&Transaction, &Writer) -> ApiResult<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let request_id = request_id(req);
    state
        .db
        .write(move |tx| write(tx, &Writer::begin(tx, who, request_id)?))
        .await
}

/// Runs a write that answers the object it returns, with its `ETag`. Without an
/// `Idempotency-Key` the object is serialized after the commit, on the request's worker: the
/// writer is the one thread every write queues for, and building the answer there was 4% of a
/// service PUT's time on it. With a key the answer is stored with the write, so it is built inside.
pub async fn write_tagged<T, F>(
    state: &AppState,
    req: &HttpRequest,
    who: Principal,
    body: Option<&JsonBody>,
    write: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&Transaction, &Writer) -> ApiResult<T> + Clone + Send + 'static,
    T: Serialize + Send + 'static,
{
    if header_key(req)?.is_none() {
        let record = write_as(state, req, who, write).await?;
        return Ok(Reply::tagged(&record).into_response(false));
    }
    write_reply(state, req, who, body, move |tx, writer| {
        Ok(Reply::tagged(&write(tx, writer)?))
    })
    .await
}

/// Runs a write and answers with its `Reply`. With an `Idempotency-Key` the reply is stored in
/// the same transaction, a retry replays it, and a concurrent duplicate is refused.
pub async fn write_reply<F>(
    state: &AppState,
    req: &HttpRequest,
    who: Principal,
    body: Option<&JsonBody>,
    write: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&Transaction, &Writer) -> ApiResult<Reply> + Clone + Send + 'static,
{
    let Some(key) = header_key(req)? else {
        return Ok(write_as(state, req, who, write).await?.into_response(false));
    };
    let journal_request_id = request_id(req);
    let scope = Scope {
        api_key_id: who.key_id.clone(),
        method: req.method().to_string(),
        path: req.path().to_string(),
        key,
    };
    let print = fingerprint(&scope.method, &scope.path, body.and_then(JsonBody::raw));
    let _running = state.in_flight.enter(&scope)?;

    let (first_scope, first_print) = (scope.clone(), print.clone());
    let outcome = state
        .db
        .write(move |tx| {
            let not_before = clock::format(time::OffsetDateTime::now_utc() - IDEMPOTENCY_RETENTION);
            if let Some(stored) = idempotency::find(tx, &first_scope, &not_before)? {
                return Ok(Outcome::Earlier(stored));
            }
            let reply = write(tx, &Writer::begin(tx, who, journal_request_id)?)?;
            let stored = Stored {
                fingerprint: first_print,
                status: reply.status.as_u16(),
                location: reply.location.clone(),
                body: reply
                    .replay_body
                    .clone()
                    .unwrap_or_else(|| reply.body.clone()),
            };
            idempotency::insert(tx, &first_scope, &stored, &clock::now())?;
            Ok(Outcome::Fresh(reply))
        })
        .await;

    match outcome {
        Ok(Outcome::Fresh(reply)) => Ok(reply.into_response(false)),
        Ok(Outcome::Earlier(stored)) if stored.fingerprint == print => Ok(Reply {
            status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            location: stored.location,
            body: stored.body,
            etag: None,
            replay_body: None,
        }
        .into_response(true)),
        Ok(Outcome::Earlier(_)) => Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "This Idempotency-Key was used for a different request",
        )
        .with_field(HEADER)
        .with_hint("Use a new key for a new request")),
        Err(e) if is_stored(&e) => {
            // The write rolled back; its answer is kept so that a retry gets the same one.
            let request_id = request_id(req);
            let stored = Stored {
                fingerprint: print,
                status: e.http_status().as_u16(),
                location: None,
                body: serde_json::to_vec(&e.body(request_id.as_deref())).unwrap_or_default(),
            };
            let kept = state
                .db
                .write(move |tx| idempotency::insert(tx, &scope, &stored, &clock::now()))
                .await;
            if let Err(store_error) = kept {
                log::warn!("could not keep the idempotent response: {store_error}");
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_key_order_and_whitespace() {
        let a = fingerprint(
            "POST",
            "/x",
            Some(br#"{"b": 1, "a": {"d": [1, 2], "c": null}}"#),
        );
        let b = fingerprint("POST", "/x", Some(br#"{"a":{"c":null,"d":[1,2]},"b":1}"#));
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint("POST", "/y", Some(br#"{"a":{"c":null,"d":[1,2]},"b":1}"#))
        );
        assert_ne!(
            a,
            fingerprint("PUT", "/x", Some(br#"{"a":{"c":null,"d":[1,2]},"b":1}"#))
        );
        assert_ne!(
            a,
            fingerprint("POST", "/x", Some(br#"{"a":{"c":null,"d":[2,1]},"b":1}"#))
        );
    }
}

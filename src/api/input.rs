//! Reading requests: path ids, JSON bodies and query strings, each failure a precise 400.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::db::query::PageRequest;
use crate::db::versions::AsOf;
use crate::error::{ApiError, ApiResult};

pub const MAX_BODY_BYTES: usize = 1 << 20;
pub const MAX_PAGE_SIZE: u64 = 1000;
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// How large a path's bodies may be, where it is not `MAX_BODY_BYTES`: set beside its
/// `PayloadConfig` so that a refusal names the limit the caller hit.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    pub fn of(req: &HttpRequest) -> BodyLimit {
        req.app_data::<BodyLimit>()
            .copied()
            .unwrap_or(BodyLimit(MAX_BODY_BYTES))
    }

    pub fn described(self) -> String {
        format!("{} MiB", self.0 >> 20)
    }
}

/// Parses a UUID from a path segment or body value into its canonical lower-case form.
pub fn parse_uuid(s: &str, field: &str) -> ApiResult<String> {
    Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::validation(field, format!("\"{s}\" is not a valid UUID")))
}

/// The `{id}` of a path like `/api/v1/hosts/{id}`.
pub fn path_id(path: &web::Path<String>) -> ApiResult<String> {
    parse_uuid(path.as_str(), "id")
}

/// Why a body could not be read, as the API says it: too large (413), too slow (408, and the
/// connection is closed), or broken (400).
pub fn unreadable_body(e: &actix_web::Error, limit: &str) -> ApiError {
    let too_slow = e
        .as_error::<actix_web::error::PayloadError>()
        .is_some_and(crate::hardening::is_too_slow);
    if too_slow {
        return too_slow_body();
    }
    if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::validation("body", format!("The request body is larger than {limit}"))
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    } else {
        ApiError::validation("body", format!("Could not read the request body: {e}"))
    }
}

pub fn too_slow_body() -> ApiError {
    ApiError::validation(
        "body",
        format!(
            "The request body must arrive within {} seconds of its headers",
            crate::hardening::BODY_DEADLINE.as_secs()
        ),
    )
    .with_status(StatusCode::REQUEST_TIMEOUT)
}

/// A request body that should be JSON and fit in its path's limit (1 MiB unless the path says
/// otherwise with `BodyLimit`). Reading it never fails the extraction:
/// a problem is reported when the handler parses it, after authentication and role checks, so
/// that the error names what blocks the caller first.
pub struct JsonBody(Result<web::Bytes, ApiError>);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<JsonBody, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_string());
        let limit = BodyLimit::of(req).described();
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| unreadable_body(&e, &limit));
            let checked = bytes.and_then(|bytes| match content_type.as_deref() {
                Some(ct) if is_json(ct) => Ok(bytes),
                Some(ct) => Err(ApiError::validation(
                    "body",
                    format!("Content-Type must be application/json, not \"{ct}\""),
                )),
                None => Err(ApiError::validation(
                    "body",
                    "Content-Type must be application/json",
                )),
            });
            Ok(JsonBody(checked))
        })
    }
}

impl JsonBody {
    fn bytes(&self) -> ApiResult<&[u8]> {
        self.0.as_ref().map(|b| b.as_ref()).map_err(Clone::clone)
    }

    /// Deserializes a JSON object into `T`, naming the offending input path
    /// (`bindings[1].port_id`) on failure.
    pub fn parse<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let bytes = self.bytes()?;
        let starts_as_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !starts_as_object {
            // serde would read a struct from an array; the API takes objects only.
            parse_json::<serde_json::Value>(bytes)?;
            return Err(ApiError::validation(
                "body",
                "The request body must be a JSON object",
            ));
        }
        parse_json(bytes)
    }

    /// The body as received, when it could be read and claims to be JSON.
    pub fn raw(&self) -> Option<&[u8]> {
        self.0.as_ref().ok().map(|b| b.as_ref())
    }

    /// Deserializes any JSON shape (bulk deletes take an array).
    pub fn parse_any<T: DeserializeOwned>(&self) -> ApiResult<T> {
        parse_json(self.bytes()?)
    }
}

fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

fn join_path(base: &str, name: &str) -> String {
    if base.is_empty() || base == "." {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

/// One entry of a list in a body (`services[1]`), parsed like a body of its own, its errors
/// located under `at` (an error on the whole entry names the entry).
pub fn parse_entry<T: DeserializeOwned>(entry: &serde_json::Value, at: &str) -> ApiResult<T> {
    let bytes = serde_json::to_vec(entry).map_err(ApiError::internal)?;
    parse_json(&bytes).map_err(|e| {
        if e.field.as_deref() == Some("body") {
            e.with_field(at)
        } else {
            e.under(at)
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match result {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let message = strip_position(&inner.to_string()).to_string();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::validation(
                    "body",
                    format!("Malformed JSON: {message}"),
                ));
            }
            let at_root = path.is_empty() || path == ".";
            let field = if message.starts_with("missing field")
                || (message.starts_with("unknown field") && at_root)
            {
                join_path(&path, backticked(&message).unwrap_or(""))
            } else if at_root {
                "body".to_string()
            } else {
                path
            };
            let message = if message.starts_with("unknown field") {
                format!("Unknown field \"{field}\"")
            } else if message.starts_with("missing field") {
                format!("Field \"{field}\" is required")
            } else {
                format!("Invalid value for \"{field}\": {message}")
            };
            return Err(ApiError::validation(field, message));
        }
    };
    de.end().map_err(|e| {
        ApiError::validation(
            "body",
            format!("Malformed JSON: {}", strip_position(&e.to_string())),
        )
    })?;
    Ok(value)
}

/// A request body of a versioned resource: the struct as written, plus the six temporal fields
/// of seed 002 (and `stale`), which clients send back from what they read and the server ignores (they are
/// read-only). Use inside a module that imports `serde::de::IgnoredAny`.
macro_rules! versioned_body {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($fields)*
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "valid_from")]
            _valid_from: IgnoredAny,
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "valid_to")]
            _valid_to: IgnoredAny,
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "lineage_id")]
            _lineage_id: IgnoredAny,
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "first_discovery_id")]
            _first_discovery_id: IgnoredAny,
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "last_discovery_id")]
            _last_discovery_id: IgnoredAny,
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "last_seen_at")]
            _last_seen_at: IgnoredAny,
            #[schema(read_only, value_type = Value)]
            #[serde(default, rename = "stale")]
            _stale: IgnoredAny,
        }
    };
}
pub(crate) use versioned_body;

/// The query string as decoded pairs; repeated keys (`ids=a&ids=b`) keep every value.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn from_request(req: &HttpRequest) -> ApiResult<QueryParams> {
        serde_urlencoded::from_str(req.query_string())
            .map(QueryParams)
            .map_err(|e| ApiError::validation("query", format!("Malformed query string: {e}")))
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self, key: &str) -> Option<String> {
        self.one(key).map(str::to_string)
    }

    pub fn uuid(&self, key: &str) -> ApiResult<Option<String>> {
        self.one(key).map(|v| parse_uuid(v, key)).transpose()
    }

    /// Every value of a repeated key; comma-separated values are accepted too.
    pub fn uuids(&self, key: &str) -> ApiResult<Vec<String>> {
        self.all(key)
            .flat_map(|v| v.split(','))
            .filter(|v| !v.is_empty())
            .map(|v| parse_uuid(v, key))
            .collect()
    }

    /// A boolean parameter that may be absent.
    pub fn opt_flag(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.one(key) {
            None => Ok(None),
            Some(_) => self.flag(key).map(Some),
        }
    }

    pub fn flag(&self, key: &str) -> ApiResult<bool> {
        match self.one(key) {
            None => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some("false") | Some("0") => Ok(false),
            Some(other) => Err(ApiError::validation(
                key,
                format!("\"{other}\" is not a boolean (true or false)"),
            )),
        }
    }

    fn count(&self, key: &str) -> ApiResult<Option<u64>> {
        self.one(key)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::validation(key, format!("\"{v}\" is not a non-negative whole number"))
                })
            })
            .transpose()
    }

    /// `limit` (default 50, clamped to 1000, 0 = all) and `offset` (default 0).
    pub fn page(&self) -> ApiResult<PageRequest> {
        let limit = match self.count("limit")? {
            None => Some(DEFAULT_PAGE_SIZE),
            Some(0) => None,
            Some(n) => Some(n.min(MAX_PAGE_SIZE)),
        };
        Ok(PageRequest {
            limit,
            // SQLite's OFFSET is a signed 64-bit integer; past its end every page is empty anyway.
            offset: self.count("offset")?.unwrap_or(0).min(i64::MAX as u64),
        })
    }

    /// `order_by` from `allowed` (default `created_at`) and `order_direction` (`asc|desc`).
    pub fn order(&self, alias: &str, allowed: &[&str]) -> ApiResult<String> {
        let column = match self.one("order_by") {
            None => "created_at",
            Some(c) => allowed.iter().copied().find(|a| *a == c).ok_or_else(|| {
                ApiError::validation(
                    "order_by",
                    format!("\"{c}\" is not one of {}", allowed.join(", ")),
                )
            })?,
        };
        let descending = match self.one("order_direction") {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ApiError::validation(
                    "order_direction",
                    format!("\"{other}\" is not one of asc, desc"),
                ))
            }
        };
        Ok(crate::db::query::order_sql(alias, column, descending))
    }

    /// An RFC 3339 instant, normalised to the stored form (UTC, microseconds) so that it
    /// compares with stored times as text.
    pub fn instant(&self, key: &str) -> ApiResult<Option<String>> {
        self.one(key)
            .map(|v| {
                // An unencoded `+` of an offset arrives as a space: read it as the `+` it was.
                crate::domain::clock::parse_rfc3339(v)
                    .or_else(|| crate::domain::clock::parse_rfc3339(&v.replace(' ', "+")))
                    .map(crate::domain::clock::format)
                    .ok_or_else(|| {
                        ApiError::validation(
                            key,
                            format!(
                                "\"{v}\" is not an RFC 3339 instant, e.g. 2026-01-15T10:30:00Z"
                            ),
                        )
                    })
            })
            .transpose()
    }

    /// `at`: the live state without it, the state at that instant with it. An instant after
    /// now reads like now (no version ends in the future).
    pub fn as_of(&self) -> ApiResult<AsOf> {
        Ok(match self.instant("at")? {
            None => AsOf::Live,
            Some(at) => AsOf::At(at),
        })
    }

    /// A closed-set filter value, checked with the domain parser.
    pub fn parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> crate::domain::Parsed<T>,
    ) -> ApiResult<Option<T>> {
        self.one(key)
            .map(|v| parse(v).map_err(|e| e.at(key)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        port_id: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        #[serde(default)]
        bindings: Vec<Inner>,
    }

    fn field_of(json: &str) -> String {
        parse_json::<Outer>(json.as_bytes())
            .unwrap_err()
            .field
            .clone()
            .unwrap()
    }

    #[test]
    fn errors_name_the_input_path() {
        assert_eq!(field_of("{"), "body");
        assert_eq!(field_of("[]"), "body");
        assert_eq!(field_of("{}"), "name");
        assert_eq!(field_of(r#"{"name": 5}"#), "name");
        assert_eq!(field_of(r#"{"name": null}"#), "name");
        assert_eq!(field_of(r#"{"name": "a", "nope": 1}"#), "nope");
        assert_eq!(
            field_of(r#"{"name": "a", "bindings": [{"port_id": "x"}, {"port_id": 3}]}"#),
            "bindings[1].port_id"
        );
        assert_eq!(
            field_of(r#"{"name": "a", "bindings": [{"port_id": "x", "extra": 1}]}"#),
            "bindings[0].extra"
        );
        assert_eq!(
            field_of(r#"{"name": "a", "bindings": [{}]}"#),
            "bindings[0].port_id"
        );
        assert_eq!(field_of(r#"{"name": "a"} trailing"#), "body");
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}

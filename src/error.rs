//! The one error type of every layer, rendered as the spec's error envelope.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::envelope::Meta;

/// The stable, machine-readable error codes of `api.md`. Each maps to exactly one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Validation,
    ReadonlyField,
    Unauthorized,
    ForbiddenRole,
    ForbiddenScope,
    /// A write authenticated by a session cookie without the session's CSRF token.
    ForbiddenCsrf,
    NotFound,
    Conflict,
    IdempotencyKeyReused,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    Internal,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::Validation,
        ErrorCode::ReadonlyField,
        ErrorCode::Unauthorized,
        ErrorCode::ForbiddenRole,
        ErrorCode::ForbiddenScope,
        ErrorCode::ForbiddenCsrf,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::PreconditionFailed,
        ErrorCode::RateLimited,
        ErrorCode::ServiceUnavailable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "VALIDATION_ERROR",
            ErrorCode::ReadonlyField => "READONLY_FIELD",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::ForbiddenRole => "FORBIDDEN_ROLE",
            ErrorCode::ForbiddenScope => "FORBIDDEN_SCOPE",
            ErrorCode::ForbiddenCsrf => "FORBIDDEN_CSRF",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ErrorCode::PreconditionFailed => "PRECONDITION_FAILED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Validation => StatusCode::BAD_REQUEST,
            ErrorCode::ReadonlyField => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::ForbiddenRole => StatusCode::FORBIDDEN,
            ErrorCode::ForbiddenScope => StatusCode::FORBIDDEN,
            ErrorCode::ForbiddenCsrf => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::IdempotencyKeyReused => StatusCode::CONFLICT,
            ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error on its way to the client. Boxed so that `Result<T, ApiError>` stays small.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorDetails>);

/// The parts of an error; `cause` is logged, never sent.
#[derive(Debug, Clone)]
pub struct ErrorDetails {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    pub hint: Option<String>,
    pub params: Map<String, Value>,
    /// Top-level properties beyond the standard ones (`required_role`, `retryAfter`).
    pub extra: Map<String, Value>,
    /// Overrides the status the code maps to; only for 413 (an oversize body is a VALIDATION_ERROR).
    pub status_override: Option<StatusCode>,
    /// Seconds after which a retry may succeed: the `Retry-After` header.
    pub retry_after: Option<u64>,
    pub cause: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorDetails {
            code,
            message: message.into(),
            field: None,
            hint: None,
            params: Map::new(),
            extra: Map::new(),
            status_override: None,
            retry_after: None,
            cause: None,
        }))
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message).with_field(field)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden_role(required: &str) -> Self {
        let mut e = Self::new(
            ErrorCode::ForbiddenRole,
            format!("This action requires the {required} role"),
        );
        e.extra.insert("required_role".into(), json!(required));
        e.params.insert("required_role".into(), json!(required));
        e
    }

    pub fn forbidden_scope(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ForbiddenScope, message)
    }

    /// 503 with `Retry-After: 1`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorCode::ServiceUnavailable, message);
        e.retry_after = Some(1);
        e
    }

    /// 429 with `Retry-After` and the `retryAfter` property.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(ErrorCode::RateLimited, "Too many requests; slow down")
            .with_hint(format!("Retry after {retry_after_secs} s"));
        e.retry_after = Some(retry_after_secs);
        e.extra.insert("retryAfter".into(), json!(retry_after_secs));
        e
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(ErrorCode::Internal, "Internal Server Error");
        e.cause = Some(cause.to_string());
        e
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_param(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.params.insert(key.to_string(), value.into());
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status_override = Some(status);
        self
    }

    /// Prefixes the field path, so that an element validator's `port_id` becomes `bindings[1].port_id`.
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = Some(match self.field.take() {
            Some(f) if f.starts_with('[') => format!("{prefix}{f}"),
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_string(),
        });
        self
    }

    pub fn http_status(&self) -> StatusCode {
        self.status_override.unwrap_or(self.code.status())
    }

    /// The error body of `api.md`. 5xx bodies carry no detail beyond their reason.
    pub fn body(&self, request_id: Option<&str>) -> Value {
        let mut body = Map::new();
        body.insert("success".into(), json!(false));
        body.insert("code".into(), json!(self.code.as_str()));
        body.insert("message".into(), json!(self.message));
        body.insert("error".into(), json!(self.message));
        if let Some(f) = &self.field {
            body.insert("field".into(), json!(f));
        }
        if let Some(h) = &self.hint {
            body.insert("hint".into(), json!(h));
        }
        body.insert("params".into(), Value::Object(self.params.clone()));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        body.insert("requestId".into(), json!(request_id));
        body.insert(
            "meta".into(),
            serde_json::to_value(Meta::current()).unwrap_or(Value::Null),
        );
        Value::Object(body)
    }

    pub fn render(&self, request_id: Option<&str>) -> HttpResponse {
        let mut res = HttpResponse::build(self.http_status());
        match self.code {
            ErrorCode::Unauthorized => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ErrorCode::ForbiddenScope => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer error=\"insufficient_scope\"",
                ));
            }
            ErrorCode::Validation
            | ErrorCode::ReadonlyField
            | ErrorCode::ForbiddenRole
            | ErrorCode::ForbiddenCsrf
            | ErrorCode::NotFound
            | ErrorCode::Conflict
            | ErrorCode::IdempotencyKeyReused
            | ErrorCode::PreconditionFailed
            | ErrorCode::RateLimited
            | ErrorCode::ServiceUnavailable
            | ErrorCode::Internal => {}
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.body(request_id))
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.http_status()
    }

    /// Rendered without a request id; the request-id middleware renders it again with one.
    fn error_response(&self) -> HttpResponse {
        self.render(None)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_out_of_the_body() {
        let e = ApiError::internal("no such column: SELECT secret FROM api_keys");
        let body = e.body(Some("req_1")).to_string();
        assert!(body.contains("Internal Server Error"));
        assert!(
            !body.contains("SELECT") && !body.contains("secret"),
            "{body}"
        );
        assert!(
            e.to_string().contains("SELECT"),
            "the cause is kept for the log"
        );
        assert_eq!(e.http_status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn every_code_has_its_status() {
        let table = [
            (ErrorCode::Validation, 400),
            (ErrorCode::ReadonlyField, 422),
            (ErrorCode::Unauthorized, 401),
            (ErrorCode::ForbiddenRole, 403),
            (ErrorCode::ForbiddenScope, 403),
            (ErrorCode::NotFound, 404),
            (ErrorCode::Conflict, 409),
            (ErrorCode::IdempotencyKeyReused, 409),
            (ErrorCode::PreconditionFailed, 412),
            (ErrorCode::RateLimited, 429),
            (ErrorCode::ServiceUnavailable, 503),
            (ErrorCode::Internal, 500),
        ];
        for (code, status) in table {
            assert_eq!(code.status().as_u16(), status, "{}", code.as_str());
        }
    }

    #[test]
    fn retry_after_and_extra_properties_render() {
        let res = ApiError::rate_limited(3).render(Some("req_1"));
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "3");
        let body = ApiError::rate_limited(3).body(None);
        assert_eq!(body["retryAfter"], json!(3));
        assert_eq!(body["code"], json!("RATE_LIMITED"));
        let unavailable = ApiError::unavailable("busy").render(None);
        assert_eq!(unavailable.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }
}

//! Optimistic concurrency: `If-Match` on writes against the `ETag` that single-object reads
//! answer, and the peer's `expected_updated_at`. Both are checked inside the write
//! transaction, against the state the write would change, so no other write can slip between
//! the check and the change.

use actix_web::http::header;
use actix_web::HttpRequest;
use serde::Serialize;

use crate::envelope::etag_of;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// The tags an `If-Match` header accepts; `Any` is `*` (the object must exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Tags(Vec<String>),
}

impl IfMatch {
    /// The request's `If-Match`, if it has one. A header that is not a list of quoted tags is
    /// a 400 on the header, so that a typo is not mistaken for "someone changed it".
    pub fn from_request(req: &HttpRequest) -> ApiResult<Option<IfMatch>> {
        if !req.headers().contains_key(header::IF_MATCH) {
            return Ok(None);
        }
        let mut tags = Vec::new();
        let mut any = false;
        for value in req.headers().get_all(header::IF_MATCH) {
            let text = value.to_str().map_err(|_| malformed())?;
            for item in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if item == "*" {
                    any = true;
                } else if is_entity_tag(item) {
                    tags.push(item.to_string());
                } else {
                    return Err(malformed());
                }
            }
        }
        if any {
            Ok(Some(IfMatch::Any))
        } else if tags.is_empty() {
            Err(malformed())
        } else {
            Ok(Some(IfMatch::Tags(tags)))
        }
    }

    /// Strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    pub fn check<T: Serialize>(&self, current: &T) -> ApiResult<()> {
        let IfMatch::Tags(tags) = self else {
            return Ok(());
        };
        let tag = etag_of(current);
        if tags.contains(&tag) {
            return Ok(());
        }
        Err(failed(tag))
    }
}

/// The 412 for a write whose `If-Match` names a state the object no longer has.
pub fn failed(current: String) -> ApiError {
    ApiError::new(
        ErrorCode::PreconditionFailed,
        "The object changed since it was read",
    )
    .with_field("If-Match")
    .with_param("etag", current)
    .with_hint("Reload the object, reapply your change and send its new ETag")
}

fn is_entity_tag(item: &str) -> bool {
    let opaque = item.strip_prefix("W/").unwrap_or(item);
    opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && !opaque[1..opaque.len() - 1].contains('"')
}

fn malformed() -> ApiError {
    ApiError::validation(
        "If-Match",
        "If-Match must be * or a list of quoted entity tags",
    )
    .with_hint("Send the ETag header of your last read, quotes included")
}

/// Checks a client's `If-Match` (when given) against the stored object, inside the write.
pub fn check<T: Serialize>(if_match: Option<&IfMatch>, current: &T) -> ApiResult<()> {
    match if_match {
        Some(m) => m.check(current),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn parse(values: &[&str]) -> ApiResult<Option<IfMatch>> {
        let mut req = TestRequest::default();
        for v in values {
            req = req.append_header((header::IF_MATCH, *v));
        }
        IfMatch::from_request(&req.to_http_request())
    }

    #[test]
    fn parses_lists_stars_and_refuses_garbage() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(parse(&["*"]).unwrap(), Some(IfMatch::Any));
        assert_eq!(
            parse(&["\"a\", W/\"b\"", "\"c\""]).unwrap(),
            Some(IfMatch::Tags(vec![
                "\"a\"".into(),
                "W/\"b\"".into(),
                "\"c\"".into()
            ]))
        );
        for bad in ["abc", "\"a", "", "\"a\"b\""] {
            let e = parse(&[bad]).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("If-Match"), "{bad}");
        }
    }

    #[test]
    fn strong_comparison_only() {
        let data = serde_json::json!({"id": 1});
        let tag = etag_of(&data);
        assert!(IfMatch::Tags(vec![tag.clone()]).check(&data).is_ok());
        let weak = IfMatch::Tags(vec![format!("W/{tag}")]);
        assert_eq!(
            weak.check(&data).unwrap_err().code,
            ErrorCode::PreconditionFailed
        );
        assert!(IfMatch::Any.check(&data).is_ok());
    }
}

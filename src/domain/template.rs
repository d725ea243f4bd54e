//! Service templates (seed 003): the writable fields, their rules, and JSON Merge Patch parsing
//! in the order the spec prescribes (read-only, then unknown, then types and ranges).

use serde_json::{Map, Value};

use super::compose;
use super::text::Name;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// A field in a merge patch: absent (unchanged), `null` (cleared) or a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Set(T),
}

impl<T> Patch<T> {
    /// The new value given the stored one.
    pub fn apply(self, stored: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => stored,
            Patch::Null => None,
            Patch::Set(v) => Some(v),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployStrategy {
    Sequential,
    Parallel,
}

impl DeployStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployStrategy::Sequential => "sequential",
            DeployStrategy::Parallel => "parallel",
        }
    }

    pub fn parse(s: &str) -> Option<DeployStrategy> {
        match s {
            "sequential" => Some(DeployStrategy::Sequential),
            "parallel" => Some(DeployStrategy::Parallel),
            _ => None,
        }
    }
}

/// The parsed body of a template POST or PATCH. Non-nullable fields are `Option` (absent or set);
/// nullable ones are `Patch`.
#[derive(Debug, Clone, Default)]
pub struct TemplatePatch {
    pub name: Option<Name>,
    pub container_image_id: Option<String>,
    pub image_tag: Option<String>,
    pub compose_template: Patch<String>,
    pub health_check_url: Patch<String>,
    pub base_env: Patch<Map<String, Value>>,
    pub deploy_strategy: Option<DeployStrategy>,
    pub service_type_id: Patch<String>,
    pub health_wait_ms: Option<i64>,
    pub health_retries: Option<i64>,
    pub health_interval_ms: Option<i64>,
}

impl TemplatePatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.container_image_id.is_none()
            && self.image_tag.is_none()
            && self.compose_template.is_absent()
            && self.health_check_url.is_absent()
            && self.base_env.is_absent()
            && self.deploy_strategy.is_none()
            && self.service_type_id.is_absent()
            && self.health_wait_ms.is_none()
            && self.health_retries.is_none()
            && self.health_interval_ms.is_none()
    }
}

pub const DEFAULT_IMAGE_TAG: &str = "latest";
pub const DEFAULT_HEALTH_WAIT_MS: i64 = 30_000;
pub const DEFAULT_HEALTH_RETRIES: i64 = 3;
pub const DEFAULT_HEALTH_INTERVAL_MS: i64 = 5_000;

const READ_ONLY: [(&str, &str); 5] = [
    ("id", "The id is assigned by the server when the template is created and never changes."),
    ("createdAt", "Timestamps are kept by the server."),
    ("updatedAt", "Timestamps are kept by the server; every accepted change updates it."),
    (
        "exposedPorts",
        "Exposed ports are derived from the compose template's ports mapping. Change the ports mapping in composeTemplate instead.",
    ),
    (
        "composePath",
        "The compose path is derived from the template id (stacks/<id>/compose.yaml) and cannot be chosen.",
    ),
];

const WRITABLE: [&str; 11] = [
    "name",
    "containerImageId",
    "imageTag",
    "composeTemplate",
    "healthCheckUrl",
    "baseEnv",
    "deployStrategy",
    "serviceTypeId",
    "healthWaitMs",
    "healthRetries",
    "healthIntervalMs",
];

/// `verb` completes "cannot be set via ..." (`PATCH` or `POST`).
fn check_read_only(body: &Map<String, Value>, verb: &str) -> ApiResult<()> {
    let offenders: Vec<&str> = body
        .keys()
        .filter_map(|k| {
            READ_ONLY
                .iter()
                .find(|(name, _)| name == k)
                .map(|(name, _)| *name)
        })
        .collect();
    let Some(first) = offenders.first() else {
        return Ok(());
    };
    let quoted: Vec<String> = offenders.iter().map(|o| format!("\"{o}\"")).collect();
    let message = if offenders.len() == 1 {
        format!(
            "Field {} is read-only and cannot be set via {verb}.",
            quoted[0]
        )
    } else {
        format!(
            "Fields {} are read-only and cannot be set via {verb}.",
            quoted.join(", ")
        )
    };
    let hint = READ_ONLY
        .iter()
        .find(|(name, _)| name == first)
        .map(|(_, h)| *h)
        .unwrap_or("");
    Err(ApiError::new(ErrorCode::ReadonlyField, message)
        .with_field(*first)
        .with_hint(hint)
        .with_param("fields", offenders))
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::validation(
        field,
        format!("Invalid value for \"{field}\": {}", message.into()),
    )
}

fn string<'a>(field: &str, v: &'a Value) -> ApiResult<&'a str> {
    v.as_str().ok_or_else(|| invalid(field, "must be a string"))
}

fn not_null<'a>(field: &str, v: &'a Value) -> ApiResult<&'a Value> {
    if v.is_null() {
        Err(invalid(field, "cannot be null"))
    } else {
        Ok(v)
    }
}

fn integer(field: &str, v: &Value, min: i64, max: i64) -> ApiResult<i64> {
    let n = not_null(field, v)?
        .as_i64()
        .ok_or_else(|| invalid(field, "must be a whole number"))?;
    if n < min || n > max {
        return Err(invalid(field, format!("must be between {min} and {max}")));
    }
    Ok(n)
}

/// An image reference without tag or digest: `lscr.io/linuxserver/jellyfin`, `registry:5000/app`.
pub fn check_image_id(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace");
    }
    if s.contains('@') {
        return Err("must not contain a digest (@...)");
    }
    let last = s.rsplit('/').next().unwrap_or(s);
    if last.contains(':') {
        return Err("must not contain a tag; put it in imageTag");
    }
    if s.starts_with('/') || s.ends_with('/') || s.contains("//") {
        return Err("is not an image reference");
    }
    Ok(())
}

pub fn check_image_tag(s: &str) -> Result<(), &'static str> {
    let valid_chars = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if s.is_empty() || s.len() > 128 || !valid_chars {
        return Err("must be 1 to 128 characters of A-Z, a-z, 0-9, _, . and -");
    }
    if s.starts_with('.') || s.starts_with('-') {
        return Err("must not start with . or -");
    }
    Ok(())
}

/// An absolute http(s) URL; `${VAR}` placeholders are allowed anywhere.
pub fn check_health_url(s: &str) -> Result<(), &'static str> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or("must be an absolute http or https URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || s.chars().any(char::is_whitespace) {
        return Err("must be an absolute http or https URL with a host");
    }
    Ok(())
}

fn is_env_key(k: &str) -> bool {
    let mut chars = k.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a body in the spec's order: object (400 `body`), read-only fields (422), unknown fields
/// (400), then each field's type and range (400 with `field`). `verb` is `PATCH` or `POST`.
pub fn parse_patch(body: &Value, verb: &str) -> ApiResult<TemplatePatch> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::validation("body", "The request body must be a JSON object"))?;
    check_read_only(object, verb)?;
    if let Some(unknown) = object.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(
            ApiError::validation(unknown.as_str(), format!("Unknown field \"{unknown}\""))
                .with_hint(format!("Writable fields: {}", WRITABLE.join(", "))),
        );
    }
    let mut patch = TemplatePatch::default();
    for (key, v) in object {
        let field = key.as_str();
        match field {
            "name" => {
                let s = string(field, not_null(field, v)?)?;
                patch.name = Some(Name::parse(s, 100).map_err(|e| e.at(field))?);
            }
            "containerImageId" => {
                let s = string(field, not_null(field, v)?)?;
                check_image_id(s).map_err(|m| invalid(field, m))?;
                patch.container_image_id = Some(s.to_string());
            }
            "imageTag" => {
                let s = string(field, not_null(field, v)?)?;
                check_image_tag(s).map_err(|m| invalid(field, m))?;
                patch.image_tag = Some(s.to_string());
            }
            "composeTemplate" => {
                patch.compose_template = match v {
                    Value::Null => Patch::Null,
                    v => {
                        let text = string(field, v)?;
                        // It must be YAML with services whatever the environment fills in; the
                        // merged template is checked again with its final environment.
                        let env = object
                            .get("baseEnv")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default();
                        compose::exposed_ports(text, &env).map_err(|e| e.at(field))?;
                        Patch::Set(text.to_string())
                    }
                };
            }
            "healthCheckUrl" => {
                patch.health_check_url = match v {
                    Value::Null => Patch::Null,
                    v => {
                        let s = string(field, v)?;
                        check_health_url(s).map_err(|m| invalid(field, m))?;
                        Patch::Set(s.to_string())
                    }
                };
            }
            "baseEnv" => {
                patch.base_env = match v {
                    Value::Null => Patch::Null,
                    Value::Object(map) => {
                        for (k, value) in map {
                            let at = format!("baseEnv.{k}");
                            if !is_env_key(k) {
                                return Err(invalid(&at, "keys must match [A-Za-z_][A-Za-z0-9_]*"));
                            }
                            if !value.is_string() {
                                return Err(invalid(&at, "values must be strings"));
                            }
                        }
                        Patch::Set(map.clone())
                    }
                    _ => {
                        return Err(invalid(
                            field,
                            "must be an object of string values, or null",
                        ))
                    }
                };
            }
            "deployStrategy" => {
                let s = string(field, not_null(field, v)?)?;
                patch.deploy_strategy = Some(
                    DeployStrategy::parse(s)
                        .ok_or_else(|| invalid(field, "must be \"sequential\" or \"parallel\""))?,
                );
            }
            "serviceTypeId" => {
                patch.service_type_id = match v {
                    Value::Null => Patch::Null,
                    v => Patch::Set(string(field, v)?.to_string()),
                };
            }
            "healthWaitMs" => patch.health_wait_ms = Some(integer(field, v, 0, 3_600_000)?),
            "healthRetries" => patch.health_retries = Some(integer(field, v, 1, 100)?),
            "healthIntervalMs" => patch.health_interval_ms = Some(integer(field, v, 0, 3_600_000)?),
            _ => unreachable!("unknown fields were refused above"),
        }
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value) -> ApiError {
        parse_patch(&body, "PATCH").unwrap_err()
    }

    #[test]
    fn read_only_fields_come_first_in_body_order() {
        let e =
            err(json!({"healthRetries": 0, "unknown": 1, "composePath": "x", "exposedPorts": []}));
        assert_eq!(e.code, ErrorCode::ReadonlyField);
        assert_eq!(e.field.as_deref(), Some("composePath"));
        assert!(
            e.message.contains("\"composePath\", \"exposedPorts\""),
            "{}",
            e.message
        );
        assert!(e.hint.as_deref().unwrap().contains("stacks/"));
        let e = err(json!({"exposedPorts": []}));
        assert_eq!(
            e.message,
            "Field \"exposedPorts\" is read-only and cannot be set via PATCH."
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("Exposed ports are derived from the compose template's ports mapping. Change the ports mapping in composeTemplate instead.")
        );
    }

    #[test]
    fn unknown_fields_come_before_types() {
        let e = err(json!({"healthRetries": 0, "colour": "red"}));
        assert_eq!(e.code, ErrorCode::Validation);
        assert_eq!(e.field.as_deref(), Some("colour"));
    }

    #[test]
    fn ranges_and_types() {
        let cases = [
            (json!({"healthRetries": 0}), "healthRetries"),
            (json!({"healthRetries": 101}), "healthRetries"),
            (json!({"healthRetries": 2.5}), "healthRetries"),
            (json!({"healthWaitMs": -1}), "healthWaitMs"),
            (json!({"healthIntervalMs": 3_600_001}), "healthIntervalMs"),
            (json!({"imageTag": "bad tag"}), "imageTag"),
            (json!({"imageTag": ".hidden"}), "imageTag"),
            (json!({"imageTag": "x".repeat(129)}), "imageTag"),
            (json!({"deployStrategy": "rolling"}), "deployStrategy"),
            (json!({"deployStrategy": null}), "deployStrategy"),
            (json!({"name": null}), "name"),
            (json!({"name": ""}), "name"),
            (
                json!({"containerImageId": "nginx:latest"}),
                "containerImageId",
            ),
            (
                json!({"containerImageId": "nginx@sha256:abc"}),
                "containerImageId",
            ),
            (json!({"containerImageId": "my image"}), "containerImageId"),
            (json!({"healthCheckUrl": "ftp://x"}), "healthCheckUrl"),
            (json!({"healthCheckUrl": "/health"}), "healthCheckUrl"),
            (json!({"baseEnv": {"1X": "a"}}), "baseEnv.1X"),
            (json!({"baseEnv": {"X": 1}}), "baseEnv.X"),
            (json!({"baseEnv": []}), "baseEnv"),
            (json!({"composeTemplate": "services: ["}), "composeTemplate"),
            (
                json!({"composeTemplate": "version: '3'"}),
                "composeTemplate",
            ),
            (json!({"composeTemplate": 5}), "composeTemplate"),
        ];
        for (body, field) in cases {
            let e = err(body.clone());
            assert_eq!(e.code, ErrorCode::Validation, "{body}");
            assert_eq!(e.field.as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn edge_values_are_accepted() {
        let p = parse_patch(
            &json!({
                "name": "x".repeat(100), "containerImageId": "localhost:5000/team/app",
                "imageTag": "v1.2.3-rc_1", "healthRetries": 1, "healthWaitMs": 0,
                "healthIntervalMs": 3_600_000, "healthCheckUrl": "http://${HOST}:${PORT}/health",
                "baseEnv": {"_A1": "x"}, "deployStrategy": "parallel",
                "composeTemplate": null, "serviceTypeId": null
            }),
            "PATCH",
        )
        .unwrap();
        assert_eq!(p.compose_template, Patch::Null);
        assert_eq!(p.health_retries, Some(1));
        assert!(parse_patch(&json!({}), "PATCH").unwrap().is_empty());
        assert!(parse_patch(&json!({"imageTag": "x".repeat(128)}), "PATCH").is_ok());
    }

    #[test]
    fn patch_application() {
        assert_eq!(Patch::Absent.apply(Some(1)), Some(1));
        assert_eq!(Patch::<i32>::Null.apply(Some(1)), None);
        assert_eq!(Patch::Set(2).apply(Some(1)), Some(2));
    }
}

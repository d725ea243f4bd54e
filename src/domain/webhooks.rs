//! Webhooks' pure parts: which events a hook wants, how a delivery is signed and shaped, and
//! when a failed one is tried again.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::history::{Action, EntityType};

/// Whether `pattern` is a valid `entity_type.action` pattern (`*` for either part, or alone).
pub fn valid_pattern(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some((kind, action)) = pattern.split_once('.') else {
        return false;
    };
    (kind == "*" || EntityType::parse(kind).is_some())
        && (action == "*" || Action::parse(action).is_some())
}

/// Whether an event of `event_type` (`binding.create`) matches any of `patterns`.
pub fn wants(patterns: &[String], event_type: &str) -> bool {
    let (kind, action) = event_type.split_once('.').unwrap_or((event_type, ""));
    patterns.iter().any(|p| {
        if p == "*" {
            return true;
        }
        let (pk, pa) = p.split_once('.').unwrap_or((p.as_str(), ""));
        (pk == "*" || pk == kind) && (pa == "*" || pa == action)
    })
}

/// `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The wait before attempt `attempts + 1`: one second doubling, at most an hour, with up to a
/// quarter more at random (`jitter` in 0..1) so that many failed hooks do not retry in step.
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let base = 2f64
        .powi(attempts.saturating_sub(1).min(12) as i32)
        .min(3600.0);
    Duration::from_secs_f64(base * (1.0 + jitter.clamp(0.0, 1.0) / 4.0))
}

/// What is sent: the body and, for ntfy, its title.
pub struct Payload {
    pub content_type: &'static str,
    pub title: Option<String>,
    pub body: Vec<u8>,
}

/// One line for people: "binding.create in home: 8096/Tcp of jellyfin".
fn summary(event: &Value) -> String {
    let kind = event["type"].as_str().unwrap_or("event");
    let data = &event["data"];
    let image = if data["after"].is_object() {
        &data["after"]
    } else {
        &data["before"]
    };
    let name = image["name"]
        .as_str()
        .or_else(|| image["ip_address"].as_str())
        .or_else(|| image["id"].as_str())
        .unwrap_or("");
    let who = data["actor"]["name"].as_str().unwrap_or("");
    let mut line = format!("Portolan: {kind} {name}");
    if !who.is_empty() {
        line.push_str(&format!(" by {who}"));
    }
    line.trim_end().to_string()
}

/// The body for a hook's format: `json` (the event), `ntfy` (a line of text with a title),
/// `discord` (`{"content": ...}`).
pub fn payload(format: &str, event: &Value) -> Payload {
    match format {
        "ntfy" => Payload {
            content_type: "text/plain; charset=utf-8",
            title: Some(format!(
                "Portolan: {}",
                event["type"].as_str().unwrap_or("event")
            )),
            body: summary(event).into_bytes(),
        },
        "discord" => Payload {
            content_type: "application/json",
            title: None,
            body: json!({"content": summary(event)}).to_string().into_bytes(),
        },
        _ => Payload {
            content_type: "application/json",
            title: None,
            body: event.to_string().into_bytes(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_matching() {
        for ok in ["*", "binding.create", "service.*", "*.delete", "*.*"] {
            assert!(valid_pattern(ok), "{ok}");
        }
        for bad in [
            "",
            "binding",
            "widget.create",
            "binding.explode",
            "binding.create.x",
        ] {
            assert!(!valid_pattern(bad), "{bad}");
        }
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(wants(&p(&["*"]), "host.update"));
        assert!(wants(&p(&["service.*"]), "service.delete"));
        assert!(wants(&p(&["*.delete"]), "binding.delete"));
        assert!(!wants(&p(&["*.delete"]), "binding.create"));
        assert!(!wants(&p(&["binding.create"]), "binding.update"));
        assert!(!wants(&p(&[]), "binding.update"));
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Python: hmac.new(b"topsecret-16chars", b"1700000000.{}", hashlib.sha256).hexdigest()
        let sig = signature("topsecret-16chars", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "sha256=058d9e959a5a0123f00cb9479124dbc36c1558d70cd58366c610040ad9fc8136"
        );
        assert_eq!(sig.len(), 7 + 64);
        assert_ne!(sig, signature("topsecret-16chars", 1_700_000_001, b"{}"));
    }

    #[test]
    fn backoff_doubles_from_a_second_to_an_hour() {
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(5, 0.0), Duration::from_secs(16));
        assert_eq!(backoff(30, 0.0), Duration::from_secs(3600));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(1250));
    }
}

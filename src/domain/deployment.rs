//! Deployments' pure rules: the environment a template runs with, the compose project's name,
//! which services and bindings a rendered file asks for, and the status a deployment shows.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::compose::{self, PortMapping, TransportProtocol};
use super::port::Protocol;
use super::{Invalid, Parsed};

/// The lines of compose output a target keeps.
pub const LOG_LINES: usize = 200;

/// The environment of a deployment: the template's `baseEnv`, the request's `env` over it,
/// then `IMAGE` (`image:tag`) and `TAG`, which nothing overrides.
pub fn environment(
    base: Option<&Map<String, Value>>,
    overrides: &Map<String, Value>,
    image_id: &str,
    tag: &str,
) -> Map<String, Value> {
    let mut env = base.cloned().unwrap_or_default();
    for (k, v) in overrides {
        env.insert(k.clone(), v.clone());
    }
    env.insert("IMAGE".into(), Value::String(format!("{image_id}:{tag}")));
    env.insert("TAG".into(), Value::String(tag.to_string()));
    env
}

/// `portolan-<template name>`, in the characters every Compose version keeps in a project name
/// (lower-case letters, digits, `-` and `_`), so that its containers' labels name it exactly.
pub fn project_name(template_name: &str) -> String {
    let mut name = String::from("portolan-");
    for c in template_name.chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '_') => name.push(c),
            _ if !name.ends_with('-') => name.push('-'),
            _ => {}
        }
    }
    name.trim_end_matches('-').to_string()
}

/// The compose file a deployment runs: the template's file, or a one-service file of the image
/// when the template has none, with its variables filled and `IMAGE` where a service names no
/// image.
pub fn render(
    template_name: &str,
    compose_template: Option<&str>,
    env: &Map<String, Value>,
) -> Parsed<String> {
    let image = env.get("IMAGE").and_then(Value::as_str).unwrap_or_default();
    let text = match compose_template {
        Some(t) => compose::interpolate(t, env)?,
        None => {
            let service = project_name(template_name)
                .trim_start_matches("portolan-")
                .to_string();
            let service = if service.is_empty() {
                "app".into()
            } else {
                service
            };
            format!("services:\n  {service}:\n    image: \"{image}\"\n")
        }
    };
    compose::with_default_image(&text, image)
}

/// One binding a deployment asks for on a host: `P(port,*)`, or `P(port,x)` when the mapping
/// names an address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedBinding {
    pub port: u16,
    pub protocol: Protocol,
    /// The address the mapping names; `None` for every interface.
    pub ip_address: Option<IpAddr>,
}

/// One inventory service a deployment makes (or replaces) on each host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedService {
    pub name: String,
    /// The compose service it runs.
    pub compose_service: String,
    pub bindings: Vec<PlannedBinding>,
}

/// The services a rendered file makes: one named after the template when the file has one
/// service, else one per compose service (`<template>-<service>`), each bound to the host ports
/// it publishes. Ports the engine picks and SCTP (which the inventory does not hold) are left
/// out; an unspecified address (`0.0.0.0`, `::`) is every interface.
pub fn planned_services(template_name: &str, rendered: &str) -> Parsed<Vec<PlannedService>> {
    let doc = compose::load(rendered)?;
    let names: Vec<String> = compose::services(&doc)?
        .keys()
        .map(|k| k.as_str().map(str::to_string).unwrap_or_default())
        .collect();
    let mappings = compose::published(&doc)?;
    let mut out = Vec::new();
    for compose_service in &names {
        let name = if names.len() == 1 {
            template_name.to_string()
        } else {
            format!("{template_name}-{compose_service}")
        };
        let mut bindings = Vec::new();
        for (_, mapping) in mappings.iter().filter(|(s, _)| s == compose_service) {
            bindings.extend(bindings_of(mapping));
        }
        bindings.dedup();
        out.push(PlannedService {
            name,
            compose_service: compose_service.clone(),
            bindings,
        });
    }
    Ok(out)
}

fn bindings_of(mapping: &PortMapping) -> Vec<PlannedBinding> {
    let protocol = match mapping.protocol {
        TransportProtocol::Tcp => Protocol::Tcp,
        TransportProtocol::Udp => Protocol::Udp,
        TransportProtocol::Sctp => return Vec::new(),
    };
    let ip_address = mapping.host_ip.filter(|ip| !ip.is_unspecified());
    mapping
        .expand()
        .into_iter()
        .filter_map(|p| p.host_port)
        .map(|port| PlannedBinding {
            port,
            protocol,
            ip_address,
        })
        .collect()
}

/// Where one host's part of a deployment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    Pending,
    Starting,
    Checking,
    Healthy,
    Failed,
    RolledBack,
    Skipped,
}

impl TargetStatus {
    pub const ALL: [TargetStatus; 7] = [
        TargetStatus::Pending,
        TargetStatus::Starting,
        TargetStatus::Checking,
        TargetStatus::Healthy,
        TargetStatus::Failed,
        TargetStatus::RolledBack,
        TargetStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetStatus::Pending => "pending",
            TargetStatus::Starting => "starting",
            TargetStatus::Checking => "checking",
            TargetStatus::Healthy => "healthy",
            TargetStatus::Failed => "failed",
            TargetStatus::RolledBack => "rolled_back",
            TargetStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<TargetStatus> {
        TargetStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Nothing more happens to the target.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TargetStatus::Healthy
                | TargetStatus::Failed
                | TargetStatus::RolledBack
                | TargetStatus::Skipped
        )
    }

    /// An agent works on it.
    pub fn is_running(self) -> bool {
        matches!(self, TargetStatus::Starting | TargetStatus::Checking)
    }
}

/// A deployment's status from its targets': `healthy` when every target is, `failed` when any
/// failed, else `rolled_back` when any rolled back; `running` while an agent works or a target
/// waits its turn after one started, `queued` before. A cancel or an undeploy wins once no agent
/// works any more.
pub fn overall(targets: &[TargetStatus], cancelled: bool, undeployed: bool) -> &'static str {
    if undeployed {
        return "undeployed";
    }
    let running = targets.iter().any(|t| t.is_running());
    if cancelled {
        return if running { "running" } else { "cancelled" };
    }
    if targets.iter().all(|t| t.is_final()) {
        if targets.contains(&TargetStatus::Failed) {
            "failed"
        } else if targets.contains(&TargetStatus::RolledBack) {
            "rolled_back"
        } else if targets.iter().all(|t| *t == TargetStatus::Healthy) {
            "healthy"
        } else {
            // Every target skipped: only a cancel does that, handled above.
            "cancelled"
        }
    } else if running || targets.iter().any(|t| t.is_final()) {
        "running"
    } else {
        "queued"
    }
}

/// The last `LOG_LINES` lines of `log`.
pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(LOG_LINES)..].join("\n")
}

/// The request's `env`: an object of strings, keys as `baseEnv` takes them.
pub fn parse_env(value: &Value) -> Parsed<Map<String, Value>> {
    let map = match value {
        Value::Null => return Ok(Map::new()),
        Value::Object(m) => m,
        _ => return Err(Invalid::new("an object of string values")),
    };
    for (k, v) in map {
        let mut chars = k.chars();
        let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Invalid::new(format!(
                "\"{k}\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)"
            )));
        }
        if !v.is_string() {
            return Err(Invalid::new(format!("the value of {k} must be a string")));
        }
    }
    Ok(map.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn environment_layers_base_overrides_then_image_and_tag() {
        let base = env(json!({"A": "1", "B": "2", "TAG": "mine"}));
        let got = environment(Some(&base), &env(json!({"B": "3"})), "busybox", "1.36");
        assert_eq!(
            Value::Object(got),
            json!({"A": "1", "B": "3", "TAG": "1.36", "IMAGE": "busybox:1.36"})
        );
    }

    #[test]
    fn project_names_keep_what_compose_keeps() {
        assert_eq!(project_name("jellyfin"), "portolan-jellyfin");
        assert_eq!(project_name("My App!"), "portolan-my-app");
        assert_eq!(project_name("a__b-c"), "portolan-a__b-c");
    }

    #[test]
    fn missing_variables_ignore_defaults_and_filled_ones() {
        let text = "p: ${PORT}:80\nq: ${OPT:-x}\nr: $NAME ${REQ:?need} ${SET} $$HOME";
        let got = compose::missing_variables(text, &env(json!({"SET": "1", "REQ": ""})));
        assert_eq!(got, vec!["PORT", "NAME", "REQ"]);
    }

    #[test]
    fn render_fills_variables_and_the_default_image() {
        let e = environment(None, &env(json!({"P": "18080"})), "local/web", "1");
        let out = render(
            "web",
            Some("services:\n  web:\n    ports: [\"${P}:80\"]\n"),
            &e,
        )
        .unwrap();
        assert!(out.contains("image: \"local/web:1\""), "{out}");
        assert!(!out.starts_with("---"), "{out}");
        assert!(out.contains("18080:80"), "{out}");
        // A file that names its images is kept as written.
        let own = "services:\n  web:\n    image: x # mine\n";
        assert_eq!(render("web", Some(own), &e).unwrap(), own);
        let none = render("Web App", None, &e).unwrap();
        assert!(
            none.contains("web-app:") && none.contains("local/web:1"),
            "{none}"
        );
    }

    #[test]
    fn planned_services_bind_published_ports() {
        let one = planned_services(
            "web",
            "services:\n  app:\n    ports: [\"18080:80\", \"127.0.0.1:53:53/udp\", \"9000\", \"0.0.0.0:81:81\"]\n",
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].name, "web");
        let b = &one[0].bindings;
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].port, b[0].ip_address), (18080, None));
        assert_eq!(b[1].protocol, Protocol::Udp);
        assert_eq!(b[1].ip_address, Some("127.0.0.1".parse().unwrap()));
        assert_eq!((b[2].port, b[2].ip_address), (81, None));
        let two = planned_services(
            "stack",
            "services:\n  a:\n    image: x\n  b:\n    ports: [\"1000-1001:2000-2001\"]\n",
        )
        .unwrap();
        assert_eq!(two[0].name, "stack-a");
        assert!(two[0].bindings.is_empty());
        assert_eq!(two[1].bindings.len(), 2);
    }

    #[test]
    fn unrestricted_asks_are_named() {
        let doc = compose::load(
            "services:\n  a:\n    privileged: true\n    network_mode: host\n  b:\n    pid: host\n    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]\n  c:\n    volumes: [{type: bind, source: /run/docker.sock, target: /s}]\n  d:\n    image: ok\n    volumes: [\"data:/data\"]\n",
        )
        .unwrap();
        let asks = compose::unrestricted_asks(&doc).unwrap();
        assert_eq!(asks.len(), 5, "{asks:?}");
        assert!(asks[0].contains("privileged"));
        assert!(asks.iter().all(|a| !a.contains("services.d")));
    }

    #[test]
    fn overall_status() {
        use TargetStatus::*;
        assert_eq!(overall(&[Pending, Pending], false, false), "queued");
        assert_eq!(overall(&[Starting, Pending], false, false), "running");
        assert_eq!(overall(&[Healthy, Pending], false, false), "running");
        assert_eq!(overall(&[Healthy, Healthy], false, false), "healthy");
        assert_eq!(overall(&[Failed, Skipped], false, false), "failed");
        assert_eq!(overall(&[RolledBack, Healthy], false, false), "rolled_back");
        assert_eq!(overall(&[RolledBack, Failed], false, false), "failed");
        assert_eq!(overall(&[Checking, Skipped], true, false), "running");
        assert_eq!(overall(&[Healthy, Skipped], true, false), "cancelled");
        assert_eq!(overall(&[Healthy], false, true), "undeployed");
    }

    #[test]
    fn env_must_be_strings_under_variable_names() {
        assert!(parse_env(&json!({"A_1": "x"})).is_ok());
        assert!(parse_env(&Value::Null).unwrap().is_empty());
        assert!(parse_env(&json!({"1A": "x"})).is_err());
        assert!(parse_env(&json!({"A": 1})).is_err());
        assert!(parse_env(&json!([])).is_err());
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let log: String = (0..250).map(|i| format!("line {i}\n")).collect();
        let t = tail(&log);
        assert!(t.starts_with("line 50\n") && t.ends_with("line 249"));
    }
}

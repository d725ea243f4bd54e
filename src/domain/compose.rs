//! Compose files: `${VAR}` interpolation and the ports a file publishes.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

use super::{Invalid, Parsed};

/// The most host ports one compose file may publish, ranges expanded: a template is a
/// deployable unit, not a way to make the server list 65,535 ports per line.
pub const MAX_PUBLISHED_PORTS: usize = 1024;
/// The most text interpolation may produce: `${A}` repeated with a long `A` would otherwise
/// multiply a small body into a large allocation.
pub const MAX_INTERPOLATED_BYTES: usize = 1 << 20;
/// The most YAML nodes a file may hold once aliases are expanded (the loader copies an anchor's
/// tree at each alias, so nested aliases grow exponentially: "billion laughs").
const MAX_YAML_NODES: usize = 100_000;
/// The deepest nesting of collections a file may have.
const MAX_YAML_DEPTH: usize = 64;

/// Fills `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`,
/// `${VAR:+alt}`, `${VAR+alt}` and `$VAR` from `env`, as Compose does; `$$` is a literal `$`.
/// An unset variable without a default becomes the empty string.
pub fn interpolate(text: &str, env: &Map<String, Value>) -> Parsed<String> {
    let lookup = |name: &str| env.get(name).and_then(Value::as_str);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        if out.len() > MAX_INTERPOLATED_BYTES {
            break;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| Invalid::new("an interpolation \"${\" is not closed with \"}\""))?;
            out.push_str(&expand(&body[..end], &lookup)?);
            rest = &body[end + 1..];
        } else {
            let len = after
                .char_indices()
                .take_while(|(i, c)| {
                    c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit())
                })
                .count();
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(lookup(&after[..len]).unwrap_or(""));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    if out.len() > MAX_INTERPOLATED_BYTES {
        return Err(Invalid::new(format!(
            "the compose file grows past {} MiB once its variables are filled in",
            MAX_INTERPOLATED_BYTES >> 20
        )));
    }
    Ok(out)
}

fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn expand<'a>(expr: &str, lookup: &impl Fn(&str) -> Option<&'a str>) -> Parsed<String> {
    let split = expr.find([':', '-', '?', '+']).unwrap_or(expr.len());
    let (name, op) = expr.split_at(split);
    if !is_var_name(name) {
        return Err(Invalid::new(format!(
            "\"${{{expr}}}\" does not name a variable"
        )));
    }
    let value = lookup(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let result = if op.is_empty() {
        value.unwrap_or("").to_string()
    } else if let Some(default) = op.strip_prefix(":-") {
        if set_nonempty {
            value.unwrap_or("").to_string()
        } else {
            default.to_string()
        }
    } else if let Some(default) = op.strip_prefix('-') {
        value.unwrap_or(default).to_string()
    } else if let Some(message) = op.strip_prefix(":?") {
        if !set_nonempty {
            return Err(Invalid::new(format!(
                "variable {name} is required: {message}"
            )));
        }
        value.unwrap_or("").to_string()
    } else if let Some(message) = op.strip_prefix('?') {
        value
            .ok_or_else(|| Invalid::new(format!("variable {name} is required: {message}")))?
            .to_string()
    } else if let Some(alt) = op.strip_prefix(":+") {
        if set_nonempty {
            alt.to_string()
        } else {
            String::new()
        }
    } else if let Some(alt) = op.strip_prefix('+') {
        if value.is_some() {
            alt.to_string()
        } else {
            String::new()
        }
    } else {
        return Err(Invalid::new(format!(
            "\"${{{expr}}}\" is not a supported interpolation"
        )));
    };
    Ok(result)
}

/// One port or an inclusive range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn parse(s: &str) -> Parsed<PortRange> {
        let port = |p: &str| -> Parsed<u16> {
            p.trim()
                .parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Invalid::new(format!("\"{p}\" is not a port number (1 to 65535)")))
        };
        let (start, end) = match s.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(s)?;
                (p, p)
            }
        };
        if end < start {
            return Err(Invalid::new(format!(
                "the port range \"{s}\" runs backwards"
            )));
        }
        Ok(PortRange { start, end })
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransportProtocol {
    Tcp,
    Udp,
    Sctp,
}

impl TransportProtocol {
    pub fn parse(s: &str) -> Parsed<TransportProtocol> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(TransportProtocol::Tcp),
            "udp" => Ok(TransportProtocol::Udp),
            "sctp" => Ok(TransportProtocol::Sctp),
            other => Err(Invalid::new(format!(
                "\"{other}\" is not one of tcp, udp, sctp"
            ))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            TransportProtocol::Tcp => "tcp",
            TransportProtocol::Udp => "udp",
            TransportProtocol::Sctp => "sctp",
        }
    }
}

/// A Compose port mapping: `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`, ports or ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: Option<IpAddr>,
    /// `None`: the engine picks an ephemeral host port.
    pub published: Option<PortRange>,
    pub target: PortRange,
    pub protocol: TransportProtocol,
}

/// A port a compose file publishes, as the template API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExposedPort {
    /// `null` when the engine picks the host port.
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub protocol: TransportProtocol,
}

impl PortMapping {
    /// The short syntax, e.g. `"8080:80"`, `"127.0.0.1:53:53/udp"`, `"[::1]:80:80"`, `"9000"`.
    pub fn parse(s: &str) -> Parsed<PortMapping> {
        let (address, protocol) = match s.rsplit_once('/') {
            Some((a, p)) => (a, TransportProtocol::parse(p)?),
            None => (s, TransportProtocol::Tcp),
        };
        let (host_ip, ports) = if let Some(rest) = address.strip_prefix('[') {
            let (ip, ports) = rest.split_once("]:").ok_or_else(|| {
                Invalid::new(format!(
                    "\"{s}\": a bracketed IPv6 address must be followed by \":\""
                ))
            })?;
            (Some(ip), ports)
        } else {
            let parts: Vec<&str> = address.split(':').collect();
            match parts.len() {
                1 | 2 => (None, address),
                3 => (Some(parts[0]), &address[parts[0].len() + 1..]),
                _ => {
                    return Err(Invalid::new(format!(
                        "\"{s}\" is not a port mapping; write IPv6 addresses in brackets"
                    )))
                }
            }
        };
        let host_ip = host_ip
            .map(|ip| {
                ip.parse::<IpAddr>()
                    .map_err(|_| Invalid::new(format!("\"{ip}\" is not an IP address")))
            })
            .transpose()?;
        let (published, target) = match ports.split_once(':') {
            Some(("", t)) => (None, PortRange::parse(t)?),
            Some((p, t)) => (Some(PortRange::parse(p)?), PortRange::parse(t)?),
            None => (None, PortRange::parse(ports)?),
        };
        let mapping = PortMapping {
            host_ip,
            published,
            target,
            protocol,
        };
        mapping.check_ranges(s)?;
        Ok(mapping)
    }

    fn check_ranges(&self, shown: &str) -> Parsed<()> {
        match self.published {
            Some(p) if p.len() != self.target.len() => Err(Invalid::new(format!(
                "\"{shown}\": the published and target ranges differ in length"
            ))),
            _ => Ok(()),
        }
    }

    /// One entry per container port.
    pub fn expand(&self) -> Vec<ExposedPort> {
        (0..self.target.len())
            .map(|i| ExposedPort {
                host_port: self.published.map(|p| p.start + i as u16),
                container_port: self.target.start + i as u16,
                protocol: self.protocol,
            })
            .collect()
    }
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host_ip {
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]:")?,
            Some(IpAddr::V4(ip)) => write!(f, "{ip}:")?,
            None => {}
        }
        match (self.published, self.host_ip) {
            (Some(p), _) => write!(f, "{p}:")?,
            (None, Some(_)) => write!(f, ":")?,
            (None, None) => {}
        }
        write!(f, "{}", self.target)?;
        if self.protocol != TransportProtocol::Tcp {
            write!(f, "/{}", self.protocol.as_str())?;
        }
        Ok(())
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        _ => None,
    }
}

/// The long syntax: `{target, published, protocol, host_ip, ...}`.
fn long_mapping(entry: &yaml_rust2::yaml::Hash, at: &str) -> Parsed<PortMapping> {
    let get = |k: &str| entry.get(&Yaml::String(k.to_string()));
    let target = get("target")
        .and_then(scalar)
        .ok_or_else(|| Invalid::new(format!("{at}: the long syntax needs \"target\"")))?;
    let published = get("published")
        .and_then(scalar)
        .filter(|p| !p.is_empty())
        .map(|p| PortRange::parse(&p))
        .transpose()?;
    let protocol = match get("protocol").and_then(scalar) {
        Some(p) => TransportProtocol::parse(&p)?,
        None => TransportProtocol::Tcp,
    };
    let host_ip = get("host_ip")
        .and_then(scalar)
        .map(|ip| {
            ip.parse::<IpAddr>()
                .map_err(|_| Invalid::new(format!("{at}: \"{ip}\" is not an IP address")))
        })
        .transpose()?;
    let mapping = PortMapping {
        host_ip,
        published,
        target: PortRange::parse(&target)?,
        protocol,
    };
    mapping.check_ranges(at)?;
    Ok(mapping)
}

/// Parses a compose file after interpolation and lists every published port, services in file
/// order. The file must be YAML with a top-level `services` mapping.
pub fn exposed_ports(template: &str, env: &Map<String, Value>) -> Parsed<Vec<ExposedPort>> {
    let text = interpolate(template, env)?;
    Ok(published(&load(&text)?)?
        .iter()
        .flat_map(|(_, mapping)| mapping.expand())
        .collect())
}

/// A compose file already interpolated, loaded within the size limits.
pub fn load(text: &str) -> Parsed<Yaml> {
    check_yaml_size(text)?;
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| Invalid::new(format!("not valid YAML: {e}")))?;
    let doc = docs
        .into_iter()
        .next()
        .ok_or_else(|| Invalid::new("the compose file is empty"))?;
    services(&doc)?;
    Ok(doc)
}

/// The file's `services` mapping.
pub fn services(doc: &Yaml) -> Parsed<&yaml_rust2::yaml::Hash> {
    match &doc["services"] {
        Yaml::Hash(h) => Ok(h),
        Yaml::BadValue => Err(Invalid::new(
            "the compose file has no top-level \"services\" mapping",
        )),
        _ => Err(Invalid::new(
            "\"services\" must be a mapping of service names to services",
        )),
    }
}

/// Every port mapping of a loaded file with its compose service's name, in file order.
pub fn published(doc: &Yaml) -> Parsed<Vec<(String, PortMapping)>> {
    let mut out = Vec::new();
    let mut published = 0usize;
    for (name, service) in services(doc)? {
        let name = scalar(name).unwrap_or_default();
        let ports = match &service["ports"] {
            Yaml::Array(list) => list,
            Yaml::BadValue | Yaml::Null => continue,
            _ => {
                return Err(Invalid::new(format!(
                    "services.{name}.ports must be a list"
                )))
            }
        };
        for (i, entry) in ports.iter().enumerate() {
            let at = format!("services.{name}.ports[{i}]");
            let mapping = match entry {
                Yaml::Hash(h) => long_mapping(h, &at)?,
                other => {
                    let short = scalar(other)
                        .ok_or_else(|| Invalid::new(format!("{at} is not a port mapping")))?;
                    PortMapping::parse(&short)
                        .map_err(|e| Invalid::new(format!("{at}: {}", e.0)))?
                }
            };
            // Counted before anything is expanded: a range is its length, not a list.
            published += mapping.target.len();
            if published > MAX_PUBLISHED_PORTS {
                return Err(Invalid::new(format!(
                    "{at}: the file publishes more than {MAX_PUBLISHED_PORTS} ports once ranges are expanded"
                )));
            }
            out.push((name.clone(), mapping));
        }
    }
    Ok(out)
}

/// What an agent without `--deploy-unrestricted` refuses to run: a service that is
/// `privileged`, shares the host's network or process namespace, or mounts the engine's socket
/// (each of them is root on the host).
pub fn unrestricted_asks(doc: &Yaml) -> Parsed<Vec<String>> {
    let mut asks = Vec::new();
    for (name, service) in services(doc)? {
        let name = scalar(name).unwrap_or_default();
        if service["privileged"].as_bool() == Some(true)
            || scalar(&service["privileged"]).as_deref() == Some("true")
        {
            asks.push(format!("services.{name}.privileged: true"));
        }
        for key in ["network_mode", "pid", "ipc", "userns_mode"] {
            if scalar(&service[key]).as_deref() == Some("host") {
                asks.push(format!("services.{name}.{key}: host"));
            }
        }
        if let Yaml::Array(volumes) = &service["volumes"] {
            for (i, v) in volumes.iter().enumerate() {
                let source = match v {
                    Yaml::Hash(_) => scalar(&v["source"]).unwrap_or_default(),
                    other => scalar(other)
                        .unwrap_or_default()
                        .split(':')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                };
                if source.ends_with("docker.sock") || source.ends_with("podman.sock") {
                    asks.push(format!(
                        "services.{name}.volumes[{i}] mounts the engine's socket {source}"
                    ));
                }
            }
        }
    }
    Ok(asks)
}

/// `text` with `image` set on every service that has neither `image` nor `build`; the text
/// itself when none lacks one (so that the file keeps its author's layout and comments).
pub fn with_default_image(text: &str, image: &str) -> Parsed<String> {
    let mut doc = load(text)?;
    let lacking = services(&doc)?
        .values()
        .any(|s| matches!(s["image"], Yaml::BadValue) && matches!(s["build"], Yaml::BadValue));
    if !lacking {
        return Ok(text.to_string());
    }
    if let Yaml::Hash(root) = &mut doc {
        if let Some(Yaml::Hash(services)) = root.get_mut(&Yaml::String("services".into())) {
            for service in services.values_mut() {
                if let Yaml::Hash(fields) = service {
                    let key = |k: &str| Yaml::String(k.to_string());
                    if !fields.contains_key(&key("image")) && !fields.contains_key(&key("build")) {
                        fields.insert(key("image"), Yaml::String(image.to_string()));
                    }
                }
            }
        }
    }
    let mut out = String::new();
    yaml_rust2::YamlEmitter::new(&mut out)
        .dump(&doc)
        .map_err(|e| Invalid::new(format!("the compose file cannot be written back: {e:?}")))?;
    out.push('\n');
    Ok(out.trim_start_matches("---\n").to_string())
}

/// The variables `text` needs and `env` does not give: `${VAR}`, `$VAR`, `${VAR?..}` unset,
/// `${VAR:?..}` unset or empty. Those with a default or an alternative never miss.
pub fn missing_variables(text: &str, env: &Map<String, Value>) -> Vec<String> {
    let value = |name: &str| env.get(name).and_then(Value::as_str);
    let mut missing: Vec<String> = Vec::new();
    let mut note = |name: &str| {
        if !missing.iter().any(|m| m == name) {
            missing.push(name.to_string());
        }
    };
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else { break };
            let expr = &body[..end];
            let split = expr.find([':', '-', '?', '+']).unwrap_or(expr.len());
            let (name, op) = expr.split_at(split);
            let needed = match op {
                "" => value(name).is_none(),
                _ if op.starts_with(":?") => value(name).is_none_or(str::is_empty),
                _ if op.starts_with('?') => value(name).is_none(),
                _ => false,
            };
            if needed && is_var_name(name) {
                note(name);
            }
            rest = &body[end + 1..];
        } else {
            let len = after
                .char_indices()
                .take_while(|(i, c)| {
                    c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit())
                })
                .count();
            if len > 0 && value(&after[..len]).is_none() {
                note(&after[..len]);
            }
            rest = &after[len..];
        }
    }
    missing
}

/// Refuses a YAML text whose nodes, once aliases are expanded, or whose nesting would be too
/// large to load. Reads the parser's events in a loop (`Parser::load` recurses per level), so
/// the check itself is bounded by the text's length.
fn check_yaml_size(text: &str) -> Parsed<()> {
    let too_big = || {
        Invalid::new(format!(
            "the compose file is too large once its aliases are expanded (at most {MAX_YAML_NODES} values, nested at most {MAX_YAML_DEPTH} deep)"
        ))
    };
    // Nodes of each open collection, itself included, with its anchor.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    let mut total = 0usize;
    let mut parser = Parser::new_from_str(text);
    loop {
        // Syntax errors are the loader's to report, with its own message.
        let Ok((event, _)) = parser.next_token() else {
            return Ok(());
        };
        let closed = match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, 1));
                if open.len() > MAX_YAML_DEPTH {
                    return Err(too_big());
                }
                None
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop(),
            Event::Scalar(_, _, anchor, _) => Some((anchor, 1)),
            Event::Alias(id) => Some((0, anchors.get(&id).copied().unwrap_or(1))),
            _ => None,
        };
        if let Some((anchor, nodes)) = closed {
            if anchor > 0 {
                anchors.insert(anchor, nodes);
            }
            match open.last_mut() {
                Some((_, parent)) => *parent = parent.saturating_add(nodes),
                None => total = total.saturating_add(nodes),
            }
        }
        let pending = open
            .iter()
            .fold(total, |sum, (_, n)| sum.saturating_add(*n));
        if pending > MAX_YAML_NODES {
            return Err(too_big());
        }
    }
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;

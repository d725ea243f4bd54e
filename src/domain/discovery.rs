//! Discovery's pure parts: what a source observed, the scan's targets and ports, and how an
//! open port is typed from its evidence. No SQL, no sockets.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::net::{parse_ip, Cidr, MacAddress};
use super::port::Protocol;
use crate::error::{ApiError, ApiResult};

/// What a probe, nmap or an agent learned about one open port, besides its number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub http_server: Option<String>,
    /// The first line a server sent unasked (SSH, SMTP, FTP, ...).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub banner: Option<String>,
    /// nmap's service name, product and version.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub answered_http: bool,
}

impl Evidence {
    /// The texts that may name a service type, most telling first.
    fn texts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("HTTP title", self.http_title.as_deref()),
            ("Server header", self.http_server.as_deref()),
            ("banner", self.banner.as_deref()),
            ("nmap product", self.product.as_deref()),
        ]
        .into_iter()
        .filter_map(|(what, text)| text.map(|t| (what, t)))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ObservedPort {
    pub number: u16,
    pub protocol: Protocol,
    /// The agent says which catalogue type this is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub service_name: Option<String>,
    #[serde(default)]
    pub evidence: Evidence,
}

/// One address seen alive with its open ports, whichever source saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Observation {
    pub ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hostname: Option<String>,
    pub ports: Vec<ObservedPort>,
}

impl Observation {
    pub fn mac(&self) -> Option<MacAddress> {
        self.mac.as_deref().and_then(|m| MacAddress::parse(m).ok())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Confidence {
    Certain,
    High,
    Medium,
    Low,
}

/// How an open port is typed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    pub service_type: String,
    pub confidence: Confidence,
    pub reason: String,
}

/// A catalogue entry as typing needs it.
#[derive(Debug, Clone)]
pub struct CatalogType {
    pub id: String,
    pub default_ports: Vec<(u16, Protocol)>,
}

pub const WEB_SERVICE: &str = "Web Service";

/// The name of a service discovered on a host where `taken` names are in use: discovered
/// services on one host never share a name. Its own name while it is free; else what the port
/// said of itself (its page title, its `Server` header); else the name with the port
/// (`Web Service :18080`), then with a counter.
pub fn distinct_service_name(
    name: &str,
    port: &ObservedPort,
    taken: impl Fn(&str) -> bool,
) -> String {
    let usable = |n: &str| {
        let n = n.trim();
        !n.is_empty() && n.chars().count() <= 100 && !n.chars().any(char::is_control) && !taken(n)
    };
    let said = [&port.evidence.http_title, &port.evidence.http_server];
    std::iter::once(name.to_string())
        .chain(said.into_iter().flatten().map(|s| s.trim().to_string()))
        .chain(std::iter::once(format!("{name} :{}", port.number)))
        .find(|n| usable(n))
        .unwrap_or_else(|| {
            (2..)
                .map(|i| format!("{name} :{} ({i})", port.number))
                .find(|n| !taken(n))
                .expect("a counter is free")
        })
}
pub const UNCLAIMED: &str = "Unclaimed Open Ports";

/// Whether `name` occurs in `text` as whole words (case-insensitive): "SSH" in
/// "SSH-2.0-OpenSSH_9.2", not "Git" in "GitLab".
fn names(text: &str, name: &str) -> bool {
    let hay = text.to_ascii_lowercase();
    let needle = name.to_ascii_lowercase();
    if needle.is_empty() {
        return false;
    }
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = hay[from..].find(&needle) {
        let start = from + i;
        let end = start + needle.len();
        let before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before && after {
            return true;
        }
        from = start + 1;
    }
    false
}

/// Types an open port by the order of evidence: the observation's own type, a catalogue type
/// named by the evidence (the longest name wins), the only catalogue type with this default
/// port, `Web Service` when it answered HTTP. `None`: the host's unclaimed open ports.
pub fn classify(port: &ObservedPort, catalog: &[CatalogType]) -> Option<Typing> {
    if let Some(t) = &port.service_type {
        if let Some(found) = catalog.iter().find(|c| c.id.eq_ignore_ascii_case(t)) {
            return Some(Typing {
                service_type: found.id.clone(),
                confidence: Confidence::Certain,
                reason: "the observation names the type".into(),
            });
        }
    }
    for (what, text) in port.evidence.texts() {
        let best = catalog
            .iter()
            .filter(|c| c.id != UNCLAIMED && names(text, &c.id))
            .max_by_key(|c| c.id.len());
        if let Some(found) = best {
            return Some(Typing {
                service_type: found.id.clone(),
                confidence: Confidence::High,
                reason: format!("{what} \"{}\" names it", clip(text)),
            });
        }
    }
    let mut by_port = catalog
        .iter()
        .filter(|c| c.default_ports.contains(&(port.number, port.protocol)));
    if let (Some(only), None) = (by_port.next(), by_port.next()) {
        return Some(Typing {
            service_type: only.id.clone(),
            confidence: Confidence::Medium,
            reason: format!(
                "the only catalogue type with default port {}/{}",
                port.number,
                port.protocol.as_str()
            ),
        });
    }
    if port.evidence.answered_http {
        return Some(Typing {
            service_type: WEB_SERVICE.into(),
            confidence: Confidence::Low,
            reason: "answered HTTP".into(),
        });
    }
    None
}

fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

/// The ports of a scan: a list of numbers, a string like `"1-1024,8096"`, or `"catalog"` (every
/// TCP default port of the service-type catalogue). Sorted, without duplicates.
pub fn parse_ports(spec: &serde_json::Value, catalog: &[CatalogType]) -> ApiResult<Vec<u16>> {
    let bad = |m: String| ApiError::validation("ports", m);
    let mut out = BTreeSet::new();
    match spec {
        serde_json::Value::Null => return parse_ports(&serde_json::json!("catalog"), catalog),
        serde_json::Value::String(s) if s == "catalog" => {
            for c in catalog {
                for (n, p) in &c.default_ports {
                    if *p == Protocol::Tcp {
                        out.insert(*n);
                    }
                }
            }
        }
        serde_json::Value::String(s) => {
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (lo, hi) = part.split_once('-').unwrap_or((part, part));
                let lo = port_number(lo.trim())
                    .ok_or_else(|| bad(format!("\"{part}\" is not a port or range")))?;
                let hi = port_number(hi.trim())
                    .ok_or_else(|| bad(format!("\"{part}\" is not a port or range")))?;
                if lo > hi {
                    return Err(bad(format!("\"{part}\" runs backwards")));
                }
                out.extend(lo..=hi);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let n = item
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ApiError::validation(
                            format!("ports[{i}]"),
                            "A port is a number from 1 to 65535",
                        )
                    })?;
                out.insert(n);
            }
        }
        _ => {
            return Err(bad(
                "ports is a list of numbers, a string like \"1-1024,8096\", or \"catalog\"".into(),
            ))
        }
    }
    if out.is_empty() {
        return Err(bad("Give at least one port".into()));
    }
    Ok(out.into_iter().collect())
}

fn port_number(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().filter(|n| *n > 0)
}

/// The most entries a scan's `targets` may list (each an address or a block).
pub const MAX_TARGETS: usize = 1024;

/// Refuses a request with more target entries than a scan takes, before any is parsed.
pub fn check_target_count(targets: &[String]) -> ApiResult<()> {
    if targets.len() > MAX_TARGETS {
        return Err(ApiError::validation(
            "targets",
            format!("A scan lists at most {MAX_TARGETS} targets (addresses or CIDR blocks); this one lists {}", targets.len()),
        )
        .with_param("max_targets", MAX_TARGETS as u64)
        .with_hint("Give CIDR blocks instead of single addresses, or split the scan"));
    }
    Ok(())
}

/// The addresses of a scan's targets (addresses or CIDR blocks), each inside one of the
/// network's `subnets`, at most `max` of them, without duplicates, in order.
pub fn expand_targets(targets: &[String], subnets: &[Cidr], max: usize) -> ApiResult<Vec<IpAddr>> {
    if targets.is_empty() {
        return Err(ApiError::validation(
            "targets",
            "Give at least one address or CIDR block",
        ));
    }
    check_target_count(targets)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let field = format!("targets[{i}]");
        let block = if target.contains('/') {
            Cidr::parse(target.trim()).map_err(|e| e.at(&field))?
        } else {
            let ip = parse_ip(target).map_err(|e| e.at(&field))?;
            let width = if ip.is_ipv4() { 32 } else { 128 };
            Cidr::parse(&format!("{ip}/{width}")).map_err(|e| e.at(&field))?
        };
        if block.size() > max as u128 {
            return Err(too_many(&field, max));
        }
        for ip in block.hosts() {
            if !subnets.iter().any(|s| s.contains(ip)) {
                return Err(ApiError::validation(
                    &field,
                    format!("{ip} is not inside a subnet of this network"),
                )
                .with_param("address", ip.to_string())
                .with_hint("Scan only what the network declares: add the subnet first"));
            }
            if seen.insert(ip) {
                out.push(ip);
                if out.len() > max {
                    return Err(too_many(&field, max));
                }
            }
        }
    }
    Ok(out)
}

fn too_many(field: &str, max: usize) -> ApiError {
    ApiError::validation(field, format!("A scan takes at most {max} addresses"))
        .with_param("max_addresses", max as u64)
        .with_hint("Split the scan, or raise PORTOLAN_DISCOVERY_MAX_ADDRESSES")
}

/// The counters a progress bar shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub addresses_total: u64,
    pub addresses_done: u64,
    pub probes_total: u64,
    pub probes_done: u64,
    pub open_found: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_discovered_on_one_host_never_share_a_name() {
        let port = |number: u16, title: Option<&str>, server: Option<&str>| ObservedPort {
            number,
            protocol: Protocol::Tcp,
            service_type: None,
            service_name: None,
            evidence: Evidence {
                http_title: title.map(str::to_string),
                http_server: server.map(str::to_string),
                answered_http: true,
                ..Evidence::default()
            },
        };
        let mut taken: Vec<String> = Vec::new();
        let mut name = |p: ObservedPort| {
            let n = distinct_service_name(WEB_SERVICE, &p, |n| taken.iter().any(|t| t == n));
            taken.push(n.clone());
            n
        };
        assert_eq!(name(port(8080, Some("Photos"), None)), "Web Service");
        assert_eq!(name(port(8081, Some("Photos"), None)), "Photos");
        assert_eq!(
            name(port(8082, Some("Photos"), Some("tinyhttpd/1.0"))),
            "tinyhttpd/1.0"
        );
        assert_eq!(
            name(port(18080, Some("Photos"), None)),
            "Web Service :18080"
        );
        assert_eq!(name(port(18080, None, None)), "Web Service :18080 (2)");
        assert_eq!(name(port(9000, Some(" \u{7} "), None)), "Web Service :9000");
    }
    use serde_json::json;

    fn catalog() -> Vec<CatalogType> {
        let t = |id: &str, ports: &[u16]| CatalogType {
            id: id.into(),
            default_ports: ports.iter().map(|p| (*p, Protocol::Tcp)).collect(),
        };
        vec![
            t("SSH", &[22]),
            t("Jellyfin", &[8096]),
            t("Emby", &[8096]),
            t("Home Assistant", &[8123]),
            t("Nginx", &[80]),
            t("Nginx Proxy Manager", &[81]),
            t("Git", &[]),
            t(WEB_SERVICE, &[]),
            t(UNCLAIMED, &[]),
        ]
    }

    fn port(number: u16, evidence: Evidence) -> ObservedPort {
        ObservedPort {
            number,
            protocol: Protocol::Tcp,
            service_type: None,
            service_name: None,
            evidence,
        }
    }

    #[test]
    fn evidence_order_and_confidence() {
        let c = catalog();
        let mut p = port(8096, Evidence::default());
        p.service_type = Some("jellyfin".into());
        assert_eq!(classify(&p, &c).unwrap().confidence, Confidence::Certain);
        assert_eq!(classify(&p, &c).unwrap().service_type, "Jellyfin");

        let title = Evidence {
            http_title: Some("Welcome to Nginx Proxy Manager".into()),
            answered_http: true,
            ..Evidence::default()
        };
        let t = classify(&port(4443, title), &c).unwrap();
        assert_eq!(
            (t.service_type.as_str(), t.confidence),
            ("Nginx Proxy Manager", Confidence::High)
        );

        let ssh = Evidence {
            banner: Some("SSH-2.0-OpenSSH_9.2p1 Debian".into()),
            ..Evidence::default()
        };
        assert_eq!(classify(&port(2222, ssh), &c).unwrap().service_type, "SSH");

        let gitlab = Evidence {
            http_title: Some("GitLab".into()),
            answered_http: true,
            ..Evidence::default()
        };
        let t = classify(&port(8929, gitlab), &c).unwrap();
        assert_eq!(t.service_type, WEB_SERVICE, "Git is not named by GitLab");
        assert_eq!(t.confidence, Confidence::Low);

        let t = classify(&port(8123, Evidence::default()), &c).unwrap();
        assert_eq!(
            (t.service_type.as_str(), t.confidence),
            ("Home Assistant", Confidence::Medium)
        );
        assert_eq!(
            classify(&port(8096, Evidence::default()), &c),
            None,
            "two types share 8096"
        );
        assert_eq!(classify(&port(31337, Evidence::default()), &c), None);
    }

    #[test]
    fn ports_from_lists_ranges_and_the_catalogue() {
        let c = catalog();
        assert_eq!(parse_ports(&json!([443, 22, 22]), &c).unwrap(), [22, 443]);
        assert_eq!(
            parse_ports(&json!("1-3, 8096"), &c).unwrap(),
            [1, 2, 3, 8096]
        );
        assert_eq!(
            parse_ports(&json!("catalog"), &c).unwrap(),
            [22, 80, 81, 8096, 8123]
        );
        assert_eq!(parse_ports(&serde_json::Value::Null, &c).unwrap().len(), 5);
        assert_eq!(parse_ports(&json!("1-65535"), &c).unwrap().len(), 65535);
        for bad in [
            json!("0"),
            json!("5-1"),
            json!("x"),
            json!([]),
            json!(true),
            json!(""),
        ] {
            assert!(parse_ports(&bad, &c).is_err(), "{bad}");
        }
        assert_eq!(
            parse_ports(&json!([1, 70000]), &c)
                .unwrap_err()
                .field
                .as_deref(),
            Some("ports[1]")
        );
    }

    #[test]
    fn targets_stay_inside_the_subnets_and_skip_network_and_broadcast() {
        let subnets = [
            Cidr::parse("10.0.0.0/24").unwrap(),
            Cidr::parse("10.0.1.0/31").unwrap(),
        ];
        let ips =
            expand_targets(&["10.0.0.0/30".into(), "10.0.0.1".into()], &subnets, 100).unwrap();
        let shown: Vec<String> = ips.iter().map(|i| i.to_string()).collect();
        assert_eq!(shown, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            expand_targets(&["10.0.1.0/31".into()], &subnets, 100)
                .unwrap()
                .len(),
            2
        );
        let e = expand_targets(&["10.0.0.1".into(), "10.0.2.1".into()], &subnets, 100).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("targets[1]"));
        assert_eq!(e.params["address"], json!("10.0.2.1"));
        let e = expand_targets(&["10.0.0.0/24".into()], &subnets, 100).unwrap_err();
        assert_eq!(e.params["max_addresses"], json!(100));
        assert!(expand_targets(&[], &subnets, 100).is_err());
        assert!(expand_targets(&["10.0.0.300".into()], &subnets, 100).is_err());
    }
}

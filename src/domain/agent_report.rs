//! An agent's report, parsed and checked once, and the pure rules that turn it into programs:
//! which listeners and containers make one service, what it is called and how it is typed.
//! No SQL, no sockets.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::discovery::{CatalogType, Confidence};
use super::net::{parse_ip, MacAddress};
use super::port::Protocol;
use crate::error::{ApiError, ApiResult};

/// At most this many entries in each list of a report.
pub const MAX_ENTRIES: usize = 10_000;
/// At most this many bytes in a report.
pub const MAX_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedHost {
    pub hostname: String,
    /// `/etc/machine-id`, or `--machine-id`.
    pub machine_id: String,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub kernel: Option<String>,
    #[serde(default)]
    pub agent_version: Option<String>,
    #[serde(default)]
    pub uptime_s: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    #[serde(default)]
    pub mac: Option<String>,
    /// `address/prefix`, e.g. `192.168.1.20/24`.
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default = "yes")]
    pub up: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Process {
    #[serde(default)]
    pub pid: Option<u32>,
    pub name: String,
    #[serde(default)]
    pub exe: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `Tcp` or `Udp`, in any case.
    pub protocol: String,
    pub address: String,
    pub port: u16,
    #[serde(default)]
    pub process: Option<Process>,
    #[serde(default)]
    pub container_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishedPort {
    #[serde(default)]
    pub host_ip: Option<String>,
    pub host_port: u16,
    #[serde(default)]
    pub container_port: Option<u16>,
    pub protocol: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerNetwork {
    pub name: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub mac: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `running`, `exited`, `paused`, `created`, `restarting`, `dead`.
    pub state: String,
    #[serde(default)]
    pub compose_project: Option<String>,
    #[serde(default)]
    pub compose_service: Option<String>,
    #[serde(default)]
    pub ports: Vec<PublishedPort>,
    #[serde(default)]
    pub networks: Vec<ContainerNetwork>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Neighbour {
    pub ip: String,
    pub mac: String,
    #[serde(default)]
    pub device: Option<String>,
}

/// `POST /api/v1/agent/report`.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub host: ReportedHost,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub neighbours: Vec<Neighbour>,
}

/// An address of one of the host's interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnAddress {
    pub ip: IpAddr,
    pub mac: Option<MacAddress>,
}

/// One port a program listens on: `ip == None` is every interface (`P(p,*)`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Socket {
    pub port: u16,
    pub protocol: ProtocolKey,
    pub ip: Option<IpAddr>,
}

/// `Protocol` with an order, so that sockets sort and deduplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolKey {
    Tcp,
    Udp,
}

impl ProtocolKey {
    pub fn protocol(self) -> Protocol {
        match self {
            ProtocolKey::Tcp => Protocol::Tcp,
            ProtocolKey::Udp => Protocol::Udp,
        }
    }
}

/// One service the report describes: a container, or a program by its process name.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// Stable across reports: `container:<project>/<service>`, `container:<name>`,
    /// `process:<name>`, `port:<number>/<protocol>` for sockets whose owner is unknown.
    pub key: String,
    pub name: String,
    pub service_type: String,
    pub confidence: Confidence,
    pub reason: String,
    pub sockets: BTreeSet<Socket>,
    /// A container that is not running keeps the bindings it had.
    pub keeps_bindings: bool,
    /// `{"id", "name", "image", "compose_project", "compose_service", "state"}`.
    pub container: Option<Value>,
    /// `{"name", "exe"}`.
    pub process: Option<Value>,
}

fn invalid(field: String, message: impl Into<String>) -> ApiError {
    ApiError::validation(field, message)
}

pub fn parse_protocol(s: &str, field: impl Fn() -> String) -> ApiResult<ProtocolKey> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Ok(ProtocolKey::Tcp),
        "udp" => Ok(ProtocolKey::Udp),
        _ => Err(invalid(field(), format!("\"{s}\" is not Tcp or Udp"))),
    }
}

fn parse_address(s: &str, field: impl Fn() -> String) -> ApiResult<IpAddr> {
    parse_ip(s.trim()).map_err(|e| invalid(field(), e.0))
}

fn parse_mac(s: &str, field: impl Fn() -> String) -> ApiResult<MacAddress> {
    MacAddress::parse(s.trim()).map_err(|e| invalid(field(), e.0))
}

fn check_text(s: &str, max: usize, field: impl Fn() -> String) -> ApiResult<()> {
    if s.trim().is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(invalid(
            field(),
            format!("must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(())
}

fn is_container_id(s: &str) -> bool {
    (12..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a socket bound to `ip` listens on every interface.
pub fn is_wildcard(ip: IpAddr) -> bool {
    ip.is_unspecified()
}

impl Report {
    /// Every value checked, each refusal naming its path (`listeners[3].protocol`).
    pub fn check(&self) -> ApiResult<()> {
        check_text(&self.host.hostname, 253, || "host.hostname".into())?;
        check_text(&self.host.machine_id, 128, || "host.machine_id".into())?;
        for (name, len) in [
            ("interfaces", self.interfaces.len()),
            ("listeners", self.listeners.len()),
            ("containers", self.containers.len()),
            ("neighbours", self.neighbours.len()),
        ] {
            if len > MAX_ENTRIES {
                return Err(invalid(
                    name.into(),
                    format!("at most {MAX_ENTRIES} entries, not {len}"),
                ));
            }
        }
        for (i, interface) in self.interfaces.iter().enumerate() {
            if let Some(mac) = &interface.mac {
                parse_mac(mac, || format!("interfaces[{i}].mac"))?;
            }
            for (j, address) in interface.addresses.iter().enumerate() {
                interface_address(address)
                    .ok_or_else(|| {
                        invalid(
                            format!("interfaces[{i}].addresses[{j}]"),
                            format!("\"{address}\" is not address/prefix"),
                        )
                    })
                    .map(|_| ())?;
            }
        }
        for (i, l) in self.listeners.iter().enumerate() {
            parse_protocol(&l.protocol, || format!("listeners[{i}].protocol"))?;
            parse_address(&l.address, || format!("listeners[{i}].address"))?;
            if l.port == 0 {
                return Err(invalid(format!("listeners[{i}].port"), "1 to 65535"));
            }
            if let Some(p) = &l.process {
                check_text(&p.name, 100, || format!("listeners[{i}].process.name"))?;
            }
            if let Some(id) = &l.container_id {
                if !is_container_id(id) {
                    return Err(invalid(
                        format!("listeners[{i}].container_id"),
                        "a container id is 12 to 64 hexadecimal digits",
                    ));
                }
            }
        }
        for (i, c) in self.containers.iter().enumerate() {
            if !is_container_id(&c.id) {
                return Err(invalid(
                    format!("containers[{i}].id"),
                    "a container id is 12 to 64 hexadecimal digits",
                ));
            }
            check_text(&c.name, 100, || format!("containers[{i}].name"))?;
            check_text(&c.image, 500, || format!("containers[{i}].image"))?;
            check_text(&c.state, 20, || format!("containers[{i}].state"))?;
            for (j, p) in c.ports.iter().enumerate() {
                parse_protocol(&p.protocol, || {
                    format!("containers[{i}].ports[{j}].protocol")
                })?;
                if let Some(ip) = &p.host_ip {
                    parse_address(ip, || format!("containers[{i}].ports[{j}].host_ip"))?;
                }
                if p.host_port == 0 {
                    return Err(invalid(
                        format!("containers[{i}].ports[{j}].host_port"),
                        "1 to 65535",
                    ));
                }
            }
        }
        for (i, n) in self.neighbours.iter().enumerate() {
            parse_address(&n.ip, || format!("neighbours[{i}].ip"))?;
            parse_mac(&n.mac, || format!("neighbours[{i}].mac"))?;
        }
        Ok(())
    }

    /// The host's own addresses, each once, with its interface's MAC.
    pub fn own_addresses(&self) -> Vec<OwnAddress> {
        let mut out: Vec<OwnAddress> = Vec::new();
        for interface in &self.interfaces {
            let mac = interface
                .mac
                .as_deref()
                .and_then(|m| MacAddress::parse(m).ok())
                .filter(|m| m.to_string() != "00:00:00:00:00:00");
            for address in &interface.addresses {
                if let Some(ip) = interface_address(address) {
                    if !out.iter().any(|a| a.ip == ip) {
                        out.push(OwnAddress { ip, mac });
                    }
                }
            }
        }
        out
    }

    /// The MACs of the host's interfaces, for finding a host an earlier scan made.
    pub fn macs(&self) -> Vec<MacAddress> {
        let mut out: Vec<MacAddress> = Vec::new();
        for a in self.own_addresses() {
            if let Some(m) = a.mac {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out
    }
}

impl Report {
    /// What the report says, whatever order the agent listed it in and without what changes
    /// on its own (uptime, process ids): equal digests, equal reports.
    pub fn digest(&self, containers_known: bool) -> String {
        use sha2::{Digest, Sha256};
        let mut canonical = self.clone();
        canonical.host.uptime_s = None;
        for l in &mut canonical.listeners {
            if let Some(p) = &mut l.process {
                p.pid = None;
            }
        }
        let sorted = |items: Vec<String>| {
            let mut items = items;
            items.sort();
            items
        };
        let text = |v: &dyn erased::Json| v.to_json();
        let parts = serde_json::json!({
            "host": canonical.host,
            "interfaces": sorted(canonical.interfaces.iter().map(|i| text(i)).collect()),
            "listeners": sorted(canonical.listeners.iter().map(|l| text(l)).collect()),
            "containers": sorted(canonical.containers.iter().map(|c| text(c)).collect()),
            "neighbours": sorted(canonical.neighbours.iter().map(|n| text(n)).collect()),
            "containers_known": containers_known,
        });
        super::token::hex(&Sha256::digest(parts.to_string().as_bytes()))
    }
}

mod erased {
    /// Any serializable entry as its JSON text.
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

/// `192.168.1.20/24` (or a bare address) as its address.
pub fn interface_address(s: &str) -> Option<IpAddr> {
    let (address, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip = parse_ip(address.trim()).ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        Some(p) => p
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .map(|_| ip),
        None => Some(ip),
    }
}

/// Lower case, without spaces, dashes, dots or underscores: how names are compared.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The last path segment of an image's repository: `lscr.io/linuxserver/jellyfin:10.9` ->
/// `jellyfin`.
pub fn image_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// The catalogue type an image is: the type's name, folded, equals the image's name or starts
/// it. The longest such name wins (`nginx-proxy-manager` before a shorter prefix).
pub fn type_of_image(image: &str, catalog: &[CatalogType]) -> Option<String> {
    let name = fold(image_name(image));
    if name.is_empty() {
        return None;
    }
    catalog
        .iter()
        .map(|t| (t, fold(&t.id)))
        .filter(|(_, folded)| !folded.is_empty() && name.starts_with(folded.as_str()))
        .max_by_key(|(_, folded)| folded.len())
        .map(|(t, _)| t.id.clone())
}

/// Programs whose name is not the catalogue's name for them.
const PROGRAM_ALIASES: &[(&str, &str)] = &[
    ("sshd", "SSH"),
    ("dropbear", "SSH"),
    ("postgres", "PostgreSQL"),
    ("postmaster", "PostgreSQL"),
    ("mysqld", "MySQL"),
    ("mariadbd", "MariaDB"),
    ("redis-server", "Redis"),
    ("mongod", "MongoDB"),
    ("named", "Bind9"),
    ("dnsmasq", "DNS Server"),
    ("unbound", "Unbound DNS"),
    ("chronyd", "NTP Server"),
    ("ntpd", "NTP Server"),
    ("smbd", "Samba"),
    ("cupsd", "CUPS"),
    ("mosquitto", "MQTT"),
    ("influxd", "InfluxDB"),
    ("dockerd", "Docker"),
    ("slapd", "Open LDAP"),
    ("haproxy", "HAProxy"),
    ("rpc.nfsd", "NFS"),
    ("node_exporter", "Prometheus Node Exporter"),
    ("upsd", "NUT"),
];

/// The catalogue type a program's process name is.
pub fn type_of_program(program: &str, catalog: &[CatalogType]) -> Option<String> {
    let exists = |id: &str| catalog.iter().any(|t| t.id == id);
    if let Some((_, id)) = PROGRAM_ALIASES.iter().find(|(p, _)| *p == program) {
        return exists(id).then(|| id.to_string());
    }
    let folded = fold(program);
    catalog
        .iter()
        .find(|t| fold(&t.id) == folded)
        .map(|t| t.id.clone())
}

/// The only catalogue type with one of these default ports.
fn type_of_ports(sockets: &BTreeSet<Socket>, catalog: &[CatalogType]) -> Option<(String, u16)> {
    for s in sockets {
        let protocol = s.protocol.protocol();
        let mut owners = catalog
            .iter()
            .filter(|t| t.default_ports.contains(&(s.port, protocol)));
        if let (Some(only), None) = (owners.next(), owners.next()) {
            return Some((only.id.clone(), s.port));
        }
    }
    None
}

/// Types a program from its evidence, best first: image, process name, default port, `Custom`.
fn typing(
    image: Option<&str>,
    process: Option<&str>,
    sockets: &BTreeSet<Socket>,
    catalog: &[CatalogType],
) -> (String, Confidence, String) {
    if let Some(image) = image {
        let by_alias = || type_of_program(image_name(image), catalog);
        if let Some(t) = type_of_image(image, catalog).or_else(by_alias) {
            let repository = image.split(['@', ':']).next().unwrap_or(image);
            return (t, Confidence::High, format!("image {repository}"));
        }
    }
    if let Some(process) = process {
        if let Some(t) = type_of_program(process, catalog) {
            return (t, Confidence::High, format!("process {process}"));
        }
    }
    if let Some((t, port)) = type_of_ports(sockets, catalog) {
        return (t, Confidence::Medium, format!("default port {port}"));
    }
    let why = match (image, process) {
        (Some(i), _) => format!("image {i} matches no catalogue type"),
        (None, Some(p)) => format!("process {p} matches no catalogue type"),
        _ => "a socket whose owner the agent could not see".to_string(),
    };
    ("Custom".to_string(), Confidence::Low, why)
}

/// The engine's own port forwarders: folded into the container whose port they publish.
const FORWARDERS: &[&str] = &["docker-proxy", "rootlessport", "slirp4netns", "conmon"];

fn socket_of(protocol: ProtocolKey, address: IpAddr, port: u16) -> Socket {
    Socket {
        port,
        protocol,
        ip: (!is_wildcard(address)).then_some(address),
    }
}

/// A container's published ports as sockets: `0.0.0.0` and `::` are every interface.
fn published(c: &Container) -> BTreeSet<Socket> {
    c.ports
        .iter()
        .filter_map(|p| {
            let protocol = parse_protocol(&p.protocol, String::new).ok()?;
            let ip = match p.host_ip.as_deref().map(str::trim) {
                None | Some("") => IpAddr::from([0, 0, 0, 0]),
                Some(ip) => parse_ip(ip).ok()?,
            };
            Some(socket_of(protocol, ip, p.host_port))
        })
        .collect()
}

/// `0.0.0.0:p` and `[::]:p` are the same binding `P(p,*)`: kept once.
fn compose_names(c: &Container) -> (Option<&str>, Option<&str>) {
    let label = |k: &str| c.labels.get(k).map(String::as_str);
    (
        c.compose_project
            .as_deref()
            .or_else(|| label("com.docker.compose.project")),
        c.compose_service
            .as_deref()
            .or_else(|| label("com.docker.compose.service")),
    )
}

/// The report as programs, one per container and one per process name; sockets whose owner
/// the agent could not see become one program per port.
pub fn programs(report: &Report, catalog: &[CatalogType]) -> Vec<Program> {
    let mut out: Vec<Program> = Vec::new();
    let mut by_container: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &report.containers {
        let (project, service) = compose_names(c);
        let name = service.unwrap_or_else(|| c.name.trim_start_matches('/'));
        let key = match (project, service) {
            (Some(p), Some(s)) => format!("container:{p}/{s}"),
            _ => format!("container:{}", c.name.trim_start_matches('/')),
        };
        let sockets = published(c);
        let (service_type, confidence, reason) = typing(Some(&c.image), None, &sockets, catalog);
        by_container.insert(c.id.as_str(), out.len());
        out.push(Program {
            key,
            name: name.to_string(),
            service_type,
            confidence,
            reason,
            sockets,
            keeps_bindings: c.state != "running",
            container: Some(json!({
                "id": c.id, "name": c.name.trim_start_matches('/'), "image": c.image,
                "compose_project": project, "compose_service": service, "state": c.state,
            })),
            process: None,
        });
    }
    let container_of_port = |port: u16, protocol: ProtocolKey| {
        report.containers.iter().find(|c| {
            c.ports.iter().any(|p| {
                p.host_port == port
                    && parse_protocol(&p.protocol, String::new).ok() == Some(protocol)
            })
        })
    };
    let mut by_process: BTreeMap<String, usize> = BTreeMap::new();
    let mut ownerless: Vec<Socket> = Vec::new();
    for l in &report.listeners {
        let (Ok(protocol), Ok(address)) = (
            parse_protocol(&l.protocol, String::new),
            parse_ip(l.address.trim()),
        ) else {
            continue;
        };
        let socket = socket_of(protocol, address, l.port);
        let process = l.process.as_ref().map(|p| p.name.as_str());
        let container = l
            .container_id
            .as_deref()
            .and_then(|id| {
                by_container
                    .iter()
                    .find(|(c, _)| c.starts_with(id) || id.starts_with(*c))
            })
            .map(|(_, i)| *i)
            .or_else(|| {
                process
                    .filter(|p| FORWARDERS.contains(p))
                    .and_then(|_| container_of_port(l.port, protocol))
                    .and_then(|c| by_container.get(c.id.as_str()).copied())
            });
        if let Some(i) = container {
            // A forwarder's socket is the container's published port, already a binding; a
            // socket inside the container's own namespace is not on the host's addresses.
            if l.container_id.is_none() {
                out[i].sockets.insert(socket);
            }
            continue;
        }
        let Some(name) = process.filter(|p| !FORWARDERS.contains(p)) else {
            if process.is_none() {
                ownerless.push(socket);
            }
            continue;
        };
        match by_process.get(name) {
            Some(&i) => {
                out[i].sockets.insert(socket);
            }
            None => {
                by_process.insert(name.to_string(), out.len());
                let exe = l.process.as_ref().and_then(|p| p.exe.clone());
                out.push(Program {
                    key: format!("process:{name}"),
                    name: name.to_string(),
                    service_type: String::new(),
                    confidence: Confidence::Low,
                    reason: String::new(),
                    sockets: BTreeSet::from([socket]),
                    keeps_bindings: false,
                    container: None,
                    process: Some(json!({"name": name, "exe": exe})),
                });
            }
        }
    }
    for &i in by_process.values() {
        let p = &mut out[i];
        let (t, c, r) = typing(None, Some(&p.name), &p.sockets, catalog);
        (p.service_type, p.confidence, p.reason) = (t, c, r);
    }
    // Sockets of unknown owners: one program per port (an agent without root sees few owners).
    let mut ports: BTreeMap<(u16, ProtocolKey), BTreeSet<Socket>> = BTreeMap::new();
    for s in ownerless {
        ports.entry((s.port, s.protocol)).or_default().insert(s);
    }
    for ((port, protocol), sockets) in ports {
        let (service_type, confidence, reason) = typing(None, None, &sockets, catalog);
        let name = if service_type == "Custom" {
            format!("Port {port}/{}", protocol.protocol().as_str())
        } else {
            service_type.clone()
        };
        out.push(Program {
            key: format!("port:{port}/{}", protocol.protocol().as_str()),
            name,
            service_type,
            confidence,
            reason,
            sockets,
            keeps_bindings: false,
            container: None,
            process: None,
        });
    }
    for p in &mut out {
        p.sockets = merge_wildcards(std::mem::take(&mut p.sockets));
    }
    out
}

/// A port bound on every interface covers the same port on one address: `P(p,*)` wins.
fn merge_wildcards(sockets: BTreeSet<Socket>) -> BTreeSet<Socket> {
    let everywhere: BTreeSet<(u16, ProtocolKey)> = sockets
        .iter()
        .filter(|s| s.ip.is_none())
        .map(|s| (s.port, s.protocol))
        .collect();
    sockets
        .into_iter()
        .filter(|s| s.ip.is_none() || !everywhere.contains(&(s.port, s.protocol)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<CatalogType> {
        let t = |id: &str, ports: &[(u16, Protocol)]| CatalogType {
            id: id.into(),
            default_ports: ports.to_vec(),
        };
        vec![
            t("Jellyfin", &[(8096, Protocol::Tcp)]),
            t("Nginx Proxy Manager", &[(81, Protocol::Tcp)]),
            t("SSH", &[(22, Protocol::Tcp)]),
            t("PostgreSQL", &[(5432, Protocol::Tcp)]),
            t("Web Service", &[(80, Protocol::Tcp)]),
            t("Caddy", &[(80, Protocol::Tcp)]),
            t("Custom", &[]),
        ]
    }

    fn report(json: Value) -> Report {
        serde_json::from_value(json).unwrap()
    }

    fn host() -> Value {
        json!({"hostname": "nas", "machine_id": "4c4c"})
    }

    #[test]
    fn images_match_the_last_segment_of_their_repository() {
        let c = catalog();
        assert_eq!(
            type_of_image("lscr.io/linuxserver/jellyfin:10.9.11", &c).as_deref(),
            Some("Jellyfin")
        );
        assert_eq!(
            type_of_image("jellyfin/jellyfin@sha256:abc", &c).as_deref(),
            Some("Jellyfin")
        );
        assert_eq!(
            type_of_image("jc21/nginx-proxy-manager:latest", &c).as_deref(),
            Some("Nginx Proxy Manager")
        );
        assert_eq!(type_of_image("registry:5000/busybox", &c), None);
    }

    #[test]
    fn programs_are_typed_by_name_then_by_a_port_only_one_type_has() {
        let c = catalog();
        assert_eq!(type_of_program("sshd", &c).as_deref(), Some("SSH"));
        assert_eq!(
            type_of_program("postgres", &c).as_deref(),
            Some("PostgreSQL")
        );
        assert_eq!(type_of_program("python3", &c), None);
        let r = report(json!({"host": host(), "listeners": [
            {"protocol": "tcp", "address": "0.0.0.0", "port": 5432, "process": {"name": "pg_ctl"}},
            {"protocol": "TCP", "address": "127.0.0.1", "port": 80, "process": {"name": "python3"}},
        ]}));
        let p = programs(&r, &c);
        assert_eq!(p[0].service_type, "PostgreSQL");
        assert_eq!(p[0].confidence, Confidence::Medium);
        assert_eq!(p[0].reason, "default port 5432");
        // Port 80 belongs to two types: no guess.
        assert_eq!(p[1].service_type, "Custom");
        assert_eq!(p[1].name, "python3");
    }

    #[test]
    fn one_program_per_process_name_with_every_socket_and_wildcards_winning() {
        let r = report(json!({"host": host(), "listeners": [
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 22, "process": {"name": "sshd", "pid": 1}},
            {"protocol": "Tcp", "address": "::", "port": 22, "process": {"name": "sshd", "pid": 1}},
            {"protocol": "Tcp", "address": "192.168.1.20", "port": 22, "process": {"name": "sshd", "pid": 2}},
            {"protocol": "Tcp", "address": "192.168.1.20", "port": 2222, "process": {"name": "sshd", "pid": 2}},
        ]}));
        let p = programs(&r, &catalog());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].key, "process:sshd");
        let sockets: Vec<_> = p[0].sockets.iter().cloned().collect();
        assert_eq!(
            sockets,
            vec![
                Socket {
                    port: 22,
                    protocol: ProtocolKey::Tcp,
                    ip: None
                },
                Socket {
                    port: 2222,
                    protocol: ProtocolKey::Tcp,
                    ip: Some("192.168.1.20".parse().unwrap())
                },
            ]
        );
        assert_eq!(p[0].reason, "process sshd");
    }

    #[test]
    fn containers_take_their_compose_names_and_fold_the_forwarders() {
        let id = "a".repeat(64);
        let r = report(json!({"host": host(),
        "containers": [{"id": id, "name": "/media-jellyfin-1", "image": "lscr.io/linuxserver/jellyfin:10.9.11",
            "labels": {"com.docker.compose.project": "media", "com.docker.compose.service": "jellyfin"},
            "state": "running",
            "ports": [{"host_ip": "0.0.0.0", "host_port": 8096, "container_port": 8096, "protocol": "tcp"}]}],
        "listeners": [
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 8096, "process": {"name": "docker-proxy"}},
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 8920, "process": {"name": "jellyfin"}, "container_id": id},
        ]}));
        let p = programs(&r, &catalog());
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].key, "container:media/jellyfin");
        assert_eq!(p[0].name, "jellyfin");
        assert_eq!(p[0].service_type, "Jellyfin");
        assert_eq!(p[0].reason, "image lscr.io/linuxserver/jellyfin");
        assert_eq!(p[0].sockets.len(), 1);
        assert_eq!(p[0].container.as_ref().unwrap()["compose_project"], "media");
        assert!(!p[0].keeps_bindings);
    }

    #[test]
    fn a_stopped_container_keeps_its_bindings_and_unknown_owners_get_a_program_per_port() {
        let r = report(json!({"host": host(),
        "containers": [{"id": "b".repeat(64), "name": "db", "image": "postgres:16", "state": "exited"}],
        "listeners": [
            {"protocol": "Udp", "address": "0.0.0.0", "port": 5353},
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 22},
        ]}));
        let p = programs(&r, &catalog());
        assert!(p[0].keeps_bindings);
        assert_eq!(p[0].name, "db");
        assert_eq!(p[1].key, "port:22/Tcp");
        assert_eq!(p[1].name, "SSH");
        assert_eq!(p[2].name, "Port 5353/Udp");
        assert_eq!(p[2].service_type, "Custom");
    }

    #[test]
    fn checks_name_the_offending_path() {
        let bad = |j: Value, field: &str| {
            let e = report(j).check().unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{}", e.message);
        };
        bad(
            json!({"host": host(), "listeners": [{"protocol": "sctp", "address": "0.0.0.0", "port": 1}]}),
            "listeners[0].protocol",
        );
        bad(
            json!({"host": host(), "interfaces": [{"name": "eth0", "addresses": ["10.0.0.1/99"]}]}),
            "interfaces[0].addresses[0]",
        );
        bad(
            json!({"host": host(), "containers": [{"id": "xyz", "name": "a", "image": "b", "state": "running"}]}),
            "containers[0].id",
        );
        bad(
            json!({"host": host(), "neighbours": [{"ip": "10.0.0.1", "mac": "nope"}]}),
            "neighbours[0].mac",
        );
        bad(
            json!({"host": {"hostname": "", "machine_id": "x"}}),
            "host.hostname",
        );
        let many: Vec<Value> = (0..=MAX_ENTRIES)
            .map(|i| json!({"ip": format!("10.0.{}.{}", i / 256, i % 256), "mac": "aa:bb:cc:dd:ee:ff"}))
            .collect();
        bad(json!({"host": host(), "neighbours": many}), "neighbours");
        assert!(serde_json::from_value::<Report>(json!({"host": host(), "extra": 1})).is_err());
    }

    #[test]
    fn digests_ignore_order_uptime_and_pids() {
        let a = report(
            json!({"host": {"hostname": "nas", "machine_id": "m", "uptime_s": 5}, "listeners": [
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 22, "process": {"pid": 1, "name": "sshd"}},
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 80, "process": {"pid": 2, "name": "nginx"}}]}),
        );
        let b = report(
            json!({"host": {"hostname": "nas", "machine_id": "m", "uptime_s": 9}, "listeners": [
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 80, "process": {"pid": 7, "name": "nginx"}},
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 22, "process": {"pid": 8, "name": "sshd"}}]}),
        );
        assert_eq!(a.digest(true), b.digest(true));
        assert_ne!(a.digest(true), a.digest(false));
        let mut c = b.clone();
        c.listeners[0].port = 81;
        assert_ne!(a.digest(true), c.digest(true));
    }

    #[test]
    fn interface_addresses_keep_their_mac_once() {
        let r = report(json!({"host": host(), "interfaces": [
            {"name": "eth0", "mac": "52:54:00:12:34:56", "addresses": ["192.168.1.20/24", "fe80::1/64"]},
            {"name": "lo", "mac": "00:00:00:00:00:00", "addresses": ["127.0.0.1/8"]},
        ]}));
        let own = r.own_addresses();
        assert_eq!(own.len(), 3);
        assert!(own[2].mac.is_none());
        assert_eq!(r.macs().len(), 1);
    }
}

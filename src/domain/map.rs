//! The map of a network, laid out once: subnets are groups of columns, each host a card with its
//! IP addresses on the left and its services on the right, a line from a service to each
//! address it listens on (labelled with the ports) or to an "all interfaces" pill, and a curve
//! from each service to each service it depends on. The same layout answers as JSON (the data),
//! as SVG (what the web UI shows and exports) and, without coordinates, as Mermaid.

use std::collections::HashMap;
use std::fmt::Write;

use serde::Serialize;

pub struct MapSubnet {
    pub id: String,
    pub cidr: String,
    pub name: String,
}

pub struct MapAddress {
    pub id: String,
    pub address: String,
    pub subnet_id: Option<String>,
}

pub struct MapPort {
    pub id: String,
    pub number: u16,
    pub protocol: String,
}

pub struct MapBinding {
    pub id: String,
    pub port_id: Option<String>,
    pub ip_address_id: Option<String>,
}

pub struct MapService {
    pub id: String,
    pub name: String,
    pub service_definition: String,
    pub bindings: Vec<MapBinding>,
}

pub struct MapHost {
    pub id: String,
    pub name: String,
    pub hostname: Option<String>,
    pub addresses: Vec<MapAddress>,
    pub ports: Vec<MapPort>,
    pub services: Vec<MapService>,
}

pub struct MapDependency {
    pub id: String,
    pub name: String,
    pub color: String,
    /// `(dependent, dependency)` service ids.
    pub links: Vec<(String, String)>,
}

pub struct MapInput {
    pub network_id: String,
    pub network_name: String,
    pub subnets: Vec<MapSubnet>,
    pub hosts: Vec<MapHost>,
    pub dependencies: Vec<MapDependency>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MapNode {
    /// `subnet`, `host`, `ip_address`, `all_interfaces` or `service`.
    pub kind: &'static str,
    pub id: String,
    pub label: String,
    /// The subnet of a host, the host of an address or a service.
    pub parent: Option<String>,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MapEdge {
    /// `binding` (service -> address or all interfaces) or `dependency` (service -> the
    /// service it depends on).
    pub kind: &'static str,
    /// The binding's id, or the dependency's.
    pub id: String,
    pub from: String,
    pub to: String,
    /// Ports of a binding (`8096/tcp`), the name of a dependency.
    pub label: String,
    pub color: Option<String>,
    /// Start and end points.
    pub points: [f64; 4],
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Map {
    #[schema(format = Uuid)]
    pub network_id: String,
    pub network_name: String,
    /// The instant the map shows, when it is not the live state.
    pub at: Option<String>,
    /// The drawing's bounds: `[x, y, width, height]`.
    pub view_box: [f64; 4],
    pub nodes: Vec<MapNode>,
    pub edges: Vec<MapEdge>,
}

const CARD_W: f64 = 420.0;
const ROW: f64 = 24.0;
const HEAD: f64 = 30.0;
const GAP: f64 = 24.0;
const PER_COLUMN: usize = 8;
const GROUP_PAD: f64 = 20.0;
const GROUP_HEAD: f64 = 34.0;
const PILL_W: f64 = 130.0;
const SERVICE_W: f64 = 122.0;
const INK: &str = "#1d2733";
const BEND_ROOM: f64 = 120.0;

/// The hex of a tag or dependency colour name.
pub fn color_hex(name: &str) -> &'static str {
    match name {
        "Pink" => "#d6336c",
        "Rose" => "#c2255c",
        "Red" => "#c92a2a",
        "Orange" => "#d9480f",
        "Green" => "#2b8a3e",
        "Emerald" => "#087f5b",
        "Teal" => "#0b7285",
        "Cyan" => "#1098ad",
        "Indigo" => "#3b5bdb",
        "Purple" => "#7048e8",
        "Gray" => "#495057",
        "Yellow" => "#e67700",
        _ => "#1971c2",
    }
}

fn listens_everywhere(host: &MapHost) -> bool {
    host.services.iter().any(|s| {
        s.bindings
            .iter()
            .any(|b| b.port_id.is_some() && b.ip_address_id.is_none())
    })
}

fn card_height(host: &MapHost) -> f64 {
    let targets = host.addresses.len() + usize::from(listens_everywhere(host));
    HEAD + targets.max(host.services.len()).max(1) as f64 * ROW + 12.0
}

/// Hosts by the subnet of their first address that lies in one, subnets in their order, then
/// the hosts in none.
fn groups(input: &MapInput) -> Vec<(Option<&MapSubnet>, Vec<&MapHost>)> {
    let mut by_subnet: Vec<(Option<&MapSubnet>, Vec<&MapHost>)> = input
        .subnets
        .iter()
        .map(|s| (Some(s), Vec::new()))
        .collect();
    let index: HashMap<&str, usize> = input
        .subnets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut other = Vec::new();
    for h in &input.hosts {
        let group = h
            .addresses
            .iter()
            .find_map(|a| a.subnet_id.as_deref().and_then(|s| index.get(s)));
        match group {
            Some(&i) => by_subnet[i].1.push(h),
            None => other.push(h),
        }
    }
    if !other.is_empty() {
        by_subnet.push((None, other));
    }
    by_subnet
}

/// Lays the network out.
pub fn layout(input: &MapInput, at: Option<String>) -> Map {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    // Where each service box sits, for dependency curves: (right x, middle y).
    let mut service_at: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut gx = 0.0;
    let mut max_y: f64 = 0.0;
    for (subnet, hosts) in groups(input) {
        let columns = hosts.len().div_ceil(PER_COLUMN).max(1);
        let width = columns as f64 * (CARD_W + GAP) - GAP + 2.0 * GROUP_PAD;
        let mut height: f64 = 0.0;
        let group_id = subnet.map(|s| s.id.clone()).unwrap_or_default();
        let group_at = nodes.len();
        for c in 0..columns {
            let mut y = GROUP_HEAD + GROUP_PAD;
            for host in hosts.iter().skip(c * PER_COLUMN).take(PER_COLUMN) {
                let x = gx + GROUP_PAD + c as f64 * (CARD_W + GAP);
                let h = card(
                    host,
                    x,
                    y,
                    subnet.map(|s| s.id.clone()),
                    &mut nodes,
                    &mut edges,
                );
                for s in &host.services {
                    if let Some(n) = nodes
                        .iter()
                        .rev()
                        .find(|n| n.kind == "service" && n.id == s.id)
                    {
                        service_at.insert(s.id.as_str(), (n.x + n.width, n.y + n.height / 2.0));
                    }
                }
                y += h + GAP;
            }
            height = height.max(y);
        }
        height = height.max(GROUP_HEAD + 2.0 * GROUP_PAD);
        nodes.insert(
            group_at,
            MapNode {
                kind: "subnet",
                id: group_id,
                label: subnet
                    .map(|s| format!("{}  {}", s.cidr, s.name))
                    .unwrap_or_else(|| "Not in a subnet".into()),
                parent: None,
                x: gx,
                y: 0.0,
                width,
                height,
            },
        );
        gx += width + 3.0 * GAP;
        max_y = max_y.max(height);
    }
    for d in &input.dependencies {
        for (from, to) in &d.links {
            let (Some(a), Some(b)) = (service_at.get(from.as_str()), service_at.get(to.as_str()))
            else {
                continue;
            };
            edges.push(MapEdge {
                kind: "dependency",
                id: d.id.clone(),
                from: from.clone(),
                to: to.clone(),
                label: d.name.clone(),
                color: Some(d.color.clone()),
                points: [a.0, a.1, b.0, b.1],
            });
        }
    }
    Map {
        network_id: input.network_id.clone(),
        network_name: input.network_name.clone(),
        at,
        // Dependency curves bend out to the right of the cards, up to BEND_ROOM.
        view_box: [
            -GAP,
            -GAP,
            gx.max(400.0) + GAP + BEND_ROOM,
            max_y + 2.0 * GAP,
        ],
        nodes,
        edges,
    }
}

/// One host card; returns its height.
fn card(
    host: &MapHost,
    x: f64,
    y: f64,
    subnet: Option<String>,
    nodes: &mut Vec<MapNode>,
    edges: &mut Vec<MapEdge>,
) -> f64 {
    let height = card_height(host);
    nodes.push(MapNode {
        kind: "host",
        id: host.id.clone(),
        label: match &host.hostname {
            Some(h) => format!("{}  {h}", host.name),
            None => host.name.clone(),
        },
        parent: subnet,
        x,
        y,
        width: CARD_W,
        height,
    });
    let mut targets: HashMap<String, (f64, f64)> = HashMap::new();
    let mut pills: Vec<(&'static str, String, String)> = host
        .addresses
        .iter()
        .map(|a| ("ip_address", a.id.clone(), a.address.clone()))
        .collect();
    if listens_everywhere(host) {
        pills.push(("all_interfaces", host.id.clone(), "all interfaces".into()));
    }
    for (i, (kind, id, label)) in pills.into_iter().enumerate() {
        let py = y + HEAD + 8.0 + i as f64 * ROW;
        let key = if kind == "all_interfaces" {
            "*".to_string()
        } else {
            id.clone()
        };
        targets.insert(key, (x + 8.0 + PILL_W, py + (ROW - 6.0) / 2.0));
        nodes.push(MapNode {
            kind,
            id,
            label,
            parent: Some(host.id.clone()),
            x: x + 8.0,
            y: py,
            width: PILL_W,
            height: ROW - 6.0,
        });
    }
    let ports: HashMap<&str, &MapPort> = host.ports.iter().map(|p| (p.id.as_str(), p)).collect();
    for (i, s) in host.services.iter().enumerate() {
        let sy = y + HEAD + 8.0 + i as f64 * ROW;
        let sx = x + CARD_W - PILL_W;
        nodes.push(MapNode {
            kind: "service",
            id: s.id.clone(),
            label: s.name.clone(),
            parent: Some(host.id.clone()),
            x: sx,
            y: sy,
            width: SERVICE_W,
            height: ROW - 6.0,
        });
        for b in &s.bindings {
            let key = match (&b.ip_address_id, &b.port_id) {
                (Some(ip), _) => ip.clone(),
                (None, Some(_)) => "*".to_string(),
                (None, None) => continue,
            };
            let Some(&(tx, ty)) = targets.get(&key) else {
                continue;
            };
            let label = b
                .port_id
                .as_deref()
                .and_then(|p| ports.get(p))
                .map(|p| format!("{}/{}", p.number, p.protocol.to_lowercase()))
                .unwrap_or_default();
            edges.push(MapEdge {
                kind: "binding",
                id: b.id.clone(),
                from: s.id.clone(),
                to: if key == "*" { host.id.clone() } else { key },
                label,
                color: None,
                points: [sx, sy + (ROW - 6.0) / 2.0, tx, ty],
            });
        }
    }
    height
}

/// Text made safe inside XML or HTML markup (text and attribute values alike).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A text element; `size` and `fill` are given once each (an attribute twice is not XML).
fn text(out: &mut String, x: f64, y: f64, value: &str, size: u32, fill: &str, extra: &str) {
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" font-family="system-ui, sans-serif" font-size="{size}" fill="{fill}"{extra}>{}</text>"#,
        esc(value)
    );
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The map as a standalone SVG document, with presentation attributes only (no style sheet),
/// so that a saved file looks the same on its own. `data-kind` and `data-id` name what each
/// shape stands for.
pub fn svg(map: &Map, input: &MapInput) -> String {
    let [vx, vy, vw, vh] = map.view_box;
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="{vx} {vy} {vw} {vh}" width="{}" height="{}" role="group" aria-label="Map of network {}" tabindex="0">"#,
        vw.round(),
        vh.round(),
        esc(&map.network_name)
    );
    let _ = write!(out, "<title>Network {}</title>", esc(&map.network_name));
    // Markers are named by the colour's hex digits, never by the stored colour name: whatever
    // an import or an old database holds, nothing of it reaches an attribute unescaped.
    let mut colors: Vec<&str> = map
        .edges
        .iter()
        .filter_map(|e| e.color.as_deref())
        .map(color_hex)
        .collect();
    colors.sort();
    colors.dedup();
    out.push_str("<defs>");
    for hex in &colors {
        let _ = write!(
            out,
            r#"<marker id="arrow-{}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{}"/></marker>"#,
            esc(hex.trim_start_matches('#')),
            esc(hex)
        );
    }
    out.push_str("</defs><g>");
    let hosts: HashMap<&str, &MapHost> = input.hosts.iter().map(|h| (h.id.as_str(), h)).collect();
    let services: HashMap<&str, &MapService> = input
        .hosts
        .iter()
        .flat_map(|h| h.services.iter().map(|s| (s.id.as_str(), s)))
        .collect();
    for n in map.nodes.iter().filter(|n| n.kind == "subnet") {
        let _ = write!(
            out,
            r##"<g data-kind="subnet" data-id="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="10" fill="#f1f4f7" stroke="#cdd6df"/>"##,
            esc(&n.id),
            n.x,
            n.y,
            n.width,
            n.height
        );
        text(
            &mut out,
            n.x + GROUP_PAD,
            24.0,
            &n.label,
            15,
            INK,
            r#" font-weight="700""#,
        );
        out.push_str("</g>");
    }
    for n in map.nodes.iter().filter(|n| n.kind == "host") {
        let name = hosts
            .get(n.id.as_str())
            .map(|h| h.name.as_str())
            .unwrap_or("");
        let _ = write!(
            out,
            r##"<g data-kind="host" data-id="{}" tabindex="0" role="link" aria-label="Host {}" cursor="pointer"><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#ffffff" stroke="#4f5b69"/><rect x="{}" y="{}" width="{}" height="{HEAD}" rx="6" fill="#1d2733"/>"##,
            esc(&n.id),
            esc(name),
            n.x,
            n.y,
            n.width,
            n.height,
            n.x,
            n.y,
            n.width
        );
        text(
            &mut out,
            n.x + 10.0,
            n.y + 20.0,
            &n.label,
            13,
            "#ffffff",
            r#" font-weight="700""#,
        );
        for p in map.nodes.iter().filter(|p| {
            p.parent.as_deref() == Some(n.id.as_str())
                && matches!(p.kind, "ip_address" | "all_interfaces")
        }) {
            let (kind, fill, stroke) = if p.kind == "ip_address" {
                ("ip", "#e6eef7", "#0b5cad")
            } else {
                ("all-interfaces", "#eef6ea", "#2f6b1f")
            };
            let _ = write!(
                out,
                r#"<g data-kind="{kind}" data-id="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="9" fill="{fill}" stroke="{stroke}"/>"#,
                esc(&p.id),
                p.x,
                p.y,
                p.width,
                p.height
            );
            text(&mut out, p.x + 8.0, p.y + 13.0, &p.label, 12, INK, "");
            out.push_str("</g>");
        }
        for s in map
            .nodes
            .iter()
            .filter(|s| s.parent.as_deref() == Some(n.id.as_str()) && s.kind == "service")
        {
            let definition = services
                .get(s.id.as_str())
                .map(|x| x.service_definition.as_str())
                .unwrap_or("");
            let _ = write!(
                out,
                r##"<g data-kind="service" data-id="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="#fff7d6" stroke="#a36b00"/>"##,
                esc(&s.id),
                s.x,
                s.y,
                s.width,
                s.height
            );
            text(
                &mut out,
                s.x + 6.0,
                s.y + 13.0,
                &clip(&s.label, 17),
                12,
                INK,
                "",
            );
            let _ = write!(
                out,
                "<title>{} ({})</title></g>",
                esc(&s.label),
                esc(definition)
            );
        }
        out.push_str(r#"<g data-kind="edges">"#);
        let mut labels: HashMap<(&str, &str), PortLabel> = HashMap::new();
        let mut order: Vec<(&str, &str)> = Vec::new();
        for e in map.edges.iter().filter(|e| e.kind == "binding") {
            let Some(svc) = map
                .nodes
                .iter()
                .find(|s| s.kind == "service" && s.id == e.from)
            else {
                continue;
            };
            if svc.parent.as_deref() != Some(n.id.as_str()) {
                continue;
            }
            let [x1, y1, x2, y2] = e.points;
            let dash = if e.label.is_empty() {
                r#" stroke-dasharray="4 3""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#4f5b69" stroke-width="1.2"{dash} data-kind="binding" data-id="{}"/>"##,
                esc(&e.id)
            );
            let key = (e.from.as_str(), e.to.as_str());
            let entry = labels.entry(key).or_insert_with(|| {
                order.push(key);
                (Vec::new(), e.points)
            });
            if !e.label.is_empty() {
                entry.0.push(&e.label);
            }
        }
        let mut per_service: HashMap<&str, usize> = HashMap::new();
        for key in order {
            let (ports, [x1, y1, _, _]) = &labels[&key];
            let k = per_service.entry(key.0).or_default();
            if !ports.is_empty() {
                text(
                    &mut out,
                    x1 - 4.0,
                    y1 - 5.0 + *k as f64 * 10.0,
                    &ports.join(", "),
                    10,
                    "#4f5b69",
                    r#" text-anchor="end""#,
                );
            }
            *k += 1;
        }
        out.push_str("</g></g>");
    }
    for e in map.edges.iter().filter(|e| e.kind == "dependency") {
        let [x1, y1, x2, y2] = e.points;
        let bend = 60.0 + (y2 - y1).abs().min(200.0) / 4.0;
        let hex = color_hex(e.color.as_deref().unwrap_or("Blue"));
        let _ = write!(
            out,
            r#"<path d="M {x1} {y1} C {} {y1}, {} {y2}, {x2} {y2}" fill="none" stroke="{}" stroke-width="2" marker-end="url(#arrow-{})" data-kind="dependency" data-id="{}"><title>{}</title></path>"#,
            x1 + bend,
            x2 + bend,
            esc(hex),
            esc(hex.trim_start_matches('#')),
            esc(&e.id),
            esc(&format!(
                "{}: {} needs {}",
                e.label,
                name_of(&services, &e.from),
                name_of(&services, &e.to)
            ))
        );
    }
    out.push_str("</g></svg>\n");
    out
}

/// The ports of the lines from one service to one target, and where the first line starts.
type PortLabel<'a> = (Vec<&'a str>, [f64; 4]);

fn name_of<'a>(services: &HashMap<&str, &'a MapService>, id: &str) -> &'a str {
    services.get(id).map(|s| s.name.as_str()).unwrap_or("?")
}

/// Mermaid's label text: no quotes or angle brackets, which end or open markup.
fn mm(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace(['\n', '\r'], " ")
}

/// The map as a Mermaid flowchart: subnets as subgraphs, each host a subgraph of its services
/// (or a node when it runs none), dependencies as labelled edges in their colours.
pub fn mermaid(input: &MapInput) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut next = 0usize;
    let mut id = |key: &str, prefix: &str, ids: &mut HashMap<String, String>| -> String {
        ids.entry(key.to_string())
            .or_insert_with(|| {
                next += 1;
                format!("{prefix}{next}")
            })
            .clone()
    };
    let mut names: HashMap<String, String> = HashMap::new();
    let map = groups(input);
    for (subnet, hosts) in &map {
        let indent = if subnet.is_some() { "    " } else { "  " };
        if let Some(s) = subnet {
            let sid = id(&s.id, "sn", &mut names);
            let _ = writeln!(
                out,
                "  subgraph {sid}[\"{}\"]",
                mm(&format!("{} {}", s.cidr, s.name))
            );
        }
        for h in hosts {
            let addresses: Vec<&str> = h.addresses.iter().map(|a| a.address.as_str()).collect();
            let label = if addresses.is_empty() {
                h.name.clone()
            } else {
                format!("{} · {}", h.name, addresses.join(", "))
            };
            let hid = id(&h.id, "h", &mut names);
            if h.services.is_empty() {
                let _ = writeln!(out, "{indent}{hid}[\"{}\"]", mm(&label));
                continue;
            }
            let _ = writeln!(out, "{indent}subgraph {hid}[\"{}\"]", mm(&label));
            let ports: HashMap<&str, &MapPort> =
                h.ports.iter().map(|p| (p.id.as_str(), p)).collect();
            for s in &h.services {
                let sid = id(&s.id, "s", &mut names);
                ids.insert(s.id.as_str(), sid.clone());
                let mut listens: Vec<String> = s
                    .bindings
                    .iter()
                    .filter_map(|b| b.port_id.as_deref().and_then(|p| ports.get(p)))
                    .map(|p| format!("{}/{}", p.number, p.protocol.to_lowercase()))
                    .collect();
                listens.dedup();
                let detail = if listens.is_empty() {
                    s.service_definition.clone()
                } else {
                    format!("{} · {}", s.service_definition, listens.join(", "))
                };
                let _ = writeln!(
                    out,
                    "{indent}  {sid}[\"{}<br/>{}\"]",
                    mm(&s.name),
                    mm(&detail)
                );
            }
            let _ = writeln!(out, "{indent}end");
        }
        if subnet.is_some() {
            out.push_str("  end\n");
        }
    }
    let mut link = 0usize;
    let mut styles = String::new();
    for d in &input.dependencies {
        for (from, to) in &d.links {
            let (Some(a), Some(b)) = (ids.get(from.as_str()), ids.get(to.as_str())) else {
                continue;
            };
            let _ = writeln!(out, "  {a} -->|\"{}\"| {b}", mm(&d.name));
            let _ = writeln!(
                styles,
                "  linkStyle {link} stroke:{},stroke-width:2px",
                color_hex(&d.color)
            );
            link += 1;
        }
    }
    out.push_str(&styles);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MapInput {
        let service = |id: &str, name: &str, bindings: Vec<MapBinding>| MapService {
            id: id.into(),
            name: name.into(),
            service_definition: "Jellyfin".into(),
            bindings,
        };
        MapInput {
            network_id: "n".into(),
            network_name: "home <lab>".into(),
            subnets: vec![MapSubnet {
                id: "sn".into(),
                cidr: "10.0.0.0/24".into(),
                name: "lan".into(),
            }],
            hosts: vec![
                MapHost {
                    id: "h1".into(),
                    name: "nas".into(),
                    hostname: None,
                    addresses: vec![MapAddress {
                        id: "i1".into(),
                        address: "10.0.0.5".into(),
                        subnet_id: Some("sn".into()),
                    }],
                    ports: vec![MapPort {
                        id: "p1".into(),
                        number: 8096,
                        protocol: "Tcp".into(),
                    }],
                    services: vec![
                        service(
                            "s1",
                            "jelly\"fin",
                            vec![MapBinding {
                                id: "b1".into(),
                                port_id: Some("p1".into()),
                                ip_address_id: None,
                            }],
                        ),
                        service(
                            "s2",
                            "db",
                            vec![MapBinding {
                                id: "b2".into(),
                                port_id: None,
                                ip_address_id: Some("i1".into()),
                            }],
                        ),
                    ],
                },
                MapHost {
                    id: "h2".into(),
                    name: "lonely".into(),
                    hostname: None,
                    addresses: vec![],
                    ports: vec![],
                    services: vec![],
                },
            ],
            dependencies: vec![MapDependency {
                id: "d1".into(),
                name: "media".into(),
                color: "Green".into(),
                links: vec![("s1".into(), "s2".into())],
            }],
        }
    }

    #[test]
    fn one_node_per_subnet_host_address_and_service_one_edge_per_binding_and_link() {
        let input = sample();
        let map = layout(&input, None);
        let count = |k: &str| map.nodes.iter().filter(|n| n.kind == k).count();
        assert_eq!(
            (
                count("subnet"),
                count("host"),
                count("ip_address"),
                count("service")
            ),
            (2, 2, 1, 2)
        );
        assert_eq!(count("all_interfaces"), 1);
        let edges = |k: &str| map.edges.iter().filter(|e| e.kind == k).count();
        assert_eq!((edges("binding"), edges("dependency")), (2, 1));
        let b1 = map.edges.iter().find(|e| e.id == "b1").unwrap();
        assert_eq!((b1.to.as_str(), b1.label.as_str()), ("h1", "8096/tcp"));
    }

    #[test]
    fn svg_escapes_text_and_marks_what_each_shape_is() {
        let input = sample();
        let svg = svg(&layout(&input, None), &input);
        assert!(svg.contains("Map of network home &lt;lab&gt;"));
        assert!(svg.contains(r#"data-kind="binding" data-id="b1""#));
        assert!(svg.contains(r#"data-kind="dependency" data-id="d1""#));
        assert!(svg.contains("jelly&quot;fin"));
        assert!(!svg.contains("<lab>"));
    }

    #[test]
    fn mermaid_has_subgraphs_nodes_and_coloured_edges() {
        let text = mermaid(&sample());
        assert!(text.starts_with("flowchart LR\n"));
        assert!(text.contains("subgraph sn1[\"10.0.0.0/24 lan\"]"), "{text}");
        assert!(text.contains("jelly#quot;fin"), "{text}");
        assert!(text.contains("-->|\"media\"|"), "{text}");
        assert!(text.contains("linkStyle 0 stroke:#2b8a3e"), "{text}");
        assert!(text.contains("[\"lonely\"]"), "{text}");
    }
}

//! The map of a network in the 0.17 clients' topology shape: nodes per view (containers for
//! subnets, elements for hosts, addresses and services) and edges per view, taken from the one
//! layout `map::layout` computes, so that the topology and the map never disagree.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::map::Map;

/// The views the clients can ask for.
pub const VIEWS: [&str; 2] = ["L3Logical", "Application"];

/// The container of hosts that lie in no subnet (the map's group without an id).
const UNASSIGNED: &str = "unassigned";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopologyNode {
    pub id: String,
    /// `Container` (a subnet) or `Element` (a host, an address, a service).
    pub node_type: &'static str,
    pub position: Point,
    pub size: Point,
    pub header: String,
    /// A container's kind: `Subnet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_type: Option<&'static str>,
    /// An element's container (its subnet's node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// An element's kind: `Host`, `IPAddress` or `Service`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopologyEdge {
    pub id: String,
    pub source: String,
    pub target: String,
    /// `Binding` (a service to the address it listens on, or to its host when it listens on
    /// all interfaces) or `Dependency`.
    pub edge_type: &'static str,
    pub label: String,
}

/// Nodes and edges of both views, by view.
pub struct Views {
    pub nodes: BTreeMap<&'static str, Vec<TopologyNode>>,
    pub edges: BTreeMap<&'static str, Vec<TopologyEdge>>,
}

pub fn views(map: &Map) -> Views {
    let parent_of: HashMap<&str, Option<&str>> = map
        .nodes
        .iter()
        .filter(|n| n.kind == "host")
        .map(|n| (n.id.as_str(), n.parent.as_deref()))
        .collect();
    // The container of an element: its subnet, for an address or a service its host's subnet.
    let subnet_of = |kind: &str, parent: Option<&str>| -> Option<String> {
        let subnet = if kind == "host" {
            parent
        } else {
            parent.and_then(|h| parent_of.get(h).copied().flatten())
        };
        subnet.map(str::to_string)
    };
    let mut l3 = Vec::new();
    let mut application = Vec::new();
    for n in &map.nodes {
        let mut node = TopologyNode {
            id: n.id.clone(),
            node_type: "Element",
            position: Point { x: n.x, y: n.y },
            size: Point {
                x: n.width,
                y: n.height,
            },
            header: n.label.clone(),
            container_type: None,
            container_id: None,
            host_id: None,
            element_type: None,
            subnet_id: None,
        };
        match n.kind {
            "subnet" => {
                node.node_type = "Container";
                node.container_type = Some("Subnet");
                if node.id.is_empty() {
                    node.id = UNASSIGNED.into();
                }
                l3.push(node.clone());
                application.push(node);
            }
            "host" | "ip_address" | "service" => {
                let subnet = subnet_of(n.kind, n.parent.as_deref());
                node.container_id = Some(subnet.clone().unwrap_or_else(|| UNASSIGNED.into()));
                node.subnet_id = subnet;
                node.host_id = Some(if n.kind == "host" {
                    n.id.clone()
                } else {
                    n.parent.clone().unwrap_or_default()
                });
                node.element_type = Some(match n.kind {
                    "host" => "Host",
                    "ip_address" => "IPAddress",
                    _ => "Service",
                });
                if n.kind == "service" {
                    application.push(node.clone());
                }
                l3.push(node);
            }
            // The all-interfaces pill shares its host's id: bindings to it point at the host.
            _ => {}
        }
    }
    let mut bindings = Vec::new();
    let mut dependencies = Vec::new();
    for e in &map.edges {
        let edge = TopologyEdge {
            id: e.id.clone(),
            source: e.from.clone(),
            target: e.to.clone(),
            edge_type: if e.kind == "binding" {
                "Binding"
            } else {
                "Dependency"
            },
            label: e.label.clone(),
        };
        if e.kind == "binding" {
            bindings.push(edge);
        } else {
            dependencies.push(edge);
        }
    }
    Views {
        nodes: BTreeMap::from([("L3Logical", l3), ("Application", application)]),
        edges: BTreeMap::from([("L3Logical", bindings), ("Application", dependencies)]),
    }
}

//! What the map of a network draws, read as of an instant: subnets, hosts with their
//! addresses, ports and services, and dependencies.

use rusqlite::Connection;

use super::hosts::{Embed, HostFilter};
use super::query::PageRequest;
use super::versions::{AsOf, Temporal};
use crate::domain::dependencies::{links, DependencyType};
use crate::domain::map::{
    MapAddress, MapBinding, MapDependency, MapHost, MapInput, MapPort, MapService, MapSubnet,
};
use crate::error::ApiResult;

/// The live id of a row, also for a closed version read as of an instant.
fn lineage(id: &str, t: &Temporal) -> String {
    t.lineage_id.clone().unwrap_or_else(|| id.to_string())
}

/// The network's objects as of `at`, as the API shows them.
#[derive(Clone)]
pub struct MapRecords {
    pub subnets: Vec<super::subnets::Subnet>,
    pub hosts: Vec<super::hosts::Host>,
    pub dependencies: Vec<super::dependencies::Dependency>,
}

pub fn load(
    conn: &Connection,
    network_id: &str,
    network_name: &str,
    at: &AsOf,
) -> ApiResult<MapInput> {
    Ok(into_input(
        records(conn, network_id, at)?,
        network_id,
        network_name,
    ))
}

pub fn records(conn: &Connection, network_id: &str, at: &AsOf) -> ApiResult<MapRecords> {
    let everything = PageRequest {
        limit: None,
        offset: 0,
    };
    let (subnets, _) = super::subnets::list(
        conn,
        &None,
        Some(network_id.to_string()),
        "s.cidr, s.id",
        everything,
        at,
    )?;
    let filter = HostFilter {
        network_id: Some(network_id.to_string()),
        ..HostFilter::default()
    };
    let (hosts, _) = super::hosts::list(
        conn,
        &None,
        &filter,
        "h.name, h.id",
        everything,
        Embed::Children,
        at,
    )?;
    let dependencies = super::dependencies::of_network(conn, network_id, at)?;
    Ok(MapRecords {
        subnets,
        hosts,
        dependencies,
    })
}

/// What the layout needs of the records.
pub fn into_input(records: MapRecords, network_id: &str, network_name: &str) -> MapInput {
    let MapRecords {
        subnets,
        hosts,
        dependencies,
    } = records;
    MapInput {
        network_id: network_id.to_string(),
        network_name: network_name.to_string(),
        subnets: subnets
            .into_iter()
            .map(|s| MapSubnet {
                id: lineage(&s.id, &s.temporal),
                cidr: s.cidr,
                name: s.name,
            })
            .collect(),
        hosts: hosts
            .into_iter()
            .map(|h| MapHost {
                id: lineage(&h.id, &h.temporal),
                name: h.name,
                hostname: h.hostname,
                addresses: h
                    .ip_addresses
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| MapAddress {
                        id: lineage(&a.id, &a.temporal),
                        address: a.ip_address,
                        subnet_id: a.subnet_id,
                    })
                    .collect(),
                ports: h
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| MapPort {
                        id: lineage(&p.id, &p.temporal),
                        number: p.number,
                        protocol: p.protocol,
                    })
                    .collect(),
                services: h
                    .services
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| MapService {
                        id: lineage(&s.id, &s.temporal),
                        name: s.name,
                        service_definition: s.service_definition,
                        bindings: s
                            .bindings
                            .into_iter()
                            .map(|b| MapBinding {
                                id: lineage(&b.id, &b.temporal),
                                port_id: b.port_id,
                                ip_address_id: b.ip_address_id,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        dependencies: dependencies
            .into_iter()
            .map(|d| {
                let id = lineage(&d.id, &d.temporal);
                let kind = DependencyType::parse(&d.dependency_type)
                    .unwrap_or(DependencyType::RequestPath);
                MapDependency {
                    links: links(&id, kind, &d.members)
                        .into_iter()
                        .map(|l| (l.from, l.to))
                        .collect(),
                    id,
                    name: d.name,
                    color: d.color,
                }
            })
            .collect(),
    }
}

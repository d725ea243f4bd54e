//! A host's IP addresses, ports and services sent with the host (the peer's 0.17 wire format).
//! Every child goes through the same use case as its own endpoint, so the validation and the
//! binding rules stay where they are; this module only decides the order and where an error
//! points in the body.

use std::collections::HashSet;

use rusqlite::Transaction;

use super::bindings::{settle, Holder};
use super::ip_addresses::IpAddressInput;
use super::journal::Writer;
use super::ports::PortInput;
use super::services::ServiceInput;
use crate::db::hosts::Embed;
use crate::db::versions::{self, Versioned};
use crate::db::{self, services::Service};
use crate::domain::bindings::{Change, Wanted};
use crate::error::{ApiError, ApiResult};

/// One entry of a children array: the client's id for it and what it should be.
#[derive(Clone)]
pub struct Child<T> {
    pub id: String,
    pub input: T,
}

/// The arrays of a host body. `None` keeps what is stored; `Some` is the complete set.
#[derive(Default, Clone)]
pub struct Children {
    pub ip_addresses: Option<Vec<Child<IpAddressInput>>>,
    pub ports: Option<Vec<Child<PortInput>>>,
    pub services: Option<Vec<Child<ServiceInput>>>,
}

fn at(array: &str, i: usize) -> String {
    format!("{array}[{i}]")
}

/// The ids of one array, each either a stored child of this host or new and unused.
fn classify<T>(
    tx: &Transaction,
    array: &str,
    entries: &[Child<T>],
    stored: &HashSet<&str>,
    table: &Versioned,
    seen: &mut HashSet<String>,
) -> ApiResult<()> {
    for (i, child) in entries.iter().enumerate() {
        if !seen.insert(child.id.clone()) {
            return Err(ApiError::validation(
                format!("{}.id", at(array, i)),
                format!("id {} appears twice in the request", child.id),
            ));
        }
        if !stored.contains(child.id.as_str()) && versions::id_in_use(tx, table, &child.id)? {
            return Err(ApiError::conflict(format!(
                "id {} is already in use by another object",
                child.id
            ))
            .with_field(format!("{}.id", at(array, i)))
            .with_hint("Choose a new UUID for a new child"));
        }
    }
    Ok(())
}

fn ids_of<T>(entries: &Option<Vec<Child<T>>>) -> Option<HashSet<&str>> {
    entries
        .as_ref()
        .map(|list| list.iter().map(|c| c.id.as_str()).collect())
}

/// Brings the children of `host_id` to what the request sent, in one transaction with the
/// host's own write. The order lets a port move between services in one request: services
/// that go are deleted, services that stay give up the bindings they will not keep, ports and
/// addresses that go are deleted, the rest are updated or created, and only then do services
/// take their new bindings.
pub fn sync(tx: &Transaction, who: &Writer, host_id: &str, children: Children) -> ApiResult<()> {
    if children.ip_addresses.is_none() && children.ports.is_none() && children.services.is_none() {
        return Ok(());
    }
    let host = db::hosts::get(tx, host_id, Embed::Children)?;
    let stored_ips = host.ip_addresses.unwrap_or_default();
    let stored_ports = host.ports.unwrap_or_default();
    let stored_services = host.services.unwrap_or_default();

    let mut seen = HashSet::new();
    if let Some(list) = &children.ip_addresses {
        let stored = stored_ips.iter().map(|c| c.id.as_str()).collect();
        classify(
            tx,
            "ip_addresses",
            list,
            &stored,
            &versions::IP_ADDRESSES,
            &mut seen,
        )?;
    }
    if let Some(list) = &children.ports {
        let stored = stored_ports.iter().map(|c| c.id.as_str()).collect();
        classify(tx, "ports", list, &stored, &versions::PORTS, &mut seen)?;
    }
    if let Some(list) = &children.services {
        let stored = stored_services.iter().map(|c| c.id.as_str()).collect();
        classify(
            tx,
            "services",
            list,
            &stored,
            &versions::SERVICES,
            &mut seen,
        )?;
    }

    if let Some(keep) = ids_of(&children.services) {
        for service in stored_services
            .iter()
            .filter(|s| !keep.contains(s.id.as_str()))
        {
            super::services::delete(tx, who, &service.id)?;
        }
    }
    for (i, child) in children.services.iter().flatten().enumerate() {
        if let Some(service) = stored_services.iter().find(|s| s.id == child.id) {
            release(tx, who, service, &child.input.bindings)
                .map_err(|e| e.under(&at("services", i)))?;
        }
    }
    if let Some(keep) = ids_of(&children.ports) {
        for port in stored_ports
            .iter()
            .filter(|p| !keep.contains(p.id.as_str()))
        {
            super::ports::delete(tx, who, &port.id, true)?;
        }
    }
    if let Some(keep) = ids_of(&children.ip_addresses) {
        for ip in stored_ips.iter().filter(|a| !keep.contains(a.id.as_str())) {
            super::ip_addresses::delete(tx, who, &ip.id, true)?;
        }
    }

    for (i, Child { id, mut input }) in children.ip_addresses.into_iter().flatten().enumerate() {
        input.host_id = host_id.to_string();
        let written = if stored_ips.iter().any(|s| s.id == id) {
            super::ip_addresses::update(tx, who, &id, input).map(drop)
        } else {
            super::ip_addresses::create_as(tx, who, id, input).map(drop)
        };
        written.map_err(|e| e.under(&at("ip_addresses", i)))?;
    }
    for (i, Child { id, mut input }) in children.ports.into_iter().flatten().enumerate() {
        input.host_id = host_id.to_string();
        let written = if stored_ports.iter().any(|s| s.id == id) {
            super::ports::update(tx, who, &id, input).map(drop)
        } else {
            super::ports::create_as(tx, who, id, input).map(drop)
        };
        written.map_err(|e| e.under(&at("ports", i)))?;
    }
    for (i, Child { id, mut input }) in children.services.into_iter().flatten().enumerate() {
        input.host_id = host_id.to_string();
        let written = if stored_services.iter().any(|s| s.id == id) {
            super::services::update(tx, who, &id, input).map(drop)
        } else {
            // A new service has no stored bindings for an id to select.
            input.bindings.iter_mut().for_each(|b| b.id = None);
            super::services::create_as(tx, who, id, input).map(drop)
        };
        written.map_err(|e| e.under(&at("services", i)))?;
    }
    Ok(())
}

/// Ends the bindings of `service` that `wanted` no longer asks for (by id, or by target), so
/// that another service of the same request can take their ports.
fn release(tx: &Transaction, who: &Writer, service: &Service, wanted: &[Wanted]) -> ApiResult<()> {
    let kept: Vec<Wanted> = service
        .bindings
        .iter()
        .filter(|b| {
            let target = b.target();
            wanted
                .iter()
                .any(|w| w.id.as_deref() == Some(b.id.as_str()) || w.target == target)
        })
        .map(|b| Wanted {
            field: String::new(),
            id: Some(b.id.clone()),
            target: b.target(),
        })
        .collect();
    if kept.len() == service.bindings.len() {
        return Ok(());
    }
    let holder = Holder {
        service_id: service.id.clone(),
        host_id: service.host_id.clone(),
        network_id: service.network_id.clone(),
    };
    settle(tx, who, &holder, Change::Replace(kept)).map(drop)
}

//! Consolidating two hosts that are one machine (discovery found it twice, or a user entered
//! it twice): the other host's parts move onto the destination and the other host goes.

use std::collections::HashMap;

use rusqlite::Transaction;

use super::bindings::{settle, Holder};
use super::journal::Writer;
use crate::db::hosts::{Embed, Host};
use crate::db::{self, services::Service};
use crate::domain::bindings::{Change, Target, Wanted};
use crate::domain::history::EntityType;
use crate::error::{ApiError, ApiResult};

/// Moves every IP address, port and service of `other_id` onto `destination_id` and deletes
/// `other_id`, in the caller's transaction. An address or port both hosts have (same address;
/// same number and protocol) becomes the destination's, and the bindings on the other's copy
/// are retargeted to it through the binding rules: a result that breaks them is the rules' 409
/// (with the binding named in `params`) and the caller rolls everything back.
pub fn consolidate(
    tx: &Transaction,
    who: &Writer,
    destination_id: &str,
    other_id: &str,
) -> ApiResult<Host> {
    if destination_id == other_id {
        return Err(ApiError::validation(
            "other_id",
            "A host cannot be consolidated with itself",
        ));
    }
    let destination = db::hosts::get(tx, destination_id, Embed::Children)?;
    who.check_network(&destination.network_id)?;
    let other =
        db::hosts::get(tx, other_id, Embed::Children).map_err(|e| e.with_field("other_id"))?;
    who.check_network(&other.network_id)?;
    if other.network_id != destination.network_id {
        return Err(
            ApiError::validation("other_id", "Both hosts must be in the same network")
                .with_param("network_id", destination.network_id.as_str())
                .with_param("other_network_id", other.network_id.as_str()),
        );
    }

    // The other's copies of what the destination already has, and their replacements.
    let mut same: HashMap<String, String> = HashMap::new();
    let dest_ips = destination.ip_addresses.unwrap_or_default();
    let dest_ports = destination.ports.unwrap_or_default();
    let mut merged_ips = Vec::new();
    let mut merged_ports = Vec::new();
    let mut next_ip_position = db::ip_addresses::next_position(tx, destination_id)?;
    for mut ip in other.ip_addresses.unwrap_or_default() {
        if let Some(twin) = dest_ips.iter().find(|d| d.ip_address == ip.ip_address) {
            same.insert(ip.id.clone(), twin.id.clone());
            merged_ips.push(ip);
            continue;
        }
        let before = ip.clone();
        ip.host_id = destination_id.to_string();
        ip.position = next_ip_position;
        next_ip_position += 1;
        ip.updated_at = who.now.clone();
        ip.temporal.restart(&who.now);
        db::ip_addresses::update(tx, &ip)?;
        who.updated(tx, EntityType::IpAddress, &before, &ip)?;
    }
    for mut port in other.ports.unwrap_or_default() {
        let twin = dest_ports
            .iter()
            .find(|d| d.number == port.number && d.protocol == port.protocol);
        if let Some(twin) = twin {
            same.insert(port.id.clone(), twin.id.clone());
            merged_ports.push(port);
            continue;
        }
        let before = port.clone();
        port.host_id = destination_id.to_string();
        port.updated_at = who.now.clone();
        port.temporal.restart(&who.now);
        db::ports::update(tx, &port)?;
        who.updated(tx, EntityType::Port, &before, &port)?;
    }

    let positions = db::services::count_on_host(tx, destination_id)?..;
    for (position, service) in positions.zip(other.services.unwrap_or_default()) {
        let before = db::services::get_row(tx, &service.id)?;
        let mut moved = before.clone();
        moved.host_id = destination_id.to_string();
        moved.position = position;
        moved.updated_at = who.now.clone();
        moved.temporal.restart(&who.now);
        db::services::update(tx, &before, &moved)?;
        who.updated(tx, EntityType::Service, &before, &moved)?;
        repoint(tx, who, &service, destination_id, &same)?;
    }

    // The other's copies now carry no bindings; they end with the other host.
    for port in &merged_ports {
        who.deleted(tx, EntityType::Port, port)?;
        db::ports::delete(tx, &port.id)?;
    }
    for ip in &merged_ips {
        who.deleted(tx, EntityType::IpAddress, ip)?;
        db::ip_addresses::delete(tx, &ip.id)?;
    }
    let other_row = db::hosts::get(tx, other_id, Embed::Nothing)?;
    who.deleted(tx, EntityType::Host, &other_row)?;
    db::hosts::delete(tx, other_id)?;
    db::hosts::get(tx, destination_id, Embed::Children)
}

/// Retargets the bindings of a moved service from the other's copies to the destination's
/// rows, keeping each binding's id (its history continues).
fn repoint(
    tx: &Transaction,
    who: &Writer,
    service: &Service,
    host_id: &str,
    same: &HashMap<String, String>,
) -> ApiResult<()> {
    let swap = |id: &String| same.get(id).cloned().unwrap_or_else(|| id.clone());
    let touched = service.bindings.iter().any(|b| {
        b.port_id.as_ref().is_some_and(|p| same.contains_key(p))
            || b.ip_address_id
                .as_ref()
                .is_some_and(|i| same.contains_key(i))
    });
    if !touched {
        return Ok(());
    }
    let wanted: Vec<Wanted> = service
        .bindings
        .iter()
        .map(|b| Wanted {
            field: String::new(),
            id: Some(b.id.clone()),
            target: match b.target() {
                Target::Ip { ip } => Target::Ip { ip: swap(&ip) },
                Target::Port { port, ip } => Target::Port {
                    port: swap(&port),
                    ip: ip.as_ref().map(swap),
                },
            },
        })
        .collect();
    let holder = Holder {
        service_id: service.id.clone(),
        host_id: host_id.to_string(),
        network_id: service.network_id.clone(),
    };
    settle(tx, who, &holder, Change::Replace(wanted)).map_err(|e| {
        e.with_field("other_id")
            .with_param("moved_service_id", service.id.as_str())
            .with_hint("Move or remove the conflicting binding first, then consolidate")
    })?;
    Ok(())
}

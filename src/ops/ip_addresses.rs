//! IP address use cases.

use std::net::IpAddr;

use rusqlite::Transaction;

use super::journal::{changes_state, Writer};
use super::{missing_reference, new_id, still_referenced};
use crate::db::{self, ip_addresses::IpAddress};
use crate::domain::history::EntityType;
use crate::domain::net::{Cidr, MacAddress};
use crate::domain::principal::Principal;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct IpAddressInput {
    pub host_id: String,
    /// When given, must equal the host's network.
    pub network_id: Option<String>,
    pub subnet_id: Option<String>,
    pub ip_address: IpAddr,
    pub mac_address: Option<MacAddress>,
    pub name: Option<String>,
    pub position: Option<i64>,
}

/// Resolves the host's network and checks the body's `network_id` against it, then the scope.
pub fn host_network(
    tx: &Transaction,
    who: &Principal,
    host_id: &str,
    claimed: Option<&str>,
) -> ApiResult<String> {
    let network = db::hosts::network_of(tx, host_id)?
        .ok_or_else(|| missing_reference("host_id", "Host", host_id))?;
    who.check_network(&network)?;
    if let Some(claimed) = claimed {
        if claimed != network {
            return Err(ApiError::validation(
                "network_id",
                format!("network_id must be the host's network ({network})"),
            )
            .with_param("host_network_id", network.as_str()));
        }
    }
    Ok(network)
}

fn check_subnet(tx: &Transaction, input: &IpAddressInput, network: &str) -> ApiResult<()> {
    let Some(subnet_id) = &input.subnet_id else {
        return Ok(());
    };
    let subnet = db::subnets::find(tx, subnet_id)?
        .ok_or_else(|| missing_reference("subnet_id", "Subnet", subnet_id))?;
    if subnet.network_id != network {
        // Nothing of the other network is named: the caller may not reach it.
        return Err(
            ApiError::validation("subnet_id", "The subnet belongs to another network")
                .with_param("ip_address", input.ip_address.to_string()),
        );
    }
    let fits = Cidr::parse(&subnet.cidr)
        .map(|c| c.contains(input.ip_address))
        .unwrap_or(false);
    if !fits {
        return Err(ApiError::validation(
            "ip_address",
            format!(
                "{} does not lie inside subnet {}",
                input.ip_address, subnet.cidr
            ),
        )
        .with_param("ip_address", input.ip_address.to_string())
        .with_param("subnet", subnet.cidr));
    }
    Ok(())
}

fn check_unique(tx: &Transaction, host_id: &str, ip: &str, except: Option<&str>) -> ApiResult<()> {
    if db::ip_addresses::address_taken(tx, host_id, ip, except)? {
        return Err(
            ApiError::conflict(format!("The host already has IP address {ip}"))
                .with_field("ip_address"),
        );
    }
    Ok(())
}

pub fn create(tx: &Transaction, who: &Writer, input: IpAddressInput) -> ApiResult<IpAddress> {
    create_as(tx, who, new_id(), input)
}

/// A create under an id the caller chose (a host's children, sent with the host).
pub fn create_as(
    tx: &Transaction,
    who: &Writer,
    id: String,
    input: IpAddressInput,
) -> ApiResult<IpAddress> {
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    check_subnet(tx, &input, &network)?;
    let ip = input.ip_address.to_string();
    check_unique(tx, &input.host_id, &ip, None)?;
    let position = match input.position {
        Some(p) => p,
        None => db::ip_addresses::next_position(tx, &input.host_id)?,
    };
    let record = IpAddress {
        id,
        host_id: input.host_id,
        network_id: network,
        subnet_id: input.subnet_id,
        ip_address: ip,
        mac_address: input.mac_address.map(|m| m.to_string()),
        name: input.name,
        position,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        temporal: who.starting(),
    };
    db::ip_addresses::insert(tx, &record)?;
    who.created(tx, EntityType::IpAddress, &record)?;
    Ok(record)
}

pub fn update(
    tx: &Transaction,
    who: &Writer,
    id: &str,
    input: IpAddressInput,
) -> ApiResult<IpAddress> {
    let stored = db::ip_addresses::get(tx, id)?;
    who.check_network(&stored.network_id)?;
    let mut record = stored.clone();
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    if input.host_id != record.host_id {
        let bound = db::ip_addresses::binding_ids(tx, id)?;
        if !bound.is_empty() {
            return Err(ApiError::conflict(
                "An IP address with live bindings cannot move to another host",
            )
            .with_field("host_id")
            .with_param("binding_ids", bound));
        }
    }
    check_subnet(tx, &input, &network)?;
    let ip = input.ip_address.to_string();
    check_unique(tx, &input.host_id, &ip, Some(id))?;
    if let Some(p) = input.position {
        record.position = p;
    }
    record.host_id = input.host_id;
    record.network_id = network;
    record.subnet_id = input.subnet_id;
    record.ip_address = ip;
    record.mac_address = input.mac_address.map(|m| m.to_string());
    record.name = input.name;
    if changes_state(EntityType::IpAddress, &stored, &record)? {
        record.updated_at = who.now.clone();
        record.temporal.restart(&who.now);
        db::ip_addresses::update(tx, &record)?;
        who.updated(tx, EntityType::IpAddress, &stored, &record)?;
    }
    Ok(record)
}

/// An IP address with live bindings is protected; `cascade` removes those bindings.
pub fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
    let record = db::ip_addresses::get(tx, id)?;
    who.check_network(&record.network_id)?;
    let bound = db::ip_addresses::binding_ids(tx, id)?;
    if !bound.is_empty() && !cascade {
        return Err(still_referenced("IP address", id).with_param("binding_ids", bound));
    }
    super::bindings::close_all(tx, who, &bound)?;
    who.deleted(tx, EntityType::IpAddress, &record)?;
    db::ip_addresses::delete(tx, id)
}

/// Takes IP addresses off a subnet that goes away: each one's state changes (`subnet_id`
/// becomes null), and is journaled like any update.
pub fn detach_from_subnet(tx: &Transaction, who: &Writer, subnet_id: &str) -> ApiResult<()> {
    for (id, _) in db::subnets::addresses(tx, subnet_id)? {
        let stored = db::ip_addresses::get(tx, &id)?;
        let mut record = stored.clone();
        record.subnet_id = None;
        record.updated_at = who.now.clone();
        record.temporal.restart(&who.now);
        db::ip_addresses::update(tx, &record)?;
        who.updated(tx, EntityType::IpAddress, &stored, &record)?;
    }
    Ok(())
}

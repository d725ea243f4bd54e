//! Network use cases. Networks are global: only unscoped Admin keys change them.

use rusqlite::Transaction;

use super::journal::{changes_state, Writer};
use super::{check_tags, new_id, still_referenced};
use crate::db::{self, networks::Network, tags::Tagged};
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct NetworkInput {
    pub name: Name,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// What the client sent back of the read-only `organization_id`, checked, never stored.
    pub organization_id: Option<String>,
}

fn check_name(tx: &Transaction, name: &Name, except: Option<&str>) -> ApiResult<()> {
    match db::networks::id_by_name(tx, name.as_str())? {
        Some(id) if Some(id.as_str()) != except => Err(ApiError::conflict(format!(
            "A network named \"{}\" already exists",
            name.as_str()
        ))
        .with_field("name")
        .with_param("network_id", id)),
        _ => Ok(()),
    }
}

pub fn create(tx: &Transaction, who: &Writer, input: NetworkInput) -> ApiResult<Network> {
    who.check_global_write()?;
    db::organizations::check(tx, input.organization_id.as_deref())?;
    check_tags(tx, &input.tags)?;
    check_name(tx, &input.name, None)?;
    let network = Network {
        id: new_id(),
        organization_id: db::organizations::id(tx)?,
        name: input.name.into_inner(),
        description: input.description,
        tags: input.tags,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
    };
    db::networks::insert(tx, &network)?;
    db::tags::set_tags(tx, Tagged::Network, &network.id, &network.tags)?;
    who.created(tx, EntityType::Network, &network)?;
    Ok(network)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: NetworkInput) -> ApiResult<Network> {
    who.check_global_write()?;
    db::organizations::check(tx, input.organization_id.as_deref())?;
    let stored = db::networks::get(tx, id)?;
    let mut network = stored.clone();
    check_tags(tx, &input.tags)?;
    check_name(tx, &input.name, Some(id))?;
    network.name = input.name.into_inner();
    network.description = input.description;
    network.tags = input.tags;
    if changes_state(EntityType::Network, &stored, &network)? {
        network.updated_at = who.now.clone();
        db::networks::update(tx, &network)?;
        db::tags::set_tags(tx, Tagged::Network, id, &network.tags)?;
        who.updated(tx, EntityType::Network, &stored, &network)?;
    }
    Ok(network)
}

/// A network with hosts or subnets is protected; `cascade` deletes them with it.
pub fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
    who.check_global_write()?;
    let network = db::networks::get(tx, id)?;
    let (hosts, subnets) = db::networks::contents(tx, id)?;
    if (hosts > 0 || subnets > 0) && !cascade {
        return Err(still_referenced("Network", id)
            .with_param("hosts", hosts)
            .with_param("subnets", subnets));
    }
    for host in db::networks::host_ids(tx, id)? {
        super::hosts::close(tx, who, &host)?;
    }
    for subnet in db::networks::subnet_ids(tx, id)? {
        who.deleted(tx, EntityType::Subnet, &db::subnets::get(tx, &subnet)?)?;
    }
    who.deleted(tx, EntityType::Network, &network)?;
    db::networks::delete(tx, id)
}

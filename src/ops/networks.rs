//! Network use cases. Networks are global: only unscoped Admin keys change them.

use rusqlite::Transaction;

use super::{check_tags, new_id, still_referenced};
use crate::db::{self, networks::Network, tags::Tagged};
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

pub struct NetworkInput {
    pub name: Name,
    pub description: Option<String>,
    pub tags: Vec<String>,
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

pub fn create(tx: &Transaction, who: &Principal, input: NetworkInput) -> ApiResult<Network> {
    who.check_global_write()?;
    check_tags(tx, &input.tags)?;
    check_name(tx, &input.name, None)?;
    let now = clock::now();
    let network = Network {
        id: new_id(),
        name: input.name.into_inner(),
        description: input.description,
        tags: input.tags,
        created_at: now.clone(),
        updated_at: now,
    };
    db::networks::insert(tx, &network)?;
    db::tags::set_tags(tx, Tagged::Network, &network.id, &network.tags)?;
    Ok(network)
}

pub fn update(
    tx: &Transaction,
    who: &Principal,
    id: &str,
    input: NetworkInput,
) -> ApiResult<Network> {
    who.check_global_write()?;
    let mut network = db::networks::get(tx, id)?;
    check_tags(tx, &input.tags)?;
    check_name(tx, &input.name, Some(id))?;
    network.name = input.name.into_inner();
    network.description = input.description;
    network.tags = input.tags;
    network.updated_at = clock::now();
    db::networks::update(tx, &network)?;
    db::tags::set_tags(tx, Tagged::Network, id, &network.tags)?;
    Ok(network)
}

/// A network with hosts or subnets is protected; `cascade` deletes them with it.
pub fn delete(tx: &Transaction, who: &Principal, id: &str, cascade: bool) -> ApiResult<()> {
    who.check_global_write()?;
    if !db::networks::exists(tx, id)? {
        return Err(ApiError::not_found("Network"));
    }
    let (hosts, subnets) = db::networks::contents(tx, id)?;
    if (hosts > 0 || subnets > 0) && !cascade {
        return Err(still_referenced("Network", id)
            .with_param("hosts", hosts)
            .with_param("subnets", subnets));
    }
    db::networks::delete(tx, id)
}

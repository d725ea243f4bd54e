//! Subnet use cases.

use rusqlite::Transaction;

use super::journal::{changes_state, Writer};
use super::{check_tags, missing_reference, new_id, still_referenced};
use crate::db::{self, subnets::Subnet, tags::Tagged};
use crate::domain::enums::SubnetType;
use crate::domain::history::EntityType;
use crate::domain::net::{parse_ip, Cidr};
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct SubnetInput {
    pub network_id: String,
    pub cidr: Cidr,
    pub name: Name,
    pub description: Option<String>,
    pub subnet_type: SubnetType,
    pub tags: Vec<String>,
}

fn check_network(tx: &Transaction, who: &Writer, network_id: &str) -> ApiResult<()> {
    if !db::networks::exists(tx, network_id)? {
        return Err(missing_reference("network_id", "Network", network_id));
    }
    who.check_network(network_id)
}

fn check_cidr_free(tx: &Transaction, input: &SubnetInput, except: Option<&str>) -> ApiResult<()> {
    let cidr = input.cidr.to_string();
    if db::subnets::cidr_taken(tx, &input.network_id, &cidr, except)? {
        return Err(
            ApiError::conflict(format!("The network already has a subnet {cidr}"))
                .with_field("cidr"),
        );
    }
    Ok(())
}

pub fn create(tx: &Transaction, who: &Writer, input: SubnetInput) -> ApiResult<Subnet> {
    check_network(tx, who, &input.network_id)?;
    check_tags(tx, &input.tags)?;
    check_cidr_free(tx, &input, None)?;
    let subnet = Subnet {
        id: new_id(),
        network_id: input.network_id,
        cidr: input.cidr.to_string(),
        name: input.name.into_inner(),
        description: input.description,
        subnet_type: input.subnet_type.as_str().to_string(),
        tags: input.tags,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        temporal: who.starting(),
    };
    db::subnets::insert(tx, &subnet)?;
    db::tags::set_tags(tx, Tagged::Subnet, &subnet.id, &subnet.tags)?;
    who.created(tx, EntityType::Subnet, &subnet)?;
    Ok(subnet)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: SubnetInput) -> ApiResult<Subnet> {
    let stored = db::subnets::get(tx, id)?;
    who.check_network(&stored.network_id)?;
    let mut subnet = stored.clone();
    check_network(tx, who, &input.network_id)?;
    check_tags(tx, &input.tags)?;
    check_cidr_free(tx, &input, Some(id))?;
    let addresses = db::subnets::addresses(tx, id)?;
    if input.network_id != subnet.network_id && !addresses.is_empty() {
        return Err(ApiError::validation(
            "network_id",
            "A subnet with IP addresses cannot move to another network",
        )
        .with_param("ip_address", addresses[0].1.as_str()));
    }
    for (_, address) in &addresses {
        let fits = parse_ip(address)
            .map(|ip| input.cidr.contains(ip))
            .unwrap_or(false);
        if !fits {
            return Err(ApiError::validation(
                "cidr",
                format!(
                    "IP address {address} on this subnet would not lie inside {}",
                    input.cidr
                ),
            )
            .with_param("ip_address", address.as_str())
            .with_param("subnet", input.cidr.to_string()));
        }
    }
    subnet.network_id = input.network_id;
    subnet.cidr = input.cidr.to_string();
    subnet.name = input.name.into_inner();
    subnet.description = input.description;
    subnet.subnet_type = input.subnet_type.as_str().to_string();
    subnet.tags = input.tags;
    if changes_state(EntityType::Subnet, &stored, &subnet)? {
        subnet.updated_at = who.now.clone();
        subnet.temporal.restart(&who.now);
        db::subnets::update(tx, &subnet)?;
        db::tags::set_tags(tx, Tagged::Subnet, id, &subnet.tags)?;
        who.updated(tx, EntityType::Subnet, &stored, &subnet)?;
    }
    Ok(subnet)
}

/// A subnet with IP addresses is protected; `cascade` detaches them (their `subnet_id` becomes null).
pub fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
    let subnet = db::subnets::get(tx, id)?;
    who.check_network(&subnet.network_id)?;
    let addresses = db::subnets::addresses(tx, id)?;
    if !addresses.is_empty() && !cascade {
        let ids: Vec<&str> = addresses.iter().map(|(id, _)| id.as_str()).collect();
        return Err(still_referenced("Subnet", id).with_param("ip_address_ids", ids));
    }
    super::ip_addresses::detach_from_subnet(tx, who, id)?;
    who.deleted(tx, EntityType::Subnet, &subnet)?;
    db::subnets::delete(tx, id)
}

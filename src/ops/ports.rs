//! Port use cases.

use rusqlite::Transaction;

use super::ip_addresses::host_network;
use super::journal::{changes_state, Writer};
use super::{new_id, still_referenced};
use crate::db::{self, ports::Port};
use crate::domain::history::EntityType;
use crate::domain::port::{port_type, PortNumber, Protocol};
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct PortInput {
    pub host_id: String,
    pub network_id: Option<String>,
    pub number: PortNumber,
    pub protocol: Protocol,
}

fn check_unique(tx: &Transaction, input: &PortInput, except: Option<&str>) -> ApiResult<()> {
    let n = input.number.get();
    let proto = input.protocol.as_str();
    if db::ports::number_taken(tx, &input.host_id, n, proto, except)? {
        return Err(
            ApiError::conflict(format!("The host already has port {n}/{proto}"))
                .with_field("number"),
        );
    }
    Ok(())
}

pub fn create(tx: &Transaction, who: &Writer, input: PortInput) -> ApiResult<Port> {
    create_as(tx, who, new_id(), input)
}

/// A create under an id the caller chose (a host's children, sent with the host).
pub fn create_as(tx: &Transaction, who: &Writer, id: String, input: PortInput) -> ApiResult<Port> {
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    check_unique(tx, &input, None)?;
    let port = Port {
        id,
        host_id: input.host_id,
        network_id: network,
        number: input.number.get(),
        protocol: input.protocol.as_str().to_string(),
        port_type: port_type(input.number.get(), input.protocol),
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        temporal: who.starting(),
    };
    db::ports::insert(tx, &port)?;
    who.created(tx, EntityType::Port, &port)?;
    Ok(port)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: PortInput) -> ApiResult<Port> {
    let stored = db::ports::get(tx, id)?;
    who.check_network(&stored.network_id)?;
    let mut port = stored.clone();
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    if input.host_id != port.host_id {
        let bound = db::ports::binding_ids(tx, id)?;
        if !bound.is_empty() {
            return Err(ApiError::conflict(
                "A port with live bindings cannot move to another host",
            )
            .with_field("host_id")
            .with_param("binding_ids", bound));
        }
    }
    check_unique(tx, &input, Some(id))?;
    port.host_id = input.host_id;
    port.network_id = network;
    port.number = input.number.get();
    port.protocol = input.protocol.as_str().to_string();
    port.port_type = port_type(port.number, input.protocol);
    if changes_state(EntityType::Port, &stored, &port)? {
        port.updated_at = who.now.clone();
        port.temporal.restart(&who.now);
        db::ports::update(tx, &port)?;
        who.updated(tx, EntityType::Port, &stored, &port)?;
    }
    Ok(port)
}

/// A port with live bindings is protected; `cascade` removes those bindings.
pub fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
    let port = db::ports::get(tx, id)?;
    who.check_network(&port.network_id)?;
    let bound = db::ports::binding_ids(tx, id)?;
    if !bound.is_empty() && !cascade {
        return Err(still_referenced("Port", id).with_param("binding_ids", bound));
    }
    super::bindings::close_all(tx, who, &bound)?;
    who.deleted(tx, EntityType::Port, &port)?;
    db::ports::delete(tx, id)
}

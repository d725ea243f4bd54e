//! Port use cases.

use rusqlite::Transaction;

use super::ip_addresses::host_network;
use super::{new_id, still_referenced};
use crate::db::{self, ports::Port};
use crate::domain::clock;
use crate::domain::port::{port_type, PortNumber, Protocol};
use crate::domain::principal::Principal;
use crate::error::{ApiError, ApiResult};

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

pub fn create(tx: &Transaction, who: &Principal, input: PortInput) -> ApiResult<Port> {
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    check_unique(tx, &input, None)?;
    let now = clock::now();
    let port = Port {
        id: new_id(),
        host_id: input.host_id,
        network_id: network,
        number: input.number.get(),
        protocol: input.protocol.as_str().to_string(),
        port_type: port_type(input.number.get(), input.protocol),
        created_at: now.clone(),
        updated_at: now,
    };
    db::ports::insert(tx, &port)?;
    Ok(port)
}

pub fn update(tx: &Transaction, who: &Principal, id: &str, input: PortInput) -> ApiResult<Port> {
    let mut port = db::ports::get(tx, id)?;
    who.check_network(&port.network_id)?;
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
    port.updated_at = clock::now();
    db::ports::update(tx, &port)?;
    Ok(port)
}

/// A port with live bindings is protected; `cascade` removes those bindings.
pub fn delete(tx: &Transaction, who: &Principal, id: &str, cascade: bool) -> ApiResult<()> {
    let port = db::ports::get(tx, id)?;
    who.check_network(&port.network_id)?;
    let bound = db::ports::binding_ids(tx, id)?;
    if !bound.is_empty() && !cascade {
        return Err(still_referenced("Port", id).with_param("binding_ids", bound));
    }
    db::ports::delete(tx, id)
}

//! Host use cases. A host's IP addresses, ports and services are its own parts and go with it.

use rusqlite::Transaction;
use serde_json::Value;

use super::host_children::{sync, Children};
use super::journal::{changes_state, Writer};
use super::{check_expected_updated_at, check_tags, missing_reference, new_id};
use crate::db::hosts::Embed;
use crate::db::{self, hosts::Host, tags::Tagged};
use crate::domain::history::EntityType;
use crate::domain::text::{Hostname, Name};
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct HostInput {
    /// Required on create; `None` on update keeps the host's network.
    pub network_id: Option<String>,
    pub name: Name,
    pub hostname: Option<Hostname>,
    pub description: Option<String>,
    pub hidden: bool,
    pub virtualization: Option<Value>,
    pub tags: Vec<String>,
    /// Update only: the `updated_at` the client last read (the peer's lost-update guard).
    pub expected_updated_at: Option<String>,
    pub children: Children,
    /// Create only: where the host came from; `None` is the writer's own (manual, or the
    /// discovery it reconciles).
    pub source: Option<Value>,
}

fn check_network(tx: &Transaction, who: &Writer, network_id: &str) -> ApiResult<()> {
    if !db::networks::exists(tx, network_id)? {
        return Err(missing_reference("network_id", "Network", network_id));
    }
    who.check_network(network_id)
}

pub fn create(tx: &Transaction, who: &Writer, input: HostInput) -> ApiResult<Host> {
    let network_id = input
        .network_id
        .ok_or_else(|| ApiError::validation("network_id", "Field \"network_id\" is required"))?;
    check_network(tx, who, &network_id)?;
    check_tags(tx, &input.tags)?;
    let host = Host {
        id: new_id(),
        network_id,
        name: input.name.into_inner(),
        hostname: input.hostname.map(Hostname::into_inner),
        description: input.description,
        hidden: input.hidden,
        virtualization: input.virtualization,
        source: input.source.unwrap_or_else(|| who.source()),
        machine_id: None,
        tags: input.tags,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        temporal: who.starting(),
        ip_addresses: None,
        ports: None,
        services: None,
    };
    db::hosts::insert(tx, &host)?;
    db::tags::set_tags(tx, Tagged::Host, &host.id, &host.tags)?;
    who.created(tx, EntityType::Host, &host)?;
    sync(tx, who, &host.id, input.children)?;
    db::hosts::get(tx, &host.id, Embed::Children)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: HostInput) -> ApiResult<Host> {
    let stored = db::hosts::get(tx, id, Embed::Nothing)?;
    who.check_network(&stored.network_id)?;
    check_expected_updated_at(input.expected_updated_at.as_deref(), &stored.updated_at)?;
    let network_id = input
        .network_id
        .unwrap_or_else(|| stored.network_id.clone());
    if network_id != stored.network_id {
        check_network(tx, who, &network_id)?;
        let children = db::hosts::child_count(tx, id)?;
        if children > 0 {
            return Err(ApiError::validation(
                "network_id",
                "A host with IP addresses, ports or services cannot move to another network",
            )
            .with_param("children", children));
        }
    }
    check_tags(tx, &input.tags)?;
    let mut host = stored.clone();
    host.network_id = network_id;
    host.name = input.name.into_inner();
    host.hostname = input.hostname.map(Hostname::into_inner);
    host.description = input.description;
    host.hidden = input.hidden;
    host.virtualization = input.virtualization;
    host.tags = input.tags;
    if changes_state(EntityType::Host, &stored, &host)? {
        host.updated_at = who.now.clone();
        host.temporal.restart(&who.now);
        db::hosts::update(tx, &host)?;
        db::tags::set_tags(tx, Tagged::Host, id, &host.tags)?;
        who.updated(tx, EntityType::Host, &stored, &host)?;
    }
    sync(tx, who, id, input.children)?;
    db::hosts::get(tx, id, Embed::Children)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let network = db::hosts::network_of(tx, id)?.ok_or_else(|| ApiError::not_found("Host"))?;
    who.check_network(&network)?;
    close(tx, who, id)?;
    db::hosts::delete(tx, id)
}

/// Journals the end of a host and of every part that goes with it (services with their
/// bindings, ports, IP addresses), before the SQL delete cascades to them.
pub fn close(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let host = db::hosts::get(tx, id, Embed::Children)?;
    for service in host.services.iter().flatten() {
        super::services::close(tx, who, service)?;
    }
    for port in host.ports.iter().flatten() {
        who.deleted(tx, EntityType::Port, port)?;
    }
    for ip in host.ip_addresses.iter().flatten() {
        who.deleted(tx, EntityType::IpAddress, ip)?;
    }
    who.deleted(tx, EntityType::Host, &host)
}

//! Service use cases. A service's bindings are settled by the binding rules in the same transaction.

use rusqlite::Transaction;
use serde_json::Value;

use super::bindings::{settle, Holder};
use super::ip_addresses::host_network;
use super::journal::{changes_state, Writer};
use super::{check_expected_updated_at, check_tags, new_id};
use crate::db::{self, services::Service, tags::Tagged};
use crate::domain::bindings::{Change, Wanted};
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct ServiceInput {
    pub host_id: String,
    pub network_id: Option<String>,
    pub name: Name,
    pub service_definition: String,
    /// `None` keeps the stored position on PUT and appends on POST.
    pub position: Option<i64>,
    pub tags: Vec<String>,
    pub virtualization: Option<Value>,
    pub bindings: Vec<Wanted>,
    /// Update only: the `updated_at` the client last read (the peer's lost-update guard).
    pub expected_updated_at: Option<String>,
    /// Where the service came from; `None` is, on create, the writer's own (manual, or the
    /// discovery it reconciles) and, on update, the stored one. Only reconciliations set it.
    pub source: Option<Value>,
}

fn check_definition(tx: &Transaction, id: &str) -> ApiResult<()> {
    if db::service_types::exists(tx, id)? {
        Ok(())
    } else {
        Err(ApiError::validation(
            "service_definition",
            format!("Unknown service type \"{id}\""),
        )
        .with_hint("List the service types with GET /api/v1/service-types"))
    }
}

pub fn create(tx: &Transaction, who: &Writer, input: ServiceInput) -> ApiResult<Service> {
    create_as(tx, who, new_id(), input)
}

/// A create under an id the caller chose (a host's children, sent with the host).
pub fn create_as(
    tx: &Transaction,
    who: &Writer,
    id: String,
    input: ServiceInput,
) -> ApiResult<Service> {
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    check_definition(tx, &input.service_definition)?;
    check_tags(tx, &input.tags)?;
    let service = Service {
        id,
        position: match input.position {
            Some(p) => p,
            None => db::services::count_on_host(tx, &input.host_id)?,
        },
        host_id: input.host_id,
        network_id: network,
        name: input.name.into_inner(),
        service_definition: input.service_definition,
        tags: input.tags,
        virtualization: input.virtualization,
        bindings: Vec::new(),
        source: input.source.unwrap_or_else(|| who.source()),
        container: None,
        process: None,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        temporal: who.starting(),
    }
    .with_runs_as();
    db::services::insert(tx, &service)?;
    db::tags::set_tags(tx, Tagged::Service, &service.id, &service.tags)?;
    who.created(tx, EntityType::Service, &service)?;
    let holder = Holder {
        service_id: service.id.clone(),
        host_id: service.host_id.clone(),
        network_id: service.network_id.clone(),
    };
    let settled = settle(tx, who, &holder, Change::Replace(input.bindings))?;
    Ok(Service {
        bindings: settled.bindings,
        ..service
    })
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: ServiceInput) -> ApiResult<Service> {
    // The bindings are settled below against the live set; the row alone decides the rest.
    let stored = db::services::get_row(tx, id)?;
    who.check_network(&stored.network_id)?;
    check_expected_updated_at(input.expected_updated_at.as_deref(), &stored.updated_at)?;
    let mut service = stored.clone();
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    check_definition(tx, &input.service_definition)?;
    check_tags(tx, &input.tags)?;
    service.host_id = input.host_id;
    service.network_id = network;
    service.name = input.name.into_inner();
    service.service_definition = input.service_definition;
    if let Some(p) = input.position {
        service.position = p;
    }
    service.tags = input.tags;
    service.virtualization = input.virtualization;
    if let Some(source) = input.source {
        service.source = source;
        service = service.with_runs_as();
    }
    if changes_state(EntityType::Service, &stored, &service)? {
        service.updated_at = who.now.clone();
        service.temporal.restart(&who.now);
        db::services::update(tx, &stored, &service)?;
        if service.tags != stored.tags {
            db::tags::set_tags(tx, Tagged::Service, id, &service.tags)?;
        }
        who.updated(tx, EntityType::Service, &stored, &service)?;
    }
    let holder = Holder {
        service_id: service.id.clone(),
        host_id: service.host_id.clone(),
        network_id: service.network_id.clone(),
    };
    let settled = settle(tx, who, &holder, Change::Replace(input.bindings))?;
    service.bindings = settled.bindings;
    Ok(service)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let service = db::services::get(tx, id)?;
    who.check_network(&service.network_id)?;
    close(tx, who, &service)?;
    db::services::delete(tx, id)
}

/// Journals the end of a service and of its bindings, before the SQL delete cascades.
pub fn close(tx: &Transaction, who: &Writer, service: &Service) -> ApiResult<()> {
    super::dependencies::service_gone(tx, who, &service.id)?;
    for binding in &service.bindings {
        who.deleted(tx, EntityType::Binding, binding)?;
    }
    who.deleted(tx, EntityType::Service, service)
}

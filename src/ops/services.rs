//! Service use cases. A service's bindings are settled by the binding rules in the same transaction.

use rusqlite::Transaction;
use serde_json::{json, Value};

use super::bindings::{settle, Holder};
use super::ip_addresses::host_network;
use super::{check_tags, new_id};
use crate::db::{self, services::Service, tags::Tagged};
use crate::domain::bindings::{Change, Wanted};
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

pub struct ServiceInput {
    pub host_id: String,
    pub network_id: Option<String>,
    pub name: Name,
    pub service_definition: String,
    /// PUT only: `None` keeps the stored position. POST always appends.
    pub position: Option<i64>,
    pub tags: Vec<String>,
    pub virtualization: Option<Value>,
    pub bindings: Vec<Wanted>,
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

pub fn create(tx: &Transaction, who: &Principal, input: ServiceInput) -> ApiResult<Service> {
    let network = host_network(tx, who, &input.host_id, input.network_id.as_deref())?;
    check_definition(tx, &input.service_definition)?;
    check_tags(tx, &input.tags)?;
    let now = clock::now();
    let service = Service {
        id: new_id(),
        position: db::services::count_on_host(tx, &input.host_id)?,
        host_id: input.host_id,
        network_id: network,
        name: input.name.into_inner(),
        service_definition: input.service_definition,
        tags: input.tags,
        virtualization: input.virtualization,
        bindings: Vec::new(),
        source: json!({"type": "Manual"}),
        created_at: now.clone(),
        updated_at: now,
    };
    db::services::insert(tx, &service)?;
    db::tags::set_tags(tx, Tagged::Service, &service.id, &service.tags)?;
    let holder = Holder {
        service_id: service.id.clone(),
        host_id: service.host_id.clone(),
        network_id: service.network_id.clone(),
    };
    let settled = settle(tx, &holder, Change::Replace(input.bindings))?;
    Ok(Service {
        bindings: settled.bindings,
        ..service
    })
}

pub fn update(
    tx: &Transaction,
    who: &Principal,
    id: &str,
    input: ServiceInput,
) -> ApiResult<Service> {
    // Tags and bindings are replaced below; their stored values are not needed.
    let mut service = db::services::get_row(tx, id)?;
    who.check_network(&service.network_id)?;
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
    service.updated_at = clock::now();
    db::services::update(tx, &service)?;
    db::tags::set_tags(tx, Tagged::Service, id, &service.tags)?;
    let holder = Holder {
        service_id: service.id.clone(),
        host_id: service.host_id.clone(),
        network_id: service.network_id.clone(),
    };
    let settled = settle(tx, &holder, Change::Replace(input.bindings))?;
    service.bindings = settled.bindings;
    Ok(service)
}

pub fn delete(tx: &Transaction, who: &Principal, id: &str) -> ApiResult<()> {
    let (_, network) =
        db::services::placement(tx, id)?.ok_or_else(|| ApiError::not_found("Service"))?;
    who.check_network(&network)?;
    db::services::delete(tx, id)
}

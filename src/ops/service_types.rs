//! Custom service types. Built-ins ship with the binary and are read-only.

use rusqlite::Transaction;

use super::still_referenced;
use crate::db::{self, service_types::DefaultPort, service_types::ServiceType};
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

pub struct ServiceTypeInput {
    pub name: Name,
    pub category: Name,
    pub description: Option<String>,
    pub generic: bool,
    pub default_ports: Vec<DefaultPort>,
}

fn builtin_conflict(id: &str) -> ApiError {
    ApiError::conflict(format!(
        "\"{id}\" is a built-in service type and cannot be changed"
    ))
    .with_hint("Create a custom service type with another name instead")
}

pub fn create(
    tx: &Transaction,
    who: &Principal,
    input: ServiceTypeInput,
) -> ApiResult<ServiceType> {
    who.check_global_write()?;
    let id = input.name.into_inner();
    if db::service_types::exists(tx, &id)? {
        return Err(
            ApiError::conflict(format!("A service type named \"{id}\" already exists"))
                .with_field("name"),
        );
    }
    let now = clock::now();
    let t = ServiceType {
        name: id.clone(),
        id,
        category: input.category.into_inner(),
        description: input.description,
        generic: input.generic,
        default_ports: input.default_ports,
        builtin: false,
        created_at: now.clone(),
        updated_at: now,
    };
    db::service_types::insert(tx, &t)?;
    Ok(t)
}

pub fn update(
    tx: &Transaction,
    who: &Principal,
    id: &str,
    input: ServiceTypeInput,
) -> ApiResult<ServiceType> {
    who.check_global_write()?;
    let mut t = db::service_types::get(tx, id)?;
    if t.builtin {
        return Err(builtin_conflict(id));
    }
    if input.name.as_str() != id {
        return Err(ApiError::validation(
            "name",
            "A service type's name is its id and cannot change; create a new type instead",
        ));
    }
    t.category = input.category.into_inner();
    t.description = input.description;
    t.generic = input.generic;
    t.default_ports = input.default_ports;
    t.updated_at = clock::now();
    db::service_types::update(tx, &t)?;
    Ok(t)
}

/// A type used by services or templates is protected. `cascade` deletes those services (a
/// service cannot exist without a type) and clears the templates' `serviceTypeId`.
pub fn delete(tx: &Transaction, who: &Principal, id: &str, cascade: bool) -> ApiResult<()> {
    who.check_global_write()?;
    let t = db::service_types::get(tx, id)?;
    if t.builtin {
        return Err(builtin_conflict(id));
    }
    let services = db::service_types::services_using(tx, id)?;
    let templates = db::templates::using_type(tx, id)?;
    if !(services.is_empty() && templates.is_empty()) {
        if !cascade {
            return Err(still_referenced("Service type", id)
                .with_param("service_ids", services)
                .with_param("template_ids", templates));
        }
        for s in &services {
            db::services::delete(tx, s)?;
        }
        db::templates::clear_type(tx, id, &clock::now())?;
    }
    db::service_types::delete(tx, id)
}

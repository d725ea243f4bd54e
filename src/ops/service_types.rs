//! Custom service types. Built-ins ship with the binary and are read-only.

use rusqlite::Transaction;

use super::journal::{changes_state, Writer};
use super::still_referenced;
use crate::db::{self, service_types::DefaultPort, service_types::ServiceType};
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
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

pub fn create(tx: &Transaction, who: &Writer, input: ServiceTypeInput) -> ApiResult<ServiceType> {
    who.check_global_write()?;
    let id = input.name.into_inner();
    if db::service_types::exists(tx, &id)? {
        return Err(
            ApiError::conflict(format!("A service type named \"{id}\" already exists"))
                .with_field("name"),
        );
    }
    let t = ServiceType {
        name: id.clone(),
        id,
        category: input.category.into_inner(),
        description: input.description,
        generic: input.generic,
        default_ports: input.default_ports,
        builtin: false,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
    };
    db::service_types::insert(tx, &t)?;
    who.created(tx, EntityType::ServiceType, &t)?;
    Ok(t)
}

pub fn update(
    tx: &Transaction,
    who: &Writer,
    id: &str,
    input: ServiceTypeInput,
) -> ApiResult<ServiceType> {
    who.check_global_write()?;
    let stored = db::service_types::get(tx, id)?;
    let mut t = stored.clone();
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
    if changes_state(EntityType::ServiceType, &stored, &t)? {
        t.updated_at = who.now.clone();
        db::service_types::update(tx, &t)?;
        who.updated(tx, EntityType::ServiceType, &stored, &t)?;
    }
    Ok(t)
}

/// A type used by services or templates is protected. `cascade` deletes those services (a
/// service cannot exist without a type) and clears the templates' `serviceTypeId`.
pub fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
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
            super::services::close(tx, who, &db::services::get(tx, s)?)?;
            db::services::delete(tx, s)?;
        }
        super::templates::clear_type(tx, who, &templates)?;
    }
    who.deleted(tx, EntityType::ServiceType, &t)?;
    db::service_types::delete(tx, id)
}

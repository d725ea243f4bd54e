//! Dependency use cases, and keeping dependencies true when the services and bindings they name
//! go away.

use rusqlite::{Connection, Transaction};

use super::journal::{changes_state, Writer};
use super::{check_tags, missing_reference, new_id};
use crate::db::{self, dependencies::Dependency, tags::Tagged};
use crate::domain::dependencies::{check_members, DependencyType, Member};
use crate::domain::enums::Color;
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct DependencyInput {
    pub network_id: String,
    pub name: Name,
    pub description: Option<String>,
    pub dependency_type: DependencyType,
    pub members: Vec<Member>,
    pub color: Color,
    pub tags: Vec<String>,
}

/// Every member's service is in the network, every binding belongs to its member's service.
fn check(tx: &Transaction, who: &Writer, input: &DependencyInput) -> ApiResult<()> {
    if !db::networks::exists(tx, &input.network_id)? {
        return Err(missing_reference(
            "network_id",
            "Network",
            &input.network_id,
        ));
    }
    who.check_network(&input.network_id)?;
    check_tags(tx, &input.tags)?;
    check_members_in(tx, &input.network_id, &input.members)
}

/// The member rules, and that every member's service is in `network_id` and every binding
/// belongs to its member's service. Fields are relative to the dependency (`members[1].service_id`).
pub fn check_members_in(tx: &Connection, network_id: &str, members: &[Member]) -> ApiResult<()> {
    check_members(members)?;
    for (i, m) in members.iter().enumerate() {
        let field = format!("members[{i}].service_id");
        let (_, network) = db::services::placement(tx, &m.service_id)?
            .ok_or_else(|| missing_reference(&field, "Service", &m.service_id))?;
        if network != network_id {
            // Nothing of the other network is named: the caller may not reach it.
            return Err(ApiError::validation(
                field,
                "The service is in another network than the dependency",
            ));
        }
        if let Some(binding_id) = &m.binding_id {
            let field = format!("members[{i}].binding_id");
            let owner = db::bindings::service_of(tx, binding_id)?
                .ok_or_else(|| missing_reference(&field, "Binding", binding_id))?;
            if owner != m.service_id {
                return Err(ApiError::validation(
                    field,
                    "The binding belongs to another service than the member's",
                ));
            }
        }
    }
    Ok(())
}

pub fn create(tx: &Transaction, who: &Writer, input: DependencyInput) -> ApiResult<Dependency> {
    check(tx, who, &input)?;
    let d = Dependency {
        id: new_id(),
        network_id: input.network_id,
        name: input.name.into_inner(),
        description: input.description,
        dependency_type: input.dependency_type.as_str().to_string(),
        members: input.members,
        color: input.color.as_str().to_string(),
        tags: input.tags,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        temporal: who.starting(),
    };
    db::dependencies::insert(tx, &d)?;
    db::tags::set_tags(tx, Tagged::Dependency, &d.id, &d.tags)?;
    who.created(tx, EntityType::Dependency, &d)?;
    Ok(d)
}

pub fn update(
    tx: &Transaction,
    who: &Writer,
    id: &str,
    input: DependencyInput,
) -> ApiResult<Dependency> {
    let stored = db::dependencies::get(tx, id)?;
    who.check_network(&stored.network_id)?;
    check(tx, who, &input)?;
    let mut d = stored.clone();
    d.network_id = input.network_id;
    d.name = input.name.into_inner();
    d.description = input.description;
    d.dependency_type = input.dependency_type.as_str().to_string();
    d.members = input.members;
    d.color = input.color.as_str().to_string();
    d.tags = input.tags;
    store(tx, who, &stored, d)
}

/// Writes and journals a changed dependency; unchanged, it is answered as stored.
fn store(
    tx: &Connection,
    who: &Writer,
    stored: &Dependency,
    mut d: Dependency,
) -> ApiResult<Dependency> {
    if changes_state(EntityType::Dependency, stored, &d)? {
        d.updated_at = who.now.clone();
        d.temporal.restart(&who.now);
        db::dependencies::update(tx, &d)?;
        db::tags::set_tags(tx, Tagged::Dependency, &d.id, &d.tags)?;
        who.updated(tx, EntityType::Dependency, stored, &d)?;
    }
    Ok(d)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let d = db::dependencies::get(tx, id)?;
    who.check_network(&d.network_id)?;
    who.deleted(tx, EntityType::Dependency, &d)?;
    db::dependencies::delete(tx, id)
}

/// A service goes: it leaves every dependency; one left with fewer than two members goes too.
pub fn service_gone(tx: &Transaction, who: &Writer, service_id: &str) -> ApiResult<()> {
    for stored in db::dependencies::with_service(tx, service_id)? {
        let mut d = stored.clone();
        d.members.retain(|m| m.service_id != service_id);
        if d.members.len() < 2 {
            who.deleted(tx, EntityType::Dependency, &stored)?;
            db::dependencies::delete(tx, &stored.id)?;
        } else {
            store(tx, who, &stored, d)?;
        }
    }
    Ok(())
}

/// A binding goes: members that went through it keep their service, without the binding.
pub fn binding_gone(tx: &Connection, who: &Writer, binding_id: &str) -> ApiResult<()> {
    for stored in db::dependencies::with_binding(tx, binding_id)? {
        let mut d = stored.clone();
        for m in &mut d.members {
            if m.binding_id.as_deref() == Some(binding_id) {
                m.binding_id = None;
            }
        }
        store(tx, who, &stored, d)?;
    }
    Ok(())
}

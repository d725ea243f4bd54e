//! Tag use cases. Tags are global: only unscoped keys change them.

use rusqlite::Transaction;

use super::journal::{changes_state, Writer};
use super::new_id;
use crate::db::{self, tags::Tag};
use crate::domain::enums::Color;
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct TagInput {
    pub name: Name,
    pub description: Option<String>,
    pub color: Color,
    pub is_application: bool,
    /// What the client sent back of the read-only `organization_id`, checked, never stored.
    pub organization_id: Option<String>,
}

fn check_name(tx: &Transaction, name: &Name, except: Option<&str>) -> ApiResult<()> {
    match db::tags::id_by_name(tx, name.as_str())? {
        Some(id) if Some(id.as_str()) != except => Err(ApiError::conflict(format!(
            "A tag named \"{}\" already exists",
            name.as_str()
        ))
        .with_field("name")
        .with_param("tag_id", id)),
        _ => Ok(()),
    }
}

pub fn create(tx: &Transaction, who: &Writer, input: TagInput) -> ApiResult<Tag> {
    who.check_global_write()?;
    db::organizations::check(tx, input.organization_id.as_deref())?;
    check_name(tx, &input.name, None)?;
    let tag = Tag {
        id: new_id(),
        organization_id: db::organizations::id(tx)?,
        name: input.name.into_inner(),
        description: input.description,
        color: input.color.as_str().to_string(),
        is_application: input.is_application,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
    };
    db::tags::insert(tx, &tag)?;
    who.created(tx, EntityType::Tag, &tag)?;
    Ok(tag)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: TagInput) -> ApiResult<Tag> {
    who.check_global_write()?;
    db::organizations::check(tx, input.organization_id.as_deref())?;
    let stored = db::tags::get(tx, id)?;
    let mut tag = stored.clone();
    check_name(tx, &input.name, Some(id))?;
    tag.name = input.name.into_inner();
    tag.description = input.description;
    tag.color = input.color.as_str().to_string();
    tag.is_application = input.is_application;
    if changes_state(EntityType::Tag, &stored, &tag)? {
        tag.updated_at = who.now.clone();
        db::tags::update(tx, &tag)?;
        who.updated(tx, EntityType::Tag, &stored, &tag)?;
    }
    Ok(tag)
}

/// A tag still assigned is taken off every object that carries it first, each object's change
/// journaled and versioned, in the same transaction (the 0.17 clients delete assigned tags;
/// unlike the peer, no object keeps a dead tag id). `cascade` is accepted and changes nothing.
pub fn delete(tx: &Transaction, who: &Writer, id: &str, _cascade: bool) -> ApiResult<()> {
    who.check_global_write()?;
    let tag = db::tags::get(tx, id)?;
    super::tag_assignments::untag_all(tx, who, id)?;
    who.deleted(tx, EntityType::Tag, &tag)?;
    db::tags::delete(tx, id)
}

//! Tag use cases. Tags are global: only unscoped keys change them.

use rusqlite::Transaction;

use serde::Serialize;

use super::journal::{changes_state, Writer};
use super::{new_id, still_referenced};
use crate::db::{self, tags::Tag, tags::Tagged};
use crate::domain::enums::Color;
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

pub struct TagInput {
    pub name: Name,
    pub description: Option<String>,
    pub color: Color,
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
    if changes_state(EntityType::Tag, &stored, &tag)? {
        tag.updated_at = who.now.clone();
        db::tags::update(tx, &tag)?;
        who.updated(tx, EntityType::Tag, &stored, &tag)?;
    }
    Ok(tag)
}

/// A tag in use is protected; `cascade` removes it from every object that carries it.
pub fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()> {
    who.check_global_write()?;
    let tag = db::tags::get(tx, id)?;
    let usage = db::tags::usage(tx, id)?;
    if !usage.is_empty() && !cascade {
        let mut err = still_referenced("Tag", id);
        for (kind, n) in usage {
            err = err.with_param(kind, n);
        }
        return Err(err);
    }
    untag_all(tx, who, id)?;
    who.deleted(tx, EntityType::Tag, &tag)?;
    db::tags::delete(tx, id)
}

/// Takes a tag off every object that carries it: a change of each object's `tags`, recorded
/// (and, for versioned objects, versioned) like any other update.
fn untag_all(tx: &Transaction, who: &Writer, tag: &str) -> ApiResult<()> {
    let now = who.now.as_str();
    untag(
        tx,
        who,
        tag,
        Tagged::Network,
        EntityType::Network,
        db::networks::get,
        |n| {
            n.tags.retain(|t| t != tag);
            n.updated_at = now.to_string();
        },
        db::networks::update,
    )?;
    untag(
        tx,
        who,
        tag,
        Tagged::Subnet,
        EntityType::Subnet,
        db::subnets::get,
        |s| {
            s.tags.retain(|t| t != tag);
            s.updated_at = now.to_string();
            s.temporal.restart(now);
        },
        db::subnets::update,
    )?;
    untag(
        tx,
        who,
        tag,
        Tagged::Host,
        EntityType::Host,
        |c, id| db::hosts::get(c, id, db::hosts::Embed::Nothing),
        |h| {
            h.tags.retain(|t| t != tag);
            h.updated_at = now.to_string();
            h.temporal.restart(now);
        },
        db::hosts::update,
    )?;
    untag(
        tx,
        who,
        tag,
        Tagged::Service,
        EntityType::Service,
        db::services::get_row,
        |s| {
            s.tags.retain(|t| t != tag);
            s.updated_at = now.to_string();
            s.temporal.restart(now);
        },
        db::services::update,
    )
}

#[allow(clippy::too_many_arguments)]
fn untag<T: Clone + Serialize>(
    tx: &Transaction,
    who: &Writer,
    tag: &str,
    tagged: Tagged,
    kind: EntityType,
    fetch: impl Fn(&rusqlite::Connection, &str) -> ApiResult<T>,
    strip: impl Fn(&mut T),
    store: impl Fn(&rusqlite::Connection, &T) -> ApiResult<()>,
) -> ApiResult<()> {
    for id in db::tags::carriers(tx, tagged, tag)? {
        let before = fetch(tx, &id)?;
        let mut after = before.clone();
        strip(&mut after);
        store(tx, &after)?;
        db::tags::detach(tx, tagged, &id, tag)?;
        who.updated(tx, kind, &before, &after)?;
    }
    Ok(())
}

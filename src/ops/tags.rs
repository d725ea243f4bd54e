//! Tag use cases. Tags are global: only unscoped keys change them.

use rusqlite::Transaction;

use super::{new_id, still_referenced};
use crate::db::{self, tags::Tag};
use crate::domain::clock;
use crate::domain::enums::Color;
use crate::domain::principal::Principal;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

pub struct TagInput {
    pub name: Name,
    pub description: Option<String>,
    pub color: Color,
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

pub fn create(tx: &Transaction, who: &Principal, input: TagInput) -> ApiResult<Tag> {
    who.check_global_write()?;
    check_name(tx, &input.name, None)?;
    let now = clock::now();
    let tag = Tag {
        id: new_id(),
        name: input.name.into_inner(),
        description: input.description,
        color: input.color.as_str().to_string(),
        created_at: now.clone(),
        updated_at: now,
    };
    db::tags::insert(tx, &tag)?;
    Ok(tag)
}

pub fn update(tx: &Transaction, who: &Principal, id: &str, input: TagInput) -> ApiResult<Tag> {
    who.check_global_write()?;
    let mut tag = db::tags::get(tx, id)?;
    check_name(tx, &input.name, Some(id))?;
    tag.name = input.name.into_inner();
    tag.description = input.description;
    tag.color = input.color.as_str().to_string();
    tag.updated_at = clock::now();
    db::tags::update(tx, &tag)?;
    Ok(tag)
}

/// A tag in use is protected; `cascade` removes it from every object that carries it.
pub fn delete(tx: &Transaction, who: &Principal, id: &str, cascade: bool) -> ApiResult<()> {
    who.check_global_write()?;
    db::tags::get(tx, id)?;
    let usage = db::tags::usage(tx, id)?;
    if !usage.is_empty() && !cascade {
        let mut err = still_referenced("Tag", id);
        for (kind, n) in usage {
            err = err.with_param(kind, n);
        }
        return Err(err);
    }
    db::tags::delete(tx, id)
}

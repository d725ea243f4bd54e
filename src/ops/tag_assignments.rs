//! Tags on many objects at once (the peer's `/tags/assign` endpoints), and the one way any
//! write changes an object's tags: as an update of that object, recorded (and, for versioned
//! objects, versioned) like any other.

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::journal::{changes_state, Writer};
use crate::db::agents::Agent;
use crate::db::api_keys::ApiKey;
use crate::db::dependencies::Dependency;
use crate::db::discoveries::Discovery;
use crate::db::hosts::{Embed, Host};
use crate::db::networks::Network;
use crate::db::services::Service;
use crate::db::subnets::Subnet;
use crate::db::{self, tags::Tagged};
use crate::domain::history::EntityType;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};

/// An object that carries tags.
trait Taggable: Clone + Serialize {
    const KIND: EntityType;
    const TAGGED: Tagged;
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self>;
    fn store(conn: &Connection, record: &Self) -> ApiResult<()>;
    fn tags(&mut self) -> &mut Vec<String>;
    /// Marks the record as changed at `now` (and starts its next version).
    fn touch(&mut self, now: &str);
    /// The network a key needs to change it; `None` for global objects.
    fn network(&self) -> Option<&str>;
    /// The role that writes such objects, and so tags them.
    const WRITE_ROLE: Role = Role::Member;
    /// Whether the key may see the object at all, beyond its network (`network`).
    fn visible_to(&self, _who: &Writer) -> bool {
        true
    }
}

impl Taggable for Network {
    const KIND: EntityType = EntityType::Network;
    const WRITE_ROLE: Role = Role::Admin;
    const TAGGED: Tagged = Tagged::Network;
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self> {
        db::networks::get(conn, id)
    }
    fn store(conn: &Connection, record: &Self) -> ApiResult<()> {
        db::networks::update(conn, record)
    }
    fn tags(&mut self) -> &mut Vec<String> {
        &mut self.tags
    }
    fn touch(&mut self, now: &str) {
        self.updated_at = now.to_string();
    }
    fn network(&self) -> Option<&str> {
        None
    }
}

/// A versioned object of a network: tagging it starts its next version.
macro_rules! versioned_taggable {
    ($($record:ty: $kind:ident, $fetch:expr, $store:expr;)*) => {$(
        impl Taggable for $record {
            const KIND: EntityType = EntityType::$kind;
            const TAGGED: Tagged = Tagged::$kind;
            fn fetch(conn: &Connection, id: &str) -> ApiResult<Self> {
                $fetch(conn, id)
            }
            fn store(conn: &Connection, record: &Self) -> ApiResult<()> {
                $store(conn, record)
            }
            fn tags(&mut self) -> &mut Vec<String> {
                &mut self.tags
            }
            fn touch(&mut self, now: &str) {
                self.updated_at = now.to_string();
                self.temporal.restart(now);
            }
            fn network(&self) -> Option<&str> {
                Some(&self.network_id)
            }
        }
    )*};
}

/// An API key's tags are labels of the key; Admins manage keys, and a key out of the caller's
/// reach stays unseen.
impl Taggable for ApiKey {
    const KIND: EntityType = EntityType::ApiKey;
    const TAGGED: Tagged = Tagged::ApiKey;
    const WRITE_ROLE: Role = Role::Admin;
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self> {
        db::api_keys::get(conn, id)
    }
    fn store(conn: &Connection, record: &Self) -> ApiResult<()> {
        db::api_keys::update(conn, record)
    }
    fn tags(&mut self) -> &mut Vec<String> {
        &mut self.tags
    }
    fn touch(&mut self, now: &str) {
        self.updated_at = now.to_string();
    }
    fn network(&self) -> Option<&str> {
        None
    }
    fn visible_to(&self, who: &Writer) -> bool {
        super::api_keys::visible(who, self)
    }
}

/// An agent (the peer's daemon): Admins manage agents, within their networks.
impl Taggable for Agent {
    const KIND: EntityType = EntityType::Agent;
    const TAGGED: Tagged = Tagged::Agent;
    const WRITE_ROLE: Role = Role::Admin;
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self> {
        db::agents::get(conn, id)
    }
    fn store(conn: &Connection, record: &Self) -> ApiResult<()> {
        db::agents::update(conn, record)
    }
    fn tags(&mut self) -> &mut Vec<String> {
        &mut self.tags
    }
    fn touch(&mut self, now: &str) {
        self.updated_at = now.to_string();
    }
    fn network(&self) -> Option<&str> {
        Some(&self.network_id)
    }
}

/// A discovery's tags are its only part that changes after it ran; its row stays as it is.
impl Taggable for Discovery {
    const KIND: EntityType = EntityType::Discovery;
    const TAGGED: Tagged = Tagged::Discovery;
    const WRITE_ROLE: Role = Role::Admin;
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self> {
        db::discoveries::get(conn, id)
    }
    fn store(_conn: &Connection, _record: &Self) -> ApiResult<()> {
        Ok(())
    }
    fn tags(&mut self) -> &mut Vec<String> {
        &mut self.tags
    }
    fn touch(&mut self, _now: &str) {}
    fn network(&self) -> Option<&str> {
        Some(&self.network_id)
    }
}

versioned_taggable! {
    Subnet: Subnet, db::subnets::get, db::subnets::update;
    Host: Host, |c, id| db::hosts::get(c, id, Embed::Nothing), db::hosts::update;
    // Tags leave a service where it is: its row is written over itself.
    Service: Service, db::services::get_row, |c, s| db::services::update(c, s, s);
    Dependency: Dependency, db::dependencies::get, db::dependencies::update;
}

/// Why an object's tags change: a key assigns them (its role and reach are checked), or a tag
/// it carries is deleted (the delete, a global write, was checked; the object only loses the
/// tag, whoever may write it).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Assigned,
    TagDeleted,
}

/// Fetches `id`, checks the key may change it, applies `change` to its tags and, when that
/// changed them, stores and journals the object. `Ok(false)`: nothing to do.
fn retag<T: Taggable>(
    tx: &Transaction,
    who: &Writer,
    id: &str,
    why: Why,
    change: impl FnOnce(&mut Vec<String>),
) -> ApiResult<bool> {
    let before = T::fetch(tx, id)?;
    if why == Why::Assigned {
        who.require(T::WRITE_ROLE)?;
        if !before.visible_to(who) {
            return Err(ApiError::not_found("Object"));
        }
        match before.network() {
            Some(network) => who.check_network(network)?,
            None => who.check_global_write()?,
        }
    }
    let mut after = before.clone();
    change(after.tags());
    if !changes_state(T::KIND, &before, &after)? {
        return Ok(false);
    }
    after.touch(&who.now);
    T::store(tx, &after)?;
    let tags = after.tags().clone();
    db::tags::set_tags(tx, T::TAGGED, id, &tags)?;
    who.updated(tx, T::KIND, &before, &after)?;
    Ok(true)
}

fn retag_any(
    tx: &Transaction,
    who: &Writer,
    kind: Tagged,
    id: &str,
    why: Why,
    change: impl FnOnce(&mut Vec<String>),
) -> ApiResult<bool> {
    match kind {
        Tagged::Network => retag::<Network>(tx, who, id, why, change),
        Tagged::Subnet => retag::<Subnet>(tx, who, id, why, change),
        Tagged::Host => retag::<Host>(tx, who, id, why, change),
        Tagged::Service => retag::<Service>(tx, who, id, why, change),
        Tagged::Dependency => {
            retag::<crate::db::dependencies::Dependency>(tx, who, id, why, change)
        }
        Tagged::ApiKey => retag::<ApiKey>(tx, who, id, why, change),
        Tagged::Discovery => retag::<Discovery>(tx, who, id, why, change),
        Tagged::Agent => retag::<Agent>(tx, who, id, why, change),
    }
}

/// Takes a tag off every object that carries it (a tag deleted with `cascade`).
pub fn untag_all(tx: &Transaction, who: &Writer, tag: &str) -> ApiResult<()> {
    for kind in Tagged::ALL {
        for id in db::tags::carriers(tx, kind, tag)? {
            retag_any(tx, who, kind, &id, Why::TagDeleted, |tags| {
                tags.retain(|t| t != tag)
            })?;
        }
    }
    Ok(())
}

fn check_tag(tx: &Transaction, tag_id: &str, field: &str) -> ApiResult<()> {
    if db::tags::first_missing(tx, std::slice::from_ref(&tag_id.to_string()))?.is_some() {
        return Err(ApiError::not_found("Tag")
            .with_field(field)
            .with_param("tag_id", tag_id));
    }
    Ok(())
}

/// Adds (`add`) or removes one tag on each object; objects that already have (or lack) it
/// are skipped. Any unknown object or object out of the key's reach refuses the whole request.
pub fn bulk(
    tx: &Transaction,
    who: &Writer,
    kind: Tagged,
    ids: &[String],
    tag_id: &str,
    add: bool,
) -> ApiResult<u64> {
    check_tag(tx, tag_id, "tag_id")?;
    let mut affected = 0;
    for (i, id) in ids.iter().enumerate() {
        let changed = retag_any(tx, who, kind, id, Why::Assigned, |tags| {
            if add {
                if !tags.iter().any(|t| t == tag_id) {
                    tags.push(tag_id.to_string());
                }
            } else {
                tags.retain(|t| t != tag_id);
            }
        })
        .map_err(|e| locate(e, &format!("entity_ids[{i}]"), id))?;
        affected += u64::from(changed);
    }
    Ok(affected)
}

/// Replaces the tags of one object.
pub fn assign(
    tx: &Transaction,
    who: &Writer,
    kind: Tagged,
    id: &str,
    tag_ids: Vec<String>,
) -> ApiResult<()> {
    for (i, tag) in tag_ids.iter().enumerate() {
        check_tag(tx, tag, &format!("tag_ids[{i}]"))?;
    }
    retag_any(tx, who, kind, id, Why::Assigned, |tags| *tags = tag_ids)
        .map_err(|e| locate(e, "entity_id", id))
        .map(drop)
}

/// A missing object is a 404 naming where the request named it.
fn locate(e: ApiError, field: &str, id: &str) -> ApiError {
    if e.field.is_none() {
        e.with_field(field).with_param("entity_id", id)
    } else {
        e
    }
}

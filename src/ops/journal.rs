//! The journal side of every write: who writes, at which instant, and the entries that record
//! what changed. An entry with a `before` image of a versioned entity also closes that state
//! as a version (the database derives it from the entry), so recording is the one way history
//! is written.

use std::cell::{Cell, RefCell};
use std::ops::Deref;

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;

use super::new_id;
use crate::db;
use crate::db::changes::NewChange;
use crate::db::versions::{self, Temporal};
use crate::domain::clock;
use crate::domain::history::{changed_fields, state_fields, Action, EntityType};
use crate::domain::principal::Principal;
use crate::error::{ApiError, ApiResult};

/// One write transaction's author and clock. Every timestamp the write stores is `now`.
#[derive(Debug)]
pub struct Writer {
    pub who: Principal,
    pub request_id: Option<String>,
    pub now: String,
    /// The discovery this write reconciles, if any: what it creates starts with this id as its
    /// first and last discovery.
    pub discovery: Option<String>,
    /// The host of the service whose bindings this write last journaled: a write settles the
    /// bindings of one service, so one lookup serves them all.
    host_of_service: RefCell<Option<(String, String)>>,
    /// The journal's record of this write (instant, actor, request), once it has an entry.
    write_seq: Cell<Option<i64>>,
}

impl Deref for Writer {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.who
    }
}

impl Writer {
    /// Opens the write's clock, inside its transaction: never earlier than the last recorded
    /// change (a clock step backwards must not make history run backwards), and strictly after
    /// it, so that every write has an instant of its own.
    pub fn begin(tx: &Connection, who: Principal, request_id: Option<String>) -> ApiResult<Writer> {
        let mut now = time::OffsetDateTime::now_utc();
        if let Some(last) = db::changes::last_time(tx)?.and_then(|t| clock::parse_rfc3339(&t)) {
            let next = last + time::Duration::microseconds(1);
            if now < next {
                now = next;
            }
        }
        Ok(Writer {
            who,
            request_id,
            now: clock::format(now),
            discovery: None,
            host_of_service: RefCell::new(None),
            write_seq: Cell::new(None),
        })
    }

    /// The seq of this write's record in the journal, made with its first entry (and again
    /// when a savepoint the first was made in was rolled back: discovery skips an observation
    /// that way).
    fn write_seq(&self, tx: &Connection) -> ApiResult<i64> {
        if let Some(seq) = self.write_seq.get() {
            if db::changes::write_exists(tx, seq)? {
                return Ok(seq);
            }
        }
        let seq =
            db::changes::insert_write(tx, &self.now, &self.who.actor, self.request_id.as_deref())?;
        self.write_seq.set(Some(seq));
        Ok(seq)
    }

    /// The `source` of a host or service this write creates.
    pub fn source(&self) -> Value {
        match self.discovery {
            Some(_) => serde_json::json!({"type": "Discovery"}),
            None => serde_json::json!({"type": "Manual"}),
        }
    }

    /// The temporal fields of an entity this write creates.
    pub fn starting(&self) -> Temporal {
        let mut t = Temporal::starting(&self.now);
        t.first_discovery_id = self.discovery.clone();
        t.last_discovery_id = self.discovery.clone();
        t
    }

    pub fn created<T: Serialize>(
        &self,
        tx: &Connection,
        kind: EntityType,
        after: &T,
    ) -> ApiResult<()> {
        let after = image(kind, after)?;
        let fields = state_fields(&after);
        self.record(tx, kind, Action::Create, None, Some(&after), &fields)
    }

    /// Records an update when a state field changed; `false` (nothing recorded) otherwise.
    pub fn updated<T: Serialize>(
        &self,
        tx: &Connection,
        kind: EntityType,
        before: &T,
        after: &T,
    ) -> ApiResult<bool> {
        self.updated_fields(tx, kind, before, after, &[])
    }

    /// `updated`, for a write that also changed what no image shows (a key's secret): `hidden`
    /// names those fields, and makes the entry even when every shown field is the same.
    pub fn updated_fields<T: Serialize>(
        &self,
        tx: &Connection,
        kind: EntityType,
        before: &T,
        after: &T,
        hidden: &[&str],
    ) -> ApiResult<bool> {
        let (before, after) = (image(kind, before)?, image(kind, after)?);
        let mut fields = changed_fields(&before, &after);
        fields.extend(hidden.iter().map(|f| f.to_string()));
        if fields.is_empty() {
            return Ok(false);
        }
        let (before, after) = (Some(&before), Some(&after));
        self.record(tx, kind, Action::Update, before, after, &fields)?;
        Ok(true)
    }

    /// Records an import of a whole document: one entry, with what it created per section.
    pub fn imported(
        &self,
        tx: &Connection,
        organization_id: &str,
        created: &Value,
    ) -> ApiResult<()> {
        let after = serde_json::json!({"id": organization_id, "created": created});
        db::changes::insert(
            tx,
            self.write_seq(tx)?,
            &NewChange {
                seq: None,
                id: &new_id(),
                action: Action::Import,
                entity_type: EntityType::Inventory,
                entity_id: organization_id,
                network_id: None,
                host_id: None,
                service_id: None,
                changed_fields: &[],
                before: None,
                after: Some(&after),
                prior: None,
            },
        )?;
        Ok(())
    }

    /// Records a delete. Call it before the row goes: the database refuses to delete a
    /// versioned row whose last state was not closed.
    pub fn deleted<T: Serialize>(
        &self,
        tx: &Connection,
        kind: EntityType,
        before: &T,
    ) -> ApiResult<()> {
        let before = image(kind, before)?;
        let fields = state_fields(&before);
        self.record(tx, kind, Action::Delete, Some(&before), None, &fields)
    }

    fn record(
        &self,
        tx: &Connection,
        kind: EntityType,
        action: Action,
        before: Option<&Value>,
        after: Option<&Value>,
        fields: &[String],
    ) -> ApiResult<()> {
        let newest = after
            .or(before)
            .ok_or_else(|| ApiError::internal("empty journal entry"))?;
        let text = |key: &str| newest.get(key).and_then(Value::as_str);
        let entity_id = text("id").ok_or_else(|| ApiError::internal("journal image without id"))?;
        let network_id = match kind {
            EntityType::Network => Some(entity_id),
            _ => text("network_id"),
        };
        let service_id = match kind {
            EntityType::Service => Some(entity_id.to_string()),
            EntityType::Binding => text("service_id").map(str::to_string),
            _ => None,
        };
        let host_id = match kind {
            EntityType::Host => Some(entity_id.to_string()),
            EntityType::IpAddress | EntityType::Port | EntityType::Service => {
                text("host_id").map(str::to_string)
            }
            EntityType::Binding => match &service_id {
                Some(s) => self.host_of(tx, s)?,
                None => None,
            },
            _ => None,
        };
        let entry_id = new_id();
        let seq = db::changes::next_seq(tx)?;
        // A versioned object's states are stored whole once (`db::history_fold`): the state
        // this entry ends becomes a version keyed by the entry's seq, read out of the very
        // image, and the entry keeps its `before` and the `after` that began the state folded
        // onto it; the `after` of a state that begins here waits whole until one ends it.
        let versioned = versions::of(kind);
        let (before, prior) = match (versioned, before) {
            (Some(table), Some(image)) => {
                let Value::Object(state) = image else {
                    return Err(ApiError::internal("a before image is not an object"));
                };
                versions::close(tx, table, seq, entity_id, &self.now, state)?;
                let (before, prior) =
                    db::history_fold::close_state(tx, table, seq, entity_id, image)?;
                (Some(before), prior)
            }
            (_, image) => (image.cloned(), None),
        };
        let open_after = versioned.and(after);
        db::changes::insert(
            tx,
            self.write_seq(tx)?,
            &NewChange {
                seq: Some(seq),
                id: &entry_id,
                action,
                entity_type: kind,
                entity_id,
                network_id,
                host_id: host_id.as_deref(),
                service_id: service_id.as_deref(),
                changed_fields: fields,
                before: before.as_ref(),
                after: if open_after.is_some() { None } else { after },
                prior: prior.as_ref(),
            },
        )?;
        if let Some(image) = open_after {
            db::history_fold::open_after(tx, seq, image)?;
        }
        // The entry is also the webhooks' outbox row: the worker reads the journal.
        Ok(())
    }
}

impl Writer {
    fn host_of(&self, tx: &Connection, service_id: &str) -> ApiResult<Option<String>> {
        if let Some((service, host)) = self.host_of_service.borrow().as_ref() {
            if service == service_id {
                return Ok(Some(host.clone()));
            }
        }
        let host = db::services::placement(tx, service_id)?.map(|(host, _)| host);
        if let Some(h) = &host {
            *self.host_of_service.borrow_mut() = Some((service_id.to_string(), h.clone()));
        }
        Ok(host)
    }
}

/// Whether `candidate` differs from `stored` in any state field: a write that changes none
/// records nothing and keeps `updated_at` and `valid_from`.
pub fn changes_state<T: Serialize>(kind: EntityType, stored: &T, candidate: &T) -> ApiResult<bool> {
    Ok(!changed_fields(&image(kind, stored)?, &image(kind, candidate)?).is_empty())
}

/// The object as the journal shows it: as the API does, without the parts that are objects of
/// their own (a host's children, a service's bindings).
fn image<T: Serialize>(kind: EntityType, record: &T) -> ApiResult<Value> {
    let mut value = serde_json::to_value(record).map_err(ApiError::internal)?;
    if let Some(object) = value.as_object_mut() {
        match kind {
            EntityType::Host => {
                for part in ["ip_addresses", "ports", "services"] {
                    object.remove(part);
                }
            }
            EntityType::Service => {
                object.remove("bindings");
            }
            _ => {}
        }
    }
    Ok(value)
}

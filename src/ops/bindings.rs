//! Binding use cases, and `settle`: the one place every write path applies the binding rules,
//! inside the caller's `BEGIN IMMEDIATE` transaction, before commit.

use rusqlite::{Connection, Transaction};

use super::journal::Writer;
use super::{missing_reference, new_id};
use crate::db::{self, bindings::Binding, bindings::NewBinding};
use crate::domain::bindings::{plan, Change, Context, Live, Plan, Slot, Target, Wanted};
use crate::domain::history::EntityType;
use crate::domain::principal::Principal;
use crate::error::{ApiError, ApiResult};

/// The service whose bindings are written.
pub struct Holder {
    pub service_id: String,
    pub host_id: String,
    pub network_id: String,
}

pub struct Settled {
    /// The service's bindings after the write, in order.
    pub bindings: Vec<Binding>,
    /// Ids of the bindings this write created.
    pub created: Vec<String>,
    /// Binding POST: the live binding that already covered the request; nothing was written.
    pub covered_by: Option<String>,
}

fn referenced(change: &Change) -> Vec<&Target> {
    match change {
        Change::Replace(list) => list.iter().map(|w| &w.target).collect(),
        Change::Add(w) | Change::Update { wanted: w, .. } => vec![&w.target],
    }
}

/// The service's live bindings as wanted again, each by its id: what a change that adds to
/// them passes along so that they stay.
pub fn kept(tx: &Connection, service_id: &str) -> ApiResult<Vec<Wanted>> {
    Ok(db::bindings::live_of(tx, service_id)?
        .iter()
        .map(|(b, _)| Wanted {
            field: String::new(),
            id: Some(b.id.clone()),
            target: b.target(),
        })
        .collect())
}

/// The service's live bindings (with their order) and the plan the rules make of `change`
/// against them, read inside the caller's transaction; nothing is written.
pub fn check(
    tx: &Connection,
    holder: &Holder,
    change: Change,
) -> ApiResult<(Plan, Vec<(Binding, i64)>)> {
    let live_rows = db::bindings::live_of(tx, &holder.service_id)?;
    let live: Vec<Live> = live_rows
        .iter()
        .map(|(b, _)| Live {
            id: b.id.clone(),
            target: b.target(),
        })
        .collect();
    let targets = referenced(&change);
    let mut ids: Vec<String> = Vec::new();
    let mut ports: Vec<String> = Vec::new();
    for t in targets
        .iter()
        .copied()
        .chain(live.iter().map(|l| &l.target))
    {
        if let Some(p) = t.port() {
            ids.push(p.to_string());
            ports.push(p.to_string());
        }
        if let Some(ip) = t.ip() {
            ids.push(ip.to_string());
        }
    }
    ids.sort();
    ids.dedup();
    ports.sort();
    ports.dedup();
    let owners = db::bindings::owners(tx, &ids)?;
    let held = db::bindings::held_on(tx, &ports, &holder.service_id)?;
    let ctx = Context {
        host_id: &holder.host_id,
        owners: &owners,
        live: &live,
        held: &held,
    };
    Ok((plan(change, &ctx)?, live_rows))
}

/// Reads the live state, applies the rules, and writes and journals the plan: removed bindings
/// are closed, retargeted ones closed and continued, unchanged ones left alone. Nothing is
/// written on error.
pub fn settle(
    tx: &Connection,
    who: &Writer,
    holder: &Holder,
    change: Change,
) -> ApiResult<Settled> {
    let (plan, live_rows) = check(tx, holder, change)?;
    if plan.covered_by.is_some() {
        return Ok(Settled {
            bindings: Vec::new(),
            created: Vec::new(),
            covered_by: plan.covered_by,
        });
    }

    let now = &who.now;
    // The stored images of what this plan ends or changes, for the journal.
    let stored = |id: &str| -> ApiResult<Binding> {
        live_rows
            .iter()
            .find(|(b, _)| b.id == id)
            .map(|(b, _)| b.clone())
            .ok_or_else(|| ApiError::internal("planned binding is not stored"))
    };
    for id in &plan.removed {
        super::dependencies::binding_gone(tx, who, id)?;
        who.deleted(tx, EntityType::Binding, &stored(id)?)?;
        db::bindings::delete(tx, id)?;
    }
    let mut changed = Vec::new();
    let mut created = Vec::new();
    // The settled set as its rows now read, built from the rows read above and what this plan
    // wrote (reading them back was 5% of a service PUT's writer time). Debug builds, and so the
    // tests, read them back and compare.
    let mut bindings = Vec::with_capacity(plan.result.len());
    for (i, slot) in plan.result.iter().enumerate() {
        let ord = i as i64;
        match slot {
            Slot::Keep {
                id,
                target,
                changed: true,
            } => {
                db::bindings::retarget(tx, id, target, ord, now)?;
                let old = stored(id)?;
                bindings.push(db::bindings::as_retargeted(&old, target, now));
                changed.push(old);
            }
            Slot::Keep {
                id, changed: false, ..
            } => {
                let (b, stored_ord) = live_rows
                    .iter()
                    .find(|(b, _)| &b.id == id)
                    .ok_or_else(|| ApiError::internal("planned binding is not stored"))?;
                if *stored_ord != ord {
                    db::bindings::set_ord(tx, id, ord)?;
                }
                bindings.push(b.clone());
            }
            Slot::Create { target } => {
                let id = new_id();
                let new = NewBinding {
                    id: &id,
                    service_id: &holder.service_id,
                    network_id: &holder.network_id,
                    target,
                    ord,
                    now,
                    discovery: who.discovery.as_deref(),
                };
                db::bindings::insert(tx, &new)?;
                bindings.push(new.as_stored());
                created.push(id);
            }
        }
    }
    #[cfg(debug_assertions)]
    {
        let read = db::bindings::of_services(tx, std::slice::from_ref(&holder.service_id))?
            .remove(&holder.service_id)
            .unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&bindings).ok(),
            serde_json::to_value(&read).ok(),
            "settled bindings differ from their rows"
        );
    }
    for b in &bindings {
        if let Some(old) = changed.iter().find(|old| old.id == b.id) {
            who.updated(tx, EntityType::Binding, old, b)?;
        } else if created.contains(&b.id) {
            who.created(tx, EntityType::Binding, b)?;
        }
    }
    Ok(Settled {
        bindings,
        created,
        covered_by: None,
    })
}

/// What a binding POST or PUT asks for, parsed.
#[derive(Clone)]
pub struct BindingInput {
    pub service_id: String,
    pub network_id: Option<String>,
    pub target: Target,
}

fn holder_of(tx: &Connection, who: &Principal, input: &BindingInput) -> ApiResult<Holder> {
    let (host_id, network_id) = db::services::placement(tx, &input.service_id)?
        .ok_or_else(|| missing_reference("service_id", "Service", &input.service_id))?;
    who.check_network(&network_id)?;
    if let Some(claimed) = &input.network_id {
        if claimed != &network_id {
            return Err(ApiError::validation(
                "network_id",
                format!("network_id must be the service's network ({network_id})"),
            )
            .with_param("service_network_id", network_id.as_str()));
        }
    }
    Ok(Holder {
        service_id: input.service_id.clone(),
        host_id,
        network_id,
    })
}

/// Binding POST. `Ok((binding, true))` when created; `(existing, false)` when a live binding
/// already covered the request.
pub fn create(tx: &Transaction, who: &Writer, input: BindingInput) -> ApiResult<(Binding, bool)> {
    let holder = holder_of(tx, who, &input)?;
    let wanted = Wanted {
        field: String::new(),
        id: None,
        target: input.target,
    };
    let settled = settle(tx, who, &holder, Change::Add(wanted))?;
    if let Some(existing) = settled.covered_by {
        return Ok((db::bindings::get(tx, &existing)?, false));
    }
    let id = settled
        .created
        .first()
        .ok_or_else(|| ApiError::internal("binding plan created nothing"))?;
    let binding = settled
        .bindings
        .into_iter()
        .find(|b| &b.id == id)
        .ok_or_else(|| ApiError::internal("created binding not found"))?;
    Ok((binding, true))
}

/// Binding PUT: a new target for one live binding.
pub fn update(tx: &Transaction, who: &Writer, id: &str, input: BindingInput) -> ApiResult<Binding> {
    let current = db::bindings::get(tx, id)?;
    who.check_network(&current.network_id)?;
    if input.service_id != current.service_id {
        return Err(ApiError::validation(
            "service_id",
            "A binding cannot move to another service; delete it and create one there",
        )
        .with_param("service_id", current.service_id.as_str()));
    }
    let holder = holder_of(tx, who, &input)?;
    let wanted = Wanted {
        field: String::new(),
        id: Some(id.to_string()),
        target: input.target,
    };
    let settled = settle(
        tx,
        who,
        &holder,
        Change::Update {
            id: id.to_string(),
            wanted,
        },
    )?;
    settled
        .bindings
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::internal("updated binding not found"))
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let binding = db::bindings::get(tx, id)?;
    who.check_network(&binding.network_id)?;
    super::dependencies::binding_gone(tx, who, id)?;
    who.deleted(tx, EntityType::Binding, &binding)?;
    db::bindings::delete(tx, id)
}

/// Ends bindings that a delete of their port or IP address takes with it.
pub fn close_all(tx: &Transaction, who: &Writer, ids: &[String]) -> ApiResult<()> {
    for id in ids {
        super::dependencies::binding_gone(tx, who, id)?;
        who.deleted(tx, EntityType::Binding, &db::bindings::get(tx, id)?)?;
    }
    Ok(())
}

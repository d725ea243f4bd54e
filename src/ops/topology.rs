//! Storing a network's topology view options (the 0.17 clients' `PUT /topology/{id}`).

use rusqlite::Transaction;
use serde_json::Value;

use super::journal::Writer;
use crate::db::{self, topology::Topology};
use crate::domain::history::EntityType;
use crate::domain::role::Role;
use crate::error::ApiResult;

/// Stores `options` as given for the network `id`; a Member of the network may.
pub fn update(tx: &Transaction, who: &Writer, id: &str, options: Value) -> ApiResult<Topology> {
    who.require(Role::Member)?;
    let stored = db::topology::get(tx, id)?;
    who.check_network(&stored.network_id)?;
    if stored.options == options {
        return Ok(stored);
    }
    let had_options = db::topology::exists(tx, id)?;
    let topology = Topology {
        options,
        created_at: if had_options {
            stored.created_at.clone()
        } else {
            who.now.clone()
        },
        updated_at: who.now.clone(),
        ..stored.clone()
    };
    db::topology::store(tx, &topology)?;
    if had_options {
        who.updated(tx, EntityType::Topology, &stored, &topology)?;
    } else {
        who.created(tx, EntityType::Topology, &topology)?;
    }
    Ok(topology)
}

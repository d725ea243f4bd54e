//! Agent records: create, update, rotate, delete. The token is stored as its hash, shown once and
//! never journaled.

use rusqlite::Transaction;
use serde::Serialize;

use super::journal::{changes_state, Writer};
use super::{missing_reference, new_id};
use crate::db::{self, agents::Agent};
use crate::domain::history::EntityType;
use crate::domain::text::Name;
use crate::domain::token;
use crate::error::ApiResult;

#[derive(Clone)]
pub struct AgentInput {
    pub name: Name,
    pub network_id: String,
    pub enabled: bool,
}

/// A created agent and its token, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedAgent {
    #[serde(flatten)]
    pub agent: Agent,
    /// `scp_a_...`: give it to `portolan agent --token`. It is not stored and not shown again.
    pub token: String,
}

pub fn create(tx: &Transaction, who: &Writer, input: AgentInput) -> ApiResult<CreatedAgent> {
    if !db::networks::exists(tx, &input.network_id)? {
        return Err(missing_reference(
            "network_id",
            "Network",
            &input.network_id,
        ));
    }
    who.check_network(&input.network_id)?;
    let plaintext = token::generate_agent();
    let agent = Agent {
        id: new_id(),
        name: input.name.into_inner(),
        network_id: input.network_id,
        enabled: input.enabled,
        host_id: None,
        machine_id: None,
        version: None,
        capabilities: Default::default(),
        last_seen_at: None,
        last_report: None,
        silent: false,
        tags: Vec::new(),
        created_by: serde_json::to_value(&who.actor).unwrap_or_default(),
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        interval_s: 60,
    };
    db::agents::insert(tx, &agent, &token::hash(&plaintext))?;
    who.created(tx, EntityType::Agent, &agent)?;
    Ok(CreatedAgent {
        agent,
        token: plaintext,
    })
}

/// The agent, if the caller's networks reach it.
pub fn reachable(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<Agent> {
    let agent = db::agents::get(tx, id)?;
    who.check_network(&agent.network_id)?;
    Ok(agent)
}

/// Renames, enables or disables; an agent never changes network (make a new one instead).
pub fn update(
    tx: &Transaction,
    who: &Writer,
    id: &str,
    name: Name,
    enabled: bool,
) -> ApiResult<Agent> {
    let stored = reachable(tx, who, id)?;
    let mut agent = stored.clone();
    agent.name = name.into_inner();
    agent.enabled = enabled;
    if changes_state(EntityType::Agent, &stored, &agent)? {
        agent.updated_at = who.now.clone();
        db::agents::update(tx, &agent)?;
        who.updated(tx, EntityType::Agent, &stored, &agent)?;
    }
    Ok(agent)
}

/// A new token; the old one stops working when this commits.
pub fn rotate(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<CreatedAgent> {
    let stored = reachable(tx, who, id)?;
    let plaintext = token::generate_agent();
    db::agents::set_hash(tx, id, &token::hash(&plaintext), &who.now)?;
    let mut agent = stored.clone();
    agent.updated_at = who.now.clone();
    // The token is not part of the image; the entry says that it changed.
    who.updated_fields(tx, EntityType::Agent, &stored, &agent, &["token"])?;
    Ok(CreatedAgent {
        agent,
        token: plaintext,
    })
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<Agent> {
    let agent = reachable(tx, who, id)?;
    who.deleted(tx, EntityType::Agent, &agent)?;
    db::agents::delete(tx, id)?;
    Ok(agent)
}

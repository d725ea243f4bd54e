//! Webhook use cases. A hook's secret is stored, never answered and never journaled.

use rusqlite::Transaction;

use super::journal::{changes_state, Writer};
use super::{missing_reference, new_id};
use crate::db::{self, webhooks::Webhook};
use crate::domain::history::EntityType;
use crate::domain::outbound::Receivers;
use crate::domain::text::Name;
use crate::domain::webhooks::valid_pattern;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct WebhookInput {
    pub name: Name,
    pub url: String,
    pub events: Vec<String>,
    pub network_ids: Vec<String>,
    pub format: String,
    /// `None` keeps the stored secret (on update).
    pub secret: Option<String>,
    pub enabled: bool,
    /// Where the server may send: the URL is checked against it.
    pub receivers: Receivers,
}

/// The checks that need no database: address, patterns, format, secret.
pub fn check_input(input: &WebhookInput) -> ApiResult<()> {
    input
        .receivers
        .check_url(&input.url)
        .map_err(|e| e.at("url"))?;
    for (i, p) in input.events.iter().enumerate() {
        if !valid_pattern(p) {
            return Err(ApiError::validation(
                format!("events[{i}]"),
                format!("\"{p}\" is not an entity_type.action pattern (e.g. binding.create, service.*, *)"),
            ));
        }
    }
    if !matches!(input.format.as_str(), "json" | "ntfy" | "discord") {
        return Err(ApiError::validation(
            "format",
            "format is json, ntfy or discord",
        ));
    }
    if let Some(secret) = &input.secret {
        if !(16..=256).contains(&secret.chars().count()) {
            return Err(ApiError::validation(
                "secret",
                "The secret must be 16 to 256 characters",
            ));
        }
    }
    Ok(())
}

/// Networks exist, and a key limited to networks keeps its hooks within them.
fn check_networks(tx: &Transaction, who: &Writer, networks: &[String]) -> ApiResult<()> {
    if networks.is_empty() && who.is_scoped() {
        return Err(ApiError::forbidden_scope(
            "A key limited to networks may only create hooks limited to its networks",
        ));
    }
    for (i, n) in networks.iter().enumerate() {
        if !db::networks::exists(tx, n)? {
            return Err(missing_reference(
                &format!("network_ids[{i}]"),
                "Network",
                n,
            ));
        }
        who.check_network(n)?;
    }
    Ok(())
}

/// A hook the key may see and change: all its networks within the key's reach.
fn check_reach(who: &Writer, hook: &Webhook) -> ApiResult<()> {
    if hook.network_ids.is_empty() && who.is_scoped() {
        return Err(ApiError::forbidden_scope(
            "This webhook is outside the key's networks",
        ));
    }
    hook.network_ids
        .iter()
        .try_for_each(|n| who.check_network(n))
}

pub fn visible(who: &crate::domain::principal::Principal, hook: &Webhook) -> bool {
    !(hook.network_ids.is_empty() && who.is_scoped())
        && hook.network_ids.iter().all(|n| who.can_reach(n))
}

pub fn create(tx: &Transaction, who: &Writer, input: WebhookInput) -> ApiResult<Webhook> {
    check_input(&input)?;
    check_networks(tx, who, &input.network_ids)?;
    let hook = Webhook {
        id: new_id(),
        name: input.name.into_inner(),
        url: input.url,
        events: input.events,
        network_ids: input.network_ids,
        format: input.format,
        has_secret: input.secret.is_some(),
        enabled: input.enabled,
        last_delivery_status: None,
        failing_since: None,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
    };
    db::webhooks::insert(tx, &hook, input.secret.as_deref())?;
    who.created(tx, EntityType::Webhook, &hook)?;
    Ok(hook)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: WebhookInput) -> ApiResult<Webhook> {
    let stored = db::webhooks::get(tx, id)?;
    check_reach(who, &stored)?;
    check_input(&input)?;
    check_networks(tx, who, &input.network_ids)?;
    let mut hook = stored.clone();
    hook.name = input.name.into_inner();
    hook.url = input.url;
    hook.events = input.events;
    hook.network_ids = input.network_ids;
    hook.format = input.format;
    hook.has_secret = stored.has_secret || input.secret.is_some();
    if input.enabled && !stored.enabled {
        // Enabled again: its failing streak starts over.
        hook.failing_since = None;
    }
    hook.enabled = input.enabled;
    let secret_changed = input.secret.is_some();
    if secret_changed || changes_state(EntityType::Webhook, &stored, &hook)? {
        hook.updated_at = who.now.clone();
        db::webhooks::update(tx, &hook, input.secret.as_deref())?;
        who.updated(tx, EntityType::Webhook, &stored, &hook)?;
    }
    Ok(hook)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let hook = db::webhooks::get(tx, id)?;
    check_reach(who, &hook)?;
    who.deleted(tx, EntityType::Webhook, &hook)?;
    db::webhooks::delete(tx, id)
}

/// Switches off a hook that has failed for a day (journaled, by the system).
pub fn disable_failing(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let stored = db::webhooks::get(tx, id)?;
    if !stored.enabled {
        return Ok(());
    }
    let mut hook = stored.clone();
    hook.enabled = false;
    hook.updated_at = who.now.clone();
    db::webhooks::update(tx, &hook, None)?;
    who.updated(tx, EntityType::Webhook, &stored, &hook)?;
    Ok(())
}

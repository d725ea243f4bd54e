//! API-key use cases: create, update, delete, rotate; the first-start bootstrap.

use rusqlite::{Connection, Transaction};
use serde::Serialize;

use super::journal::{changes_state, Writer};
use super::{missing_reference, new_id};
use crate::db::{self, api_keys::ApiKey};
use crate::domain::history::EntityType;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::domain::token;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct ApiKeyInput {
    pub name: Name,
    pub permissions: Role,
    pub network_ids: Vec<String>,
    pub expires_at: Option<String>,
    pub is_enabled: bool,
}

/// A created key and its plaintext, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    pub api_key: ApiKey,
    /// The secret: send it as `Authorization: Bearer <key>`. It is not stored and not shown again.
    pub key: String,
}

fn role_of(key: &ApiKey) -> ApiResult<Role> {
    Role::parse(&key.permissions).map_err(|_| ApiError::internal("stored key has an unknown role"))
}

/// Admins manage keys; a signed-in person of any role manages the keys they own.
pub fn may_manage_keys(who: &Principal) -> ApiResult<()> {
    if who.session.is_some() {
        return Ok(());
    }
    who.require(Role::Admin)
}

/// Below Admin, a person reaches only their own keys.
fn check_own(who: &Principal, target: &ApiKey) -> ApiResult<()> {
    if who.role >= Role::Admin {
        return Ok(());
    }
    match (&who.session, &target.owner_user_id) {
        (Some(s), Some(owner)) if &s.user_id == owner => Ok(()),
        _ => who.require(Role::Admin),
    }
}

/// Admin and Owner keys are made (or made so) only by Owners; a key never reaches past its caller
/// (a person's own key: not above their role).
fn check_grant(conn: &Connection, who: &Principal, input: &ApiKeyInput) -> ApiResult<()> {
    may_manage_keys(who)?;
    if input.permissions >= Role::Admin {
        who.require(Role::Owner)?;
    }
    who.require(input.permissions)?;
    for (i, network) in input.network_ids.iter().enumerate() {
        if !db::networks::exists(conn, network)? {
            return Err(missing_reference(
                &format!("network_ids[{i}]"),
                "Network",
                network,
            ));
        }
    }
    if who.is_scoped() {
        let wider =
            input.network_ids.is_empty() || input.network_ids.iter().any(|n| !who.can_reach(n));
        if wider {
            return Err(ApiError::forbidden_scope(
                "A key limited to some networks cannot create or widen a key beyond them",
            )
            .with_field("network_ids"));
        }
    }
    Ok(())
}

/// The caller may manage `target`: its role is not above the caller's, and it lies within the caller's networks.
pub fn check_reach(who: &Principal, target: &ApiKey) -> ApiResult<()> {
    check_own(who, target)?;
    let role = role_of(target)?;
    if role > who.role {
        who.require(role)?;
    }
    if who.is_scoped()
        && (target.network_ids.is_empty() || target.network_ids.iter().any(|n| !who.can_reach(n)))
    {
        return Err(ApiError::forbidden_scope(
            "This key is outside the caller's reach",
        ));
    }
    Ok(())
}

/// Whether the caller can see `target` in lists.
pub fn visible(who: &Principal, target: &ApiKey) -> bool {
    check_reach(who, target).is_ok()
}

fn last_owner_conflict(action: &str) -> ApiError {
    ApiError::conflict(format!("Cannot {action} the last enabled Owner key"))
        .with_hint("Create another Owner key first")
}

fn is_enabled_owner(key: &ApiKey) -> bool {
    key.is_enabled && key.permissions == Role::Owner.as_str()
}

pub fn create(tx: &Transaction, who: &Writer, input: ApiKeyInput) -> ApiResult<CreatedKey> {
    check_grant(tx, who, &input)?;
    let plaintext = token::generate();
    let key = insert(tx, who, input, &plaintext)?;
    Ok(CreatedKey {
        api_key: key,
        key: plaintext,
    })
}

/// Stores a key with the given plaintext; shared by the API, the CLI and the bootstrap.
pub fn insert(
    tx: &Connection,
    who: &Writer,
    input: ApiKeyInput,
    plaintext: &str,
) -> ApiResult<ApiKey> {
    let key = ApiKey {
        id: new_id(),
        name: input.name.into_inner(),
        permissions: input.permissions.as_str().to_string(),
        network_ids: input.network_ids,
        expires_at: input.expires_at,
        is_enabled: input.is_enabled,
        last_used: None,
        key: db::api_keys::MASK,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        tags: Vec::new(),
        // A key made by a person's key is the person's too: it must not outlive their account.
        owner_user_id: who
            .session
            .as_ref()
            .map(|s| s.user_id.clone())
            .or_else(|| who.actor.user.as_ref().map(|u| u.id.clone())),
    };
    db::api_keys::insert(tx, &key, &token::hash(plaintext))?;
    who.created(tx, EntityType::ApiKey, &key)?;
    Ok(key)
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: ApiKeyInput) -> ApiResult<ApiKey> {
    let stored = db::api_keys::get(tx, id)?;
    let mut key = stored.clone();
    check_reach(who, &key)?;
    check_grant(tx, who, &input)?;
    let stays_owner =
        input.is_enabled && input.permissions == Role::Owner && input.expires_at.is_none();
    if is_enabled_owner(&key) && !stays_owner && db::api_keys::other_enabled_owners(tx, id)? == 0 {
        return Err(last_owner_conflict("disable, demote or expire"));
    }
    key.name = input.name.into_inner();
    key.permissions = input.permissions.as_str().to_string();
    key.network_ids = input.network_ids;
    key.expires_at = input.expires_at;
    key.is_enabled = input.is_enabled;
    if changes_state(EntityType::ApiKey, &stored, &key)? {
        key.updated_at = who.now.clone();
        db::api_keys::update(tx, &key)?;
        who.updated(tx, EntityType::ApiKey, &stored, &key)?;
    }
    Ok(key)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let key = db::api_keys::get(tx, id)?;
    check_reach(who, &key)?;
    if is_enabled_owner(&key) && db::api_keys::other_enabled_owners(tx, id)? == 0 {
        return Err(last_owner_conflict("delete"));
    }
    who.deleted(tx, EntityType::ApiKey, &key)?;
    db::api_keys::delete(tx, id)
}

/// Disables a key from the command line, which may switch off any key (even the last Owner:
/// the operator of the machine can always create another).
pub fn disable(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let stored = db::api_keys::get(tx, id)?;
    if !stored.is_enabled {
        return Ok(());
    }
    let mut key = stored.clone();
    key.is_enabled = false;
    key.updated_at = who.now.clone();
    db::api_keys::update(tx, &key)?;
    who.updated(tx, EntityType::ApiKey, &stored, &key)?;
    Ok(())
}

/// Replaces the key's secret; the old plaintext stops working when this commits.
pub fn rotate(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<String> {
    let key = db::api_keys::get(tx, id)?;
    check_reach(who, &key)?;
    // Rotating hands over the new plaintext: an Admin taking over a peer Admin's key would hold
    // a credential the journal attributes to someone else. Only an Owner rotates another
    // Admin's or an Owner's key.
    if key.id != who.key_id && role_of(&key)? >= Role::Admin {
        who.require(Role::Owner)?;
    }
    if key.id == who.key_id
        && is_enabled_owner(&key)
        && db::api_keys::other_enabled_owners(tx, id)? == 0
    {
        return Err(
            ApiError::conflict("The last enabled Owner key cannot rotate itself")
                .with_hint("Create another Owner key first, or rotate this one from it"),
        );
    }
    let plaintext = token::generate();
    db::api_keys::set_hash(tx, id, &token::hash(&plaintext), &who.now)?;
    let mut rotated = key.clone();
    rotated.updated_at = who.now.clone();
    // The secret is not part of the image; the entry says that it changed.
    who.updated_fields(tx, EntityType::ApiKey, &key, &rotated, &["key"])?;
    Ok(plaintext)
}

/// First start: with no key at all, creates the Owner key (from `preset` if given).
/// Returns the plaintext when it created one.
pub fn bootstrap(
    tx: &Transaction,
    who: &Writer,
    preset: Option<&str>,
) -> ApiResult<Option<String>> {
    if db::api_keys::count(tx)? > 0 {
        return Ok(None);
    }
    let plaintext = preset.map(str::to_string).unwrap_or_else(token::generate);
    let input = ApiKeyInput {
        name: Name::parse("initial-admin", 100).map_err(|e| ApiError::internal(e.0))?,
        permissions: Role::Owner,
        network_ids: Vec::new(),
        expires_at: None,
        is_enabled: true,
    };
    insert(tx, who, input, &plaintext)?;
    Ok(Some(plaintext))
}

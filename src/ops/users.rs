//! People's accounts: who may make, change and remove whom, the last Owner kept, and sessions
//! ended when a person is disabled. Password hashes are made before the transaction (they are
//! slow) and passed in.

use rusqlite::Transaction;

use super::journal::Writer;
use crate::db::{self, sessions, users::User};
use crate::domain::account::may_grant;
use crate::domain::history::EntityType;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct UserInput {
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub network_ids: Vec<String>,
    pub enabled: bool,
}

fn check_grant(who: &Writer, role: Role, networks: &[String]) -> ApiResult<()> {
    if may_grant(who.role, &who.network_ids, role, networks) {
        Ok(())
    } else if role > who.role {
        Err(
            ApiError::forbidden_role(role.as_str()).with_message(format!(
                "Only an {} or above can give or change the {} role",
                role.as_str(),
                role.as_str()
            )),
        )
    } else {
        Err(ApiError::forbidden_role("Owner")
            .with_message("A person cannot be given networks beyond the caller's own")
            .with_field("network_ids"))
    }
}

pub fn check_networks(tx: &Transaction, networks: &[String]) -> ApiResult<()> {
    for (i, n) in networks.iter().enumerate() {
        if db::networks::get(tx, n).is_err() {
            return Err(ApiError::validation(
                format!("network_ids[{i}]"),
                "No network has this id",
            ));
        }
    }
    Ok(())
}

fn check_username(tx: &Transaction, username: &str, except: &str) -> ApiResult<()> {
    if db::users::username_taken(tx, username, except)? {
        return Err(ApiError::conflict(format!(
            "The username \"{username}\" is taken (usernames are unique regardless of case)"
        ))
        .with_field("username"));
    }
    Ok(())
}

fn role_of(u: &User) -> ApiResult<Role> {
    Role::parse(&u.role).map_err(|_| ApiError::internal("stored user has an unknown role"))
}

/// Makes a user. `auth` is how they sign in; `password_hash` is `None` for a person who sets it
/// later (or signs in elsewhere).
pub fn create(
    tx: &Transaction,
    who: &Writer,
    input: UserInput,
    auth: &str,
    password_hash: Option<&str>,
) -> ApiResult<User> {
    check_grant(who, input.role, &input.network_ids)?;
    check_networks(tx, &input.network_ids)?;
    check_username(tx, &input.username, "")?;
    let user = User {
        id: crate::domain::new_id(),
        username: input.username,
        display_name: input.display_name,
        email: input.email,
        role: input.role.as_str().into(),
        network_ids: input.network_ids,
        enabled: input.enabled,
        auth: auth.into(),
        totp_enabled: false,
        created_at: who.now.clone(),
        updated_at: who.now.clone(),
        last_sign_in_at: None,
    };
    db::users::insert(tx, &user, password_hash)?;
    who.created(tx, EntityType::User, &user)?;
    Ok(user)
}

/// The user, if the caller may manage them (not above the caller's role, nor wider).
pub fn manageable(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<User> {
    let stored = db::users::get(tx, id)?;
    check_grant(who, role_of(&stored)?, &stored.network_ids)?;
    Ok(stored)
}

/// The last enabled Owner stays an enabled Owner.
fn keep_an_owner(tx: &Transaction, stored: &User, still_owner: bool) -> ApiResult<()> {
    if stored.role == "Owner"
        && stored.enabled
        && !still_owner
        && db::users::other_owners(tx, &stored.id)? == 0
    {
        return Err(ApiError::conflict(
            "This is the last enabled Owner: make another Owner first",
        ));
    }
    Ok(())
}

pub fn update(tx: &Transaction, who: &Writer, id: &str, input: UserInput) -> ApiResult<User> {
    let stored = manageable(tx, who, id)?;
    check_grant(who, input.role, &input.network_ids)?;
    check_networks(tx, &input.network_ids)?;
    check_username(tx, &input.username, id)?;
    keep_an_owner(tx, &stored, input.role == Role::Owner && input.enabled)?;
    let mut user = User {
        username: input.username,
        display_name: input.display_name,
        email: input.email,
        role: input.role.as_str().into(),
        network_ids: input.network_ids,
        enabled: input.enabled,
        ..stored.clone()
    };
    if user == stored {
        return Ok(stored);
    }
    user.updated_at = who.now.clone();
    db::users::update(tx, &user)?;
    who.updated(tx, EntityType::User, &stored, &user)?;
    // A person disabled, or given less, signs in again under the new terms.
    if !user.enabled || user.role != stored.role || user.network_ids != stored.network_ids {
        sessions::delete_of_user(tx, id, None)?;
    }
    Ok(user)
}

pub fn delete(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<()> {
    let stored = manageable(tx, who, id)?;
    keep_an_owner(tx, &stored, false)?;
    // A person's keys go with them, each with its own journal entry.
    for key in db::api_keys::owned_by(tx, id)? {
        who.deleted(tx, EntityType::ApiKey, &key)?;
        db::api_keys::delete(tx, &key.id)?;
    }
    who.deleted(tx, EntityType::User, &stored)?;
    db::users::delete(tx, id)?;
    Ok(())
}

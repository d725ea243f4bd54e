//! Sign-in's writes: sessions started and ended, one-time codes made and used, the first
//! Owner made with the setup code, and the audit of it all.

use rusqlite::Transaction;
use time::OffsetDateTime;

use super::journal::Writer;
use super::users::{self, UserInput};
use crate::db::sessions::{self, AuthEvent, Code, Session};
use crate::db::{self, users::User};
use crate::domain::clock;
use crate::domain::role::Role;
use crate::domain::token::{hash, hex};
use crate::error::{ApiError, ApiResult};

/// Where a request came from, for sessions and the audit.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// One line of the audit; `user_id` is `None` for a name no account has.
pub fn event(
    tx: &Transaction,
    kind: &str,
    user_id: Option<&str>,
    username: &str,
    client: &Client,
    now: &str,
) -> ApiResult<()> {
    sessions::insert_event(
        tx,
        &AuthEvent {
            id: crate::domain::new_id(),
            time: now.to_string(),
            kind: kind.to_string(),
            user_id: user_id.map(str::to_string),
            username: Some(username.to_string()),
            address: client.address.clone(),
            user_agent: client.user_agent.clone(),
        },
    )
}

fn secret() -> String {
    hex(&rand::random::<[u8; 32]>())
}

/// A new session for `user`: a fresh random id (only its hash is stored) and CSRF token.
/// Answers the session and the id for the cookie.
pub fn start_session(
    tx: &Transaction,
    user: &User,
    auth: &str,
    client: &Client,
    max_days: u32,
) -> ApiResult<(Session, String)> {
    let now = OffsetDateTime::now_utc();
    let token = secret();
    let session = Session {
        id: crate::domain::new_id(),
        user_id: user.id.clone(),
        auth: auth.to_string(),
        created_at: clock::format(now),
        last_used_at: clock::format(now),
        expires_at: clock::format(now + time::Duration::days(i64::from(max_days))),
        address: client.address.clone(),
        user_agent: client.user_agent.clone(),
        current: true,
        csrf_token: secret(),
    };
    sessions::insert(tx, &session, &hash(&token))?;
    db::users::signed_in(tx, &user.id, &session.created_at)?;
    event(
        tx,
        "sign_in",
        Some(&user.id),
        &user.username,
        client,
        &session.created_at,
    )?;
    Ok((session, token))
}

/// A one-time code for `purpose`, valid `hours`; answers the code (only its hash is kept).
pub fn new_code(
    tx: &Transaction,
    purpose: &str,
    user_id: Option<&str>,
    role: Option<Role>,
    network_ids: Option<&[String]>,
    hours: i64,
) -> ApiResult<(String, String)> {
    let now = OffsetDateTime::now_utc();
    let code = hex(&rand::random::<[u8; 16]>());
    let expires_at = clock::format(now + time::Duration::hours(hours));
    sessions::insert_code(
        tx,
        &hash(&code),
        &Code {
            purpose: purpose.to_string(),
            user_id: user_id.map(str::to_string),
            role: role.map(|r| r.as_str().to_string()),
            network_ids: network_ids.map(|n| serde_json::to_string(n).unwrap_or_default()),
            expires_at: expires_at.clone(),
            used_at: None,
        },
        &clock::format(now),
    )?;
    Ok((code, expires_at))
}

/// Uses a code of `purpose` once: an unknown, used or expired code is the same 404.
pub fn take_code(tx: &Transaction, code: &str, purpose: &str) -> ApiResult<Code> {
    let now = clock::now();
    let key = hash(code);
    let found = sessions::code(tx, &key)?
        .filter(|c| c.purpose == purpose && c.used_at.is_none() && c.expires_at > now)
        .ok_or_else(|| {
            ApiError::not_found("Code").with_message("This link is unknown, used or expired")
        })?;
    sessions::use_code(tx, &key, &now)?;
    Ok(found)
}

/// The first start's setup: with no user yet, a code (from the log or `<data dir>/setup-code`)
/// makes the Owner and signs them in.
pub fn setup(
    tx: &Transaction,
    who: &Writer,
    code: &str,
    username: String,
    password_hash: &str,
    client: &Client,
    max_days: u32,
) -> ApiResult<(User, Session, String)> {
    if db::users::count(tx)? > 0 {
        return Err(ApiError::conflict(
            "This server is set up: sign in, or ask an Admin for an invite",
        ));
    }
    take_code(tx, code, "setup").map_err(|e| e.with_field("code"))?;
    let user = users::create(
        tx,
        who,
        UserInput {
            username,
            display_name: None,
            email: None,
            role: Role::Owner,
            network_ids: Vec::new(),
            enabled: true,
        },
        "password",
        Some(password_hash),
    )?;
    let (session, token) = start_session(tx, &user, "password", client, max_days)?;
    Ok((user, session, token))
}

/// Ends every other session of the person (a password change, "sign out everywhere else").
pub fn end_other_sessions(tx: &Transaction, user_id: &str, keep: Option<&str>) -> ApiResult<usize> {
    sessions::delete_of_user(tx, user_id, keep)
}

/// A person another system vouched for: a trusted proxy's header or an OpenID provider.
#[derive(Clone)]
pub struct Vouched {
    /// `header` or `oidc`.
    pub auth: &'static str,
    /// OpenID Connect's issuer and subject, which link the account (never a name or an email).
    pub identity: Option<(String, String)>,
    /// Names to make the account under, best first; a header's one name also finds the account.
    pub names: Vec<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// The role the person's groups map to, read again at every sign-in; `None` when no groups
    /// were given (an existing account keeps its role, a new one is a Viewer).
    pub role: Option<Role>,
}

/// Signs in a vouched-for person: their account (made now when `auto_create` allows), its role
/// brought to what their groups say, and a new session.
pub fn vouched_sign_in(
    tx: &Transaction,
    who: &Writer,
    person: Vouched,
    auto_create: bool,
    client: &Client,
    max_days: u32,
) -> ApiResult<(User, Session, String)> {
    let user = match vouched_account(tx, &person)? {
        Some(u) if !u.enabled => return Err(ApiError::unauthorized("This account is disabled")),
        Some(u) => match person.role {
            Some(role) if role.as_str() != u.role => users::update(
                tx,
                who,
                &u.id,
                UserInput {
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                    email: u.email.clone(),
                    role,
                    network_ids: u.network_ids.clone(),
                    enabled: true,
                },
            )?,
            _ => u,
        },
        None if auto_create => {
            let username = free_username(tx, &person)?;
            let user = users::create(
                tx,
                who,
                UserInput {
                    username,
                    display_name: person.display_name.clone(),
                    email: person.email.clone(),
                    role: person.role.unwrap_or(Role::Viewer),
                    network_ids: Vec::new(),
                    enabled: true,
                },
                person.auth,
                None,
            )?;
            if let Some((issuer, subject)) = &person.identity {
                db::users::link_oidc(tx, &user.id, issuer, subject)?;
            }
            user
        }
        None => {
            return Err(ApiError::unauthorized(
                "No account is linked to you here, and accounts are not made at sign-in",
            ))
        }
    };
    let (session, token) = start_session(tx, &user, person.auth, client, max_days)?;
    Ok((user, session, token))
}

/// The account a vouched-for person signs in to: the one linked to their provider's identity,
/// else (a proxy's header) the one of their name.
fn vouched_account(tx: &Transaction, person: &Vouched) -> ApiResult<Option<User>> {
    Ok(match &person.identity {
        Some((issuer, subject)) => db::users::by_oidc(tx, issuer, subject)?,
        None => match person.names.first() {
            Some(name) => db::users::by_username(tx, name)?.map(|(u, _)| u),
            None => None,
        },
    })
}

/// Audits a vouched-for person's refused sign-in: under the account they would have signed in
/// to, else under the first name they came with (at most 100 characters of it).
pub fn vouched_refused(
    tx: &Transaction,
    person: &Vouched,
    client: &Client,
    now: &str,
) -> ApiResult<()> {
    let (id, name) = match vouched_account(tx, person)? {
        Some(user) => (Some(user.id), user.username),
        None => (
            None,
            person
                .names
                .first()
                .map(|n| n.chars().take(100).collect())
                .unwrap_or_default(),
        ),
    };
    event(tx, "sign_in_failed", id.as_deref(), &name, client, now)
}

/// The first of the person's names that is a username and free; a provider's person whose names
/// are all taken by others gets the first with a number (`ada-2`): accounts are never joined by
/// name.
fn free_username(tx: &Transaction, person: &Vouched) -> ApiResult<String> {
    use crate::domain::account::parse_username;
    let names: Vec<String> = person
        .names
        .iter()
        .filter_map(|n| parse_username(n).ok())
        .collect();
    let first = names.first().cloned().ok_or_else(|| {
        ApiError::unauthorized("None of the names you signed in with is a username here")
    })?;
    if person.identity.is_none() {
        return Ok(first);
    }
    for name in &names {
        if !db::users::username_taken(tx, name, "")? {
            return Ok(name.clone());
        }
    }
    let stem: String = first.chars().take(56).collect();
    for n in 2..1000 {
        let candidate = format!("{stem}-{n}");
        if !db::users::username_taken(tx, &candidate, "")? {
            return Ok(candidate);
        }
    }
    Err(ApiError::conflict(
        "No free username is left for this person",
    ))
}

//! Who is calling: the API key's role and the networks it may reach.

use super::history::{Actor, ActorKind, ActorUser};
use super::role::Role;
use crate::error::{ApiError, ApiResult};

/// The networks a key may see: `None` for every network.
pub type Scope = Option<Vec<String>>;

/// The session a person signed in with, when the caller is one.
#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id: String,
    pub user_id: String,
    /// What a write authenticated by the cookie must send in `X-Portolan-CSRF`.
    pub csrf_token: String,
    /// `password`, `oidc` or `header`.
    pub auth: String,
    pub expires_at: String,
}

#[derive(Debug, Clone)]
pub struct Principal {
    /// The API key's id; `user:<id>` for a person's session (idempotency and rate limits are
    /// per key, so per person).
    pub key_id: String,
    pub role: Role,
    /// Empty means every network.
    pub network_ids: Vec<String>,
    /// Who the journal names for this caller's changes.
    pub actor: Actor,
    /// Set when a person's session cookie authenticated the request.
    pub session: Option<SessionRef>,
}

impl Principal {
    /// A person signed in, by their session.
    pub fn user(
        user_id: &str,
        username: &str,
        role: Role,
        network_ids: Vec<String>,
        session: SessionRef,
    ) -> Self {
        Principal {
            key_id: format!("user:{user_id}"),
            role,
            network_ids,
            actor: Actor {
                kind: ActorKind::User,
                id: Some(user_id.to_string()),
                name: Some(username.to_string()),
                user: None,
            },
            session: Some(session),
        }
    }

    /// The caller behind an API key; `owner` is the person the key belongs to, if any.
    pub fn api_key(
        key_id: String,
        name: String,
        role: Role,
        network_ids: Vec<String>,
        owner: Option<ActorUser>,
    ) -> Self {
        Principal {
            session: None,
            actor: Actor {
                kind: ActorKind::ApiKey,
                id: Some(key_id.clone()),
                name: Some(name),
                user: owner,
            },
            key_id,
            role,
            network_ids,
        }
    }

    /// The server itself or its command line: an unscoped Owner without a key.
    pub fn operator(kind: ActorKind, name: &str) -> Self {
        Principal {
            session: None,
            key_id: String::new(),
            role: Role::Owner,
            network_ids: Vec::new(),
            actor: Actor {
                kind,
                id: None,
                name: Some(name.to_string()),
                user: None,
            },
        }
    }

    /// A discovery reconciling what it observed: unscoped (its creator's scope was checked
    /// when it was created), named in the journal by the discovery's id.
    pub fn discovery(discovery_id: &str, source: &str) -> Self {
        Principal {
            session: None,
            key_id: String::new(),
            role: Role::Owner,
            network_ids: Vec::new(),
            actor: Actor {
                kind: ActorKind::Discovery,
                id: Some(discovery_id.to_string()),
                name: Some(source.to_string()),
                user: None,
            },
        }
    }

    /// An agent reconciling its report: limited to its network, named in the journal by the
    /// agent's id and name.
    pub fn agent(agent_id: &str, name: &str, network_id: &str) -> Self {
        Principal {
            session: None,
            key_id: String::new(),
            role: Role::Member,
            network_ids: vec![network_id.to_string()],
            actor: Actor {
                kind: ActorKind::Agent,
                id: Some(agent_id.to_string()),
                name: Some(name.to_string()),
                user: None,
            },
        }
    }

    /// Role is checked before scope, so the error names what actually blocks the caller.
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden_role(role.as_str()))
        }
    }

    pub fn is_scoped(&self) -> bool {
        !self.network_ids.is_empty()
    }

    pub fn can_reach(&self, network_id: &str) -> bool {
        !self.is_scoped() || self.network_ids.iter().any(|n| n == network_id)
    }

    /// The object lives in `network_id`; the key must reach that network. The refusal names
    /// nothing of that network: the caller may not learn what lies outside its reach.
    pub fn check_network(&self, network_id: &str) -> ApiResult<()> {
        if self.can_reach(network_id) {
            Ok(())
        } else {
            Err(ApiError::forbidden_scope(
                "This API key does not have access to the object's network",
            ))
        }
    }

    /// Networks, tags, service types and templates belong to no network: only unscoped keys write them.
    pub fn check_global_write(&self) -> ApiResult<()> {
        if self.is_scoped() {
            Err(ApiError::forbidden_scope(
                "This API key is limited to some networks and cannot change global resources",
            ))
        } else {
            Ok(())
        }
    }

    /// The list filter for this key: `None` sees every network.
    pub fn scope(&self) -> Scope {
        if self.is_scoped() {
            Some(self.network_ids.clone())
        } else {
            None
        }
    }
}

//! History: what a change is, who made it, and which fields of an object a write changed.
//! The diff decides whether a write records anything at all (a no-op records nothing).

use serde::Serialize;
use serde_json::{Map, Value};

/// Every writable kind of object, as the journal names it in `entity_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Network,
    Subnet,
    Host,
    IpAddress,
    Port,
    Tag,
    ServiceType,
    Service,
    Binding,
    ServiceTemplate,
    ApiKey,
    Dependency,
    Webhook,
    /// The whole inventory, as an import changes it.
    Inventory,
    /// A network's topology view options.
    Topology,
    /// A discovery, whose tags change.
    Discovery,
    /// An agent record (never its token).
    Agent,
    /// A deployment of a template: its creation and status changes.
    Deployment,
    /// A person's account (never a secret of it).
    User,
}

impl EntityType {
    pub const ALL: [EntityType; 19] = [
        EntityType::Network,
        EntityType::Subnet,
        EntityType::Host,
        EntityType::IpAddress,
        EntityType::Port,
        EntityType::Tag,
        EntityType::ServiceType,
        EntityType::Service,
        EntityType::Binding,
        EntityType::ServiceTemplate,
        EntityType::ApiKey,
        EntityType::Dependency,
        EntityType::Webhook,
        EntityType::Inventory,
        EntityType::Topology,
        EntityType::Discovery,
        EntityType::Agent,
        EntityType::Deployment,
        EntityType::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Network => "network",
            EntityType::Subnet => "subnet",
            EntityType::Host => "host",
            EntityType::IpAddress => "ip_address",
            EntityType::Port => "port",
            EntityType::Tag => "tag",
            EntityType::ServiceType => "service_type",
            EntityType::Service => "service",
            EntityType::Binding => "binding",
            EntityType::ServiceTemplate => "service_template",
            EntityType::ApiKey => "api_key",
            EntityType::Dependency => "dependency",
            EntityType::Webhook => "webhook",
            EntityType::Inventory => "inventory",
            EntityType::Topology => "topology",
            EntityType::Discovery => "discovery",
            EntityType::Agent => "agent",
            EntityType::Deployment => "deployment",
            EntityType::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Kinds only Admins manage, whose journal entries only Admins read: a key's entries name
    /// who holds access, a webhook's carry its receiver URL, often with a token in it.
    pub const ADMIN_ONLY: [EntityType; 3] =
        [EntityType::ApiKey, EntityType::Webhook, EntityType::User];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// A full import: one entry with the document's counts.
    Import,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: Option<String>,
    /// The person who owns the API key that made the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ActorUser>,
}

/// A person named in the journal: as they were called when the change was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ActorUser {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    ApiKey,
    Discovery,
    Cli,
    System,
    /// An agent's report.
    Agent,
    /// A person signed in (a session).
    User,
}

impl ActorKind {
    pub const ALL: [ActorKind; 6] = [
        ActorKind::ApiKey,
        ActorKind::Discovery,
        ActorKind::Cli,
        ActorKind::System,
        ActorKind::Agent,
        ActorKind::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::ApiKey => "api_key",
            ActorKind::Discovery => "discovery",
            ActorKind::Cli => "cli",
            ActorKind::System => "system",
            ActorKind::Agent => "agent",
            ActorKind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<ActorKind> {
        ActorKind::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Fields the server keeps about an object rather than of it: a write that changes only these
/// changes no state (snake_case for the inventory, camelCase for templates).
const BOOKKEEPING: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "createdAt",
    "updatedAt",
    "valid_from",
    "valid_to",
    "lineage_id",
    "last_seen_at",
    "first_discovery_id",
    "last_discovery_id",
    "stale",
    "last_used",
];

/// The state fields whose values differ between two images of one object, in the order of the
/// newer image (fields only the older has come last). Empty: the write changes nothing.
pub fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out: Vec<String> = a
        .iter()
        .filter(|(k, v)| !BOOKKEEPING.contains(&k.as_str()) && b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(
        b.keys()
            .filter(|k| !BOOKKEEPING.contains(&k.as_str()) && !a.contains_key(*k))
            .cloned(),
    );
    out
}

/// Every state field of an object, for a create or a delete: what came into being or ended.
pub fn state_fields(image: &Value) -> Vec<String> {
    image
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| !BOOKKEEPING.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bookkeeping_alone_is_no_change() {
        let before = json!({"id": "a", "name": "nas", "updated_at": "1", "valid_from": "1", "last_seen_at": "1"});
        let after = json!({"id": "a", "name": "nas", "updated_at": "2", "valid_from": "2", "last_seen_at": "2"});
        assert!(changed_fields(&before, &after).is_empty());
    }

    #[test]
    fn lists_changed_state_fields_in_order() {
        let before = json!({"name": "nas", "hostname": null, "tags": ["t1"], "hidden": false});
        let after =
            json!({"name": "nas2", "hostname": null, "tags": ["t1", "t2"], "hidden": false});
        assert_eq!(changed_fields(&before, &after), vec!["name", "tags"]);
    }

    #[test]
    fn null_and_missing_differ_and_removed_fields_count() {
        let before = json!({"a": null, "gone": 1});
        let after = json!({"a": 0, "new": null});
        assert_eq!(changed_fields(&before, &after), vec!["a", "new", "gone"]);
    }

    #[test]
    fn camel_case_bookkeeping_is_ignored() {
        let before = json!({"imageTag": "1", "updatedAt": "x"});
        let after = json!({"imageTag": "1", "updatedAt": "y"});
        assert!(changed_fields(&before, &after).is_empty());
    }

    #[test]
    fn state_fields_leave_out_bookkeeping() {
        let image = json!({"id": "b", "port_id": "p", "valid_from": "t", "type": "Port"});
        assert_eq!(state_fields(&image), vec!["port_id", "type"]);
    }

    #[test]
    fn names_round_trip() {
        for e in EntityType::ALL {
            assert_eq!(EntityType::parse(e.as_str()), Some(e));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        for k in ActorKind::ALL {
            assert_eq!(ActorKind::parse(k.as_str()), Some(k));
        }
    }
}

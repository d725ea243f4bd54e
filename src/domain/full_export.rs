//! The full export: one versioned JSON document holding the whole inventory, and what an
//! import accepts. The document is row-shaped (each section is a table's rows, with the
//! stored ids and times), so that export -> import -> export gives the same document.

use serde_json::{Map, Value};

use super::compose;
use super::enums::{Color, SubnetType};
use super::history::{ActorKind, EntityType};
use super::net::MacAddress;
use super::template::{check_health_url, check_image_id, check_image_tag};
use super::text::{optional_text, Hostname, Name};
use super::{clock, Invalid};
use crate::error::ApiError;

/// What the document says it is.
pub const FORMAT: &str = "portolan-export";
/// The document's format version; an import refuses newer ones.
pub const VERSION: u64 = 1;

/// One section of the document: the rows of one table.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub name: &'static str,
    pub table: &'static str,
    /// Columns holding JSON text, written into the document as JSON values.
    pub json_columns: &'static [&'static str],
    /// Columns never exported (secrets, delivery state).
    pub hidden: &'static [&'static str],
    /// The tag assignment table, whose tag ids a row carries as `tag_ids`.
    pub tags: Option<&'static str>,
    /// Which rows are exported (SQL condition).
    pub only: Option<&'static str>,
    /// Row order: stable, and the one an import needs (a service's bindings together).
    pub order: &'static str,
}

const fn section(name: &'static str) -> Section {
    Section {
        name,
        table: name,
        json_columns: &[],
        hidden: &[],
        tags: None,
        only: None,
        order: "id",
    }
}

/// The sections in the order an import needs them: what a row refers to comes before it.
pub const SECTIONS: &[Section] = &[
    section("tags"),
    Section {
        json_columns: &["default_ports"],
        // The built-in catalogue ships with the binary.
        only: Some("builtin = 0"),
        ..section("service_types")
    },
    Section {
        tags: Some("network_tags"),
        ..section("networks")
    },
    Section {
        tags: Some("subnet_tags"),
        ..section("subnets")
    },
    Section {
        json_columns: &["source"],
        tags: Some("host_tags"),
        ..section("hosts")
    },
    section("ip_addresses"),
    section("ports"),
    Section {
        json_columns: &["source"],
        tags: Some("service_tags"),
        ..section("services")
    },
    Section {
        order: "service_id, ord, id",
        ..section("bindings")
    },
    Section {
        json_columns: &["members"],
        tags: Some("dependency_tags"),
        ..section("dependencies")
    },
    Section {
        table: "topology_options",
        json_columns: &["options"],
        order: "network_id",
        ..section("topology")
    },
    Section {
        json_columns: &["base_env", "exposed_ports"],
        ..section("service_templates")
    },
    Section {
        json_columns: &["events", "network_ids"],
        hidden: &["secret", "cursor"],
        ..section("webhooks")
    },
];

const fn history(table: &'static str, json_columns: &'static [&'static str]) -> Section {
    Section {
        json_columns,
        // A version's seq is its closing entry's, which the target's journal renumbers.
        hidden: &["seq"],
        order: "valid_to, id",
        ..section(table)
    }
}

/// What `--with-history` adds: closed versions and the journal.
pub const HISTORY_SECTIONS: &[Section] = &[
    history("subnet_versions", &["tags"]),
    history("host_versions", &["source", "tags"]),
    history("ip_address_versions", &[]),
    history("port_versions", &[]),
    history("service_versions", &["source", "tags"]),
    history("binding_versions", &[]),
    history("dependency_versions", &["members", "tags"]),
    Section {
        json_columns: &["changed_fields", "before", "after", "actor_user"],
        // Entries keep their order and get positions after the target's own journal. Images
        // are written whole (`prior` is how this database stores some of them).
        hidden: &[
            "seq",
            "prior",
            "entity_key",
            "network_key",
            "host_key",
            "service_key",
            "write_seq",
        ],
        order: "seq",
        ..section("changes")
    },
];

pub fn section_named(name: &str) -> Option<&'static Section> {
    SECTIONS
        .iter()
        .chain(HISTORY_SECTIONS)
        .find(|s| s.name == name)
}

/// The document's head, checked before any section is read.
pub fn check_head(format: Option<&str>, version: Option<u64>) -> Result<(), ApiError> {
    match format {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(ApiError::validation(
                "format",
                format!(
                    "This is not a Portolan export (format \"{other}\", expected \"{FORMAT}\")"
                ),
            ))
        }
        None => {
            return Err(ApiError::validation(
                "format",
                format!(
                    "The document must begin with \"format\": \"{FORMAT}\" and its \"version\""
                ),
            ))
        }
    }
    match version {
        Some(v) if v <= VERSION && v >= 1 => Ok(()),
        Some(v) => Err(ApiError::validation(
            "version",
            format!(
                "The document is of format version {v}; this Portolan reads versions up to {VERSION}. Upgrade Portolan to import it"
            ),
        )
        .with_param("supported_version", VERSION)),
        None => Err(ApiError::validation(
            "version",
            "The document must give its \"version\" before its sections",
        )),
    }
}

/// Columns that hold ids (UUIDs), in any section that has them.
const ID_COLUMNS: &[&str] = &[
    "id",
    "lineage_id",
    "network_id",
    "subnet_id",
    "host_id",
    "ip_address_id",
    "port_id",
    "service_id",
    "first_discovery_id",
    "last_discovery_id",
];

/// Columns that hold instants.
const TIME_COLUMNS: &[&str] = &[
    "created_at",
    "updated_at",
    "valid_from",
    "valid_to",
    "last_seen_at",
    "time",
];

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

/// The values of one row as the API would check them (beyond the schema's types and CHECKs):
/// ids are UUIDs, names and host names follow the API's rules, colours and kinds are members
/// of their sets, instants parse, a template's compose file passes the same checks as on
/// `PATCH`. Fails with the field that is wrong. URLs and references are the caller's.
pub fn check_row_values(section: &str, row: &Map<String, Value>) -> Result<(), (String, Invalid)> {
    let fail = |field: &str, e: Invalid| (field.to_string(), e);
    let text = |field: &str| row.get(field).and_then(Value::as_str);
    let table = section.trim_end_matches("_versions");
    if section == "changes" {
        // An entry's images are objects; anything else would read as something it is not.
        for side in ["before", "after"] {
            if !matches!(row.get(side), None | Some(Value::Null | Value::Object(_))) {
                return Err(fail(side, Invalid::new("must be an object or null")));
            }
        }
    }
    for &column in ID_COLUMNS {
        let is_name = column == "id" && table == "service_types";
        match text(column) {
            Some(id) if !is_name && !is_uuid(id) => {
                return Err(fail(
                    column,
                    Invalid::new(format!("\"{id}\" is not a UUID")),
                ))
            }
            _ => {}
        }
    }
    for list in ["tag_ids", "network_ids"] {
        for (i, v) in row
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !v.as_str().is_some_and(is_uuid) {
                return Err(fail(&format!("{list}[{i}]"), Invalid::new("is not a UUID")));
            }
        }
    }
    for &column in TIME_COLUMNS {
        if let Some(t) = text(column) {
            if clock::parse_rfc3339(t).is_none() {
                return Err(fail(
                    column,
                    Invalid::new(format!("\"{t}\" is not an RFC 3339 instant")),
                ));
            }
        }
    }
    let name_max = if table == "service_types" { 60 } else { 100 };
    let name_column = if table == "service_types" {
        "id"
    } else {
        "name"
    };
    match text(name_column) {
        // An IP address's name is optional free text, as its API has it.
        Some(name) if table == "ip_addresses" => {
            optional_text(Some(name), 100).map_err(|e| fail(name_column, e))?;
        }
        Some(name) => {
            Name::parse(name, name_max).map_err(|e| fail(name_column, e))?;
        }
        None => {}
    }
    if let Some(category) = text("category") {
        Name::parse(category, 60).map_err(|e| fail("category", e))?;
    }
    optional_text(text("description"), 500).map_err(|e| fail("description", e))?;
    if let Some(hostname) = text("hostname") {
        Hostname::parse(hostname).map_err(|e| fail("hostname", e))?;
    }
    if let Some(mac) = text("mac_address") {
        MacAddress::parse(mac).map_err(|e| fail("mac_address", e))?;
    }
    if let Some(color) = text("color") {
        Color::parse(color).map_err(|e| fail("color", e))?;
    }
    if let Some(kind) = text("subnet_type") {
        SubnetType::parse(kind).map_err(|e| fail("subnet_type", e))?;
    }
    match table {
        "service_templates" => check_template_row(row)?,
        "changes" => check_change_row(row)?,
        _ => {}
    }
    Ok(())
}

fn check_template_row(row: &Map<String, Value>) -> Result<(), (String, Invalid)> {
    let fail = |field: &str, e: &str| (field.to_string(), Invalid::new(e));
    let text = |field: &str| row.get(field).and_then(Value::as_str);
    if let Some(image) = text("container_image_id") {
        check_image_id(image).map_err(|e| fail("container_image_id", e))?;
    }
    if let Some(tag) = text("image_tag") {
        check_image_tag(tag).map_err(|e| fail("image_tag", e))?;
    }
    if let Some(url) = text("health_check_url") {
        check_health_url(url).map_err(|e| fail("health_check_url", e))?;
    }
    let env = row
        .get("base_env")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let derived = match text("compose_template") {
        Some(compose) => compose::exposed_ports(compose, &env)
            .map_err(|e| ("compose_template".to_string(), e))?,
        None => Vec::new(),
    };
    let derived = serde_json::to_value(derived).unwrap_or_default();
    if row
        .get("exposed_ports")
        .is_some_and(|stored| *stored != derived)
    {
        return Err(fail(
            "exposed_ports",
            "must be the ports the compose template publishes",
        ));
    }
    Ok(())
}

fn check_change_row(row: &Map<String, Value>) -> Result<(), (String, Invalid)> {
    let fail = |field: &str, e: String| (field.to_string(), Invalid::new(e));
    let text = |field: &str| row.get(field).and_then(Value::as_str);
    let kind = text("entity_type").unwrap_or_default();
    let Some(entity_type) = EntityType::parse(kind) else {
        return Err(fail(
            "entity_type",
            format!("\"{kind}\" is not an entity type"),
        ));
    };
    if let Some(id) = text("entity_id") {
        let valid = if entity_type == EntityType::ServiceType {
            Name::parse(id, 60).is_ok()
        } else {
            is_uuid(id)
        };
        if !valid {
            return Err(fail(
                "entity_id",
                format!("\"{id}\" is not an id of a {kind}"),
            ));
        }
    }
    if let Some(actor) = text("actor_type") {
        if ActorKind::parse(actor).is_none() {
            return Err(fail(
                "actor_type",
                format!("\"{actor}\" is not an actor type"),
            ));
        }
    }
    for field in ["actor_name", "request_id"] {
        if text(field).is_some_and(|v| v.chars().any(char::is_control)) {
            return Err(fail(field, "must not contain control characters".into()));
        }
    }
    match row.get("actor_user") {
        None | Some(Value::Null) => {}
        Some(user) => {
            let named = |k: &str| user.get(k).and_then(Value::as_str).is_some();
            if !(named("id") && named("name")) {
                return Err(fail(
                    "actor_user",
                    "must be null or an object with the strings id and name".into(),
                ));
            }
        }
    }
    for image in ["before", "after"] {
        match row.get(image) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err(fail(image, "must be an object or null".into())),
        }
    }
    Ok(())
}

/// Where a value sits in the document: `hosts[12].name`.
pub fn path(section: &str, index: usize, field: Option<&str>) -> String {
    match field {
        Some(f) if !f.is_empty() => format!("{section}[{index}].{f}"),
        _ => format!("{section}[{index}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_comes_after_what_it_refers_to() {
        let position = |name: &str| SECTIONS.iter().position(|s| s.name == name).unwrap();
        for (later, earlier) in [
            ("hosts", "networks"),
            ("subnets", "networks"),
            ("ip_addresses", "subnets"),
            ("ip_addresses", "hosts"),
            ("ports", "hosts"),
            ("services", "service_types"),
            ("services", "tags"),
            ("bindings", "services"),
            ("bindings", "ports"),
            ("bindings", "ip_addresses"),
            ("dependencies", "bindings"),
            ("service_templates", "service_types"),
        ] {
            assert!(
                position(earlier) < position(later),
                "{earlier} before {later}"
            );
        }
    }

    #[test]
    fn newer_and_foreign_documents_are_refused_with_their_field() {
        assert!(check_head(Some(FORMAT), Some(VERSION)).is_ok());
        let newer = check_head(Some(FORMAT), Some(VERSION + 1)).unwrap_err();
        assert_eq!(newer.field.as_deref(), Some("version"));
        assert!(newer.message.contains("Upgrade Portolan"));
        let foreign = check_head(Some("netbox"), Some(1)).unwrap_err();
        assert_eq!(foreign.field.as_deref(), Some("format"));
        assert_eq!(
            check_head(None, None).unwrap_err().field.as_deref(),
            Some("format")
        );
        assert_eq!(
            check_head(Some(FORMAT), None).unwrap_err().field.as_deref(),
            Some("version")
        );
        assert!(check_head(Some(FORMAT), Some(0)).is_err());
    }

    #[test]
    fn paths_point_into_the_document() {
        assert_eq!(path("hosts", 3, Some("name")), "hosts[3].name");
        assert_eq!(path("hosts", 3, None), "hosts[3]");
        assert!(section_named("changes").is_some());
        assert!(section_named("api_keys").is_none());
    }
}

//! The full export: one versioned JSON document holding the whole inventory, and what an
//! import accepts. The document is row-shaped (each section is a table's rows, with the
//! stored ids and times), so that export -> import -> export gives the same document.

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
        json_columns: &["changed_fields", "before", "after"],
        // Entries keep their order and get positions after the target's own journal.
        hidden: &["seq"],
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

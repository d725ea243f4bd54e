//! The OpenAPI 3.1 description of the API, built once from the code: schemas are derived from the
//! types the handlers read and write (`utoipa::ToSchema`), operations from the same resource
//! descriptions the router registers. `tests/api/openapi.rs` checks that the two agree.

mod accounts;
mod agents;
mod api_keys;
mod assembly;
mod changes;
mod dependencies;
mod deployments;
mod discovery;
mod exports;
mod full_export;
mod hosts;
mod map;
mod organizations;
mod parts;
mod resources;
mod standard;
mod system;
mod tag_assignments;
mod templates;
mod topology;
mod webhooks;

use parts::*;
use resources::*;
use standard::Family;

use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use crate::db;
use crate::domain::enums::{Color, SubnetType};
use crate::domain::history::EntityType;
use crate::domain::port::Protocol;
use crate::domain::role::Role;
use crate::domain::template::DeployStrategy;
use crate::envelope::{Meta, Pagination, SERVER_VERSION};
use crate::error::ErrorCode;

/// The document as served at `/api/openapi.json`.
pub fn document() -> Value {
    let mut doc = Doc::default();
    doc.system();
    for r in RESOURCES {
        doc.standard(r);
        if let Some(alias) = r.alias {
            doc.alias(r.base, alias);
        }
    }
    doc.templates("/api/v1/service-templates");
    doc.alias("/api/v1/service-templates", "/api/services");
    doc.api_keys("/api/v1/auth/keys");
    doc.changes("/api/v1/changes");
    doc.organizations("/api/v1/organizations");
    doc.tag_assignments("/api/v1/tags/assign");
    doc.consolidate("/api/v1/hosts/{id}/consolidate/{other_id}");
    doc.impact("/api/v1/services/{id}/impact");
    doc.exports("/api/v1/exports");
    doc.full_export("/api/v1/export", "/api/v1/import");
    doc.webhooks("/api/v1/webhooks");
    doc.agents();
    doc.accounts();
    doc.shares();
    doc.deployments("/api/v1/deployments");
    doc.maps("/api/v1/networks/{id}");
    doc.discoveries("/api/v1/discoveries");
    doc.discovery_schedules("/api/v1/discovery-schedules");
    doc.topology("/api/v1/topology");
    for (base, alias) in UNVERSIONED_ALIASES {
        doc.alias(base, alias);
    }
    doc.finish()
}

/// The 0.17 clients' unversioned paths, served by the same handlers. `/api/services` is not
/// among them: it is seed 003's service templates.
pub const UNVERSIONED_ALIASES: [(&str, &str); 4] = [
    ("/api/v1/hosts", "/api/hosts"),
    ("/api/v1/subnets", "/api/subnets"),
    ("/api/v1/dependencies", "/api/dependencies"),
    ("/api/v1/discoveries", "/api/discovery"),
];

/// Assembles paths and components.
#[derive(Default)]
struct Doc {
    paths: Map<String, Value>,
    schemas: Map<String, Value>,
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("OpenAPI objects serialize")
}

/// The success envelope around `data`.
fn success(data: Value, meta: Value) -> Value {
    json!({
        "type": "object",
        "required": ["success", "data", "meta"],
        "properties": {"success": {"const": true}, "data": data, "meta": meta},
    })
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A record with `#[serde(flatten)]` fields (the temporal ones) derives as `allOf` of its own
/// object and the flattened one; one plain object with every property says the same more
/// simply, and keeps `properties` where clients (and `closed_sets`) look for them.
fn inline_flattened(schema: &mut Value, known: &Map<String, Value>) {
    let Some(parts) = schema.get("allOf").and_then(Value::as_array).cloned() else {
        return;
    };
    let resolve = |part: &Value| -> Value {
        match part["$ref"].as_str() {
            Some(r) => known
                .get(r.trim_start_matches("#/components/schemas/"))
                .cloned()
                .unwrap_or(Value::Null),
            None => part.clone(),
        }
    };
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    // The record's own fields first, the flattened ones after them, as they serialise.
    let (own, flattened): (Vec<&Value>, Vec<&Value>) =
        parts.iter().partition(|p| p.get("$ref").is_none());
    for part in own.into_iter().chain(flattened).map(resolve) {
        if let Some(p) = part["properties"].as_object() {
            properties.extend(p.clone());
        }
        if let Some(r) = part["required"].as_array() {
            required.extend(r.iter().cloned());
        }
    }
    let mut merged = json!({"type": "object", "properties": properties, "required": required});
    if let Some(description) = schema.get("description") {
        merged["description"] = description.clone();
    }
    *schema = merged;
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn param_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

/// Error responses every authenticated operation can give.
const READ_ERRORS: &[&str] = &["400", "401", "403", "404", "429", "503"];

/// And those a write can give besides.
const WRITE_ERRORS: &[&str] = &["409", "413"];

impl Doc {
    fn add_schema<T: ToSchema>(&mut self) -> String {
        let mut deps: Vec<(String, RefOr<Schema>)> = Vec::new();
        T::schemas(&mut deps);
        for (name, schema) in deps {
            self.schemas
                .entry(name)
                .or_insert_with(|| to_value(&schema));
        }
        let name = T::name().to_string();
        self.schemas
            .entry(name.clone())
            .or_insert_with(|| to_value(&T::schema()));
        name
    }

    /// `{success: true, data: <record>, meta}` under `<Record>Envelope`.
    pub(super) fn envelope(&mut self, record: &str) -> String {
        let name = format!("{record}Envelope");
        self.schemas
            .entry(name.clone())
            .or_insert_with(|| success(schema_ref(record), schema_ref("Meta")));
        name
    }

    /// `{success: true, data: [<record>], meta: {pagination}}` under `<Record>Page`.
    fn page(&mut self, record: &str) -> String {
        let name = format!("{record}Page");
        self.schemas.entry(name.clone()).or_insert_with(|| {
            success(
                json!({"type": "array", "items": schema_ref(record)}),
                json!({"allOf": [schema_ref("Meta"), {"required": ["pagination"]}]}),
            )
        });
        name
    }

    fn add(&mut self, path: &str, method: &str, op: Value) {
        let item = self
            .paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}));
        item[method] = op;
    }

    /// The same operations under a deprecated second path, with their own operation ids.
    fn alias(&mut self, base: &str, alias: &str) {
        let copies: Vec<(String, Value)> = self
            .paths
            .iter()
            .filter(|(p, _)| *p == base || p.starts_with(&format!("{base}/")))
            .map(|(p, item)| (format!("{alias}{}", &p[base.len()..]), item.clone()))
            .collect();
        for (path, mut item) in copies {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|o| o.values_mut())
            {
                let id = op["operationId"].as_str().unwrap_or_default().to_string();
                op["operationId"] = json!(format!("{id}_via_{}", alias_slug(alias)));
                op["deprecated"] = json!(true);
                op["description"] = json!(format!("Alias of `{base}`."));
                if let Some(links) = op.pointer_mut("/responses/201/links") {
                    rename_link_targets(links, alias);
                }
            }
            self.paths.insert(path, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for (prefix, section) in [
            ("#/components/schemas/", "schemas"),
            ("#/components/responses/", "responses"),
            ("#/components/parameters/", "parameters"),
        ] {
            for piece in text.split(prefix).skip(1) {
                let name = &piece[..piece.find('"').unwrap()];
                assert!(
                    doc["components"][section].get(name).is_some(),
                    "{prefix}{name} is not defined"
                );
            }
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn links_name_existing_operations() {
        let doc = document();
        let text = doc.to_string();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let Some(links) = op.pointer("/responses/201/links") else {
                    continue;
                };
                for link in links.as_object().unwrap().values() {
                    let target = link["operationId"].as_str().unwrap();
                    assert!(
                        text.contains(&format!("\"operationId\":\"{target}\"")),
                        "{target}"
                    );
                }
            }
        }
    }

    #[test]
    fn closed_sets_are_enumerated() {
        let doc = document();
        let s = &doc["components"]["schemas"];
        assert_eq!(s["Tag"]["properties"]["color"]["enum"][0], json!("Pink"));
        assert_eq!(
            s["Port"]["properties"]["protocol"]["enum"],
            json!(["Tcp", "Udp"])
        );
        assert_eq!(
            s["ErrorBody"]["properties"]["code"]["enum"][0],
            json!("VALIDATION_ERROR")
        );
        assert_eq!(s["Network"]["properties"]["id"]["readOnly"], json!(true));
    }
}

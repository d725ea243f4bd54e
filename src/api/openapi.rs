//! The OpenAPI 3.1 description of the API, built once from the code: schemas are derived from the
//! types the handlers read and write (`utoipa::ToSchema`), operations from the same resource
//! descriptions the router registers. `tests/api/openapi.rs` checks that the two agree.

mod discovery;
mod full_export;
mod webhooks;

use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use super::{api_keys, bindings, hosts, ip_addresses, networks, ports, services};
use super::{service_types, subnets, tags};
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
    doc.maps("/api/v1/networks/{id}");
    doc.discoveries("/api/v1/discoveries");
    doc.discovery_schedules("/api/v1/discovery-schedules");
    doc.finish()
}

/// One resource with the standard surface of `api::resource`.
struct Surface {
    base: &'static str,
    /// A deprecated path that serves the same operations.
    alias: Option<&'static str>,
    tag: &'static str,
    /// For operation ids: "network", "ip_address".
    one: &'static str,
    /// For summaries: "a network", "an IP address".
    noun: &'static str,
    record: fn(&mut Doc) -> String,
    input: fn(&mut Doc) -> String,
    /// Whether ids in the path are UUIDs (service types use their name).
    uuid_ids: bool,
    order_by: &'static [&'static str],
    filters: &'static [(&'static str, Filter, &'static str)],
    /// What may write: the role and any extra rule.
    write: &'static str,
    /// Keeps every state: `at=` on reads, and `/{id}/history`.
    versioned: bool,
}

#[derive(Clone, Copy)]
pub(super) enum Filter {
    Uuid,
    Uuids,
    Text,
    Texts,
    Flag,
    /// `include=children`.
    Children,
}

const TAGS_FILTER: (&str, Filter, &str) = (
    "tag_ids",
    Filter::Uuids,
    "Only objects with any of these tags (repeat the parameter or separate with commas).",
);
const IDS_FILTER: (&str, Filter, &str) = ("ids", Filter::Uuids, "Only these ids.");
const NETWORK_FILTER: (&str, Filter, &str) = ("network_id", Filter::Uuid, "Only in this network.");
const HOST_FILTER: (&str, Filter, &str) = ("host_id", Filter::Uuid, "Only on this host.");
const STALE_FILTER: (&str, Filter, &str) = (
    "stale",
    Filter::Flag,
    "Only (true) or never (false) what discovery created and has not seen for \
     PORTOLAN_STALE_AFTER_HOURS.",
);
const TEXT_FILTER: (&str, Filter, &str) = (
    "q",
    Filter::Text,
    "Case-insensitive substring of the name (and hostname or description where there is one).",
);

fn schema_of<T: ToSchema>(doc: &mut Doc) -> String {
    doc.add_schema::<T>()
}

const RESOURCES: &[Surface] = &[
    Surface {
        base: "/api/v1/networks",
        alias: None,
        tag: "Networks",
        one: "network",
        noun: "a network",
        record: schema_of::<db::networks::Network>,
        input: schema_of::<networks::NetworkBody>,
        uuid_ids: true,
        order_by: networks::ORDER_BY,
        filters: &[IDS_FILTER, TAGS_FILTER, TEXT_FILTER],
        write: "Admin; keys scoped to networks may not write networks.",
        versioned: false,
    },
    Surface {
        base: "/api/v1/subnets",
        alias: None,
        tag: "Subnets",
        one: "subnet",
        noun: "a subnet",
        record: schema_of::<db::subnets::Subnet>,
        input: schema_of::<subnets::SubnetBody>,
        uuid_ids: true,
        order_by: subnets::ORDER_BY,
        filters: &[NETWORK_FILTER],
        write: "Member, in the subnet's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/hosts",
        alias: None,
        tag: "Hosts",
        one: "host",
        noun: "a host",
        record: schema_of::<db::hosts::Host>,
        input: schema_of::<hosts::HostBody>,
        uuid_ids: true,
        order_by: hosts::ORDER_BY,
        filters: &[
            STALE_FILTER,
            NETWORK_FILTER,
            IDS_FILTER,
            TAGS_FILTER,
            TEXT_FILTER,
            (
                "include",
                Filter::Children,
                "children: embed each host's ip_addresses, ports and services.",
            ),
        ],
        write: "Member, in the host's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/ip-addresses",
        alias: Some("/api/v1/interfaces"),
        tag: "IP addresses",
        one: "ip_address",
        noun: "an IP address",
        record: schema_of::<db::ip_addresses::IpAddress>,
        input: schema_of::<ip_addresses::IpAddressBody>,
        uuid_ids: true,
        order_by: ip_addresses::ORDER_BY,
        filters: &[
            HOST_FILTER,
            ("subnet_id", Filter::Uuid, "Only in this subnet."),
            NETWORK_FILTER,
        ],
        write: "Member, in the host's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/ports",
        alias: None,
        tag: "Ports",
        one: "port",
        noun: "a port",
        record: schema_of::<db::ports::Port>,
        input: schema_of::<ports::PortBody>,
        uuid_ids: true,
        order_by: ports::ORDER_BY,
        filters: &[STALE_FILTER, HOST_FILTER, NETWORK_FILTER],
        write: "Member, in the host's network.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/tags",
        alias: None,
        tag: "Tags",
        one: "tag",
        noun: "a tag",
        record: schema_of::<db::tags::Tag>,
        input: schema_of::<tags::TagBody>,
        uuid_ids: true,
        order_by: tags::ORDER_BY,
        filters: &[TEXT_FILTER],
        write: "Admin; keys scoped to networks may not write tags.",
        versioned: false,
    },
    Surface {
        base: "/api/v1/service-types",
        alias: None,
        tag: "Service types",
        one: "service_type",
        noun: "a service type",
        record: schema_of::<db::service_types::ServiceType>,
        input: schema_of::<service_types::ServiceTypeBody>,
        uuid_ids: false,
        order_by: service_types::ORDER_BY,
        filters: &[
            (
                "builtin",
                Filter::Flag,
                "Only built-in (true) or only custom (false) types.",
            ),
            ("category", Filter::Text, "Only this category."),
            TEXT_FILTER,
        ],
        write: "Admin; built-in types cannot be changed or deleted.",
        versioned: false,
    },
    Surface {
        base: "/api/v1/services",
        alias: None,
        tag: "Services",
        one: "service",
        noun: "a service",
        record: schema_of::<db::services::Service>,
        input: schema_of::<services::ServiceBody>,
        uuid_ids: true,
        order_by: services::ORDER_BY,
        filters: &[
            STALE_FILTER,
            NETWORK_FILTER,
            HOST_FILTER,
            IDS_FILTER,
            TAGS_FILTER,
            (
                "service_definition",
                Filter::Text,
                "Only of this service type.",
            ),
            TEXT_FILTER,
        ],
        write: "Member, in the host's network. Bindings follow the binding rules.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/bindings",
        alias: None,
        tag: "Bindings",
        one: "binding",
        noun: "a binding",
        record: schema_of::<db::bindings::Binding>,
        input: schema_of::<bindings::BindingBody>,
        uuid_ids: true,
        order_by: bindings::ORDER_BY,
        filters: &[
            STALE_FILTER,
            ("service_id", Filter::Uuid, "Only of this service."),
            NETWORK_FILTER,
            ("port_id", Filter::Uuid, "Only on this port."),
            ("ip_address_id", Filter::Uuid, "Only on this IP address."),
            (
                "interface_id",
                Filter::Uuid,
                "Deprecated alias of ip_address_id.",
            ),
            HOST_FILTER,
        ],
        write: "Member, in the service's network. Bindings follow the binding rules.",
        versioned: true,
    },
    Surface {
        base: "/api/v1/dependencies",
        alias: None,
        tag: "Dependencies",
        one: "dependency",
        noun: "a dependency",
        record: schema_of::<db::dependencies::Dependency>,
        input: schema_of::<super::dependencies::DependencyBody>,
        uuid_ids: true,
        order_by: super::dependencies::ORDER_BY,
        filters: &[
            NETWORK_FILTER,
            (
                "service_id",
                Filter::Uuid,
                "Only dependencies this service is a member of.",
            ),
            TAGS_FILTER,
            TEXT_FILTER,
        ],
        write: "Member, in the dependency's network. Members: at least two services of that \
                network, each once; a binding must be its member's service's.",
        versioned: true,
    },
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

    fn system(&mut self) {
        let status = |value: &str| {
            json!({"type": "object", "required": ["status"],
                   "properties": {"status": {"const": value}}})
        };
        self.add(
            "/healthz",
            "get",
            json!({
                "tags": ["System"], "operationId": "healthz", "summary": "Liveness",
                "description": "The process answers. Touches no database.",
                "security": [],
                "responses": {"200": {"description": "Alive",
                    "content": {"application/json": {"schema": status("ok")}}}}
            }),
        );
        self.alias("/healthz", "/api/health");
        self.add(
            "/metrics",
            "get",
            json!({
                "tags": ["System"], "operationId": "metrics", "summary": "Prometheus metrics",
                "description": "Prometheus's text format: HTTP requests by route template, \
                    method and status, request durations by route, write wait and hold times, \
                    database size, live objects by kind, discovery probes and open ports, build \
                    info. Needs: Viewer, unless the server runs with PORTOLAN_METRICS_PUBLIC=true.",
                "responses": {
                    "200": {"description": "The metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}}},
                    "401": response_ref("401"), "403": response_ref("403"),
                    "503": response_ref("503"),
                }
            }),
        );
        self.add(
            "/readyz",
            "get",
            json!({
                "tags": ["System"], "operationId": "readyz", "summary": "Readiness",
                "description": "The database answers and its schema is migrated.",
                "security": [],
                "responses": {
                    "200": {"description": "Ready",
                        "content": {"application/json": {"schema": status("ready")}}},
                    "503": response_ref("503"),
                }
            }),
        );
        self.add_schema::<Meta>();
        self.schemas.insert(
            "Version".into(),
            json!({"type": "object", "required": ["api_version", "server_version"],
                   "properties": {"api_version": {"type": "integer"},
                                  "server_version": {"type": "string"}}}),
        );
        let version = self.envelope("Version");
        self.add(
            "/api/version",
            "get",
            json!({
                "tags": ["System"], "operationId": "version", "summary": "API and server version",
                "security": [],
                "responses": {
                    "200": {"description": "Versions",
                        "content": {"application/json": {"schema": schema_ref(&version)}}},
                    "429": response_ref("429"), "503": response_ref("503"),
                }
            }),
        );
        self.add(
            "/api/openapi.json",
            "get",
            json!({
                "tags": ["System"], "operationId": "openapi", "summary": "This document",
                "security": [],
                "responses": {
                    "200": {"description": "The OpenAPI 3.1 description of the API",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                    "429": response_ref("429"), "503": response_ref("503"),
                }
            }),
        );
        self.alias("/api/openapi.json", "/openapi.json");
    }

    fn standard(&mut self, r: &Surface) {
        let record = (r.record)(self);
        let input = (r.input)(self);
        let f = Family::new(self, r.tag, r.one, r.noun, r.base, &record, r.uuid_ids);
        let needs = format!("Needs: {}", r.write);
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();

        let mut params = page_params(r.order_by);
        params.extend(
            r.filters
                .iter()
                .map(|(name, kind, about)| filter(name, *kind, about)),
        );
        if r.versioned {
            params.push(param_ref("At"));
        }
        self.add(
            r.base,
            "get",
            f.list(
                "Needs: Viewer. Keys scoped to networks see only their networks.",
                params,
            ),
        );
        let mut create = f.create(&needs, &input, ("Created", &f.envelope), &writes);
        if r.base == "/api/v1/bindings" {
            set_example(&mut create, "002", SEED_002);
            create["responses"]["200"] = json!({
                "description": "Already covered by an existing binding, which is returned",
                "content": {"application/json": {"schema": schema_ref(&f.envelope)}}});
        }
        self.add(r.base, "post", create);
        self.add(
            &format!("{}/bulk-delete", r.base),
            "post",
            operation(
                r.tag,
                &format!("bulk_delete_{}", plural(r.one)),
                &format!("Delete several {}", r.tag.to_lowercase()),
                &format!("{needs} All or nothing; ids that do not exist are skipped."),
                vec![param_ref("Cascade"), param_ref("IdempotencyKey")],
                Some(
                    json!({"required": true, "content": {"application/json": {"schema":
                    {"type": "array", "minItems": 1, "items": id_schema(r.uuid_ids)}}}}),
                ),
                ok("200", "Deleted", "BulkDeletedEnvelope"),
                &writes,
            ),
        );
        let mut get = f.get("Needs: Viewer.");
        if r.versioned {
            push_param(&mut get, param_ref("At"));
            self.add(
                &format!("{}/history", f.item),
                "get",
                f.history(
                    "Needs: Viewer. Every version of the object, the live one first, then newest \
                     first; also after a delete. Scope follows the newest version.",
                ),
            );
        }
        self.add(&f.item, "get", get);
        let mut update = f.change(
            "update",
            "Replace",
            &format!("{needs} Fields left out take their defaults."),
            &input,
            &writes,
        );
        match r.base {
            "/api/v1/services" => set_example(&mut update, "000", SEED_000),
            "/api/v1/bindings" => set_example(&mut update, "001", SEED_001),
            _ => {}
        }
        self.add(&f.item, "put", update);
        self.add(
            &f.item,
            "delete",
            f.delete(
                &format!(
                    "{needs} Refused with 409 while other objects use it, unless cascade=true."
                ),
                true,
            ),
        );
    }

    fn tag_assignments(&mut self, base: &str) {
        let bulk_body = self.add_schema::<super::tag_assignments::BulkTagBody>();
        let assign_body = self.add_schema::<super::tag_assignments::AssignTagsBody>();
        let affected = self.add_schema::<super::tag_assignments::Affected>();
        let affected = self.envelope(&affected);
        self.schemas.insert(
            "AssignedTags".into(),
            json!({"type": "object", "required": ["entity_id", "tag_ids"], "properties": {
                "entity_id": {"type": "string", "format": "uuid"},
                "tag_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}}}),
        );
        let assigned = self.envelope("AssignedTags");
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let scope = "Needs: Member. Networks need an unscoped key; other objects must lie in the \
                     key's networks (403). An unknown tag or object is 404 and nothing changes.";
        for (verb, what) in [("add", "Add a tag to"), ("remove", "Remove a tag from")] {
            self.add(
                &format!("{base}/bulk-{verb}"),
                "post",
                operation(
                    "Tags",
                    &format!("bulk_{verb}_tag"),
                    &format!("{what} many objects"),
                    &format!(
                        "{scope} Objects that already have (or lack) the tag are skipped and \
                         not counted. One transaction."
                    ),
                    vec![param_ref("IdempotencyKey")],
                    Some(body(&bulk_body)),
                    ok("200", "How many objects changed", &affected),
                    &writes,
                ),
            );
        }
        self.add(
            base,
            "put",
            operation(
                "Tags",
                "set_tags",
                "Replace the tags of one object",
                scope,
                vec![param_ref("IdempotencyKey")],
                Some(body(&assign_body)),
                ok("200", "The object's tags now", &assigned),
                &writes,
            ),
        );
    }

    fn consolidate(&mut self, path: &str) {
        let host = self.envelope("Host");
        let other = json!({"name": "other_id", "in": "path", "required": true,
                           "description": "The host to merge into `id` and delete",
                           "schema": id_schema(true)});
        self.add(
            path,
            "put",
            operation(
                "Hosts",
                "consolidate_hosts",
                "Merge another host into this one",
                "Needs: Member, and both hosts' network. Moves the other host's IP addresses, \
                 ports and services (bindings intact) onto this host and deletes the other \
                 host, in one transaction. An address or port both have (same address; same \
                 number and protocol) becomes this host's, its bindings repointed; a result \
                 that breaks a binding rule is 409 with the binding in `params`, and nothing \
                 changes. Hosts in different networks: 400. Answers this host with its children.",
                vec![param_ref("Id"), other, param_ref("IdempotencyKey")],
                None,
                tagged(ok("200", "The merged host", &host)),
                &[READ_ERRORS, &["409"]].concat(),
            ),
        );
    }

    fn maps(&mut self, network: &str) {
        let record = self.add_schema::<crate::domain::map::Map>();
        let answer = self.envelope(&record);
        let params = vec![param_ref("Id"), param_ref("At")];
        self.add(
            &format!("{network}/map"),
            "get",
            operation(
                "Networks",
                "get_network_map",
                "The map of a network as data",
                "Needs: Viewer. Nodes (subnets, hosts, IP addresses, all-interfaces pills, \
                 services) with the coordinates the SVG draws them at, and edges (bindings, \
                 dependency links).",
                params.clone(),
                None,
                ok("200", "The map", &answer),
                READ_ERRORS,
            ),
        );
        for (suffix, id, summary, media, about) in [
            (
                "map.mermaid",
                "get_network_map_mermaid",
                "The map as a Mermaid flowchart",
                "text/plain",
                "Subnets as subgraphs, each host a subgraph of its services, \
              dependencies as labelled edges in their colours.",
            ),
            (
                "map.svg",
                "get_network_map_svg",
                "The map as SVG",
                "image/svg+xml",
                "The drawing the web UI shows and exports, standalone.",
            ),
        ] {
            let mut op = operation(
                "Networks",
                id,
                summary,
                &format!("Needs: Viewer. {about}"),
                params.clone(),
                None,
                Value::Null,
                READ_ERRORS,
            );
            op["responses"]["200"] = json!({"description": summary,
                "content": {media: {"schema": {"type": "string"}}}});
            self.add(&format!("{network}/{suffix}"), "get", op);
        }
    }

    fn exports(&mut self, base: &str) {
        let group = self.add_schema::<super::exports::TargetGroup>();
        let filters = vec![
            filter("network_id", Filter::Uuid, "Only in this network."),
            filter("service_type", Filter::Text, "Only services of this type."),
            filter(
                "category",
                Filter::Text,
                "Only services whose type is of this category.",
            ),
            filter(
                "tag",
                Filter::Text,
                "Only services with this tag (id or name).",
            ),
        ];
        let mut op = operation(
            "Exports",
            "export_prometheus_sd",
            "Prometheus HTTP service discovery",
            "Needs: Viewer; a key limited to networks lists only theirs. What \
             `http_sd_configs` reads: one target per service, address and port (a port bound \
             on all interfaces is one target per address of its host), with \
             `__meta_portolan_*` labels. Not wrapped in the envelope.",
            filters,
            None,
            Value::Null,
            READ_ERRORS,
        );
        op["responses"]["200"] = json!({"description": "Target groups",
            "content": {"application/json": {"schema": {"type": "array",
                "items": schema_ref(&group)}}}});
        self.add(&format!("{base}/prometheus-sd"), "get", op);
        let network = vec![filter("network_id", Filter::Uuid, "Only this network.")];
        for (path, id, summary, media, about, extra) in [
            (
                "ansible",
                "export_ansible",
                "Ansible inventory",
                "application/json",
                "A group per network, subnet, tag and service type (names made safe for Ansible), \
              every host with `ansible_host` (its first address) and its services and ports as \
              variables. `format=yaml` answers Ansible's YAML inventory (application/yaml).",
                Some(json!({"name": "format", "in": "query", "required": false,
                         "schema": {"type": "string", "enum": ["json", "yaml"]}})),
            ),
            (
                "homepage",
                "export_homepage",
                "Homepage services.yaml",
                "application/yaml",
                "Groups (by network, or by tag with `group_by=tag`) of single-key entries with \
              `href` (from an HTTP or HTTPS binding), `description` (host and port) and `icon`.",
                Some(json!({"name": "group_by", "in": "query", "required": false,
                         "schema": {"type": "string", "enum": ["network", "tag"]}})),
            ),
            (
                "services.csv",
                "export_services_csv",
                "Bindings as CSV",
                "text/csv",
                "One row per binding: network, host, address (* for all interfaces), port, \
              protocol, service, type, tags, first and last seen; RFC 4180 quoting.",
                None,
            ),
        ] {
            let mut params = network.clone();
            params.extend(extra);
            let mut op = operation(
                "Exports",
                id,
                summary,
                &format!("Needs: Viewer; a key limited to networks exports only theirs. {about}"),
                params,
                None,
                Value::Null,
                READ_ERRORS,
            );
            // YAML documents are described by the shape they parse to.
            let content = match id {
                "export_ansible" => json!({"application/json": {"schema": {"type": "object"}},
                                           "application/yaml": {"schema": {"type": "object"}}}),
                "export_homepage" => json!({ media: {"schema": {"type": "array",
                    "items": {"type": "object"}}} }),
                _ => json!({ media: {"schema": {"type": "string"}} }),
            };
            op["responses"]["200"] = json!({"description": summary, "content": content});
            self.add(&format!("{base}/{path}"), "get", op);
        }
    }

    fn impact(&mut self, path: &str) {
        let record = self.add_schema::<super::dependencies::Impact>();
        let answer = self.envelope(&record);
        let mut params = vec![param_ref("Id"), param_ref("At")];
        params.push(
            json!({"name": "direction", "in": "query", "required": false,
            "description": "downstream (default): what depends on the service, what breaks when \
                            it goes down; upstream: what the service depends on.",
            "schema": {"type": "string", "enum": ["downstream", "upstream"]}}),
        );
        self.add(
            path,
            "get",
            operation(
                "Dependencies",
                "get_service_impact",
                "What breaks when a service goes down",
                "Needs: Viewer. Over every dependency of the service's network, transitively; \
                 each service reached once, with its depth and the shortest path; cycles are \
                 reported once and never followed twice.",
                params,
                None,
                ok(
                    "200",
                    "The services reached, their hosts and any cycles",
                    &answer,
                ),
                READ_ERRORS,
            ),
        );
    }

    fn organizations(&mut self, base: &str) {
        let record = self.add_schema::<db::organizations::Organization>();
        let page = self.page(&record);
        self.add(
            base,
            "get",
            operation(
                "Organizations",
                "list_organizations",
                "The server's organization",
                "Needs: Viewer. One implicit organization per server, for clients of the \
                 peer's 0.17 API; networks and tags carry its id as `organization_id`.",
                vec![],
                None,
                ok("200", "The one organization", &page),
                READ_ERRORS,
            ),
        );
    }

    fn changes(&mut self, base: &str) {
        let record = self.add_schema::<db::changes::Change>();
        self.add_schema::<db::changes::ChangeActor>();
        let page = self.page(&record);
        let entity_types: Vec<&str> = EntityType::ALL.iter().map(|e| e.as_str()).collect();
        let mut params = vec![param_ref("Limit"), param_ref("Offset")];
        params.push(
            json!({"name": "entity_type", "in": "query", "required": false,
            "explode": true, "description": "Only these kinds of object.",
            "schema": {"type": "array", "items": {"type": "string", "enum": entity_types}}}),
        );
        for (name, kind, about) in [
            (
                "entity_id",
                Filter::Texts,
                "Only changes of these objects (live ids; a service type's is its name).",
            ),
            ("network_id", Filter::Uuid, "Only changes in this network."),
            (
                "host_id",
                Filter::Uuid,
                "Only changes of this host and its parts.",
            ),
            (
                "service_id",
                Filter::Uuid,
                "Only changes of this service and its bindings.",
            ),
            (
                "actor_id",
                Filter::Uuid,
                "Only changes made with this API key.",
            ),
            (
                "request_id",
                Filter::Text,
                "Only changes made by this request (X-Request-Id).",
            ),
        ] {
            params.push(filter(name, kind, about));
        }
        params.push(json!({"name": "action", "in": "query", "required": false,
            "schema": {"type": "string", "enum": ["create", "update", "delete"]}}));
        for (name, about) in [
            ("since", "Only changes at or after this instant."),
            ("until", "Only changes before this instant."),
        ] {
            params.push(json!({"name": name, "in": "query", "required": false,
                "description": about, "schema": {"type": "string", "format": "date-time"}}));
        }
        self.add(
            base,
            "get",
            operation(
                "Changes",
                "list_changes",
                "List changes",
                "Needs: Viewer. The change journal, newest first: one entry per object a write \
                 changed, with its actor, request id, changed fields and the object before and \
                 after. Keys scoped to networks see only entries of their networks; changes of \
                 API keys are shown to Admins only.",
                params,
                None,
                ok("200", "A page", &page),
                READ_ERRORS,
            ),
        );
    }

    fn templates(&mut self, base: &str) {
        let record = self.add_schema::<db::templates::Template>();
        let create_input = self.add_schema::<TemplateInput>();
        let patch_input = self.add_schema::<TemplatePatch>();
        let f = Family::new(
            self,
            "Service templates",
            "service_template",
            "a service template",
            base,
            &record,
            true,
        );
        let needs = "Needs: Member; keys scoped to networks may not write templates.";
        let writes = [READ_ERRORS, WRITE_ERRORS, &["422"]].concat();
        let mut params =
            page_params(&[super::templates::ORDER_BY, &["createdAt", "updatedAt"]].concat());
        params.push(filter(
            "serviceTypeId",
            Filter::Text,
            "Only of this service type.",
        ));
        params.push(filter(
            "q",
            Filter::Text,
            "Case-insensitive substring of the name.",
        ));
        self.add(base, "get", f.list("Needs: Viewer.", params));
        self.add(
            base,
            "post",
            f.create(needs, &create_input, ("Created", &f.envelope), &writes),
        );
        self.add(&f.item, "get", f.get("Needs: Viewer."));
        let mut patch = f.change(
            "patch",
            "Change some fields of",
            &format!(
                "{needs} Fields left out keep their values; null clears a nullable field. \
                 Read-only fields are refused with 422 READONLY_FIELD, before the template \
                 is looked up."
            ),
            &patch_input,
            &writes,
        );
        set_example(&mut patch, "003", SEED_003);
        self.add(&f.item, "patch", patch);
        self.add(&f.item, "delete", f.delete(needs, false));
    }

    fn api_keys(&mut self, base: &str) {
        let record = self.add_schema::<db::api_keys::ApiKey>();
        let input = self.add_schema::<api_keys::ApiKeyBody>();
        let created_key = self.add_schema::<crate::ops::api_keys::CreatedKey>();
        let created = self.envelope(&created_key);
        self.schemas.insert(
            "RotatedKey".into(),
            json!({"type": "string", "description": "The new secret, shown this once."}),
        );
        let rotated = self.envelope("RotatedKey");
        let me = self.add_schema::<api_keys::Me>();
        let me_envelope = self.envelope(&me);
        let f = Family::new(
            self,
            "API keys",
            "api_key",
            "an API key",
            base,
            &record,
            true,
        );
        let needs = "Needs: Admin; only an Owner manages Owner keys. The secret is shown once, \
                     in the answer to create and rotate.";
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        self.add(
            base,
            "get",
            f.list(
                "Needs: Admin.",
                vec![param_ref("Limit"), param_ref("Offset")],
            ),
        );
        self.add(
            base,
            "post",
            f.create(
                needs,
                &input,
                ("Created; `key` holds the secret, this once", &created),
                &writes,
            ),
        );
        self.add(
            &format!("{base}/{{id}}/rotate"),
            "post",
            operation(
                f.tag,
                "rotate_api_key",
                "Replace an API key's secret",
                needs,
                vec![param_ref("Id"), param_ref("IdempotencyKey")],
                None,
                ok(
                    "200",
                    "Rotated; `data` is the new secret, shown this once",
                    &rotated,
                ),
                &writes,
            ),
        );
        self.add(
            "/api/v1/auth/me",
            "get",
            operation(
                f.tag,
                "who_am_i",
                "The calling key's id, role and networks",
                "Needs: any valid key.",
                vec![],
                None,
                ok("200", "The caller", &me_envelope),
                &["401", "429", "503"],
            ),
        );
        self.add(&f.item, "get", f.get("Needs: Admin."));
        self.add(
            &f.item,
            "put",
            f.change("update", "Replace the settings of", needs, &input, &writes),
        );
        self.add(&f.item, "delete", f.delete(needs, false));
    }

    fn finish(mut self) -> Value {
        self.add_schema::<Pagination>();
        self.add_schema::<ErrorBody>();
        self.schemas.insert(
            "BulkDeletedEnvelope".into(),
            success(
                json!({"type": "object", "required": ["deleted_count", "requested_count"],
                    "properties": {"deleted_count": {"type": "integer", "minimum": 0},
                                   "requested_count": {"type": "integer", "minimum": 0}}}),
                schema_ref("Meta"),
            ),
        );
        self.schemas.insert(
            "DeletedEnvelope".into(),
            success(json!({"type": "null"}), schema_ref("Meta")),
        );
        let known = self.schemas.clone();
        for schema in self.schemas.values_mut() {
            inline_flattened(schema, &known);
        }
        self.schemas.remove("Temporal");
        self.closed_sets();

        let mut responses = Map::new();
        for (status, about) in [
            ("400", "VALIDATION_ERROR: the request is malformed; `field` names the input"),
            ("401", "UNAUTHORIZED: no valid API key"),
            ("403", "FORBIDDEN_ROLE or FORBIDDEN_SCOPE: the key may not do this"),
            ("404", "NOT_FOUND: the object, or one it refers to, does not exist"),
            ("409", "CONFLICT (a rule or a uniqueness constraint; `params` says which) or IDEMPOTENCY_KEY_REUSED"),
            ("412", "PRECONDITION_FAILED: If-Match names a state the object no longer has"),
            ("413", "VALIDATION_ERROR: the body is over 1 MiB"),
            ("422", "READONLY_FIELD: the body sets a read-only field"),
            ("429", "RATE_LIMITED: retry after `Retry-After` seconds"),
            ("503", "SERVICE_UNAVAILABLE: busy or shutting down; retry after `Retry-After` seconds"),
        ] {
            responses.insert(
                status.into(),
                json!({"description": about,
                       "content": {"application/json": {"schema": schema_ref("ErrorBody")}}}),
            );
        }

        let mut tags: Vec<Value> = vec![json!({"name": "System"})];
        tags.extend(RESOURCES.iter().map(|r| json!({"name": r.tag})));
        tags.push(json!({"name": "Service templates"}));
        tags.push(json!({"name": "API keys"}));
        tags.push(json!({"name": "Changes"}));
        tags.push(json!({"name": "Organizations"}));
        tags.push(json!({"name": "Discovery"}));
        tags.push(json!({"name": "Exports"}));
        tags.push(json!({"name": "Webhooks"}));

        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Portolan",
                "version": SERVER_VERSION,
                "description": "Which service listens on which port of which IP address of which \
                    host, on which network. Authenticate with `Authorization: Bearer <API key>`. \
                    Successes are wrapped as `{success, data, meta}`; errors carry a stable `code`.",
                "license": {"name": "MIT", "identifier": "MIT"},
            },
            "tags": tags,
            "security": [{"bearerAuth": []}],
            "paths": self.paths,
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                    "bearerFormat": "scp_u_ followed by 32 letters or digits"}},
                "schemas": self.schemas,
                "responses": responses,
                "parameters": parameters(),
            },
        })
    }

    /// Enumerates the closed sets that the derived schemas carry as plain strings.
    fn closed_sets(&mut self) {
        let colors: Vec<&str> = Color::ALL.iter().map(|c| c.as_str()).collect();
        let subnet_types: Vec<&str> = SubnetType::ALL.iter().map(|t| t.as_str()).collect();
        let protocols = [Protocol::Tcp.as_str(), Protocol::Udp.as_str()];
        let roles = [Role::Viewer, Role::Member, Role::Admin, Role::Owner].map(Role::as_str);
        let strategies = [DeployStrategy::Sequential, DeployStrategy::Parallel].map(|s| s.as_str());
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        let sets: [(&str, &str, &[&str]); 14] = [
            ("Tag", "color", &colors),
            ("TagInput", "color", &colors),
            ("Dependency", "color", &colors),
            ("DependencyInput", "color", &colors),
            ("Subnet", "subnet_type", &subnet_types),
            ("SubnetInput", "subnet_type", &subnet_types),
            ("Port", "protocol", &protocols),
            ("PortInput", "protocol", &protocols),
            ("DefaultPort", "protocol", &protocols),
            ("DefaultPortInput", "protocol", &protocols),
            ("Binding", "type", &["Port", "IPAddress"]),
            ("ApiKey", "permissions", &roles),
            ("Me", "role", &roles),
            ("Template", "deployStrategy", &strategies),
        ];
        for (schema, property, values) in sets {
            if let Some(p) = self
                .schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{property}")))
            {
                p["enum"] = json!(values);
            }
        }
        for schema in ["TemplateInput", "TemplatePatch"] {
            if let Some(p) = self
                .schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut("/properties/deployStrategy"))
            {
                p["enum"] = json!(strategies);
            }
        }
        if let Some(p) = self
            .schemas
            .get_mut("ErrorBody")
            .and_then(|s| s.pointer_mut("/properties/code"))
        {
            p["enum"] = json!(codes);
        }
        for schema in ["TemplateInput", "TemplatePatch"] {
            if let Some(s) = self.schemas.get_mut(schema) {
                s["additionalProperties"] = json!(false);
            }
        }
        // The derive marks the items of a read-only array rather than the array itself.
        for schema in self.schemas.values_mut() {
            let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut)
            else {
                continue;
            };
            for property in properties.values_mut() {
                let Some(items) = property.get_mut("items").and_then(Value::as_object_mut) else {
                    continue;
                };
                if items.remove("readOnly") == Some(json!(true)) {
                    property["readOnly"] = json!(true);
                }
            }
        }
    }
}

/// The operations every collection has, named after one object of it (`get_host`, ...).
struct Family<'a> {
    tag: &'a str,
    /// Snake case, for operation ids: "ip_address".
    one: &'a str,
    /// With its article, for summaries: "an IP address".
    noun: &'a str,
    item: String,
    id_param: &'static str,
    envelope: String,
    page: String,
}

impl<'a> Family<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        doc: &mut Doc,
        tag: &'a str,
        one: &'a str,
        noun: &'a str,
        base: &str,
        record: &str,
        uuid_ids: bool,
    ) -> Family<'a> {
        Family {
            tag,
            one,
            noun,
            item: format!("{base}/{{id}}"),
            id_param: if uuid_ids { "Id" } else { "Name" },
            envelope: doc.envelope(record),
            page: doc.page(record),
        }
    }

    /// "Networks" -> "networks", "API keys" stays.
    fn plural(&self) -> String {
        let mut chars = self.tag.chars();
        match (chars.next(), chars.next()) {
            (Some(first), Some(second)) if second.is_lowercase() => {
                first.to_lowercase().chain(self.tag[1..].chars()).collect()
            }
            _ => self.tag.to_string(),
        }
    }

    fn list(&self, needs: &str, params: Vec<Value>) -> Value {
        operation(
            self.tag,
            &format!("list_{}", plural(self.one)),
            &format!("List {}", self.plural()),
            needs,
            params,
            None,
            ok("200", "A page", &self.page),
            READ_ERRORS,
        )
    }

    /// 201 with `Location` and links to read, change and delete what was created.
    fn create(&self, needs: &str, input: &str, answer: (&str, &str), errors: &[&str]) -> Value {
        let mut created = ok("201", answer.0, answer.1);
        created["201"]["headers"] = json!({"Location": {"description": "The new object's URL",
            "schema": {"type": "string"}}});
        created["201"]["links"] = item_links(self.one);
        operation(
            self.tag,
            &format!("create_{}", self.one),
            &format!("Create {}", self.noun),
            needs,
            vec![param_ref("IdempotencyKey")],
            Some(body(input)),
            created,
            errors,
        )
    }

    fn get(&self, needs: &str) -> Value {
        operation(
            self.tag,
            &format!("get_{}", self.one),
            &format!("Get {}", self.noun),
            needs,
            vec![param_ref(self.id_param)],
            None,
            tagged(ok("200", "Found", &self.envelope)),
            READ_ERRORS,
        )
    }

    /// PUT (`update`) or PATCH (`patch`) of one object.
    fn change(&self, verb: &str, what: &str, needs: &str, input: &str, errors: &[&str]) -> Value {
        operation(
            self.tag,
            &format!("{verb}_{}", self.one),
            &format!("{what} {}", self.noun),
            needs,
            vec![
                param_ref(self.id_param),
                param_ref("IfMatch"),
                param_ref("IdempotencyKey"),
            ],
            Some(body(input)),
            tagged(ok("200", "Updated", &self.envelope)),
            &[errors, &["412"]].concat(),
        )
    }

    fn history(&self, needs: &str) -> Value {
        operation(
            self.tag,
            &format!("get_{}_history", self.one),
            &format!("Versions of {}", self.noun),
            needs,
            vec![
                param_ref(self.id_param),
                param_ref("Limit"),
                param_ref("Offset"),
            ],
            None,
            ok("200", "A page of versions", &self.page),
            READ_ERRORS,
        )
    }

    fn delete(&self, needs: &str, cascade: bool) -> Value {
        let mut params = vec![param_ref(self.id_param), param_ref("IfMatch")];
        if cascade {
            params.push(param_ref("Cascade"));
        }
        operation(
            self.tag,
            &format!("delete_{}", self.one),
            &format!("Delete {}", self.noun),
            needs,
            params,
            None,
            ok("200", "Deleted", "DeletedEnvelope"),
            &[READ_ERRORS, WRITE_ERRORS, &["412"]].concat(),
        )
    }
}

/// Declares the `ETag` header on a 200 response.
fn tagged(mut success: Value) -> Value {
    success["200"]["headers"] = json!({"ETag": {
        "description": "A strong validator of the object's state; send it as If-Match to \
                        write only if nobody changed the object since.",
        "schema": {"type": "string"}}});
    success
}

fn push_param(op: &mut Value, param: Value) {
    if let Some(list) = op["parameters"].as_array_mut() {
        list.push(param);
    }
}

fn page_params(order_by: &[&str]) -> Vec<Value> {
    vec![
        param_ref("Limit"),
        param_ref("Offset"),
        order_by_param(order_by),
        param_ref("OrderDirection"),
    ]
}

/// The body of seed `number` (000 to 003) as the request's example.
fn set_example(op: &mut Value, number: &str, text: &str) {
    op["requestBody"]["content"]["application/json"]["examples"] = json!({
        format!("seed-{number}"): {"summary": format!("Seed {number}"), "value": example(text)}
    });
}

/// The plural of a snake-case noun, for operation ids: `ip_addresses`, not `ip_addresss`.
fn plural(one: &str) -> String {
    if one.ends_with('s') {
        format!("{one}es")
    } else if let Some(stem) = one
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{one}s")
    }
}

fn alias_slug(alias: &str) -> String {
    alias
        .trim_start_matches('/')
        .replace(['/', '-', '.'], "_")
        .to_string()
}

fn rename_link_targets(links: &mut Value, alias: &str) {
    for link in links
        .as_object_mut()
        .into_iter()
        .flat_map(|l| l.values_mut())
    {
        if let Some(id) = link["operationId"].as_str() {
            link["operationId"] = json!(format!("{id}_via_{}", alias_slug(alias)));
        }
    }
}

fn id_schema(uuid: bool) -> Value {
    if uuid {
        json!({"type": "string", "format": "uuid"})
    } else {
        json!({"type": "string", "minLength": 1})
    }
}

fn order_by_param(columns: &[&str]) -> Value {
    json!({"name": "order_by", "in": "query", "required": false,
           "description": "Sort column (default created_at).",
           "schema": {"type": "string", "enum": columns}})
}

pub(super) fn filter(name: &str, kind: Filter, about: &str) -> Value {
    let schema = match kind {
        Filter::Uuid => json!({"type": "string", "format": "uuid"}),
        Filter::Uuids => json!({"type": "array", "items": {"type": "string", "format": "uuid"}}),
        Filter::Text => json!({"type": "string"}),
        Filter::Texts => json!({"type": "array", "items": {"type": "string", "minLength": 1}}),
        Filter::Flag => json!({"type": "boolean"}),
        Filter::Children => json!({"type": "string", "enum": ["children"]}),
    };
    json!({"name": name, "in": "query", "required": false, "description": about,
           "schema": schema, "explode": true})
}

fn parameters() -> Value {
    json!({
        "Id": {"name": "id", "in": "path", "required": true, "schema": id_schema(true)},
        "Name": {"name": "id", "in": "path", "required": true,
                 "description": "The service type's name", "schema": id_schema(false)},
        "Limit": {"name": "limit", "in": "query", "required": false,
                  "description": "Page size: default 50, at most 1000; 0 returns everything.",
                  "schema": {"type": "integer", "minimum": 0}},
        "Offset": {"name": "offset", "in": "query", "required": false,
                   "schema": {"type": "integer", "minimum": 0}},
        "OrderDirection": {"name": "order_direction", "in": "query", "required": false,
                           "schema": {"type": "string", "enum": ["asc", "desc"]}},
        "At": {"name": "at", "in": "query", "required": false,
               "description": "Answer the state at this RFC 3339 instant instead of the live \
                               one: per object, the version current then (closed versions have \
                               their own id and `lineage_id`). An instant after now reads as now.",
               "schema": {"type": "string", "format": "date-time"}},
        "Cascade": {"name": "cascade", "in": "query", "required": false,
                    "description": "Also delete what refers to the object (bindings, children).",
                    "schema": {"type": "boolean"}},
        "IfMatch": {"name": "If-Match", "in": "header", "required": false,
            "description": "Write only if the object's ETag is one of these (or `*`: it \
                            exists); otherwise 412 PRECONDITION_FAILED and nothing is written.",
            "schema": {"type": "string"}},
        "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": false,
            "description": "Retrying with the same key returns the first answer instead of \
                            writing again (kept 24 hours).",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
    })
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema_ref(schema)}}})
}

fn ok(status: &str, about: &str, schema: &str) -> Value {
    json!({ status: {"description": about,
                     "content": {"application/json": {"schema": schema_ref(schema)}}} })
}

/// From a created object to reading, replacing and deleting it.
fn item_links(one: &str) -> Value {
    let id = if one == "api_key" {
        json!({"id": "$response.body#/data/api_key/id"})
    } else {
        json!({"id": "$response.body#/data/id"})
    };
    let mut links = json!({
        "get": {"operationId": format!("get_{one}"), "parameters": id},
        "delete": {"operationId": format!("delete_{one}"), "parameters": id},
    });
    let change = if one == "service_template" {
        "patch"
    } else {
        "update"
    };
    links[change] = json!({"operationId": format!("{change}_{one}"), "parameters": id});
    links
}

#[allow(clippy::too_many_arguments)]
fn operation(
    tag: &str,
    id: &str,
    summary: &str,
    description: &str,
    parameters: Vec<Value>,
    request_body: Option<Value>,
    success: Value,
    errors: &[&str],
) -> Value {
    let mut responses = success;
    for status in errors {
        responses[*status] = response_ref(status);
    }
    let mut op = json!({
        "tags": [tag], "operationId": id, "summary": summary, "description": description,
        "parameters": parameters, "responses": responses,
    });
    if let Some(b) = request_body {
        op["requestBody"] = b;
    }
    op
}

const SEED_000: &str = include_str!("examples/seed-000-service-put.json");
const SEED_001: &str = include_str!("examples/seed-001-binding-put.json");
const SEED_002: &str = include_str!("examples/seed-002-binding-post.json");
const SEED_003: &str = include_str!("examples/seed-003-template-patch.json");

fn example(text: &str) -> Value {
    serde_json::from_str(text).expect("the embedded examples are JSON")
}

/// The error body of `api.md`, as `ApiError::body` writes it.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorBody {
    #[schema(value_type = bool)]
    success: bool,
    code: String,
    message: String,
    /// The same as `message`, for clients of older versions.
    error: String,
    /// The input the error is about: a body path such as `bindings[1].port_id`, or a parameter.
    field: Option<String>,
    hint: Option<String>,
    #[schema(value_type = Object)]
    params: Map<String, Value>,
    #[schema(rename = "requestId")]
    request_id: Option<String>,
    /// With 429: seconds until a retry may succeed.
    #[schema(rename = "retryAfter")]
    retry_after: Option<u64>,
    /// With FORBIDDEN_ROLE: the role the operation needs.
    required_role: Option<String>,
    meta: Meta,
}

/// A new template. `name` and `containerImageId` are required.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
struct TemplateInput {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(min_length = 1)]
    container_image_id: String,
    image_tag: Option<String>,
    /// A Compose file with a `services` mapping; `${VAR}`s are filled from `baseEnv`.
    compose_template: Option<String>,
    /// An absolute http(s) URL.
    health_check_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    base_env: Option<Map<String, Value>>,
    deploy_strategy: Option<String>,
    service_type_id: Option<String>,
    #[schema(minimum = 0, maximum = 3_600_000)]
    health_wait_ms: Option<i64>,
    #[schema(minimum = 1, maximum = 100)]
    health_retries: Option<i64>,
    #[schema(minimum = 0, maximum = 3_600_000)]
    health_interval_ms: Option<i64>,
}

/// A partial change: only the fields given are changed.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)]
struct TemplatePatch {
    #[schema(min_length = 1, max_length = 100, nullable = false)]
    name: Option<String>,
    #[schema(min_length = 1, nullable = false)]
    container_image_id: Option<String>,
    #[schema(nullable = false)]
    image_tag: Option<String>,
    compose_template: Option<String>,
    health_check_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    base_env: Option<Map<String, Value>>,
    #[schema(nullable = false)]
    deploy_strategy: Option<String>,
    service_type_id: Option<String>,
    #[schema(minimum = 0, maximum = 3_600_000, nullable = false)]
    health_wait_ms: Option<i64>,
    #[schema(minimum = 1, maximum = 100, nullable = false)]
    health_retries: Option<i64>,
    #[schema(minimum = 0, maximum = 3_600_000, nullable = false)]
    health_interval_ms: Option<i64>,
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

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::spawn_app;

/// Every (method, path) the router registers, as `portolan::api::register` reports it.
fn router_table() -> BTreeSet<(String, String)> {
    let mut table = Vec::new();
    let _ = actix_web::App::new().configure(|cfg| table = portolan::api::register(cfg));
    table.into_iter().map(|r| (r.method, r.path)).collect()
}

#[test]
fn the_document_describes_every_route_and_nothing_else() {
    let app = spawn_app();
    let r = app.raw("GET", "/api/openapi.json", None, None);
    assert_eq!(r.status, 200);
    let mut documented = BTreeSet::new();
    for (path, item) in r.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let routes = router_table();
    assert!(
        routes.len() > 70,
        "the table lists the API: {}",
        routes.len()
    );
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_bearer_auth_and_the_seed_examples() {
    let app = spawn_app();
    let r = app.raw("GET", "/api/openapi.json", None, None);
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let doc = &r.body;
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(doc["info"]["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        json!("bearer")
    );
    assert_eq!(doc["security"], json!([{"bearerAuth": []}]));
    assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([]));
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Service"]["properties"]["id"]["readOnly"],
        json!(true)
    );
    assert_eq!(
        schemas["Template"]["properties"]["exposedPorts"]["readOnly"],
        json!(true)
    );
    assert!(schemas["Meta"]["properties"]["pagination"].is_object());
    let put = &doc["paths"]["/api/v1/services/{id}"]["put"];
    let seed = &put["requestBody"]["content"]["application/json"]["examples"]["seed-000"];
    assert_eq!(
        seed["value"]["bindings"][0]["id"],
        json!("17e02403-98fe-4406-8133-df42a43de7de")
    );
    let patch = &doc["paths"]["/api/v1/service-templates/{id}"]["patch"];
    assert_eq!(
        patch["responses"]["422"]["$ref"],
        json!("#/components/responses/422")
    );
    let created = &doc["paths"]["/api/v1/hosts"]["post"]["responses"]["201"];
    assert_eq!(
        created["links"]["get"]["parameters"]["id"],
        json!("$response.body#/data/id")
    );
}

#[test]
fn the_reference_is_served_from_the_binary_without_a_key() {
    let app = spawn_app();
    let page = app.raw("GET", "/api/docs/", None, None);
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no asset comes from outside the server"
    );
    let bundle = app.raw("GET", "/api/docs/swagger-ui-bundle.js", None, None);
    assert_eq!(bundle.status, 200);
    assert!(bundle.body.as_str().unwrap().len() > 100_000);
    let init = app.raw("GET", "/api/docs/swagger-initializer.js", None, None);
    assert_eq!(init.status, 200);
    assert!(init.body.as_str().unwrap().contains("/api/openapi.json"));
    let bare = app.raw("GET", "/api/docs", None, None);
    assert_eq!(bare.status, 200, "redirected to /api/docs/");
    assert!(bare.body.as_str().unwrap().contains("swagger-ui"));

    // Where the peer's clients look for it, the same document.
    let root = app.raw("GET", "/openapi.json", None, None);
    assert_eq!(root.status, 200);
    assert_eq!(
        root.body,
        app.raw("GET", "/api/openapi.json", None, None).body
    );
}

/// Operation ids become method names in generated clients: each part must be a word of the
/// API's vocabulary, so a misspelled plural (`list_ip_addresss`) fails here.
#[test]
fn operation_ids_are_english_words() {
    const WORDS: &[&str] = &[
        "am",
        "api",
        "add",
        "address",
        "addresses",
        "all",
        "assign",
        "binding",
        "bindings",
        "bulk",
        "changes",
        "consolidate",
        "create",
        "delete",
        "get",
        "health",
        "healthz",
        "history",
        "host",
        "hosts",
        "i",
        "interfaces",
        "ip",
        "json",
        "key",
        "keys",
        "list",
        "network",
        "networks",
        "openapi",
        "organizations",
        "patch",
        "port",
        "ports",
        "readyz",
        "remove",
        "rotate",
        "root",
        "service",
        "services",
        "set",
        "subnet",
        "subnets",
        "tag",
        "tags",
        "template",
        "templates",
        "type",
        "types",
        "update",
        "v1",
        "version",
        "via",
        "who",
        "discovery",
        "discoveries",
        "schedule",
        "schedules",
        "cancel",
        "apply",
        "events",
        "dependency",
        "dependencies",
        "impact",
        "map",
        "mermaid",
        "svg",
        "metrics",
        "export",
        "import",
        "inventory",
        "prometheus",
        "sd",
        "ansible",
        "homepage",
        "csv",
        "webhook",
        "webhooks",
        "delivery",
        "deliveries",
        "retry",
        "test",
        "server",
        "config",
        "topology",
        "topologies",
        "data",
        "agent",
        "agents",
        "report",
        "daemon",
        "daemons",
        "download",
        "portolan",
        "head",
        "job",
        "jobs",
        "progress",
        "result",
        "deployment",
        "deployments",
        "deploy",
        "undeploy",
        "sign",
        "in",
        "out",
        "session",
        "sessions",
        "password",
        "revoke",
        "other",
        "invite",
        "accept",
        "use",
        "link",
        "auth",
        "user",
        "users",
        "reset",
        "change",
        "setup",
        "totp",
        "share",
        "shares",
        "confirm",
        "disable",
        "methods",
        "start",
        "finish",
        "oidc",
    ];
    let doc = portolan::api::openapi::document();
    let mut odd = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            if id.split('_').any(|part| !WORDS.contains(&part)) {
                odd.push(id.to_string());
            }
        }
    }
    assert!(odd.is_empty(), "not English: {odd:?}");
}

#[test]
fn the_document_lists_precondition_failed() {
    let doc = portolan::api::openapi::document();
    let text = doc.to_string();
    assert!(text.contains("PRECONDITION_FAILED"));
    let put = &doc["paths"]["/api/v1/hosts/{id}"]["put"];
    assert!(put["responses"]["412"].is_object(), "{put}");
    let params = put["parameters"].to_string();
    assert!(params.contains("IfMatch"), "{params}");
    let get = &doc["paths"]["/api/v1/services/{id}"]["get"];
    assert!(get["responses"]["200"]["headers"]["ETag"].is_object());
}

/// Operations that make the server send requests of its own (a scan's probes, a webhook's
/// deliveries) must stay out of contract fuzzing, aliases included: generated targets and URLs
/// could name any address.
#[test]
fn contract_fuzzing_leaves_out_every_operation_that_sends_probes_or_requests() {
    let contract = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/contract"))
        .expect(".ci/contract");
    let doc = portolan::api::openapi::document();
    let mut missing = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            let sends = [
                "create_discovery",
                "create_discovery_schedule",
                "create_webhook",
                "update_webhook",
            ]
            .iter()
            .any(|prefix| id == *prefix || id.starts_with(&format!("{prefix}_via_")));
            if sends && !contract.contains(&format!("--exclude-operation-id {id} ")) {
                missing.push(id.to_string());
            }
        }
    }
    assert!(missing.is_empty(), ".ci/contract must exclude {missing:?}");
}

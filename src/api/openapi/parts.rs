//! Small builders every part of the document uses: parameters, bodies, answers, operations.

use super::*;

/// Declares the `ETag` header on a 200 response.
pub(super) fn tagged(mut success: Value) -> Value {
    success["200"]["headers"] = json!({"ETag": {
        "description": "A strong validator of the object's state; send it as If-Match to \
                        write only if nobody changed the object since.",
        "schema": {"type": "string"}}});
    success
}

pub(super) fn push_param(op: &mut Value, param: Value) {
    if let Some(list) = op["parameters"].as_array_mut() {
        list.push(param);
    }
}

pub(super) fn page_params(order_by: &[&str]) -> Vec<Value> {
    vec![
        param_ref("Limit"),
        param_ref("Offset"),
        order_by_param(order_by),
        param_ref("OrderDirection"),
    ]
}

/// The body of seed `number` (000 to 003) as the request's example.
pub(super) fn set_example(op: &mut Value, number: &str, text: &str) {
    op["requestBody"]["content"]["application/json"]["examples"] = json!({
        format!("seed-{number}"): {"summary": format!("Seed {number}"), "value": example(text)}
    });
}

/// The plural of a snake-case noun, for operation ids: `ip_addresses`, not `ip_addresss`.
pub(super) fn plural(one: &str) -> String {
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

pub(super) fn alias_slug(alias: &str) -> String {
    alias
        .trim_start_matches('/')
        .replace(['/', '-', '.'], "_")
        .to_string()
}

pub(super) fn rename_link_targets(links: &mut Value, alias: &str) {
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

pub(super) fn id_schema(uuid: bool) -> Value {
    if uuid {
        json!({"type": "string", "format": "uuid"})
    } else {
        json!({"type": "string", "minLength": 1})
    }
}

pub(super) fn order_by_param(columns: &[&str]) -> Value {
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
        Filter::Children => json!({"type": "string", "enum": ["children", "ip_addresses"]}),
    };
    json!({"name": name, "in": "query", "required": false, "description": about,
           "schema": schema, "explode": true})
}

pub(super) fn parameters() -> Value {
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

pub(super) fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema_ref(schema)}}})
}

pub(super) fn ok(status: &str, about: &str, schema: &str) -> Value {
    json!({ status: {"description": about,
                     "content": {"application/json": {"schema": schema_ref(schema)}}} })
}

/// From a created object to reading, replacing and deleting it.
pub(super) fn item_links(one: &str) -> Value {
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
pub(super) fn operation(
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

pub(super) const SEED_000: &str = include_str!("../examples/seed-000-service-put.json");

pub(super) const SEED_001: &str = include_str!("../examples/seed-001-binding-put.json");

pub(super) const SEED_002: &str = include_str!("../examples/seed-002-binding-post.json");

pub(super) const SEED_003: &str = include_str!("../examples/seed-003-template-patch.json");

pub(super) fn example(text: &str) -> Value {
    serde_json::from_str(text).expect("the embedded examples are JSON")
}

/// The error body of `api.md`, as `ApiError::body` writes it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct ErrorBody {
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

//! Finishing the document: components, shared responses and closed sets.

use super::*;

impl Doc {
    pub(super) fn finish(mut self) -> Value {
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
    pub(super) fn closed_sets(&mut self) {
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

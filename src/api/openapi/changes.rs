//! The journal of changes.

use super::*;

impl Doc {
    pub(super) fn changes(&mut self, base: &str) {
        let record = self.add_schema::<db::changes::Change>();
        self.add_schema::<db::changes::ChangeActor>();
        self.add_schema::<db::changes::ChangeActorUser>();
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
            "schema": {"type": "string", "enum": ["create", "update", "delete", "import"]}}));
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
}

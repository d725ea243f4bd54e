//! What breaks when a service goes down.

use super::*;

impl Doc {
    pub(super) fn impact(&mut self, path: &str) {
        let record = self.add_schema::<crate::api::dependencies::Impact>();
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
}

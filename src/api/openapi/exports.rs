//! Exports for Prometheus, Ansible, Homepage and spreadsheets.

use super::*;

impl Doc {
    pub(super) fn exports(&mut self, base: &str) {
        let group = self.add_schema::<crate::api::exports::TargetGroup>();
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
}

//! The 0.17 clients' topology: one per network, its view options, its data, its Mermaid export.

use super::*;

impl Doc {
    pub(super) fn topology(&mut self, base: &str) {
        let record = self.add_schema::<db::topology::Topology>();
        let input = self.add_schema::<crate::api::topology::TopologyBody>();
        let one = self.envelope(&record);
        let page = self.page(&record);
        let node = self.add_schema::<crate::domain::topology::TopologyNode>();
        self.add_schema::<crate::domain::topology::Point>();
        let edge = self.add_schema::<crate::domain::topology::TopologyEdge>();
        let per_view = |item: &str| {
            json!({"type": "object", "required": crate::domain::topology::VIEWS,
                   "additionalProperties": {"type": "array", "items": schema_ref(item)}})
        };
        let list_of = json!({"type": "array", "items": {"type": "object"}});
        let empty = json!({"type": "array", "maxItems": 0});
        self.schemas.insert(
            "TopologyData".into(),
            json!({"type": "object",
                   "required": ["network_id", "hosts", "ip_addresses", "subnets", "ports",
                                "bindings", "services", "dependencies", "tags", "interfaces",
                                "neighbours", "candidates", "vlans", "nodes", "edges",
                                "filtered_out", "available_views"],
                   "properties": {
                       "network_id": {"type": "string", "format": "uuid"},
                       "hosts": list_of, "ip_addresses": list_of, "subnets": list_of,
                       "ports": list_of, "bindings": list_of, "services": list_of,
                       "dependencies": list_of, "tags": list_of,
                       "interfaces": empty, "neighbours": empty, "candidates": empty,
                       "vlans": empty,
                       "nodes": per_view(&node), "edges": per_view(&edge),
                       "filtered_out": {"type": "object"},
                       "available_views": {"type": "array", "items": {"type": "string",
                           "enum": crate::domain::topology::VIEWS}}}}),
        );
        let data = self.envelope("TopologyData");
        let tag = "Topology";
        self.add(
            base,
            "get",
            operation(
                tag,
                "list_topologies",
                "One topology per network",
                "Needs: Viewer. A row per network the key sees; its id is the network's id, \
                 `options` what a client stored with PUT (`{}` until then).",
                vec![
                    param_ref("Limit"),
                    param_ref("Offset"),
                    filter("network_id", Filter::Uuid, "Only this network's."),
                    filter("ids", Filter::Uuids, "Only these."),
                ],
                None,
                ok("200", "The topologies", &page),
                READ_ERRORS,
            ),
        );
        self.add(
            &format!("{base}/data"),
            "get",
            operation(
                tag,
                "get_topology_data",
                "A network's objects, nodes and edges",
                "Needs: Viewer. Every object of the network (hosts with `display_name`), and \
                 per view (`L3Logical`: subnets as containers, hosts, addresses and services as \
                 elements, binding edges; `Application`: services and dependency edges) the \
                 nodes with the positions and sizes of the map's own layout. Bindings on all \
                 interfaces point at their host's node.",
                vec![
                    json!({"name": "network_id", "in": "query", "required": true,
                           "schema": {"type": "string", "format": "uuid"}}),
                    param_ref("At"),
                ],
                None,
                ok("200", "The topology's data", &data),
                READ_ERRORS,
            ),
        );
        self.add(
            &format!("{base}/{{id}}"),
            "get",
            operation(
                tag,
                "get_topology",
                "A network's topology",
                "Needs: Viewer.",
                vec![param_ref("Id")],
                None,
                tagged(ok("200", "The topology", &one)),
                READ_ERRORS,
            ),
        );
        self.add(
            &format!("{base}/{{id}}"),
            "put",
            operation(
                tag,
                "update_topology",
                "Store a topology's view options",
                "Needs: Member, in the network. `options` (an object) is kept as given and \
                 journaled (entity type `topology`); the other fields may be sent back as read.",
                vec![param_ref("Id"), param_ref("IdempotencyKey")],
                Some(body(&input)),
                tagged(ok("200", "Stored", &one)),
                &[READ_ERRORS, WRITE_ERRORS].concat(),
            ),
        );
        let mut export = operation(
            tag,
            "export_topology_mermaid",
            "A topology as a Mermaid flowchart file",
            "Needs: Viewer. The text of `/networks/{id}/map.mermaid` as a download \
             (`topology.mmd`); both views export the same flowchart.",
            vec![
                param_ref("Id"),
                json!({"name": "view", "in": "query", "required": false,
                       "schema": {"type": "string", "enum": crate::domain::topology::VIEWS}}),
                param_ref("At"),
            ],
            None,
            Value::Null,
            READ_ERRORS,
        );
        export["responses"]["200"] = json!({"description": "The flowchart",
            "content": {"text/plain": {"schema": {"type": "string"}}}});
        self.add(&format!("{base}/{{id}}/export/mermaid"), "get", export);
    }
}

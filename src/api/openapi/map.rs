//! The map of a network: JSON, SVG and Mermaid.

use super::*;

impl Doc {
    pub(super) fn maps(&mut self, network: &str) {
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
}

//! The OpenAPI description of discovery: discoveries, their events, and schedules.

use serde_json::{json, Value};

use super::{body, filter, ok, operation, param_ref, Doc, Filter, READ_ERRORS, WRITE_ERRORS};
use crate::api::discoveries::DiscoveryBody;
use crate::api::discovery_schedules::ScheduleBody;
use crate::db::discoveries::{Discovery, Schedule};

const TAG: &str = "Discovery";

impl Doc {
    pub(super) fn discoveries(&mut self, base: &str) {
        let record = self.add_schema::<Discovery>();
        self.add_schema::<crate::ops::discovery::PlanEntry>();
        let input = self.add_schema::<DiscoveryBody>();
        let one = self.envelope(&record);
        let page = self.page(&record);
        let item = format!("{base}/{{id}}");
        let admin = "Needs: Admin, and the network in the key's scope.";
        let mut params = vec![param_ref("Limit"), param_ref("Offset")];
        params.push(filter("network_id", Filter::Uuid, "Only of this network."));
        params.push(json!({"name": "status", "in": "query", "required": false,
            "schema": {"type": "string", "enum": ["queued", "running", "completed", "failed", "cancelled"]}}));
        params.push(json!({"name": "source", "in": "query", "required": false,
            "schema": {"type": "string", "enum": ["scan", "nmap", "observations"]}}));
        self.add(
            base,
            "get",
            operation(
                TAG,
                "list_discoveries",
                "List discoveries",
                "Needs: Viewer; newest first.",
                params,
                None,
                ok("200", "A page", &page),
                READ_ERRORS,
            ),
        );
        let mut answers = ok("201", "An upload, reconciled (nmap, observations)", &one);
        answers["202"] = json!({"description": "A scan, queued: it runs in the background",
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{one}")}}}});
        let mut create = operation(
            TAG,
            "create_discovery",
            "Scan, or upload what nmap or an agent saw",
            &format!(
                "{admin} Source `scan` (default): a TCP connect scan of `targets` (inside the \
                 network's subnets) on `ports`, answered 202 while it runs. Source `nmap`: the \
                 XML of `nmap -oX` in `xml` (or the raw XML with Content-Type application/xml \
                 and `?network_id=`), up to 16 MiB. Source `observations`: up to 10,000 \
                 addresses an agent saw. Mode `plan` writes nothing but the plan. One running \
                 scan per network (409)."
            ),
            vec![
                filter("network_id", Filter::Uuid, "With an XML body: the network."),
                json!({"name": "mode", "in": "query", "required": false,
                       "description": "With an XML body: apply (default) or plan.",
                       "schema": {"type": "string", "enum": ["apply", "plan"]}}),
            ],
            Some(body(&input)),
            answers,
            &[READ_ERRORS, WRITE_ERRORS].concat(),
        );
        create["requestBody"]["content"]["application/xml"] = json!({"schema": {"type": "string"}});
        self.add(base, "post", create);
        let id = vec![param_ref("Id")];
        self.add(
            &item,
            "get",
            operation(
                TAG,
                "get_discovery",
                "Get a discovery",
                "Needs: Viewer. Live counters while it runs.",
                id.clone(),
                None,
                ok("200", "Found", &one),
                READ_ERRORS,
            ),
        );
        self.add(
            &format!("{item}/cancel"),
            "post",
            operation(TAG, "cancel_discovery", "Stop a running scan",
                &format!("{admin} Stops within a second; nothing is applied. 409 when it is not running."),
                id.clone(), None, ok("200", "Cancelled", &one), &[READ_ERRORS, &["409"]].concat()),
        );
        self.add(
            &format!("{item}/apply"),
            "post",
            operation(TAG, "apply_discovery", "Apply a plan",
                &format!("{admin} Applies a finished plan against the state of now, once (a second apply is 409); what no longer applies is skipped and counted."),
                id.clone(), None, ok("200", "Applied", &one), &[READ_ERRORS, &["409"]].concat()),
        );
        let mut events = operation(TAG, "get_discovery_events", "Follow a discovery",
            "Needs: Viewer. Server-Sent Events: `progress` (status and counters) at least every second while it runs, then `finished` with the discovery, then the stream ends.",
            id, None, Value::Null, READ_ERRORS);
        events["responses"]["200"] = json!({"description": "An event stream",
            "content": {"text/event-stream": {"schema": {"type": "string"}}}});
        self.add(&format!("{item}/events"), "get", events);
    }

    pub(super) fn discovery_schedules(&mut self, base: &str) {
        let record = self.add_schema::<Schedule>();
        let input = self.add_schema::<ScheduleBody>();
        let one = self.envelope(&record);
        let page = self.page(&record);
        let item = format!("{base}/{{id}}");
        let admin = "Needs: Admin, and the network in the key's scope. Targets, ports and options are checked like a scan's.";
        let params = vec![
            param_ref("Limit"),
            param_ref("Offset"),
            filter("network_id", Filter::Uuid, "Only of this network."),
        ];
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        self.add(
            base,
            "get",
            operation(
                TAG,
                "list_discovery_schedules",
                "List discovery schedules",
                "Needs: Viewer.",
                params,
                None,
                ok("200", "A page", &page),
                READ_ERRORS,
            ),
        );
        let mut created = ok(
            "201",
            "Created; it runs at once, then every interval_minutes",
            &one,
        );
        created["201"]["headers"] = json!({"Location": {"description": "The new object's URL", "schema": {"type": "string"}}});
        self.add(
            base,
            "post",
            operation(
                TAG,
                "create_discovery_schedule",
                "Create a discovery schedule",
                admin,
                vec![param_ref("IdempotencyKey")],
                Some(body(&input)),
                created,
                &writes,
            ),
        );
        let id = vec![param_ref("Id")];
        self.add(
            &item,
            "get",
            operation(
                TAG,
                "get_discovery_schedule",
                "Get a discovery schedule",
                "Needs: Viewer.",
                id.clone(),
                None,
                ok("200", "Found", &one),
                READ_ERRORS,
            ),
        );
        self.add(
            &item,
            "put",
            operation(
                TAG,
                "update_discovery_schedule",
                "Replace a discovery schedule",
                admin,
                vec![param_ref("Id"), param_ref("IdempotencyKey")],
                Some(body(&input)),
                ok("200", "Updated", &one),
                &writes,
            ),
        );
        self.add(
            &item,
            "delete",
            operation(
                TAG,
                "delete_discovery_schedule",
                "Delete a discovery schedule",
                "Needs: Admin.",
                id,
                None,
                ok("200", "Deleted", "DeletedEnvelope"),
                &writes,
            ),
        );
    }
}

//! The OpenAPI description of deployments and their agents' jobs.

use serde_json::json;

use super::{body, ok, operation, param_ref, Doc, READ_ERRORS, WRITE_ERRORS};
use crate::api::deployments::{DeploymentBody, DeploymentJobProgress, DeploymentJobResult};
use crate::db::deployments::Deployment;

const TAG: &str = "Deployments";

impl Doc {
    pub(super) fn deployments(&mut self, base: &str) {
        let record = self.add_schema::<Deployment>();
        let input = self.add_schema::<DeploymentBody>();
        let progress = self.add_schema::<DeploymentJobProgress>();
        let result = self.add_schema::<DeploymentJobResult>();
        let one = self.envelope(&record);
        let page = self.page(&record);
        let item = format!("{base}/{{id}}");
        let read = "Needs: Viewer; a key limited to networks sees the deployments whose every host is in them.";
        let admin = "Needs: Admin, and every host within the key's networks.";
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let id = vec![param_ref("Id")];
        let query = |name: &str, about: &str, format: Option<&str>| {
            let mut schema = json!({"type": "string"});
            if let Some(f) = format {
                schema["format"] = json!(f);
            }
            json!({"name": name, "in": "query", "required": false, "description": about, "schema": schema})
        };
        self.add(
            base,
            "get",
            operation(
                TAG,
                "list_deployments",
                "List deployments",
                &format!("{read} Newest first."),
                vec![
                    param_ref("Limit"),
                    param_ref("Offset"),
                    query("host_id", "Those with a target on this host.", Some("uuid")),
                    query("template_id", "Those of this template.", Some("uuid")),
                    query(
                        "status",
                        "queued, running, healthy, failed, rolled_back, cancelled or undeployed.",
                        None,
                    ),
                ],
                None,
                ok("200", "A page", &page),
                READ_ERRORS,
            ),
        );
        let mut created = ok("202", "Accepted: reserved, and queued for the agents", &one);
        created["201"] = json!({"description": "A plan: checked, nothing runs", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{one}")}}}});
        for status in ["201", "202"] {
            created[status]["headers"] = json!({"Location": {"description": "The deployment's URL", "schema": {"type": "string"}}});
        }
        self.add(
            base,
            "post",
            operation(
                TAG,
                "create_deployment",
                "Deploy a template to hosts",
                &format!(
                    "{admin} The environment is the template's `baseEnv`, then `env`, then \
                     `IMAGE` and `TAG`. Checked before anything runs, nothing written on a \
                     refusal: each host has an enabled, non-silent agent started with `--deploy` \
                     (400, `host_ids[i]`); every variable of the compose file and health URL has \
                     a value (400, `env`, `params.missing`); every published port is free on \
                     each host under the binding rules (409 `CONFLICT` naming the holder, as a \
                     binding write). `mode: plan` answers 201 with the file and what each host \
                     would get, conflicts listed; `apply` answers 202 once each host's service \
                     and bindings are reserved, and the agents run it."
                ),
                vec![param_ref("IdempotencyKey")],
                Some(body(&input)),
                created,
                &writes,
            ),
        );
        self.add(
            &item,
            "get",
            operation(
                TAG,
                "get_deployment",
                "Get a deployment",
                read,
                id.clone(),
                None,
                ok("200", "Found", &one),
                READ_ERRORS,
            ),
        );
        let acts = [
            ("apply", "apply_deployment", "Apply a plan",
             "Runs a plan once, every check made again; a second apply is 409."),
            ("cancel", "cancel_deployment", "Cancel a deployment",
             "Hosts not yet started are skipped and their reservations given back; a host whose agent already runs finishes. 409 when it is finished."),
            ("undeploy", "undeploy_deployment", "Undeploy",
             "Each healthy host's agent runs compose `down`; then its services and bindings are closed in history and the status is `undeployed`. 409 while it runs."),
        ];
        for (path, op_id, summary, about) in acts {
            self.add(
                &format!("{item}/{path}"),
                "post",
                operation(
                    TAG,
                    op_id,
                    summary,
                    &format!("{admin} {about}"),
                    id.clone(),
                    None,
                    ok("202", "Accepted", &one),
                    &writes,
                ),
            );
        }
        let mut events = operation(TAG, "get_deployment_events", "Follow a deployment",
            "Needs: Viewer. Server-Sent Events: `progress` with the deployment each time it changes, then `finished` with it once nothing more happens (at once for a finished one), then the stream ends.",
            id.clone(), None, serde_json::Value::Null, READ_ERRORS);
        events["responses"]["200"] = json!({"description": "An event stream",
            "content": {"text/event-stream": {"schema": {"type": "string"}}}});
        self.add(&format!("{item}/events"), "get", events);
        let agent_only =
            "Needs: the agent's own token (`scp_a_...`); the job must be this agent's and running.";
        self.add(
            "/api/v1/agent/deployment-jobs/{id}/progress",
            "post",
            operation(TAG, "create_agent_deployment_job_progress", "Report a deployment's progress",
                &format!("{agent_only} The target's status (`starting`, `checking`), health checks made, and compose's output (the last 200 lines are kept). Also keeps the job from timing out."),
                id.clone(), Some(body(&progress)), ok("200", "Stored", &one), &writes),
        );
        self.add(
            "/api/v1/agent/deployment-jobs/{id}/result",
            "post",
            operation(TAG, "create_agent_deployment_job_result", "Finish a deployment job",
                &format!("{agent_only} `healthy`, `failed` or `rolled_back`; a failed or rolled-back host gives its reservation back, and a sequential deployment skips the hosts after it."),
                id, Some(body(&result)), ok("200", "Finished", &one), &writes),
        );
    }
}

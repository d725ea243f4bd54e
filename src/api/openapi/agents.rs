//! The OpenAPI description of agents, their reports, and the 0.17 clients' daemons.

use serde_json::json;

use super::{body, ok, operation, param_ref, tagged, Doc, READ_ERRORS, WRITE_ERRORS};
use crate::api::agents::{
    AgentBody, CreatedDaemonKey, Daemon, DaemonKey, DaemonKeyBody, JobResultBody, ScanJob,
};
use crate::db::agents::Agent;
use crate::db::discoveries::Discovery;
use crate::domain::agent_report::Report;
use crate::domain::discovery::Progress;
use crate::ops::agent_report::ReportOutcome;
use crate::ops::agents::CreatedAgent;

const TAG: &str = "Agents";

impl Doc {
    pub(super) fn agents(&mut self) {
        let base = "/api/v1/agents";
        let record = self.add_schema::<Agent>();
        let input = self.add_schema::<AgentBody>();
        let created_agent = self.add_schema::<CreatedAgent>();
        let report = self.add_schema::<Report>();
        let outcome = self.add_schema::<ReportOutcome>();
        let daemon = self.add_schema::<Daemon>();
        let daemon_key = self.add_schema::<DaemonKey>();
        let daemon_key_body = self.add_schema::<DaemonKeyBody>();
        let created_daemon_key = self.add_schema::<CreatedDaemonKey>();
        let one = self.envelope(&record);
        let page = self.page(&record);
        let with_token = self.envelope(&created_agent);
        let outcome_one = self.envelope(&outcome);
        let daemons = self.page(&daemon);
        let daemon_one = self.envelope(&daemon);
        let daemon_keys = self.page(&daemon_key);
        let daemon_key_created = self.envelope(&created_daemon_key);
        let item = format!("{base}/{{id}}");
        let read = "Needs: Viewer; a key limited to networks sees the agents of its networks.";
        let write = "Needs: Admin, and the agent's network within the key's.";
        let writes = [READ_ERRORS, WRITE_ERRORS].concat();
        let list_params = vec![
            param_ref("Limit"),
            param_ref("Offset"),
            json!({"name": "network_id", "in": "query", "required": false,
                   "schema": {"type": "string", "format": "uuid"}}),
            json!({"name": "q", "in": "query", "required": false,
                   "description": "Part of the name or machine id, in any case.",
                   "schema": {"type": "string"}}),
        ];
        self.add(
            base,
            "get",
            operation(
                TAG,
                "list_agents",
                "List agents",
                read,
                list_params.clone(),
                None,
                ok("200", "A page", &page),
                READ_ERRORS,
            ),
        );
        let mut created = ok("201", "Created, with its token shown once", &with_token);
        created["201"]["headers"] = json!({"Location": {"description": "The new object's URL", "schema": {"type": "string"}}});
        self.add(
            base,
            "post",
            operation(
                TAG,
                "create_agent",
                "Create an agent",
                &format!(
                    "{write} Answers the agent's `token` (`scp_a_` and 32 letters or digits) \
                     this once; only its hash is stored. The token opens only \
                     `/api/v1/agent/...`; run `portolan agent --server URL --token TOKEN` on the \
                     host."
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
                "get_agent",
                "Get an agent",
                read,
                vec![param_ref("Id")],
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
                "update_agent",
                "Rename, enable or disable an agent",
                &format!("{write} A disabled agent's token is refused (401) at once."),
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
                "delete_agent",
                "Delete an agent",
                &format!("{write} Its token stops at once; what it reported stays."),
                vec![param_ref("Id")],
                None,
                ok("200", "Deleted", "DeletedEnvelope"),
                &writes,
            ),
        );
        self.add(
            &format!("{item}/rotate"),
            "post",
            operation(
                TAG,
                "rotate_agent",
                "Give an agent a new token",
                &format!("{write} The old token stops at once; the new one is shown once."),
                vec![param_ref("Id"), param_ref("IdempotencyKey")],
                None,
                ok("200", "Rotated", &with_token),
                &writes,
            ),
        );
        self.add(
            "/api/v1/agent/report",
            "post",
            operation(
                TAG,
                "create_agent_report",
                "Report what a host knows",
                "Needs: an agent token (`Authorization: Bearer scp_a_...`); an API key is 403. \
                 The report (at most 8 MiB, at most 10,000 entries per list) is reconciled \
                 into the agent's network through the binding rules: one host per machine id, \
                 one service per container or program, what the agent made and no longer \
                 reports closed, neighbours as hosts. A report that changes something is \
                 recorded as a discovery of source `agent`; one that changes nothing writes \
                 only the agent's `last_seen_at`. Optional headers: \
                 `X-Portolan-Agent-Capabilities` (`docker,scan,deploy`) and \
                 `X-Portolan-Agent-Interval` (seconds between reports, for `silent`).",
                vec![],
                Some(body(&report)),
                ok("200", "Reconciled", &outcome_one),
                &writes,
            ),
        );
        let job = self.add_schema::<ScanJob>();
        let job_one = self.envelope(&job);
        let progress = self.add_schema::<Progress>();
        let result = self.add_schema::<JobResultBody>();
        let discovery = self.add_schema::<Discovery>();
        let discovery_one = self.envelope(&discovery);
        let agent_only = "Needs: an agent token; an API key is 403.";
        self.add(
            "/api/v1/agent/jobs",
            "get",
            operation(
                TAG,
                "list_agent_jobs",
                "Take the agent's next job",
                &format!(
                    "{agent_only} A long poll: answers the oldest queued deployment job of this \
                     agent (`kind: deploy`, `action: up | down`, the rendered `compose`, the \
                     `project`, `compose_path` and `health`; reported on \
                     `/api/v1/agent/deployment-jobs/{{id}}/...`), else its oldest queued scan job \
                     (now running), with its addresses expanded, or waits up to `wait` seconds \
                     (default 30, at most 60) and answers `data: null`. A job created meanwhile \
                     is answered at once."
                ),
                vec![json!({"name": "wait", "in": "query", "required": false,
                            "schema": {"type": "integer", "minimum": 0, "maximum": 60}})],
                None,
                ok("200", "A job, or null", &job_one),
                READ_ERRORS,
            ),
        );
        self.add(
            "/api/v1/agent/jobs/{id}/progress",
            "post",
            operation(
                TAG,
                "create_agent_job_progress",
                "Report a job's progress",
                &format!(
                    "{agent_only} Stored on the discovery; keeps the job alive (a job unheard for \
                     `PORTOLAN_AGENT_JOB_TIMEOUT_S` fails, naming the agent)."
                ),
                vec![param_ref("Id")],
                Some(body(&progress)),
                ok("200", "Stored", &discovery_one),
                &writes,
            ),
        );
        self.add(
            "/api/v1/agent/jobs/{id}/result",
            "post",
            operation(
                TAG,
                "create_agent_job_result",
                "Finish a job",
                &format!(
                    "{agent_only} The observations are reconciled like pushed observations \
                     (and, with `close_missing`, discovered bindings the scan did not see again \
                     are closed); an `error` fails the job. Answers the finished discovery."
                ),
                vec![param_ref("Id")],
                Some(body(&result)),
                ok("200", "Finished", &discovery_one),
                &writes,
            ),
        );
        self.add(
            "/api/v1/daemons",
            "get",
            operation(
                TAG,
                "list_daemons",
                "List agents as daemons",
                &format!("{read} The 0.17 clients' shape of `GET /api/v1/agents`."),
                list_params[..3].to_vec(),
                None,
                ok("200", "A page", &daemons),
                READ_ERRORS,
            ),
        );
        self.add(
            "/api/v1/daemons/{id}",
            "get",
            operation(
                TAG,
                "get_daemon",
                "Get an agent as a daemon",
                read,
                vec![param_ref("Id")],
                None,
                tagged(ok("200", "Found", &daemon_one)),
                READ_ERRORS,
            ),
        );
        self.add(
            "/api/v1/auth/daemon",
            "get",
            operation(
                TAG,
                "list_daemon_keys",
                "List the agents' credentials",
                "Needs: Admin. The 0.17 clients' daemon keys: one per agent, always masked.",
                list_params[..3].to_vec(),
                None,
                ok("200", "A page", &daemon_keys),
                READ_ERRORS,
            ),
        );
        let mut made = ok(
            "201",
            "Created, with its token shown once",
            &daemon_key_created,
        );
        made["201"]["headers"] = json!({"Location": {"description": "The new agent's URL", "schema": {"type": "string"}}});
        self.add(
            "/api/v1/auth/daemon",
            "post",
            operation(
                TAG,
                "create_daemon_key",
                "Create an agent (0.17 clients)",
                &format!("{write} The same as `POST /api/v1/agents`, in the 0.17 clients' shape."),
                vec![param_ref("IdempotencyKey")],
                Some(body(&daemon_key_body)),
                made,
                &writes,
            ),
        );
        self.add(
            "/api/v1/auth/daemon/{id}",
            "delete",
            operation(
                TAG,
                "delete_daemon_key",
                "Revoke an agent (0.17 clients)",
                &format!("{write} The same as `DELETE /api/v1/agents/{{id}}`."),
                vec![param_ref("Id")],
                None,
                ok("200", "Deleted", "DeletedEnvelope"),
                &writes,
            ),
        );
    }
}

//! `portolan agent`: reports what its host knows to a Portolan server, every `--interval`
//! seconds, outbound only. A wrong token stops it with a clear message; an unreachable server
//! is retried with growing pauses, never a crash.

pub mod deploy;
pub mod docker;
pub mod host;
pub mod jobs;

use std::time::Duration;

pub use crate::config::AgentArgs;
use serde_json::{json, Value};

/// Why a report did not land.
#[derive(Debug)]
enum Failure {
    /// The server refused the agent itself (401/403): retrying cannot help.
    Refused(String),
    /// The server was away or failed: try again later.
    Away(String),
}

/// A report of the host as it is now, and the capabilities it shows.
pub fn collect(args: &AgentArgs) -> Result<(Value, Vec<&'static str>), String> {
    let mut capabilities = Vec::new();
    if args.scan {
        capabilities.push("scan");
    }
    if args.deploy {
        capabilities.push("deploy");
    }
    let containers = if args.docker == "none" {
        Vec::new()
    } else {
        match docker::containers(&args.docker) {
            Ok(c) => {
                capabilities.push("docker");
                c
            }
            Err(e) => {
                // Without the engine the server keeps the containers it knows (no "docker"
                // capability), instead of closing them.
                log::warn!("containers not read: {e}");
                Vec::new()
            }
        }
    };
    let report = json!({
        "host": host::identity(args.machine_id.as_deref())?,
        "interfaces": host::interfaces(args.include_loopback),
        "listeners": host::listeners(args.include_loopback),
        "containers": containers,
        "neighbours": host::neighbours(),
    });
    Ok((report, capabilities))
}

fn send(
    client: &ureq::Agent,
    args: &AgentArgs,
    report: &Value,
    capabilities: &[&str],
) -> Result<Value, Failure> {
    let url = format!("{}/api/v1/agent/report", args.server.trim_end_matches('/'));
    let response = client
        .post(&url)
        .header("Authorization", &format!("Bearer {}", args.token))
        .header("X-Portolan-Agent-Capabilities", &capabilities.join(","))
        .header("X-Portolan-Agent-Interval", &args.interval.to_string())
        .header("Content-Type", "application/json")
        .send(&serde_json::to_vec(report).unwrap_or_default()[..]);
    let mut response = response.map_err(|e| Failure::Away(format!("{url}: {e}")))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let message = body["message"].as_str().unwrap_or("").to_string();
    match status {
        200 => Ok(body["data"].clone()),
        401 | 403 => Err(Failure::Refused(format!(
            "the server refused this agent ({status}): {message}"
        ))),
        _ => Err(Failure::Away(format!(
            "the server answered {status}: {message}"
        ))),
    }
}

/// Runs the agent until it is stopped, or once with `--once`.
pub fn run(args: AgentArgs) -> Result<(), String> {
    if !crate::domain::token::is_agent_token(&args.token) {
        return Err("--token must be an agent token: scp_a_ and 32 letters or digits".into());
    }
    let client: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let interval = Duration::from_secs(args.interval);
    let mut pause = Duration::from_secs(1);
    let mut serving_jobs = false;
    loop {
        let (report, capabilities) = collect(&args)?;
        match send(&client, &args, &report, &capabilities) {
            Ok(outcome) => {
                pause = Duration::from_secs(1);
                log::info!(
                    "report: {} listeners, {} containers, {} neighbours; {}",
                    report["listeners"].as_array().map_or(0, Vec::len),
                    report["containers"].as_array().map_or(0, Vec::len),
                    report["neighbours"].as_array().map_or(0, Vec::len),
                    if outcome["changed"] == true {
                        format!("changed (discovery {})", outcome["discovery_id"])
                    } else {
                        "unchanged".to_string()
                    }
                );
                if args.once {
                    return Ok(());
                }
                // Jobs are taken once the server knows what this agent does (its first report).
                if (args.scan || args.deploy) && !serving_jobs {
                    serving_jobs = true;
                    let (client, server) = (
                        client.clone(),
                        args.server.trim_end_matches('/').to_string(),
                    );
                    let token = args.token.clone();
                    let deployer = args.deploy.then(|| deploy::Deployer::new(&args));
                    std::thread::Builder::new()
                        .name("jobs".into())
                        .spawn(move || jobs::serve(client, server, token, deployer))
                        .map_err(|e| e.to_string())?;
                }
                std::thread::sleep(interval);
            }
            Err(Failure::Refused(e)) => return Err(e),
            Err(Failure::Away(e)) if args.once => return Err(e),
            Err(Failure::Away(e)) => {
                log::warn!("{e}; next try in {} s", pause.as_secs());
                std::thread::sleep(pause);
                pause = (pause * 2).min(interval.max(Duration::from_secs(1)));
            }
        }
    }
}

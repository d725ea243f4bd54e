//! Jobs: the agent waits for them on a long poll. Scan jobs (`--scan`) scan from inside its own
//! segment with the server's own scanner, report progress, and post what they found;
//! deployments (`--deploy`) go to `deploy`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::discovery::scanner::{self, ScanSpec};
use crate::domain::discovery::Progress;

/// One HTTP exchange with the server: the status and the JSON body.
pub(super) fn exchange(
    client: &ureq::Agent,
    token: &str,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let auth = format!("Bearer {token}");
    let response = match body {
        Some(b) => client
            .post(url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(&serde_json::to_vec(b).unwrap_or_default()[..]),
        None if method == "GET" => client.get(url).header("Authorization", &auth).call(),
        None => return Err(format!("{method} needs a body")),
    };
    let mut response = response.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The scan a job asks for.
fn spec_of(job: &Value) -> Result<ScanSpec, String> {
    let addresses = job["addresses"]
        .as_array()
        .ok_or("a job without addresses")?
        .iter()
        .map(|a| {
            a.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or("a bad address")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ports = job["ports"]
        .as_array()
        .ok_or("a job without ports")?
        .iter()
        .map(|p| {
            p.as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or("a bad port")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = &job["options"];
    Ok(ScanSpec {
        addresses,
        ports,
        timeout: Duration::from_millis(options["timeout_ms"].as_u64().unwrap_or(500)),
        concurrency: options["concurrency"]
            .as_u64()
            .unwrap_or(256)
            .clamp(1, 2048) as usize,
        http_probe: options["http_probe"].as_bool().unwrap_or(true),
    })
}

/// Runs one job: scans, posting progress every second, then posts the result.
fn run_job(client: &ureq::Agent, server: &str, token: &str, job: &Value) -> Result<(), String> {
    let id = job["id"].as_str().ok_or("a job without id")?.to_string();
    let base = format!("{server}/api/v1/agent/jobs/{id}");
    let spec = match spec_of(job) {
        Ok(s) => s,
        Err(e) => {
            let body = json!({"error": e});
            exchange(
                client,
                token,
                "POST",
                &format!("{base}/result"),
                Some(&body),
            )?;
            return Err(e.to_string());
        }
    };
    let progress = Arc::new(Mutex::new(Progress::default()));
    let done = Arc::new(AtomicBool::new(false));
    let reporter = {
        let (client, token, url) = (
            client.clone(),
            token.to_string(),
            format!("{base}/progress"),
        );
        let (progress, done) = (progress.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                let now = *progress.lock().unwrap_or_else(|e| e.into_inner());
                let body = serde_json::to_value(now).unwrap_or_default();
                if let Err(e) = exchange(&client, &token, "POST", &url, Some(&body)) {
                    log::warn!("job progress: {e}");
                }
            }
        })
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let observations = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(scanner::scan(&spec, &progress, &cancel)))
        .map_err(|e| e.to_string());
    done.store(true, Ordering::Relaxed);
    let _ = reporter.join();
    let last = *progress.lock().unwrap_or_else(|e| e.into_inner());
    let body = match &observations {
        Ok(found) => json!({"observations": found, "progress": last}),
        Err(e) => json!({"error": e, "progress": last}),
    };
    let (status, answer) = exchange(
        client,
        token,
        "POST",
        &format!("{base}/result"),
        Some(&body),
    )?;
    if status != 200 {
        return Err(format!(
            "the server refused the result ({status}): {}",
            answer["message"]
        ));
    }
    log::info!(
        "scan job {id}: {} addresses, {} open ports found",
        last.addresses_total,
        last.open_found
    );
    Ok(())
}

/// Waits for jobs until the server refuses the agent.
pub fn serve(
    client: ureq::Agent,
    server: String,
    token: String,
    deployer: Option<super::deploy::Deployer>,
) {
    let url = format!("{server}/api/v1/agent/jobs?wait=30");
    let mut pause = Duration::from_secs(1);
    loop {
        match exchange(&client, &token, "GET", &url, None) {
            Ok((200, answer)) => {
                pause = Duration::from_secs(1);
                let job = &answer["data"];
                if job["kind"] == "deploy" {
                    let Some(deployer) = &deployer else {
                        log::warn!("a deployment job, but this agent runs without --deploy");
                        continue;
                    };
                    if let Err(e) = deployer.run_job(&client, &server, &token, job) {
                        log::warn!("deployment job: {e}");
                    }
                } else if job.is_object() {
                    if let Err(e) = run_job(&client, &server, &token, job) {
                        log::warn!("scan job: {e}");
                    }
                }
            }
            Ok((401 | 403, answer)) => {
                return log::error!(
                    "scan jobs stop: the server refused this agent: {}",
                    answer["message"]
                );
            }
            other => {
                let why = match other {
                    Ok((status, answer)) => {
                        format!("the server answered {status}: {}", answer["message"])
                    }
                    Err(e) => e,
                };
                log::warn!("scan jobs: {why}; next try in {} s", pause.as_secs());
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
    }
}

//! Deployments (`--deploy`): the rendered compose file written at the template's
//! `composePath` under the data directory, compose `up` (or `down`) under the project's name,
//! the template's health check from this host, and a rollback to the last healthy file (or the
//! project taken down) when it fails. Compose's output is streamed to the server as it comes.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::docker;
use super::jobs::exchange;
use crate::config::AgentArgs;
use crate::domain::compose;

/// How often a running job tells the server it is alive (and what compose printed).
const HEARTBEAT: Duration = Duration::from_secs(2);

pub struct Deployer {
    data_dir: PathBuf,
    /// The engine's endpoint, for compose (`DOCKER_HOST`) and for the project's containers.
    docker: String,
    unrestricted: bool,
    /// `docker compose` (the plugin), else Debian's `docker-compose`.
    compose: Vec<String>,
}

/// One job's exchanges with the server.
struct Job<'a> {
    client: &'a ureq::Agent,
    token: &'a str,
    base: String,
    log: Arc<Mutex<String>>,
    attempts: i64,
}

impl Job<'_> {
    fn log_line(&self, line: &str) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.push_str(line);
        log.push('\n');
    }

    fn log_text(&self) -> String {
        crate::domain::deployment::tail(&self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn progress(&self, status: &str) {
        let body = json!({"status": status, "attempts": self.attempts, "log": self.log_text()});
        let url = format!("{}/progress", self.base);
        if let Err(e) = exchange(self.client, self.token, "POST", &url, Some(&body)) {
            log::warn!("deployment progress: {e}");
        }
    }

    fn result(&self, status: &str, error: Option<String>) -> Result<(), String> {
        let body = json!({"status": status, "error": error, "attempts": self.attempts, "log": self.log_text()});
        let url = format!("{}/result", self.base);
        let (code, answer) = exchange(self.client, self.token, "POST", &url, Some(&body))?;
        if code != 200 {
            return Err(format!(
                "the server refused the result ({code}): {}",
                answer["message"]
            ));
        }
        Ok(())
    }

    /// Sleeps `total`, telling the server it is alive meanwhile.
    fn wait(&self, total: Duration, status: &str) {
        let end = Instant::now() + total;
        while Instant::now() < end {
            std::thread::sleep(HEARTBEAT.min(end - Instant::now()));
            if Instant::now() < end {
                self.progress(status);
            }
        }
    }
}

impl Deployer {
    pub fn new(args: &AgentArgs) -> Deployer {
        let plugin = Command::new("docker")
            .args(["compose", "version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let compose = if plugin {
            vec!["docker".into(), "compose".into()]
        } else {
            vec!["docker-compose".into()]
        };
        Deployer {
            data_dir: args.data_dir.clone(),
            docker: args.docker.clone(),
            unrestricted: args.deploy_unrestricted,
            compose,
        }
    }

    /// Runs one job to its end and posts the result; `Err` only when the server could not
    /// be told.
    pub fn run_job(
        &self,
        client: &ureq::Agent,
        server: &str,
        token: &str,
        spec: &Value,
    ) -> Result<(), String> {
        let id = spec["id"].as_str().ok_or("a job without id")?;
        let mut job = Job {
            client,
            token,
            base: format!("{server}/api/v1/agent/deployment-jobs/{id}"),
            log: Arc::new(Mutex::new(String::new())),
            attempts: 0,
        };
        let outcome = match spec["action"].as_str() {
            Some("down") => self.down(&job, spec).map(|()| ("healthy", None)),
            _ => self.up(&mut job, spec),
        };
        match outcome {
            Ok((status, error)) => job.result(status, error),
            Err(e) => {
                job.log_line(&e);
                job.result("failed", Some(e))
            }
        }
    }

    fn stack_dir(&self, spec: &Value) -> Result<PathBuf, String> {
        let path = spec["compose_path"]
            .as_str()
            .ok_or("a job without compose_path")?;
        // The server names `stacks/<uuid>/compose.yaml`; nothing may climb out of the data dir.
        if path.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(format!("refused compose path {path}"));
        }
        let file = self.data_dir.join(path);
        Ok(file.parent().unwrap_or(&self.data_dir).to_path_buf())
    }

    /// Writes the file, runs it, checks its health; rolls back when it is not healthy.
    fn up(&self, job: &mut Job, spec: &Value) -> Result<(&'static str, Option<String>), String> {
        let project = spec["project"].as_str().ok_or("a job without project")?;
        let text = spec["compose"].as_str().ok_or("a job without compose")?;
        let doc = compose::load(text).map_err(|e| e.0)?;
        let asks = compose::unrestricted_asks(&doc).map_err(|e| e.0)?;
        if !asks.is_empty() && !self.unrestricted {
            return Err(format!(
                "refused: the compose file asks for {} (start the agent with --deploy-unrestricted to allow it)",
                asks.join("; ")
            ));
        }
        let dir = self.stack_dir(spec)?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let file = dir.join("compose.yaml");
        let last_healthy = dir.join("last-healthy.yaml");
        write_private(&file, text)?;
        job.progress("starting");
        let started = self.compose(job, project, &file, &["up", "-d", "--remove-orphans"]);
        let checked = started.and_then(|()| {
            job.progress("checking");
            self.health(job, spec, project)
        });
        let Err(why) = checked else {
            std::fs::copy(&file, &last_healthy)
                .map_err(|e| format!("{}: {e}", last_healthy.display()))?;
            return Ok(("healthy", None));
        };
        job.log_line(&format!("failed: {why}"));
        if last_healthy.exists() {
            job.log_line("rolling back to the last healthy deployment");
            self.compose(
                job,
                project,
                &last_healthy,
                &["up", "-d", "--remove-orphans"],
            )
            .map_err(|e| format!("{why}; the rollback failed too: {e}"))?;
            std::fs::copy(&last_healthy, &file).map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(("rolled_back", Some(why)))
        } else {
            job.log_line("no healthy deployment to go back to: taking the project down");
            if let Err(e) = self.compose(job, project, &file, &["down", "--remove-orphans"]) {
                job.log_line(&e);
            }
            Ok(("failed", Some(why)))
        }
    }

    /// Takes the project down and forgets its files: nothing is left to roll back to.
    fn down(&self, job: &Job, spec: &Value) -> Result<(), String> {
        let project = spec["project"].as_str().ok_or("a job without project")?;
        let dir = self.stack_dir(spec)?;
        let file = dir.join("compose.yaml");
        if !file.exists() {
            write_private(&file, spec["compose"].as_str().unwrap_or_default())?;
        }
        job.progress("starting");
        self.compose(job, project, &file, &["down", "--remove-orphans"])?;
        for f in ["compose.yaml", "last-healthy.yaml"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        Ok(())
    }

    /// Runs compose on `file`, its output streamed into the job's log.
    fn compose(&self, job: &Job, project: &str, file: &Path, args: &[&str]) -> Result<(), String> {
        let mut command = Command::new(&self.compose[0]);
        command
            .args(&self.compose[1..])
            .args(["-p", project, "-f"])
            .arg(file)
            .args(args)
            .current_dir(file.parent().unwrap_or(Path::new(".")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.docker != "none" {
            command.env("DOCKER_HOST", &self.docker);
        }
        job.log_line(&format!(
            "$ {} -p {project} {}",
            self.compose.join(" "),
            args.join(" ")
        ));
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.compose.join(" ")))?;
        // Marks for the deployment benchmark, which times the server's share around them.
        log::info!("compose {} started for {project}", args[0]);
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|pipe| {
            let log = job.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                }
            })
        })
        .collect();
        // Progress at most every heartbeat: the server is not a log sink.
        let mut told = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {
                    std::thread::sleep(Duration::from_millis(100));
                    if told.elapsed() >= HEARTBEAT {
                        told = Instant::now();
                        job.progress("starting");
                    }
                }
                Err(e) => return Err(e.to_string()),
            }
        };
        for r in readers {
            let _ = r.join();
        }
        log::info!("compose {} exited ({status}) for {project}", args[0]);
        if status.success() {
            Ok(())
        } else {
            Err(format!("compose {} exited with {status}", args[0]))
        }
    }

    /// After the template's wait, up to its retries, one every interval: the health URL
    /// answering 2xx or 3xx, or (without one) every container of the project running.
    fn health(&self, job: &mut Job, spec: &Value, project: &str) -> Result<(), String> {
        let health = &spec["health"];
        let ms = |k: &str| Duration::from_millis(health[k].as_u64().unwrap_or(0));
        let retries = health["retries"].as_i64().unwrap_or(3).max(1);
        let url = health["url"].as_str();
        job.wait(ms("wait_ms"), "checking");
        let client: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut last = String::new();
        for attempt in 1..=retries {
            job.attempts = attempt;
            let check = match url {
                Some(url) => match client.get(url).call() {
                    Ok(r) if r.status().as_u16() < 400 => Ok(()),
                    Ok(r) => Err(format!("{url} answered {}", r.status().as_u16())),
                    Err(e) => Err(format!("{url}: {e}")),
                },
                None => match docker::project_state(&self.docker, project) {
                    Ok((total, running)) if total > 0 && running == total => Ok(()),
                    Ok((total, running)) => Err(format!(
                        "{running} of {total} containers of {project} running"
                    )),
                    Err(e) => Err(e),
                },
            };
            match check {
                Ok(()) => {
                    job.log_line(&format!("health check {attempt}: healthy"));
                    return Ok(());
                }
                Err(e) => {
                    job.log_line(&format!("health check {attempt}: {e}"));
                    last = e;
                }
            }
            job.progress("checking");
            if attempt < retries {
                job.wait(ms("interval_ms"), "checking");
            }
        }
        Err(format!("unhealthy after {retries} checks: {last}"))
    }
}

/// Writes a file only its user reads: a compose file often holds secrets from the environment.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

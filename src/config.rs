//! Command line and configuration: every setting has a flag and an environment variable; the flag wins.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::domain::outbound::Receivers;

pub const ENV_LISTEN: &str = "PORTOLAN_LISTEN";
pub const ENV_DATA_DIR: &str = "PORTOLAN_DATA_DIR";
pub const ENV_ADMIN_API_KEY: &str = "PORTOLAN_ADMIN_API_KEY";
pub const ENV_RATE_LIMIT: &str = "PORTOLAN_RATE_LIMIT";
pub const ENV_BUSY_TIMEOUT_MS: &str = "PORTOLAN_BUSY_TIMEOUT_MS";
pub const ENV_READ_POOL_SIZE: &str = "PORTOLAN_READ_POOL_SIZE";
pub const ENV_HISTORY_DAYS: &str = "PORTOLAN_HISTORY_DAYS";
pub const ENV_DISCOVERY_MAX_ADDRESSES: &str = "PORTOLAN_DISCOVERY_MAX_ADDRESSES";
pub const ENV_AGENT_JOB_TIMEOUT_S: &str = "PORTOLAN_AGENT_JOB_TIMEOUT_S";
pub const ENV_SESSION_IDLE_DAYS: &str = "PORTOLAN_SESSION_IDLE_DAYS";
pub const ENV_SESSION_MAX_DAYS: &str = "PORTOLAN_SESSION_MAX_DAYS";
pub const ENV_COOKIE_SECURE: &str = "PORTOLAN_COOKIE_SECURE";
pub const ENV_AUTH_HEADER: &str = "PORTOLAN_AUTH_HEADER";
pub const ENV_AUTH_GROUPS_HEADER: &str = "PORTOLAN_AUTH_GROUPS_HEADER";
pub const ENV_TRUSTED_PROXIES: &str = "PORTOLAN_TRUSTED_PROXIES";
pub const ENV_ROLE_MAP: &str = "PORTOLAN_ROLE_MAP";
pub const ENV_AUTO_CREATE: &str = "PORTOLAN_OIDC_AUTO_CREATE";
pub const ENV_STALE_AFTER_HOURS: &str = "PORTOLAN_STALE_AFTER_HOURS";
pub const ENV_METRICS_PUBLIC: &str = "PORTOLAN_METRICS_PUBLIC";
pub const ENV_WEBHOOK_TIMEOUT_MS: &str = "PORTOLAN_WEBHOOK_TIMEOUT_MS";
pub const ENV_WEBHOOK_DENY: &str = "PORTOLAN_WEBHOOK_DENY";
pub const ENV_DNS_SERVERS: &str = "PORTOLAN_DNS_SERVERS";
pub const ENV_IMPORT_MAX_MB: &str = "PORTOLAN_IMPORT_MAX_MB";
pub const ENV_REPORT_VERSION: &str = "PORTOLAN_REPORT_VERSION";
pub const ENV_PUBLIC_URL: &str = "PORTOLAN_PUBLIC_URL";
pub const ENV_OIDC_ISSUER: &str = "PORTOLAN_OIDC_ISSUER";
pub const ENV_OIDC_CLIENT_ID: &str = "PORTOLAN_OIDC_CLIENT_ID";
pub const ENV_OIDC_CLIENT_SECRET: &str = "PORTOLAN_OIDC_CLIENT_SECRET";
pub const ENV_OIDC_SCOPES: &str = "PORTOLAN_OIDC_SCOPES";
pub const ENV_OIDC_NAME: &str = "PORTOLAN_OIDC_NAME";
pub const ENV_OIDC_ROLE_CLAIM: &str = "PORTOLAN_OIDC_ROLE_CLAIM";
pub const ENV_PASSWORD_SIGN_IN: &str = "PORTOLAN_PASSWORD_SIGN_IN";

#[derive(Debug, Parser)]
#[command(
    name = "portolan",
    version,
    about = "Portolan: a self-hosted service inventory server"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Raw settings as given; `Config::from_settings` checks them and names the culprit on error.
#[derive(Debug, Args, Clone)]
pub struct Settings {
    /// Address to listen on (use 0.0.0.0:7272 to serve the LAN).
    #[arg(long, env = ENV_LISTEN, default_value = "127.0.0.1:7272", global = true)]
    pub listen: String,
    /// Directory for portolan.db, backups and initial-admin-key (created if missing).
    #[arg(long, env = ENV_DATA_DIR, default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Requests per minute per API key; 0 disables rate limiting.
    #[arg(long, env = ENV_RATE_LIMIT, default_value = "600", global = true)]
    pub rate_limit: String,
    /// How long a write waits for the database lock before answering 503.
    #[arg(long, env = ENV_BUSY_TIMEOUT_MS, default_value = "5000", global = true)]
    pub busy_timeout_ms: String,
    /// Reader threads, each with a read connection of its own (default: number of CPUs, at
    /// least 2).
    #[arg(long, env = ENV_READ_POOL_SIZE, global = true)]
    pub read_pool_size: Option<String>,
    /// Days of history (closed versions and journal entries) to keep; 0 keeps everything.
    #[arg(long, env = ENV_HISTORY_DAYS, default_value = "0", global = true)]
    pub history_days: String,
    /// The most addresses one scan may probe.
    #[arg(long, env = ENV_DISCOVERY_MAX_ADDRESSES, default_value = "4096", global = true)]
    pub discovery_max_addresses: String,
    /// Seconds after which a scan job fails when its agent has not taken it or has gone silent.
    #[arg(long, env = ENV_AGENT_JOB_TIMEOUT_S, default_value = "60", global = true)]
    pub agent_job_timeout_s: String,
    /// Days a person's session lasts unused.
    #[arg(long, env = ENV_SESSION_IDLE_DAYS, default_value = "7", global = true)]
    pub session_idle_days: String,
    /// Days a person's session lasts at most, used or not.
    #[arg(long, env = ENV_SESSION_MAX_DAYS, default_value = "30", global = true)]
    pub session_max_days: String,
    /// The header a trusted proxy names the signed-in person in (e.g. Remote-User).
    #[arg(long, env = ENV_AUTH_HEADER, global = true)]
    pub auth_header: Option<String>,
    /// The header a trusted proxy lists the person's groups in (e.g. Remote-Groups).
    #[arg(long, env = ENV_AUTH_GROUPS_HEADER, global = true)]
    pub auth_groups_header: Option<String>,
    /// The proxies (comma-separated CIDRs) whose auth headers are believed; empty: none.
    #[arg(long, env = ENV_TRUSTED_PROXIES, default_value = "", global = true)]
    pub trusted_proxies: String,
    /// Groups to roles for single sign-on: `lab-admins=Admin,lab=Viewer`.
    #[arg(long, env = ENV_ROLE_MAP, default_value = "", global = true)]
    pub role_map: String,
    /// The OpenID Connect provider's issuer URL (turns single sign-on on).
    #[arg(long, env = ENV_OIDC_ISSUER, global = true)]
    pub oidc_issuer: Option<String>,
    /// This server's client id at the provider.
    #[arg(long, env = ENV_OIDC_CLIENT_ID, global = true)]
    pub oidc_client_id: Option<String>,
    /// This server's client secret at the provider (prefer the environment to the flag).
    #[arg(long, env = ENV_OIDC_CLIENT_SECRET, global = true, hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// The scopes asked for, space- or comma-separated.
    #[arg(long, env = ENV_OIDC_SCOPES, default_value = "openid profile email groups", global = true)]
    pub oidc_scopes: String,
    /// The provider's name on the sign-in button ("Sign in with <name>").
    #[arg(long, env = ENV_OIDC_NAME, default_value = "single sign-on", global = true)]
    pub oidc_name: String,
    /// The claim that lists a person's groups, mapped to a role by PORTOLAN_ROLE_MAP.
    #[arg(long, env = ENV_OIDC_ROLE_CLAIM, default_value = "groups", global = true)]
    pub oidc_role_claim: String,
    /// `false`: people sign in only by single sign-on (the password form is hidden and refused).
    #[arg(long, env = ENV_PASSWORD_SIGN_IN, default_value = "true", global = true)]
    pub password_sign_in: String,
    /// Make the account of a person single sign-on names for the first time.
    #[arg(long, env = ENV_AUTO_CREATE, default_value = "true", global = true)]
    pub auto_create: String,
    /// Mark the session cookie `Secure` even on plain HTTP (a TLS proxy in front).
    #[arg(long, env = ENV_COOKIE_SECURE, global = true)]
    pub cookie_secure: bool,
    /// Hours after which something discovery found and no longer sees is marked stale.
    #[arg(long, env = ENV_STALE_AFTER_HOURS, default_value = "168", global = true)]
    pub stale_after_hours: String,
    /// How long a webhook receiver has to answer before the attempt counts as failed.
    #[arg(long, env = ENV_WEBHOOK_TIMEOUT_MS, default_value = "10000", global = true)]
    pub webhook_timeout_ms: String,
    /// More address blocks no webhook receiver may be in (comma-separated CIDRs), beyond the
    /// link-local, unspecified and multicast ones that are always refused.
    #[arg(long, env = ENV_WEBHOOK_DENY, default_value = "", global = true)]
    pub webhook_deny: String,
    /// DNS servers for the reverse names of scanned hosts (`127.0.0.1:5353,192.168.1.1`);
    /// empty: the system's resolver.
    #[arg(long, env = ENV_DNS_SERVERS, default_value = "", global = true)]
    pub dns_servers: String,
    /// The largest document `POST /api/v1/import` takes, in MiB.
    #[arg(long, env = ENV_IMPORT_MAX_MB, default_value = "512", global = true)]
    pub import_max_mb: String,
    /// Compatibility switch: the server version to report to clients that only accept the
    /// peer's (e.g. 0.17.3); unset reports Portolan's own.
    #[arg(long, env = ENV_REPORT_VERSION, global = true)]
    pub report_version: Option<String>,
    /// The address users reach the server at, when it differs from the one it listens on
    /// (behind a proxy); shown to clients in /api/config.
    #[arg(long, env = ENV_PUBLIC_URL, global = true)]
    pub public_url: Option<String>,
    /// Serve /metrics without a key (for a Prometheus that scrapes without one).
    #[arg(long, env = ENV_METRICS_PUBLIC, global = true)]
    pub metrics_public: bool,
    /// synchronous=FULL instead of NORMAL: survives power loss, not only process crashes.
    #[arg(long, global = true)]
    pub durable: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage API keys directly in the database (works while the server runs).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage people's accounts directly in the database (works while the server runs).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Apply pending migrations and exit.
    Migrate,
    /// Write a consistent, integrity-checked copy of the live database to PATH.
    Backup { path: PathBuf },
    /// Write the whole inventory as one JSON document (no API keys, no webhook secrets).
    Export {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Add closed versions and the journal.
        #[arg(long)]
        with_history: bool,
    },
    /// Report this host (its programs, containers and neighbours) to a Portolan server.
    Agent(AgentArgs),
    /// Load an exported document: all of it in one transaction, or nothing and the first error.
    Import {
        file: PathBuf,
        /// Check everything and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Make a user; the password is the first line of standard input.
    Add {
        username: String,
        #[arg(long, default_value = "Viewer")]
        role: String,
        /// Limit the user to these networks (repeat for several).
        #[arg(long = "network")]
        networks: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its plaintext once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Viewer")]
        permissions: String,
        /// Limit the key to these networks (repeat for several).
        #[arg(long = "network")]
        networks: Vec<String>,
        /// RFC 3339 expiry time.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List keys (never their plaintext).
    List,
    /// Disable a key at once.
    Revoke { id: String },
}

/// Checked configuration, passed down from `main`; tests build it directly.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub admin_api_key: Option<String>,
    pub rate_limit_per_minute: u32,
    pub busy_timeout_ms: u32,
    pub read_pool_size: u32,
    pub durable: bool,
    /// 0: keep every version and journal entry.
    pub history_days: u32,
    pub discovery_max_addresses: u32,
    pub agent_job_timeout_s: u32,
    pub session_idle_days: u32,
    pub session_max_days: u32,
    pub cookie_secure: bool,
    /// `(user header, groups header)` names, when a proxy signs people in.
    pub auth_header: Option<(String, Option<String>)>,
    pub trusted_proxies: Vec<crate::domain::net::Cidr>,
    pub role_map: crate::domain::account::RoleMap,
    pub auto_create: bool,
    /// Single sign-on by OpenID Connect, when an issuer is set.
    pub oidc: Option<OidcConfig>,
    /// Whether people may sign in with a password.
    pub password_sign_in: bool,
    pub stale_after_hours: u32,
    pub metrics_public: bool,
    pub webhook_timeout_ms: u32,
    /// Where webhooks may be sent.
    pub webhook_receivers: Receivers,
    /// Empty: the system's resolver.
    pub dns_servers: Vec<std::net::SocketAddr>,
    pub import_max_mb: u32,
    pub report_version: Option<String>,
    pub public_url: Option<String>,
}

/// The OpenID Connect provider and how its answers become people and roles.
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// The button's label: "Sign in with <name>".
    pub name: String,
    pub role_claim: String,
}

impl std::fmt::Debug for OidcConfig {
    // The client secret stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("name", &self.name)
            .field("role_claim", &self.role_claim)
            .finish_non_exhaustive()
    }
}

fn parse_bool(var: &str, flag: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(bad(var, flag, other, "true or false")),
    }
}

fn oidc_config(s: &Settings) -> Result<Option<OidcConfig>, ConfigError> {
    let set = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let Some(issuer) = set(&s.oidc_issuer) else {
        return Ok(None);
    };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err(bad(
            ENV_OIDC_ISSUER,
            "oidc-issuer",
            &issuer,
            "expected an http(s) URL",
        ));
    }
    let client_id = set(&s.oidc_client_id).ok_or_else(|| {
        ConfigError(format!(
            "{ENV_OIDC_ISSUER} is set: {ENV_OIDC_CLIENT_ID} (--oidc-client-id) must be set too"
        ))
    })?;
    let scopes: Vec<String> = s
        .oidc_scopes
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let role_claim = s.oidc_role_claim.trim().to_string();
    if role_claim.is_empty() {
        return Err(bad(
            ENV_OIDC_ROLE_CLAIM,
            "oidc-role-claim",
            "",
            "a claim name",
        ));
    }
    Ok(Some(OidcConfig {
        issuer,
        client_id,
        client_secret: set(&s.oidc_client_secret),
        scopes,
        name: s.oidc_name.trim().chars().take(60).collect(),
        role_claim,
    }))
}

/// A setting that cannot be used; `main` prints it and exits with code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

fn bad(var: &str, flag: &str, value: &str, why: &str) -> ConfigError {
    ConfigError(format!(
        "invalid value \"{value}\" for {var} (--{flag}): {why}"
    ))
}

fn parse_u32(var: &str, flag: &str, value: &str, min: u32) -> Result<u32, ConfigError> {
    let n: u32 = value
        .trim()
        .parse()
        .map_err(|_| bad(var, flag, value, "expected a whole number"))?;
    if n < min {
        return Err(bad(var, flag, value, &format!("must be at least {min}")));
    }
    Ok(n)
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Config, ConfigError> {
        let listen = s.listen.trim().parse().map_err(|_| {
            bad(
                ENV_LISTEN,
                "listen",
                &s.listen,
                "expected IP:PORT, e.g. 127.0.0.1:7272",
            )
        })?;
        let default_pool = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2)
            .max(2);
        let read_pool_size = match &s.read_pool_size {
            Some(v) => parse_u32(ENV_READ_POOL_SIZE, "read-pool-size", v, 1)?,
            None => default_pool,
        };
        let admin_api_key = std::env::var(ENV_ADMIN_API_KEY)
            .ok()
            .filter(|k| !k.is_empty());
        if let Some(key) = &admin_api_key {
            if !crate::domain::token::is_well_formed(key) {
                return Err(ConfigError(format!(
                    "invalid value for {ENV_ADMIN_API_KEY}: expected scp_u_ followed by 32 letters or digits (value not shown)"
                )));
            }
        }
        Ok(Config {
            listen,
            data_dir: s.data_dir.clone(),
            admin_api_key,
            rate_limit_per_minute: parse_u32(ENV_RATE_LIMIT, "rate-limit", &s.rate_limit, 0)?,
            busy_timeout_ms: parse_u32(
                ENV_BUSY_TIMEOUT_MS,
                "busy-timeout-ms",
                &s.busy_timeout_ms,
                1,
            )?,
            read_pool_size,
            durable: s.durable,
            history_days: parse_u32(ENV_HISTORY_DAYS, "history-days", &s.history_days, 0)?,
            discovery_max_addresses: parse_u32(
                ENV_DISCOVERY_MAX_ADDRESSES,
                "discovery-max-addresses",
                &s.discovery_max_addresses,
                1,
            )?,
            agent_job_timeout_s: parse_u32(
                ENV_AGENT_JOB_TIMEOUT_S,
                "agent-job-timeout-s",
                &s.agent_job_timeout_s,
                1,
            )?,
            session_idle_days: parse_u32(
                ENV_SESSION_IDLE_DAYS,
                "session-idle-days",
                &s.session_idle_days,
                1,
            )?,
            session_max_days: parse_u32(
                ENV_SESSION_MAX_DAYS,
                "session-max-days",
                &s.session_max_days,
                1,
            )?,
            cookie_secure: s.cookie_secure,
            auth_header: s
                .auth_header
                .as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(|h| {
                    let groups = s
                        .auth_groups_header
                        .as_deref()
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string);
                    (h.to_string(), groups)
                }),
            trusted_proxies: s
                .trusted_proxies
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    crate::domain::net::Cidr::parse(c)
                        .map_err(|e| bad(ENV_TRUSTED_PROXIES, "trusted-proxies", c, &e.0))
                })
                .collect::<Result<Vec<_>, _>>()?,
            role_map: crate::domain::account::RoleMap::parse(&s.role_map)
                .map_err(|e| bad(ENV_ROLE_MAP, "role-map", &s.role_map, &e))?,
            auto_create: parse_bool(ENV_AUTO_CREATE, "auto-create", &s.auto_create)?,
            oidc: oidc_config(s)?,
            password_sign_in: parse_bool(
                ENV_PASSWORD_SIGN_IN,
                "password-sign-in",
                &s.password_sign_in,
            )?,
            stale_after_hours: parse_u32(
                ENV_STALE_AFTER_HOURS,
                "stale-after-hours",
                &s.stale_after_hours,
                1,
            )?,
            metrics_public: s.metrics_public,
            webhook_timeout_ms: parse_u32(
                ENV_WEBHOOK_TIMEOUT_MS,
                "webhook-timeout-ms",
                &s.webhook_timeout_ms,
                100,
            )?,
            webhook_receivers: Receivers::with_extra(
                Receivers::parse_extra(&s.webhook_deny)
                    .map_err(|e| bad(ENV_WEBHOOK_DENY, "webhook-deny", &s.webhook_deny, &e.0))?,
            ),
            dns_servers: crate::domain::net::parse_dns_servers(&s.dns_servers)
                .map_err(|e| bad(ENV_DNS_SERVERS, "dns-servers", &s.dns_servers, &e))?,
            import_max_mb: parse_u32(ENV_IMPORT_MAX_MB, "import-max-mb", &s.import_max_mb, 1)?,
            report_version: match s.report_version.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v)
                    if v.len() <= 32
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')) =>
                {
                    Some(v.to_string())
                }
                Some(v) => {
                    return Err(bad(
                        ENV_REPORT_VERSION,
                        "report-version",
                        v,
                        "expected a version such as 0.17.3",
                    ))
                }
            },
            public_url: s.public_url.clone().filter(|u| !u.trim().is_empty()),
        })
    }

    /// A configuration for tests and tools: ephemeral port, given data directory, no rate limit
    /// (tests that exercise it turn it on), defaults otherwise.
    pub fn for_data_dir(data_dir: PathBuf) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("valid address"),
            data_dir,
            admin_api_key: None,
            rate_limit_per_minute: 0,
            busy_timeout_ms: 5000,
            read_pool_size: 2,
            durable: false,
            history_days: 0,
            discovery_max_addresses: 4096,
            agent_job_timeout_s: 60,
            session_idle_days: 7,
            session_max_days: 30,
            cookie_secure: false,
            auth_header: None,
            trusted_proxies: Vec::new(),
            role_map: Default::default(),
            auto_create: true,
            oidc: None,
            password_sign_in: true,
            stale_after_hours: 168,
            metrics_public: false,
            webhook_timeout_ms: 10_000,
            webhook_receivers: Receivers::default(),
            dns_servers: Vec::new(),
            import_max_mb: 512,
            report_version: None,
            public_url: None,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("portolan.db")
    }
}

/// `portolan agent`: what it reports to which server, and how often.
#[derive(Debug, Args, Clone)]
pub struct AgentArgs {
    /// The server's URL, e.g. http://portolan.lan:7272.
    #[arg(long, env = "PORTOLAN_AGENT_SERVER")]
    pub server: String,
    /// The agent's token (scp_a_...), from the Agents page or POST /api/v1/agents.
    #[arg(long, env = "PORTOLAN_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Seconds between reports.
    #[arg(long, env = "PORTOLAN_AGENT_INTERVAL", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub interval: u64,
    /// The container engine's API socket, or `none`.
    #[arg(
        long,
        env = "PORTOLAN_AGENT_DOCKER",
        default_value = "unix:///var/run/docker.sock"
    )]
    pub docker: String,
    /// Also report loopback interfaces and sockets bound to loopback only.
    #[arg(long, env = "PORTOLAN_AGENT_INCLUDE_LOOPBACK")]
    pub include_loopback: bool,
    /// Use this machine id instead of /etc/machine-id (cloned VMs, tests).
    #[arg(long, env = "PORTOLAN_AGENT_MACHINE_ID")]
    pub machine_id: Option<String>,
    /// Also run scan jobs of this segment for the server (`agent_id` on a discovery).
    #[arg(long, env = "PORTOLAN_AGENT_SCAN")]
    pub scan: bool,
    /// Also run deployments of service templates for the server, with the engine's compose.
    #[arg(long, env = "PORTOLAN_AGENT_DEPLOY")]
    pub deploy: bool,
    /// Let deployments run compose files that are root on the host: `privileged: true`,
    /// `network_mode: host`, `pid: host`, or a mount of the engine's socket.
    #[arg(long, env = "PORTOLAN_AGENT_DEPLOY_UNRESTRICTED")]
    pub deploy_unrestricted: bool,
    /// Where deployments keep their compose files (`stacks/<template id>/compose.yaml`).
    #[arg(
        long,
        env = "PORTOLAN_AGENT_DATA_DIR",
        default_value = "/var/lib/portolan-agent"
    )]
    pub data_dir: std::path::PathBuf,
    /// Send one report and exit (0 when the server took it).
    #[arg(long, env = "PORTOLAN_AGENT_ONCE")]
    pub once: bool,
}

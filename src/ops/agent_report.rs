//! An agent's report reconciled into its network, through the same use cases, binding rules and
//! journal as discovery. The agent's view of its own host is authoritative: what it made there
//! and no longer reports is closed. What a person made or edited is never renamed, retyped,
//! moved or closed. A report that changes nothing writes nothing but the agent's `last_seen_at`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use rusqlite::Transaction;
use serde_json::{json, Value};

use super::discovery::{is_refusal, Context};
use super::hosts::HostInput;
use super::ip_addresses::IpAddressInput;
use super::journal::Writer;
use super::ports::PortInput;
use super::services::ServiceInput;
use crate::db::agents::{self as records, Agent, Capabilities, Heard};
use crate::db::discoveries::{self as found, Discovery, Summary};
use crate::db::{self, changes};
use crate::domain::agent_report::{programs, Program, Report, Socket};
use crate::domain::bindings::{Target, Wanted};
use crate::domain::discovery::{Confidence, Progress, UNCLAIMED};
use crate::domain::net::MacAddress;
use crate::domain::port::PortNumber;
use crate::domain::text::{Hostname, Name};
use crate::error::{ApiError, ApiResult};

/// What the agent says of itself besides the report (request headers).
#[derive(Clone)]
pub struct Announced {
    pub capabilities: Capabilities,
    pub interval_s: i64,
}

/// The answer to a report.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReportOutcome {
    #[schema(format = Uuid)]
    pub host_id: String,
    pub changed: bool,
    /// The discovery that records the changes; `null` when nothing changed.
    #[schema(format = Uuid)]
    pub discovery_id: Option<String>,
    pub summary: Summary,
}

/// Where a service came from, as its `source.details` records it.
fn agent_source(program: &Program, agent: &Agent) -> Value {
    let mut details = json!({
        "confidence": program.confidence, "reason": program.reason,
        "agent_id": agent.id, "agent_key": program.key,
    });
    if let Some(c) = &program.container {
        details["container"] = c.clone();
    }
    if let Some(p) = &program.process {
        details["process"] = p.clone();
    }
    json!({"type": "Discovery", "details": details})
}

/// Reconciles `report` from `agent` in the caller's transaction.
pub fn reconcile(
    tx: &Transaction,
    who: &mut Writer,
    agent: &Agent,
    report: &Report,
    announced: &Announced,
) -> ApiResult<ReportOutcome> {
    let machine = report.host.machine_id.trim();
    if let Some(other) = records::machine_taken_by(tx, &agent.network_id, machine, &agent.id)? {
        return Err(ApiError::conflict(format!(
            "Agent \"{other}\" already reports machine {machine} in this network"
        ))
        .with_field("host.machine_id")
        .with_hint("Give each agent its own machine (--machine-id), or delete the other agent"));
    }
    let containers_known = announced.capabilities.docker || !report.containers.is_empty();
    let digest = report.digest(containers_known);
    // The same report again, with its host untouched since: nothing to reconcile.
    if let (Some((last, seq)), Some(host_id)) =
        (records::last_digest(tx, &agent.id)?, agent.host_id.clone())
    {
        if last == digest && records::host_seq(tx, &host_id)? == seq {
            return unchanged(tx, who, agent, report, announced, host_id);
        }
    }
    let discovery_id = crate::domain::new_id();
    who.discovery = Some(discovery_id.clone());
    let before = changes::last_seq(tx)?;
    tx.execute_batch("SAVEPOINT report")?;
    // Containers an agent could not read (no engine answered) are kept, not closed.
    let result = apply(tx, who, agent, report, &discovery_id, containers_known);
    let (host_id, summary) = match result {
        Ok(done) => done,
        Err(e) => {
            tx.execute_batch("ROLLBACK TO report; RELEASE report")?;
            return Err(e);
        }
    };
    let changed = changes::last_seq(tx)? != before;
    if changed {
        tx.execute_batch("RELEASE report")?;
    } else {
        // Only `last_seen_at` moves: no discovery row, no version, no host touched.
        tx.execute_batch("ROLLBACK TO report; RELEASE report")?;
    }
    let discovery_id = changed.then_some(discovery_id);
    heard(
        tx,
        who,
        agent,
        report,
        announced,
        &host_id,
        discovery_id.as_deref(),
    )?;
    records::set_digest(tx, &agent.id, &digest, records::host_seq(tx, &host_id)?)?;
    Ok(ReportOutcome {
        host_id,
        changed,
        discovery_id,
        summary,
    })
}

/// A report equal to the last one, its host untouched since: only the agent hears of it.
fn unchanged(
    tx: &Transaction,
    who: &Writer,
    agent: &Agent,
    report: &Report,
    announced: &Announced,
    host_id: String,
) -> ApiResult<ReportOutcome> {
    heard(tx, who, agent, report, announced, &host_id, None)?;
    Ok(ReportOutcome {
        host_id,
        changed: false,
        discovery_id: None,
        summary: Summary::default(),
    })
}

/// The agent's own record of the report: when, what it counted, what it runs.
fn heard(
    tx: &Transaction,
    who: &Writer,
    agent: &Agent,
    report: &Report,
    announced: &Announced,
    host_id: &str,
    discovery_id: Option<&str>,
) -> ApiResult<()> {
    let last_report = json!({
        "at": who.now, "discovery_id": discovery_id, "listeners": report.listeners.len(),
        "containers": report.containers.len(), "neighbours": report.neighbours.len(),
        "changed": discovery_id.is_some(), "os": report.host.os, "kernel": report.host.kernel,
    });
    records::heard(
        tx,
        &Heard {
            id: &agent.id,
            host_id,
            machine_id: report.host.machine_id.trim(),
            version: report.host.agent_version.as_deref().unwrap_or(""),
            capabilities: &announced.capabilities,
            interval_s: announced.interval_s,
            at: &who.now,
            last_report: &last_report,
        },
    )
}

fn apply(
    tx: &Transaction,
    who: &Writer,
    agent: &Agent,
    report: &Report,
    discovery_id: &str,
    containers_known: bool,
) -> ApiResult<(String, Summary)> {
    let ctx = Context::load(tx, &agent.network_id)?;
    let mut summary = Summary::default();
    found::insert(
        tx,
        &Discovery {
            id: discovery_id.to_string(),
            network_id: agent.network_id.clone(),
            source: "agent".into(),
            mode: "apply".into(),
            status: "completed".into(),
            targets: Vec::new(),
            ports: Vec::new(),
            options: json!({"agent_id": agent.id}),
            progress: Progress::default(),
            summary: None,
            plan: None,
            applied_at: Some(who.now.clone()),
            error: None,
            schedule_id: None,
            created_by: serde_json::to_value(&who.actor).unwrap_or_default(),
            created_at: who.now.clone(),
            started_at: Some(who.now.clone()),
            finished_at: Some(who.now.clone()),
            tags: Vec::new(),
            agent_id: Some(agent.id.clone()),
        },
        None,
    )?;
    let host_id = place_host(tx, who, agent, report, &mut summary)?;
    let addresses = own_addresses(tx, who, &ctx, &host_id, report, &mut summary)?;
    let catalog = &ctx.catalog;
    let mut reported_keys = HashSet::new();
    let mut reported_ports = HashSet::new();
    for program in programs(report, catalog) {
        reported_keys.insert(program.key.clone());
        for s in &program.sockets {
            reported_ports.insert((s.port, s.protocol.protocol().as_str()));
        }
        // A program a rule refuses (a name or port a person holds, say) is skipped alone.
        let before = summary.clone();
        tx.execute_batch("SAVEPOINT program")?;
        match service_of(tx, who, agent, &host_id, &addresses, &program, &mut summary) {
            Ok(()) => tx.execute_batch("RELEASE program")?,
            Err(e) if is_refusal(&e) => {
                tx.execute_batch("ROLLBACK TO program; RELEASE program")?;
                log::info!(
                    "agent {}: {} skipped: {}",
                    agent.name,
                    program.key,
                    e.message
                );
                summary = before;
                summary.skipped += 1;
            }
            Err(e) => return Err(e),
        }
    }
    if !containers_known {
        let known = db::agents::agent_services(tx, &host_id)?;
        reported_keys.extend(
            known
                .into_iter()
                .filter_map(|(_, key)| key.starts_with("container:").then_some(key)),
        );
    }
    close_vanished(
        tx,
        who,
        &host_id,
        &reported_keys,
        &reported_ports,
        &mut summary,
    )?;
    neighbours(tx, who, &ctx, &host_id, report, &mut summary)?;
    db::discoveries::set_summary(tx, discovery_id, &summary)?;
    Ok((host_id, summary))
}

/// Rule 1: the host of the machine, else (among hosts no machine claims) the host of a MAC,
/// of an address, of the hostname; else a new host named by the hostname.
fn place_host(
    tx: &Transaction,
    who: &Writer,
    agent: &Agent,
    report: &Report,
    summary: &mut Summary,
) -> ApiResult<String> {
    let network = &agent.network_id;
    let machine = report.host.machine_id.trim();
    let hostname = report.host.hostname.trim();
    let unclaimed = |id: String| -> ApiResult<Option<String>> {
        Ok((!records::host_has_machine(tx, &id)?).then_some(id))
    };
    let mut host_id = records::host_of_machine(tx, network, machine)?;
    if host_id.is_none() {
        for mac in report.macs() {
            if let Some(h) = found::host_with_mac(tx, network, &mac.to_string())? {
                host_id = unclaimed(h)?;
                if host_id.is_some() {
                    break;
                }
            }
        }
    }
    if host_id.is_none() {
        for a in report.own_addresses() {
            if let Some((_, h)) = found::address_in(tx, network, &a.ip.to_string())? {
                host_id = unclaimed(h)?;
                if host_id.is_some() {
                    break;
                }
            }
        }
    }
    if host_id.is_none() {
        if let Some(h) = found::host_named(tx, network, hostname)? {
            host_id = unclaimed(h)?;
        }
    }
    let host_id = match host_id {
        Some(id) => {
            adopt_hostname(tx, who, &id, hostname)?;
            summary.hosts_seen += 1;
            id
        }
        None => {
            let name = Name::parse(hostname, 100).map_err(|e| e.at("host.hostname"))?;
            summary.hosts_created += 1;
            new_host(
                tx,
                who,
                network,
                name,
                Hostname::parse(hostname).ok(),
                "agent report",
            )?
        }
    };
    records::set_host_machine(tx, &host_id, network, machine)?;
    Ok(host_id)
}

/// A new host of the network, as discovery makes them; its id.
fn new_host(
    tx: &Transaction,
    who: &Writer,
    network_id: &str,
    name: Name,
    hostname: Option<Hostname>,
    reason: &str,
) -> ApiResult<String> {
    let host = super::hosts::create(
        tx,
        who,
        HostInput {
            network_id: Some(network_id.to_string()),
            name,
            hostname,
            description: None,
            hidden: false,
            virtualization: None,
            tags: Vec::new(),
            expected_updated_at: None,
            children: Default::default(),
            source: Some(
                json!({"type": "Discovery", "details": {"confidence": "High", "reason": reason}}),
            ),
        },
    )?;
    Ok(host.id)
}

/// A host that discovery named takes the reported hostname; a person's name stays.
fn adopt_hostname(tx: &Transaction, who: &Writer, host_id: &str, hostname: &str) -> ApiResult<()> {
    let host = db::hosts::get(tx, host_id, db::hosts::Embed::Nothing)?;
    let discovered = host.source.get("type").and_then(Value::as_str) == Some("Discovery");
    let wanted_hostname = Hostname::parse(hostname).ok().map(Hostname::into_inner);
    let same = host.name == hostname && host.hostname == wanted_hostname;
    if same || !discovered || changes::edited_by_person(tx, host_id)? {
        return Ok(());
    }
    super::hosts::update(
        tx,
        who,
        host_id,
        HostInput {
            network_id: None,
            name: Name::parse(hostname, 100).map_err(|e| e.at("host.hostname"))?,
            hostname: wanted_hostname.and_then(|h| Hostname::parse(&h).ok()),
            description: host.description,
            hidden: host.hidden,
            virtualization: host.virtualization,
            tags: host.tags,
            expected_updated_at: None,
            children: Default::default(),
            source: None,
        },
    )?;
    Ok(())
}

/// Rule 2: the interfaces' addresses become the host's, with their MACs. Returns the id of
/// each of the host's addresses.
fn own_addresses(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    host_id: &str,
    report: &Report,
    summary: &mut Summary,
) -> ApiResult<HashMap<IpAddr, String>> {
    let mut ids = HashMap::new();
    for a in report.own_addresses() {
        if let Some(id) = address_on_host(tx, who, ctx, host_id, a.ip, a.mac, summary)? {
            ids.insert(a.ip, id);
        }
    }
    Ok(ids)
}

/// The host's address `ip`, made when missing; `None` when another host has it.
fn address_on_host(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    host_id: &str,
    ip: IpAddr,
    mac: Option<MacAddress>,
    summary: &mut Summary,
) -> ApiResult<Option<String>> {
    match found::address_in(tx, &ctx.network_id, &ip.to_string())? {
        Some((id, owner)) if owner == host_id => Ok(Some(id)),
        Some(_) => {
            summary.skipped += 1;
            Ok(None)
        }
        None => {
            let created = super::ip_addresses::create(
                tx,
                who,
                IpAddressInput {
                    host_id: host_id.to_string(),
                    network_id: None,
                    subnet_id: found::narrowest(&ctx.subnets, ip).map(str::to_string),
                    ip_address: ip,
                    mac_address: mac,
                    name: None,
                    position: None,
                },
            )?;
            summary.ip_addresses_created += 1;
            Ok(Some(created.id))
        }
    }
}

/// The port `socket` names on the host, made when missing.
fn port_on_host(
    tx: &Transaction,
    who: &Writer,
    host_id: &str,
    socket: &Socket,
    summary: &mut Summary,
) -> ApiResult<String> {
    let protocol = socket.protocol.protocol();
    if let Some(id) = found::port_of(tx, host_id, socket.port, protocol.as_str())? {
        return Ok(id);
    }
    let port = super::ports::create(
        tx,
        who,
        PortInput {
            host_id: host_id.to_string(),
            network_id: None,
            number: PortNumber::parse(i64::from(socket.port)).map_err(|e| e.at("port"))?,
            protocol,
        },
    )?;
    summary.ports_created += 1;
    Ok(port.id)
}

/// Rules 3 to 5: the program's service (found by its key, else a scan's guess on one of its
/// ports that no person touched, else made), named, typed and bound as reported.
fn service_of(
    tx: &Transaction,
    who: &Writer,
    agent: &Agent,
    host_id: &str,
    addresses: &HashMap<IpAddr, String>,
    program: &Program,
    summary: &mut Summary,
) -> ApiResult<()> {
    if adopt_deployed(tx, agent, host_id, program)? {
        return Ok(());
    }
    // Each socket as a target, unless a service this agent may not take holds it.
    let mut targets = Vec::new();
    // A scan's guess on one of the program's ports: the agent's better evidence corrects it.
    let mut guessed: Option<String> = None;
    for socket in &program.sockets {
        let ip = match socket.ip {
            None => None,
            Some(ip) => match addresses.get(&ip) {
                Some(id) => Some(id.clone()),
                // A socket on an address the host does not report (a container's bridge, say).
                None => continue,
            },
        };
        let port = port_on_host(tx, who, host_id, socket, summary)?;
        let mut free = true;
        for (binding_id, service_id) in db::agents::holders_of_port(tx, &port)? {
            let holder = held_by(tx, &service_id)?;
            match holder {
                Holder::Agent(key) if key == program.key => {}
                Holder::Unclaimed => {
                    super::bindings::delete(tx, who, &binding_id)?;
                    summary.bindings_closed += 1;
                }
                Holder::Guess if guessed.is_none() => guessed = Some(service_id),
                Holder::Guess => {}
                Holder::Agent(_) | Holder::Person => {
                    summary.bindings_seen += 1;
                    free = false;
                }
            }
        }
        if free {
            targets.push(Target::Port { port, ip });
        }
    }
    let existing = db::agents::service_with_key(tx, host_id, &program.key)?.or(guessed);
    if existing.is_none()
        && targets.is_empty()
        && !program.sockets.is_empty()
        && program.container.is_none()
    {
        // Every socket of the program is bound to a service a person keeps: that is its service.
        return Ok(());
    }
    let taken = db::services::names_on_host(tx, host_id)?;
    let source = agent_source(program, agent);
    let wanted = |targets: Vec<Target>| -> Vec<Wanted> {
        targets
            .into_iter()
            .map(|target| Wanted {
                field: String::new(),
                id: None,
                target,
            })
            .collect()
    };
    match existing {
        None => {
            let name = distinct(&program.name, |n| taken.contains(n));
            let service = super::services::create(
                tx,
                who,
                ServiceInput {
                    host_id: host_id.to_string(),
                    network_id: None,
                    name: Name::parse(&name, 100).map_err(|e| e.at("name"))?,
                    service_definition: program.service_type.clone(),
                    position: None,
                    tags: Vec::new(),
                    virtualization: None,
                    bindings: wanted(targets),
                    expected_updated_at: None,
                    source: Some(source),
                },
            )?;
            summary.services_created += 1;
            summary.bindings_created += service.bindings.len() as u64;
        }
        Some(id) => {
            let stored = db::services::get(tx, &id)?;
            let name = if stored.name == program.name {
                stored.name.clone()
            } else {
                distinct(&program.name, |n| n != stored.name && taken.contains(n))
            };
            let bindings = if program.keeps_bindings {
                super::bindings::kept(tx, &id)?
            } else {
                wanted(targets)
            };
            let before = stored.bindings.len() as u64;
            let updated = super::services::update(
                tx,
                who,
                &id,
                ServiceInput {
                    host_id: host_id.to_string(),
                    network_id: None,
                    name: Name::parse(&name, 100).map_err(|e| e.at("name"))?,
                    service_definition: program.service_type.clone(),
                    position: None,
                    tags: stored.tags.clone(),
                    virtualization: stored.virtualization.clone(),
                    bindings,
                    expected_updated_at: None,
                    source: Some(source),
                },
            )?;
            let kept: HashSet<&str> = stored.bindings.iter().map(|b| b.id.as_str()).collect();
            let created = updated
                .bindings
                .iter()
                .filter(|b| !kept.contains(b.id.as_str()))
                .count() as u64;
            summary.bindings_created += created;
            summary.bindings_closed +=
                (before + created).saturating_sub(updated.bindings.len() as u64);
        }
    }
    Ok(())
}

/// A container a deployment started is its deployed service's: the report adds what runs
/// (the container's identity) to it, and leaves its name, type and bindings to the deployment.
fn adopt_deployed(
    tx: &Transaction,
    agent: &Agent,
    host_id: &str,
    program: &Program,
) -> ApiResult<bool> {
    let Some(container) = &program.container else {
        return Ok(false);
    };
    let Some((id, mut source)) = db::deployments::service_of_container(tx, host_id, &program.key)?
    else {
        return Ok(false);
    };
    let mut details = source["details"].clone();
    details["container"] = container.clone();
    details["agent_id"] = json!(agent.id);
    if source["details"] != details {
        source["details"] = details;
        db::deployments::set_service_source(tx, &id, &source)?;
    }
    Ok(true)
}

/// Who holds a binding, as the agent's rules see it.
enum Holder {
    /// A service an agent made (or took over), by its program key.
    Agent(String),
    /// A scan's Low or Medium guess that no person edited.
    Guess,
    /// The host's unclaimed-ports service, which gives ports up to any claimant.
    Unclaimed,
    /// Made or edited by a person.
    Person,
}

fn held_by(tx: &Transaction, service_id: &str) -> ApiResult<Holder> {
    let (definition, source) = db::agents::service_origin(tx, service_id)?;
    let details = source.get("details");
    if let Some(key) = details
        .and_then(|d| d.get("agent_key"))
        .and_then(Value::as_str)
    {
        return Ok(Holder::Agent(key.to_string()));
    }
    let discovered = source.get("type").and_then(Value::as_str) == Some("Discovery");
    if !discovered || changes::edited_by_person(tx, service_id)? {
        return Ok(Holder::Person);
    }
    if definition == UNCLAIMED {
        return Ok(Holder::Unclaimed);
    }
    let confidence = details
        .and_then(|d| d.get("confidence"))
        .and_then(Value::as_str);
    let weak = [Confidence::Low, Confidence::Medium].iter().any(|c| {
        serde_json::to_value(c)
            .ok()
            .as_ref()
            .and_then(Value::as_str)
            == confidence
    });
    Ok(if weak { Holder::Guess } else { Holder::Person })
}

/// `name`, else `name 2`, `name 3`, ... : services of one host never share a name.
fn distinct(name: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_string();
    }
    (2..)
        .map(|i| format!("{name} {i}"))
        .find(|n| !taken(n))
        .expect("some number is free")
}

/// Rule 6: what an agent made on its host and no longer reports is closed: its services (a
/// stopped container is still reported), then its ports that nothing binds any more.
fn close_vanished(
    tx: &Transaction,
    who: &Writer,
    host_id: &str,
    keys: &HashSet<String>,
    ports: &HashSet<(u16, &str)>,
    summary: &mut Summary,
) -> ApiResult<()> {
    for (service_id, key) in db::agents::agent_services(tx, host_id)? {
        if !keys.contains(&key) {
            let service = db::services::get(tx, &service_id)?;
            summary.bindings_closed += service.bindings.len() as u64;
            super::services::delete(tx, who, &service_id)?;
        }
    }
    let made: BTreeSet<(String, u16, String)> = db::agents::agent_ports(tx, host_id)?;
    for (port_id, number, protocol) in made {
        if !ports.contains(&(number, protocol.as_str()))
            && db::ports::binding_ids(tx, &port_id)?.is_empty()
        {
            super::ports::delete(tx, who, &port_id, false)?;
        }
    }
    Ok(())
}

/// Rule 7: neighbours become hosts of the network, found by MAC, else by address.
fn neighbours(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    own_host: &str,
    report: &Report,
    summary: &mut Summary,
) -> ApiResult<()> {
    for n in &report.neighbours {
        let (Ok(ip), Ok(mac)) = (
            crate::domain::net::parse_ip(n.ip.trim()),
            MacAddress::parse(n.mac.trim()),
        ) else {
            continue;
        };
        let address = ip.to_string();
        if found::address_in(tx, &ctx.network_id, &address)?.is_some() {
            continue;
        }
        let host_id = match found::host_with_mac(tx, &ctx.network_id, &mac.to_string())? {
            Some(h) if h == own_host => continue,
            Some(h) => h,
            None => {
                let name = Name::parse(&address, 100).map_err(|e| e.at("neighbours"))?;
                summary.hosts_created += 1;
                new_host(tx, who, &ctx.network_id, name, None, "arp")?
            }
        };
        address_on_host(tx, who, ctx, &host_id, ip, Some(mac), summary)?;
    }
    Ok(())
}

//! Reconciliation: what a discovery observed, written through the same use cases and binding
//! rules as the API. Each port is reconciled in a savepoint of its own, so that one port a rule
//! refuses is skipped (and counted) while the rest of the observation lands.

use std::collections::HashSet;
use std::net::IpAddr;

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::bindings::{settle, Holder};
use super::hosts::HostInput;
use super::ip_addresses::IpAddressInput;
use super::journal::Writer;
use super::ports::PortInput;
use super::services::ServiceInput;
use crate::db::discoveries::{self as found, Summary};
use crate::db::versions::{self, Versioned};
use crate::domain::bindings::{Change, Target, Wanted};
use crate::domain::discovery::{
    classify, distinct_service_name, CatalogType, Observation, ObservedPort, UNCLAIMED,
};
use crate::domain::net::Cidr;
use crate::domain::port::PortNumber;
use crate::domain::text::{Hostname, Name};
use crate::error::{ApiError, ApiResult};

/// One change a plan would make (and an apply made).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanEntry {
    /// `create`, `see` or `close`.
    pub action: String,
    pub entity_type: String,
    #[schema(value_type = Object)]
    pub entity: Value,
    pub reason: String,
}

/// What a reconciliation needs to know once: the network's subnets and the catalogue.
pub struct Context {
    pub network_id: String,
    pub subnets: Vec<(String, Cidr)>,
    pub catalog: Vec<CatalogType>,
}

impl Context {
    pub fn load(tx: &Transaction, network_id: &str) -> ApiResult<Context> {
        Ok(Context {
            network_id: network_id.to_string(),
            subnets: found::subnets_of(tx, network_id)?,
            catalog: found::catalog(tx)?,
        })
    }
}

/// The running outcome of a discovery's reconciliation, across its write transactions.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub summary: Summary,
    pub plan: Vec<PlanEntry>,
    /// Bindings this run created or saw, which `close_missing` leaves alone.
    pub seen_bindings: HashSet<String>,
}

impl Outcome {
    fn note(&mut self, action: &str, entity_type: &str, entity: Value, reason: impl Into<String>) {
        self.plan.push(PlanEntry {
            action: action.into(),
            entity_type: entity_type.into(),
            entity,
            reason: reason.into(),
        });
    }
}

fn discovery_id(who: &Writer) -> ApiResult<&str> {
    who.discovery
        .as_deref()
        .ok_or_else(|| ApiError::internal("reconciliation outside a discovery"))
}

fn see(tx: &Transaction, who: &Writer, t: &Versioned, id: &str) -> ApiResult<()> {
    versions::touch_seen(tx, t, id, &who.now, discovery_id(who)?)
}

/// Runs `f` in a savepoint: kept when it succeeds; undone when it fails, its counts and plan
/// entries with it.
fn attempt<T>(
    tx: &Transaction,
    out: &mut Outcome,
    f: impl FnOnce(&mut Outcome) -> ApiResult<T>,
) -> ApiResult<T> {
    let (summary, planned) = (out.summary.clone(), out.plan.len());
    tx.prepare_cached("SAVEPOINT observation")?.execute([])?;
    match f(out) {
        Ok(v) => {
            tx.prepare_cached("RELEASE observation")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            tx.prepare_cached("ROLLBACK TO observation")?.execute([])?;
            tx.prepare_cached("RELEASE observation")?.execute([])?;
            out.summary = summary;
            out.plan.truncate(planned);
            Err(e)
        }
    }
}

/// Rule refusals skip an observation; anything else (the database failing) stops the run.
pub(super) fn is_refusal(e: &ApiError) -> bool {
    use crate::error::ErrorCode::*;
    matches!(e.code, Validation | Conflict | NotFound)
}

/// Reconciles observations in the caller's transaction. Each observation runs in a savepoint;
/// when a rule refuses part of it, it is undone and run again port by port, each port in a
/// savepoint of its own, so that only the refused ports are skipped. (A savepoint per port
/// from the start would copy every page each port touches into the sub-journal.)
pub fn reconcile(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    observations: &[Observation],
    out: &mut Outcome,
) -> ApiResult<()> {
    for obs in observations {
        let whole = attempt(tx, out, |out| {
            let (host_id, ip_id) = place(tx, who, ctx, obs, out)?;
            let mut unclaimed_ports = Vec::new();
            for port in &obs.ports {
                let later = Unclaimed::Later(&mut unclaimed_ports);
                listen(tx, who, ctx, &host_id, &ip_id, port, later, out)?;
            }
            if !unclaimed_ports.is_empty() {
                unclaimed(tx, who, &host_id, unclaimed_ports, out)?;
            }
            Ok(())
        });
        match whole {
            Ok(()) => {}
            Err(e) if is_refusal(&e) => one_by_one(tx, who, ctx, obs, out)?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn one_by_one(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    obs: &Observation,
    out: &mut Outcome,
) -> ApiResult<()> {
    let (host_id, ip_id) = match attempt(tx, out, |out| place(tx, who, ctx, obs, out)) {
        Ok(ids) => ids,
        Err(e) if is_refusal(&e) => {
            out.summary.skipped += 1;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    for port in &obs.ports {
        let one =
            |out: &mut Outcome| listen(tx, who, ctx, &host_id, &ip_id, port, Unclaimed::Now, out);
        match attempt(tx, out, one) {
            Ok(()) => {}
            Err(e) if is_refusal(&e) => out.summary.skipped += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The host and IP address of an observation: matched by address, then MAC, then hostname;
/// created when none matches. Returns `(host id, ip address id)`.
fn place(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    obs: &Observation,
    out: &mut Outcome,
) -> ApiResult<(String, String)> {
    let address = obs.ip.to_string();
    if let Some((ip_id, host_id)) = found::address_in(tx, &ctx.network_id, &address)? {
        see(tx, who, &versions::HOSTS, &host_id)?;
        see(tx, who, &versions::IP_ADDRESSES, &ip_id)?;
        out.summary.hosts_seen += 1;
        out.note(
            "see",
            "host",
            json!({"id": host_id, "ip_address": address}),
            "matched by IP address",
        );
        return Ok((host_id, ip_id));
    }
    let mac = obs.mac();
    let by_mac = match &mac {
        Some(m) => found::host_with_mac(tx, &ctx.network_id, &m.to_string())?
            .map(|h| (h, "matched by MAC address")),
        None => None,
    };
    let by_name = match (&by_mac, &obs.hostname) {
        (None, Some(name)) => {
            found::host_named(tx, &ctx.network_id, name)?.map(|h| (h, "matched by hostname"))
        }
        _ => None,
    };
    let host_id = match by_mac.or(by_name) {
        Some((host_id, reason)) => {
            see(tx, who, &versions::HOSTS, &host_id)?;
            out.summary.hosts_seen += 1;
            out.note("see", "host", json!({"id": host_id}), reason);
            host_id
        }
        None => {
            let label = obs.hostname.clone().unwrap_or_else(|| address.clone());
            let name = Name::parse(&label, 100)
                .or_else(|_| Name::parse(&address, 100))
                .map_err(|e| e.at("name"))?;
            let host = super::hosts::create(
                tx,
                who,
                HostInput {
                    network_id: Some(ctx.network_id.clone()),
                    name,
                    hostname: obs
                        .hostname
                        .as_deref()
                        .and_then(|h| Hostname::parse(h).ok()),
                    description: None,
                    hidden: false,
                    virtualization: None,
                    tags: Vec::new(),
                    expected_updated_at: None,
                    children: Default::default(),
                    source: None,
                },
            )?;
            out.summary.hosts_created += 1;
            out.note(
                "create",
                "host",
                json!({"id": host.id, "name": host.name}),
                "no host has this address, MAC or hostname",
            );
            host.id
        }
    };
    let ip = super::ip_addresses::create(
        tx,
        who,
        IpAddressInput {
            host_id: host_id.clone(),
            network_id: None,
            subnet_id: found::narrowest(&ctx.subnets, obs.ip).map(str::to_string),
            ip_address: obs.ip,
            mac_address: mac,
            name: None,
            position: None,
        },
    )?;
    out.summary.ip_addresses_created += 1;
    out.note(
        "create",
        "ip_address",
        json!({"id": ip.id, "ip_address": ip.ip_address, "host_id": host_id, "subnet_id": ip.subnet_id}),
        "a new address",
    );
    Ok((host_id, ip.id))
}

/// One open port on the address: the port, and the service listening there.
/// Where an open port that nothing claims goes.
enum Unclaimed<'a> {
    /// Bound to the host's unclaimed-ports service at once.
    Now,
    /// Collected, to be bound together at the end of the observation (one settle, not one per
    /// port).
    Later(&'a mut Vec<Target>),
}

#[allow(clippy::too_many_arguments)]
fn listen(
    tx: &Transaction,
    who: &Writer,
    ctx: &Context,
    host_id: &str,
    ip_id: &str,
    observed: &ObservedPort,
    unclaimed_ports: Unclaimed,
    out: &mut Outcome,
) -> ApiResult<()> {
    let protocol = observed.protocol.as_str();
    let port_id = match found::port_of(tx, host_id, observed.number, protocol)? {
        Some(id) => {
            see(tx, who, &versions::PORTS, &id)?;
            id
        }
        None => {
            let port = super::ports::create(
                tx,
                who,
                PortInput {
                    host_id: host_id.to_string(),
                    network_id: None,
                    number: PortNumber::parse(i64::from(observed.number))
                        .map_err(|e| e.at("number"))?,
                    protocol: observed.protocol,
                },
            )?;
            out.summary.ports_created += 1;
            out.note("create", "port", json!({"id": port.id, "number": port.number, "protocol": port.protocol, "host_id": host_id}), "an open port");
            port.id
        }
    };

    // Whoever listens there already (manual or discovered) is only seen.
    if let Some((binding_id, service_id)) = found::covering(tx, &port_id, ip_id)? {
        see(tx, who, &versions::BINDINGS, &binding_id)?;
        see(tx, who, &versions::SERVICES, &service_id)?;
        out.summary.bindings_seen += 1;
        out.seen_bindings.insert(binding_id.clone());
        out.note(
            "see",
            "binding",
            json!({"id": binding_id, "service_id": service_id, "port_id": port_id}),
            "already bound",
        );
        return Ok(());
    }
    let target = Target::Port {
        port: port_id.clone(),
        ip: Some(ip_id.to_string()),
    };
    let Some(typing) = classify(observed, &ctx.catalog) else {
        return match unclaimed_ports {
            Unclaimed::Now => unclaimed(tx, who, host_id, vec![target], out),
            Unclaimed::Later(list) => {
                list.push(target);
                Ok(())
            }
        };
    };
    let name = observed
        .service_name
        .clone()
        .unwrap_or_else(|| typing.service_type.clone());
    let taken = crate::db::services::names_on_host(tx, host_id)?;
    let name = distinct_service_name(&name, observed, |n| taken.contains(n));
    let service = super::services::create(
        tx,
        who,
        ServiceInput {
            host_id: host_id.to_string(),
            network_id: None,
            name: Name::parse(&name, 100).map_err(|e| e.at("name"))?,
            service_definition: typing.service_type.clone(),
            position: None,
            tags: Vec::new(),
            virtualization: None,
            bindings: vec![Wanted {
                field: String::new(),
                id: None,
                target,
            }],
            expected_updated_at: None,
            source: Some(json!({"type": "Discovery", "details": {
                "confidence": typing.confidence, "reason": typing.reason}})),
        },
    )?;
    out.summary.services_created += 1;
    out.summary.bindings_created += service.bindings.len() as u64;
    out.seen_bindings
        .extend(service.bindings.iter().map(|b| b.id.clone()));
    out.note(
        "create",
        "service",
        json!({"id": service.id, "name": service.name, "service_definition": service.service_definition,
               "host_id": host_id, "port_id": port_id, "ip_address_id": ip_id,
               "confidence": typing.confidence}),
        typing.reason,
    );
    Ok(())
}

/// Open ports nothing claims: bound to the host's `Unclaimed Open Ports` service, all in one
/// settle of the binding rules.
fn unclaimed(
    tx: &Transaction,
    who: &Writer,
    host_id: &str,
    targets: Vec<Target>,
    out: &mut Outcome,
) -> ApiResult<()> {
    let (service_id, network_id) = match found::service_of_type(tx, host_id, UNCLAIMED)? {
        Some(id) => {
            let network = crate::db::services::placement(tx, &id)?
                .map(|(_, n)| n)
                .ok_or_else(|| ApiError::internal("service without placement"))?;
            (id, network)
        }
        None => {
            let service = super::services::create(
                tx,
                who,
                ServiceInput {
                    host_id: host_id.to_string(),
                    network_id: None,
                    name: Name::parse(UNCLAIMED, 100).map_err(|e| e.at("name"))?,
                    service_definition: UNCLAIMED.to_string(),
                    position: None,
                    tags: Vec::new(),
                    virtualization: None,
                    bindings: Vec::new(),
                    expected_updated_at: None,
                    source: Some(json!({"type": "Discovery", "details": {
                        "confidence": "Low", "reason": "open ports without evidence of a service"}})),
                },
            )?;
            out.summary.services_created += 1;
            out.note(
                "create",
                "service",
                json!({"id": service.id, "name": service.name, "host_id": host_id}),
                "open ports nothing claims",
            );
            (service.id, service.network_id)
        }
    };
    let mut wanted = super::bindings::kept(tx, &service_id)?;
    wanted.extend(targets.into_iter().map(|target| Wanted {
        field: String::new(),
        id: None,
        target,
    }));
    let holder = Holder {
        service_id,
        host_id: host_id.to_string(),
        network_id,
    };
    let settled = settle(tx, who, &holder, Change::Replace(wanted))?;
    // The service's other bindings were seen (or not) through the covering check.
    for binding in settled.bindings {
        if settled.created.contains(&binding.id) {
            out.summary.bindings_created += 1;
            out.note(
                "create",
                "binding",
                serde_json::to_value(&binding).unwrap_or_default(),
                "an open port nothing claims",
            );
            out.seen_bindings.insert(binding.id);
        }
    }
    Ok(())
}

/// `close_missing`: discovered bindings on a scanned address and port that this run did not
/// see are deleted (closed in history). Manual bindings are never touched.
pub fn close_missing(
    tx: &Transaction,
    who: &Writer,
    network_id: &str,
    addresses: &[IpAddr],
    ports: &[u16],
    out: &mut Outcome,
) -> ApiResult<()> {
    let scanned: HashSet<String> = addresses.iter().map(|a| a.to_string()).collect();
    for (binding_id, address, number) in found::discovered_bindings(tx, network_id)? {
        if out.seen_bindings.contains(&binding_id)
            || !scanned.contains(&address)
            || ports.binary_search(&number).is_err()
        {
            continue;
        }
        super::bindings::delete(tx, who, &binding_id)?;
        out.summary.bindings_closed += 1;
        out.note(
            "close",
            "binding",
            json!({"id": binding_id, "ip_address": address, "port": number}),
            "not seen by this scan",
        );
    }
    Ok(())
}

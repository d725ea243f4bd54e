//! The binding rules, written once and run on every path that writes bindings (service POST and
//! PUT, binding POST and PUT). Pure: the caller loads the live state inside its write transaction,
//! asks for a `Plan`, and carries it out before commit.
//!
//! Notation (`inventory.md`): `IP(x)` binds IP address x without a port, `P(p,x)` port p on IP x,
//! `P(p,*)` port p on all of the host's IP addresses. Rules, in order, the first failure deciding:
//! 1. cross-host, 2. deduplication, 3. all-interfaces precedence, 4. same-service conflicts,
//! 5. one owner per port across services.

use std::collections::HashMap;

use crate::error::{ApiError, ApiResult};

/// What a binding points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `IP(x)`: present at an IP address without a port.
    Ip { ip: String },
    /// `P(p,x)` with `ip: Some(x)`, `P(p,*)` with `ip: None`.
    Port { port: String, ip: Option<String> },
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Ip { .. } => "IPAddress",
            Target::Port { .. } => "Port",
        }
    }

    pub fn port(&self) -> Option<&str> {
        match self {
            Target::Port { port, .. } => Some(port),
            Target::Ip { .. } => None,
        }
    }

    pub fn ip(&self) -> Option<&str> {
        match self {
            Target::Ip { ip } => Some(ip),
            Target::Port { ip, .. } => ip.as_deref(),
        }
    }

    #[cfg(test)]
    fn is_all_interfaces(&self) -> bool {
        matches!(self, Target::Port { ip: None, .. })
    }

    /// `P(p,x)` made redundant by `P(p,*)` in the same service.
    fn superseded_by(&self, other: &Target) -> bool {
        match (self, other) {
            (
                Target::Port {
                    port: p,
                    ip: Some(_),
                },
                Target::Port { port: q, ip: None },
            ) => p == q,
            _ => false,
        }
    }
}

/// Rule 4: `IP(x)` conflicts with `P(q,x)` for any q and with any `P(q,*)`.
pub fn same_service_conflict(a: &Target, b: &Target) -> bool {
    fn ip_vs_port(ip: &str, port_ip: &Option<String>) -> bool {
        match port_ip {
            None => true,
            Some(x) => x == ip,
        }
    }
    match (a, b) {
        (Target::Ip { ip }, Target::Port { ip: port_ip, .. })
        | (Target::Port { ip: port_ip, .. }, Target::Ip { ip }) => ip_vs_port(ip, port_ip),
        _ => false,
    }
}

/// Rule 5: two port bindings of different services overlap on the same port when either is `*`
/// or both name the same IP address.
pub fn ports_overlap(a: &Target, b: &Target) -> bool {
    match (a, b) {
        (Target::Port { port: p, ip: x }, Target::Port { port: q, ip: y }) => {
            p == q && (x.is_none() || y.is_none() || x == y)
        }
        _ => false,
    }
}

/// A binding the request asks for. `field` locates it in the request (`bindings[2]`, or empty on
/// `/bindings`, whose body is the binding itself).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub field: String,
    pub id: Option<String>,
    pub target: Target,
}

/// A live binding of the service being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub id: String,
    pub target: Target,
}

/// A live port binding of another service, on a port the request involves.
#[derive(Debug, Clone)]
pub struct Held {
    pub binding_id: String,
    pub service_id: String,
    pub service_name: String,
    pub target: Target,
}

/// The live state the rules are checked against, read inside the write transaction.
pub struct Context<'a> {
    pub host_id: &'a str,
    /// The host of every port and IP address the request names; a missing key does not exist.
    pub owners: &'a HashMap<String, String>,
    pub live: &'a [Live],
    pub held: &'a [Held],
}

pub enum Change {
    /// Service POST and PUT: the complete desired set, reconciled against the live one.
    Replace(Vec<Wanted>),
    /// Binding POST: one more binding.
    Add(Wanted),
    /// Binding PUT: one live binding gets a new target.
    Update { id: String, wanted: Wanted },
}

/// One binding of the resulting set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// A live binding that stays; `changed` when its target is new.
    Keep {
        id: String,
        target: Target,
        changed: bool,
    },
    Create {
        target: Target,
    },
}

impl Slot {
    pub fn target(&self) -> &Target {
        match self {
            Slot::Keep { target, .. } | Slot::Create { target } => target,
        }
    }

    fn live_id(&self) -> Option<&str> {
        match self {
            Slot::Keep { id, .. } => Some(id),
            Slot::Create { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The service's bindings after the change, in response order.
    pub result: Vec<Slot>,
    /// Live bindings to delete.
    pub removed: Vec<String>,
    /// Binding POST only: the live binding that already covers the request (identical, or an
    /// all-interfaces binding on the same port); nothing is written.
    pub covered_by: Option<String>,
}

fn field_of(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Rule 1: each port and IP address exists and belongs to the service's host.
fn check_cross_host(wanted: &Wanted, ctx: &Context) -> ApiResult<()> {
    let refs = [
        ("port_id", wanted.target.port()),
        ("ip_address_id", wanted.target.ip()),
    ];
    for (name, id) in refs {
        let Some(id) = id else { continue };
        let field = field_of(&wanted.field, name);
        match ctx.owners.get(id) {
            Some(host) if host == ctx.host_id => {}
            Some(_) => {
                return Err(ApiError::validation(
                    &field,
                    format!("{id} belongs to another host than the service's"),
                )
                .with_param("host_id", ctx.host_id))
            }
            None => {
                return Err(ApiError::validation(&field, format!("{id} does not exist"))
                    .with_param("host_id", ctx.host_id))
            }
        }
    }
    Ok(())
}

/// A slot of the resulting set, with where it came from, for blame.
struct Entry {
    slot: Slot,
    /// The request's field for bindings the request names; `None` for live bindings it leaves alone.
    field: Option<String>,
}

fn conflict_field(field: &str, fallback: &str) -> String {
    if field.is_empty() {
        fallback.to_string()
    } else {
        field.to_string()
    }
}

/// Rule 4 over the resulting set: entries the request names are checked against everything
/// before them; live bindings it leaves alone come first and already satisfy the rule.
fn check_same_service(entries: &[Entry]) -> ApiResult<()> {
    let mut order: Vec<&Entry> = entries.iter().filter(|e| e.field.is_none()).collect();
    order.extend(entries.iter().filter(|e| e.field.is_some()));
    for (i, entry) in order.iter().enumerate() {
        let Some(field) = &entry.field else { continue };
        for earlier in &order[..i] {
            if same_service_conflict(entry.slot.target(), earlier.slot.target()) {
                let mut err = ApiError::conflict(format!(
                    "The {} binding conflicts with the service's {} binding on the same IP address",
                    entry.slot.target().kind(),
                    earlier.slot.target().kind(),
                ))
                .with_field(conflict_field(field, "ip_address_id"))
                .with_hint("An IP-address binding and a port binding of one service cannot share an IP address; a port binding on all interfaces covers every IP address");
                if let Some(id) = earlier.slot.live_id() {
                    err = err.with_param("conflicting_binding_id", id);
                }
                return Err(err);
            }
        }
    }
    Ok(())
}

/// Rule 5: no port binding of the resulting set overlaps another service's.
fn check_owners(entries: &[Entry], held: &[Held]) -> ApiResult<()> {
    for entry in entries {
        for other in held {
            if ports_overlap(entry.slot.target(), &other.target) {
                let field = entry.field.as_deref().unwrap_or("");
                return Err(ApiError::conflict(format!(
                    "Port is already bound by service '{}'",
                    other.service_name
                ))
                .with_field(conflict_field(field, "port_id"))
                .with_hint(format!(
                    "Remove the binding from '{}' first",
                    other.service_name
                ))
                .with_param("service_id", other.service_id.as_str())
                .with_param("conflicting_binding_id", other.binding_id.as_str()));
            }
        }
    }
    Ok(())
}

fn duplicate_of(target: &Target, field: &str, other: &str) -> ApiError {
    ApiError::conflict(format!(
        "The service already has an identical {} binding",
        target.kind()
    ))
    .with_field(conflict_field(field, "type"))
    .with_param("conflicting_binding_id", other)
}

/// Rules 2 and 3 as a question rather than a fold: the first binding of `targets` that an
/// earlier identical one, or an all-interfaces binding of the same port, makes redundant, with
/// the index of the one that covers it. A document (an import) must not rely on folding.
pub fn first_redundant(targets: &[&Target]) -> Option<(usize, usize)> {
    targets.iter().enumerate().find_map(|(i, t)| {
        let earlier = targets[..i].iter().position(|o| o == t);
        let wider = || targets.iter().position(|o| t.superseded_by(o));
        earlier.or_else(wider).map(|j| (i, j))
    })
}

/// Applies the rules to `change` against `ctx` and returns what to write, or the first violation.
pub fn plan(change: Change, ctx: &Context) -> ApiResult<Plan> {
    match change {
        Change::Replace(wanted) => plan_replace(wanted, ctx),
        Change::Add(wanted) => plan_add(wanted, ctx),
        Change::Update { id, wanted } => plan_update(&id, wanted, ctx),
    }
}

fn plan_replace(wanted: Vec<Wanted>, ctx: &Context) -> ApiResult<Plan> {
    for w in &wanted {
        check_cross_host(w, ctx)?;
    }
    // Rule 2: the first occurrence of each target wins.
    let mut unique: Vec<Wanted> = Vec::with_capacity(wanted.len());
    for w in wanted {
        if !unique.iter().any(|u| u.target == w.target) {
            unique.push(w);
        }
    }
    // Rule 3: P(p,*) removes every P(p,x) of the set.
    let survivors: Vec<Wanted> = unique
        .iter()
        .filter(|w| !unique.iter().any(|o| w.target.superseded_by(&o.target)))
        .cloned()
        .collect();

    // Reconciliation: by id, then by equal target, else new.
    let mut claimed: Vec<bool> = vec![false; ctx.live.len()];
    let mut matched: Vec<Option<usize>> = vec![None; survivors.len()];
    for (i, w) in survivors.iter().enumerate() {
        if let Some(id) = &w.id {
            if let Some(j) = ctx.live.iter().position(|l| &l.id == id) {
                if !claimed[j] {
                    claimed[j] = true;
                    matched[i] = Some(j);
                }
            }
        }
    }
    for (i, w) in survivors.iter().enumerate() {
        if matched[i].is_some() {
            continue;
        }
        if let Some(j) =
            (0..ctx.live.len()).find(|&j| !claimed[j] && ctx.live[j].target == w.target)
        {
            claimed[j] = true;
            matched[i] = Some(j);
        }
    }
    let entries: Vec<Entry> = survivors
        .iter()
        .zip(&matched)
        .map(|(w, m)| Entry {
            slot: match m {
                Some(j) => Slot::Keep {
                    id: ctx.live[*j].id.clone(),
                    target: w.target.clone(),
                    changed: ctx.live[*j].target != w.target,
                },
                None => Slot::Create {
                    target: w.target.clone(),
                },
            },
            field: Some(w.field.clone()),
        })
        .collect();
    check_same_service(&entries)?;
    check_owners(&entries, ctx.held)?;
    let removed = ctx
        .live
        .iter()
        .zip(&claimed)
        .filter(|(_, c)| !**c)
        .map(|(l, _)| l.id.clone())
        .collect();
    Ok(Plan {
        result: entries.into_iter().map(|e| e.slot).collect(),
        removed,
        covered_by: None,
    })
}

fn unchanged(live: &[Live]) -> Vec<Slot> {
    live.iter()
        .map(|l| Slot::Keep {
            id: l.id.clone(),
            target: l.target.clone(),
            changed: false,
        })
        .collect()
}

fn plan_add(wanted: Wanted, ctx: &Context) -> ApiResult<Plan> {
    check_cross_host(&wanted, ctx)?;
    // Rules 2 and 3: an identical live binding, or a live P(p,*) over a new P(p,x), already covers it.
    if let Some(cover) = ctx
        .live
        .iter()
        .find(|l| l.target == wanted.target || wanted.target.superseded_by(&l.target))
    {
        return Ok(Plan {
            result: unchanged(ctx.live),
            removed: Vec::new(),
            covered_by: Some(cover.id.clone()),
        });
    }
    let (kept, removed): (Vec<&Live>, Vec<&Live>) = ctx
        .live
        .iter()
        .partition(|l| !l.target.superseded_by(&wanted.target));
    let mut entries: Vec<Entry> = kept
        .iter()
        .map(|l| Entry {
            slot: Slot::Keep {
                id: l.id.clone(),
                target: l.target.clone(),
                changed: false,
            },
            field: None,
        })
        .collect();
    entries.push(Entry {
        slot: Slot::Create {
            target: wanted.target.clone(),
        },
        field: Some(wanted.field.clone()),
    });
    check_same_service(&entries)?;
    check_owners(&entries[entries.len() - 1..], ctx.held)?;
    Ok(Plan {
        result: entries.into_iter().map(|e| e.slot).collect(),
        removed: removed.iter().map(|l| l.id.clone()).collect(),
        covered_by: None,
    })
}

fn plan_update(id: &str, wanted: Wanted, ctx: &Context) -> ApiResult<Plan> {
    check_cross_host(&wanted, ctx)?;
    let current = ctx
        .live
        .iter()
        .find(|l| l.id == id)
        .ok_or_else(|| ApiError::not_found("Binding"))?;
    let others: Vec<&Live> = ctx.live.iter().filter(|l| l.id != id).collect();
    // Rule 2: turning into a copy of a sibling would silently merge two bindings; refuse instead.
    if let Some(twin) = others.iter().find(|l| l.target == wanted.target) {
        return Err(duplicate_of(&wanted.target, &wanted.field, &twin.id));
    }
    // Rule 3: a sibling P(p,*) would remove the updated P(p,x) at once; refuse instead.
    if let Some(cover) = others
        .iter()
        .find(|l| wanted.target.superseded_by(&l.target))
    {
        return Err(ApiError::conflict(
            "The service already listens on this port on all interfaces",
        )
        .with_field(conflict_field(&wanted.field, "ip_address_id"))
        .with_param("conflicting_binding_id", cover.id.as_str()));
    }
    let mut entries = Vec::new();
    let mut removed = Vec::new();
    for l in ctx.live {
        if l.id == id {
            entries.push(Entry {
                slot: Slot::Keep {
                    id: id.to_string(),
                    target: wanted.target.clone(),
                    changed: current.target != wanted.target,
                },
                field: Some(wanted.field.clone()),
            });
        } else if l.target.superseded_by(&wanted.target) {
            removed.push(l.id.clone());
        } else {
            entries.push(Entry {
                slot: Slot::Keep {
                    id: l.id.clone(),
                    target: l.target.clone(),
                    changed: false,
                },
                field: None,
            });
        }
    }
    check_same_service(&entries)?;
    let updated: Vec<Entry> = entries
        .iter()
        .filter(|e| e.field.is_some())
        .map(|e| Entry {
            slot: e.slot.clone(),
            field: e.field.clone(),
        })
        .collect();
    check_owners(&updated, ctx.held)?;
    Ok(Plan {
        result: entries.into_iter().map(|e| e.slot).collect(),
        removed,
        covered_by: None,
    })
}

#[cfg(test)]
#[path = "bindings_tests.rs"]
mod tests;

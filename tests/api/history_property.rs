//! Property: for any sequence of service PUTs and binding writes, reading the service as of the
//! instant of each write gives exactly the state observed live right after that write.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Resp, TestApp, World};

/// A binding target among the world's two ports and two addresses: port (0-1 or none) and
/// address (0-1 or all).
#[derive(Debug, Clone, Copy)]
struct Target {
    port: Option<usize>,
    ip: Option<usize>,
}

#[derive(Debug, Clone)]
enum Op {
    /// Service PUT with this desired set.
    Put(Vec<Target>),
    /// Binding POST.
    Post(Target),
    /// Binding PUT of the k-th live binding (modulo their number).
    Retarget(usize, Target),
    /// Binding DELETE of the k-th live binding.
    Delete(usize),
}

fn target() -> impl Strategy<Value = Target> {
    (prop::option::of(0..2usize), prop::option::of(0..2usize))
        .prop_filter("an IPAddress binding needs an address", |(p, i)| {
            p.is_some() || i.is_some()
        })
        .prop_map(|(port, ip)| Target { port, ip })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        prop::collection::vec(target(), 0..4).prop_map(Op::Put),
        target().prop_map(Op::Post),
        (0..4usize, target()).prop_map(|(k, t)| Op::Retarget(k, t)),
        (0..4usize).prop_map(Op::Delete),
    ]
}

fn body(w: &World, t: Target) -> Value {
    let ports = [&w.port1, &w.port2];
    let ips = [&w.ip1, &w.ip2];
    match t.port {
        Some(p) => {
            json!({"type": "Port", "port_id": ports[p], "ip_address_id": t.ip.map(|i| ips[i])})
        }
        None => json!({"type": "IPAddress", "ip_address_id": ips[t.ip.unwrap_or(0)]}),
    }
}

/// What a state is: each binding by live id and target, sorted; and the service's own fields.
fn state(service: &Value) -> (Vec<String>, Value) {
    let mut bindings: Vec<String> = service["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let live = b["lineage_id"].as_str().or(b["id"].as_str()).unwrap();
            format!(
                "{live} {} {} {} {}",
                b["type"], b["port_id"], b["ip_address_id"], b["valid_from"]
            )
        })
        .collect();
    bindings.sort();
    let own = json!([
        service["name"],
        service["position"],
        service["valid_from"],
        service["updated_at"]
    ]);
    (bindings, own)
}

fn apply(app: &TestApp, w: &World, op: &Op) -> Resp {
    let svc = format!("/api/v1/services/{}", w.service);
    let live: Vec<String> = app.get(&svc).data()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    match op {
        Op::Put(targets) => {
            let bindings: Vec<Value> = targets.iter().map(|t| body(w, *t)).collect();
            app.put(
                &svc,
                json!({"host_id": w.host, "name": "nginx",
                       "service_definition": "Nginx Proxy Manager", "bindings": bindings}),
            )
        }
        Op::Post(t) => {
            let mut b = body(w, *t);
            b["service_id"] = json!(w.service);
            app.post("/api/v1/bindings", b)
        }
        Op::Retarget(k, t) if !live.is_empty() => {
            let mut b = body(w, *t);
            b["service_id"] = json!(w.service);
            app.put(&format!("/api/v1/bindings/{}", live[k % live.len()]), b)
        }
        Op::Delete(k) if !live.is_empty() => {
            app.delete(&format!("/api/v1/bindings/{}", live[k % live.len()]))
        }
        // Nothing to retarget or delete: read instead, which records nothing.
        _ => app.get(&svc),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn as_of_every_write_equals_what_was_seen_after_it(ops in prop::collection::vec(op(), 1..12)) {
        let app = spawn_app();
        let w = app.world();
        let svc = format!("/api/v1/services/{}", w.service);
        let mut seen: Vec<(String, (Vec<String>, Value))> = Vec::new();
        for op in &ops {
            let r = apply(&app, &w, op);
            prop_assert!(r.status < 500, "{}", r.body);
            let request = r.header("x-request-id").unwrap();
            let entries = app.get(&format!("/api/v1/changes?request_id={request}"));
            let recorded = entries.data().as_array().unwrap();
            if r.status >= 300 || r.status == 200 && op_is_read(op, &r) {
                prop_assert!(recorded.is_empty(), "a refused or empty write recorded {recorded:?}");
                continue;
            }
            let live = app.get(&svc).data().clone();
            if let Some(first) = recorded.first() {
                seen.push((first["time"].as_str().unwrap().to_string(), state(&live)));
            }
        }
        for (time, observed) in &seen {
            let then = app.get(&format!("{svc}?at={time}"));
            prop_assert_eq!(then.status, 200);
            prop_assert_eq!(&state(then.data()), observed, "as of {}", time);
        }
    }
}

/// A retarget or delete with nothing to act on was turned into a read.
fn op_is_read(op: &Op, r: &Resp) -> bool {
    matches!(op, Op::Retarget(..) | Op::Delete(_)) && r.data().get("bindings").is_some()
}

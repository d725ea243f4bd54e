use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::error::ErrorCode;

fn ip(x: &str) -> Target {
    Target::Ip { ip: x.into() }
}

fn port(p: &str, x: Option<&str>) -> Target {
    Target::Port {
        port: p.into(),
        ip: x.map(Into::into),
    }
}

fn owners() -> HashMap<String, String> {
    [
        ("p1", "h"),
        ("p2", "h"),
        ("i1", "h"),
        ("i2", "h"),
        ("pX", "other"),
        ("iX", "other"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn wanted(list: &[Target]) -> Vec<Wanted> {
    list.iter()
        .enumerate()
        .map(|(i, t)| Wanted {
            field: format!("bindings[{i}]"),
            id: None,
            target: t.clone(),
        })
        .collect()
}

fn live(list: &[(&str, Target)]) -> Vec<Live> {
    list.iter()
        .map(|(id, t)| Live {
            id: id.to_string(),
            target: t.clone(),
        })
        .collect()
}

fn held(service: &str, binding: &str, t: Target) -> Held {
    Held {
        binding_id: binding.into(),
        service_id: service.into(),
        service_name: format!("svc-{service}"),
        target: t,
    }
}

fn replace(list: &[Target], stored: &[Live], others: &[Held]) -> ApiResult<Plan> {
    let owners = owners();
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: stored,
        held: others,
    };
    plan(Change::Replace(wanted(list)), &ctx)
}

fn targets(plan: &Plan) -> Vec<Target> {
    plan.result.iter().map(|s| s.target().clone()).collect()
}

fn single(t: Target) -> Wanted {
    Wanted {
        field: String::new(),
        id: None,
        target: t,
    }
}

// Rule 1: cross-host.

#[test]
fn references_must_exist_on_the_service_host() {
    let err = replace(&[ip("i1"), port("pX", None)], &[], &[]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
    assert_eq!(err.field.as_deref(), Some("bindings[1].port_id"));
    assert_eq!(err.params["host_id"], "h");

    let err = replace(&[port("p1", Some("iX"))], &[], &[]).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("bindings[0].ip_address_id"));

    let err = replace(&[ip("nope")], &[], &[]).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("bindings[0].ip_address_id"));

    let owners = owners();
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &[],
        held: &[],
    };
    let err = plan(Change::Add(single(port("pX", None))), &ctx).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("port_id"),
        "plain field names on /bindings"
    );
}

#[test]
fn cross_host_is_checked_before_conflicts() {
    // Both a conflict (IP(i1) + P(p1,*)) and a foreign port: rule 1 decides.
    let err = replace(&[ip("i1"), port("p1", None), port("pX", None)], &[], &[]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);
}

// Rule 2: deduplication.

#[test]
fn duplicates_collapse_first_occurrence_wins() {
    let plan = replace(
        &[
            port("p1", Some("i1")),
            ip("i2"),
            port("p1", Some("i1")),
            ip("i2"),
        ],
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(targets(&plan), vec![port("p1", Some("i1")), ip("i2")]);
}

#[test]
fn posting_a_live_binding_returns_it() {
    let owners = owners();
    let stored = live(&[("b1", port("p1", Some("i1")))]);
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let plan = plan(Change::Add(single(port("p1", Some("i1")))), &ctx).unwrap();
    assert_eq!(plan.covered_by.as_deref(), Some("b1"));
    assert!(plan.removed.is_empty());
    assert!(!plan.result.iter().any(|s| matches!(s, Slot::Create { .. })));
}

// Rule 3: all-interfaces precedence.

#[test]
fn all_interfaces_removes_specific_bindings_in_the_request() {
    let plan = replace(
        &[
            port("p1", Some("i1")),
            port("p1", None),
            port("p1", Some("i2")),
            port("p2", Some("i1")),
        ],
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(
        targets(&plan),
        vec![port("p1", None), port("p2", Some("i1"))]
    );
}

#[test]
fn all_interfaces_through_bindings_removes_stored_specific_ones() {
    let owners = owners();
    let stored = live(&[
        ("b1", port("p1", Some("i1"))),
        ("b2", port("p1", Some("i2"))),
        ("b3", port("p2", Some("i1"))),
    ]);
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let plan = plan(Change::Add(single(port("p1", None))), &ctx).unwrap();
    assert_eq!(plan.removed, vec!["b1".to_string(), "b2".to_string()]);
    assert!(plan.result.contains(&Slot::Create {
        target: port("p1", None)
    }));
    assert!(plan.result.contains(&Slot::Keep {
        id: "b3".into(),
        target: port("p2", Some("i1")),
        changed: false
    }));
}

#[test]
fn a_specific_binding_under_a_live_all_interfaces_one_is_covered() {
    let owners = owners();
    let stored = live(&[("star", port("p1", None))]);
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let plan = plan(Change::Add(single(port("p1", Some("i1")))), &ctx).unwrap();
    assert_eq!(plan.covered_by.as_deref(), Some("star"));
}

// Rule 4: the same-service conflict table, every pair.

#[test]
fn same_service_pairs() {
    let cases: Vec<(Target, Target, &str)> = vec![
        (ip("i1"), ip("i1"), "dedup"),
        (ip("i1"), ip("i2"), "ok"),
        (ip("i1"), port("p1", Some("i1")), "conflict"),
        (ip("i1"), port("p1", Some("i2")), "ok"),
        (ip("i1"), port("p1", None), "conflict"),
        (port("p1", Some("i1")), ip("i1"), "conflict"),
        (port("p1", None), ip("i2"), "conflict"),
        (port("p1", Some("i1")), port("p1", Some("i1")), "dedup"),
        (port("p1", Some("i1")), port("p1", Some("i2")), "ok"),
        (port("p1", Some("i1")), port("p1", None), "precedence"),
        (port("p1", None), port("p1", Some("i1")), "precedence"),
        (port("p1", Some("i1")), port("p2", Some("i1")), "ok"),
        (port("p1", Some("i1")), port("p2", None), "ok"),
        (port("p1", None), port("p2", None), "ok"),
        (port("p1", None), port("p1", None), "dedup"),
    ];
    for (a, b, expect) in cases {
        let result = replace(&[a.clone(), b.clone()], &[], &[]);
        match expect {
            "ok" => assert_eq!(targets(&result.unwrap()), vec![a, b]),
            "dedup" => assert_eq!(targets(&result.unwrap()), vec![a]),
            "precedence" => {
                let star = if a.is_all_interfaces() { a } else { b };
                assert_eq!(targets(&result.unwrap()), vec![star]);
            }
            "conflict" => {
                let err = result.unwrap_err();
                assert_eq!(err.code, ErrorCode::Conflict, "{a:?} {b:?}");
                assert_eq!(
                    err.field.as_deref(),
                    Some("bindings[1]"),
                    "the later one is blamed"
                );
                assert!(
                    err.params.get("conflicting_binding_id").is_none(),
                    "both sides are new"
                );
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn conflict_with_a_stored_binding_names_it() {
    let owners = owners();
    let stored = live(&[("b1", ip("i1"))]);
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let err = plan(Change::Add(single(port("p1", None))), &ctx).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(err.field.as_deref(), Some("ip_address_id"));
    assert_eq!(err.params["conflicting_binding_id"], "b1");

    // On PUT the stored binding the request keeps is named too.
    let err = replace(&[ip("i1"), port("p1", Some("i1"))], &stored, &[]).unwrap_err();
    assert_eq!(err.params["conflicting_binding_id"], "b1");
}

#[test]
fn precedence_runs_before_conflict_detection() {
    // P(p1,i1) would conflict with IP(i1), but P(p1,*) removes it first... and P(p1,*) itself
    // conflicts with IP(i1): the conflict is reported on the all-interfaces binding.
    let err = replace(
        &[ip("i1"), port("p1", Some("i1")), port("p1", None)],
        &[],
        &[],
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("bindings[2]"));
}

// Rule 5: one owner per port.

#[test]
fn other_services_pairs() {
    let cases: Vec<(Target, Target, bool)> = vec![
        (port("p1", Some("i1")), port("p1", Some("i1")), true),
        (port("p1", Some("i1")), port("p1", Some("i2")), false),
        (port("p1", Some("i1")), port("p1", None), true),
        (port("p1", None), port("p1", Some("i2")), true),
        (port("p1", None), port("p1", None), true),
        (port("p1", None), port("p2", None), false),
        (ip("i1"), port("p1", Some("i1")), false),
    ];
    for (mine, theirs, conflict) in cases {
        let others = [held("s2", "b9", theirs.clone())];
        let result = replace(std::slice::from_ref(&mine), &[], &others);
        if conflict {
            let err = result.unwrap_err();
            assert_eq!(err.code, ErrorCode::Conflict, "{mine:?} vs {theirs:?}");
            assert_eq!(err.params["service_id"], "s2");
            assert_eq!(err.params["conflicting_binding_id"], "b9");
            assert_eq!(
                err.hint.as_deref(),
                Some("Remove the binding from 'svc-s2' first")
            );
        } else {
            assert!(result.is_ok(), "{mine:?} vs {theirs:?}");
        }
    }
}

#[test]
fn same_service_conflict_is_reported_before_ownership() {
    let others = [held("s2", "b9", port("p1", None))];
    let err = replace(&[ip("i1"), port("p1", None)], &[], &others).unwrap_err();
    assert!(
        err.params.get("service_id").is_none(),
        "rule 4 decides: {err:?}"
    );
}

// Reconciliation.

#[test]
fn reconciliation_matches_by_id_then_by_equality() {
    let stored = live(&[
        ("b1", port("p1", Some("i1"))),
        ("b2", ip("i2")),
        ("b3", port("p2", None)),
    ]);
    let mut w = wanted(&[ip("i2"), port("p1", Some("i2")), port("p2", Some("i1"))]);
    w[1].id = Some("b1".into());
    let owners = owners();
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let err = plan(Change::Replace(w.clone()), &ctx).unwrap_err();
    // IP(i2) and P(p1,i2) conflict: fix the request and retry.
    assert_eq!(err.code, ErrorCode::Conflict);
    w[0].target = ip("i1");
    w[2].target = port("p2", Some("i1"));
    let err = plan(Change::Replace(w.clone()), &ctx).unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::Conflict,
        "IP(i1) and P(p2,i1) conflict too"
    );
    w.remove(0);
    let plan = plan(Change::Replace(w), &ctx).unwrap();
    assert_eq!(
        plan.result,
        vec![
            Slot::Keep {
                id: "b1".into(),
                target: port("p1", Some("i2")),
                changed: true
            },
            Slot::Create {
                target: port("p2", Some("i1"))
            },
        ]
    );
    assert_eq!(plan.removed, vec!["b2".to_string(), "b3".to_string()]);
}

#[test]
fn resending_without_ids_keeps_ids() {
    let stored = live(&[("b1", port("p1", Some("i1"))), ("b2", port("p2", None))]);
    let plan = replace(&[port("p2", None), port("p1", Some("i1"))], &stored, &[]).unwrap();
    assert_eq!(
        plan.result,
        vec![
            Slot::Keep {
                id: "b2".into(),
                target: port("p2", None),
                changed: false
            },
            Slot::Keep {
                id: "b1".into(),
                target: port("p1", Some("i1")),
                changed: false
            },
        ]
    );
    assert!(plan.removed.is_empty());
}

#[test]
fn an_unknown_id_is_treated_as_new() {
    let stored = live(&[("b1", ip("i1"))]);
    let mut w = wanted(&[ip("i2")]);
    w[0].id = Some("not-ours".into());
    let owners = owners();
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let plan = plan(Change::Replace(w), &ctx).unwrap();
    assert_eq!(plan.result, vec![Slot::Create { target: ip("i2") }]);
    assert_eq!(plan.removed, vec!["b1".to_string()]);
}

// Binding PUT.

#[test]
fn update_retargets_and_applies_precedence_to_siblings() {
    let owners = owners();
    let stored = live(&[
        ("b1", ip("i2")),
        ("b2", port("p1", Some("i1"))),
        ("b3", port("p2", Some("i1"))),
    ]);
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let plan = plan(
        Change::Update {
            id: "b3".into(),
            wanted: single(port("p1", Some("i2"))),
        },
        &ctx,
    );
    let err = plan.unwrap_err();
    assert_eq!(
        err.params["conflicting_binding_id"], "b1",
        "IP(i2) conflicts with P(p1,i2)"
    );

    let stored = live(&[
        ("b2", port("p1", Some("i1"))),
        ("b3", port("p2", Some("i1"))),
    ]);
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &[],
    };
    let plan = super::plan(
        Change::Update {
            id: "b3".into(),
            wanted: single(port("p1", None)),
        },
        &ctx,
    )
    .unwrap();
    assert_eq!(plan.removed, vec!["b2".to_string()]);
    assert_eq!(
        plan.result,
        vec![Slot::Keep {
            id: "b3".into(),
            target: port("p1", None),
            changed: true
        }]
    );

    let dup = super::plan(
        Change::Update {
            id: "b3".into(),
            wanted: single(port("p1", Some("i1"))),
        },
        &ctx,
    )
    .unwrap_err();
    assert_eq!(dup.code, ErrorCode::Conflict);
    assert_eq!(dup.params["conflicting_binding_id"], "b2");

    let missing = super::plan(
        Change::Update {
            id: "zz".into(),
            wanted: single(ip("i1")),
        },
        &ctx,
    )
    .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
}

#[test]
fn update_checks_other_services() {
    let owners = owners();
    let stored = live(&[("b1", port("p2", None))]);
    let others = [held("s2", "b9", port("p1", Some("i1")))];
    let ctx = Context {
        host_id: "h",
        owners: &owners,
        live: &stored,
        held: &others,
    };
    let err = plan(
        Change::Update {
            id: "b1".into(),
            wanted: single(port("p1", None)),
        },
        &ctx,
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("port_id"));
    assert_eq!(err.params["service_id"], "s2");
}

// Properties of accepted results.

fn arb_target() -> impl Strategy<Value = Target> {
    let ips = prop_oneof![Just("i1"), Just("i2")];
    let ports = prop_oneof![Just("p1"), Just("p2")];
    prop_oneof![
        ips.clone().prop_map(ip),
        (ports.clone(), ips).prop_map(|(p, x)| port(p, Some(x))),
        ports.prop_map(|p| port(p, None)),
    ]
}

fn assert_invariants(result: &[Target]) -> Result<(), TestCaseError> {
    for (i, a) in result.iter().enumerate() {
        for b in &result[i + 1..] {
            prop_assert_ne!(a, b, "duplicate");
            prop_assert!(
                !a.superseded_by(b) && !b.superseded_by(a),
                "P(p,x) beside P(p,*)"
            );
            prop_assert!(!same_service_conflict(a, b), "conflict {:?} {:?}", a, b);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn accepted_sets_keep_the_invariants_and_are_stable(list in proptest::collection::vec(arb_target(), 0..8)) {
        if let Ok(first) = replace(&list, &[], &[]) {
            let result = targets(&first);
            assert_invariants(&result)?;
            prop_assert!(first.removed.is_empty());
            // Store it, then apply the same request again: nothing changes.
            let stored: Vec<Live> = result.iter().enumerate()
                .map(|(i, t)| Live { id: format!("b{i}"), target: t.clone() }).collect();
            let second = replace(&list, &stored, &[]).unwrap();
            prop_assert!(second.removed.is_empty());
            let expected: Vec<Slot> = stored.iter()
                .map(|l| Slot::Keep { id: l.id.clone(), target: l.target.clone(), changed: false }).collect();
            prop_assert_eq!(second.result, expected);
        }
    }

    #[test]
    fn adding_one_by_one_keeps_the_invariants(list in proptest::collection::vec(arb_target(), 0..8)) {
        let owners = owners();
        let mut stored: Vec<Live> = Vec::new();
        for (n, t) in list.into_iter().enumerate() {
            let ctx = Context { host_id: "h", owners: &owners, live: &stored, held: &[] };
            if let Ok(plan) = plan(Change::Add(single(t)), &ctx) {
                stored = plan.result.iter().map(|s| match s {
                    Slot::Keep { id, target, .. } => Live { id: id.clone(), target: target.clone() },
                    Slot::Create { target } => Live { id: format!("n{n}"), target: target.clone() },
                }).collect();
                let result: Vec<Target> = stored.iter().map(|l| l.target.clone()).collect();
                assert_invariants(&result)?;
            }
        }
    }

    #[test]
    fn accepted_sets_never_overlap_other_services(list in proptest::collection::vec(arb_target(), 0..6), theirs in arb_target()) {
        let others = [held("s2", "b9", theirs.clone())];
        if let Ok(plan) = replace(&list, &[], &others) {
            for t in targets(&plan) {
                prop_assert!(!ports_overlap(&t, &theirs));
            }
        }
    }
}

#[test]
fn a_document_relying_on_folding_is_told_which_binding_is_redundant() {
    let (a, b, c) = (ip("i1"), port("p1", Some("i1")), port("p1", None));
    assert_eq!(first_redundant(&[&a, &b]), None);
    assert_eq!(first_redundant(&[&a, &b, &a]), Some((2, 0)), "identical");
    assert_eq!(
        first_redundant(&[&b, &c]),
        Some((0, 1)),
        "covered by the all-interfaces binding after it"
    );
    assert_eq!(first_redundant(&[&c, &b]), Some((1, 0)));
    assert_eq!(first_redundant(&[&c, &port("p2", Some("i1"))]), None);
    assert_eq!(first_redundant(&[]), None);
}

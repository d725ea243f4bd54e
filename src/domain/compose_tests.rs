use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

fn env(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

#[test]
fn interpolation_forms() {
    let e = env(&[("PORT", "8080"), ("EMPTY", "")]);
    let cases = [
        ("${PORT}", "8080"),
        ("$PORT/x", "8080/x"),
        ("${MISSING}", ""),
        ("${MISSING:-80}", "80"),
        ("${EMPTY:-80}", "80"),
        ("${EMPTY-80}", ""),
        ("${MISSING-80}", "80"),
        ("${PORT:-80}", "8080"),
        ("${PORT:+on}", "on"),
        ("${EMPTY:+on}", ""),
        ("${EMPTY+on}", "on"),
        ("$$PORT", "$PORT"),
        ("cost: 5$", "cost: 5$"),
        ("a${PORT}b${PORT}c", "a8080b8080c"),
    ];
    for (text, want) in cases {
        assert_eq!(interpolate(text, &e).unwrap(), want, "{text}");
    }
    assert!(interpolate("${PORT", &e).is_err());
    assert!(interpolate("${MISSING:?set it}", &e)
        .unwrap_err()
        .0
        .contains("set it"));
    assert!(interpolate("${EMPTY?x}", &e).is_ok());
    assert!(interpolate("${1BAD}", &e).is_err());
    assert!(interpolate("${PORT/x}", &e).is_err());
}

fn ports(compose: &str) -> Vec<(Option<u16>, u16, &'static str)> {
    exposed_ports(compose, &env(&[("WEB", "8081")]))
        .unwrap()
        .into_iter()
        .map(|p| {
            let proto = match p.protocol {
                TransportProtocol::Tcp => "tcp",
                TransportProtocol::Udp => "udp",
                TransportProtocol::Sctp => "sctp",
            };
            (p.host_port, p.container_port, proto)
        })
        .collect()
}

#[test]
fn short_and_long_syntax() {
    let compose = r#"
services:
  web:
    image: nginx
    ports:
      - "8080:80"
      - "127.0.0.1:53:53/udp"
      - "9000"
      - 3000
      - "8000-8002:9000-9002"
      - "[::1]:6001:6001"
      - "${WEB}:443"
      - "${OTHER:-7000}:7000/tcp"
      - target: 5432
        published: "15432"
        protocol: tcp
      - target: 162
        published: 1162
        protocol: udp
        host_ip: 0.0.0.0
      - target: 9999
  db:
    image: postgres
"#;
    assert_eq!(
        ports(compose),
        vec![
            (Some(8080), 80, "tcp"),
            (Some(53), 53, "udp"),
            (None, 9000, "tcp"),
            (None, 3000, "tcp"),
            (Some(8000), 9000, "tcp"),
            (Some(8001), 9001, "tcp"),
            (Some(8002), 9002, "tcp"),
            (Some(6001), 6001, "tcp"),
            (Some(8081), 443, "tcp"),
            (Some(7000), 7000, "tcp"),
            (Some(15432), 5432, "tcp"),
            (Some(1162), 162, "udp"),
            (None, 9999, "tcp"),
        ]
    );
}

#[test]
fn a_file_without_ports_publishes_nothing() {
    assert!(ports("services:\n  a:\n    image: x\n").is_empty());
}

#[test]
fn invalid_files() {
    let e = Map::new();
    for bad in [
        "services: [",
        "version: '3'",
        "services: 5",
        "- just\n- a list",
        "",
        "services:\n  a:\n    ports: \"80:80\"",
        "services:\n  a:\n    ports:\n      - \"80:80:80:80\"",
        "services:\n  a:\n    ports:\n      - \"8000-8001:80\"",
        "services:\n  a:\n    ports:\n      - \"70000:80\"",
        "services:\n  a:\n    ports:\n      - \"80:80/icmp\"",
        "services:\n  a:\n    ports:\n      - published: 80",
    ] {
        assert!(exposed_ports(bad, &e).is_err(), "{bad:?}");
    }
}

#[test]
fn short_syntax_edge_cases() {
    let m = PortMapping::parse("127.0.0.1::80").unwrap();
    assert_eq!(m.published, None);
    assert_eq!(m.to_string(), "127.0.0.1::80");
    assert!(
        PortMapping::parse("fe80::1:80:80").is_err(),
        "IPv6 needs brackets"
    );
    assert!(
        PortMapping::parse("90-80:90-80").is_err(),
        "backwards range"
    );
    assert_eq!(
        PortMapping::parse("53:53/UDP").unwrap().protocol,
        TransportProtocol::Udp
    );
}

fn arb_range() -> impl Strategy<Value = PortRange> {
    (1u16..=65535, 0u16..4).prop_map(|(start, extra)| {
        let start = start.min(65535 - extra);
        PortRange {
            start,
            end: start + extra,
        }
    })
}

fn arb_mapping() -> impl Strategy<Value = PortMapping> {
    let ip = prop_oneof![
        Just(None),
        any::<u32>().prop_map(|b| Some(IpAddr::from(std::net::Ipv4Addr::from(b)))),
        any::<u128>().prop_map(|b| Some(IpAddr::from(std::net::Ipv6Addr::from(b)))),
    ];
    let proto = prop_oneof![
        Just(TransportProtocol::Tcp),
        Just(TransportProtocol::Udp),
        Just(TransportProtocol::Sctp)
    ];
    (ip, arb_range(), any::<bool>(), proto).prop_map(|(host_ip, target, published, protocol)| {
        PortMapping {
            host_ip,
            published: if published {
                let start = target.start.min(65535 - (target.end - target.start)).max(1);
                Some(PortRange {
                    start,
                    end: start + (target.end - target.start),
                })
            } else {
                None
            },
            target,
            protocol,
        }
    })
}

proptest! {
    #[test]
    fn formatting_and_reparsing_is_stable(m in arb_mapping()) {
        let text = m.to_string();
        let parsed = PortMapping::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &m);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn expansion_has_one_entry_per_container_port(m in arb_mapping()) {
        let entries = m.expand();
        prop_assert_eq!(entries.len(), m.target.len());
        for (i, e) in entries.iter().enumerate() {
            prop_assert_eq!(e.container_port as usize, m.target.start as usize + i);
        }
    }

    #[test]
    fn text_without_dollars_is_unchanged(s in "[^$]{0,40}") {
        prop_assert_eq!(interpolate(&s, &Map::new()).unwrap(), s);
    }
}

#[test]
fn published_ports_are_capped_before_expansion() {
    let line = "      - \"1-65535:1-65535\"\n";
    let compose = format!("services:\n  web:\n    ports:\n{}", line.repeat(300));
    let err = exposed_ports(&compose, &env(&[])).unwrap_err();
    assert!(err.0.contains("more than 1024 ports"), "{}", err.0);
    assert!(err.0.starts_with("services.web.ports[0]"), "{}", err.0);

    let at_cap =
        "services:\n  web:\n    ports:\n      - \"2000-2999:2000-2999\"\n      - \"9000-9023\"\n";
    assert_eq!(exposed_ports(at_cap, &env(&[])).unwrap().len(), 1024);
    let over = format!("{at_cap}      - \"1\"\n");
    assert!(exposed_ports(&over, &env(&[])).is_err());
}

#[test]
fn alias_bombs_and_deep_nesting_are_refused() {
    let mut bomb = String::from("x0: &a0 [a, a, a, a, a, a, a, a, a, a]\n");
    for i in 1..12 {
        let prev = i - 1;
        bomb.push_str(&format!(
            "x{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    bomb.push_str("services:\n  web:\n    image: x\n");
    let err = exposed_ports(&bomb, &env(&[])).unwrap_err();
    assert!(err.0.contains("too large"), "{}", err.0);

    for deep in [
        format!(
            "services:\n  web:\n    labels:\n      {}x\n",
            "- ".repeat(200_000)
        ),
        format!(
            "services:\n  web:\n    labels: {}x{}\n",
            "[".repeat(200),
            "]".repeat(200)
        ),
    ] {
        let err = exposed_ports(&deep, &env(&[])).unwrap_err();
        assert!(err.0.contains("too large"), "{}", err.0);
    }

    // Ordinary anchors, as compose files use them, still load.
    let merged = "x-common: &common\n  image: nginx\nservices:\n  a:\n    <<: *common\n    ports: [\"80:80\"]\n  b:\n    <<: *common\n";
    assert_eq!(exposed_ports(merged, &env(&[])).unwrap().len(), 1);
}

#[test]
fn interpolation_may_not_multiply_the_text() {
    let big = "x".repeat(10_000);
    let text = "${A}".repeat(200);
    let err = interpolate(&text, &env(&[("A", &big)])).unwrap_err();
    assert!(err.0.contains("MiB"), "{}", err.0);
}

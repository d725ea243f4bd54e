//! Reports reconciled into the inventory: one host per machine, one service per container or
//! program, bindings from sockets and published ports, what vanished closed, neighbours as
//! hosts, a scan's guess corrected but never a person's edit, and a report that changes
//! nothing writing nothing.

use serde_json::{json, Value};

use crate::agents::{agent, report};
use crate::helpers::{assert_error, spawn_app, TestApp};

const MACHINE: &str = "4c4c4544004e3010804bb4c04f4d4e32";

fn container_id(c: char) -> String {
    c.to_string().repeat(64)
}

fn lab_report(jellyfin_state: &str, with_db: bool) -> Value {
    let mut containers = vec![json!({
        "id": container_id('a'), "name": "media-jellyfin-1", "image": "lscr.io/linuxserver/jellyfin:10.9.11",
        "labels": {"com.docker.compose.project": "media", "com.docker.compose.service": "jellyfin"},
        "state": jellyfin_state,
        "ports": if jellyfin_state == "running" {
            json!([{"host_ip": "0.0.0.0", "host_port": 8096, "container_port": 8096, "protocol": "tcp"},
                   {"host_ip": "::", "host_port": 8096, "container_port": 8096, "protocol": "tcp"}])
        } else { json!([]) },
        "networks": [{"name": "media_default", "ip": "172.18.0.2", "mac": "02:42:ac:12:00:02"}]})];
    if with_db {
        containers.push(json!({
            "id": container_id('b'), "name": "media-db-1", "image": "postgres:16",
            "compose_project": "media", "compose_service": "db", "state": "running", "ports": []}));
    }
    json!({
        "host": {"hostname": "nas", "machine_id": MACHINE, "os": "Debian GNU/Linux 12 (bookworm)",
                 "kernel": "6.1.0-18-amd64", "agent_version": "0.3.0", "uptime_s": 86400},
        "interfaces": [{"name": "eth0", "mac": "52:54:00:12:34:56", "addresses": ["10.20.0.20/24", "fe80::5054:ff:fe12:3456/64"], "up": true}],
        "listeners": [
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 22, "process": {"pid": 612, "name": "sshd", "exe": "/usr/sbin/sshd"}},
            {"protocol": "Tcp", "address": "::", "port": 22, "process": {"pid": 612, "name": "sshd", "exe": "/usr/sbin/sshd"}},
            {"protocol": "Tcp", "address": "10.20.0.20", "port": 8000, "process": {"pid": 700, "name": "python3", "exe": "/usr/bin/python3.11"}},
            {"protocol": "Tcp", "address": "0.0.0.0", "port": 8096, "process": {"pid": 800, "name": "docker-proxy"}}
        ],
        "containers": containers,
        "neighbours": [{"ip": "10.20.0.1", "mac": "aa:bb:cc:dd:ee:ff", "device": "eth0"}]
    })
}

fn services_on(app: &TestApp, host: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/services?host_id={host}&limit=100"));
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().as_array().unwrap().clone()
}

fn named<'a>(services: &'a [Value], name: &str) -> &'a Value {
    services
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} in {services:?}"))
}

fn journal_count(app: &TestApp) -> i64 {
    app.count("changes")
}

#[test]
fn a_report_becomes_a_host_its_services_and_its_neighbours_and_again_writes_nothing() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "10.20.0.0/24");
    let (agent_id, token) = agent(&app, &net, "nas-agent");
    let r = app.raw_with(
        "POST",
        "/api/v1/agent/report",
        Some(&token),
        Some((
            "application/json",
            lab_report("running", true).to_string().as_bytes(),
        )),
        &[
            ("X-Portolan-Agent-Capabilities", "docker,scan"),
            ("X-Portolan-Agent-Interval", "30"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["changed"], true);
    let host = r.data()["host_id"].as_str().unwrap().to_string();
    let discovery = r.data()["discovery_id"].as_str().unwrap().to_string();

    let h = app.get(&format!("/api/v1/hosts/{host}"));
    assert_eq!(h.data()["name"], "nas");
    assert_eq!(h.data()["machine_id"], MACHINE);
    let listed = app.get(&format!("/api/v1/hosts?network_id={net}&limit=100"));
    for entry in listed.data().as_array().unwrap() {
        let expected = if entry["id"] == json!(host) {
            json!(MACHINE)
        } else {
            Value::Null
        };
        assert_eq!(
            entry.get("machine_id").cloned().unwrap_or(Value::Null),
            expected,
            "{entry}"
        );
    }
    let light = app.get(&format!(
        "/api/v1/hosts?network_id={net}&include=ip_addresses&limit=100"
    ));
    assert!(light.body.to_string().contains(MACHINE));
    let ips = h.data()["ip_addresses"].as_array().unwrap();
    let v4 = ips
        .iter()
        .find(|i| i["ip_address"] == "10.20.0.20")
        .unwrap();
    assert_eq!(v4["mac_address"], "52:54:00:12:34:56");
    assert!(v4["subnet_id"].is_string());

    let services = services_on(&app, &host);
    assert_eq!(services.len(), 4, "{services:?}");
    let ssh = named(&services, "sshd");
    assert_eq!(ssh["service_definition"], "SSH");
    assert_eq!(ssh["source"]["type"], "Discovery");
    assert_eq!(ssh["source"]["details"]["reason"], "process sshd");
    assert_eq!(ssh["source"]["details"]["process"]["exe"], "/usr/sbin/sshd");
    let ssh_bindings = ssh["bindings"].as_array().unwrap();
    assert_eq!(ssh_bindings.len(), 1, "0.0.0.0 and :: are one P(22,*)");
    assert_eq!(ssh_bindings[0]["ip_address_id"], Value::Null);
    let python = named(&services, "python3");
    assert_eq!(python["service_definition"], "Custom");
    assert_eq!(
        python["bindings"][0]["ip_address_id"], v4["id"],
        "P(8000,x)"
    );
    let jellyfin = named(&services, "jellyfin");
    assert_eq!(jellyfin["service_definition"], "Jellyfin");
    assert_eq!(
        jellyfin["source"]["details"]["reason"],
        "image lscr.io/linuxserver/jellyfin"
    );
    let container = &jellyfin["container"];
    assert_eq!(container["compose_project"], "media");
    assert_eq!(container["compose_service"], "jellyfin");
    assert_eq!(container["state"], "running");
    assert_eq!(container, &jellyfin["source"]["details"]["container"]);
    assert_eq!(ssh["process"]["name"], "sshd");
    assert!(ssh.get("container").is_none() && jellyfin.get("process").is_none());
    // A single read and the host's children say the same.
    let one = app.get(&format!(
        "/api/v1/services/{}",
        jellyfin["id"].as_str().unwrap()
    ));
    assert_eq!(one.data()["container"], *container);
    let with_children = app.get(&format!("/api/v1/hosts/{host}"));
    let listed = with_children.data()["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "jellyfin")
        .cloned()
        .unwrap();
    assert_eq!(listed["container"], *container);
    assert_eq!(
        jellyfin["bindings"].as_array().unwrap().len(),
        1,
        "docker-proxy folded in"
    );
    let db = named(&services, "db");
    assert_eq!(db["service_definition"], "PostgreSQL");
    assert_eq!(db["bindings"], json!([]), "no published ports, no bindings");

    // The neighbour is a host with its address and MAC.
    let r = app.get(&format!("/api/v1/ip-addresses?network_id={net}&limit=100"));
    let gw = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ip_address"] == "10.20.0.1")
        .cloned()
        .unwrap();
    assert_eq!(gw["mac_address"], "AA:BB:CC:DD:EE:FF");
    assert_ne!(gw["host_id"], json!(host));
    let neighbour = app.get(&format!(
        "/api/v1/hosts/{}",
        gw["host_id"].as_str().unwrap()
    ));
    assert_eq!(neighbour.data()["source"]["details"]["reason"], "arp");
    assert_eq!(h.data()["source"]["details"]["reason"], "agent report");

    // The journal names the agent; the discovery is of source agent.
    let actors: Vec<(String, Option<String>)> = app
        .db()
        .prepare("SELECT DISTINCT actor_type, actor_id FROM changes WHERE entity_type NOT IN ('agent', 'api_key', 'network', 'subnet')")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(actors, vec![("agent".to_string(), Some(agent_id.clone()))]);
    let d = app.get(&format!("/api/v1/discoveries/{discovery}"));
    assert_eq!(d.data()["source"], "agent");
    assert_eq!(d.data()["summary"]["services_created"], 4);

    let a = app.get(&format!("/api/v1/agents/{agent_id}"));
    assert_eq!(a.data()["host_id"], json!(host));
    assert_eq!(a.data()["machine_id"], MACHINE);
    assert_eq!(a.data()["version"], "0.3.0");
    assert_eq!(
        a.data()["capabilities"],
        json!({"docker": true, "scan": true, "deploy": false})
    );
    assert_eq!(a.data()["last_report"]["containers"], 2);
    let first_seen = a.data()["last_seen_at"].as_str().unwrap().to_string();

    // The same report again changes nothing and writes nothing but last_seen_at.
    let before = (
        journal_count(&app),
        app.count("discoveries"),
        app.count("hosts"),
    );
    let again = report(&app, &token, &lab_report("running", true));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data()["changed"], false);
    assert_eq!(again.data()["discovery_id"], Value::Null);
    assert_eq!(
        (
            journal_count(&app),
            app.count("discoveries"),
            app.count("hosts")
        ),
        before
    );
    let a = app.get(&format!("/api/v1/agents/{agent_id}"));
    assert!(a.data()["last_seen_at"].as_str().unwrap() > first_seen.as_str());
    assert_eq!(a.data()["last_report"]["changed"], false);

    // Listed in another order, with other pids and uptime, it is the same report.
    let mut shuffled = lab_report("running", true);
    shuffled["listeners"].as_array_mut().unwrap().reverse();
    shuffled["listeners"][0]["process"]["pid"] = json!(4242);
    shuffled["host"]["uptime_s"] = json!(1);
    let r = report(&app, &token, &shuffled);
    assert_eq!(r.data()["changed"], false, "{}", r.body);

    // Someone deletes what the agent reports: the same report puts it back.
    let python_id = named(&services_on(&app, &host), "python3")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.delete(&format!("/api/v1/services/{python_id}")).status,
        200
    );
    let r = report(&app, &token, &lab_report("running", true));
    assert_eq!(r.data()["changed"], true, "{}", r.body);
    assert_eq!(
        named(&services_on(&app, &host), "python3")["service_definition"],
        "Custom"
    );
}

#[test]
fn a_stopped_container_stays_exited_and_a_removed_one_is_closed_in_history() {
    let app = spawn_app();
    let net = app.network("lab");
    let (_, token) = agent(&app, &net, "nas-agent");
    let host = report(&app, &token, &lab_report("running", true)).data()["host_id"]
        .as_str()
        .unwrap()
        .to_string();
    let jellyfin_id = named(&services_on(&app, &host), "jellyfin")["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = report(&app, &token, &lab_report("exited", true));
    assert_eq!(r.data()["changed"], true, "{}", r.body);
    let services = services_on(&app, &host);
    let jellyfin = named(&services, "jellyfin");
    assert_eq!(jellyfin["id"], json!(jellyfin_id));
    assert_eq!(
        jellyfin["source"]["details"]["container"]["state"],
        "exited"
    );
    assert_eq!(
        jellyfin["bindings"].as_array().unwrap().len(),
        1,
        "a stopped container keeps its layout"
    );

    // The db container is gone: its service is closed, and remembered.
    let db_id = named(&services, "db")["id"].as_str().unwrap().to_string();
    let r = report(&app, &token, &lab_report("exited", false));
    assert_eq!(r.data()["changed"], true);
    assert_eq!(app.get(&format!("/api/v1/services/{db_id}")).status, 404);
    let history = app.get(&format!("/api/v1/services/{db_id}/history"));
    assert_eq!(history.status, 200, "{}", history.body);
    assert!(!history.data().as_array().unwrap().is_empty());
    assert_eq!(services_on(&app, &host).len(), 3);
}

#[test]
fn one_host_per_machine_and_a_second_agent_on_it_is_refused() {
    let app = spawn_app();
    let net = app.network("lab");
    let other_net = app.network("other");
    let (_, first) = agent(&app, &net, "first");
    let (_, second) = agent(&app, &net, "second");
    assert_eq!(
        report(&app, &first, &lab_report("running", true)).status,
        200
    );
    let hosts = app.count("hosts");
    let r = report(&app, &second, &lab_report("running", true));
    assert_error(&r, 409, "CONFLICT", Some("host.machine_id"));
    assert_eq!(app.count("hosts"), hosts);

    // The same machine reported into another network by its own agent is that network's host.
    let (_, third) = agent(&app, &other_net, "third");
    let r = report(&app, &third, &lab_report("running", false));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.count("hosts"),
        hosts + 2,
        "the host and its neighbour in the other network"
    );

    // A host renamed by a person keeps its name; the machine finds it again after the agent is
    // deleted and made anew.
    let host = report(&app, &first, &lab_report("running", true)).data()["host_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.put(&format!("/api/v1/hosts/{host}"), json!({"name": "the-nas"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let first_id = app.get("/api/v1/agents?q=first").data()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(&format!("/api/v1/agents/{first_id}"));
    let r = report(&app, &second, &lab_report("running", true));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["host_id"], json!(host));
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{host}")).data()["name"],
        "the-nas"
    );
}

#[test]
fn a_scans_guess_is_corrected_but_a_persons_service_is_left_alone() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "10.20.0.0/24");
    // A scan saw 10.20.0.20 with 8096 and 8000 open.
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations", "observations": [
            {"ip": "10.20.0.20", "ports": [{"number": 8096, "protocol": "Tcp"}, {"number": 8000, "protocol": "Tcp"}]}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let scanned_host = app.get(&format!("/api/v1/hosts?network_id={net}")).data()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = services_on(&app, &scanned_host);
    let guess = before
        .iter()
        .find(|s| {
            s["bindings"].to_string().contains("port_id")
                && s["service_definition"] != "Unclaimed Open Ports"
        })
        .cloned();
    // A person makes the service on 22.
    let port22 = app.port(&scanned_host, 22, "Tcp");
    let manual = app.post(
        "/api/v1/services",
        json!({"host_id": scanned_host, "name": "bastion ssh", "service_definition": "SSH",
               "bindings": [{"type": "Port", "port_id": port22}]}),
    );
    assert_eq!(manual.status, 201, "{}", manual.body);

    let (_, token) = agent(&app, &net, "nas-agent");
    let r = report(&app, &token, &lab_report("running", false));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["host_id"],
        json!(scanned_host),
        "the scanned host, found by its address"
    );
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{scanned_host}")).data()["name"],
        "nas",
        "a discovered host takes the hostname"
    );

    let after = services_on(&app, &scanned_host);
    let jellyfin = named(&after, "jellyfin");
    if let Some(guess) = guess.filter(|g| {
        g["bindings"].to_string().contains(
            &jellyfin["bindings"][0]["port_id"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }) {
        assert_eq!(
            jellyfin["id"], guess["id"],
            "the guess is corrected, not duplicated"
        );
    }
    assert_eq!(jellyfin["service_definition"], "Jellyfin");
    let kept = app.get(&format!("/api/v1/services/{}", manual.id()));
    assert_eq!(kept.data()["name"], "bastion ssh");
    assert_eq!(kept.data()["bindings"], manual.data()["bindings"]);
    assert!(
        after.iter().all(|s| s["name"] != "sshd"),
        "the port a person bound is theirs: {after:?}"
    );
    // No two services share a port binding.
    let mut ports: Vec<String> = after
        .iter()
        .flat_map(|s| s["bindings"].as_array().unwrap().clone())
        .filter_map(|b| b["port_id"].as_str().map(str::to_string))
        .collect();
    let n = ports.len();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), n, "{after:?}");
}

#[test]
fn malformed_reports_are_refused_with_their_path_and_write_nothing() {
    let app = spawn_app();
    let net = app.network("lab");
    let (_, token) = agent(&app, &net, "a");
    let snapshot = app.snapshot();
    let mut bad = lab_report("running", true);
    bad["listeners"][1]["protocol"] = json!("sctp");
    assert_error(
        &report(&app, &token, &bad),
        400,
        "VALIDATION_ERROR",
        Some("listeners[1].protocol"),
    );
    let mut bad = lab_report("running", true);
    bad["extra"] = json!(1);
    assert_error(&report(&app, &token, &bad), 400, "VALIDATION_ERROR", None);
    let mut bad = lab_report("running", true);
    bad["containers"][0]["id"] = json!("not-hex");
    assert_error(
        &report(&app, &token, &bad),
        400,
        "VALIDATION_ERROR",
        Some("containers[0].id"),
    );
    let r = app.raw_with(
        "POST",
        "/api/v1/agent/report",
        Some(&token),
        Some((
            "application/json",
            lab_report("running", true).to_string().as_bytes(),
        )),
        &[("X-Portolan-Agent-Capabilities", "teleport")],
    );
    assert_error(
        &r,
        400,
        "VALIDATION_ERROR",
        Some("X-Portolan-Agent-Capabilities"),
    );
    assert_eq!(app.count("hosts"), 0);
    assert_eq!(app.count("discoveries"), 0);
    let _ = snapshot;
}

#[test]
fn a_report_over_its_limit_is_refused_naming_that_limit() {
    let app = spawn_app();
    let net = app.network("lab");
    let (_, token) = agent(&app, &net, "big-agent");
    let mut big = lab_report("running", true);
    big["host"]["hostname"] = json!("a".repeat(8 << 20));
    let r = app.raw(
        "POST",
        "/api/v1/agent/report",
        Some(&token),
        Some(("application/json", big.to_string().as_bytes())),
    );
    assert_error(&r, 413, "VALIDATION_ERROR", Some("body"));
    assert_eq!(
        r.body["message"],
        json!("The request body is larger than 8 MiB")
    );
    assert_eq!(app.count("hosts"), 0);
    assert_eq!(app.count("discoveries"), 0);
}

#[test]
fn a_guess_a_signed_in_person_edited_is_theirs_too() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "10.20.0.0/24");
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations", "observations": [
            {"ip": "10.20.0.20", "ports": [{"number": 8096, "protocol": "Tcp"}]}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let host = app.get(&format!("/api/v1/hosts?network_id={net}")).data()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let guess = services_on(&app, &host)
        .into_iter()
        .find(|s| s["bindings"].to_string().contains("port_id"))
        .expect("a guess on 8096");
    // A person, signed in with a password (not a key), renames the guess.
    let made = app.post(
        "/api/v1/users",
        json!({"username": "ada", "password": "correct horse battery", "role": "Member"}),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let ada = crate::accounts::Person::from(&crate::accounts::sign_in(
        &app,
        "ada",
        "correct horse battery",
    ));
    let body = json!({"host_id": host, "name": "my media",
                      "service_definition": guess["service_definition"], "bindings": guess["bindings"]});
    let r = ada.call(
        &app,
        "PUT",
        &format!("/api/v1/services/{}", guess["id"].as_str().unwrap()),
        Some(&body),
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let (_, token) = agent(&app, &net, "nas-agent");
    let r = report(&app, &token, &lab_report("running", false));
    assert_eq!(r.status, 200, "{}", r.body);
    let kept = app.get(&format!(
        "/api/v1/services/{}",
        guess["id"].as_str().unwrap()
    ));
    assert_eq!(
        kept.data()["name"],
        "my media",
        "a person's edit, like a key's, is never undone"
    );
}

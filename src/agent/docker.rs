//! The containers of a Docker or Podman engine, through its API on a Unix socket. Two GETs are
//! all the agent asks, so they are plain HTTP/1.0 over the socket (the engine answers and
//! closes) rather than a second HTTP stack in the binary.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::{json, Map, Value};

/// `GET path` on the engine's socket; the JSON body of a 200.
fn get(socket: &str, path: &str) -> Result<Value, String> {
    let mut stream =
        UnixStream::connect(socket).map_err(|e| format!("cannot reach {socket}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: engine\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("{socket}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{socket}: no HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("{socket}: GET {path} answered {status}"));
    }
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body).ok_or_else(|| format!("{socket}: malformed chunked body"))?;
    }
    serde_json::from_slice(&body).map_err(|e| format!("{socket}: {e}"))
}

/// A chunked body's data.
pub fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// `unix:///var/run/docker.sock` -> `/var/run/docker.sock`.
pub fn socket_path(endpoint: &str) -> &str {
    endpoint.strip_prefix("unix://").unwrap_or(endpoint)
}

/// Every container (running or not) in a report's shape.
pub fn containers(endpoint: &str) -> Result<Vec<Value>, String> {
    let socket = socket_path(endpoint);
    let listed = get(socket, "/containers/json?all=1")?;
    let items = listed
        .as_array()
        .ok_or("the engine's list is not an array")?;
    Ok(items.iter().map(container).collect())
}

/// `(containers, running)` of a compose project.
pub fn project_state(endpoint: &str, project: &str) -> Result<(usize, usize), String> {
    // `{"label":["com.docker.compose.project=<project>"]}`, URL-encoded; a project name is
    // lower-case letters, digits, `-` and `_`, which need no escaping.
    let filter = format!("%7B%22label%22%3A%5B%22com.docker.compose.project%3D{project}%22%5D%7D");
    let listed = get(
        socket_path(endpoint),
        &format!("/containers/json?all=1&filters={filter}"),
    )?;
    let items = listed
        .as_array()
        .ok_or("the engine's list is not an array")?;
    let running = items.iter().filter(|c| c["State"] == "running").count();
    Ok((items.len(), running))
}

fn container(c: &Value) -> Value {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let labels: Map<String, Value> = c["Labels"].as_object().cloned().unwrap_or_default();
    let name = c["Names"]
        .as_array()
        .and_then(|n| n.first())
        .map(|n| text(n).trim_start_matches('/').to_string())
        .unwrap_or_default();
    let mut ports = Vec::new();
    for p in c["Ports"].as_array().into_iter().flatten() {
        let Some(public) = p["PublicPort"].as_u64() else {
            continue;
        };
        let entry = json!({"host_ip": p["IP"].as_str().unwrap_or("0.0.0.0"), "host_port": public,
                           "container_port": p["PrivatePort"], "protocol": p["Type"].as_str().unwrap_or("tcp")});
        if !ports.contains(&entry) {
            ports.push(entry);
        }
    }
    let networks: Vec<Value> = c["NetworkSettings"]["Networks"]
        .as_object()
        .map(|n| {
            n.iter()
                .map(|(name, net)| {
                    let nonempty = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
                    json!({"name": name, "ip": nonempty(&net["IPAddress"]), "mac": nonempty(&net["MacAddress"])})
                })
                .collect()
        })
        .unwrap_or_default();
    let label = |k: &str| labels.get(k).and_then(Value::as_str).map(str::to_string);
    json!({
        "id": text(&c["Id"]), "name": name, "image": text(&c["Image"]),
        "labels": labels.clone(), "state": text(&c["State"]),
        "compose_project": label("com.docker.compose.project"),
        "compose_service": label("com.docker.compose.service"),
        "ports": ports, "networks": networks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"4\r\n[1,2\r\n2\r\n,3\r\n1\r\n]\r\n0\r\n\r\n").unwrap(),
            b"[1,2,3]"
        );
        assert_eq!(dechunk(b"9\r\nshort"), None);
    }

    #[test]
    fn the_engines_list_entry_becomes_a_reported_container() {
        let entry = json!({"Id": "a".repeat(64), "Names": ["/media-web-1"], "Image": "busybox",
            "Labels": {"com.docker.compose.project": "media", "com.docker.compose.service": "web"},
            "State": "running",
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 18080, "Type": "tcp"},
                      {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 18080, "Type": "tcp"},
                      {"PrivatePort": 443, "Type": "tcp"}],
            "NetworkSettings": {"Networks": {"media_default": {"IPAddress": "172.18.0.2", "MacAddress": ""}}}});
        let c = container(&entry);
        assert_eq!(c["name"], "media-web-1");
        assert_eq!(c["compose_service"], "web");
        assert_eq!(c["ports"].as_array().unwrap().len(), 1);
        assert_eq!(c["networks"][0]["mac"], Value::Null);
    }
}

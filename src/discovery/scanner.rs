//! The built-in TCP connect scan: no raw sockets, no root, no alive check (every target address
//! is probed on every chosen port, so hosts that drop pings are found). Probes run
//! concurrently on one async runtime, each under its own timeout; an open port is then asked
//! for evidence: a banner the server sends unasked (SSH, SMTP, ...) or, failing that, a short
//! HTTP request (status, `Server`, `<title>`). UDP is not scanned.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::domain::discovery::{Evidence, Observation, ObservedPort};
use crate::domain::port::Protocol;

/// What a scan probes and how.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub addresses: Vec<IpAddr>,
    pub ports: Vec<u16>,
    pub timeout: Duration,
    pub concurrency: usize,
    pub http_probe: bool,
}

pub use crate::domain::discovery::Progress;

/// How long an open port is given to speak first before it is asked over HTTP.
const BANNER_WAIT: Duration = Duration::from_millis(300);
/// The most of an answer read for evidence.
const EVIDENCE_BYTES: usize = 16 * 1024;

/// Runs the scan; `progress` is updated as probes finish, `cancel` stops it within about
/// 100 ms (probes in flight are dropped). Returns the addresses with at least one open port.
pub async fn scan(
    spec: &ScanSpec,
    progress: &Arc<Mutex<Progress>>,
    cancel: &Arc<AtomicBool>,
) -> Vec<Observation> {
    {
        let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
        *p = Progress {
            addresses_total: spec.addresses.len() as u64,
            probes_total: spec.addresses.len() as u64 * spec.ports.len() as u64,
            ..Progress::default()
        };
    }
    // A connect costs the kernel far more than the runtime: the probes of a large scan are
    // shared by one thread per core, each with a runtime of its own.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let shards = cores.min(spec.addresses.len()).clamp(1, MAX_SHARDS);
    if shards == 1 || spec.addresses.len() * spec.ports.len() < SHARD_ABOVE {
        return scan_shard(spec, progress, cancel).await;
    }
    let mut waiting = Vec::with_capacity(shards);
    for shard in 0..shards {
        let part = ScanSpec {
            addresses: spec
                .addresses
                .iter()
                .skip(shard)
                .step_by(shards)
                .copied()
                .collect(),
            concurrency: (spec.concurrency / shards).max(1),
            ..spec.clone()
        };
        let (progress, cancel) = (progress.clone(), cancel.clone());
        let (done, found) = tokio::sync::oneshot::channel();
        let started = std::thread::Builder::new()
            .name(format!("scan-shard-{shard}"))
            .spawn(move || {
                let observed = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(scan_shard(&part, &progress, &cancel)))
                    .unwrap_or_default();
                let _ = done.send(observed);
            });
        if started.is_ok() {
            waiting.push(found);
        }
    }
    let mut all = Vec::new();
    for found in waiting {
        all.extend(found.await.unwrap_or_default());
    }
    all.sort_by_key(|o| spec.addresses.iter().position(|a| *a == o.ip));
    all
}

/// Probes at most this many cores' worth of shards.
const MAX_SHARDS: usize = 4;
/// Scans smaller than this stay on one thread: a thread costs more than it saves.
const SHARD_ABOVE: usize = 20_000;

async fn scan_shard(
    spec: &ScanSpec,
    progress: &Mutex<Progress>,
    cancel: &AtomicBool,
) -> Vec<Observation> {
    let per_address = spec.ports.len() as u64;
    let pairs = spec
        .addresses
        .iter()
        .enumerate()
        .flat_map(|(i, ip)| spec.ports.iter().map(move |port| (i, *ip, *port)));
    let probes =
        stream::iter(pairs)
            .map(|(i, ip, port)| async move {
                (i, probe(ip, port, spec.timeout, spec.http_probe).await)
            })
            .buffer_unordered(spec.concurrency.max(1));
    tokio::pin!(probes);

    let mut done_per_address = vec![0u64; spec.addresses.len()];
    let mut open: BTreeMap<usize, Vec<ObservedPort>> = BTreeMap::new();
    loop {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let next = tokio::time::timeout(Duration::from_millis(100), probes.next()).await;
        let (i, found) = match next {
            Ok(Some(result)) => result,
            Ok(None) => break,
            Err(_) => continue,
        };
        done_per_address[i] += 1;
        let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
        p.probes_done += 1;
        if done_per_address[i] == per_address {
            p.addresses_done += 1;
        }
        if let Some(port) = found {
            p.open_found += 1;
            open.entry(i).or_default().push(port);
        }
    }
    open.into_iter()
        .map(|(i, mut ports)| {
            ports.sort_by_key(|p| p.number);
            Observation {
                ip: spec.addresses[i],
                mac: None,
                hostname: None,
                ports,
            }
        })
        .collect()
}

/// One TCP connect; `Some` when the port accepted, with whatever evidence it gave.
async fn probe(ip: IpAddr, port: u16, timeout: Duration, http_probe: bool) -> Option<ObservedPort> {
    let connect = TcpStream::connect(SocketAddr::new(ip, port));
    let stream = tokio::time::timeout(timeout, connect).await.ok()?.ok()?;
    let evidence = evidence(stream, ip, timeout, http_probe).await;
    Some(ObservedPort {
        number: port,
        protocol: Protocol::Tcp,
        service_type: None,
        service_name: None,
        evidence,
    })
}

async fn evidence(
    mut stream: TcpStream,
    ip: IpAddr,
    timeout: Duration,
    http_probe: bool,
) -> Evidence {
    let mut buf = vec![0u8; EVIDENCE_BYTES];
    let wait = BANNER_WAIT.min(timeout);
    if let Ok(Ok(n)) = tokio::time::timeout(wait, stream.read(&mut buf)).await {
        if n > 0 {
            return Evidence {
                banner: first_line(&buf[..n]),
                ..Evidence::default()
            };
        }
        return Evidence::default();
    }
    if !http_probe {
        return Evidence::default();
    }
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let request = format!(
        "GET / HTTP/1.0\r\nHost: {host}\r\nUser-Agent: portolan-discovery\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return Evidence::default();
    }
    let mut len = 0;
    let read_all = async {
        while len < buf.len() {
            match stream.read(&mut buf[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
        }
    };
    let _ = tokio::time::timeout(timeout, read_all).await;
    http_evidence(&buf[..len])
}

fn first_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line: String = text
        .lines()
        .next()?
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let line = line.trim().to_string();
    (!line.is_empty()).then_some(line)
}

/// The status line, `Server` header and `<title>` of an HTTP answer, if it is one.
pub fn http_evidence(bytes: &[u8]) -> Evidence {
    let text = String::from_utf8_lossy(bytes);
    if !text.starts_with("HTTP/") {
        return Evidence {
            banner: first_line(bytes),
            ..Evidence::default()
        };
    }
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let server = head.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("server")
            .then(|| value.trim().to_string())
    });
    let lower = body.to_ascii_lowercase();
    let title = lower.find("<title").and_then(|start| {
        let open_end = start + lower[start..].find('>')? + 1;
        let close = open_end + lower[open_end..].find("</title")?;
        let t: String = body[open_end..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        (!t.is_empty()).then(|| t.chars().take(200).collect())
    });
    Evidence {
        http_title: title,
        http_server: server.filter(|s| !s.is_empty()),
        answered_http: true,
        ..Evidence::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_answers_give_title_and_server() {
        let e = http_evidence(
            b"HTTP/1.1 200 OK\r\nserver: Caddy\r\nContent-Type: text/html\r\n\r\n<html><head><TITLE>\n  Jellyfin\n</TITLE></head>",
        );
        assert_eq!(e.http_title.as_deref(), Some("Jellyfin"));
        assert_eq!(e.http_server.as_deref(), Some("Caddy"));
        assert!(e.answered_http);
        let e = http_evidence(b"HTTP/1.0 404 Not Found\r\n\r\n");
        assert!(e.answered_http && e.http_title.is_none() && e.http_server.is_none());
        let e = http_evidence(b"220 mail ESMTP Postfix\r\n");
        assert!(!e.answered_http);
        assert_eq!(e.banner.as_deref(), Some("220 mail ESMTP Postfix"));
    }
}

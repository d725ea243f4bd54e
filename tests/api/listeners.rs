//! Loopback listeners for discovery tests: an HTTP server whose title names a catalogue type,
//! a server that speaks an SSH banner first, and one that accepts and stays silent. Each binds
//! a 127.x.y.z address of its own on an ephemeral port and serves until dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy)]
pub enum Kind {
    Http(&'static str),
    SshBanner,
    Silent,
}

pub struct Listener {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Listener {
    pub fn start(ip: &str, kind: Kind) -> Listener {
        let socket = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
        socket.set_nonblocking(true).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match socket.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false).ok();
                        match kind {
                            Kind::Http(title) => {
                                std::thread::spawn(move || serve_http(stream, title));
                            }
                            Kind::SshBanner => {
                                let mut s = stream;
                                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
                                held.push(s);
                            }
                            Kind::Silent => held.push(stream),
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
                if held.len() > 64 {
                    held.drain(..32);
                }
            }
        });
        Listener { addr, stop }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The accept loop polls; give it a moment so the port is closed when drop returns.
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn serve_http(mut stream: TcpStream, title: &str) {
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut buf = [0u8; 2048];
    let _ = stream.read(&mut buf);
    let body =
        format!("<!doctype html><html><head><title>{title}</title></head><body>hi</body></html>");
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nServer: test-server/1.0\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A port nothing listens on: bound and released at once, above 30000 on the given address.
pub fn closed_port(ip: &str) -> u16 {
    for port in 30000..31000u16 {
        if TcpListener::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on {ip}");
}

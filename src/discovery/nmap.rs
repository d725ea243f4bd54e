//! nmap's XML output (`nmap -oX`): hosts that are up, their addresses (IPv4, IPv6, MAC with
//! vendor), hostnames, and open ports (TCP and UDP) with nmap's service name, product and
//! version as evidence.

use std::net::IpAddr;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::domain::discovery::{Evidence, Observation, ObservedPort};
use crate::domain::port::Protocol;
use crate::error::{ApiError, ApiResult};

#[derive(Default)]
struct HostDraft {
    up: bool,
    ips: Vec<IpAddr>,
    mac: Option<String>,
    hostname: Option<String>,
    ports: Vec<ObservedPort>,
}

#[derive(Default)]
struct PortDraft {
    number: u16,
    protocol: Option<Protocol>,
    open: bool,
    evidence: Evidence,
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::validation("xml", message).with_hint("Upload the output of nmap -oX")
}

/// One observation per host that is up (its first IPv4 address, else its first IPv6 one).
pub fn parse(xml: &str) -> ApiResult<Vec<Observation>> {
    let mut reader = Reader::from_str(xml);
    let mut seen_root = false;
    let mut closed_root = false;
    let mut host: Option<HostDraft> = None;
    let mut port: Option<PortDraft> = None;
    let mut out = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            bad(format!(
                "Malformed XML at byte {}: {e}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.name().as_ref() {
                    b"nmaprun" => seen_root = true,
                    b"host" => host = Some(HostDraft::default()),
                    b"status" => {
                        if let Some(h) = host.as_mut() {
                            h.up = attr(e, "state").as_deref() == Some("up");
                        }
                    }
                    b"address" => {
                        if let (Some(h), Some(addr)) = (host.as_mut(), attr(e, "addr")) {
                            match attr(e, "addrtype").as_deref() {
                                Some("mac") => h.mac = Some(addr),
                                _ => {
                                    if let Ok(ip) = addr.parse::<IpAddr>() {
                                        h.ips.push(ip);
                                    }
                                }
                            }
                        }
                    }
                    b"hostname" => {
                        if let (Some(h), Some(name)) = (host.as_mut(), attr(e, "name")) {
                            h.hostname.get_or_insert(name);
                        }
                    }
                    b"port" => {
                        port = Some(PortDraft {
                            number: attr(e, "portid").and_then(|p| p.parse().ok()).unwrap_or(0),
                            protocol: match attr(e, "protocol").as_deref() {
                                Some("tcp") => Some(Protocol::Tcp),
                                Some("udp") => Some(Protocol::Udp),
                                _ => None,
                            },
                            ..PortDraft::default()
                        })
                    }
                    b"state" => {
                        if let Some(p) = port.as_mut() {
                            p.open = attr(e, "state").as_deref() == Some("open");
                        }
                    }
                    b"service" => {
                        if let Some(p) = port.as_mut() {
                            let name = attr(e, "name").unwrap_or_default();
                            let parts: Vec<String> =
                                [Some(name.clone()), attr(e, "product"), attr(e, "version")]
                                    .into_iter()
                                    .flatten()
                                    .filter(|s| !s.is_empty())
                                    .collect();
                            p.evidence.product = (!parts.is_empty()).then(|| parts.join(" "));
                            p.evidence.answered_http = name.contains("http");
                        }
                    }
                    _ => {}
                }
                // A self-closing element has no end tag to finish it.
                if empty && e.name().as_ref() == b"port" {
                    finish_port(&mut host, &mut port);
                }
            }
            Event::End(e) => match e.name().as_ref() {
                b"nmaprun" => closed_root = true,
                b"port" => finish_port(&mut host, &mut port),
                b"host" => {
                    if let Some(h) = host.take() {
                        let ip = h
                            .ips
                            .iter()
                            .find(|i| i.is_ipv4())
                            .or_else(|| h.ips.first())
                            .copied();
                        if let (true, Some(ip)) = (h.up, ip) {
                            out.push(Observation {
                                ip,
                                mac: h.mac,
                                hostname: h.hostname,
                                ports: h.ports,
                            });
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    if !seen_root {
        return Err(bad("This is not nmap XML: there is no <nmaprun> element"));
    }
    if !closed_root {
        // An interrupted run or a truncated upload: what it lacks would read as hosts and
        // ports that went away.
        return Err(bad(
            "incomplete nmap output: the file ends before </nmaprun> (an interrupted run or a truncated upload)",
        ));
    }
    Ok(out)
}

fn finish_port(host: &mut Option<HostDraft>, port: &mut Option<PortDraft>) {
    let (Some(h), Some(p)) = (host.as_mut(), port.take()) else {
        return;
    };
    if let (true, Some(protocol), true) = (p.open, p.protocol, p.number > 0) {
        h.ports.push(ObservedPort {
            number: p.number,
            protocol,
            service_type: None,
            service_name: None,
            evidence: p.evidence,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sT -oX - 127.77.0.1-3" version="7.93">
<host starttime="1" endtime="2"><status state="up" reason="conn-refused"/>
<address addr="127.77.0.1" addrtype="ipv4"/>
<address addr="AA:BB:CC:00:11:22" addrtype="mac" vendor="Acme"/>
<hostnames><hostname name="nas.lan" type="PTR"/></hostnames>
<ports><extraports state="closed" count="997"/>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="9.2p1" method="probed" conf="10"/></port>
<port protocol="tcp" portid="8096"><state state="open" reason="syn-ack"/><service name="http" product="Jellyfin" method="probed" conf="10"/></port>
<port protocol="tcp" portid="9"><state state="closed" reason="conn-refused"/></port>
<port protocol="udp" portid="53"><state state="open" reason="udp-response"/><service name="domain"/></port>
</ports></host>
<host><status state="down" reason="no-response"/><address addr="127.77.0.2" addrtype="ipv4"/></host>
<runstats><finished time="3"/><hosts up="1" down="1" total="2"/></runstats>
</nmaprun>"#;

    #[test]
    fn up_hosts_with_open_ports_and_their_evidence() {
        let obs = parse(SAMPLE).unwrap();
        assert_eq!(obs.len(), 1);
        let h = &obs[0];
        assert_eq!(h.ip.to_string(), "127.77.0.1");
        assert_eq!(h.mac.as_deref(), Some("AA:BB:CC:00:11:22"));
        assert_eq!(h.hostname.as_deref(), Some("nas.lan"));
        let ports: Vec<(u16, Protocol)> = h.ports.iter().map(|p| (p.number, p.protocol)).collect();
        assert_eq!(
            ports,
            [
                (22, Protocol::Tcp),
                (8096, Protocol::Tcp),
                (53, Protocol::Udp)
            ]
        );
        assert_eq!(
            h.ports[0].evidence.product.as_deref(),
            Some("ssh OpenSSH 9.2p1")
        );
        assert!(h.ports[1].evidence.answered_http);
    }

    #[test]
    fn malformed_or_foreign_xml_is_refused_on_the_xml_field() {
        for bad in [
            "<nmaprun><host></nmaprun>",
            "<html></html>",
            "not xml at all <",
            "",
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("xml"), "{bad}");
        }
    }
}

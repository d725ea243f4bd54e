//! Where the server may send requests of its own (webhook receivers): `http` and `https` URLs
//! whose addresses are not link-local (cloud metadata services live at 169.254.169.254),
//! unspecified or multicast, nor in the operator's extra deny list. Loopback and private
//! addresses stay allowed: a homelab's receivers live there.

use std::net::IpAddr;

use super::net::Cidr;
use super::{Invalid, Parsed};

/// The blocks no receiver may be in, whatever the configuration says.
const ALWAYS_DENIED: [&str; 7] = [
    "169.254.0.0/16",
    "fe80::/10",
    "0.0.0.0/8",
    "::/128",
    "224.0.0.0/4",
    "255.255.255.255/32",
    "ff00::/8",
];

/// The most characters a receiver URL may have.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Clone)]
pub struct Receivers {
    denied: Vec<Cidr>,
}

impl Default for Receivers {
    fn default() -> Self {
        Receivers::with_extra(Vec::new())
    }
}

/// A receiver URL split where the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverUrl {
    /// The host as written, without brackets around an IPv6 address.
    pub host: String,
    pub port: u16,
}

impl ReceiverUrl {
    /// The host's address when the URL names one instead of a name.
    pub fn literal(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl Receivers {
    /// The fixed list plus the operator's blocks (`PORTOLAN_WEBHOOK_DENY`).
    pub fn with_extra(extra: Vec<Cidr>) -> Self {
        let mut denied: Vec<Cidr> = ALWAYS_DENIED
            .iter()
            .map(|c| Cidr::parse(c).expect("the fixed deny list parses"))
            .collect();
        denied.extend(extra);
        Receivers { denied }
    }

    /// Parses a comma-separated list of CIDRs, as the environment gives it.
    pub fn parse_extra(list: &str) -> Parsed<Vec<Cidr>> {
        list.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(Cidr::parse)
            .collect()
    }

    pub fn refuses(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address reaches the IPv4 address it carries.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.denied.iter().any(|c| c.contains(ip))
    }

    /// Checks a receiver URL as written: scheme, host, port, length, and an address literal
    /// against the deny list. A host name is checked where it is resolved.
    pub fn check_url(&self, url: &str) -> Parsed<ReceiverUrl> {
        let (rest, default_port) = if let Some(rest) = url.strip_prefix("http://") {
            (rest, 80)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (rest, 443)
        } else {
            return Err(Invalid::new("The URL must start with http:// or https://"));
        };
        if url.len() > MAX_URL_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid::new(format!(
                "The URL must be at most {MAX_URL_LEN} characters, without spaces or control characters"
            )));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(host_port)
            .ok_or_else(|| Invalid::new("The URL must name a host (and a port from 1 to 65535)"))?;
        let parsed = ReceiverUrl {
            host: host.to_string(),
            port: port.unwrap_or(default_port),
        };
        if let Some(ip) = parsed.literal() {
            self.check_address(ip)?;
        }
        Ok(parsed)
    }

    pub fn check_address(&self, ip: IpAddr) -> Parsed<()> {
        if self.refuses(ip) {
            Err(Invalid::new(format!(
                "{ip} is not a permitted receiver address (link-local, unspecified, multicast or denied by PORTOLAN_WEBHOOK_DENY)"
            )))
        } else {
            Ok(())
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; `None` for an empty host or a bad port.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
        None => None,
    };
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    valid_host.then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_unspecified_and_multicast_are_refused_loopback_and_private_are_not() {
        let r = Receivers::default();
        for bad in [
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "::ffff:169.254.169.254",
            "255.255.255.255",
        ] {
            assert!(r.refuses(bad.parse().unwrap()), "{bad}");
        }
        for good in [
            "127.0.0.1",
            "10.0.0.5",
            "192.168.1.2",
            "::1",
            "fd00::1",
            "8.8.8.8",
        ] {
            assert!(!r.refuses(good.parse().unwrap()), "{good}");
        }
        let extra = Receivers::with_extra(Receivers::parse_extra("10.0.0.0/8, fd00::/8").unwrap());
        assert!(extra.refuses("10.1.2.3".parse().unwrap()));
        assert!(extra.refuses("fd00::5".parse().unwrap()));
        assert!(!extra.refuses("192.168.0.1".parse().unwrap()));
        assert!(Receivers::parse_extra("10.0.0.1/8").is_err());
    }

    #[test]
    fn urls_are_checked_as_written() {
        let r = Receivers::default();
        let ok = |u: &str| r.check_url(u).unwrap();
        assert_eq!(
            ok("http://127.0.0.1:9000/hook"),
            ReceiverUrl {
                host: "127.0.0.1".into(),
                port: 9000
            }
        );
        assert_eq!(ok("https://ntfy.lan/topic").port, 443);
        assert_eq!(ok("http://user:pw@hooks.lan/x").host, "hooks.lan");
        assert_eq!(ok("http://[::1]:8080/").host, "::1");
        for bad in [
            "javascript:alert(1)",
            "ftp://x/",
            "http://",
            "http:///path",
            "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/",
            "http://0.0.0.0:80/",
            "http://host:0/",
            "http://host:99999/",
            "http://a b/",
            "http://host/\u{0}",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(r.check_url(bad).is_err(), "{bad}");
        }
    }
}

//! IP addresses, CIDR blocks and MAC addresses.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::{Invalid, Parsed};

pub fn parse_ip(s: &str) -> Parsed<IpAddr> {
    IpAddr::from_str(s.trim())
        .map_err(|_| Invalid::new(format!("\"{s}\" is not an IPv4 or IPv6 address")))
}

/// A network block whose host bits are zero, e.g. `10.0.0.0/24` (never `10.0.0.5/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

fn to_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 32 {
        u32::MAX as u128
    } else {
        u128::MAX
    };
    if prefix == 0 {
        0
    } else {
        (all << (width - prefix)) & all
    }
}

impl Cidr {
    pub fn parse(s: &str) -> Parsed<Cidr> {
        let (addr, prefix) = s.split_once('/').ok_or_else(|| {
            Invalid::new(format!("\"{s}\" is not in CIDR notation (address/prefix)"))
        })?;
        let network = parse_ip(addr)?;
        let (bits, width) = to_bits(network);
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= width)
            .ok_or_else(|| Invalid::new(format!("prefix length must be 0 to {width}")))?;
        if bits & !mask(prefix, width) != 0 {
            let base = from_bits(bits & mask(prefix, width), width);
            return Err(Invalid::new(format!(
                "\"{s}\" has host bits set; the network is {base}/{prefix}"
            )));
        }
        Ok(Cidr { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = to_bits(self.network);
        let (bits, ip_width) = to_bits(ip);
        width == ip_width && bits & mask(self.prefix, width) == net
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the block holds (saturating for huge IPv6 blocks).
    pub fn size(&self) -> u128 {
        let (_, width) = to_bits(self.network);
        let host_bits = u32::from(width - self.prefix);
        1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
    }

    /// The block's addresses a scan probes: every one, except an IPv4 block's network and
    /// broadcast addresses when it is wider than /31 (no host answers there).
    pub fn hosts(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let (net, width) = to_bits(self.network);
        let skip_ends = width == 32 && self.prefix < 31;
        let size = self.size();
        let (first, last) = if skip_ends {
            (1, size.saturating_sub(1))
        } else {
            (0, size)
        };
        (first..last).map(move |i| from_bits(net + i, width))
    }
}

fn from_bits(bits: u128, width: u8) -> IpAddr {
    if width == 32 {
        IpAddr::from(std::net::Ipv4Addr::from(bits as u32))
    } else {
        IpAddr::from(std::net::Ipv6Addr::from(bits))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A 48-bit MAC address, written `AA:BB:CC:DD:EE:FF` on output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacAddress([u8; 6]);

impl MacAddress {
    pub fn parse(s: &str) -> Parsed<MacAddress> {
        let bad = || {
            Invalid::new(format!(
                "\"{s}\" is not a MAC address like AA:BB:CC:DD:EE:FF"
            ))
        };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let part = parts.next().ok_or_else(bad)?;
            if part.len() != 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddress(out))
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// `PORTOLAN_DNS_SERVERS`: `127.0.0.1:5353,192.168.1.1` (port 53 when left out).
pub fn parse_dns_servers(text: &str) -> Result<Vec<std::net::SocketAddr>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    s.parse::<IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, 53))
                })
                .map_err(|_| format!("\"{s}\" is not an address or address:port"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_servers_take_port_53_unless_given() {
        assert_eq!(
            parse_dns_servers("127.0.0.1:5353, 10.0.0.1,[::1]:53").unwrap(),
            vec![
                "127.0.0.1:5353".parse().unwrap(),
                "10.0.0.1:53".parse().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
        assert!(parse_dns_servers("dns.lan").is_err());
        assert!(parse_dns_servers("").unwrap().is_empty());
    }
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn cidr_accepts_aligned_blocks() {
        for ok in [
            "10.0.0.0/24",
            "0.0.0.0/0",
            "192.168.1.7/32",
            "fd00::/8",
            "2001:db8::/32",
            "::/0",
        ] {
            assert!(Cidr::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn cidr_rejects_host_bits_and_bad_prefixes() {
        for bad in [
            "10.0.0.5/24",
            "10.0.0.0/33",
            "10.0.0.0",
            "10.0.0.0/",
            "fd00::1/64",
            "::/129",
            "x/8",
            "10.0.0.0/-1",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        let msg = Cidr::parse("10.0.0.5/24").unwrap_err().0;
        assert!(msg.contains("10.0.0.0/24"), "{msg}");
    }

    #[test]
    fn cidr_contains() {
        let net = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(net.contains("10.0.0.1".parse().unwrap()));
        assert!(net.contains("10.0.0.255".parse().unwrap()));
        assert!(!net.contains("10.0.1.0".parse().unwrap()));
        assert!(!net.contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        let v6 = Cidr::parse("fd00::/64").unwrap();
        assert!(v6.contains("fd00::abcd".parse().unwrap()));
        assert!(!v6.contains("fd00:0:0:1::1".parse().unwrap()));
    }

    #[test]
    fn ip_output_is_canonical() {
        assert_eq!(
            parse_ip("2001:0DB8:0000::0001").unwrap().to_string(),
            "2001:db8::1"
        );
        assert!(parse_ip("10.0.0").is_err());
        assert!(parse_ip("010.0.0.1").is_err());
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(
            MacAddress::parse("aa:bb:cc:dd:ee:0f").unwrap().to_string(),
            "AA:BB:CC:DD:EE:0F"
        );
        for bad in [
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "aa-bb-cc-dd-ee-ff",
            "aabb.ccdd.eeff",
            "gg:bb:cc:dd:ee:ff",
            "a:bb:cc:dd:ee:fff",
        ] {
            assert!(MacAddress::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn ipv4_round_trips(bits: u32) {
            let ip = IpAddr::from(Ipv4Addr::from(bits));
            prop_assert_eq!(parse_ip(&ip.to_string()).unwrap(), ip);
        }

        #[test]
        fn ipv6_round_trips(bits: u128) {
            let ip = IpAddr::from(Ipv6Addr::from(bits));
            prop_assert_eq!(parse_ip(&ip.to_string()).unwrap(), ip);
        }

        #[test]
        fn cidr_v4_round_trips_and_contains_its_base(bits: u32, prefix in 0u8..=32) {
            let masked = if prefix == 0 { 0 } else { bits & (u32::MAX << (32 - prefix)) };
            let text = format!("{}/{}", Ipv4Addr::from(masked), prefix);
            let cidr = Cidr::parse(&text).unwrap();
            prop_assert_eq!(cidr.to_string(), text);
            prop_assert!(cidr.contains(IpAddr::from(Ipv4Addr::from(bits))));
        }

        #[test]
        fn cidr_v6_round_trips(bits: u128, prefix in 0u8..=128) {
            let masked = if prefix == 0 { 0 } else { bits & (u128::MAX << (128 - prefix)) };
            let text = format!("{}/{}", Ipv6Addr::from(masked), prefix);
            let cidr = Cidr::parse(&text).unwrap();
            prop_assert_eq!(Cidr::parse(&cidr.to_string()).unwrap(), cidr);
            prop_assert!(cidr.contains(IpAddr::from(Ipv6Addr::from(bits))));
        }

        #[test]
        fn mac_round_trips(bytes: [u8; 6]) {
            let mac = MacAddress(bytes);
            prop_assert_eq!(MacAddress::parse(&mac.to_string()).unwrap(), mac);
            prop_assert_eq!(MacAddress::parse(&mac.to_string().to_lowercase()).unwrap(), mac);
        }
    }
}

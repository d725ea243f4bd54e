//! Port numbers, protocols and the well-known port names derived from them.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::{Invalid, Parsed};

/// A TCP/UDP port number, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortNumber(u16);

impl PortNumber {
    pub fn parse(n: i64) -> Parsed<PortNumber> {
        u16::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .map(PortNumber)
            .ok_or_else(|| Invalid::new(format!("{n} is not a port number (1 to 65535)")))
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
        }
    }

    pub fn parse(s: &str) -> Parsed<Protocol> {
        match s {
            "Tcp" => Ok(Protocol::Tcp),
            "Udp" => Ok(Protocol::Udp),
            other => Err(Invalid::new(format!("\"{other}\" is not one of Tcp, Udp"))),
        }
    }
}

#[derive(Deserialize)]
struct PortTypeEntry {
    #[serde(rename = "type")]
    name: String,
    number: u16,
    protocol: Protocol,
}

const PORT_TYPES_JSON: &str = include_str!("../catalog/port-types.json");

fn port_types() -> &'static HashMap<(u16, Protocol), String> {
    static TABLE: OnceLock<HashMap<(u16, Protocol), String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let entries: Vec<PortTypeEntry> = serde_json::from_str(PORT_TYPES_JSON)
            .expect("the embedded port-type catalogue is valid");
        entries
            .into_iter()
            .map(|e| ((e.number, e.protocol), e.name))
            .collect()
    })
}

/// The well-known name of a port (`Http` for 80/Tcp), or `Custom`.
pub fn port_type(number: u16, protocol: Protocol) -> &'static str {
    port_types()
        .get(&(number, protocol))
        .map(String::as_str)
        .unwrap_or("Custom")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds() {
        assert!(PortNumber::parse(0).is_err());
        assert!(PortNumber::parse(-1).is_err());
        assert!(PortNumber::parse(65536).is_err());
        assert_eq!(PortNumber::parse(1).unwrap().get(), 1);
        assert_eq!(PortNumber::parse(65535).unwrap().get(), 65535);
    }

    #[test]
    fn well_known_types() {
        assert_eq!(port_type(80, Protocol::Tcp), "Http");
        assert_eq!(port_type(53, Protocol::Udp), "DnsUdp");
        assert_eq!(port_type(53, Protocol::Tcp), "DnsTcp");
        assert_eq!(port_type(80, Protocol::Udp), "Custom");
        assert_eq!(port_type(12345, Protocol::Tcp), "Custom");
        assert_eq!(port_types().len(), 54);
    }

    #[test]
    fn protocol_is_case_sensitive() {
        assert_eq!(Protocol::parse("Tcp"), Ok(Protocol::Tcp));
        assert!(Protocol::parse("tcp").is_err());
        assert!(Protocol::parse("TCP").is_err());
    }

    proptest! {
        #[test]
        fn port_numbers_round_trip(n in 1i64..=65535) {
            prop_assert_eq!(PortNumber::parse(n).unwrap().get() as i64, n);
        }

        #[test]
        fn out_of_range_is_refused(n in prop_oneof![i64::MIN..1i64, 65536i64..i64::MAX]) {
            prop_assert!(PortNumber::parse(n).is_err());
        }
    }
}

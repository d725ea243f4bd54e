//! Closed sets of names that the API accepts exactly as spelled.

use super::{Invalid, Parsed};

macro_rules! closed_set {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            pub fn parse(s: &str) -> Parsed<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    Invalid::new(format!("\"{s}\" is not one of {}", names.join(", ")))
                })
            }
        }
    };
}

closed_set!(
    /// Tag colours.
    Color { Pink, Rose, Red, Orange, Green, Emerald, Teal, Cyan, Blue, Indigo, Purple, Gray, Yellow }
);

closed_set!(
    /// What a subnet is for.
    SubnetType {
        Lan, WiFi, IoT, Guest, Dmz, Management, Storage, VpnTunnel, DockerBridge, MacVlan,
        IpVlan, Gateway, Internet, Remote, Unknown, None
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for c in Color::ALL {
            assert_eq!(Color::parse(c.as_str()), Ok(*c));
        }
        for t in SubnetType::ALL {
            assert_eq!(SubnetType::parse(t.as_str()), Ok(*t));
        }
    }

    #[test]
    fn names_are_case_sensitive() {
        assert!(Color::parse("red").is_err());
        assert!(Color::parse("Magenta").is_err());
        assert!(SubnetType::parse("lan").is_err());
        assert_eq!(SubnetType::parse("WiFi"), Ok(SubnetType::WiFi));
    }
}

//! Bounded text: names, descriptions, hostnames.

use super::{Invalid, Parsed};

/// A required name of 1..=max characters that is not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(s: &str, max: usize) -> Parsed<Name> {
        if s.trim().is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if s.chars().count() > max {
            return Err(Invalid::new(format!("must be at most {max} characters")));
        }
        if s.chars().any(char::is_control) {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Name(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Optional free text of at most `max` characters; `None` stays `None`.
pub fn optional_text(s: Option<&str>, max: usize) -> Parsed<Option<String>> {
    match s {
        None => Ok(None),
        Some(s) if s.chars().count() > max => {
            Err(Invalid::new(format!("must be at most {max} characters")))
        }
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// An RFC 1123 host name: dot-separated labels of letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostname(String);

impl Hostname {
    pub fn parse(s: &str) -> Parsed<Hostname> {
        let name = s.strip_suffix('.').unwrap_or(s);
        if name.is_empty() || name.len() > 253 {
            return Err(Invalid::new("must be 1 to 253 characters"));
        }
        for label in name.split('.') {
            let valid = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !valid {
                return Err(Invalid::new(format!(
                    "\"{label}\" is not a valid RFC 1123 label (letters, digits, inner hyphens, at most 63 characters)"
                )));
            }
        }
        Ok(Hostname(s.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn name_bounds() {
        assert!(Name::parse("", 100).is_err());
        assert!(Name::parse("   ", 100).is_err());
        assert!(Name::parse(&"a".repeat(100), 100).is_ok());
        assert!(Name::parse(&"a".repeat(101), 100).is_err());
        assert!(Name::parse("tab\there", 100).is_err());
        // Characters, not bytes, are counted.
        assert!(Name::parse(&"é".repeat(100), 100).is_ok());
    }

    #[test]
    fn optional_text_bounds() {
        assert_eq!(optional_text(None, 5), Ok(None));
        assert_eq!(optional_text(Some("abc"), 5), Ok(Some("abc".into())));
        assert!(optional_text(Some("abcdef"), 5).is_err());
    }

    #[test]
    fn hostnames() {
        for ok in ["nas", "nas.lan", "a-b.example.com", "host1.", "1host"] {
            assert!(Hostname::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-nas",
            "nas-",
            "na_s",
            "a..b",
            "nas lan",
            &"a".repeat(64),
        ] {
            assert!(Hostname::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn valid_names_round_trip(s in "[a-zA-Z0-9 ._-]{0,99}[a-zA-Z0-9]") {
            let name = Name::parse(&s, 100).unwrap();
            prop_assert_eq!(name.as_str(), s.as_str());
        }

        #[test]
        fn generated_hostnames_parse(labels in proptest::collection::vec("[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", 1..5)) {
            let host = labels.join(".");
            prop_assert_eq!(Hostname::parse(&host).unwrap().into_inner(), host);
        }
    }
}

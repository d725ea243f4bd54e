//! Token formats: API keys (`scp_u_`) and agent tokens (`scp_a_`), each with 32 base62
//! characters, stored as their SHA-256.
use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "scp_u_";
pub const AGENT_PREFIX: &str = "scp_a_";
const SECRET_LEN: usize = 32;

/// A new `scp_u_` key: 32 base62 characters from the OS-seeded generator.
pub fn generate() -> String {
    generate_with(PREFIX)
}

/// A new `scp_a_` agent token.
pub fn generate_agent() -> String {
    generate_with(AGENT_PREFIX)
}

fn generate_with(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        Alphanumeric.sample_string(&mut rand::rng(), SECRET_LEN)
    )
}

pub fn is_well_formed(token: &str) -> bool {
    has_secret_after(token, PREFIX)
}

pub fn is_agent_token(token: &str) -> bool {
    has_secret_after(token, AGENT_PREFIX)
}

fn has_secret_after(token: &str, prefix: &str) -> bool {
    token
        .strip_prefix(prefix)
        .is_some_and(|s| s.len() == SECRET_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Hex SHA-256 of the whole token: what the database stores and looks up.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(is_well_formed(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_keys() {
        assert!(!is_well_formed("scp_u_short"));
        assert!(!is_well_formed(&format!("scp_x_{}", "a".repeat(32))));
        assert!(!is_well_formed(&format!("scp_u_{}-", "a".repeat(31))));
        assert!(is_well_formed(&format!(
            "scp_u_{}",
            "aZ9".repeat(10) + "ab"
        )));
    }

    #[test]
    fn agent_tokens_are_their_own_kind() {
        let agent = generate_agent();
        assert!(is_agent_token(&agent), "{agent}");
        assert!(!is_well_formed(&agent));
        assert!(!is_agent_token(&generate()));
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

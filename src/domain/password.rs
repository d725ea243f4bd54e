//! Argon2id password hashes in PHC strings, with OWASP's parameters (19 MiB, 2 passes, 1 lane).
//! Slow on purpose: callers run these off the request threads, a few at a time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing a bounded password cannot fail")
        .to_string()
}

/// Whether `password` matches `stored`; `None` (no password, or an unknown user) is checked
/// against a fixed hash, so that the answer takes as long either way.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (text, real) = match stored {
        Some(s) => (s, true),
        None => (dummy(), false),
    };
    let Ok(parsed) = PasswordHash::new(text) else {
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

/// A hash of nothing anyone knows, made once.
fn dummy() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&crate::domain::token::hex(&rand::random::<[u8; 32]>())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse battery");
        let b = hash("correct horse battery");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify("correct horse battery", Some(&a)));
        assert!(!verify("wrong horse battery", Some(&a)));
        assert!(!verify("anything at all", None));
        assert!(!verify("x", Some("not a hash")));
    }
}

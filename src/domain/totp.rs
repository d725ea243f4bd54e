//! Second factors: RFC 6238 time-based codes (SHA-1, 6 digits, 30 s, one step of clock skew
//! either way) with totp-rs, their `otpauth://` link and QR code (SVG), and recovery codes.

use qrcode::render::svg;
use qrcode::QrCode;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP: u64 = 30;

fn totp(secret_base32: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    // A colon would break the label; an account name is shown, not parsed.
    let account = account.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some("Portolan".into()),
        account,
    )
    .ok()
}

/// A new random 160-bit secret, base32.
pub fn new_secret() -> String {
    match Secret::Raw(rand::random::<[u8; 20]>().to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded answers an encoded secret"),
    }
}

/// The `otpauth://` link an authenticator app takes.
pub fn url(secret_base32: &str, account: &str) -> String {
    totp(secret_base32, account)
        .map(|t| t.get_url())
        .unwrap_or_default()
}

/// The link as a QR code, an SVG image.
pub fn qr_svg(text: &str) -> String {
    QrCode::new(text.as_bytes())
        .map(|code| {
            code.render::<svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default()
}

/// The time step `code` is valid for at `unix_time` (this one, or one either side), if any.
/// Callers refuse a step at or before the last one used, so that no code works twice.
pub fn matching_step(secret_base32: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_base32, "")?;
    let now = unix_time / STEP;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| t.generate(step * STEP) == code)
}

/// The code of `unix_time`, for tests and for nothing else.
pub fn code_at(secret_base32: &str, unix_time: u64) -> String {
    totp(secret_base32, "")
        .map(|t| t.generate(unix_time))
        .unwrap_or_default()
}

/// Ten recovery codes, each `xxxxx-xxxxx` of lower-case letters and digits.
pub fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let bytes = rand::random::<[u8; 10]>();
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_one_either_side() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let t = 1_800_000_000;
        let code = code_at(&secret, t);
        assert_eq!(matching_step(&secret, &code, t), Some(t / 30));
        assert_eq!(
            matching_step(&secret, &code, t + 30),
            Some(t / 30),
            "the clock a step ahead"
        );
        assert_eq!(matching_step(&secret, &code, t + 90), None);
        assert_eq!(matching_step(&secret, "12345", t), None);
        assert_eq!(matching_step(&secret, "abcdef", t), None);
    }

    #[test]
    fn links_qr_codes_and_recovery_codes() {
        let secret = new_secret();
        let link = url(&secret, "ada");
        assert!(
            link.starts_with("otpauth://totp/Portolan:ada?secret="),
            "{link}"
        );
        assert!(qr_svg(&link).starts_with("<?xml") || qr_svg(&link).contains("<svg"));
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes
            .iter()
            .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
    }
}

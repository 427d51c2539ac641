//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), as phone
//! authenticator apps compute them.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
pub const DIGITS: u32 = 6;

/// The code for one time step.
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    binary % 10u32.pow(DIGITS)
}

/// Checks a typed code at `unix_seconds`, allowing one step of clock drift either way.
/// Returns the matching step, so that the caller can refuse a code already used.
pub fn verify(secret: &[u8], typed: &str, unix_seconds: i64) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u32 = typed.parse().ok()?;
    let now = unix_seconds.div_euclid(STEP_SECONDS);
    [now - 1, now, now + 1]
        .into_iter()
        .find(|step| code_at(secret, *step) == value)
}

/// RFC 4648 base32 without padding, the form authenticator apps expect for secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` address that authenticator apps read from a QR code.
pub fn provisioning_uri(secret: &[u8], account: &str, issuer: &str) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        encode(issuer),
        encode(account),
        base32(secret),
        encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        // RFC 6238 appendix B (SHA-1), last 6 of the 8 digits.
        for (time, expected) in [
            (59, 287_082),
            (1_111_111_109, 81_804),
            (1_234_567_890, 5_924),
            (2_000_000_000, 279_037),
        ] {
            assert_eq!(
                code_at(RFC_SECRET, time / STEP_SECONDS),
                expected,
                "t={time}"
            );
        }
    }

    #[test]
    fn verification_allows_one_step_of_drift_only() {
        let now = 1_234_567_890;
        let step = now / STEP_SECONDS;
        let code = format!("{:06}", code_at(RFC_SECRET, step - 1));
        assert_eq!(verify(RFC_SECRET, &code, now), Some(step - 1));
        let old = format!("{:06}", code_at(RFC_SECRET, step - 3));
        assert_eq!(verify(RFC_SECRET, &old, now), None);
        assert_eq!(verify(RFC_SECRET, "12a456", now), None);
        assert_eq!(verify(RFC_SECRET, "", now), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(RFC_SECRET, &spaced, now), Some(step - 1));
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert!(provisioning_uri(b"foobar", "a@b.fr", "Maillage")
            .starts_with("otpauth://totp/Maillage:a%40b.fr?secret=MZXW6YTBOI"));
    }
}

//! TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, the parameters every authenticator
//! app supports) with the time step a code belongs to, so that the store can refuse a code
//! that was already used (the replay guard, `Store::use_totp_step`).

use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: u64 = 30;
/// Codes of one step before or after the server's are accepted (clock drift).
pub const SKEW_STEPS: i64 = 1;
/// The issuer shown by authenticator apps.
pub const ISSUER: &str = "Tracemark";

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the stored TOTP secret is damaged: {0}")]
    Secret(String),
}

/// A fresh 160-bit secret, base32 (as stored and as put in the otpauth URL).
pub fn new_secret() -> String {
    let mut raw = [0u8; 20];
    OsRng.fill_bytes(&mut raw);
    Secret::Raw(raw.to_vec()).to_encoded().to_string()
}

fn totp(secret_b32: &str, account: &str) -> Result<TOTP, TotpError> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|e| TotpError::Secret(format!("{e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS,
        bytes,
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| TotpError::Secret(e.to_string()))
}

/// The `otpauth://` URL to show (or render as a QR code) at enrolment.
pub fn otpauth_url(secret_b32: &str, account: &str) -> Result<String, TotpError> {
    Ok(totp(secret_b32, account)?.get_url())
}

/// The code for a Unix time (tests and clients).
pub fn code_at(secret_b32: &str, unix_seconds: u64) -> Result<String, TotpError> {
    Ok(totp(secret_b32, "x")?.generate(unix_seconds))
}

/// If `code` is valid at `unix_seconds` (± [`SKEW_STEPS`]), the time step it belongs to.
/// The caller must still pass that step through the replay guard.
pub fn matching_step(
    secret_b32: &str,
    code: &str,
    unix_seconds: u64,
) -> Result<Option<i64>, TotpError> {
    let t = totp(secret_b32, "x")?;
    let now_step = (unix_seconds / STEP_SECONDS) as i64;
    let mut found = None;
    // Every candidate is computed and compared, so the time taken does not say which matched.
    for step in (now_step - SKEW_STEPS)..=(now_step + SKEW_STEPS) {
        if step < 0 {
            continue;
        }
        let expected = t.generate(step as u64 * STEP_SECONDS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_match_their_step_with_skew() {
        let s = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&s, now).unwrap();
        assert_eq!(
            matching_step(&s, &code, now).unwrap(),
            Some((now / 30) as i64)
        );
        assert!(matching_step(&s, &code, now + 30).unwrap().is_some());
        assert!(matching_step(&s, &code, now + 90).unwrap().is_none());
        assert!(matching_step(&s, "000000x", now).unwrap().is_none());
        assert!(otpauth_url(&s, "j.kamau")
            .unwrap()
            .starts_with("otpauth://totp/"));
    }
}

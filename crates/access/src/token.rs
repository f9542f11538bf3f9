//! API tokens for service accounts: `tmk_<id>_<secret>`, where `id` (16 hex digits) names the
//! stored row and `secret` (32 random bytes, base64url) is checked against the SHA-256 kept in
//! the store. A fast hash is right here: the secret has 256 bits of entropy, so it cannot be
//! guessed from its hash, and every API call checks it.

use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "tmk_";

/// A token just created: shown once, then only its hash is kept.
pub struct NewToken {
    pub id: String,
    pub secret_sha256: [u8; 32],
    /// The whole bearer token, for the client.
    pub token: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

pub fn generate() -> NewToken {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    NewToken {
        secret_sha256: sha256(&secret),
        token: format!("{PREFIX}{id}_{secret}"),
        id,
    }
}

fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A presented token split into its id and secret; `None` if it is not of our shape.
pub struct Presented<'a> {
    pub id: &'a str,
    secret: &'a str,
}

pub fn parse(token: &str) -> Option<Presented<'_>> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let secret_ok = (1..=64).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some(Presented { id, secret })
}

impl Presented<'_> {
    /// Whether the secret matches the stored hash (compared in constant time).
    pub fn matches(&self, stored_sha256: &[u8; 32]) -> bool {
        sha256(self.secret).ct_eq(stored_sha256).into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_tokens_parse_and_match_only_their_hash() {
        let t = generate();
        let p = parse(&t.token).unwrap();
        assert_eq!(p.id, t.id);
        assert!(p.matches(&t.secret_sha256));
        let other = generate();
        assert!(!p.matches(&other.secret_sha256));
        for bad in [
            "",
            "tmk_",
            "tmk_zz_abc",
            "Bearer x",
            "tmk_0123456789abcdef_",
            "tmk_0123456789abcdef_a'b",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}

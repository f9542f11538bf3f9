//! A node's federation identity, and the public half that administrators exchange.
//!
//! A node speaks for one state. It has two keys, because it does two different things:
//!
//! - an **Ed25519 signing key**, so every peer can check that a message really comes from
//!   this state and was not changed on the way;
//! - an **age X25519 key**, so only the states a message is addressed to can read it. A relay
//!   (or a peer's reverse proxy, or anyone who copies the traffic) sees who writes to whom, but
//!   not what.
//!
//! The secret half ([`NodeIdentity`]) has a text form for the caller to store beside the node's
//! ledger key (`<data>/node.key`, written owner-only and never into the database; see
//! `tracemark_registry::node`). It is a separate key on purpose: the ledger key signs
//! checkpoints that are published, the federation key signs messages to other states, and
//! either can be replaced without touching the other.
//!
//! The public half ([`PublicIdentity`]) has a stable JSON form,
//! `{"state":"KE","sign":"ed25519:<base64>","encrypt":"age1…"}`, which an administrator sends
//! to the other state's administrator out of band. Both then read the [`Fingerprint`] aloud on
//! the phone: if the sixteen hex digits agree, the key in the directory is the one the other
//! state generated.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bech32::ToBase32;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracemark_domain::ids::CountryCode;
use zeroize::{Zeroize, Zeroizing};

/// The file name a node should give its secret text form, in its data folder beside the
/// ledger key (`node.key`), written the same way: created new, owner-only (0600), never into
/// the database. This crate writes no file; the name is here so every caller agrees on it.
pub const IDENTITY_FILE: &str = "federation.key";

/// The first line of the secret text form. The version lets a later format be told apart.
const SECRET_HEADER: &str = "tracemark-federation-identity v1";
/// The prefix of a signing key in both text forms.
const ED25519_PREFIX: &str = "ed25519:";
/// The Bech32 human-readable part of an age X25519 secret key (lower case, as age encodes it
/// before upper-casing the whole string).
const AGE_SECRET_HRP: &str = "age-secret-key-";

/// What is wrong with a key or an identity's text. Messages never include secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("invalid state: {0}")]
    State(String),
    #[error("invalid signing key: {0}")]
    SigningKey(String),
    #[error("invalid encryption key: {0}")]
    EncryptionKey(String),
    #[error("invalid identity text: {0}")]
    Text(String),
    #[error("could not draw random bytes: {0}")]
    Randomness(String),
}

/// This node's federation identity: its state and both secret keys.
///
/// `Debug` shows the state and the public fingerprint only.
pub struct NodeIdentity {
    state: CountryCode,
    signing: SigningKey,
    encryption: age::x25519::Identity,
    public: PublicIdentity,
}

impl NodeIdentity {
    /// Generates both keys from `rng`. Production passes `rand_core::OsRng`; tests pass a
    /// seeded generator so their keys are reproducible.
    pub fn generate(
        state: CountryCode,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, IdentityError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(seed.as_mut())
            .map_err(|e| IdentityError::Randomness(e.to_string()))?;
        let signing = SigningKey::from_bytes(&seed);
        // age offers no constructor from bytes, only its own `generate` (which reads the
        // operating system's generator) and the parser of its secret-key text. Writing that
        // text from our own random bytes keeps generation under the caller's control.
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.try_fill_bytes(secret.as_mut())
            .map_err(|e| IdentityError::Randomness(e.to_string()))?;
        let encryption = age_identity_from_bytes(&secret)?;
        Ok(Self::from_parts(state, signing, encryption))
    }

    fn from_parts(
        state: CountryCode,
        signing: SigningKey,
        encryption: age::x25519::Identity,
    ) -> Self {
        let public = PublicIdentity {
            state,
            verifying: signing.verifying_key(),
            recipient: encryption.to_public(),
        };
        NodeIdentity {
            state,
            signing,
            encryption,
            public,
        }
    }

    pub fn state(&self) -> CountryCode {
        self.state
    }

    /// The public half, to give to peers.
    pub fn public(&self) -> &PublicIdentity {
        &self.public
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub(crate) fn age_identity(&self) -> &age::x25519::Identity {
        &self.encryption
    }

    /// The secret text form, for the caller to store owner-only (it holds both secret keys):
    ///
    /// ```text
    /// tracemark-federation-identity v1
    /// state: KE
    /// sign: ed25519:<base64 of the 32-byte Ed25519 seed>
    /// encrypt: AGE-SECRET-KEY-1…
    /// ```
    ///
    /// The `encrypt` line is age's own secret-key form, so an administrator can decrypt a
    /// message by hand with the `age` command-line tool if ever needed.
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let age_secret = self.encryption.to_string();
        let mut seed_b64 = Zeroizing::new(String::with_capacity(44));
        STANDARD.encode_string(self.signing.as_bytes(), &mut seed_b64);
        // Exact capacity up front: a reallocation would leave a copy of the secret behind.
        let cap = SECRET_HEADER.len()
            + 1
            + "state: XX\n".len()
            + "sign: ".len()
            + ED25519_PREFIX.len()
            + seed_b64.len()
            + 1
            + "encrypt: ".len()
            + age_secret.expose_secret().len()
            + 1;
        let mut out = Zeroizing::new(String::with_capacity(cap));
        out.push_str(SECRET_HEADER);
        out.push('\n');
        out.push_str("state: ");
        out.push_str(self.state.as_str());
        out.push('\n');
        out.push_str("sign: ");
        out.push_str(ED25519_PREFIX);
        out.push_str(&seed_b64);
        out.push('\n');
        out.push_str("encrypt: ");
        out.push_str(age_secret.expose_secret());
        out.push('\n');
        out
    }

    /// Reads the form written by [`to_secret_text`](Self::to_secret_text). Blank lines and
    /// lines starting with `#` are ignored; every other line must be known and appear once.
    pub fn from_secret_text(text: &str) -> Result<Self, IdentityError> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(SECRET_HEADER) {
            return Err(IdentityError::Text(format!(
                "the first line must be '{SECRET_HEADER}'"
            )));
        }
        let (mut state, mut signing, mut encryption) = (None, None, None);
        for line in lines {
            let Some((key, value)) = line.split_once(':') else {
                return Err(IdentityError::Text(
                    "expected 'name: value' lines".to_owned(),
                ));
            };
            let value = value.trim();
            let duplicate = || IdentityError::Text(format!("'{key}' appears twice"));
            match key {
                "state" => {
                    if state.is_some() {
                        return Err(duplicate());
                    }
                    state = Some(CountryCode::parse(value).map_err(IdentityError::State)?);
                }
                "sign" => {
                    if signing.is_some() {
                        return Err(duplicate());
                    }
                    signing = Some(parse_signing_seed(value)?);
                }
                "encrypt" => {
                    if encryption.is_some() {
                        return Err(duplicate());
                    }
                    encryption = Some(age::x25519::Identity::from_str(value).map_err(|_| {
                        IdentityError::EncryptionKey(
                            "not an age X25519 secret key (AGE-SECRET-KEY-1…)".to_owned(),
                        )
                    })?);
                }
                other => {
                    return Err(IdentityError::Text(format!("unknown line '{other}'")));
                }
            }
        }
        let missing = |what: &str| IdentityError::Text(format!("the '{what}' line is missing"));
        Ok(Self::from_parts(
            state.ok_or_else(|| missing("state"))?,
            signing.ok_or_else(|| missing("sign"))?,
            encryption.ok_or_else(|| missing("encrypt"))?,
        ))
    }
}

impl fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("state", &self.state)
            .field("fingerprint", &self.public.fingerprint())
            .field("keys", &"<redacted>")
            .finish()
    }
}

fn parse_signing_seed(value: &str) -> Result<SigningKey, IdentityError> {
    let b64 = value
        .strip_prefix(ED25519_PREFIX)
        .ok_or_else(|| IdentityError::SigningKey(format!("must start with '{ED25519_PREFIX}'")))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    // Decode into a self-wiping buffer; a seed is 32 bytes, so 44 base64 characters.
    let mut decoded = Zeroizing::new(Vec::with_capacity(33));
    STANDARD
        .decode_vec(b64, &mut decoded)
        .map_err(|_| IdentityError::SigningKey("not valid base64".to_owned()))?;
    if decoded.len() != 32 {
        return Err(IdentityError::SigningKey(
            "an Ed25519 seed is 32 bytes".to_owned(),
        ));
    }
    seed.copy_from_slice(&decoded);
    Ok(SigningKey::from_bytes(&seed))
}

/// Builds an age X25519 identity from 32 secret bytes, through age's own secret-key text.
fn age_identity_from_bytes(secret: &[u8; 32]) -> Result<age::x25519::Identity, IdentityError> {
    let bad = |e: String| IdentityError::EncryptionKey(e);
    let mut text = Zeroizing::new(
        bech32::encode(AGE_SECRET_HRP, secret.to_base32(), bech32::Variant::Bech32)
            .map_err(|e| bad(e.to_string()))?,
    );
    text.make_ascii_uppercase();
    let identity = age::x25519::Identity::from_str(&text).map_err(|e| bad(e.to_owned()));
    text.zeroize();
    identity
}

/// The public half of a node's identity: what a peer needs to check this node's signatures
/// and to encrypt to it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "PublicIdentityJson", into = "PublicIdentityJson")]
pub struct PublicIdentity {
    state: CountryCode,
    verifying: VerifyingKey,
    recipient: age::x25519::Recipient,
}

impl PublicIdentity {
    /// Builds a public identity from its parts, refusing a weak (small-order) Ed25519 key:
    /// such a key would let anyone produce signatures that verify.
    pub fn new(
        state: CountryCode,
        verifying: VerifyingKey,
        recipient: age::x25519::Recipient,
    ) -> Result<Self, IdentityError> {
        if verifying.is_weak() {
            return Err(IdentityError::SigningKey(
                "a weak (small-order) Ed25519 key".to_owned(),
            ));
        }
        Ok(PublicIdentity {
            state,
            verifying,
            recipient,
        })
    }

    pub fn state(&self) -> CountryCode {
        self.state
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    pub fn recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }

    /// The signing key as it appears in the JSON form: `ed25519:<base64>`.
    pub fn sign_text(&self) -> String {
        format!(
            "{ED25519_PREFIX}{}",
            STANDARD.encode(self.verifying.as_bytes())
        )
    }

    /// The age recipient as it appears in the JSON form: `age1…`.
    pub fn encrypt_text(&self) -> String {
        self.recipient.to_string()
    }

    /// The canonical public form: compact JSON with the keys in this order and no spaces.
    /// Every value is ASCII without quotes or backslashes, so no escaping is ever needed and
    /// the bytes are the same whoever writes them.
    pub fn to_canonical_json(&self) -> String {
        format!(
            r#"{{"state":"{}","sign":"{}","encrypt":"{}"}}"#,
            self.state,
            self.sign_text(),
            self.encrypt_text()
        )
    }

    /// Builds a public identity from the three texts of its JSON form.
    pub fn from_texts(state: &str, sign: &str, encrypt: &str) -> Result<Self, IdentityError> {
        let state = CountryCode::parse(state).map_err(IdentityError::State)?;
        let verifying = parse_verifying_key(sign)?;
        let recipient = age::x25519::Recipient::from_str(encrypt).map_err(|_| {
            IdentityError::EncryptionKey("not an age X25519 recipient (age1…)".to_owned())
        })?;
        PublicIdentity::new(state, verifying, recipient)
    }

    /// Parses the JSON form (any key order or spacing; unknown keys refused).
    pub fn from_json(text: &str) -> Result<Self, IdentityError> {
        serde_json::from_str(text).map_err(|e| IdentityError::Text(e.to_string()))
    }

    /// The fingerprint of the canonical public form, for people to compare.
    pub fn fingerprint(&self) -> Fingerprint {
        let digest = Sha256::digest(self.to_canonical_json().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Fingerprint(first)
    }

    /// Whether both keys are the same as `other`'s (the state aside).
    pub fn same_keys(&self, other: &PublicIdentity) -> bool {
        self.verifying == other.verifying && self.encrypt_text() == other.encrypt_text()
    }
}

impl PartialEq for PublicIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state && self.same_keys(other)
    }
}

impl Eq for PublicIdentity {}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicIdentity({} {})", self.state, self.fingerprint())
    }
}

/// The JSON form of a [`PublicIdentity`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicIdentityJson {
    state: String,
    sign: String,
    encrypt: String,
}

impl TryFrom<PublicIdentityJson> for PublicIdentity {
    type Error = IdentityError;

    fn try_from(json: PublicIdentityJson) -> Result<Self, Self::Error> {
        PublicIdentity::from_texts(&json.state, &json.sign, &json.encrypt)
    }
}

impl From<PublicIdentity> for PublicIdentityJson {
    fn from(p: PublicIdentity) -> Self {
        PublicIdentityJson {
            state: p.state.as_str().to_owned(),
            sign: p.sign_text(),
            encrypt: p.encrypt_text(),
        }
    }
}

/// Parses `ed25519:<base64 of 32 bytes>` into a key that is a valid curve point.
fn parse_verifying_key(text: &str) -> Result<VerifyingKey, IdentityError> {
    let b64 = text
        .strip_prefix(ED25519_PREFIX)
        .ok_or_else(|| IdentityError::SigningKey(format!("must start with '{ED25519_PREFIX}'")))?;
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| IdentityError::SigningKey("not valid base64".to_owned()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| IdentityError::SigningKey("an Ed25519 key is 32 bytes".to_owned()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| IdentityError::SigningKey("not a valid Ed25519 public key".to_owned()))
}

/// The first 64 bits of the SHA-256 of a [`PublicIdentity`]'s canonical JSON form, shown as
/// sixteen lower-case hex digits: short enough to read aloud, long enough that nobody can
/// make a different key with the same fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 8]);

impl Fingerprint {
    /// In four groups of four, the easiest way to read it on the phone: `1a2b 3c4d 5e6f 7a8b`.
    pub fn grouped(&self) -> String {
        let hex = self.to_string();
        let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// A reproducible identity for tests: the same `state` and `seed` give the same keys.
    pub(crate) fn identity(state: &str, seed: u64) -> NodeIdentity {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        NodeIdentity::generate(CountryCode::parse(state).unwrap(), &mut rng).unwrap()
    }

    #[test]
    fn generation_is_reproducible_from_the_rng() {
        let a = identity("KE", 7);
        let b = identity("KE", 7);
        let c = identity("KE", 8);
        assert_eq!(a.public(), b.public());
        assert_ne!(a.public(), c.public());
        assert!(a.public().encrypt_text().starts_with("age1"));
    }

    #[test]
    fn secret_text_round_trips() {
        let id = identity("KE", 1);
        let text = id.to_secret_text();
        assert!(text.starts_with("tracemark-federation-identity v1\nstate: KE\nsign: ed25519:"));
        assert!(text.contains("\nencrypt: AGE-SECRET-KEY-1"));
        let back = NodeIdentity::from_secret_text(&text).unwrap();
        assert_eq!(back.public(), id.public());
        assert_eq!(back.to_secret_text(), text);
        // The buffer was sized exactly, so no reallocation left a copy of the secret.
        assert_eq!(text.len(), text.capacity());
        // Comments and blank lines are allowed around the lines.
        let commented = format!("# federation key of KE\n\n{}\n", text.as_str());
        assert_eq!(
            NodeIdentity::from_secret_text(&commented).unwrap().public(),
            id.public()
        );
    }

    #[test]
    fn secret_text_defects_are_named_without_the_secret() {
        let id = identity("KE", 1);
        let text = id.to_secret_text();
        let seed_line = text.lines().nth(2).unwrap().to_owned();
        let cases = [
            ("", "first line"),
            ("tracemark-federation-identity v2\n", "first line"),
            (&text.replace("state: KE", "state: ke"), "upper case"),
            (&text.replace("state: KE\n", ""), "'state' line is missing"),
            (
                &format!("{}{seed_line}\n", text.as_str()),
                "'sign' appears twice",
            ),
            (
                &text.replace("sign: ed25519:", "sign: rsa:"),
                "must start with",
            ),
            (
                &text.replace("encrypt: AGE-SECRET-KEY-1", "encrypt: AGE-SECRET-KEY-2"),
                "age X25519",
            ),
            (
                &format!("{}colour: blue\n", text.as_str()),
                "unknown line 'colour'",
            ),
            (&format!("{}no colon\n", text.as_str()), "name: value"),
        ];
        for (input, expected) in cases {
            let err = NodeIdentity::from_secret_text(input)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
            for line in text.lines().skip(2) {
                let secret = line.split_once(": ").unwrap().1;
                assert!(!err.contains(secret), "error leaks a secret: {err}");
            }
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let id = identity("KE", 1);
        let text = id.to_secret_text();
        let dbg = format!("{id:?}");
        assert!(dbg.contains("KE") && dbg.contains(&id.public().fingerprint().to_string()));
        for line in text.lines().skip(2) {
            assert!(!dbg.contains(line.split_once(": ").unwrap().1));
        }
    }

    #[test]
    fn public_json_is_stable_and_round_trips() {
        let id = identity("KE", 1);
        let public = id.public();
        let json = serde_json::to_string(public).unwrap();
        assert_eq!(json, public.to_canonical_json());
        assert!(
            json.starts_with(r#"{"state":"KE","sign":"ed25519:"#),
            "{json}"
        );
        assert!(json.contains(r#","encrypt":"age1"#), "{json}");
        assert_eq!(&PublicIdentity::from_json(&json).unwrap(), public);
        // Spacing and key order do not matter to the parser.
        let spaced = format!(
            "{{ \"encrypt\": \"{}\", \"sign\": \"{}\", \"state\": \"KE\" }}",
            public.encrypt_text(),
            public.sign_text()
        );
        assert_eq!(&PublicIdentity::from_json(&spaced).unwrap(), public);
    }

    #[test]
    fn public_json_defects_are_refused() {
        let public = identity("KE", 1).public().clone();
        let json = public.to_canonical_json();
        let sign = public.sign_text();
        let cases = [
            (json.replace(r#""KE""#, r#""XX""#), "state"),
            (json.replace(&sign, "ed25519:AAAA"), "32 bytes"),
            (json.replace("ed25519:", "ed448:"), "must start with"),
            (json.replace("age1", "age2"), "age X25519 recipient"),
            (json.replace('}', r#","url":"https://x"}"#), "unknown field"),
            (
                // The identity point: small order, so refused.
                json.replace(
                    &sign,
                    &format!(
                        "ed25519:{}",
                        STANDARD.encode({
                            let mut b = [0u8; 32];
                            b[0] = 1;
                            b
                        })
                    ),
                ),
                "weak",
            ),
        ];
        for (input, expected) in cases {
            let err = PublicIdentity::from_json(&input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }

    #[test]
    fn fingerprint_is_sixteen_hex_digits_of_the_canonical_form() {
        let public = identity("KE", 1).public().clone();
        let fp = public.fingerprint();
        let digest = hex::encode(Sha256::digest(public.to_canonical_json().as_bytes()));
        assert_eq!(fp.to_string(), &digest[..16]);
        assert_eq!(fp.grouped().len(), 19);
        assert_eq!(fp.grouped().replace(' ', ""), fp.to_string());
        // The state is part of what is compared: the same keys for another state differ.
        let other = PublicIdentity::new(
            CountryCode::parse("UG").unwrap(),
            *public.verifying_key(),
            public.recipient().clone(),
        )
        .unwrap();
        assert_ne!(other.fingerprint(), fp);
    }
}

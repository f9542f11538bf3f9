//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A signed note is UTF-8 text, a blank line, and one or more lines
//! `— <key name> <base64(key ID ‖ signature)>`. Checkpoints are signed notes,
//! and the format is what witnesses and Go's `golang.org/x/mod/sumdb/note`
//! speak, so keys are encoded the same way as there:
//!
//! * verifier key: `<name>+<8 hex key ID>+<base64(0x01 ‖ public key)>`
//! * private key: `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 ‖ seed)>`
//!
//! with key ID = `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`, big-endian.
//! Only signature type `0x01` (Ed25519) is supported: the spec asks
//! implementations to support only what they need.
//!
//! Secrets are handled carefully: the private key string is returned in a
//! [`Zeroizing`] buffer, intermediate buffers holding the seed are wiped, the
//! signing key wipes itself on drop, and [`NoteSigner`]'s `Debug` output does
//! not include the key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// Signature type byte of Ed25519 keys and signatures.
pub const ALG_ED25519: u8 = 0x01;

/// Most signature lines [`open_note`] accepts. The spec requires accepting at
/// least 16; 100 leaves room for many witnesses (and matches Go's limit)
/// while bounding the work an attacker can cause.
pub const MAX_SIGNATURES: usize = 100;
const _: () = assert!(
    MAX_SIGNATURES >= 16,
    "the spec requires accepting 16 signatures"
);

const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a key, note or signature was rejected. Variants never carry secret
/// material.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// Key names must be non-empty, without Unicode spaces, `+` or control
    /// characters.
    #[error(
        "invalid key name {0:?}: must be non-empty, without spaces, '+' or control characters"
    )]
    InvalidKeyName(String),
    /// The verifier key string is not `<name>+<hex id>+<base64 key>`.
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// The private key string is not in the expected encoding. The input is
    /// deliberately not echoed.
    #[error("malformed private key: {0}")]
    MalformedPrivateKey(&'static str),
    /// The key is of a signature type other than Ed25519 (`0x01`).
    #[error("unsupported signature type {0:#04x}; only Ed25519 (0x01) is supported")]
    UnsupportedAlgorithm(u8),
    /// The key ID in the encoding is not the one derived from the name and
    /// public key.
    #[error("key ID does not match the key name and public key")]
    KeyIdMismatch,
    /// The text to sign is not valid note text.
    #[error("invalid note text: {0}")]
    InvalidText(&'static str),
    /// The signed note does not follow the format.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A signature from a known key failed to verify: the whole note is
    /// rejected.
    #[error("signature by {name} ({key_id:08x}) does not verify")]
    InvalidSignature {
        /// Key name of the failing signature.
        name: String,
        /// Key ID of the failing signature.
        key_id: u32,
    },
    /// No signature from any of the given verifiers was found.
    #[error("note has no signature from a known key")]
    NoKnownSignature,
    /// The operating system could not supply randomness for a new key.
    /// (`rand_core` without `std` has no `std::error::Error` impl to chain,
    /// hence the message.)
    #[error("operating system randomness unavailable: {0}")]
    Randomness(String),
}

/// Checks a key name against the signed-note rules. Control characters are
/// refused too: a name containing one could never appear in a valid note.
pub fn validate_key_name(name: &str) -> Result<(), NoteError> {
    let bad = |c: char| c.is_whitespace() || c == '+' || c.is_control();
    if name.is_empty() || name.chars().any(bad) {
        return Err(NoteError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]` as a big-endian integer.
fn ed25519_key_id(name: &str, public: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Parses the 8-digit hex key ID of the key encodings (Go accepts either
/// case, so do we).
fn parse_key_id(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// Checks the text of a note to be signed: non-empty, ends in a newline, no
/// control characters other than newline.
fn validate_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::InvalidText("must end with a newline"));
    }
    if has_forbidden_control(text) {
        return Err(NoteError::InvalidText(
            "contains a control character other than newline",
        ));
    }
    Ok(())
}

fn has_forbidden_control(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 && b != b'\n')
}

/// An Ed25519 note signing key with its name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("key", &"<redacted>")
            .finish()
    }
}

impl NoteSigner {
    /// Generates a new key from operating system randomness.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(seed.as_mut())
            .map_err(|e| NoteError::Randomness(e.to_string()))?;
        Self::from_seed(name, &seed)
    }

    /// Builds a signer from a 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        validate_key_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let key_id = ed25519_key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_owned(),
            key,
            key_id,
        })
    }

    /// The key name, which appears in every signature line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The verifier key: `<name>+<hex id>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        let mut material = [0u8; 33];
        material[0] = ALG_ED25519;
        material[1..].copy_from_slice(self.key.verifying_key().as_bytes());
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(material)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` and returns the signed note: the text, a blank line and
    /// one signature line. `text` must end with a newline and contain no
    /// control characters other than newlines.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        validate_text(text)?;
        let line = self.signature_line(text);
        let mut note = String::with_capacity(text.len() + 1 + line.len());
        note.push_str(text);
        note.push('\n');
        note.push_str(&line);
        Ok(note)
    }

    /// `— <name> <base64(key ID ‖ signature)>\n` over `text`.
    fn signature_line(&self, text: &str) -> String {
        let sig: Signature = self.key.sign(text.as_bytes());
        let mut raw = [0u8; 68];
        raw[..4].copy_from_slice(&self.key_id.to_be_bytes());
        raw[4..].copy_from_slice(&sig.to_bytes());
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }

    /// Encodes the key as `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`,
    /// the format of `golang.org/x/mod/sumdb/note`. The result wipes itself
    /// when dropped; keep it in that wrapper.
    pub fn to_private_key_string(&self) -> Zeroizing<String> {
        let mut material = Zeroizing::new([0u8; 33]);
        material[0] = ALG_ED25519;
        material[1..].copy_from_slice(self.key.as_bytes());
        // Exact capacity up front: a reallocation would leave a copy of the
        // secret in freed memory.
        let cap = PRIVATE_KEY_PREFIX.len() + self.name.len() + 1 + 8 + 1 + 44;
        let mut out = Zeroizing::new(String::with_capacity(cap));
        out.push_str(PRIVATE_KEY_PREFIX);
        out.push_str(&self.name);
        out.push('+');
        out.push_str(&format!("{:08x}", self.key_id));
        out.push('+');
        STANDARD.encode_string(material.as_ref(), &mut out);
        out
    }

    /// Parses a key written by
    /// [`to_private_key_string`](Self::to_private_key_string) or by Go's
    /// `note.GenerateKey`. Errors never include the input.
    pub fn from_private_key_string(s: &str) -> Result<Self, NoteError> {
        let rest = s
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(NoteError::MalformedPrivateKey(
                "missing PRIVATE+KEY+ prefix",
            ))?;
        // The key name can't contain '+', but base64 can: split twice only.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedPrivateKey(
                "expected PRIVATE+KEY+<name>+<id>+<key>",
            ));
        };
        validate_key_name(name).map_err(|_| NoteError::MalformedPrivateKey("invalid key name"))?;
        let id = parse_key_id(id).ok_or(NoteError::MalformedPrivateKey("invalid key ID"))?;
        // Decode into a fixed, self-wiping buffer; 0x01 ‖ 32-byte seed is 44
        // base64 characters, and anything longer is refused before decoding.
        if b64.len() != 44 {
            return Err(NoteError::MalformedPrivateKey("wrong key length"));
        }
        let mut material = Zeroizing::new([0u8; 48]);
        let n = STANDARD
            .decode_slice(b64, material.as_mut())
            .map_err(|_| NoteError::MalformedPrivateKey("invalid base64"))?;
        if n != 33 {
            return Err(NoteError::MalformedPrivateKey("wrong key length"));
        }
        if material[0] != ALG_ED25519 {
            return Err(NoteError::UnsupportedAlgorithm(material[0]));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&material[1..33]);
        let signer = Self::from_seed(name, &seed)?;
        if signer.key_id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(signer)
    }
}

/// An Ed25519 note verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key `<name>+<hex id>+<base64(0x01 ‖ public key)>`,
    /// checking the key ID against the name and key.
    pub fn new(vkey: &str) -> Result<Self, NoteError> {
        // The key name can't contain '+', but base64 can: split twice only.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedVerifierKey(
                "expected <name>+<id>+<key>",
            ));
        };
        validate_key_name(name)?;
        let id = parse_key_id(id).ok_or(NoteError::MalformedVerifierKey("invalid key ID"))?;
        let material = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::MalformedVerifierKey("invalid base64"))?;
        let Some((&alg, public)) = material.split_first() else {
            return Err(NoteError::MalformedVerifierKey("empty key"));
        };
        if alg != ALG_ED25519 {
            return Err(NoteError::UnsupportedAlgorithm(alg));
        }
        let public: &[u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::MalformedVerifierKey("Ed25519 keys are 32 bytes"))?;
        let key = VerifyingKey::from_bytes(public)
            .map_err(|_| NoteError::MalformedVerifierKey("not an Ed25519 public key"))?;
        if ed25519_key_id(name, &key) != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Checks an Ed25519 signature over `text` (strict RFC 8032 checks:
    /// canonical encodings, no small-order keys).
    fn verify(&self, text: &str, sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(text.as_bytes(), &sig).is_ok()
    }
}

impl std::str::FromStr for NoteVerifier {
    type Err = NoteError;

    fn from_str(s: &str) -> Result<Self, NoteError> {
        Self::new(s)
    }
}

impl std::fmt::Display for NoteVerifier {
    /// The verifier key encoding, as accepted by [`NoteVerifier::new`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut material = [0u8; 33];
        material[0] = ALG_ED25519;
        material[1..].copy_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(material)
        )
    }
}

/// A signature line, identified by key name and key ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
}

/// A note whose signatures were checked by [`open_note`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed text, including its final newline.
    pub text: String,
    /// Signatures from the given verifiers, all verified (at least one).
    pub verified: Vec<NoteSignature>,
    /// Signatures from keys not among the verifiers: not checked, ignored.
    pub unverified: Vec<NoteSignature>,
}

/// Parses a signed note and checks its signatures against `verifiers`.
///
/// Following the spec:
///
/// * the note must not contain control characters other than newline;
/// * the text ends at the *last* blank line, and every line after it must be
///   a signature line; at most [`MAX_SIGNATURES`] of them;
/// * signatures whose (name, key ID) matches no verifier are ignored (listed
///   in [`VerifiedNote::unverified`]), even if the name or the ID alone
///   matches one;
/// * a signature from a known key that fails to verify rejects the whole
///   note; if several verifiers share a name and ID (a key ID collision),
///   the signature must verify under one of them;
/// * repeated signature lines for the same (name, key ID) are ignored after
///   the first, as in Go;
/// * at least one signature from a known key must verify.
pub fn open_note(note: &str, verifiers: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    if has_forbidden_control(note) {
        return Err(NoteError::MalformedNote(
            "contains a control character other than newline",
        ));
    }
    let split = note
        .rfind("\n\n")
        .ok_or(NoteError::MalformedNote("no blank line before signatures"))?;
    let text = &note[..=split];
    let sigs = &note[split + 2..];
    let Some(sigs) = sigs.strip_suffix('\n') else {
        return Err(NoteError::MalformedNote(
            "missing signatures or final newline",
        ));
    };

    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified: Vec<NoteSignature> = Vec::new();
    for (count, line) in sigs.split('\n').enumerate() {
        if count >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let (name, key_id, sig) = parse_signature_line(line)?;
        let seen = |s: &NoteSignature| s.name == name && s.key_id == key_id;
        if verified.iter().any(seen) || unverified.iter().any(seen) {
            continue;
        }
        let mut known = verifiers
            .iter()
            .filter(|v| v.name == name && v.key_id == key_id)
            .peekable();
        let entry = NoteSignature {
            name: name.to_owned(),
            key_id,
        };
        if known.peek().is_none() {
            unverified.push(entry);
        } else if known.any(|v| v.verify(text, &sig)) {
            verified.push(entry);
        } else {
            return Err(NoteError::InvalidSignature {
                name: entry.name,
                key_id,
            });
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(VerifiedNote {
        text: text.to_owned(),
        verified,
        unverified,
    })
}

/// Splits `— <name> <base64>` into name, key ID and signature bytes.
fn parse_signature_line(line: &str) -> Result<(&str, u32, Vec<u8>), NoteError> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(NoteError::MalformedNote(
            "signature line must start with '— '",
        ))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(NoteError::MalformedNote("signature line without signature"))?;
    if validate_key_name(name).is_err() {
        return Err(NoteError::MalformedNote("invalid key name in signature"));
    }
    let raw = STANDARD
        .decode(b64)
        .map_err(|_| NoteError::MalformedNote("invalid base64 in signature"))?;
    if raw.len() < 5 {
        return Err(NoteError::MalformedNote("signature too short"));
    }
    let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    Ok((name, key_id, raw[4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_validated() {
        for bad in [
            "",
            "a b",
            "a+b",
            "a\u{a0}b",
            "a\tb",
            "a\u{2003}b",
            "a\u{1}b",
        ] {
            assert!(validate_key_name(bad).is_err(), "{bad:?}");
        }
        for good in ["example.com/foo", "ré.example/ø", "a"] {
            assert!(validate_key_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn debug_does_not_leak_the_seed() {
        let seed = [7u8; 32];
        let signer =
            NoteSigner::from_seed("example.com/k", &seed).unwrap_or_else(|e| panic!("{e}"));
        let dbg = format!("{signer:?}");
        assert!(dbg.contains("redacted"));
        let pk = signer.to_private_key_string();
        let b64 = pk.rsplit('+').next().unwrap_or_default();
        assert!(!dbg.contains(b64));
    }

    #[test]
    fn text_must_end_with_newline_and_have_no_controls() {
        let signer = NoteSigner::from_seed("k", &[1; 32]).unwrap_or_else(|e| panic!("{e}"));
        assert!(signer.sign("no newline").is_err());
        assert!(signer.sign("tab\there\n").is_err());
        assert!(signer.sign("").is_err());
        assert!(signer.sign("ok\n").is_ok());
    }
}

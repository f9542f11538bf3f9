//! The envelope: one message between states, encrypted to the states that may read it and
//! signed by the state that sent it.
//!
//! ```json
//! {"v":1,"id":"<32 hex>","from":"KE","to":["KE","UG"],"created_at":"2025-03-01T09:30:00Z",
//!  "kind":"trace_request","ciphertext":"<base64 of an age file>","signature":"<base64>"}
//! ```
//!
//! - `to` lists every state that may read the message: the recipients and the sender, so a
//!   node can read back what it sent (to show it, re-send it, or seal it again).
//! - `ciphertext` is an age (age-encryption.org/v1) file with one X25519 recipient per state
//!   in `to`. A relay, a proxy or a state outside `to` can carry the envelope but not read it;
//!   what they do see is the header: who writes to whom, when, and what kind of message.
//! - `signature` is Ed25519 by the sender over a canonical byte string of every other field
//!   (a domain label, then each field length-prefixed), so changing any of them — adding a
//!   state to `to`, moving `created_at`, swapping the ciphertext — makes the signature fail.
//!
//! **Encrypt, then sign, then bind.** Signing the ciphertext lets a node reject a forgery
//! before spending anything on decryption. But a signature over a ciphertext alone would let
//! a state that is *not* a reader lift a ciphertext out of someone else's envelope and send
//! it again under its own name and signature. So the plaintext also carries the header
//! (`id`, `from`, `to`, `created_at`, `kind`) it was sealed under, and [`open`] refuses a
//! ciphertext whose bound header differs from the envelope's
//! ([`Rejection::HeaderMismatch`]).
//!
//! [`check`] does everything that needs no decryption (version, form, the sender's key from
//! the directory, the signature, "am I a reader"); [`Checked::decrypt`] does the rest. A
//! receiver runs the replay guard between the two (see [`crate::replay::receive`]).
//!
//! The envelope's fields are plain strings on purpose: an envelope off the network is
//! untrusted, and [`check`] names the field that is wrong. A parsed and verified [`Header`]
//! can only come out of [`check`].

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use tracemark_domain::ids::CountryCode;

use crate::canonical::Canonical;
use crate::directory::{Directory, DirectoryError};
use crate::identity::{NodeIdentity, PublicIdentity};

/// The envelope format this crate writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;

/// Domain label of the bytes the sender signs.
const SIGNED_DOMAIN: &[u8] = b"tracemark-federation/v1/envelope\n";
/// Domain label of the header bound inside the ciphertext.
const BOUND_DOMAIN: &[u8] = b"tracemark-federation/v1/sealed-header\n";
/// Domain label of an envelope's digest (what a receipt names).
const DIGEST_DOMAIN: &[u8] = b"tracemark-federation/v1/envelope-digest\n";

/// A message id: 128 random bits, written as 32 lower-case hex digits. Random rather than a
/// counter, so two nodes (or two app servers of one node) never pick the same one, and the
/// pair (sender, id) identifies a message for the replay guard.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId([u8; 16]);

impl MessageId {
    /// Draws a new id from `rng` (`rand_core::OsRng` in production).
    pub fn random(rng: &mut impl CryptoRngCore) -> Result<Self, rand_core::Error> {
        let mut bytes = [0u8; 16];
        rng.try_fill_bytes(&mut bytes)?;
        Ok(MessageId(bytes))
    }

    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        MessageId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses exactly 32 lower-case hex digits (one spelling per id, so ids compare as text).
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "'{text}' is not a message id (32 lower-case hex digits)"
            ));
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).map_err(|e| e.to_string())?;
        Ok(MessageId(bytes))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

/// What a message is, visible to relays (it is in the signed header, not the ciphertext) so
/// a receiver can route it before decrypting. The trace life cycle's steps that cross a
/// border, and receipts sent as messages of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A trace request (new, or forwarded to the next state in a chain).
    TraceRequest,
    /// A human acknowledgement of a request ("received, being handled").
    Ack,
    /// An answer (full, partial, no record, restricted, refused).
    Answer,
    /// A follow-up question or reminder about a request already answered or overdue.
    FollowUp,
    /// Closing a trace, with feedback on the answer's usefulness.
    Close,
    /// Delivery receipts sent as a message of their own (e.g. when the direct reply to a
    /// delivery was lost).
    DeliveryReceipt,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        MessageKind::TraceRequest,
        MessageKind::Ack,
        MessageKind::Answer,
        MessageKind::FollowUp,
        MessageKind::Close,
        MessageKind::DeliveryReceipt,
    ];

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::TraceRequest => "trace_request",
            MessageKind::Ack => "ack",
            MessageKind::Answer => "answer",
            MessageKind::FollowUp => "follow_up",
            MessageKind::Close => "close",
            MessageKind::DeliveryReceipt => "delivery_receipt",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message on the wire. Untrusted until [`check`] or [`open`] says otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub v: u32,
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub created_at: String,
    pub kind: String,
    pub ciphertext: String,
    pub signature: String,
}

/// The SHA-256 of an envelope's canonical form (every field, signature included). Both sides
/// compute it from the fields, so it does not depend on how the JSON was written; a receipt
/// names the exact envelope it acknowledges by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnvelopeDigest(pub [u8; 32]);

impl EnvelopeDigest {
    /// Parses `sha256:<64 lower-case hex digits>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex_part = text
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("'{text}' does not start with 'sha256:'"))?;
        if hex_part.len() != 64 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "'{text}' is not sha256: and 64 lower-case hex digits"
            ));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes).map_err(|e| e.to_string())?;
        Ok(EnvelopeDigest(bytes))
    }
}

impl fmt::Display for EnvelopeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for EnvelopeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvelopeDigest({self})")
    }
}

impl Envelope {
    /// Reads an envelope from JSON. An envelope of another version is reported as such
    /// (not as "unknown field"), so a node can tell an old peer from a broken one.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, Rejection> {
        serde_json::from_slice(bytes).map_err(|err| {
            #[derive(Deserialize)]
            struct VersionOnly {
                v: u64,
            }
            match serde_json::from_slice::<VersionOnly>(bytes) {
                Ok(VersionOnly { v }) if v != u64::from(ENVELOPE_VERSION) => {
                    Rejection::UnsupportedVersion(v)
                }
                _ => Rejection::Malformed {
                    field: "envelope",
                    reason: err.to_string(),
                },
            }
        })
    }

    pub fn to_json(&self) -> String {
        // Serializing a struct of strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// See [`EnvelopeDigest`].
    pub fn digest(&self) -> EnvelopeDigest {
        let bytes = Canonical::new(DIGEST_DOMAIN)
            .field(self.signed_bytes())
            .field(&self.signature)
            .into_bytes();
        EnvelopeDigest(Sha256::digest(bytes).into())
    }

    /// The bytes the signature covers: every field but the signature, as written.
    pub(crate) fn signed_bytes(&self) -> Vec<u8> {
        header_fields(
            Canonical::new(SIGNED_DOMAIN),
            self.v,
            &self.id,
            &self.from,
            &self.to,
            &self.created_at,
            &self.kind,
        )
        .field(&self.ciphertext)
        .into_bytes()
    }

    /// The header as bound inside the ciphertext.
    fn bound_header(&self) -> Vec<u8> {
        bound_header(
            self.v,
            &self.id,
            &self.from,
            &self.to,
            &self.created_at,
            &self.kind,
        )
    }
}

fn header_fields(
    c: Canonical,
    v: u32,
    id: &str,
    from: &str,
    to: &[String],
    created_at: &str,
    kind: &str,
) -> Canonical {
    c.field(v.to_string())
        .field(id)
        .field(from)
        .list(to)
        .field(created_at)
        .field(kind)
}

fn bound_header(
    v: u32,
    id: &str,
    from: &str,
    to: &[String],
    created_at: &str,
    kind: &str,
) -> Vec<u8> {
    header_fields(
        Canonical::new(BOUND_DOMAIN),
        v,
        id,
        from,
        to,
        created_at,
        kind,
    )
    .into_bytes()
}

/// Why a message could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("a message needs at least one reader besides the sender")]
    NoReader,
    #[error("{0} is given twice as a reader, with different keys")]
    ConflictingReader(CountryCode),
    #[error("created_at cannot be written in RFC 3339: {0}")]
    Time(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("only the sender can seal its message again; this one is from {0}")]
    NotOurs(CountryCode),
    #[error("cannot open the message to seal it again: {0}")]
    Open(#[from] Rejection),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// Seals `payload` for `readers` (and the sender, always) as an envelope signed by `sender`.
///
/// `id` and `created_at` are the caller's: the id from [`MessageId::random`], the time from
/// the node's clock (this crate reads none). The readers' keys are those of the caller's
/// directory; giving the same state twice with different keys is an error, not a choice.
pub fn seal(
    sender: &NodeIdentity,
    readers: &[PublicIdentity],
    kind: MessageKind,
    id: MessageId,
    created_at: OffsetDateTime,
    payload: &[u8],
) -> Result<Envelope, SealError> {
    let mut by_state: BTreeMap<CountryCode, &PublicIdentity> = BTreeMap::new();
    by_state.insert(sender.state(), sender.public());
    for reader in readers {
        match by_state.get(&reader.state()) {
            Some(known) if known.same_keys(reader) => {}
            Some(_) => return Err(SealError::ConflictingReader(reader.state())),
            None => {
                by_state.insert(reader.state(), reader);
            }
        }
    }
    if by_state.len() < 2 {
        return Err(SealError::NoReader);
    }
    let to: Vec<String> = by_state.keys().map(|s| s.as_str().to_owned()).collect();
    let created_at = created_at
        .to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| SealError::Time(e.to_string()))?;
    let id = id.to_string();
    let from = sender.state().as_str().to_owned();
    let kind = kind.as_str().to_owned();

    let bound = bound_header(ENVELOPE_VERSION, &id, &from, &to, &created_at, &kind);
    // The plaintext is the bound header, length-prefixed, then the payload.
    let prefix = Canonical::new(b"").field(&bound).into_bytes();
    let ciphertext = encrypt(by_state.values().map(|r| r.recipient()), &prefix, payload)?;

    let mut envelope = Envelope {
        v: ENVELOPE_VERSION,
        id,
        from,
        to,
        created_at,
        kind,
        ciphertext: STANDARD.encode(ciphertext),
        signature: String::new(),
    };
    let signature = sender.signing_key().sign(&envelope.signed_bytes());
    envelope.signature = STANDARD.encode(signature.to_bytes());
    Ok(envelope)
}

fn encrypt<'a>(
    recipients: impl Iterator<Item = &'a age::x25519::Recipient>,
    prefix: &[u8],
    payload: &[u8],
) -> Result<Vec<u8>, SealError> {
    let failed = |e: &dyn fmt::Display| SealError::Encrypt(e.to_string());
    let encryptor = age::Encryptor::with_recipients(recipients.map(|r| r as &dyn age::Recipient))
        .map_err(|e| failed(&e))?;
    let mut out = Vec::with_capacity(prefix.len() + payload.len() + 512);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| failed(&e))?;
    writer.write_all(prefix).map_err(|e| failed(&e))?;
    writer.write_all(payload).map_err(|e| failed(&e))?;
    writer.finish().map_err(|e| failed(&e))?;
    Ok(out)
}

/// Seals a message this node sent again, with the same id, kind and readers but a new
/// `created_at` and fresh encryption, for the readers' keys as the directory now holds them.
///
/// A message that waits in the outbox longer than the receivers' replay window would be
/// refused as too old when the peer comes back; the outbox seals it again before that (see
/// [`crate::outbox::RetryPolicy::reseal_due`]). Receivers deduplicate on (sender, id), so a
/// peer that did get the first version answers the second as a duplicate.
pub fn reseal(
    sender: &NodeIdentity,
    sent: &Envelope,
    directory: &Directory,
    created_at: OffsetDateTime,
) -> Result<Envelope, SealError> {
    let opened = open(sent, sender, directory)?;
    let header = opened.header();
    if header.from() != sender.state() {
        return Err(SealError::NotOurs(header.from()));
    }
    let others: Vec<CountryCode> = header.recipients().collect();
    let readers = directory.identities(&others)?;
    seal(
        sender,
        &readers,
        header.kind(),
        header.id(),
        created_at,
        opened.payload(),
    )
}

/// Why a received envelope was refused. Each cause has a stable [`code`](Self::code) for
/// the log, and a message that says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("envelope version {0} is not supported (this node reads version 1)")]
    UnsupportedVersion(u64),
    #[error("malformed envelope: {field}: {reason}")]
    Malformed { field: &'static str, reason: String },
    #[error("the sender {0} is not in the peer directory")]
    UnknownSender(CountryCode),
    #[error(
        "the signature does not verify under {from}'s key in the directory: the message was \
         forged, or changed on the way"
    )]
    BadSignature { from: CountryCode },
    #[error("the message is not addressed to {me}")]
    NotAddressedToMe { me: CountryCode },
    #[error("cannot decrypt the message: {0}")]
    CannotDecrypt(String),
    #[error(
        "the encrypted content was sealed under another header (a ciphertext lifted from \
         another message)"
    )]
    HeaderMismatch,
    #[error(
        "the message was created at {created_at}, more than {max_age_secs} s before now \
         ({now})"
    )]
    TooOld {
        created_at: String,
        now: String,
        max_age_secs: i64,
    },
    #[error(
        "the message was created at {created_at}, more than {max_skew_secs} s after now \
         ({now}): check the sender's clock"
    )]
    TooNew {
        created_at: String,
        now: String,
        max_skew_secs: i64,
    },
}

impl Rejection {
    /// A stable snake_case code, for logs and figures.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnsupportedVersion(_) => "unsupported_version",
            Rejection::Malformed { .. } => "malformed",
            Rejection::UnknownSender(_) => "unknown_sender",
            Rejection::BadSignature { .. } => "bad_signature",
            Rejection::NotAddressedToMe { .. } => "not_addressed_to_me",
            Rejection::CannotDecrypt(_) => "cannot_decrypt",
            Rejection::HeaderMismatch => "header_mismatch",
            Rejection::TooOld { .. } => "too_old",
            Rejection::TooNew { .. } => "too_new",
        }
    }
}

/// The header of an envelope whose signature verified under its sender's directory key and
/// that is addressed to this node. Only [`check`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    id: MessageId,
    from: CountryCode,
    to: Vec<CountryCode>,
    created_at: OffsetDateTime,
    kind: MessageKind,
    digest: EnvelopeDigest,
}

impl Header {
    pub fn id(&self) -> MessageId {
        self.id
    }

    pub fn from(&self) -> CountryCode {
        self.from
    }

    /// Every state that may read the message, the sender included, as the envelope lists
    /// them.
    pub fn to(&self) -> &[CountryCode] {
        &self.to
    }

    /// The states the message is for: `to` without the sender.
    pub fn recipients(&self) -> impl Iterator<Item = CountryCode> + '_ {
        self.to.iter().copied().filter(|s| *s != self.from)
    }

    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The digest of the exact envelope this header came from.
    pub fn digest(&self) -> EnvelopeDigest {
        self.digest
    }
}

/// An envelope that passed [`check`]: authentic, addressed to this node, not yet decrypted.
#[derive(Debug)]
pub struct Checked {
    header: Header,
    bound: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl Checked {
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn into_header(self) -> Header {
        self.header
    }

    /// Decrypts with this node's age key and checks that the ciphertext was sealed under this
    /// very header.
    pub fn decrypt(self, me: &NodeIdentity) -> Result<Opened, Rejection> {
        let plaintext = age_decrypt(&self.ciphertext, me)?;
        // The plaintext is the bound header, length-prefixed, then the payload.
        let (len, rest) = plaintext
            .split_first_chunk::<8>()
            .ok_or(Rejection::HeaderMismatch)?;
        let len =
            usize::try_from(u64::from_be_bytes(*len)).map_err(|_| Rejection::HeaderMismatch)?;
        if rest.len() < len || rest[..len] != self.bound[..] {
            return Err(Rejection::HeaderMismatch);
        }
        let payload = rest[len..].to_vec();
        Ok(Opened {
            header: self.header,
            payload,
        })
    }
}

/// Decrypts an age file with this node's X25519 key.
pub(crate) fn age_decrypt(ciphertext: &[u8], me: &NodeIdentity) -> Result<Vec<u8>, Rejection> {
    let cannot = |e: &dyn fmt::Display| Rejection::CannotDecrypt(e.to_string());
    let decryptor = age::Decryptor::new(ciphertext).map_err(|e| cannot(&e))?;
    let mut reader = decryptor
        .decrypt(std::iter::once(me.age_identity() as &dyn age::Identity))
        .map_err(|e| cannot(&e))?;
    let mut plaintext = Vec::new();
    reader.read_to_end(&mut plaintext).map_err(|e| cannot(&e))?;
    Ok(plaintext)
}

/// A message opened by this node: its verified header and its payload.
#[derive(Debug)]
pub struct Opened {
    header: Header,
    payload: Vec<u8>,
}

impl Opened {
    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub fn into_parts(self) -> (Header, Vec<u8>) {
        (self.header, self.payload)
    }
}

/// Checks, decrypts and returns a message addressed to `me`. See [`check`] and
/// [`Checked::decrypt`] for the order of the checks.
pub fn open(env: &Envelope, me: &NodeIdentity, directory: &Directory) -> Result<Opened, Rejection> {
    check(env, me, directory)?.decrypt(me)
}

/// Everything short of decryption, in this order: the version; the form of every field; the
/// sender's key, from the directory (or this node's own key, for a message it sent); the
/// signature over every other field; and that `me` is among the readers. Decrypting only
/// after the signature means a forged or altered envelope costs a signature check, no more.
pub fn check(
    env: &Envelope,
    me: &NodeIdentity,
    directory: &Directory,
) -> Result<Checked, Rejection> {
    if env.v != ENVELOPE_VERSION {
        return Err(Rejection::UnsupportedVersion(u64::from(env.v)));
    }
    let malformed =
        |field: &'static str| move |reason: String| Rejection::Malformed { field, reason };
    let id = MessageId::parse(&env.id).map_err(malformed("id"))?;
    let from = CountryCode::parse(&env.from).map_err(malformed("from"))?;
    let to = parse_readers(&env.to, from).map_err(malformed("to"))?;
    let created_at = OffsetDateTime::parse(&env.created_at, &Rfc3339)
        .map_err(|e| format!("'{}' is not an RFC 3339 date-time: {e}", env.created_at))
        .map_err(malformed("created_at"))?;
    let kind = MessageKind::parse(&env.kind)
        .ok_or_else(|| format!("'{}' is not a message kind this node knows", env.kind))
        .map_err(malformed("kind"))?;
    let signature = STANDARD
        .decode(&env.signature)
        .map_err(|e| format!("not base64: {e}"))
        .and_then(|b| {
            <[u8; 64]>::try_from(b).map_err(|_| "an Ed25519 signature is 64 bytes".to_owned())
        })
        .map(|b| Signature::from_bytes(&b))
        .map_err(malformed("signature"))?;
    let ciphertext = STANDARD
        .decode(&env.ciphertext)
        .map_err(|e| format!("not base64: {e}"))
        .map_err(malformed("ciphertext"))?;

    let key = if from == me.state() {
        me.public().verifying_key()
    } else {
        directory
            .identity(from)
            .ok_or(Rejection::UnknownSender(from))?
            .verifying_key()
    };
    // `verify_strict` refuses the malleable and small-order edge cases `verify` lets through.
    key.verify_strict(&env.signed_bytes(), &signature)
        .map_err(|_| Rejection::BadSignature { from })?;

    if !to.contains(&me.state()) {
        return Err(Rejection::NotAddressedToMe { me: me.state() });
    }
    Ok(Checked {
        header: Header {
            id,
            from,
            to,
            created_at,
            kind,
            digest: env.digest(),
        },
        bound: env.bound_header(),
        ciphertext,
    })
}

/// `to`: known codes, each once, the sender among them, and at least one other state.
fn parse_readers(to: &[String], from: CountryCode) -> Result<Vec<CountryCode>, String> {
    let mut states = Vec::with_capacity(to.len());
    for text in to {
        let state = CountryCode::parse(text)?;
        if states.contains(&state) {
            return Err(format!("{state} is listed twice"));
        }
        states.push(state);
    }
    if !states.contains(&from) {
        return Err(format!("the sender {from} must be among the readers"));
    }
    if states.len() < 2 {
        return Err("no reader besides the sender".to_owned());
    }
    Ok(states)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::directory::{Peer, PeerUrl};
    use crate::identity::tests::identity;
    use time::macros::datetime;

    pub(crate) struct World {
        pub ke: NodeIdentity,
        pub ug: NodeIdentity,
        pub tz: NodeIdentity,
        /// Every node's directory holds the three of them.
        pub dir: Directory,
    }

    pub(crate) fn world() -> World {
        let ke = identity("KE", 1);
        let ug = identity("UG", 2);
        let tz = identity("TZ", 3);
        let mut dir = Directory::new();
        for id in [&ke, &ug, &tz] {
            dir.add(Peer {
                identity: id.public().clone(),
                url: PeerUrl::parse(&format!("https://{}.example", id.state())).unwrap(),
            })
            .unwrap();
        }
        World { ke, ug, tz, dir }
    }

    /// A named change to a value, for the tamper tables.
    pub(crate) type Change<T> = (&'static str, Box<dyn Fn(&mut T)>);

    pub(crate) const ID: MessageId = MessageId([0xab; 16]);
    pub(crate) const AT: OffsetDateTime = datetime!(2025-03-01 09:30:00 UTC);

    pub(crate) fn ke_to_ug(w: &World) -> Envelope {
        seal(
            &w.ke,
            std::slice::from_ref(w.ug.public()),
            MessageKind::TraceRequest,
            ID,
            AT,
            b"the request",
        )
        .unwrap()
    }

    #[test]
    fn the_recipient_and_the_sender_can_open_it() {
        let w = world();
        let env = ke_to_ug(&w);
        assert_eq!(env.to, ["KE", "UG"]);
        assert_eq!(env.created_at, "2025-03-01T09:30:00Z");
        assert_eq!(env.kind, "trace_request");
        assert_eq!(env.id, "abababababababababababababababab");
        for me in [&w.ug, &w.ke] {
            let opened = open(&env, me, &w.dir).unwrap();
            assert_eq!(opened.payload(), b"the request");
            let h = opened.header();
            assert_eq!(h.id(), ID);
            assert_eq!(h.from(), w.ke.state());
            assert_eq!(h.created_at(), AT);
            assert_eq!(h.kind(), MessageKind::TraceRequest);
            assert_eq!(h.recipients().collect::<Vec<_>>(), [w.ug.state()]);
            assert_eq!(h.digest(), env.digest());
        }
    }

    #[test]
    fn a_third_state_cannot_open_it() {
        let w = world();
        let env = ke_to_ug(&w);
        assert_eq!(
            open(&env, &w.tz, &w.dir).unwrap_err(),
            Rejection::NotAddressedToMe { me: w.tz.state() }
        );
    }

    #[test]
    fn json_round_trips_and_refuses_unknown_fields() {
        let w = world();
        let env = ke_to_ug(&w);
        let json = env.to_json();
        assert!(json.starts_with(r#"{"v":1,"id":"abab"#), "{json}");
        assert_eq!(Envelope::from_json(json.as_bytes()).unwrap(), env);
        let extra = json.replacen(r#""v":1,"#, r#""v":1,"relay":"x","#, 1);
        let err = Envelope::from_json(extra.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                Rejection::Malformed {
                    field: "envelope",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("unknown field `relay`"), "{err}");
        let v2 = json.replacen(r#""v":1,"#, r#""v":2,"hint":"x","#, 1);
        assert_eq!(
            Envelope::from_json(v2.as_bytes()).unwrap_err(),
            Rejection::UnsupportedVersion(2)
        );
        let mut v3 = env.clone();
        v3.v = 3;
        assert_eq!(
            open(&v3, &w.ug, &w.dir).unwrap_err(),
            Rejection::UnsupportedVersion(3)
        );
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let w = world();
        let env = ke_to_ug(&w);
        let bad = Rejection::BadSignature { from: w.ke.state() };
        let tampered: Vec<Change<Envelope>> = vec![
            ("id", Box::new(|e| e.id = e.id.replacen('a', "c", 1))),
            ("to: reordered", Box::new(|e| e.to.reverse())),
            ("to: a state added", Box::new(|e| e.to.push("TZ".into()))),
            (
                "to: a state replaced",
                Box::new(|e| e.to = vec!["KE".into(), "TZ".into()]),
            ),
            (
                "created_at",
                Box::new(|e| e.created_at = "2025-03-08T09:30:00Z".into()),
            ),
            ("kind", Box::new(|e| e.kind = "answer".into())),
            (
                "ciphertext",
                Box::new(|e| e.ciphertext = flip_base64(&e.ciphertext, 200)),
            ),
            (
                "signature",
                Box::new(|e| e.signature = flip_base64(&e.signature, 10)),
            ),
        ];
        for (what, change) in tampered {
            let mut e = env.clone();
            change(&mut e);
            assert_ne!(e, env, "{what}");
            let me = if e.to.contains(&"TZ".to_owned()) {
                &w.tz
            } else {
                &w.ug
            };
            assert_eq!(open(&e, me, &w.dir).unwrap_err(), bad, "{what}");
        }
        // `from` rewritten to another known state: checked under that state's key.
        let mut e = env.clone();
        e.from = "TZ".into();
        e.to = vec!["TZ".into(), "UG".into()];
        assert_eq!(
            open(&e, &w.ug, &w.dir).unwrap_err(),
            Rejection::BadSignature { from: w.tz.state() }
        );
    }

    /// Flips one bit of the byte at `at` in the decoded value and encodes it again, so the
    /// field stays well formed and only the signature can notice.
    fn flip_base64(b64: &str, at: usize) -> String {
        let mut bytes = STANDARD.decode(b64).unwrap();
        let at = at.min(bytes.len() - 1);
        bytes[at] ^= 1;
        STANDARD.encode(bytes)
    }

    #[test]
    fn malformed_fields_are_named() {
        let w = world();
        let env = ke_to_ug(&w);
        let cases: Vec<Change<Envelope>> = vec![
            ("id", Box::new(|e| e.id = e.id.to_uppercase())),
            ("id", Box::new(|e| e.id.push('0'))),
            ("from", Box::new(|e| e.from = "ke".into())),
            ("from", Box::new(|e| e.from = "XX".into())),
            ("to", Box::new(|e| e.to = vec!["UG".into()])),
            ("to", Box::new(|e| e.to = vec!["KE".into()])),
            ("to", Box::new(|e| e.to.push("UG".into()))),
            ("to", Box::new(|e| e.to.push("Kenya".into()))),
            (
                "created_at",
                Box::new(|e| e.created_at = "2025-03-01 09:30".into()),
            ),
            ("kind", Box::new(|e| e.kind = "gossip".into())),
            ("signature", Box::new(|e| e.signature.push('!'))),
            (
                "signature",
                Box::new(|e| e.signature = STANDARD.encode([0u8; 63])),
            ),
            ("ciphertext", Box::new(|e| e.ciphertext.insert(0, '*'))),
        ];
        for (field, change) in cases {
            let mut e = env.clone();
            change(&mut e);
            match open(&e, &w.ug, &w.dir) {
                Err(Rejection::Malformed { field: f, reason }) => {
                    assert_eq!(f, field, "{reason}")
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_sender_outside_the_directory_is_unknown() {
        let w = world();
        let stranger = identity("ZA", 9);
        let env = seal(
            &stranger,
            std::slice::from_ref(w.ug.public()),
            MessageKind::TraceRequest,
            ID,
            AT,
            b"hello",
        )
        .unwrap();
        assert_eq!(
            open(&env, &w.ug, &w.dir).unwrap_err(),
            Rejection::UnknownSender(stranger.state())
        );
    }

    #[test]
    fn a_key_other_than_the_directory_s_is_a_bad_signature() {
        let w = world();
        // Someone holding a KE key that is not the one in UG's directory (an old key, or an
        // impostor) signs as KE.
        let impostor = identity("KE", 99);
        let env = seal(
            &impostor,
            std::slice::from_ref(w.ug.public()),
            MessageKind::TraceRequest,
            ID,
            AT,
            b"forged",
        )
        .unwrap();
        assert_eq!(
            open(&env, &w.ug, &w.dir).unwrap_err(),
            Rejection::BadSignature { from: w.ke.state() }
        );
    }

    #[test]
    fn a_lifted_ciphertext_resigned_by_another_state_is_refused() {
        let w = world();
        // KE writes to UG and TZ. TZ is a reader, so it could always re-send the plaintext
        // itself; what it must not be able to do is pass KE's sealed content off as its own
        // message without KE's header coming along.
        let env = seal(
            &w.ke,
            &[w.ug.public().clone(), w.tz.public().clone()],
            MessageKind::Answer,
            ID,
            AT,
            b"KE's answer",
        )
        .unwrap();
        let mut lifted = env.clone();
        lifted.from = "TZ".into();
        lifted.signature =
            STANDARD.encode(w.tz.signing_key().sign(&lifted.signed_bytes()).to_bytes());
        assert_eq!(
            open(&lifted, &w.ug, &w.dir).unwrap_err(),
            Rejection::HeaderMismatch
        );
        // The untouched envelope opens.
        assert_eq!(open(&env, &w.ug, &w.dir).unwrap().payload(), b"KE's answer");
    }

    #[test]
    fn a_non_reader_that_adds_itself_and_resigns_cannot_decrypt() {
        let w = world();
        let mut env = ke_to_ug(&w);
        env.from = "TZ".into();
        env.to = vec!["KE".into(), "TZ".into(), "UG".into()];
        env.signature = STANDARD.encode(w.tz.signing_key().sign(&env.signed_bytes()).to_bytes());
        assert!(matches!(
            open(&env, &w.tz, &w.dir).unwrap_err(),
            Rejection::CannotDecrypt(_)
        ));
    }

    #[test]
    fn sealing_refuses_no_reader_and_conflicting_keys() {
        let w = world();
        let none = seal(&w.ke, &[], MessageKind::Ack, ID, AT, b"");
        assert_eq!(none.unwrap_err(), SealError::NoReader);
        let only_me = seal(
            &w.ke,
            &[w.ke.public().clone()],
            MessageKind::Ack,
            ID,
            AT,
            b"",
        );
        assert_eq!(only_me.unwrap_err(), SealError::NoReader);
        let other_ke = identity("KE", 5).public().clone();
        assert_eq!(
            seal(&w.ke, &[other_ke], MessageKind::Ack, ID, AT, b"").unwrap_err(),
            SealError::ConflictingReader(w.ke.state())
        );
        let other_ug = identity("UG", 5).public().clone();
        assert_eq!(
            seal(
                &w.ke,
                &[w.ug.public().clone(), other_ug],
                MessageKind::Ack,
                ID,
                AT,
                b""
            )
            .unwrap_err(),
            SealError::ConflictingReader(w.ug.state())
        );
        // The same reader twice is only one reader.
        let twice = seal(
            &w.ke,
            &[w.ug.public().clone(), w.ug.public().clone()],
            MessageKind::Ack,
            ID,
            AT,
            b"",
        )
        .unwrap();
        assert_eq!(twice.to, ["KE", "UG"]);
    }

    #[test]
    fn created_at_is_written_in_utc() {
        let w = world();
        let env = seal(
            &w.ke,
            std::slice::from_ref(w.ug.public()),
            MessageKind::Ack,
            ID,
            datetime!(2025-03-01 12:30:00.25 +03:00),
            b"",
        )
        .unwrap();
        assert_eq!(env.created_at, "2025-03-01T09:30:00.25Z");
    }

    #[test]
    fn reseal_keeps_id_kind_readers_and_payload() {
        let w = world();
        let env = seal(
            &w.ke,
            &[w.ug.public().clone(), w.tz.public().clone()],
            MessageKind::TraceRequest,
            ID,
            AT,
            b"payload",
        )
        .unwrap();
        let later = datetime!(2025-03-05 00:00:00 UTC);
        let again = reseal(&w.ke, &env, &w.dir, later).unwrap();
        assert_eq!(
            (&again.id, &again.to, &again.kind),
            (&env.id, &env.to, &env.kind)
        );
        assert_eq!(again.created_at, "2025-03-05T00:00:00Z");
        assert_ne!(again.digest(), env.digest());
        let opened = open(&again, &w.tz, &w.dir).unwrap();
        assert_eq!(opened.payload(), b"payload");
        // Only the sender can do this.
        assert_eq!(
            reseal(&w.ug, &env, &w.dir, later).unwrap_err(),
            SealError::NotOurs(w.ke.state())
        );
    }

    #[test]
    fn message_ids_have_one_spelling() {
        let id = MessageId::from_bytes([0x0f; 16]);
        assert_eq!(MessageId::parse(&id.to_string()), Ok(id));
        assert!(MessageId::parse(&id.to_string().to_uppercase()).is_err());
        assert!(MessageId::parse("0f").is_err());
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn rejection_codes_are_distinct() {
        let all = [
            Rejection::UnsupportedVersion(2),
            Rejection::Malformed {
                field: "id",
                reason: String::new(),
            },
            Rejection::UnknownSender(CountryCode::parse("KE").unwrap()),
            Rejection::BadSignature {
                from: CountryCode::parse("KE").unwrap(),
            },
            Rejection::NotAddressedToMe {
                me: CountryCode::parse("KE").unwrap(),
            },
            Rejection::CannotDecrypt(String::new()),
            Rejection::HeaderMismatch,
            Rejection::TooOld {
                created_at: String::new(),
                now: String::new(),
                max_age_secs: 0,
            },
            Rejection::TooNew {
                created_at: String::new(),
                now: String::new(),
                max_skew_secs: 0,
            },
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(Rejection::code).collect();
        assert_eq!(codes.len(), all.len());
    }
}

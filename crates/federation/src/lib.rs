//! Messaging between national installations: who a node is, whom it trusts, and the sealed,
//! signed envelope that carries a trace between states.
//!
//! Tracing under the ITI fails when requests go unacknowledged, answers are lost, and states
//! will not put sensitive answers where others can read them. When both states run Tracemark,
//! their nodes exchange messages directly, and this crate holds the rules that make that
//! exchange safe — as values and pure functions, so that the HTTP client and server, the
//! outbox table and the ledger built on top of it have nothing cryptographic left to decide:
//!
//! - [`identity`]: a node's [`NodeIdentity`] (its state, an Ed25519 signing key, an age X25519
//!   key), its secret text form for storage, and the [`PublicIdentity`] administrators exchange
//!   out of band, with a short [`Fingerprint`] to compare on the phone.
//! - [`directory`]: the peers (state → public identity and base URL). A key never changes by
//!   accident: adding a known state with other keys is an error; replacing is a separate call.
//! - [`envelope`]: [`seal`] encrypts a payload to every state in the trace (one age recipient
//!   each, the sender included) and signs every field; [`open`] checks the version, the form,
//!   the sender's directory key, the signature, that we are a reader, and decrypts. Each
//!   refusal is a [`Rejection`] with a stable code.
//! - [`replay`]: a window on `created_at` (7 days back, 5 minutes ahead) and deduplication on
//!   (sender, id), so a message is processed once; [`receive`] runs the whole receiving side.
//! - [`receipt`]: the automatic, signed delivery receipt for one exact envelope.
//! - [`outbox`]: when to retry (exponential back-off from 10 s to 1 h, deterministic jitter,
//!   never give up) and when to seal an undelivered message again.
//!
//! **Architecture invariant:** no I/O, no clock, no storage. Time is an argument (`created_at`,
//! `received_at`, `now`); the seen message ids are asked through a trait the caller backs with
//! its store; keys and the directory are values the caller loads and saves. The only
//! randomness is what cryptography needs: key generation and message ids take the caller's
//! RNG, and age draws its file keys and ephemeral keys from the operating system.
//!
//! **Architecture invariant:** every message [`open`] returns was signed, over every header
//! field and the ciphertext, by the key the directory holds for its sender, and is addressed to
//! us; its ciphertext was sealed under that same header. Nothing else is ever decrypted.
//!
//! **API boundary:** the serde types ([`Envelope`], [`Receipt`], [`PublicIdentity`],
//! [`Directory`]) are the interchange and storage formats. They are versioned (`v`), refuse
//! unknown fields, and their names are stable.

mod canonical;
pub mod directory;
pub mod envelope;
pub mod identity;
pub mod outbox;
pub mod receipt;
pub mod replay;

#[cfg(test)]
mod properties;

pub use directory::{Directory, Peer, PeerUrl};
pub use envelope::{
    check, open, reseal, seal, Envelope, EnvelopeDigest, Header, MessageId, MessageKind, Opened,
    Rejection,
};
pub use identity::{Fingerprint, NodeIdentity, PublicIdentity};
pub use outbox::RetryPolicy;
pub use receipt::{Receipt, ReceiptRejection, VerifiedReceipt};
pub use replay::{receive, Admission, Received, ReplayGuard, SeenMessages};

//! Delivery receipts: the receiving node's signed statement "I got this exact envelope".
//!
//! A receipt is automatic: the receiving node issues it as soon as an envelope is opened
//! (or recognised as a duplicate, in which case it sends the receipt it gave the first
//! time), with no person involved. It says the message arrived and was readable, nothing
//! more. A person's acknowledgement ("received, we are on it") is a message of its own kind
//! ([`MessageKind::Ack`](crate::envelope::MessageKind::Ack)), sent when someone has actually
//! read the request.
//!
//! ```json
//! {"v":1,"message_id":"<32 hex>","from":"UG","received_at":"2025-03-01T09:30:02Z",
//!  "digest":"sha256:<64 hex>","signature":"<base64>"}
//! ```
//!
//! `from` is the receiving state (the signer) and `digest` the
//! [`EnvelopeDigest`] of the envelope received, so a receipt
//! cannot be moved to another message, nor to another version of the same message (one
//! sealed again with a new date: the sender keeps each version's digest). Receipts are not
//! encrypted: they tell a relay nothing the envelope's header did not.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use tracemark_domain::ids::CountryCode;

use crate::canonical::Canonical;
use crate::directory::Directory;
use crate::envelope::{Envelope, EnvelopeDigest, Header, MessageId};
use crate::identity::NodeIdentity;

/// The receipt format this crate writes and reads.
pub const RECEIPT_VERSION: u32 = 1;

/// Domain label of the bytes a receiver signs: never the same as an envelope's.
const RECEIPT_DOMAIN: &[u8] = b"tracemark-federation/v1/receipt\n";

/// A delivery receipt on the wire; untrusted until [`Receipt::verify`] says otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub v: u32,
    pub message_id: String,
    pub from: String,
    pub received_at: String,
    pub digest: String,
    pub signature: String,
}

/// Why a receipt was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRejection {
    #[error("receipt version {0} is not supported (this node reads version 1)")]
    UnsupportedVersion(u32),
    #[error("malformed receipt: {field}: {reason}")]
    Malformed { field: &'static str, reason: String },
    #[error("the receipt's signer {0} is not in the peer directory")]
    UnknownReceiver(CountryCode),
    #[error("the receipt's signature does not verify under {from}'s key in the directory")]
    BadSignature { from: CountryCode },
    #[error("the receipt is for message {receipt}, not {sent}")]
    WrongMessage { receipt: MessageId, sent: MessageId },
    #[error("the receipt names another envelope (digest {receipt}, sent {sent})")]
    DigestMismatch {
        receipt: EnvelopeDigest,
        sent: EnvelopeDigest,
    },
    #[error("{0} was not a recipient of the message")]
    NotARecipient(CountryCode),
}

impl ReceiptRejection {
    /// A stable snake_case code, for logs.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptRejection::UnsupportedVersion(_) => "unsupported_version",
            ReceiptRejection::Malformed { .. } => "malformed",
            ReceiptRejection::UnknownReceiver(_) => "unknown_receiver",
            ReceiptRejection::BadSignature { .. } => "bad_signature",
            ReceiptRejection::WrongMessage { .. } => "wrong_message",
            ReceiptRejection::DigestMismatch { .. } => "digest_mismatch",
            ReceiptRejection::NotARecipient(_) => "not_a_recipient",
        }
    }
}

/// A receipt that verified: who received which message, when (by the receiver's clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub message_id: MessageId,
    pub receiver: CountryCode,
    pub received_at: OffsetDateTime,
    pub digest: EnvelopeDigest,
}

impl Receipt {
    /// Issues the receipt for a message this node checked (a [`Header`] only comes out of
    /// [`check`](crate::envelope::check), so only an authentic envelope addressed to this
    /// node gets one). Ed25519 signatures are deterministic: issuing again with the same
    /// `received_at` gives the same receipt, byte for byte.
    pub fn issue(
        me: &NodeIdentity,
        header: &Header,
        received_at: OffsetDateTime,
    ) -> Result<Receipt, time::error::Format> {
        let mut receipt = Receipt {
            v: RECEIPT_VERSION,
            message_id: header.id().to_string(),
            from: me.state().as_str().to_owned(),
            received_at: received_at.to_offset(UtcOffset::UTC).format(&Rfc3339)?,
            digest: header.digest().to_string(),
            signature: String::new(),
        };
        let signature = me.signing_key().sign(&receipt.signed_bytes());
        receipt.signature = STANDARD.encode(signature.to_bytes());
        Ok(receipt)
    }

    fn signed_bytes(&self) -> Vec<u8> {
        Canonical::new(RECEIPT_DOMAIN)
            .field(self.v.to_string())
            .field(&self.message_id)
            .field(&self.from)
            .field(&self.received_at)
            .field(&self.digest)
            .into_bytes()
    }

    /// Checks a receipt for `sent` (the version of the message that was delivered): the
    /// form, the receiver's key from the directory, the signature, and that it names this
    /// message, this exact envelope and one of its recipients.
    pub fn verify(
        &self,
        sent: &Envelope,
        directory: &Directory,
    ) -> Result<VerifiedReceipt, ReceiptRejection> {
        if self.v != RECEIPT_VERSION {
            return Err(ReceiptRejection::UnsupportedVersion(self.v));
        }
        let malformed = |field: &'static str| {
            move |reason: String| ReceiptRejection::Malformed { field, reason }
        };
        let message_id = MessageId::parse(&self.message_id).map_err(malformed("message_id"))?;
        let receiver = CountryCode::parse(&self.from).map_err(malformed("from"))?;
        let received_at = OffsetDateTime::parse(&self.received_at, &Rfc3339)
            .map_err(|e| format!("'{}' is not an RFC 3339 date-time: {e}", self.received_at))
            .map_err(malformed("received_at"))?;
        let digest = EnvelopeDigest::parse(&self.digest).map_err(malformed("digest"))?;
        let signature = STANDARD
            .decode(&self.signature)
            .map_err(|e| format!("not base64: {e}"))
            .and_then(|b| {
                <[u8; 64]>::try_from(b).map_err(|_| "an Ed25519 signature is 64 bytes".to_owned())
            })
            .map(|b| Signature::from_bytes(&b))
            .map_err(malformed("signature"))?;

        let key = directory
            .identity(receiver)
            .ok_or(ReceiptRejection::UnknownReceiver(receiver))?
            .verifying_key();
        key.verify_strict(&self.signed_bytes(), &signature)
            .map_err(|_| ReceiptRejection::BadSignature { from: receiver })?;

        let sent_id = MessageId::parse(&sent.id).map_err(malformed("sent envelope id"))?;
        if message_id != sent_id {
            return Err(ReceiptRejection::WrongMessage {
                receipt: message_id,
                sent: sent_id,
            });
        }
        let sent_digest = sent.digest();
        if digest != sent_digest {
            return Err(ReceiptRejection::DigestMismatch {
                receipt: digest,
                sent: sent_digest,
            });
        }
        if sent.from == self.from || !sent.to.contains(&self.from) {
            return Err(ReceiptRejection::NotARecipient(receiver));
        }
        Ok(VerifiedReceipt {
            message_id,
            receiver,
            received_at,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::{ke_to_ug, world, Change, AT};
    use crate::envelope::{check, reseal, seal, MessageKind};
    use crate::identity::tests::identity;
    use time::macros::datetime;

    const RECEIVED: OffsetDateTime = datetime!(2025-03-01 09:30:02 UTC);

    #[test]
    fn the_sender_verifies_the_receiver_s_receipt() {
        let w = world();
        let env = ke_to_ug(&w);
        let header = check(&env, &w.ug, &w.dir).unwrap().into_header();
        let receipt = Receipt::issue(&w.ug, &header, RECEIVED).unwrap();
        assert_eq!(receipt.from, "UG");
        assert_eq!(receipt.received_at, "2025-03-01T09:30:02Z");
        assert_eq!(receipt.digest, env.digest().to_string());
        let ok = receipt.verify(&env, &w.dir).unwrap();
        assert_eq!(
            ok,
            VerifiedReceipt {
                message_id: header.id(),
                receiver: w.ug.state(),
                received_at: RECEIVED,
                digest: env.digest(),
            }
        );
        // Issuing again gives the same receipt: a duplicate is answered identically.
        assert_eq!(Receipt::issue(&w.ug, &header, RECEIVED).unwrap(), receipt);
        // JSON round trip, unknown fields refused.
        let json = serde_json::to_string(&receipt).unwrap();
        assert!(json.starts_with(r#"{"v":1,"message_id":""#), "{json}");
        assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), receipt);
        assert!(serde_json::from_str::<Receipt>(&json.replacen('{', r#"{"x":1,"#, 1)).is_err());
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let w = world();
        let env = ke_to_ug(&w);
        let header = check(&env, &w.ug, &w.dir).unwrap().into_header();
        let receipt = Receipt::issue(&w.ug, &header, RECEIVED).unwrap();
        let changes: Vec<Change<Receipt>> = vec![
            (
                "received_at",
                Box::new(|r| r.received_at = "2025-03-01T09:30:03Z".into()),
            ),
            ("message_id", Box::new(|r| r.message_id = "0".repeat(32))),
            (
                "digest",
                Box::new(|r| r.digest = format!("sha256:{}", "0".repeat(64))),
            ),
            (
                "signature",
                Box::new(|r| {
                    let mut b = STANDARD.decode(&r.signature).unwrap();
                    b[0] ^= 1;
                    r.signature = STANDARD.encode(b);
                }),
            ),
        ];
        for (what, change) in changes {
            let mut r = receipt.clone();
            change(&mut r);
            assert_eq!(
                r.verify(&env, &w.dir).unwrap_err(),
                ReceiptRejection::BadSignature { from: w.ug.state() },
                "{what}"
            );
        }
        let mut r = receipt.clone();
        r.from = "TZ".into();
        assert_eq!(
            r.verify(&env, &w.dir).unwrap_err(),
            ReceiptRejection::BadSignature { from: w.tz.state() }
        );
        let mut r = receipt.clone();
        r.from = "ZA".into();
        assert_eq!(
            r.verify(&env, &w.dir).unwrap_err().code(),
            "unknown_receiver"
        );
        let mut r = receipt;
        r.digest = "sha1:00".into();
        assert!(matches!(
            r.verify(&env, &w.dir).unwrap_err(),
            ReceiptRejection::Malformed {
                field: "digest",
                ..
            }
        ));
    }

    #[test]
    fn a_receipt_names_one_exact_envelope() {
        let w = world();
        let env = ke_to_ug(&w);
        let header = check(&env, &w.ug, &w.dir).unwrap().into_header();
        let receipt = Receipt::issue(&w.ug, &header, RECEIVED).unwrap();

        // Another message.
        let other = seal(
            &w.ke,
            std::slice::from_ref(w.ug.public()),
            MessageKind::Ack,
            crate::envelope::MessageId::from_bytes([1; 16]),
            AT,
            b"",
        )
        .unwrap();
        assert_eq!(
            receipt.verify(&other, &w.dir).unwrap_err().code(),
            "wrong_message"
        );

        // The same message sealed again: same id, another envelope.
        let again = reseal(&w.ke, &env, &w.dir, datetime!(2025-03-04 00:00:00 UTC)).unwrap();
        assert_eq!(
            receipt.verify(&again, &w.dir).unwrap_err(),
            ReceiptRejection::DigestMismatch {
                receipt: env.digest(),
                sent: again.digest(),
            }
        );
    }

    #[test]
    fn only_a_recipient_s_receipt_counts() {
        let w = world();
        let env = ke_to_ug(&w);
        // KE (the sender) can check its own message, but a receipt from itself is no
        // delivery; TZ is not a reader at all.
        let header = check(&env, &w.ke, &w.dir).unwrap().into_header();
        let dir = &w.dir;
        let from_sender = Receipt::issue(&w.ke, &header, RECEIVED).unwrap();
        assert_eq!(
            from_sender.verify(&env, dir).unwrap_err(),
            ReceiptRejection::NotARecipient(w.ke.state())
        );
        let from_tz = Receipt::issue(&w.tz, &header, RECEIVED).unwrap();
        assert_eq!(
            from_tz.verify(&env, dir).unwrap_err(),
            ReceiptRejection::NotARecipient(w.tz.state())
        );
    }

    #[test]
    fn an_impostor_s_receipt_is_a_bad_signature() {
        let w = world();
        let env = ke_to_ug(&w);
        let header = check(&env, &w.ug, &w.dir).unwrap().into_header();
        let impostor = identity("UG", 42);
        let receipt = Receipt::issue(&impostor, &header, RECEIVED).unwrap();
        assert_eq!(
            receipt.verify(&env, &w.dir).unwrap_err(),
            ReceiptRejection::BadSignature { from: w.ug.state() }
        );
    }
}

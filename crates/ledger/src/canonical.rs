//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! A record is hashed into the log as bytes, so the same record must always
//! produce the same bytes, whichever program wrote it. JCS fixes the three
//! things JSON leaves open: member order (sorted by UTF-16 code units), number
//! formatting (the ECMAScript shortest round-trip form) and string escaping
//! (only what must be escaped). The work is done by `serde_json_canonicalizer`;
//! this module only gives it a stable, crate-local signature and error type.

use serde::Serialize;

/// Why a value could not be canonicalized.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    /// Serialization failed (for example a map key that is not a string, or
    /// a non-finite number from a custom `Serialize` impl).
    #[error("cannot produce canonical JSON")]
    Serialize(#[source] serde_json::Error),
}

/// Serializes a JSON value in RFC 8785 canonical form.
pub fn canonical_json(value: &serde_json::Value) -> Result<Vec<u8>, CanonicalError> {
    canonical_json_of(value)
}

/// Serializes any `Serialize` value in RFC 8785 canonical form, without first
/// building a `serde_json::Value`.
pub fn canonical_json_of<T: Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    serde_json_canonicalizer::to_vec(value).map_err(CanonicalError::Serialize)
}

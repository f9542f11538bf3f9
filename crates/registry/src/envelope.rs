//! The leaf format: what one ledger record's bytes are.
//!
//! Leaf data, version 1, is the RFC 8785 (JCS) canonical JSON of
//! `{"v":1,"recorded_at":RFC3339,"recorded_by":STRING,"record":OBJECT}` where `OBJECT` is the
//! interchange record exactly as accepted (unknown fields included). Any JSON tool can read a
//! leaf; any JCS implementation reproduces its bytes. The content digest used for idempotent
//! re-import is SHA-256 of the JCS of `OBJECT` alone, so it does not depend on when or by whom
//! a record was accepted.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tracemark_ledger::canonical_json;
use tracemark_ledger::merkle::Hash;

pub const LEAF_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("leaf is not JSON: {0}")]
    NotJson(String),
    #[error("leaf has version {0}, this program reads version {LEAF_VERSION}")]
    Version(String),
    #[error("leaf lacks '{0}'")]
    Missing(&'static str),
    #[error("leaf bytes are not canonical JSON (RFC 8785)")]
    NotCanonical,
    #[error("canonicalization failed: {0}")]
    Canonical(String),
}

/// A decoded leaf.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub recorded_at: String,
    pub recorded_by: String,
    pub record: Map<String, Value>,
}

/// The canonical bytes of a record object (RFC 8785).
pub fn canonical_record(record: &Map<String, Value>) -> Result<Vec<u8>, EnvelopeError> {
    Ok(tracemark_ledger::canonical::canonical_json_map(record))
}

pub fn digest(record: &Map<String, Value>) -> Result<Hash, EnvelopeError> {
    Ok(Sha256::digest(canonical_record(record)?).into())
}

/// The leaf bytes and the content digest of a record, canonicalizing it once.
///
/// JCS orders keys by code unit, and `record` < `recorded_at` < `recorded_by` < `v`, so the
/// envelope is the record's canonical bytes with the other members appended in that order.
pub fn encode_with_digest(
    record: &Map<String, Value>,
    recorded_at: &str,
    recorded_by: &str,
) -> Result<(Vec<u8>, Hash), EnvelopeError> {
    let canon = canonical_record(record)?;
    let digest: Hash = Sha256::digest(&canon).into();
    let at = canonical_json(&Value::from(recorded_at))
        .map_err(|e| EnvelopeError::Canonical(e.to_string()))?;
    let by = canonical_json(&Value::from(recorded_by))
        .map_err(|e| EnvelopeError::Canonical(e.to_string()))?;
    let mut out = Vec::with_capacity(canon.len() + at.len() + by.len() + 48);
    out.extend_from_slice(b"{\"record\":");
    out.extend_from_slice(&canon);
    out.extend_from_slice(b",\"recorded_at\":");
    out.extend_from_slice(&at);
    out.extend_from_slice(b",\"recorded_by\":");
    out.extend_from_slice(&by);
    out.extend_from_slice(format!(",\"v\":{LEAF_VERSION}}}").as_bytes());
    Ok((out, digest))
}

pub fn encode(
    record: &Map<String, Value>,
    recorded_at: &str,
    recorded_by: &str,
) -> Result<Vec<u8>, EnvelopeError> {
    encode_with_digest(record, recorded_at, recorded_by).map(|(bytes, _)| bytes)
}

/// Decodes a leaf. With `strict`, also checks the bytes are exactly the canonical form.
pub fn decode(data: &[u8], strict: bool) -> Result<Envelope, EnvelopeError> {
    let value: Value =
        serde_json::from_slice(data).map_err(|e| EnvelopeError::NotJson(e.to_string()))?;
    if strict {
        let again = canonical_json(&value).map_err(|e| EnvelopeError::Canonical(e.to_string()))?;
        if again != data {
            return Err(EnvelopeError::NotCanonical);
        }
    }
    let Value::Object(mut env) = value else {
        return Err(EnvelopeError::NotJson("not an object".into()));
    };
    match env.get("v") {
        Some(v) if v.as_u64() == Some(LEAF_VERSION) => {}
        Some(v) => return Err(EnvelopeError::Version(v.to_string())),
        None => return Err(EnvelopeError::Missing("v")),
    }
    let text = |env: &mut Map<String, Value>, k: &'static str| match env.remove(k) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(EnvelopeError::Missing(k)),
    };
    let recorded_at = text(&mut env, "recorded_at")?;
    let recorded_by = text(&mut env, "recorded_by")?;
    let Some(Value::Object(record)) = env.remove("record") else {
        return Err(EnvelopeError::Missing("record"));
    };
    Ok(Envelope {
        recorded_at,
        recorded_by,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_bytes_are_canonical_and_round_trip() {
        let Value::Object(rec) =
            serde_json::json!({"record":"item","key":"K","kind":"other","z":1,"a":"é"})
        else {
            panic!()
        };
        let bytes = encode(&rec, "2026-01-01T00:00:00Z", "cli:test").unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"record":{"a":"é","key":"K","kind":"other","record":"item","z":1},"recorded_at":"2026-01-01T00:00:00Z","recorded_by":"cli:test","v":1}"#
        );
        let mut full = Map::new();
        full.insert("v".into(), Value::from(1));
        full.insert("recorded_at".into(), Value::from("2026-01-01T00:00:00Z"));
        full.insert("recorded_by".into(), Value::from("cli:test"));
        full.insert("record".into(), Value::Object(rec.clone()));
        assert_eq!(bytes, canonical_json(&Value::Object(full)).unwrap());
        let env = decode(&bytes, true).unwrap();
        assert_eq!(env.record, rec);
        assert!(decode(b"{\"v\":1 }", true).is_err());
        assert!(decode(br#"{"v":2}"#, false).is_err());
    }
}

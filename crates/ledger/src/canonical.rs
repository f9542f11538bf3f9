//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! A record is hashed into the log as bytes, so the same record must always
//! produce the same bytes, whichever program wrote it. JCS fixes the three
//! things JSON leaves open: member order (sorted by UTF-16 code units), number
//! formatting (the ECMAScript shortest round-trip form) and string escaping
//! (only what must be escaped).
//!
//! The writer here is our own because it is on the hot path of import and `verify` (every
//! leaf is written once and checked once), where the general-purpose `serde_json_canonicalizer`
//! spent most of its time re-encoding every key to UTF-16 to sort it. Here keys are taken in
//! `serde_json::Map`'s order when that is already UTF-8 byte order (which equals UTF-16 order
//! unless a key has a character at or above U+E000); otherwise the object is sorted by UTF-16
//! explicitly,
//! numbers use `ryu-js` (the ECMAScript algorithm JCS specifies), and strings get exactly the
//! JCS escapes. Property tests check it byte for byte against `serde_json_canonicalizer`.

use serde::Serialize;
use serde_json::{Map, Number, Value};

/// Why a value could not be canonicalized.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    /// Serialization failed (for example a map key that is not a string, or
    /// a non-finite number from a custom `Serialize` impl).
    #[error("cannot produce canonical JSON")]
    Serialize(#[source] serde_json::Error),
}

/// Serializes a JSON value in RFC 8785 canonical form.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value);
    Ok(out)
}

/// Serializes a JSON object in RFC 8785 canonical form.
pub fn canonical_json_map(map: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_object(&mut out, map);
    out
}

/// Serializes any `Serialize` value in RFC 8785 canonical form.
pub fn canonical_json_of<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(value).map_err(CanonicalError::Serialize)?;
    canonical_json(&value)
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, x);
            }
            out.push(b']');
        }
        Value::Object(m) => write_object(out, m),
    }
}

fn write_object(out: &mut Vec<u8>, m: &Map<String, Value>) {
    out.push(b'{');
    // UTF-8 byte order equals UTF-16 code-unit order unless a key holds a character at or
    // above U+E000 (lead bytes 0xEE and up). The map's own order is only trusted after a
    // check: with serde_json's `preserve_order` feature (which any crate in the build may
    // switch on; cedar-policy does) a `Map` keeps insertion order instead of sorting.
    let sorted_by_bytes = m.keys().zip(m.keys().skip(1)).all(|(a, b)| a < b);
    if !sorted_by_bytes || m.keys().any(|k| k.bytes().any(|b| b >= 0xEE)) {
        let mut entries: Vec<(&String, &Value)> = m.iter().collect();
        entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        for (i, (k, v)) in entries.into_iter().enumerate() {
            member(out, i, k, v);
        }
    } else {
        for (i, (k, v)) in m.iter().enumerate() {
            member(out, i, k, v);
        }
    }
    out.push(b'}');
}

fn member(out: &mut Vec<u8>, i: usize, k: &str, v: &Value) {
    if i > 0 {
        out.push(b',');
    }
    write_string(out, k);
    out.push(b':');
    write_value(out, v);
}

/// Largest integer a double holds exactly; beyond it JCS formats the double.
const MAX_SAFE: u64 = 1 << 53;

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE) {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE) {
        out.extend_from_slice(i.to_string().as_bytes());
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        if f == 0.0 {
            // ECMAScript prints -0 as 0.
            out.push(b'0');
        } else {
            let mut buf = ryu_js::Buffer::new();
            out.extend_from_slice(buf.format_finite(f).as_bytes());
        }
    }
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

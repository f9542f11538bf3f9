//! The byte strings that get signed, hashed or bound into a ciphertext.
//!
//! Each is a fixed domain label followed by length-prefixed fields, so no two different
//! lists of fields can encode to the same bytes (no field can "run into" the next), and a
//! signature made for one purpose (an envelope, a receipt) can never be presented as one
//! made for another. JSON is not used here on purpose: its byte form depends on the
//! serializer, and a signature must not.

/// Builds a canonical byte string: a domain label, then fields, each as a big-endian `u64`
/// length and its bytes.
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    pub(crate) fn new(domain: &[u8]) -> Self {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(domain);
        Canonical(out)
    }

    pub(crate) fn field(mut self, bytes: impl AsRef<[u8]>) -> Self {
        let bytes = bytes.as_ref();
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// A list: its length, then each element as a field.
    pub(crate) fn list<I, T>(mut self, items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: ExactSizeIterator,
        T: AsRef<[u8]>,
    {
        let items = items.into_iter();
        self.0
            .extend_from_slice(&(items.len() as u64).to_be_bytes());
        for item in items {
            self = self.field(item);
        }
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cannot_run_into_each_other() {
        let a = Canonical::new(b"d").field("ab").field("c").into_bytes();
        let b = Canonical::new(b"d").field("a").field("bc").into_bytes();
        assert_ne!(a, b);
        let c = Canonical::new(b"d")
            .list(["a", "b"])
            .field("c")
            .into_bytes();
        let d = Canonical::new(b"d")
            .list(["a"])
            .field("b")
            .field("c")
            .into_bytes();
        assert_ne!(c, d);
    }
}

//! Minimal, allocation-free JSON output for flat records.

/// Writes `s` as a JSON string (with quotes).
#[inline]
pub(crate) fn esc(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let rep: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if rep.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 15)]);
        } else {
            out.extend_from_slice(rep);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any byte is a control character, a quote or a backslash (eight bytes at a time).
#[inline]
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    #[inline]
    fn has_zero(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let mut chunks = bytes.chunks_exact(8);
    let mut acc = 0u64;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_le_bytes(w);
        // Bytes below 0x20: (v - 0x20..) & !v & 0x80.. flags them (exact for bytes < 0x80).
        acc |= v.wrapping_sub(ONES * 0x20) & !v & HIGH;
        acc |= has_zero(v ^ (ONES * u64::from(b'"')));
        acc |= has_zero(v ^ (ONES * u64::from(b'\\')));
    }
    acc != 0
        || chunks
            .remainder()
            .iter()
            .any(|&c| c < 0x20 || c == b'"' || c == b'\\')
}

/// Writes `s` as a JSON string; `plain` promises it needs no escaping.
#[inline]
pub(crate) fn string(out: &mut Vec<u8>, s: &str, plain: bool) {
    if plain {
        debug_assert!(!needs_escape(s.as_bytes()), "unescaped {s:?}");
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        esc(out, s);
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
pub(crate) fn push_uint(out: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len() - width.min(buf.len()));
    for &b in &buf[start..] {
        out.push(char::from(b));
    }
}

/// Writes an unsigned integer.
pub(crate) fn uint(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes an integer.
pub(crate) fn int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    uint(out, n.unsigned_abs());
}

/// Writes a number with four decimals (coordinates).
pub(crate) fn fixed4(out: &mut Vec<u8>, x: f64) {
    let scaled = (x * 10_000.0).round() as i64;
    if scaled < 0 {
        out.push(b'-');
    }
    let a = scaled.unsigned_abs();
    uint(out, a / 10_000);
    out.push(b'.');
    let frac = a % 10_000;
    for p in [1000, 100, 10, 1] {
        out.push(b'0' + ((frac / p) % 10) as u8);
    }
}

/// Writes a number with one decimal at most (lengths), as an integer when whole.
pub(crate) fn num(out: &mut Vec<u8>, x: f64) {
    let scaled = (x * 10.0).round() as i64;
    int(out, scaled / 10);
    if scaled % 10 != 0 {
        out.push(b'.');
        out.push(b'0' + (scaled % 10).unsigned_abs() as u8);
    }
}

/// An object being written: tracks the comma.
pub(crate) struct Obj<'a> {
    pub out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Starts a member and returns the buffer positioned for its value.
    pub(crate) fn key(&mut self, k: &str) -> &mut Vec<u8> {
        self.out.reserve(k.len() + 4);
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.push(b'"');
        self.out.push(b':');
        self.out
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) {
        let out = self.key(k);
        esc(out, v);
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let mut v = Vec::new();
        esc(&mut v, "a\"b\\c\n\u{1}ПА");
        assert_eq!(String::from_utf8(v).unwrap(), "\"a\\\"b\\\\c\\n\\u0001ПА\"");
    }

    #[test]
    fn escape_detection() {
        for s in [
            "",
            "plain text",
            "ПА1234 ٠١٢ 56式",
            "abcdefghijklmnopqrstuvwxyz0123456789",
        ] {
            assert!(!needs_escape(s.as_bytes()), "{s}");
        }
        for s in [
            "a\"",
            "0123456789\\x",
            "\u{1f}abcdefghij",
            "abcdefgh\n",
            "ab\tcdefghijklmnop",
        ] {
            assert!(needs_escape(s.as_bytes()), "{s:?}");
        }
        for i in 0..=255u8 {
            let mut v = vec![b'a'; 9];
            v[i as usize % 9] = i;
            let expect = i < 0x20 || i == b'"' || i == b'\\';
            assert_eq!(needs_escape(&v), expect, "byte {i}");
        }
    }

    #[test]
    fn padded() {
        let mut s = String::new();
        push_uint(&mut s, 42, 6);
        s.push(' ');
        push_uint(&mut s, 1_234_567, 6);
        s.push(' ');
        push_uint(&mut s, 0, 0);
        assert_eq!(s, "000042 1234567 0");
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        uint(&mut v, 0);
        v.push(b' ');
        int(&mut v, -42);
        v.push(b' ');
        fixed4(&mut v, -1.29214);
        v.push(b' ');
        fixed4(&mut v, 36.7);
        v.push(b' ');
        num(&mut v, 415.0);
        v.push(b' ');
        num(&mut v, 102.5);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "0 -42 -1.2921 36.7000 415 102.5"
        );
    }
}

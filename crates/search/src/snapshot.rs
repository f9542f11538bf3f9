//! Snapshots: the whole index as one binary file, for a restart that does not recompute keys or
//! re-sort runs.
//!
//! Format (version 2, little-endian): the magic `TMSEARCH`, a `u32` version, then every column
//! of the index in a fixed order, each as a `u64` element count followed by the elements, and a
//! final `u64` checksum of everything before it. The index is derived data: a snapshot that fails
//! to read (wrong version, corruption) is rebuilt from the registry, never patched.
//!
//! Reading checks the checksum and every structural invariant (offsets, id ranges, UTF-8, sorted
//! runs, unique item keys), so a damaged file gives an error, never a wrong answer or a panic.

use std::io::{self, BufReader, BufWriter, Read, Write};

use crate::index::{Index, Interner, StrArena, COMBO_SLOTS, CUSTODIAN_SLOT, NONE, STATUS_SLOT};
use crate::runs::{Run, RunSet, Tuning};

const MAGIC: &[u8; 8] = b"TMSEARCH";
const VERSION: u32 = 2;
/// Elements are read this many bytes at a time, so that a corrupt length fails at the end of
/// the file instead of allocating memory for data that is not there.
const CHUNK: usize = 1 << 20;

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("reading the search snapshot failed: {0}")]
    Io(#[from] io::Error),
    #[error("the search snapshot is not usable: {0}")]
    Format(String),
}

/// A streaming 64-bit checksum (multiply-xorshift over 8-byte words); it detects corruption,
/// it is not a cryptographic hash.
struct Checksum {
    h: u64,
    tail: [u8; 8],
    tail_len: usize,
    total: u64,
}

impl Checksum {
    fn new() -> Self {
        Checksum {
            h: 0x243F_6A88_85A3_08D3,
            tail: [0; 8],
            tail_len: 0,
            total: 0,
        }
    }

    #[inline]
    fn mix(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.h ^= self.h >> 29;
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.tail_len > 0 {
            let take = (8 - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < 8 {
                return;
            }
            let w = u64::from_le_bytes(self.tail);
            self.mix(w);
            self.tail_len = 0;
        }
        let mut words = data.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.mix(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    fn finish(&self) -> u64 {
        let mut c = Checksum {
            h: self.h,
            tail: [0; 8],
            tail_len: 0,
            total: 0,
        };
        let mut last = [0u8; 8];
        last[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        c.mix(u64::from_le_bytes(last));
        c.mix(self.total);
        c.h
    }
}

struct Out<W: Write> {
    w: BufWriter<W>,
    sum: Checksum,
    buf: Vec<u8>,
}

impl<W: Write> Out<W> {
    fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.sum.update(b);
        self.w.write_all(b)
    }

    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.raw(&v.to_le_bytes())
    }

    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.u64(b.len() as u64)?;
        self.raw(b)
    }

    fn u32s(&mut self, v: &[u32]) -> io::Result<()> {
        self.u64(v.len() as u64)?;
        for chunk in v.chunks(CHUNK / 4) {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            for x in chunk {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            self.raw(&buf)?;
            self.buf = buf;
        }
        Ok(())
    }

    fn u16s(&mut self, v: &[u16]) -> io::Result<()> {
        self.u64(v.len() as u64)?;
        for chunk in v.chunks(CHUNK / 2) {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            for x in chunk {
                buf.extend_from_slice(&x.to_le_bytes());
            }
            self.raw(&buf)?;
            self.buf = buf;
        }
        Ok(())
    }

    fn arena(&mut self, a: &StrArena) -> io::Result<()> {
        self.bytes(a.text.as_bytes())?;
        self.u32s(&a.starts)
    }

    fn strings(&mut self, strings: &[Box<str>]) -> io::Result<()> {
        self.u64(strings.len() as u64)?;
        for s in strings {
            self.bytes(s.as_bytes())?;
        }
        Ok(())
    }

    fn run(&mut self, r: &Run) -> io::Result<()> {
        self.bytes(&r.keys)?;
        self.u32s(&r.starts)?;
        self.u32s(&r.ids)
    }

    fn run_set(&mut self, s: &RunSet) -> io::Result<()> {
        self.u64(s.runs.len() as u64)?;
        for r in &s.runs {
            self.run(r)?;
        }
        self.run(&s.pending)
    }
}

struct In<R: Read> {
    r: BufReader<R>,
    sum: Checksum,
}

fn format(msg: impl Into<String>) -> SnapshotError {
    SnapshotError::Format(msg.into())
}

impl<R: Read> In<R> {
    fn raw(&mut self, b: &mut [u8]) -> Result<(), SnapshotError> {
        self.r.read_exact(b).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                format("the file is truncated")
            } else {
                SnapshotError::Io(e)
            }
        })?;
        self.sum.update(b);
        Ok(())
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut b = [0u8; 8];
        self.raw(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn len(&mut self) -> Result<usize, SnapshotError> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| format("a length is out of range"))
    }

    /// `n` bytes, read a chunk at a time.
    fn chunked(&mut self, n: usize) -> Result<Vec<u8>, SnapshotError> {
        let mut out = Vec::with_capacity(n.min(CHUNK));
        let mut left = n;
        while left > 0 {
            let take = left.min(CHUNK);
            let at = out.len();
            out.resize(at + take, 0);
            self.raw(&mut out[at..])?;
            left -= take;
        }
        Ok(out)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, SnapshotError> {
        let n = self.len()?;
        self.chunked(n)
    }

    fn string(&mut self) -> Result<String, SnapshotError> {
        String::from_utf8(self.bytes()?).map_err(|_| format("a string is not UTF-8"))
    }

    fn u32s(&mut self) -> Result<Vec<u32>, SnapshotError> {
        self.ints(u32::from_le_bytes)
    }

    fn u16s(&mut self) -> Result<Vec<u16>, SnapshotError> {
        self.ints(u16::from_le_bytes)
    }

    /// A length-prefixed array of little-endian integers of `W` bytes, read in bounded chunks
    /// so a damaged length cannot make us allocate more than the file holds.
    fn ints<const W: usize, T>(
        &mut self,
        decode: fn([u8; W]) -> T,
    ) -> Result<Vec<T>, SnapshotError> {
        let n = self.len()?;
        let bytes = n
            .checked_mul(W)
            .ok_or_else(|| format("a length is out of range"))?;
        let mut out = Vec::with_capacity(n.min(CHUNK));
        let mut left = bytes;
        let mut buf = vec![0u8; CHUNK.min(bytes)];
        while left > 0 {
            let take = left.min(CHUNK);
            self.raw(&mut buf[..take])?;
            out.extend(buf[..take].chunks_exact(W).map(|c| {
                let mut a = [0u8; W];
                a.copy_from_slice(c);
                decode(a)
            }));
            left -= take;
        }
        Ok(out)
    }

    fn arena(&mut self) -> Result<StrArena, SnapshotError> {
        let text = self.string()?;
        let starts = self.u32s()?;
        let a = StrArena { text, starts };
        a.validate().map_err(format)?;
        Ok(a)
    }

    fn strings(&mut self) -> Result<Vec<Box<str>>, SnapshotError> {
        let n = self.len()?;
        let mut out = Vec::with_capacity(n.min(CHUNK));
        for _ in 0..n {
            out.push(self.string()?.into_boxed_str());
        }
        Ok(out)
    }

    fn run(&mut self, id_limit: usize, sorted: bool) -> Result<Run, SnapshotError> {
        let keys = self.bytes()?;
        let starts = self.u32s()?;
        let ids = self.u32s()?;
        let r = Run { keys, starts, ids };
        r.validate(id_limit, sorted).map_err(format)?;
        Ok(r)
    }

    fn run_set(&mut self, id_limit: usize) -> Result<RunSet, SnapshotError> {
        let n = self.len()?;
        let mut runs = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            runs.push(self.run(id_limit, true)?);
        }
        let pending = self.run(id_limit, false)?;
        Ok(RunSet { runs, pending })
    }
}

impl Index {
    /// Writes the whole index (see the [`snapshot`](crate::snapshot) module for the format).
    pub fn write_snapshot<W: Write>(&self, w: W) -> io::Result<()> {
        let mut out = Out {
            w: BufWriter::with_capacity(CHUNK, w),
            sum: Checksum::new(),
            buf: Vec::with_capacity(CHUNK),
        };
        out.raw(MAGIC)?;
        out.raw(&VERSION.to_le_bytes())?;
        out.arena(&self.item_keys)?;
        out.u32s(&self.item_combo)?;
        let flat: Vec<u32> = self.combos.iter().flatten().copied().collect();
        out.u32s(&flat)?;
        out.strings(&self.values.strings)?;
        out.strings(&self.statuses.strings)?;
        out.strings(&self.custodians.strings)?;
        out.strings(&self.kinds.strings)?;
        out.u32s(&self.m_item)?;
        out.u16s(&self.m_kind)?;
        out.arena(&self.m_text)?;
        out.run_set(&self.forward)?;
        out.run_set(&self.reverse)?;
        out.run_set(&self.item_sorted)?;
        let sum = out.sum.finish();
        out.w.write_all(&sum.to_le_bytes())?;
        out.w.flush()
    }

    /// Reads an index written by [`Index::write_snapshot`].
    pub fn read_snapshot<R: Read>(r: R) -> Result<Self, SnapshotError> {
        let mut inp = In {
            r: BufReader::with_capacity(CHUNK, r),
            sum: Checksum::new(),
        };
        let mut magic = [0u8; 8];
        inp.raw(&mut magic)?;
        if &magic != MAGIC {
            return Err(format("not a Tracemark search snapshot"));
        }
        let mut version = [0u8; 4];
        inp.raw(&mut version)?;
        let version = u32::from_le_bytes(version);
        if version != VERSION {
            return Err(format(format!(
                "snapshot version {version}, this program reads version {VERSION}"
            )));
        }
        let mut index = Index::with_tuning(Tuning::default());
        index.item_keys = inp.arena()?;
        let items = index.item_keys.len();
        index.item_combo = inp.u32s()?;
        let flat = inp.u32s()?;
        if flat.len() % COMBO_SLOTS != 0 {
            return Err(format("item attribute combinations are malformed"));
        }
        index.combos = flat
            .chunks_exact(COMBO_SLOTS)
            .map(|c| [c[0], c[1], c[2], c[3], c[4], c[5]])
            .collect();
        index.values = Interner::from_strings(inp.strings()?).map_err(format)?;
        index.statuses = Interner::from_strings(inp.strings()?).map_err(format)?;
        index.custodians = Interner::from_strings(inp.strings()?).map_err(format)?;
        index.kinds = Interner::from_strings(inp.strings()?).map_err(format)?;
        index.m_item = inp.u32s()?;
        index.m_kind = inp.u16s()?;
        index.m_text = inp.arena()?;
        let markings = index.m_item.len();
        index.forward = inp.run_set(markings)?;
        index.reverse = inp.run_set(markings)?;
        index.item_sorted = inp.run_set(items)?;
        let expected = inp.sum.finish();
        let mut stored = [0u8; 8];
        inp.r.read_exact(&mut stored).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                format("the file is truncated")
            } else {
                SnapshotError::Io(e)
            }
        })?;
        if u64::from_le_bytes(stored) != expected {
            return Err(format("checksum mismatch: the file is damaged"));
        }
        let mut extra = [0u8; 1];
        if inp.r.read(&mut extra)? != 0 {
            return Err(format("unexpected data after the checksum"));
        }
        // Cross-column invariants.
        let (values, statuses) = (index.values.len(), index.statuses.len());
        let custodians = index.custodians.len();
        if index.combos.iter().any(|ids| {
            ids[..4].iter().any(|&v| v != NONE && v as usize >= values)
                || ids[STATUS_SLOT] as usize >= statuses
                || (ids[CUSTODIAN_SLOT] != NONE && ids[CUSTODIAN_SLOT] as usize >= custodians)
        }) {
            return Err(format("an item refers to an unknown attribute value"));
        }
        if index.item_combo.len() != items
            || index
                .item_combo
                .iter()
                .any(|&c| c as usize >= index.combos.len())
        {
            return Err(format("item attributes do not match the items"));
        }
        for (i, ids) in index.combos.iter().enumerate() {
            if index.combo_lookup.insert(*ids, i as u32).is_some() {
                return Err(format("duplicate attribute combination"));
            }
        }
        if index.m_kind.len() != markings || index.m_text.len() != markings {
            return Err(format("marking columns differ in length"));
        }
        if index.m_item.iter().any(|&i| i as usize >= items)
            || index
                .m_kind
                .iter()
                .any(|&k| usize::from(k) >= index.kinds.len())
        {
            return Err(format("a marking refers to an unknown item or kind"));
        }
        if index.item_sorted.len() != items {
            return Err(format("the sorted item keys do not match the items"));
        }
        if index.forward.len() != index.reverse.len()
            || index.forward.len() < markings
            || index.forward.len() > 2 * markings
        {
            return Err(format("the key runs do not match the markings"));
        }
        index.rebuild_item_lookup().map_err(format)?;
        index.rebuild_derived();
        Ok(index)
    }
}

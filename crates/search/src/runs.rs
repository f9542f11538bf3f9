//! Sorted runs of keys, and the automata that walk them.
//!
//! A [`Run`] is an immutable list of `(key, id)` entries sorted by key bytes then id, with all
//! keys in one byte arena in that order. Sorted UTF-8 keys form an implicit trie: the entries
//! that share a prefix are contiguous, so a depth-first walk can narrow a range one character at
//! a time with binary searches, pruning whole sub-ranges as soon as an [`Automaton`] (a wildcard
//! pattern, or an edit-distance bound) says no continuation can match. This answers patterns
//! with only one or two known characters in a row (`5?1??4?`), which an n-gram index cannot.
//!
//! A [`RunSet`] keeps the index updatable: new entries go to a small buffer in arrival order
//! (searched entry by entry); a full buffer is sorted into a run, and runs of equal size are
//! merged like the digits of a binary counter (the "logarithmic method"), so each entry is copied
//! O(log n) times in all and a query visits O(log n) runs. [`RunSet::compact`] merges them all
//! into one after a bulk load.

use crate::query::Tok;

/// Tuning knobs. The defaults suit millions of markings; tests use tiny values to exercise
/// every code path on small data.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Entries kept in the insertion buffer before it is sorted into a run.
    pub run_buffer: usize,
    /// Ranges of at most this many entries are checked entry by entry instead of walked.
    pub scan_small: usize,
    /// Result groups of at most this many markings are sorted directly.
    pub small_group: usize,
    /// Minimum number of items visited in key order before falling back to a heap selection.
    pub item_order_budget: usize,
    /// A wildcard pattern with at most this many `?` before its first (or after its last)
    /// literal is walked from that end; otherwise the key arenas are scanned.
    pub max_leading_ones: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            run_buffer: 512,
            scan_small: 4,
            small_group: 4096,
            item_order_budget: 65_536,
            max_leading_ones: 3,
        }
    }
}

/// A sorted run of `(key, id)` entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// The keys, concatenated in entry order.
    pub(crate) keys: Vec<u8>,
    /// `starts[i]..starts[i + 1]` is entry `i`'s key; `len() + 1` values, the first 0.
    pub(crate) starts: Vec<u32>,
    /// The id of each entry (a marking or an item ordinal).
    pub(crate) ids: Vec<u32>,
}

impl Default for Run {
    fn default() -> Self {
        Run::new()
    }
}

impl Run {
    pub(crate) fn new() -> Run {
        Run {
            keys: Vec::new(),
            starts: vec![0],
            ids: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    #[inline]
    pub(crate) fn key(&self, i: usize) -> &[u8] {
        &self.keys[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    #[inline]
    fn key_len(&self, i: usize) -> usize {
        (self.starts[i + 1] - self.starts[i]) as usize
    }

    fn push(&mut self, key: &[u8], id: u32) {
        self.keys.extend_from_slice(key);
        self.starts.push(self.keys.len() as u32);
        self.ids.push(id);
    }

    /// A sorted copy (used to seal the insertion buffer, which is kept in arrival order).
    fn sorted(&self) -> Run {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            cmp_bytes(self.key(a), self.key(b)).then(self.ids[a].cmp(&self.ids[b]))
        });
        let mut out = Run {
            keys: Vec::with_capacity(self.keys.len()),
            starts: Vec::with_capacity(self.len() + 1),
            ids: Vec::with_capacity(self.len()),
        };
        out.starts.push(0);
        for i in order {
            out.push(self.key(i), self.ids[i]);
        }
        out
    }

    /// Merges two runs into one sorted run, with exact capacity.
    pub(crate) fn merge(a: &Run, b: &Run) -> Run {
        let mut out = Run {
            keys: Vec::with_capacity(a.keys.len() + b.keys.len()),
            starts: Vec::with_capacity(a.len() + b.len() + 1),
            ids: Vec::with_capacity(a.len() + b.len()),
        };
        out.starts.push(0);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let order = cmp_bytes(a.key(i), b.key(j)).then(a.ids[i].cmp(&b.ids[j]));
            if order != std::cmp::Ordering::Greater {
                out.push(a.key(i), a.ids[i]);
                i += 1;
            } else {
                out.push(b.key(j), b.ids[j]);
                j += 1;
            }
        }
        for k in i..a.len() {
            out.push(a.key(k), a.ids[k]);
        }
        for k in j..b.len() {
            out.push(b.key(k), b.ids[k]);
        }
        out
    }

    /// Bytes allocated.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.capacity() + 4 * self.starts.capacity() + 4 * self.ids.capacity()
    }

    /// Checks the invariants of a run read from outside: offsets in bounds and increasing, keys
    /// valid UTF-8, entries strictly sorted (if `sorted`), ids below `id_limit`.
    pub(crate) fn validate(&self, id_limit: usize, sorted: bool) -> Result<(), String> {
        if self.starts.len() != self.ids.len() + 1 || self.starts.first() != Some(&0) {
            return Err("run offsets do not match its entries".into());
        }
        if self.starts.last().map(|&s| s as usize) != Some(self.keys.len()) {
            return Err("run offsets do not cover its keys".into());
        }
        if self.starts.windows(2).any(|w| w[0] > w[1]) {
            return Err("run offsets decrease".into());
        }
        if self.ids.iter().any(|&id| id as usize >= id_limit) {
            return Err("run refers to an id out of range".into());
        }
        for i in 0..self.len() {
            if std::str::from_utf8(self.key(i)).is_err() {
                return Err("run key is not UTF-8".into());
            }
            if sorted
                && i > 0
                && cmp_bytes(self.key(i - 1), self.key(i)).then(self.ids[i - 1].cmp(&self.ids[i]))
                    != std::cmp::Ordering::Less
            {
                return Err("run is not sorted".into());
            }
        }
        Ok(())
    }
}

/// Sorted runs plus an insertion buffer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunSet {
    /// Sealed sorted runs, largest first.
    pub(crate) runs: Vec<Run>,
    /// The insertion buffer, in arrival order (at most `run_buffer` entries, searched entry by
    /// entry); sorted when sealed.
    pub(crate) pending: Run,
}

impl RunSet {
    pub(crate) fn insert(&mut self, key: &[u8], id: u32, tuning: &Tuning) {
        self.pending.push(key, id);
        if self.pending.len() >= tuning.run_buffer.max(1) {
            let sealed = self.pending.sorted();
            self.pending = Run::new();
            self.runs.push(sealed);
            // A binary counter: runs of equal size merge, so each entry is copied once per
            // doubling (log2(n / run_buffer) times in all) and at most that many runs exist.
            while self.runs.len() >= 2 {
                let l = self.runs.len();
                if self.runs[l - 2].len() > self.runs[l - 1].len() {
                    break;
                }
                if let (Some(b), Some(a)) = (self.runs.pop(), self.runs.pop()) {
                    self.runs.push(Run::merge(&a, &b));
                }
            }
        }
    }

    /// Merges everything into a single sorted run.
    pub(crate) fn compact(&mut self) {
        let mut all = std::mem::take(&mut self.runs);
        all.push(std::mem::take(&mut self.pending).sorted());
        all.retain(|r| r.len() > 0);
        // Merge smallest first to keep the copying low.
        all.sort_by_key(|r| std::cmp::Reverse(r.len()));
        while all.len() >= 2 {
            if let (Some(b), Some(a)) = (all.pop(), all.pop()) {
                let merged = Run::merge(&a, &b);
                let pos = all.partition_point(|r| r.len() > merged.len());
                all.insert(pos, merged);
            }
        }
        self.runs = all;
    }

    fn all(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().chain(std::iter::once(&self.pending))
    }

    pub(crate) fn len(&self) -> usize {
        self.all().map(Run::len).sum()
    }

    pub(crate) fn key_bytes(&self) -> usize {
        self.all().map(|r| r.keys.len()).sum()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.all().map(Run::heap_bytes).sum::<usize>()
            + self.runs.capacity() * std::mem::size_of::<Run>()
    }

    /// The sorted runs, and a sorted copy of the insertion buffer.
    pub(crate) fn sorted_runs(&self) -> (&[Run], Run) {
        (&self.runs, self.pending.sorted())
    }

    /// Every entry the automaton accepts.
    pub(crate) fn walk<A: Automaton>(
        &self,
        a: &A,
        scan_small: usize,
        emit: &mut dyn FnMut(&[u32], u8),
    ) {
        for run in &self.runs {
            walk(run, a, scan_small, emit);
        }
        // The buffer is not sorted: check it entry by entry.
        walk(&self.pending, a, usize::MAX, emit);
    }

    /// Every entry whose key is exactly `key`.
    pub(crate) fn exact(&self, key: &[u8], emit: &mut dyn FnMut(&[u32], u8)) {
        for run in &self.runs {
            emit(lookup_exact(run, key), 0);
        }
        for i in 0..self.pending.len() {
            if self.pending.key(i) == key {
                emit(&self.pending.ids[i..=i], 0);
            }
        }
    }

    /// Every entry whose key contains `needle` and that `verify` accepts.
    pub(crate) fn substring(
        &self,
        needle: &[u8],
        verify: &dyn Fn(&[u8]) -> bool,
        emit: &mut dyn FnMut(&[u32], u8),
    ) {
        for run in self.all() {
            scan_substring(run, needle, verify, emit);
        }
    }

    /// Every entry whose key has `len` characters (or more, if `at_least`).
    pub(crate) fn length(&self, len: usize, at_least: bool, emit: &mut dyn FnMut(&[u32], u8)) {
        for run in self.all() {
            scan_length(run, len, at_least, emit);
        }
    }
}

/// Byte-wise lexicographic order, eight bytes at a time (keys are short, and a call to
/// `memcmp` per comparison dominated merges and walks).
#[inline]
pub(crate) fn cmp_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let mut x = [0u8; 8];
        let mut y = [0u8; 8];
        x.copy_from_slice(&a[i..i + 8]);
        y.copy_from_slice(&b[i..i + 8]);
        let (x, y) = (u64::from_be_bytes(x), u64::from_be_bytes(y));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    while i < n {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

/// Whether the key's bytes from `depth` start with `c` (one encoded character).
#[inline]
fn starts_with_at(key: &[u8], depth: usize, c: &[u8]) -> bool {
    match key.get(depth..depth + c.len()) {
        Some(h) => h.iter().zip(c).all(|(x, y)| x == y),
        None => false,
    }
}

/// Whether the key's bytes from `depth` sort before `c` (one encoded character).
#[inline]
fn before_at(key: &[u8], depth: usize, c: &[u8]) -> bool {
    let end = (depth + c.len()).min(key.len());
    let head = key.get(depth..end).unwrap_or(&[]);
    cmp_bytes(head, c) == std::cmp::Ordering::Less
}

/// The first index in `lo..hi` where `pred` is false, `pred` being true then false.
#[inline]
pub(crate) fn partition(mut lo: usize, mut hi: usize, pred: impl Fn(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Like [`partition`], but cheap when the true prefix is short (exponential search).
#[inline]
pub(crate) fn gallop(lo: usize, hi: usize, pred: impl Fn(usize) -> bool) -> usize {
    if lo >= hi || !pred(lo) {
        return lo;
    }
    let mut last_true = lo;
    let mut step = 1;
    loop {
        let next = last_true + step;
        if next >= hi {
            return partition(last_true + 1, hi, pred);
        }
        if pred(next) {
            last_true = next;
            step *= 2;
        } else {
            return partition(last_true + 1, next, pred);
        }
    }
}

/// The character starting at byte `depth` of a UTF-8 key, and its length.
#[inline]
fn char_at(key: &[u8], depth: usize) -> Option<(char, usize)> {
    let first = *key.get(depth)?;
    if first < 0x80 {
        return Some((char::from(first), 1));
    }
    let len = match first {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    };
    let bytes = key.get(depth..depth + len)?;
    let c = std::str::from_utf8(bytes).ok()?.chars().next()?;
    Some((c, len))
}

/// A matcher of keys, consumed one character at a time.
pub(crate) trait Automaton {
    type State: Clone;
    fn start(&self) -> Self::State;
    /// The state after `c`, or `None` if no key continuing this way can match.
    fn step(&self, s: &Self::State, c: char) -> Option<Self::State>;
    /// The match distance if a key ending here matches.
    fn accept(&self, s: &Self::State) -> Option<u8>;
    /// Fills `out` with the only characters that can continue a match (sorted) and returns
    /// true, or returns false if any character might.
    fn next_chars(&self, s: &Self::State, out: &mut Vec<char>) -> bool;
    /// Whether every continuation, including none, matches at distance 0.
    fn accepts_all(&self, s: &Self::State) -> bool;
}

/// Runs the automaton over the rest of one key.
fn finish<A: Automaton>(a: &A, st: &A::State, rest: &[u8]) -> Option<u8> {
    let mut cur = st.clone();
    let mut at = 0;
    while at < rest.len() {
        if a.accepts_all(&cur) {
            return Some(0);
        }
        let (c, len) = char_at(rest, at)?;
        cur = a.step(&cur, c)?;
        at += len;
    }
    a.accept(&cur)
}

/// Walks the implicit trie of `run` with `a`, calling `emit(ids, distance)` for every matching
/// entry (ranges of entries at once where possible).
pub(crate) fn walk<A: Automaton>(
    run: &Run,
    a: &A,
    scan_small: usize,
    emit: &mut dyn FnMut(&[u32], u8),
) {
    if run.len() == 0 {
        return;
    }
    let mut stack: Vec<(usize, usize, usize, A::State)> = vec![(0, run.len(), 0, a.start())];
    let mut chars: Vec<char> = Vec::new();
    while let Some((mut lo, hi, depth, st)) = stack.pop() {
        if a.accepts_all(&st) {
            emit(&run.ids[lo..hi], 0);
            continue;
        }
        if hi - lo <= scan_small {
            for i in lo..hi {
                if let Some(d) = finish(a, &st, &run.key(i)[depth..]) {
                    emit(&run.ids[i..=i], d);
                }
            }
            continue;
        }
        // Keys that end at this depth sort first.
        let ending = gallop(lo, hi, |i| run.key_len(i) == depth);
        if ending > lo {
            if let Some(d) = a.accept(&st) {
                emit(&run.ids[lo..ending], d);
            }
            lo = ending;
        }
        if a.next_chars(&st, &mut chars) {
            for &c in &chars {
                let mut buf = [0u8; 4];
                let cb: &[u8] = c.encode_utf8(&mut buf).as_bytes();
                let b = partition(lo, hi, |i| before_at(run.key(i), depth, cb));
                let e = gallop(b, hi, |i| starts_with_at(run.key(i), depth, cb));
                if b < e {
                    if let Some(s2) = a.step(&st, c) {
                        stack.push((b, e, depth + cb.len(), s2));
                    }
                }
            }
        } else {
            let mut pos = lo;
            while pos < hi {
                let Some((c, clen)) = char_at(run.key(pos), depth) else {
                    pos += 1;
                    continue;
                };
                let mut buf = [0u8; 4];
                buf[..clen].copy_from_slice(&run.key(pos)[depth..depth + clen]);
                let cb = &buf[..clen];
                let e = gallop(pos, hi, |i| starts_with_at(run.key(i), depth, cb));
                if let Some(s2) = a.step(&st, c) {
                    stack.push((pos, e, depth + clen, s2));
                }
                pos = e;
            }
        }
    }
}

/// The ids of the entries whose key is exactly `key`.
pub(crate) fn lookup_exact<'r>(run: &'r Run, key: &[u8]) -> &'r [u32] {
    let n = run.len();
    let b = partition(0, n, |i| {
        cmp_bytes(run.key(i), key) == std::cmp::Ordering::Less
    });
    let e = gallop(b, n, |i| run.key(i) == key);
    &run.ids[b..e]
}

/// Finds the entries whose key contains `needle` (searching the whole arena at memory speed)
/// and emits those that `verify` accepts.
pub(crate) fn scan_substring(
    run: &Run,
    needle: &[u8],
    verify: &dyn Fn(&[u8]) -> bool,
    emit: &mut dyn FnMut(&[u32], u8),
) {
    if needle.is_empty() {
        return;
    }
    let finder = memchr::memmem::Finder::new(needle);
    let n = run.len();
    let mut from = 0usize;
    let mut entry = 0usize;
    while from < run.keys.len() {
        let Some(off) = finder.find(&run.keys[from..]) else {
            break;
        };
        let p = from + off;
        entry = gallop(entry, n, |i| run.starts[i + 1] as usize <= p);
        if entry >= n {
            break;
        }
        let end = run.starts[entry + 1] as usize;
        if p + needle.len() <= end {
            if verify(run.key(entry)) {
                emit(&run.ids[entry..=entry], 0);
            }
            from = end;
            entry += 1;
        } else {
            // The occurrence spans two keys.
            from = p + 1;
        }
    }
}

/// Emits the entries whose key has exactly (`at_least` false) or at least `len` characters,
/// in batches of consecutive entries.
pub(crate) fn scan_length(run: &Run, len: usize, at_least: bool, emit: &mut dyn FnMut(&[u32], u8)) {
    let mut from: Option<usize> = None;
    for i in 0..run.len() {
        let key = run.key(i);
        // A character has one to four bytes.
        let ok = if key.len() < len || (!at_least && key.len() > 4 * len) {
            false
        } else {
            let chars = if key.is_ascii() {
                key.len()
            } else {
                key.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
            };
            chars == len || (at_least && chars > len)
        };
        match (ok, from) {
            (true, None) => from = Some(i),
            (false, Some(f)) => {
                emit(&run.ids[f..i], 0);
                from = None;
            }
            _ => {}
        }
    }
    if let Some(f) = from {
        emit(&run.ids[f..], 0);
    }
}

/// A wildcard pattern as an automaton (a set of pattern positions, as a bit set).
pub(crate) struct Glob {
    toks: Vec<Tok>,
    /// The first position of the trailing run of stars (`toks.len()` if none).
    star_tail: usize,
}

impl Glob {
    pub(crate) fn new(toks: Vec<Tok>) -> Glob {
        let mut star_tail = toks.len();
        while star_tail > 0 && toks[star_tail - 1] == Tok::Star {
            star_tail -= 1;
        }
        if star_tail == toks.len() {
            star_tail = usize::MAX;
        }
        Glob { toks, star_tail }
    }

    fn words(&self) -> usize {
        (self.toks.len() + 1).div_ceil(64)
    }

    fn close(&self, s: &mut [u64]) {
        for p in 0..self.toks.len() {
            if s[p / 64] & (1 << (p % 64)) != 0 && self.toks[p] == Tok::Star {
                s[(p + 1) / 64] |= 1 << ((p + 1) % 64);
            }
        }
    }

    fn positions(s: &[u64]) -> impl Iterator<Item = usize> + '_ {
        s.iter().enumerate().flat_map(|(w, &bits)| {
            let mut b = bits;
            std::iter::from_fn(move || {
                if b == 0 {
                    return None;
                }
                let t = b.trailing_zeros() as usize;
                b &= b - 1;
                Some(w * 64 + t)
            })
        })
    }
}

impl Automaton for Glob {
    type State = Vec<u64>;

    fn start(&self) -> Vec<u64> {
        let mut s = vec![0u64; self.words()];
        s[0] = 1;
        self.close(&mut s);
        s
    }

    fn step(&self, s: &Vec<u64>, c: char) -> Option<Vec<u64>> {
        let mut next = vec![0u64; self.words()];
        let mut any = false;
        for p in Glob::positions(s) {
            let to = match self.toks.get(p) {
                Some(Tok::Lit(l)) if *l == c => p + 1,
                Some(Tok::One) => p + 1,
                Some(Tok::Star) => p,
                _ => continue,
            };
            next[to / 64] |= 1 << (to % 64);
            any = true;
        }
        if !any {
            return None;
        }
        self.close(&mut next);
        Some(next)
    }

    fn accept(&self, s: &Vec<u64>) -> Option<u8> {
        let end = self.toks.len();
        (s[end / 64] & (1 << (end % 64)) != 0).then_some(0)
    }

    fn next_chars(&self, s: &Vec<u64>, out: &mut Vec<char>) -> bool {
        out.clear();
        for p in Glob::positions(s) {
            match self.toks.get(p) {
                Some(Tok::Lit(l)) => out.push(*l),
                Some(Tok::One | Tok::Star) => return false,
                None => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        true
    }

    fn accepts_all(&self, s: &Vec<u64>) -> bool {
        Glob::positions(s).any(|p| p >= self.star_tail && p < self.toks.len())
    }
}

/// Whether `key` matches the wildcard pattern as a whole.
pub(crate) fn glob_match(toks: &[Tok], key: &str) -> bool {
    let k: Vec<char> = key.chars().collect();
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<usize> = None;
    let mut mark = 0usize;
    while i < k.len() {
        match toks.get(j) {
            Some(Tok::One) => {
                i += 1;
                j += 1;
            }
            Some(Tok::Lit(l)) if *l == k[i] => {
                i += 1;
                j += 1;
            }
            Some(Tok::Star) => {
                star = Some(j);
                mark = i;
                j += 1;
            }
            _ => match star {
                Some(s) => {
                    j = s + 1;
                    mark += 1;
                    i = mark;
                }
                None => return false,
            },
        }
    }
    while toks.get(j) == Some(&Tok::Star) {
        j += 1;
    }
    j == toks.len()
}

/// Optimal-string-alignment distance (insertions, deletions, substitutions and transpositions of
/// adjacent characters, no substring edited twice) as an automaton, bounded by `k ≤ 2`.
///
/// Only the diagonal band `|i - j| ≤ k` of the dynamic programme can hold a value `≤ k`, so a
/// state is two rows of at most five cells (the current row, and the previous one for
/// transpositions): small, `Copy`, no allocation per step.
///
/// # Split search
///
/// A walk with budget `k` from the root visits every prefix within `k` edits of some query
/// prefix: nearly all short prefixes. [`Osa::split`] restricts the edits spent on the first `h`
/// query characters (cells of columns `j < h` may hold at most `a`, column `h` at most `a + 1`,
/// the rest `k`), so the top of the trie is walked almost exactly. Every alignment within `k`
/// spends at most `a` edits landing in columns `≤ h`, or at most `k - a - 1` in columns `> h`;
/// the index runs the first case forwards and the second on reversed keys with the reversed
/// query (OSA is symmetric under reversing both strings), and keeps the smaller distance of the
/// two. The one extra edit allowed in column `h` keeps pruning exact when a transposition
/// straddles the split: its intermediate cell lies in column `h`.
pub(crate) struct Osa {
    q: Vec<char>,
    k: u8,
    h: usize,
    a: u8,
}

const BAND: usize = 5;

/// Band cell `b` of row `i` is `D[i][i + b - k]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OsaState {
    cur: [u8; BAND],
    prev: [u8; BAND],
    last: Option<char>,
    /// Characters of the key consumed.
    i: usize,
}

impl Osa {
    /// Plain bounded distance; `k` is capped at 2.
    #[cfg(test)]
    pub(crate) fn new(q: Vec<char>, k: u8) -> Osa {
        let k = k.min(2);
        Osa { q, k, h: 0, a: k }
    }

    /// At most `a` edits landing in the first `h` columns (see the type's documentation).
    pub(crate) fn split(q: Vec<char>, k: u8, h: usize, a: u8) -> Osa {
        let k = k.min(2);
        Osa {
            q,
            k,
            h,
            a: a.min(k),
        }
    }

    fn width(&self) -> usize {
        2 * usize::from(self.k) + 1
    }

    /// The most a cell of column `j` may hold.
    #[inline]
    fn budget(&self, j: usize) -> u8 {
        match j.cmp(&self.h) {
            std::cmp::Ordering::Less => self.a,
            std::cmp::Ordering::Equal => (self.a + 1).min(self.k),
            std::cmp::Ordering::Greater => self.k,
        }
    }

    /// The query index `j` of band cell `b` in row `i`, if inside `0..=m`.
    #[inline]
    fn column(&self, i: usize, b: usize) -> Option<usize> {
        let j = (i + b).checked_sub(usize::from(self.k))?;
        (j <= self.q.len()).then_some(j)
    }
}

impl Automaton for Osa {
    type State = OsaState;

    fn start(&self) -> OsaState {
        let cap = self.k + 1;
        let mut cur = [cap; BAND];
        for (b, cell) in cur.iter_mut().enumerate().take(self.width()) {
            if let Some(j) = self.column(0, b) {
                let v = j as u8;
                if v <= self.budget(j) {
                    *cell = v;
                }
            }
        }
        OsaState {
            cur,
            prev: [cap; BAND],
            last: None,
            i: 0,
        }
    }

    fn step(&self, s: &OsaState, c: char) -> Option<OsaState> {
        let cap = self.k + 1;
        let w = self.width();
        let i = s.i + 1;
        let mut new = [cap; BAND];
        let mut alive = false;
        for b in 0..w {
            let Some(j) = self.column(i, b) else { continue };
            let v = if j == 0 {
                i.min(usize::from(cap)) as u8
            } else {
                // Deletion of a key character: D[i-1][j] is cell b+1 of the previous row.
                let mut v = if b + 1 < w { s.cur[b + 1] + 1 } else { cap };
                // Insertion: D[i][j-1] is cell b-1 of this row.
                if b >= 1 {
                    v = v.min(new[b - 1] + 1);
                }
                // Substitution or match: D[i-1][j-1] is cell b of the previous row.
                v = v.min(s.cur[b] + u8::from(self.q[j - 1] != c));
                // Transposition: D[i-2][j-2] is cell b of the row before.
                if j >= 2 && self.q[j - 2] == c && s.last == Some(self.q[j - 1]) {
                    v = v.min(s.prev[b] + 1);
                }
                v
            };
            if v <= self.budget(j) {
                new[b] = v;
                alive = true;
            }
        }
        if !alive {
            return None;
        }
        Some(OsaState {
            cur: new,
            prev: s.cur,
            last: Some(c),
            i,
        })
    }

    fn accept(&self, s: &OsaState) -> Option<u8> {
        let b = (self.q.len() + usize::from(self.k)).checked_sub(s.i)?;
        let d = *s.cur.get(b).filter(|_| b < self.width())?;
        (d <= self.k).then_some(d)
    }

    fn next_chars(&self, s: &OsaState, out: &mut Vec<char>) -> bool {
        // When no live cell can afford another edit, a continuation must match the query from
        // some cell (or complete a transposition begun at the previous character).
        out.clear();
        for b in 0..self.width() {
            let Some(j) = self.column(s.i, b) else {
                continue;
            };
            let v = s.cur[b];
            if v > self.budget(j) {
                continue;
            }
            if v < self.budget(j + 2) {
                return false;
            }
            if let Some(&c) = self.q.get(j) {
                out.push(c);
            }
        }
        if s.i >= 1 {
            for b in 0..self.width() {
                let Some(j) = self.column(s.i - 1, b) else {
                    continue;
                };
                if s.prev[b] < self.k {
                    if let Some(&c) = self.q.get(j) {
                        out.push(c);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        true
    }

    fn accepts_all(&self, _s: &OsaState) -> bool {
        false
    }
}

/// Optimal-string-alignment distance between two character strings (unbounded).
pub fn osa_distance(a: &[char], b: &[char]) -> usize {
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, v) in d[0].iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(keys: &[&str]) -> Run {
        let mut set = RunSet::default();
        let tuning = Tuning {
            run_buffer: 3,
            ..Tuning::default()
        };
        for (i, k) in keys.iter().enumerate() {
            set.insert(k.as_bytes(), i as u32, &tuning);
        }
        set.compact();
        set.runs.pop().unwrap_or_default()
    }

    fn collect<A: Automaton>(run: &Run, a: &A, scan_small: usize) -> Vec<(u32, u8)> {
        let mut out = Vec::new();
        walk(run, a, scan_small, &mut |ids, d| {
            out.extend(ids.iter().map(|&i| (i, d)))
        });
        out.sort_unstable();
        out
    }

    #[test]
    fn osa_counts_transpositions_once() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(osa_distance(&c("AB"), &c("BA")), 1);
        assert_eq!(osa_distance(&c("CA"), &c("ABC")), 3);
        assert_eq!(osa_distance(&c("5612345"), &c("5612354")), 1);
        assert_eq!(osa_distance(&c(""), &c("12")), 2);
    }

    #[test]
    fn runs_stay_sorted_through_merges() {
        let keys = ["B", "A", "AB", "", "Ж1", "A", "C", "AA", "B1", "Я"];
        let run = run_of(&keys);
        assert!(run.validate(keys.len(), true).is_ok());
        assert_eq!(run.len(), keys.len());
        assert_eq!(lookup_exact(&run, b"A"), &[1, 5]);
        assert_eq!(lookup_exact(&run, b"Q"), &[] as &[u32]);
    }

    #[test]
    fn walks_agree_with_direct_matching() {
        let keys = [
            "5612345", "5612354", "561234", "56123456", "5?", "PA1234", "RA1234", "", "1", "12",
            "Ж12", "ЖЖ", "5", "57", "5612345", "A5B",
        ];
        let run = run_of(&keys);
        for scan_small in [0, 1, 4, 100] {
            for pat in [
                "5*", "5?1??4?", "*", "?", "*4", "5*5", "Ж?", "??", "56123?5",
            ] {
                let (toks, _) = crate::query::wildcard_patterns(pat);
                let got = collect(&run, &Glob::new(toks.clone()), scan_small);
                let want: Vec<(u32, u8)> = keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| glob_match(&toks, k))
                    .map(|(i, _)| (i as u32, 0))
                    .collect();
                assert_eq!(got, want, "pattern {pat} scan_small {scan_small}");
            }
            for q in [
                "5612345", "1", "PA1243", "ЖЖ1", "65123", "5621345", "56123456",
            ] {
                for k in 0..=2u8 {
                    let qc: Vec<char> = q.chars().collect();
                    let got = collect(&run, &Osa::new(qc.clone(), k), scan_small);
                    let want: Vec<(u32, u8)> = keys
                        .iter()
                        .enumerate()
                        .filter_map(|(i, key)| {
                            let d = osa_distance(&qc, &key.chars().collect::<Vec<_>>());
                            (d <= usize::from(k)).then_some((i as u32, d as u8))
                        })
                        .collect();
                    assert_eq!(got, want, "query {q} k {k} scan_small {scan_small}");
                    // The split search: forwards with at most a edits in the first half,
                    // backwards with at most k - a - 1 in the second; the minimum of the two.
                    if k > 0 {
                        let h = qc.len() / 2;
                        let a = k / 2;
                        let mut got = collect(&run, &Osa::split(qc.clone(), k, h, a), scan_small);
                        let rev_keys: Vec<String> =
                            keys.iter().map(|k| k.chars().rev().collect()).collect();
                        let rev_refs: Vec<&str> = rev_keys.iter().map(|s| s.as_str()).collect();
                        let rev_run = run_of(&rev_refs);
                        let rq: Vec<char> = qc.iter().rev().copied().collect();
                        got.extend(collect(
                            &rev_run,
                            &Osa::split(rq, k, qc.len() - h, k - a - 1),
                            scan_small,
                        ));
                        got.sort_unstable();
                        got.dedup_by_key(|(i, _)| *i);
                        assert_eq!(got, want, "split query {q} k {k} scan_small {scan_small}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// The split search finds exactly the keys within `k`, at their true distance, for
        /// every split point and budget, transpositions across the split included.
        #[test]
        fn split_search_is_complete(
            keys in proptest::collection::vec("[ABCЖ]{0,7}", 0..25),
            q in "[ABCЖ]{0,7}",
            k in 1u8..=2,
            h_pick in 0usize..8,
            scan_small in 0usize..3,
        ) {
            let refs: Vec<&str> = keys.iter().map(|s| s.as_str()).collect();
            let run = run_of(&refs);
            let rev_keys: Vec<String> = keys.iter().map(|k| k.chars().rev().collect()).collect();
            let rev_refs: Vec<&str> = rev_keys.iter().map(|s| s.as_str()).collect();
            let rev_run = run_of(&rev_refs);
            let qc: Vec<char> = q.chars().collect();
            let h = h_pick.min(qc.len());
            for a in 0..k {
                let mut got = collect(&run, &Osa::split(qc.clone(), k, h, a), scan_small);
                let rq: Vec<char> = qc.iter().rev().copied().collect();
                got.extend(collect(&rev_run, &Osa::split(rq, k, qc.len() - h, k - a - 1), scan_small));
                got.sort_unstable();
                got.dedup_by_key(|(i, _)| *i);
                let want: Vec<(u32, u8)> = keys
                    .iter()
                    .enumerate()
                    .filter_map(|(i, key)| {
                        let d = osa_distance(&qc, &key.chars().collect::<Vec<_>>());
                        (d <= usize::from(k)).then_some((i as u32, d as u8))
                    })
                    .collect();
                proptest::prop_assert_eq!(got, want, "h {} a {}", h, a);
            }
        }
    }

    #[test]
    fn substring_and_length_scans() {
        let keys = ["123", "2312", "31", "", "ЖЖЖ", "1"];
        let run = run_of(&keys);
        let mut got = Vec::new();
        scan_substring(&run, b"12", &|_| true, &mut |ids, _| {
            got.extend_from_slice(ids)
        });
        got.sort_unstable();
        assert_eq!(got, vec![0, 1]);
        let mut got = Vec::new();
        scan_length(&run, 3, false, &mut |ids, _| got.extend_from_slice(ids));
        got.sort_unstable();
        assert_eq!(got, vec![0, 4]);
    }
}

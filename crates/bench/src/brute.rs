//! The reference: a linear scan over every marking that applies the contract's definitions
//! directly (`crates/search/src/normalize.rs`, "Match rule"), with the keys `C`, `F(T_visual(C))`
//! and `F(T_phonetic(C))` precomputed per marking, a naive backtracking wildcard matcher and a
//! bounded optimal-string-alignment distance.
//!
//! Its answers are the ground truth of the answer check; its timings show what an index buys.

use tracemark_search::keys;
use tracemark_search::query::Tok;

use crate::data::{Dataset, Strs};
use crate::queries::{BenchQuery, Class};

/// The keys of every marking.
pub struct Keys {
    pub canonical: Strs,
    pub visual: Strs,
    /// The phonetic key (equal to the visual one for most markings: see `differs`).
    pub phonetic: Strs,
    /// Whether the phonetic key differs from the visual one.
    pub differs: Vec<bool>,
}

impl Keys {
    pub fn compute(d: &Dataset) -> Keys {
        let mut k = Keys {
            canonical: Strs::default(),
            visual: Strs::default(),
            phonetic: Strs::default(),
            differs: Vec::with_capacity(d.len()),
        };
        for m in 0..d.len() {
            let ks = keys(d.m_text.get(m));
            k.canonical.push(&ks.canonical);
            k.visual.push(&ks.visual);
            k.phonetic.push(&ks.phonetic);
            k.differs.push(ks.phonetic != ks.visual);
        }
        k.canonical.shrink_to_fit();
        k.visual.shrink_to_fit();
        k.phonetic.shrink_to_fit();
        k
    }

    /// Bytes allocated.
    pub fn bytes(&self) -> usize {
        self.canonical.bytes() + self.visual.bytes() + self.phonetic.bytes() + self.differs.len()
    }

    /// The distinct keyed forms of marking `m` (one or two).
    pub fn variants(&self, m: usize) -> impl Iterator<Item = &str> {
        let v = self.visual.get(m);
        let p = self.differs[m].then(|| self.phonetic.get(m));
        std::iter::once(v).chain(p)
    }
}

/// Naive wildcard matching: `?` one character, `*` any run; the whole key must match.
pub fn glob(p: &[Tok], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((Tok::Star, rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((Tok::One, rest)) => !s.is_empty() && glob(rest, &s[1..]),
        Some((Tok::Lit(c), rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// Edit distance of `a` and `b` if it is at most `k` (`None` otherwise): optimal string
/// alignment (adjacent transpositions count one) when `transpositions`, else Levenshtein.
/// Rows are abandoned as soon as every cell exceeds `k`.
pub fn distance_within(
    a: &[char],
    b: &[char],
    k: usize,
    transpositions: bool,
    rows: &mut [Vec<usize>; 3],
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > k {
        return None;
    }
    let m = b.len();
    for r in rows.iter_mut() {
        r.clear();
        r.resize(m + 1, 0);
    }
    let [r2, r1, r0] = rows;
    // r1: previous row, r2: the row before it, r0: the current row.
    for (j, v) in r1.iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        r0[0] = i;
        let mut row_min = r0[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (r1[j] + 1).min(r0[j - 1] + 1).min(r1[j - 1] + cost);
            if transpositions && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(r2[j - 2] + 1);
            }
            r0[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > k {
            return None;
        }
        std::mem::swap(r2, r1);
        std::mem::swap(r1, r0);
    }
    let d = r1[m];
    (d <= k).then_some(d)
}

fn chars_into(s: &str, buf: &mut Vec<char>) {
    buf.clear();
    buf.extend(s.chars());
}

/// The linear-scan engine.
pub struct Brute<'a> {
    pub keys: &'a Keys,
    buf: Vec<char>,
    rows: [Vec<usize>; 3],
}

impl<'a> Brute<'a> {
    pub fn new(keys: &'a Keys) -> Self {
        Brute {
            keys,
            buf: Vec::new(),
            rows: [Vec::new(), Vec::new(), Vec::new()],
        }
    }

    /// The ids of the markings that match `q` by the contract's definitions, ascending.
    pub fn search(&mut self, q: &BenchQuery) -> Vec<u32> {
        let k = self.keys;
        let n = k.canonical.len();
        let mut out = Vec::new();
        match q.class {
            Class::Exact => {
                let c = q.canonical.as_str();
                out.extend(
                    (0..n)
                        .filter(|&m| k.canonical.get(m) == c)
                        .map(|m| m as u32),
                );
            }
            Class::Normalized => {
                let qv = q.variants.as_slice();
                for m in 0..n {
                    if k.variants(m).any(|mk| qv.iter().any(|v| v == mk)) {
                        out.push(m as u32);
                    }
                }
            }
            Class::Wild
            | Class::WildNoRun
            | Class::WildPrefix
            | Class::WildSuffix
            | Class::WildInfix => {
                for m in 0..n {
                    let hit = k.variants(m).any(|mk| {
                        chars_into(mk, &mut self.buf);
                        q.patterns.iter().any(|p| glob(p, &self.buf))
                    });
                    if hit {
                        out.push(m as u32);
                    }
                }
            }
            Class::Fuzzy1 | Class::Fuzzy2 => {
                let e = usize::from(q.max_edits);
                let qs: Vec<Vec<char>> = q.variants.iter().map(|v| v.chars().collect()).collect();
                let (lo, hi) = qs.iter().fold((usize::MAX, 0), |(lo, hi), v| {
                    (lo.min(v.len()), hi.max(v.len()))
                });
                for m in 0..n {
                    let mut hit = false;
                    for mk in k.variants(m) {
                        // Cheap exact bound first: a key's length in characters is between its
                        // length in bytes / 4 and its length in bytes.
                        if mk.len() + e < lo || mk.len() / 4 > hi + e {
                            continue;
                        }
                        chars_into(mk, &mut self.buf);
                        if qs.iter().any(|qc| {
                            distance_within(qc, &self.buf, e, true, &mut self.rows).is_some()
                        }) {
                            hit = true;
                            break;
                        }
                    }
                    if hit {
                        out.push(m as u32);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_search::osa_distance;

    fn c(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn bounded_osa_agrees_with_the_crate() {
        let mut rows = [Vec::new(), Vec::new(), Vec::new()];
        let alphabet = ['A', '1', '2', 'B', 'Ж'];
        let mut x: u64 = 12345;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20000 {
            let la = (next() % 7) as usize;
            let lb = (next() % 7) as usize;
            let a: Vec<char> = (0..la).map(|_| alphabet[(next() % 5) as usize]).collect();
            let b: Vec<char> = (0..lb).map(|_| alphabet[(next() % 5) as usize]).collect();
            let d = osa_distance(&a, &b);
            for k in 0..4 {
                let got = distance_within(&a, &b, k, true, &mut rows);
                assert_eq!(got, (d <= k).then_some(d), "{a:?} {b:?} k={k}");
            }
        }
        assert_eq!(
            distance_within(&c("AB"), &c("BA"), 2, true, &mut rows),
            Some(1)
        );
        assert_eq!(
            distance_within(&c("AB"), &c("BA"), 2, false, &mut rows),
            Some(2)
        );
        assert_eq!(
            distance_within(&c("AB"), &c("BA"), 1, false, &mut rows),
            None
        );
    }

    #[test]
    fn glob_matches_whole_keys() {
        let p = |s: &str| -> Vec<Tok> {
            s.chars()
                .map(|ch| match ch {
                    '?' => Tok::One,
                    '*' => Tok::Star,
                    other => Tok::Lit(other),
                })
                .collect()
        };
        assert!(glob(&p("56?2?45"), &c("5612345")));
        assert!(!glob(&p("56?2?4"), &c("5612345")));
        assert!(glob(&p("56*"), &c("56")));
        assert!(glob(&p("*345"), &c("5612345")));
        assert!(glob(&p("*12*"), &c("5612345")));
        assert!(!glob(&p("*13*"), &c("5612345")));
    }
}

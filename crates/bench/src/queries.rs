//! The fixed query set: drawn deterministically from the data (a seeded SplitMix64), the same for
//! every engine.

use tracemark_search::normalize::{canonical, transliterate_phonetic, transliterate_visual};
use tracemark_search::query::{wildcard_patterns, Tok};
use tracemark_search::{keys, SERIAL_LIKE_KINDS};

use crate::brute::Keys;
use crate::data::Dataset;

/// A query class of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A serial as recorded (`--mode exact`).
    Exact,
    /// A serial as an officer types it: Cyrillic/Greek typed in Latin, Arabic-Indic digits
    /// typed in ASCII, one `0`/`O` (or `1`/`I`, `5`/`S`, `8`/`B`) misread (`--mode normalized`).
    Normalized,
    /// Two or three `?` at random positions.
    Wild,
    /// `?` at every third position, so that no three literal characters are consecutive.
    WildNoRun,
    /// The first four characters and `*`.
    WildPrefix,
    /// `*` and the last four characters.
    WildSuffix,
    /// `*`, four characters from the middle, `*`.
    WildInfix,
    /// One substitution or one adjacent transposition (`--mode fuzzy --max-edits 1`).
    Fuzzy1,
    /// A substitution and a transposition, or two substitutions (`--max-edits 2`).
    Fuzzy2,
}

impl Class {
    pub const ALL: [Class; 9] = [
        Class::Exact,
        Class::Normalized,
        Class::Wild,
        Class::WildNoRun,
        Class::WildPrefix,
        Class::WildSuffix,
        Class::WildInfix,
        Class::Fuzzy1,
        Class::Fuzzy2,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Exact => "exact",
            Class::Normalized => "normalized",
            Class::Wild => "wildcard `?` ×2–3",
            Class::WildNoRun => "wildcard `?` no 3-run",
            Class::WildPrefix => "wildcard `ABCD*`",
            Class::WildSuffix => "wildcard `*ABCD`",
            Class::WildInfix => "wildcard `*ABCD*`",
            Class::Fuzzy1 => "fuzzy ≤1 edit",
            Class::Fuzzy2 => "fuzzy ≤2 edits",
        }
    }

    pub fn is_wildcard(self) -> bool {
        matches!(
            self,
            Class::Wild
                | Class::WildNoRun
                | Class::WildPrefix
                | Class::WildSuffix
                | Class::WildInfix
        )
    }

    pub fn is_fuzzy(self) -> bool {
        matches!(self, Class::Fuzzy1 | Class::Fuzzy2)
    }
}

/// One query, with everything an engine needs precomputed (outside the timings).
#[derive(Clone, Debug)]
pub struct BenchQuery {
    pub class: Class,
    /// The query as typed.
    pub text: String,
    pub max_edits: u8,
    /// `C(text)` (non-wildcard classes).
    pub canonical: String,
    /// The distinct keyed forms of the query, `F(T_visual(C))` first (non-wildcard classes).
    pub variants: Vec<String>,
    /// The distinct keyed patterns, visual first (wildcard classes).
    pub patterns: Vec<Vec<Tok>>,
}

impl BenchQuery {
    pub fn new(class: Class, text: String) -> BenchQuery {
        let max_edits = match class {
            Class::Fuzzy1 => 1,
            Class::Fuzzy2 => 2,
            _ => 0,
        };
        let mut q = BenchQuery {
            class,
            text,
            max_edits,
            canonical: String::new(),
            variants: Vec::new(),
            patterns: Vec::new(),
        };
        if class.is_wildcard() {
            let (v, p) = wildcard_patterns(&q.text);
            q.patterns.push(v.clone());
            if p != v {
                q.patterns.push(p);
            }
        } else {
            let k = keys(&q.text);
            q.canonical = k.canonical;
            q.variants.push(k.visual.clone());
            if k.phonetic != k.visual {
                q.variants.push(k.phonetic);
            }
        }
        q
    }

    /// A keyed pattern as a string with the given wildcard characters.
    pub fn pattern_string(p: &[Tok], one: char, star: char) -> String {
        p.iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::One => one,
                Tok::Star => star,
            })
            .collect()
    }

    /// Whether some keyed pattern has three consecutive literal characters (what a trigram index
    /// needs to avoid a scan).
    pub fn has_literal_run(&self, len: usize) -> bool {
        self.patterns.iter().all(|p| {
            p.split(|t| !matches!(t, Tok::Lit(_)))
                .any(|run| run.len() >= len)
        })
    }
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick(&mut self, xs: &[u32]) -> Option<u32> {
        (!xs.is_empty()).then(|| xs[self.below(xs.len())])
    }
}

fn is_cyrillic_or_greek(c: char) -> bool {
    matches!(u32::from(c), 0x0370..=0x052F)
}

fn misread(c: char) -> Option<char> {
    Some(match c {
        '0' => 'O',
        'O' => '0',
        '1' => 'I',
        'I' => '1',
        '5' => 'S',
        'S' => '5',
        '8' => 'B',
        'B' => '8',
        _ => return None,
    })
}

/// `per_class` queries of every class.
pub fn build(d: &Dataset, k: &Keys, per_class: usize, seed: u64) -> Vec<BenchQuery> {
    // The pool: serial-like markings with at least five canonical characters and no wildcard
    // character in their text (partly legible serials are recorded with `?`).
    let mut pool: Vec<u32> = Vec::new();
    let mut script: Vec<u32> = Vec::new();
    let mut digits: Vec<u32> = Vec::new();
    let mut misreads: Vec<u32> = Vec::new();
    let mut short: Vec<u32> = Vec::new();
    for m in 0..d.len() {
        let kind = d.kind(m);
        let text = d.m_text.get(m);
        let c = k.canonical.get(m);
        let n = c.chars().count();
        if !SERIAL_LIKE_KINDS.contains(&kind) || n < 5 || text.contains(['?', '*']) {
            continue;
        }
        let id = m as u32;
        pool.push(id);
        if (6..=11).contains(&n) {
            short.push(id);
        }
        if c.chars().any(is_cyrillic_or_greek) {
            script.push(id);
        } else if text.chars().any(|ch| ch.is_numeric() && !ch.is_ascii()) {
            digits.push(id);
        } else if c.is_ascii() && c.chars().any(|ch| misread(ch).is_some()) {
            misreads.push(id);
        }
    }
    let long: Vec<u32> = pool
        .iter()
        .copied()
        .filter(|&m| k.canonical.get(m as usize).chars().count() >= 6)
        .collect();
    let mut rng = Rng(seed ^ 0x7E57_C0DE);
    let mut out = Vec::new();
    for class in Class::ALL {
        let mut made = 0;
        let mut attempts = 0;
        while made < per_class && attempts < per_class * 50 {
            attempts += 1;
            let text = match class {
                Class::Exact => rng
                    .pick(&pool)
                    .map(|m| d.m_text.get(m as usize).to_string()),
                Class::Normalized => {
                    normalized_query(d, k, &mut rng, made, [&script, &digits, &misreads])
                }
                Class::Wild => rng.pick(&long).map(|m| {
                    let mut cs: Vec<char> = k.canonical.get(m as usize).chars().collect();
                    let wanted = 2 + rng.below(2);
                    let mut placed = 0;
                    while placed < wanted {
                        let i = rng.below(cs.len());
                        if cs[i] != '?' {
                            cs[i] = '?';
                            placed += 1;
                        }
                    }
                    cs.into_iter().collect()
                }),
                Class::WildNoRun => rng.pick(&short).map(|m| {
                    k.canonical
                        .get(m as usize)
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i % 3 == 2 { '?' } else { c })
                        .collect()
                }),
                Class::WildPrefix => rng.pick(&long).map(|m| {
                    let p: String = k.canonical.get(m as usize).chars().take(4).collect();
                    format!("{p}*")
                }),
                Class::WildSuffix => rng.pick(&long).map(|m| {
                    let cs: Vec<char> = k.canonical.get(m as usize).chars().collect();
                    let s: String = cs[cs.len() - 4..].iter().collect();
                    format!("*{s}")
                }),
                Class::WildInfix => rng.pick(&long).map(|m| {
                    let s: String = k
                        .canonical
                        .get(m as usize)
                        .chars()
                        .skip(1)
                        .take(4)
                        .collect();
                    format!("*{s}*")
                }),
                Class::Fuzzy1 | Class::Fuzzy2 => rng.pick(&pool).and_then(|m| {
                    fuzzy_query(k, m as usize, class == Class::Fuzzy2, made, &mut rng)
                }),
            };
            if let Some(text) = text {
                out.push(BenchQuery::new(class, text));
                made += 1;
            }
        }
    }
    out
}

/// A serial as typed: rotates between the three kinds of typing (skipping kinds with no
/// marking to draw from).
fn normalized_query(
    d: &Dataset,
    k: &Keys,
    rng: &mut Rng,
    made: usize,
    buckets: [&[u32]; 3],
) -> Option<String> {
    let nonempty: Vec<usize> = (0..3).filter(|&b| !buckets[b].is_empty()).collect();
    let b = *nonempty.get(made % nonempty.len().max(1))?;
    let m = rng.pick(buckets[b])? as usize;
    let c = k.canonical.get(m);
    match b {
        // Cyrillic or Greek letters typed in Latin: the look-alikes (visual) or the sound
        // (phonetic), alternately; the sound where a letter has no Latin look-alike.
        0 => {
            let visual = transliterate_visual(c);
            if made.is_multiple_of(2) && visual.is_ascii() {
                Some(visual)
            } else {
                Some(transliterate_phonetic(c))
            }
        }
        // Arabic-Indic (or other) digits typed in ASCII.
        1 => Some(canonical(d.m_text.get(m))),
        // One misread character.
        _ => {
            let mut cs: Vec<char> = c.chars().collect();
            let at: Vec<usize> = (0..cs.len())
                .filter(|&i| misread(cs[i]).is_some())
                .collect();
            let i = at[rng.below(at.len())];
            cs[i] = misread(cs[i])?;
            Some(cs.into_iter().collect())
        }
    }
}

/// One or two edits applied to the canonical form of marking `m`; `None` if the edit would not
/// change the keyed form (a substitution by a character that folds to the same key, a swap of
/// equal characters).
fn fuzzy_query(k: &Keys, m: usize, two: bool, made: usize, rng: &mut Rng) -> Option<String> {
    let orig: Vec<char> = k.canonical.get(m).chars().collect();
    let mut cs = orig.clone();
    let substitute = |cs: &mut Vec<char>, rng: &mut Rng| {
        let i = rng.below(cs.len());
        cs[i] = if cs[i].is_ascii_digit() {
            char::from(b'0' + rng.below(10) as u8)
        } else {
            char::from(b'A' + rng.below(26) as u8)
        };
    };
    let transpose = |cs: &mut Vec<char>, rng: &mut Rng| {
        let j = rng.below(cs.len() - 1);
        cs.swap(j, j + 1);
    };
    match (two, made % 2) {
        (false, 0) => substitute(&mut cs, rng),
        (false, _) => transpose(&mut cs, rng),
        (true, 0) => {
            substitute(&mut cs, rng);
            transpose(&mut cs, rng);
        }
        (true, _) => {
            substitute(&mut cs, rng);
            substitute(&mut cs, rng);
        }
    }
    let text: String = cs.into_iter().collect();
    let before = keys(k.canonical.get(m));
    let after = keys(&text);
    (after.visual != before.visual && after.phonetic != before.phonetic).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;

    #[test]
    fn builds_every_class_deterministically() {
        let d = data::load(20_000, 3).unwrap();
        let k = Keys::compute(&d);
        let a = build(&d, &k, 20, 1);
        let b = build(&d, &k, 20, 1);
        assert_eq!(a.len(), 20 * Class::ALL.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.text == y.text));
        for q in &a {
            if q.class == Class::WildNoRun {
                assert!(!q.has_literal_run(3), "{}", q.text);
            }
            if q.class.is_wildcard() {
                assert!(!q.patterns.is_empty());
            } else {
                assert!(!q.variants.is_empty() && !q.canonical.is_empty());
            }
        }
    }
}

//! Query and result types, query validation, and the keying of wildcard patterns.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::normalize::{canonical, phonetic_key_of_canonical, visual_key_of_canonical};

/// Longest query accepted, in characters of the text as typed.
pub const MAX_QUERY_CHARS: usize = 256;
/// Longest keyed query accepted, in characters (NFKC and transliteration can lengthen a text).
pub const MAX_KEY_CHARS: usize = 512;
/// Largest `max_edits` accepted.
pub const MAX_EDITS: u8 = 2;
/// The `max_edits` of the contract's default.
pub const DEFAULT_MAX_EDITS: u8 = 1;
/// The `limit` of the contract's default.
pub const DEFAULT_LIMIT: usize = 50;

/// How a query is matched (`--mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Wildcard if the query has `?` or `*`; otherwise exact, normalized and fuzzy.
    #[default]
    Auto,
    /// Only `C(query) = C(marking)`.
    Exact,
    /// Exact and normalized matches (each labelled with its best class).
    Normalized,
    /// `?` and `*` patterns over the keyed forms; every hit is labelled `wildcard`.
    Wildcard,
    /// Every marking within `max_edits`, labelled by its best class: the same as `auto` without
    /// wildcards.
    Fuzzy,
}

impl Mode {
    /// Parses the contract's `--mode` value.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "auto" => Some(Mode::Auto),
            "exact" => Some(Mode::Exact),
            "normalized" => Some(Mode::Normalized),
            "wildcard" => Some(Mode::Wildcard),
            "fuzzy" => Some(Mode::Fuzzy),
            _ => None,
        }
    }

    /// The contract's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Exact => "exact",
            Mode::Normalized => "normalized",
            Mode::Wildcard => "wildcard",
            Mode::Fuzzy => "fuzzy",
        }
    }
}

/// The class of a match, best first (the derived order is the ranking order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchClass {
    /// `C(query) = C(marking)`.
    Exact,
    /// A keyed form of the query equals a keyed form of the marking.
    Normalized,
    /// The wildcard pattern matches a keyed form of the marking.
    Wildcard,
    /// A keyed form of the query is within `max_edits` of a keyed form of the marking.
    Fuzzy,
}

impl MatchClass {
    /// The contract's name of the class (`"exact"`, `"normalized"`, `"wildcard"`, `"fuzzy"`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchClass::Exact => "exact",
            MatchClass::Normalized => "normalized",
            MatchClass::Wildcard => "wildcard",
            MatchClass::Fuzzy => "fuzzy",
        }
    }
}

impl fmt::Display for MatchClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A search request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The marking as typed, in any script; `?` and `*` are wildcards in `auto` and `wildcard`.
    pub text: String,
    pub mode: Mode,
    /// 0, 1 or 2 (the contract's `--max-edits`, default 1).
    pub max_edits: u8,
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    /// Country of manufacture.
    pub country: Option<String>,
    /// Current status of the item.
    pub status: Option<String>,
    /// `false` (the default): serial-like markings only (`serial`, `import`, `lot`,
    /// `headstamp`); `true`: markings of every kind.
    pub any_kind: bool,
    /// Number of hits returned (default 50); `total` counts all matches.
    pub limit: usize,
    /// Need-to-know: `None` (the default) searches every item; `Some(agencies)` leaves out
    /// the items whose custodian ([`crate::ItemAttrs::custodian`]) is not listed, from the
    /// hits and from `total` alike.
    pub custodians: Option<Vec<String>>,
}

impl Query {
    /// A query with the contract's defaults: `auto`, one edit, serial-like kinds, 50 hits.
    pub fn new(text: impl Into<String>) -> Self {
        Query {
            text: text.into(),
            mode: Mode::Auto,
            max_edits: DEFAULT_MAX_EDITS,
            make: None,
            model: None,
            calibre: None,
            country: None,
            status: None,
            any_kind: false,
            limit: DEFAULT_LIMIT,
            custodians: None,
        }
    }
}

/// One matching marking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The item key.
    pub item: String,
    /// The marking text exactly as recorded.
    pub marking: String,
    /// The marking kind (`serial`, `import`, …).
    pub kind: String,
    pub match_class: MatchClass,
    /// Edit distance between the keyed forms (0 unless `fuzzy`).
    pub distance: u8,
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    pub status: String,
}

/// The answer to a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchResult {
    /// Number of matching markings (after filters), whatever the limit.
    pub total: usize,
    /// The best `limit` matches: by class, then distance, then item key, then marking text.
    pub hits: Vec<Hit>,
    /// Set when a scan limit cut the search short (the index applies none today, so this is
    /// always `None`; the field keeps the API stable should one be needed).
    pub capped: Option<String>,
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is empty: type the marking's letters and digits")]
    Empty,
    #[error("the query has no letter or digit (only separators such as spaces, hyphens or dots)")]
    NoLettersOrDigits,
    #[error("the query is {chars} characters long; the limit is {MAX_QUERY_CHARS}")]
    TooLong { chars: usize },
    #[error("the query is {chars} characters long once normalized; the limit is {MAX_KEY_CHARS}")]
    KeyTooLong { chars: usize },
    #[error("max_edits is {0}; it must be 0, 1 or 2")]
    MaxEdits(u8),
    #[error("the {field} filter has no letter or digit")]
    EmptyFilter { field: &'static str },
}

/// One token of a keyed wildcard pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tok {
    /// One character of the keyed form.
    Lit(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, possibly empty.
    Star,
}

/// Whether the text has a wildcard character, after NFKC (so fullwidth `？` and `＊` count).
pub fn has_wildcard(text: &str) -> bool {
    text.nfkc().any(|c| c == '?' || c == '*')
}

/// The two keyed patterns (visual, phonetic) of a wildcard query: the text is NFKC-normalized,
/// split at `?` and `*`, and each literal run is keyed like a marking (`F(T(C(run)))`).
/// Consecutive stars are merged (`**` means the same as `*`).
pub fn wildcard_patterns(text: &str) -> (Vec<Tok>, Vec<Tok>) {
    let mut visual = Vec::new();
    let mut phonetic = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, visual: &mut Vec<Tok>, phonetic: &mut Vec<Tok>| {
        if run.is_empty() {
            return;
        }
        let c = canonical(run);
        visual.extend(visual_key_of_canonical(&c).chars().map(Tok::Lit));
        phonetic.extend(phonetic_key_of_canonical(&c).chars().map(Tok::Lit));
        run.clear();
    };
    let push = |pat: &mut Vec<Tok>, t: Tok| {
        if t == Tok::Star && pat.last() == Some(&Tok::Star) {
            return;
        }
        pat.push(t);
    };
    for c in text.nfkc() {
        match c {
            '?' | '*' => {
                flush(&mut run, &mut visual, &mut phonetic);
                let t = if c == '?' { Tok::One } else { Tok::Star };
                push(&mut visual, t);
                push(&mut phonetic, t);
            }
            other => run.push(other),
        }
    }
    flush(&mut run, &mut visual, &mut phonetic);
    (visual, phonetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_key_literals_like_markings() {
        let (v, p) = wildcard_patterns("р?-1**");
        assert_eq!(v, vec![Tok::Lit('P'), Tok::One, Tok::Lit('1'), Tok::Star]);
        assert_eq!(p, vec![Tok::Lit('R'), Tok::One, Tok::Lit('1'), Tok::Star]);
        assert!(has_wildcard("5？1"));
        assert!(!has_wildcard("561"));
        let (v, _) = wildcard_patterns("5？1");
        assert_eq!(v, vec![Tok::Lit('5'), Tok::One, Tok::Lit('1')]);
    }

    #[test]
    fn mode_names_round_trip() {
        for m in [
            Mode::Auto,
            Mode::Exact,
            Mode::Normalized,
            Mode::Wildcard,
            Mode::Fuzzy,
        ] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("fuzzzy"), None);
    }
}

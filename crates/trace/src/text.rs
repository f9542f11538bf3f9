//! Checked text and identifiers used throughout a trace.
//!
//! A trace request crosses a border and ends up on another state's screen and in its ledger,
//! so every string in it is checked once, when it is parsed, and is never empty, never carries
//! control characters (which can hide text or break the printed form) and has a bound on its
//! length. Code that holds a [`Line`] or a [`Text`] does not check it again.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest [`Line`]: names, references, short labels.
pub const MAX_LINE_CHARS: usize = 256;
/// Longest [`Text`]: explanations, narratives, legal bases.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest [`TraceId`]: long enough for any national case numbering.
pub const MAX_ID_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty or only white space")]
    Empty,
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("contains a control character (U+{code:04X})")]
    Control { code: u32 },
    #[error("must be on one line")]
    LineBreak,
    #[error("has leading or trailing white space")]
    Padded,
    #[error("{0}")]
    Format(String),
}

fn check(s: &str, max: usize, multiline: bool) -> Result<(), TextError> {
    if s.trim().is_empty() {
        return Err(TextError::Empty);
    }
    if s.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    for c in s.chars() {
        if c == '\n' || c == '\r' {
            if !multiline {
                return Err(TextError::LineBreak);
            }
            continue;
        }
        if c.is_control() && c != '\t' {
            return Err(TextError::Control { code: c as u32 });
        }
    }
    Ok(())
}

macro_rules! checked_string {
    ($(#[$m:meta])* $name:ident, $check:expr) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, TextError> {
                let check: fn(&str) -> Result<(), TextError> = $check;
                check(s)?;
                Ok($name(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(s: String) -> Result<Self, TextError> {
                let check: fn(&str) -> Result<(), TextError> = $check;
                check(&s)?;
                Ok($name(s))
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

checked_string!(
    /// A short single-line value: a name, a reference, a label. Kept exactly as given.
    Line,
    |s| check(s, MAX_LINE_CHARS, false)
);

checked_string!(
    /// Free text of one or more lines: an explanation, a narrative, a legal basis. Kept exactly
    /// as given (the officer's words are evidence of what was asked and answered).
    Text,
    |s| check(s, MAX_TEXT_CHARS, true)
);

checked_string!(
    /// What a marking says, exactly as seen, in any script. Never trimmed or normalised: the
    /// requested state searches its records with its own normalisation, and needs the raw
    /// characters (Cyrillic Р and Latin P are different evidence).
    MarkingText,
    |s| check(s, MAX_LINE_CHARS, false)
);

checked_string!(
    /// The requesting node's identifier of a trace. It travels with every message of the
    /// trace and links a chained trace to its parent, so it has the same rules as an item key.
    TraceId,
    |s| {
        check(s, MAX_ID_CHARS, false)?;
        if s.trim() != s {
            return Err(TextError::Padded);
        }
        Ok(())
    }
);

checked_string!(
    /// The content hash of a photograph, `sha256:` and 64 lower-case hex digits. The photo
    /// itself travels separately; the hash lets both states prove they looked at the same image.
    PhotoHash,
    |s| {
        let hex = s.strip_prefix("sha256:").ok_or_else(|| {
            TextError::Format(format!("'{s}' is not a photo hash (sha256: and 64 hex digits)"))
        })?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(TextError::Format(format!(
                "'{s}' is not a photo hash (sha256: and 64 lower-case hex digits)"
            )));
        }
        Ok(())
    }
);

/// A usefulness rating from 1 (useless) to 5 (decisive): the feedback UNIDIR recommends
/// requesters give, so that answering states learn what helps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub fn new(value: u8) -> Result<Self, TextError> {
        if (1..=5).contains(&value) {
            Ok(Rating(value))
        } else {
            Err(TextError::Format(format!(
                "a rating is 1 to 5, not {value}"
            )))
        }
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = TextError;
    fn try_from(v: u8) -> Result<Self, TextError> {
        Rating::new(v)
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> u8 {
        r.0
    }
}

/// A calendar year of manufacture or import, within the range the interchange format accepts
/// (1800–2100), so a request never names a year the registry would refuse.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct Year(i32);

impl Year {
    pub fn new(year: i32) -> Result<Self, TextError> {
        if (1800..=2100).contains(&year) {
            Ok(Year(year))
        } else {
            Err(TextError::Format(format!(
                "{year} is not a plausible year (1800 to 2100)"
            )))
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i32> for Year {
    type Error = TextError;
    fn try_from(v: i32) -> Result<Self, TextError> {
        Year::new(v)
    }
}

impl From<Year> for i32 {
    fn from(y: Year) -> i32 {
        y.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_texts() {
        assert!(Line::parse("Directorate of Criminal Investigations").is_ok());
        assert_eq!(Line::parse("   "), Err(TextError::Empty));
        assert_eq!(Line::parse("a\nb"), Err(TextError::LineBreak));
        assert_eq!(Line::parse("a\u{7}"), Err(TextError::Control { code: 7 }));
        assert!(Line::parse(&"x".repeat(257)).is_err());
        assert!(Text::parse("line one\nline two\tend").is_ok());
        assert!(
            Text::parse("bidi \u{202e} override").is_ok(),
            "format chars are not controls"
        );
        assert!(MarkingText::parse("АК 1976 № 12З45").is_ok());
        assert_eq!(TraceId::parse(" T-1"), Err(TextError::Padded));
    }

    #[test]
    fn photo_hashes() {
        let ok = format!("sha256:{}", "ab".repeat(32));
        assert!(PhotoHash::parse(&ok).is_ok());
        assert!(PhotoHash::parse(&ok.to_uppercase()).is_err());
        assert!(PhotoHash::parse("md5:00").is_err());
        assert!(PhotoHash::parse(&format!("sha256:{}", "a".repeat(63))).is_err());
    }

    #[test]
    fn serde_refuses_what_parse_refuses() {
        assert!(serde_json::from_str::<Line>("\"\"").is_err());
        assert_eq!(
            serde_json::from_str::<Line>("\"DCI\"").unwrap().as_str(),
            "DCI"
        );
        assert!(serde_json::from_str::<Rating>("0").is_err());
        assert!(serde_json::from_str::<Rating>("6").is_err());
        assert_eq!(serde_json::from_str::<Rating>("5").unwrap().get(), 5);
    }
}

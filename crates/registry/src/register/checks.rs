//! What deserves a clerk's look in a register without stopping its import: likely duplicates
//! and suspicious serials. Every finding is a warning; the rules that refuse records are the
//! engine's.
//!
//! - **Likely duplicates**: the same serial and the same make under different keys — twice in
//!   the files being imported, or once in them and once in the store. Serials are compared by
//!   their normalized form (`F(T_visual(C(s)))`, docs/SEARCH.md), so `АК 0123` typed in
//!   Cyrillic and `AK-O123` typed in Latin with a letter O are one serial; makes by `C()`.
//!   Registers are merged from police, defence and civilian books that often hold the same
//!   weapon twice; the registry keeps one item per weapon, so a clerk decides.
//! - **Suspicious serials**: no letter or digit at all, a placeholder (`N/A`, `000000`,
//!   `sans numéro`…), Latin mixed with Cyrillic or Greek letters in one serial (a look-alike
//!   typed by mistake), a letter O, I or L among digits (a misread zero or one), or fewer than
//!   three characters.

use super::{Category, RowProblem};
use crate::node::Node;
use crate::search::SearchIndex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use tracemark_search::normalize::{self, canonical};
use tracemark_search::{Index, Mode, Query};

/// The store's search index, when the store holds anything to compare with.
pub fn store_index(node: &Node) -> Option<SearchIndex> {
    match node.store.ledger_size() {
        Ok(0) | Err(_) => None,
        Ok(_) => crate::search::open(node).ok(),
    }
}

/// The first row a serial was seen on.
struct Seen {
    key_hash: u64,
    file: u32,
    row: u64,
}

/// Runs the checks row by row over every file of one import.
pub struct Checks<'a> {
    store: Option<&'a Index>,
    files: Vec<String>,
    seen: HashMap<u64, Seen>,
}

/// A fixed-key hash: the table holds hashes, not texts, to keep its memory small, so the
/// hasher must not vary between runs (results would not, but reproducibility of reports does).
fn fixed_hash(parts: &[&str]) -> u64 {
    #[allow(deprecated)] // SipHasher's fixed keys are exactly what is wanted here
    let mut h = std::hash::SipHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

fn text<'v>(m: &'v Map<String, Value>, field: &str) -> Option<&'v str> {
    m.get(field).and_then(Value::as_str)
}

impl<'a> Checks<'a> {
    pub fn new(store: Option<&'a Index>) -> Self {
        Checks {
            store,
            files: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Checks the item record of one row; `fi` numbers the files of the import from 0.
    pub fn row(
        &mut self,
        file: &str,
        fi: usize,
        row: u64,
        item: &Map<String, Value>,
    ) -> Vec<RowProblem> {
        while self.files.len() <= fi {
            self.files.push(file.to_owned());
        }
        let key = text(item, "key").unwrap_or_default().to_owned();
        let make = text(item, "make").map(str::to_owned);
        let mut out = Vec::new();
        let warn = |message: String, suggestion: &str, category: Category| RowProblem {
            file: file.to_owned(),
            row,
            column: None,
            header: None,
            severity: "warning",
            category,
            field: String::new(),
            message,
            suggestion: Some(suggestion.to_owned()),
            key: Some(key.clone()),
        };
        let markings = item
            .get("markings")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, m) in markings.iter().enumerate() {
            let Some(m) = m.as_object() else { continue };
            if text(m, "kind") != Some("serial") {
                continue;
            }
            let Some(serial) = text(m, "text") else {
                continue;
            };
            let field = format!("markings[{i}].text");
            if let Some((message, suggestion)) = suspicious(serial) {
                let mut p = warn(message, suggestion, Category::Suspicious);
                p.field = field.clone();
                out.push(p);
            }
            let visual = normalize::keys(serial).visual;
            if visual.chars().count() < 3 {
                continue;
            }
            let make_c = make.as_deref().map(canonical).unwrap_or_default();
            let key_hash = fixed_hash(&[&key]);
            let slot = fixed_hash(&[&visual, &make_c]);
            match self.seen.get(&slot) {
                Some(s) if s.key_hash != key_hash => {
                    let at = if s.file as usize == fi {
                        format!("row {}", s.row)
                    } else {
                        format!(
                            "row {} of {}",
                            s.row,
                            self.files.get(s.file as usize).map_or("", String::as_str)
                        )
                    };
                    let mut p = warn(
                        format!(
                            "serial '{serial}'{} is also on {at}, under another key: the same weapon entered twice?",
                            make.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
                        ),
                        "compare the two rows; if they are one weapon, keep one of them (or give both the same key)",
                        Category::LikelyDuplicate,
                    );
                    p.field = field.clone();
                    out.push(p);
                }
                Some(_) => {}
                None => {
                    self.seen.insert(
                        slot,
                        Seen {
                            key_hash,
                            file: u32::try_from(fi).unwrap_or(u32::MAX),
                            row,
                        },
                    );
                }
            }
            if let Some(index) = self.store {
                let mut q = Query::new(serial);
                q.mode = Mode::Normalized;
                q.make = make.clone();
                q.limit = 3;
                if let Ok(r) = index.search(&q) {
                    for hit in r.hits.iter().filter(|h| h.item != key) {
                        let mut p = warn(
                            format!(
                                "serial '{serial}'{} is already recorded under key '{}' (marking '{}', status {})",
                                make.as_deref().map(|m| format!(" ({m})")).unwrap_or_default(),
                                hit.item,
                                hit.marking,
                                hit.status
                            ),
                            "if it is the same weapon, use the recorded key for this row instead of a new one",
                            Category::LikelyDuplicate,
                        );
                        p.field = field.clone();
                        out.push(p);
                    }
                }
            }
        }
        out
    }
}

/// Canonical forms that stand for "no serial" rather than a serial.
const PLACEHOLDERS: &[&str] = &[
    "NA",
    "NONE",
    "NIL",
    "NULL",
    "UNKNOWN",
    "NOSERIAL",
    "NOSN",
    "SN",
    "ILLEGIBLE",
    "UNREADABLE",
    "INCONNU",
    "ILLISIBLE",
    "SANSNUMERO",
    "SANSNUMÉRO",
    "DESCONOCIDO",
    "ILEGIBLE",
    "SINNUMERO",
    "SINNÚMERO",
    "DESCONHECIDO",
    "SEMNUMERO",
    "SEMNÚMERO",
    "NEANT",
    "NÉANT",
    "TBD",
];

#[derive(PartialEq, Eq, Clone, Copy)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Other,
}

fn script(c: char) -> Script {
    match c {
        'A'..='Z' | 'a'..='z' | '\u{C0}'..='\u{24F}' => Script::Latin,
        '\u{400}'..='\u{52F}' => Script::Cyrillic,
        '\u{370}'..='\u{3FF}' => Script::Greek,
        _ => Script::Other,
    }
}

/// Why a serial's form is suspicious, and what to do, if it is.
pub fn suspicious(serial: &str) -> Option<(String, &'static str)> {
    let c = canonical(serial);
    if c.is_empty() {
        return Some((
            format!("serial '{serial}' has no letter or digit"),
            "type the serial as stamped; if the weapon has none, leave the cell empty and say so in a note",
        ));
    }
    let first = c.chars().next().unwrap_or('0');
    if PLACEHOLDERS.contains(&c.as_str())
        || (c.chars().count() >= 3 && c.chars().all(|x| x == first))
    {
        return Some((
            format!("serial '{serial}' looks like a placeholder, not a serial"),
            "leave the serial empty and say why in a note (obliterated, never marked), or type what is stamped",
        ));
    }
    let letters: Vec<(char, Script)> = c
        .chars()
        .filter(|x| x.is_alphabetic())
        .map(|x| (x, script(x)))
        .collect();
    let latin = letters.iter().any(|(_, s)| *s == Script::Latin);
    for other in [Script::Cyrillic, Script::Greek] {
        let odd: String = letters
            .iter()
            .filter(|(_, s)| *s == other)
            .map(|(x, _)| *x)
            .collect();
        if latin && !odd.is_empty() {
            let name = if other == Script::Cyrillic {
                "Cyrillic"
            } else {
                "Greek"
            };
            return Some((
                format!("serial '{serial}' mixes Latin and {name} letters ({odd}): a look-alike letter typed by mistake?"),
                "check which script is stamped on the weapon and type every letter in it (search finds both forms either way)",
            ));
        }
    }
    let digits = c.chars().filter(char::is_ascii_digit).count();
    let misread: Vec<char> = c.chars().filter(|x| matches!(x, 'O' | 'I' | 'L')).collect();
    if digits >= 4 && !misread.is_empty() && digits + misread.len() == c.chars().count() {
        return Some((
            format!(
                "serial '{serial}' has the letter {} among digits: a misread {}?",
                misread[0],
                if misread[0] == 'O' { "zero" } else { "one" }
            ),
            "look at the stamp again; type the digit if it is one",
        ));
    }
    if c.chars().count() < 3 {
        return Some((
            format!("serial '{serial}' has only {} character(s): is it complete?", c.chars().count()),
            "type the whole serial; for a partly obliterated one, record what is legible and set the marking's legibility",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspicious_forms() {
        for (s, want) in [
            ("N/A", Some("placeholder")),
            ("000000", Some("placeholder")),
            ("sans numéro", Some("placeholder")),
            ("--", Some("no letter")),
            ("AK 12З45", Some("Cyrillic")),
            ("ΑΚ12345", None),
            ("АК12345", None),
            ("12O456", Some("zero")),
            ("1234I", Some("one")),
            ("AB", Some("complete")),
            ("5612345", None),
            ("KE-2019-000123", None),
            ("٥٦١٢٣٤٥", None),
        ] {
            let got = suspicious(s).map(|(m, _)| m);
            match want {
                None => assert!(got.is_none(), "{s}: {got:?}"),
                Some(w) => assert!(
                    got.as_deref().is_some_and(|m| m.contains(w)),
                    "{s}: {got:?}, wanted {w}"
                ),
            }
        }
    }

    #[test]
    fn duplicates_across_rows_and_scripts() {
        let item = |key: &str, serial: &str, make: &str| {
            serde_json::json!({"key": key, "make": make, "markings": [{"kind": "serial", "text": serial}]})
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        let mut c = Checks::new(None);
        assert!(c
            .row("a.csv", 0, 2, &item("K1", "АК 0123", "Izhmash"))
            .is_empty());
        // Same weapon typed in Latin with a letter O, same make spelled differently.
        let p = c.row("a.csv", 0, 3, &item("K2", "AK-O123", "IZHMASH"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].category, Category::LikelyDuplicate);
        assert!(p[0].message.contains("row 2"), "{}", p[0].message);
        // Same key again: the same item (a re-import), not a duplicate.
        assert!(c
            .row("b.csv", 1, 2, &item("K1", "AK0123", "Izhmash"))
            .is_empty());
        // Another make: another weapon.
        assert!(c
            .row("b.csv", 1, 3, &item("K3", "AK0123", "Norinco"))
            .is_empty());
        let p = c.row("b.csv", 1, 4, &item("K4", "ak 0123", "izhmash"));
        assert!(p[0].message.contains("row 2 of a.csv"), "{}", p[0].message);
    }
}

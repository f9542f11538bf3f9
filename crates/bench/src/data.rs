//! The benchmark's data: markings from the project's own generator (`tracemark_generate`), parsed
//! from its JSON Lines as they are written, with the contract keys of every marking precomputed.

use std::collections::HashMap;
use std::io::{self, Write};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use tracemark_generate::{generate, GenerateOptions};

/// Markings per generated item, measured on the generator's output (1.90 at 100k items); used
/// only to size the first generation attempt.
const MARKINGS_PER_ITEM: f64 = 1.9;

/// Strings in one arena, addressed by ordinal.
#[derive(Default)]
pub struct Strs {
    text: String,
    ends: Vec<u32>,
}

impl Strs {
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes allocated.
    pub fn bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }

    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

/// Distinct strings (kinds, makes…), addressed by ordinal.
#[derive(Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    pub strings: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }

    pub fn get(&self, id: u32) -> Option<&str> {
        self.strings.get(id as usize).map(String::as_str)
    }
}

/// Absent attribute.
pub const NONE: u32 = u32::MAX;

/// Every marking of the benchmark, column-wise; marking ids are `0..len()`, contiguous per item.
#[derive(Default)]
pub struct Dataset {
    pub item_keys: Strs,
    /// Per item: make, model, calibre, country of manufacture (ids into `values`, or [`NONE`]).
    pub item_attrs: Vec<[u32; 4]>,
    /// Per item: its first marking id (plus one final entry: `len()`).
    pub item_first: Vec<u32>,
    pub values: Interner,
    pub kinds: Interner,
    pub m_item: Vec<u32>,
    pub m_kind: Vec<u32>,
    pub m_text: Strs,
    /// Generated items whose markings were all taken.
    pub items_generated: u64,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.m_text.len()
    }

    pub fn item_count(&self) -> usize {
        self.item_keys.len()
    }

    pub fn kind(&self, m: usize) -> &str {
        self.kinds.get(self.m_kind[m]).unwrap_or("")
    }

    pub fn attr(&self, item: usize, slot: usize) -> Option<&str> {
        self.values.get(self.item_attrs[item][slot])
    }

    /// The marking ids of an item.
    pub fn markings_of(&self, item: usize) -> std::ops::Range<usize> {
        self.item_first[item] as usize..self.item_first[item + 1] as usize
    }
}

#[derive(Deserialize)]
struct ItemLine {
    key: String,
    make: Option<String>,
    model: Option<String>,
    calibre: Option<String>,
    country_of_manufacture: Option<String>,
    #[serde(default)]
    markings: Vec<MarkingLine>,
}

#[derive(Deserialize)]
struct MarkingLine {
    kind: String,
    text: String,
}

/// A `Write` that parses the generator's item lines as they come and stops the generator (with
/// an error it recognizes) once it has `target` markings.
struct Sink {
    target: usize,
    buf: Vec<u8>,
    data: Dataset,
    full: bool,
    parse_error: Option<String>,
}

const ITEM_PREFIX: &[u8] = br#"{"record":"item""#;

impl Sink {
    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        if !line.starts_with(ITEM_PREFIX) {
            return Ok(());
        }
        let item: ItemLine = match serde_json::from_slice(line) {
            Ok(item) => item,
            Err(e) => {
                self.parse_error = Some(e.to_string());
                return Err(io::Error::other("unparsable item line"));
            }
        };
        let d = &mut self.data;
        let idx = d.item_keys.len() as u32;
        d.item_keys.push(&item.key);
        let mut attr = |v: &Option<String>| v.as_deref().map_or(NONE, |s| d.values.intern(s));
        let attrs = [
            attr(&item.make),
            attr(&item.model),
            attr(&item.calibre),
            attr(&item.country_of_manufacture),
        ];
        d.item_attrs.push(attrs);
        d.item_first.push(d.m_text.len() as u32);
        for m in &item.markings {
            if d.m_text.len() >= self.target {
                break;
            }
            d.m_item.push(idx);
            d.m_kind.push(d.kinds.intern(&m.kind));
            d.m_text.push(&m.text);
        }
        d.items_generated += 1;
        if d.m_text.len() >= self.target {
            self.full = true;
            return Err(io::Error::other("enough markings"));
        }
        Ok(())
    }
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.full {
            return Err(io::Error::other("enough markings"));
        }
        let mut rest = bytes;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if self.buf.is_empty() {
                self.line(&rest[..nl])?;
            } else {
                self.buf.extend_from_slice(&rest[..nl]);
                let line = std::mem::take(&mut self.buf);
                self.line(&line)?;
            }
            rest = &rest[nl + 1..];
        }
        self.buf.extend_from_slice(rest);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Exactly `target` markings of `generate(items, seed, "KE")`, the first `target` in file order
/// (the last item may lose its last markings). The item count is estimated from the generator's
/// markings-per-item ratio and raised if that was not enough.
pub fn load(target: usize, seed: u64) -> Result<Dataset> {
    let mut items = ((target as f64 / MARKINGS_PER_ITEM) * 1.1) as u64 + 100;
    loop {
        let mut sink = Sink {
            target,
            buf: Vec::new(),
            data: Dataset::default(),
            full: false,
            parse_error: None,
        };
        let opts = GenerateOptions {
            items,
            seed,
            state: "KE".into(),
        };
        let res = generate(&opts, &mut sink);
        if let Some(e) = sink.parse_error {
            bail!("cannot parse a generated item line: {e}");
        }
        if !sink.full {
            res.context("generating data")?;
            // Ran out of items before reaching the target: generate more.
            items = items * 3 / 2 + 100;
            continue;
        }
        let mut d = sink.data;
        d.item_first.push(d.m_text.len() as u32);
        d.m_text.shrink_to_fit();
        d.item_keys.shrink_to_fit();
        return Ok(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_exactly_the_requested_markings() {
        let d = load(1000, 7).unwrap();
        assert_eq!(d.len(), 1000);
        assert_eq!(d.m_item.len(), 1000);
        assert_eq!(*d.item_first.last().unwrap() as usize, 1000);
        assert!(d.item_count() > 300 && d.item_count() < 1000);
        for item in 0..d.item_count() {
            for m in d.markings_of(item) {
                assert_eq!(d.m_item[m] as usize, item);
            }
        }
        // Deterministic.
        let e = load(1000, 7).unwrap();
        assert!((0..1000).all(|m| d.m_text.get(m) == e.m_text.get(m)));
    }

    #[test]
    fn arena_round_trips() {
        let mut s = Strs::default();
        for t in ["", "ПА 1234", "x"] {
            s.push(t);
        }
        assert_eq!(s.get(0), "");
        assert_eq!(s.get(1), "ПА 1234");
        assert_eq!(s.get(2), "x");
    }
}

//! The in-memory identification index: every marking of every item, answering the four match
//! classes of the contract with its ranking, filters and `total`.
//!
//! # Design
//!
//! * **Markings** are stored column-wise: item ordinal (`u32`), kind (`u16`, interned), the text
//!   exactly as recorded (one string arena with `u32` offsets), and a link to the item's previous
//!   marking (`u32`), so that an item's markings can be listed.
//! * **Keys.** Each marking contributes its visual key and, when different, its phonetic key to
//!   a forward [`RunSet`] (sorted runs of keys; see [`crate::runs`]) and, reversed character by
//!   character, to a reverse `RunSet`. The canonical form `C` is not stored: `exact` implies
//!   equal keys, so exact matches are found among the key matches and confirmed by recomputing
//!   `C` of their text.
//! * **Items** are stored column-wise too: key (string arena), first marking, and one `u32`
//!   naming the item's (make, model, calibre, country, status) combination, interned (items
//!   share a few combinations; a status change re-points the item). A hash table of ordinals
//!   finds an item by key, and a `RunSet` of item keys lists items in key order (used to rank
//!   large result sets without sorting them).
//!
//! # Query evaluation
//!
//! * `exact` / `normalized`: binary search of each query key in each run.
//! * `fuzzy` (and `auto`): depth-first walks of the runs' implicit tries with a banded
//!   optimal-string-alignment automaton per query key. The walk is split (see `runs::Osa`): at
//!   most `⌊k/2⌋` edits in the first half of the query, walked forwards, or else at most
//!   `k - ⌊k/2⌋ - 1` in the second half, walked backwards over the reversed keys; every match
//!   within `k` is found by one of the two at its true distance.
//! * `wildcard`: the pattern is matched against the forward runs when it begins with a literal
//!   (after at most three `?`), against the reverse runs when it ends with one, and otherwise by a
//!   `memmem` scan of the key arenas for its longest literal run, each hit verified; a pattern of
//!   only `?` and `*` compares key lengths; `*` alone takes its total from per-kind counters (or
//!   one pass over the columns when attributes are filtered) and its hits from the first items
//!   in key order. None of these is capped: every admitted match is counted.
//! * Candidates are deduplicated per marking (best class and distance kept), filtered (kind,
//!   then the item's attributes compared on `C`) and ranked by class, distance, item key (byte
//!   order), marking text, kind. Only the best `limit` are ordered: a small group is sorted; a
//!   large one is taken by walking items in key order until `limit` markings are found (fast
//!   when matches are dense), falling back to a bounded heap when that walk would be long.
//!
//! # Updates
//!
//! [`Index::upsert_item`] and [`Index::add_marking`] are cheap (amortized O(log n) copying, see
//! [`crate::runs`]); after a bulk load, [`Index::compact`] and [`Index::shrink_to_fit`] merge the
//! runs into one and release spare capacity. Markings are never removed: the index is derived
//! data, rebuilt (or read from a snapshot) when markings change otherwise.
//!
//! # Modes
//!
//! `auto` is wildcard if the query has `?`/`*`, else exact + normalized + fuzzy. Explicit
//! `exact` returns only exact matches; `normalized` returns exact and normalized matches, each
//! labelled with its best class; `fuzzy` returns every marking within `max_edits` labelled with
//! its best class (the same as `auto` without wildcards, so distance-0 matches are included as
//! `exact`/`normalized`); `wildcard` labels every hit `wildcard` (distance 0), even when the
//! pattern has no wildcard character.

use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::normalize::{canonical, keys, phonetic_key_of_canonical, visual_key_of_canonical};
use crate::query::{
    has_wildcard, wildcard_patterns, Hit, MatchClass, Mode, Query, QueryError, SearchResult, Tok,
    MAX_EDITS, MAX_KEY_CHARS, MAX_QUERY_CHARS,
};
use crate::runs::{cmp_bytes, glob_match, Glob, Osa, Run, RunSet, Tuning};

/// The marking kinds searched by default (`--kind serial`). Serials on components are
/// `serial` markings whatever their component.
pub const SERIAL_LIKE_KINDS: [&str; 4] = ["serial", "import", "lot", "headstamp"];

/// The attributes of an item that search filters on and returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemAttrs {
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    /// Country of manufacture (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Current status (`in_service`, `reported_stolen`, …).
    pub status: String,
    /// The agency whose need-to-know holdings include the item, if any: queries may be
    /// restricted to items without one or with one of theirs ([`Query::custodians`]).
    pub custodian: Option<String>,
}

/// Why an update of the index was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("item {0:?} is not in the search index; upsert the item before its markings")]
    UnknownItem(String),
    #[error("the search index is full: {0}")]
    Capacity(&'static str),
}

/// Sentinel for an absent attribute.
pub(crate) const NONE: u32 = u32::MAX;

/// Slots of an attribute combination.
pub(crate) const COMBO_SLOTS: usize = 6;
pub(crate) const STATUS_SLOT: usize = 4;
pub(crate) const CUSTODIAN_SLOT: usize = 5;
/// An item's attribute combination: make, model, calibre, country (ids into `values`),
/// status (into `statuses`), custodian (into `custodians`).
pub(crate) type Combo = [u32; COMBO_SLOTS];

/// Strings in one arena, addressed by ordinal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StrArena {
    pub(crate) text: String,
    /// `len() + 1` offsets, the first 0.
    pub(crate) starts: Vec<u32>,
}

impl Default for StrArena {
    fn default() -> Self {
        StrArena {
            text: String::new(),
            starts: vec![0],
        }
    }
}

impl StrArena {
    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub(crate) fn get(&self, i: usize) -> &str {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&a), Some(&b)) => self.text.get(a as usize..b as usize).unwrap_or(""),
            _ => "",
        }
    }

    fn push(&mut self, s: &str) -> Result<(), IndexError> {
        if self.text.len() + s.len() > u32::MAX as usize {
            return Err(IndexError::Capacity("more than 4 GiB of text"));
        }
        self.text.push_str(s);
        self.starts.push(self.text.len() as u32);
        Ok(())
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + 4 * self.starts.capacity()
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.starts.first() != Some(&0)
            || self.starts.last().map(|&s| s as usize) != Some(self.text.len())
            || self.starts.windows(2).any(|w| w[0] > w[1])
            || self
                .starts
                .iter()
                .any(|&s| !self.text.is_char_boundary(s as usize))
        {
            return Err("string offsets are inconsistent".into());
        }
        Ok(())
    }
}

/// Distinct strings (makes, models, statuses, kinds…) with their canonical forms.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    pub(crate) strings: Vec<Box<str>>,
    canon: Vec<Box<str>>,
    map: HashMap<Box<str>, u32>,
    /// Canonical form → the ids that have it (ascending): a filter on a value is a short
    /// list found by one hash look-up, not a pass over every distinct value.
    by_canon: HashMap<Box<str>, Vec<u32>>,
}

impl Interner {
    pub(crate) fn from_strings(strings: Vec<Box<str>>) -> Result<Interner, String> {
        let mut out = Interner::default();
        for s in strings {
            if out.map.contains_key(&s) {
                return Err(format!("duplicate interned string {s:?}"));
            }
            out.intern(&s, usize::MAX)
                .map_err(|_| "too many interned strings".to_string())?;
        }
        Ok(out)
    }

    fn intern(&mut self, s: &str, max: usize) -> Result<u32, IndexError> {
        if let Some(&id) = self.map.get(s) {
            return Ok(id);
        }
        let id = self.strings.len();
        if id >= max || id >= NONE as usize {
            return Err(IndexError::Capacity("too many distinct attribute values"));
        }
        let boxed: Box<str> = s.into();
        self.strings.push(boxed.clone());
        let c: Box<str> = canonical(s).into();
        self.by_canon.entry(c.clone()).or_default().push(id as u32);
        self.canon.push(c);
        self.map.insert(boxed, id as u32);
        Ok(id as u32)
    }

    pub(crate) fn len(&self) -> usize {
        self.strings.len()
    }

    fn get(&self, id: u32) -> Option<&str> {
        self.strings.get(id as usize).map(|s| &**s)
    }

    /// The ids that have the canonical form `c`, ascending (usually one or none).
    fn ids_of(&self, c: &str) -> Vec<u32> {
        self.by_canon.get(c).cloned().unwrap_or_default()
    }

    fn heap_bytes(&self) -> usize {
        let strings: usize = self.strings.iter().map(|s| s.len()).sum::<usize>()
            + self.canon.iter().map(|s| s.len()).sum::<usize>();
        // The map holds a second copy of each string plus its slot.
        // `by_canon` holds a third copy of the canonical strings and a small list each.
        2 * strings + self.strings.len() * (16 + 16 + 24 + 8 + 16 + 24 + 4)
    }
}

/// Where the memory of an index goes, in bytes allocated (capacities, not lengths).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    pub markings: usize,
    pub items: usize,
    pub forward_keys: usize,
    pub reverse_keys: usize,
    pub item_keys_sorted: usize,
    pub item_lookup: usize,
    pub interned: usize,
    pub total: usize,
}

/// The search index. See the module documentation.
pub struct Index {
    pub(crate) tuning: Tuning,
    // Items.
    pub(crate) item_keys: StrArena,
    /// Each item's attribute combination (an index into `combos`).
    pub(crate) item_combo: Vec<u32>,
    /// Distinct (make, model, calibre, country of manufacture, status, custodian)
    /// combinations: ids into `values` (or [`NONE`]), `statuses` and `custodians` (or
    /// [`NONE`]). Items share them, so an item costs 4 bytes here.
    pub(crate) combos: Vec<Combo>,
    pub(crate) combo_lookup: HashMap<Combo, u32>,
    pub(crate) item_lookup: HashTable<u32>,
    pub(crate) hasher: hashbrown::DefaultHashBuilder,
    pub(crate) item_sorted: RunSet,
    pub(crate) values: Interner,
    pub(crate) statuses: Interner,
    pub(crate) custodians: Interner,
    pub(crate) kinds: Interner,
    // Markings.
    pub(crate) m_item: Vec<u32>,
    pub(crate) m_kind: Vec<u16>,
    pub(crate) m_text: StrArena,
    pub(crate) forward: RunSet,
    // Derived on load (not in snapshots): each item's markings as a list through `m_next`
    // (newest first), and the number of markings of each kind.
    pub(crate) item_first: Vec<u32>,
    pub(crate) m_next: Vec<u32>,
    pub(crate) kind_counts: Vec<u64>,
    pub(crate) reverse: RunSet,
}

impl Default for Index {
    fn default() -> Self {
        Index::new()
    }
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("items", &self.item_count())
            .field("markings", &self.len())
            .finish_non_exhaustive()
    }
}

/// A candidate marking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cand {
    m: u32,
    class: MatchClass,
    dist: u8,
}

/// Query filters compiled against the interned values.
struct Filter {
    /// Per kind id: searched or not.
    kind_ok: Vec<bool>,
    /// Per custodian id: whether the query may see its need-to-know holdings (`None`: all).
    custodian_ok: Option<Vec<bool>>,
    /// Per filtered slot (make, model, calibre, country, status): the value ids that pass
    /// (ascending; usually one).
    masks: Vec<(usize, Vec<u32>)>,
}

impl Filter {
    /// Whether any attribute or custodian condition applies (else every item passes).
    fn restricts_items(&self) -> bool {
        self.custodian_ok.is_some() || !self.masks.is_empty()
    }

    /// Whether an item with this attribute combination passes. Evaluated per candidate
    /// rather than precomputed for every combination: a store of a million items has
    /// hundreds of thousands of combinations, and building that table on every query cost
    /// more than the exact look-up itself.
    #[inline]
    fn combo_passes(&self, ids: &Combo) -> bool {
        let custodian = ids[CUSTODIAN_SLOT];
        let visible = custodian == NONE
            || self
                .custodian_ok
                .as_ref()
                .is_none_or(|ok| ok.get(custodian as usize).copied().unwrap_or(false));
        visible
            && self
                .masks
                .iter()
                .all(|(slot, pass)| pass.binary_search(&ids[*slot]).is_ok())
    }
}

/// A bit set over `0..n`.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    #[inline]
    fn set(&mut self, i: u32) {
        let i = i as usize;
        self.0[i / 64] |= 1 << (i % 64);
    }
    #[inline]
    fn get(&self, i: u32) -> bool {
        let i = i as usize;
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            let mut b = bits;
            std::iter::from_fn(move || {
                if b == 0 {
                    return None;
                }
                let t = b.trailing_zeros();
                b &= b - 1;
                Some(w as u32 * 64 + t)
            })
        })
    }
}

fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Index::with_tuning(Tuning::default())
    }

    /// An empty index with non-default tuning (tests use tiny buffers to exercise merges).
    #[doc(hidden)]
    pub fn with_tuning(tuning: Tuning) -> Self {
        Index {
            tuning,
            item_keys: StrArena::default(),
            item_combo: Vec::new(),
            combos: Vec::new(),
            combo_lookup: HashMap::new(),
            item_lookup: HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            item_sorted: RunSet::default(),
            values: Interner::default(),
            statuses: Interner::default(),
            custodians: Interner::default(),
            kinds: Interner::default(),
            m_item: Vec::new(),
            m_kind: Vec::new(),
            m_text: StrArena::default(),
            forward: RunSet::default(),
            item_first: Vec::new(),
            m_next: Vec::new(),
            kind_counts: Vec::new(),
            reverse: RunSet::default(),
        }
    }

    /// Number of markings.
    pub fn len(&self) -> usize {
        self.m_item.len()
    }

    /// Whether the index has no marking.
    pub fn is_empty(&self) -> bool {
        self.m_item.is_empty()
    }

    /// Number of items.
    pub fn item_count(&self) -> usize {
        self.item_combo.len()
    }

    fn find_item(&self, key: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        self.item_lookup
            .find(hash, |&i| self.item_keys.get(i as usize) == key)
            .copied()
    }

    /// Rebuilds the per-item marking lists and the kind counts from the marking columns.
    pub(crate) fn rebuild_derived(&mut self) {
        self.item_first = vec![NONE; self.item_count()];
        self.m_next = Vec::with_capacity(self.len());
        self.kind_counts = vec![0; self.kinds.len()];
        for (m, (&item, &kind)) in self.m_item.iter().zip(&self.m_kind).enumerate() {
            self.m_next.push(self.item_first[item as usize]);
            self.item_first[item as usize] = m as u32;
            self.kind_counts[usize::from(kind)] += 1;
        }
    }

    /// The markings of an item, newest first.
    fn markings_of(&self, item: u32) -> impl Iterator<Item = u32> + '_ {
        let mut m = self.item_first.get(item as usize).copied().unwrap_or(NONE);
        std::iter::from_fn(move || {
            if m == NONE {
                return None;
            }
            let here = m;
            m = self.m_next.get(m as usize).copied().unwrap_or(NONE);
            Some(here)
        })
    }

    pub(crate) fn rebuild_item_lookup(&mut self) -> Result<(), String> {
        let mut table = HashTable::with_capacity(self.item_keys.len());
        for i in 0..self.item_keys.len() {
            let key = self.item_keys.get(i);
            let hash = self.hasher.hash_one(key);
            let keys = &self.item_keys;
            let hasher = &self.hasher;
            if table
                .find(hash, |&j: &u32| keys.get(j as usize) == key)
                .is_some()
            {
                return Err(format!("duplicate item key {key:?}"));
            }
            table.insert_unique(hash, i as u32, |&j: &u32| {
                hasher.hash_one(keys.get(j as usize))
            });
        }
        self.item_lookup = table;
        Ok(())
    }

    fn intern_attrs(&mut self, attrs: &ItemAttrs) -> Result<u32, IndexError> {
        let mut ids = [NONE; COMBO_SLOTS];
        for (slot, value) in [&attrs.make, &attrs.model, &attrs.calibre, &attrs.country]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = value {
                ids[slot] = self.values.intern(v, NONE as usize)?;
            }
        }
        ids[STATUS_SLOT] = self.statuses.intern(&attrs.status, NONE as usize)?;
        if let Some(c) = &attrs.custodian {
            ids[CUSTODIAN_SLOT] = self.custodians.intern(c, NONE as usize)?;
        }
        if let Some(&c) = self.combo_lookup.get(&ids) {
            return Ok(c);
        }
        let c = self.combos.len();
        if c >= NONE as usize {
            return Err(IndexError::Capacity("too many distinct item attributes"));
        }
        self.combos.push(ids);
        self.combo_lookup.insert(ids, c as u32);
        Ok(c as u32)
    }

    /// Creates the item, or replaces its attributes (its status changes over time).
    pub fn upsert_item(&mut self, item_key: &str, attrs: ItemAttrs) -> Result<(), IndexError> {
        let combo = self.intern_attrs(&attrs)?;
        if let Some(i) = self.find_item(item_key) {
            self.item_combo[i as usize] = combo;
            return Ok(());
        }
        let ordinal = self.item_combo.len();
        if ordinal >= NONE as usize - 1 {
            return Err(IndexError::Capacity("more than 4 billion items"));
        }
        if self.item_sorted.key_bytes() + item_key.len() > u32::MAX as usize {
            return Err(IndexError::Capacity("more than 4 GiB of item keys"));
        }
        self.item_keys.push(item_key)?;
        self.item_first.push(NONE);
        self.item_combo.push(combo);
        let hash = self.hasher.hash_one(item_key);
        let keys = &self.item_keys;
        let hasher = &self.hasher;
        self.item_lookup
            .insert_unique(hash, ordinal as u32, |&j: &u32| {
                hasher.hash_one(keys.get(j as usize))
            });
        self.item_sorted
            .insert(item_key.as_bytes(), ordinal as u32, &self.tuning);
        Ok(())
    }

    /// Adds a marking (`kind` is the contract's marking kind: `serial`, `import`, `lot`,
    /// `headstamp`, `factory_code`, …) to an item that has been upserted.
    pub fn add_marking(
        &mut self,
        item_key: &str,
        text: &str,
        kind: &str,
    ) -> Result<(), IndexError> {
        let item = self
            .find_item(item_key)
            .ok_or_else(|| IndexError::UnknownItem(item_key.to_string()))?;
        let m = self.m_item.len();
        if m >= NONE as usize - 1 {
            return Err(IndexError::Capacity("more than 4 billion markings"));
        }
        let k = keys(text);
        let variants: Vec<&str> = if k.visual == k.phonetic {
            vec![&k.visual]
        } else {
            vec![&k.visual, &k.phonetic]
        };
        let added: usize = variants.iter().map(|v| v.len()).sum();
        for set in [&self.forward, &self.reverse] {
            if set.key_bytes() + added > u32::MAX as usize {
                return Err(IndexError::Capacity("more than 4 GiB of keys"));
            }
        }
        let kind = self.kinds.intern(kind, usize::from(u16::MAX))? as u16;
        self.m_text.push(text)?;
        self.m_item.push(item);
        self.m_kind.push(kind);
        self.m_next.push(self.item_first[item as usize]);
        self.item_first[item as usize] = m as u32;
        if self.kind_counts.len() <= usize::from(kind) {
            self.kind_counts.resize(usize::from(kind) + 1, 0);
        }
        self.kind_counts[usize::from(kind)] += 1;
        for v in variants {
            self.forward.insert(v.as_bytes(), m as u32, &self.tuning);
            self.reverse
                .insert(reversed(v).as_bytes(), m as u32, &self.tuning);
        }
        Ok(())
    }

    /// Merges all sorted runs into one (optional; useful after a bulk load, before a snapshot).
    pub fn compact(&mut self) {
        self.forward.compact();
        self.reverse.compact();
        self.item_sorted.compact();
    }

    /// Memory allocated by the index, by part.
    pub fn memory_usage(&self) -> MemoryUsage {
        let mut u = MemoryUsage {
            markings: 4 * self.m_item.capacity()
                + 2 * self.m_kind.capacity()
                + 4 * self.m_next.capacity()
                + self.m_text.heap_bytes(),
            items: self.item_keys.heap_bytes()
                + 4 * self.item_combo.capacity()
                + 4 * self.item_first.capacity(),
            forward_keys: self.forward.heap_bytes(),
            reverse_keys: self.reverse.heap_bytes(),
            item_keys_sorted: self.item_sorted.heap_bytes(),
            // hashbrown: one u32 slot and one control byte per bucket.
            item_lookup: self.item_lookup.allocation_size(),
            interned: self.values.heap_bytes()
                + self.statuses.heap_bytes()
                + self.custodians.heap_bytes()
                + self.combos.capacity() * 20
                + self.combo_lookup.capacity() * 28
                + self.kinds.heap_bytes(),
            total: 0,
        };
        u.total = u.markings
            + u.items
            + u.forward_keys
            + u.reverse_keys
            + u.item_keys_sorted
            + u.item_lookup
            + u.interned;
        u
    }

    /// Releases spare capacity (after a bulk load).
    pub fn shrink_to_fit(&mut self) {
        self.m_item.shrink_to_fit();
        self.m_kind.shrink_to_fit();
        self.m_next.shrink_to_fit();
        self.item_first.shrink_to_fit();
        self.m_text.text.shrink_to_fit();
        self.m_text.starts.shrink_to_fit();
        self.item_keys.text.shrink_to_fit();
        self.item_keys.starts.shrink_to_fit();
        self.item_combo.shrink_to_fit();
        let keys = &self.item_keys;
        let hasher = &self.hasher;
        self.item_lookup
            .shrink_to_fit(|&j| hasher.hash_one(keys.get(j as usize)));
    }

    // ---------------------------------------------------------------------------------------
    // Search.

    /// The need-to-know custodians that some item of the index has (or had).
    pub fn custodians(&self) -> impl Iterator<Item = &str> {
        self.custodians.strings.iter().map(|s| &**s)
    }

    /// Answers a query. See the module documentation for the semantics.
    pub fn search(&self, q: &Query) -> Result<SearchResult, QueryError> {
        let chars = q.text.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong { chars });
        }
        if q.max_edits > MAX_EDITS {
            return Err(QueryError::MaxEdits(q.max_edits));
        }
        if q.text.trim().is_empty() {
            return Err(QueryError::Empty);
        }
        let filter = self.compile_filter(q)?;
        let wildcard = q.mode == Mode::Wildcard || (q.mode == Mode::Auto && has_wildcard(&q.text));
        if wildcard {
            if let Some(result) = self.search_everything(q, filter.as_ref()) {
                return Ok(result);
            }
        }
        let cands = if wildcard {
            self.wildcard_candidates(q, filter.as_ref())?
        } else {
            self.keyed_candidates(q, filter.as_ref())?
        };
        let total = cands.len();
        let ranked = self.rank(cands, q.limit);
        let hits = ranked.into_iter().map(|c| self.hit(c)).collect();
        Ok(SearchResult {
            total,
            hits,
            capped: None,
        })
    }

    /// `*` (only stars): every marking that passes the filters. The total comes from the kind
    /// counts (or one pass over the marking columns when attributes are filtered), the hits from
    /// walking items in key order, so nothing is materialized. `None` if the query is not of
    /// that shape.
    fn search_everything(&self, q: &Query, f: Option<&Filter>) -> Option<SearchResult> {
        let (pv, _) = wildcard_patterns(&q.text);
        if pv.is_empty() || pv.iter().any(|t| *t != Tok::Star) {
            return None;
        }
        let kind_ok =
            |k: u16| f.is_none_or(|f| f.kind_ok.get(usize::from(k)).copied().unwrap_or(false));
        let combo_ok = f.filter(|f| f.restricts_items());
        let item_ok = |item: u32| {
            combo_ok.is_none_or(|f| {
                self.combos
                    .get(self.item_combo[item as usize] as usize)
                    .is_some_and(|ids| f.combo_passes(ids))
            })
        };
        // The total, and the matches themselves while they are few.
        let few = self.tuning.small_group.max(q.limit);
        let mut found: Vec<u32> = Vec::new();
        let total = match combo_ok {
            None => self
                .kind_counts
                .iter()
                .enumerate()
                .filter(|(k, _)| kind_ok(*k as u16))
                .map(|(_, &c)| usize::try_from(c).unwrap_or(usize::MAX))
                .sum(),
            Some(_) => {
                let mut total = 0usize;
                for (m, (&kind, &item)) in self.m_kind.iter().zip(&self.m_item).enumerate() {
                    if kind_ok(kind) && item_ok(item) {
                        total += 1;
                        if found.len() <= few {
                            found.push(m as u32);
                        }
                    }
                }
                total
            }
        };
        let chosen = if combo_ok.is_some() && total <= few {
            self.select(&found, q.limit)
        } else {
            // Walk items in key order; the expected walk is `limit` over the share of items
            // that match. Past a generous budget, fall back to a heap over every marking.
            let share = total.max(1);
            let expected = q
                .limit
                .saturating_mul(self.item_count().max(1))
                .div_ceil(share);
            let budget = self
                .tuning
                .item_order_budget
                .max(expected.saturating_mul(8));
            match self.first_in_item_order(
                q.limit,
                budget,
                |m| kind_ok(self.m_kind[m as usize]),
                item_ok,
            ) {
                Some(hits) => hits,
                None => self.select_by_heap(
                    (0..self.len() as u32).filter(|&m| {
                        kind_ok(self.m_kind[m as usize]) && item_ok(self.m_item[m as usize])
                    }),
                    q.limit,
                ),
            }
        };
        Some(SearchResult {
            total,
            hits: chosen
                .into_iter()
                .map(|m| {
                    self.hit(Cand {
                        m,
                        class: MatchClass::Wildcard,
                        dist: 0,
                    })
                })
                .collect(),
            capped: None,
        })
    }

    /// The first `need` markings in item-key order among items accepted by `item_ok` and
    /// markings accepted by `marking_ok`; `None` if more than `budget` items had to be visited.
    fn first_in_item_order(
        &self,
        need: usize,
        budget: usize,
        marking_ok: impl Fn(u32) -> bool,
        item_ok: impl Fn(u32) -> bool,
    ) -> Option<Vec<u32>> {
        let mut out: Vec<u32> = Vec::new();
        let mut mine: Vec<(&str, &str, u32)> = Vec::new();
        for (visited, item) in ItemOrder::new(&self.item_sorted).enumerate() {
            if out.len() >= need {
                break;
            }
            if visited >= budget {
                return None;
            }
            if !item_ok(item) {
                continue;
            }
            mine.clear();
            for m in self.markings_of(item) {
                if marking_ok(m) {
                    let (_, text, kind, m) = self.order_key(m);
                    mine.push((text, kind, m));
                }
            }
            mine.sort_unstable();
            out.extend(mine.iter().map(|k| k.2));
        }
        out.truncate(need);
        Some(out)
    }

    /// `None` if the query filters nothing; `Some(filter)` otherwise. A filter value that no
    /// item has gives a filter that rejects everything.
    fn compile_filter(&self, q: &Query) -> Result<Option<Filter>, QueryError> {
        let mut kind_ok: Vec<bool> = self
            .kinds
            .strings
            .iter()
            .map(|k| q.any_kind || SERIAL_LIKE_KINDS.iter().any(|s| s.eq_ignore_ascii_case(k)))
            .collect();
        if kind_ok.is_empty() {
            kind_ok.push(false);
        }
        // Per attribute slot, the value ids whose canonical form is the filter's.
        let mut masks: Vec<(usize, Vec<u32>)> = Vec::new();
        let fields: [(&Option<String>, &'static str); 5] = [
            (&q.make, "make"),
            (&q.model, "model"),
            (&q.calibre, "calibre"),
            (&q.country, "country"),
            (&q.status, "status"),
        ];
        for (slot, (value, field)) in fields.into_iter().enumerate() {
            if let Some(v) = value {
                let c = canonical(v);
                if c.is_empty() {
                    return Err(QueryError::EmptyFilter { field });
                }
                let interner = if slot == STATUS_SLOT {
                    &self.statuses
                } else {
                    &self.values
                };
                masks.push((slot, interner.ids_of(&c)));
            }
        }
        // Need-to-know: per custodian id, whether the query may see its holdings.
        let custodian_ok: Option<Vec<bool>> = q.custodians.as_ref().map(|allowed| {
            self.custodians
                .strings
                .iter()
                .map(|c| allowed.iter().any(|a| **a == **c))
                .collect()
        });
        if q.any_kind && masks.is_empty() && custodian_ok.is_none() {
            return Ok(None);
        }
        Ok(Some(Filter {
            kind_ok,
            custodian_ok,
            masks,
        }))
    }

    #[inline]
    fn passes(&self, f: Option<&Filter>, m: u32) -> bool {
        let Some(f) = f else { return true };
        let m = m as usize;
        if !f
            .kind_ok
            .get(usize::from(self.m_kind[m]))
            .copied()
            .unwrap_or(false)
        {
            return false;
        }
        if !f.restricts_items() {
            return true;
        }
        let combo = self.item_combo[self.m_item[m] as usize];
        self.combos
            .get(combo as usize)
            .is_some_and(|ids| f.combo_passes(ids))
    }

    /// Exact, normalized and fuzzy candidates (filtered).
    fn keyed_candidates(&self, q: &Query, f: Option<&Filter>) -> Result<Vec<Cand>, QueryError> {
        let qc = canonical(&q.text);
        if qc.is_empty() {
            return Err(QueryError::NoLettersOrDigits);
        }
        let qv = visual_key_of_canonical(&qc);
        let qp = phonetic_key_of_canonical(&qc);
        let key_chars = qv.chars().count().max(qp.chars().count());
        if key_chars > MAX_KEY_CHARS {
            return Err(QueryError::KeyTooLong { chars: key_chars });
        }
        let mut variants = vec![qv.as_str()];
        if qp != qv {
            variants.push(qp.as_str());
        }
        let mut found: Vec<(u32, u8)> = Vec::new();
        let max_edits = match q.mode {
            Mode::Exact | Mode::Normalized => 0,
            _ => q.max_edits,
        };
        if q.mode == Mode::Exact {
            // C(q) = C(m) implies visual(q) = visual(m).
            variants.truncate(1);
        }
        for v in &variants {
            let mut emit = |ids: &[u32], d: u8| found.extend(ids.iter().map(|&m| (m, d)));
            if max_edits == 0 {
                self.forward.exact(v.as_bytes(), &mut emit);
            } else {
                // Split search (see `runs::Osa`): at most `a` edits in the first half, walked
                // forwards; otherwise at most `k - a - 1` in the second half, walked backwards.
                let q: Vec<char> = v.chars().collect();
                let h = q.len() / 2;
                // With nothing before the split, the forward walk alone is complete.
                let a = if h == 0 { max_edits } else { max_edits / 2 };
                let forward = Osa::split(q.clone(), max_edits, h, a);
                self.forward
                    .walk(&forward, self.tuning.scan_small, &mut emit);
                if h > 0 {
                    let rq: Vec<char> = q.iter().rev().copied().collect();
                    let backward = Osa::split(rq, max_edits, q.len() - h, max_edits - a - 1);
                    self.reverse
                        .walk(&backward, self.tuning.scan_small, &mut emit);
                }
            }
        }
        found.sort_unstable();
        found.dedup_by_key(|(m, _)| *m);
        let mut cands = Vec::with_capacity(found.len());
        for (m, dist) in found {
            if !self.passes(f, m) {
                continue;
            }
            let class = if dist > 0 {
                MatchClass::Fuzzy
            } else if canonical(self.m_text.get(m as usize)) == qc {
                MatchClass::Exact
            } else {
                MatchClass::Normalized
            };
            if q.mode == Mode::Exact && class != MatchClass::Exact {
                continue;
            }
            cands.push(Cand { m, class, dist });
        }
        Ok(cands)
    }

    /// Wildcard candidates (filtered).
    fn wildcard_candidates(&self, q: &Query, f: Option<&Filter>) -> Result<Vec<Cand>, QueryError> {
        let (pv, pp) = wildcard_patterns(&q.text);
        if pv.is_empty() && pp.is_empty() {
            return Err(QueryError::NoLettersOrDigits);
        }
        let key_chars = pv.len().max(pp.len());
        if key_chars > MAX_KEY_CHARS {
            return Err(QueryError::KeyTooLong { chars: key_chars });
        }
        let cand = |m: u32| Cand {
            m,
            class: MatchClass::Wildcard,
            dist: 0,
        };
        let n = self.len() as u32;
        if pv.iter().all(|t| *t == Tok::Star) {
            // `*`: every marking.
            return Ok((0..n).filter(|&m| self.passes(f, m)).map(cand).collect());
        }
        let mut raw: Vec<u32> = Vec::new();
        self.pattern_matches(&pv, &mut raw);
        if pp != pv {
            self.pattern_matches(&pp, &mut raw);
        }
        let ms: Vec<u32> = if raw.len() > (n as usize / 32).max(1024) {
            let mut bits = Bits::new(n as usize);
            for &m in &raw {
                bits.set(m);
            }
            drop(raw);
            bits.ones().collect()
        } else {
            raw.sort_unstable();
            raw.dedup();
            raw
        };
        Ok(ms
            .into_iter()
            .filter(|&m| self.passes(f, m))
            .map(cand)
            .collect())
    }

    /// Appends the markings whose keys match the pattern (with duplicates).
    fn pattern_matches(&self, toks: &[Tok], out: &mut Vec<u32>) {
        let mut emit = |ids: &[u32], _d: u8| out.extend_from_slice(ids);
        if !toks.iter().any(|t| matches!(t, Tok::Lit(_))) {
            let ones = toks.iter().filter(|t| **t == Tok::One).count();
            let at_least = toks.contains(&Tok::Star);
            self.forward.length(ones, at_least, &mut emit);
            return;
        }
        let lead = |it: &mut dyn Iterator<Item = &Tok>| {
            let mut ones = 0;
            for t in it {
                match t {
                    Tok::Lit(_) => return ones,
                    Tok::One => ones += 1,
                    Tok::Star => return usize::MAX,
                }
            }
            usize::MAX
        };
        let lead_forward = lead(&mut toks.iter());
        let lead_reverse = lead(&mut toks.iter().rev());
        if lead_forward <= lead_reverse && lead_forward <= self.tuning.max_leading_ones {
            let glob = Glob::new(toks.to_vec());
            self.forward.walk(&glob, self.tuning.scan_small, &mut emit);
        } else if lead_reverse <= self.tuning.max_leading_ones {
            let glob = Glob::new(toks.iter().rev().copied().collect());
            self.reverse.walk(&glob, self.tuning.scan_small, &mut emit);
        } else {
            // Both ends are open: scan the key arenas for the longest literal run.
            let mut best: &[Tok] = &[];
            for chunk in toks.split(|t| !matches!(t, Tok::Lit(_))) {
                if chunk.len() > best.len() {
                    best = chunk;
                }
            }
            let needle: String = best
                .iter()
                .filter_map(|t| match t {
                    Tok::Lit(c) => Some(*c),
                    _ => None,
                })
                .collect();
            // `*literal*` needs no verification beyond containing the literal.
            let trivial = toks.len() == best.len() + 2
                && toks.first() == Some(&Tok::Star)
                && toks.last() == Some(&Tok::Star);
            let verify =
                |key: &[u8]| trivial || std::str::from_utf8(key).is_ok_and(|k| glob_match(toks, k));
            self.forward
                .substring(needle.as_bytes(), &verify, &mut emit);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Ranking.

    /// The order of markings within one class and distance.
    #[inline]
    fn order_key(&self, m: u32) -> (&str, &str, &str, u32) {
        let mu = m as usize;
        (
            self.item_keys.get(self.m_item[mu] as usize),
            self.m_text.get(mu),
            self.kinds.get(u32::from(self.m_kind[mu])).unwrap_or(""),
            m,
        )
    }

    /// The best `limit` candidates in contract order.
    fn rank(&self, mut cands: Vec<Cand>, limit: usize) -> Vec<Cand> {
        if !cands.is_sorted_by_key(|c| (c.class, c.dist, c.m)) {
            cands.sort_unstable_by_key(|c| (c.class, c.dist, c.m));
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < cands.len() && out.len() < limit {
            let (class, dist) = (cands[i].class, cands[i].dist);
            let mut j = i;
            while j < cands.len() && cands[j].class == class && cands[j].dist == dist {
                j += 1;
            }
            let group: Vec<u32> = cands[i..j].iter().map(|c| c.m).collect();
            let need = limit - out.len();
            out.extend(
                self.select(&group, need)
                    .into_iter()
                    .map(|m| Cand { m, class, dist }),
            );
            i = j;
        }
        out
    }

    /// The first `need` of `ms` (distinct markings, sorted by id) by item key, text, kind.
    fn select(&self, ms: &[u32], need: usize) -> Vec<u32> {
        if need == 0 || ms.is_empty() {
            return Vec::new();
        }
        if ms.len() <= self.tuning.small_group.max(need) {
            let mut all: Vec<_> = ms.iter().map(|&m| self.order_key(m)).collect();
            all.sort_unstable();
            return all.into_iter().take(need).map(|k| k.3).collect();
        }
        if let Some(found) = self.select_by_item_order(ms, need) {
            return found;
        }
        self.select_by_heap(ms.iter().copied(), need)
    }

    /// Walks items in key order until `need` markings of `ms` (sorted by id) are found; `None`
    /// if that takes more than the budget.
    fn select_by_item_order(&self, ms: &[u32], need: usize) -> Option<Vec<u32>> {
        let mut wanted = Bits::new(self.item_count());
        for &m in ms {
            wanted.set(self.m_item[m as usize]);
        }
        let budget = ms.len().max(self.tuning.item_order_budget);
        self.first_in_item_order(
            need,
            budget,
            |m| ms.binary_search(&m).is_ok(),
            |item| wanted.get(item),
        )
    }

    /// A bounded max-heap selection: O(n log need) comparisons, each reading the item key.
    fn select_by_heap(&self, ms: impl IntoIterator<Item = u32>, need: usize) -> Vec<u32> {
        let mut heap: BinaryHeap<(&str, &str, &str, u32)> =
            BinaryHeap::with_capacity(need.min(1 << 16) + 1);
        for m in ms {
            if heap.len() < need {
                heap.push(self.order_key(m));
                continue;
            }
            let item_key = self.item_keys.get(self.m_item[m as usize] as usize);
            let Some(top) = heap.peek() else { continue };
            if item_key > top.0 {
                continue;
            }
            let k = self.order_key(m);
            if k < *top {
                heap.pop();
                heap.push(k);
            }
        }
        heap.into_sorted_vec().into_iter().map(|k| k.3).collect()
    }

    fn hit(&self, c: Cand) -> Hit {
        let m = c.m as usize;
        let item = self.m_item[m] as usize;
        let ids = self
            .combos
            .get(self.item_combo[item] as usize)
            .copied()
            .unwrap_or([NONE; COMBO_SLOTS]);
        let value = |slot: usize| self.values.get(ids[slot]).map(str::to_string);
        Hit {
            item: self.item_keys.get(item).to_string(),
            marking: self.m_text.get(m).to_string(),
            kind: self
                .kinds
                .get(u32::from(self.m_kind[m]))
                .unwrap_or("")
                .to_string(),
            match_class: c.class,
            distance: c.dist,
            make: value(0),
            model: value(1),
            calibre: value(2),
            status: self
                .statuses
                .get(ids[STATUS_SLOT])
                .unwrap_or("")
                .to_string(),
        }
    }
}

/// Item ordinals in item-key order: a merge of the sorted item runs.
struct ItemOrder<'a> {
    runs: Vec<(&'a Run, usize)>,
    pending: (Run, usize),
}

impl<'a> ItemOrder<'a> {
    fn new(set: &'a RunSet) -> Self {
        let (runs, pending) = set.sorted_runs();
        ItemOrder {
            runs: runs
                .iter()
                .filter(|r| r.len() > 0)
                .map(|r| (r, 0))
                .collect(),
            pending: (pending, 0),
        }
    }
}

impl Iterator for ItemOrder<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        // `None` stands for the buffer.
        let mut best: Option<(Option<usize>, &[u8])> = None;
        let (prun, ppos) = (&self.pending.0, self.pending.1);
        if ppos < prun.len() {
            best = Some((None, prun.key(ppos)));
        }
        for (i, (run, pos)) in self.runs.iter().enumerate() {
            if *pos < run.len() {
                let key = run.key(*pos);
                if best.is_none_or(|(_, b)| cmp_bytes(key, b) == std::cmp::Ordering::Less) {
                    best = Some((Some(i), key));
                }
            }
        }
        match best?.0 {
            Some(i) => {
                let (run, pos) = &mut self.runs[i];
                let id = run.ids[*pos];
                *pos += 1;
                Some(id)
            }
            None => {
                let id = self.pending.0.ids[self.pending.1];
                self.pending.1 += 1;
                Some(id)
            }
        }
    }
}

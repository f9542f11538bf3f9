//! The project's index, `tracemark_search::Index`, fed like the registry feeds it.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tracemark_search::{Hit, Index, ItemAttrs, Mode, Query};

use crate::data::Dataset;
use crate::queries::{BenchQuery, Class};
use crate::stats::rss_kib;

pub struct Built {
    pub index: Index,
    /// Upserts and markings, then `compact` and `shrink_to_fit` (what a registry does after a
    /// bulk load).
    pub build: Duration,
    pub accounted_bytes: usize,
    pub rss_growth_bytes: usize,
    pub snapshot_bytes: u64,
    pub snapshot_write: Duration,
    pub snapshot_read: Duration,
}

/// Builds the index over every marking; measures memory and a snapshot round trip.
pub fn build(d: &Dataset, dir: &std::path::Path) -> Result<Built> {
    let rss0 = rss_kib();
    let t = Instant::now();
    let mut index = Index::new();
    for item in 0..d.item_count() {
        let key = d.item_keys.get(item);
        let attr = |slot| d.attr(item, slot).map(str::to_string);
        index.upsert_item(
            key,
            ItemAttrs {
                make: attr(0),
                model: attr(1),
                calibre: attr(2),
                country: attr(3),
                status: "in_service".to_string(),
                custodian: None,
            },
        )?;
        for m in d.markings_of(item) {
            index.add_marking(key, d.m_text.get(m), d.kind(m))?;
        }
    }
    index.compact();
    index.shrink_to_fit();
    let build = t.elapsed();
    let rss_growth_bytes = rss_kib().saturating_sub(rss0) * 1024;
    let accounted_bytes = index.memory_usage().total;
    if index.len() != d.len() {
        bail!(
            "the index has {} markings, expected {}",
            index.len(),
            d.len()
        );
    }

    let path = dir.join("ours.snapshot");
    let t = Instant::now();
    index.write_snapshot(std::fs::File::create(&path)?)?;
    let snapshot_write = t.elapsed();
    let snapshot_bytes = std::fs::metadata(&path)?.len();
    let t = Instant::now();
    let restored = Index::read_snapshot(std::fs::File::open(&path)?)?;
    let snapshot_read = t.elapsed();
    if restored.len() != index.len() {
        bail!("the snapshot restored {} markings", restored.len());
    }
    drop(restored);
    std::fs::remove_file(&path)?;
    Ok(Built {
        index,
        build,
        accounted_bytes,
        rss_growth_bytes,
        snapshot_bytes,
        snapshot_write,
        snapshot_read,
    })
}

/// The contract query for a benchmark query: every marking kind, contract default limit (50).
pub fn query(q: &BenchQuery) -> Query {
    let mut query = Query::new(q.text.clone());
    query.any_kind = true;
    query.mode = match q.class {
        Class::Exact => Mode::Exact,
        Class::Normalized => Mode::Normalized,
        Class::Fuzzy1 | Class::Fuzzy2 => Mode::Fuzzy,
        _ => Mode::Wildcard,
    };
    query.max_edits = q.max_edits;
    query
}

/// The marking ids of the hits (ascending): each hit names its item, text and kind; an item's
/// markings are contiguous ids, so the hit is found among them.
pub fn hit_ids(
    d: &Dataset,
    item_ids: &std::collections::HashMap<&str, u32>,
    hits: &[Hit],
) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(hits.len());
    let mut used: Vec<u32> = Vec::new();
    for h in hits {
        let Some(&item) = item_ids.get(h.item.as_str()) else {
            out.push(u32::MAX);
            continue;
        };
        let found = d.markings_of(item as usize).find(|&m| {
            d.m_text.get(m) == h.marking && d.kind(m) == h.kind && !used.contains(&(m as u32))
        });
        match found {
            Some(m) => {
                out.push(m as u32);
                // Only needed for an item with two identical markings; the list stays short.
                if d.markings_of(item as usize)
                    .filter(|&o| d.m_text.get(o) == h.marking)
                    .count()
                    > 1
                {
                    used.push(m as u32);
                }
            }
            None => out.push(u32::MAX),
        }
    }
    out.sort_unstable();
    out
}

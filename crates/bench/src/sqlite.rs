//! SQLite peer (the workspace's bundled SQLite): the markings in an ordinary table with a B-tree
//! on `C`, their keyed forms (visual, and phonetic where it differs) in a second table with a
//! B-tree on the key, and an FTS5 table with the trigram tokenizer over that key column
//! (`case_sensitive 1`, `detail=none`, external content) for the wildcard classes.
//!
//! * exact: `canonical = C(q)`;
//! * normalized: `key IN (visual(q), phonetic(q))`;
//! * wildcard: `key GLOB pattern` on the FTS5 table, once per keyed pattern (`?` and `*` are
//!   GLOB's own; keys hold only letters and digits, so nothing needs escaping). GLOB, not LIKE:
//!   with `case_sensitive 1` only GLOB uses the trigram index (LIKE is case-insensitive and
//!   scans), and the contract's keys are compared exactly. FTS5 can use the index only when the
//!   pattern has three consecutive literal characters; otherwise it scans every row;
//! * fuzzy: SQLite has no edit-distance operator; not measured.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rusqlite::{params, Connection};

use crate::brute::Keys;
use crate::data::Dataset;
use crate::queries::{BenchQuery, Class};

pub struct Sqlite {
    conn: Connection,
    pub path: PathBuf,
    pub build: Duration,
    pub file_bytes: u64,
    pub version: String,
}

impl Sqlite {
    pub fn build(d: &Dataset, k: &Keys, dir: &Path) -> Result<Sqlite> {
        let path = dir.join("sqlite-bench.db");
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let t = Instant::now();
        let conn = Connection::open(&path)?;
        let fts5: bool = conn
            .prepare("PRAGMA compile_options")?
            .query_map([], |r| r.get::<_, String>(0))?
            .filter_map(|r| r.ok())
            .any(|o| o == "ENABLE_FTS5");
        if !fts5 {
            bail!("this SQLite was built without FTS5");
        }
        conn.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA cache_size = -262144;
             PRAGMA temp_store = MEMORY;
             CREATE TABLE tm_markings (id INTEGER PRIMARY KEY, item TEXT NOT NULL,
                 kind TEXT NOT NULL, text TEXT NOT NULL, canonical TEXT NOT NULL);
             CREATE TABLE tm_keys (key TEXT NOT NULL, mid INTEGER NOT NULL);",
        )?;
        {
            let tx = conn.unchecked_transaction()?;
            {
                let mut ins_m = tx.prepare(
                    "INSERT INTO tm_markings (id, item, kind, text, canonical) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                let mut ins_k = tx.prepare("INSERT INTO tm_keys (key, mid) VALUES (?1, ?2)")?;
                for m in 0..d.len() {
                    let item = d.item_keys.get(d.m_item[m] as usize);
                    ins_m.execute(params![
                        m as i64,
                        item,
                        d.kind(m),
                        d.m_text.get(m),
                        k.canonical.get(m)
                    ])?;
                    for key in k.variants(m) {
                        ins_k.execute(params![key, m as i64])?;
                    }
                }
            }
            tx.commit()?;
        }
        conn.execute_batch(
            "CREATE INDEX tm_markings_canonical ON tm_markings (canonical);
             CREATE INDEX tm_keys_key ON tm_keys (key, mid);
             CREATE VIRTUAL TABLE tm_fts USING fts5(key, mid UNINDEXED, content = 'tm_keys',
                 content_rowid = 'rowid', detail = none, tokenize = 'trigram case_sensitive 1');
             INSERT INTO tm_fts (tm_fts) VALUES ('rebuild');
             INSERT INTO tm_fts (tm_fts) VALUES ('optimize');
             ANALYZE;",
        )?;
        let build = t.elapsed();
        let file_bytes = std::fs::metadata(&path)?.len();
        conn.execute_batch("PRAGMA mmap_size = 4294967296;")?;
        Ok(Sqlite {
            conn,
            path,
            build,
            file_bytes,
            version: rusqlite::version().to_string(),
        })
    }

    pub fn supports(class: Class) -> bool {
        !class.is_fuzzy()
    }

    /// The matching marking ids, ascending.
    pub fn search(&self, q: &BenchQuery) -> Result<Vec<u32>> {
        let mut out: Vec<u32> = Vec::new();
        let push = |out: &mut Vec<u32>, id: i64| out.push(u32::try_from(id).unwrap_or(u32::MAX));
        match q.class {
            Class::Exact => {
                let mut st = self
                    .conn
                    .prepare_cached("SELECT id FROM tm_markings WHERE canonical = ?1")?;
                let mut rows = st.query([q.canonical.as_str()])?;
                while let Some(r) = rows.next()? {
                    push(&mut out, r.get(0)?);
                }
            }
            Class::Normalized => {
                let v = &q.variants;
                let (a, b) = (v[0].as_str(), v.get(1).unwrap_or(&v[0]).as_str());
                let mut st = self
                    .conn
                    .prepare_cached("SELECT DISTINCT mid FROM tm_keys WHERE key IN (?1, ?2)")?;
                let mut rows = st.query([a, b])?;
                while let Some(r) = rows.next()? {
                    push(&mut out, r.get(0)?);
                }
            }
            c if c.is_wildcard() => {
                let mut st = self
                    .conn
                    .prepare_cached("SELECT mid FROM tm_fts WHERE key GLOB ?1")?;
                for p in &q.patterns {
                    let pat = BenchQuery::pattern_string(p, '?', '*');
                    let mut rows = st.query([pat])?;
                    while let Some(r) = rows.next()? {
                        push(&mut out, r.get(0)?);
                    }
                }
            }
            _ => bail!("SQLite has no fuzzy search"),
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

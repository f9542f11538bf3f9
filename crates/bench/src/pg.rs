//! PostgreSQL peer (`pg_trgm` + `fuzzystrmatch`), over a connection URL (the script starts a
//! throwaway local cluster). Same tables as the SQLite peer: `tm_markings` with a B-tree on `C`,
//! `tm_keys (key, mid)` with a B-tree on the key and a GIN trigram index (`gin_trgm_ops`).
//!
//! * exact: `canonical = C(q)`;
//! * normalized: `key IN (visual(q), phonetic(q))`;
//! * wildcard: `key LIKE p1 OR key LIKE p2` (`?` → `_`, `*` → `%`; keys hold only letters and
//!   digits, so nothing needs escaping), answered through the GIN trigram index;
//! * fuzzy, indexed: `key % q AND levenshtein_less_equal(key, q, k) <= k` per keyed form `q`:
//!   trigram similarity (`pg_trgm.similarity_threshold`, default 0.3) picks candidates through
//!   the GIN index, Levenshtein confirms. Two differences from the contract: the similarity
//!   prefilter drops short keys with too few shared trigrams (2 edits in a 7-character serial
//!   leave well under 0.3), and Levenshtein counts an adjacent transposition as 2 edits where
//!   the contract's optimal string alignment counts 1;
//! * fuzzy, exhaustive: `levenshtein_less_equal(key, q, k) <= k` over every row (a sequential
//!   scan; only the transposition difference remains).

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use postgres::{Client, NoTls, Statement};

use crate::brute::Keys;
use crate::data::Dataset;
use crate::queries::{BenchQuery, Class};

pub struct Pg {
    client: Client,
    exact: Statement,
    normalized: Statement,
    like: Statement,
    fuzzy: Statement,
    fuzzy_scan: Statement,
    pub build: Duration,
    pub table_bytes: i64,
    pub index_bytes: i64,
    pub gin_bytes: i64,
    pub version: String,
    pub settings: String,
}

/// COPY text format escaping.
fn copy_escape(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

impl Pg {
    pub fn build(url: &str, d: &Dataset, k: &Keys) -> Result<Pg> {
        let mut client = Client::connect(url, NoTls)?;
        client.batch_execute(
            "SET client_min_messages = warning;
             CREATE EXTENSION IF NOT EXISTS pg_trgm;
             CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
             DROP TABLE IF EXISTS tm_keys;
             DROP TABLE IF EXISTS tm_markings;
             SET maintenance_work_mem = '1GB';",
        )?;
        let t = Instant::now();
        client.batch_execute(
            "CREATE TABLE tm_markings (id integer PRIMARY KEY, item text NOT NULL,
                 kind text NOT NULL, text text NOT NULL, canonical text NOT NULL);
             CREATE TABLE tm_keys (key text NOT NULL, mid integer NOT NULL);",
        )?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        {
            let mut w =
                client.copy_in("COPY tm_markings (id, item, kind, text, canonical) FROM STDIN")?;
            for m in 0..d.len() {
                buf.extend_from_slice(m.to_string().as_bytes());
                for field in [
                    d.item_keys.get(d.m_item[m] as usize),
                    d.kind(m),
                    d.m_text.get(m),
                    k.canonical.get(m),
                ] {
                    buf.push(b'\t');
                    copy_escape(field, &mut buf);
                }
                buf.push(b'\n');
                if buf.len() > (1 << 20) {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
            w.write_all(&buf)?;
            buf.clear();
            w.finish()?;
        }
        {
            let mut w = client.copy_in("COPY tm_keys (key, mid) FROM STDIN")?;
            for m in 0..d.len() {
                for key in k.variants(m) {
                    copy_escape(key, &mut buf);
                    buf.push(b'\t');
                    buf.extend_from_slice(m.to_string().as_bytes());
                    buf.push(b'\n');
                }
                if buf.len() > (1 << 20) {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
            w.write_all(&buf)?;
            buf.clear();
            w.finish()?;
        }
        client.batch_execute(
            "CREATE INDEX tm_markings_canonical ON tm_markings (canonical);
             CREATE INDEX tm_keys_key ON tm_keys (key, mid);
             CREATE INDEX tm_keys_trgm ON tm_keys USING gin (key gin_trgm_ops);",
        )?;
        // VACUUM cannot run in the implicit transaction of a multi-statement batch.
        client.batch_execute("VACUUM ANALYZE tm_markings")?;
        client.batch_execute("VACUUM ANALYZE tm_keys")?;
        let build = t.elapsed();
        let row = client.query_one(
            "SELECT (pg_table_size('tm_markings') + pg_table_size('tm_keys'))::bigint,
                    (pg_indexes_size('tm_markings') + pg_indexes_size('tm_keys'))::bigint,
                    pg_relation_size('tm_keys_trgm')::bigint,
                    current_setting('server_version'),
                    current_setting('shared_buffers'),
                    current_setting('pg_trgm.similarity_threshold'),
                    current_setting('lc_collate')",
            &[],
        )?;
        let version: String = row.get(3);
        let settings = format!(
            "shared_buffers {}, pg_trgm.similarity_threshold {}, lc_collate {}, jit off, max_parallel_workers_per_gather 0",
            row.get::<_, String>(4),
            row.get::<_, String>(5),
            row.get::<_, String>(6)
        );
        // One core per query, like the other engines; no JIT compilation in the latencies.
        client.batch_execute("SET jit = off; SET max_parallel_workers_per_gather = 0;")?;
        let exact = client.prepare("SELECT id FROM tm_markings WHERE canonical = $1")?;
        let normalized =
            client.prepare("SELECT DISTINCT mid FROM tm_keys WHERE key = $1 OR key = $2")?;
        let like =
            client.prepare("SELECT DISTINCT mid FROM tm_keys WHERE key LIKE $1 OR key LIKE $2")?;
        let fuzzy = client.prepare(
            "SELECT DISTINCT mid FROM tm_keys
              WHERE (key % $1 AND levenshtein_less_equal(key, $1, $3) <= $3)
                 OR (key % $2 AND levenshtein_less_equal(key, $2, $3) <= $3)",
        )?;
        let fuzzy_scan = client.prepare(
            "SELECT DISTINCT mid FROM tm_keys
              WHERE levenshtein_less_equal(key, $1, $3) <= $3
                 OR levenshtein_less_equal(key, $2, $3) <= $3",
        )?;
        Ok(Pg {
            client,
            exact,
            normalized,
            like,
            fuzzy,
            fuzzy_scan,
            build,
            table_bytes: row.get(0),
            index_bytes: row.get(1),
            gin_bytes: row.get(2),
            version,
            settings,
        })
    }

    pub fn supports(_class: Class) -> bool {
        true
    }

    /// The matching marking ids, ascending. `exhaustive`: fuzzy by a sequential scan.
    pub fn search(&mut self, q: &BenchQuery, exhaustive: bool) -> Result<Vec<u32>> {
        let rows = match q.class {
            Class::Exact => self.client.query(&self.exact, &[&q.canonical])?,
            Class::Normalized => {
                let v = &q.variants;
                let b = v.get(1).unwrap_or(&v[0]);
                self.client.query(&self.normalized, &[&v[0], b])?
            }
            c if c.is_wildcard() => {
                let p: Vec<String> = q
                    .patterns
                    .iter()
                    .map(|p| BenchQuery::pattern_string(p, '_', '%'))
                    .collect();
                let b = p.get(1).unwrap_or(&p[0]);
                self.client.query(&self.like, &[&p[0], b])?
            }
            c if c.is_fuzzy() => {
                let v = &q.variants;
                let b = v.get(1).unwrap_or(&v[0]);
                let k = i32::from(q.max_edits);
                let st = if exhaustive {
                    &self.fuzzy_scan
                } else {
                    &self.fuzzy
                };
                self.client.query(st, &[&v[0], b, &k])?
            }
            _ => bail!("unsupported class"),
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i32 = r.try_get(0)?;
            out.push(u32::try_from(id).unwrap_or(u32::MAX));
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Drops the benchmark's tables.
    pub fn drop_tables(&mut self) -> Result<()> {
        self.client
            .batch_execute("DROP TABLE IF EXISTS tm_keys; DROP TABLE IF EXISTS tm_markings;")?;
        Ok(())
    }
}

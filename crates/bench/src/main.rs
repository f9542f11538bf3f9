//! `tracemark-bench`: the marking search index side by side with its peers, on the same data
//! and the same queries, in one run, with every answer checked.
//!
//! * **ours**: `tracemark_search::Index`, in process;
//! * **brute force**: a linear scan applying the contract's definitions (the answer reference);
//! * **SQLite**: FTS5 with the trigram tokenizer plus B-trees (bundled SQLite, a file on disk);
//! * **PostgreSQL**: `pg_trgm` GIN + B-trees + `fuzzystrmatch`, over `--postgres URL`.
//!
//! Data: `--markings N` markings from `tracemark_generate` (seed `--seed`, state KE). Queries:
//! `--queries` per class, drawn deterministically from the data. Prints Markdown on stdout,
//! progress on stderr. `scripts/bench-search` runs it with a throwaway PostgreSQL cluster.

mod brute;
mod data;
mod ours;
mod pg;
mod queries;
mod sqlite;
mod stats;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;

use crate::brute::{distance_within, Brute, Keys};
use crate::queries::{BenchQuery, Class};
use crate::stats::{mib, ms, percentile, ratio, thousands};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "tracemark-bench",
    about = "Marking search: tracemark-search vs SQLite FTS5 trigram vs PostgreSQL pg_trgm vs brute force"
)]
struct Args {
    /// Number of markings (generated items × ~1.9 markings, cut at exactly N).
    #[arg(long, default_value_t = 1_000_000)]
    markings: usize,
    /// Queries per class.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Seed of the generator and of the query draw.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// PostgreSQL URL (`postgres://USER@127.0.0.1:PORT/DB`); the PostgreSQL peer is skipped
    /// without it. Needs the pg_trgm and fuzzystrmatch extensions.
    #[arg(long)]
    postgres: Option<String>,
    /// Skip the SQLite peer.
    #[arg(long)]
    no_sqlite: bool,
    /// Skip brute force (the answer check then has no reference).
    #[arg(long)]
    no_brute: bool,
    /// Time budget per peer engine and class, seconds: once spent, the class stops after the
    /// current query (but runs at least --min-queries). The output says how many queries each
    /// engine ran.
    #[arg(long, default_value_t = 15.0)]
    budget_secs: f64,
    /// Time budget per class for brute force, the answer reference (ours is checked on the
    /// queries it ran).
    #[arg(long, default_value_t = 60.0)]
    brute_budget_secs: f64,
    /// Fewest queries per engine and class, whatever the budget.
    #[arg(long, default_value_t = 20)]
    min_queries: usize,
    /// Most queries per class for PostgreSQL's exhaustive (sequential-scan) fuzzy variant.
    #[arg(long, default_value_t = 20)]
    pg_scan_queries: usize,
    /// Untimed queries per class run first on each peer (caches).
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Directory for the SQLite file and the snapshot (default: a new one under the temp dir,
    /// removed at the end).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// The timings and answers of one engine on one class (queries in the class's order, a prefix
/// of them when the budget ran out).
#[derive(Default)]
struct Run {
    times: Vec<Duration>,
    ids: Vec<Vec<u32>>,
    capped: bool,
}

struct Engine {
    name: &'static str,
    runs: BTreeMap<Class, Run>,
}

/// Runs `queries` (after `warmup` untimed ones) until the budget is spent.
fn run_class(
    queries: &[&BenchQuery],
    budget: Duration,
    min: usize,
    max: usize,
    warmup: usize,
    mut f: impl FnMut(&BenchQuery) -> Result<Vec<u32>>,
) -> Result<Run> {
    for q in queries.iter().take(warmup) {
        f(q)?;
    }
    let mut run = Run::default();
    let start = Instant::now();
    for (i, q) in queries.iter().take(max).enumerate() {
        if i >= min && start.elapsed() > budget {
            run.capped = true;
            break;
        }
        let t = Instant::now();
        let ids = f(q)?;
        run.times.push(t.elapsed());
        run.ids.push(ids);
    }
    Ok(run)
}

/// Differences of one engine's answers from the reference, over the queries both ran.
#[derive(Default)]
struct Check {
    checked: usize,
    mismatched: usize,
    missing: usize,
    extra: usize,
    /// Missing ids whose Levenshtein distance exceeds the limit (their OSA distance does not:
    /// a transposition).
    missing_transposition: usize,
}

fn check(reference: &Run, run: &Run, queries: &[&BenchQuery], keys: &Keys) -> Check {
    let mut c = Check::default();
    let mut rows = [Vec::new(), Vec::new(), Vec::new()];
    for (i, (want, got)) in reference.ids.iter().zip(&run.ids).enumerate() {
        c.checked += 1;
        if want == got {
            continue;
        }
        c.mismatched += 1;
        let missing: Vec<u32> = want
            .iter()
            .filter(|m| got.binary_search(m).is_err())
            .copied()
            .collect();
        c.missing += missing.len();
        c.extra += got
            .iter()
            .filter(|m| want.binary_search(m).is_err())
            .count();
        let q = queries[i];
        if q.class.is_fuzzy() {
            let k = usize::from(q.max_edits);
            let qs: Vec<Vec<char>> = q.variants.iter().map(|v| v.chars().collect()).collect();
            for m in missing {
                let lev_ok = keys.variants(m as usize).any(|mk| {
                    let mc: Vec<char> = mk.chars().collect();
                    qs.iter()
                        .any(|qc| distance_within(qc, &mc, k, false, &mut rows).is_some())
                });
                if !lev_ok {
                    c.missing_transposition += 1;
                }
            }
        }
    }
    c
}

fn elapsed_s(t: Instant) -> String {
    format!("{:.1}", t.elapsed().as_secs_f64())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let budget = Duration::from_secs_f64(args.budget_secs);
    let (work_dir, remove_dir) = match &args.work_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("tracemark-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("creating {}", work_dir.display()))?;
    let result = run(&args, budget, &work_dir);
    if remove_dir {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    result
}

fn run(args: &Args, budget: Duration, work_dir: &std::path::Path) -> Result<()> {
    let t0 = Instant::now();
    eprintln!("[bench] generating {} markings…", args.markings);
    let t = Instant::now();
    let d = data::load(args.markings, args.seed)?;
    let load_s = t.elapsed();
    let n = d.len();
    let t = Instant::now();
    let keys = Keys::compute(&d);
    let keys_s = t.elapsed();
    let qs = queries::build(&d, &keys, args.queries, args.seed);
    let by_class: BTreeMap<Class, Vec<&BenchQuery>> = Class::ALL
        .iter()
        .map(|&c| (c, qs.iter().filter(|q| q.class == c).collect()))
        .collect();
    eprintln!(
        "[bench {}s] {} markings, {} items, {} queries",
        elapsed_s(t0),
        n,
        d.item_count(),
        qs.len()
    );

    // Ours.
    let built = ours::build(&d, work_dir)?;
    eprintln!("[bench {}s] ours built", elapsed_s(t0));
    let item_ids: HashMap<&str, u32> = (0..d.item_count())
        .map(|i| (d.item_keys.get(i), i as u32))
        .collect();
    let mut ours_engine = Engine {
        name: "ours",
        runs: BTreeMap::new(),
    };
    let mut ours_total_mismatch = 0usize;
    for (&class, cqs) in &by_class {
        let mut run = Run::default();
        // The full answers, untimed: `limit` = every marking.
        for q in cqs {
            let mut query = ours::query(q);
            query.limit = n.max(1);
            let r = built.index.search(&query)?;
            if r.total != r.hits.len() {
                ours_total_mismatch += 1;
            }
            run.ids.push(ours::hit_ids(&d, &item_ids, &r.hits));
        }
        // Timed: what the registry asks, the contract's default limit of 50 ranked hits and
        // the exact total.
        let prepared: Vec<_> = cqs.iter().map(|q| ours::query(q)).collect();
        for query in &prepared {
            let t = Instant::now();
            let r = built.index.search(query)?;
            run.times.push(t.elapsed());
            std::hint::black_box(r.total);
        }
        ours_engine.runs.insert(class, run);
    }
    eprintln!("[bench {}s] ours queried", elapsed_s(t0));

    // Brute force.
    let mut engines: Vec<Engine> = Vec::new();
    let mut brute_engine = None;
    if !args.no_brute {
        let mut b = Brute::new(&keys);
        let mut e = Engine {
            name: "brute force",
            runs: BTreeMap::new(),
        };
        for (&class, cqs) in &by_class {
            let brute_budget = Duration::from_secs_f64(args.brute_budget_secs);
            let r = run_class(cqs, brute_budget, args.min_queries, cqs.len(), 0, |q| {
                Ok(b.search(q))
            })?;
            e.runs.insert(class, r);
            eprintln!("[bench {}s] brute force: {}", elapsed_s(t0), class.name());
        }
        brute_engine = Some(e);
    }

    // SQLite.
    let mut sqlite_info = None;
    if !args.no_sqlite {
        eprintln!("[bench {}s] SQLite build…", elapsed_s(t0));
        let s = sqlite::Sqlite::build(&d, &keys, work_dir)?;
        eprintln!(
            "[bench {}s] SQLite built in {:.1} s",
            elapsed_s(t0),
            s.build.as_secs_f64()
        );
        let mut e = Engine {
            name: "SQLite FTS5 trigram",
            runs: BTreeMap::new(),
        };
        for (&class, cqs) in &by_class {
            if !sqlite::Sqlite::supports(class) {
                continue;
            }
            let r = run_class(cqs, budget, args.min_queries, cqs.len(), args.warmup, |q| {
                s.search(q)
            })?;
            e.runs.insert(class, r);
            eprintln!("[bench {}s] SQLite: {}", elapsed_s(t0), class.name());
        }
        engines.push(e);
        sqlite_info = Some((s.build, s.file_bytes, s.version.clone()));
        drop(s);
    }

    // PostgreSQL.
    let mut pg_info = None;
    if let Some(url) = &args.postgres {
        eprintln!("[bench {}s] PostgreSQL build…", elapsed_s(t0));
        let mut p = pg::Pg::build(url, &d, &keys)?;
        eprintln!(
            "[bench {}s] PostgreSQL built in {:.1} s",
            elapsed_s(t0),
            p.build.as_secs_f64()
        );
        let mut e = Engine {
            name: "PostgreSQL pg_trgm",
            runs: BTreeMap::new(),
        };
        let mut scan = Engine {
            name: "PostgreSQL seq-scan Levenshtein",
            runs: BTreeMap::new(),
        };
        for (&class, cqs) in &by_class {
            if !pg::Pg::supports(class) {
                continue;
            }
            let r = run_class(cqs, budget, args.min_queries, cqs.len(), args.warmup, |q| {
                p.search(q, false)
            })?;
            e.runs.insert(class, r);
            eprintln!("[bench {}s] PostgreSQL: {}", elapsed_s(t0), class.name());
            if class.is_fuzzy() && args.pg_scan_queries > 0 {
                let min = args.min_queries.min(args.pg_scan_queries);
                let r = run_class(cqs, budget, min, args.pg_scan_queries, 1, |q| {
                    p.search(q, true)
                })?;
                scan.runs.insert(class, r);
                eprintln!(
                    "[bench {}s] PostgreSQL seq scan: {}",
                    elapsed_s(t0),
                    class.name()
                );
            }
        }
        p.drop_tables()?;
        engines.push(e);
        if !scan.runs.is_empty() {
            engines.push(scan);
        }
        pg_info = Some((
            p.build,
            p.table_bytes,
            p.index_bytes,
            p.gin_bytes,
            p.version.clone(),
            p.settings.clone(),
        ));
    }

    // ---------------------------------------------------------------------------------------
    // Report.
    let mut all: Vec<&Engine> = vec![&ours_engine];
    if let Some(b) = &brute_engine {
        all.push(b);
    }
    all.extend(engines.iter());
    let report = Report {
        args,
        d: &d,
        keys: &keys,
        by_class: &by_class,
        engines: all,
        brute: brute_engine.as_ref(),
        built: &built,
        keys_s,
        load_s,
        sqlite: sqlite_info,
        pg: pg_info,
        ours_total_mismatch,
        t0,
    };
    report.print();
    Ok(())
}

/// What the report needs.
struct Report<'a> {
    args: &'a Args,
    d: &'a data::Dataset,
    keys: &'a Keys,
    by_class: &'a BTreeMap<Class, Vec<&'a BenchQuery>>,
    /// Ours first.
    engines: Vec<&'a Engine>,
    brute: Option<&'a Engine>,
    built: &'a ours::Built,
    keys_s: Duration,
    load_s: Duration,
    /// Build time, file size, version.
    sqlite: Option<(Duration, u64, String)>,
    /// Build time, table bytes, index bytes, GIN bytes, version, settings.
    pg: Option<(Duration, i64, i64, i64, String, String)>,
    ours_total_mismatch: usize,
    t0: Instant,
}

impl Report<'_> {
    fn ours(&self) -> &Engine {
        self.engines[0]
    }

    /// How one engine's answers compare with brute force on one class.
    fn answers(&self, e: &Engine, class: Class, r: &Run) -> String {
        if e.name == "brute force" {
            return "reference".to_string();
        }
        let Some(b) = self.brute else {
            return "not checked".to_string();
        };
        let c = check(&b.runs[&class], r, &self.by_class[&class], self.keys);
        let mut s = format!("{} of {} differ", c.mismatched, c.checked);
        if c.mismatched > 0 {
            s.push_str(&format!(" (−{} +{} ids", c.missing, c.extra));
            if class.is_fuzzy() && c.missing > 0 {
                let dropped = c.missing - c.missing_transposition;
                if dropped == 0 {
                    s.push_str(": all transpositions");
                } else {
                    s.push_str(&format!(
                        ": {} transpositions, {} below the similarity threshold",
                        c.missing_transposition, dropped
                    ));
                }
            }
            s.push(')');
        }
        s
    }

    fn print(&self) {
        let (args, d, n) = (self.args, self.d, self.d.len());
        let nf = n as f64;
        println!("## {} markings", thousands(n));
        println!();
        println!("- machine: {}", stats::machine_line());
        let mut versions = vec![format!("tracemark-search {}", env!("CARGO_PKG_VERSION"))];
        if let Some((_, _, v)) = &self.sqlite {
            versions.push(format!("SQLite {v} (bundled by rusqlite)"));
        }
        if let Some((.., v, settings)) = &self.pg {
            versions.push(format!("PostgreSQL {v} ({settings})"));
        }
        println!("- versions: {}", versions.join("; "));
        let serial_like = (0..n)
            .filter(|&m| tracemark_search::SERIAL_LIKE_KINDS.contains(&d.kind(m)))
            .count();
        let non_ascii = (0..n).filter(|&m| !d.m_text.get(m).is_ascii()).count();
        println!(
            "- data: `tracemark_generate` seed {}, state KE: {} items, {} markings ({:.0}% serial-like, {:.0}% with non-ASCII text); generated and parsed in {:.1} s",
            args.seed,
            thousands(d.item_count()),
            thousands(n),
            serial_like as f64 * 100.0 / nf,
            non_ascii as f64 * 100.0 / nf,
            self.load_s.as_secs_f64()
        );
        println!(
            "- queries: {} per class ({} in all), drawn from serial-like markings with seed {}; every engine searches all {} markings (`any_kind`); one thread per query everywhere",
            args.queries,
            self.by_class.values().map(Vec::len).sum::<usize>(),
            args.seed,
            thousands(n)
        );
        println!(
            "- budget: each peer stops a class after {:.0} s, brute force after {:.0} s (at least {} queries); the `queries` column says how many ran; ratios compare ours on the same queries as the peer",
            args.budget_secs, args.brute_budget_secs, args.min_queries
        );
        println!();
        self.print_sizes();
        self.print_matrix();
        self.print_ours_micros();
        self.print_details();
        self.print_notes();
    }

    fn print_sizes(&self) {
        let nf = self.d.len() as f64;
        let b = self.built;
        println!("| engine | build s | load s | memory / disk | bytes per marking |");
        println!("|---|---:|---:|---|---:|");
        println!(
            "| ours (tracemark-search) | {:.2} | {:.2} (snapshot read) | RAM {} accounted, RSS +{}; snapshot {} (write {:.2} s) | {:.0} accounted, {:.0} RSS, {:.0} snapshot |",
            b.build.as_secs_f64(),
            b.snapshot_read.as_secs_f64(),
            mib(b.accounted_bytes as f64),
            mib(b.rss_growth_bytes as f64),
            mib(b.snapshot_bytes as f64),
            b.snapshot_write.as_secs_f64(),
            b.accounted_bytes as f64 / nf,
            b.rss_growth_bytes as f64 / nf,
            b.snapshot_bytes as f64 / nf
        );
        if self.brute.is_some() {
            println!(
                "| brute force | {:.2} (keys) | – | RAM {} (C, visual and phonetic keys) | {:.0} |",
                self.keys_s.as_secs_f64(),
                mib(self.keys.bytes() as f64),
                self.keys.bytes() as f64 / nf
            );
        }
        if let Some((b, bytes, _)) = &self.sqlite {
            println!(
                "| SQLite FTS5 trigram | {:.1} | – (file) | disk {} (markings and keys tables, 2 B-trees, FTS5 trigram index) | {:.0} |",
                b.as_secs_f64(),
                mib(*bytes as f64),
                *bytes as f64 / nf
            );
        }
        if let Some((b, tables, indexes, gin, ..)) = &self.pg {
            println!(
                "| PostgreSQL pg_trgm | {:.1} | – (server) | disk {} (tables {}, indexes {} of which GIN trigram {}) | {:.0} |",
                b.as_secs_f64(),
                mib((tables + indexes) as f64),
                mib(*tables as f64),
                mib(*indexes as f64),
                mib(*gin as f64),
                (tables + indexes) as f64 / nf
            );
        }
        println!();
    }

    /// Class × engine, `p50 / p99` in ms.
    fn print_matrix(&self) {
        let names: Vec<&str> = self.engines.iter().map(|e| e.name).collect();
        println!("p50 / p99 latency in ms (queries run in parentheses when fewer than all):");
        println!();
        println!("| class | {} |", names.join(" | "));
        println!("|---|{}", "---:|".repeat(names.len()));
        for class in Class::ALL {
            let total = self.by_class[&class].len();
            let cells: Vec<String> = self
                .engines
                .iter()
                .map(|e| match e.runs.get(&class) {
                    None => "n/a".to_string(),
                    Some(r) => {
                        let p50 = percentile(&r.times, 0.5).unwrap_or_default();
                        let p99 = percentile(&r.times, 0.99).unwrap_or_default();
                        let mut s = format!("{} / {}", ms(p50), ms(p99));
                        if r.times.len() < total {
                            s.push_str(&format!(" ({})", r.times.len()));
                        }
                        s
                    }
                })
                .collect();
            println!("| {} | {} |", class.name(), cells.join(" | "));
        }
        println!();
    }

    /// Ours in microseconds.
    fn print_ours_micros(&self) {
        println!("ours in µs (in process, `limit` 50):");
        println!();
        println!("| class | queries | p50 µs | p99 µs | max µs | mean matches |");
        println!("|---|---:|---:|---:|---:|---:|");
        for class in Class::ALL {
            let Some(r) = self.ours().runs.get(&class) else {
                continue;
            };
            let us = |p: f64| percentile(&r.times, p).map_or(0.0, |d| d.as_secs_f64() * 1e6);
            let mean = r.ids.iter().map(Vec::len).sum::<usize>() as f64 / r.ids.len().max(1) as f64;
            println!(
                "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
                class.name(),
                r.times.len(),
                us(0.5),
                us(0.99),
                us(1.0),
                mean
            );
        }
        println!();
    }

    fn print_details(&self) {
        println!("| class | engine | queries | p50 ms | p99 ms | ours/peer p50 | ours/peer p99 | answers vs brute force | mean matches |");
        println!("|---|---|---:|---:|---:|---:|---:|---|---:|");
        for class in Class::ALL {
            for e in &self.engines {
                let Some(r) = e.runs.get(&class) else {
                    if e.name.starts_with("SQLite") {
                        println!(
                            "| {} | {} | – | n/a | n/a | – | – | n/a: SQLite has no edit-distance operator | – |",
                            class.name(),
                            e.name
                        );
                    }
                    continue;
                };
                let p50 = percentile(&r.times, 0.5).unwrap_or_default();
                let p99 = percentile(&r.times, 0.99).unwrap_or_default();
                let (rp50, rp99) = if e.name == "ours" {
                    ("–".to_string(), "–".to_string())
                } else {
                    let ours = self
                        .ours()
                        .runs
                        .get(&class)
                        .map_or(&[][..], |o| &o.times[..r.times.len().min(o.times.len())]);
                    (
                        ratio(percentile(ours, 0.5).unwrap_or_default(), p50),
                        ratio(percentile(ours, 0.99).unwrap_or_default(), p99),
                    )
                };
                let mean =
                    r.ids.iter().map(Vec::len).sum::<usize>() as f64 / r.ids.len().max(1) as f64;
                println!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
                    class.name(),
                    e.name,
                    r.times.len(),
                    ms(p50),
                    ms(p99),
                    rp50,
                    rp99,
                    self.answers(e, class, r),
                    mean
                );
            }
        }
        println!();
    }

    fn print_notes(&self) {
        let args = self.args;
        println!("Notes:");
        println!(
            "- ours: timed with the contract's default `limit` 50 (ranked hits plus the exact `total`); its answers are checked from a second, untimed pass with `limit` = every marking (`total` ≠ number of hits there in {} queries). Peers return the unordered set of matching marking ids (no ranking, no hit rows), which favours them. `mean matches` is over the queries that engine ran.",
            self.ours_total_mismatch
        );
        println!(
            "- ours: build = upserts and markings, then `compact` and `shrink_to_fit`; RSS growth over the build (mimalloc, as in the CLI); peak RSS of the whole benchmark process {}.",
            mib(stats::peak_rss_kib() as f64 * 1024.0)
        );
        println!("- brute force: one pass over every marking per query with the keys precomputed: exact = `C` equality; normalized = the key sets {{visual, phonetic}} of query and marking intersect; wildcard = a naive backtracking matcher of each keyed pattern against each keyed form; fuzzy = a bounded OSA distance (length prefilter) between each pair of keyed forms. It is the answer reference.");
        if self.sqlite.is_some() {
            println!("- SQLite: `tm_markings` (B-tree on `canonical`) and `tm_keys(key, mid)` (visual key, and phonetic where different; B-tree on `(key, mid)`); FTS5 `tokenize='trigram case_sensitive 1', detail=none`, external content `tm_keys`. exact: `canonical = C(q)`; normalized: `key IN (visual(q), phonetic(q))`; wildcard: `key GLOB pattern` on the FTS5 table per keyed pattern (`?`/`*` are GLOB's own; GLOB because with `case_sensitive 1` only GLOB uses the trigram index, LIKE would scan); fuzzy: no edit-distance operator, not measured. Built in one transaction, indexes after the load, `journal_mode=OFF`, `synchronous=OFF`, 256 MiB page cache, mmap.");
        }
        let wild = &self.by_class[&Class::Wild];
        let no_run = wild.iter().filter(|q| !q.has_literal_run(3)).count();
        println!(
            "- trigram indexes need three consecutive literal characters: {no_run} of {} `?`×2–3 queries have none, and no `?` no-3-run query has any.",
            wild.len()
        );
        if let Some(e) = self.engines.iter().find(|e| e.name.starts_with("SQLite")) {
            if let Some(r) = e.runs.get(&Class::Wild) {
                let mut with: Vec<Duration> = Vec::new();
                let mut without: Vec<Duration> = Vec::new();
                for (i, &t) in r.times.iter().enumerate() {
                    if wild[i].has_literal_run(3) {
                        with.push(t);
                    } else {
                        without.push(t);
                    }
                }
                let p = |t: &[Duration]| percentile(t, 0.5).map_or("–".to_string(), ms);
                println!(
                    "  SQLite FTS5 then scans the whole table: `?`×2–3 p50 {} ms with a 3-literal run ({} queries) vs {} ms without ({} queries). PostgreSQL's pg_trgm still extracts the trigrams padded at the key's start and end (`  A`, ` AB`, `YZ `) from an anchored LIKE pattern, so it keeps using the GIN index.",
                    p(&with),
                    with.len(),
                    p(&without),
                    without.len()
                );
            }
        }
        if self.pg.is_some() {
            println!("- PostgreSQL: the same two tables, B-trees on `canonical` and `(key, mid)`, GIN `gin_trgm_ops` on `key`; exact and normalized as for SQLite; wildcard: `key LIKE p1 OR key LIKE p2` (`?`→`_`, `*`→`%`). Fuzzy, indexed: `(key % q1 AND levenshtein_less_equal(key, q1, k) <= k) OR (… q2 …)` over the keyed forms of the query: `%` is pg_trgm similarity ≥ `pg_trgm.similarity_threshold` (0.3) through the GIN index, `levenshtein_less_equal` from fuzzystrmatch confirms. It misses (a) keys whose trigram similarity falls below the threshold (a 7-character serial with 2 edits keeps few trigrams), (b) adjacent transpositions: Levenshtein counts 2 where the contract's OSA counts 1; the missing ids are split between the two in the table. Seq-scan variant: the Levenshtein test on every row, no prefilter (only (b) remains), at most {} queries per class.", args.pg_scan_queries);
            println!("- PostgreSQL: a throwaway local cluster (fsync, synchronous_commit and full_page_writes off, shared_buffers 2GB); COPY, then indexes, then VACUUM ANALYZE; one backend per query (no parallel workers, no JIT); latencies include the client round trip over TCP on 127.0.0.1.");
        }
        let capped: Vec<String> = self
            .engines
            .iter()
            .flat_map(|e| {
                e.runs
                    .iter()
                    .filter(|(_, r)| r.capped)
                    .map(move |(c, r)| format!("{} / {}: {}", e.name, c.name(), r.times.len()))
            })
            .collect();
        if !capped.is_empty() {
            println!(
                "- stopped by the time budget (queries run): {}.",
                capped.join("; ")
            );
        }
        println!(
            "- total wall time of this run: {:.0} s.",
            self.t0.elapsed().as_secs_f64()
        );
        println!();
    }
}

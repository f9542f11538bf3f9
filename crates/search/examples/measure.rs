//! Builds an index over synthetic markings of realistic shapes and prints build time, memory per
//! marking, snapshot times and query latencies per query type.
//!
//! `cargo run --release -p tracemark-search --example measure -- 1000000 [--compact] [--build-only]`
//!
//! `--compact` merges the sorted runs and releases spare capacity after the build (what a
//! registry does after a bulk load); `--build-only` stops after the memory figures.

use std::time::{Duration, Instant};

use tracemark_search::{normalize, Index, ItemAttrs, Mode, Query};

/// SplitMix64: a small deterministic generator, enough for synthetic data.
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
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const CYRILLIC: &[char] = &[
    'А', 'Б', 'В', 'Г', 'Д', 'Е', 'Ж', 'И', 'К', 'Л', 'М', 'Н', 'О', 'П', 'Р', 'С', 'Т', 'У', 'Ф',
    'Х', 'Ц', 'Ч', 'Ш', 'Э', 'Ю', 'Я',
];
const GREEK: &[char] = &['Α', 'Β', 'Γ', 'Δ', 'Ε', 'Κ', 'Λ', 'Μ', 'Ρ', 'Σ', 'Τ', 'Χ'];
const MAKES: &[&str] = &[
    "Norinco",
    "Izhmash",
    "Tula",
    "FN Herstal",
    "Heckler & Koch",
    "Beretta",
    "Glock",
    "Colt",
    "Zastava",
    "Cugir",
    "Arsenal",
    "FEG",
    "Radom",
    "Steyr",
    "SIG Sauer",
    "CZ",
    "Type 56 Factory",
    "MKE",
    "IMI",
    "Daewoo",
];
const MODELS: &[&str] = &[
    "Type 56",
    "AKM",
    "AK-47",
    "AK-74",
    "FAL",
    "G3",
    "M16A1",
    "Galil",
    "SKS",
    "PKM",
    "RPK",
    "Model 92",
    "Glock 17",
    "M70",
    "PM md. 63",
    "AMD-65",
    "Vz. 58",
    "Type 81",
    "MAT-49",
    "Uzi",
];
const CALIBRES: &[&str] = &[
    "7.62x39mm",
    "5.56x45mm",
    "7.62x51mm",
    "5.45x39mm",
    "9x19mm",
    "7.62x54mmR",
    "12.7x108mm",
];
const COUNTRIES: &[&str] = &[
    "CN", "RU", "BE", "DE", "IT", "AT", "US", "RS", "RO", "BG", "HU", "PL", "CZ", "TR", "IL", "KR",
];
const STATUSES: &[&str] = &[
    "in_service",
    "in_service",
    "in_service",
    "in_store",
    "reported_stolen",
    "reported_lost",
    "seized",
    "destroyed",
];
const STATES: &[&str] = &["KE", "UG", "TZ", "SO", "SS", "CD", "ML", "NE", "NG", "SD"];

fn arabic_indic(s: &str, zero: u32) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

fn serial(rng: &mut Rng) -> String {
    match rng.below(100) {
        0..=29 => rng.digits(7),
        30..=34 => format!("{}-{}", rng.digits(2), rng.digits(5)),
        35..=54 => {
            let a = CYRILLIC[rng.below(CYRILLIC.len())];
            let b = CYRILLIC[rng.below(CYRILLIC.len())];
            let n = 4 + rng.below(3);
            format!("{a}{b} {}", rng.digits(n))
        }
        55..=64 => arabic_indic(&rng.digits(7), 0x0660),
        65..=69 => arabic_indic(&rng.digits(6), 0x06F0),
        70..=84 => {
            let letters: String = (0..2 + rng.below(2))
                .map(|_| char::from(b'A' + rng.below(26) as u8))
                .collect();
            let n = 5 + rng.below(3);
            format!("{letters}{}", rng.digits(n))
        }
        85..=92 => {
            let letters: String = (0..3)
                .map(|_| char::from(b'A' + rng.below(26) as u8))
                .collect();
            format!("{letters}-{}", rng.digits(4))
        }
        93..=96 => {
            let g = GREEK[rng.below(GREEK.len())];
            format!("{g}{}", rng.digits(6))
        }
        _ => {
            // Fullwidth, as pasted from some East Asian documents.
            let s = format!(
                "{}{}",
                char::from(b'A' + rng.below(26) as u8),
                rng.digits(6)
            );
            s.chars()
                .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
                .collect()
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn status_kb(field: &str) -> usize {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let target: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let compact = args.iter().any(|a| a == "--compact");
    let mut rng = Rng(0x5EED);
    let rss_start = status_kb("VmRSS:");

    // Build.
    let started = Instant::now();
    let mut index = Index::new();
    let mut serials: Vec<(String, usize)> = Vec::new();
    let mut item = 0usize;
    while index.len() < target {
        let key = format!("{}-{}-{:07}", rng.pick(STATES), 1990 + rng.below(35), item);
        // Attributes are correlated as in real holdings: a make has its country and a few
        // models, a model its calibre.
        let make = rng.below(MAKES.len());
        let model = (make * 3 + rng.below(3)) % MODELS.len();
        let attrs = ItemAttrs {
            make: Some(MAKES[make].to_string()),
            model: Some(MODELS[model].to_string()),
            calibre: Some(CALIBRES[model % CALIBRES.len()].to_string()),
            country: Some(COUNTRIES[make % COUNTRIES.len()].to_string()),
            status: rng.pick(STATUSES).to_string(),
            custodian: None,
        };
        index.upsert_item(&key, attrs)?;
        let s = serial(&mut rng);
        index.add_marking(&key, &s, "serial")?;
        if item & 63 == 0 && serials.len() < 20_000 {
            serials.push((s, make));
        }
        let extra = rng.below(100);
        if extra < 25 {
            let import = format!(
                "{}-{:02}-{}",
                rng.pick(STATES),
                rng.below(100),
                rng.digits(5)
            );
            index.add_marking(&key, &import, "import")?;
        }
        if extra < 8 {
            index.add_marking(&key, &rng.digits(2), "factory_code")?;
        }
        if extra < 4 {
            index.add_marking(&key, &serial(&mut rng), "serial")?;
        }
        item += 1;
    }
    let build = started.elapsed();
    if compact {
        let t = Instant::now();
        index.compact();
        index.shrink_to_fit();
        println!("compact: {} ms", ms(t.elapsed()));
    }
    let n = index.len();
    let mem = index.memory_usage();
    let rss = status_kb("VmRSS:").saturating_sub(rss_start);
    println!("markings: {n}  items: {}", index.item_count());
    println!(
        "build: {:.2} s ({:.2} µs per marking)",
        build.as_secs_f64(),
        build.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "accounted memory: {:.1} MiB = {:.1} bytes/marking  {:?}",
        mem.total as f64 / 1048576.0,
        mem.total as f64 / n as f64,
        mem
    );
    println!(
        "process RSS growth: {:.1} MiB = {:.1} bytes/marking (peak RSS {} MiB)",
        rss as f64 / 1024.0,
        rss as f64 * 1024.0 / n as f64,
        status_kb("VmHWM:") / 1024
    );

    if args.iter().any(|a| a == "--build-only") {
        return Ok(());
    }

    // Queries, built from stored serials so that most of them hit.
    let mut types: Vec<(&str, Vec<Query>)> = Vec::new();
    let sample = |rng: &mut Rng| serials[rng.below(serials.len())].clone();
    let mut q_exact = Vec::new();
    let mut q_norm = Vec::new();
    let mut q_f1 = Vec::new();
    let mut q_f2 = Vec::new();
    let mut q_f1_filtered = Vec::new();
    let mut q_scattered = Vec::new();
    let mut q_prefix = Vec::new();
    let mut q_suffix = Vec::new();
    let mut q_infix = Vec::new();
    for _ in 0..300 {
        let (s, make) = sample(&mut rng);
        let mut q = Query::new(s.clone());
        q.max_edits = 0;
        q_exact.push(q);
        // Typed in Latin: the visual key, as an officer reading Cyrillic or Greek would.
        let mut q = Query::new(normalize::keys(&s).visual);
        q.mode = Mode::Normalized;
        q_norm.push(q);
        let canon: Vec<char> = normalize::canonical(&s).chars().collect();
        let mut edited = canon.clone();
        let i = rng.below(edited.len());
        edited[i] = char::from(b'0' + rng.below(10) as u8);
        let one: String = edited.iter().collect();
        q_f1.push(Query::new(one.clone()));
        let mut q = Query::new(one);
        q.make = Some(MAKES[make].to_string());
        q_f1_filtered.push(q);
        if edited.len() > 2 {
            let j = rng.below(edited.len() - 1);
            edited.swap(j, j + 1);
        }
        let mut q = Query::new(edited.iter().collect::<String>());
        q.max_edits = 2;
        q_f2.push(q);
        let scattered: String = canon
            .iter()
            .enumerate()
            .map(|(i, &c)| if i % 2 == 1 { '?' } else { c })
            .collect();
        q_scattered.push(Query::new(scattered));
        let prefix: String = canon.iter().take(3).collect();
        q_prefix.push(Query::new(format!("{prefix}*")));
        let suffix: String = canon[canon.len().saturating_sub(4)..].iter().collect();
        q_suffix.push(Query::new(format!("*{suffix}")));
        let mid: String = canon.iter().skip(1).take(4).collect();
        q_infix.push(Query::new(format!("*{mid}*")));
    }
    types.push(("exact", q_exact));
    types.push(("normalized (typed in Latin)", q_norm));
    types.push(("auto, 1 edit", q_f1));
    types.push(("auto, 1 edit, make filter", q_f1_filtered));
    types.push(("fuzzy, 2 edits", q_f2));
    types.push(("wildcard 5?1?3?5", q_scattered));
    types.push(("wildcard prefix 561*", q_prefix));
    types.push(("wildcard suffix *2345", q_suffix));
    types.push(("wildcard infix *6123*", q_infix));
    types.push((
        "wildcard * (all)",
        (0..20).map(|_| Query::new("*")).collect(),
    ));
    let mut q = Query::new("*");
    q.status = Some("reported stolen".into());
    types.push(("wildcard * + status filter", vec![q; 20]));
    types.push(("wildcard ??????? (length)", vec![Query::new("???????"); 10]));

    println!();
    println!(
        "{:<30} {:>6} {:>10} {:>10} {:>10} {:>12}",
        "query type", "n", "p50 ms", "p99 ms", "max ms", "mean total"
    );
    for (name, queries) in &types {
        let mut times = Vec::with_capacity(queries.len());
        let mut totals = 0usize;
        for q in queries {
            let t = Instant::now();
            let r = index.search(q)?;
            times.push(t.elapsed());
            totals += r.total;
        }
        times.sort();
        println!(
            "{:<30} {:>6} {:>10} {:>10} {:>10} {:>12.1}",
            name,
            queries.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(times.last().copied().unwrap_or_default()),
            totals as f64 / queries.len() as f64
        );
    }

    // Snapshot.
    let path = std::env::temp_dir().join(format!("tracemark-search-{}.snap", std::process::id()));
    let t = Instant::now();
    {
        let file = std::fs::File::create(&path)?;
        index.write_snapshot(file)?;
    }
    let write = t.elapsed();
    let size = std::fs::metadata(&path)?.len();
    drop(index);
    let rss_before_read = status_kb("VmRSS:");
    let t = Instant::now();
    let restored = Index::read_snapshot(std::fs::File::open(&path)?)?;
    let read = t.elapsed();
    let rss_after_read = status_kb("VmRSS:");
    std::fs::remove_file(&path)?;
    println!();
    println!(
        "snapshot: {:.1} MiB, write {:.2} s, read {:.2} s; RSS growth on read {:.1} bytes/marking; {} markings restored",
        size as f64 / 1048576.0,
        write.as_secs_f64(),
        read.as_secs_f64(),
        rss_after_read.saturating_sub(rss_before_read) as f64 * 1024.0 / n as f64,
        restored.len()
    );
    Ok(())
}

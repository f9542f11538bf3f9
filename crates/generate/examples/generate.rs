//! `cargo run --release -p tracemark-generate --example generate -- <ITEMS> [SEED] [STATE] > data.jsonl`
//!
//! Writes synthetic data to stdout and reports the rate on stderr.

use std::io::{self, Write};
use std::time::Instant;

use tracemark_generate::{generate, GenerateOptions};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let items = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let state = args.get(2).cloned().unwrap_or_else(|| "KE".into());
    let opts = GenerateOptions { items, seed, state };
    let start = Instant::now();
    let stdout = io::stdout().lock();
    let stats = generate(&opts, stdout)?;
    let secs = start.elapsed().as_secs_f64();
    writeln!(
        io::stderr(),
        "{} items, {} events, {} markings in {:.3} s: {:.0} items/s ({:.2} events/item, {:.2} markings/item)",
        stats.items,
        stats.events,
        stats.markings,
        secs,
        stats.items as f64 / secs.max(1e-9),
        stats.events as f64 / stats.items.max(1) as f64,
        stats.markings as f64 / stats.items.max(1) as f64,
    )
}

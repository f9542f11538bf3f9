//! Deterministic synthetic registry data in the Tracemark interchange format (JSON Lines).
//!
//! [`generate`] writes `items` item records (weapons, parts and ammunition lots), each followed
//! by its events, drawn from the open reference catalogue embedded in this crate
//! (`catalogue/catalogue.json`, see [`catalogue()`]) and a profile of the registry's state
//! (`catalogue/states.json`; a generic profile for states it does not describe).
//!
//! The data looks like a national registry: licensed-production models, serial formats per
//! model (Cyrillic letter prefixes, Arabic-Indic and Persian digits, separators), import and
//! state-ownership marks, full life cycles (manufacture, export, import, issue, assignment,
//! loss, theft, recovery, seizure abroad, destruction), civilian holdings, corrections,
//! consignments of consecutive serials of which some are stolen from one armoury and seized in
//! different places, craft weapons without marks, and a few unknown extra fields.
//!
//! Every record obeys the life-cycle rules of `docs/INTERCHANGE.md`: per item the events are in
//! the registry's chronological order (file order equals sort order), nothing is dated before
//! manufacture, the `manufactured` event falls in `year_of_manufacture`, nothing but corrections
//! follows `destroyed`, at most one `manufactured` and one `destroyed`, no date after
//! 2026-06-30. Parts name a parent weapon written earlier.
//!
//! Output is a pure function of the options (a ChaCha8 stream seeded from `seed`; no clock, no
//! hash-map order), written in 64 KiB chunks with constant memory.

mod catalogue;
mod date;
mod gen;
mod json;
mod pattern;
mod profile;

use std::io::{self, Write};

pub use catalogue::{
    catalogue, Ammunition, Catalogue, CatalogueError, DigitSpec, Licence, Manufacturer, MarkSpec,
    Model, ProofMark, SerialFormat, Weights, CATALOGUE_JSON,
};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Number of `item` records (weapons, parts and ammunition lots all count).
    pub items: u64,
    /// Seed of the random stream: same options, same bytes.
    pub seed: u64,
    /// ISO 3166-1 alpha-2 code of the registry's state (default `KE`).
    pub state: String,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            items: 1000,
            seed: 0,
            state: "KE".to_string(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenerateStats {
    /// `item` records.
    pub items: u64,
    /// `event` records.
    pub events: u64,
    /// Markings over all items.
    pub markings: u64,
}

/// Writes `opts.items` items with their events to `out` as JSON Lines.
///
/// Errors: `InvalidInput` if `opts.state` is not an upper-case alpha-2 code; `InvalidData` if
/// the embedded catalogue is broken (a bug); otherwise the writer's errors.
pub fn generate<W: Write>(opts: &GenerateOptions, out: W) -> io::Result<GenerateStats> {
    let state = opts.state.trim().to_ascii_uppercase();
    let profile = profile::Profile::load(&state)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let cat = catalogue::compiled()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let mut g = gen::Gen::new(cat, profile, opts, out)?;
    g.run(opts.items)?;
    Ok(g.stats)
}

//! Import of interchange files: validate everything, then commit in durable batches.
//!
//! **Pass 1** reads every line, parses it, and checks it against the store and the lines
//! before it (keys, idempotency, life-cycle rules), holding only compact per-item state.
//! If any line is invalid and `accept_valid` is off, nothing is written. **Pass 2** reads the
//! files again and appends the accepted records in batches; each batch is one transaction
//! with its signed checkpoint. A batch is all-or-nothing on disk, so an import killed in
//! pass 2 leaves a valid store holding a prefix of the accepted records; running it again
//! finds that prefix as duplicates and completes the rest. The node's writer lock is held
//! across both passes so what pass 1 checked is what pass 2 writes.

use crate::envelope::{self, EnvelopeError};
use crate::lines::{Line, Lines};
use crate::node::{Node, NodeError};
use crate::Clock;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use tracemark_domain::interchange::{parse_line, FieldError, MAX_LINE_BYTES};
use tracemark_domain::lifecycle::{EventFacts, Lifecycle};
use tracemark_domain::model::{Actor, Event, Item, Record};
use tracemark_domain::projection::{project, StoredEvent};
use tracemark_ledger::merkle::Hash;
use tracemark_ledger::sign_checkpoint;
use tracemark_store::{
    Batch, EventRow, ItemAttrs, ItemState, MarkingRow, NewProjection, NewRecord, Store, StoreError,
};

/// Records per transaction. Large enough that fsync and signing are amortised, small
/// enough that a killed import loses little work.
pub const DEFAULT_BATCH_RECORDS: usize = 50_000;

/// Warnings listed one by one in a report; the rest are counted. Errors are never capped.
pub const MAX_WARNINGS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0} changed while it was being imported (line {1}); nothing more was written, run the import again")]
    Changed(String, usize),
    #[error("writing rejects to {0}: {1}")]
    Rejects(String, std::io::Error),
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger record: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("stored record damaged: {0}")]
    Damaged(String),
}

pub struct ImportOptions {
    pub accept_valid: bool,
    pub rejects: Option<PathBuf>,
    /// Who is recording (e.g. `cli:alice`); goes into every leaf.
    pub recorded_by: String,
    pub batch_records: usize,
    /// Check only: run pass 1 and report, write nothing (the register import uses it to
    /// report every problem of a file at once).
    pub dry_run: bool,
    /// Told how far the import has got, once per parsed chunk.
    pub progress: Option<ProgressFn>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            accept_valid: false,
            rejects: None,
            recorded_by: "unknown".into(),
            batch_records: DEFAULT_BATCH_RECORDS,
            dry_run: false,
            progress: None,
        }
    }
}

/// The stages of a long import, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading a register export (CSV: bytes of the file; spreadsheet: rows, no total).
    Converting,
    /// Pass 1, validating every record (bytes of input).
    Checking,
    /// Pass 2, appending accepted records to the ledger (records).
    Writing,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Converting => "reading",
            Phase::Checking => "checking",
            Phase::Writing => "writing",
        }
    }
}

/// How far a phase has got: `done` out of `total` (when known) in the phase's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: Option<u64>,
}

/// Receives [`Progress`] reports; called from the importing thread.
pub type ProgressFn = std::sync::Arc<dyn Fn(Progress) + Send + Sync>;

fn report_progress(opts: &ImportOptions, phase: Phase, done: u64, total: Option<u64>) {
    if let Some(p) = &opts.progress {
        p(Progress { phase, done, total });
    }
}

#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
pub struct LineError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, Default)]
pub struct ImportReport {
    pub accepted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub errors: Vec<LineError>,
    /// The first [`MAX_WARNINGS`] warnings (unknown fields kept as given).
    pub warnings: Vec<LineError>,
    pub warnings_total: u64,
    /// Whether anything was written.
    pub committed: bool,
    /// Ledger size after the import.
    pub ledger_size: u64,
}

/// Per-item state held during validation.
struct ItemEntry {
    digest: Hash,
    /// Whether the item is an ammunition lot (the only kind with a quantity, which a
    /// correction of the item may set).
    is_lot: bool,
    /// Where the item was declared in this import, if it was.
    declared_at: Option<(usize, usize)>,
    lifecycle: Lifecycle,
}

struct Validation<'a> {
    store: &'a dyn Store,
    items: HashMap<String, ItemEntry>,
    event_ids: HashMap<String, (Hash, usize, usize)>,
    event_digests: HashSet<Hash>,
    next_seq: u64,
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

enum Verdict {
    Accept,
    Duplicate,
}

impl Validation<'_> {
    fn entry(&mut self, key: &str) -> Result<Option<&mut ItemEntry>, ImportError> {
        if !self.items.contains_key(key) {
            let Some(row) = self.store.item_by_key(key)? else {
                return Ok(None);
            };
            let mut lifecycle = Lifecycle::new(row.attrs.year);
            for e in self.store.item_events(row.id)? {
                lifecycle.events.push(EventFacts {
                    seq: e.seq,
                    id: e
                        .event_id
                        .as_deref()
                        .map(tracemark_domain::ids::EventId::parse)
                        .transpose()
                        .map_err(ImportError::Damaged)?,
                    event_type: tracemark_domain::model::EventType::parse(&e.event_type)
                        .ok_or_else(|| {
                            ImportError::Damaged(format!("event type {}", e.event_type))
                        })?,
                    start: e.date_start,
                    end: e.date_end,
                    void: e.void,
                });
            }
            self.items.insert(
                key.to_owned(),
                ItemEntry {
                    digest: row.digest,
                    is_lot: row.kind == "ammunition_lot",
                    declared_at: None,
                    lifecycle,
                },
            );
        }
        Ok(self.items.get_mut(key))
    }

    fn exists(&mut self, key: &str) -> Result<bool, ImportError> {
        Ok(self.entry(key)?.is_some())
    }

    fn check(
        &mut self,
        file: usize,
        line: usize,
        record: &Record,
        digest: Hash,
    ) -> Result<Result<Verdict, FieldError>, ImportError> {
        match record {
            Record::Item(item) => self.check_item(file, line, item, digest),
            Record::Event(event) => self.check_event(file, line, event, digest),
        }
    }

    fn check_item(
        &mut self,
        file: usize,
        line: usize,
        item: &Item,
        digest: Hash,
    ) -> Result<Result<Verdict, FieldError>, ImportError> {
        if let Some(e) = self.entry(item.key.as_str())? {
            if e.digest == digest {
                return Ok(Ok(Verdict::Duplicate));
            }
            let where_ = match e.declared_at {
                Some((f, l)) if f == file => format!("line {l}"),
                Some((_, l)) => format!("line {l} of an earlier file"),
                None => "the store".to_owned(),
            };
            return Ok(Err(err(
                "key",
                format!(
                    "'{}' is already declared in {where_} with different attributes; record a corrected event to change an item",
                    item.key
                ),
            )));
        }
        if let Some(parent) = &item.parent {
            if !self.exists(parent.as_str())? {
                return Ok(Err(err(
                    "parent",
                    format!("no item '{parent}' in the store or earlier in the file"),
                )));
            }
        }
        self.items.insert(
            item.key.as_str().to_owned(),
            ItemEntry {
                digest,
                is_lot: item.kind == tracemark_domain::model::ItemKind::AmmunitionLot,
                declared_at: Some((file, line)),
                lifecycle: Lifecycle::new(item.year_of_manufacture),
            },
        );
        self.next_seq += 1;
        Ok(Ok(Verdict::Accept))
    }

    fn check_event(
        &mut self,
        file: usize,
        line: usize,
        event: &Event,
        digest: Hash,
    ) -> Result<Result<Verdict, FieldError>, ImportError> {
        if !self.exists(event.item.as_str())? {
            return Ok(Err(err(
                "item",
                format!(
                    "no item '{}' in the store or earlier in the file",
                    event.item
                ),
            )));
        }
        match &event.id {
            Some(id) => {
                if let Some((d, f, l)) = self.event_ids.get(id.as_str()) {
                    if *d == digest {
                        return Ok(Ok(Verdict::Duplicate));
                    }
                    let where_ = if *f == file {
                        format!("line {l}")
                    } else {
                        format!("line {l} of an earlier file")
                    };
                    return Ok(Err(err(
                        "id",
                        format!("'{id}' is already used by a different event ({where_})"),
                    )));
                }
                if let Some(row) = self.store.event_by_id(id.as_str())? {
                    if row.digest == digest {
                        return Ok(Ok(Verdict::Duplicate));
                    }
                    return Ok(Err(err(
                        "id",
                        format!(
                            "'{id}' is already used by a different event (ledger #{})",
                            row.seq
                        ),
                    )));
                }
            }
            None => {
                if self.event_digests.contains(&digest)
                    || self.store.event_by_digest(&digest)?.is_some()
                {
                    return Ok(Ok(Verdict::Duplicate));
                }
            }
        }
        for (field, key) in [("part", &event.part), ("removed_part", &event.removed_part)] {
            if let Some(key) = key {
                if !self.exists(key.as_str())? {
                    return Ok(Err(err(
                        field,
                        format!("no item '{key}' in the store or earlier in the file"),
                    )));
                }
            }
        }
        let seq = self.next_seq;
        let Some(entry) = self.entry(event.item.as_str())? else {
            return Ok(Err(err("item", "unknown item")));
        };
        // The parser checks a corrected quantity as a lot's; only here is the item's kind known.
        if let Some(c) = &event.correction {
            if matches!(c.target, tracemark_domain::model::CorrectionTarget::Item)
                && c.set.contains_key("quantity")
                && !entry.is_lot
            {
                return Ok(Err(err(
                    "set.quantity",
                    "only an ammunition_lot has a quantity",
                )));
            }
        }
        if let Err(e) = entry.lifecycle.admit(seq, event) {
            return Ok(Err(e));
        }
        match &event.id {
            Some(id) => {
                self.event_ids
                    .insert(id.as_str().to_owned(), (digest, file, line));
            }
            None => {
                self.event_digests.insert(digest);
            }
        }
        self.next_seq += 1;
        Ok(Ok(Verdict::Accept))
    }
}

fn open(path: &Path) -> Result<Lines<BufReader<File>>, ImportError> {
    let f = File::open(path).map_err(|e| ImportError::Read(path.display().to_string(), e))?;
    Ok(Lines::new(
        BufReader::with_capacity(1 << 20, f),
        MAX_LINE_BYTES,
    ))
}

/// Imports `files` as one unit. Returns the report; `report.errors` non-empty means rejected
/// data (exit status 1 in the CLI).
pub fn import(
    node: &mut Node,
    files: &[PathBuf],
    opts: &ImportOptions,
    clock: &dyn Clock,
) -> Result<ImportReport, ImportError> {
    let _lock = node.writer_lock()?;
    let mut report = ImportReport::default();
    let mut rejects = match (&opts.rejects, opts.accept_valid) {
        (Some(p), true) => Some((
            p.clone(),
            std::io::BufWriter::new(
                File::create(p).map_err(|e| ImportError::Rejects(p.display().to_string(), e))?,
            ),
        )),
        _ => None,
    };
    // accepted[file] = line numbers (1-based) to write in pass 2, ascending.
    let mut accepted: Vec<Vec<u32>> = vec![Vec::new(); files.len()];
    let start_size = node.store.ledger_size()?;
    let input_bytes: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut bytes_checked: u64 = 0;
    {
        let mut v = Validation {
            store: node.store.as_ref(),
            items: HashMap::new(),
            event_ids: HashMap::new(),
            event_digests: HashSet::new(),
            next_seq: start_size,
        };
        for (fi, path) in files.iter().enumerate() {
            let name = path.display().to_string();
            let mut lines = open(path)?;
            let mut n = 0usize;
            let mut chunk: Vec<(usize, Line)> = Vec::with_capacity(PARSE_CHUNK);
            loop {
                let line = lines
                    .next_line()
                    .map_err(|e| ImportError::Read(name.clone(), e))?;
                let at_end = line.is_none();
                if let Some(line) = line {
                    n += 1;
                    bytes_checked += 1 + match &line {
                        Line::Text(t) => t.len() as u64,
                        Line::TooLong(len) => *len,
                    };
                    chunk.push((n, line));
                }
                if chunk.len() < PARSE_CHUNK && !at_end {
                    continue;
                }
                // Parsing and canonicalization run on every core; the checks against the
                // store and earlier lines run in order.
                let parsed: Vec<(usize, Line, Option<Parsed>)> = std::mem::take(&mut chunk)
                    .into_par_iter()
                    .map(|(n, line)| {
                        let p = match &line {
                            Line::TooLong(len) => Some(Err(vec![err(
                                "",
                                format!("line is {len} bytes, longer than the limit of {MAX_LINE_BYTES}"),
                            )])),
                            Line::Text(t) if t.iter().all(u8::is_ascii_whitespace) => None,
                            Line::Text(t) => Some(parse_with_digest(t)),
                        };
                        (n, line, p)
                    })
                    .collect();
                for (n, line, p) in parsed {
                    let Some(p) = p else { continue };
                    let outcome = match p {
                        Ok((p, digest)) => {
                            for u in &p.unknown_fields {
                                report.warnings_total += 1;
                                if report.warnings.len() >= MAX_WARNINGS {
                                    continue;
                                }
                                report.warnings.push(LineError {
                                    file: name.clone(),
                                    line: n,
                                    field: u.clone(),
                                    message: "unknown field kept as given".into(),
                                });
                            }
                            v.check(fi, n, &p.record, digest)?.map_err(|e| vec![e])
                        }
                        Err(errors) => Err(errors),
                    };
                    match outcome {
                        Ok(Verdict::Accept) => {
                            report.accepted += 1;
                            accepted[fi].push(n as u32);
                        }
                        Ok(Verdict::Duplicate) => report.duplicates += 1,
                        Err(errors) => {
                            report.rejected += 1;
                            for e in errors {
                                report.errors.push(LineError {
                                    file: name.clone(),
                                    line: n,
                                    field: e.field,
                                    message: e.message,
                                });
                            }
                            if let (Some((p, w)), Line::Text(t)) = (&mut rejects, &line) {
                                w.write_all(t)
                                    .and_then(|_| w.write_all(b"\n"))
                                    .map_err(|e| {
                                        ImportError::Rejects(p.display().to_string(), e)
                                    })?;
                            }
                        }
                    }
                }
                report_progress(opts, Phase::Checking, bytes_checked, Some(input_bytes));
                if at_end {
                    break;
                }
            }
        }
    }
    if let Some((p, mut w)) = rejects {
        w.flush()
            .map_err(|e| ImportError::Rejects(p.display().to_string(), e))?;
    }
    if !report.errors.is_empty() && !opts.accept_valid {
        // All or nothing: a single invalid line means nothing is written.
        report.accepted = 0;
        report.duplicates = 0;
        report.ledger_size = start_size;
        return Ok(report);
    }
    if opts.dry_run {
        report.ledger_size = start_size;
        return Ok(report);
    }
    if report.accepted > 0 {
        commit_accepted(node, files, &accepted, opts, clock, report.accepted)?;
        report.committed = true;
    }
    report.ledger_size = node.store.ledger_size()?;
    Ok(report)
}

/// Pass 2: writes the accepted lines in batches.
fn commit_accepted(
    node: &mut Node,
    files: &[PathBuf],
    accepted: &[Vec<u32>],
    opts: &ImportOptions,
    clock: &dyn Clock,
    total: u64,
) -> Result<(), ImportError> {
    let mut batch = BatchBuilder::new(node.store.ledger_size()?, clock.now_rfc3339());
    let mut written: u64 = 0;
    for (fi, path) in files.iter().enumerate() {
        let name = path.display().to_string();
        let mut wanted = accepted[fi].iter().copied().peekable();
        let mut lines = open(path)?;
        let mut n = 0u32;
        let mut chunk: Vec<(u32, Vec<u8>)> = Vec::with_capacity(PARSE_CHUNK);
        loop {
            let done = wanted.peek().is_none();
            if !done {
                let Some(line) = lines
                    .next_line()
                    .map_err(|e| ImportError::Read(name.clone(), e))?
                else {
                    return Err(ImportError::Changed(name, n as usize));
                };
                n += 1;
                if wanted.peek() == Some(&n) {
                    wanted.next();
                    let Line::Text(text) = line else {
                        return Err(ImportError::Changed(name, n as usize));
                    };
                    chunk.push((n, text));
                }
            }
            if chunk.len() < PARSE_CHUNK && !done {
                continue;
            }
            let recorded_at = batch.recorded_at.clone();
            let prepared: Vec<Result<Prepared, u32>> = std::mem::take(&mut chunk)
                .into_par_iter()
                .map(|(n, text)| {
                    let parsed = parse_line(&text).map_err(|_| n)?;
                    let (data, digest) = envelope::encode_with_digest(
                        &parsed.object,
                        &recorded_at,
                        &opts.recorded_by,
                    )
                    .map_err(|_| n)?;
                    Ok(Prepared {
                        record: parsed.record,
                        object: parsed.object,
                        data,
                        digest,
                    })
                })
                .collect();
            for p in prepared {
                let p = p.map_err(|n| ImportError::Changed(name.clone(), n as usize))?;
                batch.add(node, p)?;
                if batch.records.len() >= opts.batch_records.max(1) {
                    let next = batch.commit(node)?;
                    batch = BatchBuilder::new(next, clock.now_rfc3339());
                }
                written += 1;
            }
            report_progress(opts, Phase::Writing, written, Some(total));
            if done {
                break;
            }
        }
    }
    if !batch.records.is_empty() {
        batch.commit(node)?;
    }
    Ok(())
}

/// Lines parsed (and canonicalized) per parallel step.
const PARSE_CHUNK: usize = 8192;

type Parsed = Result<(tracemark_domain::interchange::ParsedRecord, Hash), Vec<FieldError>>;

fn parse_with_digest(line: &[u8]) -> Parsed {
    let p = parse_line(line)?;
    let digest = envelope::digest(&p.object).map_err(|e| vec![err("", e.to_string())])?;
    Ok((p, digest))
}

/// A record ready to append: parsed, encoded as leaf bytes, digested.
struct Prepared {
    record: Record,
    object: Map<String, Value>,
    data: Vec<u8>,
    digest: Hash,
}

/// What pass 2 knows about an item touched by the current batch.
struct Touched {
    id: u64,
    object: Map<String, Value>,
    events: Vec<StoredEvent>,
    /// Index in `records` of the declaration, when it is in this batch.
    declared_in_batch: Option<usize>,
    corrected: bool,
}

struct BatchBuilder {
    first_index: u64,
    recorded_at: String,
    records: Vec<NewRecord>,
    touched: HashMap<String, Touched>,
    order: Vec<String>,
}

pub fn actor_json(a: &Actor) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::from(a.name.clone()));
    if let Some(c) = &a.country {
        m.insert("country".into(), Value::from(c.as_str()));
    }
    if let Some(k) = a.kind {
        m.insert("kind".into(), Value::from(k.as_str()));
    }
    if let Some(l) = &a.licence {
        m.insert("licence".into(), Value::from(l.clone()));
    }
    if let Some(ad) = &a.address {
        m.insert("address".into(), Value::from(ad.clone()));
    }
    Value::Object(m)
}

pub fn attrs_of(item: &Item) -> ItemAttrs {
    ItemAttrs {
        make: item.make.clone(),
        model: item.model.clone(),
        calibre: item.calibre.clone(),
        country: item.country_of_manufacture.map(|c| c.to_string()),
        year: item.year_of_manufacture,
        parent: item.parent.as_ref().map(|p| p.to_string()),
        markings: item
            .markings
            .iter()
            .map(|m| MarkingRow {
                kind: m.kind.as_str().into(),
                text: m.text.clone(),
                component: m.component.clone(),
                legibility: m.legibility.as_str().into(),
            })
            .collect(),
    }
}

/// Loads an item's declaration and events from the ledger.
pub fn load_item_records(
    store: &dyn Store,
    id: u64,
) -> Result<(Map<String, Value>, Vec<StoredEvent>), ImportError> {
    let leaf = store
        .leaf(id)?
        .ok_or_else(|| ImportError::Damaged(format!("item declaration #{id} missing")))?;
    let object = envelope::decode(&leaf.data, false)?.record;
    let mut events = Vec::new();
    for e in store.item_events(id)? {
        let leaf = store
            .leaf(e.seq)?
            .ok_or_else(|| ImportError::Damaged(format!("event #{} missing", e.seq)))?;
        events.push(StoredEvent {
            seq: e.seq,
            object: envelope::decode(&leaf.data, false)?.record,
        });
    }
    Ok((object, events))
}

impl BatchBuilder {
    fn new(first_index: u64, recorded_at: String) -> Self {
        BatchBuilder {
            first_index,
            recorded_at,
            records: Vec::new(),
            touched: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn next_seq(&self) -> u64 {
        self.first_index + self.records.len() as u64
    }

    fn touch(&mut self, store: &dyn Store, key: &str) -> Result<&mut Touched, ImportError> {
        if !self.touched.contains_key(key) {
            let row = store
                .item_by_key(key)?
                .ok_or_else(|| ImportError::Damaged(format!("item '{key}' vanished")))?;
            let (object, events) = load_item_records(store, row.id)?;
            self.touched.insert(
                key.to_owned(),
                Touched {
                    id: row.id,
                    object,
                    events,
                    declared_in_batch: None,
                    corrected: false,
                },
            );
            self.order.push(key.to_owned());
        }
        self.touched
            .get_mut(key)
            .ok_or_else(|| ImportError::Damaged(key.to_owned()))
    }

    fn add(&mut self, node: &Node, prepared: Prepared) -> Result<(), ImportError> {
        let Prepared {
            record,
            object,
            data,
            digest,
        } = prepared;
        let seq = self.next_seq();
        match record {
            Record::Item(item) => {
                let key = item.key.as_str().to_owned();
                self.records.push(NewRecord {
                    data,
                    projection: NewProjection::Item {
                        key: key.clone(),
                        kind: item.kind.as_str().into(),
                        digest,
                        attrs: attrs_of(&item),
                        state: ItemState {
                            status: "recorded".into(),
                            holder: None,
                        },
                    },
                });
                self.touched.insert(
                    key.clone(),
                    Touched {
                        id: seq,
                        object,
                        events: Vec::new(),
                        declared_in_batch: Some(self.records.len() - 1),
                        corrected: false,
                    },
                );
                self.order.push(key);
            }
            Record::Event(event) => {
                let t = self.touch(node.store.as_ref(), event.item.as_str())?;
                t.events.push(StoredEvent { seq, object });
                t.corrected |= event.correction.is_some();
                let item_id = t.id;
                self.records.push(NewRecord {
                    data,
                    projection: NewProjection::Event(EventRow {
                        seq,
                        item_id,
                        event_id: event.id.as_ref().map(|i| i.to_string()),
                        digest,
                        event_type: event.event_type.as_str().into(),
                        date: event.date.as_str().into(),
                        date_start: event.date.start(),
                        date_end: event.date.end(),
                        void: false,
                    }),
                });
            }
        }
        Ok(())
    }

    /// Projects every touched item and commits; returns the next ledger index.
    fn commit(mut self, node: &mut Node) -> Result<u64, ImportError> {
        let mut updates = tracemark_store::ProjectionUpdates::default();
        // Projections are pure: compute them on every core, apply them in order.
        let touched: Vec<&Touched> = self
            .order
            .iter()
            .filter_map(|k| self.touched.get(k))
            .collect();
        let projected: Vec<_> = touched
            .par_iter()
            .map(|t| project(t.id, &t.object, &t.events))
            .collect();
        for (t, p) in touched.into_iter().zip(projected) {
            let p = p.map_err(|e| ImportError::Damaged(e.to_string()))?;
            let state = ItemState {
                status: p.status.as_str().into(),
                holder: p.holder.as_ref().map(|h| actor_json(h).to_string()),
            };
            match t.declared_in_batch {
                Some(i) => {
                    if let NewProjection::Item {
                        state: s, attrs, ..
                    } = &mut self.records[i].projection
                    {
                        *s = state;
                        if t.corrected {
                            *attrs = attrs_of(&p.item);
                        }
                    }
                }
                None => {
                    updates.states.push((t.id, state));
                    if t.corrected {
                        updates.attrs.push((t.id, attrs_of(&p.item)));
                    }
                }
            }
            if t.corrected {
                for e in &p.events {
                    if e.corrected_by.iter().any(|s| *s >= self.first_index) {
                        updates.event_dates.push((
                            e.seq,
                            e.event.date.as_str().into(),
                            e.event.date.start(),
                            e.event.date.end(),
                        ));
                        if e.void {
                            updates.voided.push(e.seq);
                        }
                    }
                }
            }
        }
        let batch = Batch {
            first_index: self.first_index,
            records: self.records,
            updates,
        };
        Ok(commit_batch(node, batch)?)
    }
}

/// Commits one batch with a checkpoint signed by the node's key; returns the new size.
pub fn commit_batch(node: &mut Node, batch: Batch) -> Result<u64, StoreError> {
    let signer = &node.signer;
    let origin = node.info.origin.clone();
    let sign = |size: u64, root: &Hash| {
        sign_checkpoint(
            signer,
            &tracemark_ledger::Checkpoint {
                origin: origin.clone(),
                size,
                root: *root,
            },
        )
        .map_err(|e| e.to_string())
    };
    Ok(node.store.commit(batch, &sign)?.size)
}

//! Storage behind one trait.
//!
//! The registry engine talks to a [`Store`]; each backend (embedded SQLite in [`sqlite`],
//! PostgreSQL in [`postgres`]) writes its own SQL. The backend is chosen once, in the binary.
//!
//! **Architecture invariants:**
//! - Only this crate speaks SQL.
//! - The ledger is append-only: there is no update or delete path for ledger rows or
//!   checkpoints, and both schemas refuse them with triggers.
//! - One [`Batch`] is one transaction: ledger leaves, Merkle tiles, the signed checkpoint and
//!   the projections are committed together or not at all. Acknowledged means on disk.
//! - Projections (items, markings, events tables) are derived from the ledger and can be
//!   rebuilt from it; they are never the source of truth.

pub mod postgres;
pub mod sqlite;

use tracemark_ledger::merkle::Hash;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no store at {0}: run `tracemark init --state <CC>` first")]
    NotInitialised(String),
    #[error("a store already exists at {0}; refusing to overwrite it")]
    AlreadyExists(String),
    #[error(
        "the store was changed by another writer (expected ledger size {expected}, found {found})"
    )]
    Conflict { expected: u64, found: u64 },
    #[error(
        "the store's schema version {found} is newer than this program supports ({supported})"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("store is damaged: {0}")]
    Corrupt(String),
    #[error("signing the checkpoint failed: {0}")]
    Signing(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL failure (unreachable server, refused statement…), one line.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who this node is: fixed at `init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub state: String,
    pub name: String,
    /// Checkpoint origin and note key name.
    pub origin: String,
    /// The signed-note verifier key (`<name>+<id>+<base64>`).
    pub verifier_key: String,
    pub created_at: String,
}

#[derive(Clone, Debug)]
pub struct LeafRow {
    pub index: u64,
    pub data: Vec<u8>,
    pub leaf_hash: Hash,
}

#[derive(Clone, Debug)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note, exactly as signed.
    pub note: String,
}

/// The projection row of an item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRow {
    /// The internal id: the ledger index of the item's declaration.
    pub id: u64,
    pub key: String,
    pub kind: String,
    /// SHA-256 of the canonical JSON of the declaration (idempotent re-import).
    pub digest: Hash,
    pub attrs: ItemAttrs,
    pub state: ItemState,
}

/// Searchable attributes of an item, with corrections applied.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ItemAttrs {
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    pub country: Option<String>,
    pub year: Option<i32>,
    pub parent: Option<String>,
    pub markings: Vec<MarkingRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MarkingRow {
    pub kind: String,
    pub text: String,
    pub component: Option<String>,
    pub legibility: String,
}

/// Derived current state of an item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemState {
    pub status: String,
    /// The current holder as JSON (the actor object), if any.
    pub holder: Option<String>,
}

/// The projection row of an event (what the life-cycle rules need without reading the ledger).
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub seq: u64,
    pub item_id: u64,
    pub event_id: Option<String>,
    pub digest: Hash,
    pub event_type: String,
    pub date: String,
    pub date_start: i64,
    pub date_end: i64,
    pub void: bool,
}

/// One record to append, with its projection.
#[derive(Clone, Debug)]
pub struct NewRecord {
    /// The leaf bytes (canonical JSON of the record envelope).
    pub data: Vec<u8>,
    pub projection: NewProjection,
}

#[derive(Clone, Debug)]
pub enum NewProjection {
    Item {
        key: String,
        kind: String,
        digest: Hash,
        attrs: ItemAttrs,
        state: ItemState,
    },
    Event(EventRow),
}

/// Projection changes caused by events: new state, corrected attributes, voided events.
#[derive(Clone, Debug, Default)]
pub struct ProjectionUpdates {
    pub states: Vec<(u64, ItemState)>,
    pub attrs: Vec<(u64, ItemAttrs)>,
    /// (seq of the voided event, new date range and text) for corrected dates.
    pub event_dates: Vec<(u64, String, i64, i64)>,
    pub voided: Vec<u64>,
}

/// One transaction's worth of appends. `first_index` must equal the ledger size when the
/// batch commits, which guards against a concurrent writer.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    pub first_index: u64,
    pub records: Vec<NewRecord>,
    pub updates: ProjectionUpdates,
}

/// Signs the checkpoint for a tree size and root; returns the signed note.
pub type CheckpointSigner<'a> = dyn Fn(u64, &Hash) -> std::result::Result<String, String> + 'a;

/// Held while a whole import runs (see [`Store::writer_lock`]); released when dropped.
pub struct WriterGuard(pub Box<dyn std::any::Any + Send>);

impl std::fmt::Debug for WriterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriterGuard")
    }
}

/// The storage interface every backend implements.
pub trait Store {
    fn node(&self) -> Result<NodeInfo>;
    fn ledger_size(&self) -> Result<u64>;
    fn leaf(&self, index: u64) -> Result<Option<LeafRow>>;
    /// Calls `f` for every leaf in `[from, to)` in index order.
    fn scan_leaves(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LeafRow) -> Result<()>,
    ) -> Result<()>;
    /// Root of the perfect subtree `[start, start+size)` from stored hashes and tiles.
    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash>;
    /// Every stored tile (height, index, hash), for verification.
    fn scan_tiles(&self, f: &mut dyn FnMut(u8, u64, Hash) -> Result<()>) -> Result<()>;
    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>>;
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;

    fn item_by_key(&self, key: &str) -> Result<Option<ItemRow>>;
    fn item_by_id(&self, id: u64) -> Result<Option<ItemRow>>;
    /// Keys of the parts declared (or corrected) as belonging to the item `parent_key`.
    fn parts_of(&self, parent_key: &str) -> Result<Vec<String>>;
    fn item_events(&self, item_id: u64) -> Result<Vec<EventRow>>;
    fn event_by_id(&self, event_id: &str) -> Result<Option<EventRow>>;
    fn event_by_digest(&self, digest: &Hash) -> Result<Option<EventRow>>;
    fn event_by_seq(&self, seq: u64) -> Result<Option<EventRow>>;
    /// Calls `f` for every item projection row, in id order.
    fn scan_items(&self, f: &mut dyn FnMut(ItemRow) -> Result<()>) -> Result<()> {
        self.scan_items_from(0, f)
    }
    /// Calls `f` for every item projection row with id ≥ `from_id`, in id order.
    fn scan_items_from(&self, from_id: u64, f: &mut dyn FnMut(ItemRow) -> Result<()>)
        -> Result<()>;
    /// Event projection rows with ledger index ≥ `from_seq`, in index order.
    fn events_from(&self, from_seq: u64) -> Result<Vec<EventRow>>;
    /// Number of events in the projection.
    fn event_count(&self) -> Result<u64>;

    /// Serialises whole imports (validation, then commits) across processes, when the
    /// backend can: `None` means the caller must provide the lock itself (the registry uses a
    /// lock file beside an embedded store). PostgreSQL holds an advisory lock in the database,
    /// which every app server sharing it sees.
    fn writer_lock(&self) -> Result<Option<WriterGuard>> {
        Ok(None)
    }

    /// Appends a batch in one durable transaction and signs a checkpoint for the new size.
    fn commit(&mut self, batch: Batch, sign: &CheckpointSigner<'_>) -> Result<StoredCheckpoint>;
}

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
    /// A trace changed between reading it and committing a step to it (another app server
    /// or process took a step): read it again and retry.
    #[error(
        "trace {trace} was changed by another writer (expected {expected} records, found {found})"
    )]
    TraceMoved {
        trace: String,
        expected: u64,
        found: u64,
    },
    #[error(
        "the store's schema version {found} is newer than this program supports ({supported})"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("store is damaged: {0}")]
    Corrupt(String),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("{0} does not exist")]
    Missing(String),
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

/// An agency of the node's state (organisation model, issue #4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyRow {
    /// Checked short name (`tracemark_domain::account::AgencyName`).
    pub name: String,
    /// `police`, `defence`, `customs`, `licensing`, `dealer` or `other`.
    pub kind: String,
    /// The holder name under which records name this agency (`to.name` of an event); `None`
    /// if its holdings are not recorded under one name.
    pub holder_name: Option<String>,
    /// The holder kind of its holdings (`to.kind`, e.g. `armed_forces`); with `holder_name`
    /// both must match. Together they say which items the agency holds (need-to-know, and
    /// whom to notify of a hit on an item it reported lost or stolen).
    pub holder_kind: Option<String>,
    /// Whether items it holds are visible only to its own users (and the roles the policy
    /// exempts).
    pub need_to_know: bool,
    pub created_at: String,
}

/// A person's account. Secrets are stored only as hashes (Argon2id PHC string) or, for the
/// TOTP seed, as the base32 secret the authenticator also holds.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub agency: String,
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret once enrolment has started.
    pub totp_secret: Option<String>,
    /// Whether a code from that secret has been checked once (enrolment finished).
    pub totp_verified: bool,
    /// Consecutive failed sign-ins since the last success.
    pub failed_logins: u32,
    /// Unix time (seconds) until which sign-in is refused.
    pub locked_until: Option<i64>,
    pub created_at: String,
}

impl std::fmt::Debug for UserRow {
    // Redacted: neither the password hash nor the TOTP secret belongs in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("name", &self.name)
            .field("agency", &self.agency)
            .field("role", &self.role)
            .field("totp_verified", &self.totp_verified)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A service account's API token. Only the SHA-256 of its secret part is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// The public token id (the part before the secret).
    pub id: String,
    pub service: String,
    pub agency: String,
    pub role: String,
    pub secret_sha256: Hash,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A notification to an agency (a hit on an item it reported lost or stolen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRow {
    /// Increasing, per node.
    pub id: u64,
    /// The agency notified.
    pub agency: String,
    pub created_at: String,
    /// The item concerned.
    pub item_key: String,
    /// `search_hit` or `seizure`.
    pub kind: String,
    /// Details as a JSON object (who searched or recorded, the query, whom to contact).
    pub data: String,
}

/// One entry of the audit log: its position in the audit Merkle tree and its canonical JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub index: u64,
    pub data: Vec<u8>,
    pub leaf_hash: Hash,
}

/// Which audit entries an auditor asks for: each field that is set must equal the entry's
/// field of the same name; `since`/`until` bound its `time` (RFC 3339 UTC text, compared as
/// text, so give them in the entries' own form, e.g. `2026-12-04T10:00:00Z`; `until` is
/// exclusive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub principal: Option<String>,
    pub agency: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub decision: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// A peer of the federation: another state's node, as an administrator added it. The rules
/// (what a key conflict is, what a valid URL is) are `tracemark_federation::directory`'s; the
/// store keeps the outcome, one row per state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerRow {
    /// ISO 3166-1 alpha-2 code of the peer's state (the key).
    pub state: String,
    /// The peer's base URL.
    pub url: String,
    /// Its public identity, JSON (`{"state","sign","encrypt"}`).
    pub identity: String,
    pub added_at: String,
    /// When the keys or the URL were last changed, if ever.
    pub replaced_at: Option<String>,
}

/// A federation message as this node received it (the inbox): the envelope exactly as it
/// arrived, still encrypted, and the signed delivery receipt given for it. The key is
/// (sender, message id); a row is never changed or removed, so a message that arrives again
/// is answered with the same receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxRow {
    /// The sending state (ISO 3166-1 alpha-2).
    pub sender: String,
    /// The message id (32 hex digits).
    pub message_id: String,
    /// RFC 3339 UTC: when this node accepted it (the receipt's `received_at`).
    pub received_at: String,
    /// The message kind, as in the envelope (`request`, `ack`, …).
    pub kind: String,
    /// The envelope's JSON, as received.
    pub envelope: Vec<u8>,
    /// The receipt JSON given for it.
    pub receipt: String,
}

/// The projection row of a trace (issue #5): what a list of traces shows, derived from the
/// trace's records in the trace log and recomputed from them by verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRow {
    /// The node-wide key: the requesting state, `:`, and the trace id (ids are the requesting
    /// state's own numbering, so two states may use the same one).
    pub key: String,
    /// `requesting` (this node asked) or `requested` (this node was asked).
    pub role: String,
    pub requesting_state: String,
    pub case_reference: String,
    /// The trace this one was chained from, by key.
    pub parent: Option<String>,
    /// The life-cycle state's name (`draft`, `sent`, … `closed`).
    pub status: String,
    /// `urgent` or `routine` once sent.
    pub priority: Option<String>,
    /// The requested states, comma-separated in code order (empty while a draft).
    pub requested_states: String,
    /// RFC 3339: the first and the last event's times.
    pub opened_at: String,
    pub updated_at: String,
    /// How many records the trace has in the trace log.
    pub records: u64,
}

/// One leaf of the trace log.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceLeaf {
    pub index: u64,
    /// The key of the trace it belongs to.
    pub trace: String,
    pub data: Vec<u8>,
    pub leaf_hash: Hash,
}

/// A federation message waiting for (or done with) delivery to one peer. The envelope is
/// sealed once, when the step is recorded; the row then only tracks delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    /// The receiving state.
    pub peer: String,
    /// 32 hex digits; the key is (peer, message id).
    pub message_id: String,
    /// The key of the trace the message is about.
    pub trace: String,
    pub kind: String,
    /// The envelope's JSON (resealed in place when it waited too long).
    pub envelope: Vec<u8>,
    pub created_at: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// RFC 3339: not to be tried before.
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    /// When the peer's signed receipt came, and the receipt.
    pub delivered_at: Option<String>,
    pub receipt: Option<String>,
    /// The peer refused the message for good (its rejection code and message): it is not
    /// retried, and an officer must look at it.
    pub refused: Option<String>,
}

/// A failed delivery attempt (see [`Store::outbox_failed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxFailure {
    /// Failed attempts, this one included.
    pub attempts: u32,
    pub next_attempt_at: String,
    pub error: String,
    /// The peer refused for good.
    pub refused: bool,
    /// The envelope sealed again, to replace the stored one.
    pub resealed: Option<Vec<u8>>,
}

/// A delivery confirmed by the peer's signed receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxDelivery {
    pub peer: String,
    pub message_id: String,
    pub delivered_at: String,
    pub receipt: String,
}

/// Everything one trace step changes, written in one transaction: the step's records in the
/// trace log (under one new signed checkpoint), the traces' new projection rows, the messages
/// it sends, the message it came in (if received), and the delivery it confirms (if any).
#[derive(Clone, Debug, Default)]
pub struct TraceCommit {
    /// (trace key, leaf bytes), appended in order.
    pub records: Vec<(String, Vec<u8>)>,
    /// Replaces the row of each trace named (inserting it if new).
    pub projections: Vec<TraceRow>,
    pub outbox: Vec<OutboxRow>,
    /// With an inbox row, the commit happens only if the message is new.
    pub inbox: Option<InboxRow>,
    pub delivered: Option<OutboxDelivery>,
    /// (trace key, records it had when the step was computed): checked under the trace log's
    /// lock, so a step computed from a stale state fails with [`StoreError::TraceMoved`].
    pub expect: Vec<(String, u64)>,
}

/// What [`Store::commit_trace`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceCommitted {
    /// Written; the first record's index in the trace log.
    Appended(u64),
    /// The commit's inbox message was already there: nothing was written.
    DuplicateMessage,
}

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

    // --- Accounts (issue #4). Names arrive checked by `tracemark_domain::account`. ---

    /// Adds an agency; [`StoreError::Duplicate`] if the name is taken.
    fn insert_agency(&mut self, agency: &AgencyRow) -> Result<()>;
    fn agencies(&self) -> Result<Vec<AgencyRow>>;
    /// Adds a user; [`StoreError::Duplicate`] if the name is taken, [`StoreError::Missing`]
    /// if the agency does not exist.
    fn insert_user(&mut self, user: &UserRow) -> Result<()>;
    fn user(&self, name: &str) -> Result<Option<UserRow>>;
    fn users(&self) -> Result<Vec<UserRow>>;
    /// Replaces the user's password hash (and clears its lockout).
    fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()>;
    /// Records the outcome of a sign-in: the failure count and lockout after it.
    fn set_login_state(
        &mut self,
        name: &str,
        failed_logins: u32,
        locked_until: Option<i64>,
    ) -> Result<()>;
    /// Starts (secret) or finishes (verified) TOTP enrolment; `None` removes it.
    fn set_totp(&mut self, name: &str, secret: Option<&str>, verified: bool) -> Result<()>;
    /// The TOTP replay guard: records that the code of time step `step` was used, atomically,
    /// and answers `false` if a code of this step or a later one was already used.
    fn use_totp_step(&mut self, name: &str, step: i64) -> Result<bool>;

    fn insert_token(&mut self, token: &TokenRow) -> Result<()>;
    fn token(&self, id: &str) -> Result<Option<TokenRow>>;
    fn tokens(&self) -> Result<Vec<TokenRow>>;
    /// Revokes a token; `false` if there is no such token or it was already revoked.
    fn revoke_token(&mut self, id: &str, at: &str) -> Result<bool>;

    // --- Notifications to agencies (hits on items they reported lost or stolen). ---

    /// Adds a notification; returns its id.
    fn insert_notification(
        &mut self,
        agency: &str,
        created_at: &str,
        item_key: &str,
        kind: &str,
        data: &str,
    ) -> Result<u64>;
    /// The agency's notifications with id > `after`, oldest first, at most `limit`.
    fn notifications(&self, agency: &str, after: u64, limit: u64) -> Result<Vec<NotificationRow>>;

    // --- The audit log: a second append-only Merkle log, with its own signed checkpoints. ---

    /// Appends `entries` and one signed checkpoint of the audit tree over all
    /// of them in one durable transaction; returns the first entry's index (the others
    /// follow in order; with no entries, the log's size and nothing is written). Batching is the audit log's group commit: under load, the entries
    /// of concurrent requests share one transaction and one signature.
    fn append_audit(&mut self, entries: &[Vec<u8>], sign: &CheckpointSigner<'_>) -> Result<u64>;
    fn audit_size(&self) -> Result<u64>;
    /// Up to `limit` entries with index ≥ `from` that match `filter`, in index order (the
    /// filter runs in the database; with the default filter, entries `[from, from + limit)`).
    fn audit_entries(&self, from: u64, limit: u64, filter: &AuditFilter) -> Result<Vec<AuditRow>>;
    fn latest_audit_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;

    // --- The federation's peer directory (issue #5). ---

    /// Every peer, in state order.
    fn peers(&self) -> Result<Vec<PeerRow>>;
    /// Adds a peer; [`StoreError::Duplicate`] if its state is already there.
    fn add_peer(&mut self, peer: &PeerRow) -> Result<()>;
    /// Puts `peer` in place of the row for its state (URL, identity and both times);
    /// [`StoreError::Missing`] if there is none.
    fn replace_peer(&mut self, peer: &PeerRow) -> Result<()>;

    // --- The federation inbox: messages received from peers (issue #5). ---

    /// The message received from `sender` with `message_id`, if any.
    fn inbox_get(&self, sender: &str, message_id: &str) -> Result<Option<InboxRow>>;
    /// Records a received message; `false` (and nothing written) if one with the same
    /// (sender, message id) is already there: a row is never overwritten.
    fn inbox_put(&mut self, row: &InboxRow) -> Result<bool>;

    /// A node-wide setting (the `meta` table), if set.
    fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Sets `key` to `value` unless it is set already; returns the value now stored (the
    /// first one wins when app servers race).
    fn setting_once(&mut self, key: &str, value: &str) -> Result<String>;

    // --- The trace log, the traces' projection and the outbox (issue #5). ---

    /// Applies one trace step (see [`TraceCommit`]) atomically; `sign` signs the trace log's
    /// new checkpoint. An outbox row with an existing (peer, id) is
    /// [`StoreError::Duplicate`], and nothing is written.
    fn commit_trace(
        &mut self,
        commit: &TraceCommit,
        sign: &CheckpointSigner<'_>,
    ) -> Result<TraceCommitted>;
    fn trace_log_size(&self) -> Result<u64>;
    /// The leaves with `from <= index < to`, in order.
    fn trace_leaves(&self, from: u64, to: u64) -> Result<Vec<TraceLeaf>>;
    /// The leaves of one trace, in order.
    fn trace_records(&self, trace: &str) -> Result<Vec<TraceLeaf>>;
    fn trace_checkpoints(&self) -> Result<Vec<StoredCheckpoint>>;
    fn trace(&self, key: &str) -> Result<Option<TraceRow>>;
    /// Every trace, most recently updated first.
    fn traces(&self) -> Result<Vec<TraceRow>>;
    /// Every outbox row, oldest first.
    fn outbox(&self) -> Result<Vec<OutboxRow>>;
    /// Records a failed delivery attempt: the new attempt count, next time and error, with
    /// `refused` set when the peer refused for good, and the envelope when it was resealed.
    fn outbox_failed(&mut self, peer: &str, message_id: &str, f: &OutboxFailure) -> Result<()>;

    // --- Photographs (the web app's recording pages). Stored by the SHA-256 of their
    // bytes, so one photograph is stored once however often it is sent; the ledger carries
    // the hash (a `photographed` event), this store carries the bytes. ---

    /// Stores `bytes` under `sha256` (their hash, computed by the caller) with their media
    /// type; `false` (and nothing written) when that hash is stored already.
    fn put_photo(&mut self, sha256: &Hash, media_type: &str, bytes: &[u8]) -> Result<bool>;
    /// The media type and bytes of the photograph with this hash, if stored.
    fn photo(&self, sha256: &Hash) -> Result<Option<(String, Vec<u8>)>>;

    // --- A person's own settings ---

    /// The language `name` chose for the web pages (a BCP 47 tag), if any; `None` too for
    /// an unknown user.
    fn user_language(&self, name: &str) -> Result<Option<String>>;
    /// Remembers `name`'s language, replacing an earlier choice; an unknown user is
    /// [`StoreError::Missing`].
    fn set_user_language(&mut self, name: &str, language: &str) -> Result<()>;
}

/// Checks the users' language setting on a fresh store of any backend.
#[cfg(test)]
pub(crate) fn check_user_language(store: &mut dyn Store) {
    store
        .insert_agency(&AgencyRow {
            name: "police".into(),
            kind: "police".into(),
            holder_name: None,
            holder_kind: None,
            need_to_know: false,
            created_at: "2026-01-01T00:00:00Z".into(),
        })
        .unwrap();
    store
        .insert_user(&UserRow {
            name: "alice".into(),
            agency: "police".into(),
            role: "investigator".into(),
            password_hash: "$argon2id$x".into(),
            totp_secret: None,
            totp_verified: false,
            failed_logins: 0,
            locked_until: None,
            created_at: "2026-01-01T00:00:00Z".into(),
        })
        .unwrap();
    assert_eq!(store.user_language("alice").unwrap(), None);
    store.set_user_language("alice", "ar").unwrap();
    assert_eq!(store.user_language("alice").unwrap().as_deref(), Some("ar"));
    store.set_user_language("alice", "fr").unwrap();
    assert_eq!(store.user_language("alice").unwrap().as_deref(), Some("fr"));
    assert!(matches!(
        store.set_user_language("nobody", "fr"),
        Err(StoreError::Missing(_))
    ));
    assert_eq!(store.user_language("nobody").unwrap(), None);
    // The rest of the account is as it was.
    assert_eq!(store.user("alice").unwrap().unwrap().role, "investigator");
}

/// Checks the photographs' contract on a fresh store of any backend: stored once by hash
/// (a second put of the same hash writes nothing and keeps the first), read back as stored.
#[cfg(test)]
pub(crate) fn check_photos(store: &mut dyn Store) {
    let a = [7u8; 32];
    let b = [9u8; 32];
    assert_eq!(store.photo(&a).unwrap(), None);
    assert!(store.put_photo(&a, "image/png", b"\x89PNG one").unwrap());
    assert!(!store.put_photo(&a, "image/jpeg", b"other").unwrap());
    assert_eq!(
        store.photo(&a).unwrap(),
        Some(("image/png".to_owned(), b"\x89PNG one".to_vec()))
    );
    assert!(store.put_photo(&b, "image/webp", &[0u8; 3000]).unwrap());
    assert_eq!(store.photo(&b).unwrap().unwrap().1.len(), 3000);
}

/// Checks the trace log's contract on a fresh store of any backend: records, projections and
/// outbox rows of one step land together under one signed checkpoint; a step that comes with
/// a message already received writes nothing; an outbox key used twice fails the whole step;
/// delivery and failures update only the outbox row; the log is append-only.
#[cfg(test)]
pub(crate) fn check_trace_log(store: &mut dyn Store) {
    use tracemark_ledger::merkle::{leaf_hash, CompactRange};
    let sign = |size: u64, root: &Hash| -> std::result::Result<String, String> {
        Ok(format!(
            "cp {size} {}",
            root.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ))
    };
    let row = |key: &str, status: &str, records: u64| TraceRow {
        key: key.into(),
        role: "requesting".into(),
        requesting_state: "KE".into(),
        case_reference: "CASE-1".into(),
        parent: None,
        status: status.into(),
        priority: Some("routine".into()),
        requested_states: "UG".into(),
        opened_at: "2026-12-04T10:00:00Z".into(),
        updated_at: format!("2026-12-04T10:0{records}:00Z"),
        records,
    };
    let outbox = |id: &str| OutboxRow {
        peer: "UG".into(),
        message_id: id.into(),
        trace: "KE:T-1".into(),
        kind: "trace_request".into(),
        envelope: b"{}".to_vec(),
        created_at: "2026-12-04T10:01:00Z".into(),
        attempts: 0,
        next_attempt_at: "2026-12-04T10:01:00Z".into(),
        last_error: None,
        delivered_at: None,
        receipt: None,
        refused: None,
    };
    assert_eq!(store.trace_log_size().unwrap(), 0);
    assert_eq!(store.setting("federation_identity").unwrap(), None);
    assert_eq!(store.setting_once("federation_identity", "a").unwrap(), "a");
    assert_eq!(store.setting_once("federation_identity", "b").unwrap(), "a");
    assert_eq!(
        store.setting("federation_identity").unwrap().as_deref(),
        Some("a")
    );
    let first = TraceCommit {
        records: vec![
            ("KE:T-1".into(), b"draft".to_vec()),
            ("KE:T-1".into(), b"sent".to_vec()),
        ],
        projections: vec![row("KE:T-1", "sent", 2)],
        outbox: vec![outbox("aa"), outbox("bb")],
        ..TraceCommit::default()
    };
    assert_eq!(
        store.commit_trace(&first, &sign).unwrap(),
        TraceCommitted::Appended(0)
    );
    assert_eq!(store.trace_log_size().unwrap(), 2);
    let mut tree = CompactRange::new();
    let _ = tree.push(leaf_hash(b"draft"));
    let _ = tree.push(leaf_hash(b"sent"));
    let cps = store.trace_checkpoints().unwrap();
    assert_eq!(cps.len(), 1);
    assert_eq!((cps[0].size, cps[0].root), (2, tree.root()));
    assert_eq!(
        store.trace("KE:T-1").unwrap(),
        Some(row("KE:T-1", "sent", 2))
    );
    let leaves = store.trace_records("KE:T-1").unwrap();
    assert_eq!(
        leaves.iter().map(|l| l.index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_eq!(leaves[1].data, b"sent");
    assert_eq!(leaves[1].leaf_hash, leaf_hash(b"sent"));
    let ids: Vec<String> = store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|o| o.message_id)
        .collect();
    assert_eq!(ids, vec!["aa", "bb"]);

    // A step computed from a stale state: refused, nothing written.
    let stale = TraceCommit {
        records: vec![("KE:T-1".into(), b"late".to_vec())],
        projections: vec![row("KE:T-1", "sent", 3)],
        expect: vec![("KE:T-1".into(), 1)],
        ..TraceCommit::default()
    };
    assert!(matches!(
        store.commit_trace(&stale, &sign),
        Err(StoreError::TraceMoved {
            expected: 1,
            found: 2,
            ..
        })
    ));
    assert_eq!(store.trace_log_size().unwrap(), 2);

    // The same outbox key again: the whole step is refused.
    let again = TraceCommit {
        records: vec![("KE:T-2".into(), b"x".to_vec())],
        projections: vec![row("KE:T-2", "sent", 1)],
        outbox: vec![outbox("aa")],
        ..TraceCommit::default()
    };
    assert!(matches!(
        store.commit_trace(&again, &sign),
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(store.trace_log_size().unwrap(), 2);
    assert_eq!(store.trace("KE:T-2").unwrap(), None);

    // A step that came in a message: written once, the second time nothing.
    let inbox = InboxRow {
        sender: "UG".into(),
        message_id: "cc".into(),
        received_at: "2026-12-04T10:02:00Z".into(),
        kind: "ack".into(),
        envelope: b"{}".to_vec(),
        receipt: "{}".into(),
    };
    let received = TraceCommit {
        expect: vec![("KE:T-1".into(), 2)],
        records: vec![("KE:T-1".into(), b"ack".to_vec())],
        projections: vec![row("KE:T-1", "acknowledged", 3)],
        inbox: Some(inbox.clone()),
        delivered: Some(OutboxDelivery {
            peer: "UG".into(),
            message_id: "aa".into(),
            delivered_at: "2026-12-04T10:02:00Z".into(),
            receipt: "{\"r\":1}".into(),
        }),
        ..TraceCommit::default()
    };
    assert_eq!(
        store.commit_trace(&received, &sign).unwrap(),
        TraceCommitted::Appended(2)
    );
    assert_eq!(
        store.commit_trace(&received, &sign).unwrap(),
        TraceCommitted::DuplicateMessage
    );
    assert_eq!(store.trace_log_size().unwrap(), 3);
    assert_eq!(store.trace_checkpoints().unwrap().len(), 2);
    assert_eq!(store.inbox_get("UG", "cc").unwrap(), Some(inbox));
    assert_eq!(
        store.traces().unwrap(),
        vec![row("KE:T-1", "acknowledged", 3)]
    );
    assert_eq!(store.trace_leaves(1, 3).unwrap().len(), 2);

    // Delivery and failures touch only the outbox row; a delivered row is not failed.
    let rows = store.outbox().unwrap();
    assert_eq!(
        rows[0].delivered_at.as_deref(),
        Some("2026-12-04T10:02:00Z")
    );
    let failure = |attempts: u32, at: &str, error: &str, refused: bool, resealed: Option<&[u8]>| {
        OutboxFailure {
            attempts,
            next_attempt_at: at.into(),
            error: error.into(),
            refused,
            resealed: resealed.map(<[u8]>::to_vec),
        }
    };
    let down = failure(1, "2026-12-04T10:03:00Z", "down", false, None);
    assert!(store.outbox_failed("UG", "aa", &down).is_err());
    let resealed: &[u8] = b"{\"v\":1}";
    let refused_conn = failure(
        1,
        "2026-12-04T10:03:00Z",
        "connection refused",
        false,
        Some(resealed),
    );
    store.outbox_failed("UG", "bb", &refused_conn).unwrap();
    let for_good = failure(2, "2026-12-04T10:04:00Z", "unknown_sender", true, None);
    store.outbox_failed("UG", "bb", &for_good).unwrap();
    let bb = store.outbox().unwrap().remove(1);
    assert_eq!(
        (bb.attempts, bb.next_attempt_at.as_str()),
        (2, "2026-12-04T10:04:00Z")
    );
    assert_eq!(bb.refused.as_deref(), Some("unknown_sender"));
    assert_eq!(bb.envelope, b"{\"v\":1}");
    assert_eq!(store.trace_log_size().unwrap(), 3);
}

/// Checks the inbox's contract on a fresh store of any backend: a row reads back as
/// written, a second row with the same key is refused without overwriting, the key is
/// (sender, id), and rows can be neither updated nor deleted.
#[cfg(test)]
pub(crate) fn check_inbox(store: &mut dyn Store) {
    let row = |sender: &str, id: &str, receipt: &str| InboxRow {
        sender: sender.into(),
        message_id: id.into(),
        received_at: "2026-12-04T10:00:00Z".into(),
        kind: "request".into(),
        envelope: vec![0, 1, 2, 255, b'{'],
        receipt: receipt.into(),
    };
    let id = "00112233445566778899aabbccddeeff";
    assert_eq!(store.inbox_get("KE", id).unwrap(), None);
    let first = row("KE", id, "{\"r\":1}");
    assert!(store.inbox_put(&first).unwrap());
    assert_eq!(store.inbox_get("KE", id).unwrap(), Some(first.clone()));
    // The same key again: refused, the first row kept.
    assert!(!store.inbox_put(&row("KE", id, "{\"r\":2}")).unwrap());
    assert_eq!(store.inbox_get("KE", id).unwrap(), Some(first.clone()));
    // The same id from another sender is another message.
    assert_eq!(store.inbox_get("UG", id).unwrap(), None);
    let other = row("UG", id, "{\"r\":3}");
    assert!(store.inbox_put(&other).unwrap());
    assert_eq!(store.inbox_get("UG", id).unwrap(), Some(other));
    assert_eq!(store.inbox_get("KE", id).unwrap(), Some(first));
}

/// Checks the peer directory's contract on a fresh store of any backend: adding, the
/// duplicate refused, replacing (only what exists), listing in state order.
#[cfg(test)]
pub(crate) fn check_peers(store: &mut dyn Store) {
    let row = |state: &str, url: &str, key: &str| PeerRow {
        state: state.into(),
        url: url.into(),
        identity: format!("{{\"state\":\"{state}\",\"sign\":\"{key}\"}}"),
        added_at: "2026-12-04T10:00:00Z".into(),
        replaced_at: None,
    };
    assert!(store.peers().unwrap().is_empty());
    let ug = row("UG", "https://ug.example/", "a");
    let ke = row("KE", "http://127.0.0.1:8080/", "b");
    store.add_peer(&ug).unwrap();
    store.add_peer(&ke).unwrap();
    assert_eq!(store.peers().unwrap(), vec![ke.clone(), ug.clone()]);
    assert!(matches!(
        store.add_peer(&row("UG", "https://other.example/", "c")),
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(store.peers().unwrap(), vec![ke.clone(), ug.clone()]);
    let ug2 = PeerRow {
        replaced_at: Some("2026-12-05T09:00:00Z".into()),
        ..row("UG", "https://ug2.example/", "d")
    };
    store.replace_peer(&ug2).unwrap();
    assert_eq!(store.peers().unwrap(), vec![ke, ug2]);
    assert!(matches!(
        store.replace_peer(&row("TZ", "https://tz.example/", "e")),
        Err(StoreError::Missing(_))
    ));
    assert_eq!(store.peers().unwrap().len(), 2);
}

/// Checks the audit log's contract on a fresh store of any backend (the same checks run
/// on SQLite and PostgreSQL): batches and single appends give the same leaves, indexes and
/// roots, each append leaves one checkpoint over everything so far, and the root is the
/// RFC 9162 root of the entries' leaf hashes computed by brute force.
#[cfg(test)]
pub(crate) fn check_audit_log(store: &mut dyn Store) {
    use tracemark_ledger::merkle::{leaf_hash, root_of_leaf_hashes};
    let sign: &CheckpointSigner<'_> = &|size, root| Ok(format!("{size} {}", hex(root)));
    let entry = |i: usize| format!("{{\"n\":{i}}}").into_bytes();
    assert_eq!(store.audit_size().unwrap(), 0);
    assert!(store.latest_audit_checkpoint().unwrap().is_none());
    assert_eq!(
        store.append_audit(&[], sign).unwrap(),
        0,
        "nothing to write"
    );
    assert_eq!(store.audit_size().unwrap(), 0);
    // Appends of 1, 3, 0, 5 and 1 entries: 10 in all.
    let mut next = 0;
    for n in [1usize, 3, 0, 5, 1] {
        let batch: Vec<Vec<u8>> = (next..next + n).map(entry).collect();
        assert_eq!(store.append_audit(&batch, sign).unwrap(), next as u64);
        next += n;
        let leaves: Vec<_> = (0..next).map(|i| leaf_hash(&entry(i))).collect();
        let cp = store.latest_audit_checkpoint().unwrap().unwrap();
        assert_eq!(cp.size, next as u64);
        assert_eq!(
            cp.root,
            root_of_leaf_hashes(&leaves),
            "after {next} entries"
        );
        assert_eq!(cp.note, format!("{next} {}", hex(&cp.root)));
    }
    assert_eq!(store.audit_size().unwrap(), 10);
    let all = AuditFilter::default();
    let rows = store.audit_entries(2, 5, &all).unwrap();
    assert_eq!(rows.len(), 5);
    for (row, i) in rows.iter().zip(2..) {
        assert_eq!(row.index, i as u64);
        assert_eq!(row.data, entry(i));
        assert_eq!(row.leaf_hash, leaf_hash(&entry(i)));
    }
    assert_eq!(store.audit_entries(9, 100, &all).unwrap().len(), 1);
    // Entries that are not JSON objects of strings never match a filter, and never break one.
    let unmatched = AuditFilter {
        principal: Some("x".into()),
        ..Default::default()
    };
    assert!(store.audit_entries(0, 100, &unmatched).unwrap().is_empty());
    // Filters, against a brute-force reading of every entry.
    let sign2: &CheckpointSigner<'_> = &|_, _| Ok(String::new());
    let people = ["ana", "ben", "ana's", "%"];
    let tagged: Vec<Vec<u8>> = (0..12)
        .map(|i| {
            serde_json::to_vec(&serde_json::json!({
                "principal": people[i % 4],
                "action": if i % 3 == 0 { "search" } else { "read_item" },
                "decision": if i % 5 == 0 { "deny" } else { "allow" },
                "time": format!("2026-12-04T10:{i:02}:00Z"),
            }))
            .unwrap()
        })
        .collect();
    assert_eq!(store.append_audit(&tagged, sign2).unwrap(), 10);
    let filters = [
        AuditFilter {
            principal: Some("ana".into()),
            ..Default::default()
        },
        AuditFilter {
            principal: Some("%".into()),
            decision: Some("allow".into()),
            ..Default::default()
        },
        AuditFilter {
            action: Some("search".into()),
            since: Some("2026-12-04T10:03:00Z".into()),
            until: Some("2026-12-04T10:09:00Z".into()),
            ..Default::default()
        },
        AuditFilter {
            agency: Some("police".into()),
            ..Default::default()
        },
        AuditFilter {
            resource: Some("x".into()),
            principal: Some("ana".into()),
            ..Default::default()
        },
    ];
    for f in &filters {
        let field = |v: &serde_json::Value, k: &str| v[k].as_str().map(str::to_owned);
        let expected: Vec<u64> = (0u64..)
            .zip(&tagged)
            .filter(|(_, d)| {
                let v: serde_json::Value = serde_json::from_slice(d).unwrap();
                let eq = |want: &Option<String>, k: &str| want.is_none() || field(&v, k) == *want;
                let time = field(&v, "time").unwrap_or_default();
                eq(&f.principal, "principal")
                    && eq(&f.agency, "agency")
                    && eq(&f.action, "action")
                    && eq(&f.resource, "resource")
                    && eq(&f.decision, "decision")
                    && f.since.as_ref().is_none_or(|s| time >= *s)
                    && f.until.as_ref().is_none_or(|u| time < *u)
            })
            .map(|(i, _)| 10 + i)
            .collect();
        let got: Vec<u64> = store
            .audit_entries(10, 100, f)
            .unwrap()
            .iter()
            .map(|r| r.index)
            .collect();
        assert_eq!(got, expected, "{f:?}");
        let page: Vec<u64> = store
            .audit_entries(11, 2, f)
            .unwrap()
            .iter()
            .map(|r| r.index)
            .collect();
        let want: Vec<u64> = expected
            .iter()
            .copied()
            .filter(|&i| i >= 11)
            .take(2)
            .collect();
        assert_eq!(page, want, "{f:?}");
    }
    // A signer that fails leaves nothing behind.
    let refuse: &CheckpointSigner<'_> = &|_, _| Err("no key".into());
    assert!(store.append_audit(&[entry(30), entry(31)], refuse).is_err());
    assert_eq!(store.audit_size().unwrap(), 22);
    assert_eq!(store.audit_entries(22, 10, &all).unwrap().len(), 0);

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }
}

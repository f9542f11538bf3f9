//! The embedded store: one SQLite file in the data folder.
//!
//! WAL journal with `synchronous=FULL`: when `commit` returns, the batch is on disk. One
//! writer at a time (SQLite's own lock; the registry also holds a lock file across a whole
//! import). Schema changes are embedded, versioned migrations keyed by `PRAGMA user_version`.

use crate::*;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use tracemark_ledger::merkle::{leaf_hash, subtree_from_tiles, CompactRange, Hash};

/// File name of the database inside the data folder.
pub const DB_FILE: &str = "tracemark.db";

/// Each entry moves the schema from version `i` to `i + 1`. Append; never edit a shipped one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;

-- The ledger: one row per accepted record, index = Merkle leaf index. Append-only.
CREATE TABLE ledger (
    idx INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: records cannot be changed'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: records cannot be deleted'); END;

-- Interior Merkle nodes at heights 8, 16, 24, ... (derived; rebuildable from the ledger).
CREATE TABLE tiles (
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;

-- The incremental tree builder's state after the last commit.
CREATE TABLE tree_state (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    peaks BLOB NOT NULL
);
INSERT INTO tree_state (id, size, peaks) VALUES (0, 0, x'');

-- Signed checkpoints, one per committed batch. Append-only.
CREATE TABLE checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

-- Projections: derived from the ledger in the same transaction; rebuildable.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,          -- ledger index of the declaration (internal id)
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    digest BLOB NOT NULL,
    status TEXT NOT NULL,
    holder TEXT,
    make TEXT, model TEXT, calibre TEXT, country TEXT, year INTEGER, parent TEXT
);
CREATE TABLE markings (
    item_id INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    component TEXT,
    legibility TEXT NOT NULL,
    PRIMARY KEY (item_id, pos)
) WITHOUT ROWID;
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,         -- ledger index
    item_id INTEGER NOT NULL,
    event_id TEXT UNIQUE,
    digest BLOB NOT NULL UNIQUE,
    type TEXT NOT NULL,
    date TEXT NOT NULL,
    date_start INTEGER NOT NULL,
    date_end INTEGER NOT NULL,
    void INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_by_item ON events (item_id);
"#,
    // 2: the parts of a weapon (modular weapons, component swaps).
    r#"
CREATE INDEX items_by_parent ON items (parent) WHERE parent IS NOT NULL;
"#,
    // 3: accounts (agencies, users, service tokens) and the audit log (issue #4).
    r#"
CREATE TABLE agencies (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    holder_name TEXT,
    need_to_know INTEGER NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_verified INTEGER NOT NULL DEFAULT 0,
    -- The TOTP replay guard: the time step of the last code accepted.
    totp_last_step INTEGER,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE service_tokens (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_sha256 BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;

-- The audit log: a second RFC 6962 Merkle log (leaf = canonical JSON of one entry), with its
-- own builder state and signed checkpoints. Append-only, like the ledger.
CREATE TABLE audit_log (
    idx INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE audit_tree_state (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    peaks BLOB NOT NULL
);
INSERT INTO audit_tree_state (id, size, peaks) VALUES (0, 0, x'');
CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
"#,
    // 4: which holders make up an agency's holdings (by kind too), and notifications.
    r#"
ALTER TABLE agencies ADD COLUMN holder_kind TEXT;
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    item_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX notifications_by_agency ON notifications (agency, id);
"#,
    // 5: the federation's peer directory (issue #5).
    r#"
CREATE TABLE peers (
    state TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    identity TEXT NOT NULL,
    added_at TEXT NOT NULL,
    replaced_at TEXT
);
"#,
    // 6: the federation inbox: messages received from peers, append-only (issue #5).
    r#"
CREATE TABLE federation_inbox (
    sender TEXT NOT NULL,
    message_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    envelope BLOB NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY (sender, message_id)
) WITHOUT ROWID;
CREATE TRIGGER federation_inbox_no_update BEFORE UPDATE ON federation_inbox
BEGIN SELECT RAISE(ABORT, 'the federation inbox is append-only'); END;
CREATE TRIGGER federation_inbox_no_delete BEFORE DELETE ON federation_inbox
BEGIN SELECT RAISE(ABORT, 'the federation inbox is append-only'); END;
"#,
    // 7: the trace log (a third Merkle log: every step of every trace, issue #5), the
    // traces' projection, and the federation outbox.
    r#"
CREATE TABLE trace_log (
    idx INTEGER PRIMARY KEY,
    trace TEXT NOT NULL,
    data BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE INDEX trace_log_by_trace ON trace_log (trace, idx);
CREATE TRIGGER trace_log_no_update BEFORE UPDATE ON trace_log
BEGIN SELECT RAISE(ABORT, 'the trace log is append-only'); END;
CREATE TRIGGER trace_log_no_delete BEFORE DELETE ON trace_log
BEGIN SELECT RAISE(ABORT, 'the trace log is append-only'); END;
CREATE TABLE trace_tree_state (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    peaks BLOB NOT NULL
);
INSERT INTO trace_tree_state (id, size, peaks) VALUES (0, 0, x'');
CREATE TABLE trace_checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER trace_checkpoints_no_update BEFORE UPDATE ON trace_checkpoints
BEGIN SELECT RAISE(ABORT, 'trace checkpoints are append-only'); END;
CREATE TRIGGER trace_checkpoints_no_delete BEFORE DELETE ON trace_checkpoints
BEGIN SELECT RAISE(ABORT, 'trace checkpoints are append-only'); END;
CREATE TABLE traces (
    key TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    requesting_state TEXT NOT NULL,
    case_reference TEXT NOT NULL,
    parent TEXT,
    status TEXT NOT NULL,
    priority TEXT,
    requested_states TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    records INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE federation_outbox (
    peer TEXT NOT NULL,
    message_id TEXT NOT NULL,
    trace TEXT NOT NULL,
    kind TEXT NOT NULL,
    envelope BLOB NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    delivered_at TEXT,
    receipt TEXT,
    refused TEXT,
    seq INTEGER NOT NULL,
    PRIMARY KEY (peer, message_id)
) WITHOUT ROWID;
CREATE INDEX federation_outbox_order ON federation_outbox (seq);
"#,
    // Photographs, by the SHA-256 of their bytes (the ledger carries the hash).
    r#"
CREATE TABLE photos (
    sha256 BLOB PRIMARY KEY,
    media_type TEXT NOT NULL,
    bytes BLOB NOT NULL
) WITHOUT ROWID;
"#,
    // Each person's language for the web pages (chosen with the language switch).
    r#"
ALTER TABLE users ADD COLUMN language TEXT;
"#,
];

const USER_SELECT: &str = "SELECT name, agency, role, password_hash, totp_secret, totp_verified, failed_logins, locked_until, created_at FROM users";
const TOKEN_SELECT: &str =
    "SELECT id, service, agency, role, secret_sha256, created_at, revoked_at FROM service_tokens";

fn read_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        name: r.get(0)?,
        agency: r.get(1)?,
        role: r.get(2)?,
        password_hash: r.get(3)?,
        totp_secret: r.get(4)?,
        totp_verified: r.get(5)?,
        failed_logins: r.get::<_, i64>(6)?.clamp(0, u32::MAX as i64) as u32,
        locked_until: r.get(7)?,
        created_at: r.get(8)?,
    })
}

fn read_token(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TokenRow>> {
    let hash: Vec<u8> = r.get(4)?;
    let row = TokenRow {
        id: r.get(0)?,
        service: r.get(1)?,
        agency: r.get(2)?,
        role: r.get(3)?,
        secret_sha256: [0; 32],
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
    };
    Ok(hash_from(hash).map(|secret_sha256| TokenRow {
        secret_sha256,
        ..row
    }))
}

const TRACE_SELECT: &str = "SELECT key, role, requesting_state, case_reference, parent, status, priority, requested_states, opened_at, updated_at, records FROM traces";

fn read_trace_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TraceRow> {
    Ok(TraceRow {
        key: r.get(0)?,
        role: r.get(1)?,
        requesting_state: r.get(2)?,
        case_reference: r.get(3)?,
        parent: r.get(4)?,
        status: r.get(5)?,
        priority: r.get(6)?,
        requested_states: r.get(7)?,
        opened_at: r.get(8)?,
        updated_at: r.get(9)?,
        records: r.get::<_, i64>(10)?.max(0) as u64,
    })
}

fn read_trace_leaf(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<TraceLeaf>> {
    let index = r.get::<_, i64>(0)? as u64;
    let trace: String = r.get(1)?;
    let data = bytes_at(r, 2)?;
    let hash = bytes_at(r, 3)?;
    Ok(hash_from(hash).map(|leaf_hash| TraceLeaf {
        index,
        trace,
        data,
        leaf_hash,
    }))
}

/// Maps a uniqueness violation to [`StoreError::Duplicate`] naming `what`.
fn unique(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Duplicate(what())
        }
        e => StoreError::Sqlite(e),
    }
}

/// Fails with [`StoreError::Missing`] when an UPDATE touched no row.
fn one_row(changed: usize, what: impl FnOnce() -> String) -> Result<()> {
    if changed == 0 {
        Err(StoreError::Missing(what()))
    } else {
        Ok(())
    }
}
/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

fn hash_from(v: Vec<u8>) -> Result<Hash> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::Corrupt(format!("a stored hash has {} bytes", v.len())))
}

/// Reads a column holding bytes. Accepts TEXT as well as BLOB: a row edited by hand may have
/// changed storage class, and verification must report the edit, not fail to read it.
fn bytes_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Vec<u8>> {
    use rusqlite::types::ValueRef;
    match r.get_ref(i)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
        ValueRef::Null => Ok(Vec::new()),
        ValueRef::Integer(n) => Ok(n.to_string().into_bytes()),
        ValueRef::Real(f) => Ok(f.to_string().into_bytes()),
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Acknowledged means on disk: fsync at every commit, WAL included.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -262_144)?; // 256 MiB page cache
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Fewer, larger WAL checkpoints during bulk imports (64 MiB instead of 4 MiB).
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::TooNew {
            found: version,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    /// Creates a new store in `dir` (which may exist but must not hold a store).
    pub fn create(dir: &Path, node: &NodeInfo) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(DB_FILE);
        if path.exists() {
            return Err(StoreError::AlreadyExists(dir.display().to_string()));
        }
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let tx = conn.transaction()?;
        for (k, v) in [
            ("state", &node.state),
            ("name", &node.name),
            ("origin", &node.origin),
            ("verifier_key", &node.verifier_key),
            ("created_at", &node.created_at),
        ] {
            tx.execute("INSERT INTO meta (k, v) VALUES (?1, ?2)", params![k, v])?;
        }
        tx.commit()?;
        Ok(SqliteStore { conn, path })
    }

    /// Opens an existing store, applying pending migrations.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::NotInitialised(dir.display().to_string()));
        }
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(SqliteStore { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn meta(&self, k: &str) -> Result<String> {
        self.conn
            .query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("meta value '{k}' is missing")))
    }

    fn markings_of(&self, item_id: u64) -> Result<Vec<MarkingRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT kind, text, component, legibility FROM markings WHERE item_id = ?1 ORDER BY pos",
        )?;
        let rows = st.query_map([item_id as i64], |r| {
            Ok(MarkingRow {
                kind: r.get(0)?,
                text: r.get(1)?,
                component: r.get(2)?,
                legibility: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn item_where(&self, clause: &str, arg: &dyn rusqlite::ToSql) -> Result<Option<ItemRow>> {
        let sql = format!("{ITEM_SELECT} WHERE {clause}");
        let mut st = self.conn.prepare_cached(&sql)?;
        let row = st.query_row([arg], read_item).optional()?;
        match row {
            Some(item) => {
                let mut item = item?;
                item.attrs.markings = self.markings_of(item.id)?;
                Ok(Some(item))
            }
            None => Ok(None),
        }
    }

    fn event_where(&self, clause: &str, arg: &dyn rusqlite::ToSql) -> Result<Option<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE {clause}");
        let mut st = self.conn.prepare_cached(&sql)?;
        match st.query_row([arg], read_event).optional()? {
            Some(row) => Ok(Some(row?)),
            None => Ok(None),
        }
    }
}

const ITEM_SELECT: &str = "SELECT id, key, kind, digest, status, holder, make, model, calibre, country, year, parent FROM items";
const EVENT_SELECT: &str =
    "SELECT seq, item_id, event_id, digest, type, date, date_start, date_end, void FROM events";

/// Reads an item row; the inner result carries a damaged hash.
fn read_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ItemRow>> {
    let digest: Vec<u8> = r.get(3)?;
    let row = ItemRow {
        id: r.get::<_, i64>(0)? as u64,
        key: r.get(1)?,
        kind: r.get(2)?,
        digest: [0; 32],
        state: ItemState {
            status: r.get(4)?,
            holder: r.get(5)?,
        },
        attrs: ItemAttrs {
            make: r.get(6)?,
            model: r.get(7)?,
            calibre: r.get(8)?,
            country: r.get(9)?,
            year: r.get(10)?,
            parent: r.get(11)?,
            markings: Vec::new(),
        },
    };
    Ok(hash_from(digest).map(|digest| ItemRow { digest, ..row }))
}

fn read_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<EventRow>> {
    let digest: Vec<u8> = r.get(3)?;
    let row = EventRow {
        seq: r.get::<_, i64>(0)? as u64,
        item_id: r.get::<_, i64>(1)? as u64,
        event_id: r.get(2)?,
        digest: [0; 32],
        event_type: r.get(4)?,
        date: r.get(5)?,
        date_start: r.get(6)?,
        date_end: r.get(7)?,
        void: r.get(8)?,
    };
    Ok(hash_from(digest).map(|digest| EventRow { digest, ..row }))
}

fn write_attrs(tx: &rusqlite::Transaction<'_>, id: u64, a: &ItemAttrs) -> Result<()> {
    tx.prepare_cached(
        "UPDATE items SET make = ?2, model = ?3, calibre = ?4, country = ?5, year = ?6, parent = ?7 WHERE id = ?1",
    )?
    .execute(params![id as i64, a.make, a.model, a.calibre, a.country, a.year, a.parent])?;
    tx.prepare_cached("DELETE FROM markings WHERE item_id = ?1")?
        .execute([id as i64])?;
    insert_markings(tx, id, &a.markings)
}

fn insert_markings(tx: &rusqlite::Transaction<'_>, id: u64, markings: &[MarkingRow]) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO markings (item_id, pos, kind, text, component, legibility) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (pos, m) in markings.iter().enumerate() {
        st.execute(params![
            id as i64,
            pos as i64,
            m.kind,
            m.text,
            m.component,
            m.legibility
        ])?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn peers(&self) -> Result<Vec<PeerRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT state, url, identity, added_at, replaced_at FROM peers ORDER BY state",
        )?;
        let rows = st.query_map([], |r| {
            Ok(PeerRow {
                state: r.get(0)?,
                url: r.get(1)?,
                identity: r.get(2)?,
                added_at: r.get(3)?,
                replaced_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_peer(&mut self, p: &PeerRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO peers (state, url, identity, added_at, replaced_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![p.state, p.url, p.identity, p.added_at, p.replaced_at],
            )
            .map_err(|e| unique(e, || format!("peer {}", p.state)))?;
        Ok(())
    }

    fn replace_peer(&mut self, p: &PeerRow) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE peers SET url = ?2, identity = ?3, added_at = ?4, replaced_at = ?5 WHERE state = ?1",
            params![p.state, p.url, p.identity, p.added_at, p.replaced_at],
        )?;
        one_row(changed, || format!("peer {}", p.state))
    }

    fn inbox_get(&self, sender: &str, message_id: &str) -> Result<Option<InboxRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT sender, message_id, received_at, kind, envelope, receipt FROM federation_inbox WHERE sender = ?1 AND message_id = ?2",
        )?;
        Ok(st
            .query_row(params![sender, message_id], |r| {
                Ok(InboxRow {
                    sender: r.get(0)?,
                    message_id: r.get(1)?,
                    received_at: r.get(2)?,
                    kind: r.get(3)?,
                    envelope: r.get(4)?,
                    receipt: r.get(5)?,
                })
            })
            .optional()?)
    }

    fn inbox_put(&mut self, i: &InboxRow) -> Result<bool> {
        let inserted = self.conn.execute(
            "INSERT INTO federation_inbox (sender, message_id, received_at, kind, envelope, receipt) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sender, message_id) DO NOTHING",
            params![i.sender, i.message_id, i.received_at, i.kind, i.envelope, i.receipt],
        )?;
        Ok(inserted == 1)
    }

    fn commit_trace(
        &mut self,
        c: &TraceCommit,
        sign: &CheckpointSigner<'_>,
    ) -> Result<TraceCommitted> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(i) = &c.inbox {
            let inserted = tx.execute(
                "INSERT INTO federation_inbox (sender, message_id, received_at, kind, envelope, receipt) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sender, message_id) DO NOTHING",
                params![i.sender, i.message_id, i.received_at, i.kind, i.envelope, i.receipt],
            )?;
            if inserted == 0 {
                return Ok(TraceCommitted::DuplicateMessage);
            }
        }
        for (trace, expected) in &c.expect {
            let found: i64 = tx.query_row(
                "SELECT COUNT(*) FROM trace_log WHERE trace = ?1",
                params![trace],
                |r| r.get(0),
            )?;
            if found as u64 != *expected {
                return Err(StoreError::TraceMoved {
                    trace: trace.clone(),
                    expected: *expected,
                    found: found as u64,
                });
            }
        }
        let (size, peaks): (i64, Vec<u8>) = tx.query_row(
            "SELECT size, peaks FROM trace_tree_state WHERE id = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let peaks = peaks
            .chunks(32)
            .map(|ch| hash_from(ch.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut tree = CompactRange::from_size_and_peaks(size as u64, peaks)
            .map_err(|e| StoreError::Corrupt(format!("trace tree: {e}")))?;
        let first = tree.size();
        if !c.records.is_empty() {
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO trace_log (idx, trace, data, leaf_hash) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (trace, data) in &c.records {
                    let index = tree.size();
                    let hash = leaf_hash(data);
                    // Like the audit log, no interior tiles: checkpoints commit to every record.
                    let _ = tree.push(hash);
                    insert.execute(params![index as i64, trace, data, hash.as_slice()])?;
                }
            }
            let new_size = tree.size();
            let root = tree.root();
            let note = sign(new_size, &root).map_err(StoreError::Signing)?;
            tx.execute(
                "INSERT INTO trace_checkpoints (size, root, note) VALUES (?1, ?2, ?3)",
                params![new_size as i64, root.as_slice(), note],
            )?;
            let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
            tx.execute(
                "UPDATE trace_tree_state SET size = ?1, peaks = ?2 WHERE id = 0",
                params![new_size as i64, peaks],
            )?;
        }
        for t in &c.projections {
            tx.execute(
                "INSERT OR REPLACE INTO traces (key, role, requesting_state, case_reference, parent, status, priority, requested_states, opened_at, updated_at, records) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![t.key, t.role, t.requesting_state, t.case_reference, t.parent, t.status, t.priority, t.requested_states, t.opened_at, t.updated_at, t.records as i64],
            )?;
        }
        for o in &c.outbox {
            tx.execute(
                "INSERT INTO federation_outbox (peer, message_id, trace, kind, envelope, created_at, attempts, next_attempt_at, last_error, delivered_at, receipt, refused, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, (SELECT COALESCE(MAX(seq), 0) + 1 FROM federation_outbox))",
                params![o.peer, o.message_id, o.trace, o.kind, o.envelope, o.created_at, o.attempts, o.next_attempt_at, o.last_error, o.delivered_at, o.receipt, o.refused],
            )
            .map_err(|e| unique(e, || format!("outbox message {} to {}", o.message_id, o.peer)))?;
        }
        if let Some(d) = &c.delivered {
            let changed = tx.execute(
                "UPDATE federation_outbox SET delivered_at = ?3, receipt = ?4, last_error = NULL WHERE peer = ?1 AND message_id = ?2",
                params![d.peer, d.message_id, d.delivered_at, d.receipt],
            )?;
            one_row(changed, || {
                format!("outbox message {} to {}", d.message_id, d.peer)
            })?;
        }
        tx.commit()?;
        Ok(TraceCommitted::Appended(first))
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT v FROM meta WHERE k = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn setting_once(&mut self, key: &str, value: &str) -> Result<String> {
        self.conn.execute(
            "INSERT INTO meta (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO NOTHING",
            params![key, value],
        )?;
        self.setting(key)?
            .ok_or_else(|| StoreError::Missing(format!("setting {key}")))
    }

    fn trace_log_size(&self) -> Result<u64> {
        let size: i64 =
            self.conn
                .query_row("SELECT size FROM trace_tree_state WHERE id = 0", [], |r| {
                    r.get(0)
                })?;
        Ok(size as u64)
    }

    fn trace_leaves(&self, from: u64, to: u64) -> Result<Vec<TraceLeaf>> {
        let mut st = self.conn.prepare_cached(
            "SELECT idx, trace, data, leaf_hash FROM trace_log WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let rows = st.query_map(
            params![
                from.min(i64::MAX as u64) as i64,
                to.min(i64::MAX as u64) as i64
            ],
            read_trace_leaf,
        )?;
        rows.map(|r| r?).collect()
    }

    fn trace_records(&self, trace: &str) -> Result<Vec<TraceLeaf>> {
        let mut st = self.conn.prepare_cached(
            "SELECT idx, trace, data, leaf_hash FROM trace_log WHERE trace = ?1 ORDER BY idx",
        )?;
        let rows = st.query_map(params![trace], read_trace_leaf)?;
        rows.map(|r| r?).collect()
    }

    fn trace_checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT size, root, note FROM trace_checkpoints ORDER BY size")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, bytes_at(r, 1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (size, root, note) = row?;
            out.push(StoredCheckpoint {
                size: size as u64,
                root: hash_from(root)?,
                note,
            });
        }
        Ok(out)
    }

    fn trace(&self, key: &str) -> Result<Option<TraceRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("{TRACE_SELECT} WHERE key = ?1"),
                params![key],
                read_trace_row,
            )
            .optional()?)
    }

    fn traces(&self) -> Result<Vec<TraceRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{TRACE_SELECT} ORDER BY updated_at DESC, key"))?;
        let rows = st.query_map([], read_trace_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn outbox(&self) -> Result<Vec<OutboxRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT peer, message_id, trace, kind, envelope, created_at, attempts, next_attempt_at, last_error, delivered_at, receipt, refused FROM federation_outbox ORDER BY seq",
        )?;
        let rows = st.query_map([], |r| {
            Ok(OutboxRow {
                peer: r.get(0)?,
                message_id: r.get(1)?,
                trace: r.get(2)?,
                kind: r.get(3)?,
                envelope: bytes_at(r, 4)?,
                created_at: r.get(5)?,
                attempts: r.get::<_, i64>(6)?.clamp(0, u32::MAX as i64) as u32,
                next_attempt_at: r.get(7)?,
                last_error: r.get(8)?,
                delivered_at: r.get(9)?,
                receipt: r.get(10)?,
                refused: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn outbox_failed(&mut self, peer: &str, message_id: &str, f: &OutboxFailure) -> Result<()> {
        let (attempts, next_attempt_at, error, refused, resealed) = (
            f.attempts,
            f.next_attempt_at.as_str(),
            f.error.as_str(),
            f.refused,
            f.resealed.as_deref(),
        );
        let changed = self.conn.execute(
            "UPDATE federation_outbox SET attempts = ?3, next_attempt_at = ?4, last_error = ?5,
                 refused = CASE WHEN ?6 THEN ?5 ELSE refused END,
                 envelope = COALESCE(?7, envelope)
             WHERE peer = ?1 AND message_id = ?2 AND delivered_at IS NULL",
            params![
                peer,
                message_id,
                attempts,
                next_attempt_at,
                error,
                refused,
                resealed
            ],
        )?;
        one_row(changed, || {
            format!("undelivered outbox message {message_id} to {peer}")
        })
    }

    fn put_photo(&mut self, sha256: &Hash, media_type: &str, bytes: &[u8]) -> Result<bool> {
        let changed = self.conn.execute(
            "INSERT INTO photos (sha256, media_type, bytes) VALUES (?1, ?2, ?3) ON CONFLICT (sha256) DO NOTHING",
            params![&sha256[..], media_type, bytes],
        )?;
        Ok(changed == 1)
    }

    fn photo(&self, sha256: &Hash) -> Result<Option<(String, Vec<u8>)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT media_type, bytes FROM photos WHERE sha256 = ?1",
                params![&sha256[..]],
                |r| Ok((r.get(0)?, bytes_at(r, 1)?)),
            )
            .optional()?)
    }

    fn user_language(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT language FROM users WHERE name = ?1",
                params![name],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    fn set_user_language(&mut self, name: &str, language: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE users SET language = ?2 WHERE name = ?1",
            params![name, language],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn insert_agency(&mut self, a: &AgencyRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO agencies (name, kind, holder_name, holder_kind, need_to_know, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![a.name, a.kind, a.holder_name, a.holder_kind, a.need_to_know, a.created_at],
            )
            .map_err(|e| unique(e, || format!("agency '{}'", a.name)))?;
        Ok(())
    }

    fn agencies(&self) -> Result<Vec<AgencyRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT name, kind, holder_name, holder_kind, need_to_know, created_at FROM agencies ORDER BY name",
        )?;
        let rows = st.query_map([], |r| {
            Ok(AgencyRow {
                name: r.get(0)?,
                kind: r.get(1)?,
                holder_name: r.get(2)?,
                holder_kind: r.get(3)?,
                need_to_know: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_notification(
        &mut self,
        agency: &str,
        created_at: &str,
        item_key: &str,
        kind: &str,
        data: &str,
    ) -> Result<u64> {
        self.conn.execute(
            "INSERT INTO notifications (agency, created_at, item_key, kind, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![agency, created_at, item_key, kind, data],
        )?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn notifications(&self, agency: &str, after: u64, limit: u64) -> Result<Vec<NotificationRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, agency, created_at, item_key, kind, data FROM notifications \
             WHERE agency = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = st.query_map(
            params![
                agency,
                after.min(i64::MAX as u64) as i64,
                limit.min(i64::MAX as u64) as i64
            ],
            |r| {
                Ok(NotificationRow {
                    id: r.get::<_, i64>(0)? as u64,
                    agency: r.get(1)?,
                    created_at: r.get(2)?,
                    item_key: r.get(3)?,
                    kind: r.get(4)?,
                    data: r.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_user(&mut self, u: &UserRow) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let agency_exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM agencies WHERE name = ?1)",
            [&u.agency],
            |r| r.get(0),
        )?;
        if !agency_exists {
            return Err(StoreError::Missing(format!("agency '{}'", u.agency)));
        }
        tx.execute(
            "INSERT INTO users (name, agency, role, password_hash, totp_secret, totp_verified, failed_logins, locked_until, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                u.name,
                u.agency,
                u.role,
                u.password_hash,
                u.totp_secret,
                u.totp_verified,
                u.failed_logins as i64,
                u.locked_until,
                u.created_at
            ],
        )
        .map_err(|e| unique(e, || format!("user '{}'", u.name)))?;
        tx.commit()?;
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<UserRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{USER_SELECT} WHERE name = ?1"))?;
        Ok(st.query_row([name], read_user).optional()?)
    }

    fn users(&self) -> Result<Vec<UserRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{USER_SELECT} ORDER BY name"))?;
        let rows = st.query_map([], read_user)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL WHERE name = ?1",
            params![name, password_hash],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn set_login_state(
        &mut self,
        name: &str,
        failed_logins: u32,
        locked_until: Option<i64>,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE users SET failed_logins = ?2, locked_until = ?3 WHERE name = ?1",
            params![name, failed_logins as i64, locked_until],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn set_totp(&mut self, name: &str, secret: Option<&str>, verified: bool) -> Result<()> {
        // A new secret forgets the replay guard of the old one; keeping it would do no harm
        // but would refuse nothing either.
        let n = self.conn.execute(
            "UPDATE users SET totp_secret = ?2, totp_verified = ?3, \
             totp_last_step = CASE WHEN totp_secret IS ?2 THEN totp_last_step ELSE NULL END WHERE name = ?1",
            params![name, secret, verified],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn use_totp_step(&mut self, name: &str, step: i64) -> Result<bool> {
        // One statement, so two requests racing with the same code cannot both pass.
        let n = self.conn.execute(
            "UPDATE users SET totp_last_step = ?2 WHERE name = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
            params![name, step],
        )?;
        Ok(n == 1)
    }

    fn insert_token(&mut self, t: &TokenRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO service_tokens (id, service, agency, role, secret_sha256, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![t.id, t.service, t.agency, t.role, t.secret_sha256.as_slice(), t.created_at, t.revoked_at],
            )
            .map_err(|e| unique(e, || format!("token '{}'", t.id)))?;
        Ok(())
    }

    fn token(&self, id: &str) -> Result<Option<TokenRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{TOKEN_SELECT} WHERE id = ?1"))?;
        match st.query_row([id], read_token).optional()? {
            Some(row) => Ok(Some(row?)),
            None => Ok(None),
        }
    }

    fn tokens(&self) -> Result<Vec<TokenRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("{TOKEN_SELECT} ORDER BY created_at, id"))?;
        let rows = st.query_map([], read_token)?;
        rows.map(|r| r?).collect()
    }

    fn revoke_token(&mut self, id: &str, at: &str) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE service_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![id, at],
        )?;
        Ok(n == 1)
    }

    fn append_audit(&mut self, entries: &[Vec<u8>], sign: &CheckpointSigner<'_>) -> Result<u64> {
        if entries.is_empty() {
            return self.audit_size();
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (size, peaks): (i64, Vec<u8>) = tx.query_row(
            "SELECT size, peaks FROM audit_tree_state WHERE id = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let peaks = peaks
            .chunks(32)
            .map(|c| hash_from(c.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut tree = CompactRange::from_size_and_peaks(size as u64, peaks)
            .map_err(|e| StoreError::Corrupt(format!("audit tree: {e}")))?;
        let first = tree.size();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO audit_log (idx, data, leaf_hash) VALUES (?1, ?2, ?3)",
            )?;
            for data in entries {
                let index = tree.size();
                let hash = leaf_hash(data);
                // Interior tiles are not stored for the audit tree yet, so the API serves no
                // audit inclusion proofs; the signed checkpoints already commit to every entry.
                let _ = tree.push(hash);
                insert.execute(params![index as i64, data, hash.as_slice()])?;
            }
        }
        let new_size = tree.size();
        let root = tree.root();
        let note = sign(new_size, &root).map_err(StoreError::Signing)?;
        tx.execute(
            "INSERT INTO audit_checkpoints (size, root, note) VALUES (?1, ?2, ?3)",
            params![new_size as i64, root.as_slice(), note],
        )?;
        let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
        tx.execute(
            "UPDATE audit_tree_state SET size = ?1, peaks = ?2 WHERE id = 0",
            params![new_size as i64, peaks],
        )?;
        tx.commit()?;
        Ok(first)
    }

    fn audit_size(&self) -> Result<u64> {
        let size: i64 =
            self.conn
                .query_row("SELECT size FROM audit_tree_state WHERE id = 0", [], |r| {
                    r.get(0)
                })?;
        Ok(size as u64)
    }

    fn audit_entries(&self, from: u64, limit: u64, f: &AuditFilter) -> Result<Vec<AuditRow>> {
        // The entry is stored as canonical JSON text in a BLOB: read it as text (SQLite
        // would take a bare BLOB for its binary JSONB form).
        let mut st = self.conn.prepare_cached(
            "SELECT idx, data, leaf_hash FROM audit_log WHERE idx >= ?1
               AND (?3 IS NULL OR json_extract(CAST(data AS TEXT), '$.principal') = ?3)
               AND (?4 IS NULL OR json_extract(CAST(data AS TEXT), '$.agency') = ?4)
               AND (?5 IS NULL OR json_extract(CAST(data AS TEXT), '$.action') = ?5)
               AND (?6 IS NULL OR json_extract(CAST(data AS TEXT), '$.resource') = ?6)
               AND (?7 IS NULL OR json_extract(CAST(data AS TEXT), '$.decision') = ?7)
               AND (?8 IS NULL OR json_extract(CAST(data AS TEXT), '$.time') >= ?8)
               AND (?9 IS NULL OR json_extract(CAST(data AS TEXT), '$.time') < ?9)
             ORDER BY idx LIMIT ?2",
        )?;
        let rows = st.query_map(
            params![
                from.min(i64::MAX as u64) as i64,
                limit.min(i64::MAX as u64) as i64,
                f.principal,
                f.agency,
                f.action,
                f.resource,
                f.decision,
                f.since,
                f.until,
            ],
            |r| Ok((r.get::<_, i64>(0)?, bytes_at(r, 1)?, bytes_at(r, 2)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (idx, data, hash) = row?;
            out.push(AuditRow {
                index: idx as u64,
                data,
                leaf_hash: hash_from(hash)?,
            });
        }
        Ok(out)
    }

    fn latest_audit_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let row = self
            .conn
            .query_row(
                "SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, bytes_at(r, 1)?, r.get::<_, String>(2)?)),
            )
            .optional()?;
        match row {
            Some((size, root, note)) => Ok(Some(StoredCheckpoint {
                size: size as u64,
                root: hash_from(root)?,
                note,
            })),
            None => Ok(None),
        }
    }

    fn node(&self) -> Result<NodeInfo> {
        Ok(NodeInfo {
            state: self.meta("state")?,
            name: self.meta("name")?,
            origin: self.meta("origin")?,
            verifier_key: self.meta("verifier_key")?,
            created_at: self.meta("created_at")?,
        })
    }

    fn ledger_size(&self) -> Result<u64> {
        let size: i64 =
            self.conn
                .query_row("SELECT size FROM tree_state WHERE id = 0", [], |r| r.get(0))?;
        Ok(size as u64)
    }

    fn leaf(&self, index: u64) -> Result<Option<LeafRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT data, leaf_hash FROM ledger WHERE idx = ?1")?;
        let row = st
            .query_row([index as i64], |r| Ok((bytes_at(r, 0)?, bytes_at(r, 1)?)))
            .optional()?;
        match row {
            Some((data, h)) => Ok(Some(LeafRow {
                index,
                data,
                leaf_hash: hash_from(h)?,
            })),
            None => Ok(None),
        }
    }

    fn scan_leaves(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LeafRow) -> Result<()>,
    ) -> Result<()> {
        let mut st = self.conn.prepare(
            "SELECT idx, data, leaf_hash FROM ledger WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let mut rows = st.query(params![from as i64, to as i64])?;
        while let Some(r) = rows.next()? {
            f(LeafRow {
                index: r.get::<_, i64>(0)? as u64,
                data: bytes_at(r, 1)?,
                leaf_hash: hash_from(bytes_at(r, 2)?)?,
            })?;
        }
        Ok(())
    }

    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash> {
        subtree_from_tiles(start, size, |height, first, count| -> Result<Vec<Hash>> {
            let (sql, args) = if height == 0 {
                (
                    "SELECT leaf_hash FROM ledger WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
                    params![first as i64, (first + count) as i64],
                )
            } else {
                (
                    "SELECT hash FROM tiles WHERE height = ?3 AND idx >= ?1 AND idx < ?2 ORDER BY idx",
                    params![first as i64, (first + count) as i64, height as i64],
                )
            };
            let mut st = self.conn.prepare_cached(sql)?;
            let rows = st.query_map(args, |r| r.get::<_, Vec<u8>>(0))?;
            let mut out = Vec::with_capacity(count as usize);
            for h in rows {
                out.push(hash_from(h?)?);
            }
            Ok(out)
        })
        .map_err(|e| match e {
            tracemark_ledger::merkle::TileError::Fetch(e) => e,
            other => StoreError::Corrupt(other.to_string()),
        })
    }

    fn scan_tiles(&self, f: &mut dyn FnMut(u8, u64, Hash) -> Result<()>) -> Result<()> {
        let mut st = self
            .conn
            .prepare("SELECT height, idx, hash FROM tiles ORDER BY height, idx")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            f(
                r.get::<_, i64>(0)? as u8,
                r.get::<_, i64>(1)? as u64,
                hash_from(r.get(2)?)?,
            )?;
        }
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        let mut st = self
            .conn
            .prepare("SELECT size, root, note FROM checkpoints ORDER BY size")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (size, root, note) = row?;
            out.push(StoredCheckpoint {
                size: size as u64,
                root: hash_from(root)?,
                note,
            });
        }
        Ok(out)
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let row = self
            .conn
            .query_row(
                "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        match row {
            Some((size, root, note)) => Ok(Some(StoredCheckpoint {
                size: size as u64,
                root: hash_from(root)?,
                note,
            })),
            None => Ok(None),
        }
    }

    fn item_by_key(&self, key: &str) -> Result<Option<ItemRow>> {
        self.item_where("key = ?1", &key)
    }

    fn item_by_id(&self, id: u64) -> Result<Option<ItemRow>> {
        self.item_where("id = ?1", &(id as i64))
    }

    fn parts_of(&self, parent_key: &str) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT key FROM items WHERE parent = ?1 ORDER BY id")?;
        let rows = st.query_map([parent_key], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn item_events(&self, item_id: u64) -> Result<Vec<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE item_id = ?1 ORDER BY seq");
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map([item_id as i64], read_event)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    fn event_by_id(&self, event_id: &str) -> Result<Option<EventRow>> {
        self.event_where("event_id = ?1", &event_id)
    }

    fn event_by_digest(&self, digest: &Hash) -> Result<Option<EventRow>> {
        self.event_where("digest = ?1", &digest.as_slice())
    }

    fn event_by_seq(&self, seq: u64) -> Result<Option<EventRow>> {
        self.event_where("seq = ?1", &(seq as i64))
    }

    fn events_from(&self, from_seq: u64) -> Result<Vec<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE seq >= ?1 ORDER BY seq");
        let mut st = self.conn.prepare_cached(&sql)?;
        let rows = st.query_map([from_seq as i64], read_event)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    fn scan_items_from(
        &self,
        from_id: u64,
        f: &mut dyn FnMut(ItemRow) -> Result<()>,
    ) -> Result<()> {
        // Markings are read in one ordered pass beside the items, not one query per item.
        let mut items = self
            .conn
            .prepare(&format!("{ITEM_SELECT} WHERE id >= ?1 ORDER BY id"))?;
        let mut marks = self.conn.prepare(
            "SELECT item_id, kind, text, component, legibility FROM markings WHERE item_id >= ?1 ORDER BY item_id, pos",
        )?;
        let mut mrows = marks.query([from_id as i64])?;
        let mut pending: Option<(u64, MarkingRow)> = None;
        let mut irows = items.query([from_id as i64])?;
        while let Some(r) = irows.next()? {
            let mut item = read_item(r)??;
            loop {
                if pending.is_none() {
                    pending = match mrows.next()? {
                        Some(m) => Some((
                            m.get::<_, i64>(0)? as u64,
                            MarkingRow {
                                kind: m.get(1)?,
                                text: m.get(2)?,
                                component: m.get(3)?,
                                legibility: m.get(4)?,
                            },
                        )),
                        None => None,
                    };
                }
                match pending.take() {
                    Some((id, m)) if id == item.id => item.attrs.markings.push(m),
                    Some((id, m)) if id < item.id => {
                        return Err(StoreError::Corrupt(format!(
                            "markings of item id {id} have no item ({})",
                            m.text
                        )))
                    }
                    other => {
                        pending = other;
                        break;
                    }
                }
            }
            f(item)?;
        }
        Ok(())
    }

    fn event_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn commit(&mut self, batch: Batch, sign: &CheckpointSigner<'_>) -> Result<StoredCheckpoint> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (size, peaks): (i64, Vec<u8>) =
            tx.query_row("SELECT size, peaks FROM tree_state WHERE id = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let size = size as u64;
        if size != batch.first_index {
            return Err(StoreError::Conflict {
                expected: batch.first_index,
                found: size,
            });
        }
        let peaks = peaks
            .chunks(32)
            .map(|c| hash_from(c.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut tree = CompactRange::from_size_and_peaks(size, peaks)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        {
            let mut put_leaf =
                tx.prepare_cached("INSERT INTO ledger (idx, data, leaf_hash) VALUES (?1, ?2, ?3)")?;
            let mut put_tile =
                tx.prepare_cached("INSERT INTO tiles (height, idx, hash) VALUES (?1, ?2, ?3)")?;
            let mut put_item = tx.prepare_cached(
                "INSERT INTO items (id, key, kind, digest, status, holder, make, model, calibre, country, year, parent) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            let mut put_event = tx.prepare_cached(
                "INSERT INTO events (seq, item_id, event_id, digest, type, date, date_start, date_end, void) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (i, record) in batch.records.iter().enumerate() {
                let idx = size + i as u64;
                let h = leaf_hash(&record.data);
                put_leaf.execute(params![idx as i64, record.data, h.as_slice()])?;
                for tile in tree.push(h) {
                    put_tile.execute(params![
                        tile.height as i64,
                        tile.index as i64,
                        tile.hash.as_slice()
                    ])?;
                }
                match &record.projection {
                    NewProjection::Item {
                        key,
                        kind,
                        digest,
                        attrs,
                        state,
                    } => {
                        put_item.execute(params![
                            idx as i64,
                            key,
                            kind,
                            digest.as_slice(),
                            state.status,
                            state.holder,
                            attrs.make,
                            attrs.model,
                            attrs.calibre,
                            attrs.country,
                            attrs.year,
                            attrs.parent
                        ])?;
                        insert_markings(&tx, idx, &attrs.markings)?;
                    }
                    NewProjection::Event(e) => {
                        put_event.execute(params![
                            idx as i64,
                            e.item_id as i64,
                            e.event_id,
                            e.digest.as_slice(),
                            e.event_type,
                            e.date,
                            e.date_start,
                            e.date_end,
                            e.void
                        ])?;
                    }
                }
            }
        }
        let u = &batch.updates;
        for (seq, date, start, end) in &u.event_dates {
            tx.prepare_cached(
                "UPDATE events SET date = ?2, date_start = ?3, date_end = ?4 WHERE seq = ?1",
            )?
            .execute(params![*seq as i64, date, start, end])?;
        }
        for seq in &u.voided {
            tx.prepare_cached("UPDATE events SET void = 1 WHERE seq = ?1")?
                .execute([*seq as i64])?;
        }
        for (id, attrs) in &u.attrs {
            write_attrs(&tx, *id, attrs)?;
        }
        for (id, state) in &u.states {
            tx.prepare_cached("UPDATE items SET status = ?2, holder = ?3 WHERE id = ?1")?
                .execute(params![*id as i64, state.status, state.holder])?;
        }
        let new_size = tree.size();
        let root = tree.root();
        let note = sign(new_size, &root).map_err(StoreError::Signing)?;
        tx.execute(
            "INSERT INTO checkpoints (size, root, note) VALUES (?1, ?2, ?3)",
            params![new_size as i64, root.as_slice(), note],
        )?;
        let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
        tx.execute(
            "UPDATE tree_state SET size = ?1, peaks = ?2 WHERE id = 0",
            params![new_size as i64, peaks],
        )?;
        tx.commit()?;
        Ok(StoredCheckpoint {
            size: new_size,
            root,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> NodeInfo {
        NodeInfo {
            state: "KE".into(),
            name: "test".into(),
            origin: "tracemark/KE/test".into(),
            verifier_key: "k".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn ledger_rows_cannot_be_changed_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        let batch = Batch {
            first_index: 0,
            records: vec![NewRecord {
                data: b"{}".to_vec(),
                projection: NewProjection::Item {
                    key: "K".into(),
                    kind: "other".into(),
                    digest: [1; 32],
                    attrs: ItemAttrs::default(),
                    state: ItemState {
                        status: "recorded".into(),
                        holder: None,
                    },
                },
            }],
            updates: ProjectionUpdates::default(),
        };
        let cp = s
            .commit(batch.clone(), &|n, _| Ok(format!("note {n}")))
            .unwrap();
        assert_eq!(cp.size, 1);
        assert_eq!(cp.root, leaf_hash(b"{}"));
        assert!(s
            .conn
            .execute("UPDATE ledger SET data = x'00'", [])
            .is_err());
        assert!(s.conn.execute("DELETE FROM ledger", []).is_err());
        assert!(s.conn.execute("DELETE FROM checkpoints", []).is_err());
        // A stale batch is refused rather than appended twice.
        assert!(matches!(
            s.commit(batch, &|_, _| Ok(String::new())),
            Err(StoreError::Conflict { .. })
        ));
        assert!(SqliteStore::create(dir.path(), &node()).is_err());
        drop(s);
        let s = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(s.ledger_size().unwrap(), 1);
        assert_eq!(s.item_by_key("K").unwrap().unwrap().id, 0);
        assert_eq!(s.node().unwrap(), node());
    }

    #[test]
    fn audit_log_contract() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        crate::check_audit_log(&mut s);
    }

    #[test]
    fn peers_contract() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        crate::check_peers(&mut s);
    }

    #[test]
    fn inbox_contract() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        crate::check_inbox(&mut s);
        // Append-only: no update, no delete.
        assert!(s
            .conn
            .execute("UPDATE federation_inbox SET receipt = 'x'", [])
            .is_err());
        assert!(s.conn.execute("DELETE FROM federation_inbox", []).is_err());
    }

    #[test]
    fn user_language_contract() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        crate::check_user_language(&mut s);
    }

    #[test]
    fn photos_contract() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        crate::check_photos(&mut s);
    }

    #[test]
    fn trace_log_contract() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::create(dir.path(), &node()).unwrap();
        crate::check_trace_log(&mut s);
        assert!(s
            .conn
            .execute("UPDATE trace_log SET data = x'00'", [])
            .is_err());
        assert!(s.conn.execute("DELETE FROM trace_log", []).is_err());
        assert!(s.conn.execute("DELETE FROM trace_checkpoints", []).is_err());
    }
}

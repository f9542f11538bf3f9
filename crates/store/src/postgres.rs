//! The PostgreSQL store: one database shared by one or several app servers.
//!
//! The schema mirrors the embedded store's (see `sqlite.rs`), in PostgreSQL types, and is
//! created and upgraded by embedded, versioned migrations recorded in `tracemark_schema`
//! (applied under an advisory lock, so app servers starting together do not race).
//!
//! **The ledger has one sequencer, in the database.** `commit` locks the single row of
//! `tree_state` (`SELECT … FOR UPDATE`) before it compares the ledger size with the batch's
//! `first_index`; a batch prepared against an older size gets [`StoreError::Conflict`] and is
//! never appended, whichever app server sent it. Leaves, tiles, projections (bulk-loaded with
//! binary `COPY`), the signed checkpoint and the new tree state commit in one transaction.
//!
//! Whole imports (validate, then commit) are serialised across app servers by a
//! session-level advisory lock taken on a connection of its own ([`Store::writer_lock`]): the
//! lock is released when that connection closes, also when the process dies.
//!
//! The ledger and checkpoint tables refuse `UPDATE`, `DELETE` and `TRUNCATE` with triggers;
//! docs/OPERATIONS.md shows how to also withhold those privileges from the app's role.
//!
//! The `postgres` client is synchronous (it drives its own small tokio runtime), which fits
//! the synchronous [`Store`] trait; it must not be called from an async runtime thread, which
//! is why the HTTP server reaches the store from worker threads of its own.

use crate::*;
use ::postgres::binary_copy::BinaryCopyInWriter;
use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, NoTls, Row, Statement};
use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use tracemark_ledger::merkle::{leaf_hash, subtree_from_tiles, CompactRange, Hash};

/// Rows fetched per round trip by the scans (they call back between fetches, so a callback
/// may use the store again).
const SCAN_CHUNK: i64 = 20_000;

/// Advisory lock keys (arbitrary constants, spelled in ASCII: "TMIMPORT", "TMMIGRAT").
const IMPORT_LOCK: i64 = 0x544d_494d_504f_5254;
const MIGRATE_LOCK: i64 = 0x544d_4d49_4752_4154;

/// Each entry moves the schema from version `i` to `i + 1`. Append; never edit a shipped one.
const MIGRATIONS: &[&str] = &[
    // 1: the ledger, its checkpoints and the projections.
    r#"
CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);

CREATE FUNCTION tracemark_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: rows cannot be changed or deleted', TG_TABLE_NAME;
END $$;

-- The ledger: one row per accepted record, idx = Merkle leaf index. Append-only.
CREATE TABLE ledger (
    idx BIGINT PRIMARY KEY,
    data BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();

-- Interior Merkle nodes at heights 8, 16, 24, ... (derived; rebuildable from the ledger).
CREATE TABLE tiles (
    height SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (height, idx)
);

-- The sequencer: the incremental tree builder's state after the last commit. Its one row
-- is locked by every commit, which is what keeps the ledger contiguous across app servers.
CREATE TABLE tree_state (
    id SMALLINT PRIMARY KEY CHECK (id = 0),
    size BIGINT NOT NULL,
    peaks BYTEA NOT NULL
);
INSERT INTO tree_state (id, size, peaks) VALUES (0, 0, ''::bytea);

-- Signed checkpoints, one per committed batch. Append-only.
CREATE TABLE checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();

-- Projections: derived from the ledger in the same transaction; rebuildable.
CREATE TABLE items (
    id BIGINT PRIMARY KEY,           -- ledger index of the declaration (internal id)
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    digest BYTEA NOT NULL,
    status TEXT NOT NULL,
    holder TEXT,
    make TEXT, model TEXT, calibre TEXT, country TEXT, year INTEGER, parent TEXT
);
CREATE INDEX items_by_parent ON items (parent) WHERE parent IS NOT NULL;
CREATE TABLE markings (
    item_id BIGINT NOT NULL,
    pos INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    component TEXT,
    legibility TEXT NOT NULL,
    PRIMARY KEY (item_id, pos)
);
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,          -- ledger index
    item_id BIGINT NOT NULL,
    event_id TEXT UNIQUE,
    digest BYTEA NOT NULL UNIQUE,
    type TEXT NOT NULL,
    date TEXT NOT NULL,
    date_start BIGINT NOT NULL,
    date_end BIGINT NOT NULL,
    void BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX events_by_item ON events (item_id);
"#,
    // 2: accounts (agencies, users, service tokens) and the audit log (issue #4).
    r#"
CREATE TABLE agencies (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    holder_name TEXT,
    need_to_know BOOLEAN NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    agency TEXT NOT NULL REFERENCES agencies (name),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_verified BOOLEAN NOT NULL DEFAULT false,
    -- The TOTP replay guard: the time step of the last code accepted.
    totp_last_step BIGINT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at TEXT NOT NULL
);
CREATE TABLE service_tokens (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_sha256 BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The audit log: a second RFC 6962 Merkle log (leaf = canonical JSON of one entry), with its
-- own sequencer row and signed checkpoints. Append-only, like the ledger.
CREATE TABLE audit_log (
    idx BIGINT PRIMARY KEY,
    data BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();
CREATE TABLE audit_tree_state (
    id SMALLINT PRIMARY KEY CHECK (id = 0),
    size BIGINT NOT NULL,
    peaks BYTEA NOT NULL
);
INSERT INTO audit_tree_state (id, size, peaks) VALUES (0, 0, ''::bytea);
CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();
"#,
    // 3: which holders make up an agency's holdings (by kind too), and notifications.
    r#"
ALTER TABLE agencies ADD COLUMN holder_kind TEXT;
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    agency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    item_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX notifications_by_agency ON notifications (agency, id);
"#,
    // 4: the federation's peer directory (issue #5).
    r#"
CREATE TABLE peers (
    state TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    identity TEXT NOT NULL,
    added_at TEXT NOT NULL,
    replaced_at TEXT
);
"#,
    // 5: the federation inbox: messages received from peers, append-only (issue #5).
    r#"
CREATE TABLE federation_inbox (
    sender TEXT NOT NULL,
    message_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    envelope BYTEA NOT NULL,
    receipt TEXT NOT NULL,
    PRIMARY KEY (sender, message_id)
);
CREATE TRIGGER federation_inbox_append_only BEFORE UPDATE OR DELETE ON federation_inbox
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER federation_inbox_no_truncate BEFORE TRUNCATE ON federation_inbox
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();
"#,
    // 6: the trace log (a third Merkle log: every step of every trace, issue #5), the
    // traces' projection, and the federation outbox.
    r#"
CREATE TABLE trace_log (
    idx BIGINT PRIMARY KEY,
    trace TEXT NOT NULL,
    data BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE INDEX trace_log_by_trace ON trace_log (trace, idx);
CREATE TRIGGER trace_log_append_only BEFORE UPDATE OR DELETE ON trace_log
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER trace_log_no_truncate BEFORE TRUNCATE ON trace_log
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();
CREATE TABLE trace_tree_state (
    id SMALLINT PRIMARY KEY CHECK (id = 0),
    size BIGINT NOT NULL,
    peaks BYTEA NOT NULL
);
INSERT INTO trace_tree_state (id, size, peaks) VALUES (0, 0, ''::bytea);
CREATE TABLE trace_checkpoints (
    size BIGINT PRIMARY KEY,
    root BYTEA NOT NULL,
    note TEXT NOT NULL
);
CREATE TRIGGER trace_checkpoints_append_only BEFORE UPDATE OR DELETE ON trace_checkpoints
    FOR EACH ROW EXECUTE FUNCTION tracemark_append_only();
CREATE TRIGGER trace_checkpoints_no_truncate BEFORE TRUNCATE ON trace_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION tracemark_append_only();
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
    records BIGINT NOT NULL
);
CREATE TABLE federation_outbox (
    peer TEXT NOT NULL,
    message_id TEXT NOT NULL,
    trace TEXT NOT NULL,
    kind TEXT NOT NULL,
    envelope BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    delivered_at TEXT,
    receipt TEXT,
    refused TEXT,
    seq BIGSERIAL NOT NULL,
    PRIMARY KEY (peer, message_id)
);
CREATE INDEX federation_outbox_order ON federation_outbox (seq);
"#,
    // Photographs, by the SHA-256 of their bytes (the ledger carries the hash).
    r#"
CREATE TABLE photos (
    sha256 BYTEA PRIMARY KEY,
    media_type TEXT NOT NULL,
    bytes BYTEA NOT NULL
);
"#,
    // Each person's language for the web pages (chosen with the language switch).
    r#"
ALTER TABLE users ADD COLUMN language TEXT;
"#,
];

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        // The client's own message is only the kind ("db error"); the detail is the source.
        let detail = match e.as_db_error() {
            Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
            None => match std::error::Error::source(&e) {
                Some(source) => format!("{e}: {source}"),
                None => e.to_string(),
            },
        };
        StoreError::Postgres(detail.replace('\n', " "))
    }
}

/// The database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the PostgreSQL database".into();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or("");
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let tail = tail.split('?').next().unwrap_or("");
    format!("{scheme}://{authority}{tail}")
}

/// What `migrate` did: the schema version before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
}

fn hash_from(v: Vec<u8>) -> Result<Hash> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::Corrupt(format!("a stored hash has {} bytes", v.len())))
}

fn connect(url: &str) -> Result<Client> {
    Ok(Client::connect(url, NoTls)?)
}

/// Applies the pending migrations in one transaction, under an advisory lock.
fn migrate(client: &mut Client) -> Result<Migrated> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    // Checked before any DDL, so that an app role without CREATE privilege can open an
    // up-to-date database (docs/OPERATIONS.md: the owner role runs `tracemark migrate`).
    let known: bool = tx
        .query_one("SELECT to_regclass('tracemark_schema') IS NOT NULL", &[])?
        .get(0);
    if !known {
        tx.batch_execute("CREATE TABLE tracemark_schema (version INTEGER PRIMARY KEY)")?;
    }
    let row = tx.query_one(
        "SELECT COALESCE(MAX(version), 0)::BIGINT FROM tracemark_schema",
        &[],
    )?;
    let from: i64 = row.get(0);
    if from > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: from,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO tracemark_schema (version) VALUES ($1)",
            &[&((i + 1) as i32)],
        )?;
    }
    tx.commit()?;
    Ok(Migrated {
        from,
        to: SCHEMA_VERSION,
    })
}

/// A store in a PostgreSQL database.
pub struct PgStore {
    url: String,
    /// Interior mutability: the trait's readers take `&self`, the client needs `&mut`.
    client: RefCell<Client>,
    /// Prepared statements of this connection, by SQL text: a look-up is then one round trip
    /// instead of two (validation does one look-up per record).
    statements: RefCell<HashMap<String, Statement>>,
}

impl PgStore {
    /// Applies the embedded migrations to the database at `url` (creating the schema in an
    /// empty database); does not need a node to exist.
    pub fn migrate(url: &str) -> Result<Migrated> {
        migrate(&mut connect(url)?)
    }

    /// Creates the store in the database at `url`. Refuses a database that already holds one.
    pub fn create(url: &str, node: &NodeInfo) -> Result<Self> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
        let n: i64 = tx.query_one("SELECT count(*) FROM meta", &[])?.get(0);
        if n > 0 {
            return Err(StoreError::AlreadyExists(redact(url)));
        }
        for (k, v) in [
            ("state", &node.state),
            ("name", &node.name),
            ("origin", &node.origin),
            ("verifier_key", &node.verifier_key),
            ("created_at", &node.created_at),
        ] {
            tx.execute("INSERT INTO meta (k, v) VALUES ($1, $2)", &[&k, v])?;
        }
        tx.commit()?;
        Ok(PgStore {
            url: url.to_owned(),
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// Opens the store in the database at `url`, applying pending migrations.
    pub fn open(url: &str) -> Result<Self> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        let n: i64 = client.query_one("SELECT count(*) FROM meta", &[])?.get(0);
        if n == 0 {
            return Err(StoreError::NotInitialised(redact(url)));
        }
        Ok(PgStore {
            url: url.to_owned(),
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// Whether the database at `url` already holds a store (without changing anything).
    pub fn exists(url: &str) -> Result<bool> {
        let mut client = connect(url)?;
        let row = client.query_one(
            "SELECT to_regclass('meta') IS NOT NULL AND to_regclass('tracemark_schema') IS NOT NULL",
            &[],
        )?;
        if !row.get::<_, bool>(0) {
            return Ok(false);
        }
        let n: i64 = client.query_one("SELECT count(*) FROM meta", &[])?.get(0);
        Ok(n > 0)
    }

    /// The client, reconnected first if the database went away since the last call (a
    /// restarted server, a failover): a long-running app server resumes by itself.
    fn conn(&self) -> Result<RefMut<'_, Client>> {
        let mut c = self.client.try_borrow_mut().map_err(|_| {
            StoreError::Corrupt(
                "the PostgreSQL connection is already in use (re-entrant call)".into(),
            )
        })?;
        if c.is_closed() {
            // Statements belong to the connection that prepared them.
            self.statements.borrow_mut().clear();
            *c = connect(&self.url)?;
        }
        Ok(c)
    }

    fn statement(&self, c: &mut Client, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = c.prepare(sql)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let mut c = self.conn()?;
        let st = self.statement(&mut c, sql)?;
        Ok(c.query(&st, params)?)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let mut c = self.conn()?;
        let st = self.statement(&mut c, sql)?;
        Ok(c.execute(&st, params)?)
    }

    /// [`PgStore::execute`] keeping the driver's error, for callers that map constraints.
    fn execute_raw(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<std::result::Result<u64, ::postgres::Error>> {
        let mut c = self.conn()?;
        let st = self.statement(&mut c, sql)?;
        Ok(c.execute(&st, params))
    }

    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let mut c = self.conn()?;
        let st = self.statement(&mut c, sql)?;
        Ok(c.query_opt(&st, params)?)
    }

    fn markings_of(&self, item_id: u64) -> Result<Vec<MarkingRow>> {
        Ok(self
            .query(
                "SELECT kind, text, component, legibility FROM markings WHERE item_id = $1 ORDER BY pos",
                &[&(item_id as i64)],
            )?
            .iter()
            .map(|r| MarkingRow {
                kind: r.get(0),
                text: r.get(1),
                component: r.get(2),
                legibility: r.get(3),
            })
            .collect())
    }

    fn item_where(&self, clause: &str, arg: &(dyn ToSql + Sync)) -> Result<Option<ItemRow>> {
        let sql = format!("{ITEM_SELECT} WHERE {clause}");
        match self.query_opt(&sql, &[arg])? {
            Some(r) => {
                let mut item = read_item(&r)?;
                item.attrs.markings = self.markings_of(item.id)?;
                Ok(Some(item))
            }
            None => Ok(None),
        }
    }

    fn event_where(&self, clause: &str, arg: &(dyn ToSql + Sync)) -> Result<Option<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE {clause}");
        self.query_opt(&sql, &[arg])?
            .map(|r| read_event(&r))
            .transpose()
    }
}

const ITEM_SELECT: &str = "SELECT id, key, kind, digest, status, holder, make, model, calibre, country, year, parent FROM items";
const EVENT_SELECT: &str =
    "SELECT seq, item_id, event_id, digest, type, date, date_start, date_end, void FROM events";

fn read_item(r: &Row) -> Result<ItemRow> {
    Ok(ItemRow {
        id: r.try_get::<_, i64>(0)? as u64,
        key: r.try_get(1)?,
        kind: r.try_get(2)?,
        digest: hash_from(r.try_get(3)?)?,
        state: ItemState {
            status: r.try_get(4)?,
            holder: r.try_get(5)?,
        },
        attrs: ItemAttrs {
            make: r.try_get(6)?,
            model: r.try_get(7)?,
            calibre: r.try_get(8)?,
            country: r.try_get(9)?,
            year: r.try_get(10)?,
            parent: r.try_get(11)?,
            markings: Vec::new(),
        },
    })
}

fn read_event(r: &Row) -> Result<EventRow> {
    Ok(EventRow {
        seq: r.try_get::<_, i64>(0)? as u64,
        item_id: r.try_get::<_, i64>(1)? as u64,
        event_id: r.try_get(2)?,
        digest: hash_from(r.try_get(3)?)?,
        event_type: r.try_get(4)?,
        date: r.try_get(5)?,
        date_start: r.try_get(6)?,
        date_end: r.try_get(7)?,
        void: r.try_get(8)?,
    })
}

const USER_SELECT: &str = "SELECT name, agency, role, password_hash, totp_secret, totp_verified, failed_logins, locked_until, created_at FROM users";
const TOKEN_SELECT: &str =
    "SELECT id, service, agency, role, secret_sha256, created_at, revoked_at FROM service_tokens";

fn read_user(r: &Row) -> Result<UserRow> {
    Ok(UserRow {
        name: r.try_get(0)?,
        agency: r.try_get(1)?,
        role: r.try_get(2)?,
        password_hash: r.try_get(3)?,
        totp_secret: r.try_get(4)?,
        totp_verified: r.try_get(5)?,
        failed_logins: r.try_get::<_, i32>(6)?.max(0) as u32,
        locked_until: r.try_get(7)?,
        created_at: r.try_get(8)?,
    })
}

fn read_token(r: &Row) -> Result<TokenRow> {
    Ok(TokenRow {
        id: r.try_get(0)?,
        service: r.try_get(1)?,
        agency: r.try_get(2)?,
        role: r.try_get(3)?,
        secret_sha256: hash_from(r.try_get(4)?)?,
        created_at: r.try_get(5)?,
        revoked_at: r.try_get(6)?,
    })
}

/// Maps a uniqueness violation to [`StoreError::Duplicate`] naming `what`, and a foreign-key
/// violation to [`StoreError::Missing`] naming `parent`.
const TRACE_SELECT: &str = "SELECT key, role, requesting_state, case_reference, parent, status, priority, requested_states, opened_at, updated_at, records FROM traces";

fn read_trace_row(r: &Row) -> Result<TraceRow> {
    Ok(TraceRow {
        key: r.try_get(0)?,
        role: r.try_get(1)?,
        requesting_state: r.try_get(2)?,
        case_reference: r.try_get(3)?,
        parent: r.try_get(4)?,
        status: r.try_get(5)?,
        priority: r.try_get(6)?,
        requested_states: r.try_get(7)?,
        opened_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
        records: r.try_get::<_, i64>(10)?.max(0) as u64,
    })
}

fn read_trace_leaf(r: &Row) -> Result<TraceLeaf> {
    Ok(TraceLeaf {
        index: r.try_get::<_, i64>(0)? as u64,
        trace: r.try_get(1)?,
        data: r.try_get(2)?,
        leaf_hash: hash_from(r.try_get(3)?)?,
    })
}

fn constraint(e: ::postgres::Error, what: impl FnOnce() -> String, parent: &str) -> StoreError {
    use ::postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::Duplicate(what()),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => StoreError::Missing(parent.to_owned()),
        _ => e.into(),
    }
}

/// Fails with [`StoreError::Missing`] when an UPDATE touched no row.
fn one_row(changed: u64, what: impl FnOnce() -> String) -> Result<()> {
    if changed == 0 {
        Err(StoreError::Missing(what()))
    } else {
        Ok(())
    }
}

fn read_checkpoint(r: &Row) -> Result<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        size: r.try_get::<_, i64>(0)? as u64,
        root: hash_from(r.try_get(1)?)?,
        note: r.try_get(2)?,
    })
}

impl Store for PgStore {
    fn peers(&self) -> Result<Vec<PeerRow>> {
        self.query(
            "SELECT state, url, identity, added_at, replaced_at FROM peers ORDER BY state",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(PeerRow {
                state: r.try_get(0)?,
                url: r.try_get(1)?,
                identity: r.try_get(2)?,
                added_at: r.try_get(3)?,
                replaced_at: r.try_get(4)?,
            })
        })
        .collect()
    }

    fn add_peer(&mut self, p: &PeerRow) -> Result<()> {
        self.execute_raw(
            "INSERT INTO peers (state, url, identity, added_at, replaced_at) VALUES ($1, $2, $3, $4, $5)",
            &[&p.state, &p.url, &p.identity, &p.added_at, &p.replaced_at],
        )?
        .map_err(|e| constraint(e, || format!("peer {}", p.state), ""))?;
        Ok(())
    }

    fn replace_peer(&mut self, p: &PeerRow) -> Result<()> {
        let changed = self.execute(
            "UPDATE peers SET url = $2, identity = $3, added_at = $4, replaced_at = $5 WHERE state = $1",
            &[&p.state, &p.url, &p.identity, &p.added_at, &p.replaced_at],
        )?;
        one_row(changed, || format!("peer {}", p.state))
    }

    fn inbox_get(&self, sender: &str, message_id: &str) -> Result<Option<InboxRow>> {
        self.query_opt(
            "SELECT sender, message_id, received_at, kind, envelope, receipt FROM federation_inbox WHERE sender = $1 AND message_id = $2",
            &[&sender, &message_id],
        )?
        .map(|r| {
            Ok(InboxRow {
                sender: r.try_get(0)?,
                message_id: r.try_get(1)?,
                received_at: r.try_get(2)?,
                kind: r.try_get(3)?,
                envelope: r.try_get(4)?,
                receipt: r.try_get(5)?,
            })
        })
        .transpose()
    }

    fn inbox_put(&mut self, i: &InboxRow) -> Result<bool> {
        let inserted = self.execute(
            "INSERT INTO federation_inbox (sender, message_id, received_at, kind, envelope, receipt) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sender, message_id) DO NOTHING",
            &[&i.sender, &i.message_id, &i.received_at, &i.kind, &i.envelope, &i.receipt],
        )?;
        Ok(inserted == 1)
    }

    fn commit_trace(
        &mut self,
        c: &TraceCommit,
        sign: &CheckpointSigner<'_>,
    ) -> Result<TraceCommitted> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        // The trace log's sequencer row orders every app server, as the audit log's does.
        let row = tx.query_one(
            "SELECT size, peaks FROM trace_tree_state WHERE id = 0 FOR UPDATE",
            &[],
        )?;
        if let Some(i) = &c.inbox {
            let inserted = tx.execute(
                "INSERT INTO federation_inbox (sender, message_id, received_at, kind, envelope, receipt) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sender, message_id) DO NOTHING",
                &[&i.sender, &i.message_id, &i.received_at, &i.kind, &i.envelope, &i.receipt],
            )?;
            if inserted == 0 {
                return Ok(TraceCommitted::DuplicateMessage);
            }
        }
        for (trace, expected) in &c.expect {
            let found = tx
                .query_one("SELECT COUNT(*) FROM trace_log WHERE trace = $1", &[trace])?
                .try_get::<_, i64>(0)? as u64;
            if found != *expected {
                return Err(StoreError::TraceMoved {
                    trace: trace.clone(),
                    expected: *expected,
                    found,
                });
            }
        }
        let size = row.try_get::<_, i64>(0)? as u64;
        let peaks: Vec<u8> = row.try_get(1)?;
        let peaks = peaks
            .chunks(32)
            .map(|ch| hash_from(ch.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut tree = CompactRange::from_size_and_peaks(size, peaks)
            .map_err(|e| StoreError::Corrupt(format!("trace tree: {e}")))?;
        let first = tree.size();
        if !c.records.is_empty() {
            let insert = tx.prepare(
                "INSERT INTO trace_log (idx, trace, data, leaf_hash) VALUES ($1, $2, $3, $4)",
            )?;
            for (trace, data) in &c.records {
                let index = tree.size();
                let hash = leaf_hash(data);
                let _ = tree.push(hash);
                tx.execute(&insert, &[&(index as i64), trace, data, &hash.as_slice()])?;
            }
            let new_size = tree.size();
            let root = tree.root();
            let note = sign(new_size, &root).map_err(StoreError::Signing)?;
            tx.execute(
                "INSERT INTO trace_checkpoints (size, root, note) VALUES ($1, $2, $3)",
                &[&(new_size as i64), &root.as_slice(), &note],
            )?;
            let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
            tx.execute(
                "UPDATE trace_tree_state SET size = $1, peaks = $2 WHERE id = 0",
                &[&(new_size as i64), &peaks],
            )?;
        }
        for t in &c.projections {
            tx.execute(
                "INSERT INTO traces (key, role, requesting_state, case_reference, parent, status, priority, requested_states, opened_at, updated_at, records)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (key) DO UPDATE SET role = EXCLUDED.role, requesting_state = EXCLUDED.requesting_state,
                   case_reference = EXCLUDED.case_reference, parent = EXCLUDED.parent, status = EXCLUDED.status,
                   priority = EXCLUDED.priority, requested_states = EXCLUDED.requested_states,
                   opened_at = EXCLUDED.opened_at, updated_at = EXCLUDED.updated_at, records = EXCLUDED.records",
                &[&t.key, &t.role, &t.requesting_state, &t.case_reference, &t.parent, &t.status, &t.priority, &t.requested_states, &t.opened_at, &t.updated_at, &(t.records as i64)],
            )?;
        }
        for o in &c.outbox {
            tx.execute(
                "INSERT INTO federation_outbox (peer, message_id, trace, kind, envelope, created_at, attempts, next_attempt_at, last_error, delivered_at, receipt, refused)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[&o.peer, &o.message_id, &o.trace, &o.kind, &o.envelope, &o.created_at, &(o.attempts as i32), &o.next_attempt_at, &o.last_error, &o.delivered_at, &o.receipt, &o.refused],
            )
            .map_err(|e| constraint(e, || format!("outbox message {} to {}", o.message_id, o.peer), ""))?;
        }
        if let Some(d) = &c.delivered {
            let changed = tx.execute(
                "UPDATE federation_outbox SET delivered_at = $3, receipt = $4, last_error = NULL WHERE peer = $1 AND message_id = $2",
                &[&d.peer, &d.message_id, &d.delivered_at, &d.receipt],
            )?;
            one_row(changed, || {
                format!("outbox message {} to {}", d.message_id, d.peer)
            })?;
        }
        tx.commit()?;
        Ok(TraceCommitted::Appended(first))
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        self.query_opt("SELECT v FROM meta WHERE k = $1", &[&key])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn setting_once(&mut self, key: &str, value: &str) -> Result<String> {
        self.execute(
            "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING",
            &[&key, &value],
        )?;
        self.setting(key)?
            .ok_or_else(|| StoreError::Missing(format!("setting {key}")))
    }

    fn trace_log_size(&self) -> Result<u64> {
        match self.query_opt("SELECT size FROM trace_tree_state WHERE id = 0", &[])? {
            Some(r) => Ok(r.try_get::<_, i64>(0)? as u64),
            None => Err(StoreError::Corrupt("trace_tree_state has no row".into())),
        }
    }

    fn trace_leaves(&self, from: u64, to: u64) -> Result<Vec<TraceLeaf>> {
        let from = from.min(i64::MAX as u64) as i64;
        let to = to.min(i64::MAX as u64) as i64;
        self.query(
            "SELECT idx, trace, data, leaf_hash FROM trace_log WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            &[&from, &to],
        )?
        .iter()
        .map(read_trace_leaf)
        .collect()
    }

    fn trace_records(&self, trace: &str) -> Result<Vec<TraceLeaf>> {
        self.query(
            "SELECT idx, trace, data, leaf_hash FROM trace_log WHERE trace = $1 ORDER BY idx",
            &[&trace],
        )?
        .iter()
        .map(read_trace_leaf)
        .collect()
    }

    fn trace_checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        self.query(
            "SELECT size, root, note FROM trace_checkpoints ORDER BY size",
            &[],
        )?
        .iter()
        .map(read_checkpoint)
        .collect()
    }

    fn trace(&self, key: &str) -> Result<Option<TraceRow>> {
        self.query_opt(&format!("{TRACE_SELECT} WHERE key = $1"), &[&key])?
            .map(|r| read_trace_row(&r))
            .transpose()
    }

    fn traces(&self) -> Result<Vec<TraceRow>> {
        self.query(
            &format!("{TRACE_SELECT} ORDER BY updated_at COLLATE \"C\" DESC, key COLLATE \"C\""),
            &[],
        )?
        .iter()
        .map(read_trace_row)
        .collect()
    }

    fn outbox(&self) -> Result<Vec<OutboxRow>> {
        self.query(
            "SELECT peer, message_id, trace, kind, envelope, created_at, attempts, next_attempt_at, last_error, delivered_at, receipt, refused FROM federation_outbox ORDER BY seq",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(OutboxRow {
                peer: r.try_get(0)?,
                message_id: r.try_get(1)?,
                trace: r.try_get(2)?,
                kind: r.try_get(3)?,
                envelope: r.try_get(4)?,
                created_at: r.try_get(5)?,
                attempts: r.try_get::<_, i32>(6)?.max(0) as u32,
                next_attempt_at: r.try_get(7)?,
                last_error: r.try_get(8)?,
                delivered_at: r.try_get(9)?,
                receipt: r.try_get(10)?,
                refused: r.try_get(11)?,
            })
        })
        .collect()
    }

    fn outbox_failed(&mut self, peer: &str, message_id: &str, f: &OutboxFailure) -> Result<()> {
        let (attempts, next_attempt_at, error, refused, resealed) = (
            f.attempts,
            f.next_attempt_at.as_str(),
            f.error.as_str(),
            f.refused,
            f.resealed.as_deref(),
        );
        let attempts = attempts.min(i32::MAX as u32) as i32;
        let changed = self.execute(
            "UPDATE federation_outbox SET attempts = $3, next_attempt_at = $4, last_error = $5,
                 refused = CASE WHEN $6 THEN $5 ELSE refused END,
                 envelope = COALESCE($7, envelope)
             WHERE peer = $1 AND message_id = $2 AND delivered_at IS NULL",
            &[
                &peer,
                &message_id,
                &attempts,
                &next_attempt_at,
                &error,
                &refused,
                &resealed,
            ],
        )?;
        one_row(changed, || {
            format!("undelivered outbox message {message_id} to {peer}")
        })
    }

    fn put_photo(&mut self, sha256: &Hash, media_type: &str, bytes: &[u8]) -> Result<bool> {
        let hash: &[u8] = &sha256[..];
        let changed = self.execute(
            "INSERT INTO photos (sha256, media_type, bytes) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
            &[&hash, &media_type, &bytes],
        )?;
        Ok(changed == 1)
    }

    fn photo(&self, sha256: &Hash) -> Result<Option<(String, Vec<u8>)>> {
        let hash: &[u8] = &sha256[..];
        self.query_opt(
            "SELECT media_type, bytes FROM photos WHERE sha256 = $1",
            &[&hash],
        )?
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .transpose()
    }

    fn user_language(&self, name: &str) -> Result<Option<String>> {
        self.query_opt("SELECT language FROM users WHERE name = $1", &[&name])?
            .map(|r| Ok(r.try_get::<_, Option<String>>(0)?))
            .transpose()
            .map(Option::flatten)
    }

    fn set_user_language(&mut self, name: &str, language: &str) -> Result<()> {
        let n = self.execute(
            "UPDATE users SET language = $2 WHERE name = $1",
            &[&name, &language],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn insert_agency(&mut self, a: &AgencyRow) -> Result<()> {
        self.execute_raw(
            "INSERT INTO agencies (name, kind, holder_name, holder_kind, need_to_know, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&a.name, &a.kind, &a.holder_name, &a.holder_kind, &a.need_to_know, &a.created_at],
        )?
        .map_err(|e| constraint(e, || format!("agency '{}'", a.name), ""))?;
        Ok(())
    }

    fn agencies(&self) -> Result<Vec<AgencyRow>> {
        self.query(
            "SELECT name, kind, holder_name, holder_kind, need_to_know, created_at FROM agencies ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(AgencyRow {
                name: r.try_get(0)?,
                kind: r.try_get(1)?,
                holder_name: r.try_get(2)?,
                holder_kind: r.try_get(3)?,
                need_to_know: r.try_get(4)?,
                created_at: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn insert_notification(
        &mut self,
        agency: &str,
        created_at: &str,
        item_key: &str,
        kind: &str,
        data: &str,
    ) -> Result<u64> {
        let row = self
            .query_opt(
                "INSERT INTO notifications (agency, created_at, item_key, kind, data) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&agency, &created_at, &item_key, &kind, &data],
            )?
            .ok_or_else(|| StoreError::Corrupt("INSERT … RETURNING gave no row".into()))?;
        Ok(row.try_get::<_, i64>(0)? as u64)
    }

    fn notifications(&self, agency: &str, after: u64, limit: u64) -> Result<Vec<NotificationRow>> {
        let after = after.min(i64::MAX as u64) as i64;
        let limit = limit.min(i64::MAX as u64) as i64;
        self.query(
            "SELECT id, agency, created_at, item_key, kind, data FROM notifications \
             WHERE agency = $1 AND id > $2 ORDER BY id LIMIT $3",
            &[&agency, &after, &limit],
        )?
        .iter()
        .map(|r| {
            Ok(NotificationRow {
                id: r.try_get::<_, i64>(0)? as u64,
                agency: r.try_get(1)?,
                created_at: r.try_get(2)?,
                item_key: r.try_get(3)?,
                kind: r.try_get(4)?,
                data: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn insert_user(&mut self, u: &UserRow) -> Result<()> {
        let failed = u.failed_logins.min(i32::MAX as u32) as i32;
        self.execute_raw(
            "INSERT INTO users (name, agency, role, password_hash, totp_secret, totp_verified, failed_logins, locked_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &u.name,
                &u.agency,
                &u.role,
                &u.password_hash,
                &u.totp_secret,
                &u.totp_verified,
                &failed,
                &u.locked_until,
                &u.created_at,
            ],
        )?
        .map_err(|e| {
            constraint(
                e,
                || format!("user '{}'", u.name),
                &format!("agency '{}'", u.agency),
            )
        })?;
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<UserRow>> {
        self.query_opt(&format!("{USER_SELECT} WHERE name = $1"), &[&name])?
            .map(|r| read_user(&r))
            .transpose()
    }

    fn users(&self) -> Result<Vec<UserRow>> {
        self.query(&format!("{USER_SELECT} ORDER BY name"), &[])?
            .iter()
            .map(read_user)
            .collect()
    }

    fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let n = self.execute(
            "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE name = $1",
            &[&name, &password_hash],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn set_login_state(
        &mut self,
        name: &str,
        failed_logins: u32,
        locked_until: Option<i64>,
    ) -> Result<()> {
        let failed = failed_logins.min(i32::MAX as u32) as i32;
        let n = self.execute(
            "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE name = $1",
            &[&name, &failed, &locked_until],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn set_totp(&mut self, name: &str, secret: Option<&str>, verified: bool) -> Result<()> {
        // A new secret forgets the replay guard of the old one.
        let n = self.execute(
            "UPDATE users SET totp_secret = $2, totp_verified = $3, \
             totp_last_step = CASE WHEN totp_secret IS NOT DISTINCT FROM $2 THEN totp_last_step ELSE NULL END \
             WHERE name = $1",
            &[&name, &secret, &verified],
        )?;
        one_row(n, || format!("user '{name}'"))
    }

    fn use_totp_step(&mut self, name: &str, step: i64) -> Result<bool> {
        // One statement, so two requests racing with the same code cannot both pass (the
        // row lock of the UPDATE makes the second re-check the condition).
        let n = self.execute(
            "UPDATE users SET totp_last_step = $2 WHERE name = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            &[&name, &step],
        )?;
        Ok(n == 1)
    }

    fn insert_token(&mut self, t: &TokenRow) -> Result<()> {
        self.execute_raw(
            "INSERT INTO service_tokens (id, service, agency, role, secret_sha256, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &t.id,
                &t.service,
                &t.agency,
                &t.role,
                &t.secret_sha256.as_slice(),
                &t.created_at,
                &t.revoked_at,
            ],
        )?
        .map_err(|e| constraint(e, || format!("token '{}'", t.id), ""))?;
        Ok(())
    }

    fn token(&self, id: &str) -> Result<Option<TokenRow>> {
        self.query_opt(&format!("{TOKEN_SELECT} WHERE id = $1"), &[&id])?
            .map(|r| read_token(&r))
            .transpose()
    }

    fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.query(&format!("{TOKEN_SELECT} ORDER BY created_at, id"), &[])?
            .iter()
            .map(read_token)
            .collect()
    }

    fn revoke_token(&mut self, id: &str, at: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE service_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &at],
        )?;
        Ok(n == 1)
    }

    fn append_audit(&mut self, entries: &[Vec<u8>], sign: &CheckpointSigner<'_>) -> Result<u64> {
        if entries.is_empty() {
            return self.audit_size();
        }
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        // The audit sequencer: like the ledger's, one locked row orders every app server.
        let row = tx.query_one(
            "SELECT size, peaks FROM audit_tree_state WHERE id = 0 FOR UPDATE",
            &[],
        )?;
        let size = row.try_get::<_, i64>(0)? as u64;
        let peaks: Vec<u8> = row.try_get(1)?;
        let peaks = peaks
            .chunks(32)
            .map(|c| hash_from(c.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut tree = CompactRange::from_size_and_peaks(size, peaks)
            .map_err(|e| StoreError::Corrupt(format!("audit tree: {e}")))?;
        let first = tree.size();
        let insert =
            tx.prepare("INSERT INTO audit_log (idx, data, leaf_hash) VALUES ($1, $2, $3)")?;
        for data in entries {
            let index = tree.size();
            let hash = leaf_hash(data);
            // Interior tiles are not stored for the audit tree (see the SQLite backend).
            let _ = tree.push(hash);
            tx.execute(&insert, &[&(index as i64), data, &hash.as_slice()])?;
        }
        let new_size = tree.size();
        let root = tree.root();
        let note = sign(new_size, &root).map_err(StoreError::Signing)?;
        tx.execute(
            "INSERT INTO audit_checkpoints (size, root, note) VALUES ($1, $2, $3)",
            &[&(new_size as i64), &root.as_slice(), &note],
        )?;
        let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
        tx.execute(
            "UPDATE audit_tree_state SET size = $1, peaks = $2 WHERE id = 0",
            &[&(new_size as i64), &peaks],
        )?;
        tx.commit()?;
        Ok(first)
    }

    fn audit_size(&self) -> Result<u64> {
        let r = self.query_opt("SELECT size FROM audit_tree_state WHERE id = 0", &[])?;
        match r {
            Some(r) => Ok(r.try_get::<_, i64>(0)? as u64),
            None => Err(StoreError::Corrupt("audit_tree_state has no row".into())),
        }
    }

    fn audit_entries(&self, from: u64, limit: u64, f: &AuditFilter) -> Result<Vec<AuditRow>> {
        let from = from.min(i64::MAX as u64) as i64;
        let limit = limit.min(i64::MAX as u64) as i64;
        // Entries are canonical JSON text stored as bytes; a malformed one (there are none)
        // would fail the query loudly rather than be skipped.
        self.query(
            "SELECT idx, data, leaf_hash FROM (
                SELECT idx, data, leaf_hash, convert_from(data, 'UTF8')::jsonb AS e
                  FROM audit_log WHERE idx >= $1) a
              WHERE ($3::text IS NULL OR e ->> 'principal' = $3)
                AND ($4::text IS NULL OR e ->> 'agency' = $4)
                AND ($5::text IS NULL OR e ->> 'action' = $5)
                AND ($6::text IS NULL OR e ->> 'resource' = $6)
                AND ($7::text IS NULL OR e ->> 'decision' = $7)
                AND ($8::text IS NULL OR (e ->> 'time') COLLATE \"C\" >= $8)
                AND ($9::text IS NULL OR (e ->> 'time') COLLATE \"C\" < $9)
              ORDER BY idx LIMIT $2",
            &[
                &from,
                &limit,
                &f.principal,
                &f.agency,
                &f.action,
                &f.resource,
                &f.decision,
                &f.since,
                &f.until,
            ],
        )?
        .iter()
        .map(|r| {
            Ok(AuditRow {
                index: r.try_get::<_, i64>(0)? as u64,
                data: r.try_get(1)?,
                leaf_hash: hash_from(r.try_get(2)?)?,
            })
        })
        .collect()
    }

    fn latest_audit_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.query_opt(
            "SELECT size, root, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
            &[],
        )?
        .map(|r| read_checkpoint(&r))
        .transpose()
    }

    fn node(&self) -> Result<NodeInfo> {
        let rows = self.query("SELECT k, v FROM meta", &[])?;
        let get = |k: &str| -> Result<String> {
            rows.iter()
                .find(|r| r.get::<_, &str>(0) == k)
                .map(|r| r.get::<_, String>(1))
                .ok_or_else(|| StoreError::Corrupt(format!("meta value '{k}' is missing")))
        };
        Ok(NodeInfo {
            state: get("state")?,
            name: get("name")?,
            origin: get("origin")?,
            verifier_key: get("verifier_key")?,
            created_at: get("created_at")?,
        })
    }

    fn ledger_size(&self) -> Result<u64> {
        let r = self
            .query_opt("SELECT size FROM tree_state WHERE id = 0", &[])?
            .ok_or_else(|| StoreError::Corrupt("the tree state row is missing".into()))?;
        Ok(r.try_get::<_, i64>(0)? as u64)
    }

    fn leaf(&self, index: u64) -> Result<Option<LeafRow>> {
        match self.query_opt(
            "SELECT data, leaf_hash FROM ledger WHERE idx = $1",
            &[&(index as i64)],
        )? {
            Some(r) => Ok(Some(LeafRow {
                index,
                data: r.try_get(0)?,
                leaf_hash: hash_from(r.try_get(1)?)?,
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
        let mut cursor = from as i64;
        loop {
            let rows = self.query(
                "SELECT idx, data, leaf_hash FROM ledger WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3",
                &[&cursor, &(to as i64), &SCAN_CHUNK],
            )?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            cursor = last.try_get::<_, i64>(0)? + 1;
            for r in rows {
                f(LeafRow {
                    index: r.try_get::<_, i64>(0)? as u64,
                    data: r.try_get(1)?,
                    leaf_hash: hash_from(r.try_get(2)?)?,
                })?;
            }
        }
    }

    fn perfect_subtree(&self, start: u64, size: u64) -> Result<Hash> {
        subtree_from_tiles(start, size, |height, first, count| -> Result<Vec<Hash>> {
            let (lo, hi) = (first as i64, (first + count) as i64);
            let rows = if height == 0 {
                self.query(
                    "SELECT leaf_hash FROM ledger WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    &[&lo, &hi],
                )?
            } else {
                self.query(
                    "SELECT hash FROM tiles WHERE height = $3 AND idx >= $1 AND idx < $2 ORDER BY idx",
                    &[&lo, &hi, &(height as i16)],
                )?
            };
            rows.iter().map(|r| hash_from(r.try_get(0)?)).collect()
        })
        .map_err(|e| match e {
            tracemark_ledger::merkle::TileError::Fetch(e) => e,
            other => StoreError::Corrupt(other.to_string()),
        })
    }

    fn scan_tiles(&self, f: &mut dyn FnMut(u8, u64, Hash) -> Result<()>) -> Result<()> {
        let (mut height, mut idx) = (-1i16, -1i64);
        loop {
            let rows = self.query(
                "SELECT height, idx, hash FROM tiles WHERE (height, idx) > ($1, $2) ORDER BY height, idx LIMIT $3",
                &[&height, &idx, &SCAN_CHUNK],
            )?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            (height, idx) = (last.try_get(0)?, last.try_get(1)?);
            for r in rows {
                f(
                    r.try_get::<_, i16>(0)? as u8,
                    r.try_get::<_, i64>(1)? as u64,
                    hash_from(r.try_get(2)?)?,
                )?;
            }
        }
    }

    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        self.query(
            "SELECT size, root, note FROM checkpoints ORDER BY size",
            &[],
        )?
        .iter()
        .map(read_checkpoint)
        .collect()
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.query_opt(
            "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
            &[],
        )?
        .map(|r| read_checkpoint(&r))
        .transpose()
    }

    fn item_by_key(&self, key: &str) -> Result<Option<ItemRow>> {
        self.item_where("key = $1", &key)
    }

    fn item_by_id(&self, id: u64) -> Result<Option<ItemRow>> {
        self.item_where("id = $1", &(id as i64))
    }

    fn parts_of(&self, parent_key: &str) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT key FROM items WHERE parent = $1 ORDER BY id",
                &[&parent_key],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn item_events(&self, item_id: u64) -> Result<Vec<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE item_id = $1 ORDER BY seq");
        self.query(&sql, &[&(item_id as i64)])?
            .iter()
            .map(read_event)
            .collect()
    }

    fn event_by_id(&self, event_id: &str) -> Result<Option<EventRow>> {
        self.event_where("event_id = $1", &event_id)
    }

    fn event_by_digest(&self, digest: &Hash) -> Result<Option<EventRow>> {
        self.event_where("digest = $1", &digest.as_slice())
    }

    fn event_by_seq(&self, seq: u64) -> Result<Option<EventRow>> {
        self.event_where("seq = $1", &(seq as i64))
    }

    fn events_from(&self, from_seq: u64) -> Result<Vec<EventRow>> {
        let sql = format!("{EVENT_SELECT} WHERE seq >= $1 ORDER BY seq");
        self.query(&sql, &[&(from_seq as i64)])?
            .iter()
            .map(read_event)
            .collect()
    }

    fn scan_items_from(
        &self,
        from_id: u64,
        f: &mut dyn FnMut(ItemRow) -> Result<()>,
    ) -> Result<()> {
        let items_sql = format!("{ITEM_SELECT} WHERE id >= $1 ORDER BY id LIMIT $2");
        let mut cursor = from_id as i64;
        loop {
            let rows = self.query(&items_sql, &[&cursor, &SCAN_CHUNK])?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Ok(());
            };
            let (lo, hi): (i64, i64) = (first.try_get(0)?, last.try_get(0)?);
            cursor = hi + 1;
            // The markings of this chunk of items, in one ordered query beside them.
            let marks = self.query(
                "SELECT item_id, kind, text, component, legibility FROM markings \
                 WHERE item_id >= $1 AND item_id <= $2 ORDER BY item_id, pos",
                &[&lo, &hi],
            )?;
            let mut marks = marks.iter().peekable();
            for r in &rows {
                let mut item = read_item(r)?;
                while let Some(m) = marks.peek() {
                    let id = m.try_get::<_, i64>(0)? as u64;
                    if id > item.id {
                        break;
                    }
                    if id < item.id {
                        return Err(StoreError::Corrupt(format!(
                            "markings of item id {id} have no item"
                        )));
                    }
                    item.attrs.markings.push(MarkingRow {
                        kind: m.try_get(1)?,
                        text: m.try_get(2)?,
                        component: m.try_get(3)?,
                        legibility: m.try_get(4)?,
                    });
                    marks.next();
                }
                f(item)?;
            }
        }
    }

    fn event_count(&self) -> Result<u64> {
        let r = self
            .query_opt("SELECT count(*) FROM events", &[])?
            .ok_or_else(|| StoreError::Corrupt("count(*) returned no row".into()))?;
        Ok(r.try_get::<_, i64>(0)? as u64)
    }

    fn writer_lock(&self) -> Result<Option<WriterGuard>> {
        // A connection of its own: the session lock lives exactly as long as it does, and the
        // store's connection stays free for the import's reads and commits.
        let mut lock = connect(&self.url)?;
        lock.execute("SELECT pg_advisory_lock($1)", &[&IMPORT_LOCK])?;
        Ok(Some(WriterGuard(Box::new(lock))))
    }

    fn commit(&mut self, batch: Batch, sign: &CheckpointSigner<'_>) -> Result<StoredCheckpoint> {
        let mut client = self.conn()?;
        let mut tx = client.transaction()?;
        // The sequencer: this row lock orders every commit of every app server.
        let row = tx.query_one(
            "SELECT size, peaks FROM tree_state WHERE id = 0 FOR UPDATE",
            &[],
        )?;
        let size = row.try_get::<_, i64>(0)? as u64;
        if size != batch.first_index {
            return Err(StoreError::Conflict {
                expected: batch.first_index,
                found: size,
            });
        }
        let peaks: Vec<u8> = row.try_get(1)?;
        let peaks = peaks
            .chunks(32)
            .map(|c| hash_from(c.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let mut tree = CompactRange::from_size_and_peaks(size, peaks)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;

        let mut tiles = Vec::new();
        {
            let sink =
                tx.copy_in("COPY ledger (idx, data, leaf_hash) FROM STDIN (FORMAT binary)")?;
            let mut w = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::BYTEA, Type::BYTEA]);
            for (i, record) in batch.records.iter().enumerate() {
                let idx = (size + i as u64) as i64;
                let h = leaf_hash(&record.data);
                w.write(&[&idx, &record.data.as_slice(), &h.as_slice()])?;
                tiles.extend(tree.push(h));
            }
            w.finish()?;
        }
        if !tiles.is_empty() {
            let sink = tx.copy_in("COPY tiles (height, idx, hash) FROM STDIN (FORMAT binary)")?;
            let mut w = BinaryCopyInWriter::new(sink, &[Type::INT2, Type::INT8, Type::BYTEA]);
            for t in &tiles {
                w.write(&[&(t.height as i16), &(t.index as i64), &t.hash.as_slice()])?;
            }
            w.finish()?;
        }
        let has_items = batch
            .records
            .iter()
            .any(|r| matches!(r.projection, NewProjection::Item { .. }));
        if has_items {
            {
                let sink = tx.copy_in(
                    "COPY items (id, key, kind, digest, status, holder, make, model, calibre, country, year, parent) \
                     FROM STDIN (FORMAT binary)",
                )?;
                let mut w = BinaryCopyInWriter::new(
                    sink,
                    &[
                        Type::INT8,
                        Type::TEXT,
                        Type::TEXT,
                        Type::BYTEA,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                        Type::INT4,
                        Type::TEXT,
                    ],
                );
                for (i, record) in batch.records.iter().enumerate() {
                    if let NewProjection::Item {
                        key,
                        kind,
                        digest,
                        attrs,
                        state,
                    } = &record.projection
                    {
                        let idx = (size + i as u64) as i64;
                        w.write(&[
                            &idx,
                            key,
                            kind,
                            &digest.as_slice(),
                            &state.status,
                            &state.holder,
                            &attrs.make,
                            &attrs.model,
                            &attrs.calibre,
                            &attrs.country,
                            &attrs.year,
                            &attrs.parent,
                        ])?;
                    }
                }
                w.finish()?;
            }
            let sink = tx.copy_in(
                "COPY markings (item_id, pos, kind, text, component, legibility) FROM STDIN (FORMAT binary)",
            )?;
            let mut w = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::INT8,
                    Type::INT4,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT,
                ],
            );
            for (i, record) in batch.records.iter().enumerate() {
                if let NewProjection::Item { attrs, .. } = &record.projection {
                    let idx = (size + i as u64) as i64;
                    for (pos, m) in attrs.markings.iter().enumerate() {
                        w.write(&[
                            &idx,
                            &(pos as i32),
                            &m.kind,
                            &m.text,
                            &m.component,
                            &m.legibility,
                        ])?;
                    }
                }
            }
            w.finish()?;
        }
        if batch
            .records
            .iter()
            .any(|r| matches!(r.projection, NewProjection::Event(_)))
        {
            let sink = tx.copy_in(
                "COPY events (seq, item_id, event_id, digest, type, date, date_start, date_end, void) \
                 FROM STDIN (FORMAT binary)",
            )?;
            let mut w = BinaryCopyInWriter::new(
                sink,
                &[
                    Type::INT8,
                    Type::INT8,
                    Type::TEXT,
                    Type::BYTEA,
                    Type::TEXT,
                    Type::TEXT,
                    Type::INT8,
                    Type::INT8,
                    Type::BOOL,
                ],
            );
            for (i, record) in batch.records.iter().enumerate() {
                if let NewProjection::Event(e) = &record.projection {
                    let idx = (size + i as u64) as i64;
                    w.write(&[
                        &idx,
                        &(e.item_id as i64),
                        &e.event_id,
                        &e.digest.as_slice(),
                        &e.event_type,
                        &e.date,
                        &e.date_start,
                        &e.date_end,
                        &e.void,
                    ])?;
                }
            }
            w.finish()?;
        }

        let u = &batch.updates;
        if !u.event_dates.is_empty() {
            let st = tx.prepare(
                "UPDATE events SET date = $2, date_start = $3, date_end = $4 WHERE seq = $1",
            )?;
            for (seq, date, start, end) in &u.event_dates {
                tx.execute(&st, &[&(*seq as i64), date, start, end])?;
            }
        }
        if !u.voided.is_empty() {
            let seqs: Vec<i64> = u.voided.iter().map(|s| *s as i64).collect();
            tx.execute(
                "UPDATE events SET void = true WHERE seq = ANY($1)",
                &[&seqs],
            )?;
        }
        if !u.attrs.is_empty() {
            let st = tx.prepare(
                "UPDATE items SET make = $2, model = $3, calibre = $4, country = $5, year = $6, parent = $7 WHERE id = $1",
            )?;
            let del = tx.prepare("DELETE FROM markings WHERE item_id = $1")?;
            let ins = tx.prepare(
                "INSERT INTO markings (item_id, pos, kind, text, component, legibility) VALUES ($1, $2, $3, $4, $5, $6)",
            )?;
            for (id, a) in &u.attrs {
                let id = *id as i64;
                tx.execute(
                    &st,
                    &[
                        &id, &a.make, &a.model, &a.calibre, &a.country, &a.year, &a.parent,
                    ],
                )?;
                tx.execute(&del, &[&id])?;
                for (pos, m) in a.markings.iter().enumerate() {
                    tx.execute(
                        &ins,
                        &[
                            &id,
                            &(pos as i32),
                            &m.kind,
                            &m.text,
                            &m.component,
                            &m.legibility,
                        ],
                    )?;
                }
            }
        }
        if !u.states.is_empty() {
            // One statement for every state change of the batch (a batch of events can
            // touch tens of thousands of items).
            let ids: Vec<i64> = u.states.iter().map(|(id, _)| *id as i64).collect();
            let statuses: Vec<&str> = u.states.iter().map(|(_, s)| s.status.as_str()).collect();
            let holders: Vec<Option<&str>> =
                u.states.iter().map(|(_, s)| s.holder.as_deref()).collect();
            tx.execute(
                "UPDATE items SET status = u.status, holder = u.holder \
                 FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS u(id, status, holder) \
                 WHERE items.id = u.id",
                &[&ids, &statuses, &holders],
            )?;
        }

        let new_size = tree.size();
        let root = tree.root();
        let note = sign(new_size, &root).map_err(StoreError::Signing)?;
        tx.execute(
            "INSERT INTO checkpoints (size, root, note) VALUES ($1, $2, $3)",
            &[&(new_size as i64), &root.as_slice(), &note],
        )?;
        let peaks: Vec<u8> = tree.peaks().iter().flatten().copied().collect();
        tx.execute(
            "UPDATE tree_state SET size = $1, peaks = $2 WHERE id = 0",
            &[&(new_size as i64), &peaks],
        )?;
        // Followers (other app servers' search indexes) may LISTEN instead of polling.
        tx.execute(
            "SELECT pg_notify('tracemark_ledger', $1)",
            &[&new_size.to_string()],
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

    /// A fresh database on the test server, or `None` (said loudly) without one.
    fn fresh_database() -> Option<String> {
        let Ok(server) = std::env::var("TRACEMARK_TEST_DATABASE_URL") else {
            assert!(
                std::env::var("TRACEMARK_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "TRACEMARK_TEST_DATABASE_URL is not set"
            );
            eprintln!("*** NOT RUN: TRACEMARK_TEST_DATABASE_URL is not set ***");
            return None;
        };
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!(
            "tm_store_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        connect(&server)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (prefix, _) = server.rsplit_once('/').unwrap();
        Some(format!("{prefix}/{name}"))
    }

    fn node() -> NodeInfo {
        NodeInfo {
            state: "KE".into(),
            name: "test".into(),
            origin: "tracemark/KE/test".into(),
            verifier_key: "k".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn item(key: &str) -> NewRecord {
        NewRecord {
            data: format!("{{\"key\":\"{key}\"}}").into_bytes(),
            projection: NewProjection::Item {
                key: key.into(),
                kind: "other".into(),
                digest: leaf_hash(key.as_bytes()),
                attrs: ItemAttrs {
                    markings: vec![MarkingRow {
                        kind: "serial".into(),
                        text: format!("S-{key}"),
                        component: None,
                        legibility: "clear".into(),
                    }],
                    ..ItemAttrs::default()
                },
                state: ItemState {
                    status: "recorded".into(),
                    holder: None,
                },
            },
        }
    }

    /// Two stores (two app servers) on one database: a batch prepared against an old size is
    /// refused, and writers that retry on `Conflict` keep the ledger contiguous.
    #[test]
    fn one_sequencer_for_every_connection() {
        let Some(url) = fresh_database() else { return };
        let mut a = PgStore::create(&url, &node()).unwrap();
        assert!(matches!(
            PgStore::create(&url, &node()),
            Err(StoreError::AlreadyExists(_))
        ));
        let mut b = PgStore::open(&url).unwrap();
        assert_eq!(b.node().unwrap(), node());
        let sign = |n: u64, _: &Hash| Ok(format!("note {n}"));
        let batch = |first: u64, key: &str| Batch {
            first_index: first,
            records: vec![item(key)],
            updates: ProjectionUpdates::default(),
        };
        a.commit(batch(0, "A0"), &sign).unwrap();
        assert!(matches!(
            b.commit(batch(0, "B0"), &sign),
            Err(StoreError::Conflict {
                expected: 0,
                found: 1
            })
        ));
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let url = url.clone();
                std::thread::spawn(move || {
                    let mut s = PgStore::open(&url).unwrap();
                    for i in 0..20 {
                        loop {
                            let at = s.ledger_size().unwrap();
                            match s.commit(batch(at, &format!("W{w}-{i}")), &sign) {
                                Ok(_) => break,
                                Err(StoreError::Conflict { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(b.ledger_size().unwrap(), 61);
        let mut seen = Vec::new();
        b.scan_leaves(0, 61, &mut |l| {
            seen.push(l.index);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..61).collect::<Vec<_>>());
        let cps = b.checkpoints().unwrap();
        assert_eq!(cps.len(), 61);
        assert_eq!(b.item_by_id(0).unwrap().unwrap().attrs.markings.len(), 1);
        let mut items = 0;
        b.scan_items(&mut |_| {
            items += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(items, 61);
        // The ledger refuses edits from this connection too.
        assert!(b
            .conn()
            .unwrap()
            .batch_execute("DELETE FROM ledger")
            .is_err());
        // The migration is recorded and re-running it changes nothing.
        assert_eq!(
            PgStore::migrate(&url).unwrap(),
            Migrated {
                from: SCHEMA_VERSION,
                to: SCHEMA_VERSION
            }
        );
    }

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact("postgres://tm:s3cret@db.example:5432/reg?sslmode=require"),
            "postgres://tm@db.example:5432/reg"
        );
        assert_eq!(redact("postgres://db/reg"), "postgres://db/reg");
        assert_eq!(redact("host=db password=x"), "the PostgreSQL database");
    }

    #[test]
    fn audit_log_contract() {
        let Some(url) = fresh_database() else { return };
        let mut s = PgStore::create(&url, &node()).unwrap();
        crate::check_audit_log(&mut s);
    }

    #[test]
    fn peers_contract() {
        let Some(url) = fresh_database() else { return };
        let mut s = PgStore::create(&url, &node()).unwrap();
        crate::check_peers(&mut s);
    }

    #[test]
    fn inbox_contract() {
        let Some(url) = fresh_database() else { return };
        let mut s = PgStore::create(&url, &node()).unwrap();
        crate::check_inbox(&mut s);
        // Append-only: no update, no delete, no truncate.
        let mut conn = s.conn().unwrap();
        assert!(conn
            .batch_execute("UPDATE federation_inbox SET receipt = 'x'")
            .is_err());
        assert!(conn.batch_execute("DELETE FROM federation_inbox").is_err());
        assert!(conn.batch_execute("TRUNCATE federation_inbox").is_err());
    }

    #[test]
    fn user_language_contract() {
        let Some(url) = fresh_database() else { return };
        let mut s = PgStore::create(&url, &node()).unwrap();
        crate::check_user_language(&mut s);
    }

    #[test]
    fn photos_contract() {
        let Some(url) = fresh_database() else { return };
        let mut s = PgStore::create(&url, &node()).unwrap();
        crate::check_photos(&mut s);
    }

    #[test]
    fn trace_log_contract() {
        let Some(url) = fresh_database() else { return };
        let mut s = PgStore::create(&url, &node()).unwrap();
        crate::check_trace_log(&mut s);
        let mut conn = s.conn().unwrap();
        assert!(conn
            .batch_execute("UPDATE trace_log SET data = '\\x00'")
            .is_err());
        assert!(conn.batch_execute("DELETE FROM trace_log").is_err());
        assert!(conn.batch_execute("TRUNCATE trace_checkpoints").is_err());
    }
}

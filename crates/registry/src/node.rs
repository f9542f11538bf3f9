//! A node: one state's installation, its store and its signing key.
//!
//! The store is the embedded SQLite file in the data folder, or a PostgreSQL database
//! ([`Location::database`]). Either way the Ed25519 signing key is the file `node.key` in the
//! data folder (and the federation identity `federation.key` beside it, see
//! [`crate::federation`]): with PostgreSQL, `init` writes it there and every app server on the same
//! database is given a copy in its own data folder (the key never enters the database, so a
//! database dump or replica cannot sign). The data folder also keeps the server's own search
//! snapshot.

use crate::Clock;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use tracemark_domain::ids::CountryCode;
use tracemark_federation::identity::IDENTITY_FILE;
use tracemark_ledger::{NoteSigner, NoteVerifier};
use tracemark_store::{NodeInfo, PgStore, SqliteStore, Store, StoreError, WriterGuard};

/// The signing key's file in the data folder, readable by the owner only.
pub const KEY_FILE: &str = "node.key";
const LOCK_FILE: &str = "writer.lock";

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("invalid state code: {0}")]
    State(String),
    #[error(
        "invalid node name '{0}': use letters, digits, '.', '-', '_' and '/', no spaces or '+'"
    )]
    Name(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key: {0}")]
    Key(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Where a node lives: its data folder, and the PostgreSQL database if it uses one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The data folder: the embedded store, the signing key, the search snapshot.
    pub dir: PathBuf,
    /// A `postgres://` URL: the store is that database instead of the embedded file.
    pub database: Option<String>,
}

impl Location {
    /// The embedded store in `dir`.
    pub fn embedded(dir: impl Into<PathBuf>) -> Self {
        Location {
            dir: dir.into(),
            database: None,
        }
    }

    /// Whether a store exists here (for PostgreSQL: whether the database holds one).
    pub fn store_exists(&self) -> Result<bool, NodeError> {
        match &self.database {
            None => Ok(self.dir.join(tracemark_store::sqlite::DB_FILE).exists()),
            Some(url) => Ok(PgStore::exists(url)?),
        }
    }

    /// How to name the store in messages (a database URL without its password).
    pub fn describe(&self) -> String {
        match &self.database {
            None => self.dir.display().to_string(),
            Some(url) => tracemark_store::postgres::redact(url),
        }
    }
}

/// Held while an import runs: a lock file for the embedded store, an advisory lock in the
/// database for PostgreSQL.
#[derive(Debug)]
#[allow(dead_code)] // the guards are held for what their drop releases, never read
pub enum WriterLock {
    File(std::fs::File),
    Store(WriterGuard),
}

pub struct Node {
    pub store: Box<dyn Store>,
    pub info: NodeInfo,
    pub(crate) signer: NoteSigner,
    dir: PathBuf,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
}

impl Node {
    /// Creates the embedded store and the node's Ed25519 key. Refuses to overwrite an
    /// existing store.
    pub fn init(
        dir: &Path,
        state: &str,
        name: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Self, NodeError> {
        Node::init_at(&Location::embedded(dir), state, name, clock)
    }

    /// Creates the store at `at` and the node's Ed25519 key (in `at.dir`). Refuses to
    /// overwrite an existing store or key.
    pub fn init_at(
        at: &Location,
        state: &str,
        name: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Self, NodeError> {
        let dir = at.dir.as_path();
        let state = CountryCode::parse(state).map_err(NodeError::State)?;
        let default_name = format!("registry-{}", state.as_str().to_ascii_lowercase());
        let name = name.unwrap_or(&default_name);
        if !valid_name(name) {
            return Err(NodeError::Name(name.to_owned()));
        }
        let origin = format!("tracemark/{state}/{name}");
        if at.store_exists()? {
            return Err(StoreError::AlreadyExists(at.describe()).into());
        }
        if dir.join(KEY_FILE).exists() || dir.join(IDENTITY_FILE).exists() {
            return Err(StoreError::AlreadyExists(dir.display().to_string()).into());
        }
        std::fs::create_dir_all(dir).map_err(|e| NodeError::Io(dir.display().to_string(), e))?;
        let signer = NoteSigner::generate(&origin).map_err(|e| NodeError::Key(e.to_string()))?;
        let key_path = dir.join(KEY_FILE);
        write_secret(&key_path, signer.to_private_key_string().as_bytes())
            .map_err(|e| NodeError::Io(key_path.display().to_string(), e))?;
        // The federation identity, beside the ledger key (see `crate::federation`).
        crate::federation::create(dir, state).map_err(|e| NodeError::Key(e.to_string()))?;
        let info = NodeInfo {
            state: state.to_string(),
            name: name.to_owned(),
            origin,
            verifier_key: signer.verifier_key(),
            created_at: clock.now_rfc3339(),
        };
        let store: Box<dyn Store> = match &at.database {
            None => Box::new(SqliteStore::create(dir, &info)?),
            Some(url) => Box::new(PgStore::create(url, &info)?),
        };
        let mut node = Node {
            store,
            info,
            signer,
            dir: dir.to_owned(),
        };
        // Sign the empty tree at once, so a new node already has a checkpoint to publish.
        crate::import::commit_batch(&mut node, tracemark_store::Batch::default())?;
        crate::federation::pin_identity(&mut node).map_err(|e| NodeError::Key(e.to_string()))?;
        Ok(node)
    }

    /// Opens the node with the embedded store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, NodeError> {
        Node::open_at(&Location::embedded(dir))
    }

    /// Opens the node at `at`: its store, and the signing key from `at.dir`.
    pub fn open_at(at: &Location) -> Result<Self, NodeError> {
        let dir = at.dir.as_path();
        let store: Box<dyn Store> = match &at.database {
            None => Box::new(SqliteStore::open(dir)?),
            Some(url) => Box::new(PgStore::open(url)?),
        };
        let info = store.node()?;
        let key_path = dir.join(KEY_FILE);
        let text = std::fs::read_to_string(&key_path)
            .map_err(|e| NodeError::Io(key_path.display().to_string(), e))?;
        let signer = NoteSigner::from_private_key_string(text.trim())
            .map_err(|e| NodeError::Key(e.to_string()))?;
        if signer.verifier_key() != info.verifier_key {
            return Err(NodeError::Key(format!(
                "{} does not belong to this store (its verifier key differs)",
                key_path.display()
            )));
        }
        Ok(Node {
            store,
            info,
            signer,
            dir: dir.to_owned(),
        })
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    pub fn verifier(&self) -> Result<NoteVerifier, NodeError> {
        NoteVerifier::new(&self.info.verifier_key).map_err(|e| NodeError::Key(e.to_string()))
    }

    /// Takes the node's writer lock (held until the returned guard is dropped). One import at
    /// a time: validation and commit must see the same store. With PostgreSQL the lock is
    /// in the database, so it holds across every app server sharing it.
    pub fn writer_lock(&self) -> Result<WriterLock, NodeError> {
        if let Some(guard) = self.store.writer_lock()? {
            return Ok(WriterLock::Store(guard));
        }
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| NodeError::Io(path.display().to_string(), e))?;
        file.lock()
            .map_err(|e| NodeError::Io(path.display().to_string(), e))?;
        Ok(WriterLock::File(file))
    }
}

pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

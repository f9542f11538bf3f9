//! A node: one state's installation, its store and its signing key.

use crate::Clock;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use tracemark_domain::ids::CountryCode;
use tracemark_ledger::{NoteSigner, NoteVerifier};
use tracemark_store::{NodeInfo, SqliteStore, Store, StoreError};

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
    /// Creates the store and the node's Ed25519 key. Refuses to overwrite an existing store.
    pub fn init(
        dir: &Path,
        state: &str,
        name: Option<&str>,
        clock: &dyn Clock,
    ) -> Result<Self, NodeError> {
        let state = CountryCode::parse(state).map_err(NodeError::State)?;
        let default_name = format!("registry-{}", state.as_str().to_ascii_lowercase());
        let name = name.unwrap_or(&default_name);
        if !valid_name(name) {
            return Err(NodeError::Name(name.to_owned()));
        }
        let origin = format!("tracemark/{state}/{name}");
        if dir.join(tracemark_store::sqlite::DB_FILE).exists() || dir.join(KEY_FILE).exists() {
            return Err(StoreError::AlreadyExists(dir.display().to_string()).into());
        }
        std::fs::create_dir_all(dir).map_err(|e| NodeError::Io(dir.display().to_string(), e))?;
        let signer = NoteSigner::generate(&origin).map_err(|e| NodeError::Key(e.to_string()))?;
        let key_path = dir.join(KEY_FILE);
        write_secret(&key_path, signer.to_private_key_string().as_bytes())
            .map_err(|e| NodeError::Io(key_path.display().to_string(), e))?;
        let info = NodeInfo {
            state: state.to_string(),
            name: name.to_owned(),
            origin,
            verifier_key: signer.verifier_key(),
            created_at: clock.now_rfc3339(),
        };
        let store = SqliteStore::create(dir, &info)?;
        let mut node = Node {
            store: Box::new(store),
            info,
            signer,
            dir: dir.to_owned(),
        };
        // Sign the empty tree at once, so a new node already has a checkpoint to publish.
        crate::import::commit_batch(&mut node, tracemark_store::Batch::default())?;
        Ok(node)
    }

    /// Opens the node in `dir`.
    pub fn open(dir: &Path) -> Result<Self, NodeError> {
        let store = SqliteStore::open(dir)?;
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
            store: Box::new(store),
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

    /// Takes the node's writer lock (held until the returned file is dropped). One import at
    /// a time: validation and commit must see the same store.
    pub fn writer_lock(&self) -> Result<std::fs::File, NodeError> {
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| NodeError::Io(path.display().to_string(), e))?;
        file.lock()
            .map_err(|e| NodeError::Io(path.display().to_string(), e))?;
        Ok(file)
    }
}

fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

//! The node's place in the federation: its identity and, in the store, its peer directory.
//!
//! The identity ([`NodeIdentity`]: the state, an Ed25519 signing key and an age encryption
//! key) is the file `federation.key` in the data folder, beside the ledger key `node.key`,
//! written the same way: created new, owner-only (0600), never into the database. `init`
//! creates it; a store initialised before federation existed gets one on first use
//! ([`identity`]). An existing file is never overwritten.
//!
//! The rules (what a key conflict is, what a valid base URL is) are
//! `tracemark_federation::directory`'s; this module loads the directory from the store,
//! applies them, and writes the outcome back.

use crate::node::write_secret;
use crate::Node;
use std::path::Path;
use tracemark_domain::ids::CountryCode;
use tracemark_federation::identity::IDENTITY_FILE;
use tracemark_federation::NodeIdentity;

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("federation identity {path}: {reason}")]
    Identity { path: String, reason: String },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// The node's federation identity, created (for the node's state) if the data folder has
/// none yet.
pub fn identity(node: &Node) -> Result<NodeIdentity, FederationError> {
    let state = CountryCode::parse(&node.info.state).map_err(|e| FederationError::Identity {
        path: node.dir().join(IDENTITY_FILE).display().to_string(),
        reason: format!("the store's state: {e}"),
    })?;
    load_or_create(node.dir(), state)
}

/// Loads `<dir>/federation.key`, or creates it for `state` if there is none. An existing
/// file is never replaced: if it cannot be read, or belongs to another state, that is an
/// error for the administrator to resolve.
pub fn load_or_create(dir: &Path, state: CountryCode) -> Result<NodeIdentity, FederationError> {
    let path = dir.join(IDENTITY_FILE);
    match load(&path, state) {
        Err(FederationError::Io(_, e)) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => return other,
    }
    match create(dir, state) {
        // Another process created it in the meantime: use theirs.
        Err(FederationError::Io(_, e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            load(&path, state)
        }
        other => other,
    }
}

/// Creates `<dir>/federation.key` for `state` (refused if the file exists).
pub fn create(dir: &Path, state: CountryCode) -> Result<NodeIdentity, FederationError> {
    let path = dir.join(IDENTITY_FILE);
    let identity = NodeIdentity::generate(state, &mut rand_core::OsRng).map_err(|e| {
        FederationError::Identity {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    write_secret(&path, identity.to_secret_text().trim_end().as_bytes())
        .map_err(|e| FederationError::Io(path.display().to_string(), e))?;
    Ok(identity)
}

fn load(path: &Path, state: CountryCode) -> Result<NodeIdentity, FederationError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| FederationError::Io(path.display().to_string(), e))?;
    let text = zeroize::Zeroizing::new(text);
    let bad = |reason: String| FederationError::Identity {
        path: path.display().to_string(),
        reason,
    };
    let identity = NodeIdentity::from_secret_text(&text).map_err(|e| bad(e.to_string()))?;
    if identity.state() != state {
        return Err(bad(format!(
            "it is {}'s identity, but this node serves {state}",
            identity.state()
        )));
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ke = CountryCode::parse("KE").unwrap();
        let first = load_or_create(dir.path(), ke).unwrap();
        let path = dir.path().join(IDENTITY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load_or_create(dir.path(), ke).unwrap();
        assert_eq!(first.public(), again.public());
        assert!(matches!(
            create(dir.path(), ke),
            Err(FederationError::Io(_, e)) if e.kind() == std::io::ErrorKind::AlreadyExists
        ));
        // Another state's identity is refused, and the file is left alone.
        let before = std::fs::read(&path).unwrap();
        let ug = CountryCode::parse("UG").unwrap();
        let err = load_or_create(dir.path(), ug).unwrap_err().to_string();
        assert!(err.contains("KE's identity"), "{err}");
        // A damaged file is an error, never replaced.
        std::fs::write(&path, "not a key\n").unwrap();
        assert!(load_or_create(dir.path(), ke).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"not a key\n");
        assert_ne!(before, b"not a key\n");
    }
}

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
use tracemark_federation::directory::{Added, DirectoryError};
use tracemark_federation::identity::IDENTITY_FILE;
use tracemark_federation::{Directory, Fingerprint, NodeIdentity, Peer, PeerUrl, PublicIdentity};
use tracemark_store::{PeerRow, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("federation identity {path}: {reason}")]
    Identity { path: String, reason: String },
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The peer's public identity does not parse.
    #[error("identity: {0}")]
    PeerIdentity(String),
    /// The peer's base URL is not an http(s) URL with a host.
    #[error("url: {0}")]
    PeerUrl(String),
    /// The identity offered is this node's own state's.
    #[error("identity: {0} is this node's own state; a node is not its own peer")]
    OwnState(CountryCode),
    /// A known state offered with other keys, without `replace`.
    #[error("identity: {0}")]
    KeyConflict(DirectoryError),
    /// A stored peer row does not read back (edited by hand, or a bug).
    #[error("stored peer {state}: {reason}")]
    Stored { state: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`add_peer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerAdded {
    /// A state that was not in the directory.
    New,
    /// The same keys and URL were already there: nothing changed.
    Unchanged,
    /// Same keys, new base URL (the previous one is given).
    UrlChanged { previous: String },
    /// `replace`: the keys changed (the previous fingerprint is given).
    Replaced { previous: Fingerprint },
}

/// A peer as stored, with its parsed identity.
#[derive(Debug, Clone)]
pub struct StoredPeer {
    pub peer: Peer,
    pub row: PeerRow,
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

/// The peers in the store, in state order, each checked as it is read.
pub fn peers(node: &Node) -> Result<Vec<StoredPeer>, FederationError> {
    node.store
        .peers()?
        .into_iter()
        .map(|row| {
            let stored = |reason: String| FederationError::Stored {
                state: row.state.clone(),
                reason,
            };
            let identity =
                PublicIdentity::from_json(&row.identity).map_err(|e| stored(e.to_string()))?;
            if identity.state().as_str() != row.state {
                return Err(stored(format!("its identity is {}'s", identity.state())));
            }
            let url = PeerUrl::parse(&row.url).map_err(|e| stored(e.to_string()))?;
            Ok(StoredPeer {
                peer: Peer { identity, url },
                row,
            })
        })
        .collect()
}

/// The peer directory, from the store.
pub fn directory(node: &Node) -> Result<Directory, FederationError> {
    let peers: Vec<Peer> = peers(node)?.into_iter().map(|p| p.peer).collect();
    Directory::try_from(peers).map_err(|e| FederationError::Stored {
        state: "—".into(),
        reason: e.to_string(),
    })
}

/// Adds the peer whose public identity (JSON, `{"state","sign","encrypt"}`) and base URL an
/// administrator was given, under the directory's rules: a new state is added; a known state
/// with the same keys at most changes its URL; a known state with other keys is refused
/// unless `replace` (after the new fingerprint was confirmed with that state). The node's own
/// state is refused. `now` is RFC 3339 UTC.
pub fn add_peer(
    node: &mut Node,
    identity_json: &str,
    url: &str,
    replace: bool,
    now: &str,
) -> Result<(Peer, PeerAdded), FederationError> {
    let identity = PublicIdentity::from_json(identity_json)
        .map_err(|e| FederationError::PeerIdentity(e.to_string()))?;
    let url = PeerUrl::parse(url).map_err(|e| match e {
        DirectoryError::Url { url, reason } => {
            FederationError::PeerUrl(format!("'{url}': {reason}"))
        }
        other => FederationError::PeerUrl(other.to_string()),
    })?;
    if identity.state().as_str() == node.info.state {
        return Err(FederationError::OwnState(identity.state()));
    }
    let peer = Peer { identity, url };
    let state = peer.state();
    let mut directory = directory(node)?;
    let current = directory.get(state).cloned();
    let row = |replaced_at: Option<String>, added_at: String| PeerRow {
        state: state.as_str().to_owned(),
        url: peer.url.as_str().to_owned(),
        identity: peer.identity.to_canonical_json(),
        added_at,
        replaced_at,
    };
    let added_at = || -> Result<String, FederationError> {
        Ok(node
            .store
            .peers()?
            .into_iter()
            .find(|r| r.state == state.as_str())
            .map(|r| r.added_at)
            .unwrap_or_else(|| now.to_owned()))
    };
    let outcome = match (replace, current) {
        (true, Some(previous)) if !previous.identity.same_keys(&peer.identity) => {
            let since = added_at()?;
            node.store.replace_peer(&row(Some(now.to_owned()), since))?;
            PeerAdded::Replaced {
                previous: previous.identity.fingerprint(),
            }
        }
        _ => match directory.add(peer.clone()) {
            Ok(Added::New) => {
                node.store.add_peer(&row(None, now.to_owned()))?;
                PeerAdded::New
            }
            Ok(Added::Unchanged) => PeerAdded::Unchanged,
            Ok(Added::UrlChanged { previous }) => {
                let since = added_at()?;
                node.store.replace_peer(&row(Some(now.to_owned()), since))?;
                PeerAdded::UrlChanged {
                    previous: previous.as_str().to_owned(),
                }
            }
            Err(e @ DirectoryError::KeyConflict { .. }) => {
                return Err(FederationError::KeyConflict(e))
            }
            Err(e) => return Err(FederationError::PeerIdentity(e.to_string())),
        },
    };
    Ok((peer, outcome))
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

#[cfg(test)]
mod peer_tests {
    use super::*;
    use crate::FixedClock;

    fn public(state: &str) -> String {
        let state = CountryCode::parse(state).unwrap();
        NodeIdentity::generate(state, &mut rand_core::OsRng)
            .unwrap()
            .public()
            .to_canonical_json()
    }

    #[test]
    fn the_directory_rules_hold_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let clock = FixedClock("2026-12-04T10:00:00Z".into());
        let mut node = Node::init(dir.path(), "KE", None, &clock).unwrap();
        let t1 = "2026-12-04T11:00:00Z";
        let t2 = "2026-12-04T12:00:00Z";
        let ug = public("UG");
        let add = |node: &mut Node, id: &str, url: &str, replace: bool, now: &str| {
            add_peer(node, id, url, replace, now).map(|(_, outcome)| outcome)
        };
        assert_eq!(
            add(&mut node, &ug, "https://ug.example/", false, t1).unwrap(),
            PeerAdded::New
        );
        assert_eq!(
            add(&mut node, &ug, "https://ug.example/", false, t2).unwrap(),
            PeerAdded::Unchanged
        );
        assert_eq!(
            add(&mut node, &ug, "https://ug2.example/", false, t2).unwrap(),
            PeerAdded::UrlChanged {
                previous: "https://ug.example/".into()
            }
        );
        let other = public("UG");
        assert!(matches!(
            add(&mut node, &other, "https://ug2.example/", false, t2),
            Err(FederationError::KeyConflict(_))
        ));
        assert!(matches!(
            add(&mut node, &other, "https://ug2.example/", true, t2),
            Ok(PeerAdded::Replaced { .. })
        ));
        let stored = peers(&node).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].row.identity, other);
        assert_eq!(stored[0].row.added_at, t1);
        assert_eq!(stored[0].row.replaced_at.as_deref(), Some(t2));
        assert!(matches!(
            add(&mut node, &public("KE"), "https://ke.example/", false, t2),
            Err(FederationError::OwnState(_))
        ));
        for url in [
            "ftp://tz.example/",
            "https:///",
            "not a url",
            "https://u:p@tz.example/",
        ] {
            assert!(
                matches!(
                    add(&mut node, &public("TZ"), url, false, t2),
                    Err(FederationError::PeerUrl(_))
                ),
                "{url}"
            );
        }
        assert!(matches!(
            add(
                &mut node,
                "{\"state\":\"TZ\"}",
                "https://tz.example/",
                false,
                t2
            ),
            Err(FederationError::PeerIdentity(_))
        ));
        assert_eq!(directory(&node).unwrap().len(), 1);
    }
}

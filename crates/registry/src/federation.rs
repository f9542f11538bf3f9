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
//!
//! [`receive`] is the receiving side of a delivery (the inbox): the envelope is admitted by
//! `tracemark_federation::replay::receive` against the stored directory, with the store's
//! inbox as the seen ids; a new message is kept as received (still encrypted) with the signed
//! receipt given for it, and a message that arrives again is answered with that same receipt.

use crate::node::write_secret;
use crate::traces::ReceiveError;
use crate::Node;
use std::path::Path;
use tracemark_domain::ids::CountryCode;
use tracemark_federation::directory::{Added, DirectoryError};
use tracemark_federation::identity::IDENTITY_FILE;
use tracemark_federation::replay::ReplayGuard;
use tracemark_federation::{
    Directory, Envelope, Fingerprint, MessageId, NodeIdentity, Peer, PeerUrl, PublicIdentity,
    Receipt, Received, Rejection,
};
use tracemark_store::{InboxRow, PeerRow, StoreError, TraceCommitted};

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
///
/// When the store has pinned the node's public identity ([`pin_identity`]), the file must
/// hold that identity: app servers sharing one database must share one `federation.key`,
/// or peers would see two nodes claiming one state.
pub fn identity(node: &Node) -> Result<NodeIdentity, FederationError> {
    let path = node.dir().join(IDENTITY_FILE).display().to_string();
    let state = CountryCode::parse(&node.info.state).map_err(|e| FederationError::Identity {
        path: path.clone(),
        reason: format!("the store's state: {e}"),
    })?;
    let pinned = node.store.setting(PINNED_IDENTITY)?;
    if pinned.is_some() && !node.dir().join(IDENTITY_FILE).exists() {
        // A new key would be another node to the peers: never make one silently.
        return Err(FederationError::Identity {
            path,
            reason: "the file is missing, and this node's store was set up with an identity: \
                     restore federation.key from a backup, or copy it from another app server \
                     of this node"
                .into(),
        });
    }
    let me = load_or_create(node.dir(), state)?;
    if let Some(pinned) = pinned {
        let mine = me.public().to_canonical_json();
        if pinned != mine {
            let theirs = PublicIdentity::from_json(&pinned)
                .map(|p| p.fingerprint().grouped())
                .unwrap_or_else(|_| "unreadable".into());
            return Err(FederationError::Identity {
                path,
                reason: format!(
                    "this file's identity (fingerprint {}) is not the one this node's store was                      set up with (fingerprint {theirs}): every app server of one node needs the                      same federation.key — copy it from the first server",
                    me.public().fingerprint().grouped()
                ),
            });
        }
    }
    Ok(me)
}

/// The setting that pins the node's public federation identity in the store.
const PINNED_IDENTITY: &str = "federation_identity";

/// Records the node's public identity in the store if none is recorded yet (the first app
/// server, or `init`), then checks this data folder's `federation.key` against it.
pub fn pin_identity(node: &mut Node) -> Result<NodeIdentity, FederationError> {
    let state = CountryCode::parse(&node.info.state).map_err(|e| FederationError::Identity {
        path: node.dir().join(IDENTITY_FILE).display().to_string(),
        reason: format!("the store's state: {e}"),
    })?;
    let me = load_or_create(node.dir(), state)?;
    node.store
        .setting_once(PINNED_IDENTITY, &me.public().to_canonical_json())?;
    identity(node)
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

/// A message accepted by [`receive`] (new, or received before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The signed delivery receipt (JSON), the same for every delivery of one message.
    pub receipt: String,
    /// The sending state (authenticated by its signature).
    pub sender: CountryCode,
    pub message_id: MessageId,
    /// The message kind (`request`, `ack`, …).
    pub kind: String,
    /// It had been received before: answered with the first receipt, nothing stored.
    pub duplicate: bool,
}

/// Why [`receive`] did not give a receipt.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The envelope is refused (see [`Rejection::code`] for the stable code). `claimed`
    /// is the sender the envelope names, if it names a state at all — unauthenticated
    /// unless the rejection came after the signature check.
    #[error("{rejection}")]
    Rejected {
        claimed: Option<CountryCode>,
        rejection: Rejection,
    },
    /// This node could not decide (its identity, its directory or its store failed): the
    /// sender should try again later.
    #[error(transparent)]
    Failed(#[from] FederationError),
    /// Authentic, but the step it carries does not apply here (no such trace, a step the
    /// sender may not take, or one the life-cycle rules refuse). Nothing is stored; the
    /// sender should not send it again.
    #[error("{reason}")]
    NotApplicable { sender: CountryCode, reason: String },
    /// Recording the step failed on this node: the sender should try again later.
    #[error(transparent)]
    Trace(crate::traces::TraceError),
}

impl InboxError {
    /// The rejection's stable code, or `error` for a failure of this node.
    pub fn code(&self) -> &'static str {
        match self {
            InboxError::Rejected { rejection, .. } => rejection.code(),
            InboxError::NotApplicable { .. } => "not_applicable",
            InboxError::Failed(_) | InboxError::Trace(_) => "error",
        }
    }
}

/// Receives one envelope (its JSON as it arrived) at `now`: checks it (form, sender in the
/// directory, signature, addressed to this node), applies the replay guard with the inbox as
/// the seen ids, decrypts a new message, signs a receipt for it and stores the envelope as
/// received with that receipt. A message already in the inbox is answered with the receipt
/// stored for it, unchanged, and is neither decrypted nor stored again. The payload is not
/// interpreted here.
pub fn receive(
    node: &mut Node,
    envelope_json: &[u8],
    now: time::OffsetDateTime,
) -> Result<Delivered, InboxError> {
    let envelope = Envelope::from_json(envelope_json).map_err(|rejection| {
        // The claimed sender, for the log, when the JSON names one.
        let claimed = serde_json::from_slice::<serde_json::Value>(envelope_json)
            .ok()
            .and_then(|v| v.get("from").and_then(|f| f.as_str()).map(str::to_owned))
            .and_then(|f| CountryCode::parse(&f).ok());
        InboxError::Rejected { claimed, rejection }
    })?;
    let claimed = CountryCode::parse(&envelope.from).ok();
    let me = identity(node)?;
    let directory = directory(node)?;
    // The store's answer to "seen?": a failed lookup fails the delivery (it is recorded
    // here and answered as seen, so that nothing is decrypted or stored on its account).
    let failure: std::cell::RefCell<Option<StoreError>> = std::cell::RefCell::new(None);
    let received = {
        let store = node.store.as_ref();
        let seen = |from: CountryCode, id: MessageId| match store
            .inbox_get(from.as_str(), &id.to_string())
        {
            Ok(row) => row.is_some(),
            Err(e) => {
                *failure.borrow_mut() = Some(e);
                true
            }
        };
        tracemark_federation::receive(
            &envelope,
            &me,
            &directory,
            &ReplayGuard::default(),
            now,
            &seen,
        )
    };
    if let Some(e) = failure.into_inner() {
        return Err(FederationError::Store(e).into());
    }
    let opened = match received.map_err(|rejection| InboxError::Rejected { claimed, rejection })? {
        Received::Duplicate(header) => {
            let row = stored(node, header.from(), header.id())?;
            return Ok(Delivered {
                receipt: row.receipt,
                sender: header.from(),
                message_id: header.id(),
                kind: row.kind,
                duplicate: true,
            });
        }
        Received::New(opened) => opened,
    };
    let (header, payload) = opened.into_parts();
    let receipt = Receipt::issue(&me, &header, now).map_err(|e| FederationError::Identity {
        path: IDENTITY_FILE.into(),
        reason: format!("signing the receipt: {e}"),
    })?;
    let receipt_json = serde_json::to_string(&receipt).map_err(|e| FederationError::Identity {
        path: IDENTITY_FILE.into(),
        reason: format!("encoding the receipt: {e}"),
    })?;
    let row = InboxRow {
        sender: header.from().as_str().to_owned(),
        message_id: header.id().to_string(),
        received_at: receipt.received_at.clone(),
        kind: header.kind().as_str().to_owned(),
        envelope: envelope_json.to_vec(),
        receipt: receipt_json,
    };
    // The message and the trace step it carries are stored in one transaction.
    let receipt = row.receipt.clone();
    let kind = row.kind.clone();
    match crate::traces::apply_received(node, &header, &payload, row, now) {
        Ok(TraceCommitted::Appended(_)) => {
            return Ok(Delivered {
                receipt,
                sender: header.from(),
                message_id: header.id(),
                kind,
                duplicate: false,
            })
        }
        Ok(TraceCommitted::DuplicateMessage) => {}
        Err(ReceiveError::NotApplicable(reason)) => {
            return Err(InboxError::NotApplicable {
                sender: header.from(),
                reason,
            })
        }
        Err(ReceiveError::Failed(e)) => return Err(InboxError::Trace(e)),
    }
    // Another server (or request) stored the same message in the meantime: its receipt is
    // the one given.
    let first = stored(node, header.from(), header.id())?;
    Ok(Delivered {
        receipt: first.receipt,
        sender: header.from(),
        message_id: header.id(),
        kind: first.kind,
        duplicate: true,
    })
}

/// The inbox row of a message the guard saw.
fn stored(node: &Node, sender: CountryCode, id: MessageId) -> Result<InboxRow, FederationError> {
    node.store
        .inbox_get(sender.as_str(), &id.to_string())?
        .ok_or_else(|| {
            FederationError::Store(StoreError::Missing(format!(
                "inbox message {id} from {sender}"
            )))
        })
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

#[cfg(test)]
mod inbox_tests {
    use super::*;
    use crate::FixedClock;
    use time::macros::datetime;
    use time::Duration;
    use tracemark_federation::{seal, MessageKind};

    const AT: time::OffsetDateTime = datetime!(2026-12-04 10:00:00 UTC);

    #[test]
    fn a_message_is_stored_once_and_answered_with_one_receipt() {
        let dir = tempfile::tempdir().unwrap();
        let clock = FixedClock("2026-12-04T09:00:00Z".into());
        let mut node = Node::init(dir.path(), "KE", None, &clock).unwrap();
        let me = identity(&node).unwrap();
        let ug = NodeIdentity::generate(CountryCode::parse("UG").unwrap(), &mut rand_core::OsRng)
            .unwrap();
        add_peer(
            &mut node,
            &ug.public().to_canonical_json(),
            "https://ug.example/",
            false,
            "2026-12-04T09:00:00Z",
        )
        .unwrap();
        // Words only: authentic, addressed to us, but no trace step.
        let id = MessageId::random(&mut rand_core::OsRng).unwrap();
        let words = seal(
            &ug,
            std::slice::from_ref(me.public()),
            MessageKind::TraceRequest,
            id,
            AT,
            b"the request",
        )
        .unwrap();
        match receive(&mut node, words.to_json().as_bytes(), AT) {
            Err(e @ InboxError::NotApplicable { .. }) => assert_eq!(e.code(), "not_applicable"),
            other => panic!("{other:?}"),
        }
        assert!(node
            .store
            .inbox_get("UG", &id.to_string())
            .unwrap()
            .is_none());

        // A trace request from Uganda.
        let mut request: serde_json::Value =
            serde_json::from_str(tracemark_trace::request::EXAMPLE).unwrap();
        request["requesting_state"] = "UG".into();
        request["id"] = "UG-TR-1".into();
        let request: tracemark_trace::request::TraceRequest =
            serde_json::from_value(request).unwrap();
        let to = tracemark_trace::routing::ConfirmedRecipients::confirm(ug.state(), [me.state()])
            .unwrap();
        let dispatch =
            tracemark_trace::completeness::clear_for_sending(request, to, Vec::new()).unwrap();
        let payload = crate::traces::Payload {
            v: crate::traces::PAYLOAD_VERSION,
            requesting_state: ug.state(),
            trace: tracemark_trace::text::TraceId::parse("UG-TR-1").unwrap(),
            event: tracemark_trace::lifecycle::TraceEvent::Sent { at: AT, dispatch },
        };
        let env = seal(
            &ug,
            std::slice::from_ref(me.public()),
            MessageKind::TraceRequest,
            id,
            AT,
            &serde_json::to_vec(&payload).unwrap(),
        )
        .unwrap();
        let json = env.to_json();
        let first = receive(&mut node, json.as_bytes(), AT + Duration::seconds(3)).unwrap();
        // The request is on record on this side, dated on arrival.
        let trace = node.store.trace("UG:UG-TR-1").unwrap().unwrap();
        assert_eq!(
            (trace.role.as_str(), trace.status.as_str()),
            ("requested", "sent")
        );
        assert_eq!(trace.opened_at, "2026-12-04T10:00:03Z");
        assert!(!first.duplicate);
        assert_eq!(first.sender, ug.state());
        let receipt: Receipt = serde_json::from_str(&first.receipt).unwrap();
        let mut dir_for_ug = Directory::new();
        dir_for_ug
            .add(Peer {
                identity: me.public().clone(),
                url: PeerUrl::parse("https://ke.example/").unwrap(),
            })
            .unwrap();
        receipt.verify(&env, &dir_for_ug).unwrap();
        let row = node
            .store
            .inbox_get("UG", &id.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(row.envelope, json.as_bytes());
        assert_eq!(row.kind, "trace_request");
        assert_eq!(row.received_at, "2026-12-04T10:00:03Z");

        // Again, later (even past the window): the same receipt, nothing new stored.
        let again = receive(&mut node, json.as_bytes(), AT + Duration::days(30)).unwrap();
        assert!(again.duplicate);
        assert_eq!(again.receipt, first.receipt);
        assert_eq!(
            node.store
                .inbox_get("UG", &id.to_string())
                .unwrap()
                .unwrap(),
            row
        );

        // Refusals carry the stable code and the claimed sender.
        fn code(node: &mut Node, bytes: &[u8], now: time::OffsetDateTime) -> &'static str {
            match receive(node, bytes, now) {
                Err(e @ InboxError::Rejected { .. }) => e.code(),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(code(&mut node, b"{not json", AT), "malformed");
        let mut forged = env.clone();
        forged.created_at = "2026-12-04T10:00:01Z".into();
        assert_eq!(
            code(&mut node, forged.to_json().as_bytes(), AT),
            "bad_signature"
        );
        let late = seal(
            &ug,
            std::slice::from_ref(me.public()),
            MessageKind::Ack,
            MessageId::random(&mut rand_core::OsRng).unwrap(),
            AT,
            b"",
        )
        .unwrap();
        assert_eq!(
            code(&mut node, late.to_json().as_bytes(), AT + Duration::days(8)),
            "too_old"
        );
        let err = receive(
            &mut node,
            late.to_json().as_bytes(),
            AT - Duration::hours(1),
        )
        .unwrap_err();
        assert!(
            matches!(&err, InboxError::Rejected { claimed: Some(c), .. } if c.as_str() == "UG"),
            "{err:?}"
        );
        assert_eq!(err.code(), "too_new");
        assert!(node.store.inbox_get("UG", &late.id).unwrap().is_none());
    }
}

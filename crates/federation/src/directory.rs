//! The peer directory: which states this node talks to, where, and with which keys.
//!
//! An administrator adds a peer after exchanging public identities out of band and comparing
//! fingerprints. From then on the directory is the only source of truth for "this message
//! comes from state X": a message is accepted only under the key the directory holds for its
//! sender.
//!
//! That makes a key change the most sensitive thing that can happen to the directory, so it
//! never happens by accident: [`Directory::add`] refuses a state that is already present with
//! other keys ([`DirectoryError::KeyConflict`], naming both fingerprints), and only
//! [`Directory::replace`] — a separate, deliberate call — swaps keys. A new base URL with the
//! same keys is routine (a server moved) and `add` accepts it: messages are encrypted and
//! signed, so a wrong URL can delay them but never expose or forge them.
//!
//! The directory is a value; the caller stores it (its JSON form is a list of peers) and
//! records every change in its audit log.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use tracemark_domain::ids::CountryCode;

use crate::identity::{Fingerprint, IdentityError, PublicIdentity};

/// Why a directory change or lookup was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error(
        "{state} is already in the directory with other keys (fingerprint {current}, new \
         {offered}); compare fingerprints with {state}'s administrator and replace the peer \
         deliberately"
    )]
    KeyConflict {
        state: CountryCode,
        current: Fingerprint,
        offered: Fingerprint,
    },
    #[error("{0} is not in the peer directory")]
    UnknownPeer(CountryCode),
    #[error("{0} appears more than once in the directory")]
    Duplicate(CountryCode),
    #[error("invalid base URL '{url}': {reason}")]
    Url { url: String, reason: String },
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// A peer's base URL: `https://` (or `http://`, for tests on loopback and for deployments
/// behind a TLS-terminating proxy), with a host, without credentials, query or fragment.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerUrl(url::Url);

impl PeerUrl {
    pub fn parse(text: &str) -> Result<Self, DirectoryError> {
        let bad = |reason: &str| DirectoryError::Url {
            url: text.to_owned(),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(bad("the scheme must be https (or http)"));
        }
        if url.host().is_none() {
            return Err(bad("there is no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials do not belong in a peer URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a base URL has no query or fragment"));
        }
        Ok(PeerUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

impl fmt::Display for PeerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PeerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerUrl({})", self.as_str())
    }
}

/// A peer: its public identity and where to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PeerJson", into = "PeerJson")]
pub struct Peer {
    pub identity: PublicIdentity,
    pub url: PeerUrl,
}

impl Peer {
    pub fn state(&self) -> CountryCode {
        self.identity.state()
    }
}

/// The JSON form of a peer: the public identity's fields and the URL, flat.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerJson {
    state: String,
    sign: String,
    encrypt: String,
    url: String,
}

impl TryFrom<PeerJson> for Peer {
    type Error = DirectoryError;

    fn try_from(json: PeerJson) -> Result<Self, Self::Error> {
        let identity = PublicIdentity::from_texts(&json.state, &json.sign, &json.encrypt)?;
        Ok(Peer {
            identity,
            url: PeerUrl::parse(&json.url)?,
        })
    }
}

impl From<Peer> for PeerJson {
    fn from(peer: Peer) -> Self {
        PeerJson {
            state: peer.identity.state().as_str().to_owned(),
            sign: peer.identity.sign_text(),
            encrypt: peer.identity.encrypt_text(),
            url: peer.url.as_str().to_owned(),
        }
    }
}

/// What [`Directory::add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// A new peer.
    New,
    /// The peer was there with the same keys and URL: nothing changed.
    Unchanged,
    /// Same keys, new base URL; the previous URL is returned.
    UrlChanged { previous: PeerUrl },
}

/// The peers this node knows, one per state. Its JSON form is a list of peers, in state
/// order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Peer>", into = "Vec<Peer>")]
pub struct Directory {
    peers: BTreeMap<CountryCode, Peer>,
}

impl Directory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a peer. A state already present with the same keys is at most a URL change; with
    /// other keys it is refused, so a key can only change through [`replace`](Self::replace).
    pub fn add(&mut self, peer: Peer) -> Result<Added, DirectoryError> {
        let state = peer.state();
        match self.peers.get_mut(&state) {
            None => {
                self.peers.insert(state, peer);
                Ok(Added::New)
            }
            Some(current) if !current.identity.same_keys(&peer.identity) => {
                Err(DirectoryError::KeyConflict {
                    state,
                    current: current.identity.fingerprint(),
                    offered: peer.identity.fingerprint(),
                })
            }
            Some(current) if current.url == peer.url => Ok(Added::Unchanged),
            Some(current) => {
                let previous = std::mem::replace(&mut current.url, peer.url);
                Ok(Added::UrlChanged { previous })
            }
        }
    }

    /// Puts `peer` in place of whatever the directory held for its state, keys included, and
    /// returns the previous entry. This is the deliberate key change: call it only after the
    /// new fingerprint was confirmed with the peer's administrator.
    pub fn replace(&mut self, peer: Peer) -> Option<Peer> {
        self.peers.insert(peer.state(), peer)
    }

    pub fn remove(&mut self, state: CountryCode) -> Option<Peer> {
        self.peers.remove(&state)
    }

    pub fn get(&self, state: CountryCode) -> Option<&Peer> {
        self.peers.get(&state)
    }

    /// The public identity the directory holds for `state`.
    pub fn identity(&self, state: CountryCode) -> Option<&PublicIdentity> {
        self.peers.get(&state).map(|p| &p.identity)
    }

    /// The public identities of `states`, in the same order, or the first state that is not
    /// a peer: what [`seal`](crate::envelope::seal) needs to address a message.
    pub fn identities(
        &self,
        states: &[CountryCode],
    ) -> Result<Vec<PublicIdentity>, DirectoryError> {
        states
            .iter()
            .map(|s| {
                self.identity(*s)
                    .cloned()
                    .ok_or(DirectoryError::UnknownPeer(*s))
            })
            .collect()
    }

    /// The peers in state order.
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

impl TryFrom<Vec<Peer>> for Directory {
    type Error = DirectoryError;

    /// A stored directory is read back strictly: a state listed twice is an error, not a
    /// silent "last one wins".
    fn try_from(peers: Vec<Peer>) -> Result<Self, Self::Error> {
        let mut directory = Directory::new();
        for peer in peers {
            let state = peer.state();
            if directory.peers.insert(state, peer).is_some() {
                return Err(DirectoryError::Duplicate(state));
            }
        }
        Ok(directory)
    }
}

impl From<Directory> for Vec<Peer> {
    fn from(directory: Directory) -> Self {
        directory.peers.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::tests::identity;

    fn peer(state: &str, seed: u64, url: &str) -> Peer {
        Peer {
            identity: identity(state, seed).public().clone(),
            url: PeerUrl::parse(url).unwrap(),
        }
    }

    #[test]
    fn adding_the_same_peer_twice_changes_nothing() {
        let mut dir = Directory::new();
        assert_eq!(dir.add(peer("KE", 1, "https://ke.example")), Ok(Added::New));
        assert_eq!(
            dir.add(peer("KE", 1, "https://ke.example")),
            Ok(Added::Unchanged)
        );
        assert_eq!(dir.len(), 1);
    }

    #[test]
    fn same_keys_new_url_is_a_url_change() {
        let mut dir = Directory::new();
        dir.add(peer("KE", 1, "https://ke.example")).unwrap();
        let added = dir
            .add(peer("KE", 1, "https://tracemark.ke.example/"))
            .unwrap();
        assert_eq!(
            added,
            Added::UrlChanged {
                previous: PeerUrl::parse("https://ke.example").unwrap()
            }
        );
        let ke = CountryCode::parse("KE").unwrap();
        assert_eq!(
            dir.get(ke).unwrap().url.as_str(),
            "https://tracemark.ke.example/"
        );
    }

    #[test]
    fn other_keys_for_a_known_state_are_refused_until_replaced() {
        let mut dir = Directory::new();
        let first = peer("KE", 1, "https://ke.example");
        let second = peer("KE", 2, "https://ke.example");
        dir.add(first.clone()).unwrap();
        let err = dir.add(second.clone()).unwrap_err();
        assert_eq!(
            err,
            DirectoryError::KeyConflict {
                state: first.state(),
                current: first.identity.fingerprint(),
                offered: second.identity.fingerprint(),
            }
        );
        let message = err.to_string();
        assert!(
            message.contains("replace the peer deliberately"),
            "{message}"
        );
        assert!(message.contains(&first.identity.fingerprint().to_string()));
        // Refused means unchanged.
        assert_eq!(dir.identity(first.state()), Some(&first.identity));
        // The deliberate path.
        assert_eq!(dir.replace(second.clone()), Some(first));
        assert_eq!(dir.identity(second.state()), Some(&second.identity));
    }

    #[test]
    fn identities_names_the_first_unknown_state() {
        let mut dir = Directory::new();
        dir.add(peer("KE", 1, "https://ke.example")).unwrap();
        let ke = CountryCode::parse("KE").unwrap();
        let ug = CountryCode::parse("UG").unwrap();
        assert_eq!(dir.identities(&[ke]).unwrap().len(), 1);
        assert_eq!(
            dir.identities(&[ke, ug]),
            Err(DirectoryError::UnknownPeer(ug))
        );
        assert_eq!(dir.remove(ke).map(|p| p.state()), Some(ke));
        assert!(dir.is_empty());
    }

    #[test]
    fn urls_are_checked() {
        for (url, expected) in [
            ("ftp://ke.example", "scheme"),
            ("https://user:pw@ke.example", "credentials"),
            ("https://ke.example/?a=1", "query"),
            ("https://ke.example/#x", "fragment"),
            ("ke.example", "relative URL"),
        ] {
            let err = PeerUrl::parse(url).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
        }
        assert!(PeerUrl::parse("http://127.0.0.1:8080").is_ok());
    }

    #[test]
    fn json_round_trips_and_refuses_duplicates() {
        let mut dir = Directory::new();
        dir.add(peer("UG", 2, "https://ug.example")).unwrap();
        dir.add(peer("KE", 1, "https://ke.example")).unwrap();
        let json = serde_json::to_string(&dir).unwrap();
        assert!(
            json.starts_with(r#"[{"state":"KE","sign":"ed25519:"#),
            "{json}"
        );
        assert!(json.contains(r#""url":"https://ke.example/""#), "{json}");
        let back: Directory = serde_json::from_str(&json).unwrap();
        assert_eq!(back, dir);

        let ke = serde_json::to_value(dir.get(CountryCode::parse("KE").unwrap())).unwrap();
        let twice = serde_json::Value::Array(vec![ke.clone(), ke]).to_string();
        let err = serde_json::from_str::<Directory>(&twice).unwrap_err();
        assert!(
            err.to_string().contains("KE appears more than once"),
            "{err}"
        );

        let extra = json.replacen(r#""url""#, r#""note":"x","url""#, 1);
        assert!(serde_json::from_str::<Directory>(&extra).is_err());
    }
}

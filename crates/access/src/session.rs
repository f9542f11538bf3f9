//! Server-side sessions for people (the cookie of the UI to come, and API clients).
//!
//! A session id is 32 random bytes (base64url) given to the client once, in the cookie; the
//! server keeps only its SHA-256, so neither a memory dump nor a log line holds a usable id,
//! and looking one up by hash does not leak its bytes by timing. A session ends after
//! `idle` without a request (30 minutes by default), at sign-out, or when the server stops:
//! sessions are deliberately not persisted (a restart signs everyone out).

use crate::policy::Principal;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

pub const DEFAULT_IDLE_SECONDS: i64 = 30 * 60;
/// Sessions are swept of the expired ones when the table reaches this many.
const SWEEP_AT: usize = 10_000;

struct Entry {
    principal: Principal,
    last_seen: i64,
}

pub struct Sessions {
    idle_seconds: i64,
    table: Mutex<HashMap<[u8; 32], Entry>>,
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    pub fn new(idle_seconds: i64) -> Sessions {
        Sessions {
            idle_seconds,
            table: Mutex::new(HashMap::new()),
        }
    }

    pub fn idle_seconds(&self) -> i64 {
        self.idle_seconds
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        match self.table.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Starts a session and returns its id (for the cookie). Always a new id: a sign-in never
    /// reuses the id the client came with (session fixation).
    pub fn create(&self, principal: Principal, now: i64) -> String {
        let mut raw = [0u8; 32];
        OsRng.fill_bytes(&mut raw);
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let mut table = self.table();
        if table.len() >= SWEEP_AT {
            let idle = self.idle_seconds;
            table.retain(|_, e| now - e.last_seen < idle);
        }
        table.insert(
            key(&id),
            Entry {
                principal,
                last_seen: now,
            },
        );
        id
    }

    /// The session's principal if it is live, and marks it used now; an expired session is
    /// removed.
    pub fn touch(&self, id: &str, now: i64) -> Option<Principal> {
        let k = key(id);
        let mut table = self.table();
        let live = match table.get_mut(&k) {
            None => return None,
            Some(e) if now - e.last_seen < self.idle_seconds => {
                e.last_seen = now;
                return Some(e.principal.clone());
            }
            Some(_) => false,
        };
        if !live {
            table.remove(&k);
        }
        None
    }

    pub fn remove(&self, id: &str) -> bool {
        self.table().remove(&key(id)).is_some()
    }

    /// Ends every session of the user `name` (when their second factor is reset, the
    /// sessions it opened must not outlive it); how many were ended.
    pub fn end_all_of(&self, name: &str) -> usize {
        let mut table = self.table();
        let before = table.len();
        table.retain(|_, e| {
            !(e.principal.kind == crate::policy::PrincipalKind::User && e.principal.name == name)
        });
        before - table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PrincipalKind;

    #[test]
    fn ending_a_users_sessions_leaves_the_others() {
        let s = Sessions::new(60);
        let a1 = s.create(alice(), 0);
        let a2 = s.create(alice(), 0);
        let bob = s.create(
            Principal {
                name: "bob".into(),
                ..alice()
            },
            0,
        );
        assert_eq!(s.end_all_of("alice"), 2);
        assert!(s.touch(&a1, 1).is_none());
        assert!(s.touch(&a2, 1).is_none());
        assert!(s.touch(&bob, 1).is_some());
        assert_eq!(s.end_all_of("alice"), 0);
    }

    fn alice() -> Principal {
        Principal {
            kind: PrincipalKind::User,
            name: "alice".into(),
            agency: "police".into(),
            role: tracemark_domain::account::Role::Investigator,
            mfa: false,
        }
    }

    #[test]
    fn idle_timeout_and_fresh_ids() {
        let s = Sessions::new(60);
        let a = s.create(alice(), 1000);
        let b = s.create(alice(), 1000);
        assert_ne!(a, b);
        assert!(s.touch(&a, 1059).is_some());
        assert!(s.touch(&a, 1118).is_some(), "a request keeps it alive");
        assert!(s.touch(&a, 1178).is_none(), "idle for 60 s");
        assert!(s.touch(&a, 1179).is_none());
        assert!(s.remove(&b));
        assert!(s.touch(&b, 1000).is_none());
    }
}

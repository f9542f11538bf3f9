//! Replay protection: a message is processed once, and only while it is recent.
//!
//! A signed envelope stays valid forever, so anyone who recorded one could deliver it again.
//! Two rules stop that:
//!
//! 1. **A window.** A message created more than [`ReplayGuard::max_age`] before `now` (7
//!    days by default) is refused as too old, and one created more than
//!    [`ReplayGuard::max_skew`] after `now` (5 minutes) as too new — the sender's clock is
//!    wrong, or the date was made up. `created_at` is signed, so it cannot be moved.
//! 2. **Seen ids.** A (sender, id) already received is a [`Admission::Duplicate`]: the
//!    receiver answers it as it did the first time (the same receipt), so a sender whose
//!    first delivery timed out learns it arrived, but it is not processed again. A duplicate
//!    is recognised before the window is applied, so a late retry of a message that did
//!    arrive still gets its receipt.
//!
//! **Keep the seen ids for good.** A sender never gives up on a message; one that waits past
//! half the window is sealed again with a new `created_at` and the same id
//! ([`crate::envelope::reseal`]), so the same (sender, id) can arrive, inside the window,
//! long after the first copy. Forgetting ids after the window would let that second copy be
//! processed twice. They are small, and a node records every message it receives in its
//! ledger anyway, which is the natural place to ask. The window then limits what an
//! eavesdropper's recording is worth, and what a store restored from an old backup could be
//! made to accept again.
//!
//! Everything here is pure: `now` is an argument and the seen ids are asked through
//! [`SeenMessages`], which the caller backs with its store.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tracemark_domain::ids::CountryCode;

use crate::directory::Directory;
use crate::envelope::{check, Envelope, Header, MessageId, Opened, Rejection};
use crate::identity::NodeIdentity;

/// The seen (sender, id) pairs, as the caller's store knows them.
///
/// A store whose lookup fails should fail the whole delivery (answer "try again") rather
/// than answer `false`: a wrong `false` would process a replay.
pub trait SeenMessages {
    fn is_seen(&self, from: CountryCode, id: MessageId) -> bool;
}

impl<F: Fn(CountryCode, MessageId) -> bool> SeenMessages for F {
    fn is_seen(&self, from: CountryCode, id: MessageId) -> bool {
        self(from, id)
    }
}

impl SeenMessages for std::collections::HashSet<(CountryCode, MessageId)> {
    fn is_seen(&self, from: CountryCode, id: MessageId) -> bool {
        self.contains(&(from, id))
    }
}

impl SeenMessages for std::collections::BTreeSet<(CountryCode, MessageId)> {
    fn is_seen(&self, from: CountryCode, id: MessageId) -> bool {
        self.contains(&(from, id))
    }
}

/// What to do with an authentic message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Not seen before and recent: process it, record (sender, id), issue a receipt.
    New,
    /// Already received: answer with the receipt given the first time; do not process again.
    Duplicate,
}

/// The replay policy. The defaults are those of every Tracemark node; a deployment that
/// changes them must keep `max_age` well above the outbox's reseal age (half of it, see
/// [`crate::outbox::RetryPolicy::reseal_due`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayGuard {
    pub max_age: Duration,
    pub max_skew: Duration,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard {
            max_age: Duration::days(7),
            max_skew: Duration::minutes(5),
        }
    }
}

impl ReplayGuard {
    /// Decides on an authentic header (from [`check`]) at `now`. Limits are inclusive: a
    /// message exactly `max_age` old, or exactly `max_skew` ahead, is accepted.
    pub fn admit(
        &self,
        header: &Header,
        now: OffsetDateTime,
        seen: &impl SeenMessages,
    ) -> Result<Admission, Rejection> {
        if seen.is_seen(header.from(), header.id()) {
            return Ok(Admission::Duplicate);
        }
        let created_at = header.created_at();
        if created_at < now - self.max_age {
            return Err(Rejection::TooOld {
                created_at: rfc3339(created_at),
                now: rfc3339(now),
                max_age_secs: self.max_age.whole_seconds(),
            });
        }
        if created_at > now + self.max_skew {
            return Err(Rejection::TooNew {
                created_at: rfc3339(created_at),
                now: rfc3339(now),
                max_skew_secs: self.max_skew.whole_seconds(),
            });
        }
        Ok(Admission::New)
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// What [`receive`] found.
#[derive(Debug)]
pub enum Received {
    /// A new message, opened: process it, remember its (sender, id), send a receipt.
    New(Opened),
    /// A message already received (not decrypted again): answer with the first receipt.
    Duplicate(Header),
}

/// The receiving side in one call, in the order that costs least on bad input: [`check`]
/// (form, sender, signature, addressed to me), then the replay guard, then decryption. A
/// duplicate is never decrypted; an unauthentic envelope never reaches the seen ids, so a
/// forger cannot use them to learn what was received.
pub fn receive(
    env: &Envelope,
    me: &NodeIdentity,
    directory: &Directory,
    guard: &ReplayGuard,
    now: OffsetDateTime,
    seen: &impl SeenMessages,
) -> Result<Received, Rejection> {
    let checked = check(env, me, directory)?;
    match guard.admit(checked.header(), now, seen)? {
        Admission::Duplicate => Ok(Received::Duplicate(checked.into_header())),
        Admission::New => Ok(Received::New(checked.decrypt(me)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::{ke_to_ug, world, AT, ID};
    use std::collections::HashSet;
    use time::macros::datetime;

    fn nothing_seen(_: CountryCode, _: MessageId) -> bool {
        false
    }

    #[test]
    fn a_fresh_message_is_new_then_a_duplicate() {
        let w = world();
        let env = ke_to_ug(&w);
        let guard = ReplayGuard::default();
        let now = AT + Duration::minutes(1);
        let mut seen = HashSet::new();
        let header = match receive(&env, &w.ug, &w.dir, &guard, now, &seen).unwrap() {
            Received::New(opened) => {
                assert_eq!(opened.payload(), b"the request");
                opened.header().clone()
            }
            other => panic!("{other:?}"),
        };
        seen.insert((header.from(), header.id()));
        match receive(&env, &w.ug, &w.dir, &guard, now, &seen).unwrap() {
            Received::Duplicate(h) => assert_eq!(h, header),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_window_is_inclusive_at_both_ends() {
        let w = world();
        let env = ke_to_ug(&w);
        let header = check(&env, &w.ug, &w.dir).unwrap().into_header();
        let guard = ReplayGuard::default();
        let seen = nothing_seen;
        // Exactly seven days old, exactly five minutes ahead: accepted.
        assert_eq!(
            guard.admit(&header, AT + Duration::days(7), &seen),
            Ok(Admission::New)
        );
        assert_eq!(
            guard.admit(&header, AT - Duration::minutes(5), &seen),
            Ok(Admission::New)
        );
        // One second beyond: refused, with both instants in the message.
        let old = guard
            .admit(&header, datetime!(2025-03-08 09:30:01 UTC), &seen)
            .unwrap_err();
        assert_eq!(
            old,
            Rejection::TooOld {
                created_at: "2025-03-01T09:30:00Z".into(),
                now: "2025-03-08T09:30:01Z".into(),
                max_age_secs: 604_800,
            }
        );
        assert_eq!(old.code(), "too_old");
        let new = guard
            .admit(&header, datetime!(2025-03-01 09:24:59 UTC), &seen)
            .unwrap_err();
        assert!(
            new.to_string().contains("check the sender's clock"),
            "{new}"
        );
        assert_eq!(new.code(), "too_new");
    }

    #[test]
    fn a_duplicate_is_recognised_even_after_the_window() {
        let w = world();
        let env = ke_to_ug(&w);
        let header = check(&env, &w.ug, &w.dir).unwrap().into_header();
        let guard = ReplayGuard::default();
        let seen = |from: CountryCode, id: MessageId| from.as_str() == "KE" && id == ID;
        assert_eq!(
            guard.admit(&header, AT + Duration::days(30), &seen),
            Ok(Admission::Duplicate)
        );
    }

    #[test]
    fn a_resealed_copy_of_a_received_message_is_a_duplicate() {
        // The first copy arrived but its receipt was lost; the sender kept retrying and, at
        // half the window, sealed the message again. The new copy is inside the window, and
        // only the seen id stops it from being processed twice.
        let w = world();
        let env = ke_to_ug(&w);
        let guard = ReplayGuard::default();
        let mut seen = HashSet::new();
        let Received::New(first) = receive(&env, &w.ug, &w.dir, &guard, AT, &seen).unwrap() else {
            panic!("the first copy is new")
        };
        seen.insert((first.header().from(), first.header().id()));
        let later = AT + Duration::days(4);
        let again = crate::envelope::reseal(&w.ke, &env, &w.dir, later).unwrap();
        let arrival = AT + Duration::days(9);
        match receive(&again, &w.ug, &w.dir, &guard, arrival, &seen).unwrap() {
            Received::Duplicate(h) => assert_eq!(h.id(), ID),
            other => panic!("{other:?}"),
        }
        // Had the id been forgotten, it would have been processed again.
        let forgotten = HashSet::new();
        assert!(matches!(
            receive(&again, &w.ug, &w.dir, &guard, arrival, &forgotten).unwrap(),
            Received::New(_)
        ));
    }

    #[test]
    fn a_replayed_old_message_is_refused_without_decryption() {
        let w = world();
        let env = ke_to_ug(&w);
        let guard = ReplayGuard::default();
        let err = receive(
            &env,
            &w.ug,
            &w.dir,
            &guard,
            AT + Duration::days(8),
            &nothing_seen,
        )
        .unwrap_err();
        assert_eq!(err.code(), "too_old");
    }

    #[test]
    fn seen_ids_are_per_sender() {
        let w = world();
        let env = ke_to_ug(&w);
        let guard = ReplayGuard::default();
        // UG has seen the same id from TZ, not from KE: KE's message is new.
        let seen: HashSet<_> = [(w.tz.state(), ID)].into_iter().collect();
        assert!(matches!(
            receive(&env, &w.ug, &w.dir, &guard, AT, &seen).unwrap(),
            Received::New(_)
        ));
    }

    #[test]
    fn a_forgery_is_refused_before_the_seen_ids_are_asked() {
        let w = world();
        let mut env = ke_to_ug(&w);
        env.kind = "answer".into();
        let asked = std::cell::Cell::new(false);
        let seen = |_: CountryCode, _: MessageId| {
            asked.set(true);
            true
        };
        let err = receive(&env, &w.ug, &w.dir, &ReplayGuard::default(), AT, &seen).unwrap_err();
        assert_eq!(err.code(), "bad_signature");
        assert!(!asked.get());
    }
}

//! The outbox's schedule: when to try a delivery again, and when to seal a message again.
//!
//! The outbox itself (one row per message and recipient state, stored with the envelope) is
//! the caller's; this module only answers "when next?". The rules:
//!
//! - After the `n`-th failed attempt, wait `first_delay · 2ⁿ⁻¹` (10 s, 20 s, 40 s, …), never
//!   more than `max_delay` (1 h), less a jitter of up to a tenth of that wait. The jitter
//!   spreads the retries of many messages to a peer that comes back, so they do not all
//!   arrive in the same second; it is derived from the message id and the attempt number
//!   (not drawn at random), so the schedule of a message is reproducible and tests are exact.
//! - **Never give up.** A message to a state whose node is down for a month is still
//!   delivered when it returns: [`RetryPolicy::give_up_after`] is `None`, and there is no
//!   setting to change that. A trace request that silently disappears is exactly the failure
//!   this system exists to end; a person can still withdraw a trace, which is a life-cycle
//!   event, not a delivery decision.
//! - **Seal again before the receiver's window closes.** Receivers refuse messages older than
//!   their replay window (7 days, [`ReplayGuard`]). A message still undelivered at half that
//!   age is sealed again with a new date ([`crate::envelope::reseal`]), same id: the peer
//!   processes it once either way, since it deduplicates on (sender, id).
//!
//! Delivery to each recipient state is independent: a message to two states that reaches
//! one keeps retrying the other.

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::envelope::MessageId;
use crate::replay::ReplayGuard;

/// Domain label of the jitter's hash.
const JITTER_DOMAIN: &[u8] = b"tracemark-federation/v1/retry-jitter\n";

/// The retry schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt (before jitter).
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::seconds(10),
            max_delay: Duration::hours(1),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts (a value of 0 is taken as 1): the
    /// exponential back-off, capped, less its jitter. Always between nine tenths of the
    /// capped back-off and the back-off itself, and never more than `max_delay`.
    pub fn delay(&self, id: MessageId, failures: u32) -> Duration {
        let failures = failures.max(1);
        let first_ms = duration_ms(self.first_delay);
        let max_ms = duration_ms(self.max_delay);
        // Past 2⁴⁰ times the first delay every realistic cap is reached; the bound keeps the
        // shift and the product in range.
        let shift = (failures - 1).min(40);
        let backoff_ms = first_ms.saturating_mul(1u64 << shift).min(max_ms);
        let jitter_ms = jitter(id, failures) % (backoff_ms / 10 + 1);
        Duration::milliseconds(i64::try_from(backoff_ms - jitter_ms).unwrap_or(i64::MAX))
    }

    /// When to try again after the `failures`-th failed attempt, which failed at
    /// `last_error_at`.
    pub fn next_attempt(
        &self,
        id: MessageId,
        failures: u32,
        last_error_at: OffsetDateTime,
    ) -> OffsetDateTime {
        last_error_at + self.delay(id, failures)
    }

    /// Whether a delivery is due at `now`: never tried (`None`), or its next attempt time has
    /// come.
    pub fn is_due(
        &self,
        id: MessageId,
        last_failure: Option<(u32, OffsetDateTime)>,
        now: OffsetDateTime,
    ) -> bool {
        match last_failure {
            None => true,
            Some((failures, at)) => self.next_attempt(id, failures, at) <= now,
        }
    }

    /// After how long an undelivered message is dropped: never. See the module's
    /// documentation.
    pub fn give_up_after(&self) -> Option<Duration> {
        None
    }

    /// Whether a message created at `created_at` and still undelivered at `now` must be
    /// sealed again before the next attempt: from half the receivers' replay window on.
    pub fn reseal_due(
        &self,
        created_at: OffsetDateTime,
        now: OffsetDateTime,
        guard: &ReplayGuard,
    ) -> bool {
        now - created_at >= guard.max_age / 2
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.whole_milliseconds()).unwrap_or(if d.is_negative() { 0 } else { u64::MAX })
}

/// 64 bits from the SHA-256 of the message id and the attempt number.
fn jitter(id: MessageId, failures: u32) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(JITTER_DOMAIN);
    hasher.update(id.as_bytes());
    hasher.update(failures.to_be_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const ID: MessageId = MessageId::from_bytes([0x42; 16]);
    const T0: OffsetDateTime = datetime!(2025-03-01 09:30:00 UTC);

    #[test]
    fn the_back_off_doubles_from_ten_seconds_to_an_hour() {
        let policy = RetryPolicy::default();
        let mut previous_backoff = 0;
        for failures in 1..=20u32 {
            let backoff = (10_000u64 << (failures - 1).min(40)).min(3_600_000);
            let delay = duration_ms(policy.delay(ID, failures));
            assert!(delay <= backoff, "{failures}: {delay} > {backoff}");
            assert!(delay >= backoff - backoff / 10, "{failures}: {delay}");
            assert!(backoff >= previous_backoff);
            previous_backoff = backoff;
        }
        // From the 10th failure on (10 s · 2⁹ = 85 min) the cap holds.
        assert!(policy.delay(ID, 9) < Duration::minutes(43));
        for failures in [10, 11, 100, u32::MAX] {
            let d = policy.delay(ID, failures);
            assert!(
                d <= Duration::hours(1) && d >= Duration::minutes(54),
                "{failures}: {d}"
            );
        }
        assert_eq!(policy.delay(ID, 0), policy.delay(ID, 1));
    }

    #[test]
    fn the_schedule_is_exact_for_a_given_message() {
        let policy = RetryPolicy::default();
        // Pinned: the jitter is a function of the message id and the attempt number only.
        let schedule: Vec<OffsetDateTime> =
            (1..=4).map(|n| policy.next_attempt(ID, n, T0)).collect();
        assert_eq!(
            schedule,
            [
                datetime!(2025-03-01 09:30:09.928 UTC),
                datetime!(2025-03-01 09:30:19.686 UTC),
                datetime!(2025-03-01 09:30:36.666 UTC),
                datetime!(2025-03-01 09:31:17.644 UTC),
            ]
        );
        assert_eq!(
            policy.next_attempt(ID, 30, T0),
            datetime!(2025-03-01 10:26:23.87 UTC)
        );
        // The same inputs, the same answer; another message, another jitter.
        assert_eq!(policy.next_attempt(ID, 3, T0), schedule[2]);
        let other = MessageId::from_bytes([0x43; 16]);
        assert_ne!(policy.next_attempt(other, 3, T0), schedule[2]);
    }

    #[test]
    fn a_delivery_is_due_when_never_tried_or_when_its_time_has_come() {
        let policy = RetryPolicy::default();
        assert!(policy.is_due(ID, None, T0));
        let next = policy.next_attempt(ID, 2, T0);
        assert!(!policy.is_due(ID, Some((2, T0)), next - Duration::milliseconds(1)));
        assert!(policy.is_due(ID, Some((2, T0)), next));
    }

    #[test]
    fn a_message_is_never_given_up() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.give_up_after(), None);
        // A month of failures later, the next attempt is still at most an hour away.
        let a_month_later = T0 + Duration::days(30);
        let next = policy.next_attempt(ID, 800, a_month_later);
        assert!(next > a_month_later && next <= a_month_later + Duration::hours(1));
    }

    #[test]
    fn a_message_is_sealed_again_at_half_the_replay_window() {
        let policy = RetryPolicy::default();
        let guard = ReplayGuard::default();
        let half = T0 + Duration::hours(84);
        assert!(!policy.reseal_due(T0, half - Duration::seconds(1), &guard));
        assert!(policy.reseal_due(T0, half, &guard));
    }
}

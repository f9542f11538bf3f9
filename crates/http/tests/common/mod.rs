//! What several API test files share.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; tests fail loudly

pub mod browser;
pub mod web;

use std::sync::{Arc, Mutex};
use tracemark_registry::Clock;

/// A clock the tests move forward (session expiry, lockout, TOTP steps, deadlines).
#[derive(Clone)]
pub struct TestClock(pub Arc<Mutex<i64>>);

impl TestClock {
    /// The clock at `unix` seconds.
    pub fn at(unix: i64) -> TestClock {
        TestClock(Arc::new(Mutex::new(unix)))
    }
    pub fn unix(&self) -> i64 {
        *self.0.lock().unwrap()
    }
    pub fn advance(&self, seconds: i64) {
        *self.0.lock().unwrap() += seconds;
    }
}

impl Clock for TestClock {
    fn now_rfc3339(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.unix())
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }
}

//! The domain core of Tracemark: weapons, parts and ammunition lots, their markings, and the
//! events of their lives, with the rules of the International Tracing Instrument.
//!
//! **Architecture invariant:** this crate does no I/O and never reads the clock or a random
//! source. Time and identity of the recorder are given to it. Everything here is a pure
//! function of its inputs, which is what lets `ledger verify` recompute every projection from
//! the ledger and get the same answer.
//!
//! - [`account`]: agencies, account names and roles (the organisation model).
//! - [`ids`]: checked identifiers (country codes, item keys, event ids).
//! - [`date`]: partial dates that keep their precision.
//! - [`model`]: the validated vocabulary.
//! - [`interchange`]: JSON Lines records → validated records, with field-level errors.
//! - [`lifecycle`]: what may be recorded, given what is recorded.
//! - [`projection`]: status, holder, chain of custody and point of diversion.

pub mod account;
pub mod date;
pub mod ids;
pub mod interchange;
pub mod lifecycle;
pub mod model;
pub mod projection;

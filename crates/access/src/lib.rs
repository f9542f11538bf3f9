//! Accounts, authentication and authorization for the API (issue #4).
//!
//! - [`accounts`]: agencies, users, tokens, TOTP enrolment and sign-in with lockout.
//! - [`password`]: Argon2id password hashes (PHC strings) and one-time passwords.
//! - [`token`]: service-account API tokens: `tmk_<id>_<secret>`, only SHA-256 of the secret kept.
//! - [`totp`]: RFC 6238 codes for MFA, with the time step a code belongs to (replay guard).
//! - [`session`]: server-side sessions with an idle timeout, keyed by a hash of their id.
//! - [`policy`]: the Cedar policy set (`policies/tracemark.cedar`) and the one question the
//!   server asks it: may this principal do this action on this resource?
//!
//! Nothing here speaks SQL or HTTP: the store keeps the rows, the server carries credentials.
//! Secrets are compared in constant time and never printed by a `Debug` implementation.

pub mod accounts;
pub mod password;
pub mod policy;
pub mod session;
pub mod token;
pub mod totp;

pub use policy::{Action, Decision, PolicyEngine, Principal, PrincipalKind, Resource};

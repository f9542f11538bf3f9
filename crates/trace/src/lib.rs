//! International tracing under the ITI (section V), as a pure core.
//!
//! A trace asks the states that made, imported or held an illicit weapon what their records
//! say about it, until the point of diversion — the last authorised holder and how control
//! was lost — is found. Traces fail for known reasons: requests that lack the serial or
//! import data, misidentified makes and countries, no acknowledgement, no answer, and answers
//! nobody follows up. This crate holds the rules that address each, as plain values and pure
//! functions:
//!
//! - [`request`]: the trace request as the officer composes it (a draft: it may lack what is
//!   not known, but what it holds is well formed), with stable snake_case JSON.
//! - [`completeness`]: the gaps of a request, each with a stable code, a severity, the field,
//!   why it matters and what would fix it; waivers that explain the gaps that remain; and
//!   [`SendableRequest`](completeness::SendableRequest), the only thing that can be sent.
//! - [`routing`]: proposed recipients (country of manufacture, of last legal import, previous
//!   holders), each with its reasons, and the officer's
//!   [`ConfirmedRecipients`](routing::ConfirmedRecipients).
//! - [`lifecycle`]: the events of a trace and its state as their fold
//!   ([`replay`](lifecycle::replay)): draft, sent, delivered, acknowledged, answered (full,
//!   partial, no record, restricted, refused), follow-up, closed with feedback — per
//!   requested state.
//! - [`deadlines`]: acknowledgement and answer deadlines per priority, reminders and the
//!   overdue list at a given instant.
//! - [`figures`]: requests sent and received, time to acknowledge and answer per counterpart,
//!   outcomes, and SDG indicator 16.4.2.
//! - [`text`] and [`wire`]: checked strings and the JSON forms of the domain's values.
//!
//! **Architecture invariant:** no I/O, no clock, no randomness, no cryptography, no storage.
//! Time is an argument (`at` in every event, `now` in every deadline computation); the
//! transport, signatures, encryption and the ledger belong to the crates that use this one.
//!
//! **Architecture invariant:** the state of a trace is a fold over its events. Nothing else
//! changes it, so a node's view of a trace can always be recomputed from its ledger, and the
//! figures and the overdue list are computed from those states, never stored apart.
//!
//! **API boundary:** the serde types here ([`request::TraceRequest`],
//! [`completeness::SendableRequest`], [`lifecycle::TraceEvent`], [`deadlines::DeadlinePolicy`])
//! are what nodes exchange and store. They refuse unknown fields; their names are stable; add
//! fields as optional, never rename.

pub mod completeness;
pub mod deadlines;
pub mod figures;
pub mod lifecycle;
pub mod request;
pub mod routing;
pub mod text;
pub mod wire;

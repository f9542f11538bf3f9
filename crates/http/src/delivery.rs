//! The delivery task: takes the federation outbox to the peers.
//!
//! A trace step that crosses a border is sealed into the outbox in the same transaction as its
//! record (`registry::traces`). This task, started by [`crate::Server::run`], posts each due
//! message to its peer's `POST /api/v1/federation/inbox` and records the outcome with
//! `registry::traces::settle`: a receipt that verifies under the peer's key marks it delivered
//! (a request's receipt is also the exchange's `delivered` step); a refusal stops it for good
//! (an officer sees it in the outbox) except a message the peer found too old, which is
//! sealed again; no answer or a server error backs off (10 s doubling to 1 h, never giving
//! up). Per peer, messages go one at a time in the order they were taken, so a peer never
//! receives an answer before the acknowledgement that preceded it.
//!
//! It wakes when a step queued something ([`Delivery::nudge`]) and every [`DELIVERY_TICK`]
//! otherwise, so a peer that comes back is served at the next attempt time its back-off set.
//! Nothing is lost when the server stops: the outbox is in the store and the next server
//! carries on. Two app servers on one database may both post the same message; the peer
//! stores it once and answers both with the same receipt, and settling is idempotent.

use crate::AppState;
use std::sync::RwLock;
use std::time::Duration;
use tracemark_federation::RetryPolicy;
use tracemark_registry::traces::{self, Attempt, DueMessage, Settled};

/// How often the outbox is looked at when nothing nudged the task.
pub const DELIVERY_TICK: Duration = Duration::from_secs(2);

/// The longest a peer may take to answer one delivery.
const POST_TIMEOUT: Duration = Duration::from_secs(30);

/// The delivery task's shared part of the application state.
pub(crate) struct Delivery {
    wake: tokio::sync::Notify,
    retry: RwLock<RetryPolicy>,
}

impl Delivery {
    pub(crate) fn new() -> Self {
        Delivery {
            wake: tokio::sync::Notify::new(),
            retry: RwLock::new(RetryPolicy::default()),
        }
    }

    /// Asks the task to look at the outbox now (a step just queued a message).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    fn retry(&self) -> RetryPolicy {
        match self.retry.read() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    pub(crate) fn set_retry(&self, policy: RetryPolicy) {
        match self.retry.write() {
            Ok(mut g) => *g = policy,
            Err(p) => *p.into_inner() = policy,
        }
    }
}

/// The HTTP client for peers: rustls with the `ring` provider and the platform's roots.
fn client() -> anyhow::Result<reqwest::Client> {
    // The process-wide provider; installing it twice is harmless (the first one stays).
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .user_agent(concat!("tracemark/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// Posts one envelope and says how it went.
async fn post(client: &reqwest::Client, due: &DueMessage) -> Attempt {
    let sent = client
        .post(&due.inbox_url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(due.row.envelope.clone())
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(format!("posting to {}: {e}", due.inbox_url)),
    };
    let status = response.status();
    let body = match response.bytes().await {
        Ok(b) => b.to_vec(),
        Err(e) => return Attempt::Failed(format!("reading the answer of {}: {e}", due.inbox_url)),
    };
    if status.is_success() {
        return Attempt::Answered(body);
    }
    if status.is_client_error() {
        let doc: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        let rejection = doc
            .as_ref()
            .and_then(|d| d.get("error"))
            .and_then(|e| {
                e.get("rejection")
                    .or_else(|| e.get("details")?.get("rejection"))
            })
            .or_else(|| doc.as_ref().and_then(|d| d.get("rejection")))
            .and_then(|r| r.as_str())
            .map(str::to_owned);
        let message = doc
            .as_ref()
            .and_then(|d| d.get("error"))
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        return Attempt::Refused {
            status: status.as_u16(),
            rejection,
            message,
        };
    }
    Attempt::Failed(format!("{} answered {status}", due.inbox_url))
}

impl AppState {
    /// One pass over the outbox: every due message is posted once and its outcome recorded.
    /// Returns how many were delivered.
    pub async fn deliver_due(&self, client: &reqwest::Client) -> usize {
        let clock = self.clock();
        let due = self
            .auditor()
            .run(move |node| {
                let now = traces::now_of(clock.as_ref())?;
                traces::due(node, now)
            })
            .await;
        let due = match due {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                tracing::warn!("reading the outbox: {e}");
                return 0;
            }
            Err(e) => {
                tracing::warn!("reading the outbox: {}", e.message);
                return 0;
            }
        };
        let mut delivered = 0;
        // One message per peer per pass; peers are served concurrently.
        let mut posts = tokio::task::JoinSet::new();
        for d in due {
            let client = client.clone();
            posts.spawn(async move {
                let attempt = post(&client, &d).await;
                (d, attempt)
            });
        }
        let attempts = posts.join_all().await;
        let policy = self.delivery().retry();
        for (due, attempt) in attempts {
            let clock = self.clock();
            let peer = due.row.peer.clone();
            let id = due.row.message_id.clone();
            let settled = self
                .auditor()
                .run(move |node| {
                    let now = traces::now_of(clock.as_ref())?;
                    traces::settle(node, &due, attempt, now, &policy)
                })
                .await;
            match settled {
                Ok(Ok(Settled::Delivered)) => {
                    delivered += 1;
                    tracing::info!(peer = %peer, message = %id, "delivered");
                }
                Ok(Ok(Settled::Retry(at))) => {
                    tracing::info!(peer = %peer, message = %id, next = %at, "delivery failed; will retry")
                }
                Ok(Ok(Settled::Refused(why))) => {
                    tracing::warn!(peer = %peer, message = %id, reason = %why, "the peer refused the message")
                }
                Ok(Err(e)) => {
                    tracing::warn!(peer = %peer, message = %id, "recording a delivery: {e}")
                }
                Err(e) => {
                    tracing::warn!(peer = %peer, message = %id, "recording a delivery: {}", e.message)
                }
            }
        }
        delivered
    }

    /// Delivers until the task is dropped.
    pub(crate) async fn deliver(self) {
        let client = match client() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the delivery task cannot start its HTTP client: {e}");
                return;
            }
        };
        loop {
            // Keep going while a pass delivered something: the next message for the same
            // peer waits for the one before it.
            while self.deliver_due(&client).await > 0 {}
            tokio::select! {
                _ = self.delivery().wake.notified() => {}
                _ = tokio::time::sleep(DELIVERY_TICK) => {}
            }
        }
    }

    /// Asks the delivery task to look at the outbox now (call after a step that queued
    /// messages; otherwise it looks every [`DELIVERY_TICK`]).
    pub fn nudge_delivery(&self) {
        self.delivery().nudge();
    }

    /// Sets the back-off of deliveries (tests shorten it).
    pub fn set_retry_policy(&self, policy: RetryPolicy) {
        self.delivery().set_retry(policy);
    }
}

//! The audit log's group commit: one thread, one connection, and a queue of entries.
//!
//! Every audited request waits until its entry is durable before it is answered. Writing
//! each entry in its own transaction (one commit and one checkpoint signature each) caps
//! audited reads at a few thousand a second; here the thread takes everything queued while
//! the previous transaction was committing and writes it as one batch, under one signed
//! checkpoint. Alone, a request pays one small transaction, as before; under load, hundreds
//! share one. Each request still hears back only after the batch holding its entry has
//! committed, and a failed batch fails every request in it (nothing is answered as if
//! audited when it was not).

use crate::error::ApiError;
use serde_json::Value;
use std::sync::mpsc;
use tracemark_registry::{Location, Node};

/// The most entries written in one transaction: bounds the latency one batch adds.
const MAX_BATCH: usize = 1024;

type Reply = tokio::sync::oneshot::Sender<Result<u64, String>>;

pub(crate) struct AuditWriter {
    tx: mpsc::Sender<(Value, Reply)>,
}

impl AuditWriter {
    /// Starts the thread and opens the node on it; returns once the node is open.
    pub(crate) fn start(at: Location) -> anyhow::Result<AuditWriter> {
        let (tx, rx) = mpsc::channel::<(Value, Reply)>();
        crate::worker::spawn_with_node("audit", at, move |mut node| {
            // Ends when every sender (the application state) is gone.
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                write(&mut node, batch);
            }
        })?;
        Ok(AuditWriter { tx })
    }

    /// Writes `entry` and returns its index once it is durable.
    pub(crate) async fn append(&self, entry: Value) -> Result<u64, ApiError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send((entry, reply))
            .map_err(|_| ApiError::internal("the audit writer has stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the audit writer failed"))?
            .map_err(|e| ApiError::internal(format!("writing the audit log: {e}")))
    }
}

fn write(node: &mut Node, batch: Vec<(Value, Reply)>) {
    let (entries, replies): (Vec<Value>, Vec<Reply>) = batch.into_iter().unzip();
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tracemark_registry::audit::append_all(node, &entries).map_err(|e| e.to_string())
    }))
    .unwrap_or_else(|_| Err("the audit writer panicked".into()));
    if let Err(e) = &written {
        tracing::error!(entries = replies.len(), error = %e, "an audit batch failed");
    }
    for (offset, reply) in (0u64..).zip(replies) {
        // The requester may have gone (client disconnected); its entry is written anyway.
        let _ = reply.send(written.clone().map(|first| first + offset));
    }
}

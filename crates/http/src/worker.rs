//! A thread that owns one opened [`Node`] and runs jobs on it, one at a time.
//!
//! A node holds a `Box<dyn Store>`, which is not `Send` (the SQLite connection may not move
//! between threads behind a trait object that does not promise it), so it cannot sit in an
//! `Arc<Mutex<_>>` handed to `spawn_blocking`. Instead each worker opens its own node on its
//! own thread and receives closures over a channel; the async side awaits the answer on a
//! oneshot channel, so no runtime thread ever blocks on the store.
//!
//! The server runs three workers on three connections to the same store: a reader for the
//! queries and proofs, a writer for imports, and a follower that keeps the search index up
//! with the ledger. They are plain threads also because the synchronous PostgreSQL client
//! runs its own runtime and must not be called from an async runtime thread. SQLite's write-ahead log lets the reader
//! answer from the last committed batch while an import is being written.

use crate::error::ApiError;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use tracemark_registry::{Location, Node};

type Job = Box<dyn FnOnce(&mut Node) + Send>;

pub(crate) struct Worker {
    name: &'static str,
    tx: mpsc::Sender<Job>,
}

impl Worker {
    /// Starts the thread and opens the node on it; returns once the node is open.
    pub(crate) fn start(name: &'static str, at: Location) -> anyhow::Result<Worker> {
        let (tx, rx) = mpsc::channel::<Job>();
        spawn_with_node(name, at, move |mut node| {
            // Ends when every sender (the application state) is gone.
            while let Ok(job) = rx.recv() {
                // A panic inside the engine is a bug; it answers 500 (the job's reply
                // channel is dropped) and the worker keeps serving. A store transaction
                // that was open rolls back when its guard unwinds.
                if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut node))).is_err() {
                    tracing::error!(worker = name, "a registry job panicked");
                }
            }
        })?;
        Ok(Worker { name, tx })
    }

    /// Runs `f` on the worker's node and returns its answer.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Node) -> R + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Box::new(move |node: &mut Node| {
                // The caller may have gone (client disconnected); the work is done anyway.
                let _ = tx.send(f(node));
            }))
            .map_err(|_| ApiError::internal(format!("the {} worker has stopped", self.name)))?;
        rx.await
            .map_err(|_| ApiError::internal(format!("the {} worker failed a job", self.name)))
    }

    /// Runs `f` on the worker's node from a blocking (non-async) context.
    pub(crate) fn run_blocking<R, F>(&self, f: F) -> anyhow::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Node) -> R + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Box::new(move |node: &mut Node| {
                let _ = tx.send(f(node));
            }))
            .map_err(|_| anyhow::anyhow!("the {} worker has stopped", self.name))?;
        rx.recv()
            .map_err(|_| anyhow::anyhow!("the {} worker failed a job", self.name))
    }
}

/// Starts a thread named `tracemark-<name>` that opens the node at `at` and hands it to
/// `serve`; returns once the node is open (or with the reason it could not be opened).
pub(crate) fn spawn_with_node(
    name: &str,
    at: Location,
    serve: impl FnOnce(Node) + Send + 'static,
) -> anyhow::Result<()> {
    let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), String>>(1);
    std::thread::Builder::new()
        .name(format!("tracemark-{name}"))
        .spawn(move || match Node::open_at(&at) {
            Ok(node) => {
                let _ = ready_tx.send(Ok(()));
                serve(node);
            }
            Err(e) => {
                let _ = ready_tx.send(Err(format!("{}: {e}", at.describe())));
            }
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(anyhow::anyhow!("opening the registry: {message}")),
        Err(_) => Err(anyhow::anyhow!(
            "the {name} thread stopped while opening the registry"
        )),
    }
}

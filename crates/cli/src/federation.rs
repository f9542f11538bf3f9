//! `tracemark federation` and `tracemark peer`: the node's federation identity (to give to
//! the administrators of peer states) and the peer directory (their identities and URLs).
//! `federation outbox` lists the messages trace steps queued for peers: waiting, delivered
//! (with the peer's signed receipt) or refused.

use super::{open, print_json, Cli, Failure};
use anyhow::Context;
use clap::Subcommand;
use serde_json::json;
use std::io::Read;
use std::process::ExitCode;
use tracemark_federation::PublicIdentity;
use tracemark_registry::federation::{self, FederationError, PeerAdded};
use tracemark_registry::{Clock, SystemClock};

#[derive(Subcommand)]
pub enum FederationCommand {
    /// Print this node's public identity (JSON, to send to a peer's administrator) and its
    /// fingerprint (to compare with them on the phone). Creates the identity on first use.
    Identity {
        /// Print one JSON object: {"identity": {...}, "fingerprint": "..."}; `peer add
        /// --identity` on the other node accepts it as it is.
        #[arg(long)]
        json: bool,
    },
    /// The messages trace steps queued for peers, oldest first: waiting (with the attempts
    /// and the last error), delivered, or refused by the peer.
    Outbox {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PeerCommand {
    /// Add a peer state's node (or change its URL) from the public identity its
    /// administrator sent you. Compare the fingerprint printed with them before relying on it.
    Add {
        /// The peer's base URL (https://…, or http:// for loopback tests and TLS-ending
        /// proxies).
        #[arg(long)]
        url: String,
        /// The peer's public identity: a file (- for stdin) holding the JSON of `tracemark
        /// federation identity --json` or of the bare identity, or that JSON itself.
        #[arg(long, value_name = "FILE_OR_JSON")]
        identity: String,
        /// Replace the keys held for a state already in the directory (only after comparing
        /// the new fingerprint with that state's administrator).
        #[arg(long)]
        replace: bool,
    },
    /// List the peers: state, URL, fingerprint.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn failure(e: FederationError) -> Failure {
    match e {
        FederationError::KeyConflict(_) => {
            Failure::Rejected(format!("{e}; once confirmed, add it again with --replace"))
        }
        FederationError::PeerIdentity(_)
        | FederationError::PeerUrl(_)
        | FederationError::OwnState(_) => Failure::Rejected(e.to_string()),
        other => Failure::Internal(other.into()),
    }
}

/// The text of `--identity`: the JSON given inline, or read from a file (`-`: stdin).
fn identity_text(arg: &str) -> Result<String, Failure> {
    if arg.trim_start().starts_with('{') {
        return Ok(arg.to_owned());
    }
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(arg).map_err(|e| Failure::Usage(format!("identity: {arg}: {e}")))
}

/// The bare public identity JSON from what `federation identity --json` prints (checking
/// its fingerprint against its keys) or from the bare identity itself.
fn bare_identity(text: &str) -> Result<String, Failure> {
    let rejected = |m: String| Failure::Rejected(format!("identity: {m}"));
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| rejected(format!("not JSON: {e}")))?;
    let Some(inner) = value.get("identity") else {
        return Ok(text.to_owned());
    };
    let inner = inner.to_string();
    if let Some(claimed) = value.get("fingerprint") {
        let public = PublicIdentity::from_json(&inner).map_err(|e| rejected(e.to_string()))?;
        let actual = public.fingerprint().to_string();
        let claimed = claimed.as_str().unwrap_or_default().replace(' ', "");
        if claimed != actual {
            return Err(rejected(format!(
                "the fingerprint given ({claimed}) is not that of the keys given ({actual})"
            )));
        }
    }
    Ok(inner)
}

pub fn peer(cli: &Cli, command: &PeerCommand) -> Result<ExitCode, Failure> {
    match command {
        PeerCommand::Add {
            url,
            identity,
            replace,
        } => {
            let text = bare_identity(&identity_text(identity)?)?;
            let mut node = open(cli)?;
            let now = SystemClock.now_rfc3339();
            let (peer, outcome) =
                federation::add_peer(&mut node, &text, url, *replace, &now).map_err(failure)?;
            let state = peer.state();
            let fingerprint = peer.identity.fingerprint().grouped();
            match outcome {
                PeerAdded::New => println!("added peer {state} at {}", peer.url),
                PeerAdded::Unchanged => {
                    println!("peer {state} is already in the directory with these keys and URL")
                }
                PeerAdded::UrlChanged { previous } => {
                    println!("peer {state}: URL changed from {previous} to {}", peer.url)
                }
                PeerAdded::Replaced { previous } => println!(
                    "peer {state}: keys replaced (previous fingerprint {})",
                    previous.grouped()
                ),
            }
            println!("fingerprint: {fingerprint}   (compare it with {state}'s administrator)");
        }
        PeerCommand::List { json } => {
            let node = open(cli)?;
            let peers = federation::peers(&node).map_err(failure)?;
            if *json {
                let list: Vec<serde_json::Value> = peers
                    .iter()
                    .map(|p| {
                        let identity: serde_json::Value =
                            serde_json::from_str(&p.peer.identity.to_canonical_json())
                                .unwrap_or_default();
                        json!({
                            "state": p.row.state,
                            "url": p.peer.url.as_str(),
                            "fingerprint": p.peer.identity.fingerprint().to_string(),
                            "identity": identity,
                            "added_at": p.row.added_at,
                            "replaced_at": p.row.replaced_at,
                        })
                    })
                    .collect();
                print_json(&serde_json::Value::Array(list))?;
            } else {
                for p in &peers {
                    println!(
                        "{}\t{}\t{}",
                        p.row.state,
                        p.peer.url,
                        p.peer.identity.fingerprint().grouped()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(cli: &Cli, command: &FederationCommand) -> Result<ExitCode, Failure> {
    let node = open(cli)?;
    match command {
        FederationCommand::Identity { json } => {
            let identity = federation::identity(&node).map_err(failure)?;
            let public = identity.public();
            if *json {
                let value: serde_json::Value = serde_json::from_str(&public.to_canonical_json())
                    .map_err(anyhow::Error::from)?;
                print_json(&json!({
                    "identity": value,
                    "fingerprint": public.fingerprint().to_string(),
                }))?;
            } else {
                println!("{}", public.to_canonical_json());
                println!("fingerprint: {}", public.fingerprint().grouped());
            }
        }
        FederationCommand::Outbox { json } => outbox(&node, *json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `waiting`, `delivered` or `refused`.
fn outbox_status(row: &tracemark_store::OutboxRow) -> &'static str {
    if row.delivered_at.is_some() {
        "delivered"
    } else if row.refused.is_some() {
        "refused"
    } else {
        "waiting"
    }
}

fn outbox(node: &tracemark_registry::Node, json: bool) -> Result<(), Failure> {
    let rows = node.store.outbox().context("reading the outbox")?;
    if json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "peer": r.peer,
                    "message_id": r.message_id,
                    "trace": r.trace,
                    "kind": r.kind,
                    "status": outbox_status(r),
                    "created_at": r.created_at,
                    "attempts": r.attempts,
                    "next_attempt_at": r.next_attempt_at,
                    "last_error": r.last_error,
                    "delivered_at": r.delivered_at,
                    "refused": r.refused,
                })
            })
            .collect();
        return print_json(&serde_json::Value::Array(list));
    }
    if rows.is_empty() {
        println!("the outbox is empty");
        return Ok(());
    }
    for r in &rows {
        let detail = match outbox_status(r) {
            "delivered" => format!("delivered {}", r.delivered_at.as_deref().unwrap_or("")),
            "refused" => format!("refused: {}", r.refused.as_deref().unwrap_or("")),
            _ => format!(
                "waiting, {} attempt(s), next {}{}",
                r.attempts,
                r.next_attempt_at,
                r.last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{detail}",
            r.created_at, r.peer, r.trace, r.kind, r.message_id
        );
    }
    Ok(())
}

//! `tracemark federation` and `tracemark peer`: the node's federation identity (to give to
//! the administrators of peer states) and the peer directory (their identities and URLs).
//! Sending and receiving messages are not built yet (issue #5).

use super::{open, print_json, Cli, Failure};
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;
use tracemark_registry::federation::{self, FederationError};

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
}

pub(crate) fn failure(e: FederationError) -> Failure {
    Failure::Internal(e.into())
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
    }
    Ok(ExitCode::SUCCESS)
}

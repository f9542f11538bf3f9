//! `tracemark trace`: ITI trace requests from first draft to closing.
//!
//! Preparing a request: a draft filled in from an item's record (`draft`), the completeness
//! check with the proposed recipients (`check`), the printable request for a state that does
//! not run Tracemark (`print`), and, on the requested side, a proposed answer from this
//! registry's records (`answer-draft`).
//!
//! The life cycle, every step a record in the node's trace log (`tracemark_registry::traces`):
//! `create` and `amend` a draft, `send` it (each blocking gap explained with `--waive`), `chain`
//! it on to the next state, `acknowledge` and `answer` (on the requested side; on the
//! requesting side, with `--for STATE --channel …`, the step a state took on paper, by e-mail…),
//! `follow-up`, and `close` with feedback. A step that crosses a border is sealed for each
//! requested state that is a peer and put in the federation outbox in the same transaction
//! (`tracemark federation outbox` lists it; a running `tracemark serve` delivers it, and
//! records the steps peers send); a requested state that is not a peer gets the printable
//! request (`show --request | print -`). `list`, `show`, `overdue` and `figures` read what is
//! on record.

mod life_cycle;

use super::{open, print_json, Cli, Failure};
use anyhow::Context;
use clap::Subcommand;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tracemark_registry::query::QueryError;
use tracemark_registry::tracing::{self, Requester, TracingError};
use tracemark_trace::completeness::Waiver;
use tracemark_trace::request::TraceRequest;

#[derive(Subcommand)]
pub enum TraceCommand {
    /// Print a draft request (JSON) for an item of the registry, to complete and check.
    Draft {
        /// The registry item's key.
        #[arg(long)]
        item: String,
        /// The request's reference (default: TR-<item key>).
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        agency: String,
        #[arg(long)]
        officer: String,
        /// Your case number.
        #[arg(long = "case")]
        case_reference: String,
    },
    /// Check a request (JSON file, or - for stdin): its gaps, each with why it matters and
    /// what would fix it, and the states to send it to. Exit 1 when a gap blocks sending.
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Draft the answer to a request received from another state (JSON file, or -): the
    /// records of this registry that match its serials and a proposed outcome with findings
    /// from the chain of custody, for an officer to review.
    AnswerDraft { file: PathBuf },
    /// Write the request as a printable page for a state that does not run Tracemark: HTML
    /// to stdout, or with --pdf a PDF file with room for the answer and the signatures.
    Print {
        file: PathBuf,
        /// The requested states (default: the proposed ones).
        #[arg(long = "to", value_delimiter = ',')]
        to: Vec<String>,
        /// Write a PDF to this file instead of HTML to stdout.
        #[arg(long, value_name = "OUT.pdf")]
        pdf: Option<PathBuf>,
        /// The date to print on the PDF (e.g. 2026-03-09); left blank to write by hand.
        #[arg(long, requires = "pdf")]
        date: Option<String>,
        /// The explanations of the gaps the request is sent with, printed on the PDF under
        /// each gap: a JSON file `[{"gap": "<code>", "explanation": "…"}]`.
        #[arg(long, requires = "pdf", value_name = "FILE")]
        waivers: Option<PathBuf>,
    },
    /// Record a request (JSON file, or - for stdin: what `draft` prints) as a draft of this
    /// node; prints its key (`<state>:<id>`).
    Create {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Replace a draft with a new version of its request (JSON file, or -; same id).
    Amend {
        key: String,
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Send a draft to the requested states (exit 1, naming each gap, while a blocking gap is
    /// neither fixed nor explained). Peers get a federation message; other states the
    /// printable request (`trace print`).
    Send {
        key: String,
        /// The requested states, e.g. UG,TZ.
        #[arg(long = "to", value_delimiter = ',', required = true)]
        to: Vec<String>,
        /// Explain a gap that remains (repeatable), e.g. --waive "missing_make=Ground off".
        #[arg(long = "waive", value_name = "GAP=EXPLANATION")]
        waive: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Forward a sent trace to the next state(s) of the chain: a new request for the same
    /// item naming its parent, drafted and sent in one step.
    Chain {
        key: String,
        #[arg(long = "to", value_delimiter = ',', required = true)]
        to: Vec<String>,
        /// The new trace's id (default: the parent's id, '-', the first new state).
        #[arg(long)]
        id: Option<String>,
        /// The explanations of the gaps (default: the parent's).
        #[arg(long = "waive", value_name = "GAP=EXPLANATION")]
        waive: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a request received (requested side), or, with --for and --channel, record
    /// a requested state's acknowledgement that came another way (requesting side).
    Acknowledge {
        key: String,
        #[command(flatten)]
        by: RecordedFor,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Answer a request received (requested side) with an answer (JSON file, or -: the
    /// `answer` of `answer-draft`), or, with --for and --channel, record a requested state's
    /// answer that came another way (requesting side).
    Answer {
        key: String,
        file: PathBuf,
        #[command(flatten)]
        by: RecordedFor,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Ask a requested state for more after its answer.
    FollowUp {
        key: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        question: String,
        #[arg(long)]
        json: bool,
    },
    /// Close a trace, rating each answer received from 1 (useless) to 5 (decisive).
    Close {
        key: String,
        /// Feedback on one state's answer (repeatable), e.g. --feedback "UG=4:named the dealer".
        #[arg(long = "feedback", value_name = "STATE=RATING[:COMMENT]")]
        feedback: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// The traces on this node, most recently updated first.
    List {
        /// draft, sent, delivered, acknowledged, follow_up, answered or closed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_parser = ["requesting", "requested"])]
        role: Option<String>,
        /// The case reference.
        #[arg(long = "case")]
        case_reference: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A trace's state and every step on record (--json: the records as stored).
    Show {
        key: String,
        #[arg(long)]
        json: bool,
        /// Print only the request as on record (JSON, e.g. for `trace print -`).
        #[arg(long, conflicts_with = "json")]
        request: bool,
    },
    /// What is overdue now, and the reminders due.
    Overdue {
        #[arg(long)]
        json: bool,
    },
    /// The tracing figures: requests sent and received, response times per state, outcomes,
    /// SDG indicator 16.4.2.
    Figures {
        #[arg(long)]
        json: bool,
    },
}

/// Who took a step the requested state owes: this node, or (`--for`) another state whose
/// step came by another channel.
#[derive(clap::Args)]
pub struct RecordedFor {
    /// Record the step of this requested state (requesting side).
    #[arg(long = "for", value_name = "STATE", requires = "channel")]
    for_state: Option<String>,
    /// How it came.
    #[arg(long, requires = "for_state", value_parser = ["paper", "email", "fax", "phone", "interpol"])]
    channel: Option<String>,
}

fn read_request(file: &Path) -> Result<TraceRequest, Failure> {
    read_json(file)
}

/// A JSON document from a file or (`-`) stdin; a document that does not parse is refused
/// with the line and column.
fn read_json<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, Failure> {
    let mut text = String::new();
    if file == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading stdin")?;
    } else {
        text = std::fs::read_to_string(file)
            .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
    }
    serde_json::from_str(&text).map_err(|e| {
        Failure::Rejected(format!(
            "{}: line {}, column {}: {e}",
            if file == Path::new("-") {
                "stdin".into()
            } else {
                file.display().to_string()
            },
            e.line(),
            e.column()
        ))
    })
}

fn failure(e: TracingError) -> Failure {
    match e {
        TracingError::Query(QueryError::NotFound(key)) => {
            Failure::Rejected(format!("no item '{key}' in the registry"))
        }
        TracingError::Draft(m) => Failure::Rejected(m),
        other => Failure::Internal(other.into()),
    }
}

pub fn run(cli: &Cli, command: &TraceCommand) -> Result<ExitCode, Failure> {
    match command {
        TraceCommand::Draft {
            item,
            id,
            agency,
            officer,
            case_reference,
        } => {
            let node = open(cli)?;
            let who = Requester {
                trace_id: id.clone().unwrap_or_else(|| format!("TR-{item}")),
                agency: agency.clone(),
                officer: officer.clone(),
                case_reference: case_reference.clone(),
            };
            let draft = tracing::draft_from_item(&node, item, &who).map_err(failure)?;
            let v = serde_json::to_value(&draft).context("encoding the draft")?;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &v).context("writing to stdout")?;
            std::io::Write::write_all(&mut out, b"\n").context("writing to stdout")?;
            Ok(ExitCode::SUCCESS)
        }
        TraceCommand::Check { file, json } => {
            let request = read_request(file)?;
            let node = open(cli)?;
            let a = tracing::assess(&node, &request).map_err(failure)?;
            if *json {
                print_json(&a.to_json())?;
            } else {
                for g in &a.gaps {
                    println!(
                        "{} {}{}: {}",
                        if g.severity() == tracemark_trace::completeness::Severity::Blocking {
                            "BLOCKING"
                        } else {
                            "weakening"
                        },
                        g.code.as_str(),
                        g.detail
                            .as_deref()
                            .map(|d| format!(" ({d})"))
                            .unwrap_or_default(),
                        g.why()
                    );
                    println!("    fix: {}", g.fix());
                }
                for p in &a.proposals {
                    let reasons: Vec<String> = p.reasons.iter().map(|r| r.to_string()).collect();
                    println!("send to {}: {}", p.state.as_str(), reasons.join("; "));
                }
                println!(
                    "{}",
                    if a.ready() {
                        "ready to send"
                    } else {
                        "not ready: fix or explain each blocking gap"
                    }
                );
            }
            Ok(if a.ready() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        TraceCommand::AnswerDraft { file } => {
            let request = read_request(file)?;
            let node = open(cli)?;
            let index =
                tracemark_registry::search::open(&node).map_err(|e| Failure::Internal(e.into()))?;
            let d = tracing::draft_answer(&node, &index.index, &request, None).map_err(failure)?;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &d.to_json()).context("writing to stdout")?;
            std::io::Write::write_all(&mut out, b"\n").context("writing to stdout")?;
            Ok(ExitCode::SUCCESS)
        }
        TraceCommand::Print {
            file,
            to,
            pdf,
            date,
            waivers,
        } => {
            let request = read_request(file)?;
            let node = open(cli)?;
            let a = tracing::assess(&node, &request).map_err(failure)?;
            let recipients: Vec<String> = if to.is_empty() {
                a.proposals
                    .iter()
                    .map(|p| p.state.as_str().to_owned())
                    .collect()
            } else {
                to.clone()
            };
            let Some(out) = pdf else {
                print!("{}", tracing::print_html(&request, &a, &recipients));
                return Ok(ExitCode::SUCCESS);
            };
            let waivers: Vec<Waiver> = match waivers {
                None => Vec::new(),
                Some(w) => {
                    let text = std::fs::read_to_string(w)
                        .map_err(|e| Failure::Usage(format!("{}: {e}", w.display())))?;
                    serde_json::from_str(&text)
                        .map_err(|e| Failure::Rejected(format!("{}: {e}", w.display())))?
                }
            };
            let options = tracing::PdfOptions {
                waivers: &waivers,
                date: date.as_deref(),
            };
            let bytes = tracing::print_pdf(&request, &a, &recipients, &options)
                .context("writing the PDF")?;
            std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        other => life_cycle::run(cli, other),
    }
}

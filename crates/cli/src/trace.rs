//! `tracemark trace`: prepare an ITI trace request from the registry — a draft filled in from
//! an item's record, the completeness check with the proposed recipients, and the printable
//! request for a state that does not run Tracemark. Sending, answering and the life cycle
//! between installations are not built yet (issue #5).

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
}

fn read_request(file: &Path) -> Result<TraceRequest, Failure> {
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
            file.display(),
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
    }
}

//! `tracemark`: the command line. Glue only — parsing arguments, choosing the store, calling
//! the registry engine, printing. Exit status per the automation contract: 0 success,
//! 1 rejected data or failed verification, 2 usage error, 3 internal error.

use anyhow::Context;
use base64::Engine;
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tracemark_access::accounts;
use tracemark_registry::{proofs, query, verify, Clock, Location, Node, NodeError, SystemClock};

mod demo;
mod import;
mod progress;

mod export;
mod federation;
mod trace;

/// Import and verify allocate and free millions of small JSON values; mimalloc does that
/// markedly faster than the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tracemark",
    version,
    about = "Marking, record-keeping and tracing of small arms and light weapons (UN ITI)"
)]
pub(crate) struct Cli {
    /// The embedded store's folder.
    #[arg(
        long,
        global = true,
        env = "TRACEMARK_DATA",
        default_value = "./tracemark-data"
    )]
    data: PathBuf,
    /// A PostgreSQL store (postgres://…) instead of the embedded one. The data folder still
    /// holds the node's signing key and this process's search snapshot.
    #[arg(long, global = true, env = "TRACEMARK_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a store for a state and the node's Ed25519 signing key.
    Init {
        /// ISO 3166-1 alpha-2 code of the state this node serves.
        #[arg(long)]
        state: String,
        /// Node name (letters, digits, . - _ /); part of the ledger's origin.
        #[arg(long)]
        name: Option<String>,
        /// The first administrator's account name.
        #[arg(long, default_value = "admin")]
        admin: String,
        /// The agency the first administrator belongs to (created, kind `other`).
        #[arg(long, default_value = "national-registry")]
        admin_agency: String,
        /// Read the administrator's password from this file (first line) instead of
        /// generating one and printing it once.
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
    },
    /// Agencies of the state (police, defence, customs, licensing, dealers…).
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// People's accounts: add, list, enrol a TOTP second factor.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens of service accounts (system-to-system use).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import interchange files (all-or-nothing unless --accept-valid).
    Import(import::ImportArgs),
    /// Export the ledger records (JSON Lines) or analyst tables (CSV, Parquet).
    Export(export::ExportArgs),
    /// Show an item, its markings, status and holder.
    Item {
        #[command(subcommand)]
        command: ItemCommand,
    },
    /// ITI trace requests: prepare (draft, check, print), then create, send, acknowledge,
    /// answer, follow up and close them on record; list, show, overdue, figures.
    Trace {
        #[command(subcommand)]
        command: trace::TraceCommand,
    },
    /// This node's federation identity (for the administrators of peer states) and outbox.
    Federation {
        #[command(subcommand)]
        command: federation::FederationCommand,
    },
    /// The peer directory: other states' nodes (URL and public identity).
    Peer {
        #[command(subcommand)]
        command: federation::PeerCommand,
    },
    /// The chain of custody of an item.
    Custody {
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Search markings (exact, normalized, wildcard, fuzzy).
    Search(SearchArgs),
    /// The tamper-evident ledger: key, checkpoints, leaves, proofs, verification.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Apply the store's schema migrations and report its version (PostgreSQL: may run
    /// before `init`, e.g. by the database owner's role).
    Migrate,
    /// Serve the HTTP API (sign-in, policies and audit): HTTPS with --tls-cert and --tls-key,
    /// else plain HTTP (meant for loopback or behind a TLS-ending proxy).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; not encrypted).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Load a generated demonstration register first (only into an empty store).
        #[arg(long)]
        demo: bool,
        /// More Cedar policy files, added to the shipped policies/tracemark.cedar.
        #[arg(long = "policies")]
        policies: Vec<PathBuf>,
    },
    /// Measure in-process latencies (used by scripts/bench; see BENCHMARKS.md).
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Load a demonstration registry (national records and three messy registers) into a new store.
    DemoData(demo::DemoArgs),
    /// Print deterministic synthetic registry data (JSON Lines).
    Generate {
        #[arg(long)]
        items: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The registry's state (ISO alpha-2).
        #[arg(long, default_value = "KE")]
        state: String,
    },
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Add an agency.
    Add {
        /// Short name: a-z, 0-9, '.', '-', '_' (e.g. police-nairobi).
        name: String,
        /// police, defence, customs, licensing, dealer or other.
        #[arg(long)]
        kind: String,
        /// The holder name its records use (an event's `to.name`): items held under it are
        /// the agency's holdings (need-to-know; whom to tell of a hit on a stolen one).
        #[arg(long)]
        holder_name: Option<String>,
        /// The holder kind of its holdings (an event's `to.kind`, e.g. armed_forces); with
        /// --holder-name, both must match.
        #[arg(long)]
        holder_kind: Option<String>,
        /// Items it holds are visible only to its own users (and tracing officers).
        #[arg(long)]
        need_to_know: bool,
    },
    /// List the agencies.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person's account; prints a one-time password unless --password-file is given.
    Add {
        name: String,
        #[arg(long)]
        agency: String,
        /// registry_clerk, investigator, tracing_officer, licensing_officer,
        /// stockpile_manager, analyst, auditor or administrator.
        #[arg(long)]
        role: String,
        /// Read the password from this file (first line).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// List the accounts.
    List,
    /// Start TOTP enrolment: prints the otpauth:// URL for an authenticator app (shown
    /// once); the first sign-in with a valid code finishes it.
    Totp { name: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for a service account; prints it once.
    Create {
        #[arg(long)]
        service: String,
        #[arg(long)]
        agency: String,
        /// A non-privileged role (service accounts have no second factor).
        #[arg(long)]
        role: String,
    },
    /// Revoke a token by its id (the 16 hex digits after `tmk_`).
    Revoke { id: String },
    /// List the tokens (ids, services, roles; never the secrets).
    List,
}

#[derive(Args)]
struct SearchArgs {
    /// The marking as read, in any script; `?` is one unknown character, `*` any run.
    query: String,
    #[arg(long, default_value = "auto", value_parser = ["auto", "exact", "normalized", "wildcard", "fuzzy"])]
    mode: String,
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=2))]
    max_edits: u8,
    #[arg(long)]
    make: Option<String>,
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    calibre: Option<String>,
    #[arg(long)]
    country: Option<String>,
    /// Current status of the item (e.g. stolen, seized).
    #[arg(long)]
    status: Option<String>,
    #[arg(long, default_value = "serial", value_parser = ["serial", "any"])]
    kind: String,
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Chain of custody of randomly chosen items: p50/p99 in microseconds.
    Custody {
        #[arg(long, default_value_t = 20_000)]
        samples: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ItemCommand {
    Show {
        key: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// The node's verifier key in signed-note form.
    Key,
    /// The latest signed checkpoint (C2SP tlog-checkpoint).
    Checkpoint,
    /// One leaf: its hash and data.
    Leaf {
        #[arg(long)]
        index: u64,
        #[arg(long)]
        json: bool,
    },
    /// An inclusion proof for a leaf.
    Proof {
        #[arg(long)]
        index: u64,
        #[arg(long)]
        size: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// A consistency proof between two tree sizes.
    Consistency {
        #[arg(long)]
        from: u64,
        #[arg(long)]
        to: u64,
        #[arg(long)]
        json: bool,
    },
    /// Recompute everything from the records and compare.
    Verify {
        #[arg(long)]
        against: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// How a command failed, which decides the exit status.
enum Failure {
    /// Rejected data or failed verification (1).
    Rejected(String),
    /// The user asked for something impossible (2).
    Usage(String),
    /// A bug or an environment failure (3).
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Internal(e)
    }
}

impl From<NodeError> for Failure {
    fn from(e: NodeError) -> Self {
        use tracemark_store::StoreError;
        match e {
            NodeError::State(_) | NodeError::Name(_) => Failure::Usage(e.to_string()),
            NodeError::Store(StoreError::NotInitialised(_) | StoreError::AlreadyExists(_)) => {
                Failure::Usage(e.to_string())
            }
            other => Failure::Internal(other.into()),
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // The contract: errors are one line on stderr. Clap's first paragraph, joined
            // (a missing argument is named on the lines under the first).
            let text = e.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let line = match first.join(" ") {
                l if l.is_empty() => "invalid arguments".to_owned(),
                l => l,
            };
            let line = line.strip_prefix("error: ").unwrap_or(&line);
            eprintln!("error: {line} (see --help)");
            return ExitCode::from(2);
        }
    };
    let result = run(cli);
    match result {
        Ok(code) => code,
        Err(Failure::Rejected(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(e)) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(3)
        }
    }
}

/// Where the store is: `--data`, and `--database` when given.
pub(crate) fn location(cli: &Cli) -> Result<Location, Failure> {
    if let Some(url) = &cli.database {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Failure::Usage(
                "--database takes a postgres://user@host:port/dbname URL".into(),
            ));
        }
    }
    Ok(Location {
        dir: cli.data.clone(),
        database: cli.database.clone(),
    })
}

fn open(cli: &Cli) -> Result<Node, Failure> {
    Ok(Node::open_at(&location(cli)?)?)
}

fn print_json(v: &serde_json::Value) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v).context("writing to stdout")?;
    writeln!(out).context("writing to stdout")?;
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match &cli.command {
        Command::Init {
            state,
            name,
            admin,
            admin_agency,
            admin_password_file,
        } => {
            let at = location(&cli)?;
            // Check what can be checked before anything is created.
            tracemark_domain::account::AccountName::parse(admin).map_err(usage)?;
            tracemark_domain::account::AgencyName::parse(admin_agency).map_err(usage)?;
            let given = match admin_password_file {
                Some(p) => Some(read_password_file(p)?),
                None => None,
            };
            if let Some(p) = &given {
                if p.len() < tracemark_access::password::MIN_PASSWORD_LEN {
                    return Err(usage(tracemark_access::password::PasswordError::Length));
                }
            }
            let mut node = Node::init_at(&at, state, name.as_deref(), &SystemClock)?;
            println!("created store for {} at {}", node.info.state, at.describe());
            println!("ledger origin: {}", node.info.origin);
            println!("verifier key:  {}", node.info.verifier_key);
            println!(
                "signing key:   {} (owner-only; back it up, never share it)",
                cli.data.join(tracemark_registry::node::KEY_FILE).display()
            );
            println!(
                "federation key: {} (owner-only; `tracemark federation identity` shows its public half)",
                cli.data
                    .join(tracemark_federation::identity::IDENTITY_FILE)
                    .display()
            );
            let now = SystemClock.now_rfc3339();
            accounts::add_agency(
                node.store.as_mut(),
                admin_agency,
                "other",
                None,
                None,
                false,
                &now,
            )
            .map_err(accounts_failure)?;
            let password = given
                .clone()
                .unwrap_or_else(tracemark_access::password::generate_password);
            accounts::add_user(
                node.store.as_mut(),
                admin,
                admin_agency,
                "administrator",
                &password,
                &now,
            )
            .map_err(accounts_failure)?;
            println!("administrator: {admin} (agency {admin_agency})");
            if given.is_none() {
                println!("password:      {password}   (shown once: keep it in a password manager)");
            }
            println!(
                "next:          tracemark user totp {admin}   (administrators sign in with TOTP)"
            );
        }
        Command::Agency { command } => return agency(&cli, command),
        Command::User { command } => return user(&cli, command),
        Command::Token { command } => return token(&cli, command),
        Command::Trace { command } => return trace::run(&cli, command),
        Command::Federation { command } => return federation::run(&cli, command),
        Command::Peer { command } => return federation::peer(&cli, command),
        Command::Import(args) => return import::run(&cli, args),
        Command::Item {
            command: ItemCommand::Show { key, json },
        } => {
            let node = open(&cli)?;
            let h = history(&node, key)?;
            let v = query::item_json(&h);
            if *json {
                print_json(&v)?;
            } else {
                print_item(&v);
            }
        }
        Command::Custody { key, json } => {
            let node = open(&cli)?;
            let h = history(&node, key)?;
            let v = query::custody_json(&h);
            if *json {
                print_json(&v)?;
            } else {
                print_custody(&v);
            }
        }
        Command::Search(args) => {
            let node = open(&cli)?;
            search(&node, args)?;
        }
        Command::Serve {
            addr,
            tls_cert,
            tls_key,
            demo,
            policies,
        } => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(tracemark_http::TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            };
            serve(&cli, *addr, tls, *demo, policies)?
        }
        Command::DemoData(args) => demo::run(&cli, args)?,
        Command::Migrate => migrate(&cli)?,
        Command::Generate { items, seed, state } => {
            if tracemark_domain::ids::CountryCode::parse(state).is_err() {
                return Err(Failure::Usage(format!(
                    "--state '{state}' is not an ISO 3166-1 alpha-2 code"
                )));
            }
            let opts = tracemark_generate::GenerateOptions {
                items: *items,
                seed: *seed,
                state: state.clone(),
            };
            let out = std::io::stdout().lock();
            match tracemark_generate::generate(&opts, out) {
                Ok(_) => {}
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(anyhow::Error::from(e).context("writing data").into()),
            }
        }
        Command::Ledger { command } => return ledger(&cli, command),
        Command::Export(args) => export::run(&cli, args)?,
        Command::Bench {
            command: BenchCommand::Custody { samples, seed },
        } => {
            let node = open(&cli)?;
            print_json(&bench_custody(&node, *samples, *seed)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Times `custody --json` in-process (load, project, build the JSON document) for items
/// drawn at random, so the figure excludes process start-up.
fn bench_custody(node: &Node, samples: usize, seed: u64) -> Result<serde_json::Value, Failure> {
    let size = node.store.ledger_size().context("ledger size")?;
    if size == 0 {
        return Err(Failure::Usage("the store is empty".into()));
    }
    // xorshift64*: a deterministic sample without a dependency.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut keys = Vec::with_capacity(samples);
    while keys.len() < samples {
        if let Some(item) = node
            .store
            .item_by_id(next() % size)
            .context("reading an item")?
        {
            keys.push(item.key);
        }
    }
    let mut micros = Vec::with_capacity(samples);
    let mut events = 0usize;
    for key in &keys {
        let t = std::time::Instant::now();
        let h = history(node, key)?;
        let doc = query::custody_json(&h);
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        events += doc["events"].as_array().map_or(0, Vec::len);
    }
    micros.sort_by(f64::total_cmp);
    let pct = |p: f64| micros[((micros.len() as f64 - 1.0) * p).round() as usize];
    Ok(json!({
        "samples": samples,
        "mean_events": events as f64 / samples as f64,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "max_us": pct(1.0),
    }))
}

fn search(node: &Node, args: &SearchArgs) -> Result<(), Failure> {
    use tracemark_search::{Mode, Query};
    let mut q = Query::new(args.query.clone());
    q.mode = Mode::parse(&args.mode).unwrap_or(Mode::Auto);
    q.max_edits = args.max_edits;
    q.make = args.make.clone();
    q.model = args.model.clone();
    q.calibre = args.calibre.clone();
    q.country = args.country.clone();
    q.status = args.status.clone();
    q.any_kind = args.kind == "any";
    q.limit = args.limit;
    let s = tracemark_registry::search::open(node).map_err(|e| Failure::Internal(e.into()))?;
    let r = s
        .index
        .search(&q)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let doc = tracemark_registry::search::result_json(&s.index, &q, &r, 5);
    if args.json {
        return print_json(&doc);
    }
    println!("{} match(es) for '{}'", r.total, args.query);
    for h in doc["hits"].as_array().into_iter().flatten() {
        let d = if h["distance"] == 0 {
            String::new()
        } else {
            format!(" d={}", h["distance"])
        };
        println!(
            "  {:<10} {:<20} {:<22} {:<10} {} {} ({})",
            format!("{}{d}", text(&h["match"])),
            text(&h["item"]),
            text(&h["marking"]),
            text(&h["kind"]),
            text(&h["make"]),
            text(&h["model"]),
            text(&h["status"]),
        );
        for n in h["same_shipment"].as_array().into_iter().flatten() {
            println!(
                "      same shipment? {:<20} serial {} (offset {:+}) {}",
                text(&n["item"]),
                text(&n["serial"]),
                n["offset"].as_i64().unwrap_or(0),
                text(&n["status"])
            );
        }
    }
    if r.total > r.hits.len() {
        println!("  … {} more (use --limit)", r.total - r.hits.len());
    }
    Ok(())
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::Usage(e.to_string())
}

pub(crate) fn accounts_failure(e: accounts::AccountsError) -> Failure {
    use accounts::AccountsError as E;
    use tracemark_store::StoreError;
    match e {
        E::Store(StoreError::Duplicate(_) | StoreError::Missing(_))
        | E::Invalid(_)
        | E::Password(_)
        | E::PrivilegedService(_)
        | E::Refused(_) => Failure::Usage(e.to_string()),
        other => Failure::Internal(other.into()),
    }
}

/// The first line of a password file, without its line ending.
fn read_password_file(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("reading {}: {e}", path.display())))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

fn agency(cli: &Cli, command: &AgencyCommand) -> Result<ExitCode, Failure> {
    let mut node = open(cli)?;
    match command {
        AgencyCommand::Add {
            name,
            kind,
            holder_name,
            holder_kind,
            need_to_know,
        } => {
            let row = accounts::add_agency(
                node.store.as_mut(),
                name,
                kind,
                holder_name.as_deref(),
                holder_kind.as_deref(),
                *need_to_know,
                &SystemClock.now_rfc3339(),
            )
            .map_err(accounts_failure)?;
            println!("added agency {} ({})", row.name, row.kind);
        }
        AgencyCommand::List => {
            for a in node.store.agencies().context("listing agencies")? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.name,
                    a.kind,
                    a.holder_name.as_deref().unwrap_or("—"),
                    a.holder_kind.as_deref().unwrap_or("—"),
                    if a.need_to_know {
                        "need-to-know"
                    } else {
                        "open"
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn user(cli: &Cli, command: &UserCommand) -> Result<ExitCode, Failure> {
    let mut node = open(cli)?;
    match command {
        UserCommand::Add {
            name,
            agency,
            role,
            password_file,
        } => {
            let given = match password_file {
                Some(p) => Some(read_password_file(p)?),
                None => None,
            };
            let password = given
                .clone()
                .unwrap_or_else(tracemark_access::password::generate_password);
            let row = accounts::add_user(
                node.store.as_mut(),
                name,
                agency,
                role,
                &password,
                &SystemClock.now_rfc3339(),
            )
            .map_err(accounts_failure)?;
            println!(
                "added user {} ({}, agency {})",
                row.name, row.role, row.agency
            );
            if given.is_none() {
                println!("password: {password}   (shown once)");
            }
        }
        UserCommand::List => {
            for u in node.store.users().context("listing users")? {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.name,
                    u.agency,
                    u.role,
                    match (&u.totp_secret, u.totp_verified) {
                        (None, _) => "no second factor",
                        (Some(_), false) => "TOTP enrolment pending",
                        (Some(_), true) => "TOTP",
                    }
                );
            }
        }
        UserCommand::Totp { name } => {
            let url = accounts::enrol_totp(node.store.as_mut(), name).map_err(accounts_failure)?;
            println!("{url}");
            eprintln!("add this to an authenticator app (shown once); the first sign-in with a code finishes enrolment");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn token(cli: &Cli, command: &TokenCommand) -> Result<ExitCode, Failure> {
    let mut node = open(cli)?;
    let now = SystemClock.now_rfc3339();
    match command {
        TokenCommand::Create {
            service,
            agency,
            role,
        } => {
            let (row, secret) =
                accounts::create_token(node.store.as_mut(), service, agency, role, &now)
                    .map_err(accounts_failure)?;
            println!("{secret}");
            eprintln!(
                "token {} for service {} ({}, agency {}): shown once; send it as `Authorization: Bearer …`",
                row.id, row.service, row.role, row.agency
            );
        }
        TokenCommand::Revoke { id } => {
            if !node.store.revoke_token(id, &now).context("revoking")? {
                return Err(Failure::Usage(format!(
                    "no live token with id '{}'",
                    id.chars().take(40).collect::<String>()
                )));
            }
            println!("revoked token {id}");
        }
        TokenCommand::List => {
            for t in node.store.tokens().context("listing tokens")? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.service,
                    t.agency,
                    t.role,
                    t.revoked_at
                        .map(|r| format!("revoked {r}"))
                        .unwrap_or_else(|| "live".into())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Items in the demonstration registry loaded by `serve --demo`.
const DEMO_ITEMS: u64 = demo::DEFAULT_ITEMS;

/// `tracemark migrate`: brings the schema to this version's and says which it is.
fn migrate(cli: &Cli) -> Result<(), Failure> {
    let at = location(cli)?;
    match &at.database {
        Some(url) => {
            let m =
                tracemark_store::PgStore::migrate(url).map_err(|e| Failure::Internal(e.into()))?;
            if m.from == m.to {
                println!("schema version {} (up to date) at {}", m.to, at.describe());
            } else {
                println!(
                    "schema version {} (migrated from {}) at {}",
                    m.to,
                    m.from,
                    at.describe()
                );
            }
        }
        None => {
            // The embedded store applies its migrations whenever it is opened.
            drop(Node::open_at(&at)?);
            println!(
                "schema version {} (up to date) at {}",
                tracemark_store::sqlite::SCHEMA_VERSION,
                at.describe()
            );
        }
    }
    Ok(())
}

fn serve(
    cli: &Cli,
    addr: std::net::SocketAddr,
    tls: Option<tracemark_http::TlsFiles>,
    demo: bool,
    policies: &[PathBuf],
) -> Result<(), Failure> {
    let at = location(cli)?;
    // A bad certificate or key is told before anything else is done (a demo loaded).
    if let Some(files) = &tls {
        files.load().map_err(|e| Failure::Usage(e.to_string()))?;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRACEMARK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if demo {
        let mut node = demo::open_or_init(&at)?;
        if node.store.ledger_size().context("ledger size")? > 0 {
            eprintln!("--demo: the store already holds records; serving it as it is");
        } else {
            let loaded = demo::load(&mut node, DEMO_ITEMS, 1)?;
            demo::summarise(&loaded);
        }
        if let Some(path) = demo::organisation(&mut node)? {
            eprintln!(
                "demo: accounts for every role, with their passwords, in {}",
                path.display()
            );
        }
    } else if !at.store_exists()? {
        return Err(Failure::Usage(format!(
            "no store at {}: run `tracemark init --state <CC>` first (or `serve --demo`)",
            at.describe()
        )));
    }
    let mut config = tracemark_http::ServerConfig::new(cli.data.clone());
    config.database = cli.database.clone();
    config.addr = addr;
    config.tls = tls;
    for p in policies {
        let text = std::fs::read_to_string(p)
            .map_err(|e| Failure::Usage(format!("reading {}: {e}", p.display())))?;
        config.auth.extra_policies.push(text);
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let server = tracemark_http::Server::bind(config)
            .await
            .map_err(|e| Failure::Usage(format!("{e:#}")))?;
        let bound = server.local_addr().map_err(Failure::Internal)?;
        let scheme = server.scheme();
        eprintln!(
            "serving {scheme}://{bound}/api/v1/ (OpenAPI: /api/v1/openapi.json); Ctrl-C stops"
        );
        // The line a newcomer needs: where the officers' web application is.
        eprintln!("the web application: open {scheme}://{bound}/ in a browser and sign in");
        server.run(shutdown).await.map_err(Failure::Internal)
    })?;
    Ok(())
}

fn history(node: &Node, key: &str) -> Result<query::ItemHistory, Failure> {
    query::history(node, key).map_err(|e| match e {
        query::QueryError::NotFound(_) => Failure::Rejected(e.to_string()),
        other => Failure::Internal(other.into()),
    })
}

fn ledger(cli: &Cli, command: &LedgerCommand) -> Result<ExitCode, Failure> {
    let node = open(cli)?;
    let proof_failure = |e: proofs::ProofError| match e {
        proofs::ProofError::Store(e) => Failure::Internal(e.into()),
        other => Failure::Usage(other.to_string()),
    };
    match command {
        LedgerCommand::Key => println!("{}", node.info.verifier_key),
        LedgerCommand::Checkpoint => {
            let cp = node
                .store
                .latest_checkpoint()
                .context("reading the checkpoint")?
                .ok_or_else(|| anyhow::anyhow!("the store has no checkpoint"))?;
            print!("{}", cp.note);
        }
        LedgerCommand::Leaf { index, .. } => {
            let leaf = proofs::leaf(&node, *index).map_err(proof_failure)?;
            print_json(&json!({
                "leafIdx": leaf.index,
                "leafHash": b64(&leaf.leaf_hash),
                "data": b64(&leaf.data),
            }))?;
        }
        LedgerCommand::Proof { index, size, .. } => {
            let p = proofs::inclusion(&node, *index, *size).map_err(proof_failure)?;
            print_json(&json!({
                "leafIdx": p.index,
                "treeSize": p.size,
                "leafHash": b64(&p.leaf_hash),
                "proof": p.proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                "root": b64(&p.root),
            }))?;
        }
        LedgerCommand::Consistency { from, to, .. } => {
            let p = proofs::consistency(&node, *from, *to).map_err(proof_failure)?;
            print_json(&json!({
                "size1": p.size1,
                "size2": p.size2,
                "root1": b64(&p.root1),
                "root2": b64(&p.root2),
                "proof": p.proof.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            }))?;
        }
        LedgerCommand::Verify { against, json } => {
            let against_text = match against {
                Some(p) => Some(read_checkpoint_file(p)?),
                None => None,
            };
            let report = verify::verify(&node, against_text.as_deref())
                .map_err(|e| Failure::Internal(e.into()))?;
            if *json {
                print_json(&serde_json::to_value(&report).context("report")?)?;
            } else if report.ok {
                println!(
                    "ok: {} records, {} checkpoints, {} items, {} events; root {}{}{}",
                    report.leaves,
                    report.checkpoints,
                    report.items,
                    report.events,
                    report.root,
                    report
                        .against_size
                        .map(|s| format!("; consistent with the checkpoint at size {s}"))
                        .unwrap_or_default(),
                    if report.trace_records > 0 {
                        format!(
                            "; trace log: {} records, {} traces",
                            report.trace_records, report.traces
                        )
                    } else {
                        String::new()
                    }
                );
            }
            if let Some(m) = report.error {
                return Err(Failure::Rejected(format!("verification failed: {m}")));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_checkpoint_file(p: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(p).map_err(|e| Failure::Usage(format!("{}: {e}", p.display())))
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn actor(v: &serde_json::Value) -> String {
    if v.is_null() {
        return "—".into();
    }
    let mut s = text(&v["name"]);
    if !v["country"].is_null() {
        s.push_str(&format!(" ({})", text(&v["country"])));
    }
    s
}

fn print_item(v: &serde_json::Value) {
    println!(
        "{}  [{}]  {}",
        text(&v["key"]),
        text(&v["kind"]),
        text(&v["internal_id"])
    );
    for (label, k) in [
        ("type", "type"),
        ("make", "make"),
        ("model", "model"),
        ("calibre", "calibre"),
        ("made in", "country_of_manufacture"),
        ("year", "year_of_manufacture"),
        ("part of", "parent"),
        ("quantity", "quantity"),
    ] {
        if !v[k].is_null() {
            println!("  {label:<10} {}", text(&v[k]));
        }
    }
    println!("  {:<10} {}", "status", text(&v["status"]));
    println!("  {:<10} {}", "holder", actor(&v["holder"]));
    let parts: Vec<String> = v["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    if !parts.is_empty() {
        println!("  {:<10} {}", "parts", parts.join(", "));
    }
    println!("  markings:");
    for m in v["markings"].as_array().into_iter().flatten() {
        println!(
            "    {:<14} {:<20} {} {}",
            text(&m["kind"]),
            text(&m["text"]),
            if m["component"].is_null() {
                String::new()
            } else {
                format!("on {}", text(&m["component"]))
            },
            if m["legibility"] == "clear" {
                String::new()
            } else {
                format!("({})", text(&m["legibility"]))
            }
        );
    }
}

fn print_custody(v: &serde_json::Value) {
    println!(
        "{}  status {}  holder {}",
        text(&v["item"]),
        text(&v["status"]),
        actor(&v["holder"])
    );
    for e in v["events"].as_array().into_iter().flatten() {
        let void = if e["void"] == true { "  (void)" } else { "" };
        println!(
            "  #{:<8} {:<12} {:<16} {} → {}{void}",
            text(&e["seq"]),
            text(&e["date"]),
            text(&e["type"]),
            actor(&e["from"]),
            actor(&e["to"]),
        );
    }
    println!("  last legal holder: {}", actor(&v["last_legal_holder"]));
    if !v["diversion"].is_null() {
        println!("  point of diversion: {}", text(&v["diversion"]["summary"]));
    }
}

//! `tracemark import`: JSON Lines (the interchange format) and register exports (CSV and
//! spreadsheets, `--format csv`), the validation report, progress, and the JSON document of
//! the automation contract.

use crate::{open, print_json, Failure};
use clap::Args;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tracemark_registry::import::{ImportOptions, ImportReport, DEFAULT_BATCH_RECORDS};
use tracemark_registry::register::{self, Category, RegisterOptions, RegisterReport, RowProblem};
use tracemark_registry::SystemClock;

/// Warnings printed one by one without `--json`; the report files and `--json` list them all.
const WARNINGS_SHOWN: usize = 20;

#[derive(Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `jsonl` (interchange records) or `csv` (a register export: CSV, TSV, or a spreadsheet
    /// .xlsx/.xls/.xlsb/.ods). Default: from the first file's extension, else jsonl.
    #[arg(long, value_parser = ["jsonl", "csv"])]
    format: Option<String>,
    /// Commit the valid records (rows) and write the rejected ones to --rejects.
    #[arg(long, requires = "rejects")]
    accept_valid: bool,
    /// Where rejected lines (rows, with the file's header) go, to correct and import again.
    #[arg(long, requires = "accept_valid")]
    rejects: Option<PathBuf>,
    /// Check everything and report; write nothing.
    #[arg(long)]
    check: bool,
    /// Validation report to write: `.html` for a page, anything else for CSV. Repeatable.
    #[arg(long)]
    report: Vec<PathBuf>,
    /// Register: column mapping file (TOML, or JSON when the name ends in .json).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Register: write the mapping used (detected columns included) to this TOML file.
    #[arg(long)]
    write_mapping: Option<PathBuf>,
    /// Register (CSV): the encoding (utf-8, utf-16le, windows-1252, windows-1251…); detected
    /// when absent.
    #[arg(long)]
    encoding: Option<String>,
    /// Register (CSV): the separator, one character (`,` `;` `|` or `tab`); detected when absent.
    #[arg(long)]
    delimiter: Option<String>,
    /// Register: the order of day, month and year in dates such as 03/04/2001: DMY, MDY or YMD.
    #[arg(long)]
    date_format: Option<String>,
    /// Register (spreadsheet): the sheet to read (default: the first).
    #[arg(long)]
    sheet: Option<String>,
    /// No progress on stderr.
    #[arg(long)]
    quiet: bool,
    #[arg(long)]
    json: bool,
    /// Records per transaction (each with a signed checkpoint).
    #[arg(long, default_value_t = DEFAULT_BATCH_RECORDS, hide = true)]
    batch: usize,
}

fn is_register(args: &ImportArgs) -> bool {
    match args.format.as_deref() {
        Some(f) => f == "csv",
        None => args.files.first().is_some_and(|f| {
            let ext = f
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            matches!(
                ext.as_str(),
                "csv" | "tsv" | "txt" | "xlsx" | "xlsm" | "xlsb" | "xls" | "ods"
            )
        }),
    }
}

fn register_only(args: &ImportArgs) -> Option<&'static str> {
    [
        (args.mapping.is_some(), "--mapping"),
        (args.write_mapping.is_some(), "--write-mapping"),
        (args.encoding.is_some(), "--encoding"),
        (args.delimiter.is_some(), "--delimiter"),
        (args.date_format.is_some(), "--date-format"),
        (args.sheet.is_some(), "--sheet"),
    ]
    .into_iter()
    .find(|(given, _)| *given)
    .map(|(_, name)| name)
}

pub(crate) fn recorded_by() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

pub fn run(cli: &crate::Cli, args: &ImportArgs) -> Result<ExitCode, Failure> {
    for f in &args.files {
        if !f.is_file() {
            return Err(Failure::Usage(format!("{}: no such file", f.display())));
        }
    }
    if is_register(args) {
        return run_register(cli, args);
    }
    if let Some(flag) = register_only(args) {
        return Err(Failure::Usage(format!(
            "{flag} is for register exports (--format csv), not JSON Lines"
        )));
    }
    let mut node = open(cli)?;
    let opts = ImportOptions {
        accept_valid: args.accept_valid,
        rejects: args.rejects.clone(),
        recorded_by: recorded_by(),
        batch_records: args.batch,
        dry_run: args.check,
        progress: crate::progress::observer(args.quiet),
    };
    let report = tracemark_registry::import::import(&mut node, &args.files, &opts, &SystemClock)
        .map_err(|e| Failure::Internal(e.into()))?;
    if report.committed {
        // Keep the search index current with what was just accepted.
        tracemark_registry::search::open(&node).map_err(|e| Failure::Internal(e.into()))?;
    }
    write_reports(&args.report, &jsonl_as_register(&report))?;
    if args.json {
        let line = |e: &tracemark_registry::import::LineError| json!({"file": e.file, "line": e.line, "field": e.field, "message": e.message});
        print_json(&json!({
            "accepted": report.accepted,
            "rejected": report.rejected,
            "duplicates": report.duplicates,
            "errors": report.errors.iter().map(line).collect::<Vec<_>>(),
            "warnings": report.warnings.iter().map(line).collect::<Vec<_>>(),
            "warnings_total": report.warnings_total,
            "committed": report.committed,
            "ledger_size": report.ledger_size,
        }))?;
    } else {
        for e in &report.errors {
            let field = if e.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.field)
            };
            eprintln!("{}:{}: {field}{}", e.file, e.line, e.message);
        }
        if report.warnings_total > 0 {
            eprintln!(
                "{} unknown field(s) kept as given (see --json)",
                report.warnings_total
            );
        }
        if !report.errors.is_empty() && !args.accept_valid {
            eprintln!(
                "error: {} invalid record(s); nothing was imported (fix them, or use --accept-valid --rejects FILE)",
                report.rejected
            );
        } else if args.check {
            println!(
                "checked: {} record(s) would be accepted, {} rejected, {} already recorded; nothing was written",
                report.accepted, report.rejected, report.duplicates
            );
        } else {
            println!(
                "accepted {}, rejected {}, duplicates {}; ledger size {}",
                report.accepted, report.rejected, report.duplicates, report.ledger_size
            );
        }
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A JSON Lines import's problems in the register report's shape, so `--report` works for
/// both formats (the row is the line).
fn jsonl_as_register(r: &ImportReport) -> RegisterReport {
    let problem = |e: &tracemark_registry::import::LineError, severity, category| RowProblem {
        file: e.file.clone(),
        row: e.line as u64,
        column: None,
        header: None,
        severity,
        category,
        field: e.field.clone(),
        message: e.message.clone(),
        suggestion: None,
        key: None,
    };
    let mut problems: Vec<RowProblem> = r
        .errors
        .iter()
        .map(|e| problem(e, "error", Category::Validation))
        .collect();
    problems.extend(
        r.warnings
            .iter()
            .map(|e| problem(e, "warning", Category::Conversion)),
    );
    RegisterReport {
        files: Vec::new(),
        rows: r.accepted + r.rejected + r.duplicates,
        rows_rejected: r.rejected,
        accepted: r.accepted,
        duplicates: r.duplicates,
        problems,
        committed: r.committed,
        ledger_size: r.ledger_size,
    }
}

fn write_reports(paths: &[PathBuf], report: &RegisterReport) -> Result<(), Failure> {
    for p in paths {
        let html = p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        let file = std::fs::File::create(p)
            .map_err(|e| Failure::Usage(format!("--report {}: {e}", p.display())))?;
        let out = std::io::BufWriter::new(file);
        let written = if html {
            register::report::write_html(report, out)
        } else {
            register::report::write_csv(report, out)
        };
        written.map_err(|e| Failure::Usage(format!("--report {}: {e}", p.display())))?;
    }
    Ok(())
}

fn read_options(args: &ImportArgs) -> Result<tracemark_migrate::ReadOptions, Failure> {
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Failure::Usage(format!(
                "--delimiter '{d}': give one character such as , ; | or the word tab"
            )))
        }
    };
    let date_format = match args.date_format.as_deref() {
        None => None,
        Some(f) => Some(
            f.parse::<tracemark_migrate::DateFormat>()
                .map_err(|e| Failure::Usage(format!("--date-format: {e}")))?,
        ),
    };
    Ok(tracemark_migrate::ReadOptions {
        delimiter,
        encoding: args.encoding.clone(),
        date_format,
        sheet: args.sheet.clone(),
    })
}

fn run_register(cli: &crate::Cli, args: &ImportArgs) -> Result<ExitCode, Failure> {
    let mapping = match &args.mapping {
        None => None,
        Some(p) => Some(
            tracemark_migrate::Mapping::load(p)
                .map_err(|e| Failure::Usage(format!("--mapping {}: {e}", p.display())))?,
        ),
    };
    if args.write_mapping.is_some() && args.files.len() > 1 {
        return Err(Failure::Usage(
            "--write-mapping takes one register file at a time".into(),
        ));
    }
    let opts = RegisterOptions {
        mapping,
        read: read_options(args)?,
        accept_valid: args.accept_valid,
        rejects: args.rejects.clone(),
        recorded_by: recorded_by(),
        batch_records: args.batch,
        check_only: args.check,
        progress: crate::progress::observer(args.quiet),
    };
    let mut node = open(cli)?;
    let report = register::import_register(&mut node, &args.files, &opts, &SystemClock)
        .map_err(|e| Failure::Internal(e.into()))?;
    if report.committed {
        tracemark_registry::search::open(&node).map_err(|e| Failure::Internal(e.into()))?;
    }
    write_reports(&args.report, &report)?;
    if let (Some(p), Some(f)) = (&args.write_mapping, report.files.first()) {
        std::fs::write(p, &f.mapping_toml)
            .map_err(|e| Failure::Usage(format!("--write-mapping {}: {e}", p.display())))?;
    }
    if args.json {
        print_json(&register_json(&report))?;
    } else {
        print_register(&report, args);
    }
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn problem_json(p: &RowProblem) -> Value {
    json!({
        "file": p.file,
        "line": p.row,
        "row": p.row,
        "column": p.column,
        "header": p.header,
        "field": p.field,
        "category": p.category,
        "message": p.message,
        "suggestion": p.suggestion,
        "key": p.key,
    })
}

/// The contract's import document (`accepted`, `rejected`, `duplicates`, `errors[]` with
/// `line`, `field`, `message`), where `line` is the register's row and `rejected` counts
/// rows; with the row's column, a suggested fix and the per-file summary added.
fn register_json(r: &RegisterReport) -> Value {
    let warnings: Vec<Value> = r.warnings().map(problem_json).collect();
    json!({
        "accepted": r.accepted,
        "rejected": r.rows_rejected,
        "duplicates": r.duplicates,
        "errors": r.errors().map(problem_json).collect::<Vec<_>>(),
        "warnings_total": warnings.len(),
        "warnings": warnings,
        "rows": r.rows,
        "files": r.files,
        "committed": r.committed,
        "ledger_size": r.ledger_size,
    })
}

fn location(p: &RowProblem) -> String {
    let mut s = format!("{}: row {}", p.file, p.row);
    match (&p.column, &p.header) {
        (Some(l), Some(h)) => s.push_str(&format!(", column {l} \"{h}\"")),
        (Some(l), None) => s.push_str(&format!(", column {l}")),
        _ => {}
    }
    if !p.field.is_empty() && p.column.is_none() {
        s.push_str(&format!(": {}", p.field));
    }
    s
}

fn print_register(r: &RegisterReport, args: &ImportArgs) {
    for p in r.errors() {
        let fix = p
            .suggestion
            .as_deref()
            .map(|s| format!(" (fix: {s})"))
            .unwrap_or_default();
        eprintln!("{}: {}{fix}", location(p), p.message);
    }
    let warnings: Vec<&RowProblem> = r.warnings().collect();
    for p in warnings.iter().take(WARNINGS_SHOWN) {
        eprintln!("{}: warning: {}", location(p), p.message);
    }
    if warnings.len() > WARNINGS_SHOWN {
        eprintln!(
            "… {} more warning(s){}",
            warnings.len() - WARNINGS_SHOWN,
            if args.report.is_empty() {
                " (write them all with --report report.html)"
            } else {
                " (see the report)"
            }
        );
    }
    let refused = r.rows_rejected;
    if r.errors().any(|p| p.category == Category::File) {
        eprintln!("error: nothing was imported: a file cannot be read as a register (see above)");
    } else if r.has_errors() && !args.accept_valid {
        eprintln!(
            "error: {} row(s) refused; nothing was imported (fix them, or use --accept-valid --rejects FILE)",
            refused.max(1)
        );
    } else if args.check {
        println!(
            "checked {} row(s): {} record(s) would be accepted, {} row(s) refused, {} record(s) already recorded; nothing was written",
            r.rows, r.accepted, refused, r.duplicates
        );
    } else {
        println!(
            "{} row(s): accepted {} record(s), rejected {} row(s), duplicates {}; ledger size {}",
            r.rows, r.accepted, refused, r.duplicates, r.ledger_size
        );
    }
    for p in &args.report {
        println!("report written to {}", display(p));
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

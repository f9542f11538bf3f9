//! `tracemark export`: glue over `tracemark-export`. Quiet (nothing on stdout but the JSON
//! Lines when they go there), errors one line on stderr; exit 2 for usage errors (a format
//! without the output it needs, an output that cannot be created), 3 for internal ones.

use super::{open, Cli, Failure};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use tracemark_export::{ExportError, Table, TableFormat};

#[derive(Args)]
pub struct ExportArgs {
    /// jsonl: every ledger record as recorded, in ledger order (re-importable);
    /// csv, parquet: the analyst tables items, markings and events.
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv", "parquet"])]
    format: String,
    /// jsonl: the file to write (default: standard output); csv and parquet: the folder for
    /// the table files (created if needed).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only this table (csv and parquet; default: all three).
    #[arg(long, value_parser = ["items", "markings", "events"])]
    table: Option<String>,
}

fn failure(e: ExportError) -> Failure {
    match e {
        ExportError::Output { .. } => Failure::Usage(e.to_string()),
        other => Failure::Internal(other.into()),
    }
}

pub fn run(cli: &Cli, args: &ExportArgs) -> Result<(), Failure> {
    let format = match args.format.as_str() {
        "csv" => Some(TableFormat::Csv),
        "parquet" => Some(TableFormat::Parquet),
        _ => None,
    };
    let Some(format) = format else {
        if args.table.is_some() {
            return Err(Failure::Usage(
                "--table applies to --format csv and parquet; jsonl exports every record".into(),
            ));
        }
        return jsonl(cli, args.out.as_ref());
    };
    let Some(dir) = &args.out else {
        return Err(Failure::Usage(format!(
            "--format {} writes one file per table: give the folder with --out DIR",
            args.format
        )));
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::Usage(format!(
            "--out {}: not a folder (--format {} writes one file per table into a folder)",
            dir.display(),
            args.format
        )));
    }
    let tables: Vec<Table> = args
        .table
        .as_deref()
        .and_then(Table::parse)
        .into_iter()
        .collect();
    let node = open(cli)?;
    tracemark_export::export_tables(node.store.as_ref(), format, dir, &tables).map_err(failure)?;
    Ok(())
}

fn jsonl(cli: &Cli, out: Option<&PathBuf>) -> Result<(), Failure> {
    let node = open(cli)?;
    let store = node.store.as_ref();
    match out {
        None => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match tracemark_export::export_jsonl(store, &mut w) {
                Ok(_) => Ok(()),
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                Err(e) if e.is_broken_pipe() => Ok(()),
                Err(e) => Err(failure(e)),
            }
        }
        Some(path) => {
            if path.is_dir() {
                return Err(Failure::Usage(format!(
                    "--out {}: is a folder; --format jsonl writes one file",
                    path.display()
                )));
            }
            // Written beside the target and renamed when complete: a failed export never
            // leaves a truncated file under the real name.
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "export.jsonl".into());
            let tmp = path.with_file_name(format!(".{name}.partial"));
            let file = std::fs::File::create(&tmp)
                .map_err(|e| Failure::Usage(format!("cannot create {}: {e}", path.display())))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
            let result = tracemark_export::export_jsonl(store, &mut w)
                .map_err(failure)
                .and_then(|_| {
                    let file = w.into_inner().map_err(|e| {
                        anyhow::Error::from(e.into_error())
                            .context(format!("writing {}", path.display()))
                    })?;
                    file.sync_all()
                        .with_context(|| format!("writing {}", path.display()))?;
                    std::fs::rename(&tmp, path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    Ok(())
                });
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
    }
}

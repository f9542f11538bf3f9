//! `POST /api/v1/registers`: a register export (CSV, TSV or a spreadsheet) uploaded as it is,
//! converted and imported like `tracemark import --format csv`, answered with the report.
//!
//! The file travels as the raw request body; its name (`filename`, for the format and for
//! the report) and the reading options travel in the query string, so one `curl
//! --data-binary @register.xlsx` does it. The column mapping is detected from the headers
//! unless a mapping file's text (TOML, or JSON) is given as `mapping`; the report lists the
//! columns as they were read, so a clerk can check the detection before committing
//! (`check=true` writes nothing).

use crate::api::{install_refreshed_index, receive_upload, unprocessable_report};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::schema;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tracemark_access::policy::{Action, Resource};
use tracemark_registry::import::DEFAULT_BATCH_RECORDS;
use tracemark_registry::register::{self, RegisterOptions, RegisterReport};
use utoipa::IntoParams;

/// The register file formats, by the extension of `filename`.
const SHEET_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];
const TEXT_EXTENSIONS: [&str; 3] = ["csv", "tsv", "txt"];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterParams {
    /// The file's name as the clerk knows it (e.g. `armoury-2019.xlsx`): its extension says
    /// how to read it (.csv, .tsv, .txt, .xlsx, .xlsm, .xlsb, .xls, .ods), and the report
    /// names it.
    pub filename: String,
    /// Commit the valid rows even if some are refused (default: all or nothing).
    pub accept_valid: Option<bool>,
    /// Check and report only; write nothing.
    pub check: Option<bool>,
    /// CSV: the encoding (utf-8, utf-16le, windows-1252, windows-1251…); detected when absent.
    pub encoding: Option<String>,
    /// CSV: the separator, one character (`,` `;` `|`) or `tab`; detected when absent.
    pub delimiter: Option<String>,
    /// The order of day, month and year in dates such as 03/04/2001: DMY, MDY or YMD.
    pub date_format: Option<String>,
    /// Spreadsheet: the sheet to read (default: the first).
    pub sheet: Option<String>,
    /// A column mapping file's text (TOML; JSON when it starts with `{`), as `tracemark
    /// import --mapping` takes; detected from the headers when absent.
    pub mapping: Option<String>,
}

/// The file's extension, lower-cased, when it is one a register can have.
fn register_extension(filename: &str) -> Result<String, ApiError> {
    let name = filename.trim();
    if name.is_empty() || name.len() > 255 || name.contains(['/', '\\', '\0']) {
        return Err(ApiError::bad_request(
            "filename must be a plain file name (no folders), e.g. register.csv",
        ));
    }
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if SHEET_EXTENSIONS.contains(&ext.as_str()) || TEXT_EXTENSIONS.contains(&ext.as_str()) {
        Ok(ext)
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            schema::ErrorCode::UnsupportedMediaType,
            format!(
                "filename '{}': a register is a .csv, .tsv or .txt file or a spreadsheet (.xlsx, .xlsm, .xlsb, .xls, .ods); interchange records (JSON Lines) go to POST /api/v1/records",
                name.chars().take(80).collect::<String>()
            ),
        ))
    }
}

impl RegisterParams {
    fn read_options(&self) -> Result<tracemark_migrate::ReadOptions, ApiError> {
        let delimiter = match self.delimiter.as_deref() {
            None | Some("") => None,
            Some("tab" | "\\t" | "\t") => Some(b'\t'),
            Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
            Some(d) => {
                return Err(ApiError::bad_request(format!(
                    "delimiter '{}': give one character such as , ; | or the word tab",
                    d.chars().take(20).collect::<String>()
                )))
            }
        };
        let date_format = match self.date_format.as_deref() {
            None | Some("") => None,
            Some(f) => Some(
                f.parse::<tracemark_migrate::DateFormat>()
                    .map_err(|e| ApiError::bad_request(format!("date_format: {e}")))?,
            ),
        };
        Ok(tracemark_migrate::ReadOptions {
            delimiter,
            encoding: self.encoding.clone().filter(|e| !e.trim().is_empty()),
            date_format,
            sheet: self.sheet.clone().filter(|s| !s.trim().is_empty()),
        })
    }

    fn mapping(&self) -> Result<Option<tracemark_migrate::Mapping>, ApiError> {
        let Some(text) = self.mapping.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let parsed = if text.trim_start().starts_with('{') {
            tracemark_migrate::Mapping::from_json(text)
        } else {
            tracemark_migrate::Mapping::from_toml(text)
        };
        parsed
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("mapping: {e}")))
    }
}

/// Import a register export (CSV, TSV or a spreadsheet) as it is.
///
/// Rows are converted to interchange records (columns detected from the headers, or as
/// `mapping` says) and imported with the registry's rules. All or nothing by default; the
/// report names every refused row by row number, column letter and header, with a fix.
/// Importing the same file again adds nothing.
#[utoipa::path(
    post,
    path = "/api/v1/registers",
    tag = "registry",
    params(RegisterParams),
    request_body(
        description = "The register file's bytes, as saved (any encoding; the spreadsheet formats as they are)",
        content(
            (String = "text/csv"),
            (String = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "Every row accepted (or already present), or checked with check=true", body = schema::RegisterImportReport),
        (status = 422, description = "Some rows refused: the report, with an `error` member; nothing committed unless `accept_valid=true`", body = schema::RegisterImportReport),
        (status = 400, description = "A malformed query string (filename, delimiter, date_format, mapping)", body = schema::ErrorBody),
        (status = 413, description = "The body is too large", body = schema::ErrorBody),
        (status = 415, description = "The file name is not a register's", body = schema::ErrorBody),
    )
)]
pub async fn import_register(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RegisterParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let check_only = params.check.unwrap_or(false);
    authorize_register(&state, &caller, check_only).await?;
    let ext = register_extension(&params.filename)?;
    // A malformed option is refused before the body is read.
    params.read_options()?;
    params.mapping()?;
    let upload = receive_upload(&state, &headers, body, &format!(".{ext}")).await?;
    let doc = register_upload(&state, &caller, &params, upload).await?;
    if doc.errors.is_empty() {
        return Ok(Json(doc).into_response());
    }
    let message = if doc.committed {
        format!(
            "{} row(s) refused; the records of the other rows were committed (accept_valid)",
            doc.rejected
        )
    } else {
        format!(
            "{} row(s) refused; nothing was imported (fix them, or send accept_valid=true)",
            doc.rejected
        )
    };
    Err(unprocessable_report(message, &doc))
}

/// The policy decision (and audit entry) of a register import by `caller`: `POST
/// /api/v1/registers` and the web app's import page ask the same question.
pub(crate) async fn authorize_register(
    state: &AppState,
    caller: &Caller,
    check_only: bool,
) -> Result<(), ApiError> {
    state
        .authorize(
            caller,
            Action::Record,
            &Resource::Registry,
            if check_only {
                "register check"
            } else {
                "register import"
            },
            "",
        )
        .await
}

/// The extension `filename` must have for a register (`.csv`, `.xlsx`…), or the API's refusal.
pub(crate) fn register_file_extension(filename: &str) -> Result<String, ApiError> {
    register_extension(filename)
}

/// Imports the register in `upload` (a file in the data folder named with its extension,
/// removed when the import is over) for `caller`, whom [`authorize_register`] allowed, as
/// `params` say: converted, validated and committed by the registry, the search index
/// refreshed, seizure alerts sent. The report is the API's.
pub(crate) async fn register_upload(
    state: &AppState,
    caller: &Caller,
    params: &RegisterParams,
    upload: tempfile::NamedTempFile,
) -> Result<schema::RegisterImportReport, ApiError> {
    let check_only = params.check.unwrap_or(false);
    let read = params.read_options()?;
    let mapping = params.mapping()?;
    let shown_name = params.filename.trim().to_owned();
    let recorded_by = format!("{}@{}", caller.principal.id(), caller.principal.agency);
    let accept_valid = params.accept_valid.unwrap_or(false);
    let clock = state.clock();
    let (report, refreshed, seized) = state
        .writer()
        .run(move |node| {
            let opts = RegisterOptions {
                mapping,
                read,
                accept_valid,
                // Refused rows are in the report; the server keeps no file of them.
                rejects: None,
                recorded_by,
                batch_records: DEFAULT_BATCH_RECORDS,
                check_only,
                progress: None,
            };
            let files = vec![upload.path().to_path_buf()];
            let before = node.store.ledger_size().unwrap_or(u64::MAX);
            let report = register::import_register(node, &files, &opts, clock.as_ref());
            drop(upload);
            let report = report?;
            let seized = if report.committed {
                crate::alerts::seized_in_ledger(node, before, report.ledger_size)
            } else {
                Vec::new()
            };
            let refreshed = report
                .committed
                .then(|| tracemark_registry::search::open(node));
            Ok::<_, register::RegisterError>((report, refreshed, seized))
        })
        .await?
        .map_err(|e| ApiError::internal(format!("register import: {e}")))?;
    install_refreshed_index(state, refreshed, report.ledger_size)?;
    // Seizures of items another agency reported lost or stolen: that agency is told now.
    crate::alerts::seizures(state, caller, seized).await?;
    Ok(report_document(report, &shown_name))
}

/// The report, naming the file as the client did (not the server's upload file).
fn report_document(report: RegisterReport, shown_name: &str) -> schema::RegisterImportReport {
    let problem = |p: &register::RowProblem| schema::RegisterProblem {
        file: shown_name.to_owned(),
        row: p.row,
        column: p.column.clone(),
        header: p.header.clone(),
        category: p.category.as_str().to_owned(),
        field: p.field.clone(),
        message: p.message.clone(),
        suggestion: p.suggestion.clone(),
        key: p.key.clone(),
    };
    let errors: Vec<_> = report.errors().map(problem).collect();
    let warnings: Vec<_> = report.warnings().map(problem).collect();
    let files = report
        .files
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
            v["file"] = shown_name.into();
            v["mapping_toml"] = f.mapping_toml.clone().into();
            v
        })
        .collect();
    schema::RegisterImportReport {
        accepted: report.accepted,
        rejected: report.rows_rejected,
        duplicates: report.duplicates,
        rows: report.rows,
        warnings_total: warnings.len() as u64,
        errors,
        warnings,
        files,
        committed: report.committed,
        ledger_size: report.ledger_size,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_file_names() {
        assert_eq!(register_extension("Armoury 2019.XLSX").unwrap(), "xlsx");
        assert_eq!(register_extension("r.csv").unwrap(), "csv");
        for bad in ["", "../r.csv", "a/b.csv", "r.jsonl", "r", "c:\\r.csv"] {
            assert!(register_extension(bad).is_err(), "{bad}");
        }
    }
}

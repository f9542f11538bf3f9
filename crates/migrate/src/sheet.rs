//! Spreadsheet registers (.xlsx, .xlsm, .xlsb, .xls, .ods) through `calamine`. The sheet is
//! loaded whole (calamine has no streaming reader for every format). Formulas are flagged with
//! their cached value; merged cells are reported where calamine exposes them (.xlsx, .xls).

use crate::csvsrc::tally;
use crate::mapping::{detect_mapping, same_header, Field, Mapping};
use crate::normalize::fold;
use crate::resolve::resolve;
use crate::row::Cell;
use crate::{column_letter, ConvertError, Converted, Problem, ReadOptions, SourceFormat, Summary};
use calamine::{Data, Dimensions, Range, Reader, Sheets};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// How many rows at the top of a sheet may be titles above the header.
const HEADER_SEARCH_ROWS: usize = 10;

struct Loaded {
    format: SourceFormat,
    sheet: String,
    others: Vec<String>,
    range: Range<Data>,
    formulas: Range<String>,
    merges: Vec<Dimensions>,
}

fn unreadable(message: String) -> ConvertError {
    ConvertError::file(
        1,
        None,
        message,
        "open the file in a spreadsheet program and save it again as .xlsx (or export it as CSV)",
    )
}

fn load(path: &Path, opts: &ReadOptions) -> Result<Loaded, ConvertError> {
    let mut wb = calamine::open_workbook_auto(path)
        .map_err(|e| unreadable(format!("the file cannot be read as a spreadsheet: {e}")))?;
    let format = match &wb {
        Sheets::Xlsx(_) => SourceFormat::Xlsx,
        Sheets::Xlsb(_) => SourceFormat::Xlsb,
        Sheets::Xls(_) => SourceFormat::Xls,
        Sheets::Ods(_) => SourceFormat::Ods,
    };
    let names = wb.sheet_names();
    let Some(first) = names.first() else {
        return Err(unreadable("the workbook has no sheet".to_owned()));
    };
    let sheet = match &opts.sheet {
        None => first.clone(),
        Some(wanted) => names
            .iter()
            .find(|n| *n == wanted)
            .or_else(|| names.iter().find(|n| fold(n) == fold(wanted)))
            .cloned()
            .ok_or_else(|| {
                ConvertError::file(
                    1,
                    None,
                    format!("the workbook has no sheet named \"{wanted}\""),
                    format!(
                        "name one of its sheets: {}",
                        names
                            .iter()
                            .map(|n| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
    };
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| unreadable(format!("sheet \"{sheet}\" cannot be read: {e}")))?;
    // Formulas and merged regions are extras: a failure to read them is not fatal.
    let formulas = wb.worksheet_formula(&sheet).unwrap_or_default();
    let merges = match &mut wb {
        Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(&sheet).unwrap_or_default(),
        Sheets::Xls(x) => x.merge_cells_by_sheet_name(&sheet).unwrap_or_default(),
        Sheets::Xlsb(_) | Sheets::Ods(_) => Vec::new(),
    };
    let others = names.into_iter().filter(|n| *n != sheet).collect();
    Ok(Loaded {
        format,
        sheet,
        others,
        range,
        formulas,
        merges,
    })
}

/// A cell's value as text, as the register shows it.
fn cell_text(d: &Data) -> (String, bool, Option<String>) {
    match d {
        Data::Empty => (String::new(), false, None),
        Data::String(s) => (s.clone(), false, None),
        Data::Int(i) => (i.to_string(), true, None),
        Data::Float(f) => {
            let text = if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            };
            (text, true, None)
        }
        Data::Bool(b) => ((if *b { "TRUE" } else { "FALSE" }).to_owned(), false, None),
        Data::DateTime(dt) => {
            if dt.is_datetime() {
                let (y, m, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
                if (h, mi, s, ms) == (0, 0, 0, 0) {
                    (format!("{y:04}-{m:02}-{d:02}"), false, None)
                } else {
                    (
                        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
                        false,
                        None,
                    )
                }
            } else {
                (dt.as_f64().to_string(), true, None)
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), false, None),
        Data::Error(e) => (String::new(), false, Some(e.to_string())),
    }
}

pub(crate) fn convert_workbook(
    path: &Path,
    register: &str,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    out: &mut dyn FnMut(Converted) -> io::Result<()>,
) -> Result<Summary, ConvertError> {
    // calamine parses untrusted archives and XML; a panic in it must not take the import down.
    let loaded = catch_unwind(AssertUnwindSafe(|| load(path, opts))).map_err(|_| {
        unreadable(
            "the spreadsheet reader failed on this file (it is damaged or not a spreadsheet)"
                .to_owned(),
        )
    })??;
    let Loaded {
        format,
        sheet,
        others,
        range,
        formulas,
        merges,
    } = loaded;
    let Some((r0, c0)) = range.start() else {
        return Err(ConvertError::file(
            1,
            None,
            format!("sheet \"{sheet}\" is empty"),
            "choose the sheet that holds the register, or export the register again",
        ));
    };
    let (height, width) = range.get_size();
    let c0 = c0 as usize;
    let full_width = c0 + width;

    let row_cells = |i: usize| -> Vec<Cell> {
        let abs_row = r0 + i as u32;
        let mut cells = vec![Cell::default(); full_width];
        for j in 0..width {
            let abs_col = (c0 + j) as u32;
            let (text, numeric, _) = range.get((i, j)).map(cell_text).unwrap_or_default();
            let formula = formulas
                .get_value((abs_row, abs_col))
                .filter(|f| !f.is_empty())
                .cloned();
            let merged_from = merges
                .iter()
                .find(|m| m.contains(abs_row, abs_col) && m.start != (abs_row, abs_col))
                .map(|m| format!("{}{}", column_letter(m.start.1 as usize), m.start.0 + 1));
            cells[c0 + j] = Cell {
                text,
                formula,
                merged_from,
                numeric,
            };
        }
        cells
    };
    let row_is_blank = |i: usize| {
        (0..width).all(|j| {
            range
                .get((i, j))
                .is_none_or(|d| cell_text(d).0.trim().is_empty())
        })
    };

    let has_header = mapping.is_none_or(|m| m.header);
    // The header: the first row (of the first few) that names known columns; title rows above
    // it are skipped and reported.
    let mut header_at = 0usize;
    if has_header {
        let mut candidates = (0..height)
            .filter(|i| !row_is_blank(*i))
            .take(HEADER_SEARCH_ROWS);
        let first = candidates.next().unwrap_or(0);
        header_at = first;
        let names = |i: usize| -> Vec<String> {
            row_cells(i)
                .into_iter()
                .map(|c| c.text.trim().to_owned())
                .collect()
        };
        let score = |i: usize| -> usize {
            let h = names(i);
            let explicit = mapping.map_or(0, |m| {
                m.columns
                    .iter()
                    .filter(|c| h.iter().any(|x| same_header(x, &c.column)))
                    .count()
            });
            let detected = if mapping.is_none_or(|m| m.detect) {
                detect_mapping(&h).mapping.columns.len()
            } else {
                0
            };
            explicit + detected
        };
        if score(first) < 2 {
            if let Some(better) = std::iter::once(first)
                .chain(candidates)
                .find(|i| score(*i) >= 2)
            {
                header_at = better;
            }
        }
    }

    let mut file_problems = Vec::new();
    let headers: Vec<String> = if has_header {
        row_cells(header_at)
            .into_iter()
            .map(|c| c.text.trim().to_owned())
            .collect()
    } else {
        vec![String::new(); full_width]
    };
    let header_row = if has_header {
        u64::from(r0) + header_at as u64 + 1
    } else {
        0
    };
    let resolved = resolve(&headers, header_row, mapping, opts, register)?;
    let plan = resolved.plan;

    // Columns without a header name but with no data either are not worth a warning.
    let column_has_data = |col: usize| -> bool {
        col >= c0
            && (0..height).any(|i| {
                i != header_at
                    && range
                        .get((i, col - c0))
                        .is_some_and(|d| !cell_text(d).0.trim().is_empty())
            })
    };
    for p in resolved.warnings {
        let silent = p.column.as_ref().is_some_and(|c| {
            c.header.trim().is_empty()
                && plan.fields.get(c.index).is_none_or(Option::is_none)
                && !column_has_data(c.index)
        });
        if !silent {
            file_problems.push(p);
        }
    }
    if has_header && header_at > 0 {
        let titles: Vec<u64> = (0..header_at)
            .filter(|i| !row_is_blank(*i))
            .map(|i| u64::from(r0) + i as u64 + 1)
            .collect();
        if let (Some(a), Some(b)) = (titles.first(), titles.last()) {
            let rows = if a == b {
                format!("row {a}")
            } else {
                format!("rows {a}–{b}")
            };
            file_problems.push(Problem::warning(
                header_row,
                None,
                format!("{rows} above the header (row {header_row}) are taken as titles and not imported"),
                Some("check that no register entry is above the header".to_owned()),
            ));
        }
    }
    if !others.is_empty() && opts.sheet.is_none() {
        file_problems.push(Problem::warning(
            header_row.max(1),
            None,
            format!(
                "only the first sheet, \"{sheet}\", is read; the workbook also has {}",
                others
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some("import each sheet that holds register entries, naming it".to_owned()),
        ));
    }
    if has_header {
        for (j, cell) in row_cells(header_at).iter().enumerate() {
            if let Some(from) = &cell.merged_from {
                if plan.fields.get(j).is_some_and(Option::is_none) && column_has_data(j) {
                    file_problems.push(Problem::warning(
                        header_row,
                        plan.columns.get(j),
                        format!("the header cell is merged into {from}: this column has no header name of its own"),
                        Some("unmerge the header cells and give each column its own name".to_owned()),
                    ));
                }
            }
        }
    }

    let mut summary = plan.summary(format, None, None, Some(sheet), header_row);
    if !file_problems.is_empty() {
        summary.warnings += file_problems.len() as u64;
        out(Converted {
            row: header_row.max(1),
            records: Vec::new(),
            problems: file_problems,
            provenance: Vec::new(),
            cells: headers.clone(),
        })?;
    }

    let first_data = if has_header { header_at + 1 } else { 0 };
    for i in first_data..height {
        let row = u64::from(r0) + i as u64 + 1;
        let cells = row_cells(i);
        if cells
            .iter()
            .all(|c| c.text.trim().is_empty() && c.formula.is_none())
        {
            continue;
        }
        let mut problems = Vec::new();
        for j in 0..width {
            if let Some((_, _, Some(err))) = range.get((i, j)).map(cell_text) {
                let col = c0 + j;
                if plan
                    .fields
                    .get(col)
                    .is_some_and(|f| f.as_ref().is_some_and(|(f, _)| *f != Field::Ignore))
                {
                    problems.push(Problem::error(
                        row,
                        plan.columns.get(col),
                        format!("the cell shows the spreadsheet error {err}"),
                        Some(
                            "correct the cell (or the formula behind it) in the spreadsheet"
                                .to_owned(),
                        ),
                    ));
                }
            }
        }
        summary.rows += 1;
        if let Some(conv) = plan.convert(row, &cells, problems) {
            tally(&mut summary, &conv);
            out(conv)?;
        }
    }
    if summary.rows == 0 && has_header {
        summary.warnings += 1;
        out(Converted {
            row: header_row.max(1),
            records: Vec::new(),
            problems: vec![Problem::warning(
                header_row.max(1),
                None,
                "the sheet has a header but no rows",
                Some("choose the sheet that holds the register entries".to_owned()),
            )],
            provenance: Vec::new(),
            cells: Vec::new(),
        })?;
    }
    Ok(summary)
}

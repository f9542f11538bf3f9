//! The mapping applied to a file's header: which column holds which field, and the file-level
//! problems (names the mapping gives that are not there, ambiguous columns, columns left out,
//! a first row that is data rather than a header).

use crate::mapping::{detect_mapping, letter_index, same_header, ColumnMap, Field, Mapping};
use crate::row::Plan;
use crate::values::parse_date;
use crate::{ColumnRef, ConvertError, Problem, ReadOptions};

pub(crate) struct Resolved {
    pub plan: Plan,
    /// File-level warnings, reported with the header row.
    pub warnings: Vec<Problem>,
}

fn quote_cells(cells: &[String]) -> String {
    let shown: Vec<String> = cells
        .iter()
        .filter(|c| !c.trim().is_empty())
        .take(4)
        .map(|c| format!("«{}»", c.chars().take(40).collect::<String>()))
        .collect();
    if shown.is_empty() {
        "nothing".to_owned()
    } else {
        shown.join(", ")
    }
}

fn looks_like_data(cell: &str) -> bool {
    let t = cell.trim();
    (t.len() >= 3 && t.bytes().all(|b| b.is_ascii_digit()))
        || (t.contains(['/', '.', '-'])
            && t.bytes().any(|b| b.is_ascii_digit())
            && parse_date(t, Some(crate::DateFormat::DMY)).is_ok())
}

const NO_HEADER_FIX: &str = "add a header row naming the columns (e.g. Serial number, Make, Model, Calibre, Date of acquisition), or give a mapping file (with header = false, columns are mapped by letter)";

/// Applies `mapping` (or detection) to the header. `headers` are the header row's cells (empty
/// names when the file has no header row).
pub(crate) fn resolve(
    headers: &[String],
    header_row: u64,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    register: &str,
) -> Result<Resolved, ConvertError> {
    let base = mapping.cloned().unwrap_or_default();
    // File-level problems are reported with the header row (row 1 when there is none).
    let header_row = header_row.max(1);
    let mut columns: Vec<ColumnRef> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| ColumnRef::new(i, h))
        .collect();
    let mut fields: Vec<Option<(Field, Option<String>)>> = vec![None; columns.len()];
    let mut explicit = vec![false; columns.len()];
    let mut errors: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    let mut effective: Vec<ColumnMap> = Vec::new();

    for entry in &base.columns {
        let by_name: Vec<usize> = if base.header {
            headers
                .iter()
                .enumerate()
                .filter(|(_, h)| same_header(h, &entry.column))
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        let idx = match by_name.as_slice() {
            [i] => *i,
            [] => match letter_index(&entry.column) {
                Some(i) if i < columns.len() || !base.header => i,
                _ => {
                    errors.push(Problem::error(
                        header_row,
                        None,
                        format!(
                            "the mapping names column \"{}\", which is not in the header",
                            entry.column
                        ),
                        Some(format!(
                            "correct the name in the mapping file; the columns are: {}",
                            columns_listing(&columns)
                        )),
                    ));
                    continue;
                }
            },
            many => {
                let cols: Vec<String> = many.iter().map(|i| columns[*i].to_string()).collect();
                errors.push(Problem::error(
                    header_row,
                    None,
                    format!(
                        "several columns are named \"{}\": {}",
                        entry.column,
                        cols.join(", ")
                    ),
                    Some("name the column by its letter in the mapping file".to_owned()),
                ));
                continue;
            }
        };
        while columns.len() <= idx {
            columns.push(ColumnRef::new(columns.len(), ""));
            fields.push(None);
            explicit.push(false);
        }
        if fields[idx].is_some() {
            errors.push(Problem::error(
                header_row,
                Some(&columns[idx]),
                "the mapping gives this column twice",
                Some("keep one entry for the column in the mapping file".to_owned()),
            ));
            continue;
        }
        if !entry.field.is_multi() {
            if let Some(other) = fields
                .iter()
                .position(|f| f.as_ref().is_some_and(|(f, _)| *f == entry.field))
            {
                errors.push(Problem::error(
                    header_row,
                    Some(&columns[idx]),
                    format!(
                        "the mapping gives {} from two columns ({} and {})",
                        entry.field, columns[other], columns[idx]
                    ),
                    Some("map the field from one column; mark the other \"ignore\"".to_owned()),
                ));
                continue;
            }
        }
        fields[idx] = Some((entry.field.clone(), entry.component.clone()));
        explicit[idx] = true;
        effective.push(entry.clone());
    }

    if base.header && base.detect {
        let guess = detect_mapping(headers);
        for entry in &guess.mapping.columns {
            let idx = headers
                .iter()
                .position(|h| h.trim() == entry.column)
                .or_else(|| letter_index(&entry.column));
            let Some(idx) = idx.filter(|i| *i < fields.len()) else {
                continue;
            };
            let taken = fields
                .iter()
                .any(|f| f.as_ref().is_some_and(|(f, _)| *f == entry.field));
            if explicit[idx] || (taken && !entry.field.is_multi()) {
                if !explicit[idx] {
                    warnings.push(Problem::warning(
                        header_row,
                        Some(&columns[idx]),
                        format!(
                            "this column looks like {}, which the mapping file takes from another column; it is not imported",
                            entry.field
                        ),
                        Some("map it in the mapping file, or mark it \"ignore\"".to_owned()),
                    ));
                }
                continue;
            }
            fields[idx] = Some((entry.field.clone(), None));
            effective.push(entry.clone());
        }
        for a in &guess.ambiguous {
            let open: Vec<&ColumnRef> = a.columns.iter().filter(|c| !explicit[c.index]).collect();
            if open.is_empty() {
                continue;
            }
            let example = open
                .first()
                .map(|c| {
                    let name = if c.header.trim().is_empty() {
                        c.letter.clone()
                    } else {
                        c.header.trim().to_owned()
                    };
                    format!(
                        "\"{name}\" = \"{}\"",
                        a.fields.first().map(Field::name).unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            errors.push(Problem::error(
                header_row,
                open.first().copied(),
                format!("{}: it is not guessed", a.message),
                Some(format!(
                    "say what the column holds in a mapping file (e.g. {example}), or rename the header; mark a column \"ignore\" to leave it out"
                )),
            ));
        }
    }

    for (i, f) in fields.iter().enumerate() {
        if f.is_some()
            || errors
                .iter()
                .any(|p| p.column.as_ref().is_some_and(|c| c.index == i))
        {
            continue;
        }
        let c = &columns[i];
        if c.header.trim().is_empty() {
            if base.header {
                warnings.push(Problem::warning(
                    header_row,
                    Some(c),
                    "this column has no header name: its values are not imported",
                    Some(
                        "give the column a header name, or map it by letter in a mapping file"
                            .to_owned(),
                    ),
                ));
            }
        } else {
            warnings.push(Problem::warning(
                header_row,
                Some(c),
                "this column is not recognised: its values are not imported",
                Some(format!(
                    "map it in a mapping file (\"{}\" = one of: {}), or mark it \"ignore\"",
                    c.header.trim(),
                    Field::names()
                )),
            ));
        }
    }

    let mapped = fields
        .iter()
        .filter(|f| f.as_ref().is_some_and(|(f, _)| *f != Field::Ignore))
        .count();
    if base.header && errors.is_empty() {
        let data_like = headers.iter().filter(|h| looks_like_data(h)).count();
        if mapped == 0 {
            return Err(ConvertError::Rejected(vec![Problem::error(
                header_row,
                None,
                format!(
                    "row {header_row} is not a header: none of its cells names a column this import knows (it reads {})",
                    quote_cells(headers)
                ),
                Some(NO_HEADER_FIX.to_owned()),
            )]));
        }
        if data_like >= 2 && mapping.is_none() {
            return Err(ConvertError::Rejected(vec![Problem::error(
                header_row,
                None,
                format!(
                    "row {header_row} looks like data, not a header (it reads {})",
                    quote_cells(headers)
                ),
                Some(NO_HEADER_FIX.to_owned()),
            )]));
        }
    }
    if !base.header && mapped == 0 {
        errors.push(Problem::error(
            header_row,
            None,
            "the mapping file maps no column",
            Some("list the columns by letter under [columns], e.g. A = \"serial\"".to_owned()),
        ));
    }
    if !errors.is_empty() {
        errors.extend(warnings);
        return Err(ConvertError::Rejected(errors));
    }

    let mut mapping = base;
    mapping.columns = effective;
    mapping.date_format = opts.date_format.or(mapping.date_format);
    Ok(Resolved {
        plan: Plan::new(columns, fields, register, mapping),
        warnings,
    })
}

fn columns_listing(columns: &[ColumnRef]) -> String {
    let mut s = columns
        .iter()
        .take(30)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if columns.len() > 30 {
        s.push_str(", …");
    }
    s
}

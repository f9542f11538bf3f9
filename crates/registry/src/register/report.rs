//! The validation report of a register import, as a clerk works from it: a CSV file (one line
//! per problem, for a spreadsheet filter) and a self-contained HTML page (what was read, how
//! each column was understood, then the problems grouped as "must fix", "likely duplicates"
//! and "worth a look", each with its row, column and suggested fix).

use super::{Category, RegisterReport, RowProblem};
use std::io::{self, Write};

/// Problems listed one by one on the HTML page; the CSV report always lists them all.
pub const HTML_MAX_PROBLEMS: usize = 10_000;

/// Writes one line per problem: `file,row,column,header,severity,category,field,message,suggestion,key`.
pub fn write_csv(report: &RegisterReport, out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "file",
        "row",
        "column",
        "header",
        "severity",
        "category",
        "field",
        "message",
        "suggestion",
        "key",
    ])?;
    for p in &report.problems {
        w.write_record([
            p.file.as_str(),
            &p.row.to_string(),
            p.column.as_deref().unwrap_or_default(),
            p.header.as_deref().unwrap_or_default(),
            p.severity,
            p.category.as_str(),
            &p.field,
            &p.message,
            p.suggestion.as_deref().unwrap_or_default(),
            p.key.as_deref().unwrap_or_default(),
        ])?;
    }
    w.flush()
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b;line-height:1.4}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}\
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:start;vertical-align:top}\
th{background:#f2f2f2}.ok{color:#0a5c2b}.bad{color:#9b1c1c}.muted{color:#555}\
.error td:first-child{border-inline-start:4px solid #9b1c1c}.warning td:first-child{border-inline-start:4px solid #b7791f}\
@media print{body{margin:0}}";

fn problem_rows(out: &mut impl Write, problems: &[&RowProblem]) -> io::Result<()> {
    writeln!(
        out,
        "<table><thead><tr><th scope=col>File</th><th scope=col>Row</th><th scope=col>Column</th><th scope=col>Key</th><th scope=col>Problem</th><th scope=col>What to do</th></tr></thead><tbody>"
    )?;
    for p in problems.iter().take(HTML_MAX_PROBLEMS) {
        let column = match (&p.column, &p.header) {
            (Some(l), Some(h)) => format!("{} “{}”", esc(l), esc(h)),
            (Some(l), None) => esc(l),
            _ => String::new(),
        };
        let field = if p.field.is_empty() {
            String::new()
        } else {
            format!(" <span class=muted>({})</span>", esc(&p.field))
        };
        writeln!(
            out,
            "<tr class={}><td>{}</td><td>{}</td><td dir=auto>{}</td><td dir=auto>{}</td><td dir=auto>{}{}</td><td dir=auto>{}</td></tr>",
            p.severity,
            esc(&p.file),
            p.row,
            column,
            esc(p.key.as_deref().unwrap_or_default()),
            esc(&p.message),
            field,
            esc(p.suggestion.as_deref().unwrap_or_default()),
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if problems.len() > HTML_MAX_PROBLEMS {
        writeln!(
            out,
            "<p>… and {} more: the CSV report lists every one.</p>",
            problems.len() - HTML_MAX_PROBLEMS
        )?;
    }
    Ok(())
}

/// Writes the report as one HTML page with no outside resources (it opens from a USB stick).
pub fn write_html(report: &RegisterReport, mut out: impl Write) -> io::Result<()> {
    let errors: Vec<&RowProblem> = report.errors().collect();
    let duplicates: Vec<&RowProblem> = report
        .warnings()
        .filter(|p| p.category == Category::LikelyDuplicate)
        .collect();
    let others: Vec<&RowProblem> = report
        .warnings()
        .filter(|p| p.category != Category::LikelyDuplicate)
        .collect();
    writeln!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>Register import report</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>Register import report</h1>")?;
    let outcome = if report.committed {
        format!(
            "<p class=ok><strong>Imported.</strong> {} record(s) written to the ledger; {} already there.",
            report.accepted, report.duplicates
        )
    } else if errors.is_empty() {
        "<p class=ok><strong>Nothing new to write</strong>: every record is already in the ledger."
            .to_owned()
    } else {
        "<p class=bad><strong>Nothing was written.</strong> Fix the errors below and import the file again (or import with <code>--accept-valid --rejects FILE</code> to write the good rows now and correct the rest later).".to_owned()
    };
    writeln!(out, "{outcome}</p>")?;
    writeln!(
        out,
        "<table><tbody><tr><th scope=row>Rows read</th><td>{}</td></tr><tr><th scope=row>Rows refused</th><td>{}</td></tr><tr><th scope=row>Errors</th><td>{}</td></tr><tr><th scope=row>Likely duplicates</th><td>{}</td></tr><tr><th scope=row>Other warnings</th><td>{}</td></tr><tr><th scope=row>Ledger size after</th><td>{}</td></tr></tbody></table>",
        report.rows,
        report.rows_rejected,
        errors.len(),
        duplicates.len(),
        others.len(),
        report.ledger_size
    )?;
    for f in &report.files {
        writeln!(out, "<h2>{}</h2>", esc(&f.file))?;
        let mut how = vec![f.format.to_uppercase()];
        if let Some(e) = &f.encoding {
            how.push(format!("encoding {}", esc(e)));
        }
        if let Some(d) = &f.delimiter {
            how.push(format!("separator “{}”", esc(d)));
        }
        if let Some(s) = &f.sheet {
            how.push(format!("sheet “{}”", esc(s)));
        }
        how.push(if f.header_row > 0 {
            format!("header on row {}", f.header_row)
        } else {
            "no header row".to_owned()
        });
        writeln!(
            out,
            "<p>{}. {} row(s), {} refused, {} record(s).{}</p>",
            how.join(", "),
            f.rows,
            f.rows_rejected,
            f.records,
            if f.keys_generated {
                " The file has no key column: keys were made from the file name and row number, so keep rows in place (or add a key column) before importing it again."
            } else {
                ""
            }
        )?;
        writeln!(
            out,
            "<table><thead><tr><th scope=col>Column</th><th scope=col>Header</th><th scope=col>Read as</th></tr></thead><tbody>"
        )?;
        for c in &f.columns {
            writeln!(
                out,
                "<tr><td>{}</td><td dir=auto>{}</td><td>{}</td></tr>",
                esc(&c.letter),
                esc(&c.header),
                c.field
                    .as_deref()
                    .map(esc)
                    .unwrap_or_else(|| "<span class=muted>not imported</span>".into())
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    for (title, list, empty) in [
        ("Errors — must be fixed", &errors, "None."),
        (
            "Likely duplicates — one weapon under two keys?",
            &duplicates,
            "None found.",
        ),
        ("Worth a look", &others, "Nothing."),
    ] {
        writeln!(out, "<h2>{title} ({})</h2>", list.len())?;
        if list.is_empty() {
            writeln!(out, "<p class=muted>{empty}</p>")?;
        } else {
            problem_rows(&mut out, list)?;
        }
    }
    writeln!(out, "</body></html>")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_every_cell() {
        let mut r = RegisterReport::default();
        r.problems.push(RowProblem {
            file: "<script>.csv".into(),
            row: 2,
            column: Some("C".into()),
            header: Some("N° \"série\"".into()),
            severity: "error",
            category: Category::Conversion,
            field: String::new(),
            message: "bad <b>date</b> & more".into(),
            suggestion: Some("write it as 31/01/2001".into()),
            key: Some("K'1".into()),
        });
        let mut out = Vec::new();
        write_html(&r, &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<b>date"));
        assert!(html.contains("&lt;script&gt;.csv"));
        assert!(html.contains("N° &quot;série&quot;"));
        assert!(html.contains("K&#39;1"));
        assert!(html.contains("Nothing was written"));
        let mut out = Vec::new();
        write_csv(&r, &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        assert!(csv.starts_with(
            "file,row,column,header,severity,category,field,message,suggestion,key\n"
        ));
        assert!(csv.contains("\"N° \"\"série\"\"\""));
    }
}

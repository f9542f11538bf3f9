//! CSV registers: encoding and delimiter detection, streaming records in constant memory with a
//! bound on the length of one record, and decoding cell by cell so that a cell in the wrong
//! encoding is reported at its row and column.

use crate::mapping::{same_header, Mapping};
use crate::normalize::header_key;
use crate::resolve::resolve;
use crate::row::Cell;
use crate::{
    detect_mapping, ColumnRef, ConvertError, Converted, Problem, ReadOptions, Severity,
    SourceFormat, Summary, MAX_RECORD_BYTES,
};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1251, WINDOWS_1252};
use std::cell::Cell as Shared;
use std::io::{self, Read};
use std::rc::Rc;

/// Bytes read ahead to detect the encoding and the delimiter.
const SAMPLE_BYTES: usize = 64 * 1024;
/// The CSV reader's buffer.
const BUFFER_BYTES: usize = 64 * 1024;
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

fn read_up_to(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n.min(SAMPLE_BYTES));
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

#[derive(Clone, Copy)]
struct Decoding {
    encoding: &'static Encoding,
    /// Bytes of byte-order mark to skip.
    bom: usize,
}

fn detect_encoding(
    sample: &[u8],
    complete: bool,
    declared: Option<&str>,
) -> Result<Decoding, ConvertError> {
    let bom = Encoding::for_bom(sample);
    if let Some(label) = declared {
        let Some(enc) = Encoding::for_label(label.trim().as_bytes()) else {
            return Err(ConvertError::file(
                1,
                None,
                format!("'{label}' is not an encoding this import knows"),
                "use utf-8, utf-16le, utf-16be, windows-1252 (Western European) or windows-1251 (Cyrillic), or leave it to be detected",
            ));
        };
        let skip = match bom {
            Some((b, len)) if b == enc => len,
            _ => 0,
        };
        return Ok(Decoding {
            encoding: enc,
            bom: skip,
        });
    }
    if let Some((enc, len)) = bom {
        return Ok(Decoding {
            encoding: enc,
            bom: len,
        });
    }
    // UTF-16 without a byte-order mark: every other byte of ASCII text is zero.
    let probe = &sample[..sample.len().min(4096)];
    if probe.len() >= 4 {
        let zeros_odd = probe.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let zeros_even = probe.iter().step_by(2).filter(|b| **b == 0).count();
        let half = probe.len() / 2;
        if zeros_odd * 10 > half * 3 && zeros_even * 10 < half {
            return Ok(Decoding {
                encoding: UTF_16LE,
                bom: 0,
            });
        }
        if zeros_even * 10 > half * 3 && zeros_odd * 10 < half {
            return Ok(Decoding {
                encoding: UTF_16BE,
                bom: 0,
            });
        }
    }
    let utf8_ok = utf8_majority(sample, complete);
    if utf8_ok {
        return Ok(Decoding {
            encoding: UTF_8,
            bom: 0,
        });
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, complete);
    let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
    let cyrillic = [
        "windows-1251",
        "KOI8-R",
        "KOI8-U",
        "ISO-8859-5",
        "IBM866",
        "x-mac-cyrillic",
    ];
    let encoding = if guess == UTF_8 {
        UTF_8
    } else if cyrillic.contains(&guess.name()) {
        WINDOWS_1251
    } else {
        WINDOWS_1252
    };
    Ok(Decoding { encoding, bom: 0 })
}

/// True when the sample is UTF-8, or mostly UTF-8: more well-formed multi-byte characters than
/// malformed bytes (a UTF-8 file with a few rows typed in another encoding is read as UTF-8, and
/// those rows are reported at their cells).
fn utf8_majority(sample: &[u8], complete: bool) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut rest = sample;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                valid += s.chars().filter(|c| !c.is_ascii()).count();
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                valid += std::str::from_utf8(good)
                    .map(|s| s.chars().filter(|c| !c.is_ascii()).count())
                    .unwrap_or(0);
                match e.error_len() {
                    Some(n) => {
                        invalid += 1;
                        rest = &bad[n..];
                    }
                    // A character cut by the end of the sample is not an error.
                    None => {
                        if complete {
                            invalid += 1;
                        }
                        break;
                    }
                }
            }
        }
    }
    invalid == 0 || valid > invalid
}

/// Transcodes UTF-16 to UTF-8 as it is read; a malformed unit becomes U+FFFD, which the row
/// converter reports at its cell.
struct Utf16Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
}

impl<R: Read> Utf16Reader<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Utf16Reader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            eof: false,
            output: vec![0; 48 * 1024 + 16],
            out_start: 0,
            out_end: 0,
        }
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.eof && self.start == self.end {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                let n = loop {
                    match self.inner.read(&mut self.input) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                self.start = 0;
                self.end = n;
                self.eof = n == 0;
            }
            let last = self.eof;
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.start..self.end],
                &mut self.output,
                last,
            );
            self.start += read;
            let mut produced = written;
            if let encoding_rs::DecoderResult::Malformed(_, _) = result {
                let r = "\u{FFFD}".as_bytes();
                self.output[produced..produced + r.len()].copy_from_slice(r);
                produced += r.len();
            }
            self.out_start = 0;
            self.out_end = produced;
            if produced == 0 && self.eof && self.start == self.end {
                return Ok(0);
            }
        }
    }
}

/// Refuses to deliver more than [`MAX_RECORD_BYTES`] (plus the reader's buffer) past the start
/// of the record being read, so a gigantic line is never read whole.
struct Bounded<R> {
    inner: R,
    delivered: u64,
    limit: Rc<Shared<u64>>,
    /// Bytes delivered, and whether the input has ended (to tell a last record that has no
    /// line break).
    seen: Rc<Shared<(u64, bool)>>,
}

#[derive(Debug)]
struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too long")
    }
}

impl std::error::Error for TooLong {}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let allowed = self.limit.get().saturating_sub(self.delivered);
        if allowed == 0 {
            return Err(io::Error::other(TooLong));
        }
        let n = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.delivered += got as u64;
        self.seen.set((self.delivered, got == 0 && n > 0));
        Ok(got)
    }
}

/// Scores each candidate delimiter on the sample: the one that gives a header of more than one
/// column and the most records of the header's width wins.
fn sniff_delimiter(sample: &[u8], complete: bool) -> Vec<(u8, usize, usize)> {
    let mut scores = Vec::new();
    for d in CANDIDATES {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(d)
            .from_reader(sample);
        let mut widths = Vec::new();
        let mut rec = csv::ByteRecord::new();
        while widths.len() < 200 {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {
                    if !(rec.len() == 1 && rec[0].is_empty()) {
                        widths.push(rec.len());
                    }
                }
                _ => break,
            }
        }
        if !complete && widths.len() > 1 {
            widths.pop();
        }
        let header = widths.first().copied().unwrap_or(0);
        let same = widths.iter().filter(|w| **w == header).count();
        scores.push((d, header, same));
    }
    scores
}

fn choose_delimiter(scores: &[(u8, usize, usize)]) -> (u8, usize) {
    let mut best = (b',', 0usize, 0usize);
    for &(d, header, same) in scores {
        let key = (header > 1, same, header);
        let best_key = (best.1 > 1, best.2, best.1);
        if key > best_key {
            best = (d, header, same);
        }
    }
    (best.0, best.1)
}

fn show_delimiter(d: u8) -> String {
    match d {
        b'\t' => "tab".to_owned(),
        b' ' => "space".to_owned(),
        d if d.is_ascii_graphic() => format!("'{}'", d as char),
        d => format!("byte 0x{d:02X}"),
    }
}

/// Decodes one cell; problems go to `problems`.
fn decode_cell(
    bytes: &[u8],
    encoding: &'static Encoding,
    row: u64,
    column: &ColumnRef,
    problems: &mut Vec<Problem>,
    mapped: bool,
) -> String {
    if encoding == UTF_8 || encoding == UTF_16LE || encoding == UTF_16BE {
        // UTF-16 input has been transcoded to UTF-8 already.
        match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(e) => {
                let as1252 = WINDOWS_1252.decode_without_bom_handling(bytes).0;
                if mapped {
                    problems.push(Problem::error(
                        row,
                        Some(column),
                        format!(
                            "the cell has bytes that are not UTF-8 (at byte {}): the file mixes encodings; read as Windows-1252 it says \"{}\"",
                            e.valid_up_to() + 1,
                            as1252.chars().take(60).collect::<String>()
                        ),
                        Some("save the whole file in one encoding (UTF-8) and import it again, or declare the encoding if the whole file is in it".to_owned()),
                    ));
                }
                // Reported above (when it matters); no replacement character to report twice.
                as1252.into_owned()
            }
        }
    } else {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        if mapped && !bytes.is_ascii() {
            if let Ok(utf8) = std::str::from_utf8(bytes) {
                problems.push(Problem::error(
                    row,
                    Some(column),
                    format!(
                        "the cell is UTF-8 text in a file read as {}: the file mixes encodings (as {} it reads \"{}\", as UTF-8 \"{}\")",
                        encoding.name(),
                        encoding.name(),
                        text.chars().take(40).collect::<String>(),
                        utf8.chars().take(40).collect::<String>()
                    ),
                    Some("save the whole file in one encoding (UTF-8) and import it again".to_owned()),
                ));
            }
        }
        if mapped && text.chars().any(|c| ('\u{80}'..='\u{9F}').contains(&c)) {
            problems.push(Problem::error(
                row,
                Some(column),
                format!(
                    "the cell has bytes that mean nothing in {} (the file is probably in another encoding)",
                    encoding.name()
                ),
                Some("declare the file's encoding, or save it as UTF-8 and import it again".to_owned()),
            ));
        }
        text.into_owned()
    }
}

pub(crate) fn convert_csv(
    mut input: impl Read,
    register: &str,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    out: &mut dyn FnMut(Converted) -> io::Result<()>,
) -> Result<Summary, ConvertError> {
    let sample = read_up_to(&mut input, SAMPLE_BYTES)?;
    let complete = sample.len() < SAMPLE_BYTES;
    let dec = detect_encoding(&sample, complete, opts.encoding.as_deref())?;
    let utf16 = dec.encoding == UTF_16LE || dec.encoding == UTF_16BE;

    // The sample as the CSV parser will see it (UTF-16 transcoded), for the delimiter.
    let body = &sample[dec.bom.min(sample.len())..];
    let parsed_sample: Vec<u8> = if utf16 {
        let mut t = Vec::new();
        Utf16Reader::new(body, dec.encoding).read_to_end(&mut t)?;
        t
    } else {
        body.to_vec()
    };
    if parsed_sample
        .iter()
        .all(|b| b.is_ascii_whitespace() || *b == 0)
    {
        return Err(ConvertError::file(
            1,
            None,
            "the file is empty",
            "export the register again: the file has no header and no rows",
        ));
    }

    let scores = sniff_delimiter(&parsed_sample, complete);
    let (detected, _) = choose_delimiter(&scores);
    let delimiter = opts.delimiter.unwrap_or(detected);

    let limit = Rc::new(Shared::new((MAX_RECORD_BYTES + BUFFER_BYTES) as u64));
    let source: Box<dyn Read> = {
        let head = io::Cursor::new(sample).chain(input);
        let mut head = head;
        // Skip the byte-order mark.
        let mut skip = vec![0u8; dec.bom];
        head.read_exact(&mut skip)?;
        if utf16 {
            Box::new(Utf16Reader::new(head, dec.encoding))
        } else {
            Box::new(head)
        }
    };
    let seen = Rc::new(Shared::new((0u64, false)));
    let bounded = Bounded {
        inner: source,
        delivered: 0,
        limit: Rc::clone(&limit),
        seen: Rc::clone(&seen),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(bounded);
    let mut record = csv::ByteRecord::new();
    let cell_encoding = if utf16 { UTF_8 } else { dec.encoding };
    let has_header = mapping.is_none_or(|m| m.header);

    // Reads the next record; `row` is the row it would be.
    let next = |rdr: &mut csv::Reader<Bounded<Box<dyn Read>>>,
                record: &mut csv::ByteRecord,
                row: u64|
     -> Result<bool, ConvertError> {
        let got = match rdr.read_byte_record(record) {
            Ok(got) => got,
            Err(e) => {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    if io.get_ref().is_some_and(|inner| inner.is::<TooLong>()) {
                        return Err(ConvertError::file(
                            row,
                            None,
                            format!(
                                "row {row} is longer than {} MiB: the file's rows are not separated by line breaks, or a quote (\") is never closed",
                                MAX_RECORD_BYTES >> 20
                            ),
                            "check that the file is a register exported as CSV, and that every quote in it is closed",
                        ));
                    }
                }
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(io) => ConvertError::Io(io),
                    other => ConvertError::file(
                        row,
                        None,
                        format!("row {row} cannot be read as CSV: {other:?}"),
                        "export the register again as CSV",
                    ),
                });
            }
        };
        limit.set(rdr.position().byte() + (MAX_RECORD_BYTES + BUFFER_BYTES) as u64);
        Ok(got)
    };

    // Where the record just read ended: its line, and whether it ended with the input.
    let ended = |rdr: &csv::Reader<Bounded<Box<dyn Read>>>| {
        let (delivered, eof) = seen.get();
        (
            rdr.position().line(),
            eof && rdr.position().byte() == delivered,
        )
    };
    let crlf = {
        let lf = parsed_sample.iter().filter(|b| **b == b'\n').count();
        let crlf = parsed_sample.windows(2).filter(|w| w == b"\r\n").count();
        crlf * 2 > lf
    };

    // Header.
    let mut rows = RowCounter {
        next_row: 1,
        next_line: 1,
        crlf,
    };
    let mut header_problems = Vec::new();
    let mut pending_first: Option<(csv::ByteRecord, u64)> = None;
    if !next(&mut rdr, &mut record, 1)? {
        return Err(ConvertError::file(
            1,
            None,
            "the file is empty",
            "export the register again: the file has no header and no rows",
        ));
    }
    let first_row = rows.place(&record, ended(&rdr));
    let header_row = if has_header { first_row } else { 0 };
    let headers: Vec<String> = if has_header {
        (0..record.len())
            .map(|i| {
                let col = ColumnRef::new(i, "");
                let mut ps = Vec::new();
                let s = decode_cell(&record[i], cell_encoding, first_row, &col, &mut ps, true);
                for mut p in ps {
                    p.severity = Severity::Warning;
                    header_problems.push(p);
                }
                s.trim().to_owned()
            })
            .collect()
    } else {
        pending_first = Some((record.clone(), first_row));
        vec![String::new(); record.len()]
    };

    // One column only: the wrong delimiter, or not a table.
    if has_header && headers.len() == 1 {
        let better = scores
            .iter()
            .filter(|(d, w, _)| *d != delimiter && *w > 1)
            .max_by_key(|(_, w, same)| (*same, *w));
        let single_known = mapping.is_some_and(|m| {
            m.columns
                .iter()
                .any(|c| same_header(&headers[0], &c.column))
        }) || !detect_mapping(&headers).mapping.columns.is_empty();
        if let (Some(d), Some((b, w, _))) = (opts.delimiter, better) {
            return Err(ConvertError::file(
                first_row,
                None,
                format!(
                    "with the declared separator {} row {first_row} has one column, but {} gives {w}: the file is separated by {}",
                    show_delimiter(d),
                    show_delimiter(*b),
                    show_delimiter(*b)
                ),
                format!("declare {} as the separator, or leave it to be detected", show_delimiter(*b)),
            ));
        }
        if !single_known || header_key(&headers[0]).is_empty() {
            let shown: String = headers[0].chars().take(60).collect();
            return Err(ConvertError::file(
                first_row,
                None,
                format!(
                    "only one column found in row {first_row} (\"{shown}\"): the values are not separated by , ; tab or |"
                ),
                "save the register as CSV with ',' or ';' between the values (or declare the separator the file uses)",
            ));
        }
    }

    let resolved = resolve(&headers, header_row, mapping, opts, register)?;
    let plan = resolved.plan;
    let width = plan.columns.len();
    let mapped: Vec<bool> = (0..width)
        .map(|i| {
            plan.fields
                .get(i)
                .is_some_and(|f| f.as_ref().is_some_and(|(f, _)| *f != crate::Field::Ignore))
        })
        .collect();

    let mut summary = plan.summary(
        SourceFormat::Csv,
        Some(dec.encoding.name().to_owned()),
        Some(delimiter),
        None,
        header_row,
    );
    let mut file_problems = resolved.warnings;
    file_problems.extend(header_problems.into_iter().map(|mut p| {
        if let Some(c) = &mut p.column {
            *c = plan
                .columns
                .get(c.index)
                .cloned()
                .unwrap_or_else(|| c.clone());
        }
        p
    }));
    if !file_problems.is_empty() {
        summary.warnings += file_problems.len() as u64;
        out(Converted {
            row: summary.header_row.max(1),
            records: Vec::new(),
            problems: file_problems,
            provenance: Vec::new(),
            cells: headers.clone(),
        })?;
    }

    loop {
        let (rec, row) = match pending_first.take() {
            Some(first) => first,
            None => {
                if !next(&mut rdr, &mut record, rows.next_row)? {
                    break;
                }
                let row = rows.place(&record, ended(&rdr));
                (record.clone(), row)
            }
        };
        // A blank line is an empty row.
        if rec.len() == 1 && rec[0].is_empty() {
            continue;
        }
        let mut problems = Vec::new();
        let mut cells = Vec::with_capacity(width.max(rec.len()));
        for (i, bytes) in rec.iter().enumerate() {
            let col = plan
                .columns
                .get(i)
                .cloned()
                .unwrap_or_else(|| ColumnRef::new(i, ""));
            let is_mapped = mapped.get(i).copied().unwrap_or(false);
            cells.push(Cell {
                text: decode_cell(bytes, cell_encoding, row, &col, &mut problems, is_mapped),
                ..Cell::default()
            });
        }
        let blank = cells.iter().all(|c| c.text.trim().is_empty());
        if blank {
            continue;
        }
        if has_header && rec.len() != width {
            let extra_empty =
                rec.len() > width && cells[width..].iter().all(|c| c.text.trim().is_empty());
            let first_extra = plan.columns.get(rec.len().min(width)).cloned();
            if extra_empty {
                // Trailing separators: harmless.
            } else if rec.len() > width {
                problems.push(Problem::error(
                    row,
                    Some(&ColumnRef::new(width, "")),
                    format!(
                        "the row has {} cells but the header has {width}: a value holds an unquoted separator, or the row is shifted",
                        rec.len()
                    ),
                    Some(format!(
                        "put quotes around values that contain {} (or remove the extra separator) so the row has {width} cells",
                        show_delimiter(delimiter)
                    )),
                ));
            } else {
                problems.push(Problem::error(
                    row,
                    first_extra.as_ref(),
                    format!(
                        "the row has {} cells but the header has {width}: a separator is missing, so values may be in the wrong columns",
                        rec.len()
                    ),
                    Some(format!("check the row: it needs {width} cells, empty ones included")),
                ));
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
            row: header_row,
            records: Vec::new(),
            problems: vec![Problem::warning(
                header_row,
                None,
                "the file has a header but no rows",
                Some("export the register again with its rows".to_owned()),
            )],
            provenance: Vec::new(),
            cells: Vec::new(),
        })?;
    }
    Ok(summary)
}

/// Rows numbered as a spreadsheet shows the file: the csv reader skips blank lines, which are
/// rows all the same; a record whose quoted cell spans several lines is one row. The reader
/// reports where a record ends, so its first line is worked out from that: minus the line
/// breaks inside its cells, minus its own line break when the reader has taken it (in a file
/// of `\n` line ends; a `\r\n` is taken with the next record).
struct RowCounter {
    next_row: u64,
    next_line: u64,
    crlf: bool,
}

impl RowCounter {
    fn place(&mut self, rec: &csv::ByteRecord, (end_line, at_eof): (u64, bool)) -> u64 {
        let inner: u64 = rec
            .iter()
            .map(|f| f.iter().filter(|b| **b == b'\n').count() as u64)
            .sum();
        let own_break = u64::from(!self.crlf && !at_eof);
        let start = end_line.saturating_sub(inner + own_break).max(1);
        let row = self.next_row + start.saturating_sub(self.next_line);
        self.next_row = row + 1;
        self.next_line = start.max(self.next_line) + inner + 1;
        row
    }
}

pub(crate) fn tally(summary: &mut Summary, conv: &Converted) {
    summary.records += conv.records.len() as u64;
    let errors = conv
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count() as u64;
    summary.errors += errors;
    summary.warnings += conv.problems.len() as u64 - errors;
    if errors > 0 {
        summary.rows_rejected += 1;
    }
}

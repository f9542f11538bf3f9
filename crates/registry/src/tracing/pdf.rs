//! The printable trace request as a PDF: the same content as [`print_html`](super::print_html)
//! laid out on A4 pages, for a state that does not run Tracemark (ITI section V; ISACS 05.31),
//! with room for the answer and the signatures.
//!
//! Text is set in DejaVu Sans, embedded (subset) in the file, so markings and names in any
//! script it covers print as seen — Latin, Cyrillic, Greek, Arabic (shaped, its letters
//! joined), Hebrew, Armenian, Georgian. Each line is put in visual order (UAX #9), so a
//! right-to-left marking reads right to left. Long texts wrap and flow onto further pages;
//! every page carries the request's reference and "page n of N".
//!
//! The output depends only on the arguments: no clock, no random document id, so the same
//! request gives the same bytes.

use super::Assessment;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;
use serde_json::Value;
use tracemark_trace::completeness::Waiver;
use tracemark_trace::request::TraceRequest;

static REGULAR: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");

/// What the PDF says besides the request itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct PdfOptions<'a> {
    /// The officer's explanations of the gaps the request is sent with, printed under each
    /// gap.
    pub waivers: &'a [Waiver],
    /// The date to print as the request's date (e.g. "2024-03-09"); without it the date is
    /// left blank to be written by hand. Never read from the clock, so output is reproducible.
    pub date: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("writing the PDF: {0}")]
    Write(String),
}

// A4 in points, and the text block.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = 56.0;
const BOTTOM: f32 = PAGE_H - 64.0;
const LABEL_W: f32 = 138.0;
const GUTTER: f32 = 10.0;
const BODY: f32 = 10.0;
const LABEL: f32 = 9.5;
const SMALL: f32 = 8.0;

fn leading(size: f32) -> f32 {
    size * 1.38
}

/// One thing drawn on a page (laid out first, drawn once the page count is known).
enum Op {
    /// A run of text in one direction, `y` its baseline.
    Text {
        x: f32,
        y: f32,
        bold: bool,
        size: f32,
        rtl: bool,
        text: String,
    },
    /// A stroked line.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
}

struct Faces {
    regular: rustybuzz::Face<'static>,
    bold: rustybuzz::Face<'static>,
}

impl Faces {
    fn load() -> Result<Self, PdfError> {
        Ok(Faces {
            regular: rustybuzz::Face::from_slice(REGULAR, 0).ok_or(PdfError::Font)?,
            bold: rustybuzz::Face::from_slice(BOLD, 0).ok_or(PdfError::Font)?,
        })
    }

    /// Whether a character is printed: the font has a glyph for it, or it has none to show
    /// (a space, a joiner, a direction mark, a variation selector).
    fn prints(&self, c: char) -> bool {
        c.is_whitespace()
            || matches!(c as u32,
                0xAD | 0x34F | 0x61C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
                | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
                | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0xE0000..=0xE0FFF)
            || (self.regular.glyph_index(c).is_some() && self.bold.glyph_index(c).is_some())
    }

    /// `text` with each character the font cannot show written as `[U+XXXX]`, so nothing of a
    /// marking is lost on paper (a Chinese or Ethiopic marking, say: DejaVu Sans has neither).
    fn printable(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if self.prints(c) {
                out.push(c);
            } else {
                out.push_str(&format!("[U+{:04X}]", c as u32));
            }
        }
        out
    }

    /// The advance width of `text` shaped as krilla shapes it for drawing.
    fn width(&self, text: &str, bold: bool, size: f32, rtl: Option<bool>) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        match rtl {
            Some(true) => buffer.set_direction(rustybuzz::Direction::RightToLeft),
            Some(false) => buffer.set_direction(rustybuzz::Direction::LeftToRight),
            None => {}
        }
        let shaped = rustybuzz::shape(face, &[], buffer);
        let units: i64 = shaped
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        units as f32 / face.units_per_em() as f32 * size
    }
}

/// Lays out blocks of text top to bottom, starting a new page when one is full.
struct Layout {
    faces: Faces,
    pages: Vec<Vec<Op>>,
    /// The top of the next line on the current page.
    y: f32,
}

impl Layout {
    fn new(faces: Faces) -> Self {
        Layout {
            faces,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// Breaks `text` into lines no wider than `width`: at spaces where possible, inside a
    /// word (a long marking, a hash) where it must. Line breaks in the text are kept.
    fn wrap(&self, text: &str, bold: bool, size: f32, width: f32) -> Vec<String> {
        let fits = |s: &str| self.faces.width(s, bold, size, None) <= width;
        let text = self.faces.printable(text);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split([' ', '\t']).filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if fits(&candidate) {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if fits(word) {
                    line = word.to_owned();
                    continue;
                }
                // A word wider than the line: broken between characters.
                for c in word.chars() {
                    let mut next = line.clone();
                    next.push(c);
                    if !line.is_empty() && !fits(&next) {
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    } else {
                        line = next;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Draws one line with its baseline at `y`, starting at `x`: right-to-left runs are
    /// shaped right to left and the runs put in visual order.
    fn line_at(&mut self, x: f32, y: f32, text: &str, bold: bool, size: f32) {
        if text.is_empty() {
            return;
        }
        // The document reads left to right: a line is a left-to-right paragraph whose
        // right-to-left runs (an Arabic marking) are reversed in place.
        let info = unicode_bidi::BidiInfo::new(text, Some(unicode_bidi::Level::ltr()));
        let runs: Vec<(bool, String)> = match info.paragraphs.first() {
            Some(para) if info.has_rtl() => {
                let (levels, runs) = info.visual_runs(para, para.range.clone());
                runs.into_iter()
                    .map(|r| {
                        let rtl = levels.get(r.start).is_some_and(|l| l.is_rtl());
                        (rtl, text[r].to_owned())
                    })
                    .collect()
            }
            _ => vec![(false, text.to_owned())],
        };
        let mut x = x;
        for (rtl, run) in runs {
            let w = self.faces.width(&run, bold, size, Some(rtl));
            self.push(Op::Text {
                x,
                y,
                bold,
                size,
                rtl,
                text: run,
            });
            x += w;
        }
    }

    /// A paragraph across the text block (or from `indent`), flowing onto new pages.
    fn paragraph(&mut self, text: &str, bold: bool, size: f32, indent: f32) {
        let lead = leading(size);
        for line in self.wrap(text, bold, size, RIGHT - LEFT - indent) {
            self.ensure(lead);
            let base = self.y + size;
            self.line_at(LEFT + indent, base, &line, bold, size);
            self.y += lead;
        }
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
        });
    }

    /// A numbered section's heading, kept with the first lines after it.
    fn heading(&mut self, text: &str) {
        self.ensure(14.0 + leading(12.0) + 3.0 * leading(BODY));
        if self.y > TOP {
            self.y += 12.0;
        }
        let base = self.y + 12.0;
        self.line_at(LEFT, base, text, true, 12.0);
        self.y += leading(12.0);
        let y = self.y - 1.5;
        self.rule(LEFT, RIGHT, y, 0.6);
        self.y += 4.0;
    }

    /// A label and its value side by side; the value wraps in its column and may continue on
    /// the next page.
    fn row(&mut self, label: &str, value: &str) {
        let labels = self.wrap(label, true, LABEL, LABEL_W);
        let values = self.wrap(value, false, BODY, RIGHT - LEFT - LABEL_W - GUTTER);
        let lead = leading(BODY);
        // Keep short rows whole.
        let n = labels.len().max(values.len());
        if n <= 4 {
            self.ensure(n as f32 * lead);
        }
        for i in 0..n {
            let page = self.pages.len();
            self.ensure(lead);
            let base = self.y + BODY;
            if let Some(l) = labels.get(i) {
                self.line_at(LEFT, base, l, true, LABEL);
            } else if self.pages.len() != page {
                // A value continued on a new page says what it is the value of.
                let first = labels.first().cloned().unwrap_or_default();
                self.line_at(LEFT, base, &format!("{first} (cont.)"), true, LABEL);
            }
            if let Some(v) = values.get(i) {
                self.line_at(LEFT + LABEL_W + GUTTER, base, v, false, BODY);
            }
            self.y += lead;
        }
        self.y += 2.0;
    }

    /// A label followed by a blank ruled line to write on.
    fn blank(&mut self, label: &str, x: f32, width: f32, y: f32) {
        self.line_at(x, y, label, false, LABEL);
        let start = x + self.faces.width(label, false, LABEL, None) + 4.0;
        self.rule(start, x + width, y + 1.5, 0.4);
    }
}

/// A field of the request's JSON form as text ("—" when absent).
fn field(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for k in path {
        cur = &cur[*k];
    }
    match cur {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request as a PDF: every field of the request under the headings an ITI trace request
/// has (as [`print_html`](super::print_html)), the photographs' hashes, the gaps it is sent
/// with and the officer's explanation of each, the recipients, then space for the requested
/// state's answer and the signature block.
pub fn print_pdf(
    request: &TraceRequest,
    assessment: &Assessment,
    recipients: &[String],
    options: &PdfOptions<'_>,
) -> Result<Vec<u8>, PdfError> {
    let v = serde_json::to_value(request).map_err(|e| PdfError::Write(e.to_string()))?;
    let f = |p: &[&str]| field(&v, p);
    let mut l = Layout::new(Faces::load()?);

    l.paragraph(
        "Request for tracing of an illicit small arm or light weapon",
        true,
        15.0,
        0.0,
    );
    l.y += 4.0;
    l.paragraph(
        &format!(
            "Under the International Tracing Instrument (UN, 2005), section V. Reference {}, case {}.",
            f(&["id"]),
            f(&["case_reference"])
        ),
        false,
        BODY,
        0.0,
    );
    if let Some(date) = options.date {
        l.paragraph(&format!("Date of the request: {date}"), false, BODY, 0.0);
    }
    let all_text = v.to_string();
    if !all_text.chars().all(|c| l.faces.prints(c)) {
        l.paragraph(
            "Characters this print cannot show are written as [U+code point] (Unicode); the electronic request carries them as seen.",
            false,
            LABEL,
            0.0,
        );
    }

    l.heading("1. Requesting state");
    l.row("State", &f(&["requesting_state"]));
    l.row("Agency", &f(&["requesting_agency"]));
    l.row("Officer", &f(&["officer"]));
    l.row("Case reference", &f(&["case_reference"]));
    let priority = format!(
        "{}{}",
        f(&["priority", "level"]),
        v["priority"]["justification"]
            .as_str()
            .map(|j| format!(": {j}"))
            .unwrap_or_default()
    );
    l.row("Priority", &priority);
    l.row(
        "Requested states",
        &if recipients.is_empty() {
            "—".to_owned()
        } else {
            recipients.join(", ")
        },
    );

    l.heading("2. The item");
    for (label, key) in [
        ("Kind", "kind"),
        ("Type", "type"),
        ("Make", "make"),
        ("Model", "model"),
        ("Calibre", "calibre"),
        ("Country of manufacture", "country_of_manufacture"),
        ("Year of manufacture", "year_of_manufacture"),
        ("Description", "description"),
    ] {
        l.row(label, &f(&["item", key]));
    }
    l.paragraph("Markings as seen", true, 10.5, 0.0);
    l.y += 2.0;
    let markings = v["item"]["markings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if markings.is_empty() {
        l.row("—", "No marking recorded.");
    }
    for m in &markings {
        let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
        let label = match m["component"].as_str() {
            Some(c) => format!("{} ({c})", s("kind")),
            None => s("kind"),
        };
        let mut value = s("text");
        if let Some(leg) = m["legibility"].as_str().filter(|l| *l != "clear") {
            value.push_str(&format!(" — {leg}"));
        }
        if let Some(note) = m["note"].as_str() {
            value.push_str(&format!(" ({note})"));
        }
        l.row(&label, &value);
    }
    for m in v["item"]["import_marks"].as_array().into_iter().flatten() {
        let mut value = m["text"].as_str().unwrap_or_default().to_owned();
        let said: Vec<String> = [
            m["country"].as_str().map(|c| format!("country {c}")),
            m["year"].as_i64().map(|y| format!("year {y}")),
            m["importer"].as_str().map(|i| format!("importer {i}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !said.is_empty() {
            value.push_str(&format!(" ({})", said.join(", ")));
        }
        l.row("Import mark", &value);
    }
    let photos: Vec<&str> = v["item"]["photos"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    l.row(
        "Photographs",
        &if photos.is_empty() {
            "None sent.".to_owned()
        } else {
            format!(
                "{} sent with this request, by content hash:\n{}",
                photos.len(),
                photos.join("\n")
            )
        },
    );

    l.heading("3. Why the item is considered illicit");
    l.row("Reason", &f(&["illicit", "reason"]));
    l.row("Details", &f(&["illicit", "details"]));
    l.row("Legal basis", &f(&["legal_basis"]));
    l.row("Date found", &f(&["circumstances", "date"]));
    l.row("Country", &f(&["circumstances", "country"]));
    l.row("Place", &f(&["circumstances", "place"]));
    l.row("Circumstances", &f(&["circumstances", "description"]));

    l.heading("4. Use of the answer");
    l.row("Intended use", &f(&["intended_use"]));
    l.row("Confidentiality", &f(&["confidentiality"]));

    if !assessment.gaps.is_empty() {
        l.heading("5. Information not available");
        for g in &assessment.gaps {
            let title = format!(
                "{}{}",
                g.code.as_str(),
                g.detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
            l.ensure(3.0 * leading(BODY));
            l.paragraph(&title, true, LABEL, 0.0);
            l.paragraph(g.why(), false, BODY, 12.0);
            for w in options.waivers.iter().filter(|w| w.gap == g.code) {
                l.paragraph(
                    &format!("Explanation: {}", w.explanation.as_str()),
                    false,
                    BODY,
                    12.0,
                );
            }
            l.y += 3.0;
        }
    }

    l.heading("Acknowledgement requested");
    l.paragraph(
        "Please acknowledge receipt of this request and answer as promptly as possible (ITI paras. 18–23), stating any grounds for delay, restriction or refusal and any conditions on the use of the information.",
        false,
        BODY,
        0.0,
    );

    // The answer, written by hand on the page: kept together.
    let ruled = 9;
    l.ensure(30.0 + 5.0 * leading(BODY) + (ruled as f32 + 3.0) * 20.0);
    l.heading("Answer of the requested state");
    l.paragraph(
        &[
            "Outcome:",
            "☐ traced in full",
            "☐ traced in part",
            "☐ no record",
            "☐ delayed",
            "☐ refused",
        ]
        // No-break spaces: the wrapping collapses ordinary ones.
        .join(" \u{a0}\u{a0}\u{a0}"),
        false,
        BODY,
        0.0,
    );
    l.y += 4.0;
    l.paragraph(
        "Findings (manufacture, transfers, last legal holder, point of diversion), grounds for delay or refusal:",
        false,
        LABEL,
        0.0,
    );
    for _ in 0..ruled {
        l.y += 20.0;
        let y = l.y;
        l.rule(LEFT, RIGHT, y, 0.4);
    }
    l.y += 22.0;
    let y = l.y;
    l.blank(
        "Conditions on the use of the information:",
        LEFT,
        RIGHT - LEFT,
        y,
    );
    l.y += 22.0;
    let y = l.y;
    l.rule(LEFT, RIGHT, y, 0.4);
    l.y += 6.0;

    // The signature block: two columns, kept together.
    let col = (RIGHT - LEFT - 24.0) / 2.0;
    l.ensure(30.0 + leading(10.5) + 5.0 * 24.0 + 4.0 * leading(BODY));
    l.heading("Signatures");
    let top = l.y + 10.5;
    l.line_at(LEFT, top, "For the requesting state", true, 10.5);
    l.line_at(
        LEFT + col + 24.0,
        top,
        "For the requested state",
        true,
        10.5,
    );
    let officer = f(&["officer"]);
    let agency = f(&["requesting_agency"]);
    let mut y = top + 24.0;
    let left_lines: [(&str, Option<String>); 4] = [
        ("Name:", Some(officer)),
        ("Agency:", Some(agency)),
        ("Date:", options.date.map(str::to_owned)),
        ("Signature and stamp:", None),
    ];
    let right_lines = ["Name:", "Function:", "Date:", "Signature and stamp:"];
    for ((label, value), right) in left_lines.iter().zip(right_lines) {
        match value {
            Some(text) => {
                l.line_at(LEFT, y, label, false, LABEL);
                l.blank(right, LEFT + col + 24.0, col, y);
                // A long agency name takes the lines it needs (at most three).
                for (i, line) in l
                    .wrap(text, false, BODY, col - 50.0)
                    .iter()
                    .take(3)
                    .enumerate()
                {
                    if i > 0 {
                        y += leading(BODY);
                    }
                    l.line_at(LEFT + 50.0, y, line, false, BODY);
                }
            }
            None => {
                l.blank(label, LEFT, col, y);
                l.blank(right, LEFT + col + 24.0, col, y);
            }
        }
        y += 24.0;
    }
    l.y = y + 30.0;

    render(l, request, options)
}

/// Draws the laid-out pages, with the running footer.
fn render(
    layout: Layout,
    request: &TraceRequest,
    options: &PdfOptions<'_>,
) -> Result<Vec<u8>, PdfError> {
    let regular = Font::new(REGULAR.into(), 0).ok_or(PdfError::Font)?;
    let bold = Font::new(BOLD.into(), 0).ok_or(PdfError::Font)?;
    let mut doc = Document::new();
    let mut meta = Metadata::new()
        .title(format!("Trace request {}", request.id.as_str()))
        .language("en".to_owned())
        .creator("Tracemark".to_owned())
        // A fixed id: krilla would otherwise derive one, and it must not vary between runs.
        .document_id(format!("tracemark-trace-request-{}", request.id.as_str()));
    if let Some(d) = options.date {
        meta = meta.description(format!("Trace request of {d}"));
    }
    doc.set_metadata(meta);
    let total = layout.pages.len();
    let Layout { faces, pages, .. } = layout;
    for (n, mut ops) in pages.into_iter().enumerate() {
        let footer = faces.printable(&format!(
            "Trace request {} · case {} · page {} of {total}",
            request.id.as_str(),
            request.case_reference.as_str(),
            n + 1
        ));
        let w = faces.width(&footer, false, SMALL, None);
        let footer_y = PAGE_H - 36.0;
        ops.push(Op::Line {
            x1: LEFT,
            y1: footer_y - 12.0,
            x2: RIGHT,
            y2: footer_y - 12.0,
            width: 0.4,
        });
        ops.push(Op::Text {
            x: RIGHT - w.min(RIGHT - LEFT),
            y: footer_y,
            bold: false,
            size: SMALL,
            rtl: false,
            text: footer,
        });
        let settings =
            PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Write("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        surface.set_fill(Some(Fill {
            paint: rgb::Color::new(17, 17, 17).into(),
            ..Fill::default()
        }));
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    bold: b,
                    size,
                    rtl,
                    text,
                } => surface.draw_text(
                    Point::from_xy(x, y),
                    if b { bold.clone() } else { regular.clone() },
                    size,
                    &text,
                    false,
                    if rtl {
                        TextDirection::RightToLeft
                    } else {
                        TextDirection::LeftToRight
                    },
                ),
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(x1, y1);
                    pb.line_to(x2, y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(90, 90, 90).into(),
                            width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                        surface.set_fill(Some(Fill {
                            paint: rgb::Color::new(17, 17, 17).into(),
                            ..Fill::default()
                        }));
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracemark_trace::completeness;

    /// The documentation's example request with markings in Cyrillic and Arabic, and
    /// `filler` sentences in each of three long texts (description, details, circumstances).
    fn request(filler: usize) -> TraceRequest {
        let mut v: Value = serde_json::from_str(tracemark_trace::request::EXAMPLE).unwrap();
        let markings = v["item"]["markings"].as_array_mut().unwrap();
        markings.push(serde_json::json!({"text": "ИЖМЕХ 1974", "kind": "manufacturer", "component": "receiver"}));
        markings.push(serde_json::json!({"text": "مصنع", "kind": "other", "component": "stock", "legibility": "partial"}));
        v["officer"] = "Insp. Алексей Петров".into();
        if filler > 0 {
            let text =
                vec!["Worn bluing, replaced wooden furniture, a sling swivel missing;"; filler]
                    .join(" ");
            v["item"]["description"] = text.clone().into();
            v["illicit"]["details"] = text.clone().into();
            v["circumstances"]["description"] = text.into();
        }
        serde_json::from_value(v).unwrap()
    }

    fn pdf(r: &TraceRequest, options: &PdfOptions<'_>) -> Vec<u8> {
        let a = Assessment {
            gaps: completeness::check(r),
            proposals: Vec::new(),
            custody: Vec::new(),
        };
        print_pdf(r, &a, &["CN".to_owned(), "ET".to_owned()], options).unwrap()
    }

    fn pages(bytes: &[u8]) -> Vec<String> {
        pdf_extract::extract_text_from_mem_by_pages(bytes).unwrap()
    }

    #[test]
    fn a_request_prints_with_every_script_readable_back() {
        let bytes = pdf(&request(0), &PdfOptions::default());
        assert!(bytes.starts_with(b"%PDF-"));
        if let Ok(dir) = std::env::var("TRACEMARK_PDF_OUT") {
            std::fs::write(format!("{dir}/short.pdf"), &bytes).unwrap();
        }
        let pages = pages(&bytes);
        assert_eq!(pages.len(), 2, "the request and the answer sheet");
        let text = pages.concat();
        for expected in [
            "5612345",
            "CR 45/2024 Isiolo",
            "ИЖМЕХ 1974",
            "Алексей Петров",
            "ET 1985",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "Firearms Act (Cap. 114)",
            "Do not contact the importer",
            "CN, ET",
            "Signature and stamp",
            "page 2 of 2",
        ] {
            assert!(text.contains(expected), "{expected} not in:\n{text}");
        }
        // Arabic is drawn right to left (in visual order), so it reads back reversed.
        let arabic: String = "مصنع".chars().rev().collect();
        assert!(
            text.contains("مصنع") || text.contains(&arabic),
            "Arabic not in:\n{text}"
        );
    }

    #[test]
    fn long_text_flows_onto_further_pages_and_output_is_reproducible() {
        let short = pages(&pdf(&request(0), &PdfOptions::default())).len();
        let r = request(150);
        let bytes = pdf(&r, &PdfOptions::default());
        if let Ok(dir) = std::env::var("TRACEMARK_PDF_OUT") {
            std::fs::write(format!("{dir}/long.pdf"), &bytes).unwrap();
        }
        let pages = pages(&bytes);
        // Three texts of 150 lines each (one sentence a line in the value column) at 48 lines
        // a page, besides the short request's two pages: 11.
        assert!(short == 2 && pages.len() == 11, "{} pages", pages.len());
        let n = pages.len();
        for (i, p) in pages.iter().enumerate() {
            assert!(p.contains(&format!("page {} of {n}", i + 1)), "{p}");
        }
        // Every word of the description is printed (none lost at a page break).
        let text = pages.concat();
        assert_eq!(text.matches("sling swivel").count(), 450);
        assert_eq!(bytes, pdf(&r, &PdfOptions::default()));
    }

    #[test]
    fn gaps_print_with_their_explanations_and_the_date_when_given() {
        let mut v = serde_json::to_value(request(0)).unwrap();
        v.as_object_mut().unwrap().remove("legal_basis");
        let r: TraceRequest = serde_json::from_value(v).unwrap();
        let gaps = completeness::check(&r);
        let code = gaps[0].code;
        let waivers = [Waiver {
            gap: code,
            explanation: serde_json::from_value(
                "The prosecutor's file is sealed until trial.".into(),
            )
            .unwrap(),
        }];
        let options = PdfOptions {
            waivers: &waivers,
            date: Some("2024-03-09"),
        };
        let text = pages(&pdf(&r, &options)).concat();
        assert!(text.contains(code.as_str()), "{text}");
        assert!(text.contains("prosecutor's file is sealed"), "{text}");
        assert!(text.contains("2024-03-09"), "{text}");
        let without = pages(&pdf(&r, &PdfOptions::default())).concat();
        assert!(!without.contains("2024-03-09") && !without.contains("sealed"));
    }

    #[test]
    fn characters_the_font_lacks_are_written_as_code_points() {
        let mut v = serde_json::to_value(request(0)).unwrap();
        v["item"]["markings"][1]["text"] = "中国 66".into();
        let r: TraceRequest = serde_json::from_value(v).unwrap();
        let text = pages(&pdf(&r, &PdfOptions::default())).concat();
        assert!(text.contains("[U+4E2D][U+56FD] 66"), "{text}");
        assert!(text.contains("written as [U+code point]"), "{text}");
        // Scripts the font has are printed as they are, and the note is left out.
        let text = pages(&pdf(&request(0), &PdfOptions::default())).concat();
        assert!(!text.contains("[U+"), "{text}");
    }

    #[test]
    fn words_wider_than_the_line_are_broken() {
        let l = Layout::new(Faces::load().unwrap());
        let long = "A".repeat(400);
        let lines = l.wrap(&format!("x {long} y"), false, BODY, 200.0);
        assert!(lines.len() > 3, "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("x{long}y"));
        for line in &lines {
            assert!(l.faces.width(line, false, BODY, None) <= 200.0, "{line}");
        }
    }
}

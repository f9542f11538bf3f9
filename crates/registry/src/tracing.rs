//! Trace requests prepared from the registry: a draft filled in from an item's record, the
//! completeness check and the routing proposal with the item's chain of custody, and the
//! printable request for states that do not run Tracemark (ITI section V; ISACS 05.31).
//!
//! The rules are in `tracemark-trace` (pure); this module only reads the registry to feed
//! them. Nothing here writes: drafts live in the officer's file until the trace life cycle is
//! stored (issue #5, not built yet).

mod pdf;

pub use pdf::{print_pdf, PdfError, PdfOptions};

use crate::query::{self, QueryError};
use crate::Node;
use serde_json::{json, Map, Value};
use tracemark_trace::completeness::{self, Gap};
use tracemark_trace::request::TraceRequest;
use tracemark_trace::routing::{self, CustodyStep, Proposal};

#[derive(Debug, thiserror::Error)]
pub enum TracingError {
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The draft could not be built from the record (a field the record holds in a form the
    /// request refuses, e.g. a marking text with a control character).
    #[error("the item's record does not make a valid request: {0}")]
    Draft(String),
}

/// Who is asking, for a draft.
#[derive(Clone, Debug)]
pub struct Requester {
    pub trace_id: String,
    pub agency: String,
    pub officer: String,
    pub case_reference: String,
}

/// A draft request for `key`, filled in from the registry: identification (kind, type, make,
/// model, calibre, country and year of manufacture), every marking as recorded (import marks
/// also as import marks), the registry item's key, routine priority. What the registry cannot
/// know — why the item is illicit, the legal basis, the circumstances of the find, the
/// intended use — is left for the officer, and the completeness check says so.
pub fn draft_from_item(
    node: &Node,
    key: &str,
    who: &Requester,
) -> Result<TraceRequest, TracingError> {
    let h = query::history(node, key)?;
    let item = &h.projection.item;
    let markings: Vec<Value> = item
        .markings
        .iter()
        .map(|m| {
            let mut o = Map::new();
            o.insert("text".into(), json!(m.text));
            o.insert("kind".into(), json!(m.kind.as_str()));
            if let Some(c) = &m.component {
                o.insert("component".into(), json!(c));
            }
            o.insert("legibility".into(), json!(m.legibility.as_str()));
            if let Some(n) = &m.note {
                o.insert("note".into(), json!(n));
            }
            Value::Object(o)
        })
        .collect();
    let import_marks: Vec<Value> = item
        .markings
        .iter()
        .filter(|m| m.kind.as_str() == "import")
        .map(|m| import_mark(&m.text))
        .collect();
    let mut ident = Map::new();
    ident.insert("kind".into(), json!(item.kind.as_str()));
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            ident.insert(k.into(), v);
        }
    };
    put("type", item.item_type.as_ref().map(|v| json!(v)));
    put("make", item.make.as_ref().map(|v| json!(v)));
    put("model", item.model.as_ref().map(|v| json!(v)));
    put("calibre", item.calibre.as_ref().map(|v| json!(v)));
    put(
        "country_of_manufacture",
        item.country_of_manufacture.map(|c| json!(c.as_str())),
    );
    put(
        "year_of_manufacture",
        item.year_of_manufacture.map(|y| json!(y)),
    );
    ident.insert("markings".into(), Value::Array(markings));
    if !import_marks.is_empty() {
        ident.insert("import_marks".into(), Value::Array(import_marks));
    }
    let draft = json!({
        "id": who.trace_id,
        "requesting_state": node.info.state,
        "requesting_agency": who.agency,
        "officer": who.officer,
        "case_reference": who.case_reference,
        "priority": {"level": "routine"},
        "item": ident,
        "registry_item": key,
    });
    serde_json::from_value(draft).map_err(|e| TracingError::Draft(e.to_string()))
}

/// An import mark as the request carries it: the text as recorded, and the importing
/// country and year when the mark shows them as separate tokens (ITI marks are typically
/// `<country code> <year>` beside the importer's name, e.g. "KE 1985" or "IMP ET-82") — the
/// country routes the request to the state of last legal import.
fn import_mark(text: &str) -> Value {
    let mut mark = json!({"text": text});
    let tokens: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    // A two-letter upper-case token that is an assigned code; the first one wins.
    if let Some(c) = tokens.iter().find_map(|t| {
        (t.len() == 2 && t.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| tracemark_domain::ids::CountryCode::parse(t).ok())
            .flatten()
    }) {
        mark["country"] = json!(c.as_str());
    }
    // A four-digit year (two-digit years are ambiguous and left out).
    if let Some(y) = tokens.iter().find_map(|t| {
        (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i32>().ok())
            .flatten()
            .filter(|y| (1800..=2100).contains(y))
    }) {
        mark["year"] = json!(y);
    }
    mark
}

/// The item's previous holders from its chain of custody, oldest first (voided events left
/// out): who sent it and who received it at each step, in the country the records place
/// them in.
pub fn custody_steps(node: &Node, key: &str) -> Result<Vec<CustodyStep>, TracingError> {
    let h = query::history(node, key)?;
    let mut steps = Vec::new();
    for e in h.projection.events.iter().filter(|e| !e.void) {
        for actor in [&e.event.from, &e.event.to].into_iter().flatten() {
            let Some(country) = actor.country else {
                continue;
            };
            let step = CustodyStep {
                country,
                holder: tracemark_trace::text::Line::parse(&actor.name).ok(),
                role: actor
                    .kind
                    .and_then(|k| tracemark_trace::text::Line::parse(k.as_str()).ok()),
            };
            if !steps.contains(&step) {
                steps.push(step);
            }
        }
    }
    Ok(steps)
}

/// The completeness check and the routing proposal of a request, as one document.
#[derive(Clone, Debug)]
pub struct Assessment {
    pub gaps: Vec<Gap>,
    pub proposals: Vec<Proposal>,
    /// The chain of custody used for the proposal (empty without a registry item).
    pub custody: Vec<CustodyStep>,
}

/// Checks `request` and proposes its recipients, with the chain of custody of its registry
/// item when it names one this registry holds.
pub fn assess(node: &Node, request: &TraceRequest) -> Result<Assessment, TracingError> {
    let custody = match &request.registry_item {
        Some(key) => match custody_steps(node, key.as_str()) {
            Ok(c) => c,
            Err(TracingError::Query(QueryError::NotFound(_))) => Vec::new(),
            Err(e) => return Err(e),
        },
        None => Vec::new(),
    };
    Ok(Assessment {
        gaps: completeness::check(request),
        proposals: routing::propose(request, &custody),
        custody,
    })
}

impl Assessment {
    /// Whether the request may be sent as it is (no blocking gap; weakening gaps are told
    /// but do not stop it). Blocking gaps may still be sent with an explanation each.
    pub fn ready(&self) -> bool {
        completeness::may_send(&self.gaps, &[]).is_ok()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "ready": self.ready(),
            "gaps": self.gaps.iter().map(|g| json!({
                "code": g.code.as_str(),
                "severity": format!("{:?}", g.severity()).to_lowercase(),
                "field": g.field(),
                "detail": g.detail,
                "why": g.why(),
                "fix": g.fix(),
                "waivable": g.code.waivable(),
            })).collect::<Vec<_>>(),
            "proposed_recipients": self.proposals.iter().map(|p| json!({
                "state": p.state.as_str(),
                "reasons": p.reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "custody": self.custody.iter().map(|s| json!({
                "country": s.country.as_str(),
                "holder": s.holder.as_ref().map(|h| h.as_str()),
                "role": s.role.as_ref().map(|r| r.as_str()),
            })).collect::<Vec<_>>(),
        })
    }
}

/// One record of this registry that may be the requested item.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub key: String,
    /// The request's marking it was found by, and how (`exact`, `normalized`).
    pub marking: String,
    pub match_class: &'static str,
    /// Whether the recorded make agrees with the request's (case and spacing aside); `None`
    /// when either side has none.
    pub make_agrees: Option<bool>,
}

/// An answer drafted from this registry for an officer to review: the candidates found by
/// the request's legible serials, and a proposed outcome — `full` when exactly one record
/// matches and its make agrees, `partial` when several might, `no_record` when none does —
/// with findings drafted from the chain of custody. `answer` has the interchange form of an
/// answer (`trace::lifecycle::Outcome` inside), so it can be sent as it is once reviewed.
#[derive(Clone, Debug)]
pub struct DraftAnswer {
    pub candidates: Vec<Candidate>,
    pub answer: Value,
}

impl DraftAnswer {
    pub fn to_json(&self) -> Value {
        json!({
            "candidates": self.candidates.iter().map(|c| json!({
                "item": c.key,
                "marking": c.marking,
                "match_class": c.match_class,
                "make_agrees": c.make_agrees,
            })).collect::<Vec<_>>(),
            "answer": self.answer,
        })
    }
}

fn same_make(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// Drafts the answer to `request` from this registry (the requested state's side). Looks up
/// each legible serial of the request (exact, then across scripts), keeps records whose make
/// does not contradict the request's, and writes the findings from the chain of custody —
/// e.g. "1985-06: imported from China North Industries (CN) by Ministry of Defence (KE),
/// import licence IL-85/112".
///
/// `custodians` restricts the look-up to items the caller may read (need-to-know), as in a
/// search: `None` is no restriction.
pub fn draft_answer(
    node: &Node,
    index: &tracemark_search::Index,
    request: &TraceRequest,
    custodians: Option<&[String]>,
) -> Result<DraftAnswer, TracingError> {
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut searched = Vec::new();
    for m in request.item.serials() {
        // An obliterated serial is not searched as given (a restored one is: it was read).
        if m.legibility.as_str() == "obliterated" {
            continue;
        }
        let text = m.text.as_str();
        if text.contains(['?', '*']) {
            continue;
        }
        searched.push(text.to_owned());
        let mut q = tracemark_search::Query::new(text.to_owned());
        q.mode = tracemark_search::Mode::Normalized;
        q.limit = 20;
        q.custodians = custodians.map(<[String]>::to_vec);
        let Ok(found) = index.search(&q) else {
            continue;
        };
        for hit in found.hits {
            if candidates.iter().any(|c| c.key == hit.item) {
                continue;
            }
            let make_agrees = match (&request.item.make, &hit.make) {
                (Some(a), Some(b)) => Some(same_make(a.as_str(), b)),
                _ => None,
            };
            candidates.push(Candidate {
                key: hit.item,
                marking: text.to_owned(),
                match_class: hit.match_class.as_str(),
                make_agrees,
            });
        }
    }
    let agreeing: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.make_agrees != Some(false))
        .collect();
    let answer = match agreeing.as_slice() {
        [] => json!({"outcome": {"kind": "no_record", "searched": if searched.is_empty() {
            "The request has no legible serial number to search by.".to_owned()
        } else {
            format!(
                "The national register was searched for serial number(s) {} (exact and across scripts){}; no record matches.",
                searched.join(", "),
                request.item.make.as_ref().map(|m| format!(" with make {}", m.as_str())).unwrap_or_default()
            )
        }}}),
        [one] => {
            let findings = findings_for(node, &one.key)?;
            json!({"outcome": {"kind": "full", "findings": findings}})
        }
        several => {
            let findings = findings_for(node, &several[0].key)?;
            let others: Vec<&str> = several[1..].iter().map(|c| c.key.as_str()).collect();
            json!({"outcome": {"kind": "partial", "findings": findings, "missing": format!(
                "{} records match the markings given; these findings are for {} and the others ({}) need the item's other markings or photographs to tell apart.",
                several.len(), several[0].key, others.join(", ")
            )}})
        }
    };
    // Checked against the interchange form, so what the officer reviews can be sent.
    serde_json::from_value::<tracemark_trace::lifecycle::Answer>(answer.clone())
        .map_err(|e| TracingError::Draft(format!("drafting the answer: {e}")))?;
    Ok(DraftAnswer { candidates, answer })
}

/// The findings of one record: its custody in words, the last legal holder, the point of
/// diversion, and the states it went to next.
fn findings_for(node: &Node, key: &str) -> Result<Value, TracingError> {
    let h = query::history(node, key)?;
    let p = &h.projection;
    let actor = |a: &tracemark_domain::model::Actor| {
        format!(
            "{}{}",
            a.name,
            a.country
                .map(|c| format!(" ({})", c.as_str()))
                .unwrap_or_default()
        )
    };
    let mut lines = Vec::new();
    let item = &p.item;
    if let Some(year) = item.year_of_manufacture {
        lines.push(format!(
            "{year}: manufactured{}{}",
            item.make
                .as_deref()
                .map(|m| format!(" by {m}"))
                .unwrap_or_default(),
            item.country_of_manufacture
                .map(|c| format!(" in {}", c.as_str()))
                .unwrap_or_default()
        ));
    }
    let mut next_states = Vec::new();
    for e in p.events.iter().filter(|e| !e.void) {
        let ev = &e.event;
        let mut line = format!(
            "{}: {}",
            ev.date.as_str(),
            ev.event_type.as_str().replace('_', " ")
        );
        if let Some(from) = &ev.from {
            line.push_str(&format!(" from {}", actor(from)));
        }
        if let Some(to) = &ev.to {
            line.push_str(&format!(" to {}", actor(to)));
            if let Some(c) = to.country {
                if c.as_str() != node.info.state && !next_states.contains(&c.as_str().to_owned()) {
                    next_states.push(c.as_str().to_owned());
                }
            }
        }
        if let Some(place) = &ev.place {
            line.push_str(&format!(" in {}", place.country.as_str()));
        }
        if let Some(docs) = e.object.get("documents").and_then(Value::as_array) {
            for d in docs {
                if let (Some(kind), Some(number)) = (d["kind"].as_str(), d["number"].as_str()) {
                    line.push_str(&format!(", {} {number}", kind.replace('_', " ")));
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(format!("Recorded as {key}; no events are recorded."));
    }
    let mut findings = json!({
        "summary": format!("Register record {key}: {}.", lines.join("; ")),
    });
    if let Some(h) = &p.last_legal_holder {
        let mut holder = json!({"name": h.name});
        if let Some(c) = h.country {
            holder["country"] = json!(c.as_str());
        }
        if let Some(l) = &h.licence {
            holder["licence"] = json!(l);
        }
        findings["last_legal_holder"] = holder;
    }
    if let Some(d) = &p.diversion {
        let event = p.events.iter().find(|e| e.seq == d.seq);
        let mut point = json!({
            "description": if d.reported {
                format!("{} (register record {key})", d.event_type.as_str().replace('_', " "))
            } else {
                format!("seized without a prior report of loss or theft: control was lost after the last legal transfer (register record {key})")
            },
        });
        if let Some(e) = event {
            point["date"] = json!(e.event.date.as_str());
            if let Some(pl) = &e.event.place {
                point["country"] = json!(pl.country.as_str());
            }
        }
        findings["point_of_diversion"] = point;
    }
    if !next_states.is_empty() {
        findings["next_states"] = json!(next_states);
    }
    Ok(findings)
}

/// HTML-escapes text for the print view.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The request as a printable page (one A4 sheet for most requests), for a state that does
/// not run Tracemark: every field of the request under the headings an ITI trace request
/// has, the gaps the officer chose to send with, and the recipients. Self-contained (no
/// scripts, no external resources); print it from a browser. [`print_pdf`] lays out the same
/// content as a PDF, with room for the answer and the signatures.
pub fn print_html(
    request: &TraceRequest,
    assessment: &Assessment,
    recipients: &[String],
) -> String {
    let v = serde_json::to_value(request).unwrap_or(Value::Null);
    let text = |p: &[&str]| -> String {
        let mut cur = &v;
        for k in p {
            cur = &cur[*k];
        }
        match cur {
            Value::Null => "—".to_owned(),
            Value::String(s) => esc(s),
            other => esc(&other.to_string()),
        }
    };
    let row =
        |label: &str, value: String| format!("<tr><th>{}</th><td>{value}</td></tr>\n", esc(label));
    let mut html = String::new();
    html.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    html.push_str(&format!("<title>Trace request {}</title>\n", text(&["id"])));
    html.push_str("<style>body{font:11pt/1.4 system-ui,sans-serif;max-width:48em;margin:2em auto;color:#111}h1{font-size:16pt}h2{font-size:12pt;margin-top:1.4em;border-bottom:1px solid #999}table{border-collapse:collapse;width:100%}th{text-align:left;width:14em;vertical-align:top;padding:.15em .5em .15em 0}td{padding:.15em 0}td.m{font-family:ui-monospace,monospace}.gap{margin:.3em 0}@media print{body{margin:0}}</style>\n</head><body>\n");
    html.push_str(&format!(
        "<h1>Request for tracing of an illicit small arm or light weapon</h1>\n<p>Under the International Tracing Instrument (UN, 2005), section V. Reference <b>{}</b>, case {}.</p>\n",
        text(&["id"]),
        text(&["case_reference"])
    ));
    html.push_str("<h2>1. Requesting state</h2>\n<table>\n");
    html.push_str(&row("State", text(&["requesting_state"])));
    html.push_str(&row("Agency", text(&["requesting_agency"])));
    html.push_str(&row("Officer", text(&["officer"])));
    html.push_str(&row(
        "Priority",
        format!(
            "{}{}",
            text(&["priority", "level"]),
            v["priority"]["justification"]
                .as_str()
                .map(|j| format!(": {}", esc(j)))
                .unwrap_or_default()
        ),
    ));
    html.push_str(&row(
        "Requested states",
        if recipients.is_empty() {
            "—".into()
        } else {
            esc(&recipients.join(", "))
        },
    ));
    html.push_str("</table>\n<h2>2. The item</h2>\n<table>\n");
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
        html.push_str(&row(label, text(&["item", key])));
    }
    html.push_str("</table>\n<h3>Markings as seen</h3>\n<table>\n");
    for m in v["item"]["markings"].as_array().into_iter().flatten() {
        let s = |k: &str| m[k].as_str().map(esc).unwrap_or_default();
        let legibility = m["legibility"].as_str().unwrap_or("clear");
        let component = m["component"]
            .as_str()
            .map(|c| format!(" ({})", esc(c)))
            .unwrap_or_default();
        let legibility = if legibility == "clear" {
            String::new()
        } else {
            format!(" — {}", esc(legibility))
        };
        html.push_str(&format!(
            "<tr><th>{}{component}</th><td class=\"m\">{}{legibility}</td></tr>\n",
            s("kind"),
            s("text"),
        ));
    }
    for m in v["item"]["import_marks"].as_array().into_iter().flatten() {
        html.push_str(&row(
            "Import mark",
            format!(
                "<span class=\"m\">{}</span> {}",
                m["text"].as_str().map(esc).unwrap_or_default(),
                m["country"].as_str().map(esc).unwrap_or_default()
            ),
        ));
    }
    let photos: Vec<String> = v["item"]["photos"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(esc)
        .collect();
    if !photos.is_empty() {
        html.push_str(&row(
            "Photographs",
            format!("<span class=\"m\">{}</span>", photos.join("<br>")),
        ));
    }
    html.push_str("</table>\n<h2>3. Why the item is considered illicit</h2>\n<table>\n");
    html.push_str(&row("Reason", text(&["illicit", "reason"])));
    html.push_str(&row("Details", text(&["illicit", "details"])));
    html.push_str(&row("Legal basis", text(&["legal_basis"])));
    html.push_str(&row("Date found", text(&["circumstances", "date"])));
    html.push_str(&row("Country", text(&["circumstances", "country"])));
    html.push_str(&row("Place", text(&["circumstances", "place"])));
    html.push_str(&row(
        "Circumstances",
        text(&["circumstances", "description"]),
    ));
    html.push_str("</table>\n<h2>4. Use of the answer</h2>\n<table>\n");
    html.push_str(&row("Intended use", text(&["intended_use"])));
    html.push_str(&row("Confidentiality", text(&["confidentiality"])));
    html.push_str("</table>\n");
    if !assessment.gaps.is_empty() {
        html.push_str("<h2>5. Information not available</h2>\n");
        for g in &assessment.gaps {
            html.push_str(&format!(
                "<p class=\"gap\"><b>{}</b>{}: {}</p>\n",
                esc(g.code.as_str()),
                g.detail
                    .as_deref()
                    .map(|d| format!(" ({})", esc(d)))
                    .unwrap_or_default(),
                esc(g.why())
            ));
        }
    }
    html.push_str("<h2>Acknowledgement requested</h2>\n<p>Please acknowledge receipt of this request and answer as promptly as possible (ITI paras. 18–23), stating any grounds for delay, restriction or refusal and any conditions on the use of the information.</p>\n</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn import_marks_give_their_country_and_year() {
        let m = super::import_mark("KE 1985");
        assert_eq!(
            (m["country"].as_str(), m["year"].as_i64()),
            (Some("KE"), Some(1985))
        );
        let m = super::import_mark("IMP-ET-1982 Addis");
        assert_eq!(
            (m["country"].as_str(), m["year"].as_i64()),
            (Some("ET"), Some(1982))
        );
        // Not a code (XK is not assigned), lower case, a two-digit year: nothing guessed.
        let m = super::import_mark("XK ke 85");
        assert!(m.get("country").is_none() && m.get("year").is_none(), "{m}");
        assert_eq!(m["text"], "XK ke 85");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<b a='1'>&\"</b>"),
            "&lt;b a=&#39;1&#39;&gt;&amp;&quot;&lt;/b&gt;"
        );
    }
}

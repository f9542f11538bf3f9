//! Trace requests prepared from the registry: a draft filled in from an item's record, the
//! completeness check and the routing proposal with the item's chain of custody, and the
//! printable request for states that do not run Tracemark (ITI section V; ISACS 05.31).
//!
//! The rules are in `tracemark-trace` (pure); this module only reads the registry to feed
//! them. Nothing here writes: drafts live in the officer's file until the trace life cycle is
//! stored (issue #5, not built yet).

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
        .map(|m| json!({"text": m.text}))
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
/// scripts, no external resources); print it from a browser or save it as PDF.
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
    fn escapes_markup() {
        assert_eq!(
            esc("<b a='1'>&\"</b>"),
            "&lt;b a=&#39;1&#39;&gt;&amp;&quot;&lt;/b&gt;"
        );
    }
}

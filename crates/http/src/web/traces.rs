//! Traces: the tracing officer's inbox and outbox, the guided request form, the case page
//! with the steps its state allows, the answer drafted from the registry, the print view.
//!
//! | route | page |
//! | --- | --- |
//! | `GET /traces` | inbox (requests received) and outbox (sent), with state, peer states, what is overdue |
//! | `GET /traces/new?item=&case=` | the guided request form, prefilled from the item's trace draft when `item` and `case` are given, with the completeness check per field |
//! | `POST /traces/new` | `action=check`: the completeness check per field, nothing stored; `action=create`: the draft is put on record, 303 to its case page (422 naming the fields when the request is malformed, nothing stored) |
//! | `GET /traces/{key}/edit?purpose=` | a draft in the guided form, checked |
//! | `POST /traces/{key}/edit` | `action=check` as above; else the draft is amended (same fields as `/traces/new`, plus `purpose`), 303 to its case page |
//! | `GET /traces/{key}?purpose=` | the case: request, state, deadlines, exchanges, history, the allowed steps as forms (without a purpose: asks for one) |
//! | `POST /traces/{key}/send` | `to`, `waiver_<gap>`: sends the draft |
//! | `POST /traces/{key}/acknowledge` | `note` (and `for`, `channel` on the requesting side: a step that came another way) |
//! | `POST /traces/{key}/answer` | the answer form (prefilled with the drafted answer on the requested side) |
//! | `POST /traces/{key}/follow-up` | `to`, `question` |
//! | `POST /traces/{key}/chain` | `to`, `id` |
//! | `POST /traces/{key}/close` | `rating_<state>`, `comment_<state>` per answering state |
//! | `GET /traces/{key}/print?purpose=` | the request as a printable page (`@media print`) |
//!
//! Every form carries `csrf` and the page's `purpose` (hidden). After a step: 303 to the case
//! page (`&done=<step>` says what was done).
//!
//! **Same functions as the API.** Reads: [`traces_api::trace_rows`], [`traces_api::trace_doc`],
//! [`traces_api::overdue_doc`], [`trace_api::draft_request`] (`/items/{key}/trace-draft`),
//! [`trace_api::assess_request`] (`/traces/check`), [`trace_api::draft_answer`]
//! (`/traces/answer-draft`). Writes: [`traces_api::create_request`] (`POST /traces`),
//! [`traces_api::amend_step`] (`PUT /traces/{key}`) and the `*_step` functions of
//! `POST /traces/{key}/…`, given the JSON body the API would get:
//! same policy decision, audit entry, validation and life-cycle refusals. A refusal by the
//! life-cycle rules (409) is shown on the case page in words, with the engine's own reason.
//!
//! The print view is this module's own template (in the page's language, with the site's
//! style sheet): the engine's `tracing::print_html` is a whole English document with inline
//! styles the pages' Content-Security-Policy forbids, so it does not fit.

use super::{csrf, Ctx};
use crate::auth::{self, check_purpose, Caller};
use crate::error::ApiError;
use crate::{trace_api, traces_api, AppState};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracemark_domain::model::{ItemKind, Legibility, MarkingKind};
use tracemark_trace::completeness::Severity;
use tracemark_trace::request::TraceRequest;

use super::i18n::Tr;

/// This area's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/traces", get(list_page))
        .route("/traces/new", get(new_page).post(new_submit))
        .route("/traces/{key}", get(case_page))
        .route("/traces/{key}/print", get(print_page))
        .route("/traces/{key}/edit", get(edit_page).post(edit_submit))
        .route("/traces/{key}/{step}", post(step_submit))
}

// --- Small helpers -----------------------------------------------------------------------

/// One field's error: the input's id, its label, the message.
struct FieldErr {
    field: String,
    label: String,
    message: String,
}

/// Percent-encodes `s` for a path segment or a query value (all but the unreserved).
pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The case page of trace `key`, read for `purpose` (none: the page asks for one).
pub(crate) fn key_path(key: &str, purpose: &str) -> String {
    if purpose.is_empty() {
        format!("/traces/{}", enc(key))
    } else {
        format!("/traces/{}?purpose={}", enc(key), enc(purpose))
    }
}

/// A trace's life-cycle state in words.
pub(crate) fn row_status(tr: &Tr, status: &str) -> String {
    tr.code("trace-status", status)
}

/// A posted form, field by field (repeated rows are `name_0`, `name_1`, …).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, k: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }
}

fn s(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for k in path {
        cur = &cur[*k];
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn opt_str(m: &mut Map<String, Value>, k: &str, v: &str) {
    if !v.is_empty() {
        m.insert(k.into(), Value::String(v.to_owned()));
    }
}

fn codes(list: &str) -> Vec<String> {
    list.split([',', ' ', ';'])
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

async fn node_state(state: &AppState) -> Result<String, ApiError> {
    state.reader().run(|node| node.info.state.clone()).await
}

// --- The list ----------------------------------------------------------------------------

struct ListRow {
    href: String,
    key: String,
    case: String,
    status: String,
    peers: String,
    priority: String,
    updated: String,
    datetime: String,
    /// What is overdue on it, in words (empty: nothing).
    overdue: Vec<String>,
}

#[derive(Template)]
#[template(path = "web/traces.html")]
struct ListPage {
    c: super::Chrome,
    sections: Vec<ListSection>,
}

/// The inbox or the outbox.
struct ListSection {
    id: &'static str,
    title: &'static str,
    empty: &'static str,
    peers: &'static str,
    rows: Vec<ListRow>,
}

/// The overdue obligations by trace key, in words.
fn overdue_by_key(tr: &Tr, doc: &Value) -> Vec<(String, String, String)> {
    doc.get("overdue")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|o| {
                    (
                        s(o, &["key"]),
                        tr.args(
                            "trace-overdue-line",
                            &[
                                ("state", s(o, &["owed_by"]).into()),
                                (
                                    "obligation",
                                    tr.code("trace-obligation", &s(o, &["obligation"])).into(),
                                ),
                                ("due", tr.date(&s(o, &["due_at"])).into()),
                            ],
                        ),
                        s(o, &["due_at"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /traces`.
async fn list_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let rows = match traces_api::trace_rows(&state, &caller, "trace list").await {
        Ok(r) => r,
        Err(e) => return ctx.error_page(&e),
    };
    let overdue = match traces_api::overdue_doc(&state, &caller, "trace list").await {
        Ok(d) => overdue_by_key(&tr, &d),
        Err(e) => return ctx.error_page(&e),
    };
    let (mut inbox, mut outbox) = (Vec::new(), Vec::new());
    for r in rows {
        let line = ListRow {
            href: key_path(&r.key, &r.case_reference),
            status: row_status(&tr, &r.status),
            peers: if r.role == "requested" {
                r.requesting_state.clone()
            } else {
                r.requested_states.replace(',', ", ")
            },
            priority: r
                .priority
                .as_deref()
                .map(|p| tr.code("trace-priority", p))
                .unwrap_or_default(),
            updated: tr.date(&r.updated_at),
            datetime: r.updated_at.clone(),
            overdue: overdue
                .iter()
                .filter(|(k, _, _)| *k == r.key)
                .map(|(_, w, _)| w.clone())
                .collect(),
            case: r.case_reference.clone(),
            key: r.key.clone(),
        };
        if r.role == "requested" {
            inbox.push(line);
        } else {
            outbox.push(line);
        }
    }
    let page = ListPage {
        c: ctx.chrome("trace-list-title"),
        sections: vec![
            ListSection {
                id: "inbox",
                title: "trace-inbox-title",
                empty: "trace-inbox-empty",
                peers: "trace-col-requesting",
                rows: inbox,
            },
            ListSection {
                id: "outbox",
                title: "trace-outbox-title",
                empty: "trace-outbox-empty",
                peers: "trace-col-requested",
                rows: outbox,
            },
        ],
    };
    ctx.render(StatusCode::OK, &page)
}

// --- The guided request form -------------------------------------------------------------

/// The codes of a data-model list, in its order (the domain's, so a kind added there is
/// offered here).
fn model_codes<T: Copy>(all: &[T], code: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|k| code(*k)).collect()
}
// The trace request's reasons (crates/trace's `IllicitReason`, which has no list of its own).
const REASONS: [&str; 5] = ["seized", "found", "surrendered", "captured", "other"];
const CHANNELS: [&str; 5] = ["paper", "email", "fax", "phone", "interpol"];
const OUTCOMES: [&str; 5] = ["full", "partial", "no_record", "restricted", "refused"];
const GROUNDS: [&str; 4] = [
    "investigation",
    "confidentiality",
    "national_security",
    "other",
];

/// An option of a `<select>`: code, words, selected.
pub(crate) struct Opt {
    code: String,
    label: String,
    selected: bool,
}

fn options(tr: &Tr, prefix: &str, list: &[&str], chosen: &str, blank: bool) -> Vec<Opt> {
    let mut out = Vec::new();
    if blank {
        out.push(Opt {
            code: String::new(),
            label: tr.t("trace-choose"),
            selected: chosen.is_empty(),
        });
    }
    out.extend(list.iter().map(|c| Opt {
        code: (*c).to_owned(),
        label: tr.code(prefix, c),
        selected: *c == chosen,
    }));
    out
}

/// One marking row of the form.
struct MarkRow {
    text: String,
    kind: String,
    component: String,
    legibility: String,
}

/// One import-mark row of the form.
struct ImportRow {
    text: String,
    country: String,
    year: String,
}

/// The request as the form holds it (every field as typed).
#[derive(Default)]
struct RequestForm {
    id: String,
    case_reference: String,
    requesting_agency: String,
    officer: String,
    priority: String,
    justification: String,
    kind: String,
    item_type: String,
    make: String,
    model: String,
    calibre: String,
    country_of_manufacture: String,
    year_of_manufacture: String,
    markings: Vec<MarkRow>,
    imports: Vec<ImportRow>,
    photos: String,
    description: String,
    illicit_reason: String,
    illicit_details: String,
    legal_basis: String,
    found_date: String,
    found_country: String,
    found_place: String,
    found_description: String,
    intended_use: String,
    confidentiality: String,
    registry_item: String,
    parent_trace: String,
}

impl RequestForm {
    fn from_request(r: &TraceRequest) -> RequestForm {
        let v = serde_json::to_value(r).unwrap_or(Value::Null);
        let item = &v["item"];
        let list = |k: &str| item[k].as_array().cloned().unwrap_or_default();
        RequestForm {
            id: s(&v, &["id"]),
            case_reference: s(&v, &["case_reference"]),
            requesting_agency: s(&v, &["requesting_agency"]),
            officer: s(&v, &["officer"]),
            priority: s(&v, &["priority", "level"]),
            justification: s(&v, &["priority", "justification"]),
            kind: s(item, &["kind"]),
            item_type: s(item, &["type"]),
            make: s(item, &["make"]),
            model: s(item, &["model"]),
            calibre: s(item, &["calibre"]),
            country_of_manufacture: s(item, &["country_of_manufacture"]),
            year_of_manufacture: s(item, &["year_of_manufacture"]),
            markings: list("markings")
                .iter()
                .map(|m| MarkRow {
                    text: s(m, &["text"]),
                    kind: s(m, &["kind"]),
                    component: s(m, &["component"]),
                    legibility: s(m, &["legibility"]),
                })
                .collect(),
            imports: list("import_marks")
                .iter()
                .map(|m| ImportRow {
                    text: s(m, &["text"]),
                    country: s(m, &["country"]),
                    year: s(m, &["year"]),
                })
                .collect(),
            photos: list("photos")
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            description: s(item, &["description"]),
            illicit_reason: s(&v, &["illicit", "reason"]),
            illicit_details: s(&v, &["illicit", "details"]),
            legal_basis: s(&v, &["legal_basis"]),
            found_date: s(&v, &["circumstances", "date"]),
            found_country: s(&v, &["circumstances", "country"]),
            found_place: s(&v, &["circumstances", "place"]),
            found_description: s(&v, &["circumstances", "description"]),
            intended_use: s(&v, &["intended_use"]),
            confidentiality: s(&v, &["confidentiality"]),
            registry_item: s(&v, &["registry_item"]),
            parent_trace: s(&v, &["parent_trace"]),
        }
    }

    fn from_fields(f: &Fields) -> RequestForm {
        let mut markings = Vec::new();
        let mut imports = Vec::new();
        for i in 0..50 {
            let text = f.get(&format!("marking_text_{i}"));
            let kind = f.get(&format!("marking_kind_{i}"));
            let component = f.get(&format!("marking_component_{i}"));
            if !text.is_empty() || !component.is_empty() {
                markings.push(MarkRow {
                    text: text.to_owned(),
                    kind: kind.to_owned(),
                    component: component.to_owned(),
                    legibility: f.get(&format!("marking_legibility_{i}")).to_owned(),
                });
            }
            let text = f.get(&format!("import_text_{i}"));
            let country = f.get(&format!("import_country_{i}"));
            let year = f.get(&format!("import_year_{i}"));
            if !text.is_empty() || !country.is_empty() || !year.is_empty() {
                imports.push(ImportRow {
                    text: text.to_owned(),
                    country: country.to_owned(),
                    year: year.to_owned(),
                });
            }
        }
        let g = |k: &str| f.get(k).to_owned();
        RequestForm {
            id: g("id"),
            case_reference: g("case_reference"),
            requesting_agency: g("requesting_agency"),
            officer: g("officer"),
            priority: g("priority"),
            justification: g("justification"),
            kind: g("kind"),
            item_type: g("type"),
            make: g("make"),
            model: g("model"),
            calibre: g("calibre"),
            country_of_manufacture: g("country_of_manufacture").to_uppercase(),
            year_of_manufacture: g("year_of_manufacture"),
            markings,
            imports,
            photos: g("photos"),
            description: g("description"),
            illicit_reason: g("illicit_reason"),
            illicit_details: g("illicit_details"),
            legal_basis: g("legal_basis"),
            found_date: g("found_date"),
            found_country: g("found_country").to_uppercase(),
            found_place: g("found_place"),
            found_description: g("found_description"),
            intended_use: g("intended_use"),
            confidentiality: g("confidentiality"),
            registry_item: g("registry_item"),
            parent_trace: g("parent_trace"),
        }
    }

    /// The fields a request cannot be without (the interchange form requires them).
    fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (v, id) in [
            (&self.id, "id"),
            (&self.case_reference, "case_reference"),
            (&self.requesting_agency, "requesting_agency"),
            (&self.officer, "officer"),
            (&self.kind, "kind"),
        ] {
            if v.is_empty() {
                out.push(id);
            }
        }
        out
    }

    /// The request's interchange form (what `POST /api/v1/traces` takes as its body).
    fn to_json(&self, requesting_state: &str) -> Value {
        let mut item = Map::new();
        item.insert("kind".into(), self.kind.clone().into());
        opt_str(&mut item, "type", &self.item_type);
        opt_str(&mut item, "make", &self.make);
        opt_str(&mut item, "model", &self.model);
        opt_str(&mut item, "calibre", &self.calibre);
        opt_str(
            &mut item,
            "country_of_manufacture",
            &self.country_of_manufacture,
        );
        if !self.year_of_manufacture.is_empty() {
            item.insert(
                "year_of_manufacture".into(),
                self.year_of_manufacture
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| self.year_of_manufacture.clone().into()),
            );
        }
        let markings: Vec<Value> = self
            .markings
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("text".into(), m.text.clone().into());
                o.insert(
                    "kind".into(),
                    if m.kind.is_empty() { "serial" } else { &m.kind }.into(),
                );
                opt_str(&mut o, "component", &m.component);
                if !m.legibility.is_empty() && m.legibility != "clear" {
                    o.insert("legibility".into(), m.legibility.clone().into());
                }
                Value::Object(o)
            })
            .collect();
        if !markings.is_empty() {
            item.insert("markings".into(), markings.into());
        }
        let imports: Vec<Value> = self
            .imports
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("text".into(), m.text.clone().into());
                opt_str(&mut o, "country", &m.country.to_uppercase());
                if !m.year.is_empty() {
                    o.insert(
                        "year".into(),
                        m.year
                            .parse::<i64>()
                            .map(Value::from)
                            .unwrap_or_else(|_| m.year.clone().into()),
                    );
                }
                Value::Object(o)
            })
            .collect();
        if !imports.is_empty() {
            item.insert("import_marks".into(), imports.into());
        }
        let photos: Vec<Value> = self
            .photos
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Value::String(l.to_owned()))
            .collect();
        if !photos.is_empty() {
            item.insert("photos".into(), photos.into());
        }
        opt_str(&mut item, "description", &self.description);
        let mut r = Map::new();
        r.insert("id".into(), self.id.clone().into());
        r.insert("requesting_state".into(), requesting_state.into());
        r.insert(
            "requesting_agency".into(),
            self.requesting_agency.clone().into(),
        );
        r.insert("officer".into(), self.officer.clone().into());
        r.insert("case_reference".into(), self.case_reference.clone().into());
        let priority = if self.priority == "urgent" {
            let mut p = Map::new();
            p.insert("level".into(), "urgent".into());
            opt_str(&mut p, "justification", &self.justification);
            Value::Object(p)
        } else {
            json!({"level": "routine"})
        };
        r.insert("priority".into(), priority);
        r.insert("item".into(), Value::Object(item));
        if !self.illicit_reason.is_empty() {
            let mut o = Map::new();
            o.insert("reason".into(), self.illicit_reason.clone().into());
            opt_str(&mut o, "details", &self.illicit_details);
            r.insert("illicit".into(), Value::Object(o));
        }
        opt_str(&mut r, "legal_basis", &self.legal_basis);
        if [
            &self.found_date,
            &self.found_country,
            &self.found_place,
            &self.found_description,
        ]
        .iter()
        .any(|v| !v.is_empty())
        {
            let mut o = Map::new();
            o.insert("date".into(), self.found_date.clone().into());
            o.insert("country".into(), self.found_country.clone().into());
            opt_str(&mut o, "place", &self.found_place);
            opt_str(&mut o, "description", &self.found_description);
            r.insert("circumstances".into(), Value::Object(o));
        }
        opt_str(&mut r, "intended_use", &self.intended_use);
        opt_str(&mut r, "confidentiality", &self.confidentiality);
        opt_str(&mut r, "registry_item", &self.registry_item);
        opt_str(&mut r, "parent_trace", &self.parent_trace);
        Value::Object(r)
    }
}

/// The form field of a path of the interchange form (`item.markings[1].text`).
fn request_field(path: &str) -> String {
    let p = path.trim_start_matches('.');
    if let Some(rest) = p.strip_prefix("item.markings[") {
        let (i, tail) = rest.split_once(']').unwrap_or((rest, ""));
        let f = match tail.trim_start_matches('.') {
            "kind" => "kind",
            "component" => "component",
            "legibility" => "legibility",
            _ => "text",
        };
        return format!("marking_{f}_{i}");
    }
    if let Some(rest) = p.strip_prefix("item.import_marks[") {
        let (i, tail) = rest.split_once(']').unwrap_or((rest, ""));
        let f = match tail.trim_start_matches('.') {
            "country" => "country",
            "year" => "year",
            _ => "text",
        };
        return format!("import_{f}_{i}");
    }
    match p {
        "item.kind" => "kind",
        "item.type" => "type",
        "item.make" => "make",
        "item.model" => "model",
        "item.calibre" => "calibre",
        "item.country_of_manufacture" => "country_of_manufacture",
        "item.year_of_manufacture" => "year_of_manufacture",
        "item.markings" => "marking_text_0",
        "item.import_marks" => "import_text_0",
        "item.photos" => "photos",
        p if p.starts_with("item.photos") => "photos",
        "item.description" => "description",
        "illicit" | "illicit.reason" => "illicit_reason",
        "illicit.details" => "illicit_details",
        "legal_basis" => "legal_basis",
        "circumstances" | "circumstances.date" => "found_date",
        "circumstances.country" => "found_country",
        "circumstances.place" => "found_place",
        "circumstances.description" => "found_description",
        "intended_use" => "intended_use",
        "confidentiality" => "confidentiality",
        "registry_item" => "registry_item",
        "parent_trace" => "parent_trace",
        "priority" | "priority.justification" => "justification",
        "id" => "id",
        "officer" => "officer",
        "requesting_agency" => "requesting_agency",
        "case_reference" => "case_reference",
        _ => "id",
    }
    .to_owned()
}

/// The message id of a form field's label.
fn label_of(field: &str) -> String {
    let base = field
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .trim_end_matches('_')
        .replace('_', "-");
    format!("trace-field-{base}")
}

/// One gap of the completeness check, in words.
struct GapView {
    /// The gap's stable code (what a waiver names).
    code: &'static str,
    field: String,
    blocking: bool,
    /// Whether a waiver may explain it (an urgent request without a reason may not be sent).
    waivable: bool,
    what: String,
    why: String,
}

fn gap_views(tr: &Tr, a: &tracemark_registry::tracing::Assessment) -> Vec<GapView> {
    a.gaps
        .iter()
        .map(|g| GapView {
            code: g.code.as_str(),
            field: request_field(g.field()),
            blocking: g.severity() == Severity::Blocking,
            what: tr.t(&format!("trace-gap-{}", g.code.as_str().replace('_', "-"))),
            why: tr.t(&format!(
                "trace-gap-{}-why",
                g.code.as_str().replace('_', "-")
            )),
            waivable: g.code.waivable(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "web/traces_new.html")]
struct NewPage {
    c: super::Chrome,
    f: RequestForm,
    /// The item-draft form's values.
    from_item: String,
    from_case: String,
    errors: Vec<FieldErr>,
    /// The completeness check, when it was run.
    gaps: Option<Vec<GapView>>,
    proposed: Vec<String>,
    kinds: Vec<Opt>,
    reasons: Vec<Opt>,
    /// Per marking row (existing and one blank): its kind and legibility options.
    mark_rows: Vec<(usize, MarkRow, Vec<Opt>, Vec<Opt>)>,
    import_rows: Vec<(usize, ImportRow)>,
    /// Amending a draft: its key (percent-encoded) and the purpose it is read for.
    editing: Option<(String, String)>,
    /// A refusal by the life-cycle rules, in words.
    refusal: Option<String>,
}

impl NewPage {
    fn error(&self, id: impl AsRef<str>) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == id.as_ref())
            .map(|e| e.message.as_str())
    }

    fn gaps_for(&self, id: impl AsRef<str>) -> Vec<&GapView> {
        self.gaps
            .as_ref()
            .map(|g| g.iter().filter(|g| g.field == id.as_ref()).collect())
            .unwrap_or_default()
    }

    fn invalid(&self, id: impl AsRef<str>) -> bool {
        self.error(id).is_some()
    }

    /// The label of the field `id`.
    fn label(&self, id: impl AsRef<str>) -> String {
        self.c.t(&label_of(id.as_ref()))
    }

    /// The id of row `i`'s field `prefix`.
    fn idx(&self, prefix: &str, i: &usize) -> String {
        format!("{prefix}_{i}")
    }
}

fn new_page_of(
    ctx: &Ctx,
    f: RequestForm,
    errors: Vec<FieldErr>,
    gaps: Option<Vec<GapView>>,
    proposed: Vec<String>,
) -> NewPage {
    let tr = ctx.tr;
    let mut marks: Vec<MarkRow> = f
        .markings
        .iter()
        .map(|m| MarkRow {
            text: m.text.clone(),
            kind: m.kind.clone(),
            component: m.component.clone(),
            legibility: m.legibility.clone(),
        })
        .collect();
    marks.push(MarkRow {
        text: String::new(),
        kind: if marks.is_empty() { "serial" } else { "" }.into(),
        component: String::new(),
        legibility: String::new(),
    });
    let mark_rows = marks
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let k = options(
                &tr,
                "mark",
                &model_codes(MarkingKind::ALL, MarkingKind::as_str),
                &m.kind,
                false,
            );
            let l = options(
                &tr,
                "legibility",
                &model_codes(Legibility::ALL, Legibility::as_str),
                if m.legibility.is_empty() {
                    "clear"
                } else {
                    &m.legibility
                },
                false,
            );
            (i, m, k, l)
        })
        .collect();
    let mut imports: Vec<ImportRow> = f
        .imports
        .iter()
        .map(|m| ImportRow {
            text: m.text.clone(),
            country: m.country.clone(),
            year: m.year.clone(),
        })
        .collect();
    imports.push(ImportRow {
        text: String::new(),
        country: String::new(),
        year: String::new(),
    });
    NewPage {
        c: ctx.chrome("trace-new-title"),
        kinds: options(
            &tr,
            "trace-kind",
            &model_codes(ItemKind::ALL, ItemKind::as_str),
            &f.kind,
            true,
        ),
        reasons: options(&tr, "trace-reason", &REASONS, &f.illicit_reason, true),
        from_item: f.registry_item.clone(),
        from_case: f.case_reference.clone(),
        f,
        errors,
        gaps,
        proposed,
        mark_rows,
        import_rows: imports.into_iter().enumerate().collect(),
        editing: None,
        refusal: None,
    }
}

#[derive(Deserialize)]
struct NewParams {
    item: Option<String>,
    case: Option<String>,
}

/// `GET /traces/new?item=&case=`.
async fn new_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(p): Query<NewParams>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    // The form is for those who may draft a trace (the policy is asked without an audit
    // entry: creating is authorized and audited by `create_request`).
    let may_trace = state
        .policy()
        .decide(
            &caller.principal,
            tracemark_access::policy::Action::Trace,
            &tracemark_access::policy::Resource::Registry,
            "",
        )
        .is_ok_and(|d| d.allowed);
    if !may_trace {
        return ctx.error_page(&ApiError::new(
            StatusCode::FORBIDDEN,
            crate::schema::ErrorCode::Forbidden,
            "only tracing officers draft traces",
        ));
    }
    let item = p.item.unwrap_or_default().trim().to_owned();
    let case = p.case.unwrap_or_default().trim().to_owned();
    let mut errors = Vec::new();
    let mut form = RequestForm {
        requesting_agency: caller.principal.agency.clone(),
        officer: caller.principal.name.clone(),
        priority: "routine".into(),
        kind: "firearm".into(),
        registry_item: item.clone(),
        case_reference: case.clone(),
        ..RequestForm::default()
    };
    let (mut gaps, mut proposed) = (None, Vec::new());
    if !item.is_empty() {
        match check_purpose(Some(&case), true) {
            Err(_) => errors.push(FieldErr {
                field: "from_case".into(),
                label: tr.t("trace-field-from-case"),
                message: tr.t("trace-error-case-for-item"),
            }),
            Ok(case) => {
                let request = match trace_api::draft_request(
                    &state,
                    &caller,
                    item.clone(),
                    case.clone(),
                    None,
                )
                .await
                {
                    Ok(r) => r,
                    Err(e) => return ctx.error_page(&e),
                };
                form = RequestForm::from_request(&request);
                match trace_api::assess_request(&state, &caller, Some(&case), request).await {
                    Ok(a) => {
                        proposed = a
                            .proposals
                            .iter()
                            .map(|p| p.state.as_str().to_owned())
                            .collect();
                        gaps = Some(gap_views(&tr, &a));
                    }
                    Err(e) => return ctx.error_page(&e),
                }
            }
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = new_page_of(&ctx, form, errors, gaps, proposed);
    page.from_item = item;
    page.from_case = case;
    ctx.render(status, &page)
}

/// The request of a form: the fields it lacks, or the request (422 errors named by field).
fn parse_form_request(
    tr: &Tr,
    form: &RequestForm,
    requesting_state: &str,
) -> Result<TraceRequest, Vec<FieldErr>> {
    let missing = form.missing();
    if !missing.is_empty() {
        return Err(missing
            .into_iter()
            .map(|id| FieldErr {
                field: id.into(),
                label: tr.t(&label_of(id)),
                message: tr.t("trace-error-required"),
            })
            .collect());
    }
    let body = form.to_json(requesting_state);
    serde_path_to_error::deserialize::<_, TraceRequest>(body).map_err(|e| {
        let field = request_field(&e.path().to_string());
        vec![FieldErr {
            label: tr.t(&label_of(&field)),
            field,
            message: tr.t("trace-error-invalid"),
        }]
    })
}

/// The form field named by an engine message about a request (its first `` `path` ``).
fn request_field_in(message: &str) -> String {
    let named = message.split('`').nth(1).unwrap_or("id");
    request_field(named)
}

/// `POST /traces/new`: `action=check` runs the completeness check; `action=create` puts the
/// draft on record through [`traces_api::create_request`].
async fn new_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    request_submit(state, headers, uri, pairs, None).await
}

/// `POST /traces/{key}/edit`: `action=check` as above; else the draft is amended through
/// [`traces_api::amend_step`] (`PUT /api/v1/traces/{key}`).
async fn edit_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    request_submit(state, headers, uri, pairs, Some(key)).await
}

async fn request_submit(
    state: AppState,
    headers: HeaderMap,
    uri: Uri,
    pairs: Vec<(String, String)>,
    editing: Option<String>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let f = Fields(pairs);
    if !csrf::check(&headers, f.get("csrf")) {
        return ctx.csrf_refused();
    }
    let form = RequestForm::from_fields(&f);
    let purpose = f.get("purpose").to_owned();
    let page_of = |form: RequestForm,
                   errors: Vec<FieldErr>,
                   gaps: Option<Vec<GapView>>,
                   proposed: Vec<String>| {
        let mut page = new_page_of(&ctx, form, errors, gaps, proposed);
        if let Some(key) = &editing {
            page.c = ctx.chrome("trace-edit-title");
            page.editing = Some((enc(key), purpose.clone()));
        }
        page
    };
    let me = match node_state(&state).await {
        Ok(s) => s,
        Err(e) => return ctx.error_page(&e),
    };
    let request = match parse_form_request(&tr, &form, &me) {
        Ok(r) => r,
        Err(errors) => {
            let page = page_of(form, errors, None, Vec::new());
            return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if f.get("action") == "check" {
        let purpose = form.case_reference.clone();
        return match trace_api::assess_request(&state, &caller, Some(&purpose), request).await {
            Ok(a) => {
                let proposed = a
                    .proposals
                    .iter()
                    .map(|p| p.state.as_str().to_owned())
                    .collect();
                let gaps = gap_views(&tr, &a);
                let page = page_of(form, Vec::new(), Some(gaps), proposed);
                ctx.render(StatusCode::OK, &page)
            }
            Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
                let errors = vec![FieldErr {
                    field: "registry_item".into(),
                    label: tr.t("trace-field-registry-item"),
                    message: tr.t("trace-error-invalid"),
                }];
                let page = page_of(form, errors, None, Vec::new());
                ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => ctx.error_page(&e),
        };
    }
    let (result, done) = match &editing {
        None => (
            traces_api::create_request(&state, &caller, request).await,
            "draft",
        ),
        Some(key) => {
            let body = Bytes::from(form.to_json(&me).to_string());
            (
                traces_api::amend_step(&state, &caller, key.clone(), body).await,
                "amend",
            )
        }
    };
    match result {
        Ok(r) => {
            let purpose = if purpose.is_empty() {
                form.case_reference.clone()
            } else {
                purpose.clone()
            };
            ctx.redirect(&done_path(&r.key, &purpose, done))
        }
        Err(e) if e.status == StatusCode::CONFLICT && editing.is_none() => {
            let errors = vec![FieldErr {
                field: "id".into(),
                label: tr.t("trace-field-id"),
                message: tr.t("trace-error-id-taken"),
            }];
            let page = page_of(form, errors, None, Vec::new());
            ctx.render(StatusCode::CONFLICT, &page)
        }
        Err(e) if e.status == StatusCode::CONFLICT => {
            let mut page = page_of(form, Vec::new(), None, Vec::new());
            page.refusal = Some(format!(
                "{} {}",
                tr.t("trace-refused-amend"),
                tr.arg("trace-refused-detail", "reason", &e.message)
            ));
            ctx.render(StatusCode::CONFLICT, &page)
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let field = request_field_in(&e.message);
            let errors = vec![FieldErr {
                label: tr.t(&label_of(&field)),
                field,
                message: tr.t("trace-error-invalid"),
            }];
            let page = page_of(form, errors, None, Vec::new());
            ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => ctx.error_page(&e),
    }
}

/// The signed-in person's read of a trace for the stated purpose (decided and audited as
/// `GET /api/v1/traces/{key}`), or the page to answer instead: sign-in, the purpose prompt,
/// or the refusal.
async fn case_read(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    key: &str,
    p: &CaseParams,
) -> Result<(Ctx, Caller, String, Value), Box<Response>> {
    let (ctx, caller) = Ctx::signed_in(state, headers, uri)?;
    let purpose = match purpose_of(p.purpose.as_deref()) {
        Ok(Some(p)) => p,
        _ => {
            return Err(Box::new(
                ctx.render(StatusCode::OK, &ask_page(&ctx, key, None)),
            ))
        }
    };
    match traces_api::trace_doc(state, &caller, key.to_owned(), &purpose).await {
        Ok(doc) => Ok((ctx, caller, purpose, doc)),
        Err(e) => Err(Box::new(ctx.error_page(&e))),
    }
}

/// `GET /traces/{key}/edit?purpose=`: the draft in the guided form, checked.
async fn edit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Query(p): Query<CaseParams>,
) -> Response {
    let (ctx, caller, purpose, doc) = match case_read(&state, &headers, &uri, &key, &p).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let Ok(request) = serde_json::from_value::<TraceRequest>(doc["request"].clone()) else {
        return ctx.error_page(&ApiError::internal("a stored request does not read back"));
    };
    let form = RequestForm::from_request(&request);
    let (gaps, proposed) =
        match trace_api::assess_request(&state, &caller, Some(&purpose), request).await {
            Ok(a) => (
                Some(gap_views(&tr, &a)),
                a.proposals
                    .iter()
                    .map(|p| p.state.as_str().to_owned())
                    .collect(),
            ),
            Err(e) => return ctx.error_page(&e),
        };
    let mut page = new_page_of(&ctx, form, Vec::new(), gaps, proposed);
    page.c = ctx.chrome("trace-edit-title");
    page.editing = Some((enc(&key), purpose));
    ctx.render(StatusCode::OK, &page)
}

/// A refusal by the life-cycle rules in words: why, in the page's language, then the
/// engine's own reason (in English) for the record.
fn refusal_words(tr: &Tr, status: &str, draft: bool, reason: &str) -> String {
    let why = if draft && reason.starts_with("the request may not be sent") {
        tr.t("trace-refused-gaps")
    } else {
        tr.arg("trace-refused", "status", status)
    };
    format!("{why} {}", tr.arg("trace-refused-detail", "reason", reason))
}

/// The case page after `step`, which says what was done.
fn done_path(key: &str, purpose: &str, step: &str) -> String {
    let path = key_path(key, purpose);
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}done={step}")
}

// --- The case page -----------------------------------------------------------------------

/// One exchange with a requested state.
struct ExchangeView {
    state: String,
    status: String,
    delivered: String,
    acknowledged: String,
    answers: Vec<String>,
    follow_ups: Vec<String>,
    answered: bool,
}

/// One step of the history.
struct StepView {
    index: String,
    when: String,
    datetime: String,
    by: String,
    what: String,
    how: String,
    note: String,
}

/// The answer form's values.
#[derive(Default)]
struct AnswerForm {
    kind: String,
    summary: String,
    holder_name: String,
    holder_country: String,
    holder_licence: String,
    next_states: String,
    missing: String,
    searched: String,
    ground: String,
    ground_other: String,
    explanation: String,
    conditions: String,
    officer: String,
    note: String,
    diversion: String,
    for_state: String,
    channel: String,
}

impl AnswerForm {
    fn from_draft(answer: &Value) -> AnswerForm {
        let o = &answer["outcome"];
        let f = &o["findings"];
        let ground = &o["ground"];
        AnswerForm {
            kind: s(o, &["kind"]),
            summary: s(f, &["summary"]),
            holder_name: s(f, &["last_legal_holder", "name"]),
            holder_country: s(f, &["last_legal_holder", "country"]),
            holder_licence: s(f, &["last_legal_holder", "licence"]),
            next_states: f["next_states"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            missing: s(o, &["missing"]),
            searched: s(o, &["searched"]),
            ground: match ground {
                Value::String(g) => g.clone(),
                Value::Object(_) => "other".into(),
                _ => String::new(),
            },
            ground_other: s(ground, &["other"]),
            explanation: s(o, &["explanation"]),
            conditions: answer["conditions_of_use"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default(),
            officer: s(answer, &["officer"]),
            note: String::new(),
            diversion: if f["point_of_diversion"].is_object() {
                f["point_of_diversion"].to_string()
            } else {
                String::new()
            },
            for_state: String::new(),
            channel: String::new(),
        }
    }

    fn from_fields(f: &Fields) -> AnswerForm {
        let g = |k: &str| f.get(k).to_owned();
        AnswerForm {
            kind: g("answer_kind"),
            summary: g("summary"),
            holder_name: g("holder_name"),
            holder_country: g("holder_country").to_uppercase(),
            holder_licence: g("holder_licence"),
            next_states: g("next_states"),
            missing: g("missing"),
            searched: g("searched"),
            ground: g("ground"),
            ground_other: g("ground_other"),
            explanation: g("explanation"),
            conditions: g("conditions"),
            officer: g("answer_officer"),
            note: g("note"),
            diversion: g("diversion"),
            for_state: g("for"),
            channel: g("channel"),
        }
    }

    /// The fields the chosen outcome needs and lacks.
    fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !OUTCOMES.contains(&self.kind.as_str()) {
            out.push("answer_kind");
            return out;
        }
        let findings = matches!(self.kind.as_str(), "full" | "partial" | "restricted");
        if findings && self.summary.is_empty() {
            out.push("summary");
        }
        if self.kind == "partial" && self.missing.is_empty() {
            out.push("missing");
        }
        if self.kind == "no_record" && self.searched.is_empty() {
            out.push("searched");
        }
        if matches!(self.kind.as_str(), "restricted" | "refused") {
            if !GROUNDS.contains(&self.ground.as_str()) {
                out.push("ground");
            } else if self.ground == "other" && self.ground_other.is_empty() {
                out.push("ground_other");
            }
            if self.explanation.is_empty() {
                out.push("explanation");
            }
        }
        if !self.holder_country.is_empty() && self.holder_name.is_empty() {
            out.push("holder_name");
        }
        if self.for_state.is_empty() != self.channel.is_empty() {
            out.push(if self.for_state.is_empty() {
                "for"
            } else {
                "channel"
            });
        }
        out
    }

    /// The body of `POST /api/v1/traces/{key}/answer`.
    fn to_body(&self) -> Value {
        let mut findings = Map::new();
        findings.insert("summary".into(), self.summary.clone().into());
        if !self.holder_name.is_empty() {
            let mut h = Map::new();
            h.insert("name".into(), self.holder_name.clone().into());
            opt_str(&mut h, "country", &self.holder_country);
            opt_str(&mut h, "licence", &self.holder_licence);
            findings.insert("last_legal_holder".into(), Value::Object(h));
        }
        if let Ok(d @ Value::Object(_)) = serde_json::from_str::<Value>(&self.diversion) {
            findings.insert("point_of_diversion".into(), d);
        }
        let next = codes(&self.next_states);
        if !next.is_empty() {
            findings.insert("next_states".into(), next.into());
        }
        let ground = if self.ground == "other" {
            json!({"other": self.ground_other})
        } else {
            Value::String(self.ground.clone())
        };
        let outcome = match self.kind.as_str() {
            "full" => json!({"kind": "full", "findings": findings}),
            "partial" => json!({"kind": "partial", "findings": findings, "missing": self.missing}),
            "no_record" => json!({"kind": "no_record", "searched": self.searched}),
            "restricted" => json!({"kind": "restricted", "ground": ground,
                "explanation": self.explanation, "findings": findings}),
            _ => json!({"kind": "refused", "ground": ground, "explanation": self.explanation}),
        };
        let mut answer = Map::new();
        answer.insert("outcome".into(), outcome);
        let conditions: Vec<Value> = self
            .conditions
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Value::String(l.to_owned()))
            .collect();
        if !conditions.is_empty() {
            answer.insert("conditions_of_use".into(), conditions.into());
        }
        opt_str(&mut answer, "officer", &self.officer);
        let mut body = Map::new();
        body.insert("answer".into(), Value::Object(answer));
        opt_str(&mut body, "note", &self.note);
        opt_str(&mut body, "for", &self.for_state.to_uppercase());
        opt_str(&mut body, "channel", &self.channel);
        Value::Object(body)
    }
}

/// What the case page lets the officer do now.
#[derive(Default)]
struct Actions {
    send: bool,
    acknowledge: bool,
    /// On the requesting side: record a requested state's step that came another way.
    record_for: bool,
    answer: bool,
    follow_up: bool,
    chain: bool,
    close: bool,
}

#[derive(Template)]
#[template(path = "web/traces_case.html")]
struct CasePage {
    c: super::Chrome,
    key: String,
    /// Percent-encoded, for the forms' actions.
    key_enc: String,
    purpose: String,
    /// No purpose yet: the page only asks for one.
    ask_purpose: bool,
    done: Option<String>,
    refusal: Option<String>,
    errors: Vec<FieldErr>,
    summary: Vec<(String, String)>,
    request: Vec<(String, String)>,
    markings: Vec<(String, String, String)>,
    overdue: Vec<String>,
    exchanges: Vec<ExchangeView>,
    steps: Vec<StepView>,
    actions: Actions,
    requested_side: bool,
    gaps: Vec<GapView>,
    proposed: String,
    parent: Option<String>,
    answer: AnswerForm,
    candidates: Vec<String>,
    outcomes: Vec<Opt>,
    grounds: Vec<Opt>,
    channels: Vec<Opt>,
    /// The trace's life-cycle state, in words.
    status_words: String,
    /// The requested states (options for `for`, follow-up and feedback).
    states: Vec<String>,
    answered_states: Vec<String>,
    send_to: String,
    /// Values typed into the other forms (kept when one is refused).
    typed: Vec<(String, String)>,
}

impl CasePage {
    fn error(&self, id: impl AsRef<str>) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == id.as_ref())
            .map(|e| e.message.as_str())
    }

    fn invalid(&self, id: impl AsRef<str>) -> bool {
        self.error(id).is_some()
    }

    fn rating_label(&self, r: impl AsRef<str>) -> String {
        self.c.t(&format!("trace-rating-{}", r.as_ref()))
    }

    fn typed(&self, id: &str) -> &str {
        self.typed
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

fn event_name(record: &Value) -> String {
    match &record["event"] {
        Value::Object(o) => o
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn answer_words(tr: &Tr, a: &Value) -> String {
    let kind = s(a, &["answer", "outcome", "kind"]);
    let summary = s(a, &["answer", "outcome", "findings", "summary"]);
    let at = tr.date(&s(a, &["at"]));
    let mut w = format!("{} ({at})", tr.code("trace-outcome", &kind));
    if !summary.is_empty() {
        w.push_str(": ");
        w.push_str(&summary);
    }
    w
}

/// Builds the case page from the trace's document (as `GET /api/v1/traces/{key}` answers).
async fn case_of(
    state: &AppState,
    ctx: &Ctx,
    caller: &Caller,
    key: &str,
    purpose: &str,
) -> Result<CasePage, ApiError> {
    let tr = ctx.tr;
    let doc = traces_api::trace_doc(state, caller, key.to_owned(), purpose).await?;
    let overdue_doc = traces_api::overdue_doc(state, caller, purpose).await?;
    let status = s(&doc, &["status"]);
    let role = s(&doc, &["role"]);
    let requested_side = role == "requested";
    let closed = status == "closed";
    let states: Vec<String> = doc["requested_states"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut summary = vec![
        (tr.t("trace-col-case"), s(&doc, &["case_reference"])),
        (tr.t("trace-col-role"), tr.code("trace-role", &role)),
        (tr.t("trace-col-status"), row_status(&tr, &status)),
        (tr.t("trace-col-requesting"), s(&doc, &["requesting_state"])),
    ];
    if !states.is_empty() {
        summary.push((tr.t("trace-col-requested"), states.join(", ")));
    }
    let priority = s(&doc, &["priority"]);
    if !priority.is_empty() {
        summary.push((
            tr.t("trace-col-priority"),
            tr.code("trace-priority", &priority),
        ));
    }
    summary.push((tr.t("trace-col-opened"), tr.date(&s(&doc, &["opened_at"]))));
    let sent_at = s(&doc, &["sent_at"]);
    if !sent_at.is_empty() {
        summary.push((tr.t("trace-col-sent"), tr.date(&sent_at)));
    }
    let closed_at = s(&doc, &["closed_at"]);
    if !closed_at.is_empty() {
        summary.push((tr.t("trace-col-closed"), tr.date(&closed_at)));
    }
    let req = &doc["request"];
    let (request, markings) = request_facts(&tr, req);
    let exchanges: Vec<ExchangeView> = doc["exchanges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let answers: Vec<String> = e["answers"]
                .as_array()
                .map(|a| a.iter().map(|a| answer_words(&tr, a)).collect())
                .unwrap_or_default();
            ExchangeView {
                state: s(e, &["state"]),
                status: row_status(&tr, &s(e, &["status"])),
                delivered: tr.date(&s(e, &["delivered_at"])),
                acknowledged: tr.date(&s(e, &["acknowledged_at"])),
                answered: !answers.is_empty(),
                answers,
                follow_ups: e["follow_ups"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|q| {
                                format!("{} ({})", s(q, &["question"]), tr.date(&s(q, &["at"])))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    let answered_states: Vec<String> = exchanges
        .iter()
        .filter(|e| e.answered)
        .map(|e| e.state.clone())
        .collect();
    let steps = doc["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|st| {
            let record = &st["record"];
            let channel = s(record, &["channel"]);
            let received = record["received"].is_object();
            StepView {
                index: tr.number(st["index"].as_i64().unwrap_or(0)),
                when: tr.date(&s(st, &["recorded_at"])),
                datetime: s(st, &["recorded_at"]),
                by: s(st, &["recorded_by"]),
                what: tr.code("trace-event", &event_name(record)),
                how: if !channel.is_empty() {
                    tr.arg(
                        "trace-step-by-hand",
                        "channel",
                        &tr.code("trace-channel", &channel),
                    )
                } else if received {
                    tr.t("trace-step-received")
                } else {
                    String::new()
                },
                note: s(record, &["note"]),
            }
        })
        .collect();
    let overdue = overdue_by_key(&tr, &overdue_doc)
        .into_iter()
        .filter(|(k, _, _)| k == key)
        .map(|(_, w, _)| w)
        .collect();
    let mut actions = Actions::default();
    if !closed {
        if requested_side {
            actions.acknowledge = status == "delivered" || status == "sent";
            actions.answer = matches!(
                status.as_str(),
                "sent" | "delivered" | "acknowledged" | "follow_up"
            );
        } else if status == "draft" {
            actions.send = true;
        } else {
            actions.record_for = true;
            actions.acknowledge = true;
            actions.answer = true;
            actions.follow_up = !answered_states.is_empty();
            actions.chain = true;
            actions.close = true;
        }
    }
    let mut page = CasePage {
        c: ctx.chrome("trace-case-title"),
        key: key.to_owned(),
        key_enc: enc(key),
        purpose: purpose.to_owned(),
        ask_purpose: false,
        done: None,
        refusal: None,
        errors: Vec::new(),
        summary,
        request,
        markings,
        overdue,
        exchanges,
        steps,
        actions,
        requested_side,
        gaps: Vec::new(),
        proposed: String::new(),
        parent: doc["parent"].as_str().map(|p| key_path(p, purpose)),
        answer: AnswerForm::default(),
        candidates: Vec::new(),
        outcomes: Vec::new(),
        grounds: Vec::new(),
        channels: options(&tr, "trace-channel", &CHANNELS, "", true),
        status_words: row_status(&tr, &status),
        states: states.clone(),
        answered_states,
        send_to: String::new(),
        typed: Vec::new(),
    };
    let request: Option<TraceRequest> = serde_json::from_value(req.clone()).ok();
    if page.actions.send {
        if let Some(r) = request.clone() {
            let a = trace_api::assess_request(state, caller, Some(purpose), r).await?;
            page.send_to = a
                .proposals
                .iter()
                .map(|p| p.state.as_str().to_owned())
                .collect::<Vec<_>>()
                .join(", ");
            page.proposed = page.send_to.clone();
            page.gaps = gap_views(&tr, &a);
        }
    }
    if page.actions.answer && requested_side {
        if let Some(r) = request {
            let d = trace_api::draft_answer(state, caller, purpose, r).await?;
            page.answer = AnswerForm::from_draft(&d.answer);
            page.candidates = d
                .candidates
                .iter()
                .map(|c| {
                    tr.args(
                        "trace-candidate",
                        &[
                            ("item", c.key.clone().into()),
                            ("marking", c.marking.clone().into()),
                            ("class", tr.code("trace-match", c.match_class).into()),
                        ],
                    )
                })
                .collect();
        }
    }
    page.outcomes = options(&tr, "trace-outcome", &OUTCOMES, &page.answer.kind, true);
    page.grounds = options(&tr, "trace-ground", &GROUNDS, &page.answer.ground, true);
    Ok(page)
}

/// (label, value) rows.
type Facts = Vec<(String, String)>;
/// (kind, as seen, part) rows of markings.
type Marks = Vec<(String, String, String)>;

/// The request's facts (label, value) and its markings (kind, as seen, part).
fn request_facts(tr: &Tr, req: &Value) -> (Facts, Marks) {
    let item = &req["item"];
    let mut facts = Vec::new();
    let mut push = |label: &str, v: String| {
        if !v.is_empty() {
            facts.push((tr.t(label), v));
        }
    };
    push("trace-field-id", s(req, &["id"]));
    push(
        "trace-field-requesting-agency",
        s(req, &["requesting_agency"]),
    );
    push("trace-field-officer", s(req, &["officer"]));
    push(
        "trace-field-justification",
        s(req, &["priority", "justification"]),
    );
    push(
        "trace-field-kind",
        tr.code("trace-kind", &s(item, &["kind"])),
    );
    push("trace-field-type", s(item, &["type"]));
    push("trace-field-make", s(item, &["make"]));
    push("trace-field-model", s(item, &["model"]));
    push("trace-field-calibre", s(item, &["calibre"]));
    push(
        "trace-field-country-of-manufacture",
        s(item, &["country_of_manufacture"]),
    );
    push(
        "trace-field-year-of-manufacture",
        s(item, &["year_of_manufacture"]),
    );
    let imports: Vec<String> = item["import_marks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let c = s(m, &["country"]);
                    let y = s(m, &["year"]);
                    let mut t = s(m, &["text"]);
                    if !c.is_empty() || !y.is_empty() {
                        t = format!(
                            "{t} ({})",
                            [c, y]
                                .iter()
                                .filter(|x| !x.is_empty())
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(" ")
                        );
                    }
                    t
                })
                .collect()
        })
        .unwrap_or_default();
    push("trace-field-import", imports.join("; "));
    push("trace-field-description", s(item, &["description"]));
    let reason = s(req, &["illicit", "reason"]);
    if !reason.is_empty() {
        let details = s(req, &["illicit", "details"]);
        let mut v = tr.code("trace-reason", &reason);
        if !details.is_empty() {
            v = format!("{v}: {details}");
        }
        push("trace-field-illicit-reason", v);
    }
    push("trace-field-legal-basis", s(req, &["legal_basis"]));
    let c = &req["circumstances"];
    if c.is_object() {
        let parts = [
            tr.date(&s(c, &["date"])),
            s(c, &["country"]),
            s(c, &["place"]),
            s(c, &["description"]),
        ];
        push(
            "trace-section-circumstances",
            parts
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(" · "),
        );
    }
    push("trace-field-intended-use", s(req, &["intended_use"]));
    push("trace-field-confidentiality", s(req, &["confidentiality"]));
    push("trace-field-registry-item", s(req, &["registry_item"]));
    let markings = item["markings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let leg = s(m, &["legibility"]);
                    let mut part = s(m, &["component"]);
                    if !leg.is_empty() && leg != "clear" {
                        part = format!("{part} ({})", tr.code("legibility", &leg));
                    }
                    (tr.code("mark", &s(m, &["kind"])), s(m, &["text"]), part)
                })
                .collect()
        })
        .unwrap_or_default();
    (facts, markings)
}

#[derive(Deserialize)]
struct CaseParams {
    purpose: Option<String>,
    done: Option<String>,
}

/// The purpose of a page: `None` (ask for one) when absent, an error page when malformed.
fn purpose_of(p: Option<&str>) -> Result<Option<String>, ApiError> {
    match p.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => check_purpose(Some(p), true).map(Some),
    }
}

fn ask_page(ctx: &Ctx, key: &str, error: Option<String>) -> CasePage {
    let tr = ctx.tr;
    CasePage {
        c: ctx.chrome("trace-case-title"),
        key: key.to_owned(),
        key_enc: enc(key),
        purpose: String::new(),
        ask_purpose: true,
        done: None,
        refusal: None,
        errors: error
            .map(|m| {
                vec![FieldErr {
                    field: "purpose".into(),
                    label: tr.t("trace-field-purpose"),
                    message: m,
                }]
            })
            .unwrap_or_default(),
        summary: Vec::new(),
        request: Vec::new(),
        markings: Vec::new(),
        overdue: Vec::new(),
        exchanges: Vec::new(),
        steps: Vec::new(),
        actions: Actions::default(),
        requested_side: false,
        gaps: Vec::new(),
        proposed: String::new(),
        parent: None,
        answer: AnswerForm::default(),
        candidates: Vec::new(),
        outcomes: Vec::new(),
        grounds: Vec::new(),
        channels: Vec::new(),
        status_words: String::new(),
        states: Vec::new(),
        answered_states: Vec::new(),
        send_to: String::new(),
        typed: Vec::new(),
    }
}

/// `GET /traces/{key}?purpose=`.
async fn case_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Query(p): Query<CaseParams>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let purpose = match purpose_of(p.purpose.as_deref()) {
        Ok(Some(p)) => p,
        Ok(None) => return ctx.render(StatusCode::OK, &ask_page(&ctx, &key, None)),
        Err(_) => {
            let m = tr.args(
                "error-purpose-invalid",
                &[("max", (auth::MAX_PURPOSE_CHARS as u64).into())],
            );
            return ctx.render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ask_page(&ctx, &key, Some(m)),
            );
        }
    };
    match case_of(&state, &ctx, &caller, &key, &purpose).await {
        Ok(mut page) => {
            page.done = p
                .done
                .as_deref()
                .filter(|d| {
                    [
                        "draft",
                        "amend",
                        "send",
                        "acknowledge",
                        "answer",
                        "follow-up",
                        "chain",
                        "close",
                    ]
                    .contains(d)
                })
                .map(|d| tr.t(&format!("trace-done-{d}")));
            ctx.render(StatusCode::OK, &page)
        }
        Err(e) => ctx.error_page(&e),
    }
}

/// The form field an engine message names (its first `` `name` ``), among the step's.
fn field_in_message(message: &str, known: &[&'static str]) -> Option<&'static str> {
    let mut parts = message.split('`');
    parts.next();
    let named = parts.next()?;
    let leaf = named.rsplit('.').next().unwrap_or(named);
    let leaf = leaf.split('[').next().unwrap_or(leaf);
    let alias = match leaf {
        "kind" | "outcome" => "answer_kind",
        "last_legal_holder" | "name" => "holder_name",
        "country" => "holder_country",
        "licence" => "holder_licence",
        "conditions_of_use" => "conditions",
        "officer" => "answer_officer",
        "waivers" | "gap" => "to",
        "question" => "question",
        other => other,
    };
    known.iter().copied().find(|k| *k == alias)
}

/// `POST /traces/{key}/{step}`: one step of the life cycle through the API's function.
async fn step_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path((key, step)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let f = Fields(pairs);
    if !csrf::check(&headers, f.get("csrf")) {
        return ctx.csrf_refused();
    }
    let purpose = match purpose_of(Some(f.get("purpose"))) {
        Ok(Some(p)) => p,
        _ => {
            return ctx.render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ask_page(&ctx, &key, None),
            )
        }
    };
    let err = |field: &'static str| FieldErr {
        field: field.into(),
        label: tr.t(&label_of(field)),
        message: tr.t("trace-error-required"),
    };
    // Each step: its fields, what it lacks, its API body.
    let (known, missing, body): (&[&'static str], Vec<FieldErr>, Value) = match step.as_str() {
        "send" => {
            let to = codes(f.get("to"));
            let mut waivers = Vec::new();
            for (k, v) in &f.0 {
                if let Some(code) = k.strip_prefix("waiver_") {
                    if !v.trim().is_empty() {
                        waivers.push(json!({"gap": code, "explanation": v.trim()}));
                    }
                }
            }
            let missing = if to.is_empty() {
                vec![err("to")]
            } else {
                vec![]
            };
            (&["to"], missing, json!({"to": to, "waivers": waivers}))
        }
        "acknowledge" => {
            let mut b = Map::new();
            opt_str(&mut b, "for", &f.get("for").to_uppercase());
            opt_str(&mut b, "channel", f.get("channel"));
            opt_str(&mut b, "note", f.get("note"));
            let mut missing = Vec::new();
            if f.get("for").is_empty() != f.get("channel").is_empty() {
                missing.push(err(if f.get("for").is_empty() {
                    "for"
                } else {
                    "channel"
                }));
            }
            (&["for", "channel", "note"], missing, Value::Object(b))
        }
        "answer" => {
            let a = AnswerForm::from_fields(&f);
            let missing = a.missing().into_iter().map(err).collect();
            (
                &[
                    "answer_kind",
                    "summary",
                    "holder_name",
                    "holder_country",
                    "holder_licence",
                    "next_states",
                    "missing",
                    "searched",
                    "ground",
                    "ground_other",
                    "explanation",
                    "conditions",
                    "answer_officer",
                    "note",
                    "for",
                    "channel",
                ],
                missing,
                a.to_body(),
            )
        }
        "follow-up" => {
            let mut missing = Vec::new();
            if f.get("to").is_empty() {
                missing.push(err("to"));
            }
            if f.get("question").is_empty() {
                missing.push(err("question"));
            }
            (
                &["to", "question"],
                missing,
                json!({"to": f.get("to").to_uppercase(), "question": f.get("question")}),
            )
        }
        "chain" => {
            let to = codes(f.get("chain_to"));
            let mut b = Map::new();
            b.insert("to".into(), to.clone().into());
            opt_str(&mut b, "id", f.get("chain_id"));
            let missing = if to.is_empty() {
                vec![err("chain_to")]
            } else {
                vec![]
            };
            (&["chain_to", "chain_id"], missing, Value::Object(b))
        }
        "close" => {
            let mut feedback = Vec::new();
            let mut missing = Vec::new();
            for (k, v) in &f.0 {
                if let Some(st) = k.strip_prefix("rating_") {
                    match v.trim().parse::<u8>() {
                        Ok(r) => {
                            let mut o = Map::new();
                            o.insert("state".into(), st.into());
                            o.insert("rating".into(), r.into());
                            opt_str(&mut o, "comment", f.get(&format!("comment_{st}")));
                            feedback.push(Value::Object(o));
                        }
                        Err(_) => missing.push(err("rating")),
                    }
                }
            }
            (&["rating"], missing, json!({"feedback": feedback}))
        }
        _ => return ctx.error_page(&ApiError::not_found("no such step")),
    };
    let typed: Vec<(String, String)> =
        f.0.iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    let rerender = |page: Result<CasePage, ApiError>,
                    status: StatusCode,
                    errors: Vec<FieldErr>,
                    refusal: Option<String>| {
        match page {
            Ok(mut p) => {
                p.errors = errors;
                p.refusal = refusal
                    .map(|reason| refusal_words(&tr, &p.status_words, p.actions.send, &reason));
                if step == "answer" {
                    p.answer = AnswerForm::from_fields(&f);
                    p.outcomes = options(&tr, "trace-outcome", &OUTCOMES, &p.answer.kind, true);
                    p.grounds = options(&tr, "trace-ground", &GROUNDS, &p.answer.ground, true);
                }
                p.typed = typed.clone();
                ctx.render(status, &p)
            }
            Err(e) => ctx.error_page(&e),
        }
    };
    if !missing.is_empty() {
        let page = case_of(&state, &ctx, &caller, &key, &purpose).await;
        return rerender(page, StatusCode::UNPROCESSABLE_ENTITY, missing, None);
    }
    let body = Bytes::from(body.to_string());
    let k = key.clone();
    let result = match step.as_str() {
        "send" => traces_api::send_step(&state, &caller, k, body).await,
        "acknowledge" => traces_api::acknowledge_step(&state, &caller, k, body).await,
        "answer" => traces_api::answer_step(&state, &caller, k, body).await,
        "follow-up" => traces_api::follow_up_step(&state, &caller, k, body).await,
        "chain" => traces_api::chain_step(&state, &caller, k, body).await,
        _ => traces_api::close_step(&state, &caller, k, body).await,
    };
    match result {
        Ok(r) => ctx.redirect(&done_path(&r.key, &purpose, &step)),
        Err(e) if e.status == StatusCode::CONFLICT => {
            let refusal = e.message.clone();
            let page = case_of(&state, &ctx, &caller, &key, &purpose).await;
            rerender(page, StatusCode::CONFLICT, Vec::new(), Some(refusal))
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let field = field_in_message(&e.message, known).unwrap_or(known[0]);
            let errors = vec![FieldErr {
                field: field.into(),
                label: tr.t(&label_of(field)),
                message: tr.t("trace-error-invalid"),
            }];
            let page = case_of(&state, &ctx, &caller, &key, &purpose).await;
            rerender(page, StatusCode::UNPROCESSABLE_ENTITY, errors, None)
        }
        Err(e) => ctx.error_page(&e),
    }
}

// --- The print view ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "web/traces_print.html")]
struct PrintPage {
    c: super::Chrome,
    key: String,
    back: String,
    summary: Vec<(String, String)>,
    request: Vec<(String, String)>,
    markings: Vec<(String, String, String)>,
    states: String,
}

/// `GET /traces/{key}/print?purpose=`.
async fn print_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Query(p): Query<CaseParams>,
) -> Response {
    let (ctx, _, purpose, doc) = match case_read(&state, &headers, &uri, &key, &p).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let (request, markings) = request_facts(&tr, &doc["request"]);
    let priority = s(&doc, &["priority"]);
    let page = PrintPage {
        c: ctx.chrome("trace-print-title"),
        back: key_path(&key, &purpose),
        key,
        summary: vec![
            (tr.t("trace-col-case"), s(&doc, &["case_reference"])),
            (tr.t("trace-col-requesting"), s(&doc, &["requesting_state"])),
            (
                tr.t("trace-col-priority"),
                if priority.is_empty() {
                    String::new()
                } else {
                    tr.code("trace-priority", &priority)
                },
            ),
            (
                tr.t("trace-col-status"),
                row_status(&tr, &s(&doc, &["status"])),
            ),
        ],
        request,
        markings,
        states: doc["requested_states"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
    };
    ctx.render(StatusCode::OK, &page)
}

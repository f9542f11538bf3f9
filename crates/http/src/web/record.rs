//! Recording: register an item, record an event, add photographs, import a file.
//!
//! | route | page |
//! | --- | --- |
//! | `GET /record` | the area's start: links to the forms below |
//! | `GET`/`POST /record/item` | register an item: identification and markings (4 rows, `action=more` adds rows); `action=preview` shows each marking's canonical and search forms and every problem; `action=save` records it (303 to the item) |
//! | `GET`/`POST /items/{key}/events/new` | record an event (type, date, place, from, to, document, note); `action=preview` runs the registry's checks and shows refusals and warnings; `action=save` records it (303 to the item) |
//! | `GET /items/{key}/photos` | the photograph form (also on the item page) |
//! | `POST /items/{key}/photos` | multipart upload: JPEG, PNG or WebP (by their first bytes), at most [`MAX_PHOTO_BYTES`]; stored once by SHA-256, recorded by a `photographed` event (303 to the item) |
//! | `GET /photos/{sha256}?item=KEY` | the photograph's bytes, to whoever may read the item whose ledger names it |
//! | `GET`/`POST /record/import` | upload a JSON Lines records file or a register (CSV, TSV, XLSX…), checked only or imported; the report |
//!
//! **Invariants.**
//! - Every record goes through the API's own functions: [`api::authorize_import`] (the
//!   policy decision and audit entry of `POST /api/v1/records`) and [`api::import_upload`]
//!   (the registry's validation, the ledger, the search index, seizure alerts); a register
//!   through [`register_api::authorize_register`] and [`register_api::register_upload`].
//!   A page writes the record line the API would receive, so the ledger holds the same.
//! - A preview is the same import with `dry_run`: it shows exactly what saving would refuse,
//!   and writes nothing to the ledger.
//! - A photograph is in the ledger as the SHA-256 of its bytes, in a `photographed` event's
//!   documents (`{"kind":"photo","number":"<hex>"}`); the bytes are in the store
//!   ([`tracemark_store::Store::put_photo`]), served only to whoever may read an item whose
//!   ledger names that hash.

use super::{csrf, Ctx};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{api, register_api, schema, AppState};
use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tracemark_access::policy::Action;
use tracemark_domain::model::{ActorKind, EventType, ItemKind, Legibility, MarkingKind};

/// Marking rows a blank form has; "add rows" adds this many more.
const MARKING_ROWS: usize = 4;
/// Marking rows a form may have.
const MAX_MARKING_ROWS: usize = 64;
/// The largest photograph accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 << 20;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/record", get(start_page))
        .route("/record/item", get(item_form).post(item_submit))
        .route(
            "/items/{key}/events/new",
            get(event_form).post(event_submit),
        )
        .route("/items/{key}/photos", get(photo_form).post(photo_upload))
        .route("/photos/{sha256}", get(photo_get))
        .route("/record/import", get(import_form).post(import_submit))
}

/// One error of a form: the input's id, the field's name as shown, the message.
struct FormError {
    field: String,
    label: String,
    message: String,
}

fn error_of<'a>(errors: &'a [FormError], id: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == id)
        .map(|e| e.message.as_str())
}

/// A choice of a `<select>`: value, label, selected.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(tr: &super::i18n::Tr, prefix: &str, all: &[&str], chosen: &str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: (*v).to_owned(),
            label: tr.code(prefix, v),
            selected: *v == chosen,
        })
        .collect()
}

/// The form's fields as posted (a name may repeat; the last wins).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }
}

/// Writes one JSON Lines record to a file in the data folder, as an upload would be.
fn record_file(state: &AppState, records: &[Value]) -> Result<tempfile::NamedTempFile, ApiError> {
    use std::io::Write;
    let mut f = tempfile::Builder::new()
        .prefix(".upload-")
        .suffix(".jsonl")
        .tempfile_in(state.data_dir())
        .map_err(|e| ApiError::internal(format!("creating the record file: {e}")))?;
    for r in records {
        writeln!(f, "{r}").map_err(|e| ApiError::internal(format!("writing the record: {e}")))?;
    }
    f.flush()
        .map_err(|e| ApiError::internal(format!("writing the record: {e}")))?;
    Ok(f)
}

/// Today's date (`YYYY-MM-DD`) by the server's clock.
fn today(state: &AppState) -> String {
    state.clock().now_rfc3339().chars().take(10).collect()
}

// ---------------------------------------------------------------- the area's start page

#[derive(Template)]
#[template(path = "web/record.html")]
struct StartPage {
    c: super::Chrome,
}

/// `GET /record`.
async fn start_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, _) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    ctx.render(
        StatusCode::OK,
        &StartPage {
            c: ctx.chrome("record-title"),
        },
    )
}

// ---------------------------------------------------------------- register an item

/// One marking row of the form, with its preview.
struct MarkingInput {
    n: usize,
    text: String,
    kind: Vec<Choice>,
    component: String,
    legibility: Vec<Choice>,
    canonical: String,
    visual: String,
    phonetic: String,
}

#[derive(Template)]
#[template(path = "web/record_item.html")]
struct ItemFormPage {
    c: super::Chrome,
    key: String,
    kinds: Vec<Choice>,
    item_type: String,
    make: String,
    model: String,
    calibre: String,
    country: String,
    year: String,
    national_id: String,
    note: String,
    rows: Vec<MarkingInput>,
    errors: Vec<FormError>,
    /// The preview passed: no problem found, ready to save.
    previewed: bool,
    warnings: Vec<String>,
}

/// A text input of a form, as templates/web/record_field.html shows it.
struct TextField {
    id: &'static str,
    label: String,
    value: String,
    hint: String,
    error: Option<String>,
    required: bool,
}

impl ItemFormPage {
    fn error(&self, id: &str) -> Option<&str> {
        error_of(&self.errors, id)
    }

    /// The error of marking row `n`'s input `part` (`text`, `kind`, `component`).
    fn row_error(&self, n: &usize, part: &str) -> Option<&str> {
        error_of(&self.errors, &format!("m{n}_{part}"))
    }

    /// The identification's text inputs, in order.
    fn text_fields(&self) -> Vec<TextField> {
        let tr = &self.c.tr;
        let field = |id: &'static str, label: &str, hint: &str, value: &str| TextField {
            id,
            label: tr.t(label),
            value: value.to_owned(),
            hint: if hint.is_empty() {
                String::new()
            } else {
                tr.t(hint)
            },
            error: self.error(id).map(str::to_owned),
            required: id == "key",
        };
        vec![
            field(
                "key",
                "record-field-key",
                "record-field-key-hint",
                &self.key,
            ),
            field(
                "type",
                "item-type",
                "record-field-type-hint",
                &self.item_type,
            ),
            field("make", "item-make", "", &self.make),
            field("model", "item-model", "", &self.model),
            field("calibre", "item-calibre", "", &self.calibre),
            field(
                "country",
                "item-country",
                "record-field-country-hint",
                &self.country,
            ),
            field("year", "item-year", "", &self.year),
            field("national_id", "item-national-id", "", &self.national_id),
            field("note", "record-field-note", "", &self.note),
        ]
    }
}

const ITEM_FIELDS: [(&str, &str, &str); 8] = [
    // (form field, record field, label)
    ("key", "key", "record-field-key"),
    ("kind", "kind", "item-kind"),
    ("type", "type", "item-type"),
    ("make", "make", "item-make"),
    ("model", "model", "item-model"),
    ("calibre", "calibre", "item-calibre"),
    ("country", "country_of_manufacture", "item-country"),
    ("year", "year_of_manufacture", "item-year"),
];

fn item_page(ctx: &Ctx, f: &Fields, rows: usize) -> ItemFormPage {
    let tr = &ctx.tr;
    let kind = match f.get("kind") {
        k if k.is_empty() => "firearm".to_owned(),
        k => k,
    };
    let kinds: Vec<&str> = ItemKind::ALL.iter().map(|k| k.as_str()).collect();
    let mark_kinds: Vec<&str> = MarkingKind::ALL.iter().map(|k| k.as_str()).collect();
    let legs: Vec<&str> = Legibility::ALL.iter().map(|k| k.as_str()).collect();
    ItemFormPage {
        c: ctx.chrome("record-item-title"),
        key: f.get("key"),
        kinds: choices(tr, "record-item-kind", &kinds, &kind),
        item_type: f.get("type"),
        make: f.get("make"),
        model: f.get("model"),
        calibre: f.get("calibre"),
        country: f.get("country"),
        year: f.get("year"),
        national_id: f.get("national_id"),
        note: f.get("note"),
        rows: (1..=rows)
            .map(|n| {
                let mk = match f.get(&format!("m{n}_kind")) {
                    k if k.is_empty() => "serial".to_owned(),
                    k => k,
                };
                let lg = match f.get(&format!("m{n}_legibility")) {
                    k if k.is_empty() => "clear".to_owned(),
                    k => k,
                };
                MarkingInput {
                    n,
                    text: f.get(&format!("m{n}_text")),
                    kind: choices(tr, "mark", &mark_kinds, &mk),
                    component: f.get(&format!("m{n}_component")),
                    legibility: choices(tr, "legibility", &legs, &lg),
                    canonical: String::new(),
                    visual: String::new(),
                    phonetic: String::new(),
                }
            })
            .collect(),
        errors: Vec::new(),
        previewed: false,
        warnings: Vec::new(),
    }
}

/// `GET /record/item`.
async fn item_form(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, _) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let page = item_page(&ctx, &Fields(Vec::new()), MARKING_ROWS);
    ctx.render(StatusCode::OK, &page)
}

/// The item record the form describes, and which form row each marking came from.
fn item_record(f: &Fields, rows: usize) -> (Value, Vec<usize>) {
    let mut o = Map::new();
    o.insert("record".into(), json!("item"));
    for (form, field, _) in ITEM_FIELDS {
        let v = f.get(form);
        if v.is_empty() {
            continue;
        }
        let v = match field {
            // A number when it is one; else as typed, for the registry to refuse by name.
            "year_of_manufacture" => v.parse::<i64>().map(Value::from).unwrap_or(json!(v)),
            "country_of_manufacture" => json!(v.to_uppercase()),
            _ => json!(v),
        };
        o.insert(field.into(), v);
    }
    for (form, field) in [("national_id", "national_id"), ("note", "note")] {
        let v = f.get(form);
        if !v.is_empty() {
            o.insert(field.into(), json!(v));
        }
    }
    let mut markings = Vec::new();
    let mut from_row = Vec::new();
    for n in 1..=rows {
        // The text exactly as seen: not trimmed inside, only of surrounding blanks.
        let text = f.get(&format!("m{n}_text"));
        if text.is_empty() {
            continue;
        }
        let mut m = Map::new();
        m.insert("kind".into(), json!(f.get(&format!("m{n}_kind"))));
        m.insert("text".into(), json!(text));
        let component = f.get(&format!("m{n}_component"));
        if !component.is_empty() {
            m.insert("component".into(), json!(component));
        }
        let legibility = f.get(&format!("m{n}_legibility"));
        if !legibility.is_empty() {
            m.insert("legibility".into(), json!(legibility));
        }
        markings.push(Value::Object(m));
        from_row.push(n);
    }
    o.insert("markings".into(), Value::Array(markings));
    (Value::Object(o), from_row)
}

/// The form field (input id, label) a record field of an item names.
fn item_field(tr: &super::i18n::Tr, field: &str, from_row: &[usize]) -> (String, String) {
    if let Some(rest) = field.strip_prefix("markings[") {
        let (i, sub) = rest.split_once(']').unwrap_or((rest, ""));
        let sub = sub.trim_start_matches('.');
        if let Some(n) = i.parse::<usize>().ok().and_then(|i| from_row.get(i)) {
            let (id, part) = match sub {
                "kind" => (format!("m{n}_kind"), tr.t("marking-kind")),
                "component" => (format!("m{n}_component"), tr.t("marking-component")),
                "legibility" => (format!("m{n}_legibility"), tr.t("marking-legibility")),
                _ => (format!("m{n}_text"), tr.t("record-marking-text")),
            };
            let label = tr.args(
                "record-marking-field",
                &[("n", (*n as i64).into()), ("field", part.into())],
            );
            return (id, label);
        }
        return ("m1_text".into(), tr.t("item-markings"));
    }
    for (form, f, label) in ITEM_FIELDS {
        if f == field {
            return (form.into(), tr.t(label));
        }
    }
    match field {
        "national_id" => ("national_id".into(), tr.t("item-national-id")),
        "note" => ("note".into(), tr.t("record-field-note")),
        _ => ("key".into(), field.to_owned()),
    }
}

/// `POST /record/item` (`action` = `more`, `preview` or `save`).
async fn item_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let f = Fields(form);
    let tr = ctx.tr;
    let posted_rows = f
        .get("rows")
        .parse::<usize>()
        .unwrap_or(MARKING_ROWS)
        .clamp(1, MAX_MARKING_ROWS);
    let action = f.get("action");
    let rows = if action == "more" {
        (posted_rows + MARKING_ROWS).min(MAX_MARKING_ROWS)
    } else {
        posted_rows
    };
    let mut page = item_page(&ctx, &f, rows);
    if !csrf::check(&headers, &f.get("csrf")) {
        page.errors.push(FormError {
            field: "key".into(),
            label: tr.t("record-form"),
            message: tr.t("error-csrf"),
        });
        return ctx.render(StatusCode::FORBIDDEN, &page);
    }
    // Each marking as the index keys it, whatever is done next.
    for r in &mut page.rows {
        if !r.text.is_empty() {
            let k = tracemark_search::keys(&r.text);
            r.canonical = k.canonical;
            r.visual = k.visual;
            r.phonetic = k.phonetic;
        }
    }
    if action == "more" {
        return ctx.render(StatusCode::OK, &page);
    }
    let save = action == "save";
    if page.key.is_empty() {
        page.errors.push(FormError {
            field: "key".into(),
            label: tr.t("record-field-key"),
            message: tr.t("record-error-required"),
        });
    }
    let (record, from_row) = item_record(&f, rows);
    if from_row.is_empty() {
        page.warnings.push(tr.t("record-warning-no-marking"));
    }
    if !page.errors.is_empty() {
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let report = match run_import(&state, &caller, &[record], !save).await {
        Ok(r) => r,
        Err(e) => return ctx.error_page(&e),
    };
    for e in &report.errors {
        let (field, label) = item_field(&tr, &e.field, &from_row);
        page.errors.push(FormError {
            field,
            label,
            message: e.message.clone(),
        });
    }
    if !page.errors.is_empty() {
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    if report.duplicates > 0 {
        page.warnings.push(tr.t("record-warning-item-duplicate"));
    }
    if save {
        return ctx.redirect(&format!("/items/{}", url_segment(&page.key)));
    }
    page.previewed = true;
    ctx.render(StatusCode::OK, &page)
}

/// The import of `records` (one line each) as `POST /api/v1/records` does it, by `caller`:
/// the same policy decision and audit entry, the same validation; `dry_run` writes nothing.
async fn run_import(
    state: &AppState,
    caller: &Caller,
    records: &[Value],
    dry_run: bool,
) -> Result<schema::ImportReport, ApiError> {
    api::authorize_import(state, caller).await?;
    let file = record_file(state, records)?;
    api::import_upload(state, caller, file, false, dry_run).await
}

/// `s` as one path segment.
fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- record an event

/// The event types a form records (a correction names what it corrects, and a photograph
/// is recorded by uploading it: both have their own way).
fn event_types() -> Vec<&'static str> {
    EventType::ALL
        .iter()
        .filter(|t| !matches!(t, EventType::Corrected | EventType::Photographed))
        .map(|t| t.as_str())
        .collect()
}

/// An actor's inputs (`from` or `to`).
struct ActorInput {
    prefix: &'static str,
    legend: String,
    name: String,
    country: String,
    kinds: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "web/record_event.html")]
struct EventFormPage {
    c: super::Chrome,
    key: String,
    /// The item as it is now: status and holder.
    status: String,
    holder: String,
    types: Vec<Choice>,
    date: String,
    place_country: String,
    place_admin1: String,
    place_locality: String,
    actors: Vec<ActorInput>,
    doc_kind: String,
    doc_number: String,
    note: String,
    errors: Vec<FormError>,
    warnings: Vec<String>,
    previewed: bool,
}

impl EventFormPage {
    fn error(&self, id: &str) -> Option<&str> {
        error_of(&self.errors, id)
    }

    /// The error of the actor `prefix`'s input `part` (`name`, `country`, `kind`).
    fn actor_error(&self, prefix: &str, part: &str) -> Option<&str> {
        error_of(&self.errors, &format!("{prefix}_{part}"))
    }
}

/// The item's status and holder as shown, after the policy allowed reading it.
async fn item_now(
    state: &AppState,
    ctx: &Ctx,
    caller: &Caller,
    key: &str,
) -> Result<(String, String, Option<Value>), ApiError> {
    let history = api::read_item(state, caller, Action::ReadItem, key.to_owned(), "").await?;
    let item = tracemark_registry::query::item_json(&history);
    let status = item
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let holder = item.get("holder").filter(|h| !h.is_null()).cloned();
    let shown = holder
        .as_ref()
        .map(|h| super::item::actor_name(Some(h)))
        .unwrap_or_default();
    Ok((ctx.tr.code("status", &status), shown, holder))
}

fn event_page(ctx: &Ctx, key: &str, f: &Fields, status: String, holder: String) -> EventFormPage {
    let tr = &ctx.tr;
    let t = match f.get("type") {
        t if t.is_empty() => "seized".to_owned(),
        t => t,
    };
    let actor_kinds: Vec<&str> = std::iter::once("")
        .chain(ActorKind::ALL.iter().map(|k| k.as_str()))
        .collect();
    let actor = |prefix: &'static str, legend: &str| ActorInput {
        prefix,
        legend: tr.t(legend),
        name: f.get(&format!("{prefix}_name")),
        country: f.get(&format!("{prefix}_country")),
        kinds: actor_kinds
            .iter()
            .map(|k| Choice {
                value: (*k).to_owned(),
                label: if k.is_empty() {
                    tr.t("record-choose-none")
                } else {
                    tr.code("record-actor-kind", k)
                },
                selected: *k == f.get(&format!("{prefix}_kind")),
            })
            .collect(),
    };
    EventFormPage {
        c: ctx.chrome("record-event-title"),
        key: key.to_owned(),
        status,
        holder,
        types: choices(tr, "event", &event_types(), &t),
        date: f.get("date"),
        place_country: f.get("place_country"),
        place_admin1: f.get("place_admin1"),
        place_locality: f.get("place_locality"),
        actors: vec![
            actor("from", "record-event-from"),
            actor("to", "record-event-to"),
        ],
        doc_kind: f.get("doc_kind"),
        doc_number: f.get("doc_number"),
        note: f.get("note"),
        errors: Vec::new(),
        warnings: Vec::new(),
        previewed: false,
    }
}

/// `GET /items/{key}/events/new`.
async fn event_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let (status, holder, _) = match item_now(&state, &ctx, &caller, &key).await {
        Ok(x) => x,
        Err(e) => return ctx.error_page(&e),
    };
    let mut f = Fields(Vec::new());
    f.0.push(("date".into(), today(&state)));
    let page = event_page(&ctx, &key, &f, status, holder);
    ctx.render(StatusCode::OK, &page)
}

/// The event record the form describes.
fn event_record(key: &str, f: &Fields) -> Value {
    let mut o = Map::new();
    o.insert("record".into(), json!("event"));
    o.insert("item".into(), json!(key));
    o.insert("type".into(), json!(f.get("type")));
    o.insert("date".into(), json!(f.get("date")));
    for prefix in ["from", "to"] {
        let name = f.get(&format!("{prefix}_name"));
        let country = f.get(&format!("{prefix}_country"));
        let kind = f.get(&format!("{prefix}_kind"));
        if name.is_empty() && country.is_empty() && kind.is_empty() {
            continue;
        }
        let mut a = Map::new();
        a.insert("name".into(), json!(name));
        if !country.is_empty() {
            a.insert("country".into(), json!(country.to_uppercase()));
        }
        if !kind.is_empty() {
            a.insert("kind".into(), json!(kind));
        }
        o.insert(prefix.into(), Value::Object(a));
    }
    let country = f.get("place_country");
    let admin1 = f.get("place_admin1");
    let locality = f.get("place_locality");
    if !(country.is_empty() && admin1.is_empty() && locality.is_empty()) {
        let mut p = Map::new();
        p.insert("country".into(), json!(country.to_uppercase()));
        if !admin1.is_empty() {
            p.insert("admin1".into(), json!(admin1));
        }
        if !locality.is_empty() {
            p.insert("locality".into(), json!(locality));
        }
        o.insert("place".into(), Value::Object(p));
    }
    let (dk, dn) = (f.get("doc_kind"), f.get("doc_number"));
    if !(dk.is_empty() && dn.is_empty()) {
        o.insert("documents".into(), json!([{"kind": dk, "number": dn}]));
    }
    let note = f.get("note");
    if !note.is_empty() {
        o.insert("note".into(), json!(note));
    }
    Value::Object(o)
}

/// The form field (input id, label) a record field of an event names.
fn event_field(tr: &super::i18n::Tr, field: &str) -> (String, String) {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    let sub = field.rsplit('.').next().unwrap_or("");
    match head {
        "type" => ("type".into(), tr.t("record-event-type")),
        "date" | "set" => ("date".into(), tr.t("record-event-date")),
        "place" => {
            let id = match sub {
                "admin1" => "place_admin1",
                "locality" => "place_locality",
                _ => "place_country",
            };
            (id.into(), tr.t("custody-place"))
        }
        "from" | "to" => {
            let id = match sub {
                "country" => format!("{head}_country"),
                "kind" => format!("{head}_kind"),
                _ => format!("{head}_name"),
            };
            let label = if head == "from" {
                "record-event-from"
            } else {
                "record-event-to"
            };
            (id, tr.t(label))
        }
        "documents" => {
            let id = if sub == "kind" {
                "doc_kind"
            } else {
                "doc_number"
            };
            (id.into(), tr.t("record-event-document"))
        }
        "note" => ("note".into(), tr.t("record-field-note")),
        _ => ("type".into(), field.to_owned()),
    }
}

/// `POST /items/{key}/events/new` (`action` = `preview` or `save`).
async fn event_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let f = Fields(form);
    let (status, holder_text, holder) = match item_now(&state, &ctx, &caller, &key).await {
        Ok(x) => x,
        Err(e) => return ctx.error_page(&e),
    };
    let mut page = event_page(&ctx, &key, &f, status, holder_text);
    if !csrf::check(&headers, &f.get("csrf")) {
        page.errors.push(FormError {
            field: "type".into(),
            label: tr.t("record-form"),
            message: tr.t("error-csrf"),
        });
        return ctx.render(StatusCode::FORBIDDEN, &page);
    }
    let save = f.get("action") == "save";
    let t = f.get("type");
    if !event_types().contains(&t.as_str()) {
        page.errors.push(FormError {
            field: "type".into(),
            label: tr.t("record-event-type"),
            message: tr.t("record-error-choose"),
        });
    }
    if f.get("date").is_empty() {
        page.errors.push(FormError {
            field: "date".into(),
            label: tr.t("record-event-date"),
            message: tr.t("record-error-required"),
        });
    }
    if !page.errors.is_empty() {
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    // What the registry does not refuse but a person should look at twice.
    if let Some(et) = EventType::parse(&t) {
        let from = f.get("from_name");
        let held_by = holder
            .as_ref()
            .and_then(|h| h.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if et.is_legal_transfer()
            && et != EventType::Manufactured
            && !from.is_empty()
            && !held_by.is_empty()
            && !from.eq_ignore_ascii_case(held_by)
        {
            page.warnings.push(tr.args(
                "record-warning-not-holder",
                &[("from", from.into()), ("holder", held_by.to_owned().into())],
            ));
        }
    }
    let record = event_record(&key, &f);
    let report = match run_import(&state, &caller, &[record], !save).await {
        Ok(r) => r,
        Err(e) => return ctx.error_page(&e),
    };
    for e in &report.errors {
        let (field, label) = event_field(&tr, &e.field);
        page.errors.push(FormError {
            field,
            label,
            message: e.message.clone(),
        });
    }
    if !page.errors.is_empty() {
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    if report.duplicates > 0 {
        page.warnings.push(tr.t("record-warning-event-duplicate"));
    }
    if save {
        return ctx.redirect(&format!("/items/{}#custody", url_segment(&key)));
    }
    page.previewed = true;
    ctx.render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- photographs

#[derive(Template)]
#[template(path = "web/record_photo.html")]
struct PhotoFormPage {
    c: super::Chrome,
    key: String,
    errors: Vec<FormError>,
    max_mb: String,
}

impl PhotoFormPage {
    fn error(&self, id: &str) -> Option<&str> {
        error_of(&self.errors, id)
    }
}

fn photo_page(ctx: &Ctx, key: &str) -> PhotoFormPage {
    PhotoFormPage {
        c: ctx.chrome("record-photo-title"),
        key: key.to_owned(),
        errors: Vec::new(),
        max_mb: ctx.tr.number((MAX_PHOTO_BYTES >> 20) as i64),
    }
}

/// `GET /items/{key}/photos`.
async fn photo_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if let Err(e) = item_now(&state, &ctx, &caller, &key).await {
        return ctx.error_page(&e);
    }
    ctx.render(StatusCode::OK, &photo_page(&ctx, &key))
}

/// The media type of an image by its first bytes: JPEG, PNG or WebP only.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A multipart form read into memory: text fields, and the one file of `file_field`
/// (its name and bytes), refusing a file larger than `max` bytes.
struct Upload {
    fields: Vec<(String, String)>,
    file: Option<(String, Vec<u8>)>,
    too_large: bool,
}

async fn read_multipart(
    mut m: Multipart,
    file_field: &str,
    max: usize,
) -> Result<Upload, ApiError> {
    let mut up = Upload {
        fields: Vec::new(),
        file: None,
        too_large: false,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("reading the form: {e}"))
    };
    while let Some(mut field) = m.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == file_field {
            let filename = field.file_name().unwrap_or("").to_owned();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if bytes.len() + chunk.len() > max {
                    up.too_large = true;
                    // Read (and drop) the rest so the answer reaches the browser.
                    continue;
                }
                bytes.extend_from_slice(&chunk);
            }
            let nothing_chosen = filename.is_empty() && bytes.is_empty();
            if !up.too_large && !nothing_chosen {
                up.file = Some((filename, bytes));
            }
        } else {
            let text = field.text().await.map_err(bad)?;
            if text.len() <= 4096 {
                up.fields.push((name, text));
            }
        }
    }
    Ok(up)
}

/// `POST /items/{key}/photos` (multipart: `csrf`, `photo`).
async fn photo_upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(key): Path<String>,
    multipart: Multipart,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let up = match read_multipart(multipart, "photo", MAX_PHOTO_BYTES).await {
        Ok(u) => u,
        Err(e) => return ctx.error_page(&e),
    };
    let mut page = photo_page(&ctx, &key);
    if !csrf::check(&headers, &Fields(up.fields).get("csrf")) {
        page.errors.push(FormError {
            field: "photo".into(),
            label: tr.t("record-form"),
            message: tr.t("error-csrf"),
        });
        return ctx.render(StatusCode::FORBIDDEN, &page);
    }
    // The same decision as any record, and the item must be one this person may read.
    if let Err(e) = api::authorize_import(&state, &caller).await {
        return ctx.error_page(&e);
    }
    if let Err(e) = item_now(&state, &ctx, &caller, &key).await {
        return ctx.error_page(&e);
    }
    let field = |message: String| FormError {
        field: "photo".into(),
        label: tr.t("record-photo-file"),
        message,
    };
    let (bytes, media_type) = match (&up.file, up.too_large) {
        (_, true) => {
            page.errors.push(field(tr.arg(
                "record-error-photo-large",
                "max",
                &page.max_mb,
            )));
            return ctx.render(StatusCode::PAYLOAD_TOO_LARGE, &page);
        }
        (None, _) => {
            page.errors.push(field(tr.t("record-error-photo-missing")));
            return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        (Some((_, bytes)), _) => match sniff_image(bytes) {
            Some(t) => (bytes.clone(), t),
            None => {
                page.errors.push(field(tr.t("record-error-photo-type")));
                return ctx.render(StatusCode::UNSUPPORTED_MEDIA_TYPE, &page);
            }
        },
    };
    let hash: [u8; 32] = Sha256::digest(&bytes).into();
    let hex = hex::encode(hash);
    let record = json!({
        "record": "event",
        "item": key,
        "type": EventType::Photographed.as_str(),
        "date": today(&state),
        "documents": [{"kind": "photo", "number": hex}],
    });
    // Checked first, so that nothing is stored for a record the registry would refuse.
    let check = match run_import(&state, &caller, std::slice::from_ref(&record), true).await {
        Ok(r) => r,
        Err(e) => return ctx.error_page(&e),
    };
    if let Some(e) = check.errors.first() {
        page.errors.push(field(e.message.clone()));
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let stored = state
        .writer()
        .run(move |node| node.store.put_photo(&hash, media_type, &bytes))
        .await;
    match stored {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return ctx.error_page(&ApiError::internal(format!("storing a photograph: {e}")))
        }
        Err(e) => return ctx.error_page(&e),
    }
    match run_import(&state, &caller, &[record], false).await {
        Ok(r) if r.errors.is_empty() => {
            ctx.redirect(&format!("/items/{}#photos", url_segment(&key)))
        }
        Ok(r) => {
            page.errors.push(field(
                r.errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ));
            ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Deserialize)]
struct PhotoQuery {
    item: Option<String>,
}

/// The SHA-256 hashes (hex) of the photographs an item's ledger records, in order.
pub(super) fn photos_of(history: &tracemark_registry::query::ItemHistory) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in &history.projection.events {
        if e.void || e.event.event_type != EventType::Photographed {
            continue;
        }
        for d in &e.event.documents {
            let h = d.number.to_ascii_lowercase();
            if d.kind == "photo" && is_sha256_hex(&h) && !out.contains(&h) {
                out.push(h);
            }
        }
    }
    out
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /photos/{sha256}?item=KEY`: the bytes, to whoever may read the item, when the item's
/// ledger records this photograph.
async fn photo_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(sha256): Path<String>,
    Query(q): Query<PhotoQuery>,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let hex = sha256.to_ascii_lowercase();
    let not_found = || ApiError::not_found("no such photograph");
    let Some(key) = q.item.filter(|_| is_sha256_hex(&hex)) else {
        return ctx.error_page(&not_found());
    };
    let history = match api::read_item(&state, &caller, Action::ReadItem, key, "").await {
        Ok(h) => h,
        Err(e) => return ctx.error_page(&e),
    };
    if !photos_of(&history).contains(&hex) {
        return ctx.error_page(&not_found());
    }
    let mut hash = [0u8; 32];
    if hex::decode_to_slice(&hex, &mut hash).is_err() {
        return ctx.error_page(&not_found());
    }
    let found = match state
        .reader()
        .run(move |node| node.store.photo(&hash))
        .await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            return ctx.error_page(&ApiError::internal(format!("reading a photograph: {e}")))
        }
        Err(e) => return ctx.error_page(&e),
    };
    let Some((media_type, bytes)) = found else {
        return ctx.error_page(&not_found());
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Private (it is evidence), never sniffed as anything else, never run as a document.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    res
}

// ---------------------------------------------------------------- import a file

/// One problem of a report: where, which field, what.
struct ReportLine {
    line: String,
    field: String,
    message: String,
}

#[derive(Template)]
#[template(path = "web/record_import.html")]
struct ImportPage {
    c: super::Chrome,
    errors: Vec<FormError>,
    /// The report, once a file was sent.
    report: Option<ReportView>,
}

impl ImportPage {
    fn error(&self, id: &str) -> Option<&str> {
        error_of(&self.errors, id)
    }
}

struct ReportView {
    summary: String,
    accepted: String,
    rejected: String,
    duplicates: String,
    committed: bool,
    lines: Vec<ReportLine>,
}

/// `GET /record/import`.
async fn import_form(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (ctx, _) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    ctx.render(
        StatusCode::OK,
        &ImportPage {
            c: ctx.chrome("record-import-title"),
            errors: Vec::new(),
            report: None,
        },
    )
}

/// `POST /record/import` (multipart: `csrf`, `file`, `check`, `accept_valid`).
async fn import_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    multipart: Multipart,
) -> Response {
    let (ctx, caller) = match Ctx::signed_in(&state, &headers, &uri) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let tr = ctx.tr;
    let mut page = ImportPage {
        c: ctx.chrome("record-import-title"),
        errors: Vec::new(),
        report: None,
    };
    let up = match read_multipart(multipart, "file", state.max_body_bytes()).await {
        Ok(u) => u,
        Err(e) => return ctx.error_page(&e),
    };
    let fields = Fields(up.fields);
    let field = |message: String| FormError {
        field: "file".into(),
        label: tr.t("record-import-file"),
        message,
    };
    if !csrf::check(&headers, &fields.get("csrf")) {
        page.errors.push(FormError {
            field: "file".into(),
            label: tr.t("record-form"),
            message: tr.t("error-csrf"),
        });
        return ctx.render(StatusCode::FORBIDDEN, &page);
    }
    if up.too_large {
        page.errors.push(field(tr.t("record-error-file-large")));
        return ctx.render(StatusCode::PAYLOAD_TOO_LARGE, &page);
    }
    let Some((filename, bytes)) = up.file else {
        page.errors.push(field(tr.t("record-error-file-missing")));
        return ctx.render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let check = fields.get("check") == "true";
    let accept_valid = fields.get("accept_valid") == "true";
    let ext = std::path::Path::new(&filename)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let save = |suffix: &str| -> Result<tempfile::NamedTempFile, ApiError> {
        use std::io::Write;
        let mut f = tempfile::Builder::new()
            .prefix(".upload-")
            .suffix(suffix)
            .tempfile_in(state.data_dir())
            .map_err(|e| ApiError::internal(format!("creating the upload file: {e}")))?;
        f.write_all(&bytes)
            .and_then(|_| f.flush())
            .map_err(|e| ApiError::internal(format!("writing the upload file: {e}")))?;
        Ok(f)
    };
    let view = if matches!(ext.as_str(), "jsonl" | "ndjson" | "json" | "") {
        // Interchange records: `POST /api/v1/records`.
        if let Err(e) = api::authorize_import(&state, &caller).await {
            return ctx.error_page(&e);
        }
        let file = match save(".jsonl") {
            Ok(f) => f,
            Err(e) => return ctx.error_page(&e),
        };
        let r = match api::import_upload(&state, &caller, file, accept_valid, check).await {
            Ok(r) => r,
            Err(e) => return ctx.error_page(&e),
        };
        ReportView {
            summary: String::new(),
            accepted: tr.number(r.accepted as i64),
            rejected: tr.number(r.rejected as i64),
            duplicates: tr.number(r.duplicates as i64),
            committed: r.committed,
            lines: r
                .errors
                .iter()
                .map(|e| ReportLine {
                    line: tr.arg("record-import-line", "n", &tr.number(e.line as i64)),
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
        }
    } else {
        // A register: `POST /api/v1/registers`.
        let ext = match register_api::register_file_extension(&filename) {
            Ok(x) => x,
            Err(_) => {
                page.errors.push(field(tr.t("record-error-file-type")));
                return ctx.render(StatusCode::UNSUPPORTED_MEDIA_TYPE, &page);
            }
        };
        if let Err(e) = register_api::authorize_register(&state, &caller, check).await {
            return ctx.error_page(&e);
        }
        let file = match save(&format!(".{ext}")) {
            Ok(f) => f,
            Err(e) => return ctx.error_page(&e),
        };
        let params = register_api::RegisterParams {
            filename: filename.clone(),
            accept_valid: Some(accept_valid),
            check: Some(check),
            encoding: None,
            delimiter: None,
            date_format: None,
            sheet: None,
            mapping: None,
        };
        let r = match register_api::register_upload(&state, &caller, &params, file).await {
            Ok(r) => r,
            Err(e) => return ctx.error_page(&e),
        };
        ReportView {
            summary: String::new(),
            accepted: tr.number(r.accepted as i64),
            rejected: tr.number(r.rejected as i64),
            duplicates: tr.number(r.duplicates as i64),
            committed: r.committed,
            lines: r
                .errors
                .iter()
                .map(|e| ReportLine {
                    line: tr.arg("record-import-row", "n", &tr.number(e.row as i64)),
                    field: match (&e.column, &e.header) {
                        (Some(c), Some(h)) => format!("{c} ({h}) · {}", e.field),
                        _ => e.field.clone(),
                    },
                    message: match &e.suggestion {
                        Some(s) => format!("{} — {s}", e.message),
                        None => e.message.clone(),
                    },
                })
                .collect(),
        }
    };
    let status = if view.lines.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let summary = if check {
        "record-import-checked"
    } else if view.committed {
        "record-import-committed"
    } else {
        "record-import-nothing"
    };
    page.report = Some(ReportView {
        summary: tr.t(summary),
        ..view
    });
    ctx.render(status, &page)
}

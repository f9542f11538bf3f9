//! End-to-end tests of the dashboard and the traces pages: the real server on a free
//! loopback port, spoken to as a browser would (cookies kept, redirects not followed, forms
//! posted urlencoded with an `Origin`), over a fresh store; and two nodes (Kenya and
//! Uganda, peers of each other) where a request is sent through Kenya's pages and answered
//! through Uganda's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
use common::web::*;
use common::TestClock;

use tracemark_registry::Node;

/// The key on a Kenyan node of the request of `TRACE_REQUEST_FORM` (its `id`), and its case.
const KEY: &str = "KE:KE-DCI-2026-0001";
const KEY_ENC: &str = "KE%3AKE-DCI-2026-0001";
const CASE: &str = "CR 12/2026 Isiolo";

/// The form's fields with `action` and the CSRF token, without the fields named in `drop`.
fn form_with<'a>(csrf: &'a str, action: &'a str, drop: &[&str]) -> Vec<(&'a str, &'a str)> {
    let mut f: Vec<(&str, &str)> = TRACE_REQUEST_FORM
        .iter()
        .copied()
        .filter(|(k, _)| !drop.contains(k))
        .collect();
    f.push(("csrf", csrf));
    f.push(("action", action));
    f
}

/// Follows a 303 with a GET.
async fn follow(b: &mut Browser, p: &Page) -> Page {
    assert_eq!(p.status, 303, "{}", p.body);
    let to = p.location.clone().unwrap();
    b.get(&to).await
}

/// The case page's path for this test's trace.
fn case_path() -> String {
    format!("/traces/{KEY_ENC}?purpose=CR+12%2F2026")
}

/// How many traces a node's store holds.
fn trace_count(data: &std::path::Path) -> usize {
    Node::open(data).unwrap().store.traces().unwrap().len()
}

/// Puts this test's request on record as a draft through the form; the case page.
async fn draft_through_the_form(b: &mut Browser) -> Page {
    let csrf = b.csrf().await;
    let p = b
        .post("/traces/new", &form_with(&csrf, "create", &[]))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let loc = p.location.clone().unwrap();
    assert!(
        loc.starts_with(&format!("/traces/{KEY_ENC}?purpose=")),
        "{loc}"
    );
    let page = follow(b, &p).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_an_overdue_trace_and_a_hit_on_a_stolen_item() {
    let web = Web::start().await;

    // Nothing yet: the empty states say so.
    let mut tracer = web.signed_in("tracer").await;
    let p = tracer.get("/dashboard").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("There is no open trace"), "{}", p.body);
    assert!(p.body.contains("No deadline has passed"), "{}", p.body);
    assert!(p.body.contains("No one has come across"), "{}", p.body);
    // The import of the harness is listed, linked to an item it recorded.
    assert!(p.body.contains("7 records"), "{}", p.body);
    assert!(
        p.body.contains("href=\"/items/KE-2020-000001\""),
        "{}",
        p.body
    );

    // An officer of the police finds the stolen pistol: the registry (which reported it) is told.
    let mut alice = web.signed_in("alice").await;
    let s = alice.get("/search?q=AB1234").await;
    assert_eq!(s.status, 200, "{}", s.body);

    // A request sent to Uganda (not a peer), never acknowledged.
    draft_through_the_form(&mut tracer).await;
    let csrf = tracer.csrf().await;
    let p = tracer
        .post(
            &format!("/traces/{KEY_ENC}/send"),
            &[("csrf", &csrf), ("purpose", CASE), ("to", "UG")],
        )
        .await;
    let page = follow(&mut tracer, &p).await;
    assert!(page.body.contains("The request is sent."), "{}", page.body);

    // Eight days on, the routine request's acknowledgement (seven days) is overdue.
    web.clock.advance(8 * 24 * 3600);
    let mut tracer = web.signed_in("tracer").await;
    let p = tracer.get("/dashboard").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let overdue = section(&p.body, "dash-overdue");
    assert!(overdue.contains("One deadline has passed."), "{overdue}");
    assert!(overdue.contains(">Overdue<"), "marked in words: {overdue}");
    assert!(overdue.contains("Acknowledgement owed by UG"), "{overdue}");
    assert!(
        overdue.contains(&format!("href=\"/traces/{KEY_ENC}?purpose=")),
        "{overdue}"
    );
    let open = section(&p.body, "dash-traces");
    assert!(open.contains("One trace is open."), "{open}");
    assert!(open.contains(KEY), "{open}");
    let hits = section(&p.body, "dash-hits");
    assert!(hits.contains("href=\"/items/KE-2020-000001\""), "{hits}");
    assert!(hits.contains("found in a search by police"), "{hits}");

    // The trace list marks it overdue too, in words.
    let p = tracer.get("/traces").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let outbox = section(&p.body, "outbox");
    assert!(outbox.contains("class=\"overdue\""), "{outbox}");
    assert!(outbox.contains("Acknowledgement owed by UG"), "{outbox}");
    assert!(section(&p.body, "inbox").contains("No trace request has been received"));

    // A clerk sees no trace (the policy gives traces to tracing officers only), and the
    // dashboard does not put a denial in the audit log for it.
    let audit_before = Node::open(&web.data).unwrap().store.audit_size().unwrap();
    let mut clerk = web.signed_in("clerk").await;
    let p = clerk.get("/dashboard").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(!p.body.contains("dash-traces"), "{}", p.body);
    assert!(section(&p.body, "dash-hits").contains("KE-2020-000001"));
    assert!(p.body.contains("dash-imports"));
    let node = Node::open(&web.data).unwrap();
    let size = node.store.audit_size().unwrap();
    let entries = node
        .store
        .audit_entries(audit_before, size - audit_before, &Default::default())
        .unwrap();
    assert!(
        entries
            .iter()
            .all(|e| !String::from_utf8_lossy(&e.data).contains("\"deny\"")),
        "no denial recorded by the dashboard"
    );
    drop(node);
    // …and the trace pages refuse the clerk.
    assert_eq!(clerk.get("/traces").await.status, 403);
    web.stop().await;
}

/// The text of the `<section aria-labelledby="id">`.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("aria-labelledby=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}: {body}"));
    let rest = &body[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_is_created_through_the_guided_form_and_taken_through_its_life_cycle() {
    let web = Web::start().await;
    let mut b = web.signed_in("tracer").await;

    // The form: every input labelled.
    let p = b.get("/traces/new").await;
    assert_eq!(p.status, 200, "{}", p.body);
    for id in [
        "id",
        "case_reference",
        "make",
        "marking_text_0",
        "legal_basis",
    ] {
        assert!(p.body.contains(&format!("<label for=\"{id}\">")), "{id}");
    }
    let csrf = b.csrf().await;

    // Incomplete: 422 naming the missing fields, nothing created.
    let p = b
        .post(
            "/traces/new",
            &form_with(&csrf, "create", &["id", "case_reference"]),
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains("Request reference: This field is required."),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("Case reference: This field is required."),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("id=\"id-error\""),
        "next to the field: {}",
        p.body
    );
    assert!(p.body.contains("value=\"Glock\""), "what was typed is kept");
    assert_eq!(trace_count(&web.data), 0);
    // A malformed value: 422 naming it, nothing created.
    let mut bad = form_with(&csrf, "create", &["country_of_manufacture"]);
    bad.push(("country_of_manufacture", "Austria"));
    let p = b.post("/traces/new", &bad).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains("Country of manufacture: This value is not valid."),
        "{}",
        p.body
    );
    assert_eq!(trace_count(&web.data), 0);

    // The check, before anything is recorded: what is missing and why, at the field.
    let p = b
        .post(
            "/traces/new",
            &form_with(&csrf, "check", &["legal_basis", "photos"]),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Completeness check"), "{}", p.body);
    let at_field = &p.body[p.body.find("<label for=\"legal_basis\">").unwrap()..];
    let at_field = &at_field[..at_field.find("<textarea").unwrap()];
    assert!(
        at_field.contains("The legal basis is missing."),
        "{at_field}"
    );
    assert!(at_field.contains("Why it matters:"), "{at_field}");
    assert!(p.body.contains("No photograph is attached."), "{}", p.body);
    assert_eq!(trace_count(&web.data), 0, "a check records nothing");

    // Started from an item of the registry: the form is filled from its trace draft
    // (`/items/{key}/trace-draft`), and checked at once; without a case reference, the page
    // asks for one (the custody read is recorded with it).
    let p = b.get("/traces/new?item=KE-2020-000001").await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"from_case-error\""), "{}", p.body);
    let p = b
        .get("/traces/new?item=KE-2020-000001&case=CR+9%2F2026")
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("value=\"Glock\""), "{}", p.body);
    assert!(p.body.contains("value=\"AB1234\""), "{}", p.body);
    assert!(p.body.contains("value=\"TR-KE-2020-000001\""), "{}", p.body);
    assert!(p.body.contains("value=\"CR 9/2026\""), "{}", p.body);
    assert!(p.body.contains("Completeness check"), "{}", p.body);
    assert!(p.body.contains("The legal basis is missing."), "{}", p.body);
    assert_eq!(
        trace_count(&web.data),
        0,
        "a prefilled form records nothing"
    );

    // Complete: created, to the case page.
    let page = draft_through_the_form(&mut b).await;
    assert_eq!(trace_count(&web.data), 1);
    assert!(page.body.contains("saved as a draft"), "{}", page.body);
    assert!(page.body.contains("Send the request"), "{}", page.body);
    assert!(
        page.body.contains("Request drafted"),
        "history: {}",
        page.body
    );
    // The same reference again: refused, named.
    let p = b
        .post("/traces/new", &form_with(&csrf, "create", &[]))
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("already on record"), "{}", p.body);

    // Send without recipients: 422 at the field; then to Uganda.
    let send = format!("/traces/{KEY_ENC}/send");
    let p = b
        .post(&send, &[("csrf", &csrf), ("purpose", CASE), ("to", "")])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("To: This field is required."), "{}", p.body);
    let p = b
        .post(&send, &[("csrf", &csrf), ("purpose", CASE), ("to", "UG")])
        .await;
    let page = follow(&mut b, &p).await;
    assert!(page.body.contains("The request is sent."), "{}", page.body);
    assert!(page.body.contains("Request sent"), "{}", page.body);
    // Sending twice: the life cycle refuses, in words.
    let p = b
        .post(&send, &[("csrf", &csrf), ("purpose", CASE), ("to", "UG")])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("This step was refused"), "{}", p.body);
    assert!(p.body.contains("while the trace is sent."), "{}", p.body);

    // Uganda's acknowledgement came by letter, its answer by e-mail.
    let p = b
        .post(
            &format!("/traces/{KEY_ENC}/acknowledge"),
            &[
                ("csrf", &csrf),
                ("purpose", CASE),
                ("for", "UG"),
                ("channel", "paper"),
                ("note", "Letter UPF/FB/112"),
            ],
        )
        .await;
    let page = follow(&mut b, &p).await;
    assert!(
        page.body.contains("The acknowledgement is recorded."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("recorded by hand, received on paper"),
        "{}",
        page.body
    );
    // An answer without findings: 422 at the field, nothing recorded.
    let answer = format!("/traces/{KEY_ENC}/answer");
    let p = b
        .post(
            &answer,
            &[
                ("csrf", &csrf),
                ("purpose", CASE),
                ("for", "UG"),
                ("channel", "email"),
                ("answer_kind", "full"),
                ("summary", ""),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("Findings: This field is required."),
        "{}",
        p.body
    );
    let p = b
        .post(
            &answer,
            &[
                ("csrf", &csrf),
                ("purpose", CASE),
                ("for", "UG"),
                ("channel", "email"),
                ("answer_kind", "full"),
                ("summary", "Imported in 2010 by Nairobi Arms Ltd."),
                ("holder_name", "Nairobi Arms Ltd"),
                ("holder_country", "KE"),
            ],
        )
        .await;
    let page = follow(&mut b, &p).await;
    assert!(
        page.body.contains("The answer is recorded."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Imported in 2010 by Nairobi Arms Ltd."),
        "{}",
        page.body
    );

    // A follow-up question, then closing with feedback.
    let p = b
        .post(
            &format!("/traces/{KEY_ENC}/follow-up"),
            &[
                ("csrf", &csrf),
                ("purpose", CASE),
                ("to", "UG"),
                ("question", "Who bought it?"),
            ],
        )
        .await;
    let page = follow(&mut b, &p).await;
    assert!(page.body.contains("Who bought it?"), "{}", page.body);
    let p = b
        .post(
            &format!("/traces/{KEY_ENC}/close"),
            &[
                ("csrf", &csrf),
                ("purpose", CASE),
                ("rating_UG", "4"),
                ("comment_UG", "Quick."),
            ],
        )
        .await;
    let page = follow(&mut b, &p).await;
    assert!(page.body.contains("The trace is closed."), "{}", page.body);
    assert!(page.body.contains("No step is open"), "{}", page.body);

    // The store agrees, and the steps are in the audit log with their purpose.
    let node = Node::open(&web.data).unwrap();
    let row = node.store.trace(KEY).unwrap().unwrap();
    assert_eq!(row.status, "closed");
    drop(node);

    // A sent request is not amended any more: refused, in words.
    let mut late = form_with(&csrf, "create", &[]);
    late.push(("purpose", CASE));
    let p = b.post(&format!("/traces/{KEY_ENC}/edit"), &late).await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("Only a draft can be amended"), "{}", p.body);

    // The print view.
    let p = b
        .get(&format!("/traces/{KEY_ENC}/print?purpose=print"))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("class=\"trace-print\""), "{}", p.body);
    assert!(p.body.contains("AB1234"), "{}", p.body);
    // Without a purpose, the case page asks for one.
    let p = b.get(&format!("/traces/{KEY_ENC}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<label for=\"purpose\">"), "{}", p.body);

    // Every page in every language: no message missing (a missing one shows as `[id]`).
    for lang in ["en", "fr", "es", "ar"] {
        for path in [
            "/dashboard".to_owned(),
            "/traces".to_owned(),
            "/traces/new".to_owned(),
            format!("/traces/{KEY_ENC}?purpose=check"),
            format!("/traces/{KEY_ENC}/print?purpose=check"),
        ] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let p = b.get(&format!("{path}{sep}lang={lang}")).await;
            assert_eq!(p.status, 200, "{lang} {path}: {}", p.body);
            assert!(!p.body.contains("[trace-"), "{lang} {path}: {}", p.body);
            assert!(!p.body.contains("[dash-"), "{lang} {path}: {}", p.body);
        }
    }
    b.get("/dashboard?lang=en").await;

    // A form without its CSRF token is refused, nothing recorded.
    let p = b
        .post(&format!("/traces/{KEY_ENC}/close"), &[("purpose", CASE)])
        .await;
    assert_eq!(p.status, 403, "{}", p.body);

    // The steps are in the audit log, each with the step as its purpose.
    let node = Node::open(&web.data).unwrap();
    let size = node.store.audit_size().unwrap();
    let audit: Vec<String> = node
        .store
        .audit_entries(0, size, &Default::default())
        .unwrap()
        .iter()
        .map(|e| String::from_utf8_lossy(&e.data).into_owned())
        .filter(|e| e.contains(&format!("\"trace:{KEY}\"")))
        .collect();
    drop(node);
    for step in [
        "draft",
        "send",
        "acknowledge",
        "answer",
        "follow_up",
        "close",
    ] {
        assert!(
            audit
                .iter()
                .any(|e| e.contains(&format!("\"purpose\":\"{step}\""))),
            "{step}: {audit:?}"
        );
    }

    // A request with a blocking gap is refused until the gap is explained (a waiver).
    let mut gap = form_with(&csrf, "create", &["id", "legal_basis"]);
    gap.push(("id", "KE-DCI-2026-0003"));
    let p = b.post("/traces/new", &gap).await;
    let page = follow(&mut b, &p).await;
    assert!(
        page.body.contains("name=\"waiver_missing_legal_basis\""),
        "{}",
        page.body
    );
    let send3 = "/traces/KE%3AKE-DCI-2026-0003/send";
    let p = b
        .post(send3, &[("csrf", &csrf), ("purpose", CASE), ("to", "UG")])
        .await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert!(p.body.contains("This step was refused"), "{}", p.body);
    assert!(
        p.body.contains("The request may not be sent yet"),
        "{}",
        p.body
    );
    assert_eq!(
        Node::open(&web.data)
            .unwrap()
            .store
            .trace("KE:KE-DCI-2026-0003")
            .unwrap()
            .unwrap()
            .status,
        "draft"
    );
    let p = b
        .post(
            send3,
            &[
                ("csrf", &csrf),
                ("purpose", CASE),
                ("to", "UG"),
                (
                    "waiver_missing_legal_basis",
                    "Seized under the general police powers; cited on paper.",
                ),
            ],
        )
        .await;
    let page = follow(&mut b, &p).await;
    assert!(page.body.contains("The request is sent."), "{}", page.body);

    // Or the draft is amended through the same form (`PUT /api/v1/traces/{key}`'s step).
    let mut gap = form_with(&csrf, "create", &["id", "legal_basis"]);
    gap.push(("id", "KE-DCI-2026-0004"));
    let p = b.post("/traces/new", &gap).await;
    let page = follow(&mut b, &p).await;
    let edit = "/traces/KE%3AKE-DCI-2026-0004/edit";
    assert!(
        page.body.contains(&format!("href=\"{edit}?purpose=")),
        "{}",
        page.body
    );
    let p = b.get(&format!("{edit}?purpose=amend")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("The legal basis is missing."), "{}", p.body);
    assert!(p.body.contains("value=\"KE-DCI-2026-0004\""), "{}", p.body);
    let mut amended = form_with(&csrf, "create", &["id"]);
    amended.push(("id", "KE-DCI-2026-0004"));
    amended.push(("purpose", CASE));
    let p = b.post(edit, &amended).await;
    let page = follow(&mut b, &p).await;
    assert!(page.body.contains("The draft is amended."), "{}", page.body);
    assert!(
        page.body.contains("Draft amended"),
        "history: {}",
        page.body
    );
    assert!(
        !page.body.contains("waiver_missing_legal_basis"),
        "{}",
        page.body
    );
    // Another id in the body is refused, at the field.
    let mut other = form_with(&csrf, "create", &["id"]);
    other.push(("id", "KE-DCI-2026-0005"));
    other.push(("purpose", CASE));
    let p = b.post(edit, &other).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body
            .contains("Request reference: This value is not valid."),
        "{}",
        p.body
    );

    // Others may not create traces: the same refusal as the API's.
    let mut clerk = web.signed_in("clerk").await;
    assert_eq!(clerk.get("/traces/new").await.status, 403);
    let csrf = clerk.csrf().await;
    let mut other = form_with(&csrf, "create", &["id"]);
    other.push(("id", "KE-DCI-2026-0002"));
    let p = clerk.post("/traces/new", &other).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert_eq!(trace_count(&web.data), 3);
    web.stop().await;
}

// --- Two nodes ---------------------------------------------------------------------------

/// A node of `state` for the two-node test: the harness's seed (users, agencies), the
/// harness's records, on a shared clock.
/// Waits until `data`'s trace `KEY` has the status `status` (the delivery task carries the
/// messages between the nodes in the background).
async fn wait_for_status(data: &std::path::Path, status: &str) {
    for _ in 0..500 {
        let row = Node::open(data).unwrap().store.trace(KEY).unwrap();
        if row.as_ref().is_some_and(|r| r.status == status) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("trace {KEY} never reached {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kenya_sends_through_its_pages_and_uganda_answers_through_its_own() {
    // 2026-01-01, one clock for both (envelopes far from the receiver's time are refused).
    let clock = TestClock::at(1_767_225_600);
    let ke = Web::start_on("KE", RECORDS, clock.clone()).await;
    let ug = Web::start_on("UG", RECORDS, clock.clone()).await;
    ke.knows(&ug);
    ug.knows(&ke);

    // Kenya drafts and sends through its pages.
    let mut kb = ke.signed_in("tracer").await;
    draft_through_the_form(&mut kb).await;
    let csrf = kb.csrf().await;
    let p = kb
        .post(
            &format!("/traces/{KEY_ENC}/send"),
            &[("csrf", &csrf), ("purpose", CASE), ("to", "UG")],
        )
        .await;
    follow(&mut kb, &p).await;
    // Delivered: Uganda's signed receipt came back to Kenya.
    wait_for_status(&ke.data, "delivered").await;

    // Uganda: the request is in its inbox.
    let mut ub = ug.signed_in("tracer").await;
    let p = ub.get("/traces").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let inbox = section(&p.body, "inbox");
    assert!(inbox.contains(KEY), "{inbox}");
    assert!(inbox.contains(">KE<"), "the requesting state: {inbox}");
    let case = ub.get(&case_path()).await;
    assert_eq!(case.status, 200, "{}", case.body);
    assert!(case.body.contains("Acknowledge receipt"), "{}", case.body);

    // The answer form is prefilled with the answer drafted from Uganda's registry.
    let form = &case.body[case.body.find("action=\"/traces/").unwrap()..];
    let form = &form[form.find("answer-form").unwrap()..];
    assert!(
        form.contains("KE-2020-000001"),
        "the matching record: {form}"
    );
    let summary = &form[form.find("<textarea id=\"summary\"").unwrap()..];
    let summary = &summary[summary.find('>').unwrap() + 1..summary.find("</textarea>").unwrap()];
    assert!(
        !summary.trim().is_empty(),
        "the findings are drafted: {form}"
    );
    assert!(
        form.contains(" selected>"),
        "an outcome is proposed: {form}"
    );

    // Acknowledge, then answer (edited) through the pages.
    let csrf = ub.csrf().await;
    let p = ub
        .post(
            &format!("/traces/{KEY_ENC}/acknowledge"),
            &[
                ("csrf", &csrf),
                ("purpose", "CR 12/2026"),
                ("note", "Received."),
            ],
        )
        .await;
    let page = follow(&mut ub, &p).await;
    assert!(
        page.body.contains("The acknowledgement is recorded."),
        "{}",
        page.body
    );
    let p = ub
        .post(
            &format!("/traces/{KEY_ENC}/answer"),
            &[
                ("csrf", &csrf),
                ("purpose", "CR 12/2026"),
                ("answer_kind", "full"),
                (
                    "summary",
                    "Imported from Austria in 2010 by Nairobi Arms Ltd.",
                ),
                ("holder_name", "Nairobi Arms Ltd"),
                ("holder_country", "KE"),
            ],
        )
        .await;
    let page = follow(&mut ub, &p).await;
    assert!(
        page.body.contains("The answer is recorded."),
        "{}",
        page.body
    );

    // Kenya's case page shows Uganda's answer.
    wait_for_status(&ke.data, "answered").await;
    let page = kb.get(&case_path()).await;
    assert!(
        page.body
            .contains("Imported from Austria in 2010 by Nairobi Arms Ltd."),
        "{}",
        page.body
    );
    ke.stop().await;
    ug.stop().await;
}

//! Pages in a real headless Chromium (see `common/browser.rs`; `scripts/test` provides the
//! browser). Screenshots are kept in `<target>/e2e-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::browser::Browser;
use common::web::{Web, OPEN_ITEM, PASSWORD};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::Locator;
use tracemark_registry::{FixedClock, Node};

/// The element matching `css` (panics naming the selector and the page when absent).
async fn find(b: &Browser, css: &str) -> Element {
    match b.client.find(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let url = b.client.current_url().await.map(|u| u.to_string());
            let source = b.client.source().await.unwrap_or_default();
            panic!("no {css} on {url:?}: {e}\n{source}");
        }
    }
}

/// Types `text` into the field matching `css` (cleared first).
async fn fill(b: &Browser, css: &str, text: &str) {
    let field = find(b, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Clicks the element matching `css` and waits until the browser has left the page (the old
/// document's root is gone), so that what follows reads the new page.
async fn click_to_next_page(b: &Browser, css: &str) {
    let old = find(b, "html").await;
    find(b, css).await.click().await.unwrap();
    wait_for_next_page(old).await;
}

/// Waits until `old_root` (the `<html>` of the page that was shown) is no longer in the
/// browser.
async fn wait_for_next_page(old_root: Element) {
    for _ in 0..200 {
        if old_root.attr("lang").await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the page did not change");
}

/// The page's visible text.
async fn page_text(b: &Browser) -> String {
    find(b, "body").await.text().await.unwrap()
}

/// The path of the page the browser shows.
async fn path(b: &Browser) -> String {
    b.client.current_url().await.unwrap().path().to_owned()
}

/// axe-core (Deque, MPL-2.0; `tests/vendor/`), the accessibility engine browsers' own audit
/// tools use, run in the page.
const AXE: &str = include_str!("vendor/axe.min.js");

/// The WCAG 2 A and AA violations axe finds on the page the browser shows (labels, contrast,
/// landmarks, names of controls, language…), one line each; empty when there is none.
async fn accessibility_violations(b: &Browser) -> Vec<String> {
    b.client
        .execute(&format!("{AXE}\nreturn true;"), vec![])
        .await
        .unwrap();
    let found = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
               .then(r => done(r.violations.map(v =>
                 v.impact + ' ' + v.id + ': ' + v.help + ' — ' +
                 v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Fails naming the page and every violation found on it.
async fn assert_accessible(b: &Browser, page: &str) {
    let found = accessibility_violations(b).await;
    assert!(found.is_empty(), "{page}: {found:#?}");
}

/// The accessibility check finds what it should: a page without a language, a title or a
/// label, and with grey-on-grey text, fails it (so the pages' passing means something).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_check_catches_an_inaccessible_page() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><main><input type=text>\
         <p style='color:#bbb;background:#ccc'>faint</p></main></body></html>",
    )
    .unwrap();
    b.client
        .goto(&format!("file://{}", page.display()))
        .await
        .unwrap();
    let found = accessibility_violations(&b).await.join("\n");
    for rule in ["html-has-lang", "document-title", "label", "color-contrast"] {
        assert!(found.contains(rule), "{rule} not found in:\n{found}");
    }
    b.close().await;
}

/// An officer's day in a real Chromium, as a newcomer would click through it: sign in with
/// the authenticator code, search a serial whose fifth character is obliterated (`AB12?4`),
/// open the item, and read the pages in Arabic, right to left. Screenshots of each page are
/// kept as artefacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_signs_in_with_mfa_searches_an_obliterated_serial_and_reads_arabic() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let web = Web::start().await;
    let c = &b.client;

    c.goto(&format!("{}/", web.base)).await.unwrap();
    assert_eq!(path(&b).await, "/sign-in");
    b.screenshot("web-sign-in").await;
    assert_accessible(&b, "sign-in").await;
    // With the keyboard only, as a person who does not use a mouse: the first Tab reaches
    // the skip link, the form goes field by field with Tab, and Enter signs in.
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    let sign_in_page = find(&b, "html").await;
    find(&b, "body").await.send_keys(&tab).await.unwrap();
    let focused = c.active_element().await.unwrap();
    assert_eq!(
        focused.attr("class").await.unwrap().as_deref(),
        Some("skip-link")
    );
    find(&b, "#account").await.click().await.unwrap();
    let totp = web.totp("tracer");
    for (text, next) in [("tracer", &tab), (PASSWORD, &tab), (totp.as_str(), &enter)] {
        let field = c.active_element().await.unwrap();
        field.send_keys(text).await.unwrap();
        field.send_keys(next).await.unwrap();
    }
    // Enter submitted the form.
    wait_for_next_page(sign_in_page).await;
    assert_eq!(path(&b).await, "/dashboard");

    // As the serial is typed, the page's script shows the form the index compares (asked
    // of the server's own normalizer; the Content-Security-Policy lets only this script run).
    c.goto(&format!("{}/search", web.base)).await.unwrap();
    find(&b, "#q").await.send_keys("ab 12-34").await.unwrap();
    let mut shown = String::new();
    for _ in 0..100 {
        shown = find(&b, "#q-normalized").await.text().await.unwrap();
        if shown.contains("AB1234") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        shown.contains("AB1234"),
        "normalized form while typing: {shown:?}"
    );

    // The obliterated serial, through the position grid: six boxes, the fifth unreadable.
    c.goto(&format!("{}/search", web.base)).await.unwrap();
    find(&b, "details.search-grid summary")
        .await
        .click()
        .await
        .unwrap();
    fill(&b, "#n", "6").await;
    click_to_next_page(&b, "form.grid-size button[type=submit]").await;
    for (i, ch) in ["A", "B", "1", "2", "", "4"].iter().enumerate() {
        fill(&b, &format!("#g{i}"), ch).await;
    }
    click_to_next_page(&b, "form.grid-boxes button[type=submit]").await;
    assert_eq!(
        find(&b, "#q").await.prop("value").await.unwrap().as_deref(),
        Some("AB12?4"),
        "the boxes became the wildcard query"
    );
    let results = page_text(&b).await;
    assert!(results.contains("tracer"), "signed in: {results}");
    assert!(results.contains(OPEN_ITEM), "{results}");
    b.screenshot("web-search-obliterated").await;
    assert_accessible(&b, "search results").await;

    click_to_next_page(&b, &format!("a[href='/items/{OPEN_ITEM}']")).await;
    assert_eq!(path(&b).await, format!("/items/{OPEN_ITEM}"));
    let item = page_text(&b).await;
    for seen in ["Glock", "AB1234", "9x19mm"] {
        assert!(item.contains(seen), "{seen} not on the item page:\n{item}");
    }
    b.screenshot("web-item").await;
    assert_accessible(&b, "item").await;

    // On a tablet held upright the page fits its width (nothing to scroll sideways).
    c.set_window_size(768, 1024).await.unwrap();
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "wider than a tablet by {overflow}px"
    );
    b.screenshot("web-item-tablet").await;
    c.set_window_size(1280, 900).await.unwrap();

    // Switch to Arabic with the language form: the page comes back right to left.
    find(&b, "#lang").await.select_by_value("ar").await.unwrap();
    click_to_next_page(&b, "form.language button[type=submit]").await;
    let html = find(&b, "html").await;
    assert_eq!(html.attr("dir").await.unwrap().as_deref(), Some("rtl"));
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("ar"));
    assert_eq!(path(&b).await, format!("/items/{OPEN_ITEM}"));
    // The layout really runs right to left, not only the attribute: the main heading's
    // text starts at the right.
    let align = c
        .execute(
            "return getComputedStyle(document.querySelector('main h1')).direction",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(align.as_str(), Some("rtl"));
    b.screenshot("web-item-arabic").await;
    assert_accessible(&b, "item in Arabic").await;

    b.close().await;
    web.stop().await;
}

/// Signs in through the form as `account` (with the authenticator code when given).
async fn sign_in(b: &Browser, web: &Web, account: &str, totp: Option<String>) {
    b.client
        .goto(&format!("{}/sign-in", web.base))
        .await
        .unwrap();
    fill(b, "#account", account).await;
    fill(b, "#password", PASSWORD).await;
    if let Some(code) = totp {
        fill(b, "#totp", &code).await;
    }
    click_to_next_page(b, "form[action='/sign-in'] button[type=submit]").await;
    assert_eq!(path(b).await, "/dashboard", "{account} signed in");
}

/// A registry clerk records a seizure through the form — previewing it first, as the page
/// asks — and an investigator, stating a purpose, sees it in the item's chain of custody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_records_a_seizure_and_an_investigator_sees_it_in_the_custody_timeline() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let web = Web::start().await;
    let c = &b.client;
    sign_in(&b, &web, "clerk", None).await;
    for (page, name) in [
        ("/record/item", "register an item"),
        ("/record/import", "import a file"),
    ] {
        c.goto(&format!("{}{page}", web.base)).await.unwrap();
        assert_accessible(&b, name).await;
    }
    b.screenshot("web-record-import").await;

    c.goto(&format!("{}/items/{OPEN_ITEM}", web.base))
        .await
        .unwrap();
    click_to_next_page(&b, &format!("a[href='/items/{OPEN_ITEM}/events/new']")).await;
    find(&b, "#type")
        .await
        .select_by_value("seized")
        .await
        .unwrap();
    fill(&b, "#date", "2025-11-30").await;
    fill(&b, "#place_country", "KE").await;
    fill(&b, "#place_admin1", "Mombasa").await;
    fill(&b, "#to_name", "Kenya Police Service").await;
    fill(&b, "#to_country", "KE").await;
    find(&b, "#to_kind")
        .await
        .select_by_value("police")
        .await
        .unwrap();
    fill(&b, "#doc_kind", "seizure_report").await;
    fill(&b, "#doc_number", "SR-2025-0042").await;
    click_to_next_page(&b, "button[name=action][value=preview]").await;
    find(&b, ".preview-ok").await;
    b.screenshot("web-record-seizure-preview").await;
    assert_accessible(&b, "record an event (preview)").await;
    click_to_next_page(&b, "button[name=action][value=save]").await;
    assert_eq!(path(&b).await, format!("/items/{OPEN_ITEM}"));

    // The investigator states why she reads the custody; the seizure is its last entry.
    click_to_next_page(&b, "form[action='/sign-out'] button[type=submit]").await;
    sign_in(&b, &web, "alice", None).await;
    c.goto(&format!("{}/items/{OPEN_ITEM}", web.base))
        .await
        .unwrap();
    fill(&b, "#purpose", "CR 45/2025 Mombasa").await;
    click_to_next_page(&b, "form.purpose button[type=submit]").await;
    let timeline = page_text(&b).await;
    for seen in ["30 November 2025", "Kenya Police Service", "Mombasa"] {
        assert!(
            timeline.contains(seen),
            "{seen} not in the timeline:\n{timeline}"
        );
    }
    b.screenshot("web-item-custody").await;
    assert_accessible(&b, "item with custody").await;

    b.close().await;
    web.stop().await;
}

/// A tracing officer whose account has no second factor yet signs in for the first time:
/// the password leads to the enrolment page with its QR code; the code of the authenticator
/// (computed here from the secret the page shows for manual entry) finishes the enrolment and
/// signs her in; from then on the code is asked at every sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_officer_enrols_her_authenticator_from_the_qr_page_and_signs_in() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let web = Web::start().await;
    {
        let mut node = Node::open(&web.data).unwrap();
        tracemark_access::accounts::add_user(
            node.store.as_mut(),
            "wanjiru",
            "national-registry",
            "tracing_officer",
            PASSWORD,
            "2026-01-01T00:00:00Z",
        )
        .unwrap();
    }
    let c = &b.client;
    c.goto(&format!("{}/sign-in", web.base)).await.unwrap();
    fill(&b, "#account", "wanjiru").await;
    fill(&b, "#password", PASSWORD).await;
    click_to_next_page(&b, "form[action='/sign-in'] button[type=submit]").await;
    assert_eq!(path(&b).await, "/sign-in/enrol");
    // The QR code is drawn (an inline SVG with content), and the secret is there to type.
    let qr = find(&b, "figure.qr svg").await;
    let size = c
        .execute(
            "return document.querySelector('figure.qr svg').getBoundingClientRect().width",
            vec![],
        )
        .await
        .unwrap();
    assert!(size.as_f64().unwrap() >= 150.0, "QR code {size}px wide");
    assert!(qr.html(false).await.unwrap().len() > 1000);
    b.screenshot("web-enrol-qr").await;
    assert_accessible(&b, "MFA enrolment").await;
    let secret: String = find(&b, "#enrol-secret")
        .await
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    web.clock.advance(30);
    let code = tracemark_access::totp::code_at(&secret, web.clock.unix() as u64).unwrap();
    fill(&b, "#code", &code).await;
    click_to_next_page(&b, "form button.primary").await;
    assert_eq!(path(&b).await, "/dashboard");

    // Signed out, the next sign-in needs the code.
    click_to_next_page(&b, "form[action='/sign-out'] button[type=submit]").await;
    fill(&b, "#account", "wanjiru").await;
    fill(&b, "#password", PASSWORD).await;
    click_to_next_page(&b, "form[action='/sign-in'] button[type=submit]").await;
    assert_eq!(path(&b).await, "/sign-in");
    find(&b, "#totp-error").await;
    web.clock.advance(30);
    let code = tracemark_access::totp::code_at(&secret, web.clock.unix() as u64).unwrap();
    fill(&b, "#password", PASSWORD).await;
    fill(&b, "#totp", &code).await;
    click_to_next_page(&b, "form[action='/sign-in'] button[type=submit]").await;
    assert_eq!(path(&b).await, "/dashboard");
    b.screenshot("web-dashboard").await;
    assert_accessible(&b, "dashboard").await;
    c.goto(&format!("{}/account", web.base)).await.unwrap();
    assert_accessible(&b, "account").await;

    // The administrator's pages.
    click_to_next_page(&b, "form[action='/sign-out'] button[type=submit]").await;
    sign_in(&b, &web, "admin", Some(web.totp("admin"))).await;
    c.goto(&format!("{}/admin", web.base)).await.unwrap();
    assert!(
        page_text(&b).await.contains("wanjiru"),
        "the new officer is listed"
    );
    b.screenshot("web-admin").await;
    assert_accessible(&b, "administration").await;

    b.close().await;
    web.stop().await;
}

/// Fills the form field named `name` with `value`, whatever it is: a text box, a text area,
/// a list (the option with that value) or a radio button (the one with that value).
async fn fill_field(b: &Browser, name: &str, value: &str) {
    let any = find(b, &format!("[name='{name}']")).await;
    match (
        any.tag_name().await.unwrap().as_str(),
        any.attr("type").await.unwrap().as_deref(),
    ) {
        ("select", _) => any.select_by_value(value).await.unwrap(),
        ("input", Some("radio")) => find(b, &format!("input[name='{name}'][value='{value}']"))
            .await
            .click()
            .await
            .unwrap(),
        _ => {
            let id = any.attr("id").await.unwrap().unwrap();
            fill(b, &format!("#{id}"), value).await;
        }
    }
}

/// Reloads the page until its text contains `text` (another node's answer arrives in the
/// background).
async fn reload_until(b: &Browser, text: &str) -> String {
    for _ in 0..100 {
        let body = page_text(b).await;
        if body.contains(text) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        b.client.refresh().await.unwrap();
    }
    panic!("{text:?} never appeared:\n{}", page_text(b).await);
}

/// Kenya's tracing officer fills the guided request for a pistol seized at a checkpoint and
/// sends it to Uganda; Uganda's officer, on her own installation and in her own browser,
/// finds it in her inbox, acknowledges it and sends the answer the page drafted from her
/// registry; Kenya's case page then shows the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kenya_sends_a_trace_request_and_uganda_answers_it_in_two_browsers() {
    let Some(kb) = Browser::start().await else {
        return;
    };
    let ub = Browser::start().await.unwrap();
    let clock = common::TestClock::at(1_767_225_600);
    let ke = Web::start_on("KE", common::web::RECORDS, clock.clone()).await;
    let ug = Web::start_on("UG", common::web::RECORDS, clock.clone()).await;
    ke.knows(&ug);
    ug.knows(&ke);

    sign_in(&kb, &ke, "tracer", Some(ke.totp("tracer"))).await;
    kb.client
        .goto(&format!("{}/traces/new", ke.base))
        .await
        .unwrap();
    for (name, value) in common::web::TRACE_REQUEST_FORM {
        fill_field(&kb, name, value).await;
    }
    kb.screenshot("web-trace-new").await;
    assert_accessible(&kb, "new trace request").await;
    click_to_next_page(&kb, "button[name=action][value=create]").await;
    assert!(
        path(&kb).await.starts_with("/traces/KE"),
        "{}",
        path(&kb).await
    );
    fill(&kb, "#to", "UG").await;
    click_to_next_page(&kb, "form[action$='/send'] button[type=submit]").await;
    reload_until(&kb, "delivered").await;
    kb.screenshot("web-trace-sent").await;

    // Uganda's officer, in her browser, on her installation.
    sign_in(&ub, &ug, "tracer", Some(ug.totp("tracer"))).await;
    ub.client
        .goto(&format!("{}/traces", ug.base))
        .await
        .unwrap();
    ub.screenshot("web-traces-inbox").await;
    assert_accessible(&ub, "traces").await;
    click_to_next_page(&ub, "section[aria-labelledby=inbox] a[href^='/traces/KE']").await;
    click_to_next_page(&ub, "form[action$='/acknowledge'] button[type=submit]").await;
    // The answer is drafted from Uganda's registry: the matching record and its findings.
    let summary = find(&ub, ".answer-form textarea[name=summary]").await;
    let drafted = summary.prop("value").await.unwrap().unwrap_or_default();
    assert!(!drafted.trim().is_empty(), "no drafted findings");
    summary
        .send_keys(" Checked against the import file by the registry on 2 January.")
        .await
        .unwrap();
    ub.screenshot("web-trace-answer").await;
    assert_accessible(&ub, "trace case with the answer form").await;
    click_to_next_page(&ub, ".answer-form button[type=submit]").await;

    // Kenya sees the answer.
    let case = reload_until(&kb, "Checked against the import file").await;
    assert!(case.contains("answered"), "{case}");
    kb.screenshot("web-trace-answered").await;
    click_to_next_page(&kb, "a[href$='/print'], a[href*='/print?']").await;
    kb.screenshot("web-trace-print").await;
    assert_accessible(&kb, "trace print view").await;

    // The officer's list of traces, in Arabic: right to left, the key still readable.
    kb.client
        .goto(&format!("{}/traces?lang=ar", ke.base))
        .await
        .unwrap();
    let html = find(&kb, "html").await;
    assert_eq!(html.attr("dir").await.unwrap().as_deref(), Some("rtl"));
    assert!(page_text(&kb).await.contains("KE-DCI-2026-0001"));
    kb.screenshot("web-traces-arabic").await;

    kb.close().await;
    ub.close().await;
    ke.stop().await;
    ug.stop().await;
}

/// The printable trace request (for a state that does not run Tracemark) as an officer opens
/// it in a browser to print: every marking as seen — Latin, Cyrillic and Arabic — the case,
/// the requested state and the blocks for the answer, laid out on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printable_request_renders_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let node = Node::init(
        &dir.path().join("data"),
        "KE",
        None,
        &FixedClock("2026-12-04T10:00:00Z".into()),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(tracemark_trace::request::EXAMPLE).unwrap();
    v["item"]["markings"].as_array_mut().unwrap().extend([
        serde_json::json!({"text": "ПА 1234", "kind": "secondary", "component": "bolt"}),
        serde_json::json!({"text": "٥٦١٢٣٤٥", "kind": "state_ownership", "component": "stock"}),
    ]);
    let request: tracemark_trace::request::TraceRequest = serde_json::from_value(v).unwrap();
    let assessment = tracemark_registry::tracing::assess(&node, &request).unwrap();
    let html = tracemark_registry::tracing::print_html(&request, &assessment, &["CN".into()]);
    let page = dir.path().join("request.html");
    std::fs::write(&page, html).unwrap();

    let c = &browser.client;
    c.goto(&format!("file://{}", page.display())).await.unwrap();
    let title = c.title().await.unwrap();
    assert!(title.contains("KE-DCI-2024-0117"), "{title}");
    let body = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for seen in ["5612345", "ПА 1234", "٥٦١٢٣٤٥", "CR 45/2024 Isiolo", "CN"] {
        assert!(body.contains(seen), "{seen} not on the page:\n{body}");
    }
    // Laid out, not an empty box: the page is taller than its first screen.
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap();
    assert!(height.as_f64().unwrap() > 900.0, "{height}");
    let shot = browser.screenshot("trace-request-print").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    browser.close().await;
}

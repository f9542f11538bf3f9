//! Pages in a real headless Chromium (see `common/browser.rs`; `scripts/test` provides the
//! browser). Screenshots are kept in `<target>/e2e-screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use common::browser::Browser;
use fantoccini::Locator;
use tracemark_registry::{FixedClock, Node};

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

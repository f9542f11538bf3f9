//! End-to-end tests of the recording pages (web/record.rs) and the item page's ledger badge:
//! the real server on a free loopback port, driven as a browser would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
use common::web::*;

use base64::Engine;
use sha2::{Digest, Sha256};
use tracemark_registry::Node;

fn ledger_size(web: &Web) -> u64 {
    Node::open(&web.data).unwrap().store.ledger_size().unwrap()
}

/// Posts a multipart form: text fields, then one file (field name, file name, bytes).
async fn post_multipart(
    b: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
    file: (&str, &str, &[u8]),
) -> Page {
    const BOUNDARY: &str = "----tracemark-test-boundary-7d3f";
    let mut body: Vec<u8> = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    let (name, filename, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let r = b
        .http
        .post(format!("{}{path}", b.base))
        .header("cookie", b.cookie_header())
        .header("origin", b.base.clone())
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    b.finish(r).await
}

/// The fields of the item form with `extra` set (later pairs win on the server).
fn item_fields<'a>(
    csrf: &'a str,
    action: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("csrf", csrf), ("rows", "4"), ("action", action)];
    f.extend_from_slice(extra);
    f
}

const NEW_KEY: &str = "KE-2026-000900";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_an_item_with_cyrillic_and_arabic_digit_markings() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let p = b.get("/record/item").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<label for=\"m1_text\">"), "{}", p.body);
    assert!(p.body.contains("id=\"m4_text\"") && !p.body.contains("id=\"m5_text\""));
    assert!(p.body.contains("<label for=\"key\">"));
    let csrf = b.csrf().await;

    // More rows, without script: the form comes back with four more.
    let p = b
        .post("/record/item", &item_fields(&csrf, "more", &[]))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("id=\"m8_text\""), "{}", p.body);

    let fields = [
        ("key", NEW_KEY),
        ("kind", "firearm"),
        ("type", "assault_rifle"),
        ("make", "Izhmash"),
        ("model", "AK-74"),
        ("calibre", "5.45x39mm"),
        ("country", "ru"),
        ("year", "1985"),
        // Cyrillic А and К, as seen on the receiver.
        ("m1_text", "АК 123"),
        ("m1_kind", "serial"),
        ("m1_component", "receiver"),
        // Arabic-Indic digits.
        ("m2_text", "٧٨٩-١٢"),
        ("m2_kind", "serial"),
        ("m2_component", "barrel"),
    ];
    let before = ledger_size(&web);
    let p = b
        .post("/record/item", &item_fields(&csrf, "preview", &fields))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("preview-ok"), "{}", p.body);
    // The index's own keys: canonical keeps the Cyrillic letters, the search key is Latin;
    // the Arabic-Indic digits become ASCII digits.
    assert!(p.body.contains(">АК123<"), "{}", p.body);
    assert!(p.body.contains(">AK123<"), "{}", p.body);
    assert!(p.body.contains(">78912<"), "{}", p.body);
    assert_eq!(ledger_size(&web), before, "a preview records nothing");

    let p = b
        .post("/record/item", &item_fields(&csrf, "save", &fields))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/items/KE-2026-000900"));
    assert_eq!(ledger_size(&web), before + 1);
    // The same leaf the API would write: recorded by the clerk, for the agency.
    let node = Node::open(&web.data).unwrap();
    let leaf = node.store.leaf(before).unwrap().unwrap();
    let data = String::from_utf8(leaf.data).unwrap();
    assert!(data.contains("АК 123") && data.contains("٧٨٩-١٢"), "{data}");
    assert!(data.contains("clerk@national-registry"), "{data}");
    drop(node);

    let p = b.get("/items/KE-2026-000900").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("АК 123") && p.body.contains("٧٨٩-١٢"));
    assert!(p.body.contains("78912") && p.body.contains("AK123"));
    assert!(p.body.contains("Verified in the ledger"), "{}", p.body);
    assert!(p.body.contains("href=\"/items/KE-2026-000900/events/new\""));
    assert!(p.body.contains("href=\"/traces/new?item=KE-2026-000900\""));

    // Searchable at once, by either marking, typed in Latin or in ASCII digits.
    for q in ["AK123", "78912"] {
        let p = b.get(&format!("/search?q={q}")).await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains(NEW_KEY), "{q}: {}", p.body);
    }
    // Saving the same again adds nothing.
    let p = b
        .post("/record/item", &item_fields(&csrf, "save", &fields))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(ledger_size(&web), before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_item_input_is_refused_naming_the_field_and_nothing_is_recorded() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let csrf = b.csrf().await;
    let before = ledger_size(&web);

    // No key.
    let p = b
        .post(
            "/record/item",
            &item_fields(&csrf, "save", &[("m1_text", "X1"), ("m1_kind", "serial")]),
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("href=\"#key\">Item key: Fill this in."),
        "{}",
        p.body
    );

    // A marking of an unknown kind (second row used), and a year that is not one.
    for action in ["preview", "save"] {
        let p = b
            .post(
                "/record/item",
                &item_fields(
                    &csrf,
                    action,
                    &[
                        ("key", "KE-2026-000901"),
                        ("year", "19x5"),
                        ("m1_text", "A100"),
                        ("m1_kind", "serial"),
                        ("m2_text", "B200"),
                        ("m2_kind", "sticker"),
                    ],
                ),
            )
            .await;
        assert_eq!(p.status, 422, "{action}: {}", p.body);
        assert!(
            p.body.contains("href=\"#m2_kind\">Marking 2, Kind:"),
            "{}",
            p.body
        );
        assert!(
            p.body.contains("href=\"#year\">Year of manufacture:"),
            "{}",
            p.body
        );
        assert!(p.body.contains("id=\"m2_kind-error\""), "next to the field");
        // What was typed stays in the form.
        assert!(p.body.contains("value=\"B200\""));
    }
    assert_eq!(ledger_size(&web), before, "nothing half-applied");

    // A form without the token is refused.
    let p = b
        .post(
            "/record/item",
            &[
                ("csrf", "0123456789abcdef0123456789abcdef"),
                ("key", "KE-2026-000902"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);

    // An investigator may not record (the API's policy decision): refused, nothing written.
    let mut alice = web.signed_in("alice").await;
    let csrf = alice.csrf().await;
    let p = alice
        .post(
            "/record/item",
            &item_fields(
                &csrf,
                "save",
                &[("key", "KE-2026-000903"), ("m1_text", "Z9")],
            ),
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert_eq!(ledger_size(&web), before);
    // Signed out: to the sign-in page.
    let p = web.browser().get("/record/item").await;
    assert_eq!(p.status, 303);
}

fn seizure<'a>(csrf: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("action", action),
        ("type", "seized"),
        ("date", "2025-11-30"),
        ("place_country", "KE"),
        ("place_admin1", "Mombasa"),
        ("place_locality", "Kilindini port"),
        ("from_name", ""),
        ("to_name", "Kenya Police Service"),
        ("to_country", "KE"),
        ("to_kind", "police"),
        ("doc_kind", "seizure_report"),
        ("doc_number", "SR-2025-77"),
        ("note", "Found in a container"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_a_seizure_preview_then_save_and_the_timeline_shows_it() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let p = b.get(&format!("/items/{OPEN_ITEM}/events/new")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<option value=\"seized\""), "{}", p.body);
    assert!(p.body.contains("<label for=\"date\">"));
    assert!(
        p.body.contains("value=\"2026-01-01\""),
        "today by the server's clock"
    );
    let csrf = b.csrf().await;
    let before = ledger_size(&web);
    let path = format!("/items/{OPEN_ITEM}/events/new");

    let p = b.post(&path, &seizure(&csrf, "preview")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("preview-ok"), "{}", p.body);
    assert_eq!(ledger_size(&web), before);

    let p = b.post(&path, &seizure(&csrf, "save")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/items/{OPEN_ITEM}#custody").as_str())
    );
    assert_eq!(ledger_size(&web), before + 1);

    // The chain of custody names possessors: an investigator reads it (a clerk may not).
    let mut alice = web.signed_in("alice").await;
    let p = alice
        .get(&format!("/items/{OPEN_ITEM}?purpose=case+KE-77"))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let timeline = &p.body[p.body.find("class=\"timeline\"").unwrap()..];
    assert!(timeline.contains("<strong>Seized</strong>"), "{timeline}");
    assert!(
        timeline.contains("Kilindini port, Mombasa, KE"),
        "{timeline}"
    );
    assert!(timeline.contains("Kenya Police Service (KE)"), "{timeline}");
    assert!(
        p.body.contains("<strong>seized</strong>"),
        "status now seized"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_life_cycle_step_is_shown_before_submission() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let csrf = b.csrf().await;
    let path = format!("/items/{NEAR_ITEM}/events/new");
    let destroyed = [
        ("csrf", csrf.as_str()),
        ("action", "save"),
        ("type", "destroyed"),
        ("date", "2025-03-01"),
        ("place_country", "KE"),
    ];
    let p = b.post(&path, &destroyed).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let before = ledger_size(&web);

    // After its destruction, nothing but a correction: the preview says so, in the form.
    let transfer = [
        ("csrf", csrf.as_str()),
        ("action", "preview"),
        ("type", "transferred"),
        ("date", "2025-06-01"),
        ("from_name", "Someone Else"),
        ("to_name", "A Dealer"),
        ("to_country", "KE"),
        ("to_kind", "dealer"),
    ];
    let p = b.post(&path, &transfer).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("href=\"#date\">Date:"), "{}", p.body);
    assert!(p.body.contains("destroyed"), "{}", p.body);
    assert!(!p.body.contains("preview-ok"));
    assert_eq!(ledger_size(&web), before);
    // Saving it is refused the same way.
    let mut save = transfer.to_vec();
    save[1] = ("action", "save");
    let p = b.post(&path, &save).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert_eq!(ledger_size(&web), before);

    // A transfer from someone who does not hold the item is a warning, not a refusal.
    let path = format!("/items/{OPEN_ITEM}/events/new");
    let p = b
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("action", "preview"),
                ("type", "transferred"),
                ("date", "2012-01-01"),
                ("from_name", "Somebody Unknown"),
                ("to_name", "A Dealer"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body
            .contains("Somebody Unknown is not the item&#39;s current holder")
            || p.body
                .contains("Somebody Unknown is not the item's current holder"),
        "{}",
        p.body
    );
}

/// A tiny but well-formed PNG (1×1, grey).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B,
    0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0xDD, 0x43, 0x6A, 0xF4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photographs_are_stored_once_by_hash_recorded_in_the_ledger_and_served() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let page = format!("/items/{CYRILLIC_ITEM}/photos");
    let p = b.get(&page).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("enctype=\"multipart/form-data\""));
    assert!(p.body.contains("<label for=\"photo\">"));
    let csrf = b.csrf().await;
    let before = ledger_size(&web);
    let hex: String = Sha256::digest(PNG)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();

    let p = post_multipart(
        &mut b,
        &page,
        &[("csrf", &csrf)],
        ("photo", "marking.png", PNG),
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/items/{CYRILLIC_ITEM}#photos").as_str())
    );
    assert_eq!(ledger_size(&web), before + 1);
    // The ledger carries the hash, in a `photographed` event of the item.
    let node = Node::open(&web.data).unwrap();
    let leaf = String::from_utf8(node.store.leaf(before).unwrap().unwrap().data).unwrap();
    assert!(
        leaf.contains("\"photographed\"") && leaf.contains(&hex),
        "{leaf}"
    );
    assert!(leaf.contains(CYRILLIC_ITEM));
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&Sha256::digest(PNG));
    let (media_type, bytes) = node.store.photo(&hash).unwrap().unwrap();
    assert_eq!(media_type, "image/png");
    assert_eq!(bytes, PNG);
    drop(node);

    // The same photograph again: stored once, recorded once.
    let p = post_multipart(
        &mut b,
        &page,
        &[("csrf", &csrf)],
        ("photo", "again.png", PNG),
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(ledger_size(&web), before + 1);
    let db = rusqlite::Connection::open(web.data.join("tracemark.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    drop(db);

    // Served back, with its type, to whoever may read the item; shown on the item page.
    let url = format!("/photos/{hex}?item={CYRILLIC_ITEM}");
    let r = b
        .http
        .get(format!("{}{url}", b.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);
    let p = b.get(&format!("/items/{CYRILLIC_ITEM}")).await;
    assert!(
        p.body
            .contains(&format!("src=\"/photos/{hex}?item={CYRILLIC_ITEM}\"")),
        "{}",
        p.body
    );
    // Not through another item whose ledger does not name it, nor without one.
    assert_eq!(
        b.get(&format!("/photos/{hex}?item={OPEN_ITEM}"))
            .await
            .status,
        404
    );
    assert_eq!(b.get(&format!("/photos/{hex}")).await.status, 404);
    // Not to someone signed out.
    assert_eq!(web.browser().get(&url).await.status, 303);

    // A file that is not a JPEG, PNG or WebP, whatever its name says: refused, nothing kept.
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    let p = post_multipart(
        &mut b,
        &page,
        &[("csrf", &csrf)],
        ("photo", "fake.png", gif),
    )
    .await;
    assert_eq!(p.status, 415, "{}", p.body);
    assert!(p.body.contains("href=\"#photo\">Photograph:"), "{}", p.body);
    assert_eq!(ledger_size(&web), before + 1);
    let db = rusqlite::Connection::open(web.data.join("tracemark.db")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM photos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_file_with_a_bad_line_is_reported_by_line_and_field() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let p = b.get("/record/import").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<label for=\"file\">"));
    let csrf = b.csrf().await;
    let before = ledger_size(&web);
    let file = "{\"record\":\"item\",\"key\":\"KE-2026-000950\",\"kind\":\"firearm\",\"markings\":[{\"kind\":\"serial\",\"text\":\"QX-950\"}]}\n\
{\"record\":\"event\",\"item\":\"KE-2026-000950\",\"type\":\"seized\",\"date\":\"2025-13-01\"}\n";
    let p = post_multipart(
        &mut b,
        "/record/import",
        &[("csrf", &csrf)],
        ("file", "batch.jsonl", file.as_bytes()),
    )
    .await;
    assert_eq!(p.status, 422, "{}", p.body);
    let report = &p.body[p.body.find("class=\"import-report\"").unwrap()..];
    assert!(
        report.contains("<td>Line 2</td><td><code>date</code></td>"),
        "{report}"
    );
    assert!(report.contains("class=\"rejected\">1<"), "{report}");
    assert!(report.contains("Nothing was recorded."), "{report}");
    assert_eq!(ledger_size(&web), before, "all or nothing, as the API");

    // The good line alone goes in; the counts are in the page's language (Arabic digits).
    let good = file.lines().next().unwrap();
    let p = post_multipart(
        &mut b,
        "/record/import?lang=ar",
        &[("csrf", &csrf)],
        ("file", "one.jsonl", good.as_bytes()),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("class=\"accepted\">١<"), "{}", p.body);
    assert_eq!(ledger_size(&web), before + 1);

    // A register (CSV), as POST /api/v1/registers takes it.
    let csv = "serial,make,model\nRG-1001,Glock,17\n";
    let p = post_multipart(
        &mut b,
        "/record/import?lang=en",
        &[("csrf", &csrf), ("check", "true")],
        ("file", "register.csv", csv.as_bytes()),
    )
    .await;
    assert!(p.status == 200 || p.status == 422, "{}", p.body);
    assert!(
        p.body
            .contains("The file was checked; nothing was recorded."),
        "{}",
        p.body
    );
    assert_eq!(ledger_size(&web), before + 1);
    // A file of another kind.
    let p = post_multipart(
        &mut b,
        "/record/import",
        &[("csrf", &csrf)],
        ("file", "notes.pdf", b"%PDF-1.4"),
    )
    .await;
    assert_eq!(p.status, 415, "{}", p.body);
    assert!(p.body.contains("href=\"#file\">File:"), "{}", p.body);
}

/// The text between `open` and the next `close` after `from`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<(&'a str, usize)> {
    let a = s.find(open)? + open.len();
    let b = s[a..].find(close)? + a;
    Some((&s[a..b], b))
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#43;", "+")
        .replace("&#x2b;", "+")
        .replace("&#61;", "=")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_badge_proofs_verify_independently() {
    use tracemark_ledger::merkle::{leaf_hash, root_from_inclusion_proof, Hash};
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let p = b.get(&format!("/items/{OPEN_ITEM}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Verified in the ledger"), "{}", p.body);
    let ledger = &p.body[p.body.find("class=\"ledger\"").unwrap()..];
    assert!(ledger.contains("<details>"));
    let size: u64 = between(ledger, "<span class=\"tree-size\">", "<")
        .unwrap()
        .0
        .parse()
        .unwrap();
    let root_b64 = unescape(
        between(ledger, "<code class=\"root\" dir=\"ltr\">", "<")
            .unwrap()
            .0,
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let decode = |s: &str| -> Hash { b64.decode(s).unwrap().try_into().unwrap() };
    let root = decode(&root_b64);
    // The root is the signed checkpoint's, as the API serves it.
    let cp = b
        .http
        .get(format!("{}/api/v1/ledger/checkpoint", web.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = cp.lines().collect();
    assert_eq!(lines[1], size.to_string());
    assert_eq!(lines[2], root_b64);
    assert!(ledger.contains(lines[0]), "the checkpoint is shown");

    // Every leaf: its hash recomputed from the stored record, the root from the proof.
    let node = Node::open(&web.data).unwrap();
    let mut rest = ledger;
    let mut indexes = Vec::new();
    while let Some((idx, at)) = between(rest, "<tr class=\"leaf\" data-index=\"", "\"") {
        let index: u64 = idx.parse().unwrap();
        let row_end = rest[at..].find("</tr>").unwrap() + at;
        let row = &rest[at..row_end];
        let shown = decode(&unescape(
            between(row, "<code class=\"leaf-hash\" dir=\"ltr\">", "<")
                .unwrap()
                .0,
        ));
        let data = node.store.leaf(index).unwrap().unwrap().data;
        assert_eq!(shown, leaf_hash(&data), "leaf {index}");
        let mut proof: Vec<Hash> = Vec::new();
        let mut r = row;
        while let Some((h, end)) = between(r, "<li><code>", "</code>") {
            proof.push(decode(&unescape(h)));
            r = &r[end..];
        }
        assert_eq!(
            root_from_inclusion_proof(&shown, index, size, &proof).unwrap(),
            root,
            "leaf {index}"
        );
        indexes.push(index);
        rest = &rest[row_end..];
    }
    // The item's declaration (leaf 0) and its two events (leaves 4 and 5).
    assert_eq!(indexes, vec![0, 4, 5]);
    // A proof that does not lead to the root is caught by the same check.
    let wrong = leaf_hash(b"not a record");
    assert_ne!(
        root_from_inclusion_proof(&wrong, 0, size, &[]).ok(),
        Some(root)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_page_is_translated_in_the_four_languages() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let pages = [
        "/record".to_owned(),
        "/record/item".to_owned(),
        "/record/import".to_owned(),
        format!("/items/{OPEN_ITEM}/events/new"),
        format!("/items/{OPEN_ITEM}/photos"),
        format!("/items/{OPEN_ITEM}"),
    ];
    for (lang, dir, word) in [
        ("en", "ltr", "Save"),
        ("fr", "ltr", "Enregistrer"),
        ("es", "ltr", "Guardar"),
        ("ar", "rtl", "حفظ"),
    ] {
        for page in &pages {
            let sep = if page.contains('?') { '&' } else { '?' };
            let p = b.get(&format!("{page}{sep}lang={lang}")).await;
            assert_eq!(p.status, 200, "{page} {lang}: {}", p.body);
            assert!(p.body.contains(&format!("lang=\"{lang}\" dir=\"{dir}\"")));
            // A missing message shows as its id in brackets.
            for prefix in ["[record-", "[item-", "[event-", "[mark-", "[legibility-"] {
                assert!(!p.body.contains(prefix), "{page} {lang}: {}", p.body);
            }
        }
        let p = b.get(&format!("/record/item?lang={lang}")).await;
        assert!(p.body.contains(word), "{lang}: {}", p.body);
    }
    // The item page links to the recording pages.
    let p = b.get(&format!("/items/{OPEN_ITEM}?lang=en")).await;
    assert!(p
        .body
        .contains(&format!("href=\"/items/{OPEN_ITEM}/photos\"")));
    let p = b.get("/record").await;
    assert!(p.body.contains("href=\"/record/item\"") && p.body.contains("href=\"/record/import\""));
}

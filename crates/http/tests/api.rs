//! End-to-end tests of the API: the real server, in-process on a free loopback port, over a
//! fresh store, spoken to over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use base64::Engine;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracemark_http::schema;
use tracemark_http::{AppState, Server};
use tracemark_registry::{FixedClock, Node};

/// CONTRACT.md §2, verbatim.
const CONTRACT_EXAMPLE: &str = r#"{"record":"item","key":"KE-2019-000123","kind":"firearm","type":"assault_rifle","make":"Norinco","model":"Type 56","calibre":"7.62x39mm","country_of_manufacture":"CN","year_of_manufacture":1978,"markings":[{"kind":"serial","text":"5612345","component":"receiver"},{"kind":"factory_code","text":"66","component":"receiver"}]}
{"record":"event","id":"imp-85-112-0001","item":"KE-2019-000123","type":"imported","date":"1985-06","from":{"name":"China North Industries","country":"CN","kind":"exporter"},"to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"},"documents":[{"kind":"import_licence","number":"IL-85/112","issued_by":"KE"}]}
{"record":"event","item":"KE-2019-000123","type":"reported_stolen","date":"2011-02-03","place":{"country":"KE","admin1":"Nairobi"}}
"#;

const KEY: &str = "KE-2019-000123";
const NDJSON: &str = "application/x-ndjson";

struct TestServer {
    base: String,
    client: reqwest::Client,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

fn clock() -> FixedClock {
    FixedClock("2026-01-01T00:00:00Z".into())
}

impl TestServer {
    async fn start() -> TestServer {
        Self::start_with_limit(tracemark_http::DEFAULT_MAX_BODY_BYTES).await
    }

    async fn start_with_limit(max_body_bytes: usize) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(Node::init(&data, "KE", None, &clock()).unwrap());
        let state_dir = data.clone();
        let state = tokio::task::spawn_blocking(move || {
            AppState::open(&state_dir, Arc::new(clock()), max_body_bytes)
        })
        .await
        .unwrap()
        .unwrap();
        let server = Server::bind_with_state("127.0.0.1:0".parse().unwrap(), state)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        let s = TestServer {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            shutdown,
            handle,
            data,
            _dir: dir,
        };
        s.wait_ready().await;
        s
    }

    /// Polls the health route until it answers (bounded).
    async fn wait_ready(&self) {
        for _ in 0..500 {
            if let Ok(r) = self.client.get(self.url("/api/v1/health")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the server did not become ready");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, headers, body) = self.get(path).await;
        assert_eq!(
            headers["content-type"], "application/json",
            "{path}: {body}"
        );
        (status, serde_json::from_str(&body).unwrap())
    }

    async fn post_records(&self, query: &str, body: &str) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(&format!("/api/v1/records{query}")))
            .header("content-type", NDJSON)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str(&r.text().await.unwrap()).unwrap(),
        )
    }

    async fn ledger_size(&self) -> u64 {
        let (status, v) = self.get_json("/api/v1/health").await;
        assert_eq!(status, 200);
        v["ledger_size"].as_u64().unwrap()
    }

    async fn import_example(&self) {
        let (status, report) = self.post_records("", CONTRACT_EXAMPLE).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["accepted"], 3, "{report}");
    }

    /// Graceful shutdown; returns the data folder (still on disk until the server is dropped).
    async fn stop(self) -> (PathBuf, tempfile::TempDir) {
        self.shutdown.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
        (self.data, self._dir)
    }
}

/// An error answer: JSON `{"error":{code,message,request_id}}`, the id matching the header.
fn assert_error(status: u16, headers: &reqwest::header::HeaderMap, body: &str, code: &str) {
    assert_eq!(headers["content-type"], "application/json", "{body}");
    let v: Value = serde_json::from_str(body).unwrap();
    let e: schema::ErrorBody = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(e.error.code).unwrap(),
        code,
        "status {status}: {body}"
    );
    assert!(!e.error.message.is_empty());
    assert_eq!(
        headers["x-request-id"].to_str().unwrap(),
        e.error.request_id,
        "{body}"
    );
}

fn b64d(v: &Value) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_then_read_item_and_custody() {
    let s = TestServer::start().await;
    assert_eq!(s.ledger_size().await, 0);
    let (status, report) = s.post_records("", CONTRACT_EXAMPLE).await;
    assert_eq!(status, 200, "{report}");
    let r: schema::ImportReport = serde_json::from_value(report.clone()).unwrap();
    assert_eq!((r.accepted, r.rejected, r.duplicates), (3, 0, 0));
    assert!(r.committed && r.errors.is_empty() && r.error.is_none());
    assert_eq!(r.ledger_size, 3);
    assert_eq!(s.ledger_size().await, 3);

    let (status, item) = s.get_json(&format!("/api/v1/items/{KEY}")).await;
    assert_eq!(status, 200, "{item}");
    let doc: schema::Item = serde_json::from_value(item.clone()).unwrap();
    assert_eq!(doc.key, KEY);
    assert_eq!(doc.status, "stolen");
    assert_eq!(doc.make.as_deref(), Some("Norinco"));
    assert_eq!(doc.markings.len(), 2);
    assert_eq!(doc.markings[0].text, "5612345");
    assert_eq!(doc.recorded_by.as_deref(), Some("api:anonymous"));
    assert_eq!(doc.recorded_at.as_deref(), Some("2026-01-01T00:00:00Z"));

    let (status, custody) = s.get_json(&format!("/api/v1/items/{KEY}/custody")).await;
    assert_eq!(status, 200, "{custody}");
    let c: schema::Custody = serde_json::from_value(custody.clone()).unwrap();
    assert_eq!(c.item, KEY);
    assert_eq!(c.status, "stolen");
    let types: Vec<_> = c.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["imported", "reported_stolen"]);
    assert_eq!(c.events[0].date, "1985-06");
    assert_eq!(
        c.last_legal_holder.and_then(|a| a.name).as_deref(),
        Some("Ministry of Defence")
    );
    assert!(c.diversion.is_some_and(|d| d.reported));

    // The same body again adds nothing.
    let (status, again) = s.post_records("", CONTRACT_EXAMPLE).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(s.ledger_size().await, 3);

    // text/plain is accepted; anything else is 415.
    let r = s
        .client
        .post(s.url("/api/v1/records"))
        .header("content-type", "text/plain; charset=utf-8")
        .body(CONTRACT_EXAMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/api/v1/records"))
        .header("content-type", "application/json")
        .body(CONTRACT_EXAMPLE)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    assert_eq!(status, 415);
    assert_error(
        status,
        &headers,
        &r.text().await.unwrap(),
        "unsupported_media_type",
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_exact_wildcard_paging_and_bad_queries() {
    let s = TestServer::start().await;
    s.import_example().await;

    let (status, v) = s.get_json("/api/v1/search?q=5612345").await;
    assert_eq!(status, 200, "{v}");
    let r: schema::SearchResult = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        (r.query.as_str(), r.total, r.offset, r.limit),
        ("5612345", 1, 0, 50)
    );
    assert_eq!(r.hits[0].item, KEY);
    assert_eq!(r.hits[0].match_class, "exact");
    assert_eq!(r.hits[0].status, "stolen");
    assert!(r.hits[0].same_shipment.is_some());

    // Separators and case do not matter; `?` is one unknown character.
    let (_, v) = s.get_json("/api/v1/search?q=56-12%20345&mode=exact").await;
    assert_eq!(v["total"], 1, "{v}");
    let (status, v) = s.get_json("/api/v1/search?q=56%3F2345").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["hits"][0]["match"], "wildcard", "{v}");
    let (_, v) = s.get_json("/api/v1/search?q=5612346&max_edits=1").await;
    assert_eq!(v["hits"][0]["match"], "fuzzy", "{v}");
    let (_, v) = s.get_json("/api/v1/search?q=5612345&status=seized").await;
    assert_eq!(v["total"], 0, "{v}");
    let (_, v) = s.get_json("/api/v1/search?q=66&kind=any").await;
    assert_eq!(v["total"], 1, "{v}");

    // Paging: the total stays, the page moves.
    let (_, v) = s.get_json("/api/v1/search?q=*&kind=any&limit=1").await;
    assert_eq!(
        (v["total"].as_u64(), v["hits"].as_array().map(Vec::len)),
        (Some(2), Some(1)),
        "{v}"
    );
    let first = v["hits"][0]["marking"].clone();
    let (_, v) = s
        .get_json("/api/v1/search?q=*&kind=any&limit=1&offset=1")
        .await;
    assert_eq!(
        (v["total"].as_u64(), v["offset"].as_u64()),
        (Some(2), Some(1)),
        "{v}"
    );
    assert_ne!(v["hits"][0]["marking"], first, "{v}");
    let (_, v) = s.get_json("/api/v1/search?q=*&kind=any&offset=5").await;
    assert_eq!(v["hits"].as_array().map(Vec::len), Some(0), "{v}");

    // Refused queries: the index's message, as 400.
    for (path, needle) in [
        ("/api/v1/search?q=---", "no letter or digit"),
        ("/api/v1/search?q=%20", "empty"),
        ("/api/v1/search?q=1&max_edits=3", "max_edits"),
        ("/api/v1/search?q=1&mode=regex", "mode"),
        ("/api/v1/search?q=1&kind=all", "kind"),
        ("/api/v1/search?q=1&limit=5000", "limit"),
        ("/api/v1/search?q=1&offset=999999", "offset"),
        ("/api/v1/search?q=1&max_edits=abc", "max_edits"),
        ("/api/v1/search?q=1&limit=-1", "limit"),
        ("/api/v1/search", "q"),
    ] {
        let (status, headers, body) = s.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_error(status, &headers, &body, "bad_request");
        assert!(body.contains(needle), "{path}: {body}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_key_checkpoint_leaf_and_proofs_verify() {
    let s = TestServer::start().await;
    s.import_example().await;

    let (status, headers, key) = s.get("/api/v1/ledger/key").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(key.starts_with("tracemark/KE/registry-ke+"), "{key}");

    let (status, headers, note) = s.get("/api/v1/ledger/checkpoint").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[0], "tracemark/KE/registry-ke", "{note}");
    assert_eq!(lines[1], "3", "{note}");
    assert_eq!(lines[3], "", "{note}");
    assert!(
        lines[4].starts_with("— tracemark/KE/registry-ke "),
        "{note}"
    );
    let checkpoint_root = lines[2].to_owned();

    let (status, leaf) = s.get_json("/api/v1/ledger/leaves/1").await;
    assert_eq!(status, 200, "{leaf}");
    let l: schema::Leaf = serde_json::from_value(leaf.clone()).unwrap();
    assert_eq!(l.leaf_idx, 1);
    let data = base64::engine::general_purpose::STANDARD
        .decode(&l.data)
        .unwrap();
    assert_eq!(
        tracemark_ledger::merkle::leaf_hash(&data),
        b64d(&leaf["leafHash"])
    );
    assert!(String::from_utf8(data).unwrap().contains("imp-85-112-0001"));

    for (index, size) in [(0u64, 3u64), (1, 3), (2, 3), (0, 1), (1, 2)] {
        let path = format!("/api/v1/ledger/proof?index={index}&size={size}");
        let (status, p) = s.get_json(&path).await;
        assert_eq!(status, 200, "{p}");
        let proof: Vec<[u8; 32]> = p["proof"].as_array().unwrap().iter().map(b64d).collect();
        assert_eq!(
            (p["leafIdx"].as_u64(), p["treeSize"].as_u64()),
            (Some(index), Some(size))
        );
        tracemark_ledger::merkle::verify_inclusion(
            &b64d(&p["leafHash"]),
            index,
            size,
            &proof,
            &b64d(&p["root"]),
        )
        .unwrap();
        if size == 3 {
            assert_eq!(p["root"], checkpoint_root.as_str());
        }
    }
    // Default size: the latest.
    let (_, p) = s.get_json("/api/v1/ledger/proof?index=2").await;
    assert_eq!(p["treeSize"], 3, "{p}");

    for (from, to) in [(1u64, 3u64), (2, 3), (1, 2), (3, 3)] {
        let (status, c) = s
            .get_json(&format!("/api/v1/ledger/consistency?from={from}&to={to}"))
            .await;
        assert_eq!(status, 200, "{c}");
        let proof: Vec<[u8; 32]> = c["proof"].as_array().unwrap().iter().map(b64d).collect();
        tracemark_ledger::merkle::verify_consistency(
            from,
            to,
            &b64d(&c["root1"]),
            &b64d(&c["root2"]),
            &proof,
        )
        .unwrap();
        assert_eq!(
            (c["size1"].as_u64(), c["size2"].as_u64()),
            (Some(from), Some(to))
        );
    }

    for (path, status_wanted, code) in [
        ("/api/v1/ledger/consistency?from=0&to=3", 400, "bad_request"),
        ("/api/v1/ledger/consistency?from=3&to=1", 400, "bad_request"),
        (
            "/api/v1/ledger/consistency?from=1&to=99",
            400,
            "bad_request",
        ),
        ("/api/v1/ledger/consistency?from=x&to=3", 400, "bad_request"),
        ("/api/v1/ledger/consistency?from=1", 400, "bad_request"),
        ("/api/v1/ledger/proof?index=0&size=99", 400, "bad_request"),
        ("/api/v1/ledger/proof?index=3", 404, "not_found"),
        ("/api/v1/ledger/proof", 400, "bad_request"),
        ("/api/v1/ledger/leaves/3", 404, "not_found"),
        ("/api/v1/ledger/leaves/-1", 400, "bad_request"),
        ("/api/v1/ledger/leaves/abc", 400, "bad_request"),
    ] {
        let (status, headers, body) = s.get(path).await;
        assert_eq!(status, status_wanted, "{path}: {body}");
        assert_error(status, &headers, &body, code);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_line_is_422_and_commits_nothing() {
    let s = TestServer::start().await;
    s.import_example().await;
    let before = s.ledger_size().await;
    let body = concat!(
        r#"{"record":"item","key":"KE-2020-000001","kind":"firearm","make":"Glock","model":"17","markings":[{"kind":"serial","text":"ABC123"}]}"#,
        "\n",
        r#"{"record":"item","key":"KE-2020-000002","kind":"firearm","#,
        "\n",
        r#"{"record":"event","item":"KE-2020-000001","type":"reported_stolen","date":"not-a-date"}"#,
        "\n",
    );
    let (status, v) = s.post_records("", body).await;
    assert_eq!(status, 422, "{v}");
    let r: schema::ImportReport = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        r.error.as_ref().map(|e| e.code),
        Some(schema::ErrorCode::Unprocessable)
    );
    assert!(!r.committed, "{v}");
    assert_eq!(r.rejected, 2, "{v}");
    let lines: Vec<usize> = r.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3], "{v}");
    assert!(r.errors.iter().all(|e| e.file == "body"), "{v}");
    assert_eq!(r.errors[1].field, "date", "{v}");
    assert_eq!(s.ledger_size().await, before);
    let (status, _, _) = s.get("/api/v1/items/KE-2020-000001").await;
    assert_eq!(status, 404);

    // With accept_valid the good line is committed; the answer is still 422 with the report.
    let (status, v) = s.post_records("?accept_valid=true", body).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        (v["committed"].as_bool(), v["accepted"].as_u64()),
        (Some(true), Some(1)),
        "{v}"
    );
    assert_eq!(s.ledger_size().await, before + 1);
    let (status, _, _) = s.get("/api/v1/items/KE-2020-000001").await;
    assert_eq!(status, 200);
    // ... and the search index was refreshed.
    let (_, v) = s.get_json("/api/v1/search?q=ABC123").await;
    assert_eq!(v["total"], 1, "{v}");

    // A malformed query string on the import route is a 400 JSON error.
    let r = s
        .client
        .post(s.url("/api/v1/records?accept_valid=maybe"))
        .header("content-type", NDJSON)
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    assert_eq!(status, 400);
    assert_error(status, &headers, &r.text().await.unwrap(), "bad_request");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_413_json() {
    const LIMIT: usize = 16 * 1024;
    let s = TestServer::start_with_limit(LIMIT).await;
    let line = CONTRACT_EXAMPLE.lines().next().unwrap();
    let mut big = String::new();
    while big.len() <= 4 * LIMIT {
        big.push_str(line);
        big.push('\n');
    }
    // Declared length over the limit.
    let r = s
        .client
        .post(s.url("/api/v1/records"))
        .header("content-type", NDJSON)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    assert_eq!(status, 413);
    assert_error(
        status,
        &headers,
        &r.text().await.unwrap(),
        "payload_too_large",
    );

    // Chunked (no declared length): the limit applies while streaming.
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut req = format!(
        "POST /api/v1/records HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {NDJSON}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in big.as_bytes().chunks(4096) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    tcp.write_all(&req).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"payload_too_large\""), "{answer}");

    assert_eq!(s.ledger_size().await, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_wrong_method_and_request_ids() {
    let s = TestServer::start().await;

    let (status, headers, body) = s.get("/api/v1/nope").await;
    assert_eq!(status, 404);
    assert_error(status, &headers, &body, "not_found");
    let (status, headers, body) = s.get("/").await;
    assert_eq!(status, 404);
    assert_error(status, &headers, &body, "not_found");

    let r = s.client.post(s.url("/api/v1/health")).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    assert_eq!(status, 405);
    assert!(headers.contains_key("allow"));
    assert_error(
        status,
        &headers,
        &r.text().await.unwrap(),
        "method_not_allowed",
    );
    let r = s
        .client
        .delete(s.url("/api/v1/records"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);

    // A sane client id is echoed, on successes and errors alike.
    for path in ["/api/v1/health", "/api/v1/nope"] {
        let r = s
            .client
            .get(s.url(path))
            .header("x-request-id", "trace-0042.a:b_c")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-request-id"], "trace-0042.a:b_c");
    }
    let (_, _, body) = {
        let r = s
            .client
            .get(s.url("/api/v1/nope"))
            .header("x-request-id", "trace-0042")
            .send()
            .await
            .unwrap();
        (r.status(), r.headers().clone(), r.text().await.unwrap())
    };
    assert!(body.contains("\"request_id\":\"trace-0042\""), "{body}");

    // Otherwise a UUID v4 is generated.
    let too_long = "x".repeat(200);
    for id in [
        None,
        Some("has space"),
        Some("semi;colon"),
        Some(too_long.as_str()),
    ] {
        let mut req = s.client.get(s.url("/api/v1/health"));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        let r = req.send().await.unwrap();
        let got = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(Some(got.as_str()), id);
        assert_uuid_v4(&got);
    }
    let (_, h1, _) = s.get("/api/v1/health").await;
    let (_, h2, _) = s.get("/api/v1/health").await;
    assert_ne!(h1["x-request-id"], h2["x-request-id"]);
    s.stop().await;
}

fn assert_uuid_v4(s: &str) {
    let parts: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    assert_eq!(lens, [8, 4, 4, 4, 12], "{s}");
    assert!(s.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{s}");
    assert!(parts[2].starts_with('4'), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_item_keys_are_404_and_the_store_still_verifies() {
    let s = TestServer::start().await;
    s.import_example().await;
    for path in [
        "/api/v1/items/'%3B%20DROP%20TABLE%20items%3B--",
        "/api/v1/items/'%3B%20DROP%20TABLE%20items%3B--/custody",
        "/api/v1/items/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/items/..%2F..%2Fetc%2Fpasswd/custody",
        "/api/v1/items/KE-2019-000123'%20OR%20'1'%3D'1",
        "/api/v1/items/%00",
    ] {
        let (status, headers, body) = s.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_error(status, &headers, &body, "not_found");
    }
    // Path traversal that leaves the route is an unknown route, still JSON.
    let (status, headers, body) = s.get("/api/v1/items/../../../etc/passwd").await;
    assert_eq!(status, 404, "{body}");
    assert_error(status, &headers, &body, "not_found");
    let (_, v) = s
        .get_json("/api/v1/search?q='%3B%20DROP%20TABLE%20items%3B--&kind=any")
        .await;
    assert_eq!(v["total"], 0, "{v}");

    let (status, _, _) = s.get(&format!("/api/v1/items/{KEY}")).await;
    assert_eq!(status, 200);
    let (data, _dir) = s.stop().await;
    let node = Node::open(&data).unwrap();
    let report = tracemark_registry::verify::verify(&node, None).unwrap();
    assert!(report.ok, "{:?}", report.error);
    assert_eq!((report.leaves, report.items, report.events), (3, 1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_every_route() {
    let s = TestServer::start().await;
    let (status, doc) = s.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/health", "get"),
        ("/api/v1/items/{key}", "get"),
        ("/api/v1/items/{key}/custody", "get"),
        ("/api/v1/search", "get"),
        ("/api/v1/records", "post"),
        ("/api/v1/ledger/key", "get"),
        ("/api/v1/ledger/checkpoint", "get"),
        ("/api/v1/ledger/leaves/{index}", "get"),
        ("/api/v1/ledger/proof", "get"),
        ("/api/v1/ledger/consistency", "get"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    assert_eq!(paths.len(), 11, "{:?}", paths.keys().collect::<Vec<_>>());
    let params: Vec<&str> = doc["paths"]["/api/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for p in [
        "q",
        "mode",
        "max_edits",
        "make",
        "model",
        "calibre",
        "country",
        "status",
        "kind",
        "limit",
        "offset",
    ] {
        assert!(
            params.contains(&p),
            "search parameter {p} missing: {params:?}"
        );
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "ErrorBody",
        "Item",
        "Custody",
        "SearchResult",
        "ImportReport",
        "Leaf",
        "InclusionProof",
        "ConsistencyProof",
        "Health",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_while_the_server_is_busy_and_shutdown_is_graceful() {
    let s = TestServer::start().await;
    s.import_example().await;
    // Concurrent readers and a writer: every answer is whole and consistent.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = s.client.clone();
        let base = s.base.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                let body = format!(
                    "{{\"record\":\"item\",\"key\":\"KE-2021-{i:06}\",\"kind\":\"firearm\",\"markings\":[{{\"kind\":\"serial\",\"text\":\"ZX{i:05}\"}}]}}\n"
                );
                let r = client
                    .post(format!("{base}/api/v1/records"))
                    .header("content-type", NDJSON)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            } else {
                let r = client
                    .get(format!("{base}/api/v1/items/{KEY}/custody"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.ledger_size().await, 5);
    let base = s.base.clone();
    s.stop().await;
    // Stopped: nothing listens any more.
    assert!(reqwest::Client::new()
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .is_err());
}

//! End-to-end tests of the API: the real server, in-process on a free loopback port, over a
//! fresh store, spoken to over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
use common::TestClock;

use base64::Engine;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracemark_access::accounts;
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
    /// Carries the session cookie of `tracer`, a tracing officer (the national point of
    /// contact: reads items, custody, search and the ledger).
    client: reqwest::Client,
    /// Carries the bearer token of `intake`, a registry-clerk service account (imports).
    clerk: reqwest::Client,
    clerk_token: String,
    clock: TestClock,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

fn clock() -> FixedClock {
    FixedClock("2026-01-01T00:00:00Z".into())
}

/// The password every test account gets.
const PASSWORD: &str = "correct horse battery staple";
/// Agencies: (name, kind, holder name, holder kind, need-to-know). The national registry
/// (open), a police service (open; its holdings are what police units hold), a defence
/// armoury whose holdings (records name it "Ministry of Defence") are need-to-know, and a
/// guard whose holdings (every armed-forces holder) are need-to-know too.
/// (name, kind, holder name, holder kind, need-to-know)
type AgencySpec = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    bool,
);
const AGENCIES: [AgencySpec; 4] = [
    ("national-registry", "other", None, None, false),
    ("police", "police", None, Some("police"), false),
    (
        "mod-armoury",
        "defence",
        Some("Ministry of Defence"),
        None,
        true,
    ),
    ("guard", "defence", None, Some("armed_forces"), true),
];

/// One account per role (the administrator has not enrolled a second factor yet), and a
/// stockpile manager of the need-to-know armoury.
const USERS: [(&str, &str, &str); 11] = [
    ("clerk", "police", "registry_clerk"),
    ("alice", "police", "investigator"),
    ("tracer", "national-registry", "tracing_officer"),
    ("licensor", "police", "licensing_officer"),
    ("keeper", "police", "stockpile_manager"),
    ("analyst", "police", "analyst"),
    ("auditor", "national-registry", "auditor"),
    ("admin", "national-registry", "administrator"),
    ("armourer", "mod-armoury", "stockpile_manager"),
    ("sentry", "guard", "stockpile_manager"),
    ("inspector", "national-registry", "investigator"),
];

/// Creates the test organisation in a fresh node; returns the clerk service token.
fn seed_accounts(data: &std::path::Path) -> String {
    let mut node = Node::open(data).unwrap();
    let store = node.store.as_mut();
    let now = "2026-01-01T00:00:00Z";
    for (name, kind, holder, holder_kind, ntk) in AGENCIES {
        accounts::add_agency(store, name, kind, holder, holder_kind, ntk, now).unwrap();
    }
    for (user, agency, role) in USERS {
        accounts::add_user(store, user, agency, role, PASSWORD, now).unwrap();
        if matches!(role, "tracing_officer" | "auditor") {
            accounts::enrol_totp(store, user).unwrap();
        }
    }
    let (_, token) =
        accounts::create_token(store, "intake", "national-registry", "registry_clerk", now)
            .unwrap();
    token
}

/// The TOTP secret of an account, read from the store (what the authenticator app holds).
fn totp_secret(data: &std::path::Path, user: &str) -> String {
    Node::open(data)
        .unwrap()
        .store
        .user(user)
        .unwrap()
        .unwrap()
        .totp_secret
        .unwrap()
}

fn client_with(header: &str, value: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::HeaderName::from_bytes(header.as_bytes()).unwrap(),
        reqwest::header::HeaderValue::from_str(value).unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

/// The `name=value` of the session cookie in a sign-in answer.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tracemark_session=") && !v.starts_with("tracemark_session=;"))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

impl TestServer {
    async fn start() -> TestServer {
        Self::start_with_limit(tracemark_http::DEFAULT_MAX_BODY_BYTES).await
    }

    async fn start_with_limit(max_body_bytes: usize) -> TestServer {
        // reqwest is built with rustls but without a crypto provider of its own (see
        // Cargo.toml; https.rs speaks HTTPS): every client needs the process default first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(Node::init(&data, "KE", None, &clock()).unwrap());
        let seed_dir = data.clone();
        let clerk_token = tokio::task::spawn_blocking(move || seed_accounts(&seed_dir))
            .await
            .unwrap();
        let state_dir = data.clone();
        let test_clock = TestClock::at(1_767_225_600); // 2026-01-01T00:00:00Z
        let state_clock = test_clock.clone();
        let state = tokio::task::spawn_blocking(move || {
            AppState::open(&state_dir, Arc::new(state_clock), max_body_bytes)
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
        let mut s = TestServer {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            clerk: client_with("authorization", &format!("Bearer {clerk_token}")),
            clerk_token,
            clock: test_clock,
            shutdown,
            handle,
            data,
            _dir: dir,
        };
        s.wait_ready().await;
        let cookie = s.sign_in_with_totp("tracer").await;
        s.client = client_with("cookie", &cookie);
        s
    }

    /// Signs in with the password and the current TOTP code; returns the cookie. Moves the
    /// clock to the next TOTP step first, so that a second sign-in never reuses a code.
    async fn sign_in_with_totp(&self, user: &str) -> String {
        self.clock.advance(30);
        let secret = totp_secret(&self.data, user);
        let code = tracemark_access::totp::code_at(&secret, self.clock.unix() as u64).unwrap();
        let (status, headers, body) = self.sign_in(user, PASSWORD, Some(&code)).await;
        assert_eq!(status, 200, "{body}");
        session_cookie(&headers).expect("a session cookie")
    }

    async fn sign_in(
        &self,
        user: &str,
        password: &str,
        totp: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut body = serde_json::json!({"username": user, "password": password});
        if let Some(code) = totp {
            body["totp"] = code.into();
        }
        let r = reqwest::Client::new()
            .post(self.url("/api/v1/session"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
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
            .clerk
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
    // Records name who recorded them: the clerk service account that imported them.
    assert_eq!(
        doc.recorded_by.as_deref(),
        Some("service:intake@national-registry")
    );
    assert_eq!(doc.recorded_at.as_deref(), Some("2026-01-01T00:00:30Z"));

    let (status, custody) = s
        .get_json(&format!("/api/v1/items/{KEY}/custody?purpose=test"))
        .await;
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
        .clerk
        .post(s.url("/api/v1/records"))
        .header("content-type", "text/plain; charset=utf-8")
        .body(CONTRACT_EXAMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .clerk
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
        .clerk
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
        "POST /api/v1/records HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: {NDJSON}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.clerk_token
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
    // `/` is the web application's (a redirect to sign-in); any other unknown path is a 404.
    let (status, headers, body) = s.get("/no-such-page").await;
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
        "/api/v1/items/'%3B%20DROP%20TABLE%20items%3B--/custody?purpose=test",
        "/api/v1/items/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/items/..%2F..%2Fetc%2Fpasswd/custody?purpose=x'%3B--",
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
        ("/api/v1/session", "post"),
        ("/api/v1/session", "get"),
        ("/api/v1/session", "delete"),
        ("/api/v1/session/totp", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/agencies", "get"),
        ("/api/v1/agencies", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{name}/totp", "post"),
        ("/api/v1/users/{name}/totp", "delete"),
        ("/api/v1/users/{name}/unlock", "post"),
        ("/api/v1/retention", "get"),
        ("/api/v1/retention", "put"),
        ("/api/v1/federation/peers", "get"),
        ("/api/v1/federation/peers", "post"),
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/registers", "post"),
        ("/api/v1/items/{key}/trace-draft", "get"),
        ("/api/v1/traces/check", "post"),
        ("/api/v1/traces/print", "post"),
        ("/api/v1/traces/answer-draft", "post"),
        ("/api/v1/federation/identity", "get"),
        ("/api/v1/federation/inbox", "post"),
        ("/api/v1/traces", "get"),
        ("/api/v1/traces", "post"),
        ("/api/v1/traces/{key}", "get"),
        ("/api/v1/traces/{key}", "put"),
        ("/api/v1/traces/{key}/send", "post"),
        ("/api/v1/traces/{key}/chain", "post"),
        ("/api/v1/traces/{key}/acknowledge", "post"),
        ("/api/v1/traces/{key}/answer", "post"),
        ("/api/v1/traces/{key}/follow-up", "post"),
        ("/api/v1/traces/{key}/close", "post"),
        ("/api/v1/traces/overdue", "get"),
        ("/api/v1/traces/figures", "get"),
        ("/api/v1/federation/outbox", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    assert_eq!(paths.len(), 41, "{:?}", paths.keys().collect::<Vec<_>>());
    let printed = &paths["/api/v1/traces/print"]["post"]["responses"]["200"]["content"];
    assert!(
        printed.get("text/html").is_some() && printed.get("application/pdf").is_some(),
        "{printed}"
    );
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["session"]["in"], "cookie", "{schemes:?}");
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes:?}");
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
        let clerk = s.clerk.clone();
        let base = s.base.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                let body = format!(
                    "{{\"record\":\"item\",\"key\":\"KE-2021-{i:06}\",\"kind\":\"firearm\",\"markings\":[{{\"kind\":\"serial\",\"text\":\"ZX{i:05}\"}}]}}\n"
                );
                let r = clerk
                    .post(format!("{base}/api/v1/records"))
                    .header("content-type", NDJSON)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            } else {
                let r = client
                    .get(format!("{base}/api/v1/items/{KEY}/custody?purpose=test"))
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

// ---------------------------------------------------------------------------------------
// Accounts, sessions, policies and audit (issue #4).
// ---------------------------------------------------------------------------------------

/// An item with no holder, and one held by the need-to-know defence armoury.
const OPEN_ITEM: &str = "KE-2020-000001";
const ARMOURY_ITEM: &str = "KE-2020-000002";
const AUTH_RECORDS: &str = r#"{"record":"item","key":"KE-2020-000001","kind":"firearm","make":"Glock","model":"17","markings":[{"kind":"serial","text":"AB1234"}]}
{"record":"item","key":"KE-2020-000002","kind":"firearm","make":"Norinco","model":"Type 56","markings":[{"kind":"serial","text":"5699999"}]}
{"record":"event","id":"mod-1","item":"KE-2020-000002","type":"assigned","date":"2020-03-01","to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"}}
"#;

impl TestServer {
    /// A client signed in as `user` (with a TOTP code when the account has a secret).
    async fn as_user(&self, user: &str) -> reqwest::Client {
        let cookie = if matches!(user, "tracer" | "auditor") {
            self.sign_in_with_totp(user).await
        } else {
            let (status, headers, body) = self.sign_in(user, PASSWORD, None).await;
            assert_eq!(status, 200, "{user}: {body}");
            session_cookie(&headers).unwrap()
        };
        client_with("cookie", &cookie)
    }

    async fn status_of(&self, client: &reqwest::Client, method: &str, path: &str) -> (u16, String) {
        let req = match method {
            "GET" => client.get(self.url(path)),
            _ => client
                .post(self.url(path))
                .header("content-type", NDJSON)
                .body(""),
        };
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    async fn audit_entries(&self) -> Vec<Value> {
        let auditor = self.as_user("auditor").await;
        let r = auditor
            .get(self.url("/api/v1/audit?limit=1000"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page: schema::AuditPage = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        page.entries.into_iter().map(|e| e.entry).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_but_health_openapi_and_sign_in_needs_a_credential() {
    let s = TestServer::start().await;
    let anon = reqwest::Client::new();
    for path in [
        "/api/v1/items/KE-2019-000123",
        "/api/v1/search?q=1",
        "/api/v1/ledger/key",
        "/api/v1/audit",
        "/api/v1/session",
    ] {
        let r = anon.get(s.url(path)).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        assert_eq!(status, 401, "{path}");
        assert_error(
            status,
            &headers,
            &r.text().await.unwrap(),
            "unauthenticated",
        );
    }
    for (header, value) in [
        ("cookie", "tracemark_session=forged"),
        ("cookie", "tracemark_session='; DROP TABLE users;--"),
        ("authorization", "Bearer tmk_0123456789abcdef_forged"),
        ("authorization", "Bearer ' OR 1=1 --"),
        ("authorization", "Basic YWRtaW46YWRtaW4="),
    ] {
        let r = client_with(header, value)
            .get(s.url("/api/v1/items/KE-2019-000123"))
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        assert_eq!(status, 401, "{value}");
        assert_error(
            status,
            &headers,
            &r.text().await.unwrap(),
            "unauthenticated",
        );
    }
    assert_eq!(
        anon.get(s.url("/api/v1/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anon.get(s.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Malformed sign-ins are 4xx JSON and change nothing.
    for body in [
        "{",
        r#"{"username":1,"password":"x"}"#,
        r#"{"username":"alice","password":"x","role":"administrator"}"#,
    ] {
        let r = anon
            .post(s.url("/api/v1/session"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "{body}: {status}");
        assert_eq!(r.headers()["content-type"], "application/json");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_the_account_with_back_off() {
    let s = TestServer::start().await;
    for _ in 0..5 {
        let (status, headers, body) = s.sign_in("alice", "wrong password!!", None).await;
        assert_eq!(status, 401, "{body}");
        assert_error(status, &headers, &body, "unauthenticated");
    }
    // Locked: even the right password is refused, with a Retry-After.
    let (status, headers, body) = s.sign_in("alice", PASSWORD, None).await;
    assert_eq!(status, 429, "{body}");
    assert_error(status, &headers, &body, "too_many_requests");
    assert_eq!(headers["retry-after"], "60");
    // An unknown account answers exactly like a wrong password.
    let (status, _, body) = s.sign_in("nobody", PASSWORD, None).await;
    assert_eq!(status, 401);
    assert!(body.contains("unknown account or wrong password"), "{body}");
    s.clock.advance(61);
    let (status, _, body) = s.sign_in("alice", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    // The count starts again after a success.
    for _ in 0..4 {
        assert_eq!(s.sign_in("alice", "wrong password!!", None).await.0, 401);
    }
    assert_eq!(s.sign_in("alice", PASSWORD, None).await.0, 200);
    // The refusals are in the audit log, with the reason.
    let entries = s.audit_entries().await;
    let refused: Vec<_> = entries
        .iter()
        .filter(|e| {
            e["action"] == "sign_in" && e["principal"] == "user:alice" && e["decision"] == "deny"
        })
        .collect();
    assert_eq!(refused.len(), 10, "{entries:?}");
    assert!(refused.iter().any(|e| e["reasons"][0] == "locked"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_roles_need_totp_and_a_code_is_used_once() {
    let s = TestServer::start().await;
    // The administrator has not enrolled: refused, told how to enrol.
    let (status, headers, body) = s.sign_in("admin", PASSWORD, None).await;
    assert_eq!(status, 403, "{body}");
    assert_error(status, &headers, &body, "forbidden");
    assert!(body.contains("tracemark user totp"), "{body}");
    // An enrolled tracing officer without a code, with a wrong one, then a right one twice.
    assert_eq!(s.sign_in("tracer", PASSWORD, None).await.0, 401);
    s.clock.advance(30);
    let secret = totp_secret(&s.data, "tracer");
    let code = tracemark_access::totp::code_at(&secret, s.clock.unix() as u64).unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(s.sign_in("tracer", PASSWORD, Some(wrong)).await.0, 401);
    let (status, _, body) = s.sign_in("tracer", PASSWORD, Some(&code)).await;
    assert_eq!(status, 200, "{body}");
    let info: schema::SessionInfo = serde_json::from_str(&body).unwrap();
    assert!(info.mfa);
    let (status, _, body) = s.sign_in("tracer", PASSWORD, Some(&code)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("already used"), "{body}");
    // Still refused a little later, within the code's validity window.
    s.clock.advance(10);
    assert_eq!(s.sign_in("tracer", PASSWORD, Some(&code)).await.0, 401);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_rotate_at_sign_in_and_end_at_sign_out() {
    let s = TestServer::start().await;
    let (status, headers, _) = s.sign_in("alice", PASSWORD, None).await;
    assert_eq!(status, 200);
    let set_cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let first = session_cookie(&headers).unwrap();
    let alice = client_with("cookie", &first);
    assert_eq!(s.status_of(&alice, "GET", "/api/v1/session").await.0, 200);
    s.clock.advance(29 * 60);
    assert_eq!(s.status_of(&alice, "GET", "/api/v1/session").await.0, 200);
    s.clock.advance(29 * 60);
    assert_eq!(
        s.status_of(&alice, "GET", "/api/v1/session").await.0,
        200,
        "each request renews"
    );
    s.clock.advance(30 * 60);
    let (status, body) = s.status_of(&alice, "GET", "/api/v1/session").await;
    assert_eq!(status, 401, "idle for 30 minutes: {body}");
    assert!(body.contains("expired"), "{body}");

    // Sign-in with a live session cookie gets a new id and ends the old one.
    let (_, headers, _) = s.sign_in("alice", PASSWORD, None).await;
    let second = session_cookie(&headers).unwrap();
    let r = client_with("cookie", &second)
        .post(s.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let third = session_cookie(r.headers()).unwrap();
    assert_ne!(second, third);
    assert_eq!(
        s.status_of(&client_with("cookie", &second), "GET", "/api/v1/session")
            .await
            .0,
        401
    );
    let alice = client_with("cookie", &third);
    assert_eq!(s.status_of(&alice, "GET", "/api/v1/session").await.0, 200);
    let r = alice.delete(s.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.status_of(&alice, "GET", "/api/v1/session").await.0, 401);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_at_once() {
    let s = TestServer::start().await;
    let (status, body) = s.status_of(&s.clerk, "GET", "/api/v1/session").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("service:intake"), "{body}");
    let id = s.clerk_token[4..20].to_owned();
    let data = s.data.clone();
    tokio::task::spawn_blocking(move || {
        let mut node = Node::open(&data).unwrap();
        assert!(node
            .store
            .revoke_token(&id, "2026-01-01T00:00:00Z")
            .unwrap());
    })
    .await
    .unwrap();
    let (status, body) = s.status_of(&s.clerk, "POST", "/api/v1/records").await;
    assert_eq!(status, 401, "{body}");
    let entries = s.audit_entries().await;
    assert!(entries
        .iter()
        .any(|e| e["action"] == "authenticate" && e["decision"] == "deny"));
    s.stop().await;
}

/// Every role × action over HTTP, with the shipped policy set; the exhaustive matrix over
/// agencies and second factors is in `crates/access/tests/policy_matrix.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_action_matrix_over_http() {
    let s = TestServer::start().await;
    let (status, report) = s.post_records("", AUTH_RECORDS).await;
    assert_eq!(status, 200, "{report}");
    let routes = [
        ("read_item", "GET", format!("/api/v1/items/{OPEN_ITEM}")),
        (
            "read_custody",
            "GET",
            format!("/api/v1/items/{OPEN_ITEM}/custody?purpose=matrix"),
        ),
        ("search", "GET", "/api/v1/search?q=AB1234".to_owned()),
        ("record", "POST", "/api/v1/records".to_owned()),
        ("read_ledger", "GET", "/api/v1/ledger/leaves/0".to_owned()),
        ("read_audit", "GET", "/api/v1/audit".to_owned()),
    ];
    let allowed: &[(&str, &[&str])] = &[
        ("clerk", &["read_item", "search", "record", "read_ledger"]),
        ("alice", &["read_item", "read_custody", "search"]),
        (
            "tracer",
            &["read_item", "read_custody", "search", "read_ledger"],
        ),
        ("licensor", &["read_item", "read_custody", "search"]),
        ("keeper", &["read_item", "read_custody", "search", "record"]),
        ("analyst", &["read_item", "search"]),
        ("auditor", &["read_ledger", "read_audit"]),
    ];
    for (user, may) in allowed {
        let client = s.as_user(user).await;
        for (action, method, path) in &routes {
            let (status, body) = s.status_of(&client, method, path).await;
            let expected = if may.contains(action) { 200 } else { 403 };
            assert_eq!(status, expected, "{user} {action}: {body}");
            if status == 403 {
                assert!(body.contains("\"forbidden\""), "{body}");
            }
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn need_to_know_hides_an_armourys_holdings_from_other_agencies() {
    let s = TestServer::start().await;
    let (status, report) = s.post_records("", AUTH_RECORDS).await;
    assert_eq!(status, 200, "{report}");
    let item = format!("/api/v1/items/{ARMOURY_ITEM}");
    let custody = format!("/api/v1/items/{ARMOURY_ITEM}/custody?purpose=stocktake");
    let alice = s.as_user("alice").await; // police investigator
    assert_eq!(s.status_of(&alice, "GET", &item).await.0, 403);
    assert_eq!(s.status_of(&alice, "GET", &custody).await.0, 403);
    assert_eq!(
        s.status_of(&alice, "GET", &format!("/api/v1/items/{OPEN_ITEM}"))
            .await
            .0,
        200
    );
    let armourer = s.as_user("armourer").await; // the armoury's own stockpile manager
    assert_eq!(s.status_of(&armourer, "GET", &item).await.0, 200);
    assert_eq!(s.status_of(&armourer, "GET", &custody).await.0, 200);
    // The national point of contact traces any weapon of the state.
    assert_eq!(s.status_of(&s.client, "GET", &item).await.0, 200);

    // Searches leave the armoury's holdings out, in the query: neither the hits nor the
    // total (nor the same-shipment hints) give them away.
    let search = |client: reqwest::Client, q: &'static str| {
        let url = s.url(&format!("/api/v1/search?{q}"));
        async move {
            let r = client.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap()
        }
    };
    let items = |v: &Value| -> Vec<String> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["item"].as_str().unwrap().to_owned())
            .collect()
    };
    let v = search(alice.clone(), "q=5699999&mode=exact").await;
    assert_eq!(v["total"], 0, "{v}");
    let v = search(alice.clone(), "q=*&kind=any").await;
    assert_eq!(items(&v), [OPEN_ITEM], "{v}");
    assert_eq!(v["total"], 1, "{v}");
    let v = search(alice.clone(), "q=5699998&mode=exact").await;
    assert_eq!(v["total"], 0, "{v}");
    let v = search(armourer.clone(), "q=5699999&mode=exact").await;
    assert_eq!(items(&v), [ARMOURY_ITEM], "{v}");
    let v = search(s.client.clone(), "q=*&kind=any").await;
    assert_eq!(v["total"], 2, "{v}");
    // A new need-to-know agency takes effect on searches without a restart.
    let v = search(alice.clone(), "q=AB1234&mode=exact").await;
    assert_eq!(items(&v), [OPEN_ITEM], "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_searches_and_denials_are_audited_before_the_answer() {
    let s = TestServer::start().await;
    let (status, report) = s.post_records("", AUTH_RECORDS).await;
    assert_eq!(status, 200, "{report}");
    let alice = s.as_user("alice").await;
    // Custody names possessors: a purpose is required.
    let (status, body) = s
        .status_of(&alice, "GET", &format!("/api/v1/items/{OPEN_ITEM}/custody"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("purpose"), "{body}");
    let p = format!("/api/v1/items/{OPEN_ITEM}/custody?purpose=case%202026%2F114");
    assert_eq!(s.status_of(&alice, "GET", &p).await.0, 200);
    assert_eq!(
        s.status_of(
            &alice,
            "GET",
            "/api/v1/search?q=5699999&purpose=stop%20check"
        )
        .await
        .0,
        200
    );
    assert_eq!(
        s.status_of(&alice, "GET", &format!("/api/v1/items/{ARMOURY_ITEM}"))
            .await
            .0,
        403
    );
    assert_eq!(s.status_of(&alice, "GET", "/api/v1/audit").await.0, 403);

    let entries = s.audit_entries().await;
    let find = |action: &str, decision: &str| {
        entries
            .iter()
            .find(|e| {
                e["principal"] == "user:alice" && e["action"] == action && e["decision"] == decision
            })
            .unwrap_or_else(|| panic!("no {action} {decision} entry in {entries:?}"))
            .clone()
    };
    let custody = find("read_custody", "allow");
    assert_eq!(custody["resource"], format!("item:{OPEN_ITEM}"));
    assert_eq!(custody["purpose"], "case 2026/114");
    assert_eq!(custody["agency"], "police");
    assert_eq!(custody["role"], "investigator");
    assert_eq!(custody["time"].as_str().unwrap().len(), 20);
    assert!(!custody["request_id"].as_str().unwrap().is_empty());
    assert_eq!(find("search", "allow")["resource"], "search:5699999");
    let denied = find("read_item", "deny");
    assert_eq!(denied["resource"], format!("item:{ARMOURY_ITEM}"));
    assert_eq!(denied["reasons"][0], "need-to-know");
    find("read_audit", "deny");
    find("sign_in", "allow");
    let imports = entries
        .iter()
        .filter(|e| e["principal"] == "service:intake" && e["action"] == "record")
        .count();
    assert_eq!(imports, 1);

    // The audit log is a signed Merkle log of its own: its checkpoint verifies with the
    // node key, under the origin `<ledger origin>/audit`, and covers every entry.
    let auditor = s.as_user("auditor").await;
    let page: schema::AuditPage = serde_json::from_str(
        &auditor
            .get(s.url("/api/v1/audit?limit=1000"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let key = s.get("/api/v1/ledger/key").await.2;
    let verifier = tracemark_ledger::NoteVerifier::new(key.trim()).unwrap();
    let note =
        tracemark_ledger::open_note(page.checkpoint.as_deref().unwrap(), &[verifier]).unwrap();
    let cp = tracemark_ledger::Checkpoint::parse(&note.text).unwrap();
    assert!(cp.origin.ends_with("/audit"), "{}", cp.origin);
    assert!(cp.size >= page.size && page.size as usize == page.entries.len());
    let leaves: Vec<[u8; 32]> = page
        .entries
        .iter()
        .map(|e| b64d(&Value::String(e.leaf_hash.clone())))
        .collect();
    if cp.size == page.size {
        assert_eq!(
            tracemark_ledger::merkle::root_of_leaf_hashes(&leaves),
            cp.root
        );
    }
    s.stop().await;
}

/// Auditors query the log by principal, agency, action, resource, decision and time, and
/// page through a filtered query with `next`; concurrent audited reads (written together by
/// the group commit) each get an entry of their own, in a log whose checkpoint still covers
/// every entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_query_the_log_and_concurrent_reads_each_leave_an_entry() {
    let s = TestServer::start().await;
    let (status, report) = s.post_records("", AUTH_RECORDS).await;
    assert_eq!(status, 200, "{report}");
    let alice = s.as_user("alice").await;
    // 40 reads at once, with distinct purposes; two denied reads.
    let reads = (0..40).map(|i| {
        let alice = alice.clone();
        let url = s.url(&format!(
            "/api/v1/items/{OPEN_ITEM}/custody?purpose=case-{i}"
        ));
        async move { alice.get(url).send().await.unwrap().status().as_u16() }
    });
    let reads: Vec<_> = reads.map(tokio::spawn).collect();
    let mut statuses = Vec::new();
    for r in reads {
        statuses.push(r.await.unwrap());
    }
    assert!(statuses.iter().all(|&st| st == 200), "{statuses:?}");
    for _ in 0..2 {
        assert_eq!(
            s.status_of(&alice, "GET", &format!("/api/v1/items/{ARMOURY_ITEM}"))
                .await
                .0,
            403
        );
    }

    let auditor = s.as_user("auditor").await;
    let query = |q: String| {
        let auditor = auditor.clone();
        let url = s.url(&format!("/api/v1/audit?{q}"));
        async move {
            let r = auditor.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let page = |text: &str| serde_json::from_str::<schema::AuditPage>(text).unwrap();
    let all = page(&query("limit=1000".into()).await.1);
    assert_eq!(all.size as usize, all.entries.len());
    assert!(all.next.is_none(), "the whole log fits one page");
    // Brute-force oracle: the same filter applied to the whole log.
    let oracle = |f: &dyn Fn(&Value) -> bool| -> Vec<u64> {
        all.entries
            .iter()
            .filter(|e| f(&e.entry))
            .map(|e| e.index)
            .collect()
    };
    let indexes = |p: &schema::AuditPage| p.entries.iter().map(|e| e.index).collect::<Vec<_>>();

    let custody = format!("item:{OPEN_ITEM}");
    let (st, text) = query(format!(
        "principal=user:alice&action=read_custody&resource={custody}&limit=1000"
    ))
    .await;
    assert_eq!(st, 200, "{text}");
    let got = page(&text);
    assert_eq!(got.entries.len(), 40, "one entry per read");
    assert_eq!(
        indexes(&got),
        oracle(&|e| e["principal"] == "user:alice"
            && e["action"] == "read_custody"
            && e["resource"] == custody.as_str())
    );
    let mut purposes: Vec<String> = got
        .entries
        .iter()
        .map(|e| e.entry["purpose"].as_str().unwrap().to_owned())
        .collect();
    purposes.sort();
    purposes.dedup();
    assert_eq!(purposes.len(), 40, "each read's own purpose");

    let denials = page(
        &query("decision=deny&agency=police&limit=1000".into())
            .await
            .1,
    );
    assert_eq!(
        indexes(&denials),
        oracle(&|e| e["decision"] == "deny" && e["agency"] == "police")
    );
    assert!(denials.entries.len() >= 2);

    // Paging a filtered query: pages of 7 joined give the whole answer, in order.
    let mut from = 0;
    let mut joined = Vec::new();
    loop {
        let p = page(
            &query(format!("principal=user:alice&limit=7&from={from}"))
                .await
                .1,
        );
        joined.extend(indexes(&p));
        match p.next {
            Some(n) => from = n,
            None => break,
        }
    }
    assert_eq!(joined, oracle(&|e| e["principal"] == "user:alice"));

    // Time bounds: everything is stamped by the test clock's one instant: from it finds
    // it all, from later nothing, until it nothing; any RFC 3339 offset is accepted.
    let stamp = all.entries[0].entry["time"].as_str().unwrap().to_owned();
    let before = page(&query(format!("since={stamp}&limit=1000")).await.1);
    // (The auditor's own queries since `all` was read are entries too.)
    assert_eq!(
        indexes(&before)[..all.entries.len()],
        indexes(&all)[..],
        "every entry is at or after the clock's instant"
    );
    let (st, text) = query("since=2999-01-01T03:00:00%2B03:00".into()).await;
    assert_eq!(st, 200, "{text}");
    assert!(page(&text).entries.is_empty());
    let none = page(&query(format!("until={stamp}")).await.1);
    assert!(none.entries.is_empty());

    // Bad filters are refused by name.
    for (q, word) in [
        ("decision=maybe", "decision"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
    ] {
        let (st, text) = query(q.into()).await;
        assert_eq!(st, 400, "{q}: {text}");
        assert!(text.contains(word), "{q}: {text}");
    }
    // Only auditors query it, filters or not.
    assert_eq!(
        s.status_of(&alice, "GET", "/api/v1/audit?principal=user:alice")
            .await
            .0,
        403
    );

    // The checkpoint still covers exactly the log's entries.
    let all = page(&query("limit=1000".into()).await.1);
    let key = s.get("/api/v1/ledger/key").await.2;
    let verifier = tracemark_ledger::NoteVerifier::new(key.trim()).unwrap();
    let note =
        tracemark_ledger::open_note(all.checkpoint.as_deref().unwrap(), &[verifier]).unwrap();
    let cp = tracemark_ledger::Checkpoint::parse(&note.text).unwrap();
    if cp.size == all.size {
        let leaves: Vec<[u8; 32]> = all
            .entries
            .iter()
            .map(|e| b64d(&Value::String(e.leaf_hash.clone())))
            .collect();
        assert_eq!(
            tracemark_ledger::merkle::root_of_leaf_hashes(&leaves),
            cp.root
        );
    }
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Hits on items reported lost or stolen.
// ---------------------------------------------------------------------------------------

/// A pistol held by a police station, then reported stolen by the police (through the API,
/// so the ledger names the police as its recorder).
const POLICE_PISTOL: &str = "KE-2021-000007";
const POLICE_RECORDS: &str = r#"{"record":"item","key":"KE-2021-000007","kind":"firearm","make":"Glock","model":"19","markings":[{"kind":"serial","text":"BKX-4411"}]}
{"record":"event","id":"pol-1","item":"KE-2021-000007","type":"assigned","date":"2021-05-01","to":{"name":"Central Police Station","country":"KE","kind":"police"}}
"#;
const POLICE_THEFT: &str = r#"{"record":"event","id":"pol-2","item":"KE-2021-000007","type":"reported_stolen","date":"2024-09-12","place":{"country":"KE","admin1":"Nairobi"}}
"#;

impl TestServer {
    /// Posts JSON Lines as `client` (a session); the status and report.
    async fn post_as(&self, client: &reqwest::Client, body: &str) -> (u16, Value) {
        let r = client
            .post(self.url("/api/v1/records"))
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

    async fn json_as(&self, client: &reqwest::Client, path: &str) -> (u16, Value) {
        let r = client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str(&r.text().await.unwrap()).unwrap(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_on_a_stolen_item_tells_the_searcher_whom_to_call_and_notifies_the_reporter() {
    let s = TestServer::start().await;
    let (status, report) = s.post_records("", POLICE_RECORDS).await;
    assert_eq!(status, 200, "{report}");
    let keeper = s.as_user("keeper").await; // police stockpile manager: records for the police
    let (status, report) = s.post_as(&keeper, POLICE_THEFT).await;
    assert_eq!(status, 200, "{report}");

    // Nothing to report yet.
    let alice = s.as_user("alice").await; // police investigator
    let (status, page) = s.json_as(&alice, "/api/v1/notifications").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["agency"], "police");
    assert_eq!(page["notifications"].as_array().unwrap().len(), 0, "{page}");

    // An investigator of another agency identifies the pistol (the serial as read: a
    // normalized match): the hit says stolen, and whom to call.
    let inspector = s.as_user("inspector").await; // national-registry investigator
    let (status, v) = s
        .json_as(
            &inspector,
            "/api/v1/search?q=BKX4411&purpose=roadside%20check",
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let hit = &v["hits"][0];
    assert_eq!(hit["item"], POLICE_PISTOL, "{v}");
    assert_eq!(hit["status"], "stolen");
    assert_eq!(hit["alert"]["contact_agency"], "police", "{v}");
    assert_eq!(hit["alert"]["report"]["type"], "reported_stolen");
    assert_eq!(hit["alert"]["notified"], true);

    // The police see it at once.
    let (_, page) = s.json_as(&alice, "/api/v1/notifications").await;
    let notes = page["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{page}");
    assert_eq!(notes[0]["item"], POLICE_PISTOL);
    assert_eq!(notes[0]["kind"], "search_hit");
    assert_eq!(notes[0]["detail"]["by"], "user:inspector");
    assert_eq!(notes[0]["detail"]["by_agency"], "national-registry");
    // Other agencies do not see the police's notifications.
    let (_, other) = s.json_as(&inspector, "/api/v1/notifications").await;
    assert_eq!(other["agency"], "national-registry");
    assert_eq!(
        other["notifications"].as_array().unwrap().len(),
        0,
        "{other}"
    );

    // A fuzzy guess is flagged but notifies no one; the police's own searches neither.
    let (_, v) = s
        .json_as(&inspector, "/api/v1/search?q=BKX4417&mode=fuzzy")
        .await;
    assert_eq!(v["hits"][0]["alert"]["notified"], false, "{v}");
    let (_, v) = s.json_as(&alice, "/api/v1/search?q=BKX-4411").await;
    assert_eq!(v["hits"][0]["alert"]["notified"], false, "{v}");
    let next = page["next"].as_u64().unwrap();
    let (_, later) = s
        .json_as(&alice, &format!("/api/v1/notifications?after={next}"))
        .await;
    assert_eq!(
        later["notifications"].as_array().unwrap().len(),
        0,
        "{later}"
    );

    // A seizure recorded by another agency (the registry's clerk service) notifies them too.
    let seizure = r#"{"record":"event","id":"sz-1","item":"KE-2021-000007","type":"seized","date":"2025-01-20","place":{"country":"KE","admin1":"Mombasa"}}
"#;
    let (status, report) = s.post_records("", seizure).await;
    assert_eq!(status, 200, "{report}");
    let (_, later) = s
        .json_as(&alice, &format!("/api/v1/notifications?after={next}"))
        .await;
    let notes = later["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{later}");
    assert_eq!(notes[0]["kind"], "seizure");
    assert_eq!(notes[0]["detail"]["by"], "service:intake");

    // A seizure that arrives in a register upload (CSV) notifies them as well.
    let next = later["next"].as_u64().unwrap();
    let keeper_theft = r#"{"record":"event","id":"pol-3","item":"KE-2021-000007","type":"reported_stolen","date":"2025-06-01","place":{"country":"KE","admin1":"Nairobi"}}
"#;
    let (status, report) = s.post_as(&keeper, keeper_theft).await;
    assert_eq!(status, 200, "{report}");
    let csv = "Key,Serial,Make,Model,Status,Status date\nKE-2021-000007,BKX-4411,Glock,19,Seized,2025-09-20\n";
    let (status, report) = s
        .post_register("filename=customs-seizures.csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["accepted"], 1,
        "the seizure only (the item is known): {report}"
    );
    let (_, later) = s
        .json_as(&alice, &format!("/api/v1/notifications?after={next}"))
        .await;
    let notes = later["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{later}");
    assert_eq!(notes[0]["kind"], "seizure");
    assert_eq!(notes[0]["item"], POLICE_PISTOL);

    // Bad paging is refused; roles without the right are refused and audited.
    let (status, _) = s.json_as(&alice, "/api/v1/notifications?limit=0").await;
    assert_eq!(status, 400);
    let auditor = s.as_user("auditor").await;
    let (status, _) = s.json_as(&auditor, "/api/v1/notifications").await;
    assert_eq!(status, 403);
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Need-to-know, as a property: whatever the holdings, a user never reads or finds an item
// held by another agency's need-to-know holdings.
// ---------------------------------------------------------------------------------------

/// Holders an item may end with, and the need-to-know custodian each implies under
/// [`AGENCIES`] (the most specific rule wins: a name over a kind).
const HOLDERS: [(Option<&str>, Option<&str>); 6] = [
    (None, None),
    (
        Some(r#"{"name":"Ministry of Defence","country":"KE","kind":"state_agency"}"#),
        Some("mod-armoury"),
    ),
    (
        Some(r#"{"name":"1st Battalion","country":"KE","kind":"armed_forces"}"#),
        Some("guard"),
    ),
    (
        Some(r#"{"name":"Ministry of Defence","country":"KE","kind":"armed_forces"}"#),
        Some("mod-armoury"),
    ),
    (
        Some(r#"{"name":"Central Police Station","country":"KE","kind":"police"}"#),
        None,
    ),
    (
        Some(r#"{"name":"A. Person","country":"KE","kind":"private_person"}"#),
        None,
    ),
];

#[test]
fn no_user_reads_or_finds_another_agencys_need_to_know_holdings() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(TestServer::start());
    // (user, agency, sees every custodian)
    let users = [
        ("alice", "police", false),
        ("analyst", "police", false),
        ("armourer", "mod-armoury", false),
        ("sentry", "guard", false),
        ("tracer", "national-registry", true),
    ];
    let clients: Vec<reqwest::Client> = users
        .iter()
        .map(|(u, _, _)| rt.block_on(s.as_user(u)))
        .collect();
    let case = std::cell::Cell::new(0u32);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    });
    // Per item: the holders it passes through (the last one holds it).
    let items = prop::collection::vec(prop::collection::vec(0..HOLDERS.len(), 0..3), 1..8);
    runner
        .run(&items, |items| {
            case.set(case.get() + 1);
            let c = case.get();
            let mut jsonl = String::new();
            let mut custodian = Vec::new();
            for (i, holders) in items.iter().enumerate() {
                let key = format!("KE-P{c}-{i}");
                jsonl.push_str(&format!(
                    r#"{{"record":"item","key":"{key}","kind":"firearm","markings":[{{"kind":"serial","text":"PX{c}M{i}"}}]}}"#
                ));
                jsonl.push('\n');
                let mut last = None;
                for (n, h) in holders.iter().enumerate() {
                    if let (Some(to), owner) = HOLDERS[*h] {
                        jsonl.push_str(&format!(
                            r#"{{"record":"event","item":"{key}","type":"assigned","date":"2020-01-{:02}","to":{to}}}"#,
                            n + 1
                        ));
                        jsonl.push('\n');
                        last = Some(owner);
                    }
                }
                custodian.push((key, last.flatten()));
            }
            let (status, report) = rt.block_on(s.post_records("", &jsonl));
            prop_assert_eq!(status, 200, "{}", report);
            for ((user, agency, sees_all), client) in users.iter().zip(&clients) {
                let visible = |c: &Option<&str>| *sees_all || c.is_none_or(|c| c == *agency);
                let mut want: Vec<&str> = custodian
                    .iter()
                    .filter(|(_, c)| visible(c))
                    .map(|(k, _)| k.as_str())
                    .collect();
                want.sort();
                let (status, v) = rt.block_on(s.json_as(
                    client,
                    &format!("/api/v1/search?q=PX{c}M*&mode=wildcard&limit=100"),
                ));
                prop_assert_eq!(status, 200, "{}", v);
                let mut got: Vec<&str> = v["hits"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["item"].as_str().unwrap())
                    .collect();
                got.sort();
                prop_assert_eq!(&got, &want, "{} search: {}", user, v);
                prop_assert_eq!(v["total"].as_u64(), Some(want.len() as u64), "{}", user);
                for (key, c) in &custodian {
                    let (status, _) = rt.block_on(s.status_of(
                        client,
                        "GET",
                        &format!("/api/v1/items/{key}"),
                    ));
                    let expected = if visible(c) { 200 } else { 403 };
                    prop_assert_eq!(status, expected, "{} reads {} held by {:?}", user, key, c);
                }
            }
            Ok(())
        })
        .unwrap();
    rt.block_on(s.stop());
}

/// An administrator (signed in with a second factor) runs the organisation over the API:
/// agencies, accounts, TOTP resets and service tokens; nobody else may, and every call is
/// audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_agencies_users_and_tokens_over_the_api() {
    let s = TestServer::start().await;
    let data = s.data.clone();
    tokio::task::spawn_blocking(move || {
        let mut node = Node::open(&data).unwrap();
        accounts::enrol_totp(node.store.as_mut(), "admin").unwrap();
    })
    .await
    .unwrap();
    let admin = client_with("cookie", &s.sign_in_with_totp("admin").await);
    let send =
        |client: &reqwest::Client, method: reqwest::Method, path: &str, body: Option<Value>| {
            let mut req = client.request(method, s.url(path));
            if let Some(b) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(b.to_string());
            }
            async move {
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                (status, headers, r.text().await.unwrap())
            }
        };
    use reqwest::Method;

    // Others are refused, even a tracing officer with a second factor.
    for path in ["/api/v1/agencies", "/api/v1/users", "/api/v1/tokens"] {
        let (status, headers, body) = send(&s.client, Method::GET, path, None).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_error(status, &headers, &body, "forbidden");
    }
    let (status, _, body) = send(
        &s.clerk,
        Method::POST,
        "/api/v1/users",
        Some(serde_json::json!({"name":"mallory","agency":"police","role":"administrator"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // Agencies.
    let customs =
        serde_json::json!({"name":"customs-mombasa","kind":"customs","need_to_know":false});
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/agencies",
        Some(customs.clone()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let added: schema::Agency = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (added.name.as_str(), added.kind.as_str()),
        ("customs-mombasa", "customs")
    );
    let (status, headers, body) =
        send(&admin, Method::POST, "/api/v1/agencies", Some(customs)).await;
    assert_eq!(status, 409, "{body}");
    assert_error(status, &headers, &body, "conflict");
    let (status, headers, body) = send(
        &admin,
        Method::POST,
        "/api/v1/agencies",
        Some(serde_json::json!({"name":"x","kind":"navy"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_error(status, &headers, &body, "unprocessable");
    assert!(body.contains("navy"), "{body}");
    let (status, headers, body) = send(
        &admin,
        Method::POST,
        "/api/v1/agencies",
        Some(serde_json::json!({"name":"y","kind":"police","colour":"blue"})),
    )
    .await;
    assert!(matches!(status, 400 | 422), "{status} {body}");
    assert!(body.contains("colour"), "{body}");
    let _ = headers;
    let (status, _, body) = send(&admin, Method::GET, "/api/v1/agencies", None).await;
    assert_eq!(status, 200, "{body}");
    let agencies: Vec<schema::Agency> = serde_json::from_str(&body).unwrap();
    assert_eq!(agencies.len(), AGENCIES.len() + 1);

    // Accounts: the one-time password signs in; unknown agency and taken names are refused.
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/users",
        Some(
            serde_json::json!({"name":"wanjiru","agency":"customs-mombasa","role":"investigator"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: schema::CreatedUser = serde_json::from_str(&body).unwrap();
    assert_eq!(created.user.second_factor, "none");
    let (status, _, body) = s.sign_in("wanjiru", &created.password, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/users",
        Some(serde_json::json!({"name":"wanjiru","agency":"police","role":"analyst"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/users",
        Some(serde_json::json!({"name":"otieno","agency":"nowhere","role":"analyst"})),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("nowhere"), "{body}");
    let (status, _, body) = send(&admin, Method::POST, "/api/v1/users/wanjiru/totp", None).await;
    assert_eq!(status, 200, "{body}");
    let enrolment: schema::TotpEnrolment = serde_json::from_str(&body).unwrap();
    assert!(
        enrolment.otpauth_url.starts_with("otpauth://totp/"),
        "{body}"
    );
    let (status, _, body) = send(&admin, Method::GET, "/api/v1/users", None).await;
    assert_eq!(status, 200);
    let users: Vec<schema::User> = serde_json::from_str(&body).unwrap();
    let wanjiru = users.iter().find(|u| u.name == "wanjiru").unwrap();
    assert_eq!(wanjiru.second_factor, "pending");
    assert!(
        !body.contains("password_hash") && !body.contains("totp_secret"),
        "{body}"
    );
    let (status, _, body) = send(&admin, Method::POST, "/api/v1/users/nobody/totp", None).await;
    assert_eq!(status, 404, "{body}");
    // The second factor removed: none left, and no such account is 404.
    let (status, _, body) = send(&admin, Method::DELETE, "/api/v1/users/wanjiru/totp", None).await;
    assert_eq!(status, 204, "{body}");
    let (_, _, body) = send(&admin, Method::GET, "/api/v1/users", None).await;
    let users: Vec<schema::User> = serde_json::from_str(&body).unwrap();
    let wanjiru = users.iter().find(|u| u.name == "wanjiru").unwrap();
    assert_eq!(wanjiru.second_factor, "none", "{body}");
    let (status, _, _) = send(&admin, Method::DELETE, "/api/v1/users/nobody/totp", None).await;
    assert_eq!(status, 404);
    let (status, _, body) = send(&admin, Method::POST, "/api/v1/users/wanjiru/unlock", None).await;
    assert_eq!(status, 204, "{body}");
    let (status, _, _) = send(&admin, Method::POST, "/api/v1/users/nobody/unlock", None).await;
    assert_eq!(status, 404);

    // Retention: indefinite by default; never below the ITI's minimum; every change kept.
    let (status, _, body) = send(&admin, Method::GET, "/api/v1/retention", None).await;
    assert_eq!(status, 200, "{body}");
    let r: schema::Retention = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (r.manufacturing_years, r.other_years, r.changes),
        (None, None, 0)
    );
    let (status, _, body) = send(
        &admin,
        Method::PUT,
        "/api/v1/retention",
        Some(serde_json::json!({"manufacturing_years": 25, "other_years": 20})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("manufacturing"), "{body}");
    let (status, _, body) = send(
        &admin,
        Method::PUT,
        "/api/v1/retention",
        Some(serde_json::json!({"manufacturing_years": 40, "other_years": null})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let r: schema::Retention = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (r.manufacturing_years, r.other_years, r.changes),
        (Some(40), None, 1)
    );
    let (status, _, _) = send(
        &admin,
        Method::PUT,
        "/api/v1/retention",
        Some(serde_json::json!({"manufacturing_years": 40, "forever": true})),
    )
    .await;
    assert_eq!(status, 422, "an unknown field");
    let (status, _, _) = send(&s.client, Method::GET, "/api/v1/retention", None).await;
    assert_eq!(status, 403, "only administrators");

    // Federation peers, as `tracemark peer add` adds them: Uganda's public identity (as its
    // `GET /api/v1/federation/identity` gives it) and its URL.
    let identity_of = |state: &'static str| {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::init(&dir.path().join("n"), state, None, &clock()).unwrap();
        let public = tracemark_registry::federation::identity(&node)
            .unwrap()
            .public()
            .to_canonical_json();
        serde_json::from_str::<Value>(&public).unwrap()
    };
    let (uganda, uganda_again) =
        tokio::task::spawn_blocking(move || (identity_of("UG"), identity_of("UG")))
            .await
            .unwrap();
    let peer = |identity: &Value, url: &str, replace: bool| {
        Some(serde_json::json!({"identity": identity, "url": url, "replace": replace}))
    };
    let (status, _, body) = send(
        &s.client,
        Method::POST,
        "/api/v1/federation/peers",
        peer(&uganda, "http://127.0.0.1:9/", false),
    )
    .await;
    assert_eq!(status, 403, "only administrators: {body}");
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/federation/peers",
        peer(&uganda, "ftp://127.0.0.1/", false),
    )
    .await;
    assert_eq!(status, 422, "not a usable URL: {body}");
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/federation/peers",
        peer(&uganda, "http://127.0.0.1:9/", false),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let added: schema::Peer = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (added.state.as_str(), added.url.as_str()),
        ("UG", "http://127.0.0.1:9/")
    );
    // Another key pair for the same state: refused unless replacing is asked.
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/federation/peers",
        peer(&uganda_again, "http://127.0.0.1:9/", false),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/federation/peers",
        peer(&uganda_again, "http://127.0.0.1:9/", true),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let replaced: schema::Peer = serde_json::from_str(&body).unwrap();
    assert_ne!(replaced.fingerprint, added.fingerprint);
    assert!(replaced.replaced_at.is_some());
    let (status, _, body) = send(&admin, Method::GET, "/api/v1/federation/peers", None).await;
    assert_eq!(status, 200, "{body}");
    let peers: Vec<schema::Peer> = serde_json::from_str(&body).unwrap();
    assert_eq!(peers.len(), 1, "{body}");
    assert_eq!(peers[0].fingerprint, replaced.fingerprint);

    // Service tokens: created (shown once), used, listed, revoked, refused at once.
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/tokens",
        Some(serde_json::json!({"service":"scanner","agency":"customs-mombasa","role":"administrator"})),
    )
    .await;
    assert_eq!(status, 422, "a privileged service account: {body}");
    let (status, _, body) = send(
        &admin,
        Method::POST,
        "/api/v1/tokens",
        Some(serde_json::json!({"service":"scanner","agency":"customs-mombasa","role":"investigator"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token: schema::CreatedToken = serde_json::from_str(&body).unwrap();
    let scanner = client_with("authorization", &format!("Bearer {}", token.secret));
    let (status, body) = s.status_of(&scanner, "GET", "/api/v1/session").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("service:scanner"), "{body}");
    let (_, _, body) = send(&admin, Method::GET, "/api/v1/tokens", None).await;
    assert!(
        body.contains(&token.token.id) && !body.contains(&token.secret),
        "{body}"
    );
    let path = format!("/api/v1/tokens/{}", token.token.id);
    let (status, _, body) = send(&admin, Method::DELETE, &path, None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(s.status_of(&scanner, "GET", "/api/v1/session").await.0, 401);
    let (status, _, body) = send(&admin, Method::DELETE, &path, None).await;
    assert_eq!(status, 404, "revoked already: {body}");

    // Every call, allowed or refused, is in the audit log.
    let entries = s.audit_entries().await;
    let administer: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "administer")
        .collect();
    assert!(
        administer
            .iter()
            .any(|e| e["decision"] == "deny" && e["principal"] == "user:tracer"),
        "{administer:?}"
    );
    assert!(
        administer.iter().any(
            |e| e["decision"] == "allow" && e["resource"].to_string().contains("tokens:revoke")
        ),
        "{administer:?}"
    );
    s.stop().await;
}

/// Percent-encodes every byte but ASCII letters and digits (for a query string).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Strings an attacker tries in every field: SQL, path traversal, NUL, markup, direction
/// overrides, and one far longer than any name.
fn hostile_strings() -> Vec<String> {
    vec![
        "'; DROP TABLE users;--".into(),
        "\" OR \"1\"=\"1".into(),
        "x') ; DELETE FROM agencies WHERE ('1'='1".into(),
        "../../../etc/passwd".into(),
        "nul\u{0}byte".into(),
        "<script>alert(1)</script>".into(),
        "\u{202e}evil".into(),
        "%' OR name LIKE '%".into(),
        "a".repeat(10_000),
    ]
}

/// Every string field of every JSON body (sign-in and administration), every query parameter
/// of search and every string of an imported record, filled with hostile strings: each gets a
/// clean 4xx, or is stored and read back verbatim as data; nothing else changes, and the
/// ledger still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_in_every_string_field_are_refused_or_kept_verbatim() {
    let s = TestServer::start().await;
    s.import_example().await;
    let data = s.data.clone();
    tokio::task::spawn_blocking(move || {
        let mut node = Node::open(&data).unwrap();
        accounts::enrol_totp(node.store.as_mut(), "admin").unwrap();
    })
    .await
    .unwrap();
    let admin = client_with("cookie", &s.sign_in_with_totp("admin").await);
    let count = |path: &'static str| {
        let admin = admin.clone();
        let url = s.url(path);
        async move {
            let r = admin.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            serde_json::from_str::<Vec<Value>>(&r.text().await.unwrap())
                .unwrap()
                .len()
        }
    };
    let (users_before, agencies_before) = (
        count("/api/v1/users").await,
        count("/api/v1/agencies").await,
    );
    let ledger_before = s.ledger_size().await;

    // Sign-in: every field refused (401 for a wrong account, 400/422 for a malformed one);
    // nobody gets locked out by it but the names tried.
    for field in ["username", "password", "totp"] {
        for bad in hostile_strings() {
            // Wrong passwords lock an account out (429): each field tries its own account.
            let user = if field == "totp" {
                "licensor"
            } else {
                "analyst"
            };
            let mut body = serde_json::json!({"username": user, "password": PASSWORD});
            body[field] = bad.clone().into();
            let r = reqwest::Client::new()
                .post(s.url("/api/v1/session"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap();
            if field == "totp" {
                // The licensing officer needs no second factor; a code not needed is ignored or
                // refused.
                assert!(
                    matches!(status, 200 | 400 | 401 | 422),
                    "totp={bad:.40}: {status} {text}"
                );
            } else {
                assert!(
                    (400..500).contains(&status),
                    "{field}={bad:.40}: {status} {text}"
                );
                assert!(status != 429 || field == "password", "{field}: {text}");
                assert_eq!(headers["content-type"], "application/json", "{text}");
            }
        }
    }

    // Administration bodies: each string field of each, one hostile value at a time.
    let bodies: [(&str, Value); 3] = [
        (
            "/api/v1/agencies",
            serde_json::json!({"name":"customs","kind":"customs","holder_name":"Customs","holder_kind":"customs","need_to_know":false}),
        ),
        (
            "/api/v1/users",
            serde_json::json!({"name":"wanjiru","agency":"police","role":"investigator"}),
        ),
        (
            "/api/v1/tokens",
            serde_json::json!({"service":"scanner","agency":"police","role":"investigator"}),
        ),
    ];
    let mut kept_agencies = 0;
    for (path, good) in &bodies {
        for field in good
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| good[k.as_str()].is_string())
        {
            for (attempt, bad) in hostile_strings().into_iter().enumerate() {
                let mut body = good.clone();
                if field != "name" && *path == "/api/v1/agencies" {
                    // Each accepted agency takes its name.
                    body["name"] = format!("customs-{field}-{attempt}")
                        .replace('_', "-")
                        .into();
                }
                body[field.as_str()] = bad.clone().into();
                let r = admin
                    .post(s.url(path))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                if status == 201 {
                    // Only free text may be accepted, and then it is data, kept as given.
                    assert_eq!(
                        (*path, field.as_str()),
                        ("/api/v1/agencies", "holder_name"),
                        "{bad:.40}: {text}"
                    );
                    let v: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["holder_name"], bad.as_str());
                    kept_agencies += 1;
                    let r = admin.get(s.url("/api/v1/agencies")).send().await.unwrap();
                    let all: Vec<Value> = serde_json::from_str(&r.text().await.unwrap()).unwrap();
                    assert!(all.iter().any(|a| a["holder_name"] == bad.as_str()));
                    continue;
                }
                assert!(
                    matches!(status, 400 | 404 | 409 | 422),
                    "{path} {field}={bad:.40}: {status} {text}"
                );
                let v: Value = serde_json::from_str(&text).unwrap();
                assert!(
                    v["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty()),
                    "{text}"
                );
            }
        }
    }

    assert!(
        kept_agencies > 0,
        "free text is data: some holder names are kept"
    );

    // Search: every query parameter.
    for param in [
        "q",
        "mode",
        "make",
        "model",
        "calibre",
        "country",
        "status",
        "kind",
        "max_edits",
        "limit",
        "offset",
    ] {
        for bad in hostile_strings() {
            let encoded = percent_encode(&bad);
            let path = if param == "q" {
                format!("/api/v1/search?q={encoded}&kind=any")
            } else {
                format!("/api/v1/search?q=5612345&{param}={encoded}")
            };
            let (status, headers, body) = s.get(&path).await;
            assert_eq!(headers["content-type"], "application/json", "{body}");
            match status {
                200 => {
                    let v: Value = serde_json::from_str(&body).unwrap();
                    assert!(v["total"].as_u64().unwrap() <= 1, "{param}={bad:.40}: {v}");
                }
                400 | 422 => assert!(body.contains(param) || param == "q", "{param}: {body}"),
                other => panic!("{param}={bad:.40}: {other} {body}"),
            }
        }
    }

    // An imported record whose every string is hostile: stored and read back verbatim.
    let nasty = "'; DROP TABLE items;-- <b>\u{202e}";
    let record = serde_json::json!({
        "record": "item", "key": "KE-2026-666666", "kind": "firearm",
        "make": nasty, "model": nasty, "calibre": nasty, "type": "pistol",
        "markings": [{"kind": "serial", "text": format!("SN{nasty}"), "component": "frame"}]
    });
    let (status, report) = s.post_records("", &format!("{record}\n")).await;
    assert_eq!(status, 200, "{report}");
    let (status, item) = s.get_json("/api/v1/items/KE-2026-666666").await;
    assert_eq!(status, 200, "{item}");
    for field in ["make", "model", "calibre"] {
        assert_eq!(item[field], nasty, "{field}: {item}");
    }
    assert_eq!(item["markings"][0]["text"], format!("SN{nasty}"), "{item}");

    // Nothing else changed: the seeded people and agencies are all there, the ledger grew by
    // the one record only, and it verifies.
    assert_eq!(count("/api/v1/users").await, users_before);
    assert_eq!(
        count("/api/v1/agencies").await,
        agencies_before + kept_agencies
    );
    assert_eq!(s.ledger_size().await, ledger_before + 1);
    let (data, _dir) = s.stop().await;
    let node = Node::open(&data).unwrap();
    let report = tracemark_registry::verify::verify(&node, None).unwrap();
    assert!(report.ok, "{:?}", report.error);
}

// ---------------------------------------------------------------------------------------
// Register exports (CSV, spreadsheets) uploaded as they are.
// ---------------------------------------------------------------------------------------

/// A French police register as a Windows-1252, semicolon-separated CSV export.
fn french_register(rows: &str) -> Vec<u8> {
    let header = "N° d'enregistrement;N° de série;Marque;Modèle;Calibre;Type;Pays de fabrication;Année;Date d'acquisition;Fournisseur;Pays du fournisseur;Détenteur;Date d'affectation;Statut;Date du vol\r\n";
    format!("{header}{rows}")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect()
}

const FRENCH_ROWS: &str = "FR-0001;MAS 1234;Manufacture d'armes de Saint-Étienne;MAS 49/56;7,5 mm;Fusil;France;1957;03/04/1960;Manufacture d'armes;France;Brigade de Lyon;05/06/1961;En service;\r\n\
FR-0002;FN-88213;FN Herstal;FAL;7.62x51mm;Fusil d'assaut;Belgique;1975;12/01/1976;Fabrique Nationale;Belgique;Commissariat de Lille;;Volé;17/08/2011\r\n";

impl TestServer {
    async fn post_register(&self, query: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .clerk
            .post(self.url(&format!("/api/v1/registers?{query}")))
            .header("content-type", "text/csv")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
        )
    }
}

/// A register export is imported as uploaded: encoding and separator detected, the mapping
/// given as text, the report naming the file as the clerk does; a second upload adds
/// nothing; a bad row is named by row and column and nothing of the file is written; bad
/// names and options are refused before anything is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_exports_are_imported_as_uploaded_with_a_report_by_row_and_column() {
    let s = TestServer::start().await;
    let mapping = percent_encode("date_format = \"DMY\"\nas_of = \"2024-06\"\n");
    let before = s.ledger_size().await;

    // check=true: the report, nothing written.
    let q = format!("filename=registre-police.csv&mapping={mapping}&check=true");
    let (status, v) = s.post_register(&q, french_register(FRENCH_ROWS)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["committed"], false, "{v}");
    assert_eq!(s.ledger_size().await, before);

    let q = format!("filename=registre-police.csv&mapping={mapping}");
    let (status, v) = s.post_register(&q, french_register(FRENCH_ROWS)).await;
    assert_eq!(status, 200, "{v}");
    let accepted = v["accepted"].as_u64().unwrap();
    assert!(accepted >= 4, "two items and their events: {v}");
    assert_eq!(v["rows"], 2);
    assert_eq!(v["rejected"], 0);
    assert_eq!(v["committed"], true);
    assert_eq!(v["files"][0]["file"], "registre-police.csv");
    assert_eq!(v["files"][0]["encoding"], "windows-1252");
    assert_eq!(v["files"][0]["delimiter"], ";");
    assert!(v["files"][0]["mapping_toml"]
        .as_str()
        .unwrap()
        .contains("DMY"));
    assert_eq!(s.ledger_size().await, before + accepted);
    let (status, item) = s.get_json("/api/v1/items/FR-0002").await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["status"], "stolen", "{item}");
    // Searchable at once.
    let (status, found) = s.get_json("/api/v1/search?q=FN-88213&purpose=test").await;
    assert_eq!(status, 200, "{found}");
    assert!(found["total"].as_u64().unwrap() >= 1, "{found}");

    // The same file again: duplicates, nothing new.
    let (status, v) = s.post_register(&q, french_register(FRENCH_ROWS)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["accepted"], 0, "{v}");
    assert!(v["duplicates"].as_u64().unwrap() >= accepted, "{v}");
    let after = s.ledger_size().await;
    assert_eq!(after, before + accepted);

    // A bad date in row 3 (column I): 422, the row and column named, nothing written —
    // not even the good row 2.
    let rows = "FR-0003;MAS 9999;Manufacture d'armes de Saint-Étienne;MAS 49/56;7,5 mm;Fusil;France;1957;03/04/1960;Manufacture d'armes;France;Brigade de Lyon;05/06/1961;En service;\r\n\
FR-0004;FN-1;FN Herstal;FAL;7.62x51mm;Fusil;Belgique;1975;31/31/1976;Fabrique Nationale;Belgique;Commissariat de Lille;;En service;\r\n";
    let (status, v) = s.post_register(&q, french_register(rows)).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["committed"], false);
    assert_eq!(v["error"]["code"], "unprocessable", "{v}");
    let e = &v["errors"][0];
    assert_eq!(e["file"], "registre-police.csv", "{v}");
    assert_eq!(e["row"], 3, "{v}");
    assert_eq!(e["column"], "I", "{v}");
    assert_eq!(e["header"], "Date d'acquisition", "{v}");
    assert!(!e["message"].as_str().unwrap().is_empty());
    assert_eq!(s.ledger_size().await, after);
    assert_eq!(s.get_json("/api/v1/items/FR-0003").await.0, 404);
    // With accept_valid, row 2 goes in and row 3 stays out.
    let (status, v) = s
        .post_register(&format!("{q}&accept_valid=true"), french_register(rows))
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["committed"], true, "{v}");
    assert_eq!(s.get_json("/api/v1/items/FR-0003").await.0, 200);
    assert_eq!(s.get_json("/api/v1/items/FR-0004").await.0, 404);

    // Refused before reading: not a register's name, a path, bad options, bad mapping.
    let ledger = s.ledger_size().await;
    for (query, status, word) in [
        ("filename=records.jsonl", 415, "/api/v1/records"),
        ("filename=..%2Fetc%2Fpasswd.csv", 400, "filename"),
        ("filename=", 400, "filename"),
        ("filename=r.csv&delimiter=%3B%3B", 400, "delimiter"),
        ("filename=r.csv&date_format=QQQ", 400, "date_format"),
        ("filename=r.csv&mapping=%5Bcolumns", 400, "mapping"),
        ("accept_valid=true", 400, "filename"),
    ] {
        let (got, v) = s.post_register(query, french_register(FRENCH_ROWS)).await;
        assert_eq!(got, status, "{query}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(word),
            "{query}: {v}"
        );
    }
    assert_eq!(s.ledger_size().await, ledger);
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Preparing trace requests (issue #5, first part).
// ---------------------------------------------------------------------------------------

/// A draft from a registry item, its check and its printable form, over the API: the caller
/// is the officer, the custody read behind the routing proposal is audited with the case as
/// purpose, and need-to-know applies to the item the request names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_requests_are_drafted_checked_and_printed_with_custody_rights() {
    let s = TestServer::start().await;
    let (status, report) = s.post_records("", AUTH_RECORDS).await;
    assert_eq!(status, 200, "{report}");
    let alice = s.as_user("alice").await;

    let path = format!("/api/v1/items/{ARMOURY_ITEM}/trace-draft?case=CR%20114%2F2026");
    let (status, body) = s.status_of(&alice, "GET", &path).await;
    assert_eq!(status, 403, "need-to-know: {body}");
    let (status, body) = s
        .status_of(
            &alice,
            "GET",
            &format!("/api/v1/items/{OPEN_ITEM}/trace-draft"),
        )
        .await;
    assert_eq!(status, 400, "the case is required: {body}");
    let (status, draft) = s
        .json_as(
            &alice,
            &format!("/api/v1/items/{OPEN_ITEM}/trace-draft?case=CR%20114%2F2026"),
        )
        .await;
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["id"], format!("TR-{OPEN_ITEM}"));
    assert_eq!(draft["officer"], "alice");
    assert_eq!(draft["requesting_agency"], "police");
    assert_eq!(draft["case_reference"], "CR 114/2026");
    assert_eq!(draft["item"]["make"], "Glock");
    assert_eq!(draft["registry_item"], OPEN_ITEM);

    let post = |path: String, body: String| {
        let alice = alice.clone();
        let url = s.url(&path);
        async move {
            let r = alice
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            (status, ct, r.text().await.unwrap())
        }
    };
    // Naming a registry item: the purpose is required, and it is audited.
    let (status, _, text) = post("/api/v1/traces/check".into(), draft.to_string()).await;
    assert_eq!(status, 400, "{text}");
    let (status, _, text) = post(
        "/api/v1/traces/check?purpose=CR%20114%2F2026".into(),
        draft.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ready"], false, "{v}");
    let codes: Vec<&str> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"missing_legal_basis"), "{codes:?}");
    // Glock: the maker's home country is proposed.
    assert_eq!(v["proposed_recipients"][0]["state"], "AT", "{v}");

    // Printable, escaped, to the states given.
    let mut done = draft.clone();
    done["legal_basis"] = "Firearms Act <s. 4>".into();
    let (status, ct, html) = post(
        "/api/v1/traces/print?purpose=CR%20114%2F2026&to=AT,%20DE".into(),
        done.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains("Firearms Act &lt;s. 4&gt;"), "{html}");
    assert!(html.contains("<td>AT, DE</td>"), "{html}");
    // As a PDF: asked for by format=pdf or by the Accept header; an unknown format is refused.
    for (query, accept) in [
        ("&format=pdf", "*/*"),
        ("", "application/pdf;q=1, */*;q=0.1"),
    ] {
        let r = alice
            .post(s.url(&format!(
                "/api/v1/traces/print?purpose=CR%20114%2F2026&to=AT{query}"
            )))
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(done.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{query}");
        assert_eq!(r.headers()["content-type"], "application/pdf", "{query}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{query}");
    }
    let (status, _, text) = post(
        "/api/v1/traces/print?purpose=CR%20114%2F2026&format=docx".into(),
        done.to_string(),
    )
    .await;
    assert_eq!(status, 400, "{text}");

    // A request naming the armoury's item is refused to alice; malformed ones name the field.
    let mut armoury = draft.clone();
    armoury["registry_item"] = ARMOURY_ITEM.into();
    let (status, _, text) =
        post("/api/v1/traces/check?purpose=x".into(), armoury.to_string()).await;
    assert_eq!(status, 403, "{text}");
    let mut bad = draft.clone();
    bad["requesting_state"] = "XK".into();
    let (status, _, text) = post("/api/v1/traces/check?purpose=x".into(), bad.to_string()).await;
    assert_eq!(status, 422, "{text}");
    assert!(
        text.contains("XK") || text.contains("requesting_state"),
        "{text}"
    );
    let (status, _, text) = post("/api/v1/traces/check".into(), "{not json".into()).await;
    assert_eq!(status, 400, "{text}");
    // Without a registry item: no custody read, no purpose needed.
    let mut loose = draft.clone();
    loose.as_object_mut().unwrap().remove("registry_item");
    let (status, _, text) = post("/api/v1/traces/check".into(), loose.to_string()).await;
    assert_eq!(status, 200, "{text}");

    // A registry clerk may not read custody: refused.
    let r = s
        .clerk
        .post(s.url("/api/v1/traces/check?purpose=x"))
        .header("content-type", "application/json")
        .body(draft.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let entries = s.audit_entries().await;
    assert!(
        entries.iter().any(|e| e["principal"] == "user:alice"
            && e["action"] == "read_custody"
            && e["resource"] == format!("item:{OPEN_ITEM}")
            && e["purpose"] == "CR 114/2026"),
        "{entries:?}"
    );

    // The requested side: an answer drafted from the registry, need-to-know applied to the
    // records it may come from.
    let incoming = |serial: &str, make: &str| {
        serde_json::json!({
            "id": "TR-UG-7", "requesting_state": "UG", "requesting_agency": "UPF",
            "officer": "D. Okello", "case_reference": "UG/77",
            "priority": {"level": "routine"},
            "item": {"kind": "firearm", "make": make,
                     "markings": [{"text": serial, "kind": "serial"}]}
        })
        .to_string()
    };
    let (status, _, text) = post(
        "/api/v1/traces/answer-draft".into(),
        incoming("AB1234", "Glock"),
    )
    .await;
    assert_eq!(status, 400, "a purpose is required: {text}");
    let (status, _, text) = post(
        "/api/v1/traces/answer-draft?purpose=TR-UG-7".into(),
        incoming("AB1234", "Glock"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["candidates"][0]["item"], OPEN_ITEM, "{v}");
    assert_eq!(v["answer"]["outcome"]["kind"], "full", "{v}");
    // The armoury's rifle is not alice's to read: no record for her…
    let (status, _, text) = post(
        "/api/v1/traces/answer-draft?purpose=TR-UG-7".into(),
        incoming("5699999", "Norinco"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["candidates"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["answer"]["outcome"]["kind"], "no_record", "{v}");
    // …while the armoury's own stockpile manager finds it.
    let armourer = s.as_user("armourer").await;
    let r = armourer
        .post(s.url("/api/v1/traces/answer-draft?purpose=TR-UG-7"))
        .header("content-type", "application/json")
        .body(incoming("5699999", "Norinco"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["candidates"][0]["item"], ARMOURY_ITEM, "{v}");
    assert!(v["answer"]["outcome"]["findings"]["summary"]
        .as_str()
        .unwrap()
        .contains("Ministry of Defence"));
    s.stop().await;
}

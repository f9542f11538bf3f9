//! The trace life cycle over the API: the real server on a free loopback port, a fresh KE
//! node with no peers, spoken to over HTTP. Uganda is not a peer, so its steps reach this
//! node on paper and by e-mail and the officer records them with `for` and `channel`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
use common::TestClock;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tracemark_access::accounts;
use tracemark_http::schema;
use tracemark_http::{AppState, Server};
use tracemark_registry::{FixedClock, Node};

const PASSWORD: &str = "correct horse battery staple";

/// (user, agency, role); privileged roles enrol a second factor.
const USERS: [(&str, &str, &str); 6] = [
    ("tracer", "national-registry", "tracing_officer"),
    ("clerk", "police", "registry_clerk"),
    ("alice", "police", "investigator"),
    ("analyst", "police", "analyst"),
    ("auditor", "national-registry", "auditor"),
    ("admin", "national-registry", "administrator"),
];

/// The example request's key: Kenya's own numbering, `KE:<id>`.
const KEY: &str = "KE:KE-DCI-2024-0117";
/// The same key as a client percent-encodes it.
const KEY_ENC: &str = "KE%3AKE-DCI-2024-0117";

struct TestServer {
    base: String,
    /// The tracing officer's session.
    tracer: reqwest::Client,
    clock: TestClock,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

fn client_with_cookie(cookie: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::COOKIE,
        reqwest::header::HeaderValue::from_str(cookie).unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

/// A JSON answer: status, headers, body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    /// The error's code and message, checking the error shape.
    fn error(&self) -> (&str, &str) {
        assert_eq!(self.headers["content-type"], "application/json");
        let e = &self.body["error"];
        assert_eq!(
            e["request_id"].as_str().unwrap(),
            self.headers["x-request-id"].to_str().unwrap()
        );
        (e["code"].as_str().unwrap(), e["message"].as_str().unwrap())
    }
}

impl TestServer {
    /// Kenya's node, on a clock of its own.
    async fn start() -> TestServer {
        // 2026-03-10T00:00:00Z
        let clock = TestClock::at(1_773_100_800);
        TestServer::start_for("KE", clock).await
    }

    /// A node of `state` on `clock` (nodes that talk to each other share one: an envelope is
    /// refused when its time is too far from the receiver's).
    async fn start_for(state: &'static str, clock: TestClock) -> TestServer {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let seed = data.clone();
        tokio::task::spawn_blocking(move || {
            let clock = FixedClock("2026-01-01T00:00:00Z".into());
            drop(Node::init(&seed, state, None, &clock).unwrap());
            let mut node = Node::open(&seed).unwrap();
            let store = node.store.as_mut();
            let now = "2026-01-01T00:00:00Z";
            for (name, kind) in [("national-registry", "other"), ("police", "police")] {
                accounts::add_agency(store, name, kind, None, None, false, now).unwrap();
            }
            for (user, agency, role) in USERS {
                accounts::add_user(store, user, agency, role, PASSWORD, now).unwrap();
                if matches!(role, "tracing_officer" | "auditor" | "administrator") {
                    accounts::enrol_totp(store, user).unwrap();
                }
            }
        })
        .await
        .unwrap();
        let state_clock = clock.clone();
        let state_dir = data.clone();
        let state = tokio::task::spawn_blocking(move || {
            AppState::open(
                &state_dir,
                Arc::new(state_clock),
                tracemark_http::DEFAULT_MAX_BODY_BYTES,
            )
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
            tracer: reqwest::Client::new(),
            clock,
            shutdown,
            handle,
            data,
            _dir: dir,
        };
        s.tracer = s.as_user("tracer").await;
        s
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs `user` in (with the current TOTP code for privileged roles); a client with
    /// the session cookie.
    async fn as_user(&self, user: &str) -> reqwest::Client {
        let mut body = json!({"username": user, "password": PASSWORD});
        if matches!(user, "tracer" | "auditor" | "admin") {
            // A fresh TOTP step, so that no code is used twice.
            self.clock.advance(30);
            let secret = Node::open(&self.data)
                .unwrap()
                .store
                .user(user)
                .unwrap()
                .unwrap()
                .totp_secret
                .unwrap();
            let code = tracemark_access::totp::code_at(&secret, self.clock.unix() as u64).unwrap();
            body["totp"] = code.into();
        }
        let mut last = String::new();
        for _ in 0..500 {
            match reqwest::Client::new()
                .post(self.url("/api/v1/session"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
            {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let cookie = r
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find(|v| v.starts_with("tracemark_session="))
                        .map(|v| v.split(';').next().unwrap().to_owned());
                    last = r.text().await.unwrap();
                    assert_eq!(status, 200, "{user}: {last}");
                    return client_with_cookie(&cookie.unwrap());
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("could not sign in {user}: {last}");
    }

    async fn call(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> Answer {
        let mut req = client.request(method, self.url(path));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(&self.tracer, reqwest::Method::GET, path, None)
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(
            &self.tracer,
            reqwest::Method::POST,
            path,
            Some(body.to_string()),
        )
        .await
    }

    async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(
            &self.tracer,
            reqwest::Method::PUT,
            path,
            Some(body.to_string()),
        )
        .await
    }

    async fn post_text(&self, path: &str, body: &str) -> Answer {
        self.call(
            &self.tracer,
            reqwest::Method::POST,
            path,
            Some(body.to_owned()),
        )
        .await
    }

    /// The audit entries about `resource`, read by the auditor.
    async fn audit_about(&self, resource: &str) -> Vec<Value> {
        let auditor = self.as_user("auditor").await;
        let a = self
            .call(
                &auditor,
                reqwest::Method::GET,
                &format!(
                    "/api/v1/audit?limit=1000&resource={}",
                    resource.replace(':', "%3A")
                ),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let page: schema::AuditPage = serde_json::from_value(a.body).unwrap();
        page.entries.into_iter().map(|e| e.entry).collect()
    }

    async fn stop(self) {
        self.shutdown.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
    }
}

fn example() -> Value {
    serde_json::from_str(tracemark_trace::request::EXAMPLE).unwrap()
}

/// Uganda's answer, as it came by e-mail.
fn full_answer() -> Value {
    json!({
        "outcome": {
            "kind": "full",
            "findings": {
                "summary": "Imported 1986 under licence UG-IL-86/4 by the Uganda Police Force; reported stolen from Moroto armoury in 2009.",
                "last_legal_holder": {"name": "Uganda Police Force, Moroto", "country": "UG"},
                "point_of_diversion": {"description": "Theft from the Moroto armoury", "date": "2009-11", "country": "UG"}
            }
        },
        "conditions_of_use": ["Not to be disclosed in court without Uganda's consent."]
    })
}

fn assert_recorded(a: &Answer, index: u64, status: &str) {
    assert_eq!(a.body["key"], KEY, "{}", a.body);
    assert_eq!(a.body["index"], index, "{}", a.body);
    assert_eq!(a.body["status"], status, "{}", a.body);
}

/// Drafted, amended, sent to a state that is not a peer, its acknowledgement on paper and
/// its answer by e-mail recorded, followed up and closed with feedback — each answer's JSON
/// and the trace's state checked on the way, and every read and step in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requesting_side_life_cycle_on_one_node() {
    let s = TestServer::start().await;

    // Draft.
    let a = s.post("/api/v1/traces", example()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_recorded(&a, 0, "draft");
    assert_eq!(a.body["queued_for"], json!([]));
    assert_eq!(a.headers["location"], format!("/api/v1/traces/{KEY}"));
    let list = s.get("/api/v1/traces").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["total"], 1);
    let row = &list.body["traces"][0];
    assert_eq!(row["key"], KEY);
    assert_eq!(row["role"], "requesting");
    assert_eq!(row["status"], "draft");
    assert_eq!(row["case_reference"], "CR 45/2024 Isiolo");
    assert_eq!(row["requested_states"], json!([]));
    assert_eq!(row["priority"], Value::Null);

    // Amend: a new officer takes the case.
    let mut amended = example();
    amended["officer"] = "Insp. J. Kamau".into();
    let a = s
        .call(
            &s.tracer,
            reqwest::Method::PUT,
            &format!("/api/v1/traces/{KEY_ENC}"),
            Some(amended.to_string()),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_recorded(&a, 1, "draft");

    // Send to Uganda, which is not a peer: nothing is queued, the officer is told.
    let a = s
        .post(&format!("/api/v1/traces/{KEY}/send"), json!({"to": ["UG"]}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_recorded(&a, 2, "sent");
    assert_eq!(a.body["queued_for"], json!([]));
    assert_eq!(a.body["not_federated"], json!(["UG"]));

    // Uganda's acknowledgement came by letter; its answer by e-mail.
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY_ENC}/acknowledge"),
            json!({"for": "UG", "channel": "paper", "note": "Letter UPF/FB/112 of 12 March"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_recorded(&a, 3, "acknowledged");
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/answer"),
            json!({"answer": full_answer(), "for": "UG", "channel": "email"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_recorded(&a, 4, "answered");

    // A follow-up question, then the closing with feedback on the answer.
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/follow-up"),
            json!({"to": "UG", "question": "Was the theft from Moroto reported to INTERPOL?"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_recorded(&a, 5, "follow_up");
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/close"),
            json!({"feedback": [{"state": "UG", "rating": 4, "comment": "Named the point of diversion."}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_recorded(&a, 6, "closed");

    // The whole trace.
    let t = s
        .get(&format!("/api/v1/traces/{KEY_ENC}?purpose=CR%2045%2F2024"))
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let t = t.body;
    assert_eq!(t["key"], KEY);
    assert_eq!(t["status"], "closed");
    assert_eq!(t["priority"], "routine");
    assert_eq!(t["requested_states"], json!(["UG"]));
    assert_eq!(t["records"], 7);
    assert_eq!(t["request"]["officer"], "Insp. J. Kamau");
    assert!(
        t["sent_at"].is_string() && t["closed_at"].is_string(),
        "{t}"
    );
    let ug = &t["exchanges"][0];
    assert_eq!(ug["state"], "UG");
    assert_eq!(ug["status"], "follow_up");
    assert!(ug["acknowledged_at"].is_string(), "{ug}");
    assert_eq!(ug["delivered_at"], Value::Null);
    assert_eq!(ug["answers"][0]["answer"], full_answer());
    assert_eq!(
        ug["follow_ups"][0]["question"],
        "Was the theft from Moroto reported to INTERPOL?"
    );
    assert_eq!(t["feedback"][0]["state"], "UG");
    assert_eq!(t["feedback"][0]["rating"], 4);
    let steps = t["steps"].as_array().unwrap();
    let events: Vec<&str> = steps
        .iter()
        .map(|s| s["record"]["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "drafted",
            "amended",
            "sent",
            "acknowledged",
            "answered",
            "follow_up",
            "closed"
        ]
    );
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(step["index"], i as u64);
        assert_eq!(step["recorded_by"], "user:tracer");
        assert_eq!(step["record"]["trace"], KEY);
    }
    assert_eq!(steps[3]["record"]["channel"], "paper");
    assert_eq!(steps[3]["record"]["note"], "Letter UPF/FB/112 of 12 March");
    assert_eq!(steps[3]["record"]["event"]["by"], "UG");
    assert_eq!(steps[4]["record"]["channel"], "email");

    // The list and its filters.
    for (query, total) in [
        ("", 1),
        ("?status=closed", 1),
        ("?status=draft", 0),
        ("?role=requesting", 1),
        ("?role=requested", 0),
        ("?case=CR%2045%2F2024%20Isiolo", 1),
        ("?case=other", 0),
        ("?limit=1&offset=1", 1),
    ] {
        let a = s.get(&format!("/api/v1/traces{query}")).await;
        assert_eq!(a.status, 200, "{query}: {}", a.body);
        assert_eq!(a.body["total"], total, "{query}: {}", a.body);
    }
    let a = s.get("/api/v1/traces?limit=1&offset=1").await;
    assert_eq!(a.body["traces"], json!([]));

    // Every step and the read are on record, each before its answer.
    let entries = s.audit_about(&format!("trace:{KEY}")).await;
    let steps: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "trace" && e["decision"] == "allow")
        .map(|e| e["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "draft",
            "amend",
            "send",
            "acknowledge",
            "answer",
            "follow_up",
            "close"
        ]
    );
    let read = entries
        .iter()
        .find(|e| e["action"] == "read_trace")
        .unwrap_or_else(|| panic!("no read_trace entry in {entries:?}"));
    assert_eq!(read["principal"], "user:tracer");
    assert_eq!(read["purpose"], "CR 45/2024");
    assert_eq!(read["decision"], "allow");
    s.stop().await;
}

/// 409 for what the life-cycle rules refuse (with the engine's message), 400 for a body that
/// is not JSON, 422 naming the field, 404 for an unknown key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_rule_or_the_field() {
    let s = TestServer::start().await;
    let traces = "/api/v1/traces";
    let send = format!("/api/v1/traces/{KEY}/send");

    // Bad bodies for a draft.
    let a = s.post_text(traces, "{").await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.error().0, "bad_request");
    let mut typo = example();
    typo["legal_bassis"] = "Firearms Act".into();
    let a = s.post(traces, typo).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("legal_bassis"), "{}", a.body);
    let mut bad_marking = example();
    bad_marking["item"]["markings"][1]["kind"] = "tattoo".into();
    let a = s.post(traces, bad_marking).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.error().1.contains("`item.markings[1].kind`"),
        "{}",
        a.body
    );
    let mut other = example();
    other["requesting_state"] = "UG".into();
    let a = s.post(traces, other).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("requesting_state"), "{}", a.body);
    // A draft, and the same one again.
    assert_eq!(s.post(traces, example()).await.status, 201);
    let a = s.post(traces, example()).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.error().0, "conflict");

    // An amendment keeps the draft's id.
    let mut renamed = example();
    renamed["id"] = "KE-DCI-2024-0999".into();
    let a = s.put(&format!("/api/v1/traces/{KEY_ENC}"), renamed).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("`id`"), "{}", a.body);

    // Nothing happens to a draft that is not sent yet.
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/acknowledge"),
            json!({"for": "UG", "channel": "paper"}),
        )
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(a.error().1.contains("draft"), "{}", a.body);

    // Bad bodies for the send, each naming its field.
    for (body, field) in [
        (json!({}), "to"),
        (json!({"to": "UG"}), "to"),
        (json!({"to": ["Uganda"]}), "to[0]"),
        (json!({"to": ["UG"], "cc": ["CD"]}), "cc"),
        (
            json!({"to": ["UG"], "waivers": [{"gap": "no_such_gap", "explanation": "x"}]}),
            "waivers[0].gap",
        ),
    ] {
        let a = s.post(&send, body.clone()).await;
        assert_eq!(a.status, 422, "{body}: {}", a.body);
        let (code, message) = a.error();
        assert_eq!(code, "unprocessable");
        assert!(message.contains(&format!("`{field}`")), "{body}: {message}");
    }
    let a = s.post_text(&send, "[1,2]").await;
    assert_eq!(a.status, 400, "{}", a.body);

    // Sent; then the rules: this node does not acknowledge its own request, nor does a
    // state acknowledge after it answered, nor may the trace close without feedback on the
    // answer, nor be sent again.
    assert_eq!(s.post(&send, json!({"to": ["UG"]})).await.status, 200);
    let a = s
        .post(&format!("/api/v1/traces/{KEY}/acknowledge"), json!({}))
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(a.error().1.contains("own request"), "{}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/acknowledge"),
            json!({"for": "UG"}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("`channel`"), "{}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/answer"),
            json!({"answer": {"outcome": {"kind": "everything"}}, "for": "UG", "channel": "email"}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("`answer.outcome"), "{}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/answer"),
            json!({"answer": full_answer(), "for": "CD", "channel": "email"}),
        )
        .await;
    assert_eq!(a.status, 409, "CD was not asked: {}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/answer"),
            json!({"answer": full_answer(), "for": "UG", "channel": "email"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/acknowledge"),
            json!({"for": "UG", "channel": "paper"}),
        )
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(a.error().1.contains("answered"), "{}", a.body);
    let a = s
        .post(&format!("/api/v1/traces/{KEY}/close"), json!({}))
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(a.error().1.contains("UG"), "{}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/close"),
            json!({"feedback": [{"state": "UG", "rating": 9}]}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("`feedback[0].rating`"), "{}", a.body);
    let a = s.post(&send, json!({"to": ["UG"]})).await;
    assert_eq!(a.status, 409, "{}", a.body);
    let a = s.put(&format!("/api/v1/traces/{KEY}"), example()).await;
    assert_eq!(a.status, 409, "a sent request is not amended: {}", a.body);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/follow-up"),
            json!({"to": "UG"}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.error().1.contains("`question`"), "{}", a.body);

    // Unknown keys.
    let a = s.get("/api/v1/traces/KE%3ANOPE-1?purpose=check").await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(a.error().0, "not_found");
    let a = s
        .post("/api/v1/traces/KE:NOPE-1/send", json!({"to": ["UG"]}))
        .await;
    assert_eq!(a.status, 404, "{}", a.body);
    let a = s
        .post("/api/v1/traces/KE:NOPE-1/close", json!({"feedback": []}))
        .await;
    assert_eq!(a.status, 404, "{}", a.body);
    // A read of one trace states its purpose.
    let a = s.get(&format!("/api/v1/traces/{KEY}")).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.error().1.contains("purpose"), "{}", a.body);
    // Bad list filters.
    for q in ["?status=lost", "?role=both", "?limit=0", "?limit=5000"] {
        let a = s.get(&format!("/api/v1/traces{q}")).await;
        assert_eq!(a.status, 400, "{q}: {}", a.body);
    }
    s.stop().await;
}

/// Only the tracing officer reads and steps traces; analysts read the figures, administrators
/// the outbox; every refusal is 403 and on record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_without_the_action_are_refused_and_the_refusal_audited() {
    let s = TestServer::start().await;
    assert_eq!(s.post("/api/v1/traces", example()).await.status, 201);
    let clerk = s.as_user("clerk").await;
    let alice = s.as_user("alice").await;
    let analyst = s.as_user("analyst").await;
    let admin = s.as_user("admin").await;
    let auditor = s.as_user("auditor").await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let routes: Vec<(&str, reqwest::Method, String, Option<String>)> = vec![
        ("read_trace", get.clone(), "/api/v1/traces".into(), None),
        (
            "read_trace",
            get.clone(),
            format!("/api/v1/traces/{KEY_ENC}?purpose=x"),
            None,
        ),
        (
            "read_trace",
            get.clone(),
            "/api/v1/traces/overdue".into(),
            None,
        ),
        (
            "trace",
            post.clone(),
            format!("/api/v1/traces/{KEY}/send"),
            Some(json!({"to": ["UG"]}).to_string()),
        ),
        (
            "trace",
            post.clone(),
            "/api/v1/traces".into(),
            Some(example().to_string()),
        ),
        (
            "read_trace_figures",
            get.clone(),
            "/api/v1/traces/figures".into(),
            None,
        ),
        (
            "read_outbox",
            get.clone(),
            "/api/v1/federation/outbox".into(),
            None,
        ),
    ];
    for (who, client, may) in [
        ("clerk", &clerk, &[][..]),
        ("alice", &alice, &[][..]),
        ("analyst", &analyst, &["read_trace_figures"][..]),
        ("admin", &admin, &["read_outbox"][..]),
        ("auditor", &auditor, &[][..]),
    ] {
        for (action, method, path, body) in &routes {
            let a = s.call(client, method.clone(), path, body.clone()).await;
            if may.contains(action) {
                assert_eq!(a.status, 200, "{who} {action} {path}: {}", a.body);
            } else {
                assert_eq!(a.status, 403, "{who} {action} {path}: {}", a.body);
                assert_eq!(a.error().0, "forbidden");
            }
        }
    }
    // The draft is as it was: nobody but the officer stepped it.
    let t = s.get(&format!("/api/v1/traces/{KEY}?purpose=check")).await;
    assert_eq!(t.body["status"], "draft", "{}", t.body);
    assert_eq!(t.body["records"], 1);
    let entries = s.audit_about(&format!("trace:{KEY}")).await;
    let denied = entries
        .iter()
        .find(|e| e["principal"] == "user:clerk" && e["action"] == "trace")
        .unwrap_or_else(|| panic!("no denial for the clerk in {entries:?}"));
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["purpose"], "send");
    assert_eq!(denied["role"], "registry_clerk");
    let read = entries
        .iter()
        .find(|e| e["principal"] == "user:alice" && e["action"] == "read_trace")
        .unwrap_or_else(|| panic!("no denial for alice in {entries:?}"));
    assert_eq!(read["decision"], "deny");
    // The reads the other roles may make are on record too.
    let figures = s.audit_about("traces:figures").await;
    assert!(
        figures
            .iter()
            .any(|e| e["principal"] == "user:analyst" && e["decision"] == "allow"),
        "{figures:?}"
    );
    let outbox = s.audit_about("federation:outbox").await;
    assert!(
        outbox
            .iter()
            .any(|e| e["principal"] == "user:admin" && e["decision"] == "allow"),
        "{outbox:?}"
    );
    assert!(
        outbox
            .iter()
            .any(|e| e["principal"] == "user:clerk" && e["decision"] == "deny"),
        "{outbox:?}"
    );
    s.stop().await;
}

/// The overdue list at the server's clock, a chained trace, the figures and the (empty)
/// outbox of a node without peers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_chain_figures_and_outbox() {
    let mut s = TestServer::start().await;
    assert_eq!(s.post("/api/v1/traces", example()).await.status, 201);
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/send"),
            json!({"to": ["UG", "ET"]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["not_federated"], json!(["UG", "ET"]));
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/acknowledge"),
            json!({"for": "ET", "channel": "interpol"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Nothing is overdue yet.
    let a = s.get("/api/v1/traces/overdue").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["overdue"], json!([]), "{}", a.body);

    // Eight days on, Uganda has not acknowledged the routine request (seven days).
    s.clock.advance(8 * 24 * 3600);
    s.tracer = s.as_user("tracer").await;
    let a = s.get("/api/v1/traces/overdue").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let overdue = a.body["overdue"].as_array().unwrap();
    assert_eq!(overdue.len(), 1, "{}", a.body);
    assert_eq!(overdue[0]["key"], KEY);
    assert_eq!(overdue[0]["owed_by"], "UG");
    assert_eq!(overdue[0]["obligation"], "acknowledgement");
    assert!(overdue[0]["overdue_seconds"].as_i64().unwrap() > 0);
    assert!(
        a.body["reminders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["owed_by"] == "UG" && r["level"] == "overdue"),
        "{}",
        a.body
    );

    // Ethiopia's answer names the next state: the trace is chained to it.
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/chain"),
            json!({"to": ["CD"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let chained = "KE:KE-DCI-2024-0117-CD";
    assert_eq!(a.body["key"], chained);
    assert_eq!(a.body["status"], "sent");
    assert_eq!(a.headers["location"], format!("/api/v1/traces/{chained}"));
    let a = s
        .get(&format!("/api/v1/traces/{chained}?purpose=chain"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["parent"], KEY);
    assert_eq!(a.body["request"]["parent_trace"], "KE-DCI-2024-0117");
    assert_eq!(a.body["requested_states"], json!(["CD"]));
    let a = s
        .post(
            &format!("/api/v1/traces/{KEY}/chain"),
            json!({"to": ["CD"]}),
        )
        .await;
    assert_eq!(a.status, 409, "chained twice: {}", a.body);

    // The figures count both requests; nothing has been answered.
    let a = s.get("/api/v1/traces/figures").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["sent"], 2, "{}", a.body);
    assert_eq!(a.body["received"], 0);
    assert_eq!(a.body["by_requested_state"]["ET"]["acknowledged"], 1);
    assert_eq!(a.body["by_requested_state"]["UG"]["requests"], 1);

    // No peers, so no messages; the outbox answers all the same.
    let a = s.get("/api/v1/federation/outbox").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["total"], 0);
    assert_eq!(a.body["messages"], json!([]));
    let a = s.get("/api/v1/federation/outbox?status=lost").await;
    assert_eq!(a.status, 400, "{}", a.body);
    s.stop().await;
}

/// Makes each node a peer of the other (as their administrators would, with
/// `tracemark peer add`).
async fn introduce(a: &TestServer, b: &TestServer) {
    for (from, to) in [(a, b), (b, a)] {
        let (data, other, url) = (from.data.clone(), to.data.clone(), to.base.clone());
        tokio::task::spawn_blocking(move || {
            let public = tracemark_registry::federation::identity(&Node::open(&other).unwrap())
                .unwrap()
                .public()
                .to_canonical_json();
            let mut node = Node::open(&data).unwrap();
            tracemark_registry::federation::add_peer(
                &mut node,
                &public,
                &format!("{url}/"),
                false,
                "2026-03-10T00:00:00Z",
            )
            .unwrap();
        })
        .await
        .unwrap();
    }
}

/// Waits until the server's delivery task has taken `from`'s outbox to the peers (each
/// message is sent after the ones before it to the same peer, so steps of one trace arrive
/// in order); none may be refused.
async fn flush(from: &TestServer) {
    for _ in 0..500 {
        let out = from.get("/api/v1/federation/outbox?status=pending").await;
        assert_eq!(out.status, 200, "{}", out.body);
        if out.body["total"] == 0 {
            let refused = from.get("/api/v1/federation/outbox?status=refused").await;
            assert_eq!(refused.body["total"], 0, "{}", refused.body);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the outbox did not empty");
}

/// Kenya asks Uganda, both on Tracemark: the request is queued in Kenya's outbox and
/// delivered; Uganda's officer sees it among the received traces, acknowledges and answers
/// it over the API (this node's own steps: no `for`), each step queued for Kenya; delivered,
/// they move Kenya's trace to `answered`; Kenya closes it, and Uganda is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requested_side_answers_over_the_api_and_the_outbox_carries_each_step() {
    let clock = TestClock::at(1_773_100_800);
    let ke = TestServer::start_for("KE", clock.clone()).await;
    let ug = TestServer::start_for("UG", clock.clone()).await;
    introduce(&ke, &ug).await;

    assert_eq!(ke.post("/api/v1/traces", example()).await.status, 201);
    let a = ke
        .post(&format!("/api/v1/traces/{KEY}/send"), json!({"to": ["UG"]}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["queued_for"], json!(["UG"]));
    assert_eq!(a.body["not_federated"], json!([]));
    let out = ke.get("/api/v1/federation/outbox").await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.body["total"], 1, "{}", out.body);
    let m = &out.body["messages"][0];
    // Pending, or already taken by the delivery task.
    assert!(
        m["status"] == "pending" || m["status"] == "delivered",
        "{m}"
    );
    assert_eq!(m["peer"], "UG");
    assert_eq!(m["kind"], "trace_request");
    assert_eq!(m["trace"], KEY);
    assert!(m.get("envelope").is_none(), "never the content: {m}");

    flush(&ke).await;
    let out = ke.get("/api/v1/federation/outbox?status=delivered").await;
    assert_eq!(out.body["total"], 1, "{}", out.body);
    let t = ke.get(&format!("/api/v1/traces/{KEY}?purpose=CR45")).await;
    assert_eq!(t.body["exchanges"][0]["status"], "delivered", "{}", t.body);

    // Uganda's side.
    let got = ug.get("/api/v1/traces?role=requested").await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["total"], 1, "{}", got.body);
    assert_eq!(got.body["traces"][0]["key"], KEY);
    assert_eq!(got.body["traces"][0]["requesting_state"], "KE");
    let ack = format!("/api/v1/traces/{KEY_ENC}/acknowledge");
    let a = ug
        .post(&ack, json!({"for": "KE", "channel": "paper"}))
        .await;
    assert_eq!(
        a.status, 409,
        "the requested side takes its own steps: {}",
        a.body
    );
    let a = ug.post_text(&ack, "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "acknowledged");
    assert_eq!(a.body["queued_for"], json!(["KE"]));
    let a = ug
        .post(
            &format!("/api/v1/traces/{KEY}/answer"),
            json!({"answer": full_answer(), "note": "Checked against the 1986 import register."}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "answered");
    assert_eq!(a.body["queued_for"], json!(["KE"]));
    let a = ug
        .post(
            &format!("/api/v1/traces/{KEY}/follow-up"),
            json!({"to": "KE", "question": "?"}),
        )
        .await;
    assert_eq!(
        a.status, 409,
        "only the requesting state follows up: {}",
        a.body
    );
    // Both steps are queued for Kenya (the delivery task may have sent them already).
    let out = ug.get("/api/v1/federation/outbox?peer=KE").await;
    assert_eq!(out.body["total"], 2, "{}", out.body);

    // One message per peer at a time, in order: the acknowledgement, then the answer.
    flush(&ug).await;
    let out = ug.get("/api/v1/federation/outbox?status=delivered").await;
    let kinds: Vec<&str> = out.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ack", "answer"], "{}", out.body);
    let t = ke.get(&format!("/api/v1/traces/{KEY}?purpose=CR45")).await;
    let t = t.body;
    assert_eq!(t["status"], "answered", "{t}");
    assert_eq!(t["exchanges"][0]["answers"][0]["answer"], full_answer());
    let received: Vec<&str> = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["recorded_by"] == "federation:UG")
        .map(|s| s["record"]["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(received, ["delivered", "acknowledged", "answered"], "{t}");

    // Closed with feedback; Uganda is told.
    let a = ke
        .post(
            &format!("/api/v1/traces/{KEY}/close"),
            json!({"feedback": [{"state": "UG", "rating": 5}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["queued_for"], json!(["UG"]));
    flush(&ke).await;
    let t = ug.get(&format!("/api/v1/traces/{KEY}?purpose=TR")).await;
    assert_eq!(t.body["status"], "closed", "{}", t.body);
    assert_eq!(t.body["role"], "requested");
    let f = ug.get("/api/v1/traces/figures").await;
    assert_eq!(f.body["received"], 1, "{}", f.body);
    assert_eq!(f.body["outcomes_given"]["full"], 1, "{}", f.body);
    ke.stop().await;
    ug.stop().await;
}

//! Three national installations on loopback exchange a whole trace (issue #5's end-to-end
//! test), with a fourth in the directory that is not part of it.
//!
//! Kenya (KE) seized a Norinco rifle and asks China (CN), the state of manufacture. China's
//! registry holds the rifle; its officer acknowledges, drafts the answer from the chain of
//! custody ("exported 1985-06 to Ethiopia under licence EL-85/77") and sends it. Kenya chains
//! the trace to Ethiopia (ET) in one step — but Ethiopia's server is down: the request waits
//! in Kenya's outbox, backs off, and is delivered exactly once when Ethiopia comes back.
//! Ethiopia answers; Kenya closes with feedback. Uganda (UG), a peer of Kenya that is in none
//! of these traces, can read none of the messages, and its forged or replayed messages are
//! refused and logged. Every step is a record in each node's trace log, and `ledger verify`
//! recomputes every node's traces from it.
//!
//! Officers' steps are taken through the registry engine on a connection of their own beside
//! the running server (what the CLI does); everything between the nodes goes over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use serde_json::Value;
use std::path::PathBuf;

use std::sync::Arc;
use std::time::Duration;
use tracemark_domain::ids::CountryCode;
use tracemark_federation::{Envelope, RetryPolicy};
use tracemark_http::{AppState, AuthConfig, Server};
use tracemark_registry::traces::{self, Actor};
use tracemark_registry::{federation, Location, Node, SystemClock};
use tracemark_store::AuditFilter;
use tracemark_trace::lifecycle::{Answer, Feedback};
use tracemark_trace::request::TraceRequest;

fn cc(s: &str) -> CountryCode {
    CountryCode::parse(s).unwrap()
}

/// A node: its data folder, its address, and its server while it runs.
struct Installation {
    state: &'static str,
    data: PathBuf,
    /// A PostgreSQL store instead of the embedded one.
    database: Option<String>,
    addr: std::net::SocketAddr,
    running: Option<Running>,
}

struct Running {
    app: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Installation {
    fn init(root: &std::path::Path, state: &'static str, database: Option<String>) -> Installation {
        let data = root.join(state);
        let at = Location {
            dir: data.clone(),
            database: database.clone(),
        };
        Node::init_at(&at, state, None, &SystemClock).unwrap();
        // A free port, reserved by binding and released: the node's address in its peers'
        // directories, also while it is down.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        Installation {
            state,
            data,
            database,
            addr,
            running: None,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn location(&self) -> Location {
        Location {
            dir: self.data.clone(),
            database: self.database.clone(),
        }
    }

    fn node(&self) -> Node {
        Node::open_at(&self.location()).unwrap()
    }

    fn public(&self) -> String {
        federation::identity(&self.node())
            .unwrap()
            .public()
            .to_canonical_json()
    }

    fn knows(&self, other: &Installation) {
        let mut node = self.node();
        let now = SystemClock.now_rfc3339_text();
        federation::add_peer(&mut node, &other.public(), &other.url(), false, &now).unwrap();
    }

    fn start(&mut self, rt: &tokio::runtime::Runtime) {
        let app = AppState::open_at(
            &self.location(),
            Arc::new(SystemClock),
            1 << 20,
            AuthConfig::default(),
        )
        .unwrap();
        // Quick retries, so that the test does not wait out the production back-off.
        app.set_retry_policy(RetryPolicy {
            first_delay: time::Duration::milliseconds(100),
            max_delay: time::Duration::milliseconds(400),
        });
        let server = rt
            .block_on(Server::bind_with_state(self.addr, app.clone()))
            .unwrap();
        let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = rt.spawn(server.run(async {
            let _ = rx.await;
        }));
        self.running = Some(Running {
            app,
            shutdown,
            handle,
        });
    }

    fn stop(&mut self, rt: &tokio::runtime::Runtime) {
        if let Some(r) = self.running.take() {
            r.shutdown.send(()).unwrap();
            rt.block_on(r.handle).unwrap().unwrap();
        }
    }

    fn nudge(&self) {
        if let Some(r) = &self.running {
            r.app.nudge_delivery();
        }
    }

    /// The trace's status on this node, if it has it.
    fn status(&self, key: &str) -> Option<String> {
        self.node().store.trace(key).unwrap().map(|t| t.status)
    }

    /// Waits until the trace has `status` here (deliveries are asynchronous).
    fn wait_for(&self, key: &str, status: &str) {
        for _ in 0..500 {
            if self.status(key).as_deref() == Some(status) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{}: trace {key} is {:?}, not {status}; outbox: {:#?}",
            self.state,
            self.status(key),
            self.node().store.outbox().unwrap()
        );
    }

    /// The federation entries of this node's audit log.
    fn federation_audit(&self) -> Vec<Value> {
        self.node()
            .store
            .audit_entries(0, 10_000, &AuditFilter::default())
            .unwrap()
            .into_iter()
            .map(|row| serde_json::from_slice::<Value>(&row.data).unwrap())
            .filter(|e| e["action"] == "federation_receive")
            .collect()
    }
}

/// RFC 3339 text of the wall clock.
trait NowText {
    fn now_rfc3339_text(&self) -> String;
}

impl NowText for SystemClock {
    fn now_rfc3339_text(&self) -> String {
        tracemark_registry::Clock::now_rfc3339(self)
    }
}

fn now() -> time::OffsetDateTime {
    traces::now_of(&SystemClock).unwrap()
}

/// China's registry: the rifle, made in 1978 and exported to Ethiopia in 1985.
const CN_REGISTRY: &str = r#"{"record":"item","key":"CN-NOR-5612345","kind":"firearm","type":"assault_rifle","make":"Norinco","model":"Type 56-1","calibre":"7.62x39mm","country_of_manufacture":"CN","year_of_manufacture":1978,"markings":[{"kind":"serial","text":"5612345","component":"receiver"},{"kind":"factory_code","text":"66","component":"receiver"}]}
{"record":"event","id":"mf-5612345","item":"CN-NOR-5612345","type":"manufactured","date":"1978","to":{"name":"Norinco","country":"CN","kind":"manufacturer"}}
{"record":"event","id":"ex-85-77-0001","item":"CN-NOR-5612345","type":"exported","date":"1985-06","from":{"name":"China North Industries","country":"CN","kind":"exporter"},"to":{"name":"Ministry of Defence","country":"ET","kind":"state_agency"},"documents":[{"kind":"export_licence","number":"EL-85/77","issued_by":"CN"}]}
"#;

fn import(inst: &Installation, jsonl: &str) {
    let file = inst.data.join("registry.jsonl");
    std::fs::write(&file, jsonl).unwrap();
    let mut node = inst.node();
    tracemark_registry::import::import(
        &mut node,
        &[file],
        &tracemark_registry::import::ImportOptions::default(),
        &SystemClock,
    )
    .unwrap();
}

/// The requested side's officer: acknowledges, then answers with the draft from the registry.
fn answer_from_registry(inst: &Installation, key: &str) -> Answer {
    let mut node = inst.node();
    let t = traces::load(&node, key).unwrap().unwrap();
    let request = t.state.request().clone();
    let index = tracemark_registry::search::open(&node).unwrap();
    let draft =
        tracemark_registry::tracing::draft_answer(&node, &index.index, &request, None).unwrap();
    let answer: Answer = serde_json::from_value(draft.answer.clone()).unwrap();
    traces::answer(
        &mut node,
        key,
        Actor::ThisNode,
        answer.clone(),
        None,
        "cli:officer",
        now(),
    )
    .unwrap();
    answer
}

// The test's own thread takes the officers' steps on nodes it opens; the servers run on a
// runtime of their own, entered only to start, stop and call them (the synchronous
// PostgreSQL client may not run inside a runtime).
#[test]
fn kenya_traces_a_rifle_through_china_to_ethiopia() {
    exchange(None);
}

/// The same with Kenya's node on PostgreSQL (the others embedded).
#[test]
fn kenya_on_postgresql_traces_a_rifle_through_china_to_ethiopia() {
    let Some(url) = fresh_database() else { return };
    exchange(Some(url));
}

/// A fresh database on the test server, or `None` (said loudly, or a failure under
/// `TRACEMARK_TEST_REQUIRE_POSTGRES=1`) when there is none.
fn fresh_database() -> Option<String> {
    let Ok(server) = std::env::var("TRACEMARK_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("TRACEMARK_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TRACEMARK_TEST_DATABASE_URL is not set"
        );
        eprintln!("*** NOT RUN: TRACEMARK_TEST_DATABASE_URL is not set ***");
        return None;
    };
    let name = format!("tm_three_{}", std::process::id());
    let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = server.split('?').next().unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

fn exchange(ke_database: Option<String>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let mut ke = Installation::init(root.path(), "KE", ke_database);
    let mut cn = Installation::init(root.path(), "CN", None);
    let mut et = Installation::init(root.path(), "ET", None);
    let mut ug = Installation::init(root.path(), "UG", None);
    // Kenya knows everyone; the others know Kenya (administrators exchanged identities).
    for other in [&cn, &et, &ug] {
        ke.knows(other);
        other.knows(&ke);
    }
    import(&cn, CN_REGISTRY);
    ke.start(&rt);
    cn.start(&rt);
    ug.start(&rt);
    // Ethiopia's server is down for now.

    // Kenya drafts the request and sends it to China.
    let mut request: TraceRequest =
        serde_json::from_str(tracemark_trace::request::EXAMPLE).unwrap();
    request.id = tracemark_trace::text::TraceId::parse("KE-DCI-2024-0117").unwrap();
    let key = "KE:KE-DCI-2024-0117";
    {
        let mut node = ke.node();
        let drafted = traces::draft(&mut node, request, "cli:otieno", now()).unwrap();
        assert_eq!(
            (drafted.key.as_str(), drafted.status.as_str()),
            (key, "draft")
        );
        let sent =
            traces::send(&mut node, key, &[cc("CN")], Vec::new(), "cli:otieno", now()).unwrap();
        assert_eq!(sent.queued_for, vec!["CN"]);
        assert!(sent.not_federated.is_empty());
    }
    ke.nudge();
    // China's receipt comes back: delivered on Kenya's side; China has the request.
    ke.wait_for(key, "delivered");
    cn.wait_for(key, "sent");
    assert_eq!(
        cn.node().store.trace(key).unwrap().unwrap().role,
        "requested"
    );

    // China acknowledges, then answers from its registry.
    {
        let mut node = cn.node();
        traces::acknowledge(&mut node, key, Actor::ThisNode, None, "cli:li", now()).unwrap();
    }
    cn.nudge();
    ke.wait_for(key, "acknowledged");
    let answer = answer_from_registry(&cn, key);
    let summary = serde_json::to_value(&answer).unwrap()["outcome"]["findings"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(summary.contains("1985-06"), "{summary}");
    assert!(summary.contains("ET"), "{summary}");
    assert!(summary.contains("EL-85/77"), "{summary}");
    cn.nudge();
    ke.wait_for(key, "answered");
    {
        let t = traces::load(&ke.node(), key).unwrap().unwrap();
        let got = t.state.sent().unwrap().exchange(cc("CN")).unwrap();
        assert_eq!(got.latest_answer().unwrap().answer, answer);
    }

    // Kenya chains to Ethiopia in one step, while Ethiopia is down.
    let chained = {
        let mut node = ke.node();
        traces::chain(&mut node, key, None, &[cc("ET")], None, "cli:otieno", now()).unwrap()
    };
    assert_eq!(chained.key, "KE:KE-DCI-2024-0117-ET");
    let chained_key = chained.key.clone();
    ke.nudge();
    // Attempts fail and back off; nothing is lost.
    for _ in 0..200 {
        let rows = ke.node().store.outbox().unwrap();
        let row = rows.iter().find(|r| r.trace == chained_key).unwrap();
        if row.attempts >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let waiting = ke.node().store.outbox().unwrap();
    let waiting = waiting.iter().find(|r| r.trace == chained_key).unwrap();
    assert!(waiting.attempts >= 2, "{waiting:#?}");
    assert!(waiting.delivered_at.is_none() && waiting.refused.is_none());
    assert_eq!(ke.status(&chained_key).as_deref(), Some("sent"));

    // Ethiopia comes back and receives the request exactly once.
    et.start(&rt);
    ke.wait_for(&chained_key, "delivered");
    et.wait_for(&chained_key, "sent");
    {
        let node = et.node();
        let records = node.store.trace_records(&chained_key).unwrap();
        assert_eq!(records.len(), 1, "one 'sent' record on Ethiopia's side");
        let t = traces::load(&node, &chained_key).unwrap().unwrap();
        assert_eq!(
            t.state.request().parent_trace.as_ref().unwrap().as_str(),
            "KE-DCI-2024-0117"
        );
        assert_eq!(
            t.state.request().case_reference.as_str(),
            "CR 45/2024 Isiolo"
        );
        let from_ke = et
            .federation_audit()
            .into_iter()
            .filter(|e| e["principal"] == "peer:KE" && e["decision"] == "allow")
            .collect::<Vec<_>>();
        assert_eq!(from_ke.len(), 1, "{from_ke:#?}");
        assert_eq!(from_ke[0]["reasons"], serde_json::json!(["new"]));
    }

    // Ethiopia acknowledges and answers (no record: the answer says what was searched).
    {
        let mut node = et.node();
        traces::acknowledge(
            &mut node,
            &chained_key,
            Actor::ThisNode,
            None,
            "cli:abebe",
            now(),
        )
        .unwrap();
        let none: Answer = serde_json::from_value(serde_json::json!({
            "outcome": {"kind": "no_record", "searched": "Ministry of Defence import register 1980-1990"}
        }))
        .unwrap();
        traces::answer(
            &mut node,
            &chained_key,
            Actor::ThisNode,
            none,
            None,
            "cli:abebe",
            now(),
        )
        .unwrap();
    }
    et.nudge();
    ke.wait_for(&chained_key, "answered");

    // Kenya closes both with feedback; each requested state is told.
    {
        let mut node = ke.node();
        let useful: Vec<Feedback> = serde_json::from_value(serde_json::json!([
            {"state": "CN", "rating": 5}
        ]))
        .unwrap();
        traces::close(&mut node, key, useful, "cli:otieno", now()).unwrap();
        let partly: Vec<Feedback> = serde_json::from_value(serde_json::json!([
            {"state": "ET", "rating": 2, "comment": "the import register is incomplete"}
        ]))
        .unwrap();
        traces::close(&mut node, &chained_key, partly, "cli:otieno", now()).unwrap();
    }
    ke.nudge();
    cn.wait_for(key, "closed");
    et.wait_for(&chained_key, "closed");

    // Uganda, a peer of Kenya, holds nothing of either trace and can open none of the
    // messages Kenya sent (it has them in hand, as a relay would).
    assert!(ug.node().store.traces().unwrap().is_empty());
    let ug_identity = federation::identity(&ug.node()).unwrap();
    let ug_directory = federation::directory(&ug.node()).unwrap();
    let sent = ke.node().store.outbox().unwrap();
    assert!(sent.len() >= 4);
    for row in &sent {
        let env = Envelope::from_json(&row.envelope).unwrap();
        let refused =
            tracemark_federation::envelope::open(&env, &ug_identity, &ug_directory).unwrap_err();
        assert_eq!(refused.code(), "not_addressed_to_me", "{refused}");
        // Readdressing it to Uganda breaks Kenya's signature.
        let mut readdressed = env.clone();
        readdressed.to = vec!["KE".into(), "UG".into()];
        let refused =
            tracemark_federation::envelope::open(&readdressed, &ug_identity, &ug_directory)
                .unwrap_err();
        assert_eq!(refused.code(), "bad_signature", "{refused}");
    }

    // A replay of China's answer to Kenya is answered with the first receipt and changes
    // nothing; a message tampered in transit and one Uganda forges as China's are refused
    // and logged.
    let post = |body: Vec<u8>| -> (u16, String) {
        rt.block_on(async {
            let r = reqwest::Client::new()
                .post(format!("http://{}/api/v1/federation/inbox", ke.addr))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let cn_outbox = cn.node().store.outbox().unwrap();
    let answer_row = cn_outbox.iter().find(|r| r.kind == "answer").unwrap();
    let before = ke.node().store.trace_log_size().unwrap();
    let (status, body) = post(answer_row.envelope.clone());
    assert_eq!(status, 200);
    assert_eq!(body, answer_row.receipt.clone().unwrap());
    assert_eq!(ke.node().store.trace_log_size().unwrap(), before);
    let mut tampered = Envelope::from_json(&answer_row.envelope).unwrap();
    tampered.id = "00000000000000000000000000000001".into();
    let (status, _) = post(tampered.to_json().into_bytes());
    assert_eq!(status, 401);
    let forged = tracemark_federation::seal(
        &ug_identity,
        std::slice::from_ref(federation::identity(&ke.node()).unwrap().public()),
        tracemark_federation::MessageKind::Answer,
        tracemark_federation::MessageId::random(&mut rand_core::OsRng).unwrap(),
        now(),
        br#"{"v":1,"requesting_state":"KE","trace":"KE-DCI-2024-0117","event":{"event":"answered","at":"2026-12-04T10:00:00Z","by":"CN","answer":{"outcome":{"kind":"no_record","searched":"nothing"}}}}"#,
    )
    .unwrap();
    let (status, body) = post(forged.to_json().into_bytes());
    assert_eq!(status, 422);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["rejection"], "not_applicable", "{v}");
    assert_eq!(ke.node().store.trace_log_size().unwrap(), before);
    let audit = ke.federation_audit();
    let last_three: Vec<(&str, &str)> = audit[audit.len() - 3..]
        .iter()
        .map(|e| {
            (
                e["decision"].as_str().unwrap(),
                e["reasons"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        last_three,
        vec![
            ("allow", "duplicate"),
            ("deny", "bad_signature"),
            ("deny", "not_applicable")
        ]
    );

    // Every node's trace log verifies, and its traces are recomputed from it.
    for inst in [&ke, &cn, &et, &ug] {
        let report = tracemark_registry::verify::verify(&inst.node(), None).unwrap();
        assert!(report.ok, "{}: {:?}", inst.state, report.error);
    }
    // Kenya's view of the case: two traces, one chained from the other, both closed.
    let rows = ke.node().store.traces().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.status == "closed" && r.case_reference == "CR 45/2024 Isiolo"));
    let child = rows.iter().find(|r| r.key == chained_key).unwrap();
    assert_eq!(child.parent.as_deref(), Some(key));

    for inst in [&mut ke, &mut cn, &mut et, &mut ug] {
        inst.stop(&rt);
    }

    // A trace's projection edited behind the engine's back is caught by verification.
    match &ke.database {
        None => {
            let db = rusqlite::Connection::open(ke.data.join("tracemark.db")).unwrap();
            db.execute(
                "UPDATE traces SET status = 'answered' WHERE key = ?1",
                [&chained_key],
            )
            .unwrap();
        }
        Some(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            c.execute(
                "UPDATE traces SET status = 'answered' WHERE key = $1",
                &[&chained_key],
            )
            .unwrap();
        }
    }
    let report = tracemark_registry::verify::verify(&ke.node(), None).unwrap();
    assert!(!report.ok);
    let error = report.error.unwrap();
    assert!(error.contains(&chained_key), "{error}");
}

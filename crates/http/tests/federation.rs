//! The federation inbox end to end: the real server on a free loopback port (Kenya's node),
//! and peers played by identities generated in the test, sealing envelopes with
//! `tracemark_federation` as a peer's outbox would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use base64::Engine;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tracemark_domain::ids::CountryCode;
use tracemark_federation::{
    seal, Directory, Envelope, MessageId, MessageKind, NodeIdentity, Peer, PeerUrl, PublicIdentity,
    Receipt,
};
use tracemark_http::{AppState, Server};
use tracemark_registry::{federation, FixedClock, Location, Node};
use tracemark_store::AuditFilter;

/// The server's clock.
const NOW: OffsetDateTime = datetime!(2026-12-04 10:00:00 UTC);
const NOW_TEXT: &str = "2026-12-04T10:00:00Z";
/// The server's body limit in these tests.
const LIMIT: usize = 64 * 1024;

struct Inbox {
    base: String,
    data: PathBuf,
    /// The PostgreSQL store, when not the embedded one.
    database: Option<String>,
    /// The server's public identity, as its `federation.key` holds it.
    me: PublicIdentity,
    /// A peer in the server's directory.
    ug: NodeIdentity,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

fn identity(state: &str) -> NodeIdentity {
    NodeIdentity::generate(CountryCode::parse(state).unwrap(), &mut rand_core::OsRng).unwrap()
}

/// Initialises a KE node at `at` with UG (`ug_public`) in its directory; returns KE's public
/// identity.
fn init_ke_knowing(at: &Location, ug_public: &str) -> PublicIdentity {
    let clock = FixedClock(NOW_TEXT.into());
    let mut node = Node::init_at(at, "KE", None, &clock).unwrap();
    federation::add_peer(&mut node, ug_public, "https://ug.example/", false, NOW_TEXT).unwrap();
    federation::identity(&node).unwrap().public().clone()
}

impl Inbox {
    async fn start() -> Inbox {
        let dir = tempfile::tempdir().unwrap();
        let at = Location::embedded(dir.path().join("data"));
        let ug = identity("UG");
        let init = at.clone();
        let ug_public = ug.public().to_canonical_json();
        let me = tokio::task::spawn_blocking(move || init_ke_knowing(&init, &ug_public))
            .await
            .unwrap();
        Inbox::serve(at, me, ug, dir).await
    }

    /// Serves the node at `at` (already initialised, `ug` in its directory).
    async fn serve(
        at: Location,
        me: PublicIdentity,
        ug: NodeIdentity,
        dir: tempfile::TempDir,
    ) -> Inbox {
        // reqwest is built without a crypto provider of its own (see api.rs).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let data = at.dir.clone();
        let database = at.database.clone();
        let state = tokio::task::spawn_blocking(move || {
            AppState::open_at(
                &at,
                Arc::new(FixedClock(NOW_TEXT.into())),
                LIMIT,
                tracemark_http::AuthConfig::default(),
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
        let inbox = Inbox {
            base: format!("http://{addr}"),
            data,
            database,
            me,
            ug,
            shutdown,
            handle,
            _dir: dir,
        };
        inbox.wait_ready().await;
        inbox
    }

    async fn wait_ready(&self) {
        for _ in 0..500 {
            if let Ok(r) = reqwest::get(format!("{}/api/v1/health", self.base)).await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the server did not become ready");
    }

    /// Posts a body to the inbox, with no credential: (status, content type, body).
    async fn deliver(&self, body: impl Into<reqwest::Body>) -> (u16, String, String) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/federation/inbox", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }

    /// Delivers an envelope expected to be refused; checks the error document and returns
    /// its `rejection` code.
    async fn refused(&self, body: String, status: u16, code: &str) -> String {
        let (got, ct, text) = self.deliver(body).await;
        assert_eq!(got, status, "{text}");
        assert_eq!(ct, "application/json", "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], code, "{text}");
        assert!(
            !v["error"]["message"].as_str().unwrap().is_empty(),
            "{text}"
        );
        assert!(v["error"]["request_id"].as_str().is_some(), "{text}");
        v["rejection"].as_str().unwrap().to_owned()
    }

    /// The inbox's entries in the audit log, read from the store, oldest first.
    fn audit(&self) -> Vec<Value> {
        self.with_node(|node| {
            node.store
                .audit_entries(0, 10_000, &AuditFilter::default())
                .unwrap()
        })
        .into_iter()
        .map(|row| serde_json::from_slice::<Value>(&row.data).unwrap())
        .filter(|e| e["action"] == "federation_receive")
        .collect()
    }

    /// Runs `f` on the node, opened beside the server, on a blocking thread (the synchronous
    /// PostgreSQL client runs a runtime of its own, which may not start or stop on an async
    /// thread).
    fn with_node<R>(&self, f: impl FnOnce(&Node) -> R) -> R {
        let at = Location {
            dir: self.data.clone(),
            database: self.database.clone(),
        };
        tokio::task::block_in_place(|| f(&Node::open_at(&at).unwrap()))
    }

    async fn stop(self) {
        self.shutdown.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
    }
}

/// A trace request from `from` to `readers`, created at `at`: the example request, made
/// `from`'s, with a trace id of its own per message.
fn sealed(from: &NodeIdentity, readers: &[PublicIdentity], at: OffsetDateTime) -> Envelope {
    use tracemark_trace::completeness::clear_for_sending;
    use tracemark_trace::routing::ConfirmedRecipients;
    let id = MessageId::random(&mut rand_core::OsRng).unwrap();
    let trace = format!("{}-TR-{id}", from.state());
    let mut v: Value = serde_json::from_str(tracemark_trace::request::EXAMPLE).unwrap();
    v["id"] = trace.clone().into();
    v["requesting_state"] = from.state().as_str().into();
    let request: tracemark_trace::request::TraceRequest = serde_json::from_value(v).unwrap();
    let to = ConfirmedRecipients::confirm(from.state(), readers.iter().map(|r| r.state())).unwrap();
    let dispatch = clear_for_sending(request, to, Vec::new()).unwrap();
    let payload = serde_json::json!({
        "v": 1,
        "requesting_state": from.state().as_str(),
        "trace": trace,
        "event": tracemark_trace::lifecycle::TraceEvent::Sent { at, dispatch },
    });
    seal(
        from,
        readers,
        MessageKind::TraceRequest,
        id,
        at,
        payload.to_string().as_bytes(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_is_public() {
    let s = Inbox::start().await;
    let r = reqwest::get(format!("{}/api/v1/federation/identity", s.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    // The OpenAPI schema describes the answer.
    let doc: tracemark_http::schema::FederationIdentity = serde_json::from_str(&text).unwrap();
    assert_eq!(doc.identity.state, "KE");
    let v: Value = serde_json::from_str(&text).unwrap();
    let published = PublicIdentity::from_json(&v["identity"].to_string()).unwrap();
    assert_eq!(published, s.me);
    assert_eq!(v["fingerprint"], s.me.fingerprint().grouped());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_gets_one_receipt_and_is_stored_once() {
    let s = Inbox::start().await;
    let env = sealed(
        &s.ug,
        std::slice::from_ref(&s.me),
        NOW - Duration::minutes(2),
    );
    let json = env.to_json();
    let (status, ct, first) = s.deliver(json.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(ct, "application/json");
    // The receipt verifies under the server's public identity, for this exact envelope.
    let receipt: Receipt = serde_json::from_str(&first).unwrap();
    let described: tracemark_http::schema::DeliveryReceipt = serde_json::from_str(&first).unwrap();
    assert_eq!(described.signature, receipt.signature);
    let mut as_ug_knows_it = Directory::new();
    as_ug_knows_it
        .add(Peer {
            identity: s.me.clone(),
            url: PeerUrl::parse(&s.base).unwrap(),
        })
        .unwrap();
    let verified = receipt.verify(&env, &as_ug_knows_it).unwrap();
    assert_eq!(verified.receiver.as_str(), "KE");
    assert_eq!(verified.message_id.to_string(), env.id);
    assert_eq!(verified.received_at, NOW);
    assert_eq!(verified.digest, env.digest());

    // Again: the identical receipt, and still one row, as first stored.
    let (status, _, again) = s.deliver(json.clone()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first);
    let row = s.with_node(|node| node.store.inbox_get("UG", &env.id).unwrap().unwrap());
    assert_eq!(row.receipt, first);
    assert_eq!(row.envelope, json.as_bytes());
    assert_eq!(row.kind, "trace_request");
    assert_eq!(row.received_at, NOW_TEXT);

    let audit = s.audit();
    assert_eq!(audit.len(), 2, "{audit:?}");
    for (entry, reason) in audit.iter().zip(["new", "duplicate"]) {
        assert_eq!(entry["principal"], "peer:UG");
        assert_eq!(entry["decision"], "allow");
        assert_eq!(entry["resource"], format!("message:{}", env.id));
        assert_eq!(entry["reasons"], serde_json::json!([reason]));
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_unknown_misaddressed_and_stale_messages_are_refused_and_logged() {
    let s = Inbox::start().await;
    let me = std::slice::from_ref(&s.me);
    let good = sealed(&s.ug, me, NOW - Duration::minutes(1));
    let mut expected: Vec<(String, &str)> = Vec::new();

    // A ciphertext byte flipped.
    let mut env = good.clone();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bytes = b64.decode(&env.ciphertext).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    env.ciphertext = b64.encode(bytes);
    assert_eq!(
        s.refused(env.to_json(), 401, "unauthenticated").await,
        "bad_signature"
    );
    expected.push(("peer:UG".into(), "bad_signature"));

    // `to` changed (a reader added), `created_at` moved.
    let mut env = good.clone();
    env.to.push("TZ".into());
    env.to.sort();
    assert_eq!(
        s.refused(env.to_json(), 401, "unauthenticated").await,
        "bad_signature"
    );
    expected.push(("peer:UG".into(), "bad_signature"));
    let mut env = good.clone();
    env.created_at = "2026-12-04T09:59:30Z".into();
    assert_eq!(
        s.refused(env.to_json(), 401, "unauthenticated").await,
        "bad_signature"
    );
    expected.push(("peer:UG".into(), "bad_signature"));

    // A state that is not in the directory.
    let tz = identity("TZ");
    let env = sealed(&tz, me, NOW);
    assert_eq!(
        s.refused(env.to_json(), 401, "unauthenticated").await,
        "unknown_sender"
    );
    expected.push(("peer:TZ".into(), "unknown_sender"));

    // An authentic message from a peer, for other states.
    let env = sealed(&s.ug, std::slice::from_ref(tz.public()), NOW);
    assert_eq!(
        s.refused(env.to_json(), 403, "forbidden").await,
        "not_addressed_to_me"
    );
    expected.push(("peer:UG".into(), "not_addressed_to_me"));

    // Too old (eight days), too new (an hour ahead).
    let env = sealed(&s.ug, me, NOW - Duration::days(8));
    assert_eq!(
        s.refused(env.to_json(), 422, "unprocessable").await,
        "too_old"
    );
    expected.push(("peer:UG".into(), "too_old"));
    let env = sealed(&s.ug, me, NOW + Duration::hours(1));
    assert_eq!(
        s.refused(env.to_json(), 422, "unprocessable").await,
        "too_new"
    );
    expected.push(("peer:UG".into(), "too_new"));

    // Not an envelope; another version; larger than the limit.
    assert_eq!(s.refused("{".into(), 400, "bad_request").await, "malformed");
    expected.push(("peer:unknown".into(), "malformed"));
    let mut v: Value = serde_json::from_str(&good.to_json()).unwrap();
    v["v"] = 2.into();
    assert_eq!(
        s.refused(v.to_string(), 400, "bad_request").await,
        "unsupported_version"
    );
    expected.push(("peer:UG".into(), "unsupported_version"));
    assert_eq!(
        s.refused("x".repeat(LIMIT + 1), 413, "payload_too_large")
            .await,
        "too_large"
    );
    expected.push(("peer:unknown".into(), "too_large"));

    // Nothing was stored, and the genuine message is still accepted afterwards.
    {
        assert!(s.with_node(|node| node.store.inbox_get("UG", &good.id).unwrap().is_none()));
    }
    let (status, _, body) = s.deliver(good.to_json()).await;
    assert_eq!(status, 200, "{body}");

    // Each refusal is in the audit log, in order, before the acceptance.
    let audit = s.audit();
    assert_eq!(audit.len(), expected.len() + 1, "{audit:#?}");
    for (entry, (principal, code)) in audit.iter().zip(&expected) {
        assert_eq!(&entry["principal"], principal.as_str(), "{entry}");
        assert_eq!(entry["decision"], "deny", "{entry}");
        assert_eq!(entry["reasons"], serde_json::json!([code]), "{entry}");
    }
    let last = audit.last().unwrap();
    assert_eq!(last["decision"], "allow");
    assert_eq!(last["resource"], format!("message:{}", good.id));
    s.stop().await;
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
    let name = format!("tm_inbox_{}", std::process::id());
    let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = server.split('?').next().unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

/// Two app servers on one PostgreSQL database (each with a copy of the keys), given the same
/// messages at the same moment: every answer is 200, both servers give the same receipt for a
/// message, and each message is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_give_one_receipt_per_message() {
    let Some(url) = tokio::task::spawn_blocking(fresh_database).await.unwrap() else {
        return;
    };
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let at_a = Location {
        dir: dir_a.path().join("data"),
        database: Some(url.clone()),
    };
    let at_b = Location {
        dir: dir_b.path().join("data"),
        database: Some(url),
    };
    let ug = identity("UG");
    let ug_public = ug.public().to_canonical_json();
    let (init, copy_to) = (at_a.clone(), at_b.dir.clone());
    let me = tokio::task::spawn_blocking(move || {
        let me = init_ke_knowing(&init, &ug_public);
        std::fs::create_dir_all(&copy_to).unwrap();
        for file in ["node.key", "federation.key"] {
            std::fs::copy(init.dir.join(file), copy_to.join(file)).unwrap();
        }
        me
    })
    .await
    .unwrap();
    let ug_b = NodeIdentity::from_secret_text(&ug.to_secret_text()).unwrap();
    let a = Inbox::serve(at_a, me.clone(), ug, dir_a).await;
    let b = Inbox::serve(at_b, me, ug_b, dir_b).await;
    let a = Arc::new(a);
    let b = Arc::new(b);
    for _ in 0..20 {
        let env = sealed(&a.ug, std::slice::from_ref(&a.me), NOW);
        let json = env.to_json();
        let (ra, rb) = tokio::join!(a.deliver(json.clone()), b.deliver(json.clone()));
        assert_eq!(ra.0, 200, "{}", ra.2);
        assert_eq!(rb.0, 200, "{}", rb.2);
        assert_eq!(ra.2, rb.2, "one receipt per message");
        let row = a.with_node(|node| node.store.inbox_get("UG", &env.id).unwrap().unwrap());
        assert_eq!(row.receipt, ra.2);
    }
    // Twenty messages, forty deliveries: twenty `new` and twenty `duplicate` in the log.
    let audit = a.audit();
    assert_eq!(audit.len(), 40);
    let new = audit.iter().filter(|e| e["reasons"][0] == "new").count();
    assert_eq!(new, 20, "{audit:#?}");
    let (Ok(a), Ok(b)) = (Arc::try_unwrap(a), Arc::try_unwrap(b)) else {
        panic!("the servers are still shared")
    };
    a.stop().await;
    b.stop().await;
}

/// An app server whose data folder holds another `federation.key` than the one the node was
/// set up with refuses to start: peers would otherwise see two nodes claiming one state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_another_federation_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let at = Location::embedded(dir.path().join("data"));
    let ug = identity("UG");
    let init = at.clone();
    let ug_public = ug.public().to_canonical_json();
    tokio::task::spawn_blocking(move || init_ke_knowing(&init, &ug_public))
        .await
        .unwrap();
    let key = at.dir.join(tracemark_federation::identity::IDENTITY_FILE);
    let other = tempfile::tempdir().unwrap();
    federation::create(other.path(), CountryCode::parse("KE").unwrap()).unwrap();
    std::fs::remove_file(&key).unwrap();
    std::fs::copy(
        other
            .path()
            .join(tracemark_federation::identity::IDENTITY_FILE),
        &key,
    )
    .unwrap();
    let opened = tokio::task::spawn_blocking(move || {
        AppState::open_at(
            &at,
            Arc::new(FixedClock(NOW_TEXT.into())),
            LIMIT,
            tracemark_http::AuthConfig::default(),
        )
    })
    .await
    .unwrap();
    let error = opened.err().expect("the server started").to_string();
    assert!(error.contains("same federation.key"), "{error}");
}

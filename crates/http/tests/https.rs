//! HTTPS end to end: the real server (`Server::bind` with a certificate, as `tracemark serve
//! --tls-cert --tls-key` runs it) on a free loopback port, with a self-signed certificate
//! made at test time, spoken to by clients that trust exactly that certificate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracemark_access::accounts;
use tracemark_http::{Server, ServerConfig, TlsError, TlsFiles};
use tracemark_registry::{FixedClock, Node};

const PASSWORD: &str = "correct horse battery staple";

/// rustls' `ring` provider for the clients (the server names its own; reqwest is built
/// without a provider of its own).
fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
}

/// Writes a certificate and its key as `cert.pem` and `key.pem` in `dir`.
fn write_pair(dir: &Path) -> (TlsFiles, String) {
    let (cert, key) = self_signed();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, &cert).unwrap();
    std::fs::write(&files.key, &key).unwrap();
    (files, cert)
}

/// A fresh node with one agency and one account (`alice`, an investigator, no second factor).
fn fresh_node(data: &Path) {
    drop(Node::init(data, "KE", None, &FixedClock("2026-01-01T00:00:00Z".into())).unwrap());
    let mut node = Node::open(data).unwrap();
    let store = node.store.as_mut();
    let now = "2026-01-01T00:00:00Z";
    accounts::add_agency(store, "police", "police", None, Some("police"), false, now).unwrap();
    accounts::add_user(store, "alice", "police", "investigator", PASSWORD, now).unwrap();
}

/// A reqwest client that trusts only `cert_pem`.
fn trusting(cert_pem: &str) -> reqwest::Client {
    install_provider();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

struct Running {
    addr: SocketAddr,
    scheme: &'static str,
    /// Trusts the server's certificate.
    client: reqwest::Client,
    cert_pem: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Running {
    /// `tls`: serve HTTPS with a fresh self-signed certificate; else plain HTTP.
    async fn start(tls: bool) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let seed = data.clone();
        tokio::task::spawn_blocking(move || fresh_node(&seed))
            .await
            .unwrap();
        let (files, cert_pem) = write_pair(dir.path());
        let mut config = ServerConfig::new(&data);
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.tls = tls.then_some(files);
        let server = Server::bind(config).await.unwrap();
        assert_eq!(server.is_tls(), tls);
        let scheme = server.scheme();
        let addr = server.local_addr().unwrap();
        let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        Running {
            addr,
            scheme,
            client: trusting(&cert_pem),
            cert_pem,
            shutdown,
            handle,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Signs `alice` in: (status, the `Set-Cookie` of the session, body).
    async fn sign_in(&self) -> (u16, String, String) {
        let r = self
            .client
            .post(self.url("/api/v1/session"))
            .header("content-type", "application/json")
            .body(serde_json::json!({"username": "alice", "password": PASSWORD}).to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let cookie = r
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, cookie, r.text().await.unwrap())
    }

    async fn stop(self) {
        self.shutdown.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_over_https_and_plain_http_is_refused() {
    let s = Running::start(true).await;
    assert_eq!(s.scheme, "https");
    let r = s.client.get(s.url("/api/v1/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["status"], "ok", "{v}");
    // The same port does not speak plain HTTP.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/api/v1/health", s.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    // A client that does not trust the certificate (it trusts another one) is refused.
    let (other, _) = self_signed();
    let stranger = trusting(&other).get(s.url("/api/v1/health")).send().await;
    assert!(stranger.is_err(), "an untrusted certificate was accepted");
    // And the server still answers after those failed handshakes.
    let r = s.client.get(s.url("/api/v1/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_over_https_only() {
    let s = Running::start(true).await;
    let (status, cookie, body) = s.sign_in().await;
    assert_eq!(status, 200, "{body}");
    assert!(cookie.starts_with("tracemark_session="), "{cookie}");
    let attrs: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&attr), "{attr} missing: {cookie}");
    }
    // The session works over HTTPS, and signing out clears the cookie, `Secure` too.
    let pair = cookie.split(';').next().unwrap().to_owned();
    let r = s
        .client
        .get(s.url("/api/v1/session"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .delete(s.url("/api/v1/session"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let cleared = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(
        cleared.split(';').any(|a| a.trim() == "Secure"),
        "{cleared}"
    );
    s.stop().await;

    // Plain HTTP (on loopback): no `Secure`, or the browser would never send it back.
    let plain = Running::start(false).await;
    assert_eq!(plain.scheme, "http");
    let (status, cookie, body) = plain.sign_in().await;
    assert_eq!(status, 200, "{body}");
    assert!(cookie.starts_with("tracemark_session="), "{cookie}");
    assert!(!cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");
    plain.stop().await;
}

/// A TLS connection of our own, to hold a request half sent across the shutdown.
async fn tls_connect(
    addr: SocketAddr,
    cert_pem: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_over_https_finishes_the_request_in_flight() {
    let s = Running::start(true).await;
    let addr = s.addr;
    let mut conn = tls_connect(addr, &s.cert_pem).await;
    let body = serde_json::json!({"username": "alice", "password": PASSWORD}).to_string();
    // `Expect: 100-continue`: the server says `100 Continue` when the handler starts reading
    // the body, so once it has, the request is in flight for certain.
    let head = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut byte))
            .await
            .expect("no 100 Continue")
            .unwrap();
        assert_eq!(n, 1, "closed early: {}", String::from_utf8_lossy(&interim));
        interim.push(byte[0]);
    }
    let interim = String::from_utf8_lossy(&interim);
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    let (first, rest) = body.split_at(10);
    conn.write_all(first.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    s.shutdown.send(()).unwrap();
    // A new connection is soon no longer accepted (the listener is closed)...
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "still accepting connections after the shutdown began"
    );
    // ...but the server waits for the request in flight.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !s.handle.is_finished(),
        "the server stopped with a request in flight"
    );
    conn.write_all(rest.as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap_or_default();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("tracemark_session=") && answer.contains("; Secure"),
        "{answer}"
    );
    // The answer given, the server stops.
    tokio::time::timeout(std::time::Duration::from_secs(10), s.handle)
        .await
        .expect("the server did not stop after the request in flight")
        .unwrap()
        .unwrap();
}

/// `TlsFiles::load` on a certificate and key; the error and its message.
fn load_error(cert: &Path, key: &Path) -> (TlsError, String) {
    let e = TlsFiles {
        cert: cert.to_owned(),
        key: key.to_owned(),
    }
    .load()
    .expect_err("the files were accepted");
    let m = e.to_string();
    (e, m)
}

#[test]
fn bad_certificate_and_key_files_are_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = write_pair(dir.path());
    let other = tempfile::tempdir().unwrap();
    let (stranger, _) = write_pair(other.path());
    let path = |name: &str| -> PathBuf { dir.path().join(name) };
    let shown = |p: &Path| p.display().to_string();

    // The good pair loads.
    good.load().unwrap();

    // Missing files.
    let missing = path("nope.pem");
    let (e, m) = load_error(&missing, &good.key);
    assert!(matches!(e, TlsError::Read { .. }), "{e:?}");
    assert!(
        m.contains(&shown(&missing)) && m.contains("certificate"),
        "{m}"
    );
    let (e, m) = load_error(&good.cert, &missing);
    assert!(matches!(e, TlsError::Read { .. }), "{e:?}");
    assert!(
        m.contains(&shown(&missing)) && m.contains("private key"),
        "{m}"
    );

    // The files swapped: no certificate in the "certificate", no key in the "key".
    let (e, m) = load_error(&good.key, &good.cert);
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");
    assert!(
        m.contains(&shown(&good.key)) && m.contains("no certificate"),
        "{m}"
    );
    let (e, m) = load_error(&good.cert, &good.cert);
    assert!(matches!(e, TlsError::NoPrivateKey { .. }), "{e:?}");
    assert!(
        m.contains(&shown(&good.cert)) && m.contains("no private key"),
        "{m}"
    );

    // Not PEM at all, and PEM cut short.
    let junk = path("junk.pem");
    std::fs::write(&junk, "this is not a certificate\n").unwrap();
    let (e, _) = load_error(&junk, &good.key);
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e:?}");
    let cut = path("cut.pem");
    let text = std::fs::read_to_string(&good.cert).unwrap();
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let (e, m) = load_error(&cut, &good.key);
    assert!(matches!(e, TlsError::BadCertificate { .. }), "{e:?}");
    assert!(m.contains(&shown(&cut)) && m.contains("END"), "{m}");

    // A certificate block whose content is not a certificate.
    let fake = path("fake.pem");
    std::fs::write(
        &fake,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let (e, m) = load_error(&fake, &good.key);
    assert!(matches!(e, TlsError::BadCertificate { .. }), "{e:?}");
    assert!(m.contains(&shown(&fake)), "{m}");

    // An encrypted key is named as such.
    let encrypted = path("encrypted.pem");
    std::fs::write(
        &encrypted,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let (e, m) = load_error(&good.cert, &encrypted);
    assert!(
        matches!(
            e,
            TlsError::NoPrivateKey {
                encrypted: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(m.contains("encrypted"), "{m}");

    // A key of another certificate.
    let (e, m) = load_error(&good.cert, &stranger.key);
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e:?}");
    assert!(
        m.contains(&shown(&good.cert))
            && m.contains(&shown(&stranger.key))
            && m.contains("does not match"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_to_start_on_a_bad_certificate_before_opening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = write_pair(dir.path());
    // No store here: the certificate is checked first, so its error is the one told.
    let mut config = ServerConfig::new(dir.path().join("no-store"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(TlsFiles {
        cert: good.key.clone(),
        key: good.key.clone(),
    });
    let e = Server::bind(config)
        .await
        .err()
        .expect("the server started");
    let m = format!("{e:#}");
    assert!(
        m.contains(&good.key.display().to_string()) && m.contains("no certificate"),
        "{m}"
    );
    assert!(e.downcast_ref::<TlsError>().is_some(), "{e:?}");
}

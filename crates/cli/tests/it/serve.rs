use crate::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

/// `GET path` without credentials (health, the OpenAPI document).
pub fn get(addr: &str, path: &str) -> (u16, String) {
    request(addr, "GET", path, None, &[])
}

/// `GET path` with `Authorization: Bearer <token>`.
pub fn get_as(addr: &str, token: &str, path: &str) -> (u16, String) {
    request(addr, "GET", path, Some(token), &[])
}

/// One HTTP/1.1 request on a new connection; the status and body of the answer.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let content = if method == "POST" {
        format!(
            "Content-Type: application/x-ndjson\r\nContent-Length: {}\r\n",
            body.len()
        )
    } else {
        String::new()
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}{content}Connection: close\r\n\r\n"
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `POST path` with a JSON Lines body, as the holder of `token`.
pub fn post_jsonl(addr: &str, token: &str, path: &str, body: &[u8]) -> (u16, String) {
    request(addr, "POST", path, Some(token), body)
}

/// Creates a service token (agency `national-registry`, which `init` and the demo create)
/// with the CLI, as an administrator on the node would.
pub fn service_token(store_args: &[String], role: &str) -> String {
    let out = Command::new(BIN)
        .args(store_args)
        .env_remove("TRACEMARK_DATABASE_URL")
        .args([
            "token",
            "create",
            "--service",
            "tests",
            "--agency",
            "national-registry",
            "--role",
            role,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A running `tracemark serve` process; killed when dropped.
pub struct Served {
    pub child: std::process::Child,
    pub addr: String,
    /// A stockpile manager's token (records, searches, reads items and custody).
    pub token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tracemark <store_args> serve --addr 127.0.0.1:0` and waits until it listens (it
/// says where on stderr). The rest of its stderr is drained on a thread so it never blocks.
pub fn spawn_serve(store_args: &[String]) -> Served {
    let token = service_token(store_args, "stockpile_manager");
    let mut child = Command::new(BIN)
        .args(store_args)
        .env_remove("TRACEMARK_DATABASE_URL")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("TRACEMARK_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("serving http://") {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Served { child, addr, token }
}

/// `tracemark serve --demo` as a user runs it: a real process on a free loopback port.
fn serve_demo_answers_the_api(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let mut store_args = vec![
        "--data".to_owned(),
        dir.path().join("d").display().to_string(),
    ];
    if b == Backend::Postgres {
        store_args.extend(["--database".to_owned(), fresh_database()]);
    }
    let mut child = Command::new(BIN)
        .args(&store_args)
        .env_remove("TRACEMARK_DATABASE_URL")
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .env("TRACEMARK_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("serving http://") {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    // The demo creates its organisation, so a token can be made for it at once.
    let token = service_token(&store_args, "stockpile_manager");
    let get = |addr: &str, path: &str| get_as(addr, &token, path);
    let (status, body) = get(&addr, "/api/v1/health");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert!(health["ledger_size"].as_u64().unwrap() > 5_000);
    let (status, body) = get(&addr, "/api/v1/search?q=*&kind=any&limit=1");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let key = v["hits"][0]["item"].as_str().unwrap().to_owned();
    let (status, body) = get(&addr, &format!("/api/v1/items/{key}/custody?purpose=test"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&addr, "/api/v1/items/NO-SUCH-KEY");
    assert_eq!(status, 404);
    assert!(body.contains("\"not_found\""), "{body}");
    // A record imported by the CLI while the server runs is found by the server's search.
    let extra = dir.path().join("extra.jsonl");
    std::fs::write(&extra, r#"{"record":"item","key":"CLI-1","kind":"firearm","markings":[{"kind":"serial","text":"QX-77001"}]}
"#).unwrap();
    let out = Command::new(BIN)
        .args(&store_args)
        .env_remove("TRACEMARK_DATABASE_URL")
        .args(["import", extra.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, body) = get(&addr, "/api/v1/search?q=QX77001&mode=exact");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["hits"][0]["item"], "CLI-1", "{body}");
    let (status, body) = get(&addr, "/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(body.contains("/api/v1/items/{key}/custody"));
    child.kill().unwrap();
    child.wait().unwrap();
}

on_both_stores!(serve_demo_answers_the_api);

/// A self-signed certificate for 127.0.0.1 and its key, written into the store's folder:
/// (certificate file, key file).
fn certificate(s: &Store, name: &str) -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = s.file(&format!("{name}-cert.pem"), &made.cert.pem());
    let key = s.file(
        &format!("{name}-key.pem"),
        &made.signing_key.serialize_pem(),
    );
    (cert.display().to_string(), key.display().to_string())
}

/// Starts `tracemark serve <args>` with `TRACEMARK_LOG=warn`; its stderr lines arrive on the
/// channel (read on a thread, so a test waits for them with a deadline).
pub(crate) fn serve_process(
    s: &Store,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = s
        .cmd()
        .arg("serve")
        .args(args)
        .env("TRACEMARK_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The first stderr line that satisfies `want`, within 60 seconds.
pub(crate) fn wait_for_line(
    rx: &std::sync::mpsc::Receiver<String>,
    want: impl Fn(&str) -> bool,
) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if want(&line) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no such line ({e}); stderr so far: {seen:?}"),
        }
    }
}

#[test]
fn serve_with_a_certificate_speaks_https_only() {
    let s = Store::new("KE");
    let (cert, key) = certificate(&s, "server");
    let (mut child, rx) = serve_process(
        &s,
        &[
            "--addr",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    let line = wait_for_line(&rx, |l| l.starts_with("serving "));
    let addr = line
        .strip_prefix("serving https://")
        .unwrap_or_else(|| panic!("not served over HTTPS: {line}"))
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // Loopback: no warning about unencrypted credentials (and none needed with TLS anyway).
    // Plain HTTP on the port gets no HTTP answer.
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "GET /api/v1/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP was answered: {}",
        String::from_utf8_lossy(&answer)
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_refuses_bad_tls_files_with_a_usage_error() {
    let s = Store::new("KE");
    let (cert, key) = certificate(&s, "server");
    let (_, other_key) = certificate(&s, "other");
    let missing = s.dir.path().join("missing.pem").display().to_string();
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--addr", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let out = s.run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        err
    };
    // Both or neither.
    let err = serve(&["--tls-cert", &cert]);
    assert!(err.contains("--tls-key"), "{err}");
    let err = serve(&["--tls-key", &key]);
    assert!(err.contains("--tls-cert"), "{err}");
    // Each mistake names its file.
    let err = serve(&["--tls-cert", &missing, "--tls-key", &key]);
    assert!(
        err.contains(&missing) && err.contains("cannot read"),
        "{err}"
    );
    let err = serve(&["--tls-cert", &key, "--tls-key", &key]);
    assert!(
        err.contains(&key) && err.contains("no certificate"),
        "{err}"
    );
    let err = serve(&["--tls-cert", &cert, "--tls-key", &cert]);
    assert!(
        err.contains(&cert) && err.contains("no private key"),
        "{err}"
    );
    let err = serve(&["--tls-cert", &cert, "--tls-key", &other_key]);
    assert!(
        err.contains(&other_key) && err.contains("does not match"),
        "{err}"
    );
}

#[test]
fn plain_http_off_loopback_warns_that_credentials_travel_unencrypted() {
    let s = Store::new("KE");
    // Listens on every address for a moment; nothing is sent to it.
    let (mut child, rx) = serve_process(&s, &["--addr", "0.0.0.0:0"]);
    let line = wait_for_line(&rx, |l| l.starts_with("serving "));
    assert!(line.starts_with("serving http://"), "{line}");
    let warning = wait_for_line(&rx, |l| l.contains("WARN"));
    assert!(warning.contains("unencrypted"), "{warning}");
    child.kill().unwrap();
    child.wait().unwrap();
}

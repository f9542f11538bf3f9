//! What only PostgreSQL has: several app servers on one database, a database that goes away
//! and comes back, the database's own refusal of ledger edits, `migrate` before `init`.

use crate::serve::{get, get_as, post_jsonl, spawn_serve};
use crate::*;

fn pg(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

fn generate(items: u64, seed: u64, state: &str) -> Vec<u8> {
    let out = Command::new(BIN)
        .args([
            "generate",
            "--items",
            &items.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["--state", state])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

/// Splits JSON Lines into `n` runs of whole lines, in order.
fn chunks(data: &[u8], n: usize) -> Vec<Vec<u8>> {
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .chunks(lines.len().div_ceil(n))
        .map(|c| {
            let mut v = c.join(&b'\n');
            v.push(b'\n');
            v
        })
        .collect()
}

/// The first serial marking of the first item of a generated file: (key, serial).
fn first_serial(data: &[u8]) -> (String, String) {
    for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap();
        if v["record"] != "item" {
            continue;
        }
        for m in v["markings"].as_array().into_iter().flatten() {
            if m["kind"] == "serial" {
                return (
                    v["key"].as_str().unwrap().to_owned(),
                    m["text"].as_str().unwrap().to_owned(),
                );
            }
        }
    }
    panic!("no serial in the data");
}

fn exact_hits(addr: &str, token: &str, serial: &str) -> Vec<String> {
    let q: String = serial
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (status, body) = get_as(
        addr,
        token,
        &format!("/api/v1/search?q={q}&mode=exact&kind=any"),
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["item"].as_str().unwrap().to_owned())
        .collect()
}

/// Two `tracemark serve` processes on one database, each given a copy of the node key,
/// import at the same time: the ledger stays contiguous and verifies (every checkpoint signed
/// by the node key, whichever server wrote it), and each finds what the other wrote.
#[test]
fn two_servers_on_one_database_import_concurrently() {
    let Some(b) = Backend::postgres() else { return };
    let s = Store::on(b, "KE");
    let db = s.database.clone().unwrap();
    let second = tempfile::tempdir().unwrap();
    std::fs::copy(s.data().join("node.key"), second.path().join("node.key")).unwrap();
    // Every app server of one node shares its federation identity (docs/OPERATIONS.md).
    std::fs::copy(
        s.data().join("federation.key"),
        second.path().join("federation.key"),
    )
    .unwrap();
    let args_a = s.store_args();
    let args_b = vec![
        "--data".to_owned(),
        second.path().display().to_string(),
        "--database".to_owned(),
        db.clone(),
    ];
    let a = spawn_serve(&args_a);
    let bsrv = spawn_serve(&args_b);

    let data_a = generate(400, 21, "KE");
    let data_b = generate(400, 22, "UG");
    let records = |d: &[u8]| d.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
    let want = records(&data_a) + records(&data_b);
    let send = |addr: String, token: String, data: Vec<u8>| {
        std::thread::spawn(move || {
            let mut accepted = 0;
            for chunk in chunks(&data, 12) {
                let (status, body) = post_jsonl(&addr, &token, "/api/v1/records", &chunk);
                assert_eq!(status, 200, "{body}");
                let v: Value = serde_json::from_str(&body).unwrap();
                accepted += v["accepted"].as_u64().unwrap();
            }
            accepted
        })
    };
    let ta = send(a.addr.clone(), a.token.clone(), data_a.clone());
    let tb = send(bsrv.addr.clone(), bsrv.token.clone(), data_b.clone());
    let accepted = ta.join().unwrap() + tb.join().unwrap();
    assert_eq!(accepted, want);

    let v = s.json(&["ledger", "verify", "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["size"].as_u64().unwrap(), want, "{v}");
    assert_eq!(v["items"].as_u64().unwrap(), 800, "{v}");
    // Both servers committed batches (each with its checkpoint).
    assert!(v["checkpoints"].as_u64().unwrap() >= 24, "{v}");

    // Each server finds what the other one wrote.
    let (key_a, serial_a) = first_serial(&data_a);
    let (key_b, serial_b) = first_serial(&data_b);
    assert!(exact_hits(&bsrv.addr, &bsrv.token, &serial_a).contains(&key_a));
    assert!(exact_hits(&a.addr, &a.token, &serial_b).contains(&key_b));
    // Health reports the same ledger on both.
    for addr in [&a.addr, &bsrv.addr] {
        let (status, body) = get(addr, "/api/v1/health");
        assert_eq!(status, 200, "{body}");
        let h: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(h["ledger_size"].as_u64().unwrap(), want);
    }
}

/// The database is stopped (`pg_ctl stop -m immediate`) in the middle of an import: the
/// import fails with one line on stderr, the server's health says 503, nothing committed is
/// lost; once the database is back the server answers again and re-running the import
/// completes it with the same counts as an import that was never interrupted.
///
/// Needs a cluster of its own, which `scripts/test` starts:
/// `TRACEMARK_TEST_KILL_DATABASE_URL`, `TRACEMARK_TEST_KILL_STOP`, `TRACEMARK_TEST_KILL_START`.
#[test]
fn the_database_going_away_mid_import_loses_nothing_acknowledged() {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(server), Some(stop), Some(start)) = (
        env("TRACEMARK_TEST_KILL_DATABASE_URL"),
        env("TRACEMARK_TEST_KILL_STOP"),
        env("TRACEMARK_TEST_KILL_START"),
    ) else {
        assert!(
            std::env::var("TRACEMARK_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TRACEMARK_TEST_KILL_* are not set but TRACEMARK_TEST_REQUIRE_POSTGRES=1"
        );
        eprintln!(
            "\n*** NOT RUN: TRACEMARK_TEST_KILL_* are not set (./scripts/test sets them) ***\n"
        );
        return;
    };
    let sh = |cmd: &str| {
        let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
    };
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_on(&server);
    let s = Store {
        dir,
        database: Some(db.clone()),
    };
    let out = s.run(&["init", "--state", "KE"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let data = generate(6000, 9, "KE");
    let f = s.file("gen.jsonl", std::str::from_utf8(&data).unwrap());
    let served = spawn_serve(&s.store_args());

    let mut child = s
        .cmd()
        .args(["import", f.to_str().unwrap(), "--batch", "1000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until some batches are committed (acknowledged), then take the database away.
    let mut c = pg(&db);
    let committed = loop {
        let size: i64 = c
            .query_one("SELECT size FROM tree_state", &[])
            .unwrap()
            .get(0);
        if size >= 2000 {
            break size as u64;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended too soon"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    drop(c);
    sh(&stop);
    let out = child.wait_with_output().unwrap();
    // If the import finished before the stop, this run proves nothing: say so.
    assert!(
        !out.status.success(),
        "the import finished before the database was stopped; make the data larger"
    );
    // Progress lines may come first; the failure is one line, the last.
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
    assert_eq!(err.trim_end().lines().last(), Some(errors[0]), "{err}");
    assert!(errors[0].contains("PostgreSQL"), "{err}");

    let (status, body) = get(&served.addr, "/api/v1/health");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unavailable\""), "{body}");

    sh(&start);
    // Nothing acknowledged was lost.
    let v = s.json(&["ledger", "verify", "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["size"].as_u64().unwrap() >= committed, "{v}");
    // The server reconnects by itself.
    let (status, body) = get(&served.addr, "/api/v1/health");
    assert_eq!(status, 200, "{body}");

    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 0, "{report}");
    let got = s.json(&["ledger", "verify", "--json"]);
    assert_eq!(got["ok"], true, "{got}");

    // The same counts as an import that was never interrupted.
    let reference = Store::on(Backend::Postgres, "KE");
    let rf = reference.file("gen.jsonl", std::str::from_utf8(&data).unwrap());
    assert_eq!(reference.import(&rf, &[]).0, 0);
    let want = reference.json(&["ledger", "verify", "--json"]);
    for k in ["size", "items", "events"] {
        assert_eq!(got[k], want[k], "{k}");
    }
}

/// The database itself refuses to change or remove ledger rows and checkpoints; a superuser
/// who disables the triggers and edits a record is caught by `ledger verify`, and removed
/// records by the checkpoint kept outside.
#[test]
fn the_database_refuses_ledger_edits_and_verify_catches_a_superuser() {
    let Some(b) = Backend::postgres() else { return };
    let s = Store::on(b, "KE");
    let f = s.file("example.jsonl", EXAMPLE);
    assert_eq!(s.import(&f, &[]).0, 0);
    let cp = String::from_utf8(s.run(&["ledger", "checkpoint"]).stdout).unwrap();
    let cp_file = s.file("cp.txt", &cp);
    let mut c = pg(s.database.as_ref().unwrap());
    for sql in [
        "UPDATE ledger SET data = '\\x00'",
        "DELETE FROM ledger",
        "TRUNCATE ledger",
        "UPDATE checkpoints SET note = ''",
        "DELETE FROM checkpoints",
        "TRUNCATE checkpoints",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        let msg = e.as_db_error().unwrap().message().to_owned();
        assert!(msg.contains("append-only"), "{sql}: {msg}");
    }
    c.batch_execute(
        "ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;
         UPDATE ledger SET data = convert_to(replace(convert_from(data, 'UTF8'), 'Ministry', 'Ministre'), 'UTF8')
           WHERE idx = 1;",
    )
    .unwrap();
    let out = s.run(&["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("record #"), "{}", stderr(&out));

    let t = Store::on(b, "KE");
    let f = t.file("example.jsonl", EXAMPLE);
    assert_eq!(t.import(&f, &[]).0, 0);
    let cp = String::from_utf8(t.run(&["ledger", "checkpoint"]).stdout).unwrap();
    let cp_file_t = t.file("cp.txt", &cp);
    let mut c = pg(t.database.as_ref().unwrap());
    c.batch_execute(
        "ALTER TABLE ledger DISABLE TRIGGER ledger_append_only;
         ALTER TABLE checkpoints DISABLE TRIGGER checkpoints_append_only;
         DELETE FROM ledger WHERE idx >= 1; DELETE FROM checkpoints WHERE size > 1;
         UPDATE tree_state SET size = 1;",
    )
    .unwrap();
    let out = t.run(&["ledger", "verify", "--against", cp_file_t.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("records were removed"),
        "{}",
        stderr(&out)
    );
    drop(cp_file);
}

/// `migrate` prepares an empty database (before `init`), is idempotent, and commands on a
/// database without a store are usage errors that say what to do.
#[test]
fn migrate_before_init_and_commands_without_a_store() {
    let Some(_) = Backend::postgres() else { return };
    let db = fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("--data")
            .arg(dir.path())
            .args(["--database", &db])
            .args(args)
            .env_remove("TRACEMARK_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = run(&["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // The latest version, whatever migrations later issues add.
    let latest = tracemark_store::postgres::SCHEMA_VERSION;
    assert!(
        text.contains(&format!("schema version {latest} (migrated from 0)")),
        "{text}"
    );
    let text = String::from_utf8_lossy(&run(&["migrate"]).stdout).into_owned();
    assert!(
        text.contains(&format!("schema version {latest} (up to date)")),
        "{text}"
    );
    let out = run(&["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("tracemark init"), "{}", stderr(&out));
    let out = run(&["init", "--state", "KE"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The URL's password never appears in messages.
    let out = Command::new(BIN)
        .args([
            "--database",
            "postgres://u:hunter2@127.0.0.1:1/x",
            "ledger",
            "key",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = Command::new(BIN)
        .args(["--database", "mysql://x", "ledger", "key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

use crate::*;

/// An RFC 9162 verifier written independently of the project's ledger crate (Python,
/// standard library only), fed the CLI's JSON output.
const PY_VERIFIER: &str = include_str!("rfc9162_verify.py");

fn python_verify(kind: &str, proof: &Value) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("v.py");
    std::fs::write(&script, PY_VERIFIER).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(kind)
        .arg(proof.to_string())
        .output()
        .expect("python3 is needed for the independent verifier");
    if !out.status.success() {
        eprintln!("{}", stderr(&out));
    }
    out.status.success()
}

fn leaf_count_store(b: Backend) -> Store {
    let s = Store::on(b, "KE");
    let gen = Command::new(BIN)
        .args(["generate", "--items", "40", "--seed", "11"])
        .output()
        .unwrap();
    let f = s.dir.path().join("g.jsonl");
    std::fs::write(&f, &gen.stdout).unwrap();
    assert_eq!(s.import(&f, &["--batch", "13"]).0, 0);
    s
}

fn every_proof_the_cli_prints_verifies_independently(b: Backend) {
    let s = leaf_count_store(b);
    let size = s.ledger_size();
    assert!(size > 100);
    for index in (0..size).step_by(7).chain([size - 1]) {
        let p = s.json(&["ledger", "proof", "--index", &index.to_string(), "--json"]);
        assert_eq!(p["leafIdx"], index);
        assert_eq!(p["treeSize"], size);
        assert!(python_verify("inclusion", &p), "inclusion {index}: {p}");
        // The leaf's data hashes to the proven leaf hash.
        let l = s.json(&["ledger", "leaf", "--index", &index.to_string(), "--json"]);
        assert_eq!(l["leafHash"], p["leafHash"]);
        let mut bad = p.clone();
        bad["leafIdx"] = (index ^ 1).into();
        if index ^ 1 < size {
            assert!(!python_verify("inclusion", &bad));
        }
    }
    for (a, b) in [(1, size), (13, 26), (27, size), (size, size), (64, 100)] {
        let c = s.json(&[
            "ledger",
            "consistency",
            "--from",
            &a.to_string(),
            "--to",
            &b.to_string(),
            "--json",
        ]);
        assert!(
            python_verify("consistency", &c),
            "consistency {a}->{b}: {c}"
        );
    }
    let p = s.json(&["ledger", "proof", "--index", "3", "--size", "20", "--json"]);
    assert_eq!(p["treeSize"], 20);
    assert!(python_verify("inclusion", &p));
    let out = s.run(&["ledger", "proof", "--index", &size.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let out = s.run(&[
        "ledger",
        "consistency",
        "--from",
        "0",
        "--to",
        "5",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

fn checkpoint_is_a_signed_note_over_the_latest_root(b: Backend) {
    let s = leaf_count_store(b);
    let note = String::from_utf8(s.run(&["ledger", "checkpoint"]).stdout).unwrap();
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[0], "tracemark/KE/registry-ke");
    assert_eq!(lines[1], s.ledger_size().to_string());
    let p = s.json(&["ledger", "proof", "--index", "0", "--json"]);
    assert_eq!(lines[2], p["root"].as_str().unwrap());
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("— tracemark/KE/registry-ke "));
}

/// Edits the SQLite file behind the program's back (the PostgreSQL variant is in `pg.rs`).
#[test]
fn verify_detects_tampering_and_checks_against_an_outside_checkpoint() {
    let b = Backend::Sqlite;
    let s = leaf_count_store(b);
    let old = String::from_utf8(s.run(&["ledger", "checkpoint"]).stdout).unwrap();
    let old_file = s.file("old-checkpoint.txt", &old);
    let f = s.file(
        "more.jsonl",
        r#"{"record":"item","key":"EXTRA-1","kind":"other"}
"#,
    );
    assert_eq!(s.import(&f, &[]).0, 0);
    let out = s.run(&["ledger", "verify", "--against", old_file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A checkpoint from another node (or forged) is refused.
    let other = leaf_count_store(b);
    let foreign = String::from_utf8(other.run(&["ledger", "checkpoint"]).stdout).unwrap();
    let foreign_file = s.file("foreign.txt", &foreign);
    let out = s.run(&[
        "ledger",
        "verify",
        "--against",
        foreign_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--against"), "{}", stderr(&out));

    // Someone with write access to the file drops the append-only trigger and edits a record.
    let db = rusqlite::Connection::open(s.data().join("tracemark.db")).unwrap();
    db.execute_batch("DROP TRIGGER ledger_no_update;").unwrap();
    db.execute(
        "UPDATE ledger SET data = replace(data, 'Ministry', 'Ministre') WHERE idx = (SELECT min(idx) FROM ledger WHERE instr(data, 'Ministry') > 0)",
        [],
    )
    .unwrap();
    drop(db);
    let out = s.run(&["ledger", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("verification failed") && e.contains("record #"),
        "{e}"
    );

    // A projection edited behind the ledger's back is caught too.
    let t = leaf_count_store(b);
    let db = rusqlite::Connection::open(t.data().join("tracemark.db")).unwrap();
    db.execute("UPDATE items SET status = 'destroyed' WHERE id = (SELECT min(id) FROM items WHERE status != 'destroyed')", []).unwrap();
    drop(db);
    let out = t.run(&["ledger", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["error"].as_str().unwrap().contains("status"), "{v}");

    // Truncating the ledger (records removed) is caught by the outside checkpoint.
    let u = leaf_count_store(b);
    let cp = String::from_utf8(u.run(&["ledger", "checkpoint"]).stdout).unwrap();
    let cp_file = u.file("cp.txt", &cp);
    let db = rusqlite::Connection::open(u.data().join("tracemark.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER ledger_no_delete; DROP TRIGGER checkpoints_no_delete;
        DELETE FROM ledger WHERE idx >= 10; DELETE FROM checkpoints WHERE size > 10;
        UPDATE tree_state SET size = 10;",
    )
    .unwrap();
    drop(db);
    let out = u.run(&["ledger", "verify", "--against", cp_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("records were removed"),
        "{}",
        stderr(&out)
    );
}

on_both_stores!(
    every_proof_the_cli_prints_verifies_independently,
    checkpoint_is_a_signed_note_over_the_latest_root,
);

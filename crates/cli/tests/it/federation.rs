//! `tracemark federation identity` and `tracemark peer`: two nodes (KE and UG) exchange their
//! public identities and add each other; the directory's rules (a key never changes without
//! `--replace`, no peer for the node's own state, http(s) URLs with a host) hold on both
//! stores; the identity file is owner-only and stable.

use crate::{stderr, Backend, Store};
use serde_json::Value;
use std::process::Output;

on_both_stores!(two_nodes_add_each_other_and_keys_never_change_by_accident);

fn identity(s: &Store) -> Value {
    s.json(&["federation", "identity", "--json"])
}

fn peers(s: &Store) -> Vec<Value> {
    s.json(&["peer", "list", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn add(s: &Store, url: &str, identity: &str, extra: &[&str]) -> Output {
    let mut args = vec!["peer", "add", "--url", url, "--identity", identity];
    args.extend(extra);
    s.run(&args)
}

/// Exit code 1 and a one-line error starting `error: <field>:`.
fn rejected(out: &Output, field: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: {field}: ")), "{err}");
    err
}

fn two_nodes_add_each_other_and_keys_never_change_by_accident(b: Backend) {
    let ke = Store::on(b, "KE");
    let ug = Store::on(b, "UG");
    let (ke_id, ug_id) = (identity(&ke), identity(&ug));
    assert_eq!(ke_id["identity"]["state"], "KE");
    assert_eq!(ug_id["identity"]["state"], "UG");
    assert_ne!(ke_id["fingerprint"], ug_id["fingerprint"]);

    // KE is given UG's identity as a file, UG is given KE's as inline JSON.
    let ug_file = ke.file("ug.json", &ug_id.to_string());
    let out = add(
        &ke,
        "https://tracemark.ug.example",
        ug_file.to_str().unwrap(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("added peer UG"), "{text}");
    let out = add(&ug, "http://127.0.0.1:8081/", &ke_id.to_string(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let list = peers(&ke);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["state"], "UG");
    assert_eq!(list[0]["url"], "https://tracemark.ug.example/");
    assert_eq!(list[0]["fingerprint"], ug_id["fingerprint"]);
    assert_eq!(list[0]["identity"], ug_id["identity"]);
    assert!(list[0]["replaced_at"].is_null());
    let list = peers(&ug);
    assert_eq!(list[0]["state"], "KE");
    assert_eq!(list[0]["url"], "http://127.0.0.1:8081/");
    assert_eq!(list[0]["fingerprint"], ke_id["fingerprint"]);
    let out = ke.run(&["peer", "list"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let fp = ug_id["fingerprint"].as_str().unwrap();
    let grouped = format!("{} {} {} {}", &fp[..4], &fp[4..8], &fp[8..12], &fp[12..]);
    assert_eq!(
        text,
        format!("UG\thttps://tracemark.ug.example/\t{grouped}\n")
    );

    // The same identity again changes nothing; a new URL with the same keys is a move.
    let out = add(
        &ke,
        "https://tracemark.ug.example",
        ug_file.to_str().unwrap(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(peers(&ke)[0]["replaced_at"].is_null());
    let out = add(
        &ke,
        "https://registry.ug.example",
        ug_file.to_str().unwrap(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(peers(&ke)[0]["url"], "https://registry.ug.example/");
    assert_eq!(peers(&ke)[0]["fingerprint"], ug_id["fingerprint"]);

    // Other keys for UG: refused without --replace, the directory unchanged.
    let impostor = identity(&Store::new("UG"));
    let other = ke.file("other.json", &impostor.to_string());
    let out = add(
        &ke,
        "https://registry.ug.example",
        other.to_str().unwrap(),
        &[],
    );
    let err = rejected(&out, "identity");
    assert!(err.contains("--replace"), "{err}");
    assert!(err.contains(fp), "the current fingerprint is named: {err}");
    assert_eq!(peers(&ke)[0]["fingerprint"], ug_id["fingerprint"]);
    // With --replace, after the administrators compared fingerprints.
    let out = add(
        &ke,
        "https://registry.ug.example",
        other.to_str().unwrap(),
        &["--replace"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = peers(&ke);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["fingerprint"], impostor["fingerprint"]);
    assert!(list[0]["replaced_at"].is_string());

    // A node is not its own peer.
    let err = rejected(
        &add(&ke, "https://ke.example", &ke_id.to_string(), &[]),
        "identity",
    );
    assert!(err.contains("own state"), "{err}");
    // Bad URLs are refused, naming the field.
    let tz = identity(&Store::new("TZ")).to_string();
    for url in [
        "ftp://tz.example/",
        "http://",
        "tz.example",
        "https://u:p@tz.example/",
    ] {
        rejected(&add(&ke, url, &tz, &[]), "url");
    }
    // A fingerprint that does not match the keys beside it, or a broken identity.
    let mut forged = impostor.clone();
    forged["identity"] = ug_id["identity"].clone();
    rejected(
        &add(&ke, "https://tz.example", &forged.to_string(), &[]),
        "identity",
    );
    rejected(
        &add(&ke, "https://tz.example", r#"{"state":"TZ"}"#, &[]),
        "identity",
    );
    assert_eq!(peers(&ke).len(), 1);
    // A missing file is a usage error; so is a missing --identity.
    let out = add(&ke, "https://tz.example", "no-such-file.json", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = ke.run(&["peer", "add", "--url", "https://tz.example"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn the_identity_file_is_owner_only_and_stable() {
    let s = Store::new("KE");
    let path = s.data().join("federation.key");
    let first = identity(&s);
    assert_eq!(identity(&s), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let out = s.run(&["federation", "identity"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let fp = first["fingerprint"].as_str().unwrap();
    assert!(
        text.contains(&format!("fingerprint: {} {}", &fp[..4], &fp[4..8])),
        "{text}"
    );
    assert!(text.contains(&first["identity"]["sign"].as_str().unwrap().to_string()));

    // A lost identity file is not silently replaced (peers would see another node).
    std::fs::remove_file(&path).unwrap();
    let out = s.run(&["federation", "identity"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("restore federation.key"),
        "{}",
        stderr(&out)
    );
    assert!(!path.exists());
    // A store initialised before federation existed has no identity file and none pinned:
    // the first use creates one, owner-only, and keeps it.
    let db = rusqlite::Connection::open(s.data().join("tracemark.db")).unwrap();
    db.execute("DELETE FROM meta WHERE k = 'federation_identity'", [])
        .unwrap();
    drop(db);
    let created = identity(&s);
    assert_ne!(created, first);
    assert_eq!(identity(&s), created);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // A damaged identity file is an error, and is left as it is.
    std::fs::write(&path, "damaged\n").unwrap();
    let out = s.run(&["federation", "identity"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "damaged\n");
    // init refuses a folder that already holds an identity.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("federation.key"), "x\n").unwrap();
    let out = std::process::Command::new(crate::BIN)
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "init",
            "--state",
            "KE",
        ])
        .env_remove("TRACEMARK_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("federation.key")).unwrap(),
        "x\n"
    );
}

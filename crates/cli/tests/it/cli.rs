use crate::*;

fn contract_example_end_to_end(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file("example.jsonl", EXAMPLE);
    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["accepted"], 3);
    assert_eq!(report["rejected"], 0);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(report["errors"], serde_json::json!([]));

    let item = s.json(&["item", "show", "KE-2019-000123", "--json"]);
    assert_eq!(item["status"], "stolen");
    assert_eq!(item["model"], "Type 56");
    assert_eq!(item["markings"][0]["text"], "5612345");
    assert_eq!(item["holder"]["name"], "Ministry of Defence");

    let c = s.json(&["custody", "KE-2019-000123", "--json"]);
    assert_eq!(c["item"], "KE-2019-000123");
    assert_eq!(c["status"], "stolen");
    let events = c["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "imported");
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["date"], "1985-06");
    assert_eq!(events[0]["from"]["name"], "China North Industries");
    assert_eq!(events[1]["type"], "reported_stolen");
    assert_eq!(events[1]["place"]["admin1"], "Nairobi");
    assert_eq!(c["last_legal_holder"]["name"], "Ministry of Defence");
    assert_eq!(c["diversion"]["type"], "reported_stolen");

    // Re-importing the same file adds nothing.
    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 0);
    assert_eq!(report["accepted"], 0);
    assert_eq!(report["duplicates"], 3);
    assert_eq!(s.ledger_size(), 3);

    let out = s.run(&["item", "show", "NOPE"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("NOPE"));
}

fn init_refuses_to_overwrite_and_protects_the_key(b: Backend) {
    let s = Store::on(b, "KE");
    let out = s.run(&["init", "--state", "KE"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refusing to overwrite"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.data().join("node.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = s.run(&["init", "--state", "XX"]);
    assert_eq!(out.status.code(), Some(2));
    let key = String::from_utf8(s.run(&["ledger", "key"]).stdout).unwrap();
    assert!(key.starts_with("tracemark/KE/registry-ke+"), "{key}");
    let secret = std::fs::read_to_string(s.data().join("node.key")).unwrap();
    // The key is never printed.
    let all = [
        s.run(&["ledger", "checkpoint"]),
        s.run(&["ledger", "verify", "--json"]),
    ];
    for o in all {
        // PRIVATE+KEY+<name>+<id>+<base64>; the base64 itself may contain '+'.
        let b64 = secret.trim().splitn(5, '+').nth(4).unwrap();
        assert!(b64.len() >= 44, "{b64}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains(b64));
    }
}

#[test]
fn commands_without_a_store_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--data",
            dir.path().join("none").to_str().unwrap(),
            "ledger",
            "verify",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tracemark init"));
    let out = Command::new(BIN).args(["import"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["import", "a", "--rejects", "r"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--rejects needs --accept-valid");
}

fn generated_data_imports_and_verifies(b: Backend) {
    let s = Store::on(b, "KE");
    let out = Command::new(BIN)
        .args(["generate", "--items", "300", "--seed", "7"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let again = Command::new(BIN)
        .args(["generate", "--items", "300", "--seed", "7"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout, "generate is deterministic");
    let f = s.dir.path().join("gen.jsonl");
    std::fs::write(&f, &out.stdout).unwrap();
    let (code, report) = s.import(&f, &["--batch", "97"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["rejected"], 0);
    let lines = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    assert_eq!(
        report["accepted"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap(),
        lines
    );
    let v = s.json(&["ledger", "verify", "--json"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["items"], 300);
}

fn modular_weapons_track_their_parts_through_component_swaps(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file(
        "parts.jsonl",
        r#"{"record":"item","key":"W1","kind":"firearm","make":"SIG Sauer","model":"P320","markings":[{"kind":"serial","text":"58A123456","component":"frame"}]}
{"record":"item","key":"W1-SLIDE-A","kind":"part","type":"slide","parent":"W1","markings":[{"kind":"serial","text":"58A123456","component":"slide"}]}
{"record":"item","key":"W1-BARREL-A","kind":"part","type":"barrel","parent":"W1","markings":[{"kind":"serial","text":"B-7781","component":"barrel"}]}
{"record":"item","key":"SLIDE-X","kind":"part","type":"slide","markings":[{"kind":"serial","text":"58B999001","component":"slide"}]}
{"record":"event","item":"W1","type":"component_replaced","date":"2019-04-02","part":"SLIDE-X","removed_part":"W1-SLIDE-A","note":"slide swapped at armoury"}
"#,
    );
    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 0, "{report}");
    let item = s.json(&["item", "show", "W1", "--json"]);
    assert_eq!(
        item["components"],
        serde_json::json!(["W1-BARREL-A", "SLIDE-X"])
    );
    // The swapped-in slide's serial finds the weapon's part.
    let hits = s.json(&["search", "58B999001", "--json"]);
    assert_eq!(hits["hits"][0]["item"], "SLIDE-X");
    // A part of an unknown weapon is refused.
    let g = s.file(
        "bad.jsonl",
        r#"{"record":"item","key":"P9","kind":"part","parent":"NOPE"}
"#,
    );
    let (code, report) = s.import(&g, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["errors"][0]["field"], "parent");
    assert_eq!(s.json(&["ledger", "verify", "--json"])["ok"], true);
}

on_both_stores!(
    contract_example_end_to_end,
    init_refuses_to_overwrite_and_protects_the_key,
    generated_data_imports_and_verifies,
    modular_weapons_track_their_parts_through_component_swaps,
);

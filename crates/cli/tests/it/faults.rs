use crate::*;
use serde_json::json;

fn fields(report: &Value) -> Vec<(u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn every_defect_is_reported_by_line_and_field_and_nothing_is_committed(b: Backend) {
    let s = Store::on(b, "KE");
    let mut bad = String::from(EXAMPLE);
    bad.push_str("{not json\n"); // 4
    bad.push_str("{\"record\":\"weapon\"}\n"); // 5
    bad.push_str("{\"record\":\"item\",\"kind\":\"firearm\"}\n"); // 6
    bad.push_str("{\"record\":\"item\",\"key\":\"X1\",\"kind\":\"firearm\",\"country_of_manufacture\":\"XX\"}\n"); // 7
    bad.push_str("{\"record\":\"event\",\"item\":\"KE-2019-000123\",\"type\":\"imported\",\"date\":\"1985-13\"}\n"); // 8
    bad.push_str(
        "{\"record\":\"event\",\"item\":\"GHOST\",\"type\":\"seized\",\"date\":\"2001\"}\n",
    ); // 9
    bad.push_str("{\"record\":\"event\",\"item\":\"KE-2019-000123\",\"type\":\"exported\",\"date\":\"1970\"}\n"); // 10: before manufacture (1978)
    bad.push_str(
        "{\"record\":\"item\",\"key\":\"KE-2019-000123\",\"kind\":\"firearm\",\"model\":\"AKM\"}\n",
    ); // 11: conflicting re-declaration
    bad.push_str(
        "{\"record\":\"event\",\"item\":\"KE-2019-000123\",\"type\":\"sold\",\"date\":\"2001\"}\n",
    ); // 12
    bad.push_str("{\"record\":\"event\",\"id\":\"imp-85-112-0001\",\"item\":\"KE-2019-000123\",\"type\":\"imported\",\"date\":\"1986\"}\n"); // 13: id reused
    let mut bytes = bad.into_bytes();
    bytes.extend_from_slice(b"{\"record\":\"item\",\"key\":\"\xff\xfe\",\"kind\":\"other\"}\n"); // 14
    bytes.extend_from_slice(&vec![b'x'; (1 << 20) + 10]); // 15: absurdly long line
    bytes.push(b'\n');
    let f = s.dir.path().join("bad.jsonl");
    std::fs::write(&f, bytes).unwrap();
    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        fields(&report),
        [
            (4, "".into()),
            (5, "record".into()),
            (6, "key".into()),
            (7, "country_of_manufacture".into()),
            (8, "date".into()),
            (9, "item".into()),
            (10, "date".into()),
            (11, "key".into()),
            (12, "type".into()),
            (13, "id".into()),
            (14, "".into()),
            (15, "".into()),
        ],
        "{report:#}"
    );
    assert_eq!(report["rejected"], 12);
    assert_eq!(s.ledger_size(), 0, "all or nothing");
    let msg = report["errors"][6]["message"].as_str().unwrap();
    assert!(msg.contains("before the year of manufacture"), "{msg}");
    assert!(report["errors"][10]["message"]
        .as_str()
        .unwrap()
        .contains("UTF-8"));

    // With --accept-valid the good records land and the bad lines are written out.
    let rejects = s.dir.path().join("rejects.jsonl");
    let (code, report) = s.import(
        &f,
        &["--accept-valid", "--rejects", rejects.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert_eq!(report["accepted"], 3);
    assert_eq!(report["rejected"], 12);
    let rejected = std::fs::read(&rejects).unwrap();
    // The over-long line is not copied (it is reported); the 11 others are, byte for byte.
    assert_eq!(
        rejected
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        11
    );
    assert_eq!(s.ledger_size(), 3);
    assert_eq!(s.json(&["ledger", "verify", "--json"])["ok"], true);
}

fn nothing_but_corrections_after_destruction(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file(
        "a.jsonl",
        r#"{"record":"item","key":"K1","kind":"firearm","year_of_manufacture":1990}
{"record":"event","id":"m","item":"K1","type":"manufactured","date":"1990-03"}
{"record":"event","id":"d","item":"K1","type":"destroyed","date":"2015-05-02","documents":[{"kind":"destruction_certificate","number":"DC-1"}]}
"#,
    );
    assert_eq!(s.import(&f, &[]).0, 0);
    let g = s.file(
        "b.jsonl",
        r#"{"record":"event","item":"K1","type":"assigned","date":"2016","to":{"name":"Unit"}}
"#,
    );
    let (code, report) = s.import(&g, &[]);
    assert_eq!(code, 1);
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("destroyed"));
    // A correction is allowed, and applies.
    let h = s.file(
        "c.jsonl",
        r#"{"record":"event","item":"K1","type":"corrected","date":"2016-01-01","corrects":"d","set":{"documents":[{"kind":"destruction_certificate","number":"DC-1A"}]},"note":"typo in certificate number"}
{"record":"event","item":"K1","type":"corrected","date":"2016-01-02","corrects":"item","set":{"model":"AKM"}}
"#,
    );
    let (code, report) = s.import(&h, &[]);
    assert_eq!(code, 0, "{report}");
    let c = s.json(&["custody", "K1", "--json"]);
    let destroyed = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "destroyed")
        .unwrap();
    assert_eq!(destroyed["documents"][0]["number"], "DC-1A");
    assert_eq!(destroyed["corrected_by"], json!([3]));
    assert_eq!(s.json(&["item", "show", "K1", "--json"])["model"], "AKM");
    assert_eq!(c["status"], "destroyed");
    assert_eq!(s.json(&["ledger", "verify", "--json"])["ok"], true);
}

fn unknown_fields_are_kept_and_warned(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file(
        "u.jsonl",
        r#"{"record":"item","key":"K","kind":"other","legacy_ref":"Book 3 p. 41"}
"#,
    );
    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 0);
    assert_eq!(report["warnings"][0]["field"], "legacy_ref");
    assert_eq!(
        s.json(&["item", "show", "K", "--json"])["legacy_ref"],
        "Book 3 p. 41"
    );
}

fn a_killed_import_leaves_a_valid_store_and_rerunning_completes_it(b: Backend) {
    let gen = Command::new(BIN)
        .args(["generate", "--items", "4000", "--seed", "3"])
        .output()
        .unwrap();
    assert!(gen.status.success());
    let reference = Store::on(b, "KE");
    let f = reference.dir.path().join("gen.jsonl");
    std::fs::write(&f, &gen.stdout).unwrap();
    let (code, _) = reference.import(&f, &[]);
    assert_eq!(code, 0);
    let want = reference.json(&["ledger", "verify", "--json"]);

    for delay_ms in [30u64, 120, 400] {
        let s = Store::on(b, "KE");
        let mut child = s
            .cmd()
            .args(["import", f.to_str().unwrap(), "--batch", "500"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let v = s.json(&["ledger", "verify", "--json"]);
        assert_eq!(v["ok"], true, "after kill at {delay_ms} ms: {v}");
        let (code, report) = s.import(&f, &[]);
        assert_eq!(code, 0, "{report}");
        let got = s.json(&["ledger", "verify", "--json"]);
        assert_eq!(got["ok"], true);
        assert_eq!(got["size"], want["size"]);
        assert_eq!(got["items"], want["items"]);
        assert_eq!(got["events"], want["events"]);
        // Same projections: the same number of items in every status.
        for status in [
            "in_stock",
            "in_service",
            "stolen",
            "lost",
            "seized",
            "destroyed",
            "exported",
        ] {
            let count = |st: &Store| {
                st.json(&[
                    "search", "*", "--kind", "any", "--status", status, "--limit", "1", "--json",
                ])["total"]
                    .clone()
            };
            assert_eq!(
                count(&s),
                count(&reference),
                "status {status} after kill at {delay_ms} ms"
            );
        }
    }
}

on_both_stores!(
    every_defect_is_reported_by_line_and_field_and_nothing_is_committed,
    nothing_but_corrections_after_destruction,
    unknown_fields_are_kept_and_warned,
    a_killed_import_leaves_a_valid_store_and_rerunning_completes_it,
);

use crate::*;

const MARKINGS: &str = r#"{"record":"item","key":"A1","kind":"firearm","make":"Izhmash","model":"AKM","calibre":"7.62x39mm","country_of_manufacture":"RU","markings":[{"kind":"serial","text":"РА 1234","component":"receiver"}]}
{"record":"item","key":"A2","kind":"firearm","make":"Norinco","model":"Type 56","country_of_manufacture":"CN","markings":[{"kind":"serial","text":"5612345"},{"kind":"factory_code","text":"66"}]}
{"record":"item","key":"A3","kind":"firearm","make":"Norinco","model":"Type 56","country_of_manufacture":"CN","markings":[{"kind":"serial","text":"5612346"}]}
{"record":"item","key":"A4","kind":"firearm","make":"DIO","model":"G3","country_of_manufacture":"IR","markings":[{"kind":"serial","text":"۱۲۳۴۵۶"}]}
{"record":"event","item":"A3","type":"reported_stolen","date":"2011-02-03"}
"#;

fn search(s: &Store, args: &[&str]) -> Value {
    let mut a = vec!["search"];
    a.extend_from_slice(args);
    a.push("--json");
    s.json(&a)
}

fn matches(v: &Value) -> Vec<(String, String, u64)> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["item"].as_str().unwrap().to_owned(),
                h["match"].as_str().unwrap().to_owned(),
                h["distance"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn officers_find_weapons_from_what_they_read(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file("m.jsonl", MARKINGS);
    assert_eq!(s.import(&f, &[]).0, 0);

    // Exact, with the contract's JSON fields.
    let v = search(&s, &["5612345"]);
    assert_eq!(v["query"], "5612345");
    let h = &v["hits"][0];
    for field in [
        "item", "marking", "kind", "match", "distance", "make", "model", "calibre", "status",
    ] {
        assert!(h.get(field).is_some(), "missing {field}: {h}");
    }
    assert_eq!(matches(&v)[0], ("A2".into(), "exact".into(), 0));
    // The neighbouring serial of the same model is both a fuzzy match and a shipment hint.
    assert_eq!(matches(&v)[1], ("A3".into(), "fuzzy".into(), 1));
    assert_eq!(h["same_shipment"][0]["item"], "A3");
    assert_eq!(h["same_shipment"][0]["offset"], 1);
    assert_eq!(v["total"], 2);

    // Cyrillic Р typed as Latin P (visual) or R (phonetic); separators ignored.
    assert_eq!(
        matches(&search(&s, &["PA-1234"]))[0],
        ("A1".into(), "normalized".into(), 0)
    );
    assert_eq!(
        matches(&search(&s, &["ra1234"]))[0],
        ("A1".into(), "normalized".into(), 0)
    );
    // Persian digits as typed on a Latin keyboard are the same canonical serial.
    assert_eq!(
        matches(&search(&s, &["123456"]))[0],
        ("A4".into(), "exact".into(), 0)
    );
    // An obliterated serial: known characters at known positions.
    let v = search(&s, &["56?23?5"]);
    assert_eq!(matches(&v), [("A2".into(), "wildcard".into(), 0)]);
    assert_eq!(search(&s, &["561234*"])["total"], 2);
    // A transposition is one edit (optimal string alignment).
    assert_eq!(
        matches(&search(&s, &["5612354", "--mode", "fuzzy"]))[0],
        ("A2".into(), "fuzzy".into(), 1)
    );
    // Filters and kinds.
    assert_eq!(search(&s, &["561234*", "--status", "stolen"])["total"], 1);
    assert_eq!(search(&s, &["561234*", "--make", "NORINCO"])["total"], 2);
    assert_eq!(search(&s, &["66"])["total"], 0);
    assert_eq!(search(&s, &["66", "--kind", "any"])["total"], 1);
    assert_eq!(
        search(&s, &["561234*", "--limit", "1"])["hits"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn bad_queries_are_usage_errors(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file("m.jsonl", MARKINGS);
    assert_eq!(s.import(&f, &[]).0, 0);
    let long = "9".repeat(400);
    for args in [
        vec!["search", ""],
        vec!["search", "- . /"],
        vec!["search", "123", "--max-edits", "3"],
        vec!["search", "123", "--mode", "soundex"],
        vec!["search", long.as_str()],
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "errors are one line: {}",
            stderr(&out)
        );
    }
    // `*` alone is well defined: every serial-like marking.
    assert_eq!(search(&s, &["*"])["total"], 4);
}

fn the_index_follows_the_ledger(b: Backend) {
    let s = Store::on(b, "KE");
    let f = s.file("m.jsonl", MARKINGS);
    assert_eq!(s.import(&f, &[]).0, 0);
    assert_eq!(search(&s, &["*", "--status", "seized"])["total"], 0);
    let g = s.file(
        "more.jsonl",
        r#"{"record":"item","key":"B1","kind":"firearm","markings":[{"kind":"serial","text":"ZX-9001"}]}
{"record":"event","item":"A2","type":"seized","date":"2014","to":{"name":"Police","kind":"police"}}
"#,
    );
    assert_eq!(s.import(&g, &[]).0, 0);
    assert_eq!(search(&s, &["ZX9001"])["total"], 1);
    assert_eq!(
        matches(&search(&s, &["*", "--status", "seized"])),
        [("A2".into(), "wildcard".into(), 0)]
    );
    // A corrected marking is found under its new text (the index is rebuilt).
    let h = s.file(
        "fix.jsonl",
        r#"{"record":"event","item":"B1","type":"corrected","date":"2020","corrects":"item","set":{"markings":[{"kind":"serial","text":"ZX-9007"}]}}
"#,
    );
    assert_eq!(s.import(&h, &[]).0, 0);
    assert_eq!(search(&s, &["ZX9007", "--mode", "exact"])["total"], 1);
    assert_eq!(search(&s, &["ZX9001", "--mode", "exact"])["total"], 0);
    // Deleting the index file is safe: it is derived and rebuilt.
    std::fs::remove_file(s.data().join("search.idx")).unwrap();
    assert_eq!(search(&s, &["ZX9007", "--mode", "exact"])["total"], 1);
}

on_both_stores!(
    officers_find_weapons_from_what_they_read,
    bad_queries_are_usage_errors,
    the_index_follows_the_ledger,
);

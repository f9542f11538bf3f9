//! `tracemark trace`: a draft request from a registry item, the completeness check with the
//! proposed recipients (exit 1 while a gap blocks sending), and the printable request.

use crate::{stderr, Store, EXAMPLE};
use serde_json::Value;

fn draft(s: &Store) -> Value {
    s.json(&[
        "trace",
        "draft",
        "--item",
        "KE-2019-000123",
        "--agency",
        "DCI Nairobi",
        "--officer",
        "Insp. W. Otieno",
        "--case",
        "CR 114/2026",
    ])
}

fn check(s: &Store, request: &Value) -> (i32, Value) {
    let f = s.file("request.json", &request.to_string());
    let out = s.run(&["trace", "check", f.to_str().unwrap(), "--json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code().unwrap(), v)
}

fn codes(v: &Value) -> Vec<&str> {
    v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect()
}

#[test]
fn a_draft_from_the_registry_is_checked_routed_completed_and_printed() {
    let s = Store::new("KE");
    let (code, report) = s.import(&s.file("example.jsonl", EXAMPLE), &[]);
    assert_eq!(code, 0, "{report}");

    let d = draft(&s);
    assert_eq!(d["id"], "TR-KE-2019-000123");
    assert_eq!(d["requesting_state"], "KE");
    assert_eq!(d["registry_item"], "KE-2019-000123");
    assert_eq!(d["item"]["make"], "Norinco");
    assert_eq!(d["item"]["country_of_manufacture"], "CN");
    assert_eq!(d["item"]["markings"][0]["text"], "5612345");

    // What the registry cannot know blocks sending, each gap with why and how to fix it.
    let (code, v) = check(&s, &d);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["ready"], false);
    let got = codes(&v);
    for expected in [
        "missing_illicit_reason",
        "missing_legal_basis",
        "missing_circumstances",
        "missing_intended_use",
    ] {
        assert!(got.contains(&expected), "{expected} missing from {got:?}");
    }
    for g in v["gaps"].as_array().unwrap() {
        assert!(!g["why"].as_str().unwrap().is_empty(), "{g}");
        assert!(!g["fix"].as_str().unwrap().is_empty(), "{g}");
    }
    // Routed to the country of manufacture (also the exporter in the chain of custody),
    // never to the requesting state.
    let proposed: Vec<&str> = v["proposed_recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(proposed, ["CN"], "{v}");
    let reasons = v["proposed_recipients"][0]["reasons"].to_string();
    assert!(reasons.contains("Norinco"), "{reasons}");
    assert!(reasons.contains("China North Industries"), "{reasons}");
    assert_eq!(v["custody"][0]["country"], "CN", "{v}");

    // Completed by the officer: ready (weakening gaps remain, told but not blocking).
    let mut done = d.clone();
    done["illicit"] =
        serde_json::json!({"reason": "seized", "details": "Recovered in a police operation."});
    done["legal_basis"] = "Firearms Act (Cap. 114) s. 4".into();
    done["circumstances"] = serde_json::json!({"date": "2026-03-02", "country": "KE", "place": "Isiolo County", "description": "Three rifles <recovered> & one pistol."});
    done["intended_use"] = "Criminal prosecution of the holders.".into();
    let (code, v) = check(&s, &done);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ready"], true);
    assert!(codes(&v).contains(&"no_photos"), "{v}");

    // The printable request: every section, the recipients, text escaped.
    let f = s.file("done.json", &done.to_string());
    let out = s.run(&["trace", "print", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    for expected in [
        "Request for tracing",
        "TR-KE-2019-000123",
        "5612345",
        "Norinco",
        "Firearms Act (Cap. 114) s. 4",
        "<td>CN</td>",
        "Three rifles &lt;recovered&gt; &amp; one pistol.",
        "no_photos",
    ] {
        assert!(html.contains(expected), "{expected} not in {html}");
    }
    assert!(!html.contains("<recovered>"));
    let out = s.run(&["trace", "print", f.to_str().unwrap(), "--to", "CN,ET"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("<td>CN, ET</td>"));

    // The same request as a PDF file, with a date and the explanation of a gap; a name in
    // Cyrillic prints as written.
    let mut cyr = done.clone();
    cyr["officer"] = "Инсп. Алексей Петров".into();
    let f = s.file("cyr.json", &cyr.to_string());
    let w = s.file(
        "waivers.json",
        r#"[{"gap": "no_photos", "explanation": "The camera of the station was out of order."}]"#,
    );
    let pdf = s.dir.path().join("request.pdf");
    let out = s.run(&[
        "trace",
        "print",
        f.to_str().unwrap(),
        "--to",
        "CN,ET",
        "--pdf",
        pdf.to_str().unwrap(),
        "--date",
        "2026-03-09",
        "--waivers",
        w.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "the PDF goes to the file, not stdout"
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    for expected in [
        "TR-KE-2019-000123",
        "CR 114/2026",
        "5612345",
        "Алексей Петров",
        "CN, ET",
        "no_photos",
        "camera of the station was out of order",
        "2026-03-09",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    // A waiver file that is not a list of explanations is refused, and no file is written.
    let bad = s.file(
        "bad.json",
        r#"[{"gap": "no_such_gap", "explanation": "x"}]"#,
    );
    let other = s.dir.path().join("other.pdf");
    let out = s.run(&[
        "trace",
        "print",
        f.to_str().unwrap(),
        "--pdf",
        other.to_str().unwrap(),
        "--waivers",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(!other.exists());
}

/// An import mark on the item gives the state of last legal import, proposed with its reason.
#[test]
fn import_marks_route_to_the_state_of_last_legal_import() {
    let s = Store::new("KE");
    let record = r#"{"record":"item","key":"KE-2020-000777","kind":"firearm","make":"Zastava","model":"M70","markings":[{"kind":"serial","text":"M70-4411"},{"kind":"import","text":"IMP ET 1982"}]}
"#;
    let (code, report) = s.import(&s.file("item.jsonl", record), &[]);
    assert_eq!(code, 0, "{report}");
    let d = s.json(&[
        "trace",
        "draft",
        "--item",
        "KE-2020-000777",
        "--agency",
        "DCI",
        "--officer",
        "O",
        "--case",
        "C",
    ]);
    assert_eq!(d["item"]["import_marks"][0]["country"], "ET", "{d}");
    assert_eq!(d["item"]["import_marks"][0]["year"], 1982, "{d}");
    let (_, v) = check(&s, &d);
    let states: Vec<&str> = v["proposed_recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"ET"), "{v}");
    assert!(states.contains(&"RS"), "Zastava's home country: {v}");
    assert!(!codes(&v).contains(&"no_import_mark"), "{v}");
}

#[test]
fn bad_requests_and_unknown_items_are_refused_by_name() {
    let s = Store::new("KE");
    let out = s.run(&[
        "trace",
        "draft",
        "--item",
        "KE-0000-000000",
        "--agency",
        "a",
        "--officer",
        "o",
        "--case",
        "c",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("KE-0000-000000"), "{}", stderr(&out));

    let f = s.file(
        "bad.json",
        "{\n  \"id\": \"T-1\",\n  \"colour\": \"red\"\n}",
    );
    let out = s.run(&["trace", "check", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("bad.json: line") && e.contains("colour"), "{e}");

    let out = s.run(&["trace", "check", "/nonexistent/request.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The requested state's side: a request from another state, answered from this registry's
/// records — the matching record found by its serial (even typed in another script), the
/// findings drafted from the chain of custody, no record when nothing matches.
#[test]
fn answers_are_drafted_from_the_chain_of_custody() {
    let s = Store::new("CN");
    let (code, report) = s.import(&s.file("example.jsonl", EXAMPLE), &[]);
    assert_eq!(code, 0, "{report}");
    let request = |serial: &str, make: &str| {
        serde_json::json!({
            "id": "TR-KE-1", "requesting_state": "KE", "requesting_agency": "DCI",
            "officer": "Insp. W. Otieno", "case_reference": "CR 1",
            "priority": {"level": "routine"},
            "item": {"kind": "firearm", "make": make,
                     "markings": [{"text": serial, "kind": "serial"}]}
        })
    };
    let draft = |v: Value| {
        let f = s.file("incoming.json", &v.to_string());
        s.json(&["trace", "answer-draft", f.to_str().unwrap()])
    };
    let v = draft(request("5612345", "NORINCO"));
    assert_eq!(v["candidates"][0]["item"], "KE-2019-000123", "{v}");
    assert_eq!(v["candidates"][0]["make_agrees"], true, "{v}");
    let outcome = &v["answer"]["outcome"];
    assert_eq!(outcome["kind"], "full", "{v}");
    let summary = outcome["findings"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("1978: manufactured by Norinco in CN"),
        "{summary}"
    );
    assert!(
        summary.contains("1985-06: imported from China North Industries (CN) to Ministry of Defence (KE), import licence IL-85/112"),
        "{summary}"
    );
    assert!(
        summary.contains("2011-02-03: reported stolen in KE"),
        "{summary}"
    );
    assert_eq!(
        outcome["findings"]["last_legal_holder"]["name"],
        "Ministry of Defence"
    );
    assert_eq!(
        outcome["findings"]["point_of_diversion"]["date"],
        "2011-02-03"
    );
    assert_eq!(
        outcome["findings"]["next_states"],
        serde_json::json!(["KE"])
    );

    // Another make: the record is shown but not taken for the item.
    let v = draft(request("5612345", "Zastava"));
    assert_eq!(v["candidates"][0]["make_agrees"], false, "{v}");
    assert_eq!(v["answer"]["outcome"]["kind"], "no_record", "{v}");
    // No such serial: no record, saying what was searched.
    let v = draft(request("99-000", "Norinco"));
    assert_eq!(v["answer"]["outcome"]["kind"], "no_record", "{v}");
    assert!(v["answer"]["outcome"]["searched"]
        .as_str()
        .unwrap()
        .contains("99-000"));
}

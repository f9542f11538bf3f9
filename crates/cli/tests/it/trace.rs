//! `tracemark trace`: a draft request from a registry item, the completeness check with the
//! proposed recipients (exit 1 while a gap blocks sending), the printable request, and the
//! life cycle on record: create, send, record what came on paper, follow up, close; list,
//! show, figures, the overdue list and the federation outbox; and a trace between two served
//! installations, the requested side's steps taken with the CLI.

use crate::{stderr, Backend, Store, EXAMPLE};
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

/// Runs `tracemark <args>` and returns its exit code, stdout and stderr.
fn run(s: &Store, args: &[&str]) -> (i32, String, String) {
    let out = s.run(args);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr(&out),
    )
}

/// Runs `tracemark <args>` with `input` on its stdin.
fn with_stdin(s: &Store, args: &[&str], input: &str) -> std::process::Output {
    use std::process::Stdio;
    let mut child = s
        .cmd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The example's draft with the reason filled in (a seizure: in the scope of SDG 16.4.2),
/// recorded as a draft; its key.
fn created(s: &Store) -> (String, Value) {
    let (code, report) = s.import(&s.file("example.jsonl", EXAMPLE), &[]);
    assert_eq!(code, 0, "{report}");
    let mut d = draft(s);
    d["illicit"] =
        serde_json::json!({"reason": "seized", "details": "Seized at a roadblock in Isiolo."});
    let f = s.file("request.json", &d.to_string());
    let v = s.json(&["trace", "create", f.to_str().unwrap(), "--json"]);
    assert_eq!(v["key"], "KE:TR-KE-2019-000123", "{v}");
    assert_eq!(v["status"], "draft", "{v}");
    assert_eq!(v["index"], 0, "{v}");
    (v["key"].as_str().unwrap().to_owned(), d)
}

const WAIVERS: [&str; 6] = [
    "--waive",
    "missing_legal_basis=Firearms Act (Cap. 114), cited in the covering letter",
    "--waive",
    "missing_circumstances=Described in the covering letter",
    "--waive",
    "missing_intended_use=Criminal prosecution",
];

fn show(s: &Store, key: &str) -> Value {
    s.json(&["trace", "show", key, "--json"])
}

on_both_stores!(the_requesting_side_records_a_trace_answered_on_paper);

/// The requesting side on one node, with a requested state that does not run Tracemark:
/// created, refused while gaps are unexplained, sent with explanations (UG reported as not
/// federated), UG's acknowledgement and answer recorded from paper, a follow-up, a second
/// answer by e-mail, closed with feedback — every step on record, in the list and the figures.
fn the_requesting_side_records_a_trace_answered_on_paper(b: Backend) {
    let s = Store::on(b, "KE");
    let (key, _) = created(&s);
    let key = key.as_str();

    // A blocking gap without an explanation: refused, each gap named, nothing recorded.
    let (code, _, err) = run(&s, &["trace", "send", key, "--to", "UG"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for gap in [
        "missing_legal_basis",
        "missing_circumstances",
        "missing_intended_use",
    ] {
        assert!(err.contains(gap), "{gap} not in {err}");
    }
    assert!(!err.contains("missing_illicit_reason"), "{err}");
    assert_eq!(show(&s, key)["status"], "draft");

    // Sent with explanations; UG is not a peer: the printable request, named.
    let mut args = vec!["trace", "send", key, "--to", "UG"];
    args.extend(WAIVERS);
    let (code, out, err) = run(&s, &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{key}: sent")), "{out}");
    assert!(out.contains("not federated: UG"), "{out}");
    assert!(
        out.contains(&format!(
            "tracemark trace show {key} --request | tracemark trace print - --to UG"
        )),
        "{out}"
    );

    // UG's acknowledgement and first answer came on paper.
    let (code, _, err) = run(
        &s,
        &[
            "trace",
            "acknowledge",
            key,
            "--for",
            "UG",
            "--channel",
            "paper",
            "--note",
            "Letter UG/NFC/12 of 3 March",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let no_record = s.file(
        "no_record.json",
        r#"{"outcome": {"kind": "no_record", "searched": "Import register 1980-1990"}}"#,
    );
    let v = s.json(&[
        "trace",
        "answer",
        key,
        no_record.to_str().unwrap(),
        "--for",
        "UG",
        "--channel",
        "paper",
        "--json",
    ]);
    assert_eq!(v["status"], "answered", "{v}");
    assert_eq!(v["index"], 3, "{v}");

    // A follow-up question, answered again by e-mail (the answer `answer-draft` proposes).
    let v = s.json(&[
        "trace",
        "follow-up",
        key,
        "--to",
        "UG",
        "--question",
        "Please search the 1985 transit records.",
        "--json",
    ]);
    assert_eq!(v["status"], "follow_up", "{v}");
    assert_eq!(v["not_federated"], serde_json::json!(["UG"]), "{v}");
    let request = s.file("request.json", &draft(&s).to_string());
    let proposed = s.json(&["trace", "answer-draft", request.to_str().unwrap()]);
    let full = s.file("full.json", &proposed["answer"].to_string());
    let (code, _, err) = run(
        &s,
        &[
            "trace",
            "answer",
            key,
            full.to_str().unwrap(),
            "--for",
            "UG",
            "--channel",
            "email",
        ],
    );
    assert_eq!(code, 0, "{err}");

    // Closed with feedback.
    let v = s.json(&[
        "trace",
        "close",
        key,
        "--feedback",
        "UG=5:Named the last legal holder",
        "--json",
    ]);
    assert_eq!(v["status"], "closed", "{v}");

    // Every step, as stored.
    let t = show(&s, key);
    assert_eq!(t["status"], "closed", "{t}");
    assert_eq!(t["role"], "requesting", "{t}");
    let steps = t["steps"].as_array().unwrap();
    let events: Vec<&str> = steps
        .iter()
        .map(|r| r["record"]["event"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "drafted",
            "sent",
            "acknowledged",
            "answered",
            "follow_up",
            "answered",
            "closed"
        ],
        "{t}"
    );
    for (i, r) in steps.iter().enumerate() {
        assert_eq!(r["index"], i as u64, "{r}");
        assert!(
            r["recorded_by"].as_str().unwrap().starts_with("cli:"),
            "{r}"
        );
        assert_eq!(r["record"]["trace"], key, "{r}");
    }
    assert_eq!(steps[2]["record"]["channel"], "paper");
    assert_eq!(steps[2]["record"]["note"], "Letter UG/NFC/12 of 3 March");
    assert_eq!(steps[2]["record"]["event"]["by"], "UG");
    assert_eq!(
        steps[3]["record"]["event"]["answer"]["outcome"]["kind"],
        "no_record"
    );
    assert_eq!(steps[5]["record"]["channel"], "email");
    assert_eq!(
        steps[5]["record"]["event"]["answer"]["outcome"]["kind"],
        "full"
    );
    assert_eq!(steps[6]["record"]["event"]["feedback"][0]["rating"], 5);
    assert_eq!(t["exchanges"][0]["state"], "UG", "{t}");
    assert_eq!(t["exchanges"][0]["answers"], 2, "{t}");
    // The human view names the steps and how they came.
    let (_, out, _) = run(&s, &["trace", "show", key]);
    assert!(out.contains("received by paper"), "{out}");
    assert!(out.contains("Letter UG/NFC/12 of 3 March"), "{out}");

    // The list.
    let list = s.json(&["trace", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["key"], key);
    assert_eq!(list[0]["status"], "closed");
    assert_eq!(list[0]["role"], "requesting");
    assert_eq!(list[0]["priority"], "routine");
    assert_eq!(list[0]["requested_states"], serde_json::json!(["UG"]));
    assert_eq!(list[0]["case_reference"], "CR 114/2026");
    assert_eq!(list[0]["records"], 7);
    for filter in [
        ["--status", "draft"],
        ["--role", "requested"],
        ["--case", "CR 1"],
    ] {
        let v = s.json(&["trace", "list", filter[0], filter[1], "--json"]);
        assert_eq!(v, serde_json::json!([]), "{filter:?}");
    }
    let v = s.json(&["trace", "list", "--case", "CR 114/2026", "--json"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (_, out, _) = run(&s, &["trace", "list", "--status", "closed"]);
    assert!(out.contains(key) && out.contains("closed"), "{out}");

    // The figures.
    let f = s.json(&["trace", "figures", "--json"]);
    assert_eq!(f["sent"], 1, "{f}");
    assert_eq!(f["received"], 0, "{f}");
    assert_eq!(f["drafts"], 0, "{f}");
    let ug = &f["by_requested_state"]["UG"];
    assert_eq!(ug["requests"], 1, "{f}");
    assert_eq!(ug["acknowledged"], 1, "{f}");
    assert_eq!(ug["answered"], 1, "{f}");
    assert_eq!(ug["outcomes"]["full"], 1, "the standing answer: {f}");
    assert_eq!(ug["ratings"], serde_json::json!([0, 0, 0, 0, 1]), "{f}");
    assert_eq!(f["sdg_16_4_2"]["items"], 1, "{f}");
    assert_eq!(f["sdg_16_4_2"]["established"], 1, "{f}");
    let (_, out, _) = run(&s, &["trace", "figures"]);
    assert!(out.contains("requests sent 1"), "{out}");

    // Nothing went to the outbox (UG is no peer), and the ledger is untouched and sound.
    assert_eq!(
        s.json(&["federation", "outbox", "--json"]),
        serde_json::json!([])
    );
    let (code, _, err) = run(&s, &["ledger", "verify"]);
    assert_eq!(code, 0, "{err}");
}

/// Steps the rules or the side refuse exit 1 with one line naming what is wrong, and record
/// nothing; arguments that cannot be read exit 2.
#[test]
fn refused_steps_are_named_and_record_nothing() {
    let s = Store::new("KE");
    let (key, _) = created(&s);
    let key = key.as_str();
    let records = |s: &Store| show(s, key)["steps"].as_array().unwrap().len();
    let refused = |args: &[&str], code: i32, words: &[&str]| {
        let (got, out, err) = run(&s, args);
        assert_eq!(got, code, "{args:?}: {out} {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        for w in words {
            assert!(err.contains(w), "{args:?}: '{w}' not in {err}");
        }
    };

    // Unknown keys.
    refused(&["trace", "show", "KE:TR-NONE"], 1, &["KE:TR-NONE"]);
    refused(
        &[
            "trace",
            "acknowledge",
            "KE:TR-NONE",
            "--for",
            "UG",
            "--channel",
            "fax",
        ],
        1,
        &["KE:TR-NONE"],
    );
    // The same request twice.
    let f = s.file("again.json", &draft(&s).to_string());
    refused(
        &["trace", "create", f.to_str().unwrap()],
        1,
        &["KE:TR-KE-2019-000123", "already"],
    );
    // A draft is not acknowledged.
    refused(
        &[
            "trace",
            "acknowledge",
            key,
            "--for",
            "UG",
            "--channel",
            "paper",
        ],
        1,
        &[],
    );
    // Explanations that are not gap codes, or for gaps the request does not have.
    refused(
        &["trace", "send", key, "--to", "UG", "--waive", "colour=red"],
        2,
        &["colour"],
    );
    let mut args = vec![
        "trace",
        "send",
        key,
        "--to",
        "UG",
        "--waive",
        "missing_make=x",
    ];
    args.extend(WAIVERS);
    refused(&args, 1, &["missing_make"]);
    refused(&["trace", "send", key, "--to", "KE"], 1, &["KE"]);
    refused(&["trace", "send", key, "--to", "XX"], 2, &["--to", "XX"]);
    assert_eq!(records(&s), 1);
    // A request on stdin that is not one.
    let out = with_stdin(&s, &["trace", "create", "-"], "{\"id\": 3}");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stdin: line 1, column 8"),
        "{}",
        stderr(&out)
    );

    let mut args = vec!["trace", "send", key, "--to", "UG,TZ"];
    args.extend(WAIVERS);
    let (code, _, err) = run(&s, &args);
    assert_eq!(code, 0, "{err}");

    // Answering one's own request without saying whose answer it is.
    let answer = s.file(
        "answer.json",
        r#"{"outcome": {"kind": "no_record", "searched": "Everything"}}"#,
    );
    refused(
        &["trace", "answer", key, answer.to_str().unwrap()],
        1,
        &["own request", "--for"],
    );
    refused(&["trace", "acknowledge", key], 1, &["own request"]);
    // --for without --channel.
    refused(
        &[
            "trace",
            "answer",
            key,
            answer.to_str().unwrap(),
            "--for",
            "UG",
        ],
        2,
        &["--channel"],
    );
    // A state the request was not sent to.
    refused(
        &[
            "trace",
            "answer",
            key,
            answer.to_str().unwrap(),
            "--for",
            "CD",
            "--channel",
            "email",
        ],
        1,
        &["CD"],
    );
    // Bad answer files: the field and the line named.
    let bad = s.file(
        "bad_answer.json",
        "{\n  \"outcome\": {\"kind\": \"no_record\"}\n}",
    );
    refused(
        &[
            "trace",
            "answer",
            key,
            bad.to_str().unwrap(),
            "--for",
            "UG",
            "--channel",
            "paper",
        ],
        1,
        &["bad_answer.json: line 3", "missing field `searched`"],
    );
    let bad = s.file(
        "bad_answer2.json",
        r#"{"outcome": {"kind": "no_record", "searched": "x"}, "colour": "red"}"#,
    );
    refused(
        &[
            "trace",
            "answer",
            key,
            bad.to_str().unwrap(),
            "--for",
            "UG",
            "--channel",
            "paper",
        ],
        1,
        &["line 1", "colour"],
    );
    refused(
        &[
            "trace",
            "answer",
            key,
            "/nonexistent/answer.json",
            "--for",
            "UG",
            "--channel",
            "paper",
        ],
        2,
        &["/nonexistent/answer.json"],
    );
    // A follow-up before any answer; feedback that is not a rating.
    refused(
        &[
            "trace",
            "follow-up",
            key,
            "--to",
            "UG",
            "--question",
            "More?",
        ],
        1,
        &[],
    );
    refused(
        &["trace", "close", key, "--feedback", "UG=9"],
        2,
        &["1 to 5"],
    );
    assert_eq!(records(&s), 2, "nothing recorded by the refusals");

    // Closed once; the second closing is refused.
    let (code, _, err) = run(&s, &["trace", "close", key]);
    assert_eq!(code, 0, "{err}");
    refused(&["trace", "close", key], 1, &["closed"]);
    let f = s.file("request.json", &draft(&s).to_string());
    refused(
        &["trace", "amend", key, f.to_str().unwrap()],
        1,
        &["closed"],
    );
    let mut other = draft(&s);
    other["id"] = "TR-OTHER".into();
    let f = s.file("other.json", &other.to_string());
    refused(
        &["trace", "amend", key, f.to_str().unwrap()],
        1,
        &["KE:TR-OTHER", key],
    );
    refused(
        &[
            "trace",
            "answer",
            key,
            answer.to_str().unwrap(),
            "--for",
            "UG",
            "--channel",
            "paper",
        ],
        1,
        &["closed"],
    );
    assert_eq!(records(&s), 3);
    let (code, _, err) = run(&s, &["ledger", "verify"]);
    assert_eq!(code, 0, "{err}");
}

/// A node that has UG as a peer queues the request for UG in the outbox (TZ, not a peer, gets
/// the printable request), chains the trace on to CD, and nothing is overdue yet. (The CLI
/// reads the wall clock and there is no way to move it, so the overdue list at a later time
/// is tested on the engine.)
#[test]
fn a_peer_gets_a_message_and_a_chained_trace_follows() {
    let s = Store::new("KE");
    let ug = Store::new("UG");
    let id = ug.json(&["federation", "identity", "--json"]);
    let (code, _, err) = run(
        &s,
        &[
            "peer",
            "add",
            "--url",
            "https://tracemark.ug.example",
            "--identity",
            &id.to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (key, d) = created(&s);
    let key = key.as_str();
    // Amended before sending: the request on record is the new one.
    let mut amended = d.clone();
    amended["confidentiality"] = "Do not contact the importer.".into();
    let f = s.file("amended.json", &amended.to_string());
    let v = s.json(&["trace", "amend", key, f.to_str().unwrap(), "--json"]);
    assert_eq!(v["status"], "draft", "{v}");
    let request = s.json(&["trace", "show", key, "--request"]);
    assert_eq!(request, amended);
    let mut args = vec!["trace", "send", key, "--to", "UG,TZ", "--json"];
    args.extend(WAIVERS);
    let v = s.json(&args);
    assert_eq!(v["status"], "sent", "{v}");
    assert_eq!(v["queued_for"], serde_json::json!(["UG"]), "{v}");
    assert_eq!(v["not_federated"], serde_json::json!(["TZ"]), "{v}");

    let outbox = s.json(&["federation", "outbox", "--json"]);
    let rows = outbox.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{outbox}");
    assert_eq!(rows[0]["peer"], "UG");
    assert_eq!(rows[0]["trace"], key);
    assert_eq!(rows[0]["status"], "waiting");
    assert_eq!(rows[0]["attempts"], 0);
    let t = show(&s, key);
    assert_eq!(
        t["steps"][2]["record"]["sent"][0]["message"], rows[0]["message_id"],
        "the record names the message: {t}"
    );
    let (_, out, _) = run(&s, &["federation", "outbox"]);
    assert!(out.contains("waiting") && out.contains("UG"), "{out}");

    // Chained on to CD: a new trace naming its parent, drafted and sent in one step.
    let v = s.json(&["trace", "chain", key, "--to", "CD", "--json"]);
    assert_eq!(v["key"], "KE:TR-KE-2019-000123-CD", "{v}");
    assert_eq!(v["status"], "sent", "{v}");
    assert_eq!(v["not_federated"], serde_json::json!(["CD"]), "{v}");
    let request = s.json(&["trace", "show", "KE:TR-KE-2019-000123-CD", "--request"]);
    assert_eq!(request["id"], "TR-KE-2019-000123-CD", "{request}");
    assert_eq!(request["parent_trace"], "TR-KE-2019-000123", "{request}");
    let out = with_stdin(
        &s,
        &["trace", "print", "-", "--to", "CD"],
        &request.to_string(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(
        html.contains("TR-KE-2019-000123-CD") && html.contains("<td>CD</td>"),
        "{html}"
    );
    let list = s.json(&["trace", "list", "--json"]);
    let chained = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "KE:TR-KE-2019-000123-CD")
        .unwrap();
    assert_eq!(chained["parent"], key, "{list}");
    let (code, _, err) = run(&s, &["trace", "chain", key, "--to", "CD"]);
    assert_eq!(code, 1, "the same chained trace twice: {err}");

    // Just sent: nothing overdue, no reminder due.
    let v = s.json(&["trace", "overdue", "--json"]);
    assert_eq!(v["overdue"], serde_json::json!([]), "{v}");
    assert_eq!(v["reminders"], serde_json::json!([]), "{v}");
    let (_, out, _) = run(&s, &["trace", "overdue"]);
    assert!(out.contains("nothing overdue"), "{out}");
}

/// A running server, stopped when dropped (also when the test fails).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `s` on a free loopback port; its base URL.
fn serve(s: &Store) -> (Server, String) {
    let (child, rx) = crate::serve::serve_process(s, &["--addr", "127.0.0.1:0"]);
    let server = Server(child);
    let line = crate::serve::wait_for_line(&rx, |l| l.starts_with("serving "));
    let addr = line
        .strip_prefix("serving http://")
        .and_then(|l| l.split('/').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    // The rest of its stderr is drained so that the server never blocks on it.
    std::thread::spawn(move || while rx.recv().is_ok() {});
    (server, format!("http://{addr}"))
}

/// Waits up to 60 seconds for `done` to hold of `s`'s `trace show --json` of `key`.
fn wait_for(s: &Store, key: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = s.run(&["trace", "show", key, "--json"]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            if done(&v) {
                return v;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited in vain: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Two installations that are peers, each served: Kenya's request reaches Uganda's node,
/// Uganda's officer acknowledges and answers it there with the CLI (this node's own steps,
/// no --for), the steps come back to Kenya, and Kenya's closing reaches Uganda.
#[test]
fn two_installations_trace_over_the_federation() {
    let ke = Store::new("KE");
    let ug = Store::new("UG");
    let (_ke_server, ke_url) = serve(&ke);
    let (_ug_server, ug_url) = serve(&ug);
    for (s, url, other) in [(&ke, &ug_url, &ug), (&ug, &ke_url, &ke)] {
        let id = other.json(&["federation", "identity", "--json"]);
        let (code, _, err) = run(
            s,
            &["peer", "add", "--url", url, "--identity", &id.to_string()],
        );
        assert_eq!(code, 0, "{err}");
    }

    let (key, _) = created(&ke);
    let key = key.as_str();
    let mut args = vec!["trace", "send", key, "--to", "UG", "--json"];
    args.extend(WAIVERS);
    let v = ke.json(&args);
    assert_eq!(v["queued_for"], serde_json::json!(["UG"]), "{v}");

    // Delivered: Uganda holds the request, on the requested side.
    wait_for(&ug, key, |t| t["status"] == "sent");
    let list = ug.json(&["trace", "list", "--role", "requested", "--json"]);
    assert_eq!(list[0]["key"], key, "{list}");
    assert_eq!(list[0]["requesting_state"], "KE", "{list}");
    let t = wait_for(&ke, key, |t| t["exchanges"][0]["delivered_at"].is_string());
    assert_eq!(t["status"], "delivered", "{t}");
    let outbox = ke.json(&["federation", "outbox", "--json"]);
    assert_eq!(outbox[0]["status"], "delivered", "{outbox}");

    // Uganda's officer takes its own steps; recording them "for" a state is Kenya's side.
    let answer = ug.file(
        "answer.json",
        r#"{"outcome": {"kind": "no_record", "searched": "Import register 1980-2020"}}"#,
    );
    let (code, _, err) = run(
        &ug,
        &[
            "trace",
            "acknowledge",
            key,
            "--for",
            "UG",
            "--channel",
            "paper",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("without --for"), "{err}");
    let v = ug.json(&["trace", "acknowledge", key, "--json"]);
    assert_eq!(v["status"], "acknowledged", "{v}");
    assert_eq!(v["queued_for"], serde_json::json!(["KE"]), "{v}");
    let v = ug.json(&["trace", "answer", key, answer.to_str().unwrap(), "--json"]);
    assert_eq!(v["status"], "answered", "{v}");
    let (code, _, err) = run(&ug, &["trace", "close", key]);
    assert_eq!(code, 1, "only Kenya closes: {err}");

    // Both steps reach Kenya, received from UG.
    let t = wait_for(&ke, key, |t| t["status"] == "answered");
    let answered = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["record"]["event"]["event"] == "answered")
        .unwrap();
    assert_eq!(answered["record"]["received"]["from"], "UG", "{t}");
    assert_eq!(answered["recorded_by"], "federation:UG", "{t}");

    // Kenya closes with feedback; Uganda learns of it.
    let v = ke.json(&["trace", "close", key, "--feedback", "UG=3", "--json"]);
    assert_eq!(v["queued_for"], serde_json::json!(["UG"]), "{v}");
    let t = wait_for(&ug, key, |t| t["status"] == "closed");
    assert_eq!(t["role"], "requested", "{t}");
    let f = ug.json(&["trace", "figures", "--json"]);
    assert_eq!(f["received"], 1, "{f}");
    assert_eq!(f["by_requesting_state"]["KE"]["answered"], 1, "{f}");
    for s in [&ke, &ug] {
        let (code, _, err) = run(s, &["ledger", "verify"]);
        assert_eq!(code, 0, "{err}");
    }
}

//! `tracemark export`: JSON Lines that round-trip into a fresh store, CSV and Parquet tables
//! whose row counts match the store, usage errors with exit status 2.

use crate::*;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// A store loaded with `generate --items 300 --seed 7`.
fn generated() -> Store {
    let s = Store::new("KE");
    let out = Command::new(BIN)
        .args(["generate", "--items", "300", "--seed", "7"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let f = s.dir.path().join("gen.jsonl");
    std::fs::write(&f, &out.stdout).unwrap();
    let (code, report) = s.import(&f, &[]);
    assert_eq!(code, 0, "{report}");
    s
}

/// Drops what the importing store records of its own (when and by whom), everywhere.
fn without_acceptance(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("recorded_at");
            o.remove("recorded_by");
            o.values_mut().for_each(without_acceptance);
        }
        Value::Array(a) => a.iter_mut().for_each(without_acceptance),
        _ => {}
    }
}

fn count(s: &Store, table: &str) -> u64 {
    let db = rusqlite::Connection::open(s.data().join("tracemark.db")).unwrap();
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

fn csv_rows(path: &Path) -> u64 {
    let mut r = csv::Reader::from_path(path).unwrap();
    let mut n = 0;
    for rec in r.records() {
        rec.unwrap();
        n += 1;
    }
    n
}

fn parquet_rows(path: &Path) -> u64 {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    r.metadata().file_metadata().num_rows() as u64
}

#[test]
fn jsonl_export_round_trips_into_a_fresh_store() {
    let a = generated();
    let out = a.run(&["export", "--format", "jsonl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "quiet: {}", stderr(&out));
    let exported = out.stdout;
    let lines: Vec<&[u8]> = exported
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len() as u64, a.ledger_size());
    // --out writes the same bytes to a file; --format defaults to jsonl.
    let file = a.dir.path().join("export.jsonl");
    let out = a.run(&["export", "--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&file).unwrap(), exported);

    let b = Store::new("KE");
    let (code, report) = b.import(&file, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["accepted"].as_u64().unwrap(), lines.len() as u64);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(b.ledger_size(), a.ledger_size());
    assert_eq!(b.json(&["ledger", "verify", "--json"])["ok"], true);
    // Exporting the copy gives the same bytes again.
    let again = b.run(&["export"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(again.stdout, exported);

    let keys: Vec<String> = lines
        .iter()
        .map(|l| serde_json::from_slice::<Value>(l).unwrap())
        .filter(|r| r["record"] == "item")
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 300);
    for key in &keys {
        for cmd in [&["item", "show"][..], &["custody"][..]] {
            let args: Vec<&str> = cmd
                .iter()
                .copied()
                .chain([key.as_str(), "--json"])
                .collect();
            let mut x = a.json(&args);
            let mut y = b.json(&args);
            without_acceptance(&mut x);
            without_acceptance(&mut y);
            assert_eq!(x, y, "{args:?}");
        }
    }
}

#[test]
fn csv_and_parquet_tables_have_the_store_s_rows() {
    let s = generated();
    let (items, markings, events) = (
        count(&s, "items"),
        count(&s, "markings"),
        count(&s, "events"),
    );
    assert_eq!(items, 300);
    assert!(markings > items && events > items, "{markings} {events}");
    let csv_dir = s.dir.path().join("out/csv");
    let out = s.run(&[
        "export",
        "--format",
        "csv",
        "--out",
        csv_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(csv_rows(&csv_dir.join("items.csv")), items);
    assert_eq!(csv_rows(&csv_dir.join("markings.csv")), markings);
    assert_eq!(csv_rows(&csv_dir.join("events.csv")), events);
    let header = std::fs::read_to_string(csv_dir.join("items.csv")).unwrap();
    assert!(header.starts_with("key,internal_id,ledger_index,kind,type,make,model,calibre,country_of_manufacture,year_of_manufacture,parent,quantity,status,holder,"));

    let pq_dir = s.dir.path().join("out/pq");
    let out = s.run(&[
        "export",
        "--format",
        "parquet",
        "--out",
        pq_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(parquet_rows(&pq_dir.join("items.parquet")), items);
    assert_eq!(parquet_rows(&pq_dir.join("markings.parquet")), markings);
    assert_eq!(parquet_rows(&pq_dir.join("events.parquet")), events);

    // One table only.
    let one = s.dir.path().join("out/one");
    let out = s.run(&[
        "export",
        "--format",
        "parquet",
        "--table",
        "markings",
        "--out",
        one.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let names: Vec<String> = std::fs::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["markings.parquet"]);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let s = Store::new("KE");
    let f = s.file("example.jsonl", EXAMPLE);
    assert_eq!(s.import(&f, &[]).0, 0);
    let blocker = s.file("a-file", "x");
    let under_file = blocker.join("sub");
    let cases: Vec<Vec<&str>> = vec![
        vec!["export", "--format", "csv"],
        vec!["export", "--format", "parquet"],
        vec![
            "export",
            "--format",
            "csv",
            "--out",
            blocker.to_str().unwrap(),
        ],
        vec![
            "export",
            "--format",
            "csv",
            "--out",
            under_file.to_str().unwrap(),
        ],
        vec![
            "export",
            "--format",
            "jsonl",
            "--out",
            under_file.to_str().unwrap(),
        ],
        vec!["export", "--table", "items"],
        vec!["export", "--format", "xml"],
        vec![
            "export", "--format", "csv", "--table", "people", "--out", "x",
        ],
    ];
    for args in cases {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(out.stdout.is_empty());
    }
    // No store is a usage error too.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--data",
            dir.path().join("none").to_str().unwrap(),
            "export",
        ])
        .env_remove("TRACEMARK_DATA")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `items.csv` is read by the register import (`import --format csv`): its headers are
/// recognised without a mapping of columns; the file only needs the date of the register's
/// state (`as_of`) for the holder and status columns. Rows whose status the register import
/// has no word for (`recorded`, `civilian_held`) are refused, and so are parts whose weapon was
/// in such a row; every other row comes back as the same item.
#[test]
fn items_csv_is_read_back_by_the_register_import() {
    let a = generated();
    let dir = a.dir.path().join("out");
    let out = a.run(&[
        "export",
        "--format",
        "csv",
        "--table",
        "items",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let b = Store::new("KE");
    let mapping = b.file("mapping.toml", "as_of = \"2026-01-01\"\n");
    let rejects = b.dir.path().join("rejects.csv");
    let items = dir.join("items.csv");
    let (code, report) = b.import(
        &items,
        &[
            "--format",
            "csv",
            "--mapping",
            mapping.to_str().unwrap(),
            "--quiet",
            "--accept-valid",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    // Every row reads back: Tracemark's own statuses (`recorded`, `civilian_held`…) are known
    // to the register import and give no event.
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["rows"], 300);
    assert_eq!(report["rejected"], 0, "{report}");
    let mut r = csv::Reader::from_path(&items).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let mut compared = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let key = &rec[col("key")];
        let got = b.json(&["item", "show", key, "--json"]);
        let want = a.json(&["item", "show", key, "--json"]);
        for f in [
            "kind",
            "type",
            "make",
            "model",
            "calibre",
            "country_of_manufacture",
            "year_of_manufacture",
            "parent",
            "quantity",
        ] {
            assert_eq!(got[f], want[f], "{key} {f}");
        }
        let serials: Vec<&Value> = want["markings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "serial")
            .map(|m| &m["text"])
            .collect();
        if serials.len() == 1 {
            assert_eq!(&got["markings"][0]["text"], serials[0], "{key}");
        }
        compared += 1;
    }
    assert_eq!(compared, 300, "every item read back");
}

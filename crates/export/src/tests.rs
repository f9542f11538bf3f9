//! Unit tests: a real SQLite store in a temporary folder, filled through the import engine.

use super::*;
use crate::csv_out::{time_text, CsvSink};
use crate::parquet_out::ParquetSink;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use std::collections::HashMap;
use tracemark_registry::import::{import, ImportOptions};
use tracemark_registry::{FixedClock, Node};

/// Items and events that exercise every column: other scripts, quoting, corrections (of an
/// item's type and quantity, of an event's date), a voided event, parts and ammunition.
const DATA: &str = r#"{"record":"item","key":"KE-1","kind":"firearm","type":"assault_rifle","make":"Izhmash","model":"AKM","calibre":"7.62x39mm","country_of_manufacture":"RU","year_of_manufacture":1975,"markings":[{"kind":"serial","text":"РА 1234","component":"receiver"},{"kind":"factory_code","text":"\"66\", star","legibility":"partial"},{"kind":"serial","text":"١٢٣٤٥","component":"bolt"}]}
{"record":"event","id":"ev-1","item":"KE-1","type":"imported","date":"1985-06","from":{"name":"Exporter, \"Ltd\"","country":"RU","kind":"exporter","licence":"EX-1"},"to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"},"documents":[{"kind":"import_licence","number":"IL-85/112","issued_by":"KE"},{"kind":"invoice","number":"77"}],"place":{"country":"KE","admin1":"Mombasa","locality":"Kilindini","lat":-4.05,"lon":39.66}}
{"record":"event","id":"ev-2","item":"KE-1","type":"assigned","date":"1986-02-03","to":{"name":"Unit 7","country":"KE","kind":"armed_forces"},"note":"line one\nline two, with a comma and \"quotes\""}
{"record":"event","id":"ev-3","item":"KE-1","type":"reported_stolen","date":"2011-02-03T10:20:00Z","place":{"country":"KE","admin1":"Nairobi"}}
{"record":"event","item":"KE-1","type":"corrected","date":"2012","corrects":"ev-3","void":true,"note":"entered in error"}
{"record":"event","item":"KE-1","type":"corrected","date":"2012","corrects":"item","set":{"type":"rifle"}}
{"record":"item","key":"KE-1-BOLT","kind":"part","type":"bolt","parent":"KE-1","markings":[{"kind":"serial","text":"B-7781","component":"bolt"}]}
{"record":"item","key":"LOT-9","kind":"ammunition_lot","type":"cartridge","calibre":"7.62x39mm","quantity":1000,"markings":[{"kind":"headstamp","text":"539 80"}]}
{"record":"event","item":"LOT-9","type":"corrected","date":"2013","corrects":"item","set":{"type":"cartridge_lot"}}
"#;

struct Fixture {
    dir: tempfile::TempDir,
    node: Node,
}

fn fixture(data: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = FixedClock("2026-01-01T00:00:00Z".into());
    let mut node = Node::init(&dir.path().join("data"), "KE", None, &clock).unwrap();
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, data).unwrap();
    let opts = ImportOptions {
        recorded_by: "test".into(),
        ..ImportOptions::default()
    };
    let report = import(&mut node, &[file], &opts, &clock).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    Fixture { dir, node }
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// A Parquet file's rows, each value turned into the text the CSV export writes for it.
fn read_parquet(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let header = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(_, f)| match f {
                    Field::Null => String::new(),
                    Field::Str(s) => s.clone(),
                    Field::Long(n) => n.to_string(),
                    Field::Double(d) => d.to_string(),
                    Field::Bool(b) => b.to_string(),
                    Field::TimestampMillis(ms) => {
                        assert_eq!(ms % 1000, 0);
                        time_text(ms / 1000)
                    }
                    other => panic!("unexpected Parquet value {other:?}"),
                })
                .collect()
        })
        .collect();
    (header, rows)
}

fn by_name(header: &[String], row: &[String]) -> HashMap<String, String> {
    header.iter().cloned().zip(row.iter().cloned()).collect()
}

#[test]
fn csv_quotes_per_rfc_4180_and_keeps_every_script() {
    let texts = [
        "plain",
        "a,b",
        "say \"hi\"",
        "two\nlines",
        "cr\r\nlf",
        "РА 1234",
        "١٢٣٤٥",
        "  spaced  ",
        "=1+1",
    ];
    let mut sink = CsvSink::to_writer(Table::Markings, Vec::new(), "test".into()).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let m = tracemark_store::MarkingRow {
            kind: "serial".into(),
            text: (*t).to_owned(),
            component: (i % 2 == 0).then(|| "receiver, left".to_owned()),
            legibility: "clear".into(),
        };
        sink.row(&table::marking_cells("K,1", i, &m)).unwrap();
    }
    sink.finish().unwrap();
    let bytes = sink.into_inner().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("item,position,kind,text,component,legibility,canonical\r\n"));
    assert!(
        text.contains("\"K,1\",1,serial,\"a,b\",,clear,AB\r\n"),
        "{text}"
    );
    assert!(text.contains(",\"say \"\"hi\"\"\","), "{text}");
    assert!(text.contains(",\"two\nlines\","), "{text}");
    assert!(text.contains(",РА 1234,,clear,РА1234\r\n"), "{text}");
    assert!(
        text.contains(",١٢٣٤٥,\"receiver, left\",clear,12345\r\n"),
        "{text}"
    );
    // Read back with a conforming reader: every text exactly as given.
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let got: Vec<String> = r.records().map(|rec| rec.unwrap()[3].to_owned()).collect();
    assert_eq!(got, texts);
}

#[test]
fn tables_match_the_projections_in_csv_and_parquet_alike() {
    let f = fixture(DATA);
    let store = f.node.store.as_ref();
    let csv_dir = f.dir.path().join("csv");
    let pq_dir = f.dir.path().join("pq/nested");
    let w = export_tables(store, TableFormat::Csv, &csv_dir, &[]).unwrap();
    assert_eq!(w.ledger_size, 9);
    let counts: Vec<u64> = w.outputs.iter().map(|o| o.2).collect();
    assert_eq!(counts, vec![3, 5, 6]);
    export_tables(store, TableFormat::Parquet, &pq_dir, &[]).unwrap();
    for t in Table::ALL {
        let (ch, crows) = read_csv(&csv_dir.join(format!("{}.csv", t.name())));
        let (ph, prows) = read_parquet(&pq_dir.join(format!("{}.parquet", t.name())));
        let names: Vec<&str> = t.columns().iter().map(|c| c.name).collect();
        assert_eq!(ch, names);
        assert_eq!(ph, names);
        assert_eq!(crows, prows, "table {}", t.name());
    }
    // No temporary files are left behind.
    let mut left: Vec<String> = std::fs::read_dir(&csv_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["events.csv", "items.csv", "markings.csv"]);

    let (h, items) = read_csv(&csv_dir.join("items.csv"));
    let item = |key: &str| by_name(&h, items.iter().find(|r| r[0] == key).unwrap());
    // Every item of the projection, with the projection's values.
    let mut keys = Vec::new();
    store
        .scan_items(&mut |row| {
            keys.push(row.key.clone());
            let got = item(&row.key);
            assert_eq!(got["internal_id"], format!("tm:{}", row.id));
            assert_eq!(got["ledger_index"], row.id.to_string());
            assert_eq!(got["status"], row.state.status);
            assert_eq!(got["make"], row.attrs.make.clone().unwrap_or_default());
            Ok(())
        })
        .unwrap();
    assert_eq!(keys.len(), items.len());
    let ke1 = item("KE-1");
    assert_eq!(ke1["type"], "rifle", "the item correction is applied");
    assert_eq!(ke1["status"], "in_service", "the theft report was voided");
    assert_eq!(ke1["holder"], "Unit 7");
    assert_eq!(ke1["holdercountry"], "KE");
    assert_eq!(ke1["holderkind"], "armed_forces");
    assert_eq!(ke1["serial"], "РА 1234; ١٢٣٤٥");
    assert_eq!(ke1["year_of_manufacture"], "1975");
    assert_eq!(ke1["quantity"], "");
    assert_eq!(item("LOT-9")["quantity"], "1000");
    assert_eq!(item("LOT-9")["type"], "cartridge_lot");
    assert_eq!(item("LOT-9")["status"], "recorded");
    assert_eq!(item("KE-1-BOLT")["parent"], "KE-1");

    let (h, marks) = read_csv(&csv_dir.join("markings.csv"));
    let m0 = by_name(&h, &marks[0]);
    assert_eq!(m0["item"], "KE-1");
    assert_eq!(m0["text"], "РА 1234");
    assert_eq!(m0["canonical"], tracemark_search::canonical("РА 1234"));
    assert_eq!(m0["canonical"], "РА1234");
    let m1 = by_name(&h, &marks[1]);
    assert_eq!(m1["text"], "\"66\", star");
    assert_eq!(m1["legibility"], "partial");
    assert_eq!(m1["component"], "");
    assert_eq!(by_name(&h, &marks[2])["canonical"], "12345");

    let (h, events) = read_csv(&csv_dir.join("events.csv"));
    let ev: Vec<HashMap<String, String>> = events.iter().map(|r| by_name(&h, r)).collect();
    assert_eq!(ev[0]["seq"], "1");
    assert_eq!(ev[0]["date"], "1985-06");
    assert_eq!(ev[0]["date_precision"], "month");
    assert_eq!(ev[0]["date_start"], "1985-06-01T00:00:00Z");
    assert_eq!(ev[0]["date_end"], "1985-07-01T00:00:00Z");
    assert_eq!(ev[0]["from_name"], "Exporter, \"Ltd\"");
    assert_eq!(ev[0]["from_licence"], "EX-1");
    assert_eq!(ev[0]["to_kind"], "state_agency");
    assert_eq!(ev[0]["documents"], "import_licence:IL-85/112; invoice:77");
    assert_eq!(ev[0]["place_lat"], "-4.05");
    assert_eq!(ev[0]["place_lon"], "39.66");
    assert_eq!(ev[0]["void"], "false");
    assert_eq!(
        ev[1]["note"],
        "line one\nline two, with a comma and \"quotes\""
    );
    assert_eq!(ev[2]["date_precision"], "instant");
    assert_eq!(ev[2]["date_start"], "2011-02-03T10:20:00Z");
    assert_eq!(ev[2]["date_end"], "2011-02-03T10:20:01Z");
    assert_eq!(ev[2]["void"], "true");
    assert_eq!(ev[3]["type"], "corrected");
    assert_eq!(ev[3]["corrects"], "ev-3");
    assert_eq!(ev[4]["set"], r#"{"type":"rifle"}"#);
    assert_eq!(ev[5]["item"], "LOT-9");
    assert_eq!(ev[5]["seq"], "8");
}

#[test]
fn parquet_columns_are_typed() {
    use parquet::basic::{LogicalType, Repetition, Type as Physical};
    let f = fixture(DATA);
    let dir = f.dir.path().join("pq");
    export_tables(
        f.node.store.as_ref(),
        TableFormat::Parquet,
        &dir,
        &[Table::Events],
    )
    .unwrap();
    assert!(!dir.join("items.parquet").exists());
    let reader =
        SerializedFileReader::new(std::fs::File::open(dir.join("events.parquet")).unwrap())
            .unwrap();
    let meta = reader.metadata();
    assert_eq!(meta.file_metadata().num_rows(), 6);
    let schema = meta.file_metadata().schema_descr();
    let col = |name: &str| {
        schema
            .columns()
            .iter()
            .find(|c| c.name() == name)
            .unwrap()
            .clone()
    };
    let seq = col("seq");
    assert_eq!(seq.physical_type(), Physical::INT64);
    assert_eq!(
        seq.self_type().get_basic_info().repetition(),
        Repetition::REQUIRED
    );
    let id = col("id");
    assert_eq!(id.physical_type(), Physical::BYTE_ARRAY);
    assert_eq!(id.logical_type_ref(), Some(&LogicalType::String));
    assert_eq!(
        id.self_type().get_basic_info().repetition(),
        Repetition::OPTIONAL
    );
    assert_eq!(col("void").physical_type(), Physical::BOOLEAN);
    assert_eq!(col("place_lat").physical_type(), Physical::DOUBLE);
    let start = col("date_start");
    assert_eq!(start.physical_type(), Physical::INT64);
    assert!(matches!(
        start.logical_type_ref(),
        Some(LogicalType::Timestamp { .. })
    ));
}

#[test]
fn parquet_row_groups_stay_bounded() {
    // More rows than one row group holds: several groups, every row read back in order.
    let n = parquet_out::ROW_GROUP_ROWS + 10;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.parquet");
    let mut sink =
        ParquetSink::new(Table::Markings, std::fs::File::create(&path).unwrap()).unwrap();
    for i in 0..n {
        let m = tracemark_store::MarkingRow {
            kind: "serial".into(),
            text: format!("S{i}"),
            component: None,
            legibility: "clear".into(),
        };
        sink.row(&table::marking_cells("K", i, &m)).unwrap();
    }
    sink.finish().unwrap();
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.metadata().num_row_groups(), 2);
    let (_, rows) = read_parquet(&path);
    assert_eq!(rows.len(), n);
    assert_eq!(rows[n - 1][3], format!("S{}", n - 1));
    assert_eq!(rows[n - 1][4], "");
}

#[test]
fn jsonl_is_every_record_as_recorded_in_ledger_order() {
    let f = fixture(DATA);
    let store = f.node.store.as_ref();
    let mut out = Vec::new();
    let n = export_jsonl(store, &mut out).unwrap();
    assert_eq!(n, 9);
    let lines: Vec<&[u8]> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 9);
    for (i, line) in lines.iter().enumerate() {
        let leaf = store.leaf(i as u64).unwrap().unwrap();
        let env = envelope::decode(&leaf.data, true).unwrap();
        assert_eq!(
            *line,
            envelope::canonical_record(&env.record).unwrap().as_slice()
        );
    }
    // The same records as the input, field for field.
    for (line, input) in lines.iter().zip(DATA.lines()) {
        let a: Value = serde_json::from_slice(line).unwrap();
        let b: Value = serde_json::from_str(input).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn an_output_folder_that_cannot_be_made_is_an_output_error() {
    let f = fixture(DATA);
    let blocker = f.dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let e = export_tables(
        f.node.store.as_ref(),
        TableFormat::Csv,
        &blocker.join("sub"),
        &[],
    )
    .unwrap_err();
    assert!(matches!(e, ExportError::Output { .. }), "{e}");
}

/// The items table's headers are recognised by the register import (`tracemark-migrate`)
/// without any mapping ambiguity, and a row reads back as the same item.
#[test]
fn items_csv_is_read_back_by_the_register_import() {
    let f = fixture(DATA);
    let dir = f.dir.path().join("csv");
    export_tables(
        f.node.store.as_ref(),
        TableFormat::Csv,
        &dir,
        &[Table::Items],
    )
    .unwrap();
    let mapping = tracemark_migrate::Mapping::from_toml("as_of = \"2026-01-01\"").unwrap();
    let mut rows = Vec::new();
    let file = std::fs::File::open(dir.join("items.csv")).unwrap();
    tracemark_migrate::convert_reader(
        file,
        "items",
        Some(&mapping),
        &tracemark_migrate::ReadOptions::default(),
        &mut |c| {
            rows.push(c);
            Ok(())
        },
    )
    .unwrap();
    // The header row: only the columns import has no field for are reported, as warnings.
    let header = rows.iter().find(|c| c.row == 1).unwrap();
    let mut unrecognised: Vec<&str> = header
        .problems
        .iter()
        .map(|p| {
            assert_eq!(p.severity, tracemark_migrate::Severity::Warning, "{p}");
            p.column.as_ref().unwrap().header.as_str()
        })
        .collect();
    unrecognised.sort();
    assert_eq!(
        unrecognised,
        ["holdercountry", "holderkind", "internal_id", "ledger_index"]
    );
    // KE-1 (status in_service, holder Unit 7) reads back as the same item, with an `assigned`
    // event for the holder dated as_of.
    let ke1 = rows
        .iter()
        .find(|c| c.records.first().and_then(|r| r.get("key")) == Some(&Value::from("KE-1")))
        .unwrap();
    assert!(!ke1.has_errors(), "{:?}", ke1.problems);
    let item = &ke1.records[0];
    assert_eq!(item["make"], "Izhmash");
    assert_eq!(item["model"], "AKM");
    assert_eq!(item["calibre"], "7.62x39mm");
    assert_eq!(item["country_of_manufacture"], "RU");
    assert_eq!(item["year_of_manufacture"], 1975);
    assert_eq!(item["kind"], "firearm");
    assert_eq!(item["type"], "rifle");
    // The joined serials come back as one serial marking.
    assert_eq!(item["markings"][0]["text"], "РА 1234; ١٢٣٤٥");
    assert!(ke1.records[1..].iter().any(|r| r["type"] == "assigned"));
    // Statuses the register import has no word for are refused row by row.
    let lot = rows
        .iter()
        .find(|c| c.cells.first().map(String::as_str) == Some("LOT-9"))
        .unwrap();
    assert!(
        lot.problems.iter().any(|p| p.message.contains("recorded")),
        "{:?}",
        lot.problems
    );
}

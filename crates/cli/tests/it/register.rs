//! `tracemark import --format csv`: register exports (CSV and spreadsheets) imported through
//! the real binary into a real store, with errors by row and column, the validation report,
//! rejects that can be corrected and imported again, likely duplicates, and bad files.

use crate::{stderr, Backend, Store};
use serde_json::Value;
use std::path::PathBuf;

/// Windows-1252 bytes of a text whose characters are all Latin-1 (as a French office PC
/// writes a register).
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 text"))
        .collect()
}

fn write_bytes(s: &Store, name: &str, bytes: &[u8]) -> PathBuf {
    let p = s.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const FRENCH_HEADER: &str = "N° d'enregistrement;N° de série;Marque;Modèle;Calibre;Type;Pays de fabrication;Année;Date d'acquisition;Fournisseur;Pays du fournisseur;Détenteur;Date d'affectation;Statut;Date du vol\r\n";
const FRENCH_ROWS: &str = "FR-0001;MAS 1234;Manufacture d'armes de Saint-Étienne;MAS 49/56;7,5 mm;Fusil;France;1957;03/04/1960;Manufacture d'armes;France;Brigade de Lyon;05/06/1961;En service;\r\n\
FR-0002;FN-88213;FN Herstal;FAL;7.62x51mm;Fusil d'assaut;Belgique;1975;12/01/1976;Fabrique Nationale;Belgique;Commissariat de Lille;;Volé;17/08/2011\r\n";

fn french_store(b: Backend) -> (Store, PathBuf, PathBuf) {
    let s = Store::on(b, "FR");
    let csv = write_bytes(
        &s,
        "registre-police.csv",
        &latin1(&format!("{FRENCH_HEADER}{FRENCH_ROWS}")),
    );
    let mapping = s.file(
        "mapping.toml",
        "date_format = \"DMY\"\nas_of = \"2024-06\"\n",
    );
    (s, csv, mapping)
}

fn errors(v: &Value) -> &Vec<Value> {
    v["errors"].as_array().unwrap()
}

fn french_register_in_windows_1252_imports_and_reimports_as_duplicates(b: Backend) {
    let (s, csv, mapping) = french_store(b);
    let html = s.dir.path().join("report.html");
    let report_csv = s.dir.path().join("report.csv");
    let (code, v) = s.import(
        &csv,
        &[
            "--format",
            "csv",
            "--mapping",
            mapping.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
            "--report",
            report_csv.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{v}");
    // Row 2: item, acquisition, assignment; row 3: item, import, assignment (as_of), theft.
    assert_eq!(v["accepted"], 7, "{v}");
    assert_eq!(v["rejected"], 0);
    assert_eq!(v["rows"], 2);
    assert_eq!(v["committed"], true);
    assert_eq!(v["files"][0]["encoding"], "windows-1252");
    assert_eq!(v["files"][0]["delimiter"], ";");

    let item = s.json(&["item", "show", "FR-0002", "--json"]);
    assert_eq!(item["status"], "stolen", "{item}");
    assert_eq!(item["country_of_manufacture"], "BE");
    let custody = s.json(&["custody", "FR-0002", "--json"]);
    let types: Vec<&str> = custody["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["imported", "assigned", "reported_stolen"]);
    // A domestic supplier (the registry's own state, FR) is a transfer, not an import.
    let c1 = s.json(&["custody", "FR-0001", "--json"]);
    assert_eq!(c1["events"][0]["type"], "transferred", "{c1}");

    let hits = s.json(&["search", "FN 88213", "--json"]);
    assert_eq!(hits["hits"][0]["item"], "FR-0002");
    let verify = s.json(&["ledger", "verify", "--json"]);
    assert_eq!(verify["ok"], true);

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<strong>Imported.</strong>"), "{page}");
    assert!(page.contains("Date d&#39;acquisition"), "{page}");
    let lines = std::fs::read_to_string(&report_csv).unwrap();
    assert!(
        lines.starts_with("file,row,column,header,severity,category,field,message,suggestion,key")
    );

    // The same file again adds nothing.
    let size = s.ledger_size();
    let (code, v) = s.import(
        &csv,
        &["--format", "csv", "--mapping", mapping.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["accepted"], 0);
    assert_eq!(v["duplicates"], 7);
    assert_eq!(s.ledger_size(), size);
}

/// Row 3 has an impossible date (a conversion error); row 4 was acquired before it was made
/// (refused by the life-cycle rules, which only the engine knows).
const BAD_ROWS: &str = "FR-0003;MAS 5678;MAS;MAS 1950;9 mm;Pistolet;France;1955;31/02/1960;MAS;France;;;En service;\r\n\
FR-0004;HK 4410;Heckler & Koch;G3;7.62x51mm;Fusil;Allemagne;1990;12/01/1976;Heckler & Koch;Allemagne;;;En service;\r\n";

fn bad_rows_are_named_by_row_and_column_and_nothing_is_written(b: Backend) {
    let (s, _, mapping) = french_store(b);
    let csv = write_bytes(
        &s,
        "registre.csv",
        &latin1(&format!("{FRENCH_HEADER}{FRENCH_ROWS}{BAD_ROWS}")),
    );
    let report_csv = s.dir.path().join("report.csv");
    let before = s.ledger_size();
    let (code, v) = s.import(
        &csv,
        &[
            "--mapping",
            mapping.to_str().unwrap(),
            "--report",
            report_csv.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["committed"], false);
    assert_eq!(v["accepted"], 0);
    assert_eq!(v["rejected"], 2, "{v}");
    assert_eq!(s.ledger_size(), before, "nothing half-applied");
    let errs = errors(&v);
    let date = errs.iter().find(|e| e["line"] == 4).expect("row 4 (31/02)");
    assert_eq!(date["column"], "I", "{date}");
    assert_eq!(date["header"], "Date d'acquisition");
    assert_eq!(date["category"], "conversion");
    let rule = errs
        .iter()
        .find(|e| e["line"] == 5)
        .expect("row 5 (before manufacture)");
    assert_eq!(rule["column"], "I", "{rule}");
    assert_eq!(rule["field"], "date");
    assert_eq!(rule["category"], "validation");
    assert_eq!(rule["key"], "FR-0004");
    // The report lists both, by row and column.
    let report = std::fs::read_to_string(&report_csv).unwrap();
    assert!(
        report.contains(",4,I,Date d'acquisition,error,conversion"),
        "{report}"
    );
    assert!(
        report.contains(",5,I,Date d'acquisition,error,validation,date,"),
        "{report}"
    );

    // Without --json: one line per problem on stderr naming row and column, exit 1.
    let out = s.run(&[
        "import",
        csv.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("registre.csv: row 4, column I \"Date d'acquisition\":"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
}

fn accept_valid_writes_good_rows_and_rejects_whole_rows_that_can_be_fixed_and_reimported(
    b: Backend,
) {
    let (s, _, mapping) = french_store(b);
    let csv = write_bytes(
        &s,
        "registre.csv",
        &latin1(&format!("{FRENCH_HEADER}{FRENCH_ROWS}{BAD_ROWS}")),
    );
    let rejects = s.dir.path().join("rejects.csv");
    let (code, v) = s.import(
        &csv,
        &[
            "--mapping",
            mapping.to_str().unwrap(),
            "--accept-valid",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "rejected rows still mean exit 1: {v}");
    assert_eq!(v["committed"], true);
    assert_eq!(v["accepted"], 7, "{v}");
    assert_eq!(v["rejected"], 2);
    // Row 5's item was valid on its own but its row was refused: nothing of it is written.
    let out = s.run(&["item", "show", "FR-0004"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "FR-0004 must not be half-imported"
    );
    let text = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("N° d'enregistrement;")
            || lines[0].starts_with("N° d'enregistrement,"),
        "{text}"
    );
    assert!(
        lines[1].contains("FR-0003") && lines[1].contains("31/02/1960"),
        "{text}"
    );
    assert!(lines[2].contains("FR-0004"), "{text}");

    // The clerk corrects the two dates and imports the rejects file.
    let fixed = text
        .replace("31/02/1960", "28/02/1960")
        .replace("12/01/1976", "12/01/1991");
    let fixed_path = s.file("rejects-fixed.csv", &fixed);
    let (code, v) = s.import(&fixed_path, &["--mapping", mapping.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["rejected"], 0);
    assert_eq!(
        s.json(&["item", "show", "FR-0004", "--json"])["make"],
        "Heckler & Koch"
    );
    assert_eq!(s.json(&["ledger", "verify", "--json"])["ok"], true);
}

fn check_writes_nothing_and_write_mapping_round_trips(b: Backend) {
    let (s, csv, mapping) = french_store(b);
    let written = s.dir.path().join("detected.toml");
    let before = s.ledger_size();
    let (code, v) = s.import(
        &csv,
        &[
            "--check",
            "--mapping",
            mapping.to_str().unwrap(),
            "--write-mapping",
            written.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["committed"], false);
    assert_eq!(
        v["accepted"], 7,
        "--check tells what would be accepted: {v}"
    );
    assert_eq!(s.ledger_size(), before);
    let toml = std::fs::read_to_string(&written).unwrap();
    assert!(toml.contains("marking.serial"), "{toml}");
    // The written mapping, passed back, imports the same records.
    let (code, v) = s.import(&csv, &["--mapping", written.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["accepted"], 7);
}

fn likely_duplicates_in_the_file_and_against_the_store_are_reported_as_warnings(b: Backend) {
    let s = Store::on(b, "KE");
    let first = s.file(
        "police.csv",
        "Key,Serial,Make,Model\nP-1,АК 0123,Izhmash,AK-74\nP-2,AK-O123,IZHMASH,AK-74\nP-3,N/A,Izhmash,AK-74\n",
    );
    let (code, v) = s.import(&first, &[]);
    assert_eq!(code, 0, "{v}");
    let warnings = v["warnings"].as_array().unwrap();
    let dup = warnings
        .iter()
        .find(|w| w["category"] == "likely_duplicate")
        .expect("P-2 duplicates P-1");
    assert_eq!(dup["line"], 3);
    assert_eq!(dup["key"], "P-2");
    assert!(dup["message"].as_str().unwrap().contains("row 2"), "{dup}");
    let placeholder = warnings
        .iter()
        .find(|w| w["category"] == "suspicious")
        .expect("N/A is no serial");
    assert_eq!(placeholder["line"], 4);

    // A second register holding the same weapon under its own key.
    let second = s.file("defence.csv", "Key,Serial,Make\nD-9,AK 0123,Izhmash\n");
    let (code, v) = s.import(&second, &[]);
    assert_eq!(code, 0, "{v}");
    let w = &v["warnings"][0];
    assert_eq!(w["category"], "likely_duplicate", "{v}");
    let m = w["message"].as_str().unwrap();
    assert!(m.contains("already recorded under key 'P-"), "{m}");
}

fn spreadsheet_registers_import_like_csv(b: Backend) {
    let s = Store::on(b, "ES");
    let path = s.dir.path().join("registro.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Número de serie", "Marca", "Modelo", "Calibre", "Año"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "ES-77001").unwrap();
    sheet.write_string(1, 1, "Star").unwrap();
    sheet.write_string(1, 2, "Modelo B").unwrap();
    sheet.write_string(1, 3, "9 mm").unwrap();
    sheet.write_number(1, 4, 1950).unwrap();
    book.save(&path).unwrap();
    let (code, v) = s.import(&path, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["files"][0]["format"], "xlsx");
    let hits = s.json(&["search", "ES77001", "--json"]);
    assert_eq!(hits["total"], 1, "{hits}");
}

#[test]
fn unusable_files_are_refused_with_the_row_and_nothing_is_written() {
    let s = Store::new("KE");
    let before = s.ledger_size();
    let long = format!("Serial,Make\nA1,{}\n", "x".repeat(1_100_000));
    for (name, content, extra, want) in [
        ("empty.csv", String::new(), None, "row 1: the file is empty"),
        (
            "no-header.csv",
            "A123,Colt,1985\nA124,Colt,1986\n".to_owned(),
            None,
            "row 1 is not a header",
        ),
        (
            "semicolons.csv",
            "Serial;Make\nA123;Colt\n".to_owned(),
            Some(","),
            "the file is separated by ';'",
        ),
        (
            "ragged.csv",
            "Serial,Make\nA123,Colt\nA124,Colt,extra,cells\n".to_owned(),
            None,
            "row 3, column C",
        ),
        ("long.csv", long, None, "row 2"),
    ] {
        let p = s.file(name, &content);
        let mut args = vec!["import", p.to_str().unwrap(), "--format", "csv"];
        if let Some(d) = extra {
            args.extend(["--delimiter", d]);
        }
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(want), "{name}: {err}");
        assert!(err.contains("nothing was imported"), "{name}: {err}");
        assert_eq!(s.ledger_size(), before, "{name}");
    }
    // Flags for registers only make no sense for JSON Lines.
    let jsonl = s.file("x.jsonl", "");
    let out = s.run(&["import", jsonl.to_str().unwrap(), "--sheet", "One"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = s.run(&[
        "import",
        jsonl.to_str().unwrap(),
        "--format",
        "csv",
        "--date-format",
        "DDD",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn demo_data_loads_a_living_registry_with_a_report_and_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = std::process::Command::new(crate::BIN)
        .args([
            "--data",
            data.to_str().unwrap(),
            "demo-data",
            "--items",
            "400",
        ])
        .env_remove("TRACEMARK_DATA")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = data.join("demo");
    for f in [
        "national-registry.jsonl",
        "police-register.csv",
        "defence-armoury.xlsx",
        "civilian-licences.csv",
        "import-report.html",
        "rejects.police-register.csv",
    ] {
        assert!(folder.join(f).is_file(), "{f} missing: {}", stderr(&out));
    }
    // The police register's impossible date is the one refused row, ready to be corrected.
    let rejects = std::fs::read_to_string(folder.join("rejects.police-register.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    assert!(rejects.contains("31/02/"), "{rejects}");
    let page = std::fs::read_to_string(folder.join("import-report.html")).unwrap();
    assert!(
        page.contains("is also on row 2"),
        "the shared weapon is reported"
    );
    let s = Store {
        dir,
        database: None,
    };
    std::fs::rename(&data, s.data()).unwrap();
    assert_eq!(s.json(&["ledger", "verify", "--json"])["ok"], true);
    let hits = s.json(&["search", "*", "--json", "--limit", "1"]);
    assert!(hits["total"].as_u64().unwrap() > 400, "{hits}");
    // A second run refuses to load into a store that holds records.
    let again = s.run(&["demo-data", "--items", "10"]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
}

#[test]
fn formulas_merged_cells_and_mixed_encodings_are_named_by_row_and_column() {
    use rust_xlsxwriter::{Format, Formula, Workbook};
    let s = Store::new("KE");
    let before = s.ledger_size();
    let path = s.dir.path().join("armoury.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (j, h) in ["Key", "Serial number", "Make", "Model"].iter().enumerate() {
        ws.write_string(0, j as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "A-1").unwrap();
    ws.write_string(1, 1, "0012345").unwrap();
    ws.write_string(1, 2, "Glock").unwrap();
    // Row 3: a computed serial is not a serial read off a weapon.
    ws.write_string(2, 0, "A-2").unwrap();
    ws.write_formula(2, 1, Formula::new("=B2&\"-A\"").set_result("0012345-A"))
        .unwrap();
    // Rows 4-5: the make merged over both rows.
    ws.write_string(3, 0, "A-3").unwrap();
    ws.write_string(3, 1, "M-100").unwrap();
    ws.write_string(4, 0, "A-4").unwrap();
    ws.write_string(4, 1, "M-101").unwrap();
    ws.merge_range(3, 2, 4, 2, "Izhmekh", &Format::new())
        .unwrap();
    wb.save(&path).unwrap();
    let (code, v) = s.import(&path, &[]);
    assert_eq!(code, 1, "{v}");
    let errs = errors(&v);
    assert!(
        errs.iter().any(|e| e["line"] == 3
            && e["column"] == "B"
            && e["message"].as_str().unwrap().contains("formula")),
        "{v}"
    );
    assert!(
        errs.iter().any(|e| e["line"] == 5
            && e["column"] == "C"
            && e["message"].as_str().unwrap().contains("merged")),
        "{v}"
    );
    assert_eq!(s.ledger_size(), before, "nothing half-imported");

    // A UTF-8 register with one row typed on a Windows-1252 machine.
    let mut bytes = "Key,Serial number,Make\nK-1,АК 0123,Izhmash\n"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"K-2,12345,Manufacture d'armes de Saint-\xC9tienne\n");
    let mixed = write_bytes(&s, "mixed.csv", &bytes);
    let (code, v) = s.import(&mixed, &[]);
    assert_eq!(code, 1, "{v}");
    let e = &errors(&v)[0];
    assert_eq!(e["line"], 3, "{v}");
    assert_eq!(e["column"], "C", "{v}");
    assert_eq!(s.ledger_size(), before);
}

on_both_stores!(
    french_register_in_windows_1252_imports_and_reimports_as_duplicates,
    bad_rows_are_named_by_row_and_column_and_nothing_is_written,
    accept_valid_writes_good_rows_and_rejects_whole_rows_that_can_be_fixed_and_reimported,
    check_writes_nothing_and_write_mapping_round_trips,
    likely_duplicates_in_the_file_and_against_the_store_are_reported_as_warnings,
    spreadsheet_registers_import_like_csv,
);

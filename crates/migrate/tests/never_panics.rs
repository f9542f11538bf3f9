//! Whatever the bytes, conversion returns: records, problems, or a rejection — never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use proptest::prelude::*;
use tracemark_migrate::{convert_path, convert_reader, DateFormat, Mapping, ReadOptions};

fn convert_bytes(bytes: &[u8], opts: &ReadOptions, mapping: Option<&Mapping>) {
    let mut last = 0u64;
    let result = convert_reader(bytes, "fuzz", mapping, opts, &mut |c| {
        // Rows come in order, and every problem is reported with the row it names.
        assert!(c.row >= 1 && c.row >= last, "row {} after {last}", c.row);
        assert!(c.problems.iter().all(|p| p.row == c.row), "{c:?}");
        assert!(c.records.is_empty() || !c.has_errors());
        assert!(c.records.iter().all(|r| r.contains_key("record")));
        last = c.row;
        Ok(())
    });
    if let Err(tracemark_migrate::ConvertError::Rejected(ps)) = result {
        assert!(!ps.is_empty());
        assert!(ps.iter().all(|p| p.row >= 1));
    }
}

/// Text that looks like a register: separators, quotes, line breaks, digits, dates, accents.
fn registerish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        ",",
        ";",
        "\t",
        "|",
        "\"",
        "\n",
        "\r\n",
        "\r",
        " ",
        "Serial",
        "Make",
        "Date",
        "Statut",
        "N° de série",
        "Holder",
        "Status",
        "Country",
        "Year",
        "Key",
        "31/02/2001",
        "03/04/2001",
        "1985",
        "stolen",
        "volé",
        "China",
        "URSS",
        "56-1234",
        "ПА",
        "\u{FEFF}",
        "\u{FFFD}",
        "=A1",
        "é",
        "\u{0}",
        "\u{1b}",
        "2001-02-03",
        "x",
    ]);
    prop::collection::vec(pieces, 0..80).prop_map(|v| v.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        convert_bytes(&bytes, &ReadOptions::default(), None);
    }

    #[test]
    fn register_like_text(bytes in registerish(), declared in any::<bool>()) {
        let opts = ReadOptions {
            date_format: declared.then_some(DateFormat::DMY),
            ..ReadOptions::default()
        };
        convert_bytes(&bytes, &opts, None);
        let m = Mapping::from_toml("as_of = \"2020\"\n[columns]\nA = \"key\"").ok();
        convert_bytes(&bytes, &opts, m.as_ref());
        let headerless = Mapping::from_toml("header = false\n[columns]\nA = \"serial\"\nB = \"acquisition.date\"\nC = \"status\"").ok();
        convert_bytes(&bytes, &opts, headerless.as_ref());
    }

    #[test]
    fn declared_encodings_and_delimiters(bytes in prop::collection::vec(any::<u8>(), 0..1024),
                                         enc in prop::sample::select(vec!["utf-8", "utf-16le", "utf-16be", "windows-1251", "windows-1252", "nonsense"]),
                                         delim in prop::sample::select(vec![b',', b';', b'\t', b'|', b'"', b'\n'])) {
        let opts = ReadOptions { delimiter: Some(delim), encoding: Some(enc.to_owned()), ..ReadOptions::default() };
        convert_bytes(&bytes, &opts, None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_spreadsheet_files(bytes in prop::collection::vec(any::<u8>(), 0..1024), zip in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let mut content = if zip { b"PK\x03\x04".to_vec() } else { Vec::new() };
        content.extend_from_slice(&bytes);
        for name in ["f.xlsx", "f.ods", "f.xls", "f.csv"] {
            let p = dir.path().join(name);
            std::fs::write(&p, &content).unwrap();
            let _ = convert_path(&p, None, &ReadOptions::default(), &mut |_| Ok(()));
        }
    }
}

const HEADER: &[&str] = &[
    "Key",
    "Serial",
    "Import marking",
    "Make",
    "Model",
    "Calibre",
    "Type",
    "Kind",
    "Country",
    "Year",
    "Date of acquisition",
    "Supplier",
    "Supplier country",
    "Acquisition type",
    "Import licence",
    "Holder",
    "Assignment date",
    "Status",
    "Status date",
    "Note",
    "Quantity",
    "Parent",
    "Capacity",
    "Barrel length",
];

fn cell() -> impl Strategy<Value = String> {
    let long = "W".repeat(300);
    let pool: Vec<String> = [
        "",
        " ",
        "56-1234",
        "ПА 1234",
        " 0012 ",
        "Norinco",
        "China",
        "Chine",
        "URSS",
        "zz",
        "KE",
        "1985",
        "85",
        "1985.0",
        "31/02/2001",
        "03/04/2001",
        "25/12/1999",
        "2001-02-03",
        "1990",
        "stolen",
        "volé",
        "in service",
        "borrowed",
        "import",
        "achat",
        "seizure",
        "part",
        "ammunition",
        "firearm",
        "barrel",
        "mortar",
        "Fusil d'assaut",
        "12",
        "-3",
        "1e9",
        "0",
        "\u{1}",
        "a\nb",
        "=A1",
        "K-1",
        " K-2 ",
        "\u{FFFD}",
        "K\u{7f}",
        "Unit 4",
        "114,5",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([long])
    .collect();
    prop_oneof![
        4 => prop::sample::select(pool),
        1 => "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the cells say, a row converted without an error gives records the interchange
    /// parser accepts, and markings keep the cell's text exactly.
    #[test]
    fn rows_without_errors_give_valid_records(
        rows in prop::collection::vec(prop::collection::vec(cell(), HEADER.len()), 1..6),
        as_of in any::<bool>(),
        declared in any::<bool>(),
    ) {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(HEADER).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let mapping = if as_of {
            Mapping::from_toml("as_of = \"2020-05\"\nstate = \"KE\"").unwrap()
        } else {
            Mapping::default()
        };
        let opts = ReadOptions { date_format: declared.then_some(DateFormat::DMY), ..ReadOptions::default() };
        let mut seen = Vec::new();
        let summary = convert_reader(&bytes[..], "prop", Some(&mapping), &opts, &mut |c| {
            seen.push(c);
            Ok(())
        })
        .unwrap();
        prop_assert_eq!(summary.columns.iter().filter(|(_, f)| f.is_none()).count(), 0);
        for c in &seen {
            if c.has_errors() {
                prop_assert!(c.records.is_empty());
                continue;
            }
            for r in &c.records {
                let parsed = tracemark_domain::interchange::parse_record(r);
                prop_assert!(parsed.is_ok(), "row {}: {:?} → {:?}", c.row, r, parsed.err());
            }
            if let Some(item) = c.records.first() {
                let cells = &rows[(c.row - 2) as usize];
                let serial = item["markings"].as_array().and_then(|m| m.iter().find(|m| m["kind"] == "serial"));
                if cells[1].trim().is_empty() {
                    prop_assert!(serial.is_none());
                } else {
                    prop_assert_eq!(serial.and_then(|m| m["text"].as_str()), Some(cells[1].as_str()));
                }
            }
        }
    }
}

//! Conversion of register exports, good and bad, from fixture files written at test time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use tracemark_migrate::{
    convert_path, convert_reader, ConvertError, Converted, DateFormat, Mapping, ReadOptions,
    Severity, SourceFormat, Summary,
};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(
    path: &Path,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
) -> (Result<Summary, ConvertError>, Vec<Converted>) {
    let mut rows = Vec::new();
    let r = convert_path(path, mapping, opts, &mut |c| {
        rows.push(c);
        Ok(())
    });
    (r, rows)
}

fn ok(path: &Path, mapping: Option<&Mapping>, opts: &ReadOptions) -> (Summary, Vec<Converted>) {
    let (r, rows) = run(path, mapping, opts);
    match r {
        Ok(s) => (s, rows),
        Err(e) => panic!("conversion failed: {e}"),
    }
}

fn rejected(
    path: &Path,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
) -> Vec<tracemark_migrate::Problem> {
    match run(path, mapping, opts).0 {
        Err(ConvertError::Rejected(ps)) => ps,
        Err(ConvertError::Io(e)) => panic!("io error: {e}"),
        Ok(s) => panic!("expected a rejection, got {s:?}"),
    }
}

fn dmy() -> ReadOptions {
    ReadOptions {
        date_format: Some(DateFormat::DMY),
        ..ReadOptions::default()
    }
}

fn row(rows: &[Converted], n: u64) -> &Converted {
    rows.iter()
        .find(|c| c.row == n && (!c.records.is_empty() || !c.problems.is_empty()))
        .unwrap_or_else(|| panic!("no row {n} in {rows:#?}"))
}

fn errors(c: &Converted) -> Vec<&tracemark_migrate::Problem> {
    c.problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect()
}

/// Every record produced is valid interchange as far as the record alone can tell.
fn assert_valid(rows: &[Converted]) {
    for c in rows {
        for r in &c.records {
            if let Err(errs) = tracemark_domain::interchange::parse_record(r) {
                panic!("row {}: invalid record {r:?}: {errs:?}", c.row);
            }
        }
    }
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn french_windows_1252_register() {
    let dir = tempfile::tempdir().unwrap();
    let text = "N° d'enregistrement;N° de série;Marque;Modèle;Calibre;Type;Pays de fabrication;Année;Date d'acquisition;Fournisseur;Pays du fournisseur;Détenteur;Date d'affectation;Statut;Date du vol;Observations\r\n\
FR-0001;  MAS 1234 ;Manufacture d'armes de Saint-Étienne;MAS 49/56;7,5 mm;Fusil;France;1957;03/04/1960;Manufacture d'armes;France;Brigade de Lyon;05/06/1961;En service;;\r\n\
FR-0002;FN-88213;FN Herstal;FAL;7.62x51mm;Fusil d'assaut;Belgique;1975;12/01/1976;Fabrique Nationale;Belgique;Commissariat de Lille;;Volé;17/08/2011;trouvé à Lille\r\n";
    let p = write(dir.path(), "registre-police.csv", &windows_1252(text));
    let mapping = Mapping::from_toml("state = \"FR\"\ndate_format = \"DMY\"\nas_of = \"2024-06\"\n[columns]\n\"Observations\" = \"note\"").unwrap();
    let (summary, rows) = ok(&p, Some(&mapping), &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("windows-1252"));
    assert_eq!(summary.delimiter, Some(b';'));
    assert_eq!(summary.format, SourceFormat::Csv);
    assert_eq!(summary.rows, 2);
    assert_eq!(summary.errors, 0, "{rows:#?}");
    assert_valid(&rows);

    let r2 = row(&rows, 2);
    let item = &r2.records[0];
    assert_eq!(s(&item["key"]), "FR-0001");
    assert_eq!(s(&item["make"]), "Manufacture d'armes de Saint-Étienne");
    assert_eq!(s(&item["model"]), "MAS 49/56");
    assert_eq!(s(&item["country_of_manufacture"]), "FR");
    assert_eq!(item["year_of_manufacture"], 1957);
    assert_eq!(s(&item["kind"]), "firearm");
    // The serial exactly as in the cell, spaces included.
    assert_eq!(item["markings"][0]["kind"], "serial");
    assert_eq!(s(&item["markings"][0]["text"]), "  MAS 1234 ");
    let acq = &r2.records[1];
    assert_eq!(s(&acq["type"]), "transferred"); // French supplier, French registry
    assert_eq!(s(&acq["date"]), "1960-04-03");
    assert_eq!(s(&acq["id"]), "FR-0001:acquisition");
    assert_eq!(s(&acq["from"]["name"]), "Manufacture d'armes");
    let assigned = &r2.records[2];
    assert_eq!(s(&assigned["type"]), "assigned");
    assert_eq!(s(&assigned["date"]), "1961-06-05");
    assert_eq!(s(&assigned["to"]["name"]), "Brigade de Lyon");
    assert_eq!(r2.records.len(), 3, "'En service' gives no event");

    let r3 = row(&rows, 3);
    assert_eq!(s(&r3.records[0]["type"]), "assault_rifle");
    assert_eq!(s(&r3.records[0]["country_of_manufacture"]), "BE");
    assert_eq!(s(&r3.records[0]["note"]), "trouvé à Lille");
    assert_eq!(s(&r3.records[1]["type"]), "imported"); // Belgian supplier
                                                       // The holder without a date of its own held the weapon when it was stolen: dated with the
                                                       // theft (not as_of, which would make the stolen weapon look in service), and saying so.
    assert_eq!(s(&r3.records[2]["date"]), "2011-08-17");
    assert!(s(&r3.records[2]["note"]).contains("date not in the register"));
    assert_eq!(
        r3.column_for(2, "date").unwrap().to_string(),
        "O \"Date du vol\""
    );
    let stolen = &r3.records[3];
    assert_eq!(s(&stolen["type"]), "reported_stolen");
    assert_eq!(s(&stolen["date"]), "2011-08-17");
    assert_eq!(s(&stolen["id"]), "FR-0002:status");
    // Provenance leads back to the columns.
    assert_eq!(
        r3.column_for(3, "date").unwrap().to_string(),
        "O \"Date du vol\""
    );
    assert_eq!(
        r3.column_for(0, "markings[0].text").unwrap().to_string(),
        "B \"N° de série\""
    );
    assert_eq!(r3.column_for(1, "from.kind").unwrap().letter, "J");
}

#[test]
fn cyrillic_windows_1251_register() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Серийный номер,Производитель,Модель,Калибр,Страна,Год выпуска\n\
ПА 1234,Ижмаш,АК-74,5.45x39 мм,Россия,1985\n\
ЕК 77812,Ижевский механический завод,ПМ,9x18 мм,СССР,1971\n\
ТТ 4410,Тульский оружейный завод,ТТ-33,7.62x25 мм,RU,1941\n";
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!unmappable);
    let p = write(dir.path(), "реестр.csv", &bytes);
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("windows-1251"));
    assert_eq!(summary.delimiter, Some(b','));
    assert!(summary.keys_generated);
    let r2 = row(&rows, 2);
    assert_eq!(s(&r2.records[0]["markings"][0]["text"]), "ПА 1234");
    assert_eq!(s(&r2.records[0]["make"]), "Ижмаш");
    assert_eq!(s(&r2.records[0]["country_of_manufacture"]), "RU");
    assert_eq!(s(&r2.records[0]["key"]), "реестр-R2");
    // The USSR is not a country of manufacture: the row is refused with the fix.
    let r3 = row(&rows, 3);
    assert!(r3.records.is_empty());
    let e = errors(r3);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].column.as_ref().unwrap().to_string(), "E \"Страна\"");
    assert!(e[0].suggestion.as_ref().unwrap().contains("RU"));
    assert_valid(&rows);
}

#[test]
fn utf16le_with_bom_tab_separated() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Serial number\tMake\tModel\tCalibre\tCountry of manufacture\tYear\r\n\
56-1234567\tNorinco\tType 56\t7.62x39mm\tChina\t1978\r\n\
ПМ 0042\tIzhmekh\tPM\t9x18mm\tRussia\t1970\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let p = write(dir.path(), "export.txt", &bytes);
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("UTF-16LE"));
    assert_eq!(summary.delimiter, Some(b'\t'));
    assert_eq!(summary.errors, 0, "{rows:#?}");
    assert_eq!(s(&row(&rows, 2).records[0]["country_of_manufacture"]), "CN");
    assert_eq!(
        s(&row(&rows, 3).records[0]["markings"][0]["text"]),
        "ПМ 0042"
    );
    assert_valid(&rows);

    // The same in UTF-16 BE.
    let mut bytes = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_be_bytes());
    }
    let be = dir.path().join("be");
    std::fs::create_dir(&be).unwrap();
    let p = write(&be, "export.txt", &bytes);
    let (summary, rows_be) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("UTF-16BE"));
    assert_eq!(rows_be, rows);

    // A lone surrogate is reported at its cell.
    let mut bad = vec![0xFF, 0xFE];
    for u in "Serial\tMake\r\nA1\tX".encode_utf16() {
        bad.extend_from_slice(&u.to_le_bytes());
    }
    bad.extend_from_slice(&0xD800u16.to_le_bytes());
    bad.extend_from_slice(&u16::from(b'\r').to_le_bytes());
    bad.extend_from_slice(&u16::from(b'\n').to_le_bytes());
    let p = write(dir.path(), "bad16.csv", &bad);
    let (_, rows) = ok(&p, None, &ReadOptions::default());
    let e = errors(row(&rows, 2));
    assert_eq!(e[0].column.as_ref().unwrap().letter, "B");
    assert!(e[0].message.contains("replacement character"), "{e:?}");
}

#[test]
fn spanish_semicolon_register() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Número de registro;Número de serie;Marca;Modelo;Calibre;Tipo;País de fabricación;Año;Fecha de adquisición;Proveedor;Titular;Fecha de asignación;Estado;Fecha del estado\n\
ES-1;A123456;Star;Modelo B;9 mm;Pistola;España;1970;15/03/1972;Star Bonifacio Echeverría;Guardia Civil;01/04/1972;robado;02/11/1999\n\
ES-2;\"B 77;12\";Llama;XV;.22 LR;Pistola;Espanha;1980;1981;Llama Gabilondo;;;En servicio;\n";
    let p = write(dir.path(), "registro.csv", text.as_bytes());
    let (summary, rows) = ok(&p, None, &dmy());
    assert_eq!(summary.delimiter, Some(b';'));
    assert_eq!(summary.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(summary.errors, 0, "{rows:#?}");
    let r2 = row(&rows, 2);
    assert_eq!(s(&r2.records[0]["type"]), "pistol");
    assert_eq!(s(&r2.records[0]["country_of_manufacture"]), "ES");
    assert_eq!(s(&r2.records[1]["date"]), "1972-03-15");
    assert_eq!(s(&r2.records[2]["type"]), "assigned");
    assert_eq!(s(&r2.records[2]["date"]), "1972-04-01");
    assert_eq!(s(&r2.records[3]["type"]), "reported_stolen");
    assert_eq!(s(&r2.records[3]["date"]), "1999-11-02");
    // Quoted separator inside a serial; a year alone as acquisition date keeps its precision.
    let r3 = row(&rows, 3);
    assert_eq!(s(&r3.records[0]["markings"][0]["text"]), "B 77;12");
    assert_eq!(s(&r3.records[1]["date"]), "1981");
    assert_eq!(r3.records.len(), 2);
    assert_valid(&rows);
}

#[test]
fn wrong_delimiter_is_one_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "colon.csv",
        b"Serial:Make:Model\n123:Norinco:Type 56\n",
    );
    let ps = rejected(&p, None, &ReadOptions::default());
    assert!(ps[0].message.contains("only one column"), "{ps:?}");
    assert_eq!(ps[0].row, 1);
    assert!(ps[0].suggestion.is_some());

    let p = write(
        dir.path(),
        "comma.csv",
        b"Serial,Make,Model\n123,Norinco,Type 56\n",
    );
    let opts = ReadOptions {
        delimiter: Some(b';'),
        ..ReadOptions::default()
    };
    let ps = rejected(&p, None, &opts);
    assert!(ps[0].message.contains("','"), "{ps:?}");
    // A genuine one-column list of serials is fine.
    let p = write(dir.path(), "serials.csv", b"Serial number\n123\n456\n");
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.rows, 2);
    assert_eq!(s(&row(&rows, 3).records[0]["markings"][0]["text"]), "456");
}

#[test]
fn missing_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "noheader.csv",
        b"5612345,Norinco,Type 56,7.62x39mm,12/03/1985\n5612346,Norinco,Type 56,7.62x39mm,12/03/1985\n",
    );
    let ps = rejected(&p, None, &ReadOptions::default());
    assert!(
        ps[0].message.contains("not a header") || ps[0].message.contains("looks like data"),
        "{ps:?}"
    );
    assert!(ps[0]
        .suggestion
        .as_ref()
        .unwrap()
        .contains("header = false"));
    // With header = false and columns by letter, the same file converts.
    let m = Mapping::from_toml("header = false\ndate_format = \"DMY\"\n[columns]\nA = \"serial\"\nB = \"make\"\nC = \"model\"\nD = \"calibre\"\nE = \"acquisition.date\"").unwrap();
    let (summary, rows) = ok(&p, Some(&m), &ReadOptions::default());
    assert_eq!(summary.header_row, 0);
    assert_eq!(summary.rows, 2);
    let r1 = row(&rows, 1);
    assert_eq!(s(&r1.records[0]["key"]), "noheader-R1");
    assert_eq!(s(&r1.records[1]["date"]), "1985-03-12");
    assert_valid(&rows);
}

#[test]
fn mixed_encodings_are_reported_at_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    // A UTF-8 file, longer than the detection sample, whose last row was typed in
    // Windows-1252 (É as the single byte 0xC9).
    let mut bytes = b"Serial;Make;Model\n".to_vec();
    for i in 0..3000 {
        bytes.extend_from_slice(format!("{i};Saint-\u{c9}tienne;MAS 36\n").as_bytes());
    }
    bytes.extend_from_slice(b"1002;Saint-\xC9tienne;MAS 36\n");
    assert!(bytes.len() > 64 * 1024);
    let p = write(dir.path(), "mixed.csv", &bytes);
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(summary.errors, 1);
    assert!(errors(row(&rows, 2)).is_empty());
    let last = row(&rows, 3002);
    assert!(last.records.is_empty());
    let e = errors(last);
    assert_eq!(e[0].column.as_ref().unwrap().to_string(), "B \"Make\"");
    assert!(e[0].message.contains("not UTF-8"), "{e:?}");
    assert!(e[0].message.contains("Saint-Étienne"), "{e:?}");

    // Mostly UTF-8 within the sample: still UTF-8, the odd row reported.
    let mut bytes = b"Serial;Make;Model\n".to_vec();
    for i in 0..5 {
        bytes.extend_from_slice(format!("{i};Saint-\u{c9}tienne;MAS 36\n").as_bytes());
    }
    bytes.extend_from_slice(b"9;Saint-\xC9tienne;MAS 36\n");
    let p = write(dir.path(), "mixed-small.csv", &bytes);
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("UTF-8"));
    assert_eq!(errors(row(&rows, 7)).len(), 1);

    // Mostly Windows-1252, with one row in UTF-8.
    let mut bytes = b"Serial;Make;Model\n".to_vec();
    for i in 0..40 {
        bytes.extend_from_slice(format!("{i};").as_bytes());
        bytes.extend_from_slice(b"Manufacture d'armes de Saint-\xC9tienne;MAS 36\n");
    }
    bytes.extend_from_slice(b"99;Saint-\xC3\x89tienne;MAS 36\n");
    let p = write(dir.path(), "mixed1252.csv", &bytes);
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.encoding.as_deref(), Some("windows-1252"));
    let last = rows.last().unwrap();
    assert_eq!(last.row, 42);
    assert!(
        errors(last)[0].message.contains("mixes encodings"),
        "{last:?}"
    );
}

#[test]
fn ragged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ragged.csv",
        b"Serial,Make,Model,Calibre\n1,Glock,17,9mm\n2,Glock,19\n3,Smith, Wesson,686,.357\n4,Glock,26,9mm,,\n",
    );
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.rows, 4);
    assert!(errors(row(&rows, 2)).is_empty());
    let fewer = errors(row(&rows, 3));
    assert!(
        fewer[0].message.contains("3 cells but the header has 4"),
        "{fewer:?}"
    );
    assert_eq!(fewer[0].column.as_ref().unwrap().letter, "D");
    let more = errors(row(&rows, 4));
    assert!(more[0].message.contains("5 cells"), "{more:?}");
    assert!(row(&rows, 4).records.is_empty());
    // The rejected row's cells, for a rejects file.
    assert_eq!(
        row(&rows, 4).cells,
        ["3", "Smith", " Wesson", "686", ".357"]
    );
    // Trailing empty cells are harmless.
    assert!(errors(row(&rows, 5)).is_empty());
    assert_eq!(summary.rows_rejected, 2);
}

#[test]
fn impossible_and_undeclared_dates() {
    let dir = tempfile::tempdir().unwrap();
    let text = "N° de série;Marque;Date d'acquisition\n1;MAS;31/02/2001\n2;MAS;03/04/2001\n3;MAS;25/12/2001\n";
    let p = write(dir.path(), "dates.csv", text.as_bytes());
    let (_, rows) = ok(&p, None, &ReadOptions::default());
    let e = errors(row(&rows, 2));
    assert_eq!(
        e[0].column.as_ref().unwrap().to_string(),
        "C \"Date d'acquisition\""
    );
    assert!(
        e[0].message.contains("31/02/2001") && e[0].message.contains("28 days"),
        "{e:?}"
    );
    // Ambiguous without a declared format; unambiguous is fine.
    let e = errors(row(&rows, 3));
    assert!(e[0].message.contains("not declared"), "{e:?}");
    assert!(errors(row(&rows, 4)).is_empty());
    let (_, rows) = ok(&p, None, &dmy());
    assert_eq!(s(&row(&rows, 3).records[1]["date"]), "2001-04-03");
    assert_eq!(errors(row(&rows, 2)).len(), 1);
}

#[test]
fn empty_files() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.csv", &b""[..]),
        ("bom.csv", &b"\xEF\xBB\xBF"[..]),
        ("blank.csv", &b"\r\n\r\n  \n"[..]),
        ("bom16.csv", &b"\xFF\xFE"[..]),
    ] {
        let p = write(dir.path(), name, bytes);
        let ps = rejected(&p, None, &ReadOptions::default());
        assert!(ps[0].message.contains("empty"), "{name}: {ps:?}");
        assert_eq!(ps[0].row, 1);
    }
    // A header and no rows: a warning, not a failure.
    let p = write(dir.path(), "header.csv", b"Serial,Make\n");
    let (summary, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(summary.rows, 0);
    assert!(rows
        .iter()
        .any(|c| c.problems.iter().any(|p| p.message.contains("no rows"))));
}

/// An endless single line, counting what is read of it.
struct Endless {
    header: io::Cursor<Vec<u8>>,
    read: u64,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.header.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        if self.read > (2u64 << 30) {
            return Ok(0);
        }
        buf.fill(b'x');
        self.read += buf.len() as u64;
        Ok(buf.len())
    }
}

#[test]
fn gigantic_single_line_is_refused_without_reading_it() {
    let mut input = Endless {
        header: io::Cursor::new(b"Serial,Make\n1,Glock\n2,".to_vec()),
        read: 0,
    };
    let mut rows = Vec::new();
    let r = convert_reader(&mut input, "reg", None, &ReadOptions::default(), &mut |c| {
        rows.push(c);
        Ok(())
    });
    let Err(ConvertError::Rejected(ps)) = r else {
        panic!("expected a rejection: {r:?}");
    };
    assert_eq!(ps[0].row, 3);
    assert!(ps[0].message.contains("longer than 1 MiB"), "{ps:?}");
    assert!(input.read < 4 << 20, "read {} bytes", input.read);
    assert_eq!(rows.len(), 1, "row 2 was passed on before");

    // A single line with no newline at all, from a file.
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "oneline.csv", &vec![b'a'; 3 << 20]);
    let ps = rejected(&p, None, &ReadOptions::default());
    assert_eq!(ps[0].row, 1);
    assert!(ps[0].message.contains("longer than 1 MiB"), "{ps:?}");
    // An unclosed quote swallowing the rest of the file.
    let mut bytes = b"Serial,Make\n1,\"Glock\n".to_vec();
    bytes.extend(std::iter::repeat_n(b"2,Glock\n".iter().copied(), 200_000).flatten());
    let p = write(dir.path(), "quote.csv", &bytes);
    let ps = rejected(&p, None, &ReadOptions::default());
    assert_eq!(ps[0].row, 2);
    assert!(ps[0].message.contains("quote"), "{ps:?}");
}

#[test]
fn mapping_file_overrides_and_ambiguity() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Réf,Série,Fabricant,Date,Remarques\nA-1,123,FN,1990,ok\n";
    let p = write(dir.path(), "amb.csv", text.as_bytes());
    // "Date" could be any date: refused, naming the column and the fix.
    let ps = rejected(&p, None, &ReadOptions::default());
    let e: Vec<_> = ps
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    assert_eq!(e.len(), 1, "{ps:?}");
    assert_eq!(e[0].column.as_ref().unwrap().to_string(), "D \"Date\"");
    assert!(
        e[0].suggestion
            .as_ref()
            .unwrap()
            .contains("\"Date\" = \"acquisition.date\""),
        "{e:?}"
    );
    // A mapping file decides it; the other columns are still detected.
    let m = Mapping::from_toml("[columns]\nDate = \"acquisition.date\"\nRemarques = \"ignore\"")
        .unwrap();
    let (summary, rows) = ok(&p, Some(&m), &ReadOptions::default());
    assert_eq!(summary.errors, 0, "{rows:#?}");
    let r = row(&rows, 2);
    assert_eq!(s(&r.records[0]["key"]), "A-1");
    assert_eq!(s(&r.records[0]["make"]), "FN");
    assert_eq!(s(&r.records[1]["date"]), "1990");
    assert!(summary
        .mapping
        .to_toml()
        .contains("\"Fabricant\" = \"make\""));
    // A mapping naming a column that is not there is refused.
    let m = Mapping::from_toml("[columns]\n\"N° de série\" = \"serial\"").unwrap();
    let ps = rejected(&p, Some(&m), &ReadOptions::default());
    assert!(ps[0].message.contains("not in the header"), "{ps:?}");
    // Unrecognised columns are reported once, as warnings with the header row.
    let p = write(dir.path(), "extra.csv", b"Serial,Make,Colour\n1,FN,black\n");
    let (_, rows) = ok(&p, None, &ReadOptions::default());
    assert_eq!(rows[0].row, 1);
    assert!(rows[0].records.is_empty());
    assert_eq!(
        rows[0].problems[0].column.as_ref().unwrap().to_string(),
        "C \"Colour\""
    );
    assert_eq!(rows[0].problems[0].severity, Severity::Warning);
}

#[test]
fn events_need_dates_and_known_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Serial,Make,Holder,Status,Supplier\n1,FN,Unit 4,,\n2,FN,,Borrowed,\n3,FN,,,Dealer\n4,FN,,Lost,\n";
    let p = write(dir.path(), "events.csv", text.as_bytes());
    let (_, rows) = ok(&p, None, &ReadOptions::default());
    let e = errors(row(&rows, 2));
    assert!(
        e[0].message.contains("holder is given without a date"),
        "{e:?}"
    );
    assert!(e[0].suggestion.as_ref().unwrap().contains("as_of"));
    let e = errors(row(&rows, 3));
    assert!(e[0].message.contains("Borrowed"), "{e:?}");
    let e = errors(row(&rows, 4));
    assert!(
        e[0].message.contains("without a date of acquisition"),
        "{e:?}"
    );
    // With as_of declared, the holder and status events take it.
    let m = Mapping::from_toml(
        "as_of = \"2024-01-31\"\nholder_kind = \"police\"\n[columns]\nSupplier = \"ignore\"",
    )
    .unwrap();
    let (_, rows) = ok(&p, Some(&m), &ReadOptions::default());
    let r2 = row(&rows, 2);
    assert_eq!(s(&r2.records[1]["date"]), "2024-01-31");
    assert_eq!(s(&r2.records[1]["to"]["kind"]), "police");
    let r5 = row(&rows, 5);
    assert_eq!(s(&r5.records[1]["type"]), "reported_lost");
    assert_valid(&rows);
}

#[test]
fn generated_keys_and_event_ids_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Serial;Make;Date of acquisition;Holder;Holder since\n1;FN;1990;Unit 1;1991\n\n2;FN;1992;Unit 2;1993\n";
    let p = write(dir.path(), "police north.csv", text.as_bytes());
    let (a, rows_a) = ok(&p, None, &ReadOptions::default());
    let (b, rows_b) = ok(&p, None, &ReadOptions::default());
    assert_eq!(a, b);
    assert_eq!(rows_a, rows_b);
    assert!(a.keys_generated);
    let r = row(&rows_a, 2);
    assert_eq!(s(&r.records[0]["key"]), "police-north-R2");
    assert_eq!(s(&r.records[1]["id"]), "police-north-R2:acquisition");
    assert_eq!(s(&r.records[2]["id"]), "police-north-R2:holder");
    // The blank line is a row of its own, as a spreadsheet shows the file.
    let r = row(&rows_a, 4);
    assert_eq!(s(&r.records[0]["key"]), "police-north-R4");
    // The register name of a mapping file wins over the file name.
    let m = Mapping::from_toml("register = \"KE-POL\"").unwrap();
    let (_, rows) = ok(&p, Some(&m), &ReadOptions::default());
    assert_eq!(s(&row(&rows, 2).records[0]["key"]), "KE-POL-R2");
    assert_valid(&rows);
}

#[test]
fn xlsx_with_formulas_merged_cells_and_titles() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registre.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Registre").unwrap();
    ws.write_string(0, 0, "Registre des armes — Police nationale")
        .unwrap();
    let header = [
        "N° d'enregistrement",
        "N° de série",
        "Marque",
        "Modèle",
        "Calibre",
        "Date d'acquisition",
        "Remarques",
    ];
    for (j, h) in header.iter().enumerate() {
        ws.write_string(2, j as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    // Row 4: a plain row with a real date cell.
    ws.write_string(3, 0, "P-1").unwrap();
    ws.write_string(3, 1, "0012345").unwrap();
    ws.write_string(3, 2, "Glock").unwrap();
    ws.write_string(3, 3, "17").unwrap();
    ws.write_string(3, 4, "9 mm").unwrap();
    ws.write_datetime_with_format(3, 5, ExcelDateTime::from_ymd(2001, 2, 28).unwrap(), &date)
        .unwrap();
    // Row 5: the make is a formula with a cached value (a warning); the serial a number.
    ws.write_string(4, 0, "P-2").unwrap();
    ws.write_number(4, 1, 12345.0).unwrap();
    ws.write_formula(4, 2, Formula::new("=C4").set_result("Glock"))
        .unwrap();
    ws.write_string(4, 3, "19").unwrap();
    // Row 6: the serial is computed (an error).
    ws.write_string(5, 0, "P-3").unwrap();
    ws.write_formula(5, 1, Formula::new("=B4&\"-A\"").set_result("0012345-A"))
        .unwrap();
    ws.write_string(5, 2, "Glock").unwrap();
    // Rows 7–9: the make merged over three rows: rows 8 and 9 read it as empty (errors).
    for (r, key, serial) in [(6u32, "P-4", "A1"), (7, "P-5", "A2"), (8, "P-6", "A3")] {
        ws.write_string(r, 0, key).unwrap();
        ws.write_string(r, 1, serial).unwrap();
        ws.write_string(r, 3, "Makarov").unwrap();
    }
    ws.merge_range(6, 2, 8, 2, "Izhmekh", &Format::new())
        .unwrap();
    // Row 10: an impossible date typed as text.
    ws.write_string(9, 0, "P-7").unwrap();
    ws.write_string(9, 1, "Z9").unwrap();
    ws.write_string(9, 5, "31/02/2001").unwrap();
    let other = wb.add_worksheet();
    other.set_name("Notes").unwrap();
    other.write_string(0, 0, "rien").unwrap();
    wb.save(&path).unwrap();

    let (summary, rows) = ok(&path, None, &dmy());
    assert_eq!(summary.format, SourceFormat::Xlsx);
    assert_eq!(summary.sheet.as_deref(), Some("Registre"));
    assert_eq!(summary.header_row, 3, "title row skipped");
    let head = &rows[0];
    assert_eq!(head.row, 3);
    assert!(
        head.problems
            .iter()
            .any(|p| p.message.contains("row 1 above the header")),
        "{head:?}"
    );
    assert!(
        head.problems
            .iter()
            .any(|p| p.message.contains("\"Notes\"")),
        "{head:?}"
    );

    let r4 = row(&rows, 4);
    assert!(errors(r4).is_empty(), "{r4:?}");
    assert_eq!(s(&r4.records[0]["markings"][0]["text"]), "0012345");
    assert_eq!(s(&r4.records[1]["date"]), "2001-02-28");

    let r5 = row(&rows, 5);
    assert!(errors(r5).is_empty(), "{r5:?}");
    assert_eq!(s(&r5.records[0]["make"]), "Glock");
    let warnings: Vec<&str> = r5.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        warnings.iter().any(|m| m.contains("formula (=C4)")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|m| m.contains("stored as a number")),
        "{warnings:?}"
    );

    let r6 = row(&rows, 6);
    assert!(r6.records.is_empty());
    assert_eq!(errors(r6)[0].column.as_ref().unwrap().letter, "B");
    assert!(errors(r6)[0].message.contains("formula"));

    assert!(errors(row(&rows, 7)).is_empty());
    assert_eq!(s(&row(&rows, 7).records[0]["make"]), "Izhmekh");
    for n in [8, 9] {
        let e = errors(row(&rows, n));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].message.contains("merged cells whose value is in C7"),
            "{e:?}"
        );
        assert_eq!(e[0].column.as_ref().unwrap().to_string(), "C \"Marque\"");
    }
    let e = errors(row(&rows, 10));
    assert!(e[0].message.contains("31/02/2001"), "{e:?}");
    assert_eq!(e[0].column.as_ref().unwrap().letter, "F");
    assert_valid(&rows);

    // Another sheet by name; an unknown one is refused with the list.
    let opts = ReadOptions {
        sheet: Some("Feuille".into()),
        ..ReadOptions::default()
    };
    let ps = rejected(&path, None, &opts);
    assert!(
        ps[0]
            .suggestion
            .as_ref()
            .unwrap()
            .contains("\"Registre\", \"Notes\""),
        "{ps:?}"
    );
}

#[test]
fn damaged_spreadsheet_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "broken.xlsx",
        b"PK\x03\x04 this is not a zip archive",
    );
    let ps = rejected(&p, None, &ReadOptions::default());
    assert!(ps[0].message.contains("spreadsheet"), "{ps:?}");
}

//! `tracemark demo-data` (and `serve --demo`): a coherent demonstration registry, so that a
//! newcomer sees a living system rather than an empty one.
//!
//! It is built from `generate`: the national registry's own records (imports, transfers to
//! police, defence and civilian holders, losses, thefts, seizures, destructions) as JSON Lines,
//! then three register exports of the kind a migration starts from — a police register (CSV
//! as Excel writes it, UTF-8 with a byte-order mark), a defence armoury's spreadsheet (.xlsx)
//! and a civilian licensing register (CSV separated by semicolons) — imported through the
//! register path with `--accept-valid`. The registers hold the usual faults of real ones on
//! purpose (an impossible date, the same weapon in two registers, a placeholder serial), so the
//! validation report and the rejects file in `<data>/demo/` show what a clerk would see.
//! Traces between states (issue #5) are not built yet, so the demo has none.
//!
//! The demo also has an organisation (agencies and one account per role, see
//! [`organisation`]) so that the API and its access rules can be tried at once.

use crate::Failure;
use anyhow::Context;
use clap::Args;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use tracemark_access::accounts;
use tracemark_registry::import::ImportOptions;
use tracemark_registry::register::{self, RegisterOptions, RegisterReport};
use tracemark_registry::{Clock, Location, Node, SystemClock};

/// Items in the national registry of the demo (registers add about a fifth more).
pub const DEFAULT_ITEMS: u64 = 5_000;

#[derive(Args)]
pub struct DemoArgs {
    /// Items in the national registry's own records.
    #[arg(long, default_value_t = DEFAULT_ITEMS)]
    items: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only write the demo files (JSON Lines and the three registers) to this folder.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// What was loaded.
pub struct Loaded {
    pub national_records: u64,
    pub registers: RegisterReport,
    pub folder: PathBuf,
}

pub fn run(cli: &crate::Cli, args: &DemoArgs) -> Result<(), Failure> {
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .map_err(|e| Failure::Usage(format!("--out {}: {e}", out.display())))?;
        let files = write_files(out, "KE", args.items, args.seed)?;
        for f in files.all() {
            println!("{}", f.display());
        }
        return Ok(());
    }
    let at = crate::location(cli)?;
    let mut node = open_or_init(&at)?;
    if node.store.ledger_size().context("ledger size")? > 0 {
        return Err(Failure::Usage(format!(
            "the store at {} already holds records; demo-data loads only into a new store (use another --data folder or database)",
            at.describe()
        )));
    }
    let loaded = load(&mut node, args.items, args.seed)?;
    summarise(&loaded);
    if let Some(path) = organisation(&mut node)? {
        eprintln!(
            "demo: accounts for every role, with their passwords, in {}",
            path.display()
        );
    }
    Ok(())
}

/// Opens the store, or creates one for the demo's state.
pub fn open_or_init(at: &Location) -> Result<Node, Failure> {
    if at.store_exists()? {
        Ok(Node::open_at(at)?)
    } else {
        Ok(Node::init_at(
            at,
            "KE",
            Some("demo-registry"),
            &SystemClock,
        )?)
    }
}

/// The demo's agencies: (name, kind, holder kind of its holdings, need-to-know). The
/// defence's holdings (every item held by armed forces) are need-to-know; police holdings
/// are known so that the police are told of hits on weapons stolen from them.
const DEMO_AGENCIES: [(&str, &str, Option<&str>, bool); 5] = [
    ("national-registry", "other", None, false),
    ("national-police", "police", Some("police"), false),
    ("defence", "defence", Some("armed_forces"), true),
    ("customs", "customs", None, false),
    ("licensing", "licensing", None, false),
];

/// One demo account per role: (account, agency, role).
const DEMO_ACCOUNTS: [(&str, &str, &str); 8] = [
    ("admin", "national-registry", "administrator"),
    ("clerk", "national-registry", "registry_clerk"),
    ("investigator", "national-police", "investigator"),
    ("tracing", "national-registry", "tracing_officer"),
    ("licensing", "licensing", "licensing_officer"),
    ("armourer", "defence", "stockpile_manager"),
    ("analyst", "national-registry", "analyst"),
    ("auditor", "national-registry", "auditor"),
];

/// Creates the demo organisation in a store that has no agencies yet: five agencies and one
/// account per role, each with its own generated password. The privileged ones (administrator,
/// auditor, tracing officer) have no second factor yet: the web sign-in takes them to the
/// enrolment page with its QR code, which is how a newcomer meets it. Everything is
/// written to `<data>/demo/accounts.txt` (owner-only) and the file's path is returned;
/// `None` if the store already had agencies.
pub fn organisation(node: &mut Node) -> Result<Option<PathBuf>, Failure> {
    if !node
        .store
        .agencies()
        .context("listing agencies")?
        .is_empty()
    {
        return Ok(None);
    }
    let now = SystemClock.now_rfc3339();
    let store = node.store.as_mut();
    for (name, kind, holder_kind, need_to_know) in DEMO_AGENCIES {
        accounts::add_agency(store, name, kind, None, holder_kind, need_to_know, &now)
            .map_err(crate::accounts_failure)?;
    }
    let mut text = String::from(
        "# Tracemark demo accounts (generated; shown once here). Privileged roles (second factor\n\
         # \"at first sign-in\") set up an authenticator app the first time they sign in to the web\n\
         # application (a QR code to scan); over the API only, use `tracemark user totp NAME` first.\n\
         # account\tagency\trole\tpassword\tsecond factor\n",
    );
    for (name, agency, role) in DEMO_ACCOUNTS {
        let password = tracemark_access::password::generate_password();
        let user = accounts::add_user(store, name, agency, role, &password, &now)
            .map_err(crate::accounts_failure)?;
        let second_factor = if tracemark_domain::account::Role::parse(&user.role)
            .map(|r| r.is_privileged())
            .unwrap_or(false)
        {
            "at first sign-in"
        } else {
            "-"
        };
        text.push_str(&format!(
            "{name}\t{agency}\t{role}\t{password}\t{second_factor}\n"
        ));
    }
    let folder = node.dir().join("demo");
    std::fs::create_dir_all(&folder).context("creating the demo folder")?;
    let path = folder.join("accounts.txt");
    write_private(&path, text.as_bytes())?;
    Ok(Some(path))
}

/// Writes a file only its owner can read (it holds passwords).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub fn summarise(l: &Loaded) {
    eprintln!(
        "demo: {} records of the national registry; registers: {} rows, {} records accepted, {} rows refused, {} warnings; report and rejects in {}",
        l.national_records,
        l.registers.rows,
        l.registers.accepted,
        l.registers.rows_rejected,
        l.registers.warnings().count(),
        l.folder.display()
    );
}

/// Loads the demo into an empty store.
pub fn load(node: &mut Node, items: u64, seed: u64) -> Result<Loaded, Failure> {
    let folder = node.dir().join("demo");
    std::fs::create_dir_all(&folder).context("creating the demo folder")?;
    let files = write_files(&folder, &node.info.state.clone(), items, seed)?;
    let report = tracemark_registry::import::import(
        node,
        std::slice::from_ref(&files.national),
        &ImportOptions {
            recorded_by: "demo".into(),
            ..ImportOptions::default()
        },
        &SystemClock,
    )
    .map_err(|e| Failure::Internal(e.into()))?;
    if !report.errors.is_empty() {
        return Err(Failure::Internal(anyhow::anyhow!(
            "the generated national registry was refused: {:?}",
            report.errors.first()
        )));
    }
    let registers = [
        files.police.clone(),
        files.defence.clone(),
        files.civilian.clone(),
    ];
    let opts = RegisterOptions {
        read: tracemark_migrate::ReadOptions {
            date_format: Some(tracemark_migrate::DateFormat::DMY),
            ..Default::default()
        },
        accept_valid: true,
        rejects: Some(folder.join("rejects.csv")),
        recorded_by: "demo".into(),
        batch_records: tracemark_registry::import::DEFAULT_BATCH_RECORDS,
        ..RegisterOptions::default()
    };
    let regs = register::import_register(node, &registers, &opts, &SystemClock)
        .map_err(|e| Failure::Internal(e.into()))?;
    // The registers' faults are row faults on purpose; a file refused whole is a bug here.
    if let Some(p) = regs
        .errors()
        .find(|p| p.category == register::Category::File)
    {
        return Err(Failure::Internal(anyhow::anyhow!(
            "a demo register was refused: {}: {}",
            p.file,
            p.message
        )));
    }
    let html = std::fs::File::create(folder.join("import-report.html"))
        .context("writing the demo report")?;
    register::report::write_html(&regs, std::io::BufWriter::new(html))
        .context("writing the demo report")?;
    tracemark_registry::search::open(node).map_err(|e| Failure::Internal(e.into()))?;
    Ok(Loaded {
        national_records: report.accepted,
        registers: regs,
        folder,
    })
}

struct DemoFiles {
    national: PathBuf,
    police: PathBuf,
    defence: PathBuf,
    civilian: PathBuf,
}

impl DemoFiles {
    fn all(&self) -> [&PathBuf; 4] {
        [&self.national, &self.police, &self.defence, &self.civilian]
    }
}

/// One register row, from a generated item and its history.
struct Row {
    serial: String,
    make: String,
    model: String,
    calibre: String,
    weapon_type: String,
    country: String,
    year: String,
    acquired: String,
    supplier: String,
    supplier_country: String,
    holder: String,
    holder_date: String,
    status: String,
    status_date: String,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A register writes whole dates the way a clerk types them (31/01/2001); partial ones stay
/// as ISO (1985, 1985-06), which the import reads whatever the declared order.
fn register_date(iso: &str) -> String {
    match iso.split('-').collect::<Vec<_>>()[..] {
        [y, m, d] if d.len() == 2 => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// Which register a generated weapon belongs to: police, defence or civilian.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Register {
    Police,
    Defence,
    Civilian,
}

fn row_of(item: &Map<String, Value>, events: &[Map<String, Value>]) -> Option<(Register, Row)> {
    if !matches!(
        item.get("kind").and_then(Value::as_str),
        Some("firearm" | "light_weapon")
    ) {
        return None;
    }
    let serial = item
        .get("markings")?
        .as_array()?
        .iter()
        .find(|m| m["kind"] == "serial")
        .map(|m| s(&m["text"]))?;
    let acquisition = events.iter().find(|e| {
        matches!(
            e.get("type").and_then(Value::as_str),
            Some("imported" | "transferred")
        )
    })?;
    let holder_ev = events.iter().rfind(|e| {
        matches!(
            e.get("type").and_then(Value::as_str),
            Some("transferred" | "assigned")
        )
    });
    let status_ev = events.iter().rfind(|e| {
        matches!(
            e.get("type").and_then(Value::as_str),
            Some("reported_stolen" | "reported_lost" | "seized" | "destroyed" | "recovered")
        )
    });
    let holder_kind = holder_ev
        .or(Some(acquisition))
        .map(|e| s(&e["to"]["kind"]))
        .unwrap_or_default();
    let register = match holder_kind.as_str() {
        "police" => Register::Police,
        "armed_forces" | "state_agency" => Register::Defence,
        _ => Register::Civilian,
    };
    let status = status_ev
        .map(|e| match e.get("type").and_then(Value::as_str) {
            Some("reported_stolen") => "stolen",
            Some("reported_lost") => "lost",
            Some("seized") => "seized",
            Some("destroyed") => "destroyed",
            _ => "recovered",
        })
        .unwrap_or("in service");
    Some((
        register,
        Row {
            serial,
            make: s(&item["make"]),
            model: s(&item["model"]),
            calibre: s(&item["calibre"]),
            weapon_type: s(&item["type"]).replace('_', " "),
            country: s(&item["country_of_manufacture"]),
            year: item
                .get("year_of_manufacture")
                .map(|y| y.to_string())
                .unwrap_or_default(),
            acquired: register_date(&s(&acquisition["date"])),
            supplier: s(&acquisition["from"]["name"]),
            supplier_country: s(&acquisition["from"]["country"]),
            holder: holder_ev.map(|e| s(&e["to"]["name"])).unwrap_or_default(),
            holder_date: holder_ev
                .map(|e| register_date(&s(&e["date"])))
                .unwrap_or_default(),
            status: status.to_owned(),
            status_date: status_ev
                .map(|e| register_date(&s(&e["date"])))
                .unwrap_or_default(),
        },
    ))
}

const HEADER: [&str; 15] = [
    "Ref",
    "Serial number",
    "Make",
    "Model",
    "Calibre",
    "Type",
    "Country of manufacture",
    "Year of manufacture",
    "Date of acquisition",
    "Supplier",
    "Supplier country",
    "Holder",
    "Holder date",
    "Status",
    "Status date",
];

fn cells(key: &str, r: &Row) -> [String; 15] {
    [
        key.to_owned(),
        r.serial.clone(),
        r.make.clone(),
        r.model.clone(),
        r.calibre.clone(),
        r.weapon_type.clone(),
        r.country.clone(),
        r.year.clone(),
        r.acquired.clone(),
        r.supplier.clone(),
        r.supplier_country.clone(),
        if r.holder_date.is_empty() {
            String::new()
        } else {
            r.holder.clone()
        },
        r.holder_date.clone(),
        if r.status_date.is_empty() {
            String::new()
        } else {
            r.status.clone()
        },
        r.status_date.clone(),
    ]
}

/// Writes the national registry (JSON Lines) and the three registers into `dir`.
fn write_files(dir: &Path, state: &str, items: u64, seed: u64) -> Result<DemoFiles, Failure> {
    let national = dir.join("national-registry.jsonl");
    let out = std::fs::File::create(&national).context("writing the demo data")?;
    let opts = tracemark_generate::GenerateOptions {
        items,
        seed,
        state: state.to_owned(),
    };
    tracemark_generate::generate(&opts, std::io::BufWriter::new(out))
        .context("generating the demo data")?;

    // The registers come from another stretch of the generator, under their own keys.
    let mut raw = Vec::new();
    let register_items = (items / 5).clamp(60, 20_000);
    tracemark_generate::generate(
        &tracemark_generate::GenerateOptions {
            items: register_items,
            seed: seed.wrapping_add(1),
            state: state.to_owned(),
        },
        &mut raw,
    )
    .context("generating the demo registers")?;
    let mut rows: Vec<(Register, Row)> = Vec::new();
    // The item being read and its events so far.
    type Pending = (Map<String, Value>, Vec<Map<String, Value>>);
    let mut current: Option<Pending> = None;
    for line in raw.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(Value::Object(record)) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if record.get("record").and_then(Value::as_str) == Some("item") {
            if let Some((item, events)) = current.take() {
                rows.extend(row_of(&item, &events));
            }
            current = Some((record, Vec::new()));
        } else if let Some((item, events)) = &mut current {
            if record.get("item") == item.get("key") {
                events.push(record);
            }
        }
    }
    if let Some((item, events)) = current.take() {
        rows.extend(row_of(&item, &events));
    }

    let pick = |which: Register| -> Vec<&Row> {
        rows.iter()
            .filter(|(r, _)| *r == which)
            .map(|(_, row)| row)
            .collect()
    };
    let police_rows = pick(Register::Police);
    let defence_rows = pick(Register::Defence);
    let civilian_rows = pick(Register::Civilian);

    // Police register: CSV as Excel saves it (UTF-8 with a byte-order mark), one impossible date.
    let police = dir.join("police-register.csv");
    let mut text = String::from("\u{feff}");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).context("police register")?;
    for (i, r) in police_rows.iter().enumerate() {
        let mut c = cells(&format!("KPS-{:05}", i + 1), r);
        if i == 4 {
            // A clerk's typo: there is no 31 February.
            if let Some(year) = c[8].rsplit('/').next().map(str::to_owned) {
                c[8] = format!("31/02/{year}");
            }
        }
        w.write_record(&c).context("police register")?;
    }
    text.push_str(&String::from_utf8_lossy(
        &w.into_inner().context("police register")?,
    ));
    std::fs::write(&police, text).context("writing the police register")?;

    // Defence armoury spreadsheet, with one placeholder serial.
    let defence = dir.join("defence-armoury.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Armoury").context("defence register")?;
    for (col, h) in HEADER.iter().enumerate() {
        sheet
            .write_string(0, col as u16, *h)
            .context("defence register")?;
    }
    for (i, r) in defence_rows.iter().enumerate() {
        let mut c = cells(&format!("KDF-{:05}", i + 1), r);
        if i == 2 {
            c[1] = "N/A".into();
        }
        for (col, v) in c.iter().enumerate() {
            sheet
                .write_string(i as u32 + 1, col as u16, v)
                .context("defence register")?;
        }
    }
    book.save(&defence)
        .context("writing the defence register")?;

    // Civilian licensing register, separated by semicolons; its first row is a weapon the
    // police register also holds (the same weapon under two keys).
    let civilian = dir.join("civilian-licences.csv");
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    w.write_record(HEADER).context("civilian register")?;
    let shared = police_rows.first().copied();
    for (i, r) in shared
        .into_iter()
        .chain(civilian_rows.iter().copied())
        .enumerate()
    {
        w.write_record(cells(&format!("CIV-{:05}", i + 1), r))
            .context("civilian register")?;
    }
    std::fs::write(&civilian, w.into_inner().context("civilian register")?)
        .context("writing the civilian register")?;

    Ok(DemoFiles {
        national,
        police,
        defence,
        civilian,
    })
}

//! End-to-end tests of the `tracemark` binary, run as a user runs it: a real process, a real
//! store (a SQLite file in a temporary folder, or a fresh PostgreSQL database), the contract's
//! flags, JSON and exit codes.
//!
//! **The conformance suite:** every scenario listed in an [`on_both_stores!`] runs twice, on
//! the embedded store and on PostgreSQL, and must behave the same. The PostgreSQL variants
//! need a server: `TRACEMARK_TEST_DATABASE_URL` (`postgres://user@host:port/postgres`, a role
//! that may `CREATE DATABASE`; each test gets a database of its own). `./scripts/test` starts
//! a throwaway cluster and sets it. Without it the PostgreSQL variants say so on stderr and
//! pass, unless `TRACEMARK_TEST_REQUIRE_POSTGRES=1`, which makes them fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

/// Runs each named scenario `fn name(b: Backend)` on both stores, as `name::sqlite` and
/// `name::postgres`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(crate::Backend::Sqlite)
            }
            #[test]
            fn postgres() {
                if let Some(b) = crate::Backend::postgres() {
                    super::$name(b)
                }
            }
        }
    )*};
}

mod cli;
mod corrections;
mod export;
mod faults;
mod federation;
mod ledger;
mod pg;
mod register;
mod search;
mod serve;
mod trace;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_tracemark");

/// The PostgreSQL server the tests may use (see the module documentation).
pub const PG_ENV: &str = "TRACEMARK_TEST_DATABASE_URL";

/// Which store a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// PostgreSQL, if the tests were given a server; otherwise says so loudly (or fails when
    /// `TRACEMARK_TEST_REQUIRE_POSTGRES=1`).
    pub fn postgres() -> Option<Backend> {
        if std::env::var(PG_ENV).is_ok_and(|u| !u.is_empty()) {
            return Some(Backend::Postgres);
        }
        assert!(
            std::env::var("TRACEMARK_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "{PG_ENV} is not set but TRACEMARK_TEST_REQUIRE_POSTGRES=1"
        );
        eprintln!(
            "\n*** NOT RUN ON POSTGRESQL: {PG_ENV} is not set. ./scripts/test starts a throwaway cluster and sets it. ***\n"
        );
        None
    }
}

/// A fresh, empty database on the test server (`CREATE DATABASE`); returns its URL.
pub fn fresh_database() -> String {
    fresh_database_on(&std::env::var(PG_ENV).expect("the PostgreSQL test server"))
}

/// A fresh, empty database on the server of `server_url`.
pub fn fresh_database_on(server_url: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "tm_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut c = postgres::Client::connect(server_url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = server_url.split('?').next().unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

pub struct Store {
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database, when the store is one.
    pub database: Option<String>,
}

impl Store {
    /// A new embedded store.
    pub fn new(state: &str) -> Self {
        Store::on(Backend::Sqlite, state)
    }
    /// A new store of the given kind.
    pub fn on(b: Backend, state: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = (b == Backend::Postgres).then(fresh_database);
        let s = Store { dir, database };
        let out = s.run(&["init", "--state", state]);
        assert!(out.status.success(), "init failed: {}", stderr(&out));
        s
    }
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    /// The global arguments that select this store.
    pub fn store_args(&self) -> Vec<String> {
        let mut a = vec!["--data".to_owned(), self.data().display().to_string()];
        if let Some(db) = &self.database {
            a.extend(["--database".to_owned(), db.clone()]);
        }
        a
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.args(self.store_args())
            .env_remove("TRACEMARK_DATA")
            .env_remove("TRACEMARK_DATABASE_URL");
        c
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    pub fn import(&self, file: &Path, extra: &[&str]) -> (i32, Value) {
        let mut c = self.cmd();
        c.arg("import").arg(file).arg("--json").args(extra);
        let out = c.output().unwrap();
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("no JSON report: {}", stderr(&out)));
        (out.status.code().unwrap(), v)
    }
    pub fn ledger_size(&self) -> u64 {
        self.json(&["ledger", "verify", "--json"])["size"]
            .as_u64()
            .unwrap()
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The contract's example, plus a little more history.
pub const EXAMPLE: &str = r#"{"record":"item","key":"KE-2019-000123","kind":"firearm","type":"assault_rifle","make":"Norinco","model":"Type 56","calibre":"7.62x39mm","country_of_manufacture":"CN","year_of_manufacture":1978,"markings":[{"kind":"serial","text":"5612345","component":"receiver"},{"kind":"factory_code","text":"66","component":"receiver"}]}
{"record":"event","id":"imp-85-112-0001","item":"KE-2019-000123","type":"imported","date":"1985-06","from":{"name":"China North Industries","country":"CN","kind":"exporter"},"to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"},"documents":[{"kind":"import_licence","number":"IL-85/112","issued_by":"KE"}]}
{"record":"event","item":"KE-2019-000123","type":"reported_stolen","date":"2011-02-03","place":{"country":"KE","admin1":"Nairobi"}}
"#;

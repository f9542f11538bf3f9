//! End-to-end tests of the `tracemark` binary, run as a user runs it: a real process, a real
//! SQLite file in a temporary folder, the contract's flags, JSON and exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod cli;
mod corrections;
mod export;
mod faults;
mod ledger;
mod register;
mod search;
mod serve;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_tracemark");

pub struct Store {
    pub dir: tempfile::TempDir,
}

impl Store {
    pub fn new(state: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s = Store { dir };
        let out = s.run(&["init", "--state", state]);
        assert!(out.status.success(), "init failed: {}", stderr(&out));
        s
    }
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data")
            .arg(self.data())
            .env_remove("TRACEMARK_DATA");
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

//! A real headless Chromium for the browser tests, driven over WebDriver.
//!
//! `scripts/test` finds (or, as root on Debian, installs) `chromium` and `chromedriver` and
//! exports `TRACEMARK_TEST_CHROMEDRIVER` and `TRACEMARK_TEST_CHROMIUM`; it also sets
//! `TRACEMARK_TEST_REQUIRE_BROWSER=1`, which turns a missing browser into a failure instead of
//! a loud "NOT RUN". Each [`Browser`] starts its own chromedriver on a free port with a new,
//! empty profile, and stops both when dropped. Chromium runs with the flags this machine's
//! closed network needs (no background networking, no component updates, no sync).

use fantoccini::{Client, ClientBuilder};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Where screenshots go: `<target>/e2e-screenshots/` (kept as test artefacts).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// A new headless Chromium, or `None` when the test machine has none (said loudly; a
    /// failure under `TRACEMARK_TEST_REQUIRE_BROWSER=1`).
    pub async fn start() -> Option<Browser> {
        let (Some(driver), chromium) = (
            std::env::var_os("TRACEMARK_TEST_CHROMEDRIVER"),
            std::env::var("TRACEMARK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        ) else {
            assert!(
                std::env::var("TRACEMARK_TEST_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "TRACEMARK_TEST_CHROMEDRIVER is not set"
            );
            eprintln!("*** NOT RUN: TRACEMARK_TEST_CHROMEDRIVER is not set (no browser) ***");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Browser {
                        client,
                        driver,
                        _profile: profile,
                    })
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a session: {last:?}");
    }

    /// Saves a screenshot of the current page as `<name>.png` among the test artefacts.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

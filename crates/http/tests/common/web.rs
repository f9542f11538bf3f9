//! The web pages' test harness: the real server on a free loopback port over a fresh
//! store seeded with agencies, users and a few records, and a `Browser` that speaks to it as
//! a browser would (cookies kept, redirects not followed, forms posted urlencoded with an
//! `Origin`). Used by tests/web*.rs.

use super::TestClock;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tracemark_access::accounts;
use tracemark_http::{AppState, Server};
use tracemark_registry::{FixedClock, Node};

pub const PASSWORD: &str = "correct horse battery staple";
pub const OPEN_ITEM: &str = "KE-2020-000001";
pub const CYRILLIC_ITEM: &str = "KE-2020-000003";
pub const NEAR_ITEM: &str = "KE-2020-000004";
pub const ARMOURY_ITEM: &str = "KE-2020-000002";

/// An open item reported stolen, its Cyrillic look-alike, a near miss, and an item held
/// by the need-to-know armoury.
pub const RECORDS: &str = r#"{"record":"item","key":"KE-2020-000001","kind":"firearm","make":"Glock","model":"17","calibre":"9x19mm","markings":[{"kind":"serial","text":"AB1234","component":"frame"}]}
{"record":"item","key":"KE-2020-000002","kind":"firearm","make":"Norinco","model":"Type 56","markings":[{"kind":"serial","text":"AB1234-M"}]}
{"record":"item","key":"KE-2020-000003","kind":"firearm","make":"Izhmash","model":"AK-74","markings":[{"kind":"serial","text":"АВ1234"}]}
{"record":"item","key":"KE-2020-000004","kind":"firearm","make":"Glock","model":"19","markings":[{"kind":"serial","text":"AB1239"}]}
{"record":"event","id":"imp-1","item":"KE-2020-000001","type":"imported","date":"2010-06","from":{"name":"Glock GmbH","country":"AT","kind":"exporter"},"to":{"name":"Nairobi Arms Ltd","country":"KE","kind":"dealer"}}
{"record":"event","item":"KE-2020-000001","type":"reported_stolen","date":"2011-02-03","place":{"country":"KE","admin1":"Nairobi"}}
{"record":"event","id":"mod-1","item":"KE-2020-000002","type":"assigned","date":"2020-03-01","to":{"name":"Ministry of Defence","country":"KE","kind":"state_agency"}}
"#;

/// A complete trace request as the guided form (`/traces/new`) posts it: Kenya's request about
/// a Glock seized at a checkpoint (the form adds `action` and `csrf`).
pub const TRACE_REQUEST_FORM: &[(&str, &str)] = &[
    ("id", "KE-DCI-2026-0001"),
    ("case_reference", "CR 12/2026 Isiolo"),
    ("requesting_agency", "national-registry"),
    ("officer", "Insp. W. Otieno"),
    ("priority", "routine"),
    ("kind", "firearm"),
    ("type", "pistol"),
    ("make", "Glock"),
    ("model", "17"),
    ("calibre", "9x19mm"),
    ("country_of_manufacture", "AT"),
    ("year_of_manufacture", "2009"),
    ("marking_text_0", "AB1234"),
    ("marking_kind_0", "serial"),
    ("marking_component_0", "frame"),
    ("marking_legibility_0", "clear"),
    ("import_text_0", "KE 2010"),
    ("import_country_0", "KE"),
    ("import_year_0", "2010"),
    (
        "photos",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ),
    ("illicit_reason", "seized"),
    ("illicit_details", "Found in a vehicle at a checkpoint."),
    ("legal_basis", "Firearms Act (Cap. 114) s. 4"),
    ("found_date", "2026-01-01"),
    ("found_country", "KE"),
    ("found_place", "Isiolo County"),
    ("found_description", "Police checkpoint."),
    ("intended_use", "Criminal prosecution."),
];

pub struct Web {
    pub base: String,
    pub data: PathBuf,
    pub clock: TestClock,
    /// The server's state (e.g. to nudge the federation's delivery task).
    pub app: AppState,
    pub shutdown: tokio::sync::oneshot::Sender<()>,
    pub handle: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

/// A browser: its cookies, and the pages it gets.
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    pub accept_language: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

pub fn seed(data: &std::path::Path) -> String {
    let mut node = Node::open(data).unwrap();
    let store = node.store.as_mut();
    let now = "2026-01-01T00:00:00Z";
    accounts::add_agency(store, "national-registry", "other", None, None, false, now).unwrap();
    accounts::add_agency(store, "police", "police", None, Some("police"), false, now).unwrap();
    accounts::add_agency(
        store,
        "mod-armoury",
        "defence",
        Some("Ministry of Defence"),
        None,
        true,
        now,
    )
    .unwrap();
    for (user, agency, role) in [
        ("tracer", "national-registry", "tracing_officer"),
        ("alice", "police", "investigator"),
        ("armourer", "mod-armoury", "stockpile_manager"),
        ("clerk", "national-registry", "registry_clerk"),
        ("admin", "national-registry", "administrator"),
    ] {
        accounts::add_user(store, user, agency, role, PASSWORD, now).unwrap();
    }
    accounts::enrol_totp(store, "tracer").unwrap();
    accounts::enrol_totp(store, "admin").unwrap();
    let (_, token) =
        accounts::create_token(store, "intake", "national-registry", "registry_clerk", now)
            .unwrap();
    token
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Web {
    /// Kenya's node with [`RECORDS`].
    pub async fn start() -> Web {
        Web::start_state("KE", RECORDS).await
    }

    /// A node for `state` with the seeded organisation and `records` (JSON Lines) imported.
    pub async fn start_state(state: &'static str, records: &str) -> Web {
        Web::start_on(state, records, TestClock::at(1_767_225_600)).await // 2026-01-01
    }

    /// As [`Web::start_state`], on `clock` (nodes that exchange messages share one: an
    /// envelope far from the receiver's time is refused).
    pub async fn start_on(state: &'static str, records: &str, clock: TestClock) -> Web {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(
            Node::init(
                &data,
                state,
                None,
                &FixedClock("2026-01-01T00:00:00Z".into()),
            )
            .unwrap(),
        );
        let seed_dir = data.clone();
        let token = tokio::task::spawn_blocking(move || seed(&seed_dir))
            .await
            .unwrap();
        let state_clock = clock.clone();
        let state_dir = data.clone();
        let state = tokio::task::spawn_blocking(move || {
            AppState::open(
                &state_dir,
                Arc::new(state_clock),
                tracemark_http::DEFAULT_MAX_BODY_BYTES,
            )
        })
        .await
        .unwrap()
        .unwrap();
        let app = state.clone();
        let server = Server::bind_with_state("127.0.0.1:0".parse().unwrap(), state)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        let web = Web {
            base: format!("http://{addr}"),
            data,
            clock,
            app,
            shutdown,
            handle,
            _dir: dir,
        };
        // Ready, and the records imported over the API.
        let http = reqwest::Client::new();
        for _ in 0..500 {
            if let Ok(r) = http.get(format!("{}/api/v1/health", web.base)).send().await {
                if r.status() == 200 {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let r = http
            .post(format!("{}/api/v1/records", web.base))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/x-ndjson")
            .body(records.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        web
    }

    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            accept_language: None,
        }
    }

    /// The current TOTP code of `user` (moving the clock to a fresh step first).
    pub fn totp(&self, user: &str) -> String {
        self.clock.advance(30);
        let secret = Node::open(&self.data)
            .unwrap()
            .store
            .user(user)
            .unwrap()
            .unwrap()
            .totp_secret
            .unwrap();
        tracemark_access::totp::code_at(&secret, self.clock.unix() as u64).unwrap()
    }

    /// A browser signed in as `user` through the form.
    pub async fn signed_in(&self, user: &str) -> Browser {
        let mut b = self.browser();
        // Tracing officers and administrators must sign in with a second factor.
        let totp = if user == "tracer" || user == "admin" {
            self.totp(user)
        } else {
            String::new()
        };
        let p = b.sign_in(user, PASSWORD, &totp).await;
        assert_eq!(p.status, 303, "{user}: {}", p.body);
        assert_eq!(p.location.as_deref(), Some("/dashboard"));
        assert!(b.cookies.contains_key("tracemark_session"));
        b
    }

    /// Adds `other` to this node's peer directory (its public identity and address), as
    /// an administrator does with `tracemark peer add`.
    pub fn knows(&self, other: &Web) {
        let identity = tracemark_registry::federation::identity(&Node::open(&other.data).unwrap())
            .unwrap()
            .public()
            .to_canonical_json();
        let mut node = Node::open(&self.data).unwrap();
        let now = tracemark_registry::Clock::now_rfc3339(&self.clock);
        tracemark_registry::federation::add_peer(
            &mut node,
            &identity,
            &format!("{}/", other.base),
            false,
            &now,
        )
        .unwrap();
    }

    pub async fn stop(self) {
        self.shutdown.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
    }
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn finish(&mut self, r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Page {
            status,
            location,
            set_cookies,
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        if let Some(l) = &self.accept_language {
            req = req.header("accept-language", l.clone());
        }
        let r = req.send().await.unwrap();
        self.finish(r).await
    }

    /// Posts a form as the page on this site would (the browser adds `Origin`).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_from(path, fields, &self.base.clone()).await
    }

    pub async fn post_from(&mut self, path: &str, fields: &[(&str, &str)], origin: &str) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(fields))
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// The CSRF token of the form: the cookie's value (a page sets it first).
    pub async fn csrf(&mut self) -> String {
        if !self.cookies.contains_key("tracemark_csrf") {
            let p = self.get("/sign-in").await;
            assert!(p.status == 200 || p.status == 303, "{}", p.body);
        }
        self.cookies["tracemark_csrf"].clone()
    }

    pub async fn sign_in(&mut self, account: &str, password: &str, totp: &str) -> Page {
        let csrf = self.csrf().await;
        self.post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("account", account),
                ("password", password),
                ("totp", totp),
            ],
        )
        .await
    }
}

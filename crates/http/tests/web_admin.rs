//! End-to-end tests of the administration, account and enrolment pages, and of the search
//! page's position grid, filters and normalized form: the real server, spoken to as a
//! browser would (see tests/common/web.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
use common::web::*;

use tracemark_registry::Node;

/// The text of the element with `id="…"` up to its closing tag (first `<`).
fn by_id<'a>(body: &'a str, id: &str) -> Option<&'a str> {
    let start = body.find(&format!("id=\"{id}\""))?;
    let rest = &body[start..];
    let open_end = rest.find('>')? + 1;
    let rest = &rest[open_end..];
    Some(&rest[..rest.find('<').unwrap_or(rest.len())])
}

fn audit(web: &Web) -> Vec<String> {
    Node::open(&web.data)
        .unwrap()
        .store
        .audit_entries(0, 10_000, &Default::default())
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.data).unwrap())
        .collect()
}

fn user(web: &Web, name: &str) -> tracemark_store::UserRow {
    Node::open(&web.data)
        .unwrap()
        .store
        .user(name)
        .unwrap()
        .unwrap()
}

/// Adds an account through the administration page; answers its one-time password.
async fn add_user(web: &Web, admin: &mut Browser, name: &str, role: &str) -> String {
    let csrf = admin.csrf().await;
    let p = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("agency", "national-registry"),
                ("role", role),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let shown = p.location.unwrap();
    assert!(shown.starts_with("/admin/shown/"), "{shown}");
    // Only to the administrator who made it.
    let mut other = web.signed_in("clerk").await;
    assert_eq!(other.get(&shown).await.status, 404);
    let p = admin.get(&shown).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let password = by_id(&p.body, "shown-secret").unwrap().to_owned();
    // Shown once.
    assert_eq!(admin.get(&shown).await.status, 404);
    assert_eq!(user(web, name).role, role);
    password
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_administrator_enrols_with_the_qr_page_then_signs_in_with_a_code() {
    let web = Web::start().await;
    let mut admin = web.signed_in("admin").await;
    let password = add_user(&web, &mut admin, "newadmin", "administrator").await;

    // The right password, no second factor: not signed in, on to the enrolment.
    let mut b = web.browser();
    let p = b.sign_in("newadmin", &password, "").await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/sign-in/enrol"));
    assert!(!b.cookies.contains_key("tracemark_session"));
    assert!(b.cookies.contains_key("tracemark_enrol"));
    // The enrolment is no session.
    let p = b.get("/admin").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/sign-in"));
    let p = b.get("/account").await;
    assert_eq!(p.status, 303);

    // The QR code and the secret, once.
    let p = b.get("/sign-in/enrol").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<svg"), "{}", p.body);
    assert!(p.body.contains("<label for=\"code\">"));
    let secret: String = by_id(&p.body, "enrol-secret")
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // Stored only once confirmed: an abandoned enrolment leaves the account as it was.
    assert_eq!(secret.len(), 32, "{secret}");
    assert_eq!(user(&web, "newadmin").totp_secret, None);
    let again = b.get("/sign-in/enrol").await;
    assert_eq!(again.status, 200);
    assert!(by_id(&again.body, "enrol-secret").is_none(), "shown once");
    assert!(!again.body.contains("<svg"));

    // Abandoned halfway, a new sign-in starts afresh with a new secret, and the first
    // enrolment is over (one at a time per account).
    let mut other = web.browser();
    let p = other.sign_in("newadmin", &password, "").await;
    assert_eq!(p.location.as_deref(), Some("/sign-in/enrol"), "{}", p.body);
    let p = other.get("/sign-in/enrol").await;
    let second = by_id(&p.body, "enrol-secret").unwrap().replace(' ', "");
    assert_ne!(second, secret);
    let csrf = b.csrf().await;
    let p = b
        .post("/sign-in/enrol", &[("csrf", &csrf), ("code", "123456")])
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/sign-in?enrol=expired"));
    let p = b.get("/sign-in?enrol=expired").await;
    assert!(p.body.contains("The enrolment has expired"), "{}", p.body);
    let (mut b, secret) = (other, second);
    // A form without the CSRF token is refused; a wrong code is told next to the field.
    let p = b.post("/sign-in/enrol", &[("code", "123456")]).await;
    assert_eq!(p.status, 403, "{}", p.body);
    let csrf = b.csrf().await;
    let p = b
        .post("/sign-in/enrol", &[("csrf", &csrf), ("code", "")])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"code-error\""), "{}", p.body);
    web.clock.advance(30);
    let right = tracemark_access::totp::code_at(&secret, web.clock.unix() as u64).unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let p = b
        .post("/sign-in/enrol", &[("csrf", &csrf), ("code", wrong)])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"code-error\""), "{}", p.body);
    assert_eq!(user(&web, "newadmin").totp_secret, None);

    // The right code: verified, and signed in.
    let p = b
        .post("/sign-in/enrol", &[("csrf", &csrf), ("code", &right)])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/dashboard"));
    assert!(b.cookies.contains_key("tracemark_session"));
    assert!(!b.cookies.contains_key("tracemark_enrol"));
    let row = user(&web, "newadmin");
    assert!(row.totp_verified);
    assert_eq!(row.totp_secret, Some(secret.clone()));
    // Audited as the API's sign-in is, with the second factor.
    let entries = audit(&web);
    assert!(
        entries.iter().any(|e| e.contains("user:newadmin")
            && e.contains("\"sign_in\"")
            && e.contains("password+totp")),
        "{entries:?}"
    );
    // An administrator with a second factor may administer.
    assert_eq!(b.get("/admin").await.status, 200);

    // The account page: who, the second factor, when the session ends.
    let p = b.get("/account").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("newadmin"));
    assert!(p.body.contains("national-registry"));
    assert!(by_id(&p.body, "account-mfa")
        .unwrap()
        .contains("authenticator app (confirmed)"));
    assert!(by_id(&p.body, "account-expires").unwrap().contains("UTC"));

    // The next sign-in asks for the code, and works with it.
    let mut again = web.browser();
    let p = again.sign_in("newadmin", &password, "").await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert!(p.body.contains("id=\"totp-error\""));
    let code = web.totp("newadmin");
    let p = again.sign_in("newadmin", &password, &code).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/dashboard"));

    // An administrator resets the second factor: the sessions it opened end (`b` and
    // `again` are both signed out), and the next sign-in enrols again.
    assert_eq!(again.get("/account").await.status, 200);
    let csrf = admin.csrf().await;
    let p = admin
        .post("/admin/users/newadmin/reset-mfa", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(user(&web, "newadmin").totp_secret, None);
    assert!(audit(&web)
        .iter()
        .any(|e| e.contains("users:totp-reset:newadmin") && e.contains("user:admin")));
    for signed_out in [&mut b, &mut again] {
        let p = signed_out.get("/account").await;
        assert_eq!(p.status, 303, "{}", p.body);
        assert!(p.location.as_deref().unwrap().starts_with("/sign-in"));
    }
    assert_eq!(
        admin.get("/admin").await.status,
        200,
        "others stay signed in"
    );
    let mut third = web.browser();
    let p = third.sign_in("newadmin", &password, "").await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/sign-in/enrol"));
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_person_enrols_from_the_account_page_but_cannot_move_a_confirmed_factor() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let p = b.get("/account").await;
    assert!(p.body.contains("action=\"/account/enrol\""), "{}", p.body);
    let csrf = b.csrf().await;
    assert_eq!(b.post("/account/enrol", &[]).await.status, 403, "CSRF");
    let p = b.post("/account/enrol", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/sign-in/enrol"));
    let p = b.get("/sign-in/enrol").await;
    let secret = by_id(&p.body, "enrol-secret").unwrap().replace(' ', "");
    web.clock.advance(30);
    let code = tracemark_access::totp::code_at(&secret, web.clock.unix() as u64).unwrap();
    let p = b
        .post("/sign-in/enrol", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(user(&web, "clerk").totp_verified);
    let p = b.get("/account").await;
    assert!(by_id(&p.body, "account-mfa")
        .unwrap()
        .contains("(confirmed)"));
    assert!(!p.body.contains("action=\"/account/enrol\""));
    // A confirmed factor is not moved from a session (as the API answers 409).
    let p = b.post("/account/enrol", &[("csrf", &csrf)]).await;
    assert_eq!(p.location.as_deref(), Some("/account"));
    assert_eq!(user(&web, "clerk").totp_secret, Some(secret));
    // The clerk now signs in with a code.
    let mut again = web.browser();
    assert_eq!(again.sign_in("clerk", PASSWORD, "").await.status, 401);
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_sends_to_sign_in_with_a_notice() {
    let web = Web::start().await;
    let mut b = web.signed_in("clerk").await;
    let p = b.get("/account").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(by_id(&p.body, "account-mfa").unwrap().contains("none"));
    // Never signed in: no notice.
    let mut fresh = web.browser();
    let p = fresh.get("/sign-in").await;
    assert!(!p.body.contains("Your session has expired"), "{}", p.body);
    // Idle past the session's time.
    web.clock.advance(31 * 60);
    let p = b.get("/search?q=AB1234").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/sign-in"));
    let p = b.get("/sign-in").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Your session has expired"), "{}", p.body);
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_is_refused_to_other_roles_and_to_those_not_signed_in() {
    let web = Web::start().await;
    let mut anonymous = web.browser();
    let p = anonymous.get("/admin").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/sign-in"));
    for who in ["clerk", "tracer", "alice"] {
        let mut b = web.signed_in(who).await;
        let p = b.get("/admin").await;
        assert_eq!(p.status, 403, "{who}: {}", p.body);
        let csrf = b.csrf().await;
        let p = b
            .post(
                "/admin/agencies",
                &[("csrf", &csrf), ("name", "rogue"), ("kind", "police")],
            )
            .await;
        assert_eq!(p.status, 403, "{who}: {}", p.body);
        let p = b
            .post(
                "/admin/retention",
                &[("csrf", &csrf), ("manufacturing", "40")],
            )
            .await;
        assert_eq!(p.status, 403, "{who}: {}", p.body);
        let p = b
            .post("/admin/users/admin/reset-mfa", &[("csrf", &csrf)])
            .await;
        assert_eq!(p.status, 403, "{who}: {}", p.body);
    }
    let node = Node::open(&web.data).unwrap();
    assert!(!node
        .store
        .agencies()
        .unwrap()
        .iter()
        .any(|a| a.name == "rogue"));
    assert!(node
        .store
        .user("admin")
        .unwrap()
        .unwrap()
        .totp_secret
        .is_some());
    assert_eq!(node.store.setting("retention.1").unwrap(), None);
    // The refusals are on record as the API's are.
    assert!(audit(&web)
        .iter()
        .any(|e| e.contains("user:clerk") && e.contains("agencies:list") && e.contains("deny")));
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_manages_agencies_users_tokens_peers_and_retention() {
    let web = Web::start().await;
    // A peer in the directory, a locked account.
    {
        let mut node = Node::open(&web.data).unwrap();
        node.store
            .add_peer(&tracemark_store::PeerRow {
                state: "UG".into(),
                url: "https://tracemark.example.ug".into(),
                identity: tracemark_federation::NodeIdentity::generate(
                    tracemark_domain::ids::CountryCode::parse("UG").unwrap(),
                    &mut rand_core::OsRng,
                )
                .unwrap()
                .public()
                .to_canonical_json(),
                added_at: "2026-01-01T00:00:00Z".into(),
                replaced_at: None,
            })
            .unwrap();
        node.store
            .set_login_state("alice", 7, Some(web.clock.unix() + 3000))
            .unwrap();
    }
    let mut b = web.signed_in("admin").await;
    let p = b.get("/admin").await;
    assert_eq!(p.status, 200, "{}", p.body);
    for text in [
        "national-registry",
        "mod-armoury",
        "https://tracemark.example.ug",
        "locked for 50 min",
        "registry clerk",
        "administer (with a second factor)",
        "Tracemark does not delete any record today",
        "<label for=\"retention-manufacturing\">",
    ] {
        assert!(p.body.contains(text), "{text}: {}", p.body);
    }
    let csrf = b.csrf().await;

    // Agencies: a bad name is told next to its field, nothing added; a good one is listed.
    let p = b
        .post(
            "/admin/agencies",
            &[("csrf", &csrf), ("name", "Bad Name!"), ("kind", "police")],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"agency-name-error\""), "{}", p.body);
    assert!(
        p.body.contains("Agency name:"),
        "the summary names the field"
    );
    let p = b
        .post(
            "/admin/agencies",
            &[
                ("csrf", &csrf),
                ("name", "customs-mombasa"),
                ("kind", "customs"),
                ("holder_kind", "customs"),
                ("need_to_know", "on"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(b.get("/admin").await.body.contains("customs-mombasa"));
    assert!(Node::open(&web.data)
        .unwrap()
        .store
        .agencies()
        .unwrap()
        .iter()
        .any(|a| a.name == "customs-mombasa" && a.need_to_know));
    // Without CSRF: refused.
    let p = b
        .post(
            "/admin/agencies",
            &[("name", "x-agency"), ("kind", "police")],
        )
        .await;
    assert_eq!(p.status, 403);

    // Peers: added from the identity the peer's administrator gives (as `federation
    // identity --json` prints it), listed with its fingerprint; a bad URL names the field.
    let tz = tracemark_federation::NodeIdentity::generate(
        tracemark_domain::ids::CountryCode::parse("TZ").unwrap(),
        &mut rand_core::OsRng,
    )
    .unwrap();
    let fingerprint = tz.public().fingerprint();
    let given = serde_json::json!({
        "identity": serde_json::from_str::<serde_json::Value>(&tz.public().to_canonical_json()).unwrap(),
        "fingerprint": fingerprint.to_string(),
    })
    .to_string();
    let p = b
        .post(
            "/admin/peers",
            &[
                ("csrf", &csrf),
                ("peer_url", "not a url"),
                ("identity", &given),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"peer-url-error\""), "{}", p.body);
    let p = b
        .post(
            "/admin/peers",
            &[
                ("csrf", &csrf),
                ("peer_url", "https://tz.example"),
                ("identity", "{\"x\":1}"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("id=\"peer-identity-error\""), "{}", p.body);
    assert_eq!(
        Node::open(&web.data).unwrap().store.peers().unwrap().len(),
        1
    );
    let p = b
        .post(
            "/admin/peers",
            &[
                ("csrf", &csrf),
                ("peer_url", "https://tz.example"),
                ("identity", &given),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get("/admin").await.body;
    assert!(page.contains("https://tz.example"), "{page}");
    assert!(page.contains(&fingerprint.grouped()), "{page}");
    assert!(Node::open(&web.data)
        .unwrap()
        .store
        .peers()
        .unwrap()
        .iter()
        .any(|p| p.state == "TZ"));

    // Users: added with a role (its one-time password shown once); unlock.
    let password = add_user(&web, &mut b, "officer2", "investigator").await;
    let mut officer = web.browser();
    assert_eq!(officer.sign_in("officer2", &password, "").await.status, 303);
    let p = b
        .post("/admin/users/alice/unlock", &[("csrf", &csrf)])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let alice = user(&web, "alice");
    assert_eq!((alice.failed_logins, alice.locked_until), (0, None));

    // Tokens: created (shown once), then revoked.
    let p = b
        .post(
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("service", "border-scanner"),
                ("agency", "police"),
                ("role", "administrator"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "a privileged role: {}", p.body);
    assert!(p.body.contains("id=\"token-role-error\""));
    let p = b
        .post(
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("service", "border-scanner"),
                ("agency", "police"),
                ("role", "investigator"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let shown = b.get(&p.location.unwrap()).await;
    let token = by_id(&shown.body, "shown-secret").unwrap().to_owned();
    assert!(token.starts_with("tmk_"), "{token}");
    let http = reqwest::Client::new();
    let whoami = |t: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/session", web.base);
        async move {
            http.get(url)
                .header("authorization", format!("Bearer {t}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(whoami(token.clone()).await, 200);
    let row = Node::open(&web.data)
        .unwrap()
        .store
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.service == "border-scanner")
        .unwrap();
    assert!(b.get("/admin").await.body.contains(&row.id));
    let p = b
        .post(
            &format!("/admin/tokens/{}/revoke", row.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(whoami(token).await, 401);

    // Retention: below the ITI's minimum is refused naming the field, nothing stored.
    let p = b
        .post(
            "/admin/retention",
            &[("csrf", &csrf), ("manufacturing", "25"), ("other", "20")],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("id=\"retention-manufacturing-error\""),
        "{}",
        p.body
    );
    assert!(p.body.contains("Manufacturing records (years):"));
    assert!(!p.body.contains("id=\"retention-other-error\""));
    let setting = |k: &str| Node::open(&web.data).unwrap().store.setting(k).unwrap();
    assert_eq!(setting("retention.1"), None);
    let p = b
        .post(
            "/admin/retention",
            &[("csrf", &csrf), ("manufacturing", "40"), ("other", "")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let stored: serde_json::Value = serde_json::from_str(&setting("retention.1").unwrap()).unwrap();
    assert_eq!(
        stored,
        serde_json::json!({"manufacturing": 40, "other": null})
    );
    assert_eq!(setting("retention.2"), None);
    let page = b.get("/admin").await.body;
    assert!(page.contains("40 years"), "{page}");
    assert!(page.contains("indefinitely"));
    let entries = audit(&web);
    for detail in [
        "retention:set:manufacturing=40,other=indefinite",
        "agencies:add:customs-mombasa",
        "users:add:officer2",
        "users:unlock:alice",
        "tokens:create:border-scanner",
        "peers:add:https://tz.example",
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e.contains(detail) && e.contains("user:admin")),
            "{detail}: {entries:?}"
        );
    }
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_position_grid_finds_an_obliterated_serial() {
    let web = Web::start().await;
    let mut b = web.signed_in("tracer").await;
    let p = b.get("/search?n=6").await;
    assert_eq!(p.status, 200, "{}", p.body);
    for i in 0..6 {
        assert!(
            p.body.contains(&format!("<label for=\"g{i}\">")),
            "{}",
            p.body
        );
    }
    assert!(!p.body.contains("id=\"g6\""));
    // AB?234: the third character is unreadable.
    let p = b.get("/search?n=6&g0=A&g1=B&g2=&g3=2&g4=3&g5=4").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("value=\"AB?234\""), "{}", p.body);
    let start = p.body.find("match-group match-wildcard").expect(&p.body);
    assert!(p.body[start..].contains(OPEN_ITEM), "{}", p.body);
    assert!(
        !p.body.contains(NEAR_ITEM),
        "AB1239 does not fit: {}",
        p.body
    );
    // `?` typed in a box is unreadable too.
    let p = b.get("/search?n=6&g0=A&g1=B&g2=%3F&g3=2&g4=3&g5=4").await;
    assert!(p.body.contains("value=\"AB?234\""));
    let p = b.get("/search?n=99").await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"n-error\""));
    // Audited as the API's search, with the pattern.
    assert!(audit(&web)
        .iter()
        .any(|e| e.contains("search:AB?234") && e.contains("user:tracer")));
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_normalized_form_is_the_indexs_and_filters_narrow_the_hits() {
    let web = Web::start().await;
    // For signed-in people only.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/search/normalize?q=AB1234", web.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut b = web.signed_in("tracer").await;
    // Cyrillic А and В with a dash: the same key as the Latin serial.
    let p = b.get("/search/normalize?q=%D0%90%D0%92-1234").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let doc: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    let expected = tracemark_search::keys("AB1234").visual;
    assert_eq!(doc["normalized"], expected.as_str());
    assert_eq!(tracemark_search::keys("АВ-1234").visual, expected);
    assert_eq!(
        doc["canonical"], "АВ1234",
        "the canonical form keeps the script"
    );
    let p = b.get("/search/normalize?q=ab-%3F%3F34").await;
    let doc: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert!(doc["normalized"].as_str().unwrap().contains("??"), "{doc}");
    assert_eq!(doc["canonical"], "AB??34");

    // The results page shows the normalized form without script; the script is served.
    let p = b.get("/search?q=ab-1234").await;
    assert!(by_id(&p.body, "q-normalized").is_some());
    assert!(p.body.contains(&expected), "{}", p.body);
    assert!(p.body.contains(">AB1234</bdi>"), "{}", p.body);
    assert!(p.body.contains("<script src=\"/static/tracemark.js\""));
    let r = http
        .get(format!("{}/static/tracemark.js", web.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("/search/normalize"));

    // Filters: the Cyrillic look-alike (Izhmash) goes with make=Glock; status=stolen keeps
    // only the stolen one.
    let all = b.get("/search?q=AB1234").await.body;
    assert!(all.contains(CYRILLIC_ITEM), "{all}");
    assert!(all.contains(OPEN_ITEM));
    let glock = b.get("/search?q=AB1234&make=Glock").await.body;
    assert!(glock.contains(OPEN_ITEM), "{glock}");
    assert!(!glock.contains(CYRILLIC_ITEM), "{glock}");
    let stolen = b.get("/search?q=AB123*&status=stolen").await.body;
    assert!(stolen.contains(OPEN_ITEM), "{stolen}");
    assert!(!stolen.contains(NEAR_ITEM), "{stolen}");
    assert!(stolen.contains("<option value=\"stolen\" selected>"));
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hit_shows_items_of_the_same_shipment() {
    let web = Web::start().await;
    // A clerk's token made on the administration page imports a shipment of consecutive
    // serials, and one of another model.
    let mut admin = web.signed_in("admin").await;
    let csrf = admin.csrf().await;
    let p = admin
        .post(
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("service", "intake-2"),
                ("agency", "national-registry"),
                ("role", "registry_clerk"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let shown = admin.get(&p.location.unwrap()).await;
    let token = by_id(&shown.body, "shown-secret").unwrap().to_owned();
    let records = r#"{"record":"item","key":"KE-2021-000101","kind":"firearm","make":"Beretta","model":"92FS","markings":[{"kind":"serial","text":"BER04410"}]}
{"record":"item","key":"KE-2021-000102","kind":"firearm","make":"Beretta","model":"92FS","markings":[{"kind":"serial","text":"BER04411"}]}
{"record":"item","key":"KE-2021-000103","kind":"firearm","make":"Beretta","model":"92FS","markings":[{"kind":"serial","text":"BER04413"}]}
{"record":"item","key":"KE-2021-000104","kind":"firearm","make":"Beretta","model":"M9","markings":[{"kind":"serial","text":"BER04412"}]}
"#;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/records", web.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/x-ndjson")
        .body(records)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mut b = web.signed_in("tracer").await;
    let p = b.get("/search?q=BER04410&mode=exact").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let start = p.body.find("class=\"shipment\"").expect(&p.body);
    let hints = &p.body[start..p.body[start..].find("</tr>").unwrap() + start];
    assert!(hints.contains("KE-2021-000102"), "{hints}");
    assert!(hints.contains("KE-2021-000103"), "{hints}");
    assert!(!hints.contains("KE-2021-000104"), "another model: {hints}");
    assert!(hints.contains("+1 from the hit"), "{hints}");
    assert!(hints.contains("+3 from the hit"), "{hints}");
    web.stop().await;
}

//! End-to-end tests of the web pages: the real server on a free loopback port, spoken to
//! as a browser would (cookies kept, redirects not followed, forms posted urlencoded with an
//! `Origin`), over a fresh store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;
use common::web::*;

use tracemark_http::web::i18n;
use tracemark_registry::Node;

/// The text of the `<section>` of a match class in a search page.
fn group<'a>(body: &'a str, class: &str) -> Option<&'a str> {
    let start = body.find(&format!("class=\"match-group match-{class}\""))?;
    let rest = &body[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    Some(&rest[..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_page_renders_in_each_language_and_arabic_is_right_to_left() {
    let web = Web::start().await;
    for (lang, dir, word) in [
        ("en", "ltr", "Password"),
        ("fr", "ltr", "Mot de passe"),
        ("es", "ltr", "Contraseña"),
        ("ar", "rtl", "كلمة المرور"),
    ] {
        let mut b = web.browser();
        let p = b.get(&format!("/sign-in?lang={lang}")).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert!(
            p.body
                .contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
            "{lang}: {}",
            &p.body[..200.min(p.body.len())]
        );
        assert!(p.body.contains(word), "{lang}: {}", p.body);
        assert!(p.body.contains("<label for=\"password\">"), "{}", p.body);
        assert!(p.body.contains("href=\"#main\""), "a skip link");
        assert!(
            !p.body.contains("[sign-in"),
            "no missing message: {}",
            p.body
        );
        // The choice is remembered: the next page without `?lang=` is in it too.
        assert_eq!(
            b.cookies.get("tracemark_lang").map(String::as_str),
            Some(lang)
        );
        let p = b.get("/sign-in").await;
        assert!(p.body.contains(&format!("lang=\"{lang}\" dir=\"{dir}\"")));
    }
    // Without a choice, the browser's Accept-Language decides; English otherwise.
    let mut b = web.browser();
    b.accept_language = Some("es-MX,es;q=0.9,en;q=0.5".into());
    assert!(b.get("/sign-in").await.body.contains("<html lang=\"es\""));
    let mut b = web.browser();
    b.accept_language = Some("de-DE,de;q=0.9".into());
    assert!(b.get("/sign-in").await.body.contains("<html lang=\"en\""));
    // The language form: remembered in the cookie, back to the page it was posted from.
    let mut b = web.browser();
    let csrf = b.csrf().await;
    let p = b
        .post(
            "/language",
            &[
                ("csrf", &csrf),
                ("lang", "ar"),
                ("back", "/sign-in?lang=fr"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some("/sign-in"));
    assert!(b.get("/sign-in").await.body.contains("dir=\"rtl\""));
    // Not to another site.
    let p = b
        .post(
            "/language",
            &[("csrf", &csrf), ("lang", "fr"), ("back", "//evil.example/")],
        )
        .await;
    assert_eq!(p.location.as_deref(), Some("/"));
    // The style sheet is served by the app.
    let p = b.get("/static/tracemark.css").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(":focus-visible"));
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_names_the_field_and_opens_no_session() {
    let web = Web::start().await;
    let mut b = web.browser();
    let p = b.sign_in("alice", "not her password", "").await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert!(p.body.contains("id=\"password-error\""), "{}", p.body);
    assert!(
        p.body.contains("<a href=\"#password\">Password: "),
        "the error summary names the field: {}",
        p.body
    );
    assert!(p.body.contains("aria-invalid=\"true\""));
    assert!(p.body.contains("value=\"alice\""), "the account is kept");
    assert!(
        !p.set_cookies
            .iter()
            .any(|c| c.starts_with("tracemark_session=")),
        "{:?}",
        p.set_cookies
    );
    assert!(!b.cookies.contains_key("tracemark_session"));
    // An empty account is named too, and nothing is tried.
    let p = b.sign_in("", PASSWORD, "").await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("id=\"account-error\""), "{}", p.body);
    // A tracing officer without the code is told the code is missing, on that field, in French.
    let p = b.get("/sign-in?lang=fr").await;
    assert_eq!(p.status, 200);
    let p = b.sign_in("tracer", PASSWORD, "").await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("id=\"totp-error\""), "{}", p.body);
    assert!(p.body.contains("Code d’authentification"), "{}", p.body);
    // Repeated failures lock the account, and the page says so.
    let mut locked = None;
    for _ in 0..10 {
        let p = b.sign_in("alice", "wrong again", "").await;
        if p.status == 429 {
            locked = Some(p);
            break;
        }
    }
    let p = locked.expect("the account locks");
    assert!(p.body.contains("verrouillé"), "{}", p.body);
    assert!(!b.cookies.contains_key("tracemark_session"));
    web.stop().await;
}

/// Alice's sign-in form with this CSRF token.
fn sign_in_fields(token: &str) -> Vec<(&str, &str)> {
    vec![
        ("csrf", token),
        ("account", "alice"),
        ("password", PASSWORD),
        ("totp", ""),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_token_or_from_another_site_are_refused() {
    let web = Web::start().await;
    let mut b = web.browser();
    let csrf = b.csrf().await;
    let p = b.post("/sign-in", &sign_in_fields("")).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(!b.cookies.contains_key("tracemark_session"));
    let p = b
        .post_from("/sign-in", &sign_in_fields(&csrf), "https://evil.example")
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(!b.cookies.contains_key("tracemark_session"));
    let p = b.post("/sign-in", &sign_in_fields(&csrf)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(b.cookies.contains_key("tracemark_session"));
    // Sign-out needs the token too.
    let p = b.post("/sign-out", &[("csrf", "")]).await;
    assert_eq!(p.status, 403);
    assert_eq!(b.get("/search").await.status, 200, "still signed in");
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_pages_redirect_to_sign_in_and_sign_out_ends_the_session() {
    let web = Web::start().await;
    let mut b = web.browser();
    for path in [
        "/",
        "/search",
        "/search?q=AB1234",
        &format!("/items/{OPEN_ITEM}"),
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 303, "{path}");
        assert_eq!(p.location.as_deref(), Some("/sign-in"), "{path}");
    }
    let mut b = web.signed_in("alice").await;
    assert_eq!(b.get("/").await.location.as_deref(), Some("/dashboard"));
    assert_eq!(
        b.get("/sign-in").await.location.as_deref(),
        Some("/dashboard")
    );
    let old = b.cookies["tracemark_session"].clone();
    // The web's session is the API's.
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/session", web.base))
        .header("cookie", format!("tracemark_session={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csrf = b.csrf().await;
    let p = b.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location.as_deref(), Some("/sign-in"));
    assert!(!b.cookies.contains_key("tracemark_session"));
    b.cookies.insert("tracemark_session".into(), old);
    let p = b.get("/search").await;
    assert_eq!(
        p.location.as_deref(),
        Some("/sign-in"),
        "the old cookie is dead"
    );
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_totp_then_search_groups_hits_by_match_class() {
    let web = Web::start().await;
    let mut b = web.signed_in("tracer").await;
    let p = b.get("/search").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<label for=\"q\">"), "{}", p.body);
    assert!(p.body.contains("Signed in as tracer"), "{}", p.body);
    let p = b.get("/search?q=AB1234").await;
    assert_eq!(p.status, 200, "{}", p.body);
    let exact = group(&p.body, "exact").expect("an exact group");
    assert!(exact.contains(OPEN_ITEM), "{exact}");
    assert!(exact.contains("Exact matches"));
    assert!(exact.contains("stolen"), "the status: {exact}");
    assert!(
        exact.contains("Warning: Reported stolen. Contact "),
        "the stolen item's alert: {exact}"
    );
    let normalized = group(&p.body, "normalized").expect("a normalized group");
    assert!(normalized.contains(CYRILLIC_ITEM), "{normalized}");
    assert!(normalized.contains("АВ1234"), "the marking as seen");
    assert!(normalized.contains("Cyrillic"), "the reason: {normalized}");
    let fuzzy = group(&p.body, "fuzzy").expect("a fuzzy group");
    assert!(fuzzy.contains(NEAR_ITEM), "{fuzzy}");
    assert!(fuzzy.contains("one character differs"), "{fuzzy}");
    // Exact before normalized before fuzzy.
    let at = |s: &str| p.body.find(s).unwrap();
    assert!(at("match-exact\"") < at("match-normalized\""));
    assert!(at("match-normalized\"") < at("match-fuzzy\""));
    // The same search in Spanish, and an unsearchable query told in the form.
    let p = b.get("/search?q=AB1234&lang=es").await;
    assert!(group(&p.body, "exact")
        .unwrap()
        .contains("Coincidencias exactas"));
    let p = b.get("/search?q=%2D%2D%2D").await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("id=\"q-error\""), "{}", p.body);
    // Audited as the API's search is.
    let audit: Vec<String> = Node::open(&web.data)
        .unwrap()
        .store
        .audit_entries(0, 1000, &Default::default())
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.data).unwrap())
        .collect();
    assert!(
        audit
            .iter()
            .any(|e| e.contains("\"search:AB1234\"") && e.contains("user:tracer")),
        "{audit:?}"
    );
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_item_page_shows_markings_and_with_a_purpose_the_custody_timeline() {
    let web = Web::start().await;
    let mut b = web.signed_in("tracer").await;
    let p = b.get(&format!("/items/{CYRILLIC_ITEM}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("АВ1234"), "as seen: {}", p.body);
    assert!(
        p.body.contains("A81234"),
        "the search key, Latin: {}",
        p.body
    );
    assert!(p.body.contains("Izhmash"));
    let p = b.get(&format!("/items/{OPEN_ITEM}")).await;
    assert!(
        p.body.contains("<label for=\"purpose\">"),
        "the purpose form"
    );
    assert!(p.body.contains("frame"), "the component");
    assert!(
        !p.body.contains("class=\"timeline\""),
        "no custody without a purpose"
    );
    let p = b
        .get(&format!("/items/{OPEN_ITEM}?purpose=case+2026%2F114"))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("class=\"timeline\""), "{}", p.body);
    assert!(p.body.contains("3 February 2011"), "{}", p.body);
    assert!(p.body.contains("June 2010"), "{}", p.body);
    assert!(p.body.contains("Reported stolen"));
    assert!(p.body.contains("Glock GmbH (AT)"));
    assert!(p.body.contains("<time datetime=\"2011-02-03\">"));
    // Dates the locale's way.
    let p = b
        .get(&format!(
            "/items/{OPEN_ITEM}?purpose=case+2026%2F114&lang=fr"
        ))
        .await;
    assert!(p.body.contains("3 février 2011"), "{}", p.body);
    assert!(p.body.contains("Déclaration de vol"));
    let p = b
        .get(&format!(
            "/items/{OPEN_ITEM}?purpose=case+2026%2F114&lang=es"
        ))
        .await;
    assert!(p.body.contains("3 de febrero de 2011"), "{}", p.body);
    let p = b
        .get(&format!(
            "/items/{OPEN_ITEM}?purpose=case+2026%2F114&lang=ar"
        ))
        .await;
    assert!(p.body.contains("٣ فبراير ٢٠١١"), "{}", p.body);
    // The custody read is audited with its purpose.
    let audit: Vec<String> = Node::open(&web.data)
        .unwrap()
        .store
        .audit_entries(0, 1000, &Default::default())
        .unwrap()
        .into_iter()
        .map(|r| String::from_utf8(r.data).unwrap())
        .collect();
    assert!(
        audit
            .iter()
            .any(|e| e.contains("read_custody") && e.contains("case 2026/114")),
        "{audit:?}"
    );
    // An unknown item.
    let p = b.get("/items/KE-1999-999999?lang=en").await;
    assert_eq!(p.status, 404);
    assert!(p.body.contains("There is no such page or item."));
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_agency_does_not_see_a_need_to_know_item() {
    let web = Web::start().await;
    let mut alice = web.signed_in("alice").await; // police investigator
    let p = alice.get("/search?q=AB1234-M").await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains(ARMOURY_ITEM), "{}", p.body);
    let p = alice.get("/search?q=*").await;
    assert!(!p.body.contains(ARMOURY_ITEM), "{}", p.body);
    let p = alice.get(&format!("/items/{ARMOURY_ITEM}")).await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert!(!p.body.contains("Norinco"), "{}", p.body);
    let p = alice
        .get(&format!("/items/{ARMOURY_ITEM}?purpose=stocktake"))
        .await;
    assert_eq!(p.status, 403);
    // The armoury's own manager does.
    let mut armourer = web.signed_in("armourer").await;
    let p = armourer.get("/search?q=AB1234-M").await;
    assert!(p.body.contains(ARMOURY_ITEM), "{}", p.body);
    let p = armourer.get(&format!("/items/{ARMOURY_ITEM}")).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Norinco"));
    web.stop().await;
}

#[test]
fn every_english_message_is_in_french_spanish_and_arabic_and_no_other() {
    let (_, en) = i18n::SOURCES[0];
    let en_ids = i18n::message_ids(en);
    assert!(en_ids.len() > 100, "{}", en_ids.len());
    let mut sorted = en_ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), en_ids.len(), "a key given twice in en");
    for (locale, source) in i18n::SOURCES {
        assert!(i18n::parses(source), "{} does not parse", locale.code());
        let mut ids = i18n::message_ids(source);
        ids.sort();
        let missing: Vec<_> = sorted.iter().filter(|k| !ids.contains(k)).collect();
        let extra: Vec<_> = ids.iter().filter(|k| !sorted.contains(k)).collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", locale.code());
        assert!(extra.is_empty(), "{} has extra {extra:?}", locale.code());
        // Every message formats (no reference to a missing message or term).
        let tr = i18n::Tr::new(locale);
        for id in &sorted {
            assert!(!tr.t(id).starts_with('['), "{}: {id}", locale.code());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_is_the_persons_own_and_follows_them_to_another_device() {
    let web = Web::start().await;
    // On her office computer, Alice chooses Arabic.
    let mut office = web.signed_in("alice").await;
    let csrf = office.csrf().await;
    let p = office
        .post(
            "/language",
            &[("csrf", &csrf), ("lang", "ar"), ("back", "/dashboard")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        Node::open(&web.data)
            .unwrap()
            .store
            .user_language("alice")
            .unwrap()
            .as_deref(),
        Some("ar")
    );
    // On a tablet that has never seen her (its browser asks for English), signing in
    // brings her pages in Arabic.
    let mut tablet = web.browser();
    tablet.accept_language = Some("en-GB,en;q=0.9".into());
    let p = tablet.sign_in("alice", PASSWORD, "").await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(
        p.set_cookies
            .iter()
            .any(|c| c.starts_with("tracemark_lang=ar;")),
        "{:?}",
        p.set_cookies
    );
    let p = tablet.get("/search").await;
    assert!(
        p.body.contains("<html lang=\"ar\" dir=\"rtl\""),
        "{}",
        p.body
    );
    // Someone else's pages are not affected, and a choice made signed out is the
    // browser's alone.
    let mut other = web.browser();
    let csrf = other.csrf().await;
    other
        .post(
            "/language",
            &[("csrf", &csrf), ("lang", "fr"), ("back", "/sign-in")],
        )
        .await;
    let p = other.sign_in("clerk", PASSWORD, "").await;
    assert!(!p
        .set_cookies
        .iter()
        .any(|c| c.starts_with("tracemark_lang=")));
    assert!(other
        .get("/search")
        .await
        .body
        .contains("<html lang=\"fr\""));
    let node = Node::open(&web.data).unwrap();
    assert_eq!(node.store.user_language("clerk").unwrap(), None);
    assert_eq!(
        node.store.user_language("alice").unwrap().as_deref(),
        Some("ar")
    );
    drop(node);
    web.stop().await;
}

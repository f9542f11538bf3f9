//! Cross-site request forgery: every form that changes state (sign-in, sign-out, the
//! language) is checked twice before it is acted on.
//!
//! 1. **Origin.** A browser names the page a form was posted from in `Origin` (all current
//!    browsers do on every POST), or at least in `Referer`. When either is present, its
//!    host and port must be this server's `Host`: a form on another site is refused even
//!    before the token is looked at.
//! 2. **A token, double-submitted.** Every page sets a random `tracemark_csrf` cookie
//!    (`HttpOnly; SameSite=Strict`, 128 bits from the OS) when the browser has none, and
//!    every form carries the same value in a hidden `csrf` field; the two must be equal
//!    (compared in constant time). Another site can make a browser post a form, but cannot
//!    read the cookie to put its value in the form, and `SameSite=Strict` keeps the cookie
//!    off cross-site requests altogether.
//!
//! Why not rely on the session cookie's `SameSite=Strict` alone: sign-in and the language
//! happen without a session (a forged sign-in would put the victim in the attacker's
//! account: "login CSRF"), and a browser that ignores `SameSite` exists in the field. The
//! token is not bound to the session: a site able to set cookies for this host (a sibling
//! subdomain, or an attacker on plain HTTP) could plant one; the `__Host-` prefix would
//! stop that but needs `Secure`, which plain-HTTP loopback serving cannot have. The Origin
//! check covers that case for browsers that send `Origin`.

use super::i18n::cookie;
use axum::http::{header, HeaderMap, HeaderValue};
use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

/// The cookie holding the token.
pub const CSRF_COOKIE: &str = "tracemark_csrf";

/// The request's token, and the `Set-Cookie` to send when it is new.
pub fn token(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    if let Some(t) = cookie(headers, CSRF_COOKIE).filter(|t| well_formed(t)) {
        return (t, None);
    }
    let mut raw = [0u8; 16];
    OsRng.fill_bytes(&mut raw);
    let t: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let set = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={t}; HttpOnly; SameSite=Strict; Path=/{}",
        if secure { "; Secure" } else { "" }
    ))
    .ok();
    (t, set)
}

fn well_formed(t: &str) -> bool {
    t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a posted form may be acted on: same origin (when the browser says) and the
/// form's token equal to the cookie's.
pub fn check(headers: &HeaderMap, form_token: &str) -> bool {
    same_origin(headers)
        && cookie(headers, CSRF_COOKIE)
            .filter(|t| well_formed(t))
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(form_token.as_bytes())))
}

/// `Origin` (or else `Referer`), when present, names this host (see the module docs).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let named = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    match named {
        None => true,
        Some(url) => authority(url).is_some_and(|a| a.eq_ignore_ascii_case(host)),
    }
}

/// `host[:port]` of an absolute URL (`null` and other shapes: `None`).
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    rest.split(['/', '?', '#']).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn token_must_match_the_cookie_and_origin_the_host() {
        let t = "0123456789abcdef0123456789abcdef";
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("cookie", &format!("{CSRF_COOKIE}={t}")),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check(&ok, t));
        assert!(!check(&ok, "ffffffffffffffffffffffffffffffff"));
        let other_site = headers(&[
            ("host", "127.0.0.1:8080"),
            ("cookie", &format!("{CSRF_COOKIE}={t}")),
            ("origin", "https://evil.example"),
        ]);
        assert!(!check(&other_site, t));
        let no_cookie = headers(&[("host", "127.0.0.1:8080")]);
        assert!(!check(&no_cookie, t));
        let (fresh, set) = token(&no_cookie, false);
        assert!(well_formed(&fresh) && set.is_some());
    }
}

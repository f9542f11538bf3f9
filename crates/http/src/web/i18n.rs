//! Translations: Fluent files per locale and area (`crates/http/locales/<lang>/*.ftl`),
//! embedded at compile time, parsed once, and the locale of a request (the `?lang=`
//! parameter, the `tracemark_lang` cookie, `Accept-Language`, English).
//!
//! Placeables are not wrapped in Unicode isolation marks (Fluent's default): the pages
//! isolate values that may run the other way (serials in Arabic text) with HTML's own
//! `<bdi>` and `dir="auto"`, which browsers apply and text searches are not confused by.

use axum::http::{header, HeaderMap};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;
use unic_langid::LanguageIdentifier;

/// The cookie that remembers a person's language.
pub const LANG_COOKIE: &str = "tracemark_lang";

/// The languages of the web pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    Fr,
    Es,
    Ar,
}

/// Every locale, in the order the language switch lists them.
pub const LOCALES: [Locale; 4] = [Locale::En, Locale::Fr, Locale::Es, Locale::Ar];

/// One locale's catalogue: its area files, concatenated at compile time.
macro_rules! catalogue {
    ($lang:literal) => {
        concat!(
            include_str!(concat!("../../locales/", $lang, "/main.ftl")),
            "\n",
            include_str!(concat!("../../locales/", $lang, "/dashboard.ftl")),
            "\n",
            include_str!(concat!("../../locales/", $lang, "/traces.ftl")),
            "\n",
            include_str!(concat!("../../locales/", $lang, "/record.ftl")),
            "\n",
            include_str!(concat!("../../locales/", $lang, "/admin.ftl")),
        )
    };
}

/// The Fluent sources, embedded in the binary: per locale, one file per area of the app
/// (`main.ftl` holds the layout, sign-in, search and the item page), joined into one resource.
pub const SOURCES: [(Locale, &str); 4] = [
    (Locale::En, catalogue!("en")),
    (Locale::Fr, catalogue!("fr")),
    (Locale::Es, catalogue!("es")),
    (Locale::Ar, catalogue!("ar")),
];

impl Locale {
    /// The BCP 47 tag (`<html lang>`).
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::Ar => "ar",
        }
    }

    /// The language's own name, as the switch shows it (never translated).
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Fr => "Français",
            Locale::Es => "Español",
            Locale::Ar => "العربية",
        }
    }

    /// `rtl` for Arabic, else `ltr` (`<html dir>`).
    pub fn dir(self) -> &'static str {
        match self {
            Locale::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// A supported locale from its tag (`fr`, `fr-CA`, `AR`); `None` otherwise.
    pub fn parse(tag: &str) -> Option<Locale> {
        let lang = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        LOCALES.into_iter().find(|l| l.code() == lang)
    }

    fn index(self) -> usize {
        match self {
            Locale::En => 0,
            Locale::Fr => 1,
            Locale::Es => 2,
            Locale::Ar => 3,
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 4] {
    static BUNDLES: OnceLock<[Bundle; 4]> = OnceLock::new();
    BUNDLES.get_or_init(|| SOURCES.map(|(locale, source)| bundle(locale, source)))
}

fn bundle(locale: Locale, source: &str) -> Bundle {
    let id: LanguageIdentifier = locale.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    // A syntax error keeps the messages that did parse (tests/web.rs checks there are none).
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, errors)| {
        tracing::error!(locale = locale.code(), ?errors, "Fluent syntax errors");
        r
    });
    if let Err(errors) = b.add_resource(resource) {
        tracing::error!(locale = locale.code(), ?errors, "Fluent resource errors");
    }
    b
}

/// The locale of a request: a valid `?lang=` first, then the cookie, then the browser's
/// `Accept-Language` (negotiated against the four), else English.
pub fn negotiate(headers: &HeaderMap, query_lang: Option<&str>) -> Locale {
    if let Some(l) = query_lang.and_then(Locale::parse) {
        return l;
    }
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|v| Locale::parse(&v)) {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let requested = fluent_langneg::accepted_languages::parse(accept);
    let available: Vec<LanguageIdentifier> = LOCALES
        .iter()
        .filter_map(|l| l.code().parse().ok())
        .collect();
    let default: Option<LanguageIdentifier> = "en".parse().ok();
    let chosen = fluent_langneg::negotiate_languages(
        &requested,
        &available,
        default.as_ref(),
        fluent_langneg::NegotiationStrategy::Lookup,
    );
    chosen
        .first()
        .and_then(|l| Locale::parse(l.language.as_str()))
        .unwrap_or(Locale::En)
}

/// The value of a cookie named `name`, if the request carries one.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The translator of one request, handed to the templates.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub locale: Locale,
}

impl Tr {
    pub fn new(locale: Locale) -> Tr {
        Tr { locale }
    }

    /// The message `id`; its id in brackets if it is missing (never an empty page).
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with arguments.
    pub fn args(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        self.format(id, Some(&a))
    }

    /// The message `id` with one text argument.
    pub fn arg(&self, id: &str, name: &str, value: &str) -> String {
        self.args(id, &[(name, FluentValue::from(value))])
    }

    /// A translated code (`status-stolen`, `event-seized`) or the code itself when the
    /// catalogue has no message for it (a value added to the data model later).
    pub fn code(&self, prefix: &str, code: &str) -> String {
        let id = format!("{prefix}-{}", code.replace('_', "-"));
        if bundles()[self.locale.index()].has_message(&id) {
            self.t(&id)
        } else {
            code.to_owned()
        }
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let b = &bundles()[self.locale.index()];
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(locale = self.locale.code(), id, "missing translation");
            return format!("[{id}]");
        };
        let mut errors = Vec::new();
        let text = b.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                locale = self.locale.code(),
                id,
                ?errors,
                "translation errors"
            );
        }
        text.into_owned()
    }

    /// `text` with its ASCII digits written in the locale's digits (Arabic-Indic in Arabic),
    /// nothing else changed: for years and days, which are not grouped.
    pub fn digits(&self, text: &str) -> String {
        match self.locale {
            Locale::Ar => text
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) if c.is_ascii_digit() => char::from_u32(0x0660 + d).unwrap_or(c),
                    _ => c,
                })
                .collect(),
            _ => text.to_owned(),
        }
    }

    /// A whole number written the locale's way (CLDR's patterns for these four): "12,345"
    /// in English, "12 345" in French (narrow no-break space), "12.345" in Spanish (which
    /// does not group four-digit numbers: "1234"), and in Arabic with Arabic-Indic digits
    /// and the Arabic thousands separator, "١٢٬٣٤٥".
    pub fn number(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let (separator, min_grouping) = match self.locale {
            Locale::En => (",", 4),
            Locale::Fr => ("\u{202F}", 4),
            Locale::Es => (".", 5),
            Locale::Ar => ("\u{066C}", 4),
        };
        let mut out = String::new();
        if n < 0 {
            // Arabic marks the sign with a right-to-left mark before the minus (CLDR).
            out.push_str(if self.locale == Locale::Ar {
                "\u{061C}-"
            } else {
                "-"
            });
        }
        let grouped = digits.len() >= min_grouping;
        for (i, d) in digits.chars().enumerate() {
            if grouped && i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(separator);
            }
            out.push(match self.locale {
                Locale::Ar => char::from_u32(0x0660 + d.to_digit(10).unwrap_or(0)).unwrap_or(d),
                _ => d,
            });
        }
        out
    }

    /// A date of the data model (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or an RFC 3339 instant,
    /// of which the day is shown) written the locale's way, with its month's name: "3
    /// February 2011", "3 février 2011", "3 de febrero de 2011", "٣ فبراير ٢٠١١". A text of
    /// any other shape is shown as it is.
    pub fn date(&self, text: &str) -> String {
        let day_part = text.get(..10).filter(|_| text.len() > 10).unwrap_or(text);
        let parts: Vec<&str> = day_part.split('-').collect();
        let num = |s: &str, len: usize| -> Option<i64> {
            (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let month_name = |m: i64| -> Option<String> {
            (1..=12).contains(&m).then(|| self.t(&format!("month-{m}")))
        };
        match parts.as_slice() {
            [y] if num(y, 4).is_some() => self.digits(y),
            [y, m] => match (num(y, 4), num(m, 2).and_then(month_name)) {
                (Some(_), Some(month)) => self.args(
                    "date-month",
                    &[("month", month.into()), ("year", self.digits(y).into())],
                ),
                _ => text.to_owned(),
            },
            [y, m, d] => match (
                num(y, 4),
                num(m, 2).and_then(month_name),
                num(d, 2).filter(|d| (1..=31).contains(d)),
            ) {
                (Some(_), Some(month), Some(day)) => self.args(
                    "date-day",
                    &[
                        ("day", self.digits(&day.to_string()).into()),
                        ("month", month.into()),
                        ("year", self.digits(y).into()),
                    ],
                ),
                _ => text.to_owned(),
            },
            _ => text.to_owned(),
        }
    }
}

/// The message ids of a Fluent source (the lines `id = …` at the start of a line; terms
/// `-id` and attributes are not messages), for the completeness test.
pub fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(id, _)| id)
        .filter(|id| {
            !id.starts_with([' ', '-', '#', '.'])
                && !id.trim().is_empty()
                && id
                    .trim_end()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(|id| id.trim_end().to_owned())
        .collect()
}

/// Whether a Fluent source parses without an error.
pub fn parses(source: &str) -> bool {
    FluentResource::try_new(source.to_owned()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_each_locale() {
        let cases = [
            (Locale::En, 0, "0"),
            (Locale::En, 1234, "1,234"),
            (Locale::En, -1_234_567, "-1,234,567"),
            (Locale::Fr, 12345, "12\u{202F}345"),
            (Locale::Es, 1234, "1234"),
            (Locale::Es, 12345, "12.345"),
            (Locale::Ar, 12345, "١٢٬٣٤٥"),
            (Locale::Ar, 7, "٧"),
        ];
        for (locale, n, want) in cases {
            assert_eq!(Tr::new(locale).number(n), want, "{locale:?} {n}");
        }
    }

    #[test]
    fn dates_name_the_month() {
        assert_eq!(Tr::new(Locale::En).date("2011-02-03"), "3 February 2011");
        assert_eq!(Tr::new(Locale::Fr).date("2011-02"), "février 2011");
        assert_eq!(Tr::new(Locale::En).date("not a date"), "not a date");
        assert_eq!(Tr::new(Locale::Ar).date("2011-02-03"), "٣ فبراير ٢٠١١");
        assert_eq!(Tr::new(Locale::Ar).digits("KE 2010"), "KE ٢٠١٠");
    }
}

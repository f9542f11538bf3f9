//! Cell values → interchange values: dates in a declared local order, years, countries named in
//! four languages, statuses, weapon types and item kinds. Every failure is a message a clerk can
//! act on, with a suggested fix.

use crate::normalize::fold;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use tracemark_domain::date::PartialDate;
use tracemark_domain::ids::CountryCode;

/// A value that could not be read: what is wrong and, when there is one, the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bad {
    pub message: String,
    pub suggestion: Option<String>,
}

impl Bad {
    pub fn new(message: impl Into<String>, suggestion: impl Into<String>) -> Self {
        Bad {
            message: message.into(),
            suggestion: Some(suggestion.into()),
        }
    }
}

/// The order of day, month and year in the file's dates, declared per file (a register typed in
/// Nairobi and one typed in Washington write `03/04/2001` for different days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DateFormat {
    /// Day, month, year: `31/01/2001`, `31.01.2001`, `31-01-2001`.
    #[serde(alias = "dmy", alias = "DD/MM/YYYY", alias = "dd/mm/yyyy")]
    DMY,
    /// Month, day, year: `01/31/2001`.
    #[serde(alias = "mdy", alias = "MM/DD/YYYY", alias = "mm/dd/yyyy")]
    MDY,
    /// Year, month, day: `2001/01/31`.
    #[serde(alias = "ymd", alias = "YYYY/MM/DD", alias = "yyyy/mm/dd")]
    YMD,
}

impl FromStr for DateFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let letters: String = s
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        // "DD/MM/YYYY" → "DDMMYYYY"; keep the first letter of each run.
        let mut order = String::new();
        for c in letters.chars() {
            if !order.ends_with(c) {
                order.push(c);
            }
        }
        match order.as_str() {
            "DMY" | "JMA" => Ok(DateFormat::DMY),
            "MDY" | "MJA" => Ok(DateFormat::MDY),
            "YMD" | "AMJ" => Ok(DateFormat::YMD),
            _ => Err(format!(
                "'{s}' is not a date format: use DMY (31/01/2001), MDY (01/31/2001) or YMD (2001/01/31)"
            )),
        }
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateFormat::DMY => "DMY",
            DateFormat::MDY => "MDY",
            DateFormat::YMD => "YMD",
        })
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn declare_hint() -> String {
    "declare the file's date format (DMY, MDY or YMD), or write dates as YYYY-MM-DD".to_owned()
}

/// Reads a date cell into an interchange date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD` or RFC 3339),
/// keeping its precision. ISO forms are always accepted; `31/01/2001`-style dates follow the
/// declared order; without a declaration only dates whose order is unambiguous are accepted
/// (`25/03/2001` can only be DMY). Impossible dates (`31/02/2001`) are errors.
pub fn parse_date(text: &str, format: Option<DateFormat>) -> Result<String, Bad> {
    let s = text.trim();
    let b = s.as_bytes();
    let iso_like = b.get(..4).is_some_and(|y| y.iter().all(u8::is_ascii_digit))
        && (b.len() == 4 || b.get(4) == Some(&b'-'));
    if iso_like {
        // Already in the interchange form, or close to it: the domain's parser has the last word.
        let date_only = s.split([' ', 'T']).next().unwrap_or(s);
        let rest = &s[date_only.len()..];
        let candidate = if !rest.is_empty() && is_midnight(rest) {
            date_only
        } else {
            s
        };
        return match PartialDate::parse(candidate) {
            Ok(_) => Ok(candidate.to_owned()),
            Err(m) => Err(Bad::new(
                m,
                "write the date as YYYY-MM-DD (or YYYY-MM, or YYYY when only the year is known)",
            )),
        };
    }
    // Drop a time of day that spreadsheets add to dates ("31/01/2001 00:00:00").
    let (date_part, rest) = match s.find(' ') {
        Some(i) if s[..i].contains(['/', '.', '-']) => (&s[..i], &s[i..]),
        _ => (s, ""),
    };
    if !rest.trim().is_empty() && !is_midnight(rest) {
        return Err(Bad::new(
            format!("'{s}' is not a date"),
            "write the date alone, e.g. 31/01/2001 or 2001-01-31",
        ));
    }
    let parts: Vec<&str> = date_part
        .split(['/', '.', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() || !parts.iter().all(|p| all_digits(p)) {
        return Err(Bad::new(
            format!("'{s}' is not a date"),
            "write the date with numbers, e.g. 31/01/2001 (as declared) or 2001-01-31",
        ));
    }
    let num = |p: &str| p.parse::<u32>().unwrap_or(u32::MAX);
    let four = |p: &str| p.len() == 4;
    let (year, month, day): (&str, &str, Option<&str>) = match parts.as_slice() {
        [y] if four(y) => (y, "", None),
        [a, b] if four(a) => (a, b, None),
        [a, b] if four(b) => (b, a, None),
        // YYYY/MM/DD cannot be mistaken for anything else, whatever the declaration.
        [a, b, c] if four(a) => (a, b, Some(c)),
        [a, b, c] if four(c) => {
            let (na, nb) = (num(a), num(b));
            let order = match format {
                Some(DateFormat::YMD) => {
                    return Err(Bad::new(
                        format!("'{s}' does not follow the declared date format YMD (year first)"),
                        "correct the date, or declare the format the file really uses (DMY or MDY)",
                    ))
                }
                Some(f) => f,
                None if na > 12 && nb <= 12 => DateFormat::DMY,
                None if nb > 12 && na <= 12 => DateFormat::MDY,
                None if na == nb => DateFormat::DMY,
                None => {
                    return Err(Bad::new(
                        format!(
                            "'{s}' could be day/month or month/day and the file's date format is not declared"
                        ),
                        declare_hint(),
                    ))
                }
            };
            match order {
                DateFormat::MDY => (c, a, Some(b)),
                _ => (c, b, Some(a)),
            }
        }
        [_, _, c] if c.len() == 2 => {
            return Err(Bad::new(
                format!("'{s}' has a two-digit year: the century is not known"),
                "write the year in full (e.g. 1985, not 85)",
            ))
        }
        _ => return Err(Bad::new(
            format!("'{s}' is not a date"),
            "write the date as day/month/year with a four-digit year (as declared), or YYYY-MM-DD",
        )),
    };
    let y = num(year) as i32;
    if !(1000..=9999).contains(&y) {
        return Err(Bad::new(
            format!("'{s}' has year {year}"),
            "write the year with four digits",
        ));
    }
    if month.is_empty() {
        return Ok(format!("{y:04}"));
    }
    let m = num(month);
    if !(1..=12).contains(&m) {
        let hint = match (format, day) {
            (Some(f), Some(_)) => format!(
                "the file is declared {f}: check the date, or declare the other order if the whole file uses it"
            ),
            _ => "check the date; months are 1–12".to_owned(),
        };
        return Err(Bad::new(
            format!("'{s}' has month {m}, which does not exist"),
            hint,
        ));
    }
    let Some(day) = day else {
        return Ok(format!("{y:04}-{m:02}"));
    };
    let d = num(day);
    let max = days_in_month(y, m);
    if d == 0 || d > max {
        let month_name = MONTHS_EN[(m - 1) as usize];
        return Err(Bad::new(
            format!("'{s}' is not a calendar date: {month_name} {y} has {max} days"),
            "correct the day from the paper register (or leave only the month: MM/YYYY)",
        ));
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

fn is_midnight(rest: &str) -> bool {
    matches!(
        rest.trim().trim_start_matches('T'),
        "00:00" | "00:00:00" | "0:00" | "0:00:00" | "00:00:00.000"
    )
}

/// Reads a year of manufacture: `1985`, or `1985.0` as spreadsheets store numbers.
pub fn parse_year(text: &str) -> Result<i64, Bad> {
    let s = text.trim();
    let whole = s
        .strip_suffix(".0")
        .or_else(|| s.strip_suffix(",0"))
        .unwrap_or(s);
    match whole.parse::<i64>() {
        Ok(y) if (1800..=2100).contains(&y) => Ok(y),
        Ok(y) => Err(Bad::new(
            format!("year of manufacture {y} is outside 1800–2100"),
            "write the four-digit year of manufacture, or leave the cell empty if unknown",
        )),
        Err(_) => Err(Bad::new(
            format!("'{s}' is not a year"),
            "write the year alone (e.g. 1985); put 'circa' or other remarks in a note column",
        )),
    }
}

/// Reads a whole number within `range` (capacity, quantity).
pub fn parse_whole(
    text: &str,
    what: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, Bad> {
    let s = text.trim();
    let whole = s.strip_suffix(".0").unwrap_or(s);
    match whole.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(Bad::new(
            format!("'{s}' is not a valid {what}"),
            format!(
                "write a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// Reads a positive number, with a decimal point or a decimal comma (`114,5`).
pub fn parse_positive(text: &str, what: &str) -> Result<f64, Bad> {
    let s = text.trim();
    let s2 = s.trim_end_matches("mm").trim().replace(',', ".");
    match s2.parse::<f64>() {
        Ok(n) if (1.0..=20_000.0).contains(&n) => Ok(n),
        _ => Err(Bad::new(
            format!("'{s}' is not a valid {what}"),
            "write the length in millimetres (1 to 20000), e.g. 114.5",
        )),
    }
}

/// Country names in English, French, Spanish and Portuguese (folded: lower case, no accents),
/// with ISO 3166-1 alpha-3 codes, for the states most often found in arms registers. Any
/// assigned alpha-2 code is accepted besides.
#[rustfmt::skip]
const COUNTRIES: &[(&str, &[&str])] = &[
    ("AF", &["afghanistan", "afganistan", "afeganistao", "afg"]),
    ("AL", &["albania", "albanie", "albania", "alb"]),
    ("DZ", &["algeria", "algerie", "argelia", "dza"]),
    ("AO", &["angola", "ago"]),
    ("AR", &["argentina", "argentine", "arg"]),
    ("AM", &["armenia", "armenie", "arm"]),
    ("AU", &["australia", "australie", "aus"]),
    ("AT", &["austria", "autriche", "osterreich", "aut"]),
    (
        "AZ",
        &[
            "azerbaijan", "azerbaidjan", "azerbaiyan", "azerbaijao", "aze",
        ],
    ),
    (
        "BY",
        &[
            "belarus", "bielorussie", "bielorrusia", "bielorrussia", "blr",
        ],
    ),
    ("BE", &["belgium", "belgique", "belgica", "bel"]),
    ("BJ", &["benin", "ben"]),
    (
        "BA",
        &[
            "bosnia and herzegovina", "bosnia", "bosnie herzegovine", "bosnie",
            "bosnia y herzegovina", "bosnia e herzegovina", "bih",
        ],
    ),
    ("BW", &["botswana", "bwa"]),
    ("BR", &["brazil", "bresil", "brasil", "bra"]),
    ("BG", &["bulgaria", "bulgarie", "bulgaria", "bgr"]),
    ("BF", &["burkina faso", "bfa"]),
    ("BI", &["burundi", "bdi"]),
    (
        "CM",
        &["cameroon", "cameroun", "camerun", "camaroes", "cmr"],
    ),
    ("CA", &["canada", "canada", "can"]),
    (
        "CF",
        &[
            "central african republic", "republique centrafricaine", "centrafrique",
            "republica centroafricana", "republica centro africana", "caf",
        ],
    ),
    ("TD", &["chad", "tchad", "chade", "tcd"]),
    ("CL", &["chile", "chili", "chl"]),
    (
        "CN",
        &[
            "china", "chine", "prc", "peoples republic of china", "republique populaire de chine",
            "chn",
        ],
    ),
    (
        "CO",
        &["colombia", "colombie", "colombia", "colombia", "col"],
    ),
    (
        "CD",
        &[
            "democratic republic of the congo", "dr congo", "drc", "rdc",
            "republique democratique du congo", "republica democratica del congo",
            "republica democratica do congo", "cod",
        ],
    ),
    (
        "CG",
        &["republic of the congo", "congo", "congo brazzaville", "cog"],
    ),
    (
        "CI",
        &[
            "cote d ivoire", "ivory coast", "costa de marfil", "costa do marfim", "civ",
        ],
    ),
    ("HR", &["croatia", "croatie", "croacia", "hrv"]),
    ("CU", &["cuba", "cub"]),
    (
        "CZ",
        &[
            "czech republic", "czechia", "republique tcheque", "tchequie", "republica checa",
            "chequia", "republica tcheca", "tchequia", "cze",
        ],
    ),
    ("DK", &["denmark", "danemark", "dinamarca", "dnk"]),
    ("EG", &["egypt", "egypte", "egipto", "egito", "egy"]),
    ("ER", &["eritrea", "erythree", "eri"]),
    ("EE", &["estonia", "estonie", "est"]),
    ("ET", &["ethiopia", "ethiopie", "etiopia", "eth"]),
    ("FI", &["finland", "finlande", "finlandia", "fin"]),
    ("FR", &["france", "francia", "franca", "fra"]),
    ("GA", &["gabon", "gabao", "gab"]),
    ("GE", &["georgia", "georgie", "geo"]),
    (
        "DE",
        &[
            "germany", "allemagne", "alemania", "alemanha", "deutschland", "deu", "brd", "rfa",
            "west germany",
        ],
    ),
    ("GH", &["ghana", "gana", "gha"]),
    ("GR", &["greece", "grece", "grecia", "grc"]),
    ("GN", &["guinea", "guinee", "guine", "gin"]),
    ("HU", &["hungary", "hongrie", "hungria", "hun"]),
    ("IN", &["india", "inde", "ind"]),
    ("ID", &["indonesia", "indonesie", "idn"]),
    ("IR", &["iran", "irn"]),
    ("IQ", &["iraq", "irak", "iraque", "irq"]),
    ("IE", &["ireland", "irlande", "irlanda", "irl"]),
    ("IL", &["israel", "isr"]),
    ("IT", &["italy", "italie", "italia", "ita"]),
    ("JP", &["japan", "japon", "japao", "jpn"]),
    ("JO", &["jordan", "jordanie", "jordania", "jor"]),
    ("KZ", &["kazakhstan", "kazajistan", "cazaquistao", "kaz"]),
    ("KE", &["kenya", "kenia", "quenia", "ken"]),
    (
        "KP",
        &[
            "north korea", "coree du nord", "corea del norte", "coreia do norte", "prk",
        ],
    ),
    (
        "KR",
        &[
            "south korea", "korea", "coree du sud", "corea del sur", "coreia do sul", "kor",
        ],
    ),
    ("LB", &["lebanon", "liban", "libano", "lbn"]),
    ("LR", &["liberia", "lbr"]),
    ("LY", &["libya", "libye", "libia", "lby"]),
    ("LT", &["lithuania", "lituanie", "lituania", "ltu"]),
    ("MG", &["madagascar", "madagascar", "mdg"]),
    ("MW", &["malawi", "mwi"]),
    ("ML", &["mali", "mli"]),
    ("MR", &["mauritania", "mauritanie", "mrt"]),
    ("MX", &["mexico", "mexique", "mex"]),
    ("MD", &["moldova", "moldavie", "moldavia", "mda"]),
    ("ME", &["montenegro", "mne"]),
    ("MA", &["morocco", "maroc", "marruecos", "marrocos", "mar"]),
    ("MZ", &["mozambique", "mocambique", "moz"]),
    ("NA", &["namibia", "namibie", "nam"]),
    (
        "NL",
        &[
            "netherlands", "holland", "pays bas", "paises bajos", "holanda", "paises baixos",
            "nld",
        ],
    ),
    ("NE", &["niger", "ner"]),
    ("NG", &["nigeria", "nga"]),
    (
        "MK",
        &[
            "north macedonia", "macedonia", "macedoine du nord", "macedoine",
            "macedonia del norte", "macedonia do norte", "mkd",
        ],
    ),
    ("NO", &["norway", "norvege", "noruega", "nor"]),
    ("PK", &["pakistan", "paquistao", "pak"]),
    ("PE", &["peru", "perou", "per"]),
    ("PH", &["philippines", "filipinas", "phl"]),
    ("PL", &["poland", "pologne", "polonia", "pol"]),
    ("PT", &["portugal", "prt"]),
    ("RO", &["romania", "roumanie", "rumania", "romenia", "rou"]),
    (
        "RU",
        &[
            "russia", "russian federation", "russie", "federation de russie", "rusia",
            "federacion de rusia", "russia", "federacao russa", "rus", "россия",
        ],
    ),
    ("RW", &["rwanda", "ruanda", "rwa"]),
    (
        "SA",
        &[
            "saudi arabia", "arabie saoudite", "arabia saudita", "arabia saudita", "sau",
        ],
    ),
    ("SN", &["senegal", "sen"]),
    ("RS", &["serbia", "serbie", "servia", "srb"]),
    ("SL", &["sierra leone", "sierra leona", "serra leoa", "sle"]),
    ("SK", &["slovakia", "slovaquie", "eslovaquia", "svk"]),
    ("SI", &["slovenia", "slovenie", "eslovenia", "svn"]),
    ("SO", &["somalia", "somalie", "som"]),
    (
        "ZA",
        &[
            "south africa", "afrique du sud", "sudafrica", "africa do sul", "zaf",
        ],
    ),
    (
        "SS",
        &[
            "south sudan", "soudan du sud", "sudan del sur", "sudao do sul", "ssd",
        ],
    ),
    ("ES", &["spain", "espagne", "espana", "espanha", "esp"]),
    ("SD", &["sudan", "soudan", "sudao", "sdn"]),
    ("SE", &["sweden", "suede", "suecia", "swe"]),
    ("CH", &["switzerland", "suisse", "suiza", "suica", "che"]),
    ("SY", &["syria", "syrie", "siria", "syr"]),
    ("TZ", &["tanzania", "tanzanie", "tanzania", "tza"]),
    ("TG", &["togo", "tgo"]),
    ("TN", &["tunisia", "tunisie", "tunez", "tunisia", "tun"]),
    ("TR", &["turkey", "turkiye", "turquie", "turquia", "tur"]),
    ("UG", &["uganda", "ouganda", "uga"]),
    ("UA", &["ukraine", "ucrania", "ucrania", "ukr", "украина"]),
    (
        "AE",
        &[
            "united arab emirates", "uae", "emirats arabes unis", "emiratos arabes unidos",
            "emirados arabes unidos", "are",
        ],
    ),
    (
        "GB",
        &[
            "united kingdom", "uk", "great britain", "britain", "england", "royaume uni",
            "angleterre", "reino unido", "inglaterra", "gbr",
        ],
    ),
    (
        "US",
        &[
            "united states", "united states of america", "usa", "u s a", "etats unis",
            "etats unis d amerique", "estados unidos", "eeuu", "eua", "estados unidos da america",
        ],
    ),
    (
        "UZ",
        &[
            "uzbekistan", "ouzbekistan", "uzbekistan", "usbequistao", "uzb",
        ],
    ),
    ("VE", &["venezuela", "ven"]),
    ("VN", &["vietnam", "viet nam", "vnm"]),
    ("YE", &["yemen", "iemen", "yem"]),
    ("ZM", &["zambia", "zambie", "zambia", "zmb"]),
    ("ZW", &["zimbabwe", "zwe"]),
];

/// States that no longer exist: refused as country of manufacture, with the fix.
#[rustfmt::skip]
const FORMER: &[(&[&str], &str)] = &[
    (
        &["ussr", "urss", "union sovietique", "union sovietica", "uniao sovietica", "soviet union", "su", "ссср", "cccp"],
        "the Soviet Union has no ISO code: give the state where the factory is now (e.g. RU for Izhevsk or Tula, UA, BY), or leave the cell empty and record the old factory marking as a marking",
    ),
    (
        &["czechoslovakia", "tchecoslovaquie", "checoslovaquia", "tchecoslovaquia", "cs", "csr", "cssr"],
        "Czechoslovakia has no ISO code: give CZ or SK (e.g. CZ for Uherský Brod), or leave the cell empty and record the marking",
    ),
    (
        &["yugoslavia", "yougoslavie", "iugoslavia", "jugoslavia", "yu"],
        "Yugoslavia has no ISO code: give the state where the factory is now (e.g. RS for Kragujevac), or leave the cell empty and record the marking",
    ),
    (
        &["east germany", "gdr", "ddr", "rda", "allemagne de l est", "alemania oriental", "alemanha oriental"],
        "the German Democratic Republic has no ISO code: give DE, and record the original factory marking as a marking",
    ),
];

/// Reads a country cell: an assigned ISO 3166-1 alpha-2 code in any case, an alpha-3 code, or
/// a name in English, French, Spanish or Portuguese.
pub fn parse_country(text: &str) -> Result<String, Bad> {
    let s = text.trim();
    let upper = s.to_ascii_uppercase();
    if upper.len() == 2 {
        if let Ok(c) = CountryCode::parse(&upper) {
            return Ok(c.as_str().to_owned());
        }
    }
    let key = fold(s);
    for (names, fix) in FORMER {
        if names.contains(&key.as_str()) {
            return Err(Bad::new(
                format!("'{s}' is a former state, not an assigned ISO 3166-1 country"),
                *fix,
            ));
        }
    }
    for (code, names) in COUNTRIES {
        if names.contains(&key.as_str()) {
            return Ok((*code).to_owned());
        }
    }
    Err(Bad::new(
        format!("'{s}' is not a country this import recognises"),
        "write the two-letter ISO 3166-1 code (e.g. BE for Belgium, RU for Russia)",
    ))
}

/// An event type that a status cell gives (`None`: the status follows from other events, such
/// as "in service").
pub fn parse_status(text: &str) -> Result<Option<&'static str>, Bad> {
    #[rustfmt::skip]
    const TABLE: &[(&str, &[&str])] = &[
        (
            "reported_stolen",
            &[
                "stolen", "reported stolen", "vole", "volee", "vol", "robado", "robada", "robo",
                "hurtado", "hurtada", "roubado", "roubada", "roubo", "furtado", "furtada",
                "украдено", "похищено",
            ],
        ),
        (
            "reported_lost",
            &[
                "lost", "reported lost", "missing", "perdu", "perdue", "perte", "disparu",
                "disparue", "perdido", "perdida", "extraviado", "extraviada", "extravio",
                "extraviado", "утеряно", "утрачено",
            ],
        ),
        (
            "seized",
            &[
                "seized", "confiscated", "saisi", "saisie", "confisque", "confisquee", "incautado",
                "incautada", "decomisado", "decomisada", "apreendido", "apreendida", "изъято",
            ],
        ),
        (
            "destroyed",
            &[
                "destroyed", "detruit", "detruite", "destruido", "destruida", "уничтожено",
            ],
        ),
        (
            "deactivated",
            &[
                "deactivated", "neutralise", "neutralisee", "desactive", "desactivee",
                "desactivado", "desactivada", "inutilizado", "inutilizada", "desativado",
                "desativada",
            ],
        ),
        (
            "exported",
            &["exported", "exporte", "exportee", "exportado", "exportada"],
        ),
        (
            "surrendered",
            &[
                "surrendered", "handed in", "remis", "remise", "rendu", "rendue", "entregado",
                "entregada", "entregue",
            ],
        ),
        (
            "recovered",
            &[
                "recovered", "found", "retrouve", "retrouvee", "recupere", "recuperee",
                "recuperado", "recuperada", "encontrado", "encontrada",
            ],
        ),
        (
            "returned",
            &[
                "returned", "restitue", "restituee", "devuelto", "devuelta", "devolvido",
                "devolvida",
            ],
        ),
    ];
    #[rustfmt::skip]
    const NONE: &[&str] = &[
        "in service", "active", "in use", "in stock", "valid", "ok", "normal", "registered",
        "en service", "actif", "active", "en stock", "en magasin", "en dotation", "valide",
        "enregistre", "en usage", "en servicio", "activo", "activa", "en uso", "en almacen",
        "en deposito", "vigente", "registrado", "registrada", "em servico", "ativo", "ativa",
        "em uso", "em estoque", "em stock", "em deposito", "valido", "в эксплуатации", "на складе",
        // Tracemark's own statuses, as `tracemark export` writes them, that no event gives.
        "recorded", "civilian held", "privately held", "detenu par un civil",
    ];
    let key = fold(text);
    for (event, words) in TABLE {
        if words.contains(&key.as_str()) {
            return Ok(Some(event));
        }
    }
    if NONE.contains(&key.as_str()) {
        return Ok(None);
    }
    Err(Bad::new(
        format!("status '{}' is not one this import knows", text.trim()),
        "use one of: stolen, lost, seized, destroyed, deactivated, exported, surrendered, recovered, returned, in service / in stock (or the French, Spanish or Portuguese word)",
    ))
}

/// Type of an acquisition: the event type it gives.
pub fn parse_acquisition(text: &str) -> Result<&'static str, Bad> {
    const TABLE: &[(&str, &[&str])] = &[
        (
            "imported",
            &[
                "imported",
                "import",
                "importation",
                "importe",
                "importacion",
                "importado",
                "importada",
                "importacao",
            ],
        ),
        (
            "transferred",
            &[
                "transferred",
                "transfer",
                "purchase",
                "purchased",
                "bought",
                "donation",
                "gift",
                "inheritance",
                "transfert",
                "achat",
                "cession",
                "don",
                "heritage",
                "succession",
                "transferencia",
                "compra",
                "donacion",
                "herencia",
                "doacao",
                "heranca",
                "transferido",
                "cedido",
            ],
        ),
        (
            "manufactured",
            &[
                "manufactured",
                "manufacture",
                "made",
                "production",
                "fabrication",
                "fabrique",
                "fabricacion",
                "fabricado",
                "fabricacao",
                "producao",
                "produccion",
            ],
        ),
        (
            "seized",
            &[
                "seized",
                "seizure",
                "confiscation",
                "saisie",
                "saisi",
                "incautacion",
                "incautado",
                "decomiso",
                "apreensao",
                "apreendido",
            ],
        ),
        (
            "surrendered",
            &[
                "surrendered",
                "surrender",
                "handed in",
                "amnesty",
                "remise",
                "remis",
                "amnistie",
                "entrega",
                "entregado",
                "amnistia",
                "entregue",
                "anistia",
            ],
        ),
        (
            "recovered",
            &[
                "recovered",
                "recovery",
                "found",
                "recuperation",
                "recupere",
                "recuperacion",
                "recuperado",
                "recuperacao",
            ],
        ),
        (
            "returned",
            &[
                "returned",
                "return",
                "restitution",
                "retour",
                "devolucion",
                "devuelto",
                "devolucao",
                "devolvido",
            ],
        ),
    ];
    let key = fold(text);
    if let Some(canonical) = [
        "imported",
        "transferred",
        "manufactured",
        "seized",
        "surrendered",
        "recovered",
        "returned",
    ]
    .into_iter()
    .find(|c| *c == text.trim())
    {
        return Ok(canonical);
    }
    for (event, words) in TABLE {
        if words.contains(&key.as_str()) {
            return Ok(event);
        }
    }
    Err(Bad::new(
        format!("acquisition type '{}' is not one this import knows", text.trim()),
        "use one of: import, transfer (purchase, donation), manufacture, seizure, surrender, recovery, return (or the French, Spanish or Portuguese word)",
    ))
}

/// Reads an item kind. Unknown values are errors: the kind decides which rules apply.
pub fn parse_kind(text: &str) -> Result<&'static str, Bad> {
    const TABLE: &[(&str, &[&str])] = &[
        (
            "firearm",
            &[
                "firearm",
                "small arm",
                "arme a feu",
                "arme legere individuelle",
                "arma de fuego",
                "arma de fogo",
                "arma pequena",
                "огнестрельное оружие",
            ],
        ),
        (
            "light_weapon",
            &[
                "light weapon",
                "light weapons",
                "arme legere",
                "arma ligera",
                "arma ligeira",
            ],
        ),
        (
            "part",
            &[
                "part",
                "component",
                "piece",
                "piece detachee",
                "pieza",
                "componente",
                "peca",
            ],
        ),
        (
            "ammunition_lot",
            &[
                "ammunition",
                "ammunition lot",
                "munitions",
                "munition",
                "lot de munitions",
                "municion",
                "municiones",
                "municao",
                "municoes",
                "боеприпасы",
            ],
        ),
        ("other", &["other", "autre", "otro", "outro"]),
    ];
    let key = fold(text);
    let underscored = key.replace(' ', "_");
    for (kind, words) in TABLE {
        if *kind == underscored || words.contains(&key.as_str()) {
            return Ok(kind);
        }
    }
    Err(Bad::new(
        format!("kind '{}' is not one this import knows", text.trim()),
        "use firearm, light_weapon, part, ammunition_lot or other (or the French, Spanish or Portuguese word)",
    ))
}

/// Maps a weapon type in one of the four languages to the interchange's usual spelling; other
/// text is kept as written (the field is free text).
pub fn canonical_type(text: &str) -> String {
    const TABLE: &[(&str, &[&str])] = &[
        ("pistol", &["pistol", "pistolet", "pistola", "пистолет"]),
        ("revolver", &["revolver", "revolver", "револьвер"]),
        (
            "rifle",
            &[
                "rifle",
                "carabine",
                "carabina",
                "fusil a verrou",
                "fuzil",
                "винтовка",
                "карабин",
            ],
        ),
        (
            "assault_rifle",
            &[
                "assault rifle",
                "fusil d assaut",
                "fusil de asalto",
                "fuzil de assalto",
                "автомат",
            ],
        ),
        (
            "shotgun",
            &[
                "shotgun",
                "fusil de chasse",
                "fusil a pompe",
                "escopeta",
                "espingarda",
                "ружье",
                "ружьё",
            ],
        ),
        (
            "submachine_gun",
            &[
                "submachine gun",
                "sub machine gun",
                "smg",
                "pistolet mitrailleur",
                "subfusil",
                "metralleta",
                "submetralhadora",
                "пистолет пулемет",
            ],
        ),
        (
            "machine_gun",
            &[
                "machine gun",
                "mitrailleuse",
                "ametralladora",
                "metralhadora",
                "пулемет",
                "пулемёт",
            ],
        ),
        (
            "grenade_launcher",
            &[
                "grenade launcher",
                "lance grenades",
                "lance grenade",
                "lanzagranadas",
                "lanca granadas",
                "гранатомет",
            ],
        ),
        (
            "rocket_launcher",
            &[
                "rocket launcher",
                "lance roquettes",
                "lance roquette",
                "lanzacohetes",
                "lanca foguetes",
                "rpg",
            ],
        ),
        (
            "mortar",
            &["mortar", "mortier", "mortero", "morteiro", "миномет"],
        ),
    ];
    let key = fold(text);
    for (canonical, words) in TABLE {
        if *canonical == key.replace(' ', "_") || words.contains(&key.as_str()) {
            return (*canonical).to_owned();
        }
    }
    text.trim().to_owned()
}

/// The kind implied by a canonical type, when it implies one.
pub fn kind_of_type(canonical: &str) -> Option<&'static str> {
    match canonical {
        "grenade_launcher" | "rocket_launcher" | "mortar" => Some("light_weapon"),
        "receiver" | "barrel" | "slide" | "bolt" | "frame" | "bolt_carrier" | "cylinder" => {
            Some("part")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_declared_order() {
        let dmy = Some(DateFormat::DMY);
        assert_eq!(parse_date("31/01/2001", dmy).unwrap(), "2001-01-31");
        assert_eq!(parse_date("03.04.2001", dmy).unwrap(), "2001-04-03");
        assert_eq!(
            parse_date("03/04/2001", Some(DateFormat::MDY)).unwrap(),
            "2001-03-04"
        );
        assert_eq!(parse_date("2001/04/03", dmy).unwrap(), "2001-04-03");
        assert_eq!(parse_date("1985", None).unwrap(), "1985");
        assert_eq!(parse_date("06/1985", dmy).unwrap(), "1985-06");
        assert_eq!(parse_date("1985-06", None).unwrap(), "1985-06");
        assert_eq!(parse_date("2001-02-03", None).unwrap(), "2001-02-03");
        assert_eq!(
            parse_date("2001-02-03 00:00:00", None).unwrap(),
            "2001-02-03"
        );
        assert_eq!(
            parse_date("2001-02-03T00:00:00", None).unwrap(),
            "2001-02-03"
        );
        assert_eq!(
            parse_date("2001-02-03T10:00:00Z", None).unwrap(),
            "2001-02-03T10:00:00Z"
        );
        assert_eq!(parse_date("31/01/2001 00:00", dmy).unwrap(), "2001-01-31");
        // Unambiguous without a declaration.
        assert_eq!(parse_date("25/03/2001", None).unwrap(), "2001-03-25");
        assert_eq!(parse_date("03/25/2001", None).unwrap(), "2001-03-25");
    }

    #[test]
    fn impossible_and_ambiguous_dates_are_errors() {
        let e = parse_date("31/02/2001", Some(DateFormat::DMY)).unwrap_err();
        assert!(e.message.contains("February 2001 has 28 days"), "{e:?}");
        assert!(parse_date("29/02/2001", Some(DateFormat::DMY)).is_err());
        assert!(parse_date("29/02/2000", Some(DateFormat::DMY)).is_ok());
        let e = parse_date("03/04/2001", None).unwrap_err();
        assert!(e.message.contains("not declared"), "{e:?}");
        let e = parse_date("13/25/2001", Some(DateFormat::DMY)).unwrap_err();
        assert!(e.message.contains("month 25"), "{e:?}");
        assert!(parse_date("3/4/01", Some(DateFormat::DMY))
            .unwrap_err()
            .message
            .contains("two-digit"));
        assert!(parse_date("2001-02-31", None).is_err());
        assert!(parse_date("March 2001", Some(DateFormat::DMY)).is_err());
        assert!(parse_date("31/01/2001 14:30", Some(DateFormat::DMY)).is_err());
        assert!(parse_date("31/01/2001", Some(DateFormat::YMD)).is_err());
    }

    #[test]
    fn date_format_spellings() {
        assert_eq!("dd/mm/yyyy".parse::<DateFormat>().unwrap(), DateFormat::DMY);
        assert_eq!("MDY".parse::<DateFormat>().unwrap(), DateFormat::MDY);
        assert_eq!("jj/mm/aaaa".parse::<DateFormat>().unwrap(), DateFormat::DMY);
        assert_eq!("YYYY-MM-DD".parse::<DateFormat>().unwrap(), DateFormat::YMD);
        assert!("DDD".parse::<DateFormat>().is_err());
    }

    #[test]
    fn countries_in_four_languages() {
        for (text, code) in [
            ("Chine", "CN"),
            ("china", "CN"),
            ("Bélgica", "BE"),
            ("Belgique", "BE"),
            ("Alemanha", "DE"),
            ("Fédération de Russie", "RU"),
            ("ke", "KE"),
            ("USA", "US"),
            ("États-Unis", "US"),
            ("Côte d'Ivoire", "CI"),
            ("RUS", "RU"),
        ] {
            assert_eq!(parse_country(text).unwrap(), code, "{text}");
        }
        assert!(parse_country("URSS")
            .unwrap_err()
            .suggestion
            .unwrap()
            .contains("RU"));
        assert!(parse_country("SU").is_err());
        assert!(parse_country("Atlantis").is_err());
    }

    #[test]
    fn statuses_and_years() {
        assert_eq!(parse_status("Volé").unwrap(), Some("reported_stolen"));
        assert_eq!(parse_status("ROBADO").unwrap(), Some("reported_stolen"));
        assert_eq!(parse_status("roubada").unwrap(), Some("reported_stolen"));
        assert_eq!(parse_status("stolen").unwrap(), Some("reported_stolen"));
        assert_eq!(parse_status("En service").unwrap(), None);
        assert!(parse_status("borrowed by uncle").is_err());
        assert_eq!(parse_year("1985").unwrap(), 1985);
        assert_eq!(parse_year("1985.0").unwrap(), 1985);
        assert!(parse_year("85").is_err());
        assert!(parse_year("circa 1985").is_err());
        assert_eq!(canonical_type("Fusil d'assaut"), "assault_rifle");
        assert_eq!(canonical_type("Pistola"), "pistol");
        assert_eq!(canonical_type("Arquebuse"), "Arquebuse");
        assert_eq!(parse_kind("Arme à feu").unwrap(), "firearm");
        assert_eq!(parse_acquisition("Importación").unwrap(), "imported");
        assert_eq!(parse_acquisition("achat").unwrap(), "transferred");
    }
}

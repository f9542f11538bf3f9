//! Which states a trace request should go to: a proposal, then the officer's confirmation.
//!
//! The ITI sends a trace to the state of manufacture, the state of last legal import and any
//! other state that held the item. This module reads those from what the request already says
//! (the country of manufacture, the import marks), from a small table of well-known makers'
//! home countries, and from a chain of custody the caller supplies (e.g. from the registry).
//! Every proposal says *why*, in words, because the officer must judge it: licensed
//! production, a foreign subsidiary or a misread mark each make a proposal wrong, and a
//! misidentified make or country is a leading cause of failed traces.
//!
//! The proposal is advice; [`ConfirmedRecipients`] is the decision, and only it can be sent.

use crate::request::TraceRequest;
use crate::text::{Line, Year};
use std::fmt;
use tracemark_domain::ids::CountryCode;

/// One previous holder of the item, from a chain of custody, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct CustodyStep {
    /// The state where the holder was (the state whose records know of it).
    pub country: CountryCode,
    pub holder: Option<Line>,
    /// How it held the item (`exporter`, `armed_forces`, `dealer`, …).
    pub role: Option<Line>,
}

/// Why a state is proposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The request names it as the country of manufacture.
    StatedCountryOfManufacture,
    /// The make is a maker known to be based there.
    MakersHomeCountry {
        make: String,
        maker: &'static str,
        /// The country of manufacture the request states, when it is another one.
        stated_otherwise: Option<CountryCode>,
    },
    /// The last import mark names it: the state of last legal import.
    LastLegalImport {
        mark: String,
        year: Option<Year>,
        /// Import marks after it whose country could not be read.
        later_unread: usize,
    },
    /// A previous holder was there.
    PreviousHolder {
        holder: Option<String>,
        role: Option<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::StatedCountryOfManufacture => f.write_str(
                "country of manufacture, as stated in the request: its manufacturing records \
                 (kept at least 30 years) say to whom the item was first delivered",
            ),
            Reason::MakersHomeCountry {
                make,
                maker,
                stated_otherwise,
            } => {
                write!(
                    f,
                    "the make '{make}' is {maker}, a manufacturer based in this state; check \
                     the country marking and proof marks, since licensed production or a \
                     foreign subsidiary would make another state the country of manufacture"
                )?;
                if let Some(stated) = stated_otherwise {
                    write!(
                        f,
                        " (the request states {stated} as the country of manufacture: \
                         licensed production?)"
                    )?;
                }
                Ok(())
            }
            Reason::LastLegalImport {
                mark,
                year,
                later_unread,
            } => {
                write!(
                    f,
                    "state of last legal import, from the import mark '{mark}'"
                )?;
                if let Some(y) = year {
                    write!(f, " ({})", y.get())?;
                }
                f.write_str(": its import records name the importer")?;
                if *later_unread > 0 {
                    write!(
                        f,
                        "; {later_unread} later import mark(s) could not be attributed to a \
                         country, so a later import may exist"
                    )?;
                }
                Ok(())
            }
            Reason::PreviousHolder { holder, role } => {
                f.write_str("a previous holder was here")?;
                match (holder, role) {
                    (Some(h), Some(r)) => write!(f, ": {h} ({r})"),
                    (Some(h), None) => write!(f, ": {h}"),
                    (None, Some(r)) => write!(f, " ({r})"),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}

/// A state proposed as a recipient, with every reason found for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub state: CountryCode,
    pub reasons: Vec<Reason>,
}

/// Makers whose home country is unambiguous enough to propose, with the spellings officers use.
/// Deliberately small: a make that is produced under licence in many states (the Kalashnikov
/// and AR-15 patterns) is a design, not a maker, and is not here — see
/// `completeness::GapCode::MakeIsAPattern`. The open reference catalogue will replace this table.
const MAKERS: &[(&str, &[&str], &str)] = &[
    ("Norinco", &["norinco", "china north industries"], "CN"),
    ("Glock", &["glock"], "AT"),
    ("Beretta", &["beretta", "pietro beretta"], "IT"),
    (
        "Kalashnikov Concern (Izhmash)",
        &[
            "kalashnikov concern",
            "izhmash",
            "izhevsk mechanical plant",
            "izhevsk machine building plant",
        ],
        "RU",
    ),
    (
        "FN Herstal",
        &["fn herstal", "fabrique nationale", "fn"],
        "BE",
    ),
    ("Heckler & Koch", &["heckler koch", "h k", "hk"], "DE"),
    ("Colt", &["colt"], "US"),
    ("Zastava Arms", &["zastava"], "RS"),
    (
        "Česká zbrojovka",
        &["ceska zbrojovka", "česká zbrojovka", "cz"],
        "CZ",
    ),
    ("Arsenal AD", &["arsenal"], "BG"),
];

/// Lower-case words of letters and digits: "Heckler & Koch GmbH" → heckler, koch, gmbh.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The maker a make names and its home country, when the make contains one of a maker's
/// spellings as whole words.
pub fn maker_of(make: &str) -> Option<(&'static str, CountryCode)> {
    let have = words(make);
    MAKERS.iter().find_map(|(maker, spellings, country)| {
        let hit = spellings.iter().any(|s| {
            let want = words(s);
            have.windows(want.len()).any(|w| w == want.as_slice())
        });
        if hit {
            CountryCode::parse(country).ok().map(|c| (*maker, c))
        } else {
            None
        }
    })
}

/// Proposes recipients for `request`, given the custody chain known for the item (oldest
/// first; empty when none is known). The requesting state is never proposed; a state found
/// by several routes is proposed once with all its reasons, in the order found (manufacture,
/// maker, last import, previous holders).
pub fn propose(request: &TraceRequest, custody: &[CustodyStep]) -> Vec<Proposal> {
    let mut out: Vec<Proposal> = Vec::new();
    let mut add = |state: CountryCode, reason: Reason| {
        if state == request.requesting_state {
            return;
        }
        match out.iter_mut().find(|p| p.state == state) {
            Some(p) => p.reasons.push(reason),
            None => out.push(Proposal {
                state,
                reasons: vec![reason],
            }),
        }
    };
    let item = &request.item;
    if let Some(c) = item.country_of_manufacture {
        add(c, Reason::StatedCountryOfManufacture);
    }
    if let Some(make) = &item.make {
        if let Some((maker, home)) = maker_of(make.as_str()) {
            let stated_otherwise = item.country_of_manufacture.filter(|c| *c != home);
            add(
                home,
                Reason::MakersHomeCountry {
                    make: make.as_str().to_owned(),
                    maker,
                    stated_otherwise,
                },
            );
        }
    }
    // The last mark that names a country wins; later unreadable ones are reported with it.
    if let Some(pos) = item.import_marks.iter().rposition(|m| m.country.is_some()) {
        let mark = &item.import_marks[pos];
        if let Some(country) = mark.country {
            add(
                country,
                Reason::LastLegalImport {
                    mark: mark.text.as_str().to_owned(),
                    year: mark.year,
                    later_unread: item.import_marks.len() - pos - 1,
                },
            );
        }
    }
    for step in custody {
        add(
            step.country,
            Reason::PreviousHolder {
                holder: step.holder.as_ref().map(|h| h.as_str().to_owned()),
                role: step.role.as_ref().map(|r| r.as_str().to_owned()),
            },
        );
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("a trace request needs at least one requested state")]
    NoRecipient,
    #[error("{0} is the requesting state; a state does not send a trace request to itself")]
    RequestingState(CountryCode),
    #[error("{0} is listed twice among the requested states")]
    Duplicate(CountryCode),
}

/// The requested states, as confirmed by the officer: at least one, none twice, never the
/// requesting state. Only a request with confirmed recipients can be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmedRecipients {
    requesting_state: CountryCode,
    states: Vec<CountryCode>,
}

impl ConfirmedRecipients {
    /// The officer's choice, in the order given (proposed or not: a transit state the
    /// proposal could not know of may be added).
    pub fn confirm(
        requesting_state: CountryCode,
        states: impl IntoIterator<Item = CountryCode>,
    ) -> Result<Self, RoutingError> {
        let mut out: Vec<CountryCode> = Vec::new();
        for s in states {
            if s == requesting_state {
                return Err(RoutingError::RequestingState(s));
            }
            if out.contains(&s) {
                return Err(RoutingError::Duplicate(s));
            }
            out.push(s);
        }
        if out.is_empty() {
            return Err(RoutingError::NoRecipient);
        }
        Ok(ConfirmedRecipients {
            requesting_state,
            states: out,
        })
    }

    /// Every proposed state, as proposed.
    pub fn accept_all(
        requesting_state: CountryCode,
        proposals: &[Proposal],
    ) -> Result<Self, RoutingError> {
        Self::confirm(requesting_state, proposals.iter().map(|p| p.state))
    }

    pub fn requesting_state(&self) -> CountryCode {
        self.requesting_state
    }

    pub fn states(&self) -> &[CountryCode] {
        &self.states
    }

    pub fn contains(&self, state: CountryCode) -> bool {
        self.states.contains(&state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::fixtures::{complete, edited};
    use serde_json::json;

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    fn states(p: &[Proposal]) -> Vec<&str> {
        p.iter().map(|p| p.state.as_str()).collect()
    }

    #[test]
    fn makers() {
        let cases = [
            ("Norinco", Some("CN")),
            ("NORINCO (China North Industries Corp.)", Some("CN")),
            ("Glock GmbH", Some("AT")),
            ("Heckler & Koch", Some("DE")),
            ("H&K", Some("DE")),
            ("FN Herstal", Some("BE")),
            ("Česká zbrojovka Uherský Brod", Some("CZ")),
            ("CZ", Some("CZ")),
            ("Colt's Manufacturing Company", Some("US")),
            ("Zastava", Some("RS")),
            ("IZHMASH", Some("RU")),
            ("Arsenal", Some("BG")),
            ("Beretta", Some("IT")),
            // A design, not a maker: made under licence or copied in many states.
            ("Kalashnikov", None),
            ("AK-47", None),
            // Whole words only: no match inside another word.
            ("Fnord Arms", None),
            ("Czechpoint", None),
            ("Coltrane", None),
        ];
        for (make, want) in cases {
            assert_eq!(
                maker_of(make)
                    .map(|(_, c)| c.as_str().to_owned())
                    .as_deref(),
                want,
                "{make}"
            );
        }
    }

    #[test]
    fn proposes_manufacture_import_and_holders_with_reasons() {
        let r = complete();
        let custody = [
            CustodyStep {
                country: cc("ET"),
                holder: Some(Line::parse("Ministry of Defence").unwrap()),
                role: Some(Line::parse("armed_forces").unwrap()),
            },
            CustodyStep {
                country: cc("SS"),
                holder: None,
                role: None,
            },
            CustodyStep {
                country: cc("KE"),
                holder: Some(Line::parse("Kenya Police").unwrap()),
                role: None,
            },
        ];
        let p = propose(&r, &custody);
        // CN twice (stated, and Norinco's home), ET twice (import mark, holder); KE never.
        assert_eq!(states(&p), ["CN", "ET", "SS"]);
        assert_eq!(p[0].reasons.len(), 2);
        assert_eq!(p[0].reasons[0], Reason::StatedCountryOfManufacture);
        assert!(matches!(
            p[0].reasons[1],
            Reason::MakersHomeCountry {
                stated_otherwise: None,
                ..
            }
        ));
        assert!(matches!(p[1].reasons[0], Reason::LastLegalImport { .. }));
        assert!(matches!(p[1].reasons[1], Reason::PreviousHolder { .. }));
        let text = p[1].reasons[0].to_string();
        assert!(text.contains("'ET 1985' (1985)"), "{text}");
        assert!(p[1].reasons[1]
            .to_string()
            .ends_with("Ministry of Defence (armed_forces)"));
    }

    #[test]
    fn maker_and_stated_country_disagree() {
        let r = edited(|v| v["item"]["make"] = json!("Beretta"));
        let p = propose(&r, &[]);
        assert_eq!(states(&p), ["CN", "IT", "ET"]);
        let t = p[1].reasons[0].to_string();
        assert!(
            t.contains("states CN") && t.contains("licensed production"),
            "{t}"
        );
    }

    #[test]
    fn last_import_mark_with_a_country_wins() {
        let r = edited(|v| {
            v["item"]["import_marks"] = json!([
                {"text": "ET 1985", "country": "ET"},
                {"text": "UG-97", "country": "UG", "year": 1997},
                {"text": "illegible stamp"}
            ]);
        });
        let p = propose(&r, &[]);
        assert_eq!(states(&p), ["CN", "UG"]);
        assert_eq!(
            p[1].reasons,
            [Reason::LastLegalImport {
                mark: "UG-97".into(),
                year: Some(Year::new(1997).unwrap()),
                later_unread: 1
            }]
        );
        assert!(p[1].reasons[0]
            .to_string()
            .contains("1 later import mark(s)"));
    }

    #[test]
    fn domestic_manufacture_is_not_proposed() {
        let r = edited(|v| {
            v["item"]["country_of_manufacture"] = json!("KE");
            v["item"]["make"] = json!("Kenya Ordnance Factories");
            v["item"]["import_marks"] = json!([]);
        });
        assert!(propose(&r, &[]).is_empty());
    }

    #[test]
    fn confirmation() {
        let ke = cc("KE");
        assert_eq!(
            ConfirmedRecipients::confirm(ke, []),
            Err(RoutingError::NoRecipient)
        );
        assert_eq!(
            ConfirmedRecipients::confirm(ke, [cc("CN"), cc("KE")]),
            Err(RoutingError::RequestingState(ke))
        );
        assert_eq!(
            ConfirmedRecipients::confirm(ke, [cc("CN"), cc("ET"), cc("CN")]),
            Err(RoutingError::Duplicate(cc("CN")))
        );
        let ok = ConfirmedRecipients::confirm(ke, [cc("ET"), cc("CN"), cc("TZ")]).unwrap();
        assert_eq!(ok.states(), [cc("ET"), cc("CN"), cc("TZ")]);
        let all = ConfirmedRecipients::accept_all(ke, &propose(&complete(), &[])).unwrap();
        assert_eq!(all.states(), [cc("CN"), cc("ET")]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::request::fixtures::edited;
    use proptest::prelude::*;
    use serde_json::json;

    const CODES: &[&str] = &["KE", "CN", "ET", "UG", "BE", "RU", "BG", "US"];
    const MAKES: &[&str] = &[
        "Norinco",
        "FN Herstal",
        "Izhmash",
        "Colt",
        "Arsenal",
        "Local smith",
    ];

    proptest! {
        /// Whatever the request and custody say: the requesting state is never proposed, no
        /// state twice, every proposal has a reason, and every state named as the country of
        /// manufacture, last import country or holder (other than the requester) is proposed.
        #[test]
        fn proposals_are_sound(
            requester in prop::sample::select(CODES),
            made_in in prop::option::of(prop::sample::select(CODES)),
            make in prop::sample::select(MAKES),
            imports in prop::collection::vec(prop::option::of(prop::sample::select(CODES)), 0..4),
            holders in prop::collection::vec(prop::sample::select(CODES), 0..4),
        ) {
            let request = edited(|v| {
                v["requesting_state"] = json!(requester);
                v["item"]["country_of_manufacture"] = json!(made_in);
                v["item"]["make"] = json!(make);
                v["item"]["import_marks"] = json!(imports
                    .iter()
                    .map(|c| json!({"text": "mark", "country": c}))
                    .collect::<Vec<_>>());
            });
            let custody: Vec<CustodyStep> = holders
                .iter()
                .map(|c| CustodyStep { country: CountryCode::parse(c).unwrap(), holder: None, role: None })
                .collect();
            let p = propose(&request, &custody);
            let states: Vec<&str> = p.iter().map(|p| p.state.as_str()).collect();
            prop_assert!(!states.contains(&requester));
            let mut unique = states.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), states.len());
            prop_assert!(p.iter().all(|p| !p.reasons.is_empty()));
            let last_import = imports.iter().rev().find_map(|c| *c);
            for named in made_in.iter().chain(last_import.iter()).chain(holders.iter()) {
                prop_assert!(*named == requester || states.contains(named), "{} missing", named);
            }
            if let Some((_, home)) = maker_of(make) {
                prop_assert!(home.as_str() == requester || states.contains(&home.as_str()));
            }
            // Whatever is proposed can be confirmed as it is.
            if !p.is_empty() {
                prop_assert!(ConfirmedRecipients::accept_all(request.requesting_state, &p).is_ok());
            }
        }
    }
}

//! The trace request as the requesting officer composes it (ITI section V, ISACS 05.31).
//!
//! A [`TraceRequest`] is a *draft*: it may lack what the officer does not (yet) know — the
//! serial was ground off, the country of manufacture is unclear — because that is what real
//! requests look like, and the [`completeness`](crate::completeness) check exists to name
//! those gaps. What it holds is always well formed: country codes are assigned ISO 3166-1
//! codes, dates are real dates, texts are non-empty, and unknown JSON fields are refused
//! (a misspelt `legal_bassis` must not silently drop the legal basis).
//!
//! The recipients are not part of the draft: [`routing`](crate::routing) proposes them and
//! the officer confirms them; the [`SendableRequest`](crate::completeness::SendableRequest)
//! that is actually sent carries them, with the strict [`Priority`].
//!
//! The JSON names are snake_case and stable: they are what one national installation sends
//! to another.

use crate::text::{Line, MarkingText, PhotoHash, Text, TraceId, Year};
use crate::wire;
use serde::{Deserialize, Serialize};
use tracemark_domain::date::PartialDate;
use tracemark_domain::ids::{CountryCode, ItemKey};
use tracemark_domain::model::{ItemKind, Legibility, MarkingKind};

/// A trace request, as composed by the requesting state's officer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    pub id: TraceId,
    /// The state asking, ISO 3166-1 alpha-2.
    #[serde(with = "wire::one")]
    pub requesting_state: CountryCode,
    pub requesting_agency: Line,
    pub officer: Line,
    /// The requester's own case number: the thread that keeps a case together across
    /// chained traces and paper correspondence.
    pub case_reference: Line,
    pub priority: RequestedPriority,
    pub item: ItemIdentification,
    /// Why the item is considered illicit (ITI section V).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub illicit: Option<Illicit>,
    /// The law under which the item is held and the request made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<Text>,
    /// Where, when and how the item was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circumstances: Option<Circumstances>,
    /// What the answer will be used for (e.g. a criminal prosecution, a UN panel report); the
    /// requested state weighs its conditions of use against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_use: Option<Text>,
    /// Conditions the requester asks the requested state to respect (e.g. do not contact the
    /// importer: the investigation is covert).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidentiality: Option<Text>,
    /// The item in the requester's own registry, when it is recorded there.
    #[serde(default, with = "wire::opt", skip_serializing_if = "Option::is_none")]
    pub registry_item: Option<ItemKey>,
    /// The trace this one continues (chained tracing: the answer of one state names the next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_trace: Option<TraceId>,
}

/// The priority the officer asks for. An urgent request needs a justification before it can
/// be sent; in a draft the officer may have ticked "urgent" and not yet written why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestedPriority {
    Routine,
    Urgent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        justification: Option<Text>,
    },
}

/// The priority of a request that is sent: an urgent request always says why, because the
/// requested state must decide whether to put it ahead of others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case", deny_unknown_fields)]
pub enum Priority {
    Routine,
    Urgent { justification: Text },
}

impl Priority {
    pub fn is_urgent(&self) -> bool {
        matches!(self, Priority::Urgent { .. })
    }
}

impl RequestedPriority {
    /// The sendable priority, or `None` for an urgent request without a justification.
    pub fn settle(&self) -> Option<Priority> {
        match self {
            RequestedPriority::Routine => Some(Priority::Routine),
            RequestedPriority::Urgent {
                justification: Some(j),
            } => Some(Priority::Urgent {
                justification: j.clone(),
            }),
            RequestedPriority::Urgent {
                justification: None,
            } => None,
        }
    }
}

impl From<Priority> for RequestedPriority {
    fn from(p: Priority) -> Self {
        match p {
            Priority::Routine => RequestedPriority::Routine,
            Priority::Urgent { justification } => RequestedPriority::Urgent {
                justification: Some(justification),
            },
        }
    }
}

/// Everything that identifies the item, as seen by the officer who holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemIdentification {
    #[serde(with = "wire::one")]
    pub kind: ItemKind,
    /// The type, in the interchange format's vocabulary where possible (`assault_rifle`,
    /// `pistol`, `revolver`, `shotgun`, `submachine_gun`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibre: Option<Line>,
    #[serde(default, with = "wire::opt", skip_serializing_if = "Option::is_none")]
    pub country_of_manufacture: Option<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_of_manufacture: Option<Year>,
    /// Every marking as seen, in any script (serial, manufacturer, proof, factory code, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markings: Vec<SeenMarking>,
    /// Import marks, in the order they were applied (oldest first) as far as can be told: the
    /// last one names the state of last legal import, a recipient of the trace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_marks: Vec<ImportMark>,
    /// Content hashes of the photographs sent with the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<PhotoHash>,
    /// Free description: finish, modifications, anything the fields do not hold. For craft and
    /// unmarked weapons this and the photos are the identification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

impl ItemIdentification {
    /// The markings of kind `serial`.
    pub fn serials(&self) -> impl Iterator<Item = &SeenMarking> {
        self.markings
            .iter()
            .filter(|m| m.kind == MarkingKind::Serial)
    }
}

/// One marking as the officer saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenMarking {
    /// Exactly as seen; `?` or `*` stand for characters that cannot be read.
    pub text: MarkingText,
    #[serde(with = "wire::one")]
    pub kind: MarkingKind,
    /// The part that bears it (`frame`, `receiver`, `slide`, `barrel`, `bolt`, …). Parts are
    /// swapped between weapons; a serial on a barrel may not be the weapon's serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Line>,
    #[serde(
        default = "clear",
        with = "wire::one",
        skip_serializing_if = "is_clear"
    )]
    pub legibility: Legibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

fn clear() -> Legibility {
    Legibility::Clear
}

fn is_clear(l: &Legibility) -> bool {
    *l == Legibility::Clear
}

/// An import mark (ITI para 8(b)): the country of import and, where possible, the year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportMark {
    /// Exactly as seen.
    pub text: MarkingText,
    /// The country the mark names, as read by the officer; absent when it cannot be told.
    #[serde(default, with = "wire::opt", skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<Year>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importer: Option<Line>,
}

/// Why the item is considered illicit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Illicit {
    pub reason: IllicitReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IllicitReason {
    /// Seized by law enforcement (including at a border).
    Seized,
    /// Found (abandoned, in a cache).
    Found,
    /// Handed in (amnesty, voluntary surrender).
    Surrendered,
    /// Captured in armed conflict or recovered from an armed group.
    Captured,
    /// Anything else; the details must say what.
    Other,
}

impl IllicitReason {
    /// Whether the item is in the scope of SDG indicator 16.4.2 ("seized, found or
    /// surrendered arms"). A capture from an armed group is a seizure in substance.
    pub fn in_sdg_16_4_2_scope(self) -> bool {
        !matches!(self, IllicitReason::Other)
    }
}

/// The circumstances of the find.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Circumstances {
    #[serde(with = "wire::one")]
    pub date: PartialDate,
    #[serde(with = "wire::one")]
    pub country: CountryCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// A complete, realistic trace request (Kenya asks about a rifle seized in Isiolo): the
/// documentation's example, and what tests start from and break.
pub const EXAMPLE: &str = r#"{
    "id": "KE-DCI-2024-0117",
    "requesting_state": "KE",
    "requesting_agency": "Directorate of Criminal Investigations, Firearms Bureau",
    "officer": "Insp. W. Otieno",
    "case_reference": "CR 45/2024 Isiolo",
    "priority": {"level": "routine"},
    "item": {
        "kind": "firearm",
        "type": "assault_rifle",
        "make": "Norinco",
        "model": "Type 56-1",
        "calibre": "7.62x39mm",
        "country_of_manufacture": "CN",
        "year_of_manufacture": 1978,
        "markings": [
            {"text": "5612345", "kind": "serial", "component": "receiver"},
            {"text": "66", "kind": "factory_code", "component": "receiver", "note": "in a triangle"}
        ],
        "import_marks": [
            {"text": "ET 1985", "country": "ET", "year": 1985}
        ],
        "photos": ["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    },
    "illicit": {"reason": "seized", "details": "Recovered from a cattle-raiding gang after an exchange of fire."},
    "legal_basis": "Firearms Act (Cap. 114) s. 4; Mutual Legal Assistance Act 2011",
    "circumstances": {"date": "2024-03-02", "country": "KE", "place": "Isiolo County", "description": "Police operation, three rifles recovered."},
    "intended_use": "Criminal prosecution of the holders and identification of the supply route.",
    "confidentiality": "Do not contact the importer before 2024-06-30."
}"#;

#[cfg(test)]
pub(crate) mod fixtures {
    //! A complete, realistic request that the tests of every module start from and break.

    use super::*;

    pub const COMPLETE: &str = super::EXAMPLE;

    pub fn complete() -> TraceRequest {
        serde_json::from_str(COMPLETE).unwrap()
    }

    /// The complete request with `edit` applied to its JSON.
    pub fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> TraceRequest {
        let mut v: serde_json::Value = serde_json::from_str(COMPLETE).unwrap();
        edit(&mut v);
        serde_json::from_value(v).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn parses_and_round_trips() {
        let r = complete();
        assert_eq!(r.requesting_state.as_str(), "KE");
        assert_eq!(r.item.serials().count(), 1);
        assert_eq!(r.item.import_marks[0].country.unwrap().as_str(), "ET");
        assert_eq!(r.priority.settle(), Some(Priority::Routine));
        let json = serde_json::to_value(&r).unwrap();
        let again: TraceRequest = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(again, r);
        // Default legibility is not written out; present optional fields are.
        assert!(json["item"]["markings"][0].get("legibility").is_none());
        assert_eq!(json["item"]["type"], "assault_rifle");
    }

    #[test]
    fn refuses_unknown_and_malformed_fields() {
        let cases: &[(&str, &str)] = &[
            (r#""legal_bassis": "x","#, "unknown field `legal_bassis`"),
            (r#""requesting_state": "XK","#, "not an assigned"),
        ];
        for (insert, expected) in cases {
            let text = COMPLETE.replacen('{', &format!("{{{insert}"), 1);
            let e = serde_json::from_str::<TraceRequest>(&text).unwrap_err();
            assert!(e.to_string().contains(expected), "{insert}: {e}");
        }
        let bad: &[(&str, &str)] = &[
            (r#""officer": "Insp. W. Otieno""#, r#""officer": "  ""#),
            (
                r#""year_of_manufacture": 1978"#,
                r#""year_of_manufacture": 1066"#,
            ),
            (r#""country": "ET""#, r#""country": "et""#),
            (r#""kind": "serial""#, r#""kind": "serail""#),
            (r#""date": "2024-03-02""#, r#""date": "2024-02-30""#),
            (r#""level": "routine""#, r#""level": "whenever""#),
            (r#""reason": "seized""#, r#""reason": "confiscated""#),
            (r#"sha256:9f86"#, r#"sha1:9f86"#),
        ];
        for (from, to) in bad {
            assert!(COMPLETE.contains(from), "{from}");
            let text = COMPLETE.replacen(from, to, 1);
            assert!(
                serde_json::from_str::<TraceRequest>(&text).is_err(),
                "{to} accepted"
            );
        }
    }

    #[test]
    fn urgent_priority_forms() {
        let p: RequestedPriority = serde_json::from_str(r#"{"level":"urgent"}"#).unwrap();
        assert_eq!(p.settle(), None);
        let p: RequestedPriority = serde_json::from_str(
            r#"{"level":"urgent","justification":"Suspect in custody for 48 h"}"#,
        )
        .unwrap();
        assert!(p.settle().unwrap().is_urgent());
        // The strict form refuses an urgent priority without a justification.
        assert!(serde_json::from_str::<Priority>(r#"{"level":"urgent"}"#).is_err());
        assert!(
            serde_json::from_str::<Priority>(r#"{"level":"urgent","justification":""}"#).is_err()
        );
    }
}

//! The completeness check before a trace request is sent.
//!
//! Incomplete requests are the first cause of failed traces: INTERPOL found that 70% of failed
//! traces lacked the serial number or import data, and in the United States 40% of failures
//! were incomplete requests. Misidentified makes and countries (licensed production, look-alike
//! designs) and swapped components account for many of the rest. So before a request leaves,
//! [`check`] names every gap, says in plain words why it matters and what would fix it.
//!
//! A gap is either [`Severity::Blocking`] — the requested state is likely unable to answer —
//! or [`Severity::Weakening`] — the answer may be slower or less certain. Some blocking gaps
//! are facts of the case, not mistakes (a serial ground off, a craft weapon with no marks), so
//! a request may be sent with blocking gaps when each is explained by a [`Waiver`]; the
//! explanation travels with the request, so the requested state knows the gap was seen and
//! why it remains. [`clear_for_sending`] makes that decision and is the only way to build a
//! [`SendableRequest`].
//!
//! The codes ([`GapCode`]) are stable: they are stored in waivers and shown in the user
//! interface; add new ones, never rename.

use crate::request::{IllicitReason, Priority, TraceRequest};
use crate::routing::{ConfirmedRecipients, RoutingError};
use crate::text::{Text, TraceId};
use serde::{Deserialize, Serialize};
use std::fmt;
use tracemark_domain::ids::CountryCode;
use tracemark_domain::model::{ItemKind, Legibility, MarkingKind};

/// How much a gap weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The requested state is likely unable to find the item's record: send only with an
    /// explanation ([`Waiver`]).
    Blocking,
    /// The answer may be slower or less certain; worth fixing, not required.
    Weakening,
}

macro_rules! gap_codes {
    ($( $(#[$m:meta])* $variant:ident = $code:literal, $severity:ident, $field:literal; )+) => {
        /// A stable gap code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum GapCode {
            $( $(#[$m])* $variant, )+
        }

        impl GapCode {
            pub const ALL: &'static [GapCode] = &[$(GapCode::$variant),+];

            /// The stable code, as stored and shown.
            pub fn as_str(self) -> &'static str {
                match self { $(GapCode::$variant => $code),+ }
            }

            pub fn severity(self) -> Severity {
                match self { $(GapCode::$variant => Severity::$severity),+ }
            }

            /// The request field the gap concerns (a JSON path).
            pub fn field(self) -> &'static str {
                match self { $(GapCode::$variant => $field),+ }
            }
        }
    };
}

gap_codes! {
    /// No serial number is recorded.
    MissingSerial = "missing_serial", Blocking, "item.markings";
    /// Every serial recorded is marked obliterated.
    SerialObliterated = "serial_obliterated", Blocking, "item.markings";
    /// An ammunition lot without a lot number or headstamp.
    MissingLotMarking = "missing_lot_marking", Blocking, "item.markings";
    /// A serial with unreadable characters (`?`, `*`), marked partial, or very short.
    SerialLooksPartial = "serial_looks_partial", Weakening, "item.markings";
    /// The serials recorded are all on parts other than the frame or receiver.
    SerialNotOnFrame = "serial_not_on_frame", Weakening, "item.markings";
    /// No markings and no description: nothing identifies the item.
    UnmarkedWithoutDescription = "unmarked_without_description", Blocking, "item.description";
    /// No make.
    MissingMake = "missing_make", Blocking, "item.make";
    /// The make names a design made in many states, not a maker.
    MakeIsAPattern = "make_is_a_pattern", Weakening, "item.make";
    /// No country of manufacture.
    UnknownCountryOfManufacture = "unknown_country_of_manufacture", Blocking, "item.country_of_manufacture";
    /// A foreign-made item with no import mark recorded.
    NoImportMark = "no_import_mark", Weakening, "item.import_marks";
    /// An import mark is recorded but the country it names is not.
    ImportMarkNotRead = "import_mark_not_read", Weakening, "item.import_marks";
    /// No type, or a type too general to tell designs apart ("rifle", "gun").
    VagueType = "vague_type", Weakening, "item.type";
    MissingModel = "missing_model", Weakening, "item.model";
    MissingCalibre = "missing_calibre", Weakening, "item.calibre";
    NoPhotos = "no_photos", Weakening, "item.photos";
    /// No reason why the item is considered illicit (or "other" without details).
    MissingIllicitReason = "missing_illicit_reason", Blocking, "illicit";
    MissingLegalBasis = "missing_legal_basis", Blocking, "legal_basis";
    MissingCircumstances = "missing_circumstances", Blocking, "circumstances";
    MissingIntendedUse = "missing_intended_use", Blocking, "intended_use";
    /// Urgent priority asked without saying why. Cannot be waived: justify it or make the
    /// request routine.
    UrgentWithoutJustification = "urgent_without_justification", Blocking, "priority.justification";
}

impl GapCode {
    /// Whether the gap may be sent with an explanation. An urgent request without a
    /// justification cannot: the explanation *is* the justification, so write it there.
    pub fn waivable(self) -> bool {
        self != GapCode::UrgentWithoutJustification
    }

    /// Why the gap matters, in plain words.
    pub fn why(self) -> &'static str {
        use GapCode::*;
        match self {
            MissingSerial => "The serial number is what the requested state searches its records for. INTERPOL found that 70% of failed traces lacked the serial number or import data.",
            SerialObliterated => "With the serial ground off, the requested state can only search by make, model and other marks, which rarely identifies one weapon. Chemical restoration often recovers some characters.",
            MissingLotMarking => "Ammunition is traced by its lot number and headstamp (IATG 03.50); without them the manufacturer cannot tell which shipment it came from.",
            SerialLooksPartial => "A partial serial matches many records or none. The requested state can search with wildcards only if it knows which characters are unknown and where they are.",
            SerialNotOnFrame => "Parts are swapped between weapons: a serial on a barrel, slide or bolt may belong to another weapon. The ITI requires the unique mark on the frame or receiver.",
            UnmarkedWithoutDescription => "An unmarked item (craft-produced, 3D-printed, or stripped of marks) can only be identified by its description and photographs.",
            MissingMake => "Serial numbers are not unique across makers; without the make the same serial matches weapons of many manufacturers.",
            MakeIsAPattern => "Kalashnikov- and AR-15-pattern weapons were made under licence or copied in dozens of states. Licensed production is the leading cause of misidentified make and country, and sends the request to the wrong state.",
            UnknownCountryOfManufacture => "The country of manufacture is the first recipient of a trace: its manufacturing records say to whom the item was first delivered.",
            NoImportMark => "The import mark names the state of last legal import, whose records name the importer. INTERPOL found that 70% of failed traces lacked the serial number or import data.",
            ImportMarkNotRead => "An import mark is only useful for routing when the country it names is known.",
            VagueType => "A vague type such as 'rifle' fits many designs; misidentified weapons are a common cause of failed traces.",
            MissingModel => "The model narrows the search in the manufacturer's records and confirms the identification.",
            MissingCalibre => "The calibre confirms the model and tells apart variants made for different markets.",
            NoPhotos => "Photographs of the markings let the requested state read them itself; a misread character (O/0, Cyrillic/Latin) is a common cause of failed traces.",
            MissingIllicitReason => "The ITI asks the requesting state to say why the item is considered illicit; without it the requested state may not be allowed to answer.",
            MissingLegalBasis => "The requested state needs the legal basis to decide whether and how it may share its records.",
            MissingCircumstances => "The circumstances of the find (when, where, how) are part of an ITI request and help the requested state recognise a diversion it already knows of.",
            MissingIntendedUse => "The ITI asks the requesting state to say what the information will be used for; the requested state sets its conditions of use against it.",
            UrgentWithoutJustification => "An urgent request asks the requested state to put it ahead of others; it needs to know why.",
        }
    }

    /// What would fix the gap.
    pub fn fix(self) -> &'static str {
        use GapCode::*;
        match self {
            MissingSerial => "Look for the serial on the frame or receiver, then on the slide, barrel and bolt; record every one with the part it is on. If the item bears none (a craft weapon), explain it in a waiver.",
            SerialObliterated => "Have the serial restored (e.g. with Fry's reagent) and record the recovered characters with ? for the unknown ones; record any other marks (factory code, proof marks). Otherwise explain it in a waiver.",
            MissingLotMarking => "Record the lot number from the smallest packaging unit and the headstamp of the cartridges.",
            SerialLooksPartial => "Record exactly which characters could be read, with ? in place of each unreadable character, and attach a photograph of the marking.",
            SerialNotOnFrame => "Look for a serial on the frame or receiver and record it with its part, or say in the description that the frame bears none.",
            UnmarkedWithoutDescription => "Describe the item (construction, finish, modifications) and attach photographs.",
            MissingMake => "Read the manufacturer's name or code from the markings (factory codes and proof marks help); the reference catalogue lists them.",
            MakeIsAPattern => "Record the factory that made this weapon, from its factory code, arsenal mark or proof marks, not the name of the design.",
            UnknownCountryOfManufacture => "Read the country from the markings, the factory code or the proof marks; record it even if uncertain and say so in the description.",
            NoImportMark => "Look for an import mark (a country code and year, often on the receiver or barrel). If there is none, say so in the description or a waiver.",
            ImportMarkNotRead => "Record, for each import mark, the country it names.",
            VagueType => "Give the type precisely: assault rifle, bolt-action rifle, pistol, revolver, shotgun, submachine gun, machine gun.",
            MissingModel => "Record the model from the markings or the reference catalogue.",
            MissingCalibre => "Record the calibre from the markings or by measurement (e.g. 7.62x39mm).",
            NoPhotos => "Attach photographs of the whole item and of every marking.",
            MissingIllicitReason => "Say whether the item was seized, found, surrendered or captured, and add details when it was none of these.",
            MissingLegalBasis => "Cite the law or agreement under which the item is held and the request made.",
            MissingCircumstances => "Give the date, country and place of the find and how it happened.",
            MissingIntendedUse => "Say what the answer will be used for (e.g. a prosecution, a UN panel report, an analysis of supply routes).",
            UrgentWithoutJustification => "Write the justification (e.g. a suspect in custody, an imminent threat), or make the request routine.",
        }
    }
}

impl fmt::Display for GapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gap found in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub code: GapCode,
    /// The specifics, when there are any ("serial '56??3' has 2 unreadable characters").
    pub detail: Option<String>,
}

impl Gap {
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
    pub fn field(&self) -> &'static str {
        self.code.field()
    }
    pub fn why(&self) -> &'static str {
        self.code.why()
    }
    pub fn fix(&self) -> &'static str {
        self.code.fix()
    }
}

/// Generic words that name a family of weapons, not a type a record can be searched by.
const VAGUE_TYPES: &[&str] = &[
    "arm",
    "firearm",
    "gun",
    "weapon",
    "rifle",
    "long gun",
    "longarm",
    "long arm",
    "handgun",
    "small arm",
    "small arms",
    "unknown",
    "other",
    "automatic",
    "military",
];

/// Makes that name a design rather than a maker (see [`GapCode::MakeIsAPattern`]).
const PATTERN_MAKES: &[&str] = &[
    "kalashnikov",
    "ak",
    "ak47",
    "ak 47",
    "akm",
    "ak74",
    "ak 74",
    "ar15",
    "ar 15",
    "m16",
];

/// Fewer characters than this in a serial suggests a partial reading.
const SHORT_SERIAL: usize = 4;

fn simplified(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_frame(component: &str) -> bool {
    let c = component.to_lowercase();
    c.contains("frame") || c.contains("receiver")
}

/// Every gap in `request`, in the order of [`GapCode::ALL`].
pub fn check(request: &TraceRequest) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut gap = |code: GapCode, detail: Option<String>| gaps.push(Gap { code, detail });
    let item = &request.item;
    let ammunition = item.kind == ItemKind::AmmunitionLot;

    if ammunition {
        let lot = item
            .markings
            .iter()
            .any(|m| matches!(m.kind, MarkingKind::Lot | MarkingKind::Headstamp));
        if !lot {
            gap(GapCode::MissingLotMarking, None);
        }
    } else {
        let serials: Vec<_> = item.serials().collect();
        if serials.is_empty() {
            gap(GapCode::MissingSerial, None);
        } else if serials
            .iter()
            .all(|s| s.legibility == Legibility::Obliterated)
        {
            gap(GapCode::SerialObliterated, None);
        }
        let partial: Vec<String> = serials
            .iter()
            .filter(|s| s.legibility != Legibility::Obliterated)
            .filter_map(|s| {
                let t = s.text.as_str();
                let unknown = t.chars().filter(|c| matches!(c, '?' | '*')).count();
                let known = t.chars().filter(|c| c.is_alphanumeric()).count();
                if unknown > 0 {
                    Some(format!(
                        "serial '{t}' has {unknown} unreadable character(s)"
                    ))
                } else if s.legibility == Legibility::Partial {
                    Some(format!("serial '{t}' is marked as partly legible"))
                } else if known < SHORT_SERIAL {
                    Some(format!("serial '{t}' is only {known} character(s) long"))
                } else {
                    None
                }
            })
            .collect();
        if !partial.is_empty() {
            gap(GapCode::SerialLooksPartial, Some(partial.join("; ")));
        }
        // Only a firearm or light weapon has a frame; a part carries its own serial.
        let whole_weapon = matches!(item.kind, ItemKind::Firearm | ItemKind::LightWeapon);
        if whole_weapon
            && !serials.is_empty()
            && serials
                .iter()
                .all(|s| s.component.as_ref().is_some_and(|c| !is_frame(c.as_str())))
        {
            let parts: Vec<&str> = serials
                .iter()
                .filter_map(|s| s.component.as_ref().map(|c| c.as_str()))
                .collect();
            gap(
                GapCode::SerialNotOnFrame,
                Some(format!("serials recorded on: {}", parts.join(", "))),
            );
        }
    }
    if item.markings.is_empty() && item.import_marks.is_empty() && item.description.is_none() {
        gap(GapCode::UnmarkedWithoutDescription, None);
    }

    match &item.make {
        None => gap(GapCode::MissingMake, None),
        Some(make) => {
            if PATTERN_MAKES.contains(&simplified(make.as_str()).as_str()) {
                gap(
                    GapCode::MakeIsAPattern,
                    Some(format!("'{make}' names a design, not a maker")),
                );
            }
        }
    }
    if item.country_of_manufacture.is_none() {
        let hint = item
            .make
            .as_ref()
            .and_then(|m| crate::routing::maker_of(m.as_str()))
            .map(|(maker, c)| format!("{maker} is based in {c}; check for licensed production"));
        gap(GapCode::UnknownCountryOfManufacture, hint);
    }

    // Ammunition is not import-marked; a domestic item needs no import mark.
    let foreign = item.country_of_manufacture != Some(request.requesting_state);
    let import_marking = item.markings.iter().any(|m| m.kind == MarkingKind::Import);
    if !ammunition && foreign && item.import_marks.is_empty() && !import_marking {
        gap(GapCode::NoImportMark, None);
    }
    let unread = item
        .import_marks
        .iter()
        .filter(|m| m.country.is_none())
        .count();
    if (item.import_marks.is_empty() && import_marking) || unread > 0 {
        gap(GapCode::ImportMarkNotRead, None);
    }

    match &item.item_type {
        None => gap(GapCode::VagueType, Some("no type given".into())),
        Some(t) if VAGUE_TYPES.contains(&simplified(t.as_str()).as_str()) => {
            gap(GapCode::VagueType, Some(format!("'{t}' only")));
        }
        Some(_) => {}
    }
    if item.model.is_none() {
        gap(GapCode::MissingModel, None);
    }
    if item.calibre.is_none() {
        gap(GapCode::MissingCalibre, None);
    }
    if item.photos.is_empty() {
        gap(GapCode::NoPhotos, None);
    }

    match &request.illicit {
        None => gap(GapCode::MissingIllicitReason, None),
        Some(i) if i.reason == IllicitReason::Other && i.details.is_none() => gap(
            GapCode::MissingIllicitReason,
            Some("'other' needs details".into()),
        ),
        Some(_) => {}
    }
    if request.legal_basis.is_none() {
        gap(GapCode::MissingLegalBasis, None);
    }
    if request.circumstances.is_none() {
        gap(GapCode::MissingCircumstances, None);
    }
    if request.intended_use.is_none() {
        gap(GapCode::MissingIntendedUse, None);
    }
    if request.priority.settle().is_none() {
        gap(GapCode::UrgentWithoutJustification, None);
    }
    gaps.sort_by_key(|g| g.code);
    gaps
}

/// The officer's explanation of a gap that remains when the request is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub gap: GapCode,
    pub explanation: Text,
}

/// Why a request may not be sent as it is. Every problem is listed at once, so the officer
/// fixes them in one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendRefusal {
    /// Blocking gaps without an explanation.
    pub unexplained: Vec<GapCode>,
    /// Gaps that no explanation can waive.
    pub unwaivable: Vec<GapCode>,
    /// Waivers for gaps the request does not have (stale: the gap was fixed, or a mistake).
    /// They are refused because the recipient would read them as facts about the item.
    pub stale: Vec<GapCode>,
    /// Gaps explained more than once.
    pub duplicate: Vec<GapCode>,
}

impl SendRefusal {
    pub fn is_empty(&self) -> bool {
        self.unexplained.is_empty()
            && self.unwaivable.is_empty()
            && self.stale.is_empty()
            && self.duplicate.is_empty()
    }
}

fn codes(list: &[GapCode]) -> String {
    list.iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SendRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.unexplained.is_empty() {
            parts.push(format!(
                "blocking gaps need an explanation: {}",
                codes(&self.unexplained)
            ));
        }
        if !self.unwaivable.is_empty() {
            parts.push(format!(
                "gaps that must be fixed, not explained: {}",
                codes(&self.unwaivable)
            ));
        }
        if !self.stale.is_empty() {
            parts.push(format!(
                "explanations for gaps the request does not have: {}",
                codes(&self.stale)
            ));
        }
        if !self.duplicate.is_empty() {
            parts.push(format!("gaps explained twice: {}", codes(&self.duplicate)));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Decides whether a request with these gaps may be sent with these waivers: every blocking
/// gap explained once, no unwaivable gap, no waiver for a gap that is not there. Weakening
/// gaps may be explained too (e.g. "no import mark: none found after inspection").
pub fn may_send(gaps: &[Gap], waivers: &[Waiver]) -> Result<(), SendRefusal> {
    let mut refusal = SendRefusal::default();
    for (i, w) in waivers.iter().enumerate() {
        if waivers[..i].iter().any(|v| v.gap == w.gap) && !refusal.duplicate.contains(&w.gap) {
            refusal.duplicate.push(w.gap);
        }
        if !gaps.iter().any(|g| g.code == w.gap) && !refusal.stale.contains(&w.gap) {
            refusal.stale.push(w.gap);
        }
    }
    for g in gaps {
        if !g.code.waivable() {
            if !refusal.unwaivable.contains(&g.code) {
                refusal.unwaivable.push(g.code);
            }
        } else if g.severity() == Severity::Blocking
            && !waivers.iter().any(|w| w.gap == g.code)
            && !refusal.unexplained.contains(&g.code)
        {
            refusal.unexplained.push(g.code);
        }
    }
    if refusal.is_empty() {
        Ok(())
    } else {
        Err(refusal)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearanceError {
    #[error("the request cannot be sent: {0}")]
    Gaps(SendRefusal),
    #[error(
        "the recipients were confirmed for {confirmed_for}, but the request is from {requesting}"
    )]
    RecipientsForAnotherState {
        confirmed_for: CountryCode,
        requesting: CountryCode,
    },
    #[error("trace {0} names itself as its parent trace")]
    ChainedToItself(TraceId),
    #[error("requested states: {0}")]
    Recipients(#[from] RoutingError),
    #[error("an urgent request must say why it is urgent")]
    UrgentWithoutJustification,
}

/// A trace request that may be sent: its gaps were checked, each blocking one explained, its
/// recipients confirmed, and its priority settled. Built only by [`clear_for_sending`] (or
/// read back from a stored or received message).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SendableWire", into = "SendableWire")]
pub struct SendableRequest {
    request: TraceRequest,
    priority: Priority,
    recipients: ConfirmedRecipients,
    waivers: Vec<Waiver>,
}

/// The JSON form of a [`SendableRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendableWire {
    request: TraceRequest,
    #[serde(with = "crate::wire::vec")]
    requested_states: Vec<CountryCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    waivers: Vec<Waiver>,
}

impl From<SendableRequest> for SendableWire {
    fn from(s: SendableRequest) -> Self {
        SendableWire {
            request: s.request,
            requested_states: s.recipients.states().to_vec(),
            waivers: s.waivers,
        }
    }
}

impl TryFrom<SendableWire> for SendableRequest {
    type Error = ClearanceError;
    /// Re-checks the structure, not the gaps: the gap rules may grow in later versions, and a
    /// request cleared and sent under earlier rules must still read back from the ledger.
    fn try_from(w: SendableWire) -> Result<Self, ClearanceError> {
        let recipients =
            ConfirmedRecipients::confirm(w.request.requesting_state, w.requested_states)?;
        structure(&w.request, &recipients)?;
        let priority = w
            .request
            .priority
            .settle()
            .ok_or(ClearanceError::UrgentWithoutJustification)?;
        let mut seen: Vec<GapCode> = Vec::new();
        for wv in &w.waivers {
            if seen.contains(&wv.gap) {
                return Err(ClearanceError::Gaps(SendRefusal {
                    duplicate: vec![wv.gap],
                    ..SendRefusal::default()
                }));
            }
            seen.push(wv.gap);
        }
        Ok(SendableRequest {
            request: w.request,
            priority,
            recipients,
            waivers: w.waivers,
        })
    }
}

fn structure(
    request: &TraceRequest,
    recipients: &ConfirmedRecipients,
) -> Result<(), ClearanceError> {
    if recipients.requesting_state() != request.requesting_state {
        return Err(ClearanceError::RecipientsForAnotherState {
            confirmed_for: recipients.requesting_state(),
            requesting: request.requesting_state,
        });
    }
    if request.parent_trace.as_ref() == Some(&request.id) {
        return Err(ClearanceError::ChainedToItself(request.id.clone()));
    }
    Ok(())
}

/// Checks `request` and, if it may be sent to `recipients` with `waivers`, returns it ready.
pub fn clear_for_sending(
    request: TraceRequest,
    recipients: ConfirmedRecipients,
    waivers: Vec<Waiver>,
) -> Result<SendableRequest, ClearanceError> {
    structure(&request, &recipients)?;
    may_send(&check(&request), &waivers).map_err(ClearanceError::Gaps)?;
    let priority = request
        .priority
        .settle()
        .ok_or(ClearanceError::UrgentWithoutJustification)?;
    Ok(SendableRequest {
        request,
        priority,
        recipients,
        waivers,
    })
}

impl SendableRequest {
    pub fn request(&self) -> &TraceRequest {
        &self.request
    }
    pub fn id(&self) -> &TraceId {
        &self.request.id
    }
    pub fn priority(&self) -> &Priority {
        &self.priority
    }
    pub fn recipients(&self) -> &ConfirmedRecipients {
        &self.recipients
    }
    pub fn waivers(&self) -> &[Waiver] {
        &self.waivers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::fixtures::{complete, edited};
    use serde_json::{json, Value};

    fn codes_of(r: &TraceRequest) -> Vec<&'static str> {
        check(r).iter().map(|g| g.code.as_str()).collect()
    }

    #[test]
    fn the_complete_request_has_no_gaps() {
        assert_eq!(codes_of(&complete()), Vec::<&str>::new());
    }

    #[test]
    fn codes_are_stable_and_documented() {
        for c in GapCode::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert!(c.why().ends_with('.') && c.fix().ends_with('.'), "{c}");
            assert!(c.field().starts_with(|ch: char| ch.is_ascii_lowercase()));
        }
        let mut sorted: Vec<&str> = GapCode::ALL.iter().map(|c| c.as_str()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), GapCode::ALL.len());
        // The real-world failure causes are cited where they apply.
        assert!(GapCode::MissingSerial.why().contains("70%"));
        assert!(GapCode::NoImportMark.why().contains("70%"));
        assert!(GapCode::SerialNotOnFrame.why().contains("swapped"));
        assert!(GapCode::MakeIsAPattern
            .why()
            .contains("Licensed production"));
    }

    /// Realistic incomplete requests, each with exactly the gaps it should have.
    #[test]
    fn table_of_real_world_incomplete_requests() {
        type Edit = fn(&mut Value);
        let cases: &[(&str, Edit, &[&str])] = &[
            (
                "serial ground off, nothing restored",
                |v| {
                    v["item"]["markings"][0] = json!({"text": "—", "kind": "serial",
                        "component": "receiver", "legibility": "obliterated"});
                },
                &["serial_obliterated"],
            ),
            (
                "serial restored with Fry's reagent, two characters lost",
                |v| {
                    v["item"]["markings"][0] = json!({"text": "56??345", "kind": "serial",
                        "component": "receiver", "legibility": "restored"});
                },
                &["serial_looks_partial"],
            ),
            (
                "AK-pattern rifle from a conflict zone: no import mark, make given as the design",
                |v| {
                    v["item"]["make"] = json!("Kalashnikov");
                    v["item"]["model"] = json!("AKM");
                    v["item"]["country_of_manufacture"] = Value::Null;
                    v["item"]["import_marks"] = json!([]);
                    v["item"]["markings"] = json!([{"text": "ЕЛ 4711", "kind": "serial",
                        "component": "receiver"}]);
                },
                &[
                    "make_is_a_pattern",
                    "unknown_country_of_manufacture",
                    "no_import_mark",
                ],
            ),
            (
                "'rifle' is the only description of the type, no model or calibre",
                |v| {
                    v["item"]["type"] = json!("Rifle");
                    v["item"]["model"] = Value::Null;
                    v["item"]["calibre"] = Value::Null;
                },
                &["vague_type", "missing_model", "missing_calibre"],
            ),
            (
                "country of manufacture unknown, make known",
                |v| v["item"]["country_of_manufacture"] = Value::Null,
                &["unknown_country_of_manufacture"],
            ),
            (
                "urgent without justification",
                |v| v["priority"] = json!({"level": "urgent"}),
                &["urgent_without_justification"],
            ),
            (
                "pistol with the serial read off the slide only (frame swapped?)",
                |v| {
                    v["item"]["type"] = json!("pistol");
                    v["item"]["make"] = json!("Glock");
                    v["item"]["model"] = json!("17");
                    v["item"]["calibre"] = json!("9x19mm");
                    v["item"]["country_of_manufacture"] = json!("AT");
                    v["item"]["markings"] = json!([{"text": "BKZ123", "kind": "serial",
                        "component": "slide"}]);
                    v["item"]["import_marks"] = json!([{"text": "KE 19", "country": "KE"}]);
                },
                &["serial_not_on_frame"],
            ),
            (
                "craft weapon: no marks, no description, no photos",
                |v| {
                    v["item"]["type"] = json!("shotgun");
                    v["item"]["make"] = Value::Null;
                    v["item"]["model"] = Value::Null;
                    v["item"]["country_of_manufacture"] = Value::Null;
                    v["item"]["markings"] = json!([]);
                    v["item"]["import_marks"] = json!([]);
                    v["item"]["photos"] = json!([]);
                },
                &[
                    "missing_serial",
                    "unmarked_without_description",
                    "missing_make",
                    "unknown_country_of_manufacture",
                    "no_import_mark",
                    "missing_model",
                    "no_photos",
                ],
            ),
            (
                "paperwork missing: no legal basis, circumstances or intended use",
                |v| {
                    let o = v.as_object_mut().unwrap();
                    o.remove("legal_basis");
                    o.remove("circumstances");
                    o.remove("intended_use");
                },
                &[
                    "missing_legal_basis",
                    "missing_circumstances",
                    "missing_intended_use",
                ],
            ),
            (
                "reason 'other' without details",
                |v| v["illicit"] = json!({"reason": "other"}),
                &["missing_illicit_reason"],
            ),
            (
                "no reason at all, and the import mark's country not read",
                |v| {
                    v.as_object_mut().unwrap().remove("illicit");
                    v["item"]["import_marks"] = json!([{"text": "stamp, partly rubbed"}]);
                },
                &["import_mark_not_read", "missing_illicit_reason"],
            ),
            (
                "import marking recorded as a plain marking, not read as an import mark",
                |v| {
                    v["item"]["import_marks"] = json!([]);
                    v["item"]["markings"][1] = json!({"text": "UG 97", "kind": "import"});
                },
                &["import_mark_not_read"],
            ),
            (
                "a serial of three characters, no photos",
                |v| {
                    v["item"]["markings"][0]["text"] = json!("A12");
                    v["item"]["photos"] = json!([]);
                },
                &["serial_looks_partial", "no_photos"],
            ),
            (
                "handwritten form: serial with *, make missing",
                |v| {
                    v["item"]["markings"][0]["text"] = json!("56*2345");
                    v["item"]["make"] = Value::Null;
                },
                &["serial_looks_partial", "missing_make"],
            ),
            (
                "domestically made weapon needs no import mark",
                |v| {
                    v["item"]["country_of_manufacture"] = json!("KE");
                    v["item"]["import_marks"] = json!([]);
                },
                &[],
            ),
            (
                "ammunition lot without lot number or headstamp",
                |v| {
                    v["item"]["kind"] = json!("ammunition_lot");
                    v["item"]["type"] = json!("cartridge");
                    v["item"]["markings"] =
                        json!([{"text": "crate stencil 7.62", "kind": "other"}]);
                    v["item"]["import_marks"] = json!([]);
                },
                &["missing_lot_marking"],
            ),
            (
                "serial marked partly legible, 'gun' as type, reason 'found'",
                |v| {
                    v["item"]["markings"][0]["legibility"] = json!("partial");
                    v["item"]["type"] = json!("gun");
                    v["illicit"] = json!({"reason": "found"});
                },
                &["serial_looks_partial", "vague_type"],
            ),
        ];
        assert!(cases.len() >= 12);
        for (name, edit, want) in cases {
            let r = edited(*edit);
            assert_eq!(codes_of(&r), *want, "{name}");
        }
    }

    #[test]
    fn details_name_the_specifics() {
        let r = edited(|v| {
            v["item"]["markings"][0]["text"] = json!("56??345");
            v["item"]["country_of_manufacture"] = Value::Null;
        });
        let gaps = check(&r);
        assert_eq!(
            gaps[0].detail.as_deref(),
            Some("serial '56??345' has 2 unreadable character(s)")
        );
        assert_eq!(
            gaps[1].detail.as_deref(),
            Some("Norinco is based in CN; check for licensed production")
        );
        assert_eq!(gaps[1].field(), "item.country_of_manufacture");
        assert_eq!(gaps[1].severity(), Severity::Blocking);
    }

    fn waiver(code: GapCode) -> Waiver {
        Waiver {
            gap: code,
            explanation: Text::parse("Serial ground off; restoration failed (lab report 17/24).")
                .unwrap(),
        }
    }

    #[test]
    fn sending_with_explained_gaps() {
        let gaps = [
            Gap {
                code: GapCode::SerialObliterated,
                detail: None,
            },
            Gap {
                code: GapCode::NoPhotos,
                detail: None,
            },
        ];
        let refused = may_send(&gaps, &[]).unwrap_err();
        assert_eq!(refused.unexplained, [GapCode::SerialObliterated]);
        assert!(refused.to_string().contains("serial_obliterated"));
        assert_eq!(
            may_send(&gaps, &[waiver(GapCode::SerialObliterated)]),
            Ok(())
        );
        // Weakening gaps may be explained; gaps that are not there may not.
        assert_eq!(
            may_send(
                &gaps,
                &[
                    waiver(GapCode::SerialObliterated),
                    waiver(GapCode::NoPhotos)
                ]
            ),
            Ok(())
        );
        let refused = may_send(
            &gaps,
            &[
                waiver(GapCode::SerialObliterated),
                waiver(GapCode::SerialObliterated),
                waiver(GapCode::MissingMake),
            ],
        )
        .unwrap_err();
        assert_eq!(refused.duplicate, [GapCode::SerialObliterated]);
        assert_eq!(refused.stale, [GapCode::MissingMake]);
        assert!(refused.unexplained.is_empty());
        let urgent = [Gap {
            code: GapCode::UrgentWithoutJustification,
            detail: None,
        }];
        let refused =
            may_send(&urgent, &[waiver(GapCode::UrgentWithoutJustification)]).unwrap_err();
        assert_eq!(refused.unwaivable, [GapCode::UrgentWithoutJustification]);
    }

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    #[test]
    fn clearance_and_its_json() {
        let recipients = ConfirmedRecipients::confirm(cc("KE"), [cc("CN"), cc("ET")]).unwrap();
        let sent = clear_for_sending(complete(), recipients.clone(), vec![]).unwrap();
        assert_eq!(sent.priority(), &Priority::Routine);
        let json = serde_json::to_value(&sent).unwrap();
        assert_eq!(json["requested_states"], json!(["CN", "ET"]));
        let back: SendableRequest = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, sent);

        let mut bad = json.clone();
        bad["requested_states"] = json!(["CN", "KE"]);
        assert!(serde_json::from_value::<SendableRequest>(bad).is_err());
        let mut bad = json.clone();
        bad["requested_states"] = json!([]);
        assert!(serde_json::from_value::<SendableRequest>(bad).is_err());
        let mut bad = json.clone();
        bad["request"]["priority"] = json!({"level": "urgent"});
        assert!(serde_json::from_value::<SendableRequest>(bad).is_err());
        let mut bad = json;
        bad["extra"] = json!(1);
        assert!(serde_json::from_value::<SendableRequest>(bad).is_err());

        let obliterated = edited(|v| {
            v["item"]["markings"][0]["legibility"] = json!("obliterated");
        });
        let e = clear_for_sending(obliterated.clone(), recipients.clone(), vec![]).unwrap_err();
        assert!(matches!(e, ClearanceError::Gaps(_)), "{e}");
        let ok = clear_for_sending(
            obliterated,
            recipients.clone(),
            vec![waiver(GapCode::SerialObliterated)],
        )
        .unwrap();
        assert_eq!(ok.waivers().len(), 1);

        let other = ConfirmedRecipients::confirm(cc("UG"), [cc("CN")]).unwrap();
        assert!(matches!(
            clear_for_sending(complete(), other, vec![]),
            Err(ClearanceError::RecipientsForAnotherState { .. })
        ));
        let selfish = edited(|v| v["parent_trace"] = v["id"].clone());
        assert!(matches!(
            clear_for_sending(selfish, recipients, vec![]),
            Err(ClearanceError::ChainedToItself(_))
        ));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn code() -> impl Strategy<Value = GapCode> {
        prop::sample::select(GapCode::ALL)
    }

    proptest! {
        /// `may_send` against its definition, read literally: every blocking gap explained
        /// exactly once, no unwaivable gap, every waiver for a gap that is there.
        #[test]
        fn may_send_follows_its_definition(
            gaps in prop::collection::vec(code(), 0..6),
            waived in prop::collection::vec(code(), 0..6),
        ) {
            let gaps: Vec<Gap> = gaps.into_iter().map(|code| Gap { code, detail: None }).collect();
            let waivers: Vec<Waiver> = waived
                .iter()
                .map(|&gap| Waiver { gap, explanation: Text::parse("Explained.").unwrap() })
                .collect();
            let count = |c: GapCode| waived.iter().filter(|w| **w == c).count();
            let ok = gaps.iter().all(|g| {
                g.code.waivable() && (g.severity() == Severity::Weakening || count(g.code) == 1)
            }) && waived.iter().all(|w| gaps.iter().any(|g| g.code == *w) && count(*w) == 1);
            prop_assert_eq!(may_send(&gaps, &waivers).is_ok(), ok);
        }
    }
}

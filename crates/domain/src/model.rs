//! The registry's vocabulary: items, markings, actors, places, documents and events.
//!
//! These are the validated forms of interchange records (see `interchange`). They are built
//! only by the parsers, so a value of these types always satisfies the format's rules.

use crate::date::PartialDate;
use crate::ids::{CountryCode, EventId, ItemKey};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
            /// The accepted spellings, for error messages.
            pub fn expected() -> String {
                [$($text),+].join(", ")
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// What an item is. Ammunition lots are items too (IATG 03.10), with a quantity.
    ItemKind {
        Firearm = "firearm",
        LightWeapon = "light_weapon",
        Part = "part",
        AmmunitionLot = "ammunition_lot",
        Other = "other",
    }
);

string_enum!(
    MarkingKind {
        Serial = "serial",
        Manufacturer = "manufacturer",
        Country = "country",
        Year = "year",
        Model = "model",
        Calibre = "calibre",
        Import = "import",
        Proof = "proof",
        FactoryCode = "factory_code",
        Secondary = "secondary",
        StateOwnership = "state_ownership",
        Lot = "lot",
        Headstamp = "headstamp",
        Code2d = "code_2d",
        Rfid = "rfid",
        Covert = "covert",
        Other = "other",
    }
);

impl MarkingKind {
    /// Markings that identify an individual item or lot, searched by default.
    pub fn is_serial_like(self) -> bool {
        matches!(
            self,
            MarkingKind::Serial | MarkingKind::Import | MarkingKind::Lot | MarkingKind::Headstamp
        )
    }
}

string_enum!(
    /// How well a marking could be read. Obliterated and restored serials are common in
    /// seizures; a restored serial (e.g. by Fry's reagent) is often only partly known.
    Legibility {
        Clear = "clear",
        Partial = "partial",
        Obliterated = "obliterated",
        Restored = "restored",
    }
);

string_enum!(
    ActorKind {
        Manufacturer = "manufacturer",
        Exporter = "exporter",
        Importer = "importer",
        Dealer = "dealer",
        Broker = "broker",
        Carrier = "carrier",
        StateAgency = "state_agency",
        ArmedForces = "armed_forces",
        Police = "police",
        Customs = "customs",
        PrivatePerson = "private_person",
        Company = "company",
        ArmedGroup = "armed_group",
        Unknown = "unknown",
    }
);

string_enum!(
    EventType {
        Manufactured = "manufactured",
        Imported = "imported",
        Exported = "exported",
        Transferred = "transferred",
        Assigned = "assigned",
        Returned = "returned",
        ReportedLost = "reported_lost",
        ReportedStolen = "reported_stolen",
        Recovered = "recovered",
        Seized = "seized",
        Surrendered = "surrendered",
        Marked = "marked",
        ComponentReplaced = "component_replaced",
        Converted = "converted",
        Deactivated = "deactivated",
        Destroyed = "destroyed",
        Corrected = "corrected",
        // Photographs of the item were taken: `documents` lists them as
        // `{"kind":"photo","number":"<SHA-256 of the bytes, hex>"}`. Changes nothing else.
        Photographed = "photographed",
    }
);

impl EventType {
    /// Events by which an authorised holder hands the item on (or receives it).
    pub fn is_legal_transfer(self) -> bool {
        matches!(
            self,
            EventType::Manufactured
                | EventType::Imported
                | EventType::Exported
                | EventType::Transferred
                | EventType::Assigned
                | EventType::Returned
        )
    }
    /// Events that mark the loss of lawful control: the point of diversion.
    pub fn is_control_loss(self) -> bool {
        matches!(self, EventType::ReportedLost | EventType::ReportedStolen)
    }
}

string_enum!(
    /// Current status, derived from the events (never entered directly).
    Status {
        Recorded = "recorded",
        InStock = "in_stock",
        InService = "in_service",
        CivilianHeld = "civilian_held",
        Exported = "exported",
        Lost = "lost",
        Stolen = "stolen",
        Recovered = "recovered",
        Seized = "seized",
        Surrendered = "surrendered",
        Deactivated = "deactivated",
        Destroyed = "destroyed",
    }
);

#[derive(Clone, PartialEq, Debug)]
pub struct Marking {
    pub kind: MarkingKind,
    /// Exactly as seen, in any script; never altered.
    pub text: String,
    pub component: Option<String>,
    pub legibility: Legibility,
    pub note: Option<String>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Item {
    pub key: ItemKey,
    pub kind: ItemKind,
    pub item_type: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub calibre: Option<String>,
    pub country_of_manufacture: Option<CountryCode>,
    pub year_of_manufacture: Option<i32>,
    pub markings: Vec<Marking>,
    pub parent: Option<ItemKey>,
    pub quantity: Option<u64>,
    pub national_id: Option<String>,
    pub action: Option<String>,
    pub legal_category: Option<String>,
    pub catalogue_ref: Option<String>,
    pub capacity: Option<u32>,
    pub barrel_length_mm: Option<f64>,
    pub note: Option<String>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Actor {
    pub name: String,
    pub country: Option<CountryCode>,
    pub kind: Option<ActorKind>,
    pub licence: Option<String>,
    pub address: Option<String>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Place {
    pub country: CountryCode,
    pub admin1: Option<String>,
    pub locality: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Document {
    pub kind: String,
    pub number: String,
    pub issued_by: Option<CountryCode>,
}

/// What a `corrected` event corrects.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CorrectionTarget {
    /// The item's own attributes.
    Item,
    /// An event by its idempotency id.
    Event(EventId),
    /// The record at this ledger index.
    LedgerIndex(u64),
}

#[derive(Clone, PartialEq, Debug)]
pub struct Correction {
    pub target: CorrectionTarget,
    /// Replacement field values, validated against the target's format.
    pub set: serde_json::Map<String, serde_json::Value>,
    /// The corrected event is withdrawn (kept in the ledger, marked void).
    pub void: bool,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Event {
    pub item: ItemKey,
    pub event_type: EventType,
    pub date: PartialDate,
    pub id: Option<EventId>,
    pub from: Option<Actor>,
    pub to: Option<Actor>,
    pub place: Option<Place>,
    pub documents: Vec<Document>,
    pub note: Option<String>,
    pub correction: Option<Correction>,
    pub part: Option<ItemKey>,
    pub removed_part: Option<ItemKey>,
}

// Records are built one per line of an import and moved, not stored in bulk, so boxing the
// larger variant would add an allocation for nothing. (The sizes depend on dependency
// features unified across the workspace, which is why the lint only fires in some builds.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, PartialEq, Debug)]
pub enum Record {
    Item(Item),
    Event(Event),
}

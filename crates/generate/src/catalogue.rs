//! The open reference catalogue (`catalogue/catalogue.json`), embedded in the binary and parsed once.
//!
//! The catalogue is illustrative synthetic reference data (see its `note`): it names real makes and
//! models, with simplified serial formats, codes and licence relations, so that generated data
//! looks like a real registry. It is designed to grow into an open identification catalogue, so
//! unknown fields in the file are accepted and ignored here.

use serde::Deserialize;
use std::sync::OnceLock;

use crate::pattern::Pattern;

/// The embedded catalogue source.
pub const CATALOGUE_JSON: &str = include_str!("../catalogue/catalogue.json");

/// Whether no string of the embedded catalogue needs JSON escaping (a JSON source without any
/// backslash has no string containing a quote, a backslash or a control character).
pub(crate) fn catalogue_is_plain() -> bool {
    !CATALOGUE_JSON.contains('\\')
}

/// The reference catalogue.
#[derive(Debug, Clone, Deserialize)]
pub struct Catalogue {
    /// Format tag, `tracemark-catalogue/1`.
    pub format: String,
    /// What the data is (and is not).
    pub note: String,
    /// Manufacturers and their known codes.
    pub manufacturers: Vec<Manufacturer>,
    /// Proof marks.
    #[serde(default)]
    pub proof_marks: Vec<ProofMark>,
    /// Weapon models.
    pub models: Vec<Model>,
    /// Ammunition types.
    #[serde(default)]
    pub ammunition: Vec<Ammunition>,
}

/// A manufacturer.
#[derive(Debug, Clone, Deserialize)]
pub struct Manufacturer {
    /// Catalogue identifier.
    pub id: String,
    /// Short name, used as `make`.
    pub name: String,
    /// Full legal or descriptive name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Town of the main plant.
    #[serde(default)]
    pub locality: Option<String>,
    /// Other names it is known by.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Known codes and marks (factory numbers, arsenal marks described in words, headstamps).
    #[serde(default)]
    pub codes: Vec<MarkSpec>,
}

/// A marking as the catalogue describes it; `text` may use the pattern syntax (`{yyyy}`, `#`…).
#[derive(Debug, Clone, Deserialize)]
pub struct MarkSpec {
    /// Marking kind (`factory_code`, `model`, `year`, …).
    pub kind: String,
    /// Text or pattern.
    pub text: String,
    /// Where on the weapon.
    #[serde(default)]
    pub component: Option<String>,
    /// Remark.
    #[serde(default)]
    pub note: Option<String>,
    /// Share of weapons of the model on which the registry records this marking.
    #[serde(default = "one")]
    pub share: f64,
}

fn one() -> f64 {
    1.0
}

/// A proof mark.
#[derive(Debug, Clone, Deserialize)]
pub struct ProofMark {
    /// Catalogue identifier.
    pub id: String,
    /// Text as recorded.
    pub text: String,
    /// Country of the proof house.
    pub country: String,
    /// Usual component.
    #[serde(default)]
    pub component: Option<String>,
    /// Description in words.
    pub description: String,
}

/// A weapon model.
#[derive(Debug, Clone, Deserialize)]
pub struct Model {
    /// Catalogue identifier (used as `catalogue_ref`).
    pub id: String,
    /// Manufacturer identifier.
    pub manufacturer: String,
    /// Model designation.
    pub model: String,
    /// `firearm` or `light_weapon`.
    pub kind: String,
    /// Weapon type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Calibre.
    pub calibre: String,
    /// Action.
    #[serde(default)]
    pub action: Option<String>,
    /// Magazine, belt or tube capacity.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// Barrel length.
    #[serde(default)]
    pub barrel_length_mm: Option<f64>,
    /// First and last year of production.
    pub years: [i32; 2],
    /// Licensed production or derivation.
    #[serde(default)]
    pub licence: Option<Licence>,
    /// Serial number patterns with relative weights.
    pub serials: Vec<SerialFormat>,
    /// Share of serials written in another digit script.
    #[serde(default)]
    pub digits: Option<DigitSpec>,
    /// Other markings.
    #[serde(default)]
    pub marks: Vec<MarkSpec>,
    /// Proof mark identifiers.
    #[serde(default)]
    pub proof: Vec<String>,
    /// Components that carry their own serial and may be recorded as parts.
    #[serde(default)]
    pub parts: Vec<String>,
    /// Relative frequency in each kind of holding.
    #[serde(default)]
    pub weights: Weights,
    /// Names the model is often (wrongly) recorded under.
    #[serde(default)]
    pub misrecorded_as: Vec<String>,
}

/// Licensed production relation.
#[derive(Debug, Clone, Deserialize)]
pub struct Licence {
    /// The model produced under licence (or copied / derived).
    pub of: String,
    /// The relation in words.
    pub relation: String,
}

/// A serial pattern.
#[derive(Debug, Clone, Deserialize)]
pub struct SerialFormat {
    /// Pattern (see the catalogue's `pattern_syntax`).
    pub pattern: String,
    /// Relative weight.
    #[serde(default = "one_u32")]
    pub weight: u32,
}

fn one_u32() -> u32 {
    1
}

/// Non-ASCII digit script used for a share of a model's serials.
#[derive(Debug, Clone, Deserialize)]
pub struct DigitSpec {
    /// `arabic_indic` (٠١٢…) or `persian` (۰۱۲…).
    pub script: String,
    /// Share of serials written in it.
    pub share: f64,
}

/// Relative frequency of a model in each kind of holding.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Weights {
    /// Armed forces.
    #[serde(default)]
    pub military: f64,
    /// Police and other armed state agencies.
    #[serde(default)]
    pub police: f64,
    /// Civilian market.
    #[serde(default)]
    pub civilian: f64,
    /// Illicit weapons seized in the region.
    #[serde(default)]
    pub illicit: f64,
}

/// An ammunition type.
#[derive(Debug, Clone, Deserialize)]
pub struct Ammunition {
    /// Catalogue identifier.
    pub id: String,
    /// Manufacturer identifier.
    pub manufacturer: String,
    /// Calibre.
    pub calibre: String,
    /// Designation.
    pub model: String,
    /// `cartridge`, `rocket`, …
    #[serde(rename = "type")]
    pub ty: String,
    /// Production years.
    pub years: [i32; 2],
    /// Headstamp pattern.
    #[serde(default)]
    pub headstamp: Option<String>,
    /// Lot number pattern.
    pub lot: String,
    /// Rounds per packaging unit.
    #[serde(default = "one_u32")]
    pub unit: u32,
    /// Relative frequency.
    #[serde(default = "one")]
    pub weight: f64,
    /// Other packaging marks.
    #[serde(default)]
    pub marks: Vec<MarkSpec>,
}

/// The catalogue could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError(pub String);

impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reference catalogue: {}", self.0)
    }
}

impl std::error::Error for CatalogueError {}

/// The embedded catalogue, parsed and checked once.
pub fn catalogue() -> Result<&'static Catalogue, CatalogueError> {
    compiled().map(|c| &c.raw)
}

/// A catalogue with resolved references and parsed patterns.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub raw: Catalogue,
    /// Manufacturer index of each model.
    pub model_maker: Vec<usize>,
    /// Parsed serial patterns of each model, with cumulative weights.
    pub model_serials: Vec<Vec<(Pattern, u32)>>,
    /// Parsed mark patterns of each model.
    pub model_marks: Vec<Vec<Pattern>>,
    /// Proof mark indices of each model.
    pub model_proofs: Vec<Vec<usize>>,
    /// Manufacturer index of each ammunition type.
    pub ammo_maker: Vec<usize>,
    pub ammo_lot: Vec<Pattern>,
    pub ammo_headstamp: Vec<Option<Pattern>>,
    pub ammo_marks: Vec<Vec<Pattern>>,
}

pub(crate) fn compiled() -> Result<&'static Compiled, CatalogueError> {
    static CELL: OnceLock<Result<Compiled, CatalogueError>> = OnceLock::new();
    CELL.get_or_init(|| compile(CATALOGUE_JSON))
        .as_ref()
        .map_err(Clone::clone)
}

pub(crate) fn is_alpha2(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn err<T>(msg: String) -> Result<T, CatalogueError> {
    Err(CatalogueError(msg))
}

fn compile(src: &str) -> Result<Compiled, CatalogueError> {
    let raw: Catalogue = serde_json::from_str(src).map_err(|e| CatalogueError(e.to_string()))?;
    let maker_index = |id: &str| raw.manufacturers.iter().position(|m| m.id == id);
    for m in &raw.manufacturers {
        if !is_alpha2(&m.country) {
            return err(format!(
                "manufacturer {}: bad country {:?}",
                m.id, m.country
            ));
        }
    }
    let mut model_maker = Vec::new();
    let mut model_serials = Vec::new();
    let mut model_marks = Vec::new();
    let mut model_proofs = Vec::new();
    for m in &raw.models {
        let Some(mk) = maker_index(&m.manufacturer) else {
            return err(format!(
                "model {}: unknown manufacturer {}",
                m.id, m.manufacturer
            ));
        };
        model_maker.push(mk);
        if m.years[0] > m.years[1] || m.years[0] < 1800 || m.years[1] > 2100 {
            return err(format!("model {}: bad years", m.id));
        }
        if m.kind != "firearm" && m.kind != "light_weapon" {
            return err(format!(
                "model {}: kind must be firearm or light_weapon",
                m.id
            ));
        }
        if let Some(l) = &m.licence {
            if !raw.models.iter().any(|o| o.id == l.of) {
                return err(format!("model {}: licence of unknown model {}", m.id, l.of));
            }
        }
        if let Some(d) = &m.digits {
            if d.script != "arabic_indic" && d.script != "persian" {
                return err(format!("model {}: unknown digit script {}", m.id, d.script));
            }
        }
        let mut serials = Vec::new();
        for s in &m.serials {
            let p = Pattern::parse(&s.pattern).map_err(CatalogueError)?;
            if p.digits() == 0 && p.letters() == 0 {
                return err(format!(
                    "model {}: serial pattern without variable part",
                    m.id
                ));
            }
            serials.push((p, s.weight.max(1)));
        }
        if serials.is_empty() {
            return err(format!("model {}: no serial format", m.id));
        }
        model_serials.push(serials);
        let mut marks = Vec::new();
        for s in &m.marks {
            marks.push(Pattern::parse(&s.text).map_err(CatalogueError)?);
        }
        model_marks.push(marks);
        let mut proofs = Vec::new();
        for p in &m.proof {
            let Some(i) = raw.proof_marks.iter().position(|x| &x.id == p) else {
                return err(format!("model {}: unknown proof mark {p}", m.id));
            };
            proofs.push(i);
        }
        model_proofs.push(proofs);
    }
    let mut ammo_maker = Vec::new();
    let mut ammo_lot = Vec::new();
    let mut ammo_headstamp = Vec::new();
    let mut ammo_marks = Vec::new();
    for a in &raw.ammunition {
        let Some(mk) = maker_index(&a.manufacturer) else {
            return err(format!(
                "ammunition {}: unknown manufacturer {}",
                a.id, a.manufacturer
            ));
        };
        if a.years[0] > a.years[1] {
            return err(format!("ammunition {}: bad years", a.id));
        }
        ammo_maker.push(mk);
        ammo_lot.push(Pattern::parse(&a.lot).map_err(CatalogueError)?);
        ammo_headstamp.push(match &a.headstamp {
            Some(h) => Some(Pattern::parse(h).map_err(CatalogueError)?),
            None => None,
        });
        let mut marks = Vec::new();
        for s in &a.marks {
            marks.push(Pattern::parse(&s.text).map_err(CatalogueError)?);
        }
        ammo_marks.push(marks);
    }
    if raw.models.is_empty() || raw.ammunition.is_empty() {
        return err("the catalogue needs models and ammunition".into());
    }
    Ok(Compiled {
        raw,
        model_maker,
        model_serials,
        model_marks,
        model_proofs,
        ammo_maker,
        ammo_lot,
        ammo_headstamp,
        ammo_marks,
    })
}

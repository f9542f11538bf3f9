//! Column → field mappings: detected from header names in English, French, Spanish and
//! Portuguese, or read from a small TOML (or JSON) mapping file. See the crate documentation for
//! the file format.

use crate::normalize::{fold, header_key, header_words};
use crate::values::{parse_acquisition, parse_kind, DateFormat};
use crate::ColumnRef;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use tracemark_domain::date::PartialDate;
use tracemark_domain::ids::CountryCode;
use tracemark_domain::model::{ActorKind, MarkingKind};

/// What a column holds: an item attribute, a marking, or part of an event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The registry's key for the item (`key`).
    Key,
    Kind,
    Type,
    Make,
    Model,
    Calibre,
    CountryOfManufacture,
    YearOfManufacture,
    NationalId,
    Action,
    LegalCategory,
    CatalogueRef,
    Note,
    Capacity,
    BarrelLengthMm,
    Quantity,
    Parent,
    /// A marking of the given kind (`serial`, `import`, `factory_code`, `other`…): the cell's
    /// text, exactly as written.
    Marking(String),
    /// Date of acquisition: gives an `imported` or `transferred` event (see `acquisition.type`).
    AcquisitionDate,
    /// How the item was acquired (import, purchase, donation, seizure…).
    AcquisitionType,
    /// The supplier: the acquisition event's `from.name`.
    AcquisitionFrom,
    /// The supplier's country: `from.country`.
    AcquisitionFromCountry,
    /// Licence, permit or invoice number of the acquisition: `documents[0].number`.
    AcquisitionDocument,
    /// Current holder: an `assigned` event to this holder.
    Holder,
    /// Date the current holder received the item.
    HolderDate,
    /// Status (stolen, lost, seized, destroyed…): the event that gives it.
    Status,
    /// Date of the status event.
    StatusDate,
    /// A column deliberately left out.
    Ignore,
}

impl Field {
    /// The name used in mapping files.
    pub fn name(&self) -> String {
        match self {
            Field::Key => "key".into(),
            Field::Kind => "kind".into(),
            Field::Type => "type".into(),
            Field::Make => "make".into(),
            Field::Model => "model".into(),
            Field::Calibre => "calibre".into(),
            Field::CountryOfManufacture => "country_of_manufacture".into(),
            Field::YearOfManufacture => "year_of_manufacture".into(),
            Field::NationalId => "national_id".into(),
            Field::Action => "action".into(),
            Field::LegalCategory => "legal_category".into(),
            Field::CatalogueRef => "catalogue_ref".into(),
            Field::Note => "note".into(),
            Field::Capacity => "capacity".into(),
            Field::BarrelLengthMm => "barrel_length_mm".into(),
            Field::Quantity => "quantity".into(),
            Field::Parent => "parent".into(),
            Field::Marking(kind) => format!("marking.{kind}"),
            Field::AcquisitionDate => "acquisition.date".into(),
            Field::AcquisitionType => "acquisition.type".into(),
            Field::AcquisitionFrom => "acquisition.from".into(),
            Field::AcquisitionFromCountry => "acquisition.from_country".into(),
            Field::AcquisitionDocument => "acquisition.document".into(),
            Field::Holder => "holder".into(),
            Field::HolderDate => "holder.date".into(),
            Field::Status => "status".into(),
            Field::StatusDate => "status.date".into(),
            Field::Ignore => "ignore".into(),
        }
    }

    /// Every field name a mapping file may use (markings as `marking.<kind>`).
    pub fn names() -> String {
        "key, kind, type, make, model, calibre, country_of_manufacture, year_of_manufacture, \
         national_id, action, legal_category, catalogue_ref, note, capacity, barrel_length_mm, \
         quantity, parent, marking.<kind> (serial, import, factory_code, proof, other…), \
         acquisition.date, acquisition.type, acquisition.from, acquisition.from_country, \
         acquisition.document, holder, holder.date, status, status.date, ignore"
            .to_owned()
    }

    /// Parses a field name as written in a mapping file. `serial`, `country` and `year` are
    /// accepted as short forms.
    pub fn parse(s: &str) -> Result<Field, String> {
        let s = s.trim();
        Ok(match s {
            "key" => Field::Key,
            "kind" => Field::Kind,
            "type" => Field::Type,
            "make" => Field::Make,
            "model" => Field::Model,
            "calibre" | "caliber" => Field::Calibre,
            "country_of_manufacture" | "country" => Field::CountryOfManufacture,
            "year_of_manufacture" | "year" => Field::YearOfManufacture,
            "national_id" => Field::NationalId,
            "action" => Field::Action,
            "legal_category" => Field::LegalCategory,
            "catalogue_ref" => Field::CatalogueRef,
            "note" => Field::Note,
            "capacity" => Field::Capacity,
            "barrel_length_mm" => Field::BarrelLengthMm,
            "quantity" => Field::Quantity,
            "parent" => Field::Parent,
            "serial" => Field::Marking("serial".into()),
            "acquisition.date" => Field::AcquisitionDate,
            "acquisition.type" => Field::AcquisitionType,
            "acquisition.from" => Field::AcquisitionFrom,
            "acquisition.from_country" => Field::AcquisitionFromCountry,
            "acquisition.document" => Field::AcquisitionDocument,
            "holder" | "holder.name" => Field::Holder,
            "holder.date" => Field::HolderDate,
            "status" => Field::Status,
            "status.date" => Field::StatusDate,
            "ignore" => Field::Ignore,
            other => {
                if let Some(kind) = other.strip_prefix("marking.") {
                    if MarkingKind::parse(kind).is_some() {
                        return Ok(Field::Marking(kind.to_owned()));
                    }
                    return Err(format!(
                        "'{kind}' is not a marking kind (one of: {})",
                        MarkingKind::expected()
                    ));
                }
                return Err(format!(
                    "'{other}' is not a field; fields are: {}",
                    Field::names()
                ));
            }
        })
    }

    /// Several columns may map to this field (each becomes its own marking).
    pub fn is_multi(&self) -> bool {
        matches!(self, Field::Marking(_) | Field::Ignore)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One entry of a mapping: a column (by header name, or by letter) and the field it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMap {
    /// A header name (compared ignoring case, accents and spacing), or a column letter (`C`)
    /// when no header has that name.
    pub column: String,
    pub field: Field,
    /// For markings: where the marking is (`slide`, `barrel`…).
    pub component: Option<String>,
}

/// A fixed actor declared in a mapping file (e.g. the agency that acquires every item).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub name: String,
    pub country: Option<String>,
    pub kind: Option<String>,
    pub licence: Option<String>,
}

/// How a register's columns become interchange records, with the file-wide declarations that a
/// row cannot carry (date format, register name, the date of the register's current state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Column → field entries.
    pub columns: Vec<ColumnMap>,
    /// Also detect, from their header names, the columns not listed (default true).
    pub detect: bool,
    /// The first row is a header (default true). Without one, columns are mapped by letter.
    pub header: bool,
    /// Name of the register, for keys derived when there is no key column (default: the file
    /// name without extension).
    pub register: Option<String>,
    /// Date order of the file; `ReadOptions::date_format` wins when both are given.
    pub date_format: Option<DateFormat>,
    /// Date of the register's current state (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`): used for the
    /// holder and status events of rows that give no date for them.
    pub as_of: Option<String>,
    /// Item kind when there is no kind column and the type implies none (default `firearm`).
    pub kind: Option<String>,
    /// The registry's state (alpha-2): an acquisition from a supplier in another country is an
    /// import when there is no acquisition type column.
    pub state: Option<String>,
    /// Event type of acquisitions when there is no acquisition type column (`imported`,
    /// `transferred`…).
    pub acquisition: Option<String>,
    /// The `to` actor of every acquisition event (the agency keeping the register).
    pub acquirer: Option<Actor>,
    /// `to.kind` of holder (`assigned`) events, e.g. `police` or `private_person`.
    pub holder_kind: Option<String>,
    /// `from.kind` of acquisition events, e.g. `dealer` or `exporter`.
    pub supplier_kind: Option<String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            columns: Vec::new(),
            detect: true,
            header: true,
            register: None,
            date_format: None,
            as_of: None,
            kind: None,
            state: None,
            acquisition: None,
            acquirer: None,
            holder_kind: None,
            supplier_kind: None,
        }
    }
}

/// A mapping file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("mapping file: {0}")]
pub struct MappingError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    version: Option<u32>,
    register: Option<String>,
    header: Option<bool>,
    detect: Option<bool>,
    date_format: Option<String>,
    as_of: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    acquisition: Option<String>,
    acquirer: Option<Actor>,
    holder_kind: Option<String>,
    supplier_kind: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, ColumnValue>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ColumnValue {
    Field(String),
    Full(ColumnFull),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFull {
    field: String,
    component: Option<String>,
}

fn check_actor_kind(k: &str, what: &str) -> Result<(), MappingError> {
    if ActorKind::parse(k).is_none() {
        return Err(MappingError(format!(
            "{what} '{k}' is not one of: {}",
            ActorKind::expected()
        )));
    }
    Ok(())
}

impl Mapping {
    /// Reads a mapping file: JSON when its name ends in `.json`, TOML otherwise.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MappingError(format!("cannot read {}: {e}", path.display())))?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Mapping::from_json(&text)
        } else {
            Mapping::from_toml(&text)
        }
    }

    /// Parses a TOML mapping file.
    pub fn from_toml(text: &str) -> Result<Mapping, MappingError> {
        let file: MappingFile =
            toml::from_str(text).map_err(|e| MappingError(e.to_string().trim().to_owned()))?;
        Mapping::from_file(file)
    }

    /// Parses a JSON mapping file (the same fields as the TOML form).
    pub fn from_json(text: &str) -> Result<Mapping, MappingError> {
        let file: MappingFile =
            serde_json::from_str(text).map_err(|e| MappingError(e.to_string()))?;
        Mapping::from_file(file)
    }

    fn from_file(f: MappingFile) -> Result<Mapping, MappingError> {
        if let Some(v) = f.version {
            if v != 1 {
                return Err(MappingError(format!(
                    "version {v} is not supported (this is version 1)"
                )));
            }
        }
        let date_format = match f.date_format {
            Some(s) => Some(s.parse::<DateFormat>().map_err(MappingError)?),
            None => None,
        };
        if let Some(d) = &f.as_of {
            PartialDate::parse(d).map_err(|m| MappingError(format!("as_of: {m}")))?;
        }
        if let Some(k) = &f.kind {
            if parse_kind(k).ok() != Some(k.as_str()) {
                return Err(MappingError(format!(
                    "kind '{k}' is not one of firearm, light_weapon, part, ammunition_lot, other"
                )));
            }
        }
        if let Some(s) = &f.state {
            CountryCode::parse(s).map_err(|m| MappingError(format!("state: {m}")))?;
        }
        if let Some(a) = &f.acquisition {
            let t = parse_acquisition(a).map_err(|b| MappingError(b.message))?;
            if t != a {
                return Err(MappingError(format!(
                    "acquisition '{a}': write the event type, '{t}'"
                )));
            }
        }
        if let Some(actor) = &f.acquirer {
            if actor.name.trim().is_empty() {
                return Err(MappingError("acquirer.name must not be empty".into()));
            }
            if let Some(c) = &actor.country {
                CountryCode::parse(c)
                    .map_err(|m| MappingError(format!("acquirer.country: {m}")))?;
            }
            if let Some(k) = &actor.kind {
                check_actor_kind(k, "acquirer.kind")?;
            }
        }
        if let Some(k) = &f.holder_kind {
            check_actor_kind(k, "holder_kind")?;
        }
        if let Some(k) = &f.supplier_kind {
            check_actor_kind(k, "supplier_kind")?;
        }
        let mut columns = Vec::new();
        for (column, value) in f.columns {
            let (field, component) = match value {
                ColumnValue::Field(s) => (s, None),
                ColumnValue::Full(full) => (full.field, full.component),
            };
            let field = Field::parse(&field)
                .map_err(|m| MappingError(format!("column \"{column}\": {m}")))?;
            if let Some(c) = &component {
                if c.trim().is_empty() || c.chars().count() > 64 || c.chars().any(char::is_control)
                {
                    return Err(MappingError(format!(
                        "column \"{column}\": component must be 1–64 characters (e.g. \"slide\")"
                    )));
                }
            }
            if component.is_some() && !matches!(field, Field::Marking(_)) {
                return Err(MappingError(format!(
                    "column \"{column}\": only markings have a component"
                )));
            }
            columns.push(ColumnMap {
                column,
                field,
                component,
            });
        }
        let header = f.header.unwrap_or(true);
        if !header {
            if let Some(c) = columns.iter().find(|c| letter_index(&c.column).is_none()) {
                return Err(MappingError(format!(
                    "header = false: columns are named by letter (A, B, …), not \"{}\"",
                    c.column
                )));
            }
        }
        Ok(Mapping {
            columns,
            detect: f.detect.unwrap_or(header),
            header,
            register: f.register,
            date_format,
            as_of: f.as_of,
            kind: f.kind,
            state: f.state,
            acquisition: f.acquisition,
            acquirer: f.acquirer,
            holder_kind: f.holder_kind,
            supplier_kind: f.supplier_kind,
        })
    }

    /// The mapping as a TOML mapping file (for a clerk to review and correct), with the
    /// columns it leaves out listed as comments.
    pub fn to_toml(&self) -> String {
        let mut s = String::from("# Tracemark mapping file (version 1)\nversion = 1\n");
        let opt = |s: &mut String, k: &str, v: &Option<String>| {
            if let Some(v) = v {
                s.push_str(&format!("{k} = {}\n", toml_str(v)));
            }
        };
        opt(&mut s, "register", &self.register);
        if !self.header {
            s.push_str("header = false\n");
        }
        s.push_str(&format!("detect = {}\n", self.detect));
        opt(
            &mut s,
            "date_format",
            &self.date_format.map(|d| d.to_string()),
        );
        opt(&mut s, "as_of", &self.as_of);
        opt(&mut s, "kind", &self.kind);
        opt(&mut s, "state", &self.state);
        opt(&mut s, "acquisition", &self.acquisition);
        opt(&mut s, "holder_kind", &self.holder_kind);
        opt(&mut s, "supplier_kind", &self.supplier_kind);
        if let Some(a) = &self.acquirer {
            s.push_str(&format!("acquirer = {{ name = {}", toml_str(&a.name)));
            for (k, v) in [
                ("country", &a.country),
                ("kind", &a.kind),
                ("licence", &a.licence),
            ] {
                if let Some(v) = v {
                    s.push_str(&format!(", {k} = {}", toml_str(v)));
                }
            }
            s.push_str(" }\n");
        }
        s.push_str("\n[columns]\n");
        for c in &self.columns {
            match &c.component {
                None => s.push_str(&format!(
                    "{} = {}\n",
                    toml_str(&c.column),
                    toml_str(&c.field.name())
                )),
                Some(comp) => s.push_str(&format!(
                    "{} = {{ field = {}, component = {} }}\n",
                    toml_str(&c.column),
                    toml_str(&c.field.name()),
                    toml_str(comp)
                )),
            }
        }
        s
    }
}

fn toml_str(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The 0-based index of a column letter (`A` → 0, `AA` → 26), for 1–3 upper-case letters.
pub fn letter_index(s: &str) -> Option<usize> {
    let s = s.trim();
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut n = 0usize;
    for b in s.bytes() {
        n = n * 26 + usize::from(b - b'A') + 1;
    }
    Some(n - 1)
}

/// A column that the detection could not decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguity {
    /// The columns concerned.
    pub columns: Vec<ColumnRef>,
    /// The fields they could hold.
    pub fields: Vec<Field>,
    /// Why, in words.
    pub message: String,
}

/// The result of detecting a mapping from header names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingGuess {
    /// The columns recognised, each by its header name (or letter when the name is empty or
    /// repeated).
    pub mapping: Mapping,
    /// Columns whose header names nothing known: their values are not imported.
    pub unmapped: Vec<ColumnRef>,
    /// Columns left out because they could hold several fields, or because several columns
    /// look like the same field.
    pub ambiguous: Vec<Ambiguity>,
}

/// Header names of each field, in English, French, Spanish and Portuguese (and a few Russian
/// ones), compared after folding (case, accents, punctuation, "n°"/"número", articles).
#[rustfmt::skip]
fn synonyms() -> Vec<(Field, &'static [&'static str])> {
    vec![
        (
            Field::Key,
            &[
                "key", "registry number", "register number", "registration number",
                "record number", "registry id", "record id", "reference", "ref",
                "inventory number", "registration", "n° d'enregistrement",
                "numéro d'enregistrement", "n° de registre", "numéro de registre", "référence",
                "n° d'inventaire", "inventaire", "matricule", "clé", "identifiant",
                "número de registro", "registro", "n° de registro", "número de inventario",
                "inventario", "clave", "referencia", "número de registo", "registo", "chave",
                "inventário", "referência", "регистрационный номер", "учетный номер",
            ],
        ),
        (
            Field::Marking("serial".into()),
            &[
                "serial", "serial number", "serial no", "sn", "serial n°", "n° de série",
                "numéro de série", "série", "no de série", "número de serie", "serie", "nº serie",
                "no de serie", "número de série", "nº série", "série da arma", "серийный номер",
                "заводской номер", "серия",
            ],
        ),
        (
            Field::Marking("import".into()),
            &[
                "import mark", "import marking", "import serial", "marquage d'importation",
                "marque d'importation", "marquage import", "marcaje de importación",
                "marca de importación", "marcado de importación", "marcação de importação",
                "marca de importação",
            ],
        ),
        (
            Field::Marking("other".into()),
            &[
                "other markings", "other marks", "markings", "additional markings",
                "autres marquages", "marquages", "autres marques", "otros marcajes", "marcajes",
                "otras marcas", "marcados", "outras marcações", "marcações", "outras marcas",
                "маркировка",
            ],
        ),
        (
            Field::Make,
            &[
                "make", "manufacturer", "maker", "brand", "producer", "marque", "fabricant",
                "constructeur", "marca", "fabricante", "производитель", "изготовитель", "марка",
            ],
        ),
        (Field::Model, &["model", "modèle", "modelo", "модель"]),
        (
            Field::Calibre,
            &[
                "calibre", "caliber", "cal", "gauge", "calibre/gauge", "calibre (mm)", "calibre",
                "calibre", "calibre", "калибр",
            ],
        ),
        (
            Field::Type,
            &[
                "type", "weapon type", "type of weapon", "firearm type", "type d'arme",
                "type de l'arme", "genre", "tipo", "tipo de arma", "тип", "вид оружия",
                "тип оружия",
            ],
        ),
        (
            Field::Kind,
            &["kind", "item kind", "nature de l'objet", "clase de objeto"],
        ),
        (
            Field::CountryOfManufacture,
            &[
                "country of manufacture", "country of origin", "origin", "country", "made in",
                "manufacturing country", "producing country", "pays de fabrication",
                "pays d'origine", "pays", "origine", "pays de production", "país de fabricación",
                "país de origen", "país", "origen", "país de producción", "país de fabricação",
                "país de origem", "origem", "país de produção", "страна", "страна производства",
                "страна изготовления",
            ],
        ),
        (
            Field::YearOfManufacture,
            &[
                "year", "year of manufacture", "manufacture year", "year made",
                "year of production", "année", "année de fabrication", "année de production",
                "año", "año de fabricación", "año de producción", "ano", "ano de fabricação",
                "ano de produção", "год", "год выпуска", "год изготовления",
            ],
        ),
        (
            Field::NationalId,
            &[
                "national id", "national number", "national identifier", "identifiant national",
                "n° national", "identificador nacional", "número nacional",
                "número nacional de identificação",
            ],
        ),
        (
            Field::Action,
            &[
                "action", "mechanism", "mécanisme", "fonctionnement", "mecanismo",
                "funcionamiento", "funcionamento",
            ],
        ),
        (
            Field::LegalCategory,
            &[
                "category", "legal category", "catégorie", "catégorie légale", "categoría",
                "categoria", "categoria legal", "категория",
            ],
        ),
        (
            Field::Capacity,
            &[
                "capacity", "magazine capacity", "capacité", "capacidad", "capacidade",
                "ёмкость магазина",
            ],
        ),
        (
            Field::BarrelLengthMm,
            &[
                "barrel length", "barrel length (mm)", "longueur du canon", "longueur canon",
                "longitud del cañón", "longitud de cañón", "comprimento do cano", "длина ствола",
            ],
        ),
        (
            Field::Parent,
            &[
                "parent", "parent key", "parent weapon", "parent item", "belongs to",
                "arme parente", "arme d'origine", "appartient à", "arma principal", "pertenece a",
                "arma de origen", "pertence a", "arma de origem",
            ],
        ),
        (
            Field::Quantity,
            &[
                "quantity", "rounds", "quantité", "cantidad", "quantidade", "количество",
            ],
        ),
        (
            Field::Note,
            &[
                "note", "notes", "remarks", "remark", "comments", "comment", "observations",
                "remarques", "remarque", "commentaire", "commentaires", "observation",
                "observaciones", "observación", "notas", "nota", "comentarios", "observações",
                "observação", "comentários", "примечание", "примечания",
            ],
        ),
        (
            Field::AcquisitionDate,
            &[
                "date of acquisition", "acquisition date", "date acquired", "acquired on",
                "date of purchase", "purchase date", "date of import", "import date",
                "date of entry", "date of receipt", "date received", "date d'acquisition",
                "date d'achat", "date d'importation", "date d'entrée", "date de réception",
                "acquis le", "fecha de adquisición", "fecha de compra", "fecha de importación",
                "fecha de ingreso", "fecha de entrada", "fecha de recepción", "data de aquisição",
                "data de compra", "data de importação", "data de entrada", "data de receção",
                "data de recebimento", "дата приобретения", "дата поступления",
            ],
        ),
        (
            Field::AcquisitionType,
            &[
                "acquisition type", "type of acquisition", "mode of acquisition", "acquired by",
                "mode d'acquisition", "type d'acquisition", "mode d'entrée", "tipo de adquisición",
                "modo de adquisición", "forma de adquisición", "tipo de aquisição",
                "modo de aquisição", "forma de aquisição", "способ приобретения",
            ],
        ),
        (
            Field::AcquisitionFrom,
            &[
                "supplier", "vendor", "seller", "acquired from", "source", "supplied by",
                "exporter", "fournisseur", "vendeur", "provenance", "cédant", "exportateur",
                "proveedor", "vendedor", "procedencia", "exportador", "fornecedor", "procedência",
                "поставщик", "продавец",
            ],
        ),
        (
            Field::AcquisitionFromCountry,
            &[
                "supplier country", "country of supplier", "country of export",
                "exporting country", "pays du fournisseur", "pays d'exportation",
                "pays de provenance", "país del proveedor", "país de exportación",
                "país de procedencia", "país do fornecedor", "país de exportação",
                "país de procedência", "страна поставщика",
            ],
        ),
        (
            Field::AcquisitionDocument,
            &[
                "import licence", "import license", "import permit", "licence number",
                "license number", "permit number", "invoice", "invoice number",
                "end user certificate", "licence d'importation", "autorisation d'importation",
                "n° de licence", "permis", "facture", "n° de facture", "licencia de importación",
                "permiso de importación", "número de licencia", "factura", "licença de importação",
                "autorização de importação", "número de licença", "fatura", "лицензия",
                "разрешение",
            ],
        ),
        (
            Field::Holder,
            &[
                "holder", "current holder", "owner", "assigned to", "held by", "user", "custodian",
                "unit", "détenteur", "titulaire", "propriétaire", "affecté à", "affectation",
                "attributaire", "unité", "dépositaire", "titular", "poseedor", "tenedor",
                "propietario", "asignado a", "usuario", "unidad", "depositario", "tenedor actual",
                "detentor", "portador", "proprietário", "atribuído a", "utilizador", "usuário",
                "unidade", "depositário", "владелец", "закреплено за",
            ],
        ),
        (
            Field::HolderDate,
            &[
                "assignment date", "date of assignment", "assigned on", "holder since",
                "holder date", "date of holder",
                "date of issue", "date d'affectation", "date d'attribution", "date de remise",
                "affecté le", "fecha de asignación", "fecha de entrega", "asignado el",
                "data de atribuição", "data de afetação", "data de entrega", "дата закрепления",
                "дата выдачи",
            ],
        ),
        (
            Field::Status,
            &[
                "status", "state", "current status", "situation", "statut", "état",
                "situation actuelle", "estado", "situación", "estatus", "estado actual",
                "situação", "estado atual", "статус", "состояние",
            ],
        ),
        (
            Field::StatusDate,
            &[
                "status date", "date of status", "date of loss", "date of theft", "date of event",
                "date of seizure", "date of destruction", "date lost", "date stolen",
                "date du statut", "date de l'état", "date de perte", "date du vol",
                "date de saisie", "date de destruction", "date de l'événement", "fecha del estado",
                "fecha de pérdida", "fecha del robo", "fecha de robo", "fecha de incautación",
                "fecha de destrucción", "fecha del evento", "data do estado", "data da perda",
                "data do roubo", "data de apreensão", "data da destruição", "data do evento",
                "дата утраты", "дата хищения", "дата изъятия",
            ],
        ),
    ]
}

/// Headers that could be any of several dates: never guessed.
const BARE_DATES: &[&str] = &["date", "fecha", "data", "дата", "dates", "fechas", "datas"];

/// Recognises columns from their header names (English, French, Spanish, Portuguese; case,
/// accents, spacing, punctuation and "n°"/"number" ignored). A header names a field when it is
/// one of the field's usual names, or else when it contains all the words of one (the most
/// specific wins: "Date d'acquisition (jj/mm/aaaa)" is `acquisition.date`). Columns that could
/// be several fields, and fields claimed by several columns, are left out and reported.
pub fn detect_mapping(headers: &[String]) -> MappingGuess {
    let table: Vec<(Field, Vec<Vec<String>>)> = synonyms()
        .into_iter()
        .map(|(f, names)| (f, names.iter().map(|n| header_words(n)).collect()))
        .collect();
    let bare_dates: Vec<String> = BARE_DATES.iter().map(|d| header_key(d)).collect();
    let date_fields = || vec![Field::AcquisitionDate, Field::HolderDate, Field::StatusDate];
    let columns: Vec<ColumnRef> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| ColumnRef::new(i, h))
        .collect();

    let mut ambiguous = Vec::new();
    let mut unmapped = Vec::new();
    let mut chosen: Vec<(usize, Field)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let words = header_words(h);
        if words.is_empty() {
            unmapped.push(columns[i].clone());
            continue;
        }
        let key = words.join(" ");
        let mut exact: Vec<Field> = table
            .iter()
            .filter(|(_, names)| names.iter().any(|n| n.join(" ") == key))
            .map(|(f, _)| f.clone())
            .collect();
        if exact.is_empty() && bare_dates.contains(&key) {
            exact = date_fields();
        }
        let candidates = if exact.is_empty() {
            // Containment: the header has every word of a usual name; keep the longest names.
            let mut best = 0usize;
            let mut fields: Vec<Field> = Vec::new();
            for (f, names) in &table {
                for n in names {
                    if !n.is_empty() && n.iter().all(|w| words.contains(w)) {
                        if n.len() > best {
                            best = n.len();
                            fields.clear();
                        }
                        if n.len() == best && !fields.contains(f) {
                            fields.push(f.clone());
                        }
                    }
                }
            }
            if fields.is_empty() && words.iter().any(|w| bare_dates.contains(w)) {
                fields = date_fields();
            }
            fields
        } else {
            exact
        };
        match candidates.len() {
            0 => unmapped.push(columns[i].clone()),
            1 => chosen.push((i, candidates[0].clone())),
            _ => ambiguous.push(Ambiguity {
                columns: vec![columns[i].clone()],
                message: format!(
                    "column {} could be {}",
                    columns[i],
                    candidates
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                fields: candidates,
            }),
        }
    }

    // A field claimed by several columns is not guessed (markings excepted: each column is a
    // marking of its own).
    let mut by_field: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
    for (i, f) in &chosen {
        by_field.entry(f.clone()).or_default().push(*i);
    }
    let mut mapping = Mapping::default();
    for (i, f) in &chosen {
        let claimed = &by_field[f];
        if claimed.len() > 1 && !f.is_multi() {
            if claimed[0] == *i {
                let cols: Vec<ColumnRef> = claimed.iter().map(|c| columns[*c].clone()).collect();
                ambiguous.push(Ambiguity {
                    message: format!(
                        "columns {} all look like {}",
                        cols.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                        f.name()
                    ),
                    columns: cols,
                    fields: vec![f.clone()],
                });
            }
            continue;
        }
        let name = &headers[*i];
        let repeated = headers.iter().filter(|h| h.trim() == name.trim()).count() > 1;
        mapping.columns.push(ColumnMap {
            column: if repeated || letter_index(name).is_some() {
                crate::column_letter(*i)
            } else {
                name.trim().to_owned()
            },
            field: f.clone(),
            component: None,
        });
    }
    ambiguous.sort_by_key(|a| a.columns.first().map(|c| c.index));
    MappingGuess {
        mapping,
        unmapped,
        ambiguous,
    }
}

impl MappingGuess {
    /// The detected mapping as a mapping file to review: recognised columns as entries,
    /// unmapped and ambiguous ones as comments to complete.
    pub fn to_toml(&self) -> String {
        let mut s = self.mapping.to_toml();
        if !self.ambiguous.is_empty() || !self.unmapped.is_empty() {
            s.push_str("\n# To decide (replace ? by a field, or by \"ignore\"):\n");
        }
        for a in &self.ambiguous {
            s.push_str(&format!("# {}\n", a.message));
            for c in &a.columns {
                s.push_str(&format!("# {} = \"?\"\n", toml_str(&column_id(c))));
            }
        }
        for c in &self.unmapped {
            s.push_str(&format!(
                "# {} = \"?\"   # not recognised\n",
                toml_str(&column_id(c))
            ));
        }
        s
    }
}

fn column_id(c: &ColumnRef) -> String {
    if c.header.trim().is_empty() {
        c.letter.clone()
    } else {
        c.header.trim().to_owned()
    }
}

/// True when a header name equals a mapping entry's column, ignoring case, accents and spacing.
pub fn same_header(header: &str, column: &str) -> bool {
    header.trim() == column.trim() || fold(header) == fold(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn field_of(g: &MappingGuess, column: &str) -> Option<Field> {
        g.mapping
            .columns
            .iter()
            .find(|c| c.column == column)
            .map(|c| c.field.clone())
    }

    #[test]
    fn toml_round_trip() {
        let text = r#"
version = 1
register = "police-nord"
date_format = "DMY"
as_of = "2024-06-30"
state = "KE"
acquirer = { name = "Kenya Police Service", kind = "police", country = "KE" }
holder_kind = "police"

[columns]
"N° de série" = "marking.serial"
"Culasse" = { field = "marking.serial", component = "slide" }
"Marque" = "make"
C = "model"
"Observations" = "ignore"
"#;
        let m = Mapping::from_toml(text).unwrap();
        assert_eq!(m.date_format, Some(DateFormat::DMY));
        assert_eq!(m.columns.len(), 5);
        assert!(m.columns.iter().any(|c| c.column == "Culasse"
            && c.field == Field::Marking("serial".into())
            && c.component.as_deref() == Some("slide")));
        let again = Mapping::from_toml(&m.to_toml()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn json_mapping_and_errors() {
        let m = Mapping::from_json(
            r#"{"columns":{"Serial":"serial","Make":"make"},"date_format":"MDY"}"#,
        )
        .unwrap();
        assert_eq!(m.columns.len(), 2);
        assert!(Mapping::from_toml("[columns]\nA = \"colour\"")
            .unwrap_err()
            .0
            .contains("not a field"));
        assert!(Mapping::from_toml("[columns]\nA = \"marking.paint\"").is_err());
        assert!(Mapping::from_toml("state = \"SU\"").is_err());
        assert!(Mapping::from_toml("as_of = \"31/12/2020\"").is_err());
        assert!(Mapping::from_toml("colour = 1").is_err());
        assert!(Mapping::from_toml("header = false\n[columns]\nSerial = \"serial\"").is_err());
        let m =
            Mapping::from_toml("header = false\n[columns]\nA = \"serial\"\nB = \"make\"").unwrap();
        assert!(!m.header && !m.detect);
    }

    #[test]
    fn letters() {
        assert_eq!(letter_index("A"), Some(0));
        assert_eq!(letter_index("Z"), Some(25));
        assert_eq!(letter_index("AA"), Some(26));
        assert_eq!(letter_index("a"), None);
        assert_eq!(crate::column_letter(0), "A");
        assert_eq!(crate::column_letter(27), "AB");
        for i in 0..2000 {
            assert_eq!(letter_index(&crate::column_letter(i)), Some(i));
        }
    }

    #[test]
    fn detects_english() {
        let g = detect_mapping(&h(&[
            "Registry number",
            "Serial number",
            "Make",
            "Model",
            "Caliber",
            "Type",
            "Country of manufacture",
            "Year",
            "Date of acquisition",
            "Supplier",
            "Holder",
            "Status",
            "Status date",
            "Remarks",
            "Colour",
        ]));
        assert_eq!(field_of(&g, "Registry number"), Some(Field::Key));
        assert_eq!(
            field_of(&g, "Serial number"),
            Some(Field::Marking("serial".into()))
        );
        assert_eq!(field_of(&g, "Make"), Some(Field::Make));
        assert_eq!(field_of(&g, "Caliber"), Some(Field::Calibre));
        assert_eq!(
            field_of(&g, "Country of manufacture"),
            Some(Field::CountryOfManufacture)
        );
        assert_eq!(
            field_of(&g, "Date of acquisition"),
            Some(Field::AcquisitionDate)
        );
        assert_eq!(field_of(&g, "Supplier"), Some(Field::AcquisitionFrom));
        assert_eq!(field_of(&g, "Holder"), Some(Field::Holder));
        assert_eq!(field_of(&g, "Status date"), Some(Field::StatusDate));
        assert_eq!(field_of(&g, "Remarks"), Some(Field::Note));
        assert_eq!(g.unmapped.len(), 1);
        assert_eq!(g.unmapped[0].header, "Colour");
        assert!(g.ambiguous.is_empty());
    }

    #[test]
    fn detects_french() {
        let g = detect_mapping(&h(&[
            "N° d'enregistrement",
            "N° de série",
            "Marque",
            "Modèle",
            "Calibre",
            "Type",
            "Pays de fabrication",
            "Année",
            "Date d'acquisition",
            "Fournisseur",
            "Détenteur",
            "Statut",
            "Date du vol",
        ]));
        assert_eq!(field_of(&g, "N° d'enregistrement"), Some(Field::Key));
        assert_eq!(
            field_of(&g, "N° de série"),
            Some(Field::Marking("serial".into()))
        );
        assert_eq!(field_of(&g, "Marque"), Some(Field::Make));
        assert_eq!(field_of(&g, "Modèle"), Some(Field::Model));
        assert_eq!(
            field_of(&g, "Pays de fabrication"),
            Some(Field::CountryOfManufacture)
        );
        assert_eq!(field_of(&g, "Année"), Some(Field::YearOfManufacture));
        assert_eq!(
            field_of(&g, "Date d'acquisition"),
            Some(Field::AcquisitionDate)
        );
        assert_eq!(field_of(&g, "Détenteur"), Some(Field::Holder));
        assert_eq!(field_of(&g, "Statut"), Some(Field::Status));
        assert_eq!(field_of(&g, "Date du vol"), Some(Field::StatusDate));
        assert!(g.unmapped.is_empty() && g.ambiguous.is_empty(), "{g:?}");
    }

    #[test]
    fn detects_spanish_and_portuguese_case_accent_space_insensitive() {
        let g = detect_mapping(&h(&[
            "NÚMERO DE REGISTRO",
            "numero  de serie",
            "Marca",
            "modelo",
            "CALIBRE",
            "tipo",
            "País de Fabricación",
            "año",
            "Fecha de adquisición",
            "Titular",
            "Estado",
        ]));
        assert_eq!(field_of(&g, "NÚMERO DE REGISTRO"), Some(Field::Key));
        assert_eq!(
            field_of(&g, "numero  de serie"),
            Some(Field::Marking("serial".into()))
        );
        assert_eq!(field_of(&g, "Marca"), Some(Field::Make));
        assert_eq!(
            field_of(&g, "País de Fabricación"),
            Some(Field::CountryOfManufacture)
        );
        assert_eq!(
            field_of(&g, "Fecha de adquisición"),
            Some(Field::AcquisitionDate)
        );
        assert_eq!(field_of(&g, "Titular"), Some(Field::Holder));
        assert_eq!(field_of(&g, "Estado"), Some(Field::Status));
        let g = detect_mapping(&h(&[
            "Número de série",
            "Fabricante",
            "Modelo",
            "Calibre",
            "País de fabricação",
            "Ano de fabricação",
            "Data de aquisição",
            "Detentor",
            "Situação",
        ]));
        assert_eq!(
            field_of(&g, "Número de série"),
            Some(Field::Marking("serial".into()))
        );
        assert_eq!(field_of(&g, "Fabricante"), Some(Field::Make));
        assert_eq!(
            field_of(&g, "País de fabricação"),
            Some(Field::CountryOfManufacture)
        );
        assert_eq!(
            field_of(&g, "Ano de fabricação"),
            Some(Field::YearOfManufacture)
        );
        assert_eq!(
            field_of(&g, "Data de aquisição"),
            Some(Field::AcquisitionDate)
        );
        assert_eq!(field_of(&g, "Detentor"), Some(Field::Holder));
        assert_eq!(field_of(&g, "Situação"), Some(Field::Status));
        assert!(g.unmapped.is_empty() && g.ambiguous.is_empty(), "{g:?}");
    }

    #[test]
    fn containment_and_ambiguity() {
        let g = detect_mapping(&h(&[
            "Date d'acquisition (jj/mm/aaaa)",
            "Date",
            "Marque",
            "Fabricant",
            "Marque et modèle",
            "Serial (frame)",
            "Serial (slide)",
        ]));
        assert_eq!(
            field_of(&g, "Date d'acquisition (jj/mm/aaaa)"),
            Some(Field::AcquisitionDate)
        );
        // "Date" alone could be any date; two columns claim make; "Marque et modèle" is both.
        let msgs: Vec<&str> = g.ambiguous.iter().map(|a| a.message.as_str()).collect();
        assert_eq!(g.ambiguous.len(), 3, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("B \"Date\"")), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.contains("C \"Marque\", D \"Fabricant\"")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("E \"Marque et modèle\"")),
            "{msgs:?}"
        );
        // Two serial columns are two serial markings.
        assert_eq!(
            field_of(&g, "Serial (frame)"),
            Some(Field::Marking("serial".into()))
        );
        assert_eq!(
            field_of(&g, "Serial (slide)"),
            Some(Field::Marking("serial".into()))
        );
        let text = g.to_toml();
        assert!(text.contains("# \"Date\" = \"?\""), "{text}");
        Mapping::from_toml(&text).unwrap();
    }
}

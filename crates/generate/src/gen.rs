//! The generator: a streaming state machine writing one item (with its events) at a time.
//!
//! Per-item state lives in a few reusable buffers (an arena of strings, the markings and the
//! events of the current item); across items only a ring of recent weapons (for parts), the
//! current shipment and key counters are kept, so memory does not grow with the item count.

use std::fmt::Write as _;
use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalogue::{Compiled, Model};
use crate::date::{
    civil_from_days, days_from_civil, jan1, month_start, next_month_start, sort_key, write_date,
    year_of, Prec, MAX_DAY,
};
use crate::json::{fixed4, num, push_uint, string, uint, Obj};
use crate::pattern::{Fill, Pattern, Script};
use crate::profile::{cc, fill, Loc, Profile, Role};
use crate::{GenerateOptions, GenerateStats};

/// Writes `,"name":` from a compile-time fragment.
macro_rules! field {
    ($out:expr, $name:literal) => {
        $out.extend_from_slice(concat!(",\"", $name, "\":").as_bytes())
    };
}

/// Writes `,"name":"value"` when the arena span is present.
macro_rules! opt_field {
    ($out:expr, $ar:expr, $pl:expr, $name:literal, $v:expr) => {
        if let Some(v) = $v {
            field!($out, $name);
            string($out, $ar.get(v), $pl);
        }
    };
}

/// Earliest year any generated record is registered in.
const FIRST_YEAR: i32 = 1800;
const YEARS: usize = 301;
const RING: usize = 256;
/// Output is handed to the writer in chunks of about this size.
const OUT_BUFFER: usize = 1 << 16;

// ---------------------------------------------------------------------------------------------
// Per-item scratch data

/// A span of the arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct S(u32, u32);

#[derive(Default)]
struct Arena(String);

impl Arena {
    fn put(&mut self, s: &str) -> S {
        let a = self.0.len() as u32;
        self.0.push_str(s);
        S(a, self.0.len() as u32)
    }

    fn mark(&self) -> u32 {
        self.0.len() as u32
    }

    fn since(&self, a: u32) -> S {
        S(a, self.0.len() as u32)
    }

    fn get(&self, s: S) -> &str {
        self.0.get(s.0 as usize..s.1 as usize).unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy)]
struct Actor {
    name: S,
    country: [u8; 2],
    kind: &'static str,
    licence: Option<S>,
}

#[derive(Debug, Clone, Copy)]
struct Place {
    country: [u8; 2],
    admin1: Option<S>,
    locality: Option<S>,
    ll: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct Doc {
    kind: &'static str,
    number: S,
    issued_by: Option<[u8; 2]>,
}

#[derive(Debug, Clone, Copy)]
enum Corr {
    Item,
    Event(u32),
}

#[derive(Debug, Clone, Copy)]
struct Ev {
    ty: &'static str,
    day: i32,
    want: Prec,
    prec: Prec,
    id: Option<u32>,
    from: Option<Actor>,
    to: Option<Actor>,
    place: Option<Place>,
    docs: [Option<Doc>; 2],
    note: Option<S>,
    part: Option<S>,
    corrects: Option<Corr>,
    set: Option<S>,
    void: bool,
    extra: Option<(&'static str, S)>,
    /// A duplicate entry, to be voided by a correction.
    dup: bool,
}

impl Ev {
    fn new(ty: &'static str, day: i32, want: Prec) -> Ev {
        Ev {
            ty,
            day,
            want,
            prec: want,
            id: None,
            from: None,
            to: None,
            place: None,
            docs: [None, None],
            note: None,
            part: None,
            corrects: None,
            set: None,
            void: false,
            extra: None,
            dup: false,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    kind: &'static str,
    text: S,
    component: Option<S>,
    legibility: Option<&'static str>,
    note: Option<S>,
}

#[derive(Debug, Clone, Copy)]
struct Item {
    kind: &'static str,
    ty: S,
    make: Option<S>,
    model: Option<S>,
    calibre: Option<S>,
    country: Option<[u8; 2]>,
    year: Option<i32>,
    action: Option<S>,
    capacity: Option<u32>,
    barrel: Option<f64>,
    catalogue_ref: Option<S>,
    parent: Option<S>,
    quantity: Option<u64>,
    note: Option<S>,
    legacy: Option<S>,
}

impl Item {
    fn new(kind: &'static str, ty: S) -> Item {
        Item {
            kind,
            ty,
            make: None,
            model: None,
            calibre: None,
            country: None,
            year: None,
            action: None,
            capacity: None,
            barrel: None,
            catalogue_ref: None,
            parent: None,
            quantity: None,
            note: None,
            legacy: None,
        }
    }
}

/// Key prefixes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Weapon = 0,
    Part = 1,
    Lot = 2,
}

/// A recently written weapon, for parts.
#[derive(Default)]
struct Recent {
    key: String,
    model: usize,
    year: i32,
    year_known: bool,
    last_day: i32,
    next_n: u32,
    /// In state or civilian custody: a component may be fitted.
    ok: bool,
    agency: Option<usize>,
}

/// A consignment of consecutive serials imported under one licence.
struct Shipment {
    model: usize,
    agency: usize,
    unit: usize,
    man_day: i32,
    export_day: Option<i32>,
    import_day: i32,
    transfer_day: i32,
    el: u32,
    il: u32,
    euc: Option<u32>,
    port: usize,
    pattern: usize,
    letters: u64,
    base: u64,
    count: u32,
    next: u32,
    script: Script,
    import_mark: bool,
    theft: Option<Theft>,
}

#[derive(Clone, Copy)]
struct Theft {
    day: i32,
    ob: u32,
    share: f64,
}

/// How a state weapon reaches the registry.
#[derive(Clone, Copy)]
struct StatePlan {
    model: usize,
    agency: usize,
    unit: usize,
    man_day: i32,
    export_day: Option<i32>,
    import_day: i32,
    transfer_day: i32,
    el: u32,
    il: u32,
    euc: Option<u32>,
    port: usize,
    local: bool,
    serial: SerialChoice,
    import_mark: bool,
    theft: Option<Theft>,
}

#[derive(Clone, Copy)]
struct SerialChoice {
    pattern: usize,
    number: u64,
    letters: u64,
    script: Script,
}

/// Weighted choice.
struct Table {
    idx: Vec<usize>,
    cum: Vec<f64>,
}

impl Table {
    fn new(weights: impl Iterator<Item = f64>) -> Table {
        let mut idx = Vec::new();
        let mut cum = Vec::new();
        let mut total = 0.0;
        for (i, w) in weights.enumerate() {
            if w > 0.0 {
                total += w;
                idx.push(i);
                cum.push(total);
            }
        }
        Table { idx, cum }
    }

    fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    fn pick(&self, u: f64) -> usize {
        let total = self.cum.last().copied().unwrap_or(0.0);
        let x = u * total;
        let i = self
            .cum
            .partition_point(|c| *c <= x)
            .min(self.idx.len() - 1);
        self.idx[i]
    }
}

struct Tables {
    military: Table,
    police: Table,
    civilian: Table,
    illicit: Table,
    ammo: Table,
    agencies: Table,
    military_agencies: Table,
}

// ---------------------------------------------------------------------------------------------

pub(crate) struct Gen<W: Write> {
    cat: &'static Compiled,
    p: Profile,
    rng: ChaCha8Rng,
    out: W,
    line: Vec<u8>,
    tmp: Vec<u8>,
    ar: Arena,
    marks: Vec<Mark>,
    evs: Vec<Ev>,
    key: String,
    counters: Vec<u32>,
    ring: Vec<Recent>,
    ring_len: usize,
    ring_pos: usize,
    ship: Option<Shipment>,
    t: Tables,
    /// No generated string needs JSON escaping (all sources are plain).
    plain: bool,
    pub(crate) stats: GenerateStats,
}

fn model_weight(m: &Model, role: Role) -> f64 {
    match role {
        Role::Military => m.weights.military,
        Role::Police => m.weights.police,
    }
}

impl<W: Write> Gen<W> {
    pub(crate) fn new(
        cat: &'static Compiled,
        p: Profile,
        opts: &GenerateOptions,
        out: W,
    ) -> io::Result<Gen<W>> {
        let models = &cat.raw.models;
        let t = Tables {
            military: Table::new(models.iter().map(|m| model_weight(m, Role::Military))),
            police: Table::new(models.iter().map(|m| model_weight(m, Role::Police))),
            civilian: Table::new(models.iter().map(|m| m.weights.civilian)),
            illicit: Table::new(models.iter().map(|m| m.weights.illicit)),
            ammo: Table::new(cat.raw.ammunition.iter().map(|a| a.weight)),
            agencies: Table::new(p.agencies.iter().map(|a| a.weight)),
            military_agencies: Table::new(p.agencies.iter().map(|a| {
                if a.role == Role::Military {
                    a.weight
                } else {
                    0.0
                }
            })),
        };
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        if t.military.is_empty() || t.police.is_empty() || t.civilian.is_empty() {
            return Err(bad("catalogue: a holding kind has no models"));
        }
        if t.illicit.is_empty() || t.ammo.is_empty() || t.agencies.is_empty() {
            return Err(bad("catalogue: no illicit models, ammunition or agencies"));
        }
        Ok(Gen {
            cat,
            p,
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            out,
            line: Vec::with_capacity(OUT_BUFFER + (1 << 14)),
            tmp: Vec::with_capacity(256),
            ar: Arena(String::with_capacity(4096)),
            marks: Vec::with_capacity(16),
            evs: Vec::with_capacity(64),
            key: String::with_capacity(32),
            counters: vec![0; YEARS * 3],
            ring: (0..RING).map(|_| Recent::default()).collect(),
            ring_len: 0,
            ring_pos: 0,
            ship: None,
            t,
            plain: crate::catalogue::catalogue_is_plain() && crate::profile::states_are_plain(),
            stats: GenerateStats::default(),
        })
    }

    pub(crate) fn run(&mut self, items: u64) -> io::Result<()> {
        while self.stats.items < items {
            let r = self.f();
            if r < 0.08 {
                self.ammo_lot()?;
            } else if r < 0.20 && self.ring_len > 0 {
                self.part()?;
            } else {
                self.weapon()?;
            }
        }
        self.drain(true)?;
        self.out.flush()
    }

    /// Hands the buffered records to the writer when the buffer is full (or at the end).
    fn drain(&mut self, all: bool) -> io::Result<()> {
        if all || self.line.len() >= OUT_BUFFER {
            self.out.write_all(&self.line)?;
            self.line.clear();
        }
        Ok(())
    }

    // -- randomness ---------------------------------------------------------------------------

    fn f(&mut self) -> f64 {
        self.rng.gen::<f64>()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen::<f64>() < p
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..=hi)
        }
    }

    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.rng.gen_range(0..n as u32) as usize
        }
    }

    fn u64(&mut self) -> u64 {
        self.rng.gen::<u64>()
    }

    fn doc_no(&mut self, max: u32) -> u32 {
        self.range(1, max as i32) as u32
    }

    /// A day of `year`, never after `MAX_DAY`.
    fn day_in_year(&mut self, year: i32) -> i32 {
        let a = jan1(year);
        let b = (jan1(year + 1) - 1).min(MAX_DAY);
        self.range(a, b)
    }

    /// A plausible precision for an ordinary event (older records are less precise).
    fn want_prec(&mut self, day: i32, stamp_ok: bool) -> Prec {
        let r = self.f();
        let old = day < days_from_civil(1995, 1, 1);
        if stamp_ok && !old && r < 0.10 {
            let min = self.range(6 * 60, 20 * 60) as u16;
            return Prec::Stamp(min);
        }
        let (year_p, month_p) = if old { (0.10, 0.30) } else { (0.03, 0.10) };
        if r > 1.0 - year_p {
            Prec::Year
        } else if r > 1.0 - year_p - month_p {
            Prec::Month
        } else {
            Prec::Day
        }
    }

    fn man_prec(&mut self) -> Prec {
        let r = self.f();
        if r < 0.55 {
            Prec::Year
        } else if r < 0.7 {
            Prec::Month
        } else {
            Prec::Day
        }
    }

    // -- item scaffolding ---------------------------------------------------------------------

    fn begin(&mut self) {
        self.ar.0.clear();
        self.marks.clear();
        self.evs.clear();
    }

    fn last_day(&self) -> i32 {
        self.evs.last().map(|e| e.day).unwrap_or(i32::MIN)
    }

    /// Appends an event after the previous one (at least a day later); false if past `MAX_DAY`.
    fn push(&mut self, mut ev: Ev) -> bool {
        let last = self.last_day();
        if ev.day <= last {
            ev.day = last + 1;
        }
        if ev.day > MAX_DAY {
            return false;
        }
        self.evs.push(ev);
        true
    }

    fn set_key(&mut self, prefix: Prefix, year: i32) {
        let yi = (year - FIRST_YEAR).clamp(0, YEARS as i32 - 1) as usize;
        let c = &mut self.counters[prefix as usize * YEARS + yi];
        *c += 1;
        let n = *c;
        self.key.clear();
        self.key.push_str(&self.p.code);
        match prefix {
            Prefix::Weapon => self.key.push('-'),
            Prefix::Part => self.key.push_str("-P-"),
            Prefix::Lot => self.key.push_str("-L-"),
        }
        push_uint(&mut self.key, (FIRST_YEAR + yi as i32) as u64, 4);
        self.key.push('-');
        push_uint(&mut self.key, u64::from(n), 6);
    }

    fn fmt_doc(&mut self, tpl: Tpl, day: i32, n: u64) -> S {
        let a = self.ar.mark();
        let t = match tpl {
            Tpl::ImportLicence => &self.p.formats.import_licence,
            Tpl::Euc => &self.p.formats.end_user_certificate,
            Tpl::Incident => &self.p.formats.incident,
            Tpl::Destruction => &self.p.formats.destruction_certificate,
            Tpl::Deactivation => &self.p.formats.deactivation_certificate,
            Tpl::CivilLicence => &self.p.formats.civil_licence,
            Tpl::ImportMark => &self.p.formats.import_mark,
            Tpl::StateMark => &self.p.formats.state_mark,
        };
        fill(&mut self.ar.0, t, &self.p.code, day, n);
        self.ar.since(a)
    }

    fn doc(&mut self, kind: &'static str, tpl: Tpl, day: i32, n: u64) -> Doc {
        let number = self.fmt_doc(tpl, day, n);
        Doc {
            kind,
            number,
            issued_by: Some(self.p.cc),
        }
    }

    fn export_doc(&mut self, maker_cc: [u8; 2], day: i32, n: u32) -> Doc {
        let a = self.ar.mark();
        let (y, _, _) = civil_from_days(day);
        let c = std::str::from_utf8(&maker_cc).unwrap_or("XX");
        self.ar.0.push_str("EL/");
        self.ar.0.push_str(c);
        self.ar.0.push('/');
        push_uint(&mut self.ar.0, y.max(0) as u64, 4);
        self.ar.0.push('/');
        push_uint(&mut self.ar.0, u64::from(n), 5);
        Doc {
            kind: "export_licence",
            number: self.ar.since(a),
            issued_by: Some(maker_cc),
        }
    }

    // -- actors and places --------------------------------------------------------------------

    fn maker_actor(&mut self, maker: usize, kind: &'static str) -> Actor {
        let m = &self.cat.raw.manufacturers[maker];
        let name = self.ar.put(m.full_name.as_deref().unwrap_or(&m.name));
        Actor {
            name,
            country: cc(&m.country),
            kind,
            licence: None,
        }
    }

    fn maker_place(&mut self, maker: usize) -> Place {
        let m = &self.cat.raw.manufacturers[maker];
        let locality = m.locality.as_deref().map(|l| self.ar.put(l));
        Place {
            country: cc(&m.country),
            admin1: None,
            locality,
            ll: None,
        }
    }

    fn agency_actor(&mut self, ag: usize) -> Actor {
        let a = &self.p.agencies[ag];
        Actor {
            name: self.ar.put(&a.name),
            country: self.p.cc,
            kind: a.kind,
            licence: None,
        }
    }

    fn unit_actor(&mut self, ag: usize, unit: usize) -> Actor {
        let a = &self.p.agencies[ag];
        Actor {
            name: self.ar.put(&a.units[unit].name),
            country: self.p.cc,
            kind: a.unit_kind,
            licence: None,
        }
    }

    fn loc_place(&mut self, l: usize, which: LocSet, jitter: bool) -> Place {
        let (country, loc): ([u8; 2], &Loc) = match which {
            LocSet::Locality => (self.p.cc, &self.p.localities[l]),
            LocSet::Port => (self.p.cc, &self.p.ports[l]),
            LocSet::Destruction => (self.p.cc, &self.p.destruction_sites[l]),
            LocSet::Foreign => (self.p.foreign[l].country, &self.p.foreign[l].loc),
            LocSet::Unit(ag) => (self.p.cc, &self.p.agencies[ag].units[l]),
        };
        let ll = loc.ll;
        let admin1 = self.ar.put(&loc.admin1);
        let locality = match which {
            LocSet::Locality | LocSet::Port | LocSet::Destruction | LocSet::Foreign => {
                Some(self.ar.put(&loc.locality))
            }
            LocSet::Unit(ag) => {
                let loc = &self.p.agencies[ag].units[l];
                Some(self.ar.put(&loc.locality))
            }
        };
        let ll = match (ll, jitter) {
            (Some((la, lo)), true) => {
                let dla = (self.f() - 0.5) * 0.06;
                let dlo = (self.f() - 0.5) * 0.06;
                Some((la + dla, lo + dlo))
            }
            (ll, _) => ll,
        };
        Place {
            country,
            admin1: Some(admin1),
            locality,
            ll,
        }
    }

    fn officer_actor(&mut self, ag: usize) -> Actor {
        let a = &self.p.agencies[ag];
        let r = self.below(a.ranks.len());
        let no = self.range(10_000, 299_999);
        let a = &self.p.agencies[ag];
        let start = self.ar.mark();
        self.ar.0.push_str(&a.ranks[r]);
        self.ar.0.push_str(" No. ");
        push_uint(&mut self.ar.0, no as u64, 0);
        Actor {
            name: self.ar.since(start),
            country: self.p.cc,
            kind: a.unit_kind,
            licence: None,
        }
    }

    fn person_actor(&mut self, day: i32) -> Actor {
        let start = self.ar.mark();
        if self.p.given.is_empty() || self.p.family.is_empty() {
            let n = self.range(1, 999_999);
            let _ = write!(self.ar.0, "Licence holder {n:06}");
        } else {
            let g = self.below(self.p.given.len());
            let g2 = self.below(self.p.given.len());
            let f = self.below(self.p.family.len());
            let two = self.chance(0.5) && g != g2;
            let p = &self.p;
            if two {
                let _ = write!(self.ar.0, "{} {} {}", p.given[g], p.given[g2], p.family[f]);
            } else {
                let _ = write!(self.ar.0, "{} {}", p.given[g], p.family[f]);
            }
        }
        let name = self.ar.since(start);
        let n = u64::from(self.doc_no(999_999));
        let licence = self.fmt_doc(Tpl::CivilLicence, day, n);
        Actor {
            name,
            country: self.p.cc,
            kind: "private_person",
            licence: Some(licence),
        }
    }

    fn seizer_actor(&mut self) -> Actor {
        let i = self.below(self.p.seizing.len());
        let s = &self.p.seizing[i];
        Actor {
            name: self.ar.put(&s.name),
            country: self.p.cc,
            kind: s.kind,
            licence: None,
        }
    }

    fn note(&mut self, options: &[&str]) -> S {
        let i = self.below(options.len());
        self.ar.put(options[i])
    }

    // -- markings -----------------------------------------------------------------------------

    fn add_mark(
        &mut self,
        kind: &'static str,
        text: S,
        component: Option<&str>,
        note: Option<&str>,
    ) {
        let component = component.map(|c| self.ar.put(c));
        let note = note.map(|n| self.ar.put(n));
        self.marks.push(Mark {
            kind,
            text,
            component,
            legibility: None,
            note,
        });
    }

    fn render(&mut self, p: &Pattern, fill: &Fill) -> S {
        let a = self.ar.mark();
        p.render(&mut self.ar.0, fill);
        self.ar.since(a)
    }

    fn random_serial(&mut self, model: usize, allow_script: bool) -> SerialChoice {
        let pats = &self.cat.model_serials[model];
        let total: u32 = pats.iter().map(|(_, w)| *w).sum();
        let mut x = self.rng.gen_range(0..total.max(1));
        let mut pattern = 0;
        for (i, (_, w)) in pats.iter().enumerate() {
            if x < *w {
                pattern = i;
                break;
            }
            x -= *w;
        }
        let cap = pats[pattern].0.capacity().max(1);
        let number = self.rng.gen_range(0..cap);
        let letters = self.u64();
        let script = self.digit_script(model, allow_script);
        SerialChoice {
            pattern,
            number,
            letters,
            script,
        }
    }

    fn digit_script(&mut self, model: usize, allow: bool) -> Script {
        match &self.cat.raw.models[model].digits {
            Some(d) if allow && self.rng.gen::<f64>() < d.share => Script::from_name(&d.script),
            _ => Script::Ascii,
        }
    }

    /// Serial plus the model's other markings; returns the serial marking's index.
    fn weapon_marks(&mut self, model: usize, s: SerialChoice, year: i32) -> usize {
        let cat = self.cat;
        let m = &cat.raw.models[model];
        let month = self.range(1, 12) as u32;
        let fill = Fill {
            number: s.number,
            letters: s.letters,
            year,
            month,
            script: s.script,
        };
        let text = self.render(&cat.model_serials[model][s.pattern].0, &fill);
        let comp = match m.ty.as_str() {
            "pistol" | "revolver" => "frame",
            "rocket_launcher" | "mortar" => "tube",
            _ => "receiver",
        };
        let serial_at = self.marks.len();
        self.add_mark("serial", text, Some(comp), None);
        let ascii = Fill {
            script: Script::Ascii,
            ..fill
        };
        let mut factory_code = false;
        for (i, spec) in m.marks.iter().enumerate() {
            // One factory code per weapon, even when the model was made in several factories.
            if self.chance(spec.share) && !(factory_code && spec.kind == "factory_code") {
                factory_code |= spec.kind == "factory_code";
                let text = self.render(&cat.model_marks[model][i], &ascii);
                let kind = mark_kind(&spec.kind);
                self.add_mark(kind, text, spec.component.as_deref(), spec.note.as_deref());
            }
        }
        for &pi in &cat.model_proofs[model] {
            if self.chance(0.3) {
                let pm = &cat.raw.proof_marks[pi];
                let text = self.ar.put(&pm.text);
                self.add_mark(
                    "proof",
                    text,
                    pm.component.as_deref(),
                    Some(&pm.description),
                );
            }
        }
        serial_at
    }

    /// Makes the serial partly or wholly unreadable (illicit weapons).
    fn degrade_serial(&mut self, at: usize) {
        let r = self.f();
        let mark = self.marks[at];
        let text = self.ar.get(mark.text).to_string();
        let n = text.chars().filter(|c| c.is_alphanumeric()).count();
        if r < 0.25 && n >= 3 {
            let k = 1 + self.below(3.min(n - 1));
            let mut hide = [usize::MAX; 3];
            for h in hide.iter_mut().take(k) {
                *h = self.below(n);
            }
            let a = self.ar.mark();
            let mut j = 0;
            for c in text.chars() {
                if c.is_alphanumeric() {
                    self.ar.0.push(if hide.contains(&j) { '?' } else { c });
                    j += 1;
                } else {
                    self.ar.0.push(c);
                }
            }
            let t = self.ar.since(a);
            let note = self.note(&[
                "Serial partly filed off; '?' marks unreadable characters",
                "Serial partly ground off; remaining characters read under magnification",
                "Partial restoration with Fry's reagent; '?' marks characters not recovered",
            ]);
            let m = &mut self.marks[at];
            m.text = t;
            m.legibility = Some("partial");
            m.note = Some(note);
        } else if r < 0.37 {
            let a = self.ar.mark();
            for _ in 0..n.max(1) {
                self.ar.0.push('?');
            }
            let t = self.ar.since(a);
            let note = self.note(&[
                "Serial ground off; number of characters estimated from the outline",
                "Serial obliterated with a punch; restoration not attempted",
            ]);
            let m = &mut self.marks[at];
            m.text = t;
            m.legibility = Some("obliterated");
            m.note = Some(note);
        } else if r < 0.45 {
            let note = self.note(&[
                "Restored with Fry's reagent at the forensic laboratory",
                "Restored by acid etching",
            ]);
            let m = &mut self.marks[at];
            m.legibility = Some("restored");
            m.note = Some(note);
        }
    }

    fn model_item(&mut self, model: usize, year: Option<i32>) -> Item {
        let cat = self.cat;
        let m = &cat.raw.models[model];
        let mk = &cat.raw.manufacturers[cat.model_maker[model]];
        let ty = self.ar.put(&m.ty);
        let mut it = Item::new(
            if m.kind == "light_weapon" {
                "light_weapon"
            } else {
                "firearm"
            },
            ty,
        );
        it.make = Some(self.ar.put(&mk.name));
        it.model = Some(self.ar.put(&m.model));
        it.calibre = Some(self.ar.put(&m.calibre));
        it.country = Some(cc(&mk.country));
        it.year = year;
        it.action = m.action.as_deref().map(|a| self.ar.put(a));
        it.capacity = m.capacity;
        it.barrel = m.barrel_length_mm;
        it.catalogue_ref = Some(self.ar.put(&m.id));
        it
    }

    /// Possibly records the item under a wrong model name, returning the correct name to set.
    fn maybe_misrecord(&mut self, it: &mut Item, model: usize) -> Option<S> {
        let m = &self.cat.raw.models[model];
        if m.misrecorded_as.is_empty() || !self.chance(0.03) {
            return None;
        }
        let i = self.below(m.misrecorded_as.len());
        let right = it.model;
        it.model = Some(self.ar.put(&m.misrecorded_as[i]));
        right
    }

    fn legacy(&mut self, it: &mut Item, year: i32) {
        if year < 2000 && self.chance(0.06) {
            let book = self.range(1, 40);
            let page = self.range(1, 300);
            let a = self.ar.mark();
            let _ = write!(self.ar.0, "Book {book} p. {page}");
            it.legacy = Some(self.ar.since(a));
        }
    }

    // -- weapons ------------------------------------------------------------------------------

    fn weapon(&mut self) -> io::Result<()> {
        if self.ship.is_some() && self.chance(0.5) {
            return self.shipment_member();
        }
        if self.ship.is_none() && self.chance(0.02) && self.start_shipment() {
            return self.shipment_member();
        }
        let r = self.f();
        if r < 0.66 {
            let plan = self.independent_plan();
            self.state_weapon(plan)
        } else if r < 0.82 {
            self.civilian_weapon()
        } else if r < 0.96 {
            self.illicit_weapon()
        } else {
            self.craft_weapon()
        }
    }

    fn pick_agency(&mut self, military_only: bool) -> usize {
        let u = self.f();
        if military_only && !self.t.military_agencies.is_empty() {
            self.t.military_agencies.pick(u)
        } else {
            self.t.agencies.pick(u)
        }
    }

    fn pick_model(&mut self, role: Role) -> usize {
        let u = self.f();
        match role {
            Role::Military => self.t.military.pick(u),
            Role::Police => self.t.police.pick(u),
        }
    }

    fn maker_of(&self, model: usize) -> usize {
        self.cat.model_maker[model]
    }

    fn is_local(&self, maker: usize) -> bool {
        cc(&self.cat.raw.manufacturers[maker].country) == self.p.cc
    }

    /// Manufacture, export and import days for a weapon of `model`.
    fn acquisition(&mut self, model: usize) -> (i32, Option<i32>, i32) {
        let m = &self.cat.raw.models[model];
        let (y0, y1) = (m.years[0], m.years[1].min(2025));
        let year = self.range(y0, y1.max(y0));
        let man_day = self.day_in_year(year);
        let delay = if self.chance(0.55) {
            self.range(60, 900)
        } else {
            self.range(900, 12_000)
        };
        let room = (MAX_DAY - 20 - man_day).max(2);
        let import_day = man_day + delay.min(room);
        let export_day = if self.chance(0.8) {
            let e = import_day - self.range(7, 90);
            (e > man_day).then_some(e)
        } else {
            None
        };
        (man_day, export_day, import_day)
    }

    fn independent_plan(&mut self) -> StatePlan {
        let agency = self.pick_agency(false);
        let role = self.p.agencies[agency].role;
        let model = self.pick_model(role);
        let unit = self.below(self.p.agencies[agency].units.len());
        let (man_day, export_day, import_day) = self.acquisition(model);
        let transfer_day = import_day + self.range(5, 150);
        let maker = self.maker_of(model);
        let serial = self.random_serial(model, true);
        let late = import_day >= days_from_civil(2005, 1, 1);
        let import_mark = self.chance(if late { 0.6 } else { 0.25 });
        let euc = self.chance(0.35).then(|| self.doc_no(999));
        StatePlan {
            model,
            agency,
            unit,
            man_day,
            export_day,
            import_day,
            transfer_day,
            el: self.doc_no(99_999),
            il: self.doc_no(999),
            euc,
            port: self.below(self.p.ports.len()),
            local: self.is_local(maker),
            serial,
            import_mark,
            theft: None,
        }
    }

    fn start_shipment(&mut self) -> bool {
        let mil = self.chance(0.6);
        let agency = self.pick_agency(mil);
        let role = self.p.agencies[agency].role;
        let model = self.pick_model(role);
        if self.is_local(self.maker_of(model)) {
            return false;
        }
        let unit = self.below(self.p.agencies[agency].units.len());
        let (man_day, export_day, import_day) = self.acquisition(model);
        let transfer_day = import_day + self.range(5, 60);
        let s = self.random_serial(model, true);
        let cap = self.cat.model_serials[model][s.pattern].0.capacity();
        let mut count = self.range(20, 200) as u64;
        count = count.min(cap / 2).max(1);
        let base = self.rng.gen_range(0..(cap - count).max(1));
        let theft = if self.chance(0.35) && transfer_day + 400 < MAX_DAY - 60 {
            let hi = (transfer_day + 6000).min(MAX_DAY - 60);
            let day = self.range(transfer_day + 300, hi);
            let share = 0.05 + self.f() * 0.25;
            let ob = self.doc_no(99);
            Some(Theft { day, ob, share })
        } else {
            None
        };
        let late = import_day >= days_from_civil(2005, 1, 1);
        let import_mark = self.chance(if late { 0.5 } else { 0.15 });
        let euc = self.chance(0.6).then(|| self.doc_no(999));
        self.ship = Some(Shipment {
            model,
            agency,
            unit,
            man_day,
            export_day,
            import_day,
            transfer_day,
            el: self.doc_no(99_999),
            il: self.doc_no(999),
            euc,
            port: self.below(self.p.ports.len()),
            pattern: s.pattern,
            letters: s.letters,
            base,
            count: count as u32,
            next: 0,
            script: s.script,
            import_mark,
            theft,
        });
        true
    }

    fn shipment_member(&mut self) -> io::Result<()> {
        let Some(sh) = self.ship.as_mut() else {
            return Ok(());
        };
        let i = sh.next;
        sh.next += 1;
        let plan = StatePlan {
            model: sh.model,
            agency: sh.agency,
            unit: sh.unit,
            man_day: sh.man_day,
            export_day: sh.export_day,
            import_day: sh.import_day,
            transfer_day: sh.transfer_day,
            el: sh.el,
            il: sh.il,
            euc: sh.euc,
            port: sh.port,
            local: false,
            serial: SerialChoice {
                pattern: sh.pattern,
                number: sh.base + u64::from(i),
                letters: sh.letters,
                script: sh.script,
            },
            import_mark: sh.import_mark,
            theft: sh.theft,
        };
        if sh.next >= sh.count {
            self.ship = None;
        }
        self.state_weapon(plan)
    }

    fn state_weapon(&mut self, plan: StatePlan) -> io::Result<()> {
        self.begin();
        let model = plan.model;
        let maker = self.maker_of(model);
        let ag = plan.agency;
        let year = year_of(plan.man_day);
        let mut it = self.model_item(model, Some(year));
        let right_model = self.maybe_misrecord(&mut it, model);

        // Manufacture, export, import.
        if plan.local || self.chance(0.85) {
            let want = self.man_prec();
            let mut ev = Ev::new("manufactured", plan.man_day, want);
            ev.to = Some(self.maker_actor(maker, "manufacturer"));
            ev.place = Some(self.maker_place(maker));
            self.push(ev);
        }
        let import_day;
        if plan.local {
            import_day = plan.man_day + self.range(30, 400);
            let want = self.want_prec(import_day, false);
            let mut ev = Ev::new("transferred", import_day, want);
            ev.from = Some(self.maker_actor(maker, "manufacturer"));
            ev.to = Some(self.agency_actor(ag));
            self.push(ev);
        } else {
            import_day = plan.import_day;
            if let Some(d) = plan.export_day {
                let want = self.want_prec(d, false);
                let mut ev = Ev::new("exported", d, want);
                ev.from = Some(self.maker_actor(maker, "exporter"));
                ev.to = Some(self.agency_actor(ag));
                let mcc = cc(&self.cat.raw.manufacturers[maker].country);
                ev.docs[0] = Some(self.export_doc(mcc, d, plan.el));
                self.push(ev);
            }
            let want = self.want_prec(import_day, false);
            let mut ev = Ev::new("imported", import_day, want);
            ev.from = Some(self.maker_actor(maker, "exporter"));
            ev.to = Some(self.agency_actor(ag));
            ev.docs[0] = Some(self.doc(
                "import_licence",
                Tpl::ImportLicence,
                import_day,
                u64::from(plan.il),
            ));
            if let Some(e) = plan.euc {
                ev.docs[1] =
                    Some(self.doc("end_user_certificate", Tpl::Euc, import_day, u64::from(e)));
            }
            ev.place = Some(self.loc_place(plan.port, LocSet::Port, false));
            if self.chance(0.02) {
                let a = self.ar.mark();
                let n = self.range(1, 9999);
                let _ = write!(self.ar.0, "customs entry {n}");
                ev.extra = Some(("legacy_ref", self.ar.since(a)));
            }
            self.push(ev);
        }
        // Issue to a unit.
        let mut unit = plan.unit;
        let td = plan.transfer_day.max(import_day + 1);
        let want = self.want_prec(td, false);
        let mut ev = Ev::new("transferred", td, want);
        ev.from = Some(self.agency_actor(ag));
        ev.to = Some(self.unit_actor(ag, unit));
        ev.place = Some(self.loc_place(unit, LocSet::Unit(ag), false));
        let issued = self.push(ev);

        let stolen = match plan.theft {
            Some(t) if issued && t.day > self.last_day() + 2 => self.chance(t.share).then_some(t),
            _ => None,
        };
        if issued {
            if let Some(t) = stolen {
                let day = self.last_day();
                self.service(ag, &mut unit, day, t.day - 1600, t.day - 1);
                self.shipment_theft(ag, unit, t);
            } else {
                let day = self.last_day();
                self.service(ag, &mut unit, day, MAX_DAY, MAX_DAY);
                self.state_terminal(ag, unit);
            }
        }

        // Markings.
        self.weapon_marks(model, plan.serial, year);
        if plan.import_mark && !plan.local {
            let t = self.fmt_doc(Tpl::ImportMark, import_day, 0);
            self.add_mark("import", t, Some("receiver"), None);
        }
        if self.chance(0.4) {
            let i = self.below(self.p.ownership_marks.len());
            let t = self.ar.put(&self.p.ownership_marks[i]);
            self.add_mark("state_ownership", t, Some("receiver"), None);
        }
        self.legacy(&mut it, year_of(import_day));
        let key_year = year_of(import_day);
        self.finish(
            it,
            Prefix::Weapon,
            key_year,
            right_model,
            Some((model, Some(ag))),
        )
    }

    /// Assignments to officers and returns, transfers between units.
    fn service(
        &mut self,
        ag: usize,
        unit: &mut usize,
        mut day: i32,
        assign_limit: i32,
        return_limit: i32,
    ) {
        let r = self.f();
        let cycles = if r < 0.35 {
            0
        } else if r < 0.75 {
            1
        } else if r < 0.92 {
            2
        } else if r < 0.98 {
            3
        } else {
            4
        };
        for _ in 0..cycles {
            let a = day + self.range(20, 1100);
            if a > assign_limit {
                break;
            }
            let want = self.want_prec(a, true);
            let mut ev = Ev::new("assigned", a, want);
            ev.from = Some(self.unit_actor(ag, *unit));
            ev.to = Some(self.officer_actor(ag));
            if self.chance(0.5) {
                ev.place = Some(self.loc_place(*unit, LocSet::Unit(ag), false));
            }
            if !self.push(ev) {
                break;
            }
            day = self.last_day();
            let r = day + self.range(30, 1500);
            if r > return_limit {
                break;
            }
            let want = self.want_prec(r, true);
            let mut ev = Ev::new("returned", r, want);
            ev.from = self.evs.last().and_then(|e| e.to);
            ev.to = Some(self.unit_actor(ag, *unit));
            if !self.push(ev) {
                break;
            }
            day = self.last_day();
            if self.chance(0.02) && day < return_limit {
                let mut dup = self.evs[self.evs.len() - 1];
                dup.day = day + 1;
                dup.want = Prec::Day;
                dup.dup = true;
                if self.push(dup) {
                    day = self.last_day();
                }
            }
            if self.chance(0.12) {
                let t = day + self.range(30, 700);
                if t <= assign_limit {
                    let n = self.p.agencies[ag].units.len();
                    let new_unit = self.below(n);
                    if new_unit != *unit {
                        let want = self.want_prec(t, false);
                        let mut ev = Ev::new("transferred", t, want);
                        ev.from = Some(self.unit_actor(ag, *unit));
                        ev.to = Some(self.unit_actor(ag, new_unit));
                        ev.place = Some(self.loc_place(new_unit, LocSet::Unit(ag), false));
                        if self.push(ev) {
                            *unit = new_unit;
                            day = self.last_day();
                        }
                    }
                }
            }
        }
    }

    fn incident_doc(&mut self, day: i32) -> Doc {
        let n = u64::from(self.doc_no(99));
        self.doc("police_incident", Tpl::Incident, day, n)
    }

    /// End of a state weapon's life, if it has one.
    fn state_terminal(&mut self, ag: usize, unit: usize) {
        let day = self.last_day();
        let r = self.f();
        if r < 0.13 {
            let d = day + self.range(180, 4000);
            self.destroy(d);
        } else if r < 0.16 {
            let d = day + self.range(180, 4000);
            let want = self.want_prec(d, false);
            let mut ev = Ev::new("deactivated", d, want);
            let n = u64::from(self.doc_no(9999));
            ev.docs[0] = Some(self.doc("deactivation_certificate", Tpl::Deactivation, d, n));
            ev.note = Some(self.note(&[
                "Deactivated for training use",
                "Deactivated for display at a regimental museum",
            ]));
            self.push(ev);
        } else if r < 0.21 {
            let d = day + self.range(10, 1500);
            let want = self.want_prec(d, true);
            let mut ev = Ev::new("reported_lost", d, want);
            ev.place = Some(self.loc_place(unit, LocSet::Unit(ag), false));
            ev.docs[0] = Some(self.incident_doc(d));
            ev.note = Some(self.note(&[
                "Lost during an operation",
                "Missing at the annual stock count",
                "Lost in transit between stations",
            ]));
            if self.push(ev) && self.chance(0.3) {
                self.recovery(Some((ag, unit)));
            }
        } else if r < 0.28 {
            let d = day + self.range(10, 1500);
            let want = self.want_prec(d, true);
            let mut ev = Ev::new("reported_stolen", d, want);
            ev.place = Some(self.loc_place(unit, LocSet::Unit(ag), false));
            ev.docs[0] = Some(self.incident_doc(d));
            ev.note = Some(self.note(&[
                "Taken from an officer in an ambush",
                "Stolen from the station armoury",
                "Stolen from a vehicle",
            ]));
            if self.push(ev) && self.chance(0.45) {
                self.recovery(Some((ag, unit)));
            }
        }
    }

    /// Recovery or seizure after loss or theft, at home or abroad; then perhaps destruction or
    /// return to the unit.
    fn recovery(&mut self, back_to: Option<(usize, usize)>) {
        let d = self.last_day() + self.range(20, 2000);
        let abroad = self.chance(0.4);
        let want = self.want_prec(d, true);
        let mut ev;
        if abroad {
            ev = Ev::new("seized", d, want);
            let f = self.below(self.p.foreign.len());
            ev.place = Some(self.loc_place(f, LocSet::Foreign, true));
            let fo = &self.p.foreign[f];
            let country = fo.country;
            ev.to = Some(Actor {
                name: self.ar.put(&fo.authority),
                country,
                kind: "police",
                licence: None,
            });
            ev.note = Some(self.note(&[
                "Seized from an armed group; reported through INTERPOL",
                "Found in an arms cache; trace request received",
                "Seized at a border crossing; trace request received",
            ]));
        } else {
            ev = Ev::new(
                if self.chance(0.5) {
                    "recovered"
                } else {
                    "seized"
                },
                d,
                want,
            );
            let i = self.below(self.p.border.len());
            let l = self.p.border[i];
            ev.place = Some(self.loc_place(l, LocSet::Locality, true));
            ev.to = Some(self.seizer_actor());
            ev.docs[0] = Some(self.incident_doc(d));
            ev.note = Some(self.note(&[
                "Recovered after a cattle raid",
                "Recovered in a police operation",
                "Seized at a roadblock",
                "Recovered from a suspect's house",
            ]));
        }
        if !self.push(ev) {
            return;
        }
        if abroad {
            return;
        }
        let r = self.f();
        if r < 0.4 {
            let d = self.last_day() + self.range(90, 2500);
            self.destroy(d);
        } else if r < 0.6 {
            if let Some((ag, unit)) = back_to {
                let d = self.last_day() + self.range(30, 400);
                let want = self.want_prec(d, false);
                let mut ev = Ev::new("returned", d, want);
                ev.to = Some(self.unit_actor(ag, unit));
                self.push(ev);
            }
        }
    }

    fn destroy(&mut self, d: i32) -> bool {
        let want = self.want_prec(d, false);
        let mut ev = Ev::new("destroyed", d, want);
        let site = self.below(self.p.destruction_sites.len());
        ev.place = Some(self.loc_place(site, LocSet::Destruction, false));
        let n = u64::from(self.doc_no(9999));
        ev.docs[0] = Some(self.doc("destruction_certificate", Tpl::Destruction, d, n));
        ev.note = Some(self.note(&[
            "Public destruction by burning",
            "Cut with an oxy-acetylene torch",
            "Crushed and smelted",
        ]));
        self.push(ev)
    }

    fn shipment_theft(&mut self, ag: usize, unit: usize, t: Theft) {
        let want = self.want_prec(t.day, false);
        let mut ev = Ev::new("reported_stolen", t.day, want);
        // Same date and incident for the whole break-in: keep the full date.
        ev.want = if matches!(want, Prec::Stamp(_)) {
            want
        } else {
            Prec::Day
        };
        ev.place = Some(self.loc_place(unit, LocSet::Unit(ag), false));
        ev.docs[0] = Some(self.doc("police_incident", Tpl::Incident, t.day, u64::from(t.ob)));
        ev.note =
            Some(self.ar.put(
                "Break-in at the unit armoury; several weapons of the same consignment missing",
            ));
        if !self.push(ev) {
            return;
        }
        if self.chance(0.65) {
            self.recovery(None);
        }
    }

    fn civilian_weapon(&mut self) -> io::Result<()> {
        self.begin();
        let model = self.t.civilian.pick(self.rng.gen::<f64>());
        let maker = self.maker_of(model);
        let (man_day, export_day, _) = self.acquisition(model);
        let import_day = (man_day + self.range(60, 1100))
            .min(MAX_DAY - 10)
            .max(man_day + 1);
        let year = year_of(man_day);
        let mut it = self.model_item(model, Some(year));
        let right_model = self.maybe_misrecord(&mut it, model);
        let dealer_i = self.below(self.p.dealers.len());
        let dealer = |g: &mut Self| {
            let d = &g.p.dealers[dealer_i];
            let name = g.ar.put(&d.name);
            let licence = g.ar.put(&d.licence);
            Actor {
                name,
                country: g.p.cc,
                kind: "dealer",
                licence: Some(licence),
            }
        };
        if self.chance(0.7) {
            let want = self.man_prec();
            let mut ev = Ev::new("manufactured", man_day, want);
            ev.to = Some(self.maker_actor(maker, "manufacturer"));
            ev.place = Some(self.maker_place(maker));
            self.push(ev);
        }
        let local = self.is_local(maker);
        if !local {
            if let Some(d) = export_day.filter(|d| *d < import_day && self.chance(0.6)) {
                let want = self.want_prec(d, false);
                let mut ev = Ev::new("exported", d, want);
                ev.from = Some(self.maker_actor(maker, "exporter"));
                ev.to = Some(dealer(self));
                let mcc = cc(&self.cat.raw.manufacturers[maker].country);
                let n = self.doc_no(99_999);
                ev.docs[0] = Some(self.export_doc(mcc, d, n));
                self.push(ev);
            }
        }
        let want = self.want_prec(import_day, false);
        let mut ev = Ev::new(
            if local { "transferred" } else { "imported" },
            import_day,
            want,
        );
        ev.from = Some(self.maker_actor(maker, if local { "manufacturer" } else { "exporter" }));
        ev.to = Some(dealer(self));
        if !local {
            let n = u64::from(self.doc_no(999));
            ev.docs[0] = Some(self.doc("import_licence", Tpl::ImportLicence, import_day, n));
            let port = self.below(self.p.ports.len());
            ev.place = Some(self.loc_place(port, LocSet::Port, false));
        }
        self.push(ev);
        // Sale to a licensed civilian, perhaps a later private transfer.
        let mut holder: Option<Actor> = None;
        let sales = if self.chance(0.25) { 2 } else { 1 };
        for _ in 0..sales {
            let d = self.last_day() + self.range(20, 2500);
            let want = self.want_prec(d, false);
            let mut ev = Ev::new("transferred", d, want);
            ev.from = Some(holder.unwrap_or_else(|| dealer(self)));
            let to = self.person_actor(d);
            ev.to = Some(to);
            ev.place = Some(if holder.is_none() {
                let dl = &self.p.dealers[dealer_i];
                let admin1 = self.ar.put(&dl.admin1);
                let locality = self.ar.put(&dl.locality);
                Place {
                    country: self.p.cc,
                    admin1: Some(admin1),
                    locality: Some(locality),
                    ll: None,
                }
            } else {
                let l = self.below(self.p.localities.len());
                self.loc_place(l, LocSet::Locality, false)
            });
            if !self.push(ev) {
                break;
            }
            holder = Some(to);
        }
        if holder.is_some() {
            let r = self.f();
            let d = self.last_day() + self.range(30, 3000);
            if r < 0.10 {
                let ty = if r < 0.06 {
                    "reported_stolen"
                } else {
                    "reported_lost"
                };
                let want = self.want_prec(d, true);
                let mut ev = Ev::new(ty, d, want);
                let l = self.below(self.p.localities.len());
                ev.place = Some(self.loc_place(l, LocSet::Locality, false));
                ev.docs[0] = Some(self.incident_doc(d));
                if ty == "reported_stolen" {
                    ev.note = Some(self.note(&[
                        "Stolen in a burglary at the holder's home",
                        "Stolen from the holder's vehicle",
                    ]));
                }
                if self.push(ev) && self.chance(0.3) {
                    self.recovery(None);
                }
            } else if r < 0.18 {
                let want = self.want_prec(d, false);
                let mut ev = Ev::new("surrendered", d, want);
                let police = self
                    .p
                    .agencies
                    .iter()
                    .position(|a| a.kind == "police")
                    .unwrap_or(0);
                let unit = self.below(self.p.agencies[police].units.len());
                ev.to = Some(self.unit_actor(police, unit));
                ev.place = Some(self.loc_place(unit, LocSet::Unit(police), false));
                ev.note = Some(self.note(&[
                    "Surrendered during a national amnesty",
                    "Licence not renewed; firearm surrendered",
                    "Surrendered by the holder's family after the holder's death",
                ]));
                if self.push(ev) && self.chance(0.5) {
                    let d = self.last_day() + self.range(60, 1500);
                    self.destroy(d);
                }
            }
        }
        let s = self.random_serial(model, false);
        self.weapon_marks(model, s, year);
        if !local && self.chance(0.35) {
            let t = self.fmt_doc(Tpl::ImportMark, import_day, 0);
            self.add_mark("import", t, Some("frame"), None);
        }
        self.legacy(&mut it, year_of(import_day));
        self.finish(
            it,
            Prefix::Weapon,
            year_of(import_day),
            right_model,
            Some((model, None)),
        )
    }

    fn illicit_weapon(&mut self) -> io::Result<()> {
        self.begin();
        let model = self.t.illicit.pick(self.rng.gen::<f64>());
        let m = &self.cat.raw.models[model];
        let (y0, y1) = (m.years[0], m.years[1].min(2025));
        let man_year = self.range(y0, y1.max(y0));
        let seize_year = self.range((man_year + 1).max(1995), 2026);
        let day = self.day_in_year(seize_year).max(jan1(man_year + 1));
        let known_year = self.chance(0.7);
        let it = self.model_item(model, known_year.then_some(man_year));
        let want = self.want_prec(day, true);
        let mut ev = Ev::new(
            if self.chance(0.85) {
                "seized"
            } else {
                "recovered"
            },
            day,
            want,
        );
        let i = self.below(self.p.border.len());
        let l = self.p.border[i];
        ev.place = Some(self.loc_place(l, LocSet::Locality, true));
        ev.to = Some(self.seizer_actor());
        ev.docs[0] = Some(self.incident_doc(day));
        ev.note = Some(self.note(&[
            "Seized from suspected cattle rustlers",
            "Found in an abandoned vehicle at the border",
            "Seized from a smuggler's consignment hidden in charcoal sacks",
            "Recovered after an exchange of fire",
            "Handed over by community elders",
            "Seized at a roadblock",
        ]));
        self.push(ev);
        if self.chance(0.5) {
            let d = self.last_day() + self.range(10, 400);
            let want = self.want_prec(d, false);
            let mut ev = Ev::new("marked", d, want);
            let n = u64::from(self.doc_no(99_999));
            let mark = self.fmt_doc(Tpl::StateMark, d, n);
            let a = self.ar.mark();
            let mark_text = self.ar.get(mark).to_string();
            match &self.p.treaty {
                Some(t) => {
                    let _ = write!(self.ar.0, "Marked {mark_text} on retention ({t})");
                }
                None => {
                    let _ = write!(self.ar.0, "Marked {mark_text} on retention");
                }
            }
            ev.note = Some(self.ar.since(a));
            self.push(ev);
        }
        if self.chance(0.55) {
            let d = self.last_day() + self.range(60, 2500);
            self.destroy(d);
        }
        let s = self.random_serial(model, true);
        let at = self.weapon_marks(model, s, man_year);
        self.degrade_serial(at);
        if self.chance(0.06) {
            let n = self.range(100, 99_999) as u64;
            let a = self.ar.mark();
            let digits = n.to_string();
            for c in digits.bytes() {
                Script::ArabicIndic.push_digit(&mut self.ar.0, c - b'0');
            }
            let t = self.ar.since(a);
            self.add_mark(
                "secondary",
                t,
                Some("stock"),
                Some("Inventory number in Arabic-Indic digits applied by a previous holder"),
            );
        }
        self.finish(it, Prefix::Weapon, year_of(day), None, Some((model, None)))
    }

    fn craft_weapon(&mut self) -> io::Result<()> {
        self.begin();
        const CRAFT: &[(&str, &str, &str)] = &[
            (
                "firearm",
                "12 gauge",
                "Locally made single-shot shotgun from steel pipe; no markings",
            ),
            ("firearm", "unknown", "Locally made pistol; no markings"),
            (
                "firearm",
                "7.62x39mm",
                "Craft-produced rifle with a hand-made receiver; no serial",
            ),
            (
                "other",
                "9x19mm Parabellum",
                "Converted blank-firing pistol; original markings removed",
            ),
            ("other", "unknown", "3D-printed pistol frame; no serial"),
        ];
        let (kind, calibre, note) = CRAFT[self.below(CRAFT.len())];
        let ty = self.ar.put("craft");
        let mut it = Item::new(if kind == "other" { "other" } else { "firearm" }, ty);
        it.calibre = Some(self.ar.put(calibre));
        it.note = Some(self.ar.put(note));
        let year = self.range(1998, 2026);
        let day = self.day_in_year(year);
        let surrendered = self.chance(0.3);
        let want = self.want_prec(day, true);
        let mut ev = Ev::new(
            if surrendered { "surrendered" } else { "seized" },
            day,
            want,
        );
        let i = self.below(self.p.border.len());
        let l = self.p.border[i];
        ev.place = Some(self.loc_place(l, LocSet::Locality, !surrendered));
        ev.to = Some(self.seizer_actor());
        if !surrendered {
            ev.docs[0] = Some(self.incident_doc(day));
        }
        self.push(ev);
        if self.chance(0.6) {
            let d = self.last_day() + self.range(60, 1500);
            self.destroy(d);
        }
        self.finish(it, Prefix::Weapon, year_of(day), None, None)
    }

    // -- ammunition ---------------------------------------------------------------------------

    fn ammo_lot(&mut self) -> io::Result<()> {
        self.begin();
        let cat = self.cat;
        let ai = self.t.ammo.pick(self.rng.gen::<f64>());
        let a = &cat.raw.ammunition[ai];
        let maker = cat.ammo_maker[ai];
        let mk = &cat.raw.manufacturers[maker];
        let year = self.range(a.years[0], a.years[1].min(2025).max(a.years[0]));
        let man_day = self.day_in_year(year);
        let local = self.is_local(maker);
        let ty = self.ar.put(&a.ty);
        let mut it = Item::new("ammunition_lot", ty);
        it.make = Some(self.ar.put(&mk.name));
        it.model = Some(self.ar.put(&a.model));
        it.calibre = Some(self.ar.put(&a.calibre));
        it.country = Some(cc(&mk.country));
        it.year = Some(year);
        it.catalogue_ref = Some(self.ar.put(&a.id));
        let units = if a.unit <= 1 {
            self.range(12, 400) as u64
        } else {
            u64::from(a.unit) * self.range(20, 800) as u64
        };
        it.quantity = Some(units);
        let mil = self.chance(0.7);
        let ag = self.pick_agency(mil);
        if self.chance(0.6) || local {
            let want = if self.chance(0.5) {
                Prec::Year
            } else {
                Prec::Month
            };
            let mut ev = Ev::new("manufactured", man_day, want);
            ev.to = Some(self.maker_actor(maker, "manufacturer"));
            ev.place = Some(self.maker_place(maker));
            self.push(ev);
        }
        let import_day = man_day + self.range(60, 2500).min((MAX_DAY - 30 - man_day).max(1));
        if local {
            let want = self.want_prec(import_day, false);
            let mut ev = Ev::new("transferred", import_day, want);
            ev.from = Some(self.maker_actor(maker, "manufacturer"));
            ev.to = Some(self.agency_actor(ag));
            self.push(ev);
        } else {
            if self.chance(0.5) {
                let d = import_day - self.range(7, 60);
                if d > man_day {
                    let want = self.want_prec(d, false);
                    let mut ev = Ev::new("exported", d, want);
                    ev.from = Some(self.maker_actor(maker, "exporter"));
                    ev.to = Some(self.agency_actor(ag));
                    let n = self.doc_no(99_999);
                    ev.docs[0] = Some(self.export_doc(cc(&mk.country), d, n));
                    self.push(ev);
                }
            }
            let want = self.want_prec(import_day, false);
            let mut ev = Ev::new("imported", import_day, want);
            ev.from = Some(self.maker_actor(maker, "exporter"));
            ev.to = Some(self.agency_actor(ag));
            let n = u64::from(self.doc_no(999));
            ev.docs[0] = Some(self.doc("import_licence", Tpl::ImportLicence, import_day, n));
            let port = self.below(self.p.ports.len());
            ev.place = Some(self.loc_place(port, LocSet::Port, false));
            self.push(ev);
        }
        let issues = self.range(0, 3);
        let mut left = units;
        for k in 0..issues {
            let d = self.last_day() + self.range(20, 900);
            let q = if k + 1 == issues {
                left
            } else {
                (left / 2).max(1)
            };
            if q == 0 {
                break;
            }
            left -= q.min(left);
            let want = self.want_prec(d, false);
            let mut ev = Ev::new("transferred", d, want);
            let unit = self.below(self.p.agencies[ag].units.len());
            ev.from = Some(self.agency_actor(ag));
            ev.to = Some(self.unit_actor(ag, unit));
            ev.place = Some(self.loc_place(unit, LocSet::Unit(ag), false));
            let na = self.ar.mark();
            let word = if a.ty == "cartridge" {
                "rounds"
            } else {
                "units"
            };
            let _ = write!(self.ar.0, "{q} {word} issued from the lot");
            ev.note = Some(self.ar.since(na));
            if !self.push(ev) {
                break;
            }
        }
        let r = self.f();
        if r < 0.2 {
            let d = self.last_day().max(man_day) + self.range(3650, 9000);
            let want = self.want_prec(d, false);
            let mut ev = Ev::new("destroyed", d, want);
            let site = self.below(self.p.destruction_sites.len());
            ev.place = Some(self.loc_place(site, LocSet::Destruction, false));
            let n = u64::from(self.doc_no(9999));
            ev.docs[0] = Some(self.doc("destruction_certificate", Tpl::Destruction, d, n));
            ev.note = Some(self.ar.put("Expired or unserviceable lot destroyed"));
            self.push(ev);
        } else if r < 0.22 {
            let d = self.last_day() + self.range(30, 3000);
            let want = self.want_prec(d, true);
            let mut ev = Ev::new("reported_stolen", d, want);
            ev.docs[0] = Some(self.incident_doc(d));
            ev.note = Some(
                self.ar
                    .put("Part of the lot missing from the ammunition depot"),
            );
            self.push(ev);
        }
        // Markings.
        let month = civil_from_days(man_day).1;
        let lot_no = self.u64();
        let letters = self.u64();
        let f = Fill {
            number: lot_no,
            letters,
            year,
            month,
            script: Script::Ascii,
        };
        let t = self.render(&cat.ammo_lot[ai], &f);
        self.add_mark("lot", t, Some("packaging"), None);
        if let Some(h) = &cat.ammo_headstamp[ai] {
            let t = self.render(h, &f);
            self.add_mark("headstamp", t, Some("cartridge"), None);
        }
        for (i, spec) in a.marks.iter().enumerate() {
            if self.chance(spec.share) {
                let t = self.render(&cat.ammo_marks[ai][i], &f);
                self.add_mark(
                    mark_kind(&spec.kind),
                    t,
                    spec.component.as_deref(),
                    spec.note.as_deref(),
                );
            }
        }
        let key_year = self
            .evs
            .iter()
            .find(|e| e.ty != "manufactured")
            .map(|e| year_of(e.day))
            .unwrap_or(year);
        self.finish(it, Prefix::Lot, key_year, None, None)
    }

    // -- parts --------------------------------------------------------------------------------

    fn part(&mut self) -> io::Result<()> {
        self.begin();
        let ri = self.below(self.ring_len);
        let (model, pyear, pyear_known, plast, pok, pag) = {
            let r = &self.ring[ri];
            (r.model, r.year, r.year_known, r.last_day, r.ok, r.agency)
        };
        let cat = self.cat;
        let m = &cat.raw.models[model];
        let maker = cat.model_maker[model];
        let ty_name = if m.parts.is_empty() {
            "barrel"
        } else {
            m.parts[self.below(m.parts.len())].as_str()
        };
        let ty = self.ar.put(ty_name);
        let mut it = Item::new("part", ty);
        let mk = &cat.raw.manufacturers[maker];
        it.make = Some(self.ar.put(&mk.name));
        it.model = Some(self.ar.put(&m.model));
        it.calibre = Some(self.ar.put(&m.calibre));
        it.country = Some(cc(&mk.country));
        it.catalogue_ref = Some(self.ar.put(&m.id));
        let parent_key = self.ring[ri].key.clone();
        it.parent = Some(self.ar.put(&parent_key));

        let fit = pok && plast + 60 < MAX_DAY && self.chance(0.7);
        let mut fit_day = None;
        let year;
        if fit {
            let fd = plast + self.range(30, (MAX_DAY - plast).min(2500));
            let lo = jan1(pyear).max(fd - 3000);
            let man_day = self.range(lo, fd - 3);
            year = year_of(man_day);
            if self.chance(0.5) {
                let want = self.man_prec();
                let mut ev = Ev::new("manufactured", man_day, want);
                ev.to = Some(self.maker_actor(maker, "manufacturer"));
                self.push(ev);
            }
            if let Some(ag) = pag.filter(|_| !self.is_local(maker) && self.chance(0.7)) {
                let d = self.range(man_day + 1, fd - 1);
                let want = self.want_prec(d, false);
                let mut ev = Ev::new("imported", d, want);
                ev.from = Some(self.maker_actor(maker, "exporter"));
                ev.to = Some(self.agency_actor(ag));
                let n = u64::from(self.doc_no(999));
                ev.docs[0] = Some(self.doc("import_licence", Tpl::ImportLicence, d, n));
                ev.note = Some(self.ar.put("Spare parts consignment"));
                self.push(ev);
            }
            fit_day = Some(fd);
        } else {
            year = pyear;
            if self.chance(0.4) {
                let d = self.range(jan1(pyear + 1), MAX_DAY);
                let want = self.want_prec(d, false);
                let mut ev = Ev::new("marked", d, want);
                ev.note = Some(self.ar.put("Component serial recorded at a stock count"));
                self.push(ev);
            }
        }
        it.year = (fit || pyear_known).then_some(year);
        // Own serial, from the model's formats.
        let s = self.random_serial(model, false);
        let f = Fill {
            number: s.number,
            letters: s.letters,
            year,
            month: 1,
            script: Script::Ascii,
        };
        let text = self.render(&cat.model_serials[model][s.pattern].0, &f);
        self.add_mark("serial", text, Some(ty_name), None);
        if ty_name == "barrel" {
            if let Some(&pi) = cat.model_proofs[model].first() {
                if self.chance(0.3) {
                    let pm = &cat.raw.proof_marks[pi];
                    let t = self.ar.put(&pm.text);
                    self.add_mark("proof", t, Some("barrel"), Some(&pm.description));
                }
            }
        }
        let key_year = self.evs.last().map(|e| year_of(e.day)).unwrap_or(year);
        self.finish(it, Prefix::Part, key_year, None, None)?;

        // The fitting, on the parent weapon.
        if let Some(fd) = fit_day {
            self.ar.0.clear();
            let part_key = self.key.clone();
            let r = &self.ring[ri];
            let n = r.next_n;
            let mut ev = Ev::new("component_replaced", fd, Prec::Day);
            ev.id = Some(n);
            ev.part = Some(self.ar.put(&part_key));
            let a = self.ar.mark();
            let _ = write!(self.ar.0, "{ty_name} replaced by the unit armourer");
            ev.note = Some(self.ar.since(a));
            self.key.clear();
            self.key.push_str(&parent_key);
            self.write_event(&ev);
            self.stats.events += 1;
            self.drain(false)?;
            let r = &mut self.ring[ri];
            r.next_n += 1;
            r.last_day = fd;
        }
        Ok(())
    }

    // -- finishing: precision, corrections, output -------------------------------------------

    fn finish(
        &mut self,
        mut it: Item,
        prefix: Prefix,
        key_year: i32,
        right_model: Option<S>,
        recent: Option<(usize, Option<usize>)>,
    ) -> io::Result<()> {
        // Precisions, keeping the registry's order equal to the file order.
        let off = self.p.offset_min;
        let mut prev: Option<(i64, u8)> = None;
        for ev in self.evs.iter_mut() {
            let mut p = ev.want;
            if let Some(pk) = prev {
                if sort_key(ev.day, p, off) < pk {
                    p = Prec::Day;
                }
            }
            ev.prec = p;
            prev = Some(sort_key(ev.day, p, off));
        }
        // Ids: most events have one.
        for i in 0..self.evs.len() {
            let with_id = self.evs[i].dup || self.rng.gen::<f64>() < 0.9;
            self.evs[i].id = with_id.then_some(i as u32 + 1);
        }
        self.corrections(&mut it, right_model);

        self.set_key(prefix, key_year);
        self.write_item(&it);
        self.stats.items += 1;
        self.stats.markings += self.marks.len() as u64;
        for i in 0..self.evs.len() {
            let ev = self.evs[i];
            self.write_event(&ev);
        }
        self.stats.events += self.evs.len() as u64;
        self.drain(false)?;

        if let Some((model, agency)) = recent {
            let ok = self
                .evs
                .iter()
                .rev()
                .find(|e| e.ty != "corrected")
                .is_some_and(|e| {
                    matches!(
                        e.ty,
                        "imported" | "transferred" | "assigned" | "returned" | "manufactured"
                    )
                });
            let slot = self.ring_pos;
            self.ring_pos = (self.ring_pos + 1) % RING;
            self.ring_len = (self.ring_len + 1).min(RING);
            let last = self.evs.last().map(|e| e.day).unwrap_or(jan1(key_year));
            let year = it.year.unwrap_or(key_year);
            let r = &mut self.ring[slot];
            r.key.clear();
            r.key.push_str(&self.key);
            r.model = model;
            r.year = year;
            r.year_known = it.year.is_some();
            r.last_day = last;
            r.next_n = self.evs.len() as u32 + 1;
            r.ok = ok;
            r.agency = agency;
        }
        Ok(())
    }

    fn corrections(&mut self, it: &mut Item, right_model: Option<S>) {
        let n0 = self.evs.len();
        if n0 == 0 {
            return;
        }
        let mut corr: [Option<Ev>; 4] = [None; 4];
        let mut nc = 0;
        // Model misidentified at registration.
        if let Some(right) = right_model {
            let mut ev = Ev::new("corrected", 0, Prec::Day);
            ev.corrects = Some(Corr::Item);
            self.tmp.clear();
            let mut o = Obj::new(&mut self.tmp);
            o.str("model", self.ar.get(right));
            o.end();
            ev.set = Some(self.put_tmp());
            ev.note = Some(self.note(&[
                "Model misidentified at registration; corrected after examination against the reference catalogue",
                "Model corrected after a trace response from the manufacturer",
            ]));
            corr[nc] = Some(ev);
            nc += 1;
        }
        // A mistyped date.
        if self.chance(0.03) {
            let start = self.below(n0);
            for k in 0..n0 {
                let i = (start + k) % n0;
                let e = self.evs[i];
                let eligible = e.id.is_some()
                    && e.prec == Prec::Day
                    && !e.dup
                    && matches!(
                        e.ty,
                        "imported" | "exported" | "transferred" | "assigned" | "returned"
                    );
                if !eligible {
                    continue;
                }
                let ms = month_start(e.day);
                let me = next_month_start(e.day) - 1;
                let prev_ok = i == 0 || self.evs[i - 1].day < ms;
                let next_ok = i + 1 >= n0 || {
                    let nx = self.evs[i + 1];
                    sort_key(nx.day, nx.prec, self.p.offset_min).0 > i64::from(me) * 86_400 + 86_399
                };
                if !prev_ok || !next_ok || me <= ms || me > MAX_DAY {
                    continue;
                }
                let mut wrong = self.range(ms, me);
                if wrong == e.day {
                    wrong = if e.day > ms { e.day - 1 } else { e.day + 1 };
                }
                self.tmp.clear();
                self.tmp.extend_from_slice(b"{\"date\":\"");
                write_date(&mut self.tmp, e.day, Prec::Day, "Z");
                self.tmp.extend_from_slice(b"\"}");
                let set = self.put_tmp();
                self.evs[i].day = wrong;
                let mut ev = Ev::new("corrected", 0, Prec::Day);
                ev.corrects = Some(Corr::Event(i as u32 + 1));
                ev.set = Some(set);
                ev.note = Some(self.ar.put("Date mistyped in the register"));
                corr[nc] = Some(ev);
                nc += 1;
                break;
            }
        }
        // A mistyped document number.
        if self.chance(0.03) {
            let start = self.below(n0);
            for k in 0..n0 {
                let i = (start + k) % n0;
                let e = self.evs[i];
                let Some(d) = e.docs[0] else { continue };
                if e.id.is_none() || e.docs[1].is_some() || e.dup {
                    continue;
                }
                let right = self.ar.get(d.number).to_string();
                let Some(wrong) = typo(&right, self.u64()) else {
                    continue;
                };
                let wrong_s = self.ar.put(&wrong);
                self.tmp.clear();
                self.tmp.extend_from_slice(b"{\"documents\":[");
                let mut o = Obj::new(&mut self.tmp);
                o.str("kind", d.kind);
                o.str("number", &right);
                if let Some(b) = d.issued_by {
                    o.str("issued_by", std::str::from_utf8(&b).unwrap_or("XX"));
                }
                o.end();
                self.tmp.extend_from_slice(b"]}");
                let set = self.put_tmp();
                if let Some(doc) = self.evs[i].docs[0].as_mut() {
                    doc.number = wrong_s;
                }
                let mut ev = Ev::new("corrected", 0, Prec::Day);
                ev.corrects = Some(Corr::Event(i as u32 + 1));
                ev.set = Some(set);
                ev.note = Some(self.ar.put("Document number mistyped"));
                corr[nc] = Some(ev);
                nc += 1;
                break;
            }
        }
        // A duplicate entry withdrawn.
        if let Some(i) = self.evs.iter().position(|e| e.dup) {
            let mut ev = Ev::new("corrected", 0, Prec::Day);
            ev.corrects = Some(Corr::Event(i as u32 + 1));
            ev.void = true;
            ev.note = Some(self.ar.put("Duplicate entry"));
            corr[nc] = Some(ev);
            nc += 1;
        }
        let mut applied_model = false;
        for c in corr.iter().take(nc).flatten() {
            let last = self.last_day();
            if last >= MAX_DAY {
                break;
            }
            let mut ev = *c;
            ev.day = last + self.range(1, 400).min(MAX_DAY - last);
            if self.push(ev) {
                let k = self.evs.len() - 1;
                self.evs[k].prec = Prec::Day;
                self.evs[k].id = Some(k as u32 + 1);
                if matches!(c.corrects, Some(Corr::Item)) {
                    applied_model = true;
                }
            }
        }
        if right_model.is_some() && !applied_model {
            // No room for the correction: record the right model directly.
            it.model = right_model;
        }
    }

    fn put_tmp(&mut self) -> S {
        let s = std::str::from_utf8(&self.tmp).unwrap_or("{}");
        let a = self.ar.mark();
        self.ar.0.push_str(s);
        self.ar.since(a)
    }

    fn write_item(&mut self, it: &Item) {
        let ar = &self.ar;
        let pl = self.plain;
        let out = &mut self.line;
        out.extend_from_slice(b"{\"record\":\"item\",\"key\":");
        string(out, &self.key, pl);
        field!(out, "kind");
        string(out, it.kind, true);
        field!(out, "type");
        string(out, ar.get(it.ty), pl);
        opt_field!(out, ar, pl, "make", it.make);
        opt_field!(out, ar, pl, "model", it.model);
        opt_field!(out, ar, pl, "calibre", it.calibre);
        if let Some(c) = it.country {
            field!(out, "country_of_manufacture");
            code(out, c);
        }
        if let Some(y) = it.year {
            field!(out, "year_of_manufacture");
            uint(out, y.max(0) as u64);
        }
        opt_field!(out, ar, pl, "action", it.action);
        if let Some(c) = it.capacity {
            field!(out, "capacity");
            uint(out, u64::from(c));
        }
        if let Some(b) = it.barrel {
            field!(out, "barrel_length_mm");
            num(out, b);
        }
        opt_field!(out, ar, pl, "catalogue_ref", it.catalogue_ref);
        opt_field!(out, ar, pl, "parent", it.parent);
        if let Some(q) = it.quantity {
            field!(out, "quantity");
            uint(out, q);
        }
        out.extend_from_slice(b",\"markings\":[");
        for (i, m) in self.marks.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"kind\":");
            string(out, m.kind, true);
            field!(out, "text");
            string(out, ar.get(m.text), pl);
            opt_field!(out, ar, pl, "component", m.component);
            if let Some(l) = m.legibility {
                field!(out, "legibility");
                string(out, l, true);
            }
            opt_field!(out, ar, pl, "note", m.note);
            out.push(b'}');
        }
        out.push(b']');
        opt_field!(out, ar, pl, "note", it.note);
        opt_field!(out, ar, pl, "legacy_ref", it.legacy);
        out.extend_from_slice(b"}\n");
    }

    fn write_event(&mut self, ev: &Ev) {
        let ar = &self.ar;
        let pl = self.plain;
        let key = &self.key;
        let out = &mut self.line;
        out.extend_from_slice(b"{\"record\":\"event\"");
        if let Some(n) = ev.id {
            out.extend_from_slice(b",\"id\":\"ev-");
            json_raw_str(out, key);
            out.push(b'-');
            uint(out, u64::from(n));
            out.push(b'"');
        }
        field!(out, "item");
        string(out, key, pl);
        field!(out, "type");
        string(out, ev.ty, true);
        out.extend_from_slice(b",\"date\":\"");
        write_date(out, ev.day, ev.prec, &self.p.offset);
        out.push(b'"');
        if let Some(a) = ev.from {
            field!(out, "from");
            actor(out, ar, &a, pl);
        }
        if let Some(a) = ev.to {
            field!(out, "to");
            actor(out, ar, &a, pl);
        }
        if let Some(p) = ev.place {
            out.extend_from_slice(b",\"place\":{\"country\":");
            code(out, p.country);
            opt_field!(out, ar, pl, "admin1", p.admin1);
            opt_field!(out, ar, pl, "locality", p.locality);
            if let Some((la, lo)) = p.ll {
                field!(out, "lat");
                fixed4(out, la);
                field!(out, "lon");
                fixed4(out, lo);
            }
            out.push(b'}');
        }
        if ev.docs[0].is_some() {
            out.extend_from_slice(b",\"documents\":[");
            for (i, d) in ev.docs.iter().flatten().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"kind\":");
                string(out, d.kind, true);
                field!(out, "number");
                string(out, ar.get(d.number), pl);
                if let Some(b) = d.issued_by {
                    field!(out, "issued_by");
                    code(out, b);
                }
                out.push(b'}');
            }
            out.push(b']');
        }
        opt_field!(out, ar, pl, "part", ev.part);
        match ev.corrects {
            Some(Corr::Item) => out.extend_from_slice(b",\"corrects\":\"item\""),
            Some(Corr::Event(n)) => {
                out.extend_from_slice(b",\"corrects\":\"ev-");
                json_raw_str(out, key);
                out.push(b'-');
                uint(out, u64::from(n));
                out.push(b'"');
            }
            None => {}
        }
        if let Some(s) = ev.set {
            field!(out, "set");
            out.extend_from_slice(ar.get(s).as_bytes());
        }
        if ev.void {
            out.extend_from_slice(b",\"void\":true");
        }
        opt_field!(out, ar, pl, "note", ev.note);
        if let Some((k, v)) = ev.extra {
            out.push(b',');
            string(out, k, pl);
            out.push(b':');
            string(out, ar.get(v), pl);
        }
        out.extend_from_slice(b"}\n");
    }
}

/// Writes an actor object.
fn actor(out: &mut Vec<u8>, ar: &Arena, a: &Actor, pl: bool) {
    out.extend_from_slice(b"{\"name\":");
    string(out, ar.get(a.name), pl);
    field!(out, "country");
    code(out, a.country);
    field!(out, "kind");
    string(out, a.kind, true);
    opt_field!(out, ar, pl, "licence", a.licence);
    out.push(b'}');
}

/// Writes a two-letter code as a JSON string.
fn code(out: &mut Vec<u8>, c: [u8; 2]) {
    out.extend_from_slice(&[b'"', c[0], c[1], b'"']);
}

/// Appends a key inside a JSON string: keys are an alpha-2 code, digits and hyphens, which need
/// no escaping.
fn json_raw_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

/// A plausible typing error in a document number: two adjacent digits swapped, or one digit
/// changed.
fn typo(s: &str, r: u64) -> Option<String> {
    let b = s.as_bytes();
    let digits: Vec<usize> = (0..b.len()).filter(|&i| b[i].is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let mut v = b.to_vec();
    let pairs: Vec<usize> = digits
        .iter()
        .copied()
        .filter(|&i| i + 1 < b.len() && b[i + 1].is_ascii_digit() && b[i] != b[i + 1])
        .collect();
    if !pairs.is_empty() && r.is_multiple_of(2) {
        let i = pairs[(r / 2) as usize % pairs.len()];
        v.swap(i, i + 1);
    } else {
        let i = digits[(r / 2) as usize % digits.len()];
        v[i] = b'0' + (v[i] - b'0' + 1 + (r / 7 % 8) as u8) % 10;
    }
    String::from_utf8(v).ok().filter(|w| w != s)
}

fn mark_kind(s: &str) -> &'static str {
    const KINDS: &[&str] = &[
        "serial",
        "manufacturer",
        "country",
        "year",
        "model",
        "calibre",
        "import",
        "proof",
        "factory_code",
        "secondary",
        "state_ownership",
        "lot",
        "headstamp",
        "code_2d",
        "rfid",
        "covert",
        "other",
    ];
    KINDS.iter().find(|k| **k == s).copied().unwrap_or("other")
}

#[derive(Clone, Copy)]
enum Tpl {
    ImportLicence,
    Euc,
    Incident,
    Destruction,
    Deactivation,
    CivilLicence,
    ImportMark,
    StateMark,
}

#[derive(Clone, Copy)]
enum LocSet {
    Locality,
    Port,
    Destruction,
    Foreign,
    Unit(usize),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn typos_differ() {
        for r in 0..50 {
            let t = typo("IL-85/112", r).unwrap();
            assert_ne!(t, "IL-85/112");
            assert_eq!(t.len(), "IL-85/112".len());
        }
        assert!(typo("ABC", 1).is_none());
    }
}

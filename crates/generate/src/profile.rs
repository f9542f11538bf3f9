//! The registry state's institutions and geography (`catalogue/states.json`), or a generic
//! profile for states the file does not describe.

use crate::catalogue::is_alpha2;
use crate::date::civil_from_days;
use crate::json::push_uint;
use serde::Deserialize;

const STATES_JSON: &str = include_str!("../catalogue/states.json");

/// Whether no string of the states file needs JSON escaping (see `catalogue_is_plain`).
pub(crate) fn states_are_plain() -> bool {
    !STATES_JSON.contains('\\')
}

#[derive(Debug, Deserialize)]
struct File {
    states: Vec<StateSrc>,
    #[serde(default)]
    foreign_places: Vec<ForeignSrc>,
}

#[derive(Debug, Deserialize)]
struct StateSrc {
    code: String,
    #[serde(default)]
    utc_offset: Option<String>,
    #[serde(default)]
    treaty: Option<String>,
    #[serde(default)]
    formats: FormatsSrc,
    #[serde(default)]
    ownership_marks: Vec<String>,
    localities: Vec<LocSrc>,
    agencies: Vec<AgencySrc>,
    #[serde(default)]
    seizing_authorities: Vec<AuthSrc>,
    #[serde(default)]
    ports: Vec<LocSrc>,
    #[serde(default)]
    destruction_sites: Vec<LocSrc>,
    #[serde(default)]
    dealers: Vec<DealerSrc>,
    #[serde(default)]
    given_names: Vec<String>,
    #[serde(default)]
    family_names: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct FormatsSrc {
    import_licence: Option<String>,
    end_user_certificate: Option<String>,
    incident: Option<String>,
    destruction_certificate: Option<String>,
    deactivation_certificate: Option<String>,
    civil_licence: Option<String>,
    import_mark: Option<String>,
    state_mark: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LocSrc {
    #[serde(default)]
    name: Option<String>,
    admin1: String,
    locality: String,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    border: bool,
}

#[derive(Debug, Deserialize)]
struct AgencySrc {
    name: String,
    kind: String,
    role: String,
    weight: f64,
    unit_kind: String,
    #[serde(default)]
    ranks: Vec<String>,
    #[serde(default)]
    station_template: Option<String>,
    #[serde(default)]
    units: Vec<LocSrc>,
}

#[derive(Debug, Deserialize)]
struct AuthSrc {
    name: String,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct DealerSrc {
    name: String,
    licence: String,
    admin1: String,
    locality: String,
}

#[derive(Debug, Deserialize)]
struct ForeignSrc {
    country: String,
    admin1: String,
    locality: String,
    lat: f64,
    lon: f64,
    authority: String,
}

/// A named place.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub name: String,
    pub admin1: String,
    pub locality: String,
    pub ll: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Military,
    Police,
}

#[derive(Debug)]
pub(crate) struct Agency {
    pub name: String,
    pub kind: &'static str,
    pub role: Role,
    pub weight: f64,
    pub unit_kind: &'static str,
    pub ranks: Vec<String>,
    pub units: Vec<Loc>,
}

#[derive(Debug)]
pub(crate) struct Authority {
    pub name: String,
    pub kind: &'static str,
}

#[derive(Debug)]
pub(crate) struct Dealer {
    pub name: String,
    pub licence: String,
    pub admin1: String,
    pub locality: String,
}

#[derive(Debug)]
pub(crate) struct Foreign {
    pub country: [u8; 2],
    pub loc: Loc,
    pub authority: String,
}

#[derive(Debug)]
pub(crate) struct Formats {
    pub import_licence: String,
    pub end_user_certificate: String,
    pub incident: String,
    pub destruction_certificate: String,
    pub deactivation_certificate: String,
    pub civil_licence: String,
    pub import_mark: String,
    pub state_mark: String,
}

#[derive(Debug)]
pub(crate) struct Profile {
    pub code: String,
    pub cc: [u8; 2],
    pub offset_min: i32,
    pub offset: String,
    pub treaty: Option<String>,
    pub formats: Formats,
    pub ownership_marks: Vec<String>,
    pub localities: Vec<Loc>,
    /// Indices of border or hot-spot localities.
    pub border: Vec<usize>,
    pub agencies: Vec<Agency>,
    pub seizing: Vec<Authority>,
    pub ports: Vec<Loc>,
    pub destruction_sites: Vec<Loc>,
    pub dealers: Vec<Dealer>,
    pub given: Vec<String>,
    pub family: Vec<String>,
    pub foreign: Vec<Foreign>,
}

pub(crate) fn cc(s: &str) -> [u8; 2] {
    let b = s.as_bytes();
    [
        b.first().copied().unwrap_or(b'X'),
        b.get(1).copied().unwrap_or(b'X'),
    ]
}

/// The actor kinds of the interchange format.
fn actor_kind(s: &str) -> Result<&'static str, String> {
    const KINDS: &[&str] = &[
        "manufacturer",
        "exporter",
        "importer",
        "dealer",
        "broker",
        "carrier",
        "state_agency",
        "armed_forces",
        "police",
        "customs",
        "private_person",
        "company",
        "armed_group",
        "unknown",
    ];
    KINDS
        .iter()
        .find(|k| **k == s)
        .copied()
        .ok_or_else(|| format!("unknown actor kind {s:?}"))
}

fn parse_offset(s: &str) -> Result<i32, String> {
    if s == "Z" {
        return Ok(0);
    }
    let b = s.as_bytes();
    let ok = b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit());
    if !ok {
        return Err(format!("bad UTC offset {s:?}"));
    }
    let d = |i: usize| i32::from(b[i] - b'0');
    let min = (d(1) * 10 + d(2)) * 60 + d(4) * 10 + d(5);
    if min >= 12 * 60 {
        // Timestamps are generated between 06:00 and 20:00 local time; keep them on the same UTC day.
        return Err(format!("UTC offset {s:?} not supported"));
    }
    Ok(if b[0] == b'-' { -min } else { min })
}

fn loc(l: &LocSrc) -> Loc {
    Loc {
        name: l.name.clone().unwrap_or_default(),
        admin1: l.admin1.clone(),
        locality: l.locality.clone(),
        ll: l.lat.zip(l.lon),
    }
}

impl Profile {
    pub(crate) fn load(state: &str) -> Result<Profile, String> {
        if !is_alpha2(state) {
            return Err(format!(
                "state must be an ISO 3166-1 alpha-2 code in capitals, got {state:?}"
            ));
        }
        let file: File = serde_json::from_str(STATES_JSON).map_err(|e| e.to_string())?;
        let mut foreign = Vec::new();
        for f in &file.foreign_places {
            if !is_alpha2(&f.country) {
                return Err(format!("foreign place {}: bad country", f.locality));
            }
            if f.country != state {
                foreign.push(Foreign {
                    country: cc(&f.country),
                    loc: Loc {
                        name: String::new(),
                        admin1: f.admin1.clone(),
                        locality: f.locality.clone(),
                        ll: Some((f.lat, f.lon)),
                    },
                    authority: f.authority.clone(),
                });
            }
        }
        let mut p = match file.states.iter().find(|s| s.code == state) {
            Some(src) => Profile::from_src(src)?,
            None => Profile::generic(state),
        };
        if foreign.is_empty() {
            return Err("states file: no foreign places".into());
        }
        p.foreign = foreign;
        if p.localities.is_empty() || p.agencies.is_empty() || p.seizing.is_empty() {
            return Err(format!("state profile {state}: incomplete"));
        }
        if p.agencies.iter().any(|a| a.units.is_empty()) {
            return Err(format!("state profile {state}: an agency has no units"));
        }
        if p.border.is_empty() {
            p.border = (0..p.localities.len()).collect();
        }
        Ok(p)
    }

    fn from_src(s: &StateSrc) -> Result<Profile, String> {
        let offset = s.utc_offset.clone().unwrap_or_else(|| "Z".into());
        let offset_min = parse_offset(&offset)?;
        let g = generic_formats();
        let f = &s.formats;
        let pick = |o: &Option<String>, d: &str| o.clone().unwrap_or_else(|| d.to_string());
        let formats = Formats {
            import_licence: pick(&f.import_licence, &g.import_licence),
            end_user_certificate: pick(&f.end_user_certificate, &g.end_user_certificate),
            incident: pick(&f.incident, &g.incident),
            destruction_certificate: pick(&f.destruction_certificate, &g.destruction_certificate),
            deactivation_certificate: pick(
                &f.deactivation_certificate,
                &g.deactivation_certificate,
            ),
            civil_licence: pick(&f.civil_licence, &g.civil_licence),
            import_mark: pick(&f.import_mark, &g.import_mark),
            state_mark: pick(&f.state_mark, &g.state_mark),
        };
        let localities: Vec<Loc> = s.localities.iter().map(loc).collect();
        let border = s
            .localities
            .iter()
            .enumerate()
            .filter(|(_, l)| l.border)
            .map(|(i, _)| i)
            .collect();
        let mut agencies = Vec::new();
        for a in &s.agencies {
            let role = match a.role.as_str() {
                "military" => Role::Military,
                "police" => Role::Police,
                r => return Err(format!("agency {}: unknown role {r:?}", a.name)),
            };
            let mut units: Vec<Loc> = a.units.iter().map(loc).collect();
            if let Some(t) = &a.station_template {
                for l in &localities {
                    units.push(Loc {
                        name: t.replace("{locality}", &l.locality),
                        ..l.clone()
                    });
                }
            }
            agencies.push(Agency {
                name: a.name.clone(),
                kind: actor_kind(&a.kind)?,
                role,
                weight: a.weight.max(0.0),
                unit_kind: actor_kind(&a.unit_kind)?,
                ranks: if a.ranks.is_empty() {
                    vec!["Officer".into()]
                } else {
                    a.ranks.clone()
                },
                units,
            });
        }
        let mut seizing = Vec::new();
        for a in &s.seizing_authorities {
            seizing.push(Authority {
                name: a.name.clone(),
                kind: actor_kind(&a.kind)?,
            });
        }
        let generic = Profile::generic(&s.code);
        Ok(Profile {
            code: s.code.clone(),
            cc: cc(&s.code),
            offset_min,
            offset,
            treaty: s.treaty.clone(),
            formats,
            ownership_marks: if s.ownership_marks.is_empty() {
                vec![s.code.clone()]
            } else {
                s.ownership_marks.clone()
            },
            localities,
            border,
            agencies,
            seizing,
            ports: if s.ports.is_empty() {
                generic.ports
            } else {
                s.ports.iter().map(loc).collect()
            },
            destruction_sites: if s.destruction_sites.is_empty() {
                generic.destruction_sites
            } else {
                s.destruction_sites.iter().map(loc).collect()
            },
            dealers: if s.dealers.is_empty() {
                generic.dealers
            } else {
                s.dealers
                    .iter()
                    .map(|d| Dealer {
                        name: d.name.clone(),
                        licence: d.licence.clone(),
                        admin1: d.admin1.clone(),
                        locality: d.locality.clone(),
                    })
                    .collect()
            },
            given: s.given_names.clone(),
            family: s.family_names.clone(),
            foreign: Vec::new(),
        })
    }

    /// Generic institutions and places for a state the states file does not describe. No
    /// coordinates are invented for generic places.
    fn generic(code: &str) -> Profile {
        let mut localities = Vec::new();
        let mut border = Vec::new();
        for r in 1..=8 {
            for t in ['A', 'B', 'C'] {
                if r >= 6 {
                    border.push(localities.len());
                }
                localities.push(Loc {
                    name: String::new(),
                    admin1: format!("Province {r}"),
                    locality: format!("Town {r}{t}"),
                    ll: None,
                });
            }
        }
        let at = |name: String, l: &Loc| Loc { name, ..l.clone() };
        let mil_units = (0..8)
            .map(|i| {
                let l = &localities[i * 3];
                at(
                    format!("{} Infantry Battalion, {}", ordinal(i + 1), l.locality),
                    l,
                )
            })
            .collect();
        let police_units = localities
            .iter()
            .map(|l| at(format!("{} Police Station", l.locality), l))
            .collect();
        let wildlife_units = (0..4)
            .map(|i| {
                let l = &localities[i * 6 + 1];
                at(format!("Wildlife Authority, {} Ranger Post", l.locality), l)
            })
            .collect();
        let prison_units = (0..3)
            .map(|i| {
                let l = &localities[i * 6 + 2];
                at(format!("{} Central Prison", l.locality), l)
            })
            .collect();
        let first = localities[0].clone();
        Profile {
            code: code.to_string(),
            cc: cc(code),
            offset_min: 0,
            offset: "Z".into(),
            treaty: None,
            formats: generic_formats(),
            ownership_marks: vec![code.to_string()],
            border,
            agencies: vec![
                Agency {
                    name: "Ministry of Defence".into(),
                    kind: "state_agency",
                    role: Role::Military,
                    weight: 5.0,
                    unit_kind: "armed_forces",
                    ranks: ["Pte", "Cpl", "Sgt", "Lt", "Capt"].map(String::from).into(),
                    units: mil_units,
                },
                Agency {
                    name: "National Police".into(),
                    kind: "police",
                    role: Role::Police,
                    weight: 5.0,
                    unit_kind: "police",
                    ranks: ["Constable", "Constable", "Sergeant", "Inspector"]
                        .map(String::from)
                        .into(),
                    units: police_units,
                },
                Agency {
                    name: "Wildlife Authority".into(),
                    kind: "state_agency",
                    role: Role::Police,
                    weight: 1.0,
                    unit_kind: "state_agency",
                    ranks: ["Ranger", "Senior Ranger"].map(String::from).into(),
                    units: wildlife_units,
                },
                Agency {
                    name: "Prison Service".into(),
                    kind: "state_agency",
                    role: Role::Police,
                    weight: 0.6,
                    unit_kind: "state_agency",
                    ranks: ["Warder", "Senior Warder"].map(String::from).into(),
                    units: prison_units,
                },
            ],
            seizing: vec![
                Authority {
                    name: "National Police".into(),
                    kind: "police",
                },
                Authority {
                    name: "Customs Administration".into(),
                    kind: "customs",
                },
                Authority {
                    name: "Armed Forces".into(),
                    kind: "armed_forces",
                },
            ],
            ports: vec![
                at("Main Seaport".into(), &first),
                at("International Airport".into(), &first),
            ],
            destruction_sites: vec![at("Central Armoury".into(), &first)],
            dealers: (1..=3)
                .map(|i| Dealer {
                    name: format!("Licensed firearms dealer No. {i}"),
                    licence: format!("{code}/D/{i:03}"),
                    admin1: first.admin1.clone(),
                    locality: first.locality.clone(),
                })
                .collect(),
            given: Vec::new(),
            family: Vec::new(),
            foreign: Vec::new(),
            localities,
        }
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn generic_formats() -> Formats {
    Formats {
        import_licence: "{cc}/IL/{yyyy}/{n4}".into(),
        end_user_certificate: "{cc}/EUC/{yyyy}/{n4}".into(),
        incident: "{cc}-INC-{yyyy}-{n5}".into(),
        destruction_certificate: "{cc}/DC/{yyyy}/{n4}".into(),
        deactivation_certificate: "{cc}/DA/{yyyy}/{n4}".into(),
        civil_licence: "{cc}/FL/{yyyy}/{n6}".into(),
        import_mark: "{cc} {yy}".into(),
        state_mark: "{cc}/{yyyy}/{n5}".into(),
    }
}

/// Renders a document-number template: `{cc}`, `{yyyy}`, `{yy}`, `{mm}`, `{dd}`, `{n}`, `{n2}`…`{n9}`
/// (zero-padded). Unknown fields are copied literally.
pub(crate) fn fill(out: &mut String, tpl: &str, cc: &str, day: i32, n: u64) {
    let (y, m, d) = civil_from_days(day);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            out.push_str(after);
            return;
        };
        let field = &after[1..close];
        match field {
            "cc" => out.push_str(cc),
            "yyyy" => push_uint(out, y.max(0) as u64, 4),
            "yy" => push_uint(out, y.rem_euclid(100) as u64, 2),
            "mm" => push_uint(out, u64::from(m), 2),
            "dd" => push_uint(out, u64::from(d), 2),
            "n" => push_uint(out, n, 0),
            f if f.len() == 2 && f.starts_with('n') && f.as_bytes()[1].is_ascii_digit() => {
                push_uint(out, n, usize::from(f.as_bytes()[1] - b'0'));
            }
            _ => out.push_str(&after[..=close]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::date::days_from_civil;

    #[test]
    fn templates() {
        let mut s = String::new();
        fill(
            &mut s,
            "OB {n2}/{dd}/{mm}/{yyyy} {cc} {x} IL-{yy}/{n3}",
            "KE",
            days_from_civil(2011, 2, 3),
            7,
        );
        assert_eq!(s, "OB 07/03/02/2011 KE {x} IL-11/007");
    }

    #[test]
    fn profiles_load() {
        let ke = Profile::load("KE").unwrap();
        assert_eq!(ke.offset_min, 180);
        assert!(ke.localities.iter().any(|l| l.admin1 == "Turkana"));
        assert!(ke.foreign.iter().all(|f| &f.country != b"KE"));
        let xx = Profile::load("GH").unwrap();
        assert!(xx.localities.iter().all(|l| l.ll.is_none()));
        assert!(xx.foreign.iter().any(|f| &f.country == b"KE"));
        assert!(Profile::load("ken").is_err());
    }
}

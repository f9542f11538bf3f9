//! The organisation model: the node is one state; it has agencies (police, defence, customs,
//! licensing authority, dealers…); people and systems act for an agency in one role.
//!
//! Only checked values live here ("parse, don't validate"): an [`AccountName`] or an
//! [`AgencyName`] cannot hold a string that would be ambiguous in a log line, a URL or a
//! policy, and a [`Role`] is one of the roles the shipped policy set knows. Nothing here does
//! I/O, hashes a password or reads the clock; that is `tracemark-access`'s job.

use std::fmt;

/// Why a name or role was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("{what} '{value}' must be 1 to 64 characters of a-z, 0-9, '.', '-' and '_', starting with a letter")]
    BadName { what: &'static str, value: String },
    #[error("role '{0}' is not one of: {roles}", roles = Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))]
    UnknownRole(String),
    #[error("agency kind '{0}' is not one of: police, defence, customs, licensing, dealer, other")]
    UnknownAgencyKind(String),
}

/// Checks the common shape of account, agency and service names: lowercase ASCII so that
/// two names that look alike are the same name (no homoglyph accounts).
fn check_name(what: &'static str, value: &str) -> Result<String, AccountError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.as_bytes()[0].is_ascii_lowercase()
        && value.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        });
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AccountError::BadName {
            what,
            value: value.chars().take(80).collect(),
        })
    }
}

macro_rules! checked_name {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, AccountError> {
                check_name($what, value).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_name!(
    /// A user's login name (`j.kamau`).
    AccountName,
    "account name"
);
checked_name!(
    /// An agency's short name (`police-nairobi`, `mod-armoury`).
    AgencyName,
    "agency name"
);
checked_name!(
    /// A service account's name (`border-gateway`).
    ServiceName,
    "service name"
);

/// What a person or system may do is decided by its role (and agency) through the policy
/// set; these names are the `principal.role` values that `policies/tracemark.cedar` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    RegistryClerk,
    Investigator,
    /// The national point of contact for tracing.
    TracingOfficer,
    LicensingOfficer,
    StockpileManager,
    Analyst,
    Auditor,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::RegistryClerk,
        Role::Investigator,
        Role::TracingOfficer,
        Role::LicensingOfficer,
        Role::StockpileManager,
        Role::Analyst,
        Role::Auditor,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::RegistryClerk => "registry_clerk",
            Role::Investigator => "investigator",
            Role::TracingOfficer => "tracing_officer",
            Role::LicensingOfficer => "licensing_officer",
            Role::StockpileManager => "stockpile_manager",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AccountError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AccountError::UnknownRole(s.chars().take(80).collect()))
    }

    /// Roles whose holders must sign in with a second factor (TOTP). Service accounts
    /// (bearer tokens, no second factor) may not hold them.
    pub fn is_privileged(self) -> bool {
        matches!(
            self,
            Role::Administrator | Role::Auditor | Role::TracingOfficer
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of body an agency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgencyKind {
    Police,
    Defence,
    Customs,
    Licensing,
    Dealer,
    Other,
}

impl AgencyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AgencyKind::Police => "police",
            AgencyKind::Defence => "defence",
            AgencyKind::Customs => "customs",
            AgencyKind::Licensing => "licensing",
            AgencyKind::Dealer => "dealer",
            AgencyKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<AgencyKind, AccountError> {
        Ok(match s {
            "police" => AgencyKind::Police,
            "defence" => AgencyKind::Defence,
            "customs" => AgencyKind::Customs,
            "licensing" => AgencyKind::Licensing,
            "dealer" => AgencyKind::Dealer,
            "other" => AgencyKind::Other,
            _ => {
                return Err(AccountError::UnknownAgencyKind(
                    s.chars().take(80).collect(),
                ))
            }
        })
    }
}

/// Which recorded holders make up an agency's holdings: those recorded under a holder name,
/// of a holder kind (`armed_forces`), or both (then both must match). Names compare exactly,
/// as recorded; kinds compare as the interchange spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holdings {
    name: Option<String>,
    kind: Option<String>,
}

impl Holdings {
    /// `None` when neither a name nor a kind is given (blank counts as not given).
    pub fn new(name: Option<&str>, kind: Option<&str>) -> Option<Holdings> {
        let clean = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (name, kind) = (clean(name), clean(kind));
        (name.is_some() || kind.is_some()).then_some(Holdings { name, kind })
    }

    pub fn matches(&self, holder_name: Option<&str>, holder_kind: Option<&str>) -> bool {
        let name_ok = self.name.as_deref().is_none_or(|n| Some(n) == holder_name);
        let kind_ok = self.kind.as_deref().is_none_or(|k| Some(k) == holder_kind);
        name_ok && kind_ok
    }

    /// Name and kind rules are more specific than a kind alone.
    fn specificity(&self) -> u8 {
        u8::from(self.name.is_some()) * 2 + u8::from(self.kind.is_some())
    }
}

/// An agency and the holders that make up its holdings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyHoldings {
    pub agency: String,
    pub holdings: Holdings,
    /// Whether its holdings are visible only to its own users (and to the roles the policy
    /// exempts).
    pub need_to_know: bool,
}

/// The agency holding an item whose current holder is (`holder_name`, `holder_kind`): the
/// matching rule that is most specific (name and kind, then name, then kind), ties broken by
/// agency name so the answer never depends on the order agencies were listed in.
pub fn holding_agency<'a>(
    rules: &'a [AgencyHoldings],
    holder_name: Option<&str>,
    holder_kind: Option<&str>,
) -> Option<&'a AgencyHoldings> {
    rules
        .iter()
        .filter(|r| r.holdings.matches(holder_name, holder_kind))
        .min_by(|a, b| {
            b.holdings
                .specificity()
                .cmp(&a.holdings.specificity())
                .then_with(|| a.agency.cmp(&b.agency))
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_lowercase_ascii_and_bounded() {
        assert!(AccountName::parse("j.kamau").is_ok());
        assert!(AccountName::parse("admin").is_ok());
        for bad in [
            "",
            "Admin",
            "1abc",
            "a b",
            "а",
            "x'; DROP TABLE users;--",
            "../etc",
            &"a".repeat(65),
        ] {
            assert!(AccountName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_round_trip_and_privilege() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).unwrap(), r);
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Administrator.is_privileged());
        assert!(!Role::RegistryClerk.is_privileged());
    }

    #[test]
    fn the_most_specific_holdings_rule_wins() {
        let rule = |agency: &str, name: Option<&str>, kind: Option<&str>| AgencyHoldings {
            agency: agency.into(),
            holdings: Holdings::new(name, kind).unwrap(),
            need_to_know: true,
        };
        assert_eq!(Holdings::new(Some(" "), None), None);
        let rules = vec![
            rule("defence", None, Some("armed_forces")),
            rule("guard", Some("Presidential Guard"), Some("armed_forces")),
            rule("armoury", Some("Central Armoury"), None),
        ];
        let who = |n: Option<&str>, k: Option<&str>| {
            holding_agency(&rules, n, k).map(|r| r.agency.as_str())
        };
        assert_eq!(
            who(Some("1st Battalion"), Some("armed_forces")),
            Some("defence")
        );
        assert_eq!(
            who(Some("Presidential Guard"), Some("armed_forces")),
            Some("guard")
        );
        assert_eq!(who(Some("Presidential Guard"), Some("police")), None);
        assert_eq!(
            who(Some("Central Armoury"), Some("state_agency")),
            Some("armoury")
        );
        assert_eq!(who(None, None), None);
        let mut reversed = rules.clone();
        reversed.reverse();
        assert_eq!(
            holding_agency(&reversed, Some("1st Battalion"), Some("armed_forces"))
                .map(|r| r.agency.as_str()),
            Some("defence")
        );
    }
}

//! Checked identifiers: values that cannot hold an invalid state once constructed.
//!
//! Every constructor is a parser ("parse, don't validate"): code that holds a [`CountryCode`]
//! or an [`ItemKey`] never has to check it again.

use std::fmt;

/// The ISO 3166-1 alpha-2 codes officially assigned (249), sorted for binary search.
/// Exceptionally reserved and transitional codes (e.g. `SU`, `YU`, `UK`) are refused on purpose:
/// a registry must name a state that exists in the standard, and old markings are recorded as
/// markings, not as countries.
const ASSIGNED_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An ISO 3166-1 alpha-2 country code that is officially assigned.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses an upper-case assigned alpha-2 code.
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.as_bytes();
        if b.len() != 2 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(format!(
                "'{s}' is not an ISO 3166-1 alpha-2 code (two letters, e.g. KE)"
            ));
        }
        if !b.iter().all(u8::is_ascii_uppercase) {
            return Err(format!(
                "'{s}' must be upper case ('{}')",
                s.to_ascii_uppercase()
            ));
        }
        if !is_assigned(s) {
            return Err(format!("'{s}' is not an assigned ISO 3166-1 alpha-2 code"));
        }
        Ok(CountryCode([b[0], b[1]]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

fn is_assigned(code: &str) -> bool {
    // The list is sorted with one separator between 2-letter codes: binary search by stride.
    let table = ASSIGNED_ALPHA2.as_bytes();
    let n = table.len().div_ceil(3);
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match table[mid * 3..mid * 3 + 2].cmp(code.as_bytes()) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

/// Longest key or idempotency id accepted; long enough for any national numbering scheme.
pub const MAX_KEY_CHARS: usize = 128;

fn check_key_text(s: &str, what: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if s.chars().count() > MAX_KEY_CHARS {
        return Err(format!("{what} is longer than {MAX_KEY_CHARS} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{what} contains a control character"));
    }
    if s.trim() != s {
        return Err(format!("{what} has leading or trailing white space"));
    }
    Ok(())
}

/// The registry's key for an item (unique in a store). Serials are attributes, not keys:
/// serial numbers are not unique across makers, so every item has its own key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ItemKey(String);

impl ItemKey {
    pub fn parse(s: &str) -> Result<Self, String> {
        check_key_text(s, "key")?;
        Ok(ItemKey(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client-chosen idempotency id for an event.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct EventId(String);

impl EventId {
    pub fn parse(s: &str) -> Result<Self, String> {
        check_key_text(s, "id")?;
        Ok(EventId(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes() {
        assert_eq!(ASSIGNED_ALPHA2.split(' ').count(), 249);
        let mut sorted: Vec<&str> = ASSIGNED_ALPHA2.split(' ').collect();
        sorted.sort_unstable();
        assert_eq!(sorted.join(" "), ASSIGNED_ALPHA2);
        assert!(CountryCode::parse("KE").is_ok());
        assert!(CountryCode::parse("ke").unwrap_err().contains("upper case"));
        assert!(CountryCode::parse("SU").is_err());
        for c in ASSIGNED_ALPHA2.split(' ') {
            assert!(is_assigned(c), "{c}");
        }
        for c in ["AA", "ZZ", "AB", "ZX", "UK", "EU"] {
            assert!(!is_assigned(c), "{c}");
        }
        assert!(CountryCode::parse("KEN").is_err());
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn keys() {
        assert!(ItemKey::parse("KE-2019-000123").is_ok());
        assert!(ItemKey::parse("").is_err());
        assert!(ItemKey::parse(" a").is_err());
        assert!(ItemKey::parse("a\u{7}").is_err());
        assert!(ItemKey::parse(&"x".repeat(129)).is_err());
        assert!(ItemKey::parse("ПА-١٢٣").is_ok());
    }
}

//! JSON forms of the domain crate's checked values.
//!
//! `tracemark-domain` keeps its types free of serde on purpose (its interchange parser names
//! the field of every defect itself). A trace request is a serde document, so this module
//! gives those types their JSON form — the same strings the interchange format uses — and
//! parses them back with the domain's own constructors, so a request can never hold a country
//! code or a date the registry would refuse.
//!
//! Use with `#[serde(with = "crate::wire::one")]`, `wire::opt` or `wire::vec`.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tracemark_domain::date::PartialDate;
use tracemark_domain::ids::{CountryCode, ItemKey};
use tracemark_domain::model::{ItemKind, Legibility, MarkingKind};

/// A domain value with a string form and a parser.
pub trait Codec: Sized {
    fn encode(&self) -> String;
    fn decode(s: &str) -> Result<Self, String>;
}

impl Codec for CountryCode {
    fn encode(&self) -> String {
        self.as_str().to_owned()
    }
    fn decode(s: &str) -> Result<Self, String> {
        CountryCode::parse(s)
    }
}

impl Codec for ItemKey {
    fn encode(&self) -> String {
        self.as_str().to_owned()
    }
    fn decode(s: &str) -> Result<Self, String> {
        ItemKey::parse(s)
    }
}

impl Codec for PartialDate {
    fn encode(&self) -> String {
        self.as_str().to_owned()
    }
    fn decode(s: &str) -> Result<Self, String> {
        PartialDate::parse(s)
    }
}

macro_rules! enum_codec {
    ($t:ty, $what:literal) => {
        impl Codec for $t {
            fn encode(&self) -> String {
                self.as_str().to_owned()
            }
            fn decode(s: &str) -> Result<Self, String> {
                <$t>::parse(s).ok_or_else(|| {
                    format!(
                        "'{s}' is not a {} (expected one of: {})",
                        $what,
                        <$t>::expected()
                    )
                })
            }
        }
    };
}

enum_codec!(ItemKind, "item kind");
enum_codec!(MarkingKind, "marking kind");
enum_codec!(Legibility, "legibility");

/// A value through its [`Codec`], for use inside `Option` and `Vec`.
struct Coded<T>(T);

impl<T: Codec> Serialize for Coded<&T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.encode())
    }
}

impl<'de, T: Codec> Deserialize<'de> for Coded<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        T::decode(&s).map(Coded).map_err(D::Error::custom)
    }
}

pub mod one {
    use super::*;
    pub fn serialize<T: Codec, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        Coded(v).serialize(s)
    }
    pub fn deserialize<'de, T: Codec, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        Coded::<T>::deserialize(d).map(|c| c.0)
    }
}

pub mod opt {
    use super::*;
    pub fn serialize<T: Codec, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(Coded).serialize(s)
    }
    pub fn deserialize<'de, T: Codec, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        Ok(Option::<Coded<T>>::deserialize(d)?.map(|c| c.0))
    }
}

pub mod vec {
    use super::*;
    pub fn serialize<T: Codec, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(Coded))
    }
    pub fn deserialize<'de, T: Codec, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(Vec::<Coded<T>>::deserialize(d)?
            .into_iter()
            .map(|c| c.0)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Probe {
        #[serde(with = "one")]
        c: CountryCode,
        #[serde(with = "opt", default, skip_serializing_if = "Option::is_none")]
        d: Option<PartialDate>,
        #[serde(with = "vec")]
        k: Vec<MarkingKind>,
    }

    #[test]
    fn round_trip_and_refusals() {
        let p: Probe =
            serde_json::from_str(r#"{"c":"KE","d":"1985-06","k":["serial","import"]}"#).unwrap();
        assert_eq!(p.c.as_str(), "KE");
        assert_eq!(p.d.as_ref().unwrap().as_str(), "1985-06");
        let back = serde_json::to_string(&p).unwrap();
        assert_eq!(back, r#"{"c":"KE","d":"1985-06","k":["serial","import"]}"#);
        let e = serde_json::from_str::<Probe>(r#"{"c":"SU","k":[]}"#).unwrap_err();
        assert!(e.to_string().contains("not an assigned"), "{e}");
        let e = serde_json::from_str::<Probe>(r#"{"c":"KE","k":["serail"]}"#).unwrap_err();
        assert!(e.to_string().contains("expected one of"), "{e}");
        let p: Probe = serde_json::from_str(r#"{"c":"KE","k":[]}"#).unwrap();
        assert!(p.d.is_none());
    }
}

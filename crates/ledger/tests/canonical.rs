//! RFC 8785 (JCS) examples.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use tracemark_ledger::canonical::{canonical_json, canonical_json_of};

fn canon(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
    let bytes = canonical_json(&value).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// RFC 8785 §3.2.2: whitespace, number formatting, string escaping.
#[test]
fn rfc8785_section_3_2_2() {
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let want = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(canon(input), want);
}

/// RFC 8785 §3.2.3: members sorted by UTF-16 code units, so U+1F600 (a
/// surrogate pair starting 0xD83D) sorts before U+FB33.
#[test]
fn rfc8785_section_3_2_3_sorting() {
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(canon(input), want);
}

/// Number serialization samples from RFC 8785 Appendix B.
#[test]
fn rfc8785_appendix_b_numbers() {
    let cases = [
        ("0", "0"),
        ("-0.0", "0"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("9007199254740992", "9007199254740992"),
        ("295147905179352830000", "295147905179352830000"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("0.000001", "0.000001"),
        ("1e-7", "1e-7"),
        ("-1.5", "-1.5"),
    ];
    for (input, want) in cases {
        assert_eq!(canon(&format!("[{input}]")), format!("[{want}]"), "{input}");
    }
}

#[test]
fn nested_objects_and_structs() {
    assert_eq!(
        canon(r#"{"b":{"z":1,"a":[{"y":2,"x":3}]},"a":"é"}"#),
        "{\"a\":\"é\",\"b\":{\"a\":[{\"x\":3,\"y\":2}],\"z\":1}}"
    );
    #[derive(serde::Serialize)]
    struct Rec {
        serial: &'static str,
        calibre: f64,
    }
    let bytes = canonical_json_of(&Rec {
        serial: "A1",
        calibre: 9.0,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bytes, br#"{"calibre":9,"serial":"A1"}"#);
}

mod against_reference_implementation {
    //! Our writer must agree byte for byte with `serde_json_canonicalizer` on any value.
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};
    use tracemark_ledger::canonical_json;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{1,8}",
            "\\PC{0,6}",
            Just("\u{E000}x".to_string()),
            Just("\u{1F600}".to_string()),
            Just("\u{FFFD}".to_string()),
            Just("é".to_string()),
        ]
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| Value::Number(i.into())),
            any::<u64>().prop_map(|u| Value::Number(u.into())),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
            (-180.0f64..180.0).prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
            "\\PC{0,12}".prop_map(Value::String),
            "[\\x00-\\x1f\"\\\\/a\u{7f}]{0,8}".prop_map(Value::String),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn same_bytes_as_serde_json_canonicalizer(v in value()) {
            let ours = canonical_json(&v).unwrap();
            let reference = serde_json_canonicalizer::to_vec(&v).unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&reference));
        }
    }
}

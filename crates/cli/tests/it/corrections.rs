//! Corrections that depend on the item they correct.

use crate::Store;

/// Regression: a correction of an ammunition lot's quantity was always refused ("only an
/// ammunition_lot has a quantity") because the parser checked it against a dummy item.
#[test]
fn quantity_corrections_are_accepted_for_lots_only() {
    let s = Store::new("KE");
    let data = s.file(
        "lots.jsonl",
        r#"{"record":"item","key":"LOT-1","kind":"ammunition_lot","calibre":"7.62x39mm","quantity":1000,"markings":[{"kind":"lot","text":"LOT 17-04"}]}
{"record":"item","key":"RIFLE-1","kind":"firearm","markings":[{"kind":"serial","text":"AK123"}]}
"#,
    );
    let (code, v) = s.import(&data, &[]);
    assert_eq!(code, 0, "{v}");
    let fix = s.file(
        "count.jsonl",
        r#"{"record":"event","item":"LOT-1","type":"corrected","date":"2024-03-01","corrects":"item","set":{"quantity":960},"note":"stock count"}
"#,
    );
    let (code, v) = s.import(&fix, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        s.json(&["item", "show", "LOT-1", "--json"])["quantity"],
        960
    );
    let wrong = s.file(
        "wrong.jsonl",
        r#"{"record":"event","item":"RIFLE-1","type":"corrected","date":"2024-03-01","corrects":"item","set":{"quantity":3}}
"#,
    );
    let (code, v) = s.import(&wrong, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["errors"][0]["field"], "set.quantity", "{v}");
    assert_eq!(s.json(&["ledger", "verify", "--json"])["ok"], true);
}

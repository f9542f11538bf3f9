//! Marking normalization: the `C`, `T` and `F` functions of the automation contract (§3 `search`).
//!
//! A marking is stored exactly as seen ("ПА 1234", "٥٦١٢٣٤٥", "ＡＢ１２３"); searching compares
//! derived *keys*:
//!
//! * `C(s)`, [`canonical`]: Unicode NFKC; every decimal digit of any script (Unicode general
//!   category `Nd`) becomes the ASCII digit of the same value; full Unicode uppercase; every
//!   character that is neither a letter nor an ASCII digit is removed. "Letter" means the Unicode
//!   `Alphabetic` property (general category `L*` plus letter numbers and the dependent vowel signs
//!   of abugidas such as Devanagari, which are part of the letters of those scripts).
//! * `T(s)`, transliteration to Latin, in two variants applied to Cyrillic and Greek letters only:
//!   [`transliterate_visual`] (a letter that looks like a Latin letter becomes that letter:
//!   Cyrillic Р → P) and [`transliterate_phonetic`] (the letter's sound: Cyrillic Р → R).
//!   Latin letters, digits and letters of every other script (Chinese characters, Arabic letters…)
//!   are never changed: in particular the UTS #39 skeleton is not applied to Latin text, because
//!   it maps the digit `0` to the letter `O`.
//! * `F(s)`, [`fold`]: the usual misreads `O Q D → 0`, `I L → 1`, `Z → 2`, `S → 5`, `G → 6`,
//!   `B → 8`, `U → V`.
//!
//! [`keys`] gives, for one text, `C(s)`, `visual = F(T_visual(C(s)))` and
//! `phonetic = F(T_phonetic(C(s)))`.
//!
//! # Match rule
//!
//! With `q` the query and `m` a marking:
//!
//! * `exact` if `C(q) = C(m)`;
//! * `normalized` if the sets `{visual(q), phonetic(q)}` and `{visual(m), phonetic(m)}` intersect
//!   (a query typed visually matches a marking keyed phonetically and the other way round, since
//!   the officer who typed the query and the one who recorded the marking may have chosen
//!   differently);
//! * `wildcard` and `fuzzy` compare every variant of the query with every variant of the marking
//!   and keep the best result.
//!
//! # Decisions, and why
//!
//! * **Decimal digits.** `char::to_digit` only knows ASCII, and `char::is_numeric` also accepts
//!   non-decimal numbers (`²`, `½`, circled numbers), so [`DECIMAL_ZEROS`] lists the zero of
//!   every `Nd` run (Unicode guarantees that each run is the ten digits 0–9 in order). The list
//!   covers Unicode 17; a test checks every run against the standard library's Unicode tables.
//! * **Visual transliteration.** Derived from the UTS #39 confusables of the `unicode-security`
//!   crate: a Cyrillic or Greek letter whose confusable prototype is a single ASCII letter or digit
//!   becomes it (Cyrillic А В Е К М Н О Р С Т Х У Ѕ Ј → A B E K M H O P C T X Y S J; Greek
//!   Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ → A B E Z H I K M N O P T Y X; Cyrillic З → 3, because an
//!   officer who types what she sees types the digit). A prototype that is an ASCII letter with
//!   diacritics becomes that accented Latin letter (Ё → Ë). Two explicit rules correct the
//!   confusables data for our use: the prototype of the vertical-stroke letters (Greek Ι, Cyrillic
//!   І, Ӏ) is the lowercase `l`, which in uppercase marking text reads as `I`; and the lowercase
//!   prototypes `b` (Ь) and `h` (Һ) are taken as the uppercase letters an officer would type.
//!   Prototypes of more than one character (Ы → "bl", Ю → "lO") are not used: a letter becomes
//!   one letter, so that wildcard positions stay where the officer counted them.
//! * **Phonetic transliteration.** `any_ascii` (BGN/PCGN-like romanization) for Cyrillic and
//!   Greek, uppercased, keeping ASCII letters and digits. Cyrillic Х becomes `KH` (the
//!   romanization); the visual variant already gives `X`, so both typings are found. A letter
//!   whose romanization has no letter (the hard and soft signs Ъ Ь) stays as it is.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// The three keys of one text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Keys {
    /// `C(s)`.
    pub canonical: String,
    /// `F(T_visual(C(s)))`.
    pub visual: String,
    /// `F(T_phonetic(C(s)))`.
    pub phonetic: String,
}

/// The code point of the digit zero of every run of decimal digits (general category `Nd`),
/// Unicode 17. Each run is the ten digits 0–9 in order.
pub const DECIMAL_ZEROS: [u32; 77] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450,
    0x114D0, 0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50,
    0x11D50, 0x11DA0, 0x11DE0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950,
    0x1FBF0,
];

/// The ASCII digit for a decimal digit of any script, or `None` if `c` is not a decimal digit.
pub fn decimal_digit_to_ascii(c: char) -> Option<char> {
    let u = u32::from(c);
    if c.is_ascii_digit() {
        return Some(c);
    }
    if u < 0x0660 {
        return None;
    }
    let i = DECIMAL_ZEROS.partition_point(|&z| z <= u);
    let zero = DECIMAL_ZEROS[i.checked_sub(1)?];
    let value = u - zero;
    if value < 10 {
        char::from_digit(value, 10)
    } else {
        None
    }
}

/// `C(s)`: NFKC, decimal digits of every script to ASCII, uppercase, letters and digits only.
pub fn canonical(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        // NFKC and uppercase are trivial on ASCII: the common case of Latin serials.
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b.to_ascii_uppercase()));
            }
        }
        return out;
    }
    for c in s.nfkc() {
        if let Some(d) = decimal_digit_to_ascii(c) {
            out.push(d);
            continue;
        }
        for u in c.to_uppercase() {
            if u.is_alphabetic() {
                out.push(u);
            } else if let Some(d) = decimal_digit_to_ascii(u) {
                out.push(d);
            }
        }
    }
    out
}

/// Whether `c` belongs to the Greek or Cyrillic blocks, whose letters `T` transliterates.
fn is_greek_or_cyrillic(c: char) -> bool {
    matches!(u32::from(c),
        0x0370..=0x03FF        // Greek and Coptic
        | 0x1F00..=0x1FFF      // Greek Extended
        | 0x0400..=0x052F      // Cyrillic, Cyrillic Supplement
        | 0x1C80..=0x1C8F      // Cyrillic Extended-C
        | 0x2DE0..=0x2DFF      // Cyrillic Extended-A
        | 0xA640..=0xA69F      // Cyrillic Extended-B
        | 0x1E030..=0x1E08F) // Cyrillic Extended-D
}

/// How a single Greek or Cyrillic letter is transliterated.
#[derive(Clone, Copy)]
enum Translit {
    /// The letter stays.
    Keep,
    /// The letter becomes one character.
    One(char),
    /// The letter becomes up to four ASCII characters (phonetic only).
    Many([u8; 4], u8),
}

struct Tables {
    /// Indexed by `code point - base` per block, as `(base, entries)`.
    visual: Vec<(u32, Vec<Translit>)>,
    phonetic: Vec<(u32, Vec<Translit>)>,
}

const BLOCKS: [(u32, u32); 7] = [
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1C80, 0x1C8F),
    (0x1E00, 0x1FFF), // only 1F00.. is Greek; the rest stays Keep (not Greek/Cyrillic)
    (0x2DE0, 0x2DFF),
    (0xA640, 0xA69F),
    (0x1E030, 0x1E08F),
];

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut visual = Vec::new();
        let mut phonetic = Vec::new();
        for (lo, hi) in BLOCKS {
            let mut v = Vec::with_capacity((hi - lo + 1) as usize);
            let mut p = Vec::with_capacity((hi - lo + 1) as usize);
            for u in lo..=hi {
                match char::from_u32(u) {
                    Some(c) if is_greek_or_cyrillic(c) => {
                        v.push(compute_visual(c));
                        p.push(compute_phonetic(c));
                    }
                    _ => {
                        v.push(Translit::Keep);
                        p.push(Translit::Keep);
                    }
                }
            }
            visual.push((lo, v));
            phonetic.push((lo, p));
        }
        Tables { visual, phonetic }
    })
}

fn lookup(table: &[(u32, Vec<Translit>)], c: char) -> Translit {
    let u = u32::from(c);
    for (base, entries) in table {
        if u >= *base {
            if let Some(t) = entries.get((u - base) as usize) {
                return *t;
            }
        }
    }
    Translit::Keep
}

/// The visual transliteration of one Greek or Cyrillic letter, from the UTS #39 confusables.
fn compute_visual(c: char) -> Translit {
    if !c.is_alphabetic() {
        return Translit::Keep;
    }
    let proto: String = unicode_security::skeleton(&c.to_string()).nfc().collect();
    let mut chars = proto.chars();
    let (Some(p), None) = (chars.next(), chars.next()) else {
        return Translit::Keep;
    };
    if p == c {
        return Translit::Keep;
    }
    // The confusables prototype of vertical-stroke letters is the lowercase `l`; in uppercase
    // marking text such a stroke is read as `I`.
    if p == 'l' {
        return Translit::One('I');
    }
    if p.is_ascii_alphanumeric() {
        return Translit::One(p.to_ascii_uppercase());
    }
    // An ASCII letter with diacritics (Ё → Ë): accept it if it decomposes to an ASCII uppercase
    // letter followed by combining marks only.
    let mut decomposed = p.nfd();
    let base_is_ascii_upper = decomposed.next().is_some_and(|b| b.is_ascii_uppercase());
    if base_is_ascii_upper && decomposed.all(|m| !m.is_alphanumeric()) {
        return Translit::One(p);
    }
    Translit::Keep
}

/// The phonetic transliteration of one Greek or Cyrillic letter, from `any_ascii`.
fn compute_phonetic(c: char) -> Translit {
    if !c.is_alphabetic() {
        return Translit::Keep;
    }
    let mut bytes = [0u8; 4];
    let mut n = 0u8;
    for b in any_ascii::any_ascii_char(c).bytes() {
        if b.is_ascii_alphanumeric() {
            if usize::from(n) == bytes.len() {
                return Translit::Keep;
            }
            bytes[usize::from(n)] = b.to_ascii_uppercase();
            n += 1;
        }
    }
    match n {
        0 => Translit::Keep,
        1 => Translit::One(char::from(bytes[0])),
        _ => Translit::Many(bytes, n),
    }
}

fn transliterate(s: &str, table: &[(u32, Vec<Translit>)], out: &mut String) {
    for c in s.chars() {
        if c.is_ascii() || !is_greek_or_cyrillic(c) {
            out.push(c);
            continue;
        }
        match lookup(table, c) {
            Translit::Keep => out.push(c),
            Translit::One(t) => out.push(t),
            Translit::Many(bytes, n) => {
                for &b in &bytes[..usize::from(n)] {
                    out.push(char::from(b));
                }
            }
        }
    }
}

/// `T_visual`: Greek and Cyrillic letters that look like Latin letters become those letters.
/// Expects canonical (uppercase) text; everything else is left unchanged.
pub fn transliterate_visual(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    transliterate(s, &tables().visual, &mut out);
    out
}

/// `T_phonetic`: Greek and Cyrillic letters become their Latin romanization (Р → R, Ж → ZH,
/// Х → KH). Expects canonical (uppercase) text; everything else is left unchanged.
pub fn transliterate_phonetic(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    transliterate(s, &tables().phonetic, &mut out);
    out
}

/// `F` on one character.
#[inline]
pub fn fold_char(c: char) -> char {
    match c {
        'O' | 'Q' | 'D' => '0',
        'I' | 'L' => '1',
        'Z' => '2',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        'U' => 'V',
        other => other,
    }
}

/// `F(s)`: the usual misreads folded (`O Q D → 0`, `I L → 1`, `Z → 2`, `S → 5`, `G → 6`,
/// `B → 8`, `U → V`).
pub fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// `F(T_visual(C))` for a text that is already canonical.
pub fn visual_key_of_canonical(canonical: &str) -> String {
    fold(&transliterate_visual(canonical))
}

/// `F(T_phonetic(C))` for a text that is already canonical.
pub fn phonetic_key_of_canonical(canonical: &str) -> String {
    fold(&transliterate_phonetic(canonical))
}

/// The three keys of `s`.
pub fn keys(s: &str) -> Keys {
    let canonical = canonical(s);
    if canonical.is_ascii() {
        // T never changes ASCII, so both variants are F(C(s)).
        let visual = fold(&canonical);
        return Keys {
            phonetic: visual.clone(),
            visual,
            canonical,
        };
    }
    let visual = visual_key_of_canonical(&canonical);
    let phonetic = phonetic_key_of_canonical(&canonical);
    Keys {
        canonical,
        visual,
        phonetic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vis(s: &str) -> String {
        keys(s).visual
    }
    fn pho(s: &str) -> String {
        keys(s).phonetic
    }
    /// The normalized relation: the key sets intersect.
    fn normalized_eq(a: &str, b: &str) -> bool {
        let (ka, kb) = (keys(a), keys(b));
        ka.visual == kb.visual
            || ka.visual == kb.phonetic
            || ka.phonetic == kb.visual
            || ka.phonetic == kb.phonetic
    }

    #[test]
    fn canonical_removes_separators_and_uppercases() {
        assert_eq!(canonical("56-12 345"), "5612345");
        assert_eq!(canonical("ab/12.3"), "AB123");
        assert_eq!(canonical(" -/. "), "");
        assert_eq!(canonical("straße"), "STRASSE");
        assert_eq!(canonical("па 1234"), "ПА1234");
    }

    #[test]
    fn canonical_maps_digits_of_every_script() {
        // Arabic-Indic.
        assert_eq!(canonical("٥٦١٢٣٤٥"), "5612345");
        // Extended Arabic-Indic (Persian, Urdu).
        assert_eq!(canonical("۵۶۱۲۳۴۵"), "5612345");
        // Devanagari, Bengali, Thai, Myanmar, N'Ko.
        assert_eq!(canonical("५६१२"), "5612");
        assert_eq!(canonical("৫৬"), "56");
        assert_eq!(canonical("๕๖"), "56");
        assert_eq!(canonical("၅၆"), "56");
        assert_eq!(canonical("߅߆"), "56");
        // Fullwidth, through NFKC.
        assert_eq!(canonical("ＡＢ１２３"), "AB123");
        // Mathematical digits and circled numbers, through NFKC.
        assert_eq!(canonical("𝟓𝟔"), "56");
        assert_eq!(canonical("①②"), "12");
        assert_eq!(decimal_digit_to_ascii('²'), None);
        assert_eq!(decimal_digit_to_ascii('A'), None);
    }

    #[test]
    fn decimal_table_matches_unicode() {
        for zero in DECIMAL_ZEROS {
            for v in 0..10 {
                let c = char::from_u32(zero + v).unwrap_or('\0');
                assert!(c.is_numeric(), "U+{:04X} is not numeric", zero + v);
                assert!(!c.is_alphabetic(), "U+{:04X} is alphabetic", zero + v);
                assert_eq!(decimal_digit_to_ascii(c), char::from_digit(v, 10));
            }
        }
        assert!(DECIMAL_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]));
        // A numeric character that is not a decimal digit is removed by C (after NFKC).
        assert_eq!(canonical("௰"), "");
    }

    #[test]
    fn soviet_serials_visual_and_phonetic() {
        // Cyrillic Er-A: typed as seen (PA) or transliterated (RA).
        assert_eq!(vis("РА 1234"), "PA1234");
        assert_eq!(pho("РА 1234"), "RA1234");
        assert!(normalized_eq("РА 1234", "PA1234"));
        assert!(normalized_eq("РА 1234", "RA1234"));
        assert!(normalized_eq("РА 1234", "ра-1234"));
        // Cyrillic Pe-A: П has no Latin look-alike, so only its transliteration P matches.
        assert_eq!(vis("ПА 1234"), "ПA1234");
        assert_eq!(pho("ПА 1234"), "PA1234");
        assert!(normalized_eq("ПА 1234", "PA1234"));
        assert!(!normalized_eq("ПА 1234", "RA1234"));
        // Х: visually X, phonetically KH.
        assert_eq!(vis("ХК"), "XK");
        assert_eq!(pho("ХК"), "KHK");
        // Ж → ZH → (F) 2H; Я → YA.
        assert_eq!(pho("ЖЯ"), "2HYA");
        // С: visually C, phonetically S → (F) 5.
        assert_eq!(vis("С"), "C");
        assert_eq!(pho("С"), "5");
        // В: visually B → 8, phonetically V.
        assert_eq!(vis("В"), "8");
        assert_eq!(pho("В"), "V");
        // Н: visually H, phonetically N.
        assert_eq!(vis("Н"), "H");
        assert_eq!(pho("Н"), "N");
        // The whole visual list of the brief.
        assert_eq!(
            fold(&transliterate_visual("АВЕКМНОРСТХУ")),
            fold("ABEKMHOPCTXY")
        );
        // З is confusable with the digit 3; phonetically it is Z → 2.
        assert_eq!(vis("З"), "3");
        assert_eq!(pho("З"), "2");
        // Soft and hard signs: no romanization letter, so they stay phonetically.
        assert_eq!(pho("Ъ"), "Ъ");
    }

    #[test]
    fn greek_letters() {
        assert_eq!(transliterate_visual("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"), "ABEZHIKMNOPTYX");
        assert_eq!(transliterate_phonetic("ΡΒΧ"), "RVCH");
        assert!(normalized_eq("ΑΚ-47", "AK47"));
        // Lowercase Greek is uppercased first.
        assert!(normalized_eq("ακ47", "AK47"));
        // Greek letters with no Latin look-alike stay in the visual key.
        assert_eq!(transliterate_visual("ΔΣ"), "ΔΣ");
    }

    #[test]
    fn mixed_script_and_homoglyphs() {
        // Cyrillic А and С inside a Latin serial: a human cannot see the difference.
        assert!(normalized_eq("АK47С", "AK47C"));
        assert!(!normalized_eq("АK47С", "AK47D"));
        assert_ne!(canonical("АK47"), canonical("AK47"));
    }

    #[test]
    fn misread_folding() {
        assert!(normalized_eq("O0Q", "000"));
        assert!(normalized_eq("IL1", "111"));
        assert!(normalized_eq("SZGBU", "5268V"));
        assert!(normalized_eq("D12", "012"));
        assert_eq!(vis("ZS"), "25");
    }

    #[test]
    fn latin_and_digits_are_never_transliterated() {
        assert_eq!(transliterate_visual("AZ09É"), "AZ09É");
        assert_eq!(transliterate_phonetic("AZ09É"), "AZ09É");
        // The UTS #39 skeleton would map 0 to O; our keys keep the digit.
        assert_eq!(vis("0"), "0");
    }

    #[test]
    fn chinese_and_other_letters_stay() {
        assert_eq!(canonical("中国 56"), "中国56");
        assert_eq!(vis("中国 56"), "中国56");
        assert_eq!(pho("中国 56"), "中国56");
        // Arabic letters stay, Arabic-Indic digits become ASCII.
        assert_eq!(vis("ب٥"), "ب5");
    }

    #[test]
    fn keys_of_ascii_agree_with_general_path() {
        let k = keys("ab-0l");
        assert_eq!(k.canonical, "AB0L");
        assert_eq!(k.visual, "A801");
        assert_eq!(k.visual, k.phonetic);
    }
}

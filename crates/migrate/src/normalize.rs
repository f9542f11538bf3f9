//! Folding of header names and cell values for comparison: case, accents, spacing and
//! punctuation do not matter ("N° de série", "No. de serie" and "numero de serie" compare equal).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words that carry no meaning in a column header: articles, prepositions and the many ways of
/// writing "number" ("n°", "nº", "no.", "número", "номер"…). They are dropped before comparing.
const STOPWORDS: &[&str] = &[
    "a",
    "al",
    "au",
    "aux",
    "da",
    "das",
    "de",
    "del",
    "des",
    "do",
    "dos",
    "du",
    "d",
    "e",
    "el",
    "en",
    "et",
    "l",
    "la",
    "las",
    "le",
    "les",
    "lo",
    "los",
    "n",
    "no",
    "nr",
    "nro",
    "num",
    "o",
    "of",
    "os",
    "the",
    "y",
    "number",
    "numero",
    "numeros",
    "nombre",
    "nummer",
    "#",
    "номер",
];

/// Lower case, accents removed, every run of characters that are neither letters nor digits
/// turned into one space, trimmed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// The words of a header that matter, folded, in order (stop words removed).
pub fn header_words(s: &str) -> Vec<String> {
    // "s/n" and "s.n." mean serial number; keep them recognisable once punctuation is gone.
    let lowered = s.trim().to_lowercase();
    let folded = if matches!(lowered.as_str(), "s/n" | "s.n." | "s/no" | "sn") {
        "serial".to_owned()
    } else {
        fold(s)
    };
    folded
        .split(' ')
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The comparison key of a header: its meaningful words joined by single spaces.
pub fn header_key(s: &str) -> String {
    header_words(s).join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("  N° de Série "), "n de serie");
        assert_eq!(fold("País de fabricação"), "pais de fabricacao");
        assert_eq!(fold("Date d'acquisition"), "date d acquisition");
        assert_eq!(header_key("N° de série"), "serie");
        assert_eq!(header_key("Nº série"), "serie");
        assert_eq!(header_key("Número de serie"), "serie");
        assert_eq!(header_key("SERIAL  NUMBER"), "serial");
        assert_eq!(header_key("S/N"), "serial");
        assert_eq!(header_key("n° d'enregistrement"), "enregistrement");
        assert_eq!(header_key("Серийный номер"), header_key("серийный"));
    }
}

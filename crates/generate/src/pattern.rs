//! Serial, lot and mark patterns.
//!
//! `#` a digit, `@` a Latin capital letter (not I, O, Q), `%` a Cyrillic capital letter,
//! `{yy}` / `{yyyy}` the year, `{m}` / `{mm}` the month, `{M}` a month letter (A–M without I),
//! `\` escapes the next character; anything else is literal.
//!
//! All `#` positions of a pattern together form one zero-padded decimal number, so consecutive
//! numbers give consecutive serials (a shipment); letters come from a separate seed so that a
//! shipment keeps its letter prefix.

const LATIN: &[char] = &[
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'T', 'U', 'V',
    'W', 'X', 'Y', 'Z',
];
const CYRILLIC: &[char] = &[
    'А', 'Б', 'В', 'Г', 'Д', 'Е', 'Ж', 'И', 'К', 'Л', 'М', 'Н', 'П', 'Р', 'С', 'Т', 'У', 'Ф', 'Х',
    'Ц', 'Ч', 'Ш', 'Э', 'Ю', 'Я',
];
const MONTH_LETTERS: &[char] = &['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M'];

/// Digit script of rendered digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    Ascii,
    /// ٠١٢٣٤٥٦٧٨٩ (U+0660…)
    ArabicIndic,
    /// ۰۱۲۳۴۵۶۷۸۹ (U+06F0…)
    Persian,
}

impl Script {
    pub(crate) fn from_name(s: &str) -> Script {
        match s {
            "arabic_indic" => Script::ArabicIndic,
            "persian" => Script::Persian,
            _ => Script::Ascii,
        }
    }

    pub(crate) fn push_digit(self, out: &mut String, d: u8) {
        let base = match self {
            Script::Ascii => '0' as u32,
            Script::ArabicIndic => 0x0660,
            Script::Persian => 0x06F0,
        };
        out.push(char::from_u32(base + u32::from(d % 10)).unwrap_or('0'));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Digit,
    Latin,
    Cyrillic,
    Yy,
    Yyyy,
    M,
    Mm,
    MonthLetter,
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    toks: Vec<Tok>,
    digits: u32,
    letters: u32,
}

/// What to fill a pattern with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fill {
    /// The number spread over the `#` positions (taken modulo 10^digits).
    pub number: u64,
    /// Seed of the letters.
    pub letters: u64,
    pub year: i32,
    pub month: u32,
    pub script: Script,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Pattern {
    pub(crate) fn parse(s: &str) -> Result<Pattern, String> {
        let mut toks = Vec::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '#' => toks.push(Tok::Digit),
                '@' => toks.push(Tok::Latin),
                '%' => toks.push(Tok::Cyrillic),
                '\\' => match it.next() {
                    Some(n) => toks.push(Tok::Lit(n)),
                    None => return Err(format!("pattern {s:?} ends with an escape")),
                },
                '{' => {
                    let mut name = String::new();
                    loop {
                        match it.next() {
                            Some('}') => break,
                            Some(n) => name.push(n),
                            None => return Err(format!("pattern {s:?}: unclosed brace")),
                        }
                    }
                    toks.push(match name.as_str() {
                        "yy" => Tok::Yy,
                        "yyyy" => Tok::Yyyy,
                        "m" => Tok::M,
                        "mm" => Tok::Mm,
                        "M" => Tok::MonthLetter,
                        _ => return Err(format!("pattern {s:?}: unknown field {{{name}}}")),
                    });
                }
                c if c.is_control() => return Err(format!("pattern {s:?}: control character")),
                c => toks.push(Tok::Lit(c)),
            }
        }
        if toks.is_empty() {
            return Err("empty pattern".into());
        }
        let digits = toks.iter().filter(|t| **t == Tok::Digit).count() as u32;
        let letters = toks
            .iter()
            .filter(|t| matches!(t, Tok::Latin | Tok::Cyrillic))
            .count() as u32;
        Ok(Pattern {
            toks,
            digits,
            letters,
        })
    }

    /// Number of `#` positions.
    pub(crate) fn digits(&self) -> u32 {
        self.digits
    }

    /// Number of letter positions.
    pub(crate) fn letters(&self) -> u32 {
        self.letters
    }

    /// 10^digits, saturating.
    pub(crate) fn capacity(&self) -> u64 {
        10u64.saturating_pow(self.digits.min(19))
    }

    pub(crate) fn render(&self, out: &mut String, f: &Fill) {
        let mut seed = f.letters;
        let cap = self.capacity();
        let mut number = if cap == 0 { 0 } else { f.number % cap };
        // Digits are taken most significant first.
        let mut div = cap / 10;
        let yy = f.year.rem_euclid(100) as u8;
        for t in &self.toks {
            match t {
                Tok::Lit(c) => {
                    if c.is_ascii_digit() {
                        f.script.push_digit(out, *c as u8 - b'0');
                    } else {
                        out.push(*c);
                    }
                }
                Tok::Digit => {
                    let d = number.checked_div(div).unwrap_or(0) as u8;
                    if div > 0 {
                        number %= div;
                        div /= 10;
                    }
                    f.script.push_digit(out, d);
                }
                Tok::Latin => {
                    let i = (splitmix(&mut seed) % LATIN.len() as u64) as usize;
                    out.push(LATIN[i]);
                }
                Tok::Cyrillic => {
                    let i = (splitmix(&mut seed) % CYRILLIC.len() as u64) as usize;
                    out.push(CYRILLIC[i]);
                }
                Tok::Yy => {
                    f.script.push_digit(out, yy / 10);
                    f.script.push_digit(out, yy % 10);
                }
                Tok::Yyyy => {
                    let y = f.year.clamp(0, 9999) as u32;
                    for p in [1000, 100, 10, 1] {
                        f.script.push_digit(out, ((y / p) % 10) as u8);
                    }
                }
                Tok::M => {
                    let m = f.month.clamp(1, 12);
                    if m >= 10 {
                        f.script.push_digit(out, 1);
                    }
                    f.script.push_digit(out, (m % 10) as u8);
                }
                Tok::Mm => {
                    let m = f.month.clamp(1, 12);
                    f.script.push_digit(out, (m / 10) as u8);
                    f.script.push_digit(out, (m % 10) as u8);
                }
                Tok::MonthLetter => {
                    let m = f.month.clamp(1, 12) as usize;
                    out.push(MONTH_LETTERS[m - 1]);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn fill(number: u64) -> Fill {
        Fill {
            number,
            letters: 7,
            year: 1978,
            month: 3,
            script: Script::Ascii,
        }
    }

    #[test]
    fn renders_numbers_and_years() {
        let p = Pattern::parse("56-#####").unwrap();
        let mut s = String::new();
        p.render(&mut s, &fill(123));
        assert_eq!(s, "56-00123");
        let p = Pattern::parse("{m}/{yy} {yyyy} {M}").unwrap();
        let mut s = String::new();
        p.render(&mut s, &fill(0));
        assert_eq!(s, "3/78 1978 C");
    }

    #[test]
    fn consecutive_numbers_keep_letters() {
        let p = Pattern::parse("%% ####").unwrap();
        let (mut a, mut b) = (String::new(), String::new());
        p.render(&mut a, &fill(41));
        p.render(&mut b, &fill(42));
        assert_eq!(
            a.chars().take(3).collect::<String>(),
            b.chars().take(3).collect::<String>()
        );
        assert!(a.ends_with("0041") && b.ends_with("0042"));
        assert!(a
            .chars()
            .next()
            .is_some_and(|c| ('\u{400}'..='\u{4FF}').contains(&c)));
    }

    #[test]
    fn scripts() {
        let p = Pattern::parse("######").unwrap();
        let mut s = String::new();
        p.render(
            &mut s,
            &Fill {
                script: Script::Persian,
                ..fill(120_345)
            },
        );
        assert_eq!(s, "۱۲۰۳۴۵");
        let mut s = String::new();
        p.render(
            &mut s,
            &Fill {
                script: Script::ArabicIndic,
                ..fill(120_345)
            },
        );
        assert_eq!(s, "١٢٠٣٤٥");
    }

    #[test]
    fn rejects_bad_patterns() {
        assert!(Pattern::parse("{x}").is_err());
        assert!(Pattern::parse("ab\\").is_err());
        assert!(Pattern::parse("").is_err());
    }
}

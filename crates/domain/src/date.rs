//! Partial dates as registers record them: a year, a month, a day, or an instant.
//!
//! Paper registers often know only the year of an import or the month of a loss. The precision
//! is part of the record and is kept; comparisons treat a partial date as the range of instants
//! it covers, so "1985" is neither before nor after "1985-06" — it contains it.

use std::cmp::Ordering;
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Precision {
    Year,
    Month,
    Day,
    Instant,
}

/// A date with its precision. Constructed only by [`PartialDate::parse`] or the checked
/// constructors, so it always names a real calendar date.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct PartialDate {
    /// Seconds since the Unix epoch (UTC) of the first instant covered.
    start: i64,
    /// Seconds since the Unix epoch (UTC) of the first instant after the range.
    end: i64,
    precision: Precision,
    /// The text as given (RFC 3339 offsets are kept as written).
    text: String,
}

const DAY: i64 = 86_400;

fn day_start(y: i32, m: Month, d: u8) -> Result<i64, String> {
    let date =
        Date::from_calendar_date(y, m, d).map_err(|e| format!("not a calendar date: {e}"))?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or an RFC 3339 date-time.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad =
            || format!("'{s}' is not a date (YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339 date-time)");
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let num = |r: std::ops::Range<usize>| s[r].parse::<i32>().map_err(|_| bad());
        if b.len() < 4 || !digits(0..4) {
            return Err(bad());
        }
        let year = num(0..4)?;
        if !(1000..=9999).contains(&year) {
            return Err(bad());
        }
        let month_of = |m: i32| {
            u8::try_from(m)
                .ok()
                .and_then(|m| Month::try_from(m).ok())
                .ok_or_else(|| format!("'{s}' has month {m:02}, which does not exist"))
        };
        let (start, end, precision) = match b.len() {
            4 => {
                let start = day_start(year, Month::January, 1)?;
                let end = day_start(year + 1, Month::January, 1)?;
                (start, end, Precision::Year)
            }
            7 if b[4] == b'-' && digits(5..7) => {
                let m = month_of(num(5..7)?)?;
                let start = day_start(year, m, 1)?;
                let end = if m == Month::December {
                    day_start(year + 1, Month::January, 1)?
                } else {
                    day_start(year, m.next(), 1)?
                };
                (start, end, Precision::Month)
            }
            10 if b[4] == b'-' && b[7] == b'-' && digits(5..7) && digits(8..10) => {
                let m = month_of(num(5..7)?)?;
                let d = u8::try_from(num(8..10)?).map_err(|_| bad())?;
                let start =
                    day_start(year, m, d).map_err(|_| format!("'{s}' is not a calendar date"))?;
                (start, start + DAY, Precision::Day)
            }
            _ => {
                let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| bad())?;
                let start = t.unix_timestamp();
                (start, start + 1, Precision::Instant)
            }
        };
        Ok(PartialDate {
            start,
            end,
            precision,
            text: s.to_owned(),
        })
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// First second (Unix time, UTC) the date covers; the chronological sort key.
    pub fn start(&self) -> i64 {
        self.start
    }
    pub fn end(&self) -> i64 {
        self.end
    }
    /// The calendar year of the start of the range.
    pub fn year(&self) -> i32 {
        OffsetDateTime::from_unix_timestamp(self.start)
            .map(|t| t.year())
            .unwrap_or(0)
    }

    /// True when every instant of `self` is before every instant of `other`.
    pub fn definitely_before(&self, other: &PartialDate) -> bool {
        self.end <= other.start
    }

    /// Chronological order for display and projection: by start, then the less precise first
    /// (a record known only to the year opens its year), then the caller breaks ties.
    pub fn chronological_cmp(&self, other: &PartialDate) -> Ordering {
        self.start
            .cmp(&other.start)
            .then_with(|| other.end.cmp(&self.end))
    }
}

/// Start of a calendar year, for rules that compare with `year_of_manufacture`.
pub fn year_start(year: i32) -> Option<i64> {
    day_start(year, Month::January, 1).ok()
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> PartialDate {
        PartialDate::parse(s).unwrap()
    }

    #[test]
    fn parses_each_precision() {
        assert_eq!(d("1985").precision(), Precision::Year);
        assert_eq!(d("1985-06").precision(), Precision::Month);
        assert_eq!(d("1985-06-30").precision(), Precision::Day);
        assert_eq!(
            d("2011-02-03T10:00:00+03:00").precision(),
            Precision::Instant
        );
        assert_eq!(d("1985-06").as_str(), "1985-06");
        assert_eq!(d("2011-02-03T10:00:00Z").year(), 2011);
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "",
            "85",
            "1985-13",
            "1985-00",
            "2001-02-31",
            "2001-02-29",
            "1985-6",
            "1985/06",
            "19850",
            "abcd",
            "1985-06-01T25:00:00Z",
            "0999",
        ] {
            assert!(PartialDate::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(PartialDate::parse("2000-02-29").is_ok());
    }

    #[test]
    fn ranges_compare_as_ranges() {
        assert!(!d("1985").definitely_before(&d("1985-06")));
        assert!(!d("1985-06").definitely_before(&d("1985")));
        assert!(d("1984").definitely_before(&d("1985-01-01")));
        assert!(d("1985-05").definitely_before(&d("1985-06")));
        assert!(d("1985-12-31").definitely_before(&d("1986")));
        assert_eq!(d("1985").chronological_cmp(&d("1985-01")), Ordering::Less);
        assert_eq!(
            d("1985-02").chronological_cmp(&d("1985")),
            Ordering::Greater
        );
    }
}

//! Calendar arithmetic on day numbers (days since 1970-01-01) and date rendering at a precision.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day number.
pub(crate) const fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The last day any generated record may carry.
pub(crate) const MAX_DAY: i32 = days_from_civil(2026, 6, 30);

pub(crate) fn year_of(day: i32) -> i32 {
    civil_from_days(day).0
}

pub(crate) fn jan1(year: i32) -> i32 {
    days_from_civil(year, 1, 1)
}

pub(crate) fn month_start(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y, m, 1)
}

pub(crate) fn next_month_start(day: i32) -> i32 {
    let (y, m, _) = civil_from_days(day);
    if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    }
}

/// Precision of a rendered date. Ordered from least to most precise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Prec {
    Year,
    Month,
    Day,
    /// RFC 3339 timestamp at the given local minute of the day.
    Stamp(u16),
}

impl Prec {
    fn rank(self) -> u8 {
        match self {
            Prec::Year => 0,
            Prec::Month => 1,
            Prec::Day => 2,
            Prec::Stamp(_) => 3,
        }
    }
}

/// Sort key of a date the way the registry orders events: start of the range (UTC seconds), then
/// the less precise first.
pub(crate) fn sort_key(day: i32, prec: Prec, offset_min: i32) -> (i64, u8) {
    let start_day = match prec {
        Prec::Year => jan1(year_of(day)),
        Prec::Month => month_start(day),
        Prec::Day | Prec::Stamp(_) => day,
    };
    let mut secs = i64::from(start_day) * 86_400;
    if let Prec::Stamp(min) = prec {
        secs += i64::from(min) * 60 - i64::from(offset_min) * 60;
    }
    (secs, prec.rank())
}

fn push2(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

fn push4(out: &mut Vec<u8>, n: i32) {
    let n = n.clamp(0, 9999) as u32;
    push2(out, n / 100);
    push2(out, n % 100);
}

/// Writes the date (without quotes). `offset` is `Z` or `±hh:mm`.
pub(crate) fn write_date(out: &mut Vec<u8>, day: i32, prec: Prec, offset: &str) {
    let (y, m, d) = civil_from_days(day);
    push4(out, y);
    if prec == Prec::Year {
        return;
    }
    out.push(b'-');
    push2(out, m);
    if prec == Prec::Month {
        return;
    }
    out.push(b'-');
    push2(out, d);
    if let Prec::Stamp(min) = prec {
        out.push(b'T');
        push2(out, u32::from(min / 60));
        out.push(b':');
        push2(out, u32::from(min % 60));
        out.extend_from_slice(b":00");
        out.extend_from_slice(offset.as_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for z in [-800_000, -1, 0, 1, 59, 365, 10_000, 20_634, 60_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(MAX_DAY), (2026, 6, 30));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn renders() {
        let day = days_from_civil(1985, 6, 12);
        let mut v = Vec::new();
        write_date(&mut v, day, Prec::Year, "Z");
        v.push(b' ');
        write_date(&mut v, day, Prec::Month, "Z");
        v.push(b' ');
        write_date(&mut v, day, Prec::Day, "Z");
        v.push(b' ');
        write_date(&mut v, day, Prec::Stamp(9 * 60 + 5), "+03:00");
        assert_eq!(
            String::from_utf8(v).unwrap(),
            "1985 1985-06 1985-06-12 1985-06-12T09:05:00+03:00"
        );
    }

    #[test]
    fn ordering() {
        let day = days_from_civil(1985, 6, 12);
        assert!(sort_key(day, Prec::Year, 0) < sort_key(day, Prec::Month, 0));
        assert!(sort_key(day, Prec::Month, 0) < sort_key(day, Prec::Day, 0));
        assert!(sort_key(day, Prec::Day, 180) < sort_key(day, Prec::Stamp(600), 180));
    }
}

//! Calendar days without a date crate: days since 1970-01-01 (UTC) to and from `YYYY-MM-DD`,
//! and the timestamp formats an import reads (ISO 8601, and Jira's `27/Nov/26 4:05 AM`).

pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn valid(y: i64, m: u32, d: u32) -> bool {
    (1900..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// `YYYY-MM-DD` to a day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    valid(y, m, d).then(|| days_from_civil(y, m, d))
}

pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC day of a timestamp in milliseconds.
pub fn day_of_ms(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD HH:MM` (UTC), the format exports write.
pub fn format_timestamp(ms: i64) -> String {
    let day = day_of_ms(ms);
    let secs = (ms - day * DAY_MS) / 1000;
    format!("{} {:02}:{:02}", format_date(day), secs / 3600, secs % 3600 / 60)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_timestamp_secs(ms: i64) -> String {
    let day = day_of_ms(ms);
    let secs = (ms - day * DAY_MS) / 1000;
    format!("{} {:02}:{:02}:{:02}", format_date(day), secs / 3600, secs % 3600 / 60, secs % 60)
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// A timestamp (milliseconds, UTC) from `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`,
/// `YYYY-MM-DDTHH:MM[:SS][Z]`, or Jira's `dd/MMM/yy h:mm AM`.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(day) = parse_date(s.get(..10)?) {
        let rest = s[10..].trim_start_matches(['T', ' ']).trim_end_matches('Z');
        let secs = if rest.is_empty() { 0 } else { parse_clock(rest, None)? };
        return Some(day * DAY_MS + secs * 1000);
    }
    // Jira: 27/Nov/26 4:05 AM (two- or four-digit year).
    let (date, time) = s.split_once(' ')?;
    let mut parts = date.split('/');
    let (d, mon, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let d: u32 = d.parse().ok()?;
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(mon))? as u32 + 1;
    let y: i64 = match y.len() {
        2 => 2000 + y.parse::<i64>().ok()?,
        4 => y.parse().ok()?,
        _ => return None,
    };
    if !valid(y, m, d) {
        return None;
    }
    let time = time.trim();
    let (clock, ampm) = match time.rsplit_once(' ') {
        Some((c, p)) => (c, Some(p)),
        None => (time, None),
    };
    Some(days_from_civil(y, m, d) * DAY_MS + parse_clock(clock, ampm)? * 1000)
}

/// `HH:MM[:SS]` (with an optional AM/PM) to seconds of the day.
fn parse_clock(s: &str, ampm: Option<&str>) -> Option<i64> {
    let s = s.split(['.', '+']).next()?;
    let mut it = s.split(':');
    let h: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let sec: i64 = match it.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() || !(0..60).contains(&m) || !(0..60).contains(&sec) {
        return None;
    }
    let h = match ampm.map(|p| p.to_ascii_uppercase()) {
        None => h,
        Some(p) if (1..=12).contains(&h) => match p.as_str() {
            "AM" => h % 12,
            "PM" => h % 12 + 12,
            _ => return None,
        },
        Some(_) => return None,
    };
    (0..24).contains(&h).then_some(h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_date(0), "1970-01-01");
        for d in [-1000, 0, 59, 60, 10_000, 20_000, 20_819] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_date("2024-02-29").map(format_date).as_deref(), Some("2024-02-29"));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-01-01"), None);
    }

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2026-11-27 04:05").unwrap();
        assert_eq!(format_timestamp(t), "2026-11-27 04:05");
        assert_eq!(parse_timestamp("2026-11-27T04:05:00Z"), Some(t));
        assert_eq!(parse_timestamp("27/Nov/26 4:05 AM"), Some(t));
        assert_eq!(parse_timestamp("27/Nov/26 4:05 PM"), Some(t + 12 * 3600 * 1000));
        assert_eq!(parse_timestamp("27/Nov/26 12:05 AM"), Some(t - 4 * 3600 * 1000));
        assert_eq!(parse_timestamp("2026-11-27"), Some(t - (4 * 60 + 5) * 60 * 1000));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2026-11-27 25:00"), None);
    }
}

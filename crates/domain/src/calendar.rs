//! Calendar days, French public holidays and Paris local time: pure date arithmetic shared by the missions
//! (slots of unscheduled care, instants shown in pages, contract years).

use crate::identifiers::ValidationError;

/// A calendar day (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Day {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Day> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Day { year, month, day })
    }

    /// `YYYY-MM-DD` or `DD/MM/YYYY`. A well-written day that is not in the calendar (31/02) is told apart
    /// from a text that is not a date, so the person knows what to fix.
    pub fn parse(field: &'static str, text: &str) -> Result<Day, ValidationError> {
        let text = text.trim();
        let parts: Vec<&str> = if text.contains('/') {
            text.split('/').rev().collect()
        } else {
            text.split('-').collect()
        };
        let numbers: Vec<i64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
        match numbers.as_slice() {
            [y, m, d] if parts.len() == 3 && (1900..=2200).contains(y) => Day::new(
                i32::try_from(*y).unwrap_or(0),
                u32::try_from(*m).unwrap_or(0),
                u32::try_from(*d).unwrap_or(0),
            )
            .ok_or_else(|| {
                ValidationError::new(
                    field,
                    format!("« {text} » : cette date n'existe pas dans le calendrier"),
                )
            }),
            _ => Err(ValidationError::new(
                field,
                format!("« {text} » : une date JJ/MM/AAAA attendue"),
            )),
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let month_index = if m > 2 { m - 3 } else { m + 9 };
        let day_of_year = (153 * month_index + 2) / 5 + d - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    pub fn from_days_since_epoch(days: i64) -> Day {
        let days = days + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Day {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    pub fn plus_days(self, days: i64) -> Day {
        Day::from_days_since_epoch(self.days_since_epoch() + days)
    }

    /// The same day `months` calendar months later (or earlier), kept in its month: 31/01 + 1 month is the last
    /// day of February.
    pub fn plus_months(self, months: i64) -> Day {
        let index = i64::from(self.year) * 12 + i64::from(self.month) - 1 + months;
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(self.year);
        let month = u32::try_from(index.rem_euclid(12) + 1).unwrap_or(1);
        Day {
            year,
            month,
            day: self.day.min(days_in_month(year, month)),
        }
    }

    /// 1 for Monday … 7 for Sunday (ISO 8601).
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        u32::try_from((self.days_since_epoch() + 3).rem_euclid(7) + 1).unwrap_or(1)
    }

    /// "lundi" … "dimanche".
    pub fn french_weekday(self) -> &'static str {
        const NAMES: [&str; 7] = [
            "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        ];
        NAMES[(self.weekday() as usize + 6) % 7]
    }

    /// `YYYY-MM-DD`, as days are stored.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    pub fn french(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }
}

/// Easter Sunday (anonymous Gregorian algorithm).
pub fn easter(year: i32) -> Day {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Day {
        year,
        month: u32::try_from(month).unwrap_or(4),
        day: u32::try_from(day).unwrap_or(1),
    }
}

/// The eleven public holidays of metropolitan France (Alsace-Moselle's two more are not included).
pub fn public_holidays(year: i32) -> Vec<Day> {
    let fixed = [
        (1, 1),
        (5, 1),
        (5, 8),
        (7, 14),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
    ];
    let sunday = easter(year);
    let mut days: Vec<Day> = fixed
        .iter()
        .filter_map(|(m, d)| Day::new(year, *m, *d))
        .chain([
            sunday.plus_days(1),
            sunday.plus_days(39),
            sunday.plus_days(50),
        ])
        .collect();
    days.sort();
    days
}

pub fn is_public_holiday(day: Day) -> bool {
    public_holidays(day.year).contains(&day)
}

const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 86_400_000;

/// The last Sunday of a month.
fn last_sunday(year: i32, month: u32) -> Day {
    let last = Day {
        year,
        month,
        day: days_in_month(year, month),
    };
    last.plus_days(-i64::from(last.weekday() % 7))
}

/// Minutes Paris is ahead of UTC at `utc_ms`: 120 from the last Sunday of March 01:00 UTC to the last Sunday
/// of October 01:00 UTC, else 60 (the European Union's rule since 1996).
pub fn paris_offset_minutes(utc_ms: i64) -> i64 {
    let year = Day::from_days_since_epoch(utc_ms.div_euclid(DAY_MS)).year;
    let summer_starts = last_sunday(year, 3).days_since_epoch() * DAY_MS + 60 * MINUTE_MS;
    let summer_ends = last_sunday(year, 10).days_since_epoch() * DAY_MS + 60 * MINUTE_MS;
    if (summer_starts..summer_ends).contains(&utc_ms) {
        120
    } else {
        60
    }
}

/// The UTC instant of a Paris wall-clock time. A time skipped in spring is taken one hour later; a time that
/// happens twice in autumn is taken the first time.
pub fn paris_to_utc(day: Day, minute_of_day: u32) -> i64 {
    let wall = day.days_since_epoch() * DAY_MS + i64::from(minute_of_day) * MINUTE_MS;
    // Try summer time first (the earlier of two readings in autumn), then winter time.
    for offset in [120, 60] {
        let candidate = wall - offset * MINUTE_MS;
        if paris_offset_minutes(candidate) == offset {
            return candidate;
        }
    }
    // Skipped hour in spring: the wall time does not exist; winter offset gives the instant one hour later.
    wall - 60 * MINUTE_MS
}

/// An instant as the SAS reads it (FHIR `instant`): Paris wall time with milliseconds and the offset,
/// `2026-12-01T08:30:00.000+01:00`.
pub fn fhir_instant(utc_ms: i64) -> String {
    let text = paris_date_time(utc_ms);
    // The offset is the last six characters (`+02:00`).
    let (clock, offset) = text.split_at(text.len() - 6);
    format!("{clock}.{:03}{offset}", utc_ms.rem_euclid(1000))
}

/// An instant as FHIR and iCalendar consumers expect it in France: Paris wall time with its offset,
/// `2026-12-01T08:30:00+01:00`.
pub fn paris_date_time(utc_ms: i64) -> String {
    let offset = paris_offset_minutes(utc_ms);
    let (day, seconds) = day_and_second(utc_ms + offset * MINUTE_MS);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+{:02}:{:02}",
        day.year,
        day.month,
        day.day,
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        offset / 60,
        offset % 60
    )
}

/// A FHIR `date` or `dateTime` (`2026-12-01`, `2026-12-01T08:30`, `…:00`, `…:00.000`, then `Z` or `±hh:mm`;
/// without a zone, Paris time) as a UTC instant; None when it is not one.
pub fn parse_fhir_date_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_ascii() || text.len() > 40 {
        return None;
    }
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let day = Day::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
    let Some(time) = time else {
        return Some(paris_to_utc(day, 0));
    };
    // Split the zone off: `Z`, or the last `+`/`-`.
    let (clock, zone) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, Some(0))
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        if h > 14 || m > 59 {
            return None;
        }
        (clock, Some(sign * (h * 60 + m)))
    } else {
        (time, None)
    };
    let (clock, millis) = match clock.split_once('.') {
        Some((c, fraction))
            if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let padded: String = fraction.chars().chain("000".chars()).take(3).collect();
            (c, padded.parse::<i64>().ok()?)
        }
        Some(_) => return None,
        None => (clock, 0),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    let numbers: Option<Vec<i64>> = fields
        .iter()
        .map(|f| (f.len() == 2).then(|| f.parse::<i64>().ok()).flatten())
        .collect();
    let (h, min, sec) = match numbers?.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if h > 23 || min > 59 || sec > 59 {
        return None;
    }
    let wall_ms = ((h * 60 + min) * 60 + sec) * 1000 + millis;
    Some(match zone {
        Some(offset) => day.days_since_epoch() * DAY_MS + wall_ms - offset * MINUTE_MS,
        None => paris_to_utc(day, u32::try_from(h * 60 + min).unwrap_or(0)) + sec * 1000 + millis,
    })
}

/// Paris day and minute of the day of an instant.
pub fn utc_to_paris(utc_ms: i64) -> (Day, u32) {
    let (day, seconds) = day_and_second(utc_ms + paris_offset_minutes(utc_ms) * MINUTE_MS);
    (day, u32::try_from(seconds / 60).unwrap_or(0))
}

/// The day and the second of that day of an instant counted in milliseconds from 1970-01-01 00:00, on
/// whichever clock it was counted (UTC, or Paris wall time once the offset is added).
pub fn day_and_second(ms: i64) -> (Day, i64) {
    (
        Day::from_days_since_epoch(ms.div_euclid(DAY_MS)),
        ms.rem_euclid(DAY_MS) / 1000,
    )
}

//! Instants are Unix milliseconds (UTC) everywhere in storage.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The calendar year (UTC) of an instant.
pub fn year_of(instant_ms: i64) -> i64 {
    civil_date(instant_ms).0
}

/// Year, month and day (UTC) of an instant (Howard Hinnant's days-to-civil algorithm).
pub fn civil_date(instant_ms: i64) -> (i64, i64, i64) {
    let days = instant_ms.div_euclid(DAY_MS) + 719_468;
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
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// `YYYY-MM-DD` (UTC) of an instant.
pub fn date_text(instant_ms: i64) -> String {
    let (year, month, day) = civil_date(instant_ms);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `DD/MM/YYYY` (UTC) of an instant, as French pages show dates.
pub fn french_date(instant_ms: i64) -> String {
    let (year, month, day) = civil_date(instant_ms);
    format!("{day:02}/{month:02}/{year:04}")
}

/// The first instant (UTC) of a day (the inverse of [`civil_date`]).
pub fn day_start_ms(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era - 719_468) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_of_instants() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(1_798_761_599_000), 2026); // 2026-12-31T23:59:59Z
        assert_eq!(year_of(1_798_761_600_000), 2027);
        assert_eq!(year_of(951_782_400_000), 2000); // 2000-02-29
        assert_eq!(date_text(951_782_400_000), "2000-02-29");
        assert_eq!(french_date(1_798_761_599_000), "31/12/2026");
        for instant in [0, 951_782_400_000, 1_798_761_600_000, 1_700_000_000_000] {
            let (y, m, d) = civil_date(instant);
            assert_eq!(day_start_ms(y, m, d), instant - instant.rem_euclid(DAY_MS));
        }
    }
}

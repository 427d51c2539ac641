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

/// Year, month and day (UTC) of an instant.
pub fn civil_date(instant_ms: i64) -> (i64, i64, i64) {
    let day = maillage_domain::calendar::Day::from_days_since_epoch(instant_ms.div_euclid(DAY_MS));
    (
        i64::from(day.year),
        i64::from(day.month),
        i64::from(day.day),
    )
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
    // Days that do not exist (31 February) roll over as the civil arithmetic would.
    let first = maillage_domain::calendar::Day::new(
        i32::try_from(year).unwrap_or(1970),
        u32::try_from(month).unwrap_or(1),
        1,
    )
    .unwrap_or(maillage_domain::calendar::Day {
        year: 1970,
        month: 1,
        day: 1,
    });
    (first.days_since_epoch() + day - 1) * DAY_MS
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

//! Instants are Unix milliseconds (UTC) everywhere in storage; every date or time a person reads or types is
//! Paris time. One model for both: the domain's calendar (`maillage_domain::calendar`: days, and the Paris
//! offset with its summer time), which the helpers below wrap for the services and pages.

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

/// The calendar year (Paris time) of an instant: the contract year.
pub fn year_of(instant_ms: i64) -> i64 {
    civil_date(instant_ms).0
}

/// Year, month and day (Paris time) of an instant.
pub fn civil_date(instant_ms: i64) -> (i64, i64, i64) {
    let (day, _) = maillage_domain::calendar::utc_to_paris(instant_ms);
    (
        i64::from(day.year),
        i64::from(day.month),
        i64::from(day.day),
    )
}

/// `YYYY-MM-DD` (Paris time) of an instant.
pub fn date_text(instant_ms: i64) -> String {
    let (year, month, day) = civil_date(instant_ms);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `DD/MM/YYYY` (Paris time) of an instant, as French pages show dates.
pub fn french_date(instant_ms: i64) -> String {
    let (year, month, day) = civil_date(instant_ms);
    format!("{day:02}/{month:02}/{year:04}")
}

/// `DD/MM/YYYY HH:MM`, Paris time, as French pages show an instant.
pub fn french_date_time(instant_ms: i64) -> String {
    let (day, minute) = maillage_domain::calendar::utc_to_paris(instant_ms);
    format!("{} {:02}:{:02}", day.french(), minute / 60, minute % 60)
}

/// The first instant of a day in Paris (its midnight, the inverse of [`civil_date`]).
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
    let day =
        maillage_domain::calendar::Day::from_days_since_epoch(first.days_since_epoch() + day - 1);
    maillage_domain::calendar::paris_to_utc(day, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_paris_dates() {
        assert_eq!(year_of(0), 1970);
        // 2026-12-31T22:59:59Z is 23:59:59 in Paris (winter, UTC+1); a second later it is 2027 there.
        assert_eq!(year_of(1_798_757_999_000), 2026);
        assert_eq!(year_of(1_798_758_000_000), 2027);
        assert_eq!(french_date(1_798_757_999_000), "31/12/2026");
        assert_eq!(date_text(1_798_758_000_000), "2027-01-01");
        // Summer (UTC+2): 2026-07-14T22:30Z is 00:30 on the 15th in Paris.
        assert_eq!(date_text(1_784_068_200_000), "2026-07-15");
        assert_eq!(french_date_time(1_784_068_200_000), "15/07/2026 00:30");
        assert_eq!(french_date_time(1_798_757_940_000), "31/12/2026 23:59");
        // Midnight in Paris, the inverse, on both sides of the clock changes.
        assert_eq!(day_start_ms(2027, 1, 1), 1_798_758_000_000);
        for instant in [
            951_782_400_000,
            1_798_761_600_000,
            1_784_068_200_000,
            1_700_000_000_000,
        ] {
            let (y, m, d) = civil_date(instant);
            let start = day_start_ms(y, m, d);
            assert!(start <= instant && instant - start < DAY_MS, "{instant}");
            assert_eq!(civil_date(start), (y, m, d));
        }
    }
}

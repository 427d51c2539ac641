//! Unscheduled care (soins non programmés) and the SAS: what a slot is, the weekly patterns professionals
//! publish and their expansion into slots (French public holidays, exceptions, Paris local time across the
//! daylight-saving changes), bookings' origins and outcomes, and the kinds of dysfunction the SAS committee
//! reviews. Pure rules; storage and pages build on them.

use crate::identifiers::ValidationError;

use crate::codes::coded_enum;

coded_enum!(
    /// Who a slot is kept for.
    SlotKind {
        Sas => ("sas", "Réservé au SAS"),
        Cpts => ("cpts", "Pour la CPTS"),
        Extra => ("surnumeraire", "Patient en surnombre (surnuméraire)"),
    }
);

coded_enum!(
    /// Where the consultation happens.
    Modality {
        Office => ("cabinet", "Au cabinet"),
        HomeVisit => ("domicile", "Visite à domicile"),
        Video => ("teleconsultation", "Téléconsultation"),
    }
);

coded_enum!(
    /// Who booked the slot.
    BookingOrigin {
        SasRegulation => ("sas", "Régulation du SAS"),
        CptsSecretary => ("secretariat", "Secrétariat de la CPTS"),
        MemberReferral => ("membre", "Adressage par un professionnel membre"),
        PatientCallback => ("rappel", "Rappel du patient"),
    }
);

coded_enum!(
    /// Where a booking stands. Only one live booking (held or confirmed) per slot (a unique index).
    BookingStatus {
        /// Held for a few minutes while the patient's details are typed in.
        Held => ("held", "Retenu"),
        Confirmed => ("confirmed", "Confirmé"),
        Cancelled => ("cancelled", "Annulé"),
        /// A hold not confirmed in time (the slot was freed).
        Expired => ("expired", "Délai dépassé"),
    }
);

impl BookingStatus {
    /// The states that hold the slot (a hold only until it expires).
    pub const LIVE: &'static [BookingStatus] = &[BookingStatus::Held, BookingStatus::Confirmed];

    /// Whether a booking in this state, held until `held_until`, holds its slot at `now`.
    pub fn holds_slot(self, held_until: i64, now: i64) -> bool {
        self == BookingStatus::Confirmed || (self == BookingStatus::Held && held_until >= now)
    }
}

coded_enum!(
    /// Where a member's proposal to swap her rota turn with a colleague's stands.
    RotaSwapStatus {
        /// Waiting for the colleague's answer.
        Pending => ("pending", "En attente de réponse"),
        /// Accepted: the two turns changed hands in the same step.
        Accepted => ("accepted", "Accepté"),
        Declined => ("declined", "Refusé"),
        /// Taken back by the member who proposed it.
        Withdrawn => ("withdrawn", "Retiré"),
        /// One of the two turns changed hands or disappeared meanwhile (another swap, the coordination).
        Lapsed => ("lapsed", "Devenu sans objet"),
    }
);

coded_enum!(
    /// What happened to a booked patient.
    Outcome {
        Seen => ("vu", "Patient vu"),
        NoShow => ("absent", "Patient absent (rendez-vous non honoré)"),
        SentToEmergency => ("urgences", "Adressé aux urgences"),
        Hospitalised => ("hospitalise", "Hospitalisé"),
    }
);

impl Outcome {
    /// The outcomes where the patient was seen (the booking was honoured), for the indicators.
    pub const HONOURED: &'static [Outcome] = &[
        Outcome::Seen,
        Outcome::SentToEmergency,
        Outcome::Hospitalised,
    ];
}

coded_enum!(
    /// What went wrong, for the SAS committee.
    DysfunctionKind {
        DeadlineMissed => ("delai_48h", "Délai de 48 h dépassé"),
        NoSlotFound => ("aucun_creneau", "Aucun créneau trouvé"),
        WrongNumber => ("mauvais_numero", "Mauvais numéro ou hors horaires"),
        NoShow => ("absence", "Patient absent"),
        Other => ("autre", "Autre"),
    }
);

/// Reason categories of a booking: enough for the indicators, no diagnosis.
pub const REASONS: [(&str, &str); 7] = [
    ("fievre", "Fièvre, infection"),
    ("douleur", "Douleur"),
    ("traumatisme", "Petit traumatisme, plaie"),
    ("respiratoire", "Gêne respiratoire, toux"),
    ("enfant", "Enfant malade"),
    ("renouvellement", "Renouvellement urgent de traitement"),
    ("autre", "Autre"),
];

pub fn reason_label(code: &str) -> Option<&'static str> {
    REASONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Professions that publish unscheduled-care slots, as the directory codes them (`MG`: general practice).
pub const PROFESSIONS: [(&str, &str); 6] = [
    ("MG", "Médecin généraliste"),
    ("70", "Masseur-kinésithérapeute"),
    ("50", "Sage-femme"),
    ("60", "Infirmier"),
    ("40", "Chirurgien-dentiste"),
    ("10", "Médecin spécialiste (radiologie…)"),
];

/// The name a rota gets when none is typed: its weekday and part of the day ("Dimanche matin").
pub fn default_rota_label(weekday: u32, start_minute: u32) -> String {
    const DAYS: [&str; 7] = [
        "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche",
    ];
    let day = DAYS[(weekday.clamp(1, 7) - 1) as usize];
    let part = match start_minute / 60 {
        0..=11 => "matin",
        12..=17 => "après-midi",
        _ => "soir",
    };
    format!("{day} {part}")
}

pub fn profession_label(code: &str) -> Option<&'static str> {
    PROFESSIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
}

pub use crate::calendar::{
    easter, is_public_holiday, paris_date_time, paris_offset_minutes, paris_to_utc,
    parse_fhir_date_time, public_holidays, utc_to_paris, Day,
};

/// How long one slot may last, whether published alone or by a weekly pattern.
pub const SLOT_MINUTES: std::ops::RangeInclusive<i64> = 5..=240;

pub fn check_slot_minutes(field: &'static str, minutes: i64) -> Result<(), ValidationError> {
    if SLOT_MINUTES.contains(&minutes) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!(
                "entre {} et {} minutes",
                SLOT_MINUTES.start(),
                SLOT_MINUTES.end()
            ),
        ))
    }
}

/// "HH:MM" → minutes since midnight.
pub fn parse_time(field: &'static str, text: &str) -> Result<u32, ValidationError> {
    let bad = || {
        ValidationError::new(
            field,
            format!("« {} » : une heure HH:MM attendue", text.trim()),
        )
    };
    let (h, m) = text.trim().split_once([':', 'h']).ok_or_else(bad)?;
    let (h, m): (u32, u32) = (
        h.trim().parse().map_err(|_| bad())?,
        if m.trim().is_empty() {
            0
        } else {
            m.trim().parse().map_err(|_| bad())?
        },
    );
    (h < 24 && m < 60).then_some(h * 60 + m).ok_or_else(bad)
}

/// A recurring weekly availability: every `weekday` from `start` to `end`, cut into slots of `slot_minutes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyPattern {
    /// 1 for Monday … 7 for Sunday.
    pub weekday: u32,
    pub start_minute: u32,
    pub end_minute: u32,
    pub slot_minutes: u32,
    pub kind: SlotKind,
    pub modality: Modality,
    pub valid_from: Day,
    pub valid_until: Option<Day>,
    /// Days without slots (holidays of the professional, a training day…).
    pub exceptions: Vec<Day>,
    /// No slots on public holidays (the on-call rota covers them).
    pub skip_public_holidays: bool,
}

/// One slot of a pattern, in UTC milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTime {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl WeeklyPattern {
    /// Every problem of the pattern, each naming its field.
    pub fn check(&self) -> Result<(), Vec<ValidationError>> {
        let mut problems = Vec::new();
        if !(1..=7).contains(&self.weekday) {
            problems.push(ValidationError::new(
                "Jour",
                "choisissez un jour de la semaine",
            ));
        }
        if self.end_minute <= self.start_minute {
            problems.push(ValidationError::new(
                "Fin",
                "la fin doit être après le début",
            ));
        }
        if let Err(problem) = check_slot_minutes("Durée d'un créneau", i64::from(self.slot_minutes))
        {
            problems.push(problem);
        } else if self.end_minute > self.start_minute
            && self.end_minute - self.start_minute < self.slot_minutes
        {
            problems.push(ValidationError::new(
                "Durée d'un créneau",
                "la plage est plus courte qu'un créneau",
            ));
        }
        if let Some(until) = self.valid_until {
            if until < self.valid_from {
                problems.push(ValidationError::new(
                    "Jusqu'au",
                    "la fin de validité est avant son début",
                ));
            } else if until.days_since_epoch() - self.valid_from.days_since_epoch() > 731 {
                problems.push(ValidationError::new("Jusqu'au", "deux ans au plus"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The slots of the pattern whose day lies in `[from, to]` (Paris days).
    pub fn slots_between(&self, from: Day, to: Day) -> Vec<SlotTime> {
        let mut slots = Vec::new();
        let first = from.max(self.valid_from);
        let last = self.valid_until.map_or(to, |until| until.min(to));
        if first > last || self.slot_minutes == 0 {
            return slots;
        }
        let mut day = first.plus_days(i64::from((7 + self.weekday - first.weekday()) % 7));
        while day <= last {
            let skipped = self.exceptions.contains(&day)
                || (self.skip_public_holidays && is_public_holiday(day));
            if !skipped {
                let mut minute = self.start_minute;
                while minute + self.slot_minutes <= self.end_minute {
                    slots.push(SlotTime {
                        start_ms: paris_to_utc(day, minute),
                        end_ms: paris_to_utc(day, minute + self.slot_minutes),
                    });
                    minute += self.slot_minutes;
                }
            }
            day = day.plus_days(7);
        }
        slots
    }
}

/// Seen within `hours` of the request: the indicator's test.
pub fn within_hours(requested_ms: i64, slot_start_ms: i64, hours: i64) -> bool {
    slot_start_ms >= requested_ms && slot_start_ms - requested_ms <= hours * 3_600_000
}

/// How indicators are cut within a contract year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Week,
    Month,
}

/// A period of the indicators: `[from, until)` in days (Paris), with its French label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub label: String,
    pub from: Day,
    pub until: Day,
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// The months, or the weeks (Monday to Sunday, cut at the year's ends), of a contract year (calendar year).
pub fn periods(year: i32, granularity: Granularity) -> Vec<Period> {
    let (first, next_year) = (
        Day {
            year,
            month: 1,
            day: 1,
        },
        Day {
            year: year + 1,
            month: 1,
            day: 1,
        },
    );
    match granularity {
        Granularity::Month => (1..=12u32)
            .map(|month| Period {
                label: format!("{} {year}", MONTHS[(month - 1) as usize]),
                from: Day {
                    year,
                    month,
                    day: 1,
                },
                until: if month == 12 {
                    next_year
                } else {
                    Day {
                        year,
                        month: month + 1,
                        day: 1,
                    }
                },
            })
            .collect(),
        Granularity::Week => {
            let mut weeks = Vec::new();
            let mut start = first;
            while start < next_year {
                let monday_after = start.plus_days(i64::from(8 - start.weekday()));
                let until = if monday_after < next_year {
                    monday_after
                } else {
                    next_year
                };
                weeks.push(Period {
                    label: format!("semaine du {}", start.french()),
                    from: start,
                    until,
                });
                start = until;
            }
            weeks
        }
    }
}

/// Shares rota turns: each day, in order, goes to the professional with the fewest turns so far (the turns
/// they already have count), never the one who had the previous turn when someone else can take it; ties go
/// to the first in `professionals`. Returns one professional per day (none when the list is empty).
pub fn share_turns<T: Copy + PartialEq>(days: &[Day], professionals: &[(T, i64)]) -> Vec<(Day, T)> {
    let mut load: Vec<(T, i64)> = professionals.to_vec();
    let mut previous: Option<T> = None;
    let mut shared = Vec::with_capacity(days.len());
    for day in days {
        let pick = load
            .iter()
            .enumerate()
            .filter(|(_, (who, _))| load.len() == 1 || Some(*who) != previous)
            .min_by_key(|(index, (_, turns))| (*turns, *index))
            .map(|(index, _)| index);
        let Some(index) = pick else { break };
        load[index].1 += 1;
        previous = Some(load[index].0);
        shared.push((*day, load[index].0));
    }
    shared
}

/// Every `weekday` (1 Monday … 7 Sunday) from `from` to `to` included, public holidays left out when asked.
pub fn weekdays_between(weekday: u32, from: Day, to: Day, skip_public_holidays: bool) -> Vec<Day> {
    let mut day = from.plus_days(i64::from((weekday + 7 - from.weekday()) % 7));
    let mut days = Vec::new();
    while day <= to && days.len() < 400 {
        if !(skip_public_holidays && is_public_holiday(day)) {
            days.push(day);
        }
        day = day.plus_days(7);
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Day {
        Day::new(y, m, d).unwrap()
    }

    #[test]
    fn days_weekdays_and_easter() {
        assert_eq!(day(1970, 1, 1).days_since_epoch(), 0);
        assert_eq!(day(1970, 1, 1).weekday(), 4);
        assert_eq!(day(2026, 12, 1).weekday(), 2);
        for days in [-1000, 0, 20_000, 20_788, 50_000] {
            assert_eq!(Day::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(easter(2026), day(2026, 4, 5));
        assert_eq!(easter(2027), day(2027, 3, 28));
        assert_eq!(easter(2000), day(2000, 4, 23));
        assert_eq!(Day::new(2026, 2, 29), None);
        assert_eq!(Day::parse("Date", "05/04/2026").unwrap(), day(2026, 4, 5));
        assert_eq!(Day::parse("Date", "31/04/2026").unwrap_err().field, "Date");
    }

    #[test]
    fn the_eleven_holidays_of_2026() {
        let days = public_holidays(2026);
        assert_eq!(days.len(), 11);
        for expected in [
            day(2026, 4, 6),  // Easter Monday
            day(2026, 5, 14), // Ascension
            day(2026, 5, 25), // Whit Monday
            day(2026, 7, 14),
        ] {
            assert!(days.contains(&expected), "{expected:?}");
        }
        assert!(!is_public_holiday(day(2026, 12, 1)));
    }

    #[test]
    fn paris_time_follows_daylight_saving() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        let winter = paris_to_utc(day(2026, 1, 15), 9 * 60);
        assert_eq!(utc_to_paris(winter), (day(2026, 1, 15), 9 * 60));
        assert_eq!(paris_offset_minutes(winter), 60);
        let summer = paris_to_utc(day(2026, 7, 15), 9 * 60);
        assert_eq!(paris_offset_minutes(summer), 120);
        assert_eq!(utc_to_paris(summer), (day(2026, 7, 15), 9 * 60));
        // 29 March: 02:30 does not exist (taken as 03:30); 25 October: 02:30 happens twice (the first).
        let skipped = paris_to_utc(day(2026, 3, 29), 150);
        assert_eq!(utc_to_paris(skipped), (day(2026, 3, 29), 210));
        let twice = paris_to_utc(day(2026, 10, 25), 150);
        assert_eq!(paris_offset_minutes(twice), 120);
        assert_eq!(
            paris_to_utc(day(2026, 10, 25), 240) - paris_to_utc(day(2026, 10, 25), 120),
            3 * 3_600_000
        );
    }

    #[test]
    fn a_weekly_pattern_skips_exceptions_and_holidays() {
        let pattern = WeeklyPattern {
            weekday: 1,
            start_minute: 8 * 60,
            end_minute: 10 * 60,
            slot_minutes: 20,
            kind: SlotKind::Sas,
            modality: Modality::Office,
            valid_from: day(2026, 3, 30),
            valid_until: Some(day(2026, 5, 31)),
            exceptions: vec![day(2026, 4, 20)],
            skip_public_holidays: true,
        };
        assert!(pattern.check().is_ok());
        // Mondays 30/03 … 25/05: nine, less 06/04 (Easter Monday), 20/04 (exception), 25/05 (Whit Monday).
        let slots = pattern.slots_between(day(2026, 3, 1), day(2026, 12, 31));
        assert_eq!(slots.len(), 6 * 6);
        let (first_day, first_minute) = utc_to_paris(slots[0].start_ms);
        assert_eq!((first_day, first_minute), (day(2026, 3, 30), 8 * 60));
        assert!(slots.iter().all(|s| s.end_ms - s.start_ms == 20 * 60_000));
        assert!(slots
            .iter()
            .all(|s| utc_to_paris(s.start_ms).0.weekday() == 1));
        let bad = WeeklyPattern {
            weekday: 9,
            end_minute: 7 * 60,
            slot_minutes: 2,
            valid_until: Some(day(2026, 1, 1)),
            ..pattern
        };
        let fields: Vec<&str> = bad.check().unwrap_err().iter().map(|p| p.field).collect();
        assert_eq!(fields, ["Jour", "Fin", "Durée d'un créneau", "Jusqu'au"]);
    }

    #[test]
    fn codes_round_trip_and_times_parse() {
        for kind in SlotKind::ALL {
            assert_eq!(SlotKind::parse(kind.code()), Some(*kind));
        }
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.code()), Some(*outcome));
        }
        assert_eq!(parse_time("Début", "08:30").unwrap(), 510);
        assert_eq!(parse_time("Début", "9h").unwrap(), 540);
        assert_eq!(parse_time("Début", "25:00").unwrap_err().field, "Début");
        assert!(within_hours(0, 47 * 3_600_000, 48));
        assert!(!within_hours(0, 49 * 3_600_000, 48));
    }

    #[test]
    fn periods_cover_the_year_without_gap() {
        for granularity in [Granularity::Week, Granularity::Month] {
            let list = periods(2026, granularity);
            assert_eq!(list[0].from, day(2026, 1, 1));
            assert_eq!(list.last().unwrap().until, day(2027, 1, 1));
            for pair in list.windows(2) {
                assert_eq!(pair[0].until, pair[1].from);
            }
        }
        assert_eq!(periods(2026, Granularity::Month)[1].label, "février 2026");
        let weeks = periods(2026, Granularity::Week);
        // 1 January 2026 is a Thursday: a short first week, then Mondays.
        assert_eq!(weeks[0].until, day(2026, 1, 5));
        assert_eq!(weeks[1].label, "semaine du 05/01/2026");
        assert_eq!(weeks.len(), 53);
        assert!(weeks.iter().skip(1).all(|w| w.from.weekday() == 1));
    }

    #[test]
    fn turns_are_shared_evenly_and_not_twice_in_a_row() {
        let saturdays = weekdays_between(6, day(2026, 1, 1), day(2026, 3, 31), true);
        assert_eq!(saturdays.len(), 13);
        assert!(saturdays.iter().all(|d| d.weekday() == 6));
        // B already has two turns: A and C take the first ones.
        let shared = share_turns(&saturdays, &[("A", 0), ("B", 2), ("C", 0)]);
        let who: Vec<&str> = shared.iter().map(|(_, w)| *w).collect();
        assert_eq!(&who[..4], &["A", "C", "A", "C"]);
        for name in ["A", "B", "C"] {
            let total =
                who.iter().filter(|w| **w == name).count() as i64 + if name == "B" { 2 } else { 0 };
            assert!((5..=6).contains(&total), "{name}: {total}");
        }
        assert!(who.windows(2).all(|w| w[0] != w[1]));
        assert_eq!(share_turns(&saturdays[..2], &[("A", 0)]).len(), 2);
        assert!(share_turns::<&str>(&saturdays, &[]).is_empty());
        // Easter Monday 2026 (6 April) is left out when asked.
        assert_eq!(
            weekdays_between(1, day(2026, 4, 1), day(2026, 4, 13), true),
            vec![day(2026, 4, 13)]
        );
    }

    #[test]
    fn fhir_date_times_read_and_write_paris_time() {
        let winter = parse_fhir_date_time("2026-12-01T08:30:00+01:00").unwrap();
        assert_eq!(paris_date_time(winter), "2026-12-01T08:30:00+01:00");
        assert_eq!(parse_fhir_date_time("2026-12-01T07:30:00Z"), Some(winter));
        assert_eq!(
            parse_fhir_date_time("2026-12-01T07:30:00.000Z"),
            Some(winter)
        );
        assert_eq!(parse_fhir_date_time("2026-12-01T08:30"), Some(winter));
        assert_eq!(
            parse_fhir_date_time("2026-12-01T02:30:00-05:00"),
            Some(winter)
        );
        let summer = parse_fhir_date_time("2024-06-12T16:40:00.000+02:00").unwrap();
        assert_eq!(paris_date_time(summer), "2024-06-12T16:40:00+02:00");
        assert_eq!(
            parse_fhir_date_time("2026-12-01"),
            Some(paris_to_utc(day(2026, 12, 1), 0))
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-12-01T25:00",
            "demain",
            "2026-12-01T08:30+1",
            "2026-12-01T08:30:00.Z",
            "２０２６-12-01",
        ] {
            assert_eq!(parse_fhir_date_time(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod rota_label_tests {
    use super::default_rota_label;

    #[test]
    fn an_unnamed_rota_is_named_after_its_weekday_and_part_of_the_day() {
        assert_eq!(default_rota_label(7, 8 * 60), "Dimanche matin");
        assert_eq!(default_rota_label(3, 18 * 60), "Mercredi soir");
        assert_eq!(default_rota_label(6, 14 * 60), "Samedi après-midi");
        assert_eq!(default_rota_label(0, 0), "Lundi matin");
    }
}

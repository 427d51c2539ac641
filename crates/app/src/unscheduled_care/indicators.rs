//! The mission's indicators of one contract year (the calendar year, Paris time) as a typed set
//! (`maillage_domain::indicators`): what the annual report and the ACI engine read, and the year's sheet of
//! the indicators export.

use super::{Result, UnscheduledCare};
use crate::caller::Caller;
use maillage_domain::calendar::paris_to_utc;
use maillage_domain::calendar::Day;
use maillage_domain::indicators::{Indicator, IndicatorSet, Measure};

/// Code of the set's one group.
pub const SLOTS: &str = "creneaux";

impl UnscheduledCare {
    /// Slots offered, booked and honoured in `year`, with the shares the SAS and the CPAM ask for.
    pub async fn indicators(
        &self,
        caller: &Caller,
        year: i32,
        period: String,
    ) -> Result<IndicatorSet> {
        let start = |year: i32| Day::new(year, 1, 1).map(|day| paris_to_utc(day, 0));
        let (Some(from), Some(until)) = (start(year), start(year + 1)) else {
            return Ok(IndicatorSet::new(
                "soins-non-programmes",
                i64::from(year),
                period,
            ));
        };
        let f = self.figures(caller, from, until).await?;
        let count =
            |code: &str, label: &str, n: i64| Indicator::new(code, label, Measure::Count(n));
        let slots = vec![
            count("offerts", "Créneaux offerts", f.offered),
            count("offerts.sas", "… réservés au SAS", f.offered_sas),
            count("offerts.cpts", "… pour la CPTS", f.offered_cpts),
            count("offerts.surnumeraires", "… surnuméraires", f.offered_extra),
            count("reserves", "Créneaux réservés", f.booked),
            count("honores", "Rendez-vous honorés", f.honoured),
            count("absences", "Absences", f.no_show),
            Indicator::new(
                "taux_absence",
                "Taux d'absence",
                Measure::share(f.no_show, f.outcomes),
            ),
            Indicator::new(
                "vus_24h",
                "Patients vus sous 24 h",
                Measure::share(f.within_24h, f.honoured),
            ),
            Indicator::new(
                "vus_48h",
                "Patients vus sous 48 h",
                Measure::share(f.within_48h, f.honoured),
            ),
            count(
                "professionnels",
                "Professionnels participants",
                f.professionals,
            ),
        ];
        Ok(
            IndicatorSet::new("soins-non-programmes", i64::from(year), period).group(
                SLOTS,
                "Créneaux de l'année",
                slots,
            ),
        )
    }
}

//! The mission's indicators of one contract year (the calendar year, Paris time) as a typed set
//! (`maillage_domain::indicators`): what the annual report and the ACI engine read, and the year's sheet of
//! the indicators export.

use maillage_domain::indicators::{Indicator, IndicatorSet, Measure};
use maillage_store::SnpFigures;

/// Code of the set's one group.
pub const SLOTS: &str = "creneaux";

/// The set of one contract year from its figures ([`UnscheduledCare::figures`](super::UnscheduledCare::figures) over the year, Paris time, which
/// checks the caller's right): slots offered, booked and honoured, with the shares the SAS and the CPAM ask for.
/// The indicators page builds it from the year's figures it already read, without a second query.
pub fn indicator_set(year: i64, period: String, f: &SnpFigures) -> IndicatorSet {
    let count = |code: &str, label: &str, n: i64| Indicator::new(code, label, Measure::Count(n));
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
    IndicatorSet::new("soins-non-programmes", year, period).group(
        SLOTS,
        "Créneaux de l'année",
        slots,
    )
}

//! The mission's indicators for one contract year, as a typed set (`maillage_domain::indicators`): the page,
//! its charts, the CSV and XLSX exports — and later the annual report and the ACI engine — read this one set.

use super::*;
use crate::caller::Caller;
use crate::clock::{day_start_ms, french_date, year_of};
use maillage_domain::doctor_search::{median, Channel};
use maillage_domain::indicators::{Indicator, IndicatorSet, Measure};

/// Codes of the groups of the set.
pub const MAIN: &str = "principaux";
pub const BY_CHANNEL: &str = "par_canal";
pub const BY_REFERRER: &str = "par_adresseur";
pub const BACKLOG: &str = "en_attente";

impl DoctorSearch {
    /// The contract year `year` (the calendar year; the current one runs to `now`, "en direct"). A year
    /// outside 2000…this year is the current year.
    pub async fn indicators(
        &self,
        caller: &Caller,
        year: Option<i64>,
        now: i64,
    ) -> Result<IndicatorSet> {
        let this_year = year_of(now);
        let year = year
            .filter(|y| (2000..=this_year).contains(y))
            .unwrap_or(this_year);
        let from = day_start_ms(year, 1, 1);
        let until = day_start_ms(year + 1, 1, 1);
        let f = self.figures(caller, from, until).await?;
        let mut delays = f.attachment_delays_days.clone();
        let count =
            |code: &str, label: &str, n: i64| Indicator::new(code, label, Measure::Count(n));
        let period = if year == this_year {
            format!("du 01/01/{year} à aujourd'hui ({})", french_date(now))
        } else {
            format!("du 01/01/{year} au 31/12/{year}")
        };
        let main = vec![
            count(
                "cibles",
                "Patients sans médecin traitant ciblés (demandes reçues)",
                f.targeted,
            ),
            count(
                "informes",
                "Patients informés (prévenus par e-mail ou SMS)",
                f.informed,
            ),
            count(
                "orientes",
                "Patients orientés (proposés à un médecin ou réorientés)",
                f.oriented,
            ),
            count(
                "medecin_trouve",
                "Patients ayant trouvé un médecin traitant",
                f.attached,
            ),
            count("medecin_trouve.ald", "… dont en ALD", f.attached_ald),
            count(
                "medecin_trouve.css_ame",
                "… dont bénéficiaires de la CSS ou de l'AME",
                f.attached_css,
            ),
            count(
                "medecin_trouve.70_ans",
                "… dont âgés de 70 ans et plus",
                f.attached_aged_70,
            ),
            Indicator::new(
                "delai_median",
                "Délai médian entre la demande et le médecin traitant",
                Measure::Days(median(&mut delays)),
            ),
            count(
                "medecins_declarant",
                "Médecins déclarant des places aujourd'hui",
                f.gps_declaring,
            ),
            count(
                "medecins_acceptant",
                "Médecins ayant accepté au moins un patient",
                f.gps_accepting,
            ),
            count(
                "places_maintenant",
                "Places déclarées disponibles maintenant",
                f.capacity_now,
            ),
            count(
                "places_6_mois",
                "Places déclarées d'ici 6 mois",
                f.capacity_later,
            ),
            count(
                "places_utilisees",
                "Places utilisées (propositions acceptées)",
                f.places_used,
            ),
        ];
        let channels = f
            .by_channel
            .iter()
            .map(|(code, n)| {
                let label = Channel::parse(code).map(Channel::label).unwrap_or("Autre");
                count(&format!("canal.{code}"), label, *n)
            })
            .collect();
        let referrers = f
            .by_referrer
            .iter()
            .enumerate()
            .map(|(rank, (name, n))| count(&format!("adresseur.{}", rank + 1), name, *n))
            .collect();
        let backlog = f
            .backlog_by_priority
            .iter()
            .map(|(priority, n)| {
                count(
                    &format!("priorite.{priority}"),
                    &format!("Priorité {priority}"),
                    *n,
                )
            })
            .collect();
        Ok(IndicatorSet::new("medecin-traitant", year, period)
            .group(MAIN, "Indicateurs", main)
            .group(BY_CHANNEL, "Demandes par canal", channels)
            .group(BY_REFERRER, "Demandes par adresseur", referrers)
            .group(BACKLOG, "En attente par priorité", backlog))
    }
}

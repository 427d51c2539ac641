//! The care pathways' indicators of one contract year (inclusions of the calendar year, Paris dates) as a
//! typed set: patients included per pathway; for each step, the share done within its window among those
//! due (PRADO's own measures: « % vus par un infirmier ≤ J8 après la sortie », « % vus par le cardiologue
//! ≤ 2 mois ») and how many were done or cancelled; the screenings filled and positive.

use super::{PathwayCare, Result};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::indicators::{Indicator, IndicatorSet, Measure};
use maillage_store::{InclusionCount, MeetingCounts, StepCount};

/// Codes of the set's groups.
pub const INCLUSIONS: &str = "inclusions";
pub const IN_TIME: &str = "dans-les-delais";
pub const STEPS: &str = "etapes";
pub const SCREENINGS: &str = "reperages";
pub const MEETINGS: &str = "reunions";
pub const WAITING: &str = "attente";

/// One waiting list's figures of the year: who waits today, and the days waited by those seen this year.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingFigures {
    pub name: String,
    pub waiting: i64,
    pub seen: i64,
    pub median_seen_days: Option<f64>,
}

/// The set from the counts (`names`: each template's name by code), pure: the page, the exports and the ACI
/// steering read the same values.
pub fn indicator_set(
    year: i64,
    period: String,
    names: &[(String, String)],
    inclusions: &[InclusionCount],
    steps: &[StepCount],
    meetings: &MeetingCounts,
    waiting: &[WaitingFigures],
) -> IndicatorSet {
    let name = |code: &str| {
        names
            .iter()
            .find(|(c, _)| c == code)
            .map_or(code.to_string(), |(_, n)| n.clone())
    };
    let included = inclusions
        .iter()
        .map(|c| {
            Indicator::new(
                format!("inclus.{}", c.template_code),
                format!("Patients inclus — {}", name(&c.template_code)),
                Measure::Count(c.inclusions),
            )
        })
        .chain(std::iter::once(Indicator::new(
            "inclus",
            "Patients inclus, tous parcours",
            Measure::Count(inclusions.iter().map(|c| c.inclusions).sum()),
        )))
        .collect();
    let key = |s: &StepCount| format!("{}.{}", s.template_code, s.step_code);
    let in_time = steps
        .iter()
        .map(|s| {
            Indicator::new(
                format!("{}.dans_le_delai", key(s)),
                format!(
                    "{} — {} : faite dans son délai",
                    name(&s.template_code),
                    s.label
                ),
                Measure::share(s.on_time, s.due),
            )
        })
        .collect();
    let counted = steps
        .iter()
        .flat_map(|s| {
            [
                Indicator::new(
                    format!("{}.faites", key(s)),
                    format!("{} — {} : faites", name(&s.template_code), s.label),
                    Measure::Count(s.done),
                ),
                Indicator::new(
                    format!("{}.annulees", key(s)),
                    format!("{} — {} : annulées", name(&s.template_code), s.label),
                    Measure::Count(s.cancelled),
                ),
            ]
        })
        .collect();
    let screenings = steps
        .iter()
        .filter(|s| s.results > 0)
        .flat_map(|s| {
            [
                Indicator::new(
                    format!("{}.reperages", key(s)),
                    format!("{} — {} : repérages faits", name(&s.template_code), s.label),
                    Measure::Count(s.results),
                ),
                Indicator::new(
                    format!("{}.positifs", key(s)),
                    format!(
                        "{} — {} : repérages positifs",
                        name(&s.template_code),
                        s.label
                    ),
                    Measure::Count(s.positive),
                ),
            ]
        })
        .collect();
    IndicatorSet::new("parcours", year, period)
        .group(INCLUSIONS, "Patients inclus dans l'année", included)
        .group(
            IN_TIME,
            "Étapes faites dans leur délai (parmi les étapes échues)",
            in_time,
        )
        .group(STEPS, "Étapes faites et annulées", counted)
        .group(SCREENINGS, "Repérages (questionnaires)", screenings)
        .group(
            MEETINGS,
            "Réunions de concertation (RCP) tenues dans l'année",
            vec![
                Indicator::new(
                    "rcp.tenues",
                    "Réunions tenues",
                    Measure::Count(meetings.meetings),
                ),
                Indicator::new("rcp.cas", "Cas présentés", Measure::Count(meetings.cases)),
                Indicator::new(
                    "rcp.presence",
                    "Participation (présents parmi les invités ayant répondu)",
                    Measure::share(meetings.present, meetings.answered),
                ),
            ],
        )
        .group(
            WAITING,
            "Listes d'attente",
            waiting
                .iter()
                .enumerate()
                .flat_map(|(index, list)| {
                    [
                        Indicator::new(
                            format!("attente.{}.en_attente", index + 1),
                            format!("{} : en attente", list.name),
                            Measure::Count(list.waiting),
                        ),
                        Indicator::new(
                            format!("attente.{}.pris_en_charge", index + 1),
                            format!("{} : pris en charge dans l'année", list.name),
                            Measure::Count(list.seen),
                        ),
                        Indicator::new(
                            format!("attente.{}.attente_mediane", index + 1),
                            format!("{} : attente médiane des pris en charge", list.name),
                            Measure::Days(list.median_seen_days.map(|d| d.round() as i64)),
                        ),
                    ]
                })
                .collect(),
        )
}

impl PathwayCare {
    /// The indicators of the patients included in `year`, as their steps stand on `today` (the coordination
    /// and the secretariat). Counts only: no identity is opened.
    pub async fn indicators(&self, caller: &Caller, year: i32, today: Day) -> Result<IndicatorSet> {
        caller.require(Permission::ViewPathwayIndicators)?;
        let (from, to) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
        let cpts = caller.cpts();
        let inclusions = self
            .store
            .pathway_inclusion_counts(cpts, &from, &to)
            .await?;
        let steps = self
            .store
            .pathway_step_counts(cpts, &from, &to, &today.iso())
            .await?;
        // Meetings held: up to today.
        let held_until = std::cmp::min(to.clone(), today.iso());
        let meetings = self
            .store
            .meeting_counts(
                cpts,
                maillage_domain::meetings::MeetingKind::CaseMeeting.code(),
                &from,
                &held_until,
            )
            .await?;
        let mut waiting = Vec::new();
        for list in self.store.waiting_lists(cpts).await? {
            let exits = self
                .store
                .waiting_entries(cpts, list.id, false, &from, &to)
                .await?;
            let seen = super::waiting::seen_waits(&exits);
            waiting.push(WaitingFigures {
                name: list.name,
                waiting: list.waiting,
                seen: seen.len() as i64,
                median_seen_days: maillage_domain::pathways::waiting::median_days(&seen),
            });
        }
        let names: Vec<(String, String)> = self
            .templates
            .list(caller)
            .await?
            .into_iter()
            .map(|t| (t.template.code, t.template.name))
            .collect();
        let period = format!(
            "patients inclus du 01/01/{year} au 31/12/{year}, étapes au {}",
            today.french()
        );
        Ok(indicator_set(
            i64::from(year),
            period,
            &names,
            &inclusions,
            &steps,
            &meetings,
            &waiting,
        ))
    }

    /// Writes in the audit trail that the year's indicators left Maillage as a file, before it is sent.
    pub async fn record_indicators_export(
        &self,
        caller: &Caller,
        year: i32,
        format: &str,
    ) -> Result<()> {
        caller.require(Permission::ViewPathwayIndicators)?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(
                AuditAction::PathwayIndicatorsExported,
                "pathway_indicators",
                year.to_string(),
            )
            .detail(serde_json::json!({ "format": format })),
        )
        .await?;
        Ok(())
    }
}

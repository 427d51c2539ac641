//! A patient's step as it stands: its state derived from its window, the day and its evidence, what its
//! result sets off, when it comes back, and whether today's overdue alert is still to send.

use super::instruments::Scored;
use super::{CareRole, Condition, PathwayTemplate};
use crate::calendar::Day;
use crate::codes::coded_enum;
use crate::identifiers::ValidationError;

coded_enum!(
    /// Where a step stands, as the care team reads it.
    StepState {
        Upcoming => ("a-venir", "À venir"),
        Due => ("a-faire", "À faire"),
        Late => ("en-retard", "En retard"),
        Done => ("faite", "Faite"),
        Cancelled => ("annulee", "Annulée"),
    }
);

/// What is known of a step besides its window: when it was done (with its evidence) or cancelled (why).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepFacts {
    pub done_on: Option<Day>,
    pub cancelled_reason: Option<String>,
}

/// The state on `today`: cancelled or done whatever the dates; otherwise upcoming before its window, due in
/// it, late after it.
pub fn state(earliest: Day, latest: Day, facts: &StepFacts, today: Day) -> StepState {
    if facts.cancelled_reason.is_some() {
        StepState::Cancelled
    } else if facts.done_on.is_some() {
        StepState::Done
    } else if today < earliest {
        StepState::Upcoming
    } else if today <= latest {
        StepState::Due
    } else {
        StepState::Late
    }
}

/// Whether a step done on `done_on` was done within its window (the pathway indicators: "% seen by a nurse by
/// D8").
pub fn on_time(latest: Day, done_on: Day) -> bool {
    done_on <= latest
}

/// Closing a step: the day it was done, neither in the future nor before the inclusion, and its evidence
/// given (the liaison sheet received, the result, the decision). Each problem names its field.
pub fn check_done(
    done_on: Option<Day>,
    inclusion: Day,
    today: Day,
    evidence_given: bool,
) -> Result<Day, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let day = match done_on {
        None => {
            problems.push(ValidationError::new(
                "Date",
                "le jour où l'étape a été faite est obligatoire",
            ));
            None
        }
        Some(day) if day > today => {
            problems.push(ValidationError::new(
                "Date",
                format!("{} est dans le futur", day.french()),
            ));
            None
        }
        Some(day) if day < inclusion.plus_days(-366) => {
            problems.push(ValidationError::new(
                "Date",
                format!(
                    "{} est plus d'un an avant l'inclusion ({})",
                    day.french(),
                    inclusion.french()
                ),
            ));
            None
        }
        Some(day) => Some(day),
    };
    if !evidence_given {
        problems.push(ValidationError::new(
            "Preuve",
            "une étape se clôt avec sa preuve (date de la visite, fiche de liaison reçue, résultat ou décision)",
        ));
    }
    match day {
        Some(day) if problems.is_empty() => Ok(day),
        _ => Err(problems),
    }
}

/// Cancelling a step: a reason, 3 to 300 characters.
pub fn check_cancel_reason(reason: &str) -> Result<String, ValidationError> {
    let reason = reason.trim();
    if (3..=300).contains(&reason.chars().count()) {
        Ok(reason.to_string())
    } else {
        Err(ValidationError::new(
            "Motif",
            "le motif de l'annulation, de 3 à 300 caractères",
        ))
    }
}

/// The steps a scored result of step `code` creates (their codes), as the template's triggers say.
pub fn triggered_by(template: &PathwayTemplate, code: &str, result: &Scored) -> Vec<String> {
    let Some(step) = template.step(code) else {
        return Vec::new();
    };
    step.triggers
        .iter()
        .filter(|trigger| match &trigger.when {
            Condition::PositiveDomain { domain: None } => !result.positive.is_empty(),
            Condition::PositiveDomain {
                domain: Some(domain),
            } => result.positive.iter().any(|p| p == domain),
            Condition::BandAbove { rank } => result.band.is_some_and(|band| band.rank > *rank),
        })
        .map(|trigger| trigger.creates.clone())
        .collect()
}

coded_enum!(
    /// How a patient's step came to be.
    StepOrigin {
        Planned => ("plan", "Prévue à l'inclusion"),
        Repeated => ("recurrence", "Renouvelée après la précédente"),
        Triggered => ("declenchement", "Déclenchée par un résultat"),
        Decided => ("decision", "Décidée en réunion de concertation"),
    }
);

/// A step a done step sets off: its next occurrence (ICOPE every 4–6 months from the day it was done) or the
/// step its result triggers (the GP's assessment after a positive ICOPE domain), its window counted from the
/// day the step was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub code: String,
    pub label: String,
    pub owner: CareRole,
    pub earliest: Day,
    pub latest: Day,
    pub origin: StepOrigin,
}

/// What closing step `code` on `done_on` with `result` adds to the patient's steps: the triggered steps not
/// already open (`open` holds the codes of the patient's steps neither done nor cancelled), then the step's
/// next occurrence when it recurs.
pub fn follow_ups(
    template: &PathwayTemplate,
    code: &str,
    done_on: Day,
    result: Option<&Scored>,
    open: &[String],
) -> Vec<FollowUp> {
    let mut added: Vec<FollowUp> = Vec::new();
    let push = |created: &str, origin: StepOrigin, added: &mut Vec<FollowUp>| {
        let repeated = origin == StepOrigin::Repeated;
        let (Some(step), Some((earliest, latest))) = (
            template.step(created),
            template.window_from(created, done_on, repeated),
        ) else {
            return;
        };
        if open.iter().any(|c| c == created) || added.iter().any(|a| a.code == created) {
            return;
        }
        added.push(FollowUp {
            code: step.code.clone(),
            label: step.label.clone(),
            owner: step.owner,
            earliest,
            latest,
            origin,
        });
    };
    if let Some(result) = result {
        for created in triggered_by(template, code, result) {
            push(&created, StepOrigin::Triggered, &mut added);
        }
    }
    if template.step(code).is_some_and(|s| s.recurrence.is_some()) {
        push(code, StepOrigin::Repeated, &mut added);
    }
    added
}

/// Whether the overdue alert of a late step is still to send today: once per step and day (the last alert's
/// day recorded with the step; the job that sends it claims that day, so two instances never both send).
pub fn overdue_alert_due(state: StepState, last_alert: Option<Day>, today: Day) -> bool {
    state == StepState::Late && last_alert.is_none_or(|day| day < today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pathways::builtin;
    use crate::pathways::instruments::{score, Instrument};

    fn day(text: &str) -> Day {
        Day::parse("jour", text).unwrap()
    }

    #[test]
    fn the_state_follows_the_window_and_the_facts() {
        let (earliest, latest) = (day("2027-02-06"), day("2027-02-10"));
        let open = StepFacts::default();
        assert_eq!(
            state(earliest, latest, &open, day("2027-02-05")),
            StepState::Upcoming
        );
        assert_eq!(
            state(earliest, latest, &open, day("2027-02-06")),
            StepState::Due
        );
        assert_eq!(
            state(earliest, latest, &open, day("2027-02-10")),
            StepState::Due
        );
        assert_eq!(
            state(earliest, latest, &open, day("2027-02-11")),
            StepState::Late
        );
        let done = StepFacts {
            done_on: Some(day("2027-02-12")),
            cancelled_reason: None,
        };
        assert_eq!(
            state(earliest, latest, &done, day("2027-03-01")),
            StepState::Done
        );
        assert!(!on_time(latest, day("2027-02-12")));
        assert!(on_time(latest, day("2027-02-10")));
        let cancelled = StepFacts {
            done_on: None,
            cancelled_reason: Some("Patient décédé".into()),
        };
        assert_eq!(
            state(earliest, latest, &cancelled, day("2027-03-01")),
            StepState::Cancelled
        );
    }

    #[test]
    fn closing_needs_a_past_day_and_the_evidence() {
        let (inclusion, today) = (day("2027-01-31"), day("2027-02-09"));
        assert_eq!(
            check_done(Some(day("2027-02-08")), inclusion, today, true),
            Ok(day("2027-02-08"))
        );
        let errors = check_done(Some(day("2027-02-10")), inclusion, today, false).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["Date", "Preuve"]);
        assert!(check_done(None, inclusion, today, true).unwrap_err()[0]
            .message
            .contains("obligatoire"));
        assert!(check_done(Some(day("2025-01-01")), inclusion, today, true).is_err());
        assert!(check_cancel_reason("  ").is_err());
        assert_eq!(
            check_cancel_reason(" Hospitalisé de nouveau "),
            Ok("Hospitalisé de nouveau".into())
        );
    }

    #[test]
    fn results_set_off_the_templates_triggers() {
        let frail = builtin::frail_elderly();
        let positive = score(
            Instrument::Icope,
            &["2", "1", "12", "0", "0", "0", "0", "0", "0"],
        )
        .unwrap();
        assert_eq!(
            triggered_by(&frail, "icope-etape-1", &positive),
            ["icope-etape-2"]
        );
        let negative = score(
            Instrument::Icope,
            &["3", "1", "12", "0", "0", "0", "0", "0", "0"],
        )
        .unwrap();
        assert!(triggered_by(&frail, "icope-etape-1", &negative).is_empty());
        // Zarit above "moderate" (rank 2): severe creates the caregiver's support, moderate does not.
        let severe = score(Instrument::Zarit22, &["3"; 22]).unwrap();
        assert_eq!(
            triggered_by(&frail, "aidant-zarit", &severe),
            ["soutien-aidant"]
        );
        let moderate = score(Instrument::Zarit22, &["2"; 22]).unwrap();
        assert_eq!(moderate.band.unwrap().rank, 2);
        assert!(triggered_by(&frail, "aidant-zarit", &moderate).is_empty());
        assert!(triggered_by(&frail, "inconnue", &severe).is_empty());
    }

    #[test]
    fn a_late_step_is_alerted_once_a_day() {
        let today = day("2027-02-11");
        assert!(overdue_alert_due(StepState::Late, None, today));
        assert!(overdue_alert_due(
            StepState::Late,
            Some(day("2027-02-10")),
            today
        ));
        assert!(!overdue_alert_due(StepState::Late, Some(today), today));
        assert!(!overdue_alert_due(StepState::Due, None, today));
        assert!(!overdue_alert_due(StepState::Done, None, today));
    }

    #[test]
    fn a_done_screening_adds_its_triggered_step_and_its_next_occurrence() {
        let frail = builtin::frail_elderly();
        let positive = score(
            Instrument::Icope,
            &["2", "1", "12", "0", "0", "0", "0", "0", "0"],
        )
        .unwrap();
        let done = day("2027-01-31");
        let added = follow_ups(&frail, "icope-etape-1", done, Some(&positive), &[]);
        assert_eq!(added.len(), 2);
        assert_eq!(added[0].code, "icope-etape-2");
        assert_eq!(added[0].origin, StepOrigin::Triggered);
        assert_eq!(added[0].owner, CareRole::GeneralPractitioner);
        // Within a month of the day done: 31 January → 28 February.
        assert_eq!(
            (added[0].earliest, added[0].latest),
            (done, day("2027-02-28"))
        );
        assert_eq!(added[1].code, "icope-etape-1");
        assert_eq!(added[1].origin, StepOrigin::Repeated);
        // Every 4–6 months: 31 January → 30 May … 31 July.
        assert_eq!(
            (added[1].earliest, added[1].latest),
            (day("2027-05-31"), day("2027-07-31"))
        );
        // An assessment already open is not created twice; a step without result or recurrence adds nothing.
        let again = follow_ups(
            &frail,
            "icope-etape-1",
            done,
            Some(&positive),
            &["icope-etape-2".to_string()],
        );
        assert_eq!(again.len(), 1);
        assert!(follow_ups(&frail, "aide-domicile", done, None, &[]).is_empty());
    }
}

//! Including a patient in a pathway: the checks of the inclusion (consent, dates), the roles of the care team
//! still to find, and the new windows when the discharge date is corrected (steps done or cancelled keep theirs).

use super::steps::StepFacts;
use super::{CareRole, PathwayTemplate, ScheduledStep};
use crate::calendar::Day;
use crate::identifiers::ValidationError;

/// What the inclusion form gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionDraft {
    pub inclusion: Option<Day>,
    pub event: Option<Day>,
    /// The patient agreed to be included (and to the sharing with the care team), as the form records it.
    pub consent: bool,
}

/// The planned steps of an inclusion, or every problem of the form, each naming its field: the consent, an
/// inclusion day not in the future nor more than a year ago, the event's day when the pathway counts from it
/// (a discharge may be planned up to 30 days ahead).
pub fn check_inclusion(
    template: &PathwayTemplate,
    draft: &InclusionDraft,
    today: Day,
) -> Result<Vec<ScheduledStep>, Vec<ValidationError>> {
    let mut problems = Vec::new();
    if !draft.consent {
        problems.push(ValidationError::new(
            "Consentement",
            "le patient doit avoir accepté son inclusion et le partage avec l'équipe de soins",
        ));
    }
    let inclusion_field = "Date d'inclusion";
    match draft.inclusion {
        None => problems.push(ValidationError::new(inclusion_field, "obligatoire")),
        Some(day) if day > today => problems.push(ValidationError::new(
            inclusion_field,
            format!("{} est dans le futur", day.french()),
        )),
        Some(day) if day < today.plus_days(-366) => problems.push(ValidationError::new(
            inclusion_field,
            format!("{} est à plus d'un an", day.french()),
        )),
        Some(_) => {}
    }
    if let Some(event) = draft.event {
        if event > today.plus_days(30) {
            problems.push(ValidationError::new(
                "Date de l'événement",
                format!("{} est à plus de 30 jours", event.french()),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let inclusion = draft.inclusion.unwrap_or(today);
    template.schedule(inclusion, draft.event)
}

/// The roles the planned steps need that nobody of the care team holds yet (the coordination and the
/// laboratory are not members of a care team).
pub fn uncovered_roles(steps: &[ScheduledStep], team: &[CareRole]) -> Vec<CareRole> {
    let mut missing: Vec<CareRole> = Vec::new();
    for step in steps {
        let role = step.owner;
        if matches!(
            role,
            CareRole::Coordination | CareRole::Laboratory | CareRole::PradoAdvisor
        ) || team.contains(&role)
            || missing.contains(&role)
        {
            continue;
        }
        missing.push(role);
    }
    missing
}

/// The windows after the event's day is corrected: every planned step not done nor cancelled gets its new
/// window; the others keep theirs (what happened stays as it was).
pub fn rescheduled(
    template: &PathwayTemplate,
    inclusion: Day,
    corrected_event: Day,
    current: &[(String, StepFacts)],
) -> Result<Vec<ScheduledStep>, Vec<ValidationError>> {
    let planned = template.schedule(inclusion, Some(corrected_event))?;
    Ok(planned
        .into_iter()
        .filter(|step| {
            current
                .iter()
                .find(|(code, _)| *code == step.code)
                .is_none_or(|(_, facts)| {
                    facts.done_on.is_none() && facts.cancelled_reason.is_none()
                })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pathways::builtin;

    fn day(text: &str) -> Day {
        Day::parse("jour", text).unwrap()
    }

    #[test]
    fn an_inclusion_needs_consent_and_sane_dates() {
        let template = builtin::heart_failure();
        let today = day("2027-02-01");
        let good = InclusionDraft {
            inclusion: Some(day("2027-01-31")),
            event: Some(day("2027-01-31")),
            consent: true,
        };
        let steps = check_inclusion(&template, &good, today).unwrap();
        assert_eq!(steps.len(), 6);
        let bad = InclusionDraft {
            inclusion: Some(day("2027-02-02")),
            event: Some(day("2027-04-01")),
            consent: false,
        };
        let fields: Vec<&str> = check_inclusion(&template, &bad, today)
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            ["Consentement", "Date d'inclusion", "Date de l'événement"]
        );
        let no_event = InclusionDraft {
            event: None,
            ..good.clone()
        };
        let errors = check_inclusion(&template, &no_event, today).unwrap_err();
        assert_eq!(errors[0].field, "Date de l'événement");
        // A discharge planned next week is fine.
        let planned = InclusionDraft {
            event: Some(day("2027-02-08")),
            ..good
        };
        assert!(check_inclusion(&template, &planned, today).is_ok());
    }

    #[test]
    fn the_care_team_roles_still_to_find() {
        let template = builtin::heart_failure();
        let steps = template
            .schedule(day("2027-01-31"), Some(day("2027-01-31")))
            .unwrap();
        let missing = uncovered_roles(&steps, &[CareRole::GeneralPractitioner, CareRole::Nurse]);
        assert_eq!(missing, [CareRole::Cardiologist, CareRole::Pharmacist]);
        let all = [
            CareRole::GeneralPractitioner,
            CareRole::Nurse,
            CareRole::Cardiologist,
            CareRole::Pharmacist,
        ];
        assert!(uncovered_roles(&steps, &all).is_empty());
    }

    #[test]
    fn a_corrected_discharge_moves_only_the_open_steps() {
        let template = builtin::heart_failure();
        let done = StepFacts {
            done_on: Some(day("2027-02-03")),
            cancelled_reason: None,
        };
        let current = vec![
            ("infirmier-j8".to_string(), done),
            ("biologie-bnp".to_string(), StepFacts::default()),
        ];
        let moved = rescheduled(&template, day("2027-01-31"), day("2027-02-02"), &current).unwrap();
        assert!(
            moved.iter().all(|s| s.code != "infirmier-j8"),
            "done: kept as it was"
        );
        let bnp = moved.iter().find(|s| s.code == "biologie-bnp").unwrap();
        assert_eq!(
            (bnp.earliest, bnp.latest),
            (day("2027-02-08"), day("2027-02-12"))
        );
    }
}

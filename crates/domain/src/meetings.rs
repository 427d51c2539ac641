//! A meeting with attendees, shared by the missions that hold them — case meetings of the care pathways (RCP)
//! now; prevention campaigns' briefings, crisis cells, quality groups and the general assembly later: what it
//! is, when and where, who was invited and who came, and its minutes. Checked here; each mission adds what its
//! meetings decide.

use crate::calendar::Day;
use crate::codes::coded_enum;
use crate::identifiers::ValidationError;

coded_enum!(
    /// Which mission's meeting.
    MeetingKind {
        CaseMeeting => ("rcp", "Réunion de concertation pluriprofessionnelle (RCP)"),
    }
);

coded_enum!(
    /// What became of an invitation.
    Attendance {
        Invited => ("invite", "Invité"),
        Present => ("present", "Présent"),
        Excused => ("excuse", "Excusé"),
        Absent => ("absent", "Absent"),
    }
);

/// The meeting's form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingDraft {
    pub title: String,
    pub held_on: Option<Day>,
    /// Minutes since midnight, Paris time.
    pub start_minute: Option<u32>,
    pub place: String,
}

/// A checked meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingPlan {
    pub title: String,
    pub held_on: Day,
    pub start_minute: u32,
    pub place: String,
}

/// The meeting, or every problem naming its field: a title, a day within a year either way, an hour, a place
/// (a room or « visioconférence »).
pub fn check_meeting(
    draft: &MeetingDraft,
    today: Day,
) -> Result<MeetingPlan, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let title = draft.title.trim();
    if !(3..=150).contains(&title.chars().count()) {
        problems.push(ValidationError::new("Titre", "de 3 à 150 caractères"));
    }
    match draft.held_on {
        None => problems.push(ValidationError::new("Date", "obligatoire (JJ/MM/AAAA)")),
        Some(day) if day < today.plus_days(-366) || day > today.plus_days(366) => problems.push(
            ValidationError::new("Date", format!("{} est à plus d'un an", day.french())),
        ),
        Some(_) => {}
    }
    if draft.start_minute.is_none() {
        problems.push(ValidationError::new("Heure", "obligatoire (HH:MM)"));
    }
    let place = draft.place.trim();
    if !(2..=200).contains(&place.chars().count()) {
        problems.push(ValidationError::new(
            "Lieu",
            "une salle, une adresse ou « visioconférence »",
        ));
    }
    match (draft.held_on, draft.start_minute) {
        (Some(held_on), Some(start_minute)) if problems.is_empty() => Ok(MeetingPlan {
            title: title.to_string(),
            held_on,
            start_minute,
            place: place.to_string(),
        }),
        _ => Err(problems),
    }
}

/// The share of the invited who came (present among present, excused and absent; those still « invité » are
/// not counted), as (present, answered).
pub fn attendance_rate(states: &[Attendance]) -> (usize, usize) {
    let answered = states.iter().filter(|s| **s != Attendance::Invited).count();
    let present = states.iter().filter(|s| **s == Attendance::Present).count();
    (present, answered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse("jour", text).unwrap()
    }

    #[test]
    fn a_meeting_names_each_missing_field_and_counts_who_came() {
        let today = day("2027-02-10");
        let fields: Vec<&str> = check_meeting(&MeetingDraft::default(), today)
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["Titre", "Date", "Heure", "Lieu"]);
        let far = MeetingDraft {
            title: "RCP santé mentale".into(),
            held_on: Some(day("2028-03-01")),
            start_minute: Some(12 * 60 + 30),
            place: "Maison de santé d'Aigues-Mortes".into(),
        };
        assert_eq!(check_meeting(&far, today).unwrap_err()[0].field, "Date");
        let plan = check_meeting(
            &MeetingDraft {
                held_on: Some(day("2027-02-17")),
                ..far
            },
            today,
        )
        .unwrap();
        assert_eq!(plan.start_minute, 750);
        use Attendance::*;
        assert_eq!(
            attendance_rate(&[Present, Present, Excused, Absent, Invited]),
            (2, 4)
        );
        assert_eq!(attendance_rate(&[]), (0, 0));
    }
}

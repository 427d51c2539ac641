//! The liaison sheet between town and hospital (« fiche de liaison ville–hôpital »): what the hospital tells
//! the care team at discharge, or what the team sends to the hospital — structured, checked field by field,
//! so that it prints the same for everyone and closes the step that waits for it.

use crate::calendar::Day;
use crate::codes::coded_enum;
use crate::identifiers::ValidationError;
use serde::{Deserialize, Serialize};

coded_enum!(
    /// Which way the sheet went.
    Direction {
        Received => ("recue", "Reçue de l'hôpital"),
        Sent => ("envoyee", "Envoyée à l'hôpital"),
    }
);

/// The form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SheetDraft {
    pub direction: String,
    pub dated_on: Option<Day>,
    pub establishment: String,
    pub discharge_on: Option<Day>,
    pub reason: String,
    pub treatment_changes: String,
    pub follow_up: String,
    pub contacts: String,
}

/// A checked sheet: what is sealed and printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiaisonSheet {
    pub direction: String,
    /// The day it was received or sent, `YYYY-MM-DD`: the day the step is done.
    pub dated_on: String,
    pub establishment: String,
    pub discharge_on: Option<String>,
    pub reason: String,
    pub treatment_changes: String,
    pub follow_up: String,
    pub contacts: String,
}

fn text(
    problems: &mut Vec<ValidationError>,
    field: &'static str,
    value: &str,
    (min, max): (usize, usize),
) -> String {
    let value = value.trim();
    let length = value.chars().count();
    if length < min {
        problems.push(ValidationError::new(field, "obligatoire"));
    } else if length > max {
        problems.push(ValidationError::new(
            field,
            format!("{max} caractères au plus"),
        ));
    }
    value.to_string()
}

/// The sheet, or every problem naming its field: its way, its day (not in the future), the establishment
/// and the reason of the stay; the discharge day, when given, not more than 30 days ahead.
pub fn check_sheet(draft: &SheetDraft, today: Day) -> Result<LiaisonSheet, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let direction = Direction::parse(&draft.direction);
    if direction.is_none() {
        problems.push(ValidationError::new(
            "Sens",
            "reçue de l'hôpital ou envoyée à l'hôpital",
        ));
    }
    match draft.dated_on {
        None => problems.push(ValidationError::new(
            "Date de la fiche",
            "obligatoire (JJ/MM/AAAA)",
        )),
        Some(day) if day > today => problems.push(ValidationError::new(
            "Date de la fiche",
            format!("{} est dans le futur", day.french()),
        )),
        Some(_) => {}
    }
    if let Some(day) = draft.discharge_on {
        if day > today.plus_days(30) {
            problems.push(ValidationError::new(
                "Date de sortie",
                format!("{} est à plus de 30 jours", day.french()),
            ));
        }
    }
    let sheet = LiaisonSheet {
        direction: direction.map_or(String::new(), |d| d.code().to_string()),
        dated_on: draft.dated_on.map(Day::iso).unwrap_or_default(),
        establishment: text(
            &mut problems,
            "Établissement et service",
            &draft.establishment,
            (2, 200),
        ),
        discharge_on: draft.discharge_on.map(Day::iso),
        reason: text(
            &mut problems,
            "Motif de l'hospitalisation",
            &draft.reason,
            (3, 1000),
        ),
        treatment_changes: text(
            &mut problems,
            "Traitements modifiés",
            &draft.treatment_changes,
            (0, 2000),
        ),
        follow_up: text(
            &mut problems,
            "Suivi à organiser",
            &draft.follow_up,
            (0, 2000),
        ),
        contacts: text(&mut problems, "Contacts", &draft.contacts, (0, 500)),
    };
    if problems.is_empty() {
        Ok(sheet)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse("jour", text).unwrap()
    }

    #[test]
    fn a_sheet_names_each_missing_or_wrong_field() {
        let today = day("2027-02-10");
        let fields = |draft: &SheetDraft| -> Vec<&'static str> {
            check_sheet(draft, today)
                .unwrap_err()
                .iter()
                .map(|p| p.field)
                .collect()
        };
        assert_eq!(
            fields(&SheetDraft::default()),
            [
                "Sens",
                "Date de la fiche",
                "Établissement et service",
                "Motif de l'hospitalisation"
            ]
        );
        let draft = SheetDraft {
            direction: "recue".into(),
            dated_on: Some(day("2027-02-11")),
            establishment: "CHU de Nîmes, cardiologie".into(),
            discharge_on: Some(day("2027-04-01")),
            reason: "Décompensation cardiaque".into(),
            treatment_changes: "x".repeat(2001),
            ..SheetDraft::default()
        };
        assert_eq!(
            fields(&draft),
            ["Date de la fiche", "Date de sortie", "Traitements modifiés"]
        );
        let good = SheetDraft {
            dated_on: Some(day("2027-02-09")),
            discharge_on: Some(day("2027-02-08")),
            treatment_changes: "Furosémide 40 mg".into(),
            ..draft
        };
        let sheet = check_sheet(&good, today).unwrap();
        assert_eq!(sheet.dated_on, "2027-02-09");
        assert_eq!(sheet.discharge_on.as_deref(), Some("2027-02-08"));
        assert_eq!(
            Direction::parse(&sheet.direction),
            Some(Direction::Received)
        );
    }
}

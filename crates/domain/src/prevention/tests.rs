use super::*;

fn day(text: &str) -> Day {
    Day::parse("jour", text).unwrap()
}

fn session(on: &str, start: u32, end: u32, capacity: u32) -> SessionDraft {
    SessionDraft {
        day: Some(day(on)),
        start_minute: Some(start),
        end_minute: Some(end),
        capacity: Some(capacity),
    }
}

fn screening_day() -> ActionDraft {
    ActionDraft {
        title: "Journée de dépistage de la BPCO".into(),
        theme: "depistage".into(),
        audience: "adultes".into(),
        place: "Salle des fêtes".into(),
        commune: "30003".into(),
        sessions: vec![
            session("2027-03-12", 14 * 60, 17 * 60, 20),
            session("2027-03-12", 9 * 60, 12 * 60, 20),
        ],
        registration_until: None,
    }
}

#[test]
fn an_action_with_two_sessions_is_checked_and_its_sessions_ordered() {
    let today = day("2027-02-01");
    let plan = check_action(&screening_day(), &[], today).unwrap();
    assert_eq!(plan.sessions[0].start_minute, 9 * 60);
    assert_eq!(plan.registration_until, day("2027-03-12"));
    assert_eq!(plan.audience, Audience::Adults);
    // A CPTS's own theme is accepted once it has it.
    let own = ActionDraft {
        theme: "sante-environnement".into(),
        ..screening_day()
    };
    assert!(check_action(&own, &[], today).is_err());
    assert!(check_action(&own, &["sante-environnement".to_string()], today).is_ok());
}

#[test]
fn every_problem_of_an_action_names_its_field() {
    let today = day("2027-02-01");
    let fields = |draft: &ActionDraft| -> Vec<String> {
        check_action(draft, &[], today)
            .unwrap_err()
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    };
    let empty = fields(&ActionDraft::default());
    assert_eq!(empty.len(), 6, "{empty:?}");
    let wrong = ActionDraft {
        sessions: vec![
            session("2027-03-12", 12 * 60, 9 * 60, 20),
            SessionDraft {
                capacity: Some(0),
                ..session("2030-01-01", 9 * 60, 10 * 60, 1)
            },
        ],
        registration_until: Some(day("2030-06-01")),
        ..screening_day()
    };
    let problems = fields(&wrong);
    assert!(
        problems[0].contains("séance 1 : l'heure de fin"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("séance 2 : 01/01/2030"),
        "{problems:?}"
    );
    assert!(
        problems[2].contains("séance 2 : de 1 à 2000 places"),
        "{problems:?}"
    );
    assert!(
        problems[3].starts_with("Fin des inscriptions"),
        "{problems:?}"
    );
}

#[test]
fn registrants_data_is_deleted_after_the_delay() {
    let last = day("2027-03-12");
    assert!(!personal_data_expired(last, 90, day("2027-06-10")));
    assert!(personal_data_expired(last, 90, day("2027-06-11")));
    assert!(personal_data_expired(last, -5, day("2027-03-13")));
}

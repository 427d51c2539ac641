use super::*;

fn day(text: &str) -> Day {
    Day::parse("jour", text).unwrap()
}

fn windows(
    template: &PathwayTemplate,
    inclusion: &str,
    event: Option<&str>,
) -> Vec<(String, String, String)> {
    template
        .schedule(day(inclusion), event.map(day))
        .unwrap()
        .into_iter()
        .map(|s| (s.code, s.earliest.iso(), s.latest.iso()))
        .collect()
}

#[test]
fn every_built_in_template_checks_and_has_a_distinct_code() {
    let all = builtin::all();
    for template in &all {
        assert_eq!(template.check(), Ok(()), "{}", template.code);
        assert_eq!(builtin::find(&template.code).as_ref(), Some(template));
    }
    let mut codes: Vec<&str> = all.iter().map(|t| t.code.as_str()).collect();
    codes.dedup();
    assert_eq!(codes.len(), 6);
}

#[test]
fn heart_failure_windows_around_a_month_end() {
    // Discharged on 31 January 2027: D8 is 8 February, two months end on the last day of March.
    let got = windows(&builtin::heart_failure(), "2027-01-31", Some("2027-01-31"));
    let expected = [
        ("infirmier-j8", "2027-01-31", "2027-02-08"),
        ("biologie-bnp", "2027-02-06", "2027-02-10"),
        ("medecin-j14", "2027-01-31", "2027-02-14"),
        ("cardiologue-2-mois", "2027-01-31", "2027-03-31"),
        ("education-therapeutique", "2027-01-31", "2027-04-30"),
        ("vaccination-grippe", "2027-01-31", "2027-07-31"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(c, e, l)| (c.to_string(), e.to_string(), l.to_string()))
        .collect();
    assert_eq!(got, expected);
    // Discharged on 30 December 2028 (leap year ahead): two months end on 28 February? No: 29 February 2029
    // does not exist, so 28 February; D14 crosses the year.
    let got = windows(&builtin::heart_failure(), "2028-12-30", Some("2028-12-30"));
    assert_eq!(got[2].2, "2029-01-13");
    assert_eq!(got[3].2, "2029-02-28");
    let got = windows(&builtin::heart_failure(), "2027-12-31", Some("2027-12-31"));
    assert_eq!(got[3].2, "2028-02-29", "leap year");
}

#[test]
fn windows_count_calendar_days_across_daylight_saving_changes() {
    // Summer time starts on 28 March 2027 and ends on 31 October 2027: a day is a day.
    let got = windows(&builtin::heart_failure(), "2027-03-24", Some("2027-03-24"));
    assert_eq!(got[0].2, "2027-04-01");
    let got = windows(&builtin::heart_failure(), "2027-10-27", Some("2027-10-27"));
    assert_eq!(got[0].2, "2027-11-04");
    assert_eq!(
        got[1],
        (
            "biologie-bnp".into(),
            "2027-11-02".into(),
            "2027-11-06".into()
        )
    );
}

#[test]
fn steps_counting_from_a_step_follow_it_and_triggered_steps_are_not_planned() {
    let got = windows(&builtin::neurodevelopmental_child(), "2027-05-10", None);
    assert_eq!(
        got[0],
        ("reperage".into(), "2027-05-10".into(), "2027-05-25".into())
    );
    assert_eq!(
        got[1],
        (
            "orientation-pco".into(),
            "2027-05-10".into(),
            "2027-06-24".into()
        )
    );
    assert_eq!(got[2].2, "2027-12-24");
    let frail = builtin::frail_elderly();
    let planned: Vec<String> = windows(&frail, "2027-05-10", None)
        .into_iter()
        .map(|w| w.0)
        .collect();
    assert!(!planned.contains(&"icope-etape-2".to_string()));
    assert!(!planned.contains(&"soutien-aidant".to_string()));
    // A positive ICOPE on 1 June creates the GP's assessment within a month; the next screening is due 4–6
    // months after.
    assert_eq!(
        frail.window_from("icope-etape-2", day("2027-06-01"), false),
        Some((day("2027-06-01"), day("2027-07-01")))
    );
    assert_eq!(
        frail.window_from("icope-etape-1", day("2027-06-01"), true),
        Some((day("2027-10-01"), day("2027-12-01")))
    );
}

#[test]
fn the_event_date_is_required_and_sane() {
    let template = builtin::heart_failure();
    let errors = template.schedule(day("2027-01-31"), None).unwrap_err();
    assert_eq!(errors[0].field, "Date de l'événement");
    assert!(errors[0].message.contains("sortie d'hospitalisation"));
    let errors = template
        .schedule(day("2027-01-31"), Some(day("2025-01-31")))
        .unwrap_err();
    assert!(errors[0].message.contains("plus d'un an"));
}

#[test]
fn loops_unknown_steps_and_backward_windows_are_refused_naming_the_field() {
    let mut looped = builtin::neurodevelopmental_child();
    looped.steps[0].from = Anchor::Step("bilan-orthophonie".into());
    let errors = looped.check().unwrap_err();
    assert_eq!(errors[0].field, "Étapes");
    assert!(
        errors[0].message.contains("dépend d'elle-même"),
        "{}",
        errors[0].message
    );
    let mut itself = builtin::mental_health();
    itself.steps[0].from = Anchor::Step("evaluation".into());
    assert!(itself.check().unwrap_err()[0].message.contains("boucle"));

    let mut unknown = builtin::mental_health();
    unknown.steps[2].from = Anchor::Step("nulle-part".into());
    assert!(unknown.check().unwrap_err()[0]
        .message
        .contains("« nulle-part », qui n'existe pas"));

    let mut backward = builtin::heart_failure();
    backward.steps[0].window = Window {
        earliest: Offset::days(10),
        latest: Offset::days(2),
    };
    assert!(backward.check().unwrap_err()[0]
        .message
        .contains("finit (J2) avant de commencer (J10)"));

    let mut duplicate = builtin::heart_failure();
    duplicate.steps[1].code = "infirmier-j8".into();
    assert!(duplicate.check().unwrap_err()[0]
        .message
        .contains("déjà celui"));

    let mut no_event = builtin::heart_failure();
    no_event.event = None;
    assert!(no_event.check().unwrap_err()[0]
        .message
        .contains("n'en a pas"));

    let mut trigger_loop = builtin::frail_elderly();
    let index = trigger_loop
        .steps
        .iter()
        .position(|s| s.code == "icope-etape-2")
        .unwrap();
    trigger_loop.steps[index].instrument = Some("icope-1".into());
    trigger_loop.steps[index].triggers = vec![Trigger {
        when: Condition::PositiveDomain { domain: None },
        creates: "icope-etape-2".into(),
    }];
    assert!(trigger_loop.check().unwrap_err()[0]
        .message
        .contains("boucle"));

    let mut bad_code = builtin::heart_failure();
    bad_code.code = "Insuffisance Cardiaque".into();
    assert_eq!(bad_code.check().unwrap_err()[0].field, "Code du parcours");
}

#[test]
fn a_cpts_adapts_a_window_as_a_new_version() {
    let seeds = builtin::heart_failure();
    let prado = seeds
        .with_windows(&[("medecin-j14".into(), Window::within(Offset::days(7)))])
        .unwrap();
    assert_eq!(prado.version, 2);
    assert_eq!(
        windows(&prado, "2027-01-31", Some("2027-01-31"))[2].2,
        "2027-02-07"
    );
    assert_eq!(
        windows(&seeds, "2027-01-31", Some("2027-01-31"))[2].2,
        "2027-02-14"
    );
    assert!(seeds
        .with_windows(&[("inconnue".into(), Window::within(Offset::days(7)))])
        .is_err());
}

#[test]
fn offsets_read_as_french() {
    assert_eq!(Offset::days(8).french(), "J8");
    assert_eq!(Offset::months(2).french(), "2 mois");
    assert_eq!(
        Offset {
            months: 1,
            days: 15
        }
        .french(),
        "1 mois et 15 jours"
    );
    assert_eq!(
        Day::new(2027, 1, 31).unwrap().plus_months(1),
        Day::new(2027, 2, 28).unwrap()
    );
    assert_eq!(
        Day::new(2027, 3, 31).unwrap().plus_months(-1),
        Day::new(2027, 2, 28).unwrap()
    );
    assert_eq!(
        Day::new(2027, 11, 30).unwrap().plus_months(3),
        Day::new(2028, 2, 29).unwrap()
    );
}

#[test]
fn offsets_are_read_as_coordinators_type_them() {
    for (text, expected) in [
        ("J8", Offset::days(8)),
        ("8", Offset::days(8)),
        ("8 j", Offset::days(8)),
        ("15 jours", Offset::days(15)),
        ("2 mois", Offset::months(2)),
        ("2mois", Offset::months(2)),
        (
            "1 mois et 15 jours",
            Offset {
                months: 1,
                days: 15,
            },
        ),
        (" j0 ", Offset::days(0)),
    ] {
        assert_eq!(Offset::parse("Délai", text), Ok(expected), "{text}");
        assert_eq!(
            Offset::parse("Délai", &expected.french()),
            Ok(expected),
            "{text}"
        );
    }
    for wrong in ["", "deux mois", "8 semaines", "-3", "J", "25 mois", "1000"] {
        let error = Offset::parse("Délai", wrong).unwrap_err();
        assert_eq!(error.field, "Délai", "{wrong}");
    }
}

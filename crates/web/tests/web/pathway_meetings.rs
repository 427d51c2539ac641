//! Case meetings (RCP) in the pages, on SQLite and PostgreSQL: the coordination schedules one with members of
//! the directory (a bad form named), records who came, presents patients, records a decision that creates a
//! follow-up step and closes the patient's step awaiting a meeting's decision, writes the minutes (sealed);
//! the year's indicators count the meeting, its cases and attendance; a member may not hold one.

use super::*;

#[tokio::test]
async fn a_case_meeting_records_attendance_decisions_and_minutes() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let base = "/c/camargue-gardoise/parcours/reunions";
        let page = app.get(base, Some(&coordinator)).await;
        assert_eq!(page.status, StatusCode::OK);
        let members = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    members_only: true,
                    ..Default::default()
                },
                Page::first(2),
            )
            .await
            .unwrap();
        let (first, second) = (members[0].id.to_string(), members[1].id.to_string());
        let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
        let post = |path: String, fields: Vec<(&'static str, String)>| {
            let app = &app;
            let session = coordinator.clone();
            async move {
                let mut pairs: Vec<(&str, &str)> = vec![("csrf", session.csrf.as_str())];
                pairs.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
                app.post_form(&path, Some(&session.cookie), &pairs).await
            }
        };
        let refused = post(
            base.into(),
            vec![("title", "RCP".into()), ("start", "midi".into())],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Heure"]);
        let scheduled = post(
            base.into(),
            vec![
                ("title", "RCP santé mentale".into()),
                ("held_on", today.french()),
                ("start", "12:30".into()),
                ("place", "Maison de santé d'Aigues-Mortes".into()),
                ("attendee", first.clone()),
                ("attendee", second.clone()),
            ],
        )
        .await;
        assert_eq!(
            scheduled.status,
            StatusCode::SEE_OTHER,
            "{}",
            scheduled.body
        );
        let meeting = scheduled.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        for (professional, state) in [(&first, "present"), (&second, "excuse")] {
            let done = post(
                format!("{meeting}/presences"),
                vec![
                    ("professional", professional.clone()),
                    ("attendance", state.into()),
                ],
            )
            .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER);
        }
        // A mental-health patient, whose pathway waits for the meeting's decision.
        let caller = maillage_app::caller::Caller::command_line(cpts.id);
        let request = maillage_app::pathway_care::InclusionRequest {
            template: "sante-mentale".into(),
            identity: maillage_app::crypto::PatientIdentity {
                family_name: "EXEMPLE-RCP".into(),
                given_names: "Alain".into(),
                birth_date: "1980-02-02".into(),
                ..Default::default()
            },
            draft: maillage_domain::pathways::inclusion::InclusionDraft {
                inclusion: Some(today),
                event: None,
                consent: true,
            },
            team: Vec::new(),
        };
        let (inclusion, _) = app
            .state
            .missions
            .pathway_care
            .include(&caller, &request, today)
            .await
            .unwrap();
        let presented = post(
            format!("{meeting}/cas"),
            vec![("inclusion", inclusion.to_string())],
        )
        .await;
        assert_eq!(presented.status, StatusCode::SEE_OTHER);
        let again = post(
            format!("{meeting}/cas"),
            vec![("inclusion", inclusion.to_string())],
        )
        .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        let shown = app.get(&meeting, Some(&coordinator)).await;
        assert!(shown.body.contains("EXEMPLE-RCP Alain"));
        let meeting_id: uuid::Uuid = meeting.rsplit('/').next().unwrap().parse().unwrap();
        let case = app.store.meeting_cases(cpts.id, meeting_id).await.unwrap()[0]
            .id
            .to_string();
        let half = post(
            format!("{meeting}/decision"),
            vec![
                ("case", case.clone()),
                ("decision", "Orientation CMP".into()),
                ("follow_up", "Consultation au CMP".into()),
            ],
        )
        .await;
        assert_eq!(half.status, StatusCode::UNPROCESSABLE_ENTITY);
        half.names_fields(&["Étape de suivi"]);
        let decided = post(
            format!("{meeting}/decision"),
            vec![
                ("case", case.clone()),
                (
                    "decision",
                    "Orientation vers le CMP adulte, réévaluation du traitement".into(),
                ),
                ("follow_up", "Consultation au CMP".into()),
                ("role", "psychiatre".into()),
                ("days", "30".into()),
            ],
        )
        .await;
        assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
        let steps = app.store.inclusion_steps(cpts.id, inclusion).await.unwrap();
        let rcp = steps.iter().find(|s| s.code == "rcp").unwrap();
        assert_eq!(
            rcp.done_on.as_deref(),
            Some(today.iso().as_str()),
            "the step awaiting the decision is closed"
        );
        let follow = steps.iter().find(|s| s.code == "suivi-rcp").unwrap();
        assert_eq!(
            (follow.owner_role.as_str(), follow.origin.as_str()),
            ("psychiatre", "decision")
        );
        assert_eq!(follow.latest, today.plus_days(30).iso());
        let saved = post(
            format!("{meeting}/compte-rendu"),
            vec![("minutes", "Discussion du cas, accord de l'équipe.".into())],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let raw = maillage_store::testing::raw_database(&app._database.url).await;
        assert!(!raw.contains("accord de l'équipe") && !raw.contains("réévaluation du traitement"));
        let after = app.get(&meeting, Some(&coordinator)).await;
        assert!(after
            .body
            .contains("Discussion du cas, accord de l&#39;équipe."));
        assert!(after.body.contains("Orientation vers le CMP adulte"));

        let set = app
            .state
            .missions
            .pathway_care
            .indicators(&caller, today.year, today)
            .await
            .unwrap();
        let value = |code: &str| set.find(code).unwrap().measure.clone();
        use maillage_domain::indicators::Measure;
        assert_eq!(value("rcp.tenues"), Measure::Count(1));
        assert_eq!(value("rcp.cas"), Measure::Count(1));
        assert_eq!(value("rcp.presence"), Measure::Percent(Some(50.0)));
        for action in [
            "meeting_scheduled",
            "meeting_attendance_recorded",
            "meeting_case_decided",
            "meeting_minutes_saved",
        ] {
            assert!(!app.audit_of(cpts.id, action).await.is_empty(), "{action}");
        }
        let member = app.login_as(MEMBER).await;
        assert_eq!(
            app.get(&meeting, Some(&member)).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

//! Patients in care pathways through their service, on SQLite and PostgreSQL: an inclusion writes the sealed
//! patient, the care team and the steps with their audit entry in one go (nothing when refused); the care
//! team reads, a member outside it is refused and the attempt audited; a read whose audit cannot be written
//! shows nothing.

use crate::common;
use maillage_app::crypto::PatientIdentity;
use maillage_app::pathway_care::{InclusionRequest, PathwayCare, StepOutcome};
use maillage_app::pathways::PathwayError;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::inclusion::InclusionDraft;
use maillage_domain::pathways::steps::StepState;
use maillage_domain::pathways::CareRole;
use maillage_store::testing::{allow_audit_appends, raw_count, refuse_audit_appends};
use maillage_store::{DirectoryQuery, Page};
use std::sync::Arc;

fn day(text: &str) -> Day {
    Day::parse("jour", text).unwrap()
}

fn identity(family_name: &str) -> PatientIdentity {
    PatientIdentity {
        family_name: family_name.into(),
        given_names: "Marcel".into(),
        birth_date: "1941-05-12".into(),
        phone: Some("0466000077".into()),
        ..Default::default()
    }
}

/// A heart-failure patient discharged on 25 January 2027, included on the 31st.
fn heart_failure(name: &str, team: Vec<(uuid::Uuid, CareRole)>, consent: bool) -> InclusionRequest {
    InclusionRequest {
        template: "insuffisance-cardiaque".into(),
        identity: identity(name),
        draft: InclusionDraft {
            inclusion: Some(day("2027-01-31")),
            event: Some(day("2027-01-25")),
            consent,
        },
        team,
    }
}

/// The service on a demo copy, with the demo's keys.
async fn service(store: &Arc<dyn maillage_store::Store>) -> PathwayCare {
    let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
    PathwayCare::new(store.clone(), keyring)
}

#[tokio::test]
async fn the_care_team_follows_its_patients_and_nobody_else_does() {
    common::for_each_demo(|store, url| async move {
        let care = service(&store).await;
        let common::DemoCallers {
            cpts,
            other,
            coordinator,
            member,
            partner,
            ..
        } = common::demo_callers(&store).await;
        let gp = member
            .professional()
            .expect("the demo GP is linked to her record");
        let colleagues = store
            .search_professionals(cpts.id, &DirectoryQuery::default(), Page::first(3))
            .await
            .unwrap();
        let nurse = colleagues
            .iter()
            .map(|p| p.id)
            .find(|id| *id != gp)
            .unwrap();
        let stranger = store
            .search_professionals(other.id, &DirectoryQuery::default(), Page::first(1))
            .await
            .unwrap()[0]
            .id;
        let today = day("2027-02-01");

        let demo_inclusions = raw_count(&url, "SELECT COUNT(*) FROM pathway_inclusions").await;
        let (ours, missing) = care
            .include(
                &coordinator,
                &heart_failure(
                    "EXEMPLE-PARCOURS",
                    vec![
                        (gp, CareRole::GeneralPractitioner),
                        (nurse, CareRole::Nurse),
                    ],
                    true,
                ),
                today,
            )
            .await
            .unwrap();
        assert_eq!(missing, [CareRole::Cardiologist, CareRole::Pharmacist]);
        // The identity is sealed: a raw read of the database does not find the name.
        assert!(!common::raw_database(&url)
            .await
            .contains("EXEMPLE-PARCOURS"));

        // Refused inclusions write nothing: no consent, a team member of another CPTS, a member not in the team.
        let before = raw_count(&url, "SELECT COUNT(*) FROM patients").await;
        let refusals = [
            (
                &coordinator,
                heart_failure("REFUS-UN", vec![(gp, CareRole::GeneralPractitioner)], false),
                "Consentement",
            ),
            (
                &coordinator,
                heart_failure("REFUS-DEUX", vec![(stranger, CareRole::Nurse)], true),
                "Équipe de soins",
            ),
            (
                &member,
                heart_failure("REFUS-TROIS", vec![(nurse, CareRole::Nurse)], true),
                "Équipe de soins",
            ),
        ];
        for (caller, refused, field) in &refusals {
            match care.include(caller, refused, today).await {
                Err(PathwayError::Invalid(problems)) => assert_eq!(problems[0].field, *field),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM patients").await,
            before
        );
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM pathway_inclusions").await,
            demo_inclusions + 1
        );
        assert!(matches!(
            care.include(
                &partner,
                &heart_failure("REFUS-QUATRE", vec![], true),
                today
            )
            .await,
            Err(PathwayError::NotFound)
        ));

        // The GP of the team reads it: her patient, the steps with their state on 1 February (discharged on 25
        // January: the nurse's D8 window still open, the BNP at D6–D10 due).
        let followed = care.patient(&member, ours, today).await.unwrap();
        assert_eq!(followed.identity.family_name, "EXEMPLE-PARCOURS");
        assert_eq!(followed.team.len(), 2);
        let state_of = |code: &str| {
            followed
                .steps
                .iter()
                .find(|s| s.row.code == code)
                .unwrap()
                .state
        };
        assert_eq!(state_of("infirmier-j8"), StepState::Due);
        assert_eq!(state_of("biologie-bnp"), StepState::Due);
        assert_eq!(followed.steps.len(), 6);
        let late = care
            .patient(&coordinator, ours, day("2027-02-03"))
            .await
            .unwrap();
        assert_eq!(
            late.steps
                .iter()
                .find(|s| s.row.code == "infirmier-j8")
                .unwrap()
                .state,
            StepState::Late
        );

        // A patient whose team she is not in: not found for her, and the attempt audited.
        let (theirs, _) = care
            .include(
                &coordinator,
                &heart_failure("EXEMPLE-AUTRE", vec![(nurse, CareRole::Nurse)], true),
                today,
            )
            .await
            .unwrap();
        let refused_before = raw_count(
            &url,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_access_refused'",
        )
        .await;
        assert!(matches!(
            care.patient(&member, theirs, today).await,
            Err(PathwayError::NotFound)
        ));
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_access_refused'"
            )
            .await,
            refused_before + 1
        );
        // Newest first, after the demo's own.
        let mine = care.inclusions(&member, Page::first(10)).await.unwrap();
        assert_eq!(mine[0].id, ours);
        assert_eq!(mine.len() as i64, demo_inclusions + 1);
        let all = care
            .inclusions(&coordinator, Page::first(10))
            .await
            .unwrap();
        assert_eq!(all.len() as i64, demo_inclusions + 2);
        assert!(!mine.iter().any(|i| i.id == theirs));

        // The GP closes her own step with its evidence; not the nurse's; a day in the future or no evidence is
        // named; a closed step cannot be closed again; the coordination cancels one with a reason.
        let step_id = |patient: &maillage_app::pathway_care::FollowedPatient, code: &str| {
            patient
                .steps
                .iter()
                .find(|s| s.row.code == code)
                .unwrap()
                .row
                .id
        };
        let gp_step = step_id(&followed, "medecin-j14");
        let nurse_step = step_id(&followed, "infirmier-j8");
        // The GP's step closes with the NYHA class (its instrument): class II as evidence.
        let done = |on: &str, evidence_given: bool| StepOutcome::Done {
            on: Some(day(on)),
            evidence_given,
            answers: if evidence_given {
                vec!["2".to_string()]
            } else {
                Vec::new()
            },
        };
        match care
            .settle_step(&member, ours, nurse_step, done("2027-01-30", true), today)
            .await
        {
            Err(PathwayError::Invalid(problems)) => assert_eq!(problems[0].field, "Étape"),
            other => panic!("{other:?}"),
        }
        match care
            .settle_step(&member, ours, gp_step, done("2027-02-05", false), today)
            .await
        {
            Err(PathwayError::Invalid(problems)) => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
                assert_eq!(fields, ["Date", "Preuve"]);
            }
            other => panic!("{other:?}"),
        }
        care.settle_step(&member, ours, gp_step, done("2027-01-31", true), today)
            .await
            .unwrap();
        assert!(care
            .settle_step(&coordinator, ours, gp_step, done("2027-01-31", true), today)
            .await
            .is_err());
        care.settle_step(
            &coordinator,
            ours,
            step_id(&followed, "vaccination-grippe"),
            StepOutcome::Cancelled("Vacciné à l'hôpital".into()),
            today,
        )
        .await
        .unwrap();
        let now = care.patient(&member, ours, today).await.unwrap();
        let state_now = |code: &str| now.steps.iter().find(|s| s.row.code == code).unwrap().state;
        assert_eq!(state_now("medecin-j14"), StepState::Done);
        assert_eq!(state_now("vaccination-grippe"), StepState::Cancelled);
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_step_settled'"
            )
            .await,
            2
        );

        // No audit, no data.
        refuse_audit_appends(&url).await;
        assert!(care.patient(&member, ours, today).await.is_err());
        allow_audit_appends(&url).await;
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_patient_included'"
            )
            .await,
            demo_inclusions + 2
        );
    })
    .await;
}

/// Late steps are alerted once a day to their owners in the care team and to the coordination, without the
/// patient, each as a delivery; a second run the same day alerts nothing, the next day alerts again.
#[tokio::test]
async fn late_steps_are_alerted_once_a_day_without_the_patient() {
    common::for_each_demo(|store, _url| async move {
        let care = service(&store).await;
        let common::DemoCallers {
            cpts,
            coordinator,
            member,
            ..
        } = common::demo_callers(&store).await;
        let gp = member.professional().unwrap();
        let request = heart_failure(
            "EXEMPLE-RETARD",
            vec![(gp, CareRole::GeneralPractitioner)],
            true,
        );
        // The demo's own late steps alerted first.
        let demo_late = care.alert_late_steps(day("2027-02-20")).await.unwrap();
        care.include(&coordinator, &request, day("2027-02-01"))
            .await
            .unwrap();
        // On 20 February: the nurse (≤ 2/02), the BNP (≤ 4/02) and the GP (≤ 8/02) are late.
        assert_eq!(care.alert_late_steps(day("2027-02-20")).await.unwrap(), 3);
        assert_eq!(
            care.alert_late_steps(day("2027-02-20")).await.unwrap(),
            0,
            "once a day"
        );
        let followed = care
            .patient(
                &coordinator,
                store
                    .list_inclusions(cpts.id, None, Page::first(1))
                    .await
                    .unwrap()[0]
                    .id,
                day("2027-02-20"),
            )
            .await
            .unwrap();
        let step = |code: &str| {
            followed
                .steps
                .iter()
                .find(|s| s.row.code == code)
                .unwrap()
                .row
                .id
        };
        let deliveries = |id| {
            let store = store.clone();
            async move {
                store
                    .deliveries_of(
                        cpts.id,
                        maillage_domain::delivery::Purpose::PathwayStepLate,
                        &[id],
                    )
                    .await
                    .unwrap()
                    .len()
            }
        };
        // The GP's step: to her and to the coordination; the nurse's (nobody of that role yet): the coordination.
        assert_eq!(deliveries(step("medecin-j14")).await, 2);
        assert_eq!(deliveries(step("infirmier-j8")).await, 1);
        let outbox = common::deliver_mail(&store).await;
        assert!(outbox.iter().any(|m| m
            .body
            .contains("« Consultation du médecin traitant (classe NYHA) »")));
        assert!(outbox
            .iter()
            .all(|m| !m.body.contains("EXEMPLE-RETARD") && !m.body.contains("Marcel")));
        assert_eq!(
            care.alert_late_steps(day("2027-02-21")).await.unwrap(),
            demo_late + 3,
            "the next day again"
        );
    })
    .await;
}

/// A corrected discharge date moves the open steps only; the correction is audited.
#[tokio::test]
async fn a_corrected_discharge_moves_the_open_steps_only() {
    common::for_each_demo(|store, url| async move {
        let care = service(&store).await;
        let common::DemoCallers {
            coordinator,
            member,
            partner,
            ..
        } = common::demo_callers(&store).await;
        let gp = member.professional().unwrap();
        let request = heart_failure(
            "EXEMPLE-CORRECTION",
            vec![(gp, CareRole::GeneralPractitioner)],
            true,
        );
        let today = day("2027-02-01");
        let (id, _) = care.include(&coordinator, &request, today).await.unwrap();
        let before = care.patient(&coordinator, id, today).await.unwrap();
        let step = |p: &maillage_app::pathway_care::FollowedPatient, code: &str| {
            p.steps
                .iter()
                .find(|s| s.row.code == code)
                .unwrap()
                .row
                .clone()
        };
        care.settle_step(
            &coordinator,
            id,
            step(&before, "infirmier-j8").id,
            StepOutcome::Done {
                on: Some(day("2027-01-30")),
                evidence_given: true,
                answers: Vec::new(),
            },
            today,
        )
        .await
        .unwrap();
        // Discharged on the 27th, not the 25th.
        care.correct_event(&coordinator, id, day("2027-01-27"), today)
            .await
            .unwrap();
        let after = care.patient(&coordinator, id, today).await.unwrap();
        assert_eq!(after.inclusion.event_on.as_deref(), Some("2027-01-27"));
        assert_eq!(
            step(&after, "infirmier-j8").latest,
            "2027-02-02",
            "done: kept"
        );
        let bnp = step(&after, "biologie-bnp");
        assert_eq!(
            (bnp.earliest.as_str(), bnp.latest.as_str()),
            ("2027-02-02", "2027-02-06")
        );
        assert_eq!(step(&after, "medecin-j14").latest, "2027-02-10");
        match care
            .correct_event(&coordinator, id, day("2027-04-01"), today)
            .await
        {
            Err(PathwayError::Invalid(problems)) => {
                assert_eq!(problems[0].field, "Date de l'événement")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            care.correct_event(&partner, id, day("2027-01-27"), today)
                .await,
            Err(PathwayError::NotFound)
        ));
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_event_corrected'"
            )
            .await,
            1
        );
    })
    .await;
}

//! A screening's answers close its step, sealed at rest, and set off what the template says (the GP's
//! assessment after a positive ICOPE domain, the next screening months later); an answer out of range or a
//! screening without answers is refused with nothing written; the care team's notes are sealed and theirs
//! alone; the list of followed patients is audited and a member's own; late steps are counted for the
//! dashboard. On SQLite and PostgreSQL.

use crate::common;
use maillage_app::crypto::PatientIdentity;
use maillage_app::pathway_care::{InclusionRequest, PathwayCare, StepOutcome};
use maillage_app::pathways::PathwayError;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::inclusion::InclusionDraft;
use maillage_domain::pathways::CareRole;
use maillage_store::testing::raw_count;
use maillage_store::{DirectoryQuery, Page};
use std::sync::Arc;

fn day(text: &str) -> Day {
    Day::parse("jour", text).unwrap()
}

fn frail(name: &str, team: Vec<(uuid::Uuid, CareRole)>) -> InclusionRequest {
    InclusionRequest {
        template: "personne-agee-fragile".into(),
        identity: PatientIdentity {
            family_name: name.into(),
            given_names: "Odette".into(),
            birth_date: "1936-09-30".into(),
            ..Default::default()
        },
        draft: InclusionDraft {
            inclusion: Some(day("2027-01-31")),
            event: None,
            consent: true,
        },
        team,
    }
}

fn answers(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[tokio::test]
async fn a_positive_screening_creates_the_gps_assessment_and_the_next_screening() {
    common::for_each_demo(|store, url| async move {
        let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
        let care = PathwayCare::new(store.clone(), keyring);
        let common::DemoCallers {
            cpts,
            coordinator,
            member,
            ..
        } = common::demo_callers(&store).await;
        let gp = member.professional().unwrap();
        let nurse = store
            .search_professionals(
                cpts.id,
                &DirectoryQuery {
                    profession_code: Some("60".into()),
                    ..Default::default()
                },
                Page::first(1),
            )
            .await
            .unwrap()[0]
            .id;
        let today = day("2027-02-01");
        let (id, _) = care
            .include(
                &coordinator,
                &frail(
                    "EXEMPLE-REPERAGE",
                    vec![
                        (gp, CareRole::GeneralPractitioner),
                        (nurse, CareRole::Nurse),
                    ],
                ),
                today,
            )
            .await
            .unwrap();
        let followed = care.patient(&coordinator, id, today).await.unwrap();
        let icope = followed
            .steps
            .iter()
            .find(|s| s.row.code == "icope-etape-1")
            .unwrap()
            .row
            .id;
        let planned = followed.steps.len();
        let steps_before = raw_count(&url, "SELECT COUNT(*) FROM pathway_steps").await;
        let done = |values: &[&str]| StepOutcome::Done {
            on: Some(day("2027-01-31")),
            evidence_given: false,
            answers: answers(values),
        };

        // Refused, nothing written: an answer out of range names the item; a screening without its answers.
        match care
            .settle_step(
                &coordinator,
                id,
                icope,
                done(&["2", "1", "12", "7", "0", "0", "0", "0", "0"]),
                today,
            )
            .await
        {
            Err(PathwayError::Invalid(problems)) => {
                assert_eq!(problems[0].field, "Réponses");
                assert!(
                    problems[0].message.contains("« 7 »"),
                    "{}",
                    problems[0].message
                );
            }
            other => panic!("{other:?}"),
        }
        match care
            .settle_step(&coordinator, id, icope, done(&[]), today)
            .await
        {
            Err(PathwayError::Invalid(problems)) => assert_eq!(problems[0].field, "Preuve"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM pathway_steps").await,
            steps_before
        );

        // Cognition positive (2 words of 3): the GP's step-2 assessment within a month, the next screening
        // in 4 to 6 months; the answers sealed.
        care.settle_step(
            &coordinator,
            id,
            icope,
            done(&["2", "1", "12", "0", "0", "0", "0", "0", "0"]),
            today,
        )
        .await
        .unwrap();
        let after = care.patient(&member, id, today).await.unwrap();
        assert_eq!(after.steps.len(), planned + 2);
        let assessment = after
            .steps
            .iter()
            .find(|s| s.row.code == "icope-etape-2")
            .unwrap();
        assert_eq!(assessment.row.owner_role, "medecin-traitant");
        assert_eq!(assessment.row.origin, "declenchement");
        assert_eq!(
            (
                assessment.row.earliest.as_str(),
                assessment.row.latest.as_str()
            ),
            ("2027-01-31", "2027-02-28")
        );
        let next = after
            .steps
            .iter()
            .filter(|s| s.row.code == "icope-etape-1")
            .nth(1)
            .unwrap();
        assert_eq!(next.row.origin, "recurrence");
        assert_eq!(
            (next.row.earliest.as_str(), next.row.latest.as_str()),
            ("2027-05-31", "2027-07-31")
        );
        let result = after
            .steps
            .iter()
            .find(|s| s.row.id == icope)
            .unwrap()
            .result
            .as_ref()
            .unwrap();
        assert_eq!(result.scored.positive, ["cognition"]);
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM pathway_steps WHERE result_positive = TRUE"
            )
            .await,
            1
        );

        // The next screening finds mobility too: a decline flagged against the previous one. The GP may not
        // close the nurse's screening.
        let refused = care
            .settle_step(
                &member,
                id,
                next.row.id,
                StepOutcome::Done {
                    on: Some(day("2027-02-01")),
                    evidence_given: false,
                    answers: answers(&["2", "1", "16", "0", "0", "0", "0", "0", "0"]),
                },
                today,
            )
            .await;
        assert!(
            matches!(refused, Err(PathwayError::Invalid(_))),
            "{refused:?}"
        );
        care.settle_step(
            &coordinator,
            id,
            next.row.id,
            StepOutcome::Done {
                on: Some(day("2027-02-01")),
                evidence_given: false,
                answers: answers(&["2", "1", "16", "0", "0", "0", "0", "0", "0"]),
            },
            today,
        )
        .await
        .unwrap();
        let again = care.patient(&coordinator, id, today).await.unwrap();
        let second = again
            .steps
            .iter()
            .find(|s| s.row.id == next.row.id)
            .unwrap();
        assert_eq!(second.result.as_ref().unwrap().decline, ["mobilite"]);
        // The assessment already open is not created twice.
        assert_eq!(
            again
                .steps
                .iter()
                .filter(|s| s.row.code == "icope-etape-2")
                .count(),
            1
        );

        // Notes: the team writes and reads them; sealed at rest.
        care.add_note(
            &member,
            id,
            "Vue ce jour, fille présente, à revoir pour la marche.",
        )
        .await
        .unwrap();
        match care.add_note(&member, id, " ").await {
            Err(PathwayError::Invalid(problems)) => assert_eq!(problems[0].field, "Note"),
            other => panic!("{other:?}"),
        }
        let read = care.patient(&member, id, today).await.unwrap();
        assert_eq!(read.notes.len(), 1);
        assert!(read.notes[0].text.contains("fille présente"));
        assert_eq!(read.notes[0].author, "Dr Élise Fabre");
        let raw = common::raw_database(&url).await;
        assert!(!raw.contains("fille présente") && !raw.contains("EXEMPLE-REPERAGE"));
    })
    .await;
}

#[tokio::test]
async fn the_list_and_the_late_count_are_the_callers_own() {
    common::for_each_demo(|store, url| async move {
        let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
        let care = PathwayCare::new(store.clone(), keyring);
        let common::DemoCallers {
            coordinator,
            member,
            partner,
            ..
        } = common::demo_callers(&store).await;
        let gp = member.professional().unwrap();
        let today = day("2027-02-01");
        let all_before = care
            .followed_patients(&coordinator, Page::first(100), today)
            .await
            .unwrap()
            .len();
        let mine_before = care
            .followed_patients(&member, Page::first(100), today)
            .await
            .unwrap()
            .len();
        let late_before = care.late_steps(&member, day("2027-03-15")).await.unwrap();
        care.include(
            &coordinator,
            &frail("EXEMPLE-LISTE", vec![(gp, CareRole::GeneralPractitioner)]),
            today,
        )
        .await
        .unwrap();
        care.include(&coordinator, &frail("EXEMPLE-AUTRUI", vec![]), today)
            .await
            .unwrap();
        let listed_before = raw_count(
            &url,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_patients_listed'",
        )
        .await;
        let mine = care
            .followed_patients(&member, Page::first(100), today)
            .await
            .unwrap();
        assert_eq!(mine.len(), mine_before + 1);
        assert_eq!(mine[0].identity.family_name, "EXEMPLE-LISTE");
        assert_eq!(
            care.followed_patients(&coordinator, Page::first(100), today)
                .await
                .unwrap()
                .len(),
            all_before + 2
        );
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'pathway_patients_listed'"
            )
            .await,
            listed_before + 2
        );
        assert!(care
            .followed_patients(&partner, Page::first(10), today)
            .await
            .is_err());
        // On 15 March the GP's GFST (≤ 30 days from 31 January) is late: hers, one more.
        assert_eq!(
            care.late_steps(&member, day("2027-03-15")).await.unwrap(),
            late_before + 1
        );
        assert!(
            care.late_steps(&coordinator, day("2027-03-15"))
                .await
                .unwrap()
                > late_before
        );
    })
    .await;
}

/// The indicators of a year count what the steps say: the nurse by D8 once of twice, a cancelled GP step, a
/// positive screening; the demo's inclusions of another year are not counted; a member may not read them.
#[tokio::test]
async fn pathway_indicators_match_the_steps() {
    use maillage_domain::indicators::Measure;
    common::for_each_demo(|store, _url| async move {
        let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
        let care = PathwayCare::new(store.clone(), keyring);
        let common::DemoCallers {
            coordinator,
            member,
            ..
        } = common::demo_callers(&store).await;
        let today = day("2025-03-01");
        let heart = |name: &str| InclusionRequest {
            template: "insuffisance-cardiaque".into(),
            identity: PatientIdentity {
                family_name: name.into(),
                given_names: "Lucien".into(),
                birth_date: "1941-03-12".into(),
                ..Default::default()
            },
            draft: InclusionDraft {
                inclusion: Some(day("2025-02-01")),
                event: Some(day("2025-02-01")),
                consent: true,
            },
            team: Vec::new(),
        };
        let mut ids = Vec::new();
        for name in ["EXEMPLE-INDIC-UN", "EXEMPLE-INDIC-DEUX"] {
            ids.push(
                care.include(&coordinator, &heart(name), today)
                    .await
                    .unwrap()
                    .0,
            );
        }
        let step_of = |id: uuid::Uuid, code: &'static str| {
            let store = store.clone();
            async move {
                store
                    .inclusion_steps(common::demo_callers(&store).await.cpts.id, id)
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|s| s.code == code)
                    .unwrap()
                    .id
            }
        };
        let done_on = |on: &str| StepOutcome::Done {
            on: Some(day(on)),
            evidence_given: true,
            answers: Vec::new(),
        };
        // Seen on D5, then on D10 (late); the second one's GP step cancelled.
        care.settle_step(
            &coordinator,
            ids[0],
            step_of(ids[0], "infirmier-j8").await,
            done_on("2025-02-06"),
            today,
        )
        .await
        .unwrap();
        care.settle_step(
            &coordinator,
            ids[1],
            step_of(ids[1], "infirmier-j8").await,
            done_on("2025-02-11"),
            today,
        )
        .await
        .unwrap();
        care.settle_step(
            &coordinator,
            ids[1],
            step_of(ids[1], "medecin-j14").await,
            StepOutcome::Cancelled("Patient réhospitalisé".into()),
            today,
        )
        .await
        .unwrap();
        let (frail_id, _) = care
            .include(
                &coordinator,
                &InclusionRequest {
                    draft: InclusionDraft {
                        inclusion: Some(day("2025-02-01")),
                        event: None,
                        consent: true,
                    },
                    ..frail("EXEMPLE-INDIC-TROIS", Vec::new())
                },
                today,
            )
            .await
            .unwrap();
        care.settle_step(
            &coordinator,
            frail_id,
            step_of(frail_id, "icope-etape-1").await,
            StepOutcome::Done {
                on: Some(day("2025-02-10")),
                evidence_given: false,
                answers: answers(&["2", "1", "12", "0", "0", "0", "0", "0", "0"]),
            },
            today,
        )
        .await
        .unwrap();

        let set = care.indicators(&coordinator, 2025, today).await.unwrap();
        let value = |code: &str| set.find(code).map(|i| i.measure.clone());
        assert_eq!(value("inclus"), Some(Measure::Count(3)));
        assert_eq!(
            value("inclus.insuffisance-cardiaque"),
            Some(Measure::Count(2))
        );
        assert_eq!(
            value("insuffisance-cardiaque.infirmier-j8.dans_le_delai"),
            Some(Measure::Percent(Some(50.0)))
        );
        // The BNP window (D6–D10) is past on 1 March and nobody did it: 0 % of 2.
        assert_eq!(
            value("insuffisance-cardiaque.biologie-bnp.dans_le_delai"),
            Some(Measure::Percent(Some(0.0)))
        );
        // The cardiologist's window (2 months) is still open: nothing due yet.
        assert_eq!(
            value("insuffisance-cardiaque.cardiologue-2-mois.dans_le_delai"),
            Some(Measure::Percent(None))
        );
        assert_eq!(
            value("insuffisance-cardiaque.medecin-j14.annulees"),
            Some(Measure::Count(1))
        );
        assert_eq!(
            value("personne-agee-fragile.icope-etape-1.reperages"),
            Some(Measure::Count(1))
        );
        assert_eq!(
            value("personne-agee-fragile.icope-etape-1.positifs"),
            Some(Measure::Count(1))
        );
        assert!(care.indicators(&member, 2025, today).await.is_err());
    })
    .await;
}

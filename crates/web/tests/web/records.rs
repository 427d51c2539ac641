//! Helpers of the harness: the test's worker, and a directory record brought again as an import would.

use super::*;

/// A worker of the test: e-mails to the outbox, and the missions' jobs as configured (SMS, the SAS).
pub(super) fn job_runner(app: &TestApp) -> maillage_app::jobs::JobRunner {
    let keyring = app.state.accounts.keyring().clone();
    let mut runner =
        maillage_app::jobs::JobRunner::new(app.store.clone(), keyring.clone(), Default::default());
    runner.register(
        maillage_app::mail::EMAIL_JOB,
        Arc::new(maillage_app::mail::EmailJob {
            mailer: Arc::new(maillage_app::mail::Mailer::Outbox),
            store: app.store.clone(),
            keyring,
        }),
    );
    for (kind, handler) in app.state.missions.job_handlers(&app.state.config) {
        runner.register(kind, handler);
    }
    runner
}

/// The directory's record of a professional again, as an import would bring it, with these places.
pub(super) fn reimported(
    summary: &maillage_store::ProfessionalSummary,
    national_id: String,
    places: Vec<maillage_store::PracticePlace>,
) -> maillage_store::ImportedProfessional {
    maillage_store::ImportedProfessional {
        national_id,
        id_kind: summary.id_kind.clone(),
        identifier: summary.identifier.clone(),
        checksum_ok: true,
        civility: summary.civility.clone(),
        last_name: summary.last_name.clone(),
        first_name: summary.first_name.clone(),
        profession_code: summary.profession_code.clone(),
        profession_label: summary.profession_label.clone(),
        specialty: summary.specialty.clone(),
        practice_mode: summary.practice_mode.clone(),
        places,
        search_text: String::new(),
        content_hash: format!("essai-{}", uuid::Uuid::new_v4()),
        general_practitioner: summary.general_practitioner,
    }
}

/// A pathway inclusion of the CPTS and its first step (one included by the coordination, no care team, when
/// the CPTS has none).
pub(super) async fn a_pathway_step(
    app: &TestApp,
    cpts: maillage_store::CptsId,
) -> (uuid::Uuid, uuid::Uuid) {
    let first = app
        .store
        .list_inclusions(cpts, None, Page::first(1))
        .await
        .unwrap();
    let inclusion = match first.first() {
        Some(found) => found.id,
        None => {
            let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
            let request = maillage_app::pathway_care::InclusionRequest {
                template: "insuffisance-cardiaque".into(),
                identity: maillage_app::crypto::PatientIdentity {
                    family_name: "EXEMPLE-ROUTE".into(),
                    given_names: "Paul".into(),
                    birth_date: "1950-01-01".into(),
                    ..Default::default()
                },
                draft: maillage_domain::pathways::inclusion::InclusionDraft {
                    inclusion: Some(today),
                    event: Some(today),
                    consent: true,
                },
                team: Vec::new(),
            };
            app.state
                .missions
                .pathway_care
                .include(
                    &maillage_app::caller::Caller::command_line(cpts),
                    &request,
                    today,
                )
                .await
                .unwrap()
                .0
        }
    };
    let steps = app.store.inclusion_steps(cpts, inclusion).await.unwrap();
    (inclusion, steps[0].id)
}

/// The SAS's search, over the next six days: the demo publishes on weekdays, and the default 48 hours from
/// a Friday evening would cover a weekend only.
pub(super) const FHIR_SEARCH: FhirSearch = FhirSearch;

pub(super) struct FhirSearch;

impl std::fmt::Display for FhirSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use maillage_domain::calendar::paris_date_time;
        let from = maillage_app::clock::now_ms() - 60_000;
        let until = from + 6 * maillage_app::clock::DAY_MS;
        write!(
            f,
            "/fhir/Slot?status=free&_include=Slot:schedule&_include:iterate=Schedule:actor\
             &_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization\
             &start=ge{}&start=le{}",
            paris_date_time(from).replace('+', "%2B"),
            paris_date_time(until).replace('+', "%2B")
        )
    }
}

/// A waiting list of the CPTS (created by the coordination when it has none).
pub(super) async fn a_waiting_list(app: &TestApp, cpts: maillage_store::CptsId) -> uuid::Uuid {
    let caller = maillage_app::caller::Caller::command_line(cpts);
    let care = &app.state.missions.pathway_care;
    match care.waiting_lists(&caller).await.unwrap().first() {
        Some(list) => list.id,
        None => care
            .create_waiting_list(&caller, "Bilan TND (plateforme PCO)")
            .await
            .unwrap(),
    }
}

/// A liaison sheet of a patient the demo's GP follows (the frail patient's EHPAD link), recorded by the
/// coordination when there is none yet: (inclusion, its step, the sheet).
pub(super) async fn a_liaison_sheet(
    app: &TestApp,
    cpts: maillage_store::CptsId,
) -> (uuid::Uuid, uuid::Uuid, uuid::Uuid) {
    let inclusions = app
        .store
        .list_inclusions(cpts, None, Page::first(50))
        .await
        .unwrap();
    let frail = inclusions
        .iter()
        .find(|i| i.template_code == "personne-agee-fragile")
        .map(|i| i.id);
    let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
    let caller = maillage_app::caller::Caller::command_line(cpts);
    let inclusion = match frail {
        Some(found) => found,
        // Another CPTS of the demo has none: the coordination includes one there, without a care team.
        None => {
            let request = maillage_app::pathway_care::InclusionRequest {
                template: "personne-agee-fragile".into(),
                identity: maillage_app::crypto::PatientIdentity {
                    family_name: "EXEMPLE-FICHE".into(),
                    given_names: "Rose".into(),
                    birth_date: "1938-06-01".into(),
                    ..Default::default()
                },
                draft: maillage_domain::pathways::inclusion::InclusionDraft {
                    inclusion: Some(today),
                    event: None,
                    consent: true,
                },
                team: Vec::new(),
            };
            app.state
                .missions
                .pathway_care
                .include(&caller, &request, today)
                .await
                .unwrap()
                .0
        }
    };
    if let Some(sheet) = app
        .store
        .liaison_sheets(cpts, inclusion)
        .await
        .unwrap()
        .first()
    {
        return (inclusion, sheet.step_id, sheet.id);
    }
    let step = app
        .store
        .inclusion_steps(cpts, inclusion)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.code == "lien-ehpad")
        .unwrap()
        .id;
    let draft = maillage_domain::pathways::liaison::SheetDraft {
        direction: "envoyee".into(),
        dated_on: Some(today),
        establishment: "EHPAD Les Tamaris, accueil de jour".into(),
        reason: "Demande d'accueil de jour deux fois par semaine".into(),
        ..Default::default()
    };
    let sheet = app
        .state
        .missions
        .pathway_care
        .record_liaison_sheet(&caller, inclusion, step, &draft, today)
        .await
        .unwrap();
    (inclusion, step, sheet)
}

/// A case meeting of the CPTS (scheduled by the coordination today when it has none).
pub(super) async fn a_case_meeting(app: &TestApp, cpts: maillage_store::CptsId) -> uuid::Uuid {
    let caller = maillage_app::caller::Caller::command_line(cpts);
    let care = &app.state.missions.pathway_care;
    if let Some(meeting) = care
        .case_meetings(&caller, Page::first(1))
        .await
        .unwrap()
        .first()
    {
        return meeting.id;
    }
    let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
    let draft = maillage_domain::meetings::MeetingDraft {
        title: "RCP de la CPTS".into(),
        held_on: Some(today),
        start_minute: Some(12 * 60 + 30),
        place: "Visioconférence".into(),
    };
    care.schedule_case_meeting(&caller, &draft, &[], today)
        .await
        .unwrap()
}

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

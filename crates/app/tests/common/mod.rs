//! Shared by the service tests: e-mail delivery to the outbox.

use maillage_app::config::JobsConfig;
use maillage_app::jobs::JobRunner;
use maillage_app::mail::{EmailJob, Mailer, EMAIL_JOB};
use maillage_store::{Page, Store};
use std::sync::Arc;

/// Sends the queued e-mails to the outbox and returns them.
pub async fn deliver_mail(store: &Arc<dyn Store>) -> Vec<maillage_store::OutboxMail> {
    let mut runner = JobRunner::new(store.clone(), JobsConfig::default());
    runner.register(
        EMAIL_JOB,
        Arc::new(EmailJob {
            mailer: Arc::new(Mailer::Outbox),
            store: store.clone(),
        }),
    );
    while runner.run_once(0).await.unwrap() {}
    store.list_outbox(Page::first(500)).await.unwrap()
}

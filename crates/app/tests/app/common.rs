//! Shared by the service tests: the demo seeded once per test binary, e-mail delivery to the outbox.

#![allow(dead_code)] // each test binary uses its part

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

/// Accounts that hash at the test cost (see `PasswordCost::Test`).
pub fn test_accounts(
    store: &Arc<dyn Store>,
    config: &maillage_app::config::Config,
) -> maillage_app::accounts::Accounts {
    let keyring = Arc::new(config.keyring().unwrap());
    maillage_app::accounts::Accounts::new(store.clone(), config.security.clone(), keyring)
        .unwrap()
        .with_test_password_cost()
        .unwrap()
}

/// The demo, seeded once for the test binary, and the configuration whose keys sealed its identities.
pub async fn demo() -> &'static (
    maillage_store::testing::Template,
    maillage_app::config::Config,
) {
    static DEMO: tokio::sync::OnceCell<(
        maillage_store::testing::Template,
        maillage_app::config::Config,
    )> = tokio::sync::OnceCell::const_new();
    DEMO.get_or_init(|| async {
        let config = maillage_app::config::Config::default().with_new_keys();
        let template = maillage_store::testing::Template::build(|store| {
            let accounts = test_accounts(&store, &config);
            async move {
                maillage_app::demo::seed(&store, &accounts).await.unwrap();
            }
        })
        .await
        .unwrap();
        (template, config)
    })
    .await
}

/// Runs `check` on a fresh copy of the demo on each backend.
pub async fn for_each_demo<F, Fut>(check: F)
where
    F: Fn(Arc<dyn Store>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    maillage_store::testing::for_each_copy(&demo().await.0, check).await;
}

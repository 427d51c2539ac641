//! Shared by the service tests: the demo seeded once per test binary, e-mail delivery to the outbox.

#![allow(dead_code)] // each test binary uses its part

use maillage_app::config::JobsConfig;
use maillage_app::jobs::JobRunner;
use maillage_app::mail::{EmailJob, Mailer, EMAIL_JOB};
use maillage_store::{Page, Store};
use std::sync::Arc;

/// Sends the queued e-mails to the outbox and returns them, opened, links in full (as their recipients read them).
pub async fn deliver_mail(store: &Arc<dyn Store>) -> Vec<maillage_app::mail::OutboxEntry> {
    let keyring = Arc::new(demo().await.1.keyring().unwrap());
    let mut runner = JobRunner::new(store.clone(), keyring.clone(), JobsConfig::default());
    runner.register(
        EMAIL_JOB,
        Arc::new(EmailJob {
            mailer: Arc::new(Mailer::Outbox),
            store: store.clone(),
            keyring,
        }),
    );
    while runner.run_once(0).await.unwrap() {}
    let keyring = demo().await.1.keyring().unwrap();
    maillage_app::mail::read_outbox(store.as_ref(), &keyring, Page::first(500), true)
        .await
        .unwrap()
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

/// Every byte the database holds (the store's testing helper, shared with the web tests).
pub async fn raw_database(url: &str) -> String {
    maillage_store::testing::raw_database(url).await
}

/// The caller `email` is in `cpts` (the account must hold a role there).
pub async fn caller_of(
    store: &Arc<dyn Store>,
    cpts: maillage_store::CptsId,
    email: &str,
) -> maillage_app::caller::Caller {
    let user = store.find_user_by_email(email).await.unwrap().unwrap();
    maillage_app::caller::Caller::resolve(
        store.as_ref(),
        user.id,
        cpts,
        &maillage_app::audit::AuditContext::default(),
    )
    .await
    .unwrap()
    .expect("a role in the CPTS")
}

/// The demo's two CPTS and a caller of each role of the first, plus the second's coordination.
pub struct DemoCallers {
    pub cpts: maillage_store::Cpts,
    pub other: maillage_store::Cpts,
    pub coordinator: maillage_app::caller::Caller,
    pub member: maillage_app::caller::Caller,
    pub partner: maillage_app::caller::Caller,
    pub elsewhere: maillage_app::caller::Caller,
}

pub async fn demo_callers(store: &Arc<dyn Store>) -> DemoCallers {
    let find =
        |slug: &'static str| async move { store.find_cpts_by_slug(slug).await.unwrap().unwrap() };
    let cpts = find(maillage_app::demo::DEMO_CPTS_SLUG).await;
    let other = find(maillage_app::demo::OTHER_DEMO_CPTS_SLUG).await;
    DemoCallers {
        coordinator: caller_of(store, cpts.id, "coordination@camargue.test").await,
        member: caller_of(store, cpts.id, "dr.fabre@camargue.test").await,
        partner: caller_of(store, cpts.id, "dac@camargue.test").await,
        elsewhere: caller_of(store, other.id, "coordination@vidourle.test").await,
        cpts,
        other,
    }
}

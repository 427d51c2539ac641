//! One behaviour, two engines: every test runs on a fresh SQLite database and, when `TEST_POSTGRES_URL`
//! is set (always in CI), on a fresh PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use maillage_domain::authz::Role;
use maillage_store::*;
use std::collections::HashSet;
use std::sync::Arc;

const MINUTE: i64 = 60_000;

async fn on_each_backend<F, Fut>(check: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    maillage_store::testing::for_each_backend(|store, _url| check(store)).await;
}

fn new_cpts(slug: &str) -> NewCpts {
    NewCpts {
        slug: slug.into(),
        name: format!("CPTS {slug}"),
        finess: None,
        siret: None,
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        display_name: "Camille Exemple".into(),
        password_hash: "$argon2id$fictitious".into(),
        is_platform_admin: false,
    }
}

fn job(kind: &str, run_at: i64) -> NewJob {
    NewJob {
        cpts_id: None,
        kind: kind.into(),
        payload: "{}".into(),
        max_attempts: 3,
        run_at,
    }
}

#[tokio::test]
async fn cpts_are_created_listed_and_unique_by_slug() {
    on_each_backend(|store| async move {
        let a = store.create_cpts(&new_cpts("camargue"), 1).await.unwrap();
        store.create_cpts(&new_cpts("lunel"), 2).await.unwrap();
        assert_eq!(
            store.find_cpts_by_slug("camargue").await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(store.find_cpts_by_slug("absente").await.unwrap(), None);
        let duplicate = store.create_cpts(&new_cpts("camargue"), 3).await;
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{duplicate:?}"
        );
        let all = store.list_cpts(Page::first(10)).await.unwrap();
        assert_eq!(all.len(), 2);
        let second_page = store.list_cpts(Page::new(2, 1)).await.unwrap();
        assert_eq!(second_page.len(), 1);
        assert_ne!(second_page[0].id, all[0].id);
    })
    .await;
}

#[tokio::test]
async fn a_user_and_their_role_are_written_together_or_not_at_all() {
    on_each_backend(|store| async move {
        let cpts = store.create_cpts(&new_cpts("camargue"), 1).await.unwrap();
        let user = store
            .create_user(
                &new_user("coord@exemple.fr"),
                Some((cpts.id, Role::Coordinator)),
                5,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .membership(cpts.id, user.id)
                .await
                .unwrap()
                .map(|(role, _)| role),
            Some(Role::Coordinator)
        );
        // Role and linked record in one query; no record linked yet, and no role in a CPTS that is not theirs.
        assert_eq!(
            store.membership(cpts.id, user.id).await.unwrap(),
            Some((Role::Coordinator, None))
        );
        assert_eq!(
            store
                .membership(maillage_store::testing::made_up_cpts_id(), user.id)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .find_user_by_email("coord@exemple.fr")
                .await
                .unwrap()
                .map(|u| u.id),
            Some(user.id)
        );

        let duplicate = store
            .create_user(&new_user("coord@exemple.fr"), None, 6)
            .await;
        assert!(matches!(duplicate, Err(StoreError::Conflict(_))));

        // The role names a CPTS that does not exist: the account must not be left behind.
        let orphan = store
            .create_user(
                &new_user("orphelin@exemple.fr"),
                Some((maillage_store::testing::made_up_cpts_id(), Role::Member)),
                7,
            )
            .await;
        assert!(orphan.is_err());
        assert_eq!(
            store
                .find_user_by_email("orphelin@exemple.fr")
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn roles_are_per_cpts_and_members_are_listed_per_cpts() {
    on_each_backend(|store| async move {
        let a = store.create_cpts(&new_cpts("a"), 1).await.unwrap();
        let b = store.create_cpts(&new_cpts("b"), 1).await.unwrap();
        let person = store
            .create_user(
                &new_user("pro@exemple.fr"),
                Some((a.id, Role::Coordinator)),
                1,
            )
            .await
            .unwrap();
        store
            .grant_role(b.id, person.id, Role::Member, 2)
            .await
            .unwrap();
        let other = store
            .create_user(
                &new_user("autre@exemple.fr"),
                Some((b.id, Role::Secretary)),
                1,
            )
            .await
            .unwrap();

        assert_eq!(
            store
                .membership(a.id, person.id)
                .await
                .unwrap()
                .map(|(role, _)| role),
            Some(Role::Coordinator)
        );
        assert_eq!(
            store
                .membership(b.id, person.id)
                .await
                .unwrap()
                .map(|(role, _)| role),
            Some(Role::Member)
        );
        assert_eq!(
            store
                .membership(a.id, other.id)
                .await
                .unwrap()
                .map(|(role, _)| role),
            None
        );

        let members_of_a = store.list_members(a.id, Page::first(50)).await.unwrap();
        assert_eq!(members_of_a.len(), 1);
        assert_eq!(members_of_a[0].user_id, person.id);
        let members_of_b: HashSet<UserId> = store
            .list_members(b.id, Page::first(50))
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        assert_eq!(members_of_b, HashSet::from([person.id, other.id]));

        // Granting again changes the role rather than adding a second one.
        store
            .grant_role(b.id, person.id, Role::Partner, 3)
            .await
            .unwrap();
        assert_eq!(
            store
                .membership(b.id, person.id)
                .await
                .unwrap()
                .map(|(role, _)| role),
            Some(Role::Partner)
        );
        let roles = store.roles_of_user(person.id).await.unwrap();
        assert_eq!(roles.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_when_idle_or_old_and_die_with_a_disabled_account() {
    on_each_backend(|store| async move {
        let user = store
            .create_user(&new_user("s@exemple.fr"), None, 0)
            .await
            .unwrap();
        let session = |hash: &str, now: i64| SessionRecord {
            token_hash: hash.into(),
            user_id: user.id,
            csrf_token: "csrf".into(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + 60 * MINUTE,
        };
        store.create_session(&session("h1", 0)).await.unwrap();
        let idle = 30 * MINUTE;
        assert!(store
            .touch_session("h1", 10 * MINUTE, idle)
            .await
            .unwrap()
            .is_some());
        assert!(store
            .touch_session("h1", 35 * MINUTE, idle)
            .await
            .unwrap()
            .is_some());
        // Absolute limit reached even though the session is in use.
        assert!(store
            .touch_session("h1", 61 * MINUTE, idle)
            .await
            .unwrap()
            .is_none());

        store.create_session(&session("h2", 0)).await.unwrap();
        assert!(store
            .touch_session("h2", 31 * MINUTE, idle)
            .await
            .unwrap()
            .is_none());

        store.create_session(&session("h3", 0)).await.unwrap();
        assert!(store.set_user_disabled(user.id, true).await.unwrap());
        assert!(store
            .touch_session("h3", MINUTE, idle)
            .await
            .unwrap()
            .is_none());
        assert!(!store.set_user_disabled(UserId::new(), true).await.unwrap());

        assert_eq!(
            store
                .purge_expired_sessions(120 * MINUTE, idle)
                .await
                .unwrap(),
            3
        );
        store.create_session(&session("h4", 0)).await.unwrap();
        assert_eq!(store.delete_user_sessions(user.id).await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn jobs_are_claimed_once_retried_later_and_recovered_after_a_lost_lease() {
    on_each_backend(|store| async move {
        let id = store.enqueue_job(&job("email", 100), 0).await.unwrap();
        assert!(
            store.claim_job("w1", 50, MINUTE).await.unwrap().is_none(),
            "not due yet"
        );
        let claimed = store.claim_job("w1", 100, MINUTE).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.attempts), (id, 1));
        assert_eq!(claimed.status, JobStatus::Running);
        assert!(store.claim_job("w2", 101, MINUTE).await.unwrap().is_none());

        // A failure with a retry puts it back in the queue at the retry instant.
        assert!(store
            .fail_job(id, "w1", "SMTP indisponible", Some(5_000), 200)
            .await
            .unwrap());
        assert!(store
            .claim_job("w2", 4_999, MINUTE)
            .await
            .unwrap()
            .is_none());
        let retried = store.claim_job("w2", 5_000, MINUTE).await.unwrap().unwrap();
        assert_eq!(retried.attempts, 2);
        assert_eq!(retried.last_error.as_deref(), Some("SMTP indisponible"));

        // w2 dies: after its lease, another worker takes the job over, and w2 can no longer finish it.
        let recovered = store
            .claim_job("w3", 5_000 + MINUTE + 1, MINUTE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(recovered.attempts, 3);
        assert!(!store.complete_job(id, "w2", 70_000).await.unwrap());
        assert!(store.complete_job(id, "w3", 70_000).await.unwrap());
        let done = store.find_job(id).await.unwrap().unwrap();
        assert_eq!(done.status, JobStatus::Done);
        assert_eq!(done.finished_at, Some(70_000));

        let failing = store.enqueue_job(&job("email", 0), 0).await.unwrap();
        store
            .claim_job("w1", 80_000, MINUTE)
            .await
            .unwrap()
            .unwrap();
        assert!(store
            .fail_job(failing, "w1", "adresse refusée", None, 80_001)
            .await
            .unwrap());
        assert_eq!(
            store.find_job(failing).await.unwrap().unwrap().status,
            JobStatus::Failed
        );

        let counts = store.job_counts().await.unwrap();
        assert_eq!(
            counts,
            vec![("done".to_string(), 1), ("failed".to_string(), 1)]
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_workers_never_take_the_same_job() {
    on_each_backend(|store| async move {
        let total = 60;
        for _ in 0..total {
            store.enqueue_job(&job("email", 0), 0).await.unwrap();
        }
        let mut workers = Vec::new();
        for w in 0..6 {
            let store = store.clone();
            workers.push(tokio::spawn(async move {
                let name = format!("worker-{w}");
                let mut mine = Vec::new();
                while let Some(job) = store.claim_job(&name, 10, 10 * MINUTE).await.unwrap() {
                    mine.push(job.id);
                    assert!(store.complete_job(job.id, &name, 11).await.unwrap());
                }
                mine
            }));
        }
        let mut seen = HashSet::new();
        for worker in workers {
            for id in worker.await.unwrap() {
                assert!(seen.insert(id), "job {id} ran twice");
            }
        }
        assert_eq!(seen.len(), total);
    })
    .await;
}

#[tokio::test]
async fn locks_have_one_holder_until_released_or_expired() {
    on_each_backend(|store| async move {
        assert!(store.try_lock("purge", "a", 0, MINUTE).await.unwrap());
        assert!(!store.try_lock("purge", "b", 10, MINUTE).await.unwrap());
        assert!(
            store.try_lock("purge", "a", 20, MINUTE).await.unwrap(),
            "renewal"
        );
        assert!(!store
            .try_lock("purge", "b", MINUTE + 10, MINUTE)
            .await
            .unwrap());
        assert!(
            store
                .try_lock("purge", "b", MINUTE + 21, MINUTE)
                .await
                .unwrap(),
            "expired"
        );
        store.release_lock("purge", "a").await.unwrap();
        assert!(!store
            .try_lock("purge", "a", MINUTE + 30, MINUTE)
            .await
            .unwrap());
        store.release_lock("purge", "b").await.unwrap();
        assert!(store
            .try_lock("purge", "a", MINUTE + 40, MINUTE)
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn the_outbox_keeps_one_message_per_job() {
    on_each_backend(|store| async move {
        let job_id = store.enqueue_job(&job("email", 0), 0).await.unwrap();
        let mail = NewOutboxMail {
            cpts_id: None,
            job_id: Some(job_id),
            recipient: "dest@exemple.fr".into(),
            subject: "Bienvenue".into(),
            body: "Bonjour".into(),
        };
        store.push_outbox(&mail, 1).await.unwrap();
        store.push_outbox(&mail, 2).await.unwrap();
        let free = NewOutboxMail {
            job_id: None,
            ..mail.clone()
        };
        store.push_outbox(&free, 3).await.unwrap();
        store.push_outbox(&free, 4).await.unwrap();
        assert_eq!(store.count_outbox().await.unwrap(), 3);
        let newest = store.list_outbox(Page::first(1)).await.unwrap();
        assert_eq!(newest[0].created_at, 4);
    })
    .await;
}

#[tokio::test]
async fn backups_are_online_snapshots_on_sqlite_and_pg_dump_on_postgres() {
    on_each_backend(|store| async move {
        store.create_cpts(&new_cpts("camargue"), 1).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sauvegarde.db");
        match store.backend() {
            Backend::Sqlite => {
                store.backup_to(&target).await.unwrap();
                let copy = open(&format!("sqlite://{}", target.display()))
                    .await
                    .unwrap();
                assert!(copy.find_cpts_by_slug("camargue").await.unwrap().is_some());
                assert!(matches!(
                    store.backup_to(&target).await,
                    Err(StoreError::Conflict(_))
                ));
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = |path: &std::path::Path| {
                        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
                    };
                    assert_eq!(mode(&target), 0o600, "the backup is its owner's only");
                    // A new database and its write-ahead log too.
                    let file = dir.path().join("neuve.db");
                    let fresh = open(&format!("sqlite://{}", file.display())).await.unwrap();
                    fresh.create_cpts(&new_cpts("vidourle"), 1).await.unwrap();
                    assert_eq!(mode(&file), 0o600);
                    let wal = dir.path().join("neuve.db-wal");
                    assert!(wal.exists());
                    assert_eq!(mode(&wal), 0o600);
                }
            }
            Backend::Postgres => {
                assert!(matches!(
                    store.backup_to(&target).await,
                    Err(StoreError::Unsupported(_))
                ));
            }
        }
    })
    .await;
}

#[tokio::test]
async fn migrations_can_run_again() {
    on_each_backend(|store| async move {
        store.migrate().await.unwrap();
        store.ping().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn territories_belong_to_one_cpts_and_keep_each_commune_once() {
    on_each_backend(|store| async move {
        let a = store.create_cpts(&new_cpts("a"), 1).await.unwrap();
        let b = store.create_cpts(&new_cpts("b"), 1).await.unwrap();
        let codes: Vec<String> = ["30341", "30003", "30341"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        store.add_to_territory(a.id, &codes, 2).await.unwrap();
        store
            .add_to_territory(a.id, &["30006".to_string()], 3)
            .await
            .unwrap();
        assert_eq!(
            store.territory(a.id).await.unwrap(),
            vec!["30003", "30006", "30341"]
        );
        assert!(store.territory(b.id).await.unwrap().is_empty());
        assert!(!store.remove_from_territory(b.id, "30003").await.unwrap());
        assert!(store.remove_from_territory(a.id, "30003").await.unwrap());
        assert_eq!(store.territory(a.id).await.unwrap(), vec!["30006", "30341"]);
    })
    .await;
}

//! The security tables on both engines: the audit chain and its verification against tampering done
//! directly in the database, login throttling, single-use reset links, TOTP replay, patients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use maillage_store::testing::{for_each_backend, make_cpts, make_user, raw_execute};
use maillage_store::*;

fn entry(n: i64, cpts: Option<CptsId>) -> NewAuditEntry {
    NewAuditEntry {
        at: 1_000 + n,
        cpts_id: cpts,
        actor_id: None,
        actor: format!("personne{n}@exemple.fr"),
        action: if n % 2 == 0 {
            "login"
        } else {
            "members_viewed"
        }
        .into(),
        target_kind: "user".into(),
        target_id: n.to_string(),
        detail: format!("{{\"n\":{n}}}"),
        purpose: String::new(),
        ip: "127.0.0.1".into(),
        request_id: format!("req-{n}"),
    }
}

async fn chain_of(store: &dyn Store, count: i64) {
    for n in 1..=count {
        store.append_audit(&entry(n, None)).await.unwrap();
    }
}

async fn verdict(store: &dyn Store) -> ChainReport {
    verify_audit_chain(store, 2).await.unwrap()
}

#[tokio::test]
async fn an_intact_chain_verifies_and_concurrent_appends_stay_chained() {
    for_each_backend(|store, _url| async move {
        assert!(matches!(
            verdict(store.as_ref()).await,
            ChainReport::Intact { entries: 0, .. }
        ));
        let mut tasks = Vec::new();
        for n in 1..=40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.append_audit(&entry(n, None)).await.unwrap().seq
            }));
        }
        let mut seqs = Vec::new();
        for task in tasks {
            seqs.push(task.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
        match verdict(store.as_ref()).await {
            ChainReport::Intact { entries, head_hash } => {
                assert_eq!(entries, 40);
                assert_eq!(store.audit_head().await.unwrap(), (40, head_hash));
            }
            broken => panic!("{broken:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn one_changed_byte_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 5).await;
        raw_execute(
            &url,
            "UPDATE audit_log SET detail = '{\"n\":9}' WHERE seq = 3",
        )
        .await;
        assert!(matches!(
            verdict(store.as_ref()).await,
            ChainReport::Broken { seq: 3, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn a_deleted_entry_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 5).await;
        raw_execute(&url, "DELETE FROM audit_log WHERE seq = 2").await;
        assert!(matches!(
            verdict(store.as_ref()).await,
            ChainReport::Broken { seq: 2, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn a_removed_tail_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 5).await;
        raw_execute(&url, "DELETE FROM audit_log WHERE seq = 5").await;
        assert!(matches!(
            verdict(store.as_ref()).await,
            ChainReport::Broken { seq: 5, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn an_inserted_entry_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 4).await;
        // Shift entries 3 and 4 to make room, then slip a forged entry in at 3 copying entry 2's links.
        raw_execute(&url, "UPDATE audit_log SET seq = seq + 10 WHERE seq >= 3").await;
        raw_execute(&url, "UPDATE audit_log SET seq = seq - 9 WHERE seq >= 13").await;
        raw_execute(
            &url,
            "INSERT INTO audit_log (seq, at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, \
             purpose, ip, request_id, prev_hash, hash) \
             SELECT 3, at, cpts_id, actor_id, 'intrus@exemple.fr', action, target_kind, target_id, detail, purpose, ip, \
             request_id, prev_hash, hash FROM audit_log WHERE seq = 2",
        )
        .await;
        assert!(matches!(verdict(store.as_ref()).await, ChainReport::Broken { seq: 3, .. }));
    })
    .await;
}

#[tokio::test]
async fn the_trail_is_read_per_cpts_with_filters() {
    for_each_backend(|store, _url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        let b = make_cpts(store.as_ref(), "b").await;
        for n in 1..=6 {
            store.append_audit(&entry(n, Some(a.id))).await.unwrap();
        }
        store.append_audit(&entry(7, Some(b.id))).await.unwrap();
        store.append_audit(&entry(8, None)).await.unwrap();
        let all = AuditFilter::default();
        let of_a = store
            .list_audit(AuditScope::Cpts(a.id), &all, Page::first(100))
            .await
            .unwrap();
        assert_eq!(of_a.len(), 6);
        assert_eq!(of_a[0].seq, 6, "newest first");
        assert!(of_a.iter().all(|e| e.entry.cpts_id == Some(a.id)));
        assert_eq!(
            store
                .list_audit(AuditScope::Platform, &all, Page::first(100))
                .await
                .unwrap()
                .len(),
            1
        );
        let logins = AuditFilter {
            action: Some("login".into()),
            ..AuditFilter::default()
        };
        assert_eq!(
            store
                .list_audit(AuditScope::Cpts(a.id), &logins, Page::first(100))
                .await
                .unwrap()
                .len(),
            3
        );
        let window = AuditFilter {
            from: Some(1_002),
            until: Some(1_004),
            ..AuditFilter::default()
        };
        let seqs: Vec<i64> = store
            .list_audit(AuditScope::Cpts(a.id), &window, Page::first(100))
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![3, 2]);
        let by_actor = AuditFilter {
            actor: Some("personne5@exemple.fr".into()),
            ..AuditFilter::default()
        };
        assert_eq!(
            store
                .list_audit(AuditScope::Cpts(a.id), &by_actor, Page::first(9))
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn login_failures_are_counted_per_window_and_locks_last_until_cleared() {
    for_each_backend(|store, _url| async move {
        let window = 15 * 60_000;
        for n in 1..=3 {
            let state = store
                .record_login_failure("compte:a@b.fr", n * 1_000, window)
                .await
                .unwrap();
            assert_eq!(state.failures, n);
        }
        store.lock_login("compte:a@b.fr", 99_000).await.unwrap();
        assert_eq!(
            store
                .login_throttle("compte:a@b.fr")
                .await
                .unwrap()
                .unwrap()
                .locked_until,
            99_000
        );
        // A failure long after the last one starts a new window.
        let later = store
            .record_login_failure("compte:a@b.fr", 3_000 + window + 1, window)
            .await
            .unwrap();
        assert_eq!(later.failures, 1);
        store.clear_login_throttle("compte:a@b.fr").await.unwrap();
        assert_eq!(store.login_throttle("compte:a@b.fr").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn reset_links_work_once_and_void_the_others() {
    for_each_backend(|store, _url| async move {
        let user = make_user(store.as_ref(), "r@exemple.fr").await;
        store
            .create_password_reset("t1", user.id, 0, 1_000)
            .await
            .unwrap();
        store
            .create_password_reset("t2", user.id, 0, 1_000)
            .await
            .unwrap();
        store
            .create_password_reset("old", user.id, 0, 10)
            .await
            .unwrap();
        assert_eq!(
            store.consume_password_reset("old", 11).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store.peek_password_reset("t1", 5).await.unwrap(),
            Some(user.id)
        );
        assert_eq!(
            store.consume_password_reset("t1", 5).await.unwrap(),
            Some(user.id)
        );
        assert_eq!(
            store.consume_password_reset("t1", 6).await.unwrap(),
            None,
            "single use"
        );
        assert_eq!(
            store.consume_password_reset("t2", 6).await.unwrap(),
            None,
            "voided by the first"
        );
        store.set_password_hash(user.id, "new-hash").await.unwrap();
        assert_eq!(
            store
                .find_user(user.id)
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            "new-hash"
        );
    })
    .await;
}

#[tokio::test]
async fn totp_steps_cannot_be_replayed_and_challenges_count_attempts() {
    for_each_backend(|store, _url| async move {
        let user = make_user(store.as_ref(), "t@exemple.fr").await;
        store
            .set_totp(user.id, Some(&[1, 2, 3]), true)
            .await
            .unwrap();
        let reloaded = store.find_user(user.id).await.unwrap().unwrap();
        assert_eq!(reloaded.totp_secret.as_deref(), Some(&[1u8, 2, 3][..]));
        assert!(reloaded.totp_enabled);
        assert!(store.use_totp_step(user.id, 100).await.unwrap());
        assert!(!store.use_totp_step(user.id, 100).await.unwrap(), "replay");
        assert!(
            !store.use_totp_step(user.id, 99).await.unwrap(),
            "older code"
        );
        assert!(store.use_totp_step(user.id, 101).await.unwrap());

        store
            .create_login_challenge("c1", user.id, 500)
            .await
            .unwrap();
        assert_eq!(
            store.attempt_login_challenge("c1", 10).await.unwrap(),
            Some((user.id, 1))
        );
        assert_eq!(
            store.attempt_login_challenge("c1", 20).await.unwrap(),
            Some((user.id, 2))
        );
        assert_eq!(
            store.attempt_login_challenge("c1", 600).await.unwrap(),
            None,
            "expired"
        );
        store.delete_login_challenge("c1").await.unwrap();
        assert_eq!(store.attempt_login_challenge("c1", 30).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn patients_are_found_only_inside_their_cpts() {
    for_each_backend(|store, _url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        let b = make_cpts(store.as_ref(), "b").await;
        let record = PatientRecord {
            id: PatientId::new(),
            cpts_id: a.id,
            identity: vec![9, 9, 9],
            key_id: "k1".into(),
            blind_index: "idx".into(),
            created_at: 1,
            updated_at: 1,
        };
        store.create_patient(&record).await.unwrap();
        assert_eq!(
            store.find_patient(a.id, record.id).await.unwrap(),
            Some(record.clone())
        );
        assert_eq!(store.find_patient(b.id, record.id).await.unwrap(), None);
        assert_eq!(
            store
                .find_patients_by_blind_index(a.id, "idx")
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(store
            .find_patients_by_blind_index(b.id, "idx")
            .await
            .unwrap()
            .is_empty());
        assert!(!store
            .update_patient_identity(b.id, record.id, &[1], "k2", "i2", 2)
            .await
            .unwrap());
        assert_eq!(
            store.patients_not_under_key("k2", 10).await.unwrap().len(),
            1
        );
        assert!(store
            .update_patient_identity(a.id, record.id, &[1], "k2", "i2", 2)
            .await
            .unwrap());
        assert!(store
            .patients_not_under_key("k2", 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

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

/// The chain and position of the first break, if any.
async fn broken_at(store: &dyn Store) -> Option<(String, i64)> {
    match verdict(store).await {
        ChainReport::Broken { chain, seq, .. } => Some((chain, seq)),
        ChainReport::Intact { .. } => None,
    }
}

fn platform(seq: i64) -> Option<(String, i64)> {
    Some((PLATFORM_CHAIN.to_string(), seq))
}

#[tokio::test]
async fn an_intact_chain_verifies_and_concurrent_appends_stay_chained() {
    for_each_backend(|store, _url| async move {
        assert_eq!(
            verdict(store.as_ref()).await,
            ChainReport::Intact {
                chains: 0,
                entries: 0,
                unkeyed: 0
            }
        );
        let mut tasks = Vec::new();
        for n in 1..=40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.append_audit(&entry(n, None)).await.unwrap().chain_seq
            }));
        }
        let mut positions = Vec::new();
        for task in tasks {
            positions.push(task.await.unwrap());
        }
        positions.sort();
        assert_eq!(positions, (1..=40).collect::<Vec<_>>());
        assert_eq!(
            verdict(store.as_ref()).await,
            ChainReport::Intact {
                chains: 1,
                entries: 40,
                unkeyed: 40
            }
        );
        let heads = store.audit_chains().await.unwrap();
        assert_eq!(heads.len(), 1);
        assert_eq!(heads[0].head.as_ref().map(|h| h.0), Some(40));
    })
    .await;
}

#[tokio::test]
async fn each_cpts_has_its_own_chain_and_tampering_in_any_is_found() {
    for_each_backend(|store, url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        let b = make_cpts(store.as_ref(), "b").await;
        // Interleaved, and concurrently: each chain counts from 1 whatever the others do.
        let mut tasks = Vec::new();
        for n in 1..=30 {
            let store = store.clone();
            let cpts = match n % 3 {
                0 => None,
                1 => Some(a.id),
                _ => Some(b.id),
            };
            tasks.push(tokio::spawn(async move {
                store.append_audit(&entry(n, cpts)).await.unwrap()
            }));
        }
        for task in tasks {
            let stored = task.await.unwrap();
            assert_eq!(stored.chain, chain_key(stored.entry.cpts_id));
            assert!((1..=10).contains(&stored.chain_seq));
        }
        assert_eq!(
            verdict(store.as_ref()).await,
            ChainReport::Intact {
                chains: 3,
                entries: 30,
                unkeyed: 30
            }
        );
        // A changed entry in b's chain is found in b's chain, at its position.
        raw_execute(
            &url,
            &format!(
                "UPDATE audit_log SET actor = 'intrus@exemple.fr' WHERE chain = '{}' AND chain_seq = 4",
                chain_key(Some(b.id))
            ),
        )
        .await;
        assert_eq!(
            broken_at(store.as_ref()).await,
            Some((chain_key(Some(b.id)), 4))
        );
    })
    .await;
}

#[tokio::test]
async fn an_entry_moved_to_another_chain_is_detected() {
    for_each_backend(|store, url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        for n in 1..=3 {
            store.append_audit(&entry(n, Some(a.id))).await.unwrap();
        }
        chain_of(store.as_ref(), 2).await;
        // The platform's third entry, forged from a's second (same links), filed under the platform chain.
        raw_execute(
            &url,
            &format!(
                "INSERT INTO audit_log (at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, \
                 purpose, ip, request_id, chain, chain_seq, prev_hash, hash) \
                 SELECT at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, purpose, ip, \
                 request_id, 'platform', 3, prev_hash, hash FROM audit_log WHERE chain = '{}' AND chain_seq = 2",
                chain_key(Some(a.id))
            ),
        )
        .await;
        raw_execute(
            &url,
            "UPDATE audit_chains SET seq = 3 WHERE chain = 'platform'",
        )
        .await;
        assert_eq!(broken_at(store.as_ref()).await, platform(3));
    })
    .await;
}

#[tokio::test]
async fn one_changed_byte_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 5).await;
        raw_execute(
            &url,
            "UPDATE audit_log SET detail = '{\"n\":9}' WHERE chain_seq = 3",
        )
        .await;
        assert_eq!(broken_at(store.as_ref()).await, platform(3));
    })
    .await;
}

#[tokio::test]
async fn a_deleted_entry_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 5).await;
        raw_execute(&url, "DELETE FROM audit_log WHERE chain_seq = 2").await;
        assert_eq!(broken_at(store.as_ref()).await, platform(2));
    })
    .await;
}

#[tokio::test]
async fn a_removed_tail_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 5).await;
        raw_execute(&url, "DELETE FROM audit_log WHERE chain_seq = 5").await;
        assert_eq!(broken_at(store.as_ref()).await, platform(5));
    })
    .await;
}

#[tokio::test]
async fn a_removed_head_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 3).await;
        raw_execute(&url, "DELETE FROM audit_chains").await;
        assert_eq!(broken_at(store.as_ref()).await, platform(3));
    })
    .await;
}

#[tokio::test]
async fn an_inserted_entry_is_detected() {
    for_each_backend(|store, url| async move {
        chain_of(store.as_ref(), 4).await;
        // Shift entries 3 and 4 to make room, then slip a forged entry in at 3 copying entry 2's links.
        raw_execute(&url, "UPDATE audit_log SET chain_seq = chain_seq + 10 WHERE chain_seq >= 3").await;
        raw_execute(&url, "UPDATE audit_log SET chain_seq = chain_seq - 9 WHERE chain_seq >= 13").await;
        raw_execute(
            &url,
            "INSERT INTO audit_log (at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, \
             purpose, ip, request_id, chain, chain_seq, prev_hash, hash) \
             SELECT at, cpts_id, actor_id, 'intrus@exemple.fr', action, target_kind, target_id, detail, purpose, ip, \
             request_id, chain, 3, prev_hash, hash FROM audit_log WHERE chain_seq = 2",
        )
        .await;
        raw_execute(&url, "UPDATE audit_chains SET seq = 5").await;
        assert_eq!(broken_at(store.as_ref()).await, platform(3));
    })
    .await;
}

/// Writes `count` entries the way the store did before per-CPTS chains (one global chain, `audit_head`).
async fn legacy_trail(store: &dyn Store, url: &str, count: i64, cpts: [Option<CptsId>; 2]) {
    let mut prev = maillage_domain::audit::GENESIS_HASH.to_string();
    for n in 1..=count {
        let e = entry(n, cpts[(n % 2) as usize]);
        let hash = maillage_store::audit::audit_hash(n, &e, &prev);
        let cpts_literal = match (e.cpts_id, store.backend()) {
            (None, _) => "NULL".to_string(),
            (Some(c), Backend::Sqlite) => format!("X'{}'", c.uuid().simple()),
            (Some(c), Backend::Postgres) => format!("'{}'", c.uuid()),
        };
        let chain = chain_key(e.cpts_id);
        raw_execute(
            url,
            &format!(
                "INSERT INTO audit_log (seq, at, cpts_id, actor_id, actor, action, target_kind, target_id, detail, \
                 purpose, ip, request_id, chain, chain_seq, prev_hash, hash) VALUES ({n}, {at}, {cpts_literal}, NULL, \
                 '{actor}', '{action}', 'user', '{n}', '{detail}', '', '127.0.0.1', 'req-{n}', '{chain}', NULL, \
                 '{prev}', '{hash}')",
                at = e.at,
                actor = e.actor,
                action = e.action,
                detail = e.detail,
            ),
        )
        .await;
        prev = hash;
    }
    raw_execute(
        url,
        &format!("UPDATE audit_head SET seq = {count}, hash = '{prev}' WHERE id = 1"),
    )
    .await; // The migration moved PostgreSQL's sequence past the rows it found; these came after it.
    if store.backend() == Backend::Postgres {
        raw_execute(url, &format!("SELECT setval('audit_log_seq', {count})")).await;
    }
}

#[tokio::test]
async fn a_trail_from_before_chains_is_verified_then_split_into_chains() {
    for_each_backend(|store, url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        legacy_trail(store.as_ref(), &url, 7, [None, Some(a.id)]).await;
        store.migrate().await.unwrap();
        assert_eq!(
            verdict(store.as_ref()).await,
            ChainReport::Intact {
                chains: 2,
                entries: 7,
                unkeyed: 7
            }
        );
        // New entries follow on in each chain.
        assert_eq!(
            store
                .append_audit(&entry(8, Some(a.id)))
                .await
                .unwrap()
                .chain_seq,
            5
        );
        assert_eq!(
            store.append_audit(&entry(9, None)).await.unwrap().chain_seq,
            4
        );
        assert!(matches!(
            verdict(store.as_ref()).await,
            ChainReport::Intact { entries: 9, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn a_tampered_trail_from_before_chains_is_not_laundered() {
    for_each_backend(|store, url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        legacy_trail(store.as_ref(), &url, 5, [None, Some(a.id)]).await;
        raw_execute(
            &url,
            "UPDATE audit_log SET actor = 'intrus@exemple.fr' WHERE seq = 2",
        )
        .await;
        let refused = store.migrate().await.unwrap_err();
        assert!(
            refused.to_string().contains("broken at entry 2"),
            "{refused}"
        );
        // Nothing was re-hashed: the rows still wait for the upgrade.
        assert!(store
            .audit_chains()
            .await
            .unwrap()
            .iter()
            .all(|c| c.head.is_none()));
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
async fn rate_limit_windows_count_every_hit_and_restart_after_their_length() {
    for_each_backend(|store, _url| async move {
        let hour = 3_600_000;
        let first = store.hit_rate_limit("k1", 1_000, hour).await.unwrap();
        assert_eq!((first.hits, first.window_start), (1, 1_000));
        for expected in 2..=6 {
            let count = store.hit_rate_limit("k1", 2_000, hour).await.unwrap();
            assert_eq!((count.hits, count.window_start), (expected, 1_000));
        }
        // Another key counts apart; the window restarts once its hour is over.
        assert_eq!(
            store.hit_rate_limit("k2", 2_000, hour).await.unwrap().hits,
            1
        );
        let restarted = store
            .hit_rate_limit("k1", 1_000 + hour, hour)
            .await
            .unwrap();
        assert_eq!((restarted.hits, restarted.window_start), (1, 1_000 + hour));
        assert_eq!(
            store.purge_rate_limits(1_000 + hour).await.unwrap(),
            1,
            "k2's window is older"
        );
        assert_eq!(
            store
                .hit_rate_limit("k2", 1_000 + hour, hour)
                .await
                .unwrap()
                .hits,
            1
        );
    })
    .await;
}

fn audit_keys(byte: u8) -> maillage_domain::audit::AuditKeys {
    maillage_domain::audit::AuditKeys::new(vec![("a1".into(), vec![byte; 32])])
}

/// The heads as a checkpoint records them now.
async fn checkpoint_of(store: &dyn Store) -> Vec<CheckpointHead> {
    store
        .audit_chains()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|head| {
            head.head.map(|(seq, hash)| CheckpointHead {
                chain: head.chain,
                seq,
                hash,
            })
        })
        .collect()
}

/// Rewrites the platform chain the way someone with write access but without the key would: changes entry
/// 2, recomputes every code after it (with `keys`, none for plain SHA-256) and the head.
async fn recompute_platform_chain(
    store: &dyn Store,
    url: &str,
    keys: &maillage_domain::audit::AuditKeys,
) {
    let entries = store
        .audit_chain_after(PLATFORM_CHAIN, 0, 1_000)
        .await
        .unwrap();
    let mut prev = maillage_domain::audit::GENESIS_HASH.to_string();
    for mut stored in entries {
        if stored.chain_seq == 2 {
            stored.entry.detail = "{\"n\":\"effacé\"}".into();
            raw_execute(
                url,
                "UPDATE audit_log SET detail = '{\"n\":\"effacé\"}' WHERE chain = 'platform' AND chain_seq = 2",
            )
            .await;
        }
        let code = maillage_store::audit::audit_code(keys, stored.chain_seq, &stored.entry, &prev);
        raw_execute(
            url,
            &format!(
                "UPDATE audit_log SET prev_hash = '{prev}', hash = '{code}' \
                 WHERE chain = 'platform' AND chain_seq = {}",
                stored.chain_seq
            ),
        )
        .await;
        prev = code;
    }
    raw_execute(
        url,
        &format!("UPDATE audit_chains SET hash = '{prev}' WHERE chain = 'platform'"),
    )
    .await;
}

#[tokio::test]
async fn a_keyed_chain_cannot_be_recomputed_without_its_key_nor_past_a_checkpoint() {
    for_each_backend(|_store, url| async move {
        let keys = audit_keys(7);
        let keyed = maillage_store::open_with(&url, keys.clone()).await.unwrap();
        let a = make_cpts(keyed.as_ref(), "a").await;
        for n in 1..=10 {
            keyed.append_audit(&entry(n, None)).await.unwrap();
            keyed.append_audit(&entry(n, Some(a.id))).await.unwrap();
        }
        let verify = |checkpoint: Vec<CheckpointHead>| {
            let keyed = keyed.clone();
            let keys = keys.clone();
            async move {
                verify_audit_chains(keyed.as_ref(), &keys, &checkpoint, 3)
                    .await
                    .unwrap()
            }
        };
        assert!(
            matches!(verify(vec![]).await, ChainReport::Intact { unkeyed: 0, .. }),
            "every entry carries a MAC"
        );
        let checkpoint = checkpoint_of(keyed.as_ref()).await;
        for n in 11..=13 {
            keyed.append_audit(&entry(n, None)).await.unwrap();
        }
        assert!(matches!(
            verify(checkpoint.clone()).await,
            ChainReport::Intact { .. }
        ));
        // Without the key, no code can be forged: a recomputation with a guessed key fails at once.
        recompute_platform_chain(keyed.as_ref(), &url, &audit_keys(8)).await;
        assert!(
            matches!(verify(vec![]).await, ChainReport::Broken { seq: 1, .. }),
            "recomputed with the wrong key"
        );
        // Recomputed as plain SHA-256 (as before keys): the chain alone looks like an old unkeyed one, the
        // checkpoint tells the rewrite.
        recompute_platform_chain(keyed.as_ref(), &url, &Default::default()).await;
        assert!(matches!(
            verify(vec![]).await,
            ChainReport::Intact { unkeyed: 13, .. }
        ));
        match verify(checkpoint.clone()).await {
            ChainReport::Broken { chain, seq, reason } => {
                assert_eq!((chain.as_str(), seq), (PLATFORM_CHAIN, 10), "{reason}");
                assert!(reason.contains("checkpoint"), "{reason}");
            }
            other => panic!("rewrite not detected: {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_tail_removed_with_its_head_updated_is_caught_by_the_checkpoint() {
    for_each_backend(|store, url| async move {
        let keys = audit_keys(7);
        let keyed = maillage_store::open_with(&url, keys.clone()).await.unwrap();
        for n in 1..=12 {
            keyed.append_audit(&entry(n, None)).await.unwrap();
        }
        let checkpoint = checkpoint_of(keyed.as_ref()).await;
        // Entries 9 to 12 deleted, the head set back to entry 8 with its very code: the chain alone is
        // consistent.
        let eighth = keyed
            .audit_chain_after(PLATFORM_CHAIN, 7, 1)
            .await
            .unwrap()
            .remove(0);
        raw_execute(
            &url,
            "DELETE FROM audit_log WHERE chain = 'platform' AND chain_seq > 8",
        )
        .await;
        raw_execute(
            &url,
            &format!(
                "UPDATE audit_chains SET seq = 8, hash = '{}' WHERE chain = 'platform'",
                eighth.hash
            ),
        )
        .await;
        assert!(matches!(
            verify_audit_chains(keyed.as_ref(), &keys, &[], 5)
                .await
                .unwrap(),
            ChainReport::Intact { entries: 8, .. }
        ));
        match verify_audit_chains(keyed.as_ref(), &keys, &checkpoint, 5)
            .await
            .unwrap()
        {
            ChainReport::Broken { seq, reason, .. } => {
                assert_eq!(seq, 9, "{reason}");
                assert!(reason.contains("entries removed at the end"), "{reason}");
            }
            other => panic!("shortened chain not detected: {other:?}"),
        }
        // A whole chain removed is caught too.
        raw_execute(&url, "DELETE FROM audit_log").await;
        raw_execute(&url, "DELETE FROM audit_chains").await;
        assert!(matches!(
            verify_audit_chains(keyed.as_ref(), &keys, &checkpoint, 5)
                .await
                .unwrap(),
            ChainReport::Broken { .. }
        ));
        drop(store);
    })
    .await;
}

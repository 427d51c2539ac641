//! The operators' security commands: audit verification and checkpoints, key generation and rotation.

use super::*;

#[tokio::test]
async fn audit_verify_fails_after_one_changed_byte() {
    let mut databases = vec![TestDatabase::sqlite().await.unwrap()];
    if let Some(pg) = TestDatabase::postgres().await.unwrap() {
        databases.push(pg);
    }
    for database in databases {
        for email in ["a@exemple.fr", "b@exemple.fr", "c@exemple.fr"] {
            let created = maillage(
                &database.url,
                &["user", "create", "--email", email, "--name", "Personne"],
            );
            assert!(created.status.success(), "{}", text(&created.stderr));
        }
        let intact = maillage(&database.url, &["audit", "verify"]);
        assert!(intact.status.success(), "{}", text(&intact.stderr));
        assert!(
            text(&intact.stdout).contains(
                "Audit trail intact: 1 chain(s) (one per CPTS, and the platform's), 3 entries"
            ),
            "{}",
            text(&intact.stdout)
        );
        assert!(
            text(&intact.stdout).contains("chain platform: entry 3, head hmac:a1:"),
            "{}",
            text(&intact.stdout)
        );

        // One byte: "ligne de commande" becomes "ligne de commandf" in entry 2.
        maillage_store::testing::raw_execute(
            &database.url,
            "UPDATE audit_log SET actor = 'ligne de commandf' WHERE chain = 'platform' AND chain_seq = 2",
        )
        .await;
        let broken = maillage(&database.url, &["audit", "verify"]);
        assert_eq!(broken.status.code(), Some(1));
        assert!(
            text(&broken.stderr).contains("BROKEN in chain platform at entry 2"),
            "{}",
            text(&broken.stderr)
        );
    }
}

#[tokio::test]
async fn a_checkpoint_catches_a_shortened_chain_whose_head_was_updated() {
    let mut databases = vec![TestDatabase::sqlite().await.unwrap()];
    if let Some(pg) = TestDatabase::postgres().await.unwrap() {
        databases.push(pg);
    }
    for database in databases {
        for n in 0..4 {
            let email = format!("p{n}@exemple.fr");
            let created = maillage(
                &database.url,
                &["user", "create", "--email", &email, "--name", "Personne"],
            );
            assert!(created.status.success(), "{}", text(&created.stderr));
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap();
        let written = maillage(&database.url, &["audit", "checkpoint", "--out", path]);
        assert!(written.status.success(), "{}", text(&written.stderr));
        let saved = std::fs::read_to_string(path).unwrap();
        assert!(saved.contains("\"signature\":\"hmac:a1:"), "{saved}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the checkpoint file is its owner's only");
        }
        let intact = maillage(&database.url, &["audit", "verify", "--checkpoint", path]);
        assert!(intact.status.success(), "{}", text(&intact.stderr));
        assert!(text(&intact.stdout).contains("still holds what the checkpoint recorded"));
        // The last two entries deleted and the head set back to match: the chain alone looks whole.
        let store = maillage_store::open(&database.url).await.unwrap();
        let second = store
            .audit_chain_after(maillage_store::PLATFORM_CHAIN, 1, 1)
            .await
            .unwrap()
            .remove(0);
        maillage_store::testing::raw_execute(
            &database.url,
            "DELETE FROM audit_log WHERE chain = 'platform' AND chain_seq > 2",
        )
        .await;
        maillage_store::testing::raw_execute(
            &database.url,
            &format!(
                "UPDATE audit_chains SET seq = 2, hash = '{}' WHERE chain = 'platform'",
                second.hash
            ),
        )
        .await;
        let alone = maillage(&database.url, &["audit", "verify"]);
        assert!(alone.status.success(), "{}", text(&alone.stderr));
        let against = maillage(&database.url, &["audit", "verify", "--checkpoint", path]);
        assert_eq!(against.status.code(), Some(1), "{}", text(&against.stdout));
        assert!(
            text(&against.stderr).contains("a checkpoint recorded entry 4"),
            "{}",
            text(&against.stderr)
        );
        // A forged checkpoint (edited to match) is refused.
        std::fs::write(path, saved.replace("\"seq\":4", "\"seq\":2")).unwrap();
        let forged = maillage(&database.url, &["audit", "verify", "--checkpoint", path]);
        assert!(!forged.status.success());
        assert!(
            text(&forged.stderr).contains("signature"),
            "{}",
            text(&forged.stderr)
        );
    }
}

#[tokio::test]
async fn keys_are_generated_and_rotation_is_audited() {
    let database = TestDatabase::sqlite().await.unwrap();
    let generated = text(&maillage(&database.url, &["keys", "generate"]).stdout);
    assert!(generated.contains("data_keys = \"k"), "{generated}");
    assert!(generated.contains("blind_index_key = \""), "{generated}");
    let rotated = maillage(&database.url, &["keys", "rotate"]);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert!(text(&rotated.stdout)
        .contains("0 patient identities and 0 second-factor secrets now use key t1"));
    let store = maillage_store::open(&database.url).await.unwrap();
    let platform = store
        .list_audit(
            maillage_store::AuditScope::Platform,
            &Default::default(),
            Page::first(10),
        )
        .await
        .unwrap();
    assert_eq!(platform[0].entry.action, "keys_rotated");

    let without_keys = Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("MAILLAGE_DATABASE__URL", &database.url)
        .output()
        .unwrap();
    assert!(!without_keys.status.success());
    assert!(
        text(&without_keys.stderr).contains("maillage keys generate"),
        "{}",
        text(&without_keys.stderr)
    );
}

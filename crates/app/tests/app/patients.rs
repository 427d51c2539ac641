//! Patient identity at rest: what a database dump shows (nothing readable), what the application reads
//! (everything, audited), duplicates found through the blind index, and key rotation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use maillage_app::audit::AuditContext;
use maillage_app::crypto::{generate_key, Keyring, PatientIdentity};
use maillage_app::patients::Patients;
use maillage_store::testing::{for_each_backend, make_cpts};
use maillage_store::{AuditFilter, AuditScope, Page};
use std::sync::Arc;

fn identity() -> PatientIdentity {
    PatientIdentity {
        family_name: "Zébulonnet".into(),
        given_names: "Apolline".into(),
        birth_date: "1948-07-14".into(),
        phone: Some("0466123456".into()),
        email: Some("apolline.zebulonnet@exemple.fr".into()),
        address: Some("12 rue des Flamants, Aigues-Mortes".into()),
        note: None,
    }
}

const NEEDLES: [&str; 6] = [
    "Zébulonnet",
    "ZEBULONNET",
    "Apolline",
    "0466123456",
    "zebulonnet@",
    "Flamants",
];

/// Everything the database holds for patients, as an attacker with a dump would read it.
async fn raw_dump(url: &str) -> Vec<u8> {
    if url.starts_with("sqlite:") {
        let path = url.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(path).unwrap_or_default();
        // Recent writes may still be in the write-ahead log.
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        bytes
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT row_to_json(p)::text FROM patients p")
            .fetch_all(&pool)
            .await
            .unwrap();
        let audit: Vec<(String,)> = sqlx::query_as("SELECT row_to_json(a)::text FROM audit_log a")
            .fetch_all(&pool)
            .await
            .unwrap();
        let terms: Vec<(String,)> =
            sqlx::query_as("SELECT row_to_json(t)::text FROM patient_search_terms t")
                .fetch_all(&pool)
                .await
                .unwrap();
        pool.close().await;
        rows.into_iter()
            .chain(audit)
            .chain(terms)
            .flat_map(|(r,)| r.into_bytes())
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_database_dump_reveals_no_patient_identity() {
    for_each_backend(|store, url| async move {
        let cpts = make_cpts(store.as_ref(), "a").await;
        let keyring = Arc::new(
            Keyring::from_config(&format!("k1:{}", generate_key()), &generate_key()).unwrap(),
        );
        let patients = Patients::new(store.clone(), keyring);
        let actor = AuditContext {
            actor: "secretariat@exemple.fr".into(),
            ..AuditContext::default()
        };
        let id = patients.create(&actor, cpts.id, &identity()).await.unwrap();

        let dump = raw_dump(&url).await;
        let stored = store.find_patient(cpts.id, id).await.unwrap().unwrap();
        assert!(
            contains(&dump, &stored.blind_index),
            "the dump does hold the patient's row"
        );
        for needle in NEEDLES {
            assert!(
                !contains(&dump, needle),
                "« {needle} » readable in the raw database"
            );
        }

        let read = patients
            .read(&actor, cpts.id, id, "recherche de médecin traitant")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, identity());
        let trail = store
            .list_audit(
                AuditScope::Cpts(cpts.id),
                &AuditFilter::default(),
                Page::first(10),
            )
            .await
            .unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.entry.action.as_str()).collect();
        assert_eq!(actions, vec!["patient_viewed", "patient_created"]);
        assert_eq!(trail[0].entry.purpose, "recherche de médecin traitant");
        assert_eq!(trail[0].entry.target_id, id.to_string());
    })
    .await;
}

#[tokio::test]
async fn duplicates_are_found_without_decrypting_and_only_inside_the_cpts() {
    for_each_backend(|store, _url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        let b = make_cpts(store.as_ref(), "b").await;
        let keyring = Arc::new(
            Keyring::from_config(&format!("k1:{}", generate_key()), &generate_key()).unwrap(),
        );
        let patients = Patients::new(store.clone(), keyring);
        let actor = AuditContext::default();
        let id = patients.create(&actor, a.id, &identity()).await.unwrap();
        let typed_differently = PatientIdentity {
            family_name: "ZEBULONNET ".into(),
            given_names: "apolline".into(),
            phone: None,
            ..identity()
        };
        assert_eq!(
            patients
                .same_person(a.id, &typed_differently)
                .await
                .unwrap(),
            vec![id]
        );
        assert!(patients
            .same_person(b.id, &typed_differently)
            .await
            .unwrap()
            .is_empty());
        assert!(
            patients
                .read(&actor, b.id, id, "test")
                .await
                .unwrap()
                .is_none(),
            "another CPTS cannot read it"
        );
    })
    .await;
}

#[tokio::test]
async fn key_rotation_re_encrypts_everything_and_old_keys_can_go() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "a").await;
        let (old_key, index_key) = (generate_key(), generate_key());
        let old = Arc::new(Keyring::from_config(&format!("old:{old_key}"), &index_key).unwrap());
        let actor = AuditContext::default();
        let mut ids = Vec::new();
        for _ in 0..7 {
            ids.push(
                Patients::new(store.clone(), old.clone())
                    .create(&actor, cpts.id, &identity())
                    .await
                    .unwrap(),
            );
        }
        let new_key = generate_key();
        let both = Arc::new(
            Keyring::from_config(&format!("new:{new_key},old:{old_key}"), &index_key).unwrap(),
        );
        let mut seen = Vec::new();
        let rotated = Patients::new(store.clone(), both)
            .rotate(3, |n| seen.push(n))
            .await
            .unwrap();
        assert_eq!(rotated, 7);
        assert_eq!(seen, vec![3, 6, 7], "progress is reported batch by batch");
        let only_new =
            Arc::new(Keyring::from_config(&format!("new:{new_key}"), &index_key).unwrap());
        let patients = Patients::new(store.clone(), only_new);
        for id in ids {
            assert_eq!(
                patients
                    .read(&actor, cpts.id, id, "contrôle")
                    .await
                    .unwrap(),
                Some(identity())
            );
        }
        assert!(store
            .patients_not_under_key("new", 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn search_terms_find_a_patient_by_one_word_only_in_her_cpts_and_old_rows_are_indexed() {
    use maillage_app::patients::{index_missing_search_terms, query_terms, search_terms};
    for_each_backend(|store, _url| async move {
        let a = make_cpts(store.as_ref(), "a").await;
        let b = make_cpts(store.as_ref(), "b").await;
        let keyring =
            Keyring::from_config(&format!("k1:{}", generate_key()), &generate_key()).unwrap();
        let terms = search_terms(&keyring, a.id, &identity());
        // Each way of typing finds her; a partial name, another date or another CPTS does not.
        for typed in [
            "zebulonnet",
            "Apolline ZÉBULONNET",
            "14/07/1948",
            "04 66 12 34 56",
        ] {
            let wanted = query_terms(&keyring, a.id, typed).unwrap();
            assert!(
                !wanted.is_empty() && wanted.iter().all(|t| terms.contains(t)),
                "{typed}"
            );
            let elsewhere = query_terms(&keyring, b.id, typed).unwrap();
            assert!(!elsewhere.iter().any(|t| terms.contains(t)), "{typed} in b");
        }
        for typed in ["Zebulon", "15/07/1948", "0466123457"] {
            let wanted = query_terms(&keyring, a.id, typed).unwrap();
            assert!(!wanted.iter().all(|t| terms.contains(t)), "{typed}");
        }
        assert!(query_terms(&keyring, a.id, "").unwrap().is_empty());
        let refused = query_terms(&keyring, a.id, "Z").unwrap_err();
        assert_eq!(refused.field, "Recherche");
        // A row written without terms (before the search existed) is indexed by the upkeep, once.
        let record = maillage_app::patients::sealed_record(
            &keyring,
            a.id,
            maillage_store::PatientId::new(),
            &identity(),
            1,
        )
        .unwrap();
        store
            .create_patient(&maillage_store::PatientRecord {
                search_terms: Vec::new(),
                ..record.clone()
            })
            .await
            .unwrap();
        assert_eq!(
            index_missing_search_terms(store.as_ref(), &keyring, 10, 100)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            index_missing_search_terms(store.as_ref(), &keyring, 10, 100)
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

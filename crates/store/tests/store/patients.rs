//! Patients as stored: found only inside their CPTS, and the search terms the upkeep writes for rows that
//! have none.

use maillage_store::testing::{for_each_backend, make_cpts};
use maillage_store::*;

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
            search_terms: Vec::new(),
        };
        // Written without terms (as before the search existed): the upkeep finds it, then no more.
        store.create_patient(&record).await.unwrap();
        let unindexed = store.patients_without_search_terms(10).await.unwrap();
        assert!(unindexed.iter().any(|p| p.id == record.id));
        store
            .replace_search_terms(&PatientRecord {
                search_terms: vec!["ab12".into(), "cd34".into()],
                ..record.clone()
            })
            .await
            .unwrap();
        let unindexed = store.patients_without_search_terms(10).await.unwrap();
        assert!(!unindexed.iter().any(|p| p.id == record.id));
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

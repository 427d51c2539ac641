//! What the SAS reads, through its service, on SQLite and PostgreSQL: the practitioners' free slots with their
//! summaries, a past window empty, and nothing answered when the read's audit entry cannot be written.

use crate::common;
use maillage_app::audit::AuditContext;
use maillage_app::clock::{now_ms, DAY_MS, HOUR_MS};
use maillage_app::demo::DEMO_CPTS_SLUG;
use maillage_app::unscheduled_care::sas::{SasReader, SasSearch};
use maillage_app::unscheduled_care::UnscheduledCare;
use maillage_store::testing::{allow_audit_appends, raw_count, refuse_audit_appends};
use maillage_store::{Page, SlotQuery};
use std::sync::Arc;
use uuid::Uuid;

#[tokio::test]
async fn the_sas_reads_its_practitioners_slots_and_nothing_without_its_audit_entry() {
    common::for_each_demo(|store, url| async move {
        let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
        let care = UnscheduledCare::new(store.clone(), keyring, 3);
        let cpts = store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let now = now_ms();
        let free = store
            .search_free_slots(
                cpts.id,
                &SlotQuery {
                    from: now,
                    until: now + 7 * DAY_MS,
                    ..Default::default()
                },
                now,
                Page::first(1),
            )
            .await
            .unwrap();
        let professional = store
            .professional_summaries(cpts.id, &[free[0].professional_id])
            .await
            .unwrap()
            .remove(0);
        let reader = SasReader::with_token(cpts.clone(), Uuid::now_v7(), AuditContext::default());
        let asked = vec![format!("8{}", professional.identifier)];
        let search = SasSearch {
            practitioners: &asked,
            from: now,
            until: now + 7 * DAY_MS,
            count: 1000,
        };
        let answer = care
            .sas_search(&reader, &search, now)
            .await
            .unwrap()
            .remove(0)
            .answer;
        assert!(!answer.slots.is_empty());
        assert!(answer
            .slots
            .iter()
            .all(|s| s.professional_id == professional.id));
        assert_eq!(answer.professionals.len(), 1);
        // A past window: nothing, but still a read.
        let past = SasSearch {
            from: now - 2 * DAY_MS,
            until: now - DAY_MS,
            ..search.clone()
        };
        assert!(care.sas_search(&reader, &past, now).await.unwrap()[0]
            .answer
            .slots
            .is_empty());
        // An unknown practitioner: nothing.
        let nobody = vec!["899999999999".to_string()];
        let unknown = SasSearch {
            practitioners: &nobody,
            ..search.clone()
        };
        assert!(care.sas_search(&reader, &unknown, now).await.unwrap()[0]
            .answer
            .slots
            .is_empty());
        let reads = raw_count(
            &url,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'fhir_slots_read'",
        )
        .await;
        assert!(reads >= 3);
        // Fail closed: the audit refused, no slot, no professional is answered.
        refuse_audit_appends(&url).await;
        assert!(care.sas_search(&reader, &search, now).await.is_err());
        assert!(care
            .sas_slot(&reader, answer.slots[0].id, now)
            .await
            .is_err());
        assert!(care
            .sas_professional(&reader, professional.id)
            .await
            .is_err());
        allow_audit_appends(&url).await;
        let (slot, _, booked, position) = care
            .sas_slot(&reader, answer.slots[0].id, now)
            .await
            .unwrap();
        assert_eq!(slot.id, answer.slots[0].id);
        assert!(!booked);
        assert_eq!(position, answer.place_position(&answer.slots[0]));
        // A slot of the past is not found.
        assert!(care
            .sas_slot(&reader, slot.id, slot.start_at + HOUR_MS)
            .await
            .is_err());
    })
    .await;
}

//! Unscheduled care's dysfunction log, indicators, on-call rota and tokens, on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use super::unscheduled_care::*;
use maillage_domain::unscheduled_care::{Day, SlotKind, WeeklyPattern};
use maillage_store::testing::{for_each_backend, make_cpts};
use maillage_store::*;
use uuid::Uuid;

#[tokio::test]
pub(super) async fn dysfunctions_are_logged_followed_up_and_summed_per_kind() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let other = make_cpts(store.as_ref(), "autre").await;
        let report = |kind: &str, at: i64| SnpDysfunction {
            id: Uuid::now_v7(),
            kind: kind.into(),
            occurred_at: at,
            reported_by: None,
            reporter: "Secrétariat".into(),
            booking_id: None,
            description: "Appel du SAS sans créneau libre à moins de 30 km".into(),
            follow_up: String::new(),
            resolved_at: None,
            created_at: at,
        };
        let first = report("aucun_creneau", 1_000);
        store
            .record_dysfunction(cpts.id, &first, &maillage_store::testing::audit_entry())
            .await
            .unwrap();
        store
            .record_dysfunction(
                cpts.id,
                &report("aucun_creneau", 2_000),
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        store
            .record_dysfunction(
                cpts.id,
                &report("delai_48h", 3_000),
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        store
            .record_dysfunction(
                cpts.id,
                &report("delai_48h", 9_000_000),
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        // A booking of another CPTS cannot be attached.
        let foreign = SnpDysfunction {
            booking_id: Some(Uuid::now_v7()),
            ..report("absence", 4_000)
        };
        assert!(matches!(
            store
                .record_dysfunction(cpts.id, &foreign, &maillage_store::testing::audit_entry())
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(store
            .set_dysfunction_follow_up(
                cpts.id,
                first.id,
                "Appel au Dr X, créneau ajouté",
                Some(5_000),
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(!store
            .set_dysfunction_follow_up(
                other.id,
                first.id,
                "intrus",
                None,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let summary = store.dysfunction_summary(cpts.id, 0, 10_000).await.unwrap();
        assert_eq!(
            summary,
            vec![
                ("aucun_creneau".to_string(), 2, 1),
                ("delai_48h".to_string(), 1, 0)
            ]
        );
        let listed = store
            .list_dysfunctions(cpts.id, 0, 10_000, Page::first(10))
            .await
            .unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[2].follow_up, "Appel au Dr X, créneau ajouté");
        assert!(store
            .list_dysfunctions(other.id, 0, i64::MAX / 2, Page::first(10))
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

/// Books a slot for a patient asked `asked_before` ms before it starts, then records an outcome (if any).
pub(super) async fn book(
    store: &dyn Store,
    cpts: CptsId,
    slot: &SnpSlot,
    asked_before: i64,
    outcome: Option<&str>,
) -> Uuid {
    let now = slot.start_at - asked_before;
    let mut hold = booking(slot.id, now);
    hold.requested_at = now;
    let id = store
        .hold_slot(cpts, &hold, now, &maillage_store::testing::audit_entry())
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .confirm_booking(
            cpts,
            id,
            &patient(cpts),
            &maillage_store::BookingConfirmation {
                origin: "sas",
                reason: "fievre",
                sas_operator: None,
            },
            now,
            &maillage_store::testing::audit_entry()
        )
        .await
        .unwrap());
    if let Some(outcome) = outcome {
        assert!(store
            .record_outcome(
                cpts,
                id,
                outcome,
                slot.start_at,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
    }
    id
}

#[tokio::test]
pub(super) async fn indicators_count_the_slots_offered_booked_and_honoured() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let other = make_cpts(store.as_ref(), "autre").await;
        let gp = professional(store.as_ref(), cpts.id, "10000000001", true, "30003").await;
        let dentist = professional(store.as_ref(), cpts.id, "10000000002", false, "30133").await;
        let pattern = monday_mornings();
        let (from, to) = (
            Day::new(2030, 1, 1).unwrap(),
            Day::new(2030, 12, 31).unwrap(),
        );
        let slots = slots_of(&pattern, from, to);
        store
            .create_pattern(
                cpts.id,
                &stored(&pattern, gp),
                &slots,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        let extra = WeeklyPattern {
            kind: SlotKind::Extra,
            ..monday_mornings()
        };
        store
            .create_pattern(
                cpts.id,
                &stored(&extra, dentist),
                &slots_of(&extra, from, to),
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        let all = store
            .agenda(cpts.id, 0, i64::MAX / 2, None, Page::first(500))
            .await
            .unwrap();
        assert_eq!(all.len(), 64);
        let gp_slots: Vec<SnpSlot> = all
            .iter()
            .filter(|e| e.slot.professional_id == gp)
            .map(|e| e.slot.clone())
            .collect();
        // Seen within 24 h, seen within 48 h, hospitalised after 3 days, one no-show, one without outcome.
        book(store.as_ref(), cpts.id, &gp_slots[0], 2 * HOUR, Some("vu")).await;
        book(store.as_ref(), cpts.id, &gp_slots[1], 30 * HOUR, Some("vu")).await;
        book(
            store.as_ref(),
            cpts.id,
            &gp_slots[2],
            72 * HOUR,
            Some("hospitalise"),
        )
        .await;
        book(store.as_ref(), cpts.id, &gp_slots[3], HOUR, Some("absent")).await;
        let pending = book(store.as_ref(), cpts.id, &gp_slots[4], HOUR, None).await;
        // A cancelled booking does not count; a cancelled slot is not offered.
        let cancelled = book(store.as_ref(), cpts.id, &gp_slots[5], HOUR, None).await;
        assert!(store
            .cancel_booking(
                cpts.id,
                cancelled,
                gp_slots[5].start_at - HOUR,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(store
            .cancel_slot(
                cpts.id,
                gp_slots[6].id,
                0,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        // A booked slot cannot be cancelled while booked, nor a slot of this CPTS from another one.
        assert!(!store
            .cancel_slot(
                cpts.id,
                gp_slots[4].id,
                0,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(!store
            .cancel_slot(
                other.id,
                gp_slots[7].id,
                0,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let f = store.snp_figures(cpts.id, 0, i64::MAX / 2).await.unwrap();
        assert_eq!(
            f,
            SnpFigures {
                offered: 63,
                offered_sas: 31,
                offered_cpts: 0,
                offered_extra: 32,
                booked: 5,
                outcomes: 4,
                honoured: 3,
                no_show: 1,
                within_24h: 1,
                within_48h: 2,
                professionals: 2,
            }
        );
        // Only the period asked: the first Monday holds the first four of the GP's slots.
        let first_monday = store
            .snp_figures(cpts.id, gp_slots[0].start_at, gp_slots[3].end_at)
            .await
            .unwrap();
        assert_eq!((first_monday.offered, first_monday.booked), (8, 4));
        assert_eq!(
            store.snp_figures(other.id, 0, i64::MAX / 2).await.unwrap(),
            SnpFigures::default()
        );
        // The agenda shows the booking of each slot, and one professional's slots only when asked.
        let agenda = store
            .agenda(cpts.id, 0, i64::MAX / 2, Some(gp), Page::first(500))
            .await
            .unwrap();
        assert_eq!(agenda.len(), 32);
        assert_eq!(agenda[4].booking_id, Some(pending));
        assert!(agenda[4].booked_at(0));
        assert!(
            !agenda[5].booked_at(0),
            "the cancelled booking freed the slot"
        );
        assert!(agenda[6].slot.cancelled);
        assert_eq!(agenda[3].outcome.as_deref(), Some("absent"));
    })
    .await;
}

pub(super) fn turn(label: &str, day: &str, professional: Uuid) -> RotaTurn {
    RotaTurn {
        id: Uuid::now_v7(),
        label: label.into(),
        day: day.into(),
        start_minute: 8 * 60,
        end_minute: 12 * 60,
        professional_id: professional,
        created_by: None,
        created_at: 0,
        updated_at: 0,
    }
}

#[tokio::test]
pub(super) async fn the_rota_fills_each_turn_once_and_swaps_in_one_step() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let other = make_cpts(store.as_ref(), "autre").await;
        let a = professional(store.as_ref(), cpts.id, "10000000001", true, "30003").await;
        let b = professional(store.as_ref(), cpts.id, "10000000002", true, "30133").await;
        let stranger = professional(store.as_ref(), other.id, "10000000003", true, "30133").await;
        let turns = vec![
            turn("Samedi matin", "2030-01-05", a),
            turn("Samedi matin", "2030-01-12", b),
            turn("Samedi matin", "2030-01-19", a),
            // Another CPTS's professional is not put on this rota.
            turn("Samedi matin", "2030-01-26", stranger),
        ];
        assert_eq!(
            store
                .create_rota_turns(cpts.id, &turns, &maillage_store::testing::audit_entry())
                .await
                .unwrap(),
            3
        );
        // The same day again is left as it was.
        assert_eq!(
            store
                .create_rota_turns(
                    cpts.id,
                    &[turn("Samedi matin", "2030-01-05", b)],
                    &maillage_store::testing::audit_entry()
                )
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .rota_load(cpts.id, "2030-01-01", "2030-12-31")
                .await
                .unwrap(),
            vec![(a, 2), (b, 1)]
        );
        assert!(store
            .swap_rota_turns(
                cpts.id,
                turns[0].id,
                turns[1].id,
                10,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let listed = store
            .list_rota_turns(
                cpts.id,
                "2030-01-01",
                "2030-01-31",
                &Default::default(),
                Page::first(10),
            )
            .await
            .unwrap();
        let who: Vec<Uuid> = listed.iter().map(|t| t.professional_id).collect();
        assert_eq!(who, vec![b, a, a]);
        // Filtered by the store: one professional's turns, one rota's.
        let only_a = store
            .list_rota_turns(
                cpts.id,
                "2030-01-01",
                "2030-01-31",
                &RotaFilter {
                    label: None,
                    professional: Some(a),
                },
                Page::first(10),
            )
            .await
            .unwrap();
        assert_eq!(only_a.len(), 2);
        assert!(only_a.iter().all(|t| t.professional_id == a));
        assert!(store
            .list_rota_turns(
                cpts.id,
                "2030-01-01",
                "2030-01-31",
                &RotaFilter {
                    label: Some("Dimanche"),
                    professional: None,
                },
                Page::first(10),
            )
            .await
            .unwrap()
            .is_empty());
        assert!(!store
            .swap_rota_turns(
                other.id,
                turns[0].id,
                turns[1].id,
                10,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(!store
            .reassign_rota_turn(
                cpts.id,
                turns[2].id,
                stranger,
                11,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(store
            .reassign_rota_turn(
                cpts.id,
                turns[2].id,
                b,
                11,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert_eq!(
            store
                .rota_load(cpts.id, "2030-01-01", "2030-12-31")
                .await
                .unwrap(),
            vec![(b, 2), (a, 1)]
        );
        assert!(!store
            .delete_rota_turn(
                other.id,
                turns[2].id,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(store
            .delete_rota_turn(
                cpts.id,
                turns[2].id,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(store
            .find_rota_turn(cpts.id, turns[2].id)
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
pub(super) async fn tokens_open_only_while_live_and_are_found_by_their_hash() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let other = make_cpts(store.as_ref(), "autre").await;
        let gp = professional(store.as_ref(), cpts.id, "10000000001", true, "30003").await;
        let token = ApiToken {
            id: Uuid::now_v7(),
            cpts_id: cpts.id,
            name: "Plateforme SAS".into(),
            scope: "fhir:read".into(),
            professional_id: None,
            created_by: None,
            created_at: 1,
            revoked_at: None,
            last_used_at: None,
        };
        store
            .create_token(&token, "hash-1", &maillage_store::testing::audit_entry())
            .await
            .unwrap();
        let used = store.use_token("hash-1", 50).await.unwrap().unwrap();
        assert_eq!((used.id, used.last_used_at), (token.id, Some(50)));
        assert!(store.use_token("hash-2", 50).await.unwrap().is_none());
        let feed = ApiToken {
            id: Uuid::now_v7(),
            scope: "ical".into(),
            professional_id: Some(gp),
            ..token.clone()
        };
        store
            .create_token(&feed, "hash-feed", &maillage_store::testing::audit_entry())
            .await
            .unwrap();
        // A feed for a professional of another CPTS is refused.
        let foreign = ApiToken {
            id: Uuid::now_v7(),
            cpts_id: other.id,
            ..feed.clone()
        };
        assert!(store
            .create_token(&foreign, "hash-x", &maillage_store::testing::audit_entry())
            .await
            .is_err());
        assert_eq!(
            store
                .list_tokens(cpts.id, "fhir:read", Page::first(10))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(!store
            .revoke_token(
                other.id,
                token.id,
                60,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(store
            .revoke_token(
                cpts.id,
                token.id,
                60,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(store.use_token("hash-1", 70).await.unwrap().is_none());
        assert_eq!(
            store
                .revoke_professional_tokens(cpts.id, gp, "ical", 80)
                .await
                .unwrap(),
            1
        );
        assert!(store.use_token("hash-feed", 90).await.unwrap().is_none());
    })
    .await;
}

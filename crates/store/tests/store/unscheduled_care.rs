//! Unscheduled-care storage on SQLite and PostgreSQL: patterns publish their slots once, searches return
//! free slots only, and a slot is never booked twice — even by many people at the same instant.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use maillage_domain::unscheduled_care::{Day, Modality, SlotKind, WeeklyPattern};
use maillage_store::testing::{for_each_backend, make_cpts};
use maillage_store::*;
use std::sync::Arc;
use uuid::Uuid;

const HOUR: i64 = 3_600_000;

fn place(commune: &str) -> PracticePlace {
    PracticePlace {
        name: "Cabinet d'essai".into(),
        siret: String::new(),
        finess: String::new(),
        address: "1 rue d'essai".into(),
        postal_code: "30220".into(),
        commune_code: commune.into(),
        phone: String::new(),
        email: String::new(),
    }
}

async fn professional(
    store: &dyn Store,
    cpts: CptsId,
    rpps: &str,
    gp: bool,
    commune: &str,
) -> Uuid {
    let imported = ImportedProfessional {
        national_id: format!("8{rpps}"),
        id_kind: "8".into(),
        identifier: rpps.into(),
        checksum_ok: true,
        civility: "Dr".into(),
        last_name: format!("ESSAI{rpps}"),
        first_name: "Camille".into(),
        profession_code: if gp { "10".into() } else { "40".into() },
        profession_label: if gp {
            "Médecin".into()
        } else {
            "Chirurgien-dentiste".into()
        },
        specialty: String::new(),
        practice_mode: "L".into(),
        places: vec![place(commune)],
        search_text: "essai".into(),
        content_hash: format!("hash{rpps}"),
        general_practitioner: gp,
    };
    store
        .upsert_professionals(cpts, &[imported], None, 0)
        .await
        .unwrap();
    store
        .search_professionals(cpts, &DirectoryQuery::default(), Page::first(50))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.identifier == rpps)
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("professional {rpps} not found"))
}

fn slots_of(pattern: &WeeklyPattern, from: Day, to: Day) -> Vec<NewSlot> {
    pattern
        .slots_between(from, to)
        .into_iter()
        .map(|s| NewSlot {
            start_at: s.start_ms,
            end_at: s.end_ms,
            kind: pattern.kind.code().into(),
            modality: pattern.modality.code().into(),
            place: String::new(),
        })
        .collect()
}

fn monday_mornings() -> WeeklyPattern {
    WeeklyPattern {
        weekday: 1,
        start_minute: 8 * 60,
        end_minute: 10 * 60,
        slot_minutes: 30,
        kind: SlotKind::Sas,
        modality: Modality::Office,
        valid_from: Day::new(2030, 1, 7).unwrap(),
        valid_until: Some(Day::new(2030, 2, 25).unwrap()),
        exceptions: vec![],
        skip_public_holidays: true,
    }
}

fn stored(pattern: &WeeklyPattern, professional: Uuid) -> SnpPattern {
    SnpPattern {
        id: Uuid::now_v7(),
        professional_id: professional,
        weekday: i64::from(pattern.weekday),
        start_minute: i64::from(pattern.start_minute),
        end_minute: i64::from(pattern.end_minute),
        slot_minutes: i64::from(pattern.slot_minutes),
        kind: pattern.kind.code().into(),
        modality: pattern.modality.code().into(),
        place: String::new(),
        valid_from: "2030-01-07".into(),
        valid_until: Some("2030-02-25".into()),
        exceptions: String::new(),
        skip_holidays: true,
        created_by: None,
        created_at: 0,
    }
}

fn booking(slot: Uuid, now: i64) -> NewBooking {
    NewBooking {
        id: Uuid::now_v7(),
        slot_id: slot,
        origin: "secretariat".into(),
        reason: "fievre".into(),
        requested_at: now,
        booked_by: None,
        held_until: now + 5 * 60_000,
    }
}

fn patient(cpts: CptsId) -> PatientRecord {
    PatientRecord {
        id: PatientId::new(),
        cpts_id: cpts,
        identity: vec![1, 2, 3],
        key_id: "k".into(),
        blind_index: "index".into(),
        created_at: 0,
        updated_at: 0,
    }
}

#[tokio::test]
async fn a_weekly_pattern_publishes_its_slots_once_and_searches_see_free_ones() {
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
        assert_eq!(slots.len(), 8 * 4, "eight Mondays of four slots");
        assert_eq!(
            store
                .create_pattern(
                    cpts.id,
                    &stored(&pattern, gp),
                    &slots,
                    &maillage_store::testing::audit_entry()
                )
                .await
                .unwrap(),
            32
        );
        // The same pattern again: nothing doubles.
        assert_eq!(
            store
                .create_pattern(
                    cpts.id,
                    &stored(&pattern, gp),
                    &slots,
                    &maillage_store::testing::audit_entry()
                )
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.list_patterns(cpts.id, gp).await.unwrap().len(), 2);
        // A professional of another CPTS cannot be given slots here.
        assert!(matches!(
            store
                .create_pattern(
                    other.id,
                    &stored(&pattern, gp),
                    &slots,
                    &maillage_store::testing::audit_entry()
                )
                .await,
            Err(StoreError::NotFound(_))
        ));
        let start = slots[0].start_at;
        let extra = NewSlot {
            start_at: start + 30 * 60_000 * 10,
            end_at: start + 30 * 60_000 * 11,
            kind: "cpts".into(),
            modality: "domicile".into(),
            place: String::new(),
        };
        assert_eq!(
            store
                .publish_slots(
                    cpts.id,
                    dentist,
                    &[extra],
                    0,
                    &maillage_store::testing::audit_entry()
                )
                .await
                .unwrap(),
            1
        );

        let all = SlotQuery {
            from: start - HOUR,
            until: start + 400 * 24 * HOUR,
            ..Default::default()
        };
        let found = store
            .search_free_slots(cpts.id, &all, start - HOUR, Page::first(100))
            .await
            .unwrap();
        assert_eq!(found.len(), 33);
        assert!(
            found.windows(2).all(|w| w[0].start_at <= w[1].start_at),
            "earliest first"
        );
        assert_eq!(found[0].profession_code, "MG");
        assert_eq!(found[0].commune_code, "30003");
        let gps = SlotQuery {
            profession: Some("MG".into()),
            kinds: vec!["sas".into()],
            ..all.clone()
        };
        assert_eq!(
            store
                .search_free_slots(cpts.id, &gps, start - HOUR, Page::first(100))
                .await
                .unwrap()
                .len(),
            32
        );
        let home = SlotQuery {
            modality: Some("domicile".into()),
            communes: vec!["30133".into()],
            ..all.clone()
        };
        let visits = store
            .search_free_slots(cpts.id, &home, start - HOUR, Page::first(100))
            .await
            .unwrap();
        assert_eq!(visits.len(), 1);
        assert_eq!(visits[0].professional_id, dentist);
        let theirs = SlotQuery {
            professional: Some(dentist),
            ..all.clone()
        };
        let of_dentist = store
            .search_free_slots(cpts.id, &theirs, start - HOUR, Page::first(100))
            .await
            .unwrap();
        assert_eq!(of_dentist.len(), 1);
        assert!(of_dentist.iter().all(|s| s.professional_id == dentist));
        assert!(store
            .search_free_slots(other.id, &all, start - HOUR, Page::first(100))
            .await
            .unwrap()
            .is_empty());

        // Held, the slot leaves the search; confirmed, it stays out; cancelled, it comes back.
        let slot = found[0].id;
        let now = start - 2 * HOUR;
        let held = store
            .hold_slot(
                cpts.id,
                &booking(slot, now),
                now,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap()
            .unwrap();
        let free = |at| {
            let store = store.clone();
            let all = all.clone();
            async move {
                store
                    .search_free_slots(cpts.id, &all, at, Page::first(100))
                    .await
                    .unwrap()
                    .iter()
                    .any(|s| s.id == slot)
            }
        };
        assert!(!free(now).await);
        assert!(store
            .confirm_booking(
                cpts.id,
                held,
                &patient(cpts.id),
                "secretariat",
                "fievre",
                now + 60_000,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        assert!(
            !free(now + 10 * HOUR).await,
            "a confirmed booking does not expire"
        );
        assert!(store
            .record_outcome(
                cpts.id,
                held,
                "vu",
                now + 3 * HOUR,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let stored_booking = store.find_booking(cpts.id, held).await.unwrap().unwrap();
        assert_eq!(
            (
                stored_booking.status.as_str(),
                stored_booking.outcome.as_deref()
            ),
            ("confirmed", Some("vu"))
        );
        assert!(
            !store
                .cancel_booking(cpts.id, held, now, &maillage_store::testing::audit_entry())
                .await
                .unwrap(),
            "a visit that happened is not cancelled"
        );
        let second = found[1].id;
        let held = store
            .hold_slot(
                cpts.id,
                &booking(second, now),
                now,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(store
            .cancel_booking(cpts.id, held, now, &maillage_store::testing::audit_entry())
            .await
            .unwrap());
        assert!(store
            .search_free_slots(cpts.id, &all, now, Page::first(100))
            .await
            .unwrap()
            .iter()
            .any(|s| s.id == second));
        assert!(store.find_booking(other.id, held).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn an_expired_hold_frees_the_slot_and_cannot_be_confirmed() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let gp = professional(store.as_ref(), cpts.id, "10000000001", true, "30003").await;
        let slots = slots_of(
            &monday_mornings(),
            Day::new(2030, 1, 1).unwrap(),
            Day::new(2030, 1, 31).unwrap(),
        );
        store
            .publish_slots(
                cpts.id,
                gp,
                &slots[..1],
                0,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        let all = SlotQuery {
            from: 0,
            until: i64::MAX / 2,
            ..Default::default()
        };
        let slot = store
            .search_free_slots(cpts.id, &all, 0, Page::first(10))
            .await
            .unwrap()[0]
            .id;
        let first = store
            .hold_slot(
                cpts.id,
                &booking(slot, 0),
                0,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            store
                .hold_slot(
                    cpts.id,
                    &booking(slot, 60_000),
                    60_000,
                    &maillage_store::testing::audit_entry()
                )
                .await
                .unwrap(),
            None,
            "held by someone else"
        );
        // Ten minutes later the five-minute hold has lapsed: another person may hold the slot.
        let later = 10 * 60_000;
        assert!(!store
            .confirm_booking(
                cpts.id,
                first,
                &patient(cpts.id),
                "secretariat",
                "fievre",
                later,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let second = store
            .hold_slot(
                cpts.id,
                &booking(slot, later),
                later,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(store
            .confirm_booking(
                cpts.id,
                second,
                &patient(cpts.id),
                "secretariat",
                "fievre",
                later,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let history: Vec<String> = store
            .bookings_of_slot(cpts.id, slot)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.status)
            .collect();
        assert_eq!(history, ["expired", "confirmed"]);
        // Unknown slot: not found, not "taken".
        assert!(matches!(
            store
                .hold_slot(
                    cpts.id,
                    &booking(Uuid::now_v7(), 0),
                    0,
                    &maillage_store::testing::audit_entry()
                )
                .await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn many_people_booking_one_slot_at_once_get_exactly_one_booking() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let gp = professional(store.as_ref(), cpts.id, "10000000001", true, "30003").await;
        let slots = slots_of(
            &monday_mornings(),
            Day::new(2030, 1, 1).unwrap(),
            Day::new(2030, 3, 31).unwrap(),
        );
        store
            .publish_slots(
                cpts.id,
                gp,
                &slots,
                0,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        let all = SlotQuery {
            from: 0,
            until: i64::MAX / 2,
            ..Default::default()
        };
        let free = store
            .search_free_slots(cpts.id, &all, 0, Page::first(100))
            .await
            .unwrap();
        for (round, slot) in free.iter().take(5).enumerate() {
            let slot = slot.id;
            let barrier = Arc::new(tokio::sync::Barrier::new(16));
            let mut attempts = Vec::new();
            for _ in 0..16 {
                let (store, barrier) = (store.clone(), barrier.clone());
                attempts.push(tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .hold_slot(
                            cpts.id,
                            &booking(slot, 0),
                            0,
                            &maillage_store::testing::audit_entry(),
                        )
                        .await
                }));
            }
            let mut won = 0;
            for attempt in attempts {
                match attempt.await.unwrap() {
                    Ok(Some(_)) => won += 1,
                    Ok(None) => {}
                    Err(error) => {
                        panic!("a refused booking must be told apart from an error: {error}")
                    }
                }
            }
            assert_eq!(won, 1, "round {round}: exactly one booking wins");
            let live = store
                .bookings_of_slot(cpts.id, slot)
                .await
                .unwrap()
                .into_iter()
                .filter(|b| b.status == "held")
                .count();
            assert_eq!(live, 1);
        }
    })
    .await;
}

#[tokio::test]
async fn dysfunctions_are_logged_followed_up_and_summed_per_kind() {
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
async fn book(
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
            "sas",
            "fievre",
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
async fn indicators_count_the_slots_offered_booked_and_honoured() {
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

fn turn(label: &str, day: &str, professional: Uuid) -> RotaTurn {
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
async fn the_rota_fills_each_turn_once_and_swaps_in_one_step() {
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
async fn tokens_open_only_while_live_and_are_found_by_their_hash() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "snp").await;
        let other = make_cpts(store.as_ref(), "autre").await;
        let gp = professional(store.as_ref(), cpts.id, "10000000001", true, "30003").await;
        let token = ApiToken {
            id: Uuid::now_v7(),
            cpts_id: cpts.id.0,
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
            cpts_id: other.id.0,
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

//! Unscheduled-care storage on SQLite and PostgreSQL: patterns publish their slots once, searches return
//! free slots only, and a slot is never booked twice — even by many people at the same instant.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use maillage_domain::unscheduled_care::{Day, Modality, SlotKind, WeeklyPattern};

use maillage_store::testing::{for_each_backend, make_cpts};

use maillage_store::*;

use std::sync::Arc;

use uuid::Uuid;

pub(super) const HOUR: i64 = 3_600_000;

pub(super) fn place(commune: &str) -> PracticePlace {
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

pub(super) async fn professional(
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

pub(super) fn slots_of(pattern: &WeeklyPattern, from: Day, to: Day) -> Vec<NewSlot> {
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

pub(super) fn monday_mornings() -> WeeklyPattern {
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

pub(super) fn stored(pattern: &WeeklyPattern, professional: Uuid) -> SnpPattern {
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

pub(super) fn booking(slot: Uuid, now: i64) -> NewBooking {
    NewBooking {
        id: Uuid::now_v7(),
        slot_id: slot,
        origin: "secretariat".into(),
        reason: "fievre".into(),
        requested_at: now,
        booked_by: None,
        held_until: now + 5 * 60_000,
        max_live_holds: None,
    }
}

pub(super) fn patient(cpts: CptsId) -> PatientRecord {
    PatientRecord {
        id: PatientId::new(),
        cpts_id: cpts,
        identity: vec![1, 2, 3],
        key_id: "k".into(),
        blind_index: "index".into(),
        created_at: 0,
        updated_at: 0,
        search_terms: vec!["5e".into()],
    }
}

#[tokio::test]
pub(super) async fn a_weekly_pattern_publishes_its_slots_once_and_searches_see_free_ones() {
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
                &maillage_store::BookingConfirmation {
                    origin: "secretariat",
                    reason: "fievre",
                    sas_operator: None,
                },
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
                stored_booking.status.code(),
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
pub(super) async fn an_expired_hold_frees_the_slot_and_cannot_be_confirmed() {
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
                &maillage_store::BookingConfirmation {
                    origin: "secretariat",
                    reason: "fievre",
                    sas_operator: None,
                },
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
                &maillage_store::BookingConfirmation {
                    origin: "secretariat",
                    reason: "fievre",
                    sas_operator: None,
                },
                later,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let history: Vec<&str> = store
            .bookings_of_slot(cpts.id, slot)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.status.code())
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
pub(super) async fn many_people_booking_one_slot_at_once_get_exactly_one_booking() {
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
                .filter(|b| b.status == maillage_domain::unscheduled_care::BookingStatus::Held)
                .count();
            assert_eq!(live, 1);
        }
    })
    .await;
}

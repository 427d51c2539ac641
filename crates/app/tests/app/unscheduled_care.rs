//! Unscheduled care through its services, on SQLite and PostgreSQL: single slots and their refusals, the
//! professional told by e-mail when a patient books and when the booking is cancelled (never any health data),
//! the rota shared by the year's load and changed in one audited step, and tokens that open only their scope
//! until revoked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;
use common::deliver_mail;

use maillage_app::caller::Caller;
use maillage_app::clock::{now_ms, DAY_MS, HOUR_MS};
use maillage_app::crypto::PatientIdentity;
use maillage_app::demo::{DEMO_CPTS_SLUG, OTHER_DEMO_CPTS_SLUG};
use maillage_app::tokens::{self, TokenError, CALENDAR_SCOPE, FHIR_SCOPE};
use maillage_app::unscheduled_care::{CareError, RotaRequest, TurnChange, UnscheduledCare};
use maillage_domain::unscheduled_care::{utc_to_paris, BookingOrigin, Modality, SlotKind};
use maillage_store::testing::{raw_count, refuse_audit_appends};
use maillage_store::{AuditFilter, AuditScope, Cpts, Page, Store};
use std::sync::Arc;
use uuid::Uuid;

async fn setup(store: &Arc<dyn Store>) -> (UnscheduledCare, Cpts, Uuid) {
    let config = &common::demo().await.1;
    let keyring = Arc::new(config.keyring().unwrap());
    let cpts = store
        .find_cpts_by_slug(DEMO_CPTS_SLUG)
        .await
        .unwrap()
        .unwrap();
    let user = store
        .find_user_by_email("dr.fabre@camargue.test")
        .await
        .unwrap()
        .unwrap();
    let gp = store
        .membership(cpts.id, user.id)
        .await
        .unwrap()
        .and_then(|(_, record)| record)
        .unwrap();
    (UnscheduledCare::new(store.clone(), keyring, 3), cpts, gp)
}

async fn audited(store: &Arc<dyn Store>, cpts: &Cpts, action: &str) -> usize {
    store
        .list_audit(
            AuditScope::Cpts(cpts.id),
            &AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            Page::first(100),
        )
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_single_slot_is_booked_then_cancelled_and_the_professional_is_told_each_time() {
    common::for_each_demo(|store, _url| async move {
        let (care, cpts, gp) = setup(&store).await;
        let caller = Caller::command_line(cpts.id);
        let start = now_ms() + 3 * DAY_MS + 7 * HOUR_MS;
        let publish = |at: i64, minutes: i64| {
            care.publish_slot(
                &caller,
                gp,
                at,
                minutes,
                SlotKind::Sas,
                Modality::Video,
                "",
            )
        };
        assert!(matches!(publish(now_ms() - 1, 20).await, Err(CareError::Invalid(e)) if e.field == "Début"));
        assert!(matches!(publish(start, 2).await, Err(CareError::Invalid(e)) if e.field == "Durée"));
        assert!(publish(start, 20).await.unwrap());
        assert!(!publish(start, 20).await.unwrap(), "one slot per start time");
        let slot = store
            .agenda(cpts.id, start, start + 1, Some(gp), Page::first(1))
            .await
            .unwrap()[0]
            .slot
            .clone();
        let booking = care
            .hold(&caller, slot.id, BookingOrigin::SasRegulation, "fievre", now_ms())
            .await
            .unwrap()
            .unwrap();
        let identity = PatientIdentity {
            family_name: "Essai-Annule".into(),
            given_names: "Lou".into(),
            birth_date: "1990-02-02".into(),
            phone: Some("0611223344".into()),
            ..Default::default()
        };
        assert!(care
            .confirm(&caller, booking, &identity, BookingOrigin::SasRegulation, "fievre", None)
            .await
            .unwrap());
        assert!(care.cancel(&caller, booking).await.unwrap());
        let mails: Vec<_> = deliver_mail(&store)
            .await
            .into_iter()
            .filter(|m| m.recipient == "dr.fabre@camargue.test")
            .collect();
        assert!(mails.iter().any(|m| m.subject.contains("a réservé")));
        let cancelled = mails
            .iter()
            .find(|m| m.subject.contains("annulée"))
            .expect("the cancellation e-mail");
        assert!(cancelled.body.contains(&maillage_app::unscheduled_care::french_slot_time(start)));
        for mail in &mails {
            assert!(!mail.body.contains("Essai-Annule") && !mail.body.contains("Fièvre"));
        }
        // The slot is free again, then withdrawn.
        assert!(care.cancel_slot(&caller, slot.id).await.unwrap());
        assert_eq!(audited(&store, &cpts, "snp_slot_cancelled").await, 1);
        assert_eq!(audited(&store, &cpts, "snp_slots_published").await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_rota_is_shared_by_the_years_load_and_changed_in_one_audited_step() {
    common::for_each_demo(|store, _url| async move {
        let (care, cpts, gp) = setup(&store).await;
        let caller = Caller::command_line(cpts.id);
        let others: Vec<Uuid> = store
            .search_professionals(cpts.id, &Default::default(), Page::first(3))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .filter(|id| *id != gp)
            .take(2)
            .collect();
        let today = utc_to_paris(now_ms()).0;
        let request = RotaRequest {
            label: "Jeudi soir".into(),
            weekday: 4,
            start_minute: 18 * 60,
            end_minute: 22 * 60,
            from: today,
            to: today.plus_days(7 * 12 - 1),
            skip_public_holidays: false,
            professionals: vec![gp, others[0], others[1]],
            profession: None,
        };
        assert_eq!(care.build_rota(&caller, &request).await.unwrap(), 12);
        // Again: every Thursday is covered, nothing changes.
        assert_eq!(care.build_rota(&caller, &request).await.unwrap(), 0);
        let year = today.year;
        let load = |store: Arc<dyn Store>| async move {
            store
                .list_rota_turns(cpts.id, "2000-01-01", "9999-12-31", &Default::default(), Page::first(500))
                .await
                .unwrap()
                .into_iter()
                .filter(|t| t.label == "Jeudi soir")
                .collect::<Vec<_>>()
        };
        let turns = load(store.clone()).await;
        assert_eq!(turns.len(), 12);
        assert!(turns.windows(2).all(|w| w[0].professional_id != w[1].professional_id));
        // The demo's Saturday turns count: the year's load ends up even (within one turn).
        let totals: Vec<i64> = {
            let load = store
                .rota_load(
                    cpts.id,
                    &format!("{year:04}-01-01"),
                    &format!("{:04}-12-31", request.to.year),
                )
                .await
                .unwrap();
            [gp, others[0], others[1]]
                .iter()
                .map(|who| load.iter().find(|(id, _)| id == who).map_or(0, |(_, n)| *n))
                .collect()
        };
        let (min, max) = (totals.iter().min().unwrap(), totals.iter().max().unwrap());
        assert!(max - min <= 1, "{totals:?}");
        // Refusals name their field (a blank name is the day's and hour's, a name too long is refused).
        let bad = RotaRequest {
            label: "x".repeat(81),
            ..request.clone()
        };
        assert!(matches!(care.build_rota(&caller, &bad).await, Err(CareError::Invalid(e)) if e.field == "Nom du tableau"));
        let nobody = RotaRequest {
            professionals: vec![],
            ..request.clone()
        };
        assert!(matches!(care.build_rota(&caller, &nobody).await, Err(CareError::Invalid(e)) if e.field == "Professionnels"));
        // A swap exchanges the two professionals at once; giving and removing work on this CPTS only.
        let (a, b) = (&turns[0], &turns[1]);
        assert!(care
            .change_turn(&caller, a.id, TurnChange::SwapWith(b.id))
            .await
            .unwrap());
        let after = load(store.clone()).await;
        assert_eq!(after[0].professional_id, b.professional_id);
        assert_eq!(after[1].professional_id, a.professional_id);
        let other = store
            .find_cpts_by_slug(OTHER_DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        assert!(!care
            .change_turn(&Caller::command_line(other.id), a.id, TurnChange::Remove)
            .await
            .unwrap());
        assert!(care
            .change_turn(&caller, a.id, TurnChange::Remove)
            .await
            .unwrap());
        assert_eq!(audited(&store, &cpts, "snp_rota_changed").await, 2);
        assert!(audited(&store, &cpts, "snp_rota_built").await >= 2);
    })
    .await;
}

#[tokio::test]
async fn tokens_open_their_scope_only_until_revoked() {
    common::for_each_demo(|store, _url| async move {
        let (_care, cpts, gp) = setup(&store).await;
        let caller = Caller::command_line(cpts.id);
        let s = store.as_ref();
        assert!(matches!(tokens::issue(s, &caller, "", FHIR_SCOPE, None).await, Err(TokenError::Refused(m)) if m.starts_with("Nom du jeton")));
        assert!(matches!(tokens::issue(s, &caller, "x", "admin", None).await, Err(TokenError::Refused(m)) if m.starts_with("Portée")));
        assert!(matches!(tokens::issue(s, &caller, "x", CALENDAR_SCOPE, None).await, Err(TokenError::Refused(m)) if m.starts_with("Professionnel")));
        let fhir = tokens::issue(s, &caller, "SAS", FHIR_SCOPE, None).await.unwrap();
        assert!(fhir.starts_with("mlg_") && fhir.len() == 68);
        let found = tokens::authenticate(s, &fhir, FHIR_SCOPE).await.unwrap().unwrap();
        assert_eq!(found.cpts_id, cpts.id);
        assert!(tokens::authenticate(s, &fhir, CALENDAR_SCOPE).await.unwrap().is_none());
        assert!(tokens::authenticate(s, "mlg_faux", FHIR_SCOPE).await.unwrap().is_none());
        assert!(tokens::authenticate(s, &fhir.replace("mlg_", "xyz_"), FHIR_SCOPE).await.unwrap().is_none());
        let first = tokens::issue(s, &caller, "Agenda", CALENDAR_SCOPE, Some(gp)).await.unwrap();
        let second = tokens::issue(s, &caller, "Agenda", CALENDAR_SCOPE, Some(gp)).await.unwrap();
        assert!(tokens::authenticate(s, &first, CALENDAR_SCOPE).await.unwrap().is_none(), "replaced");
        assert!(tokens::authenticate(s, &second, CALENDAR_SCOPE).await.unwrap().is_some());
        assert!(tokens::revoke(s, &caller, found.id).await.unwrap());
        assert!(!tokens::revoke(s, &caller, found.id).await.unwrap());
        assert!(tokens::authenticate(s, &fhir, FHIR_SCOPE).await.unwrap().is_none());
        assert_eq!(audited(&store, &cpts, "api_token_issued").await, 3);
        assert_eq!(audited(&store, &cpts, "api_token_revoked").await, 1);
    })
    .await;
}

/// A slot of `gp` in three days, published by the coordination.
async fn slot_of(
    care: &UnscheduledCare,
    store: &Arc<dyn Store>,
    cpts: &Cpts,
    gp: Uuid,
    hour: i64,
) -> Uuid {
    let start = now_ms() + 3 * DAY_MS + hour * HOUR_MS;
    assert!(care
        .publish_slot(
            &Caller::command_line(cpts.id),
            gp,
            start,
            20,
            SlotKind::Sas,
            Modality::Office,
            ""
        )
        .await
        .unwrap());
    store
        .agenda(cpts.id, start, start + 1, Some(gp), Page::first(1))
        .await
        .unwrap()[0]
        .slot
        .id
}

async fn caller_of(store: &Arc<dyn Store>, cpts: &Cpts, email: &str) -> Caller {
    let user = store.find_user_by_email(email).await.unwrap().unwrap();
    Caller::resolve(
        store.as_ref(),
        user.id,
        cpts.id,
        &maillage_app::audit::AuditContext::default(),
    )
    .await
    .unwrap()
    .expect("a role in the CPTS")
}

/// Holds `slot` for a patient with a fever.
async fn hold_for(
    care: &UnscheduledCare,
    caller: &Caller,
    slot: Uuid,
    origin: BookingOrigin,
) -> Uuid {
    care.hold(caller, slot, origin, "fievre", now_ms())
        .await
        .unwrap()
        .unwrap()
}

/// Confirms a hold with [`patient`]; whether it was still live.
async fn confirm_for(
    care: &UnscheduledCare,
    caller: &Caller,
    booking: Uuid,
    origin: BookingOrigin,
) -> bool {
    care.confirm(caller, booking, &patient(), origin, "fievre", None)
        .await
        .unwrap()
}

fn patient() -> PatientIdentity {
    PatientIdentity {
        family_name: "Essai-Droits".into(),
        given_names: "Noa".into(),
        birth_date: "1991-03-03".into(),
        phone: Some("0611223355".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_member_handles_only_the_bookings_they_made_or_on_their_own_slots() {
    common::for_each_demo(|store, _url| async move {
        let (care, cpts, gp) = setup(&store).await;
        let member = caller_of(&store, &cpts, "dr.fabre@camargue.test").await;
        let secretary = caller_of(&store, &cpts, "secretariat@camargue.test").await;
        assert_eq!(member.professional(), Some(gp));
        // Another GP of the demo, whose slot the secretariat holds: not the member's business.
        let other_gp = store
            .search_free_slots(
                cpts.id,
                &maillage_store::SlotQuery {
                    from: now_ms(),
                    until: now_ms() + 28 * DAY_MS,
                    ..Default::default()
                },
                now_ms(),
                Page::first(200),
            )
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.professional_id)
            .find(|p| *p != gp)
            .expect("a second GP with slots in the demo");
        let theirs = slot_of(&care, &store, &cpts, other_gp, 7).await;
        let held = hold_for(&care, &secretary, theirs, BookingOrigin::CptsSecretary).await;
        let refused = |r: Result<bool, CareError>| matches!(r, Err(CareError::NotFound));
        assert!(refused(
            care.confirm(
                &member,
                held,
                &patient(),
                BookingOrigin::CptsSecretary,
                "fievre",
                None
            )
            .await
        ));
        assert!(matches!(
            care.booking(&member, held).await,
            Err(CareError::NotFound)
        ));
        assert!(refused(care.cancel(&member, held).await));
        assert!(refused(care.cancel_slot(&member, theirs).await));
        // The secretariat confirms it; the member still cannot record its outcome nor cancel it.
        assert!(confirm_for(&care, &secretary, held, BookingOrigin::CptsSecretary).await);
        assert!(refused(
            care.record_outcome(
                &member,
                held,
                maillage_domain::unscheduled_care::Outcome::NoShow
            )
            .await
        ));
        assert!(refused(care.cancel(&member, held).await));
        assert_eq!(
            store
                .find_booking(cpts.id, held)
                .await
                .unwrap()
                .unwrap()
                .status,
            maillage_domain::unscheduled_care::BookingStatus::Confirmed
        );
        // A booking on the member's own slot, made by the secretariat, and one the member made: theirs.
        let own = slot_of(&care, &store, &cpts, gp, 9).await;
        let on_own = hold_for(&care, &secretary, own, BookingOrigin::CptsSecretary).await;
        assert!(care.booking(&member, on_own).await.is_ok());
        assert!(care.cancel(&member, on_own).await.unwrap());
        let other = slot_of(&care, &store, &cpts, other_gp, 11).await;
        let made = hold_for(&care, &member, other, BookingOrigin::MemberReferral).await;
        assert!(confirm_for(&care, &member, made, BookingOrigin::MemberReferral).await);
        let (_, _, identity) = care.booking(&member, made).await.unwrap();
        assert_eq!(identity.unwrap().family_name, "Essai-Droits");
        // Rota and dysfunction follow-up are the coordination's.
        assert!(matches!(
            care.change_turn(&member, Uuid::now_v7(), TurnChange::Remove)
                .await,
            Err(CareError::NotFound)
        ));
        let id = care
            .report_dysfunction(
                &member,
                "Dr Fabre",
                maillage_domain::unscheduled_care::DysfunctionKind::NoSlotFound,
                "Aucun créneau samedi",
            )
            .await
            .unwrap();
        assert!(matches!(
            care.follow_up_dysfunction(&member, id, "vu", true).await,
            Err(CareError::NotFound)
        ));
        care.follow_up_dysfunction(&Caller::command_line(cpts.id), id, "vu", true)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_change_whose_audit_entry_cannot_be_written_is_refused_whole() {
    common::for_each_demo(|store, url| async move {
        let (care, cpts, gp) = setup(&store).await;
        let coordination = Caller::command_line(cpts.id);
        let slot = slot_of(&care, &store, &cpts, gp, 7).await;
        let booked = hold_for(&care, &coordination, slot, BookingOrigin::CptsSecretary).await;
        assert!(confirm_for(&care, &coordination, booked, BookingOrigin::CptsSecretary).await);
        let slots = raw_count(&url, "SELECT COUNT(*) FROM snp_slots").await;
        let bookings = raw_count(&url, "SELECT COUNT(*) FROM snp_bookings").await;
        let entries = raw_count(&url, "SELECT COUNT(*) FROM audit_log").await;
        let free = slot_of(&care, &store, &cpts, gp, 9).await;
        refuse_audit_appends(&url).await;
        // Publishing, holding, cancelling, withdrawing: each refused, nothing written.
        let start = now_ms() + 4 * DAY_MS;
        assert!(care
            .publish_slot(
                &coordination,
                gp,
                start,
                20,
                SlotKind::Sas,
                Modality::Office,
                ""
            )
            .await
            .is_err());
        assert!(care
            .hold(
                &coordination,
                free,
                BookingOrigin::CptsSecretary,
                "fievre",
                now_ms()
            )
            .await
            .is_err());
        assert!(care.cancel(&coordination, booked).await.is_err());
        assert!(care.cancel_slot(&coordination, free).await.is_err());
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM snp_slots").await,
            slots + 1
        );
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM snp_bookings").await,
            bookings
        );
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM audit_log").await,
            entries + 1
        );
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM snp_slots WHERE cancelled = TRUE"
            )
            .await,
            0
        );
        assert_eq!(
            store
                .find_booking(cpts.id, booked)
                .await
                .unwrap()
                .unwrap()
                .status,
            maillage_domain::unscheduled_care::BookingStatus::Confirmed
        );
        // A read of the patient's identity whose audit cannot be written shows nothing.
        assert!(care.booking(&coordination, booked).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn one_person_holds_at_most_the_configured_number_of_slots_at_once() {
    common::for_each_demo(|store, engine| async move {
        let (care, cpts, gp) = setup(&store).await;
        let care = care.with_max_live_holds(3);
        let member = caller_of(&store, &cpts, "dr.fabre@camargue.test").await;
        let mut slots = Vec::new();
        for hour in 8..13 {
            slots.push(slot_of(&care, &store, &cpts, gp, hour).await);
        }
        let mut held = Vec::new();
        for slot in &slots[..3] {
            held.push(hold_for(&care, &member, *slot, BookingOrigin::MemberReferral).await);
        }
        let fourth = care
            .hold(
                &member,
                slots[3],
                BookingOrigin::MemberReferral,
                "fievre",
                now_ms(),
            )
            .await;
        match fourth {
            Err(CareError::Refused(message)) => {
                assert!(
                    message.contains("Vous retenez déjà 3 créneaux"),
                    "{engine}: {message}"
                )
            }
            other => panic!("{engine}: a fourth hold was {other:?}"),
        }
        assert_eq!(
            store
                .bookings_of_slot(cpts.id, slots[3])
                .await
                .unwrap()
                .len(),
            0,
            "{engine}: nothing written"
        );
        // Another person is not held back by this one's holds.
        let secretary = caller_of(&store, &cpts, "secretariat@camargue.test").await;
        hold_for(&care, &secretary, slots[3], BookingOrigin::CptsSecretary).await;
        // Once one hold is cancelled, the member may hold again.
        assert!(care.cancel(&member, held[0]).await.unwrap());
        hold_for(&care, &member, slots[4], BookingOrigin::MemberReferral).await;
    })
    .await;
}

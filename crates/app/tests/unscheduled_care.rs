//! Unscheduled care through its services, on SQLite and PostgreSQL: single slots and their refusals, the
//! professional told by e-mail when a patient books and when the booking is cancelled (never any health data),
//! the rota shared by the year's load and changed in one audited step, and tokens that open only their scope
//! until revoked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
use common::deliver_mail;

use maillage_app::accounts::Accounts;
use maillage_app::audit::AuditContext;
use maillage_app::clock::{now_ms, DAY_MS, HOUR_MS};
use maillage_app::config::Config;
use maillage_app::crypto::PatientIdentity;
use maillage_app::demo::{self, DEMO_CPTS_SLUG, OTHER_DEMO_CPTS_SLUG};
use maillage_app::tokens::{self, TokenError, CALENDAR_SCOPE, FHIR_SCOPE};
use maillage_app::unscheduled_care::{CareError, RotaRequest, TurnChange, UnscheduledCare};
use maillage_domain::unscheduled_care::{utc_to_paris, BookingOrigin, Modality, SlotKind};
use maillage_store::testing::for_each_backend;
use maillage_store::{AuditFilter, AuditScope, Cpts, Page, Store};
use std::sync::Arc;
use uuid::Uuid;

async fn setup(store: &Arc<dyn Store>) -> (UnscheduledCare, Cpts, Uuid) {
    let config = Config::default().with_new_keys();
    let keyring = Arc::new(config.keyring().unwrap());
    let accounts = Accounts::new(store.clone(), config.security.clone(), keyring.clone()).unwrap();
    demo::seed(store, &accounts).await.unwrap();
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
        .professional_of_user(cpts.id, user.id)
        .await
        .unwrap()
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
    for_each_backend(|store, _url| async move {
        let (care, cpts, gp) = setup(&store).await;
        let actor = AuditContext::command_line();
        let start = now_ms() + 3 * DAY_MS + 7 * HOUR_MS;
        let publish = |at: i64, minutes: i64| {
            care.publish_slot(
                &actor,
                cpts.id,
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
            .hold(&actor, cpts.id, slot.id, BookingOrigin::SasRegulation, "fievre", now_ms())
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
            .confirm(&actor, cpts.id, booking, &identity, BookingOrigin::SasRegulation, "fievre")
            .await
            .unwrap());
        assert!(care.cancel(&actor, cpts.id, booking).await.unwrap());
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
        assert!(care.cancel_slot(&actor, cpts.id, slot.id).await.unwrap());
        assert_eq!(audited(&store, &cpts, "snp_slot_cancelled").await, 1);
        assert_eq!(audited(&store, &cpts, "snp_slots_published").await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_rota_is_shared_by_the_years_load_and_changed_in_one_audited_step() {
    for_each_backend(|store, _url| async move {
        let (care, cpts, gp) = setup(&store).await;
        let actor = AuditContext::command_line();
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
        };
        assert_eq!(care.build_rota(&actor, cpts.id, &request).await.unwrap(), 12);
        // Again: every Thursday is covered, nothing changes.
        assert_eq!(care.build_rota(&actor, cpts.id, &request).await.unwrap(), 0);
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
        // Refusals name their field.
        let bad = RotaRequest {
            label: " ".into(),
            ..request.clone()
        };
        assert!(matches!(care.build_rota(&actor, cpts.id, &bad).await, Err(CareError::Invalid(e)) if e.field == "Nom du tableau"));
        let nobody = RotaRequest {
            professionals: vec![],
            ..request.clone()
        };
        assert!(matches!(care.build_rota(&actor, cpts.id, &nobody).await, Err(CareError::Invalid(e)) if e.field == "Professionnels"));
        // A swap exchanges the two professionals at once; giving and removing work on this CPTS only.
        let (a, b) = (&turns[0], &turns[1]);
        assert!(care
            .change_turn(&actor, cpts.id, a.id, TurnChange::SwapWith(b.id))
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
            .change_turn(&actor, other.id, a.id, TurnChange::Remove)
            .await
            .unwrap());
        assert!(care
            .change_turn(&actor, cpts.id, a.id, TurnChange::Remove)
            .await
            .unwrap());
        assert_eq!(audited(&store, &cpts, "snp_rota_changed").await, 2);
        assert!(audited(&store, &cpts, "snp_rota_built").await >= 2);
    })
    .await;
}

#[tokio::test]
async fn tokens_open_their_scope_only_until_revoked() {
    for_each_backend(|store, _url| async move {
        let (_care, cpts, gp) = setup(&store).await;
        let actor = AuditContext::command_line();
        let s = store.as_ref();
        assert!(matches!(tokens::issue(s, &actor, cpts.id, "", FHIR_SCOPE, None).await, Err(TokenError::Refused(m)) if m.starts_with("Nom du jeton")));
        assert!(matches!(tokens::issue(s, &actor, cpts.id, "x", "admin", None).await, Err(TokenError::Refused(m)) if m.starts_with("Portée")));
        assert!(matches!(tokens::issue(s, &actor, cpts.id, "x", CALENDAR_SCOPE, None).await, Err(TokenError::Refused(m)) if m.starts_with("Professionnel")));
        let fhir = tokens::issue(s, &actor, cpts.id, "SAS", FHIR_SCOPE, None).await.unwrap();
        assert!(fhir.starts_with("mlg_") && fhir.len() == 68);
        let found = tokens::authenticate(s, &fhir, FHIR_SCOPE).await.unwrap().unwrap();
        assert_eq!(found.cpts_id, cpts.id.0);
        assert!(tokens::authenticate(s, &fhir, CALENDAR_SCOPE).await.unwrap().is_none());
        assert!(tokens::authenticate(s, "mlg_faux", FHIR_SCOPE).await.unwrap().is_none());
        assert!(tokens::authenticate(s, &fhir.replace("mlg_", "xyz_"), FHIR_SCOPE).await.unwrap().is_none());
        let first = tokens::issue(s, &actor, cpts.id, "Agenda", CALENDAR_SCOPE, Some(gp)).await.unwrap();
        let second = tokens::issue(s, &actor, cpts.id, "Agenda", CALENDAR_SCOPE, Some(gp)).await.unwrap();
        assert!(tokens::authenticate(s, &first, CALENDAR_SCOPE).await.unwrap().is_none(), "replaced");
        assert!(tokens::authenticate(s, &second, CALENDAR_SCOPE).await.unwrap().is_some());
        assert!(tokens::revoke(s, &actor, cpts.id, found.id).await.unwrap());
        assert!(!tokens::revoke(s, &actor, cpts.id, found.id).await.unwrap());
        assert!(tokens::authenticate(s, &fhir, FHIR_SCOPE).await.unwrap().is_none());
        assert_eq!(audited(&store, &cpts, "api_token_issued").await, 3);
        assert_eq!(audited(&store, &cpts, "api_token_revoked").await, 1);
    })
    .await;
}

//! Nothing sent silently, on SQLite and PostgreSQL: a proposal to a GP without an address is "à appeler" and
//! her answer on the phone is recorded; a logged-in GP answers only her own proposals; a message keeps its
//! outcome once its job is purged; no address or text is stored with the deliveries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{self, deliver_mail};
use crate::doctor_search::{fields, linked_gp, phone_call, setup, Setup};
use maillage_app::audit::AuditContext;
use maillage_app::caller::Caller;
use maillage_app::clock::{date_text, now_ms};
use maillage_app::doctor_search::{DoctorSearchError, ProposalAnswer};
use maillage_domain::delivery::{Purpose, Shown, Stored};
use maillage_domain::doctor_search::RequestState;
use maillage_store::{AuditFilter, AuditScope, Page, ProposalStatus};
use uuid::Uuid;

/// A qualified request proposed to `gp` and sent; returns (request, proposal).
async fn proposed_to(s: &Setup, family: &str, gp: Uuid) -> (Uuid, Uuid) {
    let input = fields(family, "02/03/1950", &["ald"])
        .parse(&date_text(now_ms()))
        .unwrap();
    let created = s
        .service
        .submit(&s.caller(), &input, &phone_call())
        .await
        .unwrap();
    s.service
        .change_state(&s.caller(), created.id, RequestState::Qualified, "")
        .await
        .unwrap();
    let request = s
        .store
        .find_doctor_request(s.cpts.id, created.id)
        .await
        .unwrap()
        .unwrap();
    s.store
        .replace_draft_proposals(s.cpts.id, &[], &maillage_store::testing::audit_entry())
        .await
        .unwrap();
    s.service
        .propose_by_hand(&s.caller(), &request, gp)
        .await
        .unwrap();
    assert_eq!(s.service.send_drafts(&s.caller()).await.unwrap().sent, 1);
    let proposal = s
        .service
        .proposals_of(&s.caller(), created.id)
        .await
        .unwrap()
        .into_iter()
        .find(|view| view.proposal.status == ProposalStatus::Sent)
        .unwrap()
        .proposal
        .id;
    (created.id, proposal)
}

/// A GP of the demo that nobody can e-mail.
async fn gp_without_address(s: &Setup) -> Uuid {
    for gp in s
        .service
        .general_practitioners(&s.caller(), 200)
        .await
        .unwrap()
    {
        if s.store
            .professional_email(s.cpts.id, gp.id)
            .await
            .unwrap()
            .is_none()
        {
            return gp.id;
        }
    }
    panic!("the demo has a GP without an e-mail");
}

async fn audit_count(s: &Setup, action: &str) -> usize {
    s.store
        .list_audit(
            AuditScope::Cpts(s.cpts.id),
            &AuditFilter {
                action: Some(action.into()),
                ..Default::default()
            },
            Page::first(500),
        )
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_gp_without_an_address_is_to_be_called_and_her_answer_on_the_phone_is_recorded() {
    common::for_each_demo(|store, url| async move {
        let s = setup(store).await;
        let gp = gp_without_address(&s).await;
        let (request, proposal) = proposed_to(&s, "Sansadresse-Test", gp).await;
        let proposals = s.service.proposals_of(&s.caller(), request).await.unwrap();
        let (to_doctors, _) = s
            .service
            .messages_of(&s.caller(), request, &proposals)
            .await
            .unwrap();
        assert_eq!(to_doctors.len(), 1);
        assert_eq!(to_doctors[0].shown(), Shown::ToCall);
        let to_call = s.service.messages_to_call(&s.caller()).await.unwrap();
        assert!(to_call
            .iter()
            .any(|(d, r)| d.subject_id == proposal && *r == request));

        // A refusal without its reason is named and changes nothing.
        let refused = s
            .service
            .record_phone_answer(&s.caller(), proposal, ProposalAnswer::Declined, "")
            .await;
        assert!(
            matches!(&refused, Err(DoctorSearchError::Refused(m)) if m.contains("Raison du refus")),
            "{refused:?}"
        );
        let still = s
            .store
            .find_doctor_request(s.cpts.id, request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(still.state, RequestState::Proposed);

        let answered_before = audit_count(&s, "proposal_answered").await;
        let called_before = audit_count(&s, "delivery_called").await;
        assert!(s
            .service
            .record_phone_answer(&s.caller(), proposal, ProposalAnswer::Accepted, "")
            .await
            .unwrap());
        // Twice: the second changes nothing.
        assert!(!s
            .service
            .record_phone_answer(&s.caller(), proposal, ProposalAnswer::Accepted, "")
            .await
            .unwrap());
        let accepted = s
            .store
            .find_doctor_request(s.cpts.id, request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(accepted.state, RequestState::Accepted);
        assert_eq!(accepted.professional_id, Some(gp));
        let history = s.service.events(&s.caller(), request).await.unwrap();
        assert!(history.iter().any(|e| e.detail.contains("par téléphone")));
        assert_eq!(
            audit_count(&s, "proposal_answered").await,
            answered_before + 1
        );
        assert_eq!(audit_count(&s, "delivery_called").await, called_before + 1);
        let (to_doctors, to_patient) = s
            .service
            .messages_of(&s.caller(), request, &proposals)
            .await
            .unwrap();
        assert_eq!(to_doctors[0].shown(), Shown::Called);
        assert!(!s
            .service
            .messages_to_call(&s.caller())
            .await
            .unwrap()
            .iter()
            .any(|(d, _)| d.subject_id == proposal));

        // The patient is written to: queued, then sent — and still sent once the job is purged.
        // By e-mail (and by SMS where the configuration has a gateway): each its own delivery.
        let by_email = |all: &[maillage_store::Delivery]| {
            all.iter()
                .find(|d| d.channel == maillage_domain::delivery::Channel::Email)
                .cloned()
                .expect("an e-mail to the patient")
        };
        assert!(!to_patient.is_empty());
        assert!(to_patient
            .iter()
            .all(|d| d.shown() == Shown::Waiting { retrying: false }));
        deliver_mail(&s.store).await;
        let (_, to_patient) = s
            .service
            .messages_of(&s.caller(), request, &proposals)
            .await
            .unwrap();
        assert_eq!(by_email(&to_patient).shown(), Shown::Sent);
        s.store.purge_finished_jobs(i64::MAX).await.unwrap();
        let (_, to_patient) = s
            .service
            .messages_of(&s.caller(), request, &proposals)
            .await
            .unwrap();
        let settled = by_email(&to_patient);
        assert_eq!(settled.state, Stored::Sent);
        assert_eq!(settled.job_status, None);
        assert_eq!(settled.shown(), Shown::Sent);

        // Deliveries keep no address, name or text.
        let dump: Vec<String> = if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let rows = sqlx::query_scalar(
                "SELECT subject_kind || purpose || channel || state || detail FROM deliveries",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            pool.close().await;
            rows
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let rows = sqlx::query_scalar(
                "SELECT subject_kind || purpose || channel || state || detail FROM deliveries",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            pool.close().await;
            rows
        };
        assert!(!dump.is_empty());
        assert!(dump
            .iter()
            .all(|row| !row.contains('@') && !row.contains("Sansadresse") && !row.contains("06")));
    })
    .await;
}

#[tokio::test]
async fn a_logged_in_gp_answers_her_own_proposals_and_no_one_else_s() {
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        let own = linked_gp(&s).await;
        let user = s
            .store
            .find_user_by_email("dr.fabre@camargue.test")
            .await
            .unwrap()
            .unwrap();
        let doctor = Caller::resolve(
            s.store.as_ref(),
            user.id,
            s.cpts.id,
            &AuditContext::default(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(doctor.professional(), Some(own));

        // Another GP's proposal is not found for her, and stays unanswered.
        let other = gp_without_address(&s).await;
        let (other_request, other_proposal) = proposed_to(&s, "Autremedecin-Test", other).await;
        let refused = s
            .service
            .answer_as_doctor(&doctor, other_proposal, ProposalAnswer::Accepted, "")
            .await;
        assert!(
            matches!(refused, Err(DoctorSearchError::NotFound)),
            "{refused:?}"
        );
        assert_eq!(
            s.store
                .find_doctor_request(s.cpts.id, other_request)
                .await
                .unwrap()
                .unwrap()
                .state,
            RequestState::Proposed
        );

        // Her own: e-mailed (she has an address), then declined from "Mes places" with a reason.
        let (request, proposal) = proposed_to(&s, "Mesplaces-Test", own).await;
        let proposals = s.service.proposals_of(&s.caller(), request).await.unwrap();
        let (to_doctors, _) = s
            .service
            .messages_of(&s.caller(), request, &proposals)
            .await
            .unwrap();
        assert_eq!(
            to_doctors.last().unwrap().shown(),
            Shown::Waiting { retrying: false }
        );
        let mine = s
            .service
            .proposals_to_me(&doctor, &ProposalStatus::Sent)
            .await
            .unwrap();
        assert!(mine.iter().any(|view| view.proposal.id == proposal));
        assert!(s
            .service
            .answer_as_doctor(&doctor, proposal, ProposalAnswer::Declined, "full")
            .await
            .unwrap());
        let declined = s
            .store
            .find_doctor_request(s.cpts.id, request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(declined.state, RequestState::Declined);
        let history = s.service.events(&s.caller(), request).await.unwrap();
        assert!(history
            .iter()
            .any(|e| e.detail.contains("dans « Mes places »")));
        // Answered once only.
        assert!(!s
            .service
            .answer_as_doctor(&doctor, proposal, ProposalAnswer::Accepted, "")
            .await
            .unwrap());
        // A patient notice without any address is "à appeler"; the call is recorded in the history.
        let notice = maillage_app::deliveries::to_call(
            s.store.as_ref(),
            maillage_app::deliveries::About::new(s.cpts.id, Purpose::PatientNotice, request),
        )
        .await
        .unwrap();
        assert_eq!(
            s.service.mark_called(&s.caller(), notice).await.unwrap(),
            request
        );
        let history = s.service.events(&s.caller(), request).await.unwrap();
        assert!(history
            .iter()
            .any(|e| e.kind == "notified" && e.detail.contains("téléphone")));
        // A GP may not mark another's messages.
        assert!(matches!(
            s.service.mark_called(&doctor, notice).await,
            Err(DoctorSearchError::NotFound)
        ));
    })
    .await;
}

/// The first instant after `now` when the morning digest is due (7:00 or later, Paris time).
fn next_digest_time(now: i64) -> i64 {
    let mut at = now + maillage_app::clock::HOUR_MS;
    while maillage_domain::unscheduled_care::utc_to_paris(at).1
        < maillage_app::doctor_search::digest::DIGEST_HOUR * 60
    {
        at += maillage_app::clock::HOUR_MS;
    }
    at
}

#[tokio::test]
async fn the_coordination_receives_each_morning_one_digest_of_the_gps_answers_without_patient_names(
) {
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        let own = linked_gp(&s).await;
        let doctor = common::caller_of(&s.store, s.cpts.id, "dr.fabre@camargue.test").await;
        let (request, proposal) = proposed_to(&s, "Recapitulatif-Test", own).await;
        assert!(s
            .service
            .answer_as_doctor(&doctor, proposal, ProposalAnswer::Accepted, "")
            .await
            .unwrap());
        let at = next_digest_time(now_ms());
        // Not asked: nothing goes.
        assert_eq!(s.service.send_answer_digests(at).await.unwrap(), 0);
        s.service
            .set_answer_digest(&s.caller(), true)
            .await
            .unwrap();
        assert!(s.service.answer_digest(&s.caller()).await.unwrap().enabled);
        // Before 7:00 nothing goes; then once a day, whichever process asks first.
        let early = maillage_domain::unscheduled_care::paris_to_utc(
            maillage_domain::unscheduled_care::utc_to_paris(at).0,
            6 * 60,
        );
        assert_eq!(s.service.send_answer_digests(early).await.unwrap(), 0);
        assert_eq!(s.service.send_answer_digests(at).await.unwrap(), 1);
        assert_eq!(
            s.service
                .send_answer_digests(at + maillage_app::clock::HOUR_MS)
                .await
                .unwrap(),
            0
        );
        let mails: Vec<_> = deliver_mail(&s.store)
            .await
            .into_iter()
            .filter(|m| m.subject == "Réponses des médecins aux propositions")
            .collect();
        assert_eq!(mails.len(), 1, "one coordinator in the demo CPTS");
        let digest = &mails[0];
        assert_eq!(digest.recipient, "coordination@camargue.test");
        assert!(
            digest.body.contains("a accepté une proposition"),
            "{}",
            digest.body
        );
        assert!(digest.body.contains(&format!(
            "https://cpts.exemple.fr/c/camargue-gardoise/medecin-traitant/demandes/{request}"
        )));
        assert!(!digest.body.contains("Recapitulatif-Test") && !digest.body.contains("1950"));
        // Its state is shown on the settings page; the next morning without new answers sends nothing.
        let setting = s.service.answer_digest(&s.caller()).await.unwrap();
        assert_eq!(setting.deliveries.len(), 1);
        assert_eq!(setting.deliveries[0].shown(), Shown::Sent);
        assert_eq!(
            s.service
                .send_answer_digests(at + maillage_app::clock::DAY_MS)
                .await
                .unwrap(),
            0
        );
        // Stopped: audited both times.
        s.service
            .set_answer_digest(&s.caller(), false)
            .await
            .unwrap();
        assert_eq!(audit_count(&s, "answer_digest_changed").await, 2);
        assert_eq!(
            s.service
                .send_answer_digests(at + 2 * maillage_app::clock::DAY_MS)
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn a_stale_declaration_reminder_is_a_delivery_even_without_an_address() {
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        let own = linked_gp(&s).await;
        let silent = gp_without_address(&s).await;
        let mut capacity = s
            .store
            .find_capacity(s.cpts.id, own)
            .await
            .unwrap()
            .unwrap();
        capacity.updated_at = now_ms() - 61 * maillage_app::clock::DAY_MS;
        for gp in [own, silent] {
            capacity.professional_id = gp;
            s.store
                .save_capacity(
                    s.cpts.id,
                    &capacity,
                    &maillage_store::testing::audit_entry(),
                )
                .await
                .unwrap();
        }
        assert!(s.service.remind_stale_capacities(now_ms()).await.unwrap() >= 2);
        deliver_mail(&s.store).await;
        let reminders = s
            .service
            .capacity_reminders(&s.caller(), &[own, silent])
            .await
            .unwrap();
        let of = |gp: Uuid| {
            reminders
                .iter()
                .find(|d| d.subject_id == gp)
                .map(|d| d.shown())
        };
        assert_eq!(of(own), Some(Shown::Sent));
        assert_eq!(of(silent), Some(Shown::ToCall));
        // A partner does not read them.
        let dac = common::caller_of(&s.store, s.cpts.id, "dac@camargue.test").await;
        assert!(s.service.capacity_reminders(&dac, &[own]).await.is_err());
    })
    .await;
}

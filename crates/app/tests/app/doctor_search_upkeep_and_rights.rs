//! Access to a médecin traitant: retention, reminders, SMS through the gateway, refused audit, and each role's rights.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use super::doctor_search::*;
use crate::common;
use common::deliver_mail;
use maillage_app::audit::AuditContext;
use maillage_app::clock::{date_text, now_ms, DAY_MS};
use maillage_app::config::{Config, JobsConfig};
use maillage_app::demo::DEMO_CPTS_SLUG;
use maillage_app::doctor_search::{DoctorSearch, DoctorSearchError, Origin};
use maillage_app::jobs::JobRunner;
use maillage_domain::doctor_search::{Channel, RequestState};
use maillage_store::{AuditFilter, AuditScope, GpCapacity, Page, ProposalStatus};
use std::sync::Arc;

#[tokio::test]
pub(super) async fn ended_requests_are_anonymised_after_the_retention_delay() {
    common::for_each_demo(|store, url| async move {
        let s = setup(store).await;
        let input = fields("Essai-Retention", "15/05/1980", &["css"])
            .parse(&date_text(now_ms()))
            .unwrap();
        let id = s
            .service
            .submit(&s.caller(), &input, &phone_call())
            .await
            .unwrap()
            .id;
        s.service
            .change_state(
                &s.caller(),
                id,
                RequestState::Withdrawn,
                "le patient a trouvé seul",
            )
            .await
            .unwrap();
        // Not yet: it ended today.
        assert_eq!(s.service.apply_retention(now_ms()).await.unwrap(), 0);
        let later = now_ms() + 13 * 30 * DAY_MS;
        // The anonymisation and its entry are one transaction: refused entry, nothing anonymised.
        maillage_store::testing::refuse_audit_appends(&url).await;
        assert!(s.service.apply_retention(later).await.is_err());
        let kept = s
            .store
            .find_doctor_request(s.cpts.id, id)
            .await
            .unwrap()
            .unwrap();
        assert!(kept.anonymised_at.is_none() && kept.patient_id.is_some());
        maillage_store::testing::allow_audit_appends(&url).await;
        assert!(s.service.apply_retention(later).await.unwrap() >= 1);
        let request = s
            .store
            .find_doctor_request(s.cpts.id, id)
            .await
            .unwrap()
            .unwrap();
        assert!(request.anonymised_at.is_some() && request.patient_id.is_none());
        assert!(request.referrer.is_empty());
        assert!(s
            .service
            .identity(&s.caller(), &request, "test")
            .await
            .unwrap()
            .is_none());
        // What the indicators need stays: the request still counts, its criteria too.
        assert!(request.criteria.css);
        let audited = s
            .store
            .list_audit(
                AuditScope::Cpts(s.cpts.id),
                &AuditFilter {
                    action: Some("doctor_request_anonymised".into()),
                    ..Default::default()
                },
                Page::first(10),
            )
            .await
            .unwrap();
        assert!(!audited.is_empty());
    })
    .await;
}

#[tokio::test]
pub(super) async fn stale_declarations_are_reminded_once() {
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        let gp = linked_gp(&s).await;
        let mut capacity = s.store.find_capacity(s.cpts.id, gp).await.unwrap().unwrap();
        capacity.updated_at = now_ms() - 61 * DAY_MS;
        s.store
            .save_capacity(
                s.cpts.id,
                &capacity,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        let reminded = s.service.remind_stale_capacities(now_ms()).await.unwrap();
        assert!(reminded >= 1);
        let outbox = deliver_mail(&s.store).await;
        let reminders: Vec<_> = outbox
            .iter()
            .filter(|m| {
                m.recipient == "dr.fabre@camargue.test"
                    && m.body.contains("/c/camargue-gardoise/ma-capacite")
            })
            .collect();
        assert_eq!(reminders.len(), 1);
        // Not again until the declaration is refreshed, or another period has passed.
        assert_eq!(
            s.service.remind_stale_capacities(now_ms()).await.unwrap(),
            0
        );
        // A fresh declaration is not reminded.
        capacity.updated_at = now_ms();
        s.store
            .save_capacity(
                s.cpts.id,
                &capacity,
                &maillage_store::testing::audit_entry(),
            )
            .await
            .unwrap();
        assert_eq!(
            s.service.remind_stale_capacities(now_ms()).await.unwrap(),
            0
        );
    })
    .await;
}

/// A one-request HTTP server answering `status`; returns its address and the body it received.
pub(super) async fn gateway(status: u16) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/sms?cle=essai", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let n = socket.read(&mut buffer).await.unwrap();
            received.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&received).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    socket.write_all(answer.as_bytes()).await.unwrap();
                    return text;
                }
            }
            if n == 0 {
                return text;
            }
        }
    });
    (address, handle)
}

#[tokio::test]
pub(super) async fn sms_go_to_the_gateway_and_its_refusals_are_told_apart() {
    use maillage_app::jobs::{JobError, JobHandler};
    use maillage_app::notify::SmsWebhookJob;
    let job = |payload: &str| maillage_store::Job {
        id: maillage_store::JobId::new(),
        cpts_id: None,
        kind: "sms".into(),
        payload: payload.into(),
        status: maillage_store::JobStatus::Running,
        attempts: 1,
        max_attempts: 3,
        run_at: 0,
        locked_by: None,
        last_error: None,
        finished_at: None,
    };
    let payload = r#"{"to": "+33611223344", "message": "Votre demande a bien été reçue."}"#;
    let (url, received) = gateway(200).await;
    SmsWebhookJob::new(&url)
        .unwrap()
        .run(&job(payload))
        .await
        .unwrap();
    let request = received.await.unwrap();
    assert!(
        request.starts_with("POST /sms?cle=essai HTTP/1.1"),
        "{request}"
    );
    assert!(request.contains("application/json") && request.contains("+33611223344"));
    let (url, _) = gateway(503).await;
    let outcome = SmsWebhookJob::new(&url).unwrap().run(&job(payload)).await;
    assert!(matches!(outcome, Err(JobError::Retry(_))), "{outcome:?}");
    let (url, _) = gateway(400).await;
    let outcome = SmsWebhookJob::new(&url).unwrap().run(&job(payload)).await;
    assert!(
        matches!(outcome, Err(JobError::Permanent(_))),
        "{outcome:?}"
    );
    let outcome = SmsWebhookJob::new("http://127.0.0.1:9/")
        .unwrap()
        .run(&job(payload))
        .await;
    assert!(
        matches!(outcome, Err(JobError::Retry(_))),
        "unreachable gateway: {outcome:?}"
    );
    let outcome = SmsWebhookJob::new(&url)
        .unwrap()
        .run(&job("pas du json"))
        .await;
    assert!(matches!(outcome, Err(JobError::Permanent(_))));
}

#[tokio::test]
pub(super) async fn with_a_gateway_patients_are_told_by_sms() {
    common::for_each_demo(|store, _url| async move {
        let config = Config {
            doctor_search: maillage_app::config::DoctorSearchConfig {
                sms_webhook_url: "http://127.0.0.1:9/sms".into(),
                ..Default::default()
            },
            ..common::demo().await.1.clone()
        };
        let keyring = Arc::new(config.keyring().unwrap());
        let service = DoctorSearch::from_config(store.clone(), keyring, &config);
        let cpts = store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let mut input = fields("Essai-Sms", "01/01/1970", &[]);
        input.email = String::new();
        let input = input.parse(&date_text(now_ms())).unwrap();
        let id = service
            .submit(
                &maillage_app::caller::Caller::command_line(cpts.id),
                &input,
                &phone_call(),
            )
            .await
            .unwrap()
            .id;
        let events = store.request_events(cpts.id, id).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.kind == "notified" && e.detail.contains("SMS")),
            "{events:?}"
        );
        // The SMS is a job for the gateway, with the phone number and no health data.
        let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
        let mut runner = JobRunner::new(store.clone(), keyring, JobsConfig::default());
        runner.register(
            maillage_app::notify::SMS_JOB,
            Arc::new(maillage_app::notify::SmsWebhookJob::new("http://127.0.0.1:9/sms").unwrap()),
        );
        assert!(runner.run_once(0).await.unwrap(), "an SMS job was queued");
    })
    .await;
}

#[tokio::test]
pub(super) async fn a_request_whose_audit_entry_cannot_be_written_is_not_kept() {
    common::for_each_demo(|store, url| async move {
        let s = setup(store).await;
        let today = date_text(now_ms());
        let input = fields("Essai-Journal", "04/05/1960", &["ald"])
            .parse(&today)
            .unwrap();
        let kept = s
            .service
            .submit(&s.caller(), &input, &phone_call())
            .await
            .unwrap();
        let requests =
            maillage_store::testing::raw_count(&url, "SELECT COUNT(*) FROM doctor_requests").await;
        let patients =
            maillage_store::testing::raw_count(&url, "SELECT COUNT(*) FROM patients").await;
        let events =
            maillage_store::testing::raw_count(&url, "SELECT COUNT(*) FROM doctor_request_events")
                .await;
        maillage_store::testing::refuse_audit_appends(&url).await;
        // A new request, a merge into the open one, a change of state: each refused, nothing written.
        let other = fields("Essai-Refus", "06/07/1970", &[])
            .parse(&today)
            .unwrap();
        assert!(s
            .service
            .submit(&s.caller(), &other, &phone_call())
            .await
            .is_err());
        assert!(s
            .service
            .submit(&s.caller(), &input, &Origin::public_form())
            .await
            .is_err());
        assert!(s
            .service
            .change_state(&s.caller(), kept.id, RequestState::Withdrawn, "essai")
            .await
            .is_err());
        assert_eq!(
            maillage_store::testing::raw_count(&url, "SELECT COUNT(*) FROM doctor_requests").await,
            requests
        );
        assert_eq!(
            maillage_store::testing::raw_count(&url, "SELECT COUNT(*) FROM patients").await,
            patients
        );
        assert_eq!(
            maillage_store::testing::raw_count(&url, "SELECT COUNT(*) FROM doctor_request_events")
                .await,
            events
        );
        let request = s
            .store
            .find_doctor_request(s.cpts.id, kept.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.state, RequestState::Received);
        assert_eq!(request.submissions, 1);
        // Reading the identity needs its audit entry first: refused, nothing shown.
        assert!(s
            .service
            .identity(&s.caller(), &request, "essai")
            .await
            .is_err());
    })
    .await;
}

pub(super) async fn caller_of(s: &Setup, email: &str) -> maillage_app::caller::Caller {
    let user = s.store.find_user_by_email(email).await.unwrap().unwrap();
    maillage_app::caller::Caller::resolve(
        s.store.as_ref(),
        user.id,
        s.cpts.id,
        &AuditContext::default(),
    )
    .await
    .unwrap()
    .expect("a role in the demo CPTS")
}

#[tokio::test]
pub(super) async fn each_role_handles_only_its_own_part_of_the_requests() {
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        let today = date_text(now_ms());
        // A second partner of the same CPTS (a town hall), beside the demo's DAC.
        let other =
            maillage_store::testing::make_user(s.store.as_ref(), "mairie@camargue.test").await;
        s.store
            .grant_role(
                s.cpts.id,
                other.id,
                maillage_domain::authz::Role::Partner,
                0,
            )
            .await
            .unwrap();
        let dac = caller_of(&s, "dac@camargue.test").await;
        let town_hall = caller_of(&s, "mairie@camargue.test").await;
        let member = caller_of(&s, "dr.fabre@camargue.test").await;
        // The DAC's referral is the DAC's, whoever the form names as the referrer's account.
        let input = fields("Essai-Adressage", "03/03/1955", &["ald"])
            .parse(&today)
            .unwrap();
        let referred = s
            .service
            .submit(
                &dac,
                &input,
                &Origin {
                    channel: Channel::Partner,
                    referrer_user: Some(other.id),
                    ..phone_call()
                },
            )
            .await
            .unwrap();
        let dac_list = s
            .service
            .my_referrals(&dac, Page::first(100))
            .await
            .unwrap();
        assert!(dac_list.iter().any(|r| r.id == referred.id));
        let hall_list = s
            .service
            .my_referrals(&town_hall, Page::first(100))
            .await
            .unwrap();
        assert!(
            hall_list.iter().all(|r| r.id != referred.id),
            "another partner's referral"
        );
        // Neither a partner nor a member reads a request, its identity or moves it.
        for caller in [&dac, &town_hall, &member] {
            assert!(matches!(
                s.service.request(caller, referred.id).await,
                Err(DoctorSearchError::NotFound)
            ));
            assert!(matches!(
                s.service
                    .change_state(caller, referred.id, RequestState::Withdrawn, "")
                    .await,
                Err(DoctorSearchError::NotFound)
            ));
        }
        let request = s.service.request(&s.caller(), referred.id).await.unwrap();
        assert!(matches!(
            s.service.identity(&member, &request, "essai").await,
            Err(DoctorSearchError::NotFound)
        ));
        assert_eq!(request.state, RequestState::Received);
        // A member declares room for their own practice only; the coordination for any GP.
        let own = linked_gp(&s).await;
        let somebody = s
            .store
            .list_capacities(s.cpts.id, Page::first(50))
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.capacity.professional_id)
            .find(|p| *p != own)
            .expect("another GP's declaration in the demo");
        let room = |professional| GpCapacity {
            professional_id: professional,
            now_capacity: 7,
            later_capacity: 7,
            communes: String::new(),
            max_distance_km: None,
            age_groups: "adults".into(),
            home_visits: false,
            updated_at: now_ms(),
            updated_by: None,
        };
        assert!(matches!(
            s.service.declare_capacity(&member, &room(somebody)).await,
            Err(DoctorSearchError::NotFound)
        ));
        assert_ne!(
            s.store
                .find_capacity(s.cpts.id, somebody)
                .await
                .unwrap()
                .unwrap()
                .now_capacity,
            7
        );
        s.service
            .declare_capacity(&member, &room(own))
            .await
            .unwrap();
        s.service
            .declare_capacity(&s.caller(), &room(somebody))
            .await
            .unwrap();
        assert_eq!(
            s.store
                .find_capacity(s.cpts.id, somebody)
                .await
                .unwrap()
                .unwrap()
                .now_capacity,
            7
        );
        // A GP's own proposals are exactly those addressed to their practice, chosen by the database.
        s.service.run_matching(&s.caller(), 50.0).await.unwrap();
        let all = s
            .store
            .list_proposals(s.cpts.id, &ProposalStatus::Draft, Page::first(500))
            .await
            .unwrap();
        let mine = s
            .service
            .proposals_to_me(&member, &ProposalStatus::Draft)
            .await
            .unwrap();
        assert_eq!(
            mine.iter().map(|v| v.proposal.id).collect::<Vec<_>>(),
            all.iter()
                .filter(|v| v.proposal.professional_id == own)
                .map(|v| v.proposal.id)
                .collect::<Vec<_>>()
        );
        assert!(
            all.iter().any(|v| v.proposal.professional_id != own),
            "other GPs have drafts too"
        );
    })
    .await;
}

#[tokio::test]
async fn the_indicator_set_carries_the_figures_as_numbers_and_only_for_the_coordination() {
    use maillage_app::doctor_search::indicators::{BY_CHANNEL, MAIN};
    use maillage_domain::indicators::Measure;
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        let expected = figures(&s).await;
        let set = s
            .service
            .indicators(&s.caller(), None, now_ms())
            .await
            .unwrap();
        assert_eq!(set.year, maillage_app::clock::year_of(now_ms()));
        assert_eq!(
            set.find("cibles").unwrap().measure,
            Measure::Count(expected.targeted)
        );
        assert_eq!(
            set.find("medecin_trouve").unwrap().measure,
            Measure::Count(expected.attached)
        );
        assert!(matches!(
            set.find("delai_median").unwrap().measure,
            Measure::Days(_)
        ));
        let channels = set.group_of(BY_CHANNEL).unwrap();
        assert_eq!(
            channels
                .indicators
                .iter()
                .map(|i| i.measure.number().unwrap())
                .sum::<f64>(),
            expected
                .by_channel
                .iter()
                .map(|(_, n)| *n as f64)
                .sum::<f64>()
        );
        assert_eq!(set.group_of(MAIN).unwrap().indicators.len(), 13);
        // A year outside the contract's range is the current year; a member reads none of it.
        assert_eq!(
            s.service
                .indicators(&s.caller(), Some(1990), now_ms())
                .await
                .unwrap()
                .year,
            set.year
        );
        let member = caller_of(&s, "dr.fabre@camargue.test").await;
        assert!(s.service.indicators(&member, None, now_ms()).await.is_err());
    })
    .await;
}

//! The médecin traitant mission through its service, on SQLite and PostgreSQL: from intake to a declared
//! doctor (with duplicate merging, the GP's answer by link and the patient told), indicators that count
//! exactly what was done, the matching's constraints, refused transitions, one answer per link even when
//! sent twice at once, and retention.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;
use common::deliver_mail;

use maillage_app::audit::AuditContext;
use maillage_app::clock::{date_text, day_start_ms, now_ms, year_of, DAY_MS};
use maillage_app::config::{Config, JobsConfig};
use maillage_app::demo::DEMO_CPTS_SLUG;
use maillage_app::doctor_search::{
    DoctorSearch, DoctorSearchError, Origin, ProposalAnswer, RequestFields,
};
use maillage_app::jobs::JobRunner;
use maillage_domain::doctor_search::{Channel, RequestState};
use maillage_store::{
    AuditFilter, AuditScope, Cpts, DoctorSearchFigures, GpCapacity, Page, ProposalStatus, Store,
};
use std::sync::Arc;

struct Setup {
    store: Arc<dyn Store>,
    service: DoctorSearch,
    cpts: Cpts,
}

impl Setup {
    /// The coordination at the command line: every right in the demo CPTS.
    fn caller(&self) -> maillage_app::caller::Caller {
        maillage_app::caller::Caller::command_line(self.cpts.id)
    }
}

async fn setup(store: Arc<dyn Store>) -> Setup {
    let config = &common::demo().await.1;
    let keyring = Arc::new(config.keyring().unwrap());
    let service = DoctorSearch::new(
        store.clone(),
        keyring,
        config.doctor_search.clone(),
        "https://cpts.exemple.fr",
        3,
    );
    let cpts = store
        .find_cpts_by_slug(DEMO_CPTS_SLUG)
        .await
        .unwrap()
        .unwrap();
    Setup {
        store,
        service,
        cpts,
    }
}

fn fields(family: &str, birth: &str, criteria: &[&str]) -> RequestFields {
    RequestFields {
        family_name: family.into(),
        given_names: "Camille".into(),
        birth_date: birth.into(),
        commune: "30003".into(),
        phone: "06 11 22 33 44".into(),
        email: "camille.patient@exemple.fr".into(),
        criteria: criteria.iter().map(|c| c.to_string()).collect(),
        note: "Suivi cardiaque à reprendre".into(),
        consent: Some("oui".into()),
        ..Default::default()
    }
}

fn phone_call() -> Origin {
    Origin {
        channel: Channel::Phone,
        referrer: "Pharmacie d'essai".into(),
        referrer_user: None,
        consent_method: "oral, par téléphone".into(),
        recorded_by: None,
    }
}

async fn figures(s: &Setup) -> DoctorSearchFigures {
    let year = year_of(now_ms());
    s.store
        .doctor_search_figures(
            s.cpts.id,
            day_start_ms(year, 1, 1),
            day_start_ms(year + 1, 1, 1),
        )
        .await
        .unwrap()
}

fn channel_count(f: &DoctorSearchFigures, channel: &str) -> i64 {
    f.by_channel
        .iter()
        .find(|(c, _)| c == channel)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

async fn linked_gp(s: &Setup) -> uuid::Uuid {
    let user = s
        .store
        .find_user_by_email("dr.fabre@camargue.test")
        .await
        .unwrap()
        .unwrap();
    s.store
        .professional_of_user(s.cpts.id, user.id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_request_goes_from_intake_to_a_declared_doctor_and_the_indicators_count_it() {
    common::for_each_demo(|store, url| async move {
        let s = setup(store).await;
        let before = figures(&s).await;
        let today = date_text(now_ms());
        let input = fields("Zéphyrine-Test", "02/03/1948", &["ald"])
            .parse(&today)
            .unwrap();
        let first = s
            .service
            .submit(&s.caller(), &input, &phone_call())
            .await
            .unwrap();
        assert!(!first.merged);
        // The same person again, by another channel and with another criterion: merged, not duplicated.
        let again = fields("ZEPHYRINE-TEST ", "1948-03-02", &["isolation"])
            .parse(&today)
            .unwrap();
        let second = s
            .service
            .submit(&s.caller(), &again, &Origin::public_form())
            .await
            .unwrap();
        assert_eq!((second.id, second.merged), (first.id, true));
        let request = s
            .store
            .find_doctor_request(s.cpts.id, first.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.submissions, 2);
        assert!(request.criteria.ald && request.criteria.isolation);
        assert_eq!(request.age_at_request, 78);
        assert!(
            request.priority_reasons.contains("ALD") && request.priority_reasons.contains("78 ans"),
            "{}",
            request.priority_reasons
        );

        // Identity and note are not readable in the database.
        let needle = "Zéphyrine-Test";
        let dump = if url.starts_with("sqlite:") {
            let path = url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_string();
            let mut bytes = std::fs::read(&path).unwrap_or_default();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let identities: Vec<Vec<u8>> = sqlx::query_scalar("SELECT identity FROM patients")
                .fetch_all(&pool)
                .await
                .unwrap();
            let texts: Vec<String> = sqlx::query_scalar(
                "SELECT referrer || priority_reasons || outcome FROM doctor_requests",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            pool.close().await;
            format!(
                "{}{}",
                String::from_utf8_lossy(&identities.concat()),
                texts.concat()
            )
        };
        assert!(!dump.contains(needle) && !dump.contains("Suivi cardiaque"));

        // Qualified, proposed to the linked GP, accepted through the link.
        s.service
            .change_state(&s.caller(), first.id, RequestState::Qualified, "")
            .await
            .unwrap();
        let gp = linked_gp(&s).await;
        let room_before = s
            .store
            .find_capacity(s.cpts.id, gp)
            .await
            .unwrap()
            .unwrap()
            .now_capacity;
        let request = s
            .store
            .find_doctor_request(s.cpts.id, first.id)
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
        let sent = s
            .service
            .send_drafts(&s.caller(), &s.cpts.slug)
            .await
            .unwrap();
        assert_eq!(sent, 1);
        let outbox = deliver_mail(&s.store).await;
        let mail = outbox
            .iter()
            .find(|m| m.recipient == "dr.fabre@camargue.test" && m.body.contains("/proposition/"))
            .expect("the GP is written to");
        assert!(!mail.body.contains(needle) && !mail.body.contains("ALD"));
        let token = mail
            .body
            .split("/proposition/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let view = s.service.proposal_of_link(&token).await.unwrap().unwrap();
        assert_eq!(view.proposal.status, ProposalStatus::Sent);
        assert!(view.proposal.explanation.contains("ALD"));
        assert!(s
            .service
            .answer(&token, ProposalAnswer::Accepted, "")
            .await
            .unwrap());
        // The link works once.
        assert!(!s
            .service
            .answer(&token, ProposalAnswer::Declined, "full")
            .await
            .unwrap());
        let request = s
            .store
            .find_doctor_request(s.cpts.id, first.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.state, RequestState::Accepted);
        assert_eq!(request.professional_id, Some(gp));
        let room_after = s
            .store
            .find_capacity(s.cpts.id, gp)
            .await
            .unwrap()
            .unwrap()
            .now_capacity;
        assert_eq!(room_after, (room_before - 1).max(0));
        // The patient is told by e-mail, without health data.
        let outbox = deliver_mail(&s.store).await;
        let told = outbox
            .iter()
            .filter(|m| m.recipient == "camille.patient@exemple.fr")
            .collect::<Vec<_>>();
        assert!(told
            .iter()
            .any(|m| m.body.contains("accepte de devenir votre médecin traitant")));
        assert!(told.iter().all(|m| !m.body.contains("ALD")));

        for next in [RequestState::FirstVisit, RequestState::Closed] {
            s.service
                .change_state(&s.caller(), first.id, next, "")
                .await
                .unwrap();
        }
        let after = figures(&s).await;
        assert_eq!(after.targeted, before.targeted + 1);
        assert_eq!(
            channel_count(&after, "phone"),
            channel_count(&before, "phone") + 1
        );
        assert_eq!(after.attached, before.attached + 1);
        assert_eq!(after.attached_ald, before.attached_ald + 1);
        assert_eq!(after.attached_aged_70, before.attached_aged_70 + 1);
        assert_eq!(after.attached_css, before.attached_css);
        assert_eq!(after.oriented, before.oriented + 1);
        assert_eq!(after.informed, before.informed + 1);
        assert_eq!(after.places_used, before.places_used + 1);
        assert_eq!(
            after.attachment_delays_days.len(),
            before.attachment_delays_days.len() + 1
        );

        // Every step is in the audit trail, and the history tells each state.
        let actions: Vec<String> = s
            .store
            .list_audit(
                AuditScope::Cpts(s.cpts.id),
                &AuditFilter::default(),
                Page::first(500),
            )
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entry.target_id == first.id.to_string())
            .map(|e| e.entry.action)
            .collect();
        for expected in [
            "doctor_request_created",
            "doctor_request_merged",
            "doctor_request_updated",
            "proposal_sent",
            "proposal_answered",
            "doctor_request_viewed",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected} in {actions:?}"
            );
        }
        let states: Vec<String> = s
            .store
            .request_events(s.cpts.id, first.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "state")
            .map(|e| e.to_state)
            .collect();
        assert_eq!(
            states,
            ["qualified", "proposed", "accepted", "first_visit", "closed"]
        );
    })
    .await;
}

#[tokio::test]
async fn the_matching_respects_room_preferences_and_past_refusals() {
    common::for_each_demo(|store, _url| async move {
        let s = setup(store).await;
        // The linked GP has room; another takes only children, near home; the others none.
        let gp = linked_gp(&s).await;
        let capacities = s
            .store
            .list_capacities(s.cpts.id, Page::first(100))
            .await
            .unwrap();
        let picky = capacities
            .iter()
            .map(|c| c.capacity.professional_id)
            .find(|id| *id != gp)
            .unwrap();
        for entry in &capacities {
            let id = entry.capacity.professional_id;
            let (room, ages, limit) = if id == gp {
                (3, "children;adults;elderly", None)
            } else if id == picky {
                (2, "children", Some(15))
            } else {
                (0, "children;adults;elderly", None)
            };
            s.store
                .save_capacity(
                    s.cpts.id,
                    &GpCapacity {
                        professional_id: id,
                        now_capacity: room,
                        later_capacity: 0,
                        communes: String::new(),
                        max_distance_km: limit,
                        age_groups: ages.into(),
                        home_visits: false,
                        updated_at: now_ms(),
                        updated_by: None,
                    },
                    &maillage_store::testing::audit_entry(),
                )
                .await
                .unwrap();
        }
        let summary = s.service.run_matching(&s.caller(), 30.0).await.unwrap();
        assert!(summary.proposed > 0, "{summary:?}");
        let drafts = s
            .store
            .list_proposals(s.cpts.id, &ProposalStatus::Draft, Page::first(500))
            .await
            .unwrap();
        assert_eq!(drafts.len(), summary.proposed);
        let capacities = s
            .store
            .list_capacities(s.cpts.id, Page::first(100))
            .await
            .unwrap();
        for entry in &capacities {
            let given = drafts
                .iter()
                .filter(|d| d.proposal.professional_id == entry.capacity.professional_id)
                .count() as i64;
            assert!(given <= entry.capacity.now_capacity - entry.pending);
        }
        for draft in &drafts {
            assert!(draft.proposal.distance_m <= 30_000);
            if draft.proposal.professional_id == picky {
                assert!(
                    draft.age_at_request < 16,
                    "an adult proposed to a children-only GP"
                );
                assert!(draft.proposal.distance_m <= 15_000);
            }
        }
        // A request whose proposal is declined is not proposed to the same GP again.
        s.service
            .send_drafts(&s.caller(), &s.cpts.slug)
            .await
            .unwrap();
        let outbox = deliver_mail(&s.store).await;
        if let Some(mail) = outbox
            .iter()
            .find(|m| m.recipient == "dr.fabre@camargue.test" && m.body.contains("/proposition/"))
        {
            let token = mail
                .body
                .split("/proposition/")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            let view = s.service.proposal_of_link(token).await.unwrap().unwrap();
            assert!(s
                .service
                .answer(token, ProposalAnswer::Declined, "too_far")
                .await
                .unwrap());
            s.service.run_matching(&s.caller(), 30.0).await.unwrap();
            let drafts = s
                .store
                .list_proposals(s.cpts.id, &ProposalStatus::Draft, Page::first(500))
                .await
                .unwrap();
            assert!(!drafts
                .iter()
                .any(|d| d.proposal.request_id == view.proposal.request_id
                    && d.proposal.professional_id == gp));
        } else {
            panic!("the linked GP, who has room, received no proposal");
        }
    })
    .await;
}

#[tokio::test]
async fn refused_moves_are_named_and_one_link_gives_one_answer() {
    common::for_each_demo(|store, _url| async move {
        let s = Arc::new(setup(store).await);
        let actor = AuditContext::default();
        let input = fields("Essai-Transitions", "15/05/1990", &[])
            .parse(&date_text(now_ms()))
            .unwrap();
        let id = s
            .service
            .submit(&s.caller(), &input, &phone_call())
            .await
            .unwrap()
            .id;
        let refused = s
            .service
            .change_state(&s.caller(), id, RequestState::Closed, "")
            .await
            .unwrap_err();
        assert!(
            matches!(refused, DoctorSearchError::Refused(ref m) if m.contains("Reçue")),
            "{refused}"
        );
        s.service
            .change_state(&s.caller(), id, RequestState::Qualified, "")
            .await
            .unwrap();
        let request = s
            .store
            .find_doctor_request(s.cpts.id, id)
            .await
            .unwrap()
            .unwrap();
        s.store
            .replace_draft_proposals(s.cpts.id, &[], &maillage_store::testing::audit_entry())
            .await
            .unwrap();
        s.service
            .propose_by_hand(&s.caller(), &request, linked_gp(&s).await)
            .await
            .unwrap();
        s.service
            .send_drafts(&s.caller(), &s.cpts.slug)
            .await
            .unwrap();
        let outbox = deliver_mail(&s.store).await;
        let token = outbox
            .iter()
            .find(|m| m.recipient == "dr.fabre@camargue.test" && m.body.contains("/proposition/"))
            .unwrap()
            .body
            .split("/proposition/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let mut answers = Vec::new();
        for index in 0..6 {
            let s = s.clone();
            let token = token.clone();
            answers.push(tokio::spawn(async move {
                let answer = if index % 2 == 0 {
                    ProposalAnswer::Accepted
                } else {
                    ProposalAnswer::Declined
                };
                s.service.answer(&token, answer, "full").await.unwrap()
            }));
        }
        let mut taken = 0;
        for answer in answers {
            taken += usize::from(answer.await.unwrap());
        }
        assert_eq!(taken, 1, "exactly one answer counts");
        let request = s
            .store
            .find_doctor_request(s.cpts.id, id)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(
            request.state,
            RequestState::Accepted | RequestState::Declined
        ));
        // A list with good and bad lines: the good ones recorded, the bad ones named.
        let list =
            "\u{feff}nom;prenom;date_naissance;commune;telephone;email;criteres;consentement\r\n\
                    LISTE;Alix;01/01/1950;30003;0611223344;;ald;oui\r\n\
                    LISTE;Bérénice;31/02/1950;30003;0611223344;;;oui\r\n\
                    LISTE;Côme;01/01/1960;30003;0611223344;;magie;non\r\n";
        let report = s
            .service
            .import_list(
                &actor,
                s.cpts.id,
                list,
                &Origin {
                    channel: Channel::CpamList,
                    ..phone_call()
                },
                |_, _| {},
            )
            .await
            .unwrap();
        assert_eq!((report.lines, report.created, report.merged), (3, 1, 0));
        let lines: Vec<(usize, &str)> = report
            .rejected
            .iter()
            .map(|(l, f, _)| (*l, f.as_str()))
            .collect();
        assert!(lines.contains(&(3, "Date de naissance")), "{lines:?}");
        assert!(
            lines.contains(&(4, "Critères")) && lines.contains(&(4, "Consentement")),
            "{lines:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn ended_requests_are_anonymised_after_the_retention_delay() {
    common::for_each_demo(|store, _url| async move {
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
async fn stale_declarations_are_reminded_once() {
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
async fn gateway(status: u16) -> (String, tokio::task::JoinHandle<String>) {
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
async fn sms_go_to_the_gateway_and_its_refusals_are_told_apart() {
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
async fn with_a_gateway_patients_are_told_by_sms() {
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
        let mut runner = JobRunner::new(store.clone(), JobsConfig::default());
        runner.register(
            maillage_app::notify::SMS_JOB,
            Arc::new(maillage_app::notify::SmsWebhookJob::new("http://127.0.0.1:9/sms").unwrap()),
        );
        assert!(runner.run_once(0).await.unwrap(), "an SMS job was queued");
    })
    .await;
}

#[tokio::test]
async fn a_request_whose_audit_entry_cannot_be_written_is_not_kept() {
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

async fn caller_of(s: &Setup, email: &str) -> maillage_app::caller::Caller {
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
async fn each_role_handles_only_its_own_part_of_the_requests() {
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
    })
    .await;
}

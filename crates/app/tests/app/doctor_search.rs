//! The médecin traitant mission through its service, on SQLite and PostgreSQL: from intake to a declared
//! doctor (with duplicate merging, the GP's answer by link and the patient told), indicators that count
//! exactly what was done, the matching's constraints, refused transitions, one answer per link even when
//! sent twice at once, and retention.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

use common::deliver_mail;

use maillage_app::audit::AuditContext;

use maillage_app::clock::{date_text, day_start_ms, now_ms, year_of};

use maillage_app::demo::DEMO_CPTS_SLUG;

use maillage_app::doctor_search::{
    DoctorSearch, DoctorSearchError, Origin, ProposalAnswer, RequestFields,
};

use maillage_domain::doctor_search::{Channel, RequestState};

use maillage_store::{
    AuditFilter, AuditScope, Cpts, DoctorSearchFigures, GpCapacity, Page, ProposalStatus, Store,
};

use std::sync::Arc;

pub(super) struct Setup {
    pub(super) store: Arc<dyn Store>,
    pub(super) service: DoctorSearch,
    pub(super) cpts: Cpts,
}

impl Setup {
    /// The coordination at the command line: every right in the demo CPTS.
    pub(super) fn caller(&self) -> maillage_app::caller::Caller {
        maillage_app::caller::Caller::command_line(self.cpts.id)
    }
}

pub(super) async fn setup(store: Arc<dyn Store>) -> Setup {
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

pub(super) fn fields(family: &str, birth: &str, criteria: &[&str]) -> RequestFields {
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

pub(super) fn phone_call() -> Origin {
    Origin {
        channel: Channel::Phone,
        referrer: "Pharmacie d'essai".into(),
        referrer_user: None,
        consent_method: "oral, par téléphone".into(),
        recorded_by: None,
    }
}

pub(super) async fn figures(s: &Setup) -> DoctorSearchFigures {
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

pub(super) fn channel_count(f: &DoctorSearchFigures, channel: &str) -> i64 {
    f.by_channel
        .iter()
        .find(|(c, _)| c == channel)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

pub(super) async fn linked_gp(s: &Setup) -> uuid::Uuid {
    let user = s
        .store
        .find_user_by_email("dr.fabre@camargue.test")
        .await
        .unwrap()
        .unwrap();
    s.store
        .membership(s.cpts.id, user.id)
        .await
        .unwrap()
        .and_then(|(_, record)| record)
        .unwrap()
}

#[tokio::test]
pub(super) async fn a_request_goes_from_intake_to_a_declared_doctor_and_the_indicators_count_it() {
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
        let sent = s.service.send_drafts(&s.caller()).await.unwrap().sent;
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
        // A password reset too: its link goes through a job and the outbox.
        let accounts = common::test_accounts(&s.store, &common::demo().await.1);
        accounts
            .request_password_reset(
                "dr.fabre@camargue.test",
                "192.0.2.1",
                "https://cpts.exemple.fr",
                now_ms(),
            )
            .await
            .unwrap()
            .expect("an account");
        let outbox = deliver_mail(&s.store).await;
        let reset = outbox
            .iter()
            .find_map(|m| m.body.split("/mot-de-passe/").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the reset e-mail")
            .to_string();
        // Nothing secret or personal is readable in any table: not the links (proposal, reset), not the
        // patient's e-mail address or phone, not the GP's address in the outbox.
        let raw = common::raw_database(&url).await;
        for needle in [
            token.as_str(),
            reset.as_str(),
            "camille.patient@exemple.fr",
            "06 11 22 33 44",
            "0611223344",
            "/proposition/",
            "/mot-de-passe/",
        ] {
            assert!(
                !raw.contains(needle),
                "« {needle} » readable in the database ({url})"
            );
        }

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
pub(super) async fn the_matching_respects_room_preferences_and_past_refusals() {
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
        s.service.send_drafts(&s.caller()).await.unwrap();
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
pub(super) async fn refused_moves_are_named_and_one_link_gives_one_answer() {
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
        s.service.send_drafts(&s.caller()).await.unwrap();
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

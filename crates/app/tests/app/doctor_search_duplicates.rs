//! Possible duplicates: a public or partner submission naming a person who already has an open request
//! changes nothing on it, is answered as a new request, and waits for the secretariat's decision.

use crate::common;
use crate::doctor_search::{fields, phone_call, setup, Setup};
use crate::doctor_search_upkeep_and_rights::caller_of;
use maillage_app::audit::AuditContext;
use maillage_app::clock::{date_text, now_ms};
use maillage_app::doctor_search::{DoctorSearchError, DuplicateDecision, Origin};
use maillage_store::{AuditFilter, AuditScope, DoctorRequest, Page};

async fn request(s: &Setup, id: uuid::Uuid) -> Option<DoctorRequest> {
    s.store.find_doctor_request(s.cpts.id, id).await.unwrap()
}

#[tokio::test]
async fn a_public_or_partner_submission_changes_nothing_on_an_open_request_until_reviewed() {
    common::for_each_demo(|store, engine| async move {
        let s = setup(store).await;
        let today = date_text(now_ms());
        let first = s
            .service
            .submit(
                &s.caller(),
                &fields("Doublon-Essai", "02/03/1948", &["ald"])
                    .parse(&today)
                    .unwrap(),
                &phone_call(),
            )
            .await
            .unwrap();
        let before = request(&s, first.id).await.unwrap();
        // Someone who knows the name and birth date, through the public form, with another criterion.
        let public = s
            .service
            .submit_public(
                &AuditContext::default(),
                s.cpts.id,
                &fields("DOUBLON-ESSAI", "1948-03-02", &["isolation", "css"])
                    .parse(&today)
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(!public.merged, "{engine}: answered as a new request");
        assert_ne!(public.id, first.id);
        let unchanged = request(&s, first.id).await.unwrap();
        assert_eq!(
            (
                unchanged.criteria,
                unchanged.priority,
                unchanged.submissions
            ),
            (before.criteria, before.priority, before.submissions),
            "{engine}: the open request is not altered"
        );
        // A partner's referral of the same person: the same.
        let partner = caller_of(&s, "dac@camargue.test").await;
        let referral = s
            .service
            .submit(
                &partner,
                &fields("Doublon-Essai", "02/03/1948", &["precarity"])
                    .parse(&today)
                    .unwrap(),
                &Origin {
                    referrer: "DAC".into(),
                    ..phone_call()
                },
            )
            .await
            .unwrap();
        assert!(!referral.merged, "{engine}");
        assert_eq!(request(&s, first.id).await.unwrap().submissions, 1);
        // The partner sees their own referral, not the other request.
        let theirs = s
            .service
            .my_referrals(&partner, Page::first(100))
            .await
            .unwrap();
        assert!(theirs.iter().any(|r| r.id == referral.id));
        assert!(theirs.iter().all(|r| r.id != first.id));

        // The secretariat sees both waiting, each pointing at the open request.
        let secretary = caller_of(&s, "secretariat@camargue.test").await;
        let waiting: Vec<_> = s
            .service
            .possible_duplicates(&secretary, Page::first(50))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(waiting, vec![public.id, referral.id], "{engine}");
        let flagged = request(&s, public.id).await.unwrap();
        let of = s
            .service
            .possible_duplicate(&secretary, &flagged)
            .await
            .unwrap();
        assert_eq!(of.map(|r| r.id), Some(first.id));
        // Neither the partner nor a member decides.
        for who in ["dac@camargue.test", "dr.fabre@camargue.test"] {
            let refused = s
                .service
                .decide_duplicate(
                    &caller_of(&s, who).await,
                    public.id,
                    DuplicateDecision::Merge,
                )
                .await;
            assert!(refused.is_err(), "{engine}: {who} decided");
        }
        // Kept apart: the flag goes, the request stays; deciding again is refused.
        s.service
            .decide_duplicate(&secretary, referral.id, DuplicateDecision::KeepApart)
            .await
            .unwrap();
        assert!(request(&s, referral.id).await.is_some());
        assert!(matches!(
            s.service
                .decide_duplicate(&secretary, referral.id, DuplicateDecision::Merge)
                .await,
            Err(DoctorSearchError::Refused(_))
        ));
        // Merged: the open request gets the criteria and the submission; the duplicate and its identity go.
        let patient = flagged.patient_id.unwrap();
        let shown = s
            .service
            .decide_duplicate(&secretary, public.id, DuplicateDecision::Merge)
            .await
            .unwrap();
        assert_eq!(shown, first.id);
        let merged = request(&s, first.id).await.unwrap();
        assert!(merged.criteria.ald && merged.criteria.isolation && merged.criteria.css);
        assert_eq!(merged.submissions, 2);
        assert!(merged.priority > before.priority, "{engine}");
        assert!(request(&s, public.id).await.is_none());
        assert!(s
            .store
            .find_patient(s.cpts.id, patient)
            .await
            .unwrap()
            .is_none());
        assert!(s
            .service
            .possible_duplicates(&secretary, Page::first(50))
            .await
            .unwrap()
            .is_empty());
        let actions: Vec<(String, String)> = s
            .store
            .list_audit(
                AuditScope::Cpts(s.cpts.id),
                &AuditFilter::default(),
                Page::first(20),
            )
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.entry.action, e.entry.target_id))
            .collect();
        assert!(actions.contains(&("doctor_request_merged".into(), first.id.to_string())));
        assert!(actions.contains(&("doctor_request_kept_apart".into(), referral.id.to_string())));
    })
    .await;
}

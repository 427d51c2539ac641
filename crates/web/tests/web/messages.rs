//! Nothing sent silently: a proposal to a GP without an e-mail is "à appeler" on its request's page and on the
//! dashboard, her answer on the phone is recorded, the patient called; a logged-in GP answers in "Mes places".

use super::*;
use maillage_domain::doctor_search::RequestState;
use uuid::Uuid;

/// A qualified request, proposed to `gp` and sent by the coordination; returns (request, proposal).
async fn sent_to(
    app: &TestApp,
    cpts: maillage_store::CptsId,
    family: &str,
    gp: Uuid,
) -> (Uuid, Uuid) {
    let service = &app.state.missions.doctor_search;
    let caller = maillage_app::caller::Caller::command_line(cpts);
    let input = maillage_app::doctor_search::RequestFields {
        family_name: family.into(),
        given_names: "Camille".into(),
        birth_date: "02/03/1950".into(),
        commune: "30003".into(),
        phone: "06 11 22 33 44".into(),
        consent: Some("oui".into()),
        ..Default::default()
    }
    .parse(&maillage_app::clock::date_text(
        maillage_app::clock::now_ms(),
    ))
    .unwrap();
    let origin = maillage_app::doctor_search::Origin {
        channel: maillage_domain::doctor_search::Channel::Phone,
        referrer: String::new(),
        referrer_user: None,
        consent_method: "oral, au téléphone".into(),
        recorded_by: None,
    };
    let created = service.submit(&caller, &input, &origin).await.unwrap();
    service
        .change_state(&caller, created.id, RequestState::Qualified, "")
        .await
        .unwrap();
    let request = service.request(&caller, created.id).await.unwrap();
    app.store
        .replace_draft_proposals(cpts, &[], &maillage_store::testing::audit_entry())
        .await
        .unwrap();
    service
        .propose_by_hand(&caller, &request, gp)
        .await
        .unwrap();
    service.send_drafts(&caller).await.unwrap();
    let proposal = service.proposals_of(&caller, created.id).await.unwrap()[0]
        .proposal
        .id;
    (created.id, proposal)
}

#[tokio::test]
async fn a_gp_without_an_e_mail_is_to_be_called_and_a_logged_in_gp_answers_in_mes_places() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let caller = maillage_app::caller::Caller::command_line(cpts.id);
        let service = &app.state.missions.doctor_search;
        let mut without = None;
        for gp in service.general_practitioners(&caller, 200).await.unwrap() {
            if app
                .store
                .professional_email(cpts.id, gp.id)
                .await
                .unwrap()
                .is_none()
            {
                without = Some(gp.id);
                break;
            }
        }
        let (request, proposal) = sent_to(&app, cpts.id, "Appeler-Test", without.unwrap()).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let page_path = format!("/c/camargue-gardoise/medecin-traitant/demandes/{request}");
        let page = app.get(&page_path, Some(&coordinator)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("pas d&#39;adresse : à appeler"),
            "{}",
            page.body
        );
        assert!(page.body.contains("a répondu par téléphone"));
        // The dashboard's « À faire » says whom to call, with a link to the request.
        let dashboard = app.get("/c/camargue-gardoise", Some(&coordinator)).await;
        assert!(dashboard.body.contains("À faire"));
        assert!(
            dashboard.body.contains(&format!(
                "/medecin-traitant/demandes/{request}\">Appeler : une proposition au médecin"
            )),
            "{}",
            dashboard.body
        );
        // A refusal without its reason: named, nothing changes.
        let answer_path = format!(
            "/c/camargue-gardoise/medecin-traitant/propositions/{proposal}/reponse-telephone"
        );
        let bad = app
            .post_form(
                &answer_path,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("answer", "decline"),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Raison du refus"));
        let nonsense = app
            .post_form(
                &answer_path,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("answer", "peut-etre")],
            )
            .await;
        assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            service.request(&caller, request).await.unwrap().state,
            RequestState::Proposed
        );
        let done = app
            .post_form(
                &answer_path,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("answer", "accept")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let page = app
            .get(&format!("{page_path}?reponse=1"), Some(&coordinator))
            .await;
        assert!(page.body.contains("Réponse du médecin enregistrée."));
        assert!(page.body.contains("appelé"));
        // The patient has a phone but no e-mail, and no SMS gateway is set: she is to be called too.
        assert!(page.body.contains("Messages au patient"));
        assert!(page.body.contains("J'ai prévenu le patient par téléphone"));
        assert!(page.body.contains("href=\"tel:"));
        let proposals = service.proposals_of(&caller, request).await.unwrap();
        let (_, to_patient) = service
            .messages_of(&caller, request, &proposals)
            .await
            .unwrap();
        // Told at intake and at the acceptance: one call settles both.
        assert!(
            to_patient.iter().all(|d| d.shown().needs_a_call()),
            "{to_patient:?}"
        );
        let called = app
            .post_form(
                &format!(
                    "/c/camargue-gardoise/medecin-traitant/messages/{}/appele",
                    to_patient[0].id
                ),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf)],
            )
            .await;
        assert_eq!(called.status, StatusCode::SEE_OTHER);
        let page = app.get(&page_path, Some(&coordinator)).await;
        assert!(!page.body.contains("pas d&#39;adresse : à appeler"));
        assert!(
            page.body.contains("Patient prévenu (téléphone)"),
            "{}",
            page.body
        );
        assert_eq!(
            service.request(&caller, request).await.unwrap().state,
            RequestState::Accepted
        );

        // The logged-in GP sees her proposal in "Mes places" and accepts it there.
        let user = app.store.find_user_by_email(MEMBER).await.unwrap().unwrap();
        let own = app
            .store
            .membership(cpts.id, user.id)
            .await
            .unwrap()
            .and_then(|(_, record)| record)
            .unwrap();
        let (mine, my_proposal) = sent_to(&app, cpts.id, "Mesplaces-Test", own).await;
        let member = app.login_as(MEMBER).await;
        let places = app
            .get("/c/camargue-gardoise/ma-capacite", Some(&member))
            .await;
        assert!(
            places.body.contains("J'accepte ce patient"),
            "{}",
            places.body
        );
        let accept_path = format!("/c/camargue-gardoise/ma-capacite/propositions/{my_proposal}");
        // Someone else's proposal is not found for her.
        let other = app
            .post_form(
                &format!("/c/camargue-gardoise/ma-capacite/propositions/{proposal}"),
                Some(&member.cookie),
                &[("csrf", &member.csrf), ("answer", "accept")],
            )
            .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);
        let accepted = app
            .post_form(
                &accept_path,
                Some(&member.cookie),
                &[("csrf", &member.csrf), ("answer", "accept")],
            )
            .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER);
        assert_eq!(
            service.request(&caller, mine).await.unwrap().state,
            RequestState::Accepted
        );
        let after = app
            .get("/c/camargue-gardoise/ma-capacite?acceptee=1", Some(&member))
            .await;
        assert!(after.body.contains("vous acceptez ce patient"));
        // Her dashboard has her shortcuts; the coordination's tells the accepted requests' patients are to be told.
        let home = app.get("/c/camargue-gardoise", Some(&member)).await;
        assert!(home.body.contains("aria-label=\"Mes raccourcis\""));
        let dashboard = app.get("/c/camargue-gardoise", Some(&coordinator)).await;
        assert!(dashboard
            .body
            .contains("par un médecin : prévenir le patient"));
    }
}

#[tokio::test]
async fn the_matching_page_writes_its_own_sentences_and_no_url_can_put_one_there() {
    for app in each_backend().await {
        let coordinator = app.login_as(COORDINATOR).await;
        let base = "/c/camargue-gardoise/medecin-traitant/appariement";
        let forged = app
            .get(
                &format!("{base}?resultat=Votre+compte+est+suspendu%2C+appelez+le+0899"),
                Some(&coordinator),
            )
            .await;
        assert_eq!(forged.status, StatusCode::OK);
        assert!(!forged.body.contains("suspendu"));
        let sent = app
            .get(
                &format!("{base}?envoyees=7&a_appeler=4"),
                Some(&coordinator),
            )
            .await;
        assert!(sent.body.contains(
            "7 propositions envoyées aux médecins : 3 par e-mail, 4 sans adresse e-mail, à appeler"
        ));
        let one = app
            .get(&format!("{base}?envoyees=1"), Some(&coordinator))
            .await;
        assert!(one.body.contains("1 proposition envoyée aux médecins."));
        let bad = app
            .get(&format!("{base}?envoyees=beaucoup"), Some(&coordinator))
            .await;
        assert!(bad.status.is_client_error(), "{}", bad.status);
    }
}

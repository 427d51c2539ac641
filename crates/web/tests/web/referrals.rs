//! Finding and following referrals: the secretariat searches requests by the patient's name, birth date or
//! phone (keyed search terms); a partner follows her own referrals by name, adds information, withdraws.

use super::*;

#[tokio::test]
async fn the_secretariat_finds_a_request_by_the_patients_name_birth_date_or_phone() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let partner = app.login_as(PARTNER).await;
        let base = "/c/camargue-gardoise/medecin-traitant";
        let created = app
            .post_form(
                &format!("{base}/nouvelle"),
                Some(&partner.cookie),
                &[
                    ("csrf", partner.csrf.as_str()),
                    ("referrer", "Antenne de Lunel"),
                    ("family_name", "Recherché-Essai"),
                    ("given_names", "Zoé"),
                    ("birth_date", "07/08/1951"),
                    ("commune", "30133"),
                    ("phone", "0466001122"),
                    ("criteria", "loss_of_autonomy"),
                    ("consent", "oui"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let request = open_requests(&app, cpts.id)
            .await
            .into_iter()
            .find(|r| r.channel == "partner" && r.referrer.contains("Antenne de Lunel"))
            .unwrap();
        let link = format!("{base}/demandes/{}", request.id);
        let secretary = app.login_as(SECRETARY).await;
        let listed_before = app.audit_of(cpts.id, "doctor_requests_listed").await.len();
        for search in ["recherche-essai", "Zoé", "1951-08-07", "04.66.00.11.22"] {
            let found = app
                .get(
                    &format!("{base}?q={}", maillage_web::access::url_encode(search)),
                    Some(&secretary),
                )
                .await;
            assert_eq!(found.status, StatusCode::OK, "{search}");
            assert!(found.body.contains(&link), "{search}");
            // Only what matches: the demo's other requests are not listed.
            assert_eq!(found.body.matches("— ouvrir</a>").count(), 1, "{search}");
        }
        // The search is audited as a listing, saying that a search was made and never what was typed.
        let listed = app.audit_of(cpts.id, "doctor_requests_listed").await;
        assert!(listed.len() >= listed_before + 4);
        let last = listed.last().unwrap();
        assert!(!format!("{last:?}").contains("Recherch"), "{last:?}");
        // A different date, an unknown name: nothing.
        for search in ["07/08/1952", "Inconnue"] {
            let found = app
                .get(&format!("{base}?q={search}"), Some(&secretary))
                .await;
            assert!(!found.body.contains(&link), "{search}");
        }
        let bad = app
            .get(&format!("{base}?q=31/02/1951"), Some(&secretary))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("Recherche"));
    }
}

#[tokio::test]
async fn a_partner_follows_her_referral_by_name_adds_information_and_withdraws_it() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let partner = app.login_as(PARTNER).await;
        let base = "/c/camargue-gardoise/medecin-traitant";
        let created = app
            .post_form(
                &format!("{base}/nouvelle"),
                Some(&partner.cookie),
                &[
                    ("csrf", partner.csrf.as_str()),
                    ("referrer", "Antenne de Lunel"),
                    ("family_name", "Suivi-Essai"),
                    ("given_names", "Jade"),
                    ("birth_date", "03/04/1944"),
                    ("commune", "30133"),
                    ("phone", "0466009988"),
                    ("criteria", "loss_of_autonomy"),
                    ("consent", "oui"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let request = open_requests(&app, cpts.id)
            .await
            .into_iter()
            .find(|r| r.channel == "partner" && r.referrer.contains("Antenne de Lunel"))
            .unwrap();
        let page = format!("{base}/adressages/{}", request.id);
        // Her list names the patient (an audited read) and links to the referral.
        let viewed_before = app.audit_of(cpts.id, "referrals_viewed").await.len();
        let list = app.get(&format!("{base}/adressages"), Some(&partner)).await;
        assert!(list.body.contains("Suivi-Essai Jade"), "{}", list.body);
        assert!(list.body.contains(&format!(r#"href="{page}""#)));
        assert!(app.audit_of(cpts.id, "referrals_viewed").await.len() > viewed_before);
        let shown = app.get(&page, Some(&partner)).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(shown.body.contains("Demande reçue par la CPTS"));
        assert!(shown.body.contains("tel:+33466009988"));
        // Information: empty is refused with the field named; written, sealed with the identity.
        let information = format!("{page}/information");
        let empty = app
            .post_form(
                &information,
                Some(&partner.cookie),
                &[("csrf", &partner.csrf), ("information", "  ")],
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("Information"));
        let added = app
            .post_form(
                &information,
                Some(&partner.cookie),
                &[
                    ("csrf", &partner.csrf),
                    (
                        "information",
                        "Hospitalisée à Nîmes jusqu'à lundi, rappeler sa fille",
                    ),
                ],
            )
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER);
        let shown = app.get(&page, Some(&partner)).await;
        assert!(shown.body.contains("Information ajoutée par le partenaire"));
        assert!(shown.body.contains("rappeler sa fille"));
        let url = &app._database.url;
        assert_eq!(
            maillage_store::testing::raw_count(
                url,
                "SELECT COUNT(*) FROM doctor_request_events WHERE detail LIKE '%fille%'"
            )
            .await,
            0,
            "the information is sealed with the identity, not in the history"
        );
        // The coordination reads it on the request page.
        let coordinator = app.login_as(COORDINATOR).await;
        let request_page = app
            .get(
                &format!("{base}/demandes/{}", request.id),
                Some(&coordinator),
            )
            .await;
        assert!(request_page.body.contains("rappeler sa fille"));
        // Another partner of the CPTS does not reach it (the coordination, which handles every request, does).
        app.state
            .accounts
            .create(
                maillage_app::accounts::AccountRequest {
                    email: "mairie@camargue.test",
                    display_name: "Mairie de Lunel",
                    password: DEMO_PASSWORD,
                    is_platform_admin: false,
                    role: Some((cpts.id, maillage_domain::authz::Role::Partner)),
                },
                maillage_app::clock::now_ms(),
            )
            .await
            .unwrap();
        let town_hall = app.login_as("mairie@camargue.test").await;
        for path in [page.clone(), format!("{page}/information")] {
            let answer = if path.ends_with("information") {
                app.post_form(
                    &path,
                    Some(&town_hall.cookie),
                    &[("csrf", &town_hall.csrf), ("information", "intrusion")],
                )
                .await
            } else {
                app.get(&path, Some(&town_hall)).await
            };
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        }
        let theirs = app
            .get(&format!("{base}/adressages"), Some(&town_hall))
            .await;
        assert!(!theirs.body.contains("Suivi-Essai"));
        assert_eq!(
            app.get(&page, Some(&coordinator)).await.status,
            StatusCode::OK
        );
        // The journal says it in words, with a link to the request's page.
        let journal = app
            .get(
                &format!("/c/{DEMO_CPTS_SLUG}/journal?action=referral_information_added"),
                Some(&coordinator),
            )
            .await;
        assert!(journal
            .body
            .contains("Information ajoutée par le partenaire"));
        assert!(
            journal.body.contains(&format!(
                r#"<a href="{base}/demandes/{}">demande de médecin traitant ("#,
                request.id
            )),
            "{}",
            journal.body
        );
        // Withdrawn after a confirmation page; then nothing more can be added.
        let withdraw = format!("{page}/retirer");
        let asked = app
            .post_form(&withdraw, Some(&partner.cookie), &[("csrf", &partner.csrf)])
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Retirer cet adressage ?"));
        let done = app
            .post_form(
                &withdraw,
                Some(&partner.cookie),
                &[("csrf", &partner.csrf), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let after = app
            .store
            .find_doctor_request(cpts.id, request.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            after.state,
            maillage_domain::doctor_search::RequestState::Withdrawn
        );
        let late = app
            .post_form(
                &information,
                Some(&partner.cookie),
                &[("csrf", &partner.csrf), ("information", "encore")],
            )
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
    }
}

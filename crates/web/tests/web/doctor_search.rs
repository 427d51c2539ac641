//! Access to a médecin traitant: the public form, referrals, list imports, declared room.

use super::*;

#[tokio::test]
async fn the_public_form_names_each_bad_field_keeps_robots_out_and_limits_submissions() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let path = "/demande-medecin/camargue-gardoise";
        let (cookie, csrf) = public_visit(&app, path).await;
        let before = open_requests(&app, cpts.id).await.len();
        let bad = app
            .post_form(
                path,
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("family_name", ""),
                    ("given_names", "Léa"),
                    ("birth_date", "32/13/1990"),
                    ("commune", "99999"),
                    ("phone", "12"),
                    ("criteria", "ald"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.names_fields(&[
            "Nom",
            "Date de naissance",
            "Commune",
            "Téléphone",
            "Consentement",
        ]);
        assert_eq!(
            open_requests(&app, cpts.id).await.len(),
            before,
            "nothing half-written"
        );
        let good = [
            ("csrf", csrf.as_str()),
            ("family_name", "Publique-Essai"),
            ("given_names", "Léa"),
            ("birth_date", "14/07/1950"),
            ("commune", "30003"),
            ("phone", "06 12 34 56 78"),
            ("criteria", "isolation"),
            ("consent_by", "relative"),
            ("consent", "oui"),
        ];
        let sent = app.post_form(path, Some(&cookie), &good).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
        let requests = open_requests(&app, cpts.id).await;
        assert_eq!(requests.len(), before + 1);
        let created = requests
            .iter()
            .find(|r| r.channel == "web_form" && r.criteria.isolation && r.age_at_request == 76)
            .unwrap();
        assert_eq!(created.consent_by, "relative");
        assert!(created.consent_method.contains("formulaire public"));
        // A robot fills the hidden field: told "sent", nothing kept.
        let mut robot = good.to_vec();
        robot.push(("site_web", "http://spam.example"));
        robot[1] = ("family_name", "Robot");
        assert_eq!(
            app.post_form(path, Some(&cookie), &robot).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(open_requests(&app, cpts.id).await.len(), before + 1);
        // Without the form's token, refused.
        assert_eq!(
            app.post_form(path, None, &good[1..]).await.status,
            StatusCode::FORBIDDEN
        );
        // Five submissions an hour from one address, then a wait.
        let mut statuses = Vec::new();
        for index in 0..6 {
            let name = format!("Limite-{index}");
            let mut fields = good.to_vec();
            fields[1] = ("family_name", &name);
            statuses.push(app.post_form(path, Some(&cookie), &fields).await.status);
        }
        // The form with mistakes and the good one above were the first two of the hour (the robot's is not
        // counted): three more pass, the rest wait.
        let (passed, refused) = statuses.split_at(3);
        assert!(
            passed.iter().all(|s| *s == StatusCode::SEE_OTHER),
            "{statuses:?}"
        );
        assert!(
            refused.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        // An unknown CPTS has no form.
        assert_eq!(
            app.get("/demande-medecin/inconnue", None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn partners_follow_their_own_referrals_and_only_the_coordination_reads_requests() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let partner = app.login_as(PARTNER).await;
        let base = "/c/camargue-gardoise/medecin-traitant";
        let form = [
            ("csrf", partner.csrf.as_str()),
            ("referrer", "Antenne de Lunel"),
            ("family_name", "Adresse-Essai"),
            ("given_names", "Noé"),
            ("birth_date", "01/02/1939"),
            ("commune", "30133"),
            ("phone", "0466000000"),
            ("criteria", "loss_of_autonomy"),
            ("consent", "oui"),
        ];
        let created = app
            .post_form(&format!("{base}/nouvelle"), Some(&partner.cookie), &form)
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let request = open_requests(&app, cpts.id)
            .await
            .into_iter()
            .find(|r| r.channel == "partner" && r.referrer.contains("Antenne de Lunel"))
            .unwrap();
        let partner_user = app
            .store
            .find_user_by_email(PARTNER)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.referrer_user_id, Some(partner_user.id));
        // The partner sees whom she referred and where the referral is, not who else was referred, and not
        // the request page.
        let mine = app.get(&format!("{base}/adressages"), Some(&partner)).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("Reçue"));
        assert!(
            mine.body.contains("Adresse-Essai Noé"),
            "the list names her own patient"
        );
        let hers = app
            .store
            .list_doctor_requests(
                cpts.id,
                &maillage_store::RequestFilter {
                    referrer: Some(partner_user.id),
                    ..Default::default()
                },
                Page::first(100),
            )
            .await
            .unwrap()
            .len();
        assert!(hers >= 2, "the demo's DAC referral and this one");
        assert_eq!(
            mine.body.matches("<tr><td").count(),
            hers,
            "only their own referrals"
        );
        let page = format!("{base}/demandes/{}", request.id);
        assert_eq!(
            app.get(&page, Some(&partner)).await.status,
            StatusCode::FORBIDDEN
        );
        let member = app.login_as(MEMBER).await;
        assert_eq!(
            app.get(&page, Some(&member)).await.status,
            StatusCode::FORBIDDEN
        );
        // The secretary reads it (audited), with the identity decrypted.
        let secretary = app.login_as(SECRETARY).await;
        let read = app.get(&page, Some(&secretary)).await;
        assert_eq!(read.status, StatusCode::OK);
        assert!(
            read.body.contains("Adresse-Essai") && read.body.contains("perte d&#39;autonomie")
                || read.body.contains("Perte d")
        );
        let audited = app.audit_of(cpts.id, "doctor_request_viewed").await;
        assert!(audited
            .iter()
            .any(|e| e.entry.target_id == request.id.to_string()));
        // A refused move names the states; nothing changes.
        let refused = app
            .post_form(
                &format!("{page}/etat"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("to", "closed")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("Reçue"));
        // Each state once: the table says it all. Back to a state: the page adds the totals per state.
        assert!(!read.body.contains("Temps total par état"));
        for to in ["incomplete", "qualified", "incomplete"] {
            let step = app
                .post_form(
                    &format!("{page}/etat"),
                    Some(&secretary.cookie),
                    &[("csrf", &secretary.csrf), ("to", to)],
                )
                .await;
            assert_eq!(step.status, StatusCode::SEE_OTHER, "{to}: {}", step.body);
        }
        let again = app.get(&page, Some(&secretary)).await;
        assert!(
            again
                .body
                .contains("Temps total par état : Reçue : moins d&#39;un jour · Incomplète"),
            "{}",
            again.body
        );
        let moved = app
            .post_form(
                &format!("{page}/etat"),
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("to", "redirected"),
                    ("redirection", "dac"),
                ],
            )
            .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
        let after = app
            .store
            .find_doctor_request(cpts.id, request.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (after.state.code(), after.outcome.as_str()),
            ("redirected", "dac")
        );
        // A coordinator of another CPTS does not find it, even with its address.
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let theirs = open_requests(&app, vidourle.id).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let foreign = format!("{base}/demandes/{}", theirs[0].id);
        assert_eq!(
            app.get(&foreign, Some(&coordinator)).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn a_list_is_imported_with_its_bad_lines_named_and_indicators_export_for_excel() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let before = open_requests(&app, cpts.id).await.len();
        let list =
            "\u{feff}nom;prenom;date_naissance;commune;telephone;email;criteres;consentement\r\n\
                    LISTE-WEB;Alix;01/01/1950;30003;0611223344;;ald;oui\r\n\
                    LISTE-WEB;Basile;01/01/1951;30003;;;;oui\r\n";
        let send = |query: String, body: Vec<u8>| {
            Request::post(format!(
                "/c/camargue-gardoise/medecin-traitant/import{query}"
            ))
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=LIMITE")
            .header(header::COOKIE, &coordinator.cookie)
            .body(Body::from(body))
            .unwrap()
        };
        let body = list_multipart("LIMITE", "cpam_list", "CPAM du Gard", list.as_bytes());
        assert_eq!(
            app.send(send(String::new(), body.clone())).await.status,
            StatusCode::FORBIDDEN
        );
        let started = app
            .send(send(format!("?csrf={}", coordinator.csrf), body))
            .await;
        assert_eq!(
            started.status,
            StatusCode::SEE_OTHER,
            "checked and recorded in the background"
        );
        let progress = started.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let state = finished_import(&app, &coordinator, &progress).await;
        assert!(state.contains("<td>3</td><td>Téléphone</td>"), "{state}");
        assert_eq!(open_requests(&app, cpts.id).await.len(), before + 1);
        let page = app.get(&progress, Some(&coordinator)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("liste.csv"));
        let bad_header = list_multipart(
            "LIMITE",
            "cpam_list",
            "CPAM du Gard",
            b"nom;prenom\r\nA;B\r\n",
        );
        let refused_header = app
            .send(send(format!("?csrf={}", coordinator.csrf), bad_header))
            .await;
        assert_eq!(refused_header.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused_header
                .body
                .contains("colonne « date_naissance » manquante"),
            "{}",
            refused_header.body
        );
        let no_referrer = list_multipart("LIMITE", "cpam_list", "", list.as_bytes());
        let refused = app
            .send(send(format!("?csrf={}", coordinator.csrf), no_referrer))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Envoyée par"));

        let page = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/indicateurs",
                Some(&coordinator),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Liste de la CPAM") && page.body.contains("<svg"));
        let csv = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/indicateurs.csv",
                Some(&coordinator),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with('\u{feff}'));
        // Typed rows: group, stable code, label, the value as a number, its unit.
        assert!(
            csv.body
                .contains("Demandes par canal;canal.cpam_list;Liste de la CPAM;"),
            "{}",
            csv.body
        );
        assert!(csv.body.contains(
            "Indicateurs;delai_median;Délai médian entre la demande et le médecin traitant;"
        ));
        assert!(csv.body.contains(";nombre\r\n") && csv.body.contains(";jours\r\n"));
        let xlsx = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/indicateurs.xlsx",
                Some(&coordinator),
            )
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(!app
            .audit_of(cpts.id, "doctor_requests_exported")
            .await
            .is_empty());
        // Matching from the page, then the drafts are listed with their explanation.
        let run = app
            .post_form(
                "/c/camargue-gardoise/medecin-traitant/appariement",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("max_distance_km", "30")],
            )
            .await;
        assert_eq!(run.status, StatusCode::SEE_OTHER);
        let bad_run = app
            .post_form(
                "/c/camargue-gardoise/medecin-traitant/appariement",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("max_distance_km", "loin")],
            )
            .await;
        assert_eq!(bad_run.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_run.body.contains("Distance maximale"));
        let matching = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/appariement",
                Some(&coordinator),
            )
            .await;
        assert!(matching.body.contains("km du cabinet"), "drafts explained");
        // A link that does not exist is gone, not an error.
        assert_eq!(
            app.get(&format!("/proposition/{}", "a".repeat(43)), None)
                .await
                .status,
            StatusCode::GONE
        );
    }
}

#[tokio::test]
async fn a_gp_declares_room_in_two_clicks_and_bad_numbers_are_named() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let member = app.login_as(MEMBER).await;
        let page = app
            .get("/c/camargue-gardoise/ma-capacite", Some(&member))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("name=\"quick\" value=\"5\""));
        let declarations_before = app.audit_of(cpts.id, "capacity_declared").await.len();
        let quick = app
            .post_form(
                "/c/camargue-gardoise/ma-capacite",
                Some(&member.cookie),
                &[("csrf", &member.csrf), ("quick", "5")],
            )
            .await;
        assert_eq!(quick.status, StatusCode::SEE_OTHER);
        let declared_before = declarations_before;
        let user = app.store.find_user_by_email(MEMBER).await.unwrap().unwrap();
        let gp = app
            .store
            .membership(cpts.id, user.id)
            .await
            .unwrap()
            .and_then(|(_, record)| record)
            .unwrap();
        let declared = app.store.find_capacity(cpts.id, gp).await.unwrap().unwrap();
        assert_eq!(declared.now_capacity, 5);
        let bad = app
            .post_form(
                "/c/camargue-gardoise/ma-capacite",
                Some(&member.cookie),
                &[
                    ("csrf", &member.csrf),
                    ("now", "-3"),
                    ("later", "beaucoup"),
                    ("age_groups", "adults"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.names_fields(&["Places maintenant", "Places d&#39;ici 6 mois"]);
        assert_eq!(
            app.store
                .find_capacity(cpts.id, gp)
                .await
                .unwrap()
                .unwrap()
                .now_capacity,
            5
        );
        // The quick declaration is audited, the refused one is not.
        app.assert_audited_once(
            cpts.id,
            "capacity_declared",
            declared_before,
            &gp.to_string(),
        )
        .await;
    }
}

#[tokio::test]
async fn a_public_submission_naming_someone_already_waiting_changes_nothing_until_the_secretariat_decides(
) {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let path = "/demande-medecin/camargue-gardoise";
        let (cookie, csrf) = public_visit(&app, path).await;
        let submit = |criterion: &'static str| {
            let (app, cookie, csrf) = (&app, cookie.clone(), csrf.clone());
            async move {
                app.post_form(
                    path,
                    Some(&cookie),
                    &[
                        ("csrf", csrf.as_str()),
                        ("family_name", "Homonyme-Essai"),
                        ("given_names", "Jeanne"),
                        ("birth_date", "01/02/1944"),
                        ("commune", "30003"),
                        ("phone", "06 98 76 54 32"),
                        ("criteria", criterion),
                        ("consent_by", "patient"),
                        ("consent", "oui"),
                    ],
                )
                .await
            }
        };
        let first = submit("ald").await;
        assert_eq!(first.status, StatusCode::SEE_OTHER);
        let original = open_requests(&app, cpts.id)
            .await
            .into_iter()
            .find(|r| r.criteria.ald && r.age_at_request >= 82 && r.channel == "web_form")
            .unwrap();
        // The same name and birth date again, with another criterion: the same answer as a new request.
        let second = submit("isolation").await;
        assert_eq!(second.status, first.status);
        assert_eq!(
            second.headers[header::LOCATION],
            first.headers[header::LOCATION]
        );
        let after = app
            .store
            .find_doctor_request(cpts.id, original.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (after.criteria, after.priority, after.submissions),
            (original.criteria, original.priority, 1),
            "the open request is untouched"
        );

        // The secretariat is told, opens it, and must confirm a merge.
        let secretary = app.login_as(SECRETARY).await;
        let list = app
            .get(
                &format!("/c/{DEMO_CPTS_SLUG}/medecin-traitant"),
                Some(&secretary),
            )
            .await;
        assert!(
            list.body.contains("Doublons possibles à vérifier"),
            "{}",
            list.body
        );
        let duplicate = list
            .body
            .split("/medecin-traitant/demandes/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_string();
        assert_ne!(duplicate, original.id.to_string());
        let page_path = format!("/c/{DEMO_CPTS_SLUG}/medecin-traitant/demandes/{duplicate}");
        let page = app.get(&page_path, Some(&secretary)).await;
        assert!(page.body.contains("Doublon possible"), "{}", page.body);
        assert!(page.body.contains(&original.id.to_string()));
        let decide = |fields: Vec<(&'static str, &'static str)>| {
            let (app, secretary, page_path) = (&app, &secretary, page_path.clone());
            async move {
                let mut all = vec![("csrf", secretary.csrf.as_str())];
                all.extend(fields);
                app.post_form(
                    &format!("{page_path}/doublon"),
                    Some(&secretary.cookie),
                    &all,
                )
                .await
            }
        };
        let unconfirmed = decide(vec![("decision", "reunir")]).await;
        assert_eq!(unconfirmed.status, StatusCode::SEE_OTHER);
        let told = app
            .get(
                unconfirmed.headers[header::LOCATION].to_str().unwrap(),
                Some(&secretary),
            )
            .await;
        assert!(
            told.body.contains("Confirmation : cochez la case"),
            "{}",
            told.body
        );
        assert_eq!(
            app.store
                .find_doctor_request(cpts.id, original.id)
                .await
                .unwrap()
                .unwrap()
                .submissions,
            1,
            "nothing merged without the confirmation"
        );
        let merged = decide(vec![("decision", "reunir"), ("confirmation", "oui")]).await;
        assert_eq!(
            merged.headers[header::LOCATION],
            format!(
                "/c/{DEMO_CPTS_SLUG}/medecin-traitant/demandes/{}?fusion=1",
                original.id
            )
        );
        let after = app
            .store
            .find_doctor_request(cpts.id, original.id)
            .await
            .unwrap()
            .unwrap();
        assert!(after.criteria.isolation && after.submissions == 2);
        assert_eq!(
            app.get(&page_path, Some(&secretary)).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

/// The places page shows, beside each stale declaration, the reminder sent and what became of it.
#[tokio::test]
async fn the_places_page_shows_each_reminder_and_its_delivery_state() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let service = &app.state.missions.doctor_search;
        let caller = maillage_app::caller::Caller::command_line(cpts.id);
        let gps = service.general_practitioners(&caller, 200).await.unwrap();
        let mut silent = None;
        for gp in &gps {
            if app
                .store
                .professional_email(cpts.id, gp.id)
                .await
                .unwrap()
                .is_none()
            {
                silent = Some(gp.id);
                break;
            }
        }
        let silent = silent.expect("a GP without an e-mail in the demo");
        let capacity = maillage_store::GpCapacity {
            professional_id: silent,
            updated_at: maillage_app::clock::now_ms() - 61 * maillage_app::clock::DAY_MS,
            ..app
                .store
                .find_capacity(cpts.id, gps[0].id)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the demo's first GP declared"))
        };
        app.store
            .save_capacity(cpts.id, &capacity, &maillage_store::testing::audit_entry())
            .await
            .unwrap();
        service
            .remind_stale_capacities(maillage_app::clock::now_ms())
            .await
            .unwrap();
        let coordinator = app.login_as(COORDINATOR).await;
        let page = app
            .get(
                &format!("/c/{DEMO_CPTS_SLUG}/medecin-traitant/capacites"),
                Some(&coordinator),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(r#"<th scope="col">Rappel</th>"#));
        assert!(
            page.body.contains("pas d&#39;adresse : à appeler")
                || page.body.contains("pas d'adresse : à appeler"),
            "{}",
            page.body
        );
    }
}

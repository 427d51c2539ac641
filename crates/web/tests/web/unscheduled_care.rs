//! Unscheduled care: publishing, booking once, dysfunctions, indicators, exports, the rota.

use super::*;

#[tokio::test]
async fn a_gp_publishes_a_week_the_secretary_books_once_and_a_second_booking_is_refused() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let member = app.login_as(MEMBER).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let bad = app
            .post_form(
                &format!("{base}/mes-creneaux"),
                Some(&member.cookie),
                &[
                    ("csrf", &member.csrf),
                    ("weekday", "6"),
                    ("start", "12:00"),
                    ("end", "09:00"),
                    ("duration", "20"),
                    ("kind", "sas"),
                    ("modality", "cabinet"),
                    ("from", "31/02/2030"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.names_fields(&["Fin", "À partir du"]);
        let published = app
            .post_form(
                &format!("{base}/mes-creneaux"),
                Some(&member.cookie),
                &[
                    ("csrf", &member.csrf),
                    ("weekday", "6"),
                    ("start", "09:00"),
                    ("end", "12:00"),
                    ("duration", "30"),
                    ("kind", "cpts"),
                    ("modality", "domicile"),
                    ("from", ""),
                    ("exceptions", ""),
                ],
            )
            .await;
        assert_eq!(published.status, StatusCode::SEE_OTHER);
        assert!(published.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("publies="));
        assert!(!app
            .audit_of(cpts.id, "snp_pattern_published")
            .await
            .is_empty());

        let secretary = app.login_as(SECRETARY).await;
        let search = app
            .get(
                &format!("{base}/creneaux?modalite=domicile&heures=336&commune=30003&distance=40"),
                Some(&secretary),
            )
            .await;
        assert_eq!(search.status, StatusCode::OK);
        assert!(search.body.contains("Visite à domicile"));
        let slot = first_slot(&search.body);
        let page = hold_slot(&app, &secretary, base, &slot).await;
        // Someone else, at the same time, is told the slot is taken.
        let coordinator = app.login_as(COORDINATOR).await;
        let second = app
            .post_form(
                &format!("{base}/creneaux/{slot}/reserver"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf)],
            )
            .await;
        assert_eq!(second.status, StatusCode::CONFLICT);
        assert!(
            second
                .body
                .contains("vient d&#39;être réservé par quelqu&#39;un d&#39;autre")
                || second.body.contains("vient d'être réservé"),
            "{}",
            second.body
        );
        // Confirmation: each bad field named; then confirmed, the patient sealed and the read audited.
        let refused = app
            .post_form(
                &format!("{page}/confirmer"),
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("family_name", ""),
                    ("given_names", "Lou"),
                    ("birth_date", "2040-01-01"),
                    ("phone", "12"),
                    ("origin", "x"),
                    ("reason", "y"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Nom", "Date de naissance", "Téléphone", "Origine", "Motif"]);
        let confirmed = app
            .post_form(
                &format!("{page}/confirmer"),
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("family_name", "Essai-Snp"),
                    ("given_names", "Lou"),
                    ("birth_date", "02/02/1990"),
                    ("phone", "0611223344"),
                    ("origin", "sas"),
                    ("reason", "fievre"),
                ],
            )
            .await;
        assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
        let shown = app.get(&page, Some(&secretary)).await;
        let main = &shown.body[shown.body.find("<main").unwrap()..];
        assert!(
            main.contains("Essai-Snp")
                && main.contains("Confirmé")
                && main.contains("Régulation du SAS"),
            "{main}"
        );
        assert!(!app.audit_of(cpts.id, "snp_booking_viewed").await.is_empty());
        // The booking page of another CPTS's booking is not found; a member who neither booked nor owns it neither.
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let theirs = app
            .store
            .recent_bookings(vidourle.id, Page::first(1))
            .await
            .unwrap()[0]
            .id;
        assert_eq!(
            app.get(&format!("{base}/reservations/{theirs}"), Some(&secretary))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Outcome: a slot more than a day ahead is refused; the demo's booking of today or tomorrow… is at least named.
        let outcome = app
            .post_form(
                &format!("{page}/issue"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("outcome", "inconnu")],
            )
            .await;
        assert_eq!(outcome.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(outcome.body.contains("Issue"));
    }
}

#[tokio::test]
async fn dysfunctions_are_reported_with_named_errors_and_followed_up_by_the_coordination() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let path = "/c/camargue-gardoise/soins-non-programmes/dysfonctionnements";
        let secretary = app.login_as(SECRETARY).await;
        let bad = app
            .post_form(
                path,
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("kind", "x"),
                    ("description", ""),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.names_fields(&["Type", "Ce qui s&#39;est passé"]);
        let good = app
            .post_form(
                path,
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("kind", "aucun_creneau"),
                    (
                        "description",
                        "Samedi matin, aucun créneau à moins de 20 km",
                    ),
                ],
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER);
        let page = app.get(path, Some(&secretary)).await;
        assert!(page.body.contains("Aucun créneau trouvé") && page.body.contains("Samedi matin"));
        let id = app
            .store
            .list_dysfunctions(cpts.id, 0, i64::MAX / 2, Page::first(1))
            .await
            .unwrap()[0]
            .id;
        let follow = format!("{path}/{id}");
        let refused = app
            .post_form(
                &follow,
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("follow_up", "x")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let coordinator = app.login_as(COORDINATOR).await;
        let done = app
            .post_form(
                &follow,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("follow_up", "Tour de garde du samedi renforcé"),
                    ("resolved", "1"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let summary = app
            .store
            .dysfunction_summary(cpts.id, 0, i64::MAX / 2)
            .await
            .unwrap();
        assert_eq!(summary, vec![("aucun_creneau".to_string(), 1, 1)]);
        assert!(!app
            .audit_of(cpts.id, "snp_dysfunction_recorded")
            .await
            .is_empty());
        assert!(!app
            .audit_of(cpts.id, "snp_dysfunction_followed_up")
            .await
            .is_empty());
    }
}

#[tokio::test]
async fn the_sas_reads_free_slots_over_fhir_with_a_token_the_coordination_issues_and_revokes() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let coordinator = app.login_as(COORDINATOR).await;
        let metadata = app.get("/fhir/metadata", None).await;
        assert_eq!(metadata.status, StatusCode::OK);
        let capability: serde_json::Value = serde_json::from_str(&metadata.body).unwrap();
        assert_eq!(capability["resourceType"], "CapabilityStatement");
        assert_eq!(capability["fhirVersion"], "4.0.1");

        let anonymous = bearer_get(&app, FHIR_SEARCH, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json"));
        assert!(anonymous.body.contains("OperationOutcome"));
        assert_eq!(
            bearer_get(&app, FHIR_SEARCH, Some("mlg_inconnu"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );

        let empty_name = app
            .post_form(
                &format!("{base}/jetons"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("name", " ")],
            )
            .await;
        assert_eq!(empty_name.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty_name.body.contains("Nom du jeton"));
        let issued = app
            .post_form(
                &format!("{base}/jetons"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("name", "Plateforme SAS 30")],
            )
            .await;
        assert_eq!(issued.status, StatusCode::OK);
        let secret = shown_secret(&issued.body);
        assert!(!app.audit_of(cpts.id, "api_token_issued").await.is_empty());

        let answer = bearer_get(&app, FHIR_SEARCH, Some(&secret)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let bundle: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "searchset");
        let entries = bundle["entry"].as_array().unwrap();
        let of = |kind: &str| -> Vec<&serde_json::Value> {
            entries
                .iter()
                .filter(|e| e["resource"]["resourceType"] == kind)
                .collect()
        };
        let slots = of("Slot");
        assert!(!slots.is_empty());
        for kind in [
            "Schedule",
            "Practitioner",
            "PractitionerRole",
            "HealthcareService",
            "Organization",
        ] {
            assert!(!of(kind).is_empty(), "{kind} included");
            assert!(of(kind).iter().all(|e| e["search"]["mode"] == "include"));
        }
        let schedules: Vec<String> = of("Schedule")
            .iter()
            .map(|e| format!("Schedule/{}", e["resource"]["id"].as_str().unwrap()))
            .collect();
        for slot in &slots {
            let r = &slot["resource"];
            assert_eq!(slot["search"]["mode"], "match");
            assert_eq!(r["status"], "free");
            assert!(["SNP", "CPTS"].contains(&r["meta"]["security"][0]["code"].as_str().unwrap()));
            assert!(schedules.contains(&r["schedule"]["reference"].as_str().unwrap().to_string()));
        }
        let practitioner = &of("Practitioner")[0]["resource"];
        assert_eq!(
            practitioner["identifier"][0]["system"],
            "urn:oid:1.2.250.1.71.4.2.1"
        );
        let idnps = practitioner["identifier"][0]["value"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(idnps.starts_with('8'));
        // The demo's booked slot is not free, and no patient identity ever appears.
        let booked = app
            .store
            .recent_bookings(cpts.id, Page::first(1))
            .await
            .unwrap()[0]
            .slot_id;
        assert!(!answer.body.contains(&booked.to_string()));
        assert!(!answer.body.contains("EXEMPLE-SNP"));
        assert!(!app.audit_of(cpts.id, "fhir_slots_read").await.is_empty());

        // One practitioner's slots only; an unknown one has none.
        let filtered = bearer_get(
            &app,
            &format!("{FHIR_SEARCH}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C{idnps}"),
            Some(&secret),
        )
        .await;
        let filtered: serde_json::Value = serde_json::from_str(&filtered.body).unwrap();
        let own_schedule = format!("Schedule/sched-{}", practitioner["id"].as_str().unwrap());
        let filtered_slots: Vec<&serde_json::Value> = filtered["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Slot")
            .collect();
        assert!(!filtered_slots.is_empty());
        assert!(filtered_slots
            .iter()
            .all(|e| e["resource"]["schedule"]["reference"] == own_schedule.as_str()));
        let nobody = bearer_get(
            &app,
            &format!("{FHIR_SEARCH}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C899999999999"),
            Some(&secret),
        )
        .await;
        let nobody: serde_json::Value = serde_json::from_str(&nobody.body).unwrap();
        assert_eq!(nobody["total"], 0);
        // A window in the guide's form: only slots starting in it.
        let one_slot = &slots[0]["resource"];
        let start = one_slot["start"].as_str().unwrap().replace('+', "%2B");
        let window = bearer_get(
            &app,
            &format!("/fhir/Slot?status=free&start=ge{start}&start=le{start}"),
            Some(&secret),
        )
        .await;
        let window: serde_json::Value = serde_json::from_str(&window.body).unwrap();
        assert!(window["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource"]["start"] == one_slot["start"]));
        let read = bearer_get(
            &app,
            &format!("/fhir/Slot/{}", one_slot["id"].as_str().unwrap()),
            Some(&secret),
        )
        .await;
        assert_eq!(read.status, StatusCode::OK);
        // Bad parameters: 400 with an OperationOutcome naming the parameter.
        let bad = bearer_get(&app, "/fhir/Slot?start=ge-demain", Some(&secret)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("OperationOutcome") && bad.body.contains("start"));

        // Another CPTS's token never sees these slots.
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let theirs = maillage_app::tokens::issue(
            app.store.as_ref(),
            &maillage_app::caller::Caller::command_line(vidourle.id),
            "SAS",
            maillage_app::tokens::FHIR_SCOPE,
            None,
        )
        .await
        .unwrap();
        let other = bearer_get(&app, FHIR_SEARCH, Some(&theirs)).await;
        let ours: Vec<&str> = slots
            .iter()
            .map(|e| e["resource"]["id"].as_str().unwrap())
            .collect();
        for id in ours {
            assert!(!other.body.contains(id));
        }
        assert_eq!(
            bearer_get(
                &app,
                &format!("/fhir/Slot/{}", one_slot["id"].as_str().unwrap()),
                Some(&theirs)
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // Revoked: refused at once.
        let listed = app
            .store
            .list_tokens(cpts.id, "fhir:read", Page::first(10))
            .await
            .unwrap();
        let revoked = app
            .post_form(
                &format!("{base}/jetons/{}/revoquer", listed[0].id),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf)],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        assert_eq!(
            bearer_get(&app, FHIR_SEARCH, Some(&secret)).await.status,
            StatusCode::UNAUTHORIZED
        );
        // The secretary cannot issue tokens.
        let secretary = app.login_as(SECRETARY).await;
        assert_eq!(
            app.post_form(
                &format!("{base}/jetons"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("name", "x")],
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    }
}

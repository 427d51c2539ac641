//! The SAS over FHIR with coordinator-issued tokens, and the calendar feed at a secret address.

use super::*;

#[tokio::test]
async fn a_professional_subscribes_to_a_secret_calendar_without_patient_identities() {
    for app in each_backend().await {
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let member = app.login_as(MEMBER).await;
        let created = app
            .post_form(
                &format!("{base}/mes-creneaux/agenda"),
                Some(&member.cookie),
                &[("csrf", &member.csrf)],
            )
            .await;
        assert_eq!(created.status, StatusCode::OK);
        let secret = shown_secret(&created.body);
        let path = format!("/agenda/{secret}/creneaux.ics");
        assert!(created.body.contains(&path));
        let feed = app.get(&path, None).await;
        assert_eq!(feed.status, StatusCode::OK);
        assert!(feed.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"));
        assert!(feed.body.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(feed.body.contains("SUMMARY:SNP — patient réservé"));
        assert!(feed.body.contains("SUMMARY:SNP — créneau libre"));
        // The demo shares Saturday mornings among its GPs, Dr Fabre's included.
        assert!(feed.body.contains("SUMMARY:Astreinte — Samedi matin"));
        assert!(!feed.body.contains("EXEMPLE-SNP"));
        // A new address replaces the old one.
        let again = app
            .post_form(
                &format!("{base}/mes-creneaux/agenda"),
                Some(&member.cookie),
                &[("csrf", &member.csrf)],
            )
            .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
        // A FHIR token does not open a calendar, nor the other way round.
        let renewed = shown_secret(&again.body);
        assert_eq!(
            bearer_get(
                &app,
                &sas_search(&app, DEMO_CPTS_SLUG).await,
                Some(&renewed)
            )
            .await
            .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn the_sas_reads_free_slots_over_fhir_with_a_token_the_coordination_issues_and_revokes() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let coordinator = app.login_as(COORDINATOR).await;
        let search = sas_search(&app, DEMO_CPTS_SLUG).await;
        let metadata = app.get("/fhir/metadata", None).await;
        assert_eq!(metadata.status, StatusCode::OK);
        let capability: serde_json::Value = serde_json::from_str(&metadata.body).unwrap();
        assert_eq!(capability["resourceType"], "CapabilityStatement");
        assert_eq!(capability["fhirVersion"], "4.0.1");

        let anonymous = bearer_get(&app, &search, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json"));
        assert!(anonymous.body.contains("OperationOutcome"));
        assert_eq!(
            bearer_get(&app, &search, Some("mlg_inconnu")).await.status,
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
        let issued_before = app.audit_of(cpts.id, "api_token_issued").await.len();
        let issued = app
            .post_form(
                &format!("{base}/jetons"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("name", "Plateforme SAS 30")],
            )
            .await;
        assert_eq!(issued.status, StatusCode::OK);
        let secret = shown_secret(&issued.body);
        let token = app
            .store
            .list_tokens(cpts.id, maillage_app::tokens::FHIR_SCOPE, Page::first(1))
            .await
            .unwrap()[0]
            .id;
        app.assert_audited_once(
            cpts.id,
            "api_token_issued",
            issued_before,
            &token.to_string(),
        )
        .await;

        let reads_before = app.audit_of(cpts.id, "fhir_slots_read").await.len();
        let answer = bearer_get(&app, &search, Some(&secret)).await;
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
        app.assert_audited_once(cpts.id, "fhir_slots_read", reads_before, &token.to_string())
            .await;

        // One practitioner's slots only; an unknown one has none.
        let filtered = bearer_get(
            &app,
            &format!("{FHIR_SEARCH}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C{idnps}"),
            Some(&secret),
        )
        .await;
        let filtered: serde_json::Value = serde_json::from_str(&filtered.body).unwrap();
        // The practitioner's Schedule is the one whose actors name her.
        let own_schedule = filtered["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .find(|r| {
                r["resourceType"] == "Schedule"
                    && r["actor"][0]["reference"]
                        == format!("Practitioner/{}", practitioner["id"].as_str().unwrap()).as_str()
            })
            .map(|r| format!("Schedule/{}", r["id"].as_str().unwrap()))
            .expect("her Schedule");
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
            &format!("{search}&start=ge{start}&start=le{start}"),
            Some(&secret),
        )
        .await;
        let window: serde_json::Value = serde_json::from_str(&window.body).unwrap();
        let in_window: Vec<&serde_json::Value> = window["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["search"]["mode"] == "match")
            .collect();
        assert!(!in_window.is_empty());
        assert!(in_window
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
        let other = bearer_get(&app, &search, Some(&theirs)).await;
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
        let revoke = format!("{base}/jetons/{}/revoquer", listed[0].id);
        // Asked first: the token still works until the confirmation.
        let asked = app
            .post_form(
                &revoke,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf)],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Révoquer ce jeton ?"));
        assert_eq!(
            bearer_get(&app, &search, Some(&secret)).await.status,
            StatusCode::OK
        );
        let revoked = app
            .post_form(
                &revoke,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        assert_eq!(
            bearer_get(&app, &search, Some(&secret)).await.status,
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

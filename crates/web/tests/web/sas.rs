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
            bearer_get(&app, FHIR_SEARCH, Some(&renewed)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn indicators_exports_rota_and_single_slots_follow_the_bookings_made() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let secretary = app.login_as(SECRETARY).await;
        let member = app.login_as(MEMBER).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let figure = |body: &str, name: &str| -> String {
            let marker = format!("data-indicator=\"{name}\">");
            let at = body.find(&marker).unwrap() + marker.len();
            body[at..].split('<').next().unwrap().to_string()
        };
        let before = app
            .get(&format!("{base}/indicateurs"), Some(&secretary))
            .await;
        assert_eq!(before.status, StatusCode::OK);
        let booked_before: i64 = figure(&before.body, "booked").parse().unwrap();
        assert!(booked_before >= 1, "the demo's booking");
        assert_eq!(
            app.get(&format!("{base}/indicateurs"), Some(&member))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // A new single slot, then booked through the pages: one more offered, one more booked.
        let offered_before: i64 = figure(&before.body, "offered").parse().unwrap();
        let tomorrow =
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms())
                .0
                .plus_days(1)
                .french();
        let single = |day: String, start: &'static str| {
            let member = &member;
            let app = &app;
            async move {
                app.post_form(
                    &format!("{base}/mes-creneaux/ponctuel"),
                    Some(&member.cookie),
                    &[
                        ("csrf", member.csrf.as_str()),
                        ("day", day.as_str()),
                        ("start", start),
                        ("duration", "20"),
                        ("kind", "surnumeraire"),
                        ("modality", "teleconsultation"),
                        ("place", ""),
                    ],
                )
                .await
            }
        };
        assert_eq!(
            single(tomorrow.clone(), "21:40").await.status,
            StatusCode::SEE_OTHER
        );
        let twice = single(tomorrow.clone(), "21:40").await;
        assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
        twice.names_fields(&["Heure"]);
        let past = single("01/01/2020".into(), "10:00").await;
        assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
        past.names_fields(&["Jour"]);
        let search = app
            .get(
                &format!("{base}/creneaux?modalite=teleconsultation&heures=72"),
                Some(&secretary),
            )
            .await;
        let page = hold_slot(&app, &secretary, base, &first_slot(&search.body)).await;
        let confirmed = app
            .post_form(
                &format!("{page}/confirmer"),
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("family_name", "Essai-Indic"),
                    ("given_names", "Noa"),
                    ("birth_date", "03/03/1980"),
                    ("phone", "0611223344"),
                    ("origin", "secretariat"),
                    ("reason", "douleur"),
                ],
            )
            .await;
        assert_eq!(
            confirmed.status,
            StatusCode::SEE_OTHER,
            "{}",
            confirmed.body
        );
        let after = app
            .get(&format!("{base}/indicateurs"), Some(&secretary))
            .await;
        assert_eq!(
            figure(&after.body, "offered").parse::<i64>().unwrap(),
            offered_before + 1
        );
        assert_eq!(
            figure(&after.body, "booked").parse::<i64>().unwrap(),
            booked_before + 1
        );
        // The page's figures are the database's.
        let year = maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms())
            .0
            .year;
        let from = maillage_domain::unscheduled_care::paris_to_utc(
            maillage_domain::calendar::Day::new(year, 1, 1).unwrap(),
            0,
        );
        let until = maillage_domain::unscheduled_care::paris_to_utc(
            maillage_domain::calendar::Day::new(year + 1, 1, 1).unwrap(),
            0,
        );
        let f = app.store.snp_figures(cpts.id, from, until).await.unwrap();
        assert_eq!(f.booked, booked_before + 1);
        assert_eq!(
            figure(&after.body, "professionals"),
            f.professionals.to_string()
        );
        // Exports: indicators and slots, for French Excel; no patient identity in the slots.
        let csv = app
            .get(
                &format!("{base}/indicateurs.csv?detail=semaine"),
                Some(&secretary),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with('\u{feff}'));
        assert!(csv.body.contains(&format!("Année {year};{}", f.offered)));
        assert!(csv.body.contains("semaine du"));
        let xlsx = app
            .get(&format!("{base}/indicateurs.xlsx"), Some(&secretary))
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        let slots = app
            .get(&format!("{base}/export.csv"), Some(&secretary))
            .await;
        assert_eq!(slots.status, StatusCode::OK);
        assert!(slots
            .body
            .starts_with("\u{feff}Début;Fin;Professionnel;RPPS"));
        assert!(slots.body.contains(";réservé;"));
        assert!(!slots.body.contains("Essai-Indic"));
        let too_long = app
            .get(
                &format!("{base}/export.csv?du=01/01/2030&au=01/12/2030"),
                Some(&secretary),
            )
            .await;
        assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!app.audit_of(cpts.id, "snp_slots_exported").await.is_empty());

        // Rota: Sunday mornings among two professionals, then a swap in one step.
        let people: Vec<String> = app
            .store
            .search_professionals(cpts.id, &Default::default(), Page::first(2))
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        let today =
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms()).0;
        let build = app
            .post_form(
                &format!("{base}/astreintes"),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("label", "Dimanche matin"),
                    ("weekday", "7"),
                    ("start", "09:00"),
                    ("end", "13:00"),
                    ("from", &today.french()),
                    ("until", &today.plus_days(27).french()),
                    ("professional", &people[0]),
                    ("professional", &people[1]),
                ],
            )
            .await;
        assert_eq!(build.status, StatusCode::SEE_OTHER, "{}", build.body);
        let sundays: Vec<maillage_store::RotaTurn> = app
            .store
            .list_rota_turns(
                cpts.id,
                "2000-01-01",
                "9999-12-31",
                &Default::default(),
                Page::first(100),
            )
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.label == "Dimanche matin")
            .collect();
        assert!(sundays.len() >= 3);
        assert_ne!(sundays[0].professional_id, sundays[1].professional_id);
        let swap = app
            .post_form(
                &format!("{base}/astreintes/{}", sundays[0].id),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("action", "echanger"),
                    ("swap", &sundays[1].id.to_string()),
                ],
            )
            .await;
        assert_eq!(swap.status, StatusCode::SEE_OTHER);
        let first = app
            .store
            .find_rota_turn(cpts.id, sundays[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.professional_id, sundays[1].professional_id);
        let refused = app
            .post_form(
                &format!("{base}/astreintes"),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("label", ""),
                    ("weekday", "9"),
                    ("start", "neuf heures"),
                    ("end", "13:00"),
                    ("from", "hier"),
                    ("until", ""),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Jour", "Début", "Du", "Au"]);
        // What only the service can judge (the hours' order) comes back beside the form, field named.
        let backwards = app
            .post_form(
                &format!("{base}/astreintes"),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("label", "Lundi soir"),
                    ("weekday", "1"),
                    ("start", "20:00"),
                    ("end", "18:00"),
                    ("from", &today.french()),
                    ("until", &today.plus_days(27).french()),
                    ("professional", &people[0]),
                ],
            )
            .await;
        assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
        backwards.names_fields(&["Fin"]);
        let rota = app.get(&format!("{base}/astreintes"), Some(&member)).await;
        assert_eq!(rota.status, StatusCode::OK);
        assert!(
            rota.body.contains("Dimanche matin") && rota.body.contains("Répartition de la charge")
        );
        assert!(
            !rota.body.contains("Remplir le tableau"),
            "members do not manage the rota"
        );
    }
}

//! Unscheduled care: publishing, booking once, dysfunctions, indicators, exports, the rota.

use super::*;
use maillage_domain::unscheduled_care::BookingStatus;

#[tokio::test]
async fn a_gp_publishes_a_week_the_secretary_books_once_and_a_second_booking_is_refused() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let member = app.login_as(MEMBER).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
        // The place of the slots is offered among the GP's practice places (the SAS reads one agenda per place).
        let page = app
            .get(&format!("{base}/mes-creneaux"), Some(&member))
            .await;
        assert!(
            page.body
                .contains(r#"<datalist id="lieux"><option value=""#)
                && page.body.contains(r#"list="lieux""#),
            "{}",
            page.body
        );
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
        let views_before = app.audit_of(cpts.id, "snp_booking_viewed").await.len();
        let shown = app.get(&page, Some(&secretary)).await;
        let main = &shown.body[shown.body.find("<main").unwrap()..];
        assert!(
            main.contains("Essai-Snp")
                && main.contains("Confirmé")
                && main.contains("Régulation du SAS"),
            "{main}"
        );
        // The patient's phone is dialable; the e-mail to the slot's professional has a visible state.
        assert!(
            main.contains(r#"href="tel:+33611223344">06 11 22 33 44</a>"#),
            "{main}"
        );
        assert!(main.contains("Messages au professionnel"), "{main}");
        let booking_id = page.rsplit('/').next().unwrap();
        app.assert_audited_once(cpts.id, "snp_booking_viewed", views_before, booking_id)
            .await;
        // The bookings list of the appointment's day names the patient, with her phone, after an audited read.
        let booking = app
            .store
            .find_booking(cpts.id, booking_id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let slot = app
            .store
            .find_slot(cpts.id, booking.slot_id)
            .await
            .unwrap()
            .unwrap();
        let day = maillage_app::clock::date_text(slot.start_at);
        let listed_before = app.audit_of(cpts.id, "snp_bookings_listed").await.len();
        let list = app
            .get(&format!("{base}/reservations?jour={day}"), Some(&secretary))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            list.body.contains("Essai-Snp") && list.body.contains("06 11 22 33 44"),
            "{}",
            list.body
        );
        assert!(app.audit_of(cpts.id, "snp_bookings_listed").await.len() > listed_before);
        // Filtered on the outcomes to record, a booking not started yet is not listed; a wrong state is named.
        let to_record = app
            .get(
                &format!("{base}/reservations?jour={day}&etat=annulee"),
                Some(&secretary),
            )
            .await;
        assert!(!to_record.body.contains("Essai-Snp"));
        let wrong = app
            .get(
                &format!("{base}/reservations?jour={day}&etat=x"),
                Some(&secretary),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.body.contains("État"));
        let no_day = app
            .get(
                &format!("{base}/reservations?jour=31/02/2026"),
                Some(&secretary),
            )
            .await;
        assert_eq!(no_day.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_day.body.contains("n&#39;existe pas") || no_day.body.contains("n'existe pas"));
        // A range: a week ending on the appointment's day lists it; a range that ends before it starts, or
        // longer than a month, is refused with the field named.
        let week_start = maillage_domain::calendar::Day::parse("d", &day)
            .unwrap()
            .plus_days(-6)
            .iso();
        let week = app
            .get(
                &format!("{base}/reservations?jour={week_start}&au={day}"),
                Some(&secretary),
            )
            .await;
        assert_eq!(week.status, StatusCode::OK);
        assert!(week.body.contains("Essai-Snp"));
        assert!(week.body.contains("Réservations du "));
        for (from, to) in [
            (day.as_str(), week_start.as_str()),
            ("2026-01-01", "2026-03-01"),
        ] {
            let refused = app
                .get(
                    &format!("{base}/reservations?jour={from}&au={to}"),
                    Some(&secretary),
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(refused
                .body
                .contains("Au : le dernier jour suit le premier"));
        }
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
        // Cancelling asks first: the page says what happens and goes back by default; only the confirmed
        // post cancels, and the slot is free again.
        let asked = app
            .post_form(
                &format!("{page}/annuler"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf)],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Annuler cette réservation ?"));
        assert!(asked.body.contains(&format!(r#"href="{page}""#)));
        let status_of = |app: &TestApp| {
            let (store, id) = (app.store.clone(), booking.id);
            async move {
                store
                    .find_booking(cpts.id, id)
                    .await
                    .unwrap()
                    .unwrap()
                    .status
            }
        };
        assert_eq!(status_of(&app).await, BookingStatus::Confirmed);
        let cancelled = app
            .post_form(
                &format!("{page}/annuler"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
        assert_eq!(status_of(&app).await, BookingStatus::Cancelled);
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
async fn a_member_reaches_no_booking_nor_slot_that_is_not_theirs_over_any_route() {
    for app in each_backend().await {
        let base = format!("/c/{DEMO_CPTS_SLUG}/soins-non-programmes");
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let account = app.store.find_user_by_email(MEMBER).await.unwrap().unwrap();
        let own = app
            .store
            .membership(cpts.id, account.id)
            .await
            .unwrap()
            .and_then(|(_, record)| record);
        let slot = free_slots(&app, cpts.id, 200)
            .await
            .into_iter()
            .find(|s| Some(s.professional_id) != own)
            .expect("a slot of another GP in the demo");
        // The secretariat holds another GP's slot for a patient.
        let secretary = app.login_as(SECRETARY).await;
        let page = hold_slot(&app, &secretary, &base, &slot.id.to_string()).await;
        let booking = page.rsplit('/').next().unwrap().to_string();
        let member = app.login_as(MEMBER).await;
        let mut tried = 0;
        for route in maillage_web::route_table(&app.state) {
            let record = if route.path.contains("/reservations/{id}") {
                &booking
            } else if route.path.contains("/mes-creneaux/{id}") {
                &slot.id.to_string()
            } else {
                continue;
            };
            let path = route
                .path
                .replace("{cpts}", DEMO_CPTS_SLUG)
                .replace("{id}", record);
            let answer = match route.method {
                "GET" => app.get(&path, Some(&member)).await,
                _ => {
                    app.post_form(
                        &path,
                        Some(&member.cookie),
                        &[
                            ("csrf", &member.csrf),
                            ("family_name", "Intrus"),
                            ("given_names", "Ian"),
                            ("birth_date", "01/01/1990"),
                            ("phone", "0611223344"),
                            ("origin", "membre"),
                            ("reason", "fievre"),
                            ("outcome", "absent"),
                            // Past the confirmation step, to reach the action itself.
                            ("confirmation", "oui"),
                        ],
                    )
                    .await
                }
            };
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "member {} {path}",
                route.method
            );
            tried += 1;
        }
        assert!(tried >= 5, "only {tried} booking and slot routes");
        // Nothing changed: still held, no patient, and the secretariat still has it in hand.
        let kept = app
            .store
            .find_booking(cpts.id, booking.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            kept.status,
            maillage_domain::unscheduled_care::BookingStatus::Held
        );
        assert!(kept.patient_id.is_none());
        assert_eq!(
            app.get(&page, Some(&secretary)).await.status,
            StatusCode::OK
        );
        let slot_now = app
            .store
            .find_slot(cpts.id, slot.id)
            .await
            .unwrap()
            .unwrap();
        assert!(!slot_now.cancelled);
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
        // The year's typed set, its own block: the same figure under its stable code, as a number.
        assert!(
            csv.body.contains(&format!(
                "Créneaux de l'année;offerts;Créneaux offerts;{};nombre",
                f.offered
            )),
            "{}",
            csv.body
        );
        let xlsx = app
            .get(&format!("{base}/indicateurs.xlsx"), Some(&secretary))
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        let exports_before = app.audit_of(cpts.id, "snp_slots_exported").await.len();
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
        // The export is audited once; the refused window is not.
        let exports = app.audit_of(cpts.id, "snp_slots_exported").await;
        assert_eq!(exports.len(), exports_before + 1);
        assert_eq!(exports[0].entry.target_kind, "snp_slots");
        assert!(exports[0].entry.detail.contains("\"csv\""));

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
        // Removing a turn asks first; the turn stays until confirmed.
        let remove = format!("{base}/astreintes/{}", sundays[2].id);
        let asked = app
            .post_form(
                &remove,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("action", "retirer")],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Retirer ce tour d&#39;astreinte ?"));
        assert!(asked.body.contains(r#"name="action" value="retirer""#));
        assert!(app
            .store
            .find_rota_turn(cpts.id, sundays[2].id)
            .await
            .unwrap()
            .is_some());
        let removed = app
            .post_form(
                &remove,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("action", "retirer"),
                    ("confirmation", "oui"),
                ],
            )
            .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
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

//! Work lists of unscheduled care: the dashboard's « À faire » counts the patients expected, from the
//! bookings made.

use super::*;

/// The number of patients the dashboard's « À faire » expects on `day` (AAAA-MM-JJ), 0 without a line.
async fn expected_on(app: &TestApp, who: &Session, day: &str) -> i64 {
    let dashboard = app.get(&format!("/c/{DEMO_CPTS_SLUG}"), Some(who)).await;
    let link = format!("soins-non-programmes/reservations?jour={day}\">");
    dashboard.body.find(&link).map_or(0, |at| {
        let text = &dashboard.body[at + link.len()..];
        assert!(text.contains("attendu"), "{text}");
        text.split_whitespace().next().unwrap().parse().unwrap()
    })
}

#[tokio::test]
async fn the_dashboard_expects_tomorrows_patients_once_their_booking_is_confirmed() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let base = &format!("/c/{DEMO_CPTS_SLUG}/soins-non-programmes");
        let secretary = app.login_as(SECRETARY).await;
        // A patient booked for tomorrow: the dashboard's « À faire » expects one more patient that day, with
        // a link to the day's list (held only, the booking is not counted).
        let now = maillage_app::clock::now_ms();
        let tomorrow = maillage_domain::unscheduled_care::utc_to_paris(now)
            .0
            .plus_days(1);
        let from = maillage_domain::unscheduled_care::paris_to_utc(tomorrow, 0);
        // The demo publishes weekdays only: a slot tomorrow evening, whatever day tomorrow is.
        let professional = free_slots(&app, cpts.id, 1).await[0].professional_id;
        app.state
            .missions
            .unscheduled_care
            .publish_slot(
                &maillage_app::caller::Caller::command_line(cpts.id),
                professional,
                maillage_domain::unscheduled_care::paris_to_utc(tomorrow, 20 * 60),
                20,
                maillage_domain::unscheduled_care::SlotKind::Sas,
                maillage_domain::unscheduled_care::Modality::Office,
                "",
            )
            .await
            .unwrap();
        let free = app
            .store
            .search_free_slots(
                cpts.id,
                &maillage_store::SlotQuery {
                    from,
                    until: from + maillage_app::clock::DAY_MS - 3_600_000,
                    ..Default::default()
                },
                now,
                Page::first(1),
            )
            .await
            .unwrap();
        let tomorrow = tomorrow.iso();
        let before = expected_on(&app, &secretary, &tomorrow).await;
        let held = hold_slot(&app, &secretary, base, &free[0].id.to_string()).await;
        assert_eq!(expected_on(&app, &secretary, &tomorrow).await, before);
        let confirmed = app
            .post_form(
                &format!("{held}/confirmer"),
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("family_name", "Demain-Snp"),
                    ("given_names", "Léa"),
                    ("birth_date", "03/03/1980"),
                    ("phone", "0611223355"),
                    ("origin", "sas"),
                    ("reason", "fievre"),
                ],
            )
            .await;
        assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
        assert_eq!(expected_on(&app, &secretary, &tomorrow).await, before + 1);
        // The secretary finds the booking by the patient's name (a whole part, any case or accent), her birth
        // date or her phone; an unknown name finds nothing; a word too short is refused with the field named.
        for search in [
            "demain-snp",
            "SNP",
            "Léa Demain-Snp",
            "03/03/1980",
            "06 11 22 33 55",
        ] {
            let found = app
                .get(
                    &format!(
                        "{base}/reservations?q={}",
                        maillage_web::access::url_encode(search)
                    ),
                    Some(&secretary),
                )
                .await;
            assert_eq!(found.status, StatusCode::OK, "{search}");
            assert!(
                found.body.contains("Demain-Snp"),
                "{search}: {}",
                found.body
            );
        }
        let none = app
            .get(&format!("{base}/reservations?q=Dupontel"), Some(&secretary))
            .await;
        assert!(!none.body.contains("Demain-Snp Léa"));
        let short = app
            .get(&format!("{base}/reservations?q=D"), Some(&secretary))
            .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(short.body.contains("Recherche"));
        // Another CPTS's coordination finds nothing by the same words.
        let other = app.login_as(OTHER_COORDINATOR).await;
        let elsewhere = app
            .get(
                &format!(
                    "/c/{OTHER_DEMO_CPTS_SLUG}/soins-non-programmes/reservations?q=Demain-Snp"
                ),
                Some(&other),
            )
            .await;
        assert_eq!(elsewhere.status, StatusCode::OK);
        assert!(!elsewhere.body.contains("Demain-Snp Léa"));
        // A raw read: the terms are keyed hashes, nothing of the name, date or phone.
        let url = &app._database.url;
        assert_eq!(
            maillage_store::testing::raw_count(
                url,
                "SELECT COUNT(*) FROM patient_search_terms WHERE length(term) <> 64 \
                 OR upper(term) LIKE '%DEMAIN%' OR term LIKE '%0611223355%'"
            )
            .await,
            0
        );
        assert!(
            maillage_store::testing::raw_count(url, "SELECT COUNT(*) FROM patient_search_terms")
                .await
                > 0
        );
        // The partner, who books nothing, has no such line.
        let partner = app.login_as(PARTNER).await;
        assert_eq!(expected_on(&app, &partner, &tomorrow).await, 0);
    }
}

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
        // The partner, who books nothing, has no such line.
        let partner = app.login_as(PARTNER).await;
        assert_eq!(expected_on(&app, &partner, &tomorrow).await, 0);
    }
}

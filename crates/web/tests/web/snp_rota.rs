//! The rota by profession: a nurses' rota offers and takes only nurses, and a rota left unnamed is named
//! after its weekday and hour.

use super::*;

#[tokio::test]
async fn a_rota_of_one_profession_takes_only_its_members_and_is_named_after_its_day() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let base = &format!("/c/{DEMO_CPTS_SLUG}/soins-non-programmes");
        let today =
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms()).0;
        let people: Vec<String> = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    profession_code: Some(maillage_store::GENERAL_PRACTICE.into()),
                    ..Default::default()
                },
                Page::first(1),
            )
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        // A rota of one profession takes only its members; left unnamed, it is named after its day and hour.
        let nurse = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    profession_code: Some("60".into()),
                    ..Default::default()
                },
                Page::first(1),
            )
            .await
            .unwrap()[0]
            .id
            .to_string();
        let fill = |profession: &'static str, who: String| {
            let (app, coordinator, today) = (&app, &coordinator, today);
            async move {
                app.post_form(
                    &format!("{base}/astreintes"),
                    Some(&coordinator.cookie),
                    &[
                        ("csrf", coordinator.csrf.as_str()),
                        ("label", ""),
                        ("profession", profession),
                        ("weekday", "3"),
                        ("start", "18:00"),
                        ("end", "20:00"),
                        ("from", &today.french()),
                        ("until", &today.plus_days(13).french()),
                        ("professional", &who),
                    ],
                )
                .await
            }
        };
        let wrong = fill("60", people[0].clone()).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong
                .body
                .contains("de la profession du tableau (Infirmier)"),
            "{}",
            wrong.body
        );
        let nurses = fill("60", nurse).await;
        assert_eq!(nurses.status, StatusCode::SEE_OTHER, "{}", nurses.body);
        let offered = app
            .get(
                &format!("{base}/astreintes?profession=60"),
                Some(&coordinator),
            )
            .await;
        assert!(offered.body.contains("Mercredi soir"));
        assert!(
            !offered
                .body
                .contains(&format!(r#"name="professional" value="{}""#, people[0])),
            "a GP is not offered for the nurses' rota"
        );
    }
}

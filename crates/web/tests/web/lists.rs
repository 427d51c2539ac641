//! Patient lists as people send them: an Excel workbook, communes by name or postal code, criteria in French;
//! an ambiguous commune is named with its line.

use super::*;
use maillage_app::export::{Cell, Xlsx};

#[tokio::test]
async fn an_excel_list_with_commune_names_and_french_criteria_is_imported_and_ambiguities_named() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let mut book = Xlsx::new();
        book.sheet(
            "Liste CPAM",
            &[
                "Nom",
                "Prénom",
                "Date de naissance",
                "Commune",
                "Téléphone",
                "Critères",
                "Consentement",
            ],
        )
        .unwrap();
        let born = |iso: &str| Cell::Date(maillage_domain::calendar::Day::parse("d", iso).unwrap());
        book.row(&[
            "EXCEL-ESSAI".into(),
            "Aurore".into(),
            born("1947-05-06"),
            "aigues mortes".into(),
            "06 11 22 33 66".into(),
            "Perte d'autonomie, isolement".into(),
            "oui".into(),
        ])
        .unwrap();
        book.row(&[
            "EXCEL-ESSAI".into(),
            "Basile".into(),
            born("1950-01-01"),
            Cell::Number(30600.0),
            "".into(),
            "ALD".into(),
            "oui".into(),
        ])
        .unwrap();
        let body = list_multipart(
            "LIMITE",
            "cpam_list",
            "CPAM du Gard",
            &book.finish().unwrap(),
        );
        let started = app
            .send(
                Request::post(format!(
                    "/c/{DEMO_CPTS_SLUG}/medecin-traitant/import?csrf={}",
                    coordinator.csrf
                ))
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=LIMITE")
                .header(header::COOKIE, &coordinator.cookie)
                .body(Body::from(body))
                .unwrap(),
            )
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let progress = started.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let state = finished_import(&app, &coordinator, &progress).await;
        // Line 3: 30600 is the postal code of Vauvert and of Vestric-et-Candiac — named, not guessed.
        assert!(state.contains("<td>3</td><td>Commune</td>"), "{state}");
        let created: Vec<_> = open_requests(&app, cpts.id)
            .await
            .into_iter()
            .filter(|r| r.channel == "cpam_list" && r.referrer == "CPAM du Gard")
            .collect();
        assert_eq!(created.len(), 1, "the good line only");
        let request = &created[0];
        assert_eq!(request.commune_code, "30003", "Aigues-Mortes, by its name");
        assert!(request.criteria.loss_of_autonomy && request.criteria.isolation);
        assert_eq!(request.birth_year, 1947, "a typed Excel date");
    }
}

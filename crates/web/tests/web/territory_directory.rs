//! Territory and directory: communes, search, records, exports, public directory, imports.

use super::*;

#[tokio::test]
async fn the_directory_is_searched_without_accents_and_every_read_is_audited() {
    for app in each_backend().await {
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let vidourle = app
            .store
            .find_cpts_by_slug(OTHER_DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let before = app.store.count_professionals(cpts.id).await.unwrap();
        let theirs_before = app.store.count_professionals(vidourle.id).await.unwrap();
        let mut file = Vec::new();
        maillage_app::directory::synthetic::write_extract(
            &mut file,
            &maillage_app::directory::synthetic::ExtractSpec {
                rows: 600,
                seed: 11,
                communes: &[("30341", "30600"), ("30003", "30220")],
                elsewhere: &[("34145", "34400")],
                local_percent: 80,
                latin1: false,
            },
        )
        .unwrap();
        let report = maillage_app::directory::import_extract(
            app.store.as_ref(),
            cpts.id,
            file.as_slice(),
            |_| {},
            1,
        )
        .await
        .unwrap();
        assert!(report.created > 50);

        let secretary = app.login_as(SECRETARY).await;
        let all = app
            .get("/c/camargue-gardoise/annuaire", Some(&secretary))
            .await;
        assert_eq!(all.status, StatusCode::OK);
        let total = before + i64::try_from(report.created).unwrap();
        assert!(all.body.contains(&format!("{total} professionnels")));
        assert!(all.body.contains("Page suivante"), "50 per page");
        let doctors = app
            .get(
                "/c/camargue-gardoise/annuaire?q=AIGUES+MORTES&profession=10",
                Some(&secretary),
            )
            .await;
        assert!(doctors.body.contains("Aigues-Mortes"));
        assert!(
            !doctors.body.contains("Infirmier</td>"),
            "profession filter applies"
        );
        let accents = app
            .get(
                "/c/camargue-gardoise/annuaire?q=m%C3%A9decin",
                Some(&secretary),
            )
            .await;
        assert!(accents.body.contains("Médecin"));
        let nothing = app
            .get("/c/camargue-gardoise/annuaire?q=zzzz", Some(&secretary))
            .await;
        assert!(nothing.body.contains("Aucun professionnel ne correspond"));
        let reads = app.audit_of(cpts.id, "directory_viewed").await;
        assert_eq!(reads.len(), 4);
        // The other CPTS's directory did not change.
        assert_eq!(
            app.store.count_professionals(vidourle.id).await.unwrap(),
            theirs_before
        );
        let other = app.login_as(OTHER_COORDINATOR).await;
        let theirs = app.get("/c/vidourle/annuaire", Some(&other)).await;
        assert!(theirs
            .body
            .contains(&format!("{theirs_before} professionnels")));
    }
}

#[tokio::test]
async fn a_professional_record_is_edited_with_named_errors_and_audited() {
    for app in each_backend().await {
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let professional = first_professional(&app, DEMO_CPTS_SLUG).await;
        let path = format!(
            "/c/camargue-gardoise/annuaire/fiche/{}/modifier",
            professional.id
        );
        // The demo's seeding is audited too: count from here.
        let updates_before = app.audit_of(cpts.id, "professional_updated").await.len();
        let secretary = app.login_as(SECRETARY).await;
        let before = app
            .store
            .professional(cpts.id, professional.id)
            .await
            .unwrap()
            .unwrap();
        for (field, value, named) in [
            ("birth_year", "1890", "Année de naissance"),
            (
                "new_patient_capacity",
                "beaucoup",
                "Nombre de nouveaux patients",
            ),
            ("mssante", "dr@gmail.com", "Adresse MSSanté"),
            ("contact_phone", "12", "Téléphone"),
            ("visibility", "secrete", "Visibilité"),
            ("structure", "pas-un-identifiant", "Structure"),
        ] {
            let mut fields = vec![
                ("csrf", secretary.csrf.as_str()),
                ("visibility", "members"),
                ("member", "on"),
            ];
            fields.retain(|(k, _)| *k != field);
            fields.push((field, value));
            let answer = app.post_form(&path, Some(&secretary.cookie), &fields).await;
            assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
            assert!(answer.body.contains(named), "{field}: {named}");
            assert!(answer.body.contains("n'a pas été enregistré"));
        }
        let unchanged = app
            .store
            .professional(cpts.id, professional.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged.facts(), before.facts(), "nothing half-written");

        let saved = app
            .post_form(
                &path,
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("visibility", "private"),
                    ("member", "on"),
                    ("new_patient_capacity", "7"),
                    ("languages", "occitan"),
                    ("birth_year", "1964"),
                    ("contact_phone", "+33 4 66 00 11 22"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let after = app
            .store
            .professional(cpts.id, professional.id)
            .await
            .unwrap()
            .unwrap()
            .facts();
        assert!(after.member && after.accepts_new_patients);
        assert_eq!(after.new_patient_capacity, Some(7));
        assert_eq!(after.contact_phone, "0466001122");
        assert_eq!(
            after.visibility,
            maillage_domain::professional::Visibility::Private
        );
        // One entry for the one accepted change (the refused forms wrote none), naming the record.
        app.assert_audited_once(
            cpts.id,
            "professional_updated",
            updates_before,
            &professional.id.to_string(),
        )
        .await;

        // A private entry: the coordination sees it; a member does not, neither in the list nor by address.
        let record = format!("/c/camargue-gardoise/annuaire/fiche/{}", professional.id);
        let coordinator = app.login_as(COORDINATOR).await;
        assert_eq!(
            app.get(&record, Some(&coordinator)).await.status,
            StatusCode::OK
        );
        let member = app.login_as(MEMBER).await;
        assert_eq!(
            app.get(&record, Some(&member)).await.status,
            StatusCode::NOT_FOUND
        );
        let search = "/c/camargue-gardoise/annuaire?q=occitan";
        assert!(app
            .get(search, Some(&coordinator))
            .await
            .body
            .contains(&professional.last_name));
        assert!(app
            .get(search, Some(&member))
            .await
            .body
            .contains("Aucun professionnel ne correspond"));
        let views = app.audit_of(cpts.id, "professional_viewed").await;
        assert_eq!(views.len(), 1, "each read of a record is audited");
    }
}

#[tokio::test]
async fn exports_are_spreadsheets_for_french_excel_and_are_audited() {
    for app in each_backend().await {
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let total = app.store.count_professionals(cpts.id).await.unwrap();
        let coordinator = app.login_as(COORDINATOR).await;
        let csv = app
            .get(
                "/c/camargue-gardoise/annuaire/export.csv",
                Some(&coordinator),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(csv
            .body
            .starts_with("\u{feff}Type d'identifiant;Identifiant;Civilité;Nom"));
        assert_eq!(
            csv.body.matches("\r\n").count() as i64,
            total + 1,
            "header and one line each"
        );
        let filtered = app
            .get(
                "/c/camargue-gardoise/annuaire/export.csv?profession=MG",
                Some(&coordinator),
            )
            .await;
        assert!(
            filtered
                .body
                .lines()
                .skip(1)
                .all(|line| line.contains(";oui;")),
            "general practitioners only"
        );
        let xlsx = app
            .get(
                "/c/camargue-gardoise/annuaire/export.xlsx",
                Some(&coordinator),
            )
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(xlsx.body.starts_with("PK"));
        for path in [
            "/c/camargue-gardoise/structures/export.csv",
            "/c/camargue-gardoise/structures/export.xlsx",
            "/c/camargue-gardoise/diagnostic.xlsx",
        ] {
            let answer = app.get(path, Some(&coordinator)).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            assert!(answer.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment"));
        }
        let exports = app.audit_of(cpts.id, "directory_exported").await;
        assert_eq!(exports.len(), 5);
        // Members may search but not export.
        let member = app.login_as(MEMBER).await;
        assert_eq!(
            app.get("/c/camargue-gardoise/annuaire/export.csv", Some(&member))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_public_directory_shows_public_entries_only() {
    for app in each_backend().await {
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let everyone = app
            .store
            .search_professionals(cpts.id, &Default::default(), Page::new(1, 500))
            .await
            .unwrap();
        let public: Vec<_> = everyone
            .iter()
            .filter(|p| p.visibility == "public")
            .collect();
        let hidden: Vec<_> = everyone
            .iter()
            .filter(|p| p.visibility != "public")
            .collect();
        assert!(!public.is_empty() && !hidden.is_empty());
        let mut seen = 0;
        for page in 1.. {
            let answer = app
                .get(&format!("/annuaire/camargue-gardoise?page={page}"), None)
                .await;
            assert_eq!(answer.status, StatusCode::OK);
            seen += answer.body.matches("<li><strong>").count();
            if !answer.body.contains("Page suivante") {
                break;
            }
        }
        assert_eq!(seen, public.len());
        let someone_hidden = hidden[0];
        let search = app
            .get(
                &format!(
                    "/annuaire/camargue-gardoise?q={}+{}",
                    someone_hidden.first_name, someone_hidden.last_name
                ),
                None,
            )
            .await;
        let shown_full_name = format!("{} {}", someone_hidden.first_name, someone_hidden.last_name);
        let is_also_public = public
            .iter()
            .any(|p| format!("{} {}", p.first_name, p.last_name) == shown_full_name);
        // (The search box repeats the words typed: look at the entries only.)
        let entries: Vec<&str> = search.body.split("<li><strong>").skip(1).collect();
        assert!(is_also_public || !entries.iter().any(|e| e.contains(&shown_full_name)));
        assert_eq!(
            app.get("/annuaire/inconnue", None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn a_file_is_uploaded_with_its_token_and_imported_in_the_background() {
    for app in each_backend().await {
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let secretary = app.login_as(SECRETARY).await;
        let structures = app.store.count_structures(cpts.id).await.unwrap();
        let finess = format!(
            "finess;etalab;95;2026-11-01\n{}\n",
            maillage_domain::structures::finess_line(
                &maillage_domain::identifiers::with_luhn_key("30777777"),
                "CENTRE DE SANTE DES SALINS",
                "DES SALINS",
                "30003",
                "30220 AIGUES MORTES",
                "",
                ("124", "Centre de santé"),
                ""
            )
        );
        let upload = |query: &str| {
            Request::post(format!("/c/camargue-gardoise/imports{query}"))
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=LIMITE")
                .header(header::COOKIE, &secretary.cookie)
        };
        let body = multipart("LIMITE", "finess", "etalab.csv", finess.as_bytes());
        let forged = app
            .send(upload("").body(Body::from(body.clone())).unwrap())
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "no token, no upload");
        let too_big = app
            .send(
                upload(&format!("?csrf={}", secretary.csrf))
                    .header(header::CONTENT_LENGTH, (4_u64 << 30).to_string())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
        let no_file = app
            .send(
                upload(&format!("?csrf={}", secretary.csrf))
                    .body(Body::from(multipart("LIMITE", "finess", "vide.csv", b"")))
                    .unwrap(),
            )
            .await;
        assert_eq!(no_file.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_file
            .body
            .contains("Fichier : choisissez un fichier non vide"));
        let accepted = app
            .send(
                upload(&format!("?csrf={}", secretary.csrf))
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER);
        let follow = accepted.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        assert!(follow.starts_with("/c/camargue-gardoise/imports/suivi/"));
        let mut state = String::new();
        for _ in 0..100 {
            state = app
                .get(&format!("{follow}/etat"), Some(&secretary))
                .await
                .body;
            if !state.contains("hx-trigger") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(state.contains("Terminé"), "{state}");
        assert!(state.contains("<dt>Créés</dt><dd>1</dd>"), "{state}");
        assert_eq!(
            app.store.count_structures(cpts.id).await.unwrap(),
            structures + 1
        );
    }
}

#[tokio::test]
async fn the_directory_is_searchable_through_the_api() {
    for app in each_backend().await {
        let secretary = app.login_as(SECRETARY).await;
        let answer = app
            .get(
                "/api/v1/cpts/camargue-gardoise/professionals?profession=MG&commune=30341",
                Some(&secretary),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let found: Vec<serde_json::Value> = serde_json::from_str(&answer.body).unwrap();
        assert!(!found.is_empty() && found.len() <= 50);
        assert!(found.iter().all(|p| p["general_practitioner"] == true));
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let expected = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    profession_code: Some("MG".into()),
                    commune_code: Some("30341".into()),
                    ..Default::default()
                },
                Page::new(1, 50),
            )
            .await
            .unwrap();
        assert_eq!(found.len(), expected.len());
        assert_eq!(found[0]["commune"], "Vauvert");
        let partner = app.login_as(PARTNER).await;
        let refused = app
            .get(
                "/api/v1/cpts/camargue-gardoise/professionals",
                Some(&partner),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("problem+json"));
        let document = app.get("/api/v1/openapi.json", None).await.body;
        assert!(document.contains("/api/v1/cpts/{cpts}/professionals"));
    }
}

#[tokio::test]
async fn the_coordinator_defines_the_territory_and_bad_codes_change_nothing() {
    for app in each_backend().await {
        let coordinator = app.login_as(COORDINATOR).await;
        let page = app
            .get("/c/camargue-gardoise/territoire", Some(&coordinator))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("54\u{202f}291"),
            "population of the demo territory"
        );
        assert!(page.body.contains("<dt>Taille ACI</dt><dd>2</dd>"));
        assert_eq!(
            page.body.matches("<circle").count(),
            10,
            "one point per commune on the map"
        );

        let found = app
            .get(
                "/c/camargue-gardoise/territoire?q=lunel",
                Some(&coordinator),
            )
            .await;
        assert!(
            found.body.contains("Ajouter Lunel"),
            "search results can be added"
        );
        let known = app
            .get(
                "/c/camargue-gardoise/territoire?q=vauvert",
                Some(&coordinator),
            )
            .await;
        assert!(known.body.contains("déjà dans le territoire"));

        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let before = app.store.territory(cpts.id).await.unwrap();
        let bad = app
            .post_form(
                "/c/camargue-gardoise/territoire/codes",
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("codes", "34145, 99999 3414 34154"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body
                .contains("code INSEE « 99999 » : aucune commune actuelle"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("code INSEE « 3414 »"));
        assert!(
            bad.body.contains("34145, 99999 3414 34154"),
            "the pasted text is kept for correction"
        );
        assert_eq!(
            app.store.territory(cpts.id).await.unwrap(),
            before,
            "nothing half-added"
        );

        let good = app
            .post_form(
                "/c/camargue-gardoise/territoire/codes",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("codes", "34145 34154")],
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER);
        assert_eq!(app.store.territory(cpts.id).await.unwrap().len(), 12);
        let removed = app
            .post_form(
                "/c/camargue-gardoise/territoire/retirer",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("code", "34145")],
            )
            .await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert_eq!(app.store.territory(cpts.id).await.unwrap().len(), 11);

        // Members read the territory but get no editing controls.
        let member = app.login_as(MEMBER).await;
        let read_only = app
            .get("/c/camargue-gardoise/territoire", Some(&member))
            .await;
        assert_eq!(read_only.status, StatusCode::OK);
        assert!(!read_only.body.contains("Ajouter des communes"));
        // The other CPTS's territory is its own.
        let other = app
            .store
            .find_cpts_by_slug(OTHER_DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.store.territory(other.id).await.unwrap(),
            maillage_app::demo::OTHER_DEMO_COMMUNES
                .map(String::from)
                .to_vec()
        );
    }
}

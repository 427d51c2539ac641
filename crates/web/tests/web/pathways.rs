//! Care pathway templates in the pages, on SQLite and PostgreSQL: the list and a template's windows for a
//! discharge date, the coordination's adapting of a window (the next version) with bad delays named, the
//! JSON file exported here and imported in another CPTS, and the roles that may not.

use super::*;
use maillage_domain::pathways::builtin;

const TEMPLATE: &str = "/c/camargue-gardoise/parcours/modeles/insuffisance-cardiaque";

/// The adapting form as the page sends it: every step's delays, `changes` replacing some.
fn adapt_form(csrf: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields = vec![("csrf".to_string(), csrf.to_string())];
    for step in builtin::heart_failure().steps {
        for (suffix, offset) in [
            ("des", step.window.earliest),
            ("jusqua", step.window.latest),
        ] {
            let name = format!("{}-{suffix}", step.code);
            let value = changes
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(offset.french(), |(_, v)| v.to_string());
            fields.push((name, value));
        }
    }
    fields
}

async fn post_adapt(app: &TestApp, session: &Session, changes: &[(&str, &str)]) -> Answer {
    let fields = adapt_form(&session.csrf, changes);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    app.post_form(
        &format!("{TEMPLATE}/adapter"),
        Some(&session.cookie),
        &pairs,
    )
    .await
}

#[tokio::test]
async fn the_coordination_adapts_a_template_and_shares_it_as_a_file() {
    for app in each_backend().await {
        let member = app.login_as(MEMBER).await;
        let list = app
            .get("/c/camargue-gardoise/parcours", Some(&member))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list
            .body
            .contains("Insuffisance cardiaque après hospitalisation"));
        assert!(list.body.contains("Modèle fourni par Maillage"));
        assert!(
            !list.body.contains("Importer le modèle"),
            "members read only"
        );
        // The windows for a discharge on 31 January 2027.
        let preview = app
            .get(&format!("{TEMPLATE}?jour=31/01/2027"), Some(&member))
            .await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(
            preview
                .body
                .contains("Échéance : du 31/01/2027 au 08/02/2027"),
            "{}",
            preview.body
        );
        assert!(preview
            .body
            .contains("Échéance : du 31/01/2027 au 31/03/2027"));
        let impossible = app
            .get(&format!("{TEMPLATE}?jour=31/02/2027"), Some(&member))
            .await;
        assert_eq!(impossible.status, StatusCode::UNPROCESSABLE_ENTITY);
        impossible.names_fields(&["Jour 0"]);
        assert_ne!(
            post_adapt(&app, &member, &[("medecin-j14-jusqua", "J7")])
                .await
                .status,
            StatusCode::SEE_OTHER,
            "a member does not adapt"
        );

        let coordinator = app.login_as(COORDINATOR).await;
        for wrong in ["J-3", "deux semaines"] {
            let refused = post_adapt(&app, &coordinator, &[("medecin-j14-jusqua", wrong)]).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
            refused.names_fields(&["Délais"]);
            assert!(refused.body.contains(wrong), "the typed value is kept");
        }
        let unchanged = post_adapt(&app, &coordinator, &[]).await;
        assert!(unchanged.body.contains("aucun délai n&#39;a changé"));
        let backward = post_adapt(&app, &coordinator, &[("medecin-j14-des", "J20")]).await;
        assert_eq!(backward.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(backward.body.contains("avant de commencer"));
        let saved = post_adapt(&app, &coordinator, &[("medecin-j14-jusqua", "7 jours")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = app.get(TEMPLATE, Some(&member)).await;
        assert!(
            page.body.contains("Version 2") && page.body.contains("de J0 à J7"),
            "{}",
            page.body
        );
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        assert_eq!(
            app.audit_of(cpts.id, "pathway_template_saved").await.len(),
            2
        );

        // Exported as a file, imported by another CPTS.
        let exported = app
            .get(&format!("{TEMPLATE}/export.json"), Some(&member))
            .await;
        assert_eq!(exported.status, StatusCode::OK);
        assert!(exported.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("parcours-insuffisance-cardiaque.json"));
        let file: serde_json::Value = serde_json::from_str(&exported.body).unwrap();
        assert_eq!(file["version"], 2);
        let other = app.login_as(OTHER_COORDINATOR).await;
        let upload = |content: Vec<u8>| {
            let mut body = b"--LIMITE\r\nContent-Disposition: form-data; name=\"file\"; filename=\"parcours.json\"\r\n\
                Content-Type: application/json\r\n\r\n"
                .to_vec();
            body.extend(content);
            body.extend_from_slice(b"\r\n--LIMITE--\r\n");
            Request::post(format!(
                "/c/vidourle/parcours/modeles/importer?csrf={}",
                other.csrf
            ))
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=LIMITE")
            .header(header::COOKIE, &other.cookie)
            .body(Body::from(body))
            .unwrap()
        };
        let imported = app.send(upload(exported.body.clone().into_bytes())).await;
        assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
        assert!(imported.body.contains("est importé (version 1)"));
        let theirs = app
            .get(
                "/c/vidourle/parcours/modeles/insuffisance-cardiaque",
                Some(&other),
            )
            .await;
        assert!(theirs.body.contains("de J0 à J7"));
        let broken = app.send(upload(b"{\"code\": ".to_vec())).await;
        assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(broken
            .body
            .contains("Fichier : ce n&#39;est pas un modèle de parcours"));

        // A partner has no pathways.
        let partner = app.login_as(PARTNER).await;
        assert_ne!(
            app.get("/c/camargue-gardoise/parcours", Some(&partner))
                .await
                .status,
            StatusCode::OK
        );
    }
}

/// The registry of instruments with their licences; the coordination loads the licensed Zarit wording
/// (attesting the licence, every item once), which the CPTS's forms then show; a member may not load it.
#[tokio::test]
async fn a_cpts_holding_the_licence_loads_the_zarit_wording() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let registry = "/c/camargue-gardoise/parcours/questionnaires";
        let page = app.get(registry, Some(&coordinator)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page
            .body
            .contains("libellés sous licence (non fournis : numéros et libellés courts)"));
        let load = format!("{registry}/zarit-22/libelles");
        let lines: String = (1..=22)
            .map(|n| format!("{n};Libellé officiel de la question {n}\n"))
            .collect();
        let post = |fields: Vec<(&'static str, String)>| {
            let app = &app;
            let session = coordinator.clone();
            let load = load.clone();
            async move {
                let mut pairs: Vec<(&str, &str)> = vec![("csrf", session.csrf.as_str())];
                pairs.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
                app.post_form(&load, Some(&session.cookie), &pairs).await
            }
        };
        let unattested = post(vec![("wording", lines.clone())]).await;
        assert_eq!(unattested.status, StatusCode::UNPROCESSABLE_ENTITY);
        unattested.names_fields(&["Licence"]);
        let short = post(vec![
            ("wording", "1;Un seul libellé".into()),
            ("licence", "oui".into()),
        ])
        .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        short.names_fields(&["Libellés"]);
        let loaded = post(vec![("wording", lines), ("licence", "oui".into())]).await;
        assert_eq!(loaded.status, StatusCode::SEE_OTHER, "{}", loaded.body);
        assert_eq!(
            app.audit_of(cpts.id, "instrument_wording_loaded")
                .await
                .len(),
            1
        );
        // The frail patient's caregiver step now asks the official questions.
        let inclusions = app
            .store
            .list_inclusions(cpts.id, None, Page::first(10))
            .await
            .unwrap();
        let frail = inclusions
            .iter()
            .find(|i| i.template_code == "personne-agee-fragile")
            .unwrap()
            .id;
        let steps = app.store.inclusion_steps(cpts.id, frail).await.unwrap();
        let zarit = steps.iter().find(|s| s.code == "aidant-zarit").unwrap().id;
        let form = app
            .get(
                &format!("/c/camargue-gardoise/parcours/patients/{frail}/etapes/{zarit}"),
                Some(&coordinator),
            )
            .await;
        assert!(
            form.body.contains("1. Libellé officiel de la question 1"),
            "{}",
            form.body
        );
        let member = app.login_as(MEMBER).await;
        let refused = app
            .post_form(
                &load,
                Some(&member.cookie),
                &[("csrf", member.csrf.as_str()), ("wording", "1;x")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}

//! The platform: administration, the JSON API, health, metrics, OpenAPI, error pages, members.

use super::*;

#[tokio::test]
async fn the_api_speaks_json_and_problem_details_in_french() {
    for app in each_backend().await {
        let admin = app.login_as(ADMIN).await;
        let post = |body: &'static str, token: String| {
            Request::post("/api/v1/cpts")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::COOKIE, &admin.cookie)
                .header("x-csrf-token", token)
                .body(Body::from(body))
                .unwrap()
        };
        let created = app
            .send(post(
                r#"{"name": "CPTS API Test", "finess": "340017771"}"#,
                admin.csrf.clone(),
            ))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let dto: serde_json::Value = serde_json::from_str(&created.body).unwrap();
        assert_eq!(dto["slug"], "api-test");

        let malformed = app.send(post("{\"name\": ", admin.csrf.clone())).await;
        assert_eq!(
            malformed.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(malformed.status.is_client_error());
        let problem: serde_json::Value = serde_json::from_str(&malformed.body).unwrap();
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("JSON est mal formé"));
        assert!(problem["request_id"].as_str().unwrap().len() > 10);

        let invalid = app
            .send(post(
                r#"{"name": "CPTS Z", "siret": "1"}"#,
                admin.csrf.clone(),
            ))
            .await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(invalid.body.contains("SIRET"));

        let unknown_field = app
            .send(post(
                r#"{"name": "CPTS Z", "color": "red"}"#,
                admin.csrf.clone(),
            ))
            .await;
        assert!(unknown_field.status.is_client_error());
        assert!(
            unknown_field.body.contains("color"),
            "{}",
            unknown_field.body
        );

        let forged = app
            .send(post(r#"{"name": "CPTS Forgée"}"#, "faux".into()))
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(app
            .store
            .find_cpts_by_slug("forgee")
            .await
            .unwrap()
            .is_none());

        let me = app
            .get("/api/v1/me", Some(&app.login_as(COORDINATOR).await))
            .await;
        let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
        assert_eq!(me["memberships"][0]["role"], "coordinator");
        assert!(me.get("password_hash").is_none());
    }
}

#[tokio::test]
async fn health_metrics_openapi_and_error_pages_answer() {
    for app in each_backend().await {
        let health = app.get("/healthz", None).await;
        assert_eq!(health.status, StatusCode::OK);
        assert_eq!(health.body, r#"{"status":"ok"}"#);

        let openapi = app.get("/api/v1/openapi.json", None).await;
        let document: serde_json::Value = serde_json::from_str(&openapi.body).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3."));
        for path in ["/api/v1/me", "/api/v1/cpts", "/api/v1/cpts/{cpts}/members"] {
            assert!(
                document["paths"].get(path).is_some(),
                "{path} missing from OpenAPI"
            );
        }

        let missing = app.get("/cette-page-n-existe-pas", None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("Page introuvable"));
        let request_id = missing.headers["x-request-id"].to_str().unwrap();
        assert!(
            missing.body.contains(request_id),
            "the page shows the request id"
        );
        assert!(missing.body.contains("lang=\"fr\""));

        let wrong_method = app
            .send(Request::delete("/").body(Body::empty()).unwrap())
            .await;
        assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(wrong_method.body.contains("Action non permise"));

        let home = app.get("/", None).await;
        for (name, expected) in [
            ("content-security-policy", "script-src 'self'"),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
        ] {
            assert!(
                home.headers[name].to_str().unwrap().contains(expected),
                "{name}"
            );
        }
        assert!(!home.body.contains("<script>"), "no inline script");

        let metrics = app.get("/metrics", None).await;
        assert!(metrics.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        assert!(metrics.body.contains(
            "maillage_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ));
        assert!(metrics.body.contains("maillage_database_up 1"));

        // tower-http's body limit on every route: a form over 2 MB is refused with a French page, whether its
        // length is declared or it streams (chunked) past the limit, before the access rule reads anything.
        let declared = app
            .send(
                Request::post("/connexion")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::CONTENT_LENGTH, (3_u64 << 20).to_string())
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            declared.body.contains("Envoi trop volumineux"),
            "{}",
            declared.body
        );
        let coordinator = app.login_as(COORDINATOR).await;
        let chunks = futures_util::stream::iter(
            (0..3).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1 << 20])),
        );
        let streamed = app
            .send(
                Request::post("/c/camargue-gardoise/parametres")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, &coordinator.cookie)
                    .header("x-csrf-token", &coordinator.csrf)
                    .body(Body::from_stream(chunks))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            streamed.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            streamed.body
        );

        let css = app.get("/static/maillage.css", None).await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(css.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css"));
        assert_eq!(
            app.get("/static/absent.js", None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn the_platform_administrator_creates_a_cpts_and_bad_input_names_the_field() {
    for app in each_backend().await {
        let admin = app.login_as(ADMIN).await;
        let bad = app
            .post_form(
                "/admin/cpts",
                Some(&admin.cookie),
                &[
                    ("csrf", &admin.csrf),
                    ("name", "CPTS Sud Gard"),
                    ("finess", "123456789"),
                    ("siret", "12"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.body
                .contains("FINESS : « 123456789 » : la clé de contrôle (Luhn) est fausse"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("SIRET"));
        assert!(
            bad.body.contains("value=\"CPTS Sud Gard\""),
            "the form keeps what was typed"
        );
        assert!(app
            .store
            .find_cpts_by_slug("sud-gard")
            .await
            .unwrap()
            .is_none());

        let good = app
            .post_form(
                "/admin/cpts",
                Some(&admin.cookie),
                &[
                    ("csrf", &admin.csrf),
                    ("name", "CPTS Sud Gard"),
                    ("finess", "300017779"),
                ],
            )
            .await;
        assert_eq!(good.status, StatusCode::OK);
        assert!(good.body.contains("La CPTS « CPTS Sud Gard » est créée."));
        assert!(app
            .store
            .find_cpts_by_slug("sud-gard")
            .await
            .unwrap()
            .is_some());

        let again = app
            .post_form(
                "/admin/cpts",
                Some(&admin.cookie),
                &[("csrf", &admin.csrf), ("name", "CPTS Sud Gard")],
            )
            .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(again.body.contains("déjà utilisé"));

        let garbage = Request::post("/admin/cpts")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin.cookie)
            .body(Body::from(format!("csrf={}&name=%FF%FE", admin.csrf)))
            .unwrap();
        let answer = app.send(garbage).await;
        assert!(answer.status.is_client_error(), "{}", answer.status);
    }
}

#[tokio::test]
async fn members_list_is_paginated_and_shows_emails_to_coordinators_only() {
    for app in each_backend().await {
        let coordinator = app.login_as(COORDINATOR).await;
        let page = app
            .get("/c/camargue-gardoise/membres", Some(&coordinator))
            .await;
        assert!(page.body.contains("secretariat@camargue.test"));
        assert!(
            !page.body.contains("coordination@vidourle.test"),
            "other CPTS's people"
        );
        let secretary = app.login_as(SECRETARY).await;
        let page = app
            .get("/c/camargue-gardoise/membres", Some(&secretary))
            .await;
        assert!(page.body.contains("Samir Benali"));
        assert!(!page.body.contains("secretariat@camargue.test"));
        let bad_page = app
            .get("/c/camargue-gardoise/membres?page=abc", Some(&coordinator))
            .await;
        assert_eq!(bad_page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad_page.body.contains("valeur invalide pour « page »"),
            "{}",
            bad_page.body
        );
    }
}

#[tokio::test]
async fn the_public_home_page_leads_to_each_cpts_public_form_and_directory() {
    for app in each_backend().await {
        let home = app.get("/", None).await;
        assert_eq!(home.status, StatusCode::OK);
        for slug in [DEMO_CPTS_SLUG, OTHER_DEMO_CPTS_SLUG] {
            for path in [
                format!("/demande-medecin/{slug}"),
                format!("/annuaire/{slug}"),
            ] {
                assert!(
                    home.body.contains(&format!(r#"href="{path}""#)),
                    "{path} on the home page"
                );
                assert_eq!(app.get(&path, None).await.status, StatusCode::OK, "{path}");
            }
        }
        // Signed in, the page lists one's own CPTS instead.
        let member = app.login_as(MEMBER).await;
        let mine = app.get("/", Some(&member)).await;
        assert!(!mine.body.contains("Les CPTS de cette plateforme"));
        assert!(mine.body.contains("Vos CPTS"));
    }
}

//! What an attacker tries at the edges: redirects after login, other host names and origins, cached personal
//! pages, forged `X-Forwarded-For`.

use super::*;
use axum::extract::ConnectInfo;
use std::net::SocketAddr;

/// Where `GET /connexion?suite=…` sends a signed-in person, for a raw (already percent-encoded) `suite`.
async fn followed(app: &TestApp, session: &Session, raw_suite: &str) -> Answer {
    app.get(&format!("/connexion?suite={raw_suite}"), Some(session))
        .await
}

#[tokio::test]
async fn the_page_after_login_is_always_a_page_of_this_site_and_never_a_500() {
    for app in each_backend().await {
        let session = app.login_as(COORDINATOR).await;
        let kept = followed(&app, &session, "/compte%3Fx%3D1").await;
        assert_eq!(kept.status, StatusCode::SEE_OTHER);
        assert_eq!(kept.headers[header::LOCATION], "/compte?x=1");
        for raw in [
            "/%09/evil.example",
            "/%0A/evil.example",
            "/%0D%0ASet-Cookie:%20x=1",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "https://evil.example",
            "%20/compte",
            "/%00",
            "/%7F",
            "/caf%C3%A9",
            "javascript:alert(1)",
        ] {
            let answer = followed(&app, &session, raw).await;
            assert_eq!(
                answer.status,
                StatusCode::SEE_OTHER,
                "{raw}: {}",
                answer.body
            );
            assert_eq!(answer.headers[header::LOCATION], "/", "{raw}");
        }
        // The same on the login form itself: the session is opened and the page is the home page.
        let (answer, _, _) = app
            .password_step(
                SECRETARY,
                DEMO_PASSWORD,
                &[("suite", "/\u{1}\r\n/evil.example")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.headers[header::LOCATION], "/");
    }
}

#[tokio::test]
async fn pages_seen_signed_in_are_never_cached_and_only_the_public_host_is_served() {
    for app in each_backend().await {
        let session = app.login_as(COORDINATOR).await;
        let account = app.get("/compte", Some(&session)).await;
        assert_eq!(account.headers[header::CACHE_CONTROL], "no-store");
        let cpts = app
            .get(
                &format!("/c/{DEMO_CPTS_SLUG}/medecin-traitant"),
                Some(&session),
            )
            .await;
        assert_eq!(cpts.headers[header::CACHE_CONTROL], "no-store");
        let asset = app.get("/static/maillage.css", Some(&session)).await;
        assert_ne!(
            asset
                .headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store")
        );

        // server.public_url is http://127.0.0.1:8080 in the tests.
        let with_host = |host: &str, path: &str| {
            Request::get(path)
                .header(header::HOST, host)
                .header(header::COOKIE, &session.cookie)
                .body(Body::empty())
                .unwrap()
        };
        let served = app.send(with_host("127.0.0.1:8080", "/compte")).await;
        assert_eq!(served.status, StatusCode::OK);
        for host in [
            "evil.example",
            "127.0.0.1",
            "127.0.0.1:8081",
            "localhost:8080",
        ] {
            let refused = app.send(with_host(host, "/compte")).await;
            assert_eq!(refused.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
            assert!(!refused.body.contains("Mon compte"), "{host}");
        }
        let probe = app.send(with_host("10.0.0.5:8080", "/healthz")).await;
        assert_eq!(
            probe.status,
            StatusCode::OK,
            "load balancers probe by address"
        );

        // A state change whose Origin is not the public address is refused, even on the right host.
        let before = app.store.list_cpts(Page::first(100)).await.unwrap().len();
        let admin = app.login_as(ADMIN).await;
        for origin in ["http://127.0.0.1:9999", "https://127.0.0.1:8080", "null"] {
            let request = Request::post("/admin/cpts")
                .header(header::HOST, "127.0.0.1:8080")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &admin.cookie)
                .header(header::ORIGIN, origin)
                .body(Body::from(format!("name=CPTS+Origine&csrf={}", admin.csrf)))
                .unwrap();
            assert_eq!(
                app.send(request).await.status,
                StatusCode::FORBIDDEN,
                "{origin}"
            );
        }
        assert_eq!(
            app.store.list_cpts(Page::first(100)).await.unwrap().len(),
            before
        );
    }
}

#[tokio::test]
async fn a_forged_forwarded_for_neither_evades_the_throttle_nor_reaches_the_journal() {
    for app in each_backend().await {
        let app = app.reconfigured(|config| {
            config.server.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()];
        });
        let form = app.get("/connexion", None).await;
        let login_cookie = set_cookie(&form, "maillage_csrf").unwrap();
        let csrf = hidden_csrf(&form.body);
        // Password spraying through our proxy (127.0.0.1 then 10.1.1.1), each attempt with a new forged hop.
        let attempt = |n: usize| {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("email", format!("personne-{n}@exemple.fr")),
                    ("password", "Printemps2026!".into()),
                    ("csrf", csrf.clone()),
                ])
                .finish();
            let mut request = Request::post("/connexion")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("maillage_csrf={login_cookie}"))
                .header(
                    "x-forwarded-for",
                    format!("198.18.{}.{}, 203.0.113.9", n / 250, n % 250),
                )
                .header("x-forwarded-for", "10.1.1.1")
                .body(Body::from(body))
                .unwrap();
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
            request
        };
        let mut statuses = Vec::new();
        for n in 0..20 {
            statuses.push(app.send(attempt(n)).await.status);
        }
        let throttled = statuses
            .iter()
            .position(|s| *s == StatusCode::TOO_MANY_REQUESTS)
            .expect("the spraying address is slowed down");
        assert_eq!(throttled, 15, "{statuses:?}");
        let entries = app
            .store
            .list_audit(
                maillage_store::AuditScope::Platform,
                &Default::default(),
                Page::first(50),
            )
            .await
            .unwrap();
        let failed: Vec<_> = entries
            .iter()
            .filter(|e| e.entry.action == "login_failed")
            .collect();
        assert_eq!(failed.len(), 15);
        assert!(
            failed.iter().all(|e| e.entry.ip == "203.0.113.9"),
            "the real client, not a forged hop"
        );
    }
}

#[tokio::test]
async fn choices_that_change_or_send_something_start_on_choisir() {
    for app in each_backend().await {
        let coordinator = app.login_as(COORDINATOR).await;
        let request = app
            .concrete("/c/{cpts}/medecin-traitant/demandes/{id}", DEMO_CPTS_SLUG)
            .await;
        let page = app.get(&request, Some(&coordinator)).await;
        assert!(
            page.body.contains(
                r#"<select id="to" name="to" required><option value="">— choisir —</option>"#
            ),
            "no state preselected"
        );
        // A draft to review: the matching's list puts nothing first that withdraws it.
        let draft = app
            .concrete(
                "/c/{cpts}/medecin-traitant/appariement/{id}",
                DEMO_CPTS_SLUG,
            )
            .await;
        let matching = app
            .get(
                &format!("/c/{DEMO_CPTS_SLUG}/medecin-traitant/appariement"),
                Some(&coordinator),
            )
            .await;
        assert!(
            matching
                .body
                .contains(r#"name="professional" required><option value="">— choisir —</option>"#),
            "{}",
            matching.body
        );
        // Withdrawing it asks first, posting the choice again; the draft stays until confirmed.
        let asked = app
            .post_form(
                &draft,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("professional", "retirer")],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Retirer cette proposition ?"));
        assert!(asked
            .body
            .contains(r#"name="professional" value="retirer""#));
        let draft_id: uuid::Uuid = draft.rsplit('/').next().unwrap().parse().unwrap();
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let drafts = |app: &TestApp| {
            let store = app.store.clone();
            async move {
                store
                    .list_proposals(
                        cpts.id,
                        &maillage_store::ProposalStatus::Draft,
                        Page::first(500),
                    )
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|p| p.proposal.id == draft_id)
                    .count()
            }
        };
        assert_eq!(drafts(&app).await, 1);
        let withdrawn = app
            .post_form(
                &draft,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("professional", "retirer"),
                    ("confirmation", "oui"),
                ],
            )
            .await;
        assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
        assert_eq!(drafts(&app).await, 0);
        // A booking held: every choice on its page (origin and reason while held, the outcome once
        // confirmed) waits for one.
        let slot = free_slots(&app, cpts.id, 1).await.remove(0);
        let held = app
            .post_form(
                &format!(
                    "/c/{DEMO_CPTS_SLUG}/soins-non-programmes/creneaux/{}/reserver",
                    slot.id
                ),
                Some(&coordinator.cookie),
                &[("csrf", coordinator.csrf.as_str())],
            )
            .await;
        assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
        let booking = held.headers[header::LOCATION].to_str().unwrap().to_string();
        let page = app.get(&booking, Some(&coordinator)).await;
        let selects = page.body.matches("<select ").count();
        assert!(selects > 0, "{}", page.body);
        assert_eq!(
            page.body
                .matches(r#"required><option value="">— choisir —</option>"#)
                .count(),
            selects,
            "{}",
            page.body
        );
        // Sending the form without a choice names the field and records nothing.
        let refused = app
            .post_form(
                &format!("{request}/etat"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("to", "")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Nouvel état"), "{}", refused.body);
    }
}

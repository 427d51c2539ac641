//! Every route against the rights table, for every role; nothing of one CPTS reachable from another.

use super::*;

#[tokio::test]
async fn every_route_follows_the_rights_table_for_every_role() {
    for app in each_backend().await {
        let routes = maillage_web::route_table(&app.state);
        assert!(routes.len() > 15, "route table: {}", routes.len());
        let mut sessions = Vec::new();
        for role in Role::ALL {
            sessions.push((role, app.login_as(role_account(role)).await));
        }
        let admin = app.login_as(ADMIN).await;
        for route in routes.iter().filter(|r| r.method == "GET") {
            let path = app.concrete(&route.path, DEMO_CPTS_SLUG).await;
            let anonymous = app.get(&path, None).await;
            match route.access {
                Access::Public => assert!(
                    publicly_answered(anonymous.status),
                    "{path}: {}",
                    anonymous.status
                ),
                _ if path.starts_with("/api/") || matches!(route.access, Access::Token(_)) => {
                    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}")
                }
                _ => {
                    assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{path}");
                    let location = anonymous.headers[header::LOCATION].to_str().unwrap();
                    assert!(location.starts_with("/connexion?suite="), "{location}");
                }
            }
            for (role, session) in &sessions {
                let answer = app.get(&path, Some(session)).await;
                if route.access == Access::Public {
                    assert!(
                        publicly_answered(answer.status),
                        "{path}: {}",
                        answer.status
                    );
                    continue;
                }
                let expected = match route.access {
                    Access::Public | Access::SignedIn => StatusCode::OK,
                    // A session opens no machine route: only a token does.
                    Access::Token(_) => StatusCode::UNAUTHORIZED,
                    Access::PlatformAdmin => StatusCode::FORBIDDEN,
                    Access::Cpts(permission) if allows(*role, permission) => StatusCode::OK,
                    Access::Cpts(_) => StatusCode::FORBIDDEN,
                };
                assert_eq!(answer.status, expected, "{role:?} GET {path}");
            }
            let as_admin = app.get(&path, Some(&admin)).await;
            if route.access == Access::Public {
                assert!(publicly_answered(as_admin.status), "admin {path}");
                continue;
            }
            let expected = match route.access {
                // The platform administrator holds no role in the CPTS: no access to its data.
                Access::Cpts(_) => StatusCode::FORBIDDEN,
                Access::Token(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::OK,
            };
            assert_eq!(as_admin.status, expected, "admin GET {path}");
        }
    }
}

#[tokio::test]
async fn every_state_changing_route_refuses_the_roles_the_table_refuses() {
    for app in each_backend().await {
        for route in maillage_web::route_table(&app.state) {
            if route.method != "POST"
                || !matches!(route.access, Access::Cpts(_) | Access::PlatformAdmin)
            {
                continue;
            }
            // A fresh copy of the demo for each route: what an earlier route's empty form changed cannot
            // decide this one's answer.
            let app = app.fresh().await;
            let path = app.concrete(&route.path, DEMO_CPTS_SLUG).await;
            for role in Role::ALL {
                let session = app.login_as(role_account(role)).await;
                // An empty form: enough to pass or fail the access rule without changing anything.
                let answer = app
                    .post_form(&path, Some(&session.cookie), &[("csrf", &session.csrf)])
                    .await;
                let allowed = match route.access {
                    Access::Cpts(permission) => allows(role, permission),
                    _ => false,
                };
                if allowed {
                    assert!(
                        answer.status != StatusCode::FORBIDDEN && !answer.status.is_server_error(),
                        "{role:?} POST {path}: {}",
                        answer.status
                    );
                } else {
                    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{role:?} POST {path}");
                }
            }
        }
    }
}

#[tokio::test]
async fn nothing_of_one_cpts_is_reachable_from_another() {
    for app in each_backend().await {
        let outsider = app.login_as(OTHER_COORDINATOR).await;
        for route in maillage_web::route_table(&app.state) {
            if !matches!(route.access, Access::Cpts(_)) {
                continue;
            }
            let path = app.concrete(&route.path, DEMO_CPTS_SLUG).await;
            let answer = if route.method == "GET" {
                app.get(&path, Some(&outsider)).await
            } else {
                app.post_form(&path, Some(&outsider.cookie), &[("csrf", &outsider.csrf)])
                    .await
            };
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{} {path}",
                route.method
            );
            assert!(
                !answer.body.contains("Camargue"),
                "{path} leaks the CPTS name"
            );
            // Their own CPTS stays reachable.
            let own = app.concrete(&route.path, OTHER_DEMO_CPTS_SLUG).await;
            if route.method == "GET" {
                assert_eq!(
                    app.get(&own, Some(&outsider)).await.status,
                    StatusCode::OK,
                    "{own}"
                );
            }
        }
        let vidourle = app
            .store
            .find_cpts_by_slug(OTHER_DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let only_member_reads = maillage_store::AuditFilter {
            action: Some("members_viewed".into()),
            ..Default::default()
        };
        let scope = maillage_store::AuditScope::Cpts(vidourle.id);
        let before = app
            .store
            .list_audit(scope, &only_member_reads, Page::first(500))
            .await
            .unwrap()
            .len();
        let own_members = app
            .get("/api/v1/cpts/vidourle/members", Some(&outsider))
            .await;
        assert_eq!(own_members.status, StatusCode::OK);
        let after = app
            .store
            .list_audit(scope, &only_member_reads, Page::first(500))
            .await
            .unwrap()
            .len();
        assert_eq!(after, before + 1, "API reads are audited too");
        let members = app
            .get("/api/v1/cpts/camargue-gardoise/members", Some(&outsider))
            .await;
        assert_eq!(members.status, StatusCode::FORBIDDEN);
        assert_eq!(
            members.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let unknown = app.get("/c/n-existe-pas", Some(&outsider)).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_documented_rights_table_is_the_one_the_server_enforces() {
    let app = each_backend().await.remove(0);
    let table = rights_table(&maillage_web::route_table(&app.state));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/security.md");
    let document = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- rights-table:start -->\n", "<!-- rights-table:end -->");
    let from = document.find(start).expect("start marker") + start.len();
    let to = document.find(end).expect("end marker");
    if std::env::var("UPDATE_DOCS").is_ok() {
        let updated = format!("{}{table}{}", &document[..from], &document[to..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert_eq!(
        &document[from..to],
        table,
        "docs/security.md is out of date: run UPDATE_DOCS=1 cargo test -p maillage-web --test web the_documented_rights_table"
    );
}

#[tokio::test]
async fn records_of_another_cpts_are_not_found_even_with_their_address() {
    for app in each_backend().await {
        let outsider = app.login_as(OTHER_COORDINATOR).await;
        let own = format!("/c/{DEMO_CPTS_SLUG}/");
        let theirs = format!("/c/{OTHER_DEMO_CPTS_SLUG}/");
        let mut tried = 0;
        // Every route that names a record: a real record of the demo CPTS, asked for through the other CPTS's
        // address by its coordinator (who has every right there), is not found when read, and a change to it
        // is answered exactly as for an id that exists nowhere — never a success.
        for route in maillage_web::route_table(&app.state) {
            if !route.path.starts_with("/c/{cpts}/") || !route.path.contains("{id}") {
                continue;
            }
            let path = app
                .concrete(&route.path, DEMO_CPTS_SLUG)
                .await
                .replacen(&own, &theirs, 1);
            let unknown = route
                .path
                .replace("{cpts}", OTHER_DEMO_CPTS_SLUG)
                .replace("{id}", &uuid::Uuid::now_v7().to_string());
            let ask = |path: String| {
                let app = &app;
                let outsider = &outsider;
                async move {
                    match route.method {
                        "GET" => app.get(&path, Some(outsider)).await,
                        _ => {
                            app.post_form(
                                &path,
                                Some(&outsider.cookie),
                                &[
                                    ("csrf", &outsider.csrf),
                                    ("partner_status", "member"),
                                    ("contact_name", "x"),
                                    ("outcome", "vu"),
                                    ("follow_up", "x"),
                                ],
                            )
                            .await
                        }
                    }
                }
            };
            let answer = ask(path.clone()).await;
            // Told apart from an id that exists nowhere by nothing: same answer, never a success.
            let unknown_answer = ask(unknown).await;
            assert_eq!(
                answer.status, unknown_answer.status,
                "{} {path}",
                route.method
            );
            assert!(
                answer.status.is_client_error(),
                "{} {path}: {}",
                route.method,
                answer.status
            );
            if route.method == "GET" {
                assert_eq!(answer.status, StatusCode::NOT_FOUND, "GET {path}");
            }
            tried += 1;
        }
        assert!(tried >= 20, "only {tried} routes with an id");
        // The demo's structure kept its status and contact: the refused change wrote nothing.
        let camargue = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let page = Page::new(1, 1);
        let structure = app
            .store
            .search_structures(camargue.id, &Default::default(), page)
            .await
            .unwrap()[0]
            .id;
        let kept = app
            .store
            .structure(camargue.id, structure)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(kept.contact_name, "x");
        // The same form through the record's own CPTS does change it: the refusal above is the address's.
        let coordinator = app.login_as(COORDINATOR).await;
        let own_edit = app
            .post_form(
                &format!("/c/{DEMO_CPTS_SLUG}/structures/fiche/{structure}"),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("partner_status", kept.partner_status.as_str()),
                    ("contact_name", "x"),
                ],
            )
            .await;
        assert!(own_edit.status.is_redirection(), "{}", own_edit.status);
        let changed = app
            .store
            .structure(camargue.id, structure)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(changed.contact_name, "x");
    }
}

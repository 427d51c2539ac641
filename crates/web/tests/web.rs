//! Black-box tests of the web application on a fresh database per test, on SQLite and PostgreSQL:
//! access rules for every route and role, tenant isolation, login, CSRF, error pages, health, metrics, API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use maillage_app::accounts::Accounts;
use maillage_app::config::Config;
use maillage_app::demo::{self, DEMO_CPTS_SLUG, DEMO_PASSWORD, OTHER_DEMO_CPTS_SLUG};
use maillage_domain::authz::{allows, Role};
use maillage_store::testing::TestDatabase;
use maillage_store::{Page, Store};
use maillage_web::{Access, AppState};
use std::sync::Arc;
use tower::ServiceExt;

struct TestApp {
    _database: TestDatabase,
    store: Arc<dyn Store>,
    state: AppState,
    router: Router,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    /// Asserts that the page names each field (HTML-escaped label) in its list of errors.
    fn names_fields(&self, fields: &[&str]) {
        let main = &self.body[self.body.find("<main").unwrap_or(0)..];
        for field in fields {
            assert!(
                self.body.contains(&format!("<strong>{field}</strong>")),
                "{field} not named: {}",
                main.chars().take(1500).collect::<String>()
            );
        }
    }
}

/// A signed-in browser: its session cookie and the CSRF token of its pages.
struct Session {
    cookie: String,
    csrf: String,
}

impl TestApp {
    async fn on(database: TestDatabase) -> Self {
        let store = maillage_store::open(&database.url).await.unwrap();
        let config = Config::default().with_new_keys();
        let keyring = Arc::new(config.keyring().unwrap());
        let accounts = Accounts::new(store.clone(), config.security.clone(), keyring).unwrap();
        demo::seed(&store, &accounts).await.unwrap();
        let state = AppState::new(store.clone(), accounts, Arc::new(config));
        let router = maillage_web::app(state.clone());
        Self {
            _database: database,
            store,
            state,
            router,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, session: Option<&Session>) -> Answer {
        let mut request = Request::get(path);
        if let Some(session) = session {
            request = request.header(header::COOKIE, &session.cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    async fn login(&self, email: &str, password: &str) -> Result<Session, Answer> {
        let form = self.get("/connexion", None).await;
        let login_cookie = set_cookie(&form, "maillage_csrf").expect("pre-login CSRF cookie");
        let csrf = hidden_csrf(&form.body);
        let answer = self
            .post_form(
                "/connexion",
                Some(&format!("maillage_csrf={login_cookie}")),
                &[
                    ("email", email),
                    ("password", password),
                    ("csrf", &csrf),
                    ("suite", "/"),
                ],
            )
            .await;
        let Some(token) = set_cookie(&answer, "maillage_session").filter(|t| !t.is_empty()) else {
            return Err(answer);
        };
        let cookie = format!("maillage_session={token}");
        let home = self
            .get(
                "/",
                Some(&Session {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                }),
            )
            .await;
        Ok(Session {
            cookie,
            csrf: hidden_csrf(&home.body),
        })
    }

    async fn login_as(&self, email: &str) -> Session {
        match self.login(email, DEMO_PASSWORD).await {
            Ok(session) => session,
            Err(answer) => panic!("login of {email} failed: {}", answer.status),
        }
    }
}

fn set_cookie(answer: &Answer, name: &str) -> Option<String> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
}

fn hidden_csrf(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

async fn each_backend() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for database in TestDatabase::each_backend().await.unwrap() {
        apps.push(TestApp::on(database).await);
    }
    apps
}

const COORDINATOR: &str = "coordination@camargue.test";
const SECRETARY: &str = "secretariat@camargue.test";
const MEMBER: &str = "dr.fabre@camargue.test";
const PARTNER: &str = "dac@camargue.test";
const OTHER_COORDINATOR: &str = "coordination@vidourle.test";
const ADMIN: &str = "admin@maillage.test";

fn role_account(role: Role) -> &'static str {
    match role {
        Role::Coordinator => COORDINATOR,
        Role::Secretary => SECRETARY,
        Role::Member => MEMBER,
        Role::Partner => PARTNER,
    }
}

/// Concrete path for a route pattern, inside the demo CPTS.
impl TestApp {
    /// The audit entries of one action in a CPTS, newest first.
    async fn audit_of(
        &self,
        cpts: maillage_store::CptsId,
        action: &str,
    ) -> Vec<maillage_store::AuditEntry> {
        self.store
            .list_audit(
                maillage_store::AuditScope::Cpts(cpts),
                &maillage_store::AuditFilter {
                    action: Some(action.into()),
                    ..Default::default()
                },
                Page::first(100),
            )
            .await
            .unwrap()
    }

    /// A route pattern with real values of the demo CPTS `cpts`: its slug, and the id of one of its
    /// professionals, structures or imports.
    async fn concrete(&self, path: &str, cpts: &str) -> String {
        let mut path = path
            .replace("{cpts}", cpts)
            .replace("{slug}", cpts)
            .replace("{name}", "maillage.css")
            .replace("{token}", &"0".repeat(64));
        if path.contains("{id}") {
            let id = self
                .store
                .find_cpts_by_slug(cpts)
                .await
                .unwrap()
                .unwrap()
                .id;
            let page = maillage_store::Page::new(1, 1);
            let record = if path.contains("/annuaire/fiche/") {
                self.store
                    .search_professionals(id, &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/structures/fiche/") {
                self.store
                    .search_structures(id, &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/medecin-traitant/demandes/") {
                self.store
                    .list_doctor_requests(id, &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/soins-non-programmes/reservations/") {
                self.store.recent_bookings(id, page).await.unwrap()[0].id
            } else if path.contains("/soins-non-programmes/astreintes/") {
                self.store
                    .list_rota_turns(id, "2000-01-01", "9999-12-31", &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/soins-non-programmes/jetons/") {
                // The demo issues no token: a revocation of an unknown one still passes the access rule.
                uuid::Uuid::now_v7()
            } else if path.contains("/mes-creneaux/") || path.starts_with("/fhir/Slot/") {
                self.store
                    .agenda(id, 0, i64::MAX / 2, None, page)
                    .await
                    .unwrap()[0]
                    .slot
                    .id
            } else if path.contains("/medecin-traitant/import/") {
                self.store
                    .list_imports(id, Page::first(100))
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|run| run.kind == maillage_app::imports::REQUEST_LIST_KIND)
                    .unwrap()
                    .id
            } else {
                self.store.list_imports(id, page).await.unwrap()[0].id
            };
            path = path.replace("{id}", &record.to_string());
        }
        path
    }
}

/// A public route answers everyone: a page, a redirect onwards (login form when signed in, code form
/// without a pending login) or "link no longer valid" — never a refusal, never a server error.
fn publicly_answered(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::SEE_OTHER || status == StatusCode::GONE
}

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
async fn login_refuses_wrong_passwords_uniformly_and_logout_ends_the_session() {
    for app in each_backend().await {
        for (email, password) in [
            (COORDINATOR, "mauvais-mot-de-passe"),
            ("inconnu@exemple.fr", DEMO_PASSWORD),
            ("pas-un-email", "x"),
        ] {
            let refused = app.login(email, password).await.err().expect("refused");
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
            assert!(refused
                .body
                .contains("Adresse e-mail ou mot de passe incorrect."));
        }
        let session = app.login_as(COORDINATOR).await;
        let dashboard = app.get("/c/camargue-gardoise", Some(&session)).await;
        assert_eq!(dashboard.status, StatusCode::OK);
        assert!(dashboard.body.contains("CPTS Camargue Gardoise (démo)"));
        assert!(dashboard.body.contains("à venir"));

        let logout = app
            .post_form(
                "/deconnexion",
                Some(&session.cookie),
                &[("csrf", &session.csrf)],
            )
            .await;
        assert_eq!(logout.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.get("/compte", Some(&session)).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_cannot_log_in() {
    for app in each_backend().await {
        let session = app.login_as(MEMBER).await;
        let user = app.store.find_user_by_email(MEMBER).await.unwrap().unwrap();
        app.store.set_user_disabled(user.id, true).await.unwrap();
        assert_eq!(
            app.get("/compte", Some(&session)).await.status,
            StatusCode::SEE_OTHER
        );
        assert!(app.login(MEMBER, DEMO_PASSWORD).await.is_err());
    }
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_a_same_origin() {
    for app in each_backend().await {
        let admin = app.login_as(ADMIN).await;
        let before = app.store.list_cpts(Page::first(100)).await.unwrap().len();
        let fields = [("name", "CPTS Test Sans Jeton")];
        let no_token = app
            .post_form("/admin/cpts", Some(&admin.cookie), &fields)
            .await;
        assert_eq!(no_token.status, StatusCode::FORBIDDEN);
        assert!(no_token.body.contains("Le formulaire a expiré"));
        let wrong = app
            .post_form(
                "/admin/cpts",
                Some(&admin.cookie),
                &[("name", "CPTS X"), ("csrf", "faux")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN);
        let foreign = Request::post("/admin/cpts")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &admin.cookie)
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::from(format!("name=CPTS+Y&csrf={}", admin.csrf)))
            .unwrap();
        assert_eq!(app.send(foreign).await.status, StatusCode::FORBIDDEN);
        // A login without the pre-login cookie is refused too.
        let login = app
            .post_form(
                "/connexion",
                None,
                &[("email", ADMIN), ("password", DEMO_PASSWORD)],
            )
            .await;
        assert_eq!(login.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.store.list_cpts(Page::first(100)).await.unwrap().len(),
            before
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
                    ("finess", "300009990"),
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
                r#"{"name": "CPTS API Test", "finess": "340009992"}"#,
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
async fn sessions_are_shared_by_every_instance_on_one_database() {
    for app in each_backend().await {
        let session = app.login_as(COORDINATOR).await;
        // A second application on the same database, as a second `maillage serve` process would be.
        let config = (*app.state.config).clone();
        let keyring = Arc::new(config.keyring().unwrap());
        let accounts = Accounts::new(app.store.clone(), config.security.clone(), keyring).unwrap();
        let other = maillage_web::app(AppState::new(app.store.clone(), accounts, Arc::new(config)));
        let request = Request::get("/compte")
            .header(header::COOKIE, &session.cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            other.oneshot(request).await.unwrap().status(),
            StatusCode::OK
        );
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

/// The rights table of `docs/security.md`, built from the routes the server really has.
fn rights_table(routes: &[maillage_web::RouteSpec]) -> String {
    let mut table = String::from(
        "| Méthode | Adresse | Anonyme | Coordination | Secrétariat | Membre | Partenaire | Admin. plateforme | Description |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for route in routes {
        let anonymous = match route.access {
            Access::Public => "✔",
            Access::Token(_) => "jeton",
            _ if route.path.starts_with("/api/") => "401",
            _ => "→ connexion",
        };
        let for_role = |role: Role| match route.access {
            Access::Public | Access::SignedIn => "✔",
            Access::Token(_) => "jeton",
            Access::PlatformAdmin => "✘",
            Access::Cpts(permission) if allows(role, permission) => "✔ (sa CPTS)",
            Access::Cpts(_) => "✘",
        };
        let admin = match route.access {
            Access::Cpts(_) => "✘",
            Access::Token(_) => "jeton",
            _ => "✔",
        };
        table.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            route.method,
            route.path,
            anonymous,
            for_role(Role::Coordinator),
            for_role(Role::Secretary),
            for_role(Role::Member),
            for_role(Role::Partner),
            admin,
            route.summary
        ));
    }
    table
}

#[tokio::test]
async fn the_documented_rights_table_is_the_one_the_server_enforces() {
    let app = TestApp::on(TestDatabase::sqlite().await.unwrap()).await;
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

async fn audit_actions(app: &TestApp, scope: maillage_store::AuditScope) -> Vec<String> {
    app.store
        .list_audit(
            scope,
            &maillage_store::AuditFilter::default(),
            Page::first(500),
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.entry.action)
        .collect()
}

#[tokio::test]
async fn repeated_wrong_passwords_slow_down_then_the_right_one_waits_too() {
    for app in each_backend().await {
        for _ in 0..3 {
            let refused = app
                .login(SECRETARY, "mauvais-mot-de-passe")
                .await
                .err()
                .unwrap();
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        }
        let slowed = app
            .login(SECRETARY, DEMO_PASSWORD)
            .await
            .err()
            .expect("delay applies to the right password too");
        assert_eq!(slowed.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            slowed
                .body
                .contains("Trop de tentatives. Réessayez dans 1 seconde."),
            "{}",
            slowed.body
        );
        assert_eq!(slowed.headers[header::RETRY_AFTER], "1");
        // Another account from the same address is not slowed down by these three failures.
        app.login_as(COORDINATOR).await;
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        app.login_as(SECRETARY).await;
        let actions = audit_actions(&app, maillage_store::AuditScope::Platform).await;
        assert_eq!(actions.iter().filter(|a| *a == "login_failed").count(), 3);
        assert!(actions.iter().any(|a| a == "login_locked"));
        assert!(actions.iter().filter(|a| *a == "login").count() >= 2);
    }
}

#[tokio::test]
async fn reads_of_personal_data_and_security_events_are_audited_and_chained() {
    for app in each_backend().await {
        let coordinator = app.login_as(COORDINATOR).await;
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.get("/c/camargue-gardoise/membres", Some(&coordinator))
                .await
                .status,
            StatusCode::OK
        );
        let journal = app
            .get(
                "/c/camargue-gardoise/journal?action=members_viewed",
                Some(&coordinator),
            )
            .await;
        assert_eq!(journal.status, StatusCode::OK);
        assert!(journal.body.contains("Consultation des membres"));
        assert!(journal.body.contains(COORDINATOR));

        let export = app
            .get("/c/camargue-gardoise/journal.csv", Some(&coordinator))
            .await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(export.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(
            export
                .body
                .starts_with("\u{feff}N°;Date (UTC);Personne;Action"),
            "{}",
            &export.body[..80]
        );
        assert!(export.body.contains(";Consultation des membres;"));
        let actions = audit_actions(&app, maillage_store::AuditScope::Cpts(cpts.id)).await;
        for expected in ["members_viewed", "audit_viewed", "audit_exported"] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected} in {actions:?}"
            );
        }
        // The other CPTS's trail does not show these entries (it has only its demo seeding's).
        let other = app
            .store
            .find_cpts_by_slug(OTHER_DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let theirs = audit_actions(&app, maillage_store::AuditScope::Cpts(other.id)).await;
        for action in ["members_viewed", "audit_viewed", "audit_exported"] {
            assert!(
                !theirs.iter().any(|a| a == action),
                "{action} in {theirs:?}"
            );
        }

        let bad_date = app
            .get(
                "/c/camargue-gardoise/journal?du=31-12-2026",
                Some(&coordinator),
            )
            .await;
        assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_date.body.contains("date de début"));
        let secretary = app.login_as(SECRETARY).await;
        assert_eq!(
            app.get("/c/camargue-gardoise/journal", Some(&secretary))
                .await
                .status,
            StatusCode::FORBIDDEN
        );

        assert!(matches!(
            maillage_store::verify_audit_chain(app.store.as_ref(), 100)
                .await
                .unwrap(),
            maillage_store::ChainReport::Intact { .. }
        ));
    }
}

/// Sends the queued e-mails to the outbox, as a worker would, and returns the newest body.
async fn deliver_mail(app: &TestApp) -> String {
    let mut runner = maillage_app::jobs::JobRunner::new(app.store.clone(), Default::default());
    runner.register(
        maillage_app::mail::EMAIL_JOB,
        Arc::new(maillage_app::mail::EmailJob {
            mailer: Arc::new(maillage_app::mail::Mailer::Outbox),
            store: app.store.clone(),
        }),
    );
    while runner.run_once(0).await.unwrap() {}
    app.store
        .list_outbox(Page::first(1))
        .await
        .unwrap()
        .pop()
        .map(|m| m.body)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_reveals_no_account() {
    for app in each_backend().await {
        // The demo's own e-mails (a booking told to its GP) go first.
        deliver_mail(&app).await;
        let old_session = app.login_as(MEMBER).await;
        let form = app.get("/mot-de-passe-oublie", None).await;
        let cookie = format!(
            "maillage_csrf={}",
            set_cookie(&form, "maillage_csrf").unwrap()
        );
        let csrf = hidden_csrf(&form.body);
        let unknown = app
            .post_form(
                "/mot-de-passe-oublie",
                Some(&cookie),
                &[("csrf", &csrf), ("email", "personne@nulle-part.fr")],
            )
            .await;
        assert!(
            !app.store
                .job_counts()
                .await
                .unwrap()
                .iter()
                .any(|(status, _)| status == "queued"),
            "no e-mail for an unknown address"
        );
        let known = app
            .post_form(
                "/mot-de-passe-oublie",
                Some(&cookie),
                &[("csrf", &csrf), ("email", MEMBER)],
            )
            .await;
        assert_eq!(unknown.status, known.status);
        assert_eq!(
            unknown.body, known.body,
            "the same answer whether the account exists or not"
        );

        let mail = deliver_mail(&app).await;
        let link = mail
            .lines()
            .find(|l| l.contains("/mot-de-passe/"))
            .unwrap()
            .trim()
            .to_string();
        let path = link.trim_start_matches("http://127.0.0.1:8080");
        assert_eq!(app.get(path, None).await.status, StatusCode::OK);
        let mismatch = app
            .post_form(
                path,
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("password", "nouveau-mot-de-passe"),
                    ("confirmation", "autre"),
                ],
            )
            .await;
        assert!(mismatch
            .body
            .contains("Les deux mots de passe saisis sont différents."));
        let short = app
            .post_form(
                path,
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("password", "court"),
                    ("confirmation", "court"),
                ],
            )
            .await;
        assert!(
            short.body.contains("mot de passe : 12 caractères au moins"),
            "{}",
            short.body
        );
        let done = app
            .post_form(
                path,
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("password", "nouveau-mot-de-passe"),
                    ("confirmation", "nouveau-mot-de-passe"),
                ],
            )
            .await;
        assert_eq!(done.headers[header::LOCATION], "/connexion?nouveau=1");
        assert_eq!(
            app.get(path, None).await.status,
            StatusCode::GONE,
            "single use"
        );
        assert_eq!(
            app.get("/compte", Some(&old_session)).await.status,
            StatusCode::SEE_OTHER,
            "sessions ended"
        );
        assert!(app.login(MEMBER, DEMO_PASSWORD).await.is_err());
        app.login(MEMBER, "nouveau-mot-de-passe")
            .await
            .ok()
            .expect("new password works");
        let actions = audit_actions(&app, maillage_store::AuditScope::Platform).await;
        assert!(actions.iter().any(|a| a == "password_reset_requested"));
        assert!(actions.iter().any(|a| a == "password_reset_completed"));
    }
}

fn current_code(app: &TestApp, user: &maillage_store::User, steps_ahead: i64) -> String {
    let keyring = app.state.config.keyring().unwrap();
    let secret = keyring
        .open(
            user.totp_secret.as_deref().unwrap(),
            format!("totp:{}", user.id).as_bytes(),
        )
        .unwrap();
    let step = maillage_app::clock::now_ms() / 1000 / 30 + steps_ahead;
    format!("{:06}", maillage_domain::totp::code_at(&secret, step))
}

#[tokio::test]
async fn a_second_factor_is_enrolled_then_asked_at_every_login() {
    for app in each_backend().await {
        let session = app.login_as(COORDINATOR).await;
        let begin = app
            .post_form(
                "/compte/double-authentification/commencer",
                Some(&session.cookie),
                &[("csrf", &session.csrf)],
            )
            .await;
        assert_eq!(begin.status, StatusCode::SEE_OTHER);
        let page = app
            .get("/compte/double-authentification", Some(&session))
            .await;
        assert!(
            page.body.contains("data:image/svg+xml;base64,"),
            "QR code shown"
        );
        let user = app
            .store
            .find_user_by_email(COORDINATOR)
            .await
            .unwrap()
            .unwrap();
        assert!(!user.totp_enabled);
        let wrong = app
            .post_form(
                "/compte/double-authentification",
                Some(&session.cookie),
                &[("csrf", &session.csrf), ("code", "000000")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        let code = current_code(&app, &user, 0);
        let confirmed = app
            .post_form(
                "/compte/double-authentification",
                Some(&session.cookie),
                &[("csrf", &session.csrf), ("code", &code)],
            )
            .await;
        assert_eq!(
            confirmed.status,
            StatusCode::SEE_OTHER,
            "{}",
            confirmed.body
        );
        assert!(
            app.store
                .find_user(user.id)
                .await
                .unwrap()
                .unwrap()
                .totp_enabled
        );

        // The password alone no longer opens a session.
        let form = app.get("/connexion", None).await;
        let login_cookie = set_cookie(&form, "maillage_csrf").unwrap();
        let csrf = hidden_csrf(&form.body);
        let answer = app
            .post_form(
                "/connexion",
                Some(&format!("maillage_csrf={login_cookie}")),
                &[
                    ("email", COORDINATOR),
                    ("password", DEMO_PASSWORD),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert!(answer.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/connexion/code"));
        assert!(set_cookie(&answer, "maillage_session").is_none());
        let challenge = set_cookie(&answer, "maillage_challenge").unwrap();
        let cookies = format!("maillage_csrf={login_cookie}; maillage_challenge={challenge}");
        let replayed = app
            .post_form(
                "/connexion/code",
                Some(&cookies),
                &[("csrf", &csrf), ("code", &code)],
            )
            .await;
        assert_eq!(
            replayed.status,
            StatusCode::UNAUTHORIZED,
            "a used code cannot be replayed"
        );
        let next_code = current_code(&app, &user, 1);
        let accepted = app
            .post_form(
                "/connexion/code",
                Some(&cookies),
                &[("csrf", &csrf), ("code", &next_code)],
            )
            .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER);
        assert!(set_cookie(&accepted, "maillage_session").is_some_and(|t| !t.is_empty()));
        let again = app
            .post_form(
                "/connexion/code",
                Some(&cookies),
                &[("csrf", &csrf), ("code", &next_code)],
            )
            .await;
        assert_eq!(
            again.headers[header::LOCATION],
            "/connexion",
            "the challenge is used up"
        );
        let actions = audit_actions(&app, maillage_store::AuditScope::Platform).await;
        assert!(actions.iter().any(|a| a == "totp_enabled"));
    }
}

#[tokio::test]
async fn a_cpts_can_require_a_second_factor_for_roles_that_see_patients() {
    for app in each_backend().await {
        let coordinator = app.login_as(COORDINATOR).await;
        let saved = app
            .post_form(
                "/c/camargue-gardoise/parametres",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("mfa_required", "oui")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let secretary = app.login_as(SECRETARY).await;
        let sent_away = app.get("/c/camargue-gardoise", Some(&secretary)).await;
        assert_eq!(
            sent_away.headers[header::LOCATION],
            "/compte/double-authentification?obligatoire=1"
        );
        let api = app
            .get("/api/v1/cpts/camargue-gardoise/members", Some(&secretary))
            .await;
        assert_eq!(api.status, StatusCode::FORBIDDEN);
        // Members do not read patient data: the rule does not apply to them.
        let member = app.login_as(MEMBER).await;
        assert_eq!(
            app.get("/c/camargue-gardoise", Some(&member)).await.status,
            StatusCode::OK
        );
        // Nor does it reach another CPTS.
        let other = app.login_as(OTHER_COORDINATOR).await;
        assert_eq!(
            app.get("/c/vidourle", Some(&other)).await.status,
            StatusCode::OK
        );
        let cpts = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        assert!(cpts.mfa_required);
        assert!(
            audit_actions(&app, maillage_store::AuditScope::Cpts(cpts.id))
                .await
                .iter()
                .any(|a| a == "mfa_policy_changed")
        );
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

async fn first_professional(app: &TestApp, slug: &str) -> maillage_store::ProfessionalSummary {
    let cpts = app.store.find_cpts_by_slug(slug).await.unwrap().unwrap();
    app.store
        .search_professionals(cpts.id, &Default::default(), Page::new(1, 1))
        .await
        .unwrap()
        .remove(0)
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
        let updates = app.audit_of(cpts.id, "professional_updated").await;
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].entry.target_id, professional.id.to_string());

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
async fn records_of_another_cpts_are_not_found_even_with_their_address() {
    for app in each_backend().await {
        let camargue = app
            .store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let professional = first_professional(&app, DEMO_CPTS_SLUG).await.id;
        let structure = app
            .store
            .search_structures(camargue.id, &Default::default(), Page::new(1, 1))
            .await
            .unwrap()[0]
            .id;
        let import = app
            .store
            .list_imports(camargue.id, Page::new(1, 1))
            .await
            .unwrap()[0]
            .id;
        let outsider = app.login_as(OTHER_COORDINATOR).await;
        for path in [
            format!("/c/vidourle/annuaire/fiche/{professional}"),
            format!("/c/vidourle/annuaire/fiche/{professional}/modifier"),
            format!("/c/vidourle/structures/fiche/{structure}"),
            format!("/c/vidourle/imports/suivi/{import}"),
            format!("/c/vidourle/imports/suivi/{import}/etat"),
        ] {
            let answer = app.get(&path, Some(&outsider)).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        }
        let edit = app
            .post_form(
                &format!("/c/vidourle/structures/fiche/{structure}"),
                Some(&outsider.cookie),
                &[("csrf", &outsider.csrf), ("partner_status", "member")],
            )
            .await;
        assert_eq!(edit.status, StatusCode::NOT_FOUND);
        let kept = app
            .store
            .structure(camargue.id, structure)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(kept.contact_name, "x");
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

fn multipart(boundary: &str, kind: &str, file_name: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
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

// --- Access to a médecin traitant ------------------------------------------------------------------------

async fn demo_cpts(app: &TestApp, slug: &str) -> maillage_store::Cpts {
    app.store.find_cpts_by_slug(slug).await.unwrap().unwrap()
}

async fn open_requests(
    app: &TestApp,
    cpts: maillage_store::CptsId,
) -> Vec<maillage_store::DoctorRequest> {
    app.store
        .list_doctor_requests(cpts, &Default::default(), Page::first(500))
        .await
        .unwrap()
}

/// A visitor's pre-login CSRF cookie and token, read from a public form.
async fn public_visit(app: &TestApp, path: &str) -> (String, String) {
    let page = app.get(path, None).await;
    assert_eq!(page.status, StatusCode::OK, "{path}");
    let cookie = set_cookie(&page, "maillage_csrf").expect("pre-login CSRF cookie");
    (format!("maillage_csrf={cookie}"), hidden_csrf(&page.body))
}

#[tokio::test]
async fn the_public_form_names_each_bad_field_keeps_robots_out_and_limits_submissions() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let path = "/demande-medecin/camargue-gardoise";
        let (cookie, csrf) = public_visit(&app, path).await;
        let before = open_requests(&app, cpts.id).await.len();
        let bad = app
            .post_form(
                path,
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("family_name", ""),
                    ("given_names", "Léa"),
                    ("birth_date", "32/13/1990"),
                    ("commune", "99999"),
                    ("phone", "12"),
                    ("criteria", "ald"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.names_fields(&[
            "Nom",
            "Date de naissance",
            "Commune",
            "Téléphone",
            "Consentement",
        ]);
        assert_eq!(
            open_requests(&app, cpts.id).await.len(),
            before,
            "nothing half-written"
        );
        let good = [
            ("csrf", csrf.as_str()),
            ("family_name", "Publique-Essai"),
            ("given_names", "Léa"),
            ("birth_date", "14/07/1950"),
            ("commune", "30003"),
            ("phone", "06 12 34 56 78"),
            ("criteria", "isolation"),
            ("consent_by", "relative"),
            ("consent", "oui"),
        ];
        let sent = app.post_form(path, Some(&cookie), &good).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
        let requests = open_requests(&app, cpts.id).await;
        assert_eq!(requests.len(), before + 1);
        let created = requests
            .iter()
            .find(|r| r.channel == "web_form" && r.criteria.isolation && r.age_at_request == 76)
            .unwrap();
        assert_eq!(created.consent_by, "relative");
        assert!(created.consent_method.contains("formulaire public"));
        // A robot fills the hidden field: told "sent", nothing kept.
        let mut robot = good.to_vec();
        robot.push(("site_web", "http://spam.example"));
        robot[1] = ("family_name", "Robot");
        assert_eq!(
            app.post_form(path, Some(&cookie), &robot).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(open_requests(&app, cpts.id).await.len(), before + 1);
        // Without the form's token, refused.
        assert_eq!(
            app.post_form(path, None, &good[1..]).await.status,
            StatusCode::FORBIDDEN
        );
        // Five submissions an hour from one address, then a wait.
        let mut statuses = Vec::new();
        for index in 0..6 {
            let name = format!("Limite-{index}");
            let mut fields = good.to_vec();
            fields[1] = ("family_name", &name);
            statuses.push(app.post_form(path, Some(&cookie), &fields).await.status);
        }
        assert!(
            statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        // An unknown CPTS has no form.
        assert_eq!(
            app.get("/demande-medecin/inconnue", None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn partners_follow_their_own_referrals_and_only_the_coordination_reads_requests() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let partner = app.login_as(PARTNER).await;
        let base = "/c/camargue-gardoise/medecin-traitant";
        let form = [
            ("csrf", partner.csrf.as_str()),
            ("referrer", "Antenne de Lunel"),
            ("family_name", "Adresse-Essai"),
            ("given_names", "Noé"),
            ("birth_date", "01/02/1939"),
            ("commune", "30133"),
            ("phone", "0466000000"),
            ("criteria", "loss_of_autonomy"),
            ("consent", "oui"),
        ];
        let created = app
            .post_form(&format!("{base}/nouvelle"), Some(&partner.cookie), &form)
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        let request = open_requests(&app, cpts.id)
            .await
            .into_iter()
            .find(|r| r.channel == "partner" && r.referrer.contains("Antenne de Lunel"))
            .unwrap();
        let partner_user = app
            .store
            .find_user_by_email(PARTNER)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.referrer_user_id, Some(partner_user.id));
        // The partner sees where their referral is, not who else was referred, and not the request page.
        let mine = app.get(&format!("{base}/adressages"), Some(&partner)).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("Reçue"));
        assert!(
            !mine.body.contains("Adresse-Essai"),
            "the list shows no identity"
        );
        assert_eq!(
            mine.body.matches("<tr><td>").count(),
            1,
            "only their own referral"
        );
        let page = format!("{base}/demandes/{}", request.id);
        assert_eq!(
            app.get(&page, Some(&partner)).await.status,
            StatusCode::FORBIDDEN
        );
        let member = app.login_as(MEMBER).await;
        assert_eq!(
            app.get(&page, Some(&member)).await.status,
            StatusCode::FORBIDDEN
        );
        // The secretary reads it (audited), with the identity decrypted.
        let secretary = app.login_as(SECRETARY).await;
        let read = app.get(&page, Some(&secretary)).await;
        assert_eq!(read.status, StatusCode::OK);
        assert!(
            read.body.contains("Adresse-Essai") && read.body.contains("perte d&#39;autonomie")
                || read.body.contains("Perte d")
        );
        let audited = app.audit_of(cpts.id, "doctor_request_viewed").await;
        assert!(audited
            .iter()
            .any(|e| e.entry.target_id == request.id.to_string()));
        // A refused move names the states; nothing changes.
        let refused = app
            .post_form(
                &format!("{page}/etat"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("to", "closed")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.body.contains("Reçue"));
        let moved = app
            .post_form(
                &format!("{page}/etat"),
                Some(&secretary.cookie),
                &[
                    ("csrf", &secretary.csrf),
                    ("to", "redirected"),
                    ("redirection", "dac"),
                ],
            )
            .await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
        let after = app
            .store
            .find_doctor_request(cpts.id, request.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (after.state.code(), after.outcome.as_str()),
            ("redirected", "dac")
        );
        // A coordinator of another CPTS does not find it, even with its address.
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let theirs = open_requests(&app, vidourle.id).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let foreign = format!("{base}/demandes/{}", theirs[0].id);
        assert_eq!(
            app.get(&foreign, Some(&coordinator)).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

fn list_multipart(boundary: &str, channel: &str, referrer: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"channel\"\r\n\r\n{channel}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"referrer\"\r\n\r\n{referrer}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"liste.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn a_list_is_imported_with_its_bad_lines_named_and_indicators_export_for_excel() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let before = open_requests(&app, cpts.id).await.len();
        let list =
            "\u{feff}nom;prenom;date_naissance;commune;telephone;email;criteres;consentement\r\n\
                    LISTE-WEB;Alix;01/01/1950;30003;0611223344;;ald;oui\r\n\
                    LISTE-WEB;Basile;01/01/1951;30003;;;;oui\r\n";
        let send = |query: String, body: Vec<u8>| {
            Request::post(format!(
                "/c/camargue-gardoise/medecin-traitant/import{query}"
            ))
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=LIMITE")
            .header(header::COOKIE, &coordinator.cookie)
            .body(Body::from(body))
            .unwrap()
        };
        let body = list_multipart("LIMITE", "cpam_list", "CPAM du Gard", list.as_bytes());
        assert_eq!(
            app.send(send(String::new(), body.clone())).await.status,
            StatusCode::FORBIDDEN
        );
        let started = app
            .send(send(format!("?csrf={}", coordinator.csrf), body))
            .await;
        assert_eq!(
            started.status,
            StatusCode::SEE_OTHER,
            "checked and recorded in the background"
        );
        let progress = started.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let mut state = String::new();
        for _ in 0..100 {
            state = app
                .get(&format!("{progress}/etat"), Some(&coordinator))
                .await
                .body;
            if state.contains("Terminé") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(state.contains("Terminé"), "{state}");
        assert!(state.contains("<td>3</td><td>Téléphone</td>"), "{state}");
        assert_eq!(open_requests(&app, cpts.id).await.len(), before + 1);
        let page = app.get(&progress, Some(&coordinator)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("liste.csv"));
        let bad_header = list_multipart(
            "LIMITE",
            "cpam_list",
            "CPAM du Gard",
            b"nom;prenom\r\nA;B\r\n",
        );
        let refused_header = app
            .send(send(format!("?csrf={}", coordinator.csrf), bad_header))
            .await;
        assert_eq!(refused_header.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused_header
                .body
                .contains("colonne « date_naissance » manquante"),
            "{}",
            refused_header.body
        );
        let no_referrer = list_multipart("LIMITE", "cpam_list", "", list.as_bytes());
        let refused = app
            .send(send(format!("?csrf={}", coordinator.csrf), no_referrer))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Envoyée par"));

        let page = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/indicateurs",
                Some(&coordinator),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Liste de la CPAM") && page.body.contains("<svg"));
        let csv = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/indicateurs.csv",
                Some(&coordinator),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with('\u{feff}'));
        assert!(csv.body.contains("Demandes par canal;Liste de la CPAM;"));
        let xlsx = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/indicateurs.xlsx",
                Some(&coordinator),
            )
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(!app
            .audit_of(cpts.id, "doctor_requests_exported")
            .await
            .is_empty());
        // Matching from the page, then the drafts are listed with their explanation.
        let run = app
            .post_form(
                "/c/camargue-gardoise/medecin-traitant/appariement",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("max_distance_km", "30")],
            )
            .await;
        assert_eq!(run.status, StatusCode::SEE_OTHER);
        let bad_run = app
            .post_form(
                "/c/camargue-gardoise/medecin-traitant/appariement",
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("max_distance_km", "loin")],
            )
            .await;
        assert_eq!(bad_run.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_run.body.contains("Distance maximale"));
        let matching = app
            .get(
                "/c/camargue-gardoise/medecin-traitant/appariement",
                Some(&coordinator),
            )
            .await;
        assert!(matching.body.contains("km du cabinet"), "drafts explained");
        // A link that does not exist is gone, not an error.
        assert_eq!(
            app.get(&format!("/proposition/{}", "a".repeat(43)), None)
                .await
                .status,
            StatusCode::GONE
        );
    }
}

#[tokio::test]
async fn a_gp_declares_room_in_two_clicks_and_bad_numbers_are_named() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let member = app.login_as(MEMBER).await;
        let page = app
            .get("/c/camargue-gardoise/ma-capacite", Some(&member))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("name=\"quick\" value=\"5\""));
        let quick = app
            .post_form(
                "/c/camargue-gardoise/ma-capacite",
                Some(&member.cookie),
                &[("csrf", &member.csrf), ("quick", "5")],
            )
            .await;
        assert_eq!(quick.status, StatusCode::SEE_OTHER);
        let user = app.store.find_user_by_email(MEMBER).await.unwrap().unwrap();
        let gp = app
            .store
            .professional_of_user(cpts.id, user.id)
            .await
            .unwrap()
            .unwrap();
        let declared = app.store.find_capacity(cpts.id, gp).await.unwrap().unwrap();
        assert_eq!(declared.now_capacity, 5);
        let bad = app
            .post_form(
                "/c/camargue-gardoise/ma-capacite",
                Some(&member.cookie),
                &[
                    ("csrf", &member.csrf),
                    ("now", "-3"),
                    ("later", "beaucoup"),
                    ("age_groups", "adults"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        bad.names_fields(&["Places maintenant", "Places d&#39;ici 6 mois"]);
        assert_eq!(
            app.store
                .find_capacity(cpts.id, gp)
                .await
                .unwrap()
                .unwrap()
                .now_capacity,
            5
        );
        assert!(!app.audit_of(cpts.id, "capacity_declared").await.is_empty());
    }
}

// --- Unscheduled care ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_gp_publishes_a_week_the_secretary_books_once_and_a_second_booking_is_refused() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let member = app.login_as(MEMBER).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
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
        let shown = app.get(&page, Some(&secretary)).await;
        let main = &shown.body[shown.body.find("<main").unwrap()..];
        assert!(
            main.contains("Essai-Snp")
                && main.contains("Confirmé")
                && main.contains("Régulation du SAS"),
            "{main}"
        );
        assert!(!app.audit_of(cpts.id, "snp_booking_viewed").await.is_empty());
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

/// The first slot of a search page.
fn first_slot(html: &str) -> String {
    html.split("/creneaux/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a slot on the search page")
        .to_string()
}

/// Holds a slot through the page; the booking page it leads to.
async fn hold_slot(app: &TestApp, session: &Session, base: &str, slot: &str) -> String {
    let hold = app
        .post_form(
            &format!("{base}/creneaux/{slot}/reserver"),
            Some(&session.cookie),
            &[("csrf", &session.csrf)],
        )
        .await;
    assert_eq!(hold.status, StatusCode::SEE_OTHER);
    hold.headers[header::LOCATION].to_str().unwrap().to_string()
}

async fn bearer_get(app: &TestApp, path: &str, token: Option<&str>) -> Answer {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// The secret a page shows once, in its read-only field.
fn shown_secret(html: &str) -> String {
    let at = html.find("mlg_").expect("a secret on the page");
    html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

const FHIR_SEARCH: &str = "/fhir/Slot?status=free&_include=Slot:schedule&_include:iterate=Schedule:actor\
                           &_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization";

#[tokio::test]
async fn the_sas_reads_free_slots_over_fhir_with_a_token_the_coordination_issues_and_revokes() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let coordinator = app.login_as(COORDINATOR).await;
        let metadata = app.get("/fhir/metadata", None).await;
        assert_eq!(metadata.status, StatusCode::OK);
        let capability: serde_json::Value = serde_json::from_str(&metadata.body).unwrap();
        assert_eq!(capability["resourceType"], "CapabilityStatement");
        assert_eq!(capability["fhirVersion"], "4.0.1");

        let anonymous = bearer_get(&app, FHIR_SEARCH, None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/fhir+json"));
        assert!(anonymous.body.contains("OperationOutcome"));
        assert_eq!(
            bearer_get(&app, FHIR_SEARCH, Some("mlg_inconnu"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );

        let empty_name = app
            .post_form(
                &format!("{base}/jetons"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("name", " ")],
            )
            .await;
        assert_eq!(empty_name.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty_name.body.contains("Nom du jeton"));
        let issued = app
            .post_form(
                &format!("{base}/jetons"),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("name", "Plateforme SAS 30")],
            )
            .await;
        assert_eq!(issued.status, StatusCode::OK);
        let secret = shown_secret(&issued.body);
        assert!(!app.audit_of(cpts.id, "api_token_issued").await.is_empty());

        let answer = bearer_get(&app, FHIR_SEARCH, Some(&secret)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let bundle: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "searchset");
        let entries = bundle["entry"].as_array().unwrap();
        let of = |kind: &str| -> Vec<&serde_json::Value> {
            entries
                .iter()
                .filter(|e| e["resource"]["resourceType"] == kind)
                .collect()
        };
        let slots = of("Slot");
        assert!(!slots.is_empty());
        for kind in [
            "Schedule",
            "Practitioner",
            "PractitionerRole",
            "HealthcareService",
            "Organization",
        ] {
            assert!(!of(kind).is_empty(), "{kind} included");
            assert!(of(kind).iter().all(|e| e["search"]["mode"] == "include"));
        }
        let schedules: Vec<String> = of("Schedule")
            .iter()
            .map(|e| format!("Schedule/{}", e["resource"]["id"].as_str().unwrap()))
            .collect();
        for slot in &slots {
            let r = &slot["resource"];
            assert_eq!(slot["search"]["mode"], "match");
            assert_eq!(r["status"], "free");
            assert!(["SNP", "CPTS"].contains(&r["meta"]["security"][0]["code"].as_str().unwrap()));
            assert!(schedules.contains(&r["schedule"]["reference"].as_str().unwrap().to_string()));
        }
        let practitioner = &of("Practitioner")[0]["resource"];
        assert_eq!(
            practitioner["identifier"][0]["system"],
            "urn:oid:1.2.250.1.71.4.2.1"
        );
        let idnps = practitioner["identifier"][0]["value"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(idnps.starts_with('8'));
        // The demo's booked slot is not free, and no patient identity ever appears.
        let booked = app
            .store
            .recent_bookings(cpts.id, Page::first(1))
            .await
            .unwrap()[0]
            .slot_id;
        assert!(!answer.body.contains(&booked.to_string()));
        assert!(!answer.body.contains("EXEMPLE-SNP"));
        assert!(!app.audit_of(cpts.id, "fhir_slots_read").await.is_empty());

        // One practitioner's slots only; an unknown one has none.
        let filtered = bearer_get(
            &app,
            &format!("{FHIR_SEARCH}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C{idnps}"),
            Some(&secret),
        )
        .await;
        let filtered: serde_json::Value = serde_json::from_str(&filtered.body).unwrap();
        let own_schedule = format!("Schedule/sched-{}", practitioner["id"].as_str().unwrap());
        let filtered_slots: Vec<&serde_json::Value> = filtered["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Slot")
            .collect();
        assert!(!filtered_slots.is_empty());
        assert!(filtered_slots
            .iter()
            .all(|e| e["resource"]["schedule"]["reference"] == own_schedule.as_str()));
        let nobody = bearer_get(
            &app,
            &format!("{FHIR_SEARCH}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C899999999999"),
            Some(&secret),
        )
        .await;
        let nobody: serde_json::Value = serde_json::from_str(&nobody.body).unwrap();
        assert_eq!(nobody["total"], 0);
        // A window in the guide's form: only slots starting in it.
        let one_slot = &slots[0]["resource"];
        let start = one_slot["start"].as_str().unwrap().replace('+', "%2B");
        let window = bearer_get(
            &app,
            &format!("/fhir/Slot?status=free&start=ge{start}&start=le{start}"),
            Some(&secret),
        )
        .await;
        let window: serde_json::Value = serde_json::from_str(&window.body).unwrap();
        assert!(window["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource"]["start"] == one_slot["start"]));
        let read = bearer_get(
            &app,
            &format!("/fhir/Slot/{}", one_slot["id"].as_str().unwrap()),
            Some(&secret),
        )
        .await;
        assert_eq!(read.status, StatusCode::OK);
        // Bad parameters: 400 with an OperationOutcome naming the parameter.
        let bad = bearer_get(&app, "/fhir/Slot?start=ge-demain", Some(&secret)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("OperationOutcome") && bad.body.contains("start"));

        // Another CPTS's token never sees these slots.
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let theirs = maillage_app::tokens::issue(
            app.store.as_ref(),
            &maillage_app::caller::Caller::command_line(vidourle.id),
            "SAS",
            maillage_app::tokens::FHIR_SCOPE,
            None,
        )
        .await
        .unwrap();
        let other = bearer_get(&app, FHIR_SEARCH, Some(&theirs)).await;
        let ours: Vec<&str> = slots
            .iter()
            .map(|e| e["resource"]["id"].as_str().unwrap())
            .collect();
        for id in ours {
            assert!(!other.body.contains(id));
        }
        assert_eq!(
            bearer_get(
                &app,
                &format!("/fhir/Slot/{}", one_slot["id"].as_str().unwrap()),
                Some(&theirs)
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // Revoked: refused at once.
        let listed = app
            .store
            .list_tokens(cpts.id, "fhir:read", Page::first(10))
            .await
            .unwrap();
        let revoked = app
            .post_form(
                &format!("{base}/jetons/{}/revoquer", listed[0].id),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf)],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        assert_eq!(
            bearer_get(&app, FHIR_SEARCH, Some(&secret)).await.status,
            StatusCode::UNAUTHORIZED
        );
        // The secretary cannot issue tokens.
        let secretary = app.login_as(SECRETARY).await;
        assert_eq!(
            app.post_form(
                &format!("{base}/jetons"),
                Some(&secretary.cookie),
                &[("csrf", &secretary.csrf), ("name", "x")],
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn a_professional_subscribes_to_a_secret_calendar_without_patient_identities() {
    for app in each_backend().await {
        let base = "/c/camargue-gardoise/soins-non-programmes";
        let member = app.login_as(MEMBER).await;
        let created = app
            .post_form(
                &format!("{base}/mes-creneaux/agenda"),
                Some(&member.cookie),
                &[("csrf", &member.csrf)],
            )
            .await;
        assert_eq!(created.status, StatusCode::OK);
        let secret = shown_secret(&created.body);
        let path = format!("/agenda/{secret}/creneaux.ics");
        assert!(created.body.contains(&path));
        let feed = app.get(&path, None).await;
        assert_eq!(feed.status, StatusCode::OK);
        assert!(feed.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar"));
        assert!(feed.body.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(feed.body.contains("SUMMARY:SNP — patient réservé"));
        assert!(feed.body.contains("SUMMARY:SNP — créneau libre"));
        // The demo shares Saturday mornings among its GPs, Dr Fabre's included.
        assert!(feed.body.contains("SUMMARY:Astreinte — Samedi matin"));
        assert!(!feed.body.contains("EXEMPLE-SNP"));
        // A new address replaces the old one.
        let again = app
            .post_form(
                &format!("{base}/mes-creneaux/agenda"),
                Some(&member.cookie),
                &[("csrf", &member.csrf)],
            )
            .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
        // A FHIR token does not open a calendar, nor the other way round.
        let renewed = shown_secret(&again.body);
        assert_eq!(
            bearer_get(&app, FHIR_SEARCH, Some(&renewed)).await.status,
            StatusCode::UNAUTHORIZED
        );
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
        let xlsx = app
            .get(&format!("{base}/indicateurs.xlsx"), Some(&secretary))
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
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
        assert!(!app.audit_of(cpts.id, "snp_slots_exported").await.is_empty());

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

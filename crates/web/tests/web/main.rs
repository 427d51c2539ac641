//! Black-box tests of the web application, each on a fresh copy of the demo on SQLite and PostgreSQL: one
//! test binary for the crate, one module per mission or concern; the harness (an app on a database, signed-in
//! sessions, helpers shared by the modules) is here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use maillage_app::accounts::Accounts;
use maillage_app::config::Config;
use maillage_app::demo::{self, DEMO_CPTS_SLUG, DEMO_PASSWORD, OTHER_DEMO_CPTS_SLUG};
use maillage_domain::authz::{allows, Role};
use maillage_store::testing::{Template, TestDatabase};
use maillage_store::{Page, Store};
use maillage_web::{Access, AppState};
use std::sync::Arc;
use tower::ServiceExt;

use records::{job_runner, reimported};

mod access;
mod accounts;
mod architecture;
mod doctor_search;
mod hardening;
mod lists;
mod messages;
mod pathway_meetings;
mod pathway_patients;
mod pathways;
mod platform;
mod records;
mod referrals;
mod sas;
mod sas_appointments;
mod sas_guide;
mod sas_profiles;
mod sas_tls;
mod snp_rota;
mod snp_work_lists;
mod team;
mod territory_directory;
mod unscheduled_care;

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
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

impl TestApp {
    /// The app on a copy of the demo template (its keys, cheap password hashing).
    async fn on(database: TestDatabase) -> Self {
        let config = demo_template().await.1.clone();
        // Keyed like a real server: new audit entries carry the MAC of the configuration's audit key.
        let store = maillage_store::open_with(&database.url, config.audit_keys().unwrap())
            .await
            .unwrap();
        let accounts = test_accounts(&store, &config);
        let state = AppState::new(store.clone(), accounts, Arc::new(config));
        let router = maillage_web::app(state.clone());
        Self {
            _database: database,
            store,
            state,
            router,
        }
    }

    /// Asserts that exactly one entry of `action` was added since `before` (a count taken before the step),
    /// and that it names `target`: an audit check that an earlier entry cannot satisfy.
    async fn assert_audited_once(
        &self,
        cpts: maillage_store::CptsId,
        action: &str,
        before: usize,
        target: &str,
    ) {
        let entries = self.audit_of(cpts, action).await;
        assert_eq!(entries.len(), before + 1, "{action}: one new entry");
        assert_eq!(entries[0].entry.target_id, target, "{action}: its target");
    }

    /// The same database under a changed configuration (a new router, as a restart would give).
    fn reconfigured(mut self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.state.config).clone();
        change(&mut config);
        let accounts = test_accounts(&self.store, &config);
        self.state = AppState::new(self.store.clone(), accounts, Arc::new(config));
        self.router = maillage_web::app(self.state.clone());
        self
    }

    /// Another app on a fresh copy of the demo, on the same engine.
    async fn fresh(&self) -> TestApp {
        let database = demo_template()
            .await
            .0
            .copy_on(self.store.backend())
            .await
            .unwrap();
        TestApp::on(database).await
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

    /// The login form sent with `email`, `password` and `extra` fields: the answer, the pre-login cookie
    /// (`maillage_csrf=…`) and its CSRF token, for the steps that follow (the second factor).
    async fn password_step(
        &self,
        email: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> (Answer, String, String) {
        let form = self.get("/connexion", None).await;
        let login_cookie = set_cookie(&form, "maillage_csrf").expect("pre-login CSRF cookie");
        let csrf = hidden_csrf(&form.body);
        let mut fields = vec![
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
        ];
        fields.extend_from_slice(extra);
        let cookie = format!("maillage_csrf={login_cookie}");
        let answer = self.post_form("/connexion", Some(&cookie), &fields).await;
        (answer, cookie, csrf)
    }

    async fn login(&self, email: &str, password: &str) -> Result<Session, Answer> {
        let (answer, _, _) = self.password_step(email, password, &[("suite", "/")]).await;
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

fn test_accounts(store: &Arc<dyn Store>, config: &Config) -> Accounts {
    let keyring = Arc::new(config.keyring().unwrap());
    Accounts::new(store.clone(), config.security.clone(), keyring)
        .unwrap()
        .with_test_password_cost()
        .unwrap()
}

/// The demo seeded once for the whole test binary, with the keys its identities are sealed with.
async fn demo_template() -> &'static (Template, Config) {
    static DEMO: tokio::sync::OnceCell<(Template, Config)> = tokio::sync::OnceCell::const_new();
    DEMO.get_or_init(|| async {
        let config = Config::default().with_new_keys();
        let template = Template::build(|store| {
            let accounts = test_accounts(&store, &config);
            async move {
                demo::seed(&store, &accounts).await.unwrap();
            }
        })
        .await
        .unwrap();
        (template, config)
    })
    .await
}

/// The demo app on a fresh copy of the template, on each backend; each says which engine it runs on.
async fn each_backend() -> Vec<TestApp> {
    let mut apps = Vec::new();
    for database in demo_template().await.0.each_backend().await.unwrap() {
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
    /// Every audit entry of one action in a CPTS, newest first (page after page: the demo's seeding
    /// alone writes hundreds of some).
    async fn audit_of(
        &self,
        cpts: maillage_store::CptsId,
        action: &str,
    ) -> Vec<maillage_store::AuditEntry> {
        let filter = maillage_store::AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        };
        let mut all = Vec::new();
        for number in 1..=50 {
            let page = self
                .store
                .list_audit(
                    maillage_store::AuditScope::Cpts(cpts),
                    &filter,
                    Page::new(number, Page::MAX_LIMIT),
                )
                .await
                .unwrap();
            let last = (page.len() as i64) < Page::MAX_LIMIT;
            all.extend(page);
            if last {
                break;
            }
        }
        all
    }

    /// A route pattern with real values of the demo CPTS `cpts`: its slug, and the id of one of its
    /// professionals, structures or imports.
    async fn concrete(&self, path: &str, cpts: &str) -> String {
        let mut path = path
            .replace("{cpts}", cpts)
            .replace("{slug}", cpts)
            .replace("{name}", "maillage.css")
            .replace("{token}", &"0".repeat(64))
            .replace("{code}", "insuffisance-cardiaque");
        if path.contains("{id}") {
            let id = self
                .store
                .find_cpts_by_slug(cpts)
                .await
                .unwrap()
                .unwrap()
                .id;
            let page = maillage_store::Page::new(1, 1);
            let record = if path.starts_with("/admin/sas/") {
                // A SAS client of the deployment (registered once per database).
                match maillage_app::tokens::sas_clients(self.store.as_ref(), page)
                    .await
                    .unwrap()
                    .first()
                {
                    Some((client, _)) => client.id,
                    None => maillage_app::tokens::register_sas_client(
                        self.store.as_ref(),
                        &maillage_app::audit::AuditContext::command_line(),
                        "Essai",
                        "sas.essai",
                        "PTF-SAS",
                        &[cpts.to_string()],
                    )
                    .await
                    .unwrap(),
                }
            } else if path.contains("/annuaire/fiche/") {
                self.store
                    .search_professionals(id, &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/parcours/reunions/") {
                records::a_case_meeting(self, id).await
            } else if path.contains("/parcours/listes/") {
                records::a_waiting_list(self, id).await
            } else if path.contains("{sheet}") || path.ends_with("/fiche") {
                let (inclusion, step, sheet) = records::a_liaison_sheet(self, id).await;
                return path
                    .replace("{id}", &inclusion.to_string())
                    .replace("{step}", &step.to_string())
                    .replace("{sheet}", &sheet.to_string());
            } else if path.contains("/parcours/patients/") {
                let (inclusion, step) = records::a_pathway_step(self, id).await;
                return path
                    .replace("{id}", &inclusion.to_string())
                    .replace("{step}", &step.to_string());
            } else if path.contains("/structures/fiche/") {
                self.store
                    .search_structures(id, &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/medecin-traitant/adressages/") {
                // A referral of the demo's partner (her own, as the route requires).
                let partner = self
                    .store
                    .find_user_by_email(PARTNER)
                    .await
                    .unwrap()
                    .unwrap();
                let filter = maillage_store::RequestFilter {
                    referrer: Some(partner.id),
                    ..Default::default()
                };
                let mine = self
                    .store
                    .list_doctor_requests(id, &filter, page)
                    .await
                    .unwrap();
                match mine.first() {
                    Some(request) => request.id,
                    // Another CPTS's demo has no partner: any request (found by nobody there).
                    None => {
                        self.store
                            .list_doctor_requests(id, &Default::default(), page)
                            .await
                            .unwrap()[0]
                            .id
                    }
                }
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
            } else if path.contains("/soins-non-programmes/echanges/") {
                snp_rota::a_pending_swap(self, id).await
            } else if path.contains("/soins-non-programmes/jetons/") {
                let caller = maillage_app::caller::Caller::command_line(id);
                maillage_app::tokens::issue(
                    self.store.as_ref(),
                    &caller,
                    "Essai",
                    maillage_app::tokens::FHIR_SCOPE,
                    None,
                )
                .await
                .unwrap();
                self.store
                    .list_tokens(id, maillage_app::tokens::FHIR_SCOPE, page)
                    .await
                    .unwrap()[0]
                    .id
            } else if path.contains("/soins-non-programmes/dysfonctionnements/") {
                self.state
                    .missions
                    .unscheduled_care
                    .report_dysfunction(
                        &maillage_app::caller::Caller::command_line(id),
                        "Essai",
                        maillage_domain::unscheduled_care::DysfunctionKind::Other,
                        "Essai de suivi",
                    )
                    .await
                    .unwrap()
            } else if path.contains("/soins-non-programmes/creneaux/")
                || path.contains("/mes-creneaux/")
                || path.starts_with("/fhir/Slot/")
            {
                free_slots(self, id, 1).await[0].id
            } else if path.starts_with("/fhir/Schedule/") || path.starts_with("/fhir/Practitioner/")
            {
                let professional = first_professional(self, cpts).await;
                if path.starts_with("/fhir/Schedule/") {
                    return path.replace("{id}", &format!("sched-{}", professional.id));
                }
                // A Practitioner's id is its IDNPS.
                return path.replace("{id}", &format!("8{}", professional.identifier));
            } else if path.contains("/medecin-traitant/messages/") {
                let request = self
                    .store
                    .list_doctor_requests(id, &Default::default(), page)
                    .await
                    .unwrap()[0]
                    .id;
                maillage_app::deliveries::to_call(
                    self.store.as_ref(),
                    maillage_app::deliveries::About::new(
                        id,
                        maillage_domain::delivery::Purpose::PatientNotice,
                        request,
                    ),
                )
                .await
                .unwrap()
            } else if path.contains("/medecin-traitant/appariement/")
                || path.contains("/propositions/")
            {
                self.state
                    .missions
                    .doctor_search
                    .run_matching(&maillage_app::caller::Caller::command_line(id), 50.0)
                    .await
                    .unwrap();
                self.store
                    .list_proposals(id, &maillage_store::ProposalStatus::Draft, page)
                    .await
                    .unwrap()[0]
                    .proposal
                    .id
            } else if path.contains("/medecin-traitant/import/") {
                let runs = self.store.list_imports(id, Page::first(100)).await.unwrap();
                let kinds: Vec<String> = runs
                    .iter()
                    .map(|r| format!("{} {} {}", r.kind, r.started_at, r.file_name))
                    .collect();
                runs.into_iter()
                    .find(|run| run.kind == maillage_app::imports::REQUEST_LIST_KIND)
                    .unwrap_or_else(|| {
                        panic!(
                            "no list import in {cpts} ({path}) on {:?}: {kinds:?}",
                            self.store.backend()
                        )
                    })
                    .id
            } else if path.contains("/membres/") {
                self.store.list_members(id, page).await.unwrap()[0]
                    .user_id
                    .0
            } else if path.contains("/imports/suivi/") {
                self.store
                    .list_imports(id, Page::first(100))
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|run| run.kind != maillage_app::imports::REQUEST_LIST_KIND)
                    .unwrap()
                    .id
            } else {
                panic!(
                    "no record of the demo for {path}: name one here so that its route is tested"
                );
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

/// Sends the queued e-mails to the outbox, as a worker would, and returns the newest body (opened, links in
/// full: the recipient's view of it).
async fn deliver_mail(app: &TestApp) -> String {
    let keyring = app.state.accounts.keyring().clone();
    let runner = job_runner(app);
    while runner.run_once(0).await.unwrap() {}
    maillage_app::mail::read_outbox(app.store.as_ref(), &keyring, Page::first(1), true)
        .await
        .unwrap()
        .pop()
        .map(|mail| mail.body)
        .unwrap_or_default()
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

async fn first_professional(app: &TestApp, slug: &str) -> maillage_store::ProfessionalSummary {
    let cpts = app.store.find_cpts_by_slug(slug).await.unwrap().unwrap();
    app.store
        .search_professionals(cpts.id, &Default::default(), Page::new(1, 1))
        .await
        .unwrap()
        .remove(0)
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

// --- Access to a médecin traitant ------------------------------------------------------------------------

async fn demo_cpts(app: &TestApp, slug: &str) -> maillage_store::Cpts {
    app.store.find_cpts_by_slug(slug).await.unwrap().unwrap()
}

/// The state fragment of a list import once it has finished (it runs in the background).
async fn finished_import(app: &TestApp, session: &Session, progress: &str) -> String {
    let mut state = String::new();
    for _ in 0..100 {
        state = app
            .get(&format!("{progress}/etat"), Some(session))
            .await
            .body;
        if state.contains("Terminé") {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not finish: {state}");
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

// --- Unscheduled care ------------------------------------------------------------------------------------

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

/// Up to `limit` free slots of the CPTS over the next four weeks (the demo publishes that far), earliest first.
async fn free_slots(
    app: &TestApp,
    cpts: maillage_store::CptsId,
    limit: i64,
) -> Vec<maillage_store::SnpSlot> {
    let now = maillage_app::clock::now_ms();
    app.store
        .search_free_slots(
            cpts,
            &maillage_store::SlotQuery {
                from: now,
                until: now + 28 * maillage_app::clock::DAY_MS,
                ..Default::default()
            },
            now,
            Page::first(limit),
        )
        .await
        .unwrap()
}

/// The SAS's search for the professionals of `slug` who publish slots (at most 25, as the SAS asks), with
/// the guide's `_include`s.
async fn sas_search(app: &TestApp, slug: &str) -> String {
    let cpts = app.store.find_cpts_by_slug(slug).await.unwrap().unwrap();
    let slots = free_slots(app, cpts.id, 500).await;
    let mut ids: Vec<uuid::Uuid> = slots.iter().map(|s| s.professional_id).collect();
    ids.sort();
    ids.dedup();
    ids.truncate(25);
    let summaries = app
        .store
        .professional_summaries(cpts.id, &ids)
        .await
        .unwrap();
    let tokens: Vec<String> = summaries
        .iter()
        .map(|s| format!("urn:oid:1.2.250.1.71.4.2.1%7C8{}", s.identifier))
        .collect();
    format!(
        "{FHIR_SEARCH}&schedule.actor:Practitioner.identifier={}",
        tokens.join(",")
    )
}

use records::FHIR_SEARCH;

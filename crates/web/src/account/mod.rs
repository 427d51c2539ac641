//! Signing in and out, the second factor, forgotten passwords, and the account page. Every outcome is
//! recorded in the audit trail; refusals never tell whether an account exists.

mod password_reset;
mod second_factor;
mod sessions;
use password_reset::*;
use second_factor::*;
use sessions::*;

use crate::access::{Access, Actor, CurrentUser, GuardedRouter, Viewer};

use crate::cookies;

use crate::error::{WebError, WebResult};

use crate::forms::{Form, Query};

use crate::pages::memberships;

use crate::views::{render, render_form, Layout};

use crate::AppState;

use askama::Template;

use axum::extract::{Path, State};

use axum::http::{HeaderMap, StatusCode};

use axum::response::{IntoResponse, Redirect, Response};

use base64::Engine;

use maillage_app::accounts::{
    random_token, AccountError, Attempt, LoginOutcome, OpenedSession, KNOWN_DEVICE_DAYS,
};

use maillage_app::audit::{self, AuditContext, AuditEvent};

use maillage_app::clock::now_ms;

use maillage_domain::audit::AuditAction;

use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/connexion",
            Access::Public,
            "Formulaire de connexion",
            login_form,
        )
        .post("/connexion", Access::Public, "Connexion", login)
        .get(
            "/connexion/code",
            Access::Public,
            "Formulaire du code de double authentification",
            code_form,
        )
        .post(
            "/connexion/code",
            Access::Public,
            "Vérification du code de double authentification",
            code,
        )
        .post("/deconnexion", Access::SignedIn, "Déconnexion", logout)
        .post(
            "/deconnexion/partout",
            Access::SignedIn,
            "Déconnexion de tous les appareils",
            logout_everywhere,
        )
        .get(
            "/mot-de-passe-oublie",
            Access::Public,
            "Demande de lien de nouveau mot de passe",
            forgot_form,
        )
        .post(
            "/mot-de-passe-oublie",
            Access::Public,
            "Envoi d'un lien de nouveau mot de passe",
            forgot,
        )
        .get(
            "/mot-de-passe/{token}",
            Access::Public,
            "Formulaire de nouveau mot de passe (lien reçu)",
            reset_form,
        )
        .post(
            "/mot-de-passe/{token}",
            Access::Public,
            "Nouveau mot de passe (lien reçu)",
            reset,
        )
        .get("/compte", Access::SignedIn, "Mon compte", account)
        .get(
            "/compte/mot-de-passe",
            Access::SignedIn,
            "Formulaire de changement de mot de passe",
            password_form,
        )
        .post(
            "/compte/mot-de-passe",
            Access::SignedIn,
            "Changement de mot de passe (les autres sessions se ferment)",
            change_password,
        )
        .post(
            "/compte/sessions/fermer",
            Access::SignedIn,
            "Fermeture d'une de mes sessions (un autre appareil)",
            end_session,
        )
        .get(
            "/compte/double-authentification",
            Access::SignedIn,
            "Double authentification",
            totp_page,
        )
        .post(
            "/compte/double-authentification/commencer",
            Access::SignedIn,
            "Début d'activation de la double authentification",
            totp_begin,
        )
        .post(
            "/compte/double-authentification",
            Access::SignedIn,
            "Activation de la double authentification",
            totp_confirm,
        )
        .post(
            "/compte/double-authentification/codes-de-secours",
            Access::SignedIn,
            "Nouveaux codes de secours de la double authentification",
            recovery_codes_renew,
        )
        .post(
            "/compte/double-authentification/desactiver",
            Access::SignedIn,
            "Désactivation de la double authentification",
            totp_disable,
        )
}

/// Short-lived cookie holding the login challenge between the password and the code.
const CHALLENGE: &str = "maillage_challenge";

/// Only paths of this site are followed after login (no open redirect): one `/` then printable ASCII, with no
/// backslash, no second `/` in front, no white space nor control character (browsers drop tabs and line breaks,
/// so `/<tab>/evil.example` would become `//evil.example`), and short enough for a header.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.len() <= 2000
                && path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.to_string()
        }
        _ => "/".into(),
    }
}

/// Where this login attempt comes from, for the counters of [`maillage_app::accounts::throttle`].
fn attempt<'a>(actor: &'a AuditContext, device: &'a Option<String>) -> Attempt<'a> {
    Attempt {
        ip: &actor.ip,
        device: device.as_deref(),
    }
}

async fn audit_or_fail(
    state: &AppState,
    actor: &AuditContext,
    event: AuditEvent<'_>,
) -> WebResult<()> {
    audit::record(state.store.as_ref(), actor, event).await?;
    Ok(())
}

/// The pre-login CSRF token: the cookie's, or a new one to set.
pub(crate) fn login_csrf(headers: &HeaderMap) -> (String, bool) {
    match cookies::read(headers, cookies::LOGIN_CSRF) {
        Some(token) => (token, false),
        None => (random_token(), true),
    }
}

pub(crate) fn with_login_csrf(
    mut response: Response,
    state: &AppState,
    token: &str,
    is_new: bool,
) -> Response {
    if is_new {
        cookies::set(
            response.headers_mut(),
            cookies::LOGIN_CSRF,
            token,
            state.config.server.secure_cookies(),
            None,
        );
    }
    response
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    suite: Option<String>,
    deconnecte: Option<String>,
    nouveau: Option<String>,
    invitation: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    if viewer.signed_in.is_some() {
        return Redirect::to(&safe_next(query.suite.as_deref())).into_response();
    }
    let (csrf, is_new) = login_csrf(&headers);
    let notice = if query.deconnecte.is_some() {
        Some("Vous êtes déconnecté.".to_string())
    } else if query.nouveau.is_some() {
        Some("Votre mot de passe est enregistré : connectez-vous.".to_string())
    } else if query.invitation.is_some() {
        Some(
            "Invitation acceptée : connectez-vous avec le mot de passe de votre compte existant."
                .to_string(),
        )
    } else {
        None
    };
    let page = LoginPage {
        layout: Layout::new(&viewer, "Connexion", "connexion").with_notice(notice),
        csrf: csrf.clone(),
        next: safe_next(query.suite.as_deref()),
        email: String::new(),
        error: None,
    };
    with_login_csrf(render(&page), &state, &csrf, is_new)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    suite: String,
    #[serde(default)]
    csrf: String,
}

fn signed_in_response(state: &AppState, opened: &OpenedSession, next: &str) -> Response {
    let mut response = Redirect::to(next).into_response();
    let secure = state.config.server.secure_cookies();
    cookies::set(
        response.headers_mut(),
        cookies::SESSION,
        opened.token.expose(),
        secure,
        None,
    );
    cookies::set(
        response.headers_mut(),
        cookies::DEVICE,
        opened.device.expose(),
        secure,
        Some(KNOWN_DEVICE_DAYS * 24 * 3600),
    );
    cookies::clear(response.headers_mut(), cookies::LOGIN_CSRF, secure);
    cookies::clear(response.headers_mut(), CHALLENGE, secure);
    response
}

fn actor_for(actor: &AuditContext, user: &maillage_store::User) -> AuditContext {
    AuditContext {
        actor_id: Some(user.id),
        actor: user.email.clone(),
        ..actor.clone()
    }
}

async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    let device = cookies::read(&headers, cookies::DEVICE);
    let next = safe_next(Some(&form.suite));
    let typed: String = form.email.trim().chars().take(254).collect();
    let refused = |status: StatusCode, message: String| {
        let page = LoginPage {
            layout: Layout::new(&viewer, "Connexion", "connexion"),
            csrf: form.csrf.clone(),
            next: next.clone(),
            email: typed.clone(),
            error: Some(message),
        };
        let mut response = render(&page);
        *response.status_mut() = status;
        response
    };
    // Failed attempts are recorded under the address typed, which may belong to no account.
    let attempted = AuditContext {
        actor: typed.to_lowercase(),
        ..actor.clone()
    };
    match state
        .accounts
        .login(
            &form.email,
            &form.password,
            &attempt(&actor, &device),
            now_ms(),
        )
        .await
    {
        Ok(LoginOutcome::Opened(opened)) => {
            audit_or_fail(
                &state,
                &actor_for(&actor, &opened.user),
                AuditEvent::new(AuditAction::Login, "user", opened.user.id.to_string()),
            )
            .await?;
            Ok(signed_in_response(&state, &opened, &next))
        }
        Ok(LoginOutcome::NeedsSecondFactor { challenge, user }) => {
            tracing::info!(user = %user.id, "password accepted, second factor required");
            let mut response = Redirect::to(&format!(
                "/connexion/code?suite={}",
                crate::access::url_encode(&next)
            ))
            .into_response();
            cookies::set(
                response.headers_mut(),
                CHALLENGE,
                challenge.expose(),
                state.config.server.secure_cookies(),
                Some(300),
            );
            Ok(response)
        }
        Err(AccountError::BadCredentials) => {
            audit_or_fail(
                &state,
                &attempted,
                AuditEvent::new(AuditAction::LoginFailed, "user", String::new()),
            )
            .await?;
            Ok(refused(
                StatusCode::UNAUTHORIZED,
                "Adresse e-mail ou mot de passe incorrect.".into(),
            ))
        }
        Err(AccountError::Throttled { retry_after_secs }) => {
            audit_or_fail(
                &state,
                &attempted,
                AuditEvent::new(AuditAction::LoginLocked, "user", String::new())
                    .detail(serde_json::json!({ "retry_after_secs": retry_after_secs })),
            )
            .await?;
            Ok(with_retry_after(
                refused(StatusCode::TOO_MANY_REQUESTS, too_many(retry_after_secs)),
                retry_after_secs,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

fn too_many(retry_after_secs: i64) -> String {
    format!(
        "Trop de tentatives. Réessayez dans {}.",
        maillage_app::accounts::wait_in_french(retry_after_secs)
    )
}

fn with_retry_after(mut response: Response, retry_after_secs: i64) -> Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after_secs.to_string()) {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    layout: Layout,
    csrf: String,
    next: String,
    error: Option<String>,
}

async fn code_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    if cookies::read(&headers, CHALLENGE).is_none() {
        return Redirect::to("/connexion").into_response();
    }
    let (csrf, is_new) = login_csrf(&headers);
    let page = CodePage {
        layout: Layout::new(&viewer, "Code de vérification", "connexion"),
        csrf: csrf.clone(),
        next: safe_next(query.suite.as_deref()),
        error: None,
    };
    with_login_csrf(render(&page), &state, &csrf, is_new)
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    suite: String,
    #[serde(default)]
    csrf: String,
}

async fn code(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> WebResult<Response> {
    let next = safe_next(Some(&form.suite));
    let Some(challenge) = cookies::read(&headers, CHALLENGE) else {
        return Ok(Redirect::to("/connexion").into_response());
    };
    let device = cookies::read(&headers, cookies::DEVICE);
    let refused = |status: StatusCode, message: String| {
        let page = CodePage {
            layout: Layout::new(&viewer, "Code de vérification", "connexion"),
            csrf: form.csrf.clone(),
            next: next.clone(),
            error: Some(message),
        };
        let mut response = render(&page);
        *response.status_mut() = status;
        response
    };
    match state
        .accounts
        .complete_second_factor(&challenge, &form.code, &attempt(&actor, &device), now_ms())
        .await
    {
        Ok(opened) => {
            audit_or_fail(
                &state,
                &actor_for(&actor, &opened.user),
                AuditEvent::new(AuditAction::Login, "user", opened.user.id.to_string())
                    .detail(serde_json::json!({ "second_factor": true })),
            )
            .await?;
            Ok(signed_in_response(&state, &opened, &next))
        }
        Err(AccountError::BadSecondFactor) => {
            audit_or_fail(
                &state,
                &actor,
                AuditEvent::new(AuditAction::LoginFailed, "user", String::new())
                    .detail(serde_json::json!({ "second_factor": true })),
            )
            .await?;
            Ok(refused(
                StatusCode::UNAUTHORIZED,
                "Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché, ou un code de secours.".into(),
            ))
        }
        Err(AccountError::Throttled { retry_after_secs }) => {
            audit_or_fail(
                &state,
                &actor,
                AuditEvent::new(AuditAction::LoginLocked, "user", String::new()).detail(
                    serde_json::json!({ "retry_after_secs": retry_after_secs, "second_factor": true }),
                ),
            )
            .await?;
            Ok(with_retry_after(
                refused(StatusCode::TOO_MANY_REQUESTS, too_many(retry_after_secs)),
                retry_after_secs,
            ))
        }
        Err(AccountError::ChallengeExpired) => Ok(Redirect::to("/connexion").into_response()),
        Err(other) => Err(other.into()),
    }
}

fn logged_out(state: &AppState) -> Response {
    let mut response = Redirect::to("/connexion?deconnecte=1").into_response();
    cookies::clear(
        response.headers_mut(),
        cookies::SESSION,
        state.config.server.secure_cookies(),
    );
    response
}

async fn logout(
    State(state): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
) -> WebResult<Response> {
    if let Some(token) = cookies::read(&headers, cookies::SESSION) {
        state.accounts.logout(&token).await?;
    }
    let target = actor.actor_id.map(|id| id.to_string()).unwrap_or_default();
    audit_or_fail(
        &state,
        &actor,
        AuditEvent::new(AuditAction::Logout, "user", target),
    )
    .await?;
    Ok(logged_out(&state))
}

async fn logout_everywhere(
    State(state): State<AppState>,
    Actor(actor): Actor,
    CurrentUser(signed_in): CurrentUser,
) -> WebResult<Response> {
    let ended = state.accounts.logout_everywhere(signed_in.user.id).await?;
    audit_or_fail(
        &state,
        &actor,
        AuditEvent::new(
            AuditAction::LogoutEverywhere,
            "user",
            signed_in.user.id.to_string(),
        )
        .detail(serde_json::json!({ "sessions": ended })),
    )
    .await?;
    Ok(logged_out(&state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/c/x")), "/c/x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn reset_tokens_must_look_like_ours() {
        assert!(well_formed_token(&"a1".repeat(32)));
        assert!(!well_formed_token("abc"));
        assert!(!well_formed_token(&"z".repeat(64)));
    }
}

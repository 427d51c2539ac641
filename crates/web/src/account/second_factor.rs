//! The account page and the second factor (TOTP): enrolment with its QR code, confirmation, removal.

use super::*;

#[derive(Template)]
#[template(path = "account.html")]
pub(super) struct AccountPage {
    layout: Layout,
    display_name: String,
    email: String,
    totp_enabled: bool,
    recovery_codes_left: i64,
    memberships: Vec<crate::pages::MembershipView>,
    sessions: Vec<super::sessions::SessionView>,
}

#[derive(Deserialize, Default)]
pub(super) struct AccountQuery {
    #[serde(default)]
    fait: String,
}

pub(super) async fn account(
    State(state): State<AppState>,
    viewer: Viewer,
    CurrentUser(signed_in): CurrentUser,
    Query(query): Query<AccountQuery>,
) -> WebResult<Response> {
    // A notice chosen by the server from a fixed list, never text from the address.
    let notice = match query.fait.as_str() {
        "mot-de-passe" => {
            Some("Mot de passe changé ; vos autres sessions sont fermées.".to_string())
        }
        "session" => Some("Session fermée.".to_string()),
        _ => None,
    };
    Ok(render(&AccountPage {
        memberships: memberships(&state, &viewer).await?,
        sessions: super::sessions::session_views(&state, &signed_in).await?,
        layout: Layout::new(&viewer, "Mon compte", "compte").with_notice(notice),
        display_name: signed_in.user.display_name,
        email: signed_in.user.email,
        totp_enabled: signed_in.user.totp_enabled,
        recovery_codes_left: state
            .accounts
            .recovery_codes_left(signed_in.user.id)
            .await?,
    }))
}

pub struct EnrolmentView {
    pub secret: String,
    pub qr_data_uri: String,
}

#[derive(Template)]
#[template(path = "totp.html")]
pub(super) struct TotpPage {
    layout: Layout,
    enabled: bool,
    recovery_codes_left: i64,
    required: bool,
    enrolment: Option<EnrolmentView>,
    error: Option<String>,
}

/// The otpauth address as a QR code, inline (the CSP allows `data:` images, nothing leaves the server).
pub(super) fn qr_data_uri(uri: &str) -> String {
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    )
}

#[derive(Deserialize, Default)]
pub(super) struct TotpQuery {
    obligatoire: Option<String>,
}

pub(super) async fn totp_view(
    state: &AppState,
    viewer: &Viewer,
    required: bool,
    error: Option<String>,
) -> WebResult<Response> {
    let Some(signed_in) = &viewer.signed_in else {
        return Err(WebError::Unauthorized);
    };
    // Reload the account: the session's copy predates any change made by the form just sent.
    let user = state
        .store
        .find_user(signed_in.user.id)
        .await?
        .ok_or(WebError::Unauthorized)?;
    let enrolment = state.accounts.pending_totp(&user)?.map(|e| EnrolmentView {
        qr_data_uri: qr_data_uri(&e.uri),
        secret: e.secret_base32,
    });
    let failed = error.is_some();
    Ok(render_form(
        &TotpPage {
            layout: Layout::new(viewer, "Double authentification", "compte"),
            enabled: user.totp_enabled,
            recovery_codes_left: state.accounts.recovery_codes_left(user.id).await?,
            required,
            enrolment,
            error,
        },
        failed,
    ))
}

pub(super) async fn totp_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<TotpQuery>,
) -> WebResult<Response> {
    totp_view(&state, &viewer, query.obligatoire.is_some(), None).await
}

pub(super) async fn totp_begin(
    State(state): State<AppState>,
    CurrentUser(signed_in): CurrentUser,
) -> WebResult<Response> {
    let user = state
        .store
        .find_user(signed_in.user.id)
        .await?
        .ok_or(WebError::Unauthorized)?;
    if !user.totp_enabled {
        state.accounts.begin_totp(&user).await?;
    }
    Ok(Redirect::to("/compte/double-authentification").into_response())
}

#[derive(Deserialize)]
pub(super) struct CodeOnly {
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(super) struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

/// What a code proves on the account page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CodeUse {
    Enable,
    Disable,
    RenewRecoveryCodes,
}

/// Turns the second factor on or off, or renews the recovery codes, proven by a current code (counted like a
/// login attempt), and records it. New recovery codes are shown once.
pub(super) async fn totp_change(
    state: &AppState,
    viewer: &Viewer,
    actor: &AuditContext,
    headers: &HeaderMap,
    signed_in: &maillage_app::accounts::SignedIn,
    code: &str,
    what: CodeUse,
) -> WebResult<Response> {
    let user = state
        .store
        .find_user(signed_in.user.id)
        .await?
        .ok_or(WebError::Unauthorized)?;
    let device = cookies::read(headers, cookies::DEVICE);
    let attempt = attempt(actor, &device);
    let accounts = &state.accounts;
    let (outcome, action, refusal) = match what {
        CodeUse::Enable => (
            accounts
                .confirm_totp(&user, code, &attempt, now_ms())
                .await
                .map(Some),
            AuditAction::TotpEnabled,
            "Code incorrect : saisissez le code affiché en ce moment par l'application.",
        ),
        CodeUse::Disable => (
            accounts
                .disable_totp(&user, code, &attempt, now_ms())
                .await
                .map(|()| None),
            AuditAction::TotpDisabled,
            "Code incorrect : la double authentification reste activée.",
        ),
        CodeUse::RenewRecoveryCodes => (
            accounts
                .renew_recovery_codes(&user, code, &attempt, now_ms())
                .await
                .map(Some),
            AuditAction::RecoveryCodesRenewed,
            "Code incorrect : vos codes de secours restent les mêmes.",
        ),
    };
    match outcome {
        Ok(codes) => {
            audit_or_fail(
                state,
                actor,
                AuditEvent::new(action, "user", user.id.to_string()),
            )
            .await?;
            let Some(codes) = codes else {
                return Ok(Redirect::to("/compte").into_response());
            };
            let mut response = render(&RecoveryCodesPage {
                layout: Layout::new(viewer, "Codes de secours", "compte"),
                codes: codes.0.iter().map(|c| c.expose().clone()).collect(),
            });
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        Err(AccountError::BadSecondFactor) => {
            totp_view(state, viewer, false, Some(refusal.into())).await
        }
        Err(AccountError::Throttled { retry_after_secs }) => {
            let message = too_many(retry_after_secs);
            let mut response = totp_view(state, viewer, false, Some(message)).await?;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            Ok(with_retry_after(response, retry_after_secs))
        }
        Err(AccountError::NoPendingTotp) => {
            Ok(Redirect::to("/compte/double-authentification").into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn totp_confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    headers: HeaderMap,
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<CodeOnly>,
) -> WebResult<Response> {
    totp_change(
        &state,
        &viewer,
        &actor,
        &headers,
        &signed_in,
        &form.code,
        CodeUse::Enable,
    )
    .await
}

pub(super) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    headers: HeaderMap,
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<CodeOnly>,
) -> WebResult<Response> {
    totp_change(
        &state,
        &viewer,
        &actor,
        &headers,
        &signed_in,
        &form.code,
        CodeUse::Disable,
    )
    .await
}

pub(super) async fn recovery_codes_renew(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    headers: HeaderMap,
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<CodeOnly>,
) -> WebResult<Response> {
    let what = CodeUse::RenewRecoveryCodes;
    totp_change(
        &state, &viewer, &actor, &headers, &signed_in, &form.code, what,
    )
    .await
}

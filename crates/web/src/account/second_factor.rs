//! The account page and the second factor (TOTP): enrolment with its QR code, confirmation, removal.

use super::*;

#[derive(Template)]
#[template(path = "account.html")]
pub(super) struct AccountPage {
    layout: Layout,
    display_name: String,
    email: String,
    totp_enabled: bool,
    memberships: Vec<crate::pages::MembershipView>,
}

pub(super) async fn account(
    State(state): State<AppState>,
    viewer: Viewer,
    CurrentUser(signed_in): CurrentUser,
) -> WebResult<Response> {
    Ok(render(&AccountPage {
        memberships: memberships(&state, &viewer).await?,
        layout: Layout::new(&viewer, "Mon compte", "compte"),
        display_name: signed_in.user.display_name,
        email: signed_in.user.email,
        totp_enabled: signed_in.user.totp_enabled,
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

/// Turns the second factor on (`enable`) or off, proven by a current code, and records it.
pub(super) async fn totp_change(
    state: &AppState,
    viewer: &Viewer,
    actor: &AuditContext,
    signed_in: &maillage_app::accounts::SignedIn,
    code: &str,
    enable: bool,
) -> WebResult<Response> {
    let user = state
        .store
        .find_user(signed_in.user.id)
        .await?
        .ok_or(WebError::Unauthorized)?;
    let (outcome, action, refusal) = if enable {
        (
            state.accounts.confirm_totp(&user, code, now_ms()).await,
            AuditAction::TotpEnabled,
            "Code incorrect : saisissez le code affiché en ce moment par l'application.",
        )
    } else {
        (
            state.accounts.disable_totp(&user, code, now_ms()).await,
            AuditAction::TotpDisabled,
            "Code incorrect : la double authentification reste activée.",
        )
    };
    match outcome {
        Ok(()) => {
            audit_or_fail(
                state,
                actor,
                AuditEvent::new(action, "user", user.id.to_string()),
            )
            .await?;
            Ok(Redirect::to("/compte").into_response())
        }
        Err(AccountError::BadSecondFactor) => {
            totp_view(state, viewer, false, Some(refusal.into())).await
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
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<CodeOnly>,
) -> WebResult<Response> {
    totp_change(&state, &viewer, &actor, &signed_in, &form.code, true).await
}

pub(super) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<CodeOnly>,
) -> WebResult<Response> {
    totp_change(&state, &viewer, &actor, &signed_in, &form.code, false).await
}

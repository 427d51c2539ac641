//! Forgotten password: the request form, the e-mailed link, the new password.

use super::*;

#[derive(Template)]
#[template(path = "password_forgot.html")]
pub(super) struct ForgotPage {
    layout: Layout,
    csrf: String,
    sent: bool,
    minutes: i64,
}

pub(super) async fn forgot_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Response {
    let (csrf, is_new) = login_csrf(&headers);
    let page = ForgotPage {
        layout: Layout::new(&viewer, "Mot de passe oublié", "connexion"),
        csrf: csrf.clone(),
        sent: false,
        minutes: state.config.security.reset_link_minutes,
    };
    with_login_csrf(render(&page), &state, &csrf, is_new)
}

#[derive(Deserialize)]
pub(super) struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn forgot(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Form(form): Form<ForgotForm>,
) -> WebResult<Response> {
    let started = tokio::time::Instant::now();
    let requested = state
        .accounts
        .request_password_reset(
            &form.email,
            &actor.ip,
            state.config.server.base_url(),
            now_ms(),
        )
        .await?;
    if let Some(user) = requested {
        audit_or_fail(
            &state,
            &actor_for(&actor, &user),
            AuditEvent::new(
                AuditAction::PasswordResetRequested,
                "user",
                user.id.to_string(),
            ),
        )
        .await?;
    }
    // The same page, after the same time, whether or not an account exists and an e-mail went.
    let floor = std::time::Duration::from_millis(maillage_app::accounts::RESET_ANSWER_FLOOR_MS);
    tokio::time::sleep_until(started + floor).await;
    // The same page whether or not an account exists.
    Ok(render(&ForgotPage {
        layout: Layout::new(&viewer, "Mot de passe oublié", "connexion"),
        csrf: form.csrf,
        sent: true,
        minutes: state.config.security.reset_link_minutes,
    }))
}

#[derive(Template)]
#[template(path = "password_reset.html")]
pub(super) struct ResetPage {
    layout: Layout,
    csrf: String,
    token: String,
    valid: bool,
    error: Option<String>,
}

/// Reset tokens are 64 hex characters; anything else is not looked up.
pub(super) fn well_formed_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) async fn reset_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> WebResult<Response> {
    let valid =
        well_formed_token(&token) && state.accounts.reset_link_is_valid(&token, now_ms()).await?;
    let (csrf, is_new) = login_csrf(&headers);
    let mut response = render(&ResetPage {
        layout: Layout::new(&viewer, "Nouveau mot de passe", "connexion"),
        csrf: csrf.clone(),
        token: if valid { token } else { String::new() },
        valid,
        error: None,
    });
    if !valid {
        *response.status_mut() = StatusCode::GONE;
    }
    Ok(with_login_csrf(response, &state, &csrf, is_new))
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn reset(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> WebResult<Response> {
    let again = |error: String, valid: bool| {
        let mut response = render(&ResetPage {
            layout: Layout::new(&viewer, "Nouveau mot de passe", "connexion"),
            csrf: form.csrf.clone(),
            token: token.clone(),
            valid,
            error: Some(error),
        });
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        response
    };
    if !well_formed_token(&token) {
        return Ok(again(
            "Ce lien n'est plus valable : demandez-en un nouveau.".into(),
            false,
        ));
    }
    if form.password != form.confirmation {
        return Ok(again(
            "Les deux mots de passe saisis sont différents.".into(),
            true,
        ));
    }
    match state
        .accounts
        .reset_password(&token, &form.password, now_ms())
        .await
    {
        Ok(user) => {
            audit_or_fail(
                &state,
                &actor_for(&actor, &user),
                AuditEvent::new(
                    AuditAction::PasswordResetCompleted,
                    "user",
                    user.id.to_string(),
                ),
            )
            .await?;
            Ok(Redirect::to("/connexion?nouveau=1").into_response())
        }
        Err(AccountError::Invalid(error)) => Ok(again(error.to_string(), true)),
        Err(AccountError::InvalidResetLink) => Ok(again(
            "Ce lien n'est plus valable : demandez-en un nouveau.".into(),
            false,
        )),
        Err(other) => Err(other.into()),
    }
}

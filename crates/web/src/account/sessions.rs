//! "Mon compte": the open sessions (this one marked, another one closed in a click) and the change of
//! password (the current one asked; every other session ends).

use super::*;

/// One open session as "Mon compte" lists it.
pub struct SessionView {
    /// The session's SHA-256 (never the cookie): what "Fermer" posts.
    pub id: String,
    pub opened: String,
    pub last_seen: String,
    pub current: bool,
}

pub(super) async fn session_views(
    state: &AppState,
    signed_in: &maillage_app::accounts::SignedIn,
) -> WebResult<Vec<SessionView>> {
    Ok(state
        .accounts
        .sessions(signed_in.user.id, now_ms())
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.token_hash == signed_in.session.token_hash,
            opened: maillage_app::unscheduled_care::french_slot_time(s.created_at),
            last_seen: maillage_app::unscheduled_care::french_slot_time(s.last_seen_at),
            id: s.token_hash,
        })
        .collect())
}

#[derive(Deserialize)]
pub(super) struct EndSessionForm {
    #[serde(default)]
    session: String,
}

pub(super) async fn end_session(
    State(state): State<AppState>,
    Actor(actor): Actor,
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<EndSessionForm>,
) -> WebResult<Response> {
    if form.session == signed_in.session.token_hash {
        return Err(WebError::BadRequest(
            "Session : pour fermer celle-ci, utilisez « Se déconnecter ».".into(),
        ));
    }
    if !state
        .accounts
        .end_session(signed_in.user.id, &form.session)
        .await?
    {
        return Err(WebError::Conflict("Cette session est déjà fermée.".into()));
    }
    audit_or_fail(
        &state,
        &actor,
        AuditEvent::new(
            AuditAction::SessionEnded,
            "user",
            signed_in.user.id.to_string(),
        ),
    )
    .await?;
    Ok(Redirect::to("/compte?fait=session").into_response())
}

#[derive(Template)]
#[template(path = "password_change.html")]
pub(super) struct PasswordChangePage {
    layout: Layout,
    errors: Vec<maillage_domain::ValidationError>,
}

pub(super) async fn password_form(viewer: Viewer) -> Response {
    render(&PasswordChangePage {
        layout: Layout::new(&viewer, "Changer mon mot de passe", "compte"),
        errors: Vec::new(),
    })
}

#[derive(Deserialize)]
pub(super) struct PasswordChangeForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    CurrentUser(signed_in): CurrentUser,
    Form(form): Form<PasswordChangeForm>,
) -> WebResult<Response> {
    let refused = |errors: Vec<maillage_domain::ValidationError>| {
        render_form(
            &PasswordChangePage {
                layout: Layout::new(&viewer, "Changer mon mot de passe", "compte"),
                errors,
            },
            true,
        )
    };
    if form.password != form.confirmation {
        return Ok(refused(vec![maillage_domain::ValidationError::new(
            "Le même mot de passe, encore",
            "les deux mots de passe ne sont pas identiques",
        )]));
    }
    let ended = match state
        .accounts
        .change_password(
            &signed_in.user,
            &form.current,
            &form.password,
            &actor.ip,
            &signed_in.session.token_hash,
            now_ms(),
        )
        .await
    {
        Ok(ended) => ended,
        Err(AccountError::Invalid(problem)) => return Ok(refused(vec![problem])),
        Err(other) => return Err(other.into()),
    };
    audit_or_fail(
        &state,
        &actor,
        AuditEvent::new(
            AuditAction::PasswordChanged,
            "user",
            signed_in.user.id.to_string(),
        )
        .detail(serde_json::json!({ "other_sessions_ended": ended })),
    )
    .await?;
    Ok(Redirect::to("/compte?fait=mot-de-passe").into_response())
}

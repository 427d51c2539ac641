//! Pages outside any CPTS: home, login and logout, the account page, health, platform administration.

use crate::access::{Access, Actor, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::forms::{Form, PageQuery, Query};
use crate::views::{lookahead, paginate, render, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use maillage_app::audit::{self, AuditEvent};
use maillage_app::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_domain::cpts::CptsDraft;
use maillage_store::{Cpts, NewCpts, StoreError};
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get("/", Access::Public, "Accueil", home)
        .get(
            "/healthz",
            Access::Public,
            "État du service (la base répond-elle ?)",
            healthz,
        )
        .get(
            "/admin",
            Access::PlatformAdmin,
            "Administration",
            admin_home,
        )
        .get(
            "/admin/cpts",
            Access::PlatformAdmin,
            "Liste des CPTS",
            admin_cpts,
        )
        .post(
            "/admin/cpts",
            Access::PlatformAdmin,
            "Création d'une CPTS",
            admin_create_cpts,
        )
        .get(
            "/admin/utilisateurs",
            Access::PlatformAdmin,
            "Liste des comptes",
            admin_users,
        )
        .get(
            "/admin/courriels",
            Access::PlatformAdmin,
            "Boîte d'envoi des courriels",
            admin_outbox,
        )
}

pub struct MembershipView {
    pub slug: String,
    pub name: String,
    pub role_label: &'static str,
}

pub async fn memberships(state: &AppState, viewer: &Viewer) -> WebResult<Vec<MembershipView>> {
    let Some(signed_in) = &viewer.signed_in else {
        return Ok(Vec::new());
    };
    Ok(state
        .store
        .roles_of_user(signed_in.user.id)
        .await?
        .into_iter()
        .map(|(cpts, role)| MembershipView {
            slug: cpts.slug,
            name: cpts.name,
            role_label: role.label(),
        })
        .collect())
}

/// A CPTS as the public home page lists it: its public entry points.
pub struct PublicCpts {
    pub slug: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    memberships: Vec<MembershipView>,
    /// For visitors: each CPTS's public request form and directory.
    public: Vec<PublicCpts>,
    pager: crate::views::Pager,
}

const PUBLIC_CPTS_PAGE: i64 = 50;

async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    crate::forms::Query(query): crate::forms::Query<crate::forms::PageQuery>,
) -> WebResult<Response> {
    let memberships = memberships(&state, &viewer).await?;
    let number = crate::forms::page_number(query.page);
    let listed = if viewer.signed_in.is_none() {
        state
            .store
            .list_cpts(crate::views::lookahead(number, PUBLIC_CPTS_PAGE))
            .await?
            .into_iter()
            .map(|c| PublicCpts {
                slug: c.slug,
                name: c.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (public, pager) = crate::views::paginate(listed, "/", number, PUBLIC_CPTS_PAGE);
    let title = "Accueil";
    Ok(render(&HomePage {
        layout: Layout::new(&viewer, title, "accueil"),
        memberships,
        public,
        pager,
    }))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct AdminHome {
    layout: Layout,
    outbox_count: i64,
    outbox_mode: bool,
}

async fn admin_home(State(state): State<AppState>, viewer: Viewer) -> WebResult<Response> {
    Ok(render(&AdminHome {
        layout: Layout::new(&viewer, "Administration", "admin"),
        outbox_count: state.store.count_outbox().await?,
        outbox_mode: state.config.smtp.host.trim().is_empty(),
    }))
}

const PAGE_SIZE: i64 = 50;

/// Records that a page of a list holding personal data was read.
pub async fn record_list_read(
    state: &AppState,
    actor: &maillage_app::audit::AuditContext,
    action: AuditAction,
    kind: &str,
    number: i64,
) -> WebResult<()> {
    audit::record(
        state.store.as_ref(),
        actor,
        AuditEvent::new(action, kind, String::new()).detail(serde_json::json!({ "page": number })),
    )
    .await?;
    Ok(())
}

#[derive(Default, Deserialize)]
pub struct CptsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub finess: String,
    #[serde(default)]
    pub siret: String,
    /// The coordinator to invite with the new CPTS (both empty: nobody yet).
    #[serde(default)]
    pub coordinator_email: String,
    #[serde(default)]
    pub coordinator_name: String,
}

/// Checks and stores a new CPTS; the errors are French sentences naming the field.
pub async fn create_cpts(state: &AppState, form: &CptsForm) -> Result<Cpts, Vec<String>> {
    let draft = CptsDraft::parse(&form.name, &form.slug, &form.finess, &form.siret)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let new = NewCpts {
        slug: draft.slug.clone(),
        name: draft.name,
        finess: draft.finess.map(String::from),
        siret: draft.siret.map(String::from),
    };
    match state.store.create_cpts(&new, now_ms()).await {
        Ok(cpts) => Ok(cpts),
        Err(StoreError::Conflict(field)) if field == "finess" => Err(vec![format!(
            "FINESS : « {} » est déjà celui d'une autre CPTS de la plateforme",
            new.finess.as_deref().unwrap_or_default()
        )]),
        Err(StoreError::Conflict(field)) if field == "siret" => Err(vec![format!(
            "SIRET : « {} » est déjà celui d'une autre CPTS de la plateforme",
            new.siret.as_deref().unwrap_or_default()
        )]),
        Err(StoreError::Conflict(_)) => Err(vec![format!(
            "identifiant d'adresse : « {} » est déjà utilisé par une autre CPTS",
            draft.slug
        )]),
        Err(error) => {
            tracing::error!(%error, "CPTS creation failed");
            Err(vec![
                "La CPTS n'a pas pu être enregistrée ; réessayez plus tard.".into(),
            ])
        }
    }
}

#[derive(Template)]
#[template(path = "admin_cpts.html")]
struct AdminCptsPage {
    layout: Layout,
    cpts: Vec<Cpts>,
    pager: Pager,
    form: CptsForm,
    errors: Vec<String>,
}

async fn admin_cpts_page(
    state: &AppState,
    viewer: &Viewer,
    number: i64,
    form: CptsForm,
    errors: Vec<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let rows = state.store.list_cpts(lookahead(number, PAGE_SIZE)).await?;
    let (cpts, pager) = paginate(rows, "/admin/cpts", number, PAGE_SIZE);
    let failed = !errors.is_empty();
    Ok(render_form(
        &AdminCptsPage {
            layout: Layout::new(viewer, "CPTS hébergées", "admin").with_notice(notice),
            cpts,
            pager,
            form,
            errors,
        },
        failed,
    ))
}

async fn admin_cpts(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<PageQuery>,
) -> WebResult<Response> {
    admin_cpts_page(
        &state,
        &viewer,
        query.number(),
        CptsForm::default(),
        Vec::new(),
        None,
    )
    .await
}

async fn admin_create_cpts(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Form(form): Form<CptsForm>,
) -> WebResult<Response> {
    let coordinator = maillage_app::team::InvitationFields {
        email: form.coordinator_email.clone(),
        display_name: form.coordinator_name.clone(),
        role: String::new(),
    };
    let invites =
        !(coordinator.email.trim().is_empty() && coordinator.display_name.trim().is_empty());
    // The invitation is checked before the CPTS is written: nothing half-done.
    if invites {
        if let Err(error) = maillage_app::team::Team::check_coordinator(&coordinator) {
            let errors = vec![format!("Coordination à inviter : {error}")];
            return admin_cpts_page(&state, &viewer, 1, form, errors, None).await;
        }
    }
    match create_cpts(&state, &form).await {
        Ok(cpts) => {
            audit::record(
                state.store.as_ref(),
                &actor,
                AuditEvent::new(AuditAction::CptsCreated, "cpts", cpts.id.to_string())
                    .detail(serde_json::json!({ "slug": cpts.slug })),
            )
            .await?;
            let notice = if invites {
                state
                    .team
                    .invite_coordinator(&actor, cpts.id, &coordinator)
                    .await?;
                Some(format!(
                    "La CPTS « {} » est créée ; une invitation est partie à {} pour sa coordination.",
                    cpts.name,
                    coordinator.email.trim()
                ))
            } else {
                Some(format!("La CPTS « {} » est créée.", cpts.name))
            };
            admin_cpts_page(&state, &viewer, 1, CptsForm::default(), Vec::new(), notice).await
        }
        Err(errors) => admin_cpts_page(&state, &viewer, 1, form, errors, None).await,
    }
}

pub struct UserRow {
    pub display_name: String,
    pub email: String,
    pub is_platform_admin: bool,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct AdminUsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    pager: Pager,
}

async fn admin_users(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Query(query): Query<PageQuery>,
) -> WebResult<Response> {
    let number = query.number();
    let rows = state.store.list_users(lookahead(number, PAGE_SIZE)).await?;
    record_list_read(&state, &actor, AuditAction::UsersViewed, "users", number).await?;
    let (users, pager) = paginate(rows, "/admin/utilisateurs", number, PAGE_SIZE);
    Ok(render(&AdminUsersPage {
        layout: Layout::new(&viewer, "Comptes", "admin"),
        users: users
            .into_iter()
            .map(|u| UserRow {
                display_name: u.display_name,
                email: u.email,
                is_platform_admin: u.is_platform_admin,
                disabled: u.disabled,
            })
            .collect(),
        pager,
    }))
}

pub struct MailView {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub when: String,
    pub reduced: bool,
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct AdminOutboxPage {
    layout: Layout,
    mails: Vec<MailView>,
    pager: Pager,
    outbox_mode: bool,
    shows_links: bool,
    keep_days: i64,
}

/// "22/11/2026 07:40": an instant as the people of a CPTS read it, Paris time (summer time included).
pub fn format_instant(ms: i64) -> String {
    maillage_app::clock::french_date_time(ms)
}

async fn admin_outbox(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Query(query): Query<PageQuery>,
) -> WebResult<Response> {
    let number = query.number();
    let shows_links = state.config.smtp.outbox_shows_links;
    let rows = maillage_app::mail::read_outbox(
        state.store.as_ref(),
        state.accounts.keyring(),
        lookahead(number, PAGE_SIZE),
        shows_links,
    )
    .await?;
    record_list_read(&state, &actor, AuditAction::OutboxViewed, "outbox", number).await?;
    let (mails, pager) = paginate(rows, "/admin/courriels", number, PAGE_SIZE);
    Ok(render(&AdminOutboxPage {
        layout: Layout::new(&viewer, "Courriels en attente", "admin"),
        mails: mails
            .into_iter()
            .map(|m| MailView {
                when: format_instant(m.created_at),
                recipient: m.recipient,
                subject: m.subject,
                body: m.body,
                reduced: m.reduced,
            })
            .collect(),
        pager,
        outbox_mode: state.config.smtp.host.trim().is_empty(),
        shows_links,
        keep_days: state.config.smtp.outbox_keep_days,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_shown_in_utc() {
        assert_eq!(format_instant(0), "01/01/1970 01:00");
    }
}

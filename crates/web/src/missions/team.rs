//! The team of a CPTS: members and roles, invitations by e-mail (the coordination), and the invitee's page
//! that sets a password through the single-use link.

use crate::access::{Access, Actor, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::account::{login_csrf, with_login_csrf};
use crate::confirm::{self, Confirmation};
use crate::error::{WebError, WebResult};
use crate::forms::{Form, FormPairs, Query};
use crate::views::{lookahead, paginate, render, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::{french_date, now_ms};
use maillage_app::team::{InvitationFields, TeamError};
use maillage_domain::authz::{allows, Permission, Role};
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/membres",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Membres et rôles de la CPTS (et invitations pour la coordination)",
            members,
        )
        .post(
            "/c/{cpts}/membres/inviter",
            Access::Cpts(Permission::ManageCpts),
            "Invitation d'une personne dans la CPTS",
            invite,
        )
        .post(
            "/c/{cpts}/membres/inviter-annuaire",
            Access::Cpts(Permission::ManageCpts),
            "Invitation en une fois des membres de l'annuaire qui ont une adresse e-mail (après confirmation)",
            invite_directory,
        )
        .post(
            "/c/{cpts}/membres/{id}/role",
            Access::Cpts(Permission::ManageCpts),
            "Changement du rôle d'une personne dans la CPTS",
            change_role,
        )
        .post(
            "/c/{cpts}/membres/{id}/fiche",
            Access::Cpts(Permission::ManageCpts),
            "Liaison du compte d'un membre à sa fiche de l'annuaire (numéro RPPS ou ADELI)",
            link_record,
        )
        .post(
            "/c/{cpts}/membres/{id}/acces",
            Access::Cpts(Permission::ManageCpts),
            "Suspension ou rétablissement de l'accès d'une personne à la CPTS",
            change_access,
        )
        .get(
            "/invitation/{token}",
            Access::Public,
            "Invitation reçue : choix du mot de passe",
            invitation_form,
        )
        .post(
            "/invitation/{token}",
            Access::Public,
            "Acceptation d'une invitation",
            accept,
        )
}

pub struct MemberView {
    pub user_id: String,
    pub display_name: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub email: String,
    pub disabled: bool,
    pub suspended: bool,
}

pub struct InvitationView {
    pub email: String,
    pub display_name: String,
    pub role_label: &'static str,
    pub sent: String,
    pub expired: bool,
    pub expires: String,
    /// What became of the invitation's e-mail.
    pub delivery: String,
}

pub struct RoleChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    layout: Layout,
    slug: String,
    cpts_name: String,
    members: Vec<MemberView>,
    show_emails: bool,
    can_manage: bool,
    me: String,
    roles: Vec<RoleChoice>,
    invitations: Vec<InvitationView>,
    form: InviteForm,
    errors: Vec<String>,
    pager: Pager,
}

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub(crate) struct MembersQuery {
    page: Option<i64>,
    #[serde(default)]
    fait: String,
}

fn role_choices(selected: &str) -> Vec<RoleChoice> {
    Role::ALL
        .into_iter()
        .map(|role| RoleChoice {
            code: role.code(),
            label: role.label(),
            selected: role.code() == selected,
        })
        .collect()
}

/// A notice chosen by the server from a fixed list: the address never carries the sentence itself.
fn notice(done: &str) -> Option<String> {
    match done {
        "invitation" => {
            Some("Invitation enregistrée : le courriel et son lien (valable 7 jours) partent en arrière-plan.".into())
        }
        "role" => Some("Rôle modifié.".into()),
        "suspendu" => Some(
            "Accès suspendu : la personne ne voit plus rien de la CPTS ; son compte et ses autres CPTS ne changent pas."
                .into(),
        ),
        "retabli" => Some("Accès rétabli.".into()),
        "fiche" => Some(
            "Compte relié à sa fiche de l'annuaire : ses créneaux, ses places et les propositions qui lui sont adressées sont les siens."
                .into(),
        ),
        _ => None,
    }
}

/// What the members page shows besides the list: the invitation form as sent, its errors, the last action.
#[derive(Default)]
struct PageState<'a> {
    number: i64,
    form: InviteForm,
    errors: Vec<String>,
    done: &'a str,
}

async fn members_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    shown: PageState<'_>,
) -> WebResult<Response> {
    let PageState {
        number,
        form,
        errors,
        done,
    } = shown;
    let rows = state
        .missions
        .directory
        .members(caller, number, lookahead(number, PAGE_SIZE))
        .await?;
    let base = format!("/c/{}/membres", context.cpts.slug);
    let (rows, pager) = paginate(rows, &base, number, PAGE_SIZE);
    // Contact details of accounts, and the team's management, are for those who manage the CPTS.
    let can_manage = allows(context.role, Permission::ManageCpts);
    let now = now_ms();
    let invitations = if can_manage {
        let pending = state
            .team
            .pending(caller, maillage_store::Page::first(50))
            .await?;
        let ids: Vec<uuid::Uuid> = pending.iter().map(|i| i.id).collect();
        let deliveries = state.team.invitation_deliveries(caller, &ids).await?;
        pending
            .into_iter()
            .map(|i| InvitationView {
                delivery: deliveries
                    .iter()
                    .filter(|d| d.subject_id == i.id)
                    .max_by_key(|d| d.created_at)
                    .map(|d| crate::views::message_row(d).state)
                    .unwrap_or_default(),
                email: i.email,
                display_name: i.display_name,
                role_label: i.role.label(),
                sent: french_date(i.created_at),
                expired: i.expires_at <= now,
                expires: french_date(i.expires_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let failed = !errors.is_empty();
    Ok(render_form(
        &MembersPage {
            layout: Layout::in_cpts(viewer, context, "Membres et rôles", "membres")
                .with_notice(notice(done)),
            slug: context.cpts.slug.clone(),
            cpts_name: context.cpts.name.clone(),
            members: rows
                .into_iter()
                .map(|m| MemberView {
                    user_id: m.user_id.to_string(),
                    display_name: m.display_name,
                    role: m.role.code(),
                    role_label: m.role.label(),
                    email: m.email,
                    disabled: m.disabled,
                    suspended: m.suspended,
                })
                .collect(),
            show_emails: can_manage,
            can_manage,
            me: caller.user().map(|u| u.to_string()).unwrap_or_default(),
            roles: role_choices(&form.role),
            invitations,
            form,
            errors,
            pager,
        },
        failed,
    ))
}

async fn members(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(query): Query<MembersQuery>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(query.page);
    let shown = PageState {
        number,
        done: &query.fait,
        ..Default::default()
    };
    members_page(&state, &viewer, &context, &caller, shown).await
}

#[derive(Deserialize, Default, Clone)]
pub(crate) struct InviteForm {
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) display_name: String,
    #[serde(default)]
    pub(crate) role: String,
}

async fn invite(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Form(form): Form<InviteForm>,
) -> WebResult<Response> {
    let fields = InvitationFields {
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        role: form.role.clone(),
    };
    match state.team.invite(&caller, &fields).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/c/{}/membres?fait=invitation", context.cpts.slug))
                .into_response(),
        ),
        Err(error @ (TeamError::Invalid(_) | TeamError::Refused(_))) => {
            let errors = match error {
                TeamError::Invalid(errors) => errors.iter().map(ToString::to_string).collect(),
                other => vec![other.to_string()],
            };
            let shown = PageState {
                number: 1,
                form,
                errors,
                done: "",
            };
            members_page(&state, &viewer, &context, &caller, shown).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> WebResult<Response> {
    let user = uuid::Uuid::parse_str(&id).map_err(|_| WebError::NotFound)?;
    state
        .team
        .change_role(&caller, maillage_store::UserId(user), &form.role)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/membres?fait=role", context.cpts.slug)).into_response())
}

#[derive(Template)]
#[template(path = "bulk_invitations.html")]
struct BulkInvitationsPage {
    layout: Layout,
    slug: String,
    report: maillage_app::team::BulkInvitationReport,
}

async fn invite_directory(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let members = format!("/c/{}/membres", context.cpts.slug);
    if !confirm::confirmed(&pairs) {
        return Ok(confirm::ask(
            &viewer,
            &context,
            "membres",
            Confirmation::new(
                "Inviter les membres de l'annuaire ?",
                "Chaque membre de l'annuaire qui a une adresse e-mail et pas encore de compte dans la CPTS \
                 reçoit un courriel d'invitation (rôle « professionnel membre », lien valable 7 jours), et \
                 son compte sera relié à sa fiche. Les courriels partent en arrière-plan et ne se rappellent pas.",
                format!("{members}/inviter-annuaire"),
                "Oui, inviter les membres",
                members,
            ),
        ));
    }
    let report = state.team.invite_directory_members(&caller).await?;
    Ok(render(&BulkInvitationsPage {
        layout: Layout::in_cpts(&viewer, &context, "Invitations des membres", "membres"),
        slug: context.cpts.slug.clone(),
        report,
    }))
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    identifiant: String,
}

async fn link_record(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<LinkForm>,
) -> WebResult<Response> {
    let user = uuid::Uuid::parse_str(&id).map_err(|_| WebError::NotFound)?;
    match state
        .team
        .link_to_record(&caller, maillage_store::UserId(user), &form.identifiant)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/c/{}/membres?fait=fiche", context.cpts.slug)).into_response(),
        ),
        Err(TeamError::Invalid(errors)) => Err(WebError::BadRequest(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ; "),
        )),
        Err(other) => Err(other.into()),
    }
}

async fn change_access(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let user = uuid::Uuid::parse_str(&id).map_err(|_| WebError::NotFound)?;
    let members = format!("/c/{}/membres", context.cpts.slug);
    let suspend = match pairs.text("acces").as_str() {
        "suspendre" => true,
        "retablir" => false,
        _ => {
            return Err(WebError::BadRequest(
                "Accès : suspendre ou rétablir.".into(),
            ))
        }
    };
    if suspend && !confirm::confirmed(&pairs) {
        state
            .team
            .check_member(&caller, maillage_store::UserId(user))
            .await?;
        return Ok(confirm::ask(
            &viewer,
            &context,
            "membres",
            Confirmation::new(
                "Suspendre l'accès de cette personne à la CPTS ?",
                "Elle ne verra plus rien de la CPTS dès sa prochaine page, sans perdre son compte ni ses autres \
                 CPTS. Vous pourrez rétablir son accès depuis cette liste.",
                format!("{members}/{user}/acces"),
                "Oui, suspendre l'accès",
                members,
            )
            .repeating(&pairs),
        ));
    }
    if !state
        .team
        .set_access(&caller, maillage_store::UserId(user), suspend)
        .await?
    {
        return Err(WebError::Conflict(
            "Cette personne n'a pas de rôle dans la CPTS, ou son accès est déjà dans cet état."
                .into(),
        ));
    }
    let done = if suspend { "suspendu" } else { "retabli" };
    Ok(Redirect::to(&format!("{members}?fait={done}")).into_response())
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    csrf: String,
    token: String,
    valid: bool,
    cpts_name: String,
    email: String,
    display_name: String,
    role_label: &'static str,
    error: Option<String>,
}

/// Invitation links are 64 hex characters; anything else is not looked up.
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn invitation_view(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    token: &str,
    error: Option<String>,
) -> WebResult<Response> {
    let found = if well_formed(token) {
        state.team.invitation(token).await?
    } else {
        None
    };
    let (csrf, is_new) = login_csrf(headers);
    let failed = error.is_some();
    let page = match found {
        Some((invitation, cpts_name)) => InvitationPage {
            layout: Layout::new(viewer, "Invitation", "connexion"),
            csrf: csrf.clone(),
            token: token.to_string(),
            valid: true,
            cpts_name,
            email: invitation.email,
            display_name: invitation.display_name,
            role_label: invitation.role.label(),
            error,
        },
        None => InvitationPage {
            layout: Layout::new(viewer, "Invitation", "connexion"),
            csrf: csrf.clone(),
            token: String::new(),
            valid: false,
            cpts_name: String::new(),
            email: String::new(),
            display_name: String::new(),
            role_label: "",
            error: None,
        },
    };
    let mut response = render_form(&page, failed);
    if !page.valid {
        *response.status_mut() = axum::http::StatusCode::GONE;
    }
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(with_login_csrf(response, state, &csrf, is_new))
}

async fn invitation_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> WebResult<Response> {
    invitation_view(&state, &viewer, &headers, &token, None).await
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

async fn accept(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> WebResult<Response> {
    if !well_formed(&token) {
        return invitation_view(&state, &viewer, &headers, &token, None).await;
    }
    if form.password != form.confirmation {
        let error = "Confirmation : les deux mots de passe ne sont pas les mêmes.".to_string();
        return invitation_view(&state, &viewer, &headers, &token, Some(error)).await;
    }
    match state.team.accept(&actor, &token, &form.password).await {
        Ok((_, created)) => {
            let notice = if created { "nouveau=1" } else { "invitation=1" };
            Ok(Redirect::to(&format!("/connexion?{notice}")).into_response())
        }
        Err(TeamError::Account(maillage_app::accounts::AccountError::Invalid(error))) => {
            let message = crate::error::capitalise(&error.to_string());
            invitation_view(&state, &viewer, &headers, &token, Some(message)).await
        }
        Err(TeamError::Expired) => invitation_view(&state, &viewer, &headers, &token, None).await,
        Err(other) => Err(other.into()),
    }
}

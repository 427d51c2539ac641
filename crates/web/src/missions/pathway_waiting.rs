//! Care pathways: waiting lists for scarce resources. The lists of the CPTS with how many wait; the
//! coordination creates one, reads it whole (the order people will be seen in, days waited, the median
//! waits, this year's exits) and records each exit; whoever follows a patient puts them on a list from the
//! patient's record. Handlers parse, call the service, render.

use super::pathway_patients::{full_name, pathway_error, today, BASE};
use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::forms::FormPairs;
use crate::views::{french_day, render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::caller::Caller;
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::pathways::waiting::{ExitReason, Priority};
use maillage_domain::ValidationError;
use uuid::Uuid;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours/listes",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Listes d'attente des parcours",
            lists,
        )
        .post(
            "/c/{cpts}/parcours/listes",
            Access::Cpts(Permission::ManageWaitingLists),
            "Création d'une liste d'attente",
            create,
        )
        .get(
            "/c/{cpts}/parcours/listes/{id}",
            Access::Cpts(Permission::ManageWaitingLists),
            "Une liste d'attente : ordre, attente, sorties",
            show,
        )
        .post(
            "/c/{cpts}/parcours/listes/{id}/sortie",
            Access::Cpts(Permission::ManageWaitingLists),
            "Sortie d'une liste d'attente (date, motif)",
            exit,
        )
        .post(
            "/c/{cpts}/parcours/patients/{id}/attente",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Inscription d'un patient sur une liste d'attente",
            put_on,
        )
}

/// « 12 jours », « 40,5 jours », « — ».
pub fn french_days(days: Option<f64>) -> String {
    match days {
        None => "—".into(),
        Some(d) => format!(
            "{} jour{}",
            if d.fract() == 0.0 {
                format!("{}", d as i64)
            } else {
                maillage_domain::text::french_decimal(d)
            },
            if d > 1.0 { "s" } else { "" }
        ),
    }
}

struct ListRow {
    href: String,
    name: String,
    waiting: i64,
}

#[derive(Template)]
#[template(path = "pathway_lists.html")]
struct ListsPage {
    layout: Layout,
    slug: String,
    lists: Vec<ListRow>,
    can_manage: bool,
    name: String,
    errors: Vec<ValidationError>,
}

async fn lists_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    name: String,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = context.cpts.slug.clone();
    let can_manage = caller.may(Permission::ManageWaitingLists);
    let lists = state
        .missions
        .pathway_care
        .waiting_lists(caller)
        .await
        .map_err(pathway_error)?
        .into_iter()
        .map(|l| ListRow {
            href: if can_manage {
                format!("/c/{slug}/{BASE}/listes/{}", l.id)
            } else {
                String::new()
            },
            name: l.name,
            waiting: l.waiting,
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = ListsPage {
        layout: Layout::in_cpts(viewer, context, "Listes d'attente", BASE),
        slug,
        lists,
        can_manage,
        name,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn lists(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    lists_view(
        &state,
        &viewer,
        &context,
        &caller,
        String::new(),
        Vec::new(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let name = pairs.text("name");
    match state
        .missions
        .pathway_care
        .create_waiting_list(&caller, &name)
        .await
    {
        Ok(id) => Ok(
            Redirect::to(&format!("/c/{}/{BASE}/listes/{id}", context.cpts.slug)).into_response(),
        ),
        Err(PathwayError::Invalid(errors)) => {
            lists_view(&state, &viewer, &context, &caller, name, errors).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

struct WaitingRow {
    entry: String,
    position: usize,
    name: String,
    href: String,
    referred_on: String,
    priority: &'static str,
    days: i64,
}

struct ExitRow {
    referred_on: String,
    exited_on: String,
    reason: &'static str,
}

struct Choice {
    code: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "pathway_list.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    id: String,
    name: String,
    waiting: Vec<WaitingRow>,
    median_waiting: String,
    median_seen: String,
    exits: Vec<ExitRow>,
    reasons: Vec<Choice>,
    today: String,
    errors: Vec<ValidationError>,
}

async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    id: Uuid,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = context.cpts.slug.clone();
    let view = state
        .missions
        .pathway_care
        .waiting_list(caller, id, today())
        .await
        .map_err(pathway_error)?;
    let page = ListPage {
        layout: Layout::in_cpts(viewer, context, view.list.name.clone(), BASE),
        id: id.to_string(),
        name: view.list.name.clone(),
        waiting: view
            .waiting
            .iter()
            .map(|w| WaitingRow {
                entry: w.entry.id.to_string(),
                position: w.position,
                name: full_name(&w.identity),
                href: format!("/c/{slug}/{BASE}/patients/{}", w.entry.inclusion_id),
                referred_on: french_day(&w.entry.referred_on),
                priority: Priority::parse(&w.entry.priority).map_or("", Priority::label),
                days: w.days,
            })
            .collect(),
        median_waiting: french_days(view.median_waiting),
        median_seen: french_days(view.median_seen),
        exits: view
            .exits
            .iter()
            .map(|e| ExitRow {
                referred_on: french_day(&e.referred_on),
                exited_on: e.exited_on.as_deref().map(french_day).unwrap_or_default(),
                reason: e
                    .exit_reason
                    .as_deref()
                    .and_then(ExitReason::parse)
                    .map_or("", ExitReason::label),
            })
            .collect(),
        reasons: ExitReason::ALL
            .iter()
            .map(|r| Choice {
                code: r.code(),
                label: r.label(),
            })
            .collect(),
        today: today().french(),
        slug,
        errors,
    };
    let has_errors = !page.errors.is_empty();
    Ok(render_form(&page, has_errors))
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    list_view(&state, &viewer, &context, &caller, id, Vec::new()).await
}

use crate::forms::typed_day;

async fn exit(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    let entry = super::directory::parse_id(&pairs.text("entry"))?;
    let day = match typed_day("Date de sortie", &pairs.text("exited_on")) {
        Ok(day) => day,
        Err(problem) => {
            return list_view(&state, &viewer, &context, &caller, id, vec![problem]).await
        }
    };
    let reason = ExitReason::parse(&pairs.text("reason"));
    match state
        .missions
        .pathway_care
        .exit_waiting_list(&caller, id, entry, day, reason, today())
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/c/{}/{BASE}/listes/{id}", context.cpts.slug)).into_response(),
        ),
        Err(PathwayError::Invalid(errors)) => {
            list_view(&state, &viewer, &context, &caller, id, errors).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

async fn put_on(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let inclusion = super::directory::parse_id(&id)?;
    let refused = |errors: Vec<ValidationError>| {
        super::pathway_patient::refused_on_record(
            &state, &viewer, &context, &caller, inclusion, errors,
        )
    };
    let Ok(list) = Uuid::parse_str(&pairs.text("list")) else {
        return refused(vec![ValidationError::new(
            "Liste d'attente",
            "choisissez une liste",
        )])
        .await;
    };
    let referred = match typed_day("Date d'adressage", &pairs.text("referred_on")) {
        Ok(day) => day,
        Err(problem) => return refused(vec![problem]).await,
    };
    let priority = Priority::parse(&pairs.text("priority"));
    match state
        .missions
        .pathway_care
        .put_on_waiting_list(&caller, inclusion, list, referred, priority, today())
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/patients/{inclusion}?fait=attente#attente",
            context.cpts.slug
        ))
        .into_response()),
        Err(PathwayError::Invalid(errors)) => refused(errors).await,
        Err(other) => Err(pathway_error(other)),
    }
}

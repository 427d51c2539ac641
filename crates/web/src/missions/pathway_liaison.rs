//! Care pathways: the liaison sheet between town and hospital — its structured form on the step that waits
//! for one (closing it on the sheet's day), and the sheet as a printable A4 page. Handlers parse, call the
//! service, render.

use super::pathway_patients::{full_name, pathway_error, today, BASE};
use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::forms::FormPairs;
use crate::views::{french_day, render, render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::caller::Caller;
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::pathways::liaison::{Direction, SheetDraft};
use maillage_domain::pathways::steps::StepState;
use maillage_domain::ValidationError;
use uuid::Uuid;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours/patients/{id}/etapes/{step}/fiche",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Fiche de liaison ville–hôpital d'une étape (formulaire)",
            form,
        )
        .post(
            "/c/{cpts}/parcours/patients/{id}/etapes/{step}/fiche",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Fiche de liaison enregistrée (l'étape est close)",
            record,
        )
        .get(
            "/c/{cpts}/parcours/patients/{id}/fiches/{sheet}",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Fiche de liaison imprimable (A4)",
            print,
        )
}

#[derive(Default)]
struct Typed {
    direction: String,
    dated_on: String,
    establishment: String,
    discharge_on: String,
    reason: String,
    treatment_changes: String,
    follow_up: String,
    contacts: String,
}

#[derive(Template)]
#[template(path = "pathway_liaison.html")]
struct FormPage {
    layout: Layout,
    slug: String,
    id: String,
    step_id: String,
    patient: String,
    label: String,
    open: bool,
    directions: Vec<(&'static str, &'static str)>,
    form: Typed,
    errors: Vec<ValidationError>,
}

async fn form_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    (id, step): (Uuid, Uuid),
    mut form: Typed,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let followed = state
        .missions
        .pathway_care
        .patient(caller, id, today())
        .await
        .map_err(pathway_error)?;
    let found = followed
        .steps
        .iter()
        .find(|s| s.row.id == step)
        .ok_or(crate::error::WebError::NotFound)?;
    if form.dated_on.is_empty() {
        form.dated_on = today().french();
    }
    let page = FormPage {
        layout: Layout::in_cpts(viewer, context, "Fiche de liaison", BASE),
        slug: context.cpts.slug.clone(),
        id: id.to_string(),
        step_id: step.to_string(),
        patient: full_name(&followed.identity),
        label: found.row.label.clone(),
        open: matches!(
            found.state,
            StepState::Upcoming | StepState::Due | StepState::Late
        ),
        directions: Direction::ALL
            .iter()
            .map(|d| (d.code(), d.label()))
            .collect(),
        form,
        errors,
    };
    let has_errors = !page.errors.is_empty();
    Ok(render_form(&page, has_errors))
}

fn ids(id: &str, step: &str) -> WebResult<(Uuid, Uuid)> {
    Ok((
        super::directory::parse_id(id)?,
        super::directory::parse_id(step)?,
    ))
}

async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id, step)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let ids = ids(&id, &step)?;
    form_view(
        &state,
        &viewer,
        &context,
        &caller,
        ids,
        Typed::default(),
        Vec::new(),
    )
    .await
}

async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id, step)): Path<(String, String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let ids = ids(&id, &step)?;
    let typed = Typed {
        direction: pairs.text("direction"),
        dated_on: pairs.text("dated_on"),
        establishment: pairs.text("establishment"),
        discharge_on: pairs.text("discharge_on"),
        reason: pairs.text("reason"),
        treatment_changes: pairs.text("treatment_changes"),
        follow_up: pairs.text("follow_up"),
        contacts: pairs.text("contacts"),
    };
    let mut problems = crate::forms::Problems::default();
    let mut day = |field: &'static str, text: &str| {
        problems
            .keep(crate::forms::typed_day(field, text))
            .flatten()
    };
    let dated_on = day("Date de la fiche", &typed.dated_on);
    let discharge_on = day("Date de sortie", &typed.discharge_on);
    if !problems.is_empty() {
        return form_view(&state, &viewer, &context, &caller, ids, typed, problems.0).await;
    }
    let draft = SheetDraft {
        direction: typed.direction.clone(),
        dated_on,
        establishment: typed.establishment.clone(),
        discharge_on,
        reason: typed.reason.clone(),
        treatment_changes: typed.treatment_changes.clone(),
        follow_up: typed.follow_up.clone(),
        contacts: typed.contacts.clone(),
    };
    match state
        .missions
        .pathway_care
        .record_liaison_sheet(&caller, ids.0, ids.1, &draft, today())
        .await
    {
        Ok(sheet) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/patients/{}/fiches/{sheet}",
            context.cpts.slug, ids.0
        ))
        .into_response()),
        Err(PathwayError::Invalid(errors)) => {
            form_view(&state, &viewer, &context, &caller, ids, typed, errors).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

#[derive(Template)]
#[template(path = "pathway_liaison_print.html")]
struct PrintPage {
    layout: Layout,
    slug: String,
    id: String,
    patient: String,
    born: String,
    pathway_step: String,
    direction: &'static str,
    dated_on: String,
    establishment: String,
    discharge_on: String,
    reason: String,
    treatment_changes: String,
    follow_up: String,
    contacts: String,
    author: String,
}

async fn print(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id, sheet)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let (id, sheet) = ids(&id, &sheet)?;
    let printed = state
        .missions
        .pathway_care
        .printed_sheet(&caller, id, sheet, today())
        .await
        .map_err(pathway_error)?;
    let s = printed.sheet;
    let page = PrintPage {
        layout: Layout::in_cpts(&viewer, &context, "Fiche de liaison ville–hôpital", BASE),
        slug: context.cpts.slug.clone(),
        id: id.to_string(),
        patient: full_name(&printed.patient.identity),
        born: french_day(&printed.patient.identity.birth_date),
        pathway_step: printed.step_label,
        direction: Direction::parse(&s.direction).map_or("", Direction::label),
        dated_on: french_day(&s.dated_on),
        establishment: s.establishment,
        discharge_on: s
            .discharge_on
            .as_deref()
            .map(french_day)
            .unwrap_or_default(),
        reason: s.reason,
        treatment_changes: s.treatment_changes,
        follow_up: s.follow_up,
        contacts: s.contacts,
        author: printed.author,
    };
    Ok(render(&page))
}

//! Care pathways: closing a step — on a phone, between two patients — with its day and its evidence, or the
//! answers of its screening (one list per question), or cancelling it with a reason and a confirmation; a
//! step that closes with a liaison sheet links to the sheet's form. Handlers parse, call the service, render.

use super::directory::parse_id;
use super::pathway_patient::{read, role_label};
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
use maillage_app::pathway_care::StepOutcome;
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::instruments::{Answers, Instrument};
use maillage_domain::ValidationError;
use uuid::Uuid;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours/patients/{id}/etapes/{step}",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Clore ou annuler une étape de parcours",
            step_form,
        )
        .post(
            "/c/{cpts}/parcours/patients/{id}/etapes/{step}",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Étape de parcours faite (date, preuve, questionnaire) ou annulée (motif)",
            settle,
        )
}

struct ItemField {
    name: String,
    label: String,
    /// (value, label) choices; empty: a text field (seconds).
    choices: Vec<(String, String, bool)>,
    value: String,
    hint: &'static str,
}

#[derive(Template)]
#[template(path = "pathway_step.html")]
struct StepPage {
    layout: Layout,
    slug: String,
    id: String,
    step_id: String,
    patient: String,
    label: String,
    owner: &'static str,
    window: String,
    state: &'static str,
    evidence: &'static str,
    instrument: String,
    licence: &'static str,
    missing_rule: &'static str,
    items: Vec<ItemField>,
    /// The liaison sheet's form, for a step that closes with one.
    liaison: String,
    done_on: String,
    reason: String,
    errors: Vec<ValidationError>,
}

/// The questions of an instrument, each with the CPTS's licensed wording when it loaded one.
fn item_fields(
    instrument: Instrument,
    given: &FormPairs,
    wording: &[(String, String)],
) -> Vec<ItemField> {
    let yes_no = |unknown: bool| {
        let mut choices = vec![
            ("1".to_string(), "Oui".to_string()),
            ("0".to_string(), "Non".to_string()),
        ];
        if unknown {
            choices.push(("?".to_string(), "Ne sait pas".to_string()));
        }
        choices
    };
    instrument
        .items()
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let name = format!("q{index}");
            let value = given.text(&name);
            let (choices, hint) = match item.answers {
                Answers::YesNo => (yes_no(false), ""),
                Answers::YesNoUnknown => (yes_no(true), ""),
                Answers::Range { min, max } => (
                    (min..=max)
                        .map(|n| (n.to_string(), n.to_string()))
                        .collect(),
                    "",
                ),
                Answers::Seconds => (Vec::new(), "en secondes ; x si le patient ne peut pas"),
                Answers::Frequency => (
                    vec![
                        ("0".to_string(), "Jamais".to_string()),
                        ("0.5".to_string(), "Parfois".to_string()),
                        ("1".to_string(), "Souvent".to_string()),
                    ],
                    "",
                ),
            };
            ItemField {
                label: format!(
                    "{}. {}",
                    index + 1,
                    wording
                        .iter()
                        .find(|(code, _)| code == item.code)
                        .map_or(item.label, |(_, text)| text.as_str())
                ),
                choices: choices
                    .into_iter()
                    .map(|(v, l)| {
                        let selected = v == value;
                        (v, l, selected)
                    })
                    .collect(),
                name,
                value,
                hint,
            }
        })
        .collect()
}

async fn step_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    (id, step_id): (Uuid, Uuid),
    given: &FormPairs,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let (followed, template) = read(state, caller, id).await?;
    let step = followed
        .steps
        .iter()
        .find(|s| s.row.id == step_id)
        .ok_or(crate::error::WebError::NotFound)?;
    let step_template = template.step(&step.row.code);
    let instrument = step_template
        .and_then(|s| s.instrument.as_deref())
        .and_then(Instrument::parse);
    let done_on = match given.optional("done_on") {
        Some(typed) => typed,
        None => today().french(),
    };
    let page = StepPage {
        layout: Layout::in_cpts(viewer, context, step.row.label.clone(), BASE),
        slug: context.cpts.slug.clone(),
        id: id.to_string(),
        step_id: step_id.to_string(),
        patient: full_name(&followed.identity),
        label: step.row.label.clone(),
        owner: role_label(&step.row.owner_role),
        window: format!(
            "du {} au {}",
            french_day(&step.row.earliest),
            french_day(&step.row.latest)
        ),
        state: step.state.label(),
        evidence: step_template.map_or("Preuve", |s| s.evidence.label()),
        instrument: instrument.map_or(String::new(), |i| i.label().to_string()),
        licence: instrument.map_or("", |i| i.licence().label()),
        missing_rule: instrument.map_or("", |i| i.missing_rule()),
        items: match instrument {
            Some(i) => {
                let wording = state
                    .missions
                    .pathways
                    .wording(caller, i)
                    .await
                    .map_err(pathway_error)?;
                item_fields(i, given, &wording)
            }
            None => Vec::new(),
        },
        liaison: if step_template.map(|s| s.evidence)
            == Some(maillage_domain::pathways::Evidence::LiaisonSheet)
        {
            format!(
                "/c/{}/{BASE}/patients/{id}/etapes/{step_id}/fiche",
                context.cpts.slug
            )
        } else {
            String::new()
        },
        done_on,
        reason: given.text("reason"),
        errors,
    };
    let has_errors = !page.errors.is_empty();
    Ok(render_form(&page, has_errors))
}

async fn step_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id, step)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let ids = (parse_id(&id)?, parse_id(&step)?);
    step_view(
        &state,
        &viewer,
        &context,
        &caller,
        ids,
        &FormPairs(Vec::new()),
        Vec::new(),
    )
    .await
}

async fn settle(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id, step)): Path<(String, String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let ids = (parse_id(&id)?, parse_id(&step)?);
    let outcome = if pairs.text("action") == "annuler" {
        if pairs.text("confirm") != "oui" {
            let problem = ValidationError::new(
                "Confirmation",
                "cochez la case pour confirmer l'annulation : elle est définitive",
            );
            return step_view(
                &state,
                &viewer,
                &context,
                &caller,
                ids,
                &pairs,
                vec![problem],
            )
            .await;
        }
        StepOutcome::Cancelled(pairs.text("reason"))
    } else {
        let typed = pairs.text("done_on");
        let on = if typed.trim().is_empty() {
            None
        } else {
            match Day::parse("Date", typed.trim()) {
                Ok(day) => Some(day),
                Err(problem) => {
                    return step_view(
                        &state,
                        &viewer,
                        &context,
                        &caller,
                        ids,
                        &pairs,
                        vec![problem],
                    )
                    .await
                }
            }
        };
        let answers: Vec<String> = (0..)
            .map_while(|index| pairs.optional(&format!("q{index}")))
            .collect();
        StepOutcome::Done {
            on,
            evidence_given: pairs.text("evidence") == "oui",
            answers,
        }
    };
    match state
        .missions
        .pathway_care
        .settle_step(&caller, ids.0, ids.1, outcome, today())
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/patients/{}?fait=etape",
            context.cpts.slug, ids.0
        ))
        .into_response()),
        Err(PathwayError::Invalid(problems)) => {
            step_view(&state, &viewer, &context, &caller, ids, &pairs, problems).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

//! Care pathways: one patient as the care team follows them — the steps with their windows and states, the
//! results of the screenings, the team, the notes, the timeline — and what the team does there: close a step
//! with its day and evidence (the screening's answers when it has one) or cancel it with a reason, correct
//! the discharge date, write a note. Handlers parse, call the service, render.

use super::directory::parse_id;
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
use maillage_app::pathway_care::{FollowedPatient, FollowedStep, PathwayCare};
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::instruments::positive_label;
use maillage_domain::pathways::steps::StepState;
use maillage_domain::pathways::waiting::{ExitReason, Priority};
use maillage_domain::pathways::{CareRole, PathwayTemplate};
use maillage_domain::ValidationError;
use uuid::Uuid;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours/patients/{id}",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Dossier de parcours d'un patient (équipe de soins)",
            show,
        )
        .post(
            "/c/{cpts}/parcours/patients/{id}/sortie",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Correction de la date de sortie (échéances recalculées)",
            correct_event,
        )
        .post(
            "/c/{cpts}/parcours/patients/{id}/notes",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Note de l'équipe de soins sur un patient",
            add_note,
        )
}

fn state_class(state: StepState) -> &'static str {
    match state {
        StepState::Late => "warn",
        StepState::Done => "optional",
        StepState::Due => "soon",
        StepState::Upcoming | StepState::Cancelled => "",
    }
}

/// A screening's result in a sentence: score, band, positive domains, decline since the previous one.
fn result_text(step: &FollowedStep) -> String {
    let Some(result) = &step.result else {
        return String::new();
    };
    let scored = &result.scored;
    let mut parts = Vec::new();
    if let (Some(score), Some(maximum)) = (scored.score, scored.maximum) {
        parts.push(format!("score {score} / {maximum}"));
    }
    if let Some(band) = scored.band {
        parts.push(band.label.to_string());
    }
    if !scored.positive.is_empty() {
        let labels: Vec<&str> = scored.positive.iter().map(|c| positive_label(c)).collect();
        parts.push(format!("positif : {}", labels.join(", ")));
    }
    if !scored.note.is_empty() {
        parts.push(scored.note.clone());
    }
    parts.join(" — ")
}

fn decline_text(step: &FollowedStep) -> String {
    match &step.result {
        Some(result) if !result.decline.is_empty() => {
            let labels: Vec<&str> = result.decline.iter().map(|c| positive_label(c)).collect();
            format!(
                "Déclin depuis le repérage précédent : {}",
                labels.join(", ")
            )
        }
        _ => String::new(),
    }
}

pub(super) fn role_label(code: &str) -> &'static str {
    CareRole::parse(code).map_or("Équipe de soins", CareRole::label)
}

struct StepRow {
    href: String,
    label: String,
    owner: &'static str,
    who: String,
    window: String,
    state: &'static str,
    state_class: &'static str,
    outcome: String,
    result: String,
    decline: String,
    added: &'static str,
    can_settle: bool,
    /// The late alerts sent about it, with what became of each.
    alerts: Vec<crate::views::MessageRow>,
}

struct TeamRow {
    name: String,
    role: &'static str,
}

struct TimelineRow {
    day: String,
    text: String,
}

struct PlaceRow {
    list: String,
    referred_on: String,
    priority: &'static str,
    /// « 3e sur la liste, 40 jours d'attente », or how it ended.
    standing: String,
}

struct SheetRow {
    href: String,
    text: String,
}

struct ListChoice {
    id: String,
    name: String,
}

struct NoteRow {
    at: String,
    author: String,
    text: String,
}

#[derive(Template)]
#[template(path = "pathway_patient.html")]
struct PatientPage {
    layout: Layout,
    slug: String,
    id: String,
    name: String,
    born: String,
    phone: String,
    pathway: String,
    version: i64,
    included_on: String,
    event: Option<String>,
    event_on: String,
    late: usize,
    steps: Vec<StepRow>,
    team: Vec<TeamRow>,
    missing_roles: Vec<&'static str>,
    notes: Vec<NoteRow>,
    places: Vec<PlaceRow>,
    sheets: Vec<SheetRow>,
    lists: Vec<ListChoice>,
    priorities: Vec<(&'static str, &'static str)>,
    today: String,
    timeline: Vec<TimelineRow>,
    note: String,
    errors: Vec<ValidationError>,
}

pub(super) async fn read(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> WebResult<(FollowedPatient, PathwayTemplate)> {
    let followed = state
        .missions
        .pathway_care
        .patient(caller, id, today())
        .await
        .map_err(pathway_error)?;
    let template = state
        .missions
        .pathways
        .template(
            caller,
            &followed.inclusion.template_code,
            u32::try_from(followed.inclusion.template_version).ok(),
        )
        .await
        .map_err(pathway_error)?;
    Ok((followed, template))
}

fn outcome_text(step: &FollowedStep) -> String {
    match (&step.row.done_on, &step.row.cancelled_reason) {
        (Some(day), _) => format!("Faite le {}", french_day(day)),
        (None, Some(reason)) => format!("Annulée : {reason}"),
        (None, None) => String::new(),
    }
}

/// The patient's story, newest first: the inclusion, the discharge, each step done, added or late, each note.
fn timeline(followed: &FollowedPatient, template: &PathwayTemplate) -> Vec<TimelineRow> {
    let today = today().iso();
    let mut rows: Vec<(String, String)> = vec![(
        followed.inclusion.included_on.clone(),
        format!("Inclusion dans le parcours « {} »", template.name),
    )];
    if let (Some(event), Some(day)) = (&template.event, &followed.inclusion.event_on) {
        rows.push((day.clone(), event.clone()));
    }
    for step in &followed.steps {
        if let Some(done) = &step.row.done_on {
            let result = result_text(step);
            rows.push((
                done.clone(),
                if result.is_empty() {
                    format!("{} : faite", step.row.label)
                } else {
                    format!("{} : faite ({result})", step.row.label)
                },
            ));
        } else if step.row.cancelled_reason.is_none() && step.row.latest < today {
            let late_from = Day::parse("jour", &step.row.latest)
                .map_or(step.row.latest.clone(), |d| d.plus_days(1).iso());
            rows.push((late_from, format!("{} : en retard", step.row.label)));
        }
        if step.row.origin == "declenchement" {
            rows.push((
                step.row.earliest.clone(),
                format!("{} : ajoutée après un résultat", step.row.label),
            ));
        }
    }
    for note in &followed.notes {
        let day = maillage_domain::calendar::utc_to_paris(note.at).0.iso();
        rows.push((day, format!("Note de {}", note.author)));
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    rows.into_iter()
        .map(|(day, text)| TimelineRow {
            day: french_day(&day),
            text,
        })
        .collect()
}

#[derive(Default)]
struct Asked {
    note: String,
    errors: Vec<ValidationError>,
    notice: Option<String>,
}

async fn patient_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    id: Uuid,
    asked: Asked,
) -> WebResult<Response> {
    let (followed, template) = read(state, caller, id).await?;
    let slug = context.cpts.slug.clone();
    let steps: Vec<StepRow> = followed
        .steps
        .iter()
        .map(|step| StepRow {
            href: format!("/c/{slug}/{BASE}/patients/{id}/etapes/{}", step.row.id),
            label: step.row.label.clone(),
            owner: role_label(&step.row.owner_role),
            who: followed
                .team
                .iter()
                .filter(|m| m.role == step.row.owner_role)
                .map(|m| format!("{} {}", m.first_name, m.last_name))
                .collect::<Vec<_>>()
                .join(", "),
            window: format!(
                "du {} au {}",
                french_day(&step.row.earliest),
                french_day(&step.row.latest)
            ),
            state: step.state.label(),
            state_class: state_class(step.state),
            outcome: outcome_text(step),
            result: result_text(step),
            decline: decline_text(step),
            added: match step.row.origin.as_str() {
                "declenchement" => "ajoutée après un résultat",
                "recurrence" => "renouvelée",
                "decision" => "décidée en réunion de concertation",
                _ => "",
            },
            alerts: followed
                .alerts
                .iter()
                .filter(|d| d.subject_id == step.row.id)
                .map(crate::views::message_row)
                .collect(),
            can_settle: matches!(
                step.state,
                StepState::Upcoming | StepState::Due | StepState::Late
            ) && PathwayCare::may_settle(caller, &followed.team, &step.row.owner_role),
        })
        .collect();
    let roles: Vec<CareRole> = followed
        .team
        .iter()
        .filter_map(|m| CareRole::parse(&m.role))
        .collect();
    let mut missing_roles: Vec<&'static str> = Vec::new();
    for step in &followed.steps {
        let role = CareRole::parse(&step.row.owner_role);
        if let Some(role) = role.filter(|r| r.in_care_team() && !roles.contains(r)) {
            if !missing_roles.contains(&role.label()) {
                missing_roles.push(role.label());
            }
        }
    }
    let page = PatientPage {
        layout: Layout::in_cpts(viewer, context, full_name(&followed.identity), BASE)
            .with_notice(asked.notice),
        slug,
        id: id.to_string(),
        name: full_name(&followed.identity),
        born: french_day(&followed.identity.birth_date),
        phone: followed.identity.phone.clone().unwrap_or_default(),
        pathway: template.name.clone(),
        version: followed.inclusion.template_version,
        included_on: french_day(&followed.inclusion.included_on),
        event: template.event.clone(),
        event_on: followed
            .inclusion
            .event_on
            .as_deref()
            .map(french_day)
            .unwrap_or_default(),
        late: followed
            .steps
            .iter()
            .filter(|s| s.state == StepState::Late)
            .count(),
        steps,
        team: followed
            .team
            .iter()
            .map(|m| TeamRow {
                name: format!("{} {}", m.first_name, m.last_name),
                role: role_label(&m.role),
            })
            .collect(),
        missing_roles,
        notes: followed
            .notes
            .iter()
            .map(|n| NoteRow {
                at: crate::pages::format_instant(n.at),
                author: n.author.clone(),
                text: n.text.clone(),
            })
            .collect(),
        places: followed
            .waiting
            .iter()
            .map(|p| PlaceRow {
                list: p.list.clone(),
                referred_on: french_day(&p.entry.referred_on),
                priority: Priority::parse(&p.entry.priority).map_or("", Priority::label),
                standing: match (&p.position, &p.entry.exited_on) {
                    (Some((position, days)), _) => format!(
                        "{}{} sur la liste, {} d'attente",
                        position,
                        if *position == 1 { "er" } else { "e" },
                        maillage_domain::text::count_of(*days, "jour", "jours")
                    ),
                    (None, Some(day)) => format!(
                        "sorti le {} ({})",
                        french_day(day),
                        p.entry
                            .exit_reason
                            .as_deref()
                            .and_then(ExitReason::parse)
                            .map_or("", ExitReason::label)
                    ),
                    (None, None) => String::new(),
                },
            })
            .collect(),
        sheets: followed
            .sheets
            .iter()
            .map(|sheet| SheetRow {
                href: format!(
                    "/c/{}/{BASE}/patients/{id}/fiches/{}",
                    context.cpts.slug, sheet.id
                ),
                text: format!(
                    "{} le {} (saisie par {})",
                    maillage_domain::pathways::liaison::Direction::parse(&sheet.direction)
                        .map_or("", |d| d.label()),
                    french_day(&sheet.dated_on),
                    sheet.author_name
                ),
            })
            .collect(),
        lists: state
            .missions
            .pathway_care
            .waiting_lists(caller)
            .await
            .map_err(pathway_error)?
            .into_iter()
            .map(|l| ListChoice {
                id: l.id.to_string(),
                name: l.name,
            })
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.code(), p.label()))
            .collect(),
        today: today().french(),
        timeline: timeline(&followed, &template),
        note: asked.note,
        errors: asked.errors,
    };
    let has_errors = !page.errors.is_empty();
    Ok(render_form(&page, has_errors))
}

/// The record again with the problems of a form posted from it (a waiting list's, say).
pub async fn refused_on_record(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    id: Uuid,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let asked = Asked {
        errors,
        ..Asked::default()
    };
    patient_view(state, viewer, context, caller, id, asked).await
}

#[derive(serde::Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    fait: String,
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    crate::forms::Query(query): crate::forms::Query<DoneQuery>,
) -> WebResult<Response> {
    let notice = match query.fait.as_str() {
        "inclus" => Some("Le patient est inclus : ses étapes et leurs échéances sont ci-dessous."),
        "etape" => Some("L'étape est enregistrée."),
        "sortie" => {
            Some("La date de sortie est corrigée : les étapes ouvertes ont de nouvelles échéances.")
        }
        "note" => Some("La note est ajoutée."),
        "attente" => Some("Le patient est inscrit sur la liste d'attente."),
        _ => None,
    }
    .map(str::to_string);
    let asked = Asked {
        notice,
        ..Asked::default()
    };
    patient_view(&state, &viewer, &context, &caller, parse_id(&id)?, asked).await
}

async fn correct_event(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let refused = |errors| Asked {
        errors,
        ..Asked::default()
    };
    let day = match Day::parse("Date de sortie", pairs.text("event_on").trim()) {
        Ok(day) => day,
        Err(problem) => {
            return patient_view(
                &state,
                &viewer,
                &context,
                &caller,
                id,
                refused(vec![problem]),
            )
            .await
        }
    };
    match state
        .missions
        .pathway_care
        .correct_event(&caller, id, day, today())
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/patients/{id}?fait=sortie",
            context.cpts.slug
        ))
        .into_response()),
        Err(PathwayError::Invalid(problems)) => {
            patient_view(&state, &viewer, &context, &caller, id, refused(problems)).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

async fn add_note(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let text = pairs.text("note");
    match state
        .missions
        .pathway_care
        .add_note(&caller, id, &text)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/patients/{id}?fait=note#notes",
            context.cpts.slug
        ))
        .into_response()),
        Err(PathwayError::Invalid(errors)) => {
            let asked = Asked {
                note: text,
                errors,
                ..Asked::default()
            };
            patient_view(&state, &viewer, &context, &caller, id, asked).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

//! Care pathways: one patient as the care team follows them — the steps with their windows and states, the
//! results of the screenings, the team, the notes, the timeline — and what the team does there: close a step
//! with its day and evidence (the screening's answers when it has one) or cancel it with a reason, correct
//! the discharge date, write a note. Handlers parse, call the service, render.

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
use maillage_app::pathway_care::{FollowedPatient, FollowedStep, PathwayCare, StepOutcome};
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::instruments::{positive_label, Answers, Instrument};
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

fn parse_id(text: &str) -> WebResult<Uuid> {
    super::directory::parse_id(text)
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

fn role_label(code: &str) -> &'static str {
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
    lists: Vec<ListChoice>,
    priorities: Vec<(&'static str, &'static str)>,
    today: String,
    timeline: Vec<TimelineRow>,
    note: String,
    errors: Vec<ValidationError>,
}

async fn read(
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
                _ => "",
            },
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
    done_on: String,
    reason: String,
    errors: Vec<ValidationError>,
}

fn item_fields(instrument: Instrument, given: &FormPairs) -> Vec<ItemField> {
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
                label: format!("{}. {}", index + 1, item.label),
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
        items: instrument.map_or(Vec::new(), |i| item_fields(i, given)),
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

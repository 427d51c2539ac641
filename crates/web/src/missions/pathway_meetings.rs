//! Care pathways: case meetings (RCP) — the list and the scheduling form (professionals of the directory
//! invited), and a meeting's page: attendance, the patients presented, each decision (with a follow-up step
//! for a role of the care team), the minutes. Handlers parse, call the service, render.

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
use maillage_app::pathway_care::meetings::FollowUpRequest;
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::meetings::{Attendance, MeetingDraft};
use maillage_domain::pathways::CareRole;
use maillage_domain::ValidationError;
use uuid::Uuid;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    let path = "/c/{cpts}/parcours/reunions";
    router
        .get(
            path,
            Access::Cpts(Permission::HoldCaseMeetings),
            "Réunions de concertation (RCP)",
            list,
        )
        .post(
            path,
            Access::Cpts(Permission::HoldCaseMeetings),
            "Planification d'une RCP (participants invités)",
            schedule,
        )
        .get(
            "/c/{cpts}/parcours/reunions/{id}",
            Access::Cpts(Permission::HoldCaseMeetings),
            "Une RCP : présences, cas, décisions, compte rendu",
            show,
        )
        .post(
            "/c/{cpts}/parcours/reunions/{id}/presences",
            Access::Cpts(Permission::HoldCaseMeetings),
            "Présence d'un participant à une RCP",
            attendance,
        )
        .post(
            "/c/{cpts}/parcours/reunions/{id}/cas",
            Access::Cpts(Permission::HoldCaseMeetings),
            "Patient présenté en RCP",
            present,
        )
        .post(
            "/c/{cpts}/parcours/reunions/{id}/decision",
            Access::Cpts(Permission::HoldCaseMeetings),
            "Décision d'une RCP sur un cas (étape de suivi)",
            decide,
        )
        .post(
            "/c/{cpts}/parcours/reunions/{id}/compte-rendu",
            Access::Cpts(Permission::HoldCaseMeetings),
            "Compte rendu d'une RCP",
            minutes,
        )
}

fn hour(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

struct MeetingLine {
    href: String,
    title: String,
    when: String,
    place: String,
    figures: String,
}

struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Default)]
struct Typed {
    title: String,
    held_on: String,
    start: String,
    place: String,
    attendees: Vec<String>,
}

#[derive(Template)]
#[template(path = "pathway_meetings.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    meetings: Vec<MeetingLine>,
    professionals: Vec<Choice>,
    form: Typed,
    errors: Vec<ValidationError>,
}

async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    form: Typed,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = context.cpts.slug.clone();
    let meetings = state
        .missions
        .pathway_care
        .case_meetings(caller, maillage_store::Page::first(50))
        .await
        .map_err(pathway_error)?
        .into_iter()
        .map(|m| MeetingLine {
            href: format!("/c/{slug}/{BASE}/reunions/{}", m.id),
            title: m.title,
            when: format!("{} à {}", french_day(&m.held_on), hour(m.start_minute)),
            place: m.place,
            figures: format!(
                "{} participant(s) invité(s), {} présent(s), {} cas",
                m.attendees, m.present, m.cases
            ),
        })
        .collect();
    let query = maillage_store::DirectoryQuery {
        members_only: true,
        ..Default::default()
    };
    let professionals = state
        .missions
        .directory
        .search_professionals(caller, &query, maillage_store::Page::first(300))
        .await?
        .into_iter()
        .map(|p| Choice {
            checked: form.attendees.contains(&p.id.to_string()),
            value: p.id.to_string(),
            label: format!("{} {} — {}", p.last_name, p.first_name, p.profession_label),
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = ListPage {
        layout: Layout::in_cpts(viewer, context, "Réunions de concertation", BASE),
        slug,
        meetings,
        professionals,
        form,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    list_view(
        &state,
        &viewer,
        &context,
        &caller,
        Typed::default(),
        Vec::new(),
    )
    .await
}

async fn schedule(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let typed = Typed {
        title: pairs.text("title"),
        held_on: pairs.text("held_on"),
        start: pairs.text("start"),
        place: pairs.text("place"),
        attendees: pairs.all("attendee"),
    };
    let mut problems = crate::forms::Problems::default();
    let held_on = problems
        .keep(crate::forms::typed_day("Date", &typed.held_on))
        .flatten();
    let start = if typed.start.trim().is_empty() {
        None
    } else {
        problems.keep(maillage_domain::unscheduled_care::parse_time(
            "Heure",
            &typed.start,
        ))
    };
    let mut attendees = Vec::new();
    for value in &typed.attendees {
        match Uuid::parse_str(value) {
            Ok(id) => attendees.push(id),
            Err(_) => problems.add("Participants", "choisissez les participants dans la liste"),
        }
    }
    if !problems.is_empty() {
        return list_view(&state, &viewer, &context, &caller, typed, problems.0).await;
    }
    let draft = MeetingDraft {
        title: typed.title.clone(),
        held_on,
        start_minute: start,
        place: typed.place.clone(),
    };
    match state
        .missions
        .pathway_care
        .schedule_case_meeting(&caller, &draft, &attendees, today())
        .await
    {
        Ok(id) => Ok(
            Redirect::to(&format!("/c/{}/{BASE}/reunions/{id}", context.cpts.slug)).into_response(),
        ),
        Err(PathwayError::Invalid(errors)) => {
            list_view(&state, &viewer, &context, &caller, typed, errors).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

struct AttendeeLine {
    id: String,
    name: String,
    states: Vec<(&'static str, &'static str, bool)>,
    state: &'static str,
}

struct CaseLine {
    id: String,
    name: String,
    href: String,
    decision: String,
}

#[derive(Template)]
#[template(path = "pathway_meeting.html")]
struct MeetingPage {
    layout: Layout,
    slug: String,
    id: String,
    title: String,
    when: String,
    place: String,
    attendees: Vec<AttendeeLine>,
    cases: Vec<CaseLine>,
    patients: Vec<Choice>,
    roles: Vec<(&'static str, &'static str)>,
    minutes: String,
    errors: Vec<ValidationError>,
}

async fn meeting_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    id: Uuid,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = context.cpts.slug.clone();
    let care = &state.missions.pathway_care;
    let meeting = care.case_meeting(caller, id).await.map_err(pathway_error)?;
    let presented: Vec<Uuid> = meeting.cases.iter().map(|c| c.row.inclusion_id).collect();
    let patients = care
        .followed_patients(caller, maillage_store::Page::first(100), today())
        .await
        .map_err(pathway_error)?
        .into_iter()
        .filter(|p| !presented.contains(&p.inclusion.id))
        .map(|p| Choice {
            value: p.inclusion.id.to_string(),
            label: full_name(&p.identity),
            checked: false,
        })
        .collect();
    let page = MeetingPage {
        layout: Layout::in_cpts(viewer, context, meeting.meeting.title.clone(), BASE),
        id: id.to_string(),
        title: meeting.meeting.title.clone(),
        when: format!(
            "{} à {}",
            french_day(&meeting.meeting.held_on),
            hour(meeting.meeting.start_minute)
        ),
        place: meeting.meeting.place.clone(),
        attendees: meeting
            .attendees
            .iter()
            .map(|a| AttendeeLine {
                id: a.professional_id.to_string(),
                name: format!("{} {}", a.first_name, a.last_name),
                states: Attendance::ALL
                    .iter()
                    .map(|s| (s.code(), s.label(), s.code() == a.attendance))
                    .collect(),
                state: Attendance::parse(&a.attendance).map_or("", Attendance::label),
            })
            .collect(),
        cases: meeting
            .cases
            .iter()
            .map(|c| CaseLine {
                id: c.row.id.to_string(),
                name: full_name(&c.identity),
                href: format!("/c/{slug}/{BASE}/patients/{}", c.row.inclusion_id),
                decision: c.decision.clone().unwrap_or_default(),
            })
            .collect(),
        patients,
        roles: CareRole::ALL
            .iter()
            .filter(|r| r.in_care_team())
            .map(|r| (r.code(), r.label()))
            .collect(),
        minutes: meeting.minutes.unwrap_or_default(),
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
    meeting_view(&state, &viewer, &context, &caller, id, Vec::new()).await
}

/// After a change: the meeting's page again, or its problems.
async fn after(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    id: Uuid,
    done: Result<(), PathwayError>,
    anchor: &str,
) -> WebResult<Response> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/reunions/{id}#{anchor}",
            context.cpts.slug
        ))
        .into_response()),
        Err(PathwayError::Invalid(errors)) => {
            meeting_view(state, viewer, context, caller, id, errors).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

async fn attendance(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    let professional = super::directory::parse_id(&pairs.text("professional"))?;
    let Some(state_chosen) = Attendance::parse(&pairs.text("attendance")) else {
        let problem = ValidationError::new("Présence", "choisissez présent, excusé ou absent");
        return meeting_view(&state, &viewer, &context, &caller, id, vec![problem]).await;
    };
    let done = state
        .missions
        .pathway_care
        .record_attendance(&caller, id, professional, state_chosen)
        .await;
    after(&state, &viewer, &context, &caller, id, done, "participants").await
}

async fn present(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    let Ok(inclusion) = Uuid::parse_str(&pairs.text("inclusion")) else {
        let problem = ValidationError::new("Patient", "choisissez un patient de la liste");
        return meeting_view(&state, &viewer, &context, &caller, id, vec![problem]).await;
    };
    let done = state
        .missions
        .pathway_care
        .present_case(&caller, id, inclusion)
        .await;
    after(&state, &viewer, &context, &caller, id, done, "cas").await
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    let case = super::directory::parse_id(&pairs.text("case"))?;
    let label = pairs.text("follow_up");
    let follow_up = if label.trim().is_empty() {
        None
    } else {
        let role = CareRole::parse(&pairs.text("role"));
        let days = pairs.text("days").trim().parse::<i64>().ok();
        match (role, days) {
            (Some(role), Some(within_days)) => Some(FollowUpRequest {
                role,
                label,
                within_days,
            }),
            _ => {
                let problem = ValidationError::new(
                    "Étape de suivi",
                    "choisissez le rôle et le délai en jours de l'étape de suivi",
                );
                return meeting_view(&state, &viewer, &context, &caller, id, vec![problem]).await;
            }
        }
    };
    let done = state
        .missions
        .pathway_care
        .decide_case(
            &caller,
            id,
            case,
            &pairs.text("decision"),
            follow_up,
            today(),
        )
        .await;
    after(&state, &viewer, &context, &caller, id, done, "cas").await
}

async fn minutes(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    let done = state
        .missions
        .pathway_care
        .save_minutes(&caller, id, &pairs.text("minutes"))
        .await;
    after(&state, &viewer, &context, &caller, id, done, "compte-rendu").await
}

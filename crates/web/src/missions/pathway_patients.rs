//! Care pathways: the patients the caller follows (« mes patients en parcours » for a member), and the
//! inclusion of a patient — the template, the patient's identity (the minimum), the consent, the dates and
//! the care team chosen from the directory for each role of the template. Handlers parse, call the service,
//! render.

use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::forms::{FormPairs, Problems};
use crate::views::{french_day, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::caller::Caller;
use maillage_app::clock::now_ms;
use maillage_app::crypto::PatientIdentity;
use maillage_app::pathway_care::InclusionRequest;
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::calendar::{utc_to_paris, Day};
use maillage_domain::pathways::inclusion::InclusionDraft;
use maillage_domain::pathways::{CareRole, PathwayTemplate};
use maillage_domain::ValidationError;
use uuid::Uuid;

pub const BASE: &str = "parcours";
const PAGE_SIZE: i64 = 25;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours/patients",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Patients en parcours (pour un membre : les siens)",
            list,
        )
        .get(
            "/c/{cpts}/parcours/patients/inclure",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Formulaire d'inclusion d'un patient dans un parcours",
            inclusion_form,
        )
        .post(
            "/c/{cpts}/parcours/patients",
            Access::Cpts(Permission::FollowPathwayPatients),
            "Inclusion d'un patient dans un parcours (consentement, équipe de soins)",
            include,
        )
}

/// The service's refusal as the web says it: not found, a 422 naming the fields, or the store's error.
pub fn pathway_error(error: PathwayError) -> WebError {
    match error {
        PathwayError::NotFound => WebError::NotFound,
        PathwayError::Invalid(problems) => WebError::BadRequest(
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" ; "),
        ),
        PathwayError::Store(e) => e.into(),
    }
}

pub fn today() -> Day {
    utc_to_paris(now_ms()).0
}

pub fn full_name(identity: &PatientIdentity) -> String {
    format!("{} {}", identity.family_name, identity.given_names)
}

struct PatientRow {
    href: String,
    name: String,
    born: String,
    template: String,
    included_on: String,
    late: usize,
    next: String,
}

#[derive(Template)]
#[template(path = "pathway_patients.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    mine: bool,
    patients: Vec<PatientRow>,
    pager: Pager,
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    page: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    crate::forms::Query(query): crate::forms::Query<ListQuery>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(query.page);
    let today = today();
    let listed = state
        .missions
        .pathway_care
        .followed_patients(&caller, crate::views::lookahead(number, PAGE_SIZE), today)
        .await
        .map_err(pathway_error)?;
    let names = template_names(&state, &caller).await?;
    let slug = context.cpts.slug.clone();
    let base_url = format!("/c/{slug}/{BASE}/patients");
    let (listed, pager) = crate::views::paginate(listed, &base_url, number, PAGE_SIZE);
    let patients = listed
        .into_iter()
        .map(|p| PatientRow {
            href: format!("/c/{slug}/{BASE}/patients/{}", p.inclusion.id),
            name: full_name(&p.identity),
            born: french_day(&p.identity.birth_date),
            template: names
                .iter()
                .find(|(code, _)| *code == p.inclusion.template_code)
                .map_or(p.inclusion.template_code.clone(), |(_, name)| name.clone()),
            included_on: french_day(&p.inclusion.included_on),
            late: p.late,
            next: p.next.map_or(String::new(), |(label, latest)| {
                format!("{label}, au plus tard le {}", french_day(&latest))
            }),
        })
        .collect();
    let mine = caller.role() == Role::Member;
    let title = if mine {
        "Mes patients en parcours"
    } else {
        "Patients en parcours"
    };
    let page = ListPage {
        layout: Layout::in_cpts(&viewer, &context, title, BASE),
        slug,
        mine,
        patients,
        pager,
    };
    Ok(render_form(&page, false))
}

/// The CPTS's templates (code, name), for the lists and the inclusion form.
async fn template_names(state: &AppState, caller: &Caller) -> WebResult<Vec<(String, String)>> {
    Ok(state
        .missions
        .pathways
        .list(caller)
        .await
        .map_err(pathway_error)?
        .into_iter()
        .map(|t| (t.template.code, t.template.name))
        .collect())
}

/// What the inclusion form was given, shown again when refused.
#[derive(Default)]
struct InclusionForm {
    family_name: String,
    given_names: String,
    birth_date: String,
    phone: String,
    included_on: String,
    event_on: String,
    consent: bool,
    /// Per role code, the professional chosen.
    team: Vec<(String, String)>,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct RoleField {
    code: &'static str,
    label: &'static str,
    choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "pathway_inclusion.html")]
struct InclusionPage {
    layout: Layout,
    slug: String,
    templates: Vec<Choice>,
    chosen: Option<ChosenTemplate>,
    form: InclusionForm,
    errors: Vec<ValidationError>,
}

struct ChosenTemplate {
    code: String,
    name: String,
    event: Option<String>,
    roles: Vec<RoleField>,
    /// Roles no professional of the directory holds (the coordination follows their steps).
    other_roles: Vec<&'static str>,
}

#[derive(serde::Deserialize, Default)]
struct FormQuery {
    #[serde(default)]
    modele: String,
}

/// The roles of a template's planned and triggered steps, each once, in the order of the steps.
fn roles_of(template: &PathwayTemplate) -> Vec<CareRole> {
    let mut roles: Vec<CareRole> = Vec::new();
    for step in &template.steps {
        if !roles.contains(&step.owner) {
            roles.push(step.owner);
        }
    }
    roles
}

async fn inclusion_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    code: &str,
    mut form: InclusionForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let names = template_names(state, caller).await?;
    let chosen = match names.iter().find(|(c, _)| c == code) {
        None => None,
        Some(_) => {
            let template = state
                .missions
                .pathways
                .template(caller, code, None)
                .await
                .map_err(pathway_error)?;
            let mut roles = Vec::new();
            let mut other_roles = Vec::new();
            for role in roles_of(&template) {
                let Some(profession) = role.profession() else {
                    if role.in_care_team() {
                        other_roles.push(role.label());
                    }
                    continue;
                };
                let query = maillage_store::DirectoryQuery {
                    profession_code: Some(profession.to_string()),
                    ..Default::default()
                };
                let professionals = state
                    .missions
                    .directory
                    .search_professionals(caller, &query, maillage_store::Page::first(300))
                    .await?;
                // A member including a patient is in its care team: her own record chosen for her role.
                let own = caller.professional().map(|id| id.to_string());
                let picked = form
                    .team
                    .iter()
                    .find(|(r, _)| r == role.code())
                    .map(|(_, p)| p.clone())
                    .or_else(|| {
                        own.clone()
                            .filter(|own| professionals.iter().any(|p| p.id.to_string() == *own))
                            .filter(|_| !form.team.iter().any(|(_, p)| Some(p) == own.as_ref()))
                    });
                if let Some(picked) = &picked {
                    if !form.team.iter().any(|(r, _)| r == role.code()) {
                        form.team.push((role.code().to_string(), picked.clone()));
                    }
                }
                let choices = professionals
                    .iter()
                    .map(|p| Choice {
                        value: p.id.to_string(),
                        label: format!(
                            "{} {}{}",
                            p.last_name,
                            p.first_name,
                            if p.specialty.is_empty() {
                                String::new()
                            } else {
                                format!(" — {}", p.specialty)
                            }
                        ),
                        selected: picked.as_deref() == Some(p.id.to_string().as_str()),
                    })
                    .collect();
                roles.push(RoleField {
                    code: role.code(),
                    label: role.label(),
                    choices,
                });
            }
            Some(ChosenTemplate {
                code: template.code.clone(),
                name: template.name.clone(),
                event: template.event.clone(),
                roles,
                other_roles,
            })
        }
    };
    if form.included_on.is_empty() {
        form.included_on = today().french();
    }
    let has_errors = !errors.is_empty();
    let page = InclusionPage {
        layout: Layout::in_cpts(viewer, context, "Inclure un patient dans un parcours", BASE),
        slug: context.cpts.slug.clone(),
        templates: names
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == code,
                value,
                label,
            })
            .collect(),
        chosen,
        form,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn inclusion_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    crate::forms::Query(query): crate::forms::Query<FormQuery>,
) -> WebResult<Response> {
    inclusion_view(
        &state,
        &viewer,
        &context,
        &caller,
        &query.modele,
        InclusionForm::default(),
        Vec::new(),
    )
    .await
}

fn optional_day(problems: &mut Problems, field: &'static str, text: &str) -> Option<Day> {
    problems
        .keep(crate::forms::typed_day(field, text))
        .flatten()
}

async fn include(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let code = pairs.text("modele");
    let form = InclusionForm {
        family_name: pairs.text("family_name"),
        given_names: pairs.text("given_names"),
        birth_date: pairs.text("birth_date"),
        phone: pairs.text("phone"),
        included_on: pairs.text("included_on"),
        event_on: pairs.text("event_on"),
        consent: pairs.text("consent") == "oui",
        team: CareRole::ALL
            .iter()
            .filter_map(|role| {
                let chosen = pairs.text(&format!("equipe-{}", role.code()));
                (!chosen.is_empty()).then(|| (role.code().to_string(), chosen))
            })
            .collect(),
    };
    let mut problems = Problems::default();
    let family_name = problems
        .keep(maillage_domain::identifiers::person_name(
            "Nom",
            &form.family_name,
            100,
        ))
        .unwrap_or_default();
    let given_names = problems
        .keep(maillage_domain::identifiers::person_name(
            "Prénom",
            &form.given_names,
            100,
        ))
        .unwrap_or_default();
    let birth = optional_day(&mut problems, "Date de naissance", &form.birth_date);
    match birth {
        None if form.birth_date.trim().is_empty() => {
            problems.add("Date de naissance", "obligatoire (JJ/MM/AAAA)")
        }
        Some(day) if day > today() => problems.add(
            "Date de naissance",
            format!("{} est dans le futur", day.french()),
        ),
        _ => {}
    }
    let phone = problems
        .keep(maillage_domain::professional::parse_phone(
            "Téléphone",
            &form.phone,
        ))
        .filter(|p| !p.is_empty());
    let inclusion = optional_day(&mut problems, "Date d'inclusion", &form.included_on);
    let event = optional_day(&mut problems, "Date de l'événement", &form.event_on);
    let mut team = Vec::new();
    for (role, professional) in &form.team {
        match (CareRole::parse(role), Uuid::parse_str(professional)) {
            (Some(role), Ok(id)) => team.push((id, role)),
            _ => problems.add(
                "Équipe de soins",
                "choisissez les professionnels dans les listes",
            ),
        }
    }
    if !problems.is_empty() {
        return inclusion_view(&state, &viewer, &context, &caller, &code, form, problems.0).await;
    }
    let request = InclusionRequest {
        template: code.clone(),
        identity: PatientIdentity {
            family_name,
            given_names,
            birth_date: birth.map(Day::iso).unwrap_or_default(),
            phone,
            ..PatientIdentity::default()
        },
        draft: InclusionDraft {
            inclusion,
            event,
            consent: form.consent,
        },
        team,
    };
    match state
        .missions
        .pathway_care
        .include(&caller, &request, today())
        .await
    {
        Ok((id, _)) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/patients/{id}?fait=inclus",
            context.cpts.slug
        ))
        .into_response()),
        Err(PathwayError::Invalid(problems)) => {
            inclusion_view(&state, &viewer, &context, &caller, &code, form, problems).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

/// The pathways' part of the dashboard's « À faire »: the steps late today, the caller's own for a member
/// (the steps of her roles in her care teams), every one for the coordination. A count: no identity opened.
pub async fn to_do(
    state: &AppState,
    caller: &Caller,
    slug: &str,
) -> WebResult<Vec<crate::views::ToDo>> {
    if !caller.may(Permission::FollowPathwayPatients) {
        return Ok(Vec::new());
    }
    let late = state
        .missions
        .pathway_care
        .late_steps(caller, today())
        .await
        .map_err(pathway_error)?;
    if late == 0 {
        return Ok(Vec::new());
    }
    let whose = if caller.role() == Role::Member {
        "de vos patients en parcours"
    } else {
        "de parcours de soins"
    };
    Ok(vec![crate::views::ToDo {
        text: format!(
            "{} {whose} en retard.",
            maillage_domain::text::count_of(late, "étape", "étapes")
        ),
        href: format!("/c/{slug}/{BASE}/patients"),
        urgent: true,
    }])
}

//! Pages inside one CPTS, one module per mission as they are delivered. Missions whose module is not
//! delivered yet show an honest "à venir" page that records nothing.

pub mod diagnostic;
pub mod directory;
pub mod doctor_search;
pub mod imports;
pub mod pathway_indicators;
pub mod pathway_liaison;
pub mod pathway_meetings;
pub mod pathway_patient;
pub mod pathway_patients;
pub mod pathway_step;
pub mod pathway_waiting;
pub mod pathways;
pub mod public;
pub mod registry;
pub mod snp_reports;
pub mod snp_rota;
pub mod snp_sharing;
pub mod structures;
pub mod team;
pub mod territory;
pub mod unscheduled_care;

use crate::access::{Access, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::forms::Form;
use crate::views::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::response::{IntoResponse, Redirect};
use maillage_domain::authz::{allows, Permission};
use maillage_domain::missions::{Mission, MISSIONS};
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    let mut router = team::routes(public::routes(registry::routes(router)))
        .get(
            "/c/{cpts}",
            Access::Cpts(Permission::ViewDashboard),
            "Tableau de bord de la CPTS",
            dashboard,
        )
        .get(
            "/c/{cpts}/parametres",
            Access::Cpts(Permission::ManageCpts),
            "Paramètres de la CPTS",
            settings,
        )
        .post(
            "/c/{cpts}/parametres",
            Access::Cpts(Permission::ManageCpts),
            "Modification des paramètres de la CPTS",
            save_settings,
        );
    for mission in MISSIONS
        .iter()
        .filter(|m| registry::delivered(m.slug).is_none())
    {
        router = router.get(
            &format!("/c/{{cpts}}/{}", mission.slug),
            Access::Cpts(Permission::ViewDashboard),
            "Mission à venir",
            move |viewer: Viewer, context: CptsContext| async move {
                placeholder(viewer, context, mission)
            },
        );
    }
    router
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    cpts_name: String,
    slug: String,
    role_label: &'static str,
    finess: Option<String>,
    missions: Vec<registry::MissionEntry>,
    /// Key figures of the territory, for the roles that see the directory.
    figures: Option<KeyFigures>,
    /// Requests for a médecin traitant waiting too long, for the roles that handle them.
    overdue_requests: Option<i64>,
    /// « À faire » for this role, most urgent first.
    to_do: Vec<crate::views::ToDo>,
    /// A member who practises: shortcuts to her own pages.
    practises: bool,
}

pub struct KeyFigures {
    pub population: String,
    pub size_category: u8,
    pub professionals: i64,
    pub members: i64,
    pub structures: i64,
}

async fn dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    crate::access::Authorised(caller): crate::access::Authorised,
) -> crate::error::WebResult<Response> {
    let figures = if allows(context.role, Permission::ViewMemberDirectory) {
        let codes = state.missions.directory.territory(&caller).await?;
        let report = maillage_domain::territory::population_of(
            &codes,
            &state.config.territory.size_thresholds,
        );
        let totals = state.missions.directory.totals(&caller).await?;
        let (professionals, members) = totals
            .iter()
            .filter(|t| t.category != maillage_store::GENERAL_PRACTICE)
            .fold((0, 0), |(p, m), t| (p + t.professionals, m + t.members));
        Some(KeyFigures {
            population: territory::french_number(report.population),
            size_category: report.size_category.number(),
            professionals,
            members,
            structures: state.missions.directory.count_structures(&caller).await?,
        })
    } else {
        None
    };
    Ok(render(&DashboardPage {
        layout: Layout::in_cpts(&viewer, &context, context.cpts.name.clone(), "tableau"),
        cpts_name: context.cpts.name.clone(),
        slug: context.cpts.slug.clone(),
        role_label: context.role.label(),
        finess: context.cpts.finess.clone(),
        missions: registry::menu(context.role),
        figures,
        overdue_requests: doctor_search::overdue_count(&state, &caller).await?,
        to_do: {
            let mut items = doctor_search::to_do(&state, &caller, &context.cpts.slug).await?;
            items.extend(unscheduled_care::to_do(&state, &caller, &context.cpts.slug).await?);
            items.extend(pathway_patients::to_do(&state, &caller, &context.cpts.slug).await?);
            // Late first, each mission's order kept.
            items.sort_by_key(|item| !item.urgent);
            items
        },
        practises: caller.professional().is_some()
            && allows(context.role, Permission::DeclareCapacity),
    }))
}

#[derive(Template)]
#[template(path = "mission_placeholder.html")]
struct PlaceholderPage {
    layout: Layout,
    label: &'static str,
    summary: &'static str,
    slug: String,
}

fn placeholder(viewer: Viewer, context: CptsContext, mission: &'static Mission) -> Response {
    render(&PlaceholderPage {
        layout: Layout::in_cpts(&viewer, &context, mission.label, mission.slug),
        label: mission.label,
        summary: mission.summary,
        slug: context.cpts.slug.clone(),
    })
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    slug: String,
    mfa_required: bool,
    /// As typed when refused, else the saved number grouped.
    contact_phone: String,
    errors: Vec<String>,
    /// The coordination receives the GPs' answers each morning by e-mail.
    answer_digest: bool,
    /// What became of the last digests.
    digests: Vec<crate::views::MessageRow>,
}

#[derive(Deserialize, Default)]
struct SettingsQuery {
    #[serde(default)]
    fait: String,
}

/// The coordination's phone as the settings show it (grouped), or empty.
fn shown_contact_phone(context: &CptsContext) -> String {
    crate::views::phone_link(&context.cpts.contact_phone)
        .map(|p| p.shown)
        .unwrap_or_default()
}

/// The settings page, with the phone as saved or as typed when refused, and the refusals.
async fn settings_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    contact_phone: String,
    errors: Vec<String>,
) -> WebResult<SettingsPage> {
    let digest = state.missions.doctor_search.answer_digest(caller).await?;
    Ok(SettingsPage {
        layout: Layout::in_cpts(viewer, context, "Paramètres de la CPTS", "parametres"),
        slug: context.cpts.slug.clone(),
        mfa_required: context.cpts.mfa_required,
        contact_phone,
        errors,
        answer_digest: digest.enabled,
        digests: digest
            .deliveries
            .iter()
            .map(crate::views::message_row)
            .collect(),
    })
}

async fn settings(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    crate::access::Authorised(caller): crate::access::Authorised,
    crate::forms::Query(query): crate::forms::Query<SettingsQuery>,
) -> WebResult<Response> {
    let mut page = settings_page(
        &state,
        &viewer,
        &context,
        &caller,
        shown_contact_phone(&context),
        Vec::new(),
    )
    .await?;
    page.layout = page
        .layout
        .with_notice((query.fait == "1").then(|| "Paramètres enregistrés.".to_string()));
    Ok(render(&page))
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    mfa_required: Option<String>,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    answer_digest: Option<String>,
}

async fn save_settings(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    crate::access::Authorised(caller): crate::access::Authorised,
    Form(form): Form<SettingsForm>,
) -> WebResult<Response> {
    // The phone first: refused, nothing is written and the page says which field.
    if form.contact_phone.trim() != shown_contact_phone(&context) {
        if let Err(error) = state
            .missions
            .directory
            .set_contact_phone(&caller, &form.contact_phone)
            .await
        {
            let maillage_app::directory::pages::DirectoryError::Invalid(problem) = error else {
                return Err(error.into());
            };
            let page = settings_page(
                &state,
                &viewer,
                &context,
                &caller,
                form.contact_phone.clone(),
                vec![problem.to_string()],
            )
            .await?;
            return Ok(crate::views::render_form(&page, true));
        }
    }
    let required = form.mfa_required.is_some();
    if required != context.cpts.mfa_required {
        state
            .missions
            .directory
            .set_mfa_required(&caller, required)
            .await?;
    }
    let digest = form.answer_digest.is_some();
    let service = &state.missions.doctor_search;
    if digest != service.answer_digest(&caller).await?.enabled {
        service.set_answer_digest(&caller, digest).await?;
    }
    Ok(Redirect::to(&format!("/c/{}/parametres?fait=1", context.cpts.slug)).into_response())
}

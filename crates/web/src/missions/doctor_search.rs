//! Access to a médecin traitant: the requests (intake by the secretary, partners, the public form and lists),
//! their page and workflow, GPs' room ("ma capacité" in two clicks), the matching and its proposals, the
//! GP's answer by link, the indicators and the priority rules.

use super::directory::{commune_name, pair_choices, parse_id, territory_choices, Choice};
use crate::access::{Access, Actor, Authorised, CptsContext, CurrentUser, GuardedRouter, Viewer};
use crate::charts::french_decimal;
use crate::error::{WebError, WebResult};
use crate::export::csv_download;
use crate::forms::{Form, FormPairs, Query};
use crate::views::{lookahead, paginate, render, render_form, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::{date_text, day_start_ms, french_date, now_ms, year_of, DAY_MS};
use maillage_app::doctor_search::{request_list_template, Origin, ProposalAnswer, RequestFields};
use maillage_app::export::Cell;
use maillage_domain::authz::{allows, Permission};
use maillage_domain::doctor_search::{
    decline_reason_label, median, redirection_label, Channel, ConsentBy, Criterion, PriorityRules,
    RequestState, AGE_GROUPS, CONSENT_TEXT, DECLINE_REASONS, REDIRECTIONS,
};
use maillage_domain::ValidationError;
use maillage_store::{
    DoctorRequest, GpCapacity, Page, ProposalStatus, ProposalView, RequestFilter,
};
use serde::Deserialize;
use uuid::Uuid;

const BASE: &str = "medecin-traitant";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/medecin-traitant",
            Access::Cpts(Permission::ViewDashboard),
            "Accès à un médecin traitant : demandes (ou, selon le rôle, adressages et capacité)",
            home,
        )
        .get(
            "/c/{cpts}/medecin-traitant/nouvelle",
            Access::Cpts(Permission::SubmitReferral),
            "Formulaire d'une nouvelle demande (appel, adressage)",
            new_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/nouvelle",
            Access::Cpts(Permission::SubmitReferral),
            "Enregistrement d'une demande (appel, adressage)",
            create,
        )
        .get(
            "/c/{cpts}/medecin-traitant/adressages",
            Access::Cpts(Permission::SubmitReferral),
            "Suivi de mes adressages",
            referrals,
        )
        .get(
            "/c/{cpts}/medecin-traitant/demandes/{id}",
            Access::Cpts(Permission::ViewPatientRequests),
            "Page d'une demande (identité déchiffrée, historique)",
            show,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/etat",
            Access::Cpts(Permission::ViewPatientRequests),
            "Changement d'état d'une demande",
            change_state,
        )
        .get(
            "/c/{cpts}/medecin-traitant/demandes/{id}/modifier",
            Access::Cpts(Permission::ViewPatientRequests),
            "Formulaire de modification d'une demande",
            edit_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/modifier",
            Access::Cpts(Permission::ViewPatientRequests),
            "Modification d'une demande",
            save_edit,
        )
        .post(
            "/c/{cpts}/medecin-traitant/demandes/{id}/proposer",
            Access::Cpts(Permission::RunMatching),
            "Proposition d'une demande à un médecin choisi",
            propose_by_hand,
        )
        .get(
            "/c/{cpts}/medecin-traitant/import",
            Access::Cpts(Permission::ViewPatientRequests),
            "Import d'une liste (CPAM, médecin qui part)",
            import_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/import",
            Access::Cpts(Permission::ViewPatientRequests),
            "Import d'une liste de patients sans médecin traitant",
            import,
        )
        .get(
            "/c/{cpts}/medecin-traitant/import/{id}",
            Access::Cpts(Permission::ViewPatientRequests),
            "Suivi de l'import d'une liste de patients",
            import_progress,
        )
        .get(
            "/c/{cpts}/medecin-traitant/import/{id}/etat",
            Access::Cpts(Permission::ViewPatientRequests),
            "État de l'import d'une liste (fragment rafraîchi)",
            import_progress_fragment,
        )
        .get(
            "/c/{cpts}/medecin-traitant/modele.csv",
            Access::Cpts(Permission::ViewPatientRequests),
            "Modèle CSV des listes de patients",
            template_csv,
        )
        .get(
            "/c/{cpts}/medecin-traitant/appariement",
            Access::Cpts(Permission::RunMatching),
            "Appariement : propositions à revoir et envoyées",
            matching_page,
        )
        .post(
            "/c/{cpts}/medecin-traitant/appariement",
            Access::Cpts(Permission::RunMatching),
            "Lancement de l'appariement",
            run_matching,
        )
        .post(
            "/c/{cpts}/medecin-traitant/appariement/envoyer",
            Access::Cpts(Permission::RunMatching),
            "Envoi des propositions aux médecins",
            send_proposals,
        )
        .post(
            "/c/{cpts}/medecin-traitant/appariement/{id}",
            Access::Cpts(Permission::RunMatching),
            "Modification d'une proposition avant envoi",
            override_proposal,
        )
        .get(
            "/c/{cpts}/medecin-traitant/capacites",
            Access::Cpts(Permission::RunMatching),
            "Places déclarées par les médecins",
            capacities,
        )
        .post(
            "/c/{cpts}/medecin-traitant/capacites",
            Access::Cpts(Permission::RunMatching),
            "Déclaration des places d'un médecin par la coordination",
            declare_for_gp,
        )
        .get(
            "/c/{cpts}/ma-capacite",
            Access::Cpts(Permission::DeclareCapacity),
            "Mes places pour de nouveaux patients",
            my_capacity,
        )
        .post(
            "/c/{cpts}/ma-capacite",
            Access::Cpts(Permission::DeclareCapacity),
            "Déclaration de mes places pour de nouveaux patients",
            save_my_capacity,
        )
        .get(
            "/c/{cpts}/medecin-traitant/indicateurs",
            Access::Cpts(Permission::RunMatching),
            "Indicateurs de la mission médecin traitant",
            indicators,
        )
        .get(
            "/c/{cpts}/medecin-traitant/indicateurs.csv",
            Access::Cpts(Permission::RunMatching),
            "Export CSV des indicateurs médecin traitant",
            indicators_csv,
        )
        .get(
            "/c/{cpts}/medecin-traitant/indicateurs.xlsx",
            Access::Cpts(Permission::RunMatching),
            "Export Excel des indicateurs médecin traitant",
            indicators_xlsx,
        )
        .get(
            "/c/{cpts}/medecin-traitant/regles",
            Access::Cpts(Permission::ManageCpts),
            "Règles de priorité",
            rules_form,
        )
        .post(
            "/c/{cpts}/medecin-traitant/regles",
            Access::Cpts(Permission::ManageCpts),
            "Modification des règles de priorité",
            save_rules,
        )
        .get(
            "/demande-medecin/{slug}",
            Access::Public,
            "Formulaire public de demande de médecin traitant",
            public_form,
        )
        .post(
            "/demande-medecin/{slug}",
            Access::Public,
            "Envoi d'une demande de médecin traitant par le public",
            public_submit,
        )
        .get(
            "/proposition/{token}",
            Access::Public,
            "Proposition d'un patient à un médecin (lien reçu par e-mail)",
            proposal_page,
        )
        .post(
            "/proposition/{token}",
            Access::Public,
            "Réponse d'un médecin à une proposition",
            answer_proposal,
        )
}

// --- Shared pieces --------------------------------------------------------------------------------------

pub struct CriterionChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

fn criterion_choices(checked: &[String]) -> Vec<CriterionChoice> {
    Criterion::ALL
        .into_iter()
        .map(|c| CriterionChoice {
            code: c.code(),
            label: c.label(),
            checked: checked.iter().any(|x| x == c.code()),
        })
        .collect()
}

fn consent_choices(selected: &str) -> Vec<Choice> {
    ConsentBy::ALL
        .into_iter()
        .map(|c| Choice {
            code: c.code().to_string(),
            label: format!("Par {}", c.label()),
            selected: c.code() == selected,
        })
        .collect()
}

fn duration_text(ms: i64) -> String {
    let days = ms.max(0) / DAY_MS;
    match days {
        0 => "moins d'un jour".into(),
        1 => "1 jour".into(),
        d => format!("{d} jours"),
    }
}

fn channel_label(code: &str) -> &'static str {
    Channel::parse(code).map(Channel::label).unwrap_or("Autre")
}

/// A request as lists show it: no identity.
pub struct RequestRow {
    pub id: String,
    pub received: String,
    pub channel: &'static str,
    pub referrer: String,
    pub commune: String,
    pub age: i64,
    pub priority: i64,
    pub reasons: String,
    pub state: &'static str,
    pub in_state: String,
    pub overdue: bool,
}

fn row_view(r: &DoctorRequest, now: i64) -> RequestRow {
    RequestRow {
        id: r.id.to_string(),
        received: french_date(r.received_at),
        channel: channel_label(&r.channel),
        referrer: r.referrer.clone(),
        commune: commune_name(&r.commune_code),
        age: r.age_at_request,
        priority: r.priority,
        reasons: r.priority_reasons.clone(),
        state: r.state.label(),
        in_state: duration_text(now - r.state_since),
        overdue: r.state.is_overdue(r.state_since, now),
    }
}

// --- The list ---------------------------------------------------------------------------------------------

pub struct StateCount {
    pub code: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "doctor_requests.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    counts: Vec<StateCount>,
    overdue: i64,
    overdue_only: bool,
    rows: Vec<RequestRow>,
    pager: Pager,
    can_match: bool,
    notice_public_url: String,
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    etat: String,
    #[serde(default)]
    retard: String,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

async fn home(
    state: State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    caller: Authorised,
    params: Query<ListParams>,
) -> WebResult<Response> {
    if allows(context.role, Permission::ViewPatientRequests) {
        return list(state, viewer, context, caller, params).await;
    }
    // Each role finds its own part of the mission under the menu entry.
    let State(state) = state;
    if allows(context.role, Permission::SubmitReferral) {
        return referrals(
            State(state),
            viewer,
            context,
            caller,
            Query(NoticeParams::default()),
        )
        .await;
    }
    if allows(context.role, Permission::DeclareCapacity) {
        return my_capacity_page(&state, &viewer, &context, &caller.0, Vec::new(), None).await;
    }
    Err(WebError::forbidden())
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<ListParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let now = now_ms();
    let selected = RequestState::parse(&params.etat);
    let overdue_only = !params.retard.is_empty();
    let filter = RequestFilter {
        states: match selected {
            Some(s) => vec![s],
            // By default the work to do: every open request.
            None => RequestState::ALL
                .into_iter()
                .filter(|s| !s.is_final())
                .collect(),
        },
        referrer: None,
        overdue_at: overdue_only.then_some(now),
    };
    let service = &state.doctor_search;
    let rows = service
        .list_requests(
            &caller,
            &filter,
            lookahead(number, PAGE_SIZE),
            serde_json::json!({ "page": number, "state": params.etat }),
        )
        .await?;
    let base = format!(
        "/c/{}/{BASE}?etat={}&retard={}",
        context.cpts.slug,
        selected.map(RequestState::code).unwrap_or_default(),
        if overdue_only { "1" } else { "" }
    );
    let (rows, pager) = paginate(rows, &base, number, PAGE_SIZE);
    let by_state = service.counts_by_state(&caller).await?;
    let counts = RequestState::ALL
        .into_iter()
        .map(|s| StateCount {
            code: s.code(),
            label: s.label(),
            count: by_state
                .iter()
                .find(|(x, _)| *x == s)
                .map(|(_, n)| *n)
                .unwrap_or(0),
            selected: selected == Some(s),
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::in_cpts(&viewer, &context, "Demandes de médecin traitant", BASE),
        slug: context.cpts.slug.clone(),
        counts,
        overdue: service.overdue_count(&caller, now).await?,
        overdue_only,
        rows: rows.iter().map(|r| row_view(r, now)).collect(),
        pager,
        can_match: allows(context.role, Permission::RunMatching),
        notice_public_url: format!(
            "{}/demande-medecin/{}",
            state.config.server.base_url(),
            context.cpts.slug
        ),
    }))
}

// --- Intake -----------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "doctor_request_form.html")]
struct RequestFormPage {
    layout: Layout,
    title: String,
    action: String,
    back: String,
    /// The secretary chooses the channel and names the referrer; a partner is the referrer.
    choose_channel: bool,
    editing: bool,
    form: RequestFields,
    referrer: String,
    channels: Vec<Choice>,
    communes: Vec<Choice>,
    criteria: Vec<CriterionChoice>,
    consents: Vec<Choice>,
    consent_text: &'static str,
    errors: Vec<ValidationError>,
}

/// Fields of the professionals' form: the request's, plus channel and referrer.
#[derive(Default)]
struct IntakeForm {
    fields: RequestFields,
    channel: String,
    referrer: String,
}

fn request_fields(form: &FormPairs) -> RequestFields {
    RequestFields {
        family_name: form.text("family_name"),
        given_names: form.text("given_names"),
        birth_date: form.text("birth_date"),
        commune: form.text("commune"),
        phone: form.text("phone"),
        email: form.text("email"),
        address: form.text("address"),
        criteria: form.all("criteria"),
        note: form.text("note"),
        consent_by: form.text("consent_by"),
        consent: form.optional("consent"),
    }
}

impl IntakeForm {
    fn read(form: &FormPairs) -> Self {
        Self {
            fields: request_fields(form),
            channel: form.text("channel"),
            referrer: form.text("referrer"),
        }
    }
}

fn channel_choices(selected: &str) -> Vec<Choice> {
    [
        Channel::Phone,
        Channel::Partner,
        Channel::CpamList,
        Channel::RetiringGpList,
    ]
    .into_iter()
    .map(|c| Choice {
        code: c.code().to_string(),
        label: c.label().to_string(),
        selected: c.code() == selected,
    })
    .collect()
}

#[allow(clippy::too_many_arguments)]
async fn intake_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    form: IntakeForm,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = &context.cpts.slug;
    let secretary = allows(context.role, Permission::ViewPatientRequests);
    let has_errors = !errors.is_empty();
    let page = RequestFormPage {
        layout: Layout::in_cpts(
            viewer,
            context,
            "Nouvelle demande de médecin traitant",
            BASE,
        ),
        title: if secretary {
            "Nouvelle demande".into()
        } else {
            "Adresser un patient sans médecin traitant".into()
        },
        action: format!("/c/{slug}/{BASE}/nouvelle"),
        back: if secretary {
            format!("/c/{slug}/{BASE}")
        } else {
            format!("/c/{slug}/{BASE}/adressages")
        },
        choose_channel: secretary,
        editing: false,
        communes: territory_choices(state, context.cpts.id, &form.fields.commune).await?,
        criteria: criterion_choices(&form.fields.criteria),
        consents: consent_choices(&form.fields.consent_by),
        channels: channel_choices(if form.channel.is_empty() {
            "phone"
        } else {
            &form.channel
        }),
        referrer: form.referrer,
        form: form.fields,
        consent_text: CONSENT_TEXT,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
) -> WebResult<Response> {
    intake_page(&state, &viewer, &context, IntakeForm::default(), Vec::new()).await
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = IntakeForm::read(&pairs);
    let secretary = allows(context.role, Permission::ViewPatientRequests);
    let mut errors = Vec::new();
    let channel = if secretary {
        match Channel::parse(&form.channel) {
            Some(channel) if channel != Channel::WebForm => Some(channel),
            _ => {
                errors.push(ValidationError::new(
                    "Canal",
                    "choisissez comment la demande est arrivée",
                ));
                None
            }
        }
    } else {
        Some(Channel::Partner)
    };
    if form.referrer.chars().count() > 200 {
        errors.push(ValidationError::new(
            "Adressé par",
            "200 caractères au plus",
        ));
    }
    let input = match form.fields.parse(&date_text(now_ms())) {
        Ok(input) => Some(input),
        Err(problems) => {
            errors.extend(problems);
            None
        }
    };
    let (Some(channel), Some(input), true) = (channel, input, errors.is_empty()) else {
        return intake_page(&state, &viewer, &context, form, errors).await;
    };
    let referrer = if secretary {
        form.referrer.trim().to_string()
    } else if form.referrer.trim().is_empty() {
        user.user.display_name.clone()
    } else {
        format!("{} — {}", user.user.display_name, form.referrer.trim())
    };
    let origin = Origin {
        channel,
        referrer,
        referrer_user: (!secretary).then_some(user.user.id),
        consent_method: if secretary {
            format!(
                "recueilli oralement ou par écrit, saisi par {}",
                user.user.display_name
            )
        } else {
            format!("recueilli par le partenaire {}", user.user.display_name)
        },
        recorded_by: Some(user.user.id),
    };
    let submitted = state.doctor_search.submit(&caller, &input, &origin).await?;
    let slug = &context.cpts.slug;
    let target = if secretary {
        format!(
            "/c/{slug}/{BASE}/demandes/{}?{}",
            submitted.id,
            if submitted.merged {
                "fusion=1"
            } else {
                "nouvelle=1"
            }
        )
    } else {
        format!(
            "/c/{slug}/{BASE}/adressages?{}",
            if submitted.merged {
                "fusion=1"
            } else {
                "nouvelle=1"
            }
        )
    };
    Ok(Redirect::to(&target).into_response())
}

// --- A partner's referrals ---------------------------------------------------------------------------------

pub struct ReferralRow {
    pub received: String,
    pub commune: String,
    pub state: &'static str,
    pub since: String,
}

#[derive(Template)]
#[template(path = "doctor_referrals.html")]
struct ReferralsPage {
    layout: Layout,
    slug: String,
    rows: Vec<ReferralRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
struct NoticeParams {
    #[serde(default)]
    nouvelle: String,
    #[serde(default)]
    fusion: String,
    page: Option<i64>,
}

impl NoticeParams {
    fn notice(&self) -> Option<String> {
        if !self.fusion.is_empty() {
            Some(
                "Cette personne avait déjà une demande en cours : les deux ont été réunies.".into(),
            )
        } else if !self.nouvelle.is_empty() {
            Some("Demande enregistrée.".into())
        } else {
            None
        }
    }
}

async fn referrals(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    let rows = state
        .doctor_search
        .my_referrals(&caller, lookahead(number, PAGE_SIZE))
        .await?;
    let (rows, pager) = paginate(
        rows,
        &format!("/c/{}/{BASE}/adressages", context.cpts.slug),
        number,
        PAGE_SIZE,
    );
    Ok(render(&ReferralsPage {
        layout: Layout::in_cpts(&viewer, &context, "Mes adressages", BASE)
            .with_notice(params.notice()),
        slug: context.cpts.slug.clone(),
        rows: rows
            .iter()
            .map(|r| ReferralRow {
                received: french_date(r.received_at),
                commune: commune_name(&r.commune_code),
                state: r.state.label(),
                since: french_date(r.state_since),
            })
            .collect(),
        pager,
    }))
}

// --- A request's page ----------------------------------------------------------------------------------------

pub struct EventRow {
    pub at: String,
    pub what: String,
    pub lasted: String,
}

pub struct ProposalRow {
    pub doctor: String,
    pub status: &'static str,
    pub distance: String,
    pub explanation: String,
    pub answer: String,
}

fn proposal_status_label(status: &ProposalStatus) -> &'static str {
    match status {
        ProposalStatus::Draft => "à envoyer",
        ProposalStatus::Sent => "envoyée, sans réponse",
        ProposalStatus::Accepted => "acceptée",
        ProposalStatus::Declined => "refusée",
        ProposalStatus::Cancelled => "annulée",
    }
}

fn proposal_row(view: &ProposalView) -> ProposalRow {
    let p = &view.proposal;
    ProposalRow {
        doctor: view.doctor_name.clone(),
        status: proposal_status_label(&p.status),
        distance: format!("{} km", french_decimal(p.distance_m as f64 / 1000.0)),
        explanation: p.explanation.clone(),
        answer: decline_reason_label(&p.decline_reason)
            .unwrap_or_default()
            .to_string(),
    }
}

#[derive(Template)]
#[template(path = "doctor_request.html")]
struct RequestPage {
    layout: Layout,
    slug: String,
    id: String,
    row: RequestRow,
    identity: Option<maillage_app::crypto::PatientIdentity>,
    /// DD/MM/YYYY.
    birth_date: String,
    criteria: Vec<&'static str>,
    consent: String,
    outcome: String,
    submissions: i64,
    anonymised: bool,
    next_states: Vec<Choice>,
    decline_reasons: Vec<Choice>,
    redirections: Vec<Choice>,
    events: Vec<EventRow>,
    proposals: Vec<ProposalRow>,
    doctors: Vec<Choice>,
    can_match: bool,
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let request = state.doctor_search.request(&caller, parse_id(&id)?).await?;
    let identity = state
        .doctor_search
        .identity(&caller, &request, "suivi de la demande de médecin traitant")
        .await?;
    if identity.is_none() {
        state.doctor_search.record_view(&caller, &request).await?;
    }
    let now = now_ms();
    let events = state.doctor_search.events(&caller, request.id).await?;
    let mut rows = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        // Time in each state: until the next change of state, or now for the current one.
        let until = events[index + 1..]
            .iter()
            .find(|e| e.kind == "state")
            .map(|e| e.at)
            .unwrap_or(now);
        let what = match event.kind.as_str() {
            "created" => format!("Reçue ({})", event.detail),
            "merged" => format!(
                "Nouvelle demande de la même personne réunie à celle-ci ({})",
                event.detail
            ),
            "edited" => "Informations corrigées".to_string(),
            "notified" => format!(
                "Patient prévenu ({})",
                event.detail.trim_start_matches("patient prévenu par ")
            ),
            _ => {
                let label = RequestState::parse(&event.to_state)
                    .map(RequestState::label)
                    .unwrap_or_default();
                if event.detail.is_empty() {
                    format!("→ {label}")
                } else {
                    format!("→ {label} ({})", outcome_text(&event.detail))
                }
            }
        };
        let changes_state = matches!(event.kind.as_str(), "created" | "state");
        rows.push(EventRow {
            at: french_date(event.at),
            what,
            lasted: if changes_state {
                duration_text(until - event.at)
            } else {
                String::new()
            },
        });
    }
    let proposals = state
        .doctor_search
        .proposals_of(&caller, request.id)
        .await?;
    let can_match = allows(context.role, Permission::RunMatching);
    let doctors = if can_match && request.state.is_waiting_for_a_doctor() {
        state
            .doctor_search
            .capacities(&caller, Page::first(Page::MAX_LIMIT))
            .await?
            .into_iter()
            .map(|c| Choice {
                code: c.capacity.professional_id.to_string(),
                label: format!(
                    "Dr {} — {} — {} place(s)",
                    c.name,
                    commune_name(&c.commune_code),
                    c.capacity.now_capacity - c.pending
                ),
                selected: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(render(&RequestPage {
        layout: Layout::in_cpts(&viewer, &context, "Demande de médecin traitant", BASE)
            .with_notice(params.notice()),
        slug: context.cpts.slug.clone(),
        id: request.id.to_string(),
        row: row_view(&request, now),
        birth_date: identity
            .as_ref()
            .map(|p| crate::views::french_day(&p.birth_date))
            .unwrap_or_default(),
        identity,
        criteria: Criterion::ALL
            .into_iter()
            .filter(|c| request.criteria.has(*c))
            .map(Criterion::label)
            .collect(),
        consent: format!(
            "Donné par {} le {} — {}",
            ConsentBy::parse(&request.consent_by)
                .map(ConsentBy::label)
                .unwrap_or("le patient"),
            french_date(request.consent_at),
            request.consent_method
        ),
        outcome: outcome_text(&request.outcome),
        submissions: request.submissions,
        anonymised: request.anonymised_at.is_some(),
        next_states: request
            .state
            .next_states()
            .iter()
            .filter(|s| **s != RequestState::Proposed)
            .map(|s| Choice {
                code: s.code().to_string(),
                label: s.label().to_string(),
                selected: false,
            })
            .collect(),
        decline_reasons: pair_choices(&DECLINE_REASONS, ""),
        redirections: pair_choices(&REDIRECTIONS, ""),
        events: rows,
        proposals: proposals.iter().map(proposal_row).collect(),
        doctors,
        can_match,
    }))
}

fn outcome_text(code: &str) -> String {
    decline_reason_label(code)
        .or_else(|| redirection_label(code))
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

#[derive(Deserialize)]
struct StateForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    redirection: String,
    #[serde(default)]
    note: String,
}

async fn change_state(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<StateForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let to = RequestState::parse(&form.to).ok_or_else(|| {
        WebError::BadRequest("Nouvel état : choisissez un état de la liste.".into())
    })?;
    let outcome = match to {
        RequestState::Declined => {
            if decline_reason_label(&form.reason).is_none() {
                return Err(WebError::BadRequest(
                    "Raison du refus : choisissez une raison de la liste.".into(),
                ));
            }
            form.reason.clone()
        }
        RequestState::Redirected => {
            if redirection_label(&form.redirection).is_none() {
                return Err(WebError::BadRequest(
                    "Réorientée vers : choisissez une destination de la liste.".into(),
                ));
            }
            form.redirection.clone()
        }
        _ => {
            if form.note.chars().count() > 200 {
                return Err(WebError::BadRequest(
                    "Commentaire : 200 caractères au plus.".into(),
                ));
            }
            form.note.trim().to_string()
        }
    };
    state
        .doctor_search
        .change_state(&caller, id, to, &outcome)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}/demandes/{id}", context.cpts.slug)).into_response())
}

async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let request = state.doctor_search.request(&caller, parse_id(&id)?).await?;
    let identity = state
        .doctor_search
        .identity(&caller, &request, "correction de la demande")
        .await?
        .ok_or_else(|| WebError::Conflict("Cette demande est anonymisée.".into()))?;
    let birth = identity.birth_date.clone();
    let fields = RequestFields {
        family_name: identity.family_name,
        given_names: identity.given_names,
        birth_date: birth,
        commune: request.commune_code.clone(),
        phone: identity.phone.unwrap_or_default(),
        email: identity.email.unwrap_or_default(),
        address: identity.address.unwrap_or_default(),
        criteria: request
            .criteria
            .codes()
            .into_iter()
            .map(str::to_string)
            .collect(),
        note: identity.note.unwrap_or_default(),
        consent_by: request.consent_by.clone(),
        consent: Some("oui".into()),
    };
    edit_page(&state, &viewer, &context, &request.id, fields, Vec::new()).await
}

async fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    id: &Uuid,
    form: RequestFields,
    errors: Vec<ValidationError>,
) -> WebResult<Response> {
    let slug = &context.cpts.slug;
    let has_errors = !errors.is_empty();
    let page = RequestFormPage {
        layout: Layout::in_cpts(viewer, context, "Corriger une demande", BASE),
        title: "Corriger la demande".into(),
        action: format!("/c/{slug}/{BASE}/demandes/{id}/modifier"),
        back: format!("/c/{slug}/{BASE}/demandes/{id}"),
        choose_channel: false,
        editing: true,
        communes: territory_choices(state, context.cpts.id, &form.commune).await?,
        criteria: criterion_choices(&form.criteria),
        consents: consent_choices(&form.consent_by),
        channels: Vec::new(),
        referrer: String::new(),
        form,
        consent_text: CONSENT_TEXT,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn save_edit(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let mut form = request_fields(&pairs);
    let id = parse_id(&id)?;
    // Consent was recorded at intake; a correction does not ask for it again.
    form.consent = Some("oui".into());
    match form.parse(&date_text(now_ms())) {
        Ok(input) => {
            state
                .doctor_search
                .update_details(&caller, id, &input)
                .await?;
            Ok(
                Redirect::to(&format!("/c/{}/{BASE}/demandes/{id}", context.cpts.slug))
                    .into_response(),
            )
        }
        Err(errors) => edit_page(&state, &viewer, &context, &id, form, errors).await,
    }
}

#[derive(Deserialize)]
struct ProposeForm {
    #[serde(default)]
    professional: String,
}

async fn propose_by_hand(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<ProposeForm>,
) -> WebResult<Response> {
    let request = state.doctor_search.request(&caller, parse_id(&id)?).await?;
    let professional = Uuid::parse_str(form.professional.trim())
        .map_err(|_| WebError::BadRequest("Médecin : choisissez un médecin de la liste.".into()))?;
    if state
        .doctor_search
        .capacity_of(&caller, professional)
        .await?
        .is_none()
    {
        return Err(WebError::BadRequest(
            "Médecin : ce médecin n'a pas déclaré de places.".into(),
        ));
    }
    state
        .doctor_search
        .propose_by_hand(&caller, &request, professional)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}/appariement", context.cpts.slug)).into_response())
}

// --- Lists from the CPAM or a retiring GP --------------------------------------------------------------------

pub struct RejectedLine {
    pub line: usize,
    pub field: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "doctor_import.html")]
struct ImportPage {
    can_match: bool,
    layout: Layout,
    slug: String,
    channels: Vec<Choice>,
    referrer: String,
    error: Option<String>,
}

async fn import_form(viewer: Viewer, context: CptsContext) -> Response {
    render(&ImportPage {
        layout: Layout::in_cpts(&viewer, &context, "Importer une liste de patients", BASE),
        can_match: allows(context.role, Permission::RunMatching),
        slug: context.cpts.slug.clone(),
        channels: list_channels("cpam_list"),
        referrer: String::new(),
        error: None,
    })
}

fn list_channels(selected: &str) -> Vec<Choice> {
    [Channel::CpamList, Channel::RetiringGpList]
        .into_iter()
        .map(|c| Choice {
            code: c.code().to_string(),
            label: c.label().to_string(),
            selected: c.code() == selected,
        })
        .collect()
}

/// Largest list accepted: lists are a few hundred to a few thousand lines.
const LIST_LIMIT: usize = 5 * 1024 * 1024;

/// Reads the multipart form: `channel`, `referrer` and the `file` (held in memory, at most [`LIST_LIMIT`]).
async fn receive_list(
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<(String, String, String, String), String> {
    let malformed = || {
        "Le formulaire d'envoi est mal formé : choisissez un fichier puis recommencez.".to_string()
    };
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
    let mut multipart = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new()
            .size_limit(multer::SizeLimit::new().whole_stream(LIST_LIMIT as u64 + 64 * 1024)),
    );
    let too_large = |_| format!("Fichier : {} Mo au plus.", LIST_LIMIT / (1024 * 1024));
    let (mut channel, mut referrer, mut content) = (String::new(), String::new(), None);
    let mut file_name = String::from("liste.csv");
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        match field.name() {
            Some("channel") => channel = field.text().await.map_err(too_large)?,
            Some("referrer") => referrer = field.text().await.map_err(too_large)?,
            Some("file") => {
                if let Some(name) = field.file_name() {
                    file_name = name.chars().filter(|c| !c.is_control()).take(200).collect();
                }
                let bytes = field.bytes().await.map_err(too_large)?;
                if bytes.is_empty() {
                    return Err("Fichier : choisissez un fichier non vide.".into());
                }
                let text = match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => text,
                    // Excel's "CSV" without UTF-8 is Windows-1252: read it as Latin-1, which covers French letters.
                    Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
                };
                content = Some(text);
            }
            _ => {}
        }
    }
    let content =
        content.ok_or_else(|| "Fichier : choisissez un fichier à importer.".to_string())?;
    Ok((channel, referrer, file_name, content))
}

async fn import(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    headers: HeaderMap,
    body: axum::body::Body,
) -> WebResult<Response> {
    let mut page = ImportPage {
        layout: Layout::in_cpts(&viewer, &context, "Importer une liste de patients", BASE),
        can_match: allows(context.role, Permission::RunMatching),
        slug: context.cpts.slug.clone(),
        channels: list_channels("cpam_list"),
        referrer: String::new(),
        error: None,
    };
    let (channel_code, referrer, file_name, content) = match receive_list(&headers, body).await {
        Ok(received) => received,
        Err(message) => {
            page.error = Some(message);
            return Ok(render_form(&page, true));
        }
    };
    page.channels = list_channels(&channel_code);
    page.referrer = referrer.clone();
    let channel = Channel::parse(channel_code.trim())
        .filter(|c| matches!(c, Channel::CpamList | Channel::RetiringGpList));
    let Some(channel) = channel else {
        page.error = Some("Origine de la liste : choisissez une valeur de la liste.".into());
        return Ok(render_form(&page, true));
    };
    if referrer.trim().is_empty() || referrer.chars().count() > 200 {
        page.error = Some(
            "Envoyée par : nommez qui a envoyé la liste (200 caractères au plus), par exemple « CPAM du Gard »."
                .into(),
        );
        return Ok(render_form(&page, true));
    }
    let origin = Origin {
        channel,
        referrer: referrer.trim().to_string(),
        referrer_user: None,
        consent_method: format!(
            "recueilli par l'expéditeur de la liste ({}), importé par {}",
            referrer.trim(),
            user.user.display_name
        ),
        recorded_by: Some(user.user.id),
    };
    // A wrong header is told at once; the lines are checked and recorded in the background.
    if let Err(problem) = maillage_app::doctor_search::parse_request_list(&content) {
        page.error = Some(format!("{} : {}", problem.field, problem.message));
        return Ok(render_form(&page, true));
    }
    let id = state
        .doctor_search
        .start_list_import(&caller, origin, &file_name, content)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}/import/{id}", context.cpts.slug)).into_response())
}

/// An import of a list as its page shows it.
pub struct ListRun {
    pub id: String,
    pub file_name: String,
    pub started: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub percent: i64,
    pub error: String,
    pub report: Option<maillage_app::doctor_search::ListReport>,
    pub rejected: Vec<RejectedLine>,
}

async fn list_run(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    id: &str,
) -> WebResult<ListRun> {
    let run = state
        .doctor_search
        .list_import(caller, parse_id(id)?)
        .await?;
    let status = maillage_app::imports::status_of(&run, now_ms());
    let report: Option<maillage_app::doctor_search::ListReport> = run
        .report
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    Ok(ListRun {
        id: run.id.to_string(),
        file_name: run.file_name.clone(),
        started: french_date(run.started_at),
        status,
        status_label: match status {
            "running" => "En cours",
            "done" => "Terminé",
            "interrupted" => "Interrompu (le serveur s'est arrêté pendant l'import)",
            _ => "Échec",
        },
        percent: if status == "done" {
            100
        } else {
            (run.bytes_done * 100 / run.bytes_total.max(1)).clamp(0, 100)
        },
        error: run.error.clone().unwrap_or_default(),
        rejected: report
            .as_ref()
            .map(|r| {
                r.rejected
                    .iter()
                    .take(500)
                    .map(|(line, field, message)| RejectedLine {
                        line: *line,
                        field: field.clone(),
                        message: message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        report,
    })
}

#[derive(Template)]
#[template(path = "doctor_import_progress.html")]
struct ListProgressPage {
    layout: Layout,
    can_match: bool,
    slug: String,
    run: ListRun,
}

#[derive(Template)]
#[template(path = "doctor_import_state.html")]
struct ListProgressFragment {
    slug: String,
    run: ListRun,
}

async fn import_progress(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let run = list_run(&state, &caller, &id).await?;
    Ok(render(&ListProgressPage {
        layout: Layout::in_cpts(&viewer, &context, "Import d'une liste de patients", BASE),
        can_match: allows(context.role, Permission::RunMatching),
        slug: context.cpts.slug.clone(),
        run,
    }))
}

async fn import_progress_fragment(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let run = list_run(&state, &caller, &id).await?;
    Ok(render(&ListProgressFragment {
        slug: context.cpts.slug.clone(),
        run,
    }))
}

async fn template_csv() -> Response {
    csv_download(
        "modele-liste-patients.csv",
        axum::body::Body::from(request_list_template()),
    )
}

// --- Matching --------------------------------------------------------------------------------------------------

pub struct DraftRow {
    pub id: String,
    pub request_id: String,
    pub commune: String,
    pub age: i64,
    pub priority: i64,
    pub doctor: String,
    pub distance: String,
    pub explanation: String,
    pub sent: String,
}

#[derive(Template)]
#[template(path = "doctor_matching.html")]
struct MatchingPage {
    can_match: bool,
    layout: Layout,
    slug: String,
    drafts: Vec<DraftRow>,
    sent: Vec<DraftRow>,
    doctors: Vec<Choice>,
    waiting: i64,
    max_distance: String,
}

fn draft_row(view: &ProposalView) -> DraftRow {
    let p = &view.proposal;
    DraftRow {
        id: p.id.to_string(),
        request_id: p.request_id.to_string(),
        commune: commune_name(&view.request_commune),
        age: view.age_at_request,
        priority: p.priority,
        doctor: view.doctor_name.clone(),
        distance: format!("{} km", french_decimal(p.distance_m as f64 / 1000.0)),
        explanation: p.explanation.clone(),
        sent: p.sent_at.map(french_date).unwrap_or_default(),
    }
}

#[derive(Deserialize, Default)]
struct MatchingParams {
    #[serde(default)]
    resultat: String,
    #[serde(default)]
    envoyees: String,
}

async fn matching_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<MatchingParams>,
) -> WebResult<Response> {
    let service = &state.doctor_search;
    let drafts = service
        .proposals(
            &caller,
            &ProposalStatus::Draft,
            Page::first(Page::MAX_LIMIT),
        )
        .await?;
    let sent = service
        .proposals(&caller, &ProposalStatus::Sent, Page::first(Page::MAX_LIMIT))
        .await?;
    let doctors = service
        .capacities(&caller, Page::first(Page::MAX_LIMIT))
        .await?
        .into_iter()
        .map(|c| Choice {
            code: c.capacity.professional_id.to_string(),
            label: format!("Dr {} — {}", c.name, commune_name(&c.commune_code)),
            selected: false,
        })
        .collect();
    let waiting = service
        .counts_by_state(&caller)
        .await?
        .into_iter()
        .filter(|(s, _)| s.is_waiting_for_a_doctor())
        .map(|(_, n)| n)
        .sum();
    let notice = if !params.resultat.is_empty() {
        Some(params.resultat.chars().take(300).collect())
    } else if !params.envoyees.is_empty() {
        Some(format!(
            "{} proposition(s) envoyée(s) aux médecins.",
            params.envoyees.chars().take(6).collect::<String>()
        ))
    } else {
        None
    };
    Ok(render(&MatchingPage {
        layout: Layout::in_cpts(&viewer, &context, "Appariement", BASE).with_notice(notice),
        can_match: true,
        slug: context.cpts.slug.clone(),
        drafts: drafts.iter().map(draft_row).collect(),
        sent: sent.iter().map(draft_row).collect(),
        doctors,
        waiting,
        max_distance: "30".into(),
    }))
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    max_distance_km: String,
}

async fn run_matching(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Form(form): Form<RunForm>,
) -> WebResult<Response> {
    let max_km: f64 = match form.max_distance_km.trim().replace(',', ".").parse::<f64>() {
        Ok(km) if (1.0..=200.0).contains(&km) => km,
        _ => {
            return Err(WebError::BadRequest(
                "Distance maximale : un nombre de kilomètres entre 1 et 200.".into(),
            ))
        }
    };
    let summary = state.doctor_search.run_matching(&caller, max_km).await?;
    let message = format!(
        "Appariement : {} demande(s) en attente, {} médecin(s) avec des places ; {} proposition(s) à revoir, {} demande(s) sans médecin à portée. Poids total {} ; distance totale {} km.",
        summary.requests,
        summary.doctors,
        summary.proposed,
        summary.unassigned,
        summary.total_weight,
        french_decimal(summary.total_distance_km)
    );
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("resultat", &message)
        .finish();
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/appariement?{query}",
        context.cpts.slug
    ))
    .into_response())
}

#[derive(Deserialize)]
struct OverrideForm {
    #[serde(default)]
    professional: String,
}

async fn override_proposal(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<OverrideForm>,
) -> WebResult<Response> {
    let cpts = context.cpts.id;
    let id = parse_id(&id)?;
    let proposal = state.doctor_search.proposal(&caller, id).await?;
    let choice = form.professional.trim();
    let replacement = if choice == "retirer" {
        None
    } else {
        let professional = Uuid::parse_str(choice).map_err(|_| {
            WebError::BadRequest("Médecin : choisissez un médecin de la liste.".into())
        })?;
        let request = state
            .doctor_search
            .request(&caller, proposal.request_id)
            .await?;
        let distance = state
            .doctor_search
            .distance_to(cpts, &request, professional)
            .await?;
        Some((professional, distance))
    };
    if !state
        .doctor_search
        .override_draft(&caller, id, replacement)
        .await?
    {
        return Err(WebError::Conflict(
            "Cette proposition a déjà été envoyée : elle ne peut plus être modifiée.".into(),
        ));
    }
    Ok(Redirect::to(&format!("/c/{}/{BASE}/appariement", context.cpts.slug)).into_response())
}

async fn send_proposals(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    let sent = state
        .doctor_search
        .send_drafts(&caller, &context.cpts.slug)
        .await?;
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/appariement?envoyees={sent}",
        context.cpts.slug
    ))
    .into_response())
}

// --- GPs' room -----------------------------------------------------------------------------------------------

pub struct CapacityRow {
    pub name: String,
    pub commune: String,
    pub now: i64,
    pub later: i64,
    pub pending: i64,
    pub preferences: String,
    pub updated: String,
    pub stale: bool,
}

#[derive(Template)]
#[template(path = "doctor_capacities.html")]
struct CapacitiesPage {
    can_match: bool,
    layout: Layout,
    slug: String,
    rows: Vec<CapacityRow>,
    gps: Vec<Choice>,
    stale_days: u32,
    pager: Pager,
    error: Option<String>,
}

fn preferences_text(c: &GpCapacity) -> String {
    let mut parts = Vec::new();
    if let Some(km) = c.max_distance_km {
        parts.push(format!("{km} km au plus"));
    }
    if !c.communes.is_empty() {
        let names: Vec<String> = c.communes.split(';').map(commune_name).collect();
        parts.push(names.join(", "));
    }
    let groups: Vec<&str> = AGE_GROUPS
        .iter()
        .filter(|(code, _)| c.age_groups.split(';').any(|g| g == *code))
        .map(|(_, label)| *label)
        .collect();
    if groups.len() < AGE_GROUPS.len() {
        parts.push(groups.join(", "));
    }
    if c.home_visits {
        parts.push("visites à domicile".into());
    }
    parts.join(" ; ")
}

async fn capacities_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    number: i64,
    error: Option<String>,
) -> WebResult<Response> {
    let rows = state
        .doctor_search
        .capacities(caller, lookahead(number, PAGE_SIZE))
        .await?;
    let (rows, pager) = paginate(
        rows,
        &format!("/c/{}/{BASE}/capacites", context.cpts.slug),
        number,
        PAGE_SIZE,
    );
    let stale_days = state.config.doctor_search.capacity_stale_days;
    let now = now_ms();
    let gps = state
        .doctor_search
        .general_practitioners(caller, Page::MAX_LIMIT)
        .await?
        .into_iter()
        .map(|p| Choice {
            code: p.id.to_string(),
            label: format!("Dr {} {}", p.last_name, p.first_name),
            selected: false,
        })
        .collect();
    let has_error = error.is_some();
    Ok(render_form(
        &CapacitiesPage {
            layout: Layout::in_cpts(viewer, context, "Places des médecins", BASE),
            can_match: true,
            slug: context.cpts.slug.clone(),
            rows: rows
                .iter()
                .map(|e| CapacityRow {
                    name: e.name.clone(),
                    commune: commune_name(&e.commune_code),
                    now: e.capacity.now_capacity,
                    later: e.capacity.later_capacity,
                    pending: e.pending,
                    preferences: preferences_text(&e.capacity),
                    updated: french_date(e.capacity.updated_at),
                    stale: now - e.capacity.updated_at > i64::from(stale_days) * DAY_MS,
                })
                .collect(),
            gps,
            stale_days,
            pager,
            error,
        },
        has_error,
    ))
}

async fn capacities(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<crate::forms::PageQuery>,
) -> WebResult<Response> {
    capacities_page(&state, &viewer, &context, &caller, params.number(), None).await
}

/// A declaration's fields, shared by the GP's own page and the coordination's.
#[derive(Default)]
struct CapacityForm {
    professional: String,
    now: String,
    later: String,
    max_distance_km: String,
    communes: Vec<String>,
    age_groups: Vec<String>,
    home_visits: Option<String>,
    /// The two-click buttons send only this: "keep my preferences, set my room now to N".
    quick: Option<String>,
}

impl CapacityForm {
    fn read(form: &FormPairs) -> Self {
        Self {
            professional: form.text("professional"),
            now: form.text("now"),
            later: form.text("later"),
            max_distance_km: form.text("max_distance_km"),
            communes: form.all("communes"),
            age_groups: form.all("age_groups"),
            home_visits: form.optional("home_visits"),
            quick: form.optional("quick"),
        }
    }
}

fn parse_count(field: &'static str, text: &str) -> Result<i64, ValidationError> {
    match text.trim().parse::<i64>() {
        Ok(n) if (0..=500).contains(&n) => Ok(n),
        _ => Err(ValidationError::new(field, "un nombre entre 0 et 500")),
    }
}

impl CapacityForm {
    fn capacity(
        &self,
        professional: Uuid,
        previous: Option<&GpCapacity>,
        user: maillage_store::UserId,
    ) -> Result<GpCapacity, Vec<ValidationError>> {
        let now = now_ms();
        if let Some(quick) = &self.quick {
            let count = parse_count("Places maintenant", quick).map_err(|e| vec![e])?;
            let mut capacity = previous.cloned().unwrap_or(GpCapacity {
                professional_id: professional,
                now_capacity: 0,
                later_capacity: 0,
                communes: String::new(),
                max_distance_km: None,
                age_groups: "children;adults;elderly".into(),
                home_visits: false,
                updated_at: now,
                updated_by: None,
            });
            capacity.now_capacity = count;
            capacity.updated_at = now;
            capacity.updated_by = Some(user);
            return Ok(capacity);
        }
        let mut problems = Vec::new();
        let now_capacity = parse_count("Places maintenant", &self.now)
            .map_err(|e| problems.push(e))
            .unwrap_or(0);
        let later_capacity = parse_count("Places d'ici 6 mois", &self.later)
            .map_err(|e| problems.push(e))
            .unwrap_or(0);
        let max_distance_km = match self.max_distance_km.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(km) if (1..=200).contains(&km) => Some(km),
                _ => {
                    problems.push(ValidationError::new(
                        "Distance maximale",
                        "un nombre de kilomètres entre 1 et 200, ou vide",
                    ));
                    None
                }
            },
        };
        let mut communes = Vec::new();
        for code in &self.communes {
            if maillage_domain::territory::find_code(code).is_some() {
                communes.push(code.as_str());
            } else if !code.is_empty() {
                problems.push(ValidationError::new("Communes", "commune inconnue"));
            }
        }
        let groups: Vec<&str> = AGE_GROUPS
            .iter()
            .map(|(code, _)| *code)
            .filter(|code| self.age_groups.iter().any(|g| g == code))
            .collect();
        if groups.is_empty() {
            problems.push(ValidationError::new(
                "Âges des patients",
                "cochez au moins un groupe d'âge",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(GpCapacity {
            professional_id: professional,
            now_capacity,
            later_capacity,
            communes: communes.join(";"),
            max_distance_km,
            age_groups: groups.join(";"),
            home_visits: self.home_visits.is_some(),
            updated_at: now,
            updated_by: Some(user),
        })
    }
}

async fn declare_for_gp(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = CapacityForm::read(&pairs);
    let Ok(professional) = Uuid::parse_str(form.professional.trim()) else {
        return capacities_page(
            &state,
            &viewer,
            &context,
            &caller,
            1,
            Some("Médecin : choisissez un médecin de la liste.".into()),
        )
        .await;
    };
    let previous = state
        .doctor_search
        .capacity_of(&caller, professional)
        .await?;
    match form.capacity(professional, previous.as_ref(), user.user.id) {
        Ok(capacity) => {
            state
                .doctor_search
                .declare_capacity(&caller, &capacity)
                .await?;
            Ok(Redirect::to(&format!("/c/{}/{BASE}/capacites", context.cpts.slug)).into_response())
        }
        Err(problems) => {
            let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            capacities_page(
                &state,
                &viewer,
                &context,
                &caller,
                1,
                Some(text.join(" ; ")),
            )
            .await
        }
    }
}

pub struct AgeChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct MyProposal {
    pub commune: String,
    pub age: i64,
    pub priority: i64,
    pub explanation: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "my_capacity.html")]
struct MyCapacityPage {
    layout: Layout,
    slug: String,
    linked: bool,
    doctor_name: String,
    now: i64,
    later: i64,
    max_distance: String,
    home_visits: bool,
    ages: Vec<AgeChoice>,
    communes: Vec<Choice>,
    updated: String,
    quick_values: Vec<i64>,
    proposals: Vec<MyProposal>,
    errors: Vec<ValidationError>,
}

async fn my_capacity_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    errors: Vec<ValidationError>,
    notice: Option<String>,
) -> WebResult<Response> {
    let service = &state.doctor_search;
    let professional = caller.professional();
    let record = service.my_practice(caller).await?;
    let capacity = match professional {
        Some(id) => service.capacity_of(caller, id).await?,
        None => None,
    };
    let mut proposals = Vec::new();
    if professional.is_some() {
        for status in [ProposalStatus::Sent, ProposalStatus::Accepted] {
            for view in service
                .proposals_to_me(caller, &status)
                .await?
                .into_iter()
                .take(20)
            {
                proposals.push(MyProposal {
                    commune: commune_name(&view.request_commune),
                    age: view.age_at_request,
                    priority: view.proposal.priority,
                    explanation: view.proposal.explanation.clone(),
                    status: proposal_status_label(&view.proposal.status),
                });
            }
        }
    }
    let chosen: Vec<String> = capacity
        .as_ref()
        .map(|c| c.communes.split(';').map(str::to_string).collect())
        .unwrap_or_default();
    let mut communes = territory_choices(state, context.cpts.id, "").await?;
    for c in communes.iter_mut() {
        c.selected = chosen.contains(&c.code);
    }
    let has_errors = !errors.is_empty();
    let page = MyCapacityPage {
        layout: Layout::in_cpts(
            viewer,
            context,
            "Mes places pour de nouveaux patients",
            BASE,
        )
        .with_notice(notice),
        slug: context.cpts.slug.clone(),
        linked: record.is_some(),
        doctor_name: record
            .as_ref()
            .map(|r| format!("Dr {} {}", r.summary.first_name, r.summary.last_name))
            .unwrap_or_default(),
        now: capacity.as_ref().map(|c| c.now_capacity).unwrap_or(0),
        later: capacity.as_ref().map(|c| c.later_capacity).unwrap_or(0),
        max_distance: capacity
            .as_ref()
            .and_then(|c| c.max_distance_km)
            .map(|km| km.to_string())
            .unwrap_or_default(),
        home_visits: capacity.as_ref().is_some_and(|c| c.home_visits),
        ages: AGE_GROUPS
            .iter()
            .map(|(code, label)| AgeChoice {
                code,
                label,
                checked: capacity
                    .as_ref()
                    .map(|c| c.age_groups.split(';').any(|g| g == *code))
                    .unwrap_or(true),
            })
            .collect(),
        communes,
        updated: capacity
            .as_ref()
            .map(|c| french_date(c.updated_at))
            .unwrap_or_default(),
        quick_values: vec![0, 1, 2, 3, 5, 10],
        proposals,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn my_capacity(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let notice = (!params.nouvelle.is_empty()).then(|| "Merci, c'est enregistré.".to_string());
    my_capacity_page(&state, &viewer, &context, &caller, Vec::new(), notice).await
}

async fn save_my_capacity(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let form = CapacityForm::read(&pairs);
    let Some(professional) = caller.professional() else {
        return Err(WebError::Conflict(
            "Votre compte n'est relié à aucune fiche de médecin : demandez-le à la coordination."
                .into(),
        ));
    };
    let previous = state
        .doctor_search
        .capacity_of(&caller, professional)
        .await?;
    match form.capacity(professional, previous.as_ref(), user.user.id) {
        Ok(capacity) => {
            state
                .doctor_search
                .declare_capacity(&caller, &capacity)
                .await?;
            Ok(
                Redirect::to(&format!("/c/{}/ma-capacite?nouvelle=1", context.cpts.slug))
                    .into_response(),
            )
        }
        Err(errors) => my_capacity_page(&state, &viewer, &context, &caller, errors, None).await,
    }
}

// --- Indicators -------------------------------------------------------------------------------------------------

pub struct Figure {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "doctor_indicators.html")]
struct IndicatorsPage {
    can_match: bool,
    layout: Layout,
    slug: String,
    year: i64,
    years: Vec<Choice>,
    period: String,
    figures: Vec<Figure>,
    channels: Vec<Figure>,
    referrers: Vec<Figure>,
    backlog: Vec<Figure>,
    channel_chart: String,
    backlog_chart: String,
}

#[derive(Deserialize, Default)]
struct YearParams {
    annee: Option<i64>,
}

struct Indicators {
    year: i64,
    period: String,
    figures: Vec<Figure>,
    channels: Vec<Figure>,
    referrers: Vec<Figure>,
    backlog: Vec<Figure>,
}

/// The contract year is the calendar year; the current one runs to today ("en direct").
async fn compute_indicators(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    params: &YearParams,
) -> WebResult<Indicators> {
    let now = now_ms();
    let this_year = year_of(now);
    let year = params
        .annee
        .filter(|y| (2000..=this_year).contains(y))
        .unwrap_or(this_year);
    let from = day_start_ms(year, 1, 1);
    let until = day_start_ms(year + 1, 1, 1);
    let f = state.doctor_search.figures(caller, from, until).await?;
    let mut delays = f.attachment_delays_days.clone();
    let median_delay = median(&mut delays)
        .map(|d| format!("{d} jours"))
        .unwrap_or_else(|| "—".into());
    let figure = |label: &str, value: String| Figure {
        label: label.to_string(),
        value,
    };
    let figures = vec![
        figure(
            "Patients sans médecin traitant ciblés (demandes reçues)",
            f.targeted.to_string(),
        ),
        figure(
            "Patients informés (prévenus par e-mail ou SMS)",
            f.informed.to_string(),
        ),
        figure(
            "Patients orientés (proposés à un médecin ou réorientés)",
            f.oriented.to_string(),
        ),
        figure(
            "Patients ayant trouvé un médecin traitant",
            f.attached.to_string(),
        ),
        figure("… dont en ALD", f.attached_ald.to_string()),
        figure(
            "… dont bénéficiaires de la CSS ou de l'AME",
            f.attached_css.to_string(),
        ),
        figure(
            "… dont âgés de 70 ans et plus",
            f.attached_aged_70.to_string(),
        ),
        figure(
            "Délai médian entre la demande et le médecin traitant",
            median_delay,
        ),
        figure(
            "Médecins déclarant des places aujourd'hui",
            f.gps_declaring.to_string(),
        ),
        figure(
            "Médecins ayant accepté au moins un patient",
            f.gps_accepting.to_string(),
        ),
        figure(
            "Places déclarées disponibles maintenant",
            f.capacity_now.to_string(),
        ),
        figure(
            "Places déclarées d'ici 6 mois",
            f.capacity_later.to_string(),
        ),
        figure(
            "Places utilisées (propositions acceptées)",
            f.places_used.to_string(),
        ),
    ];
    Ok(Indicators {
        year,
        period: if year == this_year {
            format!("du 01/01/{year} à aujourd'hui ({})", french_date(now))
        } else {
            format!("du 01/01/{year} au 31/12/{year}")
        },
        figures,
        channels: f
            .by_channel
            .iter()
            .map(|(code, n)| figure(channel_label(code), n.to_string()))
            .collect(),
        referrers: f
            .by_referrer
            .iter()
            .map(|(name, n)| figure(name, n.to_string()))
            .collect(),
        backlog: f
            .backlog_by_priority
            .iter()
            .map(|(priority, n)| figure(&format!("Priorité {priority}"), n.to_string()))
            .collect(),
    })
}

async fn indicators(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    let i = compute_indicators(&state, &caller, &params).await?;
    let bars = |title: &str, rows: &[Figure]| {
        let groups: Vec<(String, Vec<Option<f64>>)> = rows
            .iter()
            .map(|r| (r.label.clone(), vec![r.value.parse::<f64>().ok()]))
            .collect();
        if groups.is_empty() {
            String::new()
        } else {
            crate::charts::grouped_bars(title, "demandes", &["Demandes"], &groups)
        }
    };
    let this_year = year_of(now_ms());
    Ok(render(&IndicatorsPage {
        layout: Layout::in_cpts(&viewer, &context, "Indicateurs — médecin traitant", BASE),
        can_match: true,
        slug: context.cpts.slug.clone(),
        year: i.year,
        years: (this_year - 4..=this_year)
            .rev()
            .map(|y| Choice {
                code: y.to_string(),
                label: if y == this_year {
                    format!("{y} (en cours)")
                } else {
                    y.to_string()
                },
                selected: y == i.year,
            })
            .collect(),
        period: i.period,
        channel_chart: bars("Demandes par canal", &i.channels),
        backlog_chart: bars("Demandes en attente par priorité", &i.backlog),
        figures: i.figures,
        channels: i.channels,
        referrers: i.referrers,
        backlog: i.backlog,
    }))
}

fn indicator_rows(i: &Indicators) -> Vec<[String; 3]> {
    let mut rows = Vec::new();
    for (section, list) in [
        ("Indicateurs", &i.figures),
        ("Demandes par canal", &i.channels),
        ("Demandes par adresseur", &i.referrers),
        ("En attente par priorité", &i.backlog),
    ] {
        for f in list {
            rows.push([section.to_string(), f.label.clone(), f.value.clone()]);
        }
    }
    rows
}

const INDICATOR_COLUMNS: [&str; 3] = ["Rubrique", "Indicateur", "Valeur"];

async fn indicators_export(
    state: &AppState,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    params: &YearParams,
    format: &str,
) -> WebResult<Response> {
    let i = compute_indicators(state, caller, params).await?;
    state
        .doctor_search
        .record_export(caller, i.year, format)
        .await?;
    let sheets = [crate::export::Sheet {
        name: format!("Médecin traitant {}", i.year),
        columns: &INDICATOR_COLUMNS,
        rows: indicator_rows(&i)
            .iter()
            .map(|row| row.iter().map(|c| Cell::from(c.as_str())).collect())
            .collect(),
    }];
    let file = format!(
        "indicateurs-medecin-traitant-{}-{}.{format}",
        context.cpts.slug, i.year
    );
    if format == "csv" {
        Ok(crate::export::report_csv(&file, &sheets))
    } else {
        crate::export::report_xlsx(&file, &sheets)
    }
}

async fn indicators_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "csv").await
}

async fn indicators_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "xlsx").await
}

// --- Priority rules ----------------------------------------------------------------------------------------------

pub struct RuleField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: u32,
}

#[derive(Template)]
#[template(path = "doctor_rules.html")]
struct RulesPage {
    layout: Layout,
    slug: String,
    fields: Vec<RuleField>,
    errors: Vec<ValidationError>,
}

fn rule_fields(rules: &PriorityRules) -> Vec<RuleField> {
    let mut fields: Vec<RuleField> = Criterion::ALL
        .into_iter()
        .map(|c| RuleField {
            name: c.code(),
            label: c.label(),
            value: rules.points(c),
        })
        .collect();
    fields.extend([
        RuleField {
            name: "aged",
            label: "Points pour l'âge",
            value: rules.aged,
        },
        RuleField {
            name: "aged_from",
            label: "Âge à partir duquel compter",
            value: rules.aged_from,
        },
        RuleField {
            name: "child",
            label: "Points pour un enfant",
            value: rules.child,
        },
        RuleField {
            name: "child_under",
            label: "Âge des enfants",
            value: rules.child_under,
        },
        RuleField {
            name: "waiting_per_month",
            label: "Points par mois d'attente",
            value: rules.waiting_per_month,
        },
        RuleField {
            name: "waiting_max",
            label: "Plafond des points d'attente",
            value: rules.waiting_max,
        },
    ]);
    fields
}

async fn rules_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
) -> WebResult<Response> {
    let rules = state.doctor_search.rules(context.cpts.id).await?;
    Ok(render(&RulesPage {
        layout: Layout::in_cpts(&viewer, &context, "Règles de priorité", BASE),
        slug: context.cpts.slug.clone(),
        fields: rule_fields(&rules),
        errors: Vec::new(),
    }))
}

async fn save_rules(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> WebResult<Response> {
    let mut rules = state.doctor_search.rules(context.cpts.id).await?;
    let mut errors = Vec::new();
    for field in rule_fields(&PriorityRules::default()) {
        let text = form.get(field.name).map(String::as_str).unwrap_or("");
        let Ok(value) = text.trim().parse::<u32>() else {
            errors.push(ValidationError::new(
                field.label,
                "un nombre entier positif",
            ));
            continue;
        };
        match Criterion::parse(field.name) {
            Some(c) => *rules.points_mut(c) = value,
            None => match field.name {
                "aged" => rules.aged = value,
                "aged_from" => rules.aged_from = value,
                "child" => rules.child = value,
                "child_under" => rules.child_under = value,
                "waiting_per_month" => rules.waiting_per_month = value,
                _ => rules.waiting_max = value,
            },
        }
    }
    if errors.is_empty() {
        if let Err(error) = rules.check() {
            errors.push(error);
        }
    }
    if !errors.is_empty() {
        return Ok(render_form(
            &RulesPage {
                layout: Layout::in_cpts(&viewer, &context, "Règles de priorité", BASE),
                slug: context.cpts.slug.clone(),
                fields: rule_fields(&rules),
                errors,
            },
            true,
        ));
    }
    state.doctor_search.save_rules(&caller, &rules).await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}", context.cpts.slug)).into_response())
}

// --- Public pages ------------------------------------------------------------------------------------------------

/// Public submissions per address and hour, beyond which the form refuses (no third-party captcha).
const PUBLIC_SUBMISSIONS_PER_HOUR: i64 = 5;

#[derive(Template)]
#[template(path = "public_request.html")]
struct PublicRequestPage {
    layout: Layout,
    csrf: String,
    cpts_name: String,
    action: String,
    form: RequestFields,
    communes: Vec<Choice>,
    criteria: Vec<CriterionChoice>,
    consents: Vec<Choice>,
    consent_text: &'static str,
    errors: Vec<ValidationError>,
    done: bool,
}

#[derive(Deserialize, Default)]
struct DoneParams {
    #[serde(default)]
    envoyee: String,
}

/// The token a public form carries: the session's when signed in, else the pre-login cookie's.
fn public_csrf(viewer: &Viewer, headers: &HeaderMap) -> (String, bool) {
    match viewer.csrf_token() {
        Some(token) => (token.to_string(), false),
        None => crate::account::login_csrf(headers),
    }
}

async fn public_page(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    cpts: &maillage_store::Cpts,
    form: RequestFields,
    errors: Vec<ValidationError>,
    done: bool,
) -> WebResult<Response> {
    let (csrf, is_new) = public_csrf(viewer, headers);
    let has_errors = !errors.is_empty();
    let page = PublicRequestPage {
        layout: Layout::anonymous(format!("Trouver un médecin traitant — {}", cpts.name)),
        csrf: csrf.clone(),
        cpts_name: cpts.name.clone(),
        action: format!("/demande-medecin/{}", cpts.slug),
        communes: territory_choices(state, cpts.id, &form.commune).await?,
        criteria: criterion_choices(&form.criteria),
        consents: consent_choices(&form.consent_by),
        form,
        consent_text: CONSENT_TEXT,
        errors,
        done,
    };
    Ok(crate::account::with_login_csrf(
        render_form(&page, has_errors),
        state,
        &csrf,
        is_new,
    ))
}

async fn public_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(params): Query<DoneParams>,
) -> WebResult<Response> {
    let cpts = state
        .doctor_search
        .public_cpts(&slug)
        .await?
        .ok_or(WebError::NotFound)?;
    public_page(
        &state,
        &viewer,
        &headers,
        &cpts,
        RequestFields::default(),
        Vec::new(),
        !params.envoyee.is_empty(),
    )
    .await
}

async fn public_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Actor(actor): Actor,
    Path(slug): Path<String>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let fields = request_fields(&pairs);
    // Hidden from people, filled by robots.
    let honeypot = pairs.text("site_web");
    let cpts = state
        .doctor_search
        .public_cpts(&slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let done = Redirect::to(&format!("/demande-medecin/{slug}?envoyee=1")).into_response();
    if !honeypot.is_empty() {
        // A robot filled the hidden field: it is told "sent" and nothing is kept.
        return Ok(done);
    }
    let key = format!("public-doctor-request:{}", actor.ip);
    let counted = state
        .doctor_search
        .count_public_submission(&key, now_ms())
        .await?;
    if counted > PUBLIC_SUBMISSIONS_PER_HOUR {
        return Err(WebError::TooManyRequests(
            "Trop de demandes envoyées depuis cette connexion. Réessayez dans une heure, ou appelez la CPTS."
                .into(),
            3600,
        ));
    }
    match fields.parse(&date_text(now_ms())) {
        Ok(input) => {
            state
                .doctor_search
                .submit_public(&actor, cpts.id, &input)
                .await?;
            Ok(done)
        }
        Err(errors) => public_page(&state, &viewer, &headers, &cpts, fields, errors, false).await,
    }
}

#[derive(Template)]
#[template(path = "proposal.html")]
struct ProposalPage {
    layout: Layout,
    csrf: String,
    action: String,
    doctor: String,
    commune: String,
    age: i64,
    explanation: String,
    distance: String,
    status: String,
    open: bool,
    reasons: Vec<Choice>,
}

async fn proposal_page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> WebResult<Response> {
    let Some(view) = state.doctor_search.proposal_of_link(&token).await? else {
        return Ok(gone());
    };
    let (csrf, is_new) = public_csrf(&viewer, &headers);
    let p = &view.proposal;
    let page = ProposalPage {
        layout: Layout::anonymous("Proposition d'un nouveau patient"),
        csrf: csrf.clone(),
        action: format!("/proposition/{token}"),
        doctor: view.doctor_name.clone(),
        commune: commune_name(&view.request_commune),
        age: view.age_at_request,
        explanation: p.explanation.clone(),
        distance: format!("{} km", french_decimal(p.distance_m as f64 / 1000.0)),
        status: proposal_status_label(&p.status).to_string(),
        open: p.status == ProposalStatus::Sent,
        reasons: pair_choices(&DECLINE_REASONS, ""),
    };
    Ok(crate::account::with_login_csrf(
        render(&page),
        &state,
        &csrf,
        is_new,
    ))
}

fn gone() -> Response {
    let mut response = WebError::NotFound.into_response();
    *response.status_mut() = axum::http::StatusCode::GONE;
    response
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    reason: String,
}

async fn answer_proposal(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<AnswerForm>,
) -> WebResult<Response> {
    let answer = match form.answer.as_str() {
        "accept" => ProposalAnswer::Accepted,
        "decline" => {
            if decline_reason_label(&form.reason).is_none() {
                return Err(WebError::BadRequest(
                    "Raison du refus : choisissez une raison de la liste.".into(),
                ));
            }
            ProposalAnswer::Declined
        }
        _ => {
            return Err(WebError::BadRequest(
                "Réponse : acceptez ou refusez la proposition.".into(),
            ))
        }
    };
    if !state
        .doctor_search
        .answer(&token, answer, &form.reason)
        .await?
    {
        return Ok(gone());
    }
    Ok(Redirect::to(&format!("/proposition/{token}")).into_response())
}

/// For the dashboard: requests waiting longer than their state allows.
pub async fn overdue_count(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
) -> WebResult<Option<i64>> {
    if !caller.may(Permission::ViewPatientRequests) {
        return Ok(None);
    }
    Ok(Some(
        state.doctor_search.overdue_count(caller, now_ms()).await?,
    ))
}

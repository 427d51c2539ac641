//! Access to a médecin traitant: public pages.

use super::*;

/// Public submissions per address and hour, beyond which the form refuses (no third-party captcha).

#[derive(Template)]
#[template(path = "public_request.html")]
pub(super) struct PublicRequestPage {
    pub(super) layout: Layout,
    pub(super) csrf: String,
    pub(super) cpts_name: String,
    pub(super) action: String,
    pub(super) form: RequestFields,
    pub(super) communes: Vec<Choice>,
    pub(super) criteria: Vec<CriterionChoice>,
    pub(super) consents: Vec<Choice>,
    pub(super) consent_text: &'static str,
    pub(super) errors: Vec<ValidationError>,
    pub(super) done: bool,
}

#[derive(Deserialize, Default)]
pub(super) struct DoneParams {
    #[serde(default)]
    pub(super) envoyee: String,
}

/// The token a public form carries: the session's when signed in, else the pre-login cookie's.
pub(super) fn public_csrf(viewer: &Viewer, headers: &HeaderMap) -> (String, bool) {
    match viewer.csrf_token() {
        Some(token) => (token.to_string(), false),
        None => crate::account::login_csrf(headers),
    }
}

pub(super) async fn public_page(
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

pub(super) async fn public_form(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(params): Query<DoneParams>,
) -> WebResult<Response> {
    let cpts = state
        .missions
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

pub(super) async fn public_submit(
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
        .missions
        .doctor_search
        .public_cpts(&slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let done = Redirect::to(&format!("/demande-medecin/{slug}?envoyee=1")).into_response();
    if !honeypot.is_empty() {
        // A robot filled the hidden field: it is told "sent" and nothing is kept.
        return Ok(done);
    }
    let refused = state
        .missions
        .doctor_search
        .limit_public_submission(&actor.ip, now_ms())
        .await?;
    if let Some(refused) = refused {
        return Err(WebError::TooManyRequests(
            "Trop de demandes envoyées depuis cette connexion. Réessayez dans une heure, ou appelez la CPTS."
                .into(),
            refused.retry_after_seconds,
        ));
    }
    match fields.parse(&date_text(now_ms())) {
        Ok(input) => {
            state
                .missions
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
pub(super) struct ProposalPage {
    pub(super) layout: Layout,
    pub(super) csrf: String,
    pub(super) action: String,
    pub(super) doctor: String,
    pub(super) commune: String,
    pub(super) age: i64,
    pub(super) explanation: String,
    pub(super) distance: String,
    pub(super) status: String,
    pub(super) open: bool,
    pub(super) reasons: Vec<Choice>,
}

pub(super) async fn proposal_page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> WebResult<Response> {
    let Some(view) = state
        .missions
        .doctor_search
        .proposal_of_link(&token)
        .await?
    else {
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

pub(super) fn gone() -> Response {
    let mut response = WebError::NotFound.into_response();
    *response.status_mut() = axum::http::StatusCode::GONE;
    response
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    pub(super) answer: String,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn answer_proposal(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<AnswerForm>,
) -> WebResult<Response> {
    let answer = parsed_answer(&form)?;
    if !state
        .missions
        .doctor_search
        .answer(&token, answer, &form.reason)
        .await?
    {
        return Ok(gone());
    }
    Ok(Redirect::to(&format!("/proposition/{token}")).into_response())
}

/// The answer of a proposal's form (the link's page, "Mes places", the phone answer's form).
pub(super) fn parsed_answer(form: &AnswerForm) -> WebResult<ProposalAnswer> {
    Ok(match form.answer.as_str() {
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
    })
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
        state
            .missions
            .doctor_search
            .overdue_count(caller, now_ms())
            .await?,
    ))
}

use crate::views::ToDo;

/// After so many days without an answer, a sent proposal is followed up by phone.
const UNANSWERED_DAYS: i64 = 7;

/// The médecin-traitant mission's part of the dashboard's « À faire », for the caller's role: the requests
/// to qualify, the patients to tell, the calls in place of messages that could not go; for a GP, the
/// proposals waiting for her answer.
pub async fn to_do(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    slug: &str,
) -> WebResult<Vec<ToDo>> {
    use maillage_domain::text::count_of;
    let service = &state.missions.doctor_search;
    let mut items = Vec::new();
    if caller.may(Permission::ViewPatientRequests) {
        for (delivery, request) in service.messages_to_call(caller).await?.into_iter().take(5) {
            let what = match delivery.purpose {
                maillage_domain::delivery::Purpose::Proposal => "une proposition au médecin",
                _ => "un message au patient",
            };
            items.push(ToDo {
                text: format!(
                    "Appeler : {what} n'a pas pu partir ({}, {}).",
                    delivery.shown().label(),
                    french_date(delivery.created_at)
                ),
                href: format!("/c/{slug}/{BASE}/demandes/{request}"),
                urgent: true,
            });
        }
        let counts = service.counts_by_state(caller).await?;
        let count = |wanted: RequestState| {
            counts
                .iter()
                .find(|(s, _)| *s == wanted)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        };
        let accepted = count(RequestState::Accepted);
        if accepted > 0 {
            items.push(ToDo {
                text: format!(
                    "{} par un médecin : prévenir le patient et organiser le premier rendez-vous.",
                    count_of(accepted, "demande acceptée", "demandes acceptées")
                ),
                href: format!("/c/{slug}/{BASE}?etat={}", RequestState::Accepted.code()),
                urgent: false,
            });
        }
        let received = count(RequestState::Received);
        if received > 0 {
            items.push(ToDo {
                text: format!(
                    "{} à qualifier.",
                    count_of(received, "demande reçue", "demandes reçues")
                ),
                href: format!("/c/{slug}/{BASE}?etat={}", RequestState::Received.code()),
                urgent: false,
            });
        }
    }
    if caller.may(Permission::RunMatching) {
        let now = now_ms();
        let unanswered = service
            .unanswered_proposals(caller, now, UNANSWERED_DAYS)
            .await?;
        if unanswered > 0 {
            items.push(ToDo {
                text: format!(
                    "{} depuis plus de {UNANSWERED_DAYS} jours : appeler le médecin.",
                    count_of(
                        unanswered,
                        "proposition sans réponse",
                        "propositions sans réponse"
                    )
                ),
                href: format!("/c/{slug}/{BASE}?etat={}", RequestState::Proposed.code()),
                urgent: true,
            });
        }
        let stale = service.stale_capacities(caller, now).await?;
        if stale > 0 {
            items.push(ToDo {
                text: format!(
                    "{} de plus de {} jours (les médecins sont relancés par courriel).",
                    count_of(
                        stale,
                        "déclaration de places date",
                        "déclarations de places datent"
                    ),
                    service.capacity_stale_days()
                ),
                href: format!("/c/{slug}/{BASE}/capacites"),
                urgent: false,
            });
        }
    }
    if caller.may(Permission::DeclareCapacity) && caller.professional().is_some() {
        let waiting = service
            .proposals_to_me(caller, &ProposalStatus::Sent)
            .await?
            .len();
        if waiting > 0 {
            items.push(ToDo {
                text: format!(
                    "{} votre réponse.",
                    count_of(
                        i64::try_from(waiting).unwrap_or(i64::MAX),
                        "proposition de patient attend",
                        "propositions de patients attendent"
                    )
                ),
                href: format!("/c/{slug}/ma-capacite#propositions"),
                urgent: false,
            });
        }
        if let Some(professional) = caller.professional() {
            let stale_before =
                now_ms() - i64::from(service.capacity_stale_days()) * maillage_app::clock::DAY_MS;
            match service.capacity_of(caller, professional).await? {
                Some(declared) if declared.updated_at < stale_before => items.push(ToDo {
                    text: format!(
                        "Vos places pour de nouveaux patients datent du {} : confirmez-les ou corrigez-les.",
                        french_date(declared.updated_at)
                    ),
                    href: format!("/c/{slug}/ma-capacite"),
                    urgent: false,
                }),
                None => items.push(ToDo {
                    text: "Dites à la CPTS combien de nouveaux patients vous pouvez accepter.".into(),
                    href: format!("/c/{slug}/ma-capacite"),
                    urgent: false,
                }),
                Some(_) => {}
            }
        }
    }
    Ok(items)
}

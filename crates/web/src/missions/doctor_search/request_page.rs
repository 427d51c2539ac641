//! Access to a médecin traitant: a request's page.

use super::*;

pub struct EventRow {
    pub at: String,
    pub what: String,
    pub lasted: String,
}

pub struct ProposalRow {
    pub id: String,
    pub doctor: String,
    pub phone: Option<crate::views::PhoneLink>,
    /// The last message to the GP about it.
    pub message: Option<MessageRow>,
    /// Sent and not answered: the coordination may record an answer given on the phone.
    pub awaiting_answer: bool,
    pub status: &'static str,
    pub distance: String,
    pub explanation: String,
    pub answer: String,
}

pub(super) fn proposal_status_label(status: &ProposalStatus) -> &'static str {
    match status {
        ProposalStatus::Draft => "à envoyer",
        ProposalStatus::Sent => "envoyée, sans réponse",
        ProposalStatus::Accepted => "acceptée",
        ProposalStatus::Declined => "refusée",
        ProposalStatus::Cancelled => "annulée",
    }
}

pub(super) fn proposal_row(view: &ProposalView) -> ProposalRow {
    let p = &view.proposal;
    ProposalRow {
        id: p.id.to_string(),
        doctor: view.doctor_name.clone(),
        phone: doctor_phone(view),
        message: None,
        awaiting_answer: p.status == ProposalStatus::Sent,
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
pub(super) struct RequestPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) id: String,
    pub(super) row: RequestRow,
    pub(super) identity: Option<maillage_app::crypto::PatientIdentity>,
    /// DD/MM/YYYY.
    pub(super) birth_date: String,
    pub(super) criteria: Vec<&'static str>,
    pub(super) consent: String,
    pub(super) outcome: String,
    pub(super) submissions: i64,
    pub(super) anonymised: bool,
    pub(super) next_states: Vec<Choice>,
    pub(super) decline_reasons: Vec<Choice>,
    pub(super) redirections: Vec<Choice>,
    pub(super) events: Vec<EventRow>,
    /// "Reçue : 2 jours · Qualifiée : 9 jours", every stay of each state added.
    pub(super) time_in_states: String,
    pub(super) proposals: Vec<ProposalRow>,
    /// Messages to the patient (e-mail, SMS, or "à appeler").
    pub(super) patient_messages: Vec<MessageRow>,
    /// The patient's phone, grouped and linked.
    pub(super) patient_phone: Option<crate::views::PhoneLink>,
    pub(super) doctors: Vec<Choice>,
    pub(super) can_match: bool,
    /// The open request this one may duplicate, while the secretariat has not decided.
    pub(super) duplicate_of: Option<RequestRow>,
    pub(super) duplicate_error: Option<String>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let request = state
        .missions
        .doctor_search
        .request(&caller, parse_id(&id)?)
        .await?;
    let identity = state
        .missions
        .doctor_search
        .identity(&caller, &request, "suivi de la demande de médecin traitant")
        .await?;
    if identity.is_none() {
        state
            .missions
            .doctor_search
            .record_view(&caller, &request)
            .await?;
    }
    let now = now_ms();
    let events = state
        .missions
        .doctor_search
        .events(&caller, request.id)
        .await?;
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
    // Totals per state from the same history (the workflow's shared piece): a request that went back to
    // "qualifiée" after a refusal shows both stays added.
    let moves: Vec<maillage_domain::workflow::Move<RequestState>> = events
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "created" | "state"))
        .filter_map(|e| {
            RequestState::parse(&e.to_state)
                .map(|to| maillage_domain::workflow::Move { to, at: e.at })
        })
        .collect();
    let totals = maillage_domain::workflow::time_in_states(&moves, now);
    // Only worth a line when a state came back (the table already gives each stay).
    let time_in_states = if totals.len() < moves.len() {
        totals
            .into_iter()
            .map(|(state, ms)| format!("{} : {}", state.label(), duration_text(ms)))
            .collect::<Vec<_>>()
            .join(" · ")
    } else {
        String::new()
    };
    let proposals = state
        .missions
        .doctor_search
        .proposals_of(&caller, request.id)
        .await?;
    let (to_doctors, to_patient) = state
        .missions
        .doctor_search
        .messages_of(&caller, request.id, &proposals)
        .await?;
    let duplicate_of = state
        .missions
        .doctor_search
        .possible_duplicate(&caller, &request)
        .await?
        .map(|open| row_view(&open, now));
    let can_match = allows(context.role, Permission::RunMatching);
    let doctors = if can_match && request.state.is_waiting_for_a_doctor() {
        state
            .missions
            .doctor_search
            .capacities(&caller, Page::first(Page::MAX_LIMIT))
            .await?
            .into_iter()
            .map(|c| Choice {
                code: c.capacity.professional_id.to_string(),
                label: format!(
                    "Dr {} — {} — {}",
                    c.name,
                    commune_name(&c.commune_code),
                    maillage_domain::text::count_of(
                        c.capacity.now_capacity - c.pending,
                        "place",
                        "places"
                    )
                ),
                selected: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    let patient_phone = identity
        .as_ref()
        .and_then(|p| p.phone.as_deref())
        .and_then(crate::views::phone_link);
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
        time_in_states,
        proposals: proposals
            .iter()
            .map(|view| ProposalRow {
                message: last_message(&to_doctors, view.proposal.id),
                ..proposal_row(view)
            })
            .collect(),
        patient_messages: to_patient.iter().map(message_row).collect(),
        patient_phone,
        doctors,
        can_match,
        duplicate_of,
        duplicate_error: params.duplicate_error(),
    }))
}

#[derive(Deserialize)]
pub(super) struct DuplicateForm {
    #[serde(default)]
    pub(super) decision: String,
    #[serde(default)]
    pub(super) confirmation: String,
}

/// The secretariat's decision on a possible duplicate: merging is irreversible, so it must be confirmed.
pub(super) async fn decide_duplicate(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<DuplicateForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let page = |target: Uuid, query: &str| {
        Redirect::to(&format!(
            "/c/{}/{BASE}/demandes/{target}?{query}",
            context.cpts.slug
        ))
        .into_response()
    };
    let decision = match form.decision.as_str() {
        "reunir" if form.confirmation == "oui" => DuplicateDecision::Merge,
        "reunir" => return Ok(page(id, "doublon=confirmer")),
        "garder" => DuplicateDecision::KeepApart,
        _ => {
            return Err(WebError::BadRequest(
                "Décision : choisissez « Réunir » ou « Garder à part ».".into(),
            ))
        }
    };
    let shown = state
        .missions
        .doctor_search
        .decide_duplicate(&caller, id, decision)
        .await?;
    let notice = match decision {
        DuplicateDecision::Merge => "fusion=1",
        DuplicateDecision::KeepApart => "separee=1",
    };
    Ok(page(shown, notice))
}

pub(super) fn outcome_text(code: &str) -> String {
    decline_reason_label(code)
        .or_else(|| redirection_label(code))
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

#[derive(Deserialize)]
pub(super) struct StateForm {
    #[serde(default)]
    pub(super) to: String,
    #[serde(default)]
    pub(super) reason: String,
    #[serde(default)]
    pub(super) redirection: String,
    #[serde(default)]
    pub(super) note: String,
}

pub(super) async fn change_state(
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
        .missions
        .doctor_search
        .change_state(&caller, id, to, &outcome)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}/demandes/{id}", context.cpts.slug)).into_response())
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let request = state
        .missions
        .doctor_search
        .request(&caller, parse_id(&id)?)
        .await?;
    let identity = state
        .missions
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

pub(super) async fn edit_page(
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

pub(super) async fn save_edit(
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
                .missions
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
pub(super) struct ProposeForm {
    #[serde(default)]
    pub(super) professional: String,
}

pub(super) async fn propose_by_hand(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<ProposeForm>,
) -> WebResult<Response> {
    let request = state
        .missions
        .doctor_search
        .request(&caller, parse_id(&id)?)
        .await?;
    let professional = Uuid::parse_str(form.professional.trim())
        .map_err(|_| WebError::BadRequest("Médecin : choisissez un médecin de la liste.".into()))?;
    if state
        .missions
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
        .missions
        .doctor_search
        .propose_by_hand(&caller, &request, professional)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}/appariement", context.cpts.slug)).into_response())
}

//! Access to a médecin traitant: matching.

use super::*;

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
pub(super) struct MatchingPage {
    pub(super) can_match: bool,
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) drafts: Vec<DraftRow>,
    pub(super) sent: Vec<DraftRow>,
    pub(super) doctors: Vec<Choice>,
    pub(super) waiting: i64,
    pub(super) max_distance: String,
}

pub(super) fn draft_row(view: &ProposalView) -> DraftRow {
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

/// What the last action did, as numbers only: the page writes the sentence (a URL never carries text to show).
#[derive(Deserialize, Default)]
pub(super) struct MatchingParams {
    pub(super) demandes: Option<u32>,
    pub(super) medecins: Option<u32>,
    pub(super) propositions: Option<u32>,
    pub(super) sans: Option<u32>,
    pub(super) poids: Option<u64>,
    pub(super) metres: Option<u64>,
    pub(super) envoyees: Option<u32>,
    pub(super) a_appeler: Option<u32>,
}

impl MatchingParams {
    fn notice(&self) -> Option<String> {
        use maillage_domain::text::count_of;
        if let (Some(requests), Some(doctors), Some(proposed), Some(unassigned)) =
            (self.demandes, self.medecins, self.propositions, self.sans)
        {
            return Some(format!(
                "Appariement : {} en attente, {} avec des places ; {} à revoir, {} sans médecin à portée. Poids total {} ; distance totale {} km.",
                count_of(requests.into(), "demande", "demandes"),
                count_of(doctors.into(), "médecin", "médecins"),
                count_of(proposed.into(), "proposition", "propositions"),
                count_of(unassigned.into(), "demande", "demandes"),
                self.poids.unwrap_or(0),
                french_decimal(self.metres.unwrap_or(0) as f64 / 1000.0)
            ));
        }
        let sent = self.envoyees?;
        let to_call = self.a_appeler.unwrap_or(0).min(sent);
        let mut text = format!(
            "{} aux médecins",
            count_of(sent.into(), "proposition envoyée", "propositions envoyées")
        );
        if to_call > 0 {
            text.push_str(&format!(
                " : {} par e-mail, {} sans adresse e-mail, à appeler (le téléphone est sur chaque demande).",
                sent - to_call,
                to_call
            ));
        } else {
            text.push('.');
        }
        Some(text)
    }
}

pub(super) async fn matching_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<MatchingParams>,
) -> WebResult<Response> {
    let service = &state.missions.doctor_search;
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
    let notice = params.notice();
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
pub(super) struct RunForm {
    #[serde(default)]
    pub(super) max_distance_km: String,
}

pub(super) async fn run_matching(
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
    let summary = state
        .missions
        .doctor_search
        .run_matching(&caller, max_km)
        .await?;
    let query = format!(
        "demandes={}&medecins={}&propositions={}&sans={}&poids={}&metres={}",
        summary.requests,
        summary.doctors,
        summary.proposed,
        summary.unassigned,
        summary.total_weight,
        (summary.total_distance_km * 1000.0).round().max(0.0) as u64
    );
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/appariement?{query}",
        context.cpts.slug
    ))
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct OverrideForm {
    #[serde(default)]
    pub(super) professional: String,
    #[serde(default)]
    pub(super) confirmation: String,
}

pub(super) async fn override_proposal(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<OverrideForm>,
) -> WebResult<Response> {
    let cpts = context.cpts.id;
    let id = parse_id(&id)?;
    let proposal = state.missions.doctor_search.proposal(&caller, id).await?;
    let choice = form.professional.trim();
    let replacement = if choice == "retirer" {
        if form.confirmation != "oui" {
            let matching = format!("/c/{}/{BASE}/appariement", context.cpts.slug);
            return Ok(crate::confirm::ask(
                &viewer,
                &context,
                BASE,
                crate::confirm::Confirmation::new(
                    "Retirer cette proposition ?",
                    "Le patient ne sera proposé à aucun médecin lors de l'envoi et restera en attente dans \
                     la liste des demandes, jusqu'au prochain appariement.",
                    format!("{matching}/{id}"),
                    "Oui, retirer la proposition",
                    matching,
                )
                .with_field("professional", "retirer"),
            ));
        }
        None
    } else {
        let professional = Uuid::parse_str(choice).map_err(|_| {
            WebError::BadRequest("Médecin : choisissez un médecin de la liste.".into())
        })?;
        let request = state
            .missions
            .doctor_search
            .request(&caller, proposal.request_id)
            .await?;
        let distance = state
            .missions
            .doctor_search
            .distance_to(cpts, &request, professional)
            .await?;
        Some((professional, distance))
    };
    if !state
        .missions
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

pub(super) async fn send_proposals(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    let sent = state.missions.doctor_search.send_drafts(&caller).await?;
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/appariement?envoyees={}&a_appeler={}",
        context.cpts.slug, sent.sent, sent.to_call
    ))
    .into_response())
}

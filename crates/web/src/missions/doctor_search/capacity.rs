//! Access to a médecin traitant: gps' room.

use super::*;

pub struct CapacityRow {
    pub name: String,
    pub commune: String,
    pub now: i64,
    pub later: i64,
    pub pending: i64,
    pub preferences: String,
    pub updated: String,
    pub stale: bool,
    /// The last reminder sent about this declaration, and what became of it.
    pub reminder: Option<crate::views::MessageRow>,
}

#[derive(Template)]
#[template(path = "doctor_capacities.html")]
pub(super) struct CapacitiesPage {
    pub(super) can_match: bool,
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) rows: Vec<CapacityRow>,
    pub(super) gps: Vec<Choice>,
    pub(super) stale_days: u32,
    pub(super) pager: Pager,
    pub(super) error: Option<String>,
}

pub(super) fn preferences_text(c: &GpCapacity) -> String {
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

pub(super) async fn capacities_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    number: i64,
    error: Option<String>,
) -> WebResult<Response> {
    let rows = state
        .missions
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
    let ids: Vec<Uuid> = rows.iter().map(|e| e.capacity.professional_id).collect();
    let reminders = state
        .missions
        .doctor_search
        .capacity_reminders(caller, &ids)
        .await?;
    let last_reminder = |professional: Uuid| {
        reminders
            .iter()
            .filter(|d| d.subject_id == professional)
            .max_by_key(|d| d.created_at)
            .map(crate::views::message_row)
    };
    let gps = state
        .missions
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
                    reminder: last_reminder(e.capacity.professional_id),
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

pub(super) async fn capacities(
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
pub(super) struct CapacityForm {
    pub(super) professional: String,
    pub(super) now: String,
    pub(super) later: String,
    pub(super) max_distance_km: String,
    pub(super) communes: Vec<String>,
    pub(super) age_groups: Vec<String>,
    pub(super) home_visits: Option<String>,
    /// The two-click buttons send only this: "keep my preferences, set my room now to N".
    pub(super) quick: Option<String>,
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

pub(super) fn parse_count(field: &'static str, text: &str) -> Result<i64, ValidationError> {
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
        let mut problems = Problems::default();
        let now_capacity = problems
            .keep(parse_count("Places maintenant", &self.now))
            .unwrap_or(0);
        let later_capacity = problems
            .keep(parse_count("Places d'ici 6 mois", &self.later))
            .unwrap_or(0);
        let max_distance_km = match self.max_distance_km.trim() {
            "" => None,
            text => problems.keep(
                text.parse::<i64>()
                    .ok()
                    .filter(|km| (1..=200).contains(km))
                    .ok_or_else(|| {
                        ValidationError::new(
                            "Distance maximale",
                            "un nombre de kilomètres entre 1 et 200, ou vide",
                        )
                    }),
            ),
        };
        let mut communes = Vec::new();
        for code in &self.communes {
            if maillage_domain::territory::find_code(code).is_some() {
                communes.push(code.as_str());
            } else if !code.is_empty() {
                problems.add("Communes", "commune inconnue");
            }
        }
        let groups: Vec<&str> = AGE_GROUPS
            .iter()
            .map(|(code, _)| *code)
            .filter(|code| self.age_groups.iter().any(|g| g == code))
            .collect();
        if groups.is_empty() {
            problems.add("Âges des patients", "cochez au moins un groupe d'âge");
        }
        problems.finish(|| GpCapacity {
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

pub(super) async fn declare_for_gp(
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
        .missions
        .doctor_search
        .capacity_of(&caller, professional)
        .await?;
    match form.capacity(professional, previous.as_ref(), user.user.id) {
        Ok(capacity) => {
            state
                .missions
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
    pub id: String,
    /// Sent, not answered yet: she answers here.
    pub awaiting: bool,
    pub commune: String,
    pub age: i64,
    pub explanation: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "my_capacity.html")]
pub(super) struct MyCapacityPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) linked: bool,
    pub(super) doctor_name: String,
    pub(super) now: i64,
    pub(super) later: i64,
    pub(super) max_distance: String,
    pub(super) home_visits: bool,
    pub(super) ages: Vec<AgeChoice>,
    pub(super) communes: Vec<Choice>,
    pub(super) updated: String,
    pub(super) quick_values: Vec<i64>,
    pub(super) proposals: Vec<MyProposal>,
    pub(super) decline_reasons: Vec<Choice>,
    pub(super) errors: Vec<ValidationError>,
}

pub(super) async fn my_capacity_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    errors: Vec<ValidationError>,
    notice: Option<String>,
) -> WebResult<Response> {
    let service = &state.missions.doctor_search;
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
                    id: view.proposal.id.to_string(),
                    awaiting: view.proposal.status == ProposalStatus::Sent,
                    commune: commune_name(&view.request_commune),
                    age: view.age_at_request,
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
        decline_reasons: pair_choices(&DECLINE_REASONS, ""),
        errors,
    };
    Ok(render_form(&page, has_errors))
}

pub(super) async fn my_capacity(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<NoticeParams>,
) -> WebResult<Response> {
    let notice = if !params.acceptee.is_empty() {
        Some("Merci : vous acceptez ce patient. La coordination le prévient et vous appelle pour le premier rendez-vous.".to_string())
    } else if !params.refusee.is_empty() {
        Some(
            "Refus enregistré : la coordination proposera ce patient à un autre médecin."
                .to_string(),
        )
    } else if !params.deja.is_empty() {
        Some("Cette proposition avait déjà une réponse : rien n'a changé.".to_string())
    } else {
        (!params.nouvelle.is_empty()).then(|| "Merci, c'est enregistré.".to_string())
    };
    my_capacity_page(&state, &viewer, &context, &caller, Vec::new(), notice).await
}

pub(super) async fn save_my_capacity(
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
        .missions
        .doctor_search
        .capacity_of(&caller, professional)
        .await?;
    match form.capacity(professional, previous.as_ref(), user.user.id) {
        Ok(capacity) => {
            state
                .missions
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

//! Unscheduled care: dysfunctions.

use super::*;

pub struct DysfunctionRow {
    pub id: String,
    pub when: String,
    pub kind: &'static str,
    pub reporter: String,
    pub description: String,
    pub follow_up: String,
    pub resolved: bool,
}

pub struct SummaryRow {
    pub kind: &'static str,
    pub count: i64,
    pub resolved: i64,
}

#[derive(Template)]
#[template(path = "snp_dysfunctions.html")]
pub(super) struct DysfunctionsPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) kinds: Vec<Choice>,
    pub(super) rows: Vec<DysfunctionRow>,
    pub(super) summary: Vec<SummaryRow>,
    pub(super) period: String,
    pub(super) can_follow: bool,
    pub(super) form_description: String,
    pub(super) errors: Vec<ValidationError>,
    pub(super) pager: crate::views::Pager,
}

#[derive(Deserialize, Default)]
pub(super) struct DysfunctionParams {
    pub(super) page: Option<i64>,
}

pub(super) const DYSFUNCTION_PAGE: i64 = 50;

/// The last twelve months: what the SAS committee reviews.
pub(super) fn committee_period(now: i64) -> (i64, i64) {
    (now - 365 * 86_400_000, now + 86_400_000)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn dysfunctions_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    number: i64,
    kind: String,
    description: String,
    errors: Vec<ValidationError>,
    notice: Option<String>,
) -> WebResult<Response> {
    let (from, until) = committee_period(now_ms());
    let rows = state
        .missions
        .unscheduled_care
        .dysfunctions(
            caller,
            from,
            until,
            crate::views::lookahead(number, DYSFUNCTION_PAGE),
        )
        .await
        .map_err(care_error)?;
    let (rows, pager) = crate::views::paginate(
        rows,
        &format!("/c/{}/{BASE}/dysfonctionnements", context.cpts.slug),
        number,
        DYSFUNCTION_PAGE,
    );
    let summary = state
        .missions
        .unscheduled_care
        .dysfunction_summary(caller, from, until)
        .await
        .map_err(care_error)?
        .into_iter()
        .map(|(kind, count, resolved)| SummaryRow {
            kind: DysfunctionKind::parse(&kind).map_or("Autre", DysfunctionKind::label),
            count,
            resolved,
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = DysfunctionsPage {
        layout: Layout::in_cpts(viewer, context, "Dysfonctionnements", BASE).with_notice(notice),
        slug: context.cpts.slug.clone(),
        kinds: choices(
            DysfunctionKind::ALL,
            DysfunctionKind::code,
            DysfunctionKind::label,
            &kind,
        ),
        rows: rows
            .into_iter()
            .map(|d| DysfunctionRow {
                id: d.id.to_string(),
                when: french_slot_time(d.occurred_at),
                kind: DysfunctionKind::parse(&d.kind).map_or("Autre", DysfunctionKind::label),
                reporter: d.reporter,
                description: d.description,
                follow_up: d.follow_up,
                resolved: d.resolved_at.is_some(),
            })
            .collect(),
        summary,
        period: "les douze derniers mois".into(),
        can_follow: allows(context.role, Permission::ManageCpts),
        form_description: description,
        errors,
        pager,
    };
    Ok(render_form(&page, has_errors))
}

pub(super) async fn dysfunctions(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<DysfunctionParams>,
) -> WebResult<Response> {
    let number = crate::forms::page_number(params.page);
    dysfunctions_view(
        &state,
        &viewer,
        &context,
        &caller,
        number,
        String::new(),
        String::new(),
        Vec::new(),
        None,
    )
    .await
}

pub(super) async fn record_dysfunction(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let kind = pairs.text("kind");
    let description = pairs.text("description").trim().to_string();
    let mut problems = crate::forms::Problems::default();
    if DysfunctionKind::parse(&kind).is_none() {
        problems.add("Type", "choisissez un type de la liste");
    }
    if description.is_empty() || description.chars().count() > 500 {
        problems.add(
            "Ce qui s'est passé",
            "obligatoire, 500 caractères au plus, sans nom de patient",
        );
    }
    if !problems.is_empty() {
        let errors = problems.0;
        return dysfunctions_view(
            &state,
            &viewer,
            &context,
            &caller,
            1,
            kind,
            description,
            errors,
            None,
        )
        .await;
    }
    if let Err(error) = state
        .missions
        .unscheduled_care
        .report_dysfunction(
            &caller,
            &user.user.display_name,
            DysfunctionKind::parse(&kind).unwrap_or(DysfunctionKind::Other),
            &description,
        )
        .await
    {
        return match error {
            CareError::Invalid(problem) => {
                dysfunctions_view(
                    &state,
                    &viewer,
                    &context,
                    &caller,
                    1,
                    kind,
                    description,
                    vec![problem],
                    None,
                )
                .await
            }
            other => Err(care_error(other)),
        };
    }
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/dysfonctionnements",
        context.cpts.slug
    ))
    .into_response())
}

pub(super) async fn follow_up(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let text = pairs.text("follow_up").trim().to_string();
    if text.chars().count() > 500 {
        return Err(WebError::BadRequest(
            "Suite donnée : 500 caractères au plus.".into(),
        ));
    }
    state
        .missions
        .unscheduled_care
        .follow_up_dysfunction(&caller, id, &text, pairs.optional("resolved").is_some())
        .await
        .map_err(care_error)?;
    Ok(Redirect::to(&format!(
        "/c/{}/{BASE}/dysfonctionnements",
        context.cpts.slug
    ))
    .into_response())
}

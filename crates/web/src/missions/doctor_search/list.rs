//! Access to a médecin traitant: the list.

use super::*;

pub struct StateCount {
    pub code: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "doctor_requests.html")]
pub(super) struct ListPage {
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) counts: Vec<StateCount>,
    pub(super) overdue: i64,
    pub(super) overdue_only: bool,
    pub(super) rows: Vec<RequestRow>,
    pub(super) pager: Pager,
    pub(super) can_match: bool,
    pub(super) notice_public_url: String,
    /// Requests the secretariat must decide on (merge or keep apart), oldest first.
    pub(super) possible_duplicates: Vec<RequestRow>,
    /// The patient searched for, as typed.
    pub(super) search: String,
}

#[derive(Deserialize, Default)]
pub(super) struct ListParams {
    #[serde(default)]
    pub(super) etat: String,
    #[serde(default)]
    pub(super) retard: String,
    /// A patient's name, birth date or phone.
    #[serde(default)]
    pub(super) q: String,
    pub(super) page: Option<i64>,
}

pub(super) const PAGE_SIZE: i64 = 50;

pub(super) async fn home(
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

pub(super) async fn list(
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
            // A patient searched for: whatever became of her requests.
            None if !params.q.trim().is_empty() => Vec::new(),
            // By default the work to do: every open request.
            None => RequestState::ALL
                .into_iter()
                .filter(|s| !s.is_final())
                .collect(),
        },
        referrer: None,
        overdue_at: overdue_only.then_some(now),
        patient_terms: Vec::new(),
    };
    let service = &state.missions.doctor_search;
    let rows = service
        .list_requests(
            &caller,
            &filter,
            &params.q,
            lookahead(number, PAGE_SIZE),
            serde_json::json!({ "page": number, "state": params.etat }),
        )
        .await?;
    let base = format!(
        "/c/{}/{BASE}?etat={}&retard={}&q={}",
        context.cpts.slug,
        selected.map(RequestState::code).unwrap_or_default(),
        if overdue_only { "1" } else { "" },
        crate::access::url_encode(params.q.trim())
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
        possible_duplicates: service
            .possible_duplicates(&caller, Page::first(20))
            .await?
            .iter()
            .map(|r| row_view(r, now))
            .collect(),
        notice_public_url: format!(
            "{}/demande-medecin/{}",
            state.config.server.base_url(),
            context.cpts.slug
        ),
        search: params.q.trim().to_string(),
    }))
}

//! Access to a médecin traitant: indicators.

use super::*;

use crate::indicators::Figure;
use maillage_app::doctor_search::indicators::{BACKLOG, BY_CHANNEL, BY_REFERRER, MAIN};

#[derive(Template)]
#[template(path = "doctor_indicators.html")]
pub(super) struct IndicatorsPage {
    pub(super) can_match: bool,
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) year: i64,
    pub(super) years: Vec<Choice>,
    pub(super) period: String,
    pub(super) figures: Vec<Figure>,
    pub(super) channels: Vec<Figure>,
    pub(super) referrers: Vec<Figure>,
    pub(super) backlog: Vec<Figure>,
    pub(super) channel_chart: String,
    pub(super) backlog_chart: String,
}

#[derive(Deserialize, Default)]
pub(super) struct YearParams {
    pub(super) annee: Option<i64>,
}

/// The set of the year asked for (the service decides the period and the rights).
pub(super) async fn compute_indicators(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    params: &YearParams,
) -> WebResult<maillage_domain::indicators::IndicatorSet> {
    Ok(state
        .missions
        .doctor_search
        .indicators(caller, params.annee, now_ms())
        .await?)
}

pub(super) async fn indicators(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    let i = compute_indicators(&state, &caller, &params).await?;
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
        channel_chart: crate::indicators::bars(i.group_of(BY_CHANNEL), "demandes", "Demandes"),
        backlog_chart: crate::indicators::bars(i.group_of(BACKLOG), "demandes", "Demandes"),
        figures: crate::indicators::figures(i.group_of(MAIN)),
        channels: crate::indicators::figures(i.group_of(BY_CHANNEL)),
        referrers: crate::indicators::figures(i.group_of(BY_REFERRER)),
        backlog: crate::indicators::figures(i.group_of(BACKLOG)),
        period: i.period,
    }))
}

pub(super) async fn indicators_export(
    state: &AppState,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    params: &YearParams,
    format: &str,
) -> WebResult<Response> {
    let i = compute_indicators(state, caller, params).await?;
    state
        .missions
        .doctor_search
        .record_export(caller, i.year, format)
        .await?;
    let sheets = [crate::indicators::sheet(
        format!("Médecin traitant {}", i.year),
        &i,
    )];
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

pub(super) async fn indicators_csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "csv").await
}

pub(super) async fn indicators_xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<YearParams>,
) -> WebResult<Response> {
    indicators_export(&state, &context, &caller, &params, "xlsx").await
}

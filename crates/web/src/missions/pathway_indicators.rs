//! Care pathways in figures: the indicators of a contract year — patients included per pathway, each step's
//! share done within its window, the steps done and cancelled, the screenings and their positives — as a
//! page with its charts and as CSV and XLSX files (numbers as numbers). Computed by the service, rendered by
//! the shared indicator pieces.

use super::pathway_patients::{pathway_error, today, BASE};
use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::export::{report_csv, report_xlsx};
use crate::forms::Query;
use crate::indicators::{bars, figures, sheet, Figure};
use crate::views::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use maillage_app::caller::Caller;
use maillage_app::pathway_care::indicators::{
    INCLUSIONS, IN_TIME, MEETINGS, SCREENINGS, STEPS, WAITING,
};
use maillage_domain::authz::Permission;
use maillage_domain::indicators::IndicatorSet;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours/indicateurs",
            Access::Cpts(Permission::ViewPathwayIndicators),
            "Indicateurs des parcours de soins",
            page,
        )
        .get(
            "/c/{cpts}/parcours/indicateurs.csv",
            Access::Cpts(Permission::ViewPathwayIndicators),
            "Export CSV des indicateurs des parcours",
            csv,
        )
        .get(
            "/c/{cpts}/parcours/indicateurs.xlsx",
            Access::Cpts(Permission::ViewPathwayIndicators),
            "Export XLSX des indicateurs des parcours",
            xlsx,
        )
}

#[derive(serde::Deserialize, Default)]
struct Params {
    annee: Option<i32>,
}

struct Year {
    value: i32,
    selected: bool,
}

struct Group {
    title: String,
    figures: Vec<Figure>,
    chart: String,
}

#[derive(Template)]
#[template(path = "pathway_indicators.html")]
struct Page {
    layout: Layout,
    slug: String,
    year: i32,
    years: Vec<Year>,
    period: String,
    groups: Vec<Group>,
}

async fn set_of(
    state: &AppState,
    caller: &Caller,
    params: &Params,
) -> WebResult<(i32, IndicatorSet)> {
    let today = today();
    let this_year = today.year;
    let year = params
        .annee
        .filter(|y| (2020..=this_year).contains(y))
        .unwrap_or(this_year);
    let set = state
        .missions
        .pathway_care
        .indicators(caller, year, today)
        .await
        .map_err(pathway_error)?;
    Ok((year, set))
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<Params>,
) -> WebResult<Response> {
    let (year, set) = set_of(&state, &caller, &params).await?;
    let this_year = today().year;
    let groups = [
        (INCLUSIONS, "nombre", "Patients"),
        (IN_TIME, "%", "Dans le délai"),
        (STEPS, "", ""),
        (SCREENINGS, "nombre", "Repérages"),
        (MEETINGS, "", ""),
        (WAITING, "", ""),
    ]
    .into_iter()
    .filter_map(|(code, unit, series)| {
        let group = set.group_of(code)?;
        Some(Group {
            title: group.title.clone(),
            figures: figures(Some(group)),
            chart: if unit.is_empty() {
                String::new()
            } else {
                bars(Some(group), unit, series)
            },
        })
    })
    .collect();
    let page = Page {
        layout: Layout::in_cpts(&viewer, &context, "Indicateurs des parcours de soins", BASE),
        slug: context.cpts.slug.clone(),
        year,
        years: (this_year - 4..=this_year)
            .rev()
            .map(|value| Year {
                value,
                selected: value == year,
            })
            .collect(),
        period: set.period.clone(),
        groups,
    };
    Ok(render(&page))
}

async fn export(
    state: &AppState,
    context: &CptsContext,
    caller: &Caller,
    params: &Params,
    format: &str,
) -> WebResult<Response> {
    let (year, set) = set_of(state, caller, params).await?;
    state
        .missions
        .pathway_care
        .record_indicators_export(caller, year, format)
        .await
        .map_err(pathway_error)?;
    let file = format!("indicateurs-parcours-{}-{year}.{format}", context.cpts.slug);
    let sheets = [sheet(format!("Parcours {year}"), &set)];
    if format == "csv" {
        Ok(report_csv(&file, &sheets))
    } else {
        report_xlsx(&file, &sheets)
    }
}

async fn csv(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<Params>,
) -> WebResult<Response> {
    export(&state, &context, &caller, &params, "csv").await
}

async fn xlsx(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(params): Query<Params>,
) -> WebResult<Response> {
    export(&state, &context, &caller, &params, "xlsx").await
}

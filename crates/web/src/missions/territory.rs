//! The territory of a CPTS: its communes, population and ACI size category, with an offline map.

use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::forms::{Form, Query};
use crate::views::{render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maillage_domain::authz::{allows, Permission};
use maillage_domain::identifiers::InseeCode;
use maillage_domain::territory::{find, population_of, search, Commune};
use serde::Deserialize;
use std::fmt::Write;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/territoire",
            Access::Cpts(Permission::ViewDashboard),
            "Territoire de la CPTS",
            page,
        )
        .post(
            "/c/{cpts}/territoire/codes",
            Access::Cpts(Permission::ManageCpts),
            "Ajout de communes au territoire",
            add,
        )
        .post(
            "/c/{cpts}/territoire/retirer",
            Access::Cpts(Permission::ManageCpts),
            "Retrait d'une commune du territoire",
            remove,
        )
}

/// "54 291" with a narrow no-break space, as French typography writes numbers.
pub fn french_number(value: u64) -> String {
    maillage_domain::text::group_thousands(value, '\u{202f}')
}

pub struct CommuneRow {
    pub code: String,
    pub name: String,
    pub postal_codes: String,
    pub departement: String,
    pub population: String,
}

pub struct SearchResult {
    pub code: String,
    pub name: String,
    pub postal_codes: String,
    pub population: String,
    pub included: bool,
}

#[derive(Template)]
#[template(path = "territory.html")]
struct TerritoryPage {
    layout: Layout,
    cpts_name: String,
    slug: String,
    can_edit: bool,
    can_see_directory: bool,
    /// May import and edit the directory (the Imports tab).
    can_manage: bool,
    communes: Vec<CommuneRow>,
    population: String,
    size_category: u8,
    thresholds: (String, String, String),
    map_svg: String,
    query: String,
    results: Vec<SearchResult>,
    pasted: String,
    errors: Vec<String>,
}

/// The territory's communes, circles sized by population.
pub fn map_svg(communes: &[&Commune]) -> String {
    let points: Vec<MapPoint> = communes
        .iter()
        .filter_map(|c| {
            c.coordinates().map(|(lat, lon)| MapPoint {
                lat,
                lon,
                label: c.name.clone(),
                title: format!("{} — {} hab.", c.name, french_number(c.population)),
                weight: c.population as f64,
                highlight: false,
            })
        })
        .collect();
    points_map(
        &format!("Carte des {} communes du territoire", points.len()),
        &points,
    )
}

/// A place on a map.
pub struct MapPoint {
    pub lat: f64,
    pub lon: f64,
    pub label: String,
    /// Shown on hover and read by screen readers.
    pub title: String,
    /// Sizes the circle (population, slots…).
    pub weight: f64,
    /// Drawn in another colour (the patient's commune).
    pub highlight: bool,
}

/// Points on an equirectangular projection around their centre, circles sized by weight. Only
/// presentation attributes (no `style`): the CSP forbids inline styles. No tiles: hospitals run offline LANs.
pub fn points_map(label: &str, points: &[MapPoint]) -> String {
    let (width, height, margin) = (640.0_f64, 420.0_f64, 40.0_f64);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    if points.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let mean_lat = points.iter().map(|p| p.lat).sum::<f64>() / points.len() as f64;
    let x_of = |lon: f64| lon * mean_lat.to_radians().cos();
    let (min_x, max_x) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(x_of(p.lon)), hi.max(x_of(p.lon)))
    });
    let (min_y, max_y) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.lat), hi.max(p.lat))
    });
    let span = (max_x - min_x).max(max_y - min_y).max(0.01);
    let scale = ((width - 2.0 * margin) / span).min((height - 2.0 * margin) / span);
    let offset_x = (width - (max_x - min_x) * scale) / 2.0;
    let offset_y = (height - (max_y - min_y) * scale) / 2.0;
    let max_weight = points.iter().map(|p| p.weight).fold(1.0_f64, f64::max);
    for point in points {
        let x = offset_x + (x_of(point.lon) - min_x) * scale;
        let y = height - (offset_y + (point.lat - min_y) * scale);
        let radius = 4.0 + 14.0 * (point.weight.max(0.0) / max_weight).sqrt();
        let fill = if point.highlight {
            "#2e7d4f"
        } else {
            "#1b3d6d"
        };
        let _ = write!(
            svg,
            "<g><title>{}</title><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius:.1}\" fill=\"{fill}\" fill-opacity=\"0.75\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#1a1f29\">{}</text></g>",
            escape(&point.title),
            y - radius - 4.0,
            escape(&point.label),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    q: String,
}

async fn view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    query: String,
    pasted: String,
    errors: Vec<String>,
) -> WebResult<Response> {
    let codes = state.missions.directory.territory(caller).await?;
    let thresholds = state.config.territory.size_thresholds;
    let report = population_of(&codes, &thresholds);
    let can_edit = allows(context.role, Permission::ManageCpts);
    let results = if can_edit && !query.trim().is_empty() {
        search(&query, 20)
            .into_iter()
            .map(|c| SearchResult {
                included: codes.contains(&c.code),
                code: c.code.clone(),
                name: c.name.clone(),
                postal_codes: c.postal_codes.join(" "),
                population: french_number(c.population),
            })
            .collect()
    } else {
        Vec::new()
    };
    let failed = !errors.is_empty();
    let [first, second, third] = thresholds.0;
    Ok(render_form(
        &TerritoryPage {
            layout: Layout::in_cpts(viewer, context, "Territoire", "territoire"),
            cpts_name: context.cpts.name.clone(),
            slug: context.cpts.slug.clone(),
            can_edit,
            can_see_directory: allows(context.role, Permission::ViewMemberDirectory),
            can_manage: allows(context.role, Permission::ManageDirectory),
            map_svg: map_svg(&report.communes),
            communes: report
                .communes
                .iter()
                .map(|c| CommuneRow {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    postal_codes: c.postal_codes.join(" "),
                    departement: c.departement.clone(),
                    population: french_number(c.population),
                })
                .collect(),
            population: french_number(report.population),
            size_category: report.size_category.number(),
            thresholds: (
                french_number(first),
                french_number(second),
                french_number(third),
            ),
            query,
            results,
            pasted,
            errors,
        },
        failed,
    ))
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Query(query): Query<PageQuery>,
) -> WebResult<Response> {
    view(
        &state,
        &viewer,
        &context,
        &caller,
        query.q.chars().take(100).collect(),
        String::new(),
        Vec::new(),
    )
    .await
}

#[derive(Deserialize)]
struct CodesForm {
    #[serde(default)]
    codes: String,
}

/// Splits pasted text into codes: spaces, commas, semicolons and line breaks separate them.
fn split_codes(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

async fn add(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Form(form): Form<CodesForm>,
) -> WebResult<Response> {
    let codes = split_codes(&form.codes);
    if codes.is_empty() {
        let errors = vec!["codes INSEE : saisissez au moins un code".to_string()];
        return view(
            &state,
            &viewer,
            &context,
            &caller,
            String::new(),
            form.codes,
            errors,
        )
        .await;
    }
    if codes.len() > 500 {
        let errors = vec!["codes INSEE : 500 communes au plus par ajout".to_string()];
        return view(
            &state,
            &viewer,
            &context,
            &caller,
            String::new(),
            form.codes,
            errors,
        )
        .await;
    }
    let report = population_of(&codes, &state.config.territory.size_thresholds);
    if !report.unknown.is_empty() {
        // Nothing is added while one code is wrong: the coordinator corrects the list and sends it again.
        let errors = report
            .unknown
            .iter()
            .map(|u| format!("code INSEE « {} » : {}", u.code, u.reason))
            .collect();
        return view(
            &state,
            &viewer,
            &context,
            &caller,
            String::new(),
            form.codes,
            errors,
        )
        .await;
    }
    let found: Vec<String> = report.communes.iter().map(|c| c.code.clone()).collect();
    // The territory is not personal data: its changes go to the technical log, not to the audit trail.
    state
        .missions
        .directory
        .add_to_territory(&caller, &found)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/territoire", context.cpts.slug)).into_response())
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    code: String,
}

async fn remove(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Form(form): Form<RemoveForm>,
) -> WebResult<Response> {
    let code = InseeCode::parse(&form.code)?;
    if find(&code).is_some() {
        state
            .missions
            .directory
            .remove_from_territory(&caller, code.as_str())
            .await?;
    }
    Ok(Redirect::to(&format!("/c/{}/territoire", context.cpts.slug)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_french_way() {
        assert_eq!(french_number(54_291), "54\u{202f}291");
        assert_eq!(french_number(999), "999");
        assert_eq!(french_number(1_000_000), "1\u{202f}000\u{202f}000");
    }

    #[test]
    fn pasted_codes_are_split_on_any_separator() {
        assert_eq!(
            split_codes("30003, 30341;2A004\n 30006"),
            vec!["30003", "30341", "2A004", "30006"]
        );
    }

    #[test]
    fn the_map_escapes_names_and_uses_no_inline_style() {
        let communes: Vec<&Commune> = ["30003", "30341", "30276"]
            .iter()
            .filter_map(|c| find(&InseeCode::parse(c).ok()?))
            .collect();
        let svg = map_svg(&communes);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("Saint-Laurent-d'Aigouze"));
        assert!(!svg.contains("style="));
    }
}

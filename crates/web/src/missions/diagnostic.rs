//! The diagnostic page of the territory, with its charts and its XLSX export.

use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::charts::{french_decimal, grouped_bars};
use crate::error::WebResult;
use crate::export::xlsx_download;
use crate::missions::territory::french_number;
use crate::views::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use maillage_app::clock::{now_ms, year_of};
use maillage_app::diagnostic::{Diagnostic, RETIREMENT_WATCH_AGE};
use maillage_app::export::{Cell, Xlsx};
use maillage_domain::authz::{allows, Permission};
use maillage_store::GENERAL_PRACTICE;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/diagnostic",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Diagnostic du territoire",
            page,
        )
        .get(
            "/c/{cpts}/diagnostic.xlsx",
            Access::Cpts(Permission::ViewMemberDirectory),
            "Export Excel du diagnostic",
            export,
        )
}

/// Categories shown per commune (columns of the commune table).
const COMMUNE_CATEGORIES: [(&str, &str); 7] = [
    (GENERAL_PRACTICE, "Méd. gén."),
    ("60", "Infirmiers"),
    ("70", "Kinés"),
    ("40", "Dentistes"),
    ("21", "Pharmaciens"),
    ("50", "Sages-femmes"),
    ("91", "Orthophonistes"),
];

fn decimal(value: Option<f64>) -> String {
    value.map(french_decimal).unwrap_or_else(|| "—".into())
}

pub struct CategoryView {
    pub label: String,
    pub professionals: String,
    pub density: String,
    pub departement_density: String,
    pub france_density: String,
    pub members: String,
    pub representativeness: String,
}

pub struct CommuneView {
    pub name: String,
    pub population: String,
    pub counts: Vec<i64>,
}

#[derive(Template)]
#[template(path = "diagnostic.html")]
struct DiagnosticPage {
    layout: Layout,
    slug: String,
    can_manage: bool,
    population: String,
    departement: String,
    has_reference: bool,
    reference_professionals: i64,
    total_professionals: i64,
    total_members: i64,
    representativeness: String,
    categories: Vec<CategoryView>,
    density_chart: String,
    members_chart: String,
    general_practitioners: i64,
    gps_with_birth_year: i64,
    gps_aged_60_plus: i64,
    share_60_plus: String,
    watch_age: i64,
    without_gp: Vec<String>,
    commune_headers: Vec<&'static str>,
    communes: Vec<CommuneView>,
}

async fn diagnostic_of(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
) -> WebResult<Diagnostic> {
    Ok(state
        .missions
        .directory
        .diagnostic(caller, year_of(now_ms()))
        .await?)
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    let d = diagnostic_of(&state, &caller).await?;
    let departement_label = d
        .departement
        .as_ref()
        .map(|(code, _)| format!("Département {code}"))
        .unwrap_or_else(|| "Département".into());
    // Without the national extract, only the territory's densities mean something.
    let series: Vec<&str> = if d.has_reference {
        vec!["Territoire", &departement_label, "France"]
    } else {
        vec!["Territoire"]
    };
    let density_chart = grouped_bars(
        "Densité de professionnels pour 10 000 habitants",
        "professionnels pour 10 000 habitants",
        &series,
        &d.categories
            .iter()
            .map(|c| {
                let values = if d.has_reference {
                    vec![c.density, c.departement_density, c.france_density]
                } else {
                    vec![c.density]
                };
                (c.label.clone(), values)
            })
            .collect::<Vec<_>>(),
    );
    let members_chart = grouped_bars(
        "Représentativité des membres par profession",
        "pourcentage des professionnels du territoire membres de la CPTS",
        &["Membres (%)"],
        &d.categories
            .iter()
            .filter(|c| c.category != GENERAL_PRACTICE || c.professionals > 0)
            .map(|c| (c.label.clone(), vec![c.representativeness]))
            .collect::<Vec<_>>(),
    );
    Ok(render(&DiagnosticPage {
        layout: Layout::in_cpts(&viewer, &context, "Diagnostic du territoire", "territoire"),
        slug: context.cpts.slug.clone(),
        can_manage: allows(context.role, Permission::ManageDirectory),
        population: french_number(d.population),
        departement: d
            .departement
            .as_ref()
            .map(|(code, population)| format!("{code} ({} habitants)", french_number(*population)))
            .unwrap_or_default(),
        has_reference: d.has_reference,
        reference_professionals: d.reference_professionals,
        total_professionals: d.total_professionals,
        total_members: d.total_members,
        representativeness: decimal(maillage_app::diagnostic::percent(
            d.total_members,
            d.total_professionals,
        )),
        categories: d
            .categories
            .iter()
            .map(|c| CategoryView {
                label: c.label.clone(),
                professionals: c.professionals.to_string(),
                density: decimal(c.density),
                departement_density: decimal(c.departement_density),
                france_density: decimal(c.france_density),
                members: c.members.to_string(),
                representativeness: decimal(c.representativeness),
            })
            .collect(),
        density_chart,
        members_chart,
        general_practitioners: d.general_practitioners,
        gps_with_birth_year: d.gps_with_birth_year,
        gps_aged_60_plus: d.gps_aged_60_plus,
        share_60_plus: decimal(d.share_gps_aged_60_plus()),
        watch_age: RETIREMENT_WATCH_AGE,
        without_gp: d
            .communes_without_gp()
            .iter()
            .map(|c| format!("{} ({} hab.)", c.name, french_number(c.population)))
            .collect(),
        commune_headers: COMMUNE_CATEGORIES.iter().map(|(_, label)| *label).collect(),
        communes: d
            .communes
            .iter()
            .map(|c| CommuneView {
                name: c.name.clone(),
                population: french_number(c.population),
                counts: COMMUNE_CATEGORIES
                    .iter()
                    .map(|(code, _)| c.count(code))
                    .collect(),
            })
            .collect(),
    }))
}

fn workbook(d: &Diagnostic) -> Result<Vec<u8>, maillage_app::export::ExportError> {
    let mut xlsx = Xlsx::new();
    xlsx.sheet(
        "Densités",
        &[
            "Profession",
            "Professionnels du territoire",
            "Densité territoire (/10 000 hab.)",
            "Professionnels du département",
            "Densité département",
            "Professionnels en France",
            "Densité France",
            "Membres",
            "Représentativité (%)",
        ],
    )?;
    let number = |v: Option<f64>| v.map(Cell::Number).unwrap_or(Cell::Empty);
    for c in &d.categories {
        xlsx.row(&[
            c.label.as_str().into(),
            c.professionals.into(),
            number(c.density),
            c.departement_professionals.into(),
            number(c.departement_density),
            c.france_professionals.into(),
            number(c.france_density),
            c.members.into(),
            number(c.representativeness),
        ])?;
    }
    let mut header = vec!["Code commune", "Commune", "Population"];
    header.extend(COMMUNE_CATEGORIES.iter().map(|(_, label)| *label));
    xlsx.sheet("Communes", &header)?;
    for c in &d.communes {
        let mut cells: Vec<Cell> = vec![
            c.code.as_str().into(),
            c.name.as_str().into(),
            Cell::Number(c.population as f64),
        ];
        cells.extend(
            COMMUNE_CATEGORIES
                .iter()
                .map(|(code, _)| Cell::from(c.count(code))),
        );
        xlsx.row(&cells)?;
    }
    xlsx.sheet("Médecins généralistes", &["Indicateur", "Valeur"])?;
    xlsx.row(&[
        "Médecins généralistes".into(),
        d.general_practitioners.into(),
    ])?;
    xlsx.row(&[
        "Année de naissance connue".into(),
        d.gps_with_birth_year.into(),
    ])?;
    xlsx.row(&[
        format!("{RETIREMENT_WATCH_AGE} ans ou plus").into(),
        d.gps_aged_60_plus.into(),
    ])?;
    xlsx.row(&[
        format!("Part des {RETIREMENT_WATCH_AGE} ans ou plus (%)").into(),
        number(d.share_gps_aged_60_plus()),
    ])?;
    for c in d.communes_without_gp() {
        xlsx.row(&[
            "Commune sans médecin généraliste".into(),
            c.name.as_str().into(),
        ])?;
    }
    xlsx.finish()
}

async fn export(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    let d = diagnostic_of(&state, &caller).await?;
    Ok(xlsx_download(
        &format!("diagnostic-{}.xlsx", context.cpts.slug),
        workbook(&d)?,
    ))
}

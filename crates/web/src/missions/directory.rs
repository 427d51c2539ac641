//! The directory of the professionals practising on the territory, for the people of the CPTS.

use crate::access::{Access, Actor, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::forms::Query;
use crate::pages::record_list_read;
use crate::views::{lookahead, paginate, render, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::identifiers::InseeCode;
use maillage_domain::territory::find;
use maillage_domain::text::fold;
use maillage_store::DirectoryQuery;
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router.get(
        "/c/{cpts}/annuaire",
        Access::Cpts(Permission::ViewMemberDirectory),
        "Annuaire des professionnels du territoire",
        page,
    )
}

/// Professions of the national directory offered as filters (code, label).
const PROFESSIONS: [(&str, &str); 12] = [
    ("10", "Médecin"),
    ("21", "Pharmacien"),
    ("40", "Chirurgien-dentiste"),
    ("50", "Sage-femme"),
    ("60", "Infirmier"),
    ("70", "Masseur-kinésithérapeute"),
    ("80", "Pédicure-podologue"),
    ("91", "Orthophoniste"),
    ("92", "Orthoptiste"),
    ("93", "Psychologue"),
    ("94", "Ergothérapeute"),
    ("96", "Psychomotricien"),
];

pub struct ProfessionOption {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct DirectoryRow {
    pub name: String,
    pub profession: String,
    pub specialty: String,
    pub commune: String,
    pub structure: String,
    pub phone: String,
    pub mode: String,
    pub member: bool,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    layout: Layout,
    cpts_name: String,
    slug: String,
    total: i64,
    query: String,
    professions: Vec<ProfessionOption>,
    rows: Vec<DirectoryRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
struct DirectoryParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    profession: String,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 50;

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Actor(actor): Actor,
    Query(params): Query<DirectoryParams>,
) -> WebResult<Response> {
    let number = params.page.unwrap_or(1).clamp(1, 1_000_000);
    let query_text: String = params.q.chars().take(100).collect();
    let profession = PROFESSIONS
        .iter()
        .find(|(code, _)| *code == params.profession)
        .map(|(code, _)| code.to_string());
    let query = DirectoryQuery {
        words: fold(&query_text)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
        profession_code: profession.clone(),
        public_only: false,
    };
    record_list_read(
        &state,
        &actor,
        AuditAction::DirectoryViewed,
        "directory",
        number,
    )
    .await?;
    let rows = state
        .store
        .search_professionals(context.cpts.id, &query, lookahead(number, PAGE_SIZE))
        .await?;
    let base = format!(
        "/c/{}/annuaire?{}",
        context.cpts.slug,
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &query_text)
            .append_pair("profession", profession.as_deref().unwrap_or_default())
            .finish()
    );
    let (rows, pager) = paginate(rows, &base, number, PAGE_SIZE);
    Ok(render(&DirectoryPage {
        layout: Layout::in_cpts(&viewer, &context, "Annuaire", "territoire"),
        cpts_name: context.cpts.name.clone(),
        slug: context.cpts.slug.clone(),
        total: state.store.count_professionals(context.cpts.id).await?,
        professions: PROFESSIONS
            .iter()
            .map(|(code, label)| ProfessionOption {
                code,
                label,
                selected: profession.as_deref() == Some(code),
            })
            .collect(),
        query: query_text,
        rows: rows
            .into_iter()
            .map(|p| DirectoryRow {
                name: format!("{} {} {}", p.civility, p.first_name, p.last_name)
                    .trim()
                    .to_string(),
                profession: p.profession_label,
                specialty: p.specialty,
                commune: InseeCode::parse(&p.commune_code)
                    .ok()
                    .and_then(|code| find(&code))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                structure: p.structure_name,
                phone: p.phone,
                mode: p.practice_mode,
                member: p.member,
            })
            .collect(),
        pager,
    }))
}

//! The public directory of a CPTS: only the entries the CPTS made public, readable without an account (for
//! patients, partners and the town halls of the territory).

use super::directory::{profession_choices, row_view, search_words, Choice, DirectoryRow};
use crate::access::{Access, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::forms::Query;
use crate::views::{lookahead, paginate, render, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use maillage_store::DirectoryQuery;
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router.get(
        "/annuaire/{slug}",
        Access::Public,
        "Annuaire public de la CPTS (fiches publiques seulement)",
        page,
    )
}

#[derive(Template)]
#[template(path = "public_directory.html")]
struct PublicPage {
    layout: Layout,
    slug: String,
    cpts_name: String,
    query: String,
    professions: Vec<Choice>,
    rows: Vec<DirectoryRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    profession: String,
    page: Option<i64>,
}

const PAGE_SIZE: i64 = 30;

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(params): Query<Params>,
) -> WebResult<Response> {
    let cpts = state
        .missions
        .directory
        .public_cpts(&slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let number = params.page.unwrap_or(1).clamp(1, 100_000);
    let query = DirectoryQuery {
        words: search_words(&params.q),
        profession_code: profession_choices(&params.profession)
            .into_iter()
            .find(|c| c.selected)
            .map(|c| c.code),
        public_only: true,
        ..DirectoryQuery::default()
    };
    let rows = state
        .missions
        .directory
        .public_professionals(&cpts, &query, lookahead(number, PAGE_SIZE))
        .await?;
    let base = format!(
        "/annuaire/{}?{}",
        cpts.slug,
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &params.q.chars().take(100).collect::<String>())
            .append_pair("profession", &params.profession)
            .finish()
    );
    let (rows, pager) = paginate(rows, &base, number, PAGE_SIZE);
    Ok(render(&PublicPage {
        layout: Layout::new(&viewer, format!("Annuaire — {}", cpts.name), ""),
        slug: cpts.slug.clone(),
        cpts_name: cpts.name.clone(),
        query: params.q.chars().take(100).collect(),
        professions: profession_choices(&params.profession),
        rows: rows
            .into_iter()
            .map(|mut p| {
                // The public page shows the practice place's phone, never a contact the CPTS keeps.
                p.contact_phone.clear();
                row_view(p)
            })
            .collect(),
        pager,
    }))
}

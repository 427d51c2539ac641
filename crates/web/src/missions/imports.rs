//! Imports from the web: the coordination uploads the national directory's extract, the FINESS extraction or
//! the member template; the file is streamed to a temporary file and imported in the background; the import's
//! page shows a progress bar (refreshed by htmx, or by reloading) and then the report.

use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::WebResult;
use crate::export::{csv_download, csv_line, BOM};
use crate::pages::format_instant;
use crate::views::{render, render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::clock::now_ms;
use maillage_app::directory::{ImportReport, LineProblem};
use maillage_app::imports::{status_of, ImportKind};
use maillage_domain::authz::Permission;
use maillage_domain::professional::MEMBER_COLUMNS;
use maillage_store::{ImportRun, Page};
use tokio::io::AsyncWriteExt;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/imports",
            Access::Cpts(Permission::ManageDirectory),
            "Imports de l'annuaire, de FINESS et des membres",
            page,
        )
        .post_upload(
            "/c/{cpts}/imports",
            Access::Cpts(Permission::ManageDirectory),
            "Envoi d'un fichier à importer",
            upload,
        )
        .get(
            "/c/{cpts}/imports/modele-membres.csv",
            Access::Cpts(Permission::ManageDirectory),
            "Modèle CSV des membres",
            template,
        )
        .get(
            "/c/{cpts}/imports/suivi/{id}",
            Access::Cpts(Permission::ManageDirectory),
            "Suivi d'un import",
            progress_page,
        )
        .get(
            "/c/{cpts}/imports/suivi/{id}/etat",
            Access::Cpts(Permission::ManageDirectory),
            "État d'un import (fragment rafraîchi)",
            progress_fragment,
        )
}

pub struct KindChoice {
    pub code: &'static str,
    pub label: &'static str,
}

pub struct RunView {
    pub id: String,
    pub kind: &'static str,
    pub file_name: String,
    pub started: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub percent: i64,
    pub done_mb: String,
    pub total_mb: String,
    pub error: String,
    pub report: Option<ImportReport>,
}

impl RunView {
    pub fn rejected(&self) -> &[LineProblem] {
        self.report.as_ref().map_or(&[], |r| r.rejected.as_slice())
    }

    pub fn warnings(&self) -> &[LineProblem] {
        self.report.as_ref().map_or(&[], |r| r.warnings.as_slice())
    }
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0).replace('.', ",")
}

fn run_view(run: ImportRun) -> RunView {
    let status = status_of(&run, now_ms());
    RunView {
        id: run.id.to_string(),
        kind: ImportKind::parse(&run.kind).map_or("Import", ImportKind::label),
        started: format_instant(run.started_at),
        status,
        status_label: match status {
            "running" => "En cours",
            "done" => "Terminé",
            "interrupted" => {
                "Interrompu (le serveur qui l'exécutait s'est arrêté) : relancez l'import"
            }
            _ => "Échec",
        },
        percent: if run.bytes_total > 0 {
            (run.bytes_done.saturating_mul(100) / run.bytes_total).clamp(0, 100)
        } else {
            100
        },
        done_mb: megabytes(run.bytes_done),
        total_mb: megabytes(run.bytes_total),
        error: run.error.unwrap_or_default(),
        report: run.report.and_then(|json| serde_json::from_str(&json).ok()),
        file_name: run.file_name,
    }
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    layout: Layout,
    slug: String,
    can_manage: bool,
    kinds: Vec<KindChoice>,
    columns: Vec<&'static str>,
    runs: Vec<RunView>,
    error: String,
}

impl ImportsPage {
    /// The largest file the server takes, as the page states it (the real limit, not a copy of it).
    fn max_size(&self) -> String {
        format!("{} Go", crate::access::UPLOAD_LIMIT / (1024 * 1024 * 1024))
    }
}

async fn imports_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &maillage_app::caller::Caller,
    error: String,
) -> WebResult<Response> {
    let runs = state
        .missions
        .directory
        .imports(caller, Page::new(1, 20))
        .await?
        .into_iter()
        .map(run_view)
        .collect();
    let has_error = !error.is_empty();
    Ok(render_form(
        &ImportsPage {
            layout: Layout::in_cpts(viewer, context, "Imports", "territoire"),
            slug: context.cpts.slug.clone(),
            can_manage: true,
            kinds: ImportKind::ALL
                .iter()
                .map(|k| KindChoice {
                    code: k.code(),
                    label: k.label(),
                })
                .collect(),
            columns: MEMBER_COLUMNS.to_vec(),
            runs,
            error,
        },
        has_error,
    ))
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    imports_page(&state, &viewer, &context, &caller, String::new()).await
}

/// Streams the multipart form (`kind`, then `file`) to a temporary file, never holding the file in memory.
async fn receive(
    headers: &HeaderMap,
    body: Body,
) -> Result<(ImportKind, String, tempfile::TempPath, u64), String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        "Le formulaire d'envoi est mal formé : choisissez un fichier puis recommencez.".to_string()
    })?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut kind = None;
    let too_large = |error: multer::Error| match error {
        multer::Error::StreamReadFailed(_) => format!(
            "Le fichier dépasse la taille autorisée ({} Mo) ou l'envoi a été interrompu.",
            crate::access::UPLOAD_LIMIT / (1024 * 1024)
        ),
        _ => "Le formulaire d'envoi est mal formé : choisissez un fichier puis recommencez."
            .to_string(),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(too_large)? {
        match field.name() {
            Some("kind") => {
                let text = field.text().await.map_err(too_large)?;
                kind = Some(ImportKind::parse(text.trim()).ok_or_else(|| {
                    format!(
                        "Type d'import : « {} » n'est pas un type proposé.",
                        text.trim()
                    )
                })?);
            }
            Some("file") => {
                let kind = kind.ok_or_else(|| {
                    "Type d'import : choisissez ce que contient le fichier.".to_string()
                })?;
                let file_name: String = field
                    .file_name()
                    .unwrap_or("fichier")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect();
                let temporary = tempfile::NamedTempFile::new()
                    .map_err(|_| "Le serveur n'a pas pu enregistrer le fichier.".to_string())?;
                let (file, path) = temporary.into_parts();
                let mut file = tokio::fs::File::from_std(file);
                let mut size = 0_u64;
                while let Some(chunk) = field.chunk().await.map_err(too_large)? {
                    size += chunk.len() as u64;
                    file.write_all(&chunk)
                        .await
                        .map_err(|_| "Le serveur n'a pas pu enregistrer le fichier.".to_string())?;
                }
                file.flush()
                    .await
                    .map_err(|_| "Le serveur n'a pas pu enregistrer le fichier.".to_string())?;
                if size == 0 {
                    return Err("Fichier : choisissez un fichier non vide.".to_string());
                }
                return Ok((kind, file_name, path, size));
            }
            _ => {}
        }
    }
    Err("Fichier : choisissez un fichier à importer.".to_string())
}

async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    headers: HeaderMap,
    body: Body,
) -> WebResult<Response> {
    let (kind, file_name, path, size) = match receive(&headers, body).await {
        Ok(received) => received,
        Err(message) => return imports_page(&state, &viewer, &context, &caller, message).await,
    };
    if state
        .missions
        .directory
        .territory(&caller)
        .await?
        .is_empty()
    {
        return imports_page(
            &state,
            &viewer,
            &context,
            &caller,
            "Le territoire de la CPTS est vide : définissez ses communes avant d'importer.".into(),
        )
        .await;
    }
    let id = state
        .missions
        .directory
        .start_import(&caller, kind, &file_name, path, size)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/imports/suivi/{id}", context.cpts.slug)).into_response())
}

async fn template(context: CptsContext) -> Response {
    let example = [
        "10000000009",
        "Dr",
        "EXEMPLE",
        "Camille",
        "10",
        "Médecine générale",
        "30003",
        "12 rue des Flamants",
        "04 66 00 00 00",
        "",
        "camille.exemple@medecin.mssante.fr",
        "libéral",
        "oui",
        "oui",
        "15",
        "oui",
        "non",
        "oui",
        "non",
        "non",
        "",
        "français; anglais",
        "1968",
        "membres",
    ];
    let body = format!("{BOM}{}{}", csv_line(&MEMBER_COLUMNS), csv_line(&example));
    csv_download(
        &format!("modele-membres-{}.csv", context.cpts.slug),
        Body::from(body),
    )
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressPage {
    layout: Layout,
    slug: String,
    run: RunView,
}

#[derive(Template)]
#[template(path = "import_state.html")]
struct ProgressFragment {
    slug: String,
    run: RunView,
}

async fn find(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    id: &str,
) -> WebResult<RunView> {
    let id = super::directory::parse_id(id)?;
    Ok(run_view(state.missions.directory.import(caller, id).await?))
}

async fn progress_page(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let run = find(&state, &caller, &id).await?;
    Ok(render(&ProgressPage {
        layout: Layout::in_cpts(&viewer, &context, "Suivi de l'import", "territoire"),
        slug: context.cpts.slug.clone(),
        run,
    }))
}

async fn progress_fragment(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let run = find(&state, &caller, &id).await?;
    Ok(render(&ProgressFragment {
        slug: context.cpts.slug.clone(),
        run,
    }))
}

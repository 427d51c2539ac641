//! Access to a médecin traitant: lists from the cpam or a retiring gp.

use super::*;

pub struct RejectedLine {
    pub line: usize,
    pub field: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "doctor_import.html")]
pub(super) struct ImportPage {
    pub(super) can_match: bool,
    pub(super) layout: Layout,
    pub(super) slug: String,
    pub(super) channels: Vec<Choice>,
    pub(super) referrer: String,
    pub(super) error: Option<String>,
}

impl ImportPage {
    /// The largest list the server takes, as the page states it (the real limit).
    fn max_size(&self) -> String {
        format!("{} Mo", LIST_LIMIT / (1024 * 1024))
    }
}

pub(super) async fn import_form(viewer: Viewer, context: CptsContext) -> Response {
    render(&ImportPage {
        layout: Layout::in_cpts(&viewer, &context, "Importer une liste de patients", BASE),
        can_match: allows(context.role, Permission::RunMatching),
        slug: context.cpts.slug.clone(),
        channels: list_channels("cpam_list"),
        referrer: String::new(),
        error: None,
    })
}

pub(super) fn list_channels(selected: &str) -> Vec<Choice> {
    [Channel::CpamList, Channel::RetiringGpList]
        .into_iter()
        .map(|c| Choice {
            code: c.code().to_string(),
            label: c.label().to_string(),
            selected: c.code() == selected,
        })
        .collect()
}

/// Largest list accepted: lists are a few hundred to a few thousand lines.
pub(super) const LIST_LIMIT: usize = 5 * 1024 * 1024;

/// Reads the multipart form: `channel`, `referrer` and the `file` (held in memory, at most [`LIST_LIMIT`]).
pub(super) async fn receive_list(
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<(String, String, String, String), String> {
    let malformed = || {
        "Le formulaire d'envoi est mal formé : choisissez un fichier puis recommencez.".to_string()
    };
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
    let mut multipart = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new()
            .size_limit(multer::SizeLimit::new().whole_stream(LIST_LIMIT as u64 + 64 * 1024)),
    );
    let too_large = |_| format!("Fichier : {} Mo au plus.", LIST_LIMIT / (1024 * 1024));
    let (mut channel, mut referrer, mut content) = (String::new(), String::new(), None);
    let mut file_name = String::from("liste.csv");
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        match field.name() {
            Some("channel") => channel = field.text().await.map_err(too_large)?,
            Some("referrer") => referrer = field.text().await.map_err(too_large)?,
            Some("file") => {
                if let Some(name) = field.file_name() {
                    file_name = name.chars().filter(|c| !c.is_control()).take(200).collect();
                }
                let bytes = field.bytes().await.map_err(too_large)?;
                if bytes.is_empty() {
                    return Err("Fichier : choisissez un fichier non vide.".into());
                }
                // An Excel workbook is read as the same list text (its first sheet).
                if maillage_app::spreadsheet::is_xlsx(&bytes) {
                    content = Some(maillage_app::spreadsheet::xlsx_to_semicolon_text(
                        &bytes, 10_001,
                    )?);
                    continue;
                }
                let text = match String::from_utf8(bytes.to_vec()) {
                    Ok(text) => text,
                    // Excel's "CSV" without UTF-8 is Windows-1252: read it as Latin-1, which covers French letters.
                    Err(_) => bytes.iter().map(|b| char::from(*b)).collect(),
                };
                content = Some(text);
            }
            _ => {}
        }
    }
    let content =
        content.ok_or_else(|| "Fichier : choisissez un fichier à importer.".to_string())?;
    Ok((channel, referrer, file_name, content))
}

pub(super) async fn import(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    CurrentUser(user): CurrentUser,
    Authorised(caller): Authorised,
    headers: HeaderMap,
    body: axum::body::Body,
) -> WebResult<Response> {
    let mut page = ImportPage {
        layout: Layout::in_cpts(&viewer, &context, "Importer une liste de patients", BASE),
        can_match: allows(context.role, Permission::RunMatching),
        slug: context.cpts.slug.clone(),
        channels: list_channels("cpam_list"),
        referrer: String::new(),
        error: None,
    };
    let (channel_code, referrer, file_name, content) = match receive_list(&headers, body).await {
        Ok(received) => received,
        Err(message) => {
            page.error = Some(message);
            return Ok(render_form(&page, true));
        }
    };
    page.channels = list_channels(&channel_code);
    page.referrer = referrer.clone();
    let channel = Channel::parse(channel_code.trim())
        .filter(|c| matches!(c, Channel::CpamList | Channel::RetiringGpList));
    let Some(channel) = channel else {
        page.error = Some("Origine de la liste : choisissez une valeur de la liste.".into());
        return Ok(render_form(&page, true));
    };
    if referrer.trim().is_empty() || referrer.chars().count() > 200 {
        page.error = Some(
            "Envoyée par : nommez qui a envoyé la liste (200 caractères au plus), par exemple « CPAM du Gard »."
                .into(),
        );
        return Ok(render_form(&page, true));
    }
    let origin = Origin {
        channel,
        referrer: referrer.trim().to_string(),
        referrer_user: None,
        consent_method: format!(
            "recueilli par l'expéditeur de la liste ({}), importé par {}",
            referrer.trim(),
            user.user.display_name
        ),
        recorded_by: Some(user.user.id),
    };
    // A wrong header is told at once; the lines are checked and recorded in the background.
    if let Err(problem) = maillage_app::doctor_search::parse_request_list(&content) {
        page.error = Some(format!("{} : {}", problem.field, problem.message));
        return Ok(render_form(&page, true));
    }
    let id = state
        .missions
        .doctor_search
        .start_list_import(&caller, origin, &file_name, content)
        .await?;
    Ok(Redirect::to(&format!("/c/{}/{BASE}/import/{id}", context.cpts.slug)).into_response())
}

/// An import of a list as its page shows it.
pub struct ListRun {
    pub id: String,
    pub file_name: String,
    pub started: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub percent: i64,
    pub error: String,
    pub report: Option<maillage_app::doctor_search::ListReport>,
    pub rejected: Vec<RejectedLine>,
}

pub(super) async fn list_run(
    state: &AppState,
    caller: &maillage_app::caller::Caller,
    id: &str,
) -> WebResult<ListRun> {
    let run = state
        .missions
        .doctor_search
        .list_import(caller, parse_id(id)?)
        .await?;
    let status = maillage_app::imports::status_of(&run, now_ms());
    let report: Option<maillage_app::doctor_search::ListReport> = run
        .report
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    Ok(ListRun {
        id: run.id.to_string(),
        file_name: run.file_name.clone(),
        started: french_date(run.started_at),
        status,
        status_label: match status {
            "running" => "En cours",
            "done" => "Terminé",
            "interrupted" => "Interrompu (le serveur s'est arrêté pendant l'import)",
            _ => "Échec",
        },
        percent: if status == "done" {
            100
        } else {
            (run.bytes_done * 100 / run.bytes_total.max(1)).clamp(0, 100)
        },
        error: run.error.clone().unwrap_or_default(),
        rejected: report
            .as_ref()
            .map(|r| {
                r.rejected
                    .iter()
                    .take(500)
                    .map(|(line, field, message)| RejectedLine {
                        line: *line,
                        field: field.clone(),
                        message: message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        report,
    })
}

#[derive(Template)]
#[template(path = "doctor_import_progress.html")]
pub(super) struct ListProgressPage {
    pub(super) layout: Layout,
    pub(super) can_match: bool,
    pub(super) slug: String,
    pub(super) run: ListRun,
}

#[derive(Template)]
#[template(path = "doctor_import_state.html")]
pub(super) struct ListProgressFragment {
    pub(super) slug: String,
    pub(super) run: ListRun,
}

pub(super) async fn import_progress(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let run = list_run(&state, &caller, &id).await?;
    Ok(render(&ListProgressPage {
        layout: Layout::in_cpts(&viewer, &context, "Import d'une liste de patients", BASE),
        can_match: allows(context.role, Permission::RunMatching),
        slug: context.cpts.slug.clone(),
        run,
    }))
}

pub(super) async fn import_progress_fragment(
    State(state): State<AppState>,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let run = list_run(&state, &caller, &id).await?;
    Ok(render(&ListProgressFragment {
        slug: context.cpts.slug.clone(),
        run,
    }))
}

pub(super) async fn template_csv() -> Response {
    csv_download(
        "modele-liste-patients.csv",
        axum::body::Body::from(request_list_template()),
    )
}

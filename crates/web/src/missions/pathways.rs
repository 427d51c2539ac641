//! Care pathways: the CPTS's templates — the list (its own versions and the built-in ones), a template's steps
//! with their windows and the windows computed for a discharge date, the coordination's adapting of the
//! windows (a new version), and the JSON file exported and imported. Handlers parse, call the service, render.

use super::pathway_patients::pathway_error;
use crate::access::{Access, Authorised, CptsContext, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::forms::FormPairs;
use crate::views::{render_form, Layout};
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::caller::Caller;
use maillage_app::pathways::PathwayError;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::pathways::{Anchor, Offset, PathwayTemplate, Window};
use maillage_domain::ValidationError;

const BASE: &str = "parcours";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/parcours",
            Access::Cpts(Permission::ViewPathways),
            "Parcours de soins : modèles",
            list,
        )
        .post(
            "/c/{cpts}/parcours/modeles/importer",
            Access::Cpts(Permission::ManagePathwayTemplates),
            "Import d'un modèle de parcours (fichier JSON)",
            import,
        )
        .get(
            "/c/{cpts}/parcours/modeles/{code}",
            Access::Cpts(Permission::ViewPathways),
            "Modèle de parcours : étapes et échéances",
            show,
        )
        .post(
            "/c/{cpts}/parcours/modeles/{code}/adapter",
            Access::Cpts(Permission::ManagePathwayTemplates),
            "Adaptation des délais d'un modèle (nouvelle version)",
            adapt,
        )
        .get(
            "/c/{cpts}/parcours/questionnaires",
            Access::Cpts(Permission::ViewPathways),
            "Questionnaires de repérage : registre et licences",
            instruments,
        )
        .post(
            "/c/{cpts}/parcours/questionnaires/{code}/libelles",
            Access::Cpts(Permission::ManagePathwayTemplates),
            "Chargement des libellés sous licence d'un questionnaire",
            load_wording,
        )
        .get(
            "/c/{cpts}/parcours/modeles/{code}/export.json",
            Access::Cpts(Permission::ViewPathways),
            "Export d'un modèle de parcours (fichier JSON)",
            export,
        )
}

struct TemplateRow {
    code: String,
    name: String,
    version: u32,
    steps: usize,
    built_in: bool,
    event: String,
}

#[derive(Template)]
#[template(path = "pathways_list.html")]
struct ListPage {
    layout: Layout,
    slug: String,
    templates: Vec<TemplateRow>,
    can_manage: bool,
    errors: Vec<String>,
}

async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    errors: Vec<String>,
    notice: Option<String>,
) -> WebResult<Response> {
    let templates = state
        .missions
        .pathways
        .list(caller)
        .await
        .map_err(pathway_error)?
        .into_iter()
        .map(|listed| TemplateRow {
            code: listed.template.code.clone(),
            name: listed.template.name.clone(),
            version: listed.template.version,
            steps: listed
                .template
                .steps
                .iter()
                .filter(|s| !s.on_trigger_only)
                .count(),
            built_in: listed.built_in,
            event: listed
                .template
                .event
                .clone()
                .unwrap_or_else(|| "l'inclusion".into()),
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = ListPage {
        layout: Layout::in_cpts(viewer, context, "Parcours de soins", BASE).with_notice(notice),
        slug: context.cpts.slug.clone(),
        templates,
        can_manage: caller.may(Permission::ManagePathwayTemplates),
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    list_view(&state, &viewer, &context, &caller, Vec::new(), None).await
}

/// A step as the page shows it.
struct StepRow {
    code: String,
    label: String,
    owner: &'static str,
    from: String,
    earliest: String,
    latest: String,
    recurrence: String,
    evidence: &'static str,
    instrument: String,
    triggers: String,
    on_trigger_only: bool,
    /// Its window for the date asked, when one was.
    window: String,
}

#[derive(Template)]
#[template(path = "pathway_template.html")]
struct TemplatePage {
    layout: Layout,
    slug: String,
    code: String,
    name: String,
    version: u32,
    event: Option<String>,
    steps: Vec<StepRow>,
    can_manage: bool,
    /// The day 0 asked for the preview (DD/MM/YYYY as typed).
    day: String,
    errors: Vec<ValidationError>,
}

fn from_label(template: &PathwayTemplate, anchor: &Anchor) -> String {
    match anchor {
        Anchor::Inclusion => "l'inclusion".into(),
        Anchor::Event => template.event.as_deref().map_or("le jour 0".into(), |e| {
            format!("le jour 0 — {}", e.to_lowercase())
        }),
        Anchor::Step(code) => format!(
            "l'étape « {} »",
            template
                .step(code)
                .map_or(code.as_str(), |s| s.label.as_str())
        ),
    }
}

#[derive(serde::Deserialize, Default)]
struct ShowParams {
    #[serde(default)]
    jour: String,
}

/// What a template page shows besides the template: the day 0 asked for the preview, the problems of a form
/// refused, and that form's values to show again.
#[derive(Default)]
struct Asked<'a> {
    day: String,
    errors: Vec<ValidationError>,
    edited: Option<&'a FormPairs>,
}

async fn template_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    code: &str,
    asked: Asked<'_>,
) -> WebResult<Response> {
    let Asked {
        day,
        mut errors,
        edited,
    } = asked;
    let template = state
        .missions
        .pathways
        .template(caller, code, None)
        .await
        .map_err(pathway_error)?;
    // The preview: each planned step's window for the day asked (day 0, and inclusion the same day).
    let mut windows: Vec<(String, String)> = Vec::new();
    if !day.trim().is_empty() {
        match Day::parse("Jour 0", &day) {
            Ok(zero) => match template.schedule(zero, template.event.as_ref().map(|_| zero)) {
                Ok(steps) => {
                    windows = steps
                        .into_iter()
                        .map(|s| {
                            (
                                s.code,
                                format!("du {} au {}", s.earliest.french(), s.latest.french()),
                            )
                        })
                        .collect()
                }
                Err(problems) => errors.extend(problems),
            },
            Err(problem) => errors.push(problem),
        }
    }
    let typed = |name: String, current: Offset| match edited {
        Some(pairs) => pairs.text(&name),
        None => current.french(),
    };
    let steps = template
        .steps
        .iter()
        .map(|step| StepRow {
            code: step.code.clone(),
            label: step.label.clone(),
            owner: step.owner.label(),
            from: from_label(&template, &step.from),
            earliest: typed(format!("{}-des", step.code), step.window.earliest),
            latest: typed(format!("{}-jusqua", step.code), step.window.latest),
            recurrence: step.recurrence.map_or(String::new(), |r| {
                format!(
                    "puis tous les {} à {}",
                    r.every.earliest.french(),
                    r.every.latest.french()
                )
            }),
            evidence: step.evidence.label(),
            instrument: step
                .instrument
                .as_deref()
                .and_then(maillage_domain::pathways::instruments::Instrument::parse)
                .map_or(String::new(), |i| i.label().to_string()),
            triggers: step
                .triggers
                .iter()
                .map(|t| {
                    template
                        .step(&t.creates)
                        .map_or(t.creates.clone(), |s| s.label.clone())
                })
                .collect::<Vec<_>>()
                .join(", "),
            on_trigger_only: step.on_trigger_only,
            window: windows
                .iter()
                .find(|(c, _)| *c == step.code)
                .map_or(String::new(), |(_, w)| w.clone()),
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = TemplatePage {
        layout: Layout::in_cpts(viewer, context, template.name.clone(), BASE),
        slug: context.cpts.slug.clone(),
        code: template.code.clone(),
        name: template.name.clone(),
        version: template.version,
        event: template.event.clone(),
        steps,
        can_manage: caller.may(Permission::ManagePathwayTemplates),
        day,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, code)): Path<(String, String)>,
    crate::forms::Query(params): crate::forms::Query<ShowParams>,
) -> WebResult<Response> {
    let asked = Asked {
        day: params.jour,
        ..Asked::default()
    };
    template_view(&state, &viewer, &context, &caller, &code, asked).await
}

/// The windows typed for each step (`<code>-des`, `<code>-jusqua`); the changed ones become the next version.
async fn adapt(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, code)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let current = state
        .missions
        .pathways
        .template(&caller, &code, None)
        .await
        .map_err(pathway_error)?;
    let mut problems = Vec::new();
    let mut changed: Vec<(String, Window)> = Vec::new();
    for step in &current.steps {
        let earliest = Offset::parse("Dès", &pairs.text(&format!("{}-des", step.code)));
        let latest = Offset::parse("Jusqu'à", &pairs.text(&format!("{}-jusqua", step.code)));
        match (earliest, latest) {
            (Ok(earliest), Ok(latest)) => {
                let window = Window { earliest, latest };
                if window != step.window {
                    changed.push((step.code.clone(), window));
                }
            }
            (earliest, latest) => {
                for error in [earliest.err(), latest.err()].into_iter().flatten() {
                    problems.push(ValidationError::new(
                        "Délais",
                        format!("{} — {} : {}", step.label, error.field, error.message),
                    ));
                }
            }
        }
    }
    if problems.is_empty() && changed.is_empty() {
        problems.push(ValidationError::new("Délais", "aucun délai n'a changé"));
    }
    if !problems.is_empty() {
        let asked = Asked {
            errors: problems,
            edited: Some(&pairs),
            ..Asked::default()
        };
        return template_view(&state, &viewer, &context, &caller, &code, asked).await;
    }
    match state
        .missions
        .pathways
        .adapt(&caller, &code, &changed)
        .await
    {
        Ok(adapted) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/modeles/{}",
            context.cpts.slug, adapted.code
        ))
        .into_response()),
        Err(PathwayError::Invalid(problems)) => {
            let asked = Asked {
                errors: problems,
                edited: Some(&pairs),
                ..Asked::default()
            };
            template_view(&state, &viewer, &context, &caller, &code, asked).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

async fn export(
    State(state): State<AppState>,
    Authorised(caller): Authorised,
    Path((_, code)): Path<(String, String)>,
) -> WebResult<Response> {
    let file = state
        .missions
        .pathways
        .export(&caller, &code)
        .await
        .map_err(pathway_error)?;
    let name = format!("attachment; filename=\"parcours-{code}.json\"");
    let mut response = file.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The largest template file received (the service says so in French past it).
const FILE_LIMIT: usize = 512 * 1024;

/// The `file` field of a multipart form, at most [`FILE_LIMIT`] bytes kept.
async fn received_file(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, String> {
    let malformed = || {
        "Fichier : choisissez un fichier JSON de modèle de parcours, puis recommencez.".to_string()
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    while let Some(mut field) = multipart.next_field().await.map_err(|_| malformed())? {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            if bytes.len() + chunk.len() > FILE_LIMIT {
                return Err(format!(
                    "Fichier : plus de {} Ko, ce n'est pas un modèle de parcours.",
                    FILE_LIMIT / 1024
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            return Err("Fichier : choisissez un fichier non vide.".into());
        }
        return Ok(bytes);
    }
    Err(malformed())
}

async fn import(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    headers: HeaderMap,
    body: Body,
) -> WebResult<Response> {
    let bytes = match received_file(&headers, body).await {
        Ok(bytes) => bytes,
        Err(message) => {
            return list_view(&state, &viewer, &context, &caller, vec![message], None).await
        }
    };
    match state.missions.pathways.import(&caller, &bytes).await {
        Ok(template) => {
            let notice = format!(
                "Le modèle « {} » est importé (version {}).",
                template.name, template.version
            );
            list_view(&state, &viewer, &context, &caller, Vec::new(), Some(notice)).await
        }
        Err(PathwayError::Invalid(problems)) => {
            let errors = problems.iter().map(|p| p.to_string()).collect();
            list_view(&state, &viewer, &context, &caller, errors, None).await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

struct InstrumentRow {
    code: &'static str,
    label: &'static str,
    licence: &'static str,
    licensed: bool,
    missing_rule: &'static str,
    items: usize,
    loaded: bool,
}

#[derive(Template)]
#[template(path = "pathway_instruments.html")]
struct InstrumentsPage {
    layout: Layout,
    slug: String,
    instruments: Vec<InstrumentRow>,
    can_manage: bool,
    /// The instrument whose form was refused, and what was pasted.
    refused: String,
    text: String,
    errors: Vec<ValidationError>,
}

async fn instruments_view(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    refused: (String, String),
    errors: Vec<ValidationError>,
    notice: Option<String>,
) -> WebResult<Response> {
    use maillage_domain::pathways::instruments::Licence;
    let instruments = state
        .missions
        .pathways
        .instruments(caller)
        .await
        .map_err(pathway_error)?
        .into_iter()
        .map(|entry| InstrumentRow {
            code: entry.instrument.code(),
            label: entry.instrument.label(),
            licence: entry.instrument.licence().label(),
            licensed: entry.instrument.licence() == Licence::WordingLicensed,
            missing_rule: entry.instrument.missing_rule(),
            items: entry.instrument.items().len(),
            loaded: entry.wording_loaded,
        })
        .collect();
    let has_errors = !errors.is_empty();
    let page = InstrumentsPage {
        layout: Layout::in_cpts(viewer, context, "Questionnaires de repérage", BASE)
            .with_notice(notice),
        slug: context.cpts.slug.clone(),
        instruments,
        can_manage: caller.may(Permission::ManagePathwayTemplates),
        refused: refused.0,
        text: refused.1,
        errors,
    };
    Ok(render_form(&page, has_errors))
}

#[derive(serde::Deserialize, Default)]
struct LoadedQuery {
    #[serde(default)]
    fait: String,
}

async fn instruments(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    crate::forms::Query(query): crate::forms::Query<LoadedQuery>,
) -> WebResult<Response> {
    let notice = (!query.fait.is_empty()).then(|| {
        "Les libellés sous licence sont chargés : les formulaires les affichent.".to_string()
    });
    instruments_view(
        &state,
        &viewer,
        &context,
        &caller,
        Default::default(),
        Vec::new(),
        notice,
    )
    .await
}

async fn load_wording(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, code)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let instrument = maillage_domain::pathways::instruments::Instrument::parse(&code)
        .ok_or(WebError::NotFound)?;
    let text = pairs.text("wording");
    match state
        .missions
        .pathways
        .load_wording(&caller, instrument, &text, pairs.text("licence") == "oui")
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/c/{}/{BASE}/questionnaires?fait={code}",
            context.cpts.slug
        ))
        .into_response()),
        Err(PathwayError::Invalid(errors)) => {
            instruments_view(
                &state,
                &viewer,
                &context,
                &caller,
                (code, text),
                errors,
                None,
            )
            .await
        }
        Err(other) => Err(pathway_error(other)),
    }
}

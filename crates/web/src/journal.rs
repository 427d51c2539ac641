//! The audit trail, read by coordinators for their CPTS and by platform administrators for platform
//! events: filters, pages, and a CSV export streamed page by page. Reading or exporting the trail is
//! itself recorded.

use crate::access::{Access, Actor, CptsContext, GuardedRouter, Viewer};
use crate::error::{WebError, WebResult};
use crate::export::{csv_line, BOM};
use crate::forms::Query;
use crate::pages::format_instant;
use crate::views::{lookahead, paginate, render, Layout, Pager};
use crate::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maillage_app::audit::{self, AuditEvent};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_store::{AuditEntry, AuditFilter, AuditScope, Page};
use serde::Deserialize;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/journal",
            Access::Cpts(Permission::ViewAuditTrail),
            "Journal d'audit de la CPTS",
            cpts_journal,
        )
        .get(
            "/c/{cpts}/journal.csv",
            Access::Cpts(Permission::ViewAuditTrail),
            "Export CSV du journal d'audit de la CPTS",
            cpts_export,
        )
        .get(
            "/admin/journal",
            Access::PlatformAdmin,
            "Journal d'audit de la plateforme",
            platform_journal,
        )
        .get(
            "/admin/journal.csv",
            Access::PlatformAdmin,
            "Export CSV du journal de la plateforme",
            platform_export,
        )
}

#[derive(Deserialize, Default, Clone)]
struct JournalQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    personne: String,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
    page: Option<i64>,
}

/// The filters as typed, shown back in the form.
pub struct FilterView {
    pub actor: String,
    pub from: String,
    pub until: String,
}

use maillage_domain::calendar::{paris_to_utc, Day};

/// A day of the journal's filter: a Paris day, from its midnight to the next (23 or 25 hours when the clocks
/// change).
fn parse_day(
    field: &'static str,
    value: &str,
) -> Result<Option<maillage_domain::calendar::Day>, WebError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let day = maillage_domain::calendar::Day::parse(field, value).map_err(|_| {
        WebError::BadRequest(format!(
            "{field} : « {value} » n'est pas une date (AAAA-MM-JJ)"
        ))
    })?;
    Ok(Some(day))
}

impl JournalQuery {
    fn filter(&self) -> Result<AuditFilter, WebError> {
        let action = match self.action.trim() {
            "" => None,
            code => Some(
                AuditAction::parse(code)
                    .ok_or_else(|| {
                        WebError::BadRequest(format!(
                            "action : « {code} » n'est pas une action du journal"
                        ))
                    })?
                    .code()
                    .to_string(),
            ),
        };
        Ok(AuditFilter {
            action,
            actor: Some(self.personne.trim().to_lowercase()).filter(|a| !a.is_empty()),
            from: parse_day("date de début", &self.du)?.map(|day| paris_to_utc(day, 0)),
            until: parse_day("date de fin", &self.au)?
                .map(|day| paris_to_utc(Day::from_days_since_epoch(day.days_since_epoch() + 1), 0)),
        })
    }

    fn query_string(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("action", &self.action)
            .append_pair("personne", &self.personne)
            .append_pair("du", &self.du)
            .append_pair("au", &self.au)
            .finish()
    }
}

pub struct ActionOption {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct EntryView {
    pub seq: i64,
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The record's page, when it has one the reader can open.
    pub target_href: Option<String>,
    pub purpose: String,
    pub ip: String,
}

/// French name of what an entry is about.
fn kind_label(kind: &str) -> &str {
    match kind {
        "user" => "compte",
        "users" => "liste des comptes",
        "cpts" => "CPTS",
        "members" => "liste des membres",
        "outbox" => "courriels en attente",
        "audit" => "journal",
        "patient" => "patient",
        "keys" => "clés de chiffrement",
        "doctor_request" => "demande de médecin traitant",
        "snp_booking" => "réservation de soins non programmés",
        "snp_slot" => "créneau de soins non programmés",
        "snp_rota" | "snp_rota_turn" | "snp_rota_swap" => "tableau d'astreinte",
        "snp_dysfunction" => "dysfonctionnement signalé",
        "professional" => "fiche d'un professionnel",
        "structure" => "fiche d'une structure",
        "invitation" => "invitation",
        "api_token" => "jeton d'accès du SAS",
        "delivery" => "message envoyé",
        other => other,
    }
}

/// Where a record of `kind` can be opened in its CPTS (`slug`): the journal links to it. Patients, accounts
/// and messages have no page of their own.
fn target_href(slug: Option<&str>, kind: &str, id: &str) -> Option<String> {
    let slug = slug?;
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    let path = match kind {
        "doctor_request" => format!("medecin-traitant/demandes/{id}"),
        "snp_booking" => format!("soins-non-programmes/reservations/{id}"),
        "snp_rota" | "snp_rota_turn" | "snp_rota_swap" => {
            "soins-non-programmes/astreintes".to_string()
        }
        "snp_dysfunction" => "soins-non-programmes/dysfonctionnements".to_string(),
        "professional" => format!("annuaire/fiche/{id}"),
        "structure" => format!("structures/fiche/{id}"),
        "invitation" | "user" => "membres".to_string(),
        "api_token" => "soins-non-programmes/jetons".to_string(),
        _ => return None,
    };
    Some(format!("/c/{slug}/{path}"))
}

fn action_label(code: &str) -> String {
    AuditAction::parse(code)
        .map(|a| a.label().to_string())
        .unwrap_or_else(|| code.to_string())
}

impl EntryView {
    /// An entry in words: the action's French name, what it is about, and a link to the record in the CPTS
    /// the journal is read in (`slug`; none for the platform's journal). The id is shortened: the link and
    /// the CSV export carry it whole.
    fn of(entry: &AuditEntry, slug: Option<&str>) -> Self {
        let e = &entry.entry;
        let short: String = e.target_id.chars().take(8).collect();
        EntryView {
            seq: entry.seq,
            when: format_instant(e.at),
            actor: e.actor.clone(),
            action: action_label(&e.action),
            target: match (e.target_id.is_empty(), e.target_kind.as_str()) {
                (true, kind) | (false, kind @ "cpts") => kind_label(kind).to_string(),
                (false, kind) => format!("{} ({short}…)", kind_label(kind)),
            },
            target_href: target_href(slug, &e.target_kind, &e.target_id),
            purpose: e.purpose.clone(),
            ip: e.ip.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "journal.html")]
struct JournalPage {
    layout: Layout,
    cpts_name: Option<String>,
    base_url: String,
    export_url: String,
    actions: Vec<ActionOption>,
    filter: FilterView,
    entries: Vec<EntryView>,
    pager: Pager,
}

const PAGE_SIZE: i64 = 50;

async fn journal(
    state: &AppState,
    layout: Layout,
    actor: &maillage_app::audit::AuditContext,
    scope: AuditScope,
    cpts_name: Option<String>,
    base_url: String,
    query: JournalQuery,
) -> WebResult<Response> {
    let filter = query.filter()?;
    let number = crate::forms::page_number(query.page);
    let rows = state
        .store
        .list_audit(scope, &filter, lookahead(number, PAGE_SIZE))
        .await?;
    audit::record(
        state.store.as_ref(),
        actor,
        AuditEvent::new(AuditAction::AuditViewed, "audit", String::new())
            .detail(serde_json::json!({ "page": number })),
    )
    .await?;
    let filtered_url = format!("{base_url}?{}", query.query_string());
    let (rows, pager) = paginate(rows, &filtered_url, number, PAGE_SIZE);
    Ok(render(&JournalPage {
        cpts_name,
        export_url: format!("{base_url}.csv?{}", query.query_string()),
        base_url,
        actions: AuditAction::ALL
            .iter()
            .map(|a| ActionOption {
                code: a.code(),
                label: a.label(),
                selected: query.action == a.code(),
            })
            .collect(),
        filter: FilterView {
            actor: query.personne.clone(),
            from: query.du.clone(),
            until: query.au.clone(),
        },
        entries: {
            let slug = layout.cpts.as_ref().map(|c| c.slug.clone());
            rows.iter()
                .map(|row| EntryView::of(row, slug.as_deref()))
                .collect()
        },
        layout,
        pager,
    }))
}

async fn cpts_journal(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Actor(actor): Actor,
    Query(query): Query<JournalQuery>,
) -> WebResult<Response> {
    let layout = Layout::in_cpts(&viewer, &context, "Journal d'audit", "journal");
    let base = format!("/c/{}/journal", context.cpts.slug);
    journal(
        &state,
        layout,
        &actor,
        AuditScope::Cpts(context.cpts.id),
        Some(context.cpts.name.clone()),
        base,
        query,
    )
    .await
}

async fn platform_journal(
    State(state): State<AppState>,
    viewer: Viewer,
    Actor(actor): Actor,
    Query(query): Query<JournalQuery>,
) -> WebResult<Response> {
    let layout = Layout::new(&viewer, "Journal d'audit de la plateforme", "admin");
    journal(
        &state,
        layout,
        &actor,
        AuditScope::Platform,
        None,
        "/admin/journal".into(),
        query,
    )
    .await
}

/// Rows read per database query while streaming an export.
const EXPORT_BATCH: i64 = 500;

async fn export(
    state: AppState,
    actor: maillage_app::audit::AuditContext,
    scope: AuditScope,
    file_name: String,
    query: JournalQuery,
) -> WebResult<Response> {
    let filter = query.filter()?;
    audit::record(
        state.store.as_ref(),
        &actor,
        AuditEvent::new(AuditAction::AuditExported, "audit", String::new())
            .detail(serde_json::json!({ "action": filter.action, "actor": filter.actor, "from": filter.from, "until": filter.until })),
    )
    .await?;
    let header_line = format!(
        "{BOM}{}",
        csv_line(&[
            "N°",
            "Date (heure de Paris)",
            "Personne",
            "Action",
            "Objet",
            "Identifiant",
            "Finalité",
            "Adresse",
            "Demande",
            "Empreinte"
        ])
    );
    // Unfold page by page: the export never holds more than one batch in memory.
    let stream = futures_util::stream::unfold(Some((0_i64, Some(header_line))), move |cursor| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let (offset, header_line) = cursor?;
            if let Some(line) = header_line {
                return Some((
                    Ok::<_, std::io::Error>(bytes::Bytes::from(line)),
                    Some((offset, None)),
                ));
            }
            let rows = match state
                .store
                .list_audit(
                    scope,
                    &filter,
                    Page {
                        limit: EXPORT_BATCH,
                        offset,
                    },
                )
                .await
            {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(%error, "audit export interrupted");
                    return Some((Err(std::io::Error::other("export interrupted")), None));
                }
            };
            if rows.is_empty() {
                return None;
            }
            let mut chunk = String::new();
            for row in &rows {
                let e = &row.entry;
                chunk.push_str(&csv_line(&[
                    row.seq.to_string(),
                    format_instant(e.at),
                    e.actor.clone(),
                    action_label(&e.action),
                    kind_label(&e.target_kind).to_string(),
                    e.target_id.clone(),
                    e.purpose.clone(),
                    e.ip.clone(),
                    e.request_id.clone(),
                    row.hash.clone(),
                ]));
            }
            // A full batch may have a successor; a short one was the last.
            let next = (rows.len() as i64 == EXPORT_BATCH).then_some((offset + EXPORT_BATCH, None));
            Some((Ok(bytes::Bytes::from(chunk)), next))
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

async fn cpts_export(
    State(state): State<AppState>,
    context: CptsContext,
    Actor(actor): Actor,
    Query(query): Query<JournalQuery>,
) -> WebResult<Response> {
    let name = format!("journal-{}.csv", context.cpts.slug);
    export(state, actor, AuditScope::Cpts(context.cpts.id), name, query).await
}

async fn platform_export(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Query(query): Query<JournalQuery>,
) -> WebResult<Response> {
    export(
        state,
        actor,
        AuditScope::Platform,
        "journal-plateforme.csv".into(),
        query,
    )
    .await
}

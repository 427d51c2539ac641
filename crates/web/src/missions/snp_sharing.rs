//! Sharing slots outside Maillage's pages: the API tokens the coordination issues to the SAS platform (FHIR,
//! `fhir:read`) and revokes, and each professional's secret calendar address (iCalendar) with their slots,
//! bookings and on-call turns. A secret is shown once, when issued; only its hash is kept.

use super::unscheduled_care::{care_error, AgendaBatches};
use crate::access::{Access, Actor, Authorised, CptsContext, GuardedRouter, TokenCaller, Viewer};
use crate::confirm::{self, Confirmation};
use crate::error::{WebError, WebResult};
use crate::forms::FormPairs;
use crate::views::{render, Layout};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_app::caller::Caller;
use maillage_app::clock::{now_ms, DAY_MS};
use maillage_app::tokens::{TokenError, CALENDAR_SCOPE, FHIR_SCOPE};
use maillage_app::unscheduled_care::AgendaScope;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::icalendar::{calendar, Event};
use maillage_domain::unscheduled_care::{paris_to_utc, reason_label, utc_to_paris, Day};
use maillage_store::Page;

const BASE: &str = "soins-non-programmes";

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/c/{cpts}/soins-non-programmes/jetons",
            Access::Cpts(Permission::ManageCpts),
            "Jetons d'accès du SAS (API FHIR)",
            tokens,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/jetons",
            Access::Cpts(Permission::ManageCpts),
            "Émission d'un jeton d'accès du SAS",
            issue,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/jetons/{id}/revoquer",
            Access::Cpts(Permission::ManageCpts),
            "Révocation d'un jeton d'accès",
            revoke,
        )
        .post(
            "/c/{cpts}/soins-non-programmes/mes-creneaux/agenda",
            Access::Cpts(Permission::PublishSlots),
            "Nouvelle adresse secrète de mon agenda (iCalendar)",
            new_calendar_address,
        )
        .get(
            "/agenda/{token}/creneaux.ics",
            Access::Token(CALENDAR_SCOPE),
            "Agenda iCalendar d'un professionnel (adresse secrète)",
            calendar_feed,
        )
}

fn token_error(error: TokenError) -> WebError {
    match error {
        TokenError::Refused(message) => WebError::BadRequest(message),
        TokenError::NotAllowed => WebError::NotFound,
        TokenError::Store(e) => e.into(),
    }
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub revoked: String,
}

#[derive(Template)]
#[template(path = "snp_tokens.html")]
struct TokensPage {
    layout: Layout,
    slug: String,
    base_url: String,
    rows: Vec<TokenRow>,
    secret: Option<String>,
    error: Option<String>,
}

fn when(ms: Option<i64>) -> String {
    ms.map(maillage_app::unscheduled_care::french_slot_time)
        .unwrap_or_else(|| "—".into())
}

async fn tokens_page(
    state: &AppState,
    viewer: &Viewer,
    context: &CptsContext,
    caller: &Caller,
    secret: Option<String>,
    error: Option<String>,
) -> WebResult<Response> {
    let rows = state
        .missions
        .unscheduled_care
        .tokens(caller, FHIR_SCOPE, Page::first(100))
        .await
        .map_err(care_error)?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name,
            created: when(Some(t.created_at)),
            last_used: when(t.last_used_at),
            revoked: t.revoked_at.map(|r| when(Some(r))).unwrap_or_default(),
        })
        .collect();
    let has_error = error.is_some();
    Ok(crate::views::render_form(
        &TokensPage {
            layout: Layout::in_cpts(viewer, context, "Accès du SAS (FHIR)", BASE),
            slug: context.cpts.slug.clone(),
            base_url: state.config.server.base_url().to_string(),
            rows,
            secret,
            error,
        },
        has_error,
    ))
}

async fn tokens(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
) -> WebResult<Response> {
    tokens_page(&state, &viewer, &context, &caller, None, None).await
}

async fn issue(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    match state
        .missions
        .unscheduled_care
        .issue_token(&caller, &pairs.text("name"), FHIR_SCOPE, None)
        .await
    {
        // Shown on this response only: the page is not cached and the secret is in no address.
        Ok(secret) => tokens_page(&state, &viewer, &context, &caller, Some(secret), None).await,
        Err(TokenError::Refused(message)) => {
            tokens_page(&state, &viewer, &context, &caller, None, Some(message)).await
        }
        Err(other) => Err(token_error(other)),
    }
}

async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    Path((_, id)): Path<(String, String)>,
    pairs: FormPairs,
) -> WebResult<Response> {
    let id = super::directory::parse_id(&id)?;
    if !confirm::confirmed(&pairs) {
        state
            .missions
            .unscheduled_care
            .check_token(&caller, id)
            .await
            .map_err(token_error)?;
        let tokens = format!("/c/{}/{BASE}/jetons", context.cpts.slug);
        return Ok(confirm::ask(
            &viewer,
            &context,
            BASE,
            Confirmation::new(
                "Révoquer ce jeton ?",
                "La plateforme qui l'utilise ne pourra plus lire les créneaux de la CPTS dès maintenant. \
                 Un jeton révoqué ne peut pas être réactivé : il faudra en émettre un nouveau.",
                format!("{tokens}/{id}/revoquer"),
                "Oui, révoquer le jeton",
                tokens,
            ),
        ));
    }
    if !state
        .missions
        .unscheduled_care
        .revoke_token(&caller, id)
        .await
        .map_err(token_error)?
    {
        return Err(WebError::Conflict(
            "Ce jeton est déjà révoqué ou n'existe pas.".into(),
        ));
    }
    Ok(Redirect::to(&format!("/c/{}/{BASE}/jetons", context.cpts.slug)).into_response())
}

#[derive(Template)]
#[template(path = "snp_calendar_address.html")]
struct CalendarAddressPage {
    layout: Layout,
    slug: String,
    address: String,
}

/// A new secret address for the account's own agenda (or, for the coordination, a chosen professional's);
/// the previous address stops working.
async fn new_calendar_address(
    State(state): State<AppState>,
    viewer: Viewer,
    context: CptsContext,
    Authorised(caller): Authorised,
    pairs: FormPairs,
) -> WebResult<Response> {
    let chosen = pairs.text("professional");
    let professional = if caller.role() == Role::Coordinator && !chosen.is_empty() {
        Some(super::directory::parse_id(&chosen)?)
    } else {
        caller.professional()
    };
    let Some(professional) = professional else {
        return Err(WebError::BadRequest(
            "Professionnel : votre compte n'est relié à aucune fiche de l'annuaire.".into(),
        ));
    };
    let secret = state
        .missions
        .unscheduled_care
        .issue_token(
            &caller,
            "Agenda iCalendar",
            CALENDAR_SCOPE,
            Some(professional),
        )
        .await
        .map_err(token_error)?;
    let base = state.config.server.base_url();
    Ok(render(&CalendarAddressPage {
        layout: Layout::in_cpts(&viewer, &context, "Mon agenda", BASE),
        slug: context.cpts.slug.clone(),
        address: format!("{base}/agenda/{secret}/creneaux.ics"),
    }))
}

/// Days of the feed: the past week (to record outcomes) and the twelve weeks ahead.
const FEED_PAST_DAYS: i64 = 7;
const FEED_AHEAD_DAYS: i64 = 84;

async fn calendar_feed(
    State(state): State<AppState>,
    caller: TokenCaller,
    Actor(actor): Actor,
) -> WebResult<Response> {
    let Some(scope) = AgendaScope::feed(&caller.token) else {
        return Err(WebError::NotFound);
    };
    let now = now_ms();
    let (from, until) = (
        now - FEED_PAST_DAYS * DAY_MS,
        now + FEED_AHEAD_DAYS * DAY_MS,
    );
    let mut events = Vec::new();
    let mut batches = AgendaBatches::new(scope, (from, until));
    while let Some(batch) = batches.next(&state).await? {
        for entry in batch {
            let s = &entry.slot;
            let kind = s.kind.label();
            let modality = s.modality.label();
            let booked = entry.booked_at(now);
            // No patient identity leaves Maillage: the reason category only, the rest behind the login.
            let (summary, description, status) = if s.cancelled {
                (
                    "SNP — créneau retiré".to_string(),
                    String::new(),
                    "CANCELLED",
                )
            } else if booked {
                (
                    "SNP — patient réservé".to_string(),
                    format!(
                        "Motif : {}. {kind}, {modality}. Le patient est dans Maillage (Mes créneaux).",
                        entry
                            .reason
                            .as_deref()
                            .and_then(reason_label)
                            .unwrap_or("non précisé")
                    ),
                    "CONFIRMED",
                )
            } else {
                (
                    "SNP — créneau libre".to_string(),
                    format!("{kind}, {modality}."),
                    "TENTATIVE",
                )
            };
            events.push(Event {
                uid: format!("creneau-{}@maillage", s.id),
                start_ms: s.start_at,
                end_ms: s.end_at,
                summary,
                description,
                location: s.place.clone(),
                status,
            });
        }
    }
    let turns = state
        .missions
        .unscheduled_care
        .feed_turns(
            &scope,
            &utc_to_paris(from).0.iso(),
            &utc_to_paris(until).0.iso(),
        )
        .await
        .map_err(care_error)?;
    for turn in turns {
        let Ok(day) = Day::parse("jour", &turn.day) else {
            continue;
        };
        events.push(Event {
            uid: format!("astreinte-{}@maillage", turn.id),
            start_ms: paris_to_utc(day, u32::try_from(turn.start_minute).unwrap_or(0)),
            end_ms: paris_to_utc(day, u32::try_from(turn.end_minute).unwrap_or(0)),
            summary: format!("Astreinte — {}", turn.label),
            description: String::new(),
            location: String::new(),
            status: "CONFIRMED",
        });
    }
    state
        .missions
        .unscheduled_care
        .record_feed_read(&scope, &actor, events.len())
        .await
        .map_err(care_error)?;
    let name = format!("Soins non programmés — {}", caller.cpts.name);
    let mut response = calendar(&name, &events, now).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

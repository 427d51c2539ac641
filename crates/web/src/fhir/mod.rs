//! FHIR R4 (4.0.1) read API for the national SAS platform, following the ANS guide `ans.fhir.fr.sas`, flow
//! INT_R04 "CPTS – recherche de créneaux": the platform asks
//! `GET /fhir/Slot?schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|8…&start=ge…&start=le…
//! &status=free&_include=…` with a token the CPTS's coordination issued, and receives a searchset Bundle of the
//! free slots (`match`) with their Schedule, Practitioner, PractitionerRole, HealthcareService and the CPTS's
//! Organization (`include`). Identifiers are IDNPS (`8` + RPPS) and IDNST (`1` + FINESS); the slot's kind is in
//! `Slot.meta.security` (TRE_R314), its modality in `serviceType` (v3 ActCode AMB / HH / VR). No patient data
//! ever leaves through this API: a free slot has none.

mod resources;
mod search;

use crate::access::{Access, Actor, FhirCaller, GuardedRouter};
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maillage_app::audit::AuditContext;
use maillage_app::clock::{now_ms, HOUR_MS};
use maillage_app::tokens::FHIR_SCOPE;
use maillage_app::unscheduled_care::sas::{CptsAnswer, SasAnswer, SasReader, SasSearch};
use maillage_app::unscheduled_care::CareError;
use maillage_store::Cpts;
use resources::{BUNDLE_PROFILE, SLOT_PROFILE};
use search::{parse_search, SlotSearch};
use serde_json::{json, Value};
use uuid::Uuid;

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// A search covers at most this many days (the SAS asks three).
const MAX_WINDOW_DAYS: i64 = 31;

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router
        .get(
            "/fhir/metadata",
            Access::Public,
            "FHIR : déclaration de capacités (CapabilityStatement)",
            metadata,
        )
        .get(
            "/fhir/Slot",
            Access::Token(FHIR_SCOPE),
            "FHIR : recherche des créneaux libres par le SAS (flux INT_R04)",
            search_slots,
        )
        .get(
            "/fhir/Slot/{id}",
            Access::Token(FHIR_SCOPE),
            "FHIR : lecture d'un créneau",
            read_slot,
        )
        .get(
            "/fhir/Schedule/{id}",
            Access::Token(FHIR_SCOPE),
            "FHIR : lecture de l'agenda d'un professionnel",
            read_schedule,
        )
        .get(
            "/fhir/Practitioner/{id}",
            Access::Token(FHIR_SCOPE),
            "FHIR : lecture d'un professionnel",
            read_practitioner,
        )
}

fn fhir_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    response
}

/// An error as FHIR clients read it: an OperationOutcome with the French explanation.
pub fn operation_outcome(status: StatusCode, detail: &str, request_id: &str) -> Response {
    let code = match status.as_u16() {
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        400 | 422 => "invalid",
        429 => "throttled",
        s if s >= 500 => "exception",
        _ => "processing",
    };
    let mut response = fhir_response(
        status,
        &json!({
            "resourceType": "OperationOutcome",
            "issue": [{ "severity": "error", "code": code, "diagnostics": detail }],
            "meta": { "tag": [{ "system": "urn:maillage:request", "code": request_id }] },
        }),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"maillage-fhir\""),
        );
    }
    response
}

/// Logged with its cause, answered without it.
fn internal(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(%cause, "FHIR request failed");
    operation_outcome(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erreur interne du serveur : réessayez plus tard.",
        "-",
    )
}

fn invalid(detail: String) -> Response {
    operation_outcome(StatusCode::BAD_REQUEST, &detail, "-")
}

async fn metadata(State(state): State<AppState>) -> Response {
    let base = state.config.server.base_url();
    fhir_response(
        StatusCode::OK,
        &json!({
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-12-01",
            "publisher": "Maillage",
            "kind": "instance",
            "software": { "name": "Maillage", "version": env!("CARGO_PKG_VERSION") },
            "implementation": {
                "description": "Créneaux de soins non programmés des CPTS (gestionnaire d'agenda CPTS du SAS)",
                "url": format!("{base}/fhir"),
            },
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json"],
            "implementationGuide": ["https://interop.esante.gouv.fr/ig/fhir/sas"],
            "rest": [{
                "mode": "server",
                "documentation": "Mise à disposition des créneaux de disponibilité CPTS (flux INT_R04). \
                                  Jeton d'accès émis par la coordination de la CPTS : en-tête Authorization: Bearer.",
                "security": { "cors": false, "description": "Jeton porteur (Bearer) par CPTS ; TLS mutuel IGC-Santé au niveau du déploiement." },
                "resource": [
                    {
                        "type": "Slot",
                        "profile": SLOT_PROFILE,
                        "interaction": [{ "code": "read" }, { "code": "search-type" }],
                        "searchInclude": ["Slot:schedule", "Schedule:actor", "Slot:service-type-reference", "HealthcareService:organization"],
                        "searchParam": [
                            { "name": "start", "type": "date", "documentation": "Début du créneau : ge, gt, le, lt ; décalage encodé ou « + » brut, millisecondes facultatives, heure de Paris sans fuseau. Une fenêtre passée répond un Bundle vide." },
                            { "name": "status", "type": "token", "documentation": "free uniquement." },
                            { "name": "schedule.actor:Practitioner.identifier", "type": "token", "documentation": "Obligatoire : IDNPS des praticiens (urn:oid:1.2.250.1.71.4.2.1|8…), séparés par des virgules (25 au plus pour le SAS)." },
                            { "name": "_count", "type": "number", "documentation": "Créneaux au plus dans la réponse, une seule page avec le total (5000 au plus, 5000 par défaut). Les paramètres inconnus sont ignorés, sauf avec Prefer: handling=strict." }
                        ]
                    },
                    { "type": "Schedule", "profile": resources::SCHEDULE_PROFILE, "interaction": [{ "code": "read" }] },
                    { "type": "Practitioner", "profile": resources::PRACTITIONER_PROFILE, "interaction": [{ "code": "read" }] },
                    { "type": "PractitionerRole", "interaction": [] },
                    { "type": "HealthcareService", "interaction": [] },
                    { "type": "Organization", "interaction": [] }
                ]
            }]
        }),
    )
}

fn entry(base: &str, resource: Value, mode: &str) -> Value {
    let url = format!(
        "{base}/fhir/{}/{}",
        resource["resourceType"].as_str().unwrap_or(""),
        resource["id"].as_str().unwrap_or("")
    );
    json!({ "fullUrl": url, "resource": resource, "search": { "mode": mode } })
}

/// The SAS reader of a request: the token's CPTS, or the CPTS a certificate client is registered with.
fn reader(caller: &FhirCaller, actor: AuditContext) -> SasReader {
    match caller {
        FhirCaller::Token(token) => {
            SasReader::with_token(token.cpts.clone(), token.token.id, actor)
        }
        FhirCaller::Client(client) => {
            SasReader::with_client(client.cpts.clone(), client.client.id, actor)
        }
    }
}

/// A read the service refused: not found, or failed (its audit entry included: nothing is answered then).
fn refused(error: CareError) -> Response {
    match error {
        CareError::NotFound => {
            operation_outcome(StatusCode::NOT_FOUND, "Cette ressource n'existe pas.", "-")
        }
        other => internal(&other),
    }
}

/// `Prefer: handling=strict`: unknown parameters are refused instead of ignored.
fn strict_handling(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .any(|p| p.trim().eq_ignore_ascii_case("handling=strict"))
}

async fn search_slots(
    State(state): State<AppState>,
    caller: FhirCaller,
    Actor(actor): Actor,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let search = match parse_search(query.as_deref().unwrap_or(""), strict_handling(&headers)) {
        Ok(search) => search,
        Err(message) => return invalid(message),
    };
    let now = now_ms();
    let from = search.from.unwrap_or(now);
    let until = search.until.unwrap_or(from + 48 * HOUR_MS);
    if until < from || until - from > MAX_WINDOW_DAYS * 24 * HOUR_MS {
        return invalid(format!(
            "start : la fenêtre de recherche suit son début et dure au plus {MAX_WINDOW_DAYS} jours."
        ));
    }
    let reader = reader(&caller, actor);
    let answer = match state
        .missions
        .unscheduled_care
        .sas_search(
            &reader,
            &SasSearch {
                practitioners: &search.practitioners,
                from,
                until,
                count: search.count,
            },
            now,
        )
        .await
    {
        Ok(answer) => answer,
        Err(error) => return refused(error),
    };
    bundle(&state, &search, answer, &query)
}

/// Where the SAS sends the user to book a slot (`Slot.comment`): Maillage's page of that slot, to which the
/// SAS appends `origin`.
fn booking_url(base: &str, cpts: &Cpts, slot: Uuid) -> String {
    format!(
        "{base}/c/{}/soins-non-programmes/creneaux/{slot}",
        cpts.slug
    )
}

/// One page holding every match (up to `_count`) with their included resources, `total`, and one `self`
/// link whose query is the request's own, as the guide's Bundle profile wants.
fn bundle(
    state: &AppState,
    search: &SlotSearch,
    answers: Vec<CptsAnswer>,
    query: &Option<String>,
) -> Response {
    let base = state.config.server.base_url().to_string();
    let mut entries = Vec::new();
    let mut total = 0;
    let mut practitioners: Vec<String> = Vec::new();
    // Each CPTS's slots reference its own HealthcareService and Organization (the guide's FAQ).
    for CptsAnswer { cpts, answer } in &answers {
        let SasAnswer {
            slots,
            professionals,
            structures,
            ..
        } = answer;
        total += slots.len();
        // One agenda per practice place: the places the slots are given at, per professional.
        let mut agendas: Vec<(Uuid, usize)> = Vec::new();
        for slot in slots {
            let position = answer.place_position(slot);
            if !agendas.contains(&(slot.professional_id, position)) {
                agendas.push((slot.professional_id, position));
            }
            let resource =
                resources::slot(slot, cpts, &booking_url(&base, cpts, slot.id), position);
            entries.push(entry(&base, resource, "match"));
        }
        agendas.sort_by_key(|&(professional, position)| {
            (
                professionals.iter().position(|p| p.id == professional),
                position,
            )
        });
        for &(professional, position) in &agendas {
            let Some(summary) = professionals.iter().find(|p| p.id == professional) else {
                continue;
            };
            let place = answer.places_of(professional).get(position);
            if search.include_schedule {
                entries.push(entry(
                    &base,
                    resources::schedule(summary, position),
                    "include",
                ));
            }
            if search.include_actors {
                let structure = structures
                    .iter()
                    .find(|(id, _, _)| Some(*id) == summary.structure_id)
                    .map(|(_, finess, siret)| (finess.as_str(), siret.as_str()));
                let idnst = resources::practice_idnst(summary, place, structure);
                // One Practitioner per IDNPS, whichever CPTS it comes from.
                let id = resources::practitioner_id(summary);
                if !practitioners.contains(&id) {
                    entries.push(entry(&base, resources::practitioner(summary), "include"));
                    practitioners.push(id);
                }
                entries.push(entry(
                    &base,
                    resources::practitioner_role(summary, (place, position), cpts, &base, idnst),
                    "include",
                ));
            }
        }
        if !slots.is_empty() {
            if search.include_service {
                entries.push(entry(&base, resources::healthcare_service(cpts), "include"));
            }
            if search.include_organization {
                entries.push(entry(&base, resources::organization(cpts), "include"));
            }
        }
    }
    let query = query.clone().unwrap_or_default();
    let body = json!({
        "resourceType": "Bundle",
        "id": Uuid::now_v7().to_string(),
        "meta": { "profile": [BUNDLE_PROFILE], "lastUpdated": resources::instant(now_ms()) },
        "type": "searchset",
        "total": total,
        "link": [{ "relation": "self", "url": format!("{base}/fhir/Slot?{query}") }],
        "entry": entries,
    });
    fhir_response(StatusCode::OK, &body)
}

async fn read_slot(
    State(state): State<AppState>,
    caller: FhirCaller,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return operation_outcome(StatusCode::NOT_FOUND, "Ce créneau n'existe pas.", "-");
    };
    let (slot, cpts, booked, position) = match state
        .missions
        .unscheduled_care
        .sas_slot(&reader(&caller, actor), id, now_ms())
        .await
    {
        Ok(found) => found,
        Err(error) => return refused(error),
    };
    let base = state.config.server.base_url().to_string();
    let mut resource = resources::slot(&slot, &cpts, &booking_url(&base, &cpts, slot.id), position);
    // A booked slot is "busy": the SAS learns nothing else about it.
    if booked {
        resource["status"] = json!("busy");
    }
    fhir_response(StatusCode::OK, &resource)
}

/// One agenda: a professional of the reader's CPTS at one of their practice places (the read audited).
async fn read_schedule(
    State(state): State<AppState>,
    caller: FhirCaller,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Response {
    let Some((professional, position)) = resources::parse_schedule_id(&id) else {
        return refused(CareError::NotFound);
    };
    match state
        .missions
        .unscheduled_care
        .sas_professional(&reader(&caller, actor), professional)
        .await
    {
        // A place the professional does not have (any more): no such agenda.
        Ok((_, places)) if position > 0 && position >= places.len() => refused(CareError::NotFound),
        Ok((summary, _)) => fhir_response(StatusCode::OK, &resources::schedule(&summary, position)),
        Err(error) => refused(error),
    }
}

async fn read_practitioner(
    State(state): State<AppState>,
    caller: FhirCaller,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Response {
    // Its id is its IDNPS (one Practitioner across the CPTS read).
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return refused(CareError::NotFound);
    }
    match state
        .missions
        .unscheduled_care
        .sas_practitioner(&reader(&caller, actor), &id)
        .await
    {
        Ok(summary) => fhir_response(StatusCode::OK, &resources::practitioner(&summary)),
        Err(error) => refused(error),
    }
}

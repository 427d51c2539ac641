//! FHIR R4 (4.0.1) read API for the national SAS platform, following the ANS guide `ans.fhir.fr.sas`, flow
//! INT_R04 "CPTS – recherche de créneaux": the platform asks
//! `GET /fhir/Slot?schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|8…&start=ge…&start=le…
//! &status=free&_include=…` with a token the CPTS's coordination issued, and receives a searchset Bundle of the
//! free slots (`match`) with their Schedule, Practitioner, PractitionerRole, HealthcareService and the CPTS's
//! Organization (`include`). Identifiers are IDNPS (`8` + RPPS) and IDNST (`1` + FINESS); the slot's kind is in
//! `Slot.meta.security` (TRE_R314), its modality in `serviceType` (v3 ActCode AMB / HH / VR). No patient data
//! ever leaves through this API: a free slot has none.

use crate::access::{Access, Actor, GuardedRouter, TokenCaller};
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maillage_app::audit::{self, AuditContext, AuditEvent};
use maillage_app::clock::{now_ms, HOUR_MS};
use maillage_app::tokens::FHIR_SCOPE;
use maillage_domain::audit::AuditAction;
use maillage_domain::unscheduled_care::{paris_date_time, parse_fhir_date_time};
use maillage_domain::unscheduled_care::{Modality, SlotKind};
use maillage_store::{Cpts, Page, ProfessionalSummary, SlotQuery, SnpSlot};
use serde_json::{json, Value};
use uuid::Uuid;

pub const IDNPS: &str = "urn:oid:1.2.250.1.71.4.2.1";
pub const IDNST: &str = "urn:oid:1.2.250.1.71.4.2.2";
const SLOT_TYPE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ESTABLISHMENT_CATEGORY: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement";
/// TRE_R66 category of a CPTS.
const CPTS_CATEGORY: &str = "604";
const SERVICE_TYPE_R5: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType";
const APPOINTMENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v2-0276";
const ORDINAL_SPECIALTY: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale";
const PROFESSION: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante";
const IDENTIFIER_TYPE: &str = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203";
const SLOT_PROFILE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// A search covers at most this many days, and returns at most this many slots per page.
const MAX_WINDOW_DAYS: i64 = 31;
const DEFAULT_COUNT: i64 = 100;
const MAX_COUNT: i64 = 500;

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
                            { "name": "start", "type": "date", "documentation": "Début du créneau : ge, gt, le, lt (heure de Paris sans fuseau)." },
                            { "name": "status", "type": "token", "documentation": "free uniquement." },
                            { "name": "schedule.actor:Practitioner.identifier", "type": "token", "documentation": "IDNPS des praticiens (urn:oid:1.2.250.1.71.4.2.1|8…), séparés par des virgules." },
                            { "name": "_count", "type": "number", "documentation": "Créneaux par page (500 au plus)." }
                        ]
                    },
                    { "type": "Schedule", "interaction": [] },
                    { "type": "Practitioner", "interaction": [] },
                    { "type": "PractitionerRole", "interaction": [] },
                    { "type": "HealthcareService", "interaction": [] },
                    { "type": "Organization", "interaction": [] }
                ]
            }]
        }),
    )
}

/// What the search asks, read from the query string (parameters repeat: `start` twice, `_include` often).
#[derive(Debug, Default)]
struct SlotSearch {
    from: Option<i64>,
    until: Option<i64>,
    practitioners: Vec<String>,
    include_schedule: bool,
    include_actors: bool,
    include_service: bool,
    include_organization: bool,
    count: i64,
    offset: i64,
}

fn parse_search(query: &str) -> Result<SlotSearch, String> {
    let mut search = SlotSearch {
        count: DEFAULT_COUNT,
        ..Default::default()
    };
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "start" => {
                // The two-letter comparator, when there is one (`get` keeps a multi-byte text whole).
                let (prefix, text) = match value.get(..2) {
                    Some(p @ ("ge" | "gt" | "le" | "lt" | "eq")) => (p, &value[2..]),
                    _ => ("eq", value.as_ref()),
                };
                let instant = parse_fhir_date_time(text).ok_or_else(|| {
                    format!(
                        "start : « {value} » n'est pas une date FHIR (2026-12-01T08:00:00+01:00)."
                    )
                })?;
                match prefix {
                    "ge" => search.from = Some(instant),
                    "gt" => search.from = Some(instant + 1),
                    "le" => search.until = Some(instant),
                    "lt" => search.until = Some(instant - 1),
                    _ => {
                        return Err(
                            "start : préfixe ge, gt, le ou lt attendu (par exemple start=ge2026-12-01T08:00:00+01:00)."
                                .into(),
                        )
                    }
                }
            }
            "status" => {
                if value.split(',').any(|s| s != "free") {
                    return Err("status : seuls les créneaux libres (free) sont publiés.".into());
                }
            }
            "schedule.actor:Practitioner.identifier" | "schedule.actor.identifier" => {
                for token in value.split(',').filter(|t| !t.is_empty()) {
                    let identifier = match token.split_once('|') {
                        Some((system, identifier)) if system == IDNPS || system.is_empty() => identifier,
                        Some((system, _)) => {
                            return Err(format!(
                                "schedule.actor:Practitioner.identifier : système « {system} » inconnu (attendu {IDNPS})."
                            ))
                        }
                        None => token,
                    };
                    if identifier.is_empty() || identifier.len() > 20 {
                        return Err(format!(
                            "schedule.actor:Practitioner.identifier : « {token} » n'est pas un IDNPS."
                        ));
                    }
                    search.practitioners.push(identifier.to_string());
                }
                if search.practitioners.len() > 500 {
                    return Err("schedule.actor:Practitioner.identifier : 500 praticiens au plus par recherche.".into());
                }
            }
            "_include" | "_include:iterate" => match value.as_ref() {
                "Slot:schedule" => search.include_schedule = true,
                "Schedule:actor"
                | "Schedule:actor:Practitioner"
                | "Schedule:actor:PractitionerRole" => search.include_actors = true,
                "Slot:service-type-reference" => search.include_service = true,
                "HealthcareService:organization" => search.include_organization = true,
                other => return Err(format!("_include : « {other} » n'est pas pris en charge.")),
            },
            "_count" => {
                search.count = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| format!("_count : un nombre entre 1 et {MAX_COUNT}."))?;
            }
            "_offset" => {
                search.offset = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=1_000_000).contains(n))
                    .ok_or_else(|| "_offset : un nombre positif.".to_string())?;
            }
            "_format" => {}
            other => {
                return Err(format!(
                    "{other} : paramètre de recherche non pris en charge."
                ))
            }
        }
    }
    Ok(search)
}

fn reference(kind: &str, id: &str) -> Value {
    json!({ "reference": format!("{kind}/{id}") })
}

fn schedule_id(professional: Uuid) -> String {
    format!("sched-{professional}")
}
fn role_id(professional: Uuid) -> String {
    format!("role-{professional}")
}
fn service_id(cpts: &Cpts) -> String {
    format!("snp-{}", cpts.id)
}

fn organization(cpts: &Cpts) -> Value {
    let mut org = json!({
        "resourceType": "Organization",
        "id": cpts.id.to_string(),
        "name": cpts.name,
        "active": true,
    });
    if let Some(finess) = cpts.finess.as_deref().filter(|f| !f.is_empty()) {
        org["identifier"] = json!([{
            "type": { "coding": [{ "system": IDENTIFIER_TYPE, "code": "IDNST" }] },
            "system": IDNST,
            "value": format!("1{finess}"),
        }]);
    }
    org
}

fn healthcare_service(cpts: &Cpts) -> Value {
    json!({
        "resourceType": "HealthcareService",
        "id": service_id(cpts),
        "active": true,
        "providedBy": reference("Organization", &cpts.id.to_string()),
        "name": format!("Soins non programmés — {}", cpts.name),
        "category": [{ "coding": [{ "system": ESTABLISHMENT_CATEGORY, "code": CPTS_CATEGORY, "display": "Communauté Professionnelle Territoriale de Santé (CPTS)" }] }],
    })
}

/// TRE_R314 codes of a slot's kind: kept for the SAS ("SNP", as are extra patients), or for the CPTS.
fn slot_security(kind: SlotKind) -> Vec<Value> {
    let code = match kind {
        SlotKind::Cpts => "CPTS",
        SlotKind::Sas | SlotKind::Extra => "SNP",
    };
    vec![json!({ "system": SLOT_TYPE, "code": code })]
}

fn modality_code(modality: Modality) -> &'static str {
    match modality {
        Modality::HomeVisit => "HH",
        Modality::Video => "VR",
        Modality::Office => "AMB",
    }
}

fn slot_resource(slot: &SnpSlot, cpts: &Cpts) -> Value {
    let mut resource = json!({
        "resourceType": "Slot",
        "id": slot.id.to_string(),
        "meta": { "profile": [SLOT_PROFILE], "security": slot_security(slot.kind) },
        "serviceType": [
            { "coding": [{ "system": ACT_CODE, "code": modality_code(slot.modality) }] },
            {
                "coding": [{ "system": ESTABLISHMENT_CATEGORY, "code": CPTS_CATEGORY }],
                "extension": [{ "url": SERVICE_TYPE_R5, "valueReference": reference("HealthcareService", &service_id(cpts)) }],
            },
        ],
        "appointmentType": { "coding": [{ "system": APPOINTMENT_REASON, "code": "ROUTINE" }] },
        "schedule": reference("Schedule", &schedule_id(slot.professional_id)),
        "status": "free",
        "start": paris_date_time(slot.start_at),
        "end": paris_date_time(slot.end_at),
    });
    if slot.profession_code == "MG" {
        resource["specialty"] = json!([{ "coding": [{ "system": ORDINAL_SPECIALTY, "code": "SM54", "display": "Médecine générale" }] }]);
    }
    if !slot.place.is_empty() {
        resource["comment"] = json!(slot.place);
    }
    resource
}

/// The national identifier as the directory's extract writes it: `8` + RPPS, or `0` + ADELI.
fn idnps(s: &ProfessionalSummary) -> String {
    let prefix = match s.id_kind.as_str() {
        "ADELI" | "0" => "0",
        _ => "8",
    };
    format!("{prefix}{}", s.identifier)
}

fn practitioner(s: &ProfessionalSummary) -> Value {
    let mut name = json!({ "family": s.last_name, "given": [s.first_name] });
    if !s.civility.is_empty() {
        name["prefix"] = json!([s.civility]);
    }
    json!({
        "resourceType": "Practitioner",
        "id": s.id.to_string(),
        "identifier": [{
            "type": { "coding": [{ "system": IDENTIFIER_TYPE, "code": "IDNPS" }] },
            "system": IDNPS,
            "value": idnps(s),
        }],
        "active": true,
        "name": [name],
    })
}

fn practitioner_role(s: &ProfessionalSummary, cpts: &Cpts) -> Value {
    let mut role = json!({
        "resourceType": "PractitionerRole",
        "id": role_id(s.id),
        "active": true,
        "practitioner": reference("Practitioner", &s.id.to_string()),
        "organization": reference("Organization", &cpts.id.to_string()),
        "code": [{ "coding": [{ "system": PROFESSION, "code": s.profession_code, "display": s.profession_label }] }],
        "healthcareService": [reference("HealthcareService", &service_id(cpts))],
    });
    if let Some(commune) = s.commune_code.as_deref().filter(|c| !c.is_empty()) {
        let mut address = json!({
            "city": crate::missions::directory::commune_name(commune),
            "country": "FR",
        });
        if let Some(line) = s.address.as_deref().filter(|a| !a.is_empty()) {
            address["line"] = json!([line]);
        }
        role["contained"] = json!([{
            "resourceType": "Location",
            "id": "lieu",
            "name": s.structure_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "Lieu d'exercice".to_string()),
            "address": address,
        }]);
        role["location"] = json!([{ "reference": "#lieu" }]);
    }
    if let Some(phone) = s.phone.as_deref().filter(|p| !p.is_empty()) {
        role["telecom"] = json!([{ "system": "phone", "value": phone }]);
    }
    role
}

fn schedule(s: &ProfessionalSummary) -> Value {
    let id = s.id;
    json!({
        "resourceType": "Schedule",
        "id": schedule_id(id),
        "active": true,
        "actor": [reference("Practitioner", &id.to_string()), reference("PractitionerRole", &role_id(id))],
    })
}

fn entry(base: &str, resource: Value, mode: &str) -> Value {
    let url = format!(
        "{base}/fhir/{}/{}",
        resource["resourceType"].as_str().unwrap_or(""),
        resource["id"].as_str().unwrap_or("")
    );
    json!({ "fullUrl": url, "resource": resource, "search": { "mode": mode } })
}

async fn audit_read(
    state: &AppState,
    actor: &AuditContext,
    caller: &TokenCaller,
    slots: usize,
) -> Result<(), Response> {
    audit::record(
        state.store.as_ref(),
        actor,
        AuditEvent::new(
            AuditAction::FhirSlotsRead,
            "api_token",
            caller.token.id.to_string(),
        )
        .detail(json!({ "slots": slots })),
    )
    .await
    .map(|_| ())
    .map_err(|e| internal(&e))
}

async fn search_slots(
    State(state): State<AppState>,
    caller: TokenCaller,
    Actor(actor): Actor,
    RawQuery(query): RawQuery,
) -> Response {
    let search = match parse_search(query.as_deref().unwrap_or("")) {
        Ok(search) => search,
        Err(message) => return invalid(message),
    };
    let now = now_ms();
    let from = search.from.unwrap_or(now).max(now);
    let until = search.until.unwrap_or(from + 48 * HOUR_MS);
    if until < from || until - from > MAX_WINDOW_DAYS * 24 * HOUR_MS {
        return invalid(format!(
            "start : la fenêtre de recherche suit son début et dure au plus {MAX_WINDOW_DAYS} jours."
        ));
    }
    let cpts = &caller.cpts;
    let professionals = if search.practitioners.is_empty() {
        Vec::new()
    } else {
        match state
            .store
            .professionals_by_national_id(cpts.id, &search.practitioners)
            .await
        {
            Ok(ids) if ids.is_empty() => {
                return bundle(&state, &search, Vec::new(), cpts, &query, false).await
            }
            Ok(ids) => ids,
            Err(e) => return internal(&e),
        }
    };
    let slot_query = SlotQuery {
        from,
        until,
        professionals,
        ..Default::default()
    };
    // One more than asked tells whether a next page exists.
    let slots = match state
        .store
        .search_free_slots(
            cpts.id,
            &slot_query,
            now,
            Page {
                limit: search.count + 1,
                offset: search.offset,
            },
        )
        .await
    {
        Ok(slots) => slots,
        Err(e) => return internal(&e),
    };
    let more = slots.len() as i64 > search.count;
    let slots: Vec<SnpSlot> = slots.into_iter().take(search.count as usize).collect();
    if let Err(response) = audit_read(&state, &actor, &caller, slots.len()).await {
        return response;
    }
    bundle(&state, &search, slots, cpts, &query, more).await
}

async fn bundle(
    state: &AppState,
    search: &SlotSearch,
    slots: Vec<SnpSlot>,
    cpts: &Cpts,
    query: &Option<String>,
    more: bool,
) -> Response {
    let base = state.config.server.base_url().to_string();
    let mut entries = Vec::with_capacity(slots.len() * 2);
    let mut seen: Vec<Uuid> = Vec::new();
    for slot in &slots {
        entries.push(entry(&base, slot_resource(slot, cpts), "match"));
        if !seen.contains(&slot.professional_id) {
            seen.push(slot.professional_id);
        }
    }
    if search.include_schedule || search.include_actors {
        // The professionals of the page, read in one query, in the order their slots come.
        let mut summaries = match state.store.professional_summaries(cpts.id, &seen).await {
            Ok(summaries) => summaries,
            Err(e) => return internal(&e),
        };
        summaries.sort_by_key(|s| seen.iter().position(|id| *id == s.id));
        for summary in &summaries {
            if search.include_schedule {
                entries.push(entry(&base, schedule(summary), "include"));
            }
            if search.include_actors {
                entries.push(entry(&base, practitioner(summary), "include"));
                entries.push(entry(&base, practitioner_role(summary, cpts), "include"));
            }
        }
    }
    if !slots.is_empty() {
        if search.include_service {
            entries.push(entry(&base, healthcare_service(cpts), "include"));
        }
        if search.include_organization {
            entries.push(entry(&base, organization(cpts), "include"));
        }
    }
    let query = query.clone().unwrap_or_default();
    let mut links = vec![json!({ "relation": "self", "url": format!("{base}/fhir/Slot?{query}") })];
    if more {
        let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "_offset")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let next: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .append_pair("_offset", &(search.offset + search.count).to_string())
            .finish();
        links.push(json!({ "relation": "next", "url": format!("{base}/fhir/Slot?{next}") }));
    }
    let mut body = json!({
        "resourceType": "Bundle",
        "id": Uuid::now_v7().to_string(),
        "meta": { "lastUpdated": paris_date_time(now_ms()) },
        "type": "searchset",
        "link": links,
        "entry": entries,
    });
    if !more && search.offset == 0 {
        body["total"] = json!(slots.len());
    }
    fhir_response(StatusCode::OK, &body)
}

async fn read_slot(
    State(state): State<AppState>,
    caller: TokenCaller,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return operation_outcome(StatusCode::NOT_FOUND, "Ce créneau n'existe pas.", "-");
    };
    let now = now_ms();
    let slot = match state.store.find_slot(caller.cpts.id, id).await {
        Ok(Some(slot)) if !slot.cancelled && slot.start_at >= now => slot,
        Ok(_) => return operation_outcome(StatusCode::NOT_FOUND, "Ce créneau n'existe pas.", "-"),
        Err(e) => return internal(&e),
    };
    // A booked slot is "busy": the SAS learns nothing else about it.
    let booked = match state.store.bookings_of_slot(caller.cpts.id, id).await {
        Ok(bookings) => bookings.iter().any(|b| b.is_live_at(now)),
        Err(e) => return internal(&e),
    };
    if let Err(response) = audit_read(&state, &actor, &caller, 1).await {
        return response;
    }
    let mut resource = slot_resource(&slot, &caller.cpts);
    if booked {
        resource["status"] = json!("busy");
    }
    fhir_response(StatusCode::OK, &resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_read_the_guide_parameters_and_refuse_the_rest() {
        let q = "schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810002909371,810000000001\
                 &start=ge2024-06-12T16:20:00.000%2B02:00&start=le2024-06-12T17:20:00.000%2B02:00&status=free\
                 &_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference\
                 &_include:iterate=HealthcareService:organization";
        let s = parse_search(q).unwrap();
        assert_eq!(s.practitioners, vec!["810002909371", "810000000001"]);
        assert_eq!(s.until.unwrap() - s.from.unwrap(), HOUR_MS);
        assert!(
            s.include_schedule && s.include_actors && s.include_service && s.include_organization
        );
        for bad in [
            "status=busy",
            "start=demain",
            "start=eq2026-12-01",
            "_count=0",
            "_include=Patient:link",
            "name=Dupont",
            "schedule.actor:Practitioner.identifier=http://autre%7C81",
        ] {
            let message = parse_search(bad).unwrap_err();
            assert!(message.contains(" : "), "{bad}: {message}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Whatever a client sends, the search answers a result or a French message naming the parameter.
        #[test]
        fn arbitrary_queries_never_panic(
            text in proptest::prelude::any::<String>(),
            near in "(start=(ge|le|gt|lt|eq)?[0-9T:+.Z-]{0,30}|status=[a-z,]{0,8}|_count=[0-9-]{0,5}|_offset=[0-9-]{0,8}|_include(:iterate)?=[A-Za-z:-]{0,30}|schedule\\.actor:Practitioner\\.identifier=[a-z0-9:.%|,]{0,40})(&(start|status|_count)=[^&]{0,12}){0,3}",
        ) {
            for query in [text.as_str(), near.as_str()] {
                if let Err(message) = parse_search(query) {
                    proptest::prop_assert!(message.contains(" : "), "{query}: {message}");
                }
            }
        }
    }
}

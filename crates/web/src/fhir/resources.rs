//! The resources of a CPTS search answer, each claiming the guide's profile in `meta.profile` (the SAS and its
//! test kit find resources by profile): Slot (`sas-cpts-slot-aggregator`), Schedule, Practitioner,
//! PractitionerRole with its contained Location (`FrLocationAgregateur`: identifier, address line, city and
//! postal code), HealthcareService and Organization of the CPTS (IDNST `1` + FINESS, type from
//! `fr-core-cs-v2-0203`). Instants carry milliseconds and the Paris offset; phones are in `+33…` form.

use maillage_domain::unscheduled_care::{Modality, SlotKind};
use maillage_store::{Cpts, PracticePlace, ProfessionalSummary, SnpSlot};
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
/// Identifier types of practitioners and of their practice structure (the profiles' patterns).
const IDENTIFIER_TYPE: &str = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203";
/// The CPTS Organization's identifier type (the `sas-cpts-organization-aggregator` pattern).
const CORE_IDENTIFIER_TYPE: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
const LOCATION_IDENTIFIER_TYPE: &str =
    "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type";

pub const BUNDLE_PROFILE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator";
pub const SLOT_PROFILE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
pub const SCHEDULE_PROFILE: &str = "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur";
pub const PRACTITIONER_PROFILE: &str =
    "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur";
pub const ROLE_PROFILE: &str =
    "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur";
pub const LOCATION_PROFILE: &str = "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur";
pub const SERVICE_PROFILE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator";
pub const ORGANIZATION_PROFILE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator";

/// A FHIR instant as the guide writes it: `2024-06-12T16:40:00.000+02:00` (Paris time).
pub fn instant(utc_ms: i64) -> String {
    maillage_domain::calendar::fhir_instant(utc_ms)
}

/// A French number in the international form the SAS reads (`+33…`, overseas `+262`, `+590`, `+594`,
/// `+596`); None when it is not a ten-digit French number.
pub fn international_phone(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let national = if let Some(rest) = text.trim().strip_prefix('+') {
        let rest: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
        for code in ["33", "262", "590", "594", "596"] {
            if let Some(number) = rest.strip_prefix(code) {
                if number.len() == 9 {
                    return Some(format!("+{code}{number}"));
                }
            }
        }
        return None;
    } else {
        digits
    };
    if national.len() != 10 || !national.starts_with('0') {
        return None;
    }
    let number = &national[1..];
    // Overseas numbers keep their own country code (the first three digits after 0).
    let code = match &number[..3] {
        "262" | "263" | "269" | "692" | "693" | "639" => "262",
        "590" | "690" | "691" => "590",
        "594" | "694" => "594",
        "596" | "696" | "697" => "596",
        _ => "33",
    };
    Some(format!("+{code}{number}"))
}

fn reference(kind: &str, id: &str) -> Value {
    json!({ "reference": format!("{kind}/{id}") })
}

fn meta(profile: &str) -> Value {
    json!({ "profile": [profile] })
}

/// The id of a professional's agenda at one practice place (its position in the directory's list; the first
/// place keeps the plain `sched-<professional>`).
pub fn schedule_id(professional: Uuid, position: usize) -> String {
    match position {
        0 => format!("sched-{professional}"),
        n => format!("sched-{professional}-{n}"),
    }
}

/// The professional and place position a Schedule id names.
pub fn parse_schedule_id(id: &str) -> Option<(Uuid, usize)> {
    let rest = id.strip_prefix("sched-")?;
    if rest.len() == 36 {
        return Some((Uuid::parse_str(rest).ok()?, 0));
    }
    let (professional, position) = rest.split_at_checked(36)?;
    let position: usize = position.strip_prefix('-')?.parse().ok()?;
    (position > 0 && position < 100).then_some((Uuid::parse_str(professional).ok()?, position))
}

fn role_id(professional: Uuid, position: usize) -> String {
    match position {
        0 => format!("role-{professional}"),
        n => format!("role-{professional}-{n}"),
    }
}
pub fn service_id(cpts: &Cpts) -> String {
    format!("snp-{}", cpts.id)
}

/// The CPTS: IDNST `1` + FINESS (the profile requires it), its name and the coordination's phone.
pub fn organization(cpts: &Cpts) -> Value {
    let mut org = json!({
        "resourceType": "Organization",
        "id": cpts.id.to_string(),
        "meta": meta(ORGANIZATION_PROFILE),
        "name": cpts.name,
        "active": true,
    });
    if let Some(finess) = cpts.finess.as_deref().filter(|f| !f.is_empty()) {
        org["identifier"] = json!([{
            "type": { "coding": [{ "system": CORE_IDENTIFIER_TYPE, "code": "IDNST" }] },
            "system": IDNST,
            "value": format!("1{finess}"),
        }]);
    }
    if let Some(phone) = international_phone(&cpts.contact_phone) {
        org["telecom"] = json!([{ "system": "phone", "value": phone }]);
    }
    org
}

pub fn healthcare_service(cpts: &Cpts) -> Value {
    json!({
        "resourceType": "HealthcareService",
        "id": service_id(cpts),
        "meta": meta(SERVICE_PROFILE),
        "active": true,
        "providedBy": reference("Organization", &cpts.id.to_string()),
        "name": format!("Soins non programmés — {}", cpts.name),
        "category": [{ "coding": [{ "system": ESTABLISHMENT_CATEGORY, "code": CPTS_CATEGORY, "display": "Communauté Professionnelle Territoriale de Santé (CPTS)" }] }],
    })
}

/// TRE_R314 codes of a slot's kind: open to the CPTS, and to the regulators when kept for the SAS ("SNP",
/// as are extra patients). Every slot Maillage publishes is the CPTS's, so each carries `CPTS`.
fn slot_security(kind: SlotKind) -> Vec<Value> {
    let codes: &[&str] = match kind {
        SlotKind::Cpts => &["CPTS"],
        SlotKind::Sas | SlotKind::Extra => &["SNP", "CPTS"],
    };
    codes
        .iter()
        .map(|code| json!({ "system": SLOT_TYPE, "code": code }))
        .collect()
}

fn modality_code(modality: Modality) -> &'static str {
    match modality {
        Modality::HomeVisit => "HH",
        Modality::Video => "VR",
        Modality::Office => "AMB",
    }
}

/// A free slot; `booking_url` is the page of Maillage where it is booked (`Slot.comment`, which the SAS
/// opens with `origin` appended).
/// `position` is the practice place it is given at (its Schedule).
pub fn slot(slot: &SnpSlot, cpts: &Cpts, booking_url: &str, position: usize) -> Value {
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
        "schedule": reference("Schedule", &schedule_id(slot.professional_id, position)),
        "status": "free",
        "start": instant(slot.start_at),
        "end": instant(slot.end_at),
        "comment": booking_url,
    });
    if slot.profession_code == "MG" {
        resource["specialty"] = json!([{ "coding": [{ "system": ORDINAL_SPECIALTY, "code": "SM54", "display": "Médecine générale" }] }]);
    }
    resource
}

/// The national identifier as the directory's extract writes it: `8` + RPPS, or `0` + ADELI.
pub fn idnps(s: &ProfessionalSummary) -> String {
    s.national_id()
}

/// A Practitioner's id: its IDNPS, so that a professional effecteur in several CPTS read together is one
/// Practitioner (each CPTS keeps its own record, PractitionerRole and Schedule).
pub fn practitioner_id(s: &ProfessionalSummary) -> String {
    idnps(s)
}

pub fn practitioner(s: &ProfessionalSummary) -> Value {
    let mut name = json!({ "family": s.last_name, "given": [s.first_name] });
    if !s.civility.is_empty() {
        name["prefix"] = json!([s.civility]);
    }
    json!({
        "resourceType": "Practitioner",
        "id": practitioner_id(s),
        "meta": meta(PRACTITIONER_PROFILE),
        "identifier": [{
            "type": { "coding": [{ "system": IDENTIFIER_TYPE, "code": "IDNPS" }] },
            "system": IDNPS,
            "value": idnps(s),
        }],
        "active": true,
        "name": [name],
    })
}

/// The practice structure's IDNST in the guide's order: `1` + FINESS, else `3` + SIRET (of the place — the
/// given one, else the first — else of the structure the CPTS attached the professional to); None when neither
/// is known.
pub fn practice_idnst(
    s: &ProfessionalSummary,
    place: Option<&PracticePlace>,
    structure: Option<(&str, &str)>,
) -> Option<String> {
    let known = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (finess, siret) = match place {
        Some(place) => (Some(place.finess.as_str()), Some(place.siret.as_str())),
        None => (s.place_finess.as_deref(), s.place_siret.as_deref()),
    };
    known(finess)
        .map(|f| format!("1{f}"))
        .or_else(|| known(siret).map(|f| format!("3{f}")))
        .or_else(|| known(structure.map(|(finess, _)| finess)).map(|f| format!("1{f}")))
        .or_else(|| known(structure.map(|(_, siret)| siret)).map(|f| format!("3{f}")))
}

/// Where a PractitionerRole's Location is: a practice place of the directory, or (none known) the summary's
/// first one.
struct PlaceFacts {
    name: Option<String>,
    address: Option<String>,
    postal_code: Option<String>,
    commune_code: Option<String>,
    phone: Option<String>,
}

impl PlaceFacts {
    fn of(s: &ProfessionalSummary, place: Option<&PracticePlace>) -> Self {
        let given = |v: &str| Some(v.to_string()).filter(|v| !v.trim().is_empty());
        match place {
            Some(p) => Self {
                name: given(&p.name),
                address: given(&p.address),
                postal_code: given(&p.postal_code),
                commune_code: given(&p.commune_code),
                phone: given(&p.phone),
            },
            None => Self {
                name: s.structure_name.clone(),
                address: s.address.clone(),
                postal_code: s.postal_code.clone(),
                commune_code: s.commune_code.clone(),
                phone: s.phone.clone(),
            },
        }
    }
}

/// The professional at one practice place (`position` in the directory's list; `place` its facts, None: the
/// summary's first place): a PractitionerRole with its Location contained (identifier, address line, city,
/// postal code as the profile requires them), the practice structure's IDNST and the phone.
pub fn practitioner_role(
    s: &ProfessionalSummary,
    (place, position): (Option<&PracticePlace>, usize),
    cpts: &Cpts,
    base: &str,
    structure_idnst: Option<String>,
) -> Value {
    let facts = PlaceFacts::of(s, place);
    let commune = facts
        .commune_code
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(crate::missions::directory::commune_name)
        .filter(|name| !name.is_empty());
    let place_name = facts
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "Lieu d'exercice".to_string());
    // The profile wants one address line: the street, else the structure's name.
    let line = facts
        .address
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| place_name.clone());
    let mut address = json!({ "line": [line], "country": "FR" });
    if let Some(city) = commune {
        address["city"] = json!(city);
    }
    if let Some(postal) = facts.postal_code.as_deref().filter(|p| p.len() == 5) {
        address["postalCode"] = json!(postal);
    }
    let mut role = json!({
        "resourceType": "PractitionerRole",
        "id": role_id(s.id, position),
        "meta": meta(ROLE_PROFILE),
        "contained": [{
            "resourceType": "Location",
            "id": "lieu",
            "meta": meta(LOCATION_PROFILE),
            "identifier": [{
                "type": { "coding": [{ "system": LOCATION_IDENTIFIER_TYPE, "code": "INTRN" }] },
                "system": format!("{base}/fhir/lieux"),
                "value": format!("{}-{position}", s.id),
            }],
            "name": place_name,
            "address": address,
        }],
        "active": true,
        "practitioner": reference("Practitioner", &practitioner_id(s)),
        "code": [{ "coding": [{ "system": PROFESSION, "code": s.profession_code, "display": s.profession_label }] }],
        "location": [{ "reference": "#lieu" }],
        "healthcareService": [reference("HealthcareService", &service_id(cpts))],
    });
    if let Some(idnst) = structure_idnst {
        role["organization"] = json!({ "identifier": {
            "type": { "coding": [{ "system": IDENTIFIER_TYPE, "code": "IDNST" }] },
            "system": IDNST,
            "value": idnst,
        } });
    }
    if let Some(phone) = facts.phone.as_deref().and_then(international_phone) {
        role["telecom"] = json!([{ "system": "phone", "value": phone }]);
    }
    role
}

/// The professional's agenda at one practice place: its Practitioner and that place's PractitionerRole.
pub fn schedule(s: &ProfessionalSummary, position: usize) -> Value {
    let id = s.id;
    json!({
        "resourceType": "Schedule",
        "id": schedule_id(id, position),
        "meta": meta(SCHEDULE_PROFILE),
        "active": true,
        "actor": [reference("Practitioner", &practitioner_id(s)), reference("PractitionerRole", &role_id(id, position))],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_carry_milliseconds_and_the_paris_offset() {
        let summer =
            maillage_domain::unscheduled_care::parse_fhir_date_time("2024-06-12T14:40:00Z")
                .unwrap();
        assert_eq!(instant(summer), "2024-06-12T16:40:00.000+02:00");
        let winter =
            maillage_domain::unscheduled_care::parse_fhir_date_time("2026-12-01T07:30:00Z")
                .unwrap();
        assert_eq!(instant(winter), "2026-12-01T08:30:00.000+01:00");
    }

    #[test]
    fn phones_take_the_international_form_the_test_kit_expects() {
        for (given, expected) in [
            ("04 66 11 22 33", Some("+33466112233")),
            ("0466112233", Some("+33466112233")),
            ("+33 4 66 11 22 33", Some("+33466112233")),
            ("0262 12 34 56", Some("+262262123456")),
            ("0692 12 34 56", Some("+262692123456")),
            ("0590 12 34 56", Some("+590590123456")),
            ("0694 12 34 56", Some("+594694123456")),
            ("0596 12 34 56", Some("+596596123456")),
            ("12", None),
            ("", None),
            ("+44 20 7946 0958", None),
        ] {
            assert_eq!(international_phone(given).as_deref(), expected, "{given}");
        }
    }
}

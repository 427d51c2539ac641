//! The matching engine's JSON interface, shared by `maillage match` (batch use and audits) and, later, the
//! coordinator's page: reading and checking a problem, writing the solution.

use maillage_domain::doctor_search::{priority, Criteria, Criterion, PriorityRules};
use maillage_domain::identifiers::InseeCode;
use maillage_domain::matching::{solve, MatchDoctor, MatchRequest};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemInput {
    max_distance_km: f64,
    /// Priority rules used for requests given by their criteria (the defaults when absent).
    #[serde(default)]
    rules: Option<PriorityRules>,
    requests: Vec<PlaceInput>,
    doctors: Vec<PlaceInput>,
}

/// A request or a doctor: an id, a commune or coordinates, and a weight (requests) or a capacity (doctors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceInput {
    id: String,
    #[serde(default)]
    commune: Option<String>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    weight: Option<u32>,
    /// Instead of `weight`: codes of the criteria (`ald`, `css`, `ame`, `loss_of_autonomy`, `isolation`,
    /// `precarity`, `disability`, `pregnancy`, `former_gp_left`), with `age` and `waiting_days`.
    #[serde(default)]
    criteria: Option<Vec<String>>,
    #[serde(default)]
    age: Option<u32>,
    #[serde(default)]
    waiting_days: Option<i64>,
    #[serde(default)]
    capacity: Option<u32>,
    #[serde(default)]
    max_distance_km: Option<f64>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct AssignmentOutput {
    pub request: String,
    pub doctor: String,
    pub distance_km: f64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct SolutionOutput {
    pub assignments: Vec<AssignmentOutput>,
    pub unassigned: Vec<String>,
    pub total_weight: u64,
    pub total_distance_km: f64,
}

fn position(what: &str, place: &PlaceInput) -> Result<(f64, f64), String> {
    match (&place.commune, place.lat, place.lon) {
        (Some(code), None, None) => {
            let commune = InseeCode::parse(code)
                .ok()
                .and_then(|code| maillage_domain::territory::find(&code))
                .ok_or_else(|| {
                    format!(
                        "{what} « {} » : commune « {code} » inconnue (code INSEE attendu)",
                        place.id
                    )
                })?;
            commune.coordinates().ok_or_else(|| {
                format!(
                    "{what} « {} » : la commune {code} n'a pas de coordonnées ; donnez lat et lon",
                    place.id
                )
            })
        }
        (None, Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Ok((lat, lon))
        }
        (None, Some(_), Some(_)) => Err(format!(
            "{what} « {} » : lat entre -90 et 90, lon entre -180 et 180",
            place.id
        )),
        _ => Err(format!(
            "{what} « {} » : donnez soit « commune », soit « lat » et « lon »",
            place.id
        )),
    }
}

fn round_m(km: f64) -> f64 {
    (km * 1000.0).round() / 1000.0
}

/// Reads a problem (`{"max_distance_km", "requests", "doctors"}`), solves it, and returns the solution; every
/// problem in the input is reported in French, naming the request or doctor.
/// serde_json's error, said in French with its position: the field named when serde names one.
fn json_error_in_french(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let quoted = text.split('`').nth(1).unwrap_or_default();
    let place = format!("ligne {}, colonne {}", error.line(), error.column());
    let what = match error.classify() {
        serde_json::error::Category::Eof => {
            "le JSON s'arrête avant la fin (accolade ou crochet non fermé)".to_string()
        }
        serde_json::error::Category::Syntax => {
            "syntaxe JSON incorrecte (virgule, guillemet ou accolade)".to_string()
        }
        serde_json::error::Category::Io => "lecture impossible".to_string(),
        serde_json::error::Category::Data if text.starts_with("unknown field") => {
            format!("champ inconnu « {quoted} »")
        }
        serde_json::error::Category::Data if text.starts_with("missing field") => {
            format!("champ « {quoted} » manquant")
        }
        serde_json::error::Category::Data if text.starts_with("invalid type") => {
            "une valeur n'a pas le type attendu (nombre, texte, liste ou objet)".to_string()
        }
        serde_json::error::Category::Data if text.starts_with("invalid value") => {
            "une valeur est hors des valeurs permises".to_string()
        }
        serde_json::error::Category::Data => "une valeur ne convient pas".to_string(),
    };
    format!("JSON invalide : {what} ({place})")
}

pub fn solve_json(input: &str) -> Result<SolutionOutput, String> {
    let problem: ProblemInput =
        serde_json::from_str(input).map_err(|e| json_error_in_french(&e))?;
    let rules = problem.rules.clone().unwrap_or_default();
    rules
        .check()
        .map_err(|e| format!("rules : {} — {}", e.field, e.message))?;
    if !(problem.max_distance_km.is_finite() && problem.max_distance_km > 0.0) {
        return Err("max_distance_km : un nombre de kilomètres positif attendu".into());
    }
    let mut seen = HashSet::new();
    let mut requests = Vec::with_capacity(problem.requests.len());
    for r in &problem.requests {
        if r.id.is_empty() || !seen.insert(("r", r.id.clone())) {
            return Err(format!(
                "demande « {} » : identifiant vide ou en double",
                r.id
            ));
        }
        if r.capacity.is_some() || r.max_distance_km.is_some() {
            return Err(format!(
                "demande « {} » : capacity et max_distance_km concernent les médecins",
                r.id
            ));
        }
        let weight = match (r.weight, &r.criteria) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "demande « {} » : donnez soit weight, soit criteria, pas les deux",
                    r.id
                ))
            }
            (Some(w), None) if w >= 1 => w,
            (Some(_), None) => {
                return Err(format!(
                    "demande « {} » : weight doit valoir au moins 1",
                    r.id
                ))
            }
            (None, Some(codes)) => {
                let mut criteria = Criteria::default();
                for code in codes {
                    let criterion = Criterion::parse(code).ok_or_else(|| {
                        format!("demande « {} » : critère inconnu « {code} »", r.id)
                    })?;
                    criteria.set(criterion, true);
                }
                priority(&rules, &criteria, r.age, r.waiting_days.unwrap_or(0)).score
            }
            (None, None) => {
                return Err(format!(
                    "demande « {} » : weight manque (ou donnez criteria, age et waiting_days)",
                    r.id
                ))
            }
        };
        requests.push(MatchRequest {
            id: r.id.clone(),
            position: position("demande", r)?,
            weight,
        });
    }
    let mut doctors = Vec::with_capacity(problem.doctors.len());
    for d in &problem.doctors {
        if d.id.is_empty() || !seen.insert(("d", d.id.clone())) {
            return Err(format!(
                "médecin « {} » : identifiant vide ou en double",
                d.id
            ));
        }
        if d.criteria.is_some() || d.age.is_some() || d.waiting_days.is_some() {
            return Err(format!(
                "médecin « {} » : criteria, age et waiting_days concernent les demandes",
                d.id
            ));
        }
        if d.weight.is_some() {
            return Err(format!(
                "médecin « {} » : weight concerne les demandes",
                d.id
            ));
        }
        let capacity = d
            .capacity
            .ok_or_else(|| format!("médecin « {} » : capacity manque", d.id))?;
        if let Some(limit) = d.max_distance_km {
            if !(limit.is_finite() && limit > 0.0) {
                return Err(format!(
                    "médecin « {} » : max_distance_km doit être positif",
                    d.id
                ));
            }
        }
        doctors.push(MatchDoctor {
            id: d.id.clone(),
            position: position("médecin", d)?,
            capacity,
            max_distance_km: d.max_distance_km,
        });
    }
    let solved = solve(&requests, &doctors, problem.max_distance_km);
    Ok(SolutionOutput {
        assignments: solved
            .assignments
            .iter()
            .map(|a| AssignmentOutput {
                request: requests[a.request].id.clone(),
                doctor: doctors[a.doctor].id.clone(),
                distance_km: round_m(a.distance_km),
            })
            .collect(),
        unassigned: solved
            .unassigned
            .iter()
            .map(|i| requests[*i].id.clone())
            .collect(),
        total_weight: solved.total_weight,
        total_distance_km: round_m(solved.total_distance_km),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_solved() {
        let solution = solve_json(
            r#"{"max_distance_km": 30, "requests": [{"id": "r1", "commune": "30003", "weight": 5}],
                "doctors": [{"id": "d1", "commune": "30341", "capacity": 3, "max_distance_km": 20}]}"#,
        )
        .unwrap();
        assert_eq!(solution.assignments.len(), 1);
        assert_eq!(solution.total_weight, 5);
        assert!(solution.total_distance_km > 5.0 && solution.total_distance_km < 20.0);
        assert!(solution.unassigned.is_empty());
    }

    #[test]
    fn criteria_give_the_weight_of_the_priority_rules() {
        let solution = solve_json(
            r#"{"max_distance_km": 30,
                "requests": [{"id": "r1", "commune": "30003", "criteria": ["ald", "isolation"], "age": 75, "waiting_days": 65},
                             {"id": "r2", "commune": "30003", "criteria": []}],
                "doctors": [{"id": "d1", "commune": "30003", "capacity": 1}]}"#,
        )
        .unwrap();
        // 1 + ALD 3 + isolation 2 + age 3 + two months of waiting 2 = 11: r1 gets the only place.
        assert_eq!(solution.total_weight, 11);
        assert_eq!(solution.unassigned, vec!["r2".to_string()]);
    }

    #[test]
    fn bad_input_is_explained_never_a_panic() {
        for (input, expected) in [
            ("{", "JSON invalide"),
            (
                r#"{"max_distance_km": -1, "requests": [], "doctors": []}"#,
                "max_distance_km",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [{"id": "r1", "commune": "99999", "weight": 1}], "doctors": []}"#,
                "commune « 99999 » inconnue",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [{"id": "r1", "lat": 95, "lon": 4, "weight": 1}], "doctors": []}"#,
                "lat entre",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [{"id": "r1", "commune": "30003"}], "doctors": []}"#,
                "weight manque",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [{"id": "r1", "commune": "30003", "criteria": ["magie"]}], "doctors": []}"#,
                "critère inconnu « magie »",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [{"id": "r1", "commune": "30003", "weight": 1}, {"id": "r1", "commune": "30003", "weight": 1}], "doctors": []}"#,
                "en double",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [], "doctors": [{"id": "d1", "commune": "30003"}]}"#,
                "capacity manque",
            ),
            (
                r#"{"max_distance_km": 30, "requests": [], "doctors": [], "extra": 1}"#,
                "champ inconnu « extra »",
            ),
        ] {
            let error = solve_json(input).unwrap_err();
            assert!(error.contains(expected), "{input}: {error}");
        }
        // serde's own English words never reach the operator.
        for input in [
            "{",
            r#"{"max_distance_km": "trente", "requests": [], "doctors": []}"#,
            r#"{"requests": [], "doctors": []}"#,
            r#"{"max_distance_km": 30, "requests": [], "doctors": [], "extra": 1}"#,
            "[1, 2",
        ] {
            let error = solve_json(input).unwrap_err();
            for english in [
                "expected",
                "invalid type",
                "missing field",
                "unknown field",
                "EOF",
            ] {
                assert!(!error.contains(english), "{input}: {error}");
            }
            assert!(error.contains("ligne 1, colonne"), "{input}: {error}");
        }
    }
}

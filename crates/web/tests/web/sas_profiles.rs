//! Every resource of Maillage's SAS answers validated, offline, against the StructureDefinitions of the
//! guide's published package (`tests/sas-package/`, see its PROVENANCE.md): the differential of each profile a
//! resource claims — cardinalities, fixed and pattern values, required bindings to the package's value sets,
//! invariants, the Bundle's entry slices by profile and the profiles of referenced resources. The validator is
//! checked first on the guide's own example Bundle, as is and broken on purpose, so that it cannot pass
//! everything.

use super::*;
use serde_json::Value;
use std::collections::HashMap;

pub(super) struct Package {
    profiles: HashMap<String, Value>,
    /// (system, code) of each value set.
    value_sets: HashMap<String, Vec<(String, String)>>,
}

pub(super) fn package() -> Package {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sas-package");
    let mut package = Package {
        profiles: HashMap::new(),
        value_sets: HashMap::new(),
    };
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let resource: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let url = resource["url"].as_str().unwrap_or_default().to_string();
        match resource["resourceType"].as_str() {
            Some("StructureDefinition") => {
                package.profiles.insert(url, resource);
            }
            Some("ValueSet") => {
                let mut codes = Vec::new();
                for include in resource["compose"]["include"].as_array().unwrap() {
                    let system = include["system"].as_str().unwrap().to_string();
                    for concept in include["concept"].as_array().unwrap() {
                        codes.push((
                            system.clone(),
                            concept["code"].as_str().unwrap().to_string(),
                        ));
                    }
                }
                package.value_sets.insert(url, codes);
            }
            _ => {}
        }
    }
    assert!(
        package.profiles.len() >= 9,
        "the package's profiles are vendored"
    );
    package
}

/// The children named `segment` of `node` (`value[x]` matches `valueReference`…), arrays flattened.
fn children<'a>(node: &'a Value, segment: &str) -> Vec<&'a Value> {
    let found: Vec<&Value> = match segment.strip_suffix("[x]") {
        Some(prefix) => node
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len())
                    .map(|(_, v)| v)
                    .collect()
            })
            .unwrap_or_default(),
        None => node.get(segment).into_iter().collect(),
    };
    found
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect()
}

fn values_at<'a>(root: &'a Value, segments: &[&str]) -> Vec<&'a Value> {
    let mut nodes = vec![root];
    for segment in segments {
        nodes = nodes
            .into_iter()
            .flat_map(|n| children(n, segment))
            .collect();
    }
    nodes
}

/// FHIR pattern semantics: every property of the pattern is present with a matching value.
fn contains(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| contains(vv, pv))),
        (Value::Array(v), Value::Array(p)) => {
            p.iter().all(|pi| v.iter().any(|vi| contains(vi, pi)))
        }
        (Value::Array(v), p) => v.iter().any(|vi| contains(vi, p)),
        (v, p) => v == p,
    }
}

fn claims(resource: &Value, profile: &str) -> bool {
    resource["meta"]["profile"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p == profile))
}

/// Checks `resource` against the differential of `profile`; `bundle` resolves references and slices.
pub(super) fn validate(
    package: &Package,
    resource: &Value,
    profile: &str,
    bundle: &Value,
    problems: &mut Vec<String>,
) {
    let Some(definition) = package.profiles.get(profile) else {
        problems.push(format!("{profile} : profil absent du paquet"));
        return;
    };
    let kind = definition["type"].as_str().unwrap();
    let label = format!("{kind}/{}", resource["id"].as_str().unwrap_or("?"));
    for element in definition["differential"]["element"].as_array().unwrap() {
        let id = element["id"].as_str().unwrap();
        // An extension slice (the Appointment's operator) is checked by its path: the resources validated
        // carry that one extension.
        let extension_slice = id
            .split(':')
            .next()
            .is_some_and(|before| before.ends_with(".extension"));
        if id.contains(':') && !extension_slice {
            // Slices: the Bundle's entries by profile (below); the serviceType slices are the kit port's.
            if kind == "Bundle" {
                check_entry_slice(element, definition, bundle, problems);
            }
            continue;
        }
        let path: Vec<&str> = element["path"]
            .as_str()
            .unwrap()
            .split('.')
            .skip(1)
            .collect();
        if path.is_empty() {
            continue;
        }
        let (last, parent) = path.split_last().unwrap();
        let parents = values_at(resource, parent);
        for p in &parents {
            let count = children(p, last).len();
            if let Some(min) = element["min"].as_u64() {
                if (count as u64) < min {
                    problems.push(format!("{label} {id} : {count} valeur(s), au moins {min}"));
                }
            }
            if let Some(max) = element["max"].as_str().filter(|m| *m != "*") {
                if count as u64 > max.parse::<u64>().unwrap() {
                    problems.push(format!("{label} {id} : {count} valeur(s), au plus {max}"));
                }
            }
        }
        let values = values_at(resource, &path);
        for (key, pattern) in element.as_object().unwrap() {
            if key.starts_with("pattern") || key.starts_with("fixed") {
                for value in &values {
                    if !contains(value, pattern) {
                        problems.push(format!(
                            "{label} {id} : {value} ne suit pas {key} {pattern}"
                        ));
                    }
                }
            }
        }
        if element["binding"]["strength"] == "required" {
            if let Some(codes) = element["binding"]["valueSet"]
                .as_str()
                .and_then(|vs| package.value_sets.get(vs))
            {
                for value in &values {
                    let codings: Vec<&Value> = if value.get("coding").is_some() {
                        children(value, "coding")
                    } else {
                        vec![*value]
                    };
                    let known = codings.iter().any(|c| {
                        codes.iter().any(|(system, code)| match c {
                            // An element of type `code`: its value alone.
                            Value::String(text) => text == code,
                            c => c["system"] == system.as_str() && c["code"] == code.as_str(),
                        })
                    });
                    if !known {
                        problems.push(format!(
                            "{label} {id} : {value} hors du jeu de valeurs requis"
                        ));
                    }
                }
            }
        }
        for constraint in element["constraint"].as_array().into_iter().flatten() {
            let expression = constraint["expression"].as_str().unwrap_or_default();
            if let Some(pattern) = expression
                .strip_prefix("value.matches('")
                .and_then(|rest| rest.strip_suffix("')"))
            {
                let re = regex::Regex::new(pattern).unwrap();
                for value in &values {
                    let text = value["value"].as_str().unwrap_or_default();
                    if !re.is_match(text) {
                        problems.push(format!("{label} {id} : {text} viole {}", constraint["key"]));
                    }
                }
            } else {
                problems.push(format!("{label} {id} : invariant non évalué {expression}"));
            }
        }
        // References to resources of the Bundle claim the profile the element targets.
        for target in element["type"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["code"] == "Reference")
            .flat_map(|t| t["targetProfile"].as_array().into_iter().flatten())
        {
            let target = target.as_str().unwrap();
            if !package.profiles.contains_key(target) {
                continue;
            }
            for value in &values {
                let reference = value["reference"]
                    .as_str()
                    .or_else(|| value["valueReference"]["reference"].as_str());
                let Some(reference) = reference else { continue };
                let referenced = if let Some(local) = reference.strip_prefix('#') {
                    resource["contained"]
                        .as_array()
                        .and_then(|c| c.iter().find(|r| r["id"] == local))
                } else {
                    bundle["entry"].as_array().and_then(|entries| {
                        entries.iter().map(|e| &e["resource"]).find(|r| {
                            format!(
                                "{}/{}",
                                r["resourceType"].as_str().unwrap_or(""),
                                r["id"].as_str().unwrap_or("")
                            ) == reference
                        })
                    })
                };
                match referenced {
                    Some(r) if claims(r, target) => {}
                    Some(_) => problems.push(format!(
                        "{label} {id} : {reference} ne déclare pas {target}"
                    )),
                    None if kind == "Bundle" => {}
                    None => problems.push(format!("{label} {id} : {reference} absent du Bundle")),
                }
            }
        }
    }
}

/// A slice of `Bundle.entry` by the profile of its resource: how many entries claim it, and their fullUrl.
fn check_entry_slice(
    element: &Value,
    definition: &Value,
    bundle: &Value,
    problems: &mut Vec<String>,
) {
    let id = element["id"].as_str().unwrap();
    let Some(slice) = id
        .strip_prefix("Bundle.entry:")
        .filter(|s| !s.contains('.'))
    else {
        return;
    };
    let resource_element = definition["differential"]["element"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == format!("Bundle.entry:{slice}.resource"));
    let Some(profile) = resource_element.and_then(|e| e["type"][0]["profile"][0].as_str()) else {
        return;
    };
    let entries: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| claims(&e["resource"], profile))
        .collect();
    if let Some(min) = element["min"].as_u64() {
        if (entries.len() as u64) < min {
            problems.push(format!(
                "Bundle {id} : {} entrée(s) {profile}, au moins {min}",
                entries.len()
            ));
        }
    }
    for entry in entries {
        if !entry["fullUrl"].is_string() {
            problems.push(format!("Bundle {id} : entrée sans fullUrl"));
        }
    }
}

/// Validates a Bundle and each resource (and contained resource) by the profiles they claim; every resource
/// must claim one of the package.
fn validate_bundle(package: &Package, bundle: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    validate(
        package,
        bundle,
        bundle["meta"]["profile"][0].as_str().unwrap_or_default(),
        bundle,
        &mut problems,
    );
    for entry in bundle["entry"].as_array().unwrap() {
        let resource = &entry["resource"];
        let mut all = vec![resource];
        all.extend(resource["contained"].as_array().into_iter().flatten());
        for r in all {
            let claimed: Vec<&str> = r["meta"]["profile"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                .filter(|p| package.profiles.contains_key(*p))
                .collect();
            if claimed.is_empty() {
                problems.push(format!(
                    "{} : aucun profil du guide déclaré",
                    r["resourceType"]
                ));
            }
            for profile in claimed {
                validate(package, r, profile, bundle, &mut problems);
            }
        }
    }
    problems
}

fn example() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sas-package/Bundle-ExampleBundleCPTS1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_validator_passes_the_guides_example_and_fails_it_broken() {
    let package = package();
    let problems = validate_bundle(&package, &example());
    assert!(problems.is_empty(), "{problems:#?}");
    let mut broken = example();
    let entries = broken["entry"].as_array_mut().unwrap();
    for entry in entries.iter_mut() {
        let resource = &mut entry["resource"];
        match resource["resourceType"].as_str().unwrap() {
            "PractitionerRole" => {
                resource["contained"][0]["address"]
                    .as_object_mut()
                    .unwrap()
                    .remove("postalCode");
            }
            "Organization" => {
                resource["identifier"][0]["type"]["coding"][0]["system"] =
                    "http://interopsante.org/fhir/CodeSystem/fr-v2-0203".into();
                resource["identifier"][0]["value"] = "1234".into();
            }
            "Slot" => resource["meta"]["security"][0]["code"] = "AUTRE".into(),
            _ => {}
        }
    }
    broken["link"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({ "relation": "next", "url": "x" }));
    let problems = validate_bundle(&package, &broken).join("\n");
    for expected in [
        "Location.address.postalCode : 0 valeur(s), au moins 1",
        "Organization.identifier.type : ",
        "viole \"FINESS-invariant\"",
        "Slot.meta.security : ",
        "Bundle.link : 2 valeur(s), au plus 1",
    ] {
        assert!(
            problems.contains(expected),
            "{expected} missing in:\n{problems}"
        );
    }
}

#[tokio::test]
async fn every_answer_of_the_sas_search_validates_against_the_guides_profiles() {
    let package = package();
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let token = maillage_app::tokens::issue(
            app.store.as_ref(),
            &maillage_app::caller::Caller::command_line(cpts.id),
            "SAS",
            maillage_app::tokens::FHIR_SCOPE,
            None,
        )
        .await
        .unwrap();
        let all = sas_search(&app, DEMO_CPTS_SLUG).await;
        let one = all.split(',').next().unwrap().to_string();
        for search in [all, one] {
            let answer = bearer_get(&app, &search, Some(&token)).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            let bundle: Value = serde_json::from_str(&answer.body).unwrap();
            assert!(bundle["total"].as_u64().unwrap() > 0);
            let problems = validate_bundle(&package, &bundle);
            assert!(problems.is_empty(), "{problems:#?}");
        }
    }
}

/// A professional practising at two places has one agenda at each: the slots published at the second place
/// reference its Schedule, whose PractitionerRole's Location is that place; each agenda reads on its own, and
/// the answer still validates.
#[tokio::test]
async fn a_professional_at_two_places_has_one_schedule_per_place() {
    let package = package();
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let caller = maillage_app::caller::Caller::command_line(cpts.id);
        let token = maillage_app::tokens::issue(
            app.store.as_ref(),
            &caller,
            "SAS",
            maillage_app::tokens::FHIR_SCOPE,
            None,
        )
        .await
        .unwrap();
        let professional = free_slots(&app, cpts.id, 1).await[0].professional_id;
        let record = app
            .store
            .professional(cpts.id, professional)
            .await
            .unwrap()
            .unwrap();
        let summary = &record.summary;
        let second = maillage_store::PracticePlace {
            name: "Maison de santé du Cailar".into(),
            siret: String::new(),
            finess: String::new(),
            address: "4 rue des Arènes".into(),
            postal_code: "30740".into(),
            commune_code: "30060".into(),
            phone: "04 66 00 00 42".into(),
            email: String::new(),
        };
        let mut places = record.places.clone();
        places.truncate(1);
        places.push(second.clone());
        app.store
            .upsert_professionals(
                cpts.id,
                &[reimported(summary, record.national_id.clone(), places)],
                None,
                0,
            )
            .await
            .unwrap();
        let tomorrow = maillage_domain::unscheduled_care::paris_to_utc(
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms())
                .0
                .plus_days(1),
            21 * 60,
        );
        assert!(app
            .state
            .missions
            .unscheduled_care
            .publish_slot(
                &caller,
                professional,
                tomorrow,
                20,
                maillage_domain::unscheduled_care::SlotKind::Sas,
                maillage_domain::unscheduled_care::Modality::Office,
                "maison de santé du Cailar",
            )
            .await
            .unwrap());
        let search = format!(
            "{FHIR_SEARCH}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C{}",
            summary.national_id()
        );
        let answer = bearer_get(&app, &search, Some(&token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let bundle: Value = serde_json::from_str(&answer.body).unwrap();
        let problems = validate_bundle(&package, &bundle);
        assert!(problems.is_empty(), "{problems:#?}");
        let resources: Vec<&Value> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        let first_agenda = format!("sched-{professional}");
        let second_agenda = format!("sched-{professional}-1");
        let schedules: Vec<&str> = resources
            .iter()
            .filter(|r| r["resourceType"] == "Schedule")
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(schedules, [first_agenda.as_str(), second_agenda.as_str()]);
        let at_second: Vec<&&Value> = resources
            .iter()
            .filter(|r| {
                r["resourceType"] == "Slot"
                    && r["schedule"]["reference"] == format!("Schedule/{second_agenda}").as_str()
            })
            .collect();
        assert_eq!(at_second.len(), 1, "the slot published at the second place");
        assert_eq!(
            at_second[0]["start"],
            maillage_domain::calendar::fhir_instant(tomorrow)
        );
        let role = resources
            .iter()
            .find(|r| r["id"] == format!("role-{professional}-1").as_str())
            .expect("the second place's PractitionerRole");
        let location = &role["contained"][0];
        assert_eq!(location["name"], "Maison de santé du Cailar");
        assert_eq!(location["address"]["postalCode"], "30740");
        assert_eq!(location["address"]["line"][0], "4 rue des Arènes");
        assert_eq!(
            location["identifier"][0]["value"],
            format!("{professional}-1")
        );
        assert_eq!(role["telecom"][0]["value"], "+33466000042");
        // Each agenda reads on its own; a place the professional does not have is no agenda.
        let read = bearer_get(
            &app,
            &format!("/fhir/Schedule/{second_agenda}"),
            Some(&token),
        )
        .await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        let schedule: Value = serde_json::from_str(&read.body).unwrap();
        assert_eq!(
            schedule["actor"][1]["reference"],
            format!("PractitionerRole/role-{professional}-1").as_str()
        );
        for missing in [
            format!("sched-{professional}-7"),
            format!("sched-{professional}-x"),
        ] {
            let answer = bearer_get(&app, &format!("/fhir/Schedule/{missing}"), Some(&token)).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
        }
        let slot_id = at_second[0]["id"].as_str().unwrap();
        let slot: Value = serde_json::from_str(
            &bearer_get(&app, &format!("/fhir/Slot/{slot_id}"), Some(&token))
                .await
                .body,
        )
        .unwrap();
        assert_eq!(
            slot["schedule"]["reference"],
            format!("Schedule/{second_agenda}").as_str()
        );
    }
}

//! Property tests standing in for a fuzzer: the matching's JSON, the request form and the patients' lists
//! never panic on arbitrary input, and what they refuse they explain in French.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use maillage_app::doctor_search::{parse_request_list, RequestFields};
use maillage_app::matching::solve_json;
use proptest::prelude::*;

fn place() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]{0,4}",
        prop_oneof![
            Just("\"commune\": \"30003\"".to_string()),
            Just("\"commune\": \"3000\"".to_string()),
            (-100.0..100.0f64, -200.0..200.0f64)
                .prop_map(|(a, b)| format!("\"lat\": {a}, \"lon\": {b}")),
            Just(String::new()),
        ],
        prop_oneof![
            (0u32..20).prop_map(|w| format!("\"weight\": {w}")),
            Just("\"criteria\": [\"ald\", \"css\"], \"age\": 80".to_string()),
            (0i64..10).prop_map(|c| format!("\"capacity\": {c}")),
            Just(String::new()),
        ],
    )
        .prop_map(|(id, at, what)| {
            let parts: Vec<String> = [format!("\"id\": \"{id}\""), at, what]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect();
            format!("{{{}}}", parts.join(", "))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_the_matching(input in any::<String>()) {
        prop_assert!(solve_json(&input).is_err());
    }

    #[test]
    fn near_valid_problems_are_solved_or_explained(
        km in -5.0..80.0f64,
        requests in proptest::collection::vec(place(), 0..6),
        doctors in proptest::collection::vec(place(), 0..4),
    ) {
        let input = format!(
            "{{\"max_distance_km\": {km}, \"requests\": [{}], \"doctors\": [{}]}}",
            requests.join(", "),
            doctors.join(", ")
        );
        match solve_json(&input) {
            Ok(solution) => {
                prop_assert!(solution.assignments.len() + solution.unassigned.len() == requests.len());
                for a in &solution.assignments {
                    prop_assert!(a.distance_km <= km + 0.001);
                }
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    #[test]
    fn arbitrary_forms_and_lists_never_panic(
        a in any::<String>(), b in any::<String>(), c in any::<String>(), d in any::<String>(),
        criteria in proptest::collection::vec(any::<String>(), 0..3),
    ) {
        let fields = RequestFields {
            family_name: a.clone(),
            given_names: b.clone(),
            birth_date: c.clone(),
            commune: d.clone(),
            phone: b.clone(),
            email: a.clone(),
            criteria,
            consent: Some(c.clone()),
            ..Default::default()
        };
        if let Err(problems) = fields.parse("2026-12-01") {
            prop_assert!(problems.iter().all(|p| !p.message.is_empty()));
        }
        let list = format!("nom;prenom;date_naissance;commune;consentement\n{a};{b};{c};{d};oui\n{d}");
        if let Ok(rows) = parse_request_list(&list) {
            for (_, row) in rows {
                let _ = row.parse("2026-12-01");
            }
        }
        let _ = parse_request_list(&a);
    }
}

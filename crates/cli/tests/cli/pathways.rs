//! `maillage pathway` and `maillage instrument`, as an auditor runs them: windows around month ends and
//! daylight-saving changes, hand-computed scores, a template exported, edited and checked.

use super::*;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(args)
        .env_remove("MAILLAGE_CONFIG")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run maillage")
}

fn json_of(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn schedules_give_the_windows_of_heart_failure_discharges() {
    let listed = text(&run(&["pathway", "templates"]).stdout);
    assert!(listed.contains("insuffisance-cardiaque\tv1\t"), "{listed}");
    for (event, nurse, cardiologist) in [
        ("2027-01-31", "2027-02-08", "2027-03-31"),
        ("31/12/2027", "2028-01-08", "2028-02-29"),
        // Summer time begins on 28 March 2027, ends on 31 October 2027: calendar days all the same.
        ("2027-03-24", "2027-04-01", "2027-05-24"),
        ("2027-10-27", "2027-11-04", "2027-12-27"),
    ] {
        let body = json_of(&run(&[
            "pathway",
            "schedule",
            "--template",
            "insuffisance-cardiaque",
            "--event",
            event,
            "--json",
        ]));
        let steps = body["steps"].as_array().unwrap();
        let latest = |code: &str| {
            steps.iter().find(|s| s["code"] == code).unwrap()["latest"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(latest("infirmier-j8"), nurse, "{event}");
        assert_eq!(latest("cardiologue-2-mois"), cardiologist, "{event}");
        assert_eq!(
            steps.iter().find(|s| s["code"] == "biologie-bnp").unwrap()["owner"],
            "laboratoire"
        );
    }
    // Without the discharge date, or with an impossible one: refused, the field named.
    for args in [
        vec![
            "pathway",
            "schedule",
            "--template",
            "insuffisance-cardiaque",
        ],
        vec![
            "pathway",
            "schedule",
            "--template",
            "insuffisance-cardiaque",
            "--event",
            "2027-02-30",
        ],
    ] {
        let output = run(&args);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            text(&output.stderr).starts_with("Date de l'événement : "),
            "{}",
            text(&output.stderr)
        );
    }
    let output = run(&[
        "pathway",
        "schedule",
        "--template",
        "inconnu",
        "--event",
        "2027-01-01",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("insuffisance-cardiaque"));
}

#[test]
fn scores_match_hand_computed_answer_sets() {
    let score = |instrument: &str, answers: &str| {
        json_of(&run(&[
            "instrument",
            "score",
            "--instrument",
            instrument,
            "--answers",
            answers,
            "--json",
        ]))
    };
    let zarit = score("zarit-22", "2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3,2,3");
    assert_eq!(
        (zarit["score"].as_f64(), zarit["band"]["label"].as_str()),
        (Some(55.0), Some("fardeau modéré"))
    );
    let prorated = score("zarit-22", "3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,,-");
    assert_eq!(prorated["score"].as_f64(), Some(66.0));
    assert_eq!(prorated["missing"], serde_json::json!(["21", "22"]));
    assert!(score("zarit-22", "3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,,,")["score"].is_null());
    assert_eq!(
        score("zarit-12", "2,2,2,2,2,2,2,2,2,2,2,1")["score"].as_f64(),
        Some(23.0)
    );
    assert_eq!(
        score("zarit-4", "2,2,2,2")["positive"],
        serde_json::json!(["fardeau"])
    );
    assert_eq!(
        score("mini-zarit", "1,0.5,1/2,0,1,0,0")["score"].as_f64(),
        Some(3.0)
    );
    let icope = score("icope-1", "2,1,x,0,1,0,0,,");
    assert_eq!(
        icope["positive"],
        serde_json::json!(["cognition", "mobilite", "nutrition"])
    );
    assert_eq!(icope["maximum"].as_f64(), Some(5.0), "mood not assessed");
    assert_eq!(
        score("gfst", "1,1,?,0,1,?,1,1")["positive"],
        serde_json::json!(["fragilite"])
    );
    assert_eq!(score("nyha", "3")["band"]["rank"], 2);
    // In text, and refused answers.
    let shown = text(
        &run(&[
            "instrument",
            "score",
            "--instrument",
            "mini-zarit",
            "--answers",
            "1,0.5,1/2,0,1,0,0",
        ])
        .stdout,
    );
    assert!(
        shown.contains("score : 3 / 7") && shown.contains("fardeau léger à modéré"),
        "{shown}"
    );
    let wrong = run(&[
        "instrument",
        "score",
        "--instrument",
        "zarit-22",
        "--answers",
        "5",
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        text(&wrong.stderr).starts_with("Réponses : 22 réponses attendues"),
        "{}",
        text(&wrong.stderr)
    );
    let listed = text(&run(&["instrument", "list"]).stdout);
    assert!(listed.contains("zarit-22\t") && listed.contains("libellés sous licence"));
}

#[test]
fn a_template_exports_as_json_and_an_edited_file_is_checked_like_an_import() {
    let exported = run(&["pathway", "export", "--template", "personne-agee-fragile"]);
    assert!(exported.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("parcours.json");
    std::fs::write(&file, &exported.stdout).unwrap();
    let checked = run(&["pathway", "check", file.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(text(&checked.stdout).contains("Personne âgée fragile (v1) : 7 étapes, valide"));
    // The file plans like the built-in template.
    let body = json_of(&run(&[
        "pathway",
        "schedule",
        "--template",
        file.to_str().unwrap(),
        "--inclusion",
        "2027-05-10",
        "--json",
    ]));
    assert_eq!(body["steps"][0]["code"], "icope-etape-1");
    assert_eq!(body["steps"][0]["latest"], "2027-06-09");
    // Edited into a loop, or broken JSON: refused, naming the field.
    let mut template: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    template["steps"][2]["from"] = serde_json::json!({ "depuis": "step", "etape": "gfst" });
    std::fs::write(&file, template.to_string()).unwrap();
    let looped = run(&["pathway", "check", file.to_str().unwrap()]);
    assert_eq!(looped.status.code(), Some(2));
    assert!(
        text(&looped.stderr).contains("Étapes : l'étape « gfst » dépend d'elle-même"),
        "{}",
        text(&looped.stderr)
    );
    std::fs::write(&file, "{\"code\": ").unwrap();
    let broken = run(&["pathway", "check", file.to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(text(&broken.stderr).starts_with("Fichier : "));
}

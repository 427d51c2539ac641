//! On both engines: the diagnostic's figures against a hand computation over the same synthetic extract, the
//! FINESS import, the member template, and imports run in the background with their progress.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use maillage_app::diagnostic::{compute, NATIONAL_MINIMUM};
use maillage_app::directory::finess::import_finess;
use maillage_app::directory::members::{facts_text, import_members};
use maillage_app::directory::synthetic::{write_extract, ExtractSpec};
use maillage_app::directory::{import_extract, ImportReport};
use maillage_app::imports::{start, ImportKind};
use maillage_domain::identifiers::with_luhn_key;
use maillage_domain::professional::{member_template_header, ProfessionalFacts};
use maillage_domain::structures::finess_line;
use maillage_store::testing::{for_each_backend, make_cpts};
use maillage_store::{DirectoryQuery, Page, StructureQuery, GENERAL_PRACTICE};
use std::collections::{HashMap, HashSet};

/// Territory: Vauvert and Milhaud get rows; Aubord gets none (a commune without any professional).
const LOCAL: [(&str, &str); 2] = [("30341", "30600"), ("30169", "30540")];
const TERRITORY: [&str; 3] = ["30341", "30169", "30020"];
/// Elsewhere, each with a postal code of its own: two in the Gard (30), three in other départements.
const ELSEWHERE: [(&str, &str); 5] = [
    ("30189", "30000"),
    ("30258", "30800"),
    ("34145", "34400"),
    ("34172", "34000"),
    ("13055", "13001"),
];

fn population(code: &str) -> u64 {
    maillage_domain::territory::find(&maillage_domain::identifiers::InseeCode::parse(code).unwrap())
        .unwrap()
        .population
}

fn departement(code: &str) -> &str {
    &code[..2]
}

/// Counts by hand, straight from the file's columns: distinct people per (area, category).
fn hand_counts(file: &[u8]) -> HashMap<(String, String), HashSet<String>> {
    let by_postal: HashMap<&str, &str> = LOCAL
        .iter()
        .chain(ELSEWHERE.iter())
        .map(|(code, postal)| (*postal, *code))
        .collect();
    let mut counts: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for line in String::from_utf8(file.to_vec()).unwrap().lines().skip(1) {
        let cells: Vec<&str> = line.split('|').collect();
        let person = cells[2].to_string();
        let commune = if cells[36].is_empty() {
            by_postal[cells[34].split(' ').next().unwrap()]
        } else {
            cells[36]
        };
        let mut categories = vec![cells[9].to_string()];
        if cells[15] == "SM54" {
            categories.push(GENERAL_PRACTICE.to_string());
        }
        let territory = if TERRITORY.contains(&commune) {
            "territoire"
        } else {
            ""
        };
        for category in categories {
            for area in ["FR", departement(commune), territory, commune] {
                if !area.is_empty() {
                    counts
                        .entry((area.to_string(), category.clone()))
                        .or_default()
                        .insert(person.clone());
                }
            }
        }
    }
    counts
}

#[tokio::test]
async fn the_diagnostic_matches_a_hand_computation() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        let codes: Vec<String> = TERRITORY.iter().map(|c| c.to_string()).collect();
        store.add_to_territory(cpts.id, &codes, 0).await.unwrap();
        let mut file = Vec::new();
        let people = write_extract(
            &mut file,
            &ExtractSpec {
                rows: 110_000,
                seed: 3,
                communes: &LOCAL,
                elsewhere: &ELSEWHERE,
                local_percent: 1,
                latin1: false,
            },
        )
        .unwrap();
        assert!(people as i64 > NATIONAL_MINIMUM, "a national-sized file");
        import_extract(store.as_ref(), cpts.id, file.as_slice(), |_| {}, 1)
            .await
            .unwrap();
        let hand = hand_counts(&file);
        let count = |area: &str, category: &str| {
            hand.get(&(area.to_string(), category.to_string()))
                .map_or(0, |people| people.len() as i64)
        };

        // Members: every third general practitioner, with birth years around 60 for the retirement watch.
        let gps = store
            .search_professionals(
                cpts.id,
                &DirectoryQuery {
                    profession_code: Some(GENERAL_PRACTICE.into()),
                    ..DirectoryQuery::default()
                },
                Page::new(1, 500),
            )
            .await
            .unwrap();
        assert_eq!(gps.len() as i64, count("territoire", GENERAL_PRACTICE));
        assert!(
            gps.len() > 10,
            "enough general practitioners to mean something"
        );
        let (mut members, mut known, mut old) = (0, 0, 0);
        for (index, gp) in gps.iter().enumerate() {
            let facts = ProfessionalFacts {
                member: index % 3 == 0,
                birth_year: (index % 2 == 0).then_some(1950 + (index as i64 % 30)),
                ..ProfessionalFacts::default()
            };
            members += i64::from(facts.member);
            if let Some(year) = facts.birth_year {
                known += 1;
                old += i64::from(year <= 2026 - 60);
            }
            store
                .update_professional_facts(
                    cpts.id,
                    gp.id,
                    &facts,
                    None,
                    &facts_text(&facts, ""),
                    2,
                    &maillage_store::testing::audit_entry(),
                )
                .await
                .unwrap();
        }

        let d = compute(store.as_ref(), cpts.id, 2026).await.unwrap();
        let territory_population: u64 = TERRITORY.iter().map(|c| population(c)).sum();
        assert_eq!(d.population, territory_population);
        assert!(d.has_reference);
        let (departement_code, departement_population) = d.departement.clone().unwrap();
        assert_eq!(departement_code, "30");
        let france: u64 = maillage_domain::territory::communes()
            .iter()
            .map(|c| c.population)
            .sum();
        assert!(
            d.categories.len() >= 9,
            "every profession of the file: {:?}",
            d.categories
        );
        for line in &d.categories {
            let on_territory = count("territoire", &line.category);
            assert_eq!(line.professionals, on_territory, "{}", line.category);
            let expected = on_territory as f64 * 10_000.0 / territory_population as f64;
            assert!(
                (line.density.unwrap() - expected).abs() < 1e-9,
                "{}",
                line.category
            );
            let in_departement = count("30", &line.category);
            assert_eq!(line.departement_professionals, Some(in_departement));
            let expected = in_departement as f64 * 10_000.0 / departement_population as f64;
            assert!((line.departement_density.unwrap() - expected).abs() < 1e-9);
            let in_france = count("FR", &line.category);
            assert_eq!(line.france_professionals, Some(in_france));
            let expected = in_france as f64 * 10_000.0 / france as f64;
            assert!((line.france_density.unwrap() - expected).abs() < 1e-9);
        }
        let gp_line = d
            .categories
            .iter()
            .find(|c| c.category == GENERAL_PRACTICE)
            .unwrap();
        assert_eq!(gp_line.members, members);
        assert!(
            (gp_line.representativeness.unwrap() - members as f64 * 100.0 / gps.len() as f64).abs()
                < 1e-9
        );
        assert_eq!((d.gps_with_birth_year, d.gps_aged_60_plus), (known, old));
        let without: Vec<&str> = d
            .communes_without_gp()
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(without, vec!["30020"]);
        for commune in &d.communes {
            assert_eq!(
                commune.count("60"),
                count(&commune.code, "60"),
                "{}",
                commune.code
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_sample_extract_gives_no_national_comparison() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        let codes: Vec<String> = TERRITORY.iter().map(|c| c.to_string()).collect();
        store.add_to_territory(cpts.id, &codes, 0).await.unwrap();
        let mut file = Vec::new();
        write_extract(
            &mut file,
            &ExtractSpec {
                rows: 400,
                seed: 5,
                communes: &LOCAL,
                elsewhere: &ELSEWHERE,
                local_percent: 50,
                latin1: false,
            },
        )
        .unwrap();
        import_extract(store.as_ref(), cpts.id, file.as_slice(), |_| {}, 1)
            .await
            .unwrap();
        let d = compute(store.as_ref(), cpts.id, 2026).await.unwrap();
        assert!(!d.has_reference);
        assert!(d.reference_professionals > 0);
        assert!(d
            .categories
            .iter()
            .all(|c| c.france_density.is_none() && c.density.is_some()));
    })
    .await;
}

fn finess_file(lines: &[String]) -> Vec<u8> {
    let mut file = String::from("finess;etalab;95;2026-11-01\n");
    for line in lines {
        file.push_str(line);
        file.push('\n');
    }
    file.into_bytes()
}

#[tokio::test]
async fn finess_establishments_of_the_territory_become_structures_once() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        store
            .add_to_territory(cpts.id, &["30341".into(), "30169".into()], 0)
            .await
            .unwrap();
        let ehpad = with_luhn_key("30000001");
        let pharmacy = with_luhn_key("30000002");
        let mut bad = with_luhn_key("30000003");
        bad.replace_range(8.., if bad.ends_with('9') { "0" } else { "9" });
        let lines = vec![
            finess_line(
                &ehpad,
                "EHPAD LES SALICORNES",
                "DES SALINS",
                "30169",
                "30540 MILHAUD",
                "0466000001",
                ("500", "EHPAD"),
                "",
            ),
            finess_line(
                &pharmacy,
                "PHARMACIE DU PORT",
                "DU PORT",
                "30341",
                "30600 VAUVERT",
                "",
                ("620", "Pharmacie d'Officine"),
                "",
            ),
            finess_line(
                &with_luhn_key("34000001"),
                "CLINIQUE AILLEURS",
                "X",
                "34172",
                "34000 MONTPELLIER",
                "",
                ("365", "Clinique"),
                "",
            ),
            finess_line(
                &bad,
                "FAUX",
                "X",
                "30341",
                "30600 VAUVERT",
                "",
                ("124", "Centre de santé"),
                "",
            ),
            "geolocalisation;300000011;1;2;IGN;2026-01-01".to_string(),
        ];
        let report = import_finess(
            store.as_ref(),
            cpts.id,
            finess_file(&lines).as_slice(),
            |_| {},
            1,
        )
        .await
        .unwrap();
        assert_eq!(
            (
                report.created,
                report.rows_on_territory,
                report.rows_elsewhere
            ),
            (2, 2, 1)
        );
        assert_eq!(report.rejected_total, 1);
        assert_eq!(report.rejected[0].field, "nofinesset");
        assert_eq!(report.rejected[0].line, 5);
        let structures = store
            .search_structures(cpts.id, &StructureQuery::default(), Page::new(1, 10))
            .await
            .unwrap();
        let home = structures.iter().find(|s| s.finess == ehpad).unwrap();
        assert_eq!(home.kind, "ehpad");
        assert_eq!(home.commune_code, "30169");

        // The CPTS records its partnership; a new extraction updates the name and keeps it.
        let mut facts = home.facts();
        facts.partner_status = "partner".into();
        facts.services = "unite_alzheimer;accueil_de_jour".into();
        assert!(store
            .update_structure_facts(
                cpts.id,
                home.id,
                &facts,
                2,
                &maillage_store::testing::audit_entry()
            )
            .await
            .unwrap());
        let again = import_finess(
            store.as_ref(),
            cpts.id,
            finess_file(&lines).as_slice(),
            |_| {},
            3,
        )
        .await
        .unwrap();
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
        let mut renamed = lines.clone();
        renamed[0] =
            renamed[0].replace("EHPAD LES SALICORNES", "EHPAD LES SALICORNES ET LES DUNES");
        let updated = import_finess(
            store.as_ref(),
            cpts.id,
            finess_file(&renamed).as_slice(),
            |_| {},
            4,
        )
        .await
        .unwrap();
        assert_eq!(
            (updated.created, updated.updated, updated.unchanged),
            (0, 1, 1)
        );
        let home = store.structure(cpts.id, home.id).await.unwrap().unwrap();
        assert_eq!(home.name, "EHPAD LES SALICORNES ET LES DUNES");
        assert_eq!(home.partner_status, "partner");
        assert_eq!(home.services, "unite_alzheimer;accueil_de_jour");
        let found = store
            .search_structures(
                cpts.id,
                &StructureQuery {
                    words: vec!["dunes".into()],
                    ..StructureQuery::default()
                },
                Page::new(1, 10),
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1);

        // Not a FINESS file: refused, nothing changes.
        let wrong = import_finess(
            store.as_ref(),
            cpts.id,
            b"nom;prenom\nx;y\n".as_slice(),
            |_| {},
            5,
        )
        .await;
        assert!(wrong.unwrap_err().to_string().contains("finess"));
        assert_eq!(store.count_structures(cpts.id).await.unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn the_member_template_updates_facts_and_creates_the_missing() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        store.add_to_territory(cpts.id, &["30341".into(), "30169".into()], 0).await.unwrap();
        let mut extract = Vec::new();
        write_extract(
            &mut extract,
            &ExtractSpec { rows: 200, seed: 9, communes: &LOCAL, elsewhere: &[], local_percent: 100, latin1: false },
        )
        .unwrap();
        import_extract(store.as_ref(), cpts.id, extract.as_slice(), |_| {}, 1).await.unwrap();
        let before = store.count_professionals(cpts.id).await.unwrap();
        let known = store
            .search_professionals(cpts.id, &DirectoryQuery::default(), Page::new(1, 1))
            .await
            .unwrap()
            .remove(0);
        let new_rpps = with_luhn_key("1999999999");
        let mut wrong_rpps = new_rpps.clone();
        wrong_rpps.replace_range(10.., if new_rpps.ends_with('9') { "0" } else { "9" });
        let header = member_template_header();
        let line = |rpps: &str, name: &str, profession: &str, extra: &str| {
            // Columns: RPPS;Civilité;Nom;Prénom;Code profession;Spécialité;Code commune;… (see MEMBER_COLUMNS)
            format!("{rpps};;{name};Camille;{profession};;30341;;04 66 11 22 33;;;libéral;oui;oui;8;oui;non;non;non;non;{extra};;1960;publique")
        };
        let file = format!(
            "\u{feff}{header}\r\n{}\r\n{}\r\n{}\r\n;;;;;;;;\r\n",
            line(&known.identifier, &known.last_name, &known.profession_code, "Vaccination"),
            line(&new_rpps, "NOUVELLET", "60", "Gestion de crise"),
            line(&wrong_rpps, "FAUX", "60", ""),
        );
        let report = import_members(store.as_ref(), cpts.id, file.as_bytes(), |_| {}, 2026, 2).await.unwrap();
        assert_eq!((report.created, report.updated, report.rejected_total), (1, 1, 1), "{report:?}");
        assert_eq!(report.rejected[0].field, "RPPS ou ADELI");
        assert_eq!(report.rejected[0].line, 4);
        assert_eq!(store.count_professionals(cpts.id).await.unwrap(), before + 1);

        let record = store.professional(cpts.id, known.id).await.unwrap().unwrap();
        let facts = record.facts();
        assert!(facts.member && facts.accepts_new_patients && facts.snp_volunteer);
        assert_eq!(facts.new_patient_capacity, Some(8));
        assert_eq!(facts.birth_year, Some(1960));
        assert_eq!(facts.contact_phone, "0466112233");
        assert_eq!(record.summary.visibility, "public");
        // The facts are searchable, and a new national import leaves them alone.
        let skilled = store
            .search_professionals(cpts.id, &DirectoryQuery { words: vec!["vaccination".into()], ..DirectoryQuery::default() }, Page::new(1, 10))
            .await
            .unwrap();
        assert_eq!(skilled.iter().map(|p| p.id).collect::<Vec<_>>(), vec![known.id]);
        let again: ImportReport = import_extract(store.as_ref(), cpts.id, extract.as_slice(), |_| {}, 3).await.unwrap();
        assert_eq!(again.created, 0);
        assert!(store.professional(cpts.id, known.id).await.unwrap().unwrap().facts().member);
        let created = store
            .search_professionals(cpts.id, &DirectoryQuery { words: vec!["nouvellet".into()], ..DirectoryQuery::default() }, Page::new(1, 10))
            .await
            .unwrap();
        assert_eq!(created.len(), 1);
        let created = store.professional(cpts.id, created[0].id).await.unwrap().unwrap();
        assert!(!created.from_national_directory);
        assert_eq!(created.places[0].commune_code, "30341");

        // A file without the required columns changes nothing.
        let refused = import_members(store.as_ref(), cpts.id, b"Nom;Prenom\nX;Y\n".as_slice(), |_| {}, 2026, 4).await;
        assert!(refused.unwrap_err().to_string().contains("RPPS ou ADELI"));
        assert_eq!(store.count_professionals(cpts.id).await.unwrap(), before + 1);
    })
    .await;
}

#[tokio::test]
async fn a_spreadsheet_saved_by_excel_is_read_with_its_quoted_line_breaks_and_accents() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        store.add_to_territory(cpts.id, &["30341".into()], 0).await.unwrap();
        let rpps = with_luhn_key("1888888888");
        let mut wrong = rpps.clone();
        wrong.replace_range(10.., if rpps.ends_with('9') { "0" } else { "9" });
        let header = member_template_header();
        // Windows-1252 as Excel writes it on a French Windows: Œ is 0x8C, é is 0xE9, ’ is 0x92. The address
        // is a quoted field over two lines; the line after it is line 4 of the file, and its error says so.
        let mut file = format!("{header}\r\n").into_bytes();
        file.extend_from_slice(rpps.as_bytes());
        file.extend_from_slice(b";;C\x8cUR;Ren\xe9e;60;;30341;\"2 rue de l\x92\xc9glise\r\nB\xe2timent B\";;;;lib\xe9ral;oui\r\n");
        file.extend_from_slice(format!("{wrong};;FAUX;Camille;60;;30341\r\n").as_bytes());
        let report = import_members(store.as_ref(), cpts.id, file.as_slice(), |_| {}, 2026, 2).await.unwrap();
        assert_eq!((report.created, report.rejected_total), (1, 1), "{report:?}");
        assert_eq!(report.rejected[0].line, 4, "{report:?}");
        assert_eq!(report.lines, 4);
        let found = store
            .search_professionals(cpts.id, &DirectoryQuery { words: vec!["coeur".into()], ..DirectoryQuery::default() }, Page::new(1, 10))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        let record = store.professional(cpts.id, found[0].id).await.unwrap().unwrap();
        assert_eq!(record.summary.last_name, "CŒUR");
        assert_eq!(record.summary.first_name, "Renée");
        assert_eq!(record.places[0].address, "2 rue de l’Église, Bâtiment B");
    })
    .await;
}

#[tokio::test]
async fn an_uploaded_import_runs_in_the_background_and_reports() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        store
            .add_to_territory(cpts.id, &["30341".into(), "30169".into()], 0)
            .await
            .unwrap();
        let mut extract = Vec::new();
        write_extract(
            &mut extract,
            &ExtractSpec {
                rows: 30_000,
                seed: 2,
                communes: &LOCAL,
                elsewhere: &ELSEWHERE,
                local_percent: 5,
                latin1: false,
            },
        )
        .unwrap();
        let audit = maillage_app::audit::AuditContext::command_line().in_cpts(cpts.id);
        let run = |bytes: Vec<u8>| {
            let store = store.clone();
            let audit = audit.clone();
            async move {
                let file = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(file.path(), &bytes).unwrap();
                let id = start(
                    store.clone(),
                    cpts.id,
                    ImportKind::Directory,
                    "extrait.txt",
                    file.into_temp_path(),
                    bytes.len() as u64,
                    audit,
                )
                .await
                .unwrap();
                // Bounded: an import that never ends fails the test instead of hanging it.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
                loop {
                    let found = store.find_import(cpts.id, id).await.unwrap().unwrap();
                    if found.status != "running" {
                        return found;
                    }
                    assert!(found.bytes_done <= found.bytes_total);
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the import still runs after 2 minutes ({} of {} bytes)",
                        found.bytes_done,
                        found.bytes_total
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        };
        let done = run(extract.clone()).await;
        assert_eq!(done.status, "done", "{:?}", done.error);
        assert_eq!(done.bytes_done, done.bytes_total);
        let report: ImportReport = serde_json::from_str(done.report.as_deref().unwrap()).unwrap();
        assert_eq!(report.lines, 30_001);
        assert!(report.created > 0);
        let count = store.count_professionals(cpts.id).await.unwrap();
        assert_eq!(count as u64, report.created);

        let failed = run(b"nom|prenom|\nX|Y|\n".to_vec()).await;
        assert_eq!(failed.status, "failed");
        assert!(failed.error.unwrap().contains("colonne"));
        assert_eq!(store.count_professionals(cpts.id).await.unwrap(), count);
        let imports = store.list_imports(cpts.id, Page::new(1, 10)).await.unwrap();
        assert_eq!(imports.len(), 2);
    })
    .await;
}

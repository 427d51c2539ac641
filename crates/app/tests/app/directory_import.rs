//! Importing synthetic national-directory extracts on both engines: filtering to the territory, grouping
//! rows into professionals, reporting bad lines, idempotence, updates, and all-or-nothing writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use maillage_app::directory::synthetic::{write_extract, ExtractSpec};
use maillage_app::directory::{import_extract, ImportError};
use maillage_domain::directory::EXTRACT_HEADER;
use maillage_store::testing::{for_each_backend, make_cpts};
use maillage_store::{DirectoryQuery, Page};

const TERRITORY: [(&str, &str); 3] = [("30341", "30600"), ("30003", "30220"), ("30169", "30540")];
const ELSEWHERE: [(&str, &str); 2] = [("34145", "34400"), ("13055", "13001")];

fn extract(rows: usize, seed: u64, latin1: bool) -> Vec<u8> {
    let mut out = Vec::new();
    write_extract(
        &mut out,
        &ExtractSpec {
            rows,
            seed,
            communes: &TERRITORY,
            elsewhere: &ELSEWHERE,
            local_percent: 70,
            latin1,
        },
    )
    .unwrap();
    out
}

#[tokio::test]
async fn an_extract_is_filtered_grouped_and_imported_once() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        let codes: Vec<String> = TERRITORY.iter().map(|(c, _)| c.to_string()).collect();
        store.add_to_territory(cpts.id, &codes, 0).await.unwrap();

        let mut file = extract(3_000, 7, false);
        // Two broken lines at the end: a real row with a short RPPS, and one with an unknown identifier type.
        let first_row = String::from_utf8(file.clone())
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .to_string();
        let mut cells: Vec<&str> = first_row.split('|').collect();
        cells[1] = "123";
        file.extend_from_slice(format!("{}\n", cells.join("|")).as_bytes());
        cells[1] = "10000000009";
        cells[0] = "5";
        file.extend_from_slice(format!("{}\n", cells.join("|")).as_bytes());
        let mut seen = Vec::new();
        let report = import_extract(
            store.as_ref(),
            cpts.id,
            file.as_slice(),
            |bytes| seen.push(bytes),
            1,
        )
        .await
        .unwrap();
        assert_eq!(report.lines, 3_003);
        assert_eq!(
            report.rows_on_territory + report.rows_elsewhere + report.rejected_total,
            3_002
        );
        assert!(report.rows_elsewhere > 500, "{report:?}");
        assert_eq!(report.rejected_total, 2);
        assert_eq!(report.rejected[0].line, 3_002);
        assert_eq!(report.rejected[0].field, "Identifiant PP");
        assert_eq!(report.rejected[1].field, "Type d'identifiant PP");
        // The report (kept in the database) names the line and the field, not the refused value.
        assert_eq!(report.rejected[0].message, "un RPPS a 11 chiffres");
        assert!(
            report.rejected.iter().all(|p| !p.message.contains('«')),
            "{report:?}"
        );
        assert!(
            report.created > 100 && report.created < report.rows_on_territory,
            "rows are grouped per person"
        );
        assert_eq!(report.updated + report.unchanged, 0);
        assert!(
            report.warnings_total > 0,
            "some fictitious RPPS fail Luhn and are kept with a warning"
        );
        assert_eq!(
            seen.last().copied(),
            Some(report.bytes),
            "progress ends at the whole file"
        );
        assert_eq!(
            store.count_professionals(cpts.id).await.unwrap(),
            report.created as i64
        );

        let again = import_extract(store.as_ref(), cpts.id, file.as_slice(), |_| {}, 2)
            .await
            .unwrap();
        assert_eq!(
            (again.created, again.updated),
            (0, 0),
            "a second import changes nothing"
        );
        assert_eq!(again.unchanged, report.created);

        // The same file in Latin-1 is the same directory.
        let latin1 = extract(3_000, 7, true);
        let converted = import_extract(store.as_ref(), cpts.id, latin1.as_slice(), |_| {}, 3)
            .await
            .unwrap();
        assert_eq!((converted.created, converted.updated), (0, 0));

        // Another extract moves some people: they are updated, not duplicated.
        let moved = extract(3_000, 8, false);
        let later = import_extract(store.as_ref(), cpts.id, moved.as_slice(), |_| {}, 4)
            .await
            .unwrap();
        assert!(later.created > 0);
        let total = store.count_professionals(cpts.id).await.unwrap();
        assert_eq!(total, (report.created + later.created) as i64);

        let found = store
            .search_professionals(
                cpts.id,
                &DirectoryQuery {
                    words: vec!["vauvert".into(), "medecin".into()],
                    ..Default::default()
                },
                Page::first(500),
            )
            .await
            .unwrap();
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|p| p.profession_label == "Médecin"),
            "words are combined with AND"
        );
        let other = make_cpts(store.as_ref(), "ailleurs").await;
        assert!(store
            .search_professionals(other.id, &DirectoryQuery::default(), Page::first(5))
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_wrong_file_or_an_empty_territory_changes_nothing() {
    for_each_backend(|store, _url| async move {
        let cpts = make_cpts(store.as_ref(), "camargue").await;
        let file = extract(50, 1, false);
        let refused = import_extract(store.as_ref(), cpts.id, file.as_slice(), |_| {}, 1).await;
        assert!(matches!(refused, Err(ImportError::EmptyTerritory)));
        store
            .add_to_territory(cpts.id, &["30341".to_string()], 0)
            .await
            .unwrap();
        let not_an_extract = import_extract(
            store.as_ref(),
            cpts.id,
            b"nom;prenom\nA;B\n".as_slice(),
            |_| {},
            1,
        )
        .await;
        match not_an_extract {
            Err(ImportError::Header(error)) => {
                assert!(error.message.contains("Type d'identifiant PP"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        let empty = import_extract(store.as_ref(), cpts.id, b"".as_slice(), |_| {}, 1).await;
        assert!(matches!(empty, Err(ImportError::Empty)));
        let header_only = format!("{EXTRACT_HEADER}\n");
        let report = import_extract(store.as_ref(), cpts.id, header_only.as_bytes(), |_| {}, 1)
            .await
            .unwrap();
        assert_eq!(report.professionals(), 0);
        assert_eq!(store.count_professionals(cpts.id).await.unwrap(), 0);
    })
    .await;
}

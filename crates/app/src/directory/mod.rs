//! Importing the national directory's public extract into a CPTS's directory.
//!
//! The file (about two million rows nationally) is read line by line; only rows whose practice place is on
//! the CPTS's territory are kept, so memory grows with the territory, not with the file. Rows are grouped
//! into professionals (one row per activity), and every professional is created or updated in one
//! transaction: a failed import changes nothing. Importing the same file again changes nothing either.

pub mod synthetic;

use maillage_domain::directory::{decode_line, practice_mode, Activity, ExtractHeader};
use maillage_domain::text::fold;
use maillage_domain::ValidationError;
use maillage_store::{CptsId, ImportedProfessional, Store, StoreError, UpsertOutcome};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Rejected or warned lines listed in a report; beyond, they are only counted.
const LISTED: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Lines read, header included.
    pub lines: u64,
    pub bytes: u64,
    /// Activity rows on the territory, and elsewhere (skipped).
    pub rows_on_territory: u64,
    pub rows_elsewhere: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<LineProblem>,
    pub rejected_total: u64,
    /// Kept rows worth a look (an RPPS failing its check digit, as some published ones do).
    pub warnings: Vec<LineProblem>,
    pub warnings_total: u64,
}

impl ImportReport {
    pub fn professionals(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("lecture du fichier : {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Header(ValidationError),
    #[error("le fichier est vide")]
    Empty,
    #[error(
        "le territoire de la CPTS est vide : définissez ses communes avant d'importer l'annuaire"
    )]
    EmptyTerritory,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn note(list: &mut Vec<LineProblem>, total: &mut u64, problem: LineProblem) {
    *total += 1;
    if list.len() < LISTED {
        list.push(problem);
    }
}

/// Professionals built from their activity rows, keyed by national identifier (sorted: stable hashes and order).
fn group(activities: Vec<Activity>) -> Vec<ImportedProfessional> {
    let mut by_person: BTreeMap<String, Vec<Activity>> = BTreeMap::new();
    for activity in activities {
        by_person
            .entry(activity.national_id.clone())
            .or_default()
            .push(activity);
    }
    by_person
        .into_values()
        .filter_map(|rows| {
            let first = rows.first()?.clone();
            let modes: Vec<&str> = rows.iter().map(|r| r.mode_code.as_str()).collect();
            let mut specialties: Vec<&str> = Vec::new();
            let mut places: Vec<maillage_domain::directory::Place> = Vec::new();
            for row in &rows {
                if !row.specialty.is_empty() && !specialties.contains(&row.specialty.as_str()) {
                    specialties.push(&row.specialty);
                }
                if !places.contains(&row.place) {
                    places.push(row.place.clone());
                }
            }
            let communes: Vec<String> = places
                .iter()
                .filter_map(|p| {
                    maillage_domain::identifiers::InseeCode::parse(&p.commune_code).ok()
                })
                .filter_map(|code| maillage_domain::territory::find(&code).map(|c| c.name.clone()))
                .collect();
            let search_text = fold(&format!(
                "{} {} {} {} {} {}",
                first.last_name,
                first.first_name,
                first.profession_label,
                specialties.join(" "),
                places
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                communes.join(" ")
            ));
            let mut professional = ImportedProfessional {
                national_id: first.national_id.clone(),
                id_kind: first.person.kind().to_string(),
                identifier: first.person.value().to_string(),
                checksum_ok: first.checksum_ok,
                civility: first.civility.clone(),
                last_name: first.last_name.clone(),
                first_name: first.first_name.clone(),
                profession_code: first.profession_code.clone(),
                profession_label: first.profession_label.clone(),
                specialty: specialties.join(" ; "),
                practice_mode: practice_mode(&modes).to_string(),
                places,
                search_text,
                content_hash: String::new(),
            };
            let canonical = serde_json::to_vec(&professional).unwrap_or_default();
            professional.content_hash = hex::encode(Sha256::digest(&canonical));
            Some(professional)
        })
        .collect()
}

/// Imports `reader` (the extract) into the directory of `cpts`. `progress` receives the bytes read so far,
/// about every 10,000 lines.
pub async fn import_extract<R: AsyncBufRead + Unpin>(
    store: &dyn Store,
    cpts: CptsId,
    mut reader: R,
    mut progress: impl FnMut(u64),
    now: i64,
) -> Result<ImportReport, ImportError> {
    let territory: HashSet<String> = store.territory(cpts).await?.into_iter().collect();
    if territory.is_empty() {
        return Err(ImportError::EmptyTerritory);
    }
    let mut report = ImportReport::default();
    let mut buffer = Vec::with_capacity(1024);
    let mut header: Option<ExtractHeader> = None;
    let mut kept = Vec::new();
    let mut warned: HashSet<String> = HashSet::new();
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer).await?;
        if read == 0 {
            break;
        }
        report.bytes += read as u64;
        report.lines += 1;
        if report.lines % 10_000 == 0 {
            progress(report.bytes);
        }
        let line = decode_line(&buffer);
        let Some(columns) = &header else {
            header = Some(ExtractHeader::parse(&line).map_err(ImportError::Header)?);
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match Activity::parse(&line, columns) {
            Err(problem) => note(
                &mut report.rejected,
                &mut report.rejected_total,
                LineProblem {
                    line: report.lines,
                    field: problem.field,
                    message: problem.message,
                },
            ),
            Ok(activity) if territory.contains(&activity.place.commune_code) => {
                report.rows_on_territory += 1;
                if !activity.checksum_ok && warned.insert(activity.national_id.clone()) {
                    note(
                        &mut report.warnings,
                        &mut report.warnings_total,
                        LineProblem {
                            line: report.lines,
                            field: "Identifiant PP",
                            message: format!("RPPS {} : clé de contrôle (Luhn) fausse, fiche importée quand même", activity.person.value()),
                        },
                    );
                }
                kept.push(activity);
            }
            Ok(_) => report.rows_elsewhere += 1,
        }
    }
    progress(report.bytes);
    if header.is_none() {
        return Err(ImportError::Empty);
    }
    let professionals = group(kept);
    for outcome in store
        .upsert_professionals(cpts, &professionals, now)
        .await?
    {
        match outcome {
            UpsertOutcome::Created => report.created += 1,
            UpsertOutcome::Updated => report.updated += 1,
            UpsertOutcome::Unchanged => report.unchanged += 1,
        }
    }
    Ok(report)
}

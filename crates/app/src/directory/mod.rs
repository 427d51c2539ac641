//! Importing the national directory's public extract into a CPTS's directory.
//!
//! The file (about two million rows nationally) is read line by line; only rows whose practice place is on
//! the CPTS's territory are kept, so memory grows with the territory, not with the file. Rows are grouped
//! into professionals (one row per activity), and every professional is created or updated in one
//! transaction: a failed import changes nothing. Importing the same file again changes nothing either.

pub mod finess;
pub mod members;
pub mod pages;
pub mod synthetic;

use maillage_domain::directory::{
    decode_line, is_general_practice, practice_mode, Activity, ExtractHeader,
};
use maillage_domain::text::fold;
use maillage_domain::ValidationError;
use maillage_store::{
    CptsId, ImportedProfessional, ReferenceCount, Store, StoreError, UpsertOutcome,
    GENERAL_PRACTICE,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Rejected or warned lines listed in a report; beyond, they are only counted.
const LISTED: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineProblem {
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// What an import did, kept as JSON with the import so that its page can show it later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// Keeps a line's problem in `list` (up to [`LISTED`]) and counts it in `total`.
fn note(list: &mut Vec<LineProblem>, total: &mut u64, line: u64, field: &str, message: String) {
    *total += 1;
    if list.len() < LISTED {
        // Reports are kept in the database: the line and field, never the refused value itself.
        list.push(LineProblem {
            line,
            field: field.to_string(),
            message: maillage_domain::text::without_quoted_value(&message),
        });
    }
}

impl ImportReport {
    pub fn reject(&mut self, line: u64, field: &str, message: impl Into<String>) {
        note(
            &mut self.rejected,
            &mut self.rejected_total,
            line,
            field,
            message.into(),
        );
    }

    pub fn warn(&mut self, line: u64, field: &str, message: impl Into<String>) {
        note(
            &mut self.warnings,
            &mut self.warnings_total,
            line,
            field,
            message.into(),
        );
    }

    pub fn count(&mut self, outcomes: &[UpsertOutcome]) {
        for outcome in outcomes {
            match outcome {
                UpsertOutcome::Created => self.created += 1,
                UpsertOutcome::Updated => self.updated += 1,
                UpsertOutcome::Unchanged => self.unchanged += 1,
            }
        }
    }
}

/// A `;`-separated file read record by record with csv-async (a quoted field may hold `;`, `""` and line
/// breaks; see `maillage_domain::text::semicolon_reader` for the same settings on text in memory), fields
/// decoded (UTF-8 or Windows-1252), counting records and bytes for the report and the progress bar. Memory
/// stays at one record.
pub(crate) struct SemicolonRecords<R> {
    reader: csv_async::AsyncReader<NewlineOffsets<R>>,
    record: csv_async::ByteRecord,
    /// The line the last record starts on (1-based), for the report's messages.
    pub number: u64,
    /// Lines read so far.
    pub lines: u64,
    pub bytes: u64,
}

impl<R: tokio::io::AsyncRead + Unpin + Send> SemicolonRecords<R> {
    pub fn new(reader: R) -> Self {
        let mut builder = csv_async::AsyncReaderBuilder::new();
        // The settings of `maillage_domain::text::semicolon_reader`.
        builder.delimiter(b';').has_headers(false).flexible(true);
        Self {
            reader: builder.create_reader(NewlineOffsets::new(reader)),
            record: csv_async::ByteRecord::new(),
            number: 0,
            lines: 0,
            bytes: 0,
        }
    }

    /// The next record's fields, `progress` being told the bytes read every 10,000 records.
    pub async fn next(
        &mut self,
        progress: &mut impl FnMut(u64),
    ) -> std::io::Result<Option<Vec<String>>> {
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .await
            .map_err(std::io::Error::other)?;
        self.bytes = self.reader.position().byte();
        let ended_by_newline = self.reader.get_mut().count_until(self.bytes);
        let newlines = self.reader.get_ref().counted;
        if !more {
            self.lines = newlines + u64::from(self.bytes > 0 && !ended_by_newline);
            progress(self.bytes);
            return Ok(None);
        }
        let inside = maillage_domain::text::newlines_in(self.record.as_slice());
        self.number = maillage_domain::text::record_start_line(newlines, inside, ended_by_newline);
        self.lines = newlines + u64::from(!ended_by_newline);
        if self.reader.position().record().is_multiple_of(10_000) {
            progress(self.bytes);
        }
        Ok(Some(maillage_domain::text::record_fields(
            self.record.iter(),
        )))
    }
}

/// A reader that notes where its line feeds are, so that a record's line can be told from its end: the csv
/// reader reads ahead, so the offsets read but not yet reached by a record wait in a queue (bounded by the
/// reader's buffer).
struct NewlineOffsets<R> {
    inner: R,
    offset: u64,
    pending: std::collections::VecDeque<u64>,
    /// Line feeds before the end of the last record.
    counted: u64,
}

impl<R> NewlineOffsets<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            pending: std::collections::VecDeque::new(),
            counted: 0,
        }
    }

    /// Counts the line feeds before byte `end`; true when the byte just before `end` is one.
    fn count_until(&mut self, end: u64) -> bool {
        let mut last = None;
        while let Some(&offset) = self.pending.front() {
            if offset >= end {
                break;
            }
            self.pending.pop_front();
            self.counted += 1;
            last = Some(offset);
        }
        end > 0 && last == Some(end - 1)
    }
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for NewlineOffsets<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
        buffer: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buffer.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(context, buffer);
        if let std::task::Poll::Ready(Ok(())) = polled {
            let start = self.offset;
            let read = &buffer.filled()[before..];
            self.pending.extend(
                read.iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| start + i as u64),
            );
            self.offset += read.len() as u64;
        }
        polled
    }
}

/// True when every field is empty (a blank line, or `;;;` left by a spreadsheet).
pub(crate) fn blank(fields: &[String]) -> bool {
    fields.iter().all(|field| field.is_empty())
}

/// A file read line by line (the `|`-separated national extract, which has no quoting), decoded (UTF-8 or
/// Windows-1252), counting lines and bytes for the report and the
/// progress bar. Memory stays at one line.
pub(crate) struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    pub number: u64,
    pub bytes: u64,
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buffer: Vec::with_capacity(1024),
            number: 0,
            bytes: 0,
        }
    }

    /// The next line, `progress` being told the bytes read every 10,000 lines.
    pub async fn next(
        &mut self,
        progress: &mut impl FnMut(u64),
    ) -> std::io::Result<Option<String>> {
        self.buffer.clear();
        let read = self.reader.read_until(b'\n', &mut self.buffer).await?;
        if read == 0 {
            progress(self.bytes);
            return Ok(None);
        }
        self.bytes += read as u64;
        self.number += 1;
        if self.number.is_multiple_of(10_000) {
            progress(self.bytes);
        }
        Ok(Some(decode_line(&self.buffer)))
    }
}

/// The territory's communes, refusing an import while there are none.
pub(crate) async fn territory_of(
    store: &dyn Store,
    cpts: CptsId,
) -> Result<HashSet<String>, ImportError> {
    let territory: HashSet<String> = store.territory(cpts).await?.into_iter().collect();
    if territory.is_empty() {
        return Err(ImportError::EmptyTerritory);
    }
    Ok(territory)
}

/// Hex SHA-256 of a value's JSON: equal hashes mean an import has nothing to change.
pub fn content_hash(value: &impl Serialize) -> String {
    hex::encode(Sha256::digest(
        serde_json::to_vec(value).unwrap_or_default(),
    ))
}

/// The département of a commune code, if the commune exists.
fn departement_of(code: &str) -> Option<&'static str> {
    maillage_domain::territory::find_code(code).map(|c| c.departement.as_str())
}

/// Professionals per area and category over the whole extract, for the diagnostic's comparisons. Rows of one
/// person follow each other in the published extract, so a person is counted once per area and category by
/// remembering only what was counted for the current person. Runs for each of the two million rows: no
/// allocation once the few categories are known.
#[derive(Default)]
struct ReferenceCounter {
    /// Départements to count (those of the territory); France is always counted.
    departements: HashSet<String>,
    /// Area → category → professionals.
    counts: HashMap<&'static str, HashMap<String, i64>>,
    person: String,
    counted: Vec<(&'static str, bool)>,
}

impl ReferenceCounter {
    fn add(&mut self, activity: &Activity) {
        if activity.national_id != self.person {
            self.person.clone_from(&activity.national_id);
            self.counted.clear();
        }
        let general_practice = is_general_practice(
            &activity.profession_code,
            &activity.specialty_code,
            &activity.specialty,
        );
        let departement =
            departement_of(&activity.place.commune_code).filter(|d| self.departements.contains(*d));
        for area in std::iter::once("FR").chain(departement) {
            // A person keeps one profession: (area, general practice or not) identifies what was counted.
            for general in [false, true] {
                if (general && !general_practice) || self.counted.contains(&(area, general)) {
                    continue;
                }
                self.counted.push((area, general));
                let category = if general {
                    GENERAL_PRACTICE
                } else {
                    activity.profession_code.as_str()
                };
                let per_category = self.counts.entry(area).or_default();
                match per_category.get_mut(category) {
                    Some(count) => *count += 1,
                    None => {
                        per_category.insert(category.to_string(), 1);
                    }
                }
            }
        }
    }

    fn into_counts(self) -> Vec<ReferenceCount> {
        let mut counts: Vec<ReferenceCount> = self
            .counts
            .into_iter()
            .flat_map(|(area, categories)| {
                categories
                    .into_iter()
                    .map(move |(category, professionals)| ReferenceCount {
                        area: area.to_string(),
                        category,
                        professionals,
                    })
            })
            .collect();
        counts.sort_by(|a, b| (&a.area, &a.category).cmp(&(&b.area, &b.category)));
        counts
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
            let general_practitioner = rows
                .iter()
                .any(|r| is_general_practice(&r.profession_code, &r.specialty_code, &r.specialty));
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
            let communes: Vec<&str> = places
                .iter()
                .filter_map(|p| maillage_domain::territory::commune_name(&p.commune_code))
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
                general_practitioner,
            };
            professional.content_hash = content_hash(&professional);
            Some(professional)
        })
        .collect()
}

/// Imports `reader` (the extract) into the directory of `cpts`. `progress` receives the bytes read so far,
/// about every 10,000 lines.
pub async fn import_extract<R: AsyncBufRead + Unpin>(
    store: &dyn Store,
    cpts: CptsId,
    reader: R,
    mut progress: impl FnMut(u64),
    now: i64,
) -> Result<ImportReport, ImportError> {
    let territory = territory_of(store, cpts).await?;
    let mut reference = ReferenceCounter {
        departements: territory
            .iter()
            .filter_map(|code| departement_of(code))
            .map(str::to_string)
            .collect(),
        ..ReferenceCounter::default()
    };
    let mut report = ImportReport::default();
    let mut lines = Lines::new(reader);
    let mut header: Option<ExtractHeader> = None;
    let mut kept = Vec::new();
    let mut warned: HashSet<String> = HashSet::new();
    while let Some(line) = lines.next(&mut progress).await? {
        let Some(columns) = &header else {
            header = Some(ExtractHeader::parse(&line).map_err(ImportError::Header)?);
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match Activity::parse(&line, columns) {
            Err(problem) => report.reject(lines.number, problem.field, problem.message),
            Ok(activity) => {
                reference.add(&activity);
                if !territory.contains(&activity.place.commune_code) {
                    report.rows_elsewhere += 1;
                    continue;
                }
                report.rows_on_territory += 1;
                if !activity.checksum_ok && warned.insert(activity.national_id.clone()) {
                    report.warn(
                        lines.number,
                        "Identifiant PP",
                        format!(
                            "RPPS {} : clé de contrôle (Luhn) fausse, fiche importée quand même",
                            activity.person.value()
                        ),
                    );
                }
                kept.push(activity);
            }
        }
    }
    report.lines = lines.number;
    report.bytes = lines.bytes;
    if header.is_none() {
        return Err(ImportError::Empty);
    }
    let professionals = group(kept);
    let counts = reference.into_counts();
    let outcomes = store
        .upsert_professionals(cpts, &professionals, Some(&counts), now)
        .await?;
    report.count(&outcomes);
    if report.created + report.updated > 0 {
        store.refresh_directory_statistics().await?;
    }
    Ok(report)
}

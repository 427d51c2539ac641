//! The directory of professionals of each CPTS. Imports upsert by national identifier with a hash of the
//! imported content, so that importing the same extract twice changes nothing.

mod counts;
mod places;
pub use counts::*;
pub use places::*;

use crate::audit::AuditTx;

use crate::models::{CptsId, NewAuditEntry, Page};

use crate::sql::BeginWrite;

use crate::sql::{bind_args, on_pool, SqlArg as Arg, SqlStore};

use crate::{Result, Store};

use async_trait::async_trait;

use maillage_domain::professional::{ProfessionalFacts, Visibility};

use serde::{Deserialize, Serialize};

use sqlx::FromRow;

use uuid::Uuid;

/// A practice place, as the national directory describes it.
pub use maillage_domain::directory::Place as PracticePlace;

/// What an import knows of a professional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedProfessional {
    pub national_id: String,
    pub id_kind: String,
    pub identifier: String,
    pub checksum_ok: bool,
    pub civility: String,
    pub last_name: String,
    pub first_name: String,
    pub profession_code: String,
    pub profession_label: String,
    pub specialty: String,
    pub practice_mode: String,
    pub places: Vec<PracticePlace>,
    /// Folded words searched by the directory (names, profession, specialty, communes, structures).
    pub search_text: String,
    /// Hash of everything above: equal hashes mean nothing to update.
    pub content_hash: String,
    /// Médecine générale, from the savoir-faire.
    pub general_practitioner: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
    Unchanged,
}

/// One line of the directory, with the CPTS's facts (for the lists and the exports).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ProfessionalSummary {
    pub id: Uuid,
    pub id_kind: String,
    pub identifier: String,
    pub civility: String,
    pub last_name: String,
    pub first_name: String,
    pub profession_code: String,
    pub profession_label: String,
    pub specialty: String,
    pub practice_mode: String,
    pub member: bool,
    pub visibility: String,
    pub accepts_new_patients: bool,
    pub new_patient_capacity: Option<i64>,
    pub snp_volunteer: bool,
    pub sas_effector: bool,
    pub internship_supervisor: bool,
    pub ipa: bool,
    pub asalee: bool,
    pub crisis_skills: String,
    pub languages: String,
    pub birth_year: Option<i64>,
    pub mssante: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// The first practice place: commune code, structure, address and phone.
    #[sqlx(default)]
    pub commune_code: Option<String>,
    #[sqlx(default)]
    pub structure_name: Option<String>,
    #[sqlx(default)]
    pub address: Option<String>,
    #[sqlx(default)]
    pub phone: Option<String>,
    #[sqlx(default)]
    pub postal_code: Option<String>,
    /// The first place's structure identifiers, as the national extract gives them (empty: none).
    #[sqlx(default)]
    pub place_finess: Option<String>,
    #[sqlx(default)]
    pub place_siret: Option<String>,
    /// The structure the CPTS attached the professional to.
    #[sqlx(default)]
    pub structure_id: Option<Uuid>,
    #[sqlx(default)]
    pub general_practitioner: bool,
}

impl ProfessionalSummary {
    /// The national identifier as the directory's extract and the SAS write it (IDNPS): `8` + RPPS, or
    /// `0` + ADELI.
    pub fn national_id(&self) -> String {
        let prefix = match self.id_kind.as_str() {
            "ADELI" | "0" => "0",
            _ => "8",
        };
        format!("{prefix}{}", self.identifier)
    }
}

/// A professional with all their practice places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfessionalRecord {
    pub summary: ProfessionalSummary,
    pub national_id: String,
    pub checksum_ok: bool,
    pub places: Vec<PracticePlace>,
    /// Empty content hash: entered by the CPTS, never seen in a national extract.
    pub from_national_directory: bool,
    pub updated_at: i64,
    pub facts_updated_at: Option<i64>,
}

impl ProfessionalRecord {
    pub fn facts(&self) -> ProfessionalFacts {
        let s = &self.summary;
        ProfessionalFacts {
            member: s.member,
            visibility: Visibility::parse(&s.visibility).unwrap_or_default(),
            accepts_new_patients: s.accepts_new_patients,
            new_patient_capacity: s.new_patient_capacity,
            snp_volunteer: s.snp_volunteer,
            sas_effector: s.sas_effector,
            internship_supervisor: s.internship_supervisor,
            ipa: s.ipa,
            asalee: s.asalee,
            crisis_skills: s.crisis_skills.clone(),
            languages: s.languages.clone(),
            birth_year: s.birth_year,
            mssante: s.mssante.clone(),
            contact_phone: s.contact_phone.clone(),
            contact_email: s.contact_email.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Folded words; every word must appear.
    pub words: Vec<String>,
    pub profession_code: Option<String>,
    pub commune_code: Option<String>,
    pub members_only: bool,
    /// Only entries whose visibility is public (the public directory).
    pub public_only: bool,
    /// Leave out the entries only the coordination sees.
    pub hide_private: bool,
    /// Keyset pagination for exports: entries after this (last name, first name, id).
    pub after: Option<(String, String, Uuid)>,
}

/// A professional entered by the CPTS from its member template, or the facts to apply to one already there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberTemplateEntry {
    /// Identity and place as the template gives them, with an empty content hash: the next national import
    /// brings the official data.
    pub professional: ImportedProfessional,
    pub facts: ProfessionalFacts,
    pub facts_text: String,
}

/// Category under which general practitioners are counted, beside their profession.
pub const GENERAL_PRACTICE: &str = "MG";

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Creates or updates every professional of an import in one transaction: all or nothing. When the
    /// import counted the national and départemental references, they replace the previous ones in the same
    /// transaction.
    async fn upsert_professionals(
        &self,
        cpts: CptsId,
        professionals: &[ImportedProfessional],
        reference: Option<&[ReferenceCount]>,
        now: i64,
    ) -> Result<Vec<UpsertOutcome>>;
    /// Applies the member template: facts of professionals already there, new entries otherwise. One
    /// transaction.
    async fn apply_member_entries(
        &self,
        cpts: CptsId,
        entries: &[MemberTemplateEntry],
        now: i64,
    ) -> Result<Vec<UpsertOutcome>>;
    async fn search_professionals(
        &self,
        cpts: CptsId,
        query: &DirectoryQuery,
        page: Page,
    ) -> Result<Vec<ProfessionalSummary>>;
    async fn count_professionals(&self, cpts: CptsId) -> Result<i64>;
    /// Summaries (with the first practice place) of these professionals of the CPTS, in one query; unknown ids
    /// are left out. At most 500 ids.
    async fn professional_summaries(
        &self,
        cpts: CptsId,
        ids: &[Uuid],
    ) -> Result<Vec<ProfessionalSummary>>;
    /// The professionals of the CPTS with these national identifiers (`8` + RPPS, the FHIR IDNPS value).
    async fn professionals_by_national_id(
        &self,
        cpts: CptsId,
        national_ids: &[String],
    ) -> Result<Vec<Uuid>>;
    async fn professional(&self, cpts: CptsId, id: Uuid) -> Result<Option<ProfessionalRecord>>;
    /// Replaces the CPTS's facts about a professional; false when there is no such professional in `cpts`.
    #[allow(clippy::too_many_arguments)]
    async fn update_professional_facts(
        &self,
        cpts: CptsId,
        id: Uuid,
        facts: &ProfessionalFacts,
        structure: Option<Uuid>,
        facts_text: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

const SUMMARY_COLUMNS: &str = "p.id, p.id_kind, p.identifier, p.civility, p.last_name, p.first_name, p.profession_code, \
    p.profession_label, p.specialty, p.practice_mode, p.member, p.visibility, p.accepts_new_patients, \
    p.new_patient_capacity, p.snp_volunteer, p.sas_effector, p.internship_supervisor, p.ipa, p.asalee, \
    p.crisis_skills, p.languages, p.birth_year, p.mssante, p.contact_phone, p.contact_email, p.structure_id, \
    p.general_practitioner, pl.commune_code, pl.structure_name, pl.address, pl.phone, pl.postal_code, \
    pl.finess AS place_finess, pl.siret AS place_siret";

/// Binds the imported fields of a professional, in the order of placeholders $2 to $14.
macro_rules! imported_fields {
    ($query:expr, $p:expr) => {
        $query
            .bind(&$p.id_kind)
            .bind(&$p.identifier)
            .bind($p.checksum_ok)
            .bind(&$p.civility)
            .bind(&$p.last_name)
            .bind(&$p.first_name)
            .bind(&$p.profession_code)
            .bind(&$p.profession_label)
            .bind(&$p.specialty)
            .bind(&$p.practice_mode)
            .bind(&$p.search_text)
            .bind(&$p.content_hash)
            .bind($p.general_practitioner)
    };
}

/// Binds the CPTS's facts, in the order of `FACTS_SET` ($2 to $17).
macro_rules! fact_fields {
    ($query:expr, $f:expr, $text:expr) => {
        $query
            .bind($f.member)
            .bind($f.visibility.code())
            .bind($f.accepts_new_patients)
            .bind($f.new_patient_capacity)
            .bind($f.snp_volunteer)
            .bind($f.sas_effector)
            .bind($f.internship_supervisor)
            .bind($f.ipa)
            .bind($f.asalee)
            .bind(&$f.crisis_skills)
            .bind(&$f.languages)
            .bind($f.birth_year)
            .bind(&$f.mssante)
            .bind(&$f.contact_phone)
            .bind(&$f.contact_email)
            .bind($text)
    };
}

const FACTS_SET: &str = "member = $2, visibility = $3, accepts_new_patients = $4, new_patient_capacity = $5, \
    snp_volunteer = $6, sas_effector = $7, internship_supervisor = $8, ipa = $9, asalee = $10, crisis_skills = $11, \
    languages = $12, birth_year = $13, mssante = $14, contact_phone = $15, contact_email = $16, facts_text = $17";

/// Opens the transaction of a bulk import. On PostgreSQL, statements are planned for each execution: a plan
/// cached while the tables were nearly empty would scan them sequentially as the import fills them, making a
/// large import quadratic.
macro_rules! begin_bulk {
    ($store:expr, $pool:expr) => {{
        let mut tx = $pool.begin_write().await?;
        if $store.backend() == crate::Backend::Postgres {
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
                .execute(&mut *tx)
                .await?;
        }
        tx
    }};
}

/// Takes the record id as $1, the imported fields as $2 to $14 (see `imported_fields!`), the instant as $15,
/// the CPTS as $16 and the national identifier as $17.
const INSERT_PROFESSIONAL: &str = "INSERT INTO professionals (id, id_kind, identifier, checksum_ok, civility, \
    last_name, first_name, profession_code, profession_label, specialty, practice_mode, search_text, content_hash, \
    general_practitioner, created_at, updated_at, cpts_id, national_id) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17)";

/// Inserts a professional and their places (inside the transaction `$tx`).
macro_rules! insert_professional {
    ($tx:expr, $cpts:expr, $id:expr, $p:expr, $now:expr) => {{
        imported_fields!(sqlx::query(INSERT_PROFESSIONAL).bind($id), $p)
            .bind($now)
            .bind($cpts.0)
            .bind(&$p.national_id)
            .execute(&mut *$tx)
            .await?;
        insert_places!($tx, $id, $p);
    }};
}

/// Inserts the places of professional `$id` in their order.
macro_rules! insert_places {
    ($tx:expr, $id:expr, $p:expr) => {
        for (position, place) in $p.places.iter().enumerate() {
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            place_fields!(sqlx::query(INSERT_PLACE), $id, position, place)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

const INSERT_PLACE: &str = "INSERT INTO practice_places (professional_id, position, structure_name, siret, finess, \
    address, postal_code, commune_code, phone, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Binds a place for `INSERT_PLACE`.
macro_rules! place_fields {
    ($query:expr, $id:expr, $position:expr, $place:expr) => {
        $query
            .bind($id)
            .bind($position)
            .bind(&$place.name)
            .bind(&$place.siret)
            .bind(&$place.finess)
            .bind(&$place.address)
            .bind(&$place.postal_code)
            .bind(&$place.commune_code)
            .bind(&$place.phone)
            .bind(&$place.email)
    };
}

/// The distinct words a professional is found by (bounded: a long text cannot flood the index).
fn words_of(texts: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in texts.iter().flat_map(|t| t.split(' ')) {
        let word: String = word.chars().take(40).collect();
        if !word.is_empty() && !words.contains(&word) && words.len() < 96 {
            words.push(word);
        }
    }
    words
}

/// Replaces the indexed words of professional `$id` (inside the transaction `$tx`).
macro_rules! replace_words {
    ($tx:expr, $cpts:expr, $id:expr, $texts:expr) => {{
        sqlx::query("DELETE FROM professional_words WHERE professional_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        let words = words_of($texts);
        if !words.is_empty() {
            let values: Vec<String> = (0..words.len())
                .map(|i| format!("($1, $2, ${})", i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO professional_words (cpts_id, professional_id, word) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql).bind($cpts.0).bind($id);
            for word in &words {
                query = query.bind(word);
            }
            query.execute(&mut *$tx).await?;
        }
    }};
}

#[derive(FromRow)]
struct RecordRow {
    national_id: String,
    checksum_ok: bool,
    content_hash: String,
    updated_at: i64,
    facts_updated_at: Option<i64>,
}

type PlaceRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn upsert_professionals(
        &self,
        cpts: CptsId,
        professionals: &[ImportedProfessional],
        reference: Option<&[ReferenceCount]>,
        now: i64,
    ) -> Result<Vec<UpsertOutcome>> {
        let find = "SELECT id, content_hash, facts_text FROM professionals WHERE cpts_id = $1 AND national_id = $2";
        // Both statements take the record id as $1, the imported fields as $2 to $14 (see `imported_fields!`)
        // and the instant as $15, so that the fields are bound in one place.
        let update = "UPDATE professionals SET id_kind = $2, identifier = $3, checksum_ok = $4, civility = $5, \
                      last_name = $6, first_name = $7, profession_code = $8, profession_label = $9, specialty = $10, \
                      practice_mode = $11, search_text = $12, content_hash = $13, general_practitioner = $14, \
                      updated_at = $15 WHERE id = $1";
        let clear_places = "DELETE FROM practice_places WHERE professional_id = $1";
        let clear_reference = "DELETE FROM directory_reference WHERE cpts_id = $1";
        let insert_reference =
            "INSERT INTO directory_reference (cpts_id, area, category, professionals, counted_at) \
                                VALUES ($1, $2, $3, $4, $5)";
        let outcomes = on_pool!(self, pool => {
            let mut tx = begin_bulk!(self, pool);
            let mut outcomes = Vec::with_capacity(professionals.len());
            for p in professionals {
                let existing: Option<(Uuid, String, String)> = sqlx::query_as(find)
                    .bind(cpts.0)
                    .bind(&p.national_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let facts_text = existing.as_ref().map(|e| e.2.clone()).unwrap_or_default();
                let (id, outcome) = match existing {
                    Some((_, hash, _)) if hash == p.content_hash => {
                        outcomes.push(UpsertOutcome::Unchanged);
                        continue;
                    }
                    Some((id, _, _)) => {
                        imported_fields!(sqlx::query(update).bind(id), p)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(clear_places).bind(id).execute(&mut *tx).await?;
                        insert_places!(tx, id, p);
                        (id, UpsertOutcome::Updated)
                    }
                    None => {
                        let id = Uuid::now_v7();
                        insert_professional!(tx, cpts, id, p, now);
                        (id, UpsertOutcome::Created)
                    }
                };
                replace_words!(tx, cpts, id, &[&p.search_text, &facts_text, &p.identifier]);
                outcomes.push(outcome);
            }
            if let Some(reference) = reference {
                sqlx::query(clear_reference).bind(cpts.0).execute(&mut *tx).await?;
                for count in reference {
                    sqlx::query(insert_reference)
                        .bind(cpts.0)
                        .bind(&count.area)
                        .bind(&count.category)
                        .bind(count.professionals)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            outcomes
        });
        Ok(outcomes)
    }

    async fn apply_member_entries(
        &self,
        cpts: CptsId,
        entries: &[MemberTemplateEntry],
        now: i64,
    ) -> Result<Vec<UpsertOutcome>> {
        let find = "SELECT id, search_text, identifier FROM professionals WHERE cpts_id = $1 AND national_id = $2";
        let update = format!(
            "UPDATE professionals SET {FACTS_SET}, facts_updated_at = $18, updated_at = $18 WHERE id = $1"
        );
        let outcomes = on_pool!(self, pool => {
            let mut tx = begin_bulk!(self, pool);
            let mut outcomes = Vec::with_capacity(entries.len());
            for entry in entries {
                let existing: Option<(Uuid, String, String)> = sqlx::query_as(find)
                    .bind(cpts.0)
                    .bind(&entry.professional.national_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let p = &entry.professional;
                let (search_text, identifier) = existing
                    .as_ref()
                    .map(|e| (e.1.clone(), e.2.clone()))
                    .unwrap_or_else(|| (p.search_text.clone(), p.identifier.clone()));
                let (id, outcome) = match existing {
                    Some((id, _, _)) => (id, UpsertOutcome::Updated),
                    None => {
                        let id = Uuid::now_v7();
                        insert_professional!(tx, cpts, id, p, now);
                        (id, UpsertOutcome::Created)
                    }
                };
                fact_fields!(sqlx::query(&update).bind(id), &entry.facts, &entry.facts_text)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                replace_words!(tx, cpts, id, &[&search_text, &entry.facts_text, &identifier]);
                outcomes.push(outcome);
            }
            tx.commit().await?;
            outcomes
        });
        Ok(outcomes)
    }

    async fn search_professionals(
        &self,
        cpts: CptsId,
        query: &DirectoryQuery,
        page: Page,
    ) -> Result<Vec<ProfessionalSummary>> {
        let mut args = vec![Arg::Uuid(cpts.0)];
        let mut conditions = vec!["p.cpts_id = $1".to_string()];
        for word in query.words.iter().take(8) {
            // Words are folded (lower-case ASCII letters and digits): every word starting with `word` sorts
            // between `word` and `word` followed by `{` (the character after `z`), an index range.
            args.push(Arg::Text(word.clone()));
            args.push(Arg::Text(format!("{word}{{")));
            conditions.push(format!(
                "p.id IN (SELECT w.professional_id FROM professional_words w \
                 WHERE w.cpts_id = $1 AND w.word >= ${} AND w.word < ${})",
                args.len() - 1,
                args.len()
            ));
        }
        if let Some(code) = &query.profession_code {
            if code == GENERAL_PRACTICE {
                conditions.push("p.general_practitioner = TRUE".to_string());
            } else {
                args.push(Arg::Text(code.clone()));
                conditions.push(format!("p.profession_code = ${}", args.len()));
            }
        }
        if let Some(code) = &query.commune_code {
            args.push(Arg::Text(code.clone()));
            conditions.push(format!(
                "p.id IN (SELECT c.professional_id FROM practice_places c WHERE c.commune_code = ${})",
                args.len()
            ));
        }
        if query.members_only {
            conditions.push("p.member = TRUE".to_string());
        }
        if query.public_only {
            conditions.push("p.visibility = 'public'".to_string());
        }
        if query.hide_private {
            conditions.push("p.visibility <> 'private'".to_string());
        }
        if let Some((last, first, id)) = &query.after {
            args.push(Arg::Text(last.clone()));
            args.push(Arg::Text(first.clone()));
            args.push(Arg::Uuid(*id));
            let n = args.len();
            conditions.push(format!(
                "(p.last_name, p.first_name, p.id) > (${}, ${}, ${n})",
                n - 2,
                n - 1
            ));
        }
        args.push(Arg::I64(page.limit));
        args.push(Arg::I64(page.offset));
        // With search words, the matches come from the word index and are few: sorting them is cheap. Ordering
        // by the bare column would let a planner walk the whole name index instead, testing each row.
        let order = if query.words.is_empty() {
            "p.last_name, p.first_name, p.id"
        } else {
            "p.last_name || '', p.first_name, p.id"
        };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} \
             FROM professionals p LEFT JOIN practice_places pl ON pl.professional_id = p.id AND pl.position = 0 \
             WHERE {} ORDER BY {order} LIMIT ${} OFFSET ${}",
            conditions.join(" AND "),
            args.len() - 1,
            args.len()
        );
        let rows: Vec<ProfessionalSummary> = on_pool!(self, pool => {
            bind_args!(sqlx::query_as(&sql), &args).fetch_all(pool).await
        })?;
        Ok(rows)
    }

    async fn professional_summaries(
        &self,
        cpts: CptsId,
        ids: &[Uuid],
    ) -> Result<Vec<ProfessionalSummary>> {
        let wanted: Vec<&Uuid> = ids.iter().take(500).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..wanted.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM professionals p \
             LEFT JOIN practice_places pl ON pl.professional_id = p.id AND pl.position = 0 \
             WHERE p.cpts_id = $1 AND p.id IN ({})",
            list.join(", ")
        );
        let rows: Vec<ProfessionalSummary> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql).bind(cpts.0);
            for id in &wanted {
                q = q.bind(**id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    async fn professionals_by_national_id(
        &self,
        cpts: CptsId,
        national_ids: &[String],
    ) -> Result<Vec<Uuid>> {
        let wanted: Vec<&String> = national_ids.iter().take(500).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..wanted.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id FROM professionals WHERE cpts_id = $1 AND national_id IN ({})",
            list.join(", ")
        );
        let rows: Vec<(Uuid,)> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql).bind(cpts.0);
            for id in &wanted {
                q = q.bind(id.as_str());
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn count_professionals(&self, cpts: CptsId) -> Result<i64> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM professionals WHERE cpts_id = $1")
            .bind(cpts.0)
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }

    async fn professional(&self, cpts: CptsId, id: Uuid) -> Result<Option<ProfessionalRecord>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM professionals p \
             LEFT JOIN practice_places pl ON pl.professional_id = p.id AND pl.position = 0 \
             WHERE p.cpts_id = $1 AND p.id = $2"
        );
        let record = "SELECT national_id, checksum_ok, content_hash, updated_at, facts_updated_at \
                      FROM professionals WHERE cpts_id = $1 AND id = $2";
        let places = "SELECT structure_name, siret, finess, address, postal_code, commune_code, phone, email \
                      FROM practice_places WHERE professional_id = $1 ORDER BY position";
        let found = on_pool!(self, pool => {
            let summary: Option<ProfessionalSummary> =
                sqlx::query_as(&sql).bind(cpts.0).bind(id).fetch_optional(pool).await?;
            match summary {
                None => None,
                Some(summary) => {
                    let row: RecordRow = sqlx::query_as(record).bind(cpts.0).bind(id).fetch_one(pool).await?;
                    let places: Vec<PlaceRow> = sqlx::query_as(places).bind(id).fetch_all(pool).await?;
                    Some((summary, row, places))
                }
            }
        });
        Ok(found.map(|(summary, row, places)| ProfessionalRecord {
            summary,
            national_id: row.national_id,
            checksum_ok: row.checksum_ok,
            from_national_directory: !row.content_hash.is_empty(),
            updated_at: row.updated_at,
            facts_updated_at: row.facts_updated_at,
            places: places
                .into_iter()
                .map(
                    |(name, siret, finess, address, postal_code, commune_code, phone, email)| {
                        PracticePlace {
                            name,
                            siret,
                            finess,
                            address,
                            postal_code,
                            commune_code,
                            phone,
                            email,
                        }
                    },
                )
                .collect(),
        }))
    }

    async fn update_professional_facts(
        &self,
        cpts: CptsId,
        id: Uuid,
        facts: &ProfessionalFacts,
        structure: Option<Uuid>,
        facts_text: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        // The structure must belong to the same CPTS: checked in the statement itself.
        let sql = format!(
            "UPDATE professionals SET {FACTS_SET}, facts_updated_at = $18, \
             structure_id = (SELECT s.id FROM structures s WHERE s.id = $19 AND s.cpts_id = $20) \
             WHERE id = $1 AND cpts_id = $20"
        );
        let texts =
            "SELECT search_text, identifier FROM professionals WHERE id = $1 AND cpts_id = $2";
        let affected = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let affected = fact_fields!(sqlx::query(&sql).bind(id), facts, facts_text)
                .bind(now)
                .bind(structure)
                .bind(cpts.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if affected == 1 {
                let (search_text, identifier): (String, String) =
                    sqlx::query_as(texts).bind(id).bind(cpts.0).fetch_one(&mut *tx).await?;
                replace_words!(tx, cpts, id, &[&search_text, facts_text, &identifier]);
                tx.append_audit(&self.audit_keys, audit).await?;
            }
            tx.commit().await?;
            affected
        });
        Ok(affected == 1)
    }
}

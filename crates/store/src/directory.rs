//! The directory of professionals of each CPTS. Imports upsert by national identifier with a hash of the
//! imported content, so that importing the same extract twice changes nothing.

use crate::models::{CptsId, Page};
use crate::sql::{bind_args, on_pool, SqlArg as Arg, SqlStore};
use crate::Result;
use async_trait::async_trait;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
    Unchanged,
}

/// One line of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfessionalSummary {
    pub id: Uuid,
    pub identifier: String,
    pub civility: String,
    pub last_name: String,
    pub first_name: String,
    pub profession_label: String,
    pub specialty: String,
    pub practice_mode: String,
    pub member: bool,
    /// The first practice place: commune code and structure.
    pub commune_code: String,
    pub structure_name: String,
    pub phone: String,
}

#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Folded words; every word must appear.
    pub words: Vec<String>,
    pub profession_code: Option<String>,
    /// Only entries whose visibility is public (the public directory).
    pub public_only: bool,
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Creates or updates every professional of an import in one transaction: all or nothing.
    async fn upsert_professionals(
        &self,
        cpts: CptsId,
        professionals: &[ImportedProfessional],
        now: i64,
    ) -> Result<Vec<UpsertOutcome>>;
    async fn search_professionals(
        &self,
        cpts: CptsId,
        query: &DirectoryQuery,
        page: Page,
    ) -> Result<Vec<ProfessionalSummary>>;
    async fn count_professionals(&self, cpts: CptsId) -> Result<i64>;
}

#[derive(FromRow)]
struct SummaryRow {
    id: Uuid,
    identifier: String,
    civility: String,
    last_name: String,
    first_name: String,
    profession_label: String,
    specialty: String,
    practice_mode: String,
    member: bool,
    commune_code: Option<String>,
    structure_name: Option<String>,
    phone: Option<String>,
}

/// Binds the imported fields of a professional, in the order of placeholders $2 to $13.
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
    };
}

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn upsert_professionals(
        &self,
        cpts: CptsId,
        professionals: &[ImportedProfessional],
        now: i64,
    ) -> Result<Vec<UpsertOutcome>> {
        let find =
            "SELECT id, content_hash FROM professionals WHERE cpts_id = $1 AND national_id = $2";
        // Both statements take the record id as $1, the imported fields as $2 to $13 (see `imported_fields!`)
        // and the instant as $14, so that the fields are bound in one place.
        let insert = "INSERT INTO professionals (id, id_kind, identifier, checksum_ok, civility, last_name, first_name, \
                      profession_code, profession_label, specialty, practice_mode, search_text, content_hash, \
                      created_at, updated_at, cpts_id, national_id) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)";
        let update = "UPDATE professionals SET id_kind = $2, identifier = $3, checksum_ok = $4, civility = $5, \
                      last_name = $6, first_name = $7, profession_code = $8, profession_label = $9, specialty = $10, \
                      practice_mode = $11, search_text = $12, content_hash = $13, updated_at = $14 WHERE id = $1";
        let clear_places = "DELETE FROM practice_places WHERE professional_id = $1";
        let insert_place = "INSERT INTO practice_places (professional_id, position, structure_name, siret, finess, \
                            address, postal_code, commune_code, phone, email) \
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let outcomes = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut outcomes = Vec::with_capacity(professionals.len());
            for p in professionals {
                let existing: Option<(Uuid, String)> = sqlx::query_as(find)
                    .bind(cpts.0)
                    .bind(&p.national_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let (id, outcome) = match existing {
                    Some((_, hash)) if hash == p.content_hash => {
                        outcomes.push(UpsertOutcome::Unchanged);
                        continue;
                    }
                    Some((id, _)) => {
                        imported_fields!(sqlx::query(update).bind(id), p)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(clear_places).bind(id).execute(&mut *tx).await?;
                        (id, UpsertOutcome::Updated)
                    }
                    None => {
                        let id = Uuid::now_v7();
                        imported_fields!(sqlx::query(insert).bind(id), p)
                            .bind(now)
                            .bind(cpts.0)
                            .bind(&p.national_id)
                            .execute(&mut *tx)
                            .await?;
                        (id, UpsertOutcome::Created)
                    }
                };
                for (position, place) in p.places.iter().enumerate() {
                    sqlx::query(insert_place)
                        .bind(id)
                        .bind(i64::try_from(position).unwrap_or(i64::MAX))
                        .bind(&place.name)
                        .bind(&place.siret)
                        .bind(&place.finess)
                        .bind(&place.address)
                        .bind(&place.postal_code)
                        .bind(&place.commune_code)
                        .bind(&place.phone)
                        .bind(&place.email)
                        .execute(&mut *tx)
                        .await?;
                }
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
            // Words are folded ASCII (letters, digits, spaces): no LIKE wildcard can come from the user.
            args.push(Arg::Text(format!("%{word}%")));
            conditions.push(format!("p.search_text LIKE ${}", args.len()));
        }
        if let Some(code) = &query.profession_code {
            args.push(Arg::Text(code.clone()));
            conditions.push(format!("p.profession_code = ${}", args.len()));
        }
        if query.public_only {
            conditions.push("p.visibility = 'public'".to_string());
        }
        args.push(Arg::I64(page.limit));
        args.push(Arg::I64(page.offset));
        let sql = format!(
            "SELECT p.id, p.identifier, p.civility, p.last_name, p.first_name, p.profession_label, p.specialty, \
             p.practice_mode, p.member, pl.commune_code, pl.structure_name, pl.phone \
             FROM professionals p LEFT JOIN practice_places pl ON pl.professional_id = p.id AND pl.position = 0 \
             WHERE {} ORDER BY p.last_name, p.first_name, p.id LIMIT ${} OFFSET ${}",
            conditions.join(" AND "),
            args.len() - 1,
            args.len()
        );
        let rows: Vec<SummaryRow> = on_pool!(self, pool => {
            bind_args!(sqlx::query_as(&sql), &args).fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| ProfessionalSummary {
                id: r.id,
                identifier: r.identifier,
                civility: r.civility,
                last_name: r.last_name,
                first_name: r.first_name,
                profession_label: r.profession_label,
                specialty: r.specialty,
                practice_mode: r.practice_mode,
                member: r.member,
                commune_code: r.commune_code.unwrap_or_default(),
                structure_name: r.structure_name.unwrap_or_default(),
                phone: r.phone.unwrap_or_default(),
            })
            .collect())
    }

    async fn count_professionals(&self, cpts: CptsId) -> Result<i64> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM professionals WHERE cpts_id = $1")
            .bind(cpts.0)
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }
}

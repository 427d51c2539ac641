//! Patients, stored with their identity encrypted by the application (see `maillage_app::crypto`):
//! the database holds ciphertext, the id of the key that made it, and a keyed blind index for
//! exact-match duplicate detection. Every method takes the CPTS, except the key-rotation scan which is an
//! operator's command over the whole database.

use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

/// Replaces a patient's search terms inside an open transaction (`$tx`: `&mut Transaction`), so that the row
/// and what finds it are written together. The same SQL for both engines.
macro_rules! write_search_terms {
    ($tx:expr, $record:expr) => {{
        let record: &$crate::models::PatientRecord = $record;
        sqlx::query("DELETE FROM patient_search_terms WHERE patient_id = $1")
            .bind(record.id.0)
            .execute(&mut **$tx)
            .await?;
        for term in &record.search_terms {
            sqlx::query(
                "INSERT INTO patient_search_terms (patient_id, cpts_id, term) VALUES ($1, $2, $3) \
                 ON CONFLICT (patient_id, term) DO NOTHING",
            )
            .bind(record.id.0)
            .bind(record.cpts_id.0)
            .bind(term)
            .execute(&mut **$tx)
            .await?;
        }
    }};
}
pub(crate) use write_search_terms;

/// Writes a patient row and its search terms inside an open transaction (`$tx`: `&mut Transaction`): the
/// missions that record a patient with their own record (a request, a booking) and `create_patient` share
/// it. A row already there (the same id) is kept as it is.
macro_rules! insert_patient {
    ($tx:expr, $record:expr) => {{
        let record: &$crate::models::PatientRecord = $record;
        sqlx::query(
            "INSERT INTO patients (id, cpts_id, identity, key_id, blind_index, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(record.id.0)
        .bind(record.cpts_id.0)
        .bind(&record.identity)
        .bind(&record.key_id)
        .bind(&record.blind_index)
        .bind(record.created_at)
        .bind(record.updated_at)
        .execute(&mut **$tx)
        .await?;
        $crate::patients::write_search_terms!($tx, record);
    }};
}
pub(crate) use insert_patient;

/// A condition on `column` (a patient id): the patient has every one of `terms` in the CPTS bound as
/// `cpts_param`. Terms are hex HMACs, checked here, so they are written into the text; anything else matches
/// nothing.
pub(crate) fn has_search_terms(column: &str, cpts_param: &str, terms: &[String]) -> String {
    if terms.is_empty() {
        return "1 = 1".into();
    }
    if !terms
        .iter()
        .all(|t| !t.is_empty() && t.len() <= 128 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return "1 = 0".into();
    }
    let mut distinct = terms.to_vec();
    distinct.sort();
    distinct.dedup();
    let listed: Vec<String> = distinct.iter().map(|t| format!("'{t}'")).collect();
    format!(
        "{column} IN (SELECT patient_id FROM patient_search_terms WHERE cpts_id = {cpts_param} \
         AND term IN ({}) GROUP BY patient_id HAVING COUNT(*) = {})",
        listed.join(", "),
        distinct.len()
    )
}

#[async_trait]
pub trait PatientStore: Send + Sync {
    async fn create_patient(&self, record: &PatientRecord) -> Result<()>;
    async fn find_patient(&self, cpts: CptsId, id: PatientId) -> Result<Option<PatientRecord>>;
    async fn find_patients_by_blind_index(
        &self,
        cpts: CptsId,
        blind_index: &str,
    ) -> Result<Vec<PatientRecord>>;
    /// Replaces the ciphertext (after an edit or a key rotation); false when no such patient in that CPTS.
    async fn update_patient_identity(
        &self,
        cpts: CptsId,
        id: PatientId,
        identity: &[u8],
        key_id: &str,
        blind_index: &str,
        now: i64,
    ) -> Result<bool>;
    /// Up to `limit` patients, any CPTS, whose identity was not encrypted with `key_id` (key rotation).
    async fn patients_not_under_key(&self, key_id: &str, limit: i64) -> Result<Vec<PatientRecord>>;
    /// Up to `limit` patients, any CPTS, without search terms (rows written before the search existed).
    async fn patients_without_search_terms(&self, limit: i64) -> Result<Vec<PatientRecord>>;
    /// Writes the search terms of `record` (its row exists already).
    async fn replace_search_terms(&self, record: &PatientRecord) -> Result<()>;
}

#[derive(FromRow)]
struct PatientRow {
    id: Uuid,
    cpts_id: Uuid,
    identity: Vec<u8>,
    key_id: String,
    blind_index: String,
    created_at: i64,
    updated_at: i64,
}

impl From<PatientRow> for PatientRecord {
    fn from(row: PatientRow) -> Self {
        PatientRecord {
            id: PatientId(row.id),
            cpts_id: CptsId(row.cpts_id),
            identity: row.identity,
            key_id: row.key_id,
            blind_index: row.blind_index,
            search_terms: Vec::new(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const PATIENT_COLUMNS: &str = "id, cpts_id, identity, key_id, blind_index, created_at, updated_at";

#[async_trait]
impl PatientStore for SqlStore {
    async fn create_patient(&self, record: &PatientRecord) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_patient!(&mut tx, record);
            tx.commit().await?;
        });
        Ok(())
    }

    async fn patients_without_search_terms(&self, limit: i64) -> Result<Vec<PatientRecord>> {
        let sql = format!(
            "SELECT {PATIENT_COLUMNS} FROM patients p WHERE NOT EXISTS \
             (SELECT 1 FROM patient_search_terms t WHERE t.patient_id = p.id) ORDER BY id LIMIT $1"
        );
        let rows: Vec<PatientRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn replace_search_terms(&self, record: &PatientRecord) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            write_search_terms!(&mut tx, record);
            tx.commit().await?;
        });
        Ok(())
    }

    async fn find_patient(&self, cpts: CptsId, id: PatientId) -> Result<Option<PatientRecord>> {
        let sql = format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE cpts_id = $1 AND id = $2");
        let row: Option<PatientRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id.0)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn find_patients_by_blind_index(
        &self,
        cpts: CptsId,
        blind_index: &str,
    ) -> Result<Vec<PatientRecord>> {
        let sql = format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE cpts_id = $1 AND blind_index = $2 ORDER BY created_at LIMIT 50"
        );
        let rows: Vec<PatientRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(blind_index)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn update_patient_identity(
        &self,
        cpts: CptsId,
        id: PatientId,
        identity: &[u8],
        key_id: &str,
        blind_index: &str,
        now: i64,
    ) -> Result<bool> {
        let sql =
            "UPDATE patients SET identity = $3, key_id = $4, blind_index = $5, updated_at = $6 \
                   WHERE cpts_id = $1 AND id = $2";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(id.0)
            .bind(identity)
            .bind(key_id)
            .bind(blind_index)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn patients_not_under_key(&self, key_id: &str, limit: i64) -> Result<Vec<PatientRecord>> {
        let sql = format!(
            "SELECT {PATIENT_COLUMNS} FROM patients WHERE key_id <> $1 ORDER BY id LIMIT $2"
        );
        let rows: Vec<PatientRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(key_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

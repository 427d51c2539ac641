//! Structures of each CPTS's territory (imported from FINESS or entered by the coordination), and the imports
//! started from the web with their progress.

use crate::audit::{commit_audited, AuditTx};
use crate::models::{CptsId, NewAuditEntry, Page};
use crate::sql::BeginWrite;
use crate::sql::{bind_args, on_pool, SqlArg as Arg, SqlStore};
use crate::{Result, UpsertOutcome};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use uuid::Uuid;

/// What the FINESS extraction (or the coordination, for structures without FINESS) says of a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StructureIdentity {
    /// FINESS of the establishment, SIRET, or empty for structures entered by hand (town hall, association…).
    pub natural_key: String,
    pub finess: String,
    pub siret: String,
    pub name: String,
    pub kind: String,
    /// FINESS category: code and label ("500 EHPAD").
    pub finess_category: String,
    pub address: String,
    pub postal_code: String,
    pub commune_code: String,
    pub phone: String,
    pub email: String,
    pub search_text: String,
    pub content_hash: String,
}

/// What the CPTS records about a structure: services, contacts, partnership and agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StructureFacts {
    /// Codes of `maillage_domain::structures::SERVICES`, separated by `;`.
    pub services: String,
    pub specifics: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub partner_status: String,
    pub agreement_signed_on: Option<String>,
    pub agreement_ends_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Structure {
    pub id: Uuid,
    pub finess: String,
    pub siret: String,
    pub name: String,
    pub kind: String,
    pub finess_category: String,
    pub address: String,
    pub postal_code: String,
    pub commune_code: String,
    pub phone: String,
    pub email: String,
    pub services: String,
    pub specifics: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub partner_status: String,
    pub agreement_signed_on: Option<String>,
    pub agreement_ends_on: Option<String>,
    pub updated_at: i64,
}

impl Structure {
    pub fn facts(&self) -> StructureFacts {
        StructureFacts {
            services: self.services.clone(),
            specifics: self.specifics.clone(),
            contact_name: self.contact_name.clone(),
            contact_phone: self.contact_phone.clone(),
            contact_email: self.contact_email.clone(),
            partner_status: self.partner_status.clone(),
            agreement_signed_on: self.agreement_signed_on.clone(),
            agreement_ends_on: self.agreement_ends_on.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct StructureQuery {
    /// Folded words; every word must appear.
    pub words: Vec<String>,
    pub kind: Option<String>,
    pub partners_only: bool,
}

/// An import started from the web, as every instance sees it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct ImportRun {
    pub id: Uuid,
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub bytes_total: i64,
    pub bytes_done: i64,
    /// JSON report once finished.
    pub report: Option<String>,
    pub error: Option<String>,
    pub started_at: i64,
    pub heartbeat_at: i64,
    pub finished_at: Option<i64>,
}

impl ImportRun {
    /// An import starting now.
    pub fn started(kind: &str, file_name: &str, bytes_total: u64, now: i64) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind: kind.to_string(),
            file_name: file_name.chars().take(200).collect(),
            status: "running".into(),
            bytes_total: i64::try_from(bytes_total).unwrap_or(i64::MAX),
            bytes_done: 0,
            report: None,
            error: None,
            started_at: now,
            heartbeat_at: now,
            finished_at: None,
        }
    }
}

#[async_trait]
pub trait StructureStore: Send + Sync {
    /// Creates or updates structures in one transaction, keyed by their natural key; the CPTS's facts are
    /// never touched by an import.
    async fn upsert_structures(
        &self,
        cpts: CptsId,
        structures: &[StructureIdentity],
        now: i64,
    ) -> Result<Vec<UpsertOutcome>>;
    /// A structure entered by the coordination; returns its id.
    async fn create_structure(
        &self,
        cpts: CptsId,
        identity: &StructureIdentity,
        facts: &StructureFacts,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Uuid>;
    async fn update_structure_facts(
        &self,
        cpts: CptsId,
        id: Uuid,
        facts: &StructureFacts,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn structure(&self, cpts: CptsId, id: Uuid) -> Result<Option<Structure>>;
    async fn search_structures(
        &self,
        cpts: CptsId,
        query: &StructureQuery,
        page: Page,
    ) -> Result<Vec<Structure>>;
    async fn count_structures(&self, cpts: CptsId) -> Result<i64>;

    async fn create_import(
        &self,
        cpts: CptsId,
        run: &ImportRun,
        started_by: Option<Uuid>,
    ) -> Result<()>;
    async fn record_import_progress(&self, id: Uuid, bytes_done: i64, now: i64) -> Result<()>;
    /// Marks the import done (with its JSON report) or failed (with the reason).
    async fn finish_import(
        &self,
        id: Uuid,
        outcome: std::result::Result<&str, &str>,
        now: i64,
    ) -> Result<()>;
    async fn find_import(&self, cpts: CptsId, id: Uuid) -> Result<Option<ImportRun>>;
    async fn list_imports(&self, cpts: CptsId, page: Page) -> Result<Vec<ImportRun>>;
}

const STRUCTURE_COLUMNS: &str =
    "id, finess, siret, name, kind, finess_category, address, postal_code, commune_code, \
    phone, email, services, specifics, contact_name, contact_phone, contact_email, partner_status, \
    agreement_signed_on, agreement_ends_on, updated_at";

const UPDATE_FACTS: &str = "UPDATE structures SET services = $3, specifics = $4, contact_name = $5, \
    contact_phone = $6, contact_email = $7, partner_status = $8, agreement_signed_on = $9, agreement_ends_on = $10, \
    updated_at = $11 WHERE cpts_id = $1 AND id = $2";

/// Runs `UPDATE_FACTS` on an executor (a pool or a transaction); yields the number of rows changed.
macro_rules! update_facts {
    ($executor:expr, $cpts:expr, $id:expr, $facts:expr, $now:expr) => {
        sqlx::query(UPDATE_FACTS)
            .bind($cpts.0)
            .bind($id)
            .bind(&$facts.services)
            .bind(&$facts.specifics)
            .bind(&$facts.contact_name)
            .bind(&$facts.contact_phone)
            .bind(&$facts.contact_email)
            .bind(&$facts.partner_status)
            .bind(&$facts.agreement_signed_on)
            .bind(&$facts.agreement_ends_on)
            .bind($now)
            .execute($executor)
            .await
            .map(|done| done.rows_affected())
    };
}

const IMPORT_COLUMNS: &str =
    "id, kind, file_name, status, bytes_total, bytes_done, report, error, started_at, \
    heartbeat_at, finished_at";

/// Binds the identity of a structure in the order of placeholders $2 to $13.
macro_rules! identity_fields {
    ($query:expr, $s:expr) => {
        $query
            .bind(&$s.finess)
            .bind(&$s.siret)
            .bind(&$s.name)
            .bind(&$s.kind)
            .bind(&$s.finess_category)
            .bind(&$s.address)
            .bind(&$s.postal_code)
            .bind(&$s.commune_code)
            .bind(&$s.phone)
            .bind(&$s.email)
            .bind(&$s.search_text)
            .bind(&$s.content_hash)
    };
}

#[async_trait]
impl StructureStore for SqlStore {
    async fn upsert_structures(
        &self,
        cpts: CptsId,
        structures: &[StructureIdentity],
        now: i64,
    ) -> Result<Vec<UpsertOutcome>> {
        let find =
            "SELECT id, content_hash FROM structures WHERE cpts_id = $1 AND natural_key = $2";
        let insert = "INSERT INTO structures (id, finess, siret, name, kind, finess_category, address, postal_code, \
                      commune_code, phone, email, search_text, content_hash, created_at, updated_at, cpts_id, natural_key) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)";
        let update = "UPDATE structures SET finess = $2, siret = $3, name = $4, kind = $5, finess_category = $6, \
                      address = $7, postal_code = $8, commune_code = $9, phone = $10, email = $11, search_text = $12, \
                      content_hash = $13, updated_at = $14 WHERE id = $1";
        let outcomes = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut outcomes = Vec::with_capacity(structures.len());
            for s in structures {
                let existing: Option<(Uuid, String)> = sqlx::query_as(find)
                    .bind(cpts.0)
                    .bind(&s.natural_key)
                    .fetch_optional(&mut *tx)
                    .await?;
                let outcome = match existing {
                    Some((_, hash)) if hash == s.content_hash => UpsertOutcome::Unchanged,
                    Some((id, _)) => {
                        identity_fields!(sqlx::query(update).bind(id), s).bind(now).execute(&mut *tx).await?;
                        UpsertOutcome::Updated
                    }
                    None => {
                        identity_fields!(sqlx::query(insert).bind(Uuid::now_v7()), s)
                            .bind(now)
                            .bind(cpts.0)
                            .bind(&s.natural_key)
                            .execute(&mut *tx)
                            .await?;
                        UpsertOutcome::Created
                    }
                };
                outcomes.push(outcome);
            }
            tx.commit().await?;
            outcomes
        });
        Ok(outcomes)
    }

    async fn create_structure(
        &self,
        cpts: CptsId,
        identity: &StructureIdentity,
        facts: &StructureFacts,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let key = if identity.natural_key.is_empty() {
            format!("cpts:{id}")
        } else {
            identity.natural_key.clone()
        };
        let insert = "INSERT INTO structures (id, finess, siret, name, kind, finess_category, address, postal_code, \
                      commune_code, phone, email, search_text, content_hash, created_at, updated_at, cpts_id, natural_key) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            identity_fields!(sqlx::query(insert).bind(id), identity)
                .bind(now)
                .bind(cpts.0)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            update_facts!(&mut *tx, cpts, id, facts, now)?;
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await
        })?;
        Ok(id)
    }

    async fn update_structure_facts(
        &self,
        cpts: CptsId,
        id: Uuid,
        facts: &StructureFacts,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let affected = update_facts!(&mut *tx, cpts, id, facts, now)?;
            commit_audited!(self, tx, affected == 1, audit)
        })
    }

    async fn structure(&self, cpts: CptsId, id: Uuid) -> Result<Option<Structure>> {
        let sql =
            format!("SELECT {STRUCTURE_COLUMNS} FROM structures WHERE cpts_id = $1 AND id = $2");
        let found: Option<Structure> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(found)
    }

    async fn search_structures(
        &self,
        cpts: CptsId,
        query: &StructureQuery,
        page: Page,
    ) -> Result<Vec<Structure>> {
        let mut args = vec![Arg::Uuid(cpts.0)];
        let mut conditions = vec!["cpts_id = $1".to_string()];
        for word in query.words.iter().take(8) {
            args.push(Arg::Text(format!("%{word}%")));
            conditions.push(format!("search_text LIKE ${}", args.len()));
        }
        if let Some(kind) = &query.kind {
            args.push(Arg::Text(kind.clone()));
            conditions.push(format!("kind = ${}", args.len()));
        }
        if query.partners_only {
            conditions.push("partner_status IN ('partner', 'member')".to_string());
        }
        args.push(Arg::I64(page.limit));
        args.push(Arg::I64(page.offset));
        let sql = format!(
            "SELECT {STRUCTURE_COLUMNS} FROM structures WHERE {} ORDER BY name, id LIMIT ${} OFFSET ${}",
            conditions.join(" AND "),
            args.len() - 1,
            args.len()
        );
        let rows: Vec<Structure> =
            on_pool!(self, pool => bind_args!(sqlx::query_as(&sql), &args).fetch_all(pool).await)?;
        Ok(rows)
    }

    async fn count_structures(&self, cpts: CptsId) -> Result<i64> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM structures WHERE cpts_id = $1")
            .bind(cpts.0)
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }

    async fn create_import(
        &self,
        cpts: CptsId,
        run: &ImportRun,
        started_by: Option<Uuid>,
    ) -> Result<()> {
        let sql = "INSERT INTO imports (id, cpts_id, kind, file_name, status, bytes_total, bytes_done, started_by, \
                   started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(run.id)
            .bind(cpts.0)
            .bind(&run.kind)
            .bind(&run.file_name)
            .bind(&run.status)
            .bind(run.bytes_total)
            .bind(run.bytes_done)
            .bind(started_by)
            .bind(run.started_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn record_import_progress(&self, id: Uuid, bytes_done: i64, now: i64) -> Result<()> {
        let sql = "UPDATE imports SET bytes_done = $2, heartbeat_at = $3 WHERE id = $1 AND status = 'running'";
        on_pool!(self, pool => sqlx::query(sql).bind(id).bind(bytes_done).bind(now).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    async fn finish_import(
        &self,
        id: Uuid,
        outcome: std::result::Result<&str, &str>,
        now: i64,
    ) -> Result<()> {
        let (status, report, error) = match outcome {
            Ok(report) => ("done", Some(report), None),
            Err(error) => ("failed", None, Some(error)),
        };
        let sql = "UPDATE imports SET status = $2, report = $3, error = $4, finished_at = $5, heartbeat_at = $5, \
                   bytes_done = CASE WHEN $2 = 'done' THEN bytes_total ELSE bytes_done END WHERE id = $1";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(status)
            .bind(report)
            .bind(error)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn find_import(&self, cpts: CptsId, id: Uuid) -> Result<Option<ImportRun>> {
        let sql = format!("SELECT {IMPORT_COLUMNS} FROM imports WHERE cpts_id = $1 AND id = $2");
        let found: Option<ImportRun> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(found)
    }

    async fn list_imports(&self, cpts: CptsId, page: Page) -> Result<Vec<ImportRun>> {
        let sql = format!(
            "SELECT {IMPORT_COLUMNS} FROM imports WHERE cpts_id = $1 ORDER BY started_at DESC, id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<ImportRun> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}

//! Waiting lists of the care pathways: the CPTS's lists, the patients of its pathways put on them, their exits;
//! each change written with its audit entry in one transaction.

use crate::audit::commit_audited;
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct WaitingListRow {
    pub id: Uuid,
    pub name: String,
    /// People still waiting.
    pub waiting: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct WaitingEntryRow {
    pub id: Uuid,
    pub list_id: Uuid,
    pub inclusion_id: Uuid,
    pub patient_id: Uuid,
    pub referred_on: String,
    pub priority: String,
    pub exited_on: Option<String>,
    pub exit_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWaitingEntry {
    pub id: Uuid,
    pub list_id: Uuid,
    pub inclusion_id: Uuid,
    pub referred_on: String,
    pub priority: String,
    pub created_at: i64,
}

#[async_trait]
pub trait WaitingListStore: Send + Sync {
    /// Creates a list with its audit entry; false when the CPTS already has one of that name.
    async fn create_waiting_list(
        &self,
        cpts: CptsId,
        id: Uuid,
        name: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The CPTS's lists with how many are waiting on each, by name.
    async fn waiting_lists(&self, cpts: CptsId) -> Result<Vec<WaitingListRow>>;
    /// Puts a patient of the CPTS's pathways on a list of the CPTS, with the audit entry; false when the list
    /// or the inclusion is not the CPTS's, or the patient already waits on that list.
    async fn add_waiting_entry(
        &self,
        cpts: CptsId,
        entry: &NewWaitingEntry,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The entries of a list: still waiting (`open`), or those that left it between `from` and `to`.
    async fn waiting_entries(
        &self,
        cpts: CptsId,
        list: Uuid,
        open: bool,
        from: &str,
        to: &str,
    ) -> Result<Vec<WaitingEntryRow>>;
    /// The entries of one patient, on every list.
    async fn waiting_entries_of(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
    ) -> Result<Vec<WaitingEntryRow>>;
    /// Takes someone off a list on `day` for `reason`, with the audit entry; false when not waiting there.
    async fn exit_waiting_entry(
        &self,
        cpts: CptsId,
        entry: Uuid,
        day: &str,
        reason: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

const ENTRY_COLUMNS: &str =
    "e.id, e.list_id, e.inclusion_id, i.patient_id, e.referred_on, e.priority, \
                             e.exited_on, e.exit_reason";

#[async_trait]
impl WaitingListStore for SqlStore {
    async fn create_waiting_list(
        &self,
        cpts: CptsId,
        id: Uuid,
        name: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql =
            "INSERT INTO waiting_lists (id, cpts_id, name, created_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let created = sqlx::query(sql)
                .bind(id)
                .bind(cpts.0)
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, created, audit)
        })
    }

    async fn waiting_lists(&self, cpts: CptsId) -> Result<Vec<WaitingListRow>> {
        let sql = "SELECT l.id, l.name, (SELECT COUNT(*) FROM waiting_entries e WHERE e.list_id = l.id \
                   AND e.exited_on IS NULL) AS waiting FROM waiting_lists l WHERE l.cpts_id = $1 ORDER BY l.name";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).fetch_all(pool).await)?)
    }

    async fn add_waiting_entry(
        &self,
        cpts: CptsId,
        entry: &NewWaitingEntry,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "INSERT INTO waiting_entries (id, list_id, inclusion_id, referred_on, priority, created_at) \
                   SELECT $1, l.id, i.id, $4, $5, $6 FROM waiting_lists l, pathway_inclusions i \
                   WHERE l.id = $2 AND l.cpts_id = $7 AND i.id = $3 AND i.cpts_id = $7 \
                   AND NOT EXISTS (SELECT 1 FROM waiting_entries w WHERE w.list_id = $2 AND w.inclusion_id = $3 \
                   AND w.exited_on IS NULL)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let added = sqlx::query(sql)
                .bind(entry.id)
                .bind(entry.list_id)
                .bind(entry.inclusion_id)
                .bind(&entry.referred_on)
                .bind(&entry.priority)
                .bind(entry.created_at)
                .bind(cpts.0)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, added, audit)
        })
    }

    async fn waiting_entries(
        &self,
        cpts: CptsId,
        list: Uuid,
        open: bool,
        from: &str,
        to: &str,
    ) -> Result<Vec<WaitingEntryRow>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM waiting_entries e JOIN waiting_lists l ON l.id = e.list_id \
             JOIN pathway_inclusions i ON i.id = e.inclusion_id WHERE l.cpts_id = $1 AND l.id = $2 AND {} \
             ORDER BY e.referred_on, e.id",
            if open {
                "e.exited_on IS NULL AND $3 <= $4"
            } else {
                "e.exited_on >= $3 AND e.exited_on <= $4"
            }
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(list)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?)
    }

    async fn waiting_entries_of(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
    ) -> Result<Vec<WaitingEntryRow>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM waiting_entries e JOIN pathway_inclusions i ON i.id = e.inclusion_id \
             WHERE i.cpts_id = $1 AND i.id = $2 ORDER BY e.referred_on, e.id"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as(&sql).bind(cpts.0).bind(inclusion).fetch_all(pool).await)?,
        )
    }

    async fn exit_waiting_entry(
        &self,
        cpts: CptsId,
        entry: Uuid,
        day: &str,
        reason: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE waiting_entries SET exited_on = $3, exit_reason = $4 WHERE id = $2 \
                   AND exited_on IS NULL AND EXISTS (SELECT 1 FROM waiting_lists l WHERE l.id = list_id \
                   AND l.cpts_id = $1)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(sql)
                .bind(cpts.0)
                .bind(entry)
                .bind(day)
                .bind(reason)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, changed, audit)
        })
    }
}

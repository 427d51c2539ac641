//! Possible duplicates: a public or partner submission that matched the open request of the same person waits
//! here for the secretariat's decision — merged into the open request, or kept apart as a request of its own.

use super::{
    bind_criteria, insert_event, requests, DoctorRequest, RequestEvent, RequestRow,
    MERGE_INTO_REQUEST, REQUEST_COLUMNS,
};
use crate::audit::{commit_audited, AuditTx};
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;
use maillage_domain::doctor_search::Criteria;
use uuid::Uuid;

#[async_trait]
pub trait DuplicateReviewStore: Send + Sync {
    /// The open request this one may duplicate, while the secretariat has not decided.
    async fn duplicate_of(&self, cpts: CptsId, request: Uuid) -> Result<Option<Uuid>>;
    /// Requests waiting for a decision, oldest first (one query, whatever the page's size).
    async fn list_possible_duplicates(
        &self,
        cpts: CptsId,
        page: Page,
    ) -> Result<Vec<DoctorRequest>>;
    /// The request stays a request of its own: the flag goes. False when it was not flagged.
    async fn keep_apart(&self, cpts: CptsId, request: Uuid, audit: &NewAuditEntry) -> Result<bool>;
    /// Merges a flagged request into the open one it duplicates: `into` gets `criteria`, `priority`, one more
    /// submission and `event`; the duplicate (its history, its patient record) goes. False when it was not
    /// flagged as a duplicate of `into` (decided meanwhile).
    #[allow(clippy::too_many_arguments)]
    async fn merge_duplicate(
        &self,
        cpts: CptsId,
        duplicate: Uuid,
        into: Uuid,
        criteria: &Criteria,
        priority: (i64, &str),
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

#[async_trait]
impl DuplicateReviewStore for SqlStore {
    async fn duplicate_of(&self, cpts: CptsId, request: Uuid) -> Result<Option<Uuid>> {
        let sql = "SELECT duplicate_of FROM doctor_request_duplicates WHERE cpts_id = $1 AND request_id = $2";
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .bind(request)
            .fetch_optional(pool)
            .await)?)
    }

    async fn list_possible_duplicates(
        &self,
        cpts: CptsId,
        page: Page,
    ) -> Result<Vec<DoctorRequest>> {
        // A flag is written with its request, at the request's arrival: the order is the arrival's.
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM doctor_requests WHERE cpts_id = $1 AND id IN \
             (SELECT request_id FROM doctor_request_duplicates WHERE cpts_id = $1) \
             ORDER BY received_at, id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<RequestRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        requests(rows)
    }

    async fn keep_apart(&self, cpts: CptsId, request: Uuid, audit: &NewAuditEntry) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "DELETE FROM doctor_request_duplicates WHERE cpts_id = $1 AND request_id = $2",
            )
            .bind(cpts.0)
            .bind(request)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            commit_audited!(self, tx, done == 1, audit)
        })
    }

    async fn merge_duplicate(
        &self,
        cpts: CptsId,
        duplicate: Uuid,
        into: Uuid,
        criteria: &Criteria,
        priority: (i64, &str),
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let c = criteria;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let patient: Option<Option<Uuid>> = sqlx::query_scalar(
                "SELECT r.patient_id FROM doctor_requests r JOIN doctor_request_duplicates d \
                 ON d.request_id = r.id AND d.cpts_id = r.cpts_id \
                 WHERE r.cpts_id = $1 AND r.id = $2 AND d.duplicate_of = $3",
            )
            .bind(cpts.0)
            .bind(duplicate)
            .bind(into)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(patient) = patient else {
                return Ok(false);
            };
            // Its history and flag go with it (ON DELETE CASCADE), then its own copy of the identity.
            sqlx::query("DELETE FROM doctor_requests WHERE cpts_id = $1 AND id = $2")
                .bind(cpts.0)
                .bind(duplicate)
                .execute(&mut *tx)
                .await?;
            if let Some(patient) = patient {
                sqlx::query("DELETE FROM patients WHERE cpts_id = $1 AND id = $2")
                    .bind(cpts.0)
                    .bind(patient)
                    .execute(&mut *tx)
                    .await?;
            }
            let merged = bind_criteria!(sqlx::query(MERGE_INTO_REQUEST)
                .bind(cpts.0)
                .bind(into), c)
                .bind(priority.0)
                .bind(priority.1)
                .bind(event.at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if merged != 1 {
                return Ok(false);
            }
            insert_event!(&mut *tx, cpts, into, event)?;
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

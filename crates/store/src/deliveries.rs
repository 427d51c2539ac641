//! Deliveries: what became of each message sent on behalf of a CPTS. A delivery is written in the same
//! transaction as the job that sends it (or alone, "no address", when there is nobody to write to); while the
//! job exists its state is read from it, and the hourly purge of finished jobs settles it first.

use crate::audit::AuditTx;
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;
use maillage_domain::delivery::{Channel, Purpose, Stored};
use sqlx::FromRow;
use uuid::Uuid;

/// A message to record: what it is about, why, by which channel. `job` is the sending job (None: no address).
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub cpts_id: CptsId,
    pub purpose: Purpose,
    /// The proposal, booking, request or invitation the message is about.
    pub subject_id: Uuid,
    pub channel: Channel,
}

/// A delivery with its job's state when the job still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: Uuid,
    pub cpts_id: CptsId,
    pub purpose: Purpose,
    pub subject_id: Uuid,
    pub channel: Channel,
    pub state: Stored,
    pub job_status: Option<String>,
    pub job_error: Option<String>,
    pub created_at: i64,
    pub handled_at: Option<i64>,
}

impl Delivery {
    pub fn shown(&self) -> maillage_domain::delivery::Shown {
        maillage_domain::delivery::shown(
            self.state,
            self.job_status.as_deref(),
            self.job_error.as_deref(),
        )
    }
}

#[derive(FromRow)]
struct DeliveryRow {
    id: Uuid,
    cpts_id: Uuid,
    #[sqlx(try_from = "String")]
    purpose: Purpose,
    subject_id: Uuid,
    #[sqlx(try_from = "String")]
    channel: Channel,
    #[sqlx(try_from = "String")]
    state: Stored,
    job_status: Option<String>,
    job_error: Option<String>,
    created_at: i64,
    handled_at: Option<i64>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Delivery {
            id: row.id,
            cpts_id: CptsId(row.cpts_id),
            purpose: row.purpose,
            subject_id: row.subject_id,
            channel: row.channel,
            state: row.state,
            job_status: row.job_status,
            job_error: row.job_error,
            created_at: row.created_at,
            handled_at: row.handled_at,
        }
    }
}

const SELECT: &str = "SELECT d.id, d.cpts_id, d.purpose, d.subject_id, d.channel, d.state, \
    j.status AS job_status, COALESCE(j.last_error, NULLIF(d.detail, '')) AS job_error, d.created_at, d.handled_at \
    FROM deliveries d LEFT JOIN jobs j ON j.id = d.job_id";

/// Still to be acted on: nobody could be written to, or the sending was given up, and nobody called yet.
const TO_CALL: &str = "d.handled_at IS NULL AND (d.state IN ('no_address', 'failed') \
    OR (d.state = 'queued' AND j.status = 'failed'))";

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Records a message and queues its job in one transaction (`job` None: no address, nothing queued).
    async fn queue_delivery(
        &self,
        delivery: &NewDelivery,
        job: Option<&NewJob>,
        now: i64,
    ) -> Result<Uuid>;
    /// The deliveries of these subjects for one purpose, oldest first.
    async fn deliveries_of(
        &self,
        cpts: CptsId,
        purpose: Purpose,
        subjects: &[Uuid],
    ) -> Result<Vec<Delivery>>;
    /// One delivery of the CPTS.
    async fn find_delivery(&self, cpts: CptsId, id: Uuid) -> Result<Option<Delivery>>;
    /// The messages someone must phone about (no address, or given up), newest first.
    async fn deliveries_to_call(&self, cpts: CptsId, page: Page) -> Result<Vec<Delivery>>;
    /// Someone called: the delivery is handled, with its audit entry. False when it is not the CPTS's.
    async fn mark_delivery_phoned(
        &self,
        cpts: CptsId,
        id: Uuid,
        by: Option<UserId>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn queue_delivery(
        &self,
        delivery: &NewDelivery,
        job: Option<&NewJob>,
        now: i64,
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        let job_id = job.map(|_| JobId::new());
        let state = if job.is_some() {
            Stored::Queued
        } else {
            Stored::NoAddress
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let (Some(job), Some(job_id)) = (job, job_id) {
                sqlx::query(crate::sql::INSERT_JOB)
                .bind(job_id.0)
                .bind(job.cpts_id.map(|c| c.0))
                .bind(&job.kind)
                .bind(&job.payload)
                .bind(job.max_attempts.max(1))
                .bind(job.run_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO deliveries (id, cpts_id, subject_kind, subject_id, purpose, channel, job_id, state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(delivery.cpts_id.0)
            .bind(delivery.purpose.code())
            .bind(delivery.subject_id)
            .bind(delivery.purpose.code())
            .bind(delivery.channel.code())
            .bind(job_id.map(|j| j.0))
            .bind(state.code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(id)
    }

    async fn deliveries_of(
        &self,
        cpts: CptsId,
        purpose: Purpose,
        subjects: &[Uuid],
    ) -> Result<Vec<Delivery>> {
        let mut found = Vec::new();
        // Bounded lists (a page's records): a few statements at most.
        for chunk in subjects.chunks(200) {
            let placeholders = (0..chunk.len())
                .map(|i| format!("${}", i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "{SELECT} WHERE d.cpts_id = $1 AND d.purpose = $2 AND d.subject_id IN ({placeholders}) \
                 ORDER BY d.created_at, d.id"
            );
            let rows: Vec<DeliveryRow> = on_pool!(self, pool => {
                let mut query = sqlx::query_as(&sql).bind(cpts.0).bind(purpose.code());
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })?;
            found.extend(rows.into_iter().map(Delivery::from));
        }
        Ok(found)
    }

    async fn find_delivery(&self, cpts: CptsId, id: Uuid) -> Result<Option<Delivery>> {
        let sql = format!("{SELECT} WHERE d.cpts_id = $1 AND d.id = $2");
        let row: Option<DeliveryRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Delivery::from))
    }

    async fn deliveries_to_call(&self, cpts: CptsId, page: Page) -> Result<Vec<Delivery>> {
        let sql = format!(
            "{SELECT} WHERE d.cpts_id = $1 AND {TO_CALL} ORDER BY d.created_at DESC, d.id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Delivery::from).collect())
    }

    async fn mark_delivery_phoned(
        &self,
        cpts: CptsId,
        id: Uuid,
        by: Option<UserId>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE deliveries SET state = 'phoned', handled_by = $3, handled_at = $4 \
                   WHERE cpts_id = $1 AND id = $2 AND handled_at IS NULL";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(cpts.0)
                .bind(id)
                .bind(by.map(|u| u.0))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if done {
                tx.append_audit(&self.audit_keys, audit).await?;
                tx.commit().await?;
            }
            done
        });
        Ok(done)
    }
}

/// Before finished jobs are removed: their deliveries keep what became of them (sent, or failed and why).
pub(crate) const SETTLE_BEFORE_PURGE: &str = "UPDATE deliveries SET \
    state = CASE (SELECT j.status FROM jobs j WHERE j.id = deliveries.job_id) WHEN 'done' THEN 'sent' ELSE 'failed' END, \
    detail = COALESCE((SELECT j.last_error FROM jobs j WHERE j.id = deliveries.job_id), '') \
    WHERE state = 'queued' AND job_id IN \
    (SELECT id FROM jobs WHERE status IN ('done', 'failed') AND finished_at < $1)";

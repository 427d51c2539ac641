//! What the platform sent, kept no longer than it must: outbox messages reduced to their metadata, finished
//! jobs removed (the hourly upkeep of `maillage_app::jobs::Retention`).

use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Empties the recipient and body of the messages created before `before` (keeps subject and date).
    async fn reduce_outbox(&self, before: i64, now: i64) -> Result<u64>;
    /// Removes the jobs finished (done or given up) before `before`.
    async fn purge_finished_jobs(&self, before: i64) -> Result<u64>;
}

#[async_trait]
impl RetentionStore for SqlStore {
    async fn reduce_outbox(&self, before: i64, now: i64) -> Result<u64> {
        let sql = "UPDATE outbox SET recipient = '', body = '', reduced_at = $2 \
                   WHERE created_at < $1 AND reduced_at IS NULL";
        Ok(on_pool!(self, pool => sqlx::query(sql)
            .bind(before)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?)
    }

    async fn purge_finished_jobs(&self, before: i64) -> Result<u64> {
        let sql = "DELETE FROM jobs WHERE status IN ('done', 'failed') AND finished_at < $1";
        // The deliveries of these jobs keep their outcome, in the same transaction.
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(crate::deliveries::SETTLE_BEFORE_PURGE)
                .bind(before)
                .execute(&mut *tx)
                .await?;
            let removed = sqlx::query(sql).bind(before).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            removed
        }))
    }
}

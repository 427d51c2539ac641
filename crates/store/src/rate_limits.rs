//! Counters of the rate limiter (`maillage_app::rate_limit`): one fixed window per key, counted by one atomic
//! upsert so that several `maillage serve` processes sharing a database count together.

use crate::sql::{on_pool, SqlStore};
use crate::Result;
use async_trait::async_trait;

/// Where a key stands after one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCount {
    /// Hits in the current window, this one included.
    pub hits: i64,
    pub window_start: i64,
}

#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one hit of `key_hash` at `now`; a window older than `window_ms` restarts at `now`.
    async fn hit_rate_limit(&self, key_hash: &str, now: i64, window_ms: i64) -> Result<RateCount>;
    /// Removes the counters whose window started before `before`. Returns how many.
    async fn purge_rate_limits(&self, before: i64) -> Result<u64>;
}

#[async_trait]
impl RateLimitStore for SqlStore {
    async fn hit_rate_limit(&self, key_hash: &str, now: i64, window_ms: i64) -> Result<RateCount> {
        // Both engines evaluate every SET expression on the row as it was: the window test is the same in both.
        let sql = "INSERT INTO rate_limits (key_hash, window_start, hits) VALUES ($1, $2, 1) \
            ON CONFLICT (key_hash) DO UPDATE SET \
            hits = CASE WHEN rate_limits.window_start + $3 <= $2 THEN 1 ELSE rate_limits.hits + 1 END, \
            window_start = CASE WHEN rate_limits.window_start + $3 <= $2 THEN $2 ELSE rate_limits.window_start END \
            RETURNING hits, window_start";
        let (hits, window_start): (i64, i64) = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(key_hash)
            .bind(now)
            .bind(window_ms)
            .fetch_one(pool)
            .await)?;
        Ok(RateCount { hits, window_start })
    }

    async fn purge_rate_limits(&self, before: i64) -> Result<u64> {
        let purged = on_pool!(self, pool => sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(purged)
    }
}

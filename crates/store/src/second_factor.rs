//! Storage of the second factor's recovery codes and of the browsers known to an account.

use crate::models::UserId;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;

#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    /// Replaces every recovery code of the account by these (hashes); an empty list removes them all.
    async fn replace_recovery_codes(&self, user: UserId, hashes: &[String], now: i64)
        -> Result<()>;
    /// Spends one unused recovery code; false when it is unknown or already used.
    async fn use_recovery_code(&self, user: UserId, hash: &str, now: i64) -> Result<bool>;
    /// How many unused recovery codes the account has left.
    async fn recovery_codes_left(&self, user: UserId) -> Result<i64>;
    /// Records a browser that completed a login for the account.
    async fn remember_device(&self, token_hash: &str, user: UserId, now: i64) -> Result<()>;
    /// True when this browser completed a login for this account after `since`; refreshes its last use.
    async fn is_known_device(
        &self,
        token_hash: &str,
        user: UserId,
        since: i64,
        now: i64,
    ) -> Result<bool>;
}

#[async_trait]
impl SecondFactorStore for SqlStore {
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        hashes: &[String],
        now: i64,
    ) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
            for hash in hashes {
                sqlx::query(
                    "INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) VALUES ($1, $2, $3, NULL)",
                )
                .bind(user.0)
                .bind(hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn use_recovery_code(&self, user: UserId, hash: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE recovery_codes SET used_at = $3 \
                   WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(user.0)
            .bind(hash)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";
        let (left,): (i64,) = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(user.0)
            .fetch_one(pool)
            .await)?;
        Ok(left)
    }

    async fn remember_device(&self, token_hash: &str, user: UserId, now: i64) -> Result<()> {
        let sql = "INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) \
                   VALUES ($1, $2, $3, $3) \
                   ON CONFLICT (token_hash) DO UPDATE SET last_used_at = $3 \
                   WHERE known_devices.user_id = $2";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(token_hash)
            .bind(user.0)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn is_known_device(
        &self,
        token_hash: &str,
        user: UserId,
        since: i64,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE known_devices SET last_used_at = $4 \
                   WHERE token_hash = $1 AND user_id = $2 AND last_used_at > $3";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(token_hash)
            .bind(user.0)
            .bind(since)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }
}

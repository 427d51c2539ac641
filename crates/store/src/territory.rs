//! Which communes make up each CPTS's territory.

use crate::models::CptsId;
use crate::sql::BeginWrite;
use crate::sql::{on_pool, SqlStore};
use crate::Result;
use async_trait::async_trait;

#[async_trait]
pub trait TerritoryStore: Send + Sync {
    /// INSEE codes of the CPTS's communes, in code order.
    async fn territory(&self, cpts: CptsId) -> Result<Vec<String>>;
    /// Adds communes (already checked against the reference table); codes already there are kept once.
    async fn add_to_territory(&self, cpts: CptsId, codes: &[String], now: i64) -> Result<()>;
    async fn remove_from_territory(&self, cpts: CptsId, code: &str) -> Result<bool>;
}

#[async_trait]
impl TerritoryStore for SqlStore {
    async fn territory(&self, cpts: CptsId) -> Result<Vec<String>> {
        let sql = "SELECT insee_code FROM cpts_communes WHERE cpts_id = $1 ORDER BY insee_code";
        let codes: Vec<String> =
            on_pool!(self, pool => sqlx::query_scalar(sql).bind(cpts.0).fetch_all(pool).await)?;
        Ok(codes)
    }

    async fn add_to_territory(&self, cpts: CptsId, codes: &[String], now: i64) -> Result<()> {
        let sql = "INSERT INTO cpts_communes (cpts_id, insee_code, added_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (cpts_id, insee_code) DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for code in codes {
                sqlx::query(sql).bind(cpts.0).bind(code).bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    async fn remove_from_territory(&self, cpts: CptsId, code: &str) -> Result<bool> {
        let sql = "DELETE FROM cpts_communes WHERE cpts_id = $1 AND insee_code = $2";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(code)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }
}

//! What only PostgreSQL does: its pool and migrations. Backups use `pg_dump` (see docs/operations.md).

use crate::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub(crate) async fn connect(url: &str) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::InvalidUrl(format!("PostgreSQL URL: {e}")))?
        .application_name("maillage");
    Ok(PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?)
}

pub(crate) async fn migrate(pool: &PgPool) -> Result<()> {
    sqlx::migrate!("./migrations/postgres").run(pool).await?;
    Ok(())
}

//! What only SQLite does: opening the file (WAL, foreign keys), its migrations, `VACUUM INTO` backups.

use crate::{Result, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub(crate) async fn connect(url: &str) -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::InvalidUrl(format!("SQLite URL: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let file = options.get_filename();
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::InvalidUrl(format!(
                "cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    Ok(SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?)
}

pub(crate) async fn migrate(pool: &SqlitePool) -> Result<()> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await?;
    Ok(())
}

pub(crate) async fn backup(pool: &SqlitePool, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(StoreError::Conflict(format!(
            "{} exists already; choose a new file name",
            path.display()
        )));
    }
    let target = path
        .to_str()
        .ok_or_else(|| StoreError::InvalidUrl("backup path is not valid UTF-8".into()))?;
    // VACUUM INTO writes a transactionally consistent copy while other connections keep working.
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await?;
    Ok(())
}

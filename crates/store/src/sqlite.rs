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
    if file != Path::new(":memory:") && !file.as_os_str().is_empty() && !file.exists() {
        // Created readable by its owner only: SQLite gives its WAL and shared-memory files the same mode.
        create_private(file)?;
    }
    Ok(SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?)
}

/// Creates an empty file that only its owner may read or write (0600), failing if it exists.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StoreError::Conflict(
            format!("{} exists already; choose a new file name", path.display()),
        )),
        Err(e) => Err(StoreError::InvalidUrl(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

pub(crate) async fn migrate(pool: &SqlitePool) -> Result<()> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await?;
    Ok(())
}

pub(crate) async fn backup(pool: &SqlitePool, path: &Path) -> Result<()> {
    // An empty file of its owner's only: VACUUM INTO fills it (it accepts an empty target).
    create_private(path)?;
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

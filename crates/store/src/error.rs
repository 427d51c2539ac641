use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint refused the write (an e-mail or a slug already taken…).
    #[error("already exists: {0}")]
    Conflict(String),
    /// A referenced record does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A per-person limit refused the write (live holds of slots…).
    #[error("limit reached: {0}")]
    LimitReached(&'static str),
    #[error("not supported on this database: {0}")]
    Unsupported(&'static str),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.constraint().unwrap_or("unique").to_string());
            }
            if db.is_foreign_key_violation() {
                return StoreError::NotFound("referenced record");
            }
        }
        StoreError::Database(error)
    }
}

/// A coded column's value ([`maillage_domain::codes::Coded`]): the same text on both engines. An unknown code
/// is a corrupt row — the migrations' `CHECK` constraints keep them out.
pub fn decode<T: maillage_domain::codes::Coded>(column: &str, code: &str) -> Result<T, StoreError> {
    T::parse(code).ok_or_else(|| StoreError::Corrupt(format!("{column}: unknown code {code:?}")))
}

//! The rate limiter of actions that must not be repeated at will — a public form sent from one address, a
//! second-factor code tried on one account, a reset link asked for one e-mail — apart from the login
//! counter (`accounts`, which also locks accounts). Counts live in the database (several `serve` processes
//! count together); keys are stored hashed (they may hold an address or an e-mail).

use crate::clock::HOUR_MS;
use maillage_store::{Store, StoreError};
use sha2::{Digest, Sha256};

/// One limit: at most `max` hits per `window_ms` for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Names the limited action in the stored key (two limits never share a counter).
    pub name: &'static str,
    pub max: i64,
    pub window_ms: i64,
}

/// Requests for a médecin traitant sent through the public form from one address.
pub const PUBLIC_DOCTOR_REQUEST: Limit = Limit {
    name: "public-doctor-request",
    max: 5,
    window_ms: HOUR_MS,
};

/// Reset e-mails sent to one account (whoever asks for them, from wherever).
pub const RESET_EMAILS_PER_ACCOUNT: Limit = Limit {
    name: "reset-email-per-account",
    max: 3,
    window_ms: HOUR_MS,
};

/// Counters whose window started longer ago than this are purged (the longest window, with margin).
pub const KEPT_FOR_MS: i64 = 2 * 24 * HOUR_MS;

/// A refused hit: how long until the window restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_seconds: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("trop de tentatives")]
    Refused(Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts one hit of `key` under `limit` at `now`; refused once the window holds more than `limit.max`.
pub async fn hit(
    store: &dyn Store,
    limit: Limit,
    key: &str,
    now: i64,
) -> Result<(), RateLimitError> {
    let key_hash = hex::encode(Sha256::digest(format!("{}\u{0}{key}", limit.name)));
    let count = store
        .hit_rate_limit(&key_hash, now, limit.window_ms)
        .await?;
    if count.hits > limit.max {
        let ends = count.window_start + limit.window_ms;
        return Err(RateLimitError::Refused(Refused {
            retry_after_seconds: ((ends - now).max(0) + 999) / 1000,
        }));
    }
    Ok(())
}

/// Removes the counters of windows long past (the minute's upkeep).
pub async fn purge(store: &dyn Store, now: i64) -> Result<u64, StoreError> {
    store.purge_rate_limits(now - KEPT_FOR_MS).await
}

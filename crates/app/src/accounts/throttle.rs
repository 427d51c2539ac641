//! Slowing down, then locking, repeated failures: wrong passwords, wrong second-factor codes and wrong recovery
//! codes count alike (a correct password clears nothing until the second factor is passed too).
//!
//! Each attempt is counted in three counters, kept in the database so that every instance counts together:
//! - the **account from this address** (the pair): slowed after 3 failures, locked at `security.login_lock_after`;
//! - the **account** from anywhere: the same, except for a browser that already completed a login for this account
//!   (a *known device*), so that failures from elsewhere never keep the account's own devices out;
//! - the **address** for every account: slowed and locked five times later (several people share an address).
//!
//! Keys name an e-mail or an IP address: only their SHA-256 is stored.

use super::{AccountError, Accounts};
use crate::clock::{MINUTE_MS, SECOND_MS};
use sha2::{Digest, Sha256};

/// Failures within this window count together.
pub(super) const THROTTLE_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// After this many failures, each attempt waits 1 s, 2 s, 4 s… after the previous failure.
pub(super) const FREE_FAILURES: i64 = 3;
pub(super) const MAX_DELAY_SECS: i64 = 60;
/// An address is slowed and locked after this many times the per-account limits.
pub(super) const ADDRESS_FACTOR: i64 = 5;
/// Wrong recovery codes lock their own counter after this many, whatever the address.
pub(super) const RECOVERY_LOCK_AFTER: i64 = 5;

/// Seconds still to wait before another attempt, given the failures counted so far.
pub fn progressive_delay_secs(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exponent = u32::try_from((failures - FREE_FAILURES).min(10)).unwrap_or(10);
    (1_i64 << exponent).min(MAX_DELAY_SECS)
}

fn hashed(kind: &str, value: &str) -> String {
    format!("{kind}:{}", hex::encode(Sha256::digest(value.as_bytes())))
}

fn normalised_email(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

/// The account's counter (every address).
pub(super) fn account_key(email: &str) -> String {
    hashed("compte", &normalised_email(email))
}

/// The address's counter (every account).
pub(super) fn address_key(ip: &str) -> String {
    hashed("adresse", ip)
}

/// The counter of one kind of request from one address (password reset requests…).
pub(super) fn request_key(kind: &str, ip: &str) -> String {
    hashed(kind, ip)
}

/// The counters one attempt to sign in to an account is checked against and counted in.
pub(super) struct AttemptKeys {
    account: String,
    pair: String,
    address: String,
    /// The browser completed a login for this account: the account-wide counter does not apply.
    known_device: bool,
}

impl AttemptKeys {
    pub(super) fn new(email: &str, ip: &str, known_device: bool) -> Self {
        let email = normalised_email(email);
        Self {
            account: hashed("compte", &email),
            pair: hashed("compte-adresse", &format!("{email}\u{0}{ip}")),
            address: address_key(ip),
            known_device,
        }
    }
}

fn throttled(wait_ms: i64) -> AccountError {
    AccountError::Throttled {
        retry_after_secs: (wait_ms + SECOND_MS - 1) / SECOND_MS,
    }
}

impl Accounts {
    /// Refuses while `key` is locked or inside its progressive delay; `free` failures pass without delay.
    pub(super) async fn check_throttle(
        &self,
        key: &str,
        free: i64,
        now: i64,
    ) -> Result<(), AccountError> {
        if let Some(state) = self.store.login_throttle(key).await? {
            if state.locked_until > now {
                return Err(throttled(state.locked_until - now));
            }
            let fresh = state.last_failure_at > now - THROTTLE_WINDOW_MS;
            let beyond_free = state.failures - (free - FREE_FAILURES);
            let ready_at = state.last_failure_at + progressive_delay_secs(beyond_free) * SECOND_MS;
            if fresh && ready_at > now {
                return Err(throttled(ready_at - now));
            }
        }
        Ok(())
    }

    /// Refuses while any counter of the attempt is locked or in its delay.
    pub(super) async fn check_attempt(
        &self,
        keys: &AttemptKeys,
        now: i64,
    ) -> Result<(), AccountError> {
        self.check_throttle(&keys.pair, FREE_FAILURES, now).await?;
        if !keys.known_device {
            self.check_throttle(&keys.account, FREE_FAILURES, now)
                .await?;
        }
        self.check_throttle(&keys.address, FREE_FAILURES * ADDRESS_FACTOR, now)
            .await
    }

    /// Counts one failure in `key`, locking it for the configured time at `lock_after`; true when it locked.
    pub(super) async fn count_in(
        &self,
        key: &str,
        lock_after: i64,
        now: i64,
    ) -> Result<bool, AccountError> {
        let state = self
            .store
            .record_login_failure(key, now, THROTTLE_WINDOW_MS)
            .await?;
        if state.failures >= lock_after {
            let lock_ms = self.security.login_lock_minutes.saturating_mul(MINUTE_MS);
            self.store.lock_login(key, now + lock_ms).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Counts a failed attempt everywhere; the error to answer: locked (for this attempt) or `otherwise`.
    pub(super) async fn count_failure(
        &self,
        keys: &AttemptKeys,
        now: i64,
        otherwise: AccountError,
    ) -> Result<AccountError, AccountError> {
        let lock_after = self.security.login_lock_after;
        let pair = self.count_in(&keys.pair, lock_after, now).await?;
        let account = self.count_in(&keys.account, lock_after, now).await?;
        self.count_in(&keys.address, lock_after * ADDRESS_FACTOR, now)
            .await?;
        if pair || (account && !keys.known_device) {
            return Ok(AccountError::Throttled {
                retry_after_secs: self.security.login_lock_minutes * 60,
            });
        }
        Ok(otherwise)
    }

    /// A login completed (password, and second factor when the account has one): its counters start afresh.
    pub(super) async fn clear_attempt(&self, keys: &AttemptKeys) -> Result<(), AccountError> {
        self.store.clear_login_throttle(&keys.pair).await?;
        self.store.clear_login_throttle(&keys.account).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_three_failures_and_are_capped() {
        assert_eq!(progressive_delay_secs(0), 0);
        assert_eq!(progressive_delay_secs(2), 0);
        assert_eq!(progressive_delay_secs(3), 1);
        assert_eq!(progressive_delay_secs(5), 4);
        assert_eq!(progressive_delay_secs(40), MAX_DELAY_SECS);
    }

    #[test]
    fn keys_name_no_address_in_clear() {
        let keys = AttemptKeys::new(" Anne@Exemple.fr ", "192.0.2.7", false);
        for key in [&keys.account, &keys.pair, &keys.address] {
            assert!(
                !key.contains("exemple") && !key.contains("192.0.2"),
                "{key}"
            );
        }
        assert_eq!(keys.account, account_key("anne@exemple.fr"));
        assert_ne!(
            AttemptKeys::new("a@b.fr", "192.0.2.7", false).pair,
            AttemptKeys::new("a@b.fr", "192.0.2.8", false).pair
        );
    }
}

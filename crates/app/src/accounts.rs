//! Accounts, passwords and server-side sessions.
//!
//! Passwords are hashed with argon2id (random salt per user). A session is a random token in an
//! `HttpOnly` cookie; the database keeps only its SHA-256, so a leaked database cannot be replayed as
//! sessions. Sessions live in the database so that every `maillage serve` instance shares them.

use crate::clock::{HOUR_MS, MINUTE_MS, SECOND_MS};
use crate::config::SecurityConfig;
use crate::crypto::{CryptoError, Keyring};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use maillage_domain::authz::Role;
use maillage_domain::identifiers::{required_text, Email};
use maillage_domain::{Sensitive, ValidationError};
use maillage_store::{CptsId, NewUser, SessionRecord, Store, StoreError, User, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The same message whether the e-mail is unknown, the password wrong or the account disabled.
    #[error("adresse e-mail ou mot de passe incorrect")]
    BadCredentials,
    #[error("un compte existe déjà avec cette adresse e-mail")]
    EmailTaken,
    #[error("password hashing failed")]
    Hashing,
    /// Too many failures from this account or address: wait before trying again.
    #[error("trop de tentatives : réessayez dans {}", wait_in_french(*retry_after_secs))]
    Throttled { retry_after_secs: i64 },
    #[error("code de vérification incorrect")]
    BadSecondFactor,
    #[error("la vérification a expiré : reconnectez-vous")]
    ChallengeExpired,
    #[error("ce lien n'est plus valable : demandez-en un nouveau")]
    InvalidResetLink,
    #[error("la double authentification n'est pas en cours d'activation")]
    NoPendingTotp,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(_) => AccountError::EmailTaken,
            other => AccountError::Store(other),
        }
    }
}

/// "3 secondes", "15 minutes".
pub fn wait_in_french(seconds: i64) -> String {
    let seconds = seconds.max(1);
    if seconds < 120 {
        format!("{seconds} seconde{}", if seconds > 1 { "s" } else { "" })
    } else {
        format!("{} minutes", (seconds + 59) / 60)
    }
}

pub fn check_password_strength(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "mot de passe",
            format!("{MIN_PASSWORD_CHARS} caractères au moins"),
        ));
    }
    if password.len() > 1024 {
        return Err(ValidationError::new(
            "mot de passe",
            "1024 caractères au plus",
        ));
    }
    Ok(())
}

/// How much work a password hash costs. The binary always uses [`PasswordCost::Standard`]; tests that sign in
/// hundreds of times use [`PasswordCost::Test`] through [`Accounts::with_test_password_cost`]. The parameters
/// are stored in each hash, so verification follows whatever the hash was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's recommendation).
    Standard,
    /// argon2id with the smallest parameters (8 KiB, 1 pass): for tests only.
    Test,
}

impl PasswordCost {
    fn hasher(self) -> Argon2<'static> {
        match self {
            PasswordCost::Standard => Argon2::default(),
            PasswordCost::Test => argon2::Params::new(8, 1, 1, None)
                .map(|params| {
                    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                })
                .unwrap_or_default(),
        }
    }
}

pub fn hash_password(password: &str) -> Result<String, AccountError> {
    hash_password_with(PasswordCost::Standard, password)
}

pub fn hash_password_with(cost: PasswordCost, password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    cost.hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| AccountError::Hashing)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret of 32 bytes, hex-encoded (session tokens, CSRF tokens, single-use links).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A session just opened: the token goes into the cookie and nowhere else.
pub struct OpenedSession {
    pub token: Sensitive<String>,
    pub record: SessionRecord,
    pub user: User,
}

/// The account behind a live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: SessionRecord,
}

/// What a new account needs; the password is hashed before it reaches the store.
pub struct AccountRequest<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub is_platform_admin: bool,
    pub role: Option<(CptsId, Role)>,
}

/// What a correct password leads to.
pub enum LoginOutcome {
    Opened(OpenedSession),
    /// The account uses a second factor: the token goes into a short-lived cookie for the code form.
    NeedsSecondFactor {
        challenge: Sensitive<String>,
        user: User,
    },
}

/// A TOTP secret waiting for its first code.
pub struct TotpEnrolment {
    pub secret_base32: String,
    pub uri: String,
}

/// Failures within this window count together.
const THROTTLE_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// After this many failures, each attempt waits 1 s, 2 s, 4 s… after the previous failure.
const FREE_FAILURES: i64 = 3;
const MAX_DELAY_SECS: i64 = 60;
/// An address is locked after this many times the per-account limit.
const ADDRESS_FACTOR: i64 = 5;
const SECOND_FACTOR_MINUTES: i64 = 5;
const SECOND_FACTOR_ATTEMPTS: i64 = 5;
/// Password reset requests from one address within the window.
const RESET_REQUESTS: i64 = 5;

fn account_key(email: &str) -> String {
    let normalised: String = email.trim().to_lowercase().chars().take(254).collect();
    format!("compte:{normalised}")
}

fn address_key(ip: &str) -> String {
    format!("adresse:{ip}")
}

/// Seconds still to wait before another attempt, given the failures counted so far.
pub fn progressive_delay_secs(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exponent = u32::try_from((failures - FREE_FAILURES).min(10)).unwrap_or(10);
    (1_i64 << exponent).min(MAX_DELAY_SECS)
}

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    security: SecurityConfig,
    keyring: Arc<Keyring>,
    /// Hash checked when the e-mail is unknown, so that both cases take the same time.
    decoy_hash: Arc<str>,
    password_cost: PasswordCost,
}

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        security: SecurityConfig,
        keyring: Arc<Keyring>,
    ) -> Result<Self, AccountError> {
        let decoy_hash = hash_password(&random_token())?.into();
        Ok(Self {
            store,
            security,
            keyring,
            decoy_hash,
            password_cost: PasswordCost::Standard,
        })
    }

    /// The same accounts hashing new passwords at [`PasswordCost::Test`]: for test harnesses only, where the
    /// standard cost (tens of milliseconds a hash) dominates the run.
    pub fn with_test_password_cost(mut self) -> Result<Self, AccountError> {
        self.password_cost = PasswordCost::Test;
        self.decoy_hash = hash_password_with(PasswordCost::Test, &random_token())?.into();
        Ok(self)
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// Refuses early while a key is locked or inside its progressive delay; `free` failures pass without delay.
    async fn check_throttle(&self, key: &str, free: i64, now: i64) -> Result<(), AccountError> {
        if let Some(state) = self.store.login_throttle(key).await? {
            let locked_for = state.locked_until - now;
            if locked_for > 0 {
                return Err(AccountError::Throttled {
                    retry_after_secs: (locked_for + SECOND_MS - 1) / SECOND_MS,
                });
            }
            let fresh = state.last_failure_at > now - THROTTLE_WINDOW_MS;
            let beyond_free = state.failures - (free - FREE_FAILURES);
            let ready_at = state.last_failure_at + progressive_delay_secs(beyond_free) * SECOND_MS;
            if fresh && ready_at > now {
                return Err(AccountError::Throttled {
                    retry_after_secs: (ready_at - now + SECOND_MS - 1) / SECOND_MS,
                });
            }
        }
        Ok(())
    }

    /// Counts a failure; returns true when it locked the account.
    async fn count_failure(&self, email: &str, ip: &str, now: i64) -> Result<bool, AccountError> {
        let lock_ms = self.security.login_lock_minutes.saturating_mul(MINUTE_MS);
        let account = self
            .store
            .record_login_failure(&account_key(email), now, THROTTLE_WINDOW_MS)
            .await?;
        let address = self
            .store
            .record_login_failure(&address_key(ip), now, THROTTLE_WINDOW_MS)
            .await?;
        if address.failures >= self.security.login_lock_after * ADDRESS_FACTOR {
            self.store
                .lock_login(&address_key(ip), now + lock_ms)
                .await?;
        }
        if account.failures >= self.security.login_lock_after {
            self.store
                .lock_login(&account_key(email), now + lock_ms)
                .await?;
            return Ok(true);
        }
        Ok(false)
    }

    fn idle_ms(&self) -> i64 {
        self.security.session_idle_minutes.saturating_mul(MINUTE_MS)
    }

    pub async fn create(
        &self,
        request: AccountRequest<'_>,
        now: i64,
    ) -> Result<User, AccountError> {
        let email = Email::parse(request.email)?;
        let display_name = required_text("nom affiché", request.display_name, 120)?;
        check_password_strength(request.password)?;
        let password = request.password.to_string();
        let cost = self.password_cost;
        let password_hash =
            tokio::task::spawn_blocking(move || hash_password_with(cost, &password))
                .await
                .map_err(|_| AccountError::Hashing)??;
        let new = NewUser {
            email: email.as_str().to_string(),
            display_name,
            password_hash,
            is_platform_admin: request.is_platform_admin,
        };
        Ok(self.store.create_user(&new, request.role, now).await?)
    }

    /// Checks the password. Every wrong answer is the same [`AccountError::BadCredentials`], whether the
    /// account exists or not; repeated failures slow down, then lock, the account and the address.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: &str,
        now: i64,
    ) -> Result<LoginOutcome, AccountError> {
        self.check_throttle(&account_key(email), FREE_FAILURES, now)
            .await?;
        // Several people may share one address (an office, a hospital): it slows down much later.
        self.check_throttle(&address_key(ip), FREE_FAILURES * ADDRESS_FACTOR, now)
            .await?;
        let user = match Email::parse(email) {
            Ok(email) => self.store.find_user_by_email(email.as_str()).await?,
            Err(_) => None,
        };
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| self.decoy_hash.to_string());
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|_| AccountError::Hashing)?;
        let user = match user {
            Some(user) if matches && !user.disabled => user,
            _ => {
                if self.count_failure(email, ip, now).await? {
                    return Err(AccountError::Throttled {
                        retry_after_secs: self.security.login_lock_minutes * 60,
                    });
                }
                return Err(AccountError::BadCredentials);
            }
        };
        self.store.clear_login_throttle(&account_key(email)).await?;
        if user.totp_enabled {
            let challenge = random_token();
            self.store
                .create_login_challenge(
                    &token_hash(&challenge),
                    user.id,
                    now + SECOND_FACTOR_MINUTES * MINUTE_MS,
                )
                .await?;
            return Ok(LoginOutcome::NeedsSecondFactor {
                challenge: Sensitive::new(challenge),
                user,
            });
        }
        Ok(LoginOutcome::Opened(self.open_session(user, now).await?))
    }

    async fn open_session(&self, user: User, now: i64) -> Result<OpenedSession, AccountError> {
        let token = random_token();
        let record = SessionRecord {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: random_token(),
            created_at: now,
            last_seen_at: now,
            expires_at: now
                .saturating_add(self.security.session_absolute_hours.saturating_mul(HOUR_MS)),
        };
        self.store.create_session(&record).await?;
        Ok(OpenedSession {
            token: Sensitive::new(token),
            record,
            user,
        })
    }

    fn totp_context(user: UserId) -> Vec<u8> {
        format!("totp:{user}").into_bytes()
    }

    fn totp_secret(&self, user: &User) -> Result<Option<Vec<u8>>, AccountError> {
        user.totp_secret
            .as_deref()
            .map(|sealed| self.keyring.open(sealed, &Self::totp_context(user.id)))
            .transpose()
            .map_err(Into::into)
    }

    /// Checks `code` against the account's secret and burns its time step (no replay).
    /// Returns the accepted step, or `None` for a wrong or already used code.
    async fn check_code(
        &self,
        user: &User,
        code: &str,
        now: i64,
    ) -> Result<Option<i64>, AccountError> {
        let Some(secret) = self.totp_secret(user)? else {
            return Ok(None);
        };
        match maillage_domain::totp::verify(&secret, code, now / SECOND_MS) {
            Some(step) if self.store.use_totp_step(user.id, step).await? => Ok(Some(step)),
            _ => Ok(None),
        }
    }

    /// Second step of a login with TOTP: the code from the authenticator app.
    pub async fn complete_second_factor(
        &self,
        challenge: &str,
        code: &str,
        now: i64,
    ) -> Result<OpenedSession, AccountError> {
        let hash = token_hash(challenge);
        let Some((user_id, attempts)) = self.store.attempt_login_challenge(&hash, now).await?
        else {
            return Err(AccountError::ChallengeExpired);
        };
        if attempts > SECOND_FACTOR_ATTEMPTS {
            self.store.delete_login_challenge(&hash).await?;
            return Err(AccountError::ChallengeExpired);
        }
        let user = self
            .store
            .find_user(user_id)
            .await?
            .filter(|u| !u.disabled && u.totp_enabled)
            .ok_or(AccountError::ChallengeExpired)?;
        if self.check_code(&user, code, now).await?.is_none() {
            return Err(AccountError::BadSecondFactor);
        }
        self.store.delete_login_challenge(&hash).await?;
        self.open_session(user, now).await
    }

    /// Starts (or restarts) enrolment: a new secret, stored encrypted, not yet required at login.
    pub async fn begin_totp(&self, user: &User) -> Result<TotpEnrolment, AccountError> {
        let mut secret = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let sealed = self.keyring.seal(&secret, &Self::totp_context(user.id))?;
        self.store.set_totp(user.id, Some(&sealed), false).await?;
        Ok(Self::enrolment(&secret, &user.email))
    }

    fn enrolment(secret: &[u8], email: &str) -> TotpEnrolment {
        TotpEnrolment {
            secret_base32: maillage_domain::totp::base32(secret),
            uri: maillage_domain::totp::provisioning_uri(secret, email, "Maillage"),
        }
    }

    /// The enrolment in progress, if any (to show the QR code again).
    pub fn pending_totp(&self, user: &User) -> Result<Option<TotpEnrolment>, AccountError> {
        if user.totp_enabled {
            return Ok(None);
        }
        Ok(self
            .totp_secret(user)?
            .map(|secret| Self::enrolment(&secret, &user.email)))
    }

    /// Turns the second factor on once the person proves their app shows the right code.
    pub async fn confirm_totp(
        &self,
        user: &User,
        code: &str,
        now: i64,
    ) -> Result<(), AccountError> {
        if user.totp_enabled || user.totp_secret.is_none() {
            return Err(AccountError::NoPendingTotp);
        }
        let Some(step) = self.check_code(user, code, now).await? else {
            return Err(AccountError::BadSecondFactor);
        };
        self.store
            .set_totp(user.id, user.totp_secret.as_deref(), true)
            .await?;
        // set_totp starts the account's step history afresh: the code just used stays spent.
        self.store.use_totp_step(user.id, step).await?;
        Ok(())
    }

    /// Turns the second factor off, with a current code as proof.
    pub async fn disable_totp(
        &self,
        user: &User,
        code: &str,
        now: i64,
    ) -> Result<(), AccountError> {
        if !user.totp_enabled {
            return Err(AccountError::NoPendingTotp);
        }
        if self.check_code(user, code, now).await?.is_none() {
            return Err(AccountError::BadSecondFactor);
        }
        Ok(self.store.set_totp(user.id, None, false).await?)
    }

    /// Prepares a reset link for `email` if such an active account exists. The caller answers the same
    /// way in both cases (no account enumeration). Requests are limited per address.
    pub async fn request_password_reset(
        &self,
        email: &str,
        ip: &str,
        now: i64,
    ) -> Result<Option<(User, Sensitive<String>)>, AccountError> {
        let key = format!("reinitialisation:{ip}");
        self.check_throttle(&key, RESET_REQUESTS, now).await?;
        let requests = self
            .store
            .record_login_failure(&key, now, THROTTLE_WINDOW_MS)
            .await?;
        if requests.failures >= RESET_REQUESTS {
            self.store
                .lock_login(&key, now + THROTTLE_WINDOW_MS)
                .await?;
        }
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let Some(user) = self
            .store
            .find_user_by_email(email.as_str())
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(None);
        };
        let token = random_token();
        let expires = now + self.security.reset_link_minutes.saturating_mul(MINUTE_MS);
        self.store
            .create_password_reset(&token_hash(&token), user.id, now, expires)
            .await?;
        Ok(Some((user, Sensitive::new(token))))
    }

    pub async fn reset_link_is_valid(&self, token: &str, now: i64) -> Result<bool, AccountError> {
        Ok(self
            .store
            .peek_password_reset(&token_hash(token), now)
            .await?
            .is_some())
    }

    /// Sets a new password through a reset link: the link is used up, every session of the account ends,
    /// and the account's failure counter is cleared.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        now: i64,
    ) -> Result<User, AccountError> {
        check_password_strength(new_password)?;
        let user_id = self
            .store
            .consume_password_reset(&token_hash(token), now)
            .await?
            .ok_or(AccountError::InvalidResetLink)?;
        let password = new_password.to_string();
        let cost = self.password_cost;
        let hash = tokio::task::spawn_blocking(move || hash_password_with(cost, &password))
            .await
            .map_err(|_| AccountError::Hashing)??;
        self.store.set_password_hash(user_id, &hash).await?;
        self.store.delete_user_sessions(user_id).await?;
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(AccountError::InvalidResetLink)?;
        self.store
            .clear_login_throttle(&account_key(&user.email))
            .await?;
        Ok(user)
    }

    /// The signed-in account for a cookie token, if the session is still alive.
    pub async fn resume(&self, token: &str, now: i64) -> Result<Option<SignedIn>, AccountError> {
        let Some(session) = self
            .store
            .touch_session(&token_hash(token), now, self.idle_ms())
            .await?
        else {
            return Ok(None);
        };
        let user = self.store.find_user(session.user_id).await?;
        Ok(user.map(|user| SignedIn { user, session }))
    }

    pub async fn logout(&self, token: &str) -> Result<(), AccountError> {
        Ok(self.store.delete_session(&token_hash(token)).await?)
    }

    /// Ends every session of the account, on every device.
    pub async fn logout_everywhere(&self, user: UserId) -> Result<u64, AccountError> {
        Ok(self.store.delete_user_sessions(user).await?)
    }

    pub async fn purge_expired_sessions(&self, now: i64) -> Result<u64, AccountError> {
        Ok(self
            .store
            .purge_expired_sessions(now, self.idle_ms())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterie", &hash));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
    }

    #[test]
    fn short_passwords_are_refused_in_french() {
        let error = check_password_strength("court").unwrap_err();
        assert_eq!(error.field, "mot de passe");
        assert!(check_password_strength("assez-long-2026").is_ok());
    }

    #[test]
    fn delays_grow_after_three_failures_and_are_capped() {
        assert_eq!(progressive_delay_secs(0), 0);
        assert_eq!(progressive_delay_secs(2), 0);
        assert_eq!(progressive_delay_secs(3), 1);
        assert_eq!(progressive_delay_secs(5), 4);
        assert_eq!(progressive_delay_secs(40), MAX_DELAY_SECS);
        assert_eq!(wait_in_french(1), "1 seconde");
        assert_eq!(wait_in_french(900), "15 minutes");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}

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
use maillage_domain::identifiers::{person_name, Email};
use maillage_domain::{Sensitive, ValidationError};
use maillage_store::{CptsId, NewUser, SessionRecord, Store, StoreError, User, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use throttle::{account_key, request_key, AttemptKeys, THROTTLE_WINDOW_MS};

mod second_factor;
mod sessions;
pub mod throttle;

pub use second_factor::{RecoveryCodes, RECOVERY_CODES};
pub use throttle::progressive_delay_secs;

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
    /// The browser's device token, for its long-lived cookie (see [`throttle`]).
    pub device: Sensitive<String>,
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

/// Where a login attempt comes from: the client's address and the device cookie the browser sent, if any.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub ip: &'a str,
    pub device: Option<&'a str>,
}

/// A browser stays a known device of an account this long after its last completed login.
pub const KNOWN_DEVICE_DAYS: i64 = 180;
const SECOND_FACTOR_MINUTES: i64 = 5;
const SECOND_FACTOR_ATTEMPTS: i64 = 5;
/// Password reset requests from one address within the window.
const RESET_REQUESTS: i64 = 5;
/// The reset form answers no sooner than this, whether an e-mail was sent or not: its timing tells nothing.
pub const RESET_ANSWER_FLOOR_MS: u64 = 400;

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

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    security: SecurityConfig,
    keyring: Arc<Keyring>,
    /// Hash checked when the e-mail is unknown, so that both cases take the same time.
    decoy_hash: Arc<str>,
    password_cost: PasswordCost,
    /// Attempts of the reset e-mail's job.
    mail_attempts: i64,
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
            mail_attempts: crate::config::JobsConfig::default().max_attempts,
        })
    }

    /// The same accounts hashing new passwords at [`PasswordCost::Test`]: for test harnesses only, where the
    /// standard cost (tens of milliseconds a hash) dominates the run.
    pub fn with_test_password_cost(mut self) -> Result<Self, AccountError> {
        self.password_cost = PasswordCost::Test;
        self.decoy_hash = hash_password_with(PasswordCost::Test, &random_token())?.into();
        Ok(self)
    }

    /// A new password's hash, after the strength check, at this service's cost (invitations, resets).
    pub async fn hash_new_password(&self, password: &str) -> Result<String, AccountError> {
        check_password_strength(password)?;
        let password = password.to_string();
        let cost = self.password_cost;
        tokio::task::spawn_blocking(move || hash_password_with(cost, &password))
            .await
            .map_err(|_| AccountError::Hashing)?
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
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
        let display_name = person_name("nom affiché", request.display_name, 120)?;
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
    /// account exists or not; repeated failures slow down, then lock (see [`throttle`]). A correct password
    /// clears no counter while a second factor is still to be passed.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        attempt: &Attempt<'_>,
        now: i64,
    ) -> Result<LoginOutcome, AccountError> {
        let user = match Email::parse(email) {
            Ok(email) => self.store.find_user_by_email(email.as_str()).await?,
            Err(_) => None,
        };
        // The same queries whether the account exists or not (the nil id matches no device).
        let known_device = self
            .is_known_device(user.as_ref().map(|u| u.id), attempt.device, now)
            .await?;
        let keys = AttemptKeys::new(email, attempt.ip, known_device);
        self.check_attempt(&keys, now).await?;
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
                return Err(self
                    .count_failure(&keys, now, AccountError::BadCredentials)
                    .await?)
            }
        };
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
        self.clear_attempt(&keys).await?;
        Ok(LoginOutcome::Opened(
            self.open_session(user, attempt.device, now).await?,
        ))
    }

    /// Whether this browser completed a login for the account within [`KNOWN_DEVICE_DAYS`].
    async fn is_known_device(
        &self,
        user: Option<UserId>,
        device: Option<&str>,
        now: i64,
    ) -> Result<bool, AccountError> {
        let user = user.unwrap_or(UserId(uuid::Uuid::nil()));
        let device = token_hash(device.unwrap_or_default());
        let since = now - KNOWN_DEVICE_DAYS * 24 * HOUR_MS;
        Ok(self
            .store
            .is_known_device(&device, user, since, now)
            .await?)
    }

    /// Opens a session after a completed login, and remembers the browser as one of the account's devices
    /// (its token, new unless the browser already had one).
    async fn open_session(
        &self,
        user: User,
        device: Option<&str>,
        now: i64,
    ) -> Result<OpenedSession, AccountError> {
        let device = match device.filter(|token| token.len() == 64) {
            Some(token) => Sensitive::new(token.to_string()),
            None => Sensitive::new(random_token()),
        };
        self.store
            .remember_device(&token_hash(device.expose()), user.id, now)
            .await?;
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
            device,
            record,
            user,
        })
    }

    /// Sends a reset link to `email` if such an active account exists, at most
    /// [`crate::rate_limit::RESET_EMAILS_PER_ACCOUNT`] an hour; returns the account the link was sent to. The
    /// caller answers the same way in every case (no account enumeration), and no sooner than
    /// [`RESET_ANSWER_FLOOR_MS`]. Requests are also limited per address (429).
    pub async fn request_password_reset(
        &self,
        email: &str,
        ip: &str,
        link_base: &str,
        now: i64,
    ) -> Result<Option<User>, AccountError> {
        let key = request_key("reinitialisation", ip);
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
        let user = match Email::parse(email) {
            Ok(email) => self
                .store
                .find_user_by_email(email.as_str())
                .await?
                .filter(|u| !u.disabled),
            Err(_) => None,
        };
        let Some(user) = user else {
            return Ok(None);
        };
        let capped = crate::rate_limit::hit(
            self.store.as_ref(),
            crate::rate_limit::RESET_EMAILS_PER_ACCOUNT,
            &user.id.to_string(),
            now,
        )
        .await;
        match capped {
            Ok(()) => {}
            Err(crate::rate_limit::RateLimitError::Refused(_)) => {
                tracing::info!(user = %user.id, "reset e-mail not sent: hourly cap reached");
                return Ok(None);
            }
            Err(crate::rate_limit::RateLimitError::Store(error)) => return Err(error.into()),
        }
        let token = random_token();
        let minutes = self.security.reset_link_minutes;
        let expires = now + minutes.saturating_mul(MINUTE_MS);
        self.store
            .create_password_reset(&token_hash(&token), user.id, now, expires)
            .await?;
        let body = format!(
            "Bonjour {},\n\nUne demande de nouveau mot de passe a été faite pour votre compte Maillage.\n\
             Pour choisir un nouveau mot de passe, ouvrez ce lien (valable {minutes} minutes, une seule fois) :\n\n\
             {link_base}/mot-de-passe/{token}\n\n\
             Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe ne change pas.\n",
            user.display_name
        );
        crate::mail::queue(
            self.store.as_ref(),
            &self.keyring,
            &crate::mail::OutgoingMail {
                to: user.email.clone(),
                subject: "Maillage : choisir un nouveau mot de passe".into(),
                body,
                cpts_id: None,
            },
            self.mail_attempts,
        )
        .await?;
        Ok(Some(user))
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
    fn waits_are_said_in_french() {
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

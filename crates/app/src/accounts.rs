//! Accounts, passwords and server-side sessions.
//!
//! Passwords are hashed with argon2id (random salt per user). A session is a random token in an
//! `HttpOnly` cookie; the database keeps only its SHA-256, so a leaked database cannot be replayed as
//! sessions. Sessions live in the database so that every `maillage serve` instance shares them.

use crate::clock::{HOUR_MS, MINUTE_MS};
use crate::config::SecurityConfig;
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

pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
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

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn Store>,
    security: SecurityConfig,
    /// Hash checked when the e-mail is unknown, so that both cases take the same time.
    decoy_hash: Arc<str>,
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, security: SecurityConfig) -> Result<Self, AccountError> {
        let decoy_hash = hash_password(&random_token())?.into();
        Ok(Self {
            store,
            security,
            decoy_hash,
        })
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
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
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

    /// Checks the password and opens a session. Every refusal is the same [`AccountError::BadCredentials`].
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        now: i64,
    ) -> Result<OpenedSession, AccountError> {
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
            _ => return Err(AccountError::BadCredentials),
        };
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
    fn tokens_are_random_and_hashed() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }
}

//! "Mon compte": the account's open sessions (end one), and a change of password that asks the current one,
//! counts wrong ones like failed logins, and ends every other session.

use super::throttle::AttemptKeys;
use super::*;

impl Accounts {
    /// The account's live sessions, most recently active first.
    pub async fn sessions(
        &self,
        user: UserId,
        now: i64,
    ) -> Result<Vec<SessionRecord>, AccountError> {
        Ok(self.store.user_sessions(user, now, self.idle_ms()).await?)
    }

    /// Ends one of the account's own sessions (another device); false when there is no such session.
    pub async fn end_session(&self, user: UserId, token_hash: &str) -> Result<bool, AccountError> {
        Ok(self.store.delete_user_session(user, token_hash).await?)
    }

    /// Changes the password of a signed-in account: the current one must be right (a wrong one counts as a
    /// failed login, from `ip`), the new one strong; every other session ends. Returns how many ended.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new_password: &str,
        ip: &str,
        keep_session: &str,
        now: i64,
    ) -> Result<u64, AccountError> {
        let keys = AttemptKeys::new(&user.email, ip, true);
        self.check_attempt(&keys, now).await?;
        let (hash, typed) = (user.password_hash.clone(), current.to_string());
        let matches = tokio::task::spawn_blocking(move || verify_password(&typed, &hash))
            .await
            .map_err(|_| AccountError::Hashing)?;
        if !matches {
            return Err(self
                .count_failure(
                    &keys,
                    now,
                    AccountError::Invalid(ValidationError::new(
                        "Mot de passe actuel",
                        "ce n'est pas votre mot de passe actuel",
                    )),
                )
                .await?);
        }
        let hash = self.hash_new_password(new_password).await?;
        self.store.set_password_hash(user.id, &hash).await?;
        Ok(self
            .store
            .delete_other_sessions(user.id, keep_session)
            .await?)
    }
}

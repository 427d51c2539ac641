//! The second factor: a TOTP app (RFC 6238) and single-use recovery codes for the day the phone is lost.
//! Every answer — at login, to turn the factor on or off, to make new recovery codes — goes through the same
//! counters as passwords ([`super::throttle`]); wrong recovery codes also lock a counter of their own.

use super::throttle::{AttemptKeys, FREE_FAILURES, RECOVERY_LOCK_AFTER};
use super::*;

/// How many recovery codes an account gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// Recovery codes are written in this alphabet (no 0/O, 1/I/L look-alikes): 12 characters, 60 bits.
const RECOVERY_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const RECOVERY_CHARS: usize = 12;

/// Recovery codes just made: shown once, only their hashes are kept.
pub struct RecoveryCodes(pub Vec<Sensitive<String>>);

/// What an answer to the second factor is, decided by its shape alone.
enum Answer {
    Totp(String),
    Recovery(String),
}

impl Answer {
    fn read(input: &str) -> Option<Answer> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_digit()) {
            return Some(Answer::Totp(compact));
        }
        let upper = compact.to_ascii_uppercase();
        (upper.len() == RECOVERY_CHARS && upper.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
            .then_some(Answer::Recovery(upper))
    }
}

/// A new recovery code in its compact form (what is hashed and what [`Answer::read`] gives back).
fn new_recovery_code() -> String {
    // 31 letters and digits: each byte reduced modulo 31, the biased top values (248 and up) drawn again.
    let mut code = String::with_capacity(RECOVERY_CHARS);
    while code.len() < RECOVERY_CHARS {
        let mut byte = [0u8; 1];
        rand::rngs::OsRng.fill_bytes(&mut byte);
        if byte[0] < 248 {
            code.push(char::from(RECOVERY_ALPHABET[usize::from(byte[0] % 31)]));
        }
    }
    code
}

/// A compact code as shown, in groups of four: `ABCD-EFGH-JKMN`.
fn shown(code: &str) -> String {
    let groups: Vec<&str> = (0..code.len())
        .step_by(4)
        .map(|start| &code[start..(start + 4).min(code.len())])
        .collect();
    groups.join("-")
}

/// A recovery code's stored form: salted with its account, so that one hash says nothing of another account.
fn recovery_hash(user: UserId, code: &str) -> String {
    hex::encode(Sha256::digest(
        format!("secours\u{0}{user}\u{0}{code}").as_bytes(),
    ))
}

fn recovery_key(user: UserId) -> String {
    format!("secours:{user}")
}

impl Accounts {
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

    /// Checks an answer — a current TOTP code, or (when `recovery_allowed`) an unused recovery code — under
    /// the attempt's counters. A wrong answer counts like a wrong password; it is refused unread while the
    /// counters are locked or in their delay. Returns the accepted TOTP step (none for a recovery code).
    async fn answer_second_factor(
        &self,
        user: &User,
        answer: &str,
        attempt: &Attempt<'_>,
        recovery_allowed: bool,
        now: i64,
    ) -> Result<Option<i64>, AccountError> {
        let known_device = self
            .is_known_device(Some(user.id), attempt.device, now)
            .await?;
        let keys = AttemptKeys::new(&user.email, attempt.ip, known_device);
        self.check_attempt(&keys, now).await?;
        let accepted = match Answer::read(answer) {
            Some(Answer::Totp(code)) => self.check_code(user, &code, now).await?.map(Some),
            Some(Answer::Recovery(code)) if recovery_allowed => {
                let key = recovery_key(user.id);
                self.check_throttle(&key, FREE_FAILURES, now).await?;
                let hash = recovery_hash(user.id, &code);
                if self.store.use_recovery_code(user.id, &hash, now).await? {
                    Some(None)
                } else {
                    if self.count_in(&key, RECOVERY_LOCK_AFTER, now).await? {
                        self.count_failure(&keys, now, AccountError::BadSecondFactor)
                            .await?;
                        return Err(AccountError::Throttled {
                            retry_after_secs: self.security.login_lock_minutes * 60,
                        });
                    }
                    None
                }
            }
            _ => None,
        };
        match accepted {
            Some(step) => {
                self.clear_attempt(&keys).await?;
                Ok(step)
            }
            None => Err(self
                .count_failure(&keys, now, AccountError::BadSecondFactor)
                .await?),
        }
    }

    /// Second step of a login with a second factor: the code from the authenticator app, or a recovery code.
    pub async fn complete_second_factor(
        &self,
        challenge: &str,
        answer: &str,
        attempt: &Attempt<'_>,
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
        self.answer_second_factor(&user, answer, attempt, true, now)
            .await?;
        self.store.delete_login_challenge(&hash).await?;
        self.open_session(user, attempt.device, now).await
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

    /// Turns the second factor on once the person proves their app shows the right code; returns the
    /// account's first recovery codes, to show once.
    pub async fn confirm_totp(
        &self,
        user: &User,
        code: &str,
        attempt: &Attempt<'_>,
        now: i64,
    ) -> Result<RecoveryCodes, AccountError> {
        if user.totp_enabled || user.totp_secret.is_none() {
            return Err(AccountError::NoPendingTotp);
        }
        let step = self
            .answer_second_factor(user, code, attempt, false, now)
            .await?
            .ok_or(AccountError::BadSecondFactor)?;
        self.store
            .set_totp(user.id, user.totp_secret.as_deref(), true)
            .await?;
        // set_totp starts the account's step history afresh: the code just used stays spent.
        self.store.use_totp_step(user.id, step).await?;
        self.replace_recovery_codes(user, now).await
    }

    /// New recovery codes in place of the old ones (all of them void), proven by a current code.
    pub async fn renew_recovery_codes(
        &self,
        user: &User,
        code: &str,
        attempt: &Attempt<'_>,
        now: i64,
    ) -> Result<RecoveryCodes, AccountError> {
        if !user.totp_enabled {
            return Err(AccountError::NoPendingTotp);
        }
        self.answer_second_factor(user, code, attempt, false, now)
            .await?;
        self.replace_recovery_codes(user, now).await
    }

    async fn replace_recovery_codes(
        &self,
        user: &User,
        now: i64,
    ) -> Result<RecoveryCodes, AccountError> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|code| recovery_hash(user.id, code))
            .collect();
        self.store
            .replace_recovery_codes(user.id, &hashes, now)
            .await?;
        Ok(RecoveryCodes(
            codes
                .iter()
                .map(|code| Sensitive::new(shown(code)))
                .collect(),
        ))
    }

    /// How many unused recovery codes the account has.
    pub async fn recovery_codes_left(&self, user: UserId) -> Result<i64, AccountError> {
        Ok(self.store.recovery_codes_left(user).await?)
    }

    /// Turns the second factor off, with a current code as proof; its recovery codes go with it.
    pub async fn disable_totp(
        &self,
        user: &User,
        code: &str,
        attempt: &Attempt<'_>,
        now: i64,
    ) -> Result<(), AccountError> {
        if !user.totp_enabled {
            return Err(AccountError::NoPendingTotp);
        }
        self.answer_second_factor(user, code, attempt, false, now)
            .await?;
        self.store.replace_recovery_codes(user.id, &[], now).await?;
        Ok(self.store.set_totp(user.id, None, false).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_read_back_whatever_their_case_and_dashes() {
        for _ in 0..50 {
            let code = shown(&new_recovery_code());
            assert_eq!(code.len(), RECOVERY_CHARS + 2, "{code}");
            let Some(Answer::Recovery(compact)) = Answer::read(&code.to_lowercase()) else {
                panic!("{code} is not read as a recovery code");
            };
            assert_eq!(compact, code.replace('-', ""));
        }
        assert!(matches!(Answer::read(" 123 456 "), Some(Answer::Totp(c)) if c == "123456"));
        assert!(Answer::read("12345").is_none());
        assert!(
            Answer::read("ABCD-EFGH-IJK0").is_none(),
            "0, I, L, O are not in the alphabet"
        );
    }

    #[test]
    fn recovery_hashes_are_salted_with_the_account() {
        let (a, b) = (UserId::new(), UserId::new());
        assert_ne!(
            recovery_hash(a, "ABCDEFGHJKMN"),
            recovery_hash(b, "ABCDEFGHJKMN")
        );
    }
}

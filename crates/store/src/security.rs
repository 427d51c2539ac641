//! Storage for the security core: the audit chain, login throttling, password resets, TOTP, login
//! challenges and the per-CPTS second-factor policy.

use crate::audit::{AuditRow, ChainHead, AUDIT_COLUMNS};
use crate::models::*;
use crate::sql::BeginWrite;
use crate::sql::{bind_args, on_pool, SqlArg as Arg, SqlStore};
use crate::{Result, StoreError};
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

#[async_trait]
pub trait SecurityStore: Send + Sync {
    /// Appends an entry at the end of its chain (its CPTS's, or the platform's) in a transaction of its own:
    /// for reads and security events. A change is audited by the store method that makes it, in the same
    /// transaction (see [`crate::audit`]).
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry>;
    /// Newest first, within one scope, filtered.
    async fn list_audit(
        &self,
        scope: AuditScope,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEntry>>;
    /// One chain in order, for verification (`after` exclusive).
    async fn audit_chain_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>>;
    /// Every chain (named by a head row or by an entry) with the last position and hash its head records.
    async fn audit_chains(&self) -> Result<Vec<ChainHead>>;

    /// Counts a failure for `key` inside a window that restarts after `window_ms` without failures.
    async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        window_ms: i64,
    ) -> Result<ThrottleState>;
    async fn lock_login(&self, key: &str, until: i64) -> Result<()>;
    async fn login_throttle(&self, key: &str) -> Result<Option<ThrottleState>>;
    async fn clear_login_throttle(&self, key: &str) -> Result<()>;

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Marks the link used and returns its account, if it exists, is unused and has not expired.
    /// Every other pending link of that account is voided at the same time.
    async fn consume_password_reset(&self, token_hash: &str, now: i64) -> Result<Option<UserId>>;
    /// The account of a live, unused link (to show the form), without consuming it.
    async fn peek_password_reset(&self, token_hash: &str, now: i64) -> Result<Option<UserId>>;
    async fn set_password_hash(&self, user: UserId, password_hash: &str) -> Result<()>;
    /// The account's live sessions (not expired, active within `idle_ms`), most recently active first.
    async fn user_sessions(
        &self,
        user: UserId,
        now: i64,
        idle_ms: i64,
    ) -> Result<Vec<SessionRecord>>;
    /// Ends one of the account's sessions; false when it has no such session.
    async fn delete_user_session(&self, user: UserId, token_hash: &str) -> Result<bool>;
    /// Ends the account's sessions but `keep` (after a password change); how many ended.
    async fn delete_other_sessions(&self, user: UserId, keep: &str) -> Result<u64>;

    /// Stores an encrypted TOTP secret; `enabled` false while the person has not confirmed a first code.
    async fn set_totp(&self, user: UserId, secret: Option<&[u8]>, enabled: bool) -> Result<()>;
    /// Records the time step of an accepted code; false when that step (or a later one) was already used.
    async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool>;
    async fn create_login_challenge(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<()>;
    /// The account waiting for its second factor, counting this attempt.
    async fn attempt_login_challenge(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(UserId, i64)>>;
    async fn delete_login_challenge(&self, token_hash: &str) -> Result<()>;
    async fn set_mfa_required(
        &self,
        cpts: CptsId,
        required: bool,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// The coordination's phone that signs the CPTS's messages, with its audit entry.
    async fn set_contact_phone(
        &self,
        cpts: CptsId,
        phone: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

#[derive(FromRow)]
struct ThrottleRow {
    failures: i64,
    window_start: i64,
    last_failure_at: i64,
    locked_until: i64,
}

impl From<ThrottleRow> for ThrottleState {
    fn from(row: ThrottleRow) -> Self {
        ThrottleState {
            failures: row.failures,
            window_start: row.window_start,
            last_failure_at: row.last_failure_at,
            locked_until: row.locked_until,
        }
    }
}

#[async_trait]
impl SecurityStore for SqlStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry> {
        self.append_audit_alone(entry).await
    }

    async fn list_audit(
        &self,
        scope: AuditScope,
        filter: &AuditFilter,
        page: Page,
    ) -> Result<Vec<AuditEntry>> {
        let mut conditions = Vec::new();
        let mut args = Vec::new();
        match scope {
            AuditScope::Cpts(cpts) => {
                args.push(Arg::Uuid(cpts.0));
                conditions.push(format!("cpts_id = ${}", args.len()));
            }
            AuditScope::Platform => conditions.push("cpts_id IS NULL".to_string()),
        }
        if let Some(action) = &filter.action {
            args.push(Arg::Text(action.clone()));
            conditions.push(format!("action = ${}", args.len()));
        }
        if let Some(actor) = &filter.actor {
            args.push(Arg::Text(actor.clone()));
            conditions.push(format!("actor = ${}", args.len()));
        }
        if let Some(from) = filter.from {
            args.push(Arg::I64(from));
            conditions.push(format!("at >= ${}", args.len()));
        }
        if let Some(until) = filter.until {
            args.push(Arg::I64(until));
            conditions.push(format!("at < ${}", args.len()));
        }
        args.push(Arg::I64(page.limit));
        args.push(Arg::I64(page.offset));
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
            conditions.join(" AND "),
            args.len() - 1,
            args.len()
        );
        let rows: Vec<AuditRow> = on_pool!(self, pool => {
            bind_args!(sqlx::query_as(&sql), &args).fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn audit_chain_after(
        &self,
        chain: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        self.chain_page(chain, after, limit).await
    }

    async fn audit_chains(&self) -> Result<Vec<ChainHead>> {
        self.chain_heads().await
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        window_ms: i64,
    ) -> Result<ThrottleState> {
        let sql = "INSERT INTO login_throttle (key, failures, window_start, last_failure_at, locked_until) \
                   VALUES ($1, 1, $2, $2, 0) \
                   ON CONFLICT (key) DO UPDATE SET \
                     failures = CASE WHEN login_throttle.last_failure_at < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                     window_start = CASE WHEN login_throttle.last_failure_at < $3 THEN $2 ELSE login_throttle.window_start END, \
                     last_failure_at = $2 \
                   RETURNING failures, window_start, last_failure_at, locked_until";
        let row: ThrottleRow = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(key)
            .bind(now)
            .bind(now.saturating_sub(window_ms))
            .fetch_one(pool)
            .await)?;
        Ok(row.into())
    }

    async fn lock_login(&self, key: &str, until: i64) -> Result<()> {
        on_pool!(self, pool => sqlx::query("UPDATE login_throttle SET locked_until = $2 WHERE key = $1")
            .bind(key)
            .bind(until)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn login_throttle(&self, key: &str) -> Result<Option<ThrottleState>> {
        let sql = "SELECT failures, window_start, last_failure_at, locked_until FROM login_throttle WHERE key = $1";
        let row: Option<ThrottleRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(key).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    async fn clear_login_throttle(&self, key: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        let sql = "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(token_hash)
            .bind(user.0)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn consume_password_reset(&self, token_hash: &str, now: i64) -> Result<Option<UserId>> {
        let user: Option<Uuid> = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let user: Option<Uuid> = sqlx::query_scalar(
                "UPDATE password_resets SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id")
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(user) = user {
                sqlx::query("UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
                    .bind(user)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            user
        });
        Ok(user.map(UserId))
    }

    async fn peek_password_reset(&self, token_hash: &str, now: i64) -> Result<Option<UserId>> {
        let sql = "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
        let user: Option<Uuid> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(user.map(UserId))
    }

    async fn user_sessions(
        &self,
        user: UserId,
        now: i64,
        idle_ms: i64,
    ) -> Result<Vec<SessionRecord>> {
        #[derive(FromRow)]
        struct Row {
            token_hash: String,
            csrf_token: String,
            created_at: i64,
            last_seen_at: i64,
            expires_at: i64,
        }
        // A person has a few sessions at most; 50 bounds a pathological account.
        let sql =
            "SELECT token_hash, csrf_token, created_at, last_seen_at, expires_at FROM sessions \
                   WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 \
                   ORDER BY last_seen_at DESC, token_hash LIMIT 50";
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(user.0)
            .bind(now)
            .bind(now.saturating_sub(idle_ms))
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| SessionRecord {
                token_hash: r.token_hash,
                user_id: user,
                csrf_token: r.csrf_token,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
            })
            .collect())
    }

    async fn delete_user_session(&self, user: UserId, token_hash: &str) -> Result<bool> {
        let affected = on_pool!(self, pool => sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash = $2")
            .bind(user.0)
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn delete_other_sessions(&self, user: UserId, keep: &str) -> Result<u64> {
        let affected = on_pool!(self, pool => sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user.0)
            .bind(keep)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected)
    }

    async fn set_password_hash(&self, user: UserId, password_hash: &str) -> Result<()> {
        let affected = on_pool!(self, pool => sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user.0)
            .bind(password_hash)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        if affected == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn set_totp(&self, user: UserId, secret: Option<&[u8]>, enabled: bool) -> Result<()> {
        let sql = "UPDATE users SET totp_secret = $2, totp_enabled = $3, totp_last_step = NULL WHERE id = $1";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(user.0)
            .bind(secret)
            .bind(enabled)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
        let sql = "UPDATE users SET totp_last_step = $2 \
                   WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)";
        let affected = on_pool!(self, pool => sqlx::query(sql)
            .bind(user.0)
            .bind(step)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(affected == 1)
    }

    async fn create_login_challenge(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<()> {
        let sql = "INSERT INTO login_challenges (token_hash, user_id, expires_at, attempts) VALUES ($1, $2, $3, 0)";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(token_hash)
            .bind(user.0)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn attempt_login_challenge(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(UserId, i64)>> {
        let sql = "UPDATE login_challenges SET attempts = attempts + 1 \
                   WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id, attempts";
        let row: Option<(Uuid, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(user, attempts)| (UserId(user), attempts)))
    }

    async fn delete_login_challenge(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn set_contact_phone(
        &self,
        cpts: CptsId,
        phone: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        self.audited_update(
            "UPDATE cpts SET contact_phone = $2 WHERE id = $1",
            &[
                crate::sql::SqlArg::Uuid(cpts.0),
                crate::sql::SqlArg::Text(phone.to_string()),
            ],
            audit,
        )
        .await
    }

    async fn set_mfa_required(
        &self,
        cpts: CptsId,
        required: bool,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query("UPDATE cpts SET mfa_required = $2 WHERE id = $1")
                .bind(cpts.0)
                .bind(required)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            crate::audit::commit_audited!(self, tx, changed == 1, audit)
        })?;
        Ok(())
    }
}

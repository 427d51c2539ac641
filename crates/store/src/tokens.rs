//! Secrets that give machine access without a session: API tokens (the SAS platform reading slots over FHIR)
//! and the secret address of a professional's calendar feed. Only the SHA-256 of a secret is stored, so a
//! stolen database does not open anything; looking a token up also records when it was last used.

use crate::audit::commit_audited;
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlArg as Arg, SqlStore};
use crate::Result;
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub cpts_id: CptsId,
    pub name: String,
    pub scope: String,
    pub professional_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records a token, with its audit entry; `token_hash` is the hash of the secret handed out once. A token
    /// of a professional replaces, in the same transaction, their live tokens of the same scope.
    async fn create_token(
        &self,
        token: &ApiToken,
        token_hash: &str,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// The live (not revoked) token with this hash, marking it used at `now` (to the minute).
    async fn use_token(&self, token_hash: &str, now: i64) -> Result<Option<ApiToken>>;
    /// A token of the CPTS, live or revoked.
    async fn find_token(&self, cpts: CptsId, id: Uuid) -> Result<Option<ApiToken>>;
    /// A CPTS's tokens of one scope, newest first (revoked ones included, for the record).
    async fn list_tokens(&self, cpts: CptsId, scope: &str, page: Page) -> Result<Vec<ApiToken>>;
    /// Revokes a token of the CPTS; false when there is no such live token.
    async fn revoke_token(
        &self,
        cpts: CptsId,
        id: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Revokes a professional's live tokens of a scope (a new calendar address replaces the old one).
    async fn revoke_professional_tokens(
        &self,
        cpts: CptsId,
        professional: Uuid,
        scope: &str,
        now: i64,
    ) -> Result<u64>;
}

const TOKEN_COLUMNS: &str =
    "id, cpts_id, name, scope, professional_id, created_by, created_at, revoked_at, \
                             last_used_at";

/// How precisely the last use of a token is recorded.
const USE_PRECISION_MS: i64 = 60_000;

#[async_trait]
impl TokenStore for SqlStore {
    async fn create_token(
        &self,
        t: &ApiToken,
        token_hash: &str,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO api_tokens (id, cpts_id, name, scope, professional_id, token_hash, created_by, \
                   created_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                   WHERE $5 IS NULL OR EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $2 AND id = $5)";
        let replace =
            "UPDATE api_tokens SET revoked_at = $4 WHERE cpts_id = $1 AND professional_id = $2 \
                       AND scope = $3 AND revoked_at IS NULL";
        let inserted = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if let Some(professional) = t.professional_id {
                sqlx::query(replace)
                    .bind(t.cpts_id)
                    .bind(professional)
                    .bind(&t.scope)
                    .bind(t.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            let inserted = sqlx::query(sql)
                .bind(t.id)
                .bind(t.cpts_id)
                .bind(&t.name)
                .bind(&t.scope)
                .bind(t.professional_id)
                .bind(token_hash)
                .bind(t.created_by)
                .bind(t.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_audited!(self, tx, inserted == 1, audit)?
        });
        if !inserted {
            return Err(crate::StoreError::NotFound("professional"));
        }
        Ok(())
    }

    async fn use_token(&self, token_hash: &str, now: i64) -> Result<Option<ApiToken>> {
        let read = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        );
        // The last use is kept to the minute: a busy platform calling many times a second would otherwise
        // make every call wait for the same row.
        let touch = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 \
                     AND (last_used_at IS NULL OR last_used_at < $3)";
        let row: Option<ApiToken> = on_pool!(self, pool => sqlx::query_as(&read)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?;
        let Some(mut token) = row else {
            return Ok(None);
        };
        if token
            .last_used_at
            .is_none_or(|at| at < now - USE_PRECISION_MS)
        {
            on_pool!(self, pool => sqlx::query(touch)
                .bind(token.id)
                .bind(now)
                .bind(now - USE_PRECISION_MS)
                .execute(pool)
                .await
                .map(|_| ()))?;
            token.last_used_at = Some(now);
        }
        Ok(Some(token))
    }

    async fn find_token(&self, cpts: CptsId, id: Uuid) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE cpts_id = $1 AND id = $2");
        let row: Option<ApiToken> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    async fn list_tokens(&self, cpts: CptsId, scope: &str, page: Page) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE cpts_id = $1 AND scope = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let rows: Vec<ApiToken> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(scope)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn revoke_token(
        &self,
        cpts: CptsId,
        id: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE api_tokens SET revoked_at = $3 WHERE cpts_id = $1 AND id = $2 AND revoked_at IS NULL";
        self.audited_update(
            sql,
            &[Arg::Uuid(cpts.0), Arg::Uuid(id), Arg::I64(now)],
            audit,
        )
        .await
    }

    async fn revoke_professional_tokens(
        &self,
        cpts: CptsId,
        professional: Uuid,
        scope: &str,
        now: i64,
    ) -> Result<u64> {
        let sql =
            "UPDATE api_tokens SET revoked_at = $4 WHERE cpts_id = $1 AND professional_id = $2 \
                   AND scope = $3 AND revoked_at IS NULL";
        let done = on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(professional)
            .bind(scope)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done)
    }
}

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

/// A SAS platform let in by its client certificate (checked: Common Name and Organizational Unit).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SasClient {
    pub id: Uuid,
    pub name: String,
    pub common_name: String,
    pub organisational_unit: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Registers a SAS client and the CPTS it may read, with its audit entry; false when a client with the
    /// same Common Name and Organizational Unit exists (or a CPTS is unknown: nothing is written).
    async fn register_sas_client(
        &self,
        client: &SasClient,
        cpts: &[CptsId],
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The client a certificate's subject names, revoked or not, with its CPTS.
    async fn sas_client_by_subject(
        &self,
        common_name: &str,
        organisational_unit: &str,
    ) -> Result<Option<(SasClient, Vec<CptsId>)>>;
    /// Every SAS client of the deployment with its CPTS, by name (a deployment has a handful).
    async fn list_sas_clients(&self, page: Page) -> Result<Vec<(SasClient, Vec<CptsId>)>>;
    /// Revokes a client, with its audit entry; false when unknown or revoked already.
    async fn revoke_sas_client(&self, id: Uuid, now: i64, audit: &NewAuditEntry) -> Result<bool>;
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
    async fn register_sas_client(
        &self,
        client: &SasClient,
        cpts: &[CptsId],
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let insert =
            "INSERT INTO sas_clients (id, name, common_name, organisational_unit, created_at) \
                      VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        let link = "INSERT INTO sas_client_cpts (client_id, cpts_id) \
                    SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM cpts WHERE id = $2) ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let created = sqlx::query(insert)
                .bind(client.id)
                .bind(&client.name)
                .bind(&client.common_name)
                .bind(&client.organisational_unit)
                .bind(client.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            let mut linked = 0;
            if created {
                for c in cpts {
                    linked += sqlx::query(link).bind(client.id).bind(c.0).execute(&mut *tx).await?.rows_affected();
                }
            }
            commit_audited!(self, tx, created && linked == cpts.len() as u64 && !cpts.is_empty(), audit)
        })
    }

    async fn sas_client_by_subject(
        &self,
        common_name: &str,
        organisational_unit: &str,
    ) -> Result<Option<(SasClient, Vec<CptsId>)>> {
        let sql = "SELECT id, name, common_name, organisational_unit, created_at, revoked_at FROM sas_clients \
                   WHERE common_name = $1 AND organisational_unit = $2";
        let found: Option<SasClient> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(common_name)
            .bind(organisational_unit)
            .fetch_optional(pool)
            .await)?;
        let Some(client) = found else {
            return Ok(None);
        };
        let cpts = self.sas_client_cpts(client.id).await?;
        Ok(Some((client, cpts)))
    }

    async fn list_sas_clients(&self, page: Page) -> Result<Vec<(SasClient, Vec<CptsId>)>> {
        let sql = "SELECT id, name, common_name, organisational_unit, created_at, revoked_at FROM sas_clients \
                   ORDER BY name, id LIMIT $1 OFFSET $2";
        let clients: Vec<SasClient> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        let mut listed = Vec::with_capacity(clients.len());
        for client in clients {
            let cpts = self.sas_client_cpts(client.id).await?;
            listed.push((client, cpts));
        }
        Ok(listed)
    }

    async fn revoke_sas_client(&self, id: Uuid, now: i64, audit: &NewAuditEntry) -> Result<bool> {
        let sql = "UPDATE sas_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        self.audited_update(sql, &[Arg::Uuid(id), Arg::I64(now)], audit)
            .await
    }

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

impl SqlStore {
    async fn sas_client_cpts(&self, client: Uuid) -> Result<Vec<CptsId>> {
        let sql = "SELECT cpts_id FROM sas_client_cpts WHERE client_id = $1 ORDER BY cpts_id";
        let rows: Vec<(Uuid,)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(client)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(|(id,)| CptsId(id)).collect())
    }
}

//! Invitations to a CPTS: pending ones for the coordination's page, and the single-use acceptance that creates
//! the account (or gives an existing one its role) in one transaction with its audit entry.

use crate::audit::AuditTx;
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::{Result, StoreError};
use async_trait::async_trait;
use maillage_domain::authz::Role;
use sqlx::FromRow;
use uuid::Uuid;

/// An invitation as stored (the link's secret is not: only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub cpts_id: CptsId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub invited_by: Option<UserId>,
    pub created_at: i64,
    pub expires_at: i64,
    /// The directory record of the person invited (a member invited from the directory): linked to the
    /// account when the invitation is accepted.
    pub professional_id: Option<Uuid>,
}

#[derive(FromRow)]
struct InvitationRow {
    id: Uuid,
    cpts_id: Uuid,
    email: String,
    display_name: String,
    role: String,
    invited_by: Option<Uuid>,
    created_at: i64,
    expires_at: i64,
    professional_id: Option<Uuid>,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(row: InvitationRow) -> Result<Self> {
        Ok(Invitation {
            id: row.id,
            cpts_id: CptsId(row.cpts_id),
            email: row.email,
            display_name: row.display_name,
            role: Role::parse(&row.role)
                .ok_or_else(|| StoreError::Corrupt(format!("invitation role {}", row.role)))?,
            invited_by: row.invited_by.map(UserId),
            created_at: row.created_at,
            expires_at: row.expires_at,
            professional_id: row.professional_id,
        })
    }
}

const COLUMNS: &str =
    "id, cpts_id, email, display_name, role, invited_by, created_at, expires_at, professional_id";

#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Records an invitation under the SHA-256 of its link, with its audit entry.
    async fn create_invitation(
        &self,
        token_hash: &str,
        invitation: &Invitation,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// The live invitation of a link: unused and not expired.
    async fn find_invitation(&self, token_hash: &str, now: i64) -> Result<Option<Invitation>>;
    /// The CPTS's invitations not yet accepted (expired ones included, to be sent again), newest first.
    async fn pending_invitations(&self, cpts: CptsId, page: Page) -> Result<Vec<Invitation>>;
    /// The directory record of the CPTS with this national identifier (RPPS, ADELI), and its name.
    async fn professional_by_identifier(
        &self,
        cpts: CptsId,
        identifier: &str,
    ) -> Result<Option<(Uuid, String)>>;
    /// Links someone who has a role in the CPTS to a directory record of it (her slots, places and
    /// proposals), with its audit entry; false when she has no role there or the record is not the CPTS's.
    async fn link_account_to_record(
        &self,
        cpts: CptsId,
        user: UserId,
        professional: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Whether a live invitation (unused, not expired) to this e-mail exists in the CPTS.
    async fn has_live_invitation(&self, cpts: CptsId, email: &str, now: i64) -> Result<bool>;
    /// Uses the link once: the account of the invitation's e-mail gets its role (created with `new_user` when
    /// there is none). None when the link is used, expired or unknown. One transaction with `audit`.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        new_user: &NewUser,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Option<(UserId, bool)>>;
    /// Changes the role of someone who has one in the CPTS, with its audit entry; false when they have none.
    async fn change_role(
        &self,
        cpts: CptsId,
        user: UserId,
        role: Role,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Suspends (`Some(when)`) or restores (`None`) someone's access to the CPTS, with its audit entry; false
    /// when they have no role there or it is already in that state.
    async fn set_membership_suspended(
        &self,
        cpts: CptsId,
        user: UserId,
        suspended_at: Option<i64>,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

#[async_trait]
impl InvitationStore for SqlStore {
    async fn create_invitation(
        &self,
        token_hash: &str,
        invitation: &Invitation,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let i = invitation;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(&format!(
                "INSERT INTO invitations (token_hash, {COLUMNS}, used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)"
            ))
            .bind(token_hash)
            .bind(i.id)
            .bind(i.cpts_id.0)
            .bind(&i.email)
            .bind(&i.display_name)
            .bind(i.role.code())
            .bind(i.invited_by.map(|u| u.0))
            .bind(i.created_at)
            .bind(i.expires_at)
            .bind(i.professional_id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn find_invitation(&self, token_hash: &str, now: i64) -> Result<Option<Invitation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2"
        );
        let row: Option<InvitationRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await)?;
        row.map(Invitation::try_from).transpose()
    }

    async fn pending_invitations(&self, cpts: CptsId, page: Page) -> Result<Vec<Invitation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invitations WHERE cpts_id = $1 AND used_at IS NULL \
             ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<InvitationRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Invitation::try_from).collect()
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        new_user: &NewUser,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Option<(UserId, bool)>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<InvitationRow> = sqlx::query_as(&format!(
                "UPDATE invitations SET used_at = $2 \
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING {COLUMNS}"
            ))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(invitation) = row.map(Invitation::try_from).transpose()? else {
                return Ok(None);
            };
            let existing: Option<Uuid> =
                sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
                    .bind(&invitation.email)
                    .fetch_optional(&mut *tx)
                    .await?;
            let (user, created) = match existing {
                Some(id) => (id, false),
                None => {
                    let id = UserId::new().0;
                    sqlx::query(
                        "INSERT INTO users (id, email, display_name, password_hash, is_platform_admin, disabled, \
                         created_at) VALUES ($1, $2, $3, $4, FALSE, FALSE, $5)",
                    )
                    .bind(id)
                    .bind(&invitation.email)
                    .bind(&new_user.display_name)
                    .bind(&new_user.password_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    (id, true)
                }
            };
            sqlx::query(crate::sql::GRANT_ROLE)
            .bind(invitation.cpts_id.0)
            .bind(user)
            .bind(invitation.role.code())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // Invited from the directory: the account is hers in it (still a record of this CPTS).
            if let Some(professional) = invitation.professional_id {
                sqlx::query(
                    "INSERT INTO professional_accounts (cpts_id, user_id, professional_id) \
                     SELECT $1, $2, id FROM professionals WHERE cpts_id = $1 AND id = $3 \
                     ON CONFLICT (cpts_id, user_id) DO UPDATE SET professional_id = excluded.professional_id",
                )
                .bind(invitation.cpts_id.0)
                .bind(user)
                .bind(professional)
                .execute(&mut *tx)
                .await?;
            }
            let mut audit = audit.clone();
            audit.actor_id = Some(UserId(user));
            audit.target_id = user.to_string();
            tx.append_audit(&self.audit_keys, &audit).await?;
            tx.commit().await?;
            Ok(Some((UserId(user), created)))
        })
    }

    async fn professional_by_identifier(
        &self,
        cpts: CptsId,
        identifier: &str,
    ) -> Result<Option<(Uuid, String)>> {
        let row: Option<(Uuid, String, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, first_name, last_name FROM professionals WHERE cpts_id = $1 AND identifier = $2 \
             ORDER BY id LIMIT 1")
            .bind(cpts.0)
            .bind(identifier)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(id, first, last)| (id, format!("{first} {last}"))))
    }

    async fn link_account_to_record(
        &self,
        cpts: CptsId,
        user: UserId,
        professional: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "INSERT INTO professional_accounts (cpts_id, user_id, professional_id) \
                   SELECT m.cpts_id, m.user_id, p.id FROM memberships m \
                   JOIN professionals p ON p.cpts_id = m.cpts_id AND p.id = $3 \
                   WHERE m.cpts_id = $1 AND m.user_id = $2 \
                   ON CONFLICT (cpts_id, user_id) DO UPDATE SET professional_id = excluded.professional_id";
        self.audited_update(
            sql,
            &[
                crate::sql::SqlArg::Uuid(cpts.0),
                crate::sql::SqlArg::Uuid(user.0),
                crate::sql::SqlArg::Uuid(professional),
            ],
            audit,
        )
        .await
    }

    async fn has_live_invitation(&self, cpts: CptsId, email: &str, now: i64) -> Result<bool> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM invitations WHERE cpts_id = $1 AND lower(email) = lower($2) \
             AND used_at IS NULL AND expires_at > $3")
            .bind(cpts.0)
            .bind(email)
            .bind(now)
            .fetch_one(pool)
            .await)?;
        Ok(count > 0)
    }

    async fn change_role(
        &self,
        cpts: CptsId,
        user: UserId,
        role: Role,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        self.audited_update(
            "UPDATE memberships SET role = $3 WHERE cpts_id = $1 AND user_id = $2",
            &[
                crate::sql::SqlArg::Uuid(cpts.0),
                crate::sql::SqlArg::Uuid(user.0),
                crate::sql::SqlArg::Text(role.code().to_string()),
            ],
            audit,
        )
        .await
    }

    async fn set_membership_suspended(
        &self,
        cpts: CptsId,
        user: UserId,
        suspended_at: Option<i64>,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let (sql, args) = match suspended_at {
            Some(when) => (
                "UPDATE memberships SET suspended_at = $3 \
                 WHERE cpts_id = $1 AND user_id = $2 AND suspended_at IS NULL",
                vec![
                    crate::sql::SqlArg::Uuid(cpts.0),
                    crate::sql::SqlArg::Uuid(user.0),
                    crate::sql::SqlArg::I64(when),
                ],
            ),
            None => (
                "UPDATE memberships SET suspended_at = NULL \
                 WHERE cpts_id = $1 AND user_id = $2 AND suspended_at IS NOT NULL",
                vec![
                    crate::sql::SqlArg::Uuid(cpts.0),
                    crate::sql::SqlArg::Uuid(user.0),
                ],
            ),
        };
        self.audited_update(sql, &args, audit).await
    }
}

//! Who calls a service: a person with a role in one CPTS, as the database says, or the command line.
//!
//! Every mission service takes a [`Caller`] first. Its fields are private and it is made only by
//! [`Caller::resolve`], which reads the account's role in the CPTS (no role, no caller), or by
//! [`Caller::command_line`] for an operator: a handler cannot make up a CPTS, a role or a linked professional.
//! Record-level rights (whose slot, whose booking, whose referral) are decided by the service from it.

use crate::audit::AuditContext;
use maillage_domain::authz::{allows, Permission, Role};
use maillage_store::{CptsId, Store, StoreError, UserId};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Caller {
    cpts: CptsId,
    role: Role,
    user: Option<UserId>,
    professional: Option<Uuid>,
    audit: AuditContext,
}

impl Caller {
    /// The caller `user` is in `cpts`: None when the account holds no role there. `context` says who acts
    /// and from where for the audit trail; its CPTS is set to `cpts`.
    pub async fn resolve(
        store: &dyn Store,
        user: UserId,
        cpts: CptsId,
        context: &AuditContext,
    ) -> Result<Option<Self>, StoreError> {
        let Some((role, professional)) = store.membership(cpts, user).await? else {
            return Ok(None);
        };
        Ok(Some(Self {
            cpts,
            role,
            user: Some(user),
            professional,
            audit: context.in_cpts(cpts),
        }))
    }

    /// An operator at the command line, with the coordination's rights in `cpts`.
    pub fn command_line(cpts: CptsId) -> Self {
        Self {
            cpts,
            role: Role::Coordinator,
            user: None,
            professional: None,
            audit: AuditContext::command_line().in_cpts(cpts),
        }
    }

    pub fn cpts(&self) -> CptsId {
        self.cpts
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn user(&self) -> Option<UserId> {
        self.user
    }

    /// The professional record linked to the account in this CPTS, if any.
    pub fn professional(&self) -> Option<Uuid> {
        self.professional
    }

    /// Who acts, from where, in this CPTS: what the audit trail records.
    pub fn audit(&self) -> &AuditContext {
        &self.audit
    }

    pub fn may(&self, permission: Permission) -> bool {
        allows(self.role, permission)
    }

    /// Refuses what the caller's role does not allow. Each service turns the refusal into its "not found",
    /// so that a page never tells a record exists to someone who may not see it.
    pub fn require(&self, permission: Permission) -> Result<(), Refused> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(Refused(permission))
        }
    }

    /// The same caller with the request's details for the audit trail (address, request id).
    pub fn with_context(mut self, context: &AuditContext) -> Self {
        self.audit = context.in_cpts(self.cpts);
        self
    }
}

/// What a caller's role does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub Permission);

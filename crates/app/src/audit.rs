//! Writing to the audit trail. Every read or change of personal or health data and every security event
//! goes through [`record`], with who acted, from where, in which CPTS, on what, and why when relevant.

use crate::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_store::{AuditEntry, CptsId, NewAuditEntry, Store, StoreError, UserId};

/// Who acts, from where: built once per request by the web layer (or by the CLI for operators).
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub actor_id: Option<UserId>,
    /// E-mail of the person, or "système" / "ligne de commande".
    pub actor: String,
    pub cpts_id: Option<CptsId>,
    pub ip: String,
    pub request_id: String,
}

impl AuditContext {
    pub fn command_line() -> Self {
        Self {
            actor: "ligne de commande".into(),
            ip: "local".into(),
            ..Self::default()
        }
    }

    pub fn in_cpts(&self, cpts: CptsId) -> Self {
        Self {
            cpts_id: Some(cpts),
            ..self.clone()
        }
    }
}

/// One event: what was done, to which record, details without health data, and the purpose if any.
pub struct AuditEvent<'a> {
    pub action: AuditAction,
    pub target_kind: &'a str,
    pub target_id: String,
    pub detail: serde_json::Value,
    pub purpose: &'a str,
}

impl<'a> AuditEvent<'a> {
    pub fn new(action: AuditAction, target_kind: &'a str, target_id: impl Into<String>) -> Self {
        Self {
            action,
            target_kind,
            target_id: target_id.into(),
            detail: serde_json::Value::Object(serde_json::Map::new()),
            purpose: "",
        }
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    pub fn purpose(mut self, purpose: &'a str) -> Self {
        self.purpose = purpose;
        self
    }
}

/// The entry `event` makes for `context`: what a store method writes in the transaction of the change.
pub fn entry(context: &AuditContext, event: AuditEvent<'_>) -> NewAuditEntry {
    NewAuditEntry {
        at: now_ms(),
        cpts_id: context.cpts_id,
        actor_id: context.actor_id,
        actor: context.actor.chars().take(254).collect(),
        action: event.action.code().to_string(),
        target_kind: event.target_kind.to_string(),
        target_id: event.target_id,
        detail: event.detail.to_string(),
        purpose: event.purpose.to_string(),
        ip: context.ip.chars().take(64).collect(),
        request_id: context.request_id.chars().take(64).collect(),
    }
}

/// Appends an entry on its own: for reads (written before the data is shown, so that a read whose audit
/// fails shows nothing) and for security events. A change is audited by the store method that makes it.
pub async fn record(
    store: &dyn Store,
    context: &AuditContext,
    event: AuditEvent<'_>,
) -> Result<AuditEntry, StoreError> {
    store.append_audit(&entry(context, event)).await
}

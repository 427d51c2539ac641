//! Tokens for machines: the SAS platform's FHIR access (`fhir:read`) and professionals' calendar addresses
//! (`ical`). The secret (`mlg_` + 64 hex digits) is returned once; the store keeps its SHA-256. Issuing and
//! revoking are audited; the pages, `maillage token` and the access layer all go through here.

use crate::accounts::{random_token, token_hash};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_store::{ApiToken, Store, StoreError};
use uuid::Uuid;

/// Scope of the tokens the SAS platform reads slots with.
pub const FHIR_SCOPE: &str = "fhir:read";
/// Scope of a professional's calendar-feed address.
pub const CALENDAR_SCOPE: &str = "ical";
pub const SCOPES: [&str; 2] = [FHIR_SCOPE, CALENDAR_SCOPE];

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Refused, with the French reason naming the field.
    #[error("{0}")]
    Refused(String),
    /// The caller may not issue or revoke this token.
    #[error("not allowed")]
    NotAllowed,
}

/// Issues a token and returns its secret. A calendar address replaces the professional's previous one.
pub async fn issue(
    store: &dyn Store,
    caller: &Caller,
    name: &str,
    scope: &str,
    professional: Option<Uuid>,
) -> Result<String, TokenError> {
    // The coordination issues any token; a professional only their own calendar address.
    let own_calendar =
        scope == CALENDAR_SCOPE && professional.is_some() && professional == caller.professional();
    if !caller.may(Permission::ManageCpts) && !own_calendar {
        return Err(TokenError::NotAllowed);
    }
    let cpts = caller.cpts();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(TokenError::Refused(
            "Nom du jeton : de 1 à 100 caractères (par exemple « Plateforme SAS 30 »).".into(),
        ));
    }
    if !SCOPES.contains(&scope) {
        return Err(TokenError::Refused(format!(
            "Portée : « {scope} » inconnue ({FHIR_SCOPE} ou {CALENDAR_SCOPE})."
        )));
    }
    if scope == CALENDAR_SCOPE && professional.is_none() {
        return Err(TokenError::Refused(
            "Professionnel : une adresse d'agenda est celle d'un professionnel.".into(),
        ));
    }
    let now = now_ms();
    let secret = format!("mlg_{}", random_token());
    let token = ApiToken {
        id: Uuid::now_v7(),
        cpts_id: cpts,
        name: name.to_string(),
        scope: scope.to_string(),
        professional_id: professional,
        created_by: caller.user().map(|u| u.0),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
    };
    let audit = audit::entry(
        caller.audit(),
        AuditEvent::new(
            AuditAction::ApiTokenIssued,
            "api_token",
            token.id.to_string(),
        )
        .detail(serde_json::json!({ "scope": scope, "name": name })),
    );
    store
        .create_token(&token, &token_hash(&secret), &audit)
        .await?;
    Ok(secret)
}

/// Revokes a token of the caller's CPTS (the coordination only); false when it was already revoked.
pub async fn revoke(store: &dyn Store, caller: &Caller, id: Uuid) -> Result<bool, TokenError> {
    if !caller.may(Permission::ManageCpts) {
        return Err(TokenError::NotAllowed);
    }
    let audit = audit::entry(
        caller.audit(),
        AuditEvent::new(AuditAction::ApiTokenRevoked, "api_token", id.to_string()),
    );
    if store
        .revoke_token(caller.cpts(), id, now_ms(), &audit)
        .await?
    {
        return Ok(true);
    }
    // Not revoked now: already revoked (false), or not a token of this CPTS at all (refused as unknown).
    match store.find_token(caller.cpts(), id).await? {
        Some(_) => Ok(false),
        None => Err(TokenError::NotAllowed),
    }
}

/// The live token this secret opens, if it has the scope.
pub async fn authenticate(
    store: &dyn Store,
    secret: &str,
    scope: &str,
) -> Result<Option<ApiToken>, TokenError> {
    if !secret.starts_with("mlg_") || secret.len() > 100 {
        return Ok(None);
    }
    let token = store.use_token(&token_hash(secret), now_ms()).await?;
    Ok(token.filter(|t| t.scope == scope))
}

/// Registers a SAS platform by its client certificate's Common Name and Organizational Unit, for the CPTS
/// named by their slugs (the host: `by` is the command line or the platform administrator). Returns its id.
pub async fn register_sas_client(
    store: &dyn Store,
    by: &crate::audit::AuditContext,
    name: &str,
    common_name: &str,
    organisational_unit: &str,
    cpts_slugs: &[String],
) -> Result<Uuid, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(TokenError::Refused(
            "Nom du client : de 1 à 120 caractères.".into(),
        ));
    }
    if common_name.trim().is_empty() {
        return Err(TokenError::Refused(
            "Common Name (CN) : celui du certificat du SAS est attendu.".into(),
        ));
    }
    let mut cpts = Vec::new();
    for slug in cpts_slugs
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        match store.find_cpts_by_slug(slug).await? {
            Some(found) => cpts.push(found.id),
            None => {
                return Err(TokenError::Refused(format!(
                    "CPTS : « {slug} » n'existe pas dans ce déploiement."
                )))
            }
        }
    }
    if cpts.is_empty() {
        return Err(TokenError::Refused(
            "CPTS : au moins une CPTS dont le SAS lit les créneaux.".into(),
        ));
    }
    let client = maillage_store::SasClient {
        id: Uuid::now_v7(),
        name: name.to_string(),
        common_name: common_name.trim().to_string(),
        organisational_unit: organisational_unit.trim().to_string(),
        created_at: now_ms(),
        revoked_at: None,
    };
    let entry = crate::audit::entry(
        by,
        crate::audit::AuditEvent::new(
            AuditAction::SasClientRegistered,
            "sas_client",
            client.id.to_string(),
        )
        .detail(serde_json::json!({ "common_name": client.common_name, "cpts": cpts.len() })),
    );
    if !store.register_sas_client(&client, &cpts, &entry).await? {
        return Err(TokenError::Refused(
            "Certificat : un client SAS avec ce Common Name et cette unité existe déjà.".into(),
        ));
    }
    Ok(client.id)
}

/// Revokes a SAS client (the host, `by`); false when unknown or revoked already.
pub async fn revoke_sas_client(
    store: &dyn Store,
    by: &crate::audit::AuditContext,
    id: Uuid,
) -> Result<bool, TokenError> {
    let entry = crate::audit::entry(
        by,
        crate::audit::AuditEvent::new(AuditAction::SasClientRevoked, "sas_client", id.to_string()),
    );
    Ok(store.revoke_sas_client(id, now_ms(), &entry).await?)
}

/// The SAS clients of the deployment (a handful), each with the CPTS it reads, by name.
pub async fn sas_clients(
    store: &dyn Store,
    page: maillage_store::Page,
) -> Result<Vec<(maillage_store::SasClient, Vec<maillage_store::Cpts>)>, StoreError> {
    let mut listed = Vec::new();
    for (client, ids) in store.list_sas_clients(page).await? {
        let mut cpts = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(found) = store.find_cpts(id).await? {
                cpts.push(found);
            }
        }
        listed.push((client, cpts));
    }
    Ok(listed)
}

/// The live SAS client a verified certificate names, and the CPTS it reads; None when unknown or revoked.
pub async fn sas_client_for(
    store: &dyn Store,
    common_name: &str,
    organisational_unit: &str,
) -> Result<Option<(maillage_store::SasClient, Vec<maillage_store::Cpts>)>, StoreError> {
    let Some((client, ids)) = store
        .sas_client_by_subject(common_name, organisational_unit)
        .await?
    else {
        return Ok(None);
    };
    if client.revoked_at.is_some() {
        return Ok(None);
    }
    let mut cpts = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(found) = store.find_cpts(id).await? {
            cpts.push(found);
        }
    }
    Ok(Some((client, cpts)))
}

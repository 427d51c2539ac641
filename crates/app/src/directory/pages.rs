//! The territory and the directory as their pages use them: each method takes the [`Caller`], checks its
//! rights, audits reads of personal records before they are made and writes changes with their audit entry.

use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::diagnostic::Diagnostic;
use crate::imports::ImportKind;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::professional::{ProfessionalFacts, Visibility};
use maillage_store::{
    Cpts, CptsId, DirectoryCount, DirectoryQuery, ImportRun, MemberEntry, Page, ProfessionalRecord,
    ProfessionalSummary, Store, StoreError, Structure, StructureFacts, StructureIdentity,
    StructureQuery,
};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Not a record this caller may see or change, or none.
    #[error("not found")]
    NotFound,
    /// A refused field, named.
    #[error("{0}")]
    Invalid(maillage_domain::ValidationError),
}

/// A role that may not do something finds nothing: the record's existence is not told.
impl From<crate::caller::Refused> for DirectoryError {
    fn from(_: crate::caller::Refused) -> Self {
        DirectoryError::NotFound
    }
}

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn Store>,
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The INSEE codes of the CPTS's territory (any role of the CPTS).
    pub async fn territory(&self, caller: &Caller) -> Result<Vec<String>> {
        caller.require(Permission::ViewDashboard)?;
        Ok(self.store.territory(caller.cpts()).await?)
    }

    /// The territory of a CPTS as its public pages show it (the communes it serves: public information).
    pub async fn territory_of(&self, cpts: CptsId) -> Result<Vec<String>> {
        Ok(self.store.territory(cpts).await?)
    }

    /// Adds communes (already checked against the reference list) to the territory. The territory is not
    /// personal data: its changes go to the technical log.
    pub async fn add_to_territory(&self, caller: &Caller, codes: &[String]) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        self.store
            .add_to_territory(caller.cpts(), codes, now_ms())
            .await?;
        tracing::info!(cpts = %caller.cpts(), communes = codes.len(), "communes added to the territory");
        Ok(())
    }

    pub async fn remove_from_territory(&self, caller: &Caller, code: &str) -> Result<bool> {
        caller.require(Permission::ManageCpts)?;
        let removed = self
            .store
            .remove_from_territory(caller.cpts(), code)
            .await?;
        if removed {
            tracing::info!(cpts = %caller.cpts(), "commune removed from the territory");
        }
        Ok(removed)
    }

    /// The territory's diagnostic for `year` (figures, no personal data).
    pub async fn diagnostic(&self, caller: &Caller, year: i64) -> Result<Diagnostic> {
        caller.require(Permission::ViewMemberDirectory)?;
        Ok(crate::diagnostic::compute(self.store.as_ref(), caller.cpts(), year).await?)
    }

    pub async fn search_professionals(
        &self,
        caller: &Caller,
        query: &DirectoryQuery,
        page: Page,
    ) -> Result<Vec<ProfessionalSummary>> {
        caller.require(Permission::ViewMemberDirectory)?;
        Ok(self
            .store
            .search_professionals(caller.cpts(), query, page)
            .await?)
    }

    pub async fn count_professionals(&self, caller: &Caller) -> Result<i64> {
        caller.require(Permission::ViewMemberDirectory)?;
        Ok(self.store.count_professionals(caller.cpts()).await?)
    }

    /// Counts per category of professional (the dashboard, the diagnostic).
    pub async fn totals(&self, caller: &Caller) -> Result<Vec<DirectoryCount>> {
        caller.require(Permission::ViewMemberDirectory)?;
        Ok(self.store.directory_totals(caller.cpts()).await?)
    }

    /// A professional's record, not audited: for the edit form, shown again after a refused change. Entries
    /// kept for the coordination only are not found by the other roles.
    pub async fn professional_for_edit(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<ProfessionalRecord> {
        caller.require(Permission::ViewMemberDirectory)?;
        let record = self
            .store
            .professional(caller.cpts(), id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        if record.summary.visibility == Visibility::Private.code()
            && !caller.may(Permission::ManageDirectory)
        {
            return Err(DirectoryError::NotFound);
        }
        Ok(record)
    }

    /// A professional's record: the read is audited before it is returned.
    pub async fn professional(&self, caller: &Caller, id: Uuid) -> Result<ProfessionalRecord> {
        let record = self.professional_for_edit(caller, id).await?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(
                AuditAction::ProfessionalViewed,
                "professional",
                record.summary.id.to_string(),
            ),
        )
        .await?;
        Ok(record)
    }

    /// The CPTS facts of a professional's record (membership, missions, structure), with its audit entry.
    pub async fn update_professional_facts(
        &self,
        caller: &Caller,
        id: Uuid,
        facts: &ProfessionalFacts,
        structure: Option<Uuid>,
        facts_text: &str,
    ) -> Result<bool> {
        caller.require(Permission::ManageDirectory)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::ProfessionalUpdated,
                "professional",
                id.to_string(),
            ),
        );
        Ok(self
            .store
            .update_professional_facts(
                caller.cpts(),
                id,
                facts,
                structure,
                facts_text,
                now_ms(),
                &entry,
            )
            .await?)
    }

    pub async fn structure(&self, caller: &Caller, id: Uuid) -> Result<Structure> {
        caller.require(Permission::ViewMemberDirectory)?;
        self.store
            .structure(caller.cpts(), id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    pub async fn search_structures(
        &self,
        caller: &Caller,
        query: &StructureQuery,
        page: Page,
    ) -> Result<Vec<Structure>> {
        caller.require(Permission::ViewMemberDirectory)?;
        Ok(self
            .store
            .search_structures(caller.cpts(), query, page)
            .await?)
    }

    pub async fn count_structures(&self, caller: &Caller) -> Result<i64> {
        caller.require(Permission::ViewMemberDirectory)?;
        Ok(self.store.count_structures(caller.cpts()).await?)
    }

    /// A structure created by hand, with its audit entry; a FINESS or SIRET already taken is a
    /// `StoreError::Conflict`.
    pub async fn create_structure(
        &self,
        caller: &Caller,
        identity: &StructureIdentity,
        facts: &StructureFacts,
    ) -> Result<Uuid> {
        caller.require(Permission::ManageDirectory)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::StructureCreated, "structure", String::new()),
        );
        let id = self
            .store
            .create_structure(caller.cpts(), identity, facts, now_ms(), &entry)
            .await?;
        Ok(id)
    }

    pub async fn update_structure_facts(
        &self,
        caller: &Caller,
        id: Uuid,
        facts: &StructureFacts,
    ) -> Result<bool> {
        caller.require(Permission::ManageDirectory)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::StructureUpdated, "structure", id.to_string()),
        );
        Ok(self
            .store
            .update_structure_facts(caller.cpts(), id, facts, now_ms(), &entry)
            .await?)
    }

    /// The CPTS's latest imports.
    pub async fn imports(&self, caller: &Caller, page: Page) -> Result<Vec<ImportRun>> {
        caller.require(Permission::ManageDirectory)?;
        Ok(self.store.list_imports(caller.cpts(), page).await?)
    }

    pub async fn import(&self, caller: &Caller, id: Uuid) -> Result<ImportRun> {
        caller.require(Permission::ManageDirectory)?;
        self.store
            .find_import(caller.cpts(), id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    /// Starts an uploaded file's import in the background (see [`crate::imports::start`]).
    pub async fn start_import(
        &self,
        caller: &Caller,
        kind: ImportKind,
        file_name: &str,
        path: tempfile::TempPath,
        bytes: u64,
    ) -> Result<Uuid> {
        caller.require(Permission::ManageDirectory)?;
        Ok(crate::imports::start(
            self.store.clone(),
            caller.cpts(),
            kind,
            file_name,
            path,
            bytes,
            caller.audit().clone(),
        )
        .await?)
    }

    /// People with a role in the CPTS; the listing is audited before it is read.
    pub async fn members(
        &self,
        caller: &Caller,
        number: i64,
        page: Page,
    ) -> Result<Vec<MemberEntry>> {
        caller.require(Permission::ViewMemberDirectory)?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(AuditAction::MembersViewed, "members", String::new())
                .detail(serde_json::json!({ "page": number })),
        )
        .await?;
        Ok(self.store.list_members(caller.cpts(), page).await?)
    }

    /// Whether the CPTS requires a second factor of the roles that see patients; audited with the change.
    pub async fn set_mfa_required(&self, caller: &Caller, required: bool) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::MfaPolicyChanged,
                "cpts",
                caller.cpts().to_string(),
            )
            .detail(serde_json::json!({ "mfa_required": required })),
        );
        self.store
            .set_mfa_required(caller.cpts(), required, &entry)
            .await?;
        Ok(())
    }

    /// The coordination's phone, which signs every message sent on behalf of the CPTS; audited with the change.
    pub async fn set_contact_phone(&self, caller: &Caller, phone: &str) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        let phone =
            maillage_domain::professional::parse_phone("Téléphone de la coordination", phone)
                .map_err(DirectoryError::Invalid)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::CptsContactChanged,
                "cpts",
                caller.cpts().to_string(),
            ),
        );
        self.store
            .set_contact_phone(caller.cpts(), &phone, &entry)
            .await?;
        Ok(())
    }

    /// The CPTS of a public page.
    pub async fn public_cpts(&self, slug: &str) -> Result<Option<Cpts>> {
        Ok(self.store.find_cpts_by_slug(slug).await?)
    }

    /// The public entries of a CPTS's directory: only those whose professional chose to appear.
    pub async fn public_professionals(
        &self,
        cpts: &Cpts,
        query: &DirectoryQuery,
        page: Page,
    ) -> Result<Vec<ProfessionalSummary>> {
        let query = DirectoryQuery {
            public_only: true,
            ..query.clone()
        };
        Ok(self
            .store
            .search_professionals(cpts.id, &query, page)
            .await?)
    }
}

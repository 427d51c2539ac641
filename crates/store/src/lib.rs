//! Storage of Maillage: one [`Store`] trait, implemented once in SQL for SQLite (default) and PostgreSQL.
//!
//! Every method that reads or writes data owned by a CPTS takes that CPTS's [`CptsId`]: a caller cannot
//! reach a CPTS's records without naming the CPTS, so tenant isolation does not depend on remembering a
//! `WHERE` clause in each handler.

pub mod audit;
mod deliveries;
mod directory;
mod doctor_search;
mod error;
mod invitations;
mod meetings;
mod models;
mod pathway_figures;
mod pathway_inclusions;
mod pathways;
mod patients;
mod postgres;
mod rate_limits;
mod retention;
mod second_factor;
mod security;
mod sql;
mod sqlite;
mod structures;
mod territory;
pub mod testing;
mod tokens;
mod unscheduled_care;
mod waiting_lists;

pub use audit::{
    chain_key, verify_audit_chain, verify_audit_chains, ChainHead, ChainReport, CheckpointHead,
    PLATFORM_CHAIN,
};
pub use deliveries::{Delivery, DeliveryStore, NewDelivery};
pub use directory::{
    DirectoryCount, DirectoryCountStore, DirectoryQuery, DirectoryStore, ImportedProfessional,
    MemberTemplateEntry, PlacesOf, PracticePlace, PracticePlaceStore, ProfessionalRecord,
    ProfessionalSummary, ReferenceCount, UpsertOutcome, GENERAL_PRACTICE,
};
pub use doctor_search::{
    AnsweredProposal, CapacityEntry, DoctorRequest, DoctorSearchFigures, DoctorSearchOversight,
    DoctorSearchStore, DuplicateReviewStore, GpCapacity, GpCapacityStore, Proposal, ProposalStatus,
    ProposalStore, ProposalView, ReferralStore, RequestEvent, RequestFilter, StaleCapacity,
    StateChange,
};
pub use error::{decode, StoreError};
pub use invitations::{Invitation, InvitationStore};
pub use meetings::{
    AttendeeRow, CaseDecision, MeetingCaseRow, MeetingCounts, MeetingRow, MeetingStore, NewMeeting,
};
pub use models::*;
pub use pathway_figures::{InclusionCount, PathwayFigureStore, StepCount};
pub use pathway_inclusions::{
    InclusionRow, LateStep, LiaisonSheetRow, NewInclusion, NewLiaisonSheet, NewPathwayNote,
    NewPathwayStep, PathwayInclusionStore, PathwayNoteRow, PathwayStepRow, StepSettlement,
    TeamMember,
};
pub use pathways::{PathwayTemplateStore, PathwayTemplateVersion};
pub use patients::PatientStore;
pub use rate_limits::{RateCount, RateLimitStore};
pub use retention::RetentionStore;
pub use second_factor::SecondFactorStore;
pub use security::SecurityStore;
pub use sql::SqlStore;
pub use structures::{
    ImportRun, Structure, StructureFacts, StructureIdentity, StructureQuery, StructureStore,
};
pub use territory::TerritoryStore;
pub use tokens::{ApiToken, SasClient, TokenStore};
pub use unscheduled_care::{
    AgendaEntry, BookingConfirmation, BookingLine, BookingListQuery, BookingListStore,
    BookingScope, DysfunctionStore, NewBooking, NewSlot, RotaFilter, RotaStore, RotaSwap, RotaTurn,
    SlotQuery, SnpBooking, SnpDysfunction, SnpFigures, SnpPattern, SnpReportStore, SnpSlot,
    UnscheduledCareStore,
};
pub use waiting_lists::{NewWaitingEntry, WaitingEntryRow, WaitingListRow, WaitingListStore};

use async_trait::async_trait;
use maillage_domain::authz::Role;
use std::path::Path;
use std::sync::Arc;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and applies the embedded migrations;
/// audit entries are chained with a plain SHA-256 (no key): for tests and tools. `maillage` opens it with
/// [`open_with`] and the configured keys.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, Default::default()).await
}

/// [`open`], chaining new audit entries with a MAC of `audit_keys` (see [`maillage_domain::audit`]).
pub async fn open_with(
    url: &str,
    audit_keys: maillage_domain::audit::AuditKeys,
) -> Result<Arc<dyn Store>> {
    let store = SqlStore::connect(url).await?.with_audit_keys(audit_keys);
    store.migrate().await?;
    Ok(Arc::new(store))
}

/// Everything Maillage stores. The security and patient parts are separate traits for readability;
/// every store implements all of them.
#[async_trait]
pub trait Store:
    SecurityStore
    + SecondFactorStore
    + PatientStore
    + TerritoryStore
    + DirectoryStore
    + DirectoryCountStore
    + PracticePlaceStore
    + StructureStore
    + DoctorSearchStore
    + GpCapacityStore
    + ProposalStore
    + DoctorSearchOversight
    + DuplicateReviewStore
    + ReferralStore
    + UnscheduledCareStore
    + BookingListStore
    + RotaStore
    + DysfunctionStore
    + SnpReportStore
    + TokenStore
    + InvitationStore
    + PathwayTemplateStore
    + PathwayInclusionStore
    + PathwayFigureStore
    + WaitingListStore
    + MeetingStore
    + DeliveryStore
    + RateLimitStore
    + RetentionStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;

    /// Answers when the database answers.
    async fn ping(&self) -> Result<()>;

    /// Applies the embedded migrations that are not applied yet.
    async fn migrate(&self) -> Result<()>;

    /// Writes a consistent snapshot of the whole database to `path` while the server keeps running.
    async fn backup_to(&self, path: &Path) -> Result<()>;

    // --- CPTS (tenants) -------------------------------------------------------------------------

    async fn create_cpts(&self, new: &NewCpts, now: i64) -> Result<Cpts>;
    async fn find_cpts_by_slug(&self, slug: &str) -> Result<Option<Cpts>>;
    async fn find_cpts(&self, id: CptsId) -> Result<Option<Cpts>>;
    async fn list_cpts(&self, page: Page) -> Result<Vec<Cpts>>;

    // --- Accounts and roles -----------------------------------------------------------------------

    /// Creates an account, and its first role if given, in one transaction.
    async fn create_user(
        &self,
        new: &NewUser,
        role: Option<(CptsId, Role)>,
        now: i64,
    ) -> Result<User>;
    async fn find_user(&self, id: UserId) -> Result<Option<User>>;
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn list_users(&self, page: Page) -> Result<Vec<User>>;
    /// Returns false when no such account exists.
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> Result<bool>;
    async fn grant_role(&self, cpts: CptsId, user: UserId, role: Role, now: i64) -> Result<()>;
    /// The role `user` holds in `cpts` and the professional record their account is linked to there, in one
    /// query: what every request inside a CPTS needs to know who calls.
    async fn membership(
        &self,
        cpts: CptsId,
        user: UserId,
    ) -> Result<Option<(Role, Option<uuid::Uuid>)>>;
    /// Every CPTS where `user` holds a role, with that role.
    async fn roles_of_user(&self, user: UserId) -> Result<Vec<(Cpts, Role)>>;
    /// People holding a role in `cpts`.
    async fn list_members(&self, cpts: CptsId, page: Page) -> Result<Vec<MemberEntry>>;

    // --- Sessions (shared by every instance) --------------------------------------------------------

    async fn create_session(&self, session: &SessionRecord) -> Result<()>;
    /// The live session with this token hash: not expired, not idle for longer than `idle_ms`, account enabled.
    /// Refreshes its last-seen instant.
    async fn touch_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_ms: i64,
    ) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_user_sessions(&self, user: UserId) -> Result<u64>;
    async fn purge_expired_sessions(&self, now: i64, idle_ms: i64) -> Result<u64>;

    // --- Background jobs --------------------------------------------------------------------------

    async fn enqueue_job(&self, job: &NewJob, now: i64) -> Result<JobId>;
    /// Takes the next due job for `worker`, or a job whose previous worker's lease ran out.
    /// Two workers never hold the same job at once.
    async fn claim_job(&self, worker: &str, now: i64, lease_ms: i64) -> Result<Option<Job>>;
    /// Marks a job done; false when `worker` no longer holds it.
    async fn complete_job(&self, id: JobId, worker: &str, now: i64) -> Result<bool>;
    /// Records a failure: back to the queue at `retry_at`, or failed for good when `retry_at` is `None`.
    async fn fail_job(
        &self,
        id: JobId,
        worker: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool>;
    async fn find_job(&self, id: JobId) -> Result<Option<Job>>;
    /// Number of jobs per status.
    async fn job_counts(&self) -> Result<Vec<(String, i64)>>;

    // --- Locks ------------------------------------------------------------------------------------

    /// Takes or renews the named lease for `holder` until `now + ttl_ms`; false when another holder has it.
    async fn try_lock(&self, name: &str, holder: &str, now: i64, ttl_ms: i64) -> Result<bool>;
    async fn release_lock(&self, name: &str, holder: &str) -> Result<()>;

    // --- E-mail outbox ------------------------------------------------------------------------------

    /// Keeps an e-mail that could not be sent by SMTP because none is configured.
    /// A job writes at most one message (retries do not duplicate it).
    async fn push_outbox(&self, mail: &NewOutboxMail, now: i64) -> Result<()>;
    async fn list_outbox(&self, page: Page) -> Result<Vec<OutboxMail>>;
    async fn count_outbox(&self) -> Result<i64>;
}

use maillage_domain::authz::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(UserId, JobId, PatientId);

/// A CPTS's id. Tenancy by construction: only the store makes one (from a row it read), so that a page or a
/// service cannot make up the CPTS it works in — it gets it from the access layer, which read it from the
/// database for the signed-in person (or from a token).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct CptsId(pub(crate) Uuid);

impl CptsId {
    /// A new id, for a CPTS the store is about to create.
    pub(crate) fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The UUID, to write in a URL, a FHIR resource or a job's payload.
    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for CptsId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A page of a list: lists never load a whole table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub const MAX_LIMIT: i64 = 500;

    /// Page `number` (from 1) of `size` rows, clamped to sane bounds.
    pub fn new(number: i64, size: i64) -> Self {
        let limit = size.clamp(1, Self::MAX_LIMIT);
        let number = number.max(1);
        Self {
            limit,
            offset: (number - 1).saturating_mul(limit),
        }
    }

    pub fn first(size: i64) -> Self {
        Self::new(1, size)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpts {
    pub id: CptsId,
    pub slug: String,
    pub name: String,
    pub finess: Option<String>,
    pub siret: Option<String>,
    /// Roles that can read patient data must use a second factor in this CPTS.
    pub mfa_required: bool,
    /// The coordination's phone (ten digits, or empty): it signs the messages sent on behalf of the CPTS.
    pub contact_phone: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewCpts {
    pub slug: String,
    pub name: String,
    pub finess: Option<String>,
    pub siret: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_platform_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// Encrypted TOTP secret (pending until `totp_enabled`).
    pub totp_secret: Option<Vec<u8>>,
    pub totp_enabled: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The e-mail and name are personal data and the hash is a secret: only the identifier is printed.
        f.debug_struct("User")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_platform_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEntry {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// The account is disabled on the whole deployment (by the platform's administration).
    pub disabled: bool,
    /// The coordination suspended the person's access to this CPTS.
    pub suspended: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie token: the token itself is never stored.
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn code(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub cpts_id: Option<CptsId>,
    pub kind: String,
    /// JSON document the handler of `kind` understands.
    pub payload: String,
    pub max_attempts: i64,
    pub run_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub cpts_id: Option<CptsId>,
    pub kind: String,
    pub payload: String,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    /// The worker holding the job, or for a finished job the worker that completed it.
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewOutboxMail {
    pub cpts_id: Option<CptsId>,
    pub job_id: Option<JobId>,
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// A message of the outbox as stored: recipient and body sealed by the application (`sealed:…`), or emptied
/// once the message is older than the keeping delay (`reduced`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub cpts_id: Option<CptsId>,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub reduced: bool,
}

/// Which part of the audit trail a reader may see: one CPTS's, or the platform's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    Cpts(CptsId),
    Platform,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    /// Exact e-mail (or label) of the person who acted.
    pub actor: Option<String>,
    pub from: Option<i64>,
    pub until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: i64,
    pub cpts_id: Option<CptsId>,
    pub actor_id: Option<UserId>,
    /// Who acted, as shown: an e-mail, or "système", or the address tried in a failed login.
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    /// JSON with no health data.
    pub detail: String,
    pub purpose: String,
    pub ip: String,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Global order of writing, for listing.
    pub seq: i64,
    /// The chain (a CPTS's, or the platform's) and the entry's position in it, which the hash links.
    pub chain: String,
    pub chain_seq: i64,
    pub entry: NewAuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i64,
    pub window_start: i64,
    pub last_failure_at: i64,
    pub locked_until: i64,
}

/// A patient as stored: the identity is ciphertext, the blind index a keyed hash; neither reveals who.
#[derive(Clone, PartialEq, Eq)]
pub struct PatientRecord {
    pub id: PatientId,
    pub cpts_id: CptsId,
    pub identity: Vec<u8>,
    pub key_id: String,
    pub blind_index: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Keyed hashes of the words a search may find this patient by (name parts, birth date, phone): written
    /// with the row, never read back (a row read from the database has none here).
    pub search_terms: Vec<String>,
}

impl std::fmt::Debug for PatientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRecord")
            .field("id", &self.id)
            .field("cpts_id", &self.cpts_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        assert_eq!(
            Page::new(1, 20),
            Page {
                limit: 20,
                offset: 0
            }
        );
        assert_eq!(
            Page::new(3, 20),
            Page {
                limit: 20,
                offset: 40
            }
        );
        assert_eq!(
            Page::new(0, 0),
            Page {
                limit: 1,
                offset: 0
            }
        );
        assert_eq!(Page::new(2, 10_000).limit, Page::MAX_LIMIT);
        assert!(Page::new(i64::MAX, 500).offset > 0);
    }
}

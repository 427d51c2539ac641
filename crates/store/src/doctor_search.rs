//! Storage of the médecin traitant mission: requests (the patient's identity lives encrypted in `patients`),
//! their history, GPs' declared room, proposals, priority rules, and the indicators' aggregates. Every
//! method takes the CPTS, except the two an operator's maintenance runs over the whole database (retention,
//! capacity reminders) and the doctor's answer, which is found by the secret of its link.

use crate::audit::{commit_audited, AuditTx};
use crate::models::*;
use crate::sql::BeginWrite;
use crate::sql::{on_pool, SqlArg, SqlStore};
use crate::{Result, StoreError};
use async_trait::async_trait;
use maillage_domain::doctor_search::{Criteria, RequestState};
use sqlx::FromRow;
use uuid::Uuid;

/// A request as stored. `patient_id` is None once the request is anonymised.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorRequest {
    pub id: Uuid,
    pub cpts_id: CptsId,
    pub patient_id: Option<PatientId>,
    pub channel: String,
    pub referrer: String,
    pub referrer_user_id: Option<UserId>,
    pub consent_by: String,
    pub consent_method: String,
    pub consent_at: i64,
    pub consent_recorded_by: Option<UserId>,
    pub birth_year: i64,
    pub age_at_request: i64,
    pub commune_code: String,
    pub criteria: Criteria,
    pub priority: i64,
    pub priority_reasons: String,
    pub state: RequestState,
    pub state_since: i64,
    pub professional_id: Option<Uuid>,
    pub outcome: String,
    pub submissions: i64,
    pub received_at: i64,
    pub attached_at: Option<i64>,
    pub anonymised_at: Option<i64>,
    pub updated_at: i64,
}

/// One step of a request's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent {
    pub id: Uuid,
    pub at: i64,
    /// `created`, `merged`, `state`, `edited`, `notified`.
    pub kind: String,
    pub from_state: String,
    pub to_state: String,
    pub actor_id: Option<UserId>,
    pub detail: String,
}

impl RequestEvent {
    pub fn new(kind: &str, from: &str, to: &str, actor: Option<UserId>, at: i64) -> Self {
        Self {
            id: Uuid::now_v7(),
            at,
            kind: kind.to_string(),
            from_state: from.to_string(),
            to_state: to.to_string(),
            actor_id: actor,
            detail: String::new(),
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Empty: every state.
    pub states: Vec<RequestState>,
    /// Only those referred by this account (a partner follows their own referrals).
    pub referrer: Option<UserId>,
    /// Only those waiting longer than their state allows, as of `now`.
    pub overdue_at: Option<i64>,
}

/// A change of state, applied only if the request is still in `from` (two people acting at once: one wins).
#[derive(Debug, Clone)]
pub struct StateChange {
    pub from: RequestState,
    pub to: RequestState,
    /// Some(x): set the GP concerned to x (None clears it).
    pub professional: Option<Option<Uuid>>,
    pub outcome: String,
    pub event: RequestEvent,
}

/// What a GP declared about taking new patients.
#[derive(Debug, Clone, PartialEq)]
pub struct GpCapacity {
    pub professional_id: Uuid,
    pub now_capacity: i64,
    pub later_capacity: i64,
    /// INSEE codes, `;`-separated; empty: any commune within the distance.
    pub communes: String,
    pub max_distance_km: Option<i64>,
    /// Codes of `AGE_GROUPS`, `;`-separated.
    pub age_groups: String,
    pub home_visits: bool,
    pub updated_at: i64,
    pub updated_by: Option<UserId>,
}

/// A declaration with who made it, for the coordinator's table and the matching.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityEntry {
    pub capacity: GpCapacity,
    pub name: String,
    pub commune_code: String,
    /// Proposals sent and not answered yet: they hold a place.
    pub pending: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalStatus {
    Draft,
    Sent,
    Accepted,
    Declined,
    Cancelled,
}

impl ProposalStatus {
    pub fn code(&self) -> &'static str {
        match self {
            ProposalStatus::Draft => "draft",
            ProposalStatus::Sent => "sent",
            ProposalStatus::Accepted => "accepted",
            ProposalStatus::Declined => "declined",
            ProposalStatus::Cancelled => "cancelled",
        }
    }

    fn parse(code: &str) -> Result<Self> {
        Ok(match code {
            "draft" => ProposalStatus::Draft,
            "sent" => ProposalStatus::Sent,
            "accepted" => ProposalStatus::Accepted,
            "declined" => ProposalStatus::Declined,
            "cancelled" => ProposalStatus::Cancelled,
            other => return Err(StoreError::Corrupt(format!("proposal status {other}"))),
        })
    }
}

/// A proposal of one request to one GP: a draft of the matching, then sent with a link, then answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub id: Uuid,
    pub cpts_id: CptsId,
    pub request_id: Uuid,
    pub professional_id: Uuid,
    pub status: ProposalStatus,
    pub distance_m: i64,
    pub priority: i64,
    pub explanation: String,
    pub decline_reason: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub answered_at: Option<i64>,
}

/// A proposal with what the pages show of it (no patient identity).
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalView {
    pub proposal: Proposal,
    pub doctor_name: String,
    pub request_commune: String,
    pub age_at_request: i64,
}

/// The aggregates behind the indicators of one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoctorSearchFigures {
    pub by_channel: Vec<(String, i64)>,
    pub by_referrer: Vec<(String, i64)>,
    pub targeted: i64,
    pub informed: i64,
    pub oriented: i64,
    pub attached: i64,
    pub attached_ald: i64,
    pub attached_css: i64,
    pub attached_aged_70: i64,
    /// Days from request to attachment, of each request attached in the period.
    pub attachment_delays_days: Vec<i64>,
    /// Open requests now, by priority score.
    pub backlog_by_priority: Vec<(i64, i64)>,
    pub gps_declaring: i64,
    pub gps_accepting: i64,
    pub capacity_now: i64,
    pub capacity_later: i64,
    pub places_used: i64,
}

/// A capacity not refreshed for long: its GP is reminded.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleCapacity {
    pub cpts_id: CptsId,
    pub cpts_slug: String,
    pub professional_id: Uuid,
    pub email: Option<String>,
    pub updated_at: i64,
}

#[async_trait]
pub trait DoctorSearchStore: Send + Sync {
    /// Records the patient, the request and its first event in one transaction.
    async fn create_doctor_request(
        &self,
        patient: &PatientRecord,
        request: &DoctorRequest,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// A request still open for one of these patients (duplicate detection).
    async fn open_request_of_patients(
        &self,
        cpts: CptsId,
        patients: &[PatientId],
    ) -> Result<Option<DoctorRequest>>;
    /// Adds a new submission to an open request: criteria, priority, one more submission, an event.
    async fn merge_into_request(
        &self,
        cpts: CptsId,
        id: Uuid,
        criteria: &Criteria,
        priority: (i64, &str),
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn find_doctor_request(&self, cpts: CptsId, id: Uuid) -> Result<Option<DoctorRequest>>;
    /// Highest priority first, then oldest.
    async fn list_doctor_requests(
        &self,
        cpts: CptsId,
        filter: &RequestFilter,
        page: Page,
    ) -> Result<Vec<DoctorRequest>>;
    async fn count_requests_by_state(&self, cpts: CptsId) -> Result<Vec<(RequestState, i64)>>;
    async fn count_overdue_requests(&self, cpts: CptsId, now: i64) -> Result<i64>;
    /// Applies `change` if the request is still in `change.from`; false otherwise.
    async fn change_request_state(
        &self,
        cpts: CptsId,
        id: Uuid,
        change: &StateChange,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Qualification: commune, age, criteria, priority, and optionally the re-encrypted identity.
    #[allow(clippy::too_many_arguments)]
    async fn update_request_details(
        &self,
        cpts: CptsId,
        id: Uuid,
        commune_code: &str,
        birth_year: i64,
        age_at_request: i64,
        criteria: &Criteria,
        priority: (i64, &str),
        identity: Option<&PatientRecord>,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn set_request_priority(
        &self,
        cpts: CptsId,
        id: Uuid,
        priority: (i64, &str),
    ) -> Result<()>;
    async fn request_events(&self, cpts: CptsId, id: Uuid) -> Result<Vec<RequestEvent>>;
    async fn add_request_event(
        &self,
        cpts: CptsId,
        request: Uuid,
        event: &RequestEvent,
    ) -> Result<()>;

    // --- GPs and their room ----------------------------------------------------------------------
    async fn link_professional_account(
        &self,
        cpts: CptsId,
        user: UserId,
        professional: Uuid,
    ) -> Result<()>;
    async fn professional_of_user(&self, cpts: CptsId, user: UserId) -> Result<Option<Uuid>>;
    /// Where to write to a GP: their account's e-mail, else the CPTS contact e-mail of their record.
    async fn professional_email(&self, cpts: CptsId, professional: Uuid) -> Result<Option<String>>;
    async fn save_capacity(
        &self,
        cpts: CptsId,
        capacity: &GpCapacity,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn find_capacity(&self, cpts: CptsId, professional: Uuid) -> Result<Option<GpCapacity>>;
    /// Every declaration of the CPTS (a few hundred GPs at most), names and communes joined.
    async fn list_capacities(&self, cpts: CptsId, page: Page) -> Result<Vec<CapacityEntry>>;
    /// Declarations older than `before` whose GP was not reminded since `before`, any CPTS.
    async fn stale_capacities(&self, before: i64, limit: i64) -> Result<Vec<StaleCapacity>>;
    async fn mark_capacity_reminded(
        &self,
        cpts: CptsId,
        professional: Uuid,
        now: i64,
    ) -> Result<()>;

    // --- Proposals ---------------------------------------------------------------------------------
    /// Replaces the CPTS's draft proposals by a new matching's.
    async fn replace_draft_proposals(
        &self,
        cpts: CptsId,
        drafts: &[Proposal],
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn list_proposals(
        &self,
        cpts: CptsId,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>>;
    async fn find_proposal(&self, cpts: CptsId, id: Uuid) -> Result<Option<Proposal>>;
    async fn proposals_of_request(&self, cpts: CptsId, request: Uuid) -> Result<Vec<ProposalView>>;
    /// Overrides a draft: another GP (with its distance), or none (the draft is dropped).
    async fn override_draft(
        &self,
        cpts: CptsId,
        id: Uuid,
        professional: Option<(Uuid, i64)>,
    ) -> Result<bool>;
    /// Creates a proposal outside any matching (the coordinator picks the GP), as a draft.
    async fn create_proposal(&self, proposal: &Proposal) -> Result<()>;
    /// Sends a draft: it gets its link's secret, the request moves to "proposed". False (and the draft
    /// cancelled) when the request is no longer waiting for a doctor.
    async fn send_proposal(
        &self,
        cpts: CptsId,
        id: Uuid,
        token_hash: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The proposal whose link has this secret, whatever its CPTS.
    async fn find_proposal_by_token(&self, token_hash: &str) -> Result<Option<ProposalView>>;
    /// The GP's answer: the proposal and the request move together; an acceptance takes one place.
    async fn answer_proposal(
        &self,
        proposal: &Proposal,
        accepted: bool,
        decline_reason: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// (request, GP) pairs already declined: the matching does not propose them again.
    async fn declined_pairs(&self, cpts: CptsId) -> Result<Vec<(Uuid, Uuid)>>;

    // --- Settings, indicators, retention -------------------------------------------------------------
    async fn priority_rules(&self, cpts: CptsId) -> Result<Option<String>>;
    async fn save_priority_rules(
        &self,
        cpts: CptsId,
        rules: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn doctor_search_figures(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
    ) -> Result<DoctorSearchFigures>;
    /// Anonymises up to `limit` requests final since before `before`, any CPTS: the patient's identity is
    /// deleted (unless another request still needs it), the referrer's name and event details erased.
    /// Returns the requests anonymised.
    async fn anonymise_final_requests(
        &self,
        before: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<(CptsId, Uuid)>>;
}

#[derive(FromRow)]
struct RequestRow {
    id: Uuid,
    cpts_id: Uuid,
    patient_id: Option<Uuid>,
    channel: String,
    referrer: String,
    referrer_user_id: Option<Uuid>,
    consent_by: String,
    consent_method: String,
    consent_at: i64,
    consent_recorded_by: Option<Uuid>,
    birth_year: i64,
    age_at_request: i64,
    commune_code: String,
    ald: bool,
    css: bool,
    ame: bool,
    loss_of_autonomy: bool,
    isolation: bool,
    precarity: bool,
    disability: bool,
    pregnancy: bool,
    former_gp_left: bool,
    priority: i64,
    priority_reasons: String,
    state: String,
    state_since: i64,
    professional_id: Option<Uuid>,
    outcome: String,
    submissions: i64,
    received_at: i64,
    attached_at: Option<i64>,
    anonymised_at: Option<i64>,
    updated_at: i64,
}

const REQUEST_COLUMNS: &str = "id, cpts_id, patient_id, channel, referrer, referrer_user_id, consent_by, \
    consent_method, consent_at, consent_recorded_by, birth_year, age_at_request, commune_code, ald, css, ame, \
    loss_of_autonomy, isolation, precarity, disability, pregnancy, former_gp_left, priority, priority_reasons, \
    state, state_since, professional_id, outcome, submissions, received_at, attached_at, anonymised_at, updated_at";

fn parse_state(code: &str) -> Result<RequestState> {
    RequestState::parse(code).ok_or_else(|| StoreError::Corrupt(format!("request state {code}")))
}

impl TryFrom<RequestRow> for DoctorRequest {
    type Error = StoreError;
    fn try_from(row: RequestRow) -> Result<Self> {
        Ok(DoctorRequest {
            id: row.id,
            cpts_id: CptsId(row.cpts_id),
            patient_id: row.patient_id.map(PatientId),
            channel: row.channel,
            referrer: row.referrer,
            referrer_user_id: row.referrer_user_id.map(UserId),
            consent_by: row.consent_by,
            consent_method: row.consent_method,
            consent_at: row.consent_at,
            consent_recorded_by: row.consent_recorded_by.map(UserId),
            birth_year: row.birth_year,
            age_at_request: row.age_at_request,
            commune_code: row.commune_code,
            criteria: Criteria {
                ald: row.ald,
                css: row.css,
                ame: row.ame,
                loss_of_autonomy: row.loss_of_autonomy,
                isolation: row.isolation,
                precarity: row.precarity,
                disability: row.disability,
                pregnancy: row.pregnancy,
                former_gp_left: row.former_gp_left,
            },
            priority: row.priority,
            priority_reasons: row.priority_reasons,
            state: parse_state(&row.state)?,
            state_since: row.state_since,
            professional_id: row.professional_id,
            outcome: row.outcome,
            submissions: row.submissions,
            received_at: row.received_at,
            attached_at: row.attached_at,
            anonymised_at: row.anonymised_at,
            updated_at: row.updated_at,
        })
    }
}

fn requests(rows: Vec<RequestRow>) -> Result<Vec<DoctorRequest>> {
    rows.into_iter().map(DoctorRequest::try_from).collect()
}

#[derive(FromRow)]
struct EventRow {
    id: Uuid,
    at: i64,
    kind: String,
    from_state: String,
    to_state: String,
    actor_id: Option<Uuid>,
    detail: String,
}

#[derive(FromRow)]
struct ProposalRow {
    id: Uuid,
    cpts_id: Uuid,
    request_id: Uuid,
    professional_id: Uuid,
    status: String,
    distance_m: i64,
    priority: i64,
    explanation: String,
    decline_reason: String,
    created_at: i64,
    sent_at: Option<i64>,
    answered_at: Option<i64>,
}

impl TryFrom<ProposalRow> for Proposal {
    type Error = StoreError;
    fn try_from(row: ProposalRow) -> Result<Self> {
        Ok(Proposal {
            id: row.id,
            cpts_id: CptsId(row.cpts_id),
            request_id: row.request_id,
            professional_id: row.professional_id,
            status: ProposalStatus::parse(&row.status)?,
            distance_m: row.distance_m,
            priority: row.priority,
            explanation: row.explanation,
            decline_reason: row.decline_reason,
            created_at: row.created_at,
            sent_at: row.sent_at,
            answered_at: row.answered_at,
        })
    }
}

#[derive(FromRow)]
struct ProposalViewRow {
    #[sqlx(flatten)]
    proposal: ProposalRow,
    doctor_name: String,
    request_commune: String,
    age_at_request: i64,
}

fn proposal_views(rows: Vec<ProposalViewRow>) -> Result<Vec<ProposalView>> {
    rows.into_iter()
        .map(|row| {
            Ok(ProposalView {
                proposal: row.proposal.try_into()?,
                doctor_name: row.doctor_name,
                request_commune: row.request_commune,
                age_at_request: row.age_at_request,
            })
        })
        .collect()
}

const PROPOSAL_COLUMNS: &str =
    "p.id, p.cpts_id, p.request_id, p.professional_id, p.status, p.distance_m, \
    p.priority, p.explanation, p.decline_reason, p.created_at, p.sent_at, p.answered_at";

fn proposal_view_sql(condition: &str) -> String {
    format!(
        "SELECT {PROPOSAL_COLUMNS}, (d.first_name || ' ' || d.last_name) AS doctor_name, \
         r.commune_code AS request_commune, r.age_at_request \
         FROM doctor_proposals p JOIN professionals d ON d.id = p.professional_id \
         JOIN doctor_requests r ON r.id = p.request_id WHERE {condition}"
    )
}

#[derive(FromRow)]
struct CapacityRow {
    professional_id: Uuid,
    now_capacity: i64,
    later_capacity: i64,
    communes: String,
    max_distance_km: Option<i64>,
    age_groups: String,
    home_visits: bool,
    updated_at: i64,
    updated_by: Option<Uuid>,
}

impl From<CapacityRow> for GpCapacity {
    fn from(row: CapacityRow) -> Self {
        GpCapacity {
            professional_id: row.professional_id,
            now_capacity: row.now_capacity,
            later_capacity: row.later_capacity,
            communes: row.communes,
            max_distance_km: row.max_distance_km,
            age_groups: row.age_groups,
            home_visits: row.home_visits,
            updated_at: row.updated_at,
            updated_by: row.updated_by.map(UserId),
        }
    }
}

#[derive(FromRow)]
struct CapacityEntryRow {
    #[sqlx(flatten)]
    capacity: CapacityRow,
    name: String,
    commune_code: Option<String>,
    pending: i64,
}

/// The SQL condition for "overdue as of $2", from the domain's delays.
fn overdue_condition() -> String {
    let parts: Vec<String> = RequestState::ALL
        .into_iter()
        .filter_map(|state| {
            state.overdue_after_days().map(|days| {
                format!(
                    "(state = '{}' AND state_since < $2 - {})",
                    state.code(),
                    days * 86_400_000
                )
            })
        })
        .collect();
    format!("({})", parts.join(" OR "))
}

fn final_states_sql() -> String {
    let codes: Vec<String> = RequestState::ALL
        .into_iter()
        .filter(|s| s.is_final())
        .map(|s| format!("'{}'", s.code()))
        .collect();
    format!("({})", codes.join(", "))
}

/// Binds the nine criteria, in the order of `Criterion::ALL`.
macro_rules! bind_criteria {
    ($query:expr, $c:expr) => {
        $query
            .bind($c.ald)
            .bind($c.css)
            .bind($c.ame)
            .bind($c.loss_of_autonomy)
            .bind($c.isolation)
            .bind($c.precarity)
            .bind($c.disability)
            .bind($c.pregnancy)
            .bind($c.former_gp_left)
    };
}

const INSERT_EVENT: &str =
    "INSERT INTO doctor_request_events (id, cpts_id, request_id, at, kind, from_state, \
    to_state, actor_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

macro_rules! insert_event {
    ($tx:expr, $cpts:expr, $request:expr, $event:expr) => {
        sqlx::query(INSERT_EVENT)
            .bind($event.id)
            .bind($cpts.0)
            .bind($request)
            .bind($event.at)
            .bind(&$event.kind)
            .bind(&$event.from_state)
            .bind(&$event.to_state)
            .bind($event.actor_id.map(|u| u.0))
            .bind(&$event.detail)
            .execute($tx)
            .await
    };
}

#[async_trait]
impl DoctorSearchStore for SqlStore {
    async fn create_doctor_request(
        &self,
        patient: &PatientRecord,
        request: &DoctorRequest,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let insert_patient = "INSERT INTO patients (id, cpts_id, identity, key_id, blind_index, created_at, updated_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING";
        let insert_request = format!(
            "INSERT INTO doctor_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, \
             $31, $32, $33)"
        );
        let r = request;
        let c = &r.criteria;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(insert_patient)
                .bind(patient.id.0)
                .bind(patient.cpts_id.0)
                .bind(&patient.identity)
                .bind(&patient.key_id)
                .bind(&patient.blind_index)
                .bind(patient.created_at)
                .bind(patient.updated_at)
                .execute(&mut *tx)
                .await?;
            bind_criteria!(sqlx::query(&insert_request)
                .bind(r.id)
                .bind(r.cpts_id.0)
                .bind(r.patient_id.map(|p| p.0))
                .bind(&r.channel)
                .bind(&r.referrer)
                .bind(r.referrer_user_id.map(|u| u.0))
                .bind(&r.consent_by)
                .bind(&r.consent_method)
                .bind(r.consent_at)
                .bind(r.consent_recorded_by.map(|u| u.0))
                .bind(r.birth_year)
                .bind(r.age_at_request)
                .bind(&r.commune_code), c)
                .bind(r.priority)
                .bind(&r.priority_reasons)
                .bind(r.state.code())
                .bind(r.state_since)
                .bind(r.professional_id)
                .bind(&r.outcome)
                .bind(r.submissions)
                .bind(r.received_at)
                .bind(r.attached_at)
                .bind(r.anonymised_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await?;
            insert_event!(&mut *tx, r.cpts_id, r.id, event)?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn open_request_of_patients(
        &self,
        cpts: CptsId,
        patients: &[PatientId],
    ) -> Result<Option<DoctorRequest>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM doctor_requests WHERE cpts_id = $1 AND patient_id = $2 \
             AND state NOT IN {} ORDER BY received_at LIMIT 1",
            final_states_sql()
        );
        for patient in patients {
            let row: Option<RequestRow> = on_pool!(self, pool => sqlx::query_as(&sql)
                .bind(cpts.0)
                .bind(patient.0)
                .fetch_optional(pool)
                .await)?;
            if let Some(row) = row {
                return Ok(Some(row.try_into()?));
            }
        }
        Ok(None)
    }

    async fn merge_into_request(
        &self,
        cpts: CptsId,
        id: Uuid,
        criteria: &Criteria,
        priority: (i64, &str),
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE doctor_requests SET ald = $3, css = $4, ame = $5, loss_of_autonomy = $6, isolation = $7, \
                   precarity = $8, disability = $9, pregnancy = $10, former_gp_left = $11, priority = $12, \
                   priority_reasons = $13, submissions = submissions + 1, updated_at = $14 \
                   WHERE cpts_id = $1 AND id = $2";
        let c = criteria;
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = bind_criteria!(sqlx::query(sql)
                .bind(cpts.0)
                .bind(id), c)
                .bind(priority.0)
                .bind(priority.1)
                .bind(event.at)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                insert_event!(&mut *tx, cpts, id, event)?;
                tx.append_audit(audit).await?;
            }
            tx.commit().await?;
            done.rows_affected() == 1
        });
        Ok(changed)
    }

    async fn find_doctor_request(&self, cpts: CptsId, id: Uuid) -> Result<Option<DoctorRequest>> {
        let sql =
            format!("SELECT {REQUEST_COLUMNS} FROM doctor_requests WHERE cpts_id = $1 AND id = $2");
        let row: Option<RequestRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_doctor_requests(
        &self,
        cpts: CptsId,
        filter: &RequestFilter,
        page: Page,
    ) -> Result<Vec<DoctorRequest>> {
        let mut conditions = vec!["cpts_id = $1".to_string()];
        if !filter.states.is_empty() {
            let codes: Vec<String> = filter
                .states
                .iter()
                .map(|s| format!("'{}'", s.code()))
                .collect();
            conditions.push(format!("state IN ({})", codes.join(", ")));
        }
        // $2 is always bound (the instant for "overdue", or 0), $3 the referrer (or a nil id when unused).
        if filter.overdue_at.is_some() {
            conditions.push(overdue_condition());
        }
        if filter.referrer.is_some() {
            conditions.push("referrer_user_id = $3".to_string());
        } else {
            conditions.push("$3 = $3".to_string());
        }
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM doctor_requests WHERE {} AND $2 = $2 \
             ORDER BY priority DESC, received_at, id LIMIT $4 OFFSET $5",
            conditions.join(" AND ")
        );
        let rows: Vec<RequestRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(filter.overdue_at.unwrap_or(0))
            .bind(filter.referrer.map(|u| u.0).unwrap_or_default())
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        requests(rows)
    }

    async fn count_requests_by_state(&self, cpts: CptsId) -> Result<Vec<(RequestState, i64)>> {
        let sql = "SELECT state, COUNT(*) FROM doctor_requests WHERE cpts_id = $1 GROUP BY state";
        let rows: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|(state, count)| Ok((parse_state(&state)?, count)))
            .collect()
    }

    async fn count_overdue_requests(&self, cpts: CptsId, now: i64) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM doctor_requests WHERE cpts_id = $1 AND {}",
            overdue_condition()
        );
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(cpts.0)
            .bind(now)
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }

    async fn change_request_state(
        &self,
        cpts: CptsId,
        id: Uuid,
        change: &StateChange,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let attached = (change.to == RequestState::Closed).then_some(change.event.at);
        let (set_professional, professional) = match change.professional {
            Some(value) => (true, value),
            None => (false, None),
        };
        let sql = "UPDATE doctor_requests SET state = $4, state_since = $5, updated_at = $5, outcome = $6, \
                   attached_at = COALESCE($7, attached_at), \
                   professional_id = CASE WHEN $8 THEN $9 ELSE professional_id END \
                   WHERE cpts_id = $1 AND id = $2 AND state = $3";
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(cpts.0)
                .bind(id)
                .bind(change.from.code())
                .bind(change.to.code())
                .bind(change.event.at)
                .bind(&change.outcome)
                .bind(attached)
                .bind(set_professional)
                .bind(professional)
                .execute(&mut *tx)
                .await?;
            let changed = done.rows_affected() == 1;
            if changed {
                insert_event!(&mut *tx, cpts, id, &change.event)?;
                tx.append_audit(audit).await?;
                tx.commit().await?;
            }
            changed
        });
        Ok(changed)
    }

    async fn update_request_details(
        &self,
        cpts: CptsId,
        id: Uuid,
        commune_code: &str,
        birth_year: i64,
        age_at_request: i64,
        criteria: &Criteria,
        priority: (i64, &str),
        identity: Option<&PatientRecord>,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE doctor_requests SET commune_code = $3, birth_year = $4, age_at_request = $5, ald = $6, \
                   css = $7, ame = $8, loss_of_autonomy = $9, isolation = $10, precarity = $11, disability = $12, \
                   pregnancy = $13, former_gp_left = $14, priority = $15, priority_reasons = $16, updated_at = $17 \
                   WHERE cpts_id = $1 AND id = $2";
        let update_patient =
            "UPDATE patients SET identity = $3, key_id = $4, blind_index = $5, updated_at = $6 \
                              WHERE cpts_id = $1 AND id = $2";
        let c = criteria;
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = bind_criteria!(sqlx::query(sql)
                .bind(cpts.0)
                .bind(id)
                .bind(commune_code)
                .bind(birth_year)
                .bind(age_at_request), c)
                .bind(priority.0)
                .bind(priority.1)
                .bind(event.at)
                .execute(&mut *tx)
                .await?;
            let changed = done.rows_affected() == 1;
            if changed {
                if let Some(patient) = identity {
                    sqlx::query(update_patient)
                        .bind(cpts.0)
                        .bind(patient.id.0)
                        .bind(&patient.identity)
                        .bind(&patient.key_id)
                        .bind(&patient.blind_index)
                        .bind(patient.updated_at)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_event!(&mut *tx, cpts, id, event)?;
                tx.append_audit(audit).await?;
                tx.commit().await?;
            }
            changed
        });
        Ok(changed)
    }

    async fn set_request_priority(
        &self,
        cpts: CptsId,
        id: Uuid,
        priority: (i64, &str),
    ) -> Result<()> {
        let sql = "UPDATE doctor_requests SET priority = $3, priority_reasons = $4 WHERE cpts_id = $1 AND id = $2";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(id)
            .bind(priority.0)
            .bind(priority.1)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn request_events(&self, cpts: CptsId, id: Uuid) -> Result<Vec<RequestEvent>> {
        let sql = "SELECT id, at, kind, from_state, to_state, actor_id, detail FROM doctor_request_events \
                   WHERE cpts_id = $1 AND request_id = $2 ORDER BY at, id LIMIT 500";
        let rows: Vec<EventRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|row| RequestEvent {
                id: row.id,
                at: row.at,
                kind: row.kind,
                from_state: row.from_state,
                to_state: row.to_state,
                actor_id: row.actor_id.map(UserId),
                detail: row.detail,
            })
            .collect())
    }

    async fn add_request_event(
        &self,
        cpts: CptsId,
        request: Uuid,
        event: &RequestEvent,
    ) -> Result<()> {
        on_pool!(self, pool => insert_event!(pool, cpts, request, event).map(|_| ()))?;
        Ok(())
    }

    async fn link_professional_account(
        &self,
        cpts: CptsId,
        user: UserId,
        professional: Uuid,
    ) -> Result<()> {
        let sql = "INSERT INTO professional_accounts (cpts_id, user_id, professional_id) VALUES ($1, $2, $3) \
                   ON CONFLICT (cpts_id, user_id) DO UPDATE SET professional_id = excluded.professional_id";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(user.0)
            .bind(professional)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn professional_of_user(&self, cpts: CptsId, user: UserId) -> Result<Option<Uuid>> {
        let sql =
            "SELECT professional_id FROM professional_accounts WHERE cpts_id = $1 AND user_id = $2";
        let id: Option<Uuid> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .bind(user.0)
            .fetch_optional(pool)
            .await)?;
        Ok(id)
    }

    async fn professional_email(&self, cpts: CptsId, professional: Uuid) -> Result<Option<String>> {
        let sql = "SELECT COALESCE((SELECT u.email FROM professional_accounts a JOIN users u ON u.id = a.user_id \
                   WHERE a.cpts_id = $1 AND a.professional_id = $2 AND u.disabled = FALSE LIMIT 1), \
                   NULLIF(p.contact_email, '')) FROM professionals p WHERE p.cpts_id = $1 AND p.id = $2";
        let email: Option<Option<String>> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .bind(professional)
            .fetch_optional(pool)
            .await)?;
        Ok(email.flatten())
    }

    async fn save_capacity(
        &self,
        cpts: CptsId,
        capacity: &GpCapacity,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO gp_capacities (cpts_id, professional_id, now_capacity, later_capacity, communes, \
                   max_distance_km, age_groups, home_visits, updated_at, updated_by) \
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM professionals WHERE cpts_id = $1 AND id = $2 \
                   ON CONFLICT (cpts_id, professional_id) DO UPDATE SET now_capacity = excluded.now_capacity, \
                   later_capacity = excluded.later_capacity, communes = excluded.communes, \
                   max_distance_km = excluded.max_distance_km, age_groups = excluded.age_groups, \
                   home_visits = excluded.home_visits, updated_at = excluded.updated_at, \
                   updated_by = excluded.updated_by, reminded_at = NULL";
        let c = capacity;
        let saved = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(cpts.0)
                .bind(c.professional_id)
                .bind(c.now_capacity)
                .bind(c.later_capacity)
                .bind(&c.communes)
                .bind(c.max_distance_km)
                .bind(&c.age_groups)
                .bind(c.home_visits)
                .bind(c.updated_at)
                .bind(c.updated_by.map(|u| u.0))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_audited!(tx, done == 1, audit)?
        });
        if !saved {
            return Err(StoreError::NotFound("professional"));
        }
        Ok(())
    }

    async fn find_capacity(&self, cpts: CptsId, professional: Uuid) -> Result<Option<GpCapacity>> {
        let sql = "SELECT professional_id, now_capacity, later_capacity, communes, max_distance_km, age_groups, \
                   home_visits, updated_at, updated_by FROM gp_capacities WHERE cpts_id = $1 AND professional_id = $2";
        let row: Option<CapacityRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(professional)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn list_capacities(&self, cpts: CptsId, page: Page) -> Result<Vec<CapacityEntry>> {
        let sql = "SELECT c.professional_id, c.now_capacity, c.later_capacity, c.communes, c.max_distance_km, \
                   c.age_groups, c.home_visits, c.updated_at, c.updated_by, \
                   (p.first_name || ' ' || p.last_name) AS name, \
                   (SELECT pp.commune_code FROM practice_places pp WHERE pp.professional_id = p.id \
                    AND pp.commune_code <> '' ORDER BY pp.position LIMIT 1) AS commune_code, \
                   (SELECT COUNT(*) FROM doctor_proposals dp WHERE dp.professional_id = p.id \
                    AND dp.status = 'sent') AS pending \
                   FROM gp_capacities c JOIN professionals p ON p.id = c.professional_id \
                   WHERE c.cpts_id = $1 ORDER BY p.last_name, p.first_name, p.id LIMIT $2 OFFSET $3";
        let rows: Vec<CapacityEntryRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|row| CapacityEntry {
                capacity: row.capacity.into(),
                name: row.name,
                commune_code: row.commune_code.unwrap_or_default(),
                pending: row.pending,
            })
            .collect())
    }

    async fn stale_capacities(&self, before: i64, limit: i64) -> Result<Vec<StaleCapacity>> {
        let sql = "SELECT c.cpts_id, k.slug, c.professional_id, c.updated_at FROM gp_capacities c \
                   JOIN cpts k ON k.id = c.cpts_id \
                   WHERE c.updated_at < $1 AND (c.reminded_at IS NULL OR c.reminded_at < $1) \
                   ORDER BY c.updated_at LIMIT $2";
        let rows: Vec<(Uuid, String, Uuid, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        let mut stale = Vec::with_capacity(rows.len());
        for (cpts, slug, professional, updated_at) in rows {
            stale.push(StaleCapacity {
                cpts_id: CptsId(cpts),
                cpts_slug: slug,
                professional_id: professional,
                email: self.professional_email(CptsId(cpts), professional).await?,
                updated_at,
            });
        }
        Ok(stale)
    }

    async fn mark_capacity_reminded(
        &self,
        cpts: CptsId,
        professional: Uuid,
        now: i64,
    ) -> Result<()> {
        let sql =
            "UPDATE gp_capacities SET reminded_at = $3 WHERE cpts_id = $1 AND professional_id = $2";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(professional)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn replace_draft_proposals(
        &self,
        cpts: CptsId,
        drafts: &[Proposal],
        audit: &NewAuditEntry,
    ) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM doctor_proposals WHERE cpts_id = $1 AND status = 'draft'")
                .bind(cpts.0)
                .execute(&mut *tx)
                .await?;
            for draft in drafts {
                insert_proposal!(&mut *tx, cpts, draft)?;
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn list_proposals(
        &self,
        cpts: CptsId,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>> {
        let sql = format!(
            "{} ORDER BY p.priority DESC, p.distance_m, p.id LIMIT $3 OFFSET $4",
            proposal_view_sql("p.cpts_id = $1 AND p.status = $2")
        );
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(status.code())
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        proposal_views(rows)
    }

    async fn find_proposal(&self, cpts: CptsId, id: Uuid) -> Result<Option<Proposal>> {
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM doctor_proposals p WHERE p.cpts_id = $1 AND p.id = $2"
        );
        let row: Option<ProposalRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn proposals_of_request(&self, cpts: CptsId, request: Uuid) -> Result<Vec<ProposalView>> {
        let sql = format!(
            "{} ORDER BY p.created_at, p.id LIMIT 100",
            proposal_view_sql("p.cpts_id = $1 AND p.request_id = $2")
        );
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(request)
            .fetch_all(pool)
            .await)?;
        proposal_views(rows)
    }

    async fn override_draft(
        &self,
        cpts: CptsId,
        id: Uuid,
        professional: Option<(Uuid, i64)>,
    ) -> Result<bool> {
        let done = match professional {
            Some((doctor, distance_m)) => {
                let sql = "UPDATE doctor_proposals SET professional_id = $3, distance_m = $4 \
                           WHERE cpts_id = $1 AND id = $2 AND status = 'draft' \
                           AND EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $1 AND id = $3)";
                on_pool!(self, pool => sqlx::query(sql)
                    .bind(cpts.0)
                    .bind(id)
                    .bind(doctor)
                    .bind(distance_m)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?
            }
            None => {
                let sql = "DELETE FROM doctor_proposals WHERE cpts_id = $1 AND id = $2 AND status = 'draft'";
                on_pool!(self, pool => sqlx::query(sql)
                    .bind(cpts.0)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?
            }
        };
        Ok(done == 1)
    }

    async fn create_proposal(&self, proposal: &Proposal) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_proposal!(&mut *tx, proposal.cpts_id, proposal)?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn send_proposal(
        &self,
        cpts: CptsId,
        id: Uuid,
        token_hash: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let find = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM doctor_proposals p WHERE p.cpts_id = $1 AND p.id = $2 AND p.status = 'draft'"
        );
        let move_request =
            "UPDATE doctor_requests SET state = 'proposed', state_since = $3, updated_at = $3, \
                            professional_id = $4, outcome = '' WHERE cpts_id = $1 AND id = $2 \
                            AND state IN ('qualified', 'declined')";
        let mark_sent =
            "UPDATE doctor_proposals SET status = 'sent', token_hash = $3, sent_at = $4 \
                         WHERE cpts_id = $1 AND id = $2";
        let cancel = "UPDATE doctor_proposals SET status = 'cancelled', answered_at = $3 WHERE cpts_id = $1 AND id = $2";
        let sent = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<ProposalRow> = sqlx::query_as(&find)
                .bind(cpts.0)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let sent = match row {
                None => false,
                Some(row) => {
                    let moved = sqlx::query(move_request)
                        .bind(cpts.0)
                        .bind(row.request_id)
                        .bind(event.at)
                        .bind(row.professional_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() == 1;
                    if moved {
                        sqlx::query(mark_sent)
                            .bind(cpts.0)
                            .bind(id)
                            .bind(token_hash)
                            .bind(event.at)
                            .execute(&mut *tx)
                            .await?;
                        insert_event!(&mut *tx, cpts, row.request_id, event)?;
                    } else {
                        sqlx::query(cancel)
                            .bind(cpts.0)
                            .bind(id)
                            .bind(event.at)
                            .execute(&mut *tx)
                            .await?;
                    }
                    moved
                }
            };
            // A draft cancelled because its request moved on is no proposal sent: nothing to audit.
            if sent {
                tx.append_audit(audit).await?;
            }
            tx.commit().await?;
            sent
        });
        Ok(sent)
    }

    async fn find_proposal_by_token(&self, token_hash: &str) -> Result<Option<ProposalView>> {
        let sql = proposal_view_sql("p.token_hash = $1");
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_all(pool)
            .await)?;
        Ok(proposal_views(rows)?.into_iter().next())
    }

    async fn answer_proposal(
        &self,
        proposal: &Proposal,
        accepted: bool,
        decline_reason: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let cpts = proposal.cpts_id;
        let status = if accepted { "accepted" } else { "declined" };
        let answer =
            "UPDATE doctor_proposals SET status = $3, decline_reason = $4, answered_at = $5 \
                      WHERE cpts_id = $1 AND id = $2 AND status = 'sent'";
        let move_request = "UPDATE doctor_requests SET state = $4, state_since = $5, updated_at = $5, outcome = $6 \
                            WHERE cpts_id = $1 AND id = $2 AND state = 'proposed' AND professional_id = $3";
        let take_place = "UPDATE gp_capacities SET now_capacity = CASE WHEN now_capacity > 0 THEN now_capacity - 1 \
                          ELSE 0 END WHERE cpts_id = $1 AND professional_id = $2";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let answered = sqlx::query(answer)
                .bind(cpts.0)
                .bind(proposal.id)
                .bind(status)
                .bind(decline_reason)
                .bind(event.at)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            if answered {
                sqlx::query(move_request)
                    .bind(cpts.0)
                    .bind(proposal.request_id)
                    .bind(proposal.professional_id)
                    .bind(status)
                    .bind(event.at)
                    .bind(decline_reason)
                    .execute(&mut *tx)
                    .await?;
                if accepted {
                    sqlx::query(take_place)
                        .bind(cpts.0)
                        .bind(proposal.professional_id)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_event!(&mut *tx, cpts, proposal.request_id, event)?;
                tx.append_audit(audit).await?;
                tx.commit().await?;
            }
            answered
        });
        Ok(done)
    }

    async fn declined_pairs(&self, cpts: CptsId) -> Result<Vec<(Uuid, Uuid)>> {
        let sql = "SELECT p.request_id, p.professional_id FROM doctor_proposals p JOIN doctor_requests r \
                   ON r.id = p.request_id WHERE p.cpts_id = $1 AND p.status = 'declined' \
                   AND r.state IN ('qualified', 'declined')";
        let rows: Vec<(Uuid, Uuid)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn priority_rules(&self, cpts: CptsId) -> Result<Option<String>> {
        let sql = "SELECT rules FROM doctor_search_settings WHERE cpts_id = $1";
        let rules: Option<String> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .fetch_optional(pool)
            .await)?;
        Ok(rules)
    }

    async fn save_priority_rules(
        &self,
        cpts: CptsId,
        rules: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO doctor_search_settings (cpts_id, rules, updated_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (cpts_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at";
        self.audited_update(
            sql,
            &[
                SqlArg::Uuid(cpts.0),
                SqlArg::Text(rules.to_string()),
                SqlArg::I64(now),
            ],
            audit,
        )
        .await?;
        Ok(())
    }

    async fn doctor_search_figures(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
    ) -> Result<DoctorSearchFigures> {
        let in_period = "cpts_id = $1 AND received_at >= $2 AND received_at < $3";
        let by_channel = format!(
            "SELECT channel, COUNT(*) FROM doctor_requests WHERE {in_period} GROUP BY channel ORDER BY COUNT(*) DESC, channel"
        );
        let by_referrer = format!(
            "SELECT referrer, COUNT(*) FROM doctor_requests WHERE {in_period} AND referrer <> '' \
             GROUP BY referrer ORDER BY COUNT(*) DESC, referrer LIMIT 20"
        );
        let targeted = format!("SELECT COUNT(*) FROM doctor_requests WHERE {in_period}");
        let events_of = |condition: &str| {
            format!(
                "SELECT COUNT(DISTINCT request_id) FROM doctor_request_events WHERE cpts_id = $1 AND at >= $2 \
                 AND at < $3 AND {condition}"
            )
        };
        let informed = events_of("kind = 'notified'");
        let oriented = events_of("kind = 'state' AND to_state IN ('proposed', 'redirected')");
        let attached = "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN ald THEN 1 ELSE 0 END), 0) AS BIGINT), \
                        CAST(COALESCE(SUM(CASE WHEN css OR ame THEN 1 ELSE 0 END), 0) AS BIGINT), \
                        CAST(COALESCE(SUM(CASE WHEN age_at_request >= 70 THEN 1 ELSE 0 END), 0) AS BIGINT) \
                        FROM doctor_requests WHERE cpts_id = $1 AND attached_at >= $2 AND attached_at < $3";
        let delays = "SELECT (attached_at - received_at) / 86400000 FROM doctor_requests \
                      WHERE cpts_id = $1 AND attached_at >= $2 AND attached_at < $3 ORDER BY 1 LIMIT 100000";
        let backlog = format!(
            "SELECT priority, COUNT(*) FROM doctor_requests WHERE cpts_id = $1 AND state NOT IN {} \
             AND $2 = $2 AND $3 = $3 GROUP BY priority ORDER BY priority DESC",
            final_states_sql()
        );
        let capacity = "SELECT COUNT(*), CAST(COALESCE(SUM(now_capacity), 0) AS BIGINT), CAST(COALESCE(SUM(later_capacity), 0) AS BIGINT) \
                        FROM gp_capacities WHERE cpts_id = $1 AND (now_capacity > 0 OR later_capacity > 0) \
                        AND $2 = $2 AND $3 = $3";
        let accepting = "SELECT COUNT(DISTINCT professional_id), COUNT(*) FROM doctor_proposals \
                         WHERE cpts_id = $1 AND status = 'accepted' AND answered_at >= $2 AND answered_at < $3";
        let figures = on_pool!(self, pool => {
            let by_channel: Vec<(String, i64)> = sqlx::query_as(&by_channel)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let by_referrer: Vec<(String, i64)> = sqlx::query_as(&by_referrer)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let targeted: i64 = sqlx::query_scalar(&targeted)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let informed: i64 = sqlx::query_scalar(&informed)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let oriented: i64 = sqlx::query_scalar(&oriented)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let (attached, ald, css, aged): (i64, i64, i64, i64) = sqlx::query_as(attached)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let delays: Vec<i64> = sqlx::query_scalar(delays)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let backlog: Vec<(i64, i64)> = sqlx::query_as(&backlog)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let (declaring, now_capacity, later_capacity): (i64, i64, i64) = sqlx::query_as(capacity)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let (accepting, used): (i64, i64) = sqlx::query_as(accepting)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            DoctorSearchFigures {
                by_channel,
                by_referrer,
                targeted,
                informed,
                oriented,
                attached,
                attached_ald: ald,
                attached_css: css,
                attached_aged_70: aged,
                attachment_delays_days: delays,
                backlog_by_priority: backlog,
                gps_declaring: declaring,
                gps_accepting: accepting,
                capacity_now: now_capacity,
                capacity_later: later_capacity,
                places_used: used,
            }
        });
        Ok(figures)
    }

    async fn anonymise_final_requests(
        &self,
        before: i64,
        now: i64,
        limit: i64,
    ) -> Result<Vec<(CptsId, Uuid)>> {
        let find = format!(
            "SELECT cpts_id, id, patient_id FROM doctor_requests WHERE anonymised_at IS NULL \
             AND state IN {} AND state_since < $1 ORDER BY state_since LIMIT $2",
            final_states_sql()
        );
        let clear = "UPDATE doctor_requests SET patient_id = NULL, referrer = '', anonymised_at = $2, updated_at = $2 \
                     WHERE id = $1";
        let erase_details = "UPDATE doctor_request_events SET detail = '' WHERE request_id = $1";
        let delete_patient = "DELETE FROM patients WHERE id = $1 AND NOT EXISTS \
                              (SELECT 1 FROM doctor_requests WHERE patient_id = $1)";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows: Vec<(Uuid, Uuid, Option<Uuid>)> = sqlx::query_as(&find)
                .bind(before)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for (_, id, patient) in &rows {
                sqlx::query(clear).bind(id).bind(now).execute(&mut *tx).await?;
                sqlx::query(erase_details).bind(id).execute(&mut *tx).await?;
                if let Some(patient) = patient {
                    sqlx::query(delete_patient).bind(patient).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            rows.into_iter().map(|(cpts, id, _)| (CptsId(cpts), id)).collect::<Vec<_>>()
        });
        Ok(done)
    }
}

const INSERT_PROPOSAL: &str =
    "INSERT INTO doctor_proposals (id, cpts_id, request_id, professional_id, status, \
    distance_m, priority, explanation, decline_reason, created_at) \
    SELECT $1, $2, $3, $4, 'draft', $5, $6, $7, '', $8 WHERE EXISTS \
    (SELECT 1 FROM doctor_requests WHERE cpts_id = $2 AND id = $3) \
    AND EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $2 AND id = $4)";

macro_rules! insert_proposal {
    ($tx:expr, $cpts:expr, $p:expr) => {
        sqlx::query(INSERT_PROPOSAL)
            .bind($p.id)
            .bind($cpts.0)
            .bind($p.request_id)
            .bind($p.professional_id)
            .bind($p.distance_m)
            .bind($p.priority)
            .bind(&$p.explanation)
            .bind($p.created_at)
            .execute($tx)
            .await
    };
}
use insert_proposal;

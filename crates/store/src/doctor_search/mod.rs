//! Storage of the médecin traitant mission: requests (the patient's identity lives encrypted in `patients`),
//! their history, GPs' declared room, proposals, priority rules, and the indicators' aggregates. Every
//! method takes the CPTS, except the two an operator's maintenance runs over the whole database (retention,
//! capacity reminders) and the doctor's answer, which is found by the secret of its link.

mod capacities;
mod duplicates;
mod oversight;
mod proposals;
mod referrals;
pub use capacities::*;
pub use duplicates::*;
pub use oversight::*;
pub use proposals::*;
pub use referrals::*;

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
    /// Only those whose patient has every one of these search terms (keyed hashes; empty: no search).
    pub patient_terms: Vec<String>,
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

#[async_trait]
pub trait DoctorSearchStore: Send + Sync {
    /// Records the patient, the request and its first event in one transaction.
    async fn create_doctor_request(
        &self,
        patient: &PatientRecord,
        request: &DoctorRequest,
        event: &RequestEvent,
        audit: &NewAuditEntry,
        possible_duplicate_of: Option<Uuid>,
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
    /// Where to write to a GP: their account's e-mail, else the CPTS contact e-mail of their record.
    async fn professional_email(&self, cpts: CptsId, professional: Uuid) -> Result<Option<String>>;
}

#[derive(FromRow)]
pub(super) struct RequestRow {
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

pub(super) const REQUEST_COLUMNS: &str = "id, cpts_id, patient_id, channel, referrer, referrer_user_id, consent_by, \
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

pub(super) fn requests(rows: Vec<RequestRow>) -> Result<Vec<DoctorRequest>> {
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

/// Adds a submission of the same person to a request: its criteria (the union), priority, one more submission.
pub(super) const MERGE_INTO_REQUEST: &str =
    "UPDATE doctor_requests SET ald = $3, css = $4, ame = $5, loss_of_autonomy = $6, isolation = $7, \
    precarity = $8, disability = $9, pregnancy = $10, former_gp_left = $11, priority = $12, \
    priority_reasons = $13, submissions = submissions + 1, updated_at = $14 \
    WHERE cpts_id = $1 AND id = $2";

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO doctor_request_events (id, cpts_id, request_id, at, kind, from_state, \
    to_state, actor_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

macro_rules! insert_event {
    ($tx:expr, $cpts:expr, $request:expr, $event:expr) => {
        sqlx::query($crate::doctor_search::INSERT_EVENT)
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
use bind_criteria;
use insert_event;

#[async_trait]
impl DoctorSearchStore for SqlStore {
    async fn create_doctor_request(
        &self,
        patient: &PatientRecord,
        request: &DoctorRequest,
        event: &RequestEvent,
        audit: &NewAuditEntry,
        possible_duplicate_of: Option<Uuid>,
    ) -> Result<()> {
        let insert_request = format!(
            "INSERT INTO doctor_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, \
             $31, $32, $33)"
        );
        let r = request;
        let c = &r.criteria;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            crate::patients::insert_patient!(&mut tx, patient);
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
            if let Some(open) = possible_duplicate_of {
                sqlx::query(
                    "INSERT INTO doctor_request_duplicates (request_id, cpts_id, duplicate_of, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(r.id)
                .bind(r.cpts_id.0)
                .bind(open)
                .bind(r.received_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.append_audit(&self.audit_keys, audit).await?;
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
        let sql = MERGE_INTO_REQUEST;
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
                tx.append_audit(&self.audit_keys, audit).await?;
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
        if !filter.patient_terms.is_empty() {
            conditions.push(crate::patients::has_search_terms(
                "patient_id",
                "$1",
                &filter.patient_terms,
            ));
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
                tx.append_audit(&self.audit_keys, audit).await?;
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
                    crate::patients::write_search_terms!(&mut tx, patient);
                }
                insert_event!(&mut *tx, cpts, id, event)?;
                tx.append_audit(&self.audit_keys, audit).await?;
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
}

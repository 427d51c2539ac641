//! Patients in care pathways: the inclusion (the patient's sealed identity written with it), the care team and
//! the steps, all in one transaction with the audit entry; the care team read for record-level rights; the
//! lists of the CPTS's and of one professional's patients.

use crate::audit::commit_audited;
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::{Result, StoreError};
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

/// A step as written at inclusion: its window computed by the domain (Paris days, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPathwayStep {
    pub id: Uuid,
    pub code: String,
    pub label: String,
    pub owner_role: String,
    pub earliest: String,
    pub latest: String,
    /// `plan`, `recurrence` or `declenchement` (the domain's `StepOrigin`).
    pub origin: String,
    /// The step whose result or occurrence created it.
    pub origin_step: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct NewInclusion {
    pub id: Uuid,
    pub patient: PatientRecord,
    pub template_code: String,
    pub template_version: i64,
    pub included_on: String,
    pub event_on: Option<String>,
    pub consent_recorded_by: Option<UserId>,
    pub created_at: i64,
    /// (professional of the CPTS's directory, role code).
    pub team: Vec<(Uuid, String)>,
    pub steps: Vec<NewPathwayStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InclusionRow {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub template_code: String,
    pub template_version: i64,
    pub included_on: String,
    pub event_on: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PathwayStepRow {
    pub id: Uuid,
    pub code: String,
    pub label: String,
    pub owner_role: String,
    pub earliest: String,
    pub latest: String,
    pub done_on: Option<String>,
    pub cancelled_reason: Option<String>,
    pub last_alert_on: Option<String>,
    pub origin: String,
    /// The instrument's structured result, sealed (bound to the step).
    pub result: Option<Vec<u8>>,
    pub result_positive: Option<bool>,
}

/// How a step ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepSettlement {
    /// Done on this day (`YYYY-MM-DD`), its evidence given; the instrument's result sealed and whether it was
    /// positive, when the step has one.
    Done {
        on: String,
        result: Option<Vec<u8>>,
        positive: Option<bool>,
    },
    Cancelled(String),
}

/// A liaison sheet, its content sealed, recorded with the step it closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLiaisonSheet {
    pub id: Uuid,
    pub step_id: Uuid,
    pub direction: String,
    pub dated_on: String,
    pub body: Vec<u8>,
    pub author_name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LiaisonSheetRow {
    pub id: Uuid,
    pub step_id: Uuid,
    pub direction: String,
    pub dated_on: String,
    pub body: Vec<u8>,
    pub author_name: String,
    pub created_at: i64,
}

/// A note of the care team on a patient, its text sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPathwayNote {
    pub id: Uuid,
    pub inclusion_id: Uuid,
    pub author_id: Option<UserId>,
    pub author_name: String,
    pub body: Vec<u8>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PathwayNoteRow {
    pub id: Uuid,
    pub author_name: String,
    pub body: Vec<u8>,
    pub created_at: i64,
}

/// A step past its window, not done nor cancelled, not alerted today.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LateStep {
    pub inclusion_id: Uuid,
    pub step_id: Uuid,
    pub label: String,
    pub owner_role: String,
    pub latest: String,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TeamMember {
    pub professional_id: Uuid,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
}

#[async_trait]
pub trait PathwayInclusionStore: Send + Sync {
    /// Writes the patient, the inclusion, its care team and steps, with the audit entry, in one transaction.
    /// A team member who is not a professional of the CPTS refuses the whole inclusion (nothing written).
    async fn include_patient(
        &self,
        cpts: CptsId,
        inclusion: &NewInclusion,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn find_inclusion(&self, cpts: CptsId, id: Uuid) -> Result<Option<InclusionRow>>;
    async fn inclusion_team(&self, cpts: CptsId, id: Uuid) -> Result<Vec<TeamMember>>;
    async fn inclusion_steps(&self, cpts: CptsId, id: Uuid) -> Result<Vec<PathwayStepRow>>;
    /// Closes an open step (neither done nor cancelled) of the CPTS's inclusion on `done_on`, or cancels it with
    /// `reason`, and adds the steps it sets off after the others, with the audit entry; false when the step is
    /// not open (nothing written).
    async fn settle_pathway_step(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        step: Uuid,
        settled: &StepSettlement,
        added: &[NewPathwayStep],
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Closes an open step with the liaison sheet that is its evidence (done on the sheet's day), with the
    /// audit entry, in one transaction; false when the step is not open (nothing written).
    async fn record_liaison_sheet(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        sheet: &NewLiaisonSheet,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The liaison sheets of an inclusion, by day.
    async fn liaison_sheets(&self, cpts: CptsId, inclusion: Uuid) -> Result<Vec<LiaisonSheetRow>>;
    /// Writes a note of the care team with its audit entry; false when the inclusion is not the CPTS's.
    async fn add_pathway_note(
        &self,
        cpts: CptsId,
        note: &NewPathwayNote,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The notes on an inclusion, newest first.
    async fn pathway_notes(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        page: Page,
    ) -> Result<Vec<PathwayNoteRow>>;
    /// How many steps are late on `today` (`member`: only the steps of that professional's roles in the care
    /// teams they belong to).
    async fn count_late_pathway_steps(
        &self,
        cpts: CptsId,
        today: &str,
        member: Option<Uuid>,
    ) -> Result<i64>;
    /// The event's day corrected, and the new windows of the open steps (a step done or cancelled meanwhile keeps
    /// its own), with the audit entry; false when there is no such inclusion in the CPTS.
    async fn reschedule_inclusion(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        event_on: &str,
        windows: &[(Uuid, String, String)],
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The CPTS's steps late on `today` (`YYYY-MM-DD`) and not alerted today, earliest deadline first.
    async fn late_pathway_steps(
        &self,
        cpts: CptsId,
        today: &str,
        page: Page,
    ) -> Result<Vec<LateStep>>;
    /// Takes today's alert of a step: true for exactly one caller a day, whichever instance asks.
    async fn claim_step_alert(&self, step: Uuid, today: &str) -> Result<bool>;
    /// The CPTS's inclusions (`member`: only those whose care team holds that professional), newest first.
    async fn list_inclusions(
        &self,
        cpts: CptsId,
        member: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<InclusionRow>>;
}

/// Inserts a step of an inclusion at `position`, in the transaction `$tx`.
macro_rules! insert_step {
    ($tx:expr, $inclusion:expr, $position:expr, $step:expr) => {{
        let step: &NewPathwayStep = $step;
        sqlx::query(
            "INSERT INTO pathway_steps (id, inclusion_id, position, code, label, owner_role, earliest, latest, \
             origin, origin_step) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(step.id)
        .bind($inclusion)
        .bind($position)
        .bind(&step.code)
        .bind(&step.label)
        .bind(&step.owner_role)
        .bind(&step.earliest)
        .bind(&step.latest)
        .bind(&step.origin)
        .bind(step.origin_step)
        .execute(&mut **$tx)
        .await?;
    }};
}
pub(crate) use insert_step;

/// Appends steps to an inclusion after the ones it has (a triggered step, the next occurrence, a meeting's
/// follow-up), in the transaction `$tx`.
macro_rules! append_steps {
    ($tx:expr, $inclusion:expr, $steps:expr) => {{
        let mut position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM pathway_steps WHERE inclusion_id = $1",
        )
        .bind($inclusion)
        .fetch_one(&mut **$tx)
        .await?;
        for step in $steps {
            $crate::pathway_inclusions::insert_step!($tx, $inclusion, position, step);
            position += 1;
        }
    }};
}
pub(crate) use append_steps;

const INCLUSION_COLUMNS: &str =
    "i.id, i.patient_id, i.template_code, i.template_version, i.included_on, i.event_on, i.created_at";

#[async_trait]
impl PathwayInclusionStore for SqlStore {
    async fn include_patient(
        &self,
        cpts: CptsId,
        inclusion: &NewInclusion,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let insert = "INSERT INTO pathway_inclusions (id, cpts_id, patient_id, template_code, template_version, \
                      included_on, event_on, consent_recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let member = "INSERT INTO pathway_team (inclusion_id, professional_id, role) \
                      SELECT $1, id, $3 FROM professionals WHERE cpts_id = $4 AND id = $2 ON CONFLICT DO NOTHING";
        let written = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            crate::patients::insert_patient!(&mut tx, &inclusion.patient);
            sqlx::query(insert)
                .bind(inclusion.id)
                .bind(cpts.0)
                .bind(inclusion.patient.id.0)
                .bind(&inclusion.template_code)
                .bind(inclusion.template_version)
                .bind(&inclusion.included_on)
                .bind(&inclusion.event_on)
                .bind(inclusion.consent_recorded_by.map(|u| u.0))
                .bind(inclusion.created_at)
                .execute(&mut *tx)
                .await?;
            let mut members = 0;
            for (professional, role) in &inclusion.team {
                members += sqlx::query(member)
                    .bind(inclusion.id)
                    .bind(*professional)
                    .bind(role)
                    .bind(cpts.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            for (position, s) in inclusion.steps.iter().enumerate() {
                insert_step!(&mut tx, inclusion.id, position as i64, s);
            }
            commit_audited!(self, tx, members == inclusion.team.len() as u64, audit)
        })?;
        if written {
            Ok(())
        } else {
            Err(StoreError::NotFound("professional"))
        }
    }

    async fn find_inclusion(&self, cpts: CptsId, id: Uuid) -> Result<Option<InclusionRow>> {
        let sql = format!(
            "SELECT {INCLUSION_COLUMNS} FROM pathway_inclusions i WHERE i.cpts_id = $1 AND i.id = $2"
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as(&sql).bind(cpts.0).bind(id).fetch_optional(pool).await)?,
        )
    }

    async fn inclusion_team(&self, cpts: CptsId, id: Uuid) -> Result<Vec<TeamMember>> {
        let sql =
            "SELECT t.professional_id, t.role, p.first_name, p.last_name FROM pathway_team t \
                   JOIN pathway_inclusions i ON i.id = t.inclusion_id \
                   JOIN professionals p ON p.id = t.professional_id \
                   WHERE i.cpts_id = $1 AND i.id = $2 ORDER BY t.role, t.professional_id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).bind(id).fetch_all(pool).await)?)
    }

    async fn inclusion_steps(&self, cpts: CptsId, id: Uuid) -> Result<Vec<PathwayStepRow>> {
        let sql = "SELECT s.id, s.code, s.label, s.owner_role, s.earliest, s.latest, s.done_on, \
                   s.cancelled_reason, s.last_alert_on, s.origin, s.result, s.result_positive FROM pathway_steps s \
                   JOIN pathway_inclusions i ON i.id = s.inclusion_id \
                   WHERE i.cpts_id = $1 AND i.id = $2 ORDER BY s.position";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).bind(id).fetch_all(pool).await)?)
    }

    async fn settle_pathway_step(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        step: Uuid,
        settled: &StepSettlement,
        added: &[NewPathwayStep],
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let (done_on, reason, result, positive) = match settled {
            StepSettlement::Done {
                on,
                result,
                positive,
            } => (Some(on.as_str()), None, result.as_deref(), *positive),
            StepSettlement::Cancelled(reason) => (None, Some(reason.as_str()), None, None),
        };
        let sql = "UPDATE pathway_steps SET done_on = $4, cancelled_reason = $5, result = $6, result_positive = $7 \
                   WHERE id = $3 AND inclusion_id = $2 AND done_on IS NULL AND cancelled_reason IS NULL \
                   AND EXISTS (SELECT 1 FROM pathway_inclusions i WHERE i.id = $2 AND i.cpts_id = $1)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(sql)
                .bind(cpts.0)
                .bind(inclusion)
                .bind(step)
                .bind(done_on)
                .bind(reason)
                .bind(result)
                .bind(positive)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            if changed && !added.is_empty() {
                append_steps!(&mut tx, inclusion, added);
            }
            commit_audited!(self, tx, changed, audit)
        })
    }

    async fn reschedule_inclusion(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        event_on: &str,
        windows: &[(Uuid, String, String)],
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let event = "UPDATE pathway_inclusions SET event_on = $3 WHERE cpts_id = $1 AND id = $2";
        let step = "UPDATE pathway_steps SET earliest = $3, latest = $4 WHERE inclusion_id = $1 AND id = $2 \
                    AND done_on IS NULL AND cancelled_reason IS NULL";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let found = sqlx::query(event)
                .bind(cpts.0)
                .bind(inclusion)
                .bind(event_on)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            if found {
                for (id, earliest, latest) in windows {
                    sqlx::query(step)
                        .bind(inclusion)
                        .bind(*id)
                        .bind(earliest)
                        .bind(latest)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            commit_audited!(self, tx, found, audit)
        })
    }

    async fn late_pathway_steps(
        &self,
        cpts: CptsId,
        today: &str,
        page: Page,
    ) -> Result<Vec<LateStep>> {
        let sql = "SELECT s.inclusion_id, s.id AS step_id, s.label, s.owner_role, s.latest FROM pathway_steps s \
                   JOIN pathway_inclusions i ON i.id = s.inclusion_id WHERE i.cpts_id = $1 AND s.latest < $2 \
                   AND s.done_on IS NULL AND s.cancelled_reason IS NULL \
                   AND (s.last_alert_on IS NULL OR s.last_alert_on < $2) ORDER BY s.latest, s.id LIMIT $3 OFFSET $4";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(today)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?)
    }

    async fn claim_step_alert(&self, step: Uuid, today: &str) -> Result<bool> {
        let sql = "UPDATE pathway_steps SET last_alert_on = $2 \
                   WHERE id = $1 AND (last_alert_on IS NULL OR last_alert_on < $2)";
        let changed = on_pool!(self, pool => sqlx::query(sql)
            .bind(step)
            .bind(today)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(changed == 1)
    }

    async fn list_inclusions(
        &self,
        cpts: CptsId,
        member: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<InclusionRow>> {
        let sql = format!(
            "SELECT {INCLUSION_COLUMNS} FROM pathway_inclusions i WHERE i.cpts_id = $1 \
             AND ($2 IS NULL OR EXISTS (SELECT 1 FROM pathway_team t WHERE t.inclusion_id = i.id \
             AND t.professional_id = $2)) ORDER BY i.created_at DESC, i.id LIMIT $3 OFFSET $4"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(member)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?)
    }

    async fn add_pathway_note(
        &self,
        cpts: CptsId,
        note: &NewPathwayNote,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "INSERT INTO pathway_notes (id, inclusion_id, author_id, author_name, body, created_at) \
                   SELECT $1, i.id, $3, $4, $5, $6 FROM pathway_inclusions i WHERE i.id = $2 AND i.cpts_id = $7";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let written = sqlx::query(sql)
                .bind(note.id)
                .bind(note.inclusion_id)
                .bind(note.author_id.map(|u| u.0))
                .bind(&note.author_name)
                .bind(&note.body)
                .bind(note.created_at)
                .bind(cpts.0)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, written, audit)
        })
    }

    async fn pathway_notes(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        page: Page,
    ) -> Result<Vec<PathwayNoteRow>> {
        let sql = "SELECT n.id, n.author_name, n.body, n.created_at FROM pathway_notes n \
                   JOIN pathway_inclusions i ON i.id = n.inclusion_id WHERE i.cpts_id = $1 AND i.id = $2 \
                   ORDER BY n.created_at DESC, n.id LIMIT $3 OFFSET $4";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(inclusion)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?)
    }

    async fn count_late_pathway_steps(
        &self,
        cpts: CptsId,
        today: &str,
        member: Option<Uuid>,
    ) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM pathway_steps s JOIN pathway_inclusions i ON i.id = s.inclusion_id \
                   WHERE i.cpts_id = $1 AND s.latest < $2 AND s.done_on IS NULL AND s.cancelled_reason IS NULL \
                   AND ($3 IS NULL OR EXISTS (SELECT 1 FROM pathway_team t WHERE t.inclusion_id = i.id \
                   AND t.professional_id = $3 AND t.role = s.owner_role))";
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .bind(today)
            .bind(member)
            .fetch_one(pool)
            .await)?)
    }

    async fn record_liaison_sheet(
        &self,
        cpts: CptsId,
        inclusion: Uuid,
        sheet: &NewLiaisonSheet,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let close = "UPDATE pathway_steps SET done_on = $4 WHERE id = $3 AND inclusion_id = $2 \
                     AND done_on IS NULL AND cancelled_reason IS NULL \
                     AND EXISTS (SELECT 1 FROM pathway_inclusions i WHERE i.id = $2 AND i.cpts_id = $1)";
        let insert = "INSERT INTO pathway_liaison_sheets (id, inclusion_id, step_id, direction, dated_on, body, \
                      author_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let closed = sqlx::query(close)
                .bind(cpts.0)
                .bind(inclusion)
                .bind(sheet.step_id)
                .bind(&sheet.dated_on)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            if closed {
                sqlx::query(insert)
                    .bind(sheet.id)
                    .bind(inclusion)
                    .bind(sheet.step_id)
                    .bind(&sheet.direction)
                    .bind(&sheet.dated_on)
                    .bind(&sheet.body)
                    .bind(&sheet.author_name)
                    .bind(sheet.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            commit_audited!(self, tx, closed, audit)
        })
    }

    async fn liaison_sheets(&self, cpts: CptsId, inclusion: Uuid) -> Result<Vec<LiaisonSheetRow>> {
        let sql = "SELECT l.id, l.step_id, l.direction, l.dated_on, l.body, l.author_name, l.created_at \
                   FROM pathway_liaison_sheets l JOIN pathway_inclusions i ON i.id = l.inclusion_id \
                   WHERE i.cpts_id = $1 AND i.id = $2 ORDER BY l.dated_on, l.id";
        Ok(
            on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).bind(inclusion).fetch_all(pool).await)?,
        )
    }
}

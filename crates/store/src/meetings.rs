//! Meetings with attendees (shared by the missions, by kind) and the cases of the pathways' case meetings:
//! each change with its audit entry in one transaction; minutes and decisions stay sealed as the app gives
//! them.

use crate::audit::commit_audited;
use crate::models::*;
use crate::pathway_inclusions::NewPathwayStep;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub held_on: String,
    pub start_minute: i64,
    pub place: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct MeetingRow {
    pub id: Uuid,
    pub title: String,
    pub held_on: String,
    pub start_minute: i64,
    pub place: String,
    pub minutes: Option<Vec<u8>>,
    pub attendees: i64,
    pub present: i64,
    pub cases: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AttendeeRow {
    pub professional_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub attendance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct MeetingCaseRow {
    pub id: Uuid,
    pub inclusion_id: Uuid,
    pub patient_id: Uuid,
    pub template_code: String,
    pub decision: Option<Vec<u8>>,
    pub follow_up_step: Option<Uuid>,
}

/// What a decision writes besides itself: the follow-up step it creates, and the inclusion's open step it
/// closes (a step whose evidence is the meeting's decision), on the meeting's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDecision {
    pub decision: Vec<u8>,
    pub follow_up: Option<NewPathwayStep>,
    pub closes: Option<(Uuid, String)>,
    pub decided_at: i64,
}

/// A kind's meetings of a period, counted.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct MeetingCounts {
    pub meetings: i64,
    pub cases: i64,
    pub present: i64,
    pub answered: i64,
}

const MEETING_COLUMNS: &str = "m.id, m.title, m.held_on, m.start_minute, m.place, m.minutes, \
    (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id) AS attendees, \
    (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id AND a.attendance = 'present') AS present, \
    (SELECT COUNT(*) FROM meeting_cases c WHERE c.meeting_id = m.id) AS cases";

#[async_trait]
pub trait MeetingStore: Send + Sync {
    /// Writes a meeting and its invited attendees with the audit entry; false (nothing written) when an
    /// attendee is not a professional of the CPTS.
    async fn create_meeting(
        &self,
        cpts: CptsId,
        meeting: &NewMeeting,
        attendees: &[Uuid],
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The CPTS's meetings of a kind, the latest first.
    async fn meetings(&self, cpts: CptsId, kind: &str, page: Page) -> Result<Vec<MeetingRow>>;
    async fn find_meeting(&self, cpts: CptsId, kind: &str, id: Uuid) -> Result<Option<MeetingRow>>;
    async fn meeting_attendees(&self, cpts: CptsId, id: Uuid) -> Result<Vec<AttendeeRow>>;
    /// Records whether an invited professional came; false when not invited to this meeting of the CPTS.
    async fn set_attendance(
        &self,
        cpts: CptsId,
        meeting: Uuid,
        professional: Uuid,
        attendance: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The sealed minutes, replaced, with the audit entry.
    async fn save_minutes(
        &self,
        cpts: CptsId,
        meeting: Uuid,
        minutes: &[u8],
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// A patient of the CPTS's pathways presented at the meeting; false when already there or not the CPTS's.
    async fn add_meeting_case(
        &self,
        cpts: CptsId,
        meeting: Uuid,
        case: Uuid,
        inclusion: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn meeting_cases(&self, cpts: CptsId, meeting: Uuid) -> Result<Vec<MeetingCaseRow>>;
    /// The decision on a case not decided yet, the follow-up step it creates and the step it closes, with the
    /// audit entry, in one transaction; false when already decided (nothing written).
    async fn decide_case(
        &self,
        cpts: CptsId,
        case: &MeetingCaseRow,
        decision: &CaseDecision,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The meetings of a kind held between `from` and `to`, their cases and attendance.
    async fn meeting_counts(
        &self,
        cpts: CptsId,
        kind: &str,
        from: &str,
        to: &str,
    ) -> Result<MeetingCounts>;
}

#[async_trait]
impl MeetingStore for SqlStore {
    async fn create_meeting(
        &self,
        cpts: CptsId,
        meeting: &NewMeeting,
        attendees: &[Uuid],
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let insert = "INSERT INTO meetings (id, cpts_id, kind, title, held_on, start_minute, place, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let attendee = "INSERT INTO meeting_attendees (meeting_id, professional_id, attendance) \
                        SELECT $1, id, 'invite' FROM professionals WHERE cpts_id = $3 AND id = $2 \
                        ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(insert)
                .bind(meeting.id)
                .bind(cpts.0)
                .bind(&meeting.kind)
                .bind(&meeting.title)
                .bind(&meeting.held_on)
                .bind(meeting.start_minute)
                .bind(&meeting.place)
                .bind(meeting.created_at)
                .execute(&mut *tx)
                .await?;
            let mut invited = 0;
            for professional in attendees {
                invited += sqlx::query(attendee)
                    .bind(meeting.id)
                    .bind(*professional)
                    .bind(cpts.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            commit_audited!(self, tx, invited == attendees.len() as u64, audit)
        })
    }

    async fn meetings(&self, cpts: CptsId, kind: &str, page: Page) -> Result<Vec<MeetingRow>> {
        let sql = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m WHERE m.cpts_id = $1 AND m.kind = $2 \
             ORDER BY m.held_on DESC, m.start_minute DESC, m.id LIMIT $3 OFFSET $4"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(kind)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?)
    }

    async fn find_meeting(&self, cpts: CptsId, kind: &str, id: Uuid) -> Result<Option<MeetingRow>> {
        let sql = format!(
            "SELECT {MEETING_COLUMNS} FROM meetings m WHERE m.cpts_id = $1 AND m.kind = $2 AND m.id = $3"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(kind)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    async fn meeting_attendees(&self, cpts: CptsId, id: Uuid) -> Result<Vec<AttendeeRow>> {
        let sql = "SELECT a.professional_id, p.first_name, p.last_name, a.attendance FROM meeting_attendees a \
                   JOIN meetings m ON m.id = a.meeting_id JOIN professionals p ON p.id = a.professional_id \
                   WHERE m.cpts_id = $1 AND m.id = $2 ORDER BY p.last_name, p.first_name, p.id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).bind(id).fetch_all(pool).await)?)
    }

    async fn set_attendance(
        &self,
        cpts: CptsId,
        meeting: Uuid,
        professional: Uuid,
        attendance: &str,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE meeting_attendees SET attendance = $4 WHERE meeting_id = $2 AND professional_id = $3 \
                   AND EXISTS (SELECT 1 FROM meetings m WHERE m.id = $2 AND m.cpts_id = $1)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(sql)
                .bind(cpts.0)
                .bind(meeting)
                .bind(professional)
                .bind(attendance)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, changed, audit)
        })
    }

    async fn save_minutes(
        &self,
        cpts: CptsId,
        meeting: Uuid,
        minutes: &[u8],
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE meetings SET minutes = $3 WHERE cpts_id = $1 AND id = $2";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(sql)
                .bind(cpts.0)
                .bind(meeting)
                .bind(minutes)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, changed, audit)
        })
    }

    async fn add_meeting_case(
        &self,
        cpts: CptsId,
        meeting: Uuid,
        case: Uuid,
        inclusion: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "INSERT INTO meeting_cases (id, meeting_id, inclusion_id) SELECT $1, m.id, i.id \
                   FROM meetings m, pathway_inclusions i WHERE m.id = $2 AND m.cpts_id = $4 AND i.id = $3 \
                   AND i.cpts_id = $4 ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let added = sqlx::query(sql)
                .bind(case)
                .bind(meeting)
                .bind(inclusion)
                .bind(cpts.0)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, added, audit)
        })
    }

    async fn meeting_cases(&self, cpts: CptsId, meeting: Uuid) -> Result<Vec<MeetingCaseRow>> {
        let sql = "SELECT c.id, c.inclusion_id, i.patient_id, i.template_code, c.decision, c.follow_up_step \
                   FROM meeting_cases c JOIN meetings m ON m.id = c.meeting_id \
                   JOIN pathway_inclusions i ON i.id = c.inclusion_id \
                   WHERE m.cpts_id = $1 AND m.id = $2 ORDER BY c.id";
        Ok(
            on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).bind(meeting).fetch_all(pool).await)?,
        )
    }

    async fn decide_case(
        &self,
        cpts: CptsId,
        case: &MeetingCaseRow,
        decision: &CaseDecision,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let decide =
            "UPDATE meeting_cases SET decision = $3, follow_up_step = $4, decided_at = $5 \
                      WHERE id = $2 AND decision IS NULL AND EXISTS (SELECT 1 FROM meetings m \
                      WHERE m.id = meeting_id AND m.cpts_id = $1)";
        let close = "UPDATE pathway_steps SET done_on = $3 WHERE id = $2 AND inclusion_id = $1 \
                     AND done_on IS NULL AND cancelled_reason IS NULL";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let decided = sqlx::query(decide)
                .bind(cpts.0)
                .bind(case.id)
                .bind(&decision.decision)
                .bind(decision.follow_up.as_ref().map(|s| s.id))
                .bind(decision.decided_at)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            if decided {
                if let Some(step) = &decision.follow_up {
                    crate::pathway_inclusions::append_steps!(&mut tx, case.inclusion_id, [step]);
                }
                if let Some((step, day)) = &decision.closes {
                    sqlx::query(close)
                        .bind(case.inclusion_id)
                        .bind(*step)
                        .bind(day)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            commit_audited!(self, tx, decided, audit)
        })
    }

    async fn meeting_counts(
        &self,
        cpts: CptsId,
        kind: &str,
        from: &str,
        to: &str,
    ) -> Result<MeetingCounts> {
        let sql = "SELECT COUNT(*) AS meetings, \
                   CAST(COALESCE(SUM((SELECT COUNT(*) FROM meeting_cases c WHERE c.meeting_id = m.id)), 0) AS BIGINT) AS cases, \
                   CAST(COALESCE(SUM((SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id \
                       AND a.attendance = 'present')), 0) AS BIGINT) AS present, \
                   CAST(COALESCE(SUM((SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id \
                       AND a.attendance <> 'invite')), 0) AS BIGINT) AS answered \
                   FROM meetings m WHERE m.cpts_id = $1 AND m.kind = $2 AND m.held_on >= $3 AND m.held_on <= $4";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(kind)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await)?)
    }
}

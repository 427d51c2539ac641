//! The pathways' case meetings (RCP), on the shared « meeting with attendees » piece: the coordination
//! schedules one with professionals of the directory, records who came, presents patients of the pathways,
//! records each decision — which may create a follow-up step for a role of the care team and closes the
//! patient's step that waited for a meeting's decision — and the minutes. Minutes and decisions are sealed;
//! the names of the cases are opened only once the meeting's read is audited.

use super::{corrupt, invalid, PathwayCare, PathwayError, Result};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::crypto::PatientIdentity;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::calendar::Day;
use maillage_domain::meetings::{check_meeting, Attendance, MeetingDraft, MeetingKind};
use maillage_domain::pathways::steps::StepOrigin;
use maillage_domain::pathways::{CareRole, Evidence};
use maillage_domain::ValidationError;
use maillage_store::{
    AttendeeRow, CaseDecision, CptsId, MeetingCaseRow, MeetingRow, NewMeeting, NewPathwayStep, Page,
};
use uuid::Uuid;

const KIND: MeetingKind = MeetingKind::CaseMeeting;

/// A case as the meeting reads it.
#[derive(Debug, Clone)]
pub struct MeetingCase {
    pub row: MeetingCaseRow,
    pub identity: PatientIdentity,
    pub decision: Option<String>,
}

/// A case meeting whole.
#[derive(Debug, Clone)]
pub struct CaseMeeting {
    pub meeting: MeetingRow,
    pub attendees: Vec<AttendeeRow>,
    pub cases: Vec<MeetingCase>,
    pub minutes: Option<String>,
}

/// What a decision asks to be done next: a step for a role of the care team, within so many days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRequest {
    pub role: CareRole,
    pub label: String,
    pub within_days: i64,
}

impl PathwayCare {
    fn open_text(&self, context: &str, sealed: &[u8]) -> Result<String> {
        let plaintext = self
            .keyring
            .open(sealed, context.as_bytes())
            .map_err(corrupt)?;
        Ok(String::from_utf8_lossy(&plaintext).into_owned())
    }

    fn seal_text(&self, context: &str, text: &str) -> Result<Vec<u8>> {
        self.keyring
            .seal(text.as_bytes(), context.as_bytes())
            .map_err(corrupt)
    }

    async fn meeting_of(&self, cpts: CptsId, id: Uuid) -> Result<MeetingRow> {
        self.store
            .find_meeting(cpts, KIND.code(), id)
            .await?
            .ok_or(PathwayError::NotFound)
    }

    /// Schedules a case meeting and invites professionals of the CPTS's directory.
    pub async fn schedule_case_meeting(
        &self,
        caller: &Caller,
        draft: &MeetingDraft,
        attendees: &[Uuid],
        today: Day,
    ) -> Result<Uuid> {
        caller.require(Permission::HoldCaseMeetings)?;
        let plan = check_meeting(draft, today).map_err(PathwayError::Invalid)?;
        let id = Uuid::now_v7();
        let meeting = NewMeeting {
            id,
            kind: KIND.code().into(),
            title: plan.title,
            held_on: plan.held_on.iso(),
            start_minute: i64::from(plan.start_minute),
            place: plan.place,
            created_at: now_ms(),
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::MeetingScheduled, "meeting", id.to_string())
                .detail(serde_json::json!({ "kind": KIND.code(), "attendees": attendees.len() })),
        );
        if !self
            .store
            .create_meeting(caller.cpts(), &meeting, attendees, &entry)
            .await?
        {
            return Err(invalid(
                "Participants",
                "un participant choisi n'est pas un professionnel de l'annuaire de la CPTS",
            ));
        }
        Ok(id)
    }

    /// The CPTS's case meetings, the latest first.
    pub async fn case_meetings(&self, caller: &Caller, page: Page) -> Result<Vec<MeetingRow>> {
        caller.require(Permission::HoldCaseMeetings)?;
        Ok(self
            .store
            .meetings(caller.cpts(), KIND.code(), page)
            .await?)
    }

    /// A case meeting with its attendees, its cases (the read audited before any name is opened), the
    /// decisions and the minutes.
    pub async fn case_meeting(&self, caller: &Caller, id: Uuid) -> Result<CaseMeeting> {
        caller.require(Permission::HoldCaseMeetings)?;
        let cpts = caller.cpts();
        let meeting = self.meeting_of(cpts, id).await?;
        let attendees = self.store.meeting_attendees(cpts, id).await?;
        let rows = self.store.meeting_cases(cpts, id).await?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(AuditAction::PathwayPatientsListed, "meeting", id.to_string()).detail(
                serde_json::json!({ "inclusions": rows.iter().map(|r| r.inclusion_id).collect::<Vec<_>>() }),
            ),
        )
        .await?;
        let mut cases = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(identity) = self.identity_of(cpts, row.patient_id).await? else {
                continue;
            };
            let decision = match &row.decision {
                Some(sealed) => {
                    Some(self.open_text(&format!("meeting-decision:{cpts}:{}", row.id), sealed)?)
                }
                None => None,
            };
            cases.push(MeetingCase {
                row,
                identity,
                decision,
            });
        }
        let minutes = match &meeting.minutes {
            Some(sealed) => Some(self.open_text(&format!("meeting-minutes:{cpts}:{id}"), sealed)?),
            None => None,
        };
        Ok(CaseMeeting {
            meeting,
            attendees,
            cases,
            minutes,
        })
    }

    /// Whether an invited professional came.
    pub async fn record_attendance(
        &self,
        caller: &Caller,
        meeting: Uuid,
        professional: Uuid,
        attendance: Attendance,
    ) -> Result<()> {
        caller.require(Permission::HoldCaseMeetings)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::MeetingAttendanceRecorded, "meeting", meeting.to_string())
                .detail(serde_json::json!({ "professional": professional, "attendance": attendance.code() })),
        );
        if !self
            .store
            .set_attendance(
                caller.cpts(),
                meeting,
                professional,
                attendance.code(),
                &entry,
            )
            .await?
        {
            return Err(PathwayError::NotFound);
        }
        Ok(())
    }

    /// The minutes, 1 to 20 000 characters, sealed.
    pub async fn save_minutes(&self, caller: &Caller, meeting: Uuid, text: &str) -> Result<()> {
        caller.require(Permission::HoldCaseMeetings)?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 20_000 {
            return Err(invalid("Compte rendu", "de 1 à 20 000 caractères"));
        }
        let cpts = caller.cpts();
        let sealed = self.seal_text(&format!("meeting-minutes:{cpts}:{meeting}"), text)?;
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::MeetingMinutesSaved,
                "meeting",
                meeting.to_string(),
            ),
        );
        if !self
            .store
            .save_minutes(cpts, meeting, &sealed, &entry)
            .await?
        {
            return Err(PathwayError::NotFound);
        }
        Ok(())
    }

    /// Presents a patient of the CPTS's pathways at the meeting (once).
    pub async fn present_case(
        &self,
        caller: &Caller,
        meeting: Uuid,
        inclusion: Uuid,
    ) -> Result<()> {
        caller.require(Permission::HoldCaseMeetings)?;
        let case = Uuid::now_v7();
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::MeetingCasePresented,
                "meeting",
                meeting.to_string(),
            )
            .detail(serde_json::json!({ "inclusion": inclusion })),
        );
        if !self
            .store
            .add_meeting_case(caller.cpts(), meeting, case, inclusion, &entry)
            .await?
        {
            return Err(invalid(
                "Patient",
                "ce patient est déjà présenté à cette réunion",
            ));
        }
        Ok(())
    }

    /// The meeting's decision on a case, once the meeting has been held: a follow-up step when asked, and
    /// the patient's open step awaiting a meeting's decision closed on the meeting's day.
    pub async fn decide_case(
        &self,
        caller: &Caller,
        meeting: Uuid,
        case: Uuid,
        decision: &str,
        follow_up: Option<FollowUpRequest>,
        today: Day,
    ) -> Result<()> {
        caller.require(Permission::HoldCaseMeetings)?;
        let cpts = caller.cpts();
        let found = self.meeting_of(cpts, meeting).await?;
        let held_on = super::day_of(&found.held_on)
            .ok_or_else(|| corrupt(format!("meeting day {}", found.held_on)))?;
        let row = self
            .store
            .meeting_cases(cpts, meeting)
            .await?
            .into_iter()
            .find(|c| c.id == case)
            .ok_or(PathwayError::NotFound)?;
        let mut problems = Vec::new();
        if held_on > today {
            problems.push(ValidationError::new(
                "Décision",
                "la réunion n'a pas encore eu lieu",
            ));
        }
        let decision = decision.trim();
        if !(3..=4000).contains(&decision.chars().count()) {
            problems.push(ValidationError::new("Décision", "de 3 à 4 000 caractères"));
        }
        if let Some(request) = &follow_up {
            if !(3..=200).contains(&request.label.trim().chars().count()) {
                problems.push(ValidationError::new(
                    "Étape de suivi",
                    "un libellé de 3 à 200 caractères",
                ));
            }
            if !(1..=365).contains(&request.within_days) {
                problems.push(ValidationError::new("Délai", "de 1 à 365 jours"));
            }
        }
        if !problems.is_empty() {
            return Err(PathwayError::Invalid(problems));
        }
        let steps = self.store.inclusion_steps(cpts, row.inclusion_id).await?;
        let inclusion = self
            .store
            .find_inclusion(cpts, row.inclusion_id)
            .await?
            .ok_or(PathwayError::NotFound)?;
        let template = self.template_of(caller, &inclusion).await?;
        let closes = steps
            .iter()
            .filter(|s| s.done_on.is_none() && s.cancelled_reason.is_none())
            .find(|s| template.step(&s.code).map(|t| t.evidence) == Some(Evidence::Decision))
            .map(|s| (s.id, held_on.iso()));
        let follow_up = follow_up.map(|request| NewPathwayStep {
            id: Uuid::now_v7(),
            code: "suivi-rcp".into(),
            label: request.label.trim().to_string(),
            owner_role: request.role.code().into(),
            earliest: held_on.iso(),
            latest: held_on.plus_days(request.within_days).iso(),
            origin: StepOrigin::Decided.code().into(),
            origin_step: closes.as_ref().map(|(step, _)| *step),
        });
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::MeetingCaseDecided, "meeting", meeting.to_string()).detail(
                serde_json::json!({ "inclusion": row.inclusion_id, "follow_up": follow_up.is_some(), "closes": closes.is_some() }),
            ),
        );
        let decided = CaseDecision {
            decision: self.seal_text(&format!("meeting-decision:{cpts}:{case}"), decision)?,
            follow_up,
            closes,
            decided_at: now_ms(),
        };
        if !self.store.decide_case(cpts, &row, &decided, &entry).await? {
            return Err(invalid("Décision", "ce cas a déjà sa décision"));
        }
        Ok(())
    }
}

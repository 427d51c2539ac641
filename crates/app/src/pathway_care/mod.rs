//! Patients in care pathways: including a patient (consent recorded, identity sealed, the care team from the
//! directory, the steps of the template's version with their windows) and reading a patient's pathway. The
//! coordination and the secretariat follow every patient of the CPTS; a member only those whose care team they
//! belong to — an attempt on another is refused and audited. Every read of a patient is audited first: no
//! entry, no data.

use crate::audit::{self, AuditEvent};
use crate::caller::{Caller, Refused};
use crate::clock::now_ms;
use crate::crypto::{Keyring, PatientIdentity};
use crate::pathways::{PathwayError, PathwayTemplates};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::calendar::Day;
use maillage_domain::pathways::inclusion::{check_inclusion, uncovered_roles, InclusionDraft};
use maillage_domain::pathways::instruments::Instrument;
use maillage_domain::pathways::steps::{
    check_cancel_reason, check_done, follow_ups, state, StepFacts, StepOrigin, StepState,
};
use maillage_domain::pathways::CareRole;
use maillage_domain::ValidationError;
use maillage_store::{
    InclusionRow, NewInclusion, NewPathwayStep, PathwayStepRow, PatientId, StepSettlement, Store,
    StoreError, TeamMember,
};
use std::sync::Arc;
use uuid::Uuid;

mod alerts;
pub mod indicators;
pub mod liaison;
pub mod meetings;
mod notes;
mod results;
pub mod waiting;

pub use notes::{check_note, CareNote, NOTES_SHOWN};
pub use results::{positive, StepResult};

pub type Result<T, E = PathwayError> = std::result::Result<T, E>;

/// What the inclusion form gives, read.
#[derive(Debug, Clone)]
pub struct InclusionRequest {
    pub template: String,
    pub identity: PatientIdentity,
    pub draft: InclusionDraft,
    /// (professional of the directory, role).
    pub team: Vec<(Uuid, CareRole)>,
}

/// How a step ends, as the care team says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    Done {
        on: Option<Day>,
        evidence_given: bool,
        /// The answers to the step's instrument, one per item in order (empty: the step has none).
        answers: Vec<String>,
    },
    Cancelled(String),
}

/// A step as the care team reads it on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowedStep {
    pub row: PathwayStepRow,
    pub state: StepState,
    /// Its instrument's result, when it was filled.
    pub result: Option<StepResult>,
}

/// A patient's pathway, the identity opened once its read is audited.
#[derive(Debug, Clone)]
pub struct FollowedPatient {
    pub inclusion: InclusionRow,
    pub identity: PatientIdentity,
    pub team: Vec<TeamMember>,
    pub steps: Vec<FollowedStep>,
    /// The care team's notes, newest first.
    pub notes: Vec<CareNote>,
    /// Their places on the waiting lists.
    pub waiting: Vec<waiting::WaitingPlace>,
    /// Their liaison sheets (the content stays sealed until one is printed).
    pub sheets: Vec<maillage_store::LiaisonSheetRow>,
    /// The late-step alerts sent about their steps, each with its delivery state (the subject is the step).
    pub alerts: Vec<maillage_store::Delivery>,
}

/// A patient in the list of those the caller follows: the identity (the list's read audited), where the
/// steps stand.
#[derive(Debug, Clone)]
pub struct ListedPatient {
    pub inclusion: InclusionRow,
    pub identity: PatientIdentity,
    pub late: usize,
    /// The next open step: its label and its last day.
    pub next: Option<(String, String)>,
}

#[derive(Clone)]
pub struct PathwayCare {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    templates: PathwayTemplates,
    /// Attempts of each e-mail's job (`jobs.max_attempts`).
    mail_attempts: i64,
}

/// A stored Paris day (`YYYY-MM-DD`).
pub(super) fn day_of(text: &str) -> Option<Day> {
    Day::parse("jour", text).ok()
}

/// A refusal naming one field.
pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> PathwayError {
    PathwayError::Invalid(vec![ValidationError::new(field, message)])
}

/// Sealed data that does not open or read back: the store holds something it should not.
pub(super) fn corrupt(error: impl std::fmt::Display) -> PathwayError {
    PathwayError::Store(StoreError::Corrupt(error.to_string()))
}

/// The codes of the steps neither done nor cancelled.
fn steps_open<'a>(steps: impl Iterator<Item = &'a PathwayStepRow>) -> Vec<String> {
    steps
        .filter(|s| s.done_on.is_none() && s.cancelled_reason.is_none())
        .map(|s| s.code.clone())
        .collect()
}

/// What happened to a stored step, as the domain's rules read it.
fn facts_of(row: &PathwayStepRow) -> StepFacts {
    StepFacts {
        done_on: row.done_on.as_deref().and_then(day_of),
        cancelled_reason: row.cancelled_reason.clone(),
    }
}

/// Where a stored step stands on `today`, as the domain's rules say.
fn state_of(row: &PathwayStepRow, today: Day) -> StepState {
    let (earliest, latest) = (
        day_of(&row.earliest).unwrap_or(today),
        day_of(&row.latest).unwrap_or(today),
    );
    state(earliest, latest, &facts_of(row), today)
}

impl PathwayCare {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>) -> Self {
        Self {
            templates: PathwayTemplates::new(store.clone()),
            store,
            keyring,
            mail_attempts: crate::config::JobsConfig::default().max_attempts,
        }
    }

    /// The same service, its e-mails' jobs tried this many times.
    pub fn with_mail_attempts(mut self, attempts: i64) -> Self {
        self.mail_attempts = attempts.max(1);
        self
    }

    /// Includes a patient; returns the inclusion's id and the roles of the care team still to find. A member
    /// includes only a patient whose care team they are part of.
    pub async fn include(
        &self,
        caller: &Caller,
        request: &InclusionRequest,
        today: Day,
    ) -> Result<(Uuid, Vec<CareRole>)> {
        caller.require(Permission::FollowPathwayPatients)?;
        if caller.role() == Role::Member
            && !request
                .team
                .iter()
                .any(|(p, _)| Some(*p) == caller.professional())
        {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Équipe de soins",
                "un professionnel inclut un patient dont il fait partie de l'équipe de soins",
            )]));
        }
        let template = self
            .templates
            .template(caller, &request.template, None)
            .await?;
        let steps =
            check_inclusion(&template, &request.draft, today).map_err(PathwayError::Invalid)?;
        let roles: Vec<CareRole> = request.team.iter().map(|(_, role)| *role).collect();
        let missing = uncovered_roles(&steps, &roles);
        let cpts = caller.cpts();
        let now = now_ms();
        let patient = crate::patients::sealed_record(
            &self.keyring,
            cpts,
            PatientId::new(),
            &request.identity,
            now,
        )
        .map_err(corrupt)?;
        let id = Uuid::now_v7();
        let inclusion = NewInclusion {
            id,
            patient,
            template_code: template.code.clone(),
            template_version: i64::from(template.version),
            included_on: request.draft.inclusion.unwrap_or(today).iso(),
            event_on: request.draft.event.map(Day::iso),
            consent_recorded_by: caller.user(),
            created_at: now,
            team: request
                .team
                .iter()
                .map(|(p, role)| (*p, role.code().to_string()))
                .collect(),
            steps: steps
                .iter()
                .map(|s| NewPathwayStep {
                    id: Uuid::now_v7(),
                    code: s.code.clone(),
                    label: s.label.clone(),
                    owner_role: s.owner.code().to_string(),
                    earliest: s.earliest.iso(),
                    latest: s.latest.iso(),
                    origin: StepOrigin::Planned.code().to_string(),
                    origin_step: None,
                })
                .collect(),
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::PathwayPatientIncluded,
                "pathway_inclusion",
                id.to_string(),
            )
            .detail(serde_json::json!({
                "template": template.code,
                "version": template.version,
                "team": request.team.len(),
                "steps": steps.len(),
            })),
        );
        match self.store.include_patient(cpts, &inclusion, &entry).await {
            Ok(()) => Ok((id, missing)),
            Err(StoreError::NotFound(_)) => Err(PathwayError::Invalid(vec![ValidationError::new(
                "Équipe de soins",
                "un membre choisi n'est pas un professionnel de l'annuaire de la CPTS",
            )])),
            Err(other) => Err(other.into()),
        }
    }

    /// The template version an inclusion keeps.
    pub(super) async fn template_of(
        &self,
        caller: &Caller,
        inclusion: &InclusionRow,
    ) -> Result<maillage_domain::pathways::PathwayTemplate> {
        self.templates
            .template(
                caller,
                &inclusion.template_code,
                u32::try_from(inclusion.template_version).ok(),
            )
            .await
    }

    /// Who writes a note or a sheet, as the care team reads it: the account's name, else the coordination
    /// (the command line).
    pub(super) async fn author_name(&self, caller: &Caller) -> Result<String> {
        Ok(match caller.user() {
            Some(user) => self.store.find_user(user).await?.map(|u| u.display_name),
            None => None,
        }
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Coordination".into()))
    }

    /// A patient's identity, opened: only for a read already in the audit trail. None when the patient is gone.
    pub(super) async fn identity_of(
        &self,
        cpts: maillage_store::CptsId,
        patient: Uuid,
    ) -> Result<Option<PatientIdentity>> {
        match self.store.find_patient(cpts, PatientId(patient)).await? {
            Some(record) => Ok(Some(
                crate::patients::opened_identity(&self.keyring, &record).map_err(corrupt)?,
            )),
            None => Ok(None),
        }
    }

    /// Whether the caller may close or cancel a step of `owner_role`: the coordination and the secretariat any
    /// step, a member of the care team the steps of their role.
    pub fn may_settle(caller: &Caller, team: &[TeamMember], owner_role: &str) -> bool {
        match caller.role() {
            Role::Coordinator | Role::Secretary => true,
            Role::Member => team
                .iter()
                .any(|m| Some(m.professional_id) == caller.professional() && m.role == owner_role),
            Role::Partner => false,
        }
    }

    /// Whether the caller may follow this inclusion: the coordination and the secretariat, or a member of its
    /// care team.
    fn may_follow(caller: &Caller, team: &[TeamMember]) -> bool {
        match caller.role() {
            Role::Coordinator | Role::Secretary => true,
            Role::Member => caller
                .professional()
                .is_some_and(|me| team.iter().any(|m| m.professional_id == me)),
            Role::Partner => false,
        }
    }

    /// An inclusion of the caller's CPTS and its care team, when the caller may follow it. Outside the care
    /// team — to read or to change it — not found, and the attempt is in the audit trail.
    async fn followed(&self, caller: &Caller, id: Uuid) -> Result<(InclusionRow, Vec<TeamMember>)> {
        caller.require(Permission::FollowPathwayPatients)?;
        let cpts = caller.cpts();
        let inclusion = self
            .store
            .find_inclusion(cpts, id)
            .await?
            .ok_or(PathwayError::NotFound)?;
        let team = self.store.inclusion_team(cpts, id).await?;
        if !Self::may_follow(caller, &team) {
            audit::record(
                self.store.as_ref(),
                caller.audit(),
                AuditEvent::new(
                    AuditAction::PathwayAccessRefused,
                    "pathway_inclusion",
                    id.to_string(),
                ),
            )
            .await?;
            return Err(PathwayError::NotFound);
        }
        Ok((inclusion, team))
    }

    /// A patient's pathway on `today`. Outside the care team: not found, and the attempt is in the audit trail.
    pub async fn patient(&self, caller: &Caller, id: Uuid, today: Day) -> Result<FollowedPatient> {
        let (inclusion, team) = self.followed(caller, id).await?;
        let cpts = caller.cpts();
        let record = self
            .store
            .find_patient(cpts, PatientId(inclusion.patient_id))
            .await?
            .ok_or(PathwayError::NotFound)?;
        // Audited before anything personal is opened: no entry, no data.
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(
                AuditAction::PathwayPatientViewed,
                "pathway_inclusion",
                id.to_string(),
            ),
        )
        .await?;
        let identity = crate::patients::opened_identity(&self.keyring, &record).map_err(corrupt)?;
        let mut steps = Vec::new();
        for row in self.store.inclusion_steps(cpts, id).await? {
            let result = match &row.result {
                Some(sealed) => Some(results::opened(&self.keyring, cpts, row.id, sealed)?),
                None => None,
            };
            steps.push(FollowedStep {
                state: state_of(&row, today),
                result,
                row,
            });
        }
        // Declines read in the order the screenings were done.
        let mut done: Vec<&mut FollowedStep> =
            steps.iter_mut().filter(|s| s.result.is_some()).collect();
        done.sort_by(|a, b| a.row.done_on.cmp(&b.row.done_on));
        results::mark_declines(done.into_iter().filter_map(|s| s.result.as_mut()));
        let notes = self.opened_notes(cpts, id).await?;
        let waiting = self.waiting_places(cpts, id, today).await?;
        let sheets = self.store.liaison_sheets(cpts, id).await?;
        let step_ids: Vec<Uuid> = steps.iter().map(|s| s.row.id).collect();
        let alerts = self
            .store
            .deliveries_of(
                cpts,
                maillage_domain::delivery::Purpose::PathwayStepLate,
                &step_ids,
            )
            .await?;
        Ok(FollowedPatient {
            inclusion,
            identity,
            team,
            steps,
            notes,
            waiting,
            sheets,
            alerts,
        })
    }

    /// Closes a step done on `done_on` with its evidence, or cancels it with a reason (`cancel`). The
    /// coordination and the secretariat settle any step; a member of the care team the steps of their role.
    pub async fn settle_step(
        &self,
        caller: &Caller,
        inclusion: Uuid,
        step: Uuid,
        outcome: StepOutcome,
        today: Day,
    ) -> Result<()> {
        let (found, team) = self.followed(caller, inclusion).await?;
        let cpts = caller.cpts();
        let steps = self.store.inclusion_steps(cpts, inclusion).await?;
        let row = steps
            .iter()
            .find(|s| s.id == step)
            .cloned()
            .ok_or(PathwayError::NotFound)?;
        if !Self::may_settle(caller, &team, &row.owner_role) {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Étape",
                "cette étape revient à un autre membre de l'équipe de soins",
            )]));
        }
        let included_on = day_of(&found.included_on).unwrap_or(today);
        let template = self.template_of(caller, &found).await?;
        let instrument = template
            .step(&row.code)
            .and_then(|s| s.instrument.as_deref())
            .and_then(Instrument::parse);
        let mut added = Vec::new();
        let settlement = match outcome {
            StepOutcome::Done {
                on,
                evidence_given,
                answers,
            } => {
                // A step with an instrument closes with its answers: they are its evidence.
                let scored = match instrument {
                    Some(instrument) if !answers.is_empty() => Some(results::scored_and_sealed(
                        &self.keyring,
                        cpts,
                        step,
                        instrument,
                        &answers,
                    )?),
                    _ => None,
                };
                let evidence = match instrument {
                    Some(_) => scored.is_some(),
                    None => evidence_given,
                };
                let day =
                    check_done(on, included_on, today, evidence).map_err(PathwayError::Invalid)?;
                // The step closed is no longer open: its own next occurrence is due.
                let open = steps_open(steps.iter().filter(|s| s.id != step));
                added = follow_ups(
                    &template,
                    &row.code,
                    day,
                    scored.as_ref().map(|(s, _)| s),
                    &open,
                )
                .into_iter()
                .map(|f| NewPathwayStep {
                    id: Uuid::now_v7(),
                    code: f.code,
                    label: f.label,
                    owner_role: f.owner.code().to_string(),
                    earliest: f.earliest.iso(),
                    latest: f.latest.iso(),
                    origin: f.origin.code().to_string(),
                    origin_step: Some(step),
                })
                .collect();
                let (result, positive) = match scored {
                    Some((scored, sealed)) => (Some(sealed), Some(results::positive(&scored))),
                    None => (None, None),
                };
                StepSettlement::Done {
                    on: day.iso(),
                    result,
                    positive,
                }
            }
            StepOutcome::Cancelled(reason) => StepSettlement::Cancelled(
                check_cancel_reason(&reason).map_err(|e| PathwayError::Invalid(vec![e]))?,
            ),
        };
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::PathwayStepSettled,
                "pathway_step",
                step.to_string(),
            )
            .detail(serde_json::json!({
                "inclusion": inclusion,
                "step": row.code,
                "done": matches!(settlement, StepSettlement::Done { .. }),
                "added": added.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(),
            })),
        );
        if !self
            .store
            .settle_pathway_step(cpts, inclusion, step, &settlement, &added, &entry)
            .await?
        {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Étape",
                "cette étape est déjà faite ou annulée",
            )]));
        }
        Ok(())
    }

    /// The event's day corrected (a discharge date typed wrong, a discharge postponed): the open steps get the
    /// windows of the inclusion's template version from the new day; steps done or cancelled keep theirs.
    pub async fn correct_event(
        &self,
        caller: &Caller,
        inclusion: Uuid,
        event: Day,
        today: Day,
    ) -> Result<()> {
        let (found, _) = self.followed(caller, inclusion).await?;
        let cpts = caller.cpts();
        if event > today.plus_days(30) {
            return Err(PathwayError::Invalid(vec![ValidationError::new(
                "Date de l'événement",
                format!("{} est à plus de 30 jours", event.french()),
            )]));
        }
        let template = self.template_of(caller, &found).await?;
        let steps = self.store.inclusion_steps(cpts, inclusion).await?;
        let current: Vec<(String, StepFacts)> = steps
            .iter()
            .map(|s| (s.code.clone(), facts_of(s)))
            .collect();
        let included_on = day_of(&found.included_on).unwrap_or(today);
        let moved = maillage_domain::pathways::inclusion::rescheduled(
            &template,
            included_on,
            event,
            &current,
        )
        .map_err(PathwayError::Invalid)?;
        let windows: Vec<(Uuid, String, String)> = moved
            .iter()
            .filter_map(|m| {
                steps
                    .iter()
                    .find(|s| s.code == m.code)
                    .map(|s| (s.id, m.earliest.iso(), m.latest.iso()))
            })
            .collect();
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::PathwayEventCorrected, "pathway_inclusion", inclusion.to_string())
                .detail(serde_json::json!({ "from": found.event_on, "to": event.iso(), "steps": windows.len() })),
        );
        if !self
            .store
            .reschedule_inclusion(cpts, inclusion, &event.iso(), &windows, &entry)
            .await?
        {
            return Err(PathwayError::NotFound);
        }
        Ok(())
    }

    /// The inclusions the caller follows, newest first (a member: their care teams' only). No identity opened.
    pub async fn inclusions(
        &self,
        caller: &Caller,
        page: maillage_store::Page,
    ) -> Result<Vec<InclusionRow>> {
        caller.require(Permission::FollowPathwayPatients)?;
        let member = match caller.role() {
            Role::Member => Some(
                caller
                    .professional()
                    .ok_or(Refused(Permission::FollowPathwayPatients))?,
            ),
            _ => None,
        };
        Ok(self
            .store
            .list_inclusions(caller.cpts(), member, page)
            .await?)
    }

    /// The patients the caller follows with their names, a page of them (a member: their care teams' only);
    /// the list's read is audited first, naming the inclusions shown.
    pub async fn followed_patients(
        &self,
        caller: &Caller,
        page: maillage_store::Page,
        today: Day,
    ) -> Result<Vec<ListedPatient>> {
        let rows = self.inclusions(caller, page).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let cpts = caller.cpts();
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(AuditAction::PathwayPatientsListed, "pathway_inclusion", "").detail(
                serde_json::json!({
                    "inclusions": rows.iter().map(|r| r.id).collect::<Vec<_>>(),
                }),
            ),
        )
        .await?;
        let mut listed = Vec::with_capacity(rows.len());
        for inclusion in rows {
            let Some(identity) = self.identity_of(cpts, inclusion.patient_id).await? else {
                continue;
            };
            let steps = self.store.inclusion_steps(cpts, inclusion.id).await?;
            let open: Vec<&PathwayStepRow> = steps
                .iter()
                .filter(|s| s.done_on.is_none() && s.cancelled_reason.is_none())
                .collect();
            let late = open
                .iter()
                .filter(|s| state_of(s, today) == StepState::Late)
                .count();
            let next = open
                .iter()
                .min_by(|a, b| a.latest.cmp(&b.latest))
                .map(|s| (s.label.clone(), s.latest.clone()));
            listed.push(ListedPatient {
                inclusion,
                identity,
                late,
                next,
            });
        }
        Ok(listed)
    }

    /// How many steps are late today for the caller: the coordination's and the secretariat's, every step of
    /// the CPTS; a member's, the steps of their roles in their care teams. No identity opened.
    pub async fn late_steps(&self, caller: &Caller, today: Day) -> Result<i64> {
        caller.require(Permission::FollowPathwayPatients)?;
        let member = match caller.role() {
            Role::Member => match caller.professional() {
                Some(me) => Some(me),
                None => return Ok(0),
            },
            _ => None,
        };
        Ok(self
            .store
            .count_late_pathway_steps(caller.cpts(), &today.iso(), member)
            .await?)
    }
}

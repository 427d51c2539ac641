//! The secretariat's review of possible duplicates: a public or partner submission that matched the open
//! request of the same person (see [`super::requests::OnMatch`]) is merged into it, or kept apart, by a person
//! who can see both — never on the submitter's word alone.

use super::*;
use crate::caller::Caller;
use maillage_domain::authz::Permission;

/// What the secretariat decides about a possible duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateDecision {
    /// The same person: the submission's criteria go to the open request, the duplicate goes.
    Merge,
    /// Two requests after all (a namesake born the same day, a relative): the flag goes.
    KeepApart,
}

impl DoctorSearch {
    /// The open request this one may duplicate, while nobody has decided.
    pub async fn possible_duplicate(
        &self,
        caller: &Caller,
        request: &DoctorRequest,
    ) -> Result<Option<DoctorRequest>> {
        caller.require(Permission::ViewPatientRequests)?;
        let Some(of) = self.store.duplicate_of(caller.cpts(), request.id).await? else {
            return Ok(None);
        };
        Ok(self.store.find_doctor_request(caller.cpts(), of).await?)
    }

    /// The requests waiting for a decision, oldest first.
    pub async fn possible_duplicates(
        &self,
        caller: &Caller,
        page: Page,
    ) -> Result<Vec<DoctorRequest>> {
        caller.require(Permission::ViewPatientRequests)?;
        Ok(self
            .store
            .list_possible_duplicates(caller.cpts(), page)
            .await?)
    }

    /// Applies the secretariat's decision; returns the request to show next (the open one after a merge).
    pub async fn decide_duplicate(
        &self,
        caller: &Caller,
        id: Uuid,
        decision: DuplicateDecision,
    ) -> Result<Uuid> {
        caller.require(Permission::ViewPatientRequests)?;
        let cpts = caller.cpts();
        let already =
            || DoctorSearchError::Refused("Ce doublon possible a déjà été traité.".into());
        let Some(of) = self.store.duplicate_of(cpts, id).await? else {
            return Err(already());
        };
        let actor = caller.audit().in_cpts(cpts);
        match decision {
            DuplicateDecision::KeepApart => {
                let audit = Self::entry(
                    &actor,
                    cpts,
                    AuditAction::DoctorRequestKeptApart,
                    &id.to_string(),
                    serde_json::json!({ "possible_duplicate_of": of.to_string() }),
                );
                if !self.store.keep_apart(cpts, id, &audit).await? {
                    return Err(already());
                }
                Ok(id)
            }
            DuplicateDecision::Merge => {
                let duplicate = self
                    .store
                    .find_doctor_request(cpts, id)
                    .await?
                    .ok_or(DoctorSearchError::NotFound)?;
                let open = self
                    .store
                    .find_doctor_request(cpts, of)
                    .await?
                    .ok_or(DoctorSearchError::NotFound)?;
                if open.state.is_final() {
                    return Err(DoctorSearchError::Refused(
                        "La demande d'origine est terminée : gardez celle-ci comme une demande à part.".into(),
                    ));
                }
                let rules = self.rules(cpts).await?;
                let criteria = open.criteria.union(duplicate.criteria);
                let score = Self::score(&rules, &criteria, open.age_at_request, open.received_at);
                let channel = Channel::parse(&duplicate.channel)
                    .map(Channel::label)
                    .unwrap_or_default();
                let event = RequestEvent::new(
                    "merged",
                    open.state.code(),
                    open.state.code(),
                    caller.user(),
                    now_ms(),
                )
                .detail(if duplicate.referrer.is_empty() {
                    channel.to_string()
                } else {
                    format!("{channel} — {}", duplicate.referrer)
                });
                let audit = Self::entry(
                    &actor,
                    cpts,
                    AuditAction::DoctorRequestMerged,
                    &open.id.to_string(),
                    serde_json::json!({ "channel": duplicate.channel, "duplicate": id.to_string() }),
                );
                let merged = self
                    .store
                    .merge_duplicate(
                        cpts,
                        id,
                        open.id,
                        &criteria,
                        (i64::from(score.score), &score.explanation()),
                        &event,
                        &audit,
                    )
                    .await?;
                if !merged {
                    return Err(already());
                }
                Ok(open.id)
            }
        }
    }
}

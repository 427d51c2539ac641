//! A GP's answer to a proposal, however it comes: through the e-mailed link, from "Mes places" when she is
//! logged in, or told on the phone and recorded by the coordination. And what became of the messages of a
//! request (to the GPs, to the patient), with the calls made in their place.

use super::*;
use crate::caller::Caller;
use maillage_domain::authz::Permission;
use maillage_domain::delivery::Purpose;
use maillage_domain::doctor_search::decline_reason_label;
use maillage_store::Delivery;

/// Who gave the answer, for the request's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnsweredBy {
    Link,
    Doctor,
    PhoneCall,
}

impl DoctorSearch {
    /// The GP's answer through their link. Returns false when the link was already used or expired.
    pub async fn answer(&self, token: &str, answer: ProposalAnswer, reason: &str) -> Result<bool> {
        let Some(view) = self.proposal_of_link(token).await? else {
            return Ok(false);
        };
        self.record_answer(
            &AuditContext::default(),
            view,
            answer,
            reason,
            AnsweredBy::Link,
        )
        .await
    }

    /// The logged-in GP answers a proposal addressed to her own practice ("Mes places"); anyone else's is
    /// not found. False when it was already answered.
    pub async fn answer_as_doctor(
        &self,
        caller: &Caller,
        proposal: Uuid,
        answer: ProposalAnswer,
        reason: &str,
    ) -> Result<bool> {
        caller.require(Permission::DeclareCapacity)?;
        let view = self.sent_proposal(caller.cpts(), proposal).await?;
        if caller.professional() != Some(view.proposal.professional_id) {
            return Err(DoctorSearchError::NotFound);
        }
        self.record_answer(caller.audit(), view, answer, reason, AnsweredBy::Doctor)
            .await
    }

    /// The coordination records the answer a GP gave on the phone (she had no e-mail, or called back).
    pub async fn record_phone_answer(
        &self,
        caller: &Caller,
        proposal: Uuid,
        answer: ProposalAnswer,
        reason: &str,
    ) -> Result<bool> {
        caller.require(Permission::RunMatching)?;
        let view = self.sent_proposal(caller.cpts(), proposal).await?;
        let id = view.proposal.id;
        let done = self
            .record_answer(caller.audit(), view, answer, reason, AnsweredBy::PhoneCall)
            .await?;
        if done {
            // The call replaced the message: it leaves the "à appeler" list.
            for delivery in self
                .store
                .deliveries_of(caller.cpts(), Purpose::Proposal, &[id])
                .await?
            {
                if delivery.handled_at.is_none() && delivery.shown().needs_a_call() {
                    self.called(caller, &delivery).await?;
                }
            }
        }
        Ok(done)
    }

    /// A sent proposal of the CPTS, with its GP's name.
    async fn sent_proposal(
        &self,
        cpts: CptsId,
        proposal: Uuid,
    ) -> Result<maillage_store::ProposalView> {
        let found = self
            .store
            .find_proposal(cpts, proposal)
            .await?
            .ok_or(DoctorSearchError::NotFound)?;
        self.store
            .proposals_of_request(cpts, found.request_id)
            .await?
            .into_iter()
            .find(|view| view.proposal.id == proposal)
            .ok_or(DoctorSearchError::NotFound)
    }

    async fn record_answer(
        &self,
        actor: &AuditContext,
        view: maillage_store::ProposalView,
        answer: ProposalAnswer,
        reason: &str,
        by: AnsweredBy,
    ) -> Result<bool> {
        let proposal = view.proposal;
        if proposal.status != ProposalStatus::Sent {
            return Ok(false);
        }
        let accepted = matches!(answer, ProposalAnswer::Accepted);
        // The link's page has always let a GP decline without saying why; people in Maillage say it.
        if !accepted && by != AnsweredBy::Link && decline_reason_label(reason).is_none() {
            return Err(DoctorSearchError::Refused(
                "Raison du refus : choisissez-en une.".into(),
            ));
        }
        let to = if accepted {
            RequestState::Accepted
        } else {
            RequestState::Declined
        };
        let reason = if accepted { "" } else { reason };
        let how = match by {
            AnsweredBy::Link => "",
            AnsweredBy::Doctor => " dans « Mes places »",
            AnsweredBy::PhoneCall => " par téléphone",
        };
        let event = RequestEvent::new(
            "state",
            RequestState::Proposed.code(),
            to.code(),
            actor.actor_id,
            now_ms(),
        )
        .detail(if accepted {
            format!("acceptée par le Dr {}{how}", view.doctor_name)
        } else {
            format!(
                "refusée par le Dr {}{how} : {}",
                view.doctor_name,
                decline_reason_label(reason).unwrap_or("autre raison")
            )
        });
        let cpts = proposal.cpts_id;
        let audit = audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(
                AuditAction::ProposalAnswered,
                "doctor_request",
                proposal.request_id.to_string(),
            )
            .detail(serde_json::json!({
                "accepted": accepted,
                "reason": reason,
                "by_phone": by == AnsweredBy::PhoneCall,
            })),
        );
        if !self
            .store
            .answer_proposal(&proposal, accepted, reason, &event, &audit)
            .await?
        {
            return Ok(false);
        }
        if accepted {
            if let Some(request) = self
                .store
                .find_doctor_request(cpts, proposal.request_id)
                .await?
            {
                if let Some(identity) = self
                    .identity_as(
                        &actor.in_cpts(cpts),
                        cpts,
                        &request,
                        "prévenir le patient qu'un médecin l'accueille",
                    )
                    .await?
                {
                    self.notify_patient(
                        cpts,
                        &request,
                        &identity,
                        &format!(
                            "Bonne nouvelle : le Dr {} accepte de devenir votre médecin traitant. La CPTS \
                             vous appelle pour organiser le premier rendez-vous.",
                            view.doctor_name
                        ),
                        true,
                    )
                    .await?;
                }
            }
        }
        Ok(true)
    }

    /// What became of the messages about a request: to each GP it was proposed to, and to the patient.
    pub async fn messages_of(
        &self,
        caller: &Caller,
        request: Uuid,
        proposals: &[maillage_store::ProposalView],
    ) -> Result<(Vec<Delivery>, Vec<Delivery>)> {
        caller.require(Permission::ViewPatientRequests)?;
        let ids: Vec<Uuid> = proposals.iter().map(|view| view.proposal.id).collect();
        let to_doctors = self
            .store
            .deliveries_of(caller.cpts(), Purpose::Proposal, &ids)
            .await?;
        let to_patient = self
            .store
            .deliveries_of(caller.cpts(), Purpose::PatientNotice, &[request])
            .await?;
        Ok((to_doctors, to_patient))
    }

    /// The messages of the médecin-traitant mission someone must phone about (newest first), with the
    /// request each is about.
    pub async fn messages_to_call(&self, caller: &Caller) -> Result<Vec<(Delivery, Uuid)>> {
        caller.require(Permission::ViewPatientRequests)?;
        let mut found = Vec::new();
        for delivery in self
            .store
            .deliveries_to_call(caller.cpts(), Page::first(100))
            .await?
        {
            let request = match delivery.purpose {
                Purpose::PatientNotice => Some(delivery.subject_id),
                Purpose::Proposal => self
                    .store
                    .find_proposal(caller.cpts(), delivery.subject_id)
                    .await?
                    .map(|p| p.request_id),
                _ => None,
            };
            if let Some(request) = request {
                found.push((delivery, request));
            }
        }
        Ok(found)
    }

    /// Someone called the patient or the GP instead of the message: recorded, and the request's history says
    /// the patient was told. Returns the request it was about.
    pub async fn mark_called(&self, caller: &Caller, delivery: Uuid) -> Result<Uuid> {
        caller.require(Permission::ViewPatientRequests)?;
        let found = self
            .store
            .find_delivery(caller.cpts(), delivery)
            .await?
            .ok_or(DoctorSearchError::NotFound)?;
        let request = match found.purpose {
            Purpose::PatientNotice => found.subject_id,
            Purpose::Proposal => {
                caller.require(Permission::RunMatching)?;
                self.store
                    .find_proposal(caller.cpts(), found.subject_id)
                    .await?
                    .ok_or(DoctorSearchError::NotFound)?
                    .request_id
            }
            _ => return Err(DoctorSearchError::NotFound),
        };
        let mut called = self.called(caller, &found).await?;
        if found.purpose == Purpose::PatientNotice {
            // One call tells the patient everything the messages she could not receive said.
            for other in self
                .store
                .deliveries_of(caller.cpts(), Purpose::PatientNotice, &[request])
                .await?
            {
                if other.id != found.id
                    && other.handled_at.is_none()
                    && other.shown().needs_a_call()
                {
                    called |= self.called(caller, &other).await?;
                }
            }
        }
        if called && found.purpose == Purpose::PatientNotice {
            if let Some(current) = self
                .store
                .find_doctor_request(caller.cpts(), request)
                .await?
            {
                self.store
                    .add_request_event(
                        caller.cpts(),
                        request,
                        &RequestEvent::new(
                            "notified",
                            current.state.code(),
                            current.state.code(),
                            caller.audit().actor_id,
                            now_ms(),
                        )
                        .detail("patient prévenu par téléphone".to_string()),
                    )
                    .await?;
            }
        }
        Ok(request)
    }

    async fn called(&self, caller: &Caller, delivery: &Delivery) -> Result<bool> {
        let audit = audit::entry(
            caller.audit(),
            AuditEvent::new(
                AuditAction::DeliveryCalled,
                "delivery",
                delivery.id.to_string(),
            )
            .detail(serde_json::json!({ "purpose": delivery.purpose.code() })),
        );
        Ok(self
            .store
            .mark_delivery_phoned(caller.cpts(), delivery.id, caller.user(), now_ms(), &audit)
            .await?)
    }
}

//! A partner's own referrals (DAC, hospital social worker, town hall): she sees the patients she referred
//! by name, each request's history in words, adds information for the coordination and withdraws a referral
//! that is no longer needed. Every rule is "her own referrals only": another's is not found.

use super::*;
use crate::caller::Caller;
use maillage_domain::authz::Permission;

/// One of the partner's referrals, the patient's identity opened (after an audited read).
pub struct Referral {
    pub request: DoctorRequest,
    pub patient: Option<PatientIdentity>,
}

/// The longest information a partner adds at once.
pub const INFORMATION_MAX_CHARS: usize = 1000;

impl DoctorSearch {
    /// The request `id` if the caller referred it — or handles every request (the coordination, the
    /// secretariat); NotFound otherwise (another partner's, another CPTS's).
    async fn own_referral(&self, caller: &Caller, id: Uuid) -> Result<DoctorRequest> {
        caller.require(Permission::SubmitReferral)?;
        let request = self
            .store
            .find_doctor_request(caller.cpts(), id)
            .await?
            .ok_or(DoctorSearchError::NotFound)?;
        let referred = caller.user().is_some() && request.referrer_user_id == caller.user();
        if referred || caller.may(Permission::ViewPatientRequests) {
            Ok(request)
        } else {
            Err(DoctorSearchError::NotFound)
        }
    }

    fn open_patient(&self, record: &PatientRecord) -> Result<PatientIdentity> {
        Ok(crate::patients::opened_identity(&self.keyring, record)?)
    }

    /// The partner's referrals, newest first, with the patients' names: one audited read for the page,
    /// written before any identity is opened (refused, nothing is shown).
    pub async fn my_referrals_named(&self, caller: &Caller, page: Page) -> Result<Vec<Referral>> {
        let requests = self.my_referrals(caller, page).await?;
        if requests.iter().any(|r| r.patient_id.is_some()) {
            audit::record(
                self.store.as_ref(),
                caller.audit(),
                AuditEvent::new(
                    AuditAction::ReferralsViewed,
                    "cpts",
                    caller.cpts().to_string(),
                )
                .detail(serde_json::json!({ "requests": requests.len() })),
            )
            .await?;
        }
        let mut listed = Vec::with_capacity(requests.len());
        for request in requests {
            let patient = match request.patient_id {
                Some(id) => match self.store.find_patient(caller.cpts(), id).await? {
                    Some(record) => Some(self.open_patient(&record)?),
                    None => None,
                },
                None => None,
            };
            listed.push(Referral { request, patient });
        }
        Ok(listed)
    }

    /// One of the partner's referrals with its history (state changes and what was added, in order); the
    /// identity is an audited read.
    pub async fn my_referral(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Referral, Vec<RequestEvent>)> {
        let request = self.own_referral(caller, id).await?;
        let patient = self
            .identity_as(
                caller.audit(),
                caller.cpts(),
                &request,
                "suivi de l'adressage",
            )
            .await?;
        let events = self.store.request_events(caller.cpts(), id).await?;
        Ok((Referral { request, patient }, events))
    }

    /// Adds information for the coordination (the patient moved, a phone changed, the situation worsened):
    /// appended, dated, to the sealed note of the patient, with an event that says only that something was
    /// added; refused once the request has ended.
    pub async fn add_referral_information(
        &self,
        caller: &Caller,
        id: Uuid,
        text: &str,
    ) -> Result<()> {
        let request = self.own_referral(caller, id).await?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > INFORMATION_MAX_CHARS {
            return Err(DoctorSearchError::Invalid(ValidationError::new(
                "Information",
                format!("écrivez l'information à transmettre ({INFORMATION_MAX_CHARS} caractères au plus)"),
            )));
        }
        let ended = || {
            DoctorSearchError::Refused(
                "Cette demande est terminée : appelez la coordination de la CPTS.".into(),
            )
        };
        if request.state.is_final() {
            return Err(ended());
        }
        let Some(patient_id) = request.patient_id else {
            return Err(ended());
        };
        let Some(record) = self.store.find_patient(caller.cpts(), patient_id).await? else {
            return Err(ended());
        };
        let now = now_ms();
        let mut identity = self.open_patient(&record)?;
        let added = format!(
            "{} — {} : {text}",
            crate::clock::french_date(now),
            caller.audit().actor
        );
        identity.note = Some(
            match identity.note.take().filter(|n| !n.trim().is_empty()) {
                Some(note) => format!("{note}\n{added}"),
                None => added,
            },
        );
        let resealed = crate::patients::sealed_record(
            &self.keyring,
            caller.cpts(),
            patient_id,
            &identity,
            now,
        )?;
        let event = RequestEvent::new(
            "information",
            request.state.code(),
            request.state.code(),
            caller.user(),
            now,
        );
        let audit = Self::entry(
            caller.audit(),
            caller.cpts(),
            AuditAction::ReferralInformationAdded,
            &id.to_string(),
            serde_json::json!({}),
        );
        if !self
            .store
            .add_request_information(caller.cpts(), id, &resealed, &event, &audit)
            .await?
        {
            return Err(ended());
        }
        Ok(())
    }

    /// Withdraws a referral the patient no longer needs (a GP found, moved away), from any state that may be
    /// withdrawn; the coordination sees it as withdrawn by the partner.
    pub async fn withdraw_referral(&self, caller: &Caller, id: Uuid) -> Result<()> {
        let request = self.own_referral(caller, id).await?;
        self.change_state_as(
            caller.audit(),
            caller.cpts(),
            request.id,
            maillage_domain::doctor_search::RequestState::Withdrawn,
            "retirée par le partenaire qui l'avait adressée",
        )
        .await
    }

    /// Whether the partner may still act on her referral (checked before a confirmation page).
    pub async fn check_referral(&self, caller: &Caller, id: Uuid) -> Result<()> {
        self.own_referral(caller, id).await.map(|_| ())
    }
}

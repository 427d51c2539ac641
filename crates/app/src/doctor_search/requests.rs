//! Requests: intake (a new request, or a submission merged into the open one of the same person — or, from
//! the public form or a partner, flagged as a possible duplicate for the secretariat to decide), the identity
//! opened for a purpose, moves along the workflow and corrections.

use super::*;

/// What a submission matching the open request of the same person does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnMatch {
    /// The CPTS's own staff (a call, a list): added to the open request.
    Merge,
    /// The public form or a partner: anyone who knows a name and a birth date must not alter someone else's
    /// request nor learn that it exists. A request of its own, flagged for review, answered as any new one.
    Review,
}

impl DoctorSearch {
    /// Records a request, or merges it into the same person's open request (see [`OnMatch`]).
    pub(super) async fn submit_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        input: &RequestInput,
        origin: &Origin,
        on_match: OnMatch,
    ) -> Result<Submitted> {
        let actor = actor.in_cpts(cpts);
        let rules = self.rules(cpts).await?;
        let now = now_ms();
        let same_person: Vec<PatientId> = self
            .store
            .find_patients_by_blind_index(cpts, &self.blind_index(cpts, &input.identity))
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        let open = self
            .store
            .open_request_of_patients(cpts, &same_person)
            .await?;
        let possible_duplicate_of = match (&open, on_match) {
            (Some(open), OnMatch::Review) => Some(open.id),
            _ => None,
        };
        if let (Some(open), OnMatch::Merge) = (open, on_match) {
            let criteria = open.criteria.union(input.criteria);
            let score = Self::score(&rules, &criteria, open.age_at_request, open.received_at);
            let event = RequestEvent::new(
                "merged",
                open.state.code(),
                open.state.code(),
                origin.recorded_by.or(origin.referrer_user),
                now,
            )
            .detail(format!(
                "{}{}",
                origin.channel.label(),
                if origin.referrer.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", origin.referrer)
                }
            ));
            let audit = Self::entry(
                &actor,
                cpts,
                AuditAction::DoctorRequestMerged,
                &open.id.to_string(),
                serde_json::json!({ "channel": origin.channel.code() }),
            );
            self.store
                .merge_into_request(
                    cpts,
                    open.id,
                    &criteria,
                    (i64::from(score.score), &score.explanation()),
                    &event,
                    &audit,
                )
                .await?;
            return Ok(Submitted {
                id: open.id,
                merged: true,
            });
        }
        let patient_id = PatientId::new();
        let patient = self.seal(cpts, patient_id, &input.identity)?;
        let age = i64::from(input.age);
        let score = Self::score(&rules, &input.criteria, age, now);
        let id = Uuid::now_v7();
        let request = DoctorRequest {
            id,
            cpts_id: cpts,
            patient_id: Some(patient_id),
            channel: origin.channel.code().to_string(),
            referrer: origin.referrer.chars().take(200).collect(),
            referrer_user_id: origin.referrer_user,
            consent_by: input.consent_by.code().to_string(),
            consent_method: origin.consent_method.clone(),
            consent_at: now,
            consent_recorded_by: origin.recorded_by,
            birth_year: input.birth_year,
            age_at_request: age,
            commune_code: input.commune.clone(),
            criteria: input.criteria,
            priority: i64::from(score.score),
            priority_reasons: score.explanation(),
            state: RequestState::Received,
            state_since: now,
            professional_id: None,
            outcome: String::new(),
            submissions: 1,
            received_at: now,
            attached_at: None,
            anonymised_at: None,
            updated_at: now,
        };
        let event = RequestEvent::new(
            "created",
            "",
            RequestState::Received.code(),
            origin.recorded_by.or(origin.referrer_user),
            now,
        )
        .detail(origin.channel.label());
        let audit = Self::entry(
            &actor,
            cpts,
            AuditAction::DoctorRequestCreated,
            &id.to_string(),
            serde_json::json!({
                "channel": origin.channel.code(),
                "possible_duplicate_of": possible_duplicate_of.map(|of| of.to_string()),
            }),
        );
        self.store
            .create_doctor_request(&patient, &request, &event, &audit, possible_duplicate_of)
            .await?;
        self.notify_patient(
            cpts,
            &request,
            &input.identity,
            "Votre demande de médecin traitant a bien été reçue par la CPTS. Nous vous recontacterons dès \
             qu'un médecin pourra vous accueillir.",
            false,
        )
        .await?;
        Ok(Submitted { id, merged: false })
    }

    /// The patient's identity, decrypted for `purpose` and audited.
    pub(super) async fn identity_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        request: &DoctorRequest,
        purpose: &str,
    ) -> Result<Option<PatientIdentity>> {
        let Some(patient_id) = request.patient_id else {
            return Ok(None);
        };
        let Some(record) = self.store.find_patient(cpts, patient_id).await? else {
            return Ok(None);
        };
        audit::record(
            self.store.as_ref(),
            &actor.in_cpts(cpts),
            AuditEvent::new(
                AuditAction::DoctorRequestViewed,
                "doctor_request",
                request.id.to_string(),
            )
            .purpose(purpose),
        )
        .await?;
        Ok(Some(crate::patients::opened_identity(
            &self.keyring,
            &record,
        )?))
    }

    /// Moves a request by hand along the workflow (outcome: a decline reason, a redirection, a note).
    pub(super) async fn change_state_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        id: Uuid,
        to: RequestState,
        outcome: &str,
    ) -> Result<()> {
        let request = self
            .store
            .find_doctor_request(cpts, id)
            .await?
            .ok_or(DoctorSearchError::Store(StoreError::NotFound("request")))?;
        if let Err(refused) =
            maillage_domain::workflow::check_move("Une demande", request.state, to)
        {
            return Err(DoctorSearchError::Refused(refused.message));
        }
        if to == RequestState::Proposed {
            return Err(DoctorSearchError::Refused(
                "Pour proposer la demande à un médecin, passez par l'appariement ou choisissez un médecin."
                    .into(),
            ));
        }
        let now = now_ms();
        let professional = match to {
            RequestState::Qualified | RequestState::Withdrawn | RequestState::Redirected
                if request.state != RequestState::Closed =>
            {
                (request.state != RequestState::Received
                    && request.state != RequestState::Incomplete)
                    .then_some(None)
            }
            _ => None,
        };
        let change = StateChange {
            from: request.state,
            to,
            professional,
            outcome: outcome.chars().take(200).collect(),
            event: RequestEvent::new(
                "state",
                request.state.code(),
                to.code(),
                actor.actor_id,
                now,
            )
            .detail(outcome.chars().take(200).collect::<String>()),
        };
        let audit = Self::entry(
            actor,
            cpts,
            AuditAction::DoctorRequestUpdated,
            &id.to_string(),
            serde_json::json!({ "from": request.state.code(), "to": to.code() }),
        );
        if !self
            .store
            .change_request_state(cpts, id, &change, &audit)
            .await?
        {
            return Err(DoctorSearchError::Refused(
                "La demande vient d'être modifiée par quelqu'un d'autre : rechargez la page."
                    .into(),
            ));
        }
        if to == RequestState::Qualified {
            self.refresh_one(cpts, id).await?;
        }
        Ok(())
    }

    /// Corrects the identity, commune, birth date or criteria of an open request.
    pub(super) async fn update_details_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        id: Uuid,
        input: &RequestInput,
    ) -> Result<()> {
        let request = self
            .store
            .find_doctor_request(cpts, id)
            .await?
            .ok_or(DoctorSearchError::Store(StoreError::NotFound("request")))?;
        let Some(patient_id) = request.patient_id else {
            return Err(DoctorSearchError::Refused(
                "Cette demande est anonymisée : elle ne peut plus être modifiée.".into(),
            ));
        };
        let rules = self.rules(cpts).await?;
        let score = Self::score(
            &rules,
            &input.criteria,
            i64::from(input.age),
            request.received_at,
        );
        let patient = self.seal(cpts, patient_id, &input.identity)?;
        let event = RequestEvent::new(
            "edited",
            request.state.code(),
            request.state.code(),
            actor.actor_id,
            now_ms(),
        );
        self.store
            .update_request_details(
                cpts,
                id,
                &input.commune,
                input.birth_year,
                i64::from(input.age),
                &input.criteria,
                (i64::from(score.score), &score.explanation()),
                Some(&patient),
                &event,
                &Self::entry(
                    actor,
                    cpts,
                    AuditAction::DoctorRequestUpdated,
                    &id.to_string(),
                    serde_json::json!({ "edited": true }),
                ),
            )
            .await?;
        Ok(())
    }
}

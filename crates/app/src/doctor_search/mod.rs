//! Access to a médecin traitant: intake from every channel (with duplicate merging), priority, the workflow,
//! GPs' room, the matching and its proposals, the GP's answer, patient notification, indicators' inputs,
//! retention. Identity is sealed before it reaches the store; every read and change is audited.

mod pages;

use crate::audit::{self, AuditContext, AuditEvent};
use crate::clock::{date_text, now_ms, DAY_MS};
use crate::config::DoctorSearchConfig;
use crate::crypto::{CryptoError, Keyring, PatientIdentity};
use crate::mail::{self, OutgoingMail};
use maillage_domain::audit::AuditAction;
use maillage_domain::doctor_search::{
    age_group, age_on, priority, Channel, ConsentBy, Criteria, Criterion, Priority, PriorityRules,
    RequestState, CONSENT_VERSION,
};
use maillage_domain::identifiers::{required_text, Email, InseeCode};
use maillage_domain::matching::{solve_with, MatchDoctor, MatchRequest};
use maillage_domain::professional::parse_phone;
use maillage_domain::structures::parse_date;
use maillage_domain::ValidationError;
use maillage_store::{
    CptsId, DoctorRequest, GpCapacity, NewAuditEntry, Page, PatientId, PatientRecord, Proposal,
    ProposalStatus, RequestEvent, RequestFilter, StateChange, Store, StoreError, UserId,
};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DoctorSearchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("identity cannot be encoded: {0}")]
    Encoding(String),
    #[error(transparent)]
    Patient(#[from] crate::patients::PatientError),
    /// The request is not (or no longer) in a state allowing this; the message is French, for the page.
    #[error("{0}")]
    Refused(String),
    /// Not a record this caller may handle, or none: told apart to nobody.
    #[error("not found")]
    NotFound,
}

pub type Result<T, E = DoctorSearchError> = std::result::Result<T, E>;

/// A request's fields as a form or a CSV line gives them, every one text.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RequestFields {
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub given_names: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
    /// Codes of [`Criterion`].
    #[serde(default)]
    pub criteria: Vec<String>,
    #[serde(default)]
    pub note: String,
    /// Code of [`ConsentBy`].
    #[serde(default)]
    pub consent_by: String,
    /// Present when the consent box was ticked (or the consent column says yes).
    #[serde(default)]
    pub consent: Option<String>,
}

/// A checked request: what the store will keep.
#[derive(Debug, Clone)]
pub struct RequestInput {
    pub identity: PatientIdentity,
    pub birth_year: i64,
    pub age: u32,
    pub commune: String,
    pub criteria: Criteria,
    pub consent_by: ConsentBy,
}

impl RequestFields {
    /// Every problem, each naming its field; `today` is `YYYY-MM-DD`.
    pub fn parse(&self, today: &str) -> std::result::Result<RequestInput, Vec<ValidationError>> {
        let mut problems = Vec::new();
        let mut keep = |result: std::result::Result<String, ValidationError>| match result {
            Ok(value) => value,
            Err(error) => {
                problems.push(error);
                String::new()
            }
        };
        let family_name = keep(required_text("Nom", &self.family_name, 100));
        let given_names = keep(required_text("Prénom", &self.given_names, 100));
        let birth_date = match parse_date("Date de naissance", &self.birth_date) {
            Ok(Some(date)) if date.as_str() <= today => date,
            Ok(Some(_)) => {
                problems.push(ValidationError::new(
                    "Date de naissance",
                    "la date est dans le futur",
                ));
                String::new()
            }
            Ok(None) => {
                problems.push(ValidationError::new(
                    "Date de naissance",
                    "obligatoire (JJ/MM/AAAA)",
                ));
                String::new()
            }
            Err(error) => {
                problems.push(error);
                String::new()
            }
        };
        let commune = match InseeCode::parse(self.commune.trim()) {
            Ok(code) if maillage_domain::territory::find(&code).is_some() => {
                code.as_str().to_string()
            }
            Ok(code) => {
                problems.push(ValidationError::new(
                    "Commune",
                    format!("aucune commune n'a le code {}", code.as_str()),
                ));
                String::new()
            }
            Err(_) => {
                problems.push(ValidationError::new(
                    "Commune",
                    "choisissez une commune de la liste (code INSEE)",
                ));
                String::new()
            }
        };
        let phone = match parse_phone("Téléphone", &self.phone) {
            Ok(phone) => phone,
            Err(error) => {
                problems.push(error);
                String::new()
            }
        };
        let email = match self.email.trim() {
            "" => String::new(),
            text => match Email::parse(text) {
                Ok(email) => email.as_str().to_string(),
                Err(_) => {
                    problems.push(ValidationError::new(
                        "E-mail",
                        "adresse e-mail invalide (exemple : nom@exemple.fr)",
                    ));
                    String::new()
                }
            },
        };
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            problems.push(ValidationError::new(
                "Téléphone",
                "donnez au moins un téléphone ou un e-mail pour être recontacté",
            ));
        }
        let address = self.address.trim();
        if address.chars().count() > 300 {
            problems.push(ValidationError::new("Adresse", "300 caractères au plus"));
        }
        let note = self.note.trim();
        if note.chars().count() > 2000 {
            problems.push(ValidationError::new(
                "Précisions",
                "2000 caractères au plus",
            ));
        }
        let mut criteria = Criteria::default();
        for code in &self.criteria {
            match Criterion::parse(code.trim()) {
                Some(criterion) => criteria.set(criterion, true),
                None if code.trim().is_empty() => {}
                None => problems.push(ValidationError::new(
                    "Critères",
                    format!(
                        "critère inconnu « {} »",
                        code.chars().take(40).collect::<String>()
                    ),
                )),
            }
        }
        let consent_by = match ConsentBy::parse(self.consent_by.trim()) {
            Some(by) => by,
            None if self.consent_by.trim().is_empty() => ConsentBy::Patient,
            None => {
                problems.push(ValidationError::new(
                    "Consentement donné par",
                    "choisissez une valeur de la liste",
                ));
                ConsentBy::Patient
            }
        };
        if self
            .consent
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .is_empty()
        {
            problems.push(ValidationError::new(
                "Consentement",
                "le consentement du patient est obligatoire pour enregistrer la demande",
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let age = age_on(&birth_date, today).unwrap_or(0);
        let birth_year = birth_date
            .get(..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(0);
        Ok(RequestInput {
            identity: PatientIdentity {
                family_name,
                given_names,
                birth_date,
                phone: (!phone.is_empty()).then_some(phone),
                email: (!email.is_empty()).then_some(email),
                address: (!address.is_empty()).then(|| address.to_string()),
                note: (!note.is_empty()).then(|| note.to_string()),
            },
            birth_year,
            age,
            commune,
            criteria,
            consent_by,
        })
    }
}

/// Where a request comes from and how consent was collected.
#[derive(Debug, Clone)]
pub struct Origin {
    pub channel: Channel,
    /// Who referred (a pharmacy, the CPAM, a social worker…); empty for the patient themself.
    pub referrer: String,
    pub referrer_user: Option<UserId>,
    /// How consent was collected ("case cochée sur le formulaire public, version …").
    pub consent_method: String,
    pub recorded_by: Option<UserId>,
}

impl Origin {
    pub fn public_form() -> Self {
        Self {
            channel: Channel::WebForm,
            referrer: String::new(),
            referrer_user: None,
            consent_method: format!(
                "case cochée sur le formulaire public (texte {CONSENT_VERSION})"
            ),
            recorded_by: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    pub id: Uuid,
    /// True when an open request of the same person existed: the submission was merged into it.
    pub merged: bool,
}

/// What a matching proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchingSummary {
    pub requests: usize,
    pub doctors: usize,
    pub proposed: usize,
    pub unassigned: usize,
    pub total_weight: u64,
    pub total_distance_km: f64,
}

/// What the GP answering a proposal's link sees and may do.
pub enum ProposalAnswer {
    Accepted,
    Declined,
}

fn today() -> String {
    date_text(now_ms())
}

#[derive(Clone)]
pub struct DoctorSearch {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    config: DoctorSearchConfig,
    public_url: String,
    mail_attempts: i64,
}

impl DoctorSearch {
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        config: DoctorSearchConfig,
        public_url: &str,
        mail_attempts: i64,
    ) -> Self {
        Self {
            store,
            keyring,
            config,
            public_url: public_url.trim_end_matches('/').to_string(),
            mail_attempts,
        }
    }

    /// The service as `serve` and the web application configure it.
    pub fn from_config(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        config: &crate::Config,
    ) -> Self {
        Self::new(
            store,
            keyring,
            config.doctor_search.clone(),
            &config.server.public_url,
            config.jobs.max_attempts,
        )
    }

    pub fn config(&self) -> &DoctorSearchConfig {
        &self.config
    }

    fn seal(
        &self,
        cpts: CptsId,
        id: PatientId,
        identity: &PatientIdentity,
    ) -> Result<PatientRecord> {
        crate::patients::sealed_record(&self.keyring, cpts, id, identity, now_ms())
            .map_err(Into::into)
    }

    /// The entry of `action` on request `id`, written by the store in the transaction of the change.
    fn entry(
        actor: &AuditContext,
        cpts: CptsId,
        action: AuditAction,
        id: &str,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(action, "doctor_request", id).detail(detail),
        )
    }

    fn blind_index(&self, cpts: CptsId, identity: &PatientIdentity) -> String {
        self.keyring
            .blind_index(cpts.to_string().as_bytes(), &identity.match_key())
    }

    /// The CPTS's priority rules (the defaults until the coordinator changes them).
    pub async fn rules(&self, cpts: CptsId) -> Result<PriorityRules> {
        Ok(match self.store.priority_rules(cpts).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => PriorityRules::default(),
        })
    }

    async fn save_rules_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        rules: &PriorityRules,
    ) -> Result<()> {
        let json =
            serde_json::to_string(rules).map_err(|e| DoctorSearchError::Encoding(e.to_string()))?;
        let audit = audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(AuditAction::PriorityRulesChanged, "cpts", cpts.to_string())
                .detail(serde_json::from_str(&json).unwrap_or_default()),
        );
        self.store
            .save_priority_rules(cpts, &json, now_ms(), &audit)
            .await?;
        self.refresh_priorities(cpts).await?;
        Ok(())
    }

    fn score(rules: &PriorityRules, criteria: &Criteria, age: i64, received_at: i64) -> Priority {
        let waiting_days = (now_ms() - received_at) / DAY_MS;
        priority(rules, criteria, u32::try_from(age).ok(), waiting_days)
    }

    /// Records a request, or merges it into the same person's open request.
    async fn submit_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        input: &RequestInput,
        origin: &Origin,
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
        if let Some(open) = self
            .store
            .open_request_of_patients(cpts, &same_person)
            .await?
        {
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
            serde_json::json!({ "channel": origin.channel.code() }),
        );
        self.store
            .create_doctor_request(&patient, &request, &event, &audit)
            .await?;
        self.notify_patient(
            cpts,
            &request,
            &input.identity,
            "Votre demande de médecin traitant a bien été reçue par la CPTS. Nous vous recontacterons dès \
             qu'un médecin pourra vous accueillir.",
        )
        .await?;
        Ok(Submitted { id, merged: false })
    }

    /// The patient's identity, decrypted for `purpose` and audited.
    async fn identity_as(
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
    async fn change_state_as(
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
        if !request.state.can_move_to(to) {
            return Err(DoctorSearchError::Refused(format!(
                "Une demande « {} » ne peut pas passer à « {} ».",
                request.state.label(),
                to.label()
            )));
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
    async fn update_details_as(
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

    async fn refresh_one(&self, cpts: CptsId, id: Uuid) -> Result<()> {
        let rules = self.rules(cpts).await?;
        if let Some(request) = self.store.find_doctor_request(cpts, id).await? {
            let score = Self::score(
                &rules,
                &request.criteria,
                request.age_at_request,
                request.received_at,
            );
            self.store
                .set_request_priority(cpts, id, (i64::from(score.score), &score.explanation()))
                .await?;
        }
        Ok(())
    }

    /// Recomputes the priority of every open request (waiting time grows; rules change).
    pub async fn refresh_priorities(&self, cpts: CptsId) -> Result<u64> {
        let rules = self.rules(cpts).await?;
        let filter = RequestFilter {
            states: RequestState::ALL
                .into_iter()
                .filter(|s| !s.is_final())
                .collect(),
            ..Default::default()
        };
        let mut updates = Vec::new();
        for number in 1.. {
            let page = self
                .store
                .list_doctor_requests(cpts, &filter, Page::new(number, Page::MAX_LIMIT))
                .await?;
            let last = page.len() < usize::try_from(Page::MAX_LIMIT).unwrap_or(0);
            for request in page {
                let score = Self::score(
                    &rules,
                    &request.criteria,
                    request.age_at_request,
                    request.received_at,
                );
                if i64::from(score.score) != request.priority
                    || score.explanation() != request.priority_reasons
                {
                    updates.push((request.id, score));
                }
            }
            if last {
                break;
            }
        }
        // Written after reading: the list is ordered by priority, which these writes change.
        for (id, score) in &updates {
            self.store
                .set_request_priority(cpts, *id, (i64::from(score.score), &score.explanation()))
                .await?;
        }
        Ok(updates.len() as u64)
    }

    /// GPs of the CPTS with room now, and the requests waiting for a doctor: the optimal proposals (see
    /// `maillage_domain::matching`) become drafts the coordinator reviews before sending.
    async fn run_matching_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        max_distance_km: f64,
    ) -> Result<MatchingSummary> {
        self.refresh_priorities(cpts).await?;
        let filter = RequestFilter {
            states: vec![RequestState::Qualified, RequestState::Declined],
            ..Default::default()
        };
        let mut waiting = Vec::new();
        for number in 1.. {
            let page = self
                .store
                .list_doctor_requests(cpts, &filter, Page::new(number, Page::MAX_LIMIT))
                .await?;
            let last = page.len() < usize::try_from(Page::MAX_LIMIT).unwrap_or(0);
            waiting.extend(page);
            if last || waiting.len() >= 50_000 {
                break;
            }
        }
        let mut capacities = Vec::new();
        for number in 1.. {
            let page = self
                .store
                .list_capacities(cpts, Page::new(number, Page::MAX_LIMIT))
                .await?;
            let last = page.len() < usize::try_from(Page::MAX_LIMIT).unwrap_or(0);
            capacities.extend(page);
            if last {
                break;
            }
        }
        let position_of =
            |code: &str| maillage_domain::territory::find_code(code).and_then(|c| c.coordinates());
        let requests: Vec<(&DoctorRequest, MatchRequest)> = waiting
            .iter()
            .filter_map(|r| {
                position_of(&r.commune_code).map(|position| {
                    (
                        r,
                        MatchRequest {
                            id: r.id.to_string(),
                            position,
                            weight: u32::try_from(r.priority.max(1)).unwrap_or(1),
                        },
                    )
                })
            })
            .collect();
        let doctors: Vec<(&maillage_store::CapacityEntry, MatchDoctor)> = capacities
            .iter()
            .filter_map(|entry| {
                let room = entry.capacity.now_capacity - entry.pending;
                let position = position_of(&entry.commune_code)?;
                (room > 0).then(|| {
                    (
                        entry,
                        MatchDoctor {
                            id: entry.capacity.professional_id.to_string(),
                            position,
                            capacity: u32::try_from(room).unwrap_or(0),
                            max_distance_km: entry.capacity.max_distance_km.map(|km| km as f64),
                        },
                    )
                })
            })
            .collect();
        let declined: HashSet<(Uuid, Uuid)> =
            self.store.declined_pairs(cpts).await?.into_iter().collect();
        let allowed = |i: usize, j: usize| {
            let request = requests[i].0;
            let capacity = &doctors[j].0.capacity;
            let communes_ok = capacity.communes.is_empty()
                || capacity
                    .communes
                    .split(';')
                    .any(|code| code == request.commune_code);
            let group = age_group(u32::try_from(request.age_at_request).ok());
            let age_ok = capacity.age_groups.split(';').any(|g| g == group);
            communes_ok && age_ok && !declined.contains(&(request.id, capacity.professional_id))
        };
        let problem_requests: Vec<MatchRequest> = requests.iter().map(|(_, m)| m.clone()).collect();
        let problem_doctors: Vec<MatchDoctor> = doctors.iter().map(|(_, m)| m.clone()).collect();
        let solution = solve_with(
            &problem_requests,
            &problem_doctors,
            max_distance_km,
            &allowed,
        );
        let now = now_ms();
        let drafts: Vec<Proposal> = solution
            .assignments
            .iter()
            .map(|a| {
                let request = requests[a.request].0;
                let entry = doctors[a.doctor].0;
                Proposal {
                    id: Uuid::now_v7(),
                    cpts_id: cpts,
                    request_id: request.id,
                    professional_id: entry.capacity.professional_id,
                    status: ProposalStatus::Draft,
                    distance_m: (a.distance_km * 1000.0).round() as i64,
                    priority: request.priority,
                    explanation: format!(
                        "priorité {} ({}) ; {} km du cabinet ; le médecin a {} place(s)",
                        request.priority,
                        request.priority_reasons,
                        maillage_domain::text::french_decimal(a.distance_km),
                        entry.capacity.now_capacity - entry.pending
                    ),
                    decline_reason: String::new(),
                    created_at: now,
                    sent_at: None,
                    answered_at: None,
                }
            })
            .collect();
        let summary = MatchingSummary {
            requests: waiting.len(),
            doctors: doctors.len(),
            proposed: drafts.len(),
            unassigned: waiting.len() - drafts.len(),
            total_weight: solution.total_weight,
            total_distance_km: solution.total_distance_km,
        };
        let audit = audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(AuditAction::MatchingRun, "cpts", cpts.to_string()).detail(
                serde_json::json!({
                    "requests": summary.requests,
                    "doctors": summary.doctors,
                    "proposed": summary.proposed,
                    "total_weight": summary.total_weight,
                }),
            ),
        );
        self.store
            .replace_draft_proposals(cpts, &drafts, &audit)
            .await?;
        Ok(summary)
    }

    /// The coordinator picks a GP for a request by hand: a draft, sent with the others.
    async fn propose_by_hand_as(
        &self,
        cpts: CptsId,
        request: &DoctorRequest,
        professional: Uuid,
    ) -> Result<()> {
        if !request.state.is_waiting_for_a_doctor() {
            return Err(DoctorSearchError::Refused(
                "Seule une demande qualifiée (ou refusée par un médecin) peut être proposée."
                    .into(),
            ));
        }
        let distance_m = self.distance_to(cpts, request, professional).await?;
        self.store
            .create_proposal(&Proposal {
                id: Uuid::now_v7(),
                cpts_id: cpts,
                request_id: request.id,
                professional_id: professional,
                status: ProposalStatus::Draft,
                distance_m,
                priority: request.priority,
                explanation: format!(
                    "priorité {} ({}) ; choisi par la coordination",
                    request.priority, request.priority_reasons
                ),
                decline_reason: String::new(),
                created_at: now_ms(),
                sent_at: None,
                answered_at: None,
            })
            .await?;
        Ok(())
    }

    /// Distance between a request's commune and a GP's first place, in metres (0 when unknown).
    pub async fn distance_to(
        &self,
        cpts: CptsId,
        request: &DoctorRequest,
        professional: Uuid,
    ) -> Result<i64> {
        let record = self.store.professional(cpts, professional).await?;
        let from = maillage_domain::territory::find_code(&request.commune_code)
            .and_then(|c| c.coordinates());
        let to = record
            .as_ref()
            .and_then(|r| r.places.iter().find(|p| !p.commune_code.is_empty()))
            .and_then(|p| maillage_domain::territory::find_code(&p.commune_code))
            .and_then(|c| c.coordinates());
        Ok(match (from, to) {
            (Some(a), Some(b)) => {
                (maillage_domain::territory::distance_km(a, b) * 1000.0).round() as i64
            }
            _ => 0,
        })
    }

    /// Sends every draft: each GP gets an e-mail with a link and no health data.
    async fn send_drafts_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        slug: &str,
    ) -> Result<usize> {
        let mut sent = 0;
        loop {
            let drafts = self
                .store
                .list_proposals(cpts, &ProposalStatus::Draft, Page::first(Page::MAX_LIMIT))
                .await?;
            if drafts.is_empty() {
                break;
            }
            for draft in drafts {
                let token = crate::accounts::random_token();
                let event = RequestEvent::new(
                    "state",
                    "",
                    RequestState::Proposed.code(),
                    actor.actor_id,
                    now_ms(),
                )
                .detail(format!("proposée au Dr {}", draft.doctor_name));
                let audit = Self::entry(
                    actor,
                    cpts,
                    AuditAction::ProposalSent,
                    &draft.proposal.request_id.to_string(),
                    serde_json::json!({ "professional": draft.proposal.professional_id }),
                );
                if !self
                    .store
                    .send_proposal(
                        cpts,
                        draft.proposal.id,
                        &crate::accounts::token_hash(&token),
                        &event,
                        &audit,
                    )
                    .await?
                {
                    continue;
                }
                sent += 1;
                if let Some(email) = self
                    .store
                    .professional_email(cpts, draft.proposal.professional_id)
                    .await?
                {
                    let link = format!("{}/proposition/{token}", self.public_url);
                    mail::queue(
                        self.store.as_ref(),
                        &OutgoingMail {
                            to: email,
                            subject: "Une proposition de nouveau patient vous attend".into(),
                            body: format!(
                                "Bonjour,\n\nLa CPTS vous propose un patient qui cherche un médecin traitant, \
                                 près de votre cabinet. Pour voir la proposition (priorité et raison, sans \
                                 donnée nominative) et l'accepter ou la refuser en un clic :\n\n{link}\n\n\
                                 Ce lien est valable {} jours.\n\nCPTS — Maillage ({slug})\n",
                                self.config.proposal_valid_days
                            ),
                            cpts_id: Some(cpts),
                        },
                        self.mail_attempts,
                    )
                    .await?;
                }
            }
        }
        Ok(sent)
    }

    /// The proposal behind a link, if the link is valid (sent, not answered, not expired).
    pub async fn proposal_of_link(
        &self,
        token: &str,
    ) -> Result<Option<maillage_store::ProposalView>> {
        let Some(view) = self
            .store
            .find_proposal_by_token(&crate::accounts::token_hash(token))
            .await?
        else {
            return Ok(None);
        };
        let valid_ms = i64::from(self.config.proposal_valid_days) * DAY_MS;
        let fresh = view
            .proposal
            .sent_at
            .is_some_and(|sent| now_ms() - sent <= valid_ms);
        Ok(fresh.then_some(view))
    }

    /// The GP's answer through their link. Returns false when the link was already used or expired.
    pub async fn answer(&self, token: &str, answer: ProposalAnswer, reason: &str) -> Result<bool> {
        let Some(view) = self.proposal_of_link(token).await? else {
            return Ok(false);
        };
        let proposal = view.proposal;
        if proposal.status != ProposalStatus::Sent {
            return Ok(false);
        }
        let accepted = matches!(answer, ProposalAnswer::Accepted);
        let to = if accepted {
            RequestState::Accepted
        } else {
            RequestState::Declined
        };
        let reason = if accepted { "" } else { reason };
        let event = RequestEvent::new(
            "state",
            RequestState::Proposed.code(),
            to.code(),
            None,
            now_ms(),
        )
        .detail(if accepted {
            format!("acceptée par le Dr {}", view.doctor_name)
        } else {
            format!(
                "refusée par le Dr {} : {}",
                view.doctor_name,
                maillage_domain::doctor_search::decline_reason_label(reason)
                    .unwrap_or("autre raison")
            )
        });
        let cpts = proposal.cpts_id;
        let audit = audit::entry(
            &AuditContext::default().in_cpts(cpts),
            AuditEvent::new(
                AuditAction::ProposalAnswered,
                "doctor_request",
                proposal.request_id.to_string(),
            )
            .detail(serde_json::json!({ "accepted": accepted, "reason": reason })),
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
                        &AuditContext::default(),
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
                    )
                    .await?;
                }
            }
        }
        Ok(true)
    }

    /// Tells the patient by e-mail (and SMS when a gateway is configured); the request's history says so,
    /// which the "informed" indicator counts. Messages never carry health data.
    async fn notify_patient(
        &self,
        cpts: CptsId,
        request: &DoctorRequest,
        identity: &PatientIdentity,
        message: &str,
    ) -> Result<()> {
        let mut channels = Vec::new();
        if let Some(email) = &identity.email {
            mail::queue(
                self.store.as_ref(),
                &OutgoingMail {
                    to: email.clone(),
                    subject: "Votre demande de médecin traitant".into(),
                    body: format!("Bonjour,\n\n{message}\n\nLa CPTS\n"),
                    cpts_id: Some(cpts),
                },
                self.mail_attempts,
            )
            .await?;
            channels.push("e-mail");
        }
        if let (Some(phone), false) = (&identity.phone, self.config.sms_webhook_url.is_empty()) {
            crate::jobs::enqueue(
                self.store.as_ref(),
                crate::notify::SMS_JOB,
                &serde_json::json!({ "to": phone, "message": message }),
                Some(cpts),
                self.mail_attempts,
            )
            .await?;
            channels.push("SMS");
        }
        if !channels.is_empty() {
            self.store
                .add_request_event(
                    cpts,
                    request.id,
                    &RequestEvent::new(
                        "notified",
                        request.state.code(),
                        request.state.code(),
                        None,
                        now_ms(),
                    )
                    .detail(format!("patient prévenu par {}", channels.join(" et "))),
                )
                .await?;
        }
        Ok(())
    }

    /// A GP's declaration (by themself or by the coordination for a GP who phoned).
    async fn declare_capacity_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        capacity: &GpCapacity,
    ) -> Result<()> {
        let audit = audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(
                AuditAction::CapacityDeclared,
                "professional",
                capacity.professional_id.to_string(),
            )
            .detail(serde_json::json!({
                "now": capacity.now_capacity,
                "within_6_months": capacity.later_capacity,
            })),
        );
        self.store.save_capacity(cpts, capacity, &audit).await?;
        Ok(())
    }

    /// Reminds GPs whose declaration is stale (by e-mail, with a link to their two-click page).
    pub async fn remind_stale_capacities(&self, now: i64) -> Result<usize> {
        let before = now - i64::from(self.config.capacity_stale_days) * DAY_MS;
        let stale = self.store.stale_capacities(before, 200).await?;
        for entry in &stale {
            if let Some(email) = &entry.email {
                mail::queue(
                    self.store.as_ref(),
                    &OutgoingMail {
                        to: email.clone(),
                        subject: "Combien de nouveaux patients pouvez-vous accueillir ?".into(),
                        body: format!(
                            "Bonjour,\n\nVotre dernière déclaration de places pour de nouveaux patients date de \
                             plus de {} jours. Mettez-la à jour en deux clics :\n\n{}/c/{}/ma-capacite\n\nMerci,\nLa CPTS\n",
                            self.config.capacity_stale_days, self.public_url, entry.cpts_slug
                        ),
                        cpts_id: Some(entry.cpts_id),
                    },
                    self.mail_attempts,
                )
                .await?;
            }
            self.store
                .mark_capacity_reminded(entry.cpts_id, entry.professional_id, now)
                .await?;
        }
        Ok(stale.len())
    }

    /// Anonymises the requests that ended more than `retention_months` ago; audited per CPTS.
    pub async fn apply_retention(&self, now: i64) -> Result<usize> {
        let before = now - i64::from(self.config.retention_months) * 30 * DAY_MS;
        let mut total = 0;
        loop {
            let done = self
                .store
                .anonymise_final_requests(before, now, 500)
                .await?;
            if done.is_empty() {
                break;
            }
            total += done.len();
            let mut per_cpts: std::collections::BTreeMap<CptsId, Vec<String>> = Default::default();
            for (cpts, id) in done {
                per_cpts.entry(cpts).or_default().push(id.to_string());
            }
            for (cpts, ids) in per_cpts {
                audit::record(
                    self.store.as_ref(),
                    &AuditContext::default().in_cpts(cpts),
                    AuditEvent::new(
                        AuditAction::DoctorRequestAnonymised,
                        "cpts",
                        cpts.to_string(),
                    )
                    .detail(serde_json::json!({ "count": ids.len(), "requests": ids })),
                )
                .await?;
            }
        }
        Ok(total)
    }
}

/// Reads the CPAM or retiring GP list: `;`-separated, header line, UTF-8 (BOM allowed). Columns: nom;
/// prenom; date_naissance; commune (INSEE); telephone; email; criteres (codes separated by `,`);
/// consentement (oui). Returns each line's fields or its problems, with its line number.
pub fn parse_request_list(
    text: &str,
) -> std::result::Result<Vec<(usize, RequestFields)>, ValidationError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(ValidationError::new("Fichier", "le fichier est vide"));
    };
    let columns: Vec<String> = maillage_domain::text::split_semicolons(header)
        .into_iter()
        .map(|c| maillage_domain::text::fold(&c).replace(' ', "_"))
        .collect();
    let position = |names: &[&str]| columns.iter().position(|c| names.contains(&c.as_str()));
    let required = [
        ("nom", &["nom"][..]),
        ("prenom", &["prenom", "prenoms"][..]),
        (
            "date_naissance",
            &["date_naissance", "date_de_naissance"][..],
        ),
        ("commune", &["commune", "code_commune", "code_insee"][..]),
        ("consentement", &["consentement"][..]),
    ];
    let mut indexes = Vec::new();
    for (name, aliases) in required {
        match position(aliases) {
            Some(index) => indexes.push(index),
            None => {
                return Err(ValidationError::new(
                    "En-tête",
                    format!("colonne « {name} » manquante (voir le modèle)"),
                ))
            }
        }
    }
    let phone = position(&["telephone", "tel"]);
    let email = position(&["email", "e-mail", "courriel"]);
    let criteria = position(&["criteres"]);
    let mut rows = Vec::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells = maillage_domain::text::split_semicolons(line);
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| cells.get(i))
                .map(|c| c.trim().to_string())
                .unwrap_or_default()
        };
        let consent = cell(Some(indexes[4]));
        let consent_given = matches!(
            maillage_domain::text::fold(&consent).as_str(),
            "oui" | "o" | "yes" | "1" | "x"
        );
        rows.push((
            number + 1,
            RequestFields {
                family_name: cell(Some(indexes[0])),
                given_names: cell(Some(indexes[1])),
                birth_date: cell(Some(indexes[2])),
                commune: cell(Some(indexes[3])),
                phone: cell(phone),
                email: cell(email),
                criteria: cell(criteria)
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
                consent: consent_given.then(|| "oui".to_string()),
                ..Default::default()
            },
        ));
    }
    Ok(rows)
}

/// The template of the list, with a fictitious example line.
pub fn request_list_template() -> String {
    "\u{feff}nom;prenom;date_naissance;commune;telephone;email;criteres;consentement\r\n\
     EXEMPLE;Camille;02/03/1948;30003;06 12 34 56 78;;ald,isolation;oui\r\n"
        .to_string()
}

/// The outcome of importing a list.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListReport {
    pub lines: usize,
    pub created: usize,
    pub merged: usize,
    /// (line, field, message)
    pub rejected: Vec<(usize, String, String)>,
}

impl DoctorSearch {
    /// Imports a list: every line is checked first; the good ones are recorded, the bad ones reported with
    /// their line and field. `progress` is told how many lines are done.
    pub async fn import_list(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        text: &str,
        origin: &Origin,
        mut progress: impl FnMut(usize, usize),
    ) -> std::result::Result<ListReport, DoctorSearchError> {
        let rows = parse_request_list(text)
            .map_err(|e| DoctorSearchError::Refused(format!("{} : {}", e.field, e.message)))?;
        if rows.len() > 10_000 {
            return Err(DoctorSearchError::Refused(
                "Fichier : 10 000 lignes au plus par import ; découpez la liste.".into(),
            ));
        }
        let today = today();
        let mut report = ListReport {
            lines: rows.len(),
            ..Default::default()
        };
        let mut good = Vec::new();
        for (line, fields) in rows {
            match fields.parse(&today) {
                Ok(input) => good.push(input),
                Err(problems) => {
                    for problem in problems {
                        report
                            .rejected
                            .push((line, problem.field.to_string(), problem.message));
                    }
                }
            }
        }
        let total = good.len();
        for (done, input) in good.iter().enumerate() {
            let submitted = self.submit_as(actor, cpts, input, origin).await?;
            if submitted.merged {
                report.merged += 1;
            } else {
                report.created += 1;
            }
            progress(done + 1, total);
        }
        audit::record(
            self.store.as_ref(),
            &actor.in_cpts(cpts),
            AuditEvent::new(
                AuditAction::DoctorRequestsImported,
                "cpts",
                cpts.to_string(),
            )
            .detail(serde_json::json!({
                "channel": origin.channel.code(),
                "lines": report.lines,
                "created": report.created,
                "merged": report.merged,
                "rejected": report.rejected.len(),
            })),
        )
        .await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> RequestFields {
        RequestFields {
            family_name: "Exemple".into(),
            given_names: "Camille".into(),
            birth_date: "02/03/1948".into(),
            commune: "30003".into(),
            phone: "06 12 34 56 78".into(),
            criteria: vec!["ald".into()],
            consent: Some("on".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_request_parses_with_its_age() {
        let input = fields().parse("2026-12-01").unwrap();
        assert_eq!((input.age, input.birth_year), (78, 1948));
        assert!(input.criteria.ald);
        assert_eq!(input.identity.birth_date, "1948-03-02");
    }

    #[test]
    fn every_problem_names_its_field() {
        let bad = RequestFields {
            family_name: String::new(),
            birth_date: "31/02/2000".into(),
            commune: "99999".into(),
            phone: String::new(),
            criteria: vec!["magie".into()],
            consent: None,
            ..fields()
        };
        let problems = bad.parse("2026-12-01").unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        for expected in [
            "Nom",
            "Date de naissance",
            "Commune",
            "Téléphone",
            "Critères",
            "Consentement",
        ] {
            assert!(
                fields.contains(&expected),
                "{expected} missing in {fields:?}"
            );
        }
    }

    #[test]
    fn lists_are_read_by_their_header() {
        let rows = parse_request_list(&request_list_template()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, 2);
        assert!(rows[0].1.parse("2026-12-01").is_ok());
        let missing = parse_request_list("nom;prenom\r\nA;B\r\n").unwrap_err();
        assert_eq!(missing.field, "En-tête");
        assert!(parse_request_list("").is_err());
    }
}

//! Access to a médecin traitant: intake from every channel (with duplicate merging), priority, the workflow,
//! GPs' room, the matching and its proposals, the GP's answer, patient notification, indicators' inputs,
//! retention. Identity is sealed before it reaches the store; every read and change is audited.

mod answers;
pub mod digest;
mod duplicates;
pub mod indicators;
mod lists;
mod pages;
mod proposals;
mod referrals;
pub use proposals::SentProposals;
pub use referrals::{Referral, INFORMATION_MAX_CHARS};
mod requests;
mod upkeep;

use requests::OnMatch;

pub use duplicates::DuplicateDecision;
pub use lists::{parse_request_list, request_list_template, ListReport};

use crate::audit::{self, AuditContext, AuditEvent};
use crate::clock::{date_text, now_ms, DAY_MS};
use crate::config::DoctorSearchConfig;
use crate::crypto::{CryptoError, Keyring, PatientIdentity};

use maillage_domain::audit::AuditAction;
use maillage_domain::doctor_search::{
    age_group, age_on, priority, Channel, ConsentBy, Criteria, Criterion, Priority, PriorityRules,
    RequestState, CONSENT_VERSION,
};
use maillage_domain::identifiers::{person_name, Email};
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
    /// A refused field, named (French).
    #[error("{0}")]
    Invalid(maillage_domain::ValidationError),
}

/// A role that may not do something finds nothing: the record's existence is not told.
impl From<crate::caller::Refused> for DoctorSearchError {
    fn from(_: crate::caller::Refused) -> Self {
        DoctorSearchError::NotFound
    }
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
        let mut problems = maillage_domain::Problems::default();
        let family_name = problems
            .keep(person_name("Nom", &self.family_name, 100))
            .unwrap_or_default();
        let given_names = problems
            .keep(person_name("Prénom", &self.given_names, 100))
            .unwrap_or_default();
        let birth_date = problems
            .keep(
                parse_date("Date de naissance", &self.birth_date).and_then(|date| match date {
                    Some(date) if date.as_str() <= today => Ok(date),
                    Some(_) => Err(ValidationError::new(
                        "Date de naissance",
                        "la date est dans le futur",
                    )),
                    None => Err(ValidationError::new(
                        "Date de naissance",
                        "obligatoire (JJ/MM/AAAA)",
                    )),
                }),
            )
            .unwrap_or_default();
        let commune = problems
            .keep(
                maillage_domain::territory::resolve_commune("Commune", &self.commune)
                    .map(|commune| commune.code.clone()),
            )
            .unwrap_or_default();
        let phone = problems
            .keep(parse_phone("Téléphone", &self.phone))
            .unwrap_or_default();
        let email = match self.email.trim() {
            "" => String::new(),
            text => problems
                .keep(
                    Email::parse(text)
                        .map(|email| email.as_str().to_string())
                        .map_err(|_| {
                            ValidationError::new(
                                "E-mail",
                                "adresse e-mail invalide (exemple : nom@exemple.fr)",
                            )
                        }),
                )
                .unwrap_or_default(),
        };
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            problems.add(
                "Téléphone",
                "donnez au moins un téléphone ou un e-mail pour être recontacté",
            );
        }
        let address = self.address.trim();
        if address.chars().count() > 300 {
            problems.add("Adresse", "300 caractères au plus");
        }
        let note = self.note.trim();
        if note.chars().count() > 2000 {
            problems.add("Précisions", "2000 caractères au plus");
        }
        let mut criteria = Criteria::default();
        for code in &self.criteria {
            match Criterion::parse_written(code) {
                Some(criterion) => criteria.set(criterion, true),
                None if code.trim().is_empty() => {}
                None => problems.add(
                    "Critères",
                    format!(
                        "critère inconnu « {} »",
                        code.chars().take(40).collect::<String>()
                    ),
                ),
            }
        }
        let consent_by = match ConsentBy::parse(self.consent_by.trim()) {
            Some(by) => by,
            None if self.consent_by.trim().is_empty() => ConsentBy::Patient,
            None => {
                problems.add(
                    "Consentement donné par",
                    "choisissez une valeur de la liste",
                );
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
            problems.add(
                "Consentement",
                "le consentement du patient est obligatoire pour enregistrer la demande",
            );
        }
        if !problems.is_empty() {
            return Err(problems.0);
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// Tells the patient by e-mail (and SMS when a gateway is configured); the request's history says so,
    /// which the "informed" indicator counts. When `must_reach` and she has neither, someone is asked to call
    /// her (an acknowledgement is not worth a call). Messages never carry health data.
    async fn notify_patient(
        &self,
        cpts: CptsId,
        request: &DoctorRequest,
        identity: &PatientIdentity,
        message: &str,
        must_reach: bool,
    ) -> Result<()> {
        let about = crate::deliveries::About::new(
            cpts,
            maillage_domain::delivery::Purpose::PatientNotice,
            request.id,
        );
        let mut channels = Vec::new();
        if let Some(email) = &identity.email {
            crate::deliveries::email(
                self.store.as_ref(),
                &self.keyring,
                about,
                Some(email.clone()),
                "Votre demande de médecin traitant",
                format!("Bonjour,\n\n{message}\n"),
                self.mail_attempts,
            )
            .await?;
            channels.push("e-mail");
        }
        if let (Some(phone), false) = (&identity.phone, self.config.sms_webhook_url.is_empty()) {
            crate::deliveries::sms(
                self.store.as_ref(),
                &self.keyring,
                about,
                phone,
                message,
                self.mail_attempts,
            )
            .await?;
            channels.push("SMS");
        }
        if channels.is_empty() && must_reach {
            // Nobody to write to and the news matters: the request page and the dashboard say "à appeler".
            crate::deliveries::to_call(self.store.as_ref(), about).await?;
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
            // Recorded without an address too: the places page shows "à appeler".
            crate::deliveries::email(
                self.store.as_ref(),
                &self.keyring,
                crate::deliveries::About::new(
                    entry.cpts_id,
                    maillage_domain::delivery::Purpose::CapacityReminder,
                    entry.professional_id,
                ),
                entry.email.clone(),
                "Combien de nouveaux patients pouvez-vous accueillir ?",
                format!(
                    "Bonjour,\n\nVotre dernière déclaration de places pour de nouveaux patients date de \
                     plus de {} jours. Mettez-la à jour en deux clics :\n\n{}/c/{}/ma-capacite\n\nMerci.\n",
                    self.config.capacity_stale_days, self.public_url, entry.cpts_slug
                ),
                self.mail_attempts,
            )
            .await?;
            self.store
                .mark_capacity_reminded(entry.cpts_id, entry.professional_id, now)
                .await?;
        }
        Ok(stale.len())
    }

    /// The reminders sent to these GPs about their declarations (the places page shows the last one).
    pub async fn capacity_reminders(
        &self,
        caller: &crate::caller::Caller,
        professionals: &[Uuid],
    ) -> Result<Vec<maillage_store::Delivery>> {
        caller.require(maillage_domain::authz::Permission::RunMatching)?;
        Ok(self
            .store
            .deliveries_of(
                caller.cpts(),
                maillage_domain::delivery::Purpose::CapacityReminder,
                professionals,
            )
            .await?)
    }

    /// Anonymises the requests that ended more than `retention_months` ago; audited per CPTS.
    pub async fn apply_retention(&self, now: i64) -> Result<usize> {
        let before = now - i64::from(self.config.retention_months) * 30 * DAY_MS;
        let mut total = 0;
        // The upkeep's entry of each CPTS, written in the anonymisation's own transaction.
        let entry = |cpts: CptsId, ids: &[Uuid]| {
            audit::entry(
                &AuditContext::default().in_cpts(cpts),
                AuditEvent::new(
                    AuditAction::DoctorRequestAnonymised,
                    "cpts",
                    cpts.to_string(),
                )
                .detail(serde_json::json!({ "count": ids.len(), "requests": ids })),
            )
        };
        loop {
            let done = self
                .store
                .anonymise_final_requests(before, now, 500, &entry)
                .await?;
            if done.is_empty() {
                break;
            }
            total += done.len();
        }
        Ok(total)
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

//! Appointments back to the SAS (ANS guide, "gestion des rendez-vous"): a booking of the SAS's regulation,
//! once confirmed, is sent to the SAS platform as an Appointment (profile FrAppointmentSAS) — created with a
//! POST, then updated with a conditional PUT on its identifier when it is cancelled or its outcome recorded. A
//! background job sends it over mutual TLS and retries with growing delays; each sending is a delivery whose
//! state the booking's page shows. No patient data: the Appointment names the regulator and the professional.

use super::{Result, UnscheduledCare};
use crate::deliveries::About;
use crate::jobs::{JobError, JobHandler};
use async_trait::async_trait;
use maillage_domain::delivery::{Channel, Purpose, Shown};
use maillage_domain::sas::{appointment_status, SasOperator};
use maillage_domain::unscheduled_care::{BookingOrigin, Outcome};
use maillage_store::{CptsId, Job, SnpBooking, SnpSlot, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use uuid::Uuid;

pub const SAS_APPOINTMENT_JOB: &str = "sas_appointment";
pub const APPOINTMENT_PROFILE: &str = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS";
const OPERATOR_EXTENSION: &str =
    "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator";
const IDENTIFIER_TYPE: &str = "http://interopsante.org/fhir/CodeSystem/fr-v2-0203";
const NATIONAL_IDS: &str = "urn:oid:1.2.250.1.71.4.2.1";
/// The authority of the SAS's technical identifiers of operators without a national one.
const SAS_TECHNICAL_IDS: &str = "urn:oid:1.2.250.1.213.3.6";

/// Where and how the appointments go: the SAS platform's FHIR base, the system of their identifier, the TLS
/// client (its roots and Maillage's client certificate).
pub struct SasLink {
    base: url::Url,
    identifier_system: String,
    tls: Arc<rustls::ClientConfig>,
}

impl SasLink {
    /// From `[sas]`; None when no address is configured. The files were checked when the configuration loaded.
    pub fn from_config(config: &crate::Config) -> std::result::Result<Option<Self>, String> {
        let sas = &config.sas;
        if !sas.sends_appointments() {
            return Ok(None);
        }
        let mut base = url::Url::parse(sas.appointment_url.trim())
            .map_err(|e| format!("sas.appointment_url: {e}"))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let identifier_system = if sas.identifier_system.trim().is_empty() {
            format!("{}/fhir/rendez-vous", config.server.base_url())
        } else {
            sas.identifier_system.trim().to_string()
        };
        Ok(Some(Self {
            base,
            identifier_system,
            tls: sas.client_tls()?,
        }))
    }

    fn appointments(&self) -> std::result::Result<url::Url, JobError> {
        self.base
            .join("Appointment")
            .map_err(|e| JobError::Permanent(format!("SAS platform URL: {e}")))
    }
}

/// An identifier of the guide's shape: its type (IDNPS or INTRN), authority and value.
fn typed_identifier(code: &str, system: &str, value: &str) -> Value {
    json!({
        "type": { "coding": [{ "system": IDENTIFIER_TYPE, "code": code }] },
        "system": system,
        "value": value,
    })
}

/// The Appointment the SAS reads for a booking: its identifier (the booking's id under Maillage's system),
/// status, times, the regulator who booked it and the professional who sees the patient (accepted: the SAS
/// takes only appointments accepted at once). None for a hold.
pub fn appointment(
    booking: &SnpBooking,
    slot: &SnpSlot,
    professional_national_id: &str,
    operator: &SasOperator,
    identifier_system: &str,
) -> Option<Value> {
    let outcome = booking.outcome.as_deref().and_then(Outcome::parse);
    let status = appointment_status(booking.status, outcome)?;
    let operator = match operator {
        SasOperator::National(id) => typed_identifier("IDNPS", NATIONAL_IDS, id),
        SasOperator::Technical(id) => typed_identifier("INTRN", SAS_TECHNICAL_IDS, &id.to_string()),
    };
    Some(json!({
        "resourceType": "Appointment",
        "meta": { "profile": [APPOINTMENT_PROFILE] },
        "extension": [{ "url": OPERATOR_EXTENSION, "valueReference": { "identifier": operator } }],
        "identifier": [{ "system": identifier_system, "value": booking.id.to_string() }],
        "status": status,
        "start": maillage_domain::calendar::fhir_instant(slot.start_at),
        "end": maillage_domain::calendar::fhir_instant(slot.end_at),
        "created": maillage_domain::calendar::fhir_instant(booking.created_at),
        "participant": [{
            "actor": { "identifier": typed_identifier("IDNPS", NATIONAL_IDS, professional_national_id) },
            "status": "accepted",
        }],
    }))
}

/// What a job carries: the Appointment, whether it creates it, and how many sendings of the same booking came
/// before (they must have gone first: an update never overtakes the creation).
#[derive(serde::Serialize, serde::Deserialize)]
struct Sending {
    cpts: CptsId,
    booking: Uuid,
    create: bool,
    earlier: usize,
    appointment: Value,
}

impl UnscheduledCare {
    /// The same service, sending the SAS's appointments back to it.
    pub fn with_sas(mut self, link: Option<SasLink>) -> Self {
        self.sas = link.map(Arc::new);
        self
    }

    /// Whether bookings of the SAS's regulation are sent back to it (the form then asks who booked).
    pub fn sends_to_sas(&self) -> bool {
        self.sas.is_some()
    }

    /// Refuses a booking of the SAS's regulation without its regulator when the SAS is told of it.
    pub(super) fn check_operator(
        &self,
        origin: BookingOrigin,
        operator: Option<&SasOperator>,
    ) -> Result<()> {
        if self.sas.is_some() && origin == BookingOrigin::SasRegulation && operator.is_none() {
            return Err(super::CareError::Invalid(maillage_domain::ValidationError::new(
                SasOperator::FIELD,
                "obligatoire pour une réservation de la régulation du SAS : le RPPS du médecin régulateur ou \
                 l'identifiant SAS de l'opérateur, transmis au SAS avec le rendez-vous",
            )));
        }
        Ok(())
    }

    /// Queues the booking's Appointment for the SAS, when the booking comes from the SAS and the deployment
    /// sends them; its delivery records the state the booking's page shows.
    pub(super) async fn tell_sas(&self, cpts: CptsId, booking: Uuid) -> Result<()> {
        let Some(link) = &self.sas else {
            return Ok(());
        };
        let Some(found) = self.store.find_booking(cpts, booking).await? else {
            return Ok(());
        };
        let Some(operator) = found
            .sas_operator
            .as_deref()
            .and_then(SasOperator::from_stored)
        else {
            return Ok(());
        };
        if found.origin != BookingOrigin::SasRegulation {
            return Ok(());
        }
        let Some(slot) = self.store.find_slot(cpts, found.slot_id).await? else {
            return Ok(());
        };
        let Some(professional) = self
            .store
            .professional_summaries(cpts, &[slot.professional_id])
            .await?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        let Some(resource) = appointment(
            &found,
            &slot,
            &professional.national_id(),
            &operator,
            &link.identifier_system,
        ) else {
            return Ok(());
        };
        let earlier = self
            .store
            .deliveries_of(cpts, Purpose::SasAppointment, &[booking])
            .await?
            .len();
        let sending = Sending {
            cpts,
            booking,
            create: earlier == 0,
            earlier,
            appointment: resource,
        };
        let payload = serde_json::to_value(&sending)
            .map_err(|e| maillage_store::StoreError::Corrupt(e.to_string()))?;
        crate::deliveries::to_service(
            self.store.as_ref(),
            &self.keyring,
            About::new(cpts, Purpose::SasAppointment, booking),
            Channel::Sas,
            SAS_APPOINTMENT_JOB,
            &payload,
            self.mail_attempts,
        )
        .await?;
        Ok(())
    }

    /// The job sending the Appointments, when the deployment sends them.
    pub fn sas_job(&self) -> Option<Arc<dyn JobHandler>> {
        self.sas.as_ref().map(|link| {
            Arc::new(SasAppointmentJob {
                link: link.clone(),
                store: self.store.clone(),
            }) as Arc<dyn JobHandler>
        })
    }
}

/// Sends one Appointment to the SAS platform.
pub struct SasAppointmentJob {
    link: Arc<SasLink>,
    store: Arc<dyn Store>,
}

#[async_trait]
impl JobHandler for SasAppointmentJob {
    async fn run(&self, job: &Job) -> std::result::Result<(), JobError> {
        let sending: Sending = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("payload: {e}")))?;
        if sending.earlier > 0 {
            let before = self
                .store
                .deliveries_of(sending.cpts, Purpose::SasAppointment, &[sending.booking])
                .await
                .map_err(|e| JobError::Retry(format!("database: {e}")))?;
            if before
                .iter()
                .take(sending.earlier)
                .any(|d| matches!(d.shown(), Shown::Waiting { .. }))
            {
                return Err(JobError::Retry(
                    "SAS platform: an earlier message about this appointment is not sent yet"
                        .into(),
                ));
            }
        }
        let mut url = self.link.appointments()?;
        let method = if sending.create {
            hyper::Method::POST
        } else {
            // Conditional update on the appointment's identifier (the guide's `PUT [base]/Appointment?identifier=`).
            url.query_pairs_mut().append_pair(
                "identifier",
                &format!("{}|{}", self.link.identifier_system, sending.booking),
            );
            hyper::Method::PUT
        };
        let body = serde_json::to_vec(&sending.appointment)
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let reply = crate::http_client::send(
            "SAS platform",
            crate::http_client::Outgoing {
                method,
                url: &url,
                content_type: "application/fhir+json",
                body,
            },
            Some(self.link.tls.clone()),
        )
        .await?;
        match reply.status {
            200..=299 => Ok(()),
            // The guide's refusals (400 malformed, 422 a rule of the SAS): trying again cannot help.
            400..=499 if !matches!(reply.status, 408 | 429) => Err(JobError::Permanent(format!(
                "SAS platform refused the appointment (HTTP {}): {}",
                reply.status,
                reply.body.chars().take(500).collect::<String>()
            ))),
            status => Err(JobError::Retry(format!(
                "SAS platform answered HTTP {status}"
            ))),
        }
    }
}

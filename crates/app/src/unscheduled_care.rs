//! Unscheduled care: professionals publish slots (weekly patterns expanded over the weeks ahead), the
//! secretary, a regulator or a member finds the earliest free ones and books one for a patient — held, then
//! confirmed with the patient's minimal identity (sealed), never twice — and records what happened. The
//! professional is told by e-mail, without health data. Every step is audited.

use crate::audit::{self, AuditContext, AuditEvent};
use crate::clock::{now_ms, DAY_MS, MINUTE_MS};
use crate::crypto::{Keyring, PatientIdentity};
use crate::mail::{self, OutgoingMail};
use maillage_domain::audit::AuditAction;
use maillage_domain::unscheduled_care::{utc_to_paris, BookingOrigin, Day, Outcome, WeeklyPattern};
use maillage_store::{
    CptsId, NewBooking, NewSlot, PatientId, SnpBooking, SnpPattern, Store, StoreError, UserId,
};
use std::sync::Arc;
use uuid::Uuid;

/// How long a slot stays held while the booker types the patient's details.
pub const HOLD_MINUTES: i64 = 10;
/// Weeks ahead a pattern without an end publishes at once.
pub const WEEKS_AHEAD: i64 = 12;

#[derive(Debug, thiserror::Error)]
pub enum CareError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Patient(#[from] crate::patients::PatientError),
    /// Refused for a reason the page tells as it is (French).
    #[error("{0}")]
    Refused(String),
}

pub type Result<T, E = CareError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct UnscheduledCare {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    mail_attempts: i64,
}

/// "lundi 12/01/2030 à 08:30", Paris time.
pub fn french_slot_time(utc_ms: i64) -> String {
    const DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    let (day, minute) = utc_to_paris(utc_ms);
    let name = DAYS[usize::try_from(day.weekday().saturating_sub(1)).unwrap_or(0) % 7];
    format!(
        "{name} {} à {:02}:{:02}",
        day.french(),
        minute / 60,
        minute % 60
    )
}

impl UnscheduledCare {
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>, mail_attempts: i64) -> Self {
        Self {
            store,
            keyring,
            mail_attempts,
        }
    }

    async fn audit(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        action: AuditAction,
        kind: &str,
        id: String,
        detail: serde_json::Value,
    ) -> Result<()> {
        audit::record(
            self.store.as_ref(),
            &actor.in_cpts(cpts),
            AuditEvent::new(action, kind, id).detail(detail),
        )
        .await?;
        Ok(())
    }

    /// Publishes a weekly pattern for a professional of the CPTS: its slots from today (or its start) to its
    /// end, or [`WEEKS_AHEAD`] weeks when it has none. Returns how many slots were created.
    pub async fn publish_pattern(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        professional: Uuid,
        pattern: &WeeklyPattern,
        place: &str,
    ) -> Result<u64> {
        if let Err(problems) = pattern.check() {
            let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return Err(CareError::Refused(text.join(" ; ")));
        }
        let now = now_ms();
        let today = utc_to_paris(now).0;
        let from = pattern.valid_from.max(today);
        let to = pattern
            .valid_until
            .unwrap_or_else(|| from.plus_days(WEEKS_AHEAD * 7));
        let slots: Vec<NewSlot> = pattern
            .slots_between(from, to)
            .into_iter()
            .filter(|s| s.start_ms > now)
            .map(|s| NewSlot {
                start_at: s.start_ms,
                end_at: s.end_ms,
                kind: pattern.kind.code().to_string(),
                modality: pattern.modality.code().to_string(),
                place: place.chars().take(200).collect(),
            })
            .collect();
        let day_text = |d: Day| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
        let record = SnpPattern {
            id: Uuid::now_v7(),
            professional_id: professional,
            weekday: i64::from(pattern.weekday),
            start_minute: i64::from(pattern.start_minute),
            end_minute: i64::from(pattern.end_minute),
            slot_minutes: i64::from(pattern.slot_minutes),
            kind: pattern.kind.code().to_string(),
            modality: pattern.modality.code().to_string(),
            place: place.chars().take(200).collect(),
            valid_from: day_text(pattern.valid_from),
            valid_until: pattern.valid_until.map(day_text),
            exceptions: pattern
                .exceptions
                .iter()
                .map(|d| day_text(*d))
                .collect::<Vec<_>>()
                .join(";"),
            skip_holidays: pattern.skip_public_holidays,
            created_by: actor.actor_id,
            created_at: now,
        };
        let created = self.store.create_pattern(cpts, &record, &slots).await?;
        self.audit(
            actor,
            cpts,
            AuditAction::SnpPatternPublished,
            "professional",
            professional.to_string(),
            serde_json::json!({ "pattern": record.id, "slots": created }),
        )
        .await?;
        Ok(created)
    }

    /// Holds a slot for [`HOLD_MINUTES`]; None when someone else holds or booked it.
    pub async fn hold(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        slot: Uuid,
        origin: BookingOrigin,
        reason: &str,
        requested_at: i64,
    ) -> Result<Option<Uuid>> {
        let now = now_ms();
        let held = self
            .store
            .hold_slot(
                cpts,
                &NewBooking {
                    slot_id: slot,
                    origin: origin.code().to_string(),
                    reason: reason.chars().take(100).collect(),
                    requested_at,
                    booked_by: actor.actor_id,
                    held_until: now + HOLD_MINUTES * MINUTE_MS,
                },
                now,
            )
            .await?;
        if let Some(id) = held {
            self.audit(
                actor,
                cpts,
                AuditAction::SnpSlotHeld,
                "snp_booking",
                id.to_string(),
                serde_json::json!({ "slot": slot, "origin": origin.code() }),
            )
            .await?;
        }
        Ok(held)
    }

    /// Confirms a hold with the patient's identity (sealed in the same transaction); tells the
    /// professional. False when the hold expired or was cancelled.
    pub async fn confirm(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        booking: Uuid,
        identity: &PatientIdentity,
        origin: BookingOrigin,
        reason: &str,
    ) -> Result<bool> {
        let now = now_ms();
        let patient =
            crate::patients::sealed_record(&self.keyring, cpts, PatientId::new(), identity, now)?;
        if !self
            .store
            .confirm_booking(cpts, booking, &patient, origin.code(), reason, now)
            .await?
        {
            return Ok(false);
        }
        self.audit(
            actor,
            cpts,
            AuditAction::SnpBookingConfirmed,
            "snp_booking",
            booking.to_string(),
            serde_json::json!({ "origin": origin.code(), "reason": reason }),
        )
        .await?;
        if let Some(found) = self.store.find_booking(cpts, booking).await? {
            if let Some(slot) = self.store.find_slot(cpts, found.slot_id).await? {
                if let Some(email) = self
                    .store
                    .professional_email(cpts, slot.professional_id)
                    .await?
                {
                    mail::queue(
                        self.store.as_ref(),
                        &OutgoingMail {
                            to: email,
                            subject: "Un patient a réservé un de vos créneaux".into(),
                            body: format!(
                                "Bonjour,\n\nVotre créneau de soins non programmés du {} est réservé par la CPTS. \
                                 Les informations du patient sont dans Maillage (« Mes créneaux »).\n\nLa CPTS\n",
                                french_slot_time(slot.start_at)
                            ),
                            cpts_id: Some(cpts),
                        },
                        self.mail_attempts,
                    )
                    .await?;
                }
            }
        }
        Ok(true)
    }

    /// The booking and, once confirmed, the patient's identity (an audited read).
    pub async fn booking(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        id: Uuid,
    ) -> Result<Option<(SnpBooking, Option<PatientIdentity>)>> {
        let Some(booking) = self.store.find_booking(cpts, id).await? else {
            return Ok(None);
        };
        let identity = match booking.patient_id {
            Some(patient) => match self.store.find_patient(cpts, PatientId(patient)).await? {
                Some(record) => {
                    self.audit(
                        actor,
                        cpts,
                        AuditAction::SnpBookingViewed,
                        "snp_booking",
                        id.to_string(),
                        serde_json::json!({}),
                    )
                    .await?;
                    Some(crate::patients::opened_identity(&self.keyring, &record)?)
                }
                None => None,
            },
            None => None,
        };
        Ok(Some((booking, identity)))
    }

    pub async fn cancel(&self, actor: &AuditContext, cpts: CptsId, booking: Uuid) -> Result<bool> {
        let done = self.store.cancel_booking(cpts, booking, now_ms()).await?;
        if done {
            self.audit(
                actor,
                cpts,
                AuditAction::SnpBookingCancelled,
                "snp_booking",
                booking.to_string(),
                serde_json::json!({}),
            )
            .await?;
        }
        Ok(done)
    }

    /// Records what happened; only for a confirmed booking whose slot is less than a day ahead (a no-show is
    /// often known from the morning's list).
    pub async fn record_outcome(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        booking: Uuid,
        outcome: Outcome,
    ) -> Result<bool> {
        let now = now_ms();
        let Some(found) = self.store.find_booking(cpts, booking).await? else {
            return Ok(false);
        };
        if let Some(slot) = self.store.find_slot(cpts, found.slot_id).await? {
            if slot.start_at > now + DAY_MS {
                return Err(CareError::Refused(
                    "Le rendez-vous est dans plus de 24 heures : son issue s'enregistrera ensuite."
                        .into(),
                ));
            }
        }
        let done = self
            .store
            .record_outcome(cpts, booking, outcome.code(), now)
            .await?;
        if done {
            self.audit(
                actor,
                cpts,
                AuditAction::SnpOutcomeRecorded,
                "snp_booking",
                booking.to_string(),
                serde_json::json!({ "outcome": outcome.code() }),
            )
            .await?;
        }
        Ok(done)
    }

    /// The account's own professional record, for "my slots".
    pub async fn professional_of(&self, cpts: CptsId, user: UserId) -> Result<Option<Uuid>> {
        Ok(self.store.professional_of_user(cpts, user).await?)
    }
}

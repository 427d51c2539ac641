//! Unscheduled care: professionals publish slots (weekly patterns expanded over the weeks ahead), the
//! secretary, a regulator or a member finds the earliest free ones and books one for a patient — held, then
//! confirmed with the patient's minimal identity (sealed), never twice — and records what happened. The
//! professional is told by e-mail, without health data. Every step is audited.

use crate::audit::{self, AuditContext, AuditEvent};
use crate::clock::{now_ms, DAY_MS, MINUTE_MS};
use crate::crypto::{Keyring, PatientIdentity};
use crate::mail::{self, OutgoingMail};
use maillage_domain::audit::AuditAction;
use maillage_domain::unscheduled_care::{
    check_slot_minutes, share_turns, weekdays_between, Modality, SlotKind,
};
use maillage_domain::unscheduled_care::{utc_to_paris, BookingOrigin, Day, Outcome, WeeklyPattern};
use maillage_domain::ValidationError;
use maillage_store::{
    CptsId, NewBooking, NewSlot, PatientId, RotaFilter, RotaTurn, SnpBooking, SnpPattern, Store,
    StoreError, UserId,
};
use std::sync::Arc;
use uuid::Uuid;

/// How long a slot stays held while the booker types the patient's details.
pub const HOLD_MINUTES: i64 = 10;

/// What a coordinator asks the rota to cover: one turn on every given weekday between two days.
#[derive(Debug, Clone)]
pub struct RotaRequest {
    pub label: String,
    pub weekday: u32,
    pub start_minute: u32,
    pub end_minute: u32,
    pub from: Day,
    pub to: Day,
    pub skip_public_holidays: bool,
    /// In the order ties are broken.
    pub professionals: Vec<Uuid>,
}

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
    /// A value of the request refused, with the field it came from: the form shows it beside the others.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
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
    let (day, minute) = utc_to_paris(utc_ms);
    format!(
        "{} {} à {:02}:{:02}",
        day.french_weekday(),
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
            valid_from: pattern.valid_from.iso(),
            valid_until: pattern.valid_until.map(Day::iso),
            exceptions: pattern
                .exceptions
                .iter()
                .map(|d| d.iso())
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
        self.tell_professional(
            cpts,
            booking,
            "Un patient a réservé un de vos créneaux",
            |when| {
                format!(
                    "Bonjour,\n\nVotre créneau de soins non programmés du {when} est réservé par la CPTS. \
                     Les informations du patient sont dans Maillage (« Mes créneaux »).\n\nLa CPTS\n"
                )
            },
        )
        .await?;
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

    /// E-mails the professional of a booking's slot (never any health data: the time only).
    async fn tell_professional(
        &self,
        cpts: CptsId,
        booking: Uuid,
        subject: &str,
        body: impl FnOnce(String) -> String,
    ) -> Result<()> {
        let Some(found) = self.store.find_booking(cpts, booking).await? else {
            return Ok(());
        };
        let Some(slot) = self.store.find_slot(cpts, found.slot_id).await? else {
            return Ok(());
        };
        if let Some(email) = self
            .store
            .professional_email(cpts, slot.professional_id)
            .await?
        {
            mail::queue(
                self.store.as_ref(),
                &OutgoingMail {
                    to: email,
                    subject: subject.into(),
                    body: body(french_slot_time(slot.start_at)),
                    cpts_id: Some(cpts),
                },
                self.mail_attempts,
            )
            .await?;
        }
        Ok(())
    }

    /// Cancels a booking; the professional is told when it was confirmed (the slot is free again).
    pub async fn cancel(&self, actor: &AuditContext, cpts: CptsId, booking: Uuid) -> Result<bool> {
        let was_confirmed = self
            .store
            .find_booking(cpts, booking)
            .await?
            .is_some_and(|b| b.status == "confirmed");
        let done = self.store.cancel_booking(cpts, booking, now_ms()).await?;
        if done && was_confirmed {
            self.tell_professional(
                cpts,
                booking,
                "Une réservation de votre créneau est annulée",
                |when| {
                    format!(
                        "Bonjour,\n\nLa réservation de votre créneau de soins non programmés du {when} est \
                         annulée : le créneau est de nouveau libre.\n\nLa CPTS\n"
                    )
                },
            )
            .await?;
        }
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

    /// Publishes one slot (a professional who phones in, an extra opening); false when they already have one
    /// starting then.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_slot(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        professional: Uuid,
        start_at: i64,
        minutes: i64,
        kind: SlotKind,
        modality: Modality,
        place: &str,
    ) -> Result<bool> {
        let now = now_ms();
        if start_at <= now {
            return Err(
                ValidationError::new("Début", "le créneau doit commencer dans le futur").into(),
            );
        }
        check_slot_minutes("Durée", minutes)?;
        let slot = NewSlot {
            start_at,
            end_at: start_at + minutes * MINUTE_MS,
            kind: kind.code().to_string(),
            modality: modality.code().to_string(),
            place: place.chars().take(200).collect(),
        };
        let created = self
            .store
            .publish_slots(cpts, professional, &[slot], now)
            .await?;
        if created == 1 {
            self.audit(
                actor,
                cpts,
                AuditAction::SnpSlotsPublished,
                "professional",
                professional.to_string(),
                serde_json::json!({ "start": start_at, "minutes": minutes, "kind": kind.code() }),
            )
            .await?;
        }
        Ok(created == 1)
    }

    /// Withdraws a free slot.
    pub async fn cancel_slot(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        slot: Uuid,
    ) -> Result<bool> {
        let done = self.store.cancel_slot(cpts, slot, now_ms()).await?;
        if done {
            self.audit(
                actor,
                cpts,
                AuditAction::SnpSlotCancelled,
                "snp_slot",
                slot.to_string(),
                serde_json::json!({}),
            )
            .await?;
        }
        Ok(done)
    }

    /// Fills the rota's free turns, sharing them by the load each professional already has this year.
    /// Returns how many turns were added.
    pub async fn build_rota(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        request: &RotaRequest,
    ) -> Result<u64> {
        let label = request.label.trim();
        if label.is_empty() || label.chars().count() > 80 {
            return Err(ValidationError::new(
                "Nom du tableau",
                "de 1 à 80 caractères (par exemple « Samedi matin »)",
            )
            .into());
        }
        if request.end_minute <= request.start_minute {
            return Err(
                ValidationError::new("Fin", "l'heure de fin doit suivre l'heure de début").into(),
            );
        }
        if request.to < request.from
            || request.to.days_since_epoch() - request.from.days_since_epoch() > 370
        {
            return Err(ValidationError::new(
                "Au",
                "la période doit suivre le début et durer au plus un an",
            )
            .into());
        }
        if request.professionals.is_empty() {
            return Err(ValidationError::new(
                "Professionnels",
                "choisissez au moins un professionnel",
            )
            .into());
        }
        let days = weekdays_between(
            request.weekday,
            request.from,
            request.to,
            request.skip_public_holidays,
        );
        let year_from = format!("{:04}-01-01", request.from.year);
        let year_to = format!("{:04}-12-31", request.to.year);
        let existing = self.store.rota_load(cpts, &year_from, &year_to).await?;
        let loads: Vec<(Uuid, i64)> = request
            .professionals
            .iter()
            .map(|p| {
                let turns = existing
                    .iter()
                    .find(|(id, _)| id == p)
                    .map_or(0, |(_, n)| *n);
                (*p, turns)
            })
            .collect();
        // Days already covered keep their professional: share only the others. A rota's days in the
        // period are at most the year's weeks, so one page holds them.
        let covered = self
            .store
            .list_rota_turns(
                cpts,
                &request.from.iso(),
                &request.to.iso(),
                &RotaFilter {
                    label: Some(label),
                    professional: None,
                },
                maillage_store::Page::first(1000),
            )
            .await?;
        let open: Vec<Day> = days
            .into_iter()
            .filter(|d| !covered.iter().any(|t| t.day == d.iso()))
            .collect();
        let now = now_ms();
        let turns: Vec<RotaTurn> = share_turns(&open, &loads)
            .into_iter()
            .map(|(day, professional)| RotaTurn {
                id: Uuid::now_v7(),
                label: label.to_string(),
                day: day.iso(),
                start_minute: i64::from(request.start_minute),
                end_minute: i64::from(request.end_minute),
                professional_id: professional,
                created_by: actor.actor_id.map(|u| u.0),
                created_at: now,
                updated_at: now,
            })
            .collect();
        let created = self.store.create_rota_turns(cpts, &turns).await?;
        self.audit(
            actor,
            cpts,
            AuditAction::SnpRotaBuilt,
            "snp_rota",
            label.to_string(),
            serde_json::json!({ "turns": created, "from": request.from.iso(), "to": request.to.iso() }),
        )
        .await?;
        Ok(created)
    }

    /// Exchanges two turns, or gives one to another professional; one audited step.
    pub async fn change_turn(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        turn: Uuid,
        change: TurnChange,
    ) -> Result<bool> {
        let now = now_ms();
        let (done, detail) = match change {
            TurnChange::SwapWith(other) => (
                self.store.swap_rota_turns(cpts, turn, other, now).await?,
                serde_json::json!({ "swap_with": other }),
            ),
            TurnChange::GiveTo(professional) => (
                self.store
                    .reassign_rota_turn(cpts, turn, professional, now)
                    .await?,
                serde_json::json!({ "professional": professional }),
            ),
            TurnChange::Remove => (
                self.store.delete_rota_turn(cpts, turn).await?,
                serde_json::json!({ "removed": true }),
            ),
        };
        if done {
            self.audit(
                actor,
                cpts,
                AuditAction::SnpRotaChanged,
                "snp_rota_turn",
                turn.to_string(),
                detail,
            )
            .await?;
        }
        Ok(done)
    }
}

/// How a turn of the rota changes.
#[derive(Debug, Clone, Copy)]
pub enum TurnChange {
    SwapWith(Uuid),
    GiveTo(Uuid),
    Remove,
}

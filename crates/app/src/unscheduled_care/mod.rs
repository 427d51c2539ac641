//! Unscheduled care: professionals publish slots (weekly patterns expanded over the weeks ahead), the
//! secretary, a regulator or a member finds the earliest free ones and books one for a patient — held, then
//! confirmed with the patient's minimal identity (sealed), never twice — and records what happened. The
//! professional is told by e-mail, without health data. Every step is audited.

mod bookings;
mod confirmations;
pub mod indicators;
pub mod policy;
mod reads;
mod rota_swaps;
pub mod sas;
pub mod sas_appointments;
mod upkeep;

pub use bookings::{BookingFilter, BookingShow, ListedBooking};
pub use reads::AgendaScope;
pub use rota_swaps::{turn_words, SwapView};

use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::{now_ms, DAY_MS, MINUTE_MS};
use crate::crypto::Keyring;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_domain::unscheduled_care::{
    check_slot_minutes, share_turns, weekdays_between, Modality, SlotKind,
};
use maillage_domain::unscheduled_care::{utc_to_paris, BookingOrigin, Day, WeeklyPattern};
use maillage_domain::ValidationError;
use maillage_store::{
    NewAuditEntry, NewBooking, NewSlot, RotaFilter, RotaTurn, SnpBooking, SnpDysfunction,
    SnpPattern, SnpSlot, Store, StoreError,
};
use policy::{may_handle_booking, may_manage_slots_of, BookingParties};
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
    /// The rota's profession (code of the directory): every professional must practise it.
    pub profession: Option<String>,
}

pub use maillage_domain::unscheduled_care::default_rota_label;

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
    /// No such record in the CPTS, or not one this caller may handle: the two are told apart to nobody.
    #[error("not found")]
    NotFound,
}

/// A role that may not do something finds nothing: the record's existence is not told.
impl From<crate::caller::Refused> for CareError {
    fn from(_: crate::caller::Refused) -> Self {
        CareError::NotFound
    }
}

pub type Result<T, E = CareError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct UnscheduledCare {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    mail_attempts: i64,
    /// `unscheduled_care.max_live_holds`.
    max_live_holds: i64,
    /// `server.public_url`, for the links e-mails carry (empty: none).
    public_url: String,
    /// `[sas]`: where the appointments booked from the SAS are sent back (None: not sent).
    sas: Option<Arc<sas_appointments::SasLink>>,
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
            max_live_holds: crate::config::UnscheduledCareConfig::default().max_live_holds,
            public_url: String::new(),
            sas: None,
        }
    }

    /// The same service, its e-mails linking to pages under `public_url`.
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.public_url = public_url.trim_end_matches('/').to_string();
        self
    }

    /// The same service with another limit of live holds per person.
    pub fn with_max_live_holds(mut self, max: i64) -> Self {
        self.max_live_holds = max.max(1);
        self
    }

    /// The entry a change writes in its own transaction.
    fn entry(
        caller: &Caller,
        action: AuditAction,
        kind: &str,
        id: String,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        audit::entry(
            caller.audit(),
            AuditEvent::new(action, kind, id).detail(detail),
        )
    }

    /// Refuses publishing or withdrawing for a professional who is not the caller's own (but for the
    /// coordination).
    fn require_slots_of(caller: &Caller, professional: uuid::Uuid) -> Result<()> {
        if may_manage_slots_of(caller.role(), caller.professional(), professional) {
            Ok(())
        } else {
            Err(CareError::NotFound)
        }
    }

    /// A booking and its slot, when the caller may handle it ([`policy::may_handle_booking`]).
    async fn handled_booking(&self, caller: &Caller, id: Uuid) -> Result<(SnpBooking, SnpSlot)> {
        let cpts = caller.cpts();
        let booking = self
            .store
            .find_booking(cpts, id)
            .await?
            .ok_or(CareError::NotFound)?;
        let slot = self
            .store
            .find_slot(cpts, booking.slot_id)
            .await?
            .ok_or(CareError::NotFound)?;
        let parties = BookingParties {
            booked_by: booking.booked_by,
            slot_professional: slot.professional_id,
        };
        if !may_handle_booking(
            caller.role(),
            caller.user().map(|u| u.0),
            caller.professional(),
            parties,
        ) {
            return Err(CareError::NotFound);
        }
        Ok((booking, slot))
    }

    /// Publishes a weekly pattern for a professional of the CPTS: its slots from today (or its start) to its
    /// end, or [`WEEKS_AHEAD`] weeks when it has none. Returns how many slots were created.
    pub async fn publish_pattern(
        &self,
        caller: &Caller,
        professional: Uuid,
        pattern: &WeeklyPattern,
        place: &str,
    ) -> Result<u64> {
        caller.require(Permission::PublishSlots)?;
        Self::require_slots_of(caller, professional)?;
        let cpts = caller.cpts();
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
            created_by: caller.user(),
            created_at: now,
        };
        let audit = Self::entry(
            caller,
            AuditAction::SnpPatternPublished,
            "professional",
            professional.to_string(),
            serde_json::json!({ "pattern": record.id, "slots": slots.len() }),
        );
        Ok(self
            .store
            .create_pattern(cpts, &record, &slots, &audit)
            .await?)
    }

    /// Holds a slot for [`HOLD_MINUTES`]; None when someone else holds or booked it.
    pub async fn hold(
        &self,
        caller: &Caller,
        slot: Uuid,
        origin: BookingOrigin,
        reason: &str,
        requested_at: i64,
    ) -> Result<Option<Uuid>> {
        caller.require(Permission::BookSlots)?;
        let now = now_ms();
        let id = Uuid::now_v7();
        let audit = Self::entry(
            caller,
            AuditAction::SnpSlotHeld,
            "snp_booking",
            id.to_string(),
            serde_json::json!({ "slot": slot, "origin": origin.code() }),
        );
        self.store
            .hold_slot(
                caller.cpts(),
                &NewBooking {
                    id,
                    slot_id: slot,
                    origin: origin.code().to_string(),
                    reason: reason.chars().take(100).collect(),
                    requested_at,
                    booked_by: caller.user(),
                    held_until: now + HOLD_MINUTES * MINUTE_MS,
                    max_live_holds: Some(self.max_live_holds),
                },
                now,
                &audit,
            )
            .await
            .map_err(|error| match error {
                StoreError::LimitReached(_) => CareError::Refused(format!(
                    "Vous retenez déjà {} créneaux : confirmez-les ou annulez-les avant d'en retenir un autre.",
                    self.max_live_holds
                )),
                other => other.into(),
            })
    }

    /// Publishes one slot (a professional who phones in, an extra opening); false when they already have one
    /// starting then.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_slot(
        &self,
        caller: &Caller,
        professional: Uuid,
        start_at: i64,
        minutes: i64,
        kind: SlotKind,
        modality: Modality,
        place: &str,
    ) -> Result<bool> {
        caller.require(Permission::PublishSlots)?;
        Self::require_slots_of(caller, professional)?;
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
        let audit = Self::entry(
            caller,
            AuditAction::SnpSlotsPublished,
            "professional",
            professional.to_string(),
            serde_json::json!({ "start": start_at, "minutes": minutes, "kind": kind.code() }),
        );
        let created = self
            .store
            .publish_slots(caller.cpts(), professional, &[slot], now, &audit)
            .await?;
        Ok(created == 1)
    }

    /// Withdraws a free slot of the caller's own (the coordination: anyone's); false when it is booked.
    pub async fn cancel_slot(&self, caller: &Caller, slot: Uuid) -> Result<bool> {
        let cpts = caller.cpts();
        let found = self
            .store
            .find_slot(cpts, slot)
            .await?
            .ok_or(CareError::NotFound)?;
        Self::require_slots_of(caller, found.professional_id)?;
        let audit = Self::entry(
            caller,
            AuditAction::SnpSlotCancelled,
            "snp_slot",
            slot.to_string(),
            serde_json::json!({}),
        );
        Ok(self.store.cancel_slot(cpts, slot, now_ms(), &audit).await?)
    }

    /// Reports a dysfunction of the SAS or of the CPTS's organisation (any member of the coordination's
    /// lists); the description never names a patient.
    pub async fn report_dysfunction(
        &self,
        caller: &Caller,
        reporter: &str,
        kind: maillage_domain::unscheduled_care::DysfunctionKind,
        description: &str,
    ) -> Result<Uuid> {
        caller.require(Permission::BookSlots)?;
        let description = description.trim();
        if description.is_empty() || description.chars().count() > 500 {
            return Err(ValidationError::new(
                "Ce qui s'est passé",
                "obligatoire, 500 caractères au plus, sans nom de patient",
            )
            .into());
        }
        let now = now_ms();
        let record = SnpDysfunction {
            id: Uuid::now_v7(),
            kind: kind.code().to_string(),
            occurred_at: now,
            reported_by: caller.user().map(|u| u.0),
            reporter: reporter.chars().take(200).collect(),
            booking_id: None,
            description: description.to_string(),
            follow_up: String::new(),
            resolved_at: None,
            created_at: now,
        };
        let audit = Self::entry(
            caller,
            AuditAction::SnpDysfunctionRecorded,
            "snp_dysfunction",
            record.id.to_string(),
            serde_json::json!({ "kind": kind.code() }),
        );
        self.store
            .record_dysfunction(caller.cpts(), &record, &audit)
            .await?;
        Ok(record.id)
    }

    /// The coordination's follow-up of a dysfunction, settled or not.
    pub async fn follow_up_dysfunction(
        &self,
        caller: &Caller,
        id: Uuid,
        follow_up: &str,
        settled: bool,
    ) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        let text = follow_up.trim();
        if text.chars().count() > 500 {
            return Err(ValidationError::new("Suite donnée", "500 caractères au plus").into());
        }
        let resolved = settled.then(now_ms);
        let audit = Self::entry(
            caller,
            AuditAction::SnpDysfunctionFollowedUp,
            "snp_dysfunction",
            id.to_string(),
            serde_json::json!({ "resolved": settled }),
        );
        if !self
            .store
            .set_dysfunction_follow_up(caller.cpts(), id, text, resolved, &audit)
            .await?
        {
            return Err(CareError::NotFound);
        }
        Ok(())
    }

    /// Fills the rota's free turns, sharing them by the load each professional already has this year.
    /// Returns how many turns were added.
    pub async fn build_rota(&self, caller: &Caller, request: &RotaRequest) -> Result<u64> {
        caller.require(Permission::ManageCpts)?;
        let cpts = caller.cpts();
        let typed = request.label.trim();
        let default_label = default_rota_label(request.weekday, request.start_minute);
        let label = if typed.is_empty() {
            default_label.as_str()
        } else {
            typed
        };
        if label.chars().count() > 80 {
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
        if let Some(profession) = request.profession.as_deref().filter(|p| !p.is_empty()) {
            // The directory's own rule of who practises it (general practice is a specialty, not a code).
            let of_profession: std::collections::HashSet<Uuid> = self
                .professionals_to_choose(
                    caller,
                    false,
                    Some(profession),
                    maillage_store::Page::MAX_LIMIT,
                )
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            if let Some(other) = request
                .professionals
                .iter()
                .find(|p| !of_profession.contains(p))
            {
                let name = match self.store.professional(cpts, *other).await? {
                    Some(record) => {
                        format!("{} {}", record.summary.first_name, record.summary.last_name)
                    }
                    None => "Un professionnel choisi".to_string(),
                };
                return Err(ValidationError::new(
                    "Professionnels",
                    format!(
                        "{name} n'est pas de la profession du tableau ({})",
                        maillage_domain::unscheduled_care::profession_label(profession)
                            .unwrap_or(profession)
                    ),
                )
                .into());
            }
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
                created_by: caller.user().map(|u| u.0),
                created_at: now,
                updated_at: now,
            })
            .collect();
        let audit = Self::entry(
            caller,
            AuditAction::SnpRotaBuilt,
            "snp_rota",
            label.to_string(),
            serde_json::json!({ "turns": turns.len(), "from": request.from.iso(), "to": request.to.iso() }),
        );
        Ok(self.store.create_rota_turns(cpts, &turns, &audit).await?)
    }

    /// Exchanges two turns, or gives one to another professional; one audited step.
    pub async fn change_turn(
        &self,
        caller: &Caller,
        turn: Uuid,
        change: TurnChange,
    ) -> Result<bool> {
        caller.require(Permission::ManageCpts)?;
        let cpts = caller.cpts();
        let now = now_ms();
        let detail = match change {
            TurnChange::SwapWith(other) => serde_json::json!({ "swap_with": other }),
            TurnChange::GiveTo(professional) => serde_json::json!({ "professional": professional }),
            TurnChange::Remove => serde_json::json!({ "removed": true }),
        };
        let audit = Self::entry(
            caller,
            AuditAction::SnpRotaChanged,
            "snp_rota_turn",
            turn.to_string(),
            detail,
        );
        Ok(match change {
            TurnChange::SwapWith(other) => {
                self.store
                    .swap_rota_turns(cpts, turn, other, now, &audit)
                    .await?
            }
            TurnChange::GiveTo(professional) => {
                self.store
                    .reassign_rota_turn(cpts, turn, professional, now, &audit)
                    .await?
            }
            TurnChange::Remove => self.store.delete_rota_turn(cpts, turn, &audit).await?,
        })
    }
}

/// How a turn of the rota changes.
#[derive(Debug, Clone, Copy)]
pub enum TurnChange {
    SwapWith(Uuid),
    GiveTo(Uuid),
    Remove,
}

//! The bookings list and what a booking's page shows besides the booking: the day's patients to expect, the
//! outcomes still to record, and what became of the message to the professional.

use super::{french_slot_time, CareError, Result, UnscheduledCare, DAY_MS};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::crypto::PatientIdentity;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::delivery::Purpose;
use maillage_domain::sas::SasOperator;
use maillage_domain::unscheduled_care::BookingStatus;
use maillage_domain::unscheduled_care::{BookingOrigin, Outcome};
use maillage_store::{BookingConfirmation, CptsId, PatientId, SnpBooking, SnpSlot};
use maillage_store::{BookingLine, BookingListQuery, BookingScope, Delivery, Page};
use uuid::Uuid;

/// What the list asks for, in the people's words: a window of appointments and, optionally, a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingFilter {
    pub from: i64,
    pub until: i64,
    pub show: BookingShow,
    /// What was typed to find a patient (name, birth date or phone); empty: every patient.
    pub search: String,
}

/// Which bookings of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BookingShow {
    #[default]
    All,
    /// Confirmed, the appointment has started, no outcome yet: what the secretariat records.
    OutcomeToRecord,
    Only(BookingStatus),
}

/// One booking of the list, the patient's identity opened (the list's read is audited first).
pub struct ListedBooking {
    pub line: BookingLine,
    pub patient: Option<PatientIdentity>,
}

/// The rows a role may list: the rule of [`super::policy::may_handle_booking`], as a query. Partners list
/// nothing (they have no right to book, checked before).
fn scope_of(caller: &Caller) -> BookingScope {
    match caller.role() {
        Role::Coordinator | Role::Secretary => BookingScope::WholeCpts,
        Role::Member | Role::Partner => BookingScope::Member {
            user: caller.user().map(|u| u.0),
            professional: caller.professional(),
        },
    }
}

/// The store's query for a filter, scoped to what the caller may list; the typed search becomes its keyed
/// terms (a wrong one is refused with the field named).
fn query_of(
    keyring: &crate::crypto::Keyring,
    caller: &Caller,
    filter: &BookingFilter,
    now: i64,
) -> Result<BookingListQuery> {
    let patient_terms = crate::patients::query_terms(keyring, caller.cpts(), &filter.search)
        .map_err(super::CareError::Invalid)?;
    Ok(BookingListQuery {
        from: filter.from,
        until: filter.until,
        status: match filter.show {
            BookingShow::Only(status) => Some(status),
            BookingShow::All | BookingShow::OutcomeToRecord => None,
        },
        outcome_missing_before: (filter.show == BookingShow::OutcomeToRecord).then_some(now),
        scope: scope_of(caller),
        patient_terms,
    })
}

impl UnscheduledCare {
    /// The bookings whose appointment falls in the filter's window, earliest first, each with its patient:
    /// an audited read of personal data, refused (nothing shown) when the audit cannot be written.
    pub async fn bookings(
        &self,
        caller: &Caller,
        filter: &BookingFilter,
        now: i64,
        page: Page,
    ) -> Result<Vec<ListedBooking>> {
        caller.require(Permission::BookSlots)?;
        let query = query_of(&self.keyring, caller, filter, now)?;
        let lines = self
            .store
            .list_bookings(caller.cpts(), &query, page)
            .await?;
        if lines.iter().any(|line| line.patient.is_some()) {
            audit::record(
                self.store.as_ref(),
                caller.audit(),
                AuditEvent::new(
                    AuditAction::SnpBookingsListed,
                    "cpts",
                    caller.cpts().to_string(),
                )
                .detail(serde_json::json!({
                    "from": filter.from,
                    "until": filter.until,
                    "patients": lines.iter().filter(|l| l.patient.is_some()).count(),
                    // Whether a patient was searched for (never what was typed: it is personal data).
                    "search": !filter.search.is_empty(),
                })),
            )
            .await?;
        }
        let mut listed = Vec::with_capacity(lines.len());
        for line in lines {
            let patient = match &line.patient {
                Some(record) => Some(crate::patients::opened_identity(&self.keyring, record)?),
                None => None,
            };
            listed.push(ListedBooking { line, patient });
        }
        Ok(listed)
    }

    /// How many bookings the list would show for this filter (no identity is opened: not a read of
    /// personal data); 0 for a role that lists none. The dashboard's counts.
    pub async fn count_bookings(
        &self,
        caller: &Caller,
        filter: &BookingFilter,
        now: i64,
    ) -> Result<i64> {
        if !caller.may(Permission::BookSlots) {
            return Ok(0);
        }
        let query = query_of(&self.keyring, caller, filter, now)?;
        Ok(self.store.count_bookings(caller.cpts(), &query).await?)
    }

    /// What became of the e-mails to the professional about a booking (booked, cancelled) and, for a booking
    /// of the SAS's regulation, of the Appointments sent back to the SAS: (notices, sent to the SAS).
    pub async fn booking_notices(
        &self,
        caller: &Caller,
        booking: Uuid,
    ) -> Result<(Vec<Delivery>, Vec<Delivery>)> {
        self.handled_booking(caller, booking).await?;
        let notices = self
            .store
            .deliveries_of(caller.cpts(), Purpose::BookingNotice, &[booking])
            .await?;
        let to_sas = self
            .store
            .deliveries_of(caller.cpts(), Purpose::SasAppointment, &[booking])
            .await?;
        Ok((notices, to_sas))
    }

    /// Confirms a hold with the patient's identity (sealed in the same transaction); tells the
    /// professional. False when the hold expired or was cancelled.
    pub async fn confirm(
        &self,
        caller: &Caller,
        booking: Uuid,
        identity: &PatientIdentity,
        origin: BookingOrigin,
        reason: &str,
        sas_operator: Option<&SasOperator>,
    ) -> Result<bool> {
        self.handled_booking(caller, booking).await?;
        self.check_operator(origin, sas_operator)?;
        // Kept only for a booking of the SAS's regulation: the Appointment sent back names who booked.
        let sas_operator = sas_operator
            .filter(|_| origin == BookingOrigin::SasRegulation)
            .map(SasOperator::stored);
        let cpts = caller.cpts();
        let now = now_ms();
        let patient =
            crate::patients::sealed_record(&self.keyring, cpts, PatientId::new(), identity, now)?;
        let audit = Self::entry(
            caller,
            AuditAction::SnpBookingConfirmed,
            "snp_booking",
            booking.to_string(),
            serde_json::json!({ "origin": origin.code(), "reason": reason }),
        );
        if !self
            .store
            .confirm_booking(
                cpts,
                booking,
                &patient,
                &BookingConfirmation {
                    origin: origin.code(),
                    reason,
                    sas_operator: sas_operator.as_deref(),
                },
                now,
                &audit,
            )
            .await?
        {
            return Ok(false);
        }
        self.tell_professional(
            cpts,
            booking,
            "Un patient a réservé un de vos créneaux",
            |when| {
                format!(
                    "Bonjour,\n\nVotre créneau de soins non programmés du {when} est réservé par la CPTS. \
                     Les informations du patient sont dans Maillage (« Mes créneaux »).\n"
                )
            },
        )
        .await?;
        self.tell_sas(cpts, booking).await?;
        Ok(true)
    }

    /// The booking, its slot and, once confirmed, the patient's identity: an audited read, refused (not
    /// found) when the caller may not handle this booking. The identity is opened only once its read is in the
    /// audit trail: a read that cannot be audited shows nothing.
    pub async fn booking(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(SnpBooking, SnpSlot, Option<PatientIdentity>)> {
        let (booking, slot) = self.handled_booking(caller, id).await?;
        let cpts = caller.cpts();
        let identity = match booking.patient_id {
            Some(patient) => match self.store.find_patient(cpts, PatientId(patient)).await? {
                Some(record) => {
                    audit::record(
                        self.store.as_ref(),
                        caller.audit(),
                        AuditEvent::new(
                            AuditAction::SnpBookingViewed,
                            "snp_booking",
                            id.to_string(),
                        ),
                    )
                    .await?;
                    Some(crate::patients::opened_identity(&self.keyring, &record)?)
                }
                None => None,
            },
            None => None,
        };
        Ok((booking, slot, identity))
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
        let email = self
            .store
            .professional_email(cpts, slot.professional_id)
            .await?;
        // Recorded without an address too: the booking's page says "à appeler".
        crate::deliveries::email(
            self.store.as_ref(),
            &self.keyring,
            crate::deliveries::About::new(
                cpts,
                maillage_domain::delivery::Purpose::BookingNotice,
                booking,
            ),
            email,
            subject,
            body(french_slot_time(slot.start_at)),
            self.mail_attempts,
        )
        .await?;
        Ok(())
    }

    /// Cancels a booking; the professional is told when it was confirmed (the slot is free again).
    pub async fn cancel(&self, caller: &Caller, booking: Uuid) -> Result<bool> {
        let (found, _) = self.handled_booking(caller, booking).await?;
        let cpts = caller.cpts();
        let was_confirmed =
            found.status == maillage_domain::unscheduled_care::BookingStatus::Confirmed;
        let audit = Self::entry(
            caller,
            AuditAction::SnpBookingCancelled,
            "snp_booking",
            booking.to_string(),
            serde_json::json!({}),
        );
        let done = self
            .store
            .cancel_booking(cpts, booking, now_ms(), &audit)
            .await?;
        if done && was_confirmed {
            self.tell_sas(cpts, booking).await?;
            self.tell_professional(
                cpts,
                booking,
                "Une réservation de votre créneau est annulée",
                |when| {
                    format!(
                        "Bonjour,\n\nLa réservation de votre créneau de soins non programmés du {when} est \
                         annulée : le créneau est de nouveau libre.\n"
                    )
                },
            )
            .await?;
        }
        Ok(done)
    }

    /// Records what happened; only for a confirmed booking whose slot is less than a day ahead (a no-show is
    /// often known from the morning's list).
    pub async fn record_outcome(
        &self,
        caller: &Caller,
        booking: Uuid,
        outcome: Outcome,
    ) -> Result<bool> {
        let now = now_ms();
        let (_, slot) = self.handled_booking(caller, booking).await?;
        if slot.start_at > now + DAY_MS {
            return Err(CareError::Refused(
                "Le rendez-vous est dans plus de 24 heures : son issue s'enregistrera ensuite."
                    .into(),
            ));
        }
        let audit = Self::entry(
            caller,
            AuditAction::SnpOutcomeRecorded,
            "snp_booking",
            booking.to_string(),
            serde_json::json!({ "outcome": outcome.code() }),
        );
        let recorded = self
            .store
            .record_outcome(caller.cpts(), booking, outcome.code(), now, &audit)
            .await?;
        if recorded {
            self.tell_sas(caller.cpts(), booking).await?;
        }
        Ok(recorded)
    }
}

//! The bookings list and what a booking's page shows besides the booking: the day's patients to expect, the
//! outcomes still to record, and what became of the message to the professional.

use super::{Result, UnscheduledCare};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::crypto::PatientIdentity;
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::delivery::Purpose;
use maillage_domain::unscheduled_care::BookingStatus;
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

    /// What became of the e-mails to the professional about a booking (booked, cancelled).
    pub async fn booking_notices(&self, caller: &Caller, booking: Uuid) -> Result<Vec<Delivery>> {
        self.handled_booking(caller, booking).await?;
        Ok(self
            .store
            .deliveries_of(caller.cpts(), Purpose::BookingNotice, &[booking])
            .await?)
    }
}

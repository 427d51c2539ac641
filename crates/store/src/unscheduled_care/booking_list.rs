//! The bookings list: the morning's and the day's bookings of the CPTS (or of one member), with their
//! patient's sealed identity, so that the secretariat calls a patient back or records who came.

use super::*;

/// Which bookings a list shows. The window is on the slot's start (the appointment), not on when it was
/// booked: "today's bookings" are the patients expected today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingListQuery {
    pub from: i64,
    pub until: i64,
    /// Only these states (none: every state).
    pub status: Option<BookingStatus>,
    /// Only confirmed bookings without an outcome whose slot started before this instant.
    pub outcome_missing_before: Option<i64>,
    /// Whose bookings: the whole CPTS, or a member's (those they made and those on their own slots).
    pub scope: BookingScope,
    /// Only those whose patient has every one of these search terms (keyed hashes; empty: no search).
    pub patient_terms: Vec<String>,
}

/// The rows a caller may list, decided by the service from its record-level rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingScope {
    WholeCpts,
    Member {
        user: Option<Uuid>,
        professional: Option<Uuid>,
    },
}

/// One line of the list: the booking, what the page says of its slot, and the patient's record (still
/// sealed: the service opens it once the read is audited).
#[derive(Debug, Clone)]
pub struct BookingLine {
    pub booking: SnpBooking,
    pub start_at: i64,
    pub professional_id: Uuid,
    pub commune_code: String,
    pub modality: Modality,
    pub patient: Option<PatientRecord>,
}

#[derive(FromRow)]
struct BookingLineRow {
    #[sqlx(flatten)]
    booking: SnpBooking,
    slot_start_at: i64,
    slot_professional_id: Uuid,
    slot_commune_code: String,
    #[sqlx(try_from = "String")]
    slot_modality: Modality,
    patient_identity: Option<Vec<u8>>,
    patient_key_id: Option<String>,
    patient_blind_index: Option<String>,
    patient_created_at: Option<i64>,
    patient_updated_at: Option<i64>,
}

impl BookingLineRow {
    fn into_line(self, cpts: CptsId) -> BookingLine {
        let patient = match (self.booking.patient_id, self.patient_identity) {
            (Some(id), Some(identity)) => Some(PatientRecord {
                id: PatientId(id),
                cpts_id: cpts,
                identity,
                key_id: self.patient_key_id.unwrap_or_default(),
                blind_index: self.patient_blind_index.unwrap_or_default(),
                created_at: self.patient_created_at.unwrap_or_default(),
                updated_at: self.patient_updated_at.unwrap_or_default(),
                search_terms: Vec::new(),
            }),
            _ => None,
        };
        BookingLine {
            booking: self.booking,
            start_at: self.slot_start_at,
            professional_id: self.slot_professional_id,
            commune_code: self.slot_commune_code,
            modality: self.slot_modality,
            patient,
        }
    }
}

/// The joins and conditions of a list and of its count: `$1` the CPTS, `$2`–`$3` the window, `$4` whole
/// CPTS or `$5`/`$6` a member's user and professional, `$7` a state, `$8` "outcome missing before". The scope is
/// bound, never written into the text.
fn list_conditions(terms: &[String]) -> String {
    format!(
        "FROM snp_slots s \
         JOIN snp_bookings b ON b.slot_id = s.id AND b.cpts_id = s.cpts_id \
         LEFT JOIN patients p ON p.id = b.patient_id AND p.cpts_id = b.cpts_id \
         WHERE s.cpts_id = $1 AND s.start_at >= $2 AND s.start_at < $3 \
         AND ($4 OR (b.booked_by = $5 OR s.professional_id = $6)) \
         AND ($7 IS NULL OR b.status = $7) \
         AND ($8 IS NULL OR (b.status = '{confirmed}' AND b.outcome IS NULL AND s.start_at < $8)) \
         AND {searched}",
        confirmed = BookingStatus::Confirmed.code(),
        searched = crate::patients::has_search_terms("b.patient_id", "$1", terms),
    )
}

/// Binds the parameters of [`list_conditions`] in their order.
macro_rules! bind_conditions {
    ($query:expr, $cpts:expr, $list:expr) => {{
        let (whole, user, professional) = match $list.scope {
            BookingScope::WholeCpts => (true, None, None),
            BookingScope::Member { user, professional } => (false, user, professional),
        };
        $query
            .bind($cpts.0)
            .bind($list.from)
            .bind($list.until)
            .bind(whole)
            .bind(user)
            .bind(professional)
            .bind($list.status.map(|s| s.code().to_string()))
            .bind($list.outcome_missing_before)
    }};
}

#[async_trait]
pub trait BookingListStore: Send + Sync {
    /// Bookings whose slot starts in the query's window, earliest appointment first.
    async fn list_bookings(
        &self,
        cpts: CptsId,
        query: &BookingListQuery,
        page: Page,
    ) -> Result<Vec<BookingLine>>;
    /// How many bookings the list would show (the dashboard's counts), without reading them.
    async fn count_bookings(&self, cpts: CptsId, query: &BookingListQuery) -> Result<i64>;
}

#[async_trait]
impl BookingListStore for SqlStore {
    async fn list_bookings(
        &self,
        cpts: CptsId,
        query: &BookingListQuery,
        page: Page,
    ) -> Result<Vec<BookingLine>> {
        let sql = format!(
            "SELECT b.id, b.slot_id, b.patient_id, b.status, b.held_until, b.origin, b.reason, \
             b.requested_at, b.booked_by, b.outcome, b.outcome_at, b.created_at, b.sas_operator, \
             s.start_at AS slot_start_at, s.professional_id AS slot_professional_id, \
             s.commune_code AS slot_commune_code, s.modality AS slot_modality, \
             p.identity AS patient_identity, p.key_id AS patient_key_id, \
             p.blind_index AS patient_blind_index, p.created_at AS patient_created_at, \
             p.updated_at AS patient_updated_at \
             {} ORDER BY s.start_at, b.id LIMIT $9 OFFSET $10",
            list_conditions(&query.patient_terms)
        );
        let rows: Vec<BookingLineRow> = on_pool!(self, pool => bind_conditions!(sqlx::query_as(&sql), cpts, query)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(|row| row.into_line(cpts)).collect())
    }

    async fn count_bookings(&self, cpts: CptsId, query: &BookingListQuery) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) {}", list_conditions(&query.patient_terms));
        let count: i64 = on_pool!(self, pool => bind_conditions!(sqlx::query_scalar(&sql), cpts, query)
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }
}

//! Storage of unscheduled care: weekly patterns, published slots, and bookings. Every method takes the CPTS.
//! A slot is never booked twice: the partial unique index `snp_bookings_one_live_per_slot` admits one held or
//! confirmed booking per slot, and a hold that expired is set aside in the same transaction as the new hold.

mod booking_list;
mod dysfunctions;
mod reports;
mod rota;
pub use booking_list::*;
pub use dysfunctions::*;
pub use reports::*;
pub use rota::*;

use crate::audit::{commit_audited, AuditTx};

use crate::models::*;

use crate::sql::BeginWrite;

use crate::sql::{on_pool, SqlArg as Arg, SqlStore};

use crate::{Result, StoreError};
use maillage_domain::codes::Coded;
use maillage_domain::unscheduled_care::{BookingOrigin, BookingStatus, Modality, SlotKind};

use async_trait::async_trait;

use sqlx::FromRow;

use uuid::Uuid;

/// A weekly pattern as stored (days as `YYYY-MM-DD`, exceptions `;`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnpPattern {
    pub id: Uuid,
    pub professional_id: Uuid,
    pub weekday: i64,
    pub start_minute: i64,
    pub end_minute: i64,
    pub slot_minutes: i64,
    pub kind: String,
    pub modality: String,
    pub place: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub exceptions: String,
    pub skip_holidays: bool,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// A slot to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSlot {
    pub start_at: i64,
    pub end_at: i64,
    pub kind: String,
    pub modality: String,
    pub place: String,
}

/// A published slot, with whether it is free as of the instant it was read.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SnpSlot {
    pub id: Uuid,
    pub professional_id: Uuid,
    pub pattern_id: Option<Uuid>,
    pub start_at: i64,
    pub end_at: i64,
    #[sqlx(try_from = "String")]
    pub kind: SlotKind,
    #[sqlx(try_from = "String")]
    pub modality: Modality,
    pub place: String,
    pub profession_code: String,
    pub commune_code: String,
    pub cancelled: bool,
}

/// Which free slots a search wants.
#[derive(Debug, Clone, Default)]
pub struct SlotQuery {
    pub from: i64,
    pub until: i64,
    /// A profession code of the national directory; None: any.
    pub profession: Option<String>,
    /// Slot kinds (codes); empty: any.
    pub kinds: Vec<String>,
    pub modality: Option<String>,
    /// Communes (INSEE codes) the slot may be in; empty: any.
    pub communes: Vec<String>,
    /// One professional's slots only.
    pub professional: Option<Uuid>,
    /// Only these professionals' slots (the SAS asks by their identifiers); empty: any.
    pub professionals: Vec<Uuid>,
}

/// A hold on a slot, before it is confirmed with the patient's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// Chosen by the caller, so that the audit entry written with the hold names it.
    pub id: Uuid,
    pub slot_id: Uuid,
    pub origin: String,
    pub reason: String,
    /// When the patient asked for care (for the 24 h / 48 h indicators).
    pub requested_at: i64,
    pub booked_by: Option<UserId>,
    pub held_until: i64,
    /// Live holds `booked_by` may have at once, this one included (none: no limit, the command line).
    pub max_live_holds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SnpBooking {
    pub id: Uuid,
    pub slot_id: Uuid,
    pub patient_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub status: BookingStatus,
    pub held_until: i64,
    #[sqlx(try_from = "String")]
    pub origin: BookingOrigin,
    pub reason: String,
    pub requested_at: i64,
    pub booked_by: Option<Uuid>,
    pub outcome: Option<String>,
    pub outcome_at: Option<i64>,
    pub created_at: i64,
    /// Who booked at the SAS (`8` + RPPS, or the SAS's UUID of an operator), for the Appointment sent back.
    pub sas_operator: Option<String>,
}

/// What confirming a hold records besides the patient.
#[derive(Debug, Clone, Copy)]
pub struct BookingConfirmation<'a> {
    pub origin: &'a str,
    pub reason: &'a str,
    /// Who booked at the SAS, for a booking of the SAS's regulation.
    pub sas_operator: Option<&'a str>,
}

/// A slot with its live booking (held or confirmed), if any: a professional's agenda, exports, the feed.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AgendaEntry {
    #[sqlx(flatten)]
    pub slot: SnpSlot,
    pub booking_id: Option<Uuid>,
    pub booking_status: Option<String>,
    pub held_until: Option<i64>,
    pub origin: Option<String>,
    pub reason: Option<String>,
    pub outcome: Option<String>,
}

impl SnpBooking {
    /// Holds its slot at `now` (the rule of the SQL [`live_condition`]).
    pub fn is_live_at(&self, now: i64) -> bool {
        self.status.holds_slot(self.held_until, now)
    }
}

impl AgendaEntry {
    /// The live booking's state, if the slot has one.
    pub fn booking_state(&self) -> Option<BookingStatus> {
        self.booking_status
            .as_deref()
            .and_then(BookingStatus::parse)
    }

    /// Booked as of `now`.
    pub fn booked_at(&self, now: i64) -> bool {
        match (self.booking_state(), self.held_until) {
            (Some(status), Some(held_until)) => status.holds_slot(held_until, now),
            _ => false,
        }
    }
}

#[async_trait]
pub trait UnscheduledCareStore: Send + Sync {
    /// Cancels a slot nobody booked; false when it is booked (cancel the booking first) or unknown.
    async fn cancel_slot(
        &self,
        cpts: CptsId,
        slot: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Records a pattern and its slots in one transaction; slots the professional already has at the same
    /// start are left as they are. Returns how many slots were created.
    async fn create_pattern(
        &self,
        cpts: CptsId,
        pattern: &SnpPattern,
        slots: &[NewSlot],
        audit: &NewAuditEntry,
    ) -> Result<u64>;
    async fn list_patterns(&self, cpts: CptsId, professional: Uuid) -> Result<Vec<SnpPattern>>;
    /// Publishes slots one by one (a professional who phones in); same rule for duplicates.
    async fn publish_slots(
        &self,
        cpts: CptsId,
        professional: Uuid,
        slots: &[NewSlot],
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<u64>;
    /// Free slots (not cancelled, no live booking as of `now`), earliest first.
    async fn search_free_slots(
        &self,
        cpts: CptsId,
        query: &SlotQuery,
        now: i64,
        page: Page,
    ) -> Result<Vec<SnpSlot>>;
    async fn find_slot(&self, cpts: CptsId, id: Uuid) -> Result<Option<SnpSlot>>;
    /// Holds a slot. None when someone else holds or booked it (the caller says so); NotFound when the slot
    /// is not in this CPTS or is cancelled.
    async fn hold_slot(
        &self,
        cpts: CptsId,
        booking: &NewBooking,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Option<Uuid>>;
    /// Confirms a hold that has not expired, with the patient, the origin and the reason (one transaction).
    async fn confirm_booking(
        &self,
        cpts: CptsId,
        booking: Uuid,
        patient: &PatientRecord,
        confirmation: &BookingConfirmation<'_>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Cancels a held or confirmed booking: the slot is free again.
    async fn cancel_booking(
        &self,
        cpts: CptsId,
        booking: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// What happened: seen, no-show, sent to emergency, hospitalised (confirmed bookings only).
    async fn record_outcome(
        &self,
        cpts: CptsId,
        booking: Uuid,
        outcome: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn find_booking(&self, cpts: CptsId, id: Uuid) -> Result<Option<SnpBooking>>;
    async fn bookings_of_slot(&self, cpts: CptsId, slot: Uuid) -> Result<Vec<SnpBooking>>;
    /// The CPTS's bookings, newest first.
    async fn recent_bookings(&self, cpts: CptsId, page: Page) -> Result<Vec<SnpBooking>>;
}

#[derive(FromRow)]
struct PatternRow {
    id: Uuid,
    professional_id: Uuid,
    weekday: i64,
    start_minute: i64,
    end_minute: i64,
    slot_minutes: i64,
    kind: String,
    modality: String,
    place: String,
    valid_from: String,
    valid_until: Option<String>,
    exceptions: String,
    skip_holidays: bool,
    created_by: Option<Uuid>,
    created_at: i64,
}

impl From<PatternRow> for SnpPattern {
    fn from(row: PatternRow) -> Self {
        SnpPattern {
            id: row.id,
            professional_id: row.professional_id,
            weekday: row.weekday,
            start_minute: row.start_minute,
            end_minute: row.end_minute,
            slot_minutes: row.slot_minutes,
            kind: row.kind,
            modality: row.modality,
            place: row.place,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            exceptions: row.exceptions,
            skip_holidays: row.skip_holidays,
            created_by: row.created_by.map(UserId),
            created_at: row.created_at,
        }
    }
}

const SLOT_COLUMNS: &str =
    "s.id, s.professional_id, s.pattern_id, s.start_at, s.end_at, s.kind, s.modality, \
    s.place, s.profession_code, s.commune_code, s.cancelled";

const BOOKING_COLUMNS: &str =
    "id, slot_id, patient_id, status, held_until, origin, reason, requested_at, \
    booked_by, outcome, outcome_at, created_at, sas_operator";

/// A booking that still counts at `$now`: confirmed, or held and not expired.
/// A booking `b` that holds its slot at `$2` (the rule of [`BookingStatus::holds_slot`]), its codes from the
/// domain's enum.
fn live_condition() -> String {
    format!(
        "(b.status = '{}' OR (b.status = '{}' AND b.held_until >= $2))",
        BookingStatus::Confirmed.code(),
        BookingStatus::Held.code()
    )
}

/// Inserts slots for a professional of the CPTS, copying their profession and commune (inside `$tx`).
const INSERT_SLOT: &str =
    "INSERT INTO snp_slots (id, cpts_id, professional_id, pattern_id, start_at, end_at, kind, \
    modality, place, profession_code, commune_code, created_at) \
    SELECT $1, $2, p.id, $4, $5, $6, $7, $8, $9, \
      CASE WHEN p.general_practitioner THEN 'MG' ELSE p.profession_code END, \
      COALESCE((SELECT pp.commune_code FROM practice_places pp WHERE pp.professional_id = p.id \
                AND pp.commune_code <> '' ORDER BY pp.position LIMIT 1), ''), $10 \
    FROM professionals p WHERE p.cpts_id = $2 AND p.id = $3 \
    ON CONFLICT (professional_id, start_at) DO NOTHING";

macro_rules! insert_slots {
    ($tx:expr, $cpts:expr, $professional:expr, $pattern:expr, $slots:expr, $now:expr) => {{
        let mut created = 0u64;
        for slot in $slots {
            created += sqlx::query(INSERT_SLOT)
                .bind(Uuid::now_v7())
                .bind($cpts.0)
                .bind($professional)
                .bind($pattern)
                .bind(slot.start_at)
                .bind(slot.end_at)
                .bind(&slot.kind)
                .bind(&slot.modality)
                .bind(&slot.place)
                .bind($now)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
        }
        created
    }};
}

#[async_trait]
impl UnscheduledCareStore for SqlStore {
    async fn cancel_slot(
        &self,
        cpts: CptsId,
        slot: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE snp_slots SET cancelled = TRUE WHERE cpts_id = $1 AND id = $3 AND cancelled = FALSE \
             AND NOT EXISTS (SELECT 1 FROM snp_bookings b WHERE b.slot_id = snp_slots.id AND {})",
            live_condition()
        );
        self.audited_update(
            &sql,
            &[Arg::Uuid(cpts.0), Arg::I64(now), Arg::Uuid(slot)],
            audit,
        )
        .await
    }
    async fn create_pattern(
        &self,
        cpts: CptsId,
        pattern: &SnpPattern,
        slots: &[NewSlot],
        audit: &NewAuditEntry,
    ) -> Result<u64> {
        let insert = "INSERT INTO snp_patterns (id, cpts_id, professional_id, weekday, start_minute, end_minute, \
                      slot_minutes, kind, modality, place, valid_from, valid_until, exceptions, skip_holidays, \
                      created_by, created_at) \
                      SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
                      WHERE EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $2 AND id = $3)";
        let p = pattern;
        let created = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(insert)
                .bind(p.id)
                .bind(cpts.0)
                .bind(p.professional_id)
                .bind(p.weekday)
                .bind(p.start_minute)
                .bind(p.end_minute)
                .bind(p.slot_minutes)
                .bind(&p.kind)
                .bind(&p.modality)
                .bind(&p.place)
                .bind(&p.valid_from)
                .bind(&p.valid_until)
                .bind(&p.exceptions)
                .bind(p.skip_holidays)
                .bind(p.created_by.map(|u| u.0))
                .bind(p.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 0 {
                return Err(StoreError::NotFound("professional"));
            }
            let created = insert_slots!(tx, cpts, p.professional_id, Some(p.id), slots, p.created_at);
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await?;
            created
        });
        Ok(created)
    }

    async fn list_patterns(&self, cpts: CptsId, professional: Uuid) -> Result<Vec<SnpPattern>> {
        let sql = "SELECT id, professional_id, weekday, start_minute, end_minute, slot_minutes, kind, modality, place, \
                   valid_from, valid_until, exceptions, skip_holidays, created_by, created_at FROM snp_patterns \
                   WHERE cpts_id = $1 AND professional_id = $2 ORDER BY weekday, start_minute LIMIT 200";
        let rows: Vec<PatternRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(professional)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn publish_slots(
        &self,
        cpts: CptsId,
        professional: Uuid,
        slots: &[NewSlot],
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<u64> {
        let none: Option<Uuid> = None;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let created = insert_slots!(tx, cpts, professional, none, slots, now);
            // Nothing published (all already there) is nothing to audit.
            commit_audited!(self, tx, created > 0, audit).map(|_| created)
        })
    }

    async fn search_free_slots(
        &self,
        cpts: CptsId,
        query: &SlotQuery,
        now: i64,
        page: Page,
    ) -> Result<Vec<SnpSlot>> {
        // Codes are checked by the caller against the domain's lists; they are bound, never spliced, except
        // the list placeholders built here.
        // A few professionals' slots are reached by their (professional, start) index, a whole window by the
        // CPTS's start index: each engine picks from its statistics, refreshed hourly (`refresh_slot_statistics`).
        let mut conditions = vec![
            "s.cpts_id = $1".to_string(),
            "s.cancelled = FALSE".to_string(),
            "s.start_at >= $3".to_string(),
            "s.start_at <= $4".to_string(),
            format!(
                "NOT EXISTS (SELECT 1 FROM snp_bookings b WHERE b.slot_id = s.id AND {})",
                live_condition()
            ),
        ];
        let mut texts: Vec<String> = Vec::new();
        let mut next = 7;
        let mut placeholder = |texts: &mut Vec<String>, value: &str| {
            texts.push(value.to_string());
            let name = format!("${next}");
            next += 1;
            name
        };
        if let Some(profession) = &query.profession {
            let p = placeholder(&mut texts, profession);
            conditions.push(format!("s.profession_code = {p}"));
        }
        if let Some(modality) = &query.modality {
            let p = placeholder(&mut texts, modality);
            conditions.push(format!("s.modality = {p}"));
        }
        if !query.kinds.is_empty() {
            let list: Vec<String> = query
                .kinds
                .iter()
                .map(|k| placeholder(&mut texts, k))
                .collect();
            conditions.push(format!("s.kind IN ({})", list.join(", ")));
        }
        if !query.communes.is_empty() {
            let list: Vec<String> = query
                .communes
                .iter()
                .take(500)
                .map(|c| placeholder(&mut texts, c))
                .collect();
            conditions.push(format!("s.commune_code IN ({})", list.join(", ")));
        }
        let mut uuids: Vec<Uuid> = query.professional.into_iter().collect();
        if query.professional.is_some() {
            conditions.push(format!("s.professional_id = ${next}"));
            next += 1;
        }
        if !query.professionals.is_empty() {
            let list: Vec<String> = query
                .professionals
                .iter()
                .take(500)
                .enumerate()
                .map(|(i, _)| format!("${}", next + i))
                .collect();
            conditions.push(format!("s.professional_id IN ({})", list.join(", ")));
            uuids.extend(query.professionals.iter().take(500));
        }
        let sql = format!(
            "SELECT {SLOT_COLUMNS} FROM snp_slots s WHERE {} ORDER BY s.start_at, s.id LIMIT $5 OFFSET $6",
            conditions.join(" AND ")
        );
        let rows: Vec<SnpSlot> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql)
                .bind(cpts.0)
                .bind(now)
                .bind(query.from)
                .bind(query.until)
                .bind(page.limit)
                .bind(page.offset);
            for text in &texts {
                q = q.bind(text.as_str());
            }
            for id in &uuids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    async fn find_slot(&self, cpts: CptsId, id: Uuid) -> Result<Option<SnpSlot>> {
        let sql =
            format!("SELECT {SLOT_COLUMNS} FROM snp_slots s WHERE s.cpts_id = $1 AND s.id = $2");
        let row: Option<SnpSlot> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    async fn hold_slot(
        &self,
        cpts: CptsId,
        booking: &NewBooking,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Option<Uuid>> {
        let expire = "UPDATE snp_bookings SET status = 'expired', updated_at = $3 \
                      WHERE cpts_id = $1 AND slot_id = $2 AND status = 'held' AND held_until < $3";
        let insert = "INSERT INTO snp_bookings (id, cpts_id, slot_id, status, held_until, origin, reason, requested_at, \
                      booked_by, created_at, updated_at) \
                      SELECT $1, $2, $3, 'held', $4, $5, $6, $7, $8, $9, $9 \
                      WHERE EXISTS (SELECT 1 FROM snp_slots WHERE cpts_id = $2 AND id = $3 AND cancelled = FALSE)";
        let b = booking;
        let id = b.id;
        let outcome: Result<u64> = on_pool!(self, pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(expire)
                .bind(cpts.0)
                .bind(b.slot_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if let (Some(max), Some(user)) = (b.max_live_holds, b.booked_by) {
                // One person's holds are counted one transaction at a time: SQLite's write transaction is
                // exclusive already; PostgreSQL takes a lock on the person for the transaction's length.
                if matches!(crate::Store::backend(self), crate::Backend::Postgres) {
                    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
                        .bind(user.0)
                        .execute(&mut *tx)
                        .await?;
                }
                let live: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM snp_bookings WHERE cpts_id = $1 AND booked_by = $2 \
                     AND status = 'held' AND held_until >= $3",
                )
                .bind(cpts.0)
                .bind(user.0)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                if live >= max {
                    return Err(StoreError::LimitReached("live holds"));
                }
            }
            let inserted = sqlx::query(insert)
                .bind(id)
                .bind(cpts.0)
                .bind(b.slot_id)
                .bind(b.held_until)
                .bind(&b.origin)
                .bind(&b.reason)
                .bind(b.requested_at)
                .bind(b.booked_by.map(|u| u.0))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 1 {
                tx.append_audit(&self.audit_keys, audit).await?;
                tx.commit().await?;
            }
            Ok(inserted)
        }.await);
        match outcome {
            Ok(1) => Ok(Some(id)),
            Ok(_) => Err(StoreError::NotFound("slot")),
            // The unique index refused a second live booking: someone else was faster.
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    async fn confirm_booking(
        &self,
        cpts: CptsId,
        booking: Uuid,
        patient: &PatientRecord,
        confirmation: &BookingConfirmation<'_>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let confirm =
            "UPDATE snp_bookings SET status = 'confirmed', patient_id = $3, updated_at = $4, origin = $5, \
             reason = $6, sas_operator = $7 WHERE cpts_id = $1 AND id = $2 AND status = 'held' AND held_until >= $4";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            crate::patients::insert_patient!(&mut tx, patient);
            let confirmed = sqlx::query(confirm)
                .bind(cpts.0)
                .bind(booking)
                .bind(patient.id.0)
                .bind(now)
                .bind(confirmation.origin)
                .bind(confirmation.reason)
                .bind(confirmation.sas_operator)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            // Nothing half-written: without a live hold, the patient is not kept either.
            commit_audited!(self, tx, confirmed, audit)?
        });
        Ok(done)
    }

    async fn cancel_booking(
        &self,
        cpts: CptsId,
        booking: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE snp_bookings SET status = 'cancelled', updated_at = $3 \
                   WHERE cpts_id = $1 AND id = $2 AND status IN ('held', 'confirmed') AND outcome IS NULL";
        self.audited_update(
            sql,
            &[Arg::Uuid(cpts.0), Arg::Uuid(booking), Arg::I64(now)],
            audit,
        )
        .await
    }

    async fn record_outcome(
        &self,
        cpts: CptsId,
        booking: Uuid,
        outcome: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE snp_bookings SET outcome = $3, outcome_at = $4, updated_at = $4 \
                   WHERE cpts_id = $1 AND id = $2 AND status = 'confirmed'";
        self.audited_update(
            sql,
            &[
                Arg::Uuid(cpts.0),
                Arg::Uuid(booking),
                Arg::Text(outcome.to_string()),
                Arg::I64(now),
            ],
            audit,
        )
        .await
    }

    async fn find_booking(&self, cpts: CptsId, id: Uuid) -> Result<Option<SnpBooking>> {
        let sql =
            format!("SELECT {BOOKING_COLUMNS} FROM snp_bookings WHERE cpts_id = $1 AND id = $2");
        let row: Option<SnpBooking> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    async fn bookings_of_slot(&self, cpts: CptsId, slot: Uuid) -> Result<Vec<SnpBooking>> {
        let sql = format!(
            "SELECT {BOOKING_COLUMNS} FROM snp_bookings WHERE cpts_id = $1 AND slot_id = $2 ORDER BY created_at, id LIMIT 100"
        );
        let rows: Vec<SnpBooking> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(slot)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn recent_bookings(&self, cpts: CptsId, page: Page) -> Result<Vec<SnpBooking>> {
        let sql = format!(
            "SELECT {BOOKING_COLUMNS} FROM snp_bookings WHERE cpts_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let rows: Vec<SnpBooking> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}

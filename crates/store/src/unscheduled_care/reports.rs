//! What reads the slots as a whole: the indicators, the agenda, and the planner's statistics.

use super::*;
use maillage_domain::unscheduled_care::{Outcome, SlotKind};

/// Counts over the slots that start in a period (cancelled slots are not offered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct SnpFigures {
    pub offered: i64,
    pub offered_sas: i64,
    pub offered_cpts: i64,
    pub offered_extra: i64,
    /// Slots with a confirmed booking.
    pub booked: i64,
    /// Bookings whose outcome is recorded.
    pub outcomes: i64,
    /// The patient came (seen, sent to the emergency department, hospitalised).
    pub honoured: i64,
    pub no_show: i64,
    /// Honoured bookings whose slot started within 24 h (48 h) of the patient's request.
    pub within_24h: i64,
    pub within_48h: i64,
    /// Professionals with at least one slot offered.
    pub professionals: i64,
}

#[async_trait]
pub trait SnpReportStore: Send + Sync {
    /// Refreshes the planner's statistics of slots and bookings (hourly upkeep; after a bulk load), so that
    /// searches keep their index plans as the tables grow — PostgreSQL's autovacuum may be off or late.
    async fn refresh_slot_statistics(&self) -> Result<()>;
    /// Indicators over the slots starting in `[from, until)`.
    async fn snp_figures(&self, cpts: CptsId, from: i64, until: i64) -> Result<SnpFigures>;
    /// Slots starting in `[from, until)` (all, or one professional's), with their live booking, earliest first.
    async fn agenda(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
        professional: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<AgendaEntry>>;
}

#[async_trait]
impl SnpReportStore for SqlStore {
    async fn refresh_slot_statistics(&self) -> Result<()> {
        on_pool!(self, pool => {
            for table in ["snp_slots", "snp_bookings"] {
                sqlx::query(&format!("ANALYZE {table}")).execute(pool).await?;
            }
            Ok::<(), sqlx::Error>(())
        })?;
        Ok(())
    }

    async fn snp_figures(&self, cpts: CptsId, from: i64, until: i64) -> Result<SnpFigures> {
        // One confirmed booking at most per slot (the partial unique index), so the join does not multiply.
        // Every code comes from the domain's enums: the indicators count what the pages call by those names.
        let honoured = Outcome::sql_list(Outcome::HONOURED);
        let kind = |k: SlotKind| {
            format!(
                "CAST(COALESCE(SUM(CASE WHEN s.kind = '{}' THEN 1 ELSE 0 END), 0) AS BIGINT)",
                k.code()
            )
        };
        let sql = format!(
            "SELECT COUNT(*) AS offered, {sas} AS offered_sas, {cpts} AS offered_cpts, {extra} AS offered_extra, \
            COUNT(b.id) AS booked, \
            COUNT(b.outcome) AS outcomes, \
            CAST(COALESCE(SUM(CASE WHEN b.outcome IN ({honoured}) THEN 1 ELSE 0 END), 0) AS BIGINT) AS honoured, \
            CAST(COALESCE(SUM(CASE WHEN b.outcome = '{no_show}' THEN 1 ELSE 0 END), 0) AS BIGINT) AS no_show, \
            CAST(COALESCE(SUM(CASE WHEN b.outcome IN ({honoured}) \
                 AND s.start_at - b.requested_at <= 86400000 THEN 1 ELSE 0 END), 0) AS BIGINT) AS within_24h, \
            CAST(COALESCE(SUM(CASE WHEN b.outcome IN ({honoured}) \
                 AND s.start_at - b.requested_at <= 172800000 THEN 1 ELSE 0 END), 0) AS BIGINT) AS within_48h, \
            COUNT(DISTINCT s.professional_id) AS professionals \
            FROM snp_slots s LEFT JOIN snp_bookings b ON b.slot_id = s.id AND b.status = '{confirmed}' \
            WHERE s.cpts_id = $1 AND s.cancelled = FALSE AND s.start_at >= $2 AND s.start_at < $3",
            sas = kind(SlotKind::Sas),
            cpts = kind(SlotKind::Cpts),
            extra = kind(SlotKind::Extra),
            no_show = Outcome::NoShow.code(),
            confirmed = BookingStatus::Confirmed.code(),
        );
        let row: SnpFigures = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .fetch_one(pool)
            .await)?;
        Ok(row)
    }

    async fn agenda(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
        professional: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<AgendaEntry>> {
        let live = BookingStatus::sql_list(BookingStatus::LIVE);
        let sql = format!(
            "SELECT {SLOT_COLUMNS}, b.id AS booking_id, b.status AS booking_status, b.held_until, b.origin, \
             b.reason, b.outcome FROM snp_slots s \
             LEFT JOIN snp_bookings b ON b.slot_id = s.id AND b.status IN ({live}) \
             WHERE s.cpts_id = $1 AND s.start_at >= $2 AND s.start_at < $3 \
             AND ($4 IS NULL OR s.professional_id = $4) \
             ORDER BY s.start_at, s.id LIMIT $5 OFFSET $6"
        );
        let rows: Vec<AgendaEntry> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .bind(professional)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}

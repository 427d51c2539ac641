//! The dysfunction log of unscheduled care: reports, their follow-up and the summary for the indicators.

use super::*;

/// A dysfunction as reported.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SnpDysfunction {
    pub id: Uuid,
    pub kind: String,
    pub occurred_at: i64,
    pub reported_by: Option<Uuid>,
    pub reporter: String,
    pub booking_id: Option<Uuid>,
    pub description: String,
    pub follow_up: String,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
}

#[async_trait]
pub trait DysfunctionStore: Send + Sync {
    async fn record_dysfunction(
        &self,
        cpts: CptsId,
        dysfunction: &SnpDysfunction,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// Newest first; only those that happened in `[from, until)`.
    async fn list_dysfunctions(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
        page: Page,
    ) -> Result<Vec<SnpDysfunction>>;
    /// The follow-up given, and whether it is settled; false when there is no such dysfunction in the CPTS.
    async fn set_dysfunction_follow_up(
        &self,
        cpts: CptsId,
        id: Uuid,
        follow_up: &str,
        resolved_at: Option<i64>,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Per kind: how many happened in `[from, until)`, and how many of them are settled.
    async fn dysfunction_summary(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
    ) -> Result<Vec<(String, i64, i64)>>;
}

#[async_trait]
impl DysfunctionStore for SqlStore {
    async fn record_dysfunction(
        &self,
        cpts: CptsId,
        d: &SnpDysfunction,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO snp_dysfunctions (id, cpts_id, kind, occurred_at, reported_by, reporter, booking_id, \
                   description, follow_up, resolved_at, created_at) \
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
                   WHERE $7 IS NULL OR EXISTS (SELECT 1 FROM snp_bookings WHERE cpts_id = $2 AND id = $7)";
        let inserted = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(sql)
                .bind(d.id)
                .bind(cpts.0)
                .bind(&d.kind)
                .bind(d.occurred_at)
                .bind(d.reported_by)
                .bind(&d.reporter)
                .bind(d.booking_id)
                .bind(&d.description)
                .bind(&d.follow_up)
                .bind(d.resolved_at)
                .bind(d.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_audited!(self, tx, inserted == 1, audit)?
        });
        if !inserted {
            return Err(StoreError::NotFound("booking"));
        }
        Ok(())
    }

    async fn list_dysfunctions(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
        page: Page,
    ) -> Result<Vec<SnpDysfunction>> {
        let sql = "SELECT id, kind, occurred_at, reported_by, reporter, booking_id, description, follow_up, resolved_at, \
                   created_at FROM snp_dysfunctions WHERE cpts_id = $1 AND occurred_at >= $2 AND occurred_at < $3 \
                   ORDER BY occurred_at DESC, id DESC LIMIT $4 OFFSET $5";
        let rows: Vec<SnpDysfunction> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn set_dysfunction_follow_up(
        &self,
        cpts: CptsId,
        id: Uuid,
        follow_up: &str,
        resolved_at: Option<i64>,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE snp_dysfunctions SET follow_up = $3, resolved_at = $4 WHERE cpts_id = $1 AND id = $2";
        self.audited_update(
            sql,
            &[
                Arg::Uuid(cpts.0),
                Arg::Uuid(id),
                Arg::Text(follow_up.to_string()),
                Arg::OptionalI64(resolved_at),
            ],
            audit,
        )
        .await
    }

    async fn dysfunction_summary(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
    ) -> Result<Vec<(String, i64, i64)>> {
        let sql = "SELECT kind, COUNT(*), CAST(COALESCE(SUM(CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) \
                   FROM snp_dysfunctions WHERE cpts_id = $1 AND occurred_at >= $2 AND occurred_at < $3 \
                   GROUP BY kind ORDER BY COUNT(*) DESC, kind";
        let rows: Vec<(String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}

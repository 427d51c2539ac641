//! The on-call rota (tableau d'astreinte): turns created, listed, swapped, reassigned and removed, each write
//! with its audit entry.

use super::*;
use maillage_domain::unscheduled_care::RotaSwapStatus;

/// Which turns a listing wants: one rota's, one professional's; None: any.
#[derive(Debug, Clone, Copy, Default)]
pub struct RotaFilter<'a> {
    pub label: Option<&'a str>,
    pub professional: Option<Uuid>,
}

/// One turn of the on-call rota (tableau d'astreinte).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RotaTurn {
    pub id: Uuid,
    /// The rota it belongs to, e.g. "Samedi matin".
    pub label: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub start_minute: i64,
    pub end_minute: i64,
    pub professional_id: Uuid,
    pub created_by: Option<Uuid>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A member's proposal to swap her turn (`turn_id`) with a colleague's (`wanted_turn_id`).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RotaSwap {
    pub id: Uuid,
    pub turn_id: Uuid,
    pub wanted_turn_id: Uuid,
    pub proposed_by: Uuid,
    pub proposed_to: Uuid,
    #[sqlx(try_from = "String")]
    pub status: RotaSwapStatus,
    pub created_by: Option<Uuid>,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

const SWAP_COLUMNS: &str =
    "id, turn_id, wanted_turn_id, proposed_by, proposed_to, status, created_by, \
                            created_at, settled_at";

const ROTA_COLUMNS: &str =
    "id, label, day, start_minute, end_minute, professional_id, created_by, created_at, \
                            updated_at";

#[async_trait]
pub trait RotaStore: Send + Sync {
    /// Adds turns to the rota; a turn already filled (same rota and day) is left as it is. Returns how many.
    async fn create_rota_turns(
        &self,
        cpts: CptsId,
        turns: &[RotaTurn],
        audit: &NewAuditEntry,
    ) -> Result<u64>;
    /// Turns whose day is in `[from, until]` (`YYYY-MM-DD`), by day then rota.
    async fn list_rota_turns(
        &self,
        cpts: CptsId,
        from: &str,
        until: &str,
        filter: &RotaFilter<'_>,
        page: Page,
    ) -> Result<Vec<RotaTurn>>;
    async fn find_rota_turn(&self, cpts: CptsId, id: Uuid) -> Result<Option<RotaTurn>>;
    /// Turns per professional with their days in `[from, until]`, most loaded first.
    async fn rota_load(&self, cpts: CptsId, from: &str, until: &str) -> Result<Vec<(Uuid, i64)>>;
    /// Exchanges the professionals of two turns in one transaction; false when either is unknown.
    async fn swap_rota_turns(
        &self,
        cpts: CptsId,
        first: Uuid,
        second: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Gives a turn to another professional of the CPTS.
    async fn reassign_rota_turn(
        &self,
        cpts: CptsId,
        turn: Uuid,
        professional: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn delete_rota_turn(
        &self,
        cpts: CptsId,
        turn: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// Records a pending swap when, as the transaction sees them, the proposer holds `turn_id` and the
    /// colleague `wanted_turn_id`; false otherwise, or when the same swap is already pending.
    async fn propose_rota_swap(
        &self,
        cpts: CptsId,
        swap: &RotaSwap,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    async fn find_rota_swap(&self, cpts: CptsId, id: Uuid) -> Result<Option<RotaSwap>>;
    /// The pending swaps a professional proposed or is asked whose two turns are still held by their
    /// professionals, oldest first (a member has a handful).
    async fn pending_rota_swaps(&self, cpts: CptsId, professional: Uuid) -> Result<Vec<RotaSwap>>;
    /// Settles a pending swap. Accepted: in the same transaction, both turns change hands if each is still
    /// held by its professional, and every other pending swap of either turn lapses. False when the swap is
    /// no longer pending or, for an acceptance, when a turn changed hands meanwhile.
    async fn settle_rota_swap(
        &self,
        cpts: CptsId,
        id: Uuid,
        outcome: RotaSwapStatus,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
}

#[async_trait]
impl RotaStore for SqlStore {
    async fn create_rota_turns(
        &self,
        cpts: CptsId,
        turns: &[RotaTurn],
        audit: &NewAuditEntry,
    ) -> Result<u64> {
        let sql = "INSERT INTO snp_rota_turns (id, cpts_id, label, day, start_minute, end_minute, professional_id, \
                   created_by, created_at, updated_at) \
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
                   WHERE EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $2 AND id = $7) \
                   ON CONFLICT (cpts_id, label, day) DO NOTHING";
        let created = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut created = 0u64;
            for t in turns {
                created += sqlx::query(sql)
                    .bind(t.id)
                    .bind(cpts.0)
                    .bind(&t.label)
                    .bind(&t.day)
                    .bind(t.start_minute)
                    .bind(t.end_minute)
                    .bind(t.professional_id)
                    .bind(t.created_by)
                    .bind(t.created_at)
                    .bind(t.updated_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await?;
            created
        });
        Ok(created)
    }

    async fn list_rota_turns(
        &self,
        cpts: CptsId,
        from: &str,
        until: &str,
        filter: &RotaFilter<'_>,
        page: Page,
    ) -> Result<Vec<RotaTurn>> {
        let sql = format!(
            "SELECT {ROTA_COLUMNS} FROM snp_rota_turns WHERE cpts_id = $1 AND day >= $2 AND day <= $3 \
             AND ($6 IS NULL OR label = $6) AND ($7 IS NULL OR professional_id = $7) \
             ORDER BY day, start_minute, label, id LIMIT $4 OFFSET $5"
        );
        let rows: Vec<RotaTurn> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .bind(page.limit)
            .bind(page.offset)
            .bind(filter.label)
            .bind(filter.professional)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn find_rota_turn(&self, cpts: CptsId, id: Uuid) -> Result<Option<RotaTurn>> {
        let sql =
            format!("SELECT {ROTA_COLUMNS} FROM snp_rota_turns WHERE cpts_id = $1 AND id = $2");
        let row: Option<RotaTurn> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    async fn rota_load(&self, cpts: CptsId, from: &str, until: &str) -> Result<Vec<(Uuid, i64)>> {
        let sql = "SELECT professional_id, COUNT(*) FROM snp_rota_turns \
                   WHERE cpts_id = $1 AND day >= $2 AND day <= $3 \
                   GROUP BY professional_id ORDER BY COUNT(*) DESC, professional_id LIMIT 1000";
        let rows: Vec<(Uuid, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn swap_rota_turns(
        &self,
        cpts: CptsId,
        first: Uuid,
        second: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let read = "SELECT professional_id FROM snp_rota_turns WHERE cpts_id = $1 AND id = $2";
        let write = "UPDATE snp_rota_turns SET professional_id = $3, updated_at = $4 WHERE cpts_id = $1 AND id = $2";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let a: Option<(Uuid,)> = sqlx::query_as(read).bind(cpts.0).bind(first).fetch_optional(&mut *tx).await?;
            let b: Option<(Uuid,)> = sqlx::query_as(read).bind(cpts.0).bind(second).fetch_optional(&mut *tx).await?;
            match (a, b) {
                (Some((a,)), Some((b,))) if first != second => {
                    for (turn, professional) in [(first, b), (second, a)] {
                        sqlx::query(write).bind(cpts.0).bind(turn).bind(professional).bind(now)
                            .execute(&mut *tx).await?;
                    }
                    tx.append_audit(&self.audit_keys, audit).await?;
                    tx.commit().await?;
                    true
                }
                _ => false,
            }
        });
        Ok(done)
    }

    async fn reassign_rota_turn(
        &self,
        cpts: CptsId,
        turn: Uuid,
        professional: Uuid,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "UPDATE snp_rota_turns SET professional_id = $3, updated_at = $4 WHERE cpts_id = $1 AND id = $2 \
                   AND EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $1 AND id = $3)";
        self.audited_update(
            sql,
            &[
                Arg::Uuid(cpts.0),
                Arg::Uuid(turn),
                Arg::Uuid(professional),
                Arg::I64(now),
            ],
            audit,
        )
        .await
    }

    async fn delete_rota_turn(
        &self,
        cpts: CptsId,
        turn: Uuid,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "DELETE FROM snp_rota_turns WHERE cpts_id = $1 AND id = $2";
        self.audited_update(sql, &[Arg::Uuid(cpts.0), Arg::Uuid(turn)], audit)
            .await
    }

    async fn propose_rota_swap(
        &self,
        cpts: CptsId,
        swap: &RotaSwap,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let sql = "INSERT INTO snp_rota_swaps (id, cpts_id, turn_id, wanted_turn_id, proposed_by, proposed_to, \
                   status, created_by, created_at) \
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
                   WHERE EXISTS (SELECT 1 FROM snp_rota_turns WHERE cpts_id = $2 AND id = $3 AND professional_id = $5) \
                   AND EXISTS (SELECT 1 FROM snp_rota_turns WHERE cpts_id = $2 AND id = $4 AND professional_id = $6) \
                   ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let changed = sqlx::query(sql)
                .bind(swap.id)
                .bind(cpts.0)
                .bind(swap.turn_id)
                .bind(swap.wanted_turn_id)
                .bind(swap.proposed_by)
                .bind(swap.proposed_to)
                .bind(RotaSwapStatus::Pending.code())
                .bind(swap.created_by)
                .bind(swap.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_audited!(self, tx, changed == 1, audit)
        })
    }

    async fn find_rota_swap(&self, cpts: CptsId, id: Uuid) -> Result<Option<RotaSwap>> {
        let sql =
            format!("SELECT {SWAP_COLUMNS} FROM snp_rota_swaps WHERE cpts_id = $1 AND id = $2");
        let row: Option<RotaSwap> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    async fn pending_rota_swaps(&self, cpts: CptsId, professional: Uuid) -> Result<Vec<RotaSwap>> {
        // A swap one of whose turns changed hands meanwhile can no longer be accepted: it is not listed.
        let columns = SWAP_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM snp_rota_swaps s \
             JOIN snp_rota_turns offered ON offered.id = s.turn_id AND offered.professional_id = s.proposed_by \
             JOIN snp_rota_turns wanted ON wanted.id = s.wanted_turn_id AND wanted.professional_id = s.proposed_to \
             WHERE s.cpts_id = $1 AND s.status = $3 AND (s.proposed_by = $2 OR s.proposed_to = $2) \
             ORDER BY s.created_at, s.id LIMIT 100"
        );
        let rows: Vec<RotaSwap> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(professional)
            .bind(RotaSwapStatus::Pending.code())
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn settle_rota_swap(
        &self,
        cpts: CptsId,
        id: Uuid,
        outcome: RotaSwapStatus,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let pending = RotaSwapStatus::Pending.code();
        let settle = "UPDATE snp_rota_swaps SET status = $3, settled_at = $4 \
                      WHERE cpts_id = $1 AND id = $2 AND status = $5";
        let find = format!(
            "SELECT {SWAP_COLUMNS} FROM snp_rota_swaps WHERE cpts_id = $1 AND id = $2 AND status = $3"
        );
        let holds = "SELECT COUNT(*) FROM snp_rota_turns WHERE cpts_id = $1 AND ((id = $2 AND professional_id = $3) \
                     OR (id = $4 AND professional_id = $5))";
        let give = "UPDATE snp_rota_turns SET professional_id = $3, updated_at = $4 WHERE cpts_id = $1 AND id = $2";
        let lapse = "UPDATE snp_rota_swaps SET status = $2, settled_at = $3 WHERE cpts_id = $1 AND status = $4 \
                     AND (turn_id IN ($5, $6) OR wanted_turn_id IN ($5, $6))";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some(swap) = sqlx::query_as::<_, RotaSwap>(&find)
                .bind(cpts.0).bind(id).bind(pending)
                .fetch_optional(&mut *tx).await? else {
                return Ok(false);
            };
            if outcome == RotaSwapStatus::Accepted {
                let (held,): (i64,) = sqlx::query_as(holds).bind(cpts.0)
                    .bind(swap.turn_id).bind(swap.proposed_by)
                    .bind(swap.wanted_turn_id).bind(swap.proposed_to)
                    .fetch_one(&mut *tx).await?;
                if held != 2 {
                    return Ok(false);
                }
                for (turn, professional) in [(swap.turn_id, swap.proposed_to), (swap.wanted_turn_id, swap.proposed_by)] {
                    sqlx::query(give).bind(cpts.0).bind(turn).bind(professional).bind(now)
                        .execute(&mut *tx).await?;
                }
            }
            let changed = sqlx::query(settle).bind(cpts.0).bind(id).bind(outcome.code()).bind(now).bind(pending)
                .execute(&mut *tx).await?.rows_affected();
            if outcome == RotaSwapStatus::Accepted {
                sqlx::query(lapse).bind(cpts.0).bind(RotaSwapStatus::Lapsed.code()).bind(now)
                    .bind(pending).bind(swap.turn_id).bind(swap.wanted_turn_id)
                    .execute(&mut *tx).await?;
            }
            commit_audited!(self, tx, changed == 1, audit)
        })
    }
}

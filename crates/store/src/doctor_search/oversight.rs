//! What oversees the requests as a whole: the CPTS's priority rules, the indicators' aggregates, and the
//! anonymisation of ended requests past the retention delay.

use super::*;

/// The aggregates behind the indicators of one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoctorSearchFigures {
    pub by_channel: Vec<(String, i64)>,
    pub by_referrer: Vec<(String, i64)>,
    pub targeted: i64,
    pub informed: i64,
    pub oriented: i64,
    pub attached: i64,
    pub attached_ald: i64,
    pub attached_css: i64,
    pub attached_aged_70: i64,
    /// Days from request to attachment, of each request attached in the period.
    pub attachment_delays_days: Vec<i64>,
    /// Open requests now, by priority score.
    pub backlog_by_priority: Vec<(i64, i64)>,
    pub gps_declaring: i64,
    pub gps_accepting: i64,
    pub capacity_now: i64,
    pub capacity_later: i64,
    pub places_used: i64,
}

/// A GP's answer to a proposal, as the coordination's digest tells it (no patient data).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AnsweredProposal {
    pub proposal_id: Uuid,
    pub request_id: Uuid,
    pub professional_id: Uuid,
    #[sqlx(try_from = "String")]
    pub status: ProposalStatus,
    pub answered_at: i64,
}

#[async_trait]
pub trait DoctorSearchOversight: Send + Sync {
    // --- The coordination's morning digest of the GPs' answers ---------------------------------------
    /// Whether the coordination receives the digest, and when the last one was sent.
    async fn answer_digest(&self, cpts: CptsId) -> Result<(bool, Option<i64>)>;
    async fn set_answer_digest(
        &self,
        cpts: CptsId,
        enabled: bool,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// Takes the digest due for a CPTS that asked for it and last sent before `due_after` (or never): records
    /// `now` as sent and returns the instant the previous one covered up to. None: not asked, or already
    /// taken (by this or another process).
    async fn claim_answer_digest(
        &self,
        cpts: CptsId,
        due_after: i64,
        now: i64,
    ) -> Result<Option<Option<i64>>>;
    /// The proposals accepted or declined in `[from, until)`, oldest first, at most `limit`.
    async fn answers_between(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<AnsweredProposal>>;

    // --- Settings, indicators, retention -------------------------------------------------------------
    async fn priority_rules(&self, cpts: CptsId) -> Result<Option<String>>;
    async fn save_priority_rules(
        &self,
        cpts: CptsId,
        rules: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn doctor_search_figures(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
    ) -> Result<DoctorSearchFigures>;
    /// Anonymises up to `limit` requests final since before `before`, any CPTS: the patient's identity is
    /// deleted (unless another request still needs it), the referrer's name and event details erased. Each
    /// CPTS's entry (`audit` of its anonymised requests) is appended in the same transaction, in its own
    /// chain. Returns the requests anonymised.
    async fn anonymise_final_requests(
        &self,
        before: i64,
        now: i64,
        limit: i64,
        audit: &(dyn for<'ids> Fn(CptsId, &'ids [Uuid]) -> NewAuditEntry + Send + Sync),
    ) -> Result<Vec<(CptsId, Uuid)>>;
}

#[async_trait]
impl DoctorSearchOversight for SqlStore {
    async fn answer_digest(&self, cpts: CptsId) -> Result<(bool, Option<i64>)> {
        let sql = "SELECT enabled, last_sent_at FROM answer_digests WHERE cpts_id = $1";
        let row: Option<(bool, Option<i64>)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .fetch_optional(pool)
            .await)?;
        Ok(row.unwrap_or((false, None)))
    }

    async fn set_answer_digest(
        &self,
        cpts: CptsId,
        enabled: bool,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO answer_digests (cpts_id, enabled) VALUES ($1, $2) \
                   ON CONFLICT (cpts_id) DO UPDATE SET enabled = excluded.enabled";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql).bind(cpts.0).bind(enabled).execute(&mut *tx).await?;
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    async fn claim_answer_digest(
        &self,
        cpts: CptsId,
        due_after: i64,
        now: i64,
    ) -> Result<Option<Option<i64>>> {
        let read = "SELECT last_sent_at FROM answer_digests WHERE cpts_id = $1 AND enabled = TRUE \
                    AND COALESCE(last_sent_at, 0) < $2";
        // Conditioned on the value read: of two processes, one changes the row, the other finds it changed.
        let claim = "UPDATE answer_digests SET last_sent_at = $3 WHERE cpts_id = $1 \
                     AND COALESCE(last_sent_at, 0) = $2";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let Some((previous,)): Option<(Option<i64>,)> = sqlx::query_as(read)
                .bind(cpts.0).bind(due_after).fetch_optional(&mut *tx).await? else {
                return Ok(None);
            };
            let claimed = sqlx::query(claim).bind(cpts.0).bind(previous.unwrap_or(0)).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok((claimed == 1).then_some(previous))
        })
    }

    async fn answers_between(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<AnsweredProposal>> {
        let sql = format!(
            "SELECT id AS proposal_id, request_id, professional_id, status, answered_at \
             FROM doctor_proposals WHERE cpts_id = $1 AND status IN ('{}', '{}') \
             AND answered_at >= $2 AND answered_at < $3 ORDER BY answered_at, id LIMIT $4",
            ProposalStatus::Accepted.code(),
            ProposalStatus::Declined.code()
        );
        let rows: Vec<AnsweredProposal> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(from)
            .bind(until)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    async fn priority_rules(&self, cpts: CptsId) -> Result<Option<String>> {
        let sql = "SELECT rules FROM doctor_search_settings WHERE cpts_id = $1";
        let rules: Option<String> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .fetch_optional(pool)
            .await)?;
        Ok(rules)
    }

    async fn save_priority_rules(
        &self,
        cpts: CptsId,
        rules: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO doctor_search_settings (cpts_id, rules, updated_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (cpts_id) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at";
        self.audited_update(
            sql,
            &[
                SqlArg::Uuid(cpts.0),
                SqlArg::Text(rules.to_string()),
                SqlArg::I64(now),
            ],
            audit,
        )
        .await?;
        Ok(())
    }

    async fn doctor_search_figures(
        &self,
        cpts: CptsId,
        from: i64,
        until: i64,
    ) -> Result<DoctorSearchFigures> {
        let in_period = "cpts_id = $1 AND received_at >= $2 AND received_at < $3";
        let by_channel = format!(
            "SELECT channel, COUNT(*) FROM doctor_requests WHERE {in_period} GROUP BY channel ORDER BY COUNT(*) DESC, channel"
        );
        let by_referrer = format!(
            "SELECT referrer, COUNT(*) FROM doctor_requests WHERE {in_period} AND referrer <> '' \
             GROUP BY referrer ORDER BY COUNT(*) DESC, referrer LIMIT 20"
        );
        let targeted = format!("SELECT COUNT(*) FROM doctor_requests WHERE {in_period}");
        let events_of = |condition: &str| {
            format!(
                "SELECT COUNT(DISTINCT request_id) FROM doctor_request_events WHERE cpts_id = $1 AND at >= $2 \
                 AND at < $3 AND {condition}"
            )
        };
        let informed = events_of("kind = 'notified'");
        let oriented = events_of("kind = 'state' AND to_state IN ('proposed', 'redirected')");
        let attached = "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN ald THEN 1 ELSE 0 END), 0) AS BIGINT), \
                        CAST(COALESCE(SUM(CASE WHEN css OR ame THEN 1 ELSE 0 END), 0) AS BIGINT), \
                        CAST(COALESCE(SUM(CASE WHEN age_at_request >= 70 THEN 1 ELSE 0 END), 0) AS BIGINT) \
                        FROM doctor_requests WHERE cpts_id = $1 AND attached_at >= $2 AND attached_at < $3";
        let delays = "SELECT (attached_at - received_at) / 86400000 FROM doctor_requests \
                      WHERE cpts_id = $1 AND attached_at >= $2 AND attached_at < $3 ORDER BY 1 LIMIT 100000";
        let backlog = format!(
            "SELECT priority, COUNT(*) FROM doctor_requests WHERE cpts_id = $1 AND state NOT IN {} \
             AND $2 = $2 AND $3 = $3 GROUP BY priority ORDER BY priority DESC",
            final_states_sql()
        );
        let capacity = "SELECT COUNT(*), CAST(COALESCE(SUM(now_capacity), 0) AS BIGINT), CAST(COALESCE(SUM(later_capacity), 0) AS BIGINT) \
                        FROM gp_capacities WHERE cpts_id = $1 AND (now_capacity > 0 OR later_capacity > 0) \
                        AND $2 = $2 AND $3 = $3";
        let accepting = "SELECT COUNT(DISTINCT professional_id), COUNT(*) FROM doctor_proposals \
                         WHERE cpts_id = $1 AND status = 'accepted' AND answered_at >= $2 AND answered_at < $3";
        let figures = on_pool!(self, pool => {
            let by_channel: Vec<(String, i64)> = sqlx::query_as(&by_channel)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let by_referrer: Vec<(String, i64)> = sqlx::query_as(&by_referrer)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let targeted: i64 = sqlx::query_scalar(&targeted)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let informed: i64 = sqlx::query_scalar(&informed)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let oriented: i64 = sqlx::query_scalar(&oriented)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let (attached, ald, css, aged): (i64, i64, i64, i64) = sqlx::query_as(attached)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let delays: Vec<i64> = sqlx::query_scalar(delays)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let backlog: Vec<(i64, i64)> = sqlx::query_as(&backlog)
                .bind(cpts.0).bind(from).bind(until).fetch_all(pool).await?;
            let (declaring, now_capacity, later_capacity): (i64, i64, i64) = sqlx::query_as(capacity)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            let (accepting, used): (i64, i64) = sqlx::query_as(accepting)
                .bind(cpts.0).bind(from).bind(until).fetch_one(pool).await?;
            DoctorSearchFigures {
                by_channel,
                by_referrer,
                targeted,
                informed,
                oriented,
                attached,
                attached_ald: ald,
                attached_css: css,
                attached_aged_70: aged,
                attachment_delays_days: delays,
                backlog_by_priority: backlog,
                gps_declaring: declaring,
                gps_accepting: accepting,
                capacity_now: now_capacity,
                capacity_later: later_capacity,
                places_used: used,
            }
        });
        Ok(figures)
    }

    async fn anonymise_final_requests(
        &self,
        before: i64,
        now: i64,
        limit: i64,
        audit: &(dyn for<'ids> Fn(CptsId, &'ids [Uuid]) -> NewAuditEntry + Send + Sync),
    ) -> Result<Vec<(CptsId, Uuid)>> {
        let find = format!(
            "SELECT cpts_id, id, patient_id FROM doctor_requests WHERE anonymised_at IS NULL \
             AND state IN {} AND state_since < $1 ORDER BY state_since LIMIT $2",
            final_states_sql()
        );
        let clear = "UPDATE doctor_requests SET patient_id = NULL, referrer = '', anonymised_at = $2, updated_at = $2 \
                     WHERE id = $1";
        let erase_details = "UPDATE doctor_request_events SET detail = '' WHERE request_id = $1";
        let delete_patient = "DELETE FROM patients WHERE id = $1 AND NOT EXISTS \
                              (SELECT 1 FROM doctor_requests WHERE patient_id = $1)";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows: Vec<(Uuid, Uuid, Option<Uuid>)> = sqlx::query_as(&find)
                .bind(before)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            let mut per_cpts: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
            for (cpts, id, patient) in &rows {
                sqlx::query(clear).bind(id).bind(now).execute(&mut *tx).await?;
                sqlx::query(erase_details).bind(id).execute(&mut *tx).await?;
                if let Some(patient) = patient {
                    sqlx::query(delete_patient).bind(patient).execute(&mut *tx).await?;
                }
                per_cpts.entry(*cpts).or_default().push(*id);
            }
            // One entry per CPTS, in CPTS order (chains are always locked in the same order).
            for (cpts, ids) in &per_cpts {
                AuditTx::append_audit(&mut tx, &self.audit_keys, &audit(CptsId(*cpts), ids)).await?;
            }
            tx.commit().await?;
            rows.into_iter().map(|(cpts, id, _)| (CptsId(cpts), id)).collect::<Vec<_>>()
        });
        Ok(done)
    }
}

//! Proposals of a GP to a patient: drafts from a matching or picked by hand, sent with their link's secret,
//! answered by the GP; the request moves with them.

use super::*;

pub use maillage_domain::doctor_search::ProposalStatus;

/// A proposal of one request to one GP: a draft of the matching, then sent with a link, then answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub id: Uuid,
    pub cpts_id: CptsId,
    pub request_id: Uuid,
    pub professional_id: Uuid,
    pub status: ProposalStatus,
    pub distance_m: i64,
    pub priority: i64,
    pub explanation: String,
    pub decline_reason: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub answered_at: Option<i64>,
}

/// A proposal with what the pages show of it (no patient identity).
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalView {
    pub proposal: Proposal,
    pub doctor_name: String,
    pub request_commune: String,
    pub age_at_request: i64,
    /// The GP's contact phone, or her first practice place's ("" when none): to call her.
    pub doctor_phone: String,
}

#[derive(FromRow)]
struct ProposalRow {
    id: Uuid,
    cpts_id: Uuid,
    request_id: Uuid,
    professional_id: Uuid,
    status: String,
    distance_m: i64,
    priority: i64,
    explanation: String,
    decline_reason: String,
    created_at: i64,
    sent_at: Option<i64>,
    answered_at: Option<i64>,
}

impl TryFrom<ProposalRow> for Proposal {
    type Error = StoreError;
    fn try_from(row: ProposalRow) -> Result<Self> {
        Ok(Proposal {
            id: row.id,
            cpts_id: CptsId(row.cpts_id),
            request_id: row.request_id,
            professional_id: row.professional_id,
            status: crate::error::decode("doctor_proposals.status", &row.status)?,
            distance_m: row.distance_m,
            priority: row.priority,
            explanation: row.explanation,
            decline_reason: row.decline_reason,
            created_at: row.created_at,
            sent_at: row.sent_at,
            answered_at: row.answered_at,
        })
    }
}

#[derive(FromRow)]
struct ProposalViewRow {
    #[sqlx(flatten)]
    proposal: ProposalRow,
    doctor_name: String,
    request_commune: String,
    age_at_request: i64,
    doctor_phone: String,
}

fn proposal_views(rows: Vec<ProposalViewRow>) -> Result<Vec<ProposalView>> {
    rows.into_iter()
        .map(|row| {
            Ok(ProposalView {
                proposal: row.proposal.try_into()?,
                doctor_name: row.doctor_name,
                request_commune: row.request_commune,
                age_at_request: row.age_at_request,
                doctor_phone: row.doctor_phone,
            })
        })
        .collect()
}

const PROPOSAL_COLUMNS: &str =
    "p.id, p.cpts_id, p.request_id, p.professional_id, p.status, p.distance_m, \
    p.priority, p.explanation, p.decline_reason, p.created_at, p.sent_at, p.answered_at";

fn proposal_view_sql(condition: &str) -> String {
    format!(
        "SELECT {PROPOSAL_COLUMNS}, (d.first_name || ' ' || d.last_name) AS doctor_name, \
         r.commune_code AS request_commune, r.age_at_request, \
         COALESCE(NULLIF(d.contact_phone, ''), (SELECT pl.phone FROM practice_places pl \
         WHERE pl.professional_id = d.id AND pl.phone <> '' ORDER BY pl.position LIMIT 1), '') AS doctor_phone \
         FROM doctor_proposals p JOIN professionals d ON d.id = p.professional_id \
         JOIN doctor_requests r ON r.id = p.request_id WHERE {condition}"
    )
}

const INSERT_PROPOSAL: &str =
    "INSERT INTO doctor_proposals (id, cpts_id, request_id, professional_id, status, \
    distance_m, priority, explanation, decline_reason, created_at) \
    SELECT $1, $2, $3, $4, 'draft', $5, $6, $7, '', $8 WHERE EXISTS \
    (SELECT 1 FROM doctor_requests WHERE cpts_id = $2 AND id = $3) \
    AND EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $2 AND id = $4)";

macro_rules! insert_proposal {
    ($tx:expr, $cpts:expr, $p:expr) => {
        sqlx::query(INSERT_PROPOSAL)
            .bind($p.id)
            .bind($cpts.0)
            .bind($p.request_id)
            .bind($p.professional_id)
            .bind($p.distance_m)
            .bind($p.priority)
            .bind(&$p.explanation)
            .bind($p.created_at)
            .execute($tx)
            .await
    };
}

#[async_trait]
pub trait ProposalStore: Send + Sync {
    // --- Proposals ---------------------------------------------------------------------------------
    /// Replaces the CPTS's draft proposals by a new matching's.
    async fn replace_draft_proposals(
        &self,
        cpts: CptsId,
        drafts: &[Proposal],
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn list_proposals(
        &self,
        cpts: CptsId,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>>;
    /// How many proposals were sent before `sent_before` and are still waiting for the GP's answer.
    async fn count_unanswered_proposals(&self, cpts: CptsId, sent_before: i64) -> Result<i64>;
    /// The proposals of `status` addressed to one GP, best first (what the GP's own page lists).
    async fn proposals_to_professional(
        &self,
        cpts: CptsId,
        professional: Uuid,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>>;
    async fn find_proposal(&self, cpts: CptsId, id: Uuid) -> Result<Option<Proposal>>;
    async fn proposals_of_request(&self, cpts: CptsId, request: Uuid) -> Result<Vec<ProposalView>>;
    /// Overrides a draft: another GP (with its distance), or none (the draft is dropped).
    async fn override_draft(
        &self,
        cpts: CptsId,
        id: Uuid,
        professional: Option<(Uuid, i64)>,
    ) -> Result<bool>;
    /// Creates a proposal outside any matching (the coordinator picks the GP), as a draft.
    async fn create_proposal(&self, proposal: &Proposal) -> Result<()>;
    /// Sends a draft: it gets its link's secret, the request moves to "proposed". False (and the draft
    /// cancelled) when the request is no longer waiting for a doctor.
    async fn send_proposal(
        &self,
        cpts: CptsId,
        id: Uuid,
        token_hash: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The proposal whose link has this secret, whatever its CPTS.
    async fn find_proposal_by_token(&self, token_hash: &str) -> Result<Option<ProposalView>>;
    /// The GP's answer: the proposal and the request move together; an acceptance takes one place.
    async fn answer_proposal(
        &self,
        proposal: &Proposal,
        accepted: bool,
        decline_reason: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// (request, GP) pairs already declined: the matching does not propose them again.
    async fn declined_pairs(&self, cpts: CptsId) -> Result<Vec<(Uuid, Uuid)>>;
}

#[async_trait]
impl ProposalStore for SqlStore {
    async fn replace_draft_proposals(
        &self,
        cpts: CptsId,
        drafts: &[Proposal],
        audit: &NewAuditEntry,
    ) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM doctor_proposals WHERE cpts_id = $1 AND status = 'draft'")
                .bind(cpts.0)
                .execute(&mut *tx)
                .await?;
            for draft in drafts {
                insert_proposal!(&mut *tx, cpts, draft)?;
            }
            tx.append_audit(&self.audit_keys, audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn list_proposals(
        &self,
        cpts: CptsId,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>> {
        let sql = format!(
            "{} ORDER BY p.priority DESC, p.distance_m, p.id LIMIT $3 OFFSET $4",
            proposal_view_sql("p.cpts_id = $1 AND p.status = $2")
        );
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(status.code())
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        proposal_views(rows)
    }

    async fn count_unanswered_proposals(&self, cpts: CptsId, sent_before: i64) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM doctor_proposals \
                   WHERE cpts_id = $1 AND status = 'sent' AND sent_at < $2";
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .bind(sent_before)
            .fetch_one(pool)
            .await)?)
    }

    async fn proposals_to_professional(
        &self,
        cpts: CptsId,
        professional: Uuid,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>> {
        let sql = format!(
            "{} ORDER BY p.priority DESC, p.distance_m, p.id LIMIT $4 OFFSET $5",
            proposal_view_sql("p.cpts_id = $1 AND p.status = $2 AND p.professional_id = $3")
        );
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(status.code())
            .bind(professional)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        proposal_views(rows)
    }

    async fn find_proposal(&self, cpts: CptsId, id: Uuid) -> Result<Option<Proposal>> {
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM doctor_proposals p WHERE p.cpts_id = $1 AND p.id = $2"
        );
        let row: Option<ProposalRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn proposals_of_request(&self, cpts: CptsId, request: Uuid) -> Result<Vec<ProposalView>> {
        let sql = format!(
            "{} ORDER BY p.created_at, p.id LIMIT 100",
            proposal_view_sql("p.cpts_id = $1 AND p.request_id = $2")
        );
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(request)
            .fetch_all(pool)
            .await)?;
        proposal_views(rows)
    }

    async fn override_draft(
        &self,
        cpts: CptsId,
        id: Uuid,
        professional: Option<(Uuid, i64)>,
    ) -> Result<bool> {
        let done = match professional {
            Some((doctor, distance_m)) => {
                let sql = "UPDATE doctor_proposals SET professional_id = $3, distance_m = $4 \
                           WHERE cpts_id = $1 AND id = $2 AND status = 'draft' \
                           AND EXISTS (SELECT 1 FROM professionals WHERE cpts_id = $1 AND id = $3)";
                on_pool!(self, pool => sqlx::query(sql)
                    .bind(cpts.0)
                    .bind(id)
                    .bind(doctor)
                    .bind(distance_m)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?
            }
            None => {
                let sql = "DELETE FROM doctor_proposals WHERE cpts_id = $1 AND id = $2 AND status = 'draft'";
                on_pool!(self, pool => sqlx::query(sql)
                    .bind(cpts.0)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected()))?
            }
        };
        Ok(done == 1)
    }

    async fn create_proposal(&self, proposal: &Proposal) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_proposal!(&mut *tx, proposal.cpts_id, proposal)?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn send_proposal(
        &self,
        cpts: CptsId,
        id: Uuid,
        token_hash: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let find = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM doctor_proposals p WHERE p.cpts_id = $1 AND p.id = $2 AND p.status = 'draft'"
        );
        let move_request =
            "UPDATE doctor_requests SET state = 'proposed', state_since = $3, updated_at = $3, \
                            professional_id = $4, outcome = '' WHERE cpts_id = $1 AND id = $2 \
                            AND state IN ('qualified', 'declined')";
        let mark_sent =
            "UPDATE doctor_proposals SET status = 'sent', token_hash = $3, sent_at = $4 \
                         WHERE cpts_id = $1 AND id = $2";
        let cancel = "UPDATE doctor_proposals SET status = 'cancelled', answered_at = $3 WHERE cpts_id = $1 AND id = $2";
        let sent = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let row: Option<ProposalRow> = sqlx::query_as(&find)
                .bind(cpts.0)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let sent = match row {
                None => false,
                Some(row) => {
                    let moved = sqlx::query(move_request)
                        .bind(cpts.0)
                        .bind(row.request_id)
                        .bind(event.at)
                        .bind(row.professional_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() == 1;
                    if moved {
                        sqlx::query(mark_sent)
                            .bind(cpts.0)
                            .bind(id)
                            .bind(token_hash)
                            .bind(event.at)
                            .execute(&mut *tx)
                            .await?;
                        insert_event!(&mut *tx, cpts, row.request_id, event)?;
                    } else {
                        sqlx::query(cancel)
                            .bind(cpts.0)
                            .bind(id)
                            .bind(event.at)
                            .execute(&mut *tx)
                            .await?;
                    }
                    moved
                }
            };
            // A draft cancelled because its request moved on is no proposal sent: nothing to audit.
            if sent {
                tx.append_audit(&self.audit_keys, audit).await?;
            }
            tx.commit().await?;
            sent
        });
        Ok(sent)
    }

    async fn find_proposal_by_token(&self, token_hash: &str) -> Result<Option<ProposalView>> {
        let sql = proposal_view_sql("p.token_hash = $1");
        let rows: Vec<ProposalViewRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_all(pool)
            .await)?;
        Ok(proposal_views(rows)?.into_iter().next())
    }

    async fn answer_proposal(
        &self,
        proposal: &Proposal,
        accepted: bool,
        decline_reason: &str,
        event: &RequestEvent,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let cpts = proposal.cpts_id;
        let status = if accepted { "accepted" } else { "declined" };
        let answer =
            "UPDATE doctor_proposals SET status = $3, decline_reason = $4, answered_at = $5 \
                      WHERE cpts_id = $1 AND id = $2 AND status = 'sent'";
        let move_request = "UPDATE doctor_requests SET state = $4, state_since = $5, updated_at = $5, outcome = $6 \
                            WHERE cpts_id = $1 AND id = $2 AND state = 'proposed' AND professional_id = $3";
        let take_place = "UPDATE gp_capacities SET now_capacity = CASE WHEN now_capacity > 0 THEN now_capacity - 1 \
                          ELSE 0 END WHERE cpts_id = $1 AND professional_id = $2";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let answered = sqlx::query(answer)
                .bind(cpts.0)
                .bind(proposal.id)
                .bind(status)
                .bind(decline_reason)
                .bind(event.at)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            if answered {
                sqlx::query(move_request)
                    .bind(cpts.0)
                    .bind(proposal.request_id)
                    .bind(proposal.professional_id)
                    .bind(status)
                    .bind(event.at)
                    .bind(decline_reason)
                    .execute(&mut *tx)
                    .await?;
                if accepted {
                    sqlx::query(take_place)
                        .bind(cpts.0)
                        .bind(proposal.professional_id)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_event!(&mut *tx, cpts, proposal.request_id, event)?;
                tx.append_audit(&self.audit_keys, audit).await?;
                tx.commit().await?;
            }
            answered
        });
        Ok(done)
    }

    async fn declined_pairs(&self, cpts: CptsId) -> Result<Vec<(Uuid, Uuid)>> {
        let sql = "SELECT p.request_id, p.professional_id FROM doctor_proposals p JOIN doctor_requests r \
                   ON r.id = p.request_id WHERE p.cpts_id = $1 AND p.status = 'declined' \
                   AND r.state IN ('qualified', 'declined')";
        let rows: Vec<(Uuid, Uuid)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}

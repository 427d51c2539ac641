//! The care pathways' figures of a period, counted in the database (nothing loaded row by row): inclusions
//! per template, and per template and step how many steps there are, are due, were done, done within their
//! window, cancelled, and — for screenings — filled and positive.

use crate::models::*;
use crate::sql::{on_pool, SqlStore};
use crate::Result;
use async_trait::async_trait;
use sqlx::FromRow;

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct InclusionCount {
    pub template_code: String,
    pub inclusions: i64,
}

/// One step of one template, over the inclusions of the period.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StepCount {
    pub template_code: String,
    pub step_code: String,
    pub label: String,
    pub steps: i64,
    /// Not cancelled, and done or past their window on the day asked: the denominator of "done in time".
    pub due: i64,
    pub done: i64,
    pub on_time: i64,
    pub cancelled: i64,
    pub results: i64,
    pub positive: i64,
}

#[async_trait]
pub trait PathwayFigureStore: Send + Sync {
    /// Inclusions of the CPTS whose inclusion day is in `from..=to` (`YYYY-MM-DD`), per template.
    async fn pathway_inclusion_counts(
        &self,
        cpts: CptsId,
        from: &str,
        to: &str,
    ) -> Result<Vec<InclusionCount>>;
    /// The steps of those inclusions per template and step code, as they stand on `today`.
    async fn pathway_step_counts(
        &self,
        cpts: CptsId,
        from: &str,
        to: &str,
        today: &str,
    ) -> Result<Vec<StepCount>>;
}

#[async_trait]
impl PathwayFigureStore for SqlStore {
    async fn pathway_inclusion_counts(
        &self,
        cpts: CptsId,
        from: &str,
        to: &str,
    ) -> Result<Vec<InclusionCount>> {
        let sql = "SELECT template_code, COUNT(*) AS inclusions FROM pathway_inclusions \
                   WHERE cpts_id = $1 AND included_on >= $2 AND included_on <= $3 \
                   GROUP BY template_code ORDER BY template_code";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)?)
    }

    async fn pathway_step_counts(
        &self,
        cpts: CptsId,
        from: &str,
        to: &str,
        today: &str,
    ) -> Result<Vec<StepCount>> {
        let sql = "SELECT i.template_code, s.code AS step_code, MIN(s.label) AS label, COUNT(*) AS steps, \
                   SUM(CASE WHEN s.cancelled_reason IS NULL AND (s.done_on IS NOT NULL OR s.latest < $4) \
                       THEN 1 ELSE 0 END) AS due, \
                   SUM(CASE WHEN s.done_on IS NOT NULL THEN 1 ELSE 0 END) AS done, \
                   SUM(CASE WHEN s.done_on IS NOT NULL AND s.done_on <= s.latest THEN 1 ELSE 0 END) AS on_time, \
                   SUM(CASE WHEN s.cancelled_reason IS NOT NULL THEN 1 ELSE 0 END) AS cancelled, \
                   SUM(CASE WHEN s.result IS NOT NULL THEN 1 ELSE 0 END) AS results, \
                   SUM(CASE WHEN s.result_positive THEN 1 ELSE 0 END) AS positive \
                   FROM pathway_steps s JOIN pathway_inclusions i ON i.id = s.inclusion_id \
                   WHERE i.cpts_id = $1 AND i.included_on >= $2 AND i.included_on <= $3 \
                   GROUP BY i.template_code, s.code ORDER BY i.template_code, MIN(s.position)";
        Ok(on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(from)
            .bind(to)
            .bind(today)
            .fetch_all(pool)
            .await)?)
    }
}

//! Care pathway templates of a CPTS, version by version: a version once written never changes (a patient
//! included with it keeps it); a new one is written with its audit entry in one transaction.

use crate::audit::commit_audited;
use crate::models::*;
use crate::sql::{on_pool, BeginWrite, SqlStore};
use crate::Result;
use async_trait::async_trait;
use sqlx::FromRow;
use uuid::Uuid;

/// One version of a template, its body the JSON the domain checked.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PathwayTemplateVersion {
    pub code: String,
    pub version: i64,
    pub name: String,
    pub body: String,
    pub created_by: Option<Uuid>,
    pub created_at: i64,
}

#[async_trait]
pub trait PathwayTemplateStore: Send + Sync {
    /// Writes a new version with its audit entry; false when that version exists already (nothing written).
    async fn save_pathway_template(
        &self,
        cpts: CptsId,
        version: &PathwayTemplateVersion,
        audit: &NewAuditEntry,
    ) -> Result<bool>;
    /// The newest version of each of the CPTS's templates, by name.
    async fn latest_pathway_templates(
        &self,
        cpts: CptsId,
        page: Page,
    ) -> Result<Vec<PathwayTemplateVersion>>;
    /// One version of a template (None: the newest).
    async fn pathway_template(
        &self,
        cpts: CptsId,
        code: &str,
        version: Option<i64>,
    ) -> Result<Option<PathwayTemplateVersion>>;
    /// Replaces the CPTS's wording of an instrument's items with these (item code, text), with the audit entry.
    async fn save_instrument_wording(
        &self,
        cpts: CptsId,
        instrument: &str,
        wording: &[(String, String)],
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    /// The CPTS's wording of an instrument's items (item code, text); empty when none was loaded.
    async fn instrument_wording(
        &self,
        cpts: CptsId,
        instrument: &str,
    ) -> Result<Vec<(String, String)>>;
}

const COLUMNS: &str = "code, version, name, body, created_by, created_at";

#[async_trait]
impl PathwayTemplateStore for SqlStore {
    async fn save_pathway_template(
        &self,
        cpts: CptsId,
        version: &PathwayTemplateVersion,
        audit: &NewAuditEntry,
    ) -> Result<bool> {
        let insert = "INSERT INTO pathway_templates (cpts_id, code, version, name, body, created_by, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let written = sqlx::query(insert)
                .bind(cpts.0)
                .bind(&version.code)
                .bind(version.version)
                .bind(&version.name)
                .bind(&version.body)
                .bind(version.created_by)
                .bind(version.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1;
            commit_audited!(self, tx, written, audit)
        })
    }

    async fn latest_pathway_templates(
        &self,
        cpts: CptsId,
        page: Page,
    ) -> Result<Vec<PathwayTemplateVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pathway_templates t WHERE cpts_id = $1 AND version = \
             (SELECT MAX(version) FROM pathway_templates n WHERE n.cpts_id = t.cpts_id AND n.code = t.code) \
             ORDER BY name, code LIMIT $2 OFFSET $3"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?)
    }

    async fn pathway_template(
        &self,
        cpts: CptsId,
        code: &str,
        version: Option<i64>,
    ) -> Result<Option<PathwayTemplateVersion>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pathway_templates WHERE cpts_id = $1 AND code = $2 \
             AND ($3 IS NULL OR version = $3) ORDER BY version DESC LIMIT 1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(cpts.0)
            .bind(code)
            .bind(version)
            .fetch_optional(pool)
            .await)?)
    }

    async fn save_instrument_wording(
        &self,
        cpts: CptsId,
        instrument: &str,
        wording: &[(String, String)],
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let clear = "DELETE FROM instrument_wordings WHERE cpts_id = $1 AND instrument = $2";
        let insert =
            "INSERT INTO instrument_wordings (cpts_id, instrument, item_code, wording, loaded_at) \
                      VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(clear).bind(cpts.0).bind(instrument).execute(&mut *tx).await?;
            for (code, text) in wording {
                sqlx::query(insert)
                    .bind(cpts.0)
                    .bind(instrument)
                    .bind(code)
                    .bind(text)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            commit_audited!(self, tx, true, audit)
        })?;
        Ok(())
    }

    async fn instrument_wording(
        &self,
        cpts: CptsId,
        instrument: &str,
    ) -> Result<Vec<(String, String)>> {
        let sql = "SELECT item_code, wording FROM instrument_wordings WHERE cpts_id = $1 AND instrument = $2";
        Ok(
            on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).bind(instrument).fetch_all(pool).await)?,
        )
    }
}

//! GPs' declared room for new patients: saved with its audit entry, listed for the coordinator and the
//! matching, and the stale ones found for their reminder.

use super::*;

/// What a GP declared about taking new patients.
#[derive(Debug, Clone, PartialEq)]
pub struct GpCapacity {
    pub professional_id: Uuid,
    pub now_capacity: i64,
    pub later_capacity: i64,
    /// INSEE codes, `;`-separated; empty: any commune within the distance.
    pub communes: String,
    pub max_distance_km: Option<i64>,
    /// Codes of `AGE_GROUPS`, `;`-separated.
    pub age_groups: String,
    pub home_visits: bool,
    pub updated_at: i64,
    pub updated_by: Option<UserId>,
}

/// A declaration with who made it, for the coordinator's table and the matching.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityEntry {
    pub capacity: GpCapacity,
    pub name: String,
    pub commune_code: String,
    /// Proposals sent and not answered yet: they hold a place.
    pub pending: i64,
}

/// A capacity not refreshed for long: its GP is reminded.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleCapacity {
    pub cpts_id: CptsId,
    pub cpts_slug: String,
    pub professional_id: Uuid,
    pub email: Option<String>,
    pub updated_at: i64,
}

#[derive(FromRow)]
struct CapacityRow {
    professional_id: Uuid,
    now_capacity: i64,
    later_capacity: i64,
    communes: String,
    max_distance_km: Option<i64>,
    age_groups: String,
    home_visits: bool,
    updated_at: i64,
    updated_by: Option<Uuid>,
}

impl From<CapacityRow> for GpCapacity {
    fn from(row: CapacityRow) -> Self {
        GpCapacity {
            professional_id: row.professional_id,
            now_capacity: row.now_capacity,
            later_capacity: row.later_capacity,
            communes: row.communes,
            max_distance_km: row.max_distance_km,
            age_groups: row.age_groups,
            home_visits: row.home_visits,
            updated_at: row.updated_at,
            updated_by: row.updated_by.map(UserId),
        }
    }
}

#[derive(FromRow)]
struct CapacityEntryRow {
    #[sqlx(flatten)]
    capacity: CapacityRow,
    name: String,
    commune_code: Option<String>,
    pending: i64,
}

#[async_trait]
pub trait GpCapacityStore: Send + Sync {
    async fn save_capacity(
        &self,
        cpts: CptsId,
        capacity: &GpCapacity,
        audit: &NewAuditEntry,
    ) -> Result<()>;
    async fn find_capacity(&self, cpts: CptsId, professional: Uuid) -> Result<Option<GpCapacity>>;
    /// Every declaration of the CPTS (a few hundred GPs at most), names and communes joined.
    async fn list_capacities(&self, cpts: CptsId, page: Page) -> Result<Vec<CapacityEntry>>;
    /// Declarations older than `before` whose GP was not reminded since `before`, any CPTS.
    async fn stale_capacities(&self, before: i64, limit: i64) -> Result<Vec<StaleCapacity>>;
    /// How many of the CPTS's declarations were last updated before `before`.
    async fn count_stale_capacities(&self, cpts: CptsId, before: i64) -> Result<i64>;
    async fn mark_capacity_reminded(
        &self,
        cpts: CptsId,
        professional: Uuid,
        now: i64,
    ) -> Result<()>;
}

#[async_trait]
impl GpCapacityStore for SqlStore {
    async fn save_capacity(
        &self,
        cpts: CptsId,
        capacity: &GpCapacity,
        audit: &NewAuditEntry,
    ) -> Result<()> {
        let sql = "INSERT INTO gp_capacities (cpts_id, professional_id, now_capacity, later_capacity, communes, \
                   max_distance_km, age_groups, home_visits, updated_at, updated_by) \
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM professionals WHERE cpts_id = $1 AND id = $2 \
                   ON CONFLICT (cpts_id, professional_id) DO UPDATE SET now_capacity = excluded.now_capacity, \
                   later_capacity = excluded.later_capacity, communes = excluded.communes, \
                   max_distance_km = excluded.max_distance_km, age_groups = excluded.age_groups, \
                   home_visits = excluded.home_visits, updated_at = excluded.updated_at, \
                   updated_by = excluded.updated_by, reminded_at = NULL";
        let c = capacity;
        let saved = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(cpts.0)
                .bind(c.professional_id)
                .bind(c.now_capacity)
                .bind(c.later_capacity)
                .bind(&c.communes)
                .bind(c.max_distance_km)
                .bind(&c.age_groups)
                .bind(c.home_visits)
                .bind(c.updated_at)
                .bind(c.updated_by.map(|u| u.0))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            commit_audited!(self, tx, done == 1, audit)?
        });
        if !saved {
            return Err(StoreError::NotFound("professional"));
        }
        Ok(())
    }

    async fn find_capacity(&self, cpts: CptsId, professional: Uuid) -> Result<Option<GpCapacity>> {
        let sql = "SELECT professional_id, now_capacity, later_capacity, communes, max_distance_km, age_groups, \
                   home_visits, updated_at, updated_by FROM gp_capacities WHERE cpts_id = $1 AND professional_id = $2";
        let row: Option<CapacityRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(professional)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Into::into))
    }

    async fn list_capacities(&self, cpts: CptsId, page: Page) -> Result<Vec<CapacityEntry>> {
        let sql = "SELECT c.professional_id, c.now_capacity, c.later_capacity, c.communes, c.max_distance_km, \
                   c.age_groups, c.home_visits, c.updated_at, c.updated_by, \
                   (p.first_name || ' ' || p.last_name) AS name, \
                   (SELECT pp.commune_code FROM practice_places pp WHERE pp.professional_id = p.id \
                    AND pp.commune_code <> '' ORDER BY pp.position LIMIT 1) AS commune_code, \
                   (SELECT COUNT(*) FROM doctor_proposals dp WHERE dp.professional_id = p.id \
                    AND dp.status = 'sent') AS pending \
                   FROM gp_capacities c JOIN professionals p ON p.id = c.professional_id \
                   WHERE c.cpts_id = $1 ORDER BY p.last_name, p.first_name, p.id LIMIT $2 OFFSET $3";
        let rows: Vec<CapacityEntryRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|row| CapacityEntry {
                capacity: row.capacity.into(),
                name: row.name,
                commune_code: row.commune_code.unwrap_or_default(),
                pending: row.pending,
            })
            .collect())
    }

    async fn count_stale_capacities(&self, cpts: CptsId, before: i64) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM gp_capacities WHERE cpts_id = $1 AND updated_at < $2";
        Ok(on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(cpts.0)
            .bind(before)
            .fetch_one(pool)
            .await)?)
    }

    async fn stale_capacities(&self, before: i64, limit: i64) -> Result<Vec<StaleCapacity>> {
        let sql = "SELECT c.cpts_id, k.slug, c.professional_id, c.updated_at FROM gp_capacities c \
                   JOIN cpts k ON k.id = c.cpts_id \
                   WHERE c.updated_at < $1 AND (c.reminded_at IS NULL OR c.reminded_at < $1) \
                   ORDER BY c.updated_at LIMIT $2";
        let rows: Vec<(Uuid, String, Uuid, i64)> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        let mut stale = Vec::with_capacity(rows.len());
        for (cpts, slug, professional, updated_at) in rows {
            stale.push(StaleCapacity {
                cpts_id: CptsId(cpts),
                cpts_slug: slug,
                professional_id: professional,
                email: self.professional_email(CptsId(cpts), professional).await?,
                updated_at,
            });
        }
        Ok(stale)
    }

    async fn mark_capacity_reminded(
        &self,
        cpts: CptsId,
        professional: Uuid,
        now: i64,
    ) -> Result<()> {
        let sql =
            "UPDATE gp_capacities SET reminded_at = $3 WHERE cpts_id = $1 AND professional_id = $2";
        on_pool!(self, pool => sqlx::query(sql)
            .bind(cpts.0)
            .bind(professional)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

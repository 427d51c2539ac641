//! The directory's counts for the territory's diagnostic: professionals by category, members, GPs by age,
//! and the national references, with the planner's statistics.

use super::*;

/// Professionals counted in a national extract, per area (`FR` or a département) and category (a profession
/// code, or `MG` for general practitioners).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReferenceCount {
    pub area: String,
    pub category: String,
    pub professionals: i64,
}

/// Professionals of the directory counted per category (profession code, or `MG`) and commune.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DirectoryCount {
    pub category: String,
    pub commune_code: String,
    pub professionals: i64,
    pub members: i64,
}

#[async_trait]
pub trait DirectoryCountStore: Send + Sync {
    /// Counts for the diagnostic, per category and commune of practice (a professional practising in two
    /// communes counts in each).
    async fn directory_counts(&self, cpts: CptsId) -> Result<Vec<DirectoryCount>>;
    /// Distinct professionals and members per category on the whole territory.
    async fn directory_totals(&self, cpts: CptsId) -> Result<Vec<DirectoryCount>>;
    /// General practitioners: (with a known birth year, born in `born_before_or_in` or earlier).
    async fn general_practitioners_by_age(
        &self,
        cpts: CptsId,
        born_before_or_in: i64,
    ) -> Result<(i64, i64)>;
    async fn reference_counts(&self, cpts: CptsId) -> Result<Vec<ReferenceCount>>;
    /// Refreshes the planner's statistics of the directory tables after a large import, so that searches
    /// start from the word index rather than scanning in name order (SQLite keeps no statistics otherwise).
    async fn refresh_directory_statistics(&self) -> Result<()>;
}

#[async_trait]
impl DirectoryCountStore for SqlStore {
    async fn directory_counts(&self, cpts: CptsId) -> Result<Vec<DirectoryCount>> {
        // One row per professional and commune, then grouped; general practitioners are counted again as `MG`.
        let sql = "SELECT category, commune_code, COUNT(*) AS professionals, \
                   SUM(CASE WHEN member THEN 1 ELSE 0 END) AS members FROM ( \
                     SELECT DISTINCT p.id, p.profession_code AS category, pl.commune_code, p.member \
                     FROM professionals p JOIN practice_places pl ON pl.professional_id = p.id WHERE p.cpts_id = $1 \
                     UNION ALL \
                     SELECT DISTINCT p.id, 'MG' AS category, pl.commune_code, p.member \
                     FROM professionals p JOIN practice_places pl ON pl.professional_id = p.id \
                     WHERE p.cpts_id = $1 AND p.general_practitioner = TRUE \
                   ) per_commune GROUP BY category, commune_code ORDER BY category, commune_code";
        let rows: Vec<DirectoryCount> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).fetch_all(pool).await)?;
        Ok(rows)
    }

    async fn directory_totals(&self, cpts: CptsId) -> Result<Vec<DirectoryCount>> {
        let sql = "SELECT category, '' AS commune_code, COUNT(*) AS professionals, \
                   SUM(CASE WHEN member THEN 1 ELSE 0 END) AS members FROM ( \
                     SELECT p.profession_code AS category, p.member FROM professionals p WHERE p.cpts_id = $1 \
                     UNION ALL \
                     SELECT 'MG' AS category, p.member FROM professionals p \
                     WHERE p.cpts_id = $1 AND p.general_practitioner = TRUE \
                   ) everyone GROUP BY category ORDER BY category";
        let rows: Vec<DirectoryCount> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).fetch_all(pool).await)?;
        Ok(rows)
    }

    async fn general_practitioners_by_age(
        &self,
        cpts: CptsId,
        born_before_or_in: i64,
    ) -> Result<(i64, i64)> {
        let sql = "SELECT COUNT(birth_year), COALESCE(SUM(CASE WHEN birth_year <= $2 THEN 1 ELSE 0 END), 0) \
                   FROM professionals WHERE cpts_id = $1 AND general_practitioner = TRUE";
        let counts: (i64, i64) = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(cpts.0)
            .bind(born_before_or_in)
            .fetch_one(pool)
            .await)?;
        Ok(counts)
    }

    async fn reference_counts(&self, cpts: CptsId) -> Result<Vec<ReferenceCount>> {
        let sql =
            "SELECT area, category, professionals FROM directory_reference WHERE cpts_id = $1 \
                   ORDER BY area, category";
        let rows: Vec<ReferenceCount> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(cpts.0).fetch_all(pool).await)?;
        Ok(rows)
    }

    async fn refresh_directory_statistics(&self) -> Result<()> {
        on_pool!(self, pool => {
            for table in ["professionals", "practice_places", "professional_words"] {
                sqlx::query(&format!("ANALYZE {table}")).execute(pool).await?;
            }
            Ok::<(), sqlx::Error>(())
        })?;
        Ok(())
    }
}

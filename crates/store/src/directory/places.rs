//! The practice places of professionals, in the order the directory lists them (the SAS reads one agenda per
//! place of practice).

use super::*;

/// A professional's practice places, first (position 0) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacesOf {
    pub professional_id: Uuid,
    pub places: Vec<PracticePlace>,
}

#[derive(FromRow)]
struct PlaceLine {
    professional_id: Uuid,
    structure_name: String,
    siret: String,
    finess: String,
    address: String,
    postal_code: String,
    commune_code: String,
    phone: String,
    email: String,
}

#[async_trait]
pub trait PracticePlaceStore: Send + Sync {
    /// The places of these professionals of the CPTS (at most 500 professionals), each professional once, in
    /// the order asked; a professional without a place is left out.
    async fn practice_places_of(
        &self,
        cpts: CptsId,
        professionals: &[Uuid],
    ) -> Result<Vec<PlacesOf>>;
}

#[async_trait]
impl PracticePlaceStore for SqlStore {
    async fn practice_places_of(
        &self,
        cpts: CptsId,
        professionals: &[Uuid],
    ) -> Result<Vec<PlacesOf>> {
        let wanted: Vec<&Uuid> = professionals.iter().take(500).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..wanted.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT pl.professional_id, pl.structure_name, pl.siret, pl.finess, pl.address, pl.postal_code, \
             pl.commune_code, pl.phone, pl.email FROM practice_places pl \
             JOIN professionals p ON p.id = pl.professional_id \
             WHERE p.cpts_id = $1 AND pl.professional_id IN ({}) ORDER BY pl.professional_id, pl.position",
            list.join(", ")
        );
        let rows: Vec<PlaceLine> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql).bind(cpts.0);
            for id in &wanted {
                q = q.bind(**id);
            }
            q.fetch_all(pool).await
        })?;
        let mut found: Vec<PlacesOf> = Vec::new();
        for row in rows {
            let place = PracticePlace {
                name: row.structure_name,
                siret: row.siret,
                finess: row.finess,
                address: row.address,
                postal_code: row.postal_code,
                commune_code: row.commune_code,
                phone: row.phone,
                email: row.email,
            };
            match found.last_mut() {
                Some(last) if last.professional_id == row.professional_id => {
                    last.places.push(place)
                }
                _ => found.push(PlacesOf {
                    professional_id: row.professional_id,
                    places: vec![place],
                }),
            }
        }
        found.sort_by_key(|p| wanted.iter().position(|id| **id == p.professional_id));
        Ok(found)
    }
}

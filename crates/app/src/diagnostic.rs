//! The territorial diagnostic a CPTS writes in its health project: professionals by profession and commune,
//! densities per 10,000 inhabitants compared with the département and France, general practitioners aged 60
//! and over, communes without a general practitioner, and members' representativeness.
//!
//! Densities use the populations of the reference communes table and, for the département and France, the
//! professionals counted in the last national extract imported (`directory_reference`).

use maillage_domain::identifiers::InseeCode;
use maillage_domain::professional::profession_label;
use maillage_domain::territory::{self, Commune};
use maillage_store::{CptsId, Store, StoreError, GENERAL_PRACTICE};
use std::collections::{BTreeMap, HashMap};

/// Below this many professionals counted in France, the imported extract is not the national one (a sample,
/// a regional file): comparing with the département and France would mislead, so the diagnostic does not.
pub const NATIONAL_MINIMUM: i64 = 50_000;

/// Age from which a general practitioner is counted in the retirement watch.
pub const RETIREMENT_WATCH_AGE: i64 = 60;

/// A density per 10,000 inhabitants.
pub fn density(professionals: i64, population: u64) -> Option<f64> {
    (population > 0).then(|| professionals as f64 * 10_000.0 / population as f64)
}

/// A share in percent.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[derive(Debug, Clone, PartialEq)]
pub struct CategoryLine {
    /// Profession code, or `MG` for general practitioners.
    pub category: String,
    pub label: String,
    pub professionals: i64,
    pub members: i64,
    pub density: Option<f64>,
    pub departement_professionals: Option<i64>,
    pub departement_density: Option<f64>,
    pub france_professionals: Option<i64>,
    pub france_density: Option<f64>,
    /// Members ÷ professionals on the territory, in percent.
    pub representativeness: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommuneLine {
    pub code: String,
    pub name: String,
    pub population: u64,
    /// Professionals practising in the commune, per category.
    pub professionals: BTreeMap<String, i64>,
}

impl CommuneLine {
    pub fn count(&self, category: &str) -> i64 {
        self.professionals.get(category).copied().unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub population: u64,
    /// The département holding most of the territory's population, its population.
    pub departement: Option<(String, u64)>,
    pub france_population: u64,
    /// Whether the national extract was imported (the comparisons need it).
    pub has_reference: bool,
    /// Professionals counted in France by the last extract imported (all professions).
    pub reference_professionals: i64,
    pub categories: Vec<CategoryLine>,
    pub communes: Vec<CommuneLine>,
    pub general_practitioners: i64,
    pub gps_with_birth_year: i64,
    pub gps_aged_60_plus: i64,
    pub total_professionals: i64,
    pub total_members: i64,
}

impl Diagnostic {
    pub fn communes_without_gp(&self) -> Vec<&CommuneLine> {
        self.communes
            .iter()
            .filter(|c| c.count(GENERAL_PRACTICE) == 0)
            .collect()
    }

    pub fn share_gps_aged_60_plus(&self) -> Option<f64> {
        percent(self.gps_aged_60_plus, self.gps_with_birth_year)
    }
}

pub fn category_label(category: &str) -> String {
    match category {
        GENERAL_PRACTICE => "Médecins généralistes".to_string(),
        "10" => "Médecins (toutes spécialités)".to_string(),
        code => profession_label(code)
            .map(|label| format!("{label}s"))
            .unwrap_or_else(|| format!("Profession {code}")),
    }
}

/// Order of the categories on the page: general practitioners first, then the usual professions.
fn category_rank(category: &str) -> usize {
    const ORDER: [&str; 10] = [
        GENERAL_PRACTICE,
        "10",
        "60",
        "70",
        "40",
        "21",
        "50",
        "91",
        "80",
        "92",
    ];
    ORDER
        .iter()
        .position(|c| *c == category)
        .unwrap_or(ORDER.len())
}

fn france_population() -> u64 {
    territory::communes().iter().map(|c| c.population).sum()
}

fn departement_population(code: &str) -> u64 {
    territory::communes()
        .iter()
        .filter(|c| c.departement == code)
        .map(|c| c.population)
        .sum()
}

pub async fn compute(
    store: &dyn Store,
    cpts: CptsId,
    current_year: i64,
) -> Result<Diagnostic, StoreError> {
    let communes: Vec<&'static Commune> = store
        .territory(cpts)
        .await?
        .iter()
        .filter_map(|code| InseeCode::parse(code).ok())
        .filter_map(|code| territory::find(&code))
        .collect();
    let population: u64 = communes.iter().map(|c| c.population).sum();
    let mut by_departement: HashMap<&str, u64> = HashMap::new();
    for commune in &communes {
        *by_departement
            .entry(commune.departement.as_str())
            .or_default() += commune.population;
    }
    let departement = by_departement
        .into_iter()
        .max_by_key(|(code, population)| (*population, std::cmp::Reverse(code.to_string())))
        .map(|(code, _)| (code.to_string(), departement_population(code)));
    let mut reference: HashMap<(String, String), i64> = store
        .reference_counts(cpts)
        .await?
        .into_iter()
        .map(|r| ((r.area, r.category), r.professionals))
        .collect();
    let reference_professionals: i64 = reference
        .iter()
        .filter(|((area, category), _)| area == "FR" && category != GENERAL_PRACTICE)
        .map(|(_, count)| count)
        .sum();
    if reference_professionals < NATIONAL_MINIMUM {
        reference.clear();
    }
    let france_population = france_population();
    let mut categories: Vec<CategoryLine> = store
        .directory_totals(cpts)
        .await?
        .into_iter()
        .map(|total| {
            let departement_professionals = departement.as_ref().and_then(|(code, _)| {
                reference
                    .get(&(code.clone(), total.category.clone()))
                    .copied()
            });
            let france_professionals = reference
                .get(&("FR".to_string(), total.category.clone()))
                .copied();
            CategoryLine {
                label: category_label(&total.category),
                density: density(total.professionals, population),
                departement_density: departement_professionals
                    .zip(departement.as_ref())
                    .and_then(|(count, (_, population))| density(count, *population)),
                france_density: france_professionals
                    .and_then(|count| density(count, france_population)),
                departement_professionals,
                france_professionals,
                representativeness: percent(total.members, total.professionals),
                category: total.category,
                professionals: total.professionals,
                members: total.members,
            }
        })
        .collect();
    categories.sort_by_key(|c| (category_rank(&c.category), c.category.clone()));
    let mut per_commune: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
    for count in store.directory_counts(cpts).await? {
        per_commune
            .entry(count.commune_code)
            .or_default()
            .insert(count.category, count.professionals);
    }
    let mut commune_lines: Vec<CommuneLine> = communes
        .iter()
        .map(|c| CommuneLine {
            code: c.code.clone(),
            name: c.name.clone(),
            population: c.population,
            professionals: per_commune.remove(&c.code).unwrap_or_default(),
        })
        .collect();
    commune_lines.sort_by(|a, b| b.population.cmp(&a.population).then(a.code.cmp(&b.code)));
    let (gps_with_birth_year, gps_aged_60_plus) = store
        .general_practitioners_by_age(cpts, current_year - RETIREMENT_WATCH_AGE)
        .await?;
    let general_practitioners = categories
        .iter()
        .find(|c| c.category == GENERAL_PRACTICE)
        .map_or(0, |c| c.professionals);
    let (total_professionals, total_members) = categories
        .iter()
        .filter(|c| c.category != GENERAL_PRACTICE)
        .fold((0, 0), |(p, m), c| (p + c.professionals, m + c.members));
    Ok(Diagnostic {
        population,
        departement,
        france_population,
        has_reference: !reference.is_empty(),
        reference_professionals,
        categories,
        communes: commune_lines,
        general_practitioners,
        gps_with_birth_year,
        gps_aged_60_plus,
        total_professionals,
        total_members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn densities_and_shares() {
        assert_eq!(
            density(27, 54_291).map(|d| (d * 100.0).round() / 100.0),
            Some(4.97)
        );
        assert_eq!(density(1, 0), None);
        assert_eq!(percent(1, 4), Some(25.0));
        assert_eq!(percent(1, 0), None);
    }

    #[test]
    fn general_practitioners_come_first() {
        let mut categories = vec!["60", "MG", "99", "10"];
        categories.sort_by_key(|c| category_rank(c));
        assert_eq!(categories, vec!["MG", "10", "60", "99"]);
        assert_eq!(category_label("60"), "Infirmiers");
    }
}

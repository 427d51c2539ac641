//! The territory: every French commune (compiled into the binary from `data/communes.csv`, see
//! `data/PROVENANCE.md`), commune search, the population of a list of communes and its ACI size category,
//! and great-circle distances.

use crate::identifiers::{InseeCode, ValidationError};
use crate::text::fold;
use serde::Serialize;
use std::sync::OnceLock;

const COMMUNES_CSV: &str = include_str!("../../../data/communes.csv");

/// Mean Earth radius used for distances, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Commune {
    pub code: String,
    pub name: String,
    pub postal_codes: Vec<String>,
    pub population: u64,
    pub departement: String,
    pub region: String,
    /// SIREN of the commune's EPCI (intercommunality), when it belongs to one.
    pub epci: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[serde(skip)]
    folded_name: String,
}

impl Commune {
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }
}

fn parse_line(line: &str) -> Option<Commune> {
    let fields: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    // Names never contain commas in the source; a line that does not split in nine fields is skipped.
    let [code, name, postal, population, departement, region, epci, latitude, longitude] =
        fields.as_slice()
    else {
        return None;
    };
    Some(Commune {
        code: code.to_string(),
        name: name.to_string(),
        postal_codes: postal.split_whitespace().map(str::to_string).collect(),
        population: population.parse().unwrap_or(0),
        departement: departement.to_string(),
        region: region.to_string(),
        epci: epci.to_string(),
        // Two communes of the source have `nan` coordinates: unknown, not a number to compute with.
        latitude: latitude.parse().ok().filter(|v: &f64| v.is_finite()),
        longitude: longitude.parse().ok().filter(|v: &f64| v.is_finite()),
        folded_name: fold(name),
    })
}

/// Every commune, sorted by INSEE code. Parsed once, on first use.
pub fn communes() -> &'static [Commune] {
    static COMMUNES: OnceLock<Vec<Commune>> = OnceLock::new();
    COMMUNES.get_or_init(|| {
        let mut all: Vec<Commune> = COMMUNES_CSV
            .lines()
            .skip(1)
            .filter_map(parse_line)
            .collect();
        all.sort_by(|a, b| a.code.cmp(&b.code));
        all
    })
}

/// The commune of a code given as text (no validation: an unknown or malformed code finds nothing). For hot
/// loops such as reading the national extract, where building an [`InseeCode`] per row would allocate.
pub fn find_code(code: &str) -> Option<&'static Commune> {
    let all = communes();
    all.binary_search_by(|c| c.code.as_str().cmp(code))
        .ok()
        .map(|i| &all[i])
}

/// The name of the commune of a code written as text (checked as an INSEE code first), if it exists.
pub fn commune_name(code: &str) -> Option<&'static str> {
    InseeCode::parse(code)
        .ok()
        .and_then(|code| find(&code))
        .map(|c| c.name.as_str())
}

pub fn find(code: &InseeCode) -> Option<&'static Commune> {
    let all = communes();
    all.binary_search_by(|c| c.code.as_str().cmp(code.as_str()))
        .ok()
        .map(|i| &all[i])
}

/// The one commune a person means by what she typed in a list or a form: its INSEE code (first), else its
/// postal code or its name (accents, case and hyphens ignored). When a postal code or a name fits several communes, the
/// refusal names them (with their department) so that the line can be corrected.
pub fn resolve_commune(
    field: &'static str,
    text: &str,
) -> Result<&'static Commune, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValidationError::new(
            field,
            "obligatoire (code INSEE, code postal ou nom)",
        ));
    }
    // An INSEE code first: lists and forms carry it, and five digits that are one commune's INSEE code
    // may be another's postal code (30220 is Roquedur's code and Aigues-Mortes's postal code).
    if let Some(commune) = InseeCode::parse(text).ok().and_then(|code| find(&code)) {
        return Ok(commune);
    }
    let digits = text.chars().all(|c| c.is_ascii_digit());
    let matching: Vec<&'static Commune> = if digits {
        communes()
            .iter()
            .filter(|c| c.postal_codes.iter().any(|p| p == text))
            .collect()
    } else {
        let folded = fold(text);
        communes()
            .iter()
            .filter(|c| c.folded_name == folded)
            .collect()
    };
    match matching.as_slice() {
        [one] => Ok(one),
        [] if digits => Err(ValidationError::new(
            field,
            format!("« {text} » : aucune commune n'a ce code INSEE ni ce code postal"),
        )),
        [] => Err(ValidationError::new(
            field,
            format!("« {text} » : aucune commune de ce nom (vérifiez l'orthographe, ou donnez le code INSEE)"),
        )),
        several => {
            let named: Vec<String> = several
                .iter()
                .take(6)
                .map(|c| format!("{} ({}, INSEE {})", c.name, c.departement, c.code))
                .collect();
            Err(ValidationError::new(
                field,
                format!(
                    "« {text} » désigne {} communes : {}{} — donnez le code INSEE",
                    several.len(),
                    named.join(", "),
                    if several.len() > 6 { ", …" } else { "" }
                ),
            ))
        }
    }
}

/// Communes matching `query`: by postal code (or INSEE code) when it is digits, otherwise by name, accents and
/// case ignored. Names that start with the query come first, then larger communes.
pub fn search(query: &str, limit: usize) -> Vec<&'static Commune> {
    let query = query.trim();
    if query.is_empty() || limit == 0 {
        return Vec::new();
    }
    let by_number = query.len() >= 2
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'A' || c == 'B' || c == 'a' || c == 'b');
    let mut found: Vec<(u8, &'static Commune)> = if by_number {
        let upper = query.to_ascii_uppercase();
        communes()
            .iter()
            .filter_map(|c| {
                if c.code == upper || c.postal_codes.iter().any(|p| p == &upper) {
                    Some((0, c))
                } else if c.postal_codes.iter().any(|p| p.starts_with(&upper))
                    || c.code.starts_with(&upper)
                {
                    Some((1, c))
                } else {
                    None
                }
            })
            .collect()
    } else {
        let folded = fold(query);
        if folded.is_empty() {
            return Vec::new();
        }
        communes()
            .iter()
            .filter_map(|c| {
                if c.folded_name == folded {
                    Some((0, c))
                } else if c.folded_name.starts_with(&folded) {
                    Some((1, c))
                } else if c.folded_name.contains(&folded) {
                    Some((2, c))
                } else {
                    None
                }
            })
            .collect()
    };
    found.sort_by(|(rank_a, a), (rank_b, b)| {
        rank_a
            .cmp(rank_b)
            .then(b.population.cmp(&a.population))
            .then(a.code.cmp(&b.code))
    });
    found.into_iter().take(limit).map(|(_, c)| c).collect()
}

/// Size category of a CPTS under the ACI, from its population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "u8")]
pub enum SizeCategory {
    One,
    Two,
    Three,
    Four,
}

impl From<SizeCategory> for u8 {
    fn from(category: SizeCategory) -> u8 {
        category.number()
    }
}

impl SizeCategory {
    pub fn number(self) -> u8 {
        match self {
            SizeCategory::One => 1,
            SizeCategory::Two => 2,
            SizeCategory::Three => 3,
            SizeCategory::Four => 4,
        }
    }
}

/// Population thresholds between the size categories (ACI 2019: 40,000, 80,000 and 175,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SizeThresholds(pub [u64; 3]);

impl Default for SizeThresholds {
    fn default() -> Self {
        Self([40_000, 80_000, 175_000])
    }
}

impl SizeThresholds {
    /// Category 1 below the first threshold; 2 from it and below the second; 3 from the second up to and
    /// including the third; 4 above the third ("> 175,000").
    pub fn category(&self, population: u64) -> SizeCategory {
        let [first, second, third] = self.0;
        if population < first {
            SizeCategory::One
        } else if population < second {
            SizeCategory::Two
        } else if population <= third {
            SizeCategory::Three
        } else {
            SizeCategory::Four
        }
    }

    pub fn check(&self) -> Result<(), ValidationError> {
        let [first, second, third] = self.0;
        if first == 0 || first >= second || second >= third {
            return Err(ValidationError::new(
                "seuils de taille",
                "trois populations croissantes sont attendues, par exemple 40000, 80000, 175000",
            ));
        }
        Ok(())
    }
}

/// A code that was asked for and is not a commune, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownCode {
    pub code: String,
    pub reason: String,
}

/// The communes of a list of INSEE codes, with their total population and size category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationReport {
    pub communes: Vec<&'static Commune>,
    pub unknown: Vec<UnknownCode>,
    pub population: u64,
    pub size_category: SizeCategory,
}

/// Looks up every code; malformed and unknown codes are reported, never ignored; a repeated code counts once.
pub fn population_of<S: AsRef<str>>(codes: &[S], thresholds: &SizeThresholds) -> PopulationReport {
    let mut found: Vec<&'static Commune> = Vec::new();
    let mut unknown = Vec::new();
    for raw in codes {
        let raw = raw.as_ref().trim();
        match InseeCode::parse(raw) {
            Err(error) => unknown.push(UnknownCode {
                code: raw.to_string(),
                reason: error.message,
            }),
            Ok(code) => match find(&code) {
                Some(commune) if !found.iter().any(|c| c.code == commune.code) => {
                    found.push(commune)
                }
                Some(_) => {}
                None => unknown.push(UnknownCode {
                    code: code.to_string(),
                    reason: format!("aucune commune actuelle n'a le code INSEE {code}"),
                }),
            },
        }
    }
    let population = found.iter().map(|c| c.population).sum();
    PopulationReport {
        size_category: thresholds.category(population),
        communes: found,
        unknown,
        population,
    }
}

/// Great-circle distance (haversine) between two points given in degrees.
pub fn distance_km(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let a = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: [&str; 10] = [
        "30003", "30006", "30020", "30033", "30036", "30128", "30059", "30169", "30276", "30341",
    ];

    #[test]
    fn coordinates_are_finite_or_absent() {
        assert!(communes()
            .iter()
            .filter_map(Commune::coordinates)
            .all(|(lat, lon)| lat.is_finite() && lon.is_finite()));
        assert_eq!(find_code("56098").and_then(Commune::coordinates), None);
    }

    #[test]
    fn the_whole_table_is_compiled_in() {
        assert_eq!(communes().len(), 34_969);
        let vauvert = find(&InseeCode::parse("30341").unwrap()).unwrap();
        assert_eq!(vauvert.name, "Vauvert");
        assert_eq!(vauvert.postal_codes, vec!["30600"]);
        assert_eq!(vauvert.departement, "30");
        assert!(vauvert.coordinates().is_some());
        assert_eq!(
            find(&InseeCode::parse("2A004").unwrap()).unwrap().name,
            "Ajaccio"
        );
    }

    #[test]
    fn the_demo_territory_is_size_category_two() {
        let report = population_of(&DEMO, &SizeThresholds::default());
        assert_eq!(report.communes.len(), 10);
        assert!(report.unknown.is_empty());
        assert_eq!(
            report.population, 54_291,
            "INSEE 2026 populations of the ten communes"
        );
        assert_eq!(report.size_category, SizeCategory::Two);
    }

    #[test]
    fn unknown_and_malformed_codes_are_reported() {
        let report = population_of(
            &["30341", "99999", "3034", "30341", "75015"],
            &SizeThresholds::default(),
        );
        assert_eq!(report.communes.len(), 1, "a repeated code counts once");
        let codes: Vec<&str> = report.unknown.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes, vec!["99999", "3034", "75015"]);
        assert!(report.unknown[1].reason.contains("5 caractères"));
        assert!(
            report.unknown[2].reason.contains("aucune commune"),
            "75015 is a postal code, not an INSEE code"
        );
    }

    #[test]
    fn size_categories_follow_the_aci_thresholds() {
        let t = SizeThresholds::default();
        assert_eq!(t.category(39_999), SizeCategory::One);
        assert_eq!(t.category(40_000), SizeCategory::Two);
        assert_eq!(t.category(79_999), SizeCategory::Two);
        assert_eq!(t.category(80_000), SizeCategory::Three);
        assert_eq!(t.category(175_000), SizeCategory::Three);
        assert_eq!(t.category(175_001), SizeCategory::Four);
        assert!(SizeThresholds([10, 5, 20]).check().is_err());
    }

    #[test]
    fn search_ignores_accents_and_finds_postal_codes() {
        assert_eq!(search("generac", 5)[0].code, "30128");
        assert_eq!(search("SAINT LAURENT D'AIGOUZE", 5)[0].code, "30276");
        let by_postal: Vec<&str> = search("30220", 10)
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        assert!(
            by_postal.contains(&"30003") && by_postal.contains(&"30276"),
            "{by_postal:?}"
        );
        assert_eq!(search("Paris", 1)[0].code, "75056");
        assert!(search("", 5).is_empty());
        assert!(search("zzzzzz", 5).is_empty());
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let paris = (48.85091, 2.35373);
        let marseille = (43.2976, 5.36943);
        let d = distance_km(paris, marseille);
        assert!((d - 661.0).abs() < 5.0, "{d}");
        assert_eq!(distance_km(paris, paris), 0.0);
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::resolve_commune;

    #[test]
    fn a_commune_is_found_by_insee_code_postal_code_or_name_and_ambiguities_are_named() {
        assert_eq!(
            resolve_commune("Commune", "30003").unwrap().name,
            "Aigues-Mortes"
        );
        assert_eq!(resolve_commune("Commune", "2A004").unwrap().name, "Ajaccio");
        assert_eq!(
            resolve_commune("Commune", "aigues mortes").unwrap().code,
            "30003"
        );
        // An INSEE code wins over the same digits as another commune's postal code.
        assert_eq!(
            resolve_commune("Commune", "30220").unwrap().name,
            "Roquedur"
        );
        assert_eq!(
            resolve_commune("Commune", "30133").unwrap().name,
            "Le Grau-du-Roi"
        );
        // A postal code of one commune, one shared by several (both named), a name borne in several places.
        assert_eq!(
            resolve_commune("Commune", "30480").unwrap_err().field,
            "Commune"
        );
        let shared = resolve_commune("Commune", "30600").unwrap_err();
        assert!(
            shared.message.contains("Vauvert") && shared.message.contains("Vestric"),
            "{}",
            shared.message
        );
        let homonyms = resolve_commune("Commune", "Saint-Laurent-d'Olt").map(|c| c.code.clone());
        assert!(homonyms.is_ok(), "{homonyms:?}");
        let many = resolve_commune("Commune", "Saint-Martin").unwrap_err();
        assert!(many.message.contains("désigne"), "{}", many.message);
        assert!(resolve_commune("Commune", "Nulle-Part-sur-Mer").is_err());
        assert!(resolve_commune("Commune", "").is_err());
    }
}

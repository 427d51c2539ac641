//! Structures of the territory (hospitals, EHPAD, MSP, pharmacies, town halls…) and the public FINESS
//! extraction they are imported from.

use crate::directory::commune_of;
use crate::identifiers::{Finess, InseeCode, ValidationError};
use serde::{Deserialize, Serialize};

/// Kinds of structures a CPTS works with: code, French label, FINESS categories (`categetab`) that map to it.
pub const KINDS: [(&str, &str, &[&str]); 27] = [
    (
        "hopital",
        "Hôpital (centre hospitalier)",
        &["101", "106", "355", "362", "292", "114"],
    ),
    ("clinique", "Clinique", &["365", "128", "129", "122"]),
    ("smr", "Soins médicaux et de réadaptation (SMR)", &["109"]),
    ("had", "Hospitalisation à domicile (HAD)", &["127"]),
    ("ehpad", "EHPAD", &["500"]),
    (
        "residence_autonomie",
        "Résidence autonomie",
        &["202", "501"],
    ),
    (
        "ssiad",
        "Service de soins infirmiers à domicile (SSIAD)",
        &["354"],
    ),
    ("saad", "Service d'aide à domicile (SAAD)", &["460"]),
    (
        "spasad",
        "Service polyvalent d'aide et de soins à domicile",
        &["209"],
    ),
    ("dac", "Dispositif d'appui à la coordination (DAC)", &[]),
    ("cmp", "Centre médico-psychologique (CMP)", &["156"]),
    ("cmpp", "Centre médico-psycho-pédagogique (CMPP)", &["189"]),
    (
        "camsp",
        "Centre d'action médico-sociale précoce (CAMSP)",
        &["190"],
    ),
    ("ime", "Institut médico-éducatif (IME)", &["183"]),
    ("esat", "ESAT", &["246"]),
    (
        "msp",
        "Maison de santé pluriprofessionnelle (mono-site)",
        &["603"],
    ),
    (
        "msp_multisite",
        "Maison de santé pluriprofessionnelle (multi-sites)",
        &[],
    ),
    ("esp", "Équipe de soins primaires (ESP)", &[]),
    ("centre_sante", "Centre de santé", &["124"]),
    ("pharmacie", "Pharmacie d'officine", &["620"]),
    (
        "laboratoire",
        "Laboratoire de biologie médicale",
        &["610", "611"],
    ),
    ("pmi", "Protection maternelle et infantile (PMI)", &[]),
    ("ccas", "CCAS", &[]),
    ("mairie", "Mairie", &[]),
    ("association", "Association", &[]),
    ("etablissement_scolaire", "Établissement scolaire", &[]),
    ("autre", "Autre structure", &[]),
];

pub fn kind_label(code: &str) -> Option<&'static str> {
    KINDS.iter().find(|k| k.0 == code).map(|k| k.1)
}

/// The kind of a FINESS category, `autre` when Maillage does not know it (the category label is kept).
pub fn kind_of_finess_category(category: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.2.contains(&category))
        .map(|k| k.0)
        .unwrap_or("autre")
}

/// Services and specifics a structure may offer (EHPAD units, temporary stays, walk-in care…).
pub const SERVICES: [(&str, &str); 11] = [
    ("unite_alzheimer", "Unité Alzheimer (unité protégée)"),
    ("pasa", "PASA (pôle d'activités et de soins adaptés)"),
    ("uhr", "UHR (unité d'hébergement renforcé)"),
    ("accueil_de_jour", "Accueil de jour"),
    ("hebergement_temporaire", "Hébergement temporaire"),
    ("hebergement_urgence", "Hébergement d'urgence"),
    ("soins_non_programmes", "Soins non programmés"),
    ("teleconsultation", "Téléconsultation"),
    ("imagerie", "Imagerie"),
    ("soins_palliatifs", "Soins palliatifs"),
    ("urgences", "Service d'urgences"),
];

pub fn service_label(code: &str) -> Option<&'static str> {
    SERVICES.iter().find(|s| s.0 == code).map(|s| s.1)
}

/// Where the CPTS stands with a structure.
pub const PARTNER_STATUSES: [(&str, &str); 4] = [
    ("none", "Aucun lien"),
    ("contact", "En contact"),
    ("partner", "Partenaire"),
    ("member", "Adhérente de la CPTS"),
];

pub fn partner_status_label(code: &str) -> Option<&'static str> {
    PARTNER_STATUSES.iter().find(|s| s.0 == code).map(|s| s.1)
}

/// A date written `AAAA-MM-JJ` (HTML date inputs) or `JJ/MM/AAAA` (French spreadsheets), returned as
/// `AAAA-MM-JJ`.
pub fn parse_date(field: &'static str, text: &str) -> Result<Option<String>, ValidationError> {
    match text.trim() {
        "" => Ok(None),
        text => crate::calendar::Day::parse(field, text).map(|day| Some(day.iso())),
    }
}

/// One establishment of the FINESS extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinessEstablishment {
    pub finess: String,
    /// FINESS of the legal entity.
    pub legal_finess: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub commune_code: String,
    pub phone: String,
    pub category: String,
    pub category_label: String,
    pub siret: String,
}

/// Field positions of a `structureet` line of the public FINESS extraction (etalab, `;`-separated).
mod column {
    pub const FINESS: usize = 1;
    pub const LEGAL_FINESS: usize = 2;
    pub const SHORT_NAME: usize = 3;
    pub const LONG_NAME: usize = 4;
    pub const NUMBER: usize = 7;
    pub const STREET_TYPE: usize = 8;
    pub const STREET: usize = 9;
    pub const COMMUNE: usize = 12;
    pub const DEPARTEMENT: usize = 13;
    pub const DELIVERY: usize = 15;
    pub const PHONE: usize = 16;
    pub const CATEGORY: usize = 18;
    pub const CATEGORY_LABEL: usize = 19;
    pub const SIRET: usize = 22;
    pub const COUNT: usize = 32;
}

/// What one line of the FINESS extraction is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinessLine {
    /// The first line: `finess;etalab;…`.
    Header,
    Establishment(Box<FinessEstablishment>),
    /// Geolocation lines and others Maillage does not use.
    Other,
}

/// FINESS writes overseas départements with a letter (`9A` Guadeloupe… `9F` Mayotte).
fn insee_departement(code: &str) -> String {
    match code {
        "9A" => "971".into(),
        "9B" => "972".into(),
        "9C" => "973".into(),
        "9D" => "974".into(),
        "9E" => "975".into(),
        "9F" => "976".into(),
        other => other.to_string(),
    }
}

impl FinessLine {
    /// Classifies one record of the extraction (its fields) and reads an establishment.
    pub fn parse(fields: &[String]) -> Result<Self, ValidationError> {
        match fields.first().map(String::as_str) {
            Some("finess") => return Ok(FinessLine::Header),
            Some("structureet") => {}
            _ => return Ok(FinessLine::Other),
        }
        if fields.len() < column::COUNT {
            return Err(ValidationError::new(
                "ligne",
                format!("{} champs au lieu de {}", fields.len(), column::COUNT),
            ));
        }
        let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or_default();
        let finess = Finess::parse(get(column::FINESS))
            .map_err(|e| ValidationError::new("nofinesset", e.message))?;
        let departement = insee_departement(get(column::DEPARTEMENT));
        let commune_part = get(column::COMMUNE);
        let tail = commune_part
            .get(
                commune_part
                    .len()
                    .saturating_sub(5 - departement.len().min(5))..,
            )
            .unwrap_or_default();
        let insee = format!("{departement}{tail}");
        let delivery = get(column::DELIVERY);
        let postal: String = delivery.chars().take(5).collect();
        let (commune_code, postal_code) = match InseeCode::parse(&insee) {
            Ok(code) if crate::territory::find(&code).is_some() => (insee, postal),
            _ => commune_of("", &postal, delivery, delivery.get(6..).unwrap_or_default()),
        };
        let name = match get(column::LONG_NAME) {
            "" => get(column::SHORT_NAME),
            long => long,
        };
        if name.is_empty() {
            return Err(ValidationError::new("rs", "raison sociale vide"));
        }
        let address = [
            get(column::NUMBER),
            get(column::STREET_TYPE),
            get(column::STREET),
        ]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
        Ok(FinessLine::Establishment(Box::new(FinessEstablishment {
            finess: finess.as_str().to_string(),
            legal_finess: get(column::LEGAL_FINESS).to_string(),
            name: name.to_string(),
            address,
            postal_code,
            commune_code,
            phone: get(column::PHONE).to_string(),
            category: get(column::CATEGORY).to_string(),
            category_label: get(column::CATEGORY_LABEL).to_string(),
            siret: get(column::SIRET).to_string(),
        })))
    }
}

/// A `structureet` line in the extraction's layout, for tests and the synthetic generator.
#[allow(clippy::too_many_arguments)]
pub fn finess_line(
    finess: &str,
    name: &str,
    street: &str,
    commune_code: &str,
    postal_and_city: &str,
    phone: &str,
    category: (&str, &str),
    siret: &str,
) -> String {
    let (departement, commune) = if commune_code.starts_with("97") {
        let letter = match commune_code.as_bytes().get(2) {
            Some(b'1') => "9A",
            Some(b'2') => "9B",
            Some(b'3') => "9C",
            Some(b'4') => "9D",
            Some(b'6') => "9F",
            _ => "9E",
        };
        (
            letter.to_string(),
            commune_code.get(2..).unwrap_or_default().to_string(),
        )
    } else {
        (
            commune_code.get(..2).unwrap_or_default().to_string(),
            commune_code.get(2..).unwrap_or_default().to_string(),
        )
    };
    let mut cells = vec![String::new(); column::COUNT];
    cells[0] = "structureet".into();
    cells[column::FINESS] = finess.into();
    cells[column::SHORT_NAME] = name.chars().take(38).collect();
    cells[column::LONG_NAME] = name.into();
    cells[column::NUMBER] = "1".into();
    cells[column::STREET_TYPE] = "R".into();
    cells[column::STREET] = street.into();
    cells[column::COMMUNE] = commune;
    cells[column::DEPARTEMENT] = departement;
    cells[column::DELIVERY] = postal_and_city.into();
    cells[column::PHONE] = phone.into();
    cells[column::CATEGORY] = category.0.into();
    cells[column::CATEGORY_LABEL] = category.1.into();
    cells[column::SIRET] = siret.into();
    cells.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::split_semicolons;

    #[test]
    fn an_establishment_line_is_read() {
        let line = finess_line(
            &crate::identifiers::with_luhn_key("30000000"),
            "EHPAD LES FLAMANTS",
            "DES SALINS",
            "30003",
            "30220 AIGUES MORTES",
            "0466000000",
            ("500", "EHPAD"),
            "",
        );
        let FinessLine::Establishment(e) = FinessLine::parse(&split_semicolons(&line)).unwrap()
        else {
            panic!("not an establishment")
        };
        assert_eq!(e.finess, crate::identifiers::with_luhn_key("30000000"));
        assert_eq!(e.commune_code, "30003");
        assert_eq!(e.postal_code, "30220");
        assert_eq!(e.address, "1 R DES SALINS");
        assert_eq!(kind_of_finess_category(&e.category), "ehpad");
    }

    #[test]
    fn overseas_and_corsican_communes_are_rebuilt() {
        let finess = crate::identifiers::with_luhn_key("2A000000");
        for (code, postal) in [("97101", "97139 LES ABYMES"), ("2A004", "20000 AJACCIO")] {
            let line = finess_line(
                &finess,
                "X",
                "Y",
                code,
                postal,
                "",
                ("124", "Centre de santé"),
                "",
            );
            let FinessLine::Establishment(e) = FinessLine::parse(&split_semicolons(&line)).unwrap()
            else {
                panic!("not an establishment")
            };
            assert_eq!(e.commune_code, code);
            assert_eq!(e.finess, finess);
        }
    }

    #[test]
    fn bad_lines_name_their_field() {
        let mut wrong = crate::identifiers::with_luhn_key("30000000");
        wrong.replace_range(8.., if wrong.ends_with('9') { "0" } else { "9" });
        let mut line = finess_line(
            &wrong,
            "X",
            "Y",
            "30003",
            "30220 AIGUES MORTES",
            "",
            ("500", "EHPAD"),
            "",
        );
        assert_eq!(
            FinessLine::parse(&split_semicolons(&line))
                .unwrap_err()
                .field,
            "nofinesset"
        );
        line = "structureet;300000007;".into();
        assert_eq!(
            FinessLine::parse(&split_semicolons(&line))
                .unwrap_err()
                .field,
            "ligne"
        );
        assert_eq!(
            FinessLine::parse(&split_semicolons("finess;etalab;95;2026-11-01")).unwrap(),
            FinessLine::Header
        );
        assert_eq!(
            FinessLine::parse(&split_semicolons("geolocalisation;300000007;1;2")).unwrap(),
            FinessLine::Other
        );
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(
            parse_date("d", "2026-02-28").unwrap().as_deref(),
            Some("2026-02-28")
        );
        assert_eq!(
            parse_date("d", "29/02/2028").unwrap().as_deref(),
            Some("2028-02-29")
        );
        assert_eq!(parse_date("d", "").unwrap(), None);
        assert!(parse_date("d", "2026-02-30").is_err());
        assert!(parse_date("d", "31/04/2026").is_err());
        assert!(parse_date("d", "demain").is_err());
        // A day that does not exist is named as such, not as a badly written date.
        let inexistent = parse_date("Date de naissance", "31/02/2026").unwrap_err();
        assert!(
            inexistent.to_string().contains("n'existe pas"),
            "{inexistent}"
        );
        assert!(
            inexistent.to_string().contains("Date de naissance"),
            "{inexistent}"
        );
        assert!(parse_date("d", "demain")
            .unwrap_err()
            .to_string()
            .contains("JJ/MM/AAAA"));
    }
}

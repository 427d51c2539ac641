//! The directory of health professionals: the national directory's public extract
//! (`PS_LibreAcces_Personne_activite`, one row per activity, `|`-separated with a trailing `|`), parsed
//! line by line into activities and grouped into professionals.

use crate::identifiers::{luhn_valid, InseeCode, ValidationError};
use crate::territory;
use serde::{Deserialize, Serialize};

/// The header line of the extract, exactly as published (52 columns and a trailing `|`).
pub const EXTRACT_HEADER: &str = "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|Code profession|Libellé profession|Code catégorie professionnelle|Libellé catégorie professionnelle|Code type savoir-faire|Libellé type savoir-faire|Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|Numéro FINESS établissement juridique|Identifiant technique de la structure|Raison sociale site|Enseigne commerciale site|Complément destinataire (coord. structure)|Complément point géographique (coord. structure)|Numéro Voie (coord. structure)|Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|Mention distribution (coord. structure)|Bureau cedex (coord. structure)|Code postal (coord. structure)|Code commune (coord. structure)|Libellé commune (coord. structure)|Code pays (coord. structure)|Libellé pays (coord. structure)|Téléphone (coord. structure)|Téléphone 2 (coord. structure)|Télécopie (coord. structure)|Adresse e-mail (coord. structure)|Code Département (structure)|Libellé Département (structure)|Ancien identifiant de la structure|Autorité d'enregistrement|Code secteur d'activité|Libellé secteur d'activité|Code section tableau pharmaciens|Libellé section tableau pharmaciens|";

/// Columns Maillage reads, by their header names in the extract.
const COLUMNS: [&str; 21] = [
    "Type d'identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Libellé civilité d'exercice",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Numéro SIRET site",
    "Numéro FINESS site",
    "Raison sociale site",
    "Enseigne commerciale site",
    "Numéro Voie (coord. structure)",
    "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)",
    "Code commune (coord. structure)",
    "Libellé commune (coord. structure)",
];
const PHONE: &str = "Téléphone (coord. structure)";
const SPECIALTY_CODE: &str = "Code savoir-faire";
const EMAIL: &str = "Adresse e-mail (coord. structure)";

/// Where each needed column is in this file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractHeader {
    positions: Vec<usize>,
    phone: Option<usize>,
    email: Option<usize>,
    specialty_code: Option<usize>,
}

/// Bytes of a line as text: UTF-8 when valid, otherwise Windows-1252 (older extracts, Excel), without its
/// line ending or a leading byte-order mark.
pub fn decode_line(bytes: &[u8]) -> String {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    let text = crate::text::decode_text(trimmed);
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

fn fields(line: &str) -> Vec<&str> {
    let line = line.strip_suffix('|').unwrap_or(line);
    line.split('|').map(str::trim).collect()
}

impl ExtractHeader {
    pub fn parse(line: &str) -> Result<Self, ValidationError> {
        let names = fields(line);
        let find = |wanted: &str| names.iter().position(|n| n.eq_ignore_ascii_case(wanted));
        let mut positions = Vec::with_capacity(COLUMNS.len());
        for column in COLUMNS {
            positions.push(find(column).ok_or_else(|| {
                ValidationError::new(
                    "en-tête",
                    format!("la colonne « {column} » manque : ce fichier n'est pas une extraction PS_LibreAcces_Personne_activite"),
                )
            })?);
        }
        Ok(Self {
            positions,
            phone: find(PHONE),
            email: find(EMAIL),
            specialty_code: find(SPECIALTY_CODE),
        })
    }
}

/// How the professional is identified in the national directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersonId {
    Rpps(String),
    Adeli(String),
}

impl PersonId {
    pub fn kind(&self) -> &'static str {
        match self {
            PersonId::Rpps(_) => "RPPS",
            PersonId::Adeli(_) => "ADELI",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            PersonId::Rpps(v) | PersonId::Adeli(v) => v,
        }
    }
}

/// One row: one activity of one professional at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub person: PersonId,
    /// "Identification nationale PP": `8`+RPPS or `0`+ADELI, unique for the person.
    pub national_id: String,
    /// False when the RPPS fails the Luhn check (some published numbers do): kept, with a warning.
    pub checksum_ok: bool,
    pub civility: String,
    pub last_name: String,
    pub first_name: String,
    pub profession_code: String,
    pub profession_label: String,
    pub specialty: String,
    /// Code of the savoir-faire (`SM54` médecine générale…), when the file has the column.
    pub specialty_code: String,
    /// `L` libéral, `S` salarié, `B` bénévole.
    pub mode_code: String,
    pub place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Place {
    pub name: String,
    pub siret: String,
    pub finess: String,
    pub address: String,
    pub postal_code: String,
    /// INSEE code of the commune, found from the postal code when the extract leaves it empty.
    pub commune_code: String,
    pub phone: String,
    pub email: String,
}

/// Why a line was not imported, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: &'static str,
    pub message: String,
}

fn reject(field: &'static str, message: impl Into<String>) -> RowError {
    RowError {
        field,
        message: message.into(),
    }
}

/// The commune of a row: its code, or when the extract leaves it empty, the commune of the postal code found
/// in "Code postal" or at the start of "Bureau cedex" ("75015 PARIS"), told apart by name when the postal
/// code covers several communes.
pub(crate) fn commune_of(code: &str, postal: &str, cedex: &str, label: &str) -> (String, String) {
    let mut cedex_words = cedex.split_whitespace();
    let cedex_postal = cedex_words.next().unwrap_or_default();
    let cedex_name = cedex_words.collect::<Vec<_>>().join(" ");
    let postal = if postal.is_empty() {
        cedex_postal
    } else {
        postal
    };
    if let Ok(code) = InseeCode::parse(code) {
        return (code.to_string(), postal.to_string());
    }
    let candidates: Vec<&territory::Commune> = territory::communes()
        .iter()
        .filter(|c| !postal.is_empty() && c.postal_codes.iter().any(|p| p == postal))
        .collect();
    let named = |name: &str| {
        let folded = crate::text::fold(name.trim_end_matches(" CEDEX").trim_end_matches(" Cedex"));
        candidates
            .iter()
            .find(|c| !folded.is_empty() && crate::text::fold(&c.name) == folded)
    };
    let chosen = match candidates.as_slice() {
        [only] => Some(*only),
        _ => named(label).or_else(|| named(&cedex_name)).copied(),
    };
    (
        chosen.map(|c| c.code.clone()).unwrap_or_default(),
        postal.to_string(),
    )
}

impl Activity {
    pub fn parse(line: &str, header: &ExtractHeader) -> Result<Self, RowError> {
        let values = fields(line);
        let get = |i: usize| -> &str {
            header
                .positions
                .get(i)
                .and_then(|p| values.get(*p))
                .copied()
                .unwrap_or_default()
        };
        if values.len() <= header.positions.iter().copied().max().unwrap_or(0) {
            return Err(reject(
                "ligne",
                format!(
                    "{} colonnes au lieu d'au moins {}",
                    values.len(),
                    header.positions.iter().max().unwrap_or(&0) + 1
                ),
            ));
        }
        let identifier = get(1);
        let (person, checksum_ok) = match get(0) {
            "8" => {
                if identifier.len() != 11 || !identifier.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(reject(
                        "Identifiant PP",
                        format!("« {identifier} » : un RPPS a 11 chiffres"),
                    ));
                }
                (
                    PersonId::Rpps(identifier.to_string()),
                    luhn_valid(identifier),
                )
            }
            "0" => {
                if identifier.len() != 9 || !identifier.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(reject(
                        "Identifiant PP",
                        format!("« {identifier} » : un ADELI a 9 caractères"),
                    ));
                }
                (PersonId::Adeli(identifier.to_string()), true)
            }
            other => {
                return Err(reject(
                    "Type d'identifiant PP",
                    format!("« {other} » : 8 (RPPS) ou 0 (ADELI) attendu"),
                ))
            }
        };
        let national_id = match get(2) {
            "" => format!("{}{identifier}", get(0)),
            id => id.to_string(),
        };
        let last_name = get(4);
        if last_name.is_empty() {
            return Err(reject("Nom d'exercice", "vide"));
        }
        let profession_code = get(6);
        if profession_code.is_empty() {
            return Err(reject("Code profession", "vide"));
        }
        let address = [get(14), get(15), get(16)]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let (commune_code, postal_code) = commune_of(get(19), get(18), get(17), get(20));
        let optional = |position: Option<usize>| {
            position
                .and_then(|p| values.get(p))
                .copied()
                .unwrap_or_default()
                .to_string()
        };
        let name = match get(12) {
            "" => get(13),
            name => name,
        };
        Ok(Activity {
            person,
            national_id,
            checksum_ok,
            civility: get(3).to_string(),
            last_name: last_name.to_string(),
            first_name: get(5).to_string(),
            profession_code: profession_code.to_string(),
            profession_label: get(7).to_string(),
            specialty: get(8).to_string(),
            specialty_code: optional(header.specialty_code),
            mode_code: get(9).to_string(),
            place: Place {
                name: name.to_string(),
                siret: get(10).to_string(),
                finess: get(11).to_string(),
                address,
                postal_code,
                commune_code,
                phone: optional(header.phone),
                email: optional(header.email),
            },
        })
    }
}

/// Whether an activity is general practice: a physician (profession `10`) whose savoir-faire is médecine
/// générale (`SM54`, or a label saying so, as older files and some qualifications only give the label).
pub fn is_general_practice(profession_code: &str, specialty_code: &str, specialty: &str) -> bool {
    profession_code == "10"
        && (specialty_code == "SM54" || crate::text::fold(specialty).contains("medecine generale"))
}

/// How a professional practises, from the modes of all their activities.
pub fn practice_mode(modes: &[&str]) -> &'static str {
    let liberal = modes.contains(&"L");
    let salaried = modes.contains(&"S");
    match (liberal, salaried) {
        (true, true) => "mixte",
        (true, false) => "libéral",
        (false, true) => "salarié",
        (false, false) => "autre",
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A row in the extract's exact layout (52 columns and the trailing `|`), fictitious person.
    pub fn row(
        id_type: &str,
        id: &str,
        name: &str,
        profession: (&str, &str),
        commune: &str,
        postal: &str,
        cedex: &str,
    ) -> String {
        let mut cells = vec![""; 52];
        cells[0] = id_type;
        cells[1] = id;
        cells[4] = "Docteur";
        cells[7] = name;
        cells[8] = "Camille";
        cells[9] = profession.0;
        cells[10] = profession.1;
        cells[16] = "Qualifié en Médecine Générale";
        cells[17] = "L";
        cells[24] = "CABINET DU PORT";
        cells[28] = "12";
        cells[31] = "Rue";
        cells[32] = "des Flamants";
        cells[34] = cedex;
        cells[35] = postal;
        cells[36] = commune;
        cells[40] = "0466000000";
        format!("{}|", cells.join("|"))
    }

    fn header() -> ExtractHeader {
        ExtractHeader::parse(EXTRACT_HEADER).unwrap()
    }

    #[test]
    fn a_row_becomes_an_activity() {
        let line = row(
            "8",
            "10000000009",
            "EXEMPLE",
            ("10", "Médecin"),
            "30341",
            "30600",
            "",
        );
        let activity = Activity::parse(&line, &header()).unwrap();
        assert_eq!(activity.person, PersonId::Rpps("10000000009".into()));
        assert_eq!(activity.national_id, "810000000009");
        assert!(activity.checksum_ok);
        assert_eq!(activity.profession_label, "Médecin");
        assert_eq!(activity.place.address, "12 Rue des Flamants");
        assert_eq!(activity.place.commune_code, "30341");
        assert_eq!(activity.place.phone, "0466000000");
    }

    #[test]
    fn an_empty_commune_is_found_from_the_cedex_office() {
        let line = row(
            "8",
            "10000000009",
            "EXEMPLE",
            ("10", "Médecin"),
            "",
            "",
            "30600 VAUVERT",
        );
        assert_eq!(
            Activity::parse(&line, &header())
                .unwrap()
                .place
                .commune_code,
            "30341",
            "30600 is shared: the name decides"
        );
        let paris = row(
            "8",
            "10000000009",
            "EXEMPLE",
            ("10", "Médecin"),
            "",
            "",
            "75015 PARIS CEDEX",
        );
        assert_eq!(
            Activity::parse(&paris, &header())
                .unwrap()
                .place
                .commune_code,
            "75056"
        );
        // A postal code shared by several communes cannot tell which one.
        let shared = row(
            "8",
            "10000000005",
            "EXEMPLE",
            ("10", "Médecin"),
            "",
            "30220",
            "",
        );
        assert_eq!(
            Activity::parse(&shared, &header())
                .unwrap()
                .place
                .commune_code,
            ""
        );
    }

    #[test]
    fn bad_rows_name_their_field() {
        let h = header();
        let bad_type = row("3", "10000000005", "X", ("10", "Médecin"), "30341", "", "");
        assert_eq!(
            Activity::parse(&bad_type, &h).unwrap_err().field,
            "Type d'identifiant PP"
        );
        let short_rpps = row("8", "123", "X", ("10", "Médecin"), "30341", "", "");
        assert_eq!(
            Activity::parse(&short_rpps, &h).unwrap_err().field,
            "Identifiant PP"
        );
        let no_name = row("8", "10000000005", "", ("10", "Médecin"), "30341", "", "");
        assert_eq!(
            Activity::parse(&no_name, &h).unwrap_err().field,
            "Nom d'exercice"
        );
        assert_eq!(Activity::parse("8|1|", &h).unwrap_err().field, "ligne");
        let bad_luhn = row("8", "10000000005", "X", ("10", "Médecin"), "30341", "", "");
        assert!(
            !Activity::parse(&bad_luhn, &h).unwrap().checksum_ok,
            "kept with a warning"
        );
        assert!(ExtractHeader::parse("a|b|c|")
            .unwrap_err()
            .message
            .contains("PS_LibreAcces"));
    }

    #[test]
    fn latin1_lines_are_decoded() {
        assert_eq!(decode_line(b"M\xe9decin|\r\n"), "Médecin|");
        assert_eq!(decode_line("Médecin|\n".as_bytes()), "Médecin|");
        assert_eq!(decode_line(b"\xef\xbb\xbfType|"), "Type|");
    }

    #[test]
    fn modes_combine_into_a_practice_mode() {
        assert_eq!(practice_mode(&["L", "L"]), "libéral");
        assert_eq!(practice_mode(&["L", "S"]), "mixte");
        assert_eq!(practice_mode(&["S"]), "salarié");
    }
}

//! What a CPTS knows of a professional beyond the national directory (membership, new patients, unscheduled
//! care, skills…), and the CSV template coordinators fill in for their members.

use crate::directory::PersonId;
use crate::identifiers::{luhn_valid, Email, InseeCode, ValidationError};
use serde::{Deserialize, Serialize};

/// Who sees an entry of the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Also on the public directory page, without login.
    Public,
    /// People of the CPTS only.
    #[default]
    Members,
    /// Coordination only.
    Private,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [Visibility::Public, Visibility::Members, Visibility::Private];

    pub fn code(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Members => "members",
            Visibility::Private => "private",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Visibility::Public => "Publique (annuaire public)",
            Visibility::Members => "Membres de la CPTS",
            Visibility::Private => "Coordination seulement",
        }
    }

    /// The stored code, or the French words of the CSV template.
    pub fn parse(text: &str) -> Option<Visibility> {
        match crate::text::fold(text).as_str() {
            "public" | "publique" => Some(Visibility::Public),
            "members" | "membres" | "" => Some(Visibility::Members),
            "private" | "privee" | "prive" | "coordination" => Some(Visibility::Private),
            _ => None,
        }
    }
}

/// The CPTS's own facts about a professional, edited by the coordination or imported from the member template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProfessionalFacts {
    pub member: bool,
    pub visibility: Visibility,
    /// Accepts new patients as médecin traitant, and how many (None: not said).
    pub accepts_new_patients: bool,
    pub new_patient_capacity: Option<i64>,
    /// Volunteer for unscheduled care (soins non programmés).
    pub snp_volunteer: bool,
    pub sas_effector: bool,
    /// Maître de stage universitaire.
    pub internship_supervisor: bool,
    pub ipa: bool,
    pub asalee: bool,
    pub crisis_skills: String,
    pub languages: String,
    /// Kept for the retirement watch; no birth date.
    pub birth_year: Option<i64>,
    pub mssante: String,
    pub contact_phone: String,
    pub contact_email: String,
}

/// The most new patients one professional may declare (a sanity bound, not a rule of the ACI).
pub const MAX_CAPACITY: i64 = 2_000;

/// A yes/no answer: "oui", "non", "x", "1", "0", "vrai", "faux", empty (no).
pub fn parse_yes_no(field: &'static str, text: &str) -> Result<bool, ValidationError> {
    match crate::text::fold(text).as_str() {
        "oui" | "o" | "x" | "1" | "vrai" | "yes" | "on" | "true" => Ok(true),
        "non" | "n" | "0" | "faux" | "no" | "" | "false" => Ok(false),
        _ => Err(ValidationError::new(
            field,
            format!("« {} » : oui ou non attendu", text.trim()),
        )),
    }
}

/// A birth year between 100 and 18 years before `current_year`, or nothing.
pub fn parse_birth_year(text: &str, current_year: i64) -> Result<Option<i64>, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(year) if (current_year - 100..=current_year - 18).contains(&year) => Ok(Some(year)),
        _ => Err(ValidationError::new(
            "Année de naissance",
            format!(
                "« {text} » : une année entre {} et {} attendue",
                current_year - 100,
                current_year - 18
            ),
        )),
    }
}

pub fn parse_capacity(text: &str) -> Result<Option<i64>, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(n) if (0..=MAX_CAPACITY).contains(&n) => Ok(Some(n)),
        _ => Err(ValidationError::new(
            "Nombre de nouveaux patients",
            format!("« {text} » : un nombre entre 0 et {MAX_CAPACITY} attendu"),
        )),
    }
}

/// A French phone number written with or without spaces, dots or +33; stored as ten digits.
pub fn parse_phone(field: &'static str, text: &str) -> Result<String, ValidationError> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}'))
        .collect();
    if digits.is_empty() {
        return Ok(String::new());
    }
    let national = match digits.strip_prefix("+33") {
        Some(rest) => format!("0{rest}"),
        None => digits,
    };
    if national.len() == 10
        && national.starts_with('0')
        && national.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(national)
    } else {
        Err(ValidationError::new(
            field,
            format!("« {} » : un numéro à 10 chiffres attendu", text.trim()),
        ))
    }
}

pub fn parse_optional_email(field: &'static str, text: &str) -> Result<String, ValidationError> {
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    Email::parse(text)
        .map(|e| e.as_str().to_string())
        .map_err(|e| ValidationError::new(field, e.message))
}

/// A secure health messaging address: an e-mail address in a `mssante.fr` domain.
pub fn parse_mssante(text: &str) -> Result<String, ValidationError> {
    let address = parse_optional_email("Adresse MSSanté", text)?;
    if address.is_empty() || address.ends_with(".mssante.fr") || address.ends_with("@mssante.fr") {
        Ok(address)
    } else {
        Err(ValidationError::new(
            "Adresse MSSanté",
            format!("« {address} » : une adresse MSSanté se termine par mssante.fr"),
        ))
    }
}

/// A short free text (skills, languages): trimmed, bounded, no control characters.
pub fn parse_short_text(
    field: &'static str,
    text: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let value = text.trim();
    if value.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("{max_chars} caractères au plus"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "contient des caractères non autorisés",
        ));
    }
    Ok(value.to_string())
}

/// A postal address from a spreadsheet cell: the lines of a cell typed with Alt+Entrée become one line
/// ("2 rue de l'Église, Bâtiment B"); other control characters are refused.
pub fn parse_address(text: &str) -> Result<String, ValidationError> {
    let joined = text
        .split('\n')
        .map(|line| line.trim_matches(|c: char| c == '\r' || c.is_whitespace()))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    parse_short_text("Adresse", &joined, 300)
}

/// An RPPS (11 digits, Luhn) or an ADELI number (9 characters).
pub fn parse_person_id(text: &str) -> Result<PersonId, ValidationError> {
    let value: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if value.len() == 11 && value.bytes().all(|b| b.is_ascii_digit()) {
        if luhn_valid(&value) {
            return Ok(PersonId::Rpps(value));
        }
        return Err(ValidationError::new(
            "RPPS ou ADELI",
            format!("« {value} » : la clé de contrôle (Luhn) de ce RPPS est fausse"),
        ));
    }
    if value.len() == 9 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(PersonId::Adeli(value.to_ascii_uppercase()));
    }
    Err(ValidationError::new(
        "RPPS ou ADELI",
        format!("« {value} » : un RPPS a 11 chiffres, un numéro ADELI 9 caractères"),
    ))
}

impl PersonId {
    /// The "Identification nationale PP" of the national directory: `8`+RPPS or `0`+ADELI.
    pub fn national_id(&self) -> String {
        match self {
            PersonId::Rpps(v) => format!("8{v}"),
            PersonId::Adeli(v) => format!("0{v}"),
        }
    }
}

/// The columns of the member template, in order. Documented in docs/imports.md; the first line of the file
/// must name them (the order may differ, extra columns are ignored).
pub const MEMBER_COLUMNS: [&str; 24] = [
    "RPPS ou ADELI",
    "Civilité",
    "Nom",
    "Prénom",
    "Code profession",
    "Spécialité",
    "Code commune",
    "Adresse",
    "Téléphone",
    "E-mail",
    "Adresse MSSanté",
    "Mode d'exercice",
    "Membre",
    "Nouveaux patients",
    "Nombre de nouveaux patients",
    "Soins non programmés",
    "Effecteur SAS",
    "Maître de stage",
    "IPA",
    "Asalée",
    "Compétences crise",
    "Langues",
    "Année de naissance",
    "Visibilité",
];

/// Columns that must be present in the header and filled on each line.
const REQUIRED: [&str; 4] = ["RPPS ou ADELI", "Nom", "Code profession", "Code commune"];

/// One line of the member template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLine {
    pub person: PersonId,
    pub civility: String,
    pub last_name: String,
    pub first_name: String,
    pub profession_code: String,
    pub specialty: String,
    pub commune_code: String,
    pub address: String,
    pub phone: String,
    pub email: String,
    /// `libéral`, `salarié`, `mixte` or empty.
    pub practice_mode: String,
    pub facts: ProfessionalFacts,
}

/// Where each template column is in this file (None: absent).
#[derive(Debug, Clone)]
pub struct MemberHeader {
    positions: Vec<Option<usize>>,
}

impl MemberHeader {
    /// Reads the header record's column names (any order, accents and case ignored).
    pub fn parse(fields: &[String]) -> Result<Self, ValidationError> {
        let names: Vec<String> = fields.iter().map(|n| crate::text::fold(n)).collect();
        let positions: Vec<Option<usize>> = MEMBER_COLUMNS
            .iter()
            .map(|column| {
                let wanted = crate::text::fold(column);
                names.iter().position(|n| *n == wanted)
            })
            .collect();
        for required in REQUIRED {
            let index = MEMBER_COLUMNS
                .iter()
                .position(|c| *c == required)
                .unwrap_or(0);
            if positions.get(index).copied().flatten().is_none() {
                return Err(ValidationError::new(
                    "en-tête",
                    format!(
                        "la colonne « {required} » manque (séparateur attendu : point-virgule)"
                    ),
                ));
            }
        }
        Ok(Self { positions })
    }
}

/// Known professions of the national directory (code, label), offered in forms and filters.
pub const PROFESSIONS: [(&str, &str); 14] = [
    ("10", "Médecin"),
    ("21", "Pharmacien"),
    ("26", "Audioprothésiste"),
    ("28", "Opticien-lunetier"),
    ("40", "Chirurgien-dentiste"),
    ("50", "Sage-femme"),
    ("60", "Infirmier"),
    ("70", "Masseur-kinésithérapeute"),
    ("80", "Pédicure-podologue"),
    ("81", "Orthoprothésiste"),
    ("91", "Orthophoniste"),
    ("92", "Orthoptiste"),
    ("94", "Ergothérapeute"),
    ("96", "Psychomotricien"),
];

pub fn profession_label(code: &str) -> Option<&'static str> {
    PROFESSIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, label)| *label)
}

impl MemberLine {
    /// Parses one data record; the error names the column and the value.
    pub fn parse(
        values: &[String],
        header: &MemberHeader,
        current_year: i64,
    ) -> Result<Self, ValidationError> {
        let get = |column: &str| -> &str {
            MEMBER_COLUMNS
                .iter()
                .position(|c| *c == column)
                .and_then(|i| header.positions.get(i).copied().flatten())
                .and_then(|p| values.get(p))
                .map(String::as_str)
                .unwrap_or_default()
        };
        let person = parse_person_id(get("RPPS ou ADELI"))?;
        let last_name = crate::identifiers::required_text("Nom", get("Nom"), 100)?;
        let profession_code = get("Code profession").to_string();
        if profession_label(&profession_code).is_none() {
            return Err(ValidationError::new(
                "Code profession",
                format!(
                    "« {profession_code} » : code inconnu (10 médecin, 60 infirmier, 70 kinésithérapeute… voir la documentation)"
                ),
            ));
        }
        let commune_text = get("Code commune");
        let commune = InseeCode::parse(commune_text)
            .map_err(|e| ValidationError::new("Code commune", e.message))?;
        if crate::territory::find(&commune).is_none() {
            return Err(ValidationError::new(
                "Code commune",
                format!("« {commune_text} » : aucune commune n'a ce code INSEE"),
            ));
        }
        let practice_mode = match crate::text::fold(get("Mode d'exercice")).as_str() {
            "" => String::new(),
            "liberal" => "libéral".to_string(),
            "salarie" => "salarié".to_string(),
            "mixte" => "mixte".to_string(),
            _ => {
                return Err(ValidationError::new(
                    "Mode d'exercice",
                    format!(
                        "« {} » : libéral, salarié ou mixte attendu",
                        get("Mode d'exercice")
                    ),
                ))
            }
        };
        let visibility = Visibility::parse(get("Visibilité")).ok_or_else(|| {
            ValidationError::new(
                "Visibilité",
                format!(
                    "« {} » : publique, membres ou coordination attendu",
                    get("Visibilité")
                ),
            )
        })?;
        let new_patient_capacity = parse_capacity(get("Nombre de nouveaux patients"))?;
        let facts = ProfessionalFacts {
            member: parse_yes_no("Membre", get("Membre"))?,
            visibility,
            accepts_new_patients: parse_yes_no("Nouveaux patients", get("Nouveaux patients"))?
                || new_patient_capacity.is_some_and(|n| n > 0),
            new_patient_capacity,
            snp_volunteer: parse_yes_no("Soins non programmés", get("Soins non programmés"))?,
            sas_effector: parse_yes_no("Effecteur SAS", get("Effecteur SAS"))?,
            internship_supervisor: parse_yes_no("Maître de stage", get("Maître de stage"))?,
            ipa: parse_yes_no("IPA", get("IPA"))?,
            asalee: parse_yes_no("Asalée", get("Asalée"))?,
            crisis_skills: parse_short_text("Compétences crise", get("Compétences crise"), 300)?,
            languages: parse_short_text("Langues", get("Langues"), 200)?,
            birth_year: parse_birth_year(get("Année de naissance"), current_year)?,
            mssante: parse_mssante(get("Adresse MSSanté"))?,
            contact_phone: parse_phone("Téléphone", get("Téléphone"))?,
            contact_email: parse_optional_email("E-mail", get("E-mail"))?,
        };
        Ok(MemberLine {
            person,
            civility: parse_short_text("Civilité", get("Civilité"), 30)?,
            last_name,
            first_name: parse_short_text("Prénom", get("Prénom"), 100)?,
            profession_code,
            specialty: parse_short_text("Spécialité", get("Spécialité"), 200)?,
            commune_code: commune.as_str().to_string(),
            address: parse_address(get("Adresse"))?,
            phone: facts.contact_phone.clone(),
            email: facts.contact_email.clone(),
            practice_mode,
            facts,
        })
    }
}

/// The template's header line, as the downloadable template writes it.
pub fn member_template_header() -> String {
    MEMBER_COLUMNS.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::split_semicolons;

    const YEAR: i64 = 2026;

    fn header() -> MemberHeader {
        MemberHeader::parse(&split_semicolons(&member_template_header())).unwrap()
    }

    fn line(values: &[(&str, &str)]) -> String {
        MEMBER_COLUMNS
            .iter()
            .map(|c| {
                values
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("RPPS ou ADELI", "10000000009"),
            ("Nom", "EXEMPLE"),
            ("Prénom", "Camille"),
            ("Code profession", "10"),
            ("Code commune", "30003"),
            ("Membre", "oui"),
            ("Nombre de nouveaux patients", "12"),
            ("Année de naissance", "1962"),
            ("Téléphone", "04 66 00 00 00"),
            ("Adresse MSSanté", "camille.exemple@medecin.mssante.fr"),
            ("Visibilité", "publique"),
        ]
    }

    #[test]
    fn a_template_line_becomes_facts() {
        let parsed =
            MemberLine::parse(&split_semicolons(&line(&valid())), &header(), YEAR).unwrap();
        assert_eq!(parsed.person.national_id(), "810000000009");
        assert!(parsed.facts.member);
        assert!(parsed.facts.accepts_new_patients);
        assert_eq!(parsed.facts.new_patient_capacity, Some(12));
        assert_eq!(parsed.facts.birth_year, Some(1962));
        assert_eq!(parsed.facts.contact_phone, "0466000000");
        assert_eq!(parsed.facts.visibility, Visibility::Public);
    }

    #[test]
    fn each_bad_value_names_its_column() {
        let cases = [
            ("RPPS ou ADELI", "10000000008", "RPPS ou ADELI"),
            ("Code commune", "99999", "Code commune"),
            ("Code profession", "77", "Code profession"),
            ("Membre", "peut-être", "Membre"),
            ("Année de naissance", "1890", "Année de naissance"),
            (
                "Nombre de nouveaux patients",
                "-3",
                "Nombre de nouveaux patients",
            ),
            ("Téléphone", "12", "Téléphone"),
            ("Adresse MSSanté", "camille@gmail.com", "Adresse MSSanté"),
            ("Visibilité", "secrète", "Visibilité"),
        ];
        for (column, value, field) in cases {
            let mut values = valid();
            values.retain(|(k, _)| *k != column);
            values.push((column, value));
            let error =
                MemberLine::parse(&split_semicolons(&line(&values)), &header(), YEAR).unwrap_err();
            assert_eq!(error.field, field, "{column} = {value}");
            assert!(
                error.message.contains(value.trim_start_matches('-')) || column == "Nom",
                "{error:?}"
            );
        }
    }

    #[test]
    fn a_header_without_required_columns_is_refused() {
        let error = MemberHeader::parse(&split_semicolons("Nom,Prénom,RPPS")).unwrap_err();
        assert!(error.message.contains("RPPS ou ADELI"));
        assert!(error.message.contains("point-virgule"));
    }

    #[test]
    fn visibility_codes_round_trip() {
        for v in Visibility::ALL {
            assert_eq!(Visibility::parse(v.code()), Some(v));
        }
    }
}

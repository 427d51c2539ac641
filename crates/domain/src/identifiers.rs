//! National identifiers, parsed once into types that cannot hold an invalid value.
//!
//! Error messages are French and name the field, because they are shown to the coordinator as they are.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A refused value: which field, and why, in French.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} : {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Every problem of a form, each naming its field: a form is parsed whole into its command, or refused with
/// all its problems at once (a person fixes them in one go), never half-read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<ValidationError>);

impl Problems {
    /// The value of a field that parsed; a refused one is noted and gives `None`.
    pub fn keep<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// Notes problems already named (a refused part of the form, parsed by its own rules).
    pub fn extend(&mut self, problems: impl IntoIterator<Item = ValidationError>) {
        self.0.extend(problems);
    }

    /// Notes a problem found by a rule across fields.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The command built by `build` when no field was refused, else every problem.
    pub fn finish<T>(self, build: impl FnOnce() -> T) -> Result<T, Vec<ValidationError>> {
        if self.0.is_empty() {
            Ok(build())
        } else {
            Err(self.0)
        }
    }
}

/// Luhn check over a string of ASCII digits (the rule of RPPS, FINESS, SIREN and SIRET).
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn compact(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '.')
        .collect()
}

pub fn shorten(input: &str) -> String {
    let mut shown: String = input.chars().take(40).collect();
    if input.chars().count() > 40 {
        shown.push('…');
    }
    shown
}

/// RPPS number of a health professional: 11 digits with a Luhn check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rpps(String);

impl Rpps {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = compact(input);
        if value.len() != 11 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                "RPPS",
                format!(
                    "« {} » doit comporter exactement 11 chiffres",
                    shorten(input)
                ),
            ));
        }
        if !luhn_valid(&value) {
            return Err(ValidationError::new(
                "RPPS",
                format!("« {value} » : la clé de contrôle (Luhn) est fausse"),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// FINESS number of a health or social structure: 9 characters, département first (2A/2B for Corsica),
/// Luhn check digit computed with A and B read as 0 as the national register does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Finess(String);

impl Finess {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = compact(input).to_ascii_uppercase();
        let well_formed = value.len() == 9
            && value.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_digit() || (i == 1 && (b == b'A' || b == b'B') && value.starts_with('2'))
            });
        if !well_formed {
            return Err(ValidationError::new(
                "FINESS",
                format!(
                    "« {} » doit comporter 9 caractères (chiffres, 2A ou 2B pour la Corse)",
                    shorten(input)
                ),
            ));
        }
        let digits = value.replace(['A', 'B'], "0");
        if !luhn_valid(&digits) {
            return Err(ValidationError::new(
                "FINESS",
                format!("« {value} » : la clé de contrôle (Luhn) est fausse"),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SIRET of an establishment: 14 digits, Luhn (La Poste establishments: digit sum multiple of 5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);

const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = compact(input);
        if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::new(
                "SIRET",
                format!(
                    "« {} » doit comporter exactement 14 chiffres",
                    shorten(input)
                ),
            ));
        }
        let valid = if value.starts_with(LA_POSTE_SIREN) {
            value
                .bytes()
                .map(|b| u32::from(b - b'0'))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_valid(&value)
        };
        if !valid {
            return Err(ValidationError::new(
                "SIRET",
                format!("« {value} » : la clé de contrôle (Luhn) est fausse"),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// INSEE code of a commune (code officiel géographique): 5 characters, 2A/2B for Corsica.
/// Not a postal code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InseeCode(String);

impl InseeCode {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = input.trim().to_ascii_uppercase();
        let bytes = value.as_bytes();
        let well_formed = bytes.len() == 5
            && (bytes[..2].iter().all(u8::is_ascii_digit)
                || (bytes[0] == b'2' && (bytes[1] == b'A' || bytes[1] == b'B')))
            && bytes[2..].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(ValidationError::new(
                "code INSEE",
                format!(
                    "« {} » n'est pas un code INSEE de commune (5 caractères, par exemple 30341 ou 2A004)",
                    shorten(input)
                ),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, trimmed and lower-cased so that it can serve as a login.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let value = input.trim().to_lowercase();
        let refuse = || {
            ValidationError::new(
                "adresse e-mail",
                format!("« {} » n'est pas une adresse e-mail valide", shorten(input)),
            )
        };
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse());
        }
        let (local, domain) = value.split_once('@').ok_or_else(refuse)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(refuse());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}

string_newtype_conversions!(Rpps, Finess, Siret, InseeCode, Email);

/// A required free-text field: trimmed, not empty, bounded in length.
pub fn required_text(
    field: &'static str,
    input: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "ce champ est obligatoire"));
    }
    if value.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("{max_chars} caractères au plus"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "contient des caractères non autorisés",
        ));
    }
    Ok(value.to_string())
}

/// A person's name (family name, given names, a display name): [`required_text`] on one line, with at least one
/// letter, and not starting like a spreadsheet formula (`=`, `+`, `-`, `@`), so that an export opened in Excel
/// never runs it.
pub fn person_name(
    field: &'static str,
    input: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let value = required_text(field, input, max_chars)?;
    if value.chars().any(|c| matches!(c, '\n' | '\r' | '\t')) {
        return Err(ValidationError::new(field, "tient sur une seule ligne"));
    }
    if !value.chars().any(char::is_alphabetic) {
        return Err(ValidationError::new(
            field,
            "doit contenir des lettres (pas seulement des chiffres ou des signes)",
        ));
    }
    if value.starts_with(['=', '+', '-', '@']) {
        return Err(ValidationError::new(
            field,
            "ne peut pas commencer par =, +, - ou @",
        ));
    }
    Ok(value)
}

/// Appends the Luhn check digit to a digit payload (A and B read as 0, as for FINESS): builds fictitious but
/// valid numbers for tests, the demo and generators.
pub fn with_luhn_key(payload: &str) -> String {
    let digits = payload.replace(['A', 'B'], "0");
    (0..10)
        .find(|key| luhn_valid(&format!("{digits}{key}")))
        .map(|key| format!("{payload}{key}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_gives_its_command_or_every_problem() {
        let mut problems = Problems::default();
        let rpps = problems.keep(Rpps::parse("12"));
        let email = problems.keep(Email::parse("a@exemple.fr"));
        problems.add("Consentement", "obligatoire");
        assert!(rpps.is_none() && email.is_some());
        let refused = problems.finish(|| "commande").unwrap_err();
        assert_eq!(refused.iter().map(|p| p.field).collect::<Vec<_>>().len(), 2);
        assert_eq!(refused[1].field, "Consentement");
        assert_eq!(Problems::default().finish(|| 7), Ok(7));
    }

    #[test]
    fn luhn_matches_the_reference_examples() {
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("12a4"));
    }

    #[test]
    fn rpps_needs_eleven_digits_and_a_valid_key() {
        let valid = with_luhn_key("1000000000");
        assert_eq!(Rpps::parse(&valid).map(|r| r.0), Ok(valid.clone()));
        let mut wrong = valid.clone();
        let last = wrong.pop().and_then(|c| c.to_digit(10)).unwrap_or(0);
        wrong.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
        let error = Rpps::parse(&wrong).unwrap_err();
        assert_eq!(error.field, "RPPS");
        assert!(error.message.contains("Luhn"));
        assert!(Rpps::parse("123")
            .unwrap_err()
            .message
            .contains("11 chiffres"));
        assert!(Rpps::parse(" 1000 0000 00").is_err());
    }

    #[test]
    fn finess_accepts_corsica_and_checks_luhn() {
        let mainland = with_luhn_key("30000001");
        assert!(Finess::parse(&mainland).is_ok());
        let corsica_payload = with_luhn_key("20000001");
        let corsica = format!("2A{}", &corsica_payload[2..]);
        assert_eq!(
            Finess::parse(&corsica.to_lowercase()).map(|f| f.0),
            Ok(corsica)
        );
        assert!(Finess::parse("3A0000001").is_err());
        assert!(Finess::parse("12345")
            .unwrap_err()
            .message
            .contains("9 caractères"));
    }

    #[test]
    fn siret_checks_luhn_and_la_poste() {
        let siret = with_luhn_key("1234567800001");
        assert!(Siret::parse(&siret).is_ok());
        assert!(Siret::parse("35600000000051").is_ok());
        assert!(Siret::parse("35600000000052").is_err());
    }

    #[test]
    fn insee_codes_are_five_characters() {
        assert!(InseeCode::parse("30341").is_ok());
        assert_eq!(InseeCode::parse("2a004").map(|c| c.0), Ok("2A004".into()));
        assert!(InseeCode::parse("3034").is_err());
        assert!(InseeCode::parse("2C004").is_err());
        assert!(InseeCode::parse("30 341").is_err());
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Marie.Dupont@Exemple.FR ").map(|e| e.0),
            Ok("marie.dupont@exemple.fr".into())
        );
        for bad in ["", "a", "a@b", "@b.fr", "a@.fr", "a b@c.fr", "a@b..fr"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text() {
        let samples = [
            "",
            " ",
            "é",
            "2A",
            "2Aéé1",
            "\u{0}",
            "99999999999999999999",
            "🏥🏥🏥🏥🏥",
            "2B00000000",
            "a@b@c.d",
        ];
        for sample in samples {
            let _ = Rpps::parse(sample);
            let _ = Finess::parse(sample);
            let _ = Siret::parse(sample);
            let _ = InseeCode::parse(sample);
            let _ = Email::parse(sample);
            let _ = required_text("nom", sample, 10);
        }
    }

    #[test]
    fn person_names_are_one_line_of_letters_and_never_a_formula() {
        assert_eq!(person_name("Nom", " N’Diaye ", 100).unwrap(), "N’Diaye");
        assert_eq!(
            person_name("Nom", "Œuvray-Lefèvre", 100).unwrap(),
            "Œuvray-Lefèvre"
        );
        for bad in [
            "12345",
            "Jean\nDupont",
            "Jean\tDupont",
            "=HYPERLINK(\"x\")",
            "+33",
            "@x",
            "-Dupont",
            "A\u{0}B",
            "",
        ] {
            let error = person_name("Nom", bad, 100).unwrap_err();
            assert_eq!(error.field, "Nom", "{bad:?}");
        }
        assert!(person_name("Nom", &"a".repeat(101), 100).is_err());
    }
}

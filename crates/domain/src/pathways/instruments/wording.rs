//! The licensed wording of an instrument's items (Zarit): Maillage ships item numbers and short labels of its
//! own; a CPTS holding a licence loads the official wording as lines `number;wording` (numbers as the form
//! shows them, 1 to N), every item once. Checked here, before anything is stored.

use super::{Instrument, Licence};
use crate::identifiers::ValidationError;

const FIELD: &str = "Libellés";

/// The wording of each item (its code, its text), in the instrument's order, or every problem of the file.
pub fn parse_wording(
    instrument: Instrument,
    text: &str,
) -> Result<Vec<(&'static str, String)>, Vec<ValidationError>> {
    if instrument.licence() != Licence::WordingLicensed {
        return Err(vec![ValidationError::new(
            FIELD,
            format!(
                "les libellés de « {} » sont libres : Maillage les fournit",
                instrument.label()
            ),
        )]);
    }
    let items = instrument.items();
    let mut wording: Vec<Option<String>> = vec![None; items.len()];
    let mut problems = Vec::new();
    for (index, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = index + 1;
        let Some((number, words)) = line.split_once(';') else {
            problems.push(ValidationError::new(
                FIELD,
                format!("ligne {at} : « numéro;libellé » attendu"),
            ));
            continue;
        };
        let words = words.trim();
        match number.trim().parse::<usize>() {
            Ok(n) if (1..=items.len()).contains(&n) => {
                if wording[n - 1].is_some() {
                    problems.push(ValidationError::new(
                        FIELD,
                        format!("ligne {at} : la question {n} est déjà donnée"),
                    ));
                } else if !(3..=500).contains(&words.chars().count()) {
                    problems.push(ValidationError::new(
                        FIELD,
                        format!("ligne {at} : un libellé de 3 à 500 caractères"),
                    ));
                } else {
                    wording[n - 1] = Some(words.to_string());
                }
            }
            _ => problems.push(ValidationError::new(
                FIELD,
                format!(
                    "ligne {at} : « {} » n'est pas un numéro de question de 1 à {}",
                    number.trim(),
                    items.len()
                ),
            )),
        }
    }
    let missing: Vec<String> = wording
        .iter()
        .enumerate()
        .filter(|(_, w)| w.is_none())
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() && problems.is_empty() {
        problems.push(ValidationError::new(
            FIELD,
            format!("questions sans libellé : {}", missing.join(", ")),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(items
        .iter()
        .zip(wording)
        .map(|(item, w)| (item.code, w.unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wording_covers_every_item_once_and_only_for_licensed_instruments() {
        let four: String = (1..=4)
            .map(|n| format!("{n};Libellé officiel numéro {n}\n"))
            .collect();
        let parsed = parse_wording(Instrument::Zarit4, &format!("\u{feff}{four}")).unwrap();
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0].1, "Libellé officiel numéro 1");
        assert_eq!(parsed[0].0, Instrument::Zarit4.items()[0].code);
        let problems = parse_wording(
            Instrument::Zarit4,
            "1;Un libellé\n1;Encore\n7;Trop loin\nsans point-virgule\n",
        )
        .unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("déjà donnée"));
        assert!(messages[1].contains("de 1 à 4"));
        let short = parse_wording(Instrument::Zarit4, "1;Un libellé\n").unwrap_err();
        assert!(short[0].message.contains("2, 3, 4"));
        assert!(parse_wording(Instrument::Icope, "1;Texte").is_err());
    }
}

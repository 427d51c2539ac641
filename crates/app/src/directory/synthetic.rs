//! Synthetic extracts of the national directory in its exact published format, for tests and benchmarks.
//! Every person is fictitious: names are drawn from short lists, RPPS numbers are made to pass the Luhn
//! check (a share deliberately fails it, as some published numbers do).

use maillage_domain::directory::EXTRACT_HEADER;
use maillage_domain::identifiers::luhn_valid;
use std::io::Write;

/// A small deterministic generator (xorshift64*): the same seed gives the same file.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const LAST_NAMES: [&str; 24] = [
    "MARTIN",
    "BERNARD",
    "ROUX",
    "FABRE",
    "MOREL",
    "GIRARD",
    "ANDRE",
    "MERCIER",
    "BLANC",
    "GUERIN",
    "BOYER",
    "GARNIER",
    "CHEVALIER",
    "FRANCOIS",
    "LEGRAND",
    "GAUTHIER",
    "PERRIN",
    "ROBIN",
    "CLEMENT",
    "MOREAU",
    "FAURE",
    "ROUSSEL",
    "MASSON",
    "MARCHAND",
];
const FIRST_NAMES: [&str; 20] = [
    "Camille", "Claire", "Julien", "Élodie", "Thomas", "Léa", "Nicolas", "Inès", "Hugo", "Manon",
    "Antoine", "Chloé", "Mathieu", "Sarah", "Rémi", "Zoé", "Pierre", "Anaïs", "Olivier", "Margaux",
];
/// Code, label, savoir-faire and weight (proportions of the demo territory).
const PROFESSIONS: [(&str, &str, &str, u64); 9] = [
    ("10", "Médecin", "Qualifié en Médecine Générale (SM)", 50),
    ("60", "Infirmier", "", 119),
    ("70", "Masseur-Kinésithérapeute", "", 89),
    ("40", "Chirurgien-Dentiste", "", 34),
    ("91", "Orthophoniste", "", 21),
    ("21", "Pharmacien", "", 16),
    ("80", "Pédicure-Podologue", "", 16),
    ("50", "Sage-Femme", "", 11),
    ("92", "Orthoptiste", "", 4),
];
const STREETS: [&str; 8] = [
    "des Flamants",
    "de la République",
    "Victor Hugo",
    "du Port",
    "des Écoles",
    "Jean Jaurès",
    "de la Gare",
    "des Salins",
];

fn rpps(rng: &mut Rng, valid: bool) -> String {
    let payload = format!("1{:09}", rng.below(1_000_000_000));
    (0..10)
        .map(|key| format!("{payload}{key}"))
        .find(|candidate| luhn_valid(candidate) == valid)
        .unwrap_or_else(|| format!("{payload}0"))
}

/// What to generate.
pub struct ExtractSpec<'a> {
    /// Number of activity rows (a person has 1 to 3).
    pub rows: usize,
    pub seed: u64,
    /// Commune codes (with their postal code) most rows use; the rest are spread over `elsewhere`.
    pub communes: &'a [(&'a str, &'a str)],
    pub elsewhere: &'a [(&'a str, &'a str)],
    /// Share of rows placed in `communes`, in percent.
    pub local_percent: u64,
    /// Write Latin-1 instead of UTF-8, as older extracts were.
    pub latin1: bool,
}

/// Writes the header and `spec.rows` rows; returns the number of distinct people.
pub fn write_extract(out: &mut impl Write, spec: &ExtractSpec<'_>) -> std::io::Result<usize> {
    let mut rng = Rng::new(spec.seed);
    let total_weight: u64 = PROFESSIONS.iter().map(|p| p.3).sum();
    let write = |out: &mut dyn Write, text: &str| -> std::io::Result<()> {
        if spec.latin1 {
            let bytes: Vec<u8> = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            out.write_all(&bytes)?;
            out.write_all(b"\r\n")
        } else {
            out.write_all(text.as_bytes())?;
            out.write_all(b"\n")
        }
    };
    write(out, EXTRACT_HEADER)?;
    let (mut written, mut people) = (0usize, 0usize);
    while written < spec.rows {
        people += 1;
        let valid = rng.below(100) >= 2;
        let identifier = rpps(&mut rng, valid);
        let mut pick = rng.below(total_weight);
        let profession = PROFESSIONS
            .iter()
            .find(|p| {
                if pick < p.3 {
                    true
                } else {
                    pick -= p.3;
                    false
                }
            })
            .unwrap_or(&PROFESSIONS[0]);
        let last = *rng.pick(&LAST_NAMES);
        let first = *rng.pick(&FIRST_NAMES);
        let civility = if profession.0 == "10" { "Docteur" } else { "" };
        let activities = 1 + rng.below(3) as usize;
        for activity in 0..activities.min(spec.rows - written) {
            let (commune, postal) =
                if rng.below(100) < spec.local_percent || spec.elsewhere.is_empty() {
                    *rng.pick(spec.communes)
                } else {
                    *rng.pick(spec.elsewhere)
                };
            // One row in fifty leaves the commune code empty and puts the office in "Bureau cedex".
            let (commune_cell, cedex) = if rng.below(50) == 0 {
                let name = maillage_domain::identifiers::InseeCode::parse(commune)
                    .ok()
                    .and_then(|code| maillage_domain::territory::find(&code))
                    .map(|c| c.name.to_uppercase())
                    .unwrap_or_default();
                (String::new(), format!("{postal} {name} CEDEX"))
            } else {
                (commune.to_string(), String::new())
            };
            let mode = if activity == 0 || rng.below(2) == 0 {
                ("L", "Libéral")
            } else {
                ("S", "Salarié")
            };
            let street = rng.pick(&STREETS);
            let number = (1 + rng.below(80)).to_string();
            let phone = format!("04{:08}", rng.below(100_000_000));
            let place = format!("CABINET {last}");
            let mut cells = vec![String::new(); 52];
            cells[0] = "8".into();
            cells[1] = identifier.clone();
            cells[2] = format!("8{identifier}");
            cells[4] = civility.into();
            cells[7] = last.into();
            cells[8] = first.into();
            cells[9] = profession.0.into();
            cells[10] = profession.1.into();
            if profession.0 == "10" {
                cells[15] = "SM54".into();
            }
            cells[16] = profession.2.into();
            cells[17] = mode.0.into();
            cells[18] = mode.1.into();
            cells[24] = place;
            cells[28] = number;
            cells[31] = "Rue".into();
            cells[32] = (*street).into();
            cells[34] = cedex;
            cells[35] = if commune_cell.is_empty() {
                String::new()
            } else {
                postal.to_string()
            };
            cells[36] = commune_cell;
            cells[38] = "99000".into();
            cells[39] = "France".into();
            cells[40] = phone;
            write(out, &format!("{}|", cells.join("|")))?;
            written += 1;
        }
    }
    Ok(people)
}

//! Screening instruments of the care pathways, scored from structured answers: ICOPE step 1 (WHO), GFST
//! (Gérontopôle), the Zarit burden interview (22 items, short forms of 12 and 4 items), the Mini-Zarit and the
//! NYHA class. The copyrighted item wording (Zarit) is not shipped: items are numbered with short labels of our
//! own, and a CPTS holding a licence loads the wording. Each instrument's rule for missing answers is stated
//! with it and in docs/parcours.md.

use crate::codes::coded_enum;
use crate::identifiers::ValidationError;

coded_enum!(
    /// The instruments Maillage scores.
    Instrument {
        Icope => ("icope-1", "ICOPE étape 1 (repérage des fragilités, OMS)"),
        Gfst => ("gfst", "GFST — repérage de la fragilité (Gérontopôle de Toulouse)"),
        Zarit22 => ("zarit-22", "Échelle de Zarit, 22 items (fardeau de l'aidant)"),
        Zarit12 => ("zarit-12", "Échelle de Zarit, forme courte à 12 items"),
        Zarit4 => ("zarit-4", "Échelle de Zarit, repérage à 4 items"),
        MiniZarit => ("mini-zarit", "Mini-Zarit (7 questions)"),
        Nyha => ("nyha", "Classe NYHA de l'insuffisance cardiaque"),
    }
);

/// May the item wording be printed?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Licence {
    /// Free to use and print (WHO, public tools).
    Free,
    /// Scoring is free, the wording is copyrighted: items carry our short labels until a CPTS holding a
    /// licence loads the text.
    WordingLicensed,
}

impl Licence {
    pub fn label(self) -> &'static str {
        match self {
            Licence::Free => "libre d'utilisation",
            Licence::WordingLicensed => {
                "libellés sous licence (non fournis : numéros et libellés courts)"
            }
        }
    }
}

/// One question: its short label (ours) and the answers it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub code: &'static str,
    pub label: &'static str,
    pub answers: Answers,
}

/// The answers an item takes, as typed (`--answers`, forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// 0 no, 1 yes.
    YesNo,
    /// 0 no, 1 yes, `?` do not know.
    YesNoUnknown,
    /// An integer from `min` to `max`.
    Range { min: i64, max: i64 },
    /// Seconds (a decimal), or `x`: could not do it.
    Seconds,
    /// Mini-Zarit: 0 never, 0.5 sometimes (typed `0.5` or `1/2`), 1 often.
    Frequency,
}

const ZARIT_ITEMS: [&str; 22] = [
    "demande plus d'aide que nécessaire",
    "manque de temps pour soi",
    "tiraillé entre aide et autres responsabilités",
    "gêné par le comportement du proche",
    "irrité en présence du proche",
    "relations avec la famille ou les amis affectées",
    "peur de l'avenir du proche",
    "proche dépendant de l'aidant",
    "tendu en présence du proche",
    "santé de l'aidant affectée",
    "manque d'intimité",
    "vie sociale affectée",
    "mal à l'aise d'inviter des amis",
    "le proche compte sur l'aidant seul",
    "manque d'argent pour s'occuper du proche",
    "ne pourra plus s'occuper du proche longtemps",
    "perte de contrôle de sa vie",
    "souhaite laisser le soin à quelqu'un d'autre",
    "incertain de ce qu'il faut faire",
    "devrait en faire plus",
    "pourrait mieux s'occuper du proche",
    "fardeau ressenti dans l'ensemble",
];

/// The items of the short forms, numbered as in the 22-item interview.
const ZARIT_12: [usize; 12] = [2, 3, 5, 6, 9, 10, 11, 12, 17, 19, 20, 21];
const ZARIT_4: [usize; 4] = [2, 3, 9, 17];

/// A severity band: its rank (0 = none or little) and its French label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub rank: u8,
    pub label: &'static str,
}

/// A scored answer set.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub instrument: Instrument,
    /// The total (None: the instrument has none, or too many answers are missing to give one).
    pub score: Option<f64>,
    pub maximum: Option<f64>,
    pub band: Option<Band>,
    /// Codes of the positive domains (ICOPE), or of the positive screening (GFST, Zarit-4).
    pub positive: Vec<&'static str>,
    /// Answers left empty, by item code.
    pub missing: Vec<&'static str>,
    /// What the rule for missing answers did, in French (empty: nothing was missing).
    pub note: String,
}

/// An answer as read: a number, "do not know", "could not do it", or missing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Number(f64),
    Unknown,
    Unable,
    Missing,
}

pub const ANSWERS_FIELD: &str = "Réponses";

const ICOPE_ITEMS: [Item; 9] = [
    Item {
        code: "cognition-mots",
        label: "Cognition : mots rappelés sur 3",
        answers: Answers::Range { min: 0, max: 3 },
    },
    Item {
        code: "cognition-orientation",
        label: "Cognition : orientation dans le temps et l'espace correcte",
        answers: Answers::YesNo,
    },
    Item {
        code: "mobilite-lever",
        label: "Mobilité : 5 levers de chaise sans les bras (secondes, x si impossible)",
        answers: Answers::Seconds,
    },
    Item {
        code: "nutrition-poids",
        label: "Nutrition : perte de poids de plus de 3 kg en 3 mois",
        answers: Answers::YesNo,
    },
    Item {
        code: "nutrition-appetit",
        label: "Nutrition : perte d'appétit",
        answers: Answers::YesNo,
    },
    Item {
        code: "vision",
        label: "Vision : difficulté pour voir de loin ou lire",
        answers: Answers::YesNo,
    },
    Item {
        code: "audition",
        label: "Audition : test du chuchotement échoué",
        answers: Answers::YesNo,
    },
    Item {
        code: "humeur-triste",
        label: "Humeur : triste, déprimé ou sans espoir ces deux dernières semaines",
        answers: Answers::YesNo,
    },
    Item {
        code: "humeur-interet",
        label: "Humeur : peu d'intérêt ou de plaisir à faire les choses",
        answers: Answers::YesNo,
    },
];

const GFST_ITEMS: [Item; 8] = [
    Item {
        code: "seul",
        label: "Vit seul",
        answers: Answers::YesNoUnknown,
    },
    Item {
        code: "poids",
        label: "Perte de poids involontaire ces 3 derniers mois",
        answers: Answers::YesNoUnknown,
    },
    Item {
        code: "fatigue",
        label: "Plus fatigué ces 3 derniers mois",
        answers: Answers::YesNoUnknown,
    },
    Item {
        code: "mobilite",
        label: "Plus de difficultés pour se déplacer ces 3 derniers mois",
        answers: Answers::YesNoUnknown,
    },
    Item {
        code: "memoire",
        label: "Se plaint de la mémoire",
        answers: Answers::YesNoUnknown,
    },
    Item {
        code: "vitesse",
        label: "Vitesse de marche ralentie (plus de 4 s pour 4 m)",
        answers: Answers::YesNoUnknown,
    },
    Item {
        code: "jugement",
        label: "Selon le médecin, le patient est-il fragile ?",
        answers: Answers::YesNo,
    },
    Item {
        code: "accord",
        label: "Le patient accepte l'évaluation de la fragilité en hôpital de jour",
        answers: Answers::YesNo,
    },
];

const MINI_ZARIT_ITEMS: [Item; 7] = [
    Item {
        code: "vie-sociale",
        label: "Vie sociale affectée",
        answers: Answers::Frequency,
    },
    Item {
        code: "fatigue",
        label: "Fatigue de l'aidant",
        answers: Answers::Frequency,
    },
    Item {
        code: "tension",
        label: "Tension avec le proche",
        answers: Answers::Frequency,
    },
    Item {
        code: "sante",
        label: "Santé de l'aidant affectée",
        answers: Answers::Frequency,
    },
    Item {
        code: "relations",
        label: "Relations familiales affectées",
        answers: Answers::Frequency,
    },
    Item {
        code: "avenir",
        label: "Inquiétude pour l'avenir",
        answers: Answers::Frequency,
    },
    Item {
        code: "fardeau",
        label: "Fardeau ressenti",
        answers: Answers::Frequency,
    },
];

const NYHA_ITEMS: [Item; 1] = [Item {
    code: "classe",
    label: "Classe NYHA (1 à 4)",
    answers: Answers::Range { min: 1, max: 4 },
}];

static ZARIT_22_ITEMS: [Item; 22] = zarit_items();

const fn zarit_items() -> [Item; 22] {
    const CODES: [&str; 22] = [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21", "22",
    ];
    let mut items = [Item {
        code: "",
        label: "",
        answers: Answers::Range { min: 0, max: 4 },
    }; 22];
    let mut i = 0;
    while i < 22 {
        items[i] = Item {
            code: CODES[i],
            label: ZARIT_ITEMS[i],
            answers: Answers::Range { min: 0, max: 4 },
        };
        i += 1;
    }
    items
}

static ZARIT_12_ITEMS: [Item; 12] = short_form(&ZARIT_12);
static ZARIT_4_ITEMS: [Item; 4] = short_form(&ZARIT_4);

const fn short_form<const N: usize>(numbers: &[usize; N]) -> [Item; N] {
    let all = zarit_items();
    let mut items = [all[0]; N];
    let mut i = 0;
    while i < N {
        items[i] = all[numbers[i] - 1];
        i += 1;
    }
    items
}

impl Instrument {
    pub fn licence(self) -> Licence {
        match self {
            Instrument::Zarit22 | Instrument::Zarit12 | Instrument::Zarit4 => {
                Licence::WordingLicensed
            }
            _ => Licence::Free,
        }
    }

    /// The items, in the order answers are given.
    pub fn items(self) -> &'static [Item] {
        match self {
            Instrument::Icope => &ICOPE_ITEMS,
            Instrument::Gfst => &GFST_ITEMS,
            Instrument::Zarit22 => &ZARIT_22_ITEMS,
            Instrument::Zarit12 => &ZARIT_12_ITEMS,
            Instrument::Zarit4 => &ZARIT_4_ITEMS,
            Instrument::MiniZarit => &MINI_ZARIT_ITEMS,
            Instrument::Nyha => &NYHA_ITEMS,
        }
    }

    /// The rule for missing answers, in French.
    pub fn missing_rule(self) -> &'static str {
        match self {
            Instrument::Icope => {
                "un domaine dont une réponse manque est « non évalué » ; les autres sont interprétés"
            }
            Instrument::Gfst => {
                "les questions peuvent rester « ne sait pas » ; le jugement du médecin est obligatoire"
            }
            Instrument::Zarit22 => {
                "jusqu'à 2 réponses manquantes : remplacées par la moyenne des réponses données (total arrondi) ; au-delà, pas de score"
            }
            Instrument::Zarit12 => {
                "1 réponse manquante : remplacée par la moyenne des réponses données (total arrondi) ; au-delà, pas de score"
            }
            Instrument::Zarit4 | Instrument::MiniZarit | Instrument::Nyha => {
                "toutes les réponses sont nécessaires"
            }
        }
    }

    /// The answers allowed missing before no score is given.
    fn missing_allowed(self) -> usize {
        match self {
            Instrument::Zarit22 => 2,
            Instrument::Zarit12 => 1,
            _ => 0,
        }
    }
}

fn read(item: &Item, text: &str) -> Result<Value, String> {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return Ok(Value::Missing);
    }
    let wrong = |expected: &str| format!("« {text} » pour « {} » : {expected}", item.label);
    match item.answers {
        Answers::YesNo => match text {
            "0" | "non" => Ok(Value::Number(0.0)),
            "1" | "oui" => Ok(Value::Number(1.0)),
            _ => Err(wrong("0 (non) ou 1 (oui)")),
        },
        Answers::YesNoUnknown => match text {
            "0" | "non" => Ok(Value::Number(0.0)),
            "1" | "oui" => Ok(Value::Number(1.0)),
            "?" | "nsp" => Ok(Value::Unknown),
            _ => Err(wrong("0 (non), 1 (oui) ou ? (ne sait pas)")),
        },
        Answers::Range { min, max } => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Value::Number(n as f64)),
            _ => Err(wrong(&format!("un entier de {min} à {max}"))),
        },
        Answers::Seconds => {
            if text.eq_ignore_ascii_case("x") {
                return Ok(Value::Unable);
            }
            match text.replace(',', ".").parse::<f64>() {
                Ok(s) if s.is_finite() && (0.0..=300.0).contains(&s) => Ok(Value::Number(s)),
                _ => Err(wrong("une durée en secondes (0 à 300), ou x si impossible")),
            }
        }
        Answers::Frequency => match text {
            "0" => Ok(Value::Number(0.0)),
            "0.5" | "0,5" | "1/2" => Ok(Value::Number(0.5)),
            "1" => Ok(Value::Number(1.0)),
            _ => Err(wrong("0 (jamais), 0.5 (parfois) ou 1 (souvent)")),
        },
    }
}

fn number(value: Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(n),
        _ => None,
    }
}

fn plural(n: usize) -> &'static str {
    if n > 1 {
        "s"
    } else {
        ""
    }
}

fn count(n: usize, word: &str) -> String {
    format!("{n} {word}{}", plural(n))
}

/// Scores `answers` (one per item, in order; empty or `-` for a missing answer). A wrong count or an answer
/// out of range is refused, naming the item.
pub fn score(instrument: Instrument, answers: &[&str]) -> Result<Scored, ValidationError> {
    let items = instrument.items();
    if answers.len() != items.len() {
        return Err(ValidationError::new(
            ANSWERS_FIELD,
            format!(
                "{} attendue{} pour {} ({} reçue{})",
                count(items.len(), "réponse"),
                plural(items.len()),
                instrument.label(),
                answers.len(),
                plural(answers.len())
            ),
        ));
    }
    let mut values = Vec::with_capacity(items.len());
    for (item, text) in items.iter().zip(answers) {
        values.push(
            read(item, text).map_err(|message| ValidationError::new(ANSWERS_FIELD, message))?,
        );
    }
    let missing: Vec<&'static str> = items
        .iter()
        .zip(&values)
        .filter(|(_, v)| **v == Value::Missing)
        .map(|(item, _)| item.code)
        .collect();
    let mut scored = Scored {
        instrument,
        score: None,
        maximum: None,
        band: None,
        positive: Vec::new(),
        missing: missing.clone(),
        note: if missing.is_empty() {
            String::new()
        } else {
            instrument.missing_rule().to_string()
        },
    };
    match instrument {
        Instrument::Icope => icope(&values, &mut scored),
        Instrument::Gfst => {
            if values[6] == Value::Missing {
                return Err(ValidationError::new(
                    ANSWERS_FIELD,
                    "GFST : le jugement du médecin (« le patient est-il fragile ? ») est obligatoire",
                ));
            }
            let yes = values[..6]
                .iter()
                .filter(|v| **v == Value::Number(1.0))
                .count();
            scored.score = Some(yes as f64);
            scored.maximum = Some(6.0);
            // No numeric threshold: the GP's judgement decides.
            if values[6] == Value::Number(1.0) {
                scored.positive.push("fragilite");
                scored.band = Some(Band {
                    rank: 1,
                    label: "fragilité suspectée par le médecin",
                });
            } else {
                scored.band = Some(Band {
                    rank: 0,
                    label: "pas de fragilité suspectée",
                });
            }
        }
        Instrument::Zarit22 | Instrument::Zarit12 | Instrument::Zarit4 | Instrument::MiniZarit => {
            let given: Vec<f64> = values.iter().copied().filter_map(number).collect();
            let maximum = if instrument == Instrument::MiniZarit {
                items.len() as f64
            } else {
                4.0 * items.len() as f64
            };
            scored.maximum = Some(maximum);
            if missing.len() <= instrument.missing_allowed() && !given.is_empty() {
                let sum: f64 = given.iter().sum();
                let total = if missing.is_empty() {
                    sum
                } else {
                    (sum / given.len() as f64 * items.len() as f64).round()
                };
                scored.score = Some(total);
                scored.band = burden_band(instrument, total);
                if instrument == Instrument::Zarit4 && total >= 8.0 {
                    // ZBI-4 screening: 8 or more suggests a high burden (Bédard et al., 2001).
                    scored.positive.push("fardeau");
                }
            }
        }
        Instrument::Nyha => {
            if let Some(class) = number(values[0]) {
                scored.score = Some(class);
                scored.maximum = Some(4.0);
                scored.band = Some(match class as i64 {
                    1 => Band {
                        rank: 0,
                        label: "classe I : pas de limitation de l'activité",
                    },
                    2 => Band {
                        rank: 1,
                        label: "classe II : limitation légère, essoufflement à l'effort important",
                    },
                    3 => Band {
                        rank: 2,
                        label: "classe III : limitation marquée, au moindre effort",
                    },
                    _ => Band {
                        rank: 3,
                        label: "classe IV : symptômes au repos",
                    },
                });
            }
        }
    }
    Ok(scored)
}

/// The burden bands: Zarit-22 ≤ 20 little or none, 21–40 light, 41–60 moderate, > 60 severe; Zarit-12
/// 0–10 little or none, 11–20 light to moderate, > 20 high (Higginson et al., 2010); Mini-Zarit 0–1.5 absent
/// or light, 2–3.5 light to moderate, 4–5.5 moderate to severe, 6–7 severe. Zarit-4 has no band (a screening).
fn burden_band(instrument: Instrument, total: f64) -> Option<Band> {
    let band = |rank, label| Some(Band { rank, label });
    match instrument {
        Instrument::Zarit22 => match total {
            t if t <= 20.0 => band(0, "fardeau absent ou léger"),
            t if t <= 40.0 => band(1, "fardeau léger"),
            t if t <= 60.0 => band(2, "fardeau modéré"),
            _ => band(3, "fardeau sévère"),
        },
        Instrument::Zarit12 => match total {
            t if t <= 10.0 => band(0, "fardeau absent ou léger"),
            t if t <= 20.0 => band(1, "fardeau léger à modéré"),
            _ => band(2, "fardeau élevé"),
        },
        Instrument::MiniZarit => match total {
            t if t <= 1.5 => band(0, "fardeau absent ou léger"),
            t if t <= 3.5 => band(1, "fardeau léger à modéré"),
            t if t <= 5.5 => band(2, "fardeau modéré à sévère"),
            _ => band(3, "fardeau sévère"),
        },
        _ => None,
    }
}

/// ICOPE step 1: each of the six domains positive, negative or not assessed (an answer of it missing).
fn icope(values: &[Value], scored: &mut Scored) {
    let yes = |v: Value| v == Value::Number(1.0);
    let answered =
        |range: std::ops::Range<usize>| range.clone().all(|i| values[i] != Value::Missing);
    let domains: [(&'static str, std::ops::Range<usize>, bool); 6] = [
        // Fewer than 3 words recalled, or disoriented.
        (
            "cognition",
            0..2,
            number(values[0]).is_some_and(|w| w < 3.0) || values[1] == Value::Number(0.0),
        ),
        // 5 chair rises take more than 14 s, or cannot be done.
        (
            "mobilite",
            2..3,
            values[2] == Value::Unable || number(values[2]).is_some_and(|s| s > 14.0),
        ),
        ("nutrition", 3..5, yes(values[3]) || yes(values[4])),
        ("vision", 5..6, yes(values[5])),
        ("audition", 6..7, yes(values[6])),
        ("humeur", 7..9, yes(values[7]) || yes(values[8])),
    ];
    let mut assessed = 0;
    for (code, range, positive) in domains {
        if !answered(range) {
            continue;
        }
        assessed += 1;
        if positive {
            scored.positive.push(code);
        }
    }
    scored.score = Some(scored.positive.len() as f64);
    scored.maximum = Some(assessed as f64);
    scored.band = Some(if scored.positive.is_empty() {
        Band {
            rank: 0,
            label: "aucun domaine positif",
        }
    } else {
        Band {
            rank: 1,
            label: "domaine(s) positif(s) : évaluation approfondie (étape 2) par le médecin",
        }
    });
}

/// A positive domain's code as a French page writes it.
pub fn positive_label(code: &str) -> &str {
    match code {
        "mobilite" => "mobilité",
        "fragilite" => "fragilité",
        "humeur" => "humeur (symptômes dépressifs)",
        other => other,
    }
}

/// The ICOPE domains positive now that were not at the previous screening: a decline to alert on.
pub fn icope_decline(previous: &Scored, current: &Scored) -> Vec<&'static str> {
    current
        .positive
        .iter()
        .copied()
        .filter(|domain| !previous.positive.contains(domain) && !previous.missing_domain(domain))
        .collect()
}

impl Scored {
    /// Whether an ICOPE domain was not assessed (an answer of it missing).
    fn missing_domain(&self, domain: &str) -> bool {
        self.missing.iter().any(|item| item.starts_with(domain))
            || (domain == "mobilite" && self.missing.contains(&"mobilite-lever"))
    }
}

#[cfg(test)]
mod tests;
pub mod wording;

//! Care pathways: templates as versioned data — steps with the role responsible, a window relative to the
//! inclusion, to the pathway's event (hospital discharge = day 0) or to another step, a recurrence, the
//! instrument to fill, the evidence that closes the step and what a result triggers — and the schedule of a
//! patient's steps computed from them on calendar days (Paris dates: a daylight-saving change moves no window).
//! Pure rules; storage, jobs and pages build on them.

pub mod builtin;
pub mod inclusion;
pub mod instruments;
pub mod liaison;
pub mod steps;
pub mod waiting;

use crate::calendar::Day;
use crate::codes::coded_enum;
use crate::identifiers::ValidationError;
use serde::{Deserialize, Serialize};

coded_enum!(
    /// Who a step is for, in the care team (the directory gives the person).
    CareRole {
        GeneralPractitioner => ("medecin-traitant", "Médecin traitant"),
        Nurse => ("infirmier", "Infirmier ou infirmière"),
        Pharmacist => ("pharmacien", "Pharmacien"),
        Cardiologist => ("cardiologue", "Cardiologue"),
        Neurologist => ("neurologue", "Neurologue"),
        Psychiatrist => ("psychiatre", "Psychiatre"),
        Paediatrician => ("pediatre", "Pédiatre"),
        Specialist => ("specialiste", "Médecin spécialiste"),
        Laboratory => ("laboratoire", "Laboratoire de biologie"),
        Physiotherapist => ("kinesitherapeute", "Masseur-kinésithérapeute"),
        SpeechTherapist => ("orthophoniste", "Orthophoniste"),
        Psychologist => ("psychologue", "Psychologue"),
        SocialWorker => ("travailleur-social", "Travailleur social"),
        PradoAdvisor => ("conseiller-prado", "Conseiller PRADO de l'Assurance Maladie"),
        Coordination => ("coordination", "Coordination de la CPTS"),
    }
);

coded_enum!(
    /// What closes a step.
    Evidence {
        DateSeen => ("date-vue", "Date à laquelle le patient a été vu"),
        LiaisonSheet => ("fiche-liaison", "Fiche de liaison reçue"),
        Result => ("resultat", "Résultat (examen ou questionnaire)"),
        Decision => ("decision", "Décision de la réunion de concertation"),
    }
);

impl CareRole {
    /// The profession of the national directory that holds this role, when one does (the care team is chosen
    /// among the CPTS's professionals of it); None for the coordination, the PRADO advisor and the roles the
    /// directory does not list (laboratories, psychologists, social workers: any professional may be chosen).
    pub fn profession(self) -> Option<&'static str> {
        match self {
            CareRole::GeneralPractitioner
            | CareRole::Cardiologist
            | CareRole::Neurologist
            | CareRole::Psychiatrist
            | CareRole::Paediatrician
            | CareRole::Specialist => Some("10"),
            CareRole::Nurse => Some("60"),
            CareRole::Pharmacist => Some("21"),
            CareRole::Physiotherapist => Some("70"),
            CareRole::SpeechTherapist => Some("91"),
            CareRole::Laboratory
            | CareRole::Psychologist
            | CareRole::SocialWorker
            | CareRole::PradoAdvisor
            | CareRole::Coordination => None,
        }
    }

    /// Whether a member of the care team holds it (the coordination's steps are the CPTS's own).
    pub fn in_care_team(self) -> bool {
        self != CareRole::Coordination
    }
}

macro_rules! serde_as_code {
    ($($name:ident),+) => {$(
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = String::deserialize(deserializer)?;
                $name::parse(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!("code inconnu « {code} »"))
                })
            }
        }
    )+};
}
serde_as_code!(CareRole, Evidence);

/// A distance in calendar months and days (months first: "2 mois", "J8", "1 mois et 15 jours").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Offset {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub months: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub days: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl Offset {
    pub const fn days(days: i64) -> Self {
        Self { months: 0, days }
    }

    pub const fn months(months: i64) -> Self {
        Self { months, days: 0 }
    }

    pub fn from(self, day: Day) -> Day {
        day.plus_months(self.months).plus_days(self.days)
    }

    /// Reads what a coordinator types: "J8", "8", "8 j", "8 jours", "2 mois", "1 mois et 15 jours" (0 to 24
    /// months, 0 to 730 days).
    pub fn parse(field: &'static str, text: &str) -> Result<Offset, ValidationError> {
        let folded = crate::text::fold(text);
        let wrong = || {
            ValidationError::new(
                field,
                format!(
                    "« {} » : un délai comme J8, 15 jours ou 2 mois est attendu",
                    crate::identifiers::shorten(text)
                ),
            )
        };
        // Folding drops signs: a negative delay is refused before.
        if folded.is_empty() || text.contains('-') {
            return Err(wrong());
        }
        let mut offset = Offset::default();
        // Tokens: numbers followed by a unit (j, jour(s), mois); a bare number or "jN" is days.
        let compact = folded.replace(" et ", " ");
        let tokens: Vec<&str> = compact.split(' ').filter(|t| !t.is_empty()).collect();
        let mut index = 0;
        while index < tokens.len() {
            let token = tokens[index];
            let (number, unit_in_token) = match token.strip_prefix('j') {
                Some(rest) if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) => {
                    (rest, Some("j"))
                }
                _ => {
                    let digits: String = token.chars().take_while(|c| c.is_ascii_digit()).collect();
                    let rest = &token[digits.len()..];
                    if digits.is_empty() {
                        return Err(wrong());
                    }
                    (&token[..digits.len()], (!rest.is_empty()).then_some(rest))
                }
            };
            let value: i64 = number.parse().map_err(|_| wrong())?;
            let unit = match unit_in_token {
                Some(unit) => unit,
                None => match tokens.get(index + 1) {
                    Some(next) if matches!(*next, "j" | "jour" | "jours" | "mois") => {
                        index += 1;
                        next
                    }
                    _ => "j",
                },
            };
            match unit {
                "j" | "jour" | "jours" => offset.days += value,
                "mois" => offset.months += value,
                _ => return Err(wrong()),
            }
            index += 1;
        }
        if offset.months > 24 || offset.days > 730 {
            return Err(ValidationError::new(
                field,
                "au plus 24 mois ou 730 jours après le point de départ",
            ));
        }
        Ok(offset)
    }

    /// "J8", "2 mois", "1 mois et 15 jours", "J0".
    pub fn french(self) -> String {
        match (self.months, self.days) {
            (0, days) => format!("J{days}"),
            (months, 0) => format!("{months} mois"),
            (months, days) => format!("{months} mois et {days} jours"),
        }
    }
}

/// When a step is due: between two offsets from its anchor ("≤ J8" is J0–J8, "J8 ± 2" is J6–J10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub earliest: Offset,
    pub latest: Offset,
}

impl Window {
    /// Within `latest` of the anchor.
    pub const fn within(latest: Offset) -> Self {
        Self {
            earliest: Offset::days(0),
            latest,
        }
    }

    /// Day `day` with a margin of `margin` days either side.
    pub const fn around(day: i64, margin: i64) -> Self {
        Self {
            earliest: Offset::days(day - margin),
            latest: Offset::days(day + margin),
        }
    }
}

/// What a step's window counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "depuis", content = "etape")]
pub enum Anchor {
    /// The patient's inclusion in the pathway.
    Inclusion,
    /// The pathway's event (hospital discharge…), day 0.
    Event,
    /// Another step of the template: from its window (planned), or from the day it was done.
    Step(String),
}

/// A step that comes back (ICOPE every 4–6 months): the next one is due between these offsets after the
/// previous one was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    pub every: Window,
}

/// What a step's result sets off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "quand")]
pub enum Condition {
    /// The instrument found a positive domain (any, or the one named).
    PositiveDomain {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        domain: Option<String>,
    },
    /// The instrument's severity band is above this rank (0 = none or little; see the instrument's bands).
    BandAbove { rank: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    #[serde(flatten)]
    pub when: Condition,
    /// The step of the template it creates (an optional step, counted from the day of the result).
    pub creates: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTemplate {
    pub code: String,
    pub label: String,
    pub owner: CareRole,
    pub from: Anchor,
    pub window: Window,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    /// The instrument filled at this step ([`instruments::Instrument`] code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    pub evidence: Evidence,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Created only by another step's trigger (an assessment after a positive screening), never planned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_trigger_only: bool,
}

/// A pathway template: a version of it. A patient keeps the version they were included with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathwayTemplate {
    pub code: String,
    pub version: u32,
    pub name: String,
    /// What day 0 is ("Sortie d'hospitalisation"); None: the steps count from the inclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    pub steps: Vec<StepTemplate>,
}

/// One step of a patient's schedule: its window in Paris calendar days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledStep {
    pub code: String,
    pub label: String,
    pub owner: CareRole,
    pub earliest: Day,
    pub latest: Day,
}

const STEP_FIELD: &str = "Étapes";

impl PathwayTemplate {
    pub fn step(&self, code: &str) -> Option<&StepTemplate> {
        self.steps.iter().find(|s| s.code == code)
    }

    /// Whether a step counts from the pathway's event (its date is then needed).
    pub fn needs_event(&self) -> bool {
        self.steps.iter().any(|s| s.from == Anchor::Event)
    }

    /// The checks of a template before it is saved or imported: a code, a name, steps with distinct codes, known
    /// anchors, instruments and trigger targets, windows that end after they start, and no loop (a step counting
    /// from itself through others, or triggers creating each other). Each problem names its field.
    pub fn check(&self) -> Result<(), Vec<ValidationError>> {
        let mut problems = Vec::new();
        let text_ok =
            |text: &str, max: usize| !text.trim().is_empty() && text.chars().count() <= max;
        if !text_ok(&self.code, 60)
            || !self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            problems.push(ValidationError::new(
                "Code du parcours",
                "de 1 à 60 minuscules sans accent, chiffres et tirets",
            ));
        }
        if !text_ok(&self.name, 150) {
            problems.push(ValidationError::new(
                "Nom du parcours",
                "de 1 à 150 caractères",
            ));
        }
        if self.steps.is_empty() || self.steps.len() > 60 {
            problems.push(ValidationError::new(STEP_FIELD, "de 1 à 60 étapes"));
        }
        let reference = Day {
            year: 2001,
            month: 1,
            day: 31,
        };
        for (index, step) in self.steps.iter().enumerate() {
            let at = format!("étape {} ({})", index + 1, step.code);
            if !text_ok(&step.code, 60) || !text_ok(&step.label, 150) {
                problems.push(ValidationError::new(
                    STEP_FIELD,
                    format!("{at} : un code et un libellé de 1 à 150 caractères"),
                ));
            }
            if self.steps[..index].iter().any(|s| s.code == step.code) {
                problems.push(ValidationError::new(
                    STEP_FIELD,
                    format!("{at} : ce code est déjà celui d'une autre étape"),
                ));
            }
            if let Anchor::Step(code) = &step.from {
                if self.step(code).is_none() {
                    problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!("{at} : compte depuis l'étape « {code} », qui n'existe pas"),
                    ));
                }
            }
            if step.from == Anchor::Event && self.event.is_none() {
                problems.push(ValidationError::new(
                    STEP_FIELD,
                    format!("{at} : compte depuis l'événement, mais le parcours n'en a pas"),
                ));
            }
            let windows = std::iter::once(step.window).chain(step.recurrence.map(|r| r.every));
            for window in windows {
                if window.latest.from(reference) < window.earliest.from(reference) {
                    problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!(
                            "{at} : la fenêtre finit ({}) avant de commencer ({})",
                            window.latest.french(),
                            window.earliest.french()
                        ),
                    ));
                }
            }
            if let Some(recurrence) = step.recurrence {
                if recurrence.every.latest.from(reference) <= reference {
                    problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!("{at} : une étape qui revient revient après au moins un jour"),
                    ));
                }
            }
            if let Some(code) = &step.instrument {
                if instruments::Instrument::parse(code).is_none() {
                    problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!("{at} : questionnaire « {code} » inconnu"),
                    ));
                }
            }
            for trigger in &step.triggers {
                match self.step(&trigger.creates) {
                    None => problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!("{at} : déclenche l'étape « {} », qui n'existe pas", trigger.creates),
                    )),
                    Some(target) if !target.on_trigger_only => problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!(
                            "{at} : l'étape déclenchée « {} » doit être marquée « seulement si déclenchée »",
                            trigger.creates
                        ),
                    )),
                    Some(_) => {}
                }
                if step.instrument.is_none() {
                    problems.push(ValidationError::new(
                        STEP_FIELD,
                        format!("{at} : un déclenchement suit le résultat d'un questionnaire, l'étape n'en a pas"),
                    ));
                }
            }
        }
        if problems.is_empty() {
            if let Some(code) = self.first_loop() {
                problems.push(ValidationError::new(
                    STEP_FIELD,
                    format!("l'étape « {code} » dépend d'elle-même (boucle entre étapes ou déclenchements)"),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// A step on a loop of "counts from" links, or of "creates" links, if any (a triggered step counting from
    /// the step whose result creates it is the normal case, not a loop).
    fn first_loop(&self) -> Option<String> {
        let anchors = |step: &StepTemplate| -> Vec<usize> {
            match &step.from {
                Anchor::Step(code) => self
                    .steps
                    .iter()
                    .position(|s| &s.code == code)
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            }
        };
        let creates = |step: &StepTemplate| -> Vec<usize> {
            step.triggers
                .iter()
                .filter_map(|t| self.steps.iter().position(|s| s.code == t.creates))
                .collect()
        };
        self.loop_along(anchors)
            .or_else(|| self.loop_along(creates))
    }

    /// Depth-first search with colours along `edges`.
    fn loop_along(&self, edges: impl Fn(&StepTemplate) -> Vec<usize>) -> Option<String> {
        // 0 unvisited, 1 on the current path, 2 done.
        let mut colour = vec![0u8; self.steps.len()];
        for start in 0..self.steps.len() {
            if colour[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            colour[start] = 1;
            while let Some(top) = stack.last_mut() {
                let (node, next) = *top;
                let targets = edges(&self.steps[node]);
                if next < targets.len() {
                    top.1 += 1;
                    let target = targets[next];
                    match colour[target] {
                        1 => return Some(self.steps[target].code.clone()),
                        0 => {
                            colour[target] = 1;
                            stack.push((target, 0));
                        }
                        _ => {}
                    }
                } else {
                    colour[node] = 2;
                    stack.pop();
                }
            }
        }
        None
    }

    /// The planned steps of a patient included on `inclusion`, the event (discharge) on `event`: each window in
    /// calendar days, a step counting from another from that step's window. Steps created only by a trigger are
    /// not planned. The event's date is required when a step counts from it, and cannot be before the
    /// inclusion by more than a year (a typing error).
    pub fn schedule(
        &self,
        inclusion: Day,
        event: Option<Day>,
    ) -> Result<Vec<ScheduledStep>, Vec<ValidationError>> {
        self.check()?;
        let event_field = "Date de l'événement";
        if self.needs_event() && event.is_none() {
            return Err(vec![ValidationError::new(
                event_field,
                format!(
                    "obligatoire pour ce parcours ({})",
                    self.event.as_deref().unwrap_or("jour 0").to_lowercase()
                ),
            )]);
        }
        if let Some(event) = event {
            if event < inclusion.plus_days(-366) || event > inclusion.plus_days(366) {
                return Err(vec![ValidationError::new(
                    event_field,
                    format!(
                        "{} est à plus d'un an de l'inclusion ({})",
                        event.french(),
                        inclusion.french()
                    ),
                )]);
            }
        }
        let mut windows: Vec<Option<(Day, Day)>> = vec![None; self.steps.len()];
        // No loop (checked): at most one pass per step resolves every anchor.
        for _ in 0..self.steps.len() {
            for (index, step) in self.steps.iter().enumerate() {
                if windows[index].is_some() {
                    continue;
                }
                let anchor = match &step.from {
                    Anchor::Inclusion => Some((inclusion, inclusion)),
                    Anchor::Event => event.map(|e| (e, e)),
                    Anchor::Step(code) => self
                        .steps
                        .iter()
                        .position(|s| &s.code == code)
                        .and_then(|i| windows[i]),
                };
                if let Some((from_earliest, from_latest)) = anchor {
                    windows[index] = Some((
                        step.window.earliest.from(from_earliest),
                        step.window.latest.from(from_latest),
                    ));
                }
            }
        }
        Ok(self
            .steps
            .iter()
            .zip(windows)
            .filter(|(step, _)| !step.on_trigger_only && !self.only_after_trigger(step))
            .filter_map(|(step, window)| {
                window.map(|(earliest, latest)| ScheduledStep {
                    code: step.code.clone(),
                    label: step.label.clone(),
                    owner: step.owner,
                    earliest,
                    latest,
                })
            })
            .collect())
    }

    /// A step counting from a step that is created only by a trigger is not planned either.
    fn only_after_trigger(&self, step: &StepTemplate) -> bool {
        let mut current = step;
        for _ in 0..self.steps.len() {
            match &current.from {
                Anchor::Step(code) => match self.step(code) {
                    Some(anchor) if anchor.on_trigger_only => return true,
                    Some(anchor) => current = anchor,
                    None => return false,
                },
                _ => return false,
            }
        }
        false
    }

    /// The window of a step created or repeated on `day` (a trigger fired, or the previous occurrence was done
    /// then).
    pub fn window_from(&self, code: &str, day: Day, repeated: bool) -> Option<(Day, Day)> {
        let step = self.step(code)?;
        let window = if repeated {
            step.recurrence?.every
        } else {
            step.window
        };
        Some((window.earliest.from(day), window.latest.from(day)))
    }

    /// The same template with other windows for some steps (a CPTS's offsets: PRADO books the GP within 7 days),
    /// as its next version; the steps of patients already included keep theirs.
    pub fn with_windows(&self, windows: &[(String, Window)]) -> Result<Self, Vec<ValidationError>> {
        let mut adapted = self.clone();
        for (code, window) in windows {
            match adapted.steps.iter_mut().find(|s| &s.code == code) {
                Some(step) => step.window = *window,
                None => {
                    return Err(vec![ValidationError::new(
                        STEP_FIELD,
                        format!("« {code} » n'est pas une étape de ce parcours"),
                    )])
                }
            }
        }
        adapted.version = self.version + 1;
        adapted.check()?;
        Ok(adapted)
    }
}

#[cfg(test)]
mod tests;

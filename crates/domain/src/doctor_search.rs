//! Access to a médecin traitant: what a request says, how urgent it is (an explainable score), which states
//! it goes through, and when it is overdue. Pure rules: the services store, audit and notify.

use crate::codes::coded_enum;
use crate::identifiers::ValidationError;
use serde::{Deserialize, Serialize};

/// A fragility criterion declared with a request. Age-based criteria (aged, child) come from the birth date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Ald,
    Css,
    Ame,
    LossOfAutonomy,
    Isolation,
    Precarity,
    Disability,
    Pregnancy,
    FormerGpLeft,
}

impl Criterion {
    pub const ALL: [Criterion; 9] = [
        Criterion::Ald,
        Criterion::Css,
        Criterion::Ame,
        Criterion::LossOfAutonomy,
        Criterion::Isolation,
        Criterion::Precarity,
        Criterion::Disability,
        Criterion::Pregnancy,
        Criterion::FormerGpLeft,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Criterion::Ald => "ald",
            Criterion::Css => "css",
            Criterion::Ame => "ame",
            Criterion::LossOfAutonomy => "loss_of_autonomy",
            Criterion::Isolation => "isolation",
            Criterion::Precarity => "precarity",
            Criterion::Disability => "disability",
            Criterion::Pregnancy => "pregnancy",
            Criterion::FormerGpLeft => "former_gp_left",
        }
    }

    pub fn parse(code: &str) -> Option<Criterion> {
        Criterion::ALL.into_iter().find(|c| c.code() == code)
    }

    /// A criterion as a list may write it: its code, its French label or short label, accents and case
    /// ignored ("Perte d'autonomie", "perte d autonomie", "C2S", "ALD").
    pub fn parse_written(text: &str) -> Option<Criterion> {
        let folded = crate::text::fold(text);
        if folded.is_empty() {
            return None;
        }
        Criterion::parse(text.trim()).or_else(|| {
            Criterion::ALL.into_iter().find(|c| {
                crate::text::fold(c.label()) == folded
                    || crate::text::fold(c.short_label()) == folded
                    || (*c == Criterion::Css && folded == "c2s")
            })
        })
    }

    /// How the form asks for it.
    pub fn label(self) -> &'static str {
        match self {
            Criterion::Ald => "Affection de longue durée (ALD)",
            Criterion::Css => "Complémentaire santé solidaire (CSS / C2S)",
            Criterion::Ame => "Aide médicale d'État (AME)",
            Criterion::LossOfAutonomy => "Perte d'autonomie",
            Criterion::Isolation => "Isolement",
            Criterion::Precarity => "Précarité",
            Criterion::Disability => "Handicap",
            Criterion::Pregnancy => "Grossesse",
            Criterion::FormerGpLeft => "Ancien médecin traitant parti ou à la retraite",
        }
    }

    /// How an explanation names it ("ALD + 75 ans + isolement").
    pub fn short_label(self) -> &'static str {
        match self {
            Criterion::Ald => "ALD",
            Criterion::Css => "CSS",
            Criterion::Ame => "AME",
            Criterion::LossOfAutonomy => "perte d'autonomie",
            Criterion::Isolation => "isolement",
            Criterion::Precarity => "précarité",
            Criterion::Disability => "handicap",
            Criterion::Pregnancy => "grossesse",
            Criterion::FormerGpLeft => "médecin parti",
        }
    }
}

/// The criteria of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    pub ald: bool,
    pub css: bool,
    pub ame: bool,
    pub loss_of_autonomy: bool,
    pub isolation: bool,
    pub precarity: bool,
    pub disability: bool,
    pub pregnancy: bool,
    pub former_gp_left: bool,
}

impl Criteria {
    pub fn has(&self, criterion: Criterion) -> bool {
        match criterion {
            Criterion::Ald => self.ald,
            Criterion::Css => self.css,
            Criterion::Ame => self.ame,
            Criterion::LossOfAutonomy => self.loss_of_autonomy,
            Criterion::Isolation => self.isolation,
            Criterion::Precarity => self.precarity,
            Criterion::Disability => self.disability,
            Criterion::Pregnancy => self.pregnancy,
            Criterion::FormerGpLeft => self.former_gp_left,
        }
    }

    pub fn set(&mut self, criterion: Criterion, value: bool) {
        let field = match criterion {
            Criterion::Ald => &mut self.ald,
            Criterion::Css => &mut self.css,
            Criterion::Ame => &mut self.ame,
            Criterion::LossOfAutonomy => &mut self.loss_of_autonomy,
            Criterion::Isolation => &mut self.isolation,
            Criterion::Precarity => &mut self.precarity,
            Criterion::Disability => &mut self.disability,
            Criterion::Pregnancy => &mut self.pregnancy,
            Criterion::FormerGpLeft => &mut self.former_gp_left,
        };
        *field = value;
    }

    /// What two submissions for the same person say together (a merge keeps every criterion either named).
    pub fn union(self, other: Criteria) -> Criteria {
        let mut merged = self;
        for criterion in Criterion::ALL {
            if other.has(criterion) {
                merged.set(criterion, true);
            }
        }
        merged
    }

    /// Codes of the criteria present, `;`-separated (exports, JSON input).
    pub fn codes(&self) -> Vec<&'static str> {
        Criterion::ALL
            .into_iter()
            .filter(|c| self.has(*c))
            .map(Criterion::code)
            .collect()
    }
}

/// A CPTS's priority rules: points per criterion, age thresholds and the weight of waiting. Every request
/// starts at 1 point, so that a request with no criterion still counts when matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityRules {
    pub ald: u32,
    pub css: u32,
    pub ame: u32,
    pub loss_of_autonomy: u32,
    pub isolation: u32,
    pub precarity: u32,
    pub disability: u32,
    pub pregnancy: u32,
    pub former_gp_left: u32,
    /// Points for patients aged `aged_from` or more.
    pub aged: u32,
    pub aged_from: u32,
    /// Points for children younger than `child_under`.
    pub child: u32,
    pub child_under: u32,
    /// Points per full month of waiting, up to `waiting_max`.
    pub waiting_per_month: u32,
    pub waiting_max: u32,
}

impl Default for PriorityRules {
    /// The seeds' criteria: ALD, CSS/AME, age ≥ 70, loss of autonomy and isolation weigh most.
    fn default() -> Self {
        Self {
            ald: 3,
            css: 2,
            ame: 2,
            loss_of_autonomy: 3,
            isolation: 2,
            precarity: 2,
            disability: 2,
            pregnancy: 2,
            former_gp_left: 1,
            aged: 3,
            aged_from: 70,
            child: 1,
            child_under: 16,
            waiting_per_month: 1,
            waiting_max: 6,
        }
    }
}

impl PriorityRules {
    pub fn points(&self, criterion: Criterion) -> u32 {
        match criterion {
            Criterion::Ald => self.ald,
            Criterion::Css => self.css,
            Criterion::Ame => self.ame,
            Criterion::LossOfAutonomy => self.loss_of_autonomy,
            Criterion::Isolation => self.isolation,
            Criterion::Precarity => self.precarity,
            Criterion::Disability => self.disability,
            Criterion::Pregnancy => self.pregnancy,
            Criterion::FormerGpLeft => self.former_gp_left,
        }
    }

    pub fn points_mut(&mut self, criterion: Criterion) -> &mut u32 {
        match criterion {
            Criterion::Ald => &mut self.ald,
            Criterion::Css => &mut self.css,
            Criterion::Ame => &mut self.ame,
            Criterion::LossOfAutonomy => &mut self.loss_of_autonomy,
            Criterion::Isolation => &mut self.isolation,
            Criterion::Precarity => &mut self.precarity,
            Criterion::Disability => &mut self.disability,
            Criterion::Pregnancy => &mut self.pregnancy,
            Criterion::FormerGpLeft => &mut self.former_gp_left,
        }
    }

    /// Rules a coordinator may save: points from 0 to 20, ages that make sense.
    pub fn check(&self) -> Result<(), ValidationError> {
        for criterion in Criterion::ALL {
            if self.points(criterion) > 20 {
                return Err(ValidationError::new(
                    criterion.label(),
                    "entre 0 et 20 points",
                ));
            }
        }
        for (field, value) in [
            ("Points pour l'âge", self.aged),
            ("Points pour un enfant", self.child),
            ("Points par mois d'attente", self.waiting_per_month),
        ] {
            if value > 20 {
                return Err(ValidationError::new(field, "entre 0 et 20 points"));
            }
        }
        if !(50..=100).contains(&self.aged_from) {
            return Err(ValidationError::new(
                "Âge à partir duquel compter",
                "entre 50 et 100 ans",
            ));
        }
        if !(1..=18).contains(&self.child_under) {
            return Err(ValidationError::new("Âge des enfants", "entre 1 et 18 ans"));
        }
        if self.waiting_max > 60 {
            return Err(ValidationError::new(
                "Plafond des points d'attente",
                "entre 0 et 60 points",
            ));
        }
        Ok(())
    }
}

/// A score and the reasons behind it, shown with every request and proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    pub score: u32,
    pub reasons: Vec<String>,
}

impl Priority {
    /// "ALD + 75 ans + isolement", or a plain word when nothing adds points.
    pub fn explanation(&self) -> String {
        if self.reasons.is_empty() {
            "aucun critère de priorité".to_string()
        } else {
            self.reasons.join(" + ")
        }
    }
}

/// The priority of a request: 1 point, plus each criterion's points, plus age and waiting.
pub fn priority(
    rules: &PriorityRules,
    criteria: &Criteria,
    age_years: Option<u32>,
    waiting_days: i64,
) -> Priority {
    let mut score = 1u32;
    let mut reasons = Vec::new();
    for criterion in Criterion::ALL {
        let points = rules.points(criterion);
        if criteria.has(criterion) && points > 0 {
            score += points;
            reasons.push(criterion.short_label().to_string());
        }
    }
    if let Some(age) = age_years {
        if age >= rules.aged_from && rules.aged > 0 {
            score += rules.aged;
            reasons.push(format!("{age} ans"));
        } else if age < rules.child_under && rules.child > 0 {
            score += rules.child;
            reasons.push(format!("enfant de {age} ans"));
        }
    }
    let months = u32::try_from(waiting_days.max(0) / 30).unwrap_or(u32::MAX);
    let waiting = months
        .saturating_mul(rules.waiting_per_month)
        .min(rules.waiting_max);
    if waiting > 0 {
        score += waiting;
        reasons.push(format!("attente {months} mois"));
    }
    Priority { score, reasons }
}

/// Age in whole years on `today`, both as `YYYY-MM-DD`; None when a date is not of that form or birth is
/// after `today`.
pub fn age_on(birth_date: &str, today: &str) -> Option<u32> {
    let parse = |text: &str| -> Option<(i64, i64, i64)> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        Some((year, month, day))
    };
    let (by, bm, bd) = parse(birth_date)?;
    let (ty, tm, td) = parse(today)?;
    let mut age = ty - by;
    if (tm, td) < (bm, bd) {
        age -= 1;
    }
    u32::try_from(age).ok()
}

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Received,
    Incomplete,
    Qualified,
    Proposed,
    Accepted,
    Declined,
    FirstVisit,
    Closed,
    Withdrawn,
    Redirected,
}

impl RequestState {
    pub const ALL: [RequestState; 10] = [
        RequestState::Received,
        RequestState::Incomplete,
        RequestState::Qualified,
        RequestState::Proposed,
        RequestState::Accepted,
        RequestState::Declined,
        RequestState::FirstVisit,
        RequestState::Closed,
        RequestState::Withdrawn,
        RequestState::Redirected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Incomplete => "incomplete",
            RequestState::Qualified => "qualified",
            RequestState::Proposed => "proposed",
            RequestState::Accepted => "accepted",
            RequestState::Declined => "declined",
            RequestState::FirstVisit => "first_visit",
            RequestState::Closed => "closed",
            RequestState::Withdrawn => "withdrawn",
            RequestState::Redirected => "redirected",
        }
    }

    pub fn parse(code: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestState::Received => "Reçue",
            RequestState::Incomplete => "Incomplète",
            RequestState::Qualified => "Qualifiée",
            RequestState::Proposed => "Proposée à un médecin",
            RequestState::Accepted => "Acceptée par le médecin",
            RequestState::Declined => "Refusée par le médecin",
            RequestState::FirstVisit => "Première consultation faite",
            RequestState::Closed => "Close : médecin traitant déclaré",
            RequestState::Withdrawn => "Retirée",
            RequestState::Redirected => "Réorientée",
        }
    }

    /// Closed, withdrawn or redirected: nothing more happens, and the retention delay runs.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestState::Closed | RequestState::Withdrawn | RequestState::Redirected
        )
    }

    /// Requests a matching may propose to a doctor.
    pub fn is_waiting_for_a_doctor(self) -> bool {
        matches!(self, RequestState::Qualified | RequestState::Declined)
    }

    /// The states a person may move the request to by hand. Proposing, accepting and declining also
    /// happen through the matching and the doctor's answer, which use the same rule.
    pub fn next_states(self) -> &'static [RequestState] {
        use RequestState::*;
        match self {
            Received => &[Incomplete, Qualified, Withdrawn, Redirected],
            Incomplete => &[Qualified, Withdrawn, Redirected],
            Qualified => &[Proposed, Incomplete, Withdrawn, Redirected],
            Proposed => &[Accepted, Declined, Withdrawn],
            Declined => &[Qualified, Proposed, Withdrawn, Redirected],
            Accepted => &[FirstVisit, Closed, Qualified, Withdrawn],
            FirstVisit => &[Closed, Qualified, Withdrawn],
            Closed | Withdrawn | Redirected => &[],
        }
    }

    /// After how many days in this state a request needs the coordinator's attention.
    pub fn overdue_after_days(self) -> Option<i64> {
        match self {
            RequestState::Received => Some(3),
            RequestState::Incomplete => Some(14),
            RequestState::Qualified => Some(30),
            RequestState::Proposed => Some(7),
            RequestState::Declined => Some(7),
            RequestState::Accepted => Some(30),
            RequestState::FirstVisit => Some(30),
            RequestState::Closed | RequestState::Withdrawn | RequestState::Redirected => None,
        }
    }
}

impl crate::codes::Coded for RequestState {
    const ALL: &'static [RequestState] = &RequestState::ALL;
    fn code(self) -> &'static str {
        RequestState::code(self)
    }
    fn label(self) -> &'static str {
        RequestState::label(self)
    }
}

/// The requests' workflow on the shared piece: the moves, final states and overdue delays above.
impl crate::workflow::WorkflowState for RequestState {
    fn next_states(self) -> &'static [RequestState] {
        RequestState::next_states(self)
    }
    fn is_final(self) -> bool {
        RequestState::is_final(self)
    }
    fn overdue_after_days(self) -> Option<i64> {
        RequestState::overdue_after_days(self)
    }
}

/// How a request reached the CPTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public form, filled by the patient or a relative.
    WebForm,
    /// A phone call taken by the secretary.
    Phone,
    /// A referral by a partner with an account (DAC, hospital, pharmacy, town hall).
    Partner,
    /// A list sent by the CPAM.
    CpamList,
    /// A list handed over by a retiring GP.
    RetiringGpList,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::WebForm,
        Channel::Phone,
        Channel::Partner,
        Channel::CpamList,
        Channel::RetiringGpList,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Channel::WebForm => "web_form",
            Channel::Phone => "phone",
            Channel::Partner => "partner",
            Channel::CpamList => "cpam_list",
            Channel::RetiringGpList => "retiring_gp_list",
        }
    }

    pub fn parse(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::WebForm => "Formulaire public",
            Channel::Phone => "Appel téléphonique",
            Channel::Partner => "Adressage par un partenaire",
            Channel::CpamList => "Liste de la CPAM",
            Channel::RetiringGpList => "Liste d'un médecin qui part",
        }
    }
}

/// Who gave consent and how, as recorded with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentBy {
    Patient,
    Relative,
    LegalRepresentative,
}

impl ConsentBy {
    pub const ALL: [ConsentBy; 3] = [
        ConsentBy::Patient,
        ConsentBy::Relative,
        ConsentBy::LegalRepresentative,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ConsentBy::Patient => "patient",
            ConsentBy::Relative => "relative",
            ConsentBy::LegalRepresentative => "legal_representative",
        }
    }

    pub fn parse(code: &str) -> Option<ConsentBy> {
        ConsentBy::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            ConsentBy::Patient => "le patient",
            ConsentBy::Relative => "un proche",
            ConsentBy::LegalRepresentative => "le représentant légal",
        }
    }
}

/// The text the public form shows and the patient accepts; stored as consented by its version.
pub const CONSENT_TEXT: &str = "J'accepte que la CPTS enregistre ces informations pour me trouver un \
médecin traitant, les transmette au seul médecin qui me sera proposé, et me contacte à ce sujet. Elles \
sont conservées au plus 12 mois après la clôture de la demande. Je peux demander à les consulter, les \
corriger ou les supprimer en contactant la CPTS.";
pub const CONSENT_VERSION: &str = "2026-12";

/// Why a doctor declined a proposal.
pub const DECLINE_REASONS: [(&str, &str); 5] = [
    ("full", "Plus de place pour le moment"),
    ("too_far", "Patient trop éloigné du cabinet"),
    (
        "profile",
        "Besoins hors de ma pratique (âge, suivi, visites à domicile)",
    ),
    ("already_known", "Patient déjà connu ou conflit"),
    ("other", "Autre raison"),
];

/// Where a request may be redirected.
pub const REDIRECTIONS: [(&str, &str); 5] = [
    ("unscheduled_care", "Soins non programmés (besoin urgent)"),
    ("dac", "Dispositif d'appui à la coordination (DAC)"),
    ("other_cpts", "Autre CPTS (hors territoire)"),
    ("social", "Service social"),
    ("other", "Autre"),
];

pub fn decline_reason_label(code: &str) -> Option<&'static str> {
    DECLINE_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, label)| *label)
}

pub fn redirection_label(code: &str) -> Option<&'static str> {
    REDIRECTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, label)| *label)
}

/// Age groups a doctor may say they take.
pub const AGE_GROUPS: [(&str, &str); 3] = [
    ("children", "Enfants (moins de 16 ans)"),
    ("adults", "Adultes"),
    ("elderly", "Personnes âgées (70 ans et plus)"),
];

/// Which age group a patient falls in, for a doctor's preferences.
pub fn age_group(age: Option<u32>) -> &'static str {
    match age {
        Some(age) if age < 16 => "children",
        Some(age) if age >= 70 => "elderly",
        _ => "adults",
    }
}

/// Median of whole numbers (days), the lower middle for an even count.
pub fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

coded_enum!(
    /// Where a proposal of a GP to a patient stands: a draft of the matching (or picked by hand), sent with
    /// its link, then answered; cancelled when its request no longer waits for a doctor.
    ProposalStatus {
        Draft => ("draft", "Brouillon"),
        Sent => ("sent", "Envoyée"),
        Accepted => ("accepted", "Acceptée"),
        Declined => ("declined", "Refusée"),
        Cancelled => ("cancelled", "Annulée"),
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::WorkflowState;

    #[test]
    fn priority_adds_points_and_explains_them() {
        let rules = PriorityRules::default();
        let criteria = Criteria {
            ald: true,
            isolation: true,
            ..Default::default()
        };
        let p = priority(&rules, &criteria, Some(75), 10);
        assert_eq!(p.score, 1 + 3 + 2 + 3);
        assert_eq!(p.explanation(), "ALD + isolement + 75 ans");
        let waiting = priority(&rules, &Criteria::default(), Some(40), 95);
        assert_eq!(waiting.score, 1 + 3);
        assert_eq!(waiting.explanation(), "attente 3 mois");
        let capped = priority(&rules, &Criteria::default(), Some(40), 3000);
        assert_eq!(capped.score, 1 + rules.waiting_max);
        let child = priority(&rules, &Criteria::default(), Some(4), 0);
        assert_eq!(child.explanation(), "enfant de 4 ans");
        let nothing = priority(&rules, &Criteria::default(), None, 0);
        assert_eq!(
            (nothing.score, nothing.explanation().as_str()),
            (1, "aucun critère de priorité")
        );
    }

    #[test]
    fn zero_points_remove_a_criterion_from_the_explanation() {
        let rules = PriorityRules {
            ald: 0,
            ..Default::default()
        };
        let p = priority(
            &rules,
            &Criteria {
                ald: true,
                ..Default::default()
            },
            Some(30),
            0,
        );
        assert_eq!((p.score, p.reasons.len()), (1, 0));
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_on("1950-06-15", "2026-06-14"), Some(75));
        assert_eq!(age_on("1950-06-15", "2026-06-15"), Some(76));
        assert_eq!(age_on("2030-01-01", "2026-06-15"), None);
        assert_eq!(age_on("1950-xx-15", "2026-06-15"), None);
    }

    #[test]
    fn states_follow_the_workflow() {
        use RequestState::*;
        assert!(Received.can_move_to(Qualified));
        assert!(!Received.can_move_to(Closed));
        assert!(Proposed.can_move_to(Accepted));
        assert!(Accepted.can_move_to(FirstVisit));
        assert!(FirstVisit.can_move_to(Closed));
        for state in RequestState::ALL {
            assert_eq!(RequestState::parse(state.code()), Some(state));
            assert_eq!(state.is_final(), state.next_states().is_empty());
            assert_eq!(state.is_final(), state.overdue_after_days().is_none());
        }
        assert!(Received.is_overdue(0, 4 * 86_400_000));
        assert!(!Received.is_overdue(0, 2 * 86_400_000));
        assert!(!Closed.is_overdue(0, i64::MAX / 2));
    }

    #[test]
    fn rules_are_checked_and_merges_keep_every_criterion() {
        assert!(PriorityRules::default().check().is_ok());
        let bad = PriorityRules {
            aged_from: 30,
            ..Default::default()
        };
        assert_eq!(
            bad.check().unwrap_err().field,
            "Âge à partir duquel compter"
        );
        let a = Criteria {
            ald: true,
            ..Default::default()
        };
        let b = Criteria {
            css: true,
            ..Default::default()
        };
        assert_eq!(a.union(b).codes(), vec!["ald", "css"]);
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2));
        assert_eq!(median(&mut []), None);
    }
}

#[cfg(test)]
mod written_criteria_tests {
    use super::Criterion;

    #[test]
    fn criteria_are_read_in_french_or_by_code() {
        assert_eq!(Criterion::parse_written("ald"), Some(Criterion::Ald));
        assert_eq!(
            Criterion::parse_written(" Perte d'autonomie "),
            Some(Criterion::LossOfAutonomy)
        );
        assert_eq!(
            Criterion::parse_written("PRECARITE"),
            Some(Criterion::Precarity)
        );
        assert_eq!(Criterion::parse_written("C2S"), Some(Criterion::Css));
        assert_eq!(
            Criterion::parse_written("médecin parti"),
            Some(Criterion::FormerGpLeft)
        );
        assert_eq!(Criterion::parse_written("autre"), None);
        assert_eq!(Criterion::parse_written(""), None);
    }
}

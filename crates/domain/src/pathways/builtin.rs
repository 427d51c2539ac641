//! The pathways Maillage ships, from the CPTS projects' health plans (`docs/parcours.md` gives each source):
//! a CPTS copies one and adapts its windows (PRADO books the GP within 7 days where the seeds say 14).

use super::*;

struct Draft {
    code: &'static str,
    label: &'static str,
    owner: CareRole,
    from: Anchor,
    window: Window,
    evidence: Evidence,
}

fn step(draft: Draft) -> StepTemplate {
    StepTemplate {
        code: draft.code.into(),
        label: draft.label.into(),
        owner: draft.owner,
        from: draft.from,
        window: draft.window,
        recurrence: None,
        instrument: None,
        evidence: draft.evidence,
        triggers: Vec::new(),
        on_trigger_only: false,
    }
}

fn seen(
    code: &'static str,
    label: &'static str,
    owner: CareRole,
    from: Anchor,
    window: Window,
) -> StepTemplate {
    step(Draft {
        code,
        label,
        owner,
        from,
        window,
        evidence: Evidence::DateSeen,
    })
}

fn with_instrument(mut step: StepTemplate, instrument: &str) -> StepTemplate {
    step.instrument = Some(instrument.into());
    step.evidence = Evidence::Result;
    step
}

fn triggered(mut step: StepTemplate) -> StepTemplate {
    step.on_trigger_only = true;
    step
}

const DISCHARGE: &str = "Sortie d'hospitalisation";

/// Heart failure after a hospital stay (PRADO IC): nurse ≤ D8, BNP at D8 ± 2, GP ≤ D14, cardiologist within
/// 2 months, therapeutic education within 3 months, flu vaccination within 6 months.
pub fn heart_failure() -> PathwayTemplate {
    PathwayTemplate {
        code: "insuffisance-cardiaque".into(),
        version: 1,
        name: "Insuffisance cardiaque après hospitalisation".into(),
        event: Some(DISCHARGE.into()),
        steps: vec![
            seen(
                "infirmier-j8",
                "Visite de l'infirmier",
                CareRole::Nurse,
                Anchor::Event,
                Window::within(Offset::days(8)),
            ),
            step(Draft {
                code: "biologie-bnp",
                label: "Biologie avec BNP",
                owner: CareRole::Laboratory,
                from: Anchor::Event,
                window: Window::around(8, 2),
                evidence: Evidence::Result,
            }),
            with_instrument(
                seen(
                    "medecin-j14",
                    "Consultation du médecin traitant (classe NYHA)",
                    CareRole::GeneralPractitioner,
                    Anchor::Event,
                    Window::within(Offset::days(14)),
                ),
                "nyha",
            ),
            seen(
                "cardiologue-2-mois",
                "Consultation du cardiologue",
                CareRole::Cardiologist,
                Anchor::Event,
                Window::within(Offset::months(2)),
            ),
            seen(
                "education-therapeutique",
                "Séance d'éducation thérapeutique",
                CareRole::Nurse,
                Anchor::Event,
                Window::within(Offset::months(3)),
            ),
            seen(
                "vaccination-grippe",
                "Vaccination contre la grippe",
                CareRole::Pharmacist,
                Anchor::Event,
                Window::within(Offset::months(6)),
            ),
        ],
    }
}

/// Frail elderly person: ICOPE step 1 at inclusion then every 4–6 months (a positive domain creates the GP's
/// step-2 assessment), frailty screening (GFST), the caregiver's burden (Zarit: above "moderate" creates a
/// caregiver-support step), home help and the EHPAD link.
pub fn frail_elderly() -> PathwayTemplate {
    let mut icope = with_instrument(
        seen(
            "icope-etape-1",
            "Repérage ICOPE étape 1",
            CareRole::Nurse,
            Anchor::Inclusion,
            Window::within(Offset::days(30)),
        ),
        "icope-1",
    );
    icope.recurrence = Some(Recurrence {
        every: Window {
            earliest: Offset::months(4),
            latest: Offset::months(6),
        },
    });
    icope.triggers = vec![Trigger {
        when: Condition::PositiveDomain { domain: None },
        creates: "icope-etape-2".into(),
    }];
    let mut zarit = with_instrument(
        seen(
            "aidant-zarit",
            "Fardeau de l'aidant (Zarit)",
            CareRole::Coordination,
            Anchor::Inclusion,
            Window::within(Offset::months(2)),
        ),
        "zarit-22",
    );
    zarit.triggers = vec![Trigger {
        when: Condition::BandAbove { rank: 2 },
        creates: "soutien-aidant".into(),
    }];
    PathwayTemplate {
        code: "personne-agee-fragile".into(),
        version: 1,
        name: "Personne âgée fragile".into(),
        event: None,
        steps: vec![
            icope,
            triggered(seen(
                "icope-etape-2",
                "Évaluation approfondie ICOPE étape 2",
                CareRole::GeneralPractitioner,
                Anchor::Step("icope-etape-1".into()),
                Window::within(Offset::months(1)),
            )),
            with_instrument(
                seen(
                    "gfst",
                    "Repérage de la fragilité (GFST)",
                    CareRole::GeneralPractitioner,
                    Anchor::Inclusion,
                    Window::within(Offset::days(30)),
                ),
                "gfst",
            ),
            zarit,
            triggered(seen(
                "soutien-aidant",
                "Orientation de l'aidant (plateforme de répit, accueil de jour)",
                CareRole::SocialWorker,
                Anchor::Step("aidant-zarit".into()),
                Window::within(Offset::days(30)),
            )),
            seen(
                "aide-domicile",
                "Mise en place de l'aide à domicile",
                CareRole::SocialWorker,
                Anchor::Inclusion,
                Window::within(Offset::months(2)),
            ),
            step(Draft {
                code: "lien-ehpad",
                label: "Lien avec l'EHPAD (accueil temporaire, de jour, unité Alzheimer)",
                owner: CareRole::Coordination,
                from: Anchor::Inclusion,
                window: Window::within(Offset::months(3)),
                evidence: Evidence::LiaisonSheet,
            }),
        ],
    }
}

/// After a stroke: the PRADO referent within 7 days of discharge, the liaison letter received within 7 days,
/// the GP within a month, the neurologist within 3 months.
pub fn post_stroke() -> PathwayTemplate {
    PathwayTemplate {
        code: "post-avc".into(),
        version: 1,
        name: "Après un accident vasculaire cérébral".into(),
        event: Some(DISCHARGE.into()),
        steps: vec![
            seen(
                "referent-prado",
                "Contact du conseiller PRADO",
                CareRole::PradoAdvisor,
                Anchor::Event,
                Window::within(Offset::days(7)),
            ),
            step(Draft {
                code: "courrier-liaison",
                label: "Courrier de liaison reçu par le médecin traitant",
                owner: CareRole::GeneralPractitioner,
                from: Anchor::Event,
                window: Window::within(Offset::days(7)),
                evidence: Evidence::LiaisonSheet,
            }),
            seen(
                "medecin-1-mois",
                "Consultation du médecin traitant",
                CareRole::GeneralPractitioner,
                Anchor::Event,
                Window::within(Offset::months(1)),
            ),
            seen(
                "kinesitherapie",
                "Début de la rééducation",
                CareRole::Physiotherapist,
                Anchor::Event,
                Window::within(Offset::days(15)),
            ),
            seen(
                "neurologue-3-mois",
                "Consultation du neurologue",
                CareRole::Neurologist,
                Anchor::Event,
                Window::within(Offset::months(3)),
            ),
        ],
    }
}

/// Mental health, complex situation: an assessment, then a case meeting within a month of inclusion.
pub fn mental_health() -> PathwayTemplate {
    PathwayTemplate {
        code: "sante-mentale".into(),
        version: 1,
        name: "Santé mentale — situation complexe".into(),
        event: None,
        steps: vec![
            seen(
                "evaluation",
                "Évaluation par le médecin traitant",
                CareRole::GeneralPractitioner,
                Anchor::Inclusion,
                Window::within(Offset::days(15)),
            ),
            step(Draft {
                code: "rcp",
                label: "Réunion de concertation pluriprofessionnelle",
                owner: CareRole::Coordination,
                from: Anchor::Inclusion,
                window: Window::within(Offset::months(1)),
                evidence: Evidence::Decision,
            }),
            seen(
                "psychiatre",
                "Avis du psychiatre ou du CMP",
                CareRole::Psychiatrist,
                Anchor::Step("rcp".into()),
                Window::within(Offset::months(2)),
            ),
        ],
    }
}

/// A child with a neurodevelopmental disorder (TND): screening, orientation to the coordination platform,
/// the waiting list for assessments, a case meeting.
pub fn neurodevelopmental_child() -> PathwayTemplate {
    PathwayTemplate {
        code: "enfant-tnd".into(),
        version: 1,
        name: "Enfant avec un trouble du neurodéveloppement (TND)".into(),
        event: None,
        steps: vec![
            seen(
                "reperage",
                "Repérage par le médecin (grille de repérage TND)",
                CareRole::GeneralPractitioner,
                Anchor::Inclusion,
                Window::within(Offset::days(15)),
            ),
            step(Draft {
                code: "orientation-pco",
                label: "Orientation vers la plateforme de coordination et d'orientation (PCO)",
                owner: CareRole::Coordination,
                from: Anchor::Step("reperage".into()),
                window: Window::within(Offset::days(30)),
                evidence: Evidence::LiaisonSheet,
            }),
            seen(
                "bilan-orthophonie",
                "Bilan d'orthophonie (liste d'attente)",
                CareRole::SpeechTherapist,
                Anchor::Step("orientation-pco".into()),
                Window::within(Offset::months(6)),
            ),
            step(Draft {
                code: "rcp",
                label: "Réunion de concertation pluriprofessionnelle",
                owner: CareRole::Coordination,
                from: Anchor::Inclusion,
                window: Window::within(Offset::months(3)),
                evidence: Evidence::Decision,
            }),
        ],
    }
}

/// Any hospital discharge: the liaison sheet within 2 days, the nurse within 3 if needed, the GP within 7.
pub fn hospital_discharge() -> PathwayTemplate {
    PathwayTemplate {
        code: "sortie-hospitalisation".into(),
        version: 1,
        name: "Sortie d'hospitalisation".into(),
        event: Some(DISCHARGE.into()),
        steps: vec![
            step(Draft {
                code: "fiche-liaison",
                label: "Fiche de liaison reçue",
                owner: CareRole::Coordination,
                from: Anchor::Event,
                window: Window::within(Offset::days(2)),
                evidence: Evidence::LiaisonSheet,
            }),
            seen(
                "infirmier-j3",
                "Passage de l'infirmier",
                CareRole::Nurse,
                Anchor::Event,
                Window::within(Offset::days(3)),
            ),
            seen(
                "pharmacien-conciliation",
                "Conciliation médicamenteuse en officine",
                CareRole::Pharmacist,
                Anchor::Event,
                Window::within(Offset::days(7)),
            ),
            seen(
                "medecin-j7",
                "Consultation du médecin traitant",
                CareRole::GeneralPractitioner,
                Anchor::Event,
                Window::within(Offset::days(7)),
            ),
        ],
    }
}

/// Every built-in template, by code.
pub fn all() -> Vec<PathwayTemplate> {
    vec![
        heart_failure(),
        frail_elderly(),
        post_stroke(),
        mental_health(),
        neurodevelopmental_child(),
        hospital_discharge(),
    ]
}

/// The built-in template of a code.
pub fn find(code: &str) -> Option<PathwayTemplate> {
    all().into_iter().find(|t| t.code == code)
}

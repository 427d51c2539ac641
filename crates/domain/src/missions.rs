//! The missions of a CPTS under the ACI contract, as the navigation shows them. Which ones are delivered is
//! the web application's mission registry (`maillage_web` `missions/registry.rs`).

/// One mission (or the running of the association), with where it lives in the web interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mission {
    /// URL segment under `/c/{cpts}/`.
    pub slug: &'static str,
    /// French name shown in the menu.
    pub label: &'static str,
    /// One sentence telling the coordinator what this mission covers.
    pub summary: &'static str,
    /// Mandatory (socle) under the ACI, or optional.
    pub mandatory: bool,
}

pub const MISSIONS: [Mission; 8] = [
    Mission {
        slug: "territoire",
        label: "Territoire et annuaire",
        summary: "Communes, population, professionnels et structures du territoire, diagnostic.",
        mandatory: true,
    },
    Mission {
        slug: "medecin-traitant",
        label: "Accès à un médecin traitant",
        summary:
            "Demandes des patients sans médecin traitant, priorisation, propositions aux médecins.",
        mandatory: true,
    },
    Mission {
        slug: "soins-non-programmes",
        label: "Soins non programmés et SAS",
        summary:
            "Agenda partagé des créneaux, tableau d'astreinte, réservations, dysfonctionnements.",
        mandatory: true,
    },
    Mission {
        slug: "parcours",
        label: "Parcours de soins",
        summary: "Inclusion, équipe de soins, étapes à échéance, réunions de concertation.",
        mandatory: true,
    },
    Mission {
        slug: "prevention",
        label: "Prévention",
        summary: "Actions de dépistage, vaccination, ateliers et campagnes relayées.",
        mandatory: true,
    },
    Mission {
        slug: "crise-sanitaire",
        label: "Crise sanitaire",
        summary: "Plan de crise, référents, alertes aux professionnels, exercices.",
        mandatory: true,
    },
    Mission {
        slug: "qualite",
        label: "Qualité et pertinence",
        summary: "Fiches constat, groupes de travail, formations et soirées d'échange.",
        mandatory: false,
    },
    Mission {
        slug: "accompagnement",
        label: "Accompagnement des professionnels",
        summary: "Accueil des nouveaux installés, départs, maîtres de stage.",
        mandatory: false,
    },
];

pub fn find(slug: &str) -> Option<&'static Mission> {
    MISSIONS.iter().find(|mission| mission.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_url_safe() {
        for (i, mission) in MISSIONS.iter().enumerate() {
            assert!(mission
                .slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-'));
            assert!(MISSIONS[i + 1..].iter().all(|m| m.slug != mission.slug));
            assert_eq!(find(mission.slug), Some(mission));
        }
        assert_eq!(find("inconnue"), None);
    }
}

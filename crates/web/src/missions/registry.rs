//! The pages' side of the mission registry: each delivered mission declares here, once, its routes and the
//! permission that shows it in the menu. The router, the missions menu, the dashboard and the "à venir"
//! pages of the missions not delivered yet all read this list (the services' side, with hourly upkeep and
//! job handlers, is `maillage_app::missions`). The catalogue of ACI missions, with their French names, is
//! `maillage_domain::missions::MISSIONS`.

use crate::access::GuardedRouter;
use maillage_domain::authz::{allows, Permission, Role};
use maillage_domain::missions::{Mission, MISSIONS};

/// A delivered mission's pages.
pub struct MissionPages {
    /// The mission's slug in the domain catalogue (its landing page is `/c/{cpts}/<slug>`).
    pub slug: &'static str,
    /// Who sees the mission in the menu and on the dashboard.
    pub menu: Permission,
    /// Each page module's routes, in declaration order.
    pub routes: &'static [fn(GuardedRouter) -> GuardedRouter],
}

pub const DELIVERED: [MissionPages; 4] = [
    MissionPages {
        slug: "territoire",
        menu: Permission::ViewDashboard,
        routes: &[
            super::territory::routes,
            super::directory::routes,
            super::structures::routes,
            super::imports::routes,
            super::diagnostic::routes,
        ],
    },
    MissionPages {
        slug: "medecin-traitant",
        menu: Permission::ViewDashboard,
        routes: &[super::doctor_search::routes],
    },
    MissionPages {
        slug: "soins-non-programmes",
        menu: Permission::ViewDashboard,
        routes: &[
            super::unscheduled_care::routes,
            super::snp_sharing::routes,
            super::snp_rota::routes,
            super::snp_reports::routes,
        ],
    },
    MissionPages {
        slug: "parcours",
        menu: Permission::ViewPathways,
        routes: &[
            super::pathways::routes,
            super::pathway_patients::routes,
            super::pathway_patient::routes,
            super::pathway_step::routes,
            super::pathway_indicators::routes,
            super::pathway_waiting::routes,
            super::pathway_liaison::routes,
            super::pathway_meetings::routes,
        ],
    },
];

pub fn delivered(slug: &str) -> Option<&'static MissionPages> {
    DELIVERED.iter().find(|pages| pages.slug == slug)
}

/// Every delivered mission's routes.
pub fn routes(router: GuardedRouter) -> GuardedRouter {
    DELIVERED
        .iter()
        .flat_map(|pages| pages.routes.iter())
        .fold(router, |router, routes| routes(router))
}

/// A mission of the catalogue as the menu and the dashboard show it to one role.
pub struct MissionEntry {
    pub mission: &'static Mission,
    /// False while its pages are not delivered ("à venir").
    pub available: bool,
}

/// The catalogue's missions this role sees, in catalogue order: the delivered ones whose menu permission
/// the role holds, and the ones still to come (their page says so and records nothing).
pub fn menu(role: Role) -> Vec<MissionEntry> {
    MISSIONS
        .iter()
        .filter_map(|mission| match delivered(mission.slug) {
            Some(pages) if !allows(role, pages.menu) => None,
            pages => Some(MissionEntry {
                mission,
                available: pages.is_some(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_delivered_mission_is_in_the_catalogue_once() {
        for (i, pages) in DELIVERED.iter().enumerate() {
            assert!(
                maillage_domain::missions::find(pages.slug).is_some(),
                "{} is not a mission of the catalogue",
                pages.slug
            );
            assert!(DELIVERED[i + 1..].iter().all(|p| p.slug != pages.slug));
            assert!(!pages.routes.is_empty());
        }
    }

    #[test]
    fn the_menu_follows_the_catalogue_and_marks_what_is_to_come() {
        let menu = menu(Role::Partner);
        // Every mission of the catalogue, but the delivered ones the role may not open (a partner has no
        // pathways).
        let expected: Vec<&str> = MISSIONS
            .iter()
            .filter(|m| delivered(m.slug).is_none_or(|pages| allows(Role::Partner, pages.menu)))
            .map(|m| m.slug)
            .collect();
        let shown: Vec<&str> = menu.iter().map(|entry| entry.mission.slug).collect();
        assert_eq!(shown, expected);
        assert!(!shown.contains(&"parcours"));
        for entry in &menu {
            assert_eq!(entry.available, delivered(entry.mission.slug).is_some());
        }
        assert!(menu.iter().any(|entry| !entry.available));
    }
}

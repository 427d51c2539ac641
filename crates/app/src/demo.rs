//! The demo deployment: the CPTS of `shared/domain/demo-territory.md` with fictitious people in every role.

use crate::accounts::{AccountError, AccountRequest, Accounts};
use crate::clock::now_ms;
use maillage_domain::authz::Role;
use maillage_store::{Cpts, NewCpts, Store, StoreError};

/// Every demo account shares this password; the demo listens on 127.0.0.1 only.
pub const DEMO_PASSWORD: &str = "demo-maillage-2026";
pub const DEMO_CPTS_SLUG: &str = "camargue-gardoise";
pub const OTHER_DEMO_CPTS_SLUG: &str = "vidourle";
/// The ten communes of the demo territory (shared/domain/demo-territory.md).
pub const DEMO_COMMUNES: [&str; 10] = [
    "30003", "30006", "30020", "30033", "30036", "30128", "30059", "30169", "30276", "30341",
];

pub struct DemoLogin {
    pub email: &'static str,
    pub name: &'static str,
    /// What this person is, in French, as printed at start.
    pub what: &'static str,
    pub platform_admin: bool,
    pub role: Option<(&'static str, Role)>,
}

/// Fictitious people: any resemblance to real persons is accidental.
pub const DEMO_LOGINS: [DemoLogin; 6] = [
    DemoLogin {
        email: "admin@maillage.test",
        name: "Alix Admin",
        what: "administration de la plateforme",
        platform_admin: true,
        role: None,
    },
    DemoLogin {
        email: "coordination@camargue.test",
        name: "Claire Roussel",
        what: "coordinatrice de la CPTS Camargue Gardoise",
        platform_admin: false,
        role: Some((DEMO_CPTS_SLUG, Role::Coordinator)),
    },
    DemoLogin {
        email: "secretariat@camargue.test",
        name: "Samir Benali",
        what: "secrétariat / régulation",
        platform_admin: false,
        role: Some((DEMO_CPTS_SLUG, Role::Secretary)),
    },
    DemoLogin {
        email: "dr.fabre@camargue.test",
        name: "Dr Élise Fabre",
        what: "médecin généraliste membre",
        platform_admin: false,
        role: Some((DEMO_CPTS_SLUG, Role::Member)),
    },
    DemoLogin {
        email: "dac@camargue.test",
        name: "Jeanne Marty (DAC 30)",
        what: "partenaire adresseur (DAC)",
        platform_admin: false,
        role: Some((DEMO_CPTS_SLUG, Role::Partner)),
    },
    DemoLogin {
        email: "coordination@vidourle.test",
        name: "Hugo Lambert",
        what: "coordinateur d'une autre CPTS (Vidourle)",
        platform_admin: false,
        role: Some((OTHER_DEMO_CPTS_SLUG, Role::Coordinator)),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Account(#[from] AccountError),
}

/// Creates the demo CPTS and accounts unless they exist already. Returns true when it created them.
pub async fn seed(store: &dyn Store, accounts: &Accounts) -> Result<bool, DemoError> {
    if store.find_cpts_by_slug(DEMO_CPTS_SLUG).await?.is_some() {
        return Ok(false);
    }
    let now = now_ms();
    let camargue = store
        .create_cpts(
            &NewCpts {
                slug: DEMO_CPTS_SLUG.into(),
                name: "CPTS Camargue Gardoise (démo)".into(),
                // Fictitious FINESS and SIRET numbers that pass the Luhn check.
                finess: Some("300009990".into()),
                siret: Some("88820012340002".into()),
            },
            now,
        )
        .await?;
    let vidourle = store
        .create_cpts(
            &NewCpts {
                slug: OTHER_DEMO_CPTS_SLUG.into(),
                name: "CPTS du Vidourle (démo)".into(),
                finess: Some("340009992".into()),
                siret: None,
            },
            now,
        )
        .await?;
    let communes: Vec<String> = DEMO_COMMUNES.iter().map(|c| c.to_string()).collect();
    store.add_to_territory(camargue.id, &communes, now).await?;
    let cpts_for = |slug: &str| -> &Cpts {
        if slug == DEMO_CPTS_SLUG {
            &camargue
        } else {
            &vidourle
        }
    };
    for login in &DEMO_LOGINS {
        accounts
            .create(
                AccountRequest {
                    email: login.email,
                    display_name: login.name,
                    password: DEMO_PASSWORD,
                    is_platform_admin: login.platform_admin,
                    role: login.role.map(|(slug, role)| (cpts_for(slug).id, role)),
                },
                now,
            )
            .await?;
    }
    Ok(true)
}

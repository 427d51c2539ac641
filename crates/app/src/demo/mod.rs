//! The demo deployment: the CPTS of `shared/domain/demo-territory.md` with fictitious people in every role.

mod doctor_search;
mod pathways;
mod unscheduled_care;
use doctor_search::*;
use unscheduled_care::*;

use crate::accounts::{AccountError, AccountRequest, Accounts};

use crate::clock::{now_ms, year_of};

use crate::directory::members::facts_text;

use crate::directory::synthetic::{write_extract, ExtractSpec};

use crate::directory::{finess::import_finess, import_extract, ImportError, ImportReport};

use maillage_domain::audit::AuditAction;

use maillage_domain::authz::Role;

use maillage_domain::identifiers::with_luhn_key;

use maillage_domain::professional::{ProfessionalFacts, Visibility};

use maillage_domain::structures::finess_line;

use maillage_store::{
    Cpts, CptsId, DirectoryQuery, ImportRun, NewCpts, Page, Store, StoreError, StructureFacts,
    StructureIdentity, StructureQuery,
};

use std::sync::Arc;

/// Every demo account shares this password; the demo listens on 127.0.0.1 only.
pub const DEMO_PASSWORD: &str = "demo-maillage-2026";

pub const DEMO_CPTS_SLUG: &str = "camargue-gardoise";

pub const OTHER_DEMO_CPTS_SLUG: &str = "vidourle";

/// The ten communes of the demo territory (shared/domain/demo-territory.md).
pub const DEMO_COMMUNES: [&str; 10] = [
    "30003", "30006", "30020", "30033", "30036", "30128", "30059", "30169", "30276", "30341",
];

/// Communes of the other demo CPTS (Vidourle, Gard).
pub const OTHER_DEMO_COMMUNES: [&str; 4] = ["30062", "30210", "30311", "30321"];

pub struct DemoLogin {
    pub email: &'static str,
    pub name: &'static str,
    /// What this person is, in French, as printed at start.
    pub what: &'static str,
    pub platform_admin: bool,
    pub role: Option<(&'static str, Role)>,
}

/// Fictitious people: any resemblance to real persons is accidental.
pub const DEMO_LOGINS: [DemoLogin; 7] = [
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
        email: "ide.garcia@camargue.test",
        name: "Inès Garcia",
        what: "infirmière libérale membre (parcours de soins)",
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
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Creates the demo CPTS and accounts unless they exist already. Returns true when it created them.
pub async fn seed(shared: &Arc<dyn Store>, accounts: &Accounts) -> Result<bool, DemoError> {
    let store = shared.as_ref();
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
    // Fictitious numbers (the 04 99 range is not assigned to subscribers): they sign the demo's messages.
    for (cpts, phone) in [(camargue.id, "0499000100"), (vidourle.id, "0499000200")] {
        let entry = crate::audit::entry(
            &crate::audit::AuditContext::command_line().in_cpts(cpts),
            crate::audit::AuditEvent::new(
                maillage_domain::audit::AuditAction::CptsContactChanged,
                "cpts",
                cpts.to_string(),
            ),
        );
        store.set_contact_phone(cpts, phone, &entry).await?;
    }
    let communes: Vec<String> = DEMO_COMMUNES.iter().map(|c| c.to_string()).collect();
    store.add_to_territory(camargue.id, &communes, now).await?;
    let others: Vec<String> = OTHER_DEMO_COMMUNES.iter().map(|c| c.to_string()).collect();
    store.add_to_territory(vidourle.id, &others, now).await?;
    seed_directory(store, camargue.id, &DEMO_COMMUNES, 2026, 560).await?;
    seed_directory(store, vidourle.id, &OTHER_DEMO_COMMUNES, 1789, 160).await?;
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
    seed_doctor_search(
        shared,
        accounts,
        camargue.id,
        &DEMO_COMMUNES,
        Some("dr.fabre@camargue.test"),
    )
    .await?;
    seed_doctor_search(shared, accounts, vidourle.id, &OTHER_DEMO_COMMUNES, None).await?;
    seed_unscheduled_care(shared, accounts, camargue.id).await?;
    seed_unscheduled_care(shared, accounts, vidourle.id).await?;
    pathways::seed_pathways(shared, accounts, camargue.id, "ide.garcia@camargue.test").await?;
    Ok(true)
}

/// The médecin traitant mission of the demo: the GP account linked to a GP of the directory, a few GPs'
/// declared room, and fictitious requests entered through the real service (so they are encrypted and
/// audited like any other).
/// The first general practitioners of a CPTS's directory (the same ones for every part of the demo).
async fn general_practitioners(
    store: &dyn Store,
    cpts: CptsId,
    count: i64,
) -> Result<Vec<maillage_store::ProfessionalSummary>, StoreError> {
    store
        .search_professionals(
            cpts,
            &maillage_store::DirectoryQuery {
                profession_code: Some(maillage_store::GENERAL_PRACTICE.to_string()),
                ..Default::default()
            },
            maillage_store::Page::first(count),
        )
        .await
}

/// (family name, given names, birth date, commune, criteria, channel, referrer, qualified)
type DemoRequest<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a [&'a str],
    maillage_domain::doctor_search::Channel,
    &'a str,
    bool,
);

/// A postal code of a commune of the reference table.
fn postal_code(code: &str) -> &'static str {
    maillage_domain::identifiers::InseeCode::parse(code)
        .ok()
        .and_then(|code| maillage_domain::territory::find(&code))
        .and_then(|c| c.postal_codes.first())
        .map_or("", String::as_str)
}

/// Records a finished import in the history shown on the Imports page.
async fn record_run(
    store: &dyn Store,
    cpts: CptsId,
    kind: &str,
    file_name: &str,
    bytes: usize,
    report: &ImportReport,
) -> Result<(), StoreError> {
    let now = now_ms();
    let run = ImportRun::started(kind, file_name, bytes as u64, now);
    store.create_import(cpts, &run, None).await?;
    let json = serde_json::to_string(report).unwrap_or_default();
    store.finish_import(run.id, Ok(&json), now).await
}

/// A fictitious directory for a demo CPTS, loaded through the real importers: a synthetic national extract
/// (people on the territory and a few around it), a FINESS extraction, then what the coordination records
/// (members, new patients, unscheduled care, birth years of general practitioners, public entries).
async fn seed_directory(
    store: &dyn Store,
    cpts: CptsId,
    communes: &[&str],
    seed: u64,
    rows: usize,
) -> Result<(), DemoError> {
    let local: Vec<(&str, &str)> = communes.iter().map(|c| (*c, postal_code(c))).collect();
    let around: Vec<(&str, &str)> = ["30189", "30258", "30133", "34145"]
        .iter()
        .map(|c| (*c, postal_code(c)))
        .collect();
    let mut extract = Vec::new();
    write_extract(
        &mut extract,
        &ExtractSpec {
            rows,
            seed,
            communes: &local,
            elsewhere: &around,
            local_percent: 85,
            latin1: false,
        },
    )
    .map_err(ImportError::from)?;
    let report = import_extract(store, cpts, extract.as_slice(), |_| {}, now_ms()).await?;
    record_run(
        store,
        cpts,
        "annuaire",
        "PS_LibreAcces_Personne_activite_demo.txt",
        extract.len(),
        &report,
    )
    .await?;

    let establishments = [
        (
            "EHPAD LES SALICORNES",
            (
                "500",
                "Etablissement d'hébergement pour personnes âgées dépendantes",
            ),
        ),
        (
            "MAISON DE SANTE PLURIPROFESSIONNELLE DU PORT",
            ("603", "Maison de santé (L.6223-3)"),
        ),
        ("PHARMACIE DES REMPARTS", ("620", "Pharmacie d'Officine")),
        ("PHARMACIE DU MARCHE", ("620", "Pharmacie d'Officine")),
        (
            "CMP ENFANTS ET ADOLESCENTS",
            ("156", "Centre Médico-Psychologique (C.M.P.)"),
        ),
        (
            "SSIAD DE LA PETITE CAMARGUE",
            ("354", "Service de Soins Infirmiers A Domicile (S.S.I.A.D)"),
        ),
        (
            "LABORATOIRE DE BIOLOGIE DES ETANGS",
            ("611", "Laboratoire de biologie médicale"),
        ),
        ("CENTRE DE SANTE DES FLAMANTS", ("124", "Centre de Santé")),
    ];
    let mut finess = String::from("finess;etalab;95;2026-11-01\n");
    for (index, (name, category)) in establishments.iter().enumerate() {
        let commune = communes[index % communes.len()];
        let number = with_luhn_key(&format!(
            "{}{:06}",
            &commune[..2],
            seed % 1000 * 100 + index as u64
        ));
        let city = maillage_domain::identifiers::InseeCode::parse(commune)
            .ok()
            .and_then(|code| maillage_domain::territory::find(&code))
            .map(|c| c.name.to_uppercase())
            .unwrap_or_default();
        finess.push_str(&finess_line(
            &number,
            name,
            "DES ETANGS",
            commune,
            &format!("{} {city}", postal_code(commune)),
            &format!("0466{:06}", index * 1_111),
            *category,
            "",
        ));
        finess.push('\n');
    }
    let report = import_finess(store, cpts, finess.as_bytes(), |_| {}, now_ms()).await?;
    record_run(
        store,
        cpts,
        "finess",
        "etalab-cs1100507-stock-demo.csv",
        finess.len(),
        &report,
    )
    .await?;

    // Structures without FINESS, entered by the coordination.
    let now = now_ms();
    for (name, kind, commune) in [
        (
            "Dispositif d'appui à la coordination du Gard",
            "dac",
            communes[0],
        ),
        ("CCAS", "ccas", communes[communes.len() - 1]),
    ] {
        store
            .create_structure(
                cpts,
                &StructureIdentity {
                    name: name.into(),
                    kind: kind.into(),
                    commune_code: commune.into(),
                    search_text: maillage_domain::text::fold(name),
                    ..StructureIdentity::default()
                },
                &StructureFacts {
                    partner_status: "partner".into(),
                    contact_name: "Accueil".into(),
                    ..StructureFacts::default()
                },
                now,
                &seeding(
                    cpts,
                    AuditAction::StructureCreated,
                    "structure",
                    String::new(),
                ),
            )
            .await?;
    }
    for structure in store
        .search_structures(cpts, &StructureQuery::default(), Page::new(1, 50))
        .await?
    {
        let mut facts = structure.facts();
        if structure.kind == "ehpad" {
            facts.services = "unite_alzheimer;accueil_de_jour;hebergement_temporaire".into();
            facts.partner_status = "partner".into();
            facts.agreement_signed_on = Some("2025-03-01".into());
            facts.agreement_ends_on = Some("2028-02-29".into());
        } else if structure.kind == "msp" {
            facts.partner_status = "member".into();
            facts.services = "soins_non_programmes".into();
        }
        store
            .update_structure_facts(
                cpts,
                structure.id,
                &facts,
                now,
                &seeding(
                    cpts,
                    AuditAction::StructureUpdated,
                    "structure",
                    structure.id.to_string(),
                ),
            )
            .await?;
    }

    // What the coordination knows of its professionals: one in two is a member.
    let year = year_of(now);
    let mut after = None;
    let mut index = 0_i64;
    loop {
        let batch = store
            .search_professionals(
                cpts,
                &DirectoryQuery {
                    after: after.clone(),
                    ..DirectoryQuery::default()
                },
                Page::new(1, 200),
            )
            .await?;
        let Some(last) = batch.last() else { break };
        after = Some((last.last_name.clone(), last.first_name.clone(), last.id));
        for p in &batch {
            index += 1;
            let member = index % 2 == 0;
            let gp = p.general_practitioner;
            let facts = ProfessionalFacts {
                member,
                visibility: if member {
                    Visibility::Public
                } else {
                    Visibility::Members
                },
                accepts_new_patients: gp && index % 3 == 0,
                new_patient_capacity: (gp && index % 3 == 0).then_some(5 + index % 20),
                snp_volunteer: member && index % 4 == 0,
                sas_effector: gp && member && index % 4 == 0,
                internship_supervisor: gp && index % 5 == 0,
                ipa: p.profession_code == "60" && index % 17 == 0,
                asalee: p.profession_code == "60" && index % 13 == 0,
                crisis_skills: if index % 9 == 0 {
                    "Gestes d'urgence, vaccination".into()
                } else {
                    String::new()
                },
                languages: if index % 7 == 0 {
                    "français, espagnol".into()
                } else {
                    String::new()
                },
                // General practitioners aged 35 to 70, so that the retirement watch has something to show.
                birth_year: gp.then_some(year - 35 - index % 36),
                // Some members who are not GPs have a contact e-mail (fictitious, `.test`): the members
                // page can invite them in one go.
                contact_email: if member && !gp && index % 3 == 0 {
                    let part = |name: &str| maillage_domain::text::fold(name).replace(' ', "-");
                    format!(
                        "{}.{}@sante-demo.test",
                        part(&p.first_name),
                        part(&p.last_name)
                    )
                } else {
                    String::new()
                },
                ..ProfessionalFacts::default()
            };
            store
                .update_professional_facts(
                    cpts,
                    p.id,
                    &facts,
                    None,
                    &facts_text(&facts, ""),
                    now,
                    &seeding(
                        cpts,
                        AuditAction::ProfessionalUpdated,
                        "professional",
                        p.id.to_string(),
                    ),
                )
                .await?;
        }
    }
    Ok(())
}

/// The audit entry of a change the demo's seeding writes, as the command line.
fn seeding(
    cpts: CptsId,
    action: AuditAction,
    kind: &str,
    id: String,
) -> maillage_store::NewAuditEntry {
    crate::audit::entry(
        &crate::audit::AuditContext::command_line().in_cpts(cpts),
        crate::audit::AuditEvent::new(action, kind, id),
    )
}

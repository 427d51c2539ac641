//! The demo's care pathways: the nurse account linked to the first nurse of the directory, and two
//! fictitious patients included through the real service — a heart-failure discharge ten days ago (the
//! nurse's step by D8 is late, the others due) and a frail elderly person to screen — so that the dashboard,
//! the lists and the alerts have something true to show.

use super::*;
use crate::pathway_care::{InclusionRequest, PathwayCare};
use maillage_domain::calendar::utc_to_paris;
use maillage_domain::pathways::inclusion::InclusionDraft;
use maillage_domain::pathways::CareRole;

async fn first_of(
    store: &dyn Store,
    cpts: CptsId,
    profession: &str,
    count: i64,
) -> Result<Vec<maillage_store::ProfessionalSummary>, StoreError> {
    store
        .search_professionals(
            cpts,
            &maillage_store::DirectoryQuery {
                profession_code: Some(profession.to_string()),
                ..Default::default()
            },
            maillage_store::Page::first(count),
        )
        .await
}

pub(super) async fn seed_pathways(
    shared: &Arc<dyn Store>,
    accounts: &Accounts,
    cpts: CptsId,
    nurse_login: &str,
) -> Result<(), DemoError> {
    let store = shared.as_ref();
    let gps = general_practitioners(store, cpts, 1).await?;
    let nurses = first_of(store, cpts, "60", 1).await?;
    let (Some(gp), Some(nurse)) = (gps.first(), nurses.first()) else {
        return Ok(());
    };
    let doctors = first_of(store, cpts, "10", 500).await?;
    let cardiologist = doctors.iter().find(|d| {
        maillage_domain::text::fold(&d.specialty)
            .to_ascii_uppercase()
            .contains("CARDIO")
    });
    if let Some(user) = store.find_user_by_email(nurse_login).await? {
        store
            .link_professional_account(cpts, user.id, nurse.id)
            .await?;
    }
    let service = PathwayCare::new(shared.clone(), accounts.keyring().clone());
    let caller = crate::caller::Caller::command_line(cpts);
    let today = utc_to_paris(now_ms()).0;
    let fail =
        |e: crate::pathways::PathwayError| DemoError::Store(StoreError::Corrupt(e.to_string()));
    let patients = [
        (
            "insuffisance-cardiaque",
            "EXEMPLE-CARDIO",
            "Marcel",
            "1941-03-12",
            Some(today.plus_days(-10)),
            [
                (gp.id, CareRole::GeneralPractitioner),
                (nurse.id, CareRole::Nurse),
            ]
            .into_iter()
            .chain(cardiologist.map(|c| (c.id, CareRole::Cardiologist)))
            .collect::<Vec<_>>(),
        ),
        (
            "personne-agee-fragile",
            "EXEMPLE-FRAGILE",
            "Odette",
            "1936-09-30",
            None,
            vec![
                (gp.id, CareRole::GeneralPractitioner),
                (nurse.id, CareRole::Nurse),
            ],
        ),
    ];
    for (template, family, given, birth, event, team) in patients {
        let request = InclusionRequest {
            template: template.into(),
            identity: crate::crypto::PatientIdentity {
                family_name: family.into(),
                given_names: given.into(),
                birth_date: birth.into(),
                phone: None,
                email: None,
                address: None,
                note: None,
            },
            draft: InclusionDraft {
                inclusion: Some(event.unwrap_or(today)),
                event,
                consent: true,
            },
            team,
        };
        service
            .include(&caller, &request, today)
            .await
            .map_err(fail)?;
    }
    Ok(())
}

//! The demo's access to a médecin traitant: GPs' room, requests in every state, a CPAM list, proposals.

use super::*;

pub(super) async fn seed_doctor_search(
    shared: &Arc<dyn Store>,
    accounts: &Accounts,
    cpts: CptsId,
    communes: &[&str],
    gp_account: Option<&str>,
) -> Result<(), DemoError> {
    use crate::doctor_search::{DoctorSearch, Origin, RequestFields};
    use maillage_domain::doctor_search::{Channel, RequestState};
    let store = shared.as_ref();
    let gps = general_practitioners(store, cpts, 8).await?;
    let now = now_ms();
    let account = match gp_account {
        Some(email) => store.find_user_by_email(email).await?,
        None => None,
    };
    // The demo's DAC account referred the DAC's requests of the CPTS where it is a partner: she follows
    // them in "Mes adressages".
    let mut dac = None;
    for login in DEMO_LOGINS
        .iter()
        .filter(|l| matches!(l.role, Some((_, Role::Partner))))
    {
        if let Some(user) = store.find_user_by_email(login.email).await? {
            if let Some((Role::Partner, _)) = store.membership(cpts, user.id).await? {
                dac = Some(user.id);
            }
        }
    }
    if let (Some(first), Some(user)) = (gps.first(), account) {
        store
            .link_professional_account(cpts, user.id, first.id)
            .await?;
    }
    for (index, gp) in gps.iter().enumerate().take(5) {
        store
            .save_capacity(
                cpts,
                &maillage_store::GpCapacity {
                    professional_id: gp.id,
                    now_capacity: [3, 2, 4, 1, 0][index],
                    later_capacity: [5, 3, 6, 2, 4][index],
                    communes: String::new(),
                    max_distance_km: None,
                    age_groups: "children;adults;elderly".into(),
                    home_visits: index % 2 == 0,
                    updated_at: now,
                    updated_by: None,
                },
                &crate::audit::entry(
                    &crate::audit::AuditContext::command_line().in_cpts(cpts),
                    crate::audit::AuditEvent::new(
                        maillage_domain::audit::AuditAction::CapacityDeclared,
                        "professional",
                        gp.id.to_string(),
                    ),
                ),
            )
            .await?;
    }
    let service = DoctorSearch::new(
        shared.clone(),
        accounts.keyring().clone(),
        crate::config::DoctorSearchConfig::default(),
        "http://127.0.0.1:8080",
        5,
    );
    let audit = crate::audit::AuditContext::command_line();
    let today = crate::clock::date_text(now);
    let requests: [DemoRequest; 10] = [
        (
            "ROUVIÈRE",
            "Marcelle",
            "12/04/1941",
            "30003",
            &["ald", "isolation"],
            Channel::Phone,
            "Pharmacie des Remparts",
            true,
        ),
        (
            "TESTON",
            "Albin",
            "03/09/1952",
            "30133",
            &["ald", "former_gp_left"],
            Channel::RetiringGpList,
            "Dr Fictif (départ en retraite)",
            true,
        ),
        (
            "BOUSQUET",
            "Léna",
            "21/06/2019",
            "30003",
            &[],
            Channel::WebForm,
            "",
            true,
        ),
        (
            "SABATIER",
            "Yanis",
            "30/01/1987",
            "30189",
            &["css"],
            Channel::Partner,
            "Service social de l'hôpital (démo)",
            true,
        ),
        (
            "PÉLISSIER",
            "Odette",
            "17/11/1936",
            "30133",
            &["loss_of_autonomy", "isolation"],
            Channel::Partner,
            "DAC du Gard (démo)",
            true,
        ),
        (
            "MOURGUES",
            "Thierry",
            "08/05/1963",
            "30003",
            &["precarity"],
            Channel::Phone,
            "",
            false,
        ),
        (
            "CASTAN",
            "Inès",
            "14/02/1995",
            "30189",
            &["pregnancy"],
            Channel::WebForm,
            "",
            false,
        ),
        (
            "FABREGAT",
            "Rémi",
            "02/12/1958",
            "30133",
            &["disability"],
            Channel::CpamList,
            "CPAM du Gard (démo)",
            true,
        ),
        (
            "VIGUIER",
            "Sylvie",
            "25/07/1949",
            "30003",
            &["ame"],
            Channel::Phone,
            "Mairie (démo)",
            false,
        ),
        (
            "ARNAL",
            "Gaston",
            "09/10/1944",
            "30189",
            &["ald"],
            Channel::CpamList,
            "CPAM du Gard (démo)",
            true,
        ),
    ];
    for (index, (family, given, birth, commune, criteria, channel, referrer, qualified)) in
        requests.iter().enumerate()
    {
        let fields = RequestFields {
            family_name: (*family).into(),
            given_names: (*given).into(),
            birth_date: (*birth).into(),
            // The demo's own communes, so that each CPTS's requests lie on its territory.
            commune: if communes.contains(commune) {
                (*commune).into()
            } else {
                communes[index % communes.len()].into()
            },
            phone: format!("06 00 00 {:02} {:02}", index, 10 + index),
            criteria: criteria.iter().map(|c| c.to_string()).collect(),
            consent: Some("oui".into()),
            ..Default::default()
        };
        let Ok(input) = fields.parse(&today) else {
            continue;
        };
        let origin = Origin {
            channel: *channel,
            referrer: (*referrer).into(),
            referrer_user: dac.filter(|_| referrer.starts_with("DAC")),
            consent_method: "démonstration (données fictives)".into(),
            recorded_by: None,
        };
        let caller = crate::caller::Caller::command_line(cpts);
        let submitted = service
            .submit(&caller, &input, &origin)
            .await
            .map_err(|e| DemoError::Store(StoreError::Corrupt(e.to_string())))?;
        if *qualified {
            service
                .change_state(&caller, submitted.id, RequestState::Qualified, "")
                .await
                .map_err(|e| DemoError::Store(StoreError::Corrupt(e.to_string())))?;
        }
    }
    // A list from the CPAM, imported as the page does it (one line refused, to show the report).
    let list = format!(
        "nom;prenom;date_naissance;commune;telephone;email;criteres;consentement\r\n\
         LISTE-DEMO;Aurore;11/06/1946;{c};0600009901;;ald;oui\r\n\
         LISTE-DEMO;Benoît;22/08/1972;{c};;;css;oui\r\n",
        c = communes[0]
    );
    let origin = Origin {
        channel: Channel::CpamList,
        referrer: "CPAM du Gard (démo)".into(),
        referrer_user: None,
        consent_method: "démonstration (données fictives)".into(),
        recorded_by: None,
    };
    let report = service
        .import_list(&audit, cpts, &list, &origin, |_, _| {})
        .await
        .map_err(|e| DemoError::Store(StoreError::Corrupt(e.to_string())))?;
    let run = ImportRun::started(
        crate::imports::REQUEST_LIST_KIND,
        "liste-cpam-demo.csv",
        list.len() as u64,
        now,
    );
    store.create_import(cpts, &run, None).await?;
    let json = serde_json::to_string(&report).unwrap_or_default();
    store.finish_import(run.id, Ok(&json), now_ms()).await?;
    Ok(())
}

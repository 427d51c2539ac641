//! The demo's unscheduled care: weekly patterns, published slots, bookings and the on-call rota.

use super::*;

/// Unscheduled care in the demo: the first GP with an account (else the first GP) publishes weekday mornings
/// for the coming weeks through the real service, and one slot is booked for a fictitious patient.
pub(super) async fn seed_unscheduled_care(
    shared: &Arc<dyn Store>,
    accounts: &Accounts,
    cpts: CptsId,
) -> Result<(), DemoError> {
    use crate::unscheduled_care::UnscheduledCare;
    use maillage_domain::unscheduled_care::{
        utc_to_paris, BookingOrigin, Modality, SlotKind, WeeklyPattern,
    };
    let store = shared.as_ref();
    let gps = general_practitioners(store, cpts, 3).await?;
    let service = UnscheduledCare::new(shared.clone(), accounts.keyring().clone(), 5);
    let caller = crate::caller::Caller::command_line(cpts);
    let today = utc_to_paris(now_ms()).0;
    let fail = |e: crate::unscheduled_care::CareError| {
        DemoError::Store(StoreError::Corrupt(e.to_string()))
    };
    for (index, gp) in gps.iter().enumerate().take(2) {
        for weekday in 1..=5 {
            let pattern = WeeklyPattern {
                weekday,
                start_minute: if index == 0 { 8 * 60 } else { 14 * 60 },
                end_minute: if index == 0 { 10 * 60 } else { 16 * 60 },
                slot_minutes: 20,
                kind: if weekday % 2 == 0 {
                    SlotKind::Cpts
                } else {
                    SlotKind::Sas
                },
                modality: Modality::Office,
                valid_from: today,
                valid_until: Some(today.plus_days(28)),
                exceptions: vec![],
                skip_public_holidays: true,
            };
            service
                .publish_pattern(&caller, gp.id, &pattern, "")
                .await
                .map_err(fail)?;
        }
    }
    // Saturday mornings of the next eight weeks, shared among the GPs.
    if !gps.is_empty() {
        service
            .build_rota(
                &caller,
                &crate::unscheduled_care::RotaRequest {
                    label: "Samedi matin".into(),
                    weekday: 6,
                    start_minute: 8 * 60,
                    end_minute: 12 * 60,
                    from: today,
                    to: today.plus_days(56),
                    skip_public_holidays: true,
                    professionals: gps.iter().map(|gp| gp.id).collect(),
                    profession: Some(maillage_store::GENERAL_PRACTICE.to_string()),
                },
            )
            .await
            .map_err(fail)?;
        propose_demo_swap(store, cpts, &gps).await?;
    }
    let now = now_ms();
    let free = store
        .search_free_slots(
            cpts,
            &maillage_store::SlotQuery {
                from: now,
                until: now + 28 * crate::clock::DAY_MS,
                ..Default::default()
            },
            now,
            maillage_store::Page::first(200),
        )
        .await?;
    // On the first GP's slots: the demo GP account (linked to that GP) sees the booking.
    if let Some(slot) = free
        .iter()
        .find(|s| gps.first().is_some_and(|gp| gp.id == s.professional_id))
    {
        if let Some(booking) = service
            .hold(
                &caller,
                slot.id,
                BookingOrigin::SasRegulation,
                "fievre",
                now,
            )
            .await
            .map_err(fail)?
        {
            let patient = crate::crypto::PatientIdentity {
                family_name: "EXEMPLE-SNP".into(),
                given_names: "Jules".into(),
                birth_date: "1984-02-29".into(),
                phone: Some("0600009902".into()),
                ..Default::default()
            };
            service
                .confirm(
                    &caller,
                    booking,
                    &patient,
                    BookingOrigin::SasRegulation,
                    "fievre",
                    // The SAS's (fictitious) identifier of the operator who booked.
                    Some(&maillage_domain::sas::SasOperator::Technical(
                        uuid::Uuid::from_u128(0x5a5_0000_0000_4000_8000_0000_0000_0001),
                    )),
                )
                .await
                .map_err(fail)?;
        }
    }
    Ok(())
}

/// A colleague of the demo GP asks her to swap Saturday mornings: her dashboard and rota show it to answer.
async fn propose_demo_swap(
    store: &dyn Store,
    cpts: CptsId,
    gps: &[maillage_store::ProfessionalSummary],
) -> Result<(), DemoError> {
    let (Some(asked), Some(colleague)) = (gps.first(), gps.get(1)) else {
        return Ok(());
    };
    let turns = store
        .list_rota_turns(
            cpts,
            "0000-01-01",
            "9999-12-31",
            &maillage_store::RotaFilter {
                label: Some("Samedi matin"),
                professional: None,
            },
            maillage_store::Page::first(20),
        )
        .await?;
    let offered = turns.iter().find(|t| t.professional_id == colleague.id);
    let wanted = turns.iter().rev().find(|t| t.professional_id == asked.id);
    let (Some(offered), Some(wanted)) = (offered, wanted) else {
        return Ok(());
    };
    let swap = maillage_store::RotaSwap {
        id: uuid::Uuid::now_v7(),
        turn_id: offered.id,
        wanted_turn_id: wanted.id,
        proposed_by: colleague.id,
        proposed_to: asked.id,
        status: maillage_domain::unscheduled_care::RotaSwapStatus::Pending,
        created_by: None,
        created_at: now_ms(),
        settled_at: None,
    };
    let audit = crate::audit::entry(
        &crate::audit::AuditContext::command_line().in_cpts(cpts),
        crate::audit::AuditEvent::new(
            maillage_domain::audit::AuditAction::SnpRotaSwapProposed,
            "snp_rota_swap",
            swap.id.to_string(),
        ),
    );
    store.propose_rota_swap(cpts, &swap, &audit).await?;
    Ok(())
}

//! A member swaps her rota turn with a colleague's, on SQLite and PostgreSQL: only her own turn against
//! someone else's, to come; the colleague is told (a delivery) and alone accepts or declines; acceptance
//! exchanges both turns with its audit entry in one transaction, and the other proposals of those turns lapse.

use crate::common;

use maillage_app::audit::{AuditContext, AuditEvent};
use maillage_app::caller::Caller;
use maillage_app::clock::now_ms;
use maillage_app::demo::DEMO_CPTS_SLUG;
use maillage_app::unscheduled_care::{CareError, RotaRequest, TurnChange, UnscheduledCare};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Role;
use maillage_domain::unscheduled_care::{utc_to_paris, RotaSwapStatus};
use maillage_store::testing::{make_user, raw_count, refuse_audit_appends};
use maillage_store::{Cpts, Page, RotaTurn, Store};
use std::sync::Arc;
use uuid::Uuid;

/// A second member with an account linked to a directory record that has an e-mail.
async fn colleague(store: &Arc<dyn Store>, cpts: &Cpts, besides: Uuid) -> (Caller, Uuid) {
    let mut record = None;
    for p in store
        .search_professionals(cpts.id, &Default::default(), Page::first(200))
        .await
        .unwrap()
    {
        if p.id != besides
            && store
                .professional_email(cpts.id, p.id)
                .await
                .unwrap()
                .is_some()
        {
            record = Some(p.id);
            break;
        }
    }
    let record = record.expect("a member with an e-mail in the demo");
    let user = make_user(store.as_ref(), "dr.confrere@camargue.test").await;
    store
        .grant_role(cpts.id, user.id, Role::Member, 0)
        .await
        .unwrap();
    let audit = maillage_app::audit::entry(
        &AuditContext::command_line().in_cpts(cpts.id),
        AuditEvent::new(
            AuditAction::AccountLinkedToRecord,
            "user",
            user.id.to_string(),
        ),
    );
    assert!(store
        .link_account_to_record(cpts.id, user.id, record, &audit)
        .await
        .unwrap());
    (
        common::caller_of(store, cpts.id, "dr.confrere@camargue.test").await,
        record,
    )
}

async fn turns(store: &Arc<dyn Store>, cpts: &Cpts) -> Vec<RotaTurn> {
    store
        .list_rota_turns(
            cpts.id,
            "2000-01-01",
            "9999-12-31",
            &Default::default(),
            Page::first(500),
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.label == "Mardi soir")
        .collect()
}

#[tokio::test]
async fn a_member_swaps_her_turn_with_a_colleague_who_accepts() {
    common::for_each_demo(|store, url| async move {
        let keyring = Arc::new(common::demo().await.1.keyring().unwrap());
        let care = UnscheduledCare::new(store.clone(), keyring, 3)
            .with_public_url("https://cpts.example.test/");
        let cpts = store
            .find_cpts_by_slug(DEMO_CPTS_SLUG)
            .await
            .unwrap()
            .unwrap();
        let fabre = common::caller_of(&store, cpts.id, "dr.fabre@camargue.test").await;
        let gp = fabre.professional().unwrap();
        let (other, record) = colleague(&store, &cpts, gp).await;
        let proposed_before = raw_count(
            &url,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'snp_rota_swap_proposed'",
        )
        .await;
        let settled_before = raw_count(
            &url,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'snp_rota_swap_settled'",
        )
        .await;
        let today = utc_to_paris(now_ms()).0;
        let coordination = Caller::command_line(cpts.id);
        let request = RotaRequest {
            label: "Mardi soir".into(),
            weekday: 2,
            start_minute: 18 * 60,
            end_minute: 21 * 60,
            from: today.plus_days(1),
            to: today.plus_days(42),
            skip_public_holidays: false,
            professionals: vec![gp, record],
            profession: None,
        };
        assert_eq!(care.build_rota(&coordination, &request).await.unwrap(), 6);
        let all = turns(&store, &cpts).await;
        let mine: Vec<&RotaTurn> = all.iter().filter(|t| t.professional_id == gp).collect();
        let theirs: Vec<&RotaTurn> = all.iter().filter(|t| t.professional_id == record).collect();
        assert_eq!((mine.len(), theirs.len()), (3, 3));

        // Only her own turn, against a colleague's; never twice the same.
        assert!(matches!(
            care.propose_swap(&fabre, theirs[0].id, mine[0].id).await,
            Err(CareError::NotFound)
        ));
        assert!(matches!(
            care.propose_swap(&fabre, mine[0].id, mine[1].id).await,
            Err(CareError::Refused(_))
        ));
        assert!(matches!(
            care.propose_swap(&coordination, mine[0].id, theirs[0].id).await,
            Err(CareError::Refused(m)) if m.contains("pas relié")
        ));
        let first = care
            .propose_swap(&fabre, mine[0].id, theirs[0].id)
            .await
            .unwrap();
        assert!(matches!(
            care.propose_swap(&fabre, mine[0].id, theirs[0].id).await,
            Err(CareError::Refused(_))
        ));
        let second = care
            .propose_swap(&fabre, mine[0].id, theirs[1].id)
            .await
            .unwrap();

        // The colleague is told, with where to answer; the proposer sees what became of the message.
        // (The demo's colleague asks her a swap too: that one is not hers.)
        let proposed: Vec<_> = care
            .my_swaps(&fabre)
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.mine)
            .collect();
        assert_eq!(proposed.len(), 2);
        assert!(proposed.iter().all(|s| s.delivery.is_some()));
        let mails = common::deliver_mail(&store).await;
        let told = mails
            .iter()
            .find(|m| m.subject == "Proposition d'échange d'astreinte")
            .expect("the colleague's e-mail");
        assert!(
            told.body.contains(&format!(
                "https://cpts.example.test/c/{DEMO_CPTS_SLUG}/soins-non-programmes/astreintes"
            )),
            "{}",
            told.body
        );
        assert!(told.body.contains("Mardi soir"));
        let asked = care.my_swaps(&other).await.unwrap();
        assert_eq!(asked.len(), 2);
        assert!(asked.iter().all(|s| !s.mine));

        // The proposer cannot accept her own proposal; the colleague cannot withdraw it.
        assert!(matches!(
            care.settle_swap(&fabre, first, RotaSwapStatus::Accepted)
                .await,
            Err(CareError::NotFound)
        ));
        assert!(matches!(
            care.settle_swap(&other, first, RotaSwapStatus::Withdrawn)
                .await,
            Err(CareError::NotFound)
        ));

        // Nothing changes when its audit entry cannot be written.
        let entries = raw_count(&url, "SELECT COUNT(*) FROM audit_log").await;
        refuse_audit_appends(&url).await;
        assert!(care
            .settle_swap(&other, first, RotaSwapStatus::Accepted)
            .await
            .is_err());
        maillage_store::testing::allow_audit_appends(&url).await;
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM audit_log").await,
            entries
        );
        assert_eq!(turns(&store, &cpts).await, all);

        // Accepted: both turns change hands; the other proposal of the same turn lapses.
        care.settle_swap(&other, first, RotaSwapStatus::Accepted)
            .await
            .unwrap();
        let after = store
            .find_rota_turn(cpts.id, mine[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.professional_id, record);
        let after = store
            .find_rota_turn(cpts.id, theirs[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(after.professional_id, gp);
        let lapsed = store
            .find_rota_swap(cpts.id, second)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lapsed.status, RotaSwapStatus::Lapsed);
        assert!(care.my_swaps(&other).await.unwrap().is_empty());
        assert!(matches!(
            care.settle_swap(&other, first, RotaSwapStatus::Declined)
                .await,
            Err(CareError::NotFound)
        ));

        // A turn the coordination gives away meanwhile: the proposal is no longer listed nor acceptable.
        let third = care
            .propose_swap(&fabre, mine[1].id, theirs[2].id)
            .await
            .unwrap();
        assert!(care
            .change_turn(&coordination, mine[1].id, TurnChange::GiveTo(record))
            .await
            .unwrap());
        assert!(care.my_swaps(&other).await.unwrap().is_empty());
        assert!(matches!(
            care.settle_swap(&other, third, RotaSwapStatus::Accepted)
                .await,
            Err(CareError::Refused(_))
        ));
        let unchanged = store
            .find_rota_turn(cpts.id, theirs[2].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged.professional_id, record);

        // Declined and withdrawn proposals leave the turns as they are.
        let fourth = care
            .propose_swap(&fabre, mine[2].id, theirs[2].id)
            .await
            .unwrap();
        care.settle_swap(&other, fourth, RotaSwapStatus::Declined)
            .await
            .unwrap();
        let fifth = care
            .propose_swap(&fabre, mine[2].id, theirs[2].id)
            .await
            .unwrap();
        care.settle_swap(&fabre, fifth, RotaSwapStatus::Withdrawn)
            .await
            .unwrap();
        let end = store
            .find_rota_turn(cpts.id, mine[2].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(end.professional_id, gp);
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'snp_rota_swap_proposed'"
            )
            .await,
            proposed_before + 5
        );
        assert_eq!(
            raw_count(
                &url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'snp_rota_swap_settled'"
            )
            .await,
            settled_before + 3
        );
    })
    .await;
}

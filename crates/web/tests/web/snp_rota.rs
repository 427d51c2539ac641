//! The rota by profession: a nurses' rota offers and takes only nurses, and a rota left unnamed is named
//! after its weekday and hour.

use super::*;
use uuid::Uuid;

#[tokio::test]
async fn a_rota_of_one_profession_takes_only_its_members_and_is_named_after_its_day() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let base = &format!("/c/{DEMO_CPTS_SLUG}/soins-non-programmes");
        let today =
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms()).0;
        let people: Vec<String> = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    profession_code: Some(maillage_store::GENERAL_PRACTICE.into()),
                    ..Default::default()
                },
                Page::first(1),
            )
            .await
            .unwrap()
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        // A rota of one profession takes only its members; left unnamed, it is named after its day and hour.
        let nurse = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    profession_code: Some("60".into()),
                    ..Default::default()
                },
                Page::first(1),
            )
            .await
            .unwrap()[0]
            .id
            .to_string();
        let fill = |profession: &'static str, who: String| {
            let (app, coordinator, today) = (&app, &coordinator, today);
            async move {
                app.post_form(
                    &format!("{base}/astreintes"),
                    Some(&coordinator.cookie),
                    &[
                        ("csrf", coordinator.csrf.as_str()),
                        ("label", ""),
                        ("profession", profession),
                        ("weekday", "3"),
                        ("start", "18:00"),
                        ("end", "20:00"),
                        ("from", &today.french()),
                        ("until", &today.plus_days(13).french()),
                        ("professional", &who),
                    ],
                )
                .await
            }
        };
        let wrong = fill("60", people[0].clone()).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong
                .body
                .contains("de la profession du tableau (Infirmier)"),
            "{}",
            wrong.body
        );
        let nurses = fill("60", nurse).await;
        assert_eq!(nurses.status, StatusCode::SEE_OTHER, "{}", nurses.body);
        let offered = app
            .get(
                &format!("{base}/astreintes?profession=60"),
                Some(&coordinator),
            )
            .await;
        assert!(offered.body.contains("Mercredi soir"));
        assert!(
            !offered
                .body
                .contains(&format!(r#"name="professional" value="{}""#, people[0])),
            "a GP is not offered for the nurses' rota"
        );
    }
}

/// A member proposes from her phone to swap her turn; her colleague sees it on his dashboard, accepts after
/// a confirmation, and the rota shows the exchange.
#[tokio::test]
async fn a_member_proposes_a_swap_of_her_turn_and_her_colleague_accepts_it() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let base = &format!("/c/{DEMO_CPTS_SLUG}/soins-non-programmes");
        let fabre_user = app.store.find_user_by_email(MEMBER).await.unwrap().unwrap();
        let (_, fabre) = app
            .store
            .membership(cpts.id, fabre_user.id)
            .await
            .unwrap()
            .unwrap();
        let fabre = fabre.unwrap();
        let mut record = None;
        for p in app
            .store
            .search_professionals(cpts.id, &Default::default(), Page::first(200))
            .await
            .unwrap()
        {
            if p.id != fabre
                && app
                    .store
                    .professional_email(cpts.id, p.id)
                    .await
                    .unwrap()
                    .is_some()
            {
                record = Some(p.id);
                break;
            }
        }
        let record = record.unwrap();
        let user = app
            .state
            .accounts
            .create(
                maillage_app::accounts::AccountRequest {
                    email: "dr.confrere@camargue.test",
                    display_name: "Dr Confrère",
                    password: DEMO_PASSWORD,
                    is_platform_admin: false,
                    role: Some((cpts.id, Role::Member)),
                },
                0,
            )
            .await
            .unwrap();
        let audit = maillage_app::audit::entry(
            &maillage_app::audit::AuditContext::command_line().in_cpts(cpts.id),
            maillage_app::audit::AuditEvent::new(
                maillage_domain::audit::AuditAction::AccountLinkedToRecord,
                "user",
                user.id.to_string(),
            ),
        );
        assert!(app
            .store
            .link_account_to_record(cpts.id, user.id, record, &audit)
            .await
            .unwrap());
        let today =
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms()).0;
        app.state
            .missions
            .unscheduled_care
            .build_rota(
                &maillage_app::caller::Caller::command_line(cpts.id),
                &maillage_app::unscheduled_care::RotaRequest {
                    label: "Lundi soir".into(),
                    weekday: 1,
                    start_minute: 19 * 60,
                    end_minute: 22 * 60,
                    from: today.plus_days(1),
                    to: today.plus_days(14),
                    skip_public_holidays: false,
                    professionals: vec![fabre, record],
                    profession: None,
                },
            )
            .await
            .unwrap();
        let turns = app
            .store
            .list_rota_turns(
                cpts.id,
                "2000-01-01",
                "9999-12-31",
                &Default::default(),
                Page::first(500),
            )
            .await
            .unwrap();
        let of = |who: Uuid| {
            turns
                .iter()
                .find(|t| t.label == "Lundi soir" && t.professional_id == who)
                .unwrap()
                .id
        };
        let (mine, theirs) = (of(fabre), of(record));

        let member = app.login_as(MEMBER).await;
        let rota = app.get(&format!("{base}/astreintes"), Some(&member)).await;
        assert!(rota.body.contains("Mes échanges") && rota.body.contains("Proposer un échange"));
        let path = format!("{base}/astreintes/{mine}/echange");
        let propose = |wanted: String| {
            let (app, member, path) = (&app, &member, &path);
            async move {
                app.post_form(
                    path,
                    Some(&member.cookie),
                    &[("csrf", member.csrf.as_str()), ("wanted", wanted.as_str())],
                )
                .await
            }
        };
        let nothing = propose(String::new()).await;
        assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(nothing.body.contains("Contre le tour de : choisissez"));
        let proposed = propose(theirs.to_string()).await;
        assert_eq!(proposed.status, StatusCode::SEE_OTHER, "{}", proposed.body);
        let shown = app
            .get(
                &format!("{base}/astreintes?fait=echange-propose"),
                Some(&member),
            )
            .await;
        assert!(
            shown
                .body
                .contains("Votre proposition d&#39;échange est envoyée")
                || shown
                    .body
                    .contains("Votre proposition d'échange est envoyée")
        );
        assert!(
            shown.body.contains("Vous proposez à")
                && shown.body.contains("Message à votre confrère")
        );
        // Twice: the page says why, nothing is written.
        let again = propose(theirs.to_string()).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.body.contains("déjà proposé"));

        let colleague = app.login_as("dr.confrere@camargue.test").await;
        let dashboard = app
            .get(&format!("/c/{DEMO_CPTS_SLUG}"), Some(&colleague))
            .await;
        assert!(
            dashboard
                .body
                .contains("1 proposition d&#39;échange d&#39;astreinte à accepter ou refuser")
                || dashboard
                    .body
                    .contains("1 proposition d'échange d'astreinte à accepter ou refuser"),
            "{}",
            dashboard.body
        );
        let asked = app
            .get(&format!("{base}/astreintes"), Some(&colleague))
            .await;
        assert!(
            asked.body.contains("vous propose son tour")
                && asked.body.contains("Accepter l&#39;échange")
                || asked.body.contains("Accepter l'échange")
        );
        let swap = asked
            .body
            .split(&format!("{base}/echanges/"))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let answer = format!("{base}/echanges/{swap}");
        // The proposer cannot accept her own proposal.
        let own = app
            .post_form(
                &answer,
                Some(&member.cookie),
                &[("csrf", member.csrf.as_str()), ("action", "accepter")],
            )
            .await;
        assert_eq!(own.status, StatusCode::NOT_FOUND);
        let ask = app
            .post_form(
                &answer,
                Some(&colleague.cookie),
                &[("csrf", colleague.csrf.as_str()), ("action", "accepter")],
            )
            .await;
        assert_eq!(ask.status, StatusCode::OK);
        assert!(
            ask.body.contains("Accepter cet échange d&#39;astreinte ?")
                || ask.body.contains("Accepter cet échange d'astreinte ?")
        );
        assert_eq!(
            app.store
                .find_rota_turn(cpts.id, mine)
                .await
                .unwrap()
                .unwrap()
                .professional_id,
            fabre,
            "nothing before the confirmation"
        );
        let done = app
            .post_form(
                &answer,
                Some(&colleague.cookie),
                &[
                    ("csrf", colleague.csrf.as_str()),
                    ("action", "accepter"),
                    ("confirmation", "oui"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(
            app.store
                .find_rota_turn(cpts.id, mine)
                .await
                .unwrap()
                .unwrap()
                .professional_id,
            record
        );
        assert_eq!(
            app.store
                .find_rota_turn(cpts.id, theirs)
                .await
                .unwrap()
                .unwrap()
                .professional_id,
            fabre
        );
        assert_eq!(
            app.audit_of(cpts.id, "snp_rota_swap_settled").await.len(),
            1
        );
    }
}

/// A pending swap between the first two demo turns held by different professionals (for the routes' tests).
pub(super) async fn a_pending_swap(app: &TestApp, cpts: maillage_store::CptsId) -> Uuid {
    let turns = app
        .store
        .list_rota_turns(
            cpts,
            "2000-01-01",
            "9999-12-31",
            &Default::default(),
            Page::first(50),
        )
        .await
        .unwrap();
    let first = &turns[0];
    let other = turns
        .iter()
        .find(|t| t.professional_id != first.professional_id)
        .expect("two professionals on the demo rota");
    let swap = maillage_store::RotaSwap {
        id: Uuid::now_v7(),
        turn_id: first.id,
        wanted_turn_id: other.id,
        proposed_by: first.professional_id,
        proposed_to: other.professional_id,
        status: maillage_domain::unscheduled_care::RotaSwapStatus::Pending,
        created_by: None,
        created_at: 0,
        settled_at: None,
    };
    let audit = maillage_app::audit::entry(
        &maillage_app::audit::AuditContext::command_line().in_cpts(cpts),
        maillage_app::audit::AuditEvent::new(
            maillage_domain::audit::AuditAction::SnpRotaSwapProposed,
            "snp_rota_swap",
            swap.id.to_string(),
        ),
    );
    // Already proposed by an earlier call: the same one serves.
    if !app
        .store
        .propose_rota_swap(cpts, &swap, &audit)
        .await
        .unwrap()
    {
        return app
            .store
            .pending_rota_swaps(cpts, first.professional_id)
            .await
            .unwrap()[0]
            .id;
    }
    swap.id
}

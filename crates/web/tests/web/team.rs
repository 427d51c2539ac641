//! The team from the interface: the coordination invites, the invitee sets a password through the link and
//! enters with the role; roles change; the platform administrator invites a new CPTS's coordination.

use super::*;

/// The invitation link of the newest e-mail.
async fn invitation_link(app: &TestApp) -> String {
    let body = deliver_mail(app).await;
    let rest = body
        .split("/invitation/")
        .nth(1)
        .expect("an invitation e-mail");
    format!("/invitation/{}", rest.split_whitespace().next().unwrap())
}

/// Accepts an invitation with `password` (twice); the answer.
async fn accept(app: &TestApp, link: &str, password: &str, confirmation: &str) -> Answer {
    let page = app.get(link, None).await;
    let cookie = format!(
        "maillage_csrf={}",
        set_cookie(&page, "maillage_csrf").unwrap()
    );
    let csrf = hidden_csrf(&page.body);
    app.post_form(
        link,
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("password", password),
            ("confirmation", confirmation),
        ],
    )
    .await
}

#[tokio::test]
async fn a_coordinator_invites_a_secretary_who_sets_a_password_and_enters_with_her_role() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let path = format!("/c/{DEMO_CPTS_SLUG}/membres");
        let page = app.get(&path, Some(&coordinator)).await;
        assert!(page.body.contains("Inviter une personne"));
        assert!(
            page.body
                .contains("<option value=\"\">— choisir —</option>"),
            "no role chosen for her"
        );
        let invite = |fields: Vec<(&'static str, &'static str)>| {
            let (app, coordinator, path) = (&app, &coordinator, path.clone());
            async move {
                let mut all = vec![("csrf", coordinator.csrf.as_str())];
                all.extend(fields);
                app.post_form(&format!("{path}/inviter"), Some(&coordinator.cookie), &all)
                    .await
            }
        };
        let bad = invite(vec![
            ("email", "pas-une-adresse"),
            ("display_name", "12"),
            ("role", ""),
        ])
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for field in ["adresse e-mail", "Nom", "Rôle"] {
            assert!(bad.body.contains(field), "{field} not named: {}", bad.body);
        }
        assert!(app
            .store
            .pending_invitations(cpts.id, Page::first(10))
            .await
            .unwrap()
            .is_empty());
        // Someone who already has a role is told to change it instead.
        let taken = invite(vec![
            ("email", SECRETARY),
            ("display_name", "Claire Doublon"),
            ("role", "member"),
        ])
        .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            taken.body.contains("a déjà un compte dans la CPTS"),
            "{}",
            taken.body
        );

        let sent = invite(vec![
            ("email", "sophie.nouvelle@camargue.test"),
            ("display_name", "Sophie Nouvelle"),
            ("role", "secretary"),
        ])
        .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
        let listed = app
            .get(
                sent.headers[header::LOCATION].to_str().unwrap(),
                Some(&coordinator),
            )
            .await;
        assert!(listed.body.contains("Invitation enregistrée"));
        assert!(listed.body.contains("sophie.nouvelle@camargue.test"));
        let link = invitation_link(&app).await;
        let form = app.get(&link, None).await;
        assert!(form.body.contains("Rejoindre"), "{}", form.body);
        assert_eq!(form.headers[header::CACHE_CONTROL], "no-store");
        let mismatch = accept(
            &app,
            &link,
            "un-mot-de-passe-solide",
            "un-autre-mot-de-passe",
        )
        .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.body.contains("Confirmation"));
        let short = accept(&app, &link, "court", "court").await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        let accepted = accept(
            &app,
            &link,
            "un-mot-de-passe-solide",
            "un-mot-de-passe-solide",
        )
        .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
        assert_eq!(accepted.headers[header::LOCATION], "/connexion?nouveau=1");
        // The link works once.
        let again = app.get(&link, None).await;
        assert_eq!(again.status, StatusCode::GONE);
        assert!(again.body.contains("Invitation expirée"));
        // She enters with her role.
        let sophie = app
            .login("sophie.nouvelle@camargue.test", "un-mot-de-passe-solide")
            .await
            .unwrap_or_else(|a| panic!("login refused: {}", a.status));
        let user = app
            .store
            .find_user_by_email("sophie.nouvelle@camargue.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.store
                .membership(cpts.id, user.id)
                .await
                .unwrap()
                .map(|(r, _)| r),
            Some(Role::Secretary)
        );
        assert_eq!(
            app.get(
                &format!("/c/{DEMO_CPTS_SLUG}/medecin-traitant"),
                Some(&sophie)
            )
            .await
            .status,
            StatusCode::OK
        );
        // The coordination changes her role; nobody changes their own.
        let changed = app
            .post_form(
                &format!("{path}/{}/role", user.id),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("role", "member")],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.store
                .membership(cpts.id, user.id)
                .await
                .unwrap()
                .map(|(r, _)| r),
            Some(Role::Member)
        );
        let me = app
            .store
            .find_user_by_email(COORDINATOR)
            .await
            .unwrap()
            .unwrap();
        let own = app
            .post_form(
                &format!("{path}/{}/role", me.id),
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("role", "member")],
            )
            .await;
        assert_eq!(own.status, StatusCode::CONFLICT);
        let actions = audit_actions(&app, maillage_store::AuditScope::Cpts(cpts.id)).await;
        for action in ["invitation_sent", "invitation_accepted", "role_granted"] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} in {actions:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_platform_administrator_creates_a_cpts_and_invites_its_coordination() {
    for app in each_backend().await {
        let admin = app.login_as(ADMIN).await;
        let before = app.store.list_cpts(Page::first(100)).await.unwrap().len();
        let create = |email: &'static str| {
            let (app, admin) = (&app, &admin);
            async move {
                app.post_form(
                    "/admin/cpts",
                    Some(&admin.cookie),
                    &[
                        ("csrf", admin.csrf.as_str()),
                        ("name", "CPTS du Pic Saint-Loup"),
                        ("coordinator_email", email),
                        ("coordinator_name", "Inès Coordination"),
                    ],
                )
                .await
            }
        };
        // The demo CPTS's FINESS and SIRET belong to it: a second CPTS cannot take them.
        for (field, value, said) in [
            (
                "finess",
                "300009990",
                "FINESS : « 300009990 » est déjà celui",
            ),
            (
                "siret",
                "88820012340002",
                "SIRET : « 88820012340002 » est déjà celui",
            ),
        ] {
            let taken = app
                .post_form(
                    "/admin/cpts",
                    Some(&admin.cookie),
                    &[
                        ("csrf", admin.csrf.as_str()),
                        ("name", "CPTS Jumelle"),
                        (field, value),
                    ],
                )
                .await;
            assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
            assert!(taken.body.contains(said), "{field}: {}", taken.body);
        }
        let refused = create("pas-une-adresse").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            app.store.list_cpts(Page::first(100)).await.unwrap().len(),
            before,
            "nothing created with a bad invitation"
        );
        let created = create("ines@pic-saint-loup.test").await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        assert!(created
            .body
            .contains("une invitation est partie à ines@pic-saint-loup.test"));
        let link = invitation_link(&app).await;
        let accepted = accept(
            &app,
            &link,
            "coordination-2026-pic",
            "coordination-2026-pic",
        )
        .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER);
        let Ok(ines) = app
            .login("ines@pic-saint-loup.test", "coordination-2026-pic")
            .await
        else {
            panic!("the invited coordinator cannot log in");
        };
        let cpts = app
            .store
            .list_cpts(Page::first(100))
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name == "CPTS du Pic Saint-Loup")
            .unwrap();
        let members = app
            .get(&format!("/c/{}/membres", cpts.slug), Some(&ines))
            .await;
        assert_eq!(members.status, StatusCode::OK);
        assert!(
            members.body.contains("Inviter une personne"),
            "she can invite her team"
        );
    }
}

#[tokio::test]
async fn the_coordination_suspends_a_partners_access_after_a_confirmation_and_restores_it() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let partner = app.login_as(PARTNER).await;
        let members = format!("/c/{DEMO_CPTS_SLUG}/membres");
        let dac = app
            .store
            .find_user_by_email(PARTNER)
            .await
            .unwrap()
            .unwrap();
        let access = format!("{members}/{}/acces", dac.id);
        let list = app.get(&members, Some(&coordinator)).await;
        assert!(
            list.body.contains("Suspendre l&#39;accès de")
                || list.body.contains("Suspendre l'accès de")
        );
        // The first post only asks; nothing changes.
        let asked = app
            .post_form(
                &access,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("acces", "suspendre")],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked
            .body
            .contains("Suspendre l&#39;accès de cette personne"));
        assert!(asked.body.contains(r#"name="confirmation" value="oui""#));
        assert!(asked.body.contains("Revenir sans rien changer"));
        assert!(app
            .store
            .membership(cpts.id, dac.id)
            .await
            .unwrap()
            .is_some());
        let home = format!("/c/{DEMO_CPTS_SLUG}");
        assert_eq!(app.get(&home, Some(&partner)).await.status, StatusCode::OK);
        // Confirmed: her session loses the CPTS at once, her account stays.
        let done = app
            .post_form(
                &access,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("acces", "suspendre"),
                    ("confirmation", "oui"),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert!(app
            .store
            .membership(cpts.id, dac.id)
            .await
            .unwrap()
            .is_none());
        assert_ne!(app.get(&home, Some(&partner)).await.status, StatusCode::OK);
        let list = app
            .get(&format!("{members}?fait=suspendu"), Some(&coordinator))
            .await;
        assert!(list.body.contains("accès suspendu"));
        assert!(list
            .body
            .contains("Accès suspendu : la personne ne voit plus rien"));
        // Twice is a conflict, not a second entry; nobody suspends herself.
        let again = app
            .post_form(
                &access,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("acces", "suspendre"),
                    ("confirmation", "oui"),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let me = app
            .store
            .find_user_by_email(COORDINATOR)
            .await
            .unwrap()
            .unwrap();
        let own = app
            .post_form(
                &format!("{members}/{}/acces", me.id),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("acces", "suspendre"),
                    ("confirmation", "oui"),
                ],
            )
            .await;
        assert_eq!(own.status, StatusCode::CONFLICT);
        let unknown = app
            .post_form(
                &access,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("acces", "effacer")],
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Restored without a confirmation (nothing is lost by it).
        let restored = app
            .post_form(
                &access,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("acces", "retablir")],
            )
            .await;
        assert_eq!(restored.status, StatusCode::SEE_OTHER);
        assert_eq!(app.get(&home, Some(&partner)).await.status, StatusCode::OK);
        let actions = audit_actions(&app, maillage_store::AuditScope::Cpts(cpts.id)).await;
        assert_eq!(
            actions
                .iter()
                .filter(|a| *a == "membership_suspended")
                .count(),
            1
        );
        assert!(actions.iter().any(|a| a == "membership_restored"));
    }
}

#[tokio::test]
async fn the_coordinations_phone_is_set_in_the_settings_and_signs_every_e_mail() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let settings = format!("/c/{DEMO_CPTS_SLUG}/parametres");
        let page = app.get(&settings, Some(&coordinator)).await;
        assert!(
            page.body.contains(r#"value="04 99 00 01 00""#),
            "the demo's number, grouped"
        );
        // A wrong number is refused with the field named; nothing is written.
        let refused = app
            .post_form(
                &settings,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("contact_phone", "12")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Téléphone de la coordination"));
        assert!(refused.body.contains(r#"aria-invalid="true""#));
        assert_eq!(
            demo_cpts(&app, DEMO_CPTS_SLUG).await.contact_phone,
            "0499000100"
        );
        let saved = app
            .post_form(
                &settings,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("contact_phone", "+33 4 66 11 22 33"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(
            demo_cpts(&app, DEMO_CPTS_SLUG).await.contact_phone,
            "0466112233"
        );
        let actions = audit_actions(&app, maillage_store::AuditScope::Cpts(cpts.id)).await;
        assert!(actions.iter().any(|a| a == "cpts_contact_changed"));
        // The morning digest of the GPs' answers: off by default, started from the same form.
        assert!(page.body.contains(r#"id="answer_digest" name="answer_digest" type="checkbox" value="oui" aria-describedby"#));
        let digest = app
            .post_form(
                &settings,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("contact_phone", "04 66 11 22 33"),
                    ("answer_digest", "oui"),
                ],
            )
            .await;
        assert_eq!(digest.status, StatusCode::SEE_OTHER);
        assert!(app.store.answer_digest(cpts.id).await.unwrap().0);
        let shown = app.get(&settings, Some(&coordinator)).await;
        assert!(shown.body.contains(
            r#"id="answer_digest" name="answer_digest" type="checkbox" value="oui" checked"#
        ));
        assert_eq!(
            app.audit_of(cpts.id, "answer_digest_changed").await.len(),
            1
        );
        // The next e-mail sent on behalf of the CPTS ends with its name and that number.
        let invited = app
            .post_form(
                &format!("/c/{DEMO_CPTS_SLUG}/membres/inviter"),
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("email", "signature@camargue.test"),
                    ("display_name", "Inès Signature"),
                    ("role", "secretary"),
                ],
            )
            .await;
        assert_eq!(invited.status, StatusCode::SEE_OTHER);
        let body = deliver_mail(&app).await;
        assert!(
            body.trim_end()
                .ends_with("-- \nCPTS Camargue Gardoise (démo)\nTél. 04 66 11 22 33"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn the_directorys_members_are_invited_in_one_go_and_an_accepted_invitation_links_the_record()
{
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let bulk = format!("/c/{DEMO_CPTS_SLUG}/membres/inviter-annuaire");
        let pending = |app: &TestApp| {
            let store = app.store.clone();
            async move {
                store
                    .pending_invitations(cpts.id, Page::first(500))
                    .await
                    .unwrap()
            }
        };
        let before = pending(&app).await.len();
        let asked = app
            .post_form(
                &bulk,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf)],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(
            asked
                .body
                .contains("Inviter les membres de l&#39;annuaire ?")
                || asked.body.contains("Inviter les membres de l'annuaire ?")
        );
        assert_eq!(
            pending(&app).await.len(),
            before,
            "nothing sent before the confirmation"
        );
        // Who should be invited: members with an e-mail and no account in the CPTS.
        let members = app
            .store
            .search_professionals(
                cpts.id,
                &maillage_store::DirectoryQuery {
                    members_only: true,
                    ..Default::default()
                },
                Page::first(500),
            )
            .await
            .unwrap();
        let mut expected = 0;
        for m in members
            .iter()
            .filter(|m| !m.contact_email.trim().is_empty())
        {
            let has_role = match app
                .store
                .find_user_by_email(m.contact_email.trim())
                .await
                .unwrap()
            {
                Some(user) => app
                    .store
                    .membership(cpts.id, user.id)
                    .await
                    .unwrap()
                    .is_some(),
                None => false,
            };
            if !has_role
                && maillage_domain::identifiers::Email::parse(m.contact_email.trim()).is_ok()
            {
                expected += 1;
            }
        }
        assert!(expected > 0, "the demo has members with an e-mail");
        let done = app
            .post_form(
                &bulk,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(done.status, StatusCode::OK);
        assert!(
            done.body
                .contains(&format!("{expected} invitations enregistrées"))
                || (expected == 1 && done.body.contains("1 invitation enregistrée")),
            "{expected}: {}",
            done.body
        );
        let invited = pending(&app).await;
        assert_eq!(invited.len(), before + expected);
        // Again: nobody twice.
        let again = app
            .post_form(
                &bulk,
                Some(&coordinator.cookie),
                &[("csrf", &coordinator.csrf), ("confirmation", "oui")],
            )
            .await;
        assert!(again.body.contains("Aucune nouvelle invitation"));
        // Those without an address link to their record, to complete it.
        assert!(again
            .body
            .contains(&format!("/c/{DEMO_CPTS_SLUG}/annuaire/fiche/")));
        assert!(again
            .body
            .contains(&format!("Déjà une invitation en cours : {expected}")));
        // The newest e-mail's invitation, accepted: the account is her directory record's.
        let link = invitation_link(&app).await;
        let accepted = accept(
            &app,
            &link,
            "un-mot-de-passe-solide",
            "un-mot-de-passe-solide",
        )
        .await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
        let mut linked = None;
        for invitation in invited.iter().filter(|i| i.professional_id.is_some()) {
            if let Some(user) = app
                .store
                .find_user_by_email(&invitation.email)
                .await
                .unwrap()
            {
                if app
                    .store
                    .membership(cpts.id, user.id)
                    .await
                    .unwrap()
                    .is_some()
                {
                    linked = Some((user, invitation.professional_id));
                }
            }
        }
        let (user, professional) = linked.expect("the accepted invitation's account");
        assert_eq!(
            app.store.membership(cpts.id, user.id).await.unwrap(),
            Some((Role::Member, professional))
        );
    }
}

#[tokio::test]
async fn the_coordination_links_a_members_account_to_her_directory_record_by_rpps() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let user = app
            .state
            .accounts
            .create(
                maillage_app::accounts::AccountRequest {
                    email: "infirmiere@camargue.test",
                    display_name: "Infirmière Essai",
                    password: DEMO_PASSWORD,
                    is_platform_admin: false,
                    role: Some((cpts.id, Role::Member)),
                },
                maillage_app::clock::now_ms(),
            )
            .await
            .unwrap();
        let record = app
            .store
            .search_professionals(cpts.id, &Default::default(), Page::first(1))
            .await
            .unwrap()
            .remove(0);
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let elsewhere = app
            .store
            .search_professionals(vidourle.id, &Default::default(), Page::first(1))
            .await
            .unwrap()
            .remove(0);
        let link = format!("/c/{DEMO_CPTS_SLUG}/membres/{}/fiche", user.id);
        let members = app
            .get(&format!("/c/{DEMO_CPTS_SLUG}/membres"), Some(&coordinator))
            .await;
        assert!(members.body.contains(&format!(r#"action="{link}""#)));
        for (typed, said) in [
            ("12", "aucune fiche"),
            ("pas un numéro!", "le numéro RPPS"),
            (elsewhere.identifier.as_str(), "aucune fiche"),
        ] {
            let refused = app
                .post_form(
                    &link,
                    Some(&coordinator.cookie),
                    &[("csrf", &coordinator.csrf), ("identifiant", typed)],
                )
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
            assert!(
                refused.body.contains("Fiche de l") && refused.body.contains(said),
                "{typed}: {}",
                refused.body
            );
        }
        assert_eq!(
            app.store.membership(cpts.id, user.id).await.unwrap(),
            Some((Role::Member, None))
        );
        let linked = app
            .post_form(
                &link,
                Some(&coordinator.cookie),
                &[
                    ("csrf", &coordinator.csrf),
                    ("identifiant", &record.identifier),
                ],
            )
            .await;
        assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
        assert_eq!(
            app.store.membership(cpts.id, user.id).await.unwrap(),
            Some((Role::Member, Some(record.id)))
        );
        let actions = audit_actions(&app, maillage_store::AuditScope::Cpts(cpts.id)).await;
        assert!(actions.iter().any(|a| a == "account_linked_to_record"));
    }
}

//! Patients in care pathways in the pages, on SQLite and PostgreSQL: the coordination includes a
//! heart-failure patient with a discharge date and a care team (a bad form named, nothing written); the
//! nurse of the team finds him in « mes patients en parcours », closes her step (without its evidence:
//! refused); a screening with a positive domain adds the GP's step; notes are the team's; late steps show
//! on the owner's and the coordination's dashboard; a professional outside the team, a partner and another
//! CPTS are refused.

use super::*;

const NURSE: &str = "ide.garcia@camargue.test";
const PATIENTS: &str = "/c/camargue-gardoise/parcours/patients";

/// The demo's GP linked to Dr Fabre and its first nurse, linked to the nurse's account.
async fn gp_and_nurse(app: &TestApp) -> (String, String) {
    let cpts = demo_cpts(app, DEMO_CPTS_SLUG).await;
    let first = |profession: &str| {
        let store = app.store.clone();
        let profession = profession.to_string();
        async move {
            store
                .search_professionals(
                    cpts.id,
                    &maillage_store::DirectoryQuery {
                        profession_code: Some(profession),
                        ..Default::default()
                    },
                    Page::first(1),
                )
                .await
                .unwrap()[0]
                .id
                .to_string()
        }
    };
    (
        first(maillage_store::GENERAL_PRACTICE).await,
        first("60").await,
    )
}

fn inclusion<'a>(
    csrf: &'a str,
    name: &'a str,
    team: &'a [(&'a str, &'a str)],
) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("csrf", csrf),
        ("modele", "insuffisance-cardiaque"),
        ("family_name", name),
        ("given_names", "Lucien"),
        ("birth_date", "12/03/1941"),
        ("included_on", ""),
        ("event_on", ""),
        ("consent", "oui"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (role, professional) in team {
        fields.push((format!("equipe-{role}"), professional.to_string()));
    }
    fields
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    for field in fields.iter_mut().filter(|(k, _)| k == name) {
        field.1 = value.to_string();
    }
}

#[tokio::test]
async fn the_coordination_includes_a_patient_and_the_nurse_closes_her_step_on_her_list() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let (gp, nurse) = gp_and_nurse(&app).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let form = app
            .get(
                &format!("{PATIENTS}/inclure?modele=insuffisance-cardiaque"),
                Some(&coordinator),
            )
            .await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form
            .body
            .contains(r#"<label for="equipe-infirmier">Infirmier ou infirmière</label>"#));
        assert!(
            form.body.contains("Sortie d&#39;hospitalisation — jour 0"),
            "{}",
            form.body
        );

        let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
        let discharge = today.plus_days(-3);
        let team = [
            ("medecin-traitant", gp.as_str()),
            ("infirmier", nurse.as_str()),
        ];
        let mut fields = inclusion(&coordinator.csrf, "EXEMPLE-PAGES", &team);
        set(&mut fields, "included_on", &today.french());
        set(&mut fields, "event_on", "31/02/2027");
        set(&mut fields, "consent", "");
        let before = maillage_store::testing::raw_count(
            &app._database.url,
            "SELECT COUNT(*) FROM pathway_inclusions",
        )
        .await;
        let refused = app
            .post_form(PATIENTS, Some(&coordinator.cookie), &pairs(&fields))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Date de l&#39;événement"]);
        set(&mut fields, "event_on", &discharge.french());
        let refused = app
            .post_form(PATIENTS, Some(&coordinator.cookie), &pairs(&fields))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Consentement"]);
        assert!(
            refused.body.contains(r#"value="EXEMPLE-PAGES""#),
            "the form is kept"
        );
        assert_eq!(
            maillage_store::testing::raw_count(
                &app._database.url,
                "SELECT COUNT(*) FROM pathway_inclusions"
            )
            .await,
            before
        );
        set(&mut fields, "consent", "oui");
        let included = app
            .post_form(PATIENTS, Some(&coordinator.cookie), &pairs(&fields))
            .await;
        assert_eq!(included.status, StatusCode::SEE_OTHER, "{}", included.body);
        let page = included.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let patient = page.split('?').next().unwrap().to_string();
        let shown = app.get(&page, Some(&coordinator)).await;
        assert!(shown.body.contains("Le patient est inclus"));
        // The nurse's window: D0 to D8 after the discharge, computed on the server.
        assert!(shown.body.contains(&format!(
            "du {} au {}",
            discharge.french(),
            discharge.plus_days(8).french()
        )));

        // The nurse finds him in her list, on her phone, and closes her step.
        let nurse_session = app.login_as(NURSE).await;
        let mine = app.get(PATIENTS, Some(&nurse_session)).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.contains("Mes patients en parcours"));
        assert!(mine.body.contains("EXEMPLE-PAGES Lucien"));
        let record = app.get(&patient, Some(&nurse_session)).await;
        assert_eq!(record.status, StatusCode::OK);
        let inclusion_id: uuid::Uuid = patient.rsplit('/').next().unwrap().parse().unwrap();
        let steps = app
            .store
            .inclusion_steps(cpts.id, inclusion_id)
            .await
            .unwrap();
        let step = |code: &str| steps.iter().find(|s| s.code == code).unwrap().id;
        let nurse_step = format!("{patient}/etapes/{}", step("infirmier-j8"));
        assert!(record.body.contains(&format!(r#"href="{nurse_step}""#)));
        // Not the GP's step: no link for her, and a post is refused.
        assert!(!record
            .body
            .contains(&format!("etapes/{}", step("medecin-j14"))));
        let done = |session: &Session, evidence: &'static str| {
            let path = nurse_step.clone();
            let session = session.clone();
            let app = &app;
            async move {
                app.post_form(
                    &path,
                    Some(&session.cookie),
                    &[
                        ("csrf", session.csrf.as_str()),
                        ("action", "clore"),
                        ("done_on", &today.french()),
                        ("evidence", evidence),
                    ],
                )
                .await
            }
        };
        let without = done(&nurse_session, "").await;
        assert_eq!(without.status, StatusCode::UNPROCESSABLE_ENTITY);
        without.names_fields(&["Preuve"]);
        let closed = done(&nurse_session, "oui").await;
        assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
        let after = app.get(&patient, Some(&nurse_session)).await;
        assert!(after.body.contains(&format!("Faite le {}", today.french())));
        let again = done(&nurse_session, "oui").await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Notes: the team's, sealed.
        let noted = app
            .post_form(
                &format!("{patient}/notes"),
                Some(&nurse_session.cookie),
                &[
                    ("csrf", nurse_session.csrf.as_str()),
                    ("note", "Œdèmes des chevilles en baisse."),
                ],
            )
            .await;
        assert_eq!(noted.status, StatusCode::SEE_OTHER);
        let with_note = app.get(&patient, Some(&coordinator)).await;
        assert!(with_note.body.contains("Œdèmes des chevilles en baisse."));
        assert!(with_note.body.contains("Note de Inès Garcia"));
        let raw = maillage_store::testing::raw_database(&app._database.url).await;
        assert!(!raw.contains("Œdèmes") && !raw.contains("EXEMPLE-PAGES"));

        // Outside the team: Dr Fabre on a patient of the nurse only; a partner; another CPTS.
        let team = [("infirmier", nurse.as_str())];
        let fields = inclusion(&coordinator.csrf, "EXEMPLE-HORS-EQUIPE", &team);
        let mut fields = fields;
        set(&mut fields, "included_on", &today.french());
        set(&mut fields, "event_on", &discharge.french());
        let other = app
            .post_form(PATIENTS, Some(&coordinator.cookie), &pairs(&fields))
            .await;
        let other = other.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let refused_before = app.audit_of(cpts.id, "pathway_access_refused").await.len();
        let gp_session = app.login_as(MEMBER).await;
        assert_eq!(
            app.get(&other, Some(&gp_session)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.audit_of(cpts.id, "pathway_access_refused").await.len(),
            refused_before + 1
        );
        let gp_list = app.get(PATIENTS, Some(&gp_session)).await;
        assert!(
            gp_list.body.contains("EXEMPLE-PAGES") && !gp_list.body.contains("EXEMPLE-HORS-EQUIPE")
        );
        let partner = app.login_as(PARTNER).await;
        assert_eq!(
            app.get(&other, Some(&partner)).await.status,
            StatusCode::FORBIDDEN
        );
        let elsewhere = app.login_as(OTHER_COORDINATOR).await;
        let theirs = other.replace("camargue-gardoise", "vidourle");
        assert_eq!(
            app.get(&theirs, Some(&elsewhere)).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn a_positive_screening_adds_the_gps_step_and_late_steps_reach_the_dashboards() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let nurse_session = app.login_as(NURSE).await;
        // The demo's heart-failure patient left hospital ten days ago: the nurse's step by D8 is late.
        let dashboard = app.get("/c/camargue-gardoise", Some(&nurse_session)).await;
        assert!(
            dashboard
                .body
                .contains("de vos patients en parcours en retard"),
            "{}",
            dashboard.body
        );
        let coordinator = app.login_as(COORDINATOR).await;
        let theirs = app.get("/c/camargue-gardoise", Some(&coordinator)).await;
        assert!(theirs.body.contains("de parcours de soins en retard"));
        // The hourly alerts go out, and each shows on the step with its delivery state.
        let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
        assert!(
            app.state
                .missions
                .pathway_care
                .alert_late_steps(today)
                .await
                .unwrap()
                > 0
        );
        let cardio = app
            .store
            .list_inclusions(cpts.id, None, Page::first(100))
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.template_code == "insuffisance-cardiaque")
            .unwrap()
            .id;
        let record = app
            .get(&format!("{PATIENTS}/{cardio}"), Some(&coordinator))
            .await;
        assert!(
            record
                .body
                .contains("alerte de retard par e-mail : en file d&#39;envoi"),
            "{}",
            record.body
        );

        // The demo's frail patient: the nurse fills ICOPE step 1, cognition positive (2 words of 3).
        let inclusions = app
            .store
            .list_inclusions(cpts.id, None, Page::first(100))
            .await
            .unwrap();
        let frail = inclusions
            .iter()
            .find(|i| i.template_code == "personne-agee-fragile")
            .unwrap()
            .id;
        let steps = app.store.inclusion_steps(cpts.id, frail).await.unwrap();
        let icope = steps.iter().find(|s| s.code == "icope-etape-1").unwrap().id;
        let path = format!("{PATIENTS}/{frail}/etapes/{icope}");
        let form = app.get(&path, Some(&nurse_session)).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form
            .body
            .contains(r#"<label for="q0">1. Cognition : mots rappelés sur 3</label>"#));
        let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms())
            .0
            .french();
        let answers = ["2", "1", "12", "0", "0", "0", "0", "0", "0"];
        let names: Vec<String> = (0..answers.len()).map(|i| format!("q{i}")).collect();
        let mut fields: Vec<(&str, &str)> = vec![
            ("csrf", nurse_session.csrf.as_str()),
            ("action", "clore"),
            ("done_on", &today),
        ];
        let mut wrong = fields.clone();
        for (index, answer) in answers.iter().enumerate() {
            fields.push((&names[index], answer));
            wrong.push((&names[index], if index == 0 { "9" } else { answer }));
        }
        let refused = app
            .post_form(&path, Some(&nurse_session.cookie), &wrong)
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Réponses"]);
        let done = app
            .post_form(&path, Some(&nurse_session.cookie), &fields)
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let record = app
            .get(&format!("{PATIENTS}/{frail}"), Some(&nurse_session))
            .await;
        assert!(
            record.body.contains("positif : cognition"),
            "{}",
            record.body
        );
        assert!(record.body.contains("Évaluation approfondie ICOPE étape 2"));
        assert!(record.body.contains("ajoutée après un résultat"));
    }
}

#[tokio::test]
async fn the_coordination_reads_and_exports_the_pathway_indicators() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let year = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms())
            .0
            .year;
        let page = app
            .get(
                "/c/camargue-gardoise/parcours/indicateurs",
                Some(&coordinator),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        // The demo's two patients of this year.
        assert!(
            page.body
                .contains("Patients inclus, tous parcours</th><td>2</td>"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Insuffisance cardiaque après hospitalisation — Visite de l&#39;infirmier : faite dans son délai"));
        assert!(page.body.contains("<svg"));
        let exported_before = app
            .audit_of(cpts.id, "pathway_indicators_exported")
            .await
            .len();
        let csv = app
            .get(
                &format!("/c/camargue-gardoise/parcours/indicateurs.csv?annee={year}"),
                Some(&coordinator),
            )
            .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with('\u{feff}'));
        assert!(
            csv.body
                .contains("inclus;Patients inclus, tous parcours;2;nombre"),
            "{}",
            csv.body
        );
        let xlsx = app
            .get(
                &format!("/c/camargue-gardoise/parcours/indicateurs.xlsx?annee={year}"),
                Some(&coordinator),
            )
            .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert_eq!(
            app.audit_of(cpts.id, "pathway_indicators_exported")
                .await
                .len(),
            exported_before + 2
        );
        let member = app.login_as(MEMBER).await;
        let refused = app
            .get("/c/camargue-gardoise/parcours/indicateurs", Some(&member))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let list = app.get(PATIENTS, Some(&member)).await;
        assert!(
            !list.body.contains("/parcours/indicateurs"),
            "no tab a member cannot open"
        );
    }
}

/// A waiting list: the coordination creates it, the team puts its patients on it from their record (a bad
/// date named), the list orders them by priority then referral with days waited and names, an exit with its
/// reason gives the median wait of those seen; a member reads only the list's name and count.
#[tokio::test]
async fn a_waiting_list_orders_the_patients_and_tells_the_median_wait() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let lists = "/c/camargue-gardoise/parcours/listes";
        let empty = app
            .post_form(
                lists,
                Some(&coordinator.cookie),
                &[("csrf", coordinator.csrf.as_str()), ("name", "x")],
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        empty.names_fields(&["Nom de la liste"]);
        let created = app
            .post_form(
                lists,
                Some(&coordinator.cookie),
                &[
                    ("csrf", coordinator.csrf.as_str()),
                    ("name", "Bilan TND (plateforme PCO)"),
                ],
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let list_page = created.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let list_id = list_page.rsplit('/').next().unwrap().to_string();
        let inclusions = app
            .store
            .list_inclusions(cpts.id, None, Page::first(10))
            .await
            .unwrap();
        let of = |code: &str| {
            inclusions
                .iter()
                .find(|i| i.template_code == code)
                .unwrap()
                .id
        };
        // The demo's heart-failure patient referred first, normal; its frail patient later, urgent.
        let (first, second) = (of("insuffisance-cardiaque"), of("personne-agee-fragile"));
        let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
        let (forty_days_ago, ten_days_ago) =
            (today.plus_days(-40).french(), today.plus_days(-10).french());
        let put = |inclusion: uuid::Uuid, referred: String, priority: &'static str| {
            let app = &app;
            let session = coordinator.clone();
            let list_id = list_id.clone();
            async move {
                app.post_form(
                    &format!("{PATIENTS}/{inclusion}/attente"),
                    Some(&session.cookie),
                    &[
                        ("csrf", session.csrf.as_str()),
                        ("list", list_id.as_str()),
                        ("referred_on", referred.as_str()),
                        ("priority", priority),
                    ],
                )
                .await
            }
        };
        let refused = put(first, "31/02/2026".into(), "normale").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Date d&#39;adressage"]);
        assert_eq!(
            put(first, forty_days_ago.clone(), "normale").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            put(second, ten_days_ago.clone(), "urgente").await.status,
            StatusCode::SEE_OTHER
        );
        let twice = put(second, ten_days_ago.clone(), "urgente").await;
        assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = app.get(&list_page, Some(&coordinator)).await;
        assert_eq!(page.status, StatusCode::OK);
        // The urgent referral first, though later.
        let urgent = page.body.find("EXEMPLE-FRAGILE Odette").unwrap();
        let normal = page.body.find("EXEMPLE-CARDIO Marcel").unwrap();
        assert!(urgent < normal, "{}", page.body);
        let record = app
            .get(&format!("{PATIENTS}/{first}"), Some(&coordinator))
            .await;
        assert!(record.body.contains("2e sur la liste"), "{}", record.body);

        // Seen: out of the list, the median of those seen this year is its wait.
        let entry = app.store.waiting_entries_of(cpts.id, first).await.unwrap()[0]
            .id
            .to_string();
        let today_text = today.french();
        let exit = |reason: &'static str| {
            let app = &app;
            let today_text = today_text.clone();
            let session = coordinator.clone();
            let path = format!("{list_page}/sortie");
            let entry = entry.clone();
            async move {
                app.post_form(
                    &path,
                    Some(&session.cookie),
                    &[
                        ("csrf", session.csrf.as_str()),
                        ("entry", entry.as_str()),
                        ("exited_on", today_text.as_str()),
                        ("reason", reason),
                    ],
                )
                .await
            }
        };
        let no_reason = exit("").await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        no_reason.names_fields(&["Motif de sortie"]);
        assert_eq!(exit("pris-en-charge").await.status, StatusCode::SEE_OTHER);
        let after = app.get(&list_page, Some(&coordinator)).await;
        assert!(after.body.contains("<dd>40 jours</dd>"), "{}", after.body);
        assert_eq!(app.audit_of(cpts.id, "waiting_entry_exited").await.len(), 1);
        // The year's indicators tell the same wait.
        let caller = maillage_app::caller::Caller::command_line(cpts.id);
        let set = app
            .state
            .missions
            .pathway_care
            .indicators(&caller, today.year, today)
            .await
            .unwrap();
        assert_eq!(
            set.find("attente.1.attente_mediane")
                .map(|i| i.measure.clone()),
            Some(maillage_domain::indicators::Measure::Days(Some(40)))
        );
        assert_eq!(
            set.find("attente.1.en_attente").map(|i| i.measure.clone()),
            Some(maillage_domain::indicators::Measure::Count(1))
        );

        // A member sees the list's name and count, not the list.
        let member = app.login_as(MEMBER).await;
        let theirs = app.get(lists, Some(&member)).await;
        assert!(
            theirs.body.contains("Bilan TND (plateforme PCO)") && !theirs.body.contains(&list_page)
        );
        assert_eq!(
            app.get(&list_page, Some(&member)).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

/// A liaison sheet closes the step that waits for it: its form names each missing field, the sheet is sealed
/// at rest, prints on its own page, and shows on the record; a step that closes otherwise refuses one.
#[tokio::test]
async fn a_liaison_sheet_closes_its_step_and_prints() {
    for app in each_backend().await {
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let coordinator = app.login_as(COORDINATOR).await;
        let inclusions = app
            .store
            .list_inclusions(cpts.id, None, Page::first(10))
            .await
            .unwrap();
        let frail = inclusions
            .iter()
            .find(|i| i.template_code == "personne-agee-fragile")
            .unwrap()
            .id;
        let steps = app.store.inclusion_steps(cpts.id, frail).await.unwrap();
        let step = |code: &str| steps.iter().find(|s| s.code == code).unwrap().id;
        let step_page = format!("{PATIENTS}/{frail}/etapes/{}", step("lien-ehpad"));
        let page = app.get(&step_page, Some(&coordinator)).await;
        assert!(
            page.body.contains(&format!(r#"href="{step_page}/fiche""#)),
            "{}",
            page.body
        );
        let form = app
            .get(&format!("{step_page}/fiche"), Some(&coordinator))
            .await;
        assert_eq!(form.status, StatusCode::OK);
        let post = |path: String, fields: Vec<(&'static str, String)>| {
            let app = &app;
            let session = coordinator.clone();
            async move {
                let mut pairs: Vec<(&str, &str)> = vec![("csrf", session.csrf.as_str())];
                pairs.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
                app.post_form(&path, Some(&session.cookie), &pairs).await
            }
        };
        let refused = post(
            format!("{step_page}/fiche"),
            vec![("reason", "Chute à domicile".into())],
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        refused.names_fields(&["Sens", "Établissement et service"]);
        assert!(
            refused.body.contains("Chute à domicile"),
            "the form is kept"
        );
        let today = maillage_domain::calendar::utc_to_paris(maillage_app::clock::now_ms()).0;
        let sheet = vec![
            ("direction", "envoyee".to_string()),
            ("dated_on", today.french()),
            (
                "establishment",
                "EHPAD Les Tamaris, accueil de jour".to_string(),
            ),
            (
                "reason",
                "Chute à domicile, accueil de jour demandé".to_string(),
            ),
            (
                "follow_up",
                "Kinésithérapie deux fois par semaine".to_string(),
            ),
        ];
        let recorded = post(format!("{step_page}/fiche"), sheet.clone()).await;
        assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
        let print = recorded.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let printed = app.get(&print, Some(&coordinator)).await;
        assert!(printed
            .body
            .contains("Kinésithérapie deux fois par semaine"));
        assert!(printed.body.contains("Imprimer la fiche"));
        assert!(printed.body.contains("EXEMPLE-FRAGILE Odette"));
        let record = app
            .get(&format!("{PATIENTS}/{frail}"), Some(&coordinator))
            .await;
        assert!(record.body.contains(&format!(r#"href="{print}""#)));
        let raw = maillage_store::testing::raw_database(&app._database.url).await;
        assert!(!raw.contains("Kinésithérapie deux fois") && !raw.contains("Chute à domicile"));
        // Once closed, no second sheet; a screening step closes with its answers, not a sheet.
        assert_eq!(
            post(format!("{step_page}/fiche"), sheet.clone())
                .await
                .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let other = post(
            format!("{PATIENTS}/{frail}/etapes/{}/fiche", step("gfst")),
            sheet,
        )
        .await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
        other.names_fields(&["Étape"]);
        assert_eq!(
            app.audit_of(cpts.id, "pathway_liaison_recorded")
                .await
                .len(),
            1
        );
    }
}

//! Care pathway templates through their service, on SQLite and PostgreSQL: the built-in ones listed until
//! adopted, a CPTS's windows as a new version while the old one stays, JSON files imported with the domain's
//! checks (nothing written when refused), the rights of each role, and one CPTS's versions unseen by another.

use crate::common;
use maillage_app::pathways::{PathwayError, PathwayTemplates};
use maillage_domain::pathways::{Offset, Window};
use maillage_store::testing::raw_count;

#[tokio::test]
async fn a_cpts_adapts_imports_and_exports_its_pathway_templates() {
    common::for_each_demo(|store, url| async move {
        let service = PathwayTemplates::new(store.clone());
        let common::DemoCallers {
            cpts,
            coordinator,
            member,
            partner,
            elsewhere,
            ..
        } = common::demo_callers(&store).await;

        let listed = service.list(&member).await.unwrap();
        assert_eq!(listed.len(), 6);
        assert!(listed.iter().all(|l| l.built_in));
        assert!(matches!(
            service.list(&partner).await,
            Err(PathwayError::NotFound)
        ));

        // PRADO books the GP within 7 days: the next version; the first stays as it was.
        let seven = [("medecin-j14".to_string(), Window::within(Offset::days(7)))];
        assert!(matches!(
            service
                .adapt(&member, "insuffisance-cardiaque", &seven)
                .await,
            Err(PathwayError::NotFound)
        ));
        let adapted = service
            .adapt(&coordinator, "insuffisance-cardiaque", &seven)
            .await
            .unwrap();
        assert_eq!(adapted.version, 2);
        let current = service
            .template(&member, "insuffisance-cardiaque", None)
            .await
            .unwrap();
        assert_eq!(
            current.step("medecin-j14").unwrap().window.latest,
            Offset::days(7)
        );
        let first = service
            .template(&member, "insuffisance-cardiaque", Some(1))
            .await
            .unwrap();
        assert_eq!(
            first.step("medecin-j14").unwrap().window.latest,
            Offset::days(14)
        );
        let listed = service.list(&member).await.unwrap();
        let own = listed
            .iter()
            .find(|l| l.template.code == "insuffisance-cardiaque")
            .unwrap();
        assert!(!own.built_in && own.template.version == 2);
        let saved = raw_count(
            &url,
            "SELECT COUNT(*) FROM pathway_templates WHERE code = 'insuffisance-cardiaque'",
        )
        .await;
        assert_eq!(saved, 2, "adopted, then adapted");
        // Another CPTS still has the built-in one.
        let theirs = service
            .template(&elsewhere, "insuffisance-cardiaque", None)
            .await
            .unwrap();
        assert_eq!(theirs.version, 1);
        assert_eq!(
            theirs.step("medecin-j14").unwrap().window.latest,
            Offset::days(14)
        );

        // A file exported here, imported there: their version 1; imported again: version 2.
        let file = service
            .export(&coordinator, "insuffisance-cardiaque")
            .await
            .unwrap();
        let imported = service.import(&elsewhere, file.as_bytes()).await.unwrap();
        assert_eq!(imported.version, 1);
        assert_eq!(
            imported.step("medecin-j14").unwrap().window.latest,
            Offset::days(7)
        );
        assert_eq!(
            service
                .import(&elsewhere, file.as_bytes())
                .await
                .unwrap()
                .version,
            2
        );

        // Refused files name the field and write nothing.
        let before = raw_count(&url, "SELECT COUNT(*) FROM pathway_templates").await;
        let mut looped: serde_json::Value = serde_json::from_str(&file).unwrap();
        looped["steps"][0]["from"] =
            serde_json::json!({ "depuis": "step", "etape": "infirmier-j8" });
        for (bytes, field) in [
            (b"{\"code\": ".to_vec(), "Fichier"),
            (looped.to_string().into_bytes(), "Étapes"),
            (vec![b' '; 300 * 1024], "Fichier"),
        ] {
            match service.import(&coordinator, &bytes).await {
                Err(PathwayError::Invalid(problems)) => assert_eq!(problems[0].field, field),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            service.import(&member, file.as_bytes()).await,
            Err(PathwayError::NotFound)
        ));
        assert_eq!(
            raw_count(&url, "SELECT COUNT(*) FROM pathway_templates").await,
            before
        );
        assert!(matches!(
            service.template(&member, "inconnu", None).await,
            Err(PathwayError::NotFound)
        ));

        // Each version is in the CPTS's own audit trail.
        let audited = store
            .list_audit(
                maillage_store::AuditScope::Cpts(cpts.id),
                &maillage_store::AuditFilter {
                    action: Some("pathway_template_saved".into()),
                    ..Default::default()
                },
                maillage_store::Page::first(10),
            )
            .await
            .unwrap();
        assert_eq!(audited.len(), 2);
    })
    .await;
}

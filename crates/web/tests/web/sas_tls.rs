//! The SAS connecting with its IGC-Santé client certificate (mutual TLS terminated by the reverse proxy, which
//! forwards the verified certificate): certificates made at test time (a CA, the SAS's, an intruder's); no
//! certificate, an unknown one, one forwarded by someone who is not the proxy, a revoked client — refused; the
//! registered client reads the slots of every CPTS it is linked to, each with its HealthcareService and
//! Organization.

use super::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use serde_json::Value;

const HEADER: &str = "x-ssl-client-cert";

/// A CA, and a certificate it signs for `common_name` / `unit`, PEM.
fn certificate(ca: &(rcgen::Certificate, KeyPair), common_name: &str, unit: &str) -> String {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, unit);
    params.signed_by(&key, &ca.0, &ca.1).unwrap().pem()
}

pub(super) fn authority() -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "IGC-Santé de test");
    (params.self_signed(&key).unwrap(), key)
}

/// A FHIR read as the proxy passes it on: from `peer`, with the certificate PEM URL-encoded (nginx's
/// `$ssl_client_escaped_cert`).
async fn through_proxy(app: &TestApp, path: &str, pem: Option<&str>, peer: &str) -> Answer {
    let mut request = Request::get(path);
    if let Some(pem) = pem {
        let escaped =
            percent_encoding::utf8_percent_encode(pem, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        request = request.header(HEADER, escaped);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(
        format!("{peer}:44321")
            .parse::<std::net::SocketAddr>()
            .unwrap(),
    ));
    app.send(request).await
}

#[tokio::test]
async fn the_sas_connects_with_its_certificate_and_reads_every_cpts_it_is_linked_to() {
    for app in each_backend().await {
        let app = app.reconfigured(|config| {
            config.server.trusted_proxies = vec!["127.0.0.1".into()];
            config.server.client_certificate_header = HEADER.into();
        });
        let ca = authority();
        let sas = certificate(&ca, "sas.sante.fr", "PTF-SAS");
        let intruder = certificate(&ca, "intrus.example", "PTF-SAS");
        let client = maillage_app::tokens::register_sas_client(
            app.store.as_ref(),
            &maillage_app::audit::AuditContext::command_line(),
            "Plateforme numérique SAS",
            "sas.sante.fr",
            "PTF-SAS",
            &[DEMO_CPTS_SLUG.to_string(), OTHER_DEMO_CPTS_SLUG.to_string()],
        )
        .await
        .unwrap();
        // Registered twice, or for an unknown CPTS: refused, naming the field.
        for (cn, cpts) in [("sas.sante.fr", DEMO_CPTS_SLUG), ("autre.sas", "inconnue")] {
            let again = maillage_app::tokens::register_sas_client(
                app.store.as_ref(),
                &maillage_app::audit::AuditContext::command_line(),
                "Doublon",
                cn,
                "PTF-SAS",
                &[cpts.to_string()],
            )
            .await;
            assert!(matches!(
                again,
                Err(maillage_app::tokens::TokenError::Refused(_))
            ));
        }
        // The practitioners of both CPTS.
        let ours = sas_search(&app, DEMO_CPTS_SLUG).await;
        let theirs = sas_search(&app, OTHER_DEMO_CPTS_SLUG).await;
        let first = |search: &str| {
            search
                .split("identifier=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_string()
        };
        let path = format!(
            "{FHIR_SEARCH}&schedule.actor:Practitioner.identifier={},{}",
            first(&ours),
            first(&theirs)
        );

        assert_eq!(
            through_proxy(&app, &path, None, "127.0.0.1").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            through_proxy(&app, &path, Some(&intruder), "127.0.0.1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            through_proxy(&app, &path, Some("pas un certificat"), "127.0.0.1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        // The header is believed from the proxy only.
        assert_eq!(
            through_proxy(&app, &path, Some(&sas), "10.1.2.3")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );

        let answer = through_proxy(&app, &path, Some(&sas), "127.0.0.1").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let bundle: Value = serde_json::from_str(&answer.body).unwrap();
        let of = |kind: &str| -> Vec<&Value> {
            bundle["entry"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| &e["resource"])
                .filter(|r| r["resourceType"] == kind)
                .collect()
        };
        let services = of("HealthcareService");
        let organizations = of("Organization");
        assert_eq!(services.len(), 2, "one HealthcareService per CPTS");
        assert_eq!(organizations.len(), 2, "one Organization per CPTS");
        for service in &services {
            assert!(organizations
                .iter()
                .any(|o| service["providedBy"]["reference"]
                    == format!("Organization/{}", o["id"].as_str().unwrap()).as_str()));
        }
        let referenced: std::collections::HashSet<String> = of("Slot")
            .iter()
            .map(|s| {
                s["serviceType"][1]["extension"][0]["valueReference"]["reference"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            referenced.len(),
            2,
            "the slots of each CPTS reference its own service"
        );
        assert_eq!(bundle["total"], of("Slot").len());
        // Each CPTS's read is in its own audit trail, naming the client.
        for slug in [DEMO_CPTS_SLUG, OTHER_DEMO_CPTS_SLUG] {
            let cpts = demo_cpts(&app, slug).await;
            let reads = app.audit_of(cpts.id, "fhir_slots_read").await;
            assert!(reads
                .iter()
                .any(|r| r.entry.target_kind == "sas_client"
                    && r.entry.target_id == client.to_string()));
        }

        // A professional effecteur in both CPTS: one Practitioner, and each CPTS's slot with its own service.
        let shared = first(&ours);
        let rpps = shared.rsplit("%7C8").next().unwrap().to_string();
        let camargue = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let vidourle = demo_cpts(&app, OTHER_DEMO_CPTS_SLUG).await;
        let record = app
            .store
            .professionals_by_national_id(camargue.id, &[format!("8{rpps}")])
            .await
            .unwrap()[0];
        let summary = app
            .store
            .professional_summaries(camargue.id, &[record])
            .await
            .unwrap()
            .remove(0);
        app.store
            .upsert_professionals(
                vidourle.id,
                &[reimported(
                    &summary,
                    format!("8{rpps}"),
                    vec![maillage_store::PracticePlace {
                        name: "Cabinet de Sommières".into(),
                        address: "1 place du Marché".into(),
                        postal_code: "30250".into(),
                        commune_code: "30321".into(),
                        ..Default::default()
                    }],
                )],
                None,
                0,
            )
            .await
            .unwrap();
        let there = app
            .store
            .professionals_by_national_id(vidourle.id, &[format!("8{rpps}")])
            .await
            .unwrap()[0];
        let tomorrow = maillage_domain::unscheduled_care::paris_to_utc(
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms())
                .0
                .plus_days(1),
            17 * 60,
        );
        assert!(app
            .state
            .missions
            .unscheduled_care
            .publish_slot(
                &maillage_app::caller::Caller::command_line(vidourle.id),
                there,
                tomorrow,
                20,
                maillage_domain::unscheduled_care::SlotKind::Sas,
                maillage_domain::unscheduled_care::Modality::Office,
                "",
            )
            .await
            .unwrap());
        let both = format!("{FHIR_SEARCH}&schedule.actor:Practitioner.identifier={shared}");
        let answer = through_proxy(&app, &both, Some(&sas), "127.0.0.1").await;
        let bundle: Value = serde_json::from_str(&answer.body).unwrap();
        let resources: Vec<&Value> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        let count = |kind: &str| {
            resources
                .iter()
                .filter(|r| r["resourceType"] == kind)
                .count()
        };
        assert_eq!(count("Practitioner"), 1, "one Practitioner for one IDNPS");
        assert_eq!(count("HealthcareService"), 2);
        assert_eq!(count("Organization"), 2);
        let services: std::collections::HashSet<&str> = resources
            .iter()
            .filter(|r| r["resourceType"] == "Slot")
            .map(|s| {
                s["serviceType"][1]["extension"][0]["valueReference"]["reference"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            services.len(),
            2,
            "her slots of each CPTS with that CPTS's service"
        );
        for role in resources
            .iter()
            .filter(|r| r["resourceType"] == "PractitionerRole")
        {
            assert_eq!(
                role["practitioner"]["reference"],
                format!("Practitioner/8{rpps}").as_str()
            );
        }

        // Revoked: refused at once.
        assert!(maillage_app::tokens::revoke_sas_client(
            app.store.as_ref(),
            &maillage_app::audit::AuditContext::command_line(),
            client,
        )
        .await
        .unwrap());
        assert_eq!(
            through_proxy(&app, &path, Some(&sas), "127.0.0.1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

/// A certificate signed by `ca` for `names` (DNS), with its key.
pub(super) fn keyed(
    ca: &(rcgen::Certificate, KeyPair),
    names: Vec<String>,
    common_name: &str,
    unit: &str,
) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, unit);
    (params.signed_by(&key, &ca.0, &ca.1).unwrap(), key)
}

/// A TLS client trusting `ca`, presenting `identity` when given.
fn client_tls(
    ca: &(rcgen::Certificate, KeyPair),
    identity: Option<&(rcgen::Certificate, KeyPair)>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.0.der().clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    Arc::new(match identity {
        Some((certificate, key)) => builder
            .with_client_auth_cert(
                vec![certificate.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    })
}

/// `maillage serve` terminating TLS itself: the server's certificate and key and the CA of client certificates
/// in the configuration (PEM files, as an operator writes them); the SAS's certificate verified in the
/// handshake lets it in, without a reverse proxy.
#[tokio::test]
async fn maillage_terminates_tls_itself_and_lets_the_sas_in_by_its_certificate() {
    for app in each_backend().await {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Users reach this server at its TLS address (requests for another host are refused).
        let app = app.reconfigured(|config| {
            config.server.public_url = format!("https://localhost:{port}");
        });
        let igc = authority();
        let (server, server_key) = keyed(&igc, vec!["localhost".into()], "cpts.test", "");
        let files = tempfile::tempdir().unwrap();
        let file = |name: &str, content: String| {
            let path = files.path().join(name);
            std::fs::write(&path, content).unwrap();
            path.to_string_lossy().into_owned()
        };
        let tls = maillage_app::config::server_tls(
            &file("server.pem", server.pem()),
            &file("server.key", server_key.serialize_pem()),
            &file("igc.pem", igc.0.pem()),
        )
        .unwrap()
        .unwrap();
        // A wrong path or a key of another certificate stops the start, naming the setting.
        let wrong = maillage_app::config::server_tls(
            &file("server2.pem", server.pem()),
            &file("other.key", KeyPair::generate().unwrap().serialize_pem()),
            "",
        );
        assert!(wrong.unwrap_err().contains("server.tls_key"));
        assert!(
            maillage_app::config::server_tls("/nulle/part.pem", "/nulle/part.key", "")
                .unwrap_err()
                .contains("server.tls_certificate")
        );

        let sas = keyed(&igc, Vec::new(), "sas.sante.fr", "PTF-SAS");
        let intruder = keyed(&igc, Vec::new(), "intrus.example", "PTF-SAS");
        let elsewhere = keyed(&authority(), Vec::new(), "sas.sante.fr", "PTF-SAS");
        let client = maillage_app::tokens::register_sas_client(
            app.store.as_ref(),
            &maillage_app::audit::AuditContext::command_line(),
            "Plateforme numérique SAS",
            "sas.sante.fr",
            "PTF-SAS",
            &[DEMO_CPTS_SLUG.to_string()],
        )
        .await
        .unwrap();

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(maillage_web::tls::serve_tls(
            listener,
            tls,
            app.router.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        let path = sas_search(&app, DEMO_CPTS_SLUG).await;
        let url = url::Url::parse(&format!("https://localhost:{port}{path}")).unwrap();
        let get = |tls: Arc<rustls::ClientConfig>| {
            let url = url.clone();
            async move {
                maillage_app::http_client::send(
                    "Maillage",
                    maillage_app::http_client::Outgoing {
                        method: axum::http::Method::GET,
                        url: &url,
                        content_type: "application/fhir+json",
                        body: Vec::new(),
                    },
                    Some(tls),
                )
                .await
            }
        };

        let answer = get(client_tls(&igc, Some(&sas))).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        // (The client keeps the start of an answer.)
        assert!(
            answer
                .body
                .starts_with(r#"{"entry":[{"fullUrl":"https://localhost:"#)
                && answer.body.contains(r#""resourceType":"Slot""#),
            "{}",
            answer.body
        );
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        assert!(app
            .audit_of(cpts.id, "fhir_slots_read")
            .await
            .iter()
            .any(|r| r.entry.target_id == client.to_string()));
        // No certificate (nor token), or one of nobody registered: refused. One of another authority: the
        // handshake itself fails.
        assert_eq!(get(client_tls(&igc, None)).await.unwrap().status, 401);
        assert_eq!(
            get(client_tls(&igc, Some(&intruder))).await.unwrap().status,
            401
        );
        assert!(get(client_tls(&igc, Some(&elsewhere))).await.is_err());
        // The pages are served over the same TLS, to browsers without a certificate.
        let home = url::Url::parse(&format!("https://localhost:{port}/connexion")).unwrap();
        let page = maillage_app::http_client::send(
            "Maillage",
            maillage_app::http_client::Outgoing {
                method: axum::http::Method::GET,
                url: &home,
                content_type: "text/html",
                body: Vec::new(),
            },
            Some(client_tls(&igc, None)),
        )
        .await
        .unwrap();
        assert_eq!(page.status, 200);
        // Revoked: refused at once.
        assert!(maillage_app::tokens::revoke_sas_client(
            app.store.as_ref(),
            &maillage_app::audit::AuditContext::command_line(),
            client,
        )
        .await
        .unwrap());
        assert_eq!(get(client_tls(&igc, Some(&sas))).await.unwrap().status, 401);
        let _ = stop.send(());
        serving.await.unwrap().unwrap();
    }
}

/// Administration → SAS: the platform administrator registers a SAS client (a missing Common Name or CPTS is
/// refused, naming the field, nothing written), sees it, and revokes it after a confirmation; the changes are in
/// the platform's audit trail, and the client's certificate opens the slots only while it is live.
#[tokio::test]
async fn the_platform_administrator_registers_and_revokes_a_sas_client_from_a_page() {
    for app in each_backend().await {
        let app = app.reconfigured(|config| {
            config.server.trusted_proxies = vec!["127.0.0.1".into()];
            config.server.client_certificate_header = HEADER.into();
        });
        let admin = app.login_as(ADMIN).await;
        let page = app.get("/admin/sas", Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Aucun client SAS n'est enregistré"));
        assert!(page
            .body
            .contains(r#"<label for="common_name">Common Name (CN) du certificat</label>"#));
        // The coordination does not reach it.
        let coordinator = app.login_as(COORDINATOR).await;
        assert_ne!(
            app.get("/admin/sas", Some(&coordinator)).await.status,
            StatusCode::OK
        );

        let register = |fields: Vec<(&'static str, &'static str)>| {
            let mut form = vec![
                ("csrf", admin.csrf.as_str()),
                ("name", "Plateforme numérique SAS"),
            ];
            form.extend(fields);
            let app = &app;
            let cookie = admin.cookie.clone();
            async move { app.post_form("/admin/sas", Some(&cookie), &form).await }
        };
        let refused = register(vec![("unit", "PTF-SAS"), ("cpts", DEMO_CPTS_SLUG)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("Common Name (CN) : "),
            "{}",
            refused.body
        );
        let refused = register(vec![("common_name", "sas.sante.fr")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("CPTS : au moins une CPTS"));
        assert!(
            maillage_app::tokens::sas_clients(app.store.as_ref(), Page::first(10))
                .await
                .unwrap()
                .is_empty()
        );

        let done = register(vec![
            ("common_name", "sas.sante.fr"),
            ("unit", "PTF-SAS"),
            ("cpts", DEMO_CPTS_SLUG),
            ("cpts", OTHER_DEMO_CPTS_SLUG),
        ])
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("CN=sas.sante.fr, OU=PTF-SAS"));
        assert!(done.body.contains("est enregistré"));
        let listed = maillage_app::tokens::sas_clients(app.store.as_ref(), Page::first(10))
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].1.len(), 2, "both CPTS");
        let client = listed[0].0.id;
        let platform = audit_actions(&app, maillage_store::AuditScope::Platform).await;
        assert!(platform.contains(&"sas_client_registered".to_string()));

        let ca = authority();
        let sas = certificate(&ca, "sas.sante.fr", "PTF-SAS");
        let path = sas_search(&app, DEMO_CPTS_SLUG).await;
        assert_eq!(
            through_proxy(&app, &path, Some(&sas), "127.0.0.1")
                .await
                .status,
            StatusCode::OK
        );

        // Revoking asks first; only the confirmed post revokes.
        let revoke = format!("/admin/sas/{client}/revoquer");
        let asked = app
            .post_form(
                &revoke,
                Some(&admin.cookie),
                &[("csrf", admin.csrf.as_str())],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Révoquer ce client SAS ?"));
        assert_eq!(
            through_proxy(&app, &path, Some(&sas), "127.0.0.1")
                .await
                .status,
            StatusCode::OK
        );
        let revoked = app
            .post_form(
                &revoke,
                Some(&admin.cookie),
                &[("csrf", admin.csrf.as_str()), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
        assert!(revoked.body.contains("Révoqué le"));
        assert_eq!(
            through_proxy(&app, &path, Some(&sas), "127.0.0.1")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let platform = audit_actions(&app, maillage_store::AuditScope::Platform).await;
        assert!(platform.contains(&"sas_client_revoked".to_string()));
        // Again: nothing to revoke.
        let again = app
            .post_form(
                &revoke,
                Some(&admin.cookie),
                &[("csrf", admin.csrf.as_str()), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
    }
}

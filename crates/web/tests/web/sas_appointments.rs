//! Appointments back to the SAS: a booking made from the SAS's redirect (origin `sas`) is sent to the SAS
//! platform as an Appointment (FrAppointmentSAS) — POST when confirmed, conditional PUT on its identifier when
//! cancelled or its outcome recorded — over mutual TLS, by the job runner, and the booking's page shows what
//! became of each sending. The SAS platform is a local HTTPS endpoint started by the test: it asks for
//! Maillage's client certificate (made at test time with its CA) and keeps what it receives, each payload then
//! validated against the guide's profile.

use super::sas_profiles::{package, validate};
use super::sas_tls::{authority, keyed};
use super::*;
use serde_json::Value;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROFILE: &str = "http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS";
/// A fictitious regulating doctor's RPPS (Luhn-valid), and an operator's identifier given by the SAS.
const REGULATOR_RPPS: &str = "10100050078";
const SAS_OPERATOR: &str = "b6e39355-8a61-4556-b340-36f7b95fec6a";

struct Received {
    method: String,
    target: String,
    body: Value,
}

/// The SAS platform of the test: HTTPS on 127.0.0.1, a client certificate of the test CA required.
struct SasPlatform {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// The status it answers with.
    answer: Arc<AtomicU16>,
    /// PEM files: the CA (the server's roots for Maillage), Maillage's client certificate and key.
    files: tempfile::TempDir,
}

/// Reads one HTTP/1.1 request (headers, then `Content-Length` bytes).
async fn read_request<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<(String, String)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_string();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        while data.len() < end + 4 + length {
            let read = stream.read(&mut buffer).await.ok()?;
            if read == 0 {
                return None;
            }
            data.extend_from_slice(&buffer[..read]);
        }
        let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).to_string();
        return Some((head, body));
    }
}

impl SasPlatform {
    async fn start() -> Self {
        let ca = authority();
        let (server, server_key) = keyed(&ca, vec!["localhost".into()], "sas.test", "PTF-SAS");
        let (client, client_key) = keyed(&ca, Vec::new(), "maillage.test", "Maillage");
        let files = tempfile::tempdir().unwrap();
        std::fs::write(files.path().join("ca.pem"), ca.0.pem()).unwrap();
        std::fs::write(files.path().join("client.pem"), client.pem()).unwrap();
        std::fs::write(files.path().join("client.key"), client_key.serialize_pem()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.0.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![server.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(201));
        let (kept, status) = (received.clone(), answer.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // Without Maillage's certificate the handshake fails: nothing is received.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    continue;
                };
                let Some((head, body)) = read_request(&mut tls).await else {
                    continue;
                };
                let mut request_line = head.lines().next().unwrap().split(' ');
                kept.lock().unwrap().push(Received {
                    method: request_line.next().unwrap().to_string(),
                    target: request_line.next().unwrap().to_string(),
                    body: serde_json::from_str(&body).unwrap_or(Value::Null),
                });
                let code = status.load(Ordering::SeqCst);
                let reply = if code < 300 {
                    String::new()
                } else {
                    r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"business-rule"}]}"#.into()
                };
                let response = format!(
                    "HTTP/1.1 {code} SAS\r\nLocation: /fhir/Appointment/1\r\nContent-Type: application/fhir+json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            }
        });
        Self {
            port,
            received,
            answer,
            files,
        }
    }

    fn file(&self, name: &str) -> String {
        self.files.path().join(name).to_string_lossy().into_owned()
    }

    /// The deployment's `[sas]`: this platform, its CA, Maillage's certificate (or none).
    fn configure(&self, config: &mut Config, with_certificate: bool) {
        config.sas.appointment_url = format!("https://localhost:{}/fhir", self.port);
        config.sas.server_ca = self.file("ca.pem");
        config.sas.identifier_system = "urn:oid:1.2.250.1.999.1".into();
        if with_certificate {
            config.sas.client_certificate = self.file("client.pem");
            config.sas.client_key = self.file("client.key");
        }
    }

    fn received(&self) -> Vec<(String, String, Value)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.method.clone(), r.target.clone(), r.body.clone()))
            .collect()
    }
}

/// Runs every due job, as a worker would (e-mails to the outbox, Appointments to the SAS).
async fn run_jobs(app: &TestApp) {
    let runner = job_runner(app);
    while runner.run_once(0).await.unwrap() {}
}

fn problems_of(resource: &Value) -> Vec<String> {
    let package = package();
    let mut problems = Vec::new();
    validate(&package, resource, PROFILE, &Value::Null, &mut problems);
    problems
}

/// The guide's own Appointments pass; broken, they fail: the checks below can fail.
#[test]
fn the_guides_appointments_validate_and_fail_broken() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sas-package");
    for example in ["Appointment-1.json", "Appointment-2.json"] {
        let resource: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(example)).unwrap()).unwrap();
        assert!(
            problems_of(&resource).is_empty(),
            "{example}: {:#?}",
            problems_of(&resource)
        );
        let mut broken = resource.clone();
        broken["participant"][0]["status"] = "declined".into();
        broken["participant"][0]["actor"]["identifier"]["type"]["coding"][0]["code"] =
            "RPPS".into();
        broken.as_object_mut().unwrap().remove("end");
        broken["extension"][0]["valueReference"]["identifier"]
            .as_object_mut()
            .unwrap()
            .remove("system");
        let problems = problems_of(&broken).join("\n");
        for expected in [
            "Appointment.participant.status : \"declined\" hors du jeu de valeurs requis",
            "Appointment.participant.actor.identifier.type.coding : ",
            "Appointment.end : 0 valeur(s), au moins 1",
            "identifier.system : 0 valeur(s), au moins 1",
        ] {
            assert!(
                problems.contains(expected),
                "{expected} missing in:\n{problems}"
            );
        }
    }
}

/// Holds a free slot from the SAS's redirect, as the regulator would.
async fn hold_from_sas(app: &TestApp, session: &Session) -> String {
    let cpts = demo_cpts(app, DEMO_CPTS_SLUG).await;
    let first = free_slots(app, cpts.id, 1).await.remove(0);
    // A slot within the day, whatever the day of the week (an outcome is recorded from the day before):
    // published in the coming hour, unless the professional already has one then.
    let quarter = 15 * 60_000;
    let start = (maillage_app::clock::now_ms() / quarter + 3) * quarter;
    let published = app
        .state
        .missions
        .unscheduled_care
        .publish_slot(
            &maillage_app::caller::Caller::command_line(cpts.id),
            first.professional_id,
            start,
            20,
            maillage_domain::unscheduled_care::SlotKind::Sas,
            maillage_domain::unscheduled_care::Modality::Office,
            "",
        )
        .await
        .unwrap();
    let soon = free_slots(app, cpts.id, 50)
        .await
        .into_iter()
        .find(|s| published && s.start_at == start && s.professional_id == first.professional_id);
    let slot = soon.unwrap_or(first);
    let held = app
        .post_form(
            &format!(
                "/c/{DEMO_CPTS_SLUG}/soins-non-programmes/creneaux/{}/reserver",
                slot.id
            ),
            Some(&session.cookie),
            &[("csrf", session.csrf.as_str()), ("origine", "sas")],
        )
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
    held.headers[header::LOCATION].to_str().unwrap().to_string()
}

async fn confirm(
    app: &TestApp,
    session: &Session,
    page: &str,
    origin: &str,
    operator: &str,
) -> Answer {
    app.post_form(
        &format!("{page}/confirmer"),
        Some(&session.cookie),
        &[
            ("csrf", session.csrf.as_str()),
            ("family_name", "EXEMPLE-SAS"),
            ("given_names", "Léa"),
            ("birth_date", "03/04/1990"),
            ("phone", "06 00 00 99 31"),
            ("origin", origin),
            ("reason", "fievre"),
            ("sas_operator", operator),
        ],
    )
    .await
}

/// Holds a slot from the SAS's redirect and confirms it, the regulator being `operator`: the booking's page.
async fn booked_from_sas(app: &TestApp, session: &Session, operator: &str) -> String {
    let page = hold_from_sas(app, session).await;
    let done = confirm(app, session, &page, "sas", operator).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    page
}

#[tokio::test]
async fn a_booking_from_the_sas_goes_back_to_it_as_an_appointment_then_its_cancellation() {
    let platform = SasPlatform::start().await;
    for app in each_backend().await {
        let app = app.reconfigured(|config| platform.configure(config, true));
        platform.received.lock().unwrap().clear();
        let secretary = app.login_as(SECRETARY).await;
        let page = hold_from_sas(&app, &secretary).await;
        let form = app.get(&page, Some(&secretary)).await;
        assert!(form
            .body
            .contains(r#"<label for="sas_operator">Identifiant SAS du régulateur</label>"#));
        // Without the regulator, or with a wrong one: refused, the field named, nothing confirmed.
        for wrong in ["", "12345"] {
            let refused = confirm(&app, &secretary, &page, "sas", wrong).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
            refused.names_fields(&["Identifiant SAS du régulateur"]);
        }
        run_jobs(&app).await;
        assert!(
            platform.received().is_empty(),
            "nothing sent before the booking is confirmed"
        );
        let done = confirm(&app, &secretary, &page, "sas", REGULATOR_RPPS).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        // A raw read: the queued Appointment is sealed in the database, as every job's payload.
        let url = &app._database.url;
        let count = |sql: &'static str| maillage_store::testing::raw_count(url, sql);
        assert_eq!(
            count("SELECT COUNT(*) FROM jobs WHERE kind = 'sas_appointment'").await,
            1
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM jobs WHERE kind = 'sas_appointment' AND (payload LIKE '%Appointment%' OR payload LIKE '%10100050078%')").await,
            0
        );
        let before = app.get(&page, Some(&secretary)).await;
        assert!(
            before.body.contains("Transmission au SAS")
                && before.body.contains("en file d&#39;envoi"),
            "{}",
            &before.body[before.body.find("<main").unwrap()..]
        );
        run_jobs(&app).await;
        let received = platform.received();
        assert_eq!(received.len(), 1);
        let (method, target, created) = &received[0];
        assert_eq!(
            (method.as_str(), target.as_str()),
            ("POST", "/fhir/Appointment")
        );
        assert!(
            problems_of(created).is_empty(),
            "{:#?}",
            problems_of(created)
        );
        let booking = page.rsplit('/').next().unwrap();
        assert_eq!(created["status"], "booked");
        assert_eq!(
            created["identifier"][0]["system"],
            "urn:oid:1.2.250.1.999.1"
        );
        assert_eq!(created["identifier"][0]["value"], booking);
        assert_eq!(
            created["extension"][0]["valueReference"]["identifier"]["value"],
            format!("8{REGULATOR_RPPS}")
        );
        assert_eq!(created["participant"][0]["status"], "accepted");
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let found = app
            .store
            .find_booking(cpts.id, booking.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let slot = app
            .store
            .find_slot(cpts.id, found.slot_id)
            .await
            .unwrap()
            .unwrap();
        let professional = app
            .store
            .professional_summaries(cpts.id, &[slot.professional_id])
            .await
            .unwrap()
            .remove(0);
        assert_eq!(
            created["participant"][0]["actor"]["identifier"]["value"],
            professional.national_id()
        );
        assert_eq!(
            created["start"],
            maillage_domain::calendar::fhir_instant(slot.start_at)
        );
        // No patient data goes to the SAS.
        let text = created.to_string();
        assert!(!text.contains("EXEMPLE-SAS") && !text.contains("0600009931"));
        let sent = app.get(&page, Some(&secretary)).await;
        assert!(
            sent.body
                .contains("rendez-vous transmis à la plateforme SAS : envoyé"),
            "{}",
            sent.body
        );
        // Cancelled: the same Appointment, cancelled, by a conditional update on its identifier.
        let cancelled = app
            .post_form(
                &format!("{page}/annuler"),
                Some(&secretary.cookie),
                &[("csrf", secretary.csrf.as_str()), ("confirmation", "oui")],
            )
            .await;
        assert_eq!(
            cancelled.status,
            StatusCode::SEE_OTHER,
            "{}",
            cancelled.body
        );
        run_jobs(&app).await;
        let received = platform.received();
        assert_eq!(received.len(), 2);
        let (method, target, updated) = &received[1];
        assert_eq!(method, "PUT");
        assert_eq!(
            target,
            &format!("/fhir/Appointment?identifier=urn%3Aoid%3A1.2.250.1.999.1%7C{booking}")
        );
        assert_eq!(updated["status"], "cancelled");
        assert_eq!(updated["identifier"], created["identifier"]);
        assert!(
            problems_of(updated).is_empty(),
            "{:#?}",
            problems_of(updated)
        );
        // Another one, not honoured: created, then updated as `noshow`.
        let page = booked_from_sas(&app, &secretary, REGULATOR_RPPS).await;
        let recorded = app
            .post_form(
                &format!("{page}/issue"),
                Some(&secretary.cookie),
                &[("csrf", secretary.csrf.as_str()), ("outcome", "absent")],
            )
            .await;
        assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
        run_jobs(&app).await;
        let received = platform.received();
        let statuses: Vec<(&str, &str)> = received[2..]
            .iter()
            .map(|(method, _, body)| (method.as_str(), body["status"].as_str().unwrap()))
            .collect();
        assert_eq!(statuses, [("POST", "booked"), ("PUT", "noshow")]);
    }
}

#[tokio::test]
async fn a_refusal_or_a_missing_certificate_shows_on_the_booking_and_nothing_else_goes() {
    let platform = SasPlatform::start().await;
    for app in each_backend().await {
        // Without Maillage's client certificate, the platform's TLS refuses the connection: retried later.
        let app = app.reconfigured(|config| platform.configure(config, false));
        platform.received.lock().unwrap().clear();
        let secretary = app.login_as(SECRETARY).await;
        let page = booked_from_sas(&app, &secretary, SAS_OPERATOR).await;
        run_jobs(&app).await;
        assert!(
            platform.received().is_empty(),
            "no request without the certificate"
        );
        let retrying = app.get(&page, Some(&secretary)).await;
        assert!(
            retrying.body.contains("envoi en cours de nouvel essai"),
            "{}",
            retrying.body
        );
        // With it, a platform that refuses (422): given up at once, shown to be phoned.
        let app = app.reconfigured(|config| platform.configure(config, true));
        platform.answer.store(422, Ordering::SeqCst);
        let secretary = app.login_as(SECRETARY).await;
        let page = booked_from_sas(&app, &secretary, SAS_OPERATOR).await;
        run_jobs(&app).await;
        let received = platform.received();
        assert_eq!(received.len(), 1);
        let operator = &received[0].2["extension"][0]["valueReference"]["identifier"];
        assert_eq!(operator["type"]["coding"][0]["code"], "INTRN");
        assert_eq!(operator["system"], "urn:oid:1.2.250.1.213.3.6");
        assert!(problems_of(&received[0].2).is_empty());
        let failed = app.get(&page, Some(&secretary)).await;
        assert!(
            failed
                .body
                .contains("échec de l&#39;envoi : refusé par la plateforme SAS")
                && failed
                    .body
                    .contains("prévenez la régulation du SAS par téléphone"),
            "{}",
            failed.body
        );
        platform.answer.store(201, Ordering::SeqCst);
        // A booking of another origin is never sent, and the form does not need the regulator for it.
        let other = hold_slot(
            &app,
            &secretary,
            &format!("/c/{DEMO_CPTS_SLUG}/soins-non-programmes"),
            &free_slots(&app, demo_cpts(&app, DEMO_CPTS_SLUG).await.id, 1).await[0]
                .id
                .to_string(),
        )
        .await;
        let confirmed = confirm(&app, &secretary, &other, "secretariat", "").await;
        assert_eq!(
            confirmed.status,
            StatusCode::SEE_OTHER,
            "{}",
            confirmed.body
        );
        run_jobs(&app).await;
        assert_eq!(platform.received().len(), 1);
    }
}

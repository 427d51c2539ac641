//! The SAS's search as the ANS guide writes it (`specifications_techniques-cpts-recherche_creneaux`) and as
//! the ANS test kit checks it (`interop-outil-fhir-sas-test-kit`, CPTS groups): the guide's example request
//! verbatim, `_count=1000`, past, partly past and empty windows, a missing identifier, unknown parameters; and
//! on the answers, each assertion of the kit's CPTS checks (profiles claimed, one Schedule, PractitionerRole,
//! Location per practitioner and place, references between them, IDNPS and IDNST formats, dates with
//! milliseconds, phones in `+33…`, the booking URL in `Slot.comment`, one HealthcareService per Organization).

use super::*;
use serde_json::Value;

const IDNPS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.1";

async fn fhir_get(app: &TestApp, path: &str, token: &str, strict: bool) -> Answer {
    let mut request = Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if strict {
        request = request.header("Prefer", "handling=strict");
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn json(answer: &Answer) -> Value {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    serde_json::from_str(&answer.body).unwrap()
}

/// The resources of a Bundle claiming `profile` (the test kit finds them so).
fn claiming<'a>(bundle: &'a Value, profile: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| {
            r["meta"]["profile"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p == profile))
        })
        .collect()
}

const SLOT: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator";
const SCHEDULE: &str = "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur";
const PRACTITIONER: &str = "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur";
const ROLE: &str = "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur";
const LOCATION: &str = "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur";
const SERVICE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator";
const ORGANIZATION: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator";
const BUNDLE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator";

fn is_instant(text: &str) -> bool {
    let b = text.as_bytes();
    text.len() == 29
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && (b[23] == b'+' || b[23] == b'-')
        && text
            .chars()
            .enumerate()
            .all(|(i, c)| [4, 7, 10, 13, 16, 19, 23, 26].contains(&i) || c.is_ascii_digit())
}

fn is_international_phone(text: &str) -> bool {
    ["+33", "+262", "+590", "+594", "+596"].iter().any(|code| {
        text.strip_prefix(code)
            .is_some_and(|rest| rest.len() == 9 && rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The test kit's CPTS assertions on one answer for the practitioners `asked` (IDNPS), one place each.
fn assert_the_kit_passes(bundle: &Value, asked: &[String]) {
    assert_eq!(bundle["meta"]["profile"][0], BUNDLE);
    assert_eq!(bundle["type"], "searchset");
    let slots = claiming(bundle, SLOT);
    assert!(!slots.is_empty(), "free slots in the demo");
    // total = the Slots of the Bundle; exactly one link.
    assert_eq!(bundle["total"], slots.len());
    assert_eq!(bundle["link"].as_array().unwrap().len(), 1);
    assert_eq!(bundle["link"][0]["relation"], "self");
    let practitioners = claiming(bundle, PRACTITIONER);
    let schedules = claiming(bundle, SCHEDULE);
    let roles = claiming(bundle, ROLE);
    assert_eq!(
        practitioners.len(),
        asked.len(),
        "one Practitioner per RPPS asked"
    );
    assert_eq!(schedules.len(), asked.len(), "one Schedule per place");
    assert_eq!(roles.len(), asked.len(), "one PractitionerRole per place");
    for practitioner in &practitioners {
        let value = practitioner["identifier"][0]["value"].as_str().unwrap();
        assert!(asked.iter().any(|a| a == value), "{value} was asked");
        assert!(
            value.len() == 12
                && value.starts_with('8')
                && value.bytes().all(|b| b.is_ascii_digit())
        );
        assert_eq!(practitioner["identifier"][0]["system"], IDNPS_SYSTEM);
        assert!(practitioner["name"][0]["family"].is_string());
        assert!(!practitioner["name"][0]["given"][0]
            .as_str()
            .unwrap()
            .is_empty());
    }
    for role in &roles {
        let practitioner = role["practitioner"]["reference"].as_str().unwrap();
        assert!(practitioners
            .iter()
            .any(|p| format!("Practitioner/{}", p["id"].as_str().unwrap()) == practitioner));
        let contained = role["contained"].as_array().unwrap();
        assert_eq!(contained.len(), 1, "one Location per PractitionerRole");
        let location = &contained[0];
        assert_eq!(location["meta"]["profile"][0], LOCATION);
        assert_eq!(
            role["location"][0]["reference"].as_str().unwrap(),
            format!("#{}", location["id"].as_str().unwrap())
        );
        assert!(location["identifier"][0]["value"].is_string());
        assert_eq!(location["address"]["line"].as_array().unwrap().len(), 1);
        assert!(location["address"]["city"].is_string(), "{location}");
        let postal = location["address"]["postalCode"].as_str().unwrap();
        assert!(postal.len() == 5 && postal.bytes().all(|b| b.is_ascii_digit()));
        if let Some(phone) = role["telecom"][0]["value"].as_str() {
            assert!(is_international_phone(phone), "{phone}");
        }
        if let Some(idnst) = role["organization"]["identifier"]["value"].as_str() {
            let rest = &idnst[1..];
            assert!(
                (idnst.starts_with('1') && rest.len() == 9)
                    || ((idnst.starts_with('3') || idnst.starts_with('4')) && rest.len() == 14),
                "{idnst}"
            );
            assert_eq!(
                role["organization"]["identifier"]["system"],
                "urn:oid:1.2.250.1.71.4.2.2"
            );
        }
    }
    for schedule in &schedules {
        let actors: Vec<&str> = schedule["actor"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["reference"].as_str().unwrap())
            .collect();
        assert!(actors.iter().any(|a| a.starts_with("Practitioner/")));
        assert!(actors.iter().any(|a| roles
            .iter()
            .any(|r| format!("PractitionerRole/{}", r["id"].as_str().unwrap()) == *a)));
    }
    let services = claiming(bundle, SERVICE);
    let organizations = claiming(bundle, ORGANIZATION);
    assert!(!services.is_empty());
    assert_eq!(services.len(), organizations.len());
    let organization = organizations[0];
    assert_eq!(
        services[0]["providedBy"]["reference"].as_str().unwrap(),
        format!("Organization/{}", organization["id"].as_str().unwrap())
    );
    let idnst = organization["identifier"][0]["value"].as_str().unwrap();
    assert!(idnst.len() == 10 && idnst.starts_with('1'), "{idnst}");
    assert_eq!(
        organization["identifier"][0]["type"]["coding"][0]["system"],
        "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
    );
    assert!(organization["name"].is_string());
    assert!(is_international_phone(
        organization["telecom"][0]["value"].as_str().unwrap()
    ));
    let service = format!("HealthcareService/{}", services[0]["id"].as_str().unwrap());
    for slot in &slots {
        assert_eq!(slot["status"], "free");
        let start = slot["start"].as_str().unwrap();
        let end = slot["end"].as_str().unwrap();
        assert!(is_instant(start) && is_instant(end), "{start} {end}");
        assert!(start < end);
        assert!(["ROUTINE", "WALKIN"].contains(
            &slot["appointmentType"]["coding"][0]["code"]
                .as_str()
                .unwrap()
        ));
        let codes: Vec<&str> = slot["meta"]["security"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"CPTS"), "{codes:?}");
        let cpts_type = slot["serviceType"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["coding"][0]["code"] == "604")
            .expect("the CPTS service type");
        assert_eq!(
            cpts_type["extension"][0]["valueReference"]["reference"],
            service.as_str()
        );
        let comment = slot["comment"].as_str().unwrap();
        assert!(
            comment.ends_with(&format!(
                "/c/{DEMO_CPTS_SLUG}/soins-non-programmes/creneaux/{}",
                slot["id"].as_str().unwrap()
            )),
            "{comment}"
        );
        let schedule = slot["schedule"]["reference"].as_str().unwrap();
        assert!(schedules
            .iter()
            .any(|s| format!("Schedule/{}", s["id"].as_str().unwrap()) == schedule));
    }
}

/// The IDNPS of the demo's first professional with free slots, and the searches' token.
async fn setup(app: &TestApp) -> (String, String) {
    let cpts = demo_cpts(app, DEMO_CPTS_SLUG).await;
    let token = maillage_app::tokens::issue(
        app.store.as_ref(),
        &maillage_app::caller::Caller::command_line(cpts.id),
        "SAS",
        maillage_app::tokens::FHIR_SCOPE,
        None,
    )
    .await
    .unwrap();
    let search = sas_search(app, DEMO_CPTS_SLUG).await;
    let first = search
        .split("%7C")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    (first, token)
}

#[tokio::test]
async fn the_guides_requests_answer_as_the_guide_says_and_pass_the_test_kits_checks() {
    for app in each_backend().await {
        let (idnps, token) = setup(&app).await;
        let today =
            maillage_domain::unscheduled_care::utc_to_paris(maillage_app::clock::now_ms()).0;
        let now = maillage_app::clock::now_ms();
        let paris = |at: i64| {
            let text = maillage_domain::unscheduled_care::paris_date_time(at);
            let (clock, offset) = text.split_at(text.len() - 6);
            format!("{clock}.000{offset}")
        };
        // The guide's example, written as the guide writes it: raw `+` and `|`, milliseconds, three days.
        let includes = "_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference\
                        &_include:iterate=HealthcareService:organization";
        let verbatim = format!(
            "/fhir/Slot?{includes}&start=ge{}&start=le{}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|{idnps}&status=free",
            paris(now),
            paris(now + 72 * maillage_app::clock::HOUR_MS)
        );
        let answer = fhir_get(&app, &verbatim, &token, false).await;
        let bundle = json(&answer);
        assert_the_kit_passes(&bundle, std::slice::from_ref(&idnps));
        // The self link's query is the request's own (the kit compares them).
        assert!(bundle["link"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with(&verbatim[6..]));

        // Two practitioners: a Schedule each; `_count=1000` is accepted and one page holds everything.
        let all = sas_search(&app, DEMO_CPTS_SLUG).await;
        let ids: Vec<String> = all
            .split("%7C")
            .skip(1)
            .map(|t| t.split(',').next().unwrap().to_string())
            .collect();
        assert!(ids.len() >= 2, "two demo GPs publish slots");
        let both = format!(
            "/fhir/Slot?{includes}&status=free&start=ge{}&start=le{}&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C{},urn:oid:1.2.250.1.71.4.2.1%7C{}&_count=1000",
            paris(now).replace('+', "%2B"),
            paris(now + 72 * maillage_app::clock::HOUR_MS).replace('+', "%2B"),
            ids[0],
            ids[1]
        );
        let bundle = json(&fhir_get(&app, &both, &token, false).await);
        assert_the_kit_passes(&bundle, &ids[..2]);

        // Past, partly past and empty windows answer 200: none, the slots to come, none.
        let one = format!("/fhir/Slot?{includes}&status=free&schedule.actor:Practitioner.identifier={IDNPS_SYSTEM}%7C{idnps}");
        let yesterday = |hour: u32| {
            paris(maillage_domain::unscheduled_care::paris_to_utc(
                today.plus_days(-1),
                hour * 60,
            ))
            .replace('+', "%2B")
        };
        let past = json(
            &fhir_get(
                &app,
                &format!("{one}&start=ge{}&start=le{}", yesterday(8), yesterday(18)),
                &token,
                false,
            )
            .await,
        );
        assert_eq!(past["total"], 0);
        assert!(past["entry"].as_array().unwrap().is_empty());
        let partly = json(
            &fhir_get(
                &app,
                &format!(
                    "{one}&start=ge{}&start=le{}",
                    yesterday(8),
                    paris(now + 72 * maillage_app::clock::HOUR_MS).replace('+', "%2B")
                ),
                &token,
                false,
            )
            .await,
        );
        let upcoming = claiming(&partly, SLOT);
        assert!(!upcoming.is_empty());
        assert!(upcoming
            .iter()
            .all(|s| maillage_domain::unscheduled_care::parse_fhir_date_time(
                s["start"].as_str().unwrap()
            )
            .unwrap()
                >= now - 60_000));
        let night = paris(maillage_domain::unscheduled_care::paris_to_utc(
            today.plus_days(2),
            3 * 60,
        ))
        .replace('+', "%2B");
        let empty = json(
            &fhir_get(
                &app,
                &format!("{one}&start=ge{night}&start=le{night}"),
                &token,
                false,
            )
            .await,
        );
        assert_eq!(empty["total"], 0);

        // No practitioner, or an empty one: 400 naming the parameter.
        for bad in [
            format!("/fhir/Slot?{includes}&status=free"),
            format!("/fhir/Slot?{includes}&status=free&schedule.actor:Practitioner.identifier="),
        ] {
            let refused = fhir_get(&app, &bad, &token, false).await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(
                refused
                    .body
                    .contains("schedule.actor:Practitioner.identifier : "),
                "{}",
                refused.body
            );
        }
        // Unknown parameters: ignored, unless strict handling is asked.
        let unknown = format!("{one}&_offset=100&name=Dupont");
        assert_eq!(
            fhir_get(&app, &unknown, &token, false).await.status,
            StatusCode::OK
        );
        let strict = fhir_get(&app, &unknown, &token, true).await;
        assert_eq!(strict.status, StatusCode::BAD_REQUEST);
        assert!(strict.body.contains("_offset : "), "{}", strict.body);

        // The Schedule and the Practitioner read one by one, as the CapabilityStatement declares.
        let schedule = claiming(&bundle, SCHEDULE)[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let read =
            json(&fhir_get(&app, &format!("/fhir/Schedule/{schedule}"), &token, false).await);
        assert_eq!(read["meta"]["profile"][0], SCHEDULE);
        let practitioner = claiming(&bundle, PRACTITIONER)[0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let read = json(
            &fhir_get(
                &app,
                &format!("/fhir/Practitioner/{practitioner}"),
                &token,
                false,
            )
            .await,
        );
        assert_eq!(read["identifier"][0]["system"], IDNPS_SYSTEM);
        let metadata: Value =
            serde_json::from_str(&app.get("/fhir/metadata", None).await.body).unwrap();
        let declared: Vec<&str> = metadata["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["interaction"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| i["code"] == "read")
            })
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        for kind in ["Slot", "Schedule", "Practitioner"] {
            assert!(declared.contains(&kind), "{kind} read declared");
        }
        assert_eq!(
            fhir_get(
                &app,
                "/fhir/Schedule/sched-00000000-0000-0000-0000-000000000000",
                &token,
                false
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
    }
}

/// The SAS opens `Slot.comment` with `origin` appended: someone who is not signed in is sent to the login
/// first; the slot's page books with the SAS as origin.
#[tokio::test]
async fn the_booking_address_the_sas_opens_records_the_sas_as_origin() {
    for app in each_backend().await {
        let (idnps, token) = setup(&app).await;
        let search = format!(
            "{FHIR_SEARCH}&schedule.actor:Practitioner.identifier={IDNPS_SYSTEM}%7C{idnps}"
        );
        let bundle = json(&fhir_get(&app, &search, &token, false).await);
        let comment = claiming(&bundle, SLOT)[0]["comment"]
            .as_str()
            .unwrap()
            .to_string();
        let path = format!("/{}?origin=sas", comment.splitn(4, '/').nth(3).unwrap());
        let anonymous = app.get(&path, None).await;
        assert!(anonymous.status.is_redirection(), "{}", anonymous.status);
        assert!(anonymous.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/connexion"));
        let secretary = app.login_as(SECRETARY).await;
        let page = app.get(&path, Some(&secretary)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("Régulation du SAS") && page.body.contains("Réserver ce créneau")
        );
        let hold = format!("{}/reserver", path.split('?').next().unwrap());
        assert!(page.body.contains(&format!(r#"action="{hold}""#)));
        let held = app
            .post_form(
                &hold,
                Some(&secretary.cookie),
                &[("csrf", secretary.csrf.as_str()), ("origine", "sas")],
            )
            .await;
        assert_eq!(held.status, StatusCode::SEE_OTHER, "{}", held.body);
        let booking_path = held.headers[header::LOCATION].to_str().unwrap().to_string();
        let booking = uuid::Uuid::parse_str(booking_path.rsplit('/').next().unwrap()).unwrap();
        let cpts = demo_cpts(&app, DEMO_CPTS_SLUG).await;
        let found = app
            .store
            .find_booking(cpts.id, booking)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            found.origin,
            maillage_domain::unscheduled_care::BookingOrigin::SasRegulation
        );
        let form = app.get(&booking_path, Some(&secretary)).await;
        assert!(
            form.body.contains(r#"<option value="sas" selected>"#),
            "the known origin is kept"
        );
        // Booked meanwhile: the page says so and offers no button.
        let again = app.get(&path, Some(&secretary)).await;
        assert!(again.body.contains("Déjà réservé") && !again.body.contains("Réserver ce créneau"));
    }
}

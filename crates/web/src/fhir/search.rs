//! The search of free slots as the SAS writes it (guide `ans.fhir.fr.sas`, page « CPTS – recherche de
//! créneaux »): `start` twice (`ge`, `le`), offsets with a raw `+` (decoded as a space by the query-string
//! rules) or encoded, with or without milliseconds; one to 25 practitioners' IDNPS (a missing or empty list is
//! refused, naming the parameter); `status=free`; the four `_include`s. Parameters the guide does not define are
//! ignored, as FHIR servers do by default, unless the client sends `Prefer: handling=strict`.

use super::resources::IDNPS;
use maillage_domain::unscheduled_care::parse_fhir_date_time;

/// The parameter naming the practitioners.
pub const PRACTITIONER_PARAMETER: &str = "schedule.actor:Practitioner.identifier";

/// A page holds every match up to `_count`; without it, up to this many (a search for 25 professionals
/// over 3 days holds a few hundred at most).
pub const MAX_COUNT: i64 = 5000;

/// Practitioners one search may name (the guide: 1 to 25; kept wider for other clients).
const MAX_PRACTITIONERS: usize = 500;

/// What the search asks, read from the query string (parameters repeat: `start` twice, `_include` often).
#[derive(Debug, Default)]
pub struct SlotSearch {
    pub from: Option<i64>,
    pub until: Option<i64>,
    pub practitioners: Vec<String>,
    pub include_schedule: bool,
    pub include_actors: bool,
    pub include_service: bool,
    pub include_organization: bool,
    pub count: i64,
    /// Parameters not understood and ignored (lenient handling).
    pub ignored: Vec<String>,
}

/// Reads a search; `strict` (`Prefer: handling=strict`) refuses what lenient handling ignores.
pub fn parse_search(query: &str, strict: bool) -> Result<SlotSearch, String> {
    let mut search = SlotSearch {
        count: MAX_COUNT,
        ..Default::default()
    };
    let mut named_practitioners = false;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "start" => {
                // A raw `+` of the offset arrives as a space: a date holds none, so it is the `+`.
                let value = value.replace(' ', "+");
                // The two-letter comparator, when there is one (`get` keeps a multi-byte text whole).
                let (prefix, text) = match value.get(..2) {
                    Some(p @ ("ge" | "gt" | "le" | "lt" | "eq")) => (p, &value[2..]),
                    _ => ("eq", value.as_str()),
                };
                let instant = parse_fhir_date_time(text).ok_or_else(|| {
                    format!(
                        "start : « {value} » n'est pas une date FHIR (2026-12-01T08:00:00.000+01:00)."
                    )
                })?;
                match prefix {
                    "ge" => search.from = Some(instant),
                    "gt" => search.from = Some(instant + 1),
                    "le" => search.until = Some(instant),
                    "lt" => search.until = Some(instant - 1),
                    _ => {
                        return Err(
                            "start : préfixe ge, gt, le ou lt attendu (par exemple start=ge2026-12-01T08:00:00+01:00)."
                                .into(),
                        )
                    }
                }
            }
            "status" => {
                if value.split(',').any(|s| s != "free") {
                    return Err("status : seuls les créneaux libres (free) sont publiés.".into());
                }
            }
            PRACTITIONER_PARAMETER | "schedule.actor.identifier" => {
                named_practitioners = true;
                for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    let identifier = match token.split_once('|') {
                        Some((system, identifier)) if system == IDNPS || system.is_empty() => identifier,
                        Some((system, _)) => {
                            return Err(format!(
                                "{PRACTITIONER_PARAMETER} : système « {system} » inconnu (attendu {IDNPS})."
                            ))
                        }
                        None => token,
                    };
                    if identifier.is_empty()
                        || identifier.len() > 20
                        || !identifier.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        return Err(format!(
                            "{PRACTITIONER_PARAMETER} : « {token} » n'est pas un IDNPS (8 suivi du RPPS)."
                        ));
                    }
                    search.practitioners.push(identifier.to_string());
                }
                if search.practitioners.len() > MAX_PRACTITIONERS {
                    return Err(format!(
                        "{PRACTITIONER_PARAMETER} : {MAX_PRACTITIONERS} praticiens au plus par recherche."
                    ));
                }
            }
            "_include" | "_include:iterate" => match value.as_ref() {
                "Slot:schedule" => search.include_schedule = true,
                "Schedule:actor"
                | "Schedule:actor:Practitioner"
                | "Schedule:actor:PractitionerRole" => search.include_actors = true,
                "Slot:service-type-reference" => search.include_service = true,
                "HealthcareService:organization" => search.include_organization = true,
                other if strict => {
                    return Err(format!("_include : « {other} » n'est pas pris en charge."))
                }
                other => search.ignored.push(format!("_include={other}")),
            },
            "_count" => {
                search.count = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| format!("_count : un nombre entre 1 et {MAX_COUNT}."))?;
            }
            "_format" => {}
            other if strict => {
                return Err(format!(
                    "{other} : paramètre de recherche non pris en charge (Prefer: handling=strict)."
                ))
            }
            other => search.ignored.push(other.to_string()),
        }
    }
    if search.practitioners.is_empty() {
        return Err(if named_practitioners {
            format!("{PRACTITIONER_PARAMETER} : au moins un IDNPS est attendu (urn:oid:1.2.250.1.71.4.2.1|8…), la valeur est vide.")
        } else {
            format!("{PRACTITIONER_PARAMETER} : paramètre obligatoire, les IDNPS des praticiens recherchés (urn:oid:1.2.250.1.71.4.2.1|8…).")
        });
    }
    Ok(search)
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_app::clock::HOUR_MS;

    /// The guide's own example request, verbatim: raw `+` and `|`, milliseconds.
    const GUIDE_EXAMPLE: &str = "_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference\
        &_include:iterate=HealthcareService:organization&start=ge2024-06-12T16:20:00.000+02:00\
        &start=le2024-06-15T16:20:00.000+02:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371,\
        urn:oid:1.2.250.1.71.4.2.1|810001288385&status=free";

    #[test]
    fn the_guides_example_request_is_read_as_written() {
        let s = parse_search(GUIDE_EXAMPLE, false).unwrap();
        assert_eq!(s.practitioners, vec!["810002909371", "810001288385"]);
        assert_eq!(s.until.unwrap() - s.from.unwrap(), 72 * HOUR_MS);
        assert_eq!(
            s.from.unwrap(),
            parse_fhir_date_time("2024-06-12T14:20:00Z").unwrap()
        );
        assert!(
            s.include_schedule && s.include_actors && s.include_service && s.include_organization
        );
        assert_eq!(s.count, MAX_COUNT);
        // Encoded, without milliseconds, or in Paris time without an offset (as the test kit sends it).
        for start in [
            "ge2024-06-12T16:20:00.000%2B02:00",
            "ge2024-06-12T16:20:00%2B02:00",
            "ge2024-06-12T16:20:00.000",
            "ge2024-06-12T14:20:00Z",
        ] {
            let q = format!("start={start}&schedule.actor:Practitioner.identifier=810002909371");
            assert_eq!(parse_search(&q, false).unwrap().from, s.from, "{start}");
        }
        assert_eq!(
            parse_search(&format!("{GUIDE_EXAMPLE}&_count=1000"), false)
                .unwrap()
                .count,
            1000
        );
    }

    #[test]
    fn unknown_parameters_are_ignored_unless_strict_handling_is_asked() {
        let q = "schedule.actor:Practitioner.identifier=810002909371&name=Dupont&_include=Patient:link&_offset=10";
        let lenient = parse_search(q, false).unwrap();
        assert_eq!(
            lenient.ignored,
            vec!["name", "_include=Patient:link", "_offset"]
        );
        let refused = parse_search(q, true).unwrap_err();
        assert!(refused.starts_with("name : "), "{refused}");
    }

    #[test]
    fn refusals_name_their_parameter() {
        for (bad, parameter) in [
            ("status=busy", "status"),
            ("start=demain", "start"),
            ("start=eq2026-12-01", "start"),
            ("_count=0", "_count"),
            ("_count=5001", "_count"),
            ("", PRACTITIONER_PARAMETER),
            (
                "schedule.actor:Practitioner.identifier=",
                PRACTITIONER_PARAMETER,
            ),
            (
                "schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C",
                PRACTITIONER_PARAMETER,
            ),
            (
                "schedule.actor:Practitioner.identifier=http://autre%7C81",
                PRACTITIONER_PARAMETER,
            ),
        ] {
            let query = if parameter == PRACTITIONER_PARAMETER {
                bad.to_string()
            } else {
                format!("{bad}&schedule.actor:Practitioner.identifier=810002909371")
            };
            let message = parse_search(&query, false).unwrap_err();
            assert!(
                message.starts_with(&format!("{parameter} : ")),
                "{bad}: {message}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Whatever a client sends, the search answers a result or a French message naming the parameter.
        #[test]
        fn arbitrary_queries_never_panic(
            text in proptest::prelude::any::<String>(),
            near in "(start=(ge|le|gt|lt|eq)?[0-9T:+.Z -]{0,30}|status=[a-z,]{0,8}|_count=[0-9-]{0,5}|_include(:iterate)?=[A-Za-z:-]{0,30}|schedule\\.actor:Practitioner\\.identifier=[a-z0-9:.%|,]{0,40})(&(start|status|_count)=[^&]{0,12}){0,3}",
            strict in proptest::prelude::any::<bool>(),
        ) {
            for query in [text.as_str(), near.as_str()] {
                if let Err(message) = parse_search(query, strict) {
                    proptest::prop_assert!(message.contains(" : "), "{query}: {message}");
                }
            }
        }
    }
}

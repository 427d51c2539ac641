//! Registering for a prevention session without an account: the minimum about the person (a name, one way to
//! reach them, their commune and age band), the consent, one registration per person and session; a place
//! while there is one, else the waiting list; a freed place offered to the first waiting, the offer expiring
//! before the session.

use crate::calendar::Day;
use crate::codes::coded_enum;
use crate::identifiers::{person_name, ValidationError};
use crate::professional::{parse_optional_email, parse_phone};

coded_enum!(
    /// Age bands, for the reach indicators (no birth date is asked).
    AgeBand {
        Under18 => ("moins-18", "Moins de 18 ans"),
        From18 => ("18-39", "18 à 39 ans"),
        From40 => ("40-59", "40 à 59 ans"),
        From60 => ("60-74", "60 à 74 ans"),
        From75 => ("75-plus", "75 ans et plus"),
    }
);

/// The public form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationDraft {
    pub family_name: String,
    pub given_names: String,
    pub email: String,
    pub phone: String,
    pub commune: String,
    pub age_band: String,
    pub consent: bool,
}

/// A checked registrant: what is sealed and kept until the delay runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrant {
    pub family_name: String,
    pub given_names: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub commune: String,
    pub age_band: AgeBand,
}

/// The registrant, or every problem naming its field: names, an e-mail or a phone (at least one), the
/// commune, the age band, the consent.
pub fn check_registrant(draft: &RegistrationDraft) -> Result<Registrant, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let mut keep = |result: Result<String, ValidationError>| match result {
        Ok(value) => Some(value),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let family_name = keep(person_name("Nom", &draft.family_name, 100));
    let given_names = keep(person_name("Prénom", &draft.given_names, 100));
    let email = keep(parse_optional_email("Courriel", &draft.email)).filter(|e| !e.is_empty());
    let phone = if draft.phone.trim().is_empty() {
        None
    } else {
        keep(parse_phone("Téléphone", &draft.phone)).filter(|p| !p.is_empty())
    };
    if email.is_none()
        && phone.is_none()
        && draft.email.trim().is_empty()
        && draft.phone.trim().is_empty()
    {
        problems.push(ValidationError::new(
            "Courriel",
            "un courriel ou un téléphone, pour vous confirmer l'inscription",
        ));
    }
    let commune = draft.commune.trim();
    if !(2..=100).contains(&commune.chars().count()) {
        problems.push(ValidationError::new("Commune", "votre commune"));
    }
    let age_band = AgeBand::parse(draft.age_band.trim());
    if age_band.is_none() {
        problems.push(ValidationError::new("Âge", "choisissez une tranche d'âge"));
    }
    if !draft.consent {
        problems.push(ValidationError::new(
            "Consentement",
            "cochez la case pour accepter que la CPTS garde ces informations le temps de l'action",
        ));
    }
    match (family_name, given_names, age_band) {
        (Some(family_name), Some(given_names), Some(age_band)) if problems.is_empty() => {
            Ok(Registrant {
                family_name,
                given_names,
                email,
                phone,
                commune: commune.to_string(),
                age_band,
            })
        }
        _ => Err(problems),
    }
}

/// What finds the same person registering twice for a session: folded names and contact.
pub fn duplicate_key(registrant: &Registrant) -> String {
    let contact = registrant
        .email
        .clone()
        .or_else(|| registrant.phone.clone())
        .unwrap_or_default();
    crate::text::fold(&format!(
        "{} {} {}",
        registrant.family_name, registrant.given_names, contact
    ))
    .to_lowercase()
}

/// Where a new registration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Confirmed,
    Waiting,
}

/// A registration on `today` for a session of `capacity` places, `taken` taken (confirmed or offered): after
/// the deadline, refused; a place while there is one; else the waiting list.
pub fn placement(
    capacity: u32,
    taken: u32,
    registration_until: Day,
    today: Day,
) -> Result<Placement, ValidationError> {
    if today > registration_until {
        return Err(ValidationError::new(
            "Inscription",
            format!(
                "les inscriptions sont closes depuis le {}",
                registration_until.french()
            ),
        ));
    }
    Ok(if taken < capacity {
        Placement::Confirmed
    } else {
        Placement::Waiting
    })
}

/// Someone on a session's waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter<Id> {
    pub id: Id,
    /// When they registered (ms): the first come is offered first.
    pub registered_at: i64,
}

/// Whom to offer the places free now (`free`: capacity minus confirmed minus offers still open): the first
/// waiting, in order of registration.
pub fn offers<Id: Clone + Ord>(free: u32, waiting: &[Waiter<Id>]) -> Vec<Id> {
    let mut ordered: Vec<&Waiter<Id>> = waiting.iter().collect();
    ordered.sort_by(|a, b| (a.registered_at, &a.id).cmp(&(b.registered_at, &b.id)));
    ordered
        .into_iter()
        .take(free as usize)
        .map(|w| w.id.clone())
        .collect()
}

/// When an offer made at `offered_at` lapses: `hours` later, but never later than two hours before the
/// session starts (a place offered at the last minute goes quickly to the next).
pub fn offer_deadline(offered_at: i64, hours: i64, session_start: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    (offered_at + hours.max(1) * HOUR)
        .min(session_start - 2 * HOUR)
        .max(offered_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse("jour", text).unwrap()
    }

    #[test]
    fn a_registrant_gives_the_minimum_and_each_problem_is_named() {
        let good = RegistrationDraft {
            family_name: "Exemple".into(),
            given_names: "Jeanne".into(),
            email: "jeanne@exemple.test".into(),
            commune: "Aigues-Mortes".into(),
            age_band: "60-74".into(),
            consent: true,
            ..Default::default()
        };
        let registrant = check_registrant(&good).unwrap();
        assert_eq!(registrant.age_band, AgeBand::From60);
        assert_eq!(registrant.phone, None);
        let fields: Vec<&str> = check_registrant(&RegistrationDraft::default())
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                "Nom",
                "Prénom",
                "Courriel",
                "Commune",
                "Âge",
                "Consentement"
            ]
        );
        let bad_contact = RegistrationDraft {
            email: "pas-un-courriel".into(),
            phone: "12".into(),
            ..good.clone()
        };
        let fields: Vec<&str> = check_registrant(&bad_contact)
            .unwrap_err()
            .iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(fields, ["Courriel", "Téléphone"]);
        let twice = RegistrationDraft {
            family_name: "EXEMPLE".into(),
            given_names: "jeanne".into(),
            ..good
        };
        assert_eq!(
            duplicate_key(&check_registrant(&twice).unwrap()),
            duplicate_key(&registrant)
        );
    }

    #[test]
    fn places_go_to_the_registered_then_the_waiting_list_and_offers_expire_before_the_session() {
        let until = day("2027-03-11");
        assert_eq!(
            placement(20, 19, until, day("2027-03-01")),
            Ok(Placement::Confirmed)
        );
        assert_eq!(
            placement(20, 20, until, day("2027-03-11")),
            Ok(Placement::Waiting)
        );
        assert_eq!(
            placement(20, 0, until, day("2027-03-12"))
                .unwrap_err()
                .field,
            "Inscription"
        );
        let waiting = [
            Waiter {
                id: 3,
                registered_at: 300,
            },
            Waiter {
                id: 1,
                registered_at: 100,
            },
            Waiter {
                id: 2,
                registered_at: 200,
            },
        ];
        assert_eq!(offers(2, &waiting), [1, 2]);
        assert!(offers(0, &waiting).is_empty());
        let hour = 3_600_000;
        assert_eq!(offer_deadline(0, 24, 100 * hour), 24 * hour);
        assert_eq!(offer_deadline(0, 24, 10 * hour), 8 * hour);
        assert_eq!(
            offer_deadline(5 * hour, 24, 6 * hour),
            5 * hour,
            "no time left: lapses at once"
        );
    }
}

//! What Maillage tells the national SAS platform about an appointment booked from it (flow "gestion des
//! rendez-vous" of the ANS guide, profile FrAppointmentSAS): who booked it at the SAS, and the state the SAS
//! reads. Pure rules; the resource is written and sent by the unscheduled-care service.

use crate::identifiers::{Rpps, ValidationError};
use crate::unscheduled_care::{BookingStatus, Outcome};
use uuid::Uuid;

/// The regulator who booked at the SAS, as the guide identifies them (`AppointmentOperator`): a regulating
/// doctor by their national identifier (`8` + RPPS, type IDNPS), an operator without one by the SAS's
/// technical identifier (a UUID the SAS platform gives, type INTRN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SasOperator {
    National(String),
    Technical(Uuid),
}

impl SasOperator {
    /// The field of the booking form it is typed in.
    pub const FIELD: &'static str = "Identifiant SAS du régulateur";

    /// Reads what was typed: an RPPS (11 digits, with or without the `8` of the national identifier) or the
    /// SAS's UUID. Empty: None.
    pub fn parse(input: &str) -> Result<Option<Self>, ValidationError> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Ok(None);
        }
        if let Ok(technical) = Uuid::parse_str(&compact) {
            return Ok(Some(Self::Technical(technical)));
        }
        let digits = match compact.strip_prefix('8') {
            Some(rest) if compact.len() == 12 => rest,
            _ => compact.as_str(),
        };
        match Rpps::parse(digits) {
            Ok(rpps) => Ok(Some(Self::National(format!("8{}", rpps.as_str())))),
            Err(_) => Err(ValidationError::new(
                Self::FIELD,
                format!(
                    "« {} » n'est ni un RPPS de médecin régulateur (11 chiffres, clé valide) ni un identifiant SAS \
                     d'opérateur (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                    crate::identifiers::shorten(input)
                ),
            )),
        }
    }

    /// How it is kept with the booking.
    pub fn stored(&self) -> String {
        match self {
            Self::National(id) => id.clone(),
            Self::Technical(id) => id.to_string(),
        }
    }

    /// Back from [`SasOperator::stored`]; None for anything else.
    pub fn from_stored(stored: &str) -> Option<Self> {
        Self::parse(stored).ok().flatten()
    }
}

/// The Appointment status the SAS reads for a booking (the values its platform uses: booked, fulfilled,
/// noshow, cancelled); None for a hold, which the SAS is never told about.
pub fn appointment_status(status: BookingStatus, outcome: Option<Outcome>) -> Option<&'static str> {
    match status {
        BookingStatus::Held => None,
        BookingStatus::Cancelled | BookingStatus::Expired => Some("cancelled"),
        BookingStatus::Confirmed => Some(match outcome {
            None => "booked",
            Some(Outcome::NoShow) => "noshow",
            Some(_) => "fulfilled",
        }),
    }
}

/// The practice place a slot is given at, as its position in the professional's places (the SAS reads one
/// agenda per place): the place whose name the slot's free text names — case, accents and spacing aside, or
/// contained in it — else the first.
pub fn place_of_slot(slot_place: &str, place_names: &[&str]) -> usize {
    let wanted = crate::text::fold(slot_place);
    if wanted.is_empty() {
        return 0;
    }
    let folded: Vec<String> = place_names
        .iter()
        .map(|name| crate::text::fold(name))
        .collect();
    folded
        .iter()
        .position(|name| *name == wanted)
        .or_else(|| {
            folded
                .iter()
                .position(|name| !name.is_empty() && wanted.contains(name.as_str()))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_given_at_the_place_its_text_names_else_the_first() {
        let places = ["Cabinet du Port", "Maison de santé de Vauvert"];
        assert_eq!(place_of_slot("", &places), 0);
        assert_eq!(place_of_slot("maison de SANTÉ  de vauvert", &places), 1);
        assert_eq!(
            place_of_slot("Maison de santé de Vauvert, 2e étage", &places),
            1
        );
        assert_eq!(place_of_slot("Ailleurs", &places), 0);
        assert_eq!(place_of_slot("Ailleurs", &[]), 0);
    }

    #[test]
    fn an_operator_is_an_rpps_or_the_sas_uuid() {
        let national = Some(SasOperator::National("810100050078".into()));
        assert_eq!(SasOperator::parse("10100050078").unwrap(), national);
        assert_eq!(SasOperator::parse(" 8 1010 0050 078 ").unwrap(), national);
        let uuid = "b6e39355-8a61-4556-b340-36f7b95fec6a";
        let technical = SasOperator::parse(uuid).unwrap().unwrap();
        assert_eq!(technical.stored(), uuid);
        assert_eq!(
            SasOperator::from_stored(&technical.stored()),
            Some(technical)
        );
        assert_eq!(SasOperator::parse("").unwrap(), None);
        for wrong in ["10100050075", "123", "8101000500750", "abc"] {
            let error = SasOperator::parse(wrong).unwrap_err();
            assert_eq!(error.field, SasOperator::FIELD, "{wrong}");
        }
    }

    #[test]
    fn the_sas_reads_the_booking_state_and_outcome() {
        use BookingStatus::*;
        assert_eq!(appointment_status(Held, None), None);
        assert_eq!(appointment_status(Confirmed, None), Some("booked"));
        assert_eq!(
            appointment_status(Confirmed, Some(Outcome::Seen)),
            Some("fulfilled")
        );
        assert_eq!(
            appointment_status(Confirmed, Some(Outcome::SentToEmergency)),
            Some("fulfilled")
        );
        assert_eq!(
            appointment_status(Confirmed, Some(Outcome::NoShow)),
            Some("noshow")
        );
        assert_eq!(appointment_status(Cancelled, None), Some("cancelled"));
    }
}

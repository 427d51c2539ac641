//! What became of a message sent on behalf of a CPTS. Nothing is sent silently: every message has a state
//! the sender sees where she sent it, and a recipient without an address is a state she can act on (call).

use crate::codes::coded_enum;

coded_enum!(
    /// How a message goes. `Phone` is the channel of a message that could not go: someone must call.
    Channel {
        Email => ("email", "e-mail"),
        Sms => ("sms", "SMS"),
        Phone => ("phone", "téléphone"),
        /// The FHIR API of the national SAS platform (an Appointment sent back).
        Sas => ("sas", "plateforme SAS"),
    }
);

coded_enum!(
    /// The stored state of a delivery. While its job exists, `Queued` is refined by the job's own state
    /// (see [`shown`]).
    Stored {
        Queued => ("queued", "en file d'envoi"),
        Sent => ("sent", "envoyé"),
        Failed => ("failed", "échec de l'envoi"),
        NoAddress => ("no_address", "pas d'adresse : à appeler"),
        Phoned => ("phoned", "appelé"),
    }
);

coded_enum!(
    /// Why a message was sent, as the sender reads it.
    Purpose {
        Proposal => ("proposal", "proposition au médecin"),
        BookingNotice => ("booking_notice", "avis au professionnel"),
        PatientNotice => ("patient_notice", "message au patient"),
        Invitation => ("invitation", "invitation"),
        RotaSwap => ("rota_swap", "proposition d'échange d'astreinte"),
        AnswerDigest => ("answer_digest", "récapitulatif des réponses des médecins"),
        CapacityReminder => ("capacity_reminder", "rappel de mise à jour des places"),
        SasAppointment => ("sas_appointment", "rendez-vous transmis au SAS"),
        PathwayStepLate => ("pathway_step_late", "alerte d'étape de parcours en retard"),
    }
);

/// A delivery as its sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// In the queue; `retrying` after a passing failure.
    Waiting {
        retrying: bool,
    },
    Sent,
    /// Given up, with the reason in French.
    Failed(String),
    /// Nobody can be written to: call them.
    ToCall,
    /// Someone called (or recorded the answer given on the phone).
    Called,
}

impl Shown {
    pub fn label(&self) -> String {
        match self {
            Shown::Waiting { retrying: false } => "en file d'envoi".into(),
            Shown::Waiting { retrying: true } => "envoi en cours de nouvel essai".into(),
            Shown::Sent => "envoyé".into(),
            Shown::Failed(reason) => format!("échec de l'envoi : {reason}"),
            Shown::ToCall => "pas d'adresse : à appeler".into(),
            Shown::Called => "appelé".into(),
        }
    }

    /// Someone has to pick up the phone.
    pub fn needs_a_call(&self) -> bool {
        matches!(self, Shown::ToCall | Shown::Failed(_))
    }
}

/// The state to show from the stored one and, while it exists, the job's (`queued`, `running`, `done`,
/// `failed`) with its last error.
pub fn shown(stored: Stored, job_status: Option<&str>, job_error: Option<&str>) -> Shown {
    match stored {
        Stored::NoAddress => Shown::ToCall,
        Stored::Phoned => Shown::Called,
        Stored::Sent => Shown::Sent,
        Stored::Failed => Shown::Failed(failure_reason(job_error.unwrap_or_default())),
        Stored::Queued => match job_status {
            Some("done") => Shown::Sent,
            Some("failed") => Shown::Failed(failure_reason(job_error.unwrap_or_default())),
            _ => Shown::Waiting {
                retrying: job_error.is_some_and(|e| !e.is_empty()),
            },
        },
    }
}

/// The French reason of a job's error (the job records it in English for the operators).
pub fn failure_reason(error: &str) -> String {
    let lower = error.to_lowercase();
    if lower.contains("recipient address") || lower.contains("invalid address") {
        "adresse invalide".into()
    } else if lower.contains("smtp refused") {
        "refusé par le serveur de messagerie".into()
    } else if lower.contains("smtp") {
        "serveur de messagerie injoignable".into()
    } else if lower.contains("sas platform refused") {
        "refusé par la plateforme SAS".into()
    } else if lower.contains("sas platform") {
        "plateforme SAS injoignable".into()
    } else if lower.contains("sms") {
        "passerelle SMS injoignable".into()
    } else if lower.contains("worker stopped") {
        "envoi interrompu".into()
    } else {
        "erreur technique".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_message_follows_its_job() {
        assert_eq!(
            shown(Stored::Queued, Some("queued"), None),
            Shown::Waiting { retrying: false }
        );
        assert_eq!(
            shown(Stored::Queued, Some("queued"), Some("SMTP: timeout")),
            Shown::Waiting { retrying: true }
        );
        assert_eq!(shown(Stored::Queued, Some("done"), None), Shown::Sent);
        assert_eq!(
            shown(
                Stored::Queued,
                Some("failed"),
                Some("recipient address is not valid")
            ),
            Shown::Failed("adresse invalide".into())
        );
        // Purged job: the stored state was settled before.
        assert_eq!(shown(Stored::Sent, None, None), Shown::Sent);
        assert_eq!(shown(Stored::NoAddress, None, None), Shown::ToCall);
        assert!(Shown::ToCall.needs_a_call());
        assert!(!Shown::Sent.needs_a_call());
        assert_eq!(
            Shown::Failed("adresse invalide".into()).label(),
            "échec de l'envoi : adresse invalide"
        );
    }
}

//! The audit trail: what is recorded, and the code that chains each entry to the one before.
//!
//! Entry `n` stores `hash_n = HMAC-SHA-256(key, canonical(entry_n) ‖ hash_{n-1})`, written `hmac:<key id>:<hex>`,
//! with a key from the configuration (`security.audit_keys`), never in the database: whoever can write to the
//! database cannot recompute the chain after changing it. Changing one byte of an entry changes its code;
//! deleting or inserting an entry breaks the positions or the link to the previous code; the head row keeps
//! the last position and code. A shortened chain whose head was updated to match is caught against a
//! checkpoint kept elsewhere ([`AuditKeys::sign`]). Entries written before a key was configured carry a plain
//! SHA-256 (64 hex digits) and are still verified; after the first keyed entry, none may be plain.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// `hash_0`: what the first entry links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. The code is stored; the label is shown to the coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Login,
    LoginFailed,
    LoginLocked,
    Logout,
    LogoutEverywhere,
    PasswordResetRequested,
    PasswordResetCompleted,
    PasswordChanged,
    SessionEnded,
    TotpEnabled,
    TotpDisabled,
    RecoveryCodesRenewed,
    MfaPolicyChanged,
    CptsContactChanged,
    CptsCreated,
    UserCreated,
    UserDisabled,
    UserEnabled,
    RoleGranted,
    ReferralsViewed,
    ReferralInformationAdded,
    MembershipSuspended,
    MembershipRestored,
    AccountLinkedToRecord,
    InvitationSent,
    InvitationAccepted,
    MembersViewed,
    UsersViewed,
    OutboxViewed,
    AuditViewed,
    AuditExported,
    PatientCreated,
    PatientViewed,
    PatientUpdated,
    KeysRotated,
    DirectoryImported,
    DirectoryViewed,
    ProfessionalViewed,
    ProfessionalUpdated,
    DirectoryExported,
    StructureCreated,
    StructureUpdated,
    DoctorRequestCreated,
    DoctorRequestMerged,
    DoctorRequestKeptApart,
    DoctorRequestViewed,
    DoctorRequestsListed,
    DoctorRequestUpdated,
    DoctorRequestAnonymised,
    DoctorRequestsImported,
    DoctorRequestsExported,
    CapacityDeclared,
    MatchingRun,
    ProposalSent,
    ProposalAnswered,
    DeliveryCalled,
    PriorityRulesChanged,
    SnpPatternPublished,
    SnpSlotHeld,
    SnpBookingConfirmed,
    SnpBookingViewed,
    SnpBookingsListed,
    SnpBookingCancelled,
    SnpOutcomeRecorded,
    SnpDysfunctionRecorded,
    SnpDysfunctionFollowedUp,
    SnpSlotsPublished,
    SnpSlotCancelled,
    SnpRotaBuilt,
    SnpRotaChanged,
    SnpRotaSwapProposed,
    SnpRotaSwapSettled,
    AnswerDigestChanged,
    SnpSlotsExported,
    ApiTokenIssued,
    ApiTokenRevoked,
    SasClientRegistered,
    SasClientRevoked,
    PathwayTemplateSaved,
    PathwayPatientIncluded,
    PathwayPatientViewed,
    PathwayAccessRefused,
    PathwayStepSettled,
    PathwayEventCorrected,
    PathwayPatientsListed,
    PathwayNoteAdded,
    PathwayIndicatorsExported,
    WaitingListCreated,
    WaitingEntryAdded,
    WaitingEntryExited,
    PathwayLiaisonRecorded,
    MeetingScheduled,
    MeetingAttendanceRecorded,
    MeetingMinutesSaved,
    MeetingCasePresented,
    MeetingCaseDecided,
    InstrumentWordingLoaded,
    FhirSlotsRead,
    CalendarFeedRead,
}

impl AuditAction {
    pub const ALL: [AuditAction; 99] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::LoginLocked,
        AuditAction::Logout,
        AuditAction::LogoutEverywhere,
        AuditAction::PasswordResetRequested,
        AuditAction::PasswordResetCompleted,
        AuditAction::PasswordChanged,
        AuditAction::SessionEnded,
        AuditAction::TotpEnabled,
        AuditAction::TotpDisabled,
        AuditAction::RecoveryCodesRenewed,
        AuditAction::MfaPolicyChanged,
        AuditAction::CptsContactChanged,
        AuditAction::CptsCreated,
        AuditAction::UserCreated,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::RoleGranted,
        AuditAction::ReferralsViewed,
        AuditAction::ReferralInformationAdded,
        AuditAction::MembershipSuspended,
        AuditAction::MembershipRestored,
        AuditAction::AccountLinkedToRecord,
        AuditAction::InvitationSent,
        AuditAction::InvitationAccepted,
        AuditAction::MembersViewed,
        AuditAction::UsersViewed,
        AuditAction::OutboxViewed,
        AuditAction::AuditViewed,
        AuditAction::AuditExported,
        AuditAction::PatientCreated,
        AuditAction::PatientViewed,
        AuditAction::PatientUpdated,
        AuditAction::KeysRotated,
        AuditAction::DirectoryImported,
        AuditAction::DirectoryViewed,
        AuditAction::ProfessionalViewed,
        AuditAction::ProfessionalUpdated,
        AuditAction::DirectoryExported,
        AuditAction::StructureCreated,
        AuditAction::StructureUpdated,
        AuditAction::DoctorRequestCreated,
        AuditAction::DoctorRequestMerged,
        AuditAction::DoctorRequestKeptApart,
        AuditAction::DoctorRequestViewed,
        AuditAction::DoctorRequestsListed,
        AuditAction::DoctorRequestUpdated,
        AuditAction::DoctorRequestAnonymised,
        AuditAction::DoctorRequestsImported,
        AuditAction::DoctorRequestsExported,
        AuditAction::CapacityDeclared,
        AuditAction::MatchingRun,
        AuditAction::ProposalSent,
        AuditAction::ProposalAnswered,
        AuditAction::DeliveryCalled,
        AuditAction::PriorityRulesChanged,
        AuditAction::SnpPatternPublished,
        AuditAction::SnpSlotHeld,
        AuditAction::SnpBookingConfirmed,
        AuditAction::SnpBookingViewed,
        AuditAction::SnpBookingsListed,
        AuditAction::SnpBookingCancelled,
        AuditAction::SnpOutcomeRecorded,
        AuditAction::SnpDysfunctionRecorded,
        AuditAction::SnpDysfunctionFollowedUp,
        AuditAction::SnpSlotsPublished,
        AuditAction::SnpSlotCancelled,
        AuditAction::SnpRotaBuilt,
        AuditAction::SnpRotaChanged,
        AuditAction::SnpRotaSwapProposed,
        AuditAction::SnpRotaSwapSettled,
        AuditAction::AnswerDigestChanged,
        AuditAction::SnpSlotsExported,
        AuditAction::ApiTokenIssued,
        AuditAction::ApiTokenRevoked,
        AuditAction::SasClientRegistered,
        AuditAction::SasClientRevoked,
        AuditAction::PathwayTemplateSaved,
        AuditAction::PathwayPatientIncluded,
        AuditAction::PathwayPatientViewed,
        AuditAction::PathwayAccessRefused,
        AuditAction::PathwayStepSettled,
        AuditAction::PathwayEventCorrected,
        AuditAction::PathwayPatientsListed,
        AuditAction::PathwayNoteAdded,
        AuditAction::PathwayIndicatorsExported,
        AuditAction::WaitingListCreated,
        AuditAction::WaitingEntryAdded,
        AuditAction::WaitingEntryExited,
        AuditAction::PathwayLiaisonRecorded,
        AuditAction::MeetingScheduled,
        AuditAction::MeetingAttendanceRecorded,
        AuditAction::MeetingMinutesSaved,
        AuditAction::MeetingCasePresented,
        AuditAction::MeetingCaseDecided,
        AuditAction::InstrumentWordingLoaded,
        AuditAction::FhirSlotsRead,
        AuditAction::CalendarFeedRead,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::LoginLocked => "login_locked",
            AuditAction::Logout => "logout",
            AuditAction::LogoutEverywhere => "logout_everywhere",
            AuditAction::PasswordResetRequested => "password_reset_requested",
            AuditAction::PasswordResetCompleted => "password_reset_completed",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::SessionEnded => "session_ended",
            AuditAction::TotpEnabled => "totp_enabled",
            AuditAction::TotpDisabled => "totp_disabled",
            AuditAction::RecoveryCodesRenewed => "recovery_codes_renewed",
            AuditAction::MfaPolicyChanged => "mfa_policy_changed",
            AuditAction::CptsContactChanged => "cpts_contact_changed",
            AuditAction::CptsCreated => "cpts_created",
            AuditAction::UserCreated => "user_created",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::UserEnabled => "user_enabled",
            AuditAction::RoleGranted => "role_granted",
            AuditAction::ReferralsViewed => "referrals_viewed",
            AuditAction::ReferralInformationAdded => "referral_information_added",
            AuditAction::MembershipSuspended => "membership_suspended",
            AuditAction::MembershipRestored => "membership_restored",
            AuditAction::AccountLinkedToRecord => "account_linked_to_record",
            AuditAction::InvitationSent => "invitation_sent",
            AuditAction::InvitationAccepted => "invitation_accepted",
            AuditAction::MembersViewed => "members_viewed",
            AuditAction::UsersViewed => "users_viewed",
            AuditAction::OutboxViewed => "outbox_viewed",
            AuditAction::AuditViewed => "audit_viewed",
            AuditAction::AuditExported => "audit_exported",
            AuditAction::PatientCreated => "patient_created",
            AuditAction::PatientViewed => "patient_viewed",
            AuditAction::PatientUpdated => "patient_updated",
            AuditAction::KeysRotated => "keys_rotated",
            AuditAction::DirectoryImported => "directory_imported",
            AuditAction::DirectoryViewed => "directory_viewed",
            AuditAction::ProfessionalViewed => "professional_viewed",
            AuditAction::ProfessionalUpdated => "professional_updated",
            AuditAction::DirectoryExported => "directory_exported",
            AuditAction::StructureCreated => "structure_created",
            AuditAction::StructureUpdated => "structure_updated",
            AuditAction::DoctorRequestCreated => "doctor_request_created",
            AuditAction::DoctorRequestMerged => "doctor_request_merged",
            AuditAction::DoctorRequestKeptApart => "doctor_request_kept_apart",
            AuditAction::DoctorRequestViewed => "doctor_request_viewed",
            AuditAction::DoctorRequestsListed => "doctor_requests_listed",
            AuditAction::DoctorRequestUpdated => "doctor_request_updated",
            AuditAction::DoctorRequestAnonymised => "doctor_request_anonymised",
            AuditAction::DoctorRequestsImported => "doctor_requests_imported",
            AuditAction::DoctorRequestsExported => "doctor_requests_exported",
            AuditAction::CapacityDeclared => "capacity_declared",
            AuditAction::MatchingRun => "matching_run",
            AuditAction::ProposalSent => "proposal_sent",
            AuditAction::ProposalAnswered => "proposal_answered",
            AuditAction::DeliveryCalled => "delivery_called",
            AuditAction::PriorityRulesChanged => "priority_rules_changed",
            AuditAction::SnpPatternPublished => "snp_pattern_published",
            AuditAction::SnpSlotHeld => "snp_slot_held",
            AuditAction::SnpBookingConfirmed => "snp_booking_confirmed",
            AuditAction::SnpBookingViewed => "snp_booking_viewed",
            AuditAction::SnpBookingsListed => "snp_bookings_listed",
            AuditAction::SnpBookingCancelled => "snp_booking_cancelled",
            AuditAction::SnpOutcomeRecorded => "snp_outcome_recorded",
            AuditAction::SnpDysfunctionRecorded => "snp_dysfunction_recorded",
            AuditAction::SnpDysfunctionFollowedUp => "snp_dysfunction_followed_up",
            AuditAction::SnpSlotsPublished => "snp_slots_published",
            AuditAction::SnpSlotCancelled => "snp_slot_cancelled",
            AuditAction::SnpRotaBuilt => "snp_rota_built",
            AuditAction::SnpRotaChanged => "snp_rota_changed",
            AuditAction::SnpRotaSwapProposed => "snp_rota_swap_proposed",
            AuditAction::SnpRotaSwapSettled => "snp_rota_swap_settled",
            AuditAction::AnswerDigestChanged => "answer_digest_changed",
            AuditAction::SnpSlotsExported => "snp_slots_exported",
            AuditAction::ApiTokenIssued => "api_token_issued",
            AuditAction::ApiTokenRevoked => "api_token_revoked",
            AuditAction::SasClientRegistered => "sas_client_registered",
            AuditAction::SasClientRevoked => "sas_client_revoked",
            AuditAction::PathwayTemplateSaved => "pathway_template_saved",
            AuditAction::PathwayPatientIncluded => "pathway_patient_included",
            AuditAction::PathwayPatientViewed => "pathway_patient_viewed",
            AuditAction::PathwayAccessRefused => "pathway_access_refused",
            AuditAction::PathwayStepSettled => "pathway_step_settled",
            AuditAction::PathwayEventCorrected => "pathway_event_corrected",
            AuditAction::PathwayPatientsListed => "pathway_patients_listed",
            AuditAction::PathwayNoteAdded => "pathway_note_added",
            AuditAction::PathwayIndicatorsExported => "pathway_indicators_exported",
            AuditAction::WaitingListCreated => "waiting_list_created",
            AuditAction::WaitingEntryAdded => "waiting_entry_added",
            AuditAction::WaitingEntryExited => "waiting_entry_exited",
            AuditAction::PathwayLiaisonRecorded => "pathway_liaison_recorded",
            AuditAction::MeetingScheduled => "meeting_scheduled",
            AuditAction::MeetingAttendanceRecorded => "meeting_attendance_recorded",
            AuditAction::MeetingMinutesSaved => "meeting_minutes_saved",
            AuditAction::MeetingCasePresented => "meeting_case_presented",
            AuditAction::MeetingCaseDecided => "meeting_case_decided",
            AuditAction::InstrumentWordingLoaded => "instrument_wording_loaded",
            AuditAction::FhirSlotsRead => "fhir_slots_read",
            AuditAction::CalendarFeedRead => "calendar_feed_read",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditAction::Login => "Connexion",
            AuditAction::LoginFailed => "Échec de connexion",
            AuditAction::LoginLocked => "Connexion bloquée (trop d'échecs)",
            AuditAction::Logout => "Déconnexion",
            AuditAction::LogoutEverywhere => "Déconnexion de tous les appareils",
            AuditAction::PasswordResetRequested => "Demande de nouveau mot de passe",
            AuditAction::PasswordResetCompleted => "Mot de passe changé par lien",
            AuditAction::PasswordChanged => "Mot de passe changé",
            AuditAction::SessionEnded => "Session fermée depuis Mon compte",
            AuditAction::TotpEnabled => "Double authentification activée",
            AuditAction::TotpDisabled => "Double authentification désactivée",
            AuditAction::RecoveryCodesRenewed => "Nouveaux codes de secours",
            AuditAction::MfaPolicyChanged => "Règle de double authentification modifiée",
            AuditAction::CptsContactChanged => "Téléphone de la coordination modifié",
            AuditAction::CptsCreated => "CPTS créée",
            AuditAction::UserCreated => "Compte créé",
            AuditAction::UserDisabled => "Compte désactivé",
            AuditAction::UserEnabled => "Compte réactivé",
            AuditAction::RoleGranted => "Rôle attribué",
            AuditAction::ReferralsViewed => "Consultation de ses adressages par le partenaire",
            AuditAction::ReferralInformationAdded => "Information ajoutée par le partenaire",
            AuditAction::MembershipSuspended => "Accès à la CPTS suspendu",
            AuditAction::MembershipRestored => "Accès à la CPTS rétabli",
            AuditAction::AccountLinkedToRecord => "Compte relié à une fiche de l'annuaire",
            AuditAction::InvitationSent => "Invitation envoyée",
            AuditAction::InvitationAccepted => "Invitation acceptée",
            AuditAction::MembersViewed => "Consultation des membres",
            AuditAction::UsersViewed => "Consultation des comptes",
            AuditAction::OutboxViewed => "Consultation des courriels en attente",
            AuditAction::AuditViewed => "Consultation du journal",
            AuditAction::AuditExported => "Export du journal",
            AuditAction::PatientCreated => "Patient enregistré",
            AuditAction::PatientViewed => "Consultation d'un patient",
            AuditAction::PatientUpdated => "Patient modifié",
            AuditAction::KeysRotated => "Rotation des clés de chiffrement",
            AuditAction::DirectoryImported => "Import de l'annuaire national",
            AuditAction::DirectoryViewed => "Consultation de l'annuaire",
            AuditAction::ProfessionalViewed => "Consultation d'une fiche professionnel",
            AuditAction::ProfessionalUpdated => "Modification d'une fiche professionnel",
            AuditAction::DirectoryExported => "Export de l'annuaire",
            AuditAction::StructureCreated => "Création d'une structure",
            AuditAction::StructureUpdated => "Modification d'une structure",
            AuditAction::DoctorRequestCreated => "Demande de médecin traitant enregistrée",
            AuditAction::DoctorRequestMerged => "Demande de médecin traitant fusionnée (doublon)",
            AuditAction::DoctorRequestKeptApart => "Doublon possible gardé comme demande à part",
            AuditAction::DoctorRequestViewed => "Consultation d'une demande de médecin traitant",
            AuditAction::DoctorRequestsListed => "Consultation des demandes de médecin traitant",
            AuditAction::DoctorRequestUpdated => "Modification d'une demande de médecin traitant",
            AuditAction::DoctorRequestAnonymised => "Anonymisation de demandes closes",
            AuditAction::DoctorRequestsImported => {
                "Import d'une liste de patients sans médecin traitant"
            }
            AuditAction::DoctorRequestsExported => "Export des indicateurs médecin traitant",
            AuditAction::CapacityDeclared => "Déclaration de places pour de nouveaux patients",
            AuditAction::MatchingRun => "Appariement des demandes et des médecins",
            AuditAction::ProposalSent => "Proposition envoyée à un médecin",
            AuditAction::ProposalAnswered => "Réponse d'un médecin à une proposition",
            AuditAction::DeliveryCalled => "Appel passé à la place d'un message",
            AuditAction::PriorityRulesChanged => "Règles de priorité modifiées",
            AuditAction::SnpPatternPublished => "Publication de créneaux de soins non programmés",
            AuditAction::SnpSlotHeld => "Créneau de soins non programmés retenu",
            AuditAction::SnpBookingConfirmed => "Réservation d'un créneau confirmée",
            AuditAction::SnpBookingViewed => "Consultation d'une réservation",
            AuditAction::SnpBookingsListed => "Consultation de la liste des réservations",
            AuditAction::SnpBookingCancelled => "Réservation annulée",
            AuditAction::SnpOutcomeRecorded => {
                "Issue d'une consultation non programmée enregistrée"
            }
            AuditAction::SnpDysfunctionRecorded => {
                "Dysfonctionnement des soins non programmés signalé"
            }
            AuditAction::SnpDysfunctionFollowedUp => "Suite donnée à un dysfonctionnement",
            AuditAction::SnpSlotsPublished => "Publication de créneaux un par un",
            AuditAction::SnpSlotCancelled => "Créneau retiré",
            AuditAction::SnpRotaBuilt => "Tableau d'astreinte rempli",
            AuditAction::SnpRotaChanged => "Tour d'astreinte échangé ou réattribué",
            AuditAction::SnpRotaSwapProposed => "Échange d'astreinte proposé à un confrère",
            AuditAction::SnpRotaSwapSettled => "Échange d'astreinte accepté, refusé ou retiré",
            AuditAction::AnswerDigestChanged => {
                "Récapitulatif matinal des réponses des médecins activé ou arrêté"
            }
            AuditAction::SnpSlotsExported => {
                "Export des créneaux ou des indicateurs de soins non programmés"
            }
            AuditAction::ApiTokenIssued => "Jeton d'accès émis",
            AuditAction::ApiTokenRevoked => "Jeton d'accès révoqué",
            AuditAction::SasClientRegistered => "Client SAS enregistré (certificat)",
            AuditAction::SasClientRevoked => "Client SAS révoqué",
            AuditAction::PathwayTemplateSaved => "Modèle de parcours enregistré (nouvelle version)",
            AuditAction::PathwayPatientIncluded => "Patient inclus dans un parcours",
            AuditAction::PathwayPatientViewed => "Dossier de parcours consulté",
            AuditAction::PathwayAccessRefused => {
                "Accès refusé à un dossier de parcours (hors équipe de soins)"
            }
            AuditAction::PathwayStepSettled => "Étape de parcours faite ou annulée",
            AuditAction::PathwayEventCorrected => "Date de sortie corrigée (échéances recalculées)",
            AuditAction::PathwayPatientsListed => "Liste des patients en parcours consultée",
            AuditAction::PathwayNoteAdded => "Note de l'équipe de soins ajoutée",
            AuditAction::PathwayIndicatorsExported => "Indicateurs des parcours exportés",
            AuditAction::WaitingListCreated => "Liste d'attente créée",
            AuditAction::WaitingEntryAdded => "Patient inscrit sur une liste d'attente",
            AuditAction::WaitingEntryExited => "Sortie d'une liste d'attente",
            AuditAction::PathwayLiaisonRecorded => "Fiche de liaison enregistrée (étape close)",
            AuditAction::MeetingScheduled => "Réunion planifiée (participants invités)",
            AuditAction::MeetingAttendanceRecorded => "Présence à une réunion enregistrée",
            AuditAction::MeetingMinutesSaved => "Compte rendu de réunion enregistré",
            AuditAction::MeetingCasePresented => "Cas présenté en réunion de concertation",
            AuditAction::MeetingCaseDecided => "Décision de réunion de concertation enregistrée",
            AuditAction::InstrumentWordingLoaded => {
                "Libellés sous licence d'un questionnaire chargés"
            }
            AuditAction::FhirSlotsRead => "Lecture des créneaux par l'API FHIR",
            AuditAction::CalendarFeedRead => "Lecture d'un agenda iCalendar",
        }
    }
}

/// The fields of one entry, in the order they are hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    pub seq: i64,
    pub at: i64,
    pub cpts_id: &'a str,
    pub actor_id: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: &'a str,
    pub detail: &'a str,
    pub purpose: &'a str,
    pub ip: &'a str,
    pub request_id: &'a str,
}

/// The canonical encoding of an entry and the previous code: each part length-prefixed, so that no two different
/// entries share an encoding.
fn canonical_parts(fields: &AuditFields<'_>, prev_hash: &str, mut feed: impl FnMut(&[u8])) {
    let seq = fields.seq.to_string();
    let at = fields.at.to_string();
    for part in [
        seq.as_str(),
        at.as_str(),
        fields.cpts_id,
        fields.actor_id,
        fields.actor,
        fields.action,
        fields.target_kind,
        fields.target_id,
        fields.detail,
        fields.purpose,
        fields.ip,
        fields.request_id,
        prev_hash,
    ] {
        feed(&(part.len() as u64).to_be_bytes());
        feed(part.as_bytes());
    }
}

/// The keys of the chain's MAC: the first one writes, all of them verify (a rotated key stays for the entries
/// it wrote). Empty: entries get a plain SHA-256, as before keys existed.
#[derive(Clone, Default)]
pub struct AuditKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("AuditKeys").field("ids", &ids).finish()
    }
}

/// How a stored code compares with the entry it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// A MAC of a configured key, and it matches.
    Keyed,
    /// A plain SHA-256 (written before keys), and it matches.
    Unkeyed,
    /// Does not match: the entry, its position or its link was changed.
    Mismatch,
    /// A MAC of a key that is not configured.
    UnknownKey(String),
}

type HmacSha256 = Hmac<Sha256>;

impl AuditKeys {
    /// `(id, key)` pairs, the writing key first.
    pub fn new(keys: Vec<(String, Vec<u8>)>) -> Self {
        Self { keys }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The writing key's id.
    pub fn active_id(&self) -> Option<&str> {
        self.keys.first().map(|(id, _)| id.as_str())
    }

    fn mac(key: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length.
        HmacSha256::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"))
    }

    fn key(&self, id: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, key)| key.as_slice())
    }

    /// The code of a new entry: a MAC of the writing key, or a plain SHA-256 when no key is configured.
    pub fn code(&self, fields: &AuditFields<'_>, prev_hash: &str) -> String {
        match self.keys.first() {
            Some((id, key)) => {
                let mut mac = Self::mac(key);
                canonical_parts(fields, prev_hash, |bytes| mac.update(bytes));
                format!("hmac:{id}:{}", hex::encode(mac.finalize().into_bytes()))
            }
            None => entry_hash(fields, prev_hash),
        }
    }

    /// Compares a stored code with the entry (constant time for MACs).
    pub fn check(&self, fields: &AuditFields<'_>, prev_hash: &str, stored: &str) -> CodeCheck {
        let Some(rest) = stored.strip_prefix("hmac:") else {
            return if entry_hash(fields, prev_hash) == stored {
                CodeCheck::Unkeyed
            } else {
                CodeCheck::Mismatch
            };
        };
        let Some((id, hex_code)) = rest.split_once(':') else {
            return CodeCheck::Mismatch;
        };
        let Some(key) = self.key(id) else {
            return CodeCheck::UnknownKey(id.to_string());
        };
        let Ok(code) = hex::decode(hex_code) else {
            return CodeCheck::Mismatch;
        };
        let mut mac = Self::mac(key);
        canonical_parts(fields, prev_hash, |bytes| mac.update(bytes));
        if mac.verify_slice(&code).is_ok() {
            CodeCheck::Keyed
        } else {
            CodeCheck::Mismatch
        }
    }

    /// Signs a text (a checkpoint) with the writing key: `hmac:<id>:<hex>`; none without a key.
    pub fn sign(&self, text: &str) -> Option<String> {
        let (id, key) = self.keys.first()?;
        let mut mac = Self::mac(key);
        mac.update(b"maillage-audit-checkpoint\0");
        mac.update(text.as_bytes());
        Some(format!(
            "hmac:{id}:{}",
            hex::encode(mac.finalize().into_bytes())
        ))
    }

    /// Whether `signature` was made by [`Self::sign`] over `text` with one of the configured keys.
    pub fn verify_signature(&self, text: &str, signature: &str) -> bool {
        let Some((id, hex_code)) = signature
            .strip_prefix("hmac:")
            .and_then(|rest| rest.split_once(':'))
        else {
            return false;
        };
        let (Some(key), Ok(code)) = (self.key(id), hex::decode(hex_code)) else {
            return false;
        };
        let mut mac = Self::mac(key);
        mac.update(b"maillage-audit-checkpoint\0");
        mac.update(text.as_bytes());
        mac.verify_slice(&code).is_ok()
    }
}

/// SHA-256 over the fields (each length-prefixed, so no two different entries share an encoding) and the
/// previous entry's hash: the code of entries written without a key.
pub fn entry_hash(fields: &AuditFields<'_>, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    canonical_parts(fields, prev_hash, |bytes| hasher.update(bytes));
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(detail: &str) -> AuditFields<'_> {
        AuditFields {
            seq: 1,
            at: 10,
            cpts_id: "",
            actor_id: "",
            actor: "a@b.fr",
            action: "login",
            target_kind: "user",
            target_id: "x",
            detail,
            purpose: "",
            ip: "127.0.0.1",
            request_id: "r",
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let base = entry_hash(&fields("{}"), GENESIS_HASH);
        assert_eq!(base.len(), 64);
        assert_ne!(base, entry_hash(&fields("{ }"), GENESIS_HASH));
        assert_ne!(base, entry_hash(&fields("{}"), &base));
        // Moving bytes between fields changes the encoding too.
        let mut shifted = fields("{}");
        shifted.actor = "a@b.frl";
        shifted.action = "ogin";
        assert_ne!(base, entry_hash(&shifted, GENESIS_HASH));
    }

    #[test]
    fn keyed_codes_need_the_key_and_plain_ones_stay_readable() {
        let keys = AuditKeys::new(vec![("a1".into(), vec![7; 32])]);
        let code = keys.code(&fields("{}"), GENESIS_HASH);
        assert!(code.starts_with("hmac:a1:"), "{code}");
        assert_eq!(
            keys.check(&fields("{}"), GENESIS_HASH, &code),
            CodeCheck::Keyed
        );
        assert_eq!(
            keys.check(&fields("{ }"), GENESIS_HASH, &code),
            CodeCheck::Mismatch
        );
        // Someone without the key recomputes with another key, or with none: both refused.
        let forged =
            AuditKeys::new(vec![("a1".into(), vec![8; 32])]).code(&fields("{ }"), GENESIS_HASH);
        assert_eq!(
            keys.check(&fields("{ }"), GENESIS_HASH, &forged),
            CodeCheck::Mismatch
        );
        let plain = entry_hash(&fields("{ }"), GENESIS_HASH);
        assert_eq!(
            keys.check(&fields("{ }"), GENESIS_HASH, &plain),
            CodeCheck::Unkeyed
        );
        // After a rotation the old key still verifies what it wrote.
        let rotated = AuditKeys::new(vec![("a2".into(), vec![9; 32]), ("a1".into(), vec![7; 32])]);
        assert_eq!(
            rotated.check(&fields("{}"), GENESIS_HASH, &code),
            CodeCheck::Keyed
        );
        assert_eq!(
            AuditKeys::default().check(&fields("{}"), GENESIS_HASH, &code),
            CodeCheck::UnknownKey("a1".into())
        );
        let signature = keys.sign("platform 12 abc").unwrap();
        assert!(rotated.verify_signature("platform 12 abc", &signature));
        assert!(!rotated.verify_signature("platform 11 abc", &signature));
        assert!(AuditKeys::default().sign("x").is_none());
    }

    #[test]
    fn action_codes_round_trip() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.code()), Some(action));
        }
    }
}

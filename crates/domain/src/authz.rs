//! Who may do what: the one place that decides (deny by default).
//!
//! A person holds at most one [`Role`] in each CPTS, and possibly different roles in two CPTS.
//! Platform administration is separate from every CPTS role: an administrator of the platform
//! creates CPTS and accounts, but sees no CPTS's data unless they also hold a role in it.

use serde::{Deserialize, Serialize};

/// The role of a person inside one CPTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Coordinator of the CPTS: everything inside their CPTS.
    Coordinator,
    /// Secretary or regulator: intake of patient requests, booking of unscheduled-care slots.
    Secretary,
    /// Member professional: own profile, own slots, proposals addressed to them, member directory.
    Member,
    /// Partner referrer (DAC, hospital, town hall, pharmacy): submits referrals and follows them.
    Partner,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Coordinator,
        Role::Secretary,
        Role::Member,
        Role::Partner,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Secretary => "secretary",
            Role::Member => "member",
            Role::Partner => "partner",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.code() == code)
    }

    /// French label shown in the interface.
    pub fn label(self) -> &'static str {
        match self {
            Role::Coordinator => "Coordination",
            Role::Secretary => "Secrétariat / régulation",
            Role::Member => "Professionnel membre",
            Role::Partner => "Partenaire adresseur",
        }
    }
}

/// Something a person may be allowed to do inside one CPTS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the CPTS dashboard and the missions menu.
    ViewDashboard,
    /// Change the CPTS's settings and manage who holds which role.
    ManageCpts,
    /// Read the member directory of the CPTS.
    ViewMemberDirectory,
    /// Edit what the CPTS knows of professionals and structures, import and export the directory.
    ManageDirectory,
    /// Read patients' requests and referrals (health data).
    ViewPatientRequests,
    /// Create a patient request or referral.
    SubmitReferral,
    /// Read the CPTS's audit trail.
    ViewAuditTrail,
    /// Run the matching of requests and doctors, send and override proposals, see the indicators.
    RunMatching,
    /// Declare one's own room for new patients (a GP member) — or a GP's, for the coordination.
    DeclareCapacity,
    /// Publish unscheduled-care slots: one's own (a member), or a professional's who phones in (coordination).
    PublishSlots,
    /// Search and book unscheduled-care slots for a patient (secretary and regulator, coordination, members).
    BookSlots,
    /// See the unscheduled-care indicators and export the slots (no patient data in either).
    ViewSlotIndicators,
    /// Read the CPTS's care pathway templates (no patient data).
    ViewPathways,
    /// Copy, adapt, import and export the CPTS's care pathway templates.
    ManagePathwayTemplates,
    /// Include a patient in a pathway, and follow the patients of pathways (a member: only those whose care
    /// team they belong to).
    FollowPathwayPatients,
    /// See the care pathways' indicators and export them (counts, no patient data).
    ViewPathwayIndicators,
    /// Create the CPTS's waiting lists, read them whole (with the patients' names) and record the exits.
    ManageWaitingLists,
    /// Hold the pathways' case meetings (RCP): schedule, attendance, cases, decisions, minutes.
    HoldCaseMeetings,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Permission::ViewDashboard,
        Permission::ManageCpts,
        Permission::ViewMemberDirectory,
        Permission::ManageDirectory,
        Permission::ViewPatientRequests,
        Permission::SubmitReferral,
        Permission::ViewAuditTrail,
        Permission::RunMatching,
        Permission::DeclareCapacity,
        Permission::PublishSlots,
        Permission::BookSlots,
        Permission::ViewSlotIndicators,
        Permission::ViewPathways,
        Permission::ManagePathwayTemplates,
        Permission::FollowPathwayPatients,
        Permission::ViewPathwayIndicators,
        Permission::ManageWaitingLists,
        Permission::HoldCaseMeetings,
    ];
}

/// The rights table. Anything not listed is refused.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Coordinator => true,
        Role::Secretary => matches!(
            permission,
            ViewDashboard
                | ViewMemberDirectory
                | ManageDirectory
                | ViewPatientRequests
                | SubmitReferral
                | BookSlots
                | ViewSlotIndicators
                | ViewPathways
                | FollowPathwayPatients
                | ViewPathwayIndicators
                | ManageWaitingLists
                | HoldCaseMeetings
        ),
        Role::Member => matches!(
            permission,
            ViewDashboard
                | ViewMemberDirectory
                | DeclareCapacity
                | PublishSlots
                | BookSlots
                | ViewPathways
                | FollowPathwayPatients
        ),
        Role::Partner => matches!(permission, ViewDashboard | SubmitReferral),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn coordinator_is_the_only_role_managing_the_cpts() {
        for role in Role::ALL {
            assert_eq!(
                allows(role, Permission::ManageCpts),
                role == Role::Coordinator
            );
            assert_eq!(
                allows(role, Permission::ViewAuditTrail),
                role == Role::Coordinator
            );
        }
    }

    #[test]
    fn partners_never_read_patient_requests_in_bulk() {
        assert!(!allows(Role::Partner, Permission::ViewPatientRequests));
        assert!(!allows(Role::Member, Permission::ViewPatientRequests));
        assert!(allows(Role::Secretary, Permission::ViewPatientRequests));
    }
}

//! Record-level rights of unscheduled care, decided from the caller and the record, apart from any storage so
//! that they are tested alone. The rights table (`authz`) says who may book at all; this says which booking.

use maillage_domain::authz::Role;
use uuid::Uuid;

/// Who a booking concerns: whoever made it, and the professional whose slot it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingParties {
    pub booked_by: Option<Uuid>,
    pub slot_professional: Uuid,
}

/// Whether a caller may see, confirm, cancel or record the outcome of a booking: the coordination and the
/// secretariat (who book for the CPTS) any of the CPTS's bookings; a member only the bookings they made and
/// those on their own slots; a partner none.
pub fn may_handle_booking(
    role: Role,
    user: Option<Uuid>,
    professional: Option<Uuid>,
    booking: BookingParties,
) -> bool {
    match role {
        Role::Coordinator | Role::Secretary => true,
        Role::Member => {
            (user.is_some() && booking.booked_by == user)
                || professional == Some(booking.slot_professional)
        }
        Role::Partner => false,
    }
}

/// Whether a caller may withdraw a slot or publish for a professional: the coordination for anyone, others
/// only for the professional linked to their account.
pub fn may_manage_slots_of(role: Role, professional: Option<Uuid>, owner: Uuid) -> bool {
    role == Role::Coordinator || professional == Some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (Uuid, Uuid, Uuid) {
        (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7())
    }

    #[test]
    fn the_coordination_and_secretariat_handle_every_booking() {
        let (user, professional, other) = ids();
        let booking = BookingParties {
            booked_by: Some(other),
            slot_professional: other,
        };
        for role in [Role::Coordinator, Role::Secretary] {
            assert!(may_handle_booking(
                role,
                Some(user),
                Some(professional),
                booking
            ));
            assert!(may_handle_booking(role, Some(user), None, booking));
        }
    }

    #[test]
    fn a_member_handles_only_what_they_booked_or_what_is_on_their_slots() {
        let (user, professional, other) = ids();
        let theirs = BookingParties {
            booked_by: Some(user),
            slot_professional: other,
        };
        let on_their_slot = BookingParties {
            booked_by: Some(other),
            slot_professional: professional,
        };
        let someone_elses = BookingParties {
            booked_by: Some(other),
            slot_professional: other,
        };
        let nobodys = BookingParties {
            booked_by: None,
            slot_professional: other,
        };
        assert!(may_handle_booking(
            Role::Member,
            Some(user),
            Some(professional),
            theirs
        ));
        assert!(may_handle_booking(
            Role::Member,
            Some(user),
            Some(professional),
            on_their_slot
        ));
        assert!(!may_handle_booking(
            Role::Member,
            Some(user),
            Some(professional),
            someone_elses
        ));
        // A booking made by nobody in particular (imported, command line) is not every member's.
        assert!(!may_handle_booking(Role::Member, None, None, nobodys));
        assert!(!may_handle_booking(
            Role::Member,
            Some(user),
            None,
            on_their_slot
        ));
    }

    #[test]
    fn a_partner_handles_no_booking() {
        let (user, professional, _) = ids();
        let own = BookingParties {
            booked_by: Some(user),
            slot_professional: professional,
        };
        assert!(!may_handle_booking(
            Role::Partner,
            Some(user),
            Some(professional),
            own
        ));
    }

    #[test]
    fn slots_are_managed_by_their_professional_or_the_coordination() {
        let (_, professional, other) = ids();
        assert!(may_manage_slots_of(Role::Coordinator, None, other));
        assert!(may_manage_slots_of(
            Role::Member,
            Some(professional),
            professional
        ));
        assert!(!may_manage_slots_of(
            Role::Member,
            Some(professional),
            other
        ));
        assert!(!may_manage_slots_of(Role::Secretary, None, other));
    }
}

//! Before an irreversible action asks its confirmation, the service says whether the caller may act on the
//! record at all: a record of another CPTS, or one the caller may not handle, is answered "not found" at the
//! first post as at the second (the confirmation page would otherwise tell that the record exists).

use super::*;
use crate::tokens::TokenError;

impl UnscheduledCare {
    /// The caller may cancel this booking ([`policy::may_handle_booking`]).
    pub async fn check_booking(&self, caller: &Caller, booking: Uuid) -> Result<()> {
        self.handled_booking(caller, booking).await.map(|_| ())
    }

    /// The caller may withdraw this slot (their own, or any for the coordination).
    pub async fn check_slot(&self, caller: &Caller, slot: Uuid) -> Result<()> {
        let found = self
            .store
            .find_slot(caller.cpts(), slot)
            .await?
            .ok_or(CareError::NotFound)?;
        Self::require_slots_of(caller, found.professional_id)
    }

    /// The caller may change this rota turn (the coordination, a turn of its CPTS).
    pub async fn check_turn(&self, caller: &Caller, turn: Uuid) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        self.store
            .find_rota_turn(caller.cpts(), turn)
            .await?
            .map(|_| ())
            .ok_or(CareError::NotFound)
    }

    /// The caller may revoke this token (the coordination, a token of its CPTS).
    pub async fn check_token(
        &self,
        caller: &Caller,
        token: Uuid,
    ) -> std::result::Result<(), TokenError> {
        if !caller.may(Permission::ManageCpts) {
            return Err(TokenError::NotAllowed);
        }
        self.store
            .find_token(caller.cpts(), token)
            .await?
            .map(|_| ())
            .ok_or(TokenError::NotAllowed)
    }
}

//! What the pages of unscheduled care read, each behind the caller's rights: the search, a professional's
//! agenda, the rota, the dysfunction log, the indicators and the CPTS's tokens. None of it carries a patient's
//! identity (that is [`UnscheduledCare::booking`], an audited read).

use super::{CareError, Result, UnscheduledCare};
use crate::audit::{self, AuditContext, AuditEvent};
use crate::caller::Caller;
use crate::tokens::{self, TokenError};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::Permission;
use maillage_store::{
    AgendaEntry, ApiToken, CptsId, DirectoryQuery, Page, ProfessionalSummary, RotaFilter, RotaTurn,
    SlotQuery, SnpDysfunction, SnpFigures, SnpSlot,
};
use uuid::Uuid;

/// Whose agenda may be read: the CPTS's whole agenda or one professional's. Made only by
/// [`UnscheduledCare::agenda_scope`] (from the caller's rights) or [`AgendaScope::feed`] (a calendar token).
#[derive(Debug, Clone, Copy)]
pub struct AgendaScope {
    cpts: CptsId,
    professional: Option<Uuid>,
}

impl AgendaScope {
    /// The agenda a live calendar token opens: its professional's, nothing else.
    pub fn feed(token: &ApiToken) -> Option<Self> {
        (token.scope == tokens::CALENDAR_SCOPE).then_some(())?;
        Some(Self {
            cpts: token.cpts_id,
            professional: Some(token.professional_id?),
        })
    }

    pub fn cpts(&self) -> CptsId {
        self.cpts
    }

    pub fn professional(&self) -> Option<Uuid> {
        self.professional
    }
}

impl UnscheduledCare {
    /// The names of a professional's practice places, for the place of the slots they publish (the SAS reads
    /// one agenda per place); only for whom the caller may publish.
    pub async fn practice_place_names(
        &self,
        caller: &Caller,
        professional: Uuid,
    ) -> Result<Vec<String>> {
        caller.require(Permission::PublishSlots)?;
        Self::require_slots_of(caller, professional)?;
        Ok(self
            .practice_places(caller.cpts(), professional)
            .await?
            .into_iter()
            .map(|place| place.name)
            .filter(|n| !n.trim().is_empty())
            .collect())
    }

    /// One professional's practice places, first first (none known: empty).
    pub(super) async fn practice_places(
        &self,
        cpts: maillage_store::CptsId,
        professional: Uuid,
    ) -> Result<Vec<maillage_store::PracticePlace>> {
        Ok(self
            .store
            .practice_places_of(cpts, &[professional])
            .await?
            .pop()
            .map(|p| p.places)
            .unwrap_or_default())
    }

    /// The agenda `caller` may read: everybody's for those who see the indicators (exports), otherwise only
    /// the caller's own professional's (refused as not found for another one).
    pub fn agenda_scope(&self, caller: &Caller, professional: Option<Uuid>) -> Result<AgendaScope> {
        let allowed = caller.may(Permission::ViewSlotIndicators)
            || (professional.is_some() && professional == caller.professional());
        if !allowed {
            return Err(CareError::NotFound);
        }
        Ok(AgendaScope {
            cpts: caller.cpts(),
            professional,
        })
    }

    /// A page of the slots starting in `[from, until)` in the scope, with their live booking.
    pub async fn agenda(
        &self,
        scope: &AgendaScope,
        from: i64,
        until: i64,
        page: Page,
    ) -> Result<Vec<AgendaEntry>> {
        Ok(self
            .store
            .agenda(scope.cpts, from, until, scope.professional, page)
            .await?)
    }

    /// Free slots matching the query, earliest first (those who book).
    pub async fn search(
        &self,
        caller: &Caller,
        query: &SlotQuery,
        now: i64,
        page: Page,
    ) -> Result<Vec<SnpSlot>> {
        caller.require(Permission::BookSlots)?;
        Ok(self
            .store
            .search_free_slots(caller.cpts(), query, now, page)
            .await?)
    }

    /// One slot to book (the page the SAS opens from `Slot.comment`), and whether it is still free at `now`;
    /// NotFound when it is not the CPTS's, is withdrawn or has passed.
    pub async fn slot_to_book(
        &self,
        caller: &Caller,
        slot: Uuid,
        now: i64,
    ) -> Result<(SnpSlot, bool)> {
        caller.require(Permission::BookSlots)?;
        let cpts = caller.cpts();
        let found = self
            .store
            .find_slot(cpts, slot)
            .await?
            .filter(|s| !s.cancelled && s.end_at > now)
            .ok_or(CareError::NotFound)?;
        Ok((found, !self.slot_booked_at(cpts, slot, now).await?))
    }

    /// Whether a live booking (held or confirmed) holds the slot at `now`.
    pub(super) async fn slot_booked_at(
        &self,
        cpts: maillage_store::CptsId,
        slot: Uuid,
        now: i64,
    ) -> Result<bool> {
        Ok(self
            .store
            .bookings_of_slot(cpts, slot)
            .await?
            .iter()
            .any(|b| b.is_live_at(now)))
    }

    /// Names and professions of the CPTS's professionals (directory data, no patient): for slot lists, the
    /// rota and the SAS's practitioners.
    pub async fn professional_summaries(
        &self,
        cpts: CptsId,
        ids: &[Uuid],
    ) -> Result<Vec<ProfessionalSummary>> {
        Ok(self.store.professional_summaries(cpts, ids).await?)
    }

    /// The professionals the coordination may publish for or put on the rota (`members_only`: the CPTS's
    /// members), at most `limit`.
    pub async fn professionals_to_choose(
        &self,
        caller: &Caller,
        members_only: bool,
        profession: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ProfessionalSummary>> {
        caller.require(Permission::ManageCpts)?;
        let query = DirectoryQuery {
            members_only,
            profession_code: profession.filter(|p| !p.is_empty()).map(str::to_string),
            ..Default::default()
        };
        Ok(self
            .store
            .search_professionals(caller.cpts(), &query, Page::first(limit))
            .await?)
    }

    /// The rota's turns with their days in `[from, until]` (`YYYY-MM-DD`).
    pub async fn rota_turns(
        &self,
        caller: &Caller,
        from: &str,
        until: &str,
        filter: &RotaFilter<'_>,
        page: Page,
    ) -> Result<Vec<RotaTurn>> {
        caller.require(Permission::ViewDashboard)?;
        Ok(self
            .store
            .list_rota_turns(caller.cpts(), from, until, filter, page)
            .await?)
    }

    /// Turns per professional with their days in `[from, until]`, most loaded first.
    pub async fn rota_load(
        &self,
        caller: &Caller,
        from: &str,
        until: &str,
    ) -> Result<Vec<(Uuid, i64)>> {
        caller.require(Permission::ViewDashboard)?;
        Ok(self.store.rota_load(caller.cpts(), from, until).await?)
    }

    /// The turns of a calendar feed's professional with their days in `[from, until]`: a professional's
    /// turns over a quarter are far fewer than a page.
    pub async fn feed_turns(
        &self,
        scope: &AgendaScope,
        from: &str,
        until: &str,
    ) -> Result<Vec<RotaTurn>> {
        let Some(professional) = scope.professional else {
            return Ok(Vec::new());
        };
        let filter = RotaFilter {
            label: None,
            professional: Some(professional),
        };
        Ok(self
            .store
            .list_rota_turns(scope.cpts, from, until, &filter, Page::first(1000))
            .await?)
    }

    /// Records that a calendar feed was read, before it is sent: a feed whose read cannot be audited is not.
    pub async fn record_feed_read(
        &self,
        scope: &AgendaScope,
        context: &AuditContext,
        events: usize,
    ) -> Result<()> {
        audit::record(
            self.store.as_ref(),
            &context.in_cpts(scope.cpts),
            AuditEvent::new(
                AuditAction::CalendarFeedRead,
                "professional",
                scope
                    .professional
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
            )
            .detail(serde_json::json!({ "events": events })),
        )
        .await?;
        Ok(())
    }

    /// Dysfunctions that happened in `[from, until)`, newest first.
    pub async fn dysfunctions(
        &self,
        caller: &Caller,
        from: i64,
        until: i64,
        page: Page,
    ) -> Result<Vec<SnpDysfunction>> {
        caller.require(Permission::BookSlots)?;
        Ok(self
            .store
            .list_dysfunctions(caller.cpts(), from, until, page)
            .await?)
    }

    /// Per kind: how many dysfunctions happened in `[from, until)`, and how many are settled.
    pub async fn dysfunction_summary(
        &self,
        caller: &Caller,
        from: i64,
        until: i64,
    ) -> Result<Vec<(String, i64, i64)>> {
        caller.require(Permission::BookSlots)?;
        Ok(self
            .store
            .dysfunction_summary(caller.cpts(), from, until)
            .await?)
    }

    /// The indicators over the slots starting in `[from, until)`.
    pub async fn figures(&self, caller: &Caller, from: i64, until: i64) -> Result<SnpFigures> {
        caller.require(Permission::ViewSlotIndicators)?;
        Ok(self.store.snp_figures(caller.cpts(), from, until).await?)
    }

    /// Records an export of slots or indicators (no patient data in either), before it is sent.
    pub async fn record_export(
        &self,
        caller: &Caller,
        what: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        caller.require(Permission::ViewSlotIndicators)?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(AuditAction::SnpSlotsExported, what, String::new()).detail(detail),
        )
        .await?;
        Ok(())
    }

    /// The CPTS's tokens of one scope, newest first (the coordination).
    pub async fn tokens(&self, caller: &Caller, scope: &str, page: Page) -> Result<Vec<ApiToken>> {
        caller.require(Permission::ManageCpts)?;
        Ok(self.store.list_tokens(caller.cpts(), scope, page).await?)
    }

    /// Issues a token (see [`tokens::issue`]) and returns its secret, shown once.
    pub async fn issue_token(
        &self,
        caller: &Caller,
        name: &str,
        scope: &str,
        professional: Option<Uuid>,
    ) -> std::result::Result<String, TokenError> {
        tokens::issue(self.store.as_ref(), caller, name, scope, professional).await
    }

    /// Revokes a token of the caller's CPTS (see [`tokens::revoke`]).
    pub async fn revoke_token(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> std::result::Result<bool, TokenError> {
        tokens::revoke(self.store.as_ref(), caller, id).await
    }
}

//! The use cases as the pages call them: each takes the [`Caller`] and checks its rights before the work.
//! Writes go to the `*_as` methods (which the background jobs and the public form also use with their own
//! audit context); reads of personal data are audited before they are made.

use super::*;
use crate::caller::Caller;
use maillage_domain::authz::{Permission, Role};
use maillage_store::{
    CapacityEntry, Cpts, DirectoryQuery, DoctorSearchFigures, ImportRun, ProfessionalRecord,
    ProfessionalSummary, ProposalView, GENERAL_PRACTICE,
};

impl DoctorSearch {
    /// A request of the caller's CPTS (those who read requests).
    pub async fn request(&self, caller: &Caller, id: Uuid) -> Result<DoctorRequest> {
        caller.require(Permission::ViewPatientRequests)?;
        self.store
            .find_doctor_request(caller.cpts(), id)
            .await?
            .ok_or(DoctorSearchError::NotFound)
    }

    /// Records a request: the secretariat for a caller or a list, a partner for their own referral (the
    /// referral is the partner's whatever the form says).
    pub async fn submit(
        &self,
        caller: &Caller,
        input: &RequestInput,
        origin: &Origin,
    ) -> Result<Submitted> {
        caller.require(Permission::SubmitReferral)?;
        let mut origin = origin.clone();
        let mut on_match = OnMatch::Merge;
        if caller.role() == Role::Partner {
            origin.referrer_user = caller.user();
            origin.recorded_by = caller.user();
            on_match = OnMatch::Review;
        }
        self.submit_as(caller.audit(), caller.cpts(), input, &origin, on_match)
            .await
    }

    /// A submission of the public form: anonymous, audited with the request's address.
    pub async fn submit_public(
        &self,
        context: &AuditContext,
        cpts: CptsId,
        input: &RequestInput,
    ) -> Result<Submitted> {
        self.submit_as(
            context,
            cpts,
            input,
            &Origin::public_form(),
            OnMatch::Review,
        )
        .await
    }

    /// The requests a partner referred, newest first: theirs only.
    pub async fn my_referrals(&self, caller: &Caller, page: Page) -> Result<Vec<DoctorRequest>> {
        caller.require(Permission::SubmitReferral)?;
        let Some(user) = caller.user() else {
            return Ok(Vec::new());
        };
        let filter = RequestFilter {
            referrer: Some(user),
            ..Default::default()
        };
        Ok(self
            .store
            .list_doctor_requests(caller.cpts(), &filter, page)
            .await?)
    }

    /// The patient's identity for `purpose`: audited before it is opened.
    pub async fn identity(
        &self,
        caller: &Caller,
        request: &DoctorRequest,
        purpose: &str,
    ) -> Result<Option<PatientIdentity>> {
        caller.require(Permission::ViewPatientRequests)?;
        if request.cpts_id != caller.cpts() {
            return Err(DoctorSearchError::NotFound);
        }
        self.identity_as(caller.audit(), caller.cpts(), request, purpose)
            .await
    }

    pub async fn change_state(
        &self,
        caller: &Caller,
        id: Uuid,
        to: RequestState,
        outcome: &str,
    ) -> Result<()> {
        caller.require(Permission::ViewPatientRequests)?;
        self.change_state_as(caller.audit(), caller.cpts(), id, to, outcome)
            .await
    }

    pub async fn update_details(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &RequestInput,
    ) -> Result<()> {
        caller.require(Permission::ViewPatientRequests)?;
        self.update_details_as(caller.audit(), caller.cpts(), id, input)
            .await
    }

    pub async fn save_rules(&self, caller: &Caller, rules: &PriorityRules) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        self.save_rules_as(caller.audit(), caller.cpts(), rules)
            .await
    }

    pub async fn run_matching(
        &self,
        caller: &Caller,
        max_distance_km: f64,
    ) -> Result<MatchingSummary> {
        caller.require(Permission::RunMatching)?;
        self.run_matching_as(caller.audit(), caller.cpts(), max_distance_km)
            .await
    }

    pub async fn propose_by_hand(
        &self,
        caller: &Caller,
        request: &DoctorRequest,
        professional: Uuid,
    ) -> Result<()> {
        caller.require(Permission::RunMatching)?;
        if request.cpts_id != caller.cpts() {
            return Err(DoctorSearchError::NotFound);
        }
        self.propose_by_hand_as(caller.cpts(), request, professional)
            .await
    }

    pub async fn send_drafts(&self, caller: &Caller) -> Result<SentProposals> {
        caller.require(Permission::RunMatching)?;
        self.send_drafts_as(caller.audit(), caller.cpts()).await
    }

    /// A GP's declaration of room: their own (a member linked to the GP's record), or any GP's by the
    /// coordination for a GP who phoned.
    pub async fn declare_capacity(&self, caller: &Caller, capacity: &GpCapacity) -> Result<()> {
        caller.require(Permission::DeclareCapacity)?;
        if caller.role() != Role::Coordinator
            && caller.professional() != Some(capacity.professional_id)
        {
            return Err(DoctorSearchError::NotFound);
        }
        self.declare_capacity_as(caller.audit(), caller.cpts(), capacity)
            .await
    }
    /// Requests of the caller's CPTS matching `filter` and, when `search` is typed, whose patient it finds
    /// (name, birth date or phone, through keyed terms: see [`crate::patients::query_terms`]), highest
    /// priority first. The listing is audited (with `detail`: the page and the filter; whether a search was
    /// made, never its text) before it is read.
    pub async fn list_requests(
        &self,
        caller: &Caller,
        filter: &RequestFilter,
        search: &str,
        page: Page,
        mut detail: serde_json::Value,
    ) -> Result<Vec<DoctorRequest>> {
        caller.require(Permission::ViewPatientRequests)?;
        let filter = RequestFilter {
            patient_terms: crate::patients::query_terms(&self.keyring, caller.cpts(), search)
                .map_err(DoctorSearchError::Invalid)?,
            ..filter.clone()
        };
        if let Some(object) = detail.as_object_mut() {
            object.insert(
                "search".into(),
                serde_json::json!(!search.trim().is_empty()),
            );
        }
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(
                AuditAction::DoctorRequestsListed,
                "cpts",
                caller.cpts().to_string(),
            )
            .detail(detail),
        )
        .await?;
        Ok(self
            .store
            .list_doctor_requests(caller.cpts(), &filter, page)
            .await?)
    }

    /// How many requests are in each state.
    pub async fn counts_by_state(&self, caller: &Caller) -> Result<Vec<(RequestState, i64)>> {
        caller.require(Permission::ViewPatientRequests)?;
        Ok(self.store.count_requests_by_state(caller.cpts()).await?)
    }

    /// Requests waiting longer than their state allows.
    pub async fn overdue_count(&self, caller: &Caller, now: i64) -> Result<i64> {
        caller.require(Permission::ViewPatientRequests)?;
        Ok(self
            .store
            .count_overdue_requests(caller.cpts(), now)
            .await?)
    }

    /// Proposals sent more than `days` ago that the GP has not answered: someone should call her.
    pub async fn unanswered_proposals(&self, caller: &Caller, now: i64, days: i64) -> Result<i64> {
        caller.require(Permission::RunMatching)?;
        Ok(self
            .store
            .count_unanswered_proposals(caller.cpts(), now - days * DAY_MS)
            .await?)
    }

    /// GP declarations of room older than the configured staleness (the GPs are reminded by e-mail).
    pub async fn stale_capacities(&self, caller: &Caller, now: i64) -> Result<i64> {
        caller.require(Permission::RunMatching)?;
        let before = now - i64::from(self.config.capacity_stale_days) * DAY_MS;
        Ok(self
            .store
            .count_stale_capacities(caller.cpts(), before)
            .await?)
    }

    /// How many days make a declaration stale.
    pub fn capacity_stale_days(&self) -> u32 {
        self.config.capacity_stale_days
    }

    /// Records the read of a request whose identity is gone (anonymised): the page is still a read.
    pub async fn record_view(&self, caller: &Caller, request: &DoctorRequest) -> Result<()> {
        caller.require(Permission::ViewPatientRequests)?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(
                AuditAction::DoctorRequestViewed,
                "doctor_request",
                request.id.to_string(),
            ),
        )
        .await?;
        Ok(())
    }

    /// A request's history, oldest first.
    pub async fn events(&self, caller: &Caller, request: Uuid) -> Result<Vec<RequestEvent>> {
        caller.require(Permission::ViewPatientRequests)?;
        Ok(self.store.request_events(caller.cpts(), request).await?)
    }

    /// The proposals made for a request.
    pub async fn proposals_of(&self, caller: &Caller, request: Uuid) -> Result<Vec<ProposalView>> {
        caller.require(Permission::ViewPatientRequests)?;
        Ok(self
            .store
            .proposals_of_request(caller.cpts(), request)
            .await?)
    }

    /// The CPTS's proposals in one status (the matching's review).
    pub async fn proposals(
        &self,
        caller: &Caller,
        status: &ProposalStatus,
        page: Page,
    ) -> Result<Vec<ProposalView>> {
        caller.require(Permission::RunMatching)?;
        Ok(self
            .store
            .list_proposals(caller.cpts(), status, page)
            .await?)
    }

    /// The proposals of one status addressed to the caller's own practice: a GP sees theirs, nobody else's.
    pub async fn proposals_to_me(
        &self,
        caller: &Caller,
        status: &ProposalStatus,
    ) -> Result<Vec<ProposalView>> {
        caller.require(Permission::DeclareCapacity)?;
        let Some(own) = caller.professional() else {
            return Ok(Vec::new());
        };
        // One GP has a handful of open proposals: one page holds them (filtered by the database).
        Ok(self
            .store
            .proposals_to_professional(caller.cpts(), own, status, Page::first(Page::MAX_LIMIT))
            .await?)
    }

    /// A draft or sent proposal of the CPTS (the matching's review).
    pub async fn proposal(&self, caller: &Caller, id: Uuid) -> Result<Proposal> {
        caller.require(Permission::RunMatching)?;
        self.store
            .find_proposal(caller.cpts(), id)
            .await?
            .ok_or(DoctorSearchError::NotFound)
    }

    /// Another GP for a draft (with its distance), or none (the draft dropped); false once it is sent.
    pub async fn override_draft(
        &self,
        caller: &Caller,
        id: Uuid,
        replacement: Option<(Uuid, i64)>,
    ) -> Result<bool> {
        caller.require(Permission::RunMatching)?;
        Ok(self
            .store
            .override_draft(caller.cpts(), id, replacement)
            .await?)
    }

    /// The CPTS's declarations of room, names and communes joined.
    pub async fn capacities(&self, caller: &Caller, page: Page) -> Result<Vec<CapacityEntry>> {
        caller.require(Permission::RunMatching)?;
        Ok(self.store.list_capacities(caller.cpts(), page).await?)
    }

    /// A GP's declaration: one's own, or any for the coordination.
    pub async fn capacity_of(
        &self,
        caller: &Caller,
        professional: Uuid,
    ) -> Result<Option<GpCapacity>> {
        if !caller.may(Permission::RunMatching) && caller.professional() != Some(professional) {
            return Err(DoctorSearchError::NotFound);
        }
        Ok(self
            .store
            .find_capacity(caller.cpts(), professional)
            .await?)
    }

    /// The record of the caller's own practice, if the account is linked to one.
    pub async fn my_practice(&self, caller: &Caller) -> Result<Option<ProfessionalRecord>> {
        caller.require(Permission::DeclareCapacity)?;
        match caller.professional() {
            Some(id) => Ok(self.store.professional(caller.cpts(), id).await?),
            None => Ok(None),
        }
    }

    /// The CPTS's general practitioners, for the coordination declaring room for one who phoned.
    pub async fn general_practitioners(
        &self,
        caller: &Caller,
        limit: i64,
    ) -> Result<Vec<ProfessionalSummary>> {
        caller.require(Permission::RunMatching)?;
        let query = DirectoryQuery {
            profession_code: Some(GENERAL_PRACTICE.to_string()),
            ..Default::default()
        };
        Ok(self
            .store
            .search_professionals(caller.cpts(), &query, Page::first(limit))
            .await?)
    }

    /// The indicators over the requests received in `[from, until)`.
    pub async fn figures(
        &self,
        caller: &Caller,
        from: i64,
        until: i64,
    ) -> Result<DoctorSearchFigures> {
        caller.require(Permission::RunMatching)?;
        Ok(self
            .store
            .doctor_search_figures(caller.cpts(), from, until)
            .await?)
    }

    /// Records an export of a year's indicators, before it is sent.
    pub async fn record_export(&self, caller: &Caller, year: i64, format: &str) -> Result<()> {
        caller.require(Permission::RunMatching)?;
        audit::record(
            self.store.as_ref(),
            caller.audit(),
            AuditEvent::new(
                AuditAction::DoctorRequestsExported,
                "indicators",
                year.to_string(),
            )
            .detail(serde_json::json!({ "format": format })),
        )
        .await?;
        Ok(())
    }

    /// An import of a list of patients of the caller's CPTS.
    pub async fn list_import(&self, caller: &Caller, id: Uuid) -> Result<ImportRun> {
        caller.require(Permission::ViewPatientRequests)?;
        self.store
            .find_import(caller.cpts(), id)
            .await?
            .filter(|run| run.kind == crate::imports::REQUEST_LIST_KIND)
            .ok_or(DoctorSearchError::NotFound)
    }

    /// Starts the background import of a list (its lines checked and recorded by a job).
    pub async fn start_list_import(
        &self,
        caller: &Caller,
        origin: Origin,
        file_name: &str,
        content: String,
    ) -> Result<Uuid> {
        caller.require(Permission::ViewPatientRequests)?;
        Ok(crate::imports::start_request_list(
            self.clone(),
            self.store.clone(),
            caller.cpts(),
            origin,
            file_name,
            content,
            caller.audit().clone(),
        )
        .await?)
    }

    /// The CPTS whose public form this is.
    pub async fn public_cpts(&self, slug: &str) -> Result<Option<Cpts>> {
        Ok(self.store.find_cpts_by_slug(slug).await?)
    }

    /// Counts one public submission from `key` (an address) in the current hour; how many it has made.
    /// Counts one public submission from `address`: `Some` (with how long to wait) past the limit of
    /// [`crate::rate_limit::PUBLIC_DOCTOR_REQUEST`], counted apart from logins.
    pub async fn limit_public_submission(
        &self,
        address: &str,
        now: i64,
    ) -> Result<Option<crate::rate_limit::Refused>> {
        use crate::rate_limit::{hit, RateLimitError, PUBLIC_DOCTOR_REQUEST};
        match hit(self.store.as_ref(), PUBLIC_DOCTOR_REQUEST, address, now).await {
            Ok(()) => Ok(None),
            Err(RateLimitError::Refused(refused)) => Ok(Some(refused)),
            Err(RateLimitError::Store(error)) => Err(error.into()),
        }
    }
}

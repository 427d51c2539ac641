//! Matching, proposals to GPs and their answers: the optimal drafts the coordination reviews, the proposals
//! sent with a single-use link, and the GP's answer by that link.

use super::*;
use maillage_domain::delivery::Purpose;

impl DoctorSearch {
    /// GPs of the CPTS with room now, and the requests waiting for a doctor: the optimal proposals (see
    /// `maillage_domain::matching`) become drafts the coordinator reviews before sending.
    pub(super) async fn run_matching_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
        max_distance_km: f64,
    ) -> Result<MatchingSummary> {
        self.refresh_priorities(cpts).await?;
        let filter = RequestFilter {
            states: vec![RequestState::Qualified, RequestState::Declined],
            ..Default::default()
        };
        let mut waiting = Vec::new();
        for number in 1.. {
            let page = self
                .store
                .list_doctor_requests(cpts, &filter, Page::new(number, Page::MAX_LIMIT))
                .await?;
            let last = page.len() < usize::try_from(Page::MAX_LIMIT).unwrap_or(0);
            waiting.extend(page);
            if last || waiting.len() >= 50_000 {
                break;
            }
        }
        let mut capacities = Vec::new();
        for number in 1.. {
            let page = self
                .store
                .list_capacities(cpts, Page::new(number, Page::MAX_LIMIT))
                .await?;
            let last = page.len() < usize::try_from(Page::MAX_LIMIT).unwrap_or(0);
            capacities.extend(page);
            if last {
                break;
            }
        }
        let position_of =
            |code: &str| maillage_domain::territory::find_code(code).and_then(|c| c.coordinates());
        let requests: Vec<(&DoctorRequest, MatchRequest)> = waiting
            .iter()
            .filter_map(|r| {
                position_of(&r.commune_code).map(|position| {
                    (
                        r,
                        MatchRequest {
                            id: r.id.to_string(),
                            position,
                            weight: u32::try_from(r.priority.max(1)).unwrap_or(1),
                        },
                    )
                })
            })
            .collect();
        let doctors: Vec<(&maillage_store::CapacityEntry, MatchDoctor)> = capacities
            .iter()
            .filter_map(|entry| {
                let room = entry.capacity.now_capacity - entry.pending;
                let position = position_of(&entry.commune_code)?;
                (room > 0).then(|| {
                    (
                        entry,
                        MatchDoctor {
                            id: entry.capacity.professional_id.to_string(),
                            position,
                            capacity: u32::try_from(room).unwrap_or(0),
                            max_distance_km: entry.capacity.max_distance_km.map(|km| km as f64),
                        },
                    )
                })
            })
            .collect();
        let declined: HashSet<(Uuid, Uuid)> =
            self.store.declined_pairs(cpts).await?.into_iter().collect();
        let allowed = |i: usize, j: usize| {
            let request = requests[i].0;
            let capacity = &doctors[j].0.capacity;
            let communes_ok = capacity.communes.is_empty()
                || capacity
                    .communes
                    .split(';')
                    .any(|code| code == request.commune_code);
            let group = age_group(u32::try_from(request.age_at_request).ok());
            let age_ok = capacity.age_groups.split(';').any(|g| g == group);
            communes_ok && age_ok && !declined.contains(&(request.id, capacity.professional_id))
        };
        let problem_requests: Vec<MatchRequest> = requests.iter().map(|(_, m)| m.clone()).collect();
        let problem_doctors: Vec<MatchDoctor> = doctors.iter().map(|(_, m)| m.clone()).collect();
        let solution = solve_with(
            &problem_requests,
            &problem_doctors,
            max_distance_km,
            &allowed,
        );
        let now = now_ms();
        let drafts: Vec<Proposal> = solution
            .assignments
            .iter()
            .map(|a| {
                let request = requests[a.request].0;
                let entry = doctors[a.doctor].0;
                Proposal {
                    id: Uuid::now_v7(),
                    cpts_id: cpts,
                    request_id: request.id,
                    professional_id: entry.capacity.professional_id,
                    status: ProposalStatus::Draft,
                    distance_m: (a.distance_km * 1000.0).round() as i64,
                    priority: request.priority,
                    explanation: format!(
                        "priorité {} ({}) ; {} km du cabinet ; le médecin a {}",
                        request.priority,
                        request.priority_reasons,
                        maillage_domain::text::french_decimal(a.distance_km),
                        maillage_domain::text::count_of(
                            entry.capacity.now_capacity - entry.pending,
                            "place",
                            "places"
                        )
                    ),
                    decline_reason: String::new(),
                    created_at: now,
                    sent_at: None,
                    answered_at: None,
                }
            })
            .collect();
        let summary = MatchingSummary {
            requests: waiting.len(),
            doctors: doctors.len(),
            proposed: drafts.len(),
            unassigned: waiting.len() - drafts.len(),
            total_weight: solution.total_weight,
            total_distance_km: solution.total_distance_km,
        };
        let audit = audit::entry(
            &actor.in_cpts(cpts),
            AuditEvent::new(AuditAction::MatchingRun, "cpts", cpts.to_string()).detail(
                serde_json::json!({
                    "requests": summary.requests,
                    "doctors": summary.doctors,
                    "proposed": summary.proposed,
                    "total_weight": summary.total_weight,
                }),
            ),
        );
        self.store
            .replace_draft_proposals(cpts, &drafts, &audit)
            .await?;
        Ok(summary)
    }

    /// The coordinator picks a GP for a request by hand: a draft, sent with the others.
    pub(super) async fn propose_by_hand_as(
        &self,
        cpts: CptsId,
        request: &DoctorRequest,
        professional: Uuid,
    ) -> Result<()> {
        if !request.state.is_waiting_for_a_doctor() {
            return Err(DoctorSearchError::Refused(
                "Seule une demande qualifiée (ou refusée par un médecin) peut être proposée."
                    .into(),
            ));
        }
        let distance_m = self.distance_to(cpts, request, professional).await?;
        self.store
            .create_proposal(&Proposal {
                id: Uuid::now_v7(),
                cpts_id: cpts,
                request_id: request.id,
                professional_id: professional,
                status: ProposalStatus::Draft,
                distance_m,
                priority: request.priority,
                explanation: format!(
                    "priorité {} ({}) ; choisi par la coordination",
                    request.priority, request.priority_reasons
                ),
                decline_reason: String::new(),
                created_at: now_ms(),
                sent_at: None,
                answered_at: None,
            })
            .await?;
        Ok(())
    }

    /// Distance between a request's commune and a GP's first place, in metres (0 when unknown).
    pub async fn distance_to(
        &self,
        cpts: CptsId,
        request: &DoctorRequest,
        professional: Uuid,
    ) -> Result<i64> {
        let record = self.store.professional(cpts, professional).await?;
        let from = maillage_domain::territory::find_code(&request.commune_code)
            .and_then(|c| c.coordinates());
        let to = record
            .as_ref()
            .and_then(|r| r.places.iter().find(|p| !p.commune_code.is_empty()))
            .and_then(|p| maillage_domain::territory::find_code(&p.commune_code))
            .and_then(|c| c.coordinates());
        Ok(match (from, to) {
            (Some(a), Some(b)) => {
                (maillage_domain::territory::distance_km(a, b) * 1000.0).round() as i64
            }
            _ => 0,
        })
    }

    /// Sends every draft: each GP gets an e-mail with a link and no health data; a GP nobody can e-mail is
    /// counted "à appeler" (her request's page says so, with her phone).
    pub(super) async fn send_drafts_as(
        &self,
        actor: &AuditContext,
        cpts: CptsId,
    ) -> Result<SentProposals> {
        let mut sent = SentProposals::default();
        loop {
            let drafts = self
                .store
                .list_proposals(cpts, &ProposalStatus::Draft, Page::first(Page::MAX_LIMIT))
                .await?;
            if drafts.is_empty() {
                break;
            }
            for draft in drafts {
                let token = crate::accounts::random_token();
                let event = RequestEvent::new(
                    "state",
                    "",
                    RequestState::Proposed.code(),
                    actor.actor_id,
                    now_ms(),
                )
                .detail(format!("proposée au Dr {}", draft.doctor_name));
                let audit = Self::entry(
                    actor,
                    cpts,
                    AuditAction::ProposalSent,
                    &draft.proposal.request_id.to_string(),
                    serde_json::json!({ "professional": draft.proposal.professional_id }),
                );
                if !self
                    .store
                    .send_proposal(
                        cpts,
                        draft.proposal.id,
                        &crate::accounts::token_hash(&token),
                        &event,
                        &audit,
                    )
                    .await?
                {
                    continue;
                }
                sent.sent += 1;
                let email = self
                    .store
                    .professional_email(cpts, draft.proposal.professional_id)
                    .await?;
                if email.is_none() {
                    sent.to_call += 1;
                }
                let link = format!("{}/proposition/{token}", self.public_url);
                // Recorded even without an address: the request page then says "à appeler".
                crate::deliveries::email(
                    self.store.as_ref(),
                    &self.keyring,
                    crate::deliveries::About::new(cpts, Purpose::Proposal, draft.proposal.id),
                    email,
                    "Une proposition de nouveau patient vous attend",
                    format!(
                        "Bonjour,\n\nLa CPTS vous propose un patient qui cherche un médecin traitant, \
                         près de votre cabinet. Pour voir la proposition (priorité et raison, sans \
                         donnée nominative) et l'accepter ou la refuser en un clic :\n\n{link}\n\n\
                         Ce lien est valable {} jours. Vous pouvez aussi répondre dans « Mes places », \
                         sur Maillage.\n",
                        self.config.proposal_valid_days
                    ),
                    self.mail_attempts,
                )
                .await?;
            }
        }
        Ok(sent)
    }

    /// The proposal behind a link, if the link is valid (sent, not answered, not expired).
    pub async fn proposal_of_link(
        &self,
        token: &str,
    ) -> Result<Option<maillage_store::ProposalView>> {
        let Some(view) = self
            .store
            .find_proposal_by_token(&crate::accounts::token_hash(token))
            .await?
        else {
            return Ok(None);
        };
        let valid_ms = i64::from(self.config.proposal_valid_days) * DAY_MS;
        let fresh = view
            .proposal
            .sent_at
            .is_some_and(|sent| now_ms() - sent <= valid_ms);
        Ok(fresh.then_some(view))
    }
}

/// What sending the drafts did: how many proposals went, and how many of them nobody could e-mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SentProposals {
    pub sent: usize,
    pub to_call: usize,
}

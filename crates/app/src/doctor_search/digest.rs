//! The coordination's morning digest: when the CPTS asks for it (Paramètres), every coordinator receives each
//! morning from 7:00 (Paris) one e-mail listing the answers the GPs gave to proposals since the previous one —
//! who accepted or declined, when, and the request's address; never a patient's name. One process sends it
//! (the claim in the database), and each e-mail is a delivery whose state the settings page shows.

use super::{DoctorSearch, DoctorSearchError, Result};
use crate::audit::{self, AuditEvent};
use crate::caller::Caller;
use crate::clock::{french_date_time, DAY_MS};
use maillage_domain::audit::AuditAction;
use maillage_domain::authz::{Permission, Role};
use maillage_domain::delivery::Purpose;
use maillage_domain::doctor_search::ProposalStatus;
use maillage_domain::unscheduled_care::{paris_to_utc, utc_to_paris};
use maillage_store::{Cpts, Delivery, Page};

/// The hour (Paris) from which the day's digest goes.
pub const DIGEST_HOUR: u32 = 7;

/// Answers one digest lists; beyond, it says how many more and links to the list.
const DIGEST_LINES: i64 = 100;

/// The digest's setting as the settings page shows it.
#[derive(Debug, Clone)]
pub struct DigestSetting {
    pub enabled: bool,
    /// The latest e-mails of the digest, newest first.
    pub deliveries: Vec<Delivery>,
}

impl DoctorSearch {
    /// Whether the coordination receives the morning digest, and what became of the last ones.
    pub async fn answer_digest(&self, caller: &Caller) -> Result<DigestSetting> {
        caller.require(Permission::ManageCpts)?;
        let cpts = caller.cpts();
        let (enabled, _) = self.store.answer_digest(cpts).await?;
        let mut deliveries = self
            .store
            .deliveries_of(cpts, Purpose::AnswerDigest, &[cpts.uuid()])
            .await?;
        deliveries.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        deliveries.truncate(5);
        Ok(DigestSetting {
            enabled,
            deliveries,
        })
    }

    /// Starts or stops the morning digest (the coordination), audited in the same transaction.
    pub async fn set_answer_digest(&self, caller: &Caller, enabled: bool) -> Result<()> {
        caller.require(Permission::ManageCpts)?;
        let cpts = caller.cpts();
        let entry = audit::entry(
            caller.audit(),
            AuditEvent::new(AuditAction::AnswerDigestChanged, "cpts", cpts.to_string())
                .detail(serde_json::json!({ "enabled": enabled })),
        );
        Ok(self.store.set_answer_digest(cpts, enabled, &entry).await?)
    }

    /// Sends the morning digest of every CPTS that asked for it and has not had today's. Returns how many
    /// digests went out.
    pub async fn send_answer_digests(&self, now: i64) -> Result<usize> {
        let (today, minute) = utc_to_paris(now);
        if minute < DIGEST_HOUR * 60 {
            return Ok(0);
        }
        let due_after = paris_to_utc(today, DIGEST_HOUR * 60);
        let mut sent = 0;
        for number in 1.. {
            let page = self.store.list_cpts(Page::new(number, 100)).await?;
            for cpts in &page {
                if let Some(previous) = self
                    .store
                    .claim_answer_digest(cpts.id, due_after, now)
                    .await?
                {
                    let since = previous.unwrap_or(now - DAY_MS);
                    if self.send_digest(cpts, since, now).await? {
                        sent += 1;
                    }
                }
            }
            if page.len() < 100 {
                break;
            }
        }
        Ok(sent)
    }

    /// One CPTS's digest to each of its coordinators; false when no GP answered since `since`.
    async fn send_digest(&self, cpts: &Cpts, since: i64, now: i64) -> Result<bool> {
        let answers = self
            .store
            .answers_between(cpts.id, since, now, DIGEST_LINES + 1)
            .await?;
        if answers.is_empty() {
            return Ok(false);
        }
        let base = format!("{}/c/{}/medecin-traitant", self.public_url, cpts.slug);
        let mut lines = Vec::new();
        for answer in answers.iter().take(DIGEST_LINES as usize) {
            let gp = match self
                .store
                .professional(cpts.id, answer.professional_id)
                .await?
            {
                Some(p) => format!("Dr {} {}", p.summary.first_name, p.summary.last_name),
                None => "Un médecin".to_string(),
            };
            let verb = if answer.status == ProposalStatus::Accepted {
                "a accepté"
            } else {
                "a refusé"
            };
            lines.push(format!(
                "- {gp} {verb} une proposition ({}) : {base}/demandes/{}",
                french_date_time(answer.answered_at),
                answer.request_id
            ));
        }
        if answers.len() as i64 > DIGEST_LINES {
            lines.push(format!("- … et d'autres : {base}"));
        }
        let accepted = answers
            .iter()
            .filter(|a| a.status == ProposalStatus::Accepted)
            .count();
        let body = format!(
            "Bonjour,\n\nDepuis le {}, les médecins ont répondu à {} ({}). Prévenez les patients dont la \
             demande est acceptée.\n\n{}\n",
            french_date_time(since),
            maillage_domain::text::count_of(answers.len() as i64, "proposition", "propositions"),
            if accepted == 0 {
                "aucune acceptée".to_string()
            } else {
                maillage_domain::text::count_of(accepted as i64, "acceptée", "acceptées")
            },
            lines.join("\n")
        );
        for number in 1.. {
            let members = self
                .store
                .list_members(cpts.id, Page::new(number, 200))
                .await?;
            for member in members
                .iter()
                .filter(|m| m.role == Role::Coordinator && !m.disabled && !m.suspended)
            {
                crate::deliveries::email(
                    self.store.as_ref(),
                    &self.keyring,
                    crate::deliveries::About::new(cpts.id, Purpose::AnswerDigest, cpts.id.uuid()),
                    Some(member.email.clone()),
                    "Réponses des médecins aux propositions",
                    body.clone(),
                    self.mail_attempts,
                )
                .await
                .map_err(DoctorSearchError::Store)?;
            }
            if members.len() < 200 {
                break;
            }
        }
        Ok(true)
    }
}

//! Late steps alerted each hour: every late step, once a day whichever instance runs the hour, e-mailed to its
//! owners in the care team and to the coordination — the step and its deadline, never the patient — each as a
//! delivery the patient's record shows with its state.

use super::{day_of, PathwayCare, Result};
use maillage_domain::authz::Role;
use maillage_domain::calendar::Day;

impl PathwayCare {
    /// Today's alerts of the late steps of every CPTS: each late step, once a day whichever instance runs this
    /// (the day is claimed on the step), is e-mailed to its owners in the care team and to the coordination —
    /// the step and its deadline only, never the patient — each as a delivery. Returns how many steps were
    /// alerted.
    pub async fn alert_late_steps(&self, today: Day) -> Result<usize> {
        let today_iso = today.iso();
        let mut alerted = 0;
        for number in 1.. {
            let cpts_page = self
                .store
                .list_cpts(maillage_store::Page::new(number, 100))
                .await?;
            for cpts in &cpts_page {
                // The coordination's addresses, read once for all the CPTS's late steps.
                let mut coordinators: Option<Vec<String>> = None;
                // Claimed steps leave the list: the first page again until none is left.
                loop {
                    let late = self
                        .store
                        .late_pathway_steps(cpts.id, &today_iso, maillage_store::Page::first(200))
                        .await?;
                    if late.is_empty() {
                        break;
                    }
                    for step in &late {
                        if self
                            .store
                            .claim_step_alert(step.step_id, &today_iso)
                            .await?
                        {
                            if coordinators.is_none() {
                                coordinators = Some(self.coordinators_of(cpts.id).await?);
                            }
                            let to = coordinators.as_deref().unwrap_or_default();
                            self.alert_one(cpts, step, to).await?;
                            alerted += 1;
                        }
                    }
                }
            }
            if cpts_page.len() < 100 {
                break;
            }
        }
        Ok(alerted)
    }

    /// The e-mail addresses of the CPTS's coordinators who may be written to (neither disabled nor suspended).
    async fn coordinators_of(&self, cpts: maillage_store::CptsId) -> Result<Vec<String>> {
        let mut emails = Vec::new();
        for number in 1.. {
            let members = self
                .store
                .list_members(cpts, maillage_store::Page::new(number, 200))
                .await?;
            emails.extend(
                members
                    .iter()
                    .filter(|m| m.role == Role::Coordinator && !m.disabled && !m.suspended)
                    .map(|m| m.email.clone()),
            );
            if members.len() < 200 {
                break;
            }
        }
        Ok(emails)
    }

    async fn alert_one(
        &self,
        cpts: &maillage_store::Cpts,
        step: &maillage_store::LateStep,
        coordinators: &[String],
    ) -> Result<()> {
        let mail_attempts = self.mail_attempts;
        let latest = day_of(&step.latest).map_or(step.latest.clone(), Day::french);
        let body = format!(
            "Bonjour,\n\nUne étape d'un parcours de soins de la CPTS est en retard : « {} », attendue au plus tard \
             le {latest}. Le dossier du patient est dans Maillage (Parcours de soins) ; ouvrez-le pour clore \
             l'étape ou dire pourquoi elle n'a pas lieu.\n",
            step.label
        );
        let subject = "Une étape de parcours est en retard";
        let about = crate::deliveries::About::new(
            cpts.id,
            maillage_domain::delivery::Purpose::PathwayStepLate,
            step.step_id,
        );
        let team = self
            .store
            .inclusion_team(cpts.id, step.inclusion_id)
            .await?;
        for member in team.iter().filter(|m| m.role == step.owner_role) {
            let email = self
                .store
                .professional_email(cpts.id, member.professional_id)
                .await?;
            crate::deliveries::email(
                self.store.as_ref(),
                &self.keyring,
                about,
                email,
                subject,
                body.clone(),
                mail_attempts,
            )
            .await?;
        }
        for email in coordinators {
            crate::deliveries::email(
                self.store.as_ref(),
                &self.keyring,
                about,
                Some(email.clone()),
                subject,
                body.clone(),
                mail_attempts,
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::missions::MissionUpkeep for PathwayCare {
    fn name(&self) -> &'static str {
        "care-pathways"
    }

    /// The late steps' alerts of the day (each step once a day, whichever instance runs the hour).
    async fn hourly(&self, now: i64) {
        let today = maillage_domain::calendar::utc_to_paris(now).0;
        match self.alert_late_steps(today).await {
            Ok(alerted) if alerted > 0 => tracing::info!(alerted, "late pathway steps alerted"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "late pathway step alerts failed"),
        }
    }
}

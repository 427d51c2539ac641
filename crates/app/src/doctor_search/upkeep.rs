//! The mission's background work, as the registry runs it (`crate::missions`).

use super::DoctorSearch;
use crate::jobs::JobHandler;
use crate::missions::MissionUpkeep;
use crate::Config;
use async_trait::async_trait;
use std::sync::Arc;

const CPTS_PAGE: i64 = 100;

#[async_trait]
impl MissionUpkeep for DoctorSearch {
    fn name(&self) -> &'static str {
        "doctor-search"
    }

    /// SMS to patients go through the gateway's webhook, when one is configured.
    fn job_handlers(&self, config: &Config) -> Vec<(&'static str, Arc<dyn JobHandler>)> {
        crate::notify::SmsWebhookJob::new(&config.doctor_search.sms_webhook_url)
            .map(|sms| (crate::notify::SMS_JOB, Arc::new(sms) as Arc<dyn JobHandler>))
            .into_iter()
            .collect()
    }

    /// Priorities grow with waiting (every CPTS, a page at a time), stale GP declarations are reminded,
    /// ended requests past the retention delay are anonymised.
    async fn hourly(&self, now: i64) {
        for number in 1.. {
            let page = match self
                .store
                .list_cpts(maillage_store::Page::new(number, CPTS_PAGE))
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, "listing CPTS for upkeep failed");
                    break;
                }
            };
            for cpts in &page {
                if let Err(error) = self.refresh_priorities(cpts.id).await {
                    tracing::warn!(%error, cpts = %cpts.id, "priority refresh failed");
                }
            }
            if (page.len() as i64) < CPTS_PAGE {
                break;
            }
        }
        match self.remind_stale_capacities(now).await {
            Ok(reminded) if reminded > 0 => {
                tracing::info!(reminded, "GPs reminded of stale declarations")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "capacity reminders failed"),
        }
        match self.send_answer_digests(now).await {
            Ok(sent) if sent > 0 => tracing::info!(sent, "answer digests sent"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "answer digests failed"),
        }
        match self.apply_retention(now).await {
            Ok(anonymised) if anonymised > 0 => {
                tracing::info!(anonymised, "ended requests anonymised")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "retention failed"),
        }
    }
}

//! The mission's background work, as the registry runs it (`crate::missions`).

use super::UnscheduledCare;
use crate::jobs::JobHandler;
use crate::missions::MissionUpkeep;
use crate::Config;
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
impl MissionUpkeep for UnscheduledCare {
    fn name(&self) -> &'static str {
        "unscheduled-care"
    }

    /// The Appointments sent back to the SAS, when the deployment sends them.
    fn job_handlers(&self, _config: &Config) -> Vec<(&'static str, Arc<dyn JobHandler>)> {
        self.sas_job()
            .map(|job| (super::sas_appointments::SAS_APPOINTMENT_JOB, job))
            .into_iter()
            .collect()
    }

    /// The query planner's statistics of the slot tables, which grow by thousands of rows a week.
    async fn hourly(&self, _now: i64) {
        if let Err(error) = self.store.refresh_slot_statistics().await {
            tracing::warn!(%error, "slot statistics refresh failed");
        }
    }
}

//! The mission's background work, as the registry runs it (`crate::missions`).

use super::UnscheduledCare;
use crate::missions::MissionUpkeep;
use async_trait::async_trait;

#[async_trait]
impl MissionUpkeep for UnscheduledCare {
    fn name(&self) -> &'static str {
        "unscheduled-care"
    }

    /// The query planner's statistics of the slot tables, which grow by thousands of rows a week.
    async fn hourly(&self, _now: i64) {
        if let Err(error) = self.store.refresh_slot_statistics().await {
            tracing::warn!(%error, "slot statistics refresh failed");
        }
    }
}

//! The mission registry: each delivered mission's service, its hourly upkeep and its background jobs,
//! declared once here. `serve` registers every mission's job handlers and runs every mission's upkeep from
//! this list, and the web application takes its services from it: adding a mission adds one field, one line
//! in [`Missions::from_config`] and one entry in [`Missions::upkeep`], and touches no other central list.
//! (The pages' side of the registry is `maillage_web`'s `missions/registry.rs`.)

use crate::crypto::Keyring;
use crate::jobs::JobHandler;
use crate::Config;
use async_trait::async_trait;
use maillage_store::Store;
use std::sync::Arc;

/// What a mission runs in the background.
#[async_trait]
pub trait MissionUpkeep: Send + Sync {
    /// Short English name, for the logs and for the name of the hourly lock (`hourly:<name>`).
    fn name(&self) -> &'static str;

    /// Job kinds this mission queues, with their handlers.
    fn job_handlers(&self, _config: &Config) -> Vec<(&'static str, Arc<dyn JobHandler>)> {
        Vec::new()
    }

    /// Work done once an hour over every CPTS, by one instance at a time (a lock in the database).
    /// Failures are logged by the mission; one mission's failure does not stop the others.
    async fn hourly(&self, _now: i64) {}
}

/// The services of the delivered missions, configured once for the web application and `serve`.
#[derive(Clone)]
pub struct Missions {
    pub directory: crate::directory::pages::Directory,
    pub doctor_search: crate::doctor_search::DoctorSearch,
    pub unscheduled_care: crate::unscheduled_care::UnscheduledCare,
    pub pathways: crate::pathways::PathwayTemplates,
    pub pathway_care: crate::pathway_care::PathwayCare,
}

impl Missions {
    pub fn from_config(store: Arc<dyn Store>, keyring: Arc<Keyring>, config: &Config) -> Self {
        Self {
            directory: crate::directory::pages::Directory::new(store.clone()),
            doctor_search: crate::doctor_search::DoctorSearch::from_config(
                store.clone(),
                keyring.clone(),
                config,
            ),
            pathways: crate::pathways::PathwayTemplates::new(store.clone()),
            pathway_care: crate::pathway_care::PathwayCare::new(store.clone(), keyring.clone())
                .with_mail_attempts(config.jobs.max_attempts),
            unscheduled_care: crate::unscheduled_care::UnscheduledCare::new(
                store,
                keyring,
                config.jobs.max_attempts,
            )
            .with_max_live_holds(config.unscheduled_care.max_live_holds)
            .with_public_url(&config.server.public_url)
            .with_sas(
                crate::unscheduled_care::sas_appointments::SasLink::from_config(config)
                    .unwrap_or_else(|error| {
                        // Checked when the configuration loaded: only a file changed since then gets here.
                        tracing::error!(%error, "appointments are not sent to the SAS");
                        None
                    }),
            ),
        }
    }

    /// Every mission's background work, in the order the hourly upkeep runs it.
    pub fn upkeep(&self) -> [&dyn MissionUpkeep; 3] {
        [
            &self.doctor_search,
            &self.unscheduled_care,
            &self.pathway_care,
        ]
    }

    /// Every mission's job handlers, for the job runner.
    pub fn job_handlers(&self, config: &Config) -> Vec<(&'static str, Arc<dyn JobHandler>)> {
        self.upkeep()
            .iter()
            .flat_map(|mission| mission.job_handlers(config))
            .collect()
    }
}

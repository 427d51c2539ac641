//! The web application: French server-rendered pages per mission, the JSON API under `/api/v1`,
//! health and metrics. Every route is declared through [`access::GuardedRouter`], which makes the
//! access rule of each route explicit and enforced before the handler runs (deny by default).

pub mod access;
mod account;
mod api;
mod assets;
mod charts;
mod cookies;
mod error;
mod export;
mod fhir;
mod forms;
mod journal;
mod metrics;
mod missions;
mod pages;
mod security;
mod views;

pub use access::{Access, RouteSpec};
pub use metrics::Metrics;

use axum::Router;
use maillage_app::accounts::Accounts;
use maillage_app::Config;
use maillage_store::Store;
use std::sync::Arc;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub accounts: Accounts,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub doctor_search: maillage_app::doctor_search::DoctorSearch,
    pub unscheduled_care: maillage_app::unscheduled_care::UnscheduledCare,
    pub directory: maillage_app::directory::pages::Directory,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, accounts: Accounts, config: Arc<Config>) -> Self {
        let doctor_search = maillage_app::doctor_search::DoctorSearch::from_config(
            store.clone(),
            accounts.keyring().clone(),
            &config,
        );
        let directory = maillage_app::directory::pages::Directory::new(store.clone());
        let unscheduled_care = maillage_app::unscheduled_care::UnscheduledCare::new(
            store.clone(),
            accounts.keyring().clone(),
            config.jobs.max_attempts,
        );
        Self {
            store,
            accounts,
            config,
            metrics: Arc::new(Metrics::default()),
            doctor_search,
            unscheduled_care,
            directory,
        }
    }
}

/// Every route of the application with its access rule, in declaration order.
pub fn route_table(state: &AppState) -> Vec<RouteSpec> {
    routes(state.clone()).specs().to_vec()
}

fn routes(state: AppState) -> access::GuardedRouter {
    let router = access::GuardedRouter::new(state);
    let router = pages::routes(router);
    let router = account::routes(router);
    let router = journal::routes(router);
    let router = missions::routes(router);
    let router = api::routes(router);
    let router = fhir::routes(router);
    let router = assets::routes(router);
    metrics::routes(router)
}

/// The complete application, with its security headers, request ids, logging and error pages.
pub fn app(state: AppState) -> Router {
    let guarded = routes(state.clone());
    security::wrap(guarded.into_router(), state)
}

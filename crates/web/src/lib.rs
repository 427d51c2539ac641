//! The web application: French server-rendered pages per mission, the JSON API under `/api/v1`,
//! health and metrics. Every route is declared through [`access::GuardedRouter`], which makes the
//! access rule of each route explicit and enforced before the handler runs (deny by default).

pub mod access;
mod account;
mod api;
mod assets;
mod charts;
mod confirm;
mod cookies;
mod error;
mod export;
mod fhir;
mod forms;
mod indicators;
mod journal;
mod metrics;
mod missions;
mod pages;
mod sas_clients;
mod security;
pub mod tls;
mod views;

pub use access::{Access, RouteSpec};
pub use metrics::Metrics;

use axum::Router;
use maillage_app::accounts::Accounts;
use maillage_app::missions::Missions;
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
    /// The delivered missions' services (the registry of `maillage_app::missions`).
    pub missions: Missions,
    /// Invitations and roles.
    pub team: maillage_app::team::Team,
    /// `server.trusted_proxies`, parsed once (every request reads it for its client's address).
    pub proxies: Arc<maillage_app::proxies::TrustedProxies>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, accounts: Accounts, config: Arc<Config>) -> Self {
        let missions = Missions::from_config(store.clone(), accounts.keyring().clone(), &config);
        Self::with_missions(store, accounts, config, missions)
    }

    /// The state around services already built (by `serve`, which also runs their background work).
    pub fn with_missions(
        store: Arc<dyn Store>,
        accounts: Accounts,
        config: Arc<Config>,
        missions: Missions,
    ) -> Self {
        let proxies = Arc::new(config.server.proxies());
        let team = maillage_app::team::Team::new(
            store.clone(),
            accounts.clone(),
            config.server.base_url(),
            config.jobs.max_attempts,
        );
        Self {
            store,
            accounts,
            config,
            metrics: Arc::new(Metrics::default()),
            missions,
            team,
            proxies,
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
    let router = sas_clients::routes(router);
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

//! The services of Maillage through their public API, on SQLite and PostgreSQL: one test binary for the
//! crate (one link instead of one per file), one module per mission or concern.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod accounts;
mod common;
mod deliveries;
mod directory_import;
mod doctor_search;
mod doctor_search_duplicates;
mod doctor_search_fuzz;
mod doctor_search_upkeep_and_rights;
mod mail_and_jobs;
mod pathway_care;
mod pathway_results;
mod pathways;
mod patients;
mod rota_swaps;
mod sas_reads;
mod territory_diagnostic;
mod unscheduled_care;

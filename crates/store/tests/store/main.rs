//! The store on SQLite and PostgreSQL, each test on a fresh database of each engine: one test binary for the
//! crate, one module per part of the schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod conformance;
mod patients;
mod security;
mod snp_rota_and_indicators;
mod unscheduled_care;

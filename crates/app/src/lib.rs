//! Application services shared by the web server and the command line: configuration, accounts and
//! sessions, background jobs, e-mail, demo data. Each service takes the store and settings it needs
//! explicitly; nothing here is global.

pub mod accounts;
pub mod audit;
pub mod audit_checkpoint;
pub mod caller;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod deliveries;
pub mod demo;
pub mod diagnostic;
pub mod directory;
pub mod doctor_search;
pub mod export;
pub mod http_client;
pub mod imports;
pub mod jobs;
pub mod mail;
pub mod matching;
pub mod missions;
pub mod notify;
pub mod pathway_care;
pub mod pathways;
pub mod patients;
pub mod proxies;
pub mod rate_limit;
pub mod spreadsheet;
pub mod team;
pub mod tokens;
pub mod unscheduled_care;

pub use config::Config;

//! Pure types and rules of a CPTS: identifiers, roles and permissions, missions.
//!
//! Nothing here does I/O: every function is deterministic and can be unit tested or fuzzed.

pub mod audit;
pub mod authz;
pub mod calendar;
pub mod codes;
pub mod cpts;
pub mod delivery;
pub mod directory;
pub mod doctor_search;
pub mod icalendar;
pub mod identifiers;
pub mod indicators;
pub mod matching;
pub mod meetings;
pub mod missions;
pub mod pathways;
pub mod prevention;
pub mod professional;
pub mod sas;
pub mod sensitive;
pub mod structures;
pub mod territory;
pub mod text;
pub mod totp;
pub mod unscheduled_care;
pub mod workflow;

pub use identifiers::{Problems, ValidationError};
pub use sensitive::Sensitive;

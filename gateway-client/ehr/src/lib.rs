//! The EHR chaincode from Rust: a typed client ([`client`]), off-chain file
//! storage ([`files`]), the settings that say where the network and the
//! identity are ([`config`]) and signing in with them ([`session`]).
//!
//! A library: it draws nothing, reads no flags and exits nowhere. The `ehr`
//! command line (crate `ehr-cli`) parses flags, prints, and maps errors to
//! exit codes and hints.

mod chart;
pub mod client;
pub mod config;
pub mod error;
pub mod fhir;
pub mod files;
pub mod follow;
pub mod scenario;
pub mod session;

pub use client::{EhrClient, RecordWritten, Slip, copy_hash};
pub use config::{Config, Settings};
pub use error::{EhrClientError, Result};
pub use follow::{Followed, NotificationFollower};

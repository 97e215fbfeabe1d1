//! The EHR chaincode from Rust: a typed client ([`client`]), off-chain file
//! storage ([`files`]), the settings of the `ehr` tool ([`config`]) and its
//! identities ([`session`]).

pub mod client;
pub mod config;
pub mod error;
pub mod files;
pub mod session;

pub use client::{EhrClient, RecordWritten, Slip, copy_hash};
pub use config::{Config, Settings};
pub use error::{EhrClientError, Result};

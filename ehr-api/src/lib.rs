//! The EHR contract's API: what the chaincode and its clients share, with no
//! gRPC, no shim and no ledger in it.
//!
//! - [`model`]: the domain types (ids, roles, people, patients, consents,
//!   access entries, records, prescriptions) and the rules their fields keep.
//! - [`views`]: queries, pages, views for permitted readers, the audit trail.
//! - [`registry`]: which organisation may assert which role.
//! - [`events`]: notifications and how they travel (sealed per recipient).
//! - [`seal`]: sealed answers (HPKE), sealing for the contract and opening for clients.
//! - [`hash`]: the salted hashes kept of every version; pseudonyms.
//! - [`transient`]: the names of the transient fields.
//! - [`functions`]: the contract's functions, once: name, kind, parameters,
//!   answer; the router and the client are both built on it.
//!
//! ```
//! use ehr_api::model::{PatientId, Purpose};
//!
//! let id = PatientId::parse("P-0001").unwrap();
//! assert_eq!(id.as_str(), "P-0001");
//! assert_eq!(Purpose::parse("second-opinion").unwrap(), Purpose::SecondOpinion);
//! assert!(PatientId::parse("Jane Doe 1984").is_err(), "ids are opaque: no spaces, no names");
//! ```

pub mod error;
pub mod events;
pub mod functions;
pub mod hash;
pub mod model;
pub mod registry;
pub mod seal;
pub mod transient;
pub mod views;

pub use error::Invalid;

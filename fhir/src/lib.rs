//! HL7 FHIR R4 (4.0.1) for the EHR: a patient's chart as a FHIR `Bundle`.
//!
//! Hospitals exchange FHIR, not our JSON. This crate turns what a caller may
//! read about a patient (a [`Chart`]) into a `collection` Bundle whose bytes
//! are the same for the same chart ([`Export::canonical_json`]): resource ids
//! are derived from our ids, entries come in a fixed order, times come from
//! the ledger's transaction stamps, never from the clock, and JSON object keys
//! are sorted. Its hash can therefore be anchored and compared across systems.
//!
//! The resource types are the `fhir` crate's R4 model; this crate only maps.
//! How each of our record kinds maps is in [`mapping`]. What it cannot map
//! yet is listed in [`Export::unmapped`], never dropped silently.
//!
//! ```
//! use ehr_fhir::{Chart, export};
//! # fn demo(chart: Chart) -> Result<(), ehr_fhir::FhirError> {
//! let exported = export(&chart)?;
//! let bytes = exported.canonical_json()?;
//! # let _ = bytes; Ok(()) }
//! ```

mod canonical;
mod error;
mod export;
mod ids;
mod import;
mod ledger;
pub mod mapping;
mod resources;

pub use error::{FhirError, Issue, IssueKind, Result};
pub use export::{Chart, Export, export};
pub use ids::systems;
pub use import::{Import, ImportedPatient, MAX_BUNDLE_BYTES, Unmapped, read_bundle};

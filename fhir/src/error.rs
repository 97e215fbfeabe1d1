//! The one error type of this crate.

/// Why a chart could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    /// A value of ours has no FHIR form (e.g. a time outside the calendar).
    #[error("{what} cannot be written as FHIR: {why}")]
    Unrepresentable {
        /// Which value.
        what: String,
        /// Why not.
        why: String,
    },
    /// Serialising a resource failed.
    #[error("cannot serialise {what} as JSON: {message}")]
    Json {
        /// Which resource.
        what: String,
        /// serde's message.
        message: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, FhirError>;

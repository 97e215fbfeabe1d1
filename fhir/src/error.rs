//! The one error type of this crate.

use serde_json::{Value, json};

/// Why a chart could not be exported or a bundle not imported.
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
    /// A bundle offered for import is refused as a whole: nothing of it may
    /// be written. Each issue names the resource and the element.
    #[error("the bundle is refused: {}{}", issues.first().map(|i| i.to_string()).unwrap_or_default(),
        if issues.len() > 1 { format!(" (and {} more)", issues.len() - 1) } else { String::new() })]
    Refused {
        /// Everything found wrong: unresolved references first, then the
        /// patient count, then each entry's problems in bundle order.
        issues: Vec<Issue>,
    },
}

/// What kind of problem an [`Issue`] is, as FHIR's `IssueType` codes name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// Not JSON, or not shaped as the resource's type requires.
    Structure,
    /// A required element is missing.
    Required,
    /// An element's value breaks a rule.
    Value,
    /// A code from a code system we do not know where we need a known one.
    CodeInvalid,
    /// A reference to a resource the bundle does not hold.
    NotFound,
    /// Too large.
    TooLong,
}

impl IssueKind {
    /// The FHIR `IssueType` code.
    pub fn code(self) -> &'static str {
        match self {
            IssueKind::Structure => "structure",
            IssueKind::Required => "required",
            IssueKind::Value => "value",
            IssueKind::CodeInvalid => "code-invalid",
            IssueKind::NotFound => "not-found",
            IssueKind::TooLong => "too-long",
        }
    }
}

/// One problem in a bundle offered for import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct Issue {
    /// What kind of problem.
    pub kind: IssueKind,
    /// Where: a FHIRPath-like location, e.g.
    /// `Bundle.entry[2].resource(Condition/c1).subject`.
    pub location: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl FhirError {
    /// This error as a FHIR `OperationOutcome`, what a FHIR client expects
    /// to read when a request fails: one `error` issue per problem, with its
    /// location as `expression`.
    pub fn operation_outcome(&self) -> Value {
        let issues: Vec<Value> = match self {
            FhirError::Refused { issues } => issues
                .iter()
                .map(|i| {
                    json!({ "severity": "error", "code": i.kind.code(), "diagnostics": i.message,
                            "expression": [i.location] })
                })
                .collect(),
            other => vec![json!({ "severity": "error", "code": "exception", "diagnostics": other.to_string() })],
        };
        json!({ "resourceType": "OperationOutcome", "issue": issues })
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, FhirError>;

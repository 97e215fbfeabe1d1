//! The contract's one error type: the caller's mistakes versus internal failures.

use fabric_chaincode_shim::ContractError;

/// What can go wrong in an EHR transaction.
///
/// Caller mistakes carry a message meant for the caller; permission failures
/// never say whether the patient exists.
#[derive(Debug, thiserror::Error)]
pub enum EhrError {
    /// An argument or transient field breaks a rule: names the field and the rule.
    #[error("{field}: {rule}")]
    BadRequest {
        /// The argument or field at fault.
        field: String,
        /// The rule it breaks.
        rule: String,
    },
    /// The caller may not do this (or the patient does not exist: the caller cannot tell).
    #[error("{0}")]
    Forbidden(String),
    /// Something the caller may know about does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the ledger (e.g. the id is taken).
    #[error("{0}")]
    Conflict(String),
    /// The ledger or the shim failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EhrError {
    /// A rule violation of `field`.
    pub fn bad(field: &str, rule: impl Into<String>) -> Self {
        Self::BadRequest { field: field.to_owned(), rule: rule.into() }
    }
}

impl From<fabric_chaincode_shim::Error> for EhrError {
    fn from(e: fabric_chaincode_shim::Error) -> Self {
        match e {
            fabric_chaincode_shim::Error::InvalidArgument(m) => Self::bad("argument", m),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<ehr_api::Invalid> for EhrError {
    fn from(e: ehr_api::Invalid) -> Self {
        Self::BadRequest { field: e.field, rule: e.rule }
    }
}

impl From<serde_json::Error> for EhrError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("stored JSON is unreadable: {e}"))
    }
}

impl From<EhrError> for ContractError {
    fn from(e: EhrError) -> Self {
        let message = e.to_string();
        match e {
            EhrError::BadRequest { .. } => ContractError::bad_request(message),
            EhrError::Forbidden(_) => ContractError::forbidden(message),
            EhrError::NotFound(_) => ContractError::not_found(message),
            EhrError::Conflict(_) => ContractError::conflict(message),
            EhrError::Internal(_) => ContractError::internal(message),
        }
    }
}

/// Result alias for the contract.
pub type Result<T, E = EhrError> = std::result::Result<T, E>;

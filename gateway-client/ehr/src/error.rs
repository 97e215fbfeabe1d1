//! The one error type of the EHR client, with the contract's refusals
//! decoded into a kind ([`Refusal`]). Exit codes and hints are the `ehr`
//! binary's business, not this library's.

use fabric_gateway_client::GatewayError;

use crate::files::FilesError;

/// Everything the EHR client and the `ehr` tool can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EhrClientError {
    /// The ledger call failed (the chaincode's own message comes first).
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The certificate or key is unusable, or the certificate has expired.
    #[error(transparent)]
    Identity(#[from] fabric_identity::IdentityError),
    /// Login against fabric-ca failed.
    #[error(transparent)]
    Ca(#[from] fabric_ca_client::CaError),
    /// Storing or fetching an off-chain file failed.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// The input breaks one of the contract's rules, found before sending.
    #[error(transparent)]
    Invalid(#[from] ehr_api::Invalid),
    /// A chart could not be written as FHIR.
    #[error(transparent)]
    Fhir(#[from] ehr_fhir::FhirError),
    /// Settings are missing or wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// Nothing says where the network is: no settings name it and no
    /// network description (`network.json`) was found.
    #[error("configuration: {0}")]
    NoNetwork(String),
    /// The identity is neither in the wallet nor among the network's users.
    #[error("no identity {identity:?} in the wallet {} nor among the network's users", wallet.display())]
    NotSignedIn {
        /// The label asked for, `user@org`.
        identity: String,
        /// The wallet searched.
        wallet: std::path::PathBuf,
    },
    /// The user's input is unusable.
    #[error("{0}")]
    Usage(String),
    /// The contract answered, but refused what was asked (an access window
    /// not granted): not allowed, like a 403.
    #[error("{0}")]
    Refused(String),
    /// An argument could not be encoded.
    #[error("cannot encode an argument: {0}")]
    Encode(String),
    /// A result could not be decoded.
    #[error("{0}")]
    Decode(String),
    /// Data does not match the hash the ledger keeps.
    #[error("{0}")]
    Integrity(String),
}

/// Results of this crate.
pub type Result<T, E = EhrClientError> = std::result::Result<T, E>;

/// What kind of refusal the contract answered: the chaincode's status
/// (400, 403, 404, 409), decoded here once so that callers match on a kind,
/// not on a number or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The input breaks a rule (400).
    BadInput,
    /// Not allowed (403), or an access window refused.
    Forbidden,
    /// What was named does not exist (404).
    NotFound,
    /// It conflicts with the ledger (409), e.g. a prescription already dispensed.
    Conflict,
}

impl EhrClientError {
    /// The contract's refusal, if that is what this is.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Self::Gateway(e) => match e.chaincode().map(|c| c.status) {
                Some(400) => Some(Refusal::BadInput),
                Some(403) => Some(Refusal::Forbidden),
                Some(404) => Some(Refusal::NotFound),
                Some(409) => Some(Refusal::Conflict),
                _ => None,
            },
            Self::Refused(_) => Some(Refusal::Forbidden),
            _ => None,
        }
    }

    /// Whether the network could not be reached, or a call ran out of time:
    /// worth trying again later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Gateway(e) if e.chaincode().is_none() => matches!(
                e,
                GatewayError::Connect { .. }
                    | GatewayError::Timeout { .. }
                    | GatewayError::Rpc { code: tonic::Code::Unavailable | tonic::Code::DeadlineExceeded, .. }
            ),
            Self::Ca(fabric_ca_client::CaError::Unreachable { .. }) => true,
            _ => false,
        }
    }
}

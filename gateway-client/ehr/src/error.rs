//! The one error type of the EHR client and tool, and the exit codes
//! scripts can rely on.

use fabric_gateway::GatewayError;

use crate::files::FilesError;

/// Everything the EHR client and the `ehr` tool can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EhrClientError {
    /// The ledger call failed (the chaincode's own message comes first).
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Login against fabric-ca failed.
    #[error(transparent)]
    Ca(#[from] fabric_ca_client::CaError),
    /// Storing or fetching an off-chain file failed.
    #[error(transparent)]
    Files(#[from] FilesError),
    /// Settings are missing or wrong.
    #[error("configuration: {0}")]
    Config(String),
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

/// Exit codes of the `ehr` tool (also listed in `ehr --help`).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other failure.
    pub const FAILURE: u8 = 1;
    /// Bad command line or settings (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// The chaincode refused the input (400).
    pub const BAD_INPUT: u8 = 3;
    /// Not allowed (403), or the identity is unusable (expired, wrong key, wrong password).
    pub const FORBIDDEN: u8 = 4;
    /// Not found (404).
    pub const NOT_FOUND: u8 = 5;
    /// Conflict (409), e.g. a prescription already dispensed.
    pub const CONFLICT: u8 = 6;
    /// The network is unreachable or a call timed out.
    pub const UNAVAILABLE: u8 = 7;
    /// Data does not match its hash on the ledger.
    pub const INTEGRITY: u8 = 8;
}

impl EhrClientError {
    /// The exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Gateway(e) => match e.chaincode().map(|c| c.status) {
                Some(400) => exit::BAD_INPUT,
                Some(403) => exit::FORBIDDEN,
                Some(404) => exit::NOT_FOUND,
                Some(409) => exit::CONFLICT,
                Some(_) => exit::FAILURE,
                None => match e {
                    GatewayError::Connect { .. } | GatewayError::Timeout { .. } => exit::UNAVAILABLE,
                    GatewayError::Rpc { code: tonic::Code::Unavailable | tonic::Code::DeadlineExceeded, .. } => {
                        exit::UNAVAILABLE
                    }
                    GatewayError::Identity(_) | GatewayError::IdentityRefused { .. } => exit::FORBIDDEN,
                    GatewayError::Usage(_) => exit::USAGE,
                    _ => exit::FAILURE,
                },
            },
            Self::Ca(fabric_ca_client::CaError::Unreachable { .. }) => exit::UNAVAILABLE,
            Self::Ca(fabric_ca_client::CaError::Config(_)) => exit::USAGE,
            Self::Ca(_) => exit::FORBIDDEN,
            Self::Files(FilesError::HashMismatch { .. } | FilesError::NotEncrypted { .. }) => exit::INTEGRITY,
            Self::Files(_) => exit::FAILURE,
            Self::Config(_) | Self::Usage(_) => exit::USAGE,
            Self::Refused(_) => exit::FORBIDDEN,
            Self::Integrity(_) => exit::INTEGRITY,
            Self::Encode(_) | Self::Decode(_) => exit::FAILURE,
        }
    }

    /// A hint on what to do next, when the failure suggests one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Gateway(GatewayError::Connect { .. }) => {
                Some("is the network up? start it with fabric-network/network.sh up, or set --peer / EHR_PEER")
            }
            Self::Gateway(GatewayError::Rpc { code: tonic::Code::Unavailable, .. }) => {
                Some("the peer went away; check it with fabric-network/network.sh status and try again")
            }
            Self::Gateway(GatewayError::IdentityRefused { .. }) => Some(
                "run `ehr login` again for a fresh certificate, or ask your organisation's admin whether it was revoked",
            ),
            Self::Gateway(GatewayError::Identity(_)) => {
                Some("run `ehr login` again to get a fresh certificate and key")
            }
            _ => None,
        }
    }
}

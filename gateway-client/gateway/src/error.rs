//! The one error type of this crate.
//!
//! A failed gateway call carries, in its gRPC status details, one
//! `gateway.ErrorDetail` per endorser that refused, each with the
//! chaincode's own answer buried in text such as
//! `chaincode response 403, only an attending doctor may update patient P-1`.
//! [`GatewayError::Rpc`] keeps those details and lifts the chaincode's
//! status and message out, so a user reads that sentence and not
//! "see attached details for more info".

use std::fmt;
use std::time::Duration;

use fabric_protos::gateway::ErrorDetail;
use fabric_protos::protos::TxValidationCode;
use prost::Message;

/// The gateway call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `Gateway/Evaluate`.
    Evaluate,
    /// `Gateway/Endorse`.
    Endorse,
    /// `Gateway/Submit`.
    Submit,
    /// `Gateway/CommitStatus`.
    CommitStatus,
    /// `Gateway/ChaincodeEvents`.
    ChaincodeEvents,
    /// `Deliver/Deliver`.
    Deliver,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Evaluate => "evaluate",
            Self::Endorse => "endorse",
            Self::Submit => "submit",
            Self::CommitStatus => "commit status",
            Self::ChaincodeEvents => "chaincode events",
            Self::Deliver => "block delivery",
        })
    }
}

/// What one endorsing peer said when it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorserDetail {
    /// The peer's address.
    pub address: String,
    /// The peer's organisation.
    pub msp_id: String,
    /// The peer's message, usually with the chaincode's answer inside.
    pub message: String,
}

/// The chaincode's own refusal: the status and message its function returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaincodeFailure {
    /// The status the chaincode returned (400..599).
    pub status: i32,
    /// The chaincode's message.
    pub message: String,
}

impl fmt::Display for ChaincodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

/// Everything that can go wrong talking to a Fabric Gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The identity or key is unusable.
    #[error("identity: {0}")]
    Identity(#[from] fabric_identity::IdentityError),
    /// A signature is needed but the gateway was built without a signer.
    #[error("no signer: this gateway was built with an identity only; sign {0} offline and pass the signature in")]
    NoSigner(&'static str),
    /// The gateway endpoint could not be reached or TLS failed.
    #[error("cannot connect to the Fabric gateway at {endpoint}: {message}")]
    Connect {
        /// The endpoint dialled.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// A gateway call failed. When the chaincode refused, its status and
    /// message come first.
    #[error("{}", rpc_message(*call, *code, message, chaincode.as_ref(), details, transaction_id.as_deref()))]
    Rpc {
        /// The call that failed.
        call: Call,
        /// The transaction it was about (none for event and block streams),
        /// to look it up in the peers' logs or ask for its status later.
        transaction_id: Option<String>,
        /// The gRPC status code.
        code: tonic::Code,
        /// The gateway's own message.
        message: String,
        /// One entry per endorser that refused.
        details: Vec<EndorserDetail>,
        /// The chaincode's answer, when one endorser's message carries it.
        chaincode: Option<ChaincodeFailure>,
    },
    /// The peer refused the caller's identity before running anything: the
    /// certificate is expired, revoked, or from a CA the channel does not trust.
    #[error(
        "{call} refused: the peer does not accept this identity ({message}); the certificate may be expired, revoked \
         or issued by a CA the channel does not trust"
    )]
    IdentityRefused {
        /// The call.
        call: Call,
        /// The transaction it was about, if any.
        transaction_id: Option<String>,
        /// The peer's message.
        message: String,
    },
    /// The evaluated function answered with an error status.
    #[error("{failure}")]
    Chaincode {
        /// The status and message the chaincode returned.
        failure: ChaincodeFailure,
        /// The transaction id of the evaluated proposal.
        transaction_id: String,
    },
    /// The transaction was ordered but the peers marked it invalid.
    #[error("transaction {transaction_id} was not committed: {}{}", code_name(*code), hint(*code))]
    Commit {
        /// The transaction id.
        transaction_id: String,
        /// The validation code.
        code: i32,
        /// The block that holds it.
        block_number: u64,
    },
    /// A call did not finish in time.
    #[error("{call} timed out after {after:?}{}", match (call, transaction_id) {
        (Call::CommitStatus, Some(id)) => format!("; the transaction may still commit: check the status of transaction {id} later"),
        _ => String::new(),
    })]
    Timeout {
        /// The call.
        call: Call,
        /// The transaction it was about, if any.
        transaction_id: Option<String>,
        /// The limit.
        after: Duration,
    },
    /// A stream ended early or sent something unexpected.
    #[error("{call} stream: {message}")]
    Stream {
        /// The call.
        call: Call,
        /// What went wrong.
        message: String,
    },
    /// A message from the network could not be decoded.
    #[error("cannot decode {what}: {message}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's message.
        message: String,
    },
    /// A checkpoint file could not be read or written.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The caller passed something unusable.
    #[error("{0}")]
    Usage(String),
}

impl GatewayError {
    /// The chaincode's refusal, when there is one: lets callers map status
    /// 403/404/409 to their own exit codes.
    pub fn chaincode(&self) -> Option<&ChaincodeFailure> {
        match self {
            Self::Rpc { chaincode, .. } => chaincode.as_ref(),
            Self::Chaincode { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// The transaction the failed call was about: what the official clients
    /// report with every endorse, submit and commit error, so that a user can
    /// find it in the peers' logs or ask for its status later.
    pub fn transaction_id(&self) -> Option<&str> {
        match self {
            Self::Rpc { transaction_id, .. }
            | Self::IdentityRefused { transaction_id, .. }
            | Self::Timeout { transaction_id, .. } => transaction_id.as_deref(),
            Self::Chaincode { transaction_id, .. } | Self::Commit { transaction_id, .. } => Some(transaction_id),
            _ => None,
        }
    }

    /// What each endorsing peer said when it refused (empty when the
    /// gateway gave no details).
    pub fn endorsers(&self) -> &[EndorserDetail] {
        match self {
            Self::Rpc { details, .. } => details,
            _ => &[],
        }
    }

    /// True for MVCC and phantom read conflicts, the failures that a retry
    /// with a new transaction id can cure.
    pub fn is_read_conflict(&self) -> bool {
        matches!(self, Self::Commit { code, .. }
            if *code == TxValidationCode::MvccReadConflict as i32 || *code == TxValidationCode::PhantomReadConflict as i32)
    }

    /// Builds the error for a failed gateway call from its gRPC status.
    pub(crate) fn from_status(call: Call, transaction_id: Option<&str>, status: tonic::Status) -> Self {
        let transaction_id = transaction_id.map(str::to_owned);
        let details = endorser_details(&status);
        let refusal = std::iter::once(status.message()).chain(details.iter().map(|d| d.message.as_str())).find(|m| {
            m.contains("access denied: channel")
                || m.contains("creator is malformed")
                || m.contains("identity is expired")
        });
        if let Some(message) = refusal.or((status.code() == tonic::Code::PermissionDenied).then(|| status.message())) {
            let message = message.rsplit("error validating proposal: ").next().unwrap_or(message).to_owned();
            return Self::IdentityRefused { call, transaction_id, message };
        }
        let chaincode =
            details.iter().find_map(|d| chaincode_failure(&d.message)).or_else(|| chaincode_failure(status.message()));
        Self::Rpc {
            call,
            transaction_id,
            code: status.code(),
            message: status.message().to_owned(),
            details,
            chaincode,
        }
    }

    pub(crate) fn decode(what: &'static str, err: impl fmt::Display) -> Self {
        Self::Decode { what, message: err.to_string() }
    }
}

fn rpc_message(
    call: Call,
    code: tonic::Code,
    message: &str,
    chaincode: Option<&ChaincodeFailure>,
    details: &[EndorserDetail],
    transaction_id: Option<&str>,
) -> String {
    if let Some(failure) = chaincode {
        return failure.to_string();
    }
    let of = transaction_id.map(|id| format!(" of transaction {id}")).unwrap_or_default();
    let mut text = match code {
        tonic::Code::Unavailable => format!("{call}{of} failed: the gateway peer is unavailable ({message})"),
        _ => format!("{call}{of} failed ({code:?}): {message}"),
    };
    for d in details {
        text.push_str(&format!("\n  {} ({}): {}", d.address, d.msp_id, d.message));
    }
    text
}

fn code_name(code: i32) -> String {
    TxValidationCode::try_from(code).map(|c| c.as_str_name().to_owned()).unwrap_or_else(|_| format!("code {code}"))
}

fn hint(code: i32) -> &'static str {
    if code == TxValidationCode::MvccReadConflict as i32 || code == TxValidationCode::PhantomReadConflict as i32 {
        " (another transaction changed the same data first; submit again)"
    } else if code == TxValidationCode::EndorsementPolicyFailure as i32 {
        " (not enough organisations endorsed; name more endorsing organisations)"
    } else {
        ""
    }
}

/// Reads the `gateway.ErrorDetail` entries out of a status's details.
fn endorser_details(status: &tonic::Status) -> Vec<EndorserDetail> {
    let Ok(rpc) = tonic_types::pb::Status::decode(status.details()) else {
        return Vec::new();
    };
    rpc.details
        .iter()
        .filter(|any| any.type_url.ends_with("gateway.ErrorDetail"))
        .filter_map(|any| ErrorDetail::decode(any.value.as_slice()).ok())
        .map(|d| EndorserDetail { address: d.address, msp_id: d.msp_id, message: d.message })
        .collect()
}

/// Finds `chaincode response <status>, <message>` in a peer's message.
pub(crate) fn chaincode_failure(text: &str) -> Option<ChaincodeFailure> {
    const MARK: &str = "chaincode response ";
    let at = text.find(MARK)? + MARK.len();
    let rest = &text[at..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let status = rest[..digits].parse().ok()?;
    let message = rest[digits..].strip_prefix(", ").unwrap_or(&rest[digits..]).trim().to_owned();
    Some(ChaincodeFailure { status, message })
}

/// Results of this crate.
pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn status_with(details: Vec<ErrorDetail>) -> tonic::Status {
        let rpc = tonic_types::pb::Status {
            code: tonic::Code::Aborted as i32,
            message: "failed to endorse transaction, see attached details for more info".into(),
            details: details
                .into_iter()
                .map(|d| prost_types::Any {
                    type_url: "type.googleapis.com/gateway.ErrorDetail".into(),
                    value: d.encode_to_vec(),
                })
                .collect(),
        };
        tonic::Status::with_details(
            tonic::Code::Aborted,
            "failed to endorse transaction, see attached details for more info",
            rpc.encode_to_vec().into(),
        )
    }

    #[test]
    fn the_chaincode_message_replaces_see_attached_details() {
        let status = status_with(vec![ErrorDetail {
            address: "127.0.0.1:7051".into(),
            msp_id: "HospitalAMSP".into(),
            message: "chaincode response 403, only an attending doctor may update patient P-1".into(),
        }]);
        let err = GatewayError::from_status(Call::Endorse, Some("tx1"), status);
        assert_eq!(err.to_string(), "403: only an attending doctor may update patient P-1");
        let GatewayError::Rpc { details, code, .. } = &err else { panic!("{err:?}") };
        assert_eq!(*code, tonic::Code::Aborted);
        assert_eq!(details[0].msp_id, "HospitalAMSP");
        assert_eq!(details[0].address, "127.0.0.1:7051");
        assert_eq!(err.chaincode().map(|c| c.status), Some(403));
        assert_eq!(err.transaction_id(), Some("tx1"));
        assert_eq!(err.endorsers(), details.as_slice());
    }

    #[test]
    fn without_a_chaincode_answer_every_endorser_is_listed() {
        let status = status_with(vec![
            ErrorDetail { address: "a:1".into(), msp_id: "A".into(), message: "access denied".into() },
            ErrorDetail { address: "b:2".into(), msp_id: "B".into(), message: "timeout".into() },
        ]);
        let text = GatewayError::from_status(Call::Endorse, Some("tx1"), status).to_string();
        assert!(text.contains("a:1 (A): access denied") && text.contains("b:2 (B): timeout"), "{text}");
        assert!(text.starts_with("endorse of transaction tx1 failed"), "{text}");
    }

    #[test]
    fn evaluate_errors_carry_the_status_in_the_message() {
        let status =
            tonic::Status::unknown("evaluate call to endorser returned error: chaincode response 404, no patient P-9");
        let err = GatewayError::from_status(Call::Evaluate, Some("tx1"), status);
        assert_eq!(err.to_string(), "404: no patient P-9");
    }

    #[test]
    fn a_refused_identity_is_named_as_such() {
        let status = status_with(vec![ErrorDetail {
            address: "127.0.0.1:7051".into(),
            msp_id: "HospitalAMSP".into(),
            message: "error validating proposal: access denied: channel [ehr] creator org [HospitalAMSP]".into(),
        }]);
        let err = GatewayError::from_status(Call::Endorse, Some("tx1"), status);
        assert!(matches!(err, GatewayError::IdentityRefused { .. }), "{err:?}");
        assert!(err.to_string().contains("does not accept this identity (access denied: channel [ehr]"), "{err}");
        let denied = GatewayError::from_status(Call::ChaincodeEvents, None, tonic::Status::permission_denied("policy"));
        assert!(matches!(denied, GatewayError::IdentityRefused { .. }), "{denied:?}");
        assert_eq!((err.transaction_id(), denied.transaction_id()), (Some("tx1"), None));
    }

    #[test]
    fn conflicts_are_retryable_and_named() {
        let err = GatewayError::Commit {
            transaction_id: "t".into(),
            code: TxValidationCode::MvccReadConflict as i32,
            block_number: 4,
        };
        assert!(err.is_read_conflict());
        assert!(err.to_string().contains("MVCC_READ_CONFLICT"), "{err}");
        let other = GatewayError::Commit { transaction_id: "t".into(), code: 10, block_number: 4 };
        assert!(!other.is_read_conflict());
    }
}

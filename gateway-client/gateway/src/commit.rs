//! Waiting for a submitted transaction to be committed, and learning whether
//! the peers found it valid.

use std::time::Duration;

use fabric_protos::gateway::{CommitStatusRequest, SignedCommitStatusRequest};
use fabric_protos::protos::TxValidationCode;
use prost::Message;

use crate::error::{Call, GatewayError, Result};
use crate::gateway::Gateway;
use crate::proposal::with_timeout;
use fabric_identity::digest;

/// A handle on a submitted transaction's commit.
#[derive(Debug, Clone)]
pub struct Commit {
    gateway: Gateway,
    transaction_id: String,
    signed: SignedCommitStatusRequest,
    timeout: Option<Duration>,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The validation code (`VALID` = 0).
    pub code: i32,
    /// The block that holds the transaction.
    pub block_number: u64,
}

impl Status {
    /// True when the transaction's writes took effect.
    pub fn successful(&self) -> bool {
        self.code == TxValidationCode::Valid as i32
    }
}

/// A status with its transaction id, so that failures can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    /// The transaction id.
    pub transaction_id: String,
    /// The outcome.
    pub status: Status,
}

impl CommitStatus {
    /// Turns an invalid transaction into an error naming its code.
    pub fn ensure_committed(self) -> Result<Status> {
        if self.status.successful() {
            Ok(self.status)
        } else {
            Err(GatewayError::Commit {
                transaction_id: self.transaction_id,
                code: self.status.code,
                block_number: self.status.block_number,
            })
        }
    }
}

impl Commit {
    pub(crate) fn new(
        gateway: Gateway,
        channel: String,
        transaction_id: String,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        let request = CommitStatusRequest {
            transaction_id: transaction_id.clone(),
            channel_id: channel,
            identity: gateway.identity().to_bytes(),
        }
        .encode_to_vec();
        let signature = if gateway.has_signer() {
            gateway.sign_digest("the commit status request", &digest(&request))?
        } else {
            Vec::new()
        };
        Ok(Self { gateway, transaction_id, signed: SignedCommitStatusRequest { request, signature }, timeout })
    }

    /// A handle for any transaction id on `channel`, e.g. one submitted
    /// before a restart.
    pub fn for_transaction(gateway: &Gateway, channel: &str, transaction_id: &str) -> Result<Self> {
        Self::new(gateway.clone(), channel.to_owned(), transaction_id.to_owned(), None)
    }

    /// Rebuilds a handle from [`Commit::bytes`] and a signature made elsewhere.
    pub fn with_signature(gateway: &Gateway, bytes: &[u8], signature: Vec<u8>) -> Result<Self> {
        let mut signed =
            SignedCommitStatusRequest::decode(bytes).map_err(|e| GatewayError::decode("a commit status request", e))?;
        let request = CommitStatusRequest::decode(signed.request.as_slice())
            .map_err(|e| GatewayError::decode("a commit status request", e))?;
        signed.signature = signature;
        Ok(Self { gateway: gateway.clone(), transaction_id: request.transaction_id, signed, timeout: None })
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> &str {
        &self.transaction_id
    }

    /// How long [`Commit::status`] waits, instead of the gateway's default.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The serialised request (a `gateway.SignedCommitStatusRequest`), for an offline signer.
    pub fn bytes(&self) -> Vec<u8> {
        self.signed.encode_to_vec()
    }

    /// The SHA-256 digest the signature must cover.
    pub fn digest(&self) -> Vec<u8> {
        digest(&self.signed.request)
    }

    /// Waits until the transaction is in a block and says whether it is valid.
    pub async fn status(&self) -> Result<CommitStatus> {
        if self.signed.signature.is_empty() {
            return Err(GatewayError::NoSigner("the commit status request"));
        }
        let limit = self.timeout.unwrap_or(self.gateway.timeouts().commit_status);
        let response = with_timeout(
            Call::CommitStatus,
            &self.transaction_id,
            limit,
            self.gateway.client().commit_status(self.signed.clone()),
        )
        .await?;
        let response = response.into_inner();
        Ok(CommitStatus {
            transaction_id: self.transaction_id.clone(),
            status: Status { code: response.result, block_number: response.block_number },
        })
    }
}

//! An endorsed transaction: its result is known; it still has to be signed,
//! ordered and committed.

use std::time::Duration;

use fabric_protos::common::{Envelope, Payload};
use fabric_protos::gateway::{PreparedTransaction, SubmitRequest};
use fabric_protos::protos::{
    ChaincodeAction, ChaincodeActionPayload, ProposalResponsePayload, Transaction as TransactionMessage,
};
use prost::Message;

use crate::commit::Commit;
use crate::error::{Call, GatewayError, Result};
use crate::gateway::Gateway;
use crate::proposal::with_timeout;
use fabric_identity::digest;

/// An endorsed transaction, signed when the gateway has a signer.
#[derive(Debug, Clone)]
pub struct Transaction {
    gateway: Gateway,
    channel: String,
    prepared: PreparedTransaction,
    result: Vec<u8>,
    timeout: Option<Duration>,
}

impl Transaction {
    pub(crate) fn new(
        gateway: Gateway,
        channel: String,
        transaction_id: String,
        mut envelope: Envelope,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        let result = transaction_result(&envelope.payload)?;
        if gateway.has_signer() {
            envelope.signature = gateway.sign_digest("the transaction", &digest(&envelope.payload))?;
        }
        Ok(Self {
            gateway,
            channel,
            prepared: PreparedTransaction { transaction_id, envelope: Some(envelope) },
            result,
            timeout,
        })
    }

    /// Rebuilds a transaction from [`Transaction::bytes`] and a signature made elsewhere.
    pub fn with_signature(gateway: &Gateway, bytes: &[u8], signature: Vec<u8>) -> Result<Self> {
        let mut prepared =
            PreparedTransaction::decode(bytes).map_err(|e| GatewayError::decode("a prepared transaction", e))?;
        let envelope = prepared
            .envelope
            .as_mut()
            .ok_or_else(|| GatewayError::Usage("the transaction bytes hold no envelope".into()))?;
        envelope.signature = signature;
        let result = transaction_result(&envelope.payload)?;
        let channel = channel_of(&envelope.payload)?;
        Ok(Self { gateway: gateway.clone(), channel, prepared, result, timeout: None })
    }

    /// The function's result, as the endorsers computed it.
    pub fn result(&self) -> &[u8] {
        &self.result
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> &str {
        &self.prepared.transaction_id
    }

    /// The serialised transaction (a `gateway.PreparedTransaction`), for an offline signer.
    pub fn bytes(&self) -> Vec<u8> {
        self.prepared.encode_to_vec()
    }

    /// The SHA-256 digest the signature must cover.
    pub fn digest(&self) -> Vec<u8> {
        digest(self.prepared.envelope.as_ref().map(|e| e.payload.as_slice()).unwrap_or_default())
    }

    /// Sends the transaction to the orderers. It returns once ordering has
    /// accepted it; wait on [`SubmittedTransaction::commit`] for the block.
    pub async fn submit(self) -> Result<SubmittedTransaction> {
        let envelope = match &self.prepared.envelope {
            Some(e) if !e.signature.is_empty() => e.clone(),
            _ => return Err(GatewayError::NoSigner("the transaction")),
        };
        let limit = self.timeout.unwrap_or(self.gateway.timeouts().submit);
        let request = SubmitRequest {
            transaction_id: self.prepared.transaction_id.clone(),
            channel_id: self.channel.clone(),
            prepared_transaction: Some(envelope),
        };
        with_timeout(Call::Submit, &self.prepared.transaction_id, limit, self.gateway.client().submit(request)).await?;
        let commit = Commit::new(
            self.gateway.clone(),
            self.channel.clone(),
            self.prepared.transaction_id.clone(),
            self.timeout,
        )?;
        Ok(SubmittedTransaction { result: self.result, commit })
    }
}

/// A transaction handed to the orderers: its result, and a handle to learn
/// whether it committed.
#[derive(Debug, Clone)]
pub struct SubmittedTransaction {
    result: Vec<u8>,
    commit: Commit,
}

impl SubmittedTransaction {
    /// The function's result.
    pub fn result(&self) -> &[u8] {
        &self.result
    }

    /// Consumes the handle, keeping the result.
    pub fn into_result(self) -> Vec<u8> {
        self.result
    }

    /// The commit handle.
    pub fn commit(&self) -> &Commit {
        &self.commit
    }
}

fn channel_of(payload: &[u8]) -> Result<String> {
    let payload = Payload::decode(payload).map_err(|e| GatewayError::decode("a transaction payload", e))?;
    let header = payload.header.unwrap_or_default();
    let channel_header = fabric_protos::common::ChannelHeader::decode(header.channel_header.as_slice())
        .map_err(|e| GatewayError::decode("a channel header", e))?;
    Ok(channel_header.channel_id)
}

/// Digs the chaincode's response payload out of an endorsed envelope:
/// Payload → Transaction → action → ChaincodeActionPayload → proposal
/// response payload → ChaincodeAction → Response.
fn transaction_result(payload: &[u8]) -> Result<Vec<u8>> {
    let payload = Payload::decode(payload).map_err(|e| GatewayError::decode("a transaction payload", e))?;
    let transaction =
        TransactionMessage::decode(payload.data.as_slice()).map_err(|e| GatewayError::decode("a transaction", e))?;
    let Some(action) = transaction.actions.first() else {
        return Err(GatewayError::decode("a transaction", "it has no actions"));
    };
    let action_payload = ChaincodeActionPayload::decode(action.payload.as_slice())
        .map_err(|e| GatewayError::decode("a chaincode action payload", e))?;
    let endorsed = action_payload
        .action
        .ok_or_else(|| GatewayError::decode("a chaincode action payload", "it has no endorsed action"))?;
    let response_payload = ProposalResponsePayload::decode(endorsed.proposal_response_payload.as_slice())
        .map_err(|e| GatewayError::decode("a proposal response payload", e))?;
    let chaincode_action = ChaincodeAction::decode(response_payload.extension.as_slice())
        .map_err(|e| GatewayError::decode("a chaincode action", e))?;
    Ok(chaincode_action.response.map(|r| r.payload).unwrap_or_default())
}

//! Building and signing a transaction proposal, then evaluating or endorsing it.

use std::collections::BTreeMap;
use std::time::Duration;

use fabric_protos::common::{ChannelHeader, Header, HeaderType};
use fabric_protos::gateway::{EndorseRequest, EvaluateRequest, ProposedTransaction};
use fabric_protos::protos::{
    ChaincodeHeaderExtension, ChaincodeId, ChaincodeInput, ChaincodeInvocationSpec, ChaincodeProposalPayload,
    ChaincodeSpec, Proposal as ProposalMessage, SignedProposal, chaincode_spec,
};
use prost::Message;

use crate::error::{Call, GatewayError, Result};
use crate::gateway::Gateway;
use crate::header::new_header;
use crate::transaction::Transaction;
use fabric_identity::digest;

/// What a call carries besides its function name.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProposalOptions {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) transient: BTreeMap<String, Vec<u8>>,
    pub(crate) organizations: Vec<String>,
    pub(crate) timeout: Option<Duration>,
}

/// A proposal ready to evaluate or endorse. Without a signer on the gateway
/// it is unsigned: hand [`Proposal::digest`] to the signer elsewhere and
/// come back through [`Proposal::with_signature`].
#[derive(Debug, Clone)]
pub struct Proposal {
    gateway: Gateway,
    channel: String,
    proposed: ProposedTransaction,
    timeout: Option<Duration>,
}

impl Proposal {
    pub(crate) fn new(
        gateway: Gateway,
        channel: &str,
        chaincode: &str,
        function: &str,
        options: ProposalOptions,
    ) -> Result<Self> {
        if function.is_empty() {
            return Err(GatewayError::Usage("the function name is empty".into()));
        }
        let chaincode_id = ChaincodeId { name: chaincode.to_owned(), ..Default::default() };
        let extension = ChaincodeHeaderExtension { chaincode_id: Some(chaincode_id.clone()) }.encode_to_vec();
        let (transaction_id, header) =
            new_header(gateway.identity(), HeaderType::EndorserTransaction, channel, extension);
        let mut args = vec![function.as_bytes().to_vec()];
        args.extend(options.args);
        let invocation = ChaincodeInvocationSpec {
            chaincode_spec: Some(ChaincodeSpec {
                r#type: chaincode_spec::Type::Undefined as i32,
                chaincode_id: Some(chaincode_id),
                input: Some(ChaincodeInput { args, ..Default::default() }),
                ..Default::default()
            }),
        };
        let payload = ChaincodeProposalPayload {
            input: invocation.encode_to_vec(),
            transient_map: options.transient.into_iter().collect(),
        };
        let proposal_bytes =
            ProposalMessage { header: header.encode_to_vec(), payload: payload.encode_to_vec(), ..Default::default() }
                .encode_to_vec();
        let signature = if gateway.has_signer() {
            gateway.sign_digest("the proposal", &digest(&proposal_bytes))?
        } else {
            Vec::new()
        };
        Ok(Self {
            gateway,
            channel: channel.to_owned(),
            proposed: ProposedTransaction {
                transaction_id,
                proposal: Some(SignedProposal { proposal_bytes, signature }),
                endorsing_organizations: options.organizations,
            },
            timeout: options.timeout,
        })
    }

    /// Rebuilds a proposal from [`Proposal::bytes`] and a signature made elsewhere.
    pub fn with_signature(gateway: &Gateway, bytes: &[u8], signature: Vec<u8>) -> Result<Self> {
        let mut proposed =
            ProposedTransaction::decode(bytes).map_err(|e| GatewayError::decode("a proposed transaction", e))?;
        let signed = proposed
            .proposal
            .as_mut()
            .ok_or_else(|| GatewayError::Usage("the proposal bytes hold no signed proposal".into()))?;
        signed.signature = signature;
        let proposal = ProposalMessage::decode(signed.proposal_bytes.as_slice())
            .map_err(|e| GatewayError::decode("a proposal", e))?;
        let header = Header::decode(proposal.header.as_slice()).map_err(|e| GatewayError::decode("a header", e))?;
        let channel_header = ChannelHeader::decode(header.channel_header.as_slice())
            .map_err(|e| GatewayError::decode("a channel header", e))?;
        Ok(Self { gateway: gateway.clone(), channel: channel_header.channel_id, proposed, timeout: None })
    }

    /// The transaction id, known before anything is sent.
    pub fn transaction_id(&self) -> &str {
        &self.proposed.transaction_id
    }

    /// The serialised proposal (a `gateway.ProposedTransaction`), to carry to
    /// an offline signer and back.
    pub fn bytes(&self) -> Vec<u8> {
        self.proposed.encode_to_vec()
    }

    /// The SHA-256 digest the signature must cover.
    pub fn digest(&self) -> Vec<u8> {
        digest(self.signed().map(|s| s.proposal_bytes.as_slice()).unwrap_or_default())
    }

    fn signed(&self) -> Option<&SignedProposal> {
        self.proposed.proposal.as_ref()
    }

    fn signed_proposal(&self) -> Result<SignedProposal> {
        match self.signed() {
            Some(s) if !s.signature.is_empty() => Ok(s.clone()),
            _ => Err(GatewayError::NoSigner("the proposal")),
        }
    }

    /// Runs the proposal on a peer and returns the function's result;
    /// nothing is ordered or written.
    pub async fn evaluate(&self) -> Result<Vec<u8>> {
        let limit = self.timeout.unwrap_or(self.gateway.timeouts().evaluate);
        let request = EvaluateRequest {
            transaction_id: self.proposed.transaction_id.clone(),
            channel_id: self.channel.clone(),
            proposed_transaction: Some(self.signed_proposal()?),
            target_organizations: self.proposed.endorsing_organizations.clone(),
        };
        let response =
            with_timeout(Call::Evaluate, &self.proposed.transaction_id, limit, self.gateway.client().evaluate(request))
                .await?;
        let result = response
            .into_inner()
            .result
            .ok_or_else(|| GatewayError::decode("an evaluate response", "it holds no result"))?;
        if result.status >= 400 {
            return Err(GatewayError::Chaincode {
                failure: crate::error::ChaincodeFailure { status: result.status, message: result.message },
                transaction_id: self.proposed.transaction_id.clone(),
            });
        }
        Ok(result.payload)
    }

    /// Collects endorsements; the answer is a transaction ready to sign and submit.
    pub async fn endorse(&self) -> Result<Transaction> {
        let limit = self.timeout.unwrap_or(self.gateway.timeouts().endorse);
        let request = EndorseRequest {
            transaction_id: self.proposed.transaction_id.clone(),
            channel_id: self.channel.clone(),
            proposed_transaction: Some(self.signed_proposal()?),
            endorsing_organizations: self.proposed.endorsing_organizations.clone(),
        };
        let response =
            with_timeout(Call::Endorse, &self.proposed.transaction_id, limit, self.gateway.client().endorse(request))
                .await?;
        let envelope = response
            .into_inner()
            .prepared_transaction
            .ok_or_else(|| GatewayError::decode("an endorse response", "it holds no transaction"))?;
        Transaction::new(
            self.gateway.clone(),
            self.channel.clone(),
            self.proposed.transaction_id.clone(),
            envelope,
            self.timeout,
        )
    }
}

/// Runs a gateway call under a time limit, as a gRPC deadline (so the peer
/// stops too) and as a local timer (so a silent peer cannot hang us).
pub(crate) async fn with_timeout<T>(
    call: Call,
    transaction_id: &str,
    limit: Duration,
    fut: impl std::future::Future<Output = std::result::Result<T, tonic::Status>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(status)) if status.code() == tonic::Code::DeadlineExceeded => {
            Err(GatewayError::Timeout { call, transaction_id: Some(transaction_id.to_owned()), after: limit })
        }
        Ok(Err(status)) => Err(GatewayError::from_status(call, Some(transaction_id), status)),
        Err(_) => Err(GatewayError::Timeout { call, transaction_id: Some(transaction_id.to_owned()), after: limit }),
    }
}

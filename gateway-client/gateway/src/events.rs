//! Chaincode events as they are committed, from a chosen block or from a
//! checkpoint.

use fabric_protos::gateway::{ChaincodeEventsRequest, SignedChaincodeEventsRequest};
use fabric_protos::orderer::{SeekNextCommit, SeekPosition, SeekSpecified, seek_position};
use futures::StreamExt;
use futures::stream::BoxStream;
use prost::Message;

use crate::checkpoint::Position;
use crate::error::{Call, GatewayError, Result};
use crate::network::Network;
use fabric_identity::digest;

/// One chaincode event, with where it was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaincodeEvent {
    /// The block that committed the transaction.
    pub block_number: u64,
    /// The transaction that emitted the event.
    pub transaction_id: String,
    /// The chaincode.
    pub chaincode_name: String,
    /// The event's name.
    pub event_name: String,
    /// The event's payload.
    pub payload: Vec<u8>,
}

/// A stream of events; it ends with an error when the peer goes away, after
/// which the listener reopens from its checkpoint.
pub type EventStream<T> = BoxStream<'static, Result<T>>;

/// Starts a server-streaming call in its own task and returns its messages,
/// with a failure to open as the first item. Fabric's services send response
/// headers only with the first message, so awaiting the call in place would
/// block until something is committed; spawning sends the request now (so
/// "from the next commit" means now) without waiting for an answer.
pub(crate) fn spawn_stream<M, F>(call: F) -> BoxStream<'static, std::result::Result<M, tonic::Status>>
where
    M: Send + 'static,
    F: std::future::Future<Output = std::result::Result<tonic::Response<tonic::Streaming<M>>, tonic::Status>>
        + Send
        + 'static,
{
    let call = tokio::spawn(call);
    futures::stream::once(async move {
        match call.await {
            Ok(Ok(response)) => response.into_inner().left_stream(),
            Ok(Err(status)) => futures::stream::iter([Err(status)]).right_stream(),
            Err(join) => futures::stream::iter([Err(tonic::Status::cancelled(join.to_string()))]).right_stream(),
        }
    })
    .flatten()
    .boxed()
}

/// Where a stream starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Start {
    /// Only events committed from now on.
    #[default]
    NextCommit,
    /// Every event from this block on.
    Block(u64),
    /// Resume after a checkpointed position.
    After(Position),
}

impl Start {
    /// Resumes from `position` when there is one, else starts as `otherwise`.
    pub fn resume(position: Option<Position>, otherwise: Start) -> Start {
        position.map(Start::After).unwrap_or(otherwise)
    }

    pub(crate) fn seek(&self) -> (SeekPosition, String) {
        let specified = |number| seek_position::Type::Specified(SeekSpecified { number });
        let (kind, after) = match self {
            Start::NextCommit => (seek_position::Type::NextCommit(SeekNextCommit {}), String::new()),
            Start::Block(n) => (specified(*n), String::new()),
            Start::After(p) => (specified(p.block_number), p.transaction_id.clone().unwrap_or_default()),
        };
        (SeekPosition { r#type: Some(kind) }, after)
    }
}

impl Network {
    /// Opens a stream of `chaincode`'s events on this channel.
    pub async fn chaincode_events(&self, chaincode: &str, start: Start) -> Result<EventStream<ChaincodeEvent>> {
        let (start_position, after_transaction_id) = start.seek();
        let request = ChaincodeEventsRequest {
            channel_id: self.name().to_owned(),
            chaincode_id: chaincode.to_owned(),
            identity: self.gateway().identity().to_bytes(),
            start_position: Some(start_position),
            after_transaction_id,
        }
        .encode_to_vec();
        let signature = self.gateway().sign_digest("the chaincode events request", &digest(&request))?;
        let mut client = self.gateway().client();
        let response =
            spawn_stream(
                async move { client.chaincode_events(SignedChaincodeEventsRequest { request, signature }).await },
            );
        let stream = response.flat_map(|item| {
            let events: Vec<Result<ChaincodeEvent>> = match item {
                Ok(block) => block
                    .events
                    .into_iter()
                    .map(|e| {
                        Ok(ChaincodeEvent {
                            block_number: block.block_number,
                            transaction_id: e.tx_id,
                            chaincode_name: e.chaincode_id,
                            event_name: e.event_name,
                            payload: e.payload,
                        })
                    })
                    .collect(),
                Err(status) => vec![Err(GatewayError::from_status(Call::ChaincodeEvents, None, status))],
            };
            futures::stream::iter(events)
        });
        Ok(stream.boxed())
    }
}

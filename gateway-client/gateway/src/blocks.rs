//! Whole blocks as the peer commits them, through the peer's Deliver service.

use fabric_protos::common::{Block, Envelope, HeaderType, Payload};
use fabric_protos::orderer::{SeekInfo, SeekPosition, SeekSpecified, seek_info, seek_position};
use fabric_protos::protos::deliver_response;
use futures::StreamExt;
use prost::Message;

use crate::error::{Call, GatewayError, Result};
use crate::events::{EventStream, Start, spawn_stream};
use crate::header::new_header;
use crate::network::Network;
use fabric_identity::digest;

impl Network {
    /// Opens a stream of committed blocks on this channel. Resuming from a
    /// position starts at its block (block-level checkpoints record the next
    /// block to read, see [`crate::Checkpointer::checkpoint_block`]).
    pub async fn block_events(&self, start: Start) -> Result<EventStream<Block>> {
        let (start, _) = start.seek();
        let seek = SeekInfo {
            start: Some(start),
            stop: Some(SeekPosition {
                r#type: Some(seek_position::Type::Specified(SeekSpecified { number: u64::MAX })),
            }),
            behavior: seek_info::SeekBehavior::BlockUntilReady as i32,
            ..Default::default()
        };
        let envelope = self.signed_envelope(seek.encode_to_vec())?;
        // Keep the request stream open: the peer serves one seek per request
        // and a closed request stream would end the delivery.
        let requests = futures::stream::once(async move { envelope }).chain(futures::stream::pending());
        let mut client = self.gateway().deliver();
        let response = spawn_stream(async move { client.deliver(requests).await });
        let stream = response.map(|item| match item {
            Ok(response) => match response.r#type {
                Some(deliver_response::Type::Block(block)) => Ok(Some(block)),
                Some(deliver_response::Type::Status(code)) => Err(GatewayError::Stream {
                    call: Call::Deliver,
                    message: format!("the peer ended delivery with status {code}"),
                }),
                _ => Ok(None),
            },
            Err(status) => Err(GatewayError::from_status(Call::Deliver, None, status)),
        });
        Ok(stream.filter_map(|r| async move { r.transpose() }).boxed())
    }

    fn signed_envelope(&self, data: Vec<u8>) -> Result<Envelope> {
        let (_, header) = new_header(self.gateway().identity(), HeaderType::DeliverSeekInfo, self.name(), Vec::new());
        let payload = Payload { header: Some(header), data }.encode_to_vec();
        let signature = self.gateway().sign_digest("the block delivery request", &digest(&payload))?;
        Ok(Envelope { payload, signature })
    }
}

//! The header every signed message to a peer starts with: a channel header
//! (type, channel, transaction id, time) and a signature header (creator,
//! fresh nonce). Proposals and Deliver requests build it the same way.

use std::time::{SystemTime, UNIX_EPOCH};

use fabric_protos::common::{ChannelHeader, Header, HeaderType, SignatureHeader};
use prost::Message;
use rand_core::{OsRng, RngCore};

use fabric_identity::{Identity, digest};

/// A fresh header for `identity` on `channel`, and its transaction id
/// (hex SHA-256 of nonce ‖ creator, as the peer recomputes it).
pub(crate) fn new_header(identity: &Identity, kind: HeaderType, channel: &str, extension: Vec<u8>) -> (String, Header) {
    let creator = identity.to_bytes();
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let transaction_id = hex::encode(digest(&[nonce.as_slice(), &creator].concat()));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let channel_header = ChannelHeader {
        r#type: kind as i32,
        channel_id: channel.to_owned(),
        tx_id: transaction_id.clone(),
        timestamp: Some(prost_types::Timestamp { seconds: now.as_secs() as i64, nanos: now.subsec_nanos() as i32 }),
        extension,
        ..Default::default()
    };
    let header = Header {
        channel_header: channel_header.encode_to_vec(),
        signature_header: SignatureHeader { creator, nonce: nonce.to_vec() }.encode_to_vec(),
    };
    (transaction_id, header)
}

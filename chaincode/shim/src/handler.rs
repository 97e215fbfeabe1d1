//! The chaincode side of one `Chaincode/Connect` stream: all protocol state.
//!
//! One reader task owns the handshake state and dispatches each message; every
//! transaction runs in a task of its own; replies from the peer are routed to
//! the waiting transaction through one map keyed by (channel, tx id). Only
//! [`Handler::send`] writes to the stream, through one channel, so there is a
//! single writer however many transactions run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock};

use fabric_protos::common::{ChannelHeader, Header, HeaderType, SignatureHeader};
use fabric_protos::protos::chaincode_message::Type as MsgType;
use fabric_protos::protos::{
    ChaincodeAdditionalParams, ChaincodeId, ChaincodeInput, ChaincodeMessage, ChaincodeProposalPayload, Proposal,
    SignedProposal,
};
use futures::FutureExt;
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::{Status, Streaming};
use tracing::{debug, error, info, warn};

use crate::chaincode::Chaincode;
use crate::error::{Error, Result, short_tx};
use crate::peer_ledger::PeerLedger;
use crate::response::{Response, status};
use crate::stub::{Stub, Timestamp, TxContext};

/// Batch sizes below this are raised to it, as the official shims do.
const MIN_BATCH_SIZE: u32 = 100;

/// What the peer offered in its READY message (Fabric 3.1+).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PeerFeatures {
    /// Send writes in WRITE_BATCH_STATE messages of at most this many records.
    pub(crate) write_batch: Option<u32>,
    /// Read keys with GET_STATE_MULTIPLE, at most this many per message.
    pub(crate) get_multiple: Option<u32>,
}

impl PeerFeatures {
    fn from_ready_payload(payload: &[u8]) -> Result<Self> {
        if payload.is_empty() {
            return Ok(Self::default());
        }
        let p = ChaincodeAdditionalParams::decode(payload)
            .map_err(|e| Error::Protocol(format!("READY payload is not ChaincodeAdditionalParams: {e}")))?;
        Ok(Self {
            write_batch: p.use_write_batch.then(|| p.max_size_write_batch.max(MIN_BATCH_SIZE)),
            get_multiple: p.use_get_multiple_keys.then(|| p.max_size_get_multiple_keys.max(MIN_BATCH_SIZE)),
        })
    }
}

/// Handshake state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// REGISTER sent, waiting for REGISTERED.
    Created,
    /// Waiting for READY.
    Established,
    /// Serving transactions.
    Ready,
}

/// Identifies a transaction on a stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TxKey {
    channel_id: String,
    tx_id: String,
}

impl TxKey {
    pub(crate) fn new(channel_id: &str, tx_id: &str) -> Self {
        Self { channel_id: channel_id.to_owned(), tx_id: tx_id.to_owned() }
    }
}

pub(crate) type Outbound = mpsc::Sender<Result<ChaincodeMessage, Status>>;

/// Protocol state of one stream.
pub(crate) struct Handler {
    outbound: Outbound,
    chaincode: Arc<dyn Chaincode>,
    pending: Mutex<HashMap<TxKey, oneshot::Sender<ChaincodeMessage>>>,
    in_flight: Mutex<HashSet<TxKey>>,
    features: OnceLock<PeerFeatures>,
    tracker: TaskTracker,
}

/// What ends the read loop.
enum Flow {
    Continue,
    Close,
}

impl Handler {
    pub(crate) fn new(outbound: Outbound, chaincode: Arc<dyn Chaincode>) -> Arc<Self> {
        Arc::new(Self {
            outbound,
            chaincode,
            pending: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashSet::new()),
            features: OnceLock::new(),
            tracker: TaskTracker::new(),
        })
    }

    /// Features the peer offered; none before READY.
    pub(crate) fn features(&self) -> PeerFeatures {
        self.features.get().copied().unwrap_or_default()
    }

    /// Speaks first (REGISTER with the package id), then serves the stream until
    /// the peer closes it or `shutdown` fires; on shutdown, refuses new
    /// transactions and returns once the running ones have answered.
    pub(crate) async fn run(
        self: Arc<Self>,
        ccid: String,
        mut inbound: Streaming<ChaincodeMessage>,
        shutdown: CancellationToken,
    ) {
        let register = ChaincodeMessage {
            r#type: MsgType::Register as i32,
            payload: ChaincodeId { name: ccid.clone(), ..Default::default() }.encode_to_vec(),
            ..Default::default()
        };
        if self.send(register).await.is_err() {
            return;
        }
        debug!(ccid, "sent REGISTER");

        let mut state = State::Created;
        let mut draining = false;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled(), if !draining => {
                    info!(in_flight = self.tracker.len(), "shutting down: finishing in-flight transactions");
                    draining = true;
                    self.tracker.close();
                }
                _ = self.tracker.wait(), if draining => break,
                next = inbound.message() => match next {
                    Ok(Some(msg)) => {
                        if let Flow::Close = self.handle(&mut state, msg, draining).await {
                            break;
                        }
                    }
                    Ok(None) => {
                        info!("peer closed the chaincode stream");
                        break;
                    }
                    Err(status) => {
                        warn!(code = ?status.code(), "chaincode stream failed: {}", status.message());
                        break;
                    }
                },
            }
        }
        // Wake every transaction still waiting for the peer: it will see a closed connection.
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
    }

    async fn handle(self: &Arc<Self>, state: &mut State, msg: ChaincodeMessage, draining: bool) -> Flow {
        let ty = MsgType::try_from(msg.r#type).ok();
        if ty == Some(MsgType::Keepalive) {
            // Answered in every state, before the state is looked at.
            let _ = self.send(msg).await;
            return Flow::Continue;
        }
        let Some(ty) = ty else {
            warn!(tx = short_tx(&msg.txid), ty = msg.r#type, "unknown message type");
            self.send_error(&msg, format!("unknown message type {}", msg.r#type)).await;
            return Flow::Continue;
        };
        match (*state, ty) {
            (State::Created, MsgType::Registered) => {
                debug!("REGISTERED");
                *state = State::Established;
                Flow::Continue
            }
            (State::Established, MsgType::Ready) => match PeerFeatures::from_ready_payload(&msg.payload) {
                Ok(features) => {
                    info!(?features, "chaincode ready");
                    let _ = self.features.set(features);
                    *state = State::Ready;
                    Flow::Continue
                }
                Err(e) => {
                    error!("{e}");
                    self.send_error(&msg, e.to_string()).await;
                    Flow::Close
                }
            },
            (State::Created | State::Established, _) => {
                error!(?state, ?ty, "unexpected message during handshake; closing the stream");
                self.send_error(&msg, format!("cannot handle {} while in state {state:?}", ty.as_str_name())).await;
                Flow::Close
            }
            (State::Ready, MsgType::Transaction | MsgType::Init) => {
                self.start_transaction(msg, ty == MsgType::Init, draining).await;
                Flow::Continue
            }
            (State::Ready, MsgType::Response | MsgType::Error) => {
                self.route_reply(msg).await;
                Flow::Continue
            }
            (State::Ready, other) => {
                warn!(tx = short_tx(&msg.txid), ty = other.as_str_name(), "unexpected message while ready");
                self.send_error(&msg, format!("cannot handle {} while in state Ready", other.as_str_name())).await;
                Flow::Continue
            }
        }
    }

    async fn start_transaction(self: &Arc<Self>, msg: ChaincodeMessage, is_init: bool, draining: bool) {
        let key = TxKey::new(&msg.channel_id, &msg.txid);
        if draining {
            self.send_error(&msg, "chaincode server is shutting down".into()).await;
            return;
        }
        let fresh = self.in_flight.lock().map(|mut set| set.insert(key.clone())).unwrap_or(false);
        if !fresh {
            warn!(tx = short_tx(&msg.txid), "duplicate transaction id on this stream");
            self.send_error(&msg, format!("[{}] duplicate transaction: already executing", short_tx(&msg.txid))).await;
            return;
        }
        let handler = self.clone();
        self.tracker.spawn(async move {
            let reply = handler.execute(&msg, is_init).await;
            if let Ok(mut set) = handler.in_flight.lock() {
                set.remove(&key);
            }
            let _ = handler.send(reply).await;
        });
    }

    /// Runs one transaction and builds the message that answers it.
    async fn execute(self: &Arc<Self>, msg: &ChaincodeMessage, is_init: bool) -> ChaincodeMessage {
        let tx = short_tx(&msg.txid);
        let context = match transaction_context(msg) {
            Ok(c) => c,
            Err(e) => {
                warn!(tx, "rejected transaction: {e}");
                return reply_error(msg, format!("[{tx}] {e}"));
            }
        };
        let ledger = Arc::new(PeerLedger::new(self.clone(), &msg.channel_id, &msg.txid));
        let stub = Stub::new(ledger.clone(), context);
        let cc = self.chaincode.clone();
        let call = {
            let stub = stub.clone();
            async move { if is_init { cc.init(stub).await } else { cc.invoke(stub).await } }
        };
        let response: Response = match AssertUnwindSafe(call).catch_unwind().await {
            Ok(r) => r,
            Err(panic) => {
                let what = panic_message(&panic);
                error!(tx, "chaincode panicked: {what}");
                return reply_error(msg, format!("[{tx}] chaincode panicked: {what}"));
            }
        };
        if is_init && response.status >= status::INTERNAL {
            return reply_error(msg, response.message);
        }
        if !response.is_error()
            && let Err(e) = ledger.flush().await
        {
            warn!(tx, "writing the batch failed: {e}");
            return reply_error(msg, format!("[{tx}] {e}"));
        }
        if response.is_error() {
            debug!(tx, status = response.status, "transaction answered with an error: {}", response.message);
        }
        ChaincodeMessage {
            r#type: MsgType::Completed as i32,
            payload: fabric_protos::protos::Response::from(response).encode_to_vec(),
            txid: msg.txid.clone(),
            channel_id: msg.channel_id.clone(),
            chaincode_event: stub.event().map(|e| fabric_protos::protos::ChaincodeEvent {
                event_name: e.name,
                payload: e.payload,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Sends a request for a transaction and waits for the peer's answer.
    pub(crate) async fn request(
        &self,
        channel_id: &str,
        tx_id: &str,
        ty: MsgType,
        payload: Vec<u8>,
    ) -> Result<ChaincodeMessage> {
        let key = TxKey::new(channel_id, tx_id);
        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock().map_err(|_| Error::Protocol("pending map poisoned".into()))?;
            if pending.contains_key(&key) {
                return Err(Error::ConcurrentRequest(short_tx(tx_id)));
            }
            pending.insert(key.clone(), reply_tx);
        }
        let _guard = PendingGuard { handler: self, key };
        let msg = ChaincodeMessage {
            r#type: ty as i32,
            payload,
            txid: tx_id.to_owned(),
            channel_id: channel_id.to_owned(),
            ..Default::default()
        };
        self.send(msg).await.map_err(|_| Error::Disconnected(short_tx(tx_id)))?;
        reply_rx.await.map_err(|_| Error::Disconnected(short_tx(tx_id)))
    }

    async fn route_reply(&self, msg: ChaincodeMessage) {
        let key = TxKey::new(&msg.channel_id, &msg.txid);
        let waiter = self.pending.lock().ok().and_then(|mut p| p.remove(&key));
        match waiter {
            Some(w) => {
                let _ = w.send(msg);
            }
            None => {
                warn!(
                    tx = short_tx(&msg.txid),
                    channel = msg.channel_id,
                    "reply for a transaction that is not waiting"
                );
                // Answer a stray RESPONSE; never answer an ERROR with an ERROR.
                if msg.r#type == MsgType::Response as i32 {
                    self.send_error(
                        &msg,
                        format!("[{}] no request outstanding for this transaction", short_tx(&msg.txid)),
                    )
                    .await;
                }
            }
        }
    }

    async fn send_error(&self, about: &ChaincodeMessage, text: String) {
        let _ = self.send(reply_error(about, text)).await;
    }

    /// The one way to write to the stream.
    pub(crate) async fn send(&self, msg: ChaincodeMessage) -> Result<()> {
        self.outbound.send(Ok(msg)).await.map_err(|_| Error::Disconnected(String::new()))
    }
}

/// Removes a transaction's pending entry when its request ends, however it ends.
struct PendingGuard<'a> {
    handler: &'a Handler,
    key: TxKey,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.handler.pending.lock() {
            pending.remove(&self.key);
        }
    }
}

fn reply_error(about: &ChaincodeMessage, text: String) -> ChaincodeMessage {
    ChaincodeMessage {
        r#type: MsgType::Error as i32,
        payload: text.into_bytes(),
        txid: about.txid.clone(),
        channel_id: about.channel_id.clone(),
        ..Default::default()
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Parses what the stub needs from a TRANSACTION or INIT message.
fn transaction_context(msg: &ChaincodeMessage) -> Result<TxContext> {
    let input = ChaincodeInput::decode(msg.payload.as_slice())
        .map_err(|e| Error::Proposal(format!("payload is not a ChaincodeInput: {e}")))?;
    let mut context = TxContext {
        tx_id: msg.txid.clone(),
        channel_id: msg.channel_id.clone(),
        args: input.args,
        decorations: input.decorations.into_iter().collect(),
        ..Default::default()
    };
    if let Some(signed) = &msg.proposal {
        parse_proposal(signed, &mut context)?;
        context.signed_proposal = Some(signed.clone());
    }
    Ok(context)
}

fn parse_proposal(signed: &SignedProposal, context: &mut TxContext) -> Result<()> {
    let bad = |what: &str, e: prost::DecodeError| Error::Proposal(format!("cannot decode {what}: {e}"));
    let proposal = Proposal::decode(signed.proposal_bytes.as_slice()).map_err(|e| bad("proposal", e))?;
    if proposal.header.is_empty() {
        return Err(Error::Proposal("proposal header is empty".into()));
    }
    let header = Header::decode(proposal.header.as_slice()).map_err(|e| bad("header", e))?;
    let channel_header =
        ChannelHeader::decode(header.channel_header.as_slice()).map_err(|e| bad("channel header", e))?;
    let header_type = channel_header.r#type;
    if header_type != HeaderType::EndorserTransaction as i32 && header_type != HeaderType::Config as i32 {
        return Err(Error::Proposal(format!(
            "channel header type {header_type} is neither ENDORSER_TRANSACTION nor CONFIG"
        )));
    }
    let signature_header =
        SignatureHeader::decode(header.signature_header.as_slice()).map_err(|e| bad("signature header", e))?;
    let payload =
        ChaincodeProposalPayload::decode(proposal.payload.as_slice()).map_err(|e| bad("proposal payload", e))?;

    let mut hasher = Sha256::new();
    hasher.update(&signature_header.nonce);
    hasher.update(&signature_header.creator);
    hasher.update(channel_header.epoch.to_le_bytes());
    context.binding = hasher.finalize().to_vec();
    context.creator = signature_header.creator;
    context.transient = payload.transient_map.into_iter().collect::<BTreeMap<_, _>>();
    context.timestamp = channel_header.timestamp.map(Timestamp::from);
    Ok(())
}

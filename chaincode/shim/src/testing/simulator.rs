//! The peer's side of `Chaincode/Connect`, over real gRPC, for tests.
//!
//! Connects to a chaincode server as a peer would, checks the REGISTER,
//! answers REGISTERED and READY, then runs transactions: each TRANSACTION
//! carries a real `SignedProposal` built from the caller's identity, and every
//! request the chaincode makes is answered from a [`MemoryLedger`]. Several
//! transactions may run at once; replies are routed by (channel, tx id).
//! Messages that belong to no running transaction (KEEPALIVE echoes, ERRORs
//! about bad input) are queued for [`PeerSimulator::next_unsolicited`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fabric_protos::common::{ChannelHeader, Header, HeaderType, SignatureHeader};
use fabric_protos::protos::chaincode_client::ChaincodeClient;
use fabric_protos::protos::chaincode_message::Type as MsgType;
use fabric_protos::protos::write_record::Type as WriteType;
use fabric_protos::protos::{
    ChaincodeAdditionalParams, ChaincodeId, ChaincodeInput, ChaincodeInvocationSpec, ChaincodeMessage,
    ChaincodeProposalPayload, ChaincodeSpec, DelState, GetHistoryForKey, GetQueryResult, GetState, GetStateByRange,
    GetStateMetadata, GetStateMultiple, GetStateMultipleResult, Proposal, PutState, PutStateMetadata, QueryMetadata,
    QueryResponse, QueryResponseMetadata, QueryResultBytes, QueryStateClose, QueryStateNext, SignedProposal,
    StateMetadata, StateMetadataResult, WriteBatchState,
};
use prost::Message;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use super::ledger::{DEFAULT_BATCH_SIZE, MemoryLedger, TxSimulation};
use super::{Invocation, TxOutcome, fabric_tx_id, nth_timestamp};
use crate::error::{Error, Result};
use crate::response::{Response, status};
use crate::server::MAX_MESSAGE_SIZE;
use crate::stub::{ChaincodeEvent, PageRequest, QueryBatch};

/// TLS settings of the simulated peer's client connection.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// CA that issued the chaincode server's certificate.
    pub server_ca_pem: String,
    /// Client certificate and key to present (mutual TLS), if any.
    pub client: Option<super::CertifiedKey>,
    /// Server name to verify; `localhost` by default.
    pub domain: String,
}

/// How the simulated peer behaves.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Channel of every transaction.
    pub channel_id: String,
    /// Refuse the connection unless REGISTER names this package id.
    pub expected_ccid: Option<String>,
    /// The READY payload; `None` sends an empty READY, as peers before Fabric 3.1 do.
    pub ready: Option<ChaincodeAdditionalParams>,
    /// Results per query batch.
    pub batch_size: usize,
    /// TLS; `None` for plaintext.
    pub tls: Option<ClientTls>,
    /// How long to wait for the chaincode before giving up on a transaction.
    pub timeout: Duration,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            channel_id: "testchannel".into(),
            expected_ccid: None,
            ready: None,
            batch_size: DEFAULT_BATCH_SIZE,
            tls: None,
            timeout: Duration::from_secs(30),
        }
    }
}

type Routes = Arc<Mutex<HashMap<(String, String), mpsc::UnboundedSender<ChaincodeMessage>>>>;

/// A simulated peer connected to one chaincode server.
pub struct PeerSimulator {
    config: SimulatorConfig,
    ccid: String,
    ledger: MemoryLedger,
    outbound: mpsc::Sender<ChaincodeMessage>,
    routes: Routes,
    unsolicited: tokio::sync::Mutex<mpsc::UnboundedReceiver<ChaincodeMessage>>,
    counter: AtomicU64,
    reader: JoinHandle<()>,
}

impl Drop for PeerSimulator {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

fn sim_err(what: impl Into<String>) -> Error {
    Error::Protocol(what.into())
}

impl PeerSimulator {
    /// Connects to the chaincode server at `address` (`host:port`) and completes
    /// the handshake. Fails if the server does not speak REGISTER first or
    /// names an unexpected package id.
    pub async fn connect(address: &str, config: SimulatorConfig) -> Result<Self> {
        Self::connect_with_ledger(address, config, MemoryLedger::new()).await
    }

    /// Like [`PeerSimulator::connect`], sharing an existing ledger (e.g. to
    /// compare two servers on the same data, or reconnect).
    pub async fn connect_with_ledger(address: &str, config: SimulatorConfig, ledger: MemoryLedger) -> Result<Self> {
        let mut client = ChaincodeClient::new(dial(address, &config).await?)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let (outbound, rx) = mpsc::channel(1024);
        let mut inbound = client
            .connect(ReceiverStream::new(rx))
            .await
            .map_err(|s| sim_err(format!("Connect refused: {s}")))?
            .into_inner();

        let first = tokio::time::timeout(config.timeout, inbound.message())
            .await
            .map_err(|_| sim_err("no REGISTER from the chaincode"))?
            .map_err(|s| sim_err(format!("stream failed before REGISTER: {s}")))?
            .ok_or_else(|| sim_err("stream closed before REGISTER"))?;
        if first.r#type != MsgType::Register as i32 {
            return Err(sim_err(format!("chaincode spoke type {} first, expected REGISTER", first.r#type)));
        }
        let id =
            ChaincodeId::decode(first.payload.as_slice()).map_err(|e| sim_err(format!("bad REGISTER payload: {e}")))?;
        if let Some(expected) = &config.expected_ccid
            && &id.name != expected
        {
            {
                let _ = outbound
                    .send(ChaincodeMessage {
                        r#type: MsgType::Error as i32,
                        payload: format!("chaincode {} is not registered", id.name).into_bytes(),
                        ..Default::default()
                    })
                    .await;
                return Err(sim_err(format!("chaincode registered as {:?}, expected {expected:?}", id.name)));
            }
        }
        let send = |m: ChaincodeMessage| {
            let o = outbound.clone();
            async move { o.send(m).await.map_err(|_| sim_err("stream closed during handshake")) }
        };
        send(ChaincodeMessage { r#type: MsgType::Registered as i32, ..Default::default() }).await?;
        let ready_payload = config.ready.as_ref().map(Message::encode_to_vec).unwrap_or_default();
        send(ChaincodeMessage { r#type: MsgType::Ready as i32, payload: ready_payload, ..Default::default() }).await?;

        let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
        let (unsolicited_tx, unsolicited_rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(route_messages(inbound, routes.clone(), unsolicited_tx));
        Ok(Self {
            config,
            ccid: id.name,
            ledger,
            outbound,
            routes,
            unsolicited: tokio::sync::Mutex::new(unsolicited_rx),
            counter: AtomicU64::new(0),
            reader,
        })
    }

    /// The package id the chaincode registered with.
    pub fn registered_ccid(&self) -> &str {
        &self.ccid
    }

    /// The simulated ledger.
    pub fn ledger(&self) -> &MemoryLedger {
        &self.ledger
    }

    /// Sends any message, for protocol tests.
    pub async fn send_raw(&self, msg: ChaincodeMessage) -> Result<()> {
        self.outbound.send(msg).await.map_err(|_| sim_err("stream to the chaincode is closed"))
    }

    /// The next message that belonged to no running transaction, if one arrives in time.
    pub async fn next_unsolicited(&self, wait: Duration) -> Option<ChaincodeMessage> {
        let mut rx = self.unsolicited.lock().await;
        tokio::time::timeout(wait, rx.recv()).await.ok().flatten()
    }

    /// Sends KEEPALIVE and waits for the chaincode to echo it.
    pub async fn keepalive(&self, wait: Duration) -> Result<()> {
        self.send_raw(ChaincodeMessage { r#type: MsgType::Keepalive as i32, ..Default::default() }).await?;
        match self.next_unsolicited(wait).await {
            Some(m) if m.r#type == MsgType::Keepalive as i32 => Ok(()),
            Some(m) => Err(sim_err(format!("expected KEEPALIVE echo, got type {}", m.r#type))),
            None => Err(sim_err("no KEEPALIVE echo")),
        }
    }

    /// Whether the chaincode has closed the stream.
    pub fn is_closed(&self) -> bool {
        self.reader.is_finished()
    }

    /// Runs one transaction to completion, answering the chaincode's requests
    /// from the ledger, and commits its writes if it succeeds.
    pub async fn invoke(&self, call: Invocation) -> Result<TxOutcome> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let nonce = n.to_be_bytes().to_vec();
        let tx_id = call.tx_id.clone().unwrap_or_else(|| fabric_tx_id(&nonce, &call.creator));
        let timestamp = call.timestamp.unwrap_or_else(|| nth_timestamp(n));
        let channel_id = self.config.channel_id.clone();
        let signed = signed_proposal(&channel_id, &tx_id, &nonce, &call, timestamp);
        let input = ChaincodeInput { args: call.args.clone(), is_init: call.init, ..Default::default() };

        let (tx, mut rx) = mpsc::unbounded_channel();
        let key = (channel_id.clone(), tx_id.clone());
        self.routes.lock().map_err(|_| sim_err("routes poisoned"))?.insert(key.clone(), tx);
        let _route = RouteGuard { routes: self.routes.clone(), key };

        self.send_raw(ChaincodeMessage {
            r#type: if call.init { MsgType::Init } else { MsgType::Transaction } as i32,
            payload: input.encode_to_vec(),
            txid: tx_id.clone(),
            channel_id: channel_id.clone(),
            proposal: Some(signed),
            ..Default::default()
        })
        .await?;

        let mut sim = self.ledger.begin(self.config.batch_size);
        let mut requests = Vec::new();
        loop {
            let msg = tokio::time::timeout(self.config.timeout, rx.recv())
                .await
                .map_err(|_| sim_err(format!("chaincode did not finish transaction {tx_id} in time")))?
                .ok_or_else(|| sim_err("chaincode stream closed mid-transaction"))?;
            let ty = MsgType::try_from(msg.r#type).map_err(|_| sim_err(format!("unknown type {}", msg.r#type)))?;
            requests.push(ty.as_str_name().to_owned());
            match ty {
                MsgType::Completed => {
                    let response: Response = fabric_protos::protos::Response::decode(msg.payload.as_slice())
                        .map_err(|e| sim_err(format!("COMPLETED payload is not a Response: {e}")))?
                        .into();
                    let event = msg.chaincode_event.map(|e| ChaincodeEvent { name: e.event_name, payload: e.payload });
                    let committed = !response.is_error();
                    if committed {
                        sim.commit(&tx_id, Some(timestamp))?;
                    }
                    return Ok(TxOutcome { tx_id, response, event, error: None, committed, requests });
                }
                MsgType::Error => {
                    let text = String::from_utf8_lossy(&msg.payload).into_owned();
                    return Ok(TxOutcome {
                        tx_id,
                        response: Response::error(status::INTERNAL, text.clone()),
                        event: None,
                        error: Some(text),
                        committed: false,
                        requests,
                    });
                }
                _ => {
                    let reply = match self.answer(&mut sim, ty, &msg.payload) {
                        Ok(payload) => {
                            ChaincodeMessage { r#type: MsgType::Response as i32, payload, ..Default::default() }
                        }
                        Err(e) => ChaincodeMessage {
                            r#type: MsgType::Error as i32,
                            payload: e.to_string().into_bytes(),
                            ..Default::default()
                        },
                    };
                    self.send_raw(ChaincodeMessage { txid: msg.txid, channel_id: msg.channel_id, ..reply }).await?;
                }
            }
        }
    }

    /// Answers one chaincode request as a peer would.
    fn answer(&self, sim: &mut TxSimulation, ty: MsgType, payload: &[u8]) -> Result<Vec<u8>> {
        let bad =
            |e: prost::DecodeError| Error::InvalidArgument(format!("cannot decode {} payload: {e}", ty.as_str_name()));
        let ready = self.config.ready.unwrap_or_default();
        Ok(match ty {
            MsgType::GetState => {
                let r = GetState::decode(payload).map_err(bad)?;
                sim.get_state(&r.collection, &r.key)?
            }
            MsgType::GetStateMultiple => {
                if !ready.use_get_multiple_keys {
                    return Err(Error::InvalidArgument("GET_STATE_MULTIPLE was not offered in READY".into()));
                }
                let r = GetStateMultiple::decode(payload).map_err(bad)?;
                GetStateMultipleResult { values: sim.get_multiple_states(&r.collection, &r.keys)? }.encode_to_vec()
            }
            MsgType::PutState => {
                let r = PutState::decode(payload).map_err(bad)?;
                sim.put_state(&r.collection, &r.key, r.value)?;
                Vec::new()
            }
            MsgType::DelState => {
                let r = DelState::decode(payload).map_err(bad)?;
                sim.del_state(&r.collection, &r.key)?;
                Vec::new()
            }
            MsgType::PurgePrivateData => {
                let r = DelState::decode(payload).map_err(bad)?;
                sim.purge_private_data(&r.collection, &r.key)?;
                Vec::new()
            }
            MsgType::GetPrivateDataHash => {
                let r = GetState::decode(payload).map_err(bad)?;
                sim.get_private_data_hash(&r.collection, &r.key)?
            }
            MsgType::GetStateMetadata => {
                let r = GetStateMetadata::decode(payload).map_err(bad)?;
                let entries = sim.get_state_metadata(&r.collection, &r.key)?.into_iter();
                StateMetadataResult {
                    entries: entries.map(|(metakey, value)| StateMetadata { metakey, value }).collect(),
                }
                .encode_to_vec()
            }
            MsgType::PutStateMetadata => {
                let r = PutStateMetadata::decode(payload).map_err(bad)?;
                let md = r.metadata.unwrap_or_default();
                sim.put_state_metadata(&r.collection, &r.key, &md.metakey, md.value)?;
                Vec::new()
            }
            MsgType::WriteBatchState => {
                if !ready.use_write_batch {
                    return Err(Error::InvalidArgument("WRITE_BATCH_STATE was not offered in READY".into()));
                }
                write_batch(sim, WriteBatchState::decode(payload).map_err(bad)?)?;
                Vec::new()
            }
            MsgType::InvokeChaincode => {
                let spec = ChaincodeSpec::decode(payload).map_err(bad)?;
                let name = spec.chaincode_id.map(|c| c.name).unwrap_or_default();
                return Err(Error::InvalidArgument(format!("the peer simulator hosts no chaincode {name:?}")));
            }
            // Range, rich-query and history requests, and anything unexpected.
            other => answer_query(sim, other, payload)?,
        })
    }
}

/// Answers the range, rich-query and history requests and their paging;
/// any other message is out of place during a transaction.
fn answer_query(sim: &mut TxSimulation, ty: MsgType, payload: &[u8]) -> Result<Vec<u8>> {
    let bad =
        |e: prost::DecodeError| Error::InvalidArgument(format!("cannot decode {} payload: {e}", ty.as_str_name()));
    Ok(match ty {
        MsgType::GetStateByRange => {
            let r = GetStateByRange::decode(payload).map_err(bad)?;
            let page = page_request(&r.metadata)?;
            query_response(sim.get_state_by_range(&r.collection, &r.start_key, &r.end_key, page)?)
        }
        MsgType::GetQueryResult => {
            let r = GetQueryResult::decode(payload).map_err(bad)?;
            query_response(sim.get_query_result(&r.collection, &r.query)?)
        }
        MsgType::GetHistoryForKey => {
            let r = GetHistoryForKey::decode(payload).map_err(bad)?;
            query_response(sim.get_history_for_key(&r.key)?)
        }
        MsgType::QueryStateNext => {
            let r = QueryStateNext::decode(payload).map_err(bad)?;
            query_response(sim.query_next(&r.id)?)
        }
        MsgType::QueryStateClose => {
            let r = QueryStateClose::decode(payload).map_err(bad)?;
            sim.query_close(&r.id)?;
            QueryResponse { id: r.id, ..Default::default() }.encode_to_vec()
        }
        other => {
            return Err(Error::InvalidArgument(format!("unexpected {} during a transaction", other.as_str_name())));
        }
    })
}

/// Opens the gRPC channel to the chaincode server, with TLS when configured.
async fn dial(address: &str, config: &SimulatorConfig) -> Result<tonic::transport::Channel> {
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
        .map_err(|e| Error::Server(format!("bad address {address}: {e}")))?
        .connect_timeout(Duration::from_secs(5));
    if let Some(tls) = &config.tls {
        let mut t = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&tls.server_ca_pem))
            .domain_name(tls.domain.clone());
        if let Some(client) = &tls.client {
            t = t.identity(Identity::from_pem(&client.cert_pem, &client.key_pem));
        }
        endpoint = endpoint.tls_config(t)?;
    }
    Ok(endpoint.connect().await?)
}

/// Hands each message from the chaincode to the transaction it belongs to;
/// keepalives and messages of no open transaction go to `unsolicited`.
async fn route_messages(
    mut inbound: tonic::Streaming<ChaincodeMessage>,
    routes: Routes,
    unsolicited: mpsc::UnboundedSender<ChaincodeMessage>,
) {
    while let Ok(Some(msg)) = inbound.message().await {
        let key = (msg.channel_id.clone(), msg.txid.clone());
        let route = routes.lock().ok().and_then(|r| r.get(&key).cloned());
        match route {
            Some(r) if msg.r#type != MsgType::Keepalive as i32 => {
                let _ = r.send(msg);
            }
            _ => {
                let _ = unsolicited.send(msg);
            }
        }
    }
    // Dropping the routes wakes transactions waiting on a closed stream.
    if let Ok(mut r) = routes.lock() {
        r.clear();
    }
}

/// Applies a `WRITE_BATCH_STATE` record by record, as the peer does.
fn write_batch(sim: &mut TxSimulation, batch: WriteBatchState) -> Result<()> {
    for rec in batch.rec {
        match WriteType::try_from(rec.r#type) {
            Ok(WriteType::PutState) => sim.put_state(&rec.collection, &rec.key, rec.value)?,
            Ok(WriteType::DelState) => sim.del_state(&rec.collection, &rec.key)?,
            Ok(WriteType::PurgePrivateData) => sim.purge_private_data(&rec.collection, &rec.key)?,
            Ok(WriteType::PutStateMetadata) => {
                let md = rec.metadata.unwrap_or_default();
                sim.put_state_metadata(&rec.collection, &rec.key, &md.metakey, md.value)?
            }
            _ => return Err(Error::InvalidArgument(format!("unknown write record type {}", rec.r#type))),
        }
    }
    Ok(())
}

struct RouteGuard {
    routes: Routes,
    key: (String, String),
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        if let Ok(mut r) = self.routes.lock() {
            r.remove(&self.key);
        }
    }
}

fn page_request(metadata: &[u8]) -> Result<Option<PageRequest>> {
    if metadata.is_empty() {
        return Ok(None);
    }
    let m = QueryMetadata::decode(metadata).map_err(|e| Error::InvalidArgument(format!("bad QueryMetadata: {e}")))?;
    Ok(Some(PageRequest { page_size: m.page_size, bookmark: m.bookmark }))
}

fn query_response(batch: QueryBatch) -> Vec<u8> {
    QueryResponse {
        results: batch.results.into_iter().map(|result_bytes| QueryResultBytes { result_bytes }).collect(),
        has_more: batch.has_more,
        id: batch.id,
        metadata: batch
            .metadata
            .map(|m| {
                QueryResponseMetadata { fetched_records_count: m.fetched_records_count, bookmark: m.bookmark }
                    .encode_to_vec()
            })
            .unwrap_or_default(),
    }
    .encode_to_vec()
}

/// A proposal as a client would build it (unsigned: the shim does not verify signatures).
fn signed_proposal(
    channel_id: &str,
    tx_id: &str,
    nonce: &[u8],
    call: &Invocation,
    timestamp: crate::stub::Timestamp,
) -> SignedProposal {
    let channel_header = ChannelHeader {
        r#type: HeaderType::EndorserTransaction as i32,
        channel_id: channel_id.to_owned(),
        tx_id: tx_id.to_owned(),
        timestamp: Some(timestamp.into()),
        epoch: 0,
        ..Default::default()
    };
    let signature_header = SignatureHeader { creator: call.creator.clone(), nonce: nonce.to_vec() };
    let header =
        Header { channel_header: channel_header.encode_to_vec(), signature_header: signature_header.encode_to_vec() };
    let invocation = ChaincodeInvocationSpec {
        chaincode_spec: Some(ChaincodeSpec {
            input: Some(ChaincodeInput { args: call.args.clone(), ..Default::default() }),
            ..Default::default()
        }),
    };
    let payload = ChaincodeProposalPayload {
        input: invocation.encode_to_vec(),
        transient_map: call.transient.clone().into_iter().collect(),
    };
    let proposal = Proposal { header: header.encode_to_vec(), payload: payload.encode_to_vec(), ..Default::default() };
    SignedProposal { proposal_bytes: proposal.encode_to_vec(), signature: Vec::new() }
}

//! The per-transaction API a chaincode calls: arguments, caller, state.
//!
//! [`Stub`] is what chaincode code sees. It keeps the transaction's data
//! (parsed once from the proposal) and forwards every ledger call to a
//! [`LedgerAccess`]: the real one talks to the peer over the chaincode stream,
//! the mock stub keeps an in-memory ledger. Argument checks live here, once,
//! so that every backend rejects the same inputs with the same messages.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use fabric_protos::protos::SignedProposal;
use prost::Message;

use crate::composite;
use crate::error::{Error, Result};
use crate::response::Response;
use fabric_identity::ClientIdentity;

/// The metadata key under which Fabric keeps a key's endorsement policy.
pub(crate) const VALIDATION_PARAMETER: &str = "VALIDATION_PARAMETER";

/// A transaction timestamp as the client set it in the proposal.
///
/// Chaincode must use this, never the wall clock: every endorser sees the same
/// value, so the read/write sets agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: i32,
}

impl From<prost_types::Timestamp> for Timestamp {
    fn from(t: prost_types::Timestamp) -> Self {
        Self { seconds: t.seconds, nanos: t.nanos }
    }
}

impl From<Timestamp> for prost_types::Timestamp {
    fn from(t: Timestamp) -> Self {
        Self { seconds: t.seconds, nanos: t.nanos }
    }
}

/// One entry of a range or rich query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// Its current value.
    pub value: Vec<u8>,
}

/// One committed change of a key, from [`Stub::get_history_for_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyModification {
    /// Transaction that made the change.
    pub tx_id: String,
    /// The value it wrote (empty for a delete).
    pub value: Vec<u8>,
    /// That transaction's timestamp.
    pub timestamp: Option<Timestamp>,
    /// Whether the change deleted the key.
    pub is_delete: bool,
}

/// Where a paginated query stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageMetadata {
    /// How many records this page returned.
    pub fetched_records_count: i32,
    /// Pass this back to get the next page; empty when there is none.
    pub bookmark: String,
}

/// A paginated query's request: page size and where to resume.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    /// Maximum records in the page.
    pub page_size: i32,
    /// Bookmark from the previous page, or empty for the first.
    pub bookmark: String,
}

/// One batch of query results as the peer delivers it.
///
/// `results` hold encoded `queryresult.KV` or `queryresult.KeyModification`
/// messages; `has_more` says whether `query_next(id)` would return more.
#[derive(Debug, Clone, Default)]
pub struct QueryBatch {
    /// Encoded result messages.
    pub results: Vec<Vec<u8>>,
    /// Whether more batches follow.
    pub has_more: bool,
    /// Iterator id to continue or close the query.
    pub id: String,
    /// Set on paginated queries.
    pub metadata: Option<PageMetadata>,
}

/// Ledger operations of one transaction, in Fabric's raw form.
///
/// `collection` is empty for the public world state and names a private data
/// collection otherwise. Implemented by the shim's peer connection and by the
/// mock stub; chaincode code uses [`Stub`] instead.
#[async_trait]
pub trait LedgerAccess: Send + Sync {
    /// Current value, empty when absent.
    async fn get_state(&self, collection: &str, key: &str) -> Result<Vec<u8>>;
    /// Current values of several keys, in order, empty when absent.
    async fn get_multiple_states(&self, collection: &str, keys: &[String]) -> Result<Vec<Vec<u8>>>;
    /// Writes a value.
    async fn put_state(&self, collection: &str, key: &str, value: Vec<u8>) -> Result<()>;
    /// Deletes a key.
    async fn del_state(&self, collection: &str, key: &str) -> Result<()>;
    /// Removes a private key and all its past versions from every peer.
    async fn purge_private_data(&self, collection: &str, key: &str) -> Result<()>;
    /// SHA-256 of a private value as recorded on the public ledger.
    async fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Vec<u8>>;
    /// All metadata entries of a key.
    async fn get_state_metadata(&self, collection: &str, key: &str) -> Result<BTreeMap<String, Vec<u8>>>;
    /// Sets one metadata entry of a key.
    async fn put_state_metadata(&self, collection: &str, key: &str, metakey: &str, value: Vec<u8>) -> Result<()>;
    /// Keys in `[start, end)`.
    async fn get_state_by_range(
        &self,
        collection: &str,
        start: &str,
        end: &str,
        page: Option<PageRequest>,
    ) -> Result<QueryBatch>;
    /// A rich (CouchDB) query.
    async fn get_query_result(&self, collection: &str, query: &str, page: Option<PageRequest>) -> Result<QueryBatch>;
    /// Committed history of a public key.
    async fn get_history_for_key(&self, key: &str) -> Result<QueryBatch>;
    /// The next batch of an open query.
    async fn query_next(&self, id: &str) -> Result<QueryBatch>;
    /// Releases an open query.
    async fn query_close(&self, id: &str) -> Result<()>;
    /// Calls another chaincode (`name` or `name/channel`) within this transaction.
    async fn invoke_chaincode(&self, name: &str, args: Vec<Vec<u8>>) -> Result<Response>;
}

/// What a transaction carries besides ledger access, parsed once.
#[derive(Debug, Clone, Default)]
pub struct TxContext {
    /// Transaction id.
    pub tx_id: String,
    /// Channel id.
    pub channel_id: String,
    /// Invocation arguments; the first is usually the function name.
    pub args: Vec<Vec<u8>>,
    /// Serialized `msp.SerializedIdentity` of the submitter.
    pub creator: Vec<u8>,
    /// Transient data: private inputs that never reach the ledger.
    pub transient: BTreeMap<String, Vec<u8>>,
    /// Binding of the proposal (sha256 of nonce, creator and epoch).
    pub binding: Vec<u8>,
    /// The signed proposal, when the transaction came from a peer.
    pub signed_proposal: Option<SignedProposal>,
    /// Timestamp from the channel header.
    pub timestamp: Option<Timestamp>,
    /// Decorations added by the peer's decorators.
    pub decorations: BTreeMap<String, Vec<u8>>,
}

/// The chaincode event set by a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaincodeEvent {
    /// Event name.
    pub name: String,
    /// Event payload.
    pub payload: Vec<u8>,
}

/// The API of one transaction, handed to chaincode code.
///
/// Cheap to clone: clones share the transaction. Reads see the state
/// committed before this transaction, never its own pending writes (that is
/// Fabric's rule, and the harnesses keep it).
#[derive(Clone)]
pub struct Stub {
    ledger: Arc<dyn LedgerAccess>,
    tx: Arc<TxContext>,
    event: Arc<Mutex<Option<ChaincodeEvent>>>,
    identity: Arc<OnceLock<std::result::Result<ClientIdentity, String>>>,
}

impl fmt::Debug for Stub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stub").field("tx_id", &self.tx.tx_id).field("channel_id", &self.tx.channel_id).finish()
    }
}

impl Stub {
    /// A stub over `ledger` for the transaction described by `tx`.
    pub fn new(ledger: Arc<dyn LedgerAccess>, tx: TxContext) -> Self {
        Self { ledger, tx: Arc::new(tx), event: Arc::new(Mutex::new(None)), identity: Arc::new(OnceLock::new()) }
    }

    /// The same transaction with every write refused: what a function marked
    /// read-only sees, so that an evaluate-only function cannot change state
    /// by accident when someone submits it.
    pub fn read_only(&self) -> Stub {
        Stub { ledger: Arc::new(ReadOnly(self.ledger.clone())), ..self.clone() }
    }

    // ---- transaction data ----

    /// Raw invocation arguments.
    pub fn args(&self) -> &[Vec<u8>] {
        &self.tx.args
    }

    /// Arguments as UTF-8 strings; fails naming the first argument that is not UTF-8.
    pub fn string_args(&self) -> Result<Vec<String>> {
        self.tx
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                String::from_utf8(a.clone())
                    .map_err(|_| Error::InvalidArgument(format!("argument {i} is not valid UTF-8")))
            })
            .collect()
    }

    /// The first argument as the function name and the rest as parameters.
    pub fn function_and_parameters(&self) -> Result<(String, Vec<String>)> {
        let mut args = self.string_args()?;
        if args.is_empty() {
            return Ok((String::new(), Vec::new()));
        }
        let function = args.remove(0);
        Ok((function, args))
    }

    /// Transaction id.
    pub fn tx_id(&self) -> &str {
        &self.tx.tx_id
    }

    /// Channel id.
    pub fn channel_id(&self) -> &str {
        &self.tx.channel_id
    }

    /// Serialized identity (`msp.SerializedIdentity`) of the submitter.
    pub fn creator(&self) -> &[u8] {
        &self.tx.creator
    }

    /// The submitter's identity, parsed from [`Stub::creator`] once per transaction.
    pub fn client_identity(&self) -> Result<&ClientIdentity> {
        self.identity
            .get_or_init(|| ClientIdentity::from_creator(&self.tx.creator).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Identity(e.clone()))
    }

    /// Transient data, sorted by key.
    pub fn transient(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.tx.transient
    }

    /// Proposal binding: lets a chaincode check that a proposal is bound to its creator.
    pub fn binding(&self) -> &[u8] {
        &self.tx.binding
    }

    /// The signed proposal the transaction came from, if any.
    pub fn signed_proposal(&self) -> Option<&SignedProposal> {
        self.tx.signed_proposal.as_ref()
    }

    /// The client's timestamp for this transaction, the same on every endorser.
    pub fn tx_timestamp(&self) -> Result<Timestamp> {
        self.tx.timestamp.ok_or_else(|| {
            Error::Proposal(format!("[{}] proposal has no timestamp", crate::error::short_tx(self.tx_id())))
        })
    }

    /// Decorations the peer attached to the input.
    pub fn decorations(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.tx.decorations
    }

    /// Sets the transaction's chaincode event; a second call replaces the first,
    /// as Fabric keeps one event per transaction.
    pub fn set_event(&self, name: &str, payload: impl Into<Vec<u8>>) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidArgument("event name must not be empty".into()));
        }
        let mut slot = self.event.lock().map_err(|_| Error::Protocol("event lock poisoned".into()))?;
        *slot = Some(ChaincodeEvent { name: name.to_owned(), payload: payload.into() });
        Ok(())
    }

    /// The event set so far, if any.
    pub fn event(&self) -> Option<ChaincodeEvent> {
        self.event.lock().ok().and_then(|e| e.clone())
    }

    // ---- public state ----

    /// Current value of `key`, or `None` when absent.
    pub async fn get_state(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(non_empty(self.ledger.get_state("", key).await?))
    }

    /// Current values of several keys in one round trip when the peer supports it.
    pub async fn get_multiple_states(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        self.multiple("", keys).await
    }

    /// Writes `value` under `key`.
    pub async fn put_state(&self, key: &str, value: impl Into<Vec<u8>> + Send) -> Result<()> {
        check_key(key)?;
        self.ledger.put_state("", key, value.into()).await
    }

    /// Deletes `key`.
    pub async fn del_state(&self, key: &str) -> Result<()> {
        check_key(key)?;
        self.ledger.del_state("", key).await
    }

    /// Sets the endorsement policy of one key (key-level endorsement); see [`crate::policy`].
    pub async fn set_state_validation_parameter(&self, key: &str, policy: &[u8]) -> Result<()> {
        check_key(key)?;
        self.ledger.put_state_metadata("", key, VALIDATION_PARAMETER, policy.to_vec()).await
    }

    /// The endorsement policy of one key, if it has its own.
    pub async fn get_state_validation_parameter(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let md = self.ledger.get_state_metadata("", key).await?;
        Ok(md.get(VALIDATION_PARAMETER).cloned().and_then(non_empty))
    }

    /// Keys in `[start, end)`; an empty `start` means the first key, an empty `end` the last.
    pub async fn get_state_by_range(&self, start: &str, end: &str) -> Result<StateIterator> {
        self.range("", start, end).await
    }

    /// One page of keys in `[start, end)`. Fabric allows this only in read-only transactions.
    pub async fn get_state_by_range_with_pagination(
        &self,
        start: &str,
        end: &str,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageMetadata)> {
        let start = range_start(start);
        composite::validate_simple_keys(&[start, end])?;
        self.paged_range(start, end, page_size, bookmark).await
    }

    /// All keys of composite type `object_type` whose first attributes are `attributes`.
    pub async fn get_state_by_partial_composite_key(
        &self,
        object_type: &str,
        attributes: &[&str],
    ) -> Result<StateIterator> {
        let (start, end) = composite::partial_key_range(object_type, attributes)?;
        self.iterator(self.ledger.get_state_by_range("", &start, &end, None).await?)
    }

    /// One page of [`Stub::get_state_by_partial_composite_key`].
    pub async fn get_state_by_partial_composite_key_with_pagination(
        &self,
        object_type: &str,
        attributes: &[&str],
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageMetadata)> {
        let (start, end) = composite::partial_key_range(object_type, attributes)?;
        self.paged_range(&start, &end, page_size, bookmark).await
    }

    /// One page over every composite key in the public state.
    pub async fn get_all_states_composite_key_with_pagination(
        &self,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageMetadata)> {
        let (start, end) = composite::all_composite_keys_range();
        self.paged_range(&start, &end, page_size, bookmark).await
    }

    /// Builds a composite key; see [`crate::create_composite_key`].
    pub fn create_composite_key(&self, object_type: &str, attributes: &[&str]) -> Result<String> {
        composite::create_composite_key(object_type, attributes)
    }

    /// Splits a composite key; see [`crate::split_composite_key`].
    pub fn split_composite_key(&self, key: &str) -> Result<(String, Vec<String>)> {
        composite::split_composite_key(key)
    }

    /// A rich query (CouchDB selector JSON). Not re-checked at commit: use it to read only.
    pub async fn get_query_result(&self, query: &str) -> Result<StateIterator> {
        self.iterator(self.ledger.get_query_result("", query, None).await?)
    }

    /// One page of a rich query.
    pub async fn get_query_result_with_pagination(
        &self,
        query: &str,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageMetadata)> {
        let page = Some(PageRequest { page_size, bookmark: bookmark.to_owned() });
        let batch = self.ledger.get_query_result("", query, page).await?;
        self.paged(batch)
    }

    /// Every committed change of `key`, oldest first as the peer returns them.
    pub async fn get_history_for_key(&self, key: &str) -> Result<HistoryIterator> {
        check_key(key)?;
        self.iterator(self.ledger.get_history_for_key(key).await?)
    }

    // ---- private data ----

    /// Current private value, or `None` when absent or not visible to this peer's org.
    pub async fn get_private_data(&self, collection: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_collection(collection)?;
        Ok(non_empty(self.ledger.get_state(collection, key).await?))
    }

    /// Several private values in one round trip when the peer supports it.
    pub async fn get_multiple_private_data(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        check_collection(collection)?;
        self.multiple(collection, keys).await
    }

    /// SHA-256 of a private value as on the public ledger; readable by non-members.
    pub async fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_collection(collection)?;
        Ok(non_empty(self.ledger.get_private_data_hash(collection, key).await?))
    }

    /// Writes a private value.
    pub async fn put_private_data(&self, collection: &str, key: &str, value: impl Into<Vec<u8>> + Send) -> Result<()> {
        check_collection(collection)?;
        check_key(key)?;
        self.ledger.put_state(collection, key, value.into()).await
    }

    /// Deletes a private key (its past versions stay in the private store).
    pub async fn del_private_data(&self, collection: &str, key: &str) -> Result<()> {
        check_collection(collection)?;
        check_key(key)?;
        self.ledger.del_state(collection, key).await
    }

    /// Deletes a private key and purges its past versions from every peer
    /// (channel capability V2_5); the hashes stay on the ledger.
    pub async fn purge_private_data(&self, collection: &str, key: &str) -> Result<()> {
        check_collection(collection)?;
        check_key(key)?;
        self.ledger.purge_private_data(collection, key).await
    }

    /// Private keys in `[start, end)`.
    pub async fn get_private_data_by_range(&self, collection: &str, start: &str, end: &str) -> Result<StateIterator> {
        check_collection(collection)?;
        self.range(collection, start, end).await
    }

    /// Private keys of composite type `object_type` starting with `attributes`.
    pub async fn get_private_data_by_partial_composite_key(
        &self,
        collection: &str,
        object_type: &str,
        attributes: &[&str],
    ) -> Result<StateIterator> {
        check_collection(collection)?;
        let (start, end) = composite::partial_key_range(object_type, attributes)?;
        self.iterator(self.ledger.get_state_by_range(collection, &start, &end, None).await?)
    }

    /// A rich query over a private collection.
    pub async fn get_private_data_query_result(&self, collection: &str, query: &str) -> Result<StateIterator> {
        check_collection(collection)?;
        self.iterator(self.ledger.get_query_result(collection, query, None).await?)
    }

    /// Sets the endorsement policy of one private key.
    pub async fn set_private_data_validation_parameter(
        &self,
        collection: &str,
        key: &str,
        policy: &[u8],
    ) -> Result<()> {
        check_collection(collection)?;
        check_key(key)?;
        self.ledger.put_state_metadata(collection, key, VALIDATION_PARAMETER, policy.to_vec()).await
    }

    /// The endorsement policy of one private key, if it has its own.
    pub async fn get_private_data_validation_parameter(&self, collection: &str, key: &str) -> Result<Option<Vec<u8>>> {
        check_collection(collection)?;
        let md = self.ledger.get_state_metadata(collection, key).await?;
        Ok(md.get(VALIDATION_PARAMETER).cloned().and_then(non_empty))
    }

    // ---- other chaincodes ----

    /// Calls chaincode `name` (on `channel`, or this channel when `None`) inside
    /// this transaction. Its writes join this transaction only on the same channel.
    pub async fn invoke_chaincode(&self, name: &str, args: Vec<Vec<u8>>, channel: Option<&str>) -> Result<Response> {
        if name.is_empty() {
            return Err(Error::InvalidArgument("chaincode name must not be empty".into()));
        }
        let target = match channel {
            Some(ch) if !ch.is_empty() => format!("{name}/{ch}"),
            _ => name.to_owned(),
        };
        self.ledger.invoke_chaincode(&target, args).await
    }

    // ---- helpers ----

    async fn multiple(&self, collection: &str, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let owned: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let values = self.ledger.get_multiple_states(collection, &owned).await?;
        if values.len() != keys.len() {
            return Err(Error::Protocol(format!(
                "asked for {} keys, peer returned {} values",
                keys.len(),
                values.len()
            )));
        }
        Ok(values.into_iter().map(non_empty).collect())
    }

    async fn range(&self, collection: &str, start: &str, end: &str) -> Result<StateIterator> {
        let start = range_start(start);
        composite::validate_simple_keys(&[start, end])?;
        self.iterator(self.ledger.get_state_by_range(collection, start, end, None).await?)
    }

    async fn paged_range(
        &self,
        start: &str,
        end: &str,
        page_size: i32,
        bookmark: &str,
    ) -> Result<(StateIterator, PageMetadata)> {
        let page = Some(PageRequest { page_size, bookmark: bookmark.to_owned() });
        let batch = self.ledger.get_state_by_range("", start, end, page).await?;
        self.paged(batch)
    }

    fn paged(&self, batch: QueryBatch) -> Result<(StateIterator, PageMetadata)> {
        let metadata = batch.metadata.clone().unwrap_or_default();
        Ok((self.iterator(batch)?, metadata))
    }

    fn iterator<T: QueryResult>(&self, batch: QueryBatch) -> Result<QueryIterator<T>> {
        Ok(QueryIterator {
            ledger: self.ledger.clone(),
            buffer: batch.results.into(),
            has_more: batch.has_more,
            id: batch.id,
            _marker: PhantomData,
        })
    }
}

fn range_start(start: &str) -> &str {
    if start.is_empty() { composite::EMPTY_KEY_SUBSTITUTE } else { start }
}

fn non_empty(v: Vec<u8>) -> Option<Vec<u8>> {
    if v.is_empty() { None } else { Some(v) }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidArgument("key must not be empty".into()));
    }
    Ok(())
}

fn check_collection(collection: &str) -> Result<()> {
    if collection.is_empty() {
        return Err(Error::InvalidArgument("collection must not be empty".into()));
    }
    Ok(())
}

/// A result type a query iterator yields, decoded from the peer's bytes.
pub trait QueryResult: Sized + Send {
    /// Decodes one result.
    fn decode(bytes: &[u8]) -> Result<Self>;
}

impl QueryResult for KeyValue {
    fn decode(bytes: &[u8]) -> Result<Self> {
        let kv = fabric_protos::queryresult::Kv::decode(bytes)
            .map_err(|e| Error::Protocol(format!("cannot decode query result: {e}")))?;
        Ok(Self { key: kv.key, value: kv.value })
    }
}

impl QueryResult for KeyModification {
    fn decode(bytes: &[u8]) -> Result<Self> {
        let m = fabric_protos::queryresult::KeyModification::decode(bytes)
            .map_err(|e| Error::Protocol(format!("cannot decode history entry: {e}")))?;
        Ok(Self { tx_id: m.tx_id, value: m.value, timestamp: m.timestamp.map(Into::into), is_delete: m.is_delete })
    }
}

/// Walks a query's results, fetching further batches from the peer as needed.
pub struct QueryIterator<T> {
    ledger: Arc<dyn LedgerAccess>,
    buffer: VecDeque<Vec<u8>>,
    has_more: bool,
    id: String,
    _marker: PhantomData<fn() -> T>,
}

/// Iterator over range and rich query results.
pub type StateIterator = QueryIterator<KeyValue>;
/// Iterator over a key's history.
pub type HistoryIterator = QueryIterator<KeyModification>;

impl<T: QueryResult> QueryIterator<T> {
    /// The next result, or `None` when the query is exhausted.
    pub async fn next(&mut self) -> Result<Option<T>> {
        loop {
            if let Some(bytes) = self.buffer.pop_front() {
                return T::decode(&bytes).map(Some);
            }
            if !self.has_more {
                return Ok(None);
            }
            let batch = self.ledger.query_next(&self.id).await?;
            self.buffer = batch.results.into();
            self.has_more = batch.has_more;
            if !batch.id.is_empty() {
                self.id = batch.id;
            }
        }
    }

    /// Releases the query on the peer. Dropping without closing leaves the
    /// peer to release it when the transaction ends.
    pub async fn close(self) -> Result<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        self.ledger.query_close(&self.id).await
    }

    /// Reads every remaining result and closes the query.
    pub async fn collect_all(mut self) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.buffer.len());
        while let Some(item) = self.next().await? {
            out.push(item);
        }
        self.close().await?;
        Ok(out)
    }
}

/// Refuses writes, forwards reads.
struct ReadOnly(Arc<dyn LedgerAccess>);

fn refused(what: &str, key: &str) -> Error {
    Error::InvalidArgument(format!("{what} of {key:?} refused: this function is read-only"))
}

#[async_trait]
impl LedgerAccess for ReadOnly {
    async fn get_state(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        self.0.get_state(collection, key).await
    }
    async fn get_multiple_states(&self, collection: &str, keys: &[String]) -> Result<Vec<Vec<u8>>> {
        self.0.get_multiple_states(collection, keys).await
    }
    async fn put_state(&self, _: &str, key: &str, _: Vec<u8>) -> Result<()> {
        Err(refused("write", key))
    }
    async fn del_state(&self, _: &str, key: &str) -> Result<()> {
        Err(refused("delete", key))
    }
    async fn purge_private_data(&self, _: &str, key: &str) -> Result<()> {
        Err(refused("purge", key))
    }
    async fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        self.0.get_private_data_hash(collection, key).await
    }
    async fn get_state_metadata(&self, collection: &str, key: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        self.0.get_state_metadata(collection, key).await
    }
    async fn put_state_metadata(&self, _: &str, key: &str, _: &str, _: Vec<u8>) -> Result<()> {
        Err(refused("metadata write", key))
    }
    async fn get_state_by_range(
        &self,
        collection: &str,
        start: &str,
        end: &str,
        page: Option<PageRequest>,
    ) -> Result<QueryBatch> {
        self.0.get_state_by_range(collection, start, end, page).await
    }
    async fn get_query_result(&self, collection: &str, query: &str, page: Option<PageRequest>) -> Result<QueryBatch> {
        self.0.get_query_result(collection, query, page).await
    }
    async fn get_history_for_key(&self, key: &str) -> Result<QueryBatch> {
        self.0.get_history_for_key(key).await
    }
    async fn query_next(&self, id: &str) -> Result<QueryBatch> {
        self.0.query_next(id).await
    }
    async fn query_close(&self, id: &str) -> Result<()> {
        self.0.query_close(id).await
    }
    async fn invoke_chaincode(&self, name: &str, args: Vec<Vec<u8>>) -> Result<Response> {
        self.0.invoke_chaincode(name, args).await
    }
}

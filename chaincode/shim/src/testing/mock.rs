//! Runs a chaincode in-process against an in-memory ledger.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::FutureExt;

use super::ledger::{DEFAULT_BATCH_SIZE, MemoryLedger, TxSimulation};
use super::{Invocation, TxOutcome, fabric_tx_id, nth_timestamp};
use crate::chaincode::Chaincode;
use crate::error::{Error, Result};
use crate::response::{Response, status};
use crate::stub::{LedgerAccess, PageRequest, QueryBatch, Stub, TxContext};

/// An in-process stand-in for a peer: runs transactions one call at a time.
///
/// Writes are committed only when the chaincode answers below 400. Other
/// chaincodes can be registered to answer [`Stub::invoke_chaincode`].
pub struct MockStub {
    channel_id: String,
    ledger: MemoryLedger,
    counter: AtomicU64,
    batch_size: usize,
    others: Mutex<BTreeMap<String, Arc<dyn Chaincode>>>,
}

impl MockStub {
    /// A mock peer on channel `channel_id` with an empty ledger.
    pub fn new(channel_id: &str) -> Self {
        Self {
            channel_id: channel_id.to_owned(),
            ledger: MemoryLedger::new(),
            counter: AtomicU64::new(0),
            batch_size: DEFAULT_BATCH_SIZE,
            others: Mutex::new(BTreeMap::new()),
        }
    }

    /// Answers range queries in batches of `n` (to exercise iterator paging).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// The ledger, to seed or inspect.
    pub fn ledger(&self) -> &MemoryLedger {
        &self.ledger
    }

    /// Makes `chaincode` callable as `name` through `invoke_chaincode`.
    pub fn register_chaincode(&self, name: &str, chaincode: Arc<dyn Chaincode>) {
        if let Ok(mut others) = self.others.lock() {
            others.insert(name.to_owned(), chaincode);
        }
    }

    /// Runs one transaction and commits its writes if it succeeds.
    pub async fn invoke(&self, chaincode: &dyn Chaincode, call: Invocation) -> TxOutcome {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let tx_id = call.tx_id.clone().unwrap_or_else(|| fabric_tx_id(&n.to_be_bytes(), &call.creator));
        let timestamp = call.timestamp.unwrap_or_else(|| nth_timestamp(n));
        let ledger = Arc::new(MockLedger {
            sim: Arc::new(Mutex::new(Some(self.ledger.begin(self.batch_size)))),
            others: self.others.lock().map(|o| o.clone()).unwrap_or_default(),
            context: TxContext {
                tx_id: tx_id.clone(),
                channel_id: self.channel_id.clone(),
                creator: call.creator.clone(),
                transient: call.transient.clone(),
                timestamp: Some(timestamp),
                ..Default::default()
            },
        });
        let context = TxContext { args: call.args, ..ledger.context.clone() };
        let stub = Stub::new(ledger.clone(), context);
        let run = {
            let stub = stub.clone();
            async move { if call.init { chaincode.init(stub).await } else { chaincode.invoke(stub).await } }
        };
        let (response, error) = match std::panic::AssertUnwindSafe(run).catch_unwind().await {
            Ok(r) => (r, None),
            Err(_) => {
                let text = format!("[{}] chaincode panicked", crate::error::short_tx(&tx_id));
                (Response::error(status::INTERNAL, text.clone()), Some(text))
            }
        };
        let mut committed = false;
        if !response.is_error()
            && error.is_none()
            && let Some(sim) = ledger.sim.lock().ok().and_then(|mut s| s.take())
        {
            committed = sim.commit(&tx_id, Some(timestamp)).is_ok();
        }
        TxOutcome { tx_id, response, event: stub.event(), error, committed, requests: Vec::new() }
    }
}

struct MockLedger {
    sim: Arc<Mutex<Option<TxSimulation>>>,
    others: BTreeMap<String, Arc<dyn Chaincode>>,
    context: TxContext,
}

impl MockLedger {
    fn with<T>(&self, f: impl FnOnce(&mut TxSimulation) -> Result<T>) -> Result<T> {
        let mut guard = self.sim.lock().map_err(|_| Error::Protocol("mock ledger lock poisoned".into()))?;
        let sim = guard.as_mut().ok_or_else(|| Error::Protocol("transaction already finished".into()))?;
        f(sim)
    }
}

#[async_trait]
impl LedgerAccess for MockLedger {
    async fn get_state(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        self.with(|s| s.get_state(collection, key))
    }
    async fn get_multiple_states(&self, collection: &str, keys: &[String]) -> Result<Vec<Vec<u8>>> {
        self.with(|s| s.get_multiple_states(collection, keys))
    }
    async fn put_state(&self, collection: &str, key: &str, value: Vec<u8>) -> Result<()> {
        self.with(|s| s.put_state(collection, key, value))
    }
    async fn del_state(&self, collection: &str, key: &str) -> Result<()> {
        self.with(|s| s.del_state(collection, key))
    }
    async fn purge_private_data(&self, collection: &str, key: &str) -> Result<()> {
        self.with(|s| s.purge_private_data(collection, key))
    }
    async fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        self.with(|s| s.get_private_data_hash(collection, key))
    }
    async fn get_state_metadata(&self, collection: &str, key: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        self.with(|s| s.get_state_metadata(collection, key))
    }
    async fn put_state_metadata(&self, collection: &str, key: &str, metakey: &str, value: Vec<u8>) -> Result<()> {
        self.with(|s| s.put_state_metadata(collection, key, metakey, value))
    }
    async fn get_state_by_range(
        &self,
        collection: &str,
        start: &str,
        end: &str,
        page: Option<PageRequest>,
    ) -> Result<QueryBatch> {
        self.with(|s| s.get_state_by_range(collection, start, end, page))
    }
    async fn get_query_result(&self, collection: &str, query: &str, _page: Option<PageRequest>) -> Result<QueryBatch> {
        self.with(|s| s.get_query_result(collection, query))
    }
    async fn get_history_for_key(&self, key: &str) -> Result<QueryBatch> {
        self.with(|s| s.get_history_for_key(key))
    }
    async fn query_next(&self, id: &str) -> Result<QueryBatch> {
        self.with(|s| s.query_next(id))
    }
    async fn query_close(&self, id: &str) -> Result<()> {
        self.with(|s| s.query_close(id))
    }
    async fn invoke_chaincode(&self, name: &str, args: Vec<Vec<u8>>) -> Result<Response> {
        let target = name.split('/').next().unwrap_or(name);
        let Some(other) = self.others.get(target).cloned() else {
            return Ok(Response::error(
                status::INTERNAL,
                format!("chaincode {target} is not registered with the mock stub"),
            ));
        };
        // The called chaincode shares this transaction's simulation, as on a peer (same channel).
        let shared = MockLedger { sim: self.sim.clone(), others: self.others.clone(), context: self.context.clone() };
        let stub = Stub::new(Arc::new(shared), TxContext { args, ..self.context.clone() });
        Ok(other.invoke(stub).await)
    }
}

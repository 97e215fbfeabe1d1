//! An in-memory ledger with Fabric's transaction rules, shared by the mock stub
//! and the peer simulator.
//!
//! Reads see only committed state (Fabric has no read-your-writes inside a
//! transaction). Writes collect in a [`TxSimulation`] and reach the ledger only
//! when the transaction succeeds. Public keys keep their history; private
//! keys do not, as on a real peer. Rich queries are refused, as on a LevelDB
//! peer.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

use fabric_protos::queryresult::{KeyModification as KeyModificationProto, Kv};
use prost::Message;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::stub::{PageMetadata, PageRequest, QueryBatch, Timestamp};

/// How many results the simulated peer sends per batch, like the real peer's default.
pub const DEFAULT_BATCH_SIZE: usize = 100;

#[derive(Debug, Default)]
struct State {
    public: BTreeMap<String, Vec<u8>>,
    private: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    metadata: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
    history: BTreeMap<String, Vec<KeyModificationProto>>,
    committed_txs: u64,
}

/// Committed world state, private data, metadata and history.
///
/// Cheap to clone; clones share the same ledger.
#[derive(Debug, Clone, Default)]
pub struct MemoryLedger {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    Put(Vec<u8>),
    Delete,
    Purge,
}

/// One transaction's pending writes and open queries.
#[derive(Debug)]
pub struct TxSimulation {
    ledger: MemoryLedger,
    batch_size: usize,
    writes: BTreeMap<(String, String), Write>,
    metadata_writes: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
    queries: HashMap<String, VecDeque<Vec<u8>>>,
    next_query: u64,
    paginated: bool,
    private_queried: bool,
}

fn lock(state: &Mutex<State>) -> Result<std::sync::MutexGuard<'_, State>> {
    state.lock().map_err(|_| Error::Protocol("in-memory ledger lock poisoned".into()))
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a transaction that answers queries in batches of `batch_size`.
    pub fn begin(&self, batch_size: usize) -> TxSimulation {
        TxSimulation {
            ledger: self.clone(),
            batch_size: batch_size.max(1),
            writes: BTreeMap::new(),
            metadata_writes: BTreeMap::new(),
            queries: HashMap::new(),
            next_query: 0,
            paginated: false,
            private_queried: false,
        }
    }

    /// Committed public value.
    pub fn state(&self, key: &str) -> Option<Vec<u8>> {
        lock(&self.state).ok()?.public.get(key).cloned()
    }

    /// Committed private value.
    pub fn private_data(&self, collection: &str, key: &str) -> Option<Vec<u8>> {
        lock(&self.state).ok()?.private.get(collection)?.get(key).cloned()
    }

    /// Writes a public value directly, outside any transaction (test set-up).
    pub fn seed_state(&self, key: &str, value: &[u8]) {
        if let Ok(mut s) = lock(&self.state) {
            s.public.insert(key.to_owned(), value.to_vec());
        }
    }

    /// Writes a private value directly, outside any transaction (test set-up).
    pub fn seed_private_data(&self, collection: &str, key: &str, value: &[u8]) {
        if let Ok(mut s) = lock(&self.state) {
            s.private.entry(collection.to_owned()).or_default().insert(key.to_owned(), value.to_vec());
        }
    }

    /// Every committed public key and value, sorted by key.
    pub fn public_state(&self) -> BTreeMap<String, Vec<u8>> {
        lock(&self.state).map(|s| s.public.clone()).unwrap_or_default()
    }

    /// Every committed key and value of one private data collection, sorted by key.
    pub fn private_state(&self, collection: &str) -> BTreeMap<String, Vec<u8>> {
        lock(&self.state).ok().and_then(|s| s.private.get(collection).cloned()).unwrap_or_default()
    }

    /// The committed key-level endorsement policy (validation parameter) of a
    /// key; `collection` is empty for public state.
    pub fn validation_parameter(&self, collection: &str, key: &str) -> Option<Vec<u8>> {
        let s = lock(&self.state).ok()?;
        s.metadata.get(&(collection.to_owned(), key.to_owned()))?.get(crate::stub::VALIDATION_PARAMETER).cloned()
    }

    /// Number of transactions committed so far.
    pub fn committed_transactions(&self) -> u64 {
        lock(&self.state).map(|s| s.committed_txs).unwrap_or(0)
    }
}

impl TxSimulation {
    fn read(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        let s = lock(&self.ledger.state)?;
        let value = if collection.is_empty() {
            s.public.get(key).cloned()
        } else {
            s.private.get(collection).and_then(|c| c.get(key).cloned())
        };
        Ok(value.unwrap_or_default())
    }

    /// Committed value, empty when absent.
    pub fn get_state(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        self.read(collection, key)
    }

    /// Committed values of several keys.
    pub fn get_multiple_states(&self, collection: &str, keys: &[String]) -> Result<Vec<Vec<u8>>> {
        keys.iter().map(|k| self.read(collection, k)).collect()
    }

    /// SHA-256 of a committed private value, empty when absent.
    pub fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        let v = self.read(collection, key)?;
        Ok(if v.is_empty() { Vec::new() } else { Sha256::digest(&v).to_vec() })
    }

    fn check_writable(&self) -> Result<()> {
        if self.paginated {
            return Err(Error::InvalidArgument(
                "paginated queries are supported only in read-only transactions; this one already ran one".into(),
            ));
        }
        // As the peer's simulator: a private range query cannot be validated
        // at commit, so a transaction that ran one may not write.
        if self.private_queried {
            return Err(Error::InvalidArgument(
                "transaction has already performed queries on private data; writes are not allowed".into(),
            ));
        }
        Ok(())
    }

    /// Queues a write.
    pub fn put_state(&mut self, collection: &str, key: &str, value: Vec<u8>) -> Result<()> {
        self.check_writable()?;
        let w = if value.is_empty() { Write::Delete } else { Write::Put(value) };
        self.writes.insert((collection.to_owned(), key.to_owned()), w);
        Ok(())
    }

    /// Queues a delete.
    pub fn del_state(&mut self, collection: &str, key: &str) -> Result<()> {
        self.check_writable()?;
        self.writes.insert((collection.to_owned(), key.to_owned()), Write::Delete);
        Ok(())
    }

    /// Queues a purge of a private key.
    pub fn purge_private_data(&mut self, collection: &str, key: &str) -> Result<()> {
        self.check_writable()?;
        if collection.is_empty() {
            return Err(Error::InvalidArgument("purge applies to private data collections only".into()));
        }
        self.writes.insert((collection.to_owned(), key.to_owned()), Write::Purge);
        Ok(())
    }

    /// Committed metadata of a key.
    pub fn get_state_metadata(&self, collection: &str, key: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        let s = lock(&self.ledger.state)?;
        Ok(s.metadata.get(&(collection.to_owned(), key.to_owned())).cloned().unwrap_or_default())
    }

    /// Queues a metadata entry.
    pub fn put_state_metadata(&mut self, collection: &str, key: &str, metakey: &str, value: Vec<u8>) -> Result<()> {
        self.check_writable()?;
        self.metadata_writes
            .entry((collection.to_owned(), key.to_owned()))
            .or_default()
            .insert(metakey.to_owned(), value);
        Ok(())
    }

    /// A range query over committed state, answered in batches.
    pub fn get_state_by_range(
        &mut self,
        collection: &str,
        start: &str,
        end: &str,
        page: Option<PageRequest>,
    ) -> Result<QueryBatch> {
        // The shims send "\x01" for "from the first key"; like the peer, use it as
        // is, so that composite keys (which start with "\x00") stay out of range.
        let (start, limit) = match &page {
            Some(p) => {
                if self.has_writes() {
                    return Err(Error::InvalidArgument(
                        "paginated queries are supported only in read-only transactions".into(),
                    ));
                }
                self.paginated = true;
                let from = if p.bookmark.is_empty() { start.to_owned() } else { p.bookmark.clone() };
                (from, if p.page_size > 0 { Some(p.page_size as usize) } else { None })
            }
            None => (start.to_owned(), None),
        };
        if !collection.is_empty() {
            if self.has_writes() {
                return Err(Error::InvalidArgument(
                    "queries on private data are supported only in read-only transactions; this one already wrote"
                        .into(),
                ));
            }
            self.private_queried = true;
        }
        let s = lock(&self.ledger.state)?;
        let empty = BTreeMap::new();
        let map = if collection.is_empty() { &s.public } else { s.private.get(collection).unwrap_or(&empty) };
        let upper = if end.is_empty() { Bound::Unbounded } else { Bound::Excluded(end.to_owned()) };
        let lower = Bound::Included(start);
        let mut matched = map.range::<String, _>((lower, upper)).map(|(k, v)| (k.clone(), v.clone()));
        let mut rows = Vec::new();
        let mut bookmark = String::new();
        for (k, v) in matched.by_ref() {
            if limit.is_some_and(|l| rows.len() == l) {
                bookmark = k;
                break;
            }
            rows.push(Kv { namespace: String::new(), key: k, value: v }.encode_to_vec());
        }
        drop(s);
        let metadata =
            page.map(|_| PageMetadata { fetched_records_count: rows.len() as i32, bookmark: bookmark.clone() });
        let mut batch = self.open(rows);
        batch.metadata = metadata;
        Ok(batch)
    }

    /// Rich queries need CouchDB; the in-memory ledger behaves like a LevelDB peer.
    pub fn get_query_result(&mut self, _collection: &str, _query: &str) -> Result<QueryBatch> {
        Err(Error::InvalidArgument("ExecuteQuery not supported for leveldb".into()))
    }

    /// Committed history of a public key, newest first as Fabric returns it.
    pub fn get_history_for_key(&mut self, key: &str) -> Result<QueryBatch> {
        let rows: Vec<Vec<u8>> = {
            let s = lock(&self.ledger.state)?;
            s.history.get(key).map(|h| h.iter().rev().map(|m| m.encode_to_vec()).collect()).unwrap_or_default()
        };
        Ok(self.open(rows))
    }

    /// The next batch of an open query.
    pub fn query_next(&mut self, id: &str) -> Result<QueryBatch> {
        let Some(mut rest) = self.queries.remove(id) else {
            return Err(Error::InvalidArgument(format!("query iterator {id} not found")));
        };
        let take: Vec<Vec<u8>> = rest.drain(..rest.len().min(self.batch_size)).collect();
        let has_more = !rest.is_empty();
        if has_more {
            self.queries.insert(id.to_owned(), rest);
        }
        Ok(QueryBatch { results: take, has_more, id: id.to_owned(), metadata: None })
    }

    /// Closes an open query.
    pub fn query_close(&mut self, id: &str) -> Result<()> {
        self.queries.remove(id);
        Ok(())
    }

    /// Ids of queries still open (for tests that check iterators are closed).
    pub fn open_queries(&self) -> usize {
        self.queries.len()
    }

    fn open(&mut self, mut rows: Vec<Vec<u8>>) -> QueryBatch {
        self.next_query += 1;
        let id = format!("q{}", self.next_query);
        let rest: VecDeque<Vec<u8>> =
            if rows.len() > self.batch_size { rows.split_off(self.batch_size).into() } else { VecDeque::new() };
        let has_more = !rest.is_empty();
        if has_more {
            self.queries.insert(id.clone(), rest);
        }
        QueryBatch { results: rows, has_more, id, metadata: None }
    }

    /// Whether the transaction has written anything.
    pub fn has_writes(&self) -> bool {
        !self.writes.is_empty() || !self.metadata_writes.is_empty()
    }

    /// Applies the writes to the ledger, recording history for public keys.
    pub fn commit(self, tx_id: &str, timestamp: Option<Timestamp>) -> Result<()> {
        let mut s = lock(&self.ledger.state)?;
        for ((collection, key), write) in self.writes {
            if collection.is_empty() {
                let (value, is_delete) = match &write {
                    Write::Put(v) => (v.clone(), false),
                    _ => (Vec::new(), true),
                };
                match write {
                    Write::Put(v) => s.public.insert(key.clone(), v),
                    _ => s.public.remove(&key),
                };
                s.history.entry(key).or_default().push(KeyModificationProto {
                    tx_id: tx_id.to_owned(),
                    value,
                    timestamp: timestamp.map(Into::into),
                    is_delete,
                });
            } else {
                let c = s.private.entry(collection.clone()).or_default();
                match write {
                    Write::Put(v) => {
                        c.insert(key, v);
                    }
                    Write::Delete => {
                        c.remove(&key);
                    }
                    Write::Purge => {
                        c.remove(&key);
                        s.metadata.remove(&(collection, key));
                    }
                }
            }
        }
        for (slot, entries) in self.metadata_writes {
            s.metadata.entry(slot).or_default().extend(entries);
        }
        s.committed_txs += 1;
        Ok(())
    }
}

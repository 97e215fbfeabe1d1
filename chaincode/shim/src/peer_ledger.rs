//! Ledger access over the peer connection, for one transaction.
//!
//! Each call is one request to the peer through the [`Handler`], except writes
//! when the peer offered write batching: those collect here and go out in
//! WRITE_BATCH_STATE messages just before the transaction completes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use fabric_protos::protos::chaincode_message::Type as MsgType;
use fabric_protos::protos::write_record::Type as WriteType;
use fabric_protos::protos::{
    ChaincodeInput, ChaincodeMessage, ChaincodeSpec, DelState, GetHistoryForKey, GetQueryResult, GetState,
    GetStateByRange, GetStateMetadata, GetStateMultiple, GetStateMultipleResult, PutState, PutStateMetadata,
    QueryMetadata, QueryResponse, QueryResponseMetadata, QueryStateClose, QueryStateNext, StateMetadata,
    StateMetadataResult, WriteBatchState, WriteRecord,
};
use prost::Message;

use crate::error::{Error, Result, short_tx};
use crate::handler::Handler;
use crate::response::Response;
use crate::stub::{LedgerAccess, PageMetadata, PageRequest, QueryBatch};

/// A pending write in a batch; later writes to the same slot replace earlier ones.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Slot {
    collection: String,
    key: String,
    metadata: bool,
}

pub(crate) struct PeerLedger {
    handler: Arc<Handler>,
    channel_id: String,
    tx_id: String,
    /// Serialises this transaction's requests: Fabric allows one outstanding at a time.
    turn: tokio::sync::Mutex<()>,
    /// Present when the peer offered write batching. Ordered, so batches are deterministic.
    batch: Option<Mutex<BTreeMap<Slot, WriteRecord>>>,
}

impl PeerLedger {
    pub(crate) fn new(handler: Arc<Handler>, channel_id: &str, tx_id: &str) -> Self {
        let batch = handler.features().write_batch.map(|_| Mutex::new(BTreeMap::new()));
        Self {
            handler,
            channel_id: channel_id.to_owned(),
            tx_id: tx_id.to_owned(),
            turn: tokio::sync::Mutex::new(()),
            batch,
        }
    }

    /// Sends the collected writes, in chunks the peer accepts.
    pub(crate) async fn flush(&self) -> Result<()> {
        let Some(batch) = &self.batch else { return Ok(()) };
        let records: Vec<WriteRecord> = {
            let mut b = batch.lock().map_err(|_| Error::Protocol("write batch poisoned".into()))?;
            std::mem::take(&mut *b).into_values().collect()
        };
        let chunk = self.handler.features().write_batch.unwrap_or(u32::MAX).max(1) as usize;
        for part in records.chunks(chunk) {
            let payload = WriteBatchState { rec: part.to_vec() }.encode_to_vec();
            self.call(MsgType::WriteBatchState, payload).await?;
        }
        Ok(())
    }

    /// Queues a write when batching, or sends it now.
    async fn write(&self, record: WriteRecord, ty: MsgType, payload: impl FnOnce() -> Vec<u8>) -> Result<()> {
        if let Some(batch) = &self.batch {
            let slot = Slot {
                collection: record.collection.clone(),
                key: record.key.clone(),
                metadata: record.r#type == WriteType::PutStateMetadata as i32,
            };
            batch.lock().map_err(|_| Error::Protocol("write batch poisoned".into()))?.insert(slot, record);
            return Ok(());
        }
        self.call(ty, payload()).await.map(|_| ())
    }

    /// One request/response exchange; returns the RESPONSE payload.
    async fn call(&self, ty: MsgType, payload: Vec<u8>) -> Result<Vec<u8>> {
        let _turn = self.turn.lock().await;
        let reply: ChaincodeMessage = self.handler.request(&self.channel_id, &self.tx_id, ty, payload).await?;
        match MsgType::try_from(reply.r#type) {
            Ok(MsgType::Response) => Ok(reply.payload),
            Ok(MsgType::Error) => Err(Error::Peer {
                tx: short_tx(&self.tx_id),
                request: ty.as_str_name(),
                message: String::from_utf8_lossy(&reply.payload).into_owned(),
            }),
            _ => Err(Error::Protocol(format!(
                "[{}] expected RESPONSE or ERROR to {}, got type {}",
                short_tx(&self.tx_id),
                ty.as_str_name(),
                reply.r#type
            ))),
        }
    }

    async fn query(&self, ty: MsgType, payload: Vec<u8>) -> Result<QueryBatch> {
        let bytes = self.call(ty, payload).await?;
        let r = QueryResponse::decode(bytes.as_slice())
            .map_err(|e| Error::Protocol(format!("[{}] cannot decode QueryResponse: {e}", short_tx(&self.tx_id))))?;
        let metadata = if r.metadata.is_empty() {
            None
        } else {
            let m = QueryResponseMetadata::decode(r.metadata.as_slice()).map_err(|e| {
                Error::Protocol(format!("[{}] cannot decode QueryResponseMetadata: {e}", short_tx(&self.tx_id)))
            })?;
            Some(PageMetadata { fetched_records_count: m.fetched_records_count, bookmark: m.bookmark })
        };
        Ok(QueryBatch {
            results: r.results.into_iter().map(|b| b.result_bytes).collect(),
            has_more: r.has_more,
            id: r.id,
            metadata,
        })
    }
}

fn page_bytes(page: Option<PageRequest>) -> Vec<u8> {
    page.map(|p| QueryMetadata { page_size: p.page_size, bookmark: p.bookmark }.encode_to_vec()).unwrap_or_default()
}

#[async_trait]
impl LedgerAccess for PeerLedger {
    async fn get_state(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        let payload = GetState { key: key.into(), collection: collection.into() }.encode_to_vec();
        self.call(MsgType::GetState, payload).await
    }

    async fn get_multiple_states(&self, collection: &str, keys: &[String]) -> Result<Vec<Vec<u8>>> {
        let Some(max) = self.handler.features().get_multiple else {
            let mut values = Vec::with_capacity(keys.len());
            for key in keys {
                values.push(self.get_state(collection, key).await?);
            }
            return Ok(values);
        };
        let mut values = Vec::with_capacity(keys.len());
        for part in keys.chunks(max.max(1) as usize) {
            let payload = GetStateMultiple { keys: part.to_vec(), collection: collection.into() }.encode_to_vec();
            let bytes = self.call(MsgType::GetStateMultiple, payload).await?;
            let result = GetStateMultipleResult::decode(bytes.as_slice()).map_err(|e| {
                Error::Protocol(format!("[{}] cannot decode GetStateMultipleResult: {e}", short_tx(&self.tx_id)))
            })?;
            values.extend(result.values);
        }
        Ok(values)
    }

    async fn put_state(&self, collection: &str, key: &str, value: Vec<u8>) -> Result<()> {
        let record = WriteRecord {
            key: key.into(),
            value: value.clone(),
            collection: collection.into(),
            r#type: WriteType::PutState as i32,
            ..Default::default()
        };
        self.write(record, MsgType::PutState, || {
            PutState { key: key.into(), value, collection: collection.into() }.encode_to_vec()
        })
        .await
    }

    async fn del_state(&self, collection: &str, key: &str) -> Result<()> {
        let record = WriteRecord {
            key: key.into(),
            collection: collection.into(),
            r#type: WriteType::DelState as i32,
            ..Default::default()
        };
        self.write(record, MsgType::DelState, || {
            DelState { key: key.into(), collection: collection.into() }.encode_to_vec()
        })
        .await
    }

    async fn purge_private_data(&self, collection: &str, key: &str) -> Result<()> {
        let record = WriteRecord {
            key: key.into(),
            collection: collection.into(),
            r#type: WriteType::PurgePrivateData as i32,
            ..Default::default()
        };
        self.write(record, MsgType::PurgePrivateData, || {
            DelState { key: key.into(), collection: collection.into() }.encode_to_vec()
        })
        .await
    }

    async fn get_private_data_hash(&self, collection: &str, key: &str) -> Result<Vec<u8>> {
        let payload = GetState { key: key.into(), collection: collection.into() }.encode_to_vec();
        self.call(MsgType::GetPrivateDataHash, payload).await
    }

    async fn get_state_metadata(&self, collection: &str, key: &str) -> Result<BTreeMap<String, Vec<u8>>> {
        let payload = GetStateMetadata { key: key.into(), collection: collection.into() }.encode_to_vec();
        let bytes = self.call(MsgType::GetStateMetadata, payload).await?;
        let result = StateMetadataResult::decode(bytes.as_slice()).map_err(|e| {
            Error::Protocol(format!("[{}] cannot decode StateMetadataResult: {e}", short_tx(&self.tx_id)))
        })?;
        Ok(result.entries.into_iter().map(|e| (e.metakey, e.value)).collect())
    }

    async fn put_state_metadata(&self, collection: &str, key: &str, metakey: &str, value: Vec<u8>) -> Result<()> {
        let metadata = StateMetadata { metakey: metakey.into(), value };
        let record = WriteRecord {
            key: key.into(),
            collection: collection.into(),
            metadata: Some(metadata.clone()),
            r#type: WriteType::PutStateMetadata as i32,
            ..Default::default()
        };
        self.write(record, MsgType::PutStateMetadata, || {
            PutStateMetadata { key: key.into(), collection: collection.into(), metadata: Some(metadata) }
                .encode_to_vec()
        })
        .await
    }

    async fn get_state_by_range(
        &self,
        collection: &str,
        start: &str,
        end: &str,
        page: Option<PageRequest>,
    ) -> Result<QueryBatch> {
        let payload = GetStateByRange {
            start_key: start.into(),
            end_key: end.into(),
            collection: collection.into(),
            metadata: page_bytes(page),
        }
        .encode_to_vec();
        self.query(MsgType::GetStateByRange, payload).await
    }

    async fn get_query_result(&self, collection: &str, query: &str, page: Option<PageRequest>) -> Result<QueryBatch> {
        let payload = GetQueryResult { query: query.into(), collection: collection.into(), metadata: page_bytes(page) }
            .encode_to_vec();
        self.query(MsgType::GetQueryResult, payload).await
    }

    async fn get_history_for_key(&self, key: &str) -> Result<QueryBatch> {
        self.query(MsgType::GetHistoryForKey, GetHistoryForKey { key: key.into() }.encode_to_vec()).await
    }

    async fn query_next(&self, id: &str) -> Result<QueryBatch> {
        self.query(MsgType::QueryStateNext, QueryStateNext { id: id.into() }.encode_to_vec()).await
    }

    async fn query_close(&self, id: &str) -> Result<()> {
        self.call(MsgType::QueryStateClose, QueryStateClose { id: id.into() }.encode_to_vec()).await.map(|_| ())
    }

    async fn invoke_chaincode(&self, name: &str, args: Vec<Vec<u8>>) -> Result<Response> {
        let spec = ChaincodeSpec {
            chaincode_id: Some(fabric_protos::protos::ChaincodeId { name: name.into(), ..Default::default() }),
            input: Some(ChaincodeInput { args, ..Default::default() }),
            ..Default::default()
        };
        let bytes = self.call(MsgType::InvokeChaincode, spec.encode_to_vec()).await?;
        let inner = ChaincodeMessage::decode(bytes.as_slice()).map_err(|e| {
            Error::Protocol(format!("[{}] cannot decode the called chaincode's reply: {e}", short_tx(&self.tx_id)))
        })?;
        if inner.r#type != MsgType::Completed as i32 {
            return Ok(Response::error(
                crate::response::status::INTERNAL,
                String::from_utf8_lossy(&inner.payload).into_owned(),
            ));
        }
        let response = fabric_protos::protos::Response::decode(inner.payload.as_slice()).map_err(|e| {
            Error::Protocol(format!("[{}] cannot decode the called chaincode's response: {e}", short_tx(&self.tx_id)))
        })?;
        Ok(response.into())
    }
}

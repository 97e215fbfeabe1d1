//! A Hyperledger Fabric chaincode shim for Rust, served as chaincode-as-a-service.
//!
//! The peer dials the chaincode server ([`serve`]); the server speaks Fabric's
//! chaincode protocol over that stream and runs each transaction against a
//! [`Stub`], the same API the official Go shim offers. Chaincode is written
//! either as a raw [`Chaincode`] or, usually, as [`Contract`]s behind a
//! [`Router`] with typed JSON arguments and `GetMetadata` support.
//!
//! # Layout
//! - `server`: the gRPC server the peer connects to: TLS, keepalive, message limits, graceful shutdown.
//! - `handler`: all protocol state of one stream: handshake, routing of replies, transaction tasks.
//! - `peer_ledger`: ledger calls of one transaction as peer requests, with write batching.
//! - `stub`: the per-transaction API chaincode calls, and the [`LedgerAccess`] it runs on.
//! - the submitter's identity ([`ClientIdentity`], from the `fabric-identity` crate), as Fabric's `cid` package reads it.
//! - `contract`: contracts, the router and the metadata.
//! - `composite`: composite keys. `policy`: key-level endorsement policies.
//! - [`testing`] (feature `testing`): mock stub, peer simulator and test certificates.
//!
//! # Invariants
//! - Only the handler writes to the stream, through one channel.
//! - The library reads no environment variables; binaries pass settings in.
//! - Nothing from the network can panic the server: a panic in chaincode code
//!   fails that transaction only.

mod chaincode;
mod composite;
mod contract;
mod error;
mod handler;
mod peer_ledger;
pub mod policy;
mod response;
mod server;
mod stub;
#[cfg(feature = "testing")]
pub mod testing;

pub use chaincode::Chaincode;
pub use composite::{create_composite_key, split_composite_key};
pub use contract::{
    Contract, ContractError, GET_METADATA, Param, Params, Returns, Router, RouterBuilder, SYSTEM_CONTRACT,
};
pub use error::{Error, Result};
pub use fabric_identity::ClientIdentity;
pub use response::{Response, status};
pub use server::{KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, MAX_MESSAGE_SIZE, ServerConfig, TlsConfig, env, serve};
pub use stub::{
    ChaincodeEvent, HistoryIterator, KeyModification, KeyValue, LedgerAccess, PageMetadata, PageRequest, QueryBatch,
    QueryIterator, QueryResult, StateIterator, Stub, Timestamp, TxContext,
};

/// Re-exported so chaincode authors use the same protobuf types as the shim.
pub use fabric_protos;

//! Rust bindings for Hyperledger Fabric's protobuf wire schema.
//!
//! Fabric peers, orderers, gateways and chaincode processes talk to each
//! other in protobuf over gRPC. To interoperate, every message, field number,
//! field type and enum value has to match Fabric exactly. This crate holds a
//! hand-written mirror of the subset of Fabric's `.proto` files that a
//! chaincode shim and a gateway client need (see `proto/`), compiled at build
//! time with [`protox`](https://docs.rs/protox) (pure Rust, no system `protoc`)
//! and `tonic-prost-build` into [`prost`] messages plus [`tonic`] clients and
//! servers for the services.
//!
//! Wire compatibility is pinned by `tests/wire_fixtures.rs`, which decodes and
//! re-encodes byte fixtures produced by Fabric's official Python bindings.
//!
//! # Layout
//!
//! Each Rust module corresponds to one protobuf *package* (not one file), so
//! cross-package references emitted by prost (`super::common::Envelope`)
//! resolve between sibling modules:
//!
//! - [`protos`]: Fabric's peer package (named `protos` upstream): the
//!   chaincode shim protocol ([`protos::ChaincodeMessage`] and its payloads,
//!   the `ChaincodeSupport` / `Chaincode` services), chaincode specs,
//!   proposals and proposal responses, transactions and validation codes,
//!   chaincode events, private data collection config, application policies,
//!   the `Deliver` event service and the `Endorser` service.
//! - [`common`]: envelopes, headers, blocks, status codes, policies
//!   (`SignaturePolicyEnvelope`, ...), MSP principals (Fabric declares
//!   `msp/msp_principal.proto` in package `common`) and `BlockchainInfo`.
//! - [`msp`]: serialized X.509 and Idemix identities.
//! - [`queryresult`]: ledger query records (`KV`, `KeyModification`).
//! - [`rwset`]: transaction read-write sets.
//! - [`kvrwset`]: key-value read-write sets.
//! - [`gateway`]: the Fabric Gateway service and its messages.
//! - [`orderer`]: atomic broadcast / deliver and block seek requests.
//!
//! Well-known types (`google.protobuf.Timestamp`, ...) map to [`prost_types`].
//!
//! # Naming
//!
//! prost converts names to Rust conventions: `ChaincodeID` becomes
//! [`protos::ChaincodeId`], `KVRWSet` becomes [`kvrwset::KvrwSet`], nested
//! enums and oneofs live in a snake-case module named after their message
//! (for example [`protos::chaincode_message::Type`]), and fields named
//! `type` are `r#type`. Enum-typed fields are stored as `i32`; use the
//! generated accessors (e.g. `ChaincodeMessage::r#type()`) or
//! `TryFrom<i32>` to get the enum.

pub use prost;
pub use prost_types;

/// Fabric's peer package (`package protos;`): chaincode shim protocol,
/// proposals, transactions, events and peer services.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod protos {
    include!(concat!(env!("OUT_DIR"), "/protos.rs"));
}

/// Fabric's `common` package: envelopes, headers, blocks, policies and MSP
/// principals.
#[allow(missing_docs, unreachable_pub, deprecated, clippy::all)]
pub mod common {
    include!(concat!(env!("OUT_DIR"), "/common.rs"));
}

/// Fabric's `msp` package: serialized identities.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod msp {
    include!(concat!(env!("OUT_DIR"), "/msp.rs"));
}

/// Fabric's `queryresult` package: records returned by ledger queries.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod queryresult {
    include!(concat!(env!("OUT_DIR"), "/queryresult.rs"));
}

/// Fabric's `rwset` package: transaction read-write sets.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod rwset {
    include!(concat!(env!("OUT_DIR"), "/rwset.rs"));
}

/// Fabric's `kvrwset` package: key-value read-write sets.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod kvrwset {
    include!(concat!(env!("OUT_DIR"), "/kvrwset.rs"));
}

/// Fabric's `gateway` package: the Fabric Gateway service.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod gateway {
    include!(concat!(env!("OUT_DIR"), "/gateway.rs"));
}

/// Fabric's `orderer` package: atomic broadcast and block delivery.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod orderer {
    include!(concat!(env!("OUT_DIR"), "/orderer.rs"));
}

//! A client for Hyperledger Fabric's Gateway service, at parity with the
//! official Go and Node clients: evaluate, submit (endorse, order, wait for
//! commit), asynchronous submit, step-by-step calls for offline signing,
//! chaincode events with checkpoints, block events, and a retry helper for
//! read conflicts.
//!
//! ```no_run
//! # async fn demo() -> fabric_gateway_client::Result<()> {
//! use fabric_gateway_client::{Gateway, Identity, Signer};
//! let identity = Identity::from_file("HospitalAMSP", "msp/signcerts/cert.pem".as_ref())?;
//! let signer = Signer::from_file("msp/keystore/key.pem".as_ref())?;
//! let root = std::fs::read("tlsca.pem").map_err(|e| fabric_gateway_client::GatewayError::Usage(e.to_string()))?;
//! let gateway = Gateway::builder("127.0.0.1:7051").tls_root(root).identity(identity).signer(signer).connect().await?;
//! let contract = gateway.network("ehr").contract("ehr");
//! let patient = contract.evaluate("ReadPatient", &["P-0001"]).await?;
//! # Ok(()) }
//! ```
//!
//! Modules follow the official clients' shape: [`gateway`], [`network`],
//! [`contract`], [`proposal`], [`transaction`], [`commit`], [`events`],
//! [`blocks`], [`checkpoint`], [`retry`] and [`error`]. Identities and
//! signers come from `fabric-identity` and are re-exported here.
//! Cancelling a call is dropping its future or stream: the gRPC call is
//! cancelled with it.

pub mod blocks;
pub mod checkpoint;
pub mod commit;
pub mod contract;
pub mod error;
pub mod events;
pub mod gateway;
mod header;
pub mod network;
pub mod proposal;
pub mod retry;
pub mod transaction;

pub use checkpoint::{Checkpointer, FileCheckpointer, InMemoryCheckpointer, Position};
pub use commit::{Commit, CommitStatus, Status};
pub use contract::{CallBuilder, Contract};
pub use error::{ChaincodeFailure, EndorserDetail, GatewayError, Result};
pub use events::{ChaincodeEvent, EventStream, Start};
pub use fabric_identity::{Identity, IdentityError, Signer};
pub use gateway::{Gateway, GatewayBuilder, Timeouts};
pub use network::Network;
pub use proposal::Proposal;
pub use retry::{RetryPolicy, retry_on_conflict};
pub use transaction::{SubmittedTransaction, Transaction};

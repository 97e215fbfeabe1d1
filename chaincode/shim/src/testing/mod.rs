//! Harnesses for testing chaincode without a Fabric network.
//!
//! - [`MockStub`] runs a chaincode in-process against a [`MemoryLedger`]: fast
//!   unit tests of contract logic.
//! - [`PeerSimulator`] speaks the peer's side of `Chaincode/Connect` over real
//!   gRPC to a running chaincode server (ours or any other), with the same
//!   in-memory ledger: tests of the wire protocol and of servers in other
//!   languages.
//! - [`TestCa`] makes certificates at run time: caller identities with
//!   fabric-ca attributes, TLS server and client pairs.
//!
//! Both harnesses commit a transaction's writes only when it succeeds (status
//! below 400), keep history for public keys, and hand the chaincode the caller's
//! certificate and MSP id exactly as a peer would.
//!
//! ```
//! use fabric_chaincode_shim::testing::{Invocation, MockStub, TestCa};
//! use fabric_chaincode_shim::{Contract, ContractError, Router, Stub};
//!
//! async fn put(stub: Stub, (key, value): (String, String)) -> Result<(), ContractError> {
//!     Ok(stub.put_state(&key, value.into_bytes()).await?)
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let router = Router::builder("demo", "1.0")
//!     .contract(Contract::new("Demo").submit("Put", &["key", "value"], put))
//!     .build()
//!     .unwrap();
//! let ca = TestCa::new("HospitalA").unwrap();
//! let doctor = ca.identity("HospitalAMSP", "dr-alice", &[("role", "doctor")], &["client"]).unwrap();
//! let mock = MockStub::new("ehr");
//! let out = mock.invoke(&router, Invocation::new(["Put", "k", "v"]).caller(&doctor)).await;
//! assert_eq!(out.response.status, 200);
//! assert_eq!(mock.ledger().state("k"), Some(b"v".to_vec()));
//! # });
//! ```

mod certs;
mod ledger;
mod mock;
mod simulator;

use std::collections::BTreeMap;

pub use certs::{CertifiedKey, TestCa, TestIdentity};
pub use ledger::{DEFAULT_BATCH_SIZE, MemoryLedger, TxSimulation};
pub use mock::MockStub;
pub use simulator::{ClientTls, PeerSimulator, SimulatorConfig};

use crate::response::Response;
use crate::stub::{ChaincodeEvent, Timestamp};

/// One transaction to run through a harness.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// Arguments; the first is the function name.
    pub args: Vec<Vec<u8>>,
    /// Serialized creator identity; empty means "no caller".
    pub creator: Vec<u8>,
    /// Transient data.
    pub transient: BTreeMap<String, Vec<u8>>,
    /// Transaction timestamp; the harness picks an increasing one when `None`.
    pub timestamp: Option<Timestamp>,
    /// Transaction id; the harness derives one when `None`.
    pub tx_id: Option<String>,
    /// Send as INIT instead of TRANSACTION.
    pub init: bool,
}

impl Invocation {
    /// A transaction with these arguments.
    pub fn new<I, A>(args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        Self { args: args.into_iter().map(|a| a.as_ref().to_vec()).collect(), ..Default::default() }
    }

    /// Submitted by `identity`.
    pub fn caller(mut self, identity: &TestIdentity) -> Self {
        self.creator = identity.creator();
        self
    }

    /// Adds a transient field.
    pub fn transient(mut self, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.transient.insert(key.to_owned(), value.into());
        self
    }

    /// Uses this timestamp.
    pub fn at(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Uses this transaction id.
    pub fn tx_id(mut self, tx_id: impl Into<String>) -> Self {
        self.tx_id = Some(tx_id.into());
        self
    }

    /// Sends as INIT.
    pub fn init(mut self) -> Self {
        self.init = true;
        self
    }
}

/// What a harness observed for one transaction.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// The transaction id used.
    pub tx_id: String,
    /// The chaincode's response; for an ERROR message, status 500 and its text.
    pub response: Response,
    /// The chaincode event, if the transaction set one.
    pub event: Option<ChaincodeEvent>,
    /// Text of an ERROR message the chaincode answered instead of COMPLETED.
    pub error: Option<String>,
    /// Whether the writes were committed to the ledger.
    pub committed: bool,
    /// Request types the chaincode sent, in order (peer simulator only).
    pub requests: Vec<String>,
}

impl TxOutcome {
    /// The payload as UTF-8 text (lossy), for assertions.
    pub fn payload_text(&self) -> String {
        String::from_utf8_lossy(&self.response.payload).into_owned()
    }
}

/// Increasing timestamps from a fixed start, so runs are repeatable.
pub(crate) fn nth_timestamp(n: u64) -> Timestamp {
    Timestamp { seconds: 1_700_000_000 + n as i64, nanos: 0 }
}

/// Fabric's transaction id: hex(sha256(nonce ‖ creator)).
pub(crate) fn fabric_tx_id(nonce: &[u8], creator: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(nonce);
    h.update(creator);
    hex::encode(h.finalize())
}

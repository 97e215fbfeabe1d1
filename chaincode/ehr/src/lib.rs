//! The electronic health records chaincode.
//!
//! Today this holds only what the chaincode server needs to start and answer
//! `org.hyperledger.fabric:GetMetadata`; the EHR contract itself (patients,
//! records, consent, audit, search) is the next piece of work and will live
//! here, written against [`fabric_shim::Stub`] and never against gRPC.

use fabric_shim::Router;

/// Chaincode title in the contract metadata.
pub const TITLE: &str = "ehr";
/// Chaincode version in the contract metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The router the `ehr-chaincode` binary serves.
pub fn router() -> Result<Router, fabric_shim::Error> {
    Router::builder(TITLE, VERSION).build()
}

#[cfg(test)]
mod tests {
    use fabric_shim::testing::{Invocation, MockStub};

    #[tokio::test]
    async fn answers_get_metadata_and_nothing_else() {
        let router = super::router().expect("router builds");
        let mock = MockStub::new("ehr");
        let out = mock.invoke(&router, Invocation::new(["org.hyperledger.fabric:GetMetadata"])).await;
        assert_eq!(out.response.status, 200, "{}", out.response.message);
        let md: serde_json::Value = serde_json::from_slice(&out.response.payload).expect("metadata is JSON");
        assert_eq!(md["info"]["title"], "ehr");
        assert!(md["contracts"]["org.hyperledger.fabric"].is_object());

        let out = mock.invoke(&router, Invocation::new(["CreatePatient", "{}"])).await;
        assert_eq!(out.response.status, 400);
        assert!(!out.committed);
    }
}

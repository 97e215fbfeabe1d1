//! The stub API through the mock stub (in-process, in-memory ledger).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::{Mock, api_router, people, scenario};
use fabric_shim::testing::{Invocation, MockStub};

#[tokio::test]
async fn whole_stub_api_on_the_mock_stub() {
    let h = Mock { mock: MockStub::new("ehr").with_batch_size(2), router: api_router() };
    scenario(&h).await;
}

#[tokio::test]
async fn invoke_chaincode_reaches_a_registered_chaincode_in_the_same_transaction() {
    let mock = MockStub::new("ehr");
    mock.register_chaincode("other", Arc::new(api_router()));
    let router = api_router();
    let d = people().doctor;
    mock.invoke(&router, Invocation::new(["Put", "k", "v"]).caller(&d)).await;
    let out = mock.invoke(&router, Invocation::new(["CallOther", "other", "k"]).caller(&d)).await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    let v: serde_json::Value = serde_json::from_slice(&out.response.payload).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["payload"], "\"v\"");
    let out = mock.invoke(&router, Invocation::new(["CallOther", "missing", "k"]).caller(&d)).await;
    let v: serde_json::Value = serde_json::from_slice(&out.response.payload).unwrap();
    assert_eq!(v["status"], 500);
}

#[tokio::test]
async fn same_proposal_gives_same_writes() {
    // Determinism: two endorsements of the same transaction write the same state.
    let d = people().doctor;
    let run = || async {
        let mock = MockStub::new("ehr");
        let router = api_router();
        for i in 0..5 {
            let call = Invocation::new(["Composite", "t", &format!("[\"{i}\"]")]).caller(&d).tx_id(format!("tx{i}"));
            mock.invoke(&router, call).await;
        }
        mock.ledger().public_state()
    };
    assert_eq!(run().await, run().await);
}

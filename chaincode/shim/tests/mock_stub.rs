//! The stub API through the mock stub (in-process, in-memory ledger).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;

use common::{Mock, api_router, people, scenario};
use fabric_chaincode_shim::testing::{Invocation, MockStub};

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

mod hooks {
    use fabric_chaincode_shim::testing::{Invocation, MockStub};
    use fabric_chaincode_shim::{Contract, ContractError, Router, Stub};

    async fn hello(_: Stub, (name,): (String,)) -> Result<String, ContractError> {
        Ok(format!("hello {name}"))
    }

    async fn only_doctors(stub: Stub, function: String) -> Result<(), ContractError> {
        let id = stub.client_identity().map_err(|e| ContractError::forbidden(e.to_string()))?;
        match id.attribute("role") {
            Some("doctor") => Ok(()),
            _ => Err(ContractError::forbidden(format!("{function} is for doctors"))),
        }
    }

    async fn wrap(_: Stub, function: String, payload: Vec<u8>) -> Result<Vec<u8>, ContractError> {
        Ok(format!("{function}:{}", String::from_utf8_lossy(&payload)).into_bytes())
    }

    async fn fallback(_: Stub, function: String) -> Result<Vec<u8>, ContractError> {
        Ok(format!("no such function {function}, try Hello").into_bytes())
    }

    fn router() -> Router {
        Router::builder("hooks", "2.0")
            .contract(Contract::new("Plain").evaluate("Hello", &["name"], hello))
            .contract(
                Contract::new("Guarded")
                    .description("doctors only")
                    .evaluate("Hello", &["name"], hello)
                    .before(only_doctors)
                    .after(wrap)
                    .unknown(fallback),
            )
            .default_contract("Plain")
            .build()
            .expect("router")
    }

    #[tokio::test]
    async fn before_after_and_unknown_hooks_and_contract_addressing() {
        let people = super::common::people();
        let mock = MockStub::new("ehr");
        let r = router();
        let run = |who, args: [&'static str; 2]| mock.invoke(&r, Invocation::new(args).caller(who));

        let out = run(&people.other, ["Hello", "bob"]).await;
        assert_eq!(out.payload_text(), "\"hello bob\"", "plain names address the default contract");
        let out = run(&people.other, ["Guarded:Hello", "bob"]).await;
        assert_eq!(out.response.status, 403);
        assert_eq!(out.response.message, "Hello is for doctors");
        let out = run(&people.doctor, ["Guarded:Hello", "alice"]).await;
        assert_eq!(out.payload_text(), "Hello:\"hello alice\"", "after hook sees and replaces the result");
        let out = run(&people.doctor, ["Guarded:Bye", "x"]).await;
        assert_eq!(out.payload_text(), "no such function Bye, try Hello");
        let out = run(&people.doctor, ["Plain:Bye", "x"]).await;
        assert_eq!(out.response.status, 400);
    }

    #[tokio::test]
    async fn metadata_describes_contracts_parameters_and_results() {
        let mock = MockStub::new("ehr");
        let out = mock.invoke(&router(), Invocation::new(["org.hyperledger.fabric:GetMetadata"])).await;
        let md: serde_json::Value = serde_json::from_slice(&out.response.payload).unwrap();
        assert_eq!(md["info"], serde_json::json!({"title": "hooks", "version": "2.0"}));
        assert_eq!(md["contracts"]["Plain"]["default"], true);
        assert!(md["contracts"]["Guarded"].get("default").is_none());
        assert_eq!(md["contracts"]["Guarded"]["info"]["description"], "doctors only");
        let tx = &md["contracts"]["Plain"]["transactions"][0];
        assert_eq!(tx["name"], "Hello");
        assert_eq!(tx["tag"], serde_json::json!(["EVALUATE", "evaluate"]));
        assert_eq!(tx["parameters"][0]["name"], "name");
        assert_eq!(tx["parameters"][0]["schema"]["type"], "string");
        assert_eq!(tx["returns"]["type"], "string");
    }

    async fn greet(_: Stub, (name, times): (String, Option<u32>)) -> Result<String, ContractError> {
        Ok(format!("hello {name} x{}", times.unwrap_or(1)))
    }

    #[tokio::test]
    async fn transient_parameters_come_only_from_the_transient_map() {
        let r = Router::builder("t", "1")
            .contract(Contract::new("T").submit_transient("Greet", &["name", "times"], greet))
            .build()
            .expect("router");
        let mock = MockStub::new("ehr");
        let out = mock.invoke(&r, Invocation::new(["Greet"]).transient("name", "bob").transient("times", "3")).await;
        assert_eq!(out.payload_text(), "\"hello bob x3\"", "{}", out.response.message);
        let out = mock.invoke(&r, Invocation::new(["Greet"]).transient("name", "\"ann\"")).await;
        assert_eq!(out.payload_text(), "\"hello ann x1\"", "a missing Option is None: {}", out.response.message);
        let out = mock.invoke(&r, Invocation::new(["Greet"]).transient("times", "3")).await;
        assert_eq!(out.response.status, 400);
        assert!(out.response.message.contains("transient \"name\" is required"), "{}", out.response.message);
        let out = mock.invoke(&r, Invocation::new(["Greet", "bob"]).transient("name", "bob")).await;
        assert_eq!(out.response.status, 400, "positional arguments would reach the block");
        assert!(out.response.message.contains("send name, times as transient data"), "{}", out.response.message);
        let out = mock.invoke(&r, Invocation::new(["org.hyperledger.fabric:GetMetadata"])).await;
        let md: serde_json::Value = serde_json::from_slice(&out.response.payload).unwrap();
        assert_eq!(
            md["contracts"]["T"]["transactions"][0]["tag"],
            serde_json::json!(["SUBMIT", "submit", "TRANSIENT"])
        );
    }

    #[test]
    fn bad_definitions_are_refused_with_every_problem_listed() {
        let err = Router::builder("x", "1")
            .contract(Contract::new("A").evaluate("F", &["one", "two"], hello).evaluate("F", &["n"], hello))
            .contract(Contract::new("bad:name"))
            .default_contract("Missing")
            .build()
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("A:F names 2 parameter(s) but takes 1"), "{err}");
        assert!(err.contains("A:F is defined twice"), "{err}");
        assert!(err.contains("contract name \"bad:name\""), "{err}");
        assert!(err.contains("default contract Missing does not exist"), "{err}");
    }
}

/// The mock refuses what the peer's simulator refuses: a write after a
/// private range query (the query cannot be re-validated at commit), and a
/// private range query after a write; nothing is written either way.
mod private_queries {
    use fabric_chaincode_shim::testing::{Invocation, MockStub};
    use fabric_chaincode_shim::{Contract, ContractError, Router, Stub};

    async fn query_then_write(stub: Stub, (): ()) -> Result<(), ContractError> {
        stub.get_private_data_by_range("c", "", "").await?.collect_all().await?;
        stub.put_private_data("c", "k", b"v".to_vec()).await?;
        Ok(())
    }

    async fn write_then_query(stub: Stub, (): ()) -> Result<(), ContractError> {
        stub.put_private_data("c", "k", b"v".to_vec()).await?;
        stub.get_private_data_by_range("c", "", "").await?.collect_all().await?;
        Ok(())
    }

    async fn query_only(stub: Stub, (): ()) -> Result<usize, ContractError> {
        Ok(stub.get_private_data_by_range("c", "", "").await?.collect_all().await?.len())
    }

    #[tokio::test]
    async fn a_private_range_query_and_a_write_do_not_mix() {
        let router = Router::builder("t", "0")
            .contract(
                Contract::new("t")
                    .submit("QueryThenWrite", &[], query_then_write)
                    .submit("WriteThenQuery", &[], write_then_query)
                    .evaluate("QueryOnly", &[], query_only),
            )
            .build()
            .unwrap();
        let who = super::people().doctor;
        let mock = MockStub::new("ch");
        for (function, needle) in [
            ("QueryThenWrite", "already performed queries on private data; writes are not allowed"),
            ("WriteThenQuery", "queries on private data are supported only in read-only transactions"),
        ] {
            let out = mock.invoke(&router, Invocation::new([function]).caller(&who)).await;
            assert_eq!(out.response.status, 400, "{function}: {}", out.response.message);
            assert!(out.response.message.contains(needle), "{function}: {}", out.response.message);
            assert!(mock.ledger().private_state("c").is_empty(), "{function} wrote despite the refusal");
        }
        let out = mock.invoke(&router, Invocation::new(["QueryOnly"]).caller(&who)).await;
        assert_eq!(out.response.status, 200, "a read-only private query is fine: {}", out.response.message);
    }
}

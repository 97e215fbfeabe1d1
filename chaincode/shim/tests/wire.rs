//! Our chaincode server driven by the peer simulator over real gRPC on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{api_router, people, scenario};
use fabric_chaincode_shim::fabric_protos::protos::chaincode_message::Type as MsgType;
use fabric_chaincode_shim::fabric_protos::protos::{ChaincodeAdditionalParams, ChaincodeInput, ChaincodeMessage};
use fabric_chaincode_shim::testing::{ClientTls, Invocation, PeerSimulator, SimulatorConfig, TestCa};
use fabric_chaincode_shim::{ServerConfig, TlsConfig, serve};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const CCID: &str = "api_1.0:0123456789abcdef";

struct Running {
    address: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<fabric_chaincode_shim::Result<()>>,
}

impl Running {
    async fn stop(mut self) -> fabric_chaincode_shim::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("server stops in time").expect("join")
    }
}

async fn start(config: ServerConfig) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (stop, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, config, Arc::new(api_router()), async move {
        let _ = rx.await;
    }));
    Running { address, stop: Some(stop), task }
}

fn sim_config() -> SimulatorConfig {
    SimulatorConfig { channel_id: "ehr".into(), expected_ccid: Some(CCID.into()), batch_size: 2, ..Default::default() }
}

#[tokio::test]
async fn whole_stub_api_over_grpc_with_an_empty_ready() {
    let server = start(ServerConfig::new(CCID)).await;
    let sim = PeerSimulator::connect(&server.address, sim_config()).await.unwrap();
    assert_eq!(sim.registered_ccid(), CCID);
    scenario(&sim).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn whole_stub_api_over_grpc_with_batching_offered() {
    let server = start(ServerConfig::new(CCID)).await;
    let ready = ChaincodeAdditionalParams {
        use_write_batch: true,
        max_size_write_batch: 1, // raised to the minimum of 100, as the official shims do
        use_get_multiple_keys: true,
        max_size_get_multiple_keys: 1,
    };
    let sim =
        PeerSimulator::connect(&server.address, SimulatorConfig { ready: Some(ready), ..sim_config() }).await.unwrap();
    scenario(&sim).await;

    // Writes go out as one WRITE_BATCH_STATE just before COMPLETED; reads as GET_STATE_MULTIPLE.
    let d = people().doctor;
    let out = sim.invoke(Invocation::new(["Put", "x", "1"]).caller(&d)).await.unwrap();
    assert_eq!(out.requests, vec!["WRITE_BATCH_STATE", "COMPLETED"]);
    let out = sim.invoke(Invocation::new(["GetMany", r#"["x","y"]"#]).caller(&d)).await.unwrap();
    assert_eq!(out.requests, vec!["GET_STATE_MULTIPLE", "COMPLETED"]);
    let out = sim.invoke(Invocation::new(["FailAfterWrite", "x"]).caller(&d)).await.unwrap();
    assert_eq!(out.requests, vec!["COMPLETED"], "a failing transaction sends no batch");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn without_batching_each_write_is_its_own_request() {
    let server = start(ServerConfig::new(CCID)).await;
    let sim = PeerSimulator::connect(&server.address, sim_config()).await.unwrap();
    let d = people().doctor;
    let out = sim.invoke(Invocation::new(["Put", "x", "1"]).caller(&d)).await.unwrap();
    assert_eq!(out.requests, vec!["PUT_STATE", "COMPLETED"]);
    let out = sim.invoke(Invocation::new(["GetMany", r#"["x","y"]"#]).caller(&d)).await.unwrap();
    assert_eq!(out.requests, vec!["GET_STATE", "GET_STATE", "COMPLETED"]);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn keepalive_is_echoed_and_many_transactions_run_at_once() {
    let server = start(ServerConfig::new(CCID)).await;
    let sim = Arc::new(PeerSimulator::connect(&server.address, sim_config()).await.unwrap());
    sim.keepalive(Duration::from_secs(5)).await.unwrap();
    let d = people().doctor;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let sim = sim.clone();
        let d = d.clone();
        tasks.push(tokio::spawn(async move {
            let k = format!("k{i:02}");
            sim.invoke(Invocation::new(["Slow", "20"]).caller(&d)).await.unwrap();
            sim.invoke(Invocation::new(["Put", k.as_str(), "v"]).caller(&d)).await.unwrap()
        }));
    }
    for t in tasks {
        let out = t.await.unwrap();
        assert_eq!(out.response.status, 200, "{}", out.response.message);
    }
    assert_eq!(sim.ledger().public_state().keys().filter(|k| k.starts_with('k')).count(), 50);
    sim.keepalive(Duration::from_secs(5)).await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn wrong_package_id_is_refused_by_the_peer() {
    let server = start(ServerConfig::new("other:1")).await;
    let err = PeerSimulator::connect(&server.address, sim_config()).await.err().expect("refused");
    assert!(err.to_string().contains("expected \"api_1.0"), "{err}");
    server.stop().await.unwrap();
}

fn raw(ty: MsgType, tx: &str, payload: Vec<u8>) -> ChaincodeMessage {
    ChaincodeMessage { r#type: ty as i32, txid: tx.into(), channel_id: "ehr".into(), payload, ..Default::default() }
}

async fn expect_error(sim: &PeerSimulator, tx: &str, contains: &str) {
    let m = sim.next_unsolicited(Duration::from_secs(5)).await.unwrap_or_else(|| panic!("no answer for {tx}"));
    assert_eq!(m.r#type, MsgType::Error as i32, "answer to {tx}");
    assert_eq!(m.txid, tx);
    let text = String::from_utf8_lossy(&m.payload);
    assert!(text.contains(contains), "{text:?} should contain {contains:?}");
}

#[tokio::test]
async fn bad_input_gets_an_error_for_that_transaction_and_the_server_keeps_serving() {
    let server = start(ServerConfig::new(CCID)).await;
    let sim = PeerSimulator::connect(&server.address, sim_config()).await.unwrap();
    let d = people().doctor;

    // Malformed payload for a transaction.
    sim.send_raw(raw(MsgType::Transaction, "t1", vec![0xff, 0xff, 0xff])).await.unwrap();
    expect_error(&sim, "t1", "not a ChaincodeInput").await;
    // Unknown message type.
    sim.send_raw(ChaincodeMessage { r#type: 99, txid: "t2".into(), ..Default::default() }).await.unwrap();
    expect_error(&sim, "t2", "unknown message type 99").await;
    // A reply for a transaction that is not waiting.
    sim.send_raw(raw(MsgType::Response, "t3", vec![])).await.unwrap();
    expect_error(&sim, "t3", "no request outstanding").await;
    // A second REGISTER after the handshake.
    sim.send_raw(raw(MsgType::Register, "t4", vec![])).await.unwrap();
    expect_error(&sim, "t4", "cannot handle REGISTER").await;
    // A transaction without a proposal runs, but has no caller to identify.
    let input = ChaincodeInput { args: vec![b"Whoami".to_vec()], ..Default::default() };
    sim.send_raw(raw(MsgType::Transaction, "t5", input.encode_to_vec())).await.unwrap();
    let m = sim.next_unsolicited(Duration::from_secs(5)).await.unwrap();
    assert_eq!(m.r#type, MsgType::Completed as i32);
    let r = fabric_chaincode_shim::fabric_protos::protos::Response::decode(m.payload.as_slice()).unwrap();
    assert_eq!(r.status, 500);
    assert!(r.message.contains("invalid identity"), "{}", r.message);
    // The same transaction id twice while the first still runs.
    let slow = ChaincodeInput { args: vec![b"Get".to_vec(), b"a".to_vec()], ..Default::default() };
    sim.send_raw(raw(MsgType::Transaction, "t6", slow.encode_to_vec())).await.unwrap();
    let first = sim.next_unsolicited(Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.r#type, MsgType::GetState as i32, "t6 waits for its GET_STATE answer");
    sim.send_raw(raw(MsgType::Transaction, "t6", slow.encode_to_vec())).await.unwrap();
    expect_error(&sim, "t6", "duplicate transaction").await;
    sim.send_raw(raw(MsgType::Response, "t6", b"1".to_vec())).await.unwrap();
    let done = sim.next_unsolicited(Duration::from_secs(5)).await.unwrap();
    assert_eq!(done.r#type, MsgType::Completed as i32);

    // Still serving.
    let out = sim.invoke(Invocation::new(["Put", "after", "ok"]).caller(&d)).await.unwrap();
    assert_eq!(out.response.status, 200);
    sim.keepalive(Duration::from_secs(5)).await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_message_closes_only_that_stream() {
    let server = start(ServerConfig::new(CCID)).await;
    let sim = PeerSimulator::connect(&server.address, sim_config()).await.unwrap();
    let huge = raw(MsgType::Transaction, "big", vec![b'x'; fabric_chaincode_shim::MAX_MESSAGE_SIZE + 1]);
    let _ = sim.send_raw(huge).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !sim.is_closed() {
        assert!(tokio::time::Instant::now() < deadline, "stream should close after an oversized message");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A new connection is served as before.
    let sim2 = PeerSimulator::connect(&server.address, sim_config()).await.unwrap();
    let out = sim2.invoke(Invocation::new(["Put", "k", "v"]).caller(&people().doctor)).await.unwrap();
    assert_eq!(out.response.status, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_in_flight_transactions() {
    let server = start(ServerConfig::new(CCID)).await;
    let sim = Arc::new(PeerSimulator::connect(&server.address, sim_config()).await.unwrap());
    let d = people().doctor;
    let in_flight = {
        let sim = sim.clone();
        let d = d.clone();
        tokio::spawn(async move { sim.invoke(Invocation::new(["Slow", "500"]).caller(&d)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(server.stop());
    let out = in_flight.await.unwrap().unwrap();
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    assert_eq!(out.payload_text(), "\"done\"");
    assert_eq!(sim.ledger().state("slow"), Some(b"done".to_vec()));
    stopping.await.unwrap().unwrap();
}

fn tls_material() -> (TestCa, TestCa, TlsConfig) {
    let server_ca = TestCa::new("ChaincodeServerCA").unwrap();
    let peer_ca = TestCa::new("PeerClientCA").unwrap();
    let cert = server_ca.tls_server().unwrap();
    let tls = TlsConfig {
        cert_pem: cert.cert_pem.into_bytes(),
        key_pem: cert.key_pem.into_bytes(),
        client_ca_pem: Some(peer_ca.cert_pem().as_bytes().to_vec()),
    };
    (server_ca, peer_ca, tls)
}

#[tokio::test]
async fn mutual_tls_requires_and_verifies_the_peer_certificate() {
    let (server_ca, peer_ca, tls) = tls_material();
    let server = start(ServerConfig { ccid: CCID.into(), tls: Some(tls) }).await;
    let client_tls =
        |client| ClientTls { server_ca_pem: server_ca.cert_pem().to_owned(), client, domain: "localhost".into() };

    let good = SimulatorConfig { tls: Some(client_tls(Some(peer_ca.tls_client("peer0").unwrap()))), ..sim_config() };
    let sim = PeerSimulator::connect(&server.address, good).await.unwrap();
    let out = sim.invoke(Invocation::new(["Put", "k", "v"]).caller(&people().doctor)).await.unwrap();
    assert_eq!(out.response.status, 200);

    let none = SimulatorConfig { tls: Some(client_tls(None)), ..sim_config() };
    assert!(PeerSimulator::connect(&server.address, none).await.is_err(), "no client certificate must be refused");

    let stranger_ca = TestCa::new("Stranger").unwrap();
    let wrong = SimulatorConfig { tls: Some(client_tls(Some(stranger_ca.tls_client("x").unwrap()))), ..sim_config() };
    assert!(
        PeerSimulator::connect(&server.address, wrong).await.is_err(),
        "a certificate from another CA must be refused"
    );

    let plain = sim_config();
    assert!(PeerSimulator::connect(&server.address, plain).await.is_err(), "plaintext must be refused");
    drop(sim);
    server.stop().await.unwrap();
}

#[test]
fn configuration_from_environment_style_lookup() {
    use std::collections::HashMap;
    let dir = std::env::temp_dir().join(format!("shim-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, _, tls) = tls_material();
    std::fs::write(dir.join("key.pem"), &tls.key_pem).unwrap();
    std::fs::write(dir.join("cert.pem"), &tls.cert_pem).unwrap();
    let vars = |pairs: &[(&str, String)]| -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    };
    let lookup = |m: HashMap<String, String>| move |k: &str| m.get(k).cloned();

    let m = vars(&[("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:9999".into()), ("CHAINCODE_ID", "ehr:1".into())]);
    let (addr, cfg) = ServerConfig::from_lookup(lookup(m)).unwrap();
    assert_eq!(addr.port(), 9999);
    assert_eq!(cfg.ccid, "ehr:1");
    assert!(cfg.tls.is_none());

    let m = vars(&[
        ("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:9999".into()),
        ("CHAINCODE_ID", "ehr:1".into()),
        ("CHAINCODE_TLS_KEY_FILE", dir.join("key.pem").display().to_string()),
        ("CHAINCODE_TLS_CERT_FILE", dir.join("cert.pem").display().to_string()),
    ]);
    let (_, cfg) = ServerConfig::from_lookup(lookup(m)).unwrap();
    assert!(cfg.tls.as_ref().is_some_and(|t| t.client_ca_pem.is_none()));

    let missing_id = vars(&[("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:9999".into())]);
    let e = ServerConfig::from_lookup(lookup(missing_id)).unwrap_err().to_string();
    assert!(e.contains("CHAINCODE_ID is not set"), "{e}");
    let named = vars(&[("CHAINCODE_SERVER_ADDRESS", "localhost:9999".into()), ("CHAINCODE_ID", "x".into())]);
    let (addr, _) = ServerConfig::from_lookup(lookup(named)).unwrap();
    assert!(addr.ip().is_loopback() && addr.port() == 9999, "a host name is resolved: {addr}");
    let bad_addr = vars(&[("CHAINCODE_SERVER_ADDRESS", "nonsense".into()), ("CHAINCODE_ID", "x".into())]);
    assert!(ServerConfig::from_lookup(lookup(bad_addr)).unwrap_err().to_string().contains("not host:port"));
    let half_tls = vars(&[
        ("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:1".into()),
        ("CHAINCODE_ID", "x".into()),
        ("CHAINCODE_TLS_KEY_FILE", "/k".into()),
    ]);
    assert!(ServerConfig::from_lookup(lookup(half_tls)).unwrap_err().to_string().contains("TLS needs both"));
    let missing_file = vars(&[
        ("CHAINCODE_SERVER_ADDRESS", "127.0.0.1:1".into()),
        ("CHAINCODE_ID", "x".into()),
        ("CHAINCODE_TLS_KEY_FILE", "/nonexistent/k".into()),
        ("CHAINCODE_TLS_CERT_FILE", "/nonexistent/c".into()),
    ]);
    assert!(
        ServerConfig::from_lookup(lookup(missing_file))
            .unwrap_err()
            .to_string()
            .contains("cannot read CHAINCODE_TLS_KEY_FILE")
    );
    std::fs::remove_dir_all(&dir).ok();
}

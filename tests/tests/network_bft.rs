//! End to end on the local network with SmartBFT ordering (`network.sh up --bft`):
//! four orderers, channel capability V3_0, and a network that keeps committing
//! transactions while one orderer is down.
#![allow(missing_docs)]

use ehr_tests::network::{Network, alive, gateway};

#[test]
fn bft_ordering_tolerates_one_faulty_orderer() {
    let network = Network::up(&["--bft"]);
    let status = network.sh(&["status"]);
    for n in 1..=4 {
        assert!(status.contains(&format!("orderer{n}")), "orderer{n} missing from status:\n{status}");
    }
    network.sh(&["deploy", "conformance"]);
    let before = gateway("submit", "hospitala", "doctor1", "conformance", &["put", "bft", "before-fault"]);

    // Stop one of the four orderers (orderer1, the first leader): f = 1 fault is tolerated.
    let pid = network.pid_of("orderer1");
    let killed = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while alive(pid) {
        assert!(std::time::Instant::now() < deadline, "orderer1 did not stop");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let after = gateway("submit", "hospitalb", "doctor1", "conformance", &["put", "bft", "after-fault"]);
    let h = gateway("evaluate", "regulator", "regulator1", "conformance", &["history", "bft"]);
    let history: serde_json::Value = serde_json::from_str(h["result"].as_str().expect("result")).expect("history JSON");
    assert_eq!(history["history"][0]["txId"], after["txId"], "the transaction ordered without orderer1 committed");
    assert_eq!(history["history"][0]["value"], "after-fault");
    assert_eq!(history["history"][1]["txId"], before["txId"]);
    drop(network);
}

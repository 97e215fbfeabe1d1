//! End to end on the real local Fabric network (`fabric-network/network.sh`):
//! real orderers, peers and CAs as local processes, our chaincode deployed
//! through the lifecycle and dialled by the peers over mutual TLS.
//!
//! Brings the network up, calls GetMetadata through the peer CLI and through
//! Fabric's official Node gateway client, deploys the conformance chaincode,
//! writes through one organisation's peer and reads through another's,
//! redeploys the EHR chaincode at the next sequence, and takes the network
//! down, checking that no process it started is left.
//!
//! Needs the Fabric binaries (built by `fabric-network/scripts/install-binaries.sh`,
//! which `network.sh up` runs when they are missing) and `npm ci` in
//! `tests/network/` (done by `scripts/test.sh`). It fails, never skips, when
//! something is missing.

#![allow(clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

fn network_sh() -> PathBuf {
    repo().join("fabric-network/network.sh")
}

/// Runs a command, panicking with its output when it fails.
fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status);
    stdout
}

/// Takes the network down when the test ends, however it ends.
struct Network;

impl Network {
    fn up() -> Self {
        let status = Command::new(network_sh()).arg("status").output().expect("network.sh runs");
        assert!(
            !status.status.success(),
            "a network is already running; this test needs a fresh one (run fabric-network/network.sh down)"
        );
        run(Command::new(network_sh()).arg("up"), "network.sh up");
        Network
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = Command::new(network_sh()).arg("down").status();
    }
}

fn peer_cli(org: &str, args: &str) -> String {
    let script = format!("eval \"$({} env {org})\" && peer {args}", network_sh().display());
    run(Command::new("bash").arg("-c").arg(&script), &format!("peer {args} as {org} admin"))
}

fn gateway(mode: &str, org: &str, user: &str, chaincode: &str, args: &[&str]) -> Value {
    gateway_with(mode, org, user, chaincode, &[], args)
}

fn gateway_with(mode: &str, org: &str, user: &str, chaincode: &str, options: &[&str], args: &[&str]) -> Value {
    let script = repo().join("tests/network/gateway.mjs");
    assert!(
        repo().join("tests/network/node_modules/@hyperledger/fabric-gateway").is_dir(),
        "tests/network/node_modules is missing: run `npm ci` in tests/network (scripts/test.sh does)"
    );
    let out = Command::new("node")
        .arg(&script)
        .args([mode, "--org", org, "--user", user, "--chaincode", chaincode])
        .args(options)
        .arg("--")
        .args(args)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("gateway.mjs printed no JSON ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr))
    });
    assert_eq!(v["ok"], true, "gateway {mode} {args:?} as {org}/{user} failed: {v}");
    v
}

fn recorded_pids() -> Vec<u32> {
    let dir = repo().join("fabric-network/state/pids");
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn the_local_network_runs_our_chaincode_end_to_end() {
    let network = Network::up();
    let pids = recorded_pids();
    assert!(pids.len() >= 12, "expected orderers, peers, CAs and chaincode servers, got {} processes", pids.len());

    // `up` again changes nothing.
    let again = run(Command::new(network_sh()).arg("up"), "second network.sh up");
    assert!(again.contains("already up"), "{again}");

    // GetMetadata through the peer CLI.
    let md =
        peer_cli("hospitalb", r#"chaincode query -C ehr -n ehr -c '{"Args":["org.hyperledger.fabric:GetMetadata"]}'"#);
    let md: Value = serde_json::from_str(md.trim()).expect("metadata is JSON");
    assert_eq!(md["info"]["title"], "ehr");
    assert!(md["contracts"]["org.hyperledger.fabric"].is_object());

    // GetMetadata through Fabric's official Node gateway client, as a fabric-ca enrolled doctor.
    let v = gateway("evaluate", "hospitala", "doctor1", "ehr", &["org.hyperledger.fabric:GetMetadata"]);
    let md: Value = serde_json::from_str(v["result"].as_str().expect("result")).expect("metadata is JSON");
    assert_eq!(md["info"]["title"], "ehr");

    // A write through HospitalA's gateway, read back through HospitalB's peer.
    run(Command::new(network_sh()).args(["deploy", "conformance"]), "network.sh deploy conformance");
    let w = gateway("submit", "hospitala", "doctor1", "conformance", &["put", "smoke-key", "written-by-hospitala"]);
    assert!(w["txId"].as_str().is_some_and(|t| t.len() == 64), "{w}");
    let r = gateway("evaluate", "hospitalb", "doctor1", "conformance", &["get", "smoke-key"]);
    assert_eq!(r["result"], r#"{"value":"written-by-hospitala"}"#);
    let h = gateway("evaluate", "regulator", "regulator1", "conformance", &["history", "smoke-key"]);
    let history: Value = serde_json::from_str(h["result"].as_str().expect("result")).expect("history JSON");
    assert_eq!(history["history"][0]["txId"], w["txId"]);

    // Private data enters through transient data; members read it, everyone sees only its hash on the ledger.
    let secret = "jane-doe-smoke-secret";
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "conformance",
        &["--transient", &format!("value={secret}")],
        &["putPrivate", "shared", "p1"],
    );
    let r = gateway("evaluate", "regulator", "regulator1", "conformance", &["getPrivate", "shared", "p1"]);
    assert_eq!(r["result"], format!(r#"{{"value":"{secret}"}}"#));
    let r = gateway("evaluate", "hospitalb", "doctor1", "conformance", &["privateHash", "shared", "p1"]);
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    };
    assert_eq!(r["result"], format!(r#"{{"hash":"{expected}"}}"#));

    // The caller's identity reaches the chaincode from the fabric-ca certificate.
    let c = gateway("evaluate", "hospitalb", "doctor1", "conformance", &["creator"]);
    let creator: Value = serde_json::from_str(c["result"].as_str().expect("result")).expect("creator JSON");
    assert_eq!(creator["mspid"], "HospitalBMSP");

    // Redeploy the EHR chaincode at the next sequence without tearing the network down.
    run(Command::new(network_sh()).args(["deploy", "ehr"]), "network.sh deploy ehr");
    let committed = peer_cli("hospitala", "lifecycle chaincode querycommitted -C ehr -n ehr -O json");
    let committed: Value = serde_json::from_str(committed.trim()).expect("querycommitted JSON");
    assert_eq!(committed["sequence"], 2);
    let v = gateway("evaluate", "regulator", "regulator1", "ehr", &["org.hyperledger.fabric:GetMetadata"]);
    assert!(v["result"].as_str().is_some_and(|s| s.contains("\"title\":\"ehr\"")));

    let status = run(Command::new(network_sh()).arg("status"), "network.sh status");
    assert!(status.contains("chaincode ehr committed: version 2, sequence 2"), "{status}");

    // Down stops every process it started and removes the state.
    let pids = recorded_pids();
    drop(network);
    let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left after down: {left:?}");
    assert!(!repo().join("fabric-network/state").exists(), "state folder left after down");
}

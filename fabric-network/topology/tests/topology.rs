//! The committed topology, the files generated from it, and the rules that
//! refuse a broken one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ehr_topology::render::{compose, configtx, crypto, shell, signature_policy};
use ehr_topology::{Consensus, TOPOLOGY_FILE, Topology, generated_files, profile::NetworkProfile};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn text() -> String {
    std::fs::read_to_string(repo().join(TOPOLOGY_FILE)).unwrap()
}

fn topology() -> Topology {
    Topology::parse(&text()).unwrap()
}

#[test]
fn committed_generated_files_match_the_topology() {
    let stale: Vec<String> =
        generated_files(&topology()).unwrap().into_iter().filter(|f| !f.is_current(&repo())).map(|f| f.path).collect();
    assert!(
        stale.is_empty(),
        "{stale:?} differ from what {TOPOLOGY_FILE} generates; run `cargo run -p ehr-topology -- generate` and commit"
    );
}

#[test]
fn policies_are_those_the_network_has_always_run() {
    let t = topology();
    let policy = |name: &str| signature_policy(&t, &t.chaincode(name).unwrap().endorsement);
    assert_eq!(policy("ehr"), "AND('HospitalAMSP.peer','HospitalBMSP.peer')");
    assert_eq!(policy("conformance"), "OutOf(2,'HospitalAMSP.peer','HospitalBMSP.peer','RegulatorMSP.peer')");
}

#[test]
fn the_shell_settings_evaluate_in_bash_to_the_topology() {
    let t = topology();
    let script = format!(
        "{}\n{}\necho \"$CHANNEL|${{ORGS[*]}}|${{ORG_MSP[hospitalb]}}|$HOSPITALB_PEER_PORT|${{#PORT_VARS[@]}}|${{BFT_ONLY_PORT_VARS[*]}}|$CC_POLICY|${{ORG_USERS[hospitala]}}|$CC_ENDORSING_ORGS\"",
        shell::network_env(&t),
        shell::chaincode_env(&t, t.chaincode("ehr").unwrap()),
    );
    let out = Command::new("bash").arg("-c").arg(&script).output().expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fields: Vec<String> = String::from_utf8(out.stdout).unwrap().trim().split('|').map(String::from).collect();
    assert_eq!(fields[0], "ehr");
    assert_eq!(fields[1], "hospitala hospitalb regulator");
    assert_eq!(fields[2], "HospitalBMSP");
    assert_eq!(fields[3], "8051");
    assert_eq!(fields[4], t.ports().len().to_string());
    assert_eq!(fields[5], "ORDERER4_PORT ORDERER4_ADMIN_PORT ORDERER4_OPS_PORT");
    assert_eq!(fields[6], "AND('HospitalAMSP.peer','HospitalBMSP.peer')");
    assert!(fields[7].contains("patient1:patient:patient_id=P-0001"), "{}", fields[7]);
    assert_eq!(fields[8], "2", "ehr's policy names both hospitals");
}

#[test]
fn quoting_keeps_shell_code_inert() {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("X={}; printf %s \"$X\"", shell::quote("a'$(touch /nonexistent/x)`id`'")))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "a'$(touch /nonexistent/x)`id`'");
}

#[test]
fn configtx_names_the_consenters_of_each_consensus() {
    let t = topology();
    let raft = configtx::configtx(&t, configtx::Target::Local(Consensus::Raft));
    assert_eq!(raft.matches("ClientTLSCert").count(), 3);
    assert!(raft.contains("EhrRaft:") && raft.contains("OrdererType: etcdraft"));
    assert!(raft.contains("{ Host: 127.0.0.1, Port: 8051 }"), "anchor peer of hospitalb on loopback");
    let bft = configtx::configtx(&t, configtx::Target::Local(Consensus::Bft));
    assert_eq!(bft.matches("MSPID: OrdererMSP").count(), 4);
    assert!(bft.contains("ID: 4, Host: 127.0.0.1, Port: 10050"));
    assert!(bft.contains("V3_0: true") && raft.contains("V2_0: true\n  Orderer"));
    let docker = configtx::configtx(&t, configtx::Target::Compose);
    assert!(docker.contains("{ Host: peer0.regulator.ehr, Port: 9051 }"));
    assert!(docker.contains("\"orderer3.orderer.ehr:9050\"") && !docker.contains("orderer4"));
    assert!(docker.contains("MSPDir: ../state/crypto/peerOrganizations/hospitala.ehr/msp"));
}

#[test]
fn compose_and_cryptogen_cover_every_node() {
    let t = topology();
    let yaml = compose::docker_compose(&t);
    for org in ["hospitala", "hospitalb", "regulator"] {
        for service in ["peer0", "ca", "couchdb", "ehr-chaincode"] {
            assert!(yaml.contains(&format!("\n  {service}.{org}.ehr:\n")), "{service}.{org}.ehr");
        }
    }
    assert!(yaml.contains("${HOSPITALB_EHR_CHAINCODE_PORT:-9998}:9999"));
    assert!(yaml.contains("${REGULATOR_COUCHDB_PORT:-7984}:5984"));
    assert!(!yaml.contains("orderer4"), "Compose runs Raft on the first three orderers");
    let cryptogen = crypto::crypto_config(&t);
    assert_eq!(cryptogen.matches("Hostname: orderer").count(), 4);
    assert_eq!(cryptogen.matches("Hostname: ehr-ccaas").count(), 3);
}

#[test]
fn the_profile_points_at_the_state_folder() {
    let profile = NetworkProfile::local(&topology(), Path::new("/state"));
    let b = &profile.organisations["hospitalb"];
    assert_eq!((profile.channel.as_str(), profile.chaincode.as_str()), ("ehr", "ehr"));
    assert_eq!(
        (b.msp_id.as_str(), b.peer.as_str(), b.ca_url.as_str()),
        ("HospitalBMSP", "127.0.0.1:8051", "https://127.0.0.1:8054")
    );
    assert_eq!(
        b.tls_root,
        Path::new("/state/crypto/peerOrganizations/hospitalb.ehr/tlsca/tlsca.hospitalb.ehr-cert.pem")
    );
    assert_eq!(b.users.as_deref(), Some(Path::new("/state/users/hospitalb")));
}

/// The committed topology with `from` replaced by `to`, parsed.
fn edited(from: &str, to: &str) -> String {
    let text = text();
    assert!(text.contains(from), "the topology no longer contains {from:?}; update this test");
    Topology::parse(&text.replacen(from, to, 1)).expect_err("the edited topology must be refused").to_string()
}

#[test]
fn refuses_broken_topologies_and_says_what_is_wrong() {
    let cases = [
        ("peer = 8051", "peer = 7051", "both port 7051"),
        ("ca = 9054", "ca = 80", "from 1024 up"),
        (
            "{ name = \"lab1\", role = \"lab\" }",
            "{ name = \"lab1\", role = \"regulator\" }",
            "not one of the organisation's roles",
        ),
        ("{ name = \"doctor2\", role = \"doctor\" }", "{ name = \"doctor1\", role = \"doctor\" }", "listed twice"),
        (
            "peers_of = [\"hospitala\", \"hospitalb\"] }",
            "peers_of = [\"hospitala\", \"clinic\"] }",
            "not an organisation",
        ),
        ("at_least = 2", "at_least = 4", "between 1 and 3"),
        ("raft = 3", "raft = 5", "not between 1"),
        ("msp = \"HospitalBMSP\"", "msp = \"HospitalAMSP\"", "used twice"),
        (
            "roles = [\"admin\", \"regulator\"]",
            "roles = [\"admin\", \"regulator\", \"patient\"]",
            "cannot assert the role patient",
        ),
        ("patient_id = \"P-0002\"", "patient_id = \"P,0002\"", "attribute patient_id"),
        ("name = \"hospitalb\"", "name = \"hospital b\"", "must start with a lower-case letter"),
        ("name = \"conformance\"", "name = \"ehr-v2\"", "it names shell variables"),
        ("name = \"orderer4\"", "name = \"hospitala_peer\"", "both be named HOSPITALA_PEER_PORT"),
        ("fabric_image = \"3.1.5\"", "fabric_image = \"latest\"", "not a release"),
        ("regulator = 9997 }", "}", "one port per organisation"),
        ("chaincode = \"ehr\"\n", "chaincode = \"nope\"\n", "unknown chaincode"),
        ("kind = \"regulator\"", "kind = \"insurer\"", "does not parse"),
    ];
    for (from, to, want) in cases {
        let error = edited(from, to);
        assert!(error.contains(want), "{from} -> {to}: {error:?} should say {want:?}");
    }
}

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

use std::process::Command;

use ehr_tests::network::{Network, alive, gateway, gateway_raw, gateway_with, network_sh, peer_cli, run};
use ehr_tests::repo_root;
use serde_json::Value;

#[test]
fn the_local_network_runs_our_chaincode_end_to_end() {
    // A busy port is named before anything starts.
    {
        let blocker = std::net::TcpListener::bind("127.0.0.1:8051").expect("port 8051 (HOSPITALB_PEER_PORT) is free");
        let out = Command::new(network_sh()).arg("up").output().expect("network.sh runs");
        let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "up must fail on a busy port:\n{text}");
        assert!(text.contains("HOSPITALB_PEER_PORT=8051"), "{text}");
        assert!(!repo_root().join("fabric-network/state/pids").exists(), "nothing may start when a port is busy");
        drop(blocker);
    }

    let network = Network::up(&[]);
    let pids = network.pids();
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
    network.sh(&["deploy", "conformance"]);
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

    // The EHR contract on real peers: patient data enters as transient data, is
    // read under consent from another hospital's peer, and never reaches a block.
    let name = "Zelda Marchetti-Okafor";
    let story = "chronic migraine since 2019";
    let patient =
        format!(r#"patient={{"name":"{name}","birthDate":"1979-11-02","sex":"female","description":"{story}"}}"#);
    let salt = format!("salt={}", "ab".repeat(32));
    let file_key = format!("fileKey={}", "f1".repeat(32));
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &patient, "--transient", &salt, "--transient", &file_key],
        &["RegisterPatient", "P-0001"],
    );
    let refused = ehr_tests::network::gateway_raw(
        "evaluate",
        "hospitalb",
        "doctor1",
        "ehr",
        &["--seal"],
        &["ReadPatient", "P-0001"],
    );
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("403")), "{refused}");
    gateway(
        "submit",
        "hospitala",
        "patient1",
        "ehr",
        &["GrantConsent", "P-0001", r#"{"kind":"organisation","msp":"HospitalBMSP"}"#, "read", "null"],
    );
    let opened = gateway("submit", "hospitalb", "doctor1", "ehr", &["OpenAccess", "P-0001", "second-opinion"]);
    assert!(opened["result"].as_str().is_some_and(|r| r.contains(r#""granted":true"#)), "{opened}");
    // Patient data comes back sealed to a one-time key the Node client sends and opens (@hpke/core).
    let view = gateway_with("evaluate", "hospitalb", "doctor1", "ehr", &["--seal"], &["ReadPatient", "P-0001"]);
    assert!(!view["sealed"].to_string().contains(name), "the sealed answer holds the name in the clear");
    let view: Value = serde_json::from_str(view["result"].as_str().expect("result")).expect("view JSON");
    assert_eq!(view["details"]["name"], name);
    assert_eq!(view["verified"], true);
    let opened_tx = opened["txId"].as_str().expect("txId").to_owned();
    let mut block_files = 0;
    for org in ["hospitala", "hospitalb", "regulator"] {
        let dir = repo_root().join(format!("fabric-network/state/peer0.{org}/ledgersData/chains/chains/ehr"));
        let mut holds_the_open = false;
        for entry in std::fs::read_dir(&dir).expect("the peer has block files").filter_map(Result::ok) {
            let bytes = std::fs::read(entry.path()).expect("block file readable");
            let text = String::from_utf8_lossy(&bytes);
            // Arguments are transient, answers and events sealed, keys pseudonyms:
            // not even the patient's id is in a block in the clear.
            assert!(!text.contains("P-0001"), "the patient id is readable in {}", entry.path().display());
            assert!(!text.contains(name) && !text.contains(story), "patient data found in {}", entry.path().display());
            holds_the_open |= text.contains(&opened_tx);
            block_files += 1;
        }
        // The scan reads the blocks that matter: the access just opened is in them.
        assert!(holds_the_open, "transaction {opened_tx} is in no block file of peer0.{org}");
    }
    assert!(block_files >= 3, "no block files scanned");

    // Search with incomplete information on a real peer (private range over the collection).
    let hits = gateway_with(
        "evaluate",
        "hospitalb",
        "doctor1",
        "ehr",
        &["--seal", "--transient", r#"query={"name":"marchet"}"#],
        &["SearchPatients", "10", ""],
    );
    assert!(hits["result"].as_str().is_some_and(|r| r.contains(r#""patientId":"P-0001""#)), "{hits}");

    // The rest of the core scenario: records, a radiologist's report, a pharmacist, the regulator, erasure.
    let record = |body: &str| format!(r#"record={{"body":{body}}}"#);
    let dx = record(r#"{"kind":"diagnosis","icd10":"G43.909","text":"migraine, not intractable"}"#);
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &dx, "--transient", &salt],
        &["AddRecord", "P-0001"],
    );
    let rx_body = r#"{"kind":"prescription","medication":"sumatriptan","dose":"50 mg","frequency":"as needed"}"#;
    let code = format!("dispenseCode={}", "c0de".repeat(16));
    let rx = gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &record(rx_body), "--transient", &salt, "--transient", &code],
        &["AddRecord", "P-0001"],
    );
    let rx: Value = serde_json::from_str(rx["result"].as_str().expect("result")).expect("record JSON");
    let rx_id = rx["id"].as_str().expect("record id").to_owned();
    let ct = r#"{"kind":"imagingReport","modality":"CT","text":"no lesion"}"#;
    gateway_with(
        "submit",
        "hospitala",
        "radiologist1",
        "ehr",
        &["--transient", &record(ct), "--transient", &salt],
        &["AddRecord", "P-0001"],
    );
    let denied = ehr_tests::network::gateway_raw(
        "submit",
        "hospitala",
        "doctor2",
        "ehr",
        &["--transient", &patient, "--transient", &salt],
        &["UpdatePatient", "P-0001"],
    );
    // A failed submit carries the chaincode's status and message in the per-peer details.
    assert!(denied.to_string().contains("403, not permitted: only an attending doctor"), "{denied}");
    let hash = {
        use ehr_api::model::{PrivateRecord, RecordBody};
        let body: RecordBody = serde_json::from_str(rx_body).expect("prescription body");
        ehr_api::hash::record_hash(&PrivateRecord { body, attachments: vec![], origin: None, salt: "ab".repeat(32) })
            .expect("hash")
    };
    let check = gateway_with(
        "evaluate",
        "hospitalb",
        "pharmacist1",
        "ehr",
        &["--seal"],
        &["VerifyPrescription", &rx_id, &hash],
    );
    assert!(check["result"].as_str().is_some_and(|r| r.contains(r#""matches":true"#)), "{check}");
    gateway_with(
        "submit",
        "hospitalb",
        "pharmacist1",
        "ehr",
        &["--transient", &code],
        &["DispensePrescription", &rx_id, &hash],
    );
    let twice = ehr_tests::network::gateway_raw(
        "submit",
        "hospitalb",
        "pharmacist1",
        "ehr",
        &["--transient", &code],
        &["DispensePrescription", &rx_id, &hash],
    );
    assert!(twice.to_string().contains("already dispensed"), "{twice}");
    let trail = gateway_with("evaluate", "regulator", "regulator1", "ehr", &["--seal"], &["AuditTrail", "P-0001"]);
    let trail: Value = serde_json::from_str(trail["result"].as_str().expect("result")).expect("trail JSON");
    let actions: Vec<&str> = trail.as_array().expect("lines").iter().filter_map(|l| l["action"].as_str()).collect();
    for step in ["patientRegistered", "recordAdded", "consentGranted", "accessOpened", "prescriptionDispensed"] {
        assert!(actions.contains(&step), "{step} missing from the audit trail: {actions:?}");
    }
    gateway("submit", "hospitala", "patient1", "ehr", &["RequestErasure", "P-0001"]);
    let v = gateway_with("evaluate", "hospitala", "patient1", "ehr", &["--seal"], &["VerifyPatient", "P-0001", "1"]);
    let v: Value = serde_json::from_str(v["result"].as_str().expect("result")).expect("verification JSON");
    assert_eq!(v["privateHash"], Value::Null, "the private copy must be purged: {v}");
    assert!(v["ledgerHash"].is_string(), "the hash stays on the ledger: {v}");

    trust_across_organisations(&network);

    // A chaincode server that is not running: the peer says so, status reports it.
    let pid = network.pid_of("ehr.regulator");
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill runs").success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while alive(pid) {
        assert!(std::time::Instant::now() < deadline, "ehr.regulator did not stop on SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let query = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "eval \"$({} env regulator)\" && peer chaincode query -C ehr -n ehr -c '{{\"Args\":[\"org.hyperledger.fabric:GetMetadata\"]}}'",
            network_sh().display()
        ))
        .output()
        .expect("bash runs");
    let err = String::from_utf8_lossy(&query.stderr);
    assert!(!query.status.success() && err.contains("could not launch chaincode ehr_1"), "{err}");
    let status = Command::new(network_sh()).arg("status").output().expect("network.sh runs");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(!status.status.success(), "status must fail while a process is down:\n{text}");
    assert!(text.lines().any(|l| l.starts_with("ehr.regulator") && l.contains(" down ")), "{text}");

    // Redeploy the EHR chaincode at the next sequence without tearing the network down
    // (this also restarts the stopped server).
    network.sh(&["deploy", "ehr"]);
    let committed = peer_cli("hospitala", "lifecycle chaincode querycommitted -C ehr -n ehr -O json");
    let committed: Value = serde_json::from_str(committed.trim()).expect("querycommitted JSON");
    assert_eq!(committed["sequence"], 2);
    let v = gateway("evaluate", "regulator", "regulator1", "ehr", &["org.hyperledger.fabric:GetMetadata"]);
    assert!(v["result"].as_str().is_some_and(|s| s.contains("\"title\":\"ehr\"")));

    let status = network.sh(&["status"]);
    assert!(status.contains("chaincode ehr committed: version 2, sequence 2"), "{status}");

    // Down stops every process it started and removes the state.
    let pids = network.pids();
    drop(network);
    let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left after down: {left:?}");
    assert!(!repo_root().join("fabric-network/state").exists(), "state folder left after down");
}

/// A patient who never submits a transaction: their id may not appear in any block file.
const QUIET_PATIENT: &str = "P-QUIET-7";

/// Patient data of the trust phase: none of it may ever appear in a block file.
const TRUST_NAME: &str = "Quentin Trustfall-Abara";
const TRUST_CONTACT: &str = "+1 555 0199 trustfall";
const TRUST_DIAGNOSIS: &str = "stage II melanoma, left shoulder";
const TRUST_NOTE: &str = "second opinion from HospitalB: excise with margins";

/// The attacks of a member organisation on another's patient, on the real
/// network, with identities minted by each organisation's real fabric-ca and a
/// modified chaincode build run by HospitalB under its own package id.
fn trust_across_organisations(network: &Network) {
    let patient = format!(
        r#"patient={{"name":"{TRUST_NAME}","birthDate":"1966-04-12","sex":"male","contact":"{TRUST_CONTACT}"}}"#
    );
    let salt = format!("salt={}", "cd".repeat(32));
    let file_key = format!("fileKey={}", "f2".repeat(32));
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &patient, "--transient", &salt, "--transient", &file_key],
        &["RegisterPatient", "P-T1"],
    );
    let dx = format!(r#"record={{"body":{{"kind":"diagnosis","icd10":"C43.6","text":"{TRUST_DIAGNOSIS}"}}}}"#);
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &dx, "--transient", &salt],
        &["AddRecord", "P-T1"],
    );

    // The roles registry deploy wrote is on the ledger.
    let registry = gateway("evaluate", "regulator", "regulator1", "ehr", &["RoleRegistry"]);
    assert!(
        registry["result"].as_str().is_some_and(|r| r.contains(r#""msp":"RegulatorMSP","kind":"regulator""#)),
        "{registry}"
    );

    // HospitalB's CA mints HospitalA's patient; HospitalA's CA mints a regulator.
    network.sh(&["user", "hospitalb", "impostor", "patient", "patient_id=P-T1"]);
    network.sh(&["user", "hospitala", "auditor", "regulator"]);
    network.sh(&["user", "hospitala", "trustpatient", "patient", "patient_id=P-T1"]);
    let org_b = r#"{"kind":"organisation","msp":"HospitalBMSP"}"#;
    for (org, user, args, needle) in [
        (
            "hospitalb",
            "impostor",
            vec!["GrantConsent", "P-T1", org_b, "readWrite", "null"],
            "only the patient may grant",
        ),
        ("hospitalb", "impostor", vec!["RequestErasure", "P-T1"], "only the patient may ask for erasure"),
        ("hospitalb", "impostor", vec!["AccessLog", "P-T1", "{}", "100", ""], "reading the access log"),
        ("hospitala", "auditor", vec!["AuditTrail", "P-T1"], "the role regulator may not be asserted by HospitalAMSP"),
    ] {
        // Reads are evaluated with a one-time key; writes send theirs by themselves.
        let (mode, options): (&str, &[&str]) =
            if args[0] == "AccessLog" || args[0] == "AuditTrail" { ("evaluate", &["--seal"]) } else { ("submit", &[]) };
        let out = gateway_raw(mode, org, user, "ehr", options, &args);
        assert_eq!(out["ok"], false, "{org}/{user} {args:?} was allowed: {out}");
        let text = out.to_string();
        assert!(text.contains("403") && text.contains(needle), "{org}/{user} {args:?}: {text}");
    }
    // The real patient, from the home hospital's CA, is the patient.
    let log = gateway_with(
        "evaluate",
        "hospitala",
        "trustpatient",
        "ehr",
        &["--seal"],
        &["AccessLog", "P-T1", "{}", "100", ""],
    );
    assert!(log["result"].as_str().is_some_and(|r| r.starts_with(r#"{"entries":["#)), "{log}");

    // A read submitted as a transaction: refused without a key, and with one
    // only ciphertext reaches the blocks (both hospitals seal identically).
    gateway("submit", "hospitala", "doctor1", "ehr", &["OpenAccess", "P-T1", "treatment"]);
    let bare = gateway_raw("submit", "hospitala", "doctor1", "ehr", &[], &["ReadPatient", "P-T1"]);
    assert!(bare.to_string().contains("transient.sealTo"), "{bare}");
    let read = gateway_with("submit", "hospitala", "doctor1", "ehr", &["--seal"], &["ReadPatient", "P-T1"]);
    assert!(read["result"].as_str().is_some_and(|r| r.contains(TRUST_NAME)), "{read}");
    let search = gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--seal", "--transient", r#"query={"name":"trustfall"}"#],
        &["SearchPatients", "10", ""],
    );
    assert!(search["result"].as_str().is_some_and(|r| r.contains("P-T1")), "{search}");

    // HospitalB runs a modified chaincode under its own package id and endorses alone.
    let before = gateway_with("evaluate", "hospitala", "doctor1", "ehr", &["--seal"], &["ReadPatient", "P-T1"]);
    let before: Value = serde_json::from_str(before["result"].as_str().expect("result")).expect("view JSON");
    {
        let _rogue =
            network.swap_server("ehr.hospitalb", std::path::Path::new(env!("CARGO_BIN_EXE_rogue-ehr-chaincode")));
        let forged = before["record"].to_string().replace(r#""erased":null"#, r#""erased":{"forged":true}"#);
        let consent =
            r#"{"patientId":"P-T1","grantee":{"kind":"organisation","msp":"HospitalBMSP"},"scope":"readWrite"}"#;
        for args in [
            vec!["rogue:Overwrite", "P-T1", forged.as_str()],
            vec!["rogue:ForgeConsent", "P-T1", consent],
            vec!["rogue:Purge", "P-T1"],
        ] {
            let out =
                gateway_raw("submit", "hospitalb", "doctor1", "ehr", &["--endorsing-orgs", "HospitalBMSP"], &args);
            assert_eq!(out["codeName"], "ENDORSEMENT_POLICY_FAILURE", "{args:?} endorsed by HospitalB alone: {out}");
        }
    }
    // Nothing changed: the same record, the same private data at HospitalA's peer, no consent for HospitalB.
    let after = gateway_with("evaluate", "hospitala", "doctor1", "ehr", &["--seal"], &["ReadPatient", "P-T1"]);
    let after: Value = serde_json::from_str(after["result"].as_str().expect("result")).expect("view JSON");
    assert_eq!(after["record"], before["record"]);
    assert_eq!(after["details"]["name"], TRUST_NAME);
    assert_eq!(after["verified"], true);
    let consents = gateway_with("evaluate", "hospitala", "trustpatient", "ehr", &["--seal"], &["ListConsents", "P-T1"]);
    assert_eq!(consents["result"], "[]", "{consents}");

    // A cross-hospital write under consent through the official Node client:
    // the gateway plans both hospitals' endorsements by itself. Forced to
    // HospitalB alone, even the honest chaincode's write is committed invalid.
    gateway("submit", "hospitala", "trustpatient", "ehr", &["GrantConsent", "P-T1", org_b, "readWrite", "null"]);
    let note = format!(r#"record={{"body":{{"kind":"clinicalNote","text":"{TRUST_NOTE}"}}}}"#);
    let added = gateway_with(
        "submit",
        "hospitalb",
        "doctor1",
        "ehr",
        &["--transient", &note, "--transient", &salt],
        &["AddRecord", "P-T1"],
    );
    assert!(added["result"].as_str().is_some_and(|r| r.contains(r#""msp":"HospitalBMSP""#)), "{added}");
    let alone = gateway_raw(
        "submit",
        "hospitalb",
        "doctor1",
        "ehr",
        &["--endorsing-orgs", "HospitalBMSP", "--transient", &note, "--transient", &salt],
        &["AddRecord", "P-T1"],
    );
    assert_eq!(alone["codeName"], "ENDORSEMENT_POLICY_FAILURE", "{alone}");

    // A patient who never acts themselves: doctors register them, write,
    // open access and read; no block names them, nor says who reached them
    // or why, nor what kind of record they have (events and answers are sealed,
    // arguments travel as transient data, keys are pseudonyms).
    let quiet = format!(r#"patient={{"name":"{TRUST_NAME}","birthDate":"1966-04-12","sex":"male"}}"#);
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &quiet, "--transient", &salt, "--transient", &file_key],
        &["RegisterPatient", QUIET_PATIENT],
    );
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--transient", &note, "--transient", &salt],
        &["AddRecord", QUIET_PATIENT],
    );
    let opened = gateway("submit", "hospitala", "doctor1", "ehr", &["OpenAccess", QUIET_PATIENT, "second-opinion"]);
    assert!(opened["result"].as_str().is_some_and(|r| r.contains(r#""granted":true"#)), "{opened}");
    assert!(!opened["sealed"].to_string().contains(QUIET_PATIENT), "{opened}");
    let quiet_tx = opened["txId"].as_str().expect("txId").to_owned();
    let quiet_tx = quiet_tx.as_str();
    let read = gateway_with("evaluate", "hospitala", "doctor1", "ehr", &["--seal"], &["ReadPatient", QUIET_PATIENT]);
    assert!(read["result"].as_str().is_some_and(|r| r.contains(TRUST_NAME)), "{read}");
    // A client that puts the patient id into the arguments is refused before anything is written.
    let leaky = gateway_raw(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &["--args-as-given"],
        &["OpenAccess", QUIET_PATIENT, "treatment"],
    );
    assert!(leaky.to_string().contains("so that they never reach a block"), "{leaky}");
    // The regulator still sees the whole story.
    let trail = gateway_with("evaluate", "regulator", "regulator1", "ehr", &["--seal"], &["AuditTrail", QUIET_PATIENT]);
    for action in ["patientRegistered", "recordAdded", "accessOpened"] {
        assert!(trail["result"].as_str().is_some_and(|r| r.contains(action)), "{action}: {trail}");
    }

    // After every read above (submitted ones included), no block file of any
    // peer or orderer holds this patient's data.
    let state = repo_root().join("fabric-network/state");
    let mut scanned = 0;
    let mut dirs = vec![state.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("state readable").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("blockfile_")) {
                let text = String::from_utf8_lossy(&std::fs::read(&path).expect("block file readable")).into_owned();
                for secret in [TRUST_NAME, TRUST_CONTACT, TRUST_DIAGNOSIS, TRUST_NOTE, "trustfall"] {
                    assert!(!text.contains(secret), "{secret:?} found in {}", path.display());
                }
                // Who reached whom, why, and what kind of records: not in any block either.
                for relation in [QUIET_PATIENT, "second-opinion", "clinicalNote", "accessDenied", "consentGranted"] {
                    assert!(!text.contains(relation), "{relation:?} found in {}", path.display());
                }
                assert!(text.contains(quiet_tx), "{} was written before the phase ended", path.display());
                scanned += 1;
            }
        }
    }
    assert!(scanned >= 6, "expected the block files of 3 peers and 3 orderers, scanned {scanned}");
}

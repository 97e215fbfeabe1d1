//! The Rust gateway client, fabric-ca login and the `ehr` command line,
//! end to end on the real local network (`fabric-network/network.sh`).
//!
//! One test, in order: the demo; every library feature (evaluate, submit,
//! asynchronous submit, offline signing, transient data and endorsing
//! organisations, time limits and cancellation, chaincode events replayed from
//! a block and resumed from a checkpoint, block events, error details, the
//! read-conflict retry); the cross-check with Fabric's official Node gateway
//! client in both directions; login through fabric-ca; every `ehr` command
//! with its exit codes; a notification listener killed and restarted
//! mid-stream that sees every event exactly once; and last, faults: an
//! unreachable peer, a commit that times out, and a peer that dies
//! mid-stream.
//!
//! Needs the Fabric binaries and `npm ci` in `tests/network` (`scripts/test.sh`
//! does both). It fails, never skips, when something is missing. Set
//! `EHR_E2E_REUSE_NETWORK=1` to run against a network that is already up
//! (for development; the network is then left running).

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, missing_docs)]

#[path = "../../fhir/tests/validator/mod.rs"]
mod validator;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ehr_api::events::{Notification, SealedNotices};
use ehr_api::model::{PatientDetails, PatientId, Purpose};
use ehr_api::seal::{OpeningKey, Sealed, TRANSIENT_SEAL_TO};
use ehr_api::transient::{TRANSIENT_FILE_KEY, TRANSIENT_PATIENT, TRANSIENT_SALT};
use ehr_client::config::{OrgProfile, read_profile};
use ehr_client::error::Refusal;
use ehr_client::fhir::PatientOutcome;
use ehr_client::files::{FileStore, Progress};
use ehr_client::scenario::{self, Cast, Narrator, parts};
use ehr_client::{EhrClient, Followed, NotificationFollower};
use ehr_tests::network::{Network, gateway_raw, gateway_with, network_sh};
use ehr_tests::{repo_root, target_dir};
use fabric_ca_client::{Attribute, CaClient, EnrollOptions, RegistrationRequest};
use fabric_gateway_client::{
    ChaincodeEvent, Checkpointer, Commit, Gateway, GatewayError, Identity, InMemoryCheckpointer, Proposal, RetryPolicy,
    Signer, Start, Transaction, retry_on_conflict,
};
use futures::StreamExt;
use serde_json::Value;

const SALT: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn state() -> PathBuf {
    repo_root().join("fabric-network/state")
}

/// An organisation as the network describes itself (state/network.json).
fn org_profile(org: &str) -> OrgProfile {
    let profile = read_profile(&state()).expect("network.sh up wrote state/network.json");
    profile.organisations.get(org).cloned().unwrap_or_else(|| panic!("network.json names no organisation {org}"))
}

fn tls_root(org: &str) -> Vec<u8> {
    std::fs::read(org_profile(org).tls_root).expect("the org's TLS root exists")
}

fn user(org: &str, name: &str) -> (Identity, Signer) {
    let msp = state().join(format!("users/{org}/{name}/msp"));
    let identity = Identity::from_file(org_profile(org).msp_id, &msp.join("signcerts/cert.pem")).expect("certificate");
    let signer = Signer::from_file(&msp.join("keystore/key.pem")).expect("key");
    (identity, signer)
}

async fn connect(org: &str, name: &str) -> Gateway {
    let (identity, signer) = user(org, name);
    Gateway::builder(org_profile(org).peer)
        .tls_root(tls_root(org))
        .identity(identity)
        .signer(signer)
        .connect()
        .await
        .expect("gateway connects")
}

fn details(name: &str) -> PatientDetails {
    PatientDetails {
        name: name.into(),
        birth_date: "1970-05-06".into(),
        sex: "male".into(),
        contact: String::new(),
        description: String::new(),
    }
}

/// The `ehr` binary, built from this workspace.
fn ehr_binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "ehr-cli", "--bin", "ehr"])
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the ehr binary failed");
    let bin = target_dir().join("debug/ehr");
    assert!(bin.is_file(), "{} was not built", bin.display());
    bin
}

/// Runs `ehr` in an isolated home (its own wallet, file store, checkpoints).
struct Cli {
    bin: PathBuf,
    home: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Cli {
    fn command(&self, identity: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("EHR_CONFIG", self.home.path().join("no-config.toml"))
            .env("EHR_NETWORK_DIR", state())
            .args(["--identity", identity])
            .args(args);
        cmd
    }

    fn run(&self, identity: &str, args: &[&str]) -> Out {
        let out = self.command(identity, args).output().expect("ehr runs");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, identity: &str, args: &[&str]) -> String {
        let out = self.run(identity, args);
        assert_eq!(out.code, 0, "ehr {args:?} as {identity} failed:\n{}\n{}", out.stdout, out.stderr);
        out.stdout
    }

    fn json(&self, identity: &str, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let stdout = self.ok(identity, &all);
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("ehr {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// Runs a command that must fail with `code`, and returns its error text.
    fn fails(&self, identity: &str, args: &[&str], code: i32) -> String {
        let out = self.run(identity, args);
        assert_eq!(out.code, code, "ehr {args:?} as {identity}: expected exit {code}:\n{}\n{}", out.stdout, out.stderr);
        assert!(!out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
        out.stderr
    }
}

#[test]
fn the_gateway_client_and_the_ehr_tool_work_on_the_real_network() {
    let reuse = std::env::var("EHR_E2E_REUSE_NETWORK").is_ok_and(|v| v == "1");
    let network = if reuse { None } else { Some(Network::up(&[])) };
    let cli = Cli { bin: ehr_binary(), home: tempfile::tempdir().unwrap() };
    let runtime = tokio::runtime::Runtime::new().unwrap();

    runtime.block_on(scenario_through_the_library());
    demo(&cli);
    the_network_is_read_from_its_own_description(&cli);
    runtime.block_on(library());
    cross_check_with_the_node_client(&cli);
    runtime.block_on(login(&cli));
    every_command(&cli);
    listener_restarts_without_loss_or_repeats(&cli);
    runtime.block_on(faults(&cli, network.as_ref()));
    drop(network);
}

/// Keeps what the scenario tells, for the checks.
#[derive(Default)]
struct Told {
    steps: Vec<(String, String)>,
    results: Vec<String>,
}

impl Narrator for Told {
    fn step(&mut self, who: &str, what: &str) {
        self.steps.push((who.to_owned(), what.to_owned()));
    }
    fn result(&mut self, line: &str) {
        self.results.push(line.to_owned());
    }
}

/// The core scenario through the library (the demo prints the same code's
/// steps), for a patient of its own whose login the test mints, checked by
/// its outcome.
async fn scenario_through_the_library() {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let id = PatientId::parse(&format!("P-SCENE-{stamp}")).unwrap();
    let login = format!("scene{stamp}");
    let minted = Command::new(network_sh())
        .args(["user", "hospitala", &login, "patient", &format!("patient_id={id}")])
        .output()
        .unwrap();
    assert!(minted.status.success(), "network.sh user: {}", String::from_utf8_lossy(&minted.stderr));
    let client = |org: &'static str, name: String| async move {
        EhrClient::new(connect(org, &name).await.network("ehr").contract("ehr"))
    };
    let files = tempfile::tempdir().unwrap();
    let cast = Cast {
        doctor: client("hospitala", "doctor1".into()).await,
        other_doctor: client("hospitalb", "doctor1".into()).await,
        radiologist: client("hospitala", "radiologist1".into()).await,
        pharmacist: client("hospitalb", "pharmacist1".into()).await,
        regulator: client("regulator", "regulator1".into()).await,
        stranger: client("hospitala", "doctor2".into()).await,
        patient: Some(client("hospitala", login).await),
        files: FileStore::open(files.path().join("store").to_str().unwrap()).unwrap(),
        scratch: files.path().to_owned(),
    };
    let mut told = Told::default();
    let outcome = scenario::run(&cast, &id, &mut told).await.unwrap();
    assert!(!outcome.registered_before, "a new patient");
    assert!(outcome.refused_without_consent, "HospitalB reads nothing before consent");
    let read = outcome.read_with_consent.as_ref().expect("the patient consented, so HospitalB read");
    assert_eq!((read.details.name.as_str(), read.verified), ("Jane Demo", true));
    assert_eq!(outcome.stranger_refusal.refusal(), Some(Refusal::Forbidden), "{}", outcome.stranger_refusal);
    let twice = &outcome.second_dispense_refusal;
    assert_eq!(twice.refusal(), Some(Refusal::Conflict), "{twice}");
    assert!(outcome.patients_found >= 1 && outcome.records_found == 1, "{outcome:?}");
    assert!(outcome.report_sha256.len() == 64 && outcome.report_sha256.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(outcome.audit_lines >= 8, "registration, records, accesses, consent, dispense: {outcome:?}");
    assert!(outcome.notifications >= 1, "the regulator opened notices about {id}");
    let who: BTreeSet<&str> = told.steps.iter().map(|(who, _)| who.as_str()).collect();
    let everyone = [parts::DOCTOR, parts::OTHER_DOCTOR, parts::RADIOLOGIST, parts::PHARMACIST, parts::REGULATOR];
    assert!(everyone.iter().all(|p| who.contains(p)), "every part acted: {who:?}");
    assert!(told.results.iter().any(|r| r.contains(&outcome.report_sha256)), "the upload was told");

    // The chart as FHIR R4, read as any reader reads it: valid by HAPI's
    // validator, the same bytes twice, the report's file named by its hash.
    let exported = cast.doctor.export_fhir(&id, Purpose::Treatment).await.unwrap();
    let bytes = exported.canonical_json().unwrap();
    let again = cast.doctor.export_fhir(&id, Purpose::Treatment).await.unwrap().canonical_json().unwrap();
    assert_eq!(bytes, again, "exporting the same chart twice gives the same bytes");
    let text = String::from_utf8(bytes.clone()).unwrap();
    for wanted in
        ["\"Patient\"", "\"Condition\"", "\"MedicationRequest\"", "\"DiagnosticReport\"", "K35.80", "Jane Demo"]
    {
        assert!(text.contains(wanted), "the bundle has no {wanted}");
    }
    assert!(text.contains(&outcome.report_sha256), "the CT report's file is named by its SHA-256");
    let file = files.path().join("chart.json");
    std::fs::write(&file, &bytes).unwrap();
    let findings = validator::validate(std::slice::from_ref(&file));
    let errors: Vec<_> = findings.iter().filter(|f| f.is_error()).collect();
    assert!(errors.is_empty(), "HAPI's validator found errors in the exported chart: {errors:#?}");
    for wanted in ["\"MedicationDispense\"", "\"Consent\"", "\"PractitionerRole\""] {
        assert!(text.contains(wanted), "the dispensed prescription, the consent and the roles: no {wanted}");
    }
    round_trip(&cast, &bytes, stamp, files.path()).await;
}

/// The chart imported as another patient at the other hospital, exported
/// there, validated, and compared: the same clinical content; importing the
/// same bundle again writes nothing.
async fn round_trip(cast: &Cast, bundle: &[u8], stamp: u64, dir: &Path) {
    let copy = PatientId::parse(&format!("P-COPY-{stamp}")).unwrap();
    let started = Instant::now();
    let (total, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let progress = Progress::hidden()
        .on_total({
            let total = total.clone();
            move |n| total.store(n, Ordering::Relaxed)
        })
        .observe({
            let done = done.clone();
            move |n| done.store(n, Ordering::Relaxed)
        });
    let report = cast.other_doctor.import_fhir(bundle, Some(&copy), Purpose::Treatment, progress).await.unwrap();
    eprintln!("imported {} records in {:?}", report.added.len(), started.elapsed());
    assert_eq!(report.patient, PatientOutcome::Registered);
    let told = (total.load(Ordering::Relaxed), done.load(Ordering::Relaxed));
    assert_eq!(told, (report.added.len() as u64, report.added.len() as u64), "progress told the whole way");
    assert!(report.added.len() >= 3, "{report:#?}");
    assert!(report.unmapped.iter().any(|u| u.reason.contains("files are not copied")), "{report:#?}");
    let round = cast.other_doctor.export_fhir(&copy, Purpose::Treatment).await.unwrap().canonical_json().unwrap();
    let file = dir.join("round-trip.json");
    std::fs::write(&file, &round).unwrap();
    let errors: Vec<_> =
        validator::validate(std::slice::from_ref(&file)).into_iter().filter(|f| f.is_error()).collect();
    assert!(errors.is_empty(), "HAPI's validator found errors in the re-exported chart: {errors:#?}");
    let (before, after) = (ehr_fhir::read_bundle(bundle).unwrap(), ehr_fhir::read_bundle(&round).unwrap());
    assert_eq!(after.patient.details, before.patient.details);
    let bodies = |import: &ehr_fhir::Import| {
        let mut all: Vec<String> = import.records.iter().map(|r| serde_json::to_string(&r.body).unwrap()).collect();
        all.sort();
        all
    };
    assert_eq!(bodies(&after), bodies(&before), "the clinical content survives the round trip");
    let text = String::from_utf8(round).unwrap();
    assert!(text.contains(ehr_fhir::systems::IMPORT_SOURCE), "the re-export says where its records came from");
    assert!(text.contains("HospitalBMSP"), "the copy is HospitalB's patient");

    let again =
        cast.other_doctor.import_fhir(bundle, Some(&copy), Purpose::Treatment, Progress::hidden()).await.unwrap();
    assert_eq!((again.patient, again.writes()), (PatientOutcome::Unchanged, 0), "{again:#?}");
    assert_eq!(again.unchanged.len(), report.added.len());
    // A HospitalA doctor cannot slip records into HospitalB's patient by import.
    let refused =
        cast.doctor.import_fhir(bundle, Some(&copy), Purpose::Treatment, Progress::hidden()).await.unwrap_err();
    assert_eq!(refused.refusal(), Some(Refusal::Forbidden), "{refused}");
}

fn demo(cli: &Cli) {
    let started = Instant::now();
    let out = cli.ok("doctor1@hospitala", &["demo"]);
    for step in [
        "registers the patient",
        "uploads a CT report",
        "tries to read the patient without consent",
        "grants HospitalB's doctors read consent",
        "refused: 403",
        "second dispense refused: 409",
        "reads the audit trail",
        "done: patient P-0001",
    ] {
        assert!(out.contains(step), "the demo did not show {step:?}:\n{out}");
    }
    eprintln!("demo ran in {:?}", started.elapsed());
    // The demo's chart leaves as FHIR through the command line too.
    let file = cli.home.path().join("p-0001.fhir.json");
    let summary = cli.json("doctor1@hospitala", &["fhir", "export", "P-0001", "--out", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();
    let bundle: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((bundle["resourceType"].as_str(), bundle["type"].as_str()), (Some("Bundle"), Some("collection")));
    assert_eq!(summary["resources"].as_u64(), bundle["entry"].as_array().map(|e| e.len() as u64), "{summary}");
    use sha2::Digest as _;
    assert_eq!(summary["sha256"].as_str(), Some(hex::encode(sha2::Sha256::digest(&bytes)).as_str()), "{summary}");

    // And comes back in through it, at HospitalB, once.
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let copy = format!("P-CLI-{stamp}");
    let path = file.to_str().unwrap();
    let imported = cli.json("doctor1@hospitalb", &["fhir", "import", path, "--as", &copy]);
    assert_eq!(imported["patient"], "registered", "{imported}");
    assert!(imported["writes"].as_u64().is_some_and(|n| n >= 3), "{imported}");
    let again = cli.json("doctor1@hospitalb", &["fhir", "import", path, "--as", &copy]);
    assert_eq!((again["patient"].as_str(), again["writes"].as_u64()), (Some("unchanged"), Some(0)), "{again}");

    // A bundle with a Condition that names no patient is refused whole: an
    // OperationOutcome naming the element, exit 3, and nothing written.
    let mut broken = bundle.clone();
    let entries = broken["entry"].as_array_mut().unwrap();
    let condition = entries.iter_mut().find(|e| e["resource"]["resourceType"] == "Condition").unwrap();
    condition["resource"].as_object_mut().unwrap().remove("subject");
    let bad = cli.home.path().join("broken.fhir.json");
    std::fs::write(&bad, serde_json::to_vec(&broken).unwrap()).unwrap();
    let never = format!("P-BAD-{stamp}");
    let out = cli.run("doctor1@hospitalb", &["--json", "fhir", "import", bad.to_str().unwrap(), "--as", &never]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let outcome: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    assert!(outcome["issue"][0]["expression"][0].as_str().unwrap().ends_with(".subject"), "{outcome}");
    let text = cli.fails("doctor1@hospitalb", &["fhir", "import", bad.to_str().unwrap(), "--as", &never], 3);
    assert!(text.contains("Condition") && text.contains("subject"), "{text}");
    // Nothing was written: the patient is new to the ledger when the good bundle comes.
    let later = cli.json("doctor1@hospitalb", &["fhir", "import", path, "--as", &never]);
    assert_eq!(later["patient"], "registered", "the refused import registered nobody: {later}");
    // Someone without grounds gets no chart out.
    cli.fails("doctor2@hospitala", &["fhir", "export", &never], 4);
}

async fn library() {
    let doctor = connect("hospitala", "doctor1").await;
    let network = doctor.network("ehr");
    let contract = network.contract("ehr");
    let id = PatientId::parse("P-LIB-1").unwrap();
    // Block events through the Deliver service, from the genesis block on.
    let start_block = {
        let mut blocks = network.block_events(Start::Block(0)).await.unwrap();
        for expected in 0..3u64 {
            let block = tokio::time::timeout(Duration::from_secs(30), blocks.next()).await.unwrap().unwrap().unwrap();
            assert_eq!(block.header.unwrap().number, expected, "blocks come in order from the start block");
        }
        2
    };

    // Transient data with named endorsing organisations (the collection's
    // members). The patient id goes as transient data too, and the answer
    // comes sealed to a one-time key: a block must not name whom a doctor reached.
    let key = OpeningKey::from_random_bytes([1; 32]);
    let proposal = contract
        .call("RegisterPatient")
        .transient("patientId", id.as_str())
        .transient(TRANSIENT_PATIENT, serde_json::to_vec(&details("Lib Patient")).unwrap())
        .transient(TRANSIENT_SALT, SALT.as_bytes().to_vec())
        .transient(TRANSIENT_FILE_KEY, "f3".repeat(32).into_bytes())
        .transient(TRANSIENT_SEAL_TO, key.public_bytes())
        .endorsing_organizations(["HospitalAMSP", "HospitalBMSP"])
        .build()
        .unwrap();
    let tx_id = proposal.transaction_id().to_owned();
    let submitted = proposal.endorse().await.unwrap().submit().await.expect("register with transient data");
    submitted.commit().status().await.unwrap().ensure_committed().unwrap();
    assert!(!String::from_utf8_lossy(submitted.result()).contains("P-LIB-1"), "the answer is sealed");
    let sealed: Sealed = serde_json::from_slice(submitted.result()).unwrap();
    let registered: Value = key.open(&tx_id, &sealed).unwrap();
    assert_eq!(registered["id"], "P-LIB-1");

    // Asynchronous submit: the result is known before the commit.
    let proposal = contract
        .call("OpenAccess")
        .transient("patientId", "P-LIB-1")
        .transient("purpose", "treatment")
        .transient(TRANSIENT_SEAL_TO, key.public_bytes())
        .build()
        .unwrap();
    let tx_id = proposal.transaction_id().to_owned();
    let submitted = proposal.endorse().await.unwrap().submit().await.unwrap();
    let entry: Value = key.open(&tx_id, &serde_json::from_slice(submitted.result()).unwrap()).unwrap();
    assert_eq!(entry["granted"], true);
    let status = submitted.commit().status().await.unwrap().ensure_committed().unwrap();
    assert!(status.block_number > start_block);

    // Evaluate through the typed client.
    let ehr = EhrClient::new(contract.clone());
    let view = ehr.read_patient(&id).await.unwrap();
    assert_eq!(view.details.name, "Lib Patient");
    assert!(view.verified);

    // Offline signing: a gateway with no key; every digest is signed elsewhere.
    let (identity, signer) = user("hospitala", "doctor1");
    let offline = Gateway::builder(org_profile("hospitala").peer)
        .tls_root(tls_root("hospitala"))
        .identity(identity)
        .connect()
        .await
        .unwrap();
    let unsigned = offline
        .network("ehr")
        .contract("ehr")
        .call("OpenAccess")
        .transient("patientId", "P-LIB-1")
        .transient("purpose", "administration")
        .transient(TRANSIENT_SEAL_TO, key.public_bytes())
        .build()
        .unwrap();
    assert!(matches!(unsigned.evaluate().await, Err(GatewayError::NoSigner(_))));
    let proposal =
        Proposal::with_signature(&offline, &unsigned.bytes(), signer.sign_digest(&unsigned.digest()).unwrap()).unwrap();
    assert_eq!(proposal.transaction_id(), unsigned.transaction_id());
    let endorsed = proposal.endorse().await.unwrap();
    let transaction =
        Transaction::with_signature(&offline, &endorsed.bytes(), signer.sign_digest(&endorsed.digest()).unwrap())
            .unwrap();
    let submitted = transaction.submit().await.unwrap();
    let commit = submitted.commit();
    let commit =
        Commit::with_signature(&offline, &commit.bytes(), signer.sign_digest(&commit.digest()).unwrap()).unwrap();
    let status = commit.status().await.unwrap().ensure_committed().unwrap();
    assert!(status.successful());

    // The chaincode's own refusal, with every endorser's details.
    let stranger = connect("hospitala", "doctor2").await;
    let err = stranger
        .network("ehr")
        .contract("ehr")
        .call("UpdatePatient")
        .transient("patientId", "P-LIB-1")
        .transient(TRANSIENT_SEAL_TO, key.public_bytes())
        .transient(TRANSIENT_PATIENT, serde_json::to_vec(&details("X")).unwrap())
        .transient(TRANSIENT_SALT, SALT.as_bytes().to_vec())
        .submit()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "403: not permitted: only an attending doctor may update patient P-LIB-1");
    let GatewayError::Rpc { details: endorsers, .. } = &err else { panic!("{err:?}") };
    assert!(err.transaction_id().is_some_and(|id| id.len() == 64), "the refusal names its transaction: {err:?}");
    assert!(
        !endorsers.is_empty() && endorsers.iter().all(|d| !d.address.is_empty() && !d.msp_id.is_empty()),
        "{endorsers:?}"
    );
    let missing = contract
        .call("VerifyPrescription")
        .arg("R-NONE")
        .arg("0".repeat(64))
        .transient(TRANSIENT_SEAL_TO, key.public_bytes())
        .evaluate()
        .await
        .unwrap_err();
    assert_eq!(missing.chaincode().map(|c| c.status), Some(404), "{missing}");
    // A function that answers with patient data refuses a call without a one-time key (400),
    // and the typed client sends one and opens the sealed answer.
    let unsealed = contract.evaluate("RecordHistory", &["P-LIB-1", "R-NONE"]).await.unwrap_err();
    assert_eq!(unsealed.chaincode().map(|c| c.status), Some(400), "{unsealed}");
    let missing = ehr.record_history(&id, "R-NONE").await.unwrap_err();
    assert_eq!(missing.refusal(), Some(ehr_client::error::Refusal::NotFound), "{missing}");

    // Time limits and cancellation.
    // (The timer's granularity is a millisecond, so a fast peer may answer
    // first once in a while; a few tries must show the limit at work.)
    let mut late = Vec::new();
    for _ in 0..10 {
        let call = contract.call("ListConsents").arg("P-LIB-1").timeout(Duration::from_micros(1)).evaluate().await;
        let timed_out = matches!(call, Err(GatewayError::Timeout { .. }));
        late.push(call);
        if timed_out {
            break;
        }
    }
    assert!(
        matches!(late.last(), Some(Err(GatewayError::Timeout { .. }))),
        "a 1 µs limit never ended a call: {late:?}"
    );
    let cancelled = tokio::time::timeout(
        Duration::from_millis(5),
        contract
            .call("OpenAccess")
            .transient("patientId", "P-LIB-1")
            .transient("purpose", "treatment")
            .transient(TRANSIENT_SEAL_TO, key.public_bytes())
            .submit(),
    )
    .await;
    assert!(cancelled.is_err(), "the submit was cancelled by dropping it");
    let after = contract.call("ListConsents").arg("P-LIB-1").transient(TRANSIENT_SEAL_TO, key.public_bytes());
    assert!(after.evaluate().await.is_ok(), "the gateway still works after a cancellation");

    // Read conflicts: concurrent updates of one patient conflict without the
    // retry helper, and all succeed with it.
    let update = |name: String| {
        let contract = contract.clone();
        async move {
            contract
                .call("UpdatePatient")
                .transient("patientId", "P-LIB-1")
                .transient(TRANSIENT_SEAL_TO, OpeningKey::from_random_bytes([2; 32]).public_bytes())
                .transient(TRANSIENT_PATIENT, serde_json::to_vec(&details(&name)).unwrap())
                .transient(TRANSIENT_SALT, SALT.as_bytes().to_vec())
                .submit()
                .await
        }
    };
    let raw = futures::future::join_all((0..4).map(|i| update(format!("Raw {i}")))).await;
    let conflicts = raw.iter().filter(|r| r.as_ref().is_err_and(GatewayError::is_read_conflict)).count();
    assert!(conflicts >= 1, "4 concurrent updates of one key should conflict: {raw:?}");
    assert!(raw.iter().all(|r| r.is_ok() || r.as_ref().is_err_and(GatewayError::is_read_conflict)), "{raw:?}");
    let policy = RetryPolicy { attempts: 8, backoff: Duration::from_millis(200) };
    let retried =
        futures::future::join_all((0..4).map(|i| retry_on_conflict(policy, move |_| update(format!("Retried {i}")))))
            .await;
    assert!(retried.iter().all(Result::is_ok), "with the retry helper every update commits: {retried:?}");

    // Chaincode events: replay from a block, then resume from a checkpoint.
    // Their notices are sealed: the regulator opens them with its organisation's key.
    let regulator = connect("regulator", "regulator1").await;
    let notices = EhrClient::new(regulator.network("ehr").contract("ehr")).notification_key().await.unwrap();
    let mut all = network.chaincode_events("ehr", Start::Block(start_block)).await.unwrap();
    let mut mine = Vec::new();
    while mine.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(30), all.next()).await.unwrap().unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&event.payload).contains("P-LIB-1"), "an event names the patient");
        let sealed: SealedNotices = serde_json::from_slice(&event.payload).unwrap();
        let note: Option<Value> = sealed.notices.iter().find_map(|n| notices.open(&event.transaction_id, n).ok());
        if note.is_some_and(|n| n["patientId"] == "P-LIB-1") {
            mine.push(event);
        }
    }
    drop(all);
    assert_eq!(mine[0].transaction_id, registered["created"]["txId"], "replay starts with the registration");
    let mut checkpoint = InMemoryCheckpointer::new();
    checkpoint.checkpoint_event(&mine[1]).unwrap();
    let mut resumed =
        network.chaincode_events("ehr", Start::resume(checkpoint.position(), Start::NextCommit)).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(30), resumed.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(next.transaction_id, mine[2].transaction_id, "resuming skips exactly what was checkpointed");

    // The library's follower does the same with opened notices: two handled,
    // and a new follower on the same checkpoint starts with the third.
    let ehr = EhrClient::new(regulator.network("ehr").contract("ehr"));
    let mut follower = NotificationFollower::new(&ehr, InMemoryCheckpointer::new(), Start::Block(start_block), false);
    let mut handled = Vec::new();
    while handled.len() < 2 {
        let (event, note) = next_notice(&mut follower).await;
        follower.handled(&event).unwrap();
        if note.patient_id.as_str() == "P-LIB-1" {
            handled.push(event.transaction_id);
        }
    }
    assert_eq!(handled, [mine[0].transaction_id.clone(), mine[1].transaction_id.clone()]);
    let mut again = NotificationFollower::new(&ehr, follower.checkpointer().clone(), Start::Block(start_block), false);
    let (event, note) = next_notice(&mut again).await;
    assert_eq!((event.transaction_id.as_str(), note.patient_id.as_str()), (mine[2].transaction_id.as_str(), "P-LIB-1"));
}

/// The follower's next notice; a reconnect cannot happen with reconnecting off.
async fn next_notice(follower: &mut NotificationFollower<'_, InMemoryCheckpointer>) -> (ChaincodeEvent, Notification) {
    match tokio::time::timeout(Duration::from_secs(30), follower.next()).await.unwrap().unwrap().unwrap() {
        Followed::Notice(event, note) => (*event, note),
        Followed::Reconnecting { reason, .. } => panic!("a follower without reconnecting reported one: {reason}"),
    }
}

fn cross_check_with_the_node_client(cli: &Cli) {
    // Written by the official Node client, read by ours.
    let transient = format!("patient={}", serde_json::to_string(&details("Node Written")).unwrap());
    gateway_with(
        "submit",
        "hospitala",
        "doctor1",
        "ehr",
        &[
            "--transient",
            &transient,
            "--transient",
            &format!("salt={SALT}"),
            "--transient",
            &format!("fileKey={}", "f4".repeat(32)),
        ],
        &["RegisterPatient", "P-NODE-1"],
    );
    let ours = cli.json("doctor1@hospitala", &["patient", "history", "P-NODE-1"]);
    // Histories come sealed to a one-time key: the Node client opens them with @hpke/core.
    let node = gateway_with("evaluate", "hospitala", "doctor1", "ehr", &["--seal"], &["PatientHistory", "P-NODE-1"]);
    let node: Value = serde_json::from_str(node["result"].as_str().unwrap()).unwrap();
    assert_eq!(ours, node, "both clients read the same history");

    // Written by ours, read by the Node client.
    let added = cli.json("doctor1@hospitala", &["record", "add", "P-NODE-1", "--kind", "diagnosis", "--icd10", "J45"]);
    let record_id = added["meta"]["id"].as_str().unwrap().to_owned();
    // `record history` opens its own access window, so the content shows for both.
    let ours = cli.json("doctor1@hospitala", &["record", "history", "P-NODE-1", &record_id]);
    assert_eq!(ours[0]["content"]["icd10"], "J45", "{ours}");
    let node = gateway_with(
        "evaluate",
        "hospitala",
        "doctor1",
        "ehr",
        &["--seal"],
        &["RecordHistory", "P-NODE-1", &record_id],
    );
    let node: Value = serde_json::from_str(node["result"].as_str().unwrap()).unwrap();
    assert_eq!(node[0]["meta"], added["meta"], "the Node client sees the record our client wrote");
    assert_eq!(ours, node, "and both read it identically");
}

/// The tool finds the network from what the network wrote (`network.json`),
/// not from a path compiled into it: run from a folder outside the checkout,
/// it works when told the state folder and otherwise says how to find it.
fn the_network_is_read_from_its_own_description(cli: &Cli) {
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |network_dir: Option<&Path>| {
        let mut cmd = cli.command("doctor1@hospitala", &["--json", "whoami"]);
        cmd.current_dir(elsewhere.path()).env_remove("EHR_NETWORK_DIR");
        if let Some(dir) = network_dir {
            cmd.env("EHR_NETWORK_DIR", dir);
        }
        cmd.output().unwrap()
    };
    let found = run(Some(&state()));
    assert!(found.status.success(), "{}", String::from_utf8_lossy(&found.stderr));
    let who: Value = serde_json::from_slice(&found.stdout).unwrap();
    let org = org_profile("hospitala");
    assert_eq!(
        (who["mspId"].as_str(), who["peer"].as_str()),
        (Some(org.msp_id.as_str()), Some(org.peer.as_str())),
        "{who}"
    );
    let lost = run(None);
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert_eq!(lost.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no network settings were found") && stderr.contains("network.sh up"), "{stderr}");
}

async fn login(cli: &Cli) {
    // A registrar registers a new nurse-like user with attributes; the user logs in with the tool.
    let org = org_profile("hospitala");
    let ca = CaClient::from_tls_root_file(&org.ca_url, &org.ca_name, &org.ca_tls_root).unwrap();
    let registrar = ca.enroll("admin", "adminpw", &EnrollOptions::default()).await.unwrap();
    let mut request = RegistrationRequest::new("doctor9");
    request.secret = Some("doctor9pw".into());
    request.attributes = vec![Attribute::ecert("role", "doctor")];
    let secret = ca.register(registrar.certificate_pem.as_bytes(), &registrar.signer, &request).await.unwrap();
    assert_eq!(secret, "doctor9pw");

    let wrong = cli.fails("doctor9@hospitala", &["login", "--secret", "nope"], 4);
    assert!(wrong.contains("doctor9") && wrong.contains("secret"), "{wrong}");
    let text = cli.ok("doctor9@hospitala", &["login", "--secret", "doctor9pw"]);
    assert!(text.contains("logged in as doctor9@hospitala"), "{text}");
    let key = cli.home.path().join(".ehr/wallet/doctor9@hospitala/key.pem");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600, "the key is private");
    let who = cli.json("doctor9@hospitala", &["whoami"]);
    assert_eq!((who["role"].as_str(), who["mspId"].as_str()), (Some("doctor"), Some("HospitalAMSP")));
    assert!(who["source"].as_str().unwrap().starts_with("wallet"), "{who}");
    let listed = cli.ok("doctor9@hospitala", &["identities"]);
    assert!(listed.contains("doctor9@hospitala") && listed.contains("doctor1@hospitala"), "{listed}");
    let before = std::fs::read(&key).unwrap();
    cli.ok("doctor9@hospitala", &["login", "--renew"]);
    assert_ne!(std::fs::read(&key).unwrap(), before, "renewal brings a new key");
    // The new identity acts on the ledger.
    cli.ok(
        "doctor9@hospitala",
        &["patient", "create", "P-NINE", "--name", "Nine", "--birth-date", "2001-01-01", "--sex", "other"],
    );

    // A key that does not match its certificate is refused before anything is sent.
    std::fs::write(&key, Signer::generate().to_pkcs8_pem().unwrap()).unwrap();
    let mismatch = cli.fails("doctor9@hospitala", &["whoami"], 4);
    assert!(mismatch.contains("does not belong to its certificate"), "{mismatch}");
    // A certificate from a CA the channel does not trust is refused by the
    // peer (as a revoked or expired one would be), with what to do.
    let foreign = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let foreign_cert = rcgen::CertificateParams::new(vec!["intruder".into()]).unwrap().self_signed(&foreign).unwrap();
    let intruder = state().join("users/hospitala/intruder/msp");
    std::fs::create_dir_all(intruder.join("signcerts")).unwrap();
    std::fs::create_dir_all(intruder.join("keystore")).unwrap();
    std::fs::write(intruder.join("signcerts/cert.pem"), foreign_cert.pem()).unwrap();
    std::fs::write(intruder.join("keystore/key.pem"), foreign.serialize_pem()).unwrap();
    let refused = cli.fails("intruder@hospitala", &["record", "list", "P-NINE"], 4);
    assert!(refused.contains("does not accept this identity") && refused.contains("ehr login"), "{refused}");
    std::fs::remove_dir_all(intruder.parent().unwrap()).unwrap();

    // A group-readable key is refused with the fix named.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loose = cli.fails("doctor9@hospitala", &["whoami"], 4);
    assert!(loose.contains("chmod 600"), "{loose}");
}

fn every_command(cli: &Cli) {
    let d = "doctor1@hospitala";
    // Patients.
    let created = cli.json(
        d,
        &[
            "patient",
            "create",
            "P-CLI-1",
            "--name",
            "Zoë O'Brien",
            "--birth-date",
            "1990-07-08",
            "--sex",
            "female",
            "--contact",
            "zoe@example.org",
        ],
    );
    assert_eq!(created["version"], 1);
    let bad = cli.fails(
        d,
        &["patient", "create", "P-CLI-2", "--name", "X", "--birth-date", "1990-13-08", "--sex", "female"],
        2,
    );
    assert!(bad.contains("birthDate"), "{bad}");
    let shown = cli.json(d, &["patient", "show", "P-CLI-1", "--purpose", "treatment"]);
    assert_eq!(shown["details"]["name"], "Zoë O'Brien");
    let updated = cli.json(d, &["patient", "update", "P-CLI-1", "--contact", "+1 555 0100"]);
    assert_eq!(updated["version"], 2);
    let shown = cli.json(d, &["patient", "show", "P-CLI-1"]);
    assert_eq!(
        (shown["details"]["contact"].as_str(), shown["details"]["name"].as_str()),
        (Some("+1 555 0100"), Some("Zoë O'Brien"))
    );
    let hits = cli.json(d, &["patient", "search", "--name", "ZOE bri"]);
    assert_eq!(hits["patients"][0]["patientId"], "P-CLI-1", "{hits}");
    let history = cli.json(d, &["patient", "history", "P-CLI-1"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    let verified = cli.json(d, &["patient", "verify", "P-CLI-1"]);
    assert_eq!(verified["matches"], true);
    let other = cli.json("doctor2@hospitala", &["whoami"]);
    // Not yet attending, no consent: refused as "not allowed" (exit 4), and the attempt is logged.
    let refused = cli.fails("doctor2@hospitala", &["patient", "show", "P-CLI-1"], 4);
    assert!(refused.contains("was refused") && refused.contains("access log"), "{refused}");
    cli.ok(
        d,
        &["patient", "attend", "P-CLI-1", "--doctor", other["personId"].as_str().unwrap(), "--msp", "HospitalAMSP"],
    );
    cli.ok("doctor2@hospitala", &["patient", "show", "P-CLI-1"]);

    // Records.
    let slip = cli.home.path().join("slip.json");
    let rx = cli.json(
        d,
        &[
            "record",
            "add",
            "P-CLI-1",
            "--kind",
            "prescription",
            "--medication",
            "ibuprofen",
            "--dose",
            "400 mg",
            "--frequency",
            "as needed",
            "--copy-out",
            slip.to_str().unwrap(),
        ],
    );
    let rx_id = rx["meta"]["id"].as_str().unwrap().to_owned();
    let dx = cli
        .json(d, &["record", "add", "P-CLI-1", "--kind", "diagnosis", "--icd10", "M54.5", "--text", "low back pain"]);
    let dx_id = dx["meta"]["id"].as_str().unwrap().to_owned();
    let missing = cli.fails(d, &["record", "add", "P-CLI-1", "--kind", "diagnosis"], 2);
    assert!(missing.contains("--icd10"), "{missing}");
    let shown = cli.json(d, &["record", "show", "P-CLI-1", &dx_id]);
    assert_eq!(shown["body"]["icd10"], "M54.5");
    let v2 = cli.json(d, &["record", "update", "P-CLI-1", &dx_id, "--kind", "diagnosis", "--icd10", "M54.50"]);
    assert_eq!(v2["meta"]["version"], 2);
    let history = cli.json(d, &["record", "history", "P-CLI-1", &dx_id]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    cli.json(d, &["record", "verify", "P-CLI-1", &dx_id]);
    let listed = cli.json(d, &["record", "list", "P-CLI-1", "--kind", "diagnosis"]);
    assert_eq!(listed["records"].as_array().unwrap().len(), 1);
    let found = cli.json(d, &["record", "list", "P-CLI-1", "--icd10", "M54", "--from", "2020-01-01"]);
    assert_eq!(found["records"][0]["id"], dx_id.as_str());
    let deleted = cli.json(d, &["record", "delete", "P-CLI-1", &dx_id, "--reason", "entered twice"]);
    assert_eq!(deleted["deleted"]["reason"], "entered twice");

    // A radiologist uploads a file: stored, hashed, attached; downloads are verified.
    let scan = cli.home.path().join("mri.pdf");
    std::fs::write(&scan, b"%PDF-1.4 MRI lumbar spine\n").unwrap();
    let uploaded =
        cli.json("radiologist1@hospitala", &["upload", "P-CLI-1", scan.to_str().unwrap(), "--modality", "MRI"]);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&scan).unwrap()));
    assert_eq!(uploaded["sha256"], sha.as_str());
    assert_eq!(uploaded["mediaType"], "application/pdf");
    let report = uploaded["recordId"].as_str().unwrap().to_owned();
    let out_dir = cli.home.path().join("downloads");
    cli.ok(d, &["record", "download", "P-CLI-1", &report, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(std::fs::read(out_dir.join(format!("{sha}.pdf"))).unwrap(), std::fs::read(&scan).unwrap());
    let no_file =
        cli.fails("radiologist1@hospitala", &["upload", "P-CLI-1", "/nonexistent.pdf", "--modality", "CT"], 1);
    assert!(no_file.contains("/nonexistent.pdf"), "{no_file}");
    // At rest the file is encrypted with the patient's file key, under its plaintext hash.
    let stored = stored_objects(&cli.home.path().join(".ehr/files"), &sha).remove(0);
    let at_rest = std::fs::read(&stored).unwrap();
    assert!(!at_rest.windows(16).any(|w| w == b"MRI lumbar spine"), "plaintext at rest in {}", stored.display());
    std::fs::write(&stored, b"%PDF-1.4 altered\n").unwrap();
    let tampered =
        cli.fails(d, &["record", "download", "P-CLI-1", &report, "--out", out_dir.join("t").to_str().unwrap()], 8);
    assert!(tampered.contains(&sha), "the mismatch names the ledger hash: {tampered}");

    // Consent, access log, audit.
    let p = "patient1@hospitala";
    cli.ok(p, &["consent", "grant", "P-0001", "--org", "HospitalBMSP", "--write", "--until", "2099-01-01"]);
    let consents = cli.json(p, &["consent", "list", "P-0001"]);
    assert!(
        consents.as_array().unwrap().iter().any(|c| c["grantee"]["msp"] == "HospitalBMSP" && c["scope"] == "readWrite")
    );
    let lab_upload = cli.json(
        "lab1@hospitalb",
        &["upload", "P-0001", scan.to_str().unwrap(), "--test", "full blood count", "--media-type", "application/pdf"],
    );
    cli.ok(p, &["consent", "revoke", "P-0001", "--org", "HospitalBMSP"]);
    let refused = cli.fails("lab1@hospitalb", &["upload", "P-0001", scan.to_str().unwrap(), "--test", "again"], 4);
    assert!(refused.starts_with("error: 403"), "{refused}");
    let log = cli.json(p, &["access-log", "P-0001"]);
    assert!(!log.as_array().unwrap().is_empty());
    let granted = cli.json(p, &["access-log", "P-0001", "--granted"]);
    let granted = granted.as_array().unwrap();
    assert!(!granted.is_empty() && granted.iter().all(|e| e["granted"] == true), "{granted:?}");
    assert!(granted.len() < log.as_array().unwrap().len(), "the demo's refused attempt is filtered out");
    let page = cli.json(p, &["access-log", "P-0001", "--page-size", "1"]);
    assert_eq!(page["entries"].as_array().unwrap().len(), 1);
    assert!(!page["bookmark"].as_str().unwrap().is_empty(), "{page}");
    let audit = cli.json("regulator1@regulator", &["audit", "P-CLI-1"]);
    assert!(audit.as_array().unwrap().iter().any(|l| l["action"] == "recordDeleted"), "{audit}");

    // Prescriptions: verified from the slip, dispensed once.
    let check =
        cli.json("pharmacist1@hospitalb", &["prescription", "verify", &rx_id, "--copy", slip.to_str().unwrap()]);
    assert_eq!(check["matches"], true);
    let wrong = cli.fails("pharmacist1@hospitalb", &["prescription", "verify", &rx_id, "--hash", &"0".repeat(64)], 8);
    assert!(wrong.contains("does not match"), "{wrong}");
    cli.ok("pharmacist1@hospitalb", &["prescription", "dispense", &rx_id, "--copy", slip.to_str().unwrap()]);
    let again =
        cli.fails("pharmacist1@hospitalb", &["prescription", "dispense", &rx_id, "--copy", slip.to_str().unwrap()], 6);
    assert!(again.contains("409"), "{again}");

    // Exit codes scripts rely on.
    cli.fails(d, &["record", "history", "P-CLI-1", "R-NONE"], 5);
    cli.fails("doctor2@hospitala", &["record", "list", "P-0001"], 4);
    cli.fails(d, &["patient", "show", "x"], 2);
    let help = cli.ok(d, &["--help"]);
    assert!(help.contains("Exit codes") && help.contains("Examples"), "{help}");

    // Erasure, by the patient (patient1 holds P-0001 in their certificate).
    cli.fails(p, &["erase", "P-0001"], 2);
    let erased = cli.json(p, &["erase", "P-0001", "--yes"]);
    assert!(erased["erased"].is_object(), "{erased}");
    let after = cli.run(d, &["--json", "patient", "verify", "P-0001", "--version", "1"]);
    assert_eq!(after.code, 8, "an erased copy no longer matches: {}", after.stderr);
    let after: Value = serde_json::from_str(after.stdout.trim()).unwrap();
    assert!(after["privateHash"].is_null() && after["ledgerHash"].is_string(), "{after}");
    // Crypto-shredding: the file key is purged from both hospitals' peers, so the
    // stored (encrypted) copy of the lab file can no longer be read by anyone.
    let copies = stored_objects(&cli.home.path().join(".ehr/files"), lab_upload["sha256"].as_str().unwrap());
    assert_eq!(copies.len(), 2, "the same scan, stored for two patients under two keys: {copies:?}");
    for org in ["hospitala", "hospitalb"] {
        let key = gateway_raw("evaluate", org, "doctor1", "ehr", &["--seal"], &["FileKey", "P-0001"]);
        assert!(key.to_string().contains("404") && key.to_string().contains("file key is gone"), "{org}: {key}");
    }
}

/// The encrypted stored objects named `sha256` under a file store folder
/// (`enc/<key id>/…`, one per patient key); panics when there is none.
fn stored_objects(store: &Path, sha256: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![store.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == sha256) && path.to_string_lossy().contains("/enc/") {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no encrypted object {sha256} under {}", store.display());
    found
}

/// Starts `ehr notifications --follow` for P-CLI-1 as the regulator (events
/// are sealed to the patient and the regulators) and collects its lines.
fn start_listener(cli: &Cli, checkpoint: &Path) -> (Child, mpsc::Receiver<Value>) {
    let mut child = cli
        .command(
            "regulator1@regulator",
            &[
                "--json",
                "notifications",
                "--follow",
                "--patient",
                "P-CLI-1",
                "--checkpoint",
                checkpoint.to_str().unwrap(),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the listener starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    (child, rx)
}

fn listener_restarts_without_loss_or_repeats(cli: &Cli) {
    let checkpoint = cli.home.path().join("listener.json");
    let d = "doctor1@hospitala";
    let access = |purpose: &str| {
        let view = cli.json(d, &["patient", "show", "P-CLI-1", "--purpose", purpose]);
        assert_eq!(view["record"]["id"], "P-CLI-1");
    };
    // Each `patient show` writes one access entry and so one notification.
    let (mut first, rx) = start_listener(cli, &checkpoint);
    std::thread::sleep(Duration::from_secs(2));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let receive = |rx: &mpsc::Receiver<Value>, until: usize, seen: &mut BTreeMap<String, usize>| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.values().sum::<usize>() < until && Instant::now() < deadline {
            if let Ok(v) = rx.recv_timeout(Duration::from_millis(200)) {
                *seen.entry(v["transactionId"].as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
    };
    for _ in 0..3 {
        access("treatment");
    }
    receive(&rx, 3, &mut seen);
    assert_eq!(seen.len(), 3, "the listener saw the first three: {seen:?}");
    // Killed mid-stream (SIGKILL: no chance to tidy up); events go on meanwhile.
    first.kill().unwrap();
    first.wait().unwrap();
    for _ in 0..3 {
        access("emergency");
    }
    let (mut second, rx) = start_listener(cli, &checkpoint);
    for _ in 0..2 {
        access("second-opinion");
    }
    receive(&rx, 8, &mut seen);
    std::thread::sleep(Duration::from_secs(3));
    while let Ok(v) = rx.try_recv() {
        *seen.entry(v["transactionId"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(seen.len(), 8, "every event arrived: {seen:?}");
    assert!(seen.values().all(|n| *n == 1), "no event arrived twice: {seen:?}");
}

async fn faults(cli: &Cli, network: Option<&Network>) {
    // An unreachable peer is named, with what to do.
    let err = cli.fails("doctor1@hospitala", &["--peer", "127.0.0.1:1", "record", "list", "P-CLI-1"], 7);
    assert!(err.contains("127.0.0.1:1") && err.contains("network.sh up"), "{err}");
    assert!(!err.contains("debug:"), "no internals without --verbose: {err}");

    // A commit that does not come in time says the transaction may still commit.
    let doctor = connect("hospitala", "doctor1").await;
    let never = Commit::for_transaction(&doctor, "ehr", &"f".repeat(64)).unwrap().timeout(Duration::from_secs(2));
    let late = never.status().await.unwrap_err();
    assert!(matches!(late, GatewayError::Timeout { .. }) && late.to_string().contains("may still commit"), "{late}");
    assert!(late.to_string().contains(&"f".repeat(64)), "the timeout names the transaction to look up: {late}");

    // A peer that dies mid-stream ends the stream with an error, not a hang.
    let Some(network) = network else { return };
    let b = connect("hospitalb", "doctor1").await;
    let mut events = b.network("ehr").chaincode_events("ehr", Start::NextCommit).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(1), events.next()).await;
    let pid = network.pid_of("peer0.hospitalb");
    Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    let end = tokio::time::timeout(Duration::from_secs(30), events.next()).await.expect("the stream ends promptly");
    assert!(matches!(end, Some(Err(_)) | None), "{end:?}");
    let ehr = EhrClient::new(b.network("ehr").contract("ehr"));
    let err = ehr.list_consents(&PatientId::parse("P-CLI-1").unwrap()).await.unwrap_err();
    assert!(err.is_unavailable(), "a dead peer is reported as unavailable: {err}");
}

//! Set-up shared by the EHR contract's tests: the three organisations' CAs,
//! identities with fabric-ca style attributes, and small helpers.
#![allow(dead_code, missing_docs, unreachable_pub, clippy::unwrap_used)]

use ehr_api::seal::{OpeningKey, Sealed, TRANSIENT_SEAL_TO};
use fabric_chaincode_shim::Router;
use fabric_chaincode_shim::testing::{Invocation, MockStub, TestCa, TestIdentity, TxOutcome};
use serde_json::{Value, json};

/// The roles registry `network.sh deploy` writes.
pub const ROLES_REGISTRY: &str = include_str!("../../roles_registry.json");

/// The contract as the tests drive it: the harness's timestamps are fixed in
/// 2023, so the clock-skew check is off (`lib.rs` tests it on its own).
pub fn router() -> Router {
    ehr_chaincode::router_with(ehr_chaincode::Settings { max_clock_skew_seconds: None }).unwrap()
}

/// The channel secret the tests' ledgers are seeded with.
pub const CHANNEL_SECRET: [u8; 32] = [0x5e; 32];

/// A mock ledger holding the roles registry and the channel secret, as after `network.sh deploy`.
pub fn ledger() -> MockStub {
    let mock = MockStub::new("ehr");
    let key = fabric_chaincode_shim::create_composite_key("ehr.registry", &[]).unwrap();
    let registry: Value = serde_json::from_str(ROLES_REGISTRY).unwrap();
    mock.ledger().seed_state(&key, registry.to_string().as_bytes());
    let key = fabric_chaincode_shim::create_composite_key("ehr.secret", &[]).unwrap();
    mock.ledger().seed_private_data("auditData", &key, &CHANNEL_SECRET);
    mock
}

/// The pseudonym that stands for a patient id in every key.
pub fn pid(patient_id: &str) -> String {
    ehr_api::hash::pseudonym(&CHANNEL_SECRET, "patient", patient_id)
}

/// Everything the ledger holds: public state and both collections, to show
/// that a refused call changed nothing.
pub fn state(mock: &MockStub) -> [std::collections::BTreeMap<String, Vec<u8>>; 3] {
    let l = mock.ledger();
    [l.public_state(), l.private_state("patientData"), l.private_state("auditData")]
}

/// The value of an `auditData` key, without its salt.
pub fn audit_value(mock: &MockStub, key: &str) -> Option<Value> {
    let raw = mock.ledger().private_data("auditData", key)?;
    let salted: Value = serde_json::from_slice(&raw).unwrap();
    Some(salted["value"].clone())
}

/// The names of the parameters a function takes as transient data (the
/// API's function table); `None` for functions that take arguments.
pub fn transient_parameters(function: &str) -> Option<Vec<String>> {
    let (_, kind, params) = ehr_api::functions::ALL.iter().find(|(name, _, _)| *name == function)?;
    (*kind == ehr_api::functions::Kind::SubmitTransient).then(|| params.iter().map(|p| (*p).to_owned()).collect())
}

/// The dispensing code the tests' prescriptions are written with (the patient's slip carries it).
pub const DISPENSE_CODE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// The private keys of `patientData` that start with `prefix` (e.g. every
/// stored version of one patient's details).
pub fn private_keys(mock: &MockStub, prefix: &str) -> Vec<String> {
    mock.ledger().private_state("patientData").into_keys().filter(|k| k.starts_with(prefix)).collect()
}

/// The one private key that starts with `prefix`.
pub fn private_key(mock: &MockStub, prefix: &str) -> String {
    let keys = private_keys(mock, prefix);
    assert_eq!(keys.len(), 1, "expected one private key under {prefix:?}, found {keys:?}");
    keys[0].clone()
}

/// The one-time key the tests' reads are sealed to.
pub fn opening_key() -> OpeningKey {
    OpeningKey::from_random_bytes([7; 32])
}

/// The file key the tests' patients are registered with.
pub const FILE_KEY: &str = "f11ef11ef11ef11ef11ef11ef11ef11ef11ef11ef11ef11ef11ef11ef11ef11e";

/// Runs `call` as the typed client does: the arguments of a function that
/// takes them as transient data go there (under the parameters' names), with
/// a one-time `sealTo` key (unless the call sets its own), with a file key when
/// it sends patient details (registration; ignored by updates), and opening a
/// sealed answer so that assertions read the plaintext.
pub async fn invoke(mock: &MockStub, router: &Router, call: Invocation) -> TxOutcome {
    let key = opening_key();
    let function = String::from_utf8(call.args[0].clone()).unwrap();
    let mut call = call;
    if let Some(names) = transient_parameters(&function) {
        let args = std::mem::replace(&mut call.args, vec![function.into_bytes()]);
        for (name, value) in names.iter().zip(args.into_iter().skip(1)) {
            call = call.transient(name, value);
        }
    }
    let mut call = if call.transient.contains_key(TRANSIENT_SEAL_TO) {
        call
    } else {
        call.transient(TRANSIENT_SEAL_TO, key.public_bytes())
    };
    if call.transient.contains_key("patient") && !call.transient.contains_key("fileKey") {
        call = call.transient("fileKey", FILE_KEY.as_bytes().to_vec());
    }
    let mut out = mock.invoke(router, call).await;
    if out.response.status == 200
        && let Ok(sealed) = serde_json::from_slice::<Sealed>(&out.response.payload)
    {
        let plain: Value = key.open(&out.tx_id, &sealed).unwrap();
        out.response.payload = serde_json::to_vec(&plain).unwrap();
    }
    out
}

/// One CA per organisation, keys made now.
pub struct Orgs {
    a: TestCa,
    b: TestCa,
    r: TestCa,
}

impl Orgs {
    pub fn new() -> Self {
        Self {
            a: TestCa::new("HospitalA").unwrap(),
            b: TestCa::new("HospitalB").unwrap(),
            r: TestCa::new("Regulator").unwrap(),
        }
    }

    /// A client of HospitalA with these fabric-ca attributes (e.g. `[("role", "doctor")]`).
    pub fn hospital_a(&self, name: &str, attrs: &[(&str, &str)]) -> TestIdentity {
        self.a.identity("HospitalAMSP", name, attrs, &["client"]).unwrap()
    }

    /// A client of HospitalB.
    pub fn hospital_b(&self, name: &str, attrs: &[(&str, &str)]) -> TestIdentity {
        self.b.identity("HospitalBMSP", name, attrs, &["client"]).unwrap()
    }

    /// A HospitalA identity with other NodeOUs than `client` (e.g. `peer`, `admin`).
    pub fn hospital_a_with_ous(&self, name: &str, attrs: &[(&str, &str)], ous: &[&str]) -> TestIdentity {
        self.a.identity("HospitalAMSP", name, attrs, ous).unwrap()
    }

    /// An admin (NodeOU `admin`) of HospitalB, as cryptogen makes them.
    pub fn hospital_b_admin(&self) -> TestIdentity {
        self.b.identity("HospitalBMSP", "Admin@hospitalb.ehr", &[], &["admin"]).unwrap()
    }

    /// A client of the Regulator.
    pub fn regulator(&self, name: &str, attrs: &[(&str, &str)]) -> TestIdentity {
        self.r.identity("RegulatorMSP", name, attrs, &["client"]).unwrap()
    }
}

/// `{"id","msp"}` of an identity, as the contract names people.
pub fn person(who: &TestIdentity) -> Value {
    let id = fabric_chaincode_shim::ClientIdentity::from_creator(&who.creator()).unwrap();
    json!({"id": id.id(), "msp": id.msp_id()})
}

/// The JSON result of a transaction that must have succeeded.
pub fn ok(out: &TxOutcome) -> Value {
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    serde_json::from_slice(&out.response.payload).unwrap()
}

/// The notification key of `who` (a patient or a regulator), fetched as a
/// client does: `NotificationKey`, sealed, then the key pair from its seed.
pub async fn notification_key(mock: &MockStub, router: &Router, who: &TestIdentity) -> OpeningKey {
    let out = invoke(mock, router, Invocation::new(["NotificationKey"]).caller(who)).await;
    let seed = ok(&out)["seed"].as_str().unwrap().to_owned();
    OpeningKey::from_random_bytes(hex::decode(seed).unwrap().try_into().unwrap())
}

/// The notification in a transaction's event that `key` opens, if any.
pub fn open_notice(out: &TxOutcome, key: &OpeningKey) -> Option<Value> {
    let event = out.event.as_ref()?;
    let notices: ehr_api::events::SealedNotices = serde_json::from_slice(&event.payload).unwrap();
    notices.notices.iter().find_map(|n| key.open::<Value>(&out.tx_id, n).ok())
}

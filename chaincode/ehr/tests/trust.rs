//! Trust across organisations: what a member organisation, its CA or one of its
//! clients can make the contract do to another organisation's patients. Every
//! attack must be refused with a message that names what is missing, and leave
//! public and private state untouched. (Enforcement of the key-level policies
//! by Fabric's validation is shown on the real network in `tests/tests/network_trust.rs`.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::person;
use fabric_chaincode_shim::policy::KeyEndorsementPolicy;
use fabric_chaincode_shim::testing::{Invocation, MockStub, TestCa, TestIdentity, TxOutcome};
use fabric_chaincode_shim::{Router, Timestamp};
use serde_json::{Value, json};

const SALT: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
const NAME: &str = "Ines Okonkwo-Laurent";

type State = std::collections::BTreeMap<String, Vec<u8>>;

struct W {
    mock: MockStub,
    router: Router,
    orgs: common::Orgs,
    doctor_a: TestIdentity,
    doctor_b: TestIdentity,
    patient_a: TestIdentity,
}

fn w() -> W {
    let orgs = common::Orgs::new();
    W {
        mock: common::ledger(),
        router: common::router(),
        doctor_a: orgs.hospital_a("doctor1", &[("role", "doctor")]),
        doctor_b: orgs.hospital_b("doctor1", &[("role", "doctor")]),
        patient_a: orgs.hospital_a("patient1", &[("role", "patient"), ("patient_id", "P-0001")]),
        orgs,
    }
}

impl W {
    async fn call(&self, who: &TestIdentity, args: &[&str]) -> TxOutcome {
        common::invoke(&self.mock, &self.router, Invocation::new(args.iter().copied()).caller(who)).await
    }
    async fn with(&self, who: &TestIdentity, args: &[&str], field: &str, value: Value) -> TxOutcome {
        let call = Invocation::new(args.iter().copied())
            .caller(who)
            .transient(field, value.to_string().into_bytes())
            .transient("salt", SALT.as_bytes().to_vec())
            .transient("dispenseCode", common::DISPENSE_CODE.as_bytes().to_vec());
        common::invoke(&self.mock, &self.router, call).await
    }
    /// P-0001 registered at HospitalA by its doctor, with one diagnosis.
    async fn registered(self) -> Self {
        let details = json!({"name": NAME, "birthDate": "1970-05-06", "sex": "female", "contact": "+44 20 7946 0000"});
        common::ok(&self.with(&self.doctor_a, &["RegisterPatient", "P-0001"], "patient", details).await);
        let dx = json!({"body": {"kind": "diagnosis", "icd10": "C50.9", "text": "breast cancer"}});
        common::ok(&self.with(&self.doctor_a, &["AddRecord", "P-0001"], "record", dx).await);
        self
    }
    /// Public state and both collections, to show a refused call changed nothing.
    fn snapshot(&self) -> [State; 3] {
        common::state(&self.mock)
    }
}

fn refused(out: &TxOutcome, status: u32, needle: &str) {
    assert_eq!(out.response.status, status as i32, "{}", out.response.message);
    assert!(out.response.message.contains(needle), "{needle:?} not in {:?}", out.response.message);
    assert!(!out.committed, "a refused call committed writes");
}

#[tokio::test]
async fn a_patient_minted_by_another_hospitals_ca_is_not_the_patient() {
    let w = w().registered().await;
    // HospitalB's registrar mints a certificate claiming HospitalA's patient.
    let impostor = w.orgs.hospital_b("impostor", &[("role", "patient"), ("patient_id", "P-0001")]);
    let before = w.snapshot();
    let grantee = json!({"kind": "organisation", "msp": "HospitalBMSP"}).to_string();
    refused(
        &w.call(&impostor, &["GrantConsent", "P-0001", &grantee, "readWrite", "null"]).await,
        403,
        "only the patient",
    );
    refused(&w.call(&impostor, &["AccessLog", "P-0001", "{}", "100", ""]).await, 403, "access log");
    refused(&w.call(&impostor, &["AuditTrail", "P-0001"]).await, 403, "audit trail");
    refused(&w.call(&impostor, &["RequestErasure", "P-0001"]).await, 403, "only the patient may ask for erasure");
    refused(&w.call(&impostor, &["ListConsents", "P-0001"]).await, 403, "consents");
    let doctor = person(&w.doctor_a).to_string();
    refused(&w.call(&impostor, &["RemoveAttendingDoctor", "P-0001", &doctor]).await, 403, "only the patient");
    // Opening access is answered (and, being a refusal, recorded); reading stays refused.
    let entry = common::ok(&w.call(&impostor, &["OpenAccess", "P-0001", "treatment"]).await);
    assert_eq!(entry["granted"], false);
    refused(&w.call(&impostor, &["ReadPatient", "P-0001"]).await, 403, "OpenAccess");
    let after = w.snapshot();
    assert_eq!(before[..2], after[..2], "public state or patient data changed");
    let new_keys: Vec<&String> = after[2].keys().filter(|k| before[2].get(*k) != after[2].get(*k)).collect();
    assert_eq!(new_keys.len(), 1, "only the refused access entry is new: {new_keys:?}");
    assert!(new_keys[0].contains("ehr.access"), "{new_keys:?}");
    // The real patient, from the home hospital's CA, still is the patient.
    common::ok(&w.call(&w.patient_a, &["AccessLog", "P-0001", "{}", "100", ""]).await);
}

#[tokio::test]
async fn roles_an_organisation_may_not_assert_are_refused_everywhere() {
    let w = w().registered().await;
    let before = w.snapshot();
    let fake_regulator = w.orgs.hospital_a("auditor", &[("role", "regulator")]);
    let regulator_doctor = w.orgs.regulator("doc", &[("role", "doctor")]);
    let regulator_patient = w.orgs.regulator("pat", &[("role", "patient"), ("patient_id", "P-0001")]);
    let peer_doctor = w.orgs.hospital_a_with_ous("peer0", &[("role", "doctor")], &["peer"]);
    let evil_ca = TestCa::new("Evil").unwrap();
    let outsider = evil_ca.identity("EvilMSP", "doctor1", &[("role", "doctor")], &["client"]).unwrap();
    let cases: [(&TestIdentity, &str); 5] = [
        (&fake_regulator, "the role regulator may not be asserted by HospitalAMSP"),
        (&regulator_doctor, "the role doctor may not be asserted by RegulatorMSP"),
        (&regulator_patient, "the role patient may not be asserted by RegulatorMSP"),
        (&peer_doctor, "not a client identity"),
        (&outsider, "EvilMSP is not in the roles registry"),
    ];
    let details = json!({"name": "X", "birthDate": "1970-01-01", "sex": "male"});
    for (who, needle) in cases {
        refused(&w.call(who, &["AuditTrail", "P-0001"]).await, 403, needle);
        refused(&w.call(who, &["AccessLog", "P-0001", "{}", "100", ""]).await, 403, needle);
        refused(&w.call(who, &["OpenAccess", "P-0001", "audit"]).await, 403, needle);
        refused(&w.with(who, &["RegisterPatient", "P-0666"], "patient", details.clone()).await, 403, needle);
        refused(&w.call(who, &["RequestErasure", "P-0001"]).await, 403, needle);
    }
    assert_eq!(w.snapshot(), before);
}

#[tokio::test]
async fn without_a_roles_registry_nobody_acts() {
    let orgs = common::Orgs::new();
    let mock = MockStub::new("ehr");
    let router = common::router();
    let doctor = orgs.hospital_a("doctor1", &[("role", "doctor")]);
    let call = Invocation::new(["OpenAccess", "P-0001", "treatment"]).caller(&doctor);
    let out = common::invoke(&mock, &router, call).await;
    refused(&out, 403, "no roles registry is set");
    let out = common::invoke(&mock, &router, Invocation::new(["RoleRegistry"]).caller(&doctor)).await;
    refused(&out, 404, "no roles registry");
}

#[tokio::test]
async fn the_roles_registry_is_set_by_admins_and_guarded_by_every_member() {
    let orgs = common::Orgs::new();
    let mock = MockStub::new("ehr");
    let router = common::router();
    let registry: Value = serde_json::from_str(common::ROLES_REGISTRY).unwrap();
    let set = |who: &TestIdentity, r: &str| {
        let call = Invocation::new(["SetRoleRegistry", r]).caller(who);
        let (mock, router) = (&mock, &router);
        async move { common::invoke(mock, router, call).await }
    };
    let doctor = orgs.hospital_a("doctor1", &[("role", "doctor")]);
    refused(&set(&doctor, &registry.to_string()).await, 403, "only an organisation admin");
    let admin = orgs.hospital_b_admin();
    let only_a = json!({"organisations": [{"msp": "HospitalAMSP", "kind": "hospital", "roles": ["doctor"]}]});
    refused(&set(&admin, &only_a.to_string()).await, 400, "must list the caller's own organisation HospitalBMSP");
    refused(&set(&admin, r#"{"organisations": "all"}"#).await, 400, "registry");
    let hospital_regulator =
        json!({"organisations": [{"msp": "HospitalBMSP", "kind": "hospital", "roles": ["regulator"]}]});
    refused(&set(&admin, &hospital_regulator.to_string()).await, 400, "cannot assert the role regulator");

    let written = common::ok(&set(&admin, &registry.to_string()).await);
    let msps: Vec<&str> =
        written["organisations"].as_array().unwrap().iter().map(|o| o["msp"].as_str().unwrap()).collect();
    assert_eq!(msps, vec!["HospitalAMSP", "HospitalBMSP", "RegulatorMSP"]);
    let key = fabric_chaincode_shim::create_composite_key("ehr.registry", &[]).unwrap();
    let policy = KeyEndorsementPolicy::from_bytes(&mock.ledger().validation_parameter("", &key).unwrap()).unwrap();
    assert_eq!(
        policy.orgs(),
        vec!["HospitalAMSP", "HospitalBMSP", "RegulatorMSP"],
        "every member must endorse a change"
    );
    let read = common::ok(&common::invoke(&mock, &router, Invocation::new(["RoleRegistry"]).caller(&doctor)).await);
    assert_eq!(read, written);
    // An admin of an organisation outside the registry cannot replace it.
    let evil = TestCa::new("Evil").unwrap().identity("EvilMSP", "Admin", &[], &["admin"]).unwrap();
    let takeover = json!({"organisations": [{"msp": "EvilMSP", "kind": "hospital", "roles": ["doctor"]}]});
    refused(&set(&evil, &takeover.to_string()).await, 403, "EvilMSP is not in the current roles registry");
}

#[tokio::test]
async fn every_key_about_a_patient_names_the_home_hospital_as_its_endorser() {
    let w = w().registered().await;
    let grantee = json!({"kind": "organisation", "msp": "HospitalBMSP"}).to_string();
    common::ok(&w.call(&w.patient_a, &["GrantConsent", "P-0001", &grantee, "readWrite", "null"]).await);
    common::ok(&w.call(&w.doctor_b, &["OpenAccess", "P-0001", "second-opinion"]).await);
    // A HospitalB doctor writes under consent: the keys still name HospitalA, the patient's home.
    let note = json!({"body": {"kind": "clinicalNote", "text": "seen at B"}});
    common::ok(&w.with(&w.doctor_b, &["AddRecord", "P-0001"], "record", note).await);
    let rx =
        json!({"body": {"kind": "prescription", "medication": "tamoxifen", "dose": "20 mg", "frequency": "daily"}});
    common::ok(&w.with(&w.doctor_a, &["AddRecord", "P-0001"], "record", rx).await);
    let ledger = w.mock.ledger();
    let mut checked = 0;
    let home = |collection: &str, key: &str| {
        let bytes =
            ledger.validation_parameter(collection, key).unwrap_or_else(|| panic!("{key:?} has no key-level policy"));
        KeyEndorsementPolicy::from_bytes(&bytes).unwrap().orgs().into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let public: Vec<String> = ledger.public_state().into_keys().collect();
    assert!(
        public.iter().all(|k| k.contains("ehr.registry") || k.contains("ehr.standing")),
        "nothing about a patient is public: {public:?}"
    );
    for key in ledger.private_state("patientData").keys() {
        assert_eq!(home("patientData", key), vec!["HospitalAMSP"], "private key {key:?}");
        checked += 1;
    }
    for key in ledger.private_state("auditData").keys().filter(|k| !k.contains("ehr.secret")) {
        assert_eq!(home("auditData", key), vec!["HospitalAMSP"], "audit key {key:?}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} keys checked");
}

#[tokio::test]
async fn attending_doctors_of_another_hospital_need_consent_and_can_be_removed() {
    let w = w().registered().await;
    let doctor_b = person(&w.doctor_b).to_string();
    refused(
        &w.call(&w.doctor_a, &["AddAttendingDoctor", "P-0001", &doctor_b]).await,
        403,
        "only with the patient's consent",
    );
    let grantee = json!({"kind": "doctor", "person": person(&w.doctor_b)}).to_string();
    common::ok(&w.call(&w.patient_a, &["GrantConsent", "P-0001", &grantee, "read", "null"]).await);
    let record = common::ok(&w.call(&w.doctor_a, &["AddAttendingDoctor", "P-0001", &doctor_b]).await);
    assert_eq!(record["attending"].as_array().unwrap().len(), 2);
    // Neither another hospital's admin nor an attending doctor removes; the patient and the home admin do.
    let admin_b = w.orgs.hospital_b("admin1", &[("role", "admin")]);
    refused(&w.call(&admin_b, &["RemoveAttendingDoctor", "P-0001", &doctor_b]).await, 403, "home organisation");
    refused(&w.call(&w.doctor_a, &["RemoveAttendingDoctor", "P-0001", &doctor_b]).await, 403, "home organisation");
    let record = common::ok(&w.call(&w.patient_a, &["RemoveAttendingDoctor", "P-0001", &doctor_b]).await);
    assert_eq!(record["attending"].as_array().unwrap().len(), 1);
    let doctor_a = person(&w.doctor_a).to_string();
    refused(&w.call(&w.patient_a, &["RemoveAttendingDoctor", "P-0001", &doctor_a]).await, 409, "only attending doctor");
    let admin_a = w.orgs.hospital_a("admin1", &[("role", "admin")]);
    common::ok(&w.call(&w.doctor_a, &["AddAttendingDoctor", "P-0001", &doctor_b]).await);
    common::ok(&w.call(&admin_a, &["RemoveAttendingDoctor", "P-0001", &doctor_b]).await);
    refused(&w.call(&admin_a, &["RemoveAttendingDoctor", "P-0001", &doctor_b]).await, 404, "not an attending doctor");
}

#[tokio::test]
async fn revoking_consent_ends_an_authors_rights_to_change_their_records() {
    let w = w().registered().await;
    let grantee = json!({"kind": "organisation", "msp": "HospitalBMSP"}).to_string();
    common::ok(&w.call(&w.patient_a, &["GrantConsent", "P-0001", &grantee, "readWrite", "null"]).await);
    let note = json!({"body": {"kind": "clinicalNote", "text": "seen at B"}});
    let meta = common::ok(&w.with(&w.doctor_b, &["AddRecord", "P-0001"], "record", note.clone()).await);
    let id = meta["id"].as_str().unwrap().to_owned();
    common::ok(&w.with(&w.doctor_b, &["UpdateRecord", "P-0001", &id], "record", note.clone()).await);
    common::ok(&w.call(&w.patient_a, &["RevokeConsent", "P-0001", &grantee]).await);
    let before = w.snapshot();
    refused(&w.with(&w.doctor_b, &["UpdateRecord", "P-0001", &id], "record", note).await, 403, "write grounds");
    refused(&w.call(&w.doctor_b, &["DeleteRecord", "P-0001", &id, "mine"]).await, 403, "write grounds");
    assert_eq!(w.snapshot(), before);
}

#[tokio::test]
async fn patient_ids_are_one_namespace_and_a_taken_id_names_its_hospital() {
    let w = w().registered().await;
    let details = json!({"name": "Somebody Else", "birthDate": "1990-01-01", "sex": "male"});
    let out = w.with(&w.doctor_b, &["RegisterPatient", "P-0001"], "patient", details).await;
    refused(&out, 409, "already registered by HospitalAMSP");
}

#[tokio::test]
async fn patient_data_leaves_only_sealed_and_a_missing_or_bad_key_is_400() {
    let w = w().registered().await;
    let at = |s: i64| Timestamp { seconds: 1_700_000_500 + s, nanos: 0 };
    let open = Invocation::new(["OpenAccess", "P-0001", "treatment"]).caller(&w.doctor_a).at(at(0));
    common::ok(&common::invoke(&w.mock, &w.router, open).await);
    for (transient, needle) in [(None, "transient.sealTo: is required"), (Some(vec![1u8; 31]), "32-byte")] {
        let mut call = Invocation::new(["ReadPatient", "P-0001"]).caller(&w.doctor_a);
        if let Some(bytes) = transient {
            call = call.transient("sealTo", bytes);
        }
        refused(&w.mock.invoke(&w.router, call).await, 400, needle);
    }
    let key = common::opening_key();
    let call = Invocation::new(["ReadPatient", "P-0001"])
        .caller(&w.doctor_a)
        .transient("sealTo", key.public_bytes())
        .tx_id("ab".repeat(32))
        .at(at(10));
    let out = w.mock.invoke(&w.router, call.clone()).await;
    let text = out.payload_text();
    assert!(!text.contains(NAME) && !text.contains("+44 20"), "patient data in the clear: {text}");
    let sealed: ehr_api::seal::Sealed = serde_json::from_slice(&out.response.payload).unwrap();
    let view: Value = key.open(&out.tx_id, &sealed).unwrap();
    assert_eq!(view["details"]["name"], NAME);
    // Another transaction id (a replayed answer) or another key does not open it.
    assert!(key.open::<Value>("00".repeat(32).as_str(), &sealed).is_err());
    assert!(ehr_api::seal::OpeningKey::from_random_bytes([9; 32]).open::<Value>(&out.tx_id, &sealed).is_err());
    // Deterministic: the same proposal endorsed twice gives the same bytes (two
    // hospitals' endorsements must match), with no random source in the chaincode.
    let again = w.mock.invoke(&w.router, call).await;
    assert_eq!(again.response.payload, out.response.payload);
    // So are the answers that say who reached the patient, how, and what kind
    // of records they have: submitted instead of evaluated, they would be in
    // every block. Without a key, nothing is read.
    let hash = "0".repeat(64);
    for function in [
        vec!["ReadRecord", "P-0001", "R-x"],
        vec!["PatientHistory", "P-0001"],
        vec!["ListConsents", "P-0001"],
        vec!["AccessLog", "P-0001", "{}", "10", ""],
        vec!["AuditTrail", "P-0001"],
        vec!["ListRecords", "P-0001", "all", "10", ""],
        vec!["VerifyPatient", "P-0001", "1"],
        vec!["VerifyRecord", "P-0001", "R-x", "1"],
        vec!["VerifyPrescription", "R-x", &hash],
    ] {
        let out = w.mock.invoke(&w.router, Invocation::new(function.clone()).caller(&w.doctor_a)).await;
        refused(&out, 400, "transient.sealTo");
    }
    let call = Invocation::new(["ListRecords", "P-0001", "all", "10", ""])
        .caller(&w.doctor_a)
        .transient("sealTo", key.public_bytes())
        .at(at(20));
    let out = w.mock.invoke(&w.router, call).await;
    assert!(!out.payload_text().contains("diagnosis"), "record kinds in the clear: {}", out.payload_text());
    let page: Value = key.open(&out.tx_id, &serde_json::from_slice(&out.response.payload).unwrap()).unwrap();
    assert_eq!(page["records"][0]["kind"], "diagnosis");
}

/// Details that do not decode are refused without being echoed: the refusal
/// reaches the caller and the peer's log, and the details are patient data.
#[tokio::test]
async fn a_refusal_does_not_echo_the_patient_data_it_refuses() {
    let w = w();
    let before = w.snapshot();
    let out = w.with(&w.doctor_a, &["RegisterPatient", "P-0002"], "patient", json!("Jane Secret-Name")).await;
    refused(&out, 400, "transient.patient: is not valid: invalid type: string");
    assert!(!out.response.message.contains("Secret"), "{}", out.response.message);
    let out = w.with(&w.doctor_a, &["RegisterPatient", "P-0002"], "patient", json!({"nmae": "Jane Secret-Name"})).await;
    refused(&out, 400, "unknown field `nmae`");
    assert!(!out.response.message.contains("Secret"), "{}", out.response.message);
    assert_eq!(w.snapshot(), before, "a refused registration writes nothing");
}

/// An answer that carries no private data of its own (here an empty page) is
/// still sealed under a secret only members' peers derive: whoever reads it in
/// a block and guesses the plaintext cannot recompute the ciphertext to
/// confirm the guess.
#[tokio::test]
async fn a_guessed_answer_cannot_be_confirmed_from_its_ciphertext() {
    let w = w().registered().await;
    let key = common::opening_key();
    let tx_id = "cd".repeat(32);
    let call = Invocation::new(["SearchRecords", "P-0001", "10", ""])
        .caller(&w.doctor_a)
        .transient("query", br#"{"kind":"labReport"}"#.to_vec())
        .transient("sealTo", key.public_bytes())
        .tx_id(tx_id.clone());
    let out = w.mock.invoke(&w.router, call).await;
    assert_eq!(out.response.status, 200, "{}", out.payload_text());
    let sealed: ehr_api::seal::Sealed = serde_json::from_slice(&out.response.payload).unwrap();
    let page: ehr_api::views::RecordPage = key.open(&tx_id, &sealed).unwrap();
    assert!(page.records.is_empty() && page.bookmark.is_empty(), "{page:?}");
    let recipient = ehr_api::seal::Recipient::from_bytes(&key.public_bytes()).unwrap();
    for guess_secret in [&b""[..], SALT.as_bytes()] {
        let guessed = recipient.seal(guess_secret, &tx_id, &page).unwrap();
        assert_ne!(guessed.enc, sealed.enc, "the seed was recomputed without a member's secret");
    }
}

#[tokio::test]
async fn proposals_stamped_far_from_the_peers_clock_are_refused() {
    let orgs = common::Orgs::new();
    let mock = common::ledger();
    let router = ehr_chaincode::router().unwrap();
    let doctor = orgs.hospital_a("doctor1", &[("role", "doctor")]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let details = json!({"name": "Clock Test", "birthDate": "1970-01-01", "sex": "male"}).to_string();
    let call = |at: i64| {
        Invocation::new(["RegisterPatient", "P-CLOCK"])
            .caller(&doctor)
            .transient("patient", details.clone().into_bytes())
            .transient("salt", SALT.as_bytes().to_vec())
            .at(Timestamp { seconds: at, nanos: 0 })
    };
    for skew in [-3600, -301, 301, 86_400] {
        let out = common::invoke(&mock, &router, call(now + skew)).await;
        refused(&out, 400, "away from the endorsing peer's clock");
    }
    common::ok(&common::invoke(&mock, &router, call(now - 5)).await);
    // The bound is a setting of the chaincode server (EHR_MAX_CLOCK_SKEW_SECONDS).
    let strict = ehr_chaincode::router_with(ehr_chaincode::Settings { max_clock_skew_seconds: Some(1) }).unwrap();
    let out = common::invoke(
        &mock,
        &strict,
        Invocation::new(["RoleRegistry"]).caller(&doctor).at(Timestamp { seconds: now - 30, nanos: 0 }),
    )
    .await;
    refused(&out, 400, "at most 1s allowed");
}

#[tokio::test]
async fn a_flood_of_refused_attempts_cannot_bury_real_accesses() {
    let w = w().registered().await;
    let nosy = w.orgs.hospital_b("nosy", &[("role", "doctor")]);
    for i in 0..30 {
        let purpose = if i % 2 == 0 { "treatment" } else { "research" };
        let entry = common::ok(&w.call(&nosy, &["OpenAccess", "P-0001", purpose]).await);
        assert_eq!(entry["granted"], false);
    }
    common::ok(&w.call(&w.doctor_a, &["OpenAccess", "P-0001", "emergency"]).await);
    let log = |query: &str, page: &str, bookmark: &str| {
        let args = ["AccessLog", "P-0001", query, page, bookmark].map(str::to_owned);
        let (w, patient) = (&w, &w.patient_a);
        async move { common::ok(&common::invoke(&w.mock, &w.router, Invocation::new(args).caller(patient)).await) }
    };
    let granted = log(r#"{"granted":true}"#, "10", "").await;
    let entries = granted["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{granted}");
    assert_eq!(entries[0]["purpose"], "emergency");
    assert_eq!(log(r#"{"msp":"HospitalBMSP"}"#, "100", "").await["entries"].as_array().unwrap().len(), 30);
    // Paginated, oldest first, every entry exactly once.
    let (mut seen, mut bookmark) = (Vec::new(), String::new());
    loop {
        let page = log("{}", "7", &bookmark).await;
        seen.extend(
            page["entries"].as_array().unwrap().iter().map(|e| e["stamp"]["txId"].as_str().unwrap().to_owned()),
        );
        bookmark = page["bookmark"].as_str().unwrap().to_owned();
        if bookmark.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 31);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 31, "an entry was repeated across pages");
    let bad = common::invoke(
        &w.mock,
        &w.router,
        Invocation::new(["AccessLog", "P-0001", r#"{"who":"x"}"#, "10", ""]).caller(&w.patient_a),
    )
    .await;
    refused(&bad, 400, "query");
    let bad = common::invoke(
        &w.mock,
        &w.router,
        Invocation::new(["AccessLog", "P-0001", "{}", "0", ""]).caller(&w.patient_a),
    )
    .await;
    refused(&bad, 400, "pageSize");
}

#[tokio::test]
async fn the_file_key_is_private_sealed_and_shredded_by_erasure() {
    let w = w().registered().await;
    // Registration without a file key is refused before anything is written.
    let details = json!({"name": "No Key", "birthDate": "1970-01-01", "sex": "male"}).to_string();
    let call = Invocation::new(["RegisterPatient"])
        .caller(&w.doctor_a)
        .transient("patientId", b"P-0002".to_vec())
        .transient("patient", details.into_bytes())
        .transient("salt", SALT.as_bytes().to_vec())
        .transient("sealTo", common::opening_key().public_bytes());
    refused(&w.mock.invoke(&w.router, call).await, 400, "transient.fileKey");

    let key_prefix = &format!("\u{0}ehr.patient.filekey\u{0}{}\u{0}", common::pid("P-0001"));
    let stored = common::private_key(&w.mock, key_prefix);
    let policy =
        KeyEndorsementPolicy::from_bytes(&w.mock.ledger().validation_parameter("patientData", &stored).unwrap())
            .unwrap();
    assert_eq!(policy.orgs(), vec!["HospitalAMSP"]);
    assert!(w.mock.ledger().public_state().values().all(|v| !String::from_utf8_lossy(v).contains(common::FILE_KEY)));

    // The patient, attending and home reporters get it, sealed; a doctor without grounds does not.
    for who in [&w.patient_a, &w.doctor_a, &w.orgs.hospital_a("radiologist1", &[("role", "radiologist")])] {
        let key = common::ok(&w.call(who, &["FileKey", "P-0001"]).await);
        assert_eq!(key["key"], common::FILE_KEY);
    }
    refused(&w.call(&w.doctor_b, &["FileKey", "P-0001"]).await, 403, "file key");
    let raw = w.mock.invoke(&w.router, Invocation::new(["FileKey", "P-0001"]).caller(&w.doctor_a)).await;
    refused(&raw, 400, "transient.sealTo");

    // Erasure purges the key from the private store: what was encrypted with it stays unreadable.
    common::ok(&w.call(&w.patient_a, &["RequestErasure", "P-0001"]).await);
    assert!(common::private_keys(&w.mock, key_prefix).is_empty(), "the file key survived erasure");
    refused(&w.call(&w.doctor_a, &["FileKey", "P-0001"]).await, 404, "cannot be read");
}

#[tokio::test]
async fn purposes_come_from_a_fixed_list_so_that_no_free_text_reaches_public_state() {
    let w = w().registered().await;
    let before = w.snapshot();
    let out = w.call(&w.doctor_a, &["OpenAccess", "P-0001", "suspected HIV, follow-up"]).await;
    refused(&out, 400, "is not a purpose code; use one of treatment, second-opinion, emergency");
    assert_eq!(w.snapshot(), before);
    let entry = common::ok(&w.call(&w.doctor_a, &["OpenAccess", "P-0001", "second-opinion"]).await);
    assert_eq!(entry["purpose"], "second-opinion");
}

/// What a block shows of a transaction: its arguments, its answer, its event
/// and the keys and value hashes of its writes. None of it may say which
/// patient a person reached, why, under which consent, or what kind of record
/// the patient has.
#[tokio::test]
async fn a_block_shows_no_patient_nor_who_reached_them() {
    let w = w().registered().await;
    let grantee = json!({"kind": "organisation", "msp": "HospitalBMSP"}).to_string();
    let raw = |who: &TestIdentity, function: &str, params: Vec<(&str, String)>| {
        let mut call = Invocation::new([function])
            .caller(who)
            .transient("sealTo", common::opening_key().public_bytes())
            .transient("salt", SALT.as_bytes().to_vec())
            .transient("dispenseCode", common::DISPENSE_CODE.as_bytes().to_vec());
        for (k, v) in params {
            call = call.transient(k, v.into_bytes());
        }
        w.mock.invoke(&w.router, call)
    };
    let rx =
        json!({"body": {"kind": "prescription", "medication": "tamoxifen", "dose": "20 mg", "frequency": "daily"}});
    let outs = vec![
        raw(
            &w.patient_a,
            "GrantConsent",
            vec![("patientId", "P-0001".into()), ("grantee", grantee.clone()), ("scope", "readWrite".into())],
        )
        .await,
        raw(&w.doctor_b, "OpenAccess", vec![("patientId", "P-0001".into()), ("purpose", "second-opinion".into())])
            .await,
        raw(&w.doctor_b, "AddRecord", vec![("patientId", "P-0001".into()), ("record", rx.to_string())]).await,
        raw(&w.patient_a, "RevokeConsent", vec![("patientId", "P-0001".into()), ("grantee", grantee)]).await,
    ];
    let who = person(&w.doctor_b);
    for out in &outs {
        assert_eq!(out.response.status, 200, "{}", out.response.message);
        let answer = String::from_utf8_lossy(&out.response.payload).into_owned();
        assert!(serde_json::from_str::<ehr_api::seal::Sealed>(&answer).is_ok(), "answer not sealed: {answer}");
        let event = String::from_utf8_lossy(&out.event.as_ref().unwrap().payload).into_owned();
        for needle in ["P-0001", "HospitalB", who["id"].as_str().unwrap(), "second-opinion", "prescription", "consent"]
        {
            assert!(!answer.contains(needle) && !event.contains(needle), "{needle} readable in {answer} / {event}");
        }
    }
    // Nothing about the patient is public; private keys name only pseudonyms,
    // and every auditData value carries its own salt, so that neither hash in a
    // block can be confirmed by hashing a guess.
    let [public, patient_data, audit] = common::state(&w.mock);
    assert!(public.keys().all(|k| k.contains("ehr.registry") || k.contains("ehr.standing")), "{public:?}");
    for key in patient_data.keys().chain(audit.keys()) {
        assert!(!key.contains("P-0001"), "a private key names the patient: {key:?}");
    }
    let mut salts = std::collections::BTreeSet::new();
    for (key, value) in audit.iter().filter(|(k, _)| !k.contains("ehr.secret")) {
        let v: Value = serde_json::from_slice(value).unwrap();
        let salt = v["salt"].as_str().unwrap_or_else(|| panic!("{key:?} is stored without a salt"));
        assert_eq!(salt.len(), 64);
        assert!(salts.insert(salt.to_owned()), "a salt is used twice");
    }
    // The same facts stay readable to the patient and the regulator.
    let log = common::ok(&w.call(&w.patient_a, &["AccessLog", "P-0001", "{}", "100", ""]).await);
    assert_eq!(log["entries"][0]["purpose"], "second-opinion");
    let regulator = w.orgs.regulator("regulator1", &[("role", "regulator")]);
    let trail = common::ok(&w.call(&regulator, &["AuditTrail", "P-0001"]).await);
    for action in ["consentGranted", "consentRevoked", "accessOpened", "recordAdded"] {
        assert!(trail.as_array().unwrap().iter().any(|l| l["action"] == action), "{action} missing: {trail}");
    }
    let key = common::notification_key(&w.mock, &w.router, &regulator).await;
    let notice = common::open_notice(&outs[1], &key).expect("the regulator is notified");
    assert_eq!(notice["actor"], who);
}

#[tokio::test]
async fn the_channel_secret_is_set_once_by_a_member_admin() {
    let mock = MockStub::new("ehr");
    let router = common::router();
    let key = fabric_chaincode_shim::create_composite_key("ehr.registry", &[]).unwrap();
    let registry: Value = serde_json::from_str(common::ROLES_REGISTRY).unwrap();
    mock.ledger().seed_state(&key, registry.to_string().as_bytes());
    let orgs = common::Orgs::new();
    let admin = orgs.hospital_b_admin();
    let doctor = orgs.hospital_a("doctor1", &[("role", "doctor")]);
    let set = |who: &TestIdentity, secret: &str| {
        mock.invoke(&router, Invocation::new(["SetChannelSecret"]).caller(who).transient("channelSecret", secret))
    };
    let secret = "ab".repeat(32);
    // Before the secret is set, nothing about patients can be written.
    let out =
        common::invoke(&mock, &router, Invocation::new(["OpenAccess", "P-0001", "treatment"]).caller(&doctor)).await;
    assert_eq!(out.response.status, 500);
    assert!(out.response.message.contains("SetChannelSecret"), "{}", out.response.message);
    refused(&set(&doctor, &secret).await, 403, "organisation admin");
    refused(&set(&admin, "abcd").await, 400, "transient.channelSecret");
    assert_eq!(set(&admin, &secret).await.response.status, 200);
    refused(&set(&admin, &"cd".repeat(32)).await, 409, "already set");
    let key = fabric_chaincode_shim::create_composite_key("ehr.secret", &[]).unwrap();
    assert_eq!(mock.ledger().private_data("auditData", &key), Some(vec![0xab; 32]));
    let policy =
        KeyEndorsementPolicy::from_bytes(&mock.ledger().validation_parameter("auditData", &key).unwrap()).unwrap();
    assert_eq!(policy.orgs().len(), 3, "every member guards the secret");
}

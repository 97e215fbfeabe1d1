//! The patients / consent / audited access part of the EHR contract, on the mock stub.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fabric_chaincode_shim::Router;
mod common;

use common::person;
use fabric_chaincode_shim::testing::{Invocation, MockStub, TestIdentity, TxOutcome};
use serde_json::{Value, json};

const NAME: &str = "Jane Quimby-Doe";
const BIRTH: &str = "1984-03-17";
const DIAGNOSIS_TEXT: &str = "suspected appendicitis";

struct World {
    mock: MockStub,
    router: Router,
    doctor_a1: TestIdentity,
    doctor_a2: TestIdentity,
    doctor_b1: TestIdentity,
    patient: TestIdentity,
    other_patient: TestIdentity,
    radiologist: TestIdentity,
    lab: TestIdentity,
    pharmacist: TestIdentity,
    regulator: TestIdentity,
    admin: TestIdentity,
    nobody: TestIdentity,
}

fn world() -> World {
    let orgs = common::Orgs::new();
    World {
        mock: common::ledger(),
        router: common::router(),
        doctor_a1: orgs.hospital_a("doctor1", &[("role", "doctor")]),
        doctor_a2: orgs.hospital_a("doctor2", &[("role", "doctor")]),
        doctor_b1: orgs.hospital_b("doctor1", &[("role", "doctor")]),
        patient: orgs.hospital_a("patient1", &[("role", "patient"), ("patient_id", "P-0001")]),
        other_patient: orgs.hospital_a("patient2", &[("role", "patient"), ("patient_id", "P-0002")]),
        radiologist: orgs.hospital_a("radiologist1", &[("role", "radiologist")]),
        lab: orgs.hospital_a("lab1", &[("role", "lab")]),
        pharmacist: orgs.hospital_a("pharmacist1", &[("role", "pharmacist")]),
        regulator: orgs.regulator("regulator1", &[("role", "regulator")]),
        admin: orgs.hospital_a("admin1", &[("role", "admin")]),
        nobody: orgs.hospital_a("visitor", &[]),
    }
}

fn details(name: &str) -> Vec<u8> {
    json!({"name": name, "birthDate": BIRTH, "sex": "female", "contact": "+1 555 0100", "description": DIAGNOSIS_TEXT})
        .to_string()
        .into_bytes()
}

const SALT: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

impl World {
    async fn call(&self, who: &TestIdentity, args: &[&str]) -> TxOutcome {
        common::invoke(&self.mock, &self.router, Invocation::new(args.iter().copied()).caller(who)).await
    }

    async fn call_with_patient(&self, who: &TestIdentity, args: &[&str], name: &str) -> TxOutcome {
        let call = Invocation::new(args.iter().copied())
            .caller(who)
            .transient("patient", details(name))
            .transient("salt", SALT.as_bytes().to_vec());
        common::invoke(&self.mock, &self.router, call).await
    }

    /// P-0001 registered by doctor A1; doctor B1 has read consent.
    async fn registered(self) -> Self {
        let out = self.call_with_patient(&self.doctor_a1, &["RegisterPatient", "P-0001"], NAME).await;
        assert_eq!(out.response.status, 200, "{}", out.response.message);
        let grantee = json!({"kind": "doctor", "person": person(&self.doctor_b1)}).to_string();
        let out = self.call(&self.patient, &["GrantConsent", "P-0001", &grantee, "read", "null"]).await;
        assert_eq!(out.response.status, 200, "{}", out.response.message);
        self
    }
}

fn body(out: &TxOutcome) -> Value {
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    serde_json::from_slice(&out.response.payload).unwrap()
}

#[tokio::test]
async fn register_open_read_update_and_verify() {
    let w = world().registered().await;
    // Reading needs an access window opened by a submitted transaction.
    let out = w.call(&w.doctor_a1, &["ReadPatient", "P-0001"]).await;
    assert_eq!(out.response.status, 403);
    assert!(out.response.message.contains("OpenAccess"), "{}", out.response.message);

    let entry = body(&w.call(&w.doctor_a1, &["OpenAccess", "P-0001", "treatment"]).await);
    assert_eq!(entry["granted"], true);
    assert_eq!(entry["basis"], "attending");
    let view = body(&w.call(&w.doctor_a1, &["ReadPatient", "P-0001"]).await);
    assert_eq!(view["details"]["name"], NAME);
    assert_eq!(view["verified"], true);
    assert_eq!(view["record"]["version"], 1);

    // Updates make a new version; the old one stays verifiable.
    let rec = body(&w.call_with_patient(&w.doctor_a1, &["UpdatePatient", "P-0001"], "Jane Q. Doe").await);
    assert_eq!(rec["version"], 2);
    assert_eq!(rec["hashes"].as_array().unwrap().len(), 2);
    let v1 = body(&w.call(&w.doctor_a1, &["VerifyPatient", "P-0001", "1"]).await);
    assert_eq!(v1["matches"], true);
    let view = body(&w.call(&w.doctor_a1, &["ReadPatient", "P-0001"]).await);
    assert_eq!(view["details"]["name"], "Jane Q. Doe");

    // A changed private copy no longer matches its hash on the ledger.
    let key = common::private_key(
        &w.mock,
        &format!("\u{0}ehr.patient.version\u{0}{}\u{0}{:010}\u{0}", common::pid("P-0001"), 2),
    );
    let mut tampered: Value =
        serde_json::from_slice(&w.mock.ledger().private_data("patientData", &key).unwrap()).unwrap();
    tampered["details"]["name"] = json!("Someone Else");
    seed_private(&w.mock, &key, tampered.to_string().as_bytes()).await;
    let v2 = body(&w.call(&w.doctor_a1, &["VerifyPatient", "P-0001", "2"]).await);
    assert_eq!(v2["matches"], false);
    assert_ne!(v2["ledgerHash"], v2["privateHash"]);
    assert_eq!(body(&w.call(&w.doctor_a1, &["ReadPatient", "P-0001"]).await)["verified"], false);
}

/// Overwrites a private value outside any transaction, as a tampering peer would.
async fn seed_private(mock: &MockStub, key: &str, value: &[u8]) {
    use fabric_chaincode_shim::testing::MemoryLedger;
    let ledger: &MemoryLedger = mock.ledger();
    let mut sim = ledger.begin(10);
    sim.put_state("patientData", key, value.to_vec()).unwrap();
    sim.commit("tamper", None).unwrap();
}

#[tokio::test]
async fn consent_gives_and_revocation_takes_away() {
    let w = world().registered().await;
    let entry = body(&w.call(&w.doctor_b1, &["OpenAccess", "P-0001", "second-opinion"]).await);
    assert_eq!(entry["basis"], "consent");
    assert_eq!(body(&w.call(&w.doctor_b1, &["ReadPatient", "P-0001"]).await)["details"]["name"], NAME);

    let grantee = json!({"kind": "doctor", "person": person(&w.doctor_b1)}).to_string();
    let revoked = body(&w.call(&w.patient, &["RevokeConsent", "P-0001", &grantee]).await);
    assert!(revoked["revoked"].is_object());
    // The window is still open, but its grounds are gone.
    let out = w.call(&w.doctor_b1, &["ReadPatient", "P-0001"]).await;
    assert_eq!(out.response.status, 403, "{}", out.response.message);
    let denied = body(&w.call(&w.doctor_b1, &["OpenAccess", "P-0001", "treatment"]).await);
    assert_eq!(denied["granted"], false);

    // Every attempt, granted or not, is in the log the patient and the regulator can read.
    let log = body(&w.call(&w.regulator, &["AccessLog", "P-0001", "{}", "100", ""]).await);
    let granted: Vec<bool> =
        log["entries"].as_array().unwrap().iter().map(|e| e["granted"].as_bool().unwrap()).collect();
    assert_eq!(granted.iter().filter(|g| **g).count(), 1);
    assert_eq!(granted.iter().filter(|g| !**g).count(), 1);
    assert_eq!(body(&w.call(&w.patient, &["AccessLog", "P-0001", "{}", "100", ""]).await), log);

    // Organisation-wide consent with an expiry, read-write scope.
    let org = json!({"kind": "organisation", "msp": "HospitalBMSP"}).to_string();
    let far = (1_700_000_000 + 86_400).to_string();
    body(&w.call(&w.patient, &["GrantConsent", "P-0001", &org, "readWrite", &far]).await);
    assert_eq!(body(&w.call(&w.doctor_b1, &["OpenAccess", "P-0001", "treatment"]).await)["granted"], true);
    let past = "1".to_string();
    let out = w.call(&w.patient, &["GrantConsent", "P-0001", &org, "read", &past]).await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("expiresAt"), "{}", out.response.message);
}

#[tokio::test]
async fn attending_doctors_alone_change_the_patient() {
    let w = world().registered().await;
    let out = w.call_with_patient(&w.doctor_a2, &["UpdatePatient", "P-0001"], "X").await;
    assert_eq!(out.response.status, 403);
    let a2 = person(&w.doctor_a2).to_string();
    let out = w.call(&w.doctor_b1, &["AddAttendingDoctor", "P-0001", &a2]).await;
    assert_eq!(out.response.status, 403, "consent to read does not make an attending doctor");
    body(&w.call(&w.doctor_a1, &["AddAttendingDoctor", "P-0001", &a2]).await);
    let rec = body(&w.call_with_patient(&w.doctor_a2, &["UpdatePatient", "P-0001"], "Jane Doe").await);
    assert_eq!(rec["updated"]["actor"], person(&w.doctor_a2));
    assert_eq!(rec["updated"]["role"], "doctor");
    assert_eq!(rec["created"]["actor"], person(&w.doctor_a1));
}

#[tokio::test]
async fn permission_failures_do_not_reveal_whether_the_patient_exists() {
    let w = world().registered().await;
    let exists = w.call_with_patient(&w.doctor_a2, &["UpdatePatient", "P-0001"], "X").await;
    let missing = w.call_with_patient(&w.doctor_a2, &["UpdatePatient", "P-0404"], "X").await;
    assert_eq!(exists.response.status, missing.response.status);
    assert_eq!(exists.response.message.replace("P-0001", "P"), missing.response.message.replace("P-0404", "P"));
    let exists = w.call(&w.doctor_a2, &["OpenAccess", "P-0001", "treatment"]).await;
    let missing = w.call(&w.doctor_a2, &["OpenAccess", "P-0404", "treatment"]).await;
    assert_eq!(body(&exists)["basis"], body(&missing)["basis"]);
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let w = world().registered().await;
    let before = common::state(&w.mock);
    let cases: Vec<(TxOutcome, &str)> = vec![
        (w.call_with_patient(&w.doctor_a1, &["RegisterPatient", "x"], NAME).await, "patientId"),
        (w.call_with_patient(&w.doctor_a1, &["RegisterPatient", "P 1"], NAME).await, "patientId"),
        (w.call(&w.doctor_a1, &["RegisterPatient", "P-0009"]).await, "transient.patient"),
        (w.call_with_patient(&w.doctor_a1, &["RegisterPatient", "P-0009"], "").await, "patient.name"),
        (w.call_with_patient(&w.doctor_a1, &["RegisterPatient", "P-0001"], NAME).await, "already registered"),
        (w.call(&w.doctor_a1, &["OpenAccess", "P-0001", ""]).await, "purpose"),
        (w.call(&w.doctor_a1, &["VerifyPatient", "P-0001", "7"]).await, "version"),
        (w.call(&w.doctor_a1, &["VerifyPatient", "P-0001", "seven"]).await, "version"),
        (w.call(&w.doctor_a1, &["RegisterPatient"]).await, "transient \"patientId\" is required"),
        // A patient id sent as an argument would reach the block: refused.
        (
            w.mock.invoke(&w.router, Invocation::new(["OpenAccess", "P-0001", "treatment"]).caller(&w.doctor_a1)).await,
            "send patientId, purpose as transient data",
        ),
    ];
    for (out, needle) in &cases {
        assert!(out.response.status >= 400, "{needle}: {}", out.response.status);
        assert!(out.response.message.contains(needle), "{needle} not in {:?}", out.response.message);
        assert!(!out.committed);
    }
    let bad_salt = Invocation::new(["RegisterPatient", "P-0010"])
        .caller(&w.doctor_a1)
        .transient("patient", details(NAME))
        .transient("salt", b"short".to_vec());
    let out = common::invoke(&w.mock, &w.router, bad_salt).await;
    assert_eq!(out.response.status, 400);
    assert!(out.response.message.contains("transient.salt"));
    let bad_field = Invocation::new(["RegisterPatient", "P-0011"])
        .caller(&w.doctor_a1)
        .transient("patient", br#"{"name":"A","birthDate":"1984-13-01","sex":"female"}"#.to_vec())
        .transient("salt", SALT.as_bytes().to_vec());
    let out = common::invoke(&w.mock, &w.router, bad_field).await;
    assert!(out.response.message.contains("patient.birthDate"), "{}", out.response.message);
    assert_eq!(common::state(&w.mock), before, "no bad request may change state");
}

#[tokio::test]
async fn patient_data_never_reaches_public_state_or_events() {
    let w = world().registered().await;
    let mut events = Vec::new();
    for out in [
        w.call(&w.doctor_a1, &["OpenAccess", "P-0001", "treatment"]).await,
        w.call_with_patient(&w.doctor_a1, &["UpdatePatient", "P-0001"], NAME).await,
    ] {
        let ev = out.event.expect("every change emits an event");
        events.push(String::from_utf8(ev.payload).unwrap());
    }
    let public: Vec<String> = w
        .mock
        .ledger()
        .public_state()
        .into_iter()
        .map(|(k, v)| format!("{k} {}", String::from_utf8_lossy(&v)))
        .collect();
    for needle in [NAME, BIRTH, DIAGNOSIS_TEXT, "555 0100"] {
        assert!(!public.iter().any(|s| s.contains(needle)), "{needle} leaked into public state");
        assert!(!events.iter().any(|s| s.contains(needle)), "{needle} leaked into an event");
    }
    // Who looked at whom is not in the event either: only the patient and the regulator open it.
    for needle in ["P-0001", "doctor1", "HospitalAMSP", "accessed"] {
        assert!(!events.iter().any(|s| s.contains(needle)), "{needle} is readable in an event");
    }
    let open = w.call(&w.doctor_a1, &["OpenAccess", "P-0001", "treatment"]).await;
    for reader in [&w.patient, &w.regulator] {
        let key = common::notification_key(&w.mock, &w.router, reader).await;
        let ev = common::open_notice(&open, &key).expect("the patient and the regulator open the notice");
        assert_eq!(ev["action"], "accessed");
        assert_eq!(ev["patientId"], "P-0001");
        assert_eq!(ev["actor"], person(&w.doctor_a1));
    }
    let out = w.call(&w.other_patient, &["NotificationKey"]).await;
    assert_eq!(out.response.status, 403, "an unregistered patient has no key: {}", out.response.message);
    let stranger = ehr_api::seal::OpeningKey::from_random_bytes([9; 32]);
    assert!(common::open_notice(&open, &stranger).is_none(), "any other key opens nothing");
    for nobody in [&w.doctor_a1, &w.doctor_b1, &w.admin, &w.pharmacist] {
        let out = w.call(nobody, &["NotificationKey"]).await;
        assert_eq!(out.response.status, 403, "{}", out.response.message);
    }
}

#[tokio::test]
async fn same_proposals_give_identical_world_state_and_private_data() {
    // Two endorsers running the same proposals (same creator, tx ids, timestamps,
    // transient data) must write exactly the same keys and values.
    let w = world();
    let run = |w: &World| {
        let calls: Vec<Invocation> = vec![
            Invocation::new(["RegisterPatient", "P-0001"])
                .caller(&w.doctor_a1)
                .transient("patient", details(NAME))
                .transient("salt", SALT.as_bytes().to_vec()),
            Invocation::new(["AddRecord", "P-0001"])
                .caller(&w.doctor_a1)
                .transient("record", br#"{"body":{"kind":"diagnosis","icd10":"K35.80"},"attachments":[]}"#.to_vec())
                .transient("salt", SALT.as_bytes().to_vec()),
            Invocation::new(["OpenAccess", "P-0001", "treatment"]).caller(&w.doctor_a1),
            Invocation::new([
                "GrantConsent",
                "P-0001",
                r#"{"kind":"organisation","msp":"HospitalBMSP"}"#,
                "read",
                "null",
            ])
            .caller(&w.patient),
        ];
        let router = common::router();
        async move {
            let mock = common::ledger();
            let mut events = Vec::new();
            for (i, call) in calls.into_iter().enumerate() {
                let call = call
                    .tx_id(format!("{i:064x}"))
                    .at(fabric_chaincode_shim::Timestamp { seconds: 1_800_000_000 + i as i64, nanos: 0 });
                let out = common::invoke(&mock, &router, call).await;
                assert_eq!(out.response.status, 200, "{}", out.response.message);
                events.push((out.response.payload, out.event));
            }
            (mock.ledger().public_state(), mock.ledger().private_state("patientData"), events)
        }
    };
    let first = run(&w).await;
    let second = run(&w).await;
    assert!(!first.0.is_empty() && !first.1.is_empty());
    assert_eq!(first, second);
}

/// Expected status of each function for each caller, with P-0001 registered by
/// doctor A1 and doctor B1 holding read consent. 200 for OpenAccess means the
/// entry was written; `granted` says whether access was given.
#[tokio::test]
async fn permission_matrix() {
    let w = world().registered().await;
    // A doctor with no row of their own, so that adding them changes no other row.
    let outsider = json!({"id": "eDUwOTo6Q049b3V0c2lkZXI=", "msp": "HospitalAMSP"}).to_string();
    let grantee = json!({"kind": "organisation", "msp": "HospitalAMSP"}).to_string();
    type Cell = (&'static str, u16);
    let rows: Vec<(&str, &TestIdentity, Vec<Cell>)> = vec![
        (
            "attending doctor",
            &w.doctor_a1,
            vec![
                ("update", 200),
                ("attend", 200),
                ("open", 1),
                ("verify", 200),
                ("grant", 403),
                ("consents", 200),
                ("log", 403),
                ("register", 200),
            ],
        ),
        (
            "other doctor",
            &w.doctor_a2,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 200),
            ],
        ),
        (
            "consented doctor",
            &w.doctor_b1,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 1),
                ("verify", 200),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 200),
            ],
        ),
        (
            "the patient",
            &w.patient,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 1),
                ("verify", 200),
                ("grant", 200),
                ("consents", 200),
                ("log", 200),
                ("register", 403),
            ],
        ),
        (
            "another patient",
            &w.other_patient,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 403),
            ],
        ),
        (
            "radiologist",
            &w.radiologist,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 403),
            ],
        ),
        (
            "lab tester",
            &w.lab,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 403),
            ],
        ),
        (
            "pharmacist",
            &w.pharmacist,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 403),
            ],
        ),
        (
            "regulator",
            &w.regulator,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 200),
                ("register", 403),
            ],
        ),
        (
            "admin",
            &w.admin,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 0),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 403),
            ],
        ),
        (
            "no role",
            &w.nobody,
            vec![
                ("update", 403),
                ("attend", 403),
                ("open", 403),
                ("verify", 403),
                ("grant", 403),
                ("consents", 403),
                ("log", 403),
                ("register", 403),
            ],
        ),
    ];
    for (row, (who, id, cells)) in rows.into_iter().enumerate() {
        for (function, expected) in cells {
            let new_id = format!("P-9{row:03}");
            let out = match function {
                "update" => w.call_with_patient(id, &["UpdatePatient", "P-0001"], NAME).await,
                "attend" => w.call(id, &["AddAttendingDoctor", "P-0001", &outsider]).await,
                "open" => w.call(id, &["OpenAccess", "P-0001", "treatment"]).await,
                "verify" => w.call(id, &["VerifyPatient", "P-0001", "1"]).await,
                "grant" => w.call(id, &["GrantConsent", "P-0001", &grantee, "read", "null"]).await,
                "consents" => w.call(id, &["ListConsents", "P-0001"]).await,
                "log" => w.call(id, &["AccessLog", "P-0001", "{}", "100", ""]).await,
                "register" => w.call_with_patient(id, &["RegisterPatient", &new_id], NAME).await,
                other => unreachable!("{other}"),
            };
            let got = out.response.status;
            match (function, expected) {
                ("open", 0 | 1) => {
                    assert_eq!(got, 200, "{who} / OpenAccess: {}", out.response.message);
                    let granted = body(&out)["granted"].as_bool().unwrap();
                    assert_eq!(granted, expected == 1, "{who} / OpenAccess granted");
                }
                _ => assert_eq!(got as u16, expected, "{who} / {function}: {}", out.response.message),
            }
        }
    }
}

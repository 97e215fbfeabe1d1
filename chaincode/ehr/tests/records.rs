//! Records, prescriptions, erasure and the audit trail: the EHR core scenario on the mock stub.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ehr_api::model::{PrivateRecord, RecordBody};
mod common;

use common::{ok, person};
use fabric_chaincode_shim::testing::{Invocation, MockStub, TestIdentity, TxOutcome};
use serde_json::{Value, json};

const SALT: &str = "abababababababababababababababababababababababababababababababab";

struct W {
    mock: MockStub,
    router: fabric_chaincode_shim::Router,
    a1: TestIdentity,
    a2: TestIdentity,
    b1: TestIdentity,
    patient: TestIdentity,
    radiologist: TestIdentity,
    radiologist_b: TestIdentity,
    pharmacist: TestIdentity,
    regulator: TestIdentity,
}

fn w() -> W {
    let orgs = common::Orgs::new();
    W {
        mock: common::ledger(),
        router: common::router(),
        a1: orgs.hospital_a("doctor1", &[("role", "doctor")]),
        a2: orgs.hospital_a("doctor2", &[("role", "doctor")]),
        b1: orgs.hospital_b("doctor1", &[("role", "doctor")]),
        patient: orgs.hospital_a("patient1", &[("role", "patient"), ("patient_id", "P-0001")]),
        radiologist: orgs.hospital_a("radiologist1", &[("role", "radiologist")]),
        radiologist_b: orgs.hospital_b("radiologist1", &[("role", "radiologist")]),
        pharmacist: orgs.hospital_b("pharmacist1", &[("role", "pharmacist")]),
        regulator: orgs.regulator("regulator1", &[("role", "regulator")]),
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
    async fn dispense(&self, who: &TestIdentity, rx: &str, hash: &str, code: Option<&str>) -> TxOutcome {
        let mut call = Invocation::new(["DispensePrescription", rx, hash]).caller(who);
        if let Some(code) = code {
            call = call.transient("dispenseCode", code.as_bytes().to_vec());
        }
        common::invoke(&self.mock, &self.router, call).await
    }
}

fn patient_details() -> Value {
    json!({"name": "Jane Doe", "birthDate": "1984-03-17", "sex": "female"})
}

fn prescription() -> Value {
    json!({"body": {"kind": "prescription", "medication": "amoxicillin", "dose": "500 mg", "frequency": "3x daily"}})
}

fn ct_report() -> Value {
    json!({"body": {"kind": "imagingReport", "modality": "CT", "text": "no acute findings"},
           "attachments": [{"sha256": "9f".repeat(32), "size": 48213, "mediaType": "application/pdf",
                            "location": format!("file:///store/{}", "9f".repeat(32))}]})
}

/// The hash a pharmacist computes from the prescription copy they were handed.
fn prescription_hash(record: &Value) -> String {
    let body: RecordBody = serde_json::from_value(record["body"].clone()).unwrap();
    let private = PrivateRecord { body, attachments: vec![], origin: None, salt: SALT.into() };
    ehr_api::hash::record_hash(&private).unwrap()
}

#[tokio::test]
async fn the_core_scenario() {
    let w = w();
    // A doctor registers a patient and adds a diagnosis and a prescription.
    ok(&w.with(&w.a1, &["RegisterPatient", "P-0001"], "patient", patient_details()).await);
    let dx = json!({"body": {"kind": "diagnosis", "icd10": "K35.80", "text": "acute appendicitis"}});
    let diagnosis = ok(&w.with(&w.a1, &["AddRecord", "P-0001"], "record", dx).await);
    let rx = ok(&w.with(&w.a1, &["AddRecord", "P-0001"], "record", prescription()).await);
    let rx_id = rx["id"].as_str().unwrap().to_owned();
    assert_eq!(rx["kind"], "prescription");

    // A radiologist of the patient's hospital attaches a CT report; one of another hospital may not.
    let ct = ok(&w.with(&w.radiologist, &["AddRecord", "P-0001"], "record", ct_report()).await);
    assert_eq!(ct["created"]["role"], "radiologist");
    let out = w.with(&w.radiologist_b, &["AddRecord", "P-0001"], "record", ct_report()).await;
    assert_eq!(out.response.status, 403);
    let out = w.with(&w.radiologist, &["AddRecord", "P-0001"], "record", prescription()).await;
    assert_eq!(out.response.status, 403, "radiologists attach imaging reports only");

    // The patient grants a HospitalB doctor read access; they read; revocation ends it.
    let grantee = json!({"kind": "doctor", "person": person(&w.b1)}).to_string();
    ok(&w.call(&w.patient, &["GrantConsent", "P-0001", &grantee, "read", "null"]).await);
    ok(&w.call(&w.b1, &["OpenAccess", "P-0001", "second-opinion"]).await);
    let view = ok(&w.call(&w.b1, &["ReadRecord", "P-0001", diagnosis["id"].as_str().unwrap()]).await);
    assert_eq!(view["body"]["icd10"], "K35.80");
    assert_eq!(view["verified"], true);
    let page = ok(&w.call(&w.b1, &["ListRecords", "P-0001", "all", "10", ""]).await);
    assert_eq!(page["records"].as_array().unwrap().len(), 3);
    // ReadRecords: several in one call, in the order asked, on the same grounds; at most 100.
    let ids = json!([ct["id"], diagnosis["id"]]).to_string();
    let views = ok(&w.call(&w.b1, &["ReadRecords", "P-0001", &ids]).await);
    assert_eq!(views[0]["meta"]["id"], ct["id"]);
    assert_eq!((views[1]["body"]["icd10"].as_str(), views[1]["verified"].as_bool()), (Some("K35.80"), Some(true)));
    let too_many = json!(vec![diagnosis["id"].clone(); 101]).to_string();
    let out = w.call(&w.b1, &["ReadRecords", "P-0001", &too_many]).await;
    assert_eq!(out.response.status, 400, "{}", out.response.message);
    let out = w.call(&w.a2, &["ReadRecords", "P-0001", &ids]).await;
    assert_eq!(out.response.status, 403, "no window, no grounds: {}", out.response.message);
    let page = ok(&w.call(&w.b1, &["ListRecords", "P-0001", "imagingReport", "10", ""]).await);
    assert_eq!(page["records"][0]["id"], ct["id"]);
    // A kind that is not one, or a negative page size, is named in a 400.
    let out = w.call(&w.b1, &["ListRecords", "P-0001", "side-effect", "10", ""]).await;
    assert_eq!(out.response.status, 400, "{}", out.response.message);
    assert!(
        out.response.message.contains("\"side-effect\" is neither all nor a record kind"),
        "{}",
        out.response.message
    );
    assert!(out.response.message.contains("sideEffect"), "the kinds are listed: {}", out.response.message);
    let out = w.call(&w.b1, &["ListRecords", "P-0001", "all", "-1", ""]).await;
    assert_eq!(out.response.status, 400, "{}", out.response.message);
    assert!(out.response.message.contains("pageSize"), "{}", out.response.message);
    ok(&w.call(&w.patient, &["RevokeConsent", "P-0001", &grantee]).await);
    let out = w.call(&w.b1, &["ReadRecord", "P-0001", diagnosis["id"].as_str().unwrap()]).await;
    assert_eq!(out.response.status, 403);

    // A second HospitalA doctor who is not attending cannot change the patient.
    let out = w.with(&w.a2, &["UpdatePatient", "P-0001"], "patient", patient_details()).await;
    assert_eq!(out.response.status, 403);
    let out = w.call(&w.a2, &["DeleteRecord", "P-0001", &rx_id, "wrong drug"]).await;
    assert_eq!(out.response.status, 403);

    // A pharmacist verifies and dispenses the prescription exactly once, without patient data.
    let hash = prescription_hash(&prescription());
    let check = ok(&w.call(&w.pharmacist, &["VerifyPrescription", &rx_id, &hash]).await);
    assert_eq!(check["matches"], true);
    assert_eq!(check["status"]["status"], "active");
    assert_eq!(check["status"]["prescribed"]["actor"], person(&w.a1));
    assert!(check.to_string().find("Jane").is_none() && check.to_string().find("amoxicillin").is_none());
    let forged = ok(&w.call(&w.pharmacist, &["VerifyPrescription", &rx_id, &"00".repeat(32)]).await);
    assert_eq!(forged["matches"], false);
    // The public hash alone is not enough: dispensing needs the code only the patient's slip carries.
    let out = w.dispense(&w.pharmacist, &rx_id, &hash, None).await;
    assert_eq!(out.response.status, 400, "{}", out.response.message);
    assert!(out.response.message.contains("transient.dispenseCode"), "{}", out.response.message);
    let guessed = "ab".repeat(32);
    let out = w.dispense(&w.pharmacist, &rx_id, &hash, Some(&guessed)).await;
    assert_eq!(out.response.status, 403, "{}", out.response.message);
    assert!(out.response.message.contains("dispensing code does not match"), "{}", out.response.message);
    assert!(!check.to_string().contains(common::DISPENSE_CODE), "only the code's hash is public");
    let out = w.dispense(&w.pharmacist, &rx_id, &hash, Some(common::DISPENSE_CODE)).await;
    assert_eq!(ok(&out)["status"], "dispensed");
    let again = w.dispense(&w.pharmacist, &rx_id, &hash, Some(common::DISPENSE_CODE)).await;
    assert_eq!(again.response.status, 409);
    assert!(again.response.message.contains("already dispensed"));
    let out = w.with(&w.a1, &["UpdateRecord", "P-0001", &rx_id], "record", prescription()).await;
    assert_eq!(out.response.status, 409, "a dispensed prescription cannot change");

    // The regulator reads the audit trail and sees every step with its actor, no patient data.
    let trail = ok(&w.call(&w.regulator, &["AuditTrail", "P-0001"]).await);
    let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    for step in [
        "patientRegistered",
        "recordAdded",
        "consentGranted",
        "accessOpened",
        "consentRevoked",
        "prescriptionDispensed",
    ] {
        assert!(actions.contains(&step), "{step} missing from {actions:?}");
    }
    assert!(trail.as_array().unwrap().iter().all(|l| l["stamp"]["actor"]["msp"].is_string()));
    assert!(!trail.to_string().contains("Jane") && !trail.to_string().contains("appendicitis"));
    let out = w.call(&w.b1, &["AuditTrail", "P-0001"]).await;
    assert_eq!(out.response.status, 403);

    // The patient asks for erasure: private data gone, hashes and audit remain.
    let before = ok(&w.call(&w.regulator, &["ListRecords", "P-0001", "all", "10", ""]).await);
    assert!(
        !common::private_keys(&w.mock, &format!("\u{0}ehr.patient.version\u{0}{}\u{0}", common::pid("P-0001")))
            .is_empty()
    );
    assert!(
        !common::private_keys(&w.mock, &format!("\u{0}ehr.record.version\u{0}{}\u{0}", common::pid("P-0001")))
            .is_empty()
    );
    let erased = ok(&w.call(&w.patient, &["RequestErasure", "P-0001"]).await);
    assert!(erased["erased"].is_object());
    assert_eq!(erased["hashes"].as_array().unwrap().len(), 1);
    let private_left =
        common::private_keys(&w.mock, &format!("\u{0}ehr.patient.version\u{0}{}\u{0}", common::pid("P-0001")));
    assert!(private_left.is_empty(), "patient details still stored: {private_left:?}");
    let records_left =
        common::private_keys(&w.mock, &format!("\u{0}ehr.record.version\u{0}{}\u{0}", common::pid("P-0001")));
    assert!(records_left.is_empty(), "record content still stored: {records_left:?}");
    let after = ok(&w.call(&w.regulator, &["ListRecords", "P-0001", "all", "10", ""]).await);
    assert_eq!(after["records"].as_array().unwrap().len(), before["records"].as_array().unwrap().len());
    assert!(after["records"].as_array().unwrap().iter().all(|r| r["erased"].is_object() && r["hashes"][0].is_string()));
    let trail = ok(&w.call(&w.regulator, &["AuditTrail", "P-0001"]).await);
    assert!(trail.as_array().unwrap().iter().any(|l| l["action"] == "erased"));
    let out = w.call(&w.a1, &["ReadPatient", "P-0001"]).await;
    assert_eq!(out.response.status, 404, "{}", out.response.message);
    let out = w.call(&w.patient, &["RequestErasure", "P-0001"]).await;
    assert_eq!(out.response.status, 409);

    // Erasure is final: no write for the patient succeeds afterwards, whoever tries.
    let state = common::state(&w.mock);
    let note = json!({"body": {"kind": "clinicalNote", "text": "after erasure"}});
    let org = r#"{"kind":"organisation","msp":"HospitalBMSP"}"#;
    let attempts = [
        w.with(&w.a1, &["UpdatePatient", "P-0001"], "patient", patient_details()).await,
        w.with(&w.a1, &["AddRecord", "P-0001"], "record", note.clone()).await,
        w.with(&w.a1, &["UpdateRecord", "P-0001", &rx_id], "record", prescription()).await,
        w.call(&w.a1, &["OpenAccess", "P-0001", "treatment"]).await,
        w.call(&w.patient, &["GrantConsent", "P-0001", org, "read", "null"]).await,
        w.call(&w.a1, &["AddAttendingDoctor", "P-0001", &person(&w.a2).to_string()]).await,
    ];
    for out in &attempts {
        assert_eq!(out.response.status, 409, "{}", out.response.message);
        assert!(out.response.message.contains("erased"), "{}", out.response.message);
    }
    assert_eq!(common::state(&w.mock), state, "a refused write changed the ledger");
}

#[tokio::test]
async fn records_are_versioned_and_deleted_as_tombstones() {
    let w = w();
    ok(&w.with(&w.a1, &["RegisterPatient", "P-0001"], "patient", patient_details()).await);
    let note = json!({"body": {"kind": "clinicalNote", "text": "first"}});
    let id = ok(&w.with(&w.a1, &["AddRecord", "P-0001"], "record", note).await)["id"].as_str().unwrap().to_owned();
    let v2 = json!({"body": {"kind": "clinicalNote", "text": "second"}});
    let meta = ok(&w.with(&w.a1, &["UpdateRecord", "P-0001", &id], "record", v2).await);
    assert_eq!(meta["version"], 2);
    assert_eq!(meta["hashes"].as_array().unwrap().len(), 2);
    let wrong_kind = json!({"body": {"kind": "allergy", "substance": "nuts"}});
    let out = w.with(&w.a1, &["UpdateRecord", "P-0001", &id], "record", wrong_kind).await;
    assert!(out.response.message.contains("record.kind"), "{}", out.response.message);

    let deleted = ok(&w.call(&w.a1, &["DeleteRecord", "P-0001", &id, "entered for the wrong patient"]).await);
    assert_eq!(deleted["deleted"]["reason"], "entered for the wrong patient");
    assert_eq!(deleted["deleted"]["stamp"]["actor"], person(&w.a1));
    ok(&w.call(&w.a1, &["OpenAccess", "P-0001", "treatment"]).await);
    let out = w.call(&w.a1, &["ReadRecord", "P-0001", &id]).await;
    assert_eq!(out.response.status, 404);
    let page = ok(&w.call(&w.a1, &["ListRecords", "P-0001", "all", "10", ""]).await);
    assert_eq!(page["records"].as_array().unwrap().len(), 0, "deleted records are hidden");
    // ... unless asked for, as an export does: metadata and tombstone only.
    let all = json!({"includeDeleted": true});
    let page = ok(&w.with(&w.a1, &["SearchRecords", "P-0001", "1000", ""], "query", all).await);
    assert_eq!(page["records"][0]["id"], id.as_str());
    assert_eq!(page["records"][0]["deleted"]["reason"], "entered for the wrong patient");
    let out = w.call(&w.a1, &["ListRecords", "P-0001", "all", "1001", ""]).await;
    assert!(out.response.status == 400 && out.response.message.contains("1-1000"), "{}", out.response.message);
    let trail = ok(&w.call(&w.patient, &["AuditTrail", "P-0001"]).await);
    let deleted_line = trail.as_array().unwrap().iter().find(|l| l["action"] == "recordDeleted").unwrap();
    assert_eq!(deleted_line["detail"], "entered for the wrong patient");
    let out = w.call(&w.a1, &["DeleteRecord", "P-0001", &id, "again"]).await;
    assert_eq!(out.response.status, 404, "acting on a tombstoned record");
}

#[tokio::test]
async fn record_bad_input_names_the_field_and_writes_nothing() {
    let w = w();
    ok(&w.with(&w.a1, &["RegisterPatient", "P-0001"], "patient", patient_details()).await);
    let before = common::state(&w.mock);
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"sha256": "ab".repeat(32), "size": 1, "mediaType": "image/png", "location": "x"}))
        .collect();
    let cases = [
        (json!({"body": {"kind": "horoscope"}}), "transient.record"),
        (json!({"body": {"kind": "diagnosis", "icd10": "appendicitis"}}), "record.icd10"),
        (json!({"body": {"kind": "prescription", "medication": "x", "dose": "", "frequency": "daily"}}), "record.dose"),
        (json!({"body": {"kind": "imagingReport", "modality": "XRAY"}}), "record.modality"),
        (json!({"body": {"kind": "clinicalNote", "text": "x"}, "attachments": many}), "attachments"),
        (
            json!({"body": {"kind": "clinicalNote", "text": "x"},
                   "attachments": [{"sha256": "XY", "size": 1, "mediaType": "image/png", "location": "x"}]}),
            "attachments.sha256",
        ),
        (json!({"body": {"kind": "clinicalNote", "text": "x"}, "extra": 1}), "transient.record"),
    ];
    for (record, field) in cases {
        let out = w.with(&w.a1, &["AddRecord", "P-0001"], "record", record).await;
        assert_eq!(out.response.status, 400, "{field}: {}", out.response.message);
        assert!(out.response.message.contains(field), "{field} not in {}", out.response.message);
    }
    let out = w.call(&w.a1, &["AddRecord", "P-0001"]).await;
    assert!(out.response.message.contains("transient.record"));
    let out = w.call(&w.a1, &["ListRecords", "P-0001", "horoscope", "10", ""]).await;
    assert!(out.response.message.contains("kind"));
    let out = w.call(&w.a1, &["ListRecords", "P-0001", "all", "0", ""]).await;
    assert!(out.response.message.contains("pageSize"));
    assert_eq!(common::state(&w.mock), before);
}

#[tokio::test]
async fn verify_record_detects_a_changed_private_copy() {
    let w = w();
    ok(&w.with(&w.a1, &["RegisterPatient", "P-0001"], "patient", patient_details()).await);
    let id = ok(&w.with(&w.radiologist, &["AddRecord", "P-0001"], "record", ct_report()).await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = ok(&w.call(&w.a1, &["VerifyRecord", "P-0001", &id, "1"]).await);
    assert_eq!(v["matches"], true);
    let key = common::private_key(
        &w.mock,
        &format!("\u{0}ehr.record.version\u{0}{}\u{0}{id}\u{0}{:010}\u{0}", common::pid("P-0001"), 1),
    );
    let mut stored: Value =
        serde_json::from_slice(&w.mock.ledger().private_data("patientData", &key).unwrap()).unwrap();
    stored["body"]["text"] = json!("tampered");
    let mut sim = w.mock.ledger().begin(10);
    sim.put_state("patientData", &key, stored.to_string().into_bytes()).unwrap();
    sim.commit("tamper", None).unwrap();
    let v = ok(&w.call(&w.a1, &["VerifyRecord", "P-0001", &id, "1"]).await);
    assert_eq!(v["matches"], false);
    assert_ne!(v["ledgerHash"], v["privateHash"]);
    assert_eq!(w.call(&w.a1, &["VerifyRecord", "P-0001", &id, "2"]).await.response.status, 400);
    assert_eq!(w.call(&w.pharmacist, &["VerifyRecord", "P-0001", &id, "1"]).await.response.status, 403);
}

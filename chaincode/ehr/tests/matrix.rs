//! The permission matrix of the record, prescription, history, search, audit,
//! admin and erasure functions: every function × every role × attending /
//! consented / neither. (Patients, consent and access: `patients.rs`.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use fabric_chaincode_shim::testing::{Invocation, MockStub, TestIdentity, TxOutcome};
use serde_json::{Value, json};

const SALT: &str = "1212121212121212121212121212121212121212121212121212121212121212";

struct W {
    mock: MockStub,
    router: fabric_chaincode_shim::Router,
    people: Vec<(&'static str, TestIdentity)>,
}

fn w() -> W {
    let orgs = common::Orgs::new();
    let people = vec![
        ("attending doctor", orgs.hospital_a("doctor1", &[("role", "doctor")])),
        ("other doctor", orgs.hospital_a("doctor2", &[("role", "doctor")])),
        ("consented doctor", orgs.hospital_b("doctor1", &[("role", "doctor")])),
        ("the patient", orgs.hospital_a("patient1", &[("role", "patient"), ("patient_id", "P-0001")])),
        ("another patient", orgs.hospital_a("patient2", &[("role", "patient"), ("patient_id", "P-0002")])),
        ("radiologist", orgs.hospital_a("radiologist1", &[("role", "radiologist")])),
        ("lab tester", orgs.hospital_a("lab1", &[("role", "lab")])),
        ("pharmacist", orgs.hospital_b("pharmacist1", &[("role", "pharmacist")])),
        ("regulator", orgs.regulator("regulator1", &[("role", "regulator")])),
        ("admin", orgs.hospital_a("admin1", &[("role", "admin")])),
        ("no role", orgs.hospital_a("visitor", &[])),
    ];
    W { mock: common::ledger(), router: common::router(), people }
}

impl W {
    fn id(&self, name: &str) -> &TestIdentity {
        &self.people.iter().find(|(n, _)| *n == name).unwrap().1
    }
    async fn call(&self, who: &TestIdentity, args: &[&str], transient: Option<(&str, Value)>) -> TxOutcome {
        let mut call = Invocation::new(args.iter().copied()).caller(who);
        if let Some((field, value)) = transient {
            call = call
                .transient(field, value.to_string().into_bytes())
                .transient("salt", SALT.as_bytes().to_vec())
                .transient("dispenseCode", common::DISPENSE_CODE.as_bytes().to_vec());
        }
        common::invoke(&self.mock, &self.router, call).await
    }
    /// A fresh record by the attending doctor.
    async fn record(&self, body: Value) -> String {
        let out = self
            .call(self.id("attending doctor"), &["AddRecord", "P-0001"], Some(("record", json!({"body": body}))))
            .await;
        assert_eq!(out.response.status, 200, "{}", out.response.message);
        let v: Value = serde_json::from_slice(&out.response.payload).unwrap();
        v["id"].as_str().unwrap().to_owned()
    }
}

fn prescription() -> Value {
    json!({"kind": "prescription", "medication": "ibuprofen", "dose": "400 mg", "frequency": "2x daily"})
}

fn prescription_hash() -> String {
    let body = serde_json::from_value(prescription()).unwrap();
    let p = ehr_api::model::PrivateRecord { body, attachments: vec![], origin: None, salt: SALT.into() };
    ehr_api::hash::record_hash(&p).unwrap()
}

const FUNCTIONS: [&str; 15] = [
    "AddRecord(note)",
    "AddRecord(imaging)",
    "AddRecord(lab)",
    "ReadRecord",
    "ReadRecords",
    "ListRecords",
    "SearchRecords",
    "PatientHistory",
    "UpdateRecord",
    "DeleteRecord",
    "VerifyPrescription",
    "DispensePrescription",
    "AuditTrail",
    "SearchPatients",
    "SetStanding",
];

/// Expected status per function, in the order of [`FUNCTIONS`].
fn expected(who: &str) -> [u16; 15] {
    match who {
        //                    note imag lab  read rds  list srch hist upd  del  vrfy disp audt spat stnd
        "attending doctor" => [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403, 200, 403],
        "other doctor" => [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 403, 200, 403],
        "consented doctor" => [403, 403, 403, 200, 200, 200, 200, 200, 403, 403, 200, 403, 403, 200, 403],
        "the patient" => [403, 403, 403, 200, 200, 200, 200, 200, 403, 403, 403, 403, 200, 200, 403],
        "another patient" => [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403],
        "radiologist" => [403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        "lab tester" => [403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        "pharmacist" => [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 403, 403, 403],
        "regulator" => [403, 403, 403, 403, 403, 200, 200, 200, 403, 403, 403, 403, 200, 403, 403],
        "admin" => [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200],
        "no role" => [403; 15],
        other => unreachable!("{other}"),
    }
}

#[tokio::test]
async fn permission_matrix_for_records_prescriptions_history_search_audit_admin_erasure() {
    let w = w();
    let doctor = w.id("attending doctor");
    let details = json!({"name": "Jane Doe", "birthDate": "1984-03-17", "sex": "female"});
    assert_eq!(w.call(doctor, &["RegisterPatient", "P-0001"], Some(("patient", details))).await.response.status, 200);
    let consented = fabric_chaincode_shim::ClientIdentity::from_creator(&w.id("consented doctor").creator()).unwrap();
    let grantee = json!({"kind": "doctor", "person": {"id": consented.id(), "msp": consented.msp_id()}}).to_string();
    let out = w.call(w.id("the patient"), &["GrantConsent", "P-0001", &grantee, "read", "null"], None).await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    let note = w.record(json!({"kind": "clinicalNote", "text": "note"})).await;
    let outsider = json!({"id": "b3V0c2lkZXI=", "msp": "HospitalAMSP"}).to_string();

    let mut checked = 0;
    for (who, id) in &w.people {
        let row = expected(who);
        for (col, function) in FUNCTIONS.iter().enumerate() {
            let out = match *function {
                "AddRecord(note)" => {
                    w.call(
                        id,
                        &["AddRecord", "P-0001"],
                        Some(("record", json!({"body": {"kind": "clinicalNote", "text": "x"}}))),
                    )
                    .await
                }
                "AddRecord(imaging)" => {
                    w.call(
                        id,
                        &["AddRecord", "P-0001"],
                        Some(("record", json!({"body": {"kind": "imagingReport", "modality": "CT"}}))),
                    )
                    .await
                }
                "AddRecord(lab)" => {
                    w.call(
                        id,
                        &["AddRecord", "P-0001"],
                        Some(("record", json!({"body": {"kind": "labReport", "test": "CBC"}}))),
                    )
                    .await
                }
                "ReadRecord" => {
                    w.call(id, &["OpenAccess", "P-0001", "treatment"], None).await;
                    w.call(id, &["ReadRecord", "P-0001", &note], None).await
                }
                "ReadRecords" => {
                    w.call(id, &["OpenAccess", "P-0001", "treatment"], None).await;
                    let ids = json!([note]).to_string();
                    w.call(id, &["ReadRecords", "P-0001", &ids], None).await
                }
                "ListRecords" => w.call(id, &["ListRecords", "P-0001", "all", "10", ""], None).await,
                "SearchRecords" => {
                    w.call(id, &["SearchRecords", "P-0001", "10", ""], Some(("query", json!({"kind": "clinicalNote"}))))
                        .await
                }
                "PatientHistory" => w.call(id, &["PatientHistory", "P-0001"], None).await,
                "UpdateRecord" => {
                    let fresh = w.record(json!({"kind": "clinicalNote", "text": "to update"})).await;
                    let body = json!({"body": {"kind": "clinicalNote", "text": "updated"}});
                    w.call(id, &["UpdateRecord", "P-0001", &fresh], Some(("record", body))).await
                }
                "DeleteRecord" => {
                    let fresh = w.record(json!({"kind": "clinicalNote", "text": "to delete"})).await;
                    w.call(id, &["DeleteRecord", "P-0001", &fresh, "matrix"], None).await
                }
                "VerifyPrescription" => {
                    let rx = w.record(prescription()).await;
                    w.call(id, &["VerifyPrescription", &rx, &prescription_hash()], None).await
                }
                "DispensePrescription" => {
                    let rx = w.record(prescription()).await;
                    let call = Invocation::new(["DispensePrescription", &rx, &prescription_hash()])
                        .caller(id)
                        .transient("dispenseCode", common::DISPENSE_CODE.as_bytes().to_vec());
                    common::invoke(&w.mock, &w.router, call).await
                }
                "AuditTrail" => w.call(id, &["AuditTrail", "P-0001"], None).await,
                "SearchPatients" => {
                    w.call(id, &["SearchPatients", "10", ""], Some(("query", json!({"name": "jane"})))).await
                }
                "SetStanding" => w.call(id, &["SetStanding", &outsider, "true", "matrix"], None).await,
                other => unreachable!("{other}"),
            };
            assert_eq!(out.response.status as u16, row[col], "{who} / {function}: {}", out.response.message);
            checked += 1;
        }
    }

    // Erasure last, since it is final: only the patient.
    for (who, id) in &w.people {
        if *who == "the patient" {
            continue;
        }
        let out = w.call(id, &["RequestErasure", "P-0001"], None).await;
        assert_eq!(out.response.status, 403, "{who} / RequestErasure: {}", out.response.message);
        checked += 1;
    }
    let out = w.call(w.id("the patient"), &["RequestErasure", "P-0001"], None).await;
    assert_eq!(out.response.status, 200, "{}", out.response.message);
    assert_eq!(checked + 1, 11 * 16);
}

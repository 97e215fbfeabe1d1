//! A chart exported as FHIR: valid by HAPI FHIR's R4 validator, the same bytes
//! every time, nothing dropped silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod validator;

use base64::Engine as _;
use ehr_api::model::{
    Attachment, PatientDetails, PatientId, PatientRecord, Person, RecordBody, RecordMeta, Role, Stamp, Tombstone,
};
use ehr_api::views::{PatientView, RecordView};
use ehr_fhir::{Chart, export, systems};
use serde_json::Value;

fn person(cn: &str, msp: &str) -> Person {
    let id = base64::engine::general_purpose::STANDARD.encode(format!("x509::CN={cn},OU=client::CN=ca.{msp}"));
    Person { id, msp: msp.into() }
}

fn stamp(who: &Person, role: Role, tx: &str, at: i64) -> Stamp {
    Stamp { actor: who.clone(), role, tx_id: tx.repeat(64 / tx.len()), at }
}

fn record(id: &str, body: RecordBody, who: &Person, at: i64) -> RecordView {
    let written = stamp(who, Role::Doctor, &id[2..4].to_lowercase(), at);
    RecordView {
        meta: RecordMeta {
            id: id.into(),
            patient_id: PatientId::parse("P-0001").unwrap(),
            kind: body.kind(),
            version: 1,
            hashes: vec!["ab".repeat(32)],
            created: written.clone(),
            updated: written,
            deleted: None,
            erased: None,
        },
        body,
        attachments: Vec::new(),
        verified: true,
    }
}

/// A CT report with its PDF attached.
fn imaging(who: &Person) -> RecordView {
    let mut ct = record(
        "R-6F00000000000006",
        RecordBody::ImagingReport { modality: "CT".into(), text: "appendix enlarged".into() },
        who,
        1_795_306_200,
    );
    ct.attachments = vec![Attachment {
        sha256: "9f".repeat(32),
        size: 81,
        media_type: "application/pdf".into(),
        location: "s3://ehr-files/enc/k1/9f/9f9f".into(),
    }];
    ct
}

/// A diagnosis deleted as written in error.
fn deleted(who: &Person) -> RecordView {
    let mut gone = record(
        "R-8B00000000000008",
        RecordBody::Diagnosis { icd10: "J45".into(), text: "wrong patient".into() },
        who,
        1_795_306_400,
    );
    let tombstone = stamp(who, Role::Doctor, "8b", 1_795_306_500);
    gone.meta.deleted = Some(Tombstone { stamp: tombstone, reason: "entered for the wrong patient".into() });
    gone
}

/// A chart with a record of every kind, a file, and a deleted diagnosis.
fn chart() -> Chart {
    let doctor = person("doctor1", "HospitalAMSP");
    let lab = person("lab1", "HospitalBMSP");
    let registered = stamp(&doctor, Role::Doctor, "0a", 1_795_305_600);
    let patient = PatientView {
        record: PatientRecord {
            id: PatientId::parse("P-0001").unwrap(),
            home_msp: "HospitalAMSP".into(),
            attending: vec![doctor.clone()],
            version: 1,
            hashes: vec!["cd".repeat(32)],
            created: registered.clone(),
            updated: registered,
            erased: None,
        },
        details: PatientDetails {
            name: "Jane Demo".into(),
            birth_date: "1984-02-29".into(),
            sex: "female".into(),
            contact: "+44 20 7946 0000".into(),
            description: "demo patient".into(),
        },
        verified: true,
    };
    let records = vec![
        record(
            "R-1A00000000000001",
            RecordBody::Diagnosis { icd10: "K35.80".into(), text: "acute appendicitis".into() },
            &doctor,
            1_795_305_700,
        ),
        record(
            "R-2B00000000000002",
            RecordBody::Prescription {
                medication: "amoxicillin".into(),
                dose: "500 mg".into(),
                frequency: "3x daily".into(),
                text: "with food".into(),
            },
            &doctor,
            1_795_305_800,
        ),
        record(
            "R-3C00000000000003",
            RecordBody::Allergy { substance: "penicillin".into(), text: "hives".into() },
            &doctor,
            1_795_305_900,
        ),
        record(
            "R-4D00000000000004",
            RecordBody::LabReport { test: "CBC".into(), text: "normal".into() },
            &lab,
            1_795_306_000,
        ),
        record(
            "R-5E00000000000005",
            RecordBody::SideEffect { medication: "amoxicillin".into(), text: "rash".into() },
            &doctor,
            1_795_306_100,
        ),
        imaging(&doctor),
        record(
            "R-7A00000000000007",
            RecordBody::ClinicalNote { text: "recovering well".into() },
            &doctor,
            1_795_306_300,
        ),
    ];
    Chart { patient, records, deleted: vec![deleted(&doctor).meta] }
}

fn entry_url<'a>(bundle: &'a Value, resource: &Value) -> Option<&'a str> {
    bundle["entry"].as_array()?.iter().find(|e| &e["resource"] == resource)?["fullUrl"].as_str()
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"].as_array().unwrap().iter().map(|e| &e["resource"]).collect()
}

#[test]
fn the_export_is_valid_fhir_r4_by_hapis_validator() {
    let exported = export(&chart()).unwrap();
    let dir = std::env::temp_dir().join(format!("ehr-fhir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("chart.json");
    std::fs::write(&file, exported.canonical_json().unwrap()).unwrap();
    let findings = validator::validate(std::slice::from_ref(&file));
    std::fs::remove_dir_all(&dir).ok();
    for f in &findings {
        eprintln!("validator {}: {} {}", f.severity, f.location, f.message);
    }
    let errors: Vec<_> = findings.iter().filter(|f| f.is_error()).collect();
    assert!(errors.is_empty(), "the validator found {} error(s): {errors:#?}", errors.len());
}

#[test]
fn the_validator_is_not_a_rubber_stamp() {
    // A Condition without its required subject, in an otherwise valid export.
    let mut bundle: Value = serde_json::from_slice(&export(&chart()).unwrap().canonical_json().unwrap()).unwrap();
    let entries = bundle["entry"].as_array_mut().unwrap();
    let condition = entries.iter_mut().find(|e| e["resource"]["resourceType"] == "Condition").unwrap();
    condition["resource"].as_object_mut().unwrap().remove("subject");
    let dir = std::env::temp_dir().join(format!("ehr-fhir-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.json");
    std::fs::write(&file, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let findings = validator::validate(std::slice::from_ref(&file));
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        findings.iter().any(|f| f.is_error() && f.message.contains("Condition.subject")),
        "a Condition without subject must be an error: {findings:#?}"
    );
}

#[test]
fn the_same_chart_gives_the_same_bytes_in_any_order() {
    let first = export(&chart()).unwrap().canonical_json().unwrap();
    let mut shuffled = chart();
    shuffled.records.reverse();
    assert_eq!(first, export(&shuffled).unwrap().canonical_json().unwrap());
    let mut changed = chart();
    changed.patient.details.contact = "jane@example.org".into();
    assert_ne!(first, export(&changed).unwrap().canonical_json().unwrap(), "the bytes follow the content");
}

#[test]
fn the_mapping_carries_codes_ids_versions_and_provenance() {
    let exported = export(&chart()).unwrap();
    let bundle: Value = serde_json::from_slice(&exported.canonical_json().unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let all = resources(&bundle);
    let of = |t: &str| all.iter().copied().filter(|r| r["resourceType"] == t).collect::<Vec<_>>();
    let patient = of("Patient")[0];
    assert_eq!(patient["identifier"][0]["system"], systems::PATIENT_ID);
    assert_eq!(patient["identifier"][0]["value"], "P-0001");
    assert_eq!((patient["gender"].as_str(), patient["birthDate"].as_str()), (Some("female"), Some("1984-02-29")));
    assert_eq!(patient["telecom"][0]["system"], "phone");
    let condition = of("Condition")[0];
    assert_eq!(condition["code"]["coding"][0]["system"], systems::ICD10);
    assert_eq!(condition["code"]["coding"][0]["code"], "K35.80");
    assert_eq!(condition["meta"]["versionId"], "1");
    assert_eq!(condition["recordedDate"], "2026-11-22T00:01:40Z");
    let patient_url = bundle["entry"][0]["fullUrl"].as_str().unwrap();
    assert_eq!(condition["subject"]["reference"], patient_url, "references point at entries of the bundle");
    assert_eq!(of("MedicationRequest")[0]["dosageInstruction"][0]["text"], "500 mg, 3x daily");
    assert_eq!(of("AllergyIntolerance")[0]["reaction"][0]["manifestation"][0]["text"], "hives");
    assert_eq!(of("Organization").len(), 2, "HospitalA and the lab's HospitalB, once each");
    assert_eq!(of("Practitioner").len(), 2, "the doctor and the lab technician");
    let report = of("DiagnosticReport");
    assert_eq!((report.len(), report[0]["code"]["text"].as_str()), (2, Some("CBC")));
    let observation = of("Observation")[0];
    assert_eq!(report[0]["result"][0]["reference"].as_str(), entry_url(&bundle, observation));
    assert_eq!(observation["valueString"], "normal");
    let pdf = &report[1]["presentedForm"][0];
    assert_eq!((pdf["contentType"].as_str(), pdf["size"].as_u64()), (Some("application/pdf"), Some(81)));
    assert_eq!(pdf["extension"][0]["url"], systems::SHA256_EXTENSION);
    assert_eq!(pdf["extension"][0]["valueString"], "9f".repeat(32));
    assert_eq!(pdf["extension"][1]["url"], systems::LOCATION_EXTENSION);
    assert!(pdf.get("url").is_none(), "the store holds ciphertext; url would promise the content");
    assert_eq!(of("AdverseEvent")[0]["event"]["text"], "rash (side effect of amoxicillin)");
    let note = &of("DocumentReference")[0]["content"][0]["attachment"]["data"];
    let note = base64::engine::general_purpose::STANDARD.decode(note.as_str().unwrap()).unwrap();
    assert_eq!(note, b"recovering well");
    // A Provenance for the patient and each exported record, naming the transaction.
    let provenance = of("Provenance");
    assert_eq!(provenance.len(), 1 + 7);
    let tx = &provenance[1]["entity"][0]["what"]["identifier"];
    assert_eq!(
        (tx["system"].as_str(), tx["value"].as_str().map(str::len)),
        (Some(systems::FABRIC_TRANSACTION), Some(64))
    );
    // The deleted diagnosis is reported, not dropped.
    assert_eq!(exported.unmapped, ["R-8B00000000000008 (deleted: entered for the wrong patient)"]);
    assert_eq!(of("Condition").len(), 1, "the deleted diagnosis is not exported as a live one");
}

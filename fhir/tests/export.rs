//! A chart exported as FHIR: valid by HAPI FHIR's R4 validator, the same bytes
//! every time, nothing dropped silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chart;
mod validator;

use base64::Engine as _;
use chart::chart;
use ehr_fhir::{export, systems};
use serde_json::Value;

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
    assert_eq!(of("Practitioner").len(), 4, "the doctor, the lab technician, the pharmacist, the consented doctor");
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
    let adverse = of("AdverseEvent")[0];
    assert_eq!(
        (adverse["event"]["text"].as_str(), adverse["suspectEntity"][0]["instance"]["display"].as_str()),
        (Some("rash"), Some("amoxicillin"))
    );
    assert_eq!(report[0]["category"][0]["coding"][0]["code"], "LAB");
    assert_eq!(report[1]["category"][0]["coding"][0]["code"], "RAD");
    let observation_url = entry_url(&bundle, observation).unwrap();
    let covered = of("Provenance")
        .iter()
        .any(|p| p["target"].as_array().unwrap().iter().any(|t| t["reference"] == observation_url));
    assert!(covered, "the Observation has a Provenance too (its report's)");
    let study = of("ImagingStudy")[0];
    assert_eq!((study["modality"][0]["code"].as_str(), study["status"].as_str()), (Some("CT"), Some("available")));
    assert_eq!(report[1]["imagingStudy"][0]["reference"].as_str(), entry_url(&bundle, study));
    let note =
        &of("DocumentReference").iter().find(|d| d["status"] == "current").unwrap()["content"][0]["attachment"]["data"];
    let note = base64::engine::general_purpose::STANDARD.decode(note.as_str().unwrap()).unwrap();
    assert_eq!(note, b"recovering well");
    // A Provenance for the patient, each record, the dispensing, the deletion and each consent.
    let provenance = of("Provenance");
    assert_eq!(provenance.len(), 1 + 7 + 1 + 1 + 2);
    let tx = &provenance[1]["entity"][0]["what"]["identifier"];
    assert_eq!(
        (tx["system"].as_str(), tx["value"].as_str().map(str::len)),
        (Some(systems::FABRIC_TRANSACTION), Some(64))
    );
    assert!(exported.unmapped.is_empty(), "{:?}", exported.unmapped);
}

#[test]
fn ledger_facts_map_dispensing_deletion_consents_access_and_roles() {
    let bundle: Value = serde_json::from_slice(&export(&chart()).unwrap().canonical_json().unwrap()).unwrap();
    let all = resources(&bundle);
    let of = |t: &str| all.iter().copied().filter(|r| r["resourceType"] == t).collect::<Vec<_>>();
    let patient_url = bundle["entry"][0]["fullUrl"].as_str().unwrap();

    // The dispensed prescription: the request completed, a dispense by the pharmacist.
    let request = of("MedicationRequest").into_iter().find(|r| r["status"] != "entered-in-error").unwrap();
    assert_eq!(request["status"], "completed");
    let dispense = of("MedicationDispense")[0];
    assert_eq!(dispense["status"], "completed");
    assert_eq!(dispense["authorizingPrescription"][0]["reference"].as_str(), entry_url(&bundle, request));
    assert_eq!(dispense["whenHandedOver"], "2026-11-22T00:23:20Z");

    // The deleted diagnosis: entered in error, content masked, the reason in its Provenance.
    let gone = of("Condition")
        .into_iter()
        .find(|c| c["verificationStatus"]["coding"][0]["code"] == "entered-in-error")
        .unwrap();
    assert!(gone.get("code").and_then(|c| c.get("coding")).is_none(), "no content of a deleted record");
    let url = entry_url(&bundle, gone).unwrap();
    let deletion = of("Provenance").into_iter().find(|p| p["target"][0]["reference"] == url).unwrap();
    assert_eq!(deletion["activity"]["coding"][0]["code"], "DELETE");
    assert_eq!(deletion["reason"][0]["text"], "entered for the wrong patient");

    // Consents: one active with its end date, one inactive once revoked; the patient consents.
    let consents = of("Consent");
    assert_eq!(consents.len(), 2);
    assert_eq!((consents[0]["status"].as_str(), consents[1]["status"].as_str()), (Some("active"), Some("inactive")));
    assert_eq!(consents[0]["provision"]["period"]["end"], "2026-11-29T00:00:00Z");
    assert_eq!(consents[0]["performer"][0]["reference"], patient_url);
    assert_eq!(consents[1]["provision"]["action"].as_array().map(Vec::len), Some(2), "read and write");

    // The access log: who asked, why, granted or not.
    let events = of("AuditEvent");
    assert_eq!(events.len(), 2);
    assert_eq!((events[0]["outcome"].as_str(), events[1]["outcome"].as_str()), (Some("0"), Some("4")));
    assert_eq!(events[0]["purposeOfEvent"][0]["coding"][0]["code"], "second-opinion");
    assert_eq!(events[1]["outcomeDesc"], "basis: not permitted");

    // Every practitioner in each role they acted in.
    let roles: Vec<&str> =
        of("PractitionerRole").iter().map(|r| r["code"][0]["coding"][0]["code"].as_str().unwrap()).collect();
    // The doctor, the lab technician (who wrote as a doctor here), the consented doctor who read, the pharmacist.
    assert_eq!(roles, ["doctor", "doctor", "doctor", "pharmacist"]);
}

#[test]
fn what_the_caller_may_not_read_is_reported() {
    let mut chart = chart();
    chart.consents = None;
    chart.access_log = None;
    let exported = export(&chart).unwrap();
    assert_eq!(exported.unmapped.len(), 2, "{:?}", exported.unmapped);
    assert!(exported.unmapped.iter().any(|u| u.starts_with("consents")));
    assert!(exported.unmapped.iter().any(|u| u.starts_with("the access log")));
}

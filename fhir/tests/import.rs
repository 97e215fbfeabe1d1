//! Bundles from other software read for import, our own export read back,
//! and the bad-input catalogue: each refusal names the resource and element,
//! and a refused bundle yields nothing to write.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chart;

use ehr_api::model::RecordBody;
use ehr_fhir::{FhirError, Import, IssueKind, MAX_BUNDLE_BYTES, export, read_bundle};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FATHER: &str = "tests/fixtures/hl7-r4-examples/Bundle-father.json";
const LIPIDS: &str = "tests/fixtures/hl7-r4-examples/Bundle-lipids.json";

/// A fixture, checked against the hash its README gives.
fn fixture(path: &str, sha256: &str) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), sha256, "{path} differs from HL7's published file");
    bytes
}

fn father() -> Value {
    let bytes = fixture(FATHER, "f145307546d8982f6f69033728844e76a4713c1de63f8df88b24705c2aaadcaa");
    serde_json::from_slice(&bytes).unwrap()
}

fn read(value: &Value) -> Result<Import, FhirError> {
    read_bundle(&serde_json::to_vec(value).unwrap())
}

/// The refusal's issues as (kind, location, message).
fn refused(result: Result<Import, FhirError>) -> Vec<(IssueKind, String, String)> {
    match result {
        Err(FhirError::Refused { issues }) => {
            assert!(!issues.is_empty());
            issues.into_iter().map(|i| (i.kind, i.location, i.message)).collect()
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn hl7s_discharge_summary_imports_what_we_keep_and_reports_the_rest() {
    let import = read(&father()).unwrap();
    let p = &import.patient;
    assert_eq!(p.details.name, "Eve Everywoman");
    assert_eq!(p.details.birth_date, "1955-01-06");
    assert_eq!(p.details.sex, "female");
    assert_eq!(p.details.contact, "555-555-2003");
    assert_eq!(p.patient_id, None, "not one of ours");
    assert_eq!(p.origin.resource, "http://fhir.healthintersections.com.au/open/Patient/d1");

    let bodies: Vec<&RecordBody> = import.records.iter().map(|r| &r.body).collect();
    assert_eq!(bodies.len(), 3, "{bodies:#?}");
    assert!(
        matches!(bodies[0], RecordBody::ClinicalNote { text } if text.starts_with("Reason for admission: Acute Asthmatic attack")),
        "{:?}",
        bodies[0]
    );
    let RecordBody::Prescription { medication, dose, frequency, text } = bodies[1] else { panic!("{:?}", bodies[1]) };
    assert_eq!(medication, "Theophylline 200mg");
    assert!(!dose.is_empty() && !frequency.is_empty(), "{dose:?} {frequency:?}");
    assert_eq!(text, "reason: Management of Asthma");
    assert!(
        matches!(bodies[2], RecordBody::Allergy { substance, .. } if substance == "Doxycycline"),
        "{:?}",
        bodies[2]
    );
    for record in &import.records {
        let origin = record.origin.as_ref().unwrap();
        assert!(origin.resource.starts_with("urn:uuid:"), "{origin:?}");
        assert_eq!(origin.sha256.len(), 64);
    }

    let reported: Vec<String> = import.unmapped.iter().map(|u| format!("{}: {}", u.resource, u.reason)).collect();
    for kind in ["Composition", "Practitioner", "Encounter", "MedicationStatement"] {
        assert!(reported.iter().any(|r| r.contains(kind)), "{kind} not reported: {reported:#?}");
    }
    assert!(reported.iter().any(|r| r.contains("imported without") && r.contains("criticality")), "{reported:#?}");
    assert!(reported.iter().any(|r| r.contains("status unknown at the source")), "{reported:#?}");
}

#[test]
fn reading_is_deterministic_and_origins_follow_content() {
    let bundle = father();
    assert_eq!(read(&bundle).unwrap(), read(&bundle).unwrap());
    let mut changed = bundle.clone();
    changed["entry"][7]["resource"]["code"]["text"] = json!("Minocycline");
    let (a, b) = (read(&bundle).unwrap(), read(&changed).unwrap());
    assert_eq!(a.records[2].origin.as_ref().unwrap().resource, b.records[2].origin.as_ref().unwrap().resource);
    assert_ne!(a.records[2].origin.as_ref().unwrap().sha256, b.records[2].origin.as_ref().unwrap().sha256);
    assert_eq!(a.records[0].origin, b.records[0].origin, "other resources keep their hash");
}

#[test]
fn our_own_export_reads_back_to_the_same_clinical_content() {
    let chart = chart::chart();
    let exported = export(&chart).unwrap();
    let import = read_bundle(&exported.canonical_json().unwrap()).unwrap();
    assert_eq!(import.patient.patient_id.as_ref().map(|p| p.as_str()), Some("P-0001"));
    assert_eq!(import.patient.details.name, chart.patient.details.name);
    assert_eq!(import.patient.details.birth_date, chart.patient.details.birth_date);
    assert_eq!(import.patient.details.contact, chart.patient.details.contact);
    let mut expected: Vec<RecordBody> =
        chart.records.iter().filter(|r| r.meta.deleted.is_none()).map(|r| r.body.clone()).collect();
    let mut got: Vec<RecordBody> = import.records.iter().map(|r| r.body.clone()).collect();
    let key = |b: &RecordBody| serde_json::to_string(b).unwrap();
    expected.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, expected);
    // The CT report's PDF is reported, not silently lost.
    assert!(import.unmapped.iter().any(|u| u.reason.contains("files are not copied")), "{:#?}", import.unmapped);
}

// The bad-input catalogue.

#[test]
fn a_resource_that_is_not_a_bundle_is_refused() {
    let issues = refused(read(&json!({"resourceType": "Patient", "id": "x"})));
    assert_eq!(issues[0].0, IssueKind::Structure);
    assert_eq!(issues[0].1, "resourceType");
    assert!(issues[0].2.contains("\"Patient\""), "{issues:?}");
}

#[test]
fn malformed_json_is_refused_with_its_position() {
    let issues = refused(read_bundle(b"{\"resourceType\": \"Bundle\", \"type\": "));
    assert_eq!(issues[0].1, "Bundle");
    assert!(issues[0].2.starts_with("is not JSON") && issues[0].2.contains("line 1"), "{issues:?}");
}

#[test]
fn a_condition_without_subject_is_refused_naming_the_element() {
    let mut bundle = father();
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000001",
        "resource": {"resourceType": "Condition", "id": "c1",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45"}]}}
    }));
    let issues = refused(read(&bundle));
    assert!(
        issues.iter().any(|(k, l, m)| *k == IssueKind::Required
            && l == "Bundle.entry[8].resource(Condition/c1).subject"
            && m.contains("subject")),
        "{issues:#?}"
    );
}

#[test]
fn an_unknown_code_system_in_a_condition_is_refused() {
    let mut bundle = father();
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000002",
        "resource": {"resourceType": "Condition", "id": "c2",
            "subject": {"reference": "http://fhir.healthintersections.com.au/open/Patient/d1"},
            "code": {"coding": [{"system": "urn:example:house-codes", "code": "ASTH-1"}]}}
    }));
    let issues = refused(read(&bundle));
    assert_eq!(issues.len(), 1, "{issues:#?}");
    assert_eq!(issues[0].0, IssueKind::CodeInvalid);
    assert_eq!(issues[0].1, "Bundle.entry[8].resource(Condition/c2).code.coding[0].system");
    assert!(issues[0].2.contains("urn:example:house-codes") && issues[0].2.contains("ICD-10"), "{issues:?}");
}

#[test]
fn a_condition_coded_only_in_snomed_is_reported_not_refused() {
    let mut bundle = father();
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000003",
        "resource": {"resourceType": "Condition", "id": "c3",
            "subject": {"reference": "http://fhir.healthintersections.com.au/open/Patient/d1"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "195967001"}], "text": "Asthma"}}
    }));
    let import = read(&bundle).unwrap();
    assert_eq!(import.records.len(), 3);
    assert!(
        import.unmapped.iter().any(|u| u.resource == "Condition/c3" && u.reason.contains("SNOMED CT 195967001")),
        "{:#?}",
        import.unmapped
    );
}

#[test]
fn an_icd10_code_of_the_wrong_shape_is_refused() {
    let mut bundle = father();
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000004",
        "resource": {"resourceType": "Condition", "id": "c4",
            "subject": {"reference": "http://fhir.healthintersections.com.au/open/Patient/d1"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "asthma"}]}}
    }));
    let issues = refused(read(&bundle));
    assert!(issues[0].1.contains("Condition/c4") && issues[0].2.contains("icd10"), "{issues:?}");
}

#[test]
fn a_50_mb_bundle_is_refused_before_it_is_parsed() {
    let mut bytes = br#"{"resourceType":"Bundle","type":"collection","entry":[],"padding":""#.to_vec();
    bytes.resize(50 * 1024 * 1024, b'x');
    bytes.extend_from_slice(b"\"}");
    assert!(bytes.len() > MAX_BUNDLE_BYTES);
    let issues = refused(read_bundle(&bytes));
    assert_eq!(issues[0].0, IssueKind::TooLong);
    assert!(issues[0].2.contains("split"), "{issues:?}");
}

#[test]
fn references_to_resources_not_in_the_bundle_are_refused() {
    let bytes = fixture(LIPIDS, "042176c9daef677ae73c58593e992ee08b65dfc82ca78458e0aacdcf9d402389");
    let issues = refused(read_bundle(&bytes));
    let missing: Vec<&(IssueKind, String, String)> = issues.iter().filter(|i| i.0 == IssueKind::NotFound).collect();
    assert!(!missing.is_empty(), "{issues:#?}");
    assert!(
        missing.iter().any(|(_, l, m)| l.ends_with(".subject.reference") && m.contains("Patient/pat2")),
        "{issues:#?}"
    );
    // And the bundle holds no Patient at all, which is said too.
    assert!(issues.iter().any(|(_, _, m)| m.contains("holds no Patient")), "{issues:#?}");
}

#[test]
fn a_bundle_of_two_patients_is_refused() {
    let mut bundle = father();
    let mut second = bundle["entry"][2].clone();
    second["fullUrl"] = json!("urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000005");
    second["resource"]["id"] = json!("d2");
    bundle["entry"].as_array_mut().unwrap().push(second);
    let issues = refused(read(&bundle));
    assert!(issues.iter().any(|(_, l, m)| l == "Bundle.entry" && m.contains("2 Patients")), "{issues:#?}");
}

#[test]
fn a_bundle_type_we_do_not_read_is_refused() {
    let mut bundle = father();
    bundle["type"] = json!("history");
    let issues = refused(read(&bundle));
    assert_eq!(issues[0].1, "Bundle.type");
}

#[test]
fn a_patient_without_birth_date_is_refused() {
    let mut bundle = father();
    bundle["entry"][2]["resource"].as_object_mut().unwrap().remove("birthDate");
    let issues = refused(read(&bundle));
    assert_eq!(issues[0].1, "Bundle.entry[2].resource(Patient/d1).birthDate");
}

#[test]
fn a_note_that_is_not_base64_is_refused() {
    let mut bundle = father();
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000006",
        "resource": {"resourceType": "DocumentReference", "id": "n1", "status": "current",
            "subject": {"reference": "http://fhir.healthintersections.com.au/open/Patient/d1"},
            "content": [{"attachment": {"contentType": "text/plain", "data": "not base64!"}}]}
    }));
    let issues = refused(read(&bundle));
    assert!(issues[0].1.contains("DocumentReference/n1") && issues[0].2.contains("base64"), "{issues:?}");
}

#[test]
fn a_refusal_is_a_fhir_operation_outcome() {
    let Err(error) = read(&json!({"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:x"}]}))
    else {
        panic!("an entry without a resource was read");
    };
    let outcome = error.operation_outcome();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["severity"], "error");
    assert_eq!(outcome["issue"][0]["code"], "required");
    assert_eq!(outcome["issue"][0]["expression"][0], "Bundle.entry[0]");
    assert!(outcome["issue"][0]["diagnostics"].as_str().unwrap().contains("no resource"));
}

#[test]
fn two_entries_with_one_full_url_are_refused() {
    let mut bundle = father();
    let mut twin = bundle["entry"][7].clone();
    twin["resource"]["code"]["text"] = json!("Minocycline");
    bundle["entry"].as_array_mut().unwrap().push(twin);
    let issues = refused(read(&bundle));
    assert!(issues.iter().any(|(_, l, m)| l == "Bundle.entry[8].fullUrl" && m.contains("entry 7")), "{issues:#?}");
}

#[test]
fn a_record_that_could_not_be_recognised_again_is_refused() {
    // No fullUrl, and no bundle identifier to name it by its type and id.
    let mut bundle = father();
    bundle.as_object_mut().unwrap().remove("identifier");
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "resource": {"resourceType": "AllergyIntolerance", "id": "a1", "code": {"text": "latex"},
            "patient": {"reference": "http://fhir.healthintersections.com.au/open/Patient/d1"}}
    }));
    let issues = refused(read(&bundle));
    assert!(issues.iter().any(|(_, l, m)| l.starts_with("Bundle.entry[8]") && m.contains("fullUrl")), "{issues:#?}");
    // With a bundle identifier, its type and id name it.
    bundle["identifier"] = json!({"system": "urn:example:exports", "value": "42"});
    let import = read(&bundle).unwrap();
    let latex = import
        .records
        .iter()
        .find(|r| matches!(&r.body, RecordBody::Allergy { substance, .. } if substance == "latex"));
    assert_eq!(latex.unwrap().origin.as_ref().unwrap().resource, "urn:example:exports|42#AllergyIntolerance/a1");
}

#[test]
fn a_patient_inside_a_resource_is_not_the_bundles_patient() {
    let mut bundle = father();
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000007",
        "resource": {"resourceType": "AllergyIntolerance", "id": "a2",
            "contained": [{"resourceType": "Patient", "id": "p"}],
            "patient": {"reference": "#p"}, "code": {"text": "latex"}}
    }));
    let issues = refused(read(&bundle));
    assert!(issues.iter().any(|(_, l, m)| l.ends_with("(AllergyIntolerance/a2).patient") && m.contains("contained")));
}

/// A lab report whose results are read into it: each once, and a changed
/// result changes the report's origin hash.
#[test]
fn a_reports_results_count_once_and_their_changes_count() {
    let mut bundle = father();
    let patient = "http://fhir.healthintersections.com.au/open/Patient/d1";
    let entries = bundle["entry"].as_array_mut().unwrap();
    entries.push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000008",
        "resource": {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "Hb"},
            "subject": {"reference": patient}, "valueString": "13 g/dL"}
    }));
    let same = json!({"reference": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000008"});
    entries.push(json!({
        "fullUrl": "urn:uuid:0f6d7e4c-8a9b-4c2d-9e1f-000000000009",
        "resource": {"resourceType": "DiagnosticReport", "id": "r1", "status": "final", "code": {"text": "CBC"},
            "subject": {"reference": patient}, "result": vec![same; 1000]}
    }));
    let import = read(&bundle).unwrap();
    let report = import.records.iter().find(|r| matches!(r.body, RecordBody::LabReport { .. })).unwrap();
    assert_eq!(report.body, RecordBody::LabReport { test: "CBC".into(), text: "13 g/dL".into() });
    assert_eq!(import.records.len(), 4, "the Observation is part of the report, not a record of its own");
    let mut changed = bundle.clone();
    changed["entry"][8]["resource"]["valueString"] = json!("9 g/dL");
    let again = read(&changed).unwrap();
    let report_again = again.records.iter().find(|r| matches!(r.body, RecordBody::LabReport { .. })).unwrap();
    assert_ne!(report.origin.as_ref().unwrap().sha256, report_again.origin.as_ref().unwrap().sha256);
}

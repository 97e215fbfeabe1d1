//! A chart in, a `collection` Bundle out.

use std::collections::BTreeMap;

use ehr_api::model::{RecordBody, RecordMeta};
use ehr_api::views::{PatientView, RecordView};
use fhir::r4::coded::Coded;
use fhir::r4::codes::BundleType;
use fhir::r4::resources::bundle::BundleEntry;
use fhir::r4::resources::{Bundle, Resource};
use fhir::r4::types::Uri;
use serde_json::Value;

use crate::ids::ResourceId;
use crate::resources::{self, Common, text};
use crate::{FhirError, Result};

/// What the caller may read about one patient, as the contract returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The patient's record and private details.
    pub patient: PatientView,
    /// Their records with current contents, in any order.
    pub records: Vec<RecordView>,
    /// Records deleted as written in error, whose contents are not readable.
    pub deleted: Vec<RecordMeta>,
}

/// A chart as FHIR.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The `collection` Bundle.
    pub bundle: Bundle,
    /// Records this version cannot map yet (deleted ones: `R-… (deleted:
    /// reason)`), so that nobody mistakes the bundle for the whole chart.
    pub unmapped: Vec<String>,
}

impl Export {
    /// The bundle as canonical JSON: object keys sorted, no insignificant
    /// whitespace. The same chart gives the same bytes.
    pub fn canonical_json(&self) -> Result<Vec<u8>> {
        let value = json("the bundle", &Resource::Bundle(Box::new(self.bundle.clone())))?;
        serde_json::to_vec(&sorted(value))
            .map_err(|e| FhirError::Json { what: "the bundle".into(), message: e.to_string() })
    }
}

/// Exports `chart`: the patient, the organisations and people who acted, a
/// resource per mapped record and a `Provenance` for each of those.
pub fn export(chart: &Chart) -> Result<Export> {
    let mut records: Vec<&RecordView> = chart.records.iter().collect();
    records.sort_by(|a, b| (a.meta.created.at, &a.meta.id).cmp(&(b.meta.created.at, &b.meta.id)));

    let mut entries = Entries::default();
    let (patient_id, patient) = resources::patient(&chart.patient);
    entries.organisation(&chart.patient.record.home_msp)?;
    entries.person(&chart.patient.record.created.actor)?;
    entries.person(&chart.patient.record.updated.actor)?;
    let mut clinical = vec![(patient_id.clone(), json("the Patient", &Resource::Patient(Box::new(patient)))?)];
    let mut provenance = vec![resources::provenance(&patient_id, &chart.patient.record.updated)?];
    let mut unmapped: Vec<String> = chart.deleted.iter().map(deleted).collect();
    for record in records {
        if record.meta.deleted.is_some() {
            unmapped.push(deleted(&record.meta));
            continue;
        }
        entries.person(&record.meta.created.actor)?;
        entries.person(&record.meta.updated.actor)?;
        let made = clinical_resources(record, &patient_id)?;
        if let Some((id, _)) = made.first() {
            provenance.push(resources::provenance(id, &record.meta.updated)?);
        }
        clinical.extend(made);
    }
    let mut entry: Vec<BundleEntry> = Vec::new();
    for (id, resource) in clinical.into_iter().chain(entries.into_sorted()) {
        entry.push(bundle_entry(&id, resource));
    }
    for (id, p) in provenance {
        entry.push(bundle_entry(&id, json("a Provenance", &Resource::Provenance(Box::new(p)))?));
    }
    let bundle = Bundle {
        id: Some(text(&ResourceId::of("Bundle", chart.patient.record.id.as_str()).uuid)),
        r#type: Coded::Known(BundleType::Collection),
        entry,
        ..Default::default()
    };
    unmapped.sort();
    Ok(Export { bundle, unmapped })
}

fn deleted(meta: &RecordMeta) -> String {
    let reason = meta.deleted.as_ref().map(|t| t.reason.as_str()).unwrap_or("no reason kept");
    format!("{} (deleted: {reason})", meta.id)
}

/// The resources for one record: the first is the record itself (the one
/// its Provenance names); a lab report adds its Observation.
fn clinical_resources(record: &RecordView, patient: &ResourceId) -> Result<Vec<(ResourceId, Value)>> {
    let (kind, value) = match &record.body {
        RecordBody::Diagnosis { icd10, text } => {
            let c = Common::of("Condition", record, patient)?;
            (
                c.id.clone(),
                json("a Condition", &Resource::Condition(Box::new(resources::condition(record, &c, icd10, text))))?,
            )
        }
        RecordBody::Allergy { substance, text } => {
            let c = Common::of("AllergyIntolerance", record, patient)?;
            (
                c.id.clone(),
                json(
                    "an AllergyIntolerance",
                    &Resource::AllergyIntolerance(Box::new(resources::allergy(record, &c, substance, text))),
                )?,
            )
        }
        RecordBody::Prescription { medication, dose, frequency, text } => {
            let c = Common::of("MedicationRequest", record, patient)?;
            let request = resources::medication_request(record, &c, medication, dose, frequency, text);
            (c.id.clone(), json("a MedicationRequest", &Resource::MedicationRequest(Box::new(request)))?)
        }
        RecordBody::SideEffect { medication, text } => {
            let c = Common::of("AdverseEvent", record, patient)?;
            let event = resources::adverse_event(record, &c, medication, text);
            (c.id.clone(), json("an AdverseEvent", &Resource::AdverseEvent(Box::new(event)))?)
        }
        RecordBody::LabReport { test, text } => {
            let c = Common::of("DiagnosticReport", record, patient)?;
            let (result_id, result) = resources::observation(record, &c, test, text);
            let report = resources::diagnostic_report(record, &c, test, text, Some(&result_id))?;
            let observation = (result_id, json("an Observation", &Resource::Observation(Box::new(result)))?);
            return Ok(vec![
                (c.id.clone(), json("a DiagnosticReport", &Resource::DiagnosticReport(Box::new(report)))?),
                observation,
            ]);
        }
        RecordBody::ImagingReport { modality, text } => {
            let c = Common::of("DiagnosticReport", record, patient)?;
            let report = resources::diagnostic_report(record, &c, &format!("{modality} imaging"), text, None)?;
            (c.id.clone(), json("a DiagnosticReport", &Resource::DiagnosticReport(Box::new(report)))?)
        }
        RecordBody::ClinicalNote { text } => {
            let c = Common::of("DocumentReference", record, patient)?;
            let document = resources::document_reference(record, &c, text)?;
            (c.id.clone(), json("a DocumentReference", &Resource::DocumentReference(Box::new(document)))?)
        }
    };
    Ok(vec![(kind, value)])
}

/// The organisations and people a chart names, each once, in a fixed order.
#[derive(Default)]
struct Entries {
    organisations: BTreeMap<ResourceId, Value>,
    people: BTreeMap<ResourceId, Value>,
}

impl Entries {
    fn organisation(&mut self, msp: &str) -> Result<()> {
        let (id, org) = resources::organization(msp);
        if let std::collections::btree_map::Entry::Vacant(slot) = self.organisations.entry(id) {
            slot.insert(json("an Organization", &Resource::Organization(Box::new(org)))?);
        }
        Ok(())
    }

    fn person(&mut self, person: &ehr_api::model::Person) -> Result<()> {
        self.organisation(&person.msp)?;
        let (id, practitioner) = resources::practitioner(person);
        if let std::collections::btree_map::Entry::Vacant(slot) = self.people.entry(id) {
            slot.insert(json("a Practitioner", &Resource::Practitioner(Box::new(practitioner)))?);
        }
        Ok(())
    }

    fn into_sorted(self) -> impl Iterator<Item = (ResourceId, Value)> {
        self.organisations.into_iter().chain(self.people)
    }
}

fn bundle_entry(id: &ResourceId, resource: Value) -> BundleEntry {
    BundleEntry { full_url: Some(Uri(id.url())), resource: Some(resource), ..Default::default() }
}

/// A resource as JSON, with its `resourceType` (which only the `Resource` enum writes).
fn json(what: &str, value: &Resource) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| FhirError::Json { what: what.into(), message: e.to_string() })
}

/// `value` with every object's keys in sorted order, whatever order the
/// serialiser produced.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

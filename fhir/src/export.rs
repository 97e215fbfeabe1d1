//! A chart in, a `collection` Bundle out.

use std::collections::{BTreeMap, btree_map};

use ehr_api::model::{AccessEntry, Consent, Person, PrescriptionStatus, RecordBody, RecordMeta, Role, Stamp};
use ehr_api::views::{PatientView, RecordView};
use fhir::r4::coded::Coded;
use fhir::r4::codes::BundleType;
use fhir::r4::resources::bundle::BundleEntry;
use fhir::r4::resources::{Bundle, Resource};
use fhir::r4::types::Uri;
use serde_json::Value;

use crate::ids::ResourceId;
use crate::ledger;
use crate::resources::{self, Common, Service, Why, text};
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
    /// The ledger's status of each prescription the caller could check
    /// (doctors and pharmacists can); a prescription without one exports
    /// with status `unknown`.
    pub prescriptions: Vec<PrescriptionStatus>,
    /// The patient's consents, or `None` when the caller may not list them
    /// (only the patient and their attending doctors may).
    pub consents: Option<Vec<Consent>>,
    /// The patient's access log, or `None` when the caller may not read it
    /// (only the patient and regulators may).
    pub access_log: Option<Vec<AccessEntry>>,
}

/// A chart as FHIR.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The `collection` Bundle.
    pub bundle: Bundle,
    /// What the bundle leaves out and why (a deleted side effect, consents
    /// the caller may not list), so that nobody mistakes it for more than it is.
    pub unmapped: Vec<String>,
}

impl Export {
    /// The bundle as canonical JSON: object keys sorted, no insignificant
    /// whitespace. The same chart gives the same bytes.
    pub fn canonical_json(&self) -> Result<Vec<u8>> {
        let value = json("the bundle", &Resource::Bundle(Box::new(self.bundle.clone())))?;
        crate::canonical::bytes("the bundle", value)
    }
}

/// Exports `chart`: the patient, a resource per record (deleted ones as
/// `entered-in-error`), dispensing, consents and the access log when the
/// chart holds them, the organisations, people and roles that acted, and a
/// `Provenance` for each version written.
pub fn export(chart: &Chart) -> Result<Export> {
    let mut records: Vec<&RecordView> = chart.records.iter().filter(|r| r.meta.deleted.is_none()).collect();
    records.sort_by(|a, b| (a.meta.created.at, &a.meta.id).cmp(&(b.meta.created.at, &b.meta.id)));
    let mut deleted: Vec<&RecordMeta> =
        chart.records.iter().filter(|r| r.meta.deleted.is_some()).map(|r| &r.meta).chain(&chart.deleted).collect();
    deleted.sort_by(|a, b| (a.created.at, &a.id).cmp(&(b.created.at, &b.id)));
    deleted.dedup_by(|a, b| a.id == b.id);

    let (patient_id, patient) = resources::patient(&chart.patient);
    let mut entries = Entries::new(&patient_id);
    entries.organisation(&chart.patient.record.home_msp)?;
    entries.actor(&chart.patient.record.created)?;
    let mut clinical = vec![(patient_id.clone(), json("the Patient", &Resource::Patient(Box::new(patient)))?)];
    let mut provenance = Vec::new();
    let who = entries.actor(&chart.patient.record.updated)?;
    provenance.push(resources::provenance(&patient_id, &chart.patient.record.updated, &who, Why::default())?);
    let mut unmapped = Vec::new();
    let prescriptions: BTreeMap<&str, &PrescriptionStatus> =
        chart.prescriptions.iter().map(|p| (p.record_id.as_str(), p)).collect();

    for record in records {
        entries.actor(&record.meta.created)?;
        let who = entries.actor(&record.meta.updated)?;
        let status = prescriptions.get(record.meta.id.as_str()).copied();
        let made = clinical_resources(record, &patient_id, status)?;
        if let Some((id, _)) = made.first() {
            let why = Why { origin: record.origin.as_ref(), ..Why::default() };
            let (pid, mut p) = resources::provenance(id, &record.meta.updated, &who, why)?;
            // A lab report's Observation and an imaging report's study were written with it.
            for (part, _) in made.iter().skip(1) {
                p.target.push(resources::reference(part));
            }
            provenance.push((pid, p));
            if let (Some(p), RecordBody::Prescription { medication, .. }) = (status, &record.body)
                && let Some(dispensed) = &p.dispensed
            {
                let pharmacist = entries.actor(dispensed)?;
                let (did, dispense) = ledger::medication_dispense(
                    &record.meta.id,
                    medication,
                    id,
                    &patient_id,
                    &pharmacist,
                    dispensed.at,
                )?;
                provenance.push(resources::provenance(&did, dispensed, &pharmacist, Why::default())?);
                clinical.push((did, json("a MedicationDispense", &Resource::MedicationDispense(Box::new(dispense)))?));
            }
        }
        clinical.extend(made);
    }
    for meta in deleted {
        let Some(tombstone) = &meta.deleted else { continue };
        match ledger::entered_in_error(meta, &patient_id)? {
            Some((id, resource)) => {
                entries.actor(&meta.created)?;
                let who = entries.actor(&tombstone.stamp)?;
                let why = Why { deleted: Some(&tombstone.reason), ..Why::default() };
                provenance.push(resources::provenance(&id, &tombstone.stamp, &who, why)?);
                clinical.push((id, json("a record entered in error", &resource)?));
            }
            None => unmapped.push(format!(
                "{} (a side effect deleted as entered in error: {}; an R4 AdverseEvent has no status to say so)",
                meta.id, tombstone.reason
            )),
        }
    }
    match &chart.consents {
        Some(consents) => {
            let mut consents: Vec<&Consent> = consents.iter().collect();
            consents.sort_by(|a, b| (a.granted.at, &a.granted.tx_id).cmp(&(b.granted.at, &b.granted.tx_id)));
            for c in consents {
                let grantee = match ledger::grantee_key(&c.grantee) {
                    (_, Some(person)) => entries.person(person)?,
                    (msp, None) => entries.organisation(msp)?,
                };
                let (id, consent) = ledger::consent(c, &patient_id, &grantee)?;
                let last = c.revoked.as_ref().unwrap_or(&c.granted);
                let who = entries.actor(last)?;
                provenance.push(resources::provenance(&id, last, &who, Why::default())?);
                clinical.push((id, json("a Consent", &Resource::Consent(Box::new(consent)))?));
            }
        }
        None => unmapped.push("consents (only the patient and their attending doctors may list them)".into()),
    }
    match &chart.access_log {
        Some(log) => {
            let mut log: Vec<&AccessEntry> = log.iter().collect();
            log.sort_by(|a, b| (a.stamp.at, &a.stamp.tx_id).cmp(&(b.stamp.at, &b.stamp.tx_id)));
            for e in log {
                let who = entries.actor(&e.stamp)?;
                let (id, event) = ledger::audit_event(e, &patient_id, &who)?;
                clinical.push((id, json("an AuditEvent", &Resource::AuditEvent(Box::new(event)))?));
            }
        }
        None => unmapped.push("the access log (only the patient and regulators may read it)".into()),
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

/// The resources for one record: the first is the record itself (the one
/// its Provenance names); a lab report adds its Observation, an imaging
/// report its ImagingStudy.
fn clinical_resources(
    record: &RecordView,
    patient: &ResourceId,
    prescription: Option<&PrescriptionStatus>,
) -> Result<Vec<(ResourceId, Value)>> {
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
            let status = ledger::request_status(prescription.map(|p| p.status));
            let request = resources::medication_request(record, &c, medication, dose, frequency, text, status);
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
            let report =
                resources::diagnostic_report(record, &c, Service::Laboratory, test, text, Some(&result_id), None)?;
            let observation = (result_id, json("an Observation", &Resource::Observation(Box::new(result)))?);
            return Ok(vec![
                (c.id.clone(), json("a DiagnosticReport", &Resource::DiagnosticReport(Box::new(report)))?),
                observation,
            ]);
        }
        RecordBody::ImagingReport { modality, text } => {
            let c = Common::of("DiagnosticReport", record, patient)?;
            let code = format!("{modality} imaging");
            let (study_id, study) = resources::imaging_study(record, &c, modality);
            let report =
                resources::diagnostic_report(record, &c, Service::Radiology, &code, text, None, Some(&study_id))?;
            return Ok(vec![
                (c.id.clone(), json("a DiagnosticReport", &Resource::DiagnosticReport(Box::new(report)))?),
                (study_id, json("an ImagingStudy", &Resource::ImagingStudy(Box::new(study)))?),
            ]);
        }
        RecordBody::ClinicalNote { text } => {
            let c = Common::of("DocumentReference", record, patient)?;
            let document = resources::document_reference(record, &c, text)?;
            (c.id.clone(), json("a DocumentReference", &Resource::DocumentReference(Box::new(document)))?)
        }
    };
    Ok(vec![(kind, value)])
}

/// The organisations, people and their roles a chart names, each once, in a fixed order.
struct Entries {
    patient: ResourceId,
    organisations: BTreeMap<ResourceId, Value>,
    people: BTreeMap<ResourceId, Value>,
    roles: BTreeMap<ResourceId, Value>,
}

impl Entries {
    fn new(patient: &ResourceId) -> Self {
        Entries {
            patient: patient.clone(),
            organisations: BTreeMap::new(),
            people: BTreeMap::new(),
            roles: BTreeMap::new(),
        }
    }

    fn organisation(&mut self, msp: &str) -> Result<ResourceId> {
        let (id, org) = resources::organization(msp);
        if let btree_map::Entry::Vacant(slot) = self.organisations.entry(id.clone()) {
            slot.insert(json("an Organization", &Resource::Organization(Box::new(org)))?);
        }
        Ok(id)
    }

    fn person(&mut self, person: &Person) -> Result<ResourceId> {
        self.organisation(&person.msp)?;
        let (id, practitioner) = resources::practitioner(person);
        if let btree_map::Entry::Vacant(slot) = self.people.entry(id.clone()) {
            slot.insert(json("a Practitioner", &Resource::Practitioner(Box::new(practitioner)))?);
        }
        Ok(id)
    }

    /// Who acted under `stamp`: the patient, when they acted for themselves,
    /// else a practitioner in their role at their organisation.
    fn actor(&mut self, stamp: &Stamp) -> Result<ResourceId> {
        if stamp.role == Role::Patient {
            return Ok(self.patient.clone());
        }
        let who = self.person(&stamp.actor)?;
        let (id, role) = ledger::practitioner_role(&stamp.actor, stamp.role, &who);
        if let btree_map::Entry::Vacant(slot) = self.roles.entry(id) {
            slot.insert(json("a PractitionerRole", &Resource::PractitionerRole(Box::new(role)))?);
        }
        Ok(who)
    }

    fn into_sorted(self) -> impl Iterator<Item = (ResourceId, Value)> {
        self.organisations.into_iter().chain(self.people).chain(self.roles)
    }
}

fn bundle_entry(id: &ResourceId, resource: Value) -> BundleEntry {
    BundleEntry { full_url: Some(Uri(id.url())), resource: Some(resource), ..Default::default() }
}

/// A resource as JSON, with its `resourceType` (which only the `Resource` enum writes).
fn json(what: &str, value: &Resource) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| FhirError::Json { what: what.into(), message: e.to_string() })
}

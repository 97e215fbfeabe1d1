//! One function per FHIR resource the export writes, from our types to the
//! `fhir` crate's R4 structs. No function here reads a clock or iterates an
//! unordered collection: everything comes from its arguments.

use ehr_api::model::{Attachment, Person, Stamp};
use ehr_api::views::{PatientView, RecordView};
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{
    AdministrativeGender, ContactPointSystem, MedicationrequestIntent, MedicationrequestStatus, ProvenanceEntityRole,
};
use fhir::r4::codes::{
    AdverseEventActuality, DiagnosticReportStatus, DocumentReferenceStatus, ImagingstudyStatus, ObservationStatus,
};
use fhir::r4::resources::adverse_event::AdverseEventSuspectEntity;
use fhir::r4::resources::allergy_intolerance::AllergyIntoleranceReaction;
use fhir::r4::resources::document_reference::DocumentReferenceContent;
use fhir::r4::resources::medication_request::MedicationRequestMedication;
use fhir::r4::resources::observation::{ObservationEffective, ObservationValue};
use fhir::r4::resources::provenance::{ProvenanceAgent, ProvenanceEntity};
use fhir::r4::resources::{
    AdverseEvent, AllergyIntolerance, Condition, DiagnosticReport, DocumentReference, ImagingStudy, MedicationRequest,
    Observation, Organization, Patient, Practitioner, Provenance,
};
use fhir::r4::types::extension::ExtensionValue;
use fhir::r4::types::{
    Address, Annotation, CodeableConcept, Coding, ContactPoint, Date, DateTime, Dosage, HumanName, Id, Identifier,
    Instant, Markdown, Meta, Reference, String as FhirString, Uri,
};
use fhir::r4::types::{Attachment as FhirAttachment, Base64Binary, Extension, UnsignedInt};
use vec1::Vec1;

use crate::ids::{ResourceId, instant, systems};
use crate::{FhirError, Result};

pub(crate) fn text(value: &str) -> FhirString {
    FhirString(value.to_owned())
}

pub(crate) fn reference<T>(to: &ResourceId) -> Reference<T> {
    Reference { reference: Some(text(&to.url())), ..Default::default() }
}

pub(crate) fn identifier(system: &str, value: &str) -> Identifier {
    Identifier { system: Some(Uri(system.to_owned())), value: Some(text(value)), ..Default::default() }
}

pub(crate) fn coding(system: &str, code: &str) -> Coding {
    Coding {
        system: Some(Uri(system.to_owned())),
        code: Some(fhir::r4::types::Code(code.to_owned())),
        ..Default::default()
    }
}

pub(crate) fn concept(system: &str, code: &str) -> CodeableConcept {
    CodeableConcept { coding: vec![coding(system, code)], ..Default::default() }
}

pub(crate) fn described(words: &str) -> CodeableConcept {
    CodeableConcept { text: Some(text(words)), ..Default::default() }
}

fn notes(words: &str) -> Vec<Annotation> {
    if words.is_empty() {
        Vec::new()
    } else {
        vec![Annotation { text: Markdown(words.to_owned()), ..Default::default() }]
    }
}

pub(crate) fn meta(v: u32) -> Meta {
    Meta { version_id: Some(Id(v.to_string())), ..Default::default() }
}

fn version(v: u32) -> Option<Meta> {
    Some(meta(v))
}

/// An organisation: a Fabric MSP.
pub(crate) fn organization(msp: &str) -> (ResourceId, Organization) {
    let id = ResourceId::of("Organization", msp);
    let org = Organization {
        id: Some(text(&id.uuid)),
        identifier: vec![identifier(systems::MSP_ID, msp)],
        name: Some(text(msp)),
        ..Default::default()
    };
    (id, org)
}

/// A person who acted: a Fabric identity, named by their certificate's common name.
pub(crate) fn practitioner(person: &Person) -> (ResourceId, Practitioner) {
    let id = ResourceId::of("Practitioner", &format!("{}\0{}", person.msp, person.id));
    let name = HumanName { text: Some(text(&person.display_name())), ..Default::default() };
    let practitioner = Practitioner {
        id: Some(text(&id.uuid)),
        identifier: vec![identifier(systems::FABRIC_IDENTITY, &person.id)],
        name: vec![name],
        ..Default::default()
    };
    (id, practitioner)
}

/// The patient: details from the private copy, identity from the ledger.
pub(crate) fn patient(view: &PatientView) -> (ResourceId, Patient) {
    let id = ResourceId::of("Patient", view.record.id.as_str());
    let d = &view.details;
    let gender = match d.sex.as_str() {
        "female" => Some(AdministrativeGender::Female),
        "male" => Some(AdministrativeGender::Male),
        "other" => Some(AdministrativeGender::Other),
        "unknown" => Some(AdministrativeGender::Unknown),
        _ => None,
    };
    let (telecom, address) = contact(&d.contact);
    let (home, _) = organization(&view.record.home_msp);
    let patient = Patient {
        id: Some(text(&id.uuid)),
        meta: version(view.record.version),
        identifier: vec![identifier(systems::PATIENT_ID, view.record.id.as_str())],
        name: vec![HumanName { text: Some(text(&d.name)), ..Default::default() }],
        gender: gender.map(Coded::Known),
        birth_date: Some(Date(d.birth_date.clone())),
        telecom,
        address,
        managing_organization: Some(reference(&home)),
        ..Default::default()
    };
    (id, patient)
}

/// Our one free-text contact field: an e-mail address, a phone number, or
/// else a postal address.
fn contact(value: &str) -> (Vec<ContactPoint>, Vec<Address>) {
    let value = value.trim();
    if value.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let phone = value.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c));
    let system = if value.contains('@') && !value.contains(' ') {
        ContactPointSystem::Email
    } else if phone {
        ContactPointSystem::Phone
    } else {
        return (Vec::new(), vec![Address { text: Some(text(value)), ..Default::default() }]);
    };
    let point = ContactPoint { system: Some(Coded::Known(system)), value: Some(text(value)), ..Default::default() };
    (vec![point], Vec::new())
}

/// What every clinical resource shares: its id, version, our record id, the
/// patient, when and by whom it was last written.
pub(crate) struct Common {
    pub(crate) id: ResourceId,
    pub(crate) patient: ResourceId,
    pub(crate) recorder: ResourceId,
    pub(crate) recorded: String,
}

impl Common {
    pub(crate) fn of(kind: &str, record: &RecordView, patient: &ResourceId) -> Result<Common> {
        Ok(Common {
            id: ResourceId::of(kind, &record.meta.id),
            patient: patient.clone(),
            recorder: practitioner(&record.meta.created.actor).0,
            recorded: instant(record.meta.created.at)?,
        })
    }
}

/// A diagnosis: ICD-10 in `code.coding`, the free text in `code.text`.
pub(crate) fn condition(record: &RecordView, c: &Common, icd10: &str, words: &str) -> Condition {
    let code = CodeableConcept {
        coding: vec![coding(systems::ICD10, icd10)],
        text: (!words.is_empty()).then(|| text(words)),
        ..Default::default()
    };
    Condition {
        id: Some(text(&c.id.uuid)),
        meta: version(record.meta.version),
        identifier: vec![identifier(systems::RECORD_ID, &record.meta.id)],
        clinical_status: Some(concept(systems::CONDITION_CLINICAL, "active")),
        verification_status: Some(concept(systems::CONDITION_VERIFICATION, "confirmed")),
        category: vec![concept(systems::CONDITION_CATEGORY, "encounter-diagnosis")],
        code: Some(code),
        subject: reference(&c.patient),
        recorded_date: Some(DateTime(c.recorded.clone())),
        recorder: Some(reference(&c.recorder)),
        ..Default::default()
    }
}

/// An allergy: the substance as `code`, the reaction as its manifestation.
pub(crate) fn allergy(record: &RecordView, c: &Common, substance: &str, words: &str) -> AllergyIntolerance {
    let reaction = (!words.is_empty()).then(|| AllergyIntoleranceReaction {
        id: None,
        extension: Vec::new(),
        modifier_extension: Vec::new(),
        substance: None,
        manifestation: Vec1::new(described(words)),
        description: None,
        description_ext: None,
        onset: None,
        onset_ext: None,
        severity: None,
        severity_ext: None,
        exposure_route: None,
        note: Vec::new(),
    });
    AllergyIntolerance {
        id: Some(text(&c.id.uuid)),
        meta: version(record.meta.version),
        identifier: vec![identifier(systems::RECORD_ID, &record.meta.id)],
        clinical_status: Some(concept(systems::ALLERGY_CLINICAL, "active")),
        verification_status: Some(concept(systems::ALLERGY_VERIFICATION, "confirmed")),
        code: Some(described(substance)),
        patient: reference(&c.patient),
        recorded_date: Some(DateTime(c.recorded.clone())),
        recorder: Some(reference(&c.recorder)),
        reaction: reaction.into_iter().collect(),
        ..Default::default()
    }
}

/// A prescription: the medication by name, dose and frequency as the dosage text.
pub(crate) fn medication_request(
    record: &RecordView,
    c: &Common,
    medication: &str,
    dose: &str,
    frequency: &str,
    words: &str,
    status: MedicationrequestStatus,
) -> MedicationRequest {
    // The frequency also as the timing's code text, so that a reader can take
    // the dose and the frequency apart again.
    let timing = fhir::r4::types::Timing { code: Some(described(frequency)), ..Default::default() };
    let dosage =
        Dosage { text: Some(text(&format!("{dose}, {frequency}"))), timing: Some(timing), ..Default::default() };
    MedicationRequest {
        id: Some(text(&c.id.uuid)),
        meta: version(record.meta.version),
        identifier: vec![identifier(systems::RECORD_ID, &record.meta.id)],
        status: Coded::Known(status),
        intent: Coded::Known(MedicationrequestIntent::Order),
        medication: Some(MedicationRequestMedication::CodeableConcept(Box::new(described(medication)))),
        subject: reference(&c.patient),
        authored_on: Some(DateTime(c.recorded.clone())),
        requester: Some(reference(&c.recorder)),
        dosage_instruction: vec![dosage],
        note: notes(words),
        ..Default::default()
    }
}

/// What a Provenance says besides who, when and which transaction.
#[derive(Default)]
pub(crate) struct Why<'a> {
    /// The version deleted the record, for this reason.
    pub(crate) deleted: Option<&'a str>,
    /// The record was imported from this source resource.
    pub(crate) origin: Option<&'a ehr_api::model::Origin>,
}

/// Who (`who`: the practitioner, or the patient acting for themselves) wrote
/// `target`'s current version, for which organisation, when, and in which
/// Fabric transaction (an entity identified by the transaction id).
pub(crate) fn provenance(
    target: &ResourceId,
    stamp: &Stamp,
    who: &ResourceId,
    why: Why<'_>,
) -> Result<(ResourceId, Provenance)> {
    let id = ResourceId::of("Provenance", &format!("{}\0{}", target.uuid, stamp.tx_id));
    let who = who.clone();
    let (org, _) = organization(&stamp.actor.msp);
    let agent = ProvenanceAgent {
        r#type: Some(concept(systems::PROVENANCE_PARTICIPANT, "author")),
        who: reference(&who),
        on_behalf_of: Some(reference(&org)),
        ..Default::default()
    };
    let transaction = ProvenanceEntity {
        role: Coded::Known(ProvenanceEntityRole::Source),
        what: Reference {
            identifier: Some(identifier(systems::FABRIC_TRANSACTION, &stamp.tx_id)),
            display: Some(text("the Fabric transaction that wrote this version")),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut entity = vec![transaction];
    if let Some(origin) = why.origin {
        entity.push(ProvenanceEntity {
            role: Coded::Known(ProvenanceEntityRole::Derivation),
            what: Reference {
                identifier: Some(identifier(systems::IMPORT_SOURCE, &origin.resource)),
                display: Some(text(&format!("imported; SHA-256 of the source resource {}", origin.sha256))),
                ..Default::default()
            },
            ..Default::default()
        });
    }
    let mut provenance = Provenance::builder()
        .id(text(&id.uuid))
        .target(Vec1::new(reference(target)))
        .recorded(Instant(instant(stamp.at)?))
        .agent(Vec1::new(agent))
        .entity(entity)
        .build()
        .map_err(|e| FhirError::Unrepresentable { what: "a Provenance".into(), why: format!("{e:?}") })?;
    if let Some(reason) = why.deleted {
        provenance.activity = Some(concept(systems::DATA_OPERATION, "DELETE"));
        provenance.reason = vec![described(reason)];
    }
    Ok((id, provenance))
}

/// A side effect of a medication: an actual adverse event, the effect as the
/// event, the medication as the suspected entity (named, not a Medication
/// resource: we keep its name only).
pub(crate) fn adverse_event(record: &RecordView, c: &Common, medication: &str, words: &str) -> AdverseEvent {
    let suspect = AdverseEventSuspectEntity {
        instance: Reference { display: Some(text(medication)), ..Default::default() },
        ..Default::default()
    };
    AdverseEvent {
        id: Some(text(&c.id.uuid)),
        meta: version(record.meta.version),
        identifier: Some(identifier(systems::RECORD_ID, &record.meta.id)),
        actuality: Coded::Known(AdverseEventActuality::Actual),
        event: (!words.is_empty()).then(|| described(words)),
        suspect_entity: vec![suspect],
        subject: reference(&c.patient),
        recorded_date: Some(DateTime(c.recorded.clone())),
        recorder: Some(reference(&c.recorder)),
        ..Default::default()
    }
}

/// A lab result as an Observation (the findings as a string value), which its report points at.
pub(crate) fn observation(record: &RecordView, c: &Common, test: &str, words: &str) -> (ResourceId, Observation) {
    let id = ResourceId::of("Observation", &record.meta.id);
    let observation = Observation {
        id: Some(text(&id.uuid)),
        meta: version(record.meta.version),
        identifier: vec![identifier(systems::RECORD_ID, &record.meta.id)],
        status: Coded::Known(ObservationStatus::Final),
        code: described(test),
        subject: Some(reference(&c.patient)),
        // We know when it was recorded, not when the sample was taken.
        effective: Some(ObservationEffective::DateTime(Primitive::new(DateTime(c.recorded.clone())))),
        issued: Some(Instant(c.recorded.clone())),
        performer: vec![reference(&c.recorder)],
        value: (!words.is_empty()).then(|| ObservationValue::String(Primitive::new(text(words)))),
        ..Default::default()
    };
    (id, observation)
}

/// Which service a report comes from (HL7 v2 table 0074), what tells a lab
/// report from an imaging report.
#[derive(Clone, Copy)]
pub(crate) enum Service {
    /// `LAB`.
    Laboratory,
    /// `RAD`.
    Radiology,
}

/// A lab or imaging report: the test or modality as `code`, the findings as
/// `conclusion`, the attached files as `presentedForm`, a lab result as `result`.
pub(crate) fn diagnostic_report(
    record: &RecordView,
    c: &Common,
    service: Service,
    code: &str,
    words: &str,
    result: Option<&ResourceId>,
    study: Option<&ResourceId>,
) -> Result<DiagnosticReport> {
    let category = match service {
        Service::Laboratory => "LAB",
        Service::Radiology => "RAD",
    };
    DiagnosticReport::builder()
        .id(text(&c.id.uuid))
        .meta(meta(record.meta.version))
        .identifier(vec![identifier(systems::RECORD_ID, &record.meta.id)])
        .status(Coded::Known(DiagnosticReportStatus::Final))
        .category(vec![concept(systems::DIAGNOSTIC_SERVICE, category)])
        .code(described(code))
        .subject(reference(&c.patient))
        .issued(Instant(c.recorded.clone()))
        .performer(vec![reference(&c.recorder)])
        .result(result.map(reference).into_iter().collect())
        .imaging_study(study.map(reference).into_iter().collect())
        .conclusion(text(words))
        .presented_form(record.attachments.iter().map(attachment).collect())
        .build()
        .map_err(|e| FhirError::Unrepresentable { what: format!("record {}", record.meta.id), why: format!("{e:?}") })
}

/// The study an imaging report reads: its DICOM modality, the patient, when
/// the report was written (we keep no acquisition time).
pub(crate) fn imaging_study(record: &RecordView, c: &Common, modality: &str) -> (ResourceId, ImagingStudy) {
    let id = ResourceId::of("ImagingStudy", &record.meta.id);
    // Our modality names to DICOM's (PS3.16 CID 29): MRI is MR, PET is PT, a plain X-ray DX.
    let dicom = match modality {
        "MRI" => "MR",
        "PET" => "PT",
        "XR" => "DX",
        other => other,
    };
    let study = ImagingStudy {
        id: Some(text(&id.uuid)),
        meta: version(record.meta.version),
        identifier: vec![identifier(systems::RECORD_ID, &record.meta.id)],
        status: Coded::Known(ImagingstudyStatus::Available),
        modality: vec![coding(systems::DICOM, dicom)],
        subject: reference(&c.patient),
        started: Some(DateTime(c.recorded.clone())),
        description: Some(text(&format!("{modality} imaging"))),
        ..Default::default()
    };
    (id, study)
}

/// A clinical note: a current DocumentReference whose content is the note as
/// plain text, followed by any attached files.
pub(crate) fn document_reference(record: &RecordView, c: &Common, note: &str) -> Result<DocumentReference> {
    use base64::Engine as _;
    let inline = FhirAttachment {
        content_type: Some(fhir::r4::types::Code("text/plain; charset=utf-8".into())),
        data: Some(Base64Binary(base64::engine::general_purpose::STANDARD.encode(note))),
        ..Default::default()
    };
    let files = record.attachments.iter().map(attachment);
    let content: Vec<DocumentReferenceContent> = std::iter::once(inline)
        .chain(files)
        .map(|a| DocumentReferenceContent { attachment: a, ..Default::default() })
        .collect();
    let content = Vec1::try_from_vec(content)
        .map_err(|_| FhirError::Unrepresentable { what: record.meta.id.clone(), why: "no content".into() })?;
    DocumentReference::builder()
        .id(text(&c.id.uuid))
        .meta(meta(record.meta.version))
        .identifier(vec![identifier(systems::RECORD_ID, &record.meta.id)])
        .status(Coded::Known(DocumentReferenceStatus::Current))
        .subject(reference(&c.patient))
        .date(Instant(c.recorded.clone()))
        .author(vec![reference(&c.recorder)])
        .content(content)
        .build()
        .map_err(|e| FhirError::Unrepresentable { what: format!("record {}", record.meta.id), why: format!("{e:?}") })
}

/// An attached file: its type and size, our SHA-256 (hex) and where it is
/// stored, both in extensions. FHIR's own `hash` is a SHA-1, which we do not
/// keep; `url` would promise the content itself, while the store holds it
/// encrypted with the patient's file key (HAPI's validator fetches a `url`
/// and finds the sizes differ).
pub(crate) fn attachment(file: &Attachment) -> FhirAttachment {
    let extension = |url: &str, value: &str| Extension {
        url: text(url),
        value: Some(ExtensionValue::String(Primitive::new(text(value)))),
        ..Default::default()
    };
    FhirAttachment {
        extension: vec![
            extension(systems::SHA256_EXTENSION, &file.sha256),
            extension(systems::LOCATION_EXTENSION, &file.location),
        ],
        content_type: Some(fhir::r4::types::Code(file.media_type.clone())),
        // unsignedInt is 32 bits: a larger file's size is left out (its hash still names it).
        size: u32::try_from(file.size).ok().map(UnsignedInt),
        ..Default::default()
    }
}

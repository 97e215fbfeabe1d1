//! What the ledger itself keeps about a chart, as FHIR: roles of the people
//! who acted, consents, the access log, dispensing, and records deleted as
//! written in error. Like [`crate::resources`], pure functions of their
//! arguments: no clock, no unordered iteration.

use ehr_api::model::{
    AccessEntry, Consent, Grantee, Person, PrescriptionState, Purpose, RecordKind, RecordMeta, Role, Scope,
};
use fhir::r4::choice::Primitive;
use fhir::r4::coded::Coded;
use fhir::r4::codes::{
    AuditEventAction, AuditEventOutcome, ConsentProvisionType, ConsentStateCodes, DiagnosticReportStatus,
    DocumentReferenceStatus, MedicationdispenseStatus, MedicationrequestIntent, MedicationrequestStatus,
};
use fhir::r4::resources::audit_event::{AuditEventAgent, AuditEventEntity, AuditEventSource};
use fhir::r4::resources::consent::{ConsentProvision, ConsentProvisionActor};
use fhir::r4::resources::document_reference::DocumentReferenceContent;
use fhir::r4::resources::medication_dispense::{MedicationDispenseMedication, MedicationDispensePerformer};
use fhir::r4::resources::medication_request::MedicationRequestMedication;
use fhir::r4::resources::{
    AllergyIntolerance, AuditEvent, Condition, DiagnosticReport, DocumentReference, MedicationDispense,
    MedicationRequest, PractitionerRole, Resource,
};
use fhir::r4::types::extension::ExtensionValue;
use fhir::r4::types::{
    Attachment, Boolean, Code, CodeableConcept, Coding, DateTime, Extension, Instant, Period, Reference, Uri,
};
use vec1::Vec1;

use crate::ids::{ResourceId, instant, systems};
use crate::resources::{coding, concept, described, identifier, meta, reference, text};
use crate::{FhirError, Result};

/// A person in one role at one organisation: what they did is done in that role.
pub(crate) fn practitioner_role(
    person: &Person,
    role: Role,
    practitioner: &ResourceId,
) -> (ResourceId, PractitionerRole) {
    let id = ResourceId::of("PractitionerRole", &format!("{}\0{}\0{}", person.msp, person.id, role.as_str()));
    let (organisation, _) = crate::resources::organization(&person.msp);
    let practitioner_role = PractitionerRole {
        id: Some(text(&id.uuid)),
        practitioner: Some(reference(practitioner)),
        organization: Some(reference(&organisation)),
        code: vec![concept(systems::ROLE, role.as_str())],
        ..Default::default()
    };
    (id, practitioner_role)
}

/// A patient's consent: a permit for the grantee (a doctor or a whole
/// organisation) to read, or to read and add, until it ends; inactive once
/// revoked. Whether it has expired depends on when it is read, so the export
/// gives the end date, never a verdict.
pub(crate) fn consent(
    c: &Consent,
    patient: &ResourceId,
    grantee: &ResourceId,
) -> Result<(ResourceId, fhir::r4::resources::Consent)> {
    let id = ResourceId::of("Consent", &format!("{}\0{}", c.patient_id, c.granted.tx_id));
    let status = if c.revoked.is_some() { ConsentStateCodes::Inactive } else { ConsentStateCodes::Active };
    let mut actions = vec![concept(systems::CONSENT_ACTION, "access")];
    if c.scope == Scope::ReadWrite {
        actions.push(concept(systems::CONSENT_ACTION, "correct"));
    }
    let end = c.expires_at.map(instant).transpose()?;
    let provision = ConsentProvision {
        r#type: Some(Coded::Known(ConsentProvisionType::Permit)),
        period: end.map(|end| Period { end: Some(DateTime(end)), ..Default::default() }),
        actor: vec![ConsentProvisionActor {
            role: concept(systems::PARTICIPATION_TYPE, "IRCP"),
            reference: reference(grantee),
            ..Default::default()
        }],
        action: actions,
        ..Default::default()
    };
    let consent = fhir::r4::resources::Consent::builder()
        .id(text(&id.uuid))
        .status(Coded::Known(status))
        .scope(concept(systems::CONSENT_SCOPE, "patient-privacy"))
        .category(Vec1::new(concept(systems::LOINC, "59284-0")))
        .patient(reference(patient))
        .date_time(DateTime(instant(c.granted.at)?))
        .performer(vec![reference(patient)])
        .policy_rule(concept(systems::ACT_CODE, "OPTIN"))
        .provision(provision)
        .build()
        .map_err(|e| FhirError::Unrepresentable { what: "a Consent".into(), why: format!("{e:?}") })?;
    Ok((id, consent))
}

/// Whom a consent names, as the key its resource is found by.
pub(crate) fn grantee_key(grantee: &Grantee) -> (&str, Option<&Person>) {
    match grantee {
        Grantee::Doctor { person } => (&person.msp, Some(person)),
        Grantee::Organisation { msp } => (msp, None),
    }
}

/// One attempt to open the patient's data, granted or refused, with the
/// purpose given and the grounds found; the Fabric transaction that logged
/// it is an entity.
pub(crate) fn audit_event(e: &AccessEntry, patient: &ResourceId, who: &ResourceId) -> Result<(ResourceId, AuditEvent)> {
    let id = ResourceId::of("AuditEvent", &format!("{}\0{}", e.patient_id, e.stamp.tx_id));
    let outcome = if e.granted { AuditEventOutcome::N0 } else { AuditEventOutcome::N4 };
    let agent = AuditEventAgent {
        role: vec![concept(systems::ROLE, e.stamp.role.as_str())],
        who: Some(reference(who)),
        requestor: Boolean(true),
        purpose_of_use: vec![purpose(e.purpose)],
        ..Default::default()
    };
    let transaction = AuditEventEntity {
        what: Some(Reference {
            identifier: Some(identifier(systems::FABRIC_TRANSACTION, &e.stamp.tx_id)),
            ..Default::default()
        }),
        ..Default::default()
    };
    let source = AuditEventSource {
        observer: Reference { display: Some(text("the EHR chaincode on the Fabric channel")), ..Default::default() },
        ..Default::default()
    };
    let event = AuditEvent::builder()
        .id(text(&id.uuid))
        .r#type(Coding {
            system: Some(Uri(systems::DICOM.to_owned())),
            code: Some(Code("110110".into())),
            display: Some(text("Patient Record")),
            ..Default::default()
        })
        .action(Coded::Known(AuditEventAction::R))
        .recorded(Instant(instant(e.stamp.at)?))
        .outcome(Coded::Known(outcome))
        .outcome_desc(text(&format!("basis: {}", e.basis)))
        .purpose_of_event(vec![purpose(e.purpose)])
        .agent(Vec1::new(agent))
        .source(source)
        .entity(vec![AuditEventEntity { what: Some(reference(patient)), ..Default::default() }, transaction])
        .build()
        .map_err(|e| FhirError::Unrepresentable { what: "an AuditEvent".into(), why: format!("{e:?}") })?;
    Ok((id, event))
}

/// A purpose of access in our words and, nearest to it, HL7's `PurposeOfUse`.
fn purpose(p: Purpose) -> CodeableConcept {
    let nearest = match p {
        Purpose::Treatment | Purpose::SecondOpinion | Purpose::Diagnostics | Purpose::Dispensing => "TREAT",
        Purpose::Emergency => "ETREAT",
        Purpose::Administration | Purpose::Audit => "HOPERAT",
        Purpose::Research => "HRESCH",
    };
    let mut c = concept(systems::PURPOSE, p.as_str());
    c.coding.push(coding(systems::ACT_REASON, nearest));
    c
}

/// A prescription's status on the ledger as a MedicationRequest status.
pub(crate) fn request_status(state: Option<PrescriptionState>) -> MedicationrequestStatus {
    match state {
        Some(PrescriptionState::Active) => MedicationrequestStatus::Active,
        Some(PrescriptionState::Dispensed) => MedicationrequestStatus::Completed,
        Some(PrescriptionState::Revoked) => MedicationrequestStatus::Cancelled,
        None => MedicationrequestStatus::Unknown,
    }
}

/// A prescription handed over once, by the pharmacist who dispensed it.
pub(crate) fn medication_dispense(
    record_id: &str,
    medication: &str,
    request: &ResourceId,
    patient: &ResourceId,
    pharmacist: &ResourceId,
    at: i64,
) -> Result<(ResourceId, MedicationDispense)> {
    let id = ResourceId::of("MedicationDispense", record_id);
    let dispense = MedicationDispense {
        id: Some(text(&id.uuid)),
        identifier: vec![identifier(systems::RECORD_ID, record_id)],
        status: Coded::Known(MedicationdispenseStatus::Completed),
        medication: Some(MedicationDispenseMedication::CodeableConcept(Box::new(described(medication)))),
        subject: Some(reference(patient)),
        performer: vec![MedicationDispensePerformer { actor: reference(pharmacist), ..Default::default() }],
        authorizing_prescription: vec![reference(request)],
        when_handed_over: Some(DateTime(instant(at)?)),
        ..Default::default()
    };
    Ok((id, dispense))
}

/// A record deleted as written in error: a resource of its kind whose status
/// says so and whose content is absent (nobody may read it any more), or
/// `None` for a side effect (an R4 AdverseEvent has no status to say it).
/// The reason goes in the deletion's Provenance.
pub(crate) fn entered_in_error(m: &RecordMeta, patient: &ResourceId) -> Result<Option<(ResourceId, Resource)>> {
    let masked = || CodeableConcept { extension: vec![absent()], ..Default::default() };
    let ids = vec![identifier(systems::RECORD_ID, &m.id)];
    let id = |kind: &str| ResourceId::of(kind, &m.id);
    let built = |what: &str, e: String| FhirError::Unrepresentable { what: format!("{what} {}", m.id), why: e };
    Ok(Some(match m.kind {
        RecordKind::Diagnosis => {
            let rid = id("Condition");
            let condition = Condition {
                id: Some(text(&rid.uuid)),
                meta: Some(meta(m.version)),
                identifier: ids,
                verification_status: Some(concept(systems::CONDITION_VERIFICATION, "entered-in-error")),
                code: Some(masked()),
                subject: reference(patient),
                ..Default::default()
            };
            (rid, Resource::Condition(Box::new(condition)))
        }
        RecordKind::Allergy => {
            let rid = id("AllergyIntolerance");
            let allergy = AllergyIntolerance {
                id: Some(text(&rid.uuid)),
                meta: Some(meta(m.version)),
                identifier: ids,
                verification_status: Some(concept(systems::ALLERGY_VERIFICATION, "entered-in-error")),
                code: Some(masked()),
                patient: reference(patient),
                ..Default::default()
            };
            (rid, Resource::AllergyIntolerance(Box::new(allergy)))
        }
        RecordKind::Prescription => {
            let rid = id("MedicationRequest");
            let request = MedicationRequest {
                id: Some(text(&rid.uuid)),
                meta: Some(meta(m.version)),
                identifier: ids,
                status: Coded::Known(MedicationrequestStatus::EnteredInError),
                intent: Coded::Known(MedicationrequestIntent::Order),
                medication: Some(MedicationRequestMedication::CodeableConcept(Box::new(masked()))),
                subject: reference(patient),
                ..Default::default()
            };
            (rid, Resource::MedicationRequest(Box::new(request)))
        }
        RecordKind::LabReport | RecordKind::ImagingReport => {
            let rid = id("DiagnosticReport");
            let report = DiagnosticReport::builder()
                .id(text(&rid.uuid))
                .meta(meta(m.version))
                .identifier(ids)
                .status(Coded::Known(DiagnosticReportStatus::EnteredInError))
                .code(masked())
                .subject(reference(patient))
                .build()
                .map_err(|e| built("DiagnosticReport", format!("{e:?}")))?;
            (rid, Resource::DiagnosticReport(Box::new(report)))
        }
        RecordKind::ClinicalNote => {
            let rid = id("DocumentReference");
            let content = DocumentReferenceContent {
                attachment: Attachment { extension: vec![absent()], ..Default::default() },
                ..Default::default()
            };
            let document = DocumentReference::builder()
                .id(text(&rid.uuid))
                .meta(meta(m.version))
                .identifier(ids)
                .status(Coded::Known(DocumentReferenceStatus::EnteredInError))
                .subject(reference(patient))
                .content(Vec1::new(content))
                .build()
                .map_err(|e| built("DocumentReference", format!("{e:?}")))?;
            (rid, Resource::DocumentReference(Box::new(document)))
        }
        RecordKind::SideEffect => return Ok(None),
    }))
}

/// FHIR's data-absent-reason `masked`: the content exists but may not be shown.
fn absent() -> Extension {
    Extension {
        url: text(systems::DATA_ABSENT_REASON),
        value: Some(ExtensionValue::Code(Primitive::new(Code("masked".into())))),
        ..Default::default()
    }
}

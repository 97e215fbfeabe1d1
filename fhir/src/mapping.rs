//! How our records become FHIR R4 resources.
//!
//! | ours | FHIR R4 | elements |
//! |---|---|---|
//! | patient | `Patient` | `identifier` (`urn:ehr:patient-id`), `name.text`, `gender`, `birthDate`, `telecom` (e-mail or phone) or `address.text`, `managingOrganization` (the home hospital), `meta.versionId` |
//! | organisation (MSP) | `Organization` | `identifier` (`urn:ehr:msp-id`), `name` |
//! | person who acted | `Practitioner` | `identifier` (`urn:ehr:fabric-identity`, the `cid` id), `name.text` (certificate common name) |
//! | diagnosis | `Condition` | `code.coding` (ICD-10, `http://hl7.org/fhir/sid/icd-10`), `code.text`, `clinicalStatus` active, `verificationStatus` confirmed, `category` encounter-diagnosis, `subject`, `recordedDate`, `recorder` |
//! | allergy | `AllergyIntolerance` | `code.text` (substance), `reaction.manifestation.text`, `patient`, `recordedDate`, `recorder` |
//! | prescription | `MedicationRequest` | `medicationCodeableConcept.text`, `dosageInstruction.text` (dose, frequency), `note`, `status` active, `intent` order, `subject`, `authoredOn`, `requester` |
//! | every version written | `Provenance` | `target`, `recorded`, `agent` (author: the practitioner, on behalf of the organisation), `entity` (source: the Fabric transaction id, `urn:ehr:fabric-transaction`) |
//!
//! Every resource carries our record id (`urn:ehr:record-id`) and its
//! version as `meta.versionId`. Not mapped yet, and listed in
//! [`Export::unmapped`](crate::Export::unmapped) when a chart has them: side
//! effects (`AdverseEvent`), lab and imaging reports (`DiagnosticReport`,
//! `Observation`), clinical notes (`DocumentReference`), consents, the access
//! log (`AuditEvent`), dispensing and deleted records (issue 11).

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
//! | side effect | `AdverseEvent` | `actuality` actual, `event.text` (the effect and the medication), `subject`, `recordedDate`, `recorder` |
//! | lab report | `DiagnosticReport` + `Observation` | report: `code.text` (the test), `conclusion`, `result` → the Observation (`valueString`: the findings), `presentedForm` (files), `status` final, `issued`, `performer` |
//! | imaging report | `DiagnosticReport` | `code.text` (`CT imaging`, ...), `conclusion`, `presentedForm` (files) |
//! | clinical note | `DocumentReference` | `content[0].attachment` (the note, `text/plain`, base64), then one `content` per file, `status` current, `date`, `author` |
//! | attached file | `Attachment` | `contentType`, `size` (left out above 4 GiB: FHIR's `unsignedInt`), our SHA-256 (hex) in the extension `urn:ehr:extension:attachment-sha256` (FHIR's `hash` is SHA-1, which we do not keep), the store location in `urn:ehr:extension:attachment-location` (not `url`: the store holds the file encrypted with the patient's key, not the content `url` promises) |
//! | every version written | `Provenance` | `target`, `recorded`, `agent` (author: the practitioner, on behalf of the organisation), `entity` (source: the Fabric transaction id, `urn:ehr:fabric-transaction`) |
//!
//! Every resource carries our record id (`urn:ehr:record-id`) and its
//! version as `meta.versionId`. Not mapped yet: deleted records
//! (`entered-in-error`; listed in [`Export::unmapped`](crate::Export::unmapped)),
//! consents (`Consent`), the access log (`AuditEvent`) and dispensing
//! (`MedicationDispense`), which the chart does not carry yet (issue 11).

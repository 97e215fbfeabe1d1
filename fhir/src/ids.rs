//! Stable identities: the same thing of ours is the same FHIR resource in every export.

use sha2::{Digest, Sha256};

use crate::{FhirError, Result};

/// The identifier systems and code systems the export writes.
pub mod systems {
    /// Our patient ids (`P-0001`).
    pub const PATIENT_ID: &str = "urn:ehr:patient-id";
    /// Fabric MSP ids: one per organisation.
    pub const MSP_ID: &str = "urn:ehr:msp-id";
    /// Fabric identity ids (`cid`: base64 of subject and issuer): one per person.
    pub const FABRIC_IDENTITY: &str = "urn:ehr:fabric-identity";
    /// Our record ids (`R-…`).
    pub const RECORD_ID: &str = "urn:ehr:record-id";
    /// Fabric transaction ids: where a version was written.
    pub const FABRIC_TRANSACTION: &str = "urn:ehr:fabric-transaction";
    /// ICD-10, as FHIR names it.
    pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
    /// Condition clinical status.
    pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    /// Condition verification status.
    pub const CONDITION_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
    /// Condition category.
    pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
    /// AllergyIntolerance clinical status.
    pub const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
    /// AllergyIntolerance verification status.
    pub const ALLERGY_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
    /// The extension that carries an attachment's SHA-256 (hex), since FHIR's `Attachment.hash` is SHA-1.
    pub const SHA256_EXTENSION: &str = "urn:ehr:extension:attachment-sha256";
    /// The extension that carries where an attachment is stored (encrypted with the patient's file key).
    pub const LOCATION_EXTENSION: &str = "urn:ehr:extension:attachment-location";
    /// HL7 v2 table 0074, diagnostic service sections (`LAB`, `RAD`).
    pub const DIAGNOSTIC_SERVICE: &str = "http://terminology.hl7.org/CodeSystem/v2-0074";
    /// Our roles (`doctor`, `pharmacist`, ...), as certificates carry them.
    pub const ROLE: &str = "urn:ehr:role";
    /// Our purposes of access (`treatment`, `emergency`, ...), as the access log keeps them.
    pub const PURPOSE: &str = "urn:ehr:purpose";
    /// Where an imported record came from (the source resource's identity).
    pub const IMPORT_SOURCE: &str = "urn:ehr:import-source";
    /// LOINC.
    pub const LOINC: &str = "http://loinc.org";
    /// DICOM controlled terminology (audit event types).
    pub const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
    /// Consent scopes.
    pub const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
    /// Consent actions (`access`, `correct`).
    pub const CONSENT_ACTION: &str = "http://terminology.hl7.org/CodeSystem/consentaction";
    /// HL7 v3 participation types (`IRCP`: information recipient).
    pub const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
    /// HL7 v3 act codes (`OPTIN`).
    pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    /// HL7 v3 act reasons, which hold the `PurposeOfUse` codes (`TREAT`, `ETREAT`, `HRESCH`).
    pub const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    /// HL7 v3 data operations (`DELETE`), a Provenance's activity.
    pub const DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
    /// The extension saying why a value is absent.
    pub const DATA_ABSENT_REASON: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    /// Provenance participant types.
    pub const PROVENANCE_PARTICIPANT: &str = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
}

/// A resource's logical id and bundle URL, both derived from what it stands
/// for (`kind` and our key), so that exports of the same chart agree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ResourceId {
    /// A UUID (version 8: name-based, SHA-256), which is also a valid FHIR id.
    pub(crate) uuid: String,
}

impl ResourceId {
    pub(crate) fn of(kind: &str, key: &str) -> ResourceId {
        let digest = Sha256::digest(format!("ehr-fhir\0{kind}\0{key}").as_bytes());
        let mut b: [u8; 16] = [0; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x80; // version 8
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
        let h = hex::encode(b);
        ResourceId { uuid: format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]) }
    }

    /// `urn:uuid:…`, the entry's `fullUrl` and what references point at.
    pub(crate) fn url(&self) -> String {
        format!("urn:uuid:{}", self.uuid)
    }
}

/// A ledger time (Unix seconds) as a FHIR `instant`/`dateTime`, in UTC.
pub(crate) fn instant(seconds: i64) -> Result<String> {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .ok_or_else(|| FhirError::Unrepresentable { what: format!("the time {seconds}"), why: "out of range".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_uuids_and_differ_by_kind() {
        let a = ResourceId::of("Patient", "P-0001");
        assert_eq!(a, ResourceId::of("Patient", "P-0001"));
        assert_ne!(a, ResourceId::of("Practitioner", "P-0001"));
        let parts: Vec<&str> = a.uuid.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('8') && "89ab".contains(&parts[3][..1]), "{}", a.uuid);
        assert!(a.url().starts_with("urn:uuid:"));
    }

    #[test]
    fn times_are_utc_instants() {
        assert_eq!(instant(0).ok().as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(instant(1_795_305_600).ok().as_deref(), Some("2026-11-22T00:00:00Z"));
        assert!(instant(i64::MAX).is_err());
    }
}

//! The contract's domain types: ids, roles, people, stamps, patients,
//! consents, access entries, records, prescriptions and standings, with the
//! rules their fields must keep (`validate`, `parse`).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{Invalid, Result};

/// A patient's id, chosen by the registering doctor: 3 to 64 characters of
/// `A-Z a-z 0-9 - _ .`, starting with a letter or digit. It is opaque: it must
/// not contain the patient's name or birth date, because ids are public.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "String", into = "String")]
pub struct PatientId(String);

impl PatientId {
    /// Validates an id.
    pub fn parse(raw: &str) -> Result<Self> {
        let ok_len = (3..=64).contains(&raw.len());
        let ok_first = raw.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let ok_chars = raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok_len && ok_first && ok_chars {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::bad(
                "patientId",
                format!("{raw:?} must be 3-64 characters of A-Z a-z 0-9 - _ . starting with a letter or digit"),
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PatientId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<PatientId> for String {
    fn from(id: PatientId) -> Self {
        id.0
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a caller may be, from the fabric-ca `role` attribute of their certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Registers patients and writes records.
    Doctor,
    /// Owns their data and decides who else may see it.
    Patient,
    /// Attaches imaging reports.
    Radiologist,
    /// Attaches lab reports.
    Lab,
    /// Verifies and dispenses prescriptions.
    Pharmacist,
    /// Reads the audit trail, never patient data.
    Regulator,
    /// Manages the standing of its organisation's identities.
    Admin,
}

impl Role {
    const ALL: [(Self, &'static str); 7] = [
        (Self::Doctor, "doctor"),
        (Self::Patient, "patient"),
        (Self::Radiologist, "radiologist"),
        (Self::Lab, "lab"),
        (Self::Pharmacist, "pharmacist"),
        (Self::Regulator, "regulator"),
        (Self::Admin, "admin"),
    ];

    /// The role named by a certificate's `role` attribute, if it is one.
    pub fn from_attribute(value: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == value).map(|(r, _)| *r)
    }

    /// The role's name, as in certificates and JSON.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(r, _)| *r == self).map(|(_, n)| *n).unwrap_or_default()
    }
}

/// A person as the ledger names them: certificate id and organisation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// Fabric's identity id (`cid` style, base64 of subject and issuer).
    pub id: String,
    /// Their organisation's MSP id.
    pub msp: String,
}

impl Person {
    /// How to show the person to people: the common name of their
    /// certificate's subject and their MSP, e.g. `doctor1 (HospitalAMSP)`;
    /// the raw id when it is not a `cid` id.
    pub fn display_name(&self) -> String {
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD.decode(&self.id).ok();
        let text = decoded.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        let cn = text
            .strip_prefix("x509::")
            .and_then(|rest| rest.split("::").next())
            .and_then(|subject| subject.split(',').find_map(|p| p.trim().strip_prefix("CN=")));
        match cn {
            Some(cn) => format!("{cn} ({})", self.msp),
            None => format!("{} ({})", self.id, self.msp),
        }
    }
}

/// Who did something, in which role, in which transaction, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stamp {
    /// The actor.
    pub actor: Person,
    /// Their role at the time.
    pub role: Role,
    /// The transaction.
    pub tx_id: String,
    /// The transaction's timestamp (seconds since the Unix epoch).
    pub at: i64,
}

/// Patient data: only ever in the private collection and in transient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatientDetails {
    /// Full name.
    pub name: String,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: String,
    /// `female`, `male`, `other` or `unknown` (FHIR administrative gender).
    pub sex: String,
    /// Phone, e-mail or address.
    #[serde(default)]
    pub contact: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

impl PatientDetails {
    /// Checks every field, naming the first that breaks a rule.
    pub fn validate(&self) -> Result<()> {
        let text = |field: &str, value: &str, max: usize, required: bool| {
            if required && value.trim().is_empty() {
                return Err(Invalid::bad(field, "is required"));
            }
            if value.len() > max {
                return Err(Invalid::bad(field, format!("is longer than {max} bytes")));
            }
            Ok(())
        };
        text("patient.name", &self.name, 200, true)?;
        text("patient.contact", &self.contact, 500, false)?;
        text("patient.description", &self.description, 10_000, false)?;
        let b = self.birth_date.as_bytes();
        let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
        let shape = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10);
        let month = self.birth_date.get(5..7).and_then(|m| m.parse::<u8>().ok()).unwrap_or(0);
        let day = self.birth_date.get(8..10).and_then(|d| d.parse::<u8>().ok()).unwrap_or(0);
        if !shape || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(Invalid::bad("patient.birthDate", "must be a date as YYYY-MM-DD"));
        }
        if !matches!(self.sex.as_str(), "female" | "male" | "other" | "unknown") {
            return Err(Invalid::bad("patient.sex", "must be one of female, male, other, unknown"));
        }
        Ok(())
    }
}

/// The key a patient's off-chain files are encrypted with (32 bytes, hex),
/// drawn by the registering client. It lives only in the private collection
/// and in sealed answers; erasure purges it, which leaves every stored copy of
/// the patient's files unreadable (crypto-shredding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileKey {
    /// 64 lowercase hex digits.
    pub key: String,
}

impl FileKey {
    /// The key from its 64 hex digits; 400 naming `field` otherwise.
    pub fn parse(field: &str, raw: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(raw).map_err(|_| Invalid::bad(field, "must be hex text"))?;
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Invalid::bad(field, "must be a 32-byte key as 64 hex digits, drawn at random by the client"));
        }
        Ok(Self { key: text.to_ascii_lowercase() })
    }

    /// The key's 32 bytes.
    pub fn bytes(&self) -> Result<[u8; 32]> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.key, &mut out).map_err(|_| Invalid::bad("fileKey", "is not 64 hex digits"))?;
        Ok(out)
    }
}

/// One version of a patient's data as kept in the private collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivatePatient {
    /// The data.
    pub details: PatientDetails,
    /// Client-chosen random salt (hex), so that the kept hash cannot be confirmed by guessing.
    pub salt: String,
}

/// What the audit collection knows of a patient: ids, hashes and stamps, no patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientRecord {
    /// The patient.
    pub id: PatientId,
    /// The organisation that registered them.
    pub home_msp: String,
    /// Doctors who may change the patient's information.
    pub attending: Vec<Person>,
    /// Current version of the private data (1 = as registered).
    pub version: u32,
    /// SHA-256 (hex) of salt ‖ canonical JSON of each version, oldest first.
    pub hashes: Vec<String>,
    /// Who registered the patient.
    pub created: Stamp,
    /// Who made the current version.
    pub updated: Stamp,
    /// Set when the patient's data was erased on their request (the private
    /// data is purged; hashes and audit entries stay).
    #[serde(default)]
    pub erased: Option<Stamp>,
}

/// What the patient allows, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    /// Read the patient's data.
    Read,
    /// Read and add to it.
    ReadWrite,
}

/// Someone the patient can grant access to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Grantee {
    /// One doctor.
    Doctor {
        /// Their identity.
        person: Person,
    },
    /// Every doctor of an organisation.
    Organisation {
        /// The MSP id.
        msp: String,
    },
}

/// A patient's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    /// The patient.
    pub patient_id: PatientId,
    /// To whom.
    pub grantee: Grantee,
    /// What.
    pub scope: Scope,
    /// Until when (Unix seconds), if limited.
    pub expires_at: Option<i64>,
    /// Who granted it and when.
    pub granted: Stamp,
    /// Who revoked it and when, once revoked.
    pub revoked: Option<Stamp>,
}

impl Consent {
    /// Whether it is neither revoked nor expired at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}

/// Why someone opens a patient's data: a fixed list, because free text in a
/// public access entry ("suspected HIV, follow-up") would itself be patient data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Direct care of the patient.
    Treatment,
    /// A second opinion, usually from another hospital.
    SecondOpinion,
    /// An emergency.
    Emergency,
    /// Lab or imaging work for the patient.
    Diagnostics,
    /// Dispensing a prescription.
    Dispensing,
    /// Records management, billing.
    Administration,
    /// A regulator's or a quality review.
    Audit,
    /// Research the patient consented to.
    Research,
}

impl Purpose {
    const ALL: [(Self, &'static str); 8] = [
        (Self::Treatment, "treatment"),
        (Self::SecondOpinion, "second-opinion"),
        (Self::Emergency, "emergency"),
        (Self::Diagnostics, "diagnostics"),
        (Self::Dispensing, "dispensing"),
        (Self::Administration, "administration"),
        (Self::Audit, "audit"),
        (Self::Research, "research"),
    ];

    /// The purpose's code, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(p, _)| *p == self).map(|(_, n)| *n).unwrap_or_default()
    }

    /// The purpose with code `code`; 400 listing the codes otherwise.
    pub fn parse(code: &str) -> Result<Self> {
        Self::ALL.iter().find(|(_, n)| *n == code.trim()).map(|(p, _)| *p).ok_or_else(|| {
            let codes: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
            Invalid::bad("purpose", format!("{code:?} is not a purpose code; use one of {}", codes.join(", ")))
        })
    }
}

/// On what grounds someone reaches a patient's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Basis {
    /// The patient themselves.
    #[serde(rename = "self")]
    Patient,
    /// An attending doctor.
    #[serde(rename = "attending")]
    Attending,
    /// The patient's consent (to the person or their organisation).
    #[serde(rename = "consent")]
    Consent,
    /// None: refused.
    #[serde(rename = "not permitted")]
    NotPermitted,
}

impl Basis {
    /// The basis as in JSON and the access log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "self",
            Self::Attending => "attending",
            Self::Consent => "consent",
            Self::NotPermitted => "not permitted",
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt to reach a patient's data, kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    /// The patient.
    pub patient_id: PatientId,
    /// Who asked, in which role, when.
    pub stamp: Stamp,
    /// Why they said they need it.
    pub purpose: Purpose,
    /// Whether it was granted.
    pub granted: bool,
    /// On what grounds it was granted, or that it was not.
    pub basis: Basis,
    /// Until when reads are allowed (Unix seconds), when granted.
    pub until: Option<i64>,
}

/// The kinds of medical record and their structured fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", tag = "kind", deny_unknown_fields)]
pub enum RecordBody {
    /// A diagnosis with its ICD-10 code.
    Diagnosis {
        /// ICD-10 code, e.g. `K35.80`.
        icd10: String,
        /// Free text.
        #[serde(default)]
        text: String,
    },
    /// A prescription.
    Prescription {
        /// Medication name.
        medication: String,
        /// Dose, e.g. `500 mg`.
        dose: String,
        /// Frequency, e.g. `3x daily`.
        frequency: String,
        /// Free text.
        #[serde(default)]
        text: String,
    },
    /// An allergy.
    Allergy {
        /// What the patient is allergic to.
        substance: String,
        /// The reaction.
        #[serde(default)]
        text: String,
    },
    /// A side effect of a medication.
    SideEffect {
        /// The medication.
        medication: String,
        /// The effect.
        #[serde(default)]
        text: String,
    },
    /// A lab report (attached images).
    LabReport {
        /// The test.
        test: String,
        /// The findings.
        #[serde(default)]
        text: String,
    },
    /// An imaging report (CT, MRI; attached PDFs).
    ImagingReport {
        /// `CT`, `MRI`, `XR`, `US`, `PET`.
        modality: String,
        /// The findings.
        #[serde(default)]
        text: String,
    },
    /// A clinical note.
    ClinicalNote {
        /// The note.
        text: String,
    },
}

impl RecordBody {
    /// The kind's name as in the JSON `kind` field.
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Diagnosis { .. } => RecordKind::Diagnosis,
            Self::Prescription { .. } => RecordKind::Prescription,
            Self::Allergy { .. } => RecordKind::Allergy,
            Self::SideEffect { .. } => RecordKind::SideEffect,
            Self::LabReport { .. } => RecordKind::LabReport,
            Self::ImagingReport { .. } => RecordKind::ImagingReport,
            Self::ClinicalNote { .. } => RecordKind::ClinicalNote,
        }
    }

    /// Checks the structured fields, naming the first that breaks a rule.
    pub fn validate(&self) -> Result<()> {
        let need = |field: &str, v: &str, max: usize| -> Result<()> {
            if v.trim().is_empty() {
                return Err(Invalid::bad(field, "is required"));
            }
            if v.len() > max {
                return Err(Invalid::bad(field, format!("is longer than {max} bytes")));
            }
            Ok(())
        };
        let text_ok = |v: &str| -> Result<()> {
            if v.len() > 20_000 { Err(Invalid::bad("record.text", "is longer than 20000 bytes")) } else { Ok(()) }
        };
        match self {
            Self::Diagnosis { icd10, text } => {
                let b = icd10.as_bytes();
                let shape = (3..=8).contains(&b.len())
                    && b[0].is_ascii_uppercase()
                    && b[1..3].iter().all(u8::is_ascii_digit)
                    && (b.len() == 3 || (b[3] == b'.' && b.len() > 4 && b[4..].iter().all(u8::is_ascii_alphanumeric)));
                if !shape {
                    return Err(Invalid::bad("record.icd10", "must be an ICD-10 code such as K35 or K35.80"));
                }
                text_ok(text)
            }
            Self::Prescription { medication, dose, frequency, text } => {
                need("record.medication", medication, 200)?;
                need("record.dose", dose, 100)?;
                need("record.frequency", frequency, 100)?;
                text_ok(text)
            }
            Self::Allergy { substance, text } => {
                need("record.substance", substance, 200)?;
                text_ok(text)
            }
            Self::SideEffect { medication, text } => {
                need("record.medication", medication, 200)?;
                text_ok(text)
            }
            Self::LabReport { test, text } => {
                need("record.test", test, 200)?;
                text_ok(text)
            }
            Self::ImagingReport { modality, text } => {
                if !matches!(modality.as_str(), "CT" | "MRI" | "XR" | "US" | "PET") {
                    return Err(Invalid::bad("record.modality", "must be one of CT, MRI, XR, US, PET"));
                }
                text_ok(text)
            }
            Self::ClinicalNote { text } => {
                need("record.text", text, 20_000)?;
                Ok(())
            }
        }
    }
}

/// A record kind, public (it says what a record is, not what it says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum RecordKind {
    /// See [`RecordBody::Diagnosis`].
    Diagnosis,
    /// See [`RecordBody::Prescription`].
    Prescription,
    /// See [`RecordBody::Allergy`].
    Allergy,
    /// See [`RecordBody::SideEffect`].
    SideEffect,
    /// See [`RecordBody::LabReport`].
    LabReport,
    /// See [`RecordBody::ImagingReport`].
    ImagingReport,
    /// See [`RecordBody::ClinicalNote`].
    ClinicalNote,
}

impl RecordKind {
    const ALL: [(Self, &'static str); 7] = [
        (Self::Diagnosis, "diagnosis"),
        (Self::Prescription, "prescription"),
        (Self::Allergy, "allergy"),
        (Self::SideEffect, "sideEffect"),
        (Self::LabReport, "labReport"),
        (Self::ImagingReport, "imagingReport"),
        (Self::ClinicalNote, "clinicalNote"),
    ];

    /// The kind's name, as in JSON and in index keys.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map(|(_, n)| *n).unwrap_or_default()
    }

    /// The kind called `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

/// Which records a listing shows: every kind (`"all"`) or one (`"diagnosis"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KindFilter {
    /// Every kind.
    #[default]
    All,
    /// One kind.
    One(RecordKind),
}

impl KindFilter {
    /// The one kind asked for; `None` for every kind.
    pub fn kind(self) -> Option<RecordKind> {
        match self {
            Self::All => None,
            Self::One(kind) => Some(kind),
        }
    }

    /// `all` or the kind's name.
    pub fn as_str(self) -> &'static str {
        self.kind().map_or("all", RecordKind::as_str)
    }
}

impl From<Option<RecordKind>> for KindFilter {
    fn from(kind: Option<RecordKind>) -> Self {
        kind.map_or(Self::All, Self::One)
    }
}

impl Serialize for KindFilter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KindFilter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "all" => Ok(Self::All),
            other => RecordKind::parse(other).map(Self::One).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{other:?} is neither all nor a record kind ({})",
                    RecordKind::ALL.map(|(_, n)| n).join(", ")
                ))
            }),
        }
    }
}

impl JsonSchema for KindFilter {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KindFilter".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = std::iter::once("all").chain(RecordKind::ALL.map(|(_, n)| n)).collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

/// A file stored off-chain, content-addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attachment {
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type, e.g. `application/pdf`, `image/png`.
    pub media_type: String,
    /// Where the file is stored (object store URL or path), named by its hash.
    pub location: String,
}

impl Attachment {
    /// Checks the fields.
    pub fn validate(&self) -> Result<()> {
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(Invalid::bad("attachments.sha256", "must be 64 lowercase hex digits"));
        }
        if self.size == 0 {
            return Err(Invalid::bad("attachments.size", "must be more than 0"));
        }
        if !self.media_type.contains('/') || self.media_type.len() > 100 {
            return Err(Invalid::bad("attachments.mediaType", "must be a media type such as application/pdf"));
        }
        if self.location.is_empty() || self.location.len() > 1000 {
            return Err(Invalid::bad("attachments.location", "must be 1-1000 characters"));
        }
        Ok(())
    }
}

/// Where an imported record came from: the resource in another system and
/// the hash of its content there. Kept with the private copy (a source
/// system's resource address can itself say where a patient was treated), and
/// what makes an import idempotent: the same resource with the same hash is
/// not written again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Origin {
    /// The resource's identity at the source: its absolute FHIR `fullUrl`, or
    /// `system|value#Type/id` from the bundle's identifier and the resource's
    /// type and id.
    pub resource: String,
    /// SHA-256 (lowercase hex) of the resource's canonical JSON at the source.
    pub sha256: String,
}

impl Origin {
    /// Checks the fields.
    pub fn validate(&self) -> Result<()> {
        if self.resource.trim().is_empty() || self.resource.len() > 1000 {
            return Err(Invalid::bad("origin.resource", "must be 1-1000 characters"));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return Err(Invalid::bad("origin.sha256", "must be 64 lowercase hex digits"));
        }
        Ok(())
    }
}

/// One version of a record's content, private.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivateRecord {
    /// The content.
    pub body: RecordBody,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Set when the record was imported from another system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Client-chosen salt (hex).
    pub salt: String,
}

/// Why and by whom a record was deleted (it stays in history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    /// Who, when.
    pub stamp: Stamp,
    /// Why.
    pub reason: String,
}

/// What the audit collection knows of a record (its metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordMeta {
    /// The record's id (`R-` and the first 16 hex digits of the creating transaction).
    pub id: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Its kind.
    pub kind: RecordKind,
    /// Current version.
    pub version: u32,
    /// Salted hash of every version, oldest first.
    pub hashes: Vec<String>,
    /// Who created it.
    pub created: Stamp,
    /// Who made the current version.
    pub updated: Stamp,
    /// Set when deleted.
    pub deleted: Option<Tombstone>,
    /// Set when the patient's data was erased on request.
    pub erased: Option<Stamp>,
}

/// At most this many records per `ReadRecords` call: a page of `ListRecords`.
pub const MAX_RECORDS_PER_READ: usize = 100;

/// At most this many attachments per record.
pub const MAX_ATTACHMENTS: usize = 20;

/// Where a prescription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrescriptionState {
    /// May be dispensed.
    Active,
    /// Was dispensed (once).
    Dispensed,
    /// Its record was deleted.
    Revoked,
}

/// What a pharmacist can check about a prescription, without patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrescriptionStatus {
    /// The prescription record.
    pub record_id: String,
    /// The patient's home hospital (whose peer must endorse every change of this status).
    pub home_msp: String,
    /// Who prescribed it, from which organisation, when.
    pub prescribed: Stamp,
    /// Hash of the current version (what the pharmacist's copy must hash to).
    pub hash: String,
    /// SHA-256 (hex) of the dispensing code only the patient's slip carries.
    pub code_hash: String,
    /// Active, dispensed or revoked.
    pub status: PrescriptionState,
    /// Who dispensed it, when.
    pub dispensed: Option<Stamp>,
}

/// An identity's standing in its organisation, set by that organisation's admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Standing {
    /// Whom it concerns.
    pub person: Person,
    /// Whether they may act.
    pub suspended: bool,
    /// Why.
    pub reason: String,
    /// Which admin decided, when.
    pub stamp: Stamp,
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::Person;

    #[test]
    fn display_names_come_from_the_subject() {
        let id = base64::engine::general_purpose::STANDARD.encode("x509::CN=doctor1,OU=client::CN=ca.hospitala.ehr");
        assert_eq!(Person { id, msp: "HospitalAMSP".into() }.display_name(), "doctor1 (HospitalAMSP)");
        assert_eq!(Person { id: "odd".into(), msp: "M".into() }.display_name(), "odd (M)");
    }
}

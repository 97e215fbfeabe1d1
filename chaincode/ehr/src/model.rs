//! Domain types: who is calling, which patient, what is stored where.

use std::fmt;

use fabric_shim::Stub;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{EhrError, Result};

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
            Err(EhrError::bad(
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
    type Error = EhrError;
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
    fn from_attribute(value: &str) -> Option<Self> {
        Some(match value {
            "doctor" => Self::Doctor,
            "patient" => Self::Patient,
            "radiologist" => Self::Radiologist,
            "lab" => Self::Lab,
            "pharmacist" => Self::Pharmacist,
            "regulator" => Self::Regulator,
            "admin" => Self::Admin,
            _ => return None,
        })
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

/// The caller of a transaction, read only from their certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who.
    pub person: Person,
    /// In which role.
    pub role: Role,
    /// For patients: the patient id their certificate is bound to (`patient_id` attribute).
    pub patient_id: Option<String>,
}

impl Caller {
    /// Reads the caller from the transaction; a certificate without a known
    /// role may do nothing.
    pub fn of(stub: &Stub) -> Result<Self> {
        let id = stub.client_identity().map_err(|e| EhrError::Forbidden(format!("cannot identify the caller: {e}")))?;
        let role = id.attribute("role").and_then(Role::from_attribute).ok_or_else(|| {
            EhrError::Forbidden("the caller's certificate has no known role attribute; nothing is permitted".into())
        })?;
        Ok(Self {
            person: Person { id: id.id().to_owned(), msp: id.msp_id().to_owned() },
            role,
            patient_id: id.attribute("patient_id").map(str::to_owned),
        })
    }

    /// Whether this caller is the patient `patient`.
    pub fn is_patient(&self, patient: &PatientId) -> bool {
        self.role == Role::Patient && self.patient_id.as_deref() == Some(patient.as_str())
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

impl Stamp {
    /// The stamp of the current transaction by `caller`.
    pub fn now(stub: &Stub, caller: &Caller) -> Result<Self> {
        Ok(Self {
            actor: caller.person.clone(),
            role: caller.role,
            tx_id: stub.tx_id().to_owned(),
            at: stub.tx_timestamp()?.seconds,
        })
    }
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
                return Err(EhrError::bad(field, "is required"));
            }
            if value.len() > max {
                return Err(EhrError::bad(field, format!("is longer than {max} bytes")));
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
            return Err(EhrError::bad("patient.birthDate", "must be a date as YYYY-MM-DD"));
        }
        if !matches!(self.sex.as_str(), "female" | "male" | "other" | "unknown") {
            return Err(EhrError::bad("patient.sex", "must be one of female, male, other, unknown"));
        }
        Ok(())
    }
}

/// One version of a patient's data as kept in the private collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrivatePatient {
    /// The data.
    pub details: PatientDetails,
    /// Client-chosen random salt (hex), so that the public hash cannot be confirmed by guessing.
    pub salt: String,
}

/// What public state knows of a patient: ids, hashes and stamps, no patient data.
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
    /// Whether it lets `caller` do `scope` at time `now`.
    pub fn allows(&self, caller: &Caller, wanted: Scope, now: i64) -> bool {
        let who = match &self.grantee {
            Grantee::Doctor { person } => caller.role == Role::Doctor && person == &caller.person,
            Grantee::Organisation { msp } => caller.role == Role::Doctor && msp == &caller.person.msp,
        };
        let what = wanted == Scope::Read || self.scope == Scope::ReadWrite;
        let live = self.revoked.is_none() && self.expires_at.is_none_or(|t| now < t);
        who && what && live
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
    pub purpose: String,
    /// Whether it was granted.
    pub granted: bool,
    /// On what grounds: `attending`, `consent`, `self`, or why it was refused.
    pub basis: String,
    /// Until when reads are allowed (Unix seconds), when granted.
    pub until: Option<i64>,
}

//! The contract's stored shapes: the domain types are the contract API's
//! (`ehr_api::model`, re-exported here); the search document is the
//! chaincode's own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) use ehr_api::model::*;

/// The document type CouchDB indexes and Mango selectors use.
pub(crate) const DOC_TYPE: &str = "ehr.search";

/// What search knows of one patient (private).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchDoc {
    /// Always [`DOC_TYPE`].
    pub doc_type: String,
    /// The patient.
    pub patient_id: PatientId,
    /// Lower-case id, for substring search.
    pub id_lower: String,
    /// Name words: lower-case, accents removed.
    pub name_words: Vec<String>,
    /// Year of birth.
    pub birth_year: u32,
    /// ICD-10 codes of the patient's diagnoses, with their records (a deleted
    /// record's code stays here; search checks the public tombstone instead,
    /// so that deleting needs no private read).
    pub diagnoses: Vec<DiagnosisRef>,
    /// The same salt as the patient's current version.
    pub salt: String,
}

/// One diagnosis code and the record it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DiagnosisRef {
    /// The record.
    pub record_id: String,
    /// Its ICD-10 code, upper-case.
    pub icd10: String,
}

//! What functions take and answer besides the domain types: views for
//! permitted readers, queries, pages, checks, the audit trail, histories.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{
    AccessEntry, Attachment, Origin, PatientDetails, PatientId, PatientRecord, PrescriptionStatus, RecordBody,
    RecordKind, RecordMeta, Stamp,
};

/// What a permitted reader gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientView {
    /// The patient's record (home, attending doctors, hashes, stamps).
    pub record: PatientRecord,
    /// The current private details.
    pub details: PatientDetails,
    /// Whether the private copy matches the hash on the ledger.
    pub verified: bool,
}

/// Whether a version's private data matches its hash on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The patient.
    pub patient_id: PatientId,
    /// The version checked.
    pub version: u32,
    /// The hash on the ledger.
    pub ledger_hash: String,
    /// The hash of the private copy this peer holds (none if it holds none).
    pub private_hash: Option<String>,
    /// Whether they are equal.
    pub matches: bool,
}

/// Which access attempts to list; every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessQuery {
    /// Only granted (`true`) or only refused (`false`) attempts.
    pub granted: Option<bool>,
    /// Only attempts by people of this organisation (MSP id).
    pub msp: Option<String>,
    /// At or after (Unix seconds).
    pub from: Option<i64>,
    /// Before (Unix seconds).
    pub to: Option<i64>,
}

/// One page of a patient's access log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogPage {
    /// The attempts.
    pub entries: Vec<AccessEntry>,
    /// Pass back for the next page; empty at the end.
    pub bookmark: String,
}

/// What a client sends as the transient `record`: the content and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    /// The content.
    pub body: RecordBody,
    /// Files stored off-chain.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Where it came from, when imported from another system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl RecordInput {
    /// A record written here, not imported.
    pub fn new(body: RecordBody, attachments: Vec<Attachment>) -> Self {
        RecordInput { body, attachments, origin: None }
    }

    /// The rules of the content and of at most [`crate::model::MAX_ATTACHMENTS`]
    /// files: the contract applies them, and a client can before it sends.
    pub fn validate(&self) -> crate::error::Result<()> {
        self.body.validate()?;
        if self.attachments.len() > crate::model::MAX_ATTACHMENTS {
            return Err(crate::error::Invalid::bad(
                "attachments",
                format!("at most {} per record", crate::model::MAX_ATTACHMENTS),
            ));
        }
        self.attachments.iter().try_for_each(Attachment::validate)?;
        self.origin.as_ref().map_or(Ok(()), Origin::validate)
    }
}

/// A record for a permitted reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordView {
    /// Public metadata.
    pub meta: RecordMeta,
    /// Current content.
    pub body: RecordBody,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Where it came from, when imported from another system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Whether the private copy matches the hash on the ledger.
    pub verified: bool,
}

/// One page of a patient's records (metadata only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordPage {
    /// The records, by kind then date.
    pub records: Vec<RecordMeta>,
    /// Pass back for the next page; empty at the end.
    pub bookmark: String,
}

/// A prescription check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrescriptionCheck {
    /// The status.
    pub status: PrescriptionStatus,
    /// Whether the hash of the pharmacist's copy equals the ledger's.
    pub matches: bool,
}

/// One line of the audit trail: who did what to which patient or record, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLine {
    /// What happened.
    pub action: String,
    /// The record, if the action concerns one.
    pub record_id: Option<String>,
    /// Who, in which role, in which transaction, when.
    pub stamp: Stamp,
    /// Extra: access basis or refusal, consent grantee, deletion reason.
    pub detail: String,
}

/// One committed version in a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Version<M, C> {
    /// The transaction that wrote it.
    pub tx_id: String,
    /// Its timestamp (Unix seconds).
    pub at: i64,
    /// The metadata as it was (who changed it is in its stamps).
    pub meta: M,
    /// What the content looked like then: only for readers with an open window, while not erased.
    pub content: Option<C>,
}

/// A patient's history as `PatientHistory` answers it, once opened.
pub type PatientHistory = Vec<Version<PatientRecord, crate::model::PatientDetails>>;
/// A record's history as `RecordHistory` answers it, once opened.
pub type RecordHistory = Vec<Version<RecordMeta, RecordBody>>;

/// What records to find; every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordQuery {
    /// Only this kind.
    pub kind: Option<RecordKind>,
    /// Created at or after (Unix seconds).
    pub from: Option<i64>,
    /// Created before (Unix seconds).
    pub to: Option<i64>,
    /// Diagnoses whose ICD-10 code starts with this (needs read grounds, not for regulators).
    pub icd10_prefix: Option<String>,
    /// Also records deleted as written in error (their metadata and tombstone),
    /// which listings leave out otherwise: what a full export needs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_deleted: bool,
}

/// What to look for; every given criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatientQuery {
    /// Words or beginnings of words of the name, in any order, any case, with or without accents.
    pub name: Option<String>,
    /// Part of the patient id.
    pub id: Option<String>,
    /// Year of birth.
    pub birth_year: Option<u32>,
    /// Beginning of an ICD-10 code of one of the patient's diagnoses, e.g. `K35`.
    pub icd10_prefix: Option<String>,
}

/// A patient found, without their data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientHit {
    /// The patient; open access to read their data.
    pub patient_id: PatientId,
    /// Their hospital.
    pub home_msp: String,
}

/// One page of hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientHits {
    /// The hits, by patient id.
    pub patients: Vec<PatientHit>,
    /// Pass back for the next page; empty at the end.
    pub bookmark: String,
}

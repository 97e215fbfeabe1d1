//! One Rust method per EHR contract function, with the contract's own types.
//!
//! The argument and result types come from the `ehr-chaincode` crate, so the
//! client and the contract cannot drift apart. Patient data and record
//! content always travel as transient data with a fresh salt, never as
//! arguments, so they never reach the ledger in the clear.

use fabric_gateway::{CallBuilder, ChaincodeEvent, Contract, EventStream, RetryPolicy, Start, retry_on_conflict};
use futures::StreamExt;
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde::de::DeserializeOwned;

use ehr_chaincode::events::{EVENT_NAME, Notification};
use ehr_chaincode::model::{
    AccessEntry, Consent, Grantee, PatientDetails, PatientId, PatientRecord, Person, PrescriptionStatus, PrivateRecord,
    RecordBody, RecordKind, RecordMeta, Scope, Standing,
};
use ehr_chaincode::search::{PatientHits, PatientQuery};
use ehr_chaincode::{
    AuditLine, PatientView, PrescriptionCheck, RecordInput, RecordPage, RecordQuery, RecordView, TRANSIENT_PATIENT,
    TRANSIENT_RECORD, TRANSIENT_SALT, Verification, Version,
};

use crate::error::{EhrClientError, Result};

/// A patient's version history as the contract returns it.
pub type PatientVersions = Vec<Version<PatientRecord, PatientDetails>>;
/// A record's version history as the contract returns it.
pub type RecordVersions = Vec<Version<RecordMeta, RecordBody>>;

/// A record just written, with the exact copy its ledger hash covers (the
/// salt included): a prescription's copy is what the patient takes to the
/// pharmacy, where `VerifyPrescription` checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordWritten {
    /// The public metadata.
    pub meta: RecordMeta,
    /// The salted private copy.
    pub copy: PrivateRecord,
}

impl RecordWritten {
    /// The hash the ledger keeps for this version.
    pub fn hash(&self) -> Result<String> {
        copy_hash(&self.copy)
    }
}

/// The ledger hash of a salted private copy (as `VerifyPrescription` computes it).
pub fn copy_hash(copy: &PrivateRecord) -> Result<String> {
    ehr_chaincode::store::record_hash(copy)
        .map_err(|e| EhrClientError::Usage(format!("the copy cannot be hashed: {e}")))
}

/// The EHR contract, reached through a Fabric gateway.
#[derive(Debug, Clone)]
pub struct EhrClient {
    contract: Contract,
    retry: RetryPolicy,
}

/// 32 random bytes as hex: each version's salt, so that its public hash
/// cannot be confirmed by hashing guesses.
fn fresh_salt() -> String {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    hex::encode(salt)
}

/// Arguments go as text: strings raw, everything else as JSON.
fn json_arg<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| EhrClientError::Encode(e.to_string()))
}

fn decode<T: DeserializeOwned>(function: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        EhrClientError::Decode(format!(
            "{function} answered {} which is not what this client expects ({e}); are client and chaincode the same version?",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ))
    })
}

impl EhrClient {
    /// A client for the contract `contract` (normally `network.contract("ehr")`).
    pub fn new(contract: Contract) -> Self {
        Self { contract, retry: RetryPolicy::default() }
    }

    /// How submits retry read conflicts.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The contract underneath, for calls this client does not wrap.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    async fn evaluate<T: DeserializeOwned>(&self, function: &str, args: &[String]) -> Result<T> {
        let bytes = self.contract.call(function).args(args).evaluate().await?;
        decode(function, &bytes)
    }

    /// Submits, endorsing again with a new transaction id after a read
    /// conflict. Every attempt carries the same arguments and transient data
    /// (salt included), so a retried version hashes as the first one would.
    async fn submit<T: DeserializeOwned>(
        &self,
        function: &str,
        args: &[String],
        transient: &[(&str, Vec<u8>)],
    ) -> Result<T> {
        let build = || -> CallBuilder {
            let mut call = self.contract.call(function).args(args);
            for (k, v) in transient {
                call = call.transient(*k, v.clone());
            }
            call
        };
        let bytes = retry_on_conflict(self.retry, |_| build().submit()).await?;
        decode(function, &bytes)
    }

    fn patient_transient(details: &PatientDetails) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![(TRANSIENT_PATIENT, json_arg(details)?.into_bytes()), (TRANSIENT_SALT, fresh_salt().into_bytes())])
    }

    fn record_transient(record: &RecordInput, salt: &str) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![(TRANSIENT_RECORD, json_arg(record)?.into_bytes()), (TRANSIENT_SALT, salt.as_bytes().to_vec())])
    }

    fn written(meta: RecordMeta, record: &RecordInput, salt: String) -> RecordWritten {
        let copy = PrivateRecord { body: record.body.clone(), attachments: record.attachments.clone(), salt };
        RecordWritten { meta, copy }
    }

    /// `RegisterPatient`: a doctor registers a patient and becomes their attending doctor.
    pub async fn register_patient(&self, id: &PatientId, details: &PatientDetails) -> Result<PatientRecord> {
        self.submit("RegisterPatient", &[id.to_string()], &Self::patient_transient(details)?).await
    }

    /// `UpdatePatient`: an attending doctor writes a new version of the patient's details.
    pub async fn update_patient(&self, id: &PatientId, details: &PatientDetails) -> Result<PatientRecord> {
        self.submit("UpdatePatient", &[id.to_string()], &Self::patient_transient(details)?).await
    }

    /// `AddAttendingDoctor`.
    pub async fn add_attending_doctor(&self, id: &PatientId, doctor: &Person) -> Result<PatientRecord> {
        self.submit("AddAttendingDoctor", &[id.to_string(), json_arg(doctor)?], &[]).await
    }

    /// `OpenAccess`: records who looks and why, and opens a read window.
    pub async fn open_access(&self, id: &PatientId, purpose: &str) -> Result<AccessEntry> {
        self.submit("OpenAccess", &[id.to_string(), purpose.to_owned()], &[]).await
    }

    /// `ReadPatient` (needs an open access window).
    pub async fn read_patient(&self, id: &PatientId) -> Result<PatientView> {
        self.evaluate("ReadPatient", &[id.to_string()]).await
    }

    /// `VerifyPatient`: does the private copy of `version` match the ledger hash?
    pub async fn verify_patient(&self, id: &PatientId, version: u32) -> Result<Verification> {
        self.evaluate("VerifyPatient", &[id.to_string(), version.to_string()]).await
    }

    /// `GrantConsent`.
    pub async fn grant_consent(
        &self,
        id: &PatientId,
        grantee: &Grantee,
        scope: Scope,
        expires_at: Option<i64>,
    ) -> Result<Consent> {
        let args = [id.to_string(), json_arg(grantee)?, json_arg(&scope)?, json_arg(&expires_at)?];
        self.submit("GrantConsent", &args, &[]).await
    }

    /// `RevokeConsent`.
    pub async fn revoke_consent(&self, id: &PatientId, grantee: &Grantee) -> Result<Consent> {
        self.submit("RevokeConsent", &[id.to_string(), json_arg(grantee)?], &[]).await
    }

    /// `ListConsents`.
    pub async fn list_consents(&self, id: &PatientId) -> Result<Vec<Consent>> {
        self.evaluate("ListConsents", &[id.to_string()]).await
    }

    /// `AccessLog`: who looked at the patient's data.
    pub async fn access_log(&self, id: &PatientId) -> Result<Vec<AccessEntry>> {
        self.evaluate("AccessLog", &[id.to_string()]).await
    }

    /// `AddRecord`.
    pub async fn add_record(&self, id: &PatientId, record: &RecordInput) -> Result<RecordWritten> {
        let salt = fresh_salt();
        let meta = self.submit("AddRecord", &[id.to_string()], &Self::record_transient(record, &salt)?).await?;
        Ok(Self::written(meta, record, salt))
    }

    /// `UpdateRecord`.
    pub async fn update_record(&self, id: &PatientId, record_id: &str, record: &RecordInput) -> Result<RecordWritten> {
        let salt = fresh_salt();
        let args = [id.to_string(), record_id.to_owned()];
        let meta = self.submit("UpdateRecord", &args, &Self::record_transient(record, &salt)?).await?;
        Ok(Self::written(meta, record, salt))
    }

    /// `DeleteRecord`: a tombstone with the reason; history stays.
    pub async fn delete_record(&self, id: &PatientId, record_id: &str, reason: &str) -> Result<RecordMeta> {
        self.submit("DeleteRecord", &[id.to_string(), record_id.to_owned(), reason.to_owned()], &[]).await
    }

    /// `ReadRecord`.
    pub async fn read_record(&self, id: &PatientId, record_id: &str) -> Result<RecordView> {
        self.evaluate("ReadRecord", &[id.to_string(), record_id.to_owned()]).await
    }

    /// `VerifyRecord`.
    pub async fn verify_record(&self, id: &PatientId, record_id: &str, version: u32) -> Result<Verification> {
        self.evaluate("VerifyRecord", &[id.to_string(), record_id.to_owned(), version.to_string()]).await
    }

    /// `ListRecords`, optionally of one kind; pass the returned bookmark for the next page.
    pub async fn list_records(
        &self,
        id: &PatientId,
        kind: Option<RecordKind>,
        page_size: u32,
        bookmark: &str,
    ) -> Result<RecordPage> {
        let kind = kind.map(|k| k.as_str().to_owned()).unwrap_or_else(|| "all".into());
        self.evaluate("ListRecords", &[id.to_string(), kind, page_size.to_string(), bookmark.to_owned()]).await
    }

    /// `VerifyPrescription`: compares the hash of the pharmacist's copy with the ledger's.
    pub async fn verify_prescription(&self, record_id: &str, hash: &str) -> Result<PrescriptionCheck> {
        self.evaluate("VerifyPrescription", &[record_id.to_owned(), hash.to_owned()]).await
    }

    /// `DispensePrescription`: once only.
    pub async fn dispense_prescription(&self, record_id: &str, hash: &str) -> Result<PrescriptionStatus> {
        self.submit("DispensePrescription", &[record_id.to_owned(), hash.to_owned()], &[]).await
    }

    /// `RequestErasure`: the patient has their private data purged.
    pub async fn request_erasure(&self, id: &PatientId) -> Result<PatientRecord> {
        self.submit("RequestErasure", &[id.to_string()], &[]).await
    }

    /// `AuditTrail`.
    pub async fn audit_trail(&self, id: &PatientId) -> Result<Vec<AuditLine>> {
        self.evaluate("AuditTrail", &[id.to_string()]).await
    }

    /// `SearchPatients` (works on LevelDB and CouchDB peers).
    pub async fn search_patients(&self, query: &PatientQuery, page_size: u32, bookmark: &str) -> Result<PatientHits> {
        self.evaluate("SearchPatients", &[json_arg(query)?, page_size.to_string(), bookmark.to_owned()]).await
    }

    /// `SearchPatientsRich` (CouchDB peers only).
    pub async fn search_patients_rich(&self, query: &PatientQuery, limit: u32) -> Result<PatientHits> {
        self.evaluate("SearchPatientsRich", &[json_arg(query)?, limit.to_string()]).await
    }

    /// `SearchRecords`.
    pub async fn search_records(
        &self,
        id: &PatientId,
        query: &RecordQuery,
        page_size: u32,
        bookmark: &str,
    ) -> Result<RecordPage> {
        self.evaluate("SearchRecords", &[id.to_string(), json_arg(query)?, page_size.to_string(), bookmark.to_owned()])
            .await
    }

    /// `PatientHistory`.
    pub async fn patient_history(&self, id: &PatientId) -> Result<PatientVersions> {
        self.evaluate("PatientHistory", &[id.to_string()]).await
    }

    /// `RecordHistory`.
    pub async fn record_history(&self, id: &PatientId, record_id: &str) -> Result<RecordVersions> {
        self.evaluate("RecordHistory", &[id.to_string(), record_id.to_owned()]).await
    }

    /// `SetStanding`: an organisation admin suspends or reinstates one of its identities.
    pub async fn set_standing(&self, person: &Person, suspended: bool, reason: &str) -> Result<Standing> {
        self.submit("SetStanding", &[json_arg(person)?, suspended.to_string(), reason.to_owned()], &[]).await
    }

    /// The contract's notifications (who registered, changed, viewed or was
    /// refused, consent changes), from `start`. Events of other names are skipped.
    pub async fn notifications(&self, start: Start) -> Result<EventStream<(ChaincodeEvent, Notification)>> {
        let network = self.contract.network();
        let stream = network.chaincode_events(self.contract.chaincode(), start).await?;
        Ok(stream
            .filter_map(|item| async move {
                match item {
                    Ok(event) if event.event_name != EVENT_NAME => None,
                    Ok(event) => match serde_json::from_slice::<Notification>(&event.payload) {
                        Ok(n) => Some(Ok((event, n))),
                        Err(e) => Some(Err(fabric_gateway::GatewayError::Decode {
                            what: "an EHR notification",
                            message: e.to_string(),
                        })),
                    },
                    Err(e) => Some(Err(e)),
                }
            })
            .boxed())
    }
}

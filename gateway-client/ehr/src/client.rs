//! One Rust method per EHR contract function, with the contract's own types.
//!
//! The argument and result types come from the `ehr-api` crate, which the
//! contract uses too, so client and contract cannot drift apart on types. Patient data and record
//! content always travel as transient data with a fresh salt, never as
//! arguments, so they never reach the ledger in the clear. Functions that
//! return patient data get a fresh one-time key per call (`sealTo`) and
//! answer sealed to it: even if such a call were submitted, the block would
//! hold only ciphertext. Functions that write about a patient take even their
//! arguments (the patient id, the grantee, the purpose) as transient data and
//! answer sealed too, so that no block says who reached which patient.

use fabric_gateway_client::{
    CallBuilder, ChaincodeEvent, Contract, EventStream, RetryPolicy, Start, retry_on_conflict,
};
use futures::StreamExt;
use rand_core::{OsRng, RngCore};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use ehr_api::events::{EVENT_NAME, Notification, NotificationKeySeed, SealedNotices};
use ehr_api::functions::{self as f, Function, Kind, ParamValues, SealedOf};
use ehr_api::model::{
    AccessEntry, Consent, FileKey, Grantee, KindFilter, PatientDetails, PatientId, PatientRecord, Person,
    PrescriptionStatus, PrivateRecord, Purpose, RecordKind, RecordMeta, Scope, Standing,
};
use ehr_api::registry::RoleRegistry;
use ehr_api::seal::{OpeningKey, Sealed, TRANSIENT_SEAL_TO};
use ehr_api::transient::TRANSIENT_QUERY;
use ehr_api::transient::{
    TRANSIENT_DISPENSE_CODE, TRANSIENT_FILE_KEY, TRANSIENT_PATIENT, TRANSIENT_RECORD, TRANSIENT_SALT,
};
use ehr_api::views::{
    AccessLogPage, AccessQuery, AuditLine, PatientView, PrescriptionCheck, RecordInput, RecordPage, RecordQuery,
    RecordView, Verification,
};
use ehr_api::views::{PatientHits, PatientQuery};

use crate::error::{EhrClientError, Result};

pub use ehr_api::views::{PatientHistory as PatientVersions, RecordHistory as RecordVersions};

/// A record just written, with the exact copy its ledger hash covers (the
/// salt included) and, for a prescription, its dispensing code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordWritten {
    /// The metadata.
    pub meta: RecordMeta,
    /// The salted private copy.
    pub copy: PrivateRecord,
    /// A new prescription's dispensing code: only the patient's slip carries
    /// it; the ledger keeps its hash, and a pharmacist needs it to dispense.
    pub dispense_code: Option<String>,
}

impl RecordWritten {
    /// The hash the ledger keeps for this version.
    pub fn hash(&self) -> Result<String> {
        copy_hash(&self.copy)
    }

    /// What the patient takes to the pharmacy (or keeps as their copy).
    pub fn slip(&self) -> Slip {
        Slip { record_id: self.meta.id.clone(), copy: self.copy.clone(), dispense_code: self.dispense_code.clone() }
    }
}

/// The patient's copy of a record: the salted private copy the ledger hash
/// covers and, for a prescription, the dispensing code. Whoever holds a
/// prescription's slip can have it dispensed once, so it is handed only to
/// the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Slip {
    /// The record.
    pub record_id: String,
    /// The salted copy.
    pub copy: PrivateRecord,
    /// The dispensing code (prescriptions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispense_code: Option<String>,
}

/// The ledger hash of a salted private copy (as `VerifyPrescription` computes it).
pub fn copy_hash(copy: &PrivateRecord) -> Result<String> {
    ehr_api::hash::record_hash(copy).map_err(|e| EhrClientError::Usage(format!("the copy cannot be hashed: {e}")))
}

/// The EHR contract, reached through a Fabric gateway.
#[derive(Debug, Clone)]
pub struct EhrClient {
    contract: Contract,
    retry: RetryPolicy,
}

/// 32 random bytes as hex: each version's salt, so that its kept hash
/// cannot be confirmed by hashing guesses.
fn fresh_salt() -> String {
    hex::encode(random_32())
}

fn random_32() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A value as the JSON text a transient field carries.
fn json_arg<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| EhrClientError::Encode(e.to_string()))
}

fn decode<T: DeserializeOwned>(function: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        // Neither the answer nor the values serde quotes go into the message:
        // an answer may carry patient data, and errors reach logs.
        EhrClientError::Decode(format!(
            "{function} answered {} bytes that are not what this client expects ({}); are client and chaincode the \
             same version?",
            bytes.len(),
            ehr_api::error::redacted(&e)
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

    /// Calls function `F` of the API's table as its kind says: evaluated, or
    /// submitted (waiting for the commit, endorsing again with a new
    /// transaction id after a read conflict, with the same parameters and
    /// transient data, so a retried version hashes as the first one would).
    /// Parameters go as arguments, or for `SubmitTransient` as transient data
    /// under their names. Answers the transaction id and the raw answer.
    async fn run<F: Function>(
        &self,
        params: &F::Params,
        transient: &[(&str, Vec<u8>)],
        seal_to: Option<&OpeningKey>,
    ) -> Result<(String, Vec<u8>)> {
        let values = params.values().map_err(|e| EhrClientError::Encode(e.to_string()))?;
        let build = || -> CallBuilder {
            let mut call = self.contract.call(F::NAME);
            if F::KIND == Kind::SubmitTransient {
                for (name, value) in F::PARAMS.iter().zip(&values) {
                    call = call.transient(*name, value.clone().into_bytes());
                }
            } else {
                call = call.args(&values);
            }
            if let Some(key) = seal_to {
                call = call.transient(TRANSIENT_SEAL_TO, key.public_bytes());
            }
            for (k, v) in transient {
                call = call.transient(*k, v.clone());
            }
            call
        };
        if F::KIND == Kind::Evaluate {
            let proposal = build().build()?;
            let tx_id = proposal.transaction_id().to_owned();
            return Ok((tx_id, proposal.evaluate().await?));
        }
        let answer = retry_on_conflict(self.retry, |_| async {
            let proposal = build().build()?;
            let tx_id = proposal.transaction_id().to_owned();
            let submitted = proposal.endorse().await?.submit().await?;
            submitted.commit().status().await?.ensure_committed()?;
            Ok((tx_id, submitted.into_result()))
        })
        .await?;
        Ok(answer)
    }

    /// Calls a function whose answer is plain.
    async fn call<F: Function>(&self, params: F::Params, transient: &[(&str, Vec<u8>)]) -> Result<F::Answer> {
        let (_, bytes) = self.run::<F>(&params, transient, None).await?;
        decode(F::NAME, &bytes)
    }

    /// Calls a function whose answer is sealed: sends a fresh one-time public
    /// key and opens the answer with the private key and the transaction id.
    async fn call_sealed<F, T>(&self, params: F::Params, transient: &[(&str, Vec<u8>)]) -> Result<T>
    where
        F: Function<Answer = SealedOf<T>>,
        T: DeserializeOwned,
    {
        let key = OpeningKey::from_random_bytes(random_32());
        let (tx_id, bytes) = self.run::<F>(&params, transient, Some(&key)).await?;
        let sealed: Sealed = decode(F::NAME, &bytes)?;
        key.open(&tx_id, &sealed).map_err(|e| EhrClientError::Decode(format!("{}: {e}", F::NAME)))
    }

    /// The details as transient data, once they pass the contract's rules
    /// (checked here too, so that bad input is named before anything is sent).
    fn patient_transient(details: &PatientDetails) -> Result<Vec<(&'static str, Vec<u8>)>> {
        details.validate()?;
        Ok(vec![(TRANSIENT_PATIENT, json_arg(details)?.into_bytes()), (TRANSIENT_SALT, fresh_salt().into_bytes())])
    }

    /// The record as transient data, once it passes the contract's rules.
    fn record_transient(record: &RecordInput, salt: &str) -> Result<Vec<(&'static str, Vec<u8>)>> {
        record.validate()?;
        Ok(vec![(TRANSIENT_RECORD, json_arg(record)?.into_bytes()), (TRANSIENT_SALT, salt.as_bytes().to_vec())])
    }

    fn written(meta: RecordMeta, record: &RecordInput, salt: String, dispense_code: Option<String>) -> RecordWritten {
        let copy = PrivateRecord {
            body: record.body.clone(),
            attachments: record.attachments.clone(),
            origin: record.origin.clone(),
            salt,
        };
        RecordWritten { meta, copy, dispense_code }
    }

    /// `RegisterPatient`: a doctor registers a patient and becomes their attending doctor.
    /// A fresh file key for the patient's off-chain files goes with it (private data only).
    pub async fn register_patient(&self, id: &PatientId, details: &PatientDetails) -> Result<PatientRecord> {
        let mut transient = Self::patient_transient(details)?;
        transient.push((TRANSIENT_FILE_KEY, hex::encode(random_32()).into_bytes()));
        self.call_sealed::<f::RegisterPatient, _>((id.clone(),), &transient).await
    }

    /// `FileKey`: the key the patient's off-chain files are encrypted with
    /// (sealed to this call); open a store with [`crate::files::FileStore::encrypted_with`].
    pub async fn file_key(&self, id: &PatientId) -> Result<[u8; 32]> {
        let key: FileKey = self.call_sealed::<f::FileKey, _>((id.clone(),), &[]).await?;
        key.bytes().map_err(|e| EhrClientError::Decode(format!("FileKey: {e}")))
    }

    /// `UpdatePatient`: an attending doctor writes a new version of the patient's details.
    pub async fn update_patient(&self, id: &PatientId, details: &PatientDetails) -> Result<PatientRecord> {
        self.call_sealed::<f::UpdatePatient, _>((id.clone(),), &Self::patient_transient(details)?).await
    }

    /// `AddAttendingDoctor` (a doctor of another hospital needs the patient's consent first).
    pub async fn add_attending_doctor(&self, id: &PatientId, doctor: &Person) -> Result<PatientRecord> {
        self.call_sealed::<f::AddAttendingDoctor, _>((id.clone(), doctor.clone()), &[]).await
    }

    /// `RemoveAttendingDoctor`: the patient or an admin of their home hospital.
    pub async fn remove_attending_doctor(&self, id: &PatientId, doctor: &Person) -> Result<PatientRecord> {
        self.call_sealed::<f::RemoveAttendingDoctor, _>((id.clone(), doctor.clone()), &[]).await
    }

    /// `RoleRegistry`: which organisation may assert which role.
    pub async fn role_registry(&self) -> Result<RoleRegistry> {
        self.call::<f::RoleRegistry>((), &[]).await
    }

    /// `OpenAccess`: records who looks and why, and opens a read window.
    pub async fn open_access(&self, id: &PatientId, purpose: Purpose) -> Result<AccessEntry> {
        self.call_sealed::<f::OpenAccess, _>((id.clone(), purpose.as_str().to_owned()), &[]).await
    }

    /// `OpenAccess` for a caller who goes on to read: a refused window (the
    /// attempt is logged all the same) is [`EhrClientError::Refused`], not an
    /// entry to inspect.
    pub async fn open_window(&self, id: &PatientId, purpose: Purpose) -> Result<AccessEntry> {
        let access = self.open_access(id, purpose).await?;
        if !access.granted {
            return Err(EhrClientError::Refused(format!(
                "access to {id} was refused ({}); the attempt is in the access log",
                access.basis
            )));
        }
        Ok(access)
    }

    /// `store` as the patient's store: what it uploads is encrypted, and what it
    /// downloads decrypted, with the patient's file key (fetched, sealed, from
    /// the contract).
    pub async fn patient_files(
        &self,
        store: &crate::files::FileStore,
        id: &PatientId,
    ) -> Result<crate::files::FileStore> {
        Ok(store.encrypted_with(self.file_key(id).await?))
    }

    /// `ReadPatient` (needs an open access window); the answer comes sealed to this call's key.
    pub async fn read_patient(&self, id: &PatientId) -> Result<PatientView> {
        self.call_sealed::<f::ReadPatient, _>((id.clone(),), &[]).await
    }

    /// `VerifyPatient`: does the private copy of `version` match the ledger hash?
    pub async fn verify_patient(&self, id: &PatientId, version: u32) -> Result<Verification> {
        self.call_sealed::<f::VerifyPatient, _>((id.clone(), version), &[]).await
    }

    /// `GrantConsent`.
    pub async fn grant_consent(
        &self,
        id: &PatientId,
        grantee: &Grantee,
        scope: Scope,
        expires_at: Option<i64>,
    ) -> Result<Consent> {
        self.call_sealed::<f::GrantConsent, _>((id.clone(), grantee.clone(), scope, expires_at), &[]).await
    }

    /// `RevokeConsent`.
    pub async fn revoke_consent(&self, id: &PatientId, grantee: &Grantee) -> Result<Consent> {
        self.call_sealed::<f::RevokeConsent, _>((id.clone(), grantee.clone()), &[]).await
    }

    /// `ListConsents`.
    pub async fn list_consents(&self, id: &PatientId) -> Result<Vec<Consent>> {
        self.call_sealed::<f::ListConsents, _>((id.clone(),), &[]).await
    }

    /// `AccessLog`: who tried to look at the patient's data, oldest first; one
    /// page of the attempts matching `query`.
    pub async fn access_log(
        &self,
        id: &PatientId,
        query: &AccessQuery,
        page_size: u32,
        bookmark: &str,
    ) -> Result<AccessLogPage> {
        self.call_sealed::<f::AccessLog, _>((id.clone(), query.clone(), page_size, bookmark.to_owned()), &[]).await
    }

    /// Every access attempt matching `query`, all pages.
    pub async fn access_log_all(&self, id: &PatientId, query: &AccessQuery) -> Result<Vec<AccessEntry>> {
        let mut entries = Vec::new();
        let mut bookmark = String::new();
        loop {
            let page = self.access_log(id, query, 1000, &bookmark).await?;
            entries.extend(page.entries);
            if page.bookmark.is_empty() {
                return Ok(entries);
            }
            bookmark = page.bookmark;
        }
    }

    /// `AddRecord`. A prescription gets a fresh dispensing code, returned only here.
    pub async fn add_record(&self, id: &PatientId, record: &RecordInput) -> Result<RecordWritten> {
        let salt = fresh_salt();
        let mut transient = Self::record_transient(record, &salt)?;
        let code = (record.body.kind() == RecordKind::Prescription).then(|| hex::encode(random_32()));
        if let Some(code) = &code {
            transient.push((TRANSIENT_DISPENSE_CODE, code.as_bytes().to_vec()));
        }
        let meta = self.call_sealed::<f::AddRecord, _>((id.clone(),), &transient).await?;
        Ok(Self::written(meta, record, salt, code))
    }

    /// `UpdateRecord`.
    pub async fn update_record(&self, id: &PatientId, record_id: &str, record: &RecordInput) -> Result<RecordWritten> {
        let salt = fresh_salt();
        let params = (id.clone(), record_id.to_owned());
        let meta = self.call_sealed::<f::UpdateRecord, _>(params, &Self::record_transient(record, &salt)?).await?;
        Ok(Self::written(meta, record, salt, None))
    }

    /// `DeleteRecord`: a tombstone with the reason; history stays.
    pub async fn delete_record(&self, id: &PatientId, record_id: &str, reason: &str) -> Result<RecordMeta> {
        self.call_sealed::<f::DeleteRecord, _>((id.clone(), record_id.to_owned(), reason.to_owned()), &[]).await
    }

    /// `ReadRecords` (needs an open access window): the records `record_ids`
    /// in that order, [`MAX_RECORDS_PER_READ`](ehr_api::model::MAX_RECORDS_PER_READ) per call.
    pub async fn read_records(&self, id: &PatientId, record_ids: &[String]) -> Result<Vec<RecordView>> {
        let mut views = Vec::with_capacity(record_ids.len());
        for ids in record_ids.chunks(ehr_api::model::MAX_RECORDS_PER_READ) {
            views.extend(self.call_sealed::<f::ReadRecords, _>((id.clone(), ids.to_vec()), &[]).await?);
        }
        Ok(views)
    }

    /// `ReadRecord` (needs an open access window); sealed to this call's key.
    pub async fn read_record(&self, id: &PatientId, record_id: &str) -> Result<RecordView> {
        self.call_sealed::<f::ReadRecord, _>((id.clone(), record_id.to_owned()), &[]).await
    }

    /// `VerifyRecord`.
    pub async fn verify_record(&self, id: &PatientId, record_id: &str, version: u32) -> Result<Verification> {
        self.call_sealed::<f::VerifyRecord, _>((id.clone(), record_id.to_owned(), version), &[]).await
    }

    /// `ListRecords`, optionally of one kind; pass the returned bookmark for the next page.
    pub async fn list_records(
        &self,
        id: &PatientId,
        kind: Option<RecordKind>,
        page_size: u32,
        bookmark: &str,
    ) -> Result<RecordPage> {
        self.call_sealed::<f::ListRecords, _>((id.clone(), KindFilter::from(kind), page_size, bookmark.to_owned()), &[])
            .await
    }

    /// `VerifyPrescription`: compares the hash of the pharmacist's copy with the ledger's.
    pub async fn verify_prescription(&self, record_id: &str, hash: &str) -> Result<PrescriptionCheck> {
        self.call_sealed::<f::VerifyPrescription, _>((record_id.to_owned(), hash.to_owned()), &[]).await
    }

    /// `DispensePrescription`: once only, with the dispensing code from the patient's slip.
    pub async fn dispense_prescription(&self, slip: &Slip) -> Result<PrescriptionStatus> {
        let code = slip.dispense_code.as_deref().ok_or_else(|| {
            EhrClientError::Usage(format!(
                "the slip of {} carries no dispensing code; only the slip written when the prescription was added does",
                slip.record_id
            ))
        })?;
        let params = (slip.record_id.clone(), copy_hash(&slip.copy)?);
        self.call_sealed::<f::DispensePrescription, _>(params, &[(TRANSIENT_DISPENSE_CODE, code.as_bytes().to_vec())])
            .await
    }

    /// `RequestErasure`: the patient has their private data purged.
    pub async fn request_erasure(&self, id: &PatientId) -> Result<PatientRecord> {
        self.call_sealed::<f::RequestErasure, _>((id.clone(),), &[]).await
    }

    /// `AuditTrail`.
    pub async fn audit_trail(&self, id: &PatientId) -> Result<Vec<AuditLine>> {
        self.call_sealed::<f::AuditTrail, _>((id.clone(),), &[]).await
    }

    /// `SearchPatients` (works on LevelDB and CouchDB peers). The query goes as
    /// transient data; a search by name, birth year or diagnosis finds only
    /// patients the caller opened access to (or themselves).
    pub async fn search_patients(&self, query: &PatientQuery, page_size: u32, bookmark: &str) -> Result<PatientHits> {
        let transient = [(TRANSIENT_QUERY, json_arg(query)?.into_bytes())];
        self.call_sealed::<f::SearchPatients, _>((page_size, bookmark.to_owned()), &transient).await
    }

    /// `SearchPatientsRich` (CouchDB peers only).
    pub async fn search_patients_rich(&self, query: &PatientQuery, limit: u32) -> Result<PatientHits> {
        let transient = [(TRANSIENT_QUERY, json_arg(query)?.into_bytes())];
        self.call_sealed::<f::SearchPatientsRich, _>((limit,), &transient).await
    }

    /// `SearchRecords`.
    pub async fn search_records(
        &self,
        id: &PatientId,
        query: &RecordQuery,
        page_size: u32,
        bookmark: &str,
    ) -> Result<RecordPage> {
        let params = (id.clone(), page_size, bookmark.to_owned());
        self.call_sealed::<f::SearchRecords, _>(params, &[(TRANSIENT_QUERY, json_arg(query)?.into_bytes())]).await
    }

    /// `PatientHistory`.
    pub async fn patient_history(&self, id: &PatientId) -> Result<PatientVersions> {
        self.call_sealed::<f::PatientHistory, _>((id.clone(),), &[]).await
    }

    /// `RecordHistory`.
    pub async fn record_history(&self, id: &PatientId, record_id: &str) -> Result<RecordVersions> {
        self.call_sealed::<f::RecordHistory, _>((id.clone(), record_id.to_owned()), &[]).await
    }

    /// `SetStanding`: an organisation admin suspends or reinstates one of its identities.
    pub async fn set_standing(&self, person: &Person, suspended: bool, reason: &str) -> Result<Standing> {
        self.call::<f::SetStanding>((person.clone(), suspended, reason.to_owned()), &[]).await
    }

    /// `NotificationKey`: the key that opens the caller's notifications (a
    /// patient's own, a regulator's organisation's), fetched sealed.
    pub async fn notification_key(&self) -> Result<OpeningKey> {
        let seed: NotificationKeySeed = self.call_sealed::<f::NotificationKey, _>((), &[]).await?;
        let bytes: [u8; 32] = hex::decode(&seed.seed).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
            EhrClientError::Decode("NotificationKey answered a seed that is not 32 bytes of hex".into())
        })?;
        Ok(OpeningKey::from_random_bytes(bytes))
    }

    /// The caller's notifications (who registered, changed, viewed or was
    /// refused, consent changes), from `start`: each event's notices are
    /// sealed per recipient, so this fetches the caller's notification key
    /// and keeps the events that hold a notice it opens. Only patients and
    /// regulators have one.
    pub async fn notifications(&self, start: Start) -> Result<EventStream<(ChaincodeEvent, Notification)>> {
        let key = std::sync::Arc::new(self.notification_key().await?);
        let network = self.contract.network();
        let stream = network.chaincode_events(self.contract.chaincode(), start).await?;
        Ok(stream
            .filter_map(move |item| {
                let key = key.clone();
                async move {
                    match item {
                        Ok(event) if event.event_name != EVENT_NAME => None,
                        Ok(event) => match serde_json::from_slice::<SealedNotices>(&event.payload) {
                            Ok(sealed) => sealed
                                .notices
                                .iter()
                                .find_map(|n| key.open::<Notification>(&event.transaction_id, n).ok())
                                .map(|n| Ok((event, n))),
                            Err(e) => Some(Err(fabric_gateway_client::GatewayError::Decode {
                                what: "an EHR event",
                                message: e.to_string(),
                            })),
                        },
                        Err(e) => Some(Err(e)),
                    }
                }
            })
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ehr_api::model::{Attachment, MAX_ATTACHMENTS, RecordBody};

    #[test]
    fn input_that_breaks_the_contracts_rules_is_refused_before_sending() {
        let details = PatientDetails {
            name: "Jane Doe".into(),
            birth_date: "1984-13-01".into(),
            sex: "female".into(),
            contact: String::new(),
            description: String::new(),
        };
        let err = EhrClient::patient_transient(&details).unwrap_err();
        assert!(matches!(err, EhrClientError::Invalid(ref i) if i.field.contains("birthDate")), "{err:?}");

        let file = Attachment {
            sha256: "ab".repeat(32),
            size: 1,
            media_type: "application/pdf".into(),
            location: "file:///x".into(),
        };
        let record =
            RecordInput::new(RecordBody::ClinicalNote { text: "fine".into() }, vec![file; MAX_ATTACHMENTS + 1]);
        let err = EhrClient::record_transient(&record, &"00".repeat(32)).unwrap_err();
        assert!(matches!(err, EhrClientError::Invalid(ref i) if i.field == "attachments"), "{err:?}");
    }
}

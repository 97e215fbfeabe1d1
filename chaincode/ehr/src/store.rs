//! Where things live on the ledger, and the one place that reads and writes them.
//!
//! Public state (every org sees it, it is in every block): patient records
//! (ids, attending doctors, hashes, stamps), consents, access entries and
//! access windows. The private collection [`COLLECTION`] (hospital orgs only):
//! every version of every patient's data, with its salt. Keys are composite
//! keys of opaque ids, so no key reveals patient data either.

use fabric_shim::Stub;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{EhrError, Result};
use crate::model::{
    AccessEntry, Consent, Grantee, PatientId, PatientRecord, Person, PrescriptionStatus, PrivatePatient, PrivateRecord,
    RecordMeta, Standing,
};
use crate::search::SearchDoc;

/// The private data collection of the hospital organisations (see `collections_config.json`).
pub const COLLECTION: &str = "patientData";
/// How long an opened access window lets its owner read (seconds).
pub const ACCESS_WINDOW_SECONDS: i64 = 15 * 60;

const PATIENT: &str = "ehr.patient";
const PATIENT_VERSION: &str = "ehr.patient.version";
const CONSENT: &str = "ehr.consent";
const ACCESS: &str = "ehr.access";
const WINDOW: &str = "ehr.window";

/// The hash public state keeps of one version: SHA-256 of the salt bytes and the data's JSON.
pub fn version_hash(private: &PrivatePatient) -> Result<String> {
    let salt = hex::decode(&private.salt).map_err(|_| EhrError::bad("salt", "must be hex"))?;
    let mut h = Sha256::new();
    h.update(&salt);
    h.update(serde_json::to_vec(&private.details)?);
    Ok(hex::encode(h.finalize()))
}

async fn get_json<T: DeserializeOwned>(stub: &Stub, key: &str) -> Result<Option<T>> {
    match stub.get_state(key).await? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

async fn put_json<T: Serialize>(stub: &Stub, key: &str, value: &T) -> Result<()> {
    Ok(stub.put_state(key, serde_json::to_vec(value)?).await?)
}

fn key(stub: &Stub, kind: &str, parts: &[&str]) -> Result<String> {
    Ok(stub.create_composite_key(kind, parts)?)
}

/// A patient's public record, if registered.
pub async fn patient(stub: &Stub, id: &PatientId) -> Result<Option<PatientRecord>> {
    get_json(stub, &key(stub, PATIENT, &[id.as_str()])?).await
}

/// Writes a patient's public record.
pub async fn put_patient(stub: &Stub, record: &PatientRecord) -> Result<()> {
    put_json(stub, &key(stub, PATIENT, &[record.id.as_str()])?, record).await
}

fn version_key(stub: &Stub, id: &PatientId, version: u32) -> Result<String> {
    key(stub, PATIENT_VERSION, &[id.as_str(), &format!("{version:010}")])
}

/// Writes one version of a patient's data into the private collection.
pub async fn put_private(stub: &Stub, id: &PatientId, version: u32, private: &PrivatePatient) -> Result<()> {
    let bytes = serde_json::to_vec(private)?;
    Ok(stub.put_private_data(COLLECTION, &version_key(stub, id, version)?, bytes).await?)
}

/// One version of a patient's data, if this peer holds it.
pub async fn private(stub: &Stub, id: &PatientId, version: u32) -> Result<Option<PrivatePatient>> {
    match stub.get_private_data(COLLECTION, &version_key(stub, id, version)?).await? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

fn grantee_key(g: &Grantee) -> String {
    match g {
        Grantee::Doctor { person } => format!("doctor:{}:{}", person.msp, person.id),
        Grantee::Organisation { msp } => format!("org:{msp}"),
    }
}

/// The consent given to `grantee`, revoked or not.
pub async fn consent(stub: &Stub, id: &PatientId, grantee: &Grantee) -> Result<Option<Consent>> {
    get_json(stub, &key(stub, CONSENT, &[id.as_str(), &grantee_key(grantee)])?).await
}

/// Writes a consent.
pub async fn put_consent(stub: &Stub, c: &Consent) -> Result<()> {
    put_json(stub, &key(stub, CONSENT, &[c.patient_id.as_str(), &grantee_key(&c.grantee)])?, c).await
}

/// Every consent a patient ever gave, revoked ones included.
pub async fn consents(stub: &Stub, id: &PatientId) -> Result<Vec<Consent>> {
    let it = stub.get_state_by_partial_composite_key(CONSENT, &[id.as_str()]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

/// Records an access attempt; granted ones also open the caller's window.
pub async fn put_access(stub: &Stub, entry: &AccessEntry) -> Result<()> {
    put_json(stub, &key(stub, ACCESS, &[entry.patient_id.as_str(), &entry.stamp.tx_id])?, entry).await?;
    if let Some(until) = entry.until {
        let w = key(stub, WINDOW, &[entry.patient_id.as_str(), &entry.stamp.actor.msp, &entry.stamp.actor.id])?;
        stub.put_state(&w, until.to_string().into_bytes()).await?;
    }
    Ok(())
}

/// Whether `person` opened a window on `id` that is still open at `now`.
pub async fn window_open(stub: &Stub, id: &PatientId, person: &Person, now: i64) -> Result<bool> {
    let w = key(stub, WINDOW, &[id.as_str(), &person.msp, &person.id])?;
    let until: Option<i64> =
        stub.get_state(&w).await?.and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok());
    Ok(until.is_some_and(|until| now < until))
}

/// Every access attempt on a patient, in transaction-id order.
pub async fn access_log(stub: &Stub, id: &PatientId) -> Result<Vec<AccessEntry>> {
    let it = stub.get_state_by_partial_composite_key(ACCESS, &[id.as_str()]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

const RECORD: &str = "ehr.record";
const RECORD_VERSION: &str = "ehr.record.version";
const RECORD_BY_KIND: &str = "ehr.record.kind";
const PRESCRIPTION: &str = "ehr.prescription";

/// The hash public state keeps of one record version.
pub fn record_hash(private: &PrivateRecord) -> Result<String> {
    let salt = hex::decode(&private.salt).map_err(|_| EhrError::bad("salt", "must be hex"))?;
    let mut h = Sha256::new();
    h.update(&salt);
    h.update(serde_json::to_vec(&(&private.body, &private.attachments))?);
    Ok(hex::encode(h.finalize()))
}

/// A record's public metadata.
pub async fn record(stub: &Stub, patient: &PatientId, record_id: &str) -> Result<Option<RecordMeta>> {
    get_json(stub, &key(stub, RECORD, &[patient.as_str(), record_id])?).await
}

/// Writes a record's metadata; a new record also gets its kind/date index entry.
pub async fn put_record(stub: &Stub, meta: &RecordMeta, new: bool) -> Result<()> {
    put_json(stub, &key(stub, RECORD, &[meta.patient_id.as_str(), &meta.id])?, meta).await?;
    if new {
        let kind = meta.kind.as_str();
        let index = key(
            stub,
            RECORD_BY_KIND,
            &[meta.patient_id.as_str(), kind, &format!("{:012}", meta.created.at), &meta.id],
        )?;
        stub.put_state(&index, vec![0]).await?;
    }
    Ok(())
}

fn record_version_key(stub: &Stub, patient: &PatientId, record_id: &str, version: u32) -> Result<String> {
    key(stub, RECORD_VERSION, &[patient.as_str(), record_id, &format!("{version:010}")])
}

/// Writes one version of a record's content into the private collection.
pub async fn put_private_record(stub: &Stub, meta: &RecordMeta, private: &PrivateRecord) -> Result<()> {
    let k = record_version_key(stub, &meta.patient_id, &meta.id, meta.version)?;
    Ok(stub.put_private_data(COLLECTION, &k, serde_json::to_vec(private)?).await?)
}

/// One version of a record's content, if this peer holds it.
pub async fn private_record(
    stub: &Stub,
    patient: &PatientId,
    record_id: &str,
    version: u32,
) -> Result<Option<PrivateRecord>> {
    match stub.get_private_data(COLLECTION, &record_version_key(stub, patient, record_id, version)?).await? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Every record of a patient (metadata), for erasure and audit.
pub async fn records(stub: &Stub, patient: &PatientId) -> Result<Vec<RecordMeta>> {
    let it = stub.get_state_by_partial_composite_key(RECORD, &[patient.as_str()]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

/// Removes one version of a record's content from every peer (hash stays on the ledger).
pub async fn purge_private_record(stub: &Stub, patient: &PatientId, record_id: &str, version: u32) -> Result<()> {
    Ok(stub.purge_private_data(COLLECTION, &record_version_key(stub, patient, record_id, version)?).await?)
}

/// Removes one version of a patient's details from every peer.
pub async fn purge_private(stub: &Stub, patient: &PatientId, version: u32) -> Result<()> {
    Ok(stub.purge_private_data(COLLECTION, &version_key(stub, patient, version)?).await?)
}

/// A prescription's public status.
pub async fn prescription(stub: &Stub, record_id: &str) -> Result<Option<PrescriptionStatus>> {
    get_json(stub, &key(stub, PRESCRIPTION, &[record_id])?).await
}

/// Writes a prescription's public status.
pub async fn put_prescription(stub: &Stub, status: &PrescriptionStatus) -> Result<()> {
    put_json(stub, &key(stub, PRESCRIPTION, &[&status.record_id])?, status).await
}

const SEARCH: &str = "ehr.search";

fn search_key(stub: &Stub, patient: &PatientId) -> Result<String> {
    key(stub, SEARCH, &[patient.as_str()])
}

/// A patient's search document, if this peer holds it.
pub async fn search_doc(stub: &Stub, patient: &PatientId) -> Result<Option<SearchDoc>> {
    match stub.get_private_data(COLLECTION, &search_key(stub, patient)?).await? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Writes a patient's search document.
pub async fn put_search_doc(stub: &Stub, doc: &SearchDoc) -> Result<()> {
    Ok(stub.put_private_data(COLLECTION, &search_key(stub, &doc.patient_id)?, serde_json::to_vec(doc)?).await?)
}

/// Removes a patient's search document from every peer.
pub async fn purge_search_doc(stub: &Stub, patient: &PatientId) -> Result<()> {
    Ok(stub.purge_private_data(COLLECTION, &search_key(stub, patient)?).await?)
}

/// Every search document this peer holds, by patient id.
pub async fn search_docs(stub: &Stub) -> Result<Vec<SearchDoc>> {
    let it = stub.get_private_data_by_partial_composite_key(COLLECTION, SEARCH, &[]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

const STANDING: &str = "ehr.standing";

/// An identity's standing, if an admin ever set one.
pub async fn standing(stub: &Stub, person: &Person) -> Result<Option<Standing>> {
    get_json(stub, &key(stub, STANDING, &[&person.msp, &person.id])?).await
}

/// Writes an identity's standing.
pub async fn put_standing(stub: &Stub, standing: &Standing) -> Result<()> {
    put_json(stub, &key(stub, STANDING, &[&standing.person.msp, &standing.person.id])?, standing).await
}

/// Every committed version of a patient's public record, newest first.
pub async fn patient_history(stub: &Stub, id: &PatientId) -> Result<Vec<(String, i64, Option<PatientRecord>)>> {
    history(stub, &key(stub, PATIENT, &[id.as_str()])?).await
}

/// Every committed version of a record's metadata, newest first.
pub async fn record_history(
    stub: &Stub,
    id: &PatientId,
    record_id: &str,
) -> Result<Vec<(String, i64, Option<RecordMeta>)>> {
    history(stub, &key(stub, RECORD, &[id.as_str(), record_id])?).await
}

async fn history<T: DeserializeOwned>(stub: &Stub, key: &str) -> Result<Vec<(String, i64, Option<T>)>> {
    let it = stub.get_history_for_key(key).await?;
    let mut out = Vec::new();
    for m in it.collect_all().await? {
        let value = if m.is_delete { None } else { Some(serde_json::from_slice(&m.value)?) };
        out.push((m.tx_id, m.timestamp.map(|t| t.seconds).unwrap_or_default(), value));
    }
    Ok(out)
}

/// Index entries of a patient's records, optionally of one kind: (kind, created at, record id), sorted.
pub async fn record_index(stub: &Stub, patient: &PatientId, kind: Option<&str>) -> Result<Vec<(String, i64, String)>> {
    let mut attrs = vec![patient.as_str()];
    attrs.extend(kind);
    let it = stub.get_state_by_partial_composite_key(RECORD_BY_KIND, &attrs).await?;
    let mut out = Vec::new();
    for kv in it.collect_all().await? {
        let (_, parts) = stub.split_composite_key(&kv.key)?;
        if let [_, kind, at, id] = parts.as_slice() {
            out.push((kind.clone(), at.parse().unwrap_or_default(), id.clone()));
        }
    }
    Ok(out)
}

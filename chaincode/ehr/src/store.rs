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
use crate::model::{AccessEntry, Consent, Grantee, PatientId, PatientRecord, Person, PrivatePatient};

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

/// Until when `person` may read `id`, if they opened a window.
pub async fn window(stub: &Stub, id: &PatientId, person: &Person) -> Result<Option<i64>> {
    let w = key(stub, WINDOW, &[id.as_str(), &person.msp, &person.id])?;
    Ok(stub.get_state(&w).await?.and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok()))
}

/// Every access attempt on a patient, in transaction-id order.
pub async fn access_log(stub: &Stub, id: &PatientId) -> Result<Vec<AccessEntry>> {
    let it = stub.get_state_by_partial_composite_key(ACCESS, &[id.as_str()]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

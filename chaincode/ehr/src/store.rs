//! Where things live on the ledger, and the one place that reads and writes them.
//!
//! Public state (every org sees it, it is in every block): patient records
//! (ids, attending doctors, hashes, stamps), consents, access entries and
//! access windows. The private collection [`COLLECTION`] (hospital orgs only):
//! every version of every patient's data, with its salt. Keys are composite
//! keys of opaque ids, so no key reveals patient data either.
//!
//! Every key about a patient, public or private, is written together with a
//! key-level endorsement policy naming the patient's home hospital's peer
//! ([`home_policy`]): once it exists, no other organisation can change or purge
//! it, whatever chaincode build it runs. Creating a key is governed by the
//! chaincode's own policy (every hospital). An identity's standing is guarded by
//! its own organisation's peer; the roles registry by every member's peer.

use fabric_shim::Stub;
use fabric_shim::policy::{KeyEndorsementPolicy, MspRole};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{EhrError, Result};
use crate::model::{
    AccessEntry, Consent, FileKey, Grantee, PatientId, PatientRecord, Person, PrescriptionStatus, PrivatePatient,
    PrivateRecord, RecordMeta, Standing,
};
use crate::registry::RoleRegistry;
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
    decode(stub.get_state(key).await?)
}

async fn get_private_json<T: DeserializeOwned>(stub: &Stub, key: &str) -> Result<Option<T>> {
    decode(stub.get_private_data(COLLECTION, key).await?)
}

fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> Result<Option<T>> {
    Ok(bytes.map(|b| serde_json::from_slice(&b)).transpose()?)
}

async fn put_json<T: Serialize>(stub: &Stub, key: &str, value: &T) -> Result<()> {
    Ok(stub.put_state(key, serde_json::to_vec(value)?).await?)
}

/// The key-level endorsement policy of every key about a patient: their home hospital's peer.
pub fn home_policy(home_msp: &str) -> Vec<u8> {
    org_policy(&[home_msp])
}

fn org_policy(msps: &[&str]) -> Vec<u8> {
    let mut policy = KeyEndorsementPolicy::new();
    policy.add_orgs(MspRole::Peer, msps);
    policy.to_bytes()
}

/// Gives a public key (`private` false) or a key of [`COLLECTION`] the
/// key-level policy `policy`, unless it already has it.
///
/// Only a change is written: Fabric invalidates (as `ENDORSEMENT_POLICY_FAILURE`)
/// every later transaction of a block that writes a key whose policy an earlier
/// one set, so rewriting an unchanged policy would turn ordinary read conflicts
/// into policy failures.
async fn ensure_policy(stub: &Stub, private: bool, key: &str, policy: &[u8]) -> Result<()> {
    let current = if private {
        stub.get_private_data_validation_parameter(COLLECTION, key).await?
    } else {
        stub.get_state_validation_parameter(key).await?
    };
    if current.as_deref() == Some(policy) {
        return Ok(());
    }
    if private {
        stub.set_private_data_validation_parameter(COLLECTION, key, policy).await?;
    } else {
        stub.set_state_validation_parameter(key, policy).await?;
    }
    Ok(())
}

/// Writes a public key about a patient, guarded by the home hospital.
async fn put_guarded<T: Serialize>(stub: &Stub, key: &str, value: &T, home_msp: &str) -> Result<()> {
    put_json(stub, key, value).await?;
    ensure_policy(stub, false, key, &home_policy(home_msp)).await
}

/// Writes a private key about a patient, guarded by the home hospital.
async fn put_private_guarded(stub: &Stub, key: &str, bytes: Vec<u8>, home_msp: &str) -> Result<()> {
    stub.put_private_data(COLLECTION, key, bytes).await?;
    ensure_policy(stub, true, key, &home_policy(home_msp)).await
}

const REGISTRY: &str = "ehr.registry";

/// The roles registry in force, if one was set.
pub async fn role_registry(stub: &Stub) -> Result<Option<RoleRegistry>> {
    get_json(stub, &key(stub, REGISTRY, &[])?).await
}

/// Writes the roles registry, guarded by every organisation it lists.
pub async fn put_role_registry(stub: &Stub, registry: &RoleRegistry) -> Result<()> {
    let k = key(stub, REGISTRY, &[])?;
    put_json(stub, &k, registry).await?;
    let members: Vec<&str> = registry.organisations.iter().map(|o| o.msp.as_str()).collect();
    ensure_policy(stub, false, &k, &org_policy(&members)).await
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
    put_guarded(stub, &key(stub, PATIENT, &[record.id.as_str()])?, record, &record.home_msp).await
}

/// The private key of one version of a patient's details. It names the
/// version's (public, salted) hash too, so that concurrent updates write
/// different keys and conflict only on the patient's record, as a read conflict.
fn version_key(stub: &Stub, patient: &PatientRecord, version: u32) -> Result<Option<String>> {
    let Some(hash) = version_index(version).and_then(|i| patient.hashes.get(i)) else { return Ok(None) };
    Ok(Some(key(stub, PATIENT_VERSION, &[patient.id.as_str(), &format!("{version:010}"), hash])?))
}

fn version_index(version: u32) -> Option<usize> {
    (version as usize).checked_sub(1)
}

/// Writes the current version of a patient's data into the private collection.
pub async fn put_private(stub: &Stub, patient: &PatientRecord, private: &PrivatePatient) -> Result<()> {
    let k = version_key(stub, patient, patient.version)?.ok_or_else(|| {
        EhrError::Internal(format!("patient {} has no hash for version {}", patient.id, patient.version))
    })?;
    put_private_guarded(stub, &k, serde_json::to_vec(private)?, &patient.home_msp).await
}

/// One version of a patient's data, if this peer holds it.
pub async fn private(stub: &Stub, patient: &PatientRecord, version: u32) -> Result<Option<PrivatePatient>> {
    let Some(k) = version_key(stub, patient, version)? else { return Ok(None) };
    get_private_json(stub, &k).await
}

const FILE_KEY: &str = "ehr.patient.filekey";

/// Writes the patient's file key into the private collection.
pub async fn put_file_key(stub: &Stub, patient: &PatientRecord, file_key: &FileKey) -> Result<()> {
    let k = key(stub, FILE_KEY, &[patient.id.as_str()])?;
    put_private_guarded(stub, &k, serde_json::to_vec(file_key)?, &patient.home_msp).await
}

/// The patient's file key, if this peer holds it.
pub async fn file_key(stub: &Stub, patient: &PatientRecord) -> Result<Option<FileKey>> {
    get_private_json(stub, &key(stub, FILE_KEY, &[patient.id.as_str()])?).await
}

/// Removes the patient's file key from every peer: their stored files become unreadable.
pub async fn purge_file_key(stub: &Stub, patient: &PatientRecord) -> Result<()> {
    Ok(stub.purge_private_data(COLLECTION, &key(stub, FILE_KEY, &[patient.id.as_str()])?).await?)
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
pub async fn put_consent(stub: &Stub, c: &Consent, home_msp: &str) -> Result<()> {
    put_guarded(stub, &key(stub, CONSENT, &[c.patient_id.as_str(), &grantee_key(&c.grantee)])?, c, home_msp).await
}

/// Every consent a patient ever gave, revoked ones included.
pub async fn consents(stub: &Stub, id: &PatientId) -> Result<Vec<Consent>> {
    let it = stub.get_state_by_partial_composite_key(CONSENT, &[id.as_str()]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

/// Records an access attempt; granted ones also open the caller's window.
pub async fn put_access(stub: &Stub, entry: &AccessEntry, home_msp: &str) -> Result<()> {
    let k = key(stub, ACCESS, &[entry.patient_id.as_str(), &entry.stamp.tx_id])?;
    put_guarded(stub, &k, entry, home_msp).await?;
    if let Some(until) = entry.until {
        let w = key(stub, WINDOW, &[entry.patient_id.as_str(), &entry.stamp.actor.msp, &entry.stamp.actor.id])?;
        put_guarded(stub, &w, &until, home_msp).await?;
    }
    Ok(())
}

/// Whether `person` opened a window on `id` that is still open at `now`.
pub async fn window_open(stub: &Stub, id: &PatientId, person: &Person, now: i64) -> Result<bool> {
    let w = key(stub, WINDOW, &[id.as_str(), &person.msp, &person.id])?;
    let until: Option<i64> = get_json(stub, &w).await?;
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
pub async fn put_record(stub: &Stub, meta: &RecordMeta, new: bool, home_msp: &str) -> Result<()> {
    put_guarded(stub, &key(stub, RECORD, &[meta.patient_id.as_str(), &meta.id])?, meta, home_msp).await?;
    if new {
        let kind = meta.kind.as_str();
        let index = key(
            stub,
            RECORD_BY_KIND,
            &[meta.patient_id.as_str(), kind, &format!("{:012}", meta.created.at), &meta.id],
        )?;
        put_guarded(stub, &index, &0, home_msp).await?;
    }
    Ok(())
}

/// The private key of one version of a record; names the version's hash, as [`version_key`] does.
fn record_version_key(stub: &Stub, meta: &RecordMeta, version: u32) -> Result<Option<String>> {
    let Some(hash) = version_index(version).and_then(|i| meta.hashes.get(i)) else { return Ok(None) };
    Ok(Some(key(stub, RECORD_VERSION, &[meta.patient_id.as_str(), &meta.id, &format!("{version:010}"), hash])?))
}

/// Writes one version of a record's content into the private collection.
pub async fn put_private_record(stub: &Stub, meta: &RecordMeta, private: &PrivateRecord, home_msp: &str) -> Result<()> {
    let k = record_version_key(stub, meta, meta.version)?
        .ok_or_else(|| EhrError::Internal(format!("record {} has no hash for version {}", meta.id, meta.version)))?;
    put_private_guarded(stub, &k, serde_json::to_vec(private)?, home_msp).await
}

/// One version of a record's content, if this peer holds it.
pub async fn private_record(stub: &Stub, meta: &RecordMeta, version: u32) -> Result<Option<PrivateRecord>> {
    let Some(k) = record_version_key(stub, meta, version)? else { return Ok(None) };
    get_private_json(stub, &k).await
}

/// Every record of a patient (metadata), for erasure and audit.
pub async fn records(stub: &Stub, patient: &PatientId) -> Result<Vec<RecordMeta>> {
    let it = stub.get_state_by_partial_composite_key(RECORD, &[patient.as_str()]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

/// Removes one version of a record's content from every peer (hash stays on the ledger).
pub async fn purge_private_record(stub: &Stub, meta: &RecordMeta, version: u32) -> Result<()> {
    match record_version_key(stub, meta, version)? {
        Some(k) => Ok(stub.purge_private_data(COLLECTION, &k).await?),
        None => Ok(()),
    }
}

/// Removes one version of a patient's details from every peer.
pub async fn purge_private(stub: &Stub, patient: &PatientRecord, version: u32) -> Result<()> {
    match version_key(stub, patient, version)? {
        Some(k) => Ok(stub.purge_private_data(COLLECTION, &k).await?),
        None => Ok(()),
    }
}

/// A prescription's public status.
pub async fn prescription(stub: &Stub, record_id: &str) -> Result<Option<PrescriptionStatus>> {
    get_json(stub, &key(stub, PRESCRIPTION, &[record_id])?).await
}

/// Writes a prescription's public status, guarded by the patient's home hospital.
pub async fn put_prescription(stub: &Stub, status: &PrescriptionStatus) -> Result<()> {
    put_guarded(stub, &key(stub, PRESCRIPTION, &[&status.record_id])?, status, &status.home_msp).await
}

const SEARCH: &str = "ehr.search";

fn search_key(stub: &Stub, patient: &PatientId) -> Result<String> {
    key(stub, SEARCH, &[patient.as_str()])
}

/// A patient's search document, if this peer holds it.
pub async fn search_doc(stub: &Stub, patient: &PatientId) -> Result<Option<SearchDoc>> {
    get_private_json(stub, &search_key(stub, patient)?).await
}

/// Writes a patient's search document.
pub async fn put_search_doc(stub: &Stub, doc: &SearchDoc, home_msp: &str) -> Result<()> {
    put_private_guarded(stub, &search_key(stub, &doc.patient_id)?, serde_json::to_vec(doc)?, home_msp).await
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

/// Writes an identity's standing, guarded by that identity's own organisation.
pub async fn put_standing(stub: &Stub, standing: &Standing) -> Result<()> {
    let k = key(stub, STANDING, &[&standing.person.msp, &standing.person.id])?;
    put_json(stub, &k, standing).await?;
    ensure_policy(stub, false, &k, &org_policy(&[&standing.person.msp])).await
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

//! Where things live on the ledger, and the one place that reads and writes them.
//!
//! Nothing about a patient is in public state: a client of any organisation
//! reads every block, and a public key or value names what it is about. Two
//! private data collections hold it all:
//!
//! - [`COLLECTION`] (`patientData`, the hospitals): every version of every
//!   patient's details and records with their salts, file keys, search documents.
//! - [`AUDIT_COLLECTION`] (`auditData`, the hospitals and the regulator): who
//!   may reach each patient and who did: patient records (home hospital,
//!   attending doctors, version hashes, stamps), consents, access entries and
//!   windows, record metadata, prescription statuses, and their histories.
//!
//! A block carries a private write only as SHA-256 hashes of its key and value.
//! Hashes of guessable keys (`ehr.access` + `P-0001` + the transaction id) or
//! values (an access entry) could be confirmed by hashing guesses, so every
//! key names a patient or record by its *pseudonym*, an HMAC of the id under
//! the channel secret, and every `auditData` value is stored with a salt
//! derived from the same secret. The channel secret itself is one `auditData`
//! key, written once at deployment (`SetChannelSecret`); members' peers hold
//! it, clients never see it.
//!
//! Public state keeps only the roles registry and identities' standings.
//!
//! Every key about a patient carries a key-level endorsement policy naming the
//! patient's home hospital's peer ([`home_policy`]): once it exists, no other
//! organisation can change or purge it, whatever chaincode build it runs.
//! Creating a key is governed by the chaincode's own policy (every hospital).
//! An identity's standing is guarded by its own organisation's peer; the roles
//! registry and the channel secret by every member's peer.
//!
//! Fabric refuses any write after a range query over private data in the same
//! transaction, so functions that write never list private keys: a patient's
//! record ids are kept in one list key instead.

use fabric_chaincode_shim::Stub;
use fabric_chaincode_shim::policy::{KeyEndorsementPolicy, MspRole};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use ehr_api::hash::mac;
use ehr_api::hash::pseudonym;

use crate::error::{EhrError, Result};
use crate::model::SearchDoc;
use crate::model::{
    AccessEntry, Consent, FileKey, Grantee, PatientId, PatientRecord, Person, PrescriptionStatus, PrivatePatient,
    PrivateRecord, RecordMeta, Standing,
};
use ehr_api::registry::RoleRegistry;
use ehr_api::views::Verification;

/// The private data collection of the hospital organisations (see `collections_config.json`).
pub(crate) const COLLECTION: &str = "patientData";
/// The private data collection of every member: who reached whom, and on what grounds.
pub(crate) const AUDIT_COLLECTION: &str = "auditData";
/// How long an opened access window lets its owner read (seconds).
pub(crate) const ACCESS_WINDOW_SECONDS: i64 = 15 * 60;

const SECRET: &str = "ehr.secret";
const PATIENT: &str = "ehr.patient";
const PATIENT_HISTORY: &str = "ehr.patient.history";
const PATIENT_VERSION: &str = "ehr.patient.version";
const CONSENT: &str = "ehr.consent";
const ACCESS: &str = "ehr.access";
const WINDOW: &str = "ehr.window";

/// Compares the hash of a version's private copy (if held) with the ledger's.
pub(crate) fn verification(
    patient_id: PatientId,
    version: u32,
    hashes: &[String],
    private_hash: Option<String>,
) -> Result<Verification> {
    let ledger_hash = hashes
        .get((version as usize).wrapping_sub(1))
        .cloned()
        .ok_or_else(|| EhrError::bad("version", format!("must be 1..={}", hashes.len())))?;
    let matches = private_hash.as_deref() == Some(ledger_hash.as_str());
    Ok(Verification { patient_id, version, ledger_hash, private_hash, matches })
}

/// Where a key lives.
#[derive(Clone, Copy)]
enum Place {
    Public,
    Private(&'static str),
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
pub(crate) fn home_policy(home_msp: &str) -> Vec<u8> {
    org_policy(&[home_msp])
}

fn org_policy(msps: &[&str]) -> Vec<u8> {
    let mut policy = KeyEndorsementPolicy::new();
    policy.add_orgs(MspRole::Peer, msps);
    policy.to_bytes()
}

/// Gives a key the key-level policy `policy`, unless it already has it.
///
/// Only a change is written: Fabric invalidates (as `ENDORSEMENT_POLICY_FAILURE`)
/// every later transaction of a block that writes a key whose policy an earlier
/// one set, so rewriting an unchanged policy would turn ordinary read conflicts
/// into policy failures.
async fn ensure_policy(stub: &Stub, place: Place, key: &str, policy: &[u8]) -> Result<()> {
    let current = match place {
        Place::Public => stub.get_state_validation_parameter(key).await?,
        Place::Private(c) => stub.get_private_data_validation_parameter(c, key).await?,
    };
    if current.as_deref() == Some(policy) {
        return Ok(());
    }
    match place {
        Place::Public => stub.set_state_validation_parameter(key, policy).await?,
        Place::Private(c) => stub.set_private_data_validation_parameter(c, key, policy).await?,
    }
    Ok(())
}

/// Writes a `patientData` key about a patient, guarded by the home hospital.
async fn put_private_guarded(stub: &Stub, key: &str, bytes: Vec<u8>, home_msp: &str) -> Result<()> {
    stub.put_private_data(COLLECTION, key, bytes).await?;
    ensure_policy(stub, Place::Private(COLLECTION), key, &home_policy(home_msp)).await
}

/// How an `auditData` value is stored: with a salt that only members can
/// derive, so that its hash in the block cannot be confirmed by guessing.
#[derive(Serialize, Deserialize)]
struct Salted<T> {
    salt: String,
    value: T,
}

/// Writes an `auditData` key about a patient, salted and guarded by `policy_msps`.
async fn put_audit<T: Serialize>(stub: &Stub, key: &str, value: &T, policy_msps: &[&str]) -> Result<()> {
    let secret = channel_secret(stub).await?;
    let salt = hex::encode(mac(&secret, &[b"value salt", stub.tx_id().as_bytes(), key.as_bytes()]));
    let bytes = serde_json::to_vec(&Salted { salt, value })?;
    stub.put_private_data(AUDIT_COLLECTION, key, bytes).await?;
    ensure_policy(stub, Place::Private(AUDIT_COLLECTION), key, &org_policy(policy_msps)).await
}

async fn get_audit<T: DeserializeOwned>(stub: &Stub, key: &str) -> Result<Option<T>> {
    let salted: Option<Salted<T>> = decode(stub.get_private_data(AUDIT_COLLECTION, key).await?)?;
    Ok(salted.map(|s| s.value))
}

/// Every `auditData` value under a partial key (read-only functions only:
/// Fabric refuses writes after a private range query).
async fn list_audit<T: DeserializeOwned>(stub: &Stub, kind: &str, parts: &[&str]) -> Result<Vec<(String, T)>> {
    let it = stub.get_private_data_by_partial_composite_key(AUDIT_COLLECTION, kind, parts).await?;
    let mut out = Vec::new();
    for kv in it.collect_all().await? {
        let salted: Salted<T> = serde_json::from_slice(&kv.value)?;
        out.push((kv.key, salted.value));
    }
    Ok(out)
}

/// The channel secret: written once at deployment, held by every member's peer.
pub(crate) async fn channel_secret(stub: &Stub) -> Result<Vec<u8>> {
    let k = key(stub, SECRET, &[])?;
    let secret = stub.get_private_data(AUDIT_COLLECTION, &k).await?.ok_or_else(|| {
        EhrError::Internal(
            "the channel secret is not set: deployment must call SetChannelSecret (network.sh deploy does)".into(),
        )
    })?;
    Ok(secret)
}

/// Whether the channel secret is set.
pub(crate) async fn has_channel_secret(stub: &Stub) -> Result<bool> {
    Ok(stub.get_private_data_hash(AUDIT_COLLECTION, &key(stub, SECRET, &[])?).await?.is_some())
}

/// Writes the channel secret, guarded by every organisation of the registry.
pub(crate) async fn put_channel_secret(stub: &Stub, secret: &[u8], members: &[&str]) -> Result<()> {
    let k = key(stub, SECRET, &[])?;
    stub.put_private_data(AUDIT_COLLECTION, &k, secret.to_vec()).await?;
    ensure_policy(stub, Place::Private(AUDIT_COLLECTION), &k, &org_policy(members)).await
}

async fn patient_pseudonym(stub: &Stub, id: &PatientId) -> Result<String> {
    Ok(pseudonym(&channel_secret(stub).await?, "patient", id.as_str()))
}

/// A secret only members' peers can derive, bound to this transaction: it
/// seeds the sealing of answers and notifications that carry no private data
/// of their own.
pub(crate) async fn seal_secret(stub: &Stub) -> Result<Vec<u8>> {
    Ok(mac(&channel_secret(stub).await?, &[b"seal", stub.tx_id().as_bytes()]).to_vec())
}

/// The seed of the notification key of `recipient` (`patient:<id>` or
/// `org:<msp>`): the chaincode seals notifications to the key pair derived
/// from it, and hands the seed, sealed, to the recipient alone.
pub(crate) async fn notification_seed(stub: &Stub, recipient: &str) -> Result<[u8; 32]> {
    Ok(mac(&channel_secret(stub).await?, &[b"notification key", recipient.as_bytes()]))
}

const REGISTRY: &str = "ehr.registry";

/// The roles registry in force, if one was set.
pub(crate) async fn role_registry(stub: &Stub) -> Result<Option<RoleRegistry>> {
    get_json(stub, &key(stub, REGISTRY, &[])?).await
}

/// Writes the roles registry, guarded by every organisation it lists.
pub(crate) async fn put_role_registry(stub: &Stub, registry: &RoleRegistry) -> Result<()> {
    let k = key(stub, REGISTRY, &[])?;
    put_json(stub, &k, registry).await?;
    let members: Vec<&str> = registry.organisations.iter().map(|o| o.msp.as_str()).collect();
    ensure_policy(stub, Place::Public, &k, &org_policy(&members)).await
}

fn key(stub: &Stub, kind: &str, parts: &[&str]) -> Result<String> {
    Ok(stub.create_composite_key(kind, parts)?)
}

/// A patient's record, if registered.
pub(crate) async fn patient(stub: &Stub, id: &PatientId) -> Result<Option<PatientRecord>> {
    get_audit(stub, &key(stub, PATIENT, &[&patient_pseudonym(stub, id).await?])?).await
}

/// Writes a patient's record, and keeps this version of it for the history.
pub(crate) async fn put_patient(stub: &Stub, record: &PatientRecord) -> Result<()> {
    let pid = patient_pseudonym(stub, &record.id).await?;
    let home = [record.home_msp.as_str()];
    put_audit(stub, &key(stub, PATIENT, &[&pid])?, record, &home).await?;
    let at = format!("{:012}", stub.tx_timestamp()?.seconds);
    put_audit(stub, &key(stub, PATIENT_HISTORY, &[&pid, &at, stub.tx_id()])?, record, &home).await
}

/// The private key of one version of a patient's details. It names the
/// version's (salted) hash too, so that concurrent updates write different
/// keys and conflict only on the patient's record, as a read conflict.
async fn version_key(stub: &Stub, patient: &PatientRecord, version: u32) -> Result<Option<String>> {
    let Some(hash) = version_index(version).and_then(|i| patient.hashes.get(i)) else { return Ok(None) };
    let pid = patient_pseudonym(stub, &patient.id).await?;
    Ok(Some(key(stub, PATIENT_VERSION, &[&pid, &format!("{version:010}"), hash])?))
}

fn version_index(version: u32) -> Option<usize> {
    (version as usize).checked_sub(1)
}

/// Writes the current version of a patient's data into the private collection.
pub(crate) async fn put_private(stub: &Stub, patient: &PatientRecord, private: &PrivatePatient) -> Result<()> {
    let k = version_key(stub, patient, patient.version).await?.ok_or_else(|| {
        EhrError::Internal(format!("patient {} has no hash for version {}", patient.id, patient.version))
    })?;
    put_private_guarded(stub, &k, serde_json::to_vec(private)?, &patient.home_msp).await
}

/// One version of a patient's data, if this peer holds it.
pub(crate) async fn private(stub: &Stub, patient: &PatientRecord, version: u32) -> Result<Option<PrivatePatient>> {
    let Some(k) = version_key(stub, patient, version).await? else { return Ok(None) };
    get_private_json(stub, &k).await
}

const FILE_KEY: &str = "ehr.patient.filekey";

async fn file_key_key(stub: &Stub, patient: &PatientRecord) -> Result<String> {
    key(stub, FILE_KEY, &[&patient_pseudonym(stub, &patient.id).await?])
}

/// Writes the patient's file key into the private collection.
pub(crate) async fn put_file_key(stub: &Stub, patient: &PatientRecord, file_key: &FileKey) -> Result<()> {
    let k = file_key_key(stub, patient).await?;
    put_private_guarded(stub, &k, serde_json::to_vec(file_key)?, &patient.home_msp).await
}

/// The patient's file key, if this peer holds it.
pub(crate) async fn file_key(stub: &Stub, patient: &PatientRecord) -> Result<Option<FileKey>> {
    get_private_json(stub, &file_key_key(stub, patient).await?).await
}

/// Removes the patient's file key from every peer: their stored files become unreadable.
pub(crate) async fn purge_file_key(stub: &Stub, patient: &PatientRecord) -> Result<()> {
    Ok(stub.purge_private_data(COLLECTION, &file_key_key(stub, patient).await?).await?)
}

fn grantee_key(g: &Grantee) -> String {
    match g {
        Grantee::Doctor { person } => format!("doctor:{}:{}", person.msp, person.id),
        Grantee::Organisation { msp } => format!("org:{msp}"),
    }
}

/// The consent given to `grantee`, revoked or not.
pub(crate) async fn consent(stub: &Stub, id: &PatientId, grantee: &Grantee) -> Result<Option<Consent>> {
    get_audit(stub, &key(stub, CONSENT, &[&patient_pseudonym(stub, id).await?, &grantee_key(grantee)])?).await
}

/// Writes a consent.
pub(crate) async fn put_consent(stub: &Stub, c: &Consent, home_msp: &str) -> Result<()> {
    let k = key(stub, CONSENT, &[&patient_pseudonym(stub, &c.patient_id).await?, &grantee_key(&c.grantee)])?;
    put_audit(stub, &k, c, &[home_msp]).await
}

/// Every consent a patient ever gave, revoked ones included (read-only functions only).
pub(crate) async fn consents(stub: &Stub, id: &PatientId) -> Result<Vec<Consent>> {
    let all = list_audit(stub, CONSENT, &[&patient_pseudonym(stub, id).await?]).await?;
    Ok(all.into_iter().map(|(_, c)| c).collect())
}

/// Records an access attempt; granted ones also open the caller's window.
pub(crate) async fn put_access(stub: &Stub, entry: &AccessEntry, home_msp: &str) -> Result<()> {
    let pid = patient_pseudonym(stub, &entry.patient_id).await?;
    put_audit(stub, &key(stub, ACCESS, &[&pid, &entry.stamp.tx_id])?, entry, &[home_msp]).await?;
    if let Some(until) = entry.until {
        let w = key(stub, WINDOW, &[&pid, &entry.stamp.actor.msp, &entry.stamp.actor.id])?;
        put_audit(stub, &w, &until, &[home_msp]).await?;
    }
    Ok(())
}

/// Whether `person` opened a window on `id` that is still open at `now`.
pub(crate) async fn window_open(stub: &Stub, id: &PatientId, person: &Person, now: i64) -> Result<bool> {
    let w = key(stub, WINDOW, &[&patient_pseudonym(stub, id).await?, &person.msp, &person.id])?;
    let until: Option<i64> = get_audit(stub, &w).await?;
    Ok(until.is_some_and(|until| now < until))
}

/// Every access attempt on a patient (read-only functions only).
pub(crate) async fn access_log(stub: &Stub, id: &PatientId) -> Result<Vec<AccessEntry>> {
    let all = list_audit(stub, ACCESS, &[&patient_pseudonym(stub, id).await?]).await?;
    Ok(all.into_iter().map(|(_, e)| e).collect())
}

const RECORD: &str = "ehr.record";
const RECORD_LIST: &str = "ehr.record.list";
const RECORD_HISTORY: &str = "ehr.record.history";
const RECORD_VERSION: &str = "ehr.record.version";
const PRESCRIPTION: &str = "ehr.prescription";

/// A record's metadata.
pub(crate) async fn record(stub: &Stub, patient: &PatientId, record_id: &str) -> Result<Option<RecordMeta>> {
    get_audit(stub, &key(stub, RECORD, &[&patient_pseudonym(stub, patient).await?, record_id])?).await
}

/// Writes a record's metadata (a new record joins the patient's list) and keeps
/// this version of it for the history.
pub(crate) async fn put_record(stub: &Stub, meta: &RecordMeta, new: bool, home_msp: &str) -> Result<()> {
    let pid = patient_pseudonym(stub, &meta.patient_id).await?;
    put_audit(stub, &key(stub, RECORD, &[&pid, &meta.id])?, meta, &[home_msp]).await?;
    let at = format!("{:012}", stub.tx_timestamp()?.seconds);
    put_audit(stub, &key(stub, RECORD_HISTORY, &[&pid, &meta.id, &at, stub.tx_id()])?, meta, &[home_msp]).await?;
    if new {
        let mut ids = record_ids(stub, &meta.patient_id).await?;
        ids.push(meta.id.clone());
        put_audit(stub, &key(stub, RECORD_LIST, &[&pid])?, &ids, &[home_msp]).await?;
    }
    Ok(())
}

/// The ids of every record of a patient, oldest first.
pub(crate) async fn record_ids(stub: &Stub, patient: &PatientId) -> Result<Vec<String>> {
    let k = key(stub, RECORD_LIST, &[&patient_pseudonym(stub, patient).await?])?;
    Ok(get_audit(stub, &k).await?.unwrap_or_default())
}

/// Every record of a patient (metadata), oldest first.
pub(crate) async fn records(stub: &Stub, patient: &PatientId) -> Result<Vec<RecordMeta>> {
    let mut out = Vec::new();
    for id in record_ids(stub, patient).await? {
        if let Some(meta) = record(stub, patient, &id).await? {
            out.push(meta);
        }
    }
    Ok(out)
}

/// The private key of one version of a record; names the version's hash, as [`version_key`] does.
async fn record_version_key(stub: &Stub, meta: &RecordMeta, version: u32) -> Result<Option<String>> {
    let Some(hash) = version_index(version).and_then(|i| meta.hashes.get(i)) else { return Ok(None) };
    let pid = patient_pseudonym(stub, &meta.patient_id).await?;
    Ok(Some(key(stub, RECORD_VERSION, &[&pid, &meta.id, &format!("{version:010}"), hash])?))
}

/// Writes one version of a record's content into the private collection.
pub(crate) async fn put_private_record(
    stub: &Stub,
    meta: &RecordMeta,
    private: &PrivateRecord,
    home_msp: &str,
) -> Result<()> {
    let k = record_version_key(stub, meta, meta.version)
        .await?
        .ok_or_else(|| EhrError::Internal(format!("record {} has no hash for version {}", meta.id, meta.version)))?;
    put_private_guarded(stub, &k, serde_json::to_vec(private)?, home_msp).await
}

/// One version of a record's content, if this peer holds it.
pub(crate) async fn private_record(stub: &Stub, meta: &RecordMeta, version: u32) -> Result<Option<PrivateRecord>> {
    let Some(k) = record_version_key(stub, meta, version).await? else { return Ok(None) };
    get_private_json(stub, &k).await
}

/// Removes one version of a record's content from every peer (its hash stays in the metadata).
pub(crate) async fn purge_private_record(stub: &Stub, meta: &RecordMeta, version: u32) -> Result<()> {
    match record_version_key(stub, meta, version).await? {
        Some(k) => Ok(stub.purge_private_data(COLLECTION, &k).await?),
        None => Ok(()),
    }
}

/// Removes one version of a patient's details from every peer.
pub(crate) async fn purge_private(stub: &Stub, patient: &PatientRecord, version: u32) -> Result<()> {
    match version_key(stub, patient, version).await? {
        Some(k) => Ok(stub.purge_private_data(COLLECTION, &k).await?),
        None => Ok(()),
    }
}

async fn prescription_key(stub: &Stub, record_id: &str) -> Result<String> {
    key(stub, PRESCRIPTION, &[&pseudonym(&channel_secret(stub).await?, "record", record_id)])
}

/// A prescription's status.
pub(crate) async fn prescription(stub: &Stub, record_id: &str) -> Result<Option<PrescriptionStatus>> {
    get_audit(stub, &prescription_key(stub, record_id).await?).await
}

/// Writes a prescription's status, guarded by the patient's home hospital.
pub(crate) async fn put_prescription(stub: &Stub, status: &PrescriptionStatus) -> Result<()> {
    put_audit(stub, &prescription_key(stub, &status.record_id).await?, status, &[&status.home_msp]).await
}

const SEARCH: &str = "ehr.search";

async fn search_key(stub: &Stub, patient: &PatientId) -> Result<String> {
    key(stub, SEARCH, &[&patient_pseudonym(stub, patient).await?])
}

/// A patient's search document, if this peer holds it.
pub(crate) async fn search_doc(stub: &Stub, patient: &PatientId) -> Result<Option<SearchDoc>> {
    get_private_json(stub, &search_key(stub, patient).await?).await
}

/// Writes a patient's search document.
pub(crate) async fn put_search_doc(stub: &Stub, doc: &SearchDoc, home_msp: &str) -> Result<()> {
    put_private_guarded(stub, &search_key(stub, &doc.patient_id).await?, serde_json::to_vec(doc)?, home_msp).await
}

/// Removes a patient's search document from every peer.
pub(crate) async fn purge_search_doc(stub: &Stub, patient: &PatientId) -> Result<()> {
    Ok(stub.purge_private_data(COLLECTION, &search_key(stub, patient).await?).await?)
}

/// Every search document this peer holds (read-only functions only).
pub(crate) async fn search_docs(stub: &Stub) -> Result<Vec<SearchDoc>> {
    let it = stub.get_private_data_by_partial_composite_key(COLLECTION, SEARCH, &[]).await?;
    it.collect_all().await?.into_iter().map(|kv| Ok(serde_json::from_slice(&kv.value)?)).collect()
}

const STANDING: &str = "ehr.standing";

/// An identity's standing, if an admin ever set one.
pub(crate) async fn standing(stub: &Stub, person: &Person) -> Result<Option<Standing>> {
    get_json(stub, &key(stub, STANDING, &[&person.msp, &person.id])?).await
}

/// Writes an identity's standing, guarded by that identity's own organisation.
pub(crate) async fn put_standing(stub: &Stub, standing: &Standing) -> Result<()> {
    let k = key(stub, STANDING, &[&standing.person.msp, &standing.person.id])?;
    put_json(stub, &k, standing).await?;
    ensure_policy(stub, Place::Public, &k, &org_policy(&[&standing.person.msp])).await
}

/// One kept version: (transaction id, timestamp, the value as it was).
pub(crate) type Kept<T> = (String, i64, T);

/// Every committed version of a patient's record, newest first (read-only functions only).
pub(crate) async fn patient_history(stub: &Stub, id: &PatientId) -> Result<Vec<Kept<PatientRecord>>> {
    history(stub, PATIENT_HISTORY, &[&patient_pseudonym(stub, id).await?]).await
}

/// Every committed version of a record's metadata, newest first (read-only functions only).
pub(crate) async fn record_history(stub: &Stub, id: &PatientId, record_id: &str) -> Result<Vec<Kept<RecordMeta>>> {
    history(stub, RECORD_HISTORY, &[&patient_pseudonym(stub, id).await?, record_id]).await
}

/// Kept versions under a partial key whose last two parts are the time and the transaction.
async fn history<T: DeserializeOwned>(stub: &Stub, kind: &str, parts: &[&str]) -> Result<Vec<Kept<T>>> {
    let mut out = Vec::new();
    for (k, value) in list_audit::<T>(stub, kind, parts).await? {
        let (_, attrs) = stub.split_composite_key(&k)?;
        if let [.., at, tx_id] = attrs.as_slice() {
            out.push((tx_id.clone(), at.parse().unwrap_or_default(), value));
        }
    }
    out.sort_by(|a, b| (b.1, &b.0).cmp(&(a.1, &a.0)));
    Ok(out)
}

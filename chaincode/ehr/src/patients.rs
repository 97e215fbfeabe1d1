//! Patients, consent and audited access: the transaction functions.
//!
//! Patient data arrives only as transient data (`patient`: the details as
//! JSON, `salt`: 32 random bytes as hex chosen by the client) and is stored
//! only in the private collection; public state gets the salted hash of each
//! version. Reading patient data needs an access window that the reader opened
//! with a submitted `OpenAccess`, which leaves an entry on the ledger whether
//! it is granted or not.

use fabric_shim::Stub;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{EhrError, Result};
use crate::events::notify;
use crate::model::{
    AccessEntry, Caller, Consent, Grantee, PatientDetails, PatientId, PatientRecord, Person, PrivatePatient, Role,
    Scope, Stamp,
};
use crate::search;
use crate::store::{self, ACCESS_WINDOW_SECONDS};

/// Transient field holding the patient's details.
pub const TRANSIENT_PATIENT: &str = "patient";
/// Transient field holding the hex salt.
pub const TRANSIENT_SALT: &str = "salt";

/// What a permitted reader gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientView {
    /// The public record.
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

fn private_from_transient(stub: &Stub) -> Result<PrivatePatient> {
    let raw = stub.transient().get(TRANSIENT_PATIENT).ok_or_else(|| {
        EhrError::bad(
            "transient.patient",
            "is required: send the patient's details as transient data, never as arguments",
        )
    })?;
    let details: PatientDetails =
        serde_json::from_slice(raw).map_err(|e| EhrError::bad("transient.patient", format!("is not valid: {e}")))?;
    details.validate()?;
    Ok(PrivatePatient { details, salt: salt_from_transient(stub)? })
}

/// The client's salt for this version: 32 random bytes as 64 hex digits.
pub(crate) fn salt_from_transient(stub: &Stub) -> Result<String> {
    let salt = stub
        .transient()
        .get(TRANSIENT_SALT)
        .ok_or_else(|| EhrError::bad("transient.salt", "is required: 32 random bytes as hex"))?;
    let salt = String::from_utf8(salt.clone()).map_err(|_| EhrError::bad("transient.salt", "must be hex text"))?;
    if salt.len() != 64 || !salt.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EhrError::bad("transient.salt", "must be 32 bytes as 64 hex digits"));
    }
    Ok(salt.to_ascii_lowercase())
}

pub(crate) fn forbidden(what: &str, id: &PatientId) -> EhrError {
    EhrError::Forbidden(format!("not permitted: {what} patient {id}"))
}

pub(crate) fn is_attending(record: &PatientRecord, caller: &Caller) -> bool {
    caller.role == Role::Doctor && record.attending.contains(&caller.person)
}

/// A doctor registers a patient and becomes an attending doctor.
pub(crate) async fn register(stub: Stub, (id,): (PatientId,)) -> Result<PatientRecord> {
    let caller = Caller::load(&stub).await?;
    if caller.role != Role::Doctor {
        return Err(EhrError::Forbidden("only doctors register patients".into()));
    }
    let private = private_from_transient(&stub)?;
    if store::patient(&stub, &id).await?.is_some() {
        return Err(EhrError::Conflict(format!("patient id {id} is already registered; choose another id")));
    }
    let stamp = Stamp::now(&stub, &caller)?;
    let record = PatientRecord {
        id: id.clone(),
        home_msp: caller.person.msp.clone(),
        attending: vec![caller.person.clone()],
        version: 1,
        hashes: vec![store::version_hash(&private)?],
        created: stamp.clone(),
        updated: stamp,
        erased: None,
    };
    store::put_private(&stub, &id, 1, &private).await?;
    store::put_patient(&stub, &record).await?;
    let d = &private.details;
    store::put_search_doc(&stub, &search::document(&id, &d.name, &d.birth_date, Vec::new(), &private.salt)).await?;
    notify(&stub, &id, "registered", &caller.person)?;
    Ok(record)
}

/// An attending doctor replaces the patient's details with a new version; old versions stay.
pub(crate) async fn update(stub: Stub, (id,): (PatientId,)) -> Result<PatientRecord> {
    let caller = Caller::load(&stub).await?;
    let record = store::patient(&stub, &id).await?;
    let Some(mut record) = record.filter(|r| is_attending(r, &caller)) else {
        return Err(forbidden("only an attending doctor may update", &id));
    };
    let private = private_from_transient(&stub)?;
    record.version += 1;
    record.hashes.push(store::version_hash(&private)?);
    record.updated = Stamp::now(&stub, &caller)?;
    store::put_private(&stub, &id, record.version, &private).await?;
    store::put_patient(&stub, &record).await?;
    let diagnoses = store::search_doc(&stub, &id).await?.map(|doc| doc.diagnoses).unwrap_or_default();
    let d = &private.details;
    store::put_search_doc(&stub, &search::document(&id, &d.name, &d.birth_date, diagnoses, &private.salt)).await?;
    notify(&stub, &id, "updated", &caller.person)?;
    Ok(record)
}

/// An attending doctor adds another doctor to the attending doctors.
pub(crate) async fn add_attending(stub: Stub, (id, doctor): (PatientId, Person)) -> Result<PatientRecord> {
    let caller = Caller::load(&stub).await?;
    let record = store::patient(&stub, &id).await?;
    let Some(mut record) = record.filter(|r| is_attending(r, &caller)) else {
        return Err(forbidden("only an attending doctor may change the attending doctors of", &id));
    };
    if doctor.id.is_empty() || doctor.msp.is_empty() {
        return Err(EhrError::bad("doctor", "needs both id and msp"));
    }
    if !record.attending.contains(&doctor) {
        record.attending.push(doctor);
    }
    record.updated = Stamp::now(&stub, &caller)?;
    store::put_patient(&stub, &record).await?;
    notify(&stub, &id, "updated", &caller.person)?;
    Ok(record)
}

/// On what grounds `caller` may reach `record` for `scope` at `now`, if any.
pub(crate) async fn grounds(
    stub: &Stub,
    record: &PatientRecord,
    caller: &Caller,
    scope: Scope,
    now: i64,
) -> Result<Option<String>> {
    if caller.is_patient(&record.id) && scope == Scope::Read {
        return Ok(Some("self".into()));
    }
    if is_attending(record, caller) {
        return Ok(Some("attending".into()));
    }
    if !matches!(caller.role, Role::Doctor | Role::Radiologist | Role::Lab) {
        return Ok(None);
    }
    for grantee in
        [Grantee::Doctor { person: caller.person.clone() }, Grantee::Organisation { msp: caller.person.msp.clone() }]
    {
        if let Some(c) = store::consent(stub, &record.id, &grantee).await?
            && c.allows(caller, scope, now)
        {
            return Ok(Some("consent".into()));
        }
    }
    Ok(None)
}

/// Opens a read window on a patient for the caller, leaving an entry on the
/// ledger; a refusal is recorded too (and answered, not failed, so that it commits).
pub(crate) async fn open_access(stub: Stub, (id, purpose): (PatientId, String)) -> Result<AccessEntry> {
    let caller = Caller::load(&stub).await?;
    let purpose = purpose.trim().to_owned();
    if purpose.is_empty() || purpose.len() > 200 {
        return Err(EhrError::bad("purpose", "must be 1-200 characters saying why the data is needed"));
    }
    let stamp = Stamp::now(&stub, &caller)?;
    let now = stamp.at;
    let basis = match store::patient(&stub, &id).await? {
        Some(record) => grounds(&stub, &record, &caller, Scope::Read, now).await?,
        None => None,
    };
    let entry = AccessEntry {
        patient_id: id.clone(),
        granted: basis.is_some(),
        basis: basis.unwrap_or_else(|| "not permitted".into()),
        until: None,
        purpose,
        stamp,
    };
    let entry = if entry.granted { AccessEntry { until: Some(now + ACCESS_WINDOW_SECONDS), ..entry } } else { entry };
    store::put_access(&stub, &entry).await?;
    notify(&stub, &id, if entry.granted { "accessed" } else { "accessDenied" }, &caller.person)?;
    Ok(entry)
}

/// The patient's current data, for a caller whose access window is open.
pub(crate) async fn read(stub: Stub, (id,): (PatientId,)) -> Result<PatientView> {
    let caller = Caller::load(&stub).await?;
    let now = stub.tx_timestamp()?.seconds;
    let open = store::window_open(&stub, &id, &caller.person, now).await?;
    if !open {
        return Err(forbidden("open an access window (OpenAccess) before reading", &id));
    }
    // The window was granted on grounds that may since have gone (consent revoked): check again.
    let record = store::patient(&stub, &id).await?.ok_or_else(|| forbidden("reading", &id))?;
    if grounds(&stub, &record, &caller, Scope::Read, now).await?.is_none() {
        return Err(forbidden("no longer permitted: reading", &id));
    }
    if record.erased.is_some() {
        return Err(EhrError::NotFound(format!("patient {id}'s data was erased on their request")));
    }
    let private = store::private(&stub, &id, record.version)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("this peer holds no private data for patient {id}")))?;
    let current = store::version_hash(&private)?;
    let verified = record.hashes.last() == Some(&current);
    Ok(PatientView { details: private.details, verified, record })
}

/// Whether the private copy of a version matches its hash on the ledger.
pub(crate) async fn verify(stub: Stub, (id, version): (PatientId, u32)) -> Result<Verification> {
    let caller = Caller::load(&stub).await?;
    let now = stub.tx_timestamp()?.seconds;
    let record = store::patient(&stub, &id).await?.ok_or_else(|| forbidden("verifying", &id))?;
    if grounds(&stub, &record, &caller, Scope::Read, now).await?.is_none() {
        return Err(forbidden("verifying", &id));
    }
    let private_hash = match store::private(&stub, &id, version).await? {
        Some(p) => Some(store::version_hash(&p)?),
        None => None,
    };
    verification(id, version, &record.hashes, private_hash)
}

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

/// The patient grants a doctor or a whole organisation access.
pub(crate) async fn grant_consent(
    stub: Stub,
    (id, grantee, scope, expires_at): (PatientId, Grantee, Scope, Option<i64>),
) -> Result<Consent> {
    let caller = Caller::load(&stub).await?;
    if !caller.is_patient(&id) {
        return Err(forbidden("only the patient may grant access to", &id));
    }
    if store::patient(&stub, &id).await?.is_none() {
        return Err(EhrError::NotFound(format!("patient {id} is not registered yet")));
    }
    let stamp = Stamp::now(&stub, &caller)?;
    if expires_at.is_some_and(|t| t <= stamp.at) {
        return Err(EhrError::bad("expiresAt", "must be in the future"));
    }
    let consent = Consent { patient_id: id.clone(), grantee, scope, expires_at, granted: stamp, revoked: None };
    store::put_consent(&stub, &consent).await?;
    notify(&stub, &id, "consentGranted", &caller.person)?;
    Ok(consent)
}

/// The patient revokes a consent; it stays on the ledger, marked revoked.
pub(crate) async fn revoke_consent(stub: Stub, (id, grantee): (PatientId, Grantee)) -> Result<Consent> {
    let caller = Caller::load(&stub).await?;
    if !caller.is_patient(&id) {
        return Err(forbidden("only the patient may revoke access to", &id));
    }
    let mut consent = store::consent(&stub, &id, &grantee)
        .await?
        .filter(|c| c.revoked.is_none())
        .ok_or_else(|| EhrError::NotFound("no active consent for that grantee".into()))?;
    consent.revoked = Some(Stamp::now(&stub, &caller)?);
    store::put_consent(&stub, &consent).await?;
    notify(&stub, &id, "consentRevoked", &caller.person)?;
    Ok(consent)
}

/// The patient's consents, for the patient and the attending doctors.
pub(crate) async fn list_consents(stub: Stub, (id,): (PatientId,)) -> Result<Vec<Consent>> {
    let caller = Caller::load(&stub).await?;
    let attending = store::patient(&stub, &id).await?.is_some_and(|r| is_attending(&r, &caller));
    if !caller.is_patient(&id) && !attending {
        return Err(forbidden("listing the consents of", &id));
    }
    store::consents(&stub, &id).await
}

/// Every access attempt on a patient, for the patient and for regulators.
pub(crate) async fn access_log(stub: Stub, (id,): (PatientId,)) -> Result<Vec<AccessEntry>> {
    let caller = Caller::load(&stub).await?;
    if !caller.is_patient(&id) && caller.role != Role::Regulator {
        return Err(forbidden("reading the access log of", &id));
    }
    store::access_log(&stub, &id).await
}

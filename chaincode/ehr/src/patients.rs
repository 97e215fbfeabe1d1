//! Patients, consent and audited access: the transaction functions.
//!
//! Patient data arrives only as transient data (`patient`: the details as
//! JSON, `salt`: 32 random bytes as hex chosen by the client) and is stored
//! only in the private collection; the patient's record keeps the salted hash
//! of each version. Reading patient data needs an access window that the
//! reader opened with a submitted `OpenAccess`, which leaves an entry on the
//! ledger whether it is granted or not.
//!
//! Functions that write take their arguments as transient data and seal their
//! answers: a block must not say who reached which patient (see `store`).

use ehr_api::transient::{TRANSIENT_FILE_KEY, TRANSIENT_PATIENT};
use ehr_api::views::{AccessLogPage, AccessQuery, PatientView, Verification};
use fabric_chaincode_shim::Stub;

use crate::access::{Caller, forbidden, grounds, is_attending, not_erased, patient_for, require_hospital};
use crate::error::{EhrError, Result};
use crate::events::notify;
use crate::input::{self, salt_from_transient};
use crate::model::{
    AccessEntry, Basis, Consent, FileKey, Grantee, PatientDetails, PatientId, PatientRecord, Person, PrivatePatient,
    Purpose, Role, Scope,
};
use crate::seal::SealTo;
use crate::search;
use crate::store::{self, ACCESS_WINDOW_SECONDS};
use ehr_api::events::Action;
use ehr_api::functions::SealedOf;

fn private_from_transient(stub: &Stub) -> Result<PrivatePatient> {
    let details: PatientDetails =
        input::json(stub, TRANSIENT_PATIENT, "send the patient's details as transient data, never as arguments")?;
    details.validate()?;
    Ok(PrivatePatient { details, salt: salt_from_transient(stub)? })
}

/// A doctor registers a patient and becomes an attending doctor.
pub(crate) async fn register(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<PatientRecord>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    if caller.role != Role::Doctor {
        return Err(EhrError::Forbidden("only doctors register patients".into()));
    }
    let private = private_from_transient(&stub)?;
    let raw_key = input::required(
        &stub,
        TRANSIENT_FILE_KEY,
        "32 random bytes as 64 hex digits, the key the patient's files are encrypted with",
    )?;
    let file_key = FileKey::parse("transient.fileKey", raw_key)?;
    if let Some(existing) = store::patient(&stub, &id).await? {
        // Ids are one namespace across hospitals: a taken id is refused, never shared.
        return Err(EhrError::Conflict(format!(
            "patient id {id} is already registered by {}; choose another id",
            existing.home_msp
        )));
    }
    let stamp = crate::access::stamp(&stub, &caller)?;
    let record = PatientRecord {
        id: id.clone(),
        home_msp: caller.person.msp.clone(),
        attending: vec![caller.person.clone()],
        version: 1,
        hashes: vec![ehr_api::hash::version_hash(&private)?],
        created: stamp.clone(),
        updated: stamp,
        erased: None,
    };
    store::put_private(&stub, &record, &private).await?;
    store::put_file_key(&stub, &record, &file_key).await?;
    store::put_patient(&stub, &record).await?;
    let d = &private.details;
    let doc = search::document(&id, &d.name, &d.birth_date, Vec::new(), &private.salt);
    store::put_search_doc(&stub, &doc, &record.home_msp).await?;
    notify(&stub, &record, Action::Registered, &caller, None).await?;
    reply.seal(&stub, &record).await
}

/// An attending doctor replaces the patient's details with a new version; old versions stay.
pub(crate) async fn update(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<PatientRecord>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let record = store::patient(&stub, &id).await?;
    let Some(mut record) = record.filter(|r| is_attending(r, &caller)) else {
        return Err(forbidden("only an attending doctor may update", &id));
    };
    not_erased(&record)?;
    let private = private_from_transient(&stub)?;
    record.version += 1;
    record.hashes.push(ehr_api::hash::version_hash(&private)?);
    record.updated = crate::access::stamp(&stub, &caller)?;
    store::put_private(&stub, &record, &private).await?;
    store::put_patient(&stub, &record).await?;
    let diagnoses = store::search_doc(&stub, &id).await?.map(|doc| doc.diagnoses).unwrap_or_default();
    let d = &private.details;
    let doc = search::document(&id, &d.name, &d.birth_date, diagnoses, &private.salt);
    store::put_search_doc(&stub, &doc, &record.home_msp).await?;
    notify(&stub, &record, Action::Updated, &caller, None).await?;
    reply.seal(&stub, &record).await
}

/// An attending doctor adds another doctor to the attending doctors. A doctor
/// of another organisation than the patient's home hospital needs the
/// patient's live consent (to them or to their organisation) first.
pub(crate) async fn add_attending(stub: Stub, (id, doctor): (PatientId, Person)) -> Result<SealedOf<PatientRecord>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let record = store::patient(&stub, &id).await?;
    let Some(mut record) = record.filter(|r| is_attending(r, &caller)) else {
        return Err(forbidden("only an attending doctor may change the attending doctors of", &id));
    };
    not_erased(&record)?;
    if doctor.id.is_empty() || doctor.msp.is_empty() {
        return Err(EhrError::bad("doctor", "needs both id and msp"));
    }
    require_hospital(&caller, "doctor.msp", &doctor.msp)?;
    let stamp = crate::access::stamp(&stub, &caller)?;
    if doctor.msp != record.home_msp {
        let mut consented = false;
        for grantee in [Grantee::Doctor { person: doctor.clone() }, Grantee::Organisation { msp: doctor.msp.clone() }] {
            consented |= store::consent(&stub, &id, &grantee).await?.is_some_and(|c| c.is_live(stamp.at));
        }
        if !consented {
            return Err(EhrError::Forbidden(format!(
                "not permitted: a doctor of {} becomes an attending doctor of patient {id} (home {}) only with the patient's consent",
                doctor.msp, record.home_msp
            )));
        }
    }
    if !record.attending.contains(&doctor) {
        record.attending.push(doctor);
    }
    record.updated = stamp;
    store::put_patient(&stub, &record).await?;
    notify(&stub, &record, Action::Updated, &caller, None).await?;
    reply.seal(&stub, &record).await
}

/// The patient, or an admin of the patient's home organisation, removes an
/// attending doctor. The last attending doctor stays (someone must be able to
/// keep the record up to date).
pub(crate) async fn remove_attending(stub: Stub, (id, doctor): (PatientId, Person)) -> Result<SealedOf<PatientRecord>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let mut record = patient_for(&stub, &id, "changing the attending doctors of").await?;
    let home_admin = caller.role == Role::Admin && caller.person.msp == record.home_msp;
    if !caller.is_patient(&record) && !home_admin {
        return Err(forbidden(
            "only the patient or an admin of their home organisation may remove attending doctors of",
            &id,
        ));
    }
    not_erased(&record)?;
    if !record.attending.contains(&doctor) {
        return Err(EhrError::NotFound(format!(
            "{} of {} is not an attending doctor of patient {id}",
            doctor.id, doctor.msp
        )));
    }
    if record.attending.len() == 1 {
        return Err(EhrError::Conflict(format!(
            "{} is patient {id}'s only attending doctor; add another before removing them",
            doctor.id
        )));
    }
    record.attending.retain(|d| d != &doctor);
    record.updated = crate::access::stamp(&stub, &caller)?;
    store::put_patient(&stub, &record).await?;
    notify(&stub, &record, Action::Updated, &caller, None).await?;
    reply.seal(&stub, &record).await
}

/// Opens a read window on a patient for the caller, leaving an entry on the
/// ledger; a refusal is recorded too (and answered, not failed, so that it commits).
pub(crate) async fn open_access(stub: Stub, (id, purpose): (PatientId, String)) -> Result<SealedOf<AccessEntry>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let purpose = Purpose::parse(&purpose)?;
    let stamp = crate::access::stamp(&stub, &caller)?;
    let now = stamp.at;
    let record = store::patient(&stub, &id).await?;
    if let Some(record) = &record {
        not_erased(record)?;
    }
    let basis = match &record {
        Some(record) => grounds(&stub, record, &caller, Scope::Read, now).await?,
        None => None,
    };
    let entry = AccessEntry {
        patient_id: id.clone(),
        granted: basis.is_some(),
        basis: basis.unwrap_or(Basis::NotPermitted),
        until: None,
        purpose,
        stamp,
    };
    let entry = if entry.granted { AccessEntry { until: Some(now + ACCESS_WINDOW_SECONDS), ..entry } } else { entry };
    // An unknown id gets the same refusal as a forbidden one; with no patient
    // (and no home hospital to guard it) there is nobody to record it for.
    let Some(record) = record else { return reply.seal(&stub, &entry).await };
    store::put_access(&stub, &entry, &record.home_msp).await?;
    notify(&stub, &record, if entry.granted { Action::Accessed } else { Action::AccessDenied }, &caller, None).await?;
    reply.seal(&stub, &entry).await
}

/// The patient's current data, for a caller whose access window is open,
/// sealed to the caller's one-time key.
pub(crate) async fn read(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<PatientView>> {
    let caller = Caller::load(&stub).await?;
    let seal_to = SealTo::from_transient(&stub)?;
    let now = stub.tx_timestamp()?.seconds;
    let record = patient_for(&stub, &id, "open an access window (OpenAccess) before reading").await?;
    if record.erased.is_some() {
        // Erasure is public (the patient's record says so); the data is gone.
        return Err(EhrError::NotFound(format!("patient {id}'s data was erased on their request")));
    }
    if !store::window_open(&stub, &id, &caller.person, now).await? {
        return Err(forbidden("open an access window (OpenAccess) before reading", &id));
    }
    // The window was granted on grounds that may since have gone (consent revoked): check again.
    if grounds(&stub, &record, &caller, Scope::Read, now).await?.is_none() {
        return Err(forbidden("no longer permitted: reading", &id));
    }
    let private = store::private(&stub, &record, record.version)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("this peer holds no private data for patient {id}")))?;
    let current = ehr_api::hash::version_hash(&private)?;
    let verified = record.hashes.last() == Some(&current);
    seal_to.seal(&stub, &PatientView { details: private.details, verified, record }).await
}

/// Whether the private copy of a version matches its hash on the ledger.
pub(crate) async fn verify(stub: Stub, (id, version): (PatientId, u32)) -> Result<Verification> {
    let caller = Caller::load(&stub).await?;
    let now = stub.tx_timestamp()?.seconds;
    let record = store::patient(&stub, &id).await?.ok_or_else(|| forbidden("verifying", &id))?;
    if grounds(&stub, &record, &caller, Scope::Read, now).await?.is_none() {
        return Err(forbidden("verifying", &id));
    }
    let private_hash = match store::private(&stub, &record, version).await? {
        Some(p) => Some(ehr_api::hash::version_hash(&p)?),
        None => None,
    };
    store::verification(id, version, &record.hashes, private_hash)
}

/// The patient grants a doctor or a whole organisation access.
pub(crate) async fn grant_consent(
    stub: Stub,
    (id, grantee, scope, expires_at): (PatientId, Grantee, Scope, Option<i64>),
) -> Result<SealedOf<Consent>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let record = patient_for(&stub, &id, "granting access to").await?;
    if !caller.is_patient(&record) {
        return Err(forbidden("only the patient may grant access to", &id));
    }
    not_erased(&record)?;
    match &grantee {
        Grantee::Doctor { person } => require_hospital(&caller, "grantee.person.msp", &person.msp)?,
        Grantee::Organisation { msp } => require_hospital(&caller, "grantee.msp", msp)?,
    }
    let stamp = crate::access::stamp(&stub, &caller)?;
    if expires_at.is_some_and(|t| t <= stamp.at) {
        return Err(EhrError::bad("expiresAt", "must be in the future"));
    }
    let consent = Consent { patient_id: id.clone(), grantee, scope, expires_at, granted: stamp, revoked: None };
    store::put_consent(&stub, &consent, &record.home_msp).await?;
    notify(&stub, &record, Action::ConsentGranted, &caller, None).await?;
    reply.seal(&stub, &consent).await
}

/// The patient revokes a consent; it stays on the ledger, marked revoked.
pub(crate) async fn revoke_consent(stub: Stub, (id, grantee): (PatientId, Grantee)) -> Result<SealedOf<Consent>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let record = patient_for(&stub, &id, "revoking access to").await?;
    if !caller.is_patient(&record) {
        return Err(forbidden("only the patient may revoke access to", &id));
    }
    not_erased(&record)?;
    let mut consent = store::consent(&stub, &id, &grantee)
        .await?
        .filter(|c| c.revoked.is_none())
        .ok_or_else(|| EhrError::NotFound("no active consent for that grantee".into()))?;
    consent.revoked = Some(crate::access::stamp(&stub, &caller)?);
    store::put_consent(&stub, &consent, &record.home_msp).await?;
    notify(&stub, &record, Action::ConsentRevoked, &caller, None).await?;
    reply.seal(&stub, &consent).await
}

/// The patient's consents, for the patient and the attending doctors.
pub(crate) async fn list_consents(stub: Stub, (id,): (PatientId,)) -> Result<Vec<Consent>> {
    let caller = Caller::load(&stub).await?;
    let record = patient_for(&stub, &id, "listing the consents of").await?;
    if !caller.is_patient(&record) && !is_attending(&record, &caller) {
        return Err(forbidden("listing the consents of", &id));
    }
    store::consents(&stub, &id).await
}

fn log_position(e: &AccessEntry) -> String {
    format!("{:012}|{}", e.stamp.at, e.stamp.tx_id)
}

/// A patient's access attempts, for the patient and for regulators: oldest
/// first, filtered and paginated, so that a flood of refused attempts cannot
/// bury the ones that matter (`{"granted": true}`).
pub(crate) async fn access_log(
    stub: Stub,
    (id, query, page_size, bookmark): (PatientId, AccessQuery, u32, String),
) -> Result<AccessLogPage> {
    let caller = Caller::load(&stub).await?;
    let record = patient_for(&stub, &id, "reading the access log of").await?;
    if !caller.is_patient(&record) && caller.role != Role::Regulator {
        return Err(forbidden("reading the access log of", &id));
    }
    if !(1..=1000).contains(&page_size) {
        return Err(EhrError::bad("pageSize", "must be 1-1000"));
    }
    let mut all = store::access_log(&stub, &id).await?;
    all.sort_by_key(log_position);
    let mut entries = Vec::new();
    let mut next = String::new();
    for e in all {
        if !bookmark.is_empty() && log_position(&e) <= bookmark {
            continue;
        }
        let wanted = query.granted.is_none_or(|g| e.granted == g)
            && query.msp.as_ref().is_none_or(|m| &e.stamp.actor.msp == m)
            && query.from.is_none_or(|f| e.stamp.at >= f)
            && query.to.is_none_or(|t| e.stamp.at < t);
        if !wanted {
            continue;
        }
        if entries.len() == page_size as usize {
            next = entries.last().map(log_position).unwrap_or_default();
            break;
        }
        entries.push(e);
    }
    Ok(AccessLogPage { entries, bookmark: next })
}

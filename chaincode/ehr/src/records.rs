//! Medical records, prescriptions, erasure and the audit trail.
//!
//! A record's content (`transient.record`: `{"body": {"kind": ..., ...},
//! "attachments": [...]}` plus `transient.salt`) lives only in the private
//! collection, one key per version; its metadata (kind, stamps, version
//! hashes and, once deleted, a tombstone) lives in `auditData`. Prescriptions
//! also get a status that pharmacists check against the hash of the copy they
//! were handed, without seeing anything else about the patient.

use ehr_api::transient::{TRANSIENT_DISPENSE_CODE, TRANSIENT_RECORD};
use ehr_api::views::{
    AuditLine, PatientHistory, PrescriptionCheck, RecordHistory, RecordInput, RecordPage, RecordQuery, RecordView,
    Version,
};
use fabric_chaincode_shim::Stub;
use sha2::{Digest, Sha256};

use crate::access::{
    Caller, forbidden, grounds, may_change, may_see_content, may_see_history, may_write, not_erased, patient_for,
};
use ehr_api::views::Verification;

use crate::error::{EhrError, Result};
use crate::events::notify;
use crate::input::{self, salt_from_transient};
use crate::model::DiagnosisRef;
use crate::model::{
    KindFilter, MAX_RECORDS_PER_READ, PatientId, PatientRecord, PrescriptionState, PrescriptionStatus, PrivateRecord,
    RecordBody, RecordKind, RecordMeta, Role, Scope, Stamp, Tombstone,
};
use crate::seal::SealTo;
use crate::store;
use ehr_api::events::Action;
use ehr_api::functions::SealedOf;
use ehr_api::transient::TRANSIENT_QUERY;

fn record_from_transient(stub: &Stub) -> Result<PrivateRecord> {
    let input: RecordInput =
        input::json(stub, TRANSIENT_RECORD, "send the record as transient data, never as arguments")?;
    input.validate()?;
    let salt = salt_from_transient(stub)?;
    Ok(PrivateRecord { body: input.body, attachments: input.attachments, origin: input.origin, salt })
}

/// Keeps a diagnosis's code in the patient's search document (only called with
/// transient data, so only collection members endorse it).
async fn index_diagnosis(stub: &Stub, patient: &PatientRecord, record_id: &str, body: &RecordBody) -> Result<()> {
    let RecordBody::Diagnosis { icd10, .. } = body else { return Ok(()) };
    let Some(mut doc) = store::search_doc(stub, &patient.id).await? else { return Ok(()) };
    doc.diagnoses.retain(|d| d.record_id != record_id);
    doc.diagnoses.push(DiagnosisRef { record_id: record_id.to_owned(), icd10: icd10.to_ascii_uppercase() });
    store::put_search_doc(stub, &doc, &patient.home_msp).await
}

/// Adds a record to a patient: doctors with write grounds, radiologists
/// (imaging reports) and lab testers (lab reports) of the patient's hospital or
/// with organisation consent.
pub(crate) async fn add(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<RecordMeta>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let patient = patient_for(&stub, &id, "adding records to").await?;
    let private = record_from_transient(&stub)?;
    let stamp = crate::access::stamp(&stub, &caller)?;
    if !may_write(&stub, &patient, &caller, private.body.kind(), stamp.at).await? {
        return Err(forbidden("adding this kind of record to", &id));
    }
    not_erased(&patient)?;
    let record_id = format!("R-{}", stub.tx_id().chars().take(16).collect::<String>());
    let meta = RecordMeta {
        id: record_id.clone(),
        patient_id: id.clone(),
        kind: private.body.kind(),
        version: 1,
        hashes: vec![ehr_api::hash::record_hash(&private)?],
        created: stamp.clone(),
        updated: stamp.clone(),
        deleted: None,
        erased: None,
    };
    let home = patient.home_msp.as_str();
    let dispense_code_hash =
        if meta.kind == RecordKind::Prescription { Some(dispense_code_hash(&stub)?) } else { None };
    store::put_private_record(&stub, &meta, &private, home).await?;
    store::put_record(&stub, &meta, true, home).await?;
    index_diagnosis(&stub, &patient, &record_id, &private.body).await?;
    if let Some(code_hash) = dispense_code_hash {
        let status = PrescriptionStatus {
            record_id: record_id.clone(),
            home_msp: home.to_owned(),
            prescribed: stamp,
            hash: meta.hashes[0].clone(),
            code_hash,
            status: PrescriptionState::Active,
            dispensed: None,
        };
        store::put_prescription(&stub, &status).await?;
    }
    notify(&stub, &patient, Action::RecordAdded, &caller, Some(&record_id)).await?;
    reply.seal(&stub, &meta).await
}

async fn live_record(stub: &Stub, id: &PatientId, record_id: &str, what: &str) -> Result<RecordMeta> {
    let meta = store::record(stub, id, record_id)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("record {record_id} of patient {id} does not exist")))?;
    if meta.deleted.is_some() {
        return Err(EhrError::NotFound(format!("record {record_id} was deleted; {what} is not possible")));
    }
    Ok(meta)
}

/// The record's author or an attending doctor writes a new version of it.
pub(crate) async fn update(stub: Stub, (id, record_id): (PatientId, String)) -> Result<SealedOf<RecordMeta>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let now = stub.tx_timestamp()?.seconds;
    let patient = patient_for(&stub, &id, "updating records of").await?;
    let mut meta = live_record(&stub, &id, &record_id, "updating").await?;
    if !may_change(&stub, &patient, &meta, &caller, now).await? {
        return Err(forbidden(
            "only an attending doctor, or the author while they still have write grounds, may update records of",
            &id,
        ));
    }
    not_erased(&patient)?;
    let private = record_from_transient(&stub)?;
    if private.body.kind() != meta.kind {
        return Err(EhrError::bad("record.kind", "cannot change; delete the record and add a new one"));
    }
    let mut status = store::prescription(&stub, &record_id).await?;
    if status.as_ref().is_some_and(|s| s.dispensed.is_some()) {
        return Err(EhrError::Conflict(format!("prescription {record_id} was dispensed and cannot change")));
    }
    meta.version += 1;
    let hash = ehr_api::hash::record_hash(&private)?;
    meta.hashes.push(hash.clone());
    meta.updated = crate::access::stamp(&stub, &caller)?;
    let home = patient.home_msp.as_str();
    store::put_private_record(&stub, &meta, &private, home).await?;
    store::put_record(&stub, &meta, false, home).await?;
    index_diagnosis(&stub, &patient, &record_id, &private.body).await?;
    if let Some(s) = status.as_mut() {
        s.hash = hash;
        store::put_prescription(&stub, s).await?;
    }
    notify(&stub, &patient, Action::RecordUpdated, &caller, Some(&record_id)).await?;
    reply.seal(&stub, &meta).await
}

/// The author or an attending doctor deletes a record: a tombstone, kept in history.
pub(crate) async fn delete(
    stub: Stub,
    (id, record_id, reason): (PatientId, String, String),
) -> Result<SealedOf<RecordMeta>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let now = stub.tx_timestamp()?.seconds;
    let patient = patient_for(&stub, &id, "deleting records of").await?;
    let mut meta = live_record(&stub, &id, &record_id, "deleting").await?;
    if !may_change(&stub, &patient, &meta, &caller, now).await? {
        return Err(forbidden(
            "only an attending doctor, or the author while they still have write grounds, may delete records of",
            &id,
        ));
    }
    not_erased(&patient)?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.len() > 500 {
        return Err(EhrError::bad("reason", "must be 1-500 characters"));
    }
    let stamp = crate::access::stamp(&stub, &caller)?;
    meta.deleted = Some(Tombstone { stamp: stamp.clone(), reason });
    store::put_record(&stub, &meta, false, &patient.home_msp).await?;
    if let Some(mut s) = store::prescription(&stub, &record_id).await? {
        s.status = PrescriptionState::Revoked;
        store::put_prescription(&stub, &s).await?;
    }
    notify(&stub, &patient, Action::RecordDeleted, &caller, Some(&record_id)).await?;
    reply.seal(&stub, &meta).await
}

/// A record's content, for a reader whose access window is open, sealed to
/// the caller's one-time key.
pub(crate) async fn read(stub: Stub, (id, record_id): (PatientId, String)) -> Result<SealedOf<RecordView>> {
    let seal_to = SealTo::from_transient(&stub)?;
    may_read(&stub, &id).await?;
    seal_to.seal(&stub, &view(&stub, &id, &record_id).await?).await
}

/// Several records' contents in one call, on the same conditions as [`read`].
pub(crate) async fn read_many(
    stub: Stub,
    (id, record_ids): (PatientId, Vec<String>),
) -> Result<SealedOf<Vec<RecordView>>> {
    let seal_to = SealTo::from_transient(&stub)?;
    if record_ids.len() > MAX_RECORDS_PER_READ {
        return Err(EhrError::bad("recordIds", format!("at most {MAX_RECORDS_PER_READ} per call")));
    }
    may_read(&stub, &id).await?;
    let mut views = Vec::with_capacity(record_ids.len());
    for record_id in &record_ids {
        views.push(view(&stub, &id, record_id).await?);
    }
    seal_to.seal(&stub, &views).await
}

/// Refuses unless the caller's access window on the patient is open and
/// they still have grounds to read.
async fn may_read(stub: &Stub, id: &PatientId) -> Result<()> {
    let caller = Caller::load(stub).await?;
    let now = stub.tx_timestamp()?.seconds;
    let open = store::window_open(stub, id, &caller.person, now).await?;
    let patient = patient_for(stub, id, "reading").await?;
    if !open || grounds(stub, &patient, &caller, Scope::Read, now).await?.is_none() {
        return Err(forbidden("open an access window (OpenAccess) before reading", id));
    }
    Ok(())
}

/// A live record's current content, checked against its hash.
async fn view(stub: &Stub, id: &PatientId, record_id: &str) -> Result<RecordView> {
    let meta = live_record(stub, id, record_id, "reading").await?;
    let private = store::private_record(stub, &meta, meta.version)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("this peer holds no content for record {record_id} (erased?)")))?;
    let verified = meta.hashes.last() == Some(&ehr_api::hash::record_hash(&private)?);
    Ok(RecordView { body: private.body, attachments: private.attachments, origin: private.origin, verified, meta })
}

/// A page of a patient's record metadata, by kind (`all` for every kind), deleted
/// ones hidden: [`search_records`] with only a kind.
pub(crate) async fn list(
    stub: Stub,
    (id, kind, page_size, bookmark): (PatientId, KindFilter, u32, String),
) -> Result<RecordPage> {
    let caller = Caller::load(&stub).await?;
    let query = RecordQuery { kind: kind.kind(), ..RecordQuery::default() };
    find_records(&stub, &caller, &id, &query, page_size, &bookmark).await
}

/// The patient's file key, sealed to the caller: for the patient, for whoever
/// may read the patient's data, and for whoever may attach files to it (the
/// key only decrypts stored copies; which files exist, and where, the ledger
/// shows only to readers with an open access window).
pub(crate) async fn file_key(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<crate::model::FileKey>> {
    let caller = Caller::load(&stub).await?;
    let seal_to = SealTo::from_transient(&stub)?;
    let patient = patient_for(&stub, &id, "reading the file key of").await?;
    if patient.erased.is_some() {
        return Err(EhrError::NotFound(format!(
            "patient {id}'s data was erased on their request; the file key is gone, so their stored files cannot be read"
        )));
    }
    let now = stub.tx_timestamp()?.seconds;
    let kind = match caller.role {
        Role::Radiologist => RecordKind::ImagingReport,
        Role::Lab => RecordKind::LabReport,
        _ => RecordKind::ClinicalNote,
    };
    let may = caller.is_patient(&patient)
        || grounds(&stub, &patient, &caller, Scope::Read, now).await?.is_some()
        || may_write(&stub, &patient, &caller, kind, now).await?;
    if !may {
        return Err(forbidden("reading the file key of", &id));
    }
    let key = store::file_key(&stub, &patient)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("this peer holds no file key for patient {id}")))?;
    seal_to.seal(&stub, &key).await
}

/// A pharmacist checks a prescription against the hash of the copy they hold.
pub(crate) async fn verify_prescription(stub: Stub, (record_id, hash): (String, String)) -> Result<PrescriptionCheck> {
    let caller = Caller::load(&stub).await?;
    if !matches!(caller.role, Role::Pharmacist | Role::Doctor) {
        return Err(EhrError::Forbidden("only pharmacists and doctors verify prescriptions".into()));
    }
    let status = store::prescription(&stub, &record_id)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("no prescription {record_id}")))?;
    let matches = status.hash.eq_ignore_ascii_case(hash.trim());
    Ok(PrescriptionCheck { status, matches })
}

/// The SHA-256 (hex) of the prescription's dispensing code, which the
/// prescribing client draws at random and hands only to the patient (in the
/// slip); the ledger keeps only this hash.
fn dispense_code_hash(stub: &Stub) -> Result<String> {
    let code = dispense_code(stub)?;
    Ok(hex::encode(Sha256::digest(code.as_bytes())))
}

/// The dispensing code from transient data: 32-128 characters of `A-Z a-z 0-9 - _`.
fn dispense_code(stub: &Stub) -> Result<String> {
    let raw = input::required(
        stub,
        TRANSIENT_DISPENSE_CODE,
        "the prescription's dispensing code from the patient's slip (at least 16 random bytes, hex or base64url)",
    )?;
    let code = String::from_utf8(raw.to_vec()).map_err(|_| EhrError::bad("transient.dispenseCode", "must be text"))?;
    let ok =
        (32..=128).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if !ok {
        return Err(EhrError::bad(
            "transient.dispenseCode",
            "must be 32-128 characters of A-Z a-z 0-9 - _ (16 or more random bytes, hex or base64url)",
        ));
    }
    Ok(code)
}

/// A pharmacist dispenses a prescription, once, with the dispensing code from
/// the patient's slip (transient `dispenseCode`) and the hash of the copy.
pub(crate) async fn dispense(stub: Stub, (record_id, hash): (String, String)) -> Result<SealedOf<PrescriptionStatus>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    if caller.role != Role::Pharmacist {
        return Err(EhrError::Forbidden("only pharmacists dispense prescriptions".into()));
    }
    let code_hash = dispense_code_hash(&stub)?;
    let mut status = store::prescription(&stub, &record_id)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("no prescription {record_id}")))?;
    if code_hash != status.code_hash {
        return Err(EhrError::Forbidden(format!(
            "not permitted: the dispensing code does not match prescription {record_id}; ask the patient for their slip"
        )));
    }
    if !status.hash.eq_ignore_ascii_case(hash.trim()) {
        return Err(EhrError::Conflict(format!(
            "prescription {record_id} does not match: the copy was changed or is not the current version"
        )));
    }
    match status.status {
        PrescriptionState::Active => {}
        PrescriptionState::Dispensed => {
            return Err(EhrError::Conflict(format!("prescription {record_id} was already dispensed")));
        }
        PrescriptionState::Revoked => return Err(EhrError::Conflict(format!("prescription {record_id} is revoked"))),
    }
    status.status = PrescriptionState::Dispensed;
    status.dispensed = Some(crate::access::stamp(&stub, &caller)?);
    store::put_prescription(&stub, &status).await?;
    reply.seal(&stub, &status).await
}

/// The patient asks for erasure: every private version of their details and
/// records is purged from every peer; hashes, stamps and audit entries stay.
pub(crate) async fn erase(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<PatientRecord>> {
    let caller = Caller::load(&stub).await?;
    let reply = SealTo::from_transient(&stub)?;
    let mut patient = patient_for(&stub, &id, "erasing").await?;
    if !caller.is_patient(&patient) {
        return Err(forbidden("only the patient may ask for erasure of", &id));
    }
    if patient.erased.is_some() {
        return Err(EhrError::Conflict(format!("patient {id}'s data was already erased")));
    }
    let stamp = crate::access::stamp(&stub, &caller)?;
    for version in 1..=patient.version {
        store::purge_private(&stub, &patient, version).await?;
    }
    for mut meta in store::records(&stub, &id).await? {
        for version in 1..=meta.version {
            store::purge_private_record(&stub, &meta, version).await?;
        }
        meta.erased = Some(stamp.clone());
        store::put_record(&stub, &meta, false, &patient.home_msp).await?;
        // Erasure is final: nothing of the patient's can be dispensed afterwards.
        if let Some(mut s) = store::prescription(&stub, &meta.id).await?
            && s.status == PrescriptionState::Active
        {
            s.status = PrescriptionState::Revoked;
            store::put_prescription(&stub, &s).await?;
        }
    }
    store::purge_search_doc(&stub, &id).await?;
    // Crypto-shredding: without the key, every stored copy of the patient's files is unreadable.
    store::purge_file_key(&stub, &patient).await?;
    patient.erased = Some(stamp);
    store::put_patient(&stub, &patient).await?;
    notify(&stub, &patient, Action::Erased, &caller, None).await?;
    reply.seal(&stub, &patient).await
}

/// Who did what, when, under which grounds: for regulators and the patient; no patient data.
pub(crate) async fn audit_trail(stub: Stub, (id,): (PatientId,)) -> Result<Vec<AuditLine>> {
    let caller = Caller::load(&stub).await?;
    let patient = patient_for(&stub, &id, "reading the audit trail of").await?;
    if caller.role != Role::Regulator && !caller.is_patient(&patient) {
        return Err(forbidden("reading the audit trail of", &id));
    }
    let line = |action: &str, record_id: Option<&str>, stamp: &Stamp, detail: String| AuditLine {
        action: action.to_owned(),
        record_id: record_id.map(str::to_owned),
        stamp: stamp.clone(),
        detail,
    };
    let mut lines = vec![line("patientRegistered", None, &patient.created, String::new())];
    if patient.version > 1 || patient.updated != patient.created {
        lines.push(line("patientUpdated", None, &patient.updated, format!("version {}", patient.version)));
    }
    if let Some(s) = &patient.erased {
        lines.push(line("erased", None, s, String::new()));
    }
    for meta in store::records(&stub, &id).await? {
        lines.push(line("recordAdded", Some(&meta.id), &meta.created, meta.kind.as_str().to_owned()));
        if meta.updated != meta.created {
            lines.push(line("recordUpdated", Some(&meta.id), &meta.updated, format!("version {}", meta.version)));
        }
        if let Some(t) = &meta.deleted {
            lines.push(line("recordDeleted", Some(&meta.id), &t.stamp, t.reason.clone()));
        }
        if let Some(p) = store::prescription(&stub, &meta.id).await?
            && let Some(d) = &p.dispensed
        {
            lines.push(line("prescriptionDispensed", Some(&meta.id), d, String::new()));
        }
    }
    for c in store::consents(&stub, &id).await? {
        let grantee = serde_json::to_string(&c.grantee)?;
        lines.push(line("consentGranted", None, &c.granted, grantee.clone()));
        if let Some(r) = &c.revoked {
            lines.push(line("consentRevoked", None, r, grantee));
        }
    }
    for a in store::access_log(&stub, &id).await? {
        let action = if a.granted { "accessOpened" } else { "accessRefused" };
        lines.push(line(action, None, &a.stamp, format!("{}: {}", a.basis, a.purpose.as_str())));
    }
    lines.sort_by(|a, b| (a.stamp.at, &a.stamp.tx_id, &a.action).cmp(&(b.stamp.at, &b.stamp.tx_id, &b.action)));
    Ok(lines)
}

/// Every version of a patient's record: who changed what, when, and (for readers
/// with an open window) what it looked like; sealed to the caller's one-time key.
pub(crate) async fn patient_history(stub: Stub, (id,): (PatientId,)) -> Result<SealedOf<PatientHistory>> {
    let caller = Caller::load(&stub).await?;
    let seal_to = SealTo::from_transient(&stub)?;
    let now = stub.tx_timestamp()?.seconds;
    let patient = patient_for(&stub, &id, "reading the history of").await?;
    may_see_history(&stub, &caller, &patient, now).await?;
    let content = may_see_content(&stub, &caller, &patient, now).await?;
    let mut out: PatientHistory = Vec::new();
    for (tx_id, at, meta) in store::patient_history(&stub, &id).await? {
        let private = if content { store::private(&stub, &meta, meta.version).await? } else { None };
        out.push(Version { tx_id, at, meta, content: private.map(|p| p.details) });
    }
    seal_to.seal(&stub, &out).await
}

/// Every version of a record, tombstone included; sealed to the caller's one-time key.
pub(crate) async fn record_history(
    stub: Stub,
    (id, record_id): (PatientId, String),
) -> Result<SealedOf<RecordHistory>> {
    let caller = Caller::load(&stub).await?;
    let seal_to = SealTo::from_transient(&stub)?;
    let now = stub.tx_timestamp()?.seconds;
    let patient = patient_for(&stub, &id, "reading the history of").await?;
    may_see_history(&stub, &caller, &patient, now).await?;
    let content = may_see_content(&stub, &caller, &patient, now).await?;
    let mut out: RecordHistory = Vec::new();
    for (tx_id, at, meta) in store::record_history(&stub, &id, &record_id).await? {
        let private = if content { store::private_record(&stub, &meta, meta.version).await? } else { None };
        out.push(Version { tx_id, at, meta, content: private.map(|p| p.body) });
    }
    if out.is_empty() {
        return Err(EhrError::NotFound(format!("record {record_id} of patient {id} does not exist")));
    }
    seal_to.seal(&stub, &out).await
}

/// A patient's records by kind, creation date range and diagnosis code prefix
/// (transient `query`: what a doctor looks for is patient data too),
/// paginated; sealed to the caller's one-time key.
pub(crate) async fn search_records(
    stub: Stub,
    (id, page_size, bookmark): (PatientId, u32, String),
) -> Result<SealedOf<RecordPage>> {
    let caller = Caller::load(&stub).await?;
    let seal_to = SealTo::from_transient(&stub)?;
    let query: RecordQuery =
        input::json(&stub, TRANSIENT_QUERY, "send the record query as transient data, never as an argument")?;
    let page = find_records(&stub, &caller, &id, &query, page_size, &bookmark).await?;
    seal_to.seal(&stub, &page).await
}

/// The largest page of record metadata: each page reads every record's
/// metadata of the patient to sort them, so a chart of a few hundred records
/// is best listed in one.
const MAX_RECORD_PAGE: u32 = 1000;

/// The records matching `query`.
async fn find_records(
    stub: &Stub,
    caller: &Caller,
    id: &PatientId,
    query: &RecordQuery,
    page_size: u32,
    bookmark: &str,
) -> Result<RecordPage> {
    let now = stub.tx_timestamp()?.seconds;
    let patient = patient_for(stub, id, "searching records of").await?;
    may_see_history(stub, caller, &patient, now).await?;
    if !(1..=MAX_RECORD_PAGE).contains(&page_size) {
        return Err(EhrError::bad("pageSize", format!("must be 1-{MAX_RECORD_PAGE}")));
    }
    if let (Some(f), Some(t)) = (query.from, query.to)
        && f >= t
    {
        return Err(EhrError::bad("query.to", "must be after query.from"));
    }
    let prefix = query.icd10_prefix.as_deref().map(str::to_ascii_uppercase);
    if prefix.is_some() && caller.role == Role::Regulator {
        return Err(EhrError::Forbidden("diagnosis codes are patient data; regulators see metadata only".into()));
    }
    if prefix.is_some() && !store::window_open(stub, id, &caller.person, now).await? {
        return Err(forbidden(
            "searching diagnoses needs an open access window (OpenAccess), so that the look is on the ledger:",
            id,
        ));
    }
    let mut records = Vec::new();
    let mut next = String::new();
    let position = |m: &RecordMeta| format!("{}|{:012}|{}", m.kind.as_str(), m.created.at, m.id);
    let mut all = store::records(stub, id).await?;
    all.sort_by_key(position);
    for meta in all {
        if (meta.deleted.is_some() && !query.include_deleted) || query.kind.is_some_and(|k| k != meta.kind) {
            continue;
        }
        if !bookmark.is_empty() && position(&meta).as_str() <= bookmark {
            continue;
        }
        let at = meta.created.at;
        if query.from.is_some_and(|f| at < f) || query.to.is_some_and(|t| at >= t) {
            continue;
        }
        if let Some(p) = &prefix {
            let code = match store::private_record(stub, &meta, meta.version).await? {
                Some(PrivateRecord { body: RecordBody::Diagnosis { icd10, .. }, .. }) => icd10.to_ascii_uppercase(),
                _ => continue,
            };
            if !code.starts_with(p.as_str()) {
                continue;
            }
        }
        if records.len() == page_size as usize {
            next = records.last().map(position).unwrap_or_default();
            break;
        }
        records.push(meta);
    }
    Ok(RecordPage { records, bookmark: next })
}

/// Whether the private copy of a record version matches its hash on the ledger.
pub(crate) async fn verify(stub: Stub, (id, record_id, version): (PatientId, String, u32)) -> Result<Verification> {
    let caller = Caller::load(&stub).await?;
    let now = stub.tx_timestamp()?.seconds;
    let patient = patient_for(&stub, &id, "verifying").await?;
    if grounds(&stub, &patient, &caller, Scope::Read, now).await?.is_none() {
        return Err(forbidden("verifying", &id));
    }
    let meta = store::record(&stub, &id, &record_id)
        .await?
        .ok_or_else(|| EhrError::NotFound(format!("record {record_id} of patient {id} does not exist")))?;
    let private_hash = match store::private_record(&stub, &meta, version).await? {
        Some(p) => Some(ehr_api::hash::record_hash(&p)?),
        None => None,
    };
    store::verification(id, version, &meta.hashes, private_hash)
}

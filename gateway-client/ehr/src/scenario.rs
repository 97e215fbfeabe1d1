//! The core scenario, defined once: a patient registered at one hospital,
//! records and a file, a refused and a consented read from the other
//! hospital, dispensing, search, the regulator's audit and sealed
//! notifications. `ehr demo` runs it and tells each step; the end-to-end
//! tests run it and check its [`Outcome`].

use std::path::PathBuf;
use std::time::Duration;

use ehr_api::model::{Grantee, PatientDetails, PatientId, Purpose, RecordBody, Scope};
use ehr_api::views::{AccessQuery, PatientQuery, PatientView, RecordInput, RecordQuery};
use fabric_gateway_client::{ChaincodeEvent, EventStream, Start};
use futures::StreamExt as _;

use crate::error::Refusal;
use crate::files::{FileStore, Progress};
use crate::{EhrClient, EhrClientError, RecordWritten, Result};

/// Who plays each part on the local network, as wallet labels (`user@org`).
pub mod parts {
    /// The home hospital's doctor, who registers the patient and writes records.
    pub const DOCTOR: &str = "doctor1@hospitala";
    /// The other hospital's doctor, who needs the patient's consent.
    pub const OTHER_DOCTOR: &str = "doctor1@hospitalb";
    /// The home hospital's radiologist, who uploads a report.
    pub const RADIOLOGIST: &str = "radiologist1@hospitala";
    /// The other hospital's pharmacist, who dispenses.
    pub const PHARMACIST: &str = "pharmacist1@hospitalb";
    /// The regulator, who audits.
    pub const REGULATOR: &str = "regulator1@regulator";
    /// A doctor of the home hospital with no grounds to act on the patient.
    pub const STRANGER: &str = "doctor2@hospitala";
    /// The patient's own login; its certificate says `patient_id=P-0001`.
    pub const PATIENT: &str = "patient1@hospitala";
    /// The patient id of [`PATIENT`]'s certificate.
    pub const PATIENT_ID: &str = "P-0001";
}

/// Everyone who takes part, signed in, and where the report file goes.
pub struct Cast {
    /// [`parts::DOCTOR`].
    pub doctor: EhrClient,
    /// [`parts::OTHER_DOCTOR`].
    pub other_doctor: EhrClient,
    /// [`parts::RADIOLOGIST`].
    pub radiologist: EhrClient,
    /// [`parts::PHARMACIST`].
    pub pharmacist: EhrClient,
    /// [`parts::REGULATOR`].
    pub regulator: EhrClient,
    /// [`parts::STRANGER`].
    pub stranger: EhrClient,
    /// [`parts::PATIENT`], when the scenario's patient is theirs; without it
    /// nobody can consent and the consented read is skipped.
    pub patient: Option<EhrClient>,
    /// The off-chain store the radiologist uploads to.
    pub files: FileStore,
    /// A folder the scenario writes the report file into before uploading it
    /// (in a sub-folder it removes afterwards).
    pub scratch: PathBuf,
}

/// Hears each step as it happens: who acts and what they do, then what came of it.
pub trait Narrator {
    /// A new step begins.
    fn step(&mut self, who: &str, what: &str);
    /// One result of the current step.
    fn result(&mut self, line: &str);
}

/// What the scenario did, for a test to check.
#[derive(Debug)]
pub struct Outcome {
    /// Whether the patient was registered by an earlier run.
    pub registered_before: bool,
    /// The prescription written and dispensed.
    pub prescription: RecordWritten,
    /// The SHA-256 of the uploaded report, as the imaging record names it.
    pub report_sha256: String,
    /// The other hospital's read before consent was granted (a refusal).
    pub refused_without_consent: bool,
    /// What the other hospital read under consent; `None` without a patient login.
    pub read_with_consent: Option<PatientView>,
    /// Why the stranger could not update the patient.
    pub stranger_refusal: EhrClientError,
    /// Why the second dispense of the prescription failed.
    pub second_dispense_refusal: EhrClientError,
    /// Hits of the name search.
    pub patients_found: usize,
    /// Records found by ICD-10 prefix.
    pub records_found: usize,
    /// Lines of the regulator's audit trail.
    pub audit_lines: usize,
    /// Notifications about the patient the regulator opened.
    pub notifications: usize,
}

/// The details the scenario registers; names stay off the ledger.
pub fn demo_details() -> PatientDetails {
    PatientDetails {
        name: "Jane Demo".into(),
        birth_date: "1984-02-29".into(),
        sex: "female".into(),
        contact: "+44 20 7946 0000".into(),
        description: "demo patient".into(),
    }
}

/// Runs the scenario for patient `id`. A patient registered by an earlier
/// run is carried on with; every other failure ends the run with its error,
/// and permission rules that let through what they must refuse are
/// [`EhrClientError::Usage`].
pub async fn run(cast: &Cast, id: &PatientId, narrator: &mut dyn Narrator) -> Result<Outcome> {
    // Listen from the current block so the notifications can be shown at the end.
    let notices = cast.regulator.notifications(Start::NextCommit).await?;
    let registered_before = register(cast, id, narrator).await?;
    let prescription = write_records(cast, id, narrator).await?;
    let report_sha256 = upload_report(cast, id, narrator).await?;
    let (refused_without_consent, read_with_consent) = consent_and_read(cast, id, narrator).await?;
    narrator.step(parts::STRANGER, "a doctor with no grounds is refused");
    let stranger_refusal = match cast.stranger.update_patient(id, &demo_details()).await {
        Err(e) => e,
        Ok(_) => return Err(broken("doctor2 was allowed to update")),
    };
    narrator.result(&format!("refused: {stranger_refusal}"));
    let second_dispense_refusal = dispense(cast, &prescription, narrator).await?;
    let (patients_found, records_found) = search(cast, id, narrator).await?;
    let (audit_lines, notifications) = audit(cast, id, notices, narrator).await?;
    Ok(Outcome {
        registered_before,
        prescription,
        report_sha256,
        refused_without_consent,
        read_with_consent,
        stranger_refusal,
        second_dispense_refusal,
        patients_found,
        records_found,
        audit_lines,
        notifications,
    })
}

fn broken(what: &str) -> EhrClientError {
    EhrClientError::Usage(format!("{what}; the permission rules are broken"))
}

/// Registers the patient, or goes on with them when a run before did.
async fn register(cast: &Cast, id: &PatientId, n: &mut dyn Narrator) -> Result<bool> {
    n.step(parts::DOCTOR, "registers the patient; name and birth date go as transient data only");
    match cast.doctor.register_patient(id, &demo_details()).await {
        Ok(_) => {
            n.result(&format!("registered {id}; only ids, salted hashes and stamps are public"));
            Ok(false)
        }
        Err(e) if e.refusal() == Some(Refusal::Conflict) => {
            n.result(&format!("{id} is registered already (the demo ran before); continuing with it"));
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// A diagnosis and a prescription; the prescription is returned for dispensing.
async fn write_records(cast: &Cast, id: &PatientId, n: &mut dyn Narrator) -> Result<RecordWritten> {
    n.step(parts::DOCTOR, "records a diagnosis and a prescription");
    let diagnosis =
        RecordInput::new(RecordBody::Diagnosis { icd10: "K35.80".into(), text: "acute appendicitis".into() }, vec![]);
    let dx = cast.doctor.add_record(id, &diagnosis).await?;
    n.result(&format!("diagnosis {}", dx.meta.id));
    let body = RecordBody::Prescription {
        medication: "amoxicillin".into(),
        dose: "500 mg".into(),
        frequency: "3x daily".into(),
        text: String::new(),
    };
    let rx = cast.doctor.add_record(id, &RecordInput::new(body, vec![])).await?;
    n.result(&format!("prescription {} (the patient's copy hashes to {})", rx.meta.id, rx.hash()?));
    Ok(rx)
}

/// A CT report stored off-chain, encrypted with the patient's file key, then
/// attached to an imaging record; returns the file's SHA-256.
async fn upload_report(cast: &Cast, id: &PatientId, n: &mut dyn Narrator) -> Result<String> {
    n.step(parts::RADIOLOGIST, "uploads a CT report: stored off-chain by SHA-256, then attached");
    let dir = cast.scratch.join(format!("ehr-scenario-{}-{}", std::process::id(), id.as_str()));
    let io = |what: &str, e: std::io::Error| EhrClientError::Usage(format!("cannot {what} {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(|e| io("create", e))?;
    let pdf = dir.join("ct-abdomen.pdf");
    let content = format!("%PDF-1.4\n% CT abdomen for {id}: appendix enlarged, no perforation\n%%EOF\n");
    std::fs::write(&pdf, content).map_err(|e| io("write into", e))?;
    let store = cast.radiologist.patient_files(&cast.files, id).await?;
    let stored = store.upload(&pdf, Some("application/pdf"), Progress::hidden()).await;
    let _ = std::fs::remove_dir_all(&dir);
    let stored = stored?;
    let sha = stored.sha256.clone();
    let body = RecordBody::ImagingReport { modality: "CT".into(), text: "appendix enlarged".into() };
    let ct = cast.radiologist.add_record(id, &RecordInput::new(body, vec![stored.into()])).await?;
    n.result(&format!("imaging report {} with file sha256 {sha}", ct.meta.id));
    Ok(sha)
}

/// The other hospital is refused, the patient consents, the other hospital reads.
async fn consent_and_read(cast: &Cast, id: &PatientId, n: &mut dyn Narrator) -> Result<(bool, Option<PatientView>)> {
    n.step(parts::OTHER_DOCTOR, "tries to read the patient without consent");
    let refused = cast.other_doctor.open_access(id, Purpose::SecondOpinion).await?;
    n.result(&format!("granted: {} ({}); the attempt is logged", refused.granted, refused.basis));
    let Some(patient) = &cast.patient else {
        n.step(parts::OTHER_DOCTOR, "cannot read the patient");
        n.result(&format!(
            "only the patient can consent, and {id} has no patient login on this network (use the default {})",
            parts::PATIENT_ID
        ));
        return Ok((!refused.granted, None));
    };
    n.step(parts::PATIENT, "grants HospitalB's doctors read consent");
    let grantee = Grantee::Organisation { msp: "HospitalBMSP".into() };
    let consent = patient.grant_consent(id, &grantee, Scope::Read, None).await?;
    n.result(&format!("consent to {:?}, scope {:?}", consent.grantee, consent.scope));

    n.step(parts::OTHER_DOCTOR, "opens audited access and reads the patient from HospitalB's own peer");
    let access = cast.other_doctor.open_access(id, Purpose::SecondOpinion).await?;
    let view = cast.other_doctor.read_patient(id).await?;
    n.result(&format!(
        "access {} ({}); name {:?}, private copy verified: {} (the answer came sealed to a one-time key)",
        access.granted, access.basis, view.details.name, view.verified
    ));
    Ok((!refused.granted, Some(view)))
}

/// The pharmacist checks the patient's copy and dispenses once; returns why
/// the second dispense failed.
async fn dispense(cast: &Cast, rx: &RecordWritten, n: &mut dyn Narrator) -> Result<EhrClientError> {
    n.step(parts::PHARMACIST, "verifies the prescription copy and dispenses it");
    let check = cast.pharmacist.verify_prescription(&rx.meta.id, &rx.hash()?).await?;
    n.result(&format!("copy matches: {}; prescribed at {}", check.matches, check.status.prescribed.actor.msp));
    // The patient hands over the slip, which carries the dispensing code; the hash alone is not enough.
    let slip = rx.slip();
    cast.pharmacist.dispense_prescription(&slip).await?;
    n.result("dispensed with the code on the patient's slip");
    match cast.pharmacist.dispense_prescription(&slip).await {
        Err(e) => {
            n.result(&format!("second dispense refused: {e}"));
            Ok(e)
        }
        Ok(_) => Err(broken("a prescription was dispensed twice")),
    }
}

/// The home doctor searches patients and records; returns both counts.
async fn search(cast: &Cast, id: &PatientId, n: &mut dyn Narrator) -> Result<(usize, usize)> {
    n.step(parts::DOCTOR, "opens audited access, then searches and lists");
    cast.doctor.open_access(id, Purpose::Treatment).await?;
    let by_name = PatientQuery { name: Some("jane dem".into()), ..PatientQuery::default() };
    let hits = cast.doctor.search_patients(&by_name, 20, "").await?;
    n.result(&format!("search 'jane dem': {} hit(s)", hits.patients.len()));
    let by_code = RecordQuery { icd10_prefix: Some("K35".into()), ..RecordQuery::default() };
    let page = cast.doctor.search_records(id, &by_code, 20, "").await?;
    n.result(&format!("records with ICD-10 K35*: {}", page.records.len()));
    Ok((hits.patients.len(), page.records.len()))
}

/// The regulator's audit trail and sealed notifications; the patient's access
/// log. Returns the audit lines and the notifications seen.
async fn audit(
    cast: &Cast,
    id: &PatientId,
    mut notices: EventStream<(ChaincodeEvent, ehr_api::events::Notification)>,
    n: &mut dyn Narrator,
) -> Result<(usize, usize)> {
    n.step(parts::REGULATOR, "reads the audit trail: who did what, no patient data");
    let trail = cast.regulator.audit_trail(id).await?;
    for line in &trail {
        let record = line.record_id.as_deref().unwrap_or("");
        n.result(&format!("{} {record} by {}", line.action, line.stamp.actor.display_name()));
    }
    n.step(parts::REGULATOR, "opens the sealed notifications (the patient gets the same; nobody else can read them)");
    let mut seen = 0;
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(3), notices.next()).await {
        let (_, note) = item?;
        if note.patient_id == *id {
            seen += 1;
            let record = note.record_id.unwrap_or_default();
            n.result(&format!("{} {} {record}", note.actor.display_name(), note.action));
        }
    }
    n.result(&format!("{seen} notification(s)"));
    if let Some(patient) = &cast.patient {
        n.step(parts::PATIENT, "reads who looked at their data");
        for entry in patient.access_log_all(id, &AccessQuery::default()).await? {
            let (who, granted, basis) = (entry.stamp.actor.display_name(), entry.granted, entry.basis);
            n.result(&format!("{who} granted={granted} basis={basis} purpose={:?}", entry.purpose));
        }
    }
    Ok((trail.len(), seen))
}

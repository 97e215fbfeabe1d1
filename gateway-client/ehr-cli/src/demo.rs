//! `ehr demo`: the core scenario on the local network, one printed step at a
//! time, as the people who would really do each step.

use std::time::{SystemTime, UNIX_EPOCH};

use ehr_api::events::Notification;
use ehr_api::model::{Grantee, PatientDetails, PatientId, Purpose, RecordBody, Scope};
use ehr_api::views::PatientQuery;
use ehr_api::views::{RecordInput, RecordQuery};
use ehr_client::session;
use ehr_client::{Config, EhrClient, EhrClientError, RecordWritten, Result};
use fabric_gateway_client::{ChaincodeEvent, EventStream, Start};
use futures::StreamExt;

use crate::cli;
use crate::commands::{patient_id, resolve_config, store_files};
use crate::output::Output;
use crate::output::display_name;

/// The patient whose login (`patient1@hospitala`, `patient_id=P-0001`) the local network enrols.
const LOGIN_PATIENT: &str = "P-0001";

/// A client acting as `label`, with the user's other settings.
async fn as_user(global: &cli::Global, label: &str) -> Result<(Config, EhrClient)> {
    let mut global = global.clone();
    global.settings.identity = Some(label.to_owned());
    let config = resolve_config(&global)?;
    let client = session::ehr_client(&config).await?;
    Ok((config, client))
}

struct Steps {
    n: usize,
    out: Output,
}

impl Steps {
    fn step(&mut self, who: &str, what: &str) {
        self.n += 1;
        self.out.say(&format!("\n{:>2}. [{who}] {what}", self.n));
    }
    fn ok(&self, line: impl AsRef<str>) {
        self.out.say(&format!("    -> {}", line.as_ref()));
    }
}

/// Everyone who takes part in the demo, signed in.
struct Cast {
    doctor_cfg: Config,
    doctor: EhrClient,
    doctor_b: EhrClient,
    radiologist: EhrClient,
    pharmacist: EhrClient,
    regulator: EhrClient,
    stranger: EhrClient,
    /// The patient's own login, when the demo's patient has one.
    patient: Option<EhrClient>,
}

pub(crate) async fn run(global: &cli::Global, args: cli::Demo, out: Output) -> Result<()> {
    let own_id = patient_id(LOGIN_PATIENT)?;
    let id = match &args.patient {
        Some(p) => patient_id(p)?,
        None => own_id.clone(),
    };
    let mut s = Steps { n: 0, out };
    out.say("EHR demo on the local network");

    let (doctor_cfg, doctor) = as_user(global, "doctor1@hospitala").await?;
    let mut cast = Cast {
        doctor_cfg,
        doctor,
        doctor_b: as_user(global, "doctor1@hospitalb").await?.1,
        radiologist: as_user(global, "radiologist1@hospitala").await?.1,
        pharmacist: as_user(global, "pharmacist1@hospitalb").await?.1,
        regulator: as_user(global, "regulator1@regulator").await?.1,
        stranger: as_user(global, "doctor2@hospitala").await?.1,
        patient: None,
    };

    // Listen from the current block so the notifications can be shown at the end.
    // Events are sealed: only the patient and the regulator can open them.
    let listen_from = cast.regulator.notifications(Start::NextCommit).await?;

    let details = register(&mut s, &cast, &id).await?;
    // patient1@hospitala holds patient id P-0001 in its certificate (issued by
    // the patient's home hospital, HospitalA), so that patient can act too.
    if id == own_id {
        cast.patient = Some(as_user(global, "patient1@hospitala").await?.1);
    }
    let rx = write_records(&mut s, &cast, &id).await?;
    upload_report(&mut s, &cast, &id).await?;
    consent_and_read(&mut s, &cast, &id).await?;

    s.step("doctor2@hospitala", "a doctor with no grounds is refused");
    match cast.stranger.update_patient(&id, &details).await {
        Err(e) => s.ok(format!("refused: {e}")),
        Ok(_) => {
            return Err(EhrClientError::Usage("doctor2 was allowed to update; the permission rules are broken".into()));
        }
    }

    dispense(&mut s, &cast, &rx).await?;
    search(&mut s, &cast, &id).await?;
    audit(&mut s, &cast, &id, listen_from).await?;
    out.say(&format!("\ndone: patient {id} walked through registration, records, a file, access control, dispensing, search, audit and notifications"));
    Ok(())
}

/// Registers the demo's patient, or goes on with them when a run before did.
async fn register(s: &mut Steps, cast: &Cast, id: &PatientId) -> Result<PatientDetails> {
    s.step("doctor1@hospitala", "registers the patient; name and birth date go as transient data only");
    let details = PatientDetails {
        name: "Jane Demo".into(),
        birth_date: "1984-02-29".into(),
        sex: "female".into(),
        contact: "+44 20 7946 0000".into(),
        description: "demo patient".into(),
    };
    match cast.doctor.register_patient(id, &details).await {
        Ok(_) => s.ok(format!("registered {id}; only ids, salted hashes and stamps are public")),
        Err(e) if e.refusal() == Some(ehr_client::error::Refusal::Conflict) => {
            s.ok(format!("{id} is registered already (the demo ran before); continuing with it"));
        }
        Err(e) => return Err(e),
    }
    Ok(details)
}

/// A diagnosis and a prescription; the prescription is returned for dispensing.
async fn write_records(s: &mut Steps, cast: &Cast, id: &PatientId) -> Result<RecordWritten> {
    s.step("doctor1@hospitala", "records a diagnosis and a prescription");
    let diagnosis = RecordInput {
        body: RecordBody::Diagnosis { icd10: "K35.80".into(), text: "acute appendicitis".into() },
        attachments: vec![],
    };
    let dx = cast.doctor.add_record(id, &diagnosis).await?;
    s.ok(format!("diagnosis {}", dx.meta.id));
    let rx_input = RecordInput {
        body: RecordBody::Prescription {
            medication: "amoxicillin".into(),
            dose: "500 mg".into(),
            frequency: "3x daily".into(),
            text: String::new(),
        },
        attachments: vec![],
    };
    let rx = cast.doctor.add_record(id, &rx_input).await?;
    s.ok(format!("prescription {} (the patient's copy hashes to {})", rx.meta.id, rx.hash()?));
    Ok(rx)
}

/// A CT report stored off-chain and attached as an imaging record.
async fn upload_report(s: &mut Steps, cast: &Cast, id: &PatientId) -> Result<()> {
    s.step("radiologist1@hospitala", "uploads a CT report: stored off-chain by SHA-256, then attached");
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("ehr-demo-{stamp}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| EhrClientError::Usage(format!("cannot create {}: {e}", dir.display())))?;
    let pdf = dir.join("ct-abdomen.pdf");
    let content = format!("%PDF-1.4\n% CT abdomen for {id}: appendix enlarged, no perforation\n%%EOF\n");
    std::fs::write(&pdf, content).map_err(|e| EhrClientError::Usage(format!("cannot write {}: {e}", pdf.display())))?;
    let attachments = store_files(&cast.doctor_cfg, &cast.radiologist, id, std::slice::from_ref(&pdf), None).await?;
    let sha = attachments[0].sha256.clone();
    let ct = cast
        .radiologist
        .add_record(
            id,
            &RecordInput {
                body: RecordBody::ImagingReport { modality: "CT".into(), text: "appendix enlarged".into() },
                attachments,
            },
        )
        .await?;
    s.ok(format!("imaging report {} with file sha256 {sha}", ct.meta.id));
    Ok(())
}

/// HospitalB is refused, the patient consents, HospitalB reads.
async fn consent_and_read(s: &mut Steps, cast: &Cast, id: &PatientId) -> Result<()> {
    s.step("doctor1@hospitalb", "tries to read the patient without consent");
    let refused = cast.doctor_b.open_access(id, Purpose::SecondOpinion).await?;
    s.ok(format!("granted: {} ({}); the attempt is logged", refused.granted, refused.basis));

    let Some(patient) = &cast.patient else {
        s.step("doctor1@hospitalb", "cannot read the patient");
        s.ok(format!(
            "only the patient can consent, and {id} has no patient login on this network (use the default {LOGIN_PATIENT})"
        ));
        return Ok(());
    };
    s.step("patient1@hospitala", "grants HospitalB's doctors read consent");
    let consent =
        patient.grant_consent(id, &Grantee::Organisation { msp: "HospitalBMSP".into() }, Scope::Read, None).await?;
    s.ok(format!("consent to {:?}, scope {:?}", consent.grantee, consent.scope));

    s.step("doctor1@hospitalb", "opens audited access and reads the patient from HospitalB's own peer");
    let access = cast.doctor_b.open_access(id, Purpose::SecondOpinion).await?;
    let view = cast.doctor_b.read_patient(id).await?;
    s.ok(format!(
        "access {} ({}); name {:?}, private copy verified: {} (the answer came sealed to a one-time key)",
        access.granted, access.basis, view.details.name, view.verified
    ));
    Ok(())
}

/// The pharmacist checks the patient's copy and dispenses once.
async fn dispense(s: &mut Steps, cast: &Cast, rx: &RecordWritten) -> Result<()> {
    s.step("pharmacist1@hospitalb", "verifies the prescription copy and dispenses it");
    let check = cast.pharmacist.verify_prescription(&rx.meta.id, &rx.hash()?).await?;
    s.ok(format!("copy matches: {}; prescribed at {}", check.matches, check.status.prescribed.actor.msp));
    // The patient hands over the slip, which carries the dispensing code; the hash alone is not enough.
    let slip = rx.slip();
    cast.pharmacist.dispense_prescription(&slip).await?;
    s.ok("dispensed with the code on the patient's slip");
    match cast.pharmacist.dispense_prescription(&slip).await {
        Err(e) => s.ok(format!("second dispense refused: {e}")),
        Ok(_) => return Err(EhrClientError::Usage("a prescription was dispensed twice".into())),
    }
    Ok(())
}

/// The home doctor searches patients and records.
async fn search(s: &mut Steps, cast: &Cast, id: &PatientId) -> Result<()> {
    s.step("doctor1@hospitala", "opens audited access, then searches and lists");
    cast.doctor.open_access(id, Purpose::Treatment).await?;
    let hits = cast
        .doctor
        .search_patients(&PatientQuery { name: Some("jane dem".into()), ..PatientQuery::default() }, 20, "")
        .await?;
    s.ok(format!("search 'jane dem': {} hit(s)", hits.patients.len()));
    let page = cast
        .doctor
        .search_records(id, &RecordQuery { icd10_prefix: Some("K35".into()), ..RecordQuery::default() }, 20, "")
        .await?;
    s.ok(format!("records with ICD-10 K35*: {}", page.records.len()));
    Ok(())
}

/// The regulator's audit trail and sealed notifications; the patient's access log.
async fn audit(
    s: &mut Steps,
    cast: &Cast,
    id: &PatientId,
    mut notices: EventStream<(ChaincodeEvent, Notification)>,
) -> Result<()> {
    s.step("regulator1@regulator", "reads the audit trail: who did what, no patient data");
    for line in &cast.regulator.audit_trail(id).await? {
        s.ok(format!(
            "{} {} by {}",
            line.action,
            line.record_id.as_deref().unwrap_or(""),
            display_name(&line.stamp.actor)
        ));
    }

    s.step(
        "regulator1@regulator",
        "opens the sealed notifications (the patient gets the same; nobody else can read them)",
    );
    let mut seen = 0;
    while let Ok(Some(item)) = tokio::time::timeout(std::time::Duration::from_secs(3), notices.next()).await {
        let (_, note) = item?;
        if note.patient_id == *id {
            seen += 1;
            s.ok(format!("{} {} {}", display_name(&note.actor), note.action, note.record_id.unwrap_or_default()));
        }
    }
    s.ok(format!("{seen} notification(s)"));
    if let Some(patient) = &cast.patient {
        s.step("patient1@hospitala", "reads who looked at their data");
        for entry in patient.access_log_all(id, &ehr_api::views::AccessQuery::default()).await? {
            s.ok(format!(
                "{} granted={} basis={} purpose={:?}",
                display_name(&entry.stamp.actor),
                entry.granted,
                entry.basis,
                entry.purpose
            ));
        }
    }
    Ok(())
}

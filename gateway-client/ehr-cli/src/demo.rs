//! `ehr demo`: the core scenario ([`ehr_client::scenario`]) on the local
//! network, one printed step at a time, as the people who would really do
//! each step.

use ehr_client::scenario::{self, Cast, Narrator, parts};
use ehr_client::{EhrClient, Result, session};

use crate::cli;
use crate::commands::{open_store, patient_id, resolve_config};
use crate::output::Output;

/// A client acting as `label`, with the user's other settings.
async fn as_user(global: &cli::Global, label: &str) -> Result<EhrClient> {
    let mut global = global.clone();
    global.settings.identity = Some(label.to_owned());
    session::ehr_client(&resolve_config(&global)?).await
}

/// Prints numbered steps and their results.
struct Printer {
    n: usize,
    out: Output,
}

impl Narrator for Printer {
    fn step(&mut self, who: &str, what: &str) {
        self.n += 1;
        self.out.say(&format!("\n{:>2}. [{who}] {what}", self.n));
    }
    fn result(&mut self, line: &str) {
        self.out.say(&format!("    -> {line}"));
    }
}

pub(crate) async fn run(global: &cli::Global, args: cli::Demo, out: Output) -> Result<()> {
    let own_id = patient_id(parts::PATIENT_ID)?;
    let id = match &args.patient {
        Some(p) => patient_id(p)?,
        None => own_id.clone(),
    };
    out.say("EHR demo on the local network");
    // patient1@hospitala holds patient id P-0001 in its certificate (issued by
    // the patient's home hospital, HospitalA), so that patient can act too.
    let patient = if id == own_id { Some(as_user(global, parts::PATIENT).await?) } else { None };
    let cast = Cast {
        doctor: as_user(global, parts::DOCTOR).await?,
        other_doctor: as_user(global, parts::OTHER_DOCTOR).await?,
        radiologist: as_user(global, parts::RADIOLOGIST).await?,
        pharmacist: as_user(global, parts::PHARMACIST).await?,
        regulator: as_user(global, parts::REGULATOR).await?,
        stranger: as_user(global, parts::STRANGER).await?,
        patient,
        files: open_store(&resolve_config(global)?)?,
        scratch: std::env::temp_dir(),
    };
    scenario::run(&cast, &id, &mut Printer { n: 0, out }).await?;
    out.say(&format!("\ndone: patient {id} walked through registration, records, a file, access control, dispensing, search, audit and notifications"));
    Ok(())
}

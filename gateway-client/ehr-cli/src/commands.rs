//! What each command does: resolve settings, sign in, call the contract, print.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ehr_api::events::Notification;
use fabric_ca_client::{CaClient, EnrollOptions, Wallet};
use fabric_gateway_client::{ChaincodeEvent, FileCheckpointer, Start};
use serde::Serialize;
use serde_json::json;

use ehr_api::model::{
    AccessEntry, Attachment, Grantee, PatientDetails, PatientId, Person, Purpose, RecordBody, RecordKind, Scope,
};
use ehr_api::views::PatientQuery;
use ehr_api::views::{AccessQuery, RecordInput, RecordQuery};
use ehr_client::config::Settings;
use ehr_client::files::{FileStore, Progress};
use ehr_client::session::{self, SignedIn, Source};
use ehr_client::{
    Config, EhrClient, EhrClientError, Followed, NotificationFollower, RecordWritten, Result, Slip, copy_hash,
};

use crate::cli::{self, Cli, Command, ConsentCmd, PatientCmd, PrescriptionCmd, RecordCmd};
use crate::output::{Output, count_bar, progress_bar};

/// The config file's path: `EHR_CONFIG` when given, else
/// `$XDG_CONFIG_HOME/ehr/config.toml`, else `~/.config/ehr/config.toml`.
/// `lookup` reads the environment (a map in tests).
fn config_path(lookup: &impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(p) = lookup("EHR_CONFIG").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let home = lookup("HOME").unwrap_or_else(|| ".".into());
    let base = lookup("XDG_CONFIG_HOME").filter(|v| !v.is_empty()).unwrap_or_else(|| format!("{home}/.config"));
    PathBuf::from(base).join("ehr/config.toml")
}

/// Resolves the settings: flags and environment (clap), then the config
/// file, then the network's description and defaults (the library).
pub(crate) fn resolve_config(global: &cli::Global) -> Result<Config> {
    let lookup = |k: &str| std::env::var(k).ok();
    let settings = global.settings.clone().or(Settings::from_file(&config_path(&lookup))?)?;
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Config::resolve(settings, &home, &cwd)
}

pub(crate) async fn run(cli: Cli) -> Result<()> {
    let out = Output::new(cli.global.json);
    let config = resolve_config(&cli.global)?;
    match cli.command {
        Command::Login(args) => login(&config, args, out).await,
        Command::Whoami => whoami(&config, out),
        Command::Identities => identities(&config, out),
        Command::Demo(args) => crate::demo::run(&cli.global, args, out).await,
        command => {
            let client = session::ehr_client(&config).await?;
            match command {
                Command::Patient(cmd) => patient(&client, cmd, out).await,
                Command::Record(cmd) => record(&config, &client, cmd, out).await,
                Command::Upload(args) => upload(&config, &client, args, out).await,
                Command::Consent(cmd) => consent(&client, cmd, out).await,
                Command::AccessLog(a) => access_log(&client, a, out).await,
                Command::Audit(p) => out.show("audit trail", &client.audit_trail(&patient_id(&p.patient)?).await?),
                Command::Prescription(cmd) => prescription(&client, cmd, out).await,
                Command::Erase(args) => {
                    if !args.yes {
                        return Err(EhrClientError::Usage(
                            "erasure purges every private version of your data and cannot be undone; add --yes".into(),
                        ));
                    }
                    out.show("erased", &client.request_erasure(&patient_id(&args.patient)?).await?)
                }
                Command::Notifications(args) => notifications(&config, &client, args, out).await,
                Command::Fhir(cmd) => fhir(&client, cmd, out).await,
                Command::Login(_) | Command::Whoami | Command::Identities | Command::Demo(_) => Ok(()),
            }
        }
    }
}

/// Prints a verification and fails with the integrity exit code on a mismatch.
fn verdict<T: Serialize>(out: Output, what: &str, ledger_hash: &str, matches: bool, check: &T) -> Result<()> {
    out.show(&format!("{what}: {}", if matches { "matches" } else { "DOES NOT MATCH" }), check)?;
    if matches {
        Ok(())
    } else {
        Err(EhrClientError::Integrity(format!(
            "the private copy of {what} does not match the ledger hash {ledger_hash}"
        )))
    }
}

pub(crate) fn patient_id(raw: &str) -> Result<PatientId> {
    Ok(PatientId::parse(raw)?)
}

/// `YYYY-MM-DD` (midnight UTC) or Unix seconds.
pub(crate) fn parse_time(raw: &str) -> Result<i64> {
    if let Ok(seconds) = raw.parse::<i64>() {
        return Ok(seconds);
    }
    let bad = || EhrClientError::Usage(format!("{raw:?} is not a date: write YYYY-MM-DD or Unix seconds"));
    let mut parts = raw.splitn(3, '-').map(|p| p.parse::<i64>().map_err(|_| bad()));
    let (y, m, d) = (parts.next().ok_or_else(bad)??, parts.next().ok_or_else(bad)??, parts.next().ok_or_else(bad)??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from the civil calendar (proleptic Gregorian) to 1970-01-01.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400)
}

async fn login(config: &Config, args: cli::Login, out: Output) -> Result<()> {
    let (user, _) = ehr_client::config::split_label(&config.identity)?;
    config.require_ca()?;
    let ca = CaClient::from_tls_root_file(&config.ca_url, &config.ca_name, &config.ca_tls_root)?;
    let wallet = Wallet::new(&config.wallet);
    let enrollment_id = args.enrollment_id.clone().unwrap_or_else(|| user.to_owned());
    let enrollment = if args.renew {
        let entry = wallet.get(&config.identity)?;
        ca.reenroll(entry.identity.certificate_pem(), &entry.signer, &EnrollOptions::default()).await?
    } else {
        let secret = match args.secret {
            Some(s) => s,
            None => {
                if !out.is_json() {
                    eprint!("enrolment secret for {enrollment_id}: ");
                    let _ = std::io::stderr().flush();
                }
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map_err(|e| EhrClientError::Usage(format!("cannot read the secret from standard input: {e}")))?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        if secret.is_empty() {
            return Err(EhrClientError::Usage("the enrolment secret is empty; pass --secret or EHR_SECRET".into()));
        }
        ca.enroll(&enrollment_id, &secret, &EnrollOptions::default()).await?
    };
    wallet.put(
        &session::login_meta(config, &enrollment_id),
        enrollment.certificate_pem.as_bytes(),
        &enrollment.signer,
    )?;
    out.show(
        &format!(
            "logged in as {} ({}); identity stored in {}",
            config.identity,
            config.msp_id,
            config.wallet.display()
        ),
        &json!({ "identity": config.identity, "mspId": config.msp_id, "wallet": config.wallet }),
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WhoAmI {
    identity: String,
    msp_id: String,
    person_id: String,
    subject: String,
    role: Option<String>,
    patient_id: Option<String>,
    expires: u64,
    source: String,
    peer: String,
}

fn whoami(config: &Config, out: Output) -> Result<()> {
    let signed_in: SignedIn = session::sign_in(config)?;
    let cid = session::client_identity(&signed_in.identity)?;
    let expires =
        signed_in.identity.certificate().expiry()?.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let person = session::person(&signed_in.identity)?;
    let who = WhoAmI {
        identity: config.identity.clone(),
        msp_id: cid.msp_id().to_owned(),
        person_id: person.id.clone(),
        subject: person.display_name(),
        role: cid.attribute("role").map(str::to_owned),
        patient_id: cid.attribute("patient_id").map(str::to_owned),
        expires,
        source: match signed_in.source {
            Source::Wallet(p) => format!("wallet {}", p.display()),
            Source::LocalNetwork(p) => format!("local network {}", p.display()),
        },
        peer: config.peer.clone(),
    };
    out.show(&format!("{} as {}", who.subject, who.role.as_deref().unwrap_or("(no role attribute)")), &who)
}

fn identities(config: &Config, out: Output) -> Result<()> {
    let mut rows = Vec::new();
    for label in Wallet::new(&config.wallet).list()? {
        rows.push(json!({ "identity": label, "source": "wallet" }));
    }
    let local = config.local_identities();
    for label in local {
        rows.push(json!({ "identity": label, "source": "local network" }));
    }
    if out.is_json() {
        return out.show("", &rows);
    }
    for row in &rows {
        println!("{:<28} {}", row["identity"].as_str().unwrap_or_default(), row["source"].as_str().unwrap_or_default());
    }
    Ok(())
}

fn details(d: cli::Details, current: Option<PatientDetails>) -> Result<PatientDetails> {
    let missing = |f: &str| EhrClientError::Usage(format!("--{f} is required"));
    let (name, birth_date, sex, contact, description) = match current {
        Some(c) => (
            d.name.unwrap_or(c.name),
            d.birth_date.unwrap_or(c.birth_date),
            d.sex.unwrap_or(c.sex),
            d.contact.unwrap_or(c.contact),
            d.description.unwrap_or(c.description),
        ),
        None => (
            d.name.ok_or_else(|| missing("name"))?,
            d.birth_date.ok_or_else(|| missing("birth-date"))?,
            d.sex.ok_or_else(|| missing("sex"))?,
            d.contact.unwrap_or_default(),
            d.description.unwrap_or_default(),
        ),
    };
    // The client checks the details against the contract's rules before sending.
    Ok(PatientDetails { name, birth_date, sex, contact, description })
}

async fn patient(client: &EhrClient, cmd: PatientCmd, out: Output) -> Result<()> {
    match cmd {
        PatientCmd::Create { patient, details: d } => {
            let id = patient_id(&patient)?;
            let record = client.register_patient(&id, &details(d, None)?).await?;
            out.show(&format!("registered {id}"), &record)
        }
        PatientCmd::Show { patient, purpose } => {
            let id = patient_id(&patient)?;
            let access = open_window(client, &id, &purpose).await?;
            let view = client.read_patient(&id).await?;
            out.show(&format!("{id} (access recorded, basis: {})", access.basis), &view)
        }
        PatientCmd::Update { patient, details: d } => {
            let id = patient_id(&patient)?;
            client.open_window(&id, Purpose::Treatment).await?;
            let current = client.read_patient(&id).await?.details;
            let record = client.update_patient(&id, &details(d, Some(current))?).await?;
            out.show(&format!("updated {id} to version {}", record.version), &record)
        }
        PatientCmd::Search(s) => {
            let query = PatientQuery { name: s.name, id: s.id, birth_year: s.birth_year, icd10_prefix: s.icd10 };
            let hits = if s.rich {
                client.search_patients_rich(&query, s.page_size).await?
            } else {
                client.search_patients(&query, s.page_size, &s.bookmark).await?
            };
            out.show(&format!("{} patient(s)", hits.patients.len()), &hits)
        }
        PatientCmd::History(p) => out.show("history", &client.patient_history(&patient_id(&p.patient)?).await?),
        PatientCmd::Attend { patient, doctor, msp } => {
            let id = patient_id(&patient)?;
            let record = client.add_attending_doctor(&id, &Person { id: doctor, msp }).await?;
            out.show(&format!("{id} now has {} attending doctor(s)", record.attending.len()), &record)
        }
        PatientCmd::Unattend { patient, doctor, msp } => {
            let id = patient_id(&patient)?;
            let record = client.remove_attending_doctor(&id, &Person { id: doctor, msp }).await?;
            out.show(&format!("{id} now has {} attending doctor(s)", record.attending.len()), &record)
        }
        PatientCmd::Verify { patient, version } => {
            let id = patient_id(&patient)?;
            let version = match version {
                Some(v) => v,
                None => client.patient_history(&id).await?.last().map(|v| v.meta.version).unwrap_or(1),
            };
            let check = client.verify_patient(&id, version).await?;
            verdict(out, &format!("{id} version {version}"), &check.ledger_hash, check.matches, &check)
        }
    }
}

fn body(kind: RecordKind, b: &cli::Body) -> Result<RecordBody> {
    let need = |v: &Option<String>, flag: &str| {
        v.clone().ok_or_else(|| EhrClientError::Usage(format!("a {} record needs --{flag}", kind.as_str())))
    };
    let text = b.text.clone();
    let body = match kind {
        RecordKind::Diagnosis => RecordBody::Diagnosis { icd10: need(&b.icd10, "icd10")?, text },
        RecordKind::Prescription => RecordBody::Prescription {
            medication: need(&b.medication, "medication")?,
            dose: need(&b.dose, "dose")?,
            frequency: need(&b.frequency, "frequency")?,
            text,
        },
        RecordKind::Allergy => RecordBody::Allergy { substance: need(&b.substance, "substance")?, text },
        RecordKind::SideEffect => RecordBody::SideEffect { medication: need(&b.medication, "medication")?, text },
        RecordKind::LabReport => RecordBody::LabReport { test: need(&b.test, "test")?, text },
        RecordKind::ImagingReport => RecordBody::ImagingReport { modality: need(&b.modality, "modality")?, text },
        RecordKind::ClinicalNote => RecordBody::ClinicalNote { text },
    };
    // Checked before any attached file is uploaded, not only when the record is sent.
    body.validate()?;
    Ok(body)
}

/// The configured file store, with S3 settings from the `AWS_*` environment
/// variables (credentials, `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`).
pub(crate) fn open_store(config: &Config) -> Result<FileStore> {
    // Only the variables object_store knows (AWS_CA_BUNDLE and the like are not S3 options).
    let aws = std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .filter(|(k, _)| k.parse::<object_store::aws::AmazonS3ConfigKey>().is_ok());
    Ok(FileStore::open_with_options(&config.store, aws)?)
}

/// Stores a patient's files off-chain first, encrypted with the patient's file
/// key: a record names only files already stored and hashed.
pub(crate) async fn store_files(
    config: &Config,
    client: &EhrClient,
    patient: &PatientId,
    files: &[PathBuf],
    media_type: Option<&str>,
) -> Result<Vec<Attachment>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let store = client.patient_files(&open_store(config)?, patient).await?;
    let mut out = Vec::new();
    for path in files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let label = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stored = store.upload(path, media_type, progress_bar(size, label)).await?;
        tracing::info!(sha256 = %stored.sha256, size = stored.size, location = %stored.location, "stored");
        out.push(Attachment::from(stored));
    }
    Ok(out)
}

/// Writes the patient's slip (0600: a prescription's slip lets its holder have it dispensed).
fn write_copy(path: &Path, slip: &Slip) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = serde_json::to_vec_pretty(slip).map_err(|e| EhrClientError::Encode(e.to_string()))?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
        f.write_all(&bytes)?;
        f.sync_all()
    };
    write().map_err(|e| EhrClientError::Usage(format!("cannot write the copy to {}: {e}", path.display())))
}

/// Opens the audited access window a read needs, for the purpose given on
/// the command line (logged, the patient notified); a refusal is "not
/// allowed" (exit 4), not bad usage.
async fn open_window(client: &EhrClient, id: &PatientId, purpose: &str) -> Result<AccessEntry> {
    client.open_window(id, Purpose::parse(purpose)?).await
}

/// Writes the patient's copy where `--copy-out` says; returns the record's hash.
fn keep_copy(written: &RecordWritten, body: &cli::Body) -> Result<String> {
    if let Some(path) = &body.copy_out {
        write_copy(path, &written.slip())?;
    }
    written.hash()
}

async fn record(config: &Config, client: &EhrClient, cmd: RecordCmd, out: Output) -> Result<()> {
    match cmd {
        RecordCmd::Add { patient, kind, body: b } => {
            let id = patient_id(&patient)?;
            let body = body(kind, &b)?;
            let input = RecordInput::new(body, store_files(config, client, &id, &b.attach, None).await?);
            let written = client.add_record(&id, &input).await?;
            let hash = keep_copy(&written, &b)?;
            out.show(
                &format!("added {} to {id} (hash {hash})", written.meta.id),
                &json!({ "meta": written.meta, "hash": hash }),
            )
        }
        RecordCmd::Show(r) => {
            let id = patient_id(&r.patient)?;
            open_window(client, &id, &r.purpose).await?;
            out.show("record", &client.read_record(&id, &r.record).await?)
        }
        RecordCmd::Update { patient, record, kind, body: b } => {
            let id = patient_id(&patient)?;
            let body = body(kind, &b)?;
            let input = RecordInput::new(body, store_files(config, client, &id, &b.attach, None).await?);
            let written = client.update_record(&id, &record, &input).await?;
            let hash = keep_copy(&written, &b)?;
            out.show(
                &format!("{record} is now version {} (hash {hash})", written.meta.version),
                &json!({ "meta": written.meta, "hash": hash }),
            )
        }
        RecordCmd::Delete { patient, record, reason } => out
            .show(&format!("deleted {record}"), &client.delete_record(&patient_id(&patient)?, &record, &reason).await?),
        RecordCmd::History(r) => {
            let id = patient_id(&r.patient)?;
            open_window(client, &id, &r.purpose).await?;
            out.show("history", &client.record_history(&id, &r.record).await?)
        }
        RecordCmd::List { patient, kind, from, to, icd10, deleted, page_size, bookmark } => {
            let id = patient_id(&patient)?;
            let page = if from.is_some() || to.is_some() || icd10.is_some() || deleted {
                let query = RecordQuery {
                    kind,
                    from: from.as_deref().map(parse_time).transpose()?,
                    to: to.as_deref().map(parse_time).transpose()?,
                    icd10_prefix: icd10,
                    include_deleted: deleted,
                };
                client.search_records(&id, &query, page_size, &bookmark).await?
            } else {
                client.list_records(&id, kind, page_size, &bookmark).await?
            };
            out.show(&format!("{} record(s)", page.records.len()), &page)
        }
        RecordCmd::Verify { patient, record, version } => {
            let id = patient_id(&patient)?;
            let version = match version {
                Some(v) => v,
                None => client.record_history(&id, &record).await?.last().map(|v| v.meta.version).unwrap_or(1),
            };
            let check = client.verify_record(&id, &record, version).await?;
            verdict(out, &format!("{record} version {version}"), &check.ledger_hash, check.matches, &check)
        }
        RecordCmd::Download { patient, record, out: dir, purpose } => {
            let id = patient_id(&patient)?;
            open_window(client, &id, &purpose).await?;
            download(config, client, &id, &record, &dir, out).await
        }
    }
}

/// Fetches every file of a record into `dir`, each checked against its hash.
async fn download(
    config: &Config,
    client: &EhrClient,
    id: &PatientId,
    record: &str,
    dir: &Path,
    out: Output,
) -> Result<()> {
    let view = client.read_record(id, record).await?;
    if view.attachments.is_empty() {
        return Err(EhrClientError::Usage(format!("record {record} has no files")));
    }
    std::fs::create_dir_all(dir).map_err(|e| EhrClientError::Usage(format!("cannot create {}: {e}", dir.display())))?;
    let store = client.patient_files(&open_store(config)?, id).await?;
    let mut files = Vec::new();
    for a in &view.attachments {
        let ext = a.media_type.rsplit('/').next().filter(|e| e.len() <= 8).unwrap_or("bin");
        let dest = dir.join(format!("{}.{ext}", a.sha256));
        let label = a.sha256.get(..12).unwrap_or(&a.sha256).to_owned();
        store.download(&a.location, &a.sha256, &dest, progress_bar(a.size, label)).await?;
        out.say(&format!("{} verified ({} bytes, sha256 {})", dest.display(), a.size, a.sha256));
        files.push(json!({ "path": dest, "sha256": a.sha256, "size": a.size }));
    }
    if out.is_json() {
        out.show("", &files)?;
    }
    Ok(())
}

async fn upload(config: &Config, client: &EhrClient, args: cli::Upload, out: Output) -> Result<()> {
    let id = patient_id(&args.patient)?;
    let body = match (&args.modality, &args.test) {
        (Some(modality), None) => RecordBody::ImagingReport { modality: modality.clone(), text: args.text.clone() },
        (None, Some(test)) => RecordBody::LabReport { test: test.clone(), text: args.text.clone() },
        _ => {
            return Err(EhrClientError::Usage(
                "say what the file is: --modality CT (imaging report) or --test NAME (lab report)".into(),
            ));
        }
    };
    // Checked before the file is uploaded.
    body.validate()?;
    let attachments =
        store_files(config, client, &id, std::slice::from_ref(&args.file), args.media_type.as_deref()).await?;
    let file = attachments[0].clone();
    out.say(&format!(
        "stored {} ({} bytes, {}), sha256 {}",
        args.file.display(),
        file.size,
        file.media_type,
        file.sha256
    ));
    let written = client.add_record(&id, &RecordInput::new(body, attachments)).await?;
    out.show(
        &format!("attached as record {} of {id}; sha256 {}", written.meta.id, file.sha256),
        &json!({ "recordId": written.meta.id, "sha256": file.sha256, "size": file.size, "mediaType": file.media_type, "location": file.location }),
    )
}

fn grantee(g: cli::Grantee) -> Result<Grantee> {
    match (g.org, g.doctor, g.doctor_msp) {
        (Some(msp), None, _) => Ok(Grantee::Organisation { msp }),
        (None, Some(id), Some(msp)) => Ok(Grantee::Doctor { person: Person { id, msp } }),
        _ => Err(EhrClientError::Usage("name either --org MSP or --doctor ID --doctor-msp MSP".into())),
    }
}

async fn consent(client: &EhrClient, cmd: ConsentCmd, out: Output) -> Result<()> {
    match cmd {
        ConsentCmd::Grant { patient, grantee: g, write, until } => {
            let scope = if write { Scope::ReadWrite } else { Scope::Read };
            let until = until.as_deref().map(parse_time).transpose()?;
            let consent = client.grant_consent(&patient_id(&patient)?, &grantee(g)?, scope, until).await?;
            out.show("consent granted", &consent)
        }
        ConsentCmd::Revoke { patient, grantee: g } => {
            out.show("consent revoked", &client.revoke_consent(&patient_id(&patient)?, &grantee(g)?).await?)
        }
        ConsentCmd::List(p) => out.show("consents", &client.list_consents(&patient_id(&p.patient)?).await?),
    }
}

async fn access_log(client: &EhrClient, a: cli::AccessLog, out: Output) -> Result<()> {
    let id = patient_id(&a.patient)?;
    let granted = if a.granted {
        Some(true)
    } else if a.refused {
        Some(false)
    } else {
        None
    };
    let query = AccessQuery { granted, msp: a.msp, ..AccessQuery::default() };
    match a.page_size {
        Some(size) => out.show("access log", &client.access_log(&id, &query, size, &a.bookmark).await?),
        None => out.show("access log", &client.access_log_all(&id, &query).await?),
    }
}

fn read_slip(path: &Path) -> Result<Slip> {
    let bytes = std::fs::read(path)
        .map_err(|e| EhrClientError::Usage(format!("cannot read the slip {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        EhrClientError::Usage(format!("{} is not a slip written by `ehr record add --copy-out`: {e}", path.display()))
    })
}

fn copy_hash_of(copy: cli::Copy) -> Result<String> {
    match (copy.hash, copy.copy) {
        (Some(hash), _) => Ok(hash),
        (None, Some(path)) => copy_hash(&read_slip(&path)?.copy),
        (None, None) => Err(EhrClientError::Usage("give --copy FILE or --hash HASH".into())),
    }
}

async fn prescription(client: &EhrClient, cmd: PrescriptionCmd, out: Output) -> Result<()> {
    match cmd {
        PrescriptionCmd::Verify { record, copy } => {
            let check = client.verify_prescription(&record, &copy_hash_of(copy)?).await?;
            let verdict = if check.matches { "the copy matches the ledger" } else { "THE COPY DOES NOT MATCH" };
            out.show(&format!("{record}: {verdict}"), &check)?;
            if check.matches {
                Ok(())
            } else {
                Err(EhrClientError::Integrity(format!(
                    "the prescription copy does not match record {record}'s ledger hash"
                )))
            }
        }
        PrescriptionCmd::Dispense { record, copy } => {
            let slip = read_slip(&copy)?;
            if slip.record_id != record {
                return Err(EhrClientError::Usage(format!(
                    "{} is the slip of {}, not of {record}",
                    copy.display(),
                    slip.record_id
                )));
            }
            out.show(&format!("{record} dispensed"), &client.dispense_prescription(&slip).await?)
        }
    }
}

async fn fhir(client: &EhrClient, cmd: cli::FhirCmd, out: Output) -> Result<()> {
    let (patient, file, purpose) = match cmd {
        cli::FhirCmd::Export { patient, out: file, purpose } => (patient, file, purpose),
        cli::FhirCmd::Import { file, into, purpose } => return fhir_import(client, &file, into, &purpose, out).await,
    };
    let id = patient_id(&patient)?;
    let exported = client.export_fhir(&id, Purpose::parse(&purpose)?).await?;
    let bytes = exported.canonical_json()?;
    for skipped in &exported.unmapped {
        eprintln!("warning: not in the bundle: {skipped}");
    }
    let Some(file) = file else {
        let mut stdout = std::io::stdout();
        return stdout
            .write_all(&bytes)
            .and_then(|()| stdout.write_all(b"\n"))
            .map_err(|e| EhrClientError::Usage(format!("cannot write to standard output: {e}")));
    };
    std::fs::write(&file, &bytes)
        .map_err(|e| EhrClientError::Usage(format!("cannot write the bundle to {}: {e}", file.display())))?;
    let summary = json!({
        "file": file,
        "resources": exported.bundle.entry.len(),
        "sha256": hex_sha256(&bytes),
        "unmapped": exported.unmapped,
    });
    out.show(&format!("exported {id} as FHIR R4"), &summary)
}

async fn fhir_import(
    client: &EhrClient,
    file: &std::path::Path,
    into: Option<String>,
    purpose: &str,
    out: Output,
) -> Result<()> {
    let into = into.as_deref().map(patient_id).transpose()?;
    let purpose = Purpose::parse(purpose)?;
    let size = std::fs::metadata(file)
        .map_err(|e| EhrClientError::Usage(format!("cannot read the bundle {}: {e}", file.display())))?
        .len();
    if size > ehr_fhir::MAX_BUNDLE_BYTES as u64 {
        return Err(ehr_fhir::FhirError::Refused {
            issues: vec![ehr_fhir::Issue {
                kind: ehr_fhir::IssueKind::TooLong,
                location: "Bundle".into(),
                message: format!(
                    "{} is {size} bytes; at most {} bytes are read: split the chart into several bundles",
                    file.display(),
                    ehr_fhir::MAX_BUNDLE_BYTES
                ),
            }],
        }
        .into());
    }
    let bytes = std::fs::read(file)
        .map_err(|e| EhrClientError::Usage(format!("cannot read the bundle {}: {e}", file.display())))?;
    let progress = if out.is_json() { Progress::hidden() } else { count_bar("records", "importing") };
    let report = client.import_fhir(&bytes, into.as_ref(), purpose, progress).await?;
    if !out.is_json() {
        for left in &report.unmapped {
            eprintln!("warning: not imported: {}: {}", left.resource, left.reason);
        }
        if report.patient == ehr_client::fhir::PatientOutcome::Differs {
            eprintln!(
                "warning: {} is on the ledger with details that differ from the bundle's; they were left as they are",
                report.patient_id
            );
        }
    }
    let records = |list: &[ehr_client::fhir::ImportedRecord]| -> Vec<serde_json::Value> {
        list.iter().map(|r| json!({ "source": r.source, "recordId": r.record_id })).collect()
    };
    let summary = json!({
        "patientId": report.patient_id,
        "patient": format!("{:?}", report.patient).to_lowercase(),
        "writes": report.writes(),
        "added": records(&report.added),
        "updated": records(&report.updated),
        "unchanged": records(&report.unchanged),
        "unmapped": report.unmapped.iter().map(|u| json!({ "resource": u.resource, "reason": u.reason })).collect::<Vec<_>>(),
    });
    out.show(&format!("imported {} into {}", file.display(), report.patient_id), &summary)
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// One notice on its own line, flushed at once so that a pipe sees it.
fn print_notice(out: Output, event: &ChaincodeEvent, note: &Notification) -> Result<()> {
    if out.is_json() {
        let line =
            json!({ "blockNumber": event.block_number, "transactionId": event.transaction_id, "notification": note });
        println!("{line}");
    } else {
        let when = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        println!(
            "block {} {}: {} {} {}{}",
            event.block_number,
            when,
            note.actor.display_name(),
            note.action,
            note.patient_id,
            note.record_id.as_deref().map(|r| format!(" record {r}")).unwrap_or_default()
        );
    }
    std::io::stdout().flush().map_err(|e| EhrClientError::Usage(format!("cannot write to standard output: {e}")))
}

async fn notifications(config: &Config, client: &EhrClient, args: cli::Notifications, out: Output) -> Result<()> {
    let me = session::client_identity(client.contract().network().gateway().identity())?;
    let own = me.attribute("patient_id").map(str::to_owned);
    let only = args.patient.clone().or(own);
    let checkpointer = FileCheckpointer::open(
        args.checkpoint.clone().unwrap_or_else(|| config.checkpoints.join(format!("{}.json", config.identity))),
    )?;
    let initial = args.from_block.map(Start::Block).unwrap_or(Start::NextCommit);
    let mut follower = NotificationFollower::new(client, checkpointer, initial, args.follow);
    if !args.follow {
        // Connected (or refused) first; --idle then counts only the wait for notices.
        follower.open().await?;
    }
    if !out.is_json() && args.follow {
        eprintln!(
            "listening for notifications{} (Ctrl-C to stop)",
            only.as_deref().map(|p| format!(" about {p}")).unwrap_or_default()
        );
    }
    loop {
        let next = if args.follow {
            tokio::select! {
                n = follower.next() => n,
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        } else {
            match tokio::time::timeout(Duration::from_secs(args.idle), follower.next()).await {
                Ok(n) => n,
                Err(_) => return Ok(()),
            }
        };
        match next {
            Some(Ok(Followed::Notice(event, note))) => {
                if only.as_deref().is_none_or(|p| p == note.patient_id.as_str()) {
                    print_notice(out, &event, &note)?;
                }
                follower.handled(&event)?;
            }
            Some(Ok(Followed::Reconnecting { reason, after })) => {
                eprintln!("warning: {reason}; resuming from the checkpoint in {after:?}");
            }
            Some(Err(e)) => return Err(e),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_to_unix_seconds() {
        assert_eq!(parse_time("1970-01-01").unwrap(), 0);
        assert_eq!(parse_time("2000-03-01").unwrap(), 951_868_800);
        assert_eq!(parse_time("2026-11-22").unwrap(), 1_795_305_600);
        assert_eq!(parse_time("12345").unwrap(), 12345);
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("soon").is_err());
    }
}

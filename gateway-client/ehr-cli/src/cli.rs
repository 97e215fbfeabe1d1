//! The command line's shape: every command, flag and help text.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use ehr_api::model::RecordKind;
use ehr_client::Settings;

const AFTER_HELP: &str = "\
Settings: flags win over EHR_* environment variables, which win over the config file
($EHR_CONFIG or ~/.config/ehr/config.toml; TOML keys are the flags' names with _ for -, e.g.
tls_root = \"/etc/ehr/tlsca.pem\"), which wins over what the network wrote about itself
(network.json in its state folder: --network-dir, or fabric-network/state of the checkout
around the working directory). Right after fabric-network/network.sh up, none is needed.

Exit codes: 0 ok, 1 failure, 2 bad usage or settings, 3 refused input (400), 4 not allowed
or unusable identity (403), 5 not found (404), 6 conflict (409), 7 network unreachable or
timed out, 8 data does not match its ledger hash.

Examples:
  ehr login --identity doctor1@hospitala --secret doctor1pw
  ehr patient create P-1001 --name 'Jane Doe' --birth-date 1984-02-29 --sex female
  ehr --identity patient1@hospitala consent grant P-0001 --org HospitalBMSP
  ehr --identity doctor1@hospitalb patient show P-0001 --purpose second-opinion
  ehr record add P-1001 --kind diagnosis --icd10 K35.80 --text 'acute appendicitis'
  ehr --identity radiologist1@hospitala upload P-1001 ct.pdf --modality CT --text 'no perforation'
  ehr --identity pharmacist1@hospitalb prescription dispense R-0123abcd --copy slip.json
  ehr --identity patient1@hospitala notifications --follow
  ehr --json record list P-1001 | jq '.records[].id'";

/// Electronic health records on Hyperledger Fabric.
#[derive(Debug, Parser)]
#[command(
    name = "ehr",
    version,
    about = "Electronic health records on Hyperledger Fabric: patients, records, files, consent, audit",
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// Parses the process's arguments and `EHR_*` variables. An empty
    /// variable counts as unset (`EHR_PEER= ehr ...` falls back to the
    /// config file and the network), as shells and CI files often leave them.
    pub(crate) fn parse_env() -> Cli {
        let command = Cli::command().mut_args(|arg| {
            let empty = arg.get_env().and_then(std::env::var_os).is_some_and(|value| value.is_empty());
            if empty { arg.env(None) } else { arg }
        });
        let mut matches = command.get_matches();
        Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|err| err.exit())
    }
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Global {
    /// Where the network, the identity and the files are (declared once, in the library).
    #[command(flatten)]
    pub(crate) settings: Settings,
    /// Print JSON for scripts instead of text
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Log what happens and show error details
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Enrol with your organisation's CA and keep the identity in the wallet
    Login(Login),
    /// Show the identity in use: organisation, role, certificate expiry
    Whoami,
    /// List the identities you can act as: the wallet's, and the local network's users
    Identities,
    /// Register, show, update and find patients
    #[command(subcommand)]
    Patient(PatientCmd),
    /// Add, show, change and list medical records
    #[command(subcommand)]
    Record(RecordCmd),
    /// Store a report file (PDF, image) off-chain and attach it as a new record (radiologists, lab testers)
    Upload(Upload),
    /// Grant, revoke and list consent (patients)
    #[command(subcommand)]
    Consent(ConsentCmd),
    /// Who tried to look at a patient's data, and on what grounds (oldest first)
    AccessLog(AccessLog),
    /// Check and dispense prescriptions (pharmacists)
    #[command(subcommand)]
    Prescription(PrescriptionCmd),
    /// Every step taken on a patient's data (regulators, the patient)
    Audit(PatientArg),
    /// Have your private data purged (patients); hashes and the audit trail stay
    Erase(Erase),
    /// Print who viewed or changed a patient's data, as it happens (patients and regulators)
    Notifications(Notifications),
    /// Exchange charts as HL7 FHIR R4 with other hospitals' systems
    #[command(subcommand)]
    Fhir(FhirCmd),
    /// Walk the core scenario on the local network, printing each step
    Demo(Demo),
}

#[derive(Debug, Subcommand)]
pub(crate) enum FhirCmd {
    /// Export a patient's chart as a FHIR R4 Bundle (opens audited access first; same bytes for the same chart)
    Export {
        /// Patient id
        patient: String,
        /// Write the bundle here instead of to standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Why you need it, kept in the access log (see `patient show --help`)
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
    /// Import one patient's FHIR R4 Bundle from another system: checks the whole bundle first (a refused
    /// bundle writes nothing; with --json the refusal is a FHIR OperationOutcome), registers the patient if
    /// new, adds a record per resource we keep with its source as origin, and reports what it left out.
    /// Importing the same bundle again writes nothing new.
    Import {
        /// The bundle (JSON)
        file: PathBuf,
        /// Import as this patient id; default: the patient id of ours the bundle names (from `ehr fhir export`)
        #[arg(long = "as", value_name = "PATIENT")]
        into: Option<String>,
        /// Why you open the patient's existing chart to compare, kept in the access log
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Login {
    /// Enrolment secret [env: EHR_SECRET]; read from standard input when absent
    #[arg(long, env = "EHR_SECRET", hide_env_values = true)]
    pub(crate) secret: Option<String>,
    /// Enrolment id at the CA; default: the user part of --identity
    #[arg(long)]
    pub(crate) enrollment_id: Option<String>,
    /// Renew the certificate of an identity already in the wallet, with a new key
    #[arg(long, conflicts_with = "secret")]
    pub(crate) renew: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PatientArg {
    /// Patient id
    pub(crate) patient: String,
}

#[derive(Debug, Args)]
pub(crate) struct AccessLog {
    /// Patient id
    pub(crate) patient: String,
    /// Only granted attempts (hides a flood of refused ones)
    #[arg(long, conflicts_with = "refused")]
    pub(crate) granted: bool,
    /// Only refused attempts
    #[arg(long)]
    pub(crate) refused: bool,
    /// Only attempts by people of this organisation (MSP id, e.g. HospitalBMSP)
    #[arg(long)]
    pub(crate) msp: Option<String>,
    /// Entries per page (1-1000); without --bookmark every page is fetched
    #[arg(long)]
    pub(crate) page_size: Option<u32>,
    /// Bookmark from the previous page
    #[arg(long, default_value = "")]
    pub(crate) bookmark: String,
}

#[derive(Debug, Args)]
pub(crate) struct Details {
    /// Full name
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Birth date, YYYY-MM-DD
    #[arg(long)]
    pub(crate) birth_date: Option<String>,
    /// female, male, other or unknown
    #[arg(long)]
    pub(crate) sex: Option<String>,
    /// Phone, e-mail or address
    #[arg(long)]
    pub(crate) contact: Option<String>,
    /// Free text
    #[arg(long)]
    pub(crate) description: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PatientCmd {
    /// Register a patient (doctors); you become the attending doctor
    Create {
        /// New patient id: opaque, no name or birth date in it
        patient: String,
        #[command(flatten)]
        details: Details,
    },
    /// Open audited access (recorded, the patient is notified) and show the patient's data
    Show {
        /// Patient id
        patient: String,
        /// Why you need it, kept in the access log: treatment, second-opinion, emergency,
        /// diagnostics, dispensing, administration, audit or research
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
    /// Change a patient's details (attending doctors); unspecified fields keep their values
    Update {
        /// Patient id
        patient: String,
        #[command(flatten)]
        details: Details,
    },
    /// Find patients you have grounds to see
    Search(Search),
    /// Every version of the patient's record: who changed what, when
    History(PatientArg),
    /// Make another doctor an attending doctor (attending doctors; a doctor of another hospital needs the patient's consent first)
    Attend {
        /// Patient id
        patient: String,
        /// The doctor's identity id (from their `ehr whoami`)
        #[arg(long)]
        doctor: String,
        /// The doctor's MSP id
        #[arg(long)]
        msp: String,
    },
    /// Remove an attending doctor (the patient, or an admin of the patient's home hospital)
    Unattend {
        /// Patient id
        patient: String,
        /// The doctor's identity id
        #[arg(long)]
        doctor: String,
        /// The doctor's MSP id
        #[arg(long)]
        msp: String,
    },
    /// Check that a version's private copy matches its ledger hash
    Verify {
        /// Patient id
        patient: String,
        /// Version (default: current)
        #[arg(long)]
        version: Option<u32>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Search {
    /// Words or beginnings of words of the name
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Part of the patient id
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// Year of birth
    #[arg(long)]
    pub(crate) birth_year: Option<u32>,
    /// Beginning of an ICD-10 code of a diagnosis, e.g. K35
    #[arg(long)]
    pub(crate) icd10: Option<String>,
    /// Hits per page (1-100)
    #[arg(long, default_value_t = 20)]
    pub(crate) page_size: u32,
    /// Bookmark from the previous page
    #[arg(long, default_value = "")]
    pub(crate) bookmark: String,
    /// Use the CouchDB Mango query (peers with CouchDB only)
    #[arg(long)]
    pub(crate) rich: bool,
}

/// A record kind as written on the command line: `imaging-report` or `imagingReport`.
fn parse_kind(raw: &str) -> Result<RecordKind, String> {
    let camel: String = raw
        .split('-')
        .enumerate()
        .map(|(i, w)| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) if i > 0 => first.to_uppercase().chain(chars).collect(),
                _ => w.to_owned(),
            }
        })
        .collect();
    RecordKind::parse(&camel).ok_or_else(|| {
        "expected one of diagnosis, prescription, allergy, side-effect, lab-report, imaging-report, clinical-note"
            .into()
    })
}

#[derive(Debug, Args)]
pub(crate) struct Body {
    /// ICD-10 code (diagnosis)
    #[arg(long)]
    pub(crate) icd10: Option<String>,
    /// Medication (prescription, side-effect)
    #[arg(long)]
    pub(crate) medication: Option<String>,
    /// Dose (prescription)
    #[arg(long)]
    pub(crate) dose: Option<String>,
    /// Frequency (prescription)
    #[arg(long)]
    pub(crate) frequency: Option<String>,
    /// Substance (allergy)
    #[arg(long)]
    pub(crate) substance: Option<String>,
    /// Test name (lab-report)
    #[arg(long)]
    pub(crate) test: Option<String>,
    /// Modality, e.g. CT, MRI (imaging-report)
    #[arg(long)]
    pub(crate) modality: Option<String>,
    /// Free text
    #[arg(long, default_value = "")]
    pub(crate) text: String,
    /// Files to store off-chain and attach (repeatable)
    #[arg(long = "attach")]
    pub(crate) attach: Vec<PathBuf>,
    /// Write the patient's slip to this file (0600): the salted copy a pharmacy verifies and, for a prescription, the dispensing code it needs (hand it only to the patient)
    #[arg(long)]
    pub(crate) copy_out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordCmd {
    /// Add a record
    Add {
        /// Patient id
        patient: String,
        /// Kind of record
        #[arg(long, value_parser = parse_kind)]
        kind: RecordKind,
        #[command(flatten)]
        body: Body,
    },
    /// Show a record (needs an open access window: `ehr patient show` first)
    Show(RecordArg),
    /// Write a new version of a record
    Update {
        /// Patient id
        patient: String,
        /// Record id
        record: String,
        /// Kind of record (must stay the same)
        #[arg(long, value_parser = parse_kind)]
        kind: RecordKind,
        #[command(flatten)]
        body: Body,
    },
    /// Delete a record (a tombstone: history stays)
    Delete {
        /// Patient id
        patient: String,
        /// Record id
        record: String,
        /// Why
        #[arg(long)]
        reason: String,
    },
    /// Every version of a record
    History(RecordArg),
    /// A patient's records, optionally of one kind, date range or ICD-10 prefix
    List {
        /// Patient id
        patient: String,
        /// Only this kind
        #[arg(long, value_parser = parse_kind)]
        kind: Option<RecordKind>,
        /// Created at or after (YYYY-MM-DD or Unix seconds)
        #[arg(long)]
        from: Option<String>,
        /// Created before (YYYY-MM-DD or Unix seconds)
        #[arg(long)]
        to: Option<String>,
        /// Diagnoses whose ICD-10 code starts with this
        #[arg(long)]
        icd10: Option<String>,
        /// Also records deleted as written in error (metadata and the reason only)
        #[arg(long)]
        deleted: bool,
        /// Records per page (1-1000)
        #[arg(long, default_value_t = 50)]
        page_size: u32,
        /// Bookmark from the previous page
        #[arg(long, default_value = "")]
        bookmark: String,
    },
    /// Check that a record version's private copy matches its ledger hash
    Verify {
        /// Patient id
        patient: String,
        /// Record id
        record: String,
        /// Version (default: current)
        #[arg(long)]
        version: Option<u32>,
    },
    /// Fetch a record's files and check each against its ledger hash
    Download {
        /// Patient id
        patient: String,
        /// Record id
        record: String,
        /// Folder to write the files into
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Why you need it (kept in the access log, like `patient show --purpose`)
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RecordArg {
    /// Patient id
    pub(crate) patient: String,
    /// Record id
    pub(crate) record: String,
    /// Why you need it (the access window this opens is kept in the access log):
    /// treatment, second-opinion, emergency, diagnostics, dispensing, administration, audit or research
    #[arg(long, default_value = "treatment")]
    pub(crate) purpose: String,
}

#[derive(Debug, Args)]
pub(crate) struct Upload {
    /// Patient id
    pub(crate) patient: String,
    /// The file (PDF, PNG, DICOM...)
    pub(crate) file: PathBuf,
    /// Imaging modality (radiologists), e.g. CT, MRI
    #[arg(long, conflicts_with = "test")]
    pub(crate) modality: Option<String>,
    /// Test name (lab testers), e.g. "full blood count"
    #[arg(long)]
    pub(crate) test: Option<String>,
    /// Findings
    #[arg(long, default_value = "")]
    pub(crate) text: String,
    /// Media type, when the file name's extension does not tell
    #[arg(long)]
    pub(crate) media_type: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct Grantee {
    /// Every doctor of this organisation (MSP id)
    #[arg(long, conflicts_with = "doctor", required_unless_present = "doctor")]
    pub(crate) org: Option<String>,
    /// One doctor: their identity id (from their `ehr whoami`)
    #[arg(long, requires = "doctor_msp")]
    pub(crate) doctor: Option<String>,
    /// The doctor's MSP id
    #[arg(long)]
    pub(crate) doctor_msp: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConsentCmd {
    /// Let a doctor or an organisation read (or, with --write, add to) your data
    Grant {
        /// Patient id
        patient: String,
        #[command(flatten)]
        grantee: Grantee,
        /// Also allow adding records
        #[arg(long)]
        write: bool,
        /// Until (YYYY-MM-DD or Unix seconds)
        #[arg(long)]
        until: Option<String>,
    },
    /// Withdraw consent
    Revoke {
        /// Patient id
        patient: String,
        #[command(flatten)]
        grantee: Grantee,
    },
    /// Every consent given, revoked ones included
    List(PatientArg),
}

#[derive(Debug, Args)]
pub(crate) struct Copy {
    /// The slip (salted copy) the patient brought, as written by `record add --copy-out`
    #[arg(long, conflicts_with = "hash", required_unless_present = "hash")]
    pub(crate) copy: Option<PathBuf>,
    /// Or its hash
    #[arg(long)]
    pub(crate) hash: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PrescriptionCmd {
    /// Check a prescription: prescriber, organisation, status, and whether the copy matches
    Verify {
        /// Record id of the prescription
        record: String,
        #[command(flatten)]
        copy: Copy,
    },
    /// Dispense a prescription (once only), with the patient's slip: it carries the dispensing code
    Dispense {
        /// Record id of the prescription
        record: String,
        /// The slip the patient brought, as written by `record add --copy-out`
        #[arg(long)]
        copy: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct Erase {
    /// Patient id
    pub(crate) patient: String,
    /// Confirm: erasure cannot be undone
    #[arg(long)]
    pub(crate) yes: bool,
}

/// Notifications are sealed in each event: a patient opens their own, a
/// regulator their organisation's; other identities have none to open.
#[derive(Debug, Args)]
pub(crate) struct Notifications {
    /// Keep listening (reconnecting after faults) instead of stopping when quiet
    #[arg(long)]
    pub(crate) follow: bool,
    /// Only this patient (default for patients: themselves)
    #[arg(long)]
    pub(crate) patient: Option<String>,
    /// Start at this block when there is no checkpoint (default: from now on)
    #[arg(long)]
    pub(crate) from_block: Option<u64>,
    /// Checkpoint file [default: ~/.ehr/checkpoints/IDENTITY.json, IDENTITY being --identity]
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Without --follow: stop after this many seconds without a notification
    #[arg(long, default_value_t = 3)]
    pub(crate) idle: u64,
}

#[derive(Debug, Args)]
pub(crate) struct Demo {
    /// Patient id to register (default: P-0001, whose patient login the local network enrols; another id has no patient login, so the cross-hospital read under consent is skipped)
    #[arg(long)]
    pub(crate) patient: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_in_both_spellings_and_odd_input_is_an_error_not_a_panic() {
        assert_eq!(parse_kind("imaging-report"), Ok(RecordKind::ImagingReport));
        assert_eq!(parse_kind("imagingReport"), Ok(RecordKind::ImagingReport));
        assert_eq!(parse_kind("side-effect"), Ok(RecordKind::SideEffect));
        for odd in ["side-éffect", "-", "", "é", "lab-reportx"] {
            assert!(parse_kind(odd).is_err(), "{odd:?}");
        }
    }
}

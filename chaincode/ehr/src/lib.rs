//! The electronic health records chaincode.
//!
//! # Layout
//! - `model`: ids, roles, the caller (read only from the certificate), stored shapes.
//! - `registry`: which organisation may assert which role (on the ledger).
//! - `store`: the key layout (everything about patients in two private
//!   collections, under pseudonymous keys), key-level endorsement, the one
//!   place that reads and writes the ledger.
//! - `seal`: patient data, and answers that say who reached whom, leave only
//!   encrypted to the caller's one-time key.
//! - `patients`: patients, attending doctors, consent, audited access.
//! - `records`: medical records, prescriptions, erasure, the audit trail,
//!   version histories and record search by kind, date and code.
//! - `search`: finding patients by name parts, id part, birth year, diagnosis code.
//! - `admin`: organisation admins suspend and reinstate their identities.
//! - `events`: one notification per transaction, sealed to the patient and the regulators.
//! - `error`: caller mistakes (400/403/404/409) versus internal failures (500).
//!
//! Functions that write take their arguments from transient data
//! (`submit_transient`): a block must not name the patient a doctor reached.
//!
//! The contract sees [`fabric_shim::Stub`] and its own types, never gRPC or
//! protobuf. It writes only what the transaction timestamp says, never the
//! clock; the clock is read once, to refuse proposals stamped far from it
//! ([`Settings::max_clock_skew_seconds`]).

mod admin;
mod error;
pub mod events;
pub mod model;
mod patients;
mod records;
pub mod registry;
pub mod seal;
pub mod search;
mod store;

pub use error::{EhrError, Result};
pub use patients::{
    AccessLogPage, AccessQuery, PatientView, TRANSIENT_FILE_KEY, TRANSIENT_PATIENT, TRANSIENT_SALT, Verification,
};
pub use records::{
    AuditLine, MAX_ATTACHMENTS, PatientHistory, PrescriptionCheck, RecordHistory, RecordInput, RecordPage, RecordQuery,
    RecordView, TRANSIENT_DISPENSE_CODE, TRANSIENT_RECORD, Version,
};

use fabric_shim::{Contract, ContractError, Router, Stub};

/// Chaincode title in the contract metadata.
pub const TITLE: &str = "ehr";
/// Chaincode version in the contract metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The contract's name; it is the default contract, so plain function names address it.
pub const CONTRACT: &str = "ehr";

/// How an `ehr-chaincode` server is run; the binary reads it from its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Refuse proposals whose timestamp is further than this from the endorsing
    /// peer's clock (Fabric 2.5 does not check; 3.x allows 15 minutes). `None`
    /// turns the check off, for test harnesses with fixed timestamps.
    pub max_clock_skew_seconds: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { max_clock_skew_seconds: Some(DEFAULT_MAX_CLOCK_SKEW_SECONDS) }
    }
}

/// Five minutes: enough for clocks that NTP keeps, short enough that a
/// client cannot stretch its access window by back-dating its reads.
pub const DEFAULT_MAX_CLOCK_SKEW_SECONDS: u64 = 300;

/// The router the `ehr-chaincode` binary serves, with default [`Settings`].
pub fn router() -> std::result::Result<Router, fabric_shim::Error> {
    router_with(Settings::default())
}

fn check_clock(stub: &Stub, max_skew: u64) -> std::result::Result<(), ContractError> {
    let at = stub.tx_timestamp().map_err(|e| ContractError::bad_request(format!("transaction timestamp: {e}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| ContractError::internal("the endorsing peer's clock is before 1970"))?;
    let skew = (now.as_secs() as i64).abs_diff(at.seconds);
    if skew > max_skew {
        return Err(ContractError::bad_request(format!(
            "the proposal's timestamp is {skew}s away from the endorsing peer's clock (at most {max_skew}s allowed); check the client's clock"
        )));
    }
    Ok(())
}

/// The router with explicit settings.
pub fn router_with(settings: Settings) -> std::result::Result<Router, fabric_shim::Error> {
    let contract = Contract::new(CONTRACT)
        .description("Electronic health records: patients, consent and audited access")
        .before(move |stub: Stub, _function: String| async move {
            match settings.max_clock_skew_seconds {
                Some(max) => check_clock(&stub, max),
                None => Ok(()),
            }
        })
        .submit("SetRoleRegistry", &["registry"], registry::set_role_registry)
        .evaluate("RoleRegistry", &[], registry::role_registry)
        .submit("SetChannelSecret", &[], registry::set_channel_secret)
        .evaluate("NotificationKey", &[], events::notification_key)
        .submit_transient("RegisterPatient", &["patientId"], patients::register)
        .submit_transient("UpdatePatient", &["patientId"], patients::update)
        .submit_transient("AddAttendingDoctor", &["patientId", "doctor"], patients::add_attending)
        .submit_transient("RemoveAttendingDoctor", &["patientId", "doctor"], patients::remove_attending)
        .submit_transient("OpenAccess", &["patientId", "purpose"], patients::open_access)
        .evaluate("ReadPatient", &["patientId"], patients::read)
        .evaluate("VerifyPatient", &["patientId", "version"], patients::verify)
        .submit_transient("GrantConsent", &["patientId", "grantee", "scope", "expiresAt"], patients::grant_consent)
        .submit_transient("RevokeConsent", &["patientId", "grantee"], patients::revoke_consent)
        .evaluate("ListConsents", &["patientId"], patients::list_consents)
        .evaluate("AccessLog", &["patientId", "query", "pageSize", "bookmark"], patients::access_log)
        .submit_transient("AddRecord", &["patientId"], records::add)
        .submit_transient("UpdateRecord", &["patientId", "recordId"], records::update)
        .submit_transient("DeleteRecord", &["patientId", "recordId", "reason"], records::delete)
        .evaluate("ReadRecord", &["patientId", "recordId"], records::read)
        .evaluate("FileKey", &["patientId"], records::file_key)
        .evaluate("VerifyRecord", &["patientId", "recordId", "version"], records::verify)
        .evaluate("ListRecords", &["patientId", "kind", "pageSize", "bookmark"], records::list)
        .evaluate("VerifyPrescription", &["recordId", "hash"], records::verify_prescription)
        .submit_transient("DispensePrescription", &["recordId", "hash"], records::dispense)
        .submit_transient("RequestErasure", &["patientId"], records::erase)
        .evaluate("AuditTrail", &["patientId"], records::audit_trail)
        .evaluate("SearchPatients", &["pageSize", "bookmark"], search::search_patients)
        .evaluate("SearchPatientsRich", &["limit"], search::search_patients_rich)
        .evaluate("SearchRecords", &["patientId", "pageSize", "bookmark"], records::search_records)
        .evaluate("PatientHistory", &["patientId"], records::patient_history)
        .evaluate("RecordHistory", &["patientId", "recordId"], records::record_history)
        .submit("SetStanding", &["person", "suspended", "reason"], admin::set_standing);
    Router::builder(TITLE, VERSION).contract(contract).build()
}

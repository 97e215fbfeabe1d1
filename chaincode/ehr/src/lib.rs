//! The electronic health records chaincode.
//!
//! # Layout
//! - `model`: ids, roles, the caller (read only from the certificate), stored shapes.
//! - `store`: the key layout and the one place that reads and writes the ledger.
//! - `patients`: patients, attending doctors, consent, audited access.
//! - `records`: medical records, prescriptions, erasure, the audit trail.
//! - `records`: also version histories and record search by kind, date and code.
//! - `search`: finding patients by name parts, id part, birth year, diagnosis code.
//! - `admin`: organisation admins suspend and reinstate their identities.
//! - `events`: one notification per transaction, never patient data.
//! - `error`: caller mistakes (400/403/404/409) versus internal failures (500).
//!
//! The contract sees [`fabric_shim::Stub`] and its own types, never gRPC or
//! protobuf. It reads the transaction timestamp, never the clock.

mod admin;
mod error;
pub mod events;
pub mod model;
mod patients;
mod records;
pub mod search;
pub mod store;

pub use error::{EhrError, Result};
pub use patients::{PatientView, TRANSIENT_PATIENT, TRANSIENT_SALT, Verification};
pub use records::{
    AuditLine, MAX_ATTACHMENTS, PrescriptionCheck, RecordInput, RecordPage, RecordQuery, RecordView, TRANSIENT_RECORD,
    Version,
};

use fabric_shim::{Contract, Router};

/// Chaincode title in the contract metadata.
pub const TITLE: &str = "ehr";
/// Chaincode version in the contract metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The contract's name; it is the default contract, so plain function names address it.
pub const CONTRACT: &str = "ehr";

/// The router the `ehr-chaincode` binary serves.
pub fn router() -> std::result::Result<Router, fabric_shim::Error> {
    let contract = Contract::new(CONTRACT)
        .description("Electronic health records: patients, consent and audited access")
        .submit("RegisterPatient", &["patientId"], patients::register)
        .submit("UpdatePatient", &["patientId"], patients::update)
        .submit("AddAttendingDoctor", &["patientId", "doctor"], patients::add_attending)
        .submit("OpenAccess", &["patientId", "purpose"], patients::open_access)
        .evaluate("ReadPatient", &["patientId"], patients::read)
        .evaluate("VerifyPatient", &["patientId", "version"], patients::verify)
        .submit("GrantConsent", &["patientId", "grantee", "scope", "expiresAt"], patients::grant_consent)
        .submit("RevokeConsent", &["patientId", "grantee"], patients::revoke_consent)
        .evaluate("ListConsents", &["patientId"], patients::list_consents)
        .evaluate("AccessLog", &["patientId"], patients::access_log)
        .submit("AddRecord", &["patientId"], records::add)
        .submit("UpdateRecord", &["patientId", "recordId"], records::update)
        .submit("DeleteRecord", &["patientId", "recordId", "reason"], records::delete)
        .evaluate("ReadRecord", &["patientId", "recordId"], records::read)
        .evaluate("VerifyRecord", &["patientId", "recordId", "version"], records::verify)
        .evaluate("ListRecords", &["patientId", "kind", "pageSize", "bookmark"], records::list)
        .evaluate("VerifyPrescription", &["recordId", "hash"], records::verify_prescription)
        .submit("DispensePrescription", &["recordId", "hash"], records::dispense)
        .submit("RequestErasure", &["patientId"], records::erase)
        .evaluate("AuditTrail", &["patientId"], records::audit_trail)
        .evaluate("SearchPatients", &["query", "pageSize", "bookmark"], search::search_patients)
        .evaluate("SearchPatientsRich", &["query", "limit"], search::search_patients_rich)
        .evaluate("SearchRecords", &["patientId", "query", "pageSize", "bookmark"], records::search_records)
        .evaluate("PatientHistory", &["patientId"], records::patient_history)
        .evaluate("RecordHistory", &["patientId", "recordId"], records::record_history)
        .submit("SetStanding", &["person", "suspended", "reason"], admin::set_standing);
    Router::builder(TITLE, VERSION).contract(contract).build()
}

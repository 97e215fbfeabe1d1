//! The electronic health records chaincode.
//!
//! # Layout
//! Modules depend only on those listed before them (no cycles):
//! - `error`: caller mistakes (400/403/404/409) versus internal failures (500).
//! - `model`: the domain types (`ehr_api::model`) and the chaincode's own stored shapes.
//! - `input`: transient values several functions read (the client's salt).
//! - `store`: the key layout (everything about patients in two private
//!   collections, under pseudonymous keys), key-level endorsement, the one
//!   place that reads and writes the ledger.
//! - `registry`: which organisation may assert which role (on the ledger).
//! - `seal`: patient data, and answers that say who reached whom, leave only
//!   encrypted to the caller's one-time key.
//! - `access`: who may do what to whom, in one place: the caller (read only
//!   from the certificate), the grounds (self, attending, consent) and every
//!   permission check.
//! - `events`: one notification per transaction, sealed to the patient and the regulators.
//! - `search`: finding patients by name parts, id part, birth year, diagnosis code.
//! - `patients`: patients, attending doctors, consent, audited access.
//! - `records`: medical records, prescriptions, erasure, the audit trail,
//!   version histories and record search by kind, date and code.
//! - `admin`: organisation admins suspend and reinstate their identities.
//!
//! Functions that write take their arguments from transient data
//! (`submit_transient`): a block must not name the patient a doctor reached.
//!
//! The contract sees [`fabric_chaincode_shim::Stub`] and its own types, never gRPC or
//! protobuf. It writes only what the transaction timestamp says, never the
//! clock; the clock is read once, to refuse proposals stamped far from it
//! ([`Settings::max_clock_skew_seconds`]).

mod access;
mod admin;
mod error;
mod events;
mod input;
mod model;
mod patients;
mod records;
mod registry;
mod seal;
mod search;
mod store;

use ehr_api::functions::{Function, Kind};
pub use error::{EhrError, Result};
use fabric_chaincode_shim::{Contract, ContractError, Router, Stub};

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
pub fn router() -> std::result::Result<Router, fabric_chaincode_shim::Error> {
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

/// Registers `handler` as function `F` of the API's table: its name, kind,
/// parameters and answer come from `ehr_api::functions`, so a handler whose
/// parameters or answer differ from the table does not compile.
fn route<F, H, Fut>(contract: Contract, handler: H) -> Contract
where
    F: Function,
    F::Params: fabric_chaincode_shim::Params,
    F::Answer: fabric_chaincode_shim::Returns + schemars::JsonSchema,
    H: Fn(Stub, F::Params) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<F::Answer>> + Send + 'static,
{
    match F::KIND {
        Kind::Evaluate => contract.evaluate(F::NAME, F::PARAMS, handler),
        Kind::Submit => contract.submit(F::NAME, F::PARAMS, handler),
        Kind::SubmitTransient => contract.submit_transient(F::NAME, F::PARAMS, handler),
    }
}

/// The router with explicit settings.
pub fn router_with(settings: Settings) -> std::result::Result<Router, fabric_chaincode_shim::Error> {
    use ehr_api::functions as f;
    let c = Contract::new(CONTRACT)
        .description("Electronic health records: patients, consent and audited access")
        .before(move |stub: Stub, _function: String| async move {
            match settings.max_clock_skew_seconds {
                Some(max) => check_clock(&stub, max),
                None => Ok(()),
            }
        });
    let c = route::<f::SetRoleRegistry, _, _>(c, registry::set_role_registry);
    let c = route::<f::RoleRegistry, _, _>(c, registry::role_registry);
    let c = route::<f::SetChannelSecret, _, _>(c, registry::set_channel_secret);
    let c = route::<f::NotificationKey, _, _>(c, events::notification_key);
    let c = route::<f::RegisterPatient, _, _>(c, patients::register);
    let c = route::<f::UpdatePatient, _, _>(c, patients::update);
    let c = route::<f::AddAttendingDoctor, _, _>(c, patients::add_attending);
    let c = route::<f::RemoveAttendingDoctor, _, _>(c, patients::remove_attending);
    let c = route::<f::OpenAccess, _, _>(c, patients::open_access);
    let c = route::<f::ReadPatient, _, _>(c, patients::read);
    let c = route::<f::VerifyPatient, _, _>(c, |stub, p| seal::sealed(stub, p, patients::verify));
    let c = route::<f::GrantConsent, _, _>(c, patients::grant_consent);
    let c = route::<f::RevokeConsent, _, _>(c, patients::revoke_consent);
    let c = route::<f::ListConsents, _, _>(c, |stub, p| seal::sealed(stub, p, patients::list_consents));
    let c = route::<f::AccessLog, _, _>(c, |stub, p| seal::sealed(stub, p, patients::access_log));
    let c = route::<f::AddRecord, _, _>(c, records::add);
    let c = route::<f::UpdateRecord, _, _>(c, records::update);
    let c = route::<f::DeleteRecord, _, _>(c, records::delete);
    let c = route::<f::ReadRecord, _, _>(c, records::read);
    let c = route::<f::ReadRecords, _, _>(c, records::read_many);
    let c = route::<f::FileKey, _, _>(c, records::file_key);
    let c = route::<f::VerifyRecord, _, _>(c, |stub, p| seal::sealed(stub, p, records::verify));
    let c = route::<f::ListRecords, _, _>(c, |stub, p| seal::sealed(stub, p, records::list));
    let c = route::<f::VerifyPrescription, _, _>(c, |stub, p| seal::sealed(stub, p, records::verify_prescription));
    let c = route::<f::DispensePrescription, _, _>(c, records::dispense);
    let c = route::<f::RequestErasure, _, _>(c, records::erase);
    let c = route::<f::AuditTrail, _, _>(c, |stub, p| seal::sealed(stub, p, records::audit_trail));
    let c = route::<f::SearchPatients, _, _>(c, search::search_patients);
    let c = route::<f::SearchPatientsRich, _, _>(c, search::search_patients_rich);
    let c = route::<f::SearchRecords, _, _>(c, records::search_records);
    let c = route::<f::PatientHistory, _, _>(c, records::patient_history);
    let c = route::<f::RecordHistory, _, _>(c, records::record_history);
    let c = route::<f::SetStanding, _, _>(c, admin::set_standing);
    Router::builder(TITLE, VERSION).contract(c).build()
}

//! What arrives as transient data: required fields, JSON fields decoded
//! without echoing their values, and the client's salt for a new version.

use fabric_chaincode_shim::Stub;
use serde::de::DeserializeOwned;

use crate::error::{EhrError, Result};
use ehr_api::transient::TRANSIENT_SALT;

/// The transient field `name`; a 400 saying `what` it must hold when absent.
pub(crate) fn required<'a>(stub: &'a Stub, name: &str, what: &str) -> Result<&'a [u8]> {
    stub.transient()
        .get(name)
        .map(Vec::as_slice)
        .ok_or_else(|| EhrError::bad(&format!("transient.{name}"), format!("is required: {what}")))
}

/// The transient JSON field `name`, decoded. The 400 for JSON that does not
/// decode names the field and the fault but quotes no value: the JSON is
/// patient data, and refusals reach the peers' logs.
pub(crate) fn json<T: DeserializeOwned>(stub: &Stub, name: &str, what: &str) -> Result<T> {
    serde_json::from_slice(required(stub, name, what)?).map_err(|e| {
        EhrError::bad(&format!("transient.{name}"), format!("is not valid: {}", ehr_api::error::redacted(&e)))
    })
}

/// The client's salt for this version: 32 random bytes as 64 hex digits.
pub(crate) fn salt_from_transient(stub: &Stub) -> Result<String> {
    let salt = required(stub, TRANSIENT_SALT, "32 random bytes as hex")?;
    let salt = String::from_utf8(salt.to_vec()).map_err(|_| EhrError::bad("transient.salt", "must be hex text"))?;
    if salt.len() != 64 || !salt.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EhrError::bad("transient.salt", "must be 32 bytes as 64 hex digits"));
    }
    Ok(salt.to_ascii_lowercase())
}

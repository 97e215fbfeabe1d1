//! What arrives as transient data and is shared by several functions: the
//! client's salt for a new version.

use fabric_chaincode_shim::Stub;

use crate::error::{EhrError, Result};
use ehr_api::transient::TRANSIENT_SALT;

/// The client's salt for this version: 32 random bytes as 64 hex digits.
pub(crate) fn salt_from_transient(stub: &Stub) -> Result<String> {
    let salt = stub
        .transient()
        .get(TRANSIENT_SALT)
        .ok_or_else(|| EhrError::bad("transient.salt", "is required: 32 random bytes as hex"))?;
    let salt = String::from_utf8(salt.clone()).map_err(|_| EhrError::bad("transient.salt", "must be hex text"))?;
    if salt.len() != 64 || !salt.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EhrError::bad("transient.salt", "must be 32 bytes as 64 hex digits"));
    }
    Ok(salt.to_ascii_lowercase())
}

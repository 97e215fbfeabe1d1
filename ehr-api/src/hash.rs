//! The hashes and keyed digests the contract and its clients compute alike:
//! the salted hash kept of every version, and pseudonyms.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Invalid, Result};
use crate::model::{PrivatePatient, PrivateRecord};

/// The hash kept of one version: SHA-256 of the salt bytes and the data's JSON.
pub fn version_hash(private: &PrivatePatient) -> Result<String> {
    let salt = hex::decode(&private.salt).map_err(|_| Invalid::bad("salt", "must be hex"))?;
    let mut h = Sha256::new();
    h.update(&salt);
    h.update(serde_json::to_vec(&private.details).map_err(encode)?);
    Ok(hex::encode(h.finalize()))
}

/// The hash kept of one record version.
pub fn record_hash(private: &PrivateRecord) -> Result<String> {
    let salt = hex::decode(&private.salt).map_err(|_| Invalid::bad("salt", "must be hex"))?;
    let mut h = Sha256::new();
    h.update(&salt);
    h.update(serde_json::to_vec(&(&private.body, &private.attachments)).map_err(encode)?);
    Ok(hex::encode(h.finalize()))
}

fn encode(e: serde_json::Error) -> Invalid {
    Invalid::bad("value", format!("cannot be encoded as JSON: {e}"))
}

/// HMAC-SHA256 under `secret` of `parts`, each prefixed by its length (so
/// that no two lists of parts give the same input).
pub fn mac(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The pseudonym that stands for `id` (a patient or record id) in every key:
/// HMAC-SHA256 under the channel secret, so that only members' peers can
/// compute it. Tests compute it too, from the secret they seeded.
pub fn pseudonym(secret: &[u8], what: &str, id: &str) -> String {
    hex::encode(&mac(secret, &[b"pseudonym", what.as_bytes(), id.as_bytes()])[..16])
}

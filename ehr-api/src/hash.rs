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

/// The hash kept of one record version. An imported record's origin is
/// hashed with it, so that nobody can change where a record says it came
/// from; a record without one hashes as it did before origins existed.
pub fn record_hash(private: &PrivateRecord) -> Result<String> {
    let salt = hex::decode(&private.salt).map_err(|_| Invalid::bad("salt", "must be hex"))?;
    let mut h = Sha256::new();
    h.update(&salt);
    let content = match &private.origin {
        None => serde_json::to_vec(&(&private.body, &private.attachments)),
        Some(origin) => serde_json::to_vec(&(&private.body, &private.attachments, origin)),
    };
    h.update(content.map_err(encode)?);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::{Origin, RecordBody};

    #[test]
    fn an_origin_is_hashed_with_its_record_and_a_record_without_one_hashes_as_before() {
        let body = RecordBody::ClinicalNote { text: "fine".into() };
        let mut private = PrivateRecord { body: body.clone(), attachments: vec![], origin: None, salt: "00".into() };
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(serde_json::to_vec(&(&body, Vec::<crate::model::Attachment>::new())).unwrap());
        assert_eq!(record_hash(&private).unwrap(), hex::encode(h.finalize()), "unchanged for records written here");
        let plain = record_hash(&private).unwrap();
        private.origin = Some(Origin { resource: "urn:uuid:1".into(), sha256: "ab".repeat(32) });
        let imported = record_hash(&private).unwrap();
        assert_ne!(plain, imported);
        private.origin = Some(Origin { resource: "urn:uuid:2".into(), sha256: "ab".repeat(32) });
        assert_ne!(record_hash(&private).unwrap(), imported, "a changed origin changes the hash");
    }
}

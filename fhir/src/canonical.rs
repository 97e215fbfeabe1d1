//! Canonical JSON: object keys sorted, no insignificant whitespace. What the
//! export writes and what the import hashes, so that the same resource gives
//! the same bytes whichever serialiser produced it.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{FhirError, Result};

/// `value` as canonical JSON bytes; `what` names it in an error.
pub(crate) fn bytes(what: &str, value: Value) -> Result<Vec<u8>> {
    serde_json::to_vec(&sorted(value)).map_err(|e| FhirError::Json { what: what.into(), message: e.to_string() })
}

/// SHA-256 (lowercase hex) of `value`'s canonical JSON.
pub(crate) fn sha256(what: &str, value: &Value) -> Result<String> {
    Ok(hex::encode(Sha256::digest(bytes(what, value.clone())?)))
}

/// `value` with every object's keys in sorted order, whatever order the
/// serialiser produced.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

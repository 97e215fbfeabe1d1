//! Composite keys: Fabric's way to build ordered, range-queryable keys from parts.
//!
//! A composite key is `U+0000 objectType U+0000 attr1 U+0000 ... attrN U+0000`.
//! Because the namespace starts with U+0000, composite keys never collide with
//! simple keys, and a partial key plus U+10FFFF bounds a range over all keys
//! that share its prefix.

use crate::error::{Error, Result};

/// Separator and namespace marker.
pub(crate) const MIN_UNICODE: char = '\u{0}';
/// Upper bound used to close a prefix range.
pub(crate) const MAX_UNICODE: char = '\u{10FFFF}';
/// What the peer expects instead of an empty range start key.
pub(crate) const EMPTY_KEY_SUBSTITUTE: &str = "\u{1}";

/// Builds a composite key from an object type and attributes.
///
/// Fails when any part contains U+0000 or U+10FFFF, which would make the key
/// ambiguous.
pub fn create_composite_key(object_type: &str, attributes: &[&str]) -> Result<String> {
    validate_attribute(object_type)?;
    let mut key = String::with_capacity(2 + object_type.len() + attributes.iter().map(|a| a.len() + 1).sum::<usize>());
    key.push(MIN_UNICODE);
    key.push_str(object_type);
    key.push(MIN_UNICODE);
    for attr in attributes {
        validate_attribute(attr)?;
        key.push_str(attr);
        key.push(MIN_UNICODE);
    }
    Ok(key)
}

/// Splits a composite key into its object type and attributes.
///
/// Fails when `key` is not a composite key (it must start with U+0000 and end
/// with the separator).
pub fn split_composite_key(key: &str) -> Result<(String, Vec<String>)> {
    let rest = key
        .strip_prefix(MIN_UNICODE)
        .ok_or_else(|| Error::InvalidArgument(format!("{key:?} is not a composite key")))?;
    let body = rest
        .strip_suffix(MIN_UNICODE)
        .ok_or_else(|| Error::InvalidArgument(format!("{key:?} is not a composite key (no closing separator)")))?;
    let mut parts = body.split(MIN_UNICODE).map(str::to_owned);
    let object_type = parts.next().unwrap_or_default();
    Ok((object_type, parts.collect()))
}

/// The `[start, end)` range covering every key that starts with the given parts.
pub(crate) fn partial_key_range(object_type: &str, attributes: &[&str]) -> Result<(String, String)> {
    let start = create_composite_key(object_type, attributes)?;
    let mut end = start.clone();
    end.push(MAX_UNICODE);
    Ok((start, end))
}

/// The range over every composite key in a namespace.
pub(crate) fn all_composite_keys_range() -> (String, String) {
    (MIN_UNICODE.to_string(), format!("{MIN_UNICODE}{MAX_UNICODE}"))
}

/// Simple keys must not start with U+0000: that namespace belongs to composite keys.
pub(crate) fn validate_simple_keys(keys: &[&str]) -> Result<()> {
    for key in keys {
        if key.starts_with(MIN_UNICODE) {
            return Err(Error::InvalidArgument(format!(
                "key {key:?} starts with U+0000, which is reserved for composite keys"
            )));
        }
    }
    Ok(())
}

fn validate_attribute(part: &str) -> Result<()> {
    if let Some((pos, c)) = part.char_indices().find(|(_, c)| *c == MIN_UNICODE || *c == MAX_UNICODE) {
        return Err(Error::InvalidArgument(format!(
            "composite key part {part:?} contains U+{:04X} at byte {pos}; U+0000 and U+10FFFF are not allowed",
            c as u32
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_fabric_layout() {
        let key = create_composite_key("patient", &["P-1", "2024"]).unwrap();
        assert_eq!(key, "\u{0}patient\u{0}P-1\u{0}2024\u{0}");
        let (t, attrs) = split_composite_key(&key).unwrap();
        assert_eq!(t, "patient");
        assert_eq!(attrs, vec!["P-1", "2024"]);
    }

    #[test]
    fn no_attributes() {
        let key = create_composite_key("t", &[]).unwrap();
        assert_eq!(split_composite_key(&key).unwrap(), ("t".to_string(), vec![]));
    }

    #[test]
    fn rejects_reserved_characters() {
        assert!(create_composite_key("a\u{0}b", &[]).is_err());
        assert!(create_composite_key("a", &["x\u{10FFFF}"]).is_err());
        assert!(split_composite_key("plain").is_err());
        assert!(validate_simple_keys(&["\u{0}x"]).is_err());
        assert!(validate_simple_keys(&["x", ""]).is_ok());
    }

    #[test]
    fn partial_range_covers_prefix_only() {
        let (start, end) = partial_key_range("t", &["a"]).unwrap();
        let inside = create_composite_key("t", &["a", "zzz"]).unwrap();
        let outside = create_composite_key("t", &["b"]).unwrap();
        assert!(start <= inside && inside < end);
        assert!(!(start <= outside && outside < end));
    }
}

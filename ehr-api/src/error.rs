//! The one error the API's own rules give: a field that breaks a rule.

/// A field, argument or transient value breaks a rule: names both, so that
/// the caller knows what to fix. The contract answers it as 400; a client can
/// check the same rules before it sends anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct Invalid {
    /// The field at fault, e.g. `patient.birthDate`.
    pub field: String,
    /// The rule it breaks.
    pub rule: String,
}

impl Invalid {
    /// `field` breaks `rule`.
    pub fn bad(field: &str, rule: impl Into<String>) -> Self {
        Self { field: field.to_owned(), rule: rule.into() }
    }
}

/// serde's message about JSON that did not decode, without the values it
/// quotes (`invalid type: string "Jane Doe"` becomes `invalid type: string
/// "…"`): the JSON may be patient data, and such messages reach answers and
/// logs. Field names (in backticks) and positions stay, so the message still
/// says what to fix.
pub fn redacted(err: &serde_json::Error) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in err.to_string().chars() {
        if c == '"' {
            if quoted {
                out.push('…');
            }
            quoted = !quoted;
            out.push(c);
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Result alias for the API's rules.
pub type Result<T, E = Invalid> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_field_names_and_positions_but_no_values() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Details {
            age: u32,
        }
        let wrong = serde_json::from_str::<Details>(r#"{"age": "Jane Doe"}"#).unwrap_err();
        let text = redacted(&wrong);
        assert!(
            !text.contains("Jane") && text.contains("invalid type: string \"…\"") && text.contains("line 1"),
            "{text}"
        );
        let unknown = serde_json::from_str::<Details>(r#"{"name": "Jane Doe"}"#).unwrap_err();
        let text = redacted(&unknown);
        assert!(!text.contains("Jane") && text.contains("unknown field `name`"), "{text}");
    }
}

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

/// Result alias for the API's rules.
pub type Result<T, E = Invalid> = std::result::Result<T, E>;

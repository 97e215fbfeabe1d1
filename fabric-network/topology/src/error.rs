//! The one error type of this crate.

/// Why a topology could not be read or a generated file written.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file is not valid TOML or does not have the topology's shape.
    #[error("the topology file does not parse: {0}")]
    Parse(String),
    /// The file parses but breaks a rule (duplicate port, unknown role, ...).
    #[error("the topology is not valid: {0}")]
    Invalid(String),
    /// A name that the topology does not define.
    #[error("unknown {0}")]
    Unknown(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, TopologyError>;
